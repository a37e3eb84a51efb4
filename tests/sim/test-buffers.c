/* SPDX-License-Identifier: MIT */
/*
 * BleioCharacteristicBuffer and BleioPacketBuffer against bleio-sim
 * (scenario tests/sim/scenarios/gatt.json): every member, both paths of
 * each fallback (AcquireNotify / Value signals, AcquireWrite / WriteValue),
 * and notifications at full speed for 10 s on both paths.
 */
#include "gatt.h"

#include <unistd.h>

#define CHAR_IFACE "org.bluez.GattCharacteristic1"

typedef struct {
  BleioPacketBuffer *buffer;
  gsize n;
} PacketsWaiting;

static gboolean
packets_reached (gpointer user_data)
{
  PacketsWaiting *w = user_data;

  return bleio_packet_buffer_get_packets_waiting (w->buffer) >= w->n;
}

static void
wait_packets (BleioPacketBuffer *buffer,
              gsize              n)
{
  PacketsWaiting w = { buffer, n };

  assert_true (gatt_wait (packets_reached, &w, WAIT_MSEC));
}

typedef struct {
  GattEnv *env;
  const char *path;
  const char *property;
  gboolean value;
} SimBoolWait;

static gboolean
sim_bool_is (gpointer user_data)
{
  SimBoolWait *w = user_data;

  return gatt_sim_bool (w->env, w->path, CHAR_IFACE, w->property) == w->value;
}

static void
wait_sim_bool (GattEnv    *env,
               guint16     handle,
               const char *property,
               gboolean    value)
{
  g_autofree char *path = gatt_char_path (handle);
  SimBoolWait w = { env, path, property, value };

  assert_true (gatt_wait (sim_bool_is, &w, WAIT_MSEC));
}

static gboolean
cb_lost (gpointer user_data)
{
  return !bleio_characteristic_buffer_get_connected (user_data);
}

static gboolean
pb_lost (gpointer user_data)
{
  return !bleio_packet_buffer_get_connected (user_data);
}

/* ---- CharacteristicBuffer ------------------------------------------------ */

static void
test_cb_acquired (void **state)
{
  GattEnv *env = *state;
  BleioCharacteristic *stream = gatt_char (env, H_STREAM);
  g_autofree char *path = gatt_char_path (H_STREAM);
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint8 data[10];

  buffer = bleio_characteristic_buffer_new (stream, 0.3, 64, &error);
  assert_no_error (error);
  assert_true (bleio_characteristic_buffer_get_notify_acquired (buffer));
  assert_true (bleio_characteristic_buffer_get_connected (buffer));
  assert_true (gatt_sim_bool (env, path, CHAR_IFACE, "NotifyAcquired"));
  assert_int_equal (bleio_characteristic_buffer_get_buffer_size (buffer), 64);
  assert_true (bleio_characteristic_buffer_get_timeout (buffer) == 0.3);
  assert_ptr_equal (bleio_characteristic_buffer_get_characteristic (buffer), stream);
  assert_int_equal (bleio_characteristic_buffer_get_in_waiting (buffer), 0);

  gatt_notify (env, H_STREAM, "hello\n", 6);
  gatt_notify (env, H_STREAM, "world", 5);
  gatt_wait_in_waiting (buffer, 11);

  bytes = bleio_characteristic_buffer_readline (buffer, &error);
  assert_no_error (error);
  assert_bytes (bytes, "hello\n", 6);
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = bleio_characteristic_buffer_read (buffer, 3, &error);
  assert_no_error (error);
  assert_bytes (bytes, "wor", 3);
  /* Wants 10, gets the 2 there are once the timeout passes. */
  assert_int_equal (bleio_characteristic_buffer_readinto (buffer, data, sizeof data, &error), 2);
  assert_no_error (error);
  assert_memory_equal (data, "ld", 2);
  /* readline without a newline returns what is there at the timeout. */
  gatt_notify (env, H_STREAM, "partial", 7);
  gatt_wait_in_waiting (buffer, 7);
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = bleio_characteristic_buffer_readline (buffer, &error);
  assert_no_error (error);
  assert_bytes (bytes, "partial", 7);
  /* Nothing there: an empty result once the timeout passes. */
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = bleio_characteristic_buffer_read (buffer, 0, &error);
  assert_no_error (error);
  assert_bytes (bytes, "", 0);

  bleio_characteristic_buffer_set_timeout (buffer, 0);
  assert_true (bleio_characteristic_buffer_get_timeout (buffer) == 0);
  gatt_notify (env, H_STREAM, "abc", 3);
  gatt_wait_in_waiting (buffer, 3);
  bleio_characteristic_buffer_reset_input_buffer (buffer);
  assert_int_equal (bleio_characteristic_buffer_get_in_waiting (buffer), 0);
  assert_int_equal (bleio_characteristic_buffer_get_dropped (buffer), 0);
}

