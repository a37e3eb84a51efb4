/* SPDX-License-Identifier: MIT */
/*
 * BleioService's characteristics, BleioCharacteristic and BleioDescriptor
 * against bleio-sim (scenario tests/sim/scenarios/gatt.json).
 */
#include "gatt.h"

static GBytes *
bytes_from_string (const char *s)
{
  return g_bytes_new (s, strlen (s));
}

static void
test_characteristics (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GPtrArray) again = bleio_service_dup_characteristics (env->service);
  static const struct {
    guint16 handle;
    guint16 uuid;
    BleioCharacteristicProperties properties;
  } expected[] = {
    { H_STREAM, 0xaa01, BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY },
    { H_NOACQ, 0xaa02, BLEIO_CHARACTERISTIC_PROPERTY_READ | BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY },
    { H_RW, 0xaa03, BLEIO_CHARACTERISTIC_PROPERTY_READ | BLEIO_CHARACTERISTIC_PROPERTY_WRITE |
                    BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE },
    { H_INDICATE, 0xaa04, BLEIO_CHARACTERISTIC_PROPERTY_INDICATE },
    { H_READ, 0xaa05, BLEIO_CHARACTERISTIC_PROPERTY_READ | BLEIO_CHARACTERISTIC_PROPERTY_BROADCAST },
    { H_DUP1, 0xaa06, BLEIO_CHARACTERISTIC_PROPERTY_READ | BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY },
    { H_DUP2, 0xaa06, BLEIO_CHARACTERISTIC_PROPERTY_READ | BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY },
    { H_WRITE, 0xaa07, BLEIO_CHARACTERISTIC_PROPERTY_WRITE },
    { H_WNR_NOACQ, 0xaa08, BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE |
                           BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY },
  };

  assert_int_equal (env->characteristics->len, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      BleioCharacteristic *c = g_ptr_array_index (env->characteristics, i);
      g_autofree char *path = gatt_char_path (expected[i].handle);

      assert_int_equal (bleio_characteristic_get_handle (c), expected[i].handle);
      assert_int_equal (bleio_uuid_get_size (bleio_characteristic_get_uuid (c)), 16);
      assert_int_equal (bleio_uuid_get_uuid16 (bleio_characteristic_get_uuid (c)), expected[i].uuid);
      assert_int_equal (bleio_characteristic_get_properties (c), expected[i].properties);
      assert_string_equal (bleio_characteristic_get_object_path (c), path);
      assert_ptr_equal (bleio_characteristic_get_service (c), env->service);
      assert_int_equal (bleio_characteristic_get_max_length (c), 512);
      assert_int_equal (bleio_characteristic_get_mtu (c), BENCH_MTU);
      /* The same attribute is the same object while it is held. */
      assert_ptr_equal (g_ptr_array_index (again, i), c);
    }
}

static void
test_read (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = bleio_characteristic_read_value (gatt_char (env, H_READ), &error);

  assert_no_error (error);
  assert_bytes (value, "Hello", 5);
  assert_int_equal (sim_fixture_count_calls (env->fx, "ReadValue"), 1);
}

static void
read_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GBytes **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = bleio_characteristic_read_value_finish (BLEIO_CHARACTERISTIC (source), result, &error);
  assert_no_error (error);
}

static void
test_read_async (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GBytes) value = NULL;

  bleio_characteristic_read_value_async (gatt_char (env, H_DUP2), NULL, read_done_cb, &value);
  assert_true (gatt_wait (gatt_pointer_set, &value, WAIT_MSEC));
  assert_bytes (value, "\x02", 1);
}

static void
test_read_not_readable (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = bleio_characteristic_read_value (gatt_char (env, H_STREAM), &error);

  /* bluetoothd: NotSupported for a notify-only characteristic. */
  assert_null (value);
  assert_bleio_error (error, BLEIO_ERROR_NOT_SUPPORTED);
}

