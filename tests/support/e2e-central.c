/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>

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

/* What bluetoothd says about the device when asked (not from signals):
 * for the report of a lost Device1.Connect. */
static void
print_device_state (BleioAdapter       *adapter,
                    const BleioAddress *address)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, NULL);
  g_autofree char *text = bleio_address_to_string (address);
  g_autofree char *upper = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GError) error = NULL;
  gboolean connected = FALSE, resolved = FALSE;

  if (bus == NULL || text == NULL)
    return;
  /* BlueZ's object paths have the address in upper case. */
  upper = g_ascii_strup (g_strdelimit (text, ":", '_'), -1);
  path = g_strdup_printf ("/org/bluez/%s/dev_%s",
                          e2e_env ("BLEIO_TEST_ADAPTER", "hci0"), upper);
  reply = e2e_call (bus, path, "org.freedesktop.DBus.Properties", "GetAll",
                    g_variant_new ("(s)", "org.bluez.Device1"), "(a{sv})", 5000, &error);
  if (reply == NULL)
    {
      g_printerr ("e2e: asking bluetoothd about %s: %s\n", path, error->message);
      return;
    }
  props = g_variant_get_child_value (reply, 0);
  g_variant_lookup (props, "Connected", "b", &connected);
  g_variant_lookup (props, "ServicesResolved", "b", &resolved);
  g_printerr ("e2e: bluetoothd says %s Connected=%d ServicesResolved=%d\n",
              path, connected, resolved);
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
      print_device_state (adapter, address);
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
e2e_restart_bluez (gboolean crash,
                   GError **error)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;

  if (e2e_target_is_real_bluez ())
    {
      const char *command = e2e_env ("BLEIO_TEST_RESTART_BLUEZ", NULL);
      const char *argv[] = { command, crash ? "kill" : NULL, NULL };
      int status;

      if (command == NULL)
        {
          g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                       "BLEIO_TEST_RESTART_BLUEZ is not set");
          return FALSE;
        }
      if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                         NULL, NULL, &status, error))
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

/* ---- GATT ---- */

static gboolean
uuid_is (const BleioUuid *uuid,
         const char      *wanted)
{
  g_autofree char *s = bleio_uuid_to_bluez_string (uuid);

  return g_ascii_strcasecmp (s, wanted) == 0;
}

BleioCharacteristic *
e2e_find_characteristic (BleioConnection *connection,
                         const char      *service_uuid,
                         const char      *char_uuid,
                         GError         **error)
{
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(GPtrArray) whitelist = g_ptr_array_new_with_free_func ((GDestroyNotify) bleio_uuid_free);
  BleioUuid *wanted = bleio_uuid_new_from_string (service_uuid, error);

  if (wanted == NULL)
    return NULL;
  g_ptr_array_add (whitelist, wanted);
  services = bleio_connection_discover_remote_services (connection, whitelist, 30, error);
  if (services == NULL)
    return NULL;
  for (guint i = 0; i < services->len; i++)
    {
      g_autoptr(GPtrArray) chrs = bleio_service_dup_characteristics (g_ptr_array_index (services, i));

      for (guint j = 0; j < chrs->len; j++)
        {
          BleioCharacteristic *c = g_ptr_array_index (chrs, j);

          if (uuid_is (bleio_characteristic_get_uuid (c), char_uuid))
            return g_object_ref (c);
        }
    }
  g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_DOES_NOT_EXIST,
               "no characteristic %s in service %s", char_uuid, service_uuid);
  return NULL;
}

BleioDescriptor *
e2e_find_descriptor (BleioCharacteristic *characteristic,
                     const char          *uuid,
                     GError             **error)
{
  g_autoptr(GPtrArray) descriptors = bleio_characteristic_dup_descriptors (characteristic);

  for (guint i = 0; i < descriptors->len; i++)
    {
      BleioDescriptor *d = g_ptr_array_index (descriptors, i);

      if (uuid_is (bleio_descriptor_get_uuid (d), uuid))
        return g_object_ref (d);
    }
  g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_DOES_NOT_EXIST,
               "no descriptor %s on %s (%u descriptors)", uuid,
               bleio_characteristic_get_object_path (characteristic), descriptors->len);
  return NULL;
}

