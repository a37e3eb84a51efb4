/* SPDX-License-Identifier: MIT */
/*
 * The BlueZ quirks of DESIGN.md §3 that the GATT client absorbs, each
 * reproduced against bleio-sim (tests/sim/scenarios/gatt.json), plus links
 * lost in the middle of a read, a write and a notification stream.
 */
#include "gatt.h"

typedef struct {
  int pending;
  int failures;
  GPtrArray *reads;             /* GBytes*, in completion order */
} Ops;

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Ops *ops = user_data;
  g_autoptr(GError) error = NULL;
  GBytes *value = bleio_characteristic_read_value_finish (BLEIO_CHARACTERISTIC (source), result, &error);

  if (value == NULL)
    {
      ops->failures++;
      g_printerr ("read failed: %s\n", error->message);
    }
  else
    g_ptr_array_add (ops->reads, value);
  ops->pending--;
}

static void
write_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Ops *ops = user_data;
  g_autoptr(GError) error = NULL;

  if (!bleio_characteristic_write_value_finish (BLEIO_CHARACTERISTIC (source), result, &error))
    {
      ops->failures++;
      g_printerr ("write failed: %s\n", error->message);
    }
  ops->pending--;
}

static gboolean
ops_done (gpointer user_data)
{
  return ((Ops *) user_data)->pending == 0;
}

/* Quirk 2: bluetoothd answers InProgress to a second operation on one
 * characteristic. Interleaved reads and writes, all started at once while
 * the simulator holds each one for a while: none may reach it early. */
static void
test_quirk2_in_progress_concurrent_ops_queued (void **state)
{
  GattEnv *env = *state;
  BleioCharacteristic *rw = gatt_char (env, H_RW);
  Ops ops = { 0, 0, g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref) };
  g_autoptr(GError) error = NULL;
  const guint rounds = 8;

  assert_true (sim_fixture_delay_next (env->fx, "ReadValue", 30, rounds, &error));
  assert_true (sim_fixture_delay_next (env->fx, "WriteValue", 30, rounds, &error));
  assert_no_error (error);
  for (guint i = 0; i < rounds; i++)
    {
      g_autofree char *text = g_strdup_printf ("w%u", i);
      g_autoptr(GBytes) value = g_bytes_new (text, strlen (text));

      bleio_characteristic_write_value_full_async (rw, value, BLEIO_WRITE_TYPE_REQUEST, 0,
                                                   NULL, write_cb, &ops);
      bleio_characteristic_read_value_async (rw, NULL, read_cb, &ops);
      ops.pending += 2;
    }
  assert_true (gatt_wait (ops_done, &ops, WAIT_MSEC * 3));
  assert_int_equal (ops.failures, 0);
  /* In submission order: each read sees the write just before it. */
  assert_int_equal (ops.reads->len, rounds);
  for (guint i = 0; i < rounds; i++)
    {
      g_autofree char *text = g_strdup_printf ("w%u", i);

      assert_bytes (g_ptr_array_index (ops.reads, i), text, strlen (text));
    }
  /* Exactly one call each: no InProgress came back to be retried. */
  assert_int_equal (sim_fixture_count_calls (env->fx, "ReadValue"), rounds);
  assert_int_equal (sim_fixture_count_calls (env->fx, "WriteValue"), rounds);
  g_ptr_array_unref (ops.reads);
}

typedef struct {
  BleioCharacteristic *characteristic;
  int failures;
} ThreadReads;

static gpointer
blocking_reads (gpointer user_data)
{
  ThreadReads *t = user_data;

  for (guint i = 0; i < 10; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) value = bleio_characteristic_read_value (t->characteristic, &error);

      if (value == NULL || g_bytes_get_size (value) != 5)
        g_atomic_int_inc (&t->failures);
    }
  return NULL;
}

/* The same from several threads, each blocking in its own private
 * context: the queue is shared across contexts. */
