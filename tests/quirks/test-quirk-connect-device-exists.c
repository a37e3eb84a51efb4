/* SPDX-License-Identifier: MIT */
/* Quirk (not in DESIGN.md §3): bluetoothd refuses Adapter1.ConnectDevice
 * with org.bluez.Error.AlreadyExists whenever it holds an object for the
 * address, connected or not (5.66's src/adapter.c looks the device up and
 * stops there). The library asks ConnectDevice only when its own view has
 * no object for the peer, so the refusal means that view is a moment
 * behind bluetoothd: a scan or another program made the object and its
 * InterfacesAdded is still on its way. The library took the refusal for
 * "connected already" and waited for a link nobody was making until the
 * caller's timeout (seen as test-connection failing under valgrind, where
 * the signal comes late). Now it connects the object once its view shows it.
 *
 * Reproduced without a race: the simulator refuses the next ConnectDevice
 * for an address it does not know yet, and only after the library has had
 * that answer does another program's discovery make the object. */
#include "central.h"

typedef CommonGroup Group;

static gboolean
connect_device_refused (gpointer user_data)
{
  Group *g = user_data;

  return sim_fixture_count_calls (g->fx, "ConnectDevice") >= 1;
}

/* Another program's discovery on bluetoothd: the fixture's own bus
 * connection, not the library's. */
static void
other_program_discovers (Group      *g,
                         const char *method)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply =
    g_dbus_connection_call_sync (sim_fixture_get_connection (g->fx), "org.bluez", HCI0,
                                 "org.bluez.Adapter1", method, NULL, NULL,
                                 G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC, NULL, &error);

  assert_no_error (error);
  assert_non_null (reply);
}

static void
test_quirk_connect_device_already_exists (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAddress) address = common_address ("00:CC:00:00:22:01");
  g_autofree char *path = NULL;
  CommonConnect s = { 0, };

  assert_true (sim_fixture_reset_calls (g->fx, &error));
  assert_true (sim_fixture_fail_next (g->fx, "ConnectDevice", "org.bluez.Error.AlreadyExists",
                                      "Already Exists", 1, &error));
  bleio_adapter_connect_async (g->adapter, address, 5, NULL, common_connected, &s);
  assert_true (common_wait (connect_device_refused, g, WAIT_MSEC));
  /* Let the refusal reach the library before bluetoothd's object shows. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  assert_false (s.done);
  path = common_add (g->fx, "{\"address\": \"00:CC:00:00:22:01\", \"name\": \"Known\", "
                            "\"advertising_interval_ms\": 100}");
  other_program_discovers (g, "StartDiscovery");
  assert_true (common_wait (common_connect_done, &s, WAIT_MSEC));
  assert_no_error (s.error);
  assert_non_null (s.connection);
  assert_true (bleio_connection_get_connected (s.connection));
  assert_true (common_sim_bool (g->fx, path, "org.bluez.Device1", "Connected"));
  /* The refused ConnectDevice, then Connect on the object bluetoothd has. */
  assert_int_equal (sim_fixture_count_calls (g->fx, "ConnectDevice"), 1);
  assert_int_equal (sim_fixture_count_calls (g->fx, "Connect"), 1);
  other_program_discovers (g, "StopDiscovery");
  common_disconnect_remove (g, g_steal_pointer (&s.connection), g_steal_pointer (&path));
}

/* The object never shows (bluetoothd dropped it meanwhile): the caller's
 * bound holds, and the error says it was a timeout. */
static void
test_quirk_connect_device_already_exists_never_shown (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAddress) address = common_address ("00:CC:00:00:22:02");
  CommonConnect s = { 0, };

  assert_true (sim_fixture_fail_next (g->fx, "ConnectDevice", "org.bluez.Error.AlreadyExists",
                                      "Already Exists", 1, &error));
  bleio_adapter_connect_async (g->adapter, address, 1, NULL, common_connected, &s);
  assert_true (common_wait (common_connect_done, &s, WAIT_MSEC));
  assert_null (s.connection);
  assert_bleio_error (s.error, BLEIO_ERROR_TIMEOUT);
  g_clear_error (&s.error);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_quirk_connect_device_already_exists),
    cmocka_unit_test (test_quirk_connect_device_already_exists_never_shown),
  };

  return cmocka_run_group_tests (tests, common_group_setup, common_group_teardown);
}
