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
#include "faults.h"

/* ---- scan --------------------------------------------------------------- */

static void
test_fault_during_scan (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  Disconnected d = { 0, };

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
      assert_scan_ends (results, BLEIO_ERROR_BLUEZ_UNAVAILABLE);
      assert_true (bleio_scan_results_is_done (results));
      /* Stopping an ended scan is not an error. */
      bleio_adapter_stop_scan (env->adapter, NULL);
    }
  assert_fault_peer_recovered (env);
}

/* ---- one call in flight ------------------------------------------------- */

/* Most cases have one shape: a link to one of the two peers, one call
 * started on it (or on one of its characteristics), the fault injected at
 * that peer once the simulator has seen the call, then the same checks:
 * the call fails once with expected_error(), the link is spent, and the
 * library works again. A row of the table below says what differs, so
 * that every case checks the same things in the same order. */
typedef struct {
  const char *peer;             /* FAULT_PEER or SLOW_PEER */
  const char *path;             /* its object path, where the fault hits */
  guint16 uuid16;               /* the call's characteristic; 0: the connection */
  const char *method;           /* the BlueZ call the fault waits for */
  /* Exactly one of the two: a blocking call (on a thread of its own), or
   * an async one reporting to @p. The target is the characteristic, or
   * the connection when @uuid16 is 0. */
  BlockingFunc blocking;
  void (*start_async) (gpointer target,
                       Pending *p);
  /* Optional: more checks on the spent characteristic. */
  void (*check_spent_char) (BleioCharacteristic *c);
} InFlightCase;

static void
run_in_flight_case (void               **state,
                    const InFlightCase  *row)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioConnection) connection =
    connect_peer (env, row->peer, row->uuid16 != 0 ? &services : NULL);
  g_autoptr(BleioCharacteristic) c =
    row->uuid16 != 0 ? find_char (services, row->uuid16) : NULL;
  gpointer target = c != NULL ? (gpointer) c : (gpointer) connection;
  Disconnected d = { 0, };
  Pending p = { 0, };
  Blocker b;

  if (row->blocking != NULL)
    {
      assert_true (sim_fixture_reset_calls (env->fx, &error));
      blocker_start (&b, row->blocking, target);
      wait_calls (env, row->method, 1);
      inject (env, row->path);
      blocker_join (&b, 2 * WAIT_MSEC);
      assert_null (b.result);
      assert_bleio_error (b.error, expected_error ());
      g_clear_error (&b.error);
      assert_true (common_wait (common_not_connected, connection, WAIT_MSEC));
    }
  else
    {
      g_signal_connect (connection, "disconnected", G_CALLBACK (common_on_disconnected), &d);
      assert_true (sim_fixture_reset_calls (env->fx, &error));
      row->start_async (target, &p);
      wait_calls (env, row->method, 1);
      inject (env, row->path);
      assert_fired_once (&p);
      assert_false (p.ok);
      assert_bleio_error (p.error, expected_error ());
      assert_true (common_wait (common_disconnected_fired, &d, WAIT_MSEC));
      assert_int_equal (d.reason, expected_reason ());
    }
  common_assert_spent (connection);
  if (row->check_spent_char != NULL)
    row->check_spent_char (c);
  pending_clear (&p);
  if (g_str_equal (row->peer, SLOW_PEER))
    assert_slow_peer_recovered (env);
  else
    assert_fault_peer_recovered (env);
}

/* ---- connect ------------------------------------------------------------ */

static gboolean
no_connections (gpointer user_data)
{
  g_autoptr(GPtrArray) connections = bleio_adapter_dup_connections (user_data);

  return connections->len == 0;
}

/* The fault hits SlowPeer's Connect in flight. A link lost while it was
 * being made is le-connection-abort-by-local, which the library retries
 * once: with the peer dropping, the retry is dropped too. */
static void
inject_into_connect (Env *env)
{
  wait_calls (env, "Connect", 1);
  inject (env, SLOW_PATH);
  if (fault_kind == FAULT_DROP)
    {
      wait_calls (env, "Connect", 2);
      inject (env, SLOW_PATH);
    }
}

static void
test_fault_during_connect (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAddress) address = scan_until_found (env, SLOW_PEER);
  Pending p = { 0, };

  assert_true (sim_fixture_reset_calls (env->fx, &error));
  bleio_adapter_connect_async (env->adapter, address, 10, NULL, pending_connect_cb, &p);
  inject_into_connect (env);
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
  inject_into_connect (env);
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
pair_start (gpointer  connection,
            Pending  *p)
{
  bleio_connection_pair_async (connection, TRUE, NULL, pair_cb, p);
}

static gpointer
pair_blocking (gpointer   data,
               GError   **error)
{
  return bleio_connection_pair (data, TRUE, error) ? data : NULL;
}

static void
test_fault_during_pair (void **state)
{
  static const InFlightCase row = {
    FAULT_PEER, FAULT_PATH, 0, "Pair", NULL, pair_start, NULL,
  };

  run_in_flight_case (state, &row);
}

static void
test_fault_during_pair_blocking (void **state)
{
  static const InFlightCase row = {
    FAULT_PEER, FAULT_PATH, 0, "Pair", pair_blocking, NULL, NULL,
  };

  run_in_flight_case (state, &row);
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

/* The characteristic of the spent link fails at once. */
static void
assert_read_fails_at_once (BleioCharacteristic *c)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = bleio_characteristic_read_value (c, &error);

  assert_null (value);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
}

static void
test_fault_during_read (void **state)
{
  /* SlowPeer answers reads after 700 ms. */
  static const InFlightCase row = {
    SLOW_PEER, SLOW_PATH, 0xfb03, "ReadValue", read_blocking, NULL,
    assert_read_fails_at_once,
  };

  run_in_flight_case (state, &row);
}

/* ---- write (async, and blocking on a thread of its own) ----------------- */

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

/* Both write the value fb03 already has, so that the recovery read knows
 * what to expect whether or not the write landed. */
static void
write_start (gpointer  c,
             Pending  *p)
{
  g_autoptr(GBytes) value = g_bytes_new_static (fb03_value, sizeof fb03_value);

  bleio_characteristic_write_value_async (c, value, NULL, write_cb, p);
}

static gpointer
write_blocking (gpointer   data,
                GError   **error)
{
  g_autoptr(GBytes) value = g_bytes_new_static (fb03_value, sizeof fb03_value);

  return bleio_characteristic_write_value (data, value, error) ? data : NULL;
}

static void
test_fault_during_write (void **state)
{
  static const InFlightCase row = {
    SLOW_PEER, SLOW_PATH, 0xfb03, "WriteValue", NULL, write_start, NULL,
  };

  run_in_flight_case (state, &row);
}

static void
test_fault_during_write_blocking (void **state)
{
  static const InFlightCase row = {
    SLOW_PEER, SLOW_PATH, 0xfb03, "WriteValue", write_blocking, NULL, NULL,
  };

  run_in_flight_case (state, &row);
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
