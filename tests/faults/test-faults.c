/* SPDX-License-Identifier: MIT */
/*
 * The fault matrix: bluetoothd restarted (politely, and by SIGKILL) and the
 * peer dropping the link, at each step of a central's life: scan, connect,
 * pair, service discovery, read, write and notifications (both
 * CharacteristicBuffer paths and PacketBuffer).
 *
 *   test-faults SCENARIO restart|crash|drop link|gatt
 *
 * Every case checks the error the operation in flight reports (see
 * tests/faults/README.md for the table), that an async callback runs
 * exactly once and a blocking call returns, that the spent connection says
 * so, that nothing keeps the adapter alive afterwards, and that the
 * library works again in the same process.
 */
#include "faults-common.h"

/* ---- scan --------------------------------------------------------------- */

static void
test_fault_during_scan (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  Disconnected d = { 0, };
  gboolean ended = FALSE;

  if (fault_kind == FAULT_DROP)
    {
      /* A gateway scans while it holds a link; the peer vanishes. */
      connection = connect_peer (env, FAULT_PEER, NULL);
      g_signal_connect (connection, "disconnected", G_CALLBACK (common_on_disconnected), &d);
    }
  results = bleio_adapter_start_scan (env->adapter, NULL, 4096, FALSE, 0, 0.1, 0.1,
                                      -127, TRUE, &error);
  assert_no_error (error);
  inject (env, FAULT_PATH);

  if (fault_kind == FAULT_DROP)
    {
      gboolean seen = FALSE;
      gint64 end = g_get_monotonic_time () + (gint64) WAIT_MSEC * 1000;

      assert_true (common_wait (common_disconnected_fired, &d, WAIT_MSEC));
      assert_int_equal (d.reason, BLEIO_DISCONNECT_REASON_REMOTE);
      common_assert_spent (connection);
      /* The scan goes on and still sees the peer advertising. */
      while (!seen && g_get_monotonic_time () < end)
        {
          g_autoptr(BleioScanEntry) e = bleio_scan_results_next (results, 0.2, &error);
          g_autofree char *name = NULL;

          if (e == NULL)
            {
              assert_bleio_error (error, BLEIO_ERROR_TIMEOUT);
              g_clear_error (&error);
              continue;
            }
          name = bleio_scan_entry_dup_complete_name (e);
          seen = g_strcmp0 (name, FAULT_PEER) == 0;
        }
      assert_true (seen);
      assert_false (bleio_scan_results_is_done (results));
      assert_true (bleio_adapter_stop_scan (env->adapter, &error));
      assert_no_error (error);
    }
  else
    {
      /* Entries buffered before the fault come first, then the end. */
      for (guint i = 0; i < 100000 && !ended; i++)
        {
          g_autoptr(BleioScanEntry) e = bleio_scan_results_next (results, WAIT_MSEC / 1000.0,
                                                                 &error);

          ended = e == NULL;
        }
      assert_true (ended);
      assert_bleio_error (error, BLEIO_ERROR_BLUEZ_UNAVAILABLE);
      assert_true (bleio_scan_results_is_done (results));
      g_clear_error (&error);
      /* Stopping an ended scan is not an error. */
      bleio_adapter_stop_scan (env->adapter, NULL);
    }
  assert_fault_peer_recovered (env);
}

/* ---- connect ------------------------------------------------------------ */

static void
connect_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Pending *p = user_data;

  p->fired++;
  p->result = bleio_adapter_connect_finish (BLEIO_ADAPTER (source), result, &p->error);
  p->free_result = g_object_unref;
}

static gboolean
no_connections (gpointer user_data)
{
  g_autoptr(GPtrArray) connections = bleio_adapter_dup_connections (user_data);

  return connections->len == 0;
}

