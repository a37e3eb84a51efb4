/* SPDX-License-Identifier: MIT */
/*
 * The hostile mode (floor 2): faults in what the bus shows, hooked into the
 * registry (sim-registry.h); it knows nothing of the simulated world.
 */
#pragma once

#include "sim-registry.h"

G_BEGIN_DECLS

/* Registers the hostile hooks with the registry; once, at start-up. */
void       sim_hostile_install    (void);
/* SetHostile / ClearHostile of org.bleio.Sim1. */
void       sim_hostile_control    (GDBusMethodInvocation *invocation,
                                   const char            *method,
                                   GVariant              *params);
void       sim_hostile_reset      (void);
void       sim_hostile_free       (void);

G_END_DECLS