GDBusConnection *
e2e_other_client_start_notify (BleioCharacteristic *characteristic,
                               GError             **error)
{
  g_autofree char *address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SYSTEM, NULL, error);
  g_autoptr(GDBusConnection) other = NULL;
  g_autoptr(GVariant) reply = NULL;

  if (address == NULL)
    return NULL;
  other = g_dbus_connection_new_for_address_sync (address,
                                                  G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                                  | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                  NULL, NULL, error);
  if (other == NULL)
    return NULL;
  /* A test before may have released an acquired notify by closing its
   * socket: bluetoothd (and bleio-sim) notice the hang-up on their own
   * time and refuse StartNotify ("Notify acquired") until then. Wait,
   * bounded, for NotifyAcquired to turn false; a characteristic without
   * the property has nothing to wait for. */
  for (guint tries = 0; tries < 200; tries++)
    {
      g_autoptr(GVariant) acquired = e2e_call (other,
                                               bleio_characteristic_get_object_path (characteristic),
                                               "org.freedesktop.DBus.Properties", "Get",
                                               g_variant_new ("(ss)", "org.bluez.GattCharacteristic1",
                                                              "NotifyAcquired"),
                                               "(v)", 5000, NULL);
      g_autoptr(GVariant) value = NULL;

      if (acquired == NULL)
        break;
      g_variant_get (acquired, "(v)", &value);
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN) || !g_variant_get_boolean (value))
        break;
      g_usleep (50 * 1000);
    }
  reply = e2e_call (other, bleio_characteristic_get_object_path (characteristic),
                    "org.bluez.GattCharacteristic1", "StartNotify", NULL, NULL, 20000, error);
  if (reply == NULL)
    return NULL;
  return g_steal_pointer (&other);
}

/* The test peripheral's unique bus name, from its ready file. */
static char *
peripheral_bus_name (GError **error)
{
  const char *file = e2e_env ("BLEIO_E2E_READY_FILE", "/run/e2e/peripheral-ready");
  g_autofree char *contents = NULL;
  g_auto(GStrv) words = NULL;

  if (!g_file_get_contents (file, &contents, NULL, error))
    return NULL;
  words = g_strsplit_set (g_strstrip (contents), " ", -1);
  if (g_strv_length (words) < 2 || !g_dbus_is_unique_name (words[1]))
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_DOES_NOT_EXIST,
                   "%s does not name the peripheral's bus name: '%s'", file, contents);
      return NULL;
    }
  return g_strdup (words[1]);
}

/* The demo peripheral's database in its second version
 * (tools/bleio-sim/scenarios/demo.json with the custom service replaced):
 * as in the guest, where the test peripheral's custom application comes
 * back on handles after all the earlier ones (bluetoothd 5.66 hands out
 * handles from the end of its database), without "Read me" and with
 * "Version" first. */
