/* SPDX-License-Identifier: MIT */
/*
 * Pairing through GDBus alone (no library code), to tell a library problem
 * from one of the setup: power hci0, discover the peripheral, connect,
 * Device1.Pair with the peripheral's default agent answering for both
 * sides, and check Paired. Not in the suite's list; run it by hand with
 * run-e2e.sh --test (README.md).
 */
#include "e2e-gdbus.h"

#include <stdlib.h>

#define FAIL_IF(cond, ...) \
  G_STMT_START { \
    if (cond) \
      { \
        g_printerr (__VA_ARGS__); \
        g_printerr ("\n"); \
        exit (1); \
      } \
  } G_STMT_END

typedef struct {
  GDBusObjectManager *manager;
  const char *path;
  const char *property;
} Flag;

static gboolean
flag_set (gpointer user_data)
{
  Flag *f = user_data;
  g_autoptr(GVariant) v = e2e_get_cached (f->manager, f->path, "org.bluez.Device1", f->property);

  return v && g_variant_get_boolean (v);
}

static gboolean
device_known (gpointer user_data)
{
  Flag *f = user_data;
  g_autoptr(GDBusInterface) i = g_dbus_object_manager_get_interface (f->manager, f->path,
                                                                     "org.bluez.Device1");

  return i != NULL;
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  g_autoptr(GDBusObjectManager) manager = NULL;
  g_autoptr(GVariant) r = NULL;
  const char *adapter = "/org/bluez/hci0";
  const char *device = "/org/bluez/hci0/dev_00_AA_01_01_00_01";
  Flag f;

  FAIL_IF (bus == NULL, "bus: %s", error->message);
  manager = g_dbus_object_manager_client_new_sync (bus, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE,
                                                   "org.bluez", "/", NULL, NULL, NULL,
                                                   NULL, &error);
  FAIL_IF (manager == NULL, "manager: %s", error->message);
  f.manager = manager;
  f.path = device;

  r = e2e_call (bus, adapter, "org.bluez.Adapter1", "StartDiscovery", NULL, NULL, 10000, &error);
  FAIL_IF (r == NULL, "StartDiscovery: %s", error->message);
  g_clear_pointer (&r, g_variant_unref);
  FAIL_IF (!e2e_wait_until (device_known, &f, E2E_WAIT_MSEC), "peripheral not found");
  r = e2e_call (bus, adapter, "org.bluez.Adapter1", "StopDiscovery", NULL, NULL, 10000, &error);
  g_clear_pointer (&r, g_variant_unref);
  g_clear_error (&error);

  r = e2e_call (bus, device, "org.bluez.Device1", "Connect", NULL, NULL, 30000, &error);
  FAIL_IF (r == NULL, "Connect: %s", error->message);
  g_clear_pointer (&r, g_variant_unref);
  g_print ("connected; pairing\n");
  r = e2e_call (bus, device, "org.bluez.Device1", "Pair", NULL, NULL, 30000, &error);
  FAIL_IF (r == NULL, "Pair: %s", error->message);
  f.property = "Paired";
  FAIL_IF (!e2e_wait_until (flag_set, &f, E2E_WAIT_MSEC), "Paired did not become true");
  g_print ("paired\n");
  return 0;
}