static void
test_cb_overflow_drops_new_bytes (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GBytes) bytes = NULL;

  buffer = bleio_characteristic_buffer_new (gatt_char (env, H_STREAM), 0.1, 8, &error);
  assert_no_error (error);
  gatt_notify (env, H_STREAM, "01234", 5);
  gatt_notify (env, H_STREAM, "56789", 5);
  gatt_notify (env, H_STREAM, "\n", 1);
  gatt_wait_in_waiting (buffer, 8);
  /* Full: what came last was dropped, and counted. */
  gatt_notify (env, H_STREAM, "zz", 2);
  gatt_notify (env, H_STREAM, "Z", 1);
  bytes = bleio_characteristic_buffer_read (buffer, 0, &error);
  assert_no_error (error);
  assert_bytes (bytes, "01234567", 8);
  /* The last notifications may still be on their way: wait for the count. */
  {
    gint64 end = g_get_monotonic_time () + WAIT_MSEC * 1000;

    while (bleio_characteristic_buffer_get_dropped (buffer) + bleio_characteristic_buffer_get_in_waiting (buffer) < 6 &&
           g_get_monotonic_time () < end)
      g_usleep (2000);
  }
  assert_int_equal (bleio_characteristic_buffer_get_dropped (buffer) +
                    bleio_characteristic_buffer_get_in_waiting (buffer), 6);
  assert_true (bleio_characteristic_buffer_get_dropped (buffer) >= 3);
}

static void
test_cb_value_path_when_acquire_refused (void **state)
{
  GattEnv *env = *state;
  BleioCharacteristic *noacq = gatt_char (env, H_NOACQ);
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GBytes) bytes = NULL;

  /* acquire_notify false in the scenario: bluetoothd-like NotSupported. */
  buffer = bleio_characteristic_buffer_new (noacq, 0.2, 64, &error);
  assert_no_error (error);
  assert_false (bleio_characteristic_buffer_get_notify_acquired (buffer));
  assert_int_equal (sim_fixture_count_calls (env->fx, "AcquireNotify"), 1);
  /* _bleio's buffer does not subscribe: this one is not sent anywhere. */
  gatt_notify (env, H_NOACQ, "x", 1);
  assert_true (bleio_characteristic_set_cccd (noacq, TRUE, FALSE, &error));
  assert_no_error (error);
  gatt_notify (env, H_NOACQ, "abc", 3);
  gatt_wait_in_waiting (buffer, 3);
  bytes = bleio_characteristic_buffer_read (buffer, 0, &error);
  assert_no_error (error);
  assert_bytes (bytes, "abc", 3);
}

static void
test_cb_value_path_when_subscribed_first (void **state)
{
  GattEnv *env = *state;
  BleioCharacteristic *stream = gatt_char (env, H_STREAM);
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GBytes) bytes = NULL;

  /* adafruit_ble's order: set_cccd, then the buffer. AcquireNotify is then
   * InProgress and the buffer takes the Value signals. */
  assert_true (bleio_characteristic_set_cccd (stream, TRUE, FALSE, &error));
  assert_no_error (error);
  buffer = bleio_characteristic_buffer_new (stream, 0.2, 64, &error);
  assert_no_error (error);
  assert_false (bleio_characteristic_buffer_get_notify_acquired (buffer));
  gatt_notify (env, H_STREAM, "q1", 2);
  gatt_notify (env, H_STREAM, "q2", 2);
  gatt_wait_in_waiting (buffer, 4);
  bytes = bleio_characteristic_buffer_read (buffer, 4, &error);
  assert_no_error (error);
  assert_bytes (bytes, "q1q2", 4);
}

static void
test_cb_acquire_failure_injected (void **state)
{
  GattEnv *env = *state;
  BleioCharacteristic *stream = gatt_char (env, H_STREAM);
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GBytes) bytes = NULL;

  assert_true (sim_fixture_fail_next (env->fx, "AcquireNotify", "org.bluez.Error.Failed",
                                      "Operation failed", 1, &error));
  assert_no_error (error);
  buffer = bleio_characteristic_buffer_new (stream, 0.2, 64, &error);
  assert_no_error (error);
  assert_false (bleio_characteristic_buffer_get_notify_acquired (buffer));
  assert_true (bleio_characteristic_set_cccd (stream, TRUE, FALSE, &error));
  assert_no_error (error);
  gatt_notify (env, H_STREAM, "ok", 2);
  gatt_wait_in_waiting (buffer, 2);
  bytes = bleio_characteristic_buffer_read (buffer, 0, &error);
  assert_bytes (bytes, "ok", 2);
}

static void
test_cb_not_notifiable (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;

  buffer = bleio_characteristic_buffer_new (gatt_char (env, H_READ), 1, 64, &error);
  assert_null (buffer);
  assert_bleio_error (error, BLEIO_ERROR_NOT_SUPPORTED);
}

