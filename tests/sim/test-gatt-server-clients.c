/* SPDX-License-Identifier: MIT */
/* The local GATT server with several clients, and its lifetime (issue 17
 * items 2, 4 and their part of 10), on scenarios/three-adapters.json:
 * libbleio serves on hci1; hci0 and hci2 are its clients. A value set
 * while both are subscribed reaches both; bluetoothd keeps the
 * application notifying until the last subscriber has gone, a disconnect
 * counting as leaving; and the application is unregistered from
 * bluetoothd when its adapter object is finalized.
 *
 *   test-gatt-server-clients SCENARIO
 */
#include "advertising.h"

#define SERVICE_UUID "0000fff0-0000-1000-8000-00805f9b34fb"
#define NOTIFY_UUID "0000fff2-0000-1000-8000-00805f9b34fb"
#define APP_ROOT "/org/bleio/gatt/"

static const char *scenario;

static BleioUuid *
uuid (const char *text)
{
  g_autoptr(GError) error = NULL;
  BleioUuid *u = bleio_uuid_new_from_string (text, &error);

  assert_no_error (error);
  return u;
}

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

/* Attributes of the application in the simulator's database of hci1. */
static guint
app_attributes (SimFixture *fx)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = sim_fixture_call (fx, "GetGattDatabase", g_variant_new ("(s)", "hci1"),
                                                &error);
  g_autoptr(GVariantIter) iter = NULL;
  const char *path;
  guint n = 0;

  assert_no_error (error);
  g_variant_get (reply, "(a(qsso))", &iter);
  while (g_variant_iter_next (iter, "(qs&s&o)", NULL, NULL, NULL, &path))
    if (g_str_has_prefix (path, APP_ROOT))
      n++;
  return n;
}

typedef struct {
  SimFixture *fx;
  guint expected;
} AttrsWait;

static gboolean
attrs_are (gpointer user_data)
{
  AttrsWait *w = user_data;

  return app_attributes (w->fx) == w->expected;
}

typedef struct {
  BleioAdapter *adapter;
  guint expected;
} LinksWait;

static gboolean
links_are (gpointer user_data)
{
  LinksWait *w = user_data;
  g_autoptr(GPtrArray) links = bleio_adapter_dup_connections (w->adapter);

  return links->len == w->expected;
}

static gboolean
notifying (gpointer user_data)
{
  return bleio_characteristic_get_notifying (user_data);
}

static gboolean
not_notifying (gpointer user_data)
{
  return !bleio_characteristic_get_notifying (user_data);
}

typedef struct {
  GPtrArray *values;
} Notes;

static void
on_notification (BleioCharacteristic *characteristic,
                 GBytes              *value,
                 gpointer             user_data)
{
  (void) characteristic;
  g_ptr_array_add (((Notes *) user_data)->values, g_bytes_ref (value));
}

static gboolean
noted (gpointer user_data)
{
  return ((Notes *) user_data)->values->len > 0;
}

/* @client connects to @server (advertising for it) and subscribes to the
 * notify characteristic; its remote object. */
static BleioCharacteristic *
subscribe (BleioAdapter     *client,
           BleioAdapter     *server,
           BleioConnection **link)
{
  g_autoptr(BleioAddress) address = bleio_adapter_dup_address (server);
  g_autoptr(BleioUuid) su = uuid (SERVICE_UUID);
  g_autoptr(BleioUuid) cu = uuid (NOTIFY_UUID);
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(GError) error = NULL;
  BleioCharacteristic *found = NULL;

  if (bleio_adapter_get_advertising (server))
    {
      assert_true (bleio_adapter_stop_advertising (server, &error));
      assert_no_error (error);
    }
  adv_start_ok (server, "02 01 06", "06 09 4d 75 6c 74 69", TRUE, 0);
  *link = bleio_adapter_connect (client, address, 10, NULL, &error);
  assert_no_error (error);
  services = bleio_connection_discover_remote_services (*link, NULL, 10, &error);
  assert_no_error (error);
  for (guint i = 0; i < services->len && found == NULL; i++)
    {
      BleioService *service = g_ptr_array_index (services, i);
      g_autoptr(GPtrArray) chars = NULL;

      if (!bleio_uuid_equal (bleio_service_get_uuid (service), su))
        continue;
      chars = bleio_service_dup_characteristics (service);
      for (guint j = 0; j < chars->len && found == NULL; j++)
        if (bleio_uuid_equal (bleio_characteristic_get_uuid (g_ptr_array_index (chars, j)), cu))
          found = g_object_ref (g_ptr_array_index (chars, j));
    }
  assert_non_null (found);
  assert_true (bleio_characteristic_set_cccd (found, TRUE, FALSE, &error));
  assert_no_error (error);
  return found;
}

