/* SPDX-License-Identifier: MIT */
/* What gatt.h declares (the comments are there). */
#include "gatt.h"

char *gatt_scenario_path;
void
gatt_init (int    argc,
           char **argv)
{
  if (argc < 2)
    {
      fprintf (stderr, "usage: %s SCENARIO.json\n", argv[0]);
      exit (2);
    }
  gatt_scenario_path = argv[1];
}

int
gatt_group_setup (void **state)
{
  g_autoptr(GError) error = NULL;
  GattEnv *env = g_new0 (GattEnv, 1);

  env->fx = sim_fixture_new (gatt_scenario_path, &error);
  if (env->fx == NULL)
    {
      fprintf (stderr, "simulator: %s\n", error->message);
      g_free (env);
      return -1;
    }
  /* Discovered once, kept for the whole group: every test connects
   * through Device1.Connect. */
  g_autoptr(GVariant) reply = sim_fixture_call (env->fx, "SetTemporaryTimeout",
                                                g_variant_new ("(u)", 3600 * 1000), &error);
  g_autofree char *device = NULL;

  if (reply == NULL)
    {
      fprintf (stderr, "SetTemporaryTimeout: %s\n", error->message);
      return -1;
    }
  device = sim_fixture_find_device (env->fx, "/org/bluez/hci0", "GattBench", &error);
  if (device == NULL)
    {
      fprintf (stderr, "GattBench not found: %s\n", error->message);
      return -1;
    }
  env->adapter = bleio_adapter_new_for_name (sim_fixture_get_connection (env->fx),
                                             "hci0", NULL, &error);
  if (env->adapter == NULL)
    {
      fprintf (stderr, "adapter: %s\n", error->message);
      return -1;
    }
  *state = env;
  return 0;
}

int
gatt_group_teardown (void **state)
{
  GattEnv *env = *state;

  g_clear_object (&env->adapter);
  /* Let the library's pending callbacks run out before the bus goes. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  sim_fixture_free (env->fx);
  g_free (env);
  return 0;
}

BleioCharacteristic *
gatt_char (GattEnv *env,
           guint16  handle)
{
  for (guint i = 0; i < env->characteristics->len; i++)
    {
      BleioCharacteristic *c = g_ptr_array_index (env->characteristics, i);

      if (bleio_characteristic_get_handle (c) == handle)
        return c;
    }
  fail_msg ("no characteristic with handle 0x%04x", handle);
  return NULL;
}

char *
gatt_char_path (guint16 handle)
{
  return g_strdup_printf ("%s/service0010/char%04x", BENCH_PATH, handle);
}

int
gatt_setup (void **state)
{
  GattEnv *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAddress) address = bleio_address_new_from_string (BENCH_ADDRESS,
                                                                   BLEIO_ADDRESS_TYPE_PUBLIC,
                                                                   &error);
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioUuid) uuid = bleio_uuid_new_from_uuid16 (0xaa00);

  assert_no_error (error);
  sim_fixture_reset_calls (env->fx, NULL);
  env->connection = bleio_adapter_connect (env->adapter, address, 10, NULL, &error);
  assert_no_error (error);
  assert_non_null (env->connection);
  services = bleio_connection_discover_remote_services (env->connection, NULL, 10, &error);
  assert_no_error (error);
  for (guint i = 0; i < services->len; i++)
    if (bleio_uuid_equal (bleio_service_get_uuid (g_ptr_array_index (services, i)), uuid))
      env->service = g_object_ref (g_ptr_array_index (services, i));
  assert_non_null (env->service);
  env->characteristics = bleio_service_dup_characteristics (env->service);
  assert_int_equal (env->characteristics->len, 9);
  sim_fixture_reset_calls (env->fx, NULL);
  return 0;
}

static gboolean
gatt_sim_disconnected (gpointer user_data)
{
  GattEnv *env = user_data;
  g_autoptr(GVariant) connected = sim_fixture_get_property (env->fx, BENCH_PATH,
                                                            "org.bluez.Device1", "Connected");

  return connected == NULL || !g_variant_get_boolean (connected);
}

gboolean
gatt_wait (GattCondition cond,
           gpointer      user_data,
           guint         msec)
{
  return poll_until (cond, user_data, msec, 2000);
}

static gboolean
gatt_cache_emptied (gpointer user_data)
{
  g_autoptr(GPtrArray) left = bleio_service_dup_characteristics (user_data);

  return left->len == 0;
}

int
gatt_teardown (void **state)
{
  GattEnv *env = *state;

  if (env->connection != NULL)
    bleio_connection_disconnect (env->connection, NULL);
  /* Whatever a failed test left behind (a second link, an acquired
   * socket): the peripheral goes away, as a real one would. */
  if (!gatt_sim_disconnected (env))
    {
      GVariant *reply = sim_fixture_call_bluez (env->fx, BENCH_PATH, "org.bluez.Device1",
                                                "Disconnect", NULL, NULL);

      g_clear_pointer (&reply, g_variant_unref);
    }
  gatt_wait (gatt_sim_disconnected, env, WAIT_MSEC);
  /* and until the library's cache has seen the objects go (its worker may
   * lag behind the simulator under a sanitizer), so that the next test's
   * discovery does not read the old link's state */
  if (env->service != NULL)
    gatt_wait (gatt_cache_emptied, env->service, WAIT_MSEC);
  g_clear_pointer (&env->characteristics, g_ptr_array_unref);
  g_clear_object (&env->service);
  g_clear_object (&env->connection);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return 0;
}