static void
test_cb_deinit (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint8 data[4];

  buffer = bleio_characteristic_buffer_new (gatt_char (env, H_STREAM), 1, 64, &error);
  assert_no_error (error);
  wait_sim_bool (env, H_STREAM, "NotifyAcquired", TRUE);
  bleio_characteristic_buffer_deinit (buffer);
  bleio_characteristic_buffer_deinit (buffer);
  assert_false (bleio_characteristic_buffer_get_connected (buffer));
  bytes = bleio_characteristic_buffer_read (buffer, 1, &error);
  assert_null (bytes);
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  assert_int_equal (bleio_characteristic_buffer_readinto (buffer, data, sizeof data, &error), -1);
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  /* The descriptor was closed: bluetoothd releases the acquisition. */
  wait_sim_bool (env, H_STREAM, "NotifyAcquired", FALSE);
}

typedef struct {
  BleioCharacteristicBuffer *buffer;
  gsize want;
  GBytes *result;
  GError *error;
} ReaderData;

static gpointer
reader_thread (gpointer user_data)
{
  ReaderData *r = user_data;

  r->result = bleio_characteristic_buffer_read (r->buffer, r->want, &r->error);
  return NULL;
}

static void
test_cb_blocking_read_from_thread (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  ReaderData r = { NULL, 4, NULL, NULL };
  GThread *thread;

  buffer = bleio_characteristic_buffer_new (gatt_char (env, H_STREAM), 20, 64, &error);
  assert_no_error (error);
  r.buffer = buffer;
  /* The reader blocks with no main loop running anywhere. */
  thread = g_thread_new ("reader", reader_thread, &r);
  gatt_notify (env, H_STREAM, "ab", 2);
  gatt_notify (env, H_STREAM, "cd", 2);
  g_thread_join (thread);
  assert_null (r.error);
  assert_bytes (r.result, "abcd", 4);
  g_bytes_unref (r.result);

  /* A reader blocked when the link drops wakes with CONNECTION. */
  r.result = NULL;
  thread = g_thread_new ("reader", reader_thread, &r);
  gatt_drop_link (env);
  g_thread_join (thread);
  assert_null (r.result);
  assert_bleio_error (r.error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&r.error);
}

static void
test_cb_link_lost (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristicBuffer) acquired = NULL;
  g_autoptr(BleioCharacteristicBuffer) signals = NULL;
  g_autoptr(GBytes) bytes = NULL;
  BleioCharacteristic *noacq = gatt_char (env, H_NOACQ);

  acquired = bleio_characteristic_buffer_new (gatt_char (env, H_STREAM), 5, 64, &error);
  assert_no_error (error);
  assert_true (bleio_characteristic_set_cccd (noacq, TRUE, FALSE, &error));
  assert_no_error (error);
  signals = bleio_characteristic_buffer_new (noacq, 5, 64, &error);
  assert_no_error (error);
  assert_true (bleio_characteristic_buffer_get_notify_acquired (acquired));
  assert_false (bleio_characteristic_buffer_get_notify_acquired (signals));

  gatt_notify (env, H_STREAM, "ab", 2);
  gatt_notify (env, H_NOACQ, "cd", 2);
  gatt_wait_in_waiting (acquired, 2);
  gatt_wait_in_waiting (signals, 2);
  gatt_drop_link (env);
  assert_true (gatt_wait (cb_lost, acquired, WAIT_MSEC));
  assert_true (gatt_wait (cb_lost, signals, WAIT_MSEC));

  /* What arrived before the loss can still be read; then CONNECTION,
   * without waiting out the 5 s timeout. */
  bytes = bleio_characteristic_buffer_read (acquired, 0, &error);
  assert_no_error (error);
  assert_bytes (bytes, "ab", 2);
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = bleio_characteristic_buffer_read (acquired, 0, &error);
  assert_null (bytes);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&error);
  bytes = bleio_characteristic_buffer_read (signals, 0, &error);
  assert_no_error (error);
  assert_bytes (bytes, "cd", 2);
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = bleio_characteristic_buffer_readline (signals, &error);
  assert_null (bytes);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
}

/* ---- PacketBuffer ------------------------------------------------------------ */

