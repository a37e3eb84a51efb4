/* SPDX-License-Identifier: MIT */
/*
 * Faults under the local GATT server (issue 17 item 4): bluetoothd killed
 * (SIGKILL, a new one on the same bus) and the adapter removed and added
 * back. Both make bluetoothd forget the application; the library
 * registers it again by itself, with the values last set, and emits
 * BleioAdapter::services-restored.
 *
 *   test-faults-gatt-app SCENARIO
 */
#include "faults.h"

#define APP_ROOT "/org/bleio/gatt/"

typedef struct {
  guint count;
  GError *error;
} Restored;

static void
on_restored (BleioAdapter *adapter,
             const GError *error,
             gpointer      user_data)
{
  Restored *r = user_data;

  (void) adapter;
  r->count++;
  g_clear_error (&r->error);
  if (error != NULL)
    r->error = g_error_copy (error);
}

static gboolean
restored (gpointer user_data)
{
  return ((Restored *) user_data)->count > 0;
}

/* Attributes of ours in hci0's database, as the simulated bluetoothd
 * placed them. */
static guint
served (SimFixture *fx)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = sim_fixture_call (fx, "GetGattDatabase", g_variant_new ("(s)", "hci0"),
                                                &error);
  g_autoptr(GVariantIter) iter = NULL;
  const char *path;
  guint n = 0;

  if (reply == NULL)
    return 0;
  g_variant_get (reply, "(a(qsso))", &iter);
  while (g_variant_iter_next (iter, "(qs&s&o)", NULL, NULL, NULL, &path))
    if (g_str_has_prefix (path, APP_ROOT))
      n++;
  return n;
}

/* A published service with one characteristic holding "kept". */
static BleioCharacteristic *
serve (Env           *env,
       BleioService **service)
{
  g_autoptr(BleioUuid) su = bleio_uuid_new_from_uuid16 (0xfff0);
  g_autoptr(BleioUuid) cu = bleio_uuid_new_from_uuid16 (0xfff1);
  g_autoptr(GBytes) kept = g_bytes_new_static ("kept", 4);
  g_autoptr(GError) error = NULL;
  BleioCharacteristic *chr;

  *service = bleio_service_new (env->adapter, su, FALSE, &error);
  assert_no_error (error);
  chr = bleio_characteristic_add_to_service (*service, cu, BLEIO_CHARACTERISTIC_PROPERTY_READ |
                                             BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY,
                                             BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_NO_ACCESS,
                                             20, FALSE, NULL, NULL, &error);
  assert_no_error (error);
  assert_true (bleio_adapter_publish_services (env->adapter, NULL, &error));
  assert_no_error (error);
  assert_true (served (env->fx) >= 2);
  /* Set after publishing: what comes back is the value last set. */
  assert_true (bleio_characteristic_write_value (chr, kept, &error));
  assert_no_error (error);
  return chr;
}

static void
assert_served_again (Env                 *env,
                     Restored            *r,
                     BleioCharacteristic *chr)
{
  g_autoptr(GBytes) value = NULL;

  assert_true (common_wait (restored, r, WAIT_MSEC));
  assert_int_equal (r->count, 1);
  assert_null (r->error);
  assert_true (served (env->fx) >= 2);
  value = bleio_characteristic_dup_value (chr);
  assert_int_equal (g_bytes_get_size (value), 4);
  assert_memory_equal (g_bytes_get_data (value, NULL), "kept", 4);
  assert_false (bleio_characteristic_get_notifying (chr));
}

static void
test_fault_gatt_app_crash (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioService) service = NULL;
  g_autoptr(BleioCharacteristic) chr = serve (env, &service);
  Restored r = { 0, NULL };
  gulong id = g_signal_connect (env->adapter, "services-restored", G_CALLBACK (on_restored), &r);

  assert_true (sim_fixture_crash (env->fx, &error));
  assert_no_error (error);
  assert_served_again (env, &r, chr);
  g_signal_handler_disconnect (env->adapter, id);
}

static void
test_fault_gatt_app_adapter_removed (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(BleioService) service = NULL;
  g_autoptr(BleioCharacteristic) chr = serve (env, &service);
  Restored r = { 0, NULL };
  gulong id = g_signal_connect (env->adapter, "services-restored", G_CALLBACK (on_restored), &r);

  reply = sim_fixture_call (env->fx, "RemoveAdapter", g_variant_new ("(s)", "hci0"), &error);
  assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  /* Plugged in again: bluetoothd's new adapter has no application until
   * the library registers it. */
  reply = sim_fixture_call (env->fx, "AddAdapter",
                            g_variant_new ("(ss)", "hci0", "00:AA:01:00:00:00"), &error);
  assert_no_error (error);
  assert_served_again (env, &r, chr);
  g_signal_handler_disconnect (env->adapter, id);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_fault_gatt_app_crash, faults_setup, faults_teardown),
    cmocka_unit_test_setup_teardown (test_fault_gatt_app_adapter_removed, faults_setup,
                                     faults_teardown),
  };

  faults_init (argc, argv);
  return cmocka_run_group_tests (tests, NULL, NULL);
}