static void
test_quirk2_in_progress_blocking_threads (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  ThreadReads t = { gatt_char (env, H_READ), 0 };
  GThread *threads[4];

  assert_true (sim_fixture_delay_next (env->fx, "ReadValue", 5, 40, &error));
  assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("reads", blocking_reads, &t);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  assert_int_equal (t.failures, 0);
  assert_int_equal (sim_fixture_count_calls (env->fx, "ReadValue"), 40);
}

/* InProgress can still come from another program's operation: retried. */
static void
test_quirk2_in_progress_from_elsewhere_retried (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = NULL;

  assert_true (sim_fixture_fail_next (env->fx, "ReadValue", "org.bluez.Error.InProgress",
                                      "In Progress", 2, &error));
  assert_no_error (error);
  value = bleio_characteristic_read_value (gatt_char (env, H_READ), &error);
  assert_no_error (error);
  assert_bytes (value, "Hello", 5);
  assert_int_equal (sim_fixture_count_calls (env->fx, "ReadValue"), 3);
}

static void
test_quirk2_in_progress_persistent_reported (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = NULL;

  assert_true (sim_fixture_fail_next (env->fx, "ReadValue", "org.bluez.Error.InProgress",
                                      "In Progress", 3, &error));
  assert_no_error (error);
  value = bleio_characteristic_read_value (gatt_char (env, H_READ), &error);
  assert_null (value);
  assert_bleio_error (error, BLEIO_ERROR_IN_PROGRESS);
  assert_int_equal (sim_fixture_count_calls (env->fx, "ReadValue"), 3);
  /* The queue moved on. */
  g_clear_error (&error);
  value = bleio_characteristic_read_value (gatt_char (env, H_READ), &error);
  assert_no_error (error);
  assert_bytes (value, "Hello", 5);
}

static gboolean
buffer_lost (gpointer user_data)
{
  return !bleio_packet_buffer_get_connected (user_data);
}

static gboolean
connection_down (gpointer user_data)
{
  return !bleio_connection_get_connected (user_data);
}

typedef struct {
  BleioPacketBuffer *buffer;
  gsize n;
} PacketsWait;

static gboolean
packets_there (gpointer user_data)
{
  PacketsWait *w = user_data;

  return bleio_packet_buffer_get_packets_waiting (w->buffer) >= w->n;
}

/* Quirk 6: subscriptions are lost on reconnect. A BleioConnection is spent
 * once its link is down, so the buffer reports the loss; the new link is a
 * new connection object whose characteristics subscribe again. */
static void
test_quirk6_subscription_lost_on_reconnect (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioPacketBuffer) old_buffer = NULL;
  g_autoptr(BleioPacketBuffer) new_buffer = NULL;
  g_autoptr(BleioAddress) address = bleio_address_new_from_string (BENCH_ADDRESS,
                                                                   BLEIO_ADDRESS_TYPE_PUBLIC, NULL);
  g_autoptr(BleioConnection) again = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(GPtrArray) characteristics = NULL;
  g_autoptr(GBytes) packet = NULL;
  BleioCharacteristic *stream = NULL;
  PacketsWait w = { NULL, 1 };

  old_buffer = bleio_packet_buffer_new (gatt_char (env, H_STREAM), 4, 0, &error);
  assert_no_error (error);
  gatt_drop_link (env);
  assert_true (gatt_wait (buffer_lost, old_buffer, WAIT_MSEC));
  assert_true (gatt_wait (connection_down, env->connection, WAIT_MSEC));

  again = bleio_adapter_connect (env->adapter, address, 10, NULL, &error);
  assert_no_error (error);
  assert_true (again != env->connection);
  services = bleio_connection_discover_remote_services (again, NULL, 10, &error);
  assert_no_error (error);
  for (guint i = 0; i < services->len && stream == NULL; i++)
    {
      g_clear_pointer (&characteristics, g_ptr_array_unref);
      characteristics = bleio_service_dup_characteristics (g_ptr_array_index (services, i));
      for (guint j = 0; j < characteristics->len; j++)
        if (bleio_characteristic_get_handle (g_ptr_array_index (characteristics, j)) == H_STREAM)
          stream = g_ptr_array_index (characteristics, j);
    }
  assert_non_null (stream);
  new_buffer = bleio_packet_buffer_new (stream, 4, 0, &error);
  assert_no_error (error);
  gatt_notify (env, H_STREAM, "new", 3);
  w.buffer = new_buffer;
  assert_true (gatt_wait (packets_there, &w, WAIT_MSEC));

  /* The old buffer stays lost: nothing arrives there, reads say so. */
  assert_false (bleio_packet_buffer_get_connected (old_buffer));
  packet = bleio_packet_buffer_read_packet (old_buffer, &error);
  assert_null (packet);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  bleio_connection_disconnect (again, NULL);
}