static void
test_write_default (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = bytes_from_string ("ab");
  g_autoptr(GBytes) back = NULL;

  /* H_RW offers write-without-response: _bleio writes a command. */
  assert_true (bleio_characteristic_write_value (gatt_char (env, H_RW), value, &error));
  assert_no_error (error);
  back = gatt_sim_read (env, H_RW);
  assert_bytes (back, "ab", 2);
  /* H_WRITE only takes requests. */
  assert_true (bleio_characteristic_write_value (gatt_char (env, H_WRITE), value, &error));
  assert_no_error (error);
  assert_int_equal (sim_fixture_count_calls (env->fx, "WriteValue"), 2);
}

static void
write_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  int *done = user_data;
  g_autoptr(GError) error = NULL;

  *done = bleio_characteristic_write_value_finish (BLEIO_CHARACTERISTIC (source), result, &error) ? 1 : 2;
  assert_no_error (error);
}

static gboolean
int_set (gpointer user_data)
{
  return *(int *) user_data != 0;
}

static void
test_write_types (void **state)
{
  GattEnv *env = *state;
  BleioCharacteristic *rw = gatt_char (env, H_RW);
  static const BleioWriteType types[] = {
    BLEIO_WRITE_TYPE_REQUEST, BLEIO_WRITE_TYPE_COMMAND, BLEIO_WRITE_TYPE_RELIABLE,
  };
  static const char *const values[] = { "request", "command", "reliable" };

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) value = bytes_from_string (values[i]);
      g_autoptr(GBytes) back = NULL;

      assert_true (bleio_characteristic_write_value_full (rw, value, types[i], 0, &error));
      assert_no_error (error);
      back = bleio_characteristic_read_value (rw, &error);
      assert_no_error (error);
      assert_bytes (back, values[i], strlen (values[i]));
    }

  /* A part of a long value, at an offset. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) part = bytes_from_string ("XY");
    g_autoptr(GBytes) back = NULL;
    int done = 0;

    assert_true (bleio_characteristic_write_value_full (rw, part, BLEIO_WRITE_TYPE_REQUEST, 3, &error));
    assert_no_error (error);
    back = bleio_characteristic_read_value (rw, &error);
    assert_bytes (back, "relXY", 5);

    /* and the async form */
    bleio_characteristic_write_value_full_async (rw, part, BLEIO_WRITE_TYPE_COMMAND, 0, NULL,
                                                 write_done_cb, &done);
    assert_true (gatt_wait (int_set, &done, WAIT_MSEC));
    assert_int_equal (done, 1);
    g_clear_pointer (&back, g_bytes_unref);
    back = gatt_sim_read (env, H_RW);
    assert_bytes (back, "XY", 2);
  }
}

static void
test_write_long (void **state)
{
  GattEnv *env = *state;
  BleioCharacteristic *rw = gatt_char (env, H_RW);
  guint8 data[513];
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) fits = NULL;
  g_autoptr(GBytes) one_more = NULL;
  g_autoptr(GBytes) too_long = NULL;
  g_autoptr(GBytes) back = NULL;

  for (guint i = 0; i < sizeof data; i++)
    data[i] = (guint8) i;
  fits = g_bytes_new (data, BENCH_MTU - 3);
  one_more = g_bytes_new (data, BENCH_MTU - 2);
  too_long = g_bytes_new (data, 513);

  /* A command must fit in one packet: MTU - 3. */
  assert_true (bleio_characteristic_write_value_full (rw, fits, BLEIO_WRITE_TYPE_COMMAND, 0, &error));
  assert_no_error (error);
  assert_false (bleio_characteristic_write_value_full (rw, one_more, BLEIO_WRITE_TYPE_COMMAND, 0, &error));
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  assert_non_null (strstr (error->message, "MTU"));
  g_clear_error (&error);
  /* the default type is a command here, so the same refusal */
  assert_false (bleio_characteristic_write_value (rw, one_more, &error));
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  assert_int_equal (sim_fixture_count_calls (env->fx, "WriteValue"), 1);

  /* A request may be longer: BlueZ makes it a long write. */
  g_clear_pointer (&fits, g_bytes_unref);
  fits = g_bytes_new (data, 512);
  assert_true (bleio_characteristic_write_value_full (rw, fits, BLEIO_WRITE_TYPE_REQUEST, 0, &error));
  assert_no_error (error);
  back = bleio_characteristic_read_value (rw, &error);
  assert_no_error (error);
  assert_bytes (back, data, 512);

  /* Past what an attribute holds: refused before BlueZ sees it. */
  assert_false (bleio_characteristic_write_value_full (rw, too_long, BLEIO_WRITE_TYPE_REQUEST, 0, &error));
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  assert_false (bleio_characteristic_write_value_full (rw, one_more, BLEIO_WRITE_TYPE_REQUEST, 500, &error));
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  assert_int_equal (sim_fixture_count_calls (env->fx, "WriteValue"), 2);
}

