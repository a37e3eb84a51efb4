/* SPDX-License-Identifier: MIT */
/*
 * Hostile BlueZ, signals: PropertiesChanged for paths never announced,
 * InterfacesRemoved for unknown paths, InterfacesAdded twice for one path
 * with different interfaces, signals with the wrong signature, and
 * signals from a sender that does not own org.bluez. A live connection
 * must come through all of them untouched.
 */
#include "hostile.h"

/* After the signals, the link is still up and usable. */
static void
assert_link_fine (Hostile         *h,
                  BleioConnection *connection)
{
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioCharacteristic) chr = NULL;
  g_autoptr(GBytes) value = NULL;
  g_autoptr(GError) error = NULL;

  hostile_sync (h);
  hostile_settle (300);
  assert_true (bleio_connection_get_connected (connection));
  services = hostile_discover (connection);
  assert_true (services->len >= 2);
  chr = hostile_find_char (services, CUSTOM_CHAR);
  value = bleio_characteristic_read_value (chr, &error);
  assert_no_error (error);
  assert_int_equal (g_bytes_get_size (value), 5);
}

/* PropertiesChanged on paths nobody announced: a device, a
 * characteristic, an adapter, "/". */
static void
test_properties_changed_unknown_paths (void **state)
{
  Hostile *h = *state;
  g_autoptr(BleioConnection) connection = hostile_connect (h);

  hostile_changed (h, HCI0 "/dev_FF_FF_FF_FF_FF_FF", IFACE_DEVICE, "Connected",
                   g_variant_new_boolean (FALSE));
  hostile_changed (h, DEV "/service0099/char009a", IFACE_CHAR, "Value",
                   g_variant_new_bytestring ("x"));
  hostile_changed (h, "/org/bluez/hci7", "org.bluez.Adapter1", "Powered",
                   g_variant_new_boolean (FALSE));
  hostile_changed (h, "/", IFACE_DEVICE, "Connected", g_variant_new_boolean (FALSE));
  /* and on the live device, for an interface it does not have */
  hostile_changed (h, DEV, "org.bluez.Battery1", "Percentage", g_variant_new_byte (200));
  assert_link_fine (h, connection);
}

/* InterfacesRemoved for paths never announced, and for the live device
 * with interfaces it does not have. */
static void
test_interfaces_removed_unknown (void **state)
{
  Hostile *h = *state;
  g_autoptr(BleioConnection) connection = hostile_connect (h);
  const char *device_only[] = { "org.bluez.Battery1", "org.bluez.Nonsense1", NULL };
  const char *all[] = { IFACE_DEVICE, IFACE_SERVICE, IFACE_CHAR, NULL };

  hostile_object_manager_signal (h, "InterfacesRemoved",
                                 g_variant_new ("(o^as)", HCI0 "/dev_FF_FF_FF_FF_FF_FF", all));
  hostile_object_manager_signal (h, "InterfacesRemoved",
                                 g_variant_new ("(o^as)", "/org/bluez/hci7", all));
  hostile_object_manager_signal (h, "InterfacesRemoved",
                                 g_variant_new ("(o^as)", DEV, device_only));
  assert_link_fine (h, connection);
}

/* InterfacesAdded twice for one path with different interfaces, then the
 * same interface again with other properties. */
static void
test_interfaces_added_twice (void **state)
{
  Hostile *h = *state;
  g_autoptr(BleioConnection) connection = hostile_connect (h);
  g_autoptr(GPtrArray) services = NULL;
  const char *path = DEV "/service0077";

  hostile_object_manager_signal (h, "InterfacesAdded",
                                 g_variant_new_parsed ("(%o, {'org.bluez.GattService1': {'UUID': <'0000abcd-0000-1000-8000-00805f9b34fb'>, 'Device': <%o>, 'Primary': <true>}})",
                                                       path, DEV));
  hostile_object_manager_signal (h, "InterfacesAdded",
                                 g_variant_new_parsed ("(%o, {'org.bluez.GattCharacteristic1': {'UUID': <'0000abce-0000-1000-8000-00805f9b34fb'>, 'Service': <%o>}})",
                                                       path, path));
  hostile_object_manager_signal (h, "InterfacesAdded",
                                 g_variant_new_parsed ("(%o, {'org.bluez.GattService1': {'UUID': <'0000abcf-0000-1000-8000-00805f9b34fb'>}})",
                                                       path));
  hostile_sync (h);
  hostile_settle (300);
  services = hostile_discover (connection);
  /* the two real services, and the added one (UUID as first announced) */
  assert_true (services->len == 2 || services->len == 3);
  assert_link_fine (h, connection);
}