static void
test_pb_acquired_packets (void **state)
{
  GattEnv *env = *state;
  BleioCharacteristic *stream = gatt_char (env, H_STREAM);
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioPacketBuffer) buffer = NULL;
  g_autoptr(BleioPacketBuffer) bounded = NULL;
  g_autoptr(GBytes) packet = NULL;
  guint8 data[8];

  buffer = bleio_packet_buffer_new (stream, 8, 0, &error);
  assert_no_error (error);
  assert_true (bleio_packet_buffer_get_notify_acquired (buffer));
  assert_false (bleio_packet_buffer_get_write_acquired (buffer));
  assert_true (bleio_packet_buffer_get_connected (buffer));
  assert_int_equal (bleio_packet_buffer_get_incoming_packet_length (buffer), BENCH_MTU - 3);
  assert_int_equal (bleio_packet_buffer_get_outgoing_packet_length (buffer), 0);
  assert_int_equal (bleio_packet_buffer_get_buffer_size (buffer), 8);
  assert_ptr_equal (bleio_packet_buffer_get_characteristic (buffer), stream);
  assert_int_equal (bleio_packet_buffer_readinto (buffer, data, sizeof data, &error), 0);
  assert_no_error (error);
  packet = bleio_packet_buffer_read_packet (buffer, &error);
  assert_null (packet);
  assert_no_error (error);

  gatt_notify (env, H_STREAM, "a", 1);
  gatt_notify (env, H_STREAM, "", 0);
  gatt_notify (env, H_STREAM, "bcdefghijk", 10);
  gatt_notify (env, H_STREAM, "lm", 2);
  wait_packets (buffer, 4);

  /* Boundaries kept; a zero-length notification is a packet. */
  packet = bleio_packet_buffer_read_packet (buffer, &error);
  assert_bytes (packet, "a", 1);
  g_clear_pointer (&packet, g_bytes_unref);
  packet = bleio_packet_buffer_read_packet (buffer, &error);
  assert_no_error (error);
  assert_bytes (packet, "", 0);
  /* Too short: the packet is dropped and counted. */
  assert_int_equal (bleio_packet_buffer_readinto (buffer, data, sizeof data, &error), -1);
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  assert_string_equal (error->message, "Buffer too short by 2 bytes");
  g_clear_error (&error);
  assert_int_equal (bleio_packet_buffer_get_dropped (buffer), 1);
  assert_int_equal (bleio_packet_buffer_readinto (buffer, data, sizeof data, &error), 2);
  assert_memory_equal (data, "lm", 2);
  assert_int_equal (bleio_packet_buffer_get_packets_waiting (buffer), 0);
  assert_true (bleio_packet_buffer_get_connected (buffer));

  /* max_packet_size bounds the lengths. */
  bleio_packet_buffer_deinit (buffer);
  bounded = bleio_packet_buffer_new (stream, 8, 20, &error);
  assert_no_error (error);
  assert_int_equal (bleio_packet_buffer_get_incoming_packet_length (bounded), 20);
}

static void
test_pb_overflow_drops_oldest (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioPacketBuffer) buffer = NULL;
  guint8 data[4];

  buffer = bleio_packet_buffer_new (gatt_char (env, H_STREAM), 3, 0, &error);
  assert_no_error (error);
  for (guint8 i = 1; i <= 5; i++)
    gatt_notify (env, H_STREAM, &i, 1);
  {
    gint64 end = g_get_monotonic_time () + WAIT_MSEC * 1000;

    while (bleio_packet_buffer_get_dropped (buffer) < 2 && g_get_monotonic_time () < end)
      g_usleep (2000);
  }
  assert_int_equal (bleio_packet_buffer_get_dropped (buffer), 2);
  assert_int_equal (bleio_packet_buffer_get_packets_waiting (buffer), 3);
  for (guint8 i = 3; i <= 5; i++)
    {
      assert_int_equal (bleio_packet_buffer_readinto (buffer, data, sizeof data, &error), 1);
      assert_int_equal (data[0], i);
    }
}

static void
test_pb_value_path_subscribes (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioPacketBuffer) buffer = NULL;
  g_autoptr(GBytes) packet = NULL;

  buffer = bleio_packet_buffer_new (gatt_char (env, H_NOACQ), 8, 0, &error);
  assert_no_error (error);
  assert_false (bleio_packet_buffer_get_notify_acquired (buffer));
  /* The constructor subscribed (StartNotify). */
  wait_sim_bool (env, H_NOACQ, "Notifying", TRUE);
  assert_int_equal (bleio_packet_buffer_get_incoming_packet_length (buffer), BENCH_MTU - 3);
  gatt_notify (env, H_NOACQ, "p1", 2);
  gatt_notify (env, H_NOACQ, "", 0);
  gatt_notify (env, H_NOACQ, "p3", 2);
  wait_packets (buffer, 3);
  packet = bleio_packet_buffer_read_packet (buffer, &error);
  assert_bytes (packet, "p1", 2);
  g_clear_pointer (&packet, g_bytes_unref);
  packet = bleio_packet_buffer_read_packet (buffer, &error);
  assert_bytes (packet, "", 0);
  g_clear_pointer (&packet, g_bytes_unref);
  packet = bleio_packet_buffer_read_packet (buffer, &error);
  assert_bytes (packet, "p3", 2);
  /* deinit unsubscribes. */
  bleio_packet_buffer_deinit (buffer);
  wait_sim_bool (env, H_NOACQ, "Notifying", FALSE);
  g_clear_pointer (&packet, g_bytes_unref);
  packet = bleio_packet_buffer_read_packet (buffer, &error);
  assert_null (packet);
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
}

typedef struct {
  GattEnv *env;
  guint16 handle;
  const char *expected;
  gsize len;
} ValueWait;

