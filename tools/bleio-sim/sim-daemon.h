/* SPDX-License-Identifier: MIT */
/*
 * The daemon (floor 4): brings the simulated bluetoothd up from a scenario,
 * takes it down and back for Restart, and owns the org.bluez name. It wires
 * the floors below together at start-up (sim-world.h's hooks).
 */
#pragma once

#include "sim-scenario.h"

G_BEGIN_DECLS

#define SIM_BLUEZ_NAME "org.bluez"

typedef struct {
  SimScenario *scenario;
  char *scenario_path;        /* NULL = the embedded demo */
  guint owner_id;
  gboolean up;                /* objects exported and name requested */
  GMainLoop *loop;
  int exit_status;
} SimDaemon;

extern SimDaemon *sim;

/* Takes @scenario. @bluez is the release to speak (--bluez), or
 * SIM_BLUEZ_DEFAULT for the scenario's "bluez" key, else 5.66. */
gboolean  sim_daemon_start        (GDBusConnection *conn,
                                   SimScenario     *scenario,
                                   const char      *scenario_path,
                                   SimBluez         bluez,
                                   GError         **error);
void      sim_daemon_stop         (void);
/* Drops org.bluez and all objects, then brings them back after @down_msec
 * with the scenario reloaded. */
void      sim_daemon_restart      (guint down_msec);
void      sim_daemon_quit         (int status);

G_END_DECLS