static void
test_fault_during_connect (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAddress) address = scan_until_found (env, SLOW_PEER);
  Pending p = { 0, };

  assert_true (sim_fixture_reset_calls (env->fx, &error));
  bleio_adapter_connect_async (env->adapter, address, 10, NULL, connect_cb, &p);
  wait_calls (env, "Connect", 1);
  inject (env, SLOW_PATH);
  if (fault_kind == FAULT_DROP)
    {
      /* A link lost while it was being made is le-connection-abort-by-local,
       * which the library retries once: drop the retry too. */
      wait_calls (env, "Connect", 2);
      inject (env, SLOW_PATH);
    }
  assert_fired_once (&p);
  assert_null (p.result);
  assert_bleio_error (p.error, expected_error ());
  assert_true (common_wait (no_connections, env->adapter, WAIT_MSEC));
  pending_clear (&p);
  assert_slow_peer_recovered (env);
}

typedef struct {
  BleioAdapter *adapter;
  BleioAddress *address;
} ConnectArgs;

static gpointer
connect_blocking (gpointer   data,
                  GError   **error)
{
  ConnectArgs *args = data;

  return bleio_adapter_connect (args->adapter, args->address, 10, NULL, error);
}

/* The blocking twin, on a thread of its own. */
static void
test_fault_during_connect_blocking (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAddress) address = scan_until_found (env, SLOW_PEER);
  ConnectArgs args = { env->adapter, address };
  Blocker b;

  assert_true (sim_fixture_reset_calls (env->fx, &error));
  blocker_start (&b, connect_blocking, &args);
  wait_calls (env, "Connect", 1);
  inject (env, SLOW_PATH);
  if (fault_kind == FAULT_DROP)
    {
      wait_calls (env, "Connect", 2);
      inject (env, SLOW_PATH);
    }
  blocker_join (&b, 2 * WAIT_MSEC);
  assert_null (b.result);
  assert_bleio_error (b.error, expected_error ());
  g_clear_error (&b.error);
  assert_true (common_wait (no_connections, env->adapter, WAIT_MSEC));
  assert_slow_peer_recovered (env);
}

/* ---- pair --------------------------------------------------------------- */

static void
pair_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Pending *p = user_data;

  p->fired++;
  p->ok = bleio_connection_pair_finish (BLEIO_CONNECTION (source), result, &p->error);
}

static void
test_fault_during_pair (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioConnection) connection = connect_peer (env, FAULT_PEER, NULL);
  Disconnected d = { 0, };
  Pending p = { 0, };

  g_signal_connect (connection, "disconnected", G_CALLBACK (common_on_disconnected), &d);
  assert_true (sim_fixture_reset_calls (env->fx, &error));
  bleio_connection_pair_async (connection, TRUE, NULL, pair_cb, &p);
  wait_calls (env, "Pair", 1);
  inject (env, FAULT_PATH);
  assert_fired_once (&p);
  assert_false (p.ok);
  assert_bleio_error (p.error, expected_error ());
  assert_true (common_wait (common_disconnected_fired, &d, WAIT_MSEC));
  assert_int_equal (d.reason, expected_reason ());
  common_assert_spent (connection);
  pending_clear (&p);
  assert_fault_peer_recovered (env);
}

static gpointer
pair_blocking (gpointer   data,
               GError   **error)
{
  return bleio_connection_pair (data, TRUE, error) ? data : NULL;
}

static void
test_fault_during_pair_blocking (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioConnection) connection = connect_peer (env, FAULT_PEER, NULL);
  Blocker b;

  assert_true (sim_fixture_reset_calls (env->fx, &error));
  blocker_start (&b, pair_blocking, connection);
  wait_calls (env, "Pair", 1);
  inject (env, FAULT_PATH);
  blocker_join (&b, 2 * WAIT_MSEC);
  assert_null (b.result);
  assert_bleio_error (b.error, expected_error ());
  g_clear_error (&b.error);
  assert_true (common_wait (common_not_connected, connection, WAIT_MSEC));
  common_assert_spent (connection);
  assert_fault_peer_recovered (env);
}

/* ---- service discovery (blocking, on a thread of its own) --------------- */

static gpointer
discover_blocking (gpointer   data,
                   GError   **error)
{
  return bleio_connection_discover_remote_services (data, NULL, 20, error);
}

