/* SPDX-License-Identifier: MIT */
/* libbleio's org.bluez.Agent1, one per BleioClient (lib/bleio-agent.c). */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-agent-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-client-private.h"

G_BEGIN_DECLS

typedef struct _BleioAgentState BleioAgentState;

BleioAgentState *bleio_agent_state_new  (BleioClient     *client);
void             bleio_agent_state_free (BleioAgentState *state);
/* Exports the agent object; runs in the worker thread. */
void             bleio_agent_state_export (BleioAgentState *state);
BleioAgentState *bleio_client_get_agent_state (BleioClient *client);
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