static gboolean
sim_value_is (gpointer user_data)
{
  ValueWait *w = user_data;
  g_autoptr(GBytes) value = gatt_sim_read (w->env, w->handle);

  return g_bytes_get_size (value) == w->len &&
         memcmp (g_bytes_get_data (value, NULL), w->expected, w->len) == 0;
}

/* BlueZ has one notify session per client: the application turning its
 * CCCD off must not cut a PacketBuffer that subscribed too. */
static void
test_pb_survives_set_cccd_off (void **state)
{
  GattEnv *env = *state;
  BleioCharacteristic *noacq = gatt_char (env, H_NOACQ);
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioPacketBuffer) buffer = NULL;
  g_autoptr(GBytes) packet = NULL;

  assert_true (bleio_characteristic_set_cccd (noacq, TRUE, FALSE, &error));
  assert_no_error (error);
  buffer = bleio_packet_buffer_new (noacq, 8, 0, &error);
  assert_no_error (error);
  assert_true (bleio_characteristic_set_cccd (noacq, FALSE, FALSE, &error));
  assert_no_error (error);
  wait_sim_bool (env, H_NOACQ, "Notifying", TRUE);
  gatt_notify (env, H_NOACQ, "still", 5);
  wait_packets (buffer, 1);
  packet = bleio_packet_buffer_read_packet (buffer, &error);
  assert_bytes (packet, "still", 5);
  /* The last one out unsubscribes. */
  bleio_packet_buffer_deinit (buffer);
  wait_sim_bool (env, H_NOACQ, "Notifying", FALSE);
}

static void
test_pb_write_acquired (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioPacketBuffer) buffer = NULL;
  g_autoptr(BleioPacketBuffer) bounded = NULL;
  guint8 big[BENCH_MTU];
  ValueWait w = { env, H_RW, "\x01hello", 6 };

  memset (big, 'x', sizeof big);
  buffer = bleio_packet_buffer_new (gatt_char (env, H_RW), 4, 0, &error);
  assert_no_error (error);
  assert_true (bleio_packet_buffer_get_write_acquired (buffer));
  assert_false (bleio_packet_buffer_get_notify_acquired (buffer));
  assert_int_equal (bleio_packet_buffer_get_incoming_packet_length (buffer), 0);
  assert_int_equal (bleio_packet_buffer_get_outgoing_packet_length (buffer), BENCH_MTU - 3);

  assert_int_equal (bleio_packet_buffer_write (buffer, (const guint8 *) "hello", 5,
                                               (const guint8 *) "\x01", 1, &error), 6);
  assert_no_error (error);
  assert_true (gatt_wait (sim_value_is, &w, WAIT_MSEC));
  /* The whole packet, header included, must fit in MTU - 3. */
  assert_int_equal (bleio_packet_buffer_write (buffer, big, BENCH_MTU - 3, NULL, 0, &error),
                    BENCH_MTU - 3);
  assert_no_error (error);
  assert_int_equal (bleio_packet_buffer_write (buffer, big, BENCH_MTU - 3,
                                               (const guint8 *) "h", 1, &error), -1);
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  assert_int_equal (sim_fixture_count_calls (env->fx, "WriteValue"), 0);

  bleio_packet_buffer_deinit (buffer);
  bounded = bleio_packet_buffer_new (gatt_char (env, H_RW), 4, 10, &error);
  assert_no_error (error);
  assert_int_equal (bleio_packet_buffer_get_outgoing_packet_length (bounded), 10);
  assert_int_equal (bleio_packet_buffer_write (bounded, big, 11, NULL, 0, &error), -1);
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
}

static void
pb_write_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  gssize *sent = user_data;
  g_autoptr(GError) error = NULL;

  *sent = bleio_packet_buffer_write_finish (BLEIO_PACKET_BUFFER (source), result, &error);
  assert_no_error (error);
}

static gboolean
sent_set (gpointer user_data)
{
  return *(gssize *) user_data >= 0;
}

static void
test_pb_write_value_fallback (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioPacketBuffer) request = NULL;
  g_autoptr(BleioPacketBuffer) command = NULL;
  g_autoptr(GBytes) data = g_bytes_new ("cmd", 3);
  g_autoptr(GBytes) header = g_bytes_new ("#", 1);
  gssize sent = -1;

  /* Write requests only: WriteValue. */
  request = bleio_packet_buffer_new (gatt_char (env, H_WRITE), 4, 0, &error);
  assert_no_error (error);
  assert_false (bleio_packet_buffer_get_write_acquired (request));
  assert_int_equal (bleio_packet_buffer_write (request, (const guint8 *) "req", 3, NULL, 0, &error), 3);
  assert_no_error (error);
  assert_int_equal (sim_fixture_count_calls (env->fx, "WriteValue"), 1);

  /* Write without response, AcquireWrite refused: WriteValue too. */
  command = bleio_packet_buffer_new (gatt_char (env, H_WNR_NOACQ), 4, 0, &error);
  assert_no_error (error);
  assert_false (bleio_packet_buffer_get_write_acquired (command));
  assert_true (bleio_packet_buffer_get_notify_acquired (command));
  assert_int_equal (sim_fixture_count_calls (env->fx, "AcquireWrite"), 1);
  bleio_packet_buffer_write_async (command, data, header, NULL, pb_write_cb, &sent);
  assert_true (gatt_wait (sent_set, &sent, WAIT_MSEC));
  assert_int_equal (sent, 4);
  assert_int_equal (sim_fixture_count_calls (env->fx, "WriteValue"), 2);
  /* and it still receives */
  gatt_notify (env, H_WNR_NOACQ, "in", 2);
  wait_packets (command, 1);
}

