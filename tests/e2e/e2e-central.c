/* SPDX-License-Identifier: MIT */
#include "e2e-central.h"

gboolean
e2e_target_is_real_bluez (void)
{
  return g_strcmp0 (g_getenv ("BLEIO_TEST_TARGET"), "e2e") == 0;
}

BleioAdapter *
e2e_central_adapter (GError **error)
{
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, error);

  if (bus == NULL)
    return NULL;
  adapter = bleio_adapter_new_for_name (bus, e2e_env ("BLEIO_TEST_ADAPTER", "hci0"),
                                        NULL, error);
  if (adapter == NULL)
    return NULL;
  if (!bleio_adapter_get_enabled (adapter)
      && !bleio_adapter_set_enabled (adapter, TRUE, error))
    return NULL;
  return g_steal_pointer (&adapter);
}

BleioAddress *
e2e_find_peripheral (BleioAdapter *adapter,
                     GError      **error)
{
  const char *wanted = e2e_env ("BLEIO_TEST_PERIPHERAL_NAME", "InterestingPeripheral");
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(BleioAddress) found = NULL;
  g_autoptr(GError) local_error = NULL;
  BleioScanEntry *entry;

  results = bleio_adapter_start_scan (adapter, NULL, 512, FALSE, E2E_SCAN_SECONDS,
                                      0.1, 0.1, -80, TRUE, error);
  if (results == NULL)
    return NULL;
  while (found == NULL
         && (entry = bleio_scan_results_next (results, -1, &local_error)) != NULL)
    {
      g_autofree char *name = bleio_scan_entry_dup_complete_name (entry);

      if (g_strcmp0 (name, wanted) == 0)
        found = bleio_address_copy (bleio_scan_entry_get_address (entry));
      bleio_scan_entry_unref (entry);
    }
  if (!bleio_adapter_stop_scan (adapter, local_error ? NULL : &local_error))
    found = NULL;
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (found == NULL)
    g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_DOES_NOT_EXIST,
                 "no advertisement named '%s' in %.0f s", wanted, E2E_SCAN_SECONDS);
  return g_steal_pointer (&found);
}

BleioConnection *
e2e_connect (BleioAdapter       *adapter,
             const BleioAddress *address,
             GError            **error)
{
  guint attempts = e2e_target_is_real_bluez () ? E2E_CONNECT_ATTEMPTS : 1;

  for (guint i = 1;; i++)
    {
      g_autoptr(GError) local_error = NULL;
      BleioConnection *connection = bleio_adapter_connect (adapter, address, 10, NULL,
                                                           &local_error);

      if (connection != NULL)
        return connection;
      if (i >= attempts || !g_error_matches (local_error, BLEIO_ERROR, BLEIO_ERROR_TIMEOUT))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      g_printerr ("e2e: connect attempt %u of %u: %s; bluetoothd lost "
                  "Device1.Connect (README.md), trying again\n",
                  i, attempts, local_error->message);
    }
}

BleioConnection *
e2e_connect_peripheral (BleioAdapter *adapter,
                        GError      **error)
{
  g_autoptr(BleioAddress) address = e2e_find_peripheral (adapter, error);

  if (address == NULL)
    return NULL;
  return e2e_connect (adapter, address, error);
}

static GDBusConnection *
system_bus (GError **error)
{
  return g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, error);
}

/* The guest's peripheral adapter sees the central as a Device1 of its own:
 * disconnect every connected one. */
static gboolean
peripheral_side_disconnect (GDBusConnection *bus,
                            GError         **error)
{
  g_autofree char *prefix = g_strdup_printf ("/org/bluez/%s/",
                                             e2e_env ("BLEIO_TEST_PERIPHERAL_ADAPTER", "hci1"));
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) objects = NULL;
  GVariantIter iter;
  const char *path;
  GVariant *ifaces;
  guint done = 0;

  reply = e2e_call (bus, "/", "org.freedesktop.DBus.ObjectManager",
                    "GetManagedObjects", NULL, "(a{oa{sa{sv}}})", 10000, error);
  if (reply == NULL)
    return FALSE;
  objects = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, &ifaces))
    {
      g_autoptr(GVariant) device = g_variant_lookup_value (ifaces, "org.bluez.Device1", NULL);
      gboolean connected = FALSE;
      g_autoptr(GVariant) r = NULL;

      g_variant_unref (ifaces);
      if (!g_str_has_prefix (path, prefix) || device == NULL
          || !g_variant_lookup (device, "Connected", "b", &connected) || !connected)
        continue;
      r = e2e_call (bus, path, "org.bluez.Device1", "Disconnect", NULL, NULL, 10000, error);
      if (r == NULL)
        return FALSE;
      done++;
    }
  if (done == 0)
    g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_DOES_NOT_EXIST,
                 "the peripheral adapter has no connected device");
  return done > 0;
}

gboolean
e2e_peer_disconnect (BleioConnection *connection,
                     GError         **error)
{
  g_autoptr(GDBusConnection) bus = system_bus (error);
  g_autoptr(GVariant) reply = NULL;

  if (bus == NULL)
    return FALSE;
  if (e2e_target_is_real_bluez ())
    return peripheral_side_disconnect (bus, error);
  reply = g_dbus_connection_call_sync (bus, "org.bluez", "/org/bleio/sim",
                                       "org.bleio.Sim1", "DropLink",
                                       g_variant_new ("(os)",
                                                      bleio_connection_get_object_path (connection),
                                                      "remote"),
                                       NULL, G_DBUS_CALL_FLAGS_NONE, 10000, NULL, error);
  return reply != NULL;
}

gboolean
e2e_restart_bluez (GError **error)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;

  if (e2e_target_is_real_bluez ())
    {
      const char *command = e2e_env ("BLEIO_TEST_RESTART_BLUEZ", NULL);
      int status;

      if (command == NULL)
        {
          g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                       "BLEIO_TEST_RESTART_BLUEZ is not set");
          return FALSE;
        }
      if (!g_spawn_command_line_sync (command, NULL, NULL, &status, error))
        return FALSE;
      return g_spawn_check_wait_status (status, error);
    }
  bus = system_bus (error);
  if (bus == NULL)
    return FALSE;
  reply = g_dbus_connection_call_sync (bus, "org.bluez", "/org/bleio/sim",
                                       "org.bleio.Sim1", "Restart",
                                       g_variant_new ("(u)", 1000),
                                       NULL, G_DBUS_CALL_FLAGS_NONE, 10000, NULL, error);
  return reply != NULL;
}

static void
on_disconnected (BleioConnection      *connection,
                 BleioDisconnectReason reason,
                 gpointer              user_data)
{
  E2eDisconnects *record = user_data;

  record->count++;
  record->reason = reason;
}

void
e2e_watch_disconnects (BleioConnection *connection,
                       E2eDisconnects  *record)
{
  record->count = 0;
  g_signal_connect (connection, "disconnected", G_CALLBACK (on_disconnected), record);
}

static gboolean
seen_disconnect (gpointer user_data)
{
  E2eDisconnects *record = user_data;

  return record->count > 0;
}

gboolean
e2e_wait_disconnected (E2eDisconnects *record,
                       guint           timeout_msec)
{
  return e2e_wait_until (seen_disconnect, record, timeout_msec);
}