static const char demo_gatt_v2[] =
  "[{\"uuid\": \"1800\", \"handle\": \"0x0001\", \"characteristics\": ["
  "   {\"uuid\": \"2a00\", \"handle\": \"0x0002\", \"flags\": [\"read\"], \"value\": \"496e746572657374696e67506572697068657261 6c\"},"
  "   {\"uuid\": \"2a01\", \"handle\": \"0x0004\", \"flags\": [\"read\"], \"value\": \"4003\"}"
  " ]},"
  " {\"uuid\": \"1801\", \"handle\": \"0x0008\", \"characteristics\": ["
  "   {\"uuid\": \"2a05\", \"handle\": \"0x0009\", \"flags\": [\"indicate\"]},"
  "   {\"uuid\": \"2b29\", \"handle\": \"0x000c\", \"flags\": [\"read\", \"write\"], \"value\": \"00\"},"
  "   {\"uuid\": \"2b2a\", \"handle\": \"0x000e\", \"flags\": [\"read\"], \"value\": \"e2867e5110717e20fd546b265e9be7b4\"},"
  "   {\"uuid\": \"2b3a\", \"handle\": \"0x0010\", \"flags\": [\"read\"], \"value\": \"01\"}"
  " ]},"
  " {\"uuid\": \"180a\", \"handle\": \"0x0012\", \"characteristics\": ["
  "   {\"uuid\": \"2a29\", \"handle\": \"0x0013\", \"flags\": [\"read\"], \"value\": \"626c65696f\"},"
  "   {\"uuid\": \"2a24\", \"handle\": \"0x0015\", \"flags\": [\"read\"], \"value\": \"53696d2d31\"},"
  "   {\"uuid\": \"2a50\", \"handle\": \"0x0017\", \"flags\": [\"read\"], \"value\": \"02 6b1d 4602 4205\"}"
  " ]},"
  " {\"uuid\": \"180d\", \"handle\": \"0x003d\", \"characteristics\": ["
  "   {\"uuid\": \"2a37\", \"handle\": \"0x003e\", \"flags\": [\"notify\"], \"notify\": {\"period_ms\": 1000, \"payloads\": [\"0648\", \"064a\", \"064c\", \"0650\", \"064e\"]}},"
  "   {\"uuid\": \"2a38\", \"handle\": \"0x0041\", \"flags\": [\"read\"], \"value\": \"01\"},"
  "   {\"uuid\": \"2a39\", \"handle\": \"0x0043\", \"flags\": [\"write\"]}"
  " ]},"
  " {\"uuid\": \"180f\", \"handle\": \"0x0045\", \"characteristics\": ["
  "   {\"uuid\": \"2a19\", \"handle\": \"0x0046\", \"flags\": [\"read\", \"notify\"], \"value\": \"62\"}"
  " ]},"
  " {\"uuid\": \"12345678-1234-5678-1234-56789abcdef0\", \"handle\": \"0x0062\", \"characteristics\": ["
  "   {\"uuid\": \"12345678-1234-5678-1234-56789abcdef7\", \"flags\": [\"read\"], \"value\": \"02\", \"descriptors\": [{\"uuid\": \"2901\", \"value\": \"56657273696f6e\"}]},"
  "   {\"uuid\": \"12345678-1234-5678-1234-56789abcdef2\", \"flags\": [\"read\", \"write\"], \"value\": \"00\", \"descriptors\": [{\"uuid\": \"2901\", \"value\": \"5772697465206d65\"}]},"
  "   {\"uuid\": \"12345678-1234-5678-1234-56789abcdef3\", \"flags\": [\"write-without-response\"], \"descriptors\": [{\"uuid\": \"2901\", \"value\": \"436f6d6d616e64\"}]},"
  "   {\"uuid\": \"12345678-1234-5678-1234-56789abcdef4\", \"flags\": [\"notify\"], \"notify\": {\"period_ms\": 500, \"payloads\": [\"00\", \"01\", \"02\", \"03\"]}, \"descriptors\": [{\"uuid\": \"2901\", \"value\": \"436f756e746572\"}]},"
  "   {\"uuid\": \"12345678-1234-5678-1234-56789abcdef5\", \"flags\": [\"read\", \"encrypt-read\"], \"value\": \"736563726574\", \"descriptors\": [{\"uuid\": \"2901\", \"value\": \"536563726574\"}]},"
  "   {\"uuid\": \"12345678-1234-5678-1234-56789abcdef6\", \"flags\": [\"read\", \"notify\"], \"value\": \"01\", \"descriptors\": [{\"uuid\": \"2901\", \"value\": \"5265706f72742031\"}]},"
  "   {\"uuid\": \"12345678-1234-5678-1234-56789abcdef6\", \"flags\": [\"read\", \"notify\"], \"value\": \"02\", \"acquire_notify\": false, \"descriptors\": [{\"uuid\": \"2901\", \"value\": \"5265706f72742032\"}]}"
  " ]}]";

/* Waits until the test peripheral's Version property reads @version. */
static gboolean
peripheral_version_is (GDBusConnection *bus,
                       const char      *peer,
                       guint32          version,
                       GError         **error)
{
  gint64 end = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;

  for (;;)
    {
      g_autoptr(GVariant) reply = NULL;
      g_autoptr(GVariant) value = NULL;

      reply = g_dbus_connection_call_sync (bus, peer, "/org/bleio/e2e/control",
                                           "org.freedesktop.DBus.Properties", "Get",
                                           g_variant_new ("(ss)", "org.bleio.E2EPeripheral1",
                                                          "Version"),
                                           G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE,
                                           5000, NULL, error);
      if (reply == NULL)
        return FALSE;
      g_variant_get (reply, "(v)", &value);
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32) &&
          g_variant_get_uint32 (value) == version)
        return TRUE;
      if (g_get_monotonic_time () > end)
        {
          g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_TIMEOUT,
                       "the test peripheral did not register its version %u in 20 s", version);
          return FALSE;
        }
      g_usleep (50 * 1000);
    }
}

