/* SPDX-License-Identifier: MIT */
/*
 * The BlueZ quirks of DESIGN.md section 3 that concern the central role's
 * first part, each reproduced through the simulator's control interface:
 *  1. ServicesResolved already true / never coming (flipping before the
 *     objects: test-quirk-01-resolved-early.c);
 *  2. a second StartDiscovery answered InProgress (shared discovery);
 *  3. le-connection-abort-by-local and "Software caused connection abort"
 *     retried once;
 *  4. temporary devices vanishing after discovery stops;
 *  5. bluetoothd restarting.
 */
#include "central.h"

typedef CommonGroup Group;

static void
test_quirk_services_resolved_already_true (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAddress) address = common_address ("00:BB:00:00:04:01");
  g_autofree char *path = common_add (g->fx,
    "{\"address\": \"00:BB:00:00:04:01\", \"name\": \"Resolved\", " TWO_SERVICES "}");
  g_autoptr(BleioConnection) connection = bleio_adapter_connect (g->adapter, address, 10, NULL, &error);
  g_autoptr(GPtrArray) services = NULL;

  assert_no_error (error);
  assert_true (sim_fixture_wait_property (g->fx, path, "org.bluez.Device1", "ServicesResolved",
                                          g_variant_new_boolean (TRUE), WAIT_MSEC));
  /* No change will come: the property is already true. */
  services = bleio_connection_discover_remote_services (connection, NULL, 5, &error);
  assert_no_error (error);
  assert_int_equal (services->len, 2);
  assert_int_equal (bleio_uuid_get_size (bleio_service_get_uuid (g_ptr_array_index (services, 0))), 16);
  assert_int_equal (bleio_uuid_get_uuid16 (bleio_service_get_uuid (g_ptr_array_index (services, 0))), 0x180f);
  assert_int_equal (bleio_uuid_get_size (bleio_service_get_uuid (g_ptr_array_index (services, 1))), 128);
  assert_true (bleio_connection_disconnect (connection, &error));
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
}

static void
test_quirk_services_resolved_never (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  g_autoptr(BleioConnection) connection =
    common_link_made_elsewhere (g->fx, g->adapter, "00:BB:00:00:04:03",
                         "\"connect\": {\"resolve_delay_ms\": 600000}, " TWO_SERVICES, &path);
  g_autoptr(GPtrArray) services = NULL;

  services = bleio_connection_discover_remote_services (connection, NULL, 1.0, &error);
  assert_null (services);
  assert_bleio_error (error, BLEIO_ERROR_TIMEOUT);
  g_clear_error (&error);
  /* The connection stays usable. */
  assert_true (bleio_connection_get_connected (connection));
  assert_true (bleio_connection_disconnect (connection, &error));
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
  g_free (path);
}

static void
retry_once (Group      *g,
            const char *address,
            const char *reason)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = g_strdup_printf ("{\"address\": \"%s\", \"name\": \"R%s\"}",
                                           address, address + 12);
  g_autofree char *path = common_add (g->fx, json);
  g_autoptr(BleioAddress) bleio_address = common_address (address);
  g_autoptr(BleioConnection) connection = NULL;
  g_autofree char *found = NULL;

  /* Let BlueZ know the device so that Device1.Connect is the call used. */
  {
    g_autofree char *name = g_strdup_printf ("R%s", address + 12);

    found = sim_fixture_find_device (g->fx, HCI0, name, &error);
    assert_no_error (error);
  }

  /* One failure: retried, connected. */
  assert_true (sim_fixture_reset_calls (g->fx, &error));
  assert_true (sim_fixture_fail_next (g->fx, "Connect", "org.bluez.Error.Failed", reason, 1, &error));
  connection = bleio_adapter_connect (g->adapter, bleio_address, 10, NULL, &error);
  assert_no_error (error);
  assert_true (bleio_connection_get_connected (connection));
  assert_int_equal (sim_fixture_count_calls (g->fx, "Connect"), 2);
  assert_true (bleio_connection_disconnect (connection, &error));
  g_clear_object (&connection);

  /* Two failures: one retry only, then the error. */
  assert_true (sim_fixture_reset_calls (g->fx, &error));
  assert_true (sim_fixture_fail_next (g->fx, "Connect", "org.bluez.Error.Failed", reason, 2, &error));
  connection = bleio_adapter_connect (g->adapter, bleio_address, 10, NULL, &error);
  assert_null (connection);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  assert_non_null (strstr (error->message, reason));
  g_clear_error (&error);
  assert_int_equal (sim_fixture_count_calls (g->fx, "Connect"), 2);
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
}

static void
test_quirk_le_connection_abort_by_local_retried (void **state)
{
  retry_once (*state, "00:BB:00:00:04:04", "le-connection-abort-by-local");
}

static void
test_quirk_software_caused_connection_abort_retried (void **state)
{
  retry_once (*state, "00:BB:00:00:04:05", "Software caused connection abort");
}

