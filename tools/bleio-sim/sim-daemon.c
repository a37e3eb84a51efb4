/* SPDX-License-Identifier: MIT */
/*
 * The daemon: bring-up from a scenario, the manager object /org/bluez, the
 * org.bluez name, tear-down and Restart. Everything it starts lives on the
 * floors below (sim-registry.c, sim-adapter.c and the rest of the world);
 * this file only wires them together and decides when.
 */
#include "sim-daemon.h"
#include "sim-adapter.h"
#include "sim-advertising.h"
#include "sim-agent.h"
#include "sim-air.h"
#include "sim-device.h"
#include "sim-gatt.h"

SimDaemon *sim;

static SimObj manager_obj;

/* ---- /org/bluez ---- */

static void
unsupported_method (SimObj                *obj,
                    GDBusMethodInvocation *invocation,
                    const char            *method,
                    GVariant              *params)
{
  sim_return_error (invocation, SIM_ERR_NOT_SUPPORTED, SIM_MSG_NOT_SUPPORTED);
}

static void
profile_method (SimObj                *obj,
                GDBusMethodInvocation *invocation,
                const char            *method,
                GVariant              *params)
{
  /* Profiles are for BR/EDR sockets, which the simulator has none of:
   * accept the registration and never call the profile. */
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static SimIfaceDef profile_iface = {
  "org.bluez.ProfileManager1", profile_method, NULL, NULL, NULL
};
static SimIfaceDef health_iface = {
  "org.bluez.HealthManager1", unsupported_method, NULL, NULL, NULL
};

/* ---- bring-up, tear-down, restart ---- */

static void
on_name_acquired (GDBusConnection *conn,
                  const char      *name,
                  gpointer         user_data)
{
  g_debug ("owning %s", name);
}

static void
on_name_lost (GDBusConnection *conn,
              const char      *name,
              gpointer         user_data)
{
  if (conn == NULL)
    g_printerr ("bleio-sim: lost the connection to the bus\n");
  else
    g_printerr ("bleio-sim: the name %s is already taken on this bus "
                "(is bluetoothd or another bleio-sim running?)\n", name);
  sim_daemon_quit (1);
}

static void
bring_up (void)
{
  static const SimIfaceDef *manager_defs[] = {
    &sim_agent_manager_iface, &profile_iface, &health_iface, NULL
  };

  sim_registry_open ();
  sim_world.adapters = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_adapter_free);
  sim_world.temporary_timeout_ms = sim->scenario->temporary_timeout_ms;

  sim_obj_init (&manager_obj, SIM_OBJ_MANAGER, g_strdup ("/org/bluez"));
  sim_obj_export (&manager_obj, manager_defs, FALSE);

  for (guint i = 0; i < sim->scenario->adapters->len; i++)
    {
      SimAdapterDef *def = g_ptr_array_index (sim->scenario->adapters, i);
      SimAdapter *adapter = sim_adapter_new (def);

      g_ptr_array_add (sim_world.adapters, adapter);
      sim_adapter_export (adapter, FALSE);
    }
  for (guint i = 0; i < sim->scenario->peripherals->len; i++)
    {
      SimPeripheral *p = g_ptr_array_index (sim->scenario->peripherals, i);
      SimAdapter *adapter = sim_adapter_find (p->adapter);

      if (adapter != NULL)
        sim_adapter_add_peripheral (adapter, p);
    }
  sim->owner_id = g_bus_own_name_on_connection (sim_registry_get_connection (), SIM_BLUEZ_NAME,
                                                G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                                on_name_acquired, on_name_lost,
                                                NULL, NULL);
  sim->up = TRUE;
}

static void
tear_down (void)
{
  if (!sim->up)
    return;
  sim->up = FALSE;
  sim_registry_begin_close ();
  if (sim->owner_id != 0)
    g_bus_unown_name (sim->owner_id);
  sim->owner_id = 0;
  sim_agent_manager_reset ();
  sim_advertising_reset ();
  g_clear_pointer (&sim_world.adapters, g_ptr_array_unref);
  sim_obj_clear (&manager_obj);
  sim_registry_close ();
}

/* The world's lower files reach the higher ones only through these. */
static const SimWorldHooks world_hooks = {
  .remove_device = sim_adapter_remove_device,
  .drop_device = sim_adapter_drop_device,
  .set_paired = sim_device_set_paired,
  .drop_link = sim_device_drop_link,
  .link_up = sim_air_link_up,
  .link_down = sim_air_link_down,
  .adapter_changed = sim_advertising_adapter_changed,
  .update_scan = sim_adapter_update_scan,
  .ccc_written = sim_gatt_peer_ccc_written,
  .served_write = sim_gatt_peer_command,
  .served_value = sim_gatt_peer_deliver,
};

gboolean
sim_daemon_start (GDBusConnection *conn,
                  SimScenario     *scenario,
                  const char      *scenario_path,
                  SimBluez         bluez,
                  GError         **error)
{
  /* The command line wins over the scenario's key; a Restart keeps the
   * release (bluetoothd comes back the same program). */
  if (bluez == SIM_BLUEZ_DEFAULT)
    bluez = scenario->bluez;
  sim_registry_set_bluez (bluez != SIM_BLUEZ_DEFAULT ? bluez : SIM_BLUEZ_5_66);
  sim_registry_init (conn);
  sim_world.hooks = world_hooks;
  sim_world.adv_manager_iface = &sim_advertising_iface;
  sim->scenario = scenario;
  sim->scenario_path = g_strdup (scenario_path);
  bring_up ();
  return TRUE;
}

void
sim_daemon_stop (void)
{
  tear_down ();
  sim_registry_shutdown ();
  g_clear_pointer (&sim->scenario, sim_scenario_free);
  g_clear_pointer (&sim->scenario_path, g_free);
}

static gboolean
come_back (gpointer data)
{
  g_autoptr(GError) error = NULL;
  SimScenario *fresh = sim->scenario_path != NULL
    ? sim_scenario_load_file (sim->scenario_path, &error)
    : sim_scenario_load_demo (&error);

  if (fresh == NULL)
    {
      g_printerr ("bleio-sim: cannot reload the scenario: %s\n", error->message);
      sim_daemon_quit (1);
      return G_SOURCE_REMOVE;
    }
  sim_scenario_free (sim->scenario);
  sim->scenario = fresh;
  bring_up ();
  return G_SOURCE_REMOVE;
}

void
sim_daemon_restart (guint down_msec)
{
  tear_down ();
  g_timeout_add (MAX (down_msec, 1), come_back, NULL);
}

void
sim_daemon_quit (int status)
{
  sim->exit_status = status;
  if (sim->loop != NULL)
    g_main_loop_quit (sim->loop);
}