static void
test_gatt_server_two_clients_then_finalize (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) hci0 = common_adapter (fx, "hci0");
  g_autoptr(BleioAdapter) hci2 = common_adapter (fx, "hci2");
  BleioAdapter *server = common_adapter (fx, "hci1");
  g_autoptr(BleioUuid) su = uuid (SERVICE_UUID);
  g_autoptr(BleioUuid) cu = uuid (NOTIFY_UUID);
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioService) service = NULL;
  g_autoptr(BleioCharacteristic) local = NULL;
  g_autoptr(BleioConnection) link0 = NULL;
  g_autoptr(BleioConnection) link2 = NULL;
  g_autoptr(BleioCharacteristic) remote0 = NULL;
  g_autoptr(BleioCharacteristic) remote2 = NULL;
  g_autoptr(GBytes) both = g_bytes_new ("both", 4);
  Notes n0 = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref) };
  Notes n2 = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref) };
  LinksWait on_server = { server, 1 };
  AttrsWait gone = { fx, 0 };

  service = bleio_service_new (server, su, FALSE, &error);
  assert_no_error (error);
  local = bleio_characteristic_add_to_service (service, cu,
                                               BLEIO_CHARACTERISTIC_PROPERTY_READ |
                                               BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY,
                                               BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_NO_ACCESS,
                                               20, FALSE, NULL, NULL, &error);
  assert_no_error (error);
  assert_true (bleio_adapter_publish_services (server, NULL, &error));
  assert_no_error (error);
  /* The service, the characteristic (declaration and value) and its CCCD. */
  assert_true (app_attributes (fx) >= 3);

  remote0 = subscribe (hci0, server, &link0);
  assert_true (common_wait (notifying, local, WAIT_MSEC));
  remote2 = subscribe (hci2, server, &link2);
  on_server.expected = 2;
  assert_true (common_wait (links_are, &on_server, WAIT_MSEC));
  g_signal_connect (remote0, "notification", G_CALLBACK (on_notification), &n0);
  g_signal_connect (remote2, "notification", G_CALLBACK (on_notification), &n2);

  assert_true (bleio_characteristic_write_value (local, both, &error));
  assert_no_error (error);
  assert_true (common_wait (noted, &n0, WAIT_MSEC));
  assert_true (common_wait (noted, &n2, WAIT_MSEC));
  assert_true (g_bytes_equal (g_ptr_array_index (n0.values, 0), both));
  assert_true (g_bytes_equal (g_ptr_array_index (n2.values, 0), both));

  /* One client leaves: the other is still subscribed. */
  assert_true (bleio_connection_disconnect (link0, &error));
  assert_no_error (error);
  on_server.expected = 1;
  assert_true (common_wait (links_are, &on_server, WAIT_MSEC));
  assert_true (bleio_characteristic_get_notifying (local));
  /* The last one leaves: nobody is. */
  assert_true (bleio_connection_disconnect (link2, &error));
  assert_no_error (error);
  assert_true (common_wait (not_notifying, local, WAIT_MSEC));

  /* The adapter object goes: bluetoothd serves the application no more. */
  g_object_unref (server);
  assert_true (common_wait (attrs_are, &gone, WAIT_MSEC));
  /* The local objects stay valid, with their last value. */
  {
    g_autoptr(GBytes) value = bleio_characteristic_dup_value (local);

    assert_true (g_bytes_equal (value, both));
    assert_false (bleio_characteristic_get_notifying (local));
  }
  g_ptr_array_unref (n0.values);
  g_ptr_array_unref (n2.values);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_gatt_server_two_clients_then_finalize),
  };

  if (argc < 2)
    {
      g_printerr ("usage: %s SCENARIO\n", argv[0]);
      return 2;
    }
  scenario = argv[1];
  return cmocka_run_group_tests (tests, group_setup, sim_fixture_group_teardown);
}