/* The live device announced again by InterfacesAdded, now with
 * Connected false and no Address: the library believes Connected and
 * reports the link lost (CONNECTION afterwards), without crashing. */
static void
test_device_added_again_disconnected (void **state)
{
  Hostile *h = *state;
  g_autoptr(BleioConnection) connection = hostile_connect (h);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) services = NULL;

  hostile_object_manager_signal (h, "InterfacesAdded",
                                 g_variant_new_parsed ("(%o, {'org.bluez.Device1': {'Connected': <false>}})", DEV));
  hostile_wait_disconnected (connection);
  services = bleio_connection_discover_remote_services (connection, NULL, 1, &error);
  assert_null (services);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
}

/* Signals of the right name with the wrong signature: dropped before
 * GDBus's object manager (which would raise a critical and read garbage)
 * sees them. */
static void
test_signals_wrong_signature (void **state)
{
  Hostile *h = *state;
  g_autoptr(BleioConnection) connection = hostile_connect (h);

  hostile_object_manager_signal (h, "InterfacesAdded",
                                 g_variant_new ("(os)", DEV "/service0078", "GattService1"));
  hostile_object_manager_signal (h, "InterfacesAdded", NULL);
  hostile_object_manager_signal (h, "InterfacesRemoved", g_variant_new ("(s)", DEV));
  hostile_object_manager_signal (h, "InterfacesRemoved", g_variant_new ("(oas)", DEV, NULL));
  hostile_signal (h, DEV, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                  g_variant_new ("(sas)", IFACE_DEVICE, NULL));
  hostile_signal (h, DEV, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                  g_variant_new ("(i)", 1));
  assert_link_fine (h, connection);
}

/* Someone other than org.bluez's owner sends PropertiesChanged
 * (Connected false, ServicesResolved false) and InterfacesRemoved for the
 * live device: GDBus only listens to the owner, so nothing changes. */
static void
test_signals_from_impostor (void **state)
{
  Hostile *h = *state;
  g_autoptr(BleioConnection) connection = hostile_connect (h);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) impostor = NULL;
  GVariantBuilder changed;
  const char *all[] = { IFACE_DEVICE, NULL };

  impostor = g_dbus_connection_new_for_address_sync (sim_fixture_get_address (h->fx),
                                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                     G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                     NULL, NULL, &error);
  assert_no_error (error);
  g_variant_builder_init (&changed, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&changed, "{sv}", "Connected", g_variant_new_boolean (FALSE));
  g_variant_builder_add (&changed, "{sv}", "ServicesResolved", g_variant_new_boolean (FALSE));
  assert_true (g_dbus_connection_emit_signal (impostor, NULL, DEV, "org.freedesktop.DBus.Properties",
                                              "PropertiesChanged",
                                              g_variant_new ("(sa{sv}as)", IFACE_DEVICE, &changed, NULL),
                                              &error));
  assert_no_error (error);
  assert_true (g_dbus_connection_emit_signal (impostor, NULL, "/", "org.freedesktop.DBus.ObjectManager",
                                              "InterfacesRemoved",
                                              g_variant_new ("(o^as)", DEV, all), &error));
  assert_no_error (error);
  assert_true (g_dbus_connection_flush_sync (impostor, NULL, &error));
  assert_no_error (error);
  assert_link_fine (h, connection);
  assert_true (g_dbus_connection_close_sync (impostor, NULL, &error));
}

/* Device1 properties that switch type mid-way on a live link: RSSI and
 * Paired as strings. The link stays as it was and is not paired. */
static void
test_device_properties_change_type (void **state)
{
  Hostile *h = *state;
  g_autoptr(BleioConnection) connection = hostile_connect (h);
  g_autoptr(GError) error = NULL;

  hostile_changed (h, DEV, IFACE_DEVICE, "RSSI", g_variant_new_string ("-40"));
  hostile_changed (h, DEV, IFACE_DEVICE, "Paired", g_variant_new_string ("yes"));
  assert_link_fine (h, connection);
  assert_false (bleio_connection_get_paired (connection, &error));
  assert_no_error (error);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    HOSTILE_TEST (test_properties_changed_unknown_paths),
    HOSTILE_TEST (test_interfaces_removed_unknown),
    HOSTILE_TEST (test_interfaces_added_twice),
    HOSTILE_TEST (test_device_added_again_disconnected),
    HOSTILE_TEST (test_signals_wrong_signature),
    HOSTILE_TEST (test_signals_from_impostor),
    HOSTILE_TEST (test_device_properties_change_type),
  };

  return hostile_run_tests (tests, G_N_ELEMENTS (tests), argc, argv);
}