static void
test_pb_write_after_link_loss (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioPacketBuffer) acquired = NULL;
  g_autoptr(BleioPacketBuffer) request = NULL;
  g_autoptr(BleioPacketBuffer) notify = NULL;
  g_autoptr(GBytes) packet = NULL;

  acquired = bleio_packet_buffer_new (gatt_char (env, H_RW), 4, 0, &error);
  assert_no_error (error);
  request = bleio_packet_buffer_new (gatt_char (env, H_WRITE), 4, 0, &error);
  assert_no_error (error);
  notify = bleio_packet_buffer_new (gatt_char (env, H_STREAM), 4, 0, &error);
  assert_no_error (error);
  gatt_drop_link (env);
  assert_true (gatt_wait (pb_lost, notify, WAIT_MSEC));
  assert_true (gatt_wait (pb_lost, request, WAIT_MSEC));
  /* _bleio: write returns 0 when not connected. */
  assert_int_equal (bleio_packet_buffer_write (acquired, (const guint8 *) "x", 1, NULL, 0, &error), 0);
  assert_no_error (error);
  assert_int_equal (bleio_packet_buffer_write (request, (const guint8 *) "x", 1, NULL, 0, &error), 0);
  assert_no_error (error);
  assert_false (bleio_packet_buffer_get_connected (acquired));
  packet = bleio_packet_buffer_read_packet (notify, &error);
  assert_null (packet);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
}

static void
test_pb_not_usable (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioPacketBuffer) buffer = NULL;

  buffer = bleio_packet_buffer_new (gatt_char (env, H_READ), 4, 0, &error);
  assert_null (buffer);
  assert_bleio_error (error, BLEIO_ERROR_NOT_SUPPORTED);
}

static void
cb_new_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  BleioCharacteristicBuffer **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = bleio_characteristic_buffer_new_finish (result, &error);
  assert_no_error (error);
}

static void
pb_new_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  BleioPacketBuffer **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = bleio_packet_buffer_new_finish (result, &error);
  assert_no_error (error);
}

static void
test_async_constructors (void **state)
{
  GattEnv *env = *state;
  g_autoptr(BleioCharacteristicBuffer) bytes = NULL;
  g_autoptr(BleioPacketBuffer) packets = NULL;
  g_autoptr(GBytes) packet = NULL;
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GError) error = NULL;

  bleio_characteristic_buffer_new_async (gatt_char (env, H_DUP1), 1, 16, NULL, cb_new_cb, &bytes);
  bleio_packet_buffer_new_async (gatt_char (env, H_STREAM), 4, 0, NULL, pb_new_cb, &packets);
  assert_true (gatt_wait (gatt_pointer_set, &bytes, WAIT_MSEC));
  assert_true (gatt_wait (gatt_pointer_set, &packets, WAIT_MSEC));
  assert_true (bleio_characteristic_buffer_get_notify_acquired (bytes));
  assert_true (bleio_packet_buffer_get_notify_acquired (packets));
  gatt_notify (env, H_DUP1, "b", 1);
  gatt_notify (env, H_STREAM, "p", 1);
  gatt_wait_in_waiting (bytes, 1);
  wait_packets (packets, 1);
  got = bleio_characteristic_buffer_read (bytes, 1, &error);
  assert_bytes (got, "b", 1);
  packet = bleio_packet_buffer_read_packet (packets, &error);
  assert_bytes (packet, "p", 1);
}

/* ---- the notification signal, fed from an acquired descriptor ---------- */

typedef struct {
  GPtrArray *values;
  guint want;
} Collected;

static void
on_notification (BleioCharacteristic *characteristic,
                 GBytes              *value,
                 gpointer             user_data)
{
  Collected *c = user_data;

  g_ptr_array_add (c->values, g_bytes_ref (value));
}

static gboolean
collected_enough (gpointer user_data)
{
  Collected *c = user_data;

  return c->values->len >= c->want;
}