static void
test_quirk_start_discovery_in_progress_shared (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;

  assert_true (sim_fixture_fail_next (g->fx, "StartDiscovery", "org.bluez.Error.InProgress",
                                      "Operation already in progress", 1, &error));
  results = bleio_adapter_start_scan (g->adapter, NULL, 1024, FALSE, 0, 0.1, 0.1, -127, TRUE, &error);
  assert_no_error (error);
  assert_non_null (results);
  assert_false (bleio_scan_results_is_done (results));
  assert_true (bleio_adapter_stop_scan (g->adapter, &error));
  assert_no_error (error);
}

typedef struct {
  SimFixture *fx;
  const char *path;
} GoneWait;

static gboolean
device_gone (gpointer user_data)
{
  GoneWait *w = user_data;
  g_autoptr(GVariant) address = sim_fixture_get_property (w->fx, w->path, "org.bluez.Device1", "Address");

  return address == NULL;
}

static void
test_quirk_temporary_device_vanishes (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *path = common_add (g->fx,
    "{\"address\": \"00:BB:00:00:04:06\", \"name\": \"Temporary\", \"advertising_interval_ms\": 100}");
  g_autoptr(BleioAddress) address = common_address ("00:BB:00:00:04:06");
  g_autoptr(BleioAddress) seen = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  GoneWait w = { g->fx, path };

  reply = sim_fixture_call (g->fx, "SetTemporaryTimeout", g_variant_new ("(u)", 300), &error);
  assert_no_error (error);
  seen = common_scan_for (g->adapter, "Temporary", WAIT_MSEC);
  assert_non_null (seen);
  /* Discovery stopped: the unpaired device object goes away. */
  assert_true (common_wait (device_gone, &w, WAIT_MSEC));
  connection = bleio_adapter_connect (g->adapter, address, 10, NULL, &error);
  assert_no_error (error);
  assert_true (bleio_connection_get_connected (connection));
  assert_true (bleio_connection_disconnect (connection, &error));
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call (g->fx, "SetTemporaryTimeout", g_variant_new ("(u)", 30000), &error);
  assert_no_error (error);
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
}

typedef struct {
  BleioAdapter *adapter;
  BleioAddress *address;
  BleioConnection *connection;
} ReconnectWait;

static gboolean
reconnects (gpointer user_data)
{
  ReconnectWait *w = user_data;
  g_autoptr(GError) error = NULL;

  w->connection = bleio_adapter_connect (w->adapter, w->address, 5, NULL, &error);
  return w->connection != NULL;
}

static void
test_quirk_bluetoothd_restart_mid_connection (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  /* A peripheral of the scenario itself, which outlives the restart. */
  g_autoptr(BleioAddress) address = common_scan_for (g->adapter, DEMO_NAME, WAIT_MSEC);
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioConnection) during = NULL;
  g_autoptr(GPtrArray) services = NULL;
  Disconnected d = { 0, };
  ReconnectWait rw = { g->adapter, NULL, NULL };

  assert_non_null (address);
  rw.address = address;
  connection = bleio_adapter_connect (g->adapter, address, 10, NULL, &error);
  assert_no_error (error);
  g_signal_connect (connection, "disconnected", G_CALLBACK (common_on_disconnected), &d);
  assert_true (sim_fixture_restart (g->fx, 2000, &error));
  assert_no_error (error);
  assert_true (common_wait (common_disconnected_fired, &d, WAIT_MSEC));
  assert_int_equal (d.reason, BLEIO_DISCONNECT_REASON_BLUEZ_UNAVAILABLE);
  /* Handles fail with CONNECTION; new calls say bluetoothd is gone. */
  common_assert_spent (connection);
  during = bleio_adapter_connect (g->adapter, address, 1, NULL, &error);
  assert_null (during);
  assert_bleio_error (error, BLEIO_ERROR_BLUEZ_UNAVAILABLE);
  g_clear_error (&error);

  /* bluetoothd is back: the same adapter object connects again. */
  assert_true (common_wait (reconnects, &rw, 3 * WAIT_MSEC));
  assert_ptr_not_equal (rw.connection, connection);
  services = bleio_connection_discover_remote_services (rw.connection, NULL, 10, &error);
  assert_no_error (error);
  assert_true (services->len > 0);
  /* The new bluetoothd knows nothing of our agent: pairing registers it
   * again. */
  assert_true (bleio_connection_pair (rw.connection, TRUE, &error));
  assert_no_error (error);
  assert_true (bleio_connection_get_paired (rw.connection, &error));
  assert_no_error (error);
  assert_true (bleio_adapter_erase_bonding (g->adapter, &error));
  assert_no_error (error);
  assert_true (bleio_connection_disconnect (rw.connection, &error));
  g_object_unref (rw.connection);
  g_signal_handlers_disconnect_by_data (connection, &d);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_quirk_services_resolved_already_true),
    cmocka_unit_test (test_quirk_services_resolved_never),
    cmocka_unit_test (test_quirk_le_connection_abort_by_local_retried),
    cmocka_unit_test (test_quirk_software_caused_connection_abort_retried),
    cmocka_unit_test (test_quirk_start_discovery_in_progress_shared),
    cmocka_unit_test (test_quirk_temporary_device_vanishes),
    cmocka_unit_test (test_quirk_bluetoothd_restart_mid_connection),
  };

  return cmocka_run_group_tests (tests, common_group_setup, common_group_teardown);
}