gboolean
e2e_peer_change_database (BleioConnection *connection,
                          GError         **error)
{
  g_autoptr(GDBusConnection) bus = system_bus (error);
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *peer = NULL;

  if (bus == NULL)
    return FALSE;
  if (!e2e_target_is_real_bluez ())
    {
      reply = g_dbus_connection_call_sync (bus, "org.bluez", "/org/bleio/sim",
                                           "org.bleio.Sim1", "ReplaceGatt",
                                           g_variant_new ("(os)",
                                                          bleio_connection_get_object_path (connection),
                                                          demo_gatt_v2),
                                           NULL, G_DBUS_CALL_FLAGS_NONE, 10000, NULL, error);
      return reply != NULL;
    }
  if ((peer = peripheral_bus_name (error)) == NULL)
    return FALSE;
  reply = g_dbus_connection_call_sync (bus, peer, "/org/bleio/e2e/control",
                                       "org.freedesktop.DBus.Properties", "Set",
                                       g_variant_new ("(ssv)", "org.bleio.E2EPeripheral1", "Version",
                                                      g_variant_new_uint32 (2)),
                                       NULL, G_DBUS_CALL_FLAGS_NONE, 10000, NULL, error);
  return reply != NULL && peripheral_version_is (bus, peer, 2, error);
}

GBytes *
e2e_peer_value (BleioCharacteristic *characteristic,
                GError             **error)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autofree char *peer = NULL;
  g_autofree char *wanted = NULL;
  g_autoptr(GVariant) objects = NULL;
  g_autoptr(GVariant) tree = NULL;
  g_autoptr(GVariant) value = NULL;
  GVariantIter iter;
  const char *path;
  GVariant *ifaces;
  g_autofree char *found = NULL;
  static const char *const roots[] = { "/org/bleio/e2e", "/org/bleio/e2e/custom" };

  if (!e2e_target_is_real_bluez ())
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                   "the simulator has no peripheral-side view of a value");
      return NULL;
    }
  bus = system_bus (error);
  if (bus == NULL || (peer = peripheral_bus_name (error)) == NULL)
    return NULL;
  wanted = bleio_uuid_to_bluez_string (bleio_characteristic_get_uuid (characteristic));
  /* Its two applications: the standard services, and the custom one. */
  for (guint i = 0; i < G_N_ELEMENTS (roots) && found == NULL; i++)
    {
      g_clear_pointer (&objects, g_variant_unref);
      g_clear_pointer (&tree, g_variant_unref);
      objects = g_dbus_connection_call_sync (bus, peer, roots[i],
                                             "org.freedesktop.DBus.ObjectManager",
                                             "GetManagedObjects", NULL,
                                             G_VARIANT_TYPE ("(a{oa{sa{sv}}})"),
                                             G_DBUS_CALL_FLAGS_NONE, 10000, NULL, error);
      if (objects == NULL)
        return NULL;
      tree = g_variant_get_child_value (objects, 0);
      g_variant_iter_init (&iter, tree);
      while (found == NULL && g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, &ifaces))
        {
          g_autoptr(GVariant) chr = g_variant_lookup_value (ifaces, "org.bluez.GattCharacteristic1", NULL);
          const char *uuid = NULL;

          if (chr != NULL && g_variant_lookup (chr, "UUID", "&s", &uuid)
              && g_ascii_strcasecmp (uuid, wanted) == 0)
            found = g_strdup (path);
          g_variant_unref (ifaces);
        }
    }
  if (found == NULL)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_DOES_NOT_EXIST,
                   "the peripheral has no characteristic %s", wanted);
      return NULL;
    }
  value = g_dbus_connection_call_sync (bus, peer, found, "org.bluez.GattCharacteristic1",
                                       "ReadValue", g_variant_new ("(a{sv})", NULL),
                                       G_VARIANT_TYPE ("(ay)"), G_DBUS_CALL_FLAGS_NONE,
                                       10000, NULL, error);
  if (value == NULL)
    return NULL;
  {
    g_autoptr(GVariant) ay = g_variant_get_child_value (value, 0);

    return g_variant_get_data_as_bytes (ay);
  }
}

