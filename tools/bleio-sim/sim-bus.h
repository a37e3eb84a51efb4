/* SPDX-License-Identifier: MIT */
/*
 * A private dbus-daemon configured like a system bus, with the simulator
 * started on it. Shared by `bleio-sim run`, the test fixture and the
 * benchmarks.
 */
#pragma once

#include <glib.h>
#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _SimBus SimBus;

SimBus     *sim_bus_new              (const char  *sim_binary,
                                      const char  *scenario_path,
                                      GError     **error);
gboolean    sim_bus_restart_sim      (SimBus      *bus,
                                      GError     **error);
void        sim_bus_free             (SimBus      *bus);
const char *sim_bus_get_address      (SimBus      *bus);
const char *sim_bus_get_tmpdir       (SimBus      *bus);
GPid        sim_bus_get_daemon_pid   (SimBus      *bus);
GPid        sim_bus_get_sim_pid      (SimBus      *bus);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimBus, sim_bus_free)

G_END_DECLS
