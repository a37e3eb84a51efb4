/* SPDX-License-Identifier: MIT */
/*
 * The bus going away: the private dbus-daemon under the library is killed
 * (SIGKILL) while a scan runs, two links are up, a notification buffer is
 * fed and a read is pending. Everything in flight reports the loss once,
 * nothing hangs, later calls on the old objects fail at once, and the
 * library works on a new bus in the same process: "working again" after a
 * bus loss means new BleioAdapter objects on the new bus connection (a
 * GDBusConnection never reconnects).
 *
 *   test-faults-bus SCENARIO
 */
#include "faults.h"

#include <signal.h>

static void
kill_bus (SimFixture *fx)
{
  GPid daemon = sim_bus_get_daemon_pid (sim_fixture_get_bus (fx));

  assert_true (daemon > 0);
  assert_int_equal (kill (daemon, SIGKILL), 0);
}

static gboolean
connection_closed (gpointer user_data)
{
  return g_dbus_connection_is_closed (user_data);
}

/* A new bus and simulator, as after the system's dbus-daemon restarted:
 * a new adapter object on it scans, connects and reads. */
static void
assert_works_on_new_bus (BleioAdapter **old_adapter)
{
  Env fresh = { 0, };
  void *state = NULL;

  assert_int_equal (faults_setup (&state), 0);
  fresh = *(Env *) state;
  /* a different bus connection: a different adapter object */
  assert_true (fresh.adapter != *old_adapter);
  assert_fault_peer_recovered (&fresh);
  assert_int_equal (faults_teardown (&state), 0);
}

static void
test_fault_bus_lost (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) fast_services = NULL;
  g_autoptr(GPtrArray) slow_services = NULL;
  g_autoptr(BleioConnection) fast = connect_peer (env, FAULT_PEER, &fast_services);
  g_autoptr(BleioConnection) slow = connect_peer (env, SLOW_PEER, &slow_services);
  g_autoptr(BleioCharacteristic) stream = find_char (fast_services, 0xfa01);
  g_autoptr(BleioCharacteristic) slow_char = find_char (slow_services, 0xfb03);
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(BleioScanResults) again = NULL;
  g_autoptr(BleioConnection) none = NULL;
  g_autoptr(BleioAddress) address = common_address (FAULT_ADDRESS);
  g_autoptr(GBytes) value = NULL;
  Disconnected d_fast = { 0, };
  Disconnected d_slow = { 0, };
  Pending p = { 0, };
  Pending pc = { 0, };

  g_signal_connect (fast, "disconnected", G_CALLBACK (common_on_disconnected), &d_fast);
  g_signal_connect (slow, "disconnected", G_CALLBACK (common_on_disconnected), &d_slow);
  buffer = bleio_characteristic_buffer_new (stream, 1.0, 4096, &error);
  assert_no_error (error);
  results = bleio_adapter_start_scan (env->adapter, NULL, 4096, FALSE, 0, 0.1, 0.1,
                                      -127, TRUE, &error);
  assert_no_error (error);
  assert_true (sim_fixture_reset_calls (env->fx, &error));
  bleio_characteristic_read_value_async (slow_char, NULL, pending_read_cb, &p);
  wait_calls (env, "ReadValue", 1);

  kill_bus (env->fx);
  assert_true (common_wait (connection_closed, sim_fixture_get_connection (env->fx), WAIT_MSEC));

  /* the pending read: once, BLUEZ_UNAVAILABLE */
  assert_fired_once (&p);
  assert_null (p.result);
  assert_bleio_error (p.error, BLEIO_ERROR_BLUEZ_UNAVAILABLE);
  pending_clear (&p);
  /* the links: spent, the reason said once */
  assert_true (common_wait (common_disconnected_fired, &d_fast, WAIT_MSEC));
  assert_true (common_wait (common_disconnected_fired, &d_slow, WAIT_MSEC));
  assert_int_equal (d_fast.reason, BLEIO_DISCONNECT_REASON_BLUEZ_UNAVAILABLE);
  assert_int_equal (d_slow.reason, BLEIO_DISCONNECT_REASON_BLUEZ_UNAVAILABLE);
  common_assert_spent (fast);
  common_assert_spent (slow);
  /* the scan: ends with BLUEZ_UNAVAILABLE after what it buffered */
  assert_scan_ends (results, BLEIO_ERROR_BLUEZ_UNAVAILABLE);
  /* the buffer: CONNECTION */
  drain_buffer_until_lost (buffer);
  /* the old adapter: gone, and every call fails at once */
  assert_false (bleio_adapter_is_present (env->adapter));
  again = bleio_adapter_start_scan (env->adapter, NULL, 512, FALSE, 0, 0.1, 0.1, -127,
                                    TRUE, &error);
  assert_null (again);
  assert_bleio_error (error, BLEIO_ERROR_BLUEZ_UNAVAILABLE);
  /* the message says the bus went, not that bluetoothd is not running */
  assert_non_null (strstr (error->message, "new connection"));
  g_clear_error (&error);
  none = bleio_adapter_connect (env->adapter, address, 5, NULL, &error);
  assert_null (none);
  assert_bleio_error (error, BLEIO_ERROR_BLUEZ_UNAVAILABLE);
  g_clear_error (&error);
  bleio_adapter_connect_async (env->adapter, address, 5, NULL, pending_connect_cb, &pc);
  assert_fired_once (&pc);
  assert_bleio_error (pc.error, BLEIO_ERROR_BLUEZ_UNAVAILABLE);
  pending_clear (&pc);
  value = bleio_characteristic_read_value (slow_char, &error);
  assert_null (value);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&error);
  assert_false (bleio_adapter_set_enabled (env->adapter, TRUE, &error));
  assert_bleio_error (error, BLEIO_ERROR_BLUEZ_UNAVAILABLE);
  g_clear_error (&error);

  assert_works_on_new_bus (&env->adapter);
  bleio_characteristic_buffer_deinit (buffer);
}

