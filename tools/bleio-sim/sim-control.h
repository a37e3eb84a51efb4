/* SPDX-License-Identifier: MIT */
/*
 * org.bleio.Sim1 (floor 5, above the daemon it restarts): the interface
 * tests steer the simulator with. Exporting it hooks the call log and the
 * injected faults (FailNext, DelayNext, NoReplyNext) into the registry.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define SIM_CONTROL_PATH "/org/bleio/sim"

void       sim_control_export     (GDBusConnection *conn);
void       sim_control_unexport   (void);

G_END_DECLS