static void
test_signal_with_acquired_buffer (void **state)
{
  GattEnv *env = *state;
  BleioCharacteristic *stream = gatt_char (env, H_STREAM);
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioPacketBuffer) buffer = NULL;
  Collected c = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref), 40 };
  gulong id = g_signal_connect (stream, "notification", G_CALLBACK (on_notification), &c);

  buffer = bleio_packet_buffer_new (stream, 64, 0, &error);
  assert_no_error (error);
  assert_true (bleio_packet_buffer_get_notify_acquired (buffer));
  for (guint8 i = 0; i < c.want; i++)
    gatt_notify (env, H_STREAM, &i, 1);
  assert_true (gatt_wait (collected_enough, &c, WAIT_MSEC));
  assert_int_equal (c.values->len, c.want);
  for (guint8 i = 0; i < c.want; i++)
    assert_bytes (g_ptr_array_index (c.values, i), &i, 1);
  /* The buffer got the same packets. */
  assert_int_equal (bleio_packet_buffer_get_packets_waiting (buffer), c.want);
  g_signal_handler_disconnect (stream, id);
  g_ptr_array_unref (c.values);
}

/* ---- full speed for 10 s --------------------------------------------------- */

#define RUN_SECONDS 10
#define WARM_UP_SECONDS 3
#define BURST_COUNT 5000
#define PAYLOAD 20

typedef struct {
  BleioCharacteristicBuffer *bytes;     /* one of these two */
  BleioPacketBuffer *packets;
  volatile gint stop;
  volatile gint64 received;             /* notifications */
  volatile gint mismatches;
} Drain;

/* Burst k carries PAYLOAD bytes of value k & 0xff, BURST_COUNT times. */
static gpointer
drain_thread (gpointer user_data)
{
  Drain *d = user_data;
  guint8 buf[4096];
  gint64 byte_pos = 0;

  while (!g_atomic_int_get (&d->stop))
    {
      if (d->bytes != NULL)
        {
          g_autoptr(GError) error = NULL;
          gssize n = bleio_characteristic_buffer_readinto (d->bytes, buf, sizeof buf, &error);

          if (n < 0)
            break;
          for (gssize i = 0; i < n; i++, byte_pos++)
            {
              gint64 burst = byte_pos / (PAYLOAD * BURST_COUNT);

              if (buf[i] != (guint8) (burst & 0xff))
                g_atomic_int_inc (&d->mismatches);
            }
          /* Read by the main thread while this one runs. */
          __atomic_store_n (&d->received, byte_pos / PAYLOAD, __ATOMIC_RELEASE);
        }
      else
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(GBytes) packet = bleio_packet_buffer_read_packet (d->packets, &error);
          gint64 burst;

          if (error != NULL)
            break;
          if (packet == NULL)
            {
              g_usleep (200);
              continue;
            }
          burst = d->received / BURST_COUNT;
          if (g_bytes_get_size (packet) != PAYLOAD ||
              ((const guint8 *) g_bytes_get_data (packet, NULL))[0] != (guint8) (burst & 0xff))
            g_atomic_int_inc (&d->mismatches);
          __atomic_store_n (&d->received, d->received + 1, __ATOMIC_RELEASE);
        }
    }
  return NULL;
}

typedef struct {
  gint64 target;
  Drain d;
} FullSpeed;

static gboolean
drained (gpointer user_data)
{
  FullSpeed *w = user_data;

  return __atomic_load_n (&w->d.received, __ATOMIC_ACQUIRE) >= w->target;
}