gboolean
gatt_sim_bool (GattEnv    *env,
               const char *path,
               const char *interface,
               const char *name)
{
  g_autoptr(GVariant) value = sim_fixture_get_property (env->fx, path, interface, name);

  return value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN) &&
         g_variant_get_boolean (value);
}

void
gatt_notify (GattEnv      *env,
             guint16       handle,
             const void   *data,
             gsize         len)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = gatt_char_path (handle);

  assert_true (sim_fixture_notify (env->fx, path, data, len, &error));
  assert_no_error (error);
}

void
gatt_drop_link (GattEnv *env)
{
  g_autoptr(GError) error = NULL;

  assert_true (sim_fixture_drop_link (env->fx, BENCH_PATH, "test", &error));
  assert_no_error (error);
}

GBytes *
gatt_sim_read (GattEnv *env,
               guint16  handle)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = gatt_char_path (handle);
  g_autoptr(GVariant) reply = sim_fixture_call_bluez (env->fx, path,
                                                      "org.bluez.GattCharacteristic1",
                                                      "ReadValue",
                                                      g_variant_new ("(a{sv})", NULL), &error);
  g_autoptr(GVariant) value = NULL;
  gsize len = 0;
  const guint8 *data;

  assert_no_error (error);
  value = g_variant_get_child_value (reply, 0);
  data = g_variant_get_fixed_array (value, &len, 1);
  return g_bytes_new (data, len);
}

void
assert_bytes (GBytes     *bytes,
              const void *expected,
              gsize       len)
{
  assert_non_null (bytes);
  assert_int_equal (g_bytes_get_size (bytes), len);
  if (len > 0)
    assert_memory_equal (g_bytes_get_data (bytes, NULL), expected, len);
}

gboolean
gatt_pointer_set (gpointer user_data)
{
  return *(gpointer *) user_data != NULL;
}

gboolean
gatt_in_waiting_reached (gpointer user_data)
{
  GattInWaiting *w = user_data;

  return bleio_characteristic_buffer_get_in_waiting (w->buffer) >= w->n;
}

void
gatt_wait_in_waiting (BleioCharacteristicBuffer *buffer,
                      gsize                      n)
{
  GattInWaiting w = { buffer, n };

  assert_true (gatt_wait (gatt_in_waiting_reached, &w, WAIT_MSEC));
}