/* Quirk 7: on the AcquireNotify socket a hang-up is the link going down,
 * and a zero-length notification is a packet, not end of file. */
static void
test_quirk7_zero_length_notification_is_a_packet (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioPacketBuffer) buffer = NULL;
  g_autoptr(GBytes) packet = NULL;
  PacketsWait w = { NULL, 3 };

  buffer = bleio_packet_buffer_new (gatt_char (env, H_STREAM), 8, 0, &error);
  assert_no_error (error);
  assert_true (bleio_packet_buffer_get_notify_acquired (buffer));
  gatt_notify (env, H_STREAM, "", 0);
  gatt_notify (env, H_STREAM, "", 0);
  gatt_notify (env, H_STREAM, "x", 1);
  w.buffer = buffer;
  assert_true (gatt_wait (packets_there, &w, WAIT_MSEC));
  assert_true (bleio_packet_buffer_get_connected (buffer));
  for (guint i = 0; i < 2; i++)
    {
      packet = bleio_packet_buffer_read_packet (buffer, &error);
      assert_no_error (error);
      assert_bytes (packet, "", 0);
      g_clear_pointer (&packet, g_bytes_unref);
    }
  packet = bleio_packet_buffer_read_packet (buffer, &error);
  assert_bytes (packet, "x", 1);
}

static gboolean
char_buffer_lost (gpointer user_data)
{
  return !bleio_characteristic_buffer_get_connected (user_data);
}

static void
test_quirk7_hang_up_means_link_lost (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GBytes) bytes = NULL;

  buffer = bleio_characteristic_buffer_new (gatt_char (env, H_STREAM), 30, 64, &error);
  assert_no_error (error);
  assert_true (bleio_characteristic_buffer_get_notify_acquired (buffer));
  /* The remote goes away as a real one would. */
  assert_true (sim_fixture_set_property (env->fx, BENCH_PATH, "org.bluez.Device1", "Connected",
                                         g_variant_new_boolean (FALSE), &error));
  assert_no_error (error);
  assert_true (gatt_wait (char_buffer_lost, buffer, WAIT_MSEC));
  /* Not a 30 s wait: CONNECTION at once. */
  bytes = bleio_characteristic_buffer_read (buffer, 1, &error);
  assert_null (bytes);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
}

static void
test_quirk7_acquire_write_capped_by_mtu (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioPacketBuffer) buffer = NULL;
  g_autoptr(GBytes) value = NULL;
  guint8 data[BENCH_MTU];

  for (guint i = 0; i < sizeof data; i++)
    data[i] = (guint8) (i + 1);
  buffer = bleio_packet_buffer_new (gatt_char (env, H_RW), 4, 0, &error);
  assert_no_error (error);
  assert_true (bleio_packet_buffer_get_write_acquired (buffer));
  assert_int_equal (bleio_packet_buffer_get_outgoing_packet_length (buffer), BENCH_MTU - 3);
  assert_int_equal (bleio_packet_buffer_write (buffer, data, BENCH_MTU - 2, NULL, 0, &error), -1);
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  assert_int_equal (bleio_packet_buffer_write (buffer, data, BENCH_MTU - 3, NULL, 0, &error),
                    BENCH_MTU - 3);
  assert_no_error (error);
  /* What went through the socket became the value, whole. */
  for (guint tries = 0; tries < 500; tries++)
    {
      g_clear_pointer (&value, g_bytes_unref);
      value = gatt_sim_read (env, H_RW);
      if (g_bytes_get_size (value) == BENCH_MTU - 3)
        break;
      g_usleep (10000);
    }
  assert_bytes (value, data, BENCH_MTU - 3);
}

