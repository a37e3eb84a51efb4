/* SPDX-License-Identifier: MIT */
#include "sim-bus.h"

struct _SimBus {
  char *address;
  GPid daemon_pid;
  GPid sim_pid;
};

SimBus *
sim_bus_new (const char  *sim_binary,
             const char  *scenario_path,
             GError     **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       "sim-bus: not implemented yet");
  return NULL;
}

void
sim_bus_free (SimBus *bus)
{
  if (bus == NULL)
    return;
  g_free (bus->address);
  g_free (bus);
}

const char *
sim_bus_get_address (SimBus *bus)
{
  return bus->address;
}

GPid
sim_bus_get_daemon_pid (SimBus *bus)
{
  return bus->daemon_pid;
}

GPid
sim_bus_get_sim_pid (SimBus *bus)
{
  return bus->sim_pid;
}