static void
test_fault_during_discovery (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAddress) address = scan_until_found (env, SLOW_PEER);
  g_autoptr(BleioConnection) connection = NULL;
  Blocker b;

  /* SlowPeer resolves its services 700 ms after the link is up: the
   * connect returns first, the discovery waits, the fault hits. */
  connection = bleio_adapter_connect (env->adapter, address, 10, NULL, &error);
  assert_no_error (error);
  blocker_start (&b, discover_blocking, connection);
  common_wait (never, NULL, 200);
  assert_false (blocker_returned (&b));
  inject (env, SLOW_PATH);
  blocker_join (&b, 2 * WAIT_MSEC);
  assert_null (b.result);
  assert_bleio_error (b.error, expected_error ());
  g_clear_error (&b.error);
  assert_true (common_wait (common_not_connected, connection, WAIT_MSEC));
  common_assert_spent (connection);
  assert_slow_peer_recovered (env);
}

/* ---- read (blocking, on a thread of its own) ---------------------------- */

static gpointer
read_blocking (gpointer   data,
               GError   **error)
{
  return bleio_characteristic_read_value (data, error);
}

static void
test_fault_during_read (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioConnection) connection = connect_peer (env, SLOW_PEER, &services);
  g_autoptr(BleioCharacteristic) c = find_char (services, 0xfb03);
  g_autoptr(GBytes) value = NULL;
  Blocker b;

  assert_true (sim_fixture_reset_calls (env->fx, &error));
  /* SlowPeer answers reads after 700 ms. */
  blocker_start (&b, read_blocking, c);
  wait_calls (env, "ReadValue", 1);
  inject (env, SLOW_PATH);
  blocker_join (&b, 2 * WAIT_MSEC);
  assert_null (b.result);
  assert_bleio_error (b.error, expected_error ());
  g_clear_error (&b.error);
  assert_true (common_wait (common_not_connected, connection, WAIT_MSEC));
  common_assert_spent (connection);
  /* The characteristic of the spent link fails at once. */
  value = bleio_characteristic_read_value (c, &error);
  assert_null (value);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&error);
  assert_slow_peer_recovered (env);
}

/* ---- write (async) ------------------------------------------------------ */

static void
write_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Pending *p = user_data;

  p->fired++;
  p->ok = bleio_characteristic_write_value_finish (BLEIO_CHARACTERISTIC (source), result,
                                                   &p->error);
}

static void
test_fault_during_write (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioConnection) connection = connect_peer (env, SLOW_PEER, &services);
  g_autoptr(BleioCharacteristic) c = find_char (services, 0xfb03);
  /* the value it already has, so that the recovery read knows what to expect
   * whether or not the write landed */
  g_autoptr(GBytes) value = g_bytes_new_static (fb03_value, sizeof fb03_value);
  Disconnected d = { 0, };
  Pending p = { 0, };

  g_signal_connect (connection, "disconnected", G_CALLBACK (common_on_disconnected), &d);
  assert_true (sim_fixture_reset_calls (env->fx, &error));
  bleio_characteristic_write_value_async (c, value, NULL, write_cb, &p);
  wait_calls (env, "WriteValue", 1);
  inject (env, SLOW_PATH);
  assert_fired_once (&p);
  assert_false (p.ok);
  assert_bleio_error (p.error, expected_error ());
  assert_true (common_wait (common_disconnected_fired, &d, WAIT_MSEC));
  assert_int_equal (d.reason, expected_reason ());
  common_assert_spent (connection);
  pending_clear (&p);
  assert_slow_peer_recovered (env);
}

static gpointer
write_blocking (gpointer   data,
                GError   **error)
{
  g_autoptr(GBytes) value = g_bytes_new_static (fb03_value, sizeof fb03_value);

  return bleio_characteristic_write_value (data, value, error) ? data : NULL;
}

