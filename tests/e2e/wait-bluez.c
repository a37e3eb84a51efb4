/* SPDX-License-Identifier: MIT */
/*
 * bleio-e2e-wait-bluez [ADAPTER...]: waits until org.bluez exports a
 * powered Adapter1 for each named adapter (default hci0 and hci1; bluetoothd
 * powers them itself, AutoEnable), at most 3 * E2E_WAIT_MSEC. Exit status
 * 0 when they are all there. The guest's e2e-restart-bluetoothd uses it:
 * busybox has no D-Bus client.
 */
#include "e2e-gdbus.h"

typedef struct {
  GDBusConnection *bus;
  char **paths;
} Wait;

static gboolean
adapters_exported (gpointer user_data)
{
  Wait *w = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) objects = NULL;

  reply = e2e_call (w->bus, "/", "org.freedesktop.DBus.ObjectManager",
                    "GetManagedObjects", NULL, "(a{oa{sa{sv}}})", 2000, NULL);
  if (!reply)
    return FALSE;
  objects = g_variant_get_child_value (reply, 0);
  for (guint i = 0; w->paths[i]; i++)
    {
      g_autoptr(GVariant) ifaces = g_variant_lookup_value (objects, w->paths[i],
                                                           G_VARIANT_TYPE ("a{sa{sv}}"));
      g_autoptr(GVariant) adapter = NULL;

      gboolean powered = FALSE;

      if (ifaces)
        adapter = g_variant_lookup_value (ifaces, "org.bluez.Adapter1", NULL);
      if (!adapter
          || !g_variant_lookup (adapter, "Powered", "b", &powered)
          || !powered)
        return FALSE;
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  Wait w;

  if (!bus)
    {
      g_printerr ("wait-bluez: no system bus: %s\n", error->message);
      return 1;
    }
  for (int i = 1; i < argc; i++)
    g_ptr_array_add (paths, g_strdup_printf ("/org/bluez/%s", argv[i]));
  if (argc == 1)
    {
      g_ptr_array_add (paths, g_strdup ("/org/bluez/hci0"));
      g_ptr_array_add (paths, g_strdup ("/org/bluez/hci1"));
    }
  g_ptr_array_add (paths, NULL);
  w.bus = bus;
  w.paths = (char **) paths->pdata;

  /* bluetoothd starts slowly under TCG on a busy host: be generous. */
  if (!e2e_wait_until (adapters_exported, &w, 3 * E2E_WAIT_MSEC))
    {
      g_printerr ("wait-bluez: org.bluez did not export the adapters in %u ms\n",
                  3 * E2E_WAIT_MSEC);
      return 1;
    }
  return 0;
}
