/* SPDX-License-Identifier: MIT */
/*
 * org.bluez.AgentManager1 and pairing (floor 3, above sim-battery.c): which
 * agent answers and how. A successful pairing marks the device paired
 * through sim_world.hooks.set_paired.
 */
#pragma once

#include "sim-world.h"

G_BEGIN_DECLS

extern SimIfaceDef sim_agent_manager_iface;

void       sim_agent_manager_reset (void);
/* Pairs @device on behalf of @invocation (Device1.Pair) or, when
 * @invocation is NULL, as security elevation through the default agent.
 * @done runs with the D-Bus error name or NULL on success. */
typedef void (*SimPairDone) (SimDevice  *device,
                             const char *error_name,
                             const char *error_message,
                             gpointer    user_data);
void       sim_agent_pair         (SimDevice             *device,
                                   GDBusMethodInvocation *invocation,
                                   SimPairDone            done,
                                   gpointer               user_data);
gboolean   sim_agent_cancel_pairing (SimDevice *device);
/* A pairing the peer of @device starts (control method PairIncoming):
 * the default agent answers, else the most recently registered one. */
void       sim_agent_pair_incoming (SimDevice  *device,
                                    SimPairDone done,
                                    gpointer    user_data);
void       sim_agent_pairing_free (SimPairing *pairing);
gboolean   sim_agent_have_default (void);


G_END_DECLS