static void
test_fault_during_write_blocking (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioConnection) connection = connect_peer (env, SLOW_PEER, &services);
  g_autoptr(BleioCharacteristic) c = find_char (services, 0xfb03);
  Blocker b;

  assert_true (sim_fixture_reset_calls (env->fx, &error));
  blocker_start (&b, write_blocking, c);
  wait_calls (env, "WriteValue", 1);
  inject (env, SLOW_PATH);
  blocker_join (&b, 2 * WAIT_MSEC);
  assert_null (b.result);
  assert_bleio_error (b.error, expected_error ());
  g_clear_error (&b.error);
  assert_true (common_wait (common_not_connected, connection, WAIT_MSEC));
  common_assert_spent (connection);
  assert_slow_peer_recovered (env);
}

/* ---- notifications ------------------------------------------------------ */

static void
burst (Env        *env,
       const char *char_path,
       guint       count)
{
  static const guint8 payload[] = { 'a', 'b' };
  g_autoptr(GError) error = NULL;

  assert_true (sim_fixture_notify_burst (env->fx, char_path, payload, sizeof payload,
                                         count, &error));
  assert_no_error (error);
}

/* A buffer never resubscribes (its connection is spent): a new one on a
 * new connection gets the peer's notifications again. */
static void
assert_new_buffer_works (Env        *env,
                         guint16     uuid16,
                         const char *char_path,
                         gboolean    acquired)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioConnection) connection = connect_peer (env, FAULT_PEER, &services);
  g_autoptr(BleioCharacteristic) c = find_char (services, uuid16);
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GBytes) bytes = NULL;

  if (!acquired)
    {
      assert_true (bleio_characteristic_set_cccd (c, TRUE, FALSE, &error));
      assert_no_error (error);
    }
  buffer = bleio_characteristic_buffer_new (c, WAIT_MSEC / 1000.0, 64, &error);
  assert_no_error (error);
  burst (env, char_path, 1);
  bytes = bleio_characteristic_buffer_read (buffer, 2, &error);
  assert_no_error (error);
  assert_int_equal (g_bytes_get_size (bytes), 2);
  assert_memory_equal (g_bytes_get_data (bytes, NULL), "ab", 2);
  bleio_characteristic_buffer_deinit (buffer);
  assert_true (bleio_connection_disconnect (connection, &error));
  assert_no_error (error);
}

static void
notify_buffer_case (void       **state,
                    guint16      uuid16,
                    const char  *char_path,
                    gboolean     acquired)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioConnection) connection = connect_peer (env, FAULT_PEER, &services);
  g_autoptr(BleioCharacteristic) c = find_char (services, uuid16);
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GBytes) first = NULL;
  gpointer weak;

  if (!acquired)
    {
      /* The Value-signal path: the application subscribes, as with _bleio. */
      assert_true (bleio_characteristic_set_cccd (c, TRUE, FALSE, &error));
      assert_no_error (error);
    }
  buffer = bleio_characteristic_buffer_new (c, 1.0, 4096, &error);
  assert_no_error (error);
  weak = buffer;
  g_object_add_weak_pointer (G_OBJECT (buffer), &weak);
  assert_int_equal (bleio_characteristic_buffer_get_notify_acquired (buffer), acquired);
  /* Streaming: the peer sends as fast as it can; the fault hits mid-way.
   * (Fewer through Value signals: each is a D-Bus message the simulator
   * queues ahead of the fault injection call.) */
  burst (env, char_path, acquired ? 5000 : 300);
  first = bleio_characteristic_buffer_read (buffer, 2, &error);
  assert_no_error (error);
  assert_int_equal (g_bytes_get_size (first), 2);
  inject (env, FAULT_PATH);
  drain_buffer_until_lost (buffer);
  assert_false (bleio_characteristic_buffer_get_connected (buffer));
  assert_true (common_wait (common_not_connected, connection, WAIT_MSEC));
  /* The spent buffer keeps failing the same way, and goes with its last
   * reference. */
  g_clear_pointer (&first, g_bytes_unref);
  first = bleio_characteristic_buffer_read (buffer, 1, &error);
  assert_null (first);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&error);
  bleio_characteristic_buffer_deinit (buffer);
  g_clear_object (&buffer);
  assert_null (weak);
  assert_fault_peer_recovered (env);
  assert_new_buffer_works (env, uuid16, char_path, acquired);
}