typedef struct {
  GPtrArray *values;
} Seen;

static void
on_notification (BleioCharacteristic *characteristic,
                 GBytes              *value,
                 gpointer             user_data)
{
  g_ptr_array_add (((Seen *) user_data)->values, g_bytes_ref (value));
}

typedef struct {
  Seen *a;
  Seen *b;
} SeenBoth;

static gboolean
both_seen (gpointer user_data)
{
  SeenBoth *s = user_data;

  return s->a->values->len >= 1 && s->b->values->len >= 1;
}

/* Quirk 8: two characteristics with one UUID in one service (HID report
 * characteristics) are different attributes. */
static void
test_quirk8_duplicate_uuids_distinct (void **state)
{
  GattEnv *env = *state;
  BleioCharacteristic *one = gatt_char (env, H_DUP1);
  BleioCharacteristic *two = gatt_char (env, H_DUP2);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) v1 = NULL;
  g_autoptr(GBytes) v2 = NULL;
  g_autoptr(BleioPacketBuffer) b1 = NULL;
  g_autoptr(BleioPacketBuffer) b2 = NULL;
  g_autoptr(GBytes) p1 = NULL;
  g_autoptr(GBytes) p2 = NULL;
  Seen s1 = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref) };
  Seen s2 = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref) };
  SeenBoth both = { &s1, &s2 };
  PacketsWait w = { NULL, 1 };

  assert_true (one != two);
  assert_true (bleio_uuid_equal (bleio_characteristic_get_uuid (one), bleio_characteristic_get_uuid (two)));
  assert_int_not_equal (bleio_characteristic_get_handle (one), bleio_characteristic_get_handle (two));
  v1 = bleio_characteristic_read_value (one, &error);
  assert_no_error (error);
  v2 = bleio_characteristic_read_value (two, &error);
  assert_no_error (error);
  assert_bytes (v1, "\x01", 1);
  assert_bytes (v2, "\x02", 1);

  g_signal_connect (one, "notification", G_CALLBACK (on_notification), &s1);
  g_signal_connect (two, "notification", G_CALLBACK (on_notification), &s2);
  b1 = bleio_packet_buffer_new (one, 4, 0, &error);
  assert_no_error (error);
  b2 = bleio_packet_buffer_new (two, 4, 0, &error);
  assert_no_error (error);
  gatt_notify (env, H_DUP1, "one", 3);
  gatt_notify (env, H_DUP2, "two", 3);
  assert_true (gatt_wait (both_seen, &both, WAIT_MSEC));
  w.buffer = b1;
  assert_true (gatt_wait (packets_there, &w, WAIT_MSEC));
  w.buffer = b2;
  assert_true (gatt_wait (packets_there, &w, WAIT_MSEC));
  p1 = bleio_packet_buffer_read_packet (b1, &error);
  p2 = bleio_packet_buffer_read_packet (b2, &error);
  assert_bytes (p1, "one", 3);
  assert_bytes (p2, "two", 3);
  assert_int_equal (bleio_packet_buffer_get_packets_waiting (b1), 0);
  assert_int_equal (bleio_packet_buffer_get_packets_waiting (b2), 0);
  assert_int_equal (s1.values->len, 1);
  assert_int_equal (s2.values->len, 1);
  assert_bytes (g_ptr_array_index (s1.values, 0), "one", 3);
  assert_bytes (g_ptr_array_index (s2.values, 0), "two", 3);
  g_signal_handlers_disconnect_by_data (one, &s1);
  g_signal_handlers_disconnect_by_data (two, &s2);
  g_ptr_array_unref (s1.values);
  g_ptr_array_unref (s2.values);
}

