/* SPDX-License-Identifier: MIT */
/* bleio_adapter_get_paired() (issue 15 item 4): bluetoothd 5.66 keeps
 * Paired and Bonded on a bonded peer's object after the link ends, so the
 * pairing is known without a link; a device BlueZ does not know is not
 * paired. */
#include "central.h"

typedef CommonGroup Group;

static void
test_paired_survives_disconnect (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAddress) address = common_address ("00:CC:00:00:04:01");
  char *path = NULL;
  BleioConnection *connection = common_add_and_connect (g, "00:CC:00:00:04:01",
    "{\"address\": \"00:CC:00:00:04:01\", \"name\": \"Bonded\", \"pairing\": {}}", &path);

  assert_false (bleio_adapter_get_paired (g->adapter, address, &error));
  assert_no_error (error);
  assert_true (bleio_connection_pair (connection, TRUE, &error));
  assert_no_error (error);
  assert_true (bleio_adapter_get_paired (g->adapter, address, &error));
  assert_no_error (error);
  assert_true (bleio_connection_disconnect (connection, &error));
  assert_no_error (error);
  assert_true (sim_fixture_wait_property (g->fx, path, "org.bluez.Device1", "Connected",
                                          g_variant_new_boolean (FALSE), WAIT_MSEC));
  /* The link is down: the connection cannot say, the adapter can. */
  assert_false (bleio_connection_get_connected (connection));
  assert_true (bleio_adapter_get_paired (g->adapter, address, &error));
  assert_no_error (error);
  g_object_unref (connection);
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
  g_free (path);
}

static void
test_unknown_device_not_paired (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAddress) address = common_address ("00:CC:00:00:04:99");

  assert_false (bleio_adapter_get_paired (g->adapter, address, &error));
  assert_no_error (error);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_paired_survives_disconnect),
    cmocka_unit_test (test_unknown_device_not_paired),
  };

  return cmocka_run_group_tests (tests, common_group_setup, common_group_teardown);
}