/* The system bus (bleio_adapter_get_default(): g_bus_get()) going away.
 * GLib makes a process exit when its shared system bus connection closes
 * unless exit-on-close is turned off, which libbleio leaves to the
 * application (see docs): this test turns it off, as a long-running
 * gateway does. A closed shared connection is dropped by GLib, so the next
 * bleio_adapter_get_default() reaches the new bus. */
static void
test_fault_system_bus_lost (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) system = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(BleioAdapter) after = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(SimFixture) fx2 = NULL;

  assert_no_error (error);
  g_dbus_connection_set_exit_on_close (system, FALSE);
  adapter = bleio_adapter_get_default (NULL, &error);
  assert_no_error (error);
  results = bleio_adapter_start_scan (adapter, NULL, 4096, FALSE, 0, 0.1, 0.1, -127, TRUE,
                                      &error);
  assert_no_error (error);

  kill_bus (env->fx);
  assert_true (common_wait (connection_closed, system, WAIT_MSEC));
  assert_scan_ends (results, BLEIO_ERROR_BLUEZ_UNAVAILABLE);
  g_clear_object (&results);

  /* the system's bus is back (a new one, at the address the environment
   * names) */
  fx2 = sim_fixture_new (faults_scenario, &error);
  assert_no_error (error);
  after = bleio_adapter_get_default (NULL, &error);
  assert_no_error (error);
  assert_non_null (after);
  assert_true (after != adapter);
  results = bleio_adapter_start_scan (after, NULL, 4096, FALSE, 0, 0.1, 0.1, -127, TRUE,
                                      &error);
  assert_no_error (error);
  assert_true (bleio_adapter_stop_scan (after, &error));
  assert_no_error (error);
  g_clear_object (&results);
  g_clear_object (&after);
  g_clear_object (&adapter);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_fault_bus_lost, faults_setup, faults_teardown),
    cmocka_unit_test_setup_teardown (test_fault_system_bus_lost, faults_setup, faults_teardown),
  };

  faults_init (argc, argv);
  return cmocka_run_group_tests_name ("faults-bus", tests, NULL, NULL);
}
