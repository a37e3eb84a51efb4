/* SPDX-License-Identifier: MIT */
/*
 * The harness's own check, through GDBus and no library code: power the
 * central adapter, discover the test peripheral on it, connect, wait for
 * ServicesResolved, read the Battery Level and disconnect. If this fails,
 * the guest (or the simulator) is broken, not the library.
 *
 * Environment: BLEIO_TEST_ADAPTER (hci0), BLEIO_TEST_PERIPHERAL_NAME
 * (InterestingPeripheral), BLEIO_TEST_BATTERY_LEVEL (98, the demo's value).
 */
#include "e2e-gdbus.h"

#include <stdlib.h>

#define BATTERY_LEVEL_UUID "00002a19-0000-1000-8000-00805f9b34fb"

typedef struct {
  GDBusObjectManager *manager;
  char *adapter_path;
  const char *name;
  char *device_path;
} Test;

#define CHECK(cond, ...) \
  G_STMT_START { \
    if (!(cond)) \
      { \
        g_printerr ("FAIL %s:%d: ", __FILE__, __LINE__); \
        g_printerr (__VA_ARGS__); \
        g_printerr ("\n"); \
        exit (1); \
      } \
  } G_STMT_END

#define CHECK_NO_ERROR(what, error) \
  CHECK ((error) == NULL, "%s: %s", what, (error)->message)

/* Our peripheral as seen from the central adapter (both adapters live in
 * one bluetoothd, so filter by Adapter). */
static gboolean
find_device (gpointer user_data)
{
  Test *t = user_data;
  GList *objects = g_dbus_object_manager_get_objects (t->manager);

  for (GList *l = objects; l && !t->device_path; l = l->next)
    {
      const char *path = g_dbus_object_get_object_path (l->data);
      g_autoptr(GVariant) adapter = e2e_get_cached (t->manager, path, "org.bluez.Device1", "Adapter");
      g_autoptr(GVariant) name = e2e_get_cached (t->manager, path, "org.bluez.Device1", "Name");

      if (adapter && name
          && g_str_equal (g_variant_get_string (adapter, NULL), t->adapter_path)
          && g_str_equal (g_variant_get_string (name, NULL), t->name))
        t->device_path = g_strdup (path);
    }
  g_list_free_full (objects, g_object_unref);
  return t->device_path != NULL;
}

static void
list_devices (Test *t)
{
  GList *objects = g_dbus_object_manager_get_objects (t->manager);

  for (GList *l = objects; l; l = l->next)
    {
      const char *path = g_dbus_object_get_object_path (l->data);
      g_autoptr(GVariant) adapter = e2e_get_cached (t->manager, path, "org.bluez.Device1", "Adapter");
      g_autoptr(GVariant) name = e2e_get_cached (t->manager, path, "org.bluez.Device1", "Name");
      g_autoptr(GVariant) alias = e2e_get_cached (t->manager, path, "org.bluez.Device1", "Alias");

      if (adapter)
        g_printerr ("seen: %s adapter %s name %s alias %s\n", path,
                    g_variant_get_string (adapter, NULL),
                    name ? g_variant_get_string (name, NULL) : "(none)",
                    alias ? g_variant_get_string (alias, NULL) : "(none)");
    }
  g_list_free_full (objects, g_object_unref);
}

static gboolean
device_flag (Test *t, const char *property)
{
  g_autoptr(GVariant) v = e2e_get_cached (t->manager, t->device_path, "org.bluez.Device1", property);

  return v && g_variant_get_boolean (v);
}

static gboolean
services_resolved (gpointer user_data)
{
  return device_flag (user_data, "ServicesResolved");
}

static gboolean
disconnected (gpointer user_data)
{
  return !device_flag (user_data, "Connected");
}

static char *
find_characteristic (Test *t, const char *uuid)
{
  GList *objects = g_dbus_object_manager_get_objects (t->manager);
  g_autofree char *prefix = g_strconcat (t->device_path, "/", NULL);
  char *found = NULL;

  for (GList *l = objects; l && !found; l = l->next)
    {
      const char *path = g_dbus_object_get_object_path (l->data);
      g_autoptr(GVariant) v = NULL;

      if (!g_str_has_prefix (path, prefix))
        continue;
      v = e2e_get_cached (t->manager, path, "org.bluez.GattCharacteristic1", "UUID");
      if (v && g_str_equal (g_variant_get_string (v, NULL), uuid))
        found = g_strdup (path);
    }
  g_list_free_full (objects, g_object_unref);
  return found;
}

static gboolean
battery_exported (gpointer user_data)
{
  g_autofree char *path = find_characteristic (user_data, BATTERY_LEVEL_UUID);

  return path != NULL;
}

