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

G_END_DECLS
