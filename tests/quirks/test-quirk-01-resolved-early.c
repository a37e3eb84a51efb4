/* SPDX-License-Identifier: MIT */
/*
 * DESIGN.md quirk 1, second case (bluez#1489): ServicesResolved turns true
 * before bluetoothd has exported the GATT objects. Reproduced by another
 * program connecting a peripheral whose services resolve slowly, and the
 * simulator's SetProperty flipping ServicesResolved early.
 */
#include "central.h"

typedef CommonGroup Group;

static void
test_quirk_services_resolved_before_objects (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  g_autoptr(BleioConnection) connection =
    common_link_made_elsewhere (g->fx, g->adapter, "00:BB:00:00:04:02",
                         "\"connect\": {\"resolve_delay_ms\": 1500}, " TWO_SERVICES, &path);
  g_autoptr(GPtrArray) services = NULL;

  /* bluez#1489: ServicesResolved turns true while no GATT object has been
   * exported yet. */
  assert_null (sim_fixture_find_gatt (g->fx, path, "org.bluez.GattService1", NULL, NULL, NULL));
  assert_true (sim_fixture_set_property (g->fx, path, "org.bluez.Device1", "ServicesResolved",
                                         g_variant_new_boolean (TRUE), &error));
  assert_no_error (error);
  services = bleio_connection_discover_remote_services (connection, NULL, 10, &error);
  assert_no_error (error);
  /* Not an empty or partial list: both services, in handle order. */
  assert_int_equal (services->len, 2);
  assert_true (bleio_service_get_handle (g_ptr_array_index (services, 0)) <
               bleio_service_get_handle (g_ptr_array_index (services, 1)));
  assert_true (bleio_connection_disconnect (connection, &error));
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
  g_free (path);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_quirk_services_resolved_before_objects),
  };

  return cmocka_run_group_tests (tests, common_group_setup, common_group_teardown);
}