static void
test_descriptors (void **state)
{
  GattEnv *env = *state;
  BleioCharacteristic *rw = gatt_char (env, H_RW);
  g_autoptr(GPtrArray) descriptors = bleio_characteristic_dup_descriptors (rw);
  g_autoptr(GPtrArray) again = bleio_characteristic_dup_descriptors (rw);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = NULL;
  g_autoptr(GBytes) written = g_bytes_new ("\x03\x04", 2);
  BleioDescriptor *user, *custom;

  assert_int_equal (descriptors->len, 2);
  user = g_ptr_array_index (descriptors, 0);
  custom = g_ptr_array_index (descriptors, 1);
  assert_ptr_equal (g_ptr_array_index (again, 0), user);
  assert_int_equal (bleio_uuid_get_uuid16 (bleio_descriptor_get_uuid (user)), 0x2901);
  assert_int_equal (bleio_uuid_get_uuid16 (bleio_descriptor_get_uuid (custom)), 0xaaf1);
  assert_true (bleio_descriptor_get_handle (user) < bleio_descriptor_get_handle (custom));
  assert_true (bleio_descriptor_get_handle (user) > H_RW);
  assert_ptr_equal (bleio_descriptor_get_characteristic (user), rw);
  assert_true (g_str_has_prefix (bleio_descriptor_get_object_path (user),
                                 bleio_characteristic_get_object_path (rw)));

  value = bleio_descriptor_read_value (user, &error);
  assert_no_error (error);
  assert_bytes (value, "Read and write", 14);
  g_clear_pointer (&value, g_bytes_unref);
  value = bleio_descriptor_read_value (custom, &error);
  assert_no_error (error);
  assert_bytes (value, "\x01\x02", 2);
  assert_true (bleio_descriptor_write_value (custom, written, &error));
  assert_no_error (error);
  g_clear_pointer (&value, g_bytes_unref);
  value = bleio_descriptor_read_value (custom, &error);
  assert_no_error (error);
  assert_bytes (value, "\x03\x04", 2);
}

static void
test_cccd_descriptor (void **state)
{
  GattEnv *env = *state;
  BleioCharacteristic *stream = gatt_char (env, H_STREAM);
  g_autoptr(GPtrArray) descriptors = bleio_characteristic_dup_descriptors (stream);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = NULL;
  g_autoptr(GBytes) enable = g_bytes_new ("\x01\x00", 2);
  BleioDescriptor *cccd;

  assert_int_equal (descriptors->len, 1);
  cccd = g_ptr_array_index (descriptors, 0);
  assert_int_equal (bleio_uuid_get_uuid16 (bleio_descriptor_get_uuid (cccd)), 0x2902);
  value = bleio_descriptor_read_value (cccd, &error);
  assert_no_error (error);
  assert_bytes (value, "\x00\x00", 2);

  /* BlueZ refuses CCCD writes; the error says what to do instead. */
  assert_false (bleio_descriptor_write_value (cccd, enable, &error));
  assert_bleio_error (error, BLEIO_ERROR_NOT_PERMITTED);
  assert_non_null (strstr (error->message, "set_cccd"));
  g_clear_error (&error);

  assert_true (bleio_characteristic_set_cccd (stream, TRUE, FALSE, &error));
  assert_no_error (error);
  g_clear_pointer (&value, g_bytes_unref);
  value = bleio_descriptor_read_value (cccd, &error);
  assert_no_error (error);
  assert_bytes (value, "\x01\x00", 2);
  assert_true (bleio_characteristic_set_cccd (stream, FALSE, FALSE, &error));
  assert_no_error (error);
}