static void
full_speed (GattEnv    *env,
            guint16     handle,
            Drain      *d,
            const char *label)
{
  g_autofree char *path = gatt_char_path (handle);
  FullSpeed *w = g_new0 (FullSpeed, 1);
  gint64 start, end;
  long rss_first = -1, rss_start = -1, rss_end;
  long heap_start = -1, heap_end;
  guint bursts = 0;
  GThread *thread;

  w->d = *d;
  thread = g_thread_new ("drain", drain_thread, &w->d);
  start = g_get_monotonic_time ();
  end = start + RUN_SECONDS * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end)
    {
      guint8 value[PAYLOAD];
      g_autoptr(GError) error = NULL;

      memset (value, bursts & 0xff, sizeof value);
      assert_true (sim_fixture_notify_burst (env->fx, path, value, sizeof value, BURST_COUNT, &error));
      assert_no_error (error);
      bursts++;
      w->target = (gint64) bursts * BURST_COUNT;
      /* Bounded wait for the burst to arrive, never a measured time. */
      if (!gatt_wait (drained, w, WAIT_MSEC * 3))
        fail_msg ("%s: burst %u incomplete: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
                  " received, dropped %" G_GUINT64_FORMAT ", waiting %" G_GSIZE_FORMAT,
                  label, bursts, w->d.received, w->target,
                  w->d.bytes != NULL ? bleio_characteristic_buffer_get_dropped (w->d.bytes)
                                     : bleio_packet_buffer_get_dropped (w->d.packets),
                  w->d.bytes != NULL ? bleio_characteristic_buffer_get_in_waiting (w->d.bytes)
                                     : bleio_packet_buffer_get_packets_waiting (w->d.packets));
      if (bursts == 1)
        rss_first = proc_rss_kib ();
      /* Allocator arenas and GDBus buffers grow during the first seconds;
       * flat means no growth after that. */
      if (rss_start < 0 && g_get_monotonic_time () >= start + WARM_UP_SECONDS * G_USEC_PER_SEC)
        {
          /* What this thread's main context still has to dispatch is the
           * application's backlog, not the library's. */
          while (g_main_context_iteration (NULL, FALSE))
            ;
          rss_start = proc_rss_kib ();
          heap_start = proc_heap_kib ();
        }
    }
  g_atomic_int_set (&w->d.stop, 1);
  if (w->d.bytes != NULL)
    bleio_characteristic_buffer_deinit (w->d.bytes);
  g_thread_join (thread);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  rss_end = proc_rss_kib ();
  heap_end = proc_heap_kib ();

  printf ("%s: %" G_GINT64_FORMAT " notifications sent, %" G_GINT64_FORMAT
          " received in %.1f s (%.0f/s), dropped %" G_GUINT64_FORMAT
          ", out of order %d; RSS %ld KiB after the first burst, %ld KiB after %d s, "
          "%ld KiB at the end; heap in use %ld KiB after %d s, %ld KiB at the end\n",
          label, (gint64) bursts * BURST_COUNT, w->d.received,
          (g_get_monotonic_time () - start) / 1e6,
          w->d.received / ((g_get_monotonic_time () - start) / 1e6),
          w->d.bytes != NULL ? bleio_characteristic_buffer_get_dropped (w->d.bytes)
                             : bleio_packet_buffer_get_dropped (w->d.packets),
          w->d.mismatches, rss_first, rss_start, WARM_UP_SECONDS, rss_end,
          heap_start, WARM_UP_SECONDS, heap_end);
  fflush (stdout);
  assert_int_equal (w->d.received, (gint64) bursts * BURST_COUNT);
  assert_int_equal (w->d.mismatches, 0);
  if (w->d.bytes != NULL)
    assert_int_equal (bleio_characteristic_buffer_get_dropped (w->d.bytes), 0);
  else
    assert_int_equal (bleio_packet_buffer_get_dropped (w->d.packets), 0);
  /* Flat memory: nothing grows with the number of notifications. The
   * heap in use is the measure (RSS also counts arenas that glibc keeps
   * once grown); RSS only gets a loose bound. */
  assert_true (rss_start > 0);
  if (heap_start > 0)
    {
      assert_true (heap_end - heap_start < 512);
      assert_true (rss_end - rss_first < 16 * 1024);
    }
  else
    {
      /* A sanitizer owns malloc: mallinfo2 says nothing and RSS grows with
       * its quarantine of freed blocks; its leak checker judges instead. */
      printf ("%s: heap in use not measurable under a sanitizer\n", label);
    }
  g_free (w);
}

static void
test_full_speed_acquired (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  Drain d = { 0, };

  buffer = bleio_characteristic_buffer_new (gatt_char (env, H_STREAM), 0.05, 256 * 1024, &error);
  assert_no_error (error);
  assert_true (bleio_characteristic_buffer_get_notify_acquired (buffer));
  d.bytes = buffer;
  full_speed (env, H_STREAM, &d, "CharacteristicBuffer, AcquireNotify");
}

static void
test_full_speed_value_signals (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioPacketBuffer) buffer = NULL;
  Drain d = { 0, };

  buffer = bleio_packet_buffer_new (gatt_char (env, H_NOACQ), 64 * 1024, 0, &error);
  assert_no_error (error);
  assert_false (bleio_packet_buffer_get_notify_acquired (buffer));
  d.packets = buffer;
  full_speed (env, H_NOACQ, &d, "PacketBuffer, StartNotify + Value signals");
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_cb_acquired, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_cb_overflow_drops_new_bytes, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_cb_value_path_when_acquire_refused, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_cb_value_path_when_subscribed_first, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_cb_acquire_failure_injected, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_cb_not_notifiable, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_cb_deinit, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_cb_blocking_read_from_thread, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_cb_link_lost, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_pb_acquired_packets, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_pb_overflow_drops_oldest, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_pb_value_path_subscribes, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_pb_survives_set_cccd_off, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_pb_write_acquired, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_pb_write_value_fallback, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_pb_write_after_link_loss, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_pb_not_usable, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_async_constructors, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_signal_with_acquired_buffer, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_full_speed_acquired, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_full_speed_value_signals, gatt_setup, gatt_teardown),
  };

  /* GLib 2.74's slice allocator keeps freed blocks in per-thread caches
   * that malloc counts as in use; the flat-memory check wants to see what
   * the library really holds. (GLib 2.76 and later always use malloc.) */
  if (g_strcmp0 (g_getenv ("G_SLICE"), "always-malloc") != 0)
    {
      /* Read once, early (GObject's constructor may use slices): start
       * again with it set. */
      g_setenv ("G_SLICE", "always-malloc", TRUE);
      execv ("/proc/self/exe", argv);
      perror ("execv");
      return 1;
    }
  gatt_init (argc, argv);
  return cmocka_run_group_tests (tests, gatt_group_setup, gatt_group_teardown);
}