gint
e2e_sim_write_calls (BleioCharacteristic *characteristic,
                     GError             **error)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) calls = NULL;
  const char *path = bleio_characteristic_get_object_path (characteristic);
  GVariantIter iter;
  const char *method, *object, *sender;
  gint count = 0;

  if (e2e_target_is_real_bluez ())
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                   "bluetoothd keeps no log of calls");
      return -1;
    }
  bus = system_bus (error);
  if (bus == NULL)
    return -1;
  reply = g_dbus_connection_call_sync (bus, "org.bluez", "/org/bleio/sim", "org.bleio.Sim1",
                                       "GetCalls", NULL, G_VARIANT_TYPE ("(a(sos))"),
                                       G_DBUS_CALL_FLAGS_NONE, 10000, NULL, error);
  if (reply == NULL)
    return -1;
  calls = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, calls);
  while (g_variant_iter_next (&iter, "(&s&o&s)", &method, &object, &sender))
    if (g_str_equal (method, "WriteValue") && g_str_equal (object, path))
      count++;
  return count;
}

char *
e2e_hex (GBytes *bytes)
{
  gsize len = 0;
  const guint8 *data = bytes ? g_bytes_get_data (bytes, &len) : NULL;
  GString *out = g_string_new (NULL);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (out, "%02x", data[i]);
  return g_string_free (out, FALSE);
}

int
e2e_fixture_setup (void **state)
{
  g_autoptr(GError) error = NULL;
  E2eFixture *f = g_new0 (E2eFixture, 1);

  *state = f;
  f->adapter = e2e_central_adapter (&error);
  if (f->adapter == NULL)
    fail_msg ("adapter: %s", error->message);
  f->connection = e2e_connect_peripheral (f->adapter, &error);
  if (f->connection == NULL)
    fail_msg ("connect: %s", error->message);
  return 0;
}

int
e2e_fixture_teardown (void **state)
{
  E2eFixture *f = *state;

  if (f->connection != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!bleio_connection_disconnect (f->connection, &error))
        g_printerr ("disconnect: %s\n", error->message);
    }
  g_clear_object (&f->connection);
  g_clear_object (&f->adapter);
  g_free (f);
  return 0;
}

BleioCharacteristic *
e2e_fixture_find (E2eFixture *f,
                  const char *service_uuid,
                  const char *char_uuid)
{
  g_autoptr(GError) error = NULL;
  BleioCharacteristic *c = e2e_find_characteristic (f->connection, service_uuid,
                                                    char_uuid, &error);

  if (c == NULL)
    fail_msg ("%s", error->message);
  return c;
}

BleioConnection *
e2e_connect_watched (BleioAdapter  **adapter_out,
                     E2eDisconnects *record)
{
  g_autoptr(GError) error = NULL;
  BleioConnection *connection;

  *adapter_out = e2e_central_adapter (&error);
  assert_null (error);
  connection = e2e_connect_peripheral (*adapter_out, &error);
  if (error)
    fail_msg ("connect: %s", error->message);
  e2e_watch_disconnects (connection, record);
  return connection;
}

GSubprocess *
e2e_agent_start (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) agent = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = self != NULL ? g_path_get_dirname (self) : g_strdup (".");
  g_autofree char *beside = g_build_filename (dir, "bleio-e2e-agent", NULL);
  g_autofree char *line = NULL;

  agent = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                            e2e_env ("BLEIO_TEST_AGENT", beside), NULL);
  if (agent == NULL)
    fail_msg ("cannot run bleio-e2e-agent: %s", error->message);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (agent));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  if (g_strcmp0 (line, "ready") != 0)
    fail_msg ("bleio-e2e-agent did not register (%s)",
              error != NULL ? error->message : "it said why on stderr");
  return g_steal_pointer (&agent);
}

void
e2e_agent_stop (GSubprocess *agent)
{
  if (agent == NULL)
    return;
  g_subprocess_send_signal (agent, SIGTERM);
  g_subprocess_wait (agent, NULL, NULL);
  g_object_unref (agent);
}
