/* SPDX-License-Identifier: MIT */
/* bluetoothd 5.66's quirks of GATT applications (issue 17), not in §3:
 * it reads an application's tree once, with GetManagedObjects while it
 * registers it, and gives handles only to what was there then (an
 * attribute added later is not served until the application registers
 * again); and it forgets every application when it restarts. Seen here
 * in the simulator's GATT database of the serving adapter.
 *
 *   test-quirk-gatt-app SCENARIO
 */
#include "central.h"

#define APP_ROOT "/org/bleio/gatt/"

static const char *scenario;

static int
group_setup (void **state)
{
  g_autoptr(GError) error = NULL;
  SimFixture *fx = sim_fixture_new (scenario, &error);

  if (fx == NULL)
    {
      g_printerr ("simulator: %s\n", error->message);
      return -1;
    }
  *state = fx;
  return 0;
}

static BleioUuid *
uuid16 (guint16 u)
{
  return bleio_uuid_new_from_uuid16 (u);
}

/* The application's attributes in hci1's database, as bluetoothd placed
 * them: the number of attributes whose object is ours. */
static guint
served (SimFixture *fx)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = sim_fixture_call (fx, "GetGattDatabase", g_variant_new ("(s)", "hci1"),
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

typedef struct {
  SimFixture *fx;
  guint at_least;
} ServedWait;

static gboolean
served_at_least (gpointer user_data)
{
  ServedWait *w = user_data;

  return served (w->fx) >= w->at_least;
}

static void
test_quirk_application_read_once_at_registration (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci1");
  g_autoptr(BleioUuid) su = uuid16 (0xfff0);
  g_autoptr(BleioUuid) c1 = uuid16 (0xfff1);
  g_autoptr(BleioUuid) c2 = uuid16 (0xfff2);
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioService) service = bleio_service_new (adapter, su, FALSE, &error);
  g_autoptr(BleioCharacteristic) first = NULL;
  g_autoptr(BleioCharacteristic) second = NULL;
  guint before;

  assert_no_error (error);
  first = bleio_characteristic_add_to_service (service, c1, BLEIO_CHARACTERISTIC_PROPERTY_READ,
                                               BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_NO_ACCESS,
                                               20, FALSE, NULL, NULL, &error);
  assert_no_error (error);
  assert_true (bleio_adapter_publish_services (adapter, NULL, &error));
  assert_no_error (error);
  /* The service declaration, the characteristic's declaration and value. */
  before = served (fx);
  assert_true (before >= 2);

  /* Added after registration: libbleio registers the tree again, and
   * bluetoothd places the new characteristic. */
  second = bleio_characteristic_add_to_service (service, c2, BLEIO_CHARACTERISTIC_PROPERTY_READ,
                                                BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_NO_ACCESS,
                                                20, FALSE, NULL, NULL, &error);
  assert_no_error (error);
  assert_true (bleio_adapter_publish_services (adapter, NULL, &error));
  assert_no_error (error);
  assert_true (served (fx) > before);
}

static void
on_restored (BleioAdapter *adapter,
             const GError *error,
             gpointer      user_data)
{
  (void) adapter;
  assert_null (error);
  (*(guint *) user_data)++;
}

static gboolean
restored (gpointer user_data)
{
  return *(guint *) user_data > 0;
}

static void
test_quirk_application_forgotten_on_restart (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci1");
  g_autoptr(BleioUuid) su = uuid16 (0xfee0);
  g_autoptr(BleioUuid) cu = uuid16 (0xfee1);
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioService) service = bleio_service_new (adapter, su, FALSE, &error);
  g_autoptr(BleioCharacteristic) chr = NULL;
  guint count = 0;
  ServedWait w = { fx, 2 };

  assert_no_error (error);
  chr = bleio_characteristic_add_to_service (service, cu, BLEIO_CHARACTERISTIC_PROPERTY_READ,
                                             BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_NO_ACCESS,
                                             20, FALSE, NULL, NULL, &error);
  assert_no_error (error);
  g_signal_connect (adapter, "services-restored", G_CALLBACK (on_restored), &count);
  assert_true (bleio_adapter_publish_services (adapter, NULL, &error));
  assert_no_error (error);
  assert_true (served (fx) >= 2);

  assert_true (sim_fixture_restart (fx, 1000, &error));
  assert_no_error (error);
  assert_true (common_wait (restored, &count, WAIT_MSEC));
  assert_int_equal (count, 1);
  /* The new bluetoothd holds the application again. */
  assert_true (common_wait (served_at_least, &w, WAIT_MSEC));
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_quirk_application_read_once_at_registration),
    cmocka_unit_test (test_quirk_application_forgotten_on_restart),
  };

  if (argc < 2)
    {
      g_printerr ("usage: %s SCENARIO\n", argv[0]);
      return 2;
    }
  scenario = argv[1];
  return cmocka_run_group_tests (tests, group_setup, sim_fixture_group_teardown);
}