/* Quirk 9: Value also changes when somebody reads. A CharacteristicBuffer
 * takes notifications only. */
static void
test_quirk9_reads_are_not_notifications (void **state)
{
  GattEnv *env = *state;
  BleioCharacteristic *dup1 = gatt_char (env, H_DUP1);
  BleioCharacteristic *noacq = gatt_char (env, H_NOACQ);
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristicBuffer) acquired = NULL;
  g_autoptr(BleioCharacteristicBuffer) signals = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) other = NULL;
  g_autoptr(GBytes) own = NULL;
  GattInWaiting w = { NULL, 1 };

  acquired = bleio_characteristic_buffer_new (dup1, 0.1, 64, &error);
  assert_no_error (error);
  assert_true (bleio_characteristic_buffer_get_notify_acquired (acquired));
  signals = bleio_characteristic_buffer_new (noacq, 0.1, 64, &error);
  assert_no_error (error);
  assert_false (bleio_characteristic_buffer_get_notify_acquired (signals));

  /* Another program reads both, and so do we: Value changes each time. */
  /* (earlier tests' notifications may have changed the values: the
   * simulated peripheral keeps what it last sent) */
  other = gatt_sim_read (env, H_DUP1);
  assert_true (g_bytes_get_size (other) > 0);
  g_clear_pointer (&other, g_bytes_unref);
  other = gatt_sim_read (env, H_NOACQ);
  assert_true (g_bytes_get_size (other) > 0);
  own = bleio_characteristic_read_value (dup1, &error);
  assert_no_error (error);
  g_clear_pointer (&own, g_bytes_unref);
  own = bleio_characteristic_read_value (noacq, &error);
  assert_no_error (error);

  /* Then real notifications; the signal path needs a subscription. */
  assert_true (bleio_characteristic_set_cccd (noacq, TRUE, FALSE, &error));
  assert_no_error (error);
  gatt_notify (env, H_DUP1, "N", 1);
  gatt_notify (env, H_NOACQ, "M", 1);
  w.buffer = acquired;
  assert_true (gatt_wait (gatt_in_waiting_reached, &w, WAIT_MSEC));
  w.buffer = signals;
  assert_true (gatt_wait (gatt_in_waiting_reached, &w, WAIT_MSEC));
  bytes = bleio_characteristic_buffer_read (acquired, 0, &error);
  assert_no_error (error);
  assert_bytes (bytes, "N", 1);
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = bleio_characteristic_buffer_read (signals, 0, &error);
  assert_no_error (error);
  assert_bytes (bytes, "M", 1);
}

/* ---- links lost in the middle of things ----------------------------------- */

static gboolean
sim_saw_call (gpointer user_data)
{
  void **args = user_data;

  return sim_fixture_count_calls (args[0], args[1]) >= 1;
}

typedef struct {
  int done;
  GError *error;
} Outcome;

static void
read_outcome_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Outcome *o = user_data;
  g_autoptr(GBytes) value = bleio_characteristic_read_value_finish (BLEIO_CHARACTERISTIC (source),
                                                                    result, &o->error);

  o->done = value != NULL ? 1 : 2;
}

static void
write_outcome_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Outcome *o = user_data;

  o->done = bleio_characteristic_write_value_finish (BLEIO_CHARACTERISTIC (source), result,
                                                     &o->error) ? 1 : 2;
}

static gboolean
outcome_done (gpointer user_data)
{
  return ((Outcome *) user_data)->done != 0;
}