static void
desc_read_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GBytes **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = bleio_descriptor_read_value_finish (BLEIO_DESCRIPTOR (source), result, &error);
  assert_no_error (error);
}

static void
desc_write_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  int *done = user_data;
  g_autoptr(GError) error = NULL;

  *done = bleio_descriptor_write_value_finish (BLEIO_DESCRIPTOR (source), result, &error) ? 1 : 2;
  assert_no_error (error);
}

static void
test_descriptors_async (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GPtrArray) descriptors = bleio_characteristic_dup_descriptors (gatt_char (env, H_RW));
  BleioDescriptor *custom = g_ptr_array_index (descriptors, 1);
  g_autoptr(GBytes) written = g_bytes_new ("\x0a\x0b\x0c", 3);
  g_autoptr(GBytes) value = NULL;
  int done = 0;

  bleio_descriptor_write_value_async (custom, written, NULL, desc_write_cb, &done);
  assert_true (gatt_wait (int_set, &done, WAIT_MSEC));
  assert_int_equal (done, 1);
  bleio_descriptor_read_value_async (custom, NULL, desc_read_cb, &value);
  assert_true (gatt_wait (gatt_pointer_set, &value, WAIT_MSEC));
  assert_bytes (value, "\x0a\x0b\x0c", 3);
}

typedef struct {
  GPtrArray *values;
  GThread *thread;
} Received;

static void
on_notification (BleioCharacteristic *characteristic,
                 GBytes              *value,
                 gpointer             user_data)
{
  Received *r = user_data;

  g_ptr_array_add (r->values, g_bytes_ref (value));
  r->thread = g_thread_self ();
}

typedef struct {
  Received *r;
  guint count;
} CountWait;

static gboolean
received_count (gpointer user_data)
{
  CountWait *w = user_data;

  return w->r->values->len >= w->count;
}

static void
test_set_cccd_notifications (void **state)
{
  GattEnv *env = *state;
  BleioCharacteristic *stream = gatt_char (env, H_STREAM);
  g_autofree char *path = gatt_char_path (H_STREAM);
  g_autoptr(GError) error = NULL;
  Received r = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref), NULL };
  CountWait w = { &r, 50 };
  gulong id;

  id = g_signal_connect (stream, "notification", G_CALLBACK (on_notification), &r);
  assert_true (bleio_characteristic_set_cccd (stream, TRUE, FALSE, &error));
  assert_no_error (error);
  assert_true (gatt_sim_bool (env, path, "org.bluez.GattCharacteristic1", "Notifying"));
  /* A second subscription is harmless. */
  assert_true (bleio_characteristic_set_cccd (stream, TRUE, TRUE, &error));
  assert_no_error (error);

  for (guint i = 0; i < w.count; i++)
    {
      guint8 payload[3] = { (guint8) i, 0xee, (guint8) (i * 3) };

      gatt_notify (env, H_STREAM, payload, i % 4);   /* includes empty ones */
    }
  assert_true (gatt_wait (received_count, &w, WAIT_MSEC));
  assert_int_equal (r.values->len, w.count);
  for (guint i = 0; i < w.count; i++)
    {
      guint8 payload[3] = { (guint8) i, 0xee, (guint8) (i * 3) };

      assert_bytes (g_ptr_array_index (r.values, i), payload, i % 4);
    }
  /* In the context that was the default when the object was made. */
  assert_ptr_equal (r.thread, g_thread_self ());

  assert_true (bleio_characteristic_set_cccd (stream, FALSE, FALSE, &error));
  assert_no_error (error);
  assert_false (gatt_sim_bool (env, path, "org.bluez.GattCharacteristic1", "Notifying"));
  /* Unsubscribing twice is fine too (BlueZ says "No notify session"). */
  assert_true (bleio_characteristic_set_cccd (stream, FALSE, FALSE, &error));
  assert_no_error (error);
  g_signal_handler_disconnect (stream, id);
  g_ptr_array_unref (r.values);
}

