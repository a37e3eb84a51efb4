/* SPDX-License-Identifier: MIT */
/*
 * The adapter removed and added back (a USB dongle unplugged and plugged
 * in again): during a scan, and with links open (a notification buffer fed
 * on one, a read pending on the other). The simulator's AddAdapter gives
 * the re-added adapter the scenario's peripherals back, as the radio world
 * still holds them.
 *
 *   test-faults-adapter SCENARIO
 */
#include "faults.h"

static void
remove_adapter (Env *env)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = sim_fixture_call (env->fx, "RemoveAdapter",
                                      g_variant_new ("(s)", "hci0"), &error);

  assert_no_error (error);
  g_variant_unref (reply);
}

static gboolean
adapter_absent (gpointer user_data)
{
  return !bleio_adapter_is_present (user_data);
}

/* hci0 is back, with the scenario's peripherals in range. */
static void
add_adapter_back (Env *env)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = sim_fixture_call (env->fx, "AddAdapter",
                                      g_variant_new ("(ss)", "hci0", "00:AA:01:00:00:00"),
                                      &error);

  assert_no_error (error);
  g_variant_unref (reply);
}

static void
test_fault_adapter_removed_during_scan (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(BleioScanResults) again = NULL;

  results = bleio_adapter_start_scan (env->adapter, NULL, 4096, FALSE, 0, 0.1, 0.1,
                                      -127, TRUE, &error);
  assert_no_error (error);
  remove_adapter (env);
  assert_scan_ends (results, BLEIO_ERROR_NO_ADAPTER);
  assert_true (bleio_scan_results_is_done (results));
  assert_true (common_wait (adapter_absent, env->adapter, WAIT_MSEC));
  /* While it is away: NO_ADAPTER, at once. */
  again = bleio_adapter_start_scan (env->adapter, NULL, 512, FALSE, 0, 0.1, 0.1, -127,
                                    TRUE, &error);
  assert_null (again);
  assert_bleio_error (error, BLEIO_ERROR_NO_ADAPTER);
  g_clear_error (&error);

  add_adapter_back (env);
  /* the same adapter object works again */
  assert_fault_peer_recovered (env);
}

static gboolean
link_gone_reason (BleioDisconnectReason reason)
{
  return reason == BLEIO_DISCONNECT_REASON_ADAPTER_REMOVED ||
         reason == BLEIO_DISCONNECT_REASON_DEVICE_REMOVED ||
         reason == BLEIO_DISCONNECT_REASON_REMOTE;
}

static void
test_fault_adapter_removed_with_links (void **state)
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
  g_autoptr(GPtrArray) connections = NULL;
  g_autoptr(GBytes) first = NULL;
  Disconnected d_fast = { 0, };
  Disconnected d_slow = { 0, };
  Pending p = { 0, };
  static const guint8 payload[] = { 'a', 'b' };

  g_signal_connect (fast, "disconnected", G_CALLBACK (common_on_disconnected), &d_fast);
  g_signal_connect (slow, "disconnected", G_CALLBACK (common_on_disconnected), &d_slow);
  buffer = bleio_characteristic_buffer_new (stream, 1.0, 4096, &error);
  assert_no_error (error);
  assert_true (sim_fixture_notify_burst (env->fx, FAULT_PATH "/service0010/char0011",
                                         payload, sizeof payload, 5000, &error));
  first = bleio_characteristic_buffer_read (buffer, 2, &error);
  assert_no_error (error);
  assert_int_equal (g_bytes_get_size (first), 2);
  assert_true (sim_fixture_reset_calls (env->fx, &error));
  bleio_characteristic_read_value_async (slow_char, NULL, pending_read_cb, &p);
  wait_calls (env, "ReadValue", 1);

  remove_adapter (env);

  assert_fired_once (&p);
  assert_null (p.result);
  assert_bleio_error (p.error, BLEIO_ERROR_CONNECTION);
  pending_clear (&p);
  assert_true (common_wait (common_disconnected_fired, &d_fast, WAIT_MSEC));
  assert_true (common_wait (common_disconnected_fired, &d_slow, WAIT_MSEC));
  /* The links drop (Connected false), then the devices go with their
   * adapter: whichever the library sees first names the reason. */
  assert_true (link_gone_reason (d_fast.reason));
  assert_true (link_gone_reason (d_slow.reason));
  common_assert_spent (fast);
  common_assert_spent (slow);
  drain_buffer_until_lost (buffer);
  assert_false (bleio_adapter_get_connected (env->adapter));
  connections = bleio_adapter_dup_connections (env->adapter);
  assert_int_equal (connections->len, 0);

  add_adapter_back (env);
  assert_fault_peer_recovered (env);
  assert_slow_peer_recovered (env);
  bleio_characteristic_buffer_deinit (buffer);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_fault_adapter_removed_during_scan, faults_setup,
                                     faults_teardown),
    cmocka_unit_test_setup_teardown (test_fault_adapter_removed_with_links, faults_setup,
                                     faults_teardown),
  };

  faults_init (argc, argv);
  return cmocka_run_group_tests_name ("faults-adapter", tests, NULL, NULL);
}