static void
test_disconnect_during_read (void **state)
{
  GattEnv *env = *state;
  BleioCharacteristic *read = gatt_char (env, H_READ);
  g_autoptr(GError) error = NULL;
  Outcome first = { 0, NULL }, queued = { 0, NULL };
  void *args[2] = { env->fx, (void *) "ReadValue" };

  assert_true (sim_fixture_delay_next (env->fx, "ReadValue", 5000, 1, &error));
  assert_no_error (error);
  bleio_characteristic_read_value_async (read, NULL, read_outcome_cb, &first);
  bleio_characteristic_read_value_async (read, NULL, read_outcome_cb, &queued);
  assert_true (gatt_wait (sim_saw_call, args, WAIT_MSEC));
  gatt_drop_link (env);
  assert_true (gatt_wait (outcome_done, &first, WAIT_MSEC));
  assert_true (gatt_wait (outcome_done, &queued, WAIT_MSEC));
  assert_int_equal (first.done, 2);
  assert_bleio_error (first.error, BLEIO_ERROR_CONNECTION);
  /* The one waiting behind it fails the same way. */
  assert_int_equal (queued.done, 2);
  assert_bleio_error (queued.error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&first.error);
  g_clear_error (&queued.error);
}

static void
test_disconnect_during_write (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = g_bytes_new ("late", 4);
  Outcome o = { 0, NULL };
  void *args[2] = { env->fx, (void *) "WriteValue" };

  assert_true (sim_fixture_delay_next (env->fx, "WriteValue", 5000, 1, &error));
  assert_no_error (error);
  bleio_characteristic_write_value_full_async (gatt_char (env, H_RW), value,
                                               BLEIO_WRITE_TYPE_REQUEST, 0, NULL,
                                               write_outcome_cb, &o);
  assert_true (gatt_wait (sim_saw_call, args, WAIT_MSEC));
  gatt_drop_link (env);
  assert_true (gatt_wait (outcome_done, &o, WAIT_MSEC));
  assert_int_equal (o.done, 2);
  assert_bleio_error (o.error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&o.error);
}

static void
test_disconnect_during_notification_stream (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autofree char *path = gatt_char_path (H_STREAM);
  guint8 value[10] = { 'v', 'v', 'v', 'v', 'v', 'v', 'v', 'v', 'v', 'v' };
  guint8 chunk[4096];
  gsize total = 0;
  GattInWaiting w = { NULL, 1000 };

  buffer = bleio_characteristic_buffer_new (gatt_char (env, H_STREAM), 5, 1024 * 1024, &error);
  assert_no_error (error);
  assert_true (sim_fixture_notify_burst (env->fx, path, value, sizeof value, 1000000, &error));
  assert_no_error (error);
  w.buffer = buffer;
  assert_true (gatt_wait (gatt_in_waiting_reached, &w, WAIT_MSEC));
  gatt_drop_link (env);
  assert_true (gatt_wait (char_buffer_lost, buffer, WAIT_MSEC));

  /* Whole notifications up to the loss, then CONNECTION (not the 5 s
   * timeout, not a hang). */
  for (;;)
    {
      gssize n = bleio_characteristic_buffer_readinto (buffer, chunk, sizeof chunk, &error);

      if (n < 0)
        break;
      for (gssize i = 0; i < n; i++)
        assert_int_equal (chunk[i], 'v');
      total += (gsize) n;
    }
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  assert_true (total >= 1000);
  assert_true (total < sizeof value * 1000000);
  assert_int_equal (total % sizeof value, 0);
  assert_int_equal (bleio_characteristic_buffer_get_dropped (buffer), 0);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_quirk2_in_progress_concurrent_ops_queued, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_quirk2_in_progress_blocking_threads, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_quirk2_in_progress_from_elsewhere_retried, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_quirk2_in_progress_persistent_reported, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_quirk6_subscription_lost_on_reconnect, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_quirk7_zero_length_notification_is_a_packet, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_quirk7_hang_up_means_link_lost, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_quirk7_acquire_write_capped_by_mtu, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_quirk8_duplicate_uuids_distinct, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_quirk9_reads_are_not_notifications, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_disconnect_during_read, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_disconnect_during_write, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_disconnect_during_notification_stream, gatt_setup, gatt_teardown),
  };

  gatt_init (argc, argv);
  return cmocka_run_group_tests (tests, gatt_group_setup, gatt_group_teardown);
}