static void
test_set_cccd_indicate (void **state)
{
  GattEnv *env = *state;
  BleioCharacteristic *indicate = gatt_char (env, H_INDICATE);
  g_autofree char *path = gatt_char_path (H_INDICATE);
  g_autoptr(GError) error = NULL;

  /* Only indications are offered: asking for notifications alone fails. */
  assert_false (bleio_characteristic_set_cccd (indicate, TRUE, FALSE, &error));
  assert_bleio_error (error, BLEIO_ERROR_BLUETOOTH);
  g_clear_error (&error);
  assert_true (bleio_characteristic_set_cccd (indicate, FALSE, TRUE, &error));
  assert_no_error (error);
  assert_true (gatt_sim_bool (env, path, "org.bluez.GattCharacteristic1", "Notifying"));
  assert_true (bleio_characteristic_set_cccd (indicate, FALSE, FALSE, &error));
  assert_no_error (error);
}

static void
test_set_cccd_without_cccd (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;

  assert_false (bleio_characteristic_set_cccd (gatt_char (env, H_READ), TRUE, FALSE, &error));
  assert_bleio_error (error, BLEIO_ERROR_BLUETOOTH);
  assert_int_equal (sim_fixture_count_calls (env->fx, "StartNotify"), 0);
}

static void
cccd_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  int *done = user_data;
  g_autoptr(GError) error = NULL;

  *done = bleio_characteristic_set_cccd_finish (BLEIO_CHARACTERISTIC (source), result, &error) ? 1 : 2;
  assert_no_error (error);
}

static void
test_set_cccd_async (void **state)
{
  GattEnv *env = *state;
  g_autofree char *path = gatt_char_path (H_DUP1);
  int done = 0;

  bleio_characteristic_set_cccd_async (gatt_char (env, H_DUP1), TRUE, FALSE, NULL,
                                       cccd_done_cb, &done);
  assert_true (gatt_wait (int_set, &done, WAIT_MSEC));
  assert_int_equal (done, 1);
  assert_true (gatt_sim_bool (env, path, "org.bluez.GattCharacteristic1", "Notifying"));
}

static void
test_after_disconnect (void **state)
{
  GattEnv *env = *state;
  BleioCharacteristic *rw = gatt_char (env, H_RW);
  g_autoptr(GPtrArray) descriptors = bleio_characteristic_dup_descriptors (rw);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = g_bytes_new ("x", 1);
  g_autoptr(GBytes) got = NULL;

  assert_true (bleio_connection_disconnect (env->connection, &error));
  assert_no_error (error);
  got = bleio_characteristic_read_value (rw, &error);
  assert_null (got);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&error);
  assert_false (bleio_characteristic_write_value (rw, value, &error));
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&error);
  assert_false (bleio_characteristic_set_cccd (gatt_char (env, H_STREAM), TRUE, FALSE, &error));
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&error);
  got = bleio_descriptor_read_value (g_ptr_array_index (descriptors, 0), &error);
  assert_null (got);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&error);
  /* The objects stay usable as values. */
  assert_int_equal (bleio_characteristic_get_handle (rw), H_RW);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_characteristics, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_read, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_read_async, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_read_not_readable, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_write_default, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_write_types, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_write_long, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_descriptors, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_descriptors_async, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_cccd_descriptor, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_set_cccd_notifications, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_set_cccd_indicate, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_set_cccd_without_cccd, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_set_cccd_async, gatt_setup, gatt_teardown),
    cmocka_unit_test_setup_teardown (test_after_disconnect, gatt_setup, gatt_teardown),
  };

  gatt_init (argc, argv);
  return cmocka_run_group_tests (tests, gatt_group_setup, gatt_group_teardown);
}
