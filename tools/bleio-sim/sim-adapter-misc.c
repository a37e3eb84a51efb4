/* SPDX-License-Identifier: MIT */
/*
 * The interfaces bluetoothd exports on an adapter beside Adapter1 and the
 * managers the simulator runs (floor 3, below sim-adapter.c, which exports
 * them): BatteryProviderManager1, Media1, NetworkServer1 and SimAccess1
 * show bluetoothd's properties and answer every method NotSupported.
 */
#include "sim-adapter-misc.h"

static void
refuse_method (SimObj                *obj,
               GDBusMethodInvocation *invocation,
               const char            *method,
               GVariant              *params)
{
  sim_return_error (invocation, SIM_ERR_NOT_SUPPORTED, SIM_MSG_NOT_SUPPORTED);
}

static GVariant *
no_props (SimObj     *obj,
          const char *prop)
{
  return NULL;
}

static GVariant *
media_get (SimObj     *obj,
           const char *prop)
{
  if (g_str_equal (prop, "SupportedUUIDs"))
    return g_variant_new_strv ((const char *const[]) {
      "0000110a-0000-1000-8000-00805f9b34fb",
      "0000110b-0000-1000-8000-00805f9b34fb" }, 2);
  return NULL;
}

static GVariant *
sim_access_get (SimObj     *obj,
                const char *prop)
{
  if (g_str_equal (prop, "Connected"))
    return g_variant_new_boolean (FALSE);
  return NULL;
}

SimIfaceDef sim_battery_provider_iface = {
  "org.bluez.BatteryProviderManager1", refuse_method, no_props, NULL, NULL
};
SimIfaceDef sim_media_iface = {
  "org.bluez.Media1", refuse_method, media_get, NULL, NULL
};
SimIfaceDef sim_network_iface = {
  "org.bluez.NetworkServer1", refuse_method, no_props, NULL, NULL
};
SimIfaceDef sim_sim_access_iface = {
  "org.bluez.SimAccess1", refuse_method, sim_access_get, NULL, NULL
};