static void
test_fault_during_notify_acquired (void **state)
{
  notify_buffer_case (state, 0xfa01, FAULT_PATH "/service0010/char0011", TRUE);
}

static void
test_fault_during_notify_value_signals (void **state)
{
  notify_buffer_case (state, 0xfa02, FAULT_PATH "/service0010/char0014", FALSE);
}

static void
test_fault_during_packet_buffer (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioConnection) connection = connect_peer (env, FAULT_PEER, &services);
  g_autoptr(BleioCharacteristic) c = find_char (services, 0xfa01);
  g_autoptr(BleioPacketBuffer) buffer = NULL;
  gboolean got = FALSE;
  gint64 end;

  buffer = bleio_packet_buffer_new (c, 64, 0, &error);
  assert_no_error (error);
  burst (env, FAULT_PATH "/service0010/char0011", 5000);
  end = g_get_monotonic_time () + (gint64) WAIT_MSEC * 1000;
  while (!got && g_get_monotonic_time () < end)
    {
      g_autoptr(GBytes) packet = bleio_packet_buffer_read_packet (buffer, &error);

      assert_no_error (error);
      got = packet != NULL;
      if (!got)
        g_usleep (5000);
    }
  assert_true (got);
  inject (env, FAULT_PATH);
  /* Packets buffered before the loss still come out, then the error. */
  end = g_get_monotonic_time () + (gint64) 2 * WAIT_MSEC * 1000;
  while (g_get_monotonic_time () < end)
    {
      g_autoptr(GBytes) packet = bleio_packet_buffer_read_packet (buffer, &error);

      if (error != NULL)
        break;
      if (packet == NULL)
        g_usleep (5000);
    }
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&error);
  assert_false (bleio_packet_buffer_get_connected (buffer));
  assert_true (common_wait (common_not_connected, connection, WAIT_MSEC));
  bleio_packet_buffer_deinit (buffer);
  assert_fault_peer_recovered (env);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest link_tests[] = {
    cmocka_unit_test_setup_teardown (test_fault_during_scan, faults_setup, faults_teardown),
    cmocka_unit_test_setup_teardown (test_fault_during_connect, faults_setup, faults_teardown),
    cmocka_unit_test_setup_teardown (test_fault_during_connect_blocking, faults_setup, faults_teardown),
    cmocka_unit_test_setup_teardown (test_fault_during_pair, faults_setup, faults_teardown),
    cmocka_unit_test_setup_teardown (test_fault_during_pair_blocking, faults_setup, faults_teardown),
    cmocka_unit_test_setup_teardown (test_fault_during_discovery, faults_setup, faults_teardown),
  };
  const struct CMUnitTest gatt_tests[] = {
    cmocka_unit_test_setup_teardown (test_fault_during_read, faults_setup, faults_teardown),
    cmocka_unit_test_setup_teardown (test_fault_during_write, faults_setup, faults_teardown),
    cmocka_unit_test_setup_teardown (test_fault_during_write_blocking, faults_setup, faults_teardown),
    cmocka_unit_test_setup_teardown (test_fault_during_notify_acquired, faults_setup, faults_teardown),
    cmocka_unit_test_setup_teardown (test_fault_during_notify_value_signals, faults_setup, faults_teardown),
    cmocka_unit_test_setup_teardown (test_fault_during_packet_buffer, faults_setup, faults_teardown),
  };
  g_autofree char *name = NULL;

  faults_init (argc, argv);
  if (argc > 3 && g_str_equal (argv[3], "gatt"))
    {
      name = g_strdup_printf ("faults-%s-gatt", fault_name (fault_kind));
      return _cmocka_run_group_tests (name, gatt_tests, G_N_ELEMENTS (gatt_tests), NULL, NULL);
    }
  name = g_strdup_printf ("faults-%s-link", fault_name (fault_kind));
  return _cmocka_run_group_tests (name, link_tests, G_N_ELEMENTS (link_tests), NULL, NULL);
}
