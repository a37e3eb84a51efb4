/* SPDX-License-Identifier: MIT */
/*
 * org.bluez.Battery1: bluetoothd's battery plugin shows the Battery Level
 * characteristic (0x2A19 in 0x180F) of a connected peripheral, once its
 * services are resolved, and follows its notifications.
 */
#include "sim-battery.h"

#define BATTERY_SERVICE "0000180f-0000-1000-8000-00805f9b34fb"
#define BATTERY_LEVEL "00002a19-0000-1000-8000-00805f9b34fb"

SimCharDef *
sim_battery_level_def (SimPeripheral *p)
{
  for (guint i = 0; i < p->services->len; i++)
    {
      SimServiceDef *s = g_ptr_array_index (p->services, i);

      if (!g_str_equal (s->uuid, BATTERY_SERVICE))
        continue;
      for (guint j = 0; j < s->chars->len; j++)
        {
          SimCharDef *c = g_ptr_array_index (s->chars, j);

          if (g_str_equal (c->uuid, BATTERY_LEVEL))
            return c;
        }
    }
  return NULL;
}

static GVariant *
battery_get (SimObj     *obj,
             const char *prop)
{
  SimDevice *d = (SimDevice *) obj;
  SimCharDef *c = sim_battery_level_def (d->periph);

  if (g_str_equal (prop, "Percentage"))
    return g_variant_new_byte (c != NULL && c->value->len > 0
                               ? MIN (c->value->data[0], 100) : 0);
  if (g_str_equal (prop, "Source"))
    return g_variant_new_string ("GATT Battery Service");
  return NULL;
}

SimIfaceDef sim_battery_iface = {
  "org.bluez.Battery1", NULL, battery_get, NULL, NULL
};

gboolean
sim_battery_notify (SimDevice *device,
                    SimChar   *chr)
{
  if (!device->battery_exported || chr->def != sim_battery_level_def (device->periph))
    return FALSE;
  sim_obj_changed (&device->obj, &sim_battery_iface, "Percentage", NULL);
  return TRUE;
}

void
sim_battery_export (SimDevice *device)
{
  if (sim_battery_level_def (device->periph) == NULL || device->battery_exported)
    return;
  device->battery_exported = TRUE;
  sim_obj_add_iface (&device->obj, &sim_battery_iface);
  /* the battery plugin then reads the level and announces it */
  sim_obj_changed (&device->obj, &sim_battery_iface, "Percentage", NULL);
}

void
sim_battery_unexport (SimDevice *device)
{
  if (!device->battery_exported)
    return;
  device->battery_exported = FALSE;
  sim_obj_remove_iface (&device->obj, &sim_battery_iface);
}
