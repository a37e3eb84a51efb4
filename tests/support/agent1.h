/* SPDX-License-Identifier: MIT */
/*
 * org.bluez.Agent1, the interface bluetoothd calls on a pairing agent:
 * every method with its arguments, as BlueZ 5.66 documents it. The test
 * programs that play an agent (the fixture's SimAgent, the e2e guest's
 * peripheral) register this one description; only GLib and GIO are needed,
 * so programs outside the support library link it alone (test_agent1_dep).
 */
#pragma once

#include <gio/gio.h>

/* The interface's description, parsed once and kept for the life of the
 * process (transfer none). */
GDBusInterfaceInfo *agent1_interface_info (void);
