/* SPDX-License-Identifier: MIT */
/* libbleio's org.bluez.Agent1, one per BleioClient (lib/bleio-agent.c).
 * It sits above the client: it calls the client and watches it, and the
 * client knows nothing of it. */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-agent-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-client-private.h"

G_BEGIN_DECLS

typedef struct _BleioAgentState BleioAgentState;

/* The agent of @client's connection, made on first use: its object is
 * then exported from the client's worker thread (this waits for that), so
 * bluetoothd's calls are answered while an application thread blocks. It
 * lives as long as the client, and forgets its registration whenever
 * org.bluez changes hands (it watches the client's OWNER events). */
BleioAgentState *bleio_agent_get        (BleioClient         *client);
/* Makes sure the agent is exported and registered with bluetoothd with
 * the capability the application's callbacks allow; completes in the
 * caller's thread-default context. */
void             bleio_agent_ensure_async  (BleioClient         *client,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean         bleio_agent_ensure_finish (BleioClient         *client,
                                            GAsyncResult        *result,
                                            GError             **error);
void             bleio_agent_state_set_callbacks (BleioAgentState         *state,
                                                  BleioPasskeyDisplayFunc  display,
                                                  BleioPasskeyRequestFunc  request,
                                                  BleioPasskeyConfirmFunc  confirm,
                                                  gpointer                 user_data,
                                                  GDestroyNotify           destroy);
void             bleio_agent_state_set_display (BleioAgentState         *state,
                                                BleioPasskeyDisplayFunc  func,
                                                gpointer                 user_data,
                                                GDestroyNotify           destroy);
void             bleio_agent_state_set_request (BleioAgentState         *state,
                                                BleioPasskeyRequestFunc  func,
                                                gpointer                 user_data,
                                                GDestroyNotify           destroy);
void             bleio_agent_state_set_confirm (BleioAgentState         *state,
                                                BleioPasskeyConfirmFunc  func,
                                                gpointer                 user_data,
                                                GDestroyNotify           destroy);
/* Marks @device_path as being paired by the application (one
 * bleio_connection_pair() call); the agent answers only for such devices
 * unless incoming pairings are accepted. Calls nest. */
void             bleio_agent_state_begin_pairing (BleioAgentState *state,
                                                  const char      *device_path);
void             bleio_agent_state_end_pairing   (BleioAgentState *state,
                                                  const char      *device_path);
void             bleio_agent_state_set_accept_incoming (BleioAgentState *state,
                                                        gboolean         accept);
gboolean         bleio_agent_state_get_accept_incoming (BleioAgentState *state);

G_END_DECLS