int
main (void)
{
  Test t = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GDBusObjectManager) manager = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autofree char *adapter_path = NULL;
  g_autofree char *device_path = NULL;
  g_autofree char *battery_path = NULL;
  const guint8 *bytes;
  gsize len;
  guint expected = (guint) g_ascii_strtoull (e2e_env ("BLEIO_TEST_BATTERY_LEVEL", "98"), NULL, 10);

  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  CHECK_NO_ERROR ("system bus", error);
  manager = g_dbus_object_manager_client_new_sync (bus, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE,
                                                   "org.bluez", "/", NULL, NULL, NULL,
                                                   NULL, &error);
  CHECK_NO_ERROR ("object manager", error);
  adapter_path = g_strdup_printf ("/org/bluez/%s", e2e_env ("BLEIO_TEST_ADAPTER", "hci0"));
  t.manager = manager;
  t.adapter_path = adapter_path;
  t.name = e2e_env ("BLEIO_TEST_PERIPHERAL_NAME", "InterestingPeripheral");

  reply = e2e_call (bus, adapter_path, "org.freedesktop.DBus.Properties", "Set",
                    g_variant_new ("(ssv)", "org.bluez.Adapter1", "Powered",
                                   g_variant_new_boolean (TRUE)),
                    NULL, 10000, &error);
  CHECK_NO_ERROR ("power on", error);
  g_clear_pointer (&reply, g_variant_unref);
  reply = e2e_call (bus, adapter_path, "org.bluez.Adapter1", "SetDiscoveryFilter",
                    g_variant_new_parsed ("({'Transport': <'le'>},)"), NULL, 10000, &error);
  CHECK_NO_ERROR ("SetDiscoveryFilter", error);
  g_clear_pointer (&reply, g_variant_unref);
  reply = e2e_call (bus, adapter_path, "org.bluez.Adapter1", "StartDiscovery",
                    NULL, NULL, 10000, &error);
  CHECK_NO_ERROR ("StartDiscovery", error);
  g_print ("%.1f s: discovering\n", g_get_monotonic_time () / 1e6);
  g_clear_pointer (&reply, g_variant_unref);

  if (!e2e_wait_until (find_device, &t, E2E_WAIT_MSEC))
    list_devices (&t);
  CHECK (t.device_path, "%s not found on %s", t.name, adapter_path);
  device_path = t.device_path;
  {
    g_autoptr(GVariant) rssi = e2e_get_cached (manager, device_path, "org.bluez.Device1", "RSSI");
    g_autofree char *printed = rssi != NULL ? g_variant_print (rssi, TRUE) : NULL;

    g_print ("RSSI property: %s\n", printed != NULL ? printed : "absent");
  }
  g_print ("%.1f s: found %s at %s\n", g_get_monotonic_time () / 1e6, t.name, device_path);
  reply = e2e_call (bus, adapter_path, "org.bluez.Adapter1", "StopDiscovery",
                    NULL, NULL, 10000, &error);
  CHECK_NO_ERROR ("StopDiscovery", error);
  g_clear_pointer (&reply, g_variant_unref);

  g_print ("%.1f s: connecting\n", g_get_monotonic_time () / 1e6);
  reply = e2e_call (bus, device_path, "org.bluez.Device1", "Connect",
                    NULL, NULL, 30000, &error);
  CHECK_NO_ERROR ("Connect", error);
  g_clear_pointer (&reply, g_variant_unref);
  CHECK (e2e_wait_until (services_resolved, &t, E2E_WAIT_MSEC),
         "ServicesResolved did not become true");
  g_print ("%.1f s: connected, services resolved\n", g_get_monotonic_time () / 1e6);

  /* bluetoothd may set ServicesResolved before it has exported the GATT
   * objects (DESIGN.md, quirk 1): give them a moment. */
  CHECK (e2e_wait_until (battery_exported, &t, E2E_WAIT_MSEC),
         "no Battery Level characteristic under %s", device_path);
  battery_path = find_characteristic (&t, BATTERY_LEVEL_UUID);
  reply = e2e_call (bus, battery_path, "org.bluez.GattCharacteristic1", "ReadValue",
                    g_variant_new_parsed ("(@a{sv} {},)"), "(ay)", 10000, &error);
  CHECK_NO_ERROR ("ReadValue", error);
  value = g_variant_get_child_value (reply, 0);
  bytes = g_variant_get_fixed_array (value, &len, 1);
  CHECK (len == 1, "Battery Level is %zu bytes long, not 1", len);
  CHECK (bytes[0] == expected, "Battery Level is %u, not %u", bytes[0], expected);
  g_print ("%.1f s: battery level %u%%\n", g_get_monotonic_time () / 1e6, bytes[0]);
  g_clear_pointer (&reply, g_variant_unref);

  reply = e2e_call (bus, device_path, "org.bluez.Device1", "Disconnect",
                    NULL, NULL, 10000, &error);
  CHECK_NO_ERROR ("Disconnect", error);
  CHECK (e2e_wait_until (disconnected, &t, E2E_WAIT_MSEC),
         "still connected after Disconnect");
  g_print ("%.1f s: disconnected\n", g_get_monotonic_time () / 1e6);
  return 0;
}
