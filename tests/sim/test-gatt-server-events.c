/* SPDX-License-Identifier: MIT */
/* What a local GATT server hears besides the writes (issue 17, for
 * `bleioctl serve`): #BleioCharacteristic::read and #BleioDescriptor::read
 * with the client's connection and the offset, in order with
 * ::written, and not for a refused read; #BleioCharacteristic::notifying-
 * changed on the first subscription and when the last client leaves.
 * libbleio serves on hci1 of two-adapters.json, libbleio is the client on
 * hci0.
 *
 *   test-gatt-server-events SCENARIO
 */
#include "advertising.h"

#define SERVICE_UUID "0000fee0-0000-1000-8000-00805f9b34fb"
#define RW_UUID "0000fee1-0000-1000-8000-00805f9b34fb"
#define NOTIFY_UUID "0000fee2-0000-1000-8000-00805f9b34fb"
#define DESC_UUID "0000fee3-0000-1000-8000-00805f9b34fb"

static const char *scenario;

/* One event the server heard. */
typedef struct {
  char *what;                   /* "read", "written", "desc-read", "on", "off" */
  BleioConnection *connection;  /* nullable */
  guint offset;
} Heard;

typedef struct {
  SimFixture *fx;
  BleioAdapter *central;
  BleioAdapter *peripheral;
  BleioService *service;
  BleioCharacteristic *rw;
  BleioCharacteristic *notify;
  BleioDescriptor *desc;
  GPtrArray *heard;             /* Heard*, in order */
} Server;

static void
heard_free (gpointer data)
{
  Heard *h = data;

  g_free (h->what);
  g_clear_object (&h->connection);
  g_free (h);
}

static void
hear (Server          *s,
      const char      *what,
      BleioConnection *connection,
      guint            offset)
{
  Heard *h = g_new0 (Heard, 1);

  h->what = g_strdup (what);
  h->connection = connection != NULL ? g_object_ref (connection) : NULL;
  h->offset = offset;
  g_ptr_array_add (s->heard, h);
}

static void
on_read (BleioCharacteristic *characteristic,
         BleioConnection     *connection,
         guint                offset,
         gpointer             user_data)
{
  (void) characteristic;
  hear (user_data, "read", connection, offset);
}

static void
on_desc_read (BleioDescriptor *descriptor,
              BleioConnection *connection,
              guint            offset,
              gpointer         user_data)
{
  (void) descriptor;
  hear (user_data, "desc-read", connection, offset);
}

static void
on_written (BleioCharacteristic *characteristic,
            GBytes              *value,
            BleioConnection     *connection,
            gpointer             user_data)
{
  (void) characteristic;
  (void) value;
  hear (user_data, "written", connection, 0);
}

static void
on_notifying_changed (BleioCharacteristic *characteristic,
                      gboolean             notifying,
                      gpointer             user_data)
{
  /* Told after the state changed, so the getter agrees. */
  assert_int_equal (bleio_characteristic_get_notifying (characteristic), notifying);
  hear (user_data, notifying ? "on" : "off", NULL, 0);
}

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
  g_autoptr(BleioUuid) su = uuid (SERVICE_UUID);
  g_autoptr(BleioUuid) rw = uuid (RW_UUID);
  g_autoptr(BleioUuid) nu = uuid (NOTIFY_UUID);
  g_autoptr(BleioUuid) du = uuid (DESC_UUID);
  g_autoptr(GBytes) hi = g_bytes_new ("hi", 2);
  Server *s = g_new0 (Server, 1);

  s->fx = sim_fixture_new (scenario, &error);
  if (s->fx == NULL)
    {
      g_printerr ("simulator: %s\n", error->message);
      return -1;
    }
  s->central = common_adapter (s->fx, "hci0");
  s->peripheral = common_adapter (s->fx, "hci1");
  s->heard = g_ptr_array_new_with_free_func (heard_free);
  s->service = bleio_service_new (s->peripheral, su, FALSE, &error);
  assert_no_error (error);
  s->rw = bleio_characteristic_add_to_service (s->service, rw,
                                               BLEIO_CHARACTERISTIC_PROPERTY_READ |
                                               BLEIO_CHARACTERISTIC_PROPERTY_WRITE,
                                               BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_OPEN,
                                               8, FALSE, hi, NULL, &error);
  assert_no_error (error);
  s->notify = bleio_characteristic_add_to_service (s->service, nu,
                                                   BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY,
                                                   BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_NO_ACCESS,
                                                   20, FALSE, NULL, NULL, &error);
  assert_no_error (error);
  s->desc = bleio_descriptor_add_to_characteristic (s->rw, du, BLEIO_ATTRIBUTE_OPEN,
                                                    BLEIO_ATTRIBUTE_NO_ACCESS, 4, FALSE, hi, &error);
  assert_no_error (error);
  g_signal_connect (s->rw, "read", G_CALLBACK (on_read), s);
  g_signal_connect (s->rw, "written", G_CALLBACK (on_written), s);
  g_signal_connect (s->desc, "read", G_CALLBACK (on_desc_read), s);
  g_signal_connect (s->notify, "notifying-changed", G_CALLBACK (on_notifying_changed), s);
  assert_true (bleio_adapter_publish_services (s->peripheral, NULL, &error));
  assert_no_error (error);
  *state = s;
  return 0;
}

static int
group_teardown (void **state)
{
  Server *s = *state;

  g_clear_object (&s->desc);
  g_clear_object (&s->rw);
  g_clear_object (&s->notify);
  g_clear_object (&s->service);
  g_clear_object (&s->central);
  g_clear_object (&s->peripheral);
  g_ptr_array_unref (s->heard);
  sim_fixture_free (s->fx);
  g_free (s);
  return 0;
}

/* hci0 connects to hci1 (advertising for it) and discovers. */
static BleioConnection *
client_connect (Server     *s,
                GPtrArray **services)
{
  g_autoptr(BleioAddress) address = bleio_adapter_dup_address (s->peripheral);
  g_autoptr(GError) error = NULL;
  BleioConnection *link;

  if (bleio_adapter_get_advertising (s->peripheral))
    {
      assert_true (bleio_adapter_stop_advertising (s->peripheral, &error));
      assert_no_error (error);
    }
  adv_start_ok (s->peripheral, "02 01 06", "06 09 47 61 74 74 53", TRUE, 0);
  link = bleio_adapter_connect (s->central, address, 10, NULL, &error);
  assert_no_error (error);
  *services = bleio_connection_discover_remote_services (link, NULL, 10, &error);
  assert_no_error (error);
  return link;
}

static BleioCharacteristic *
find_char (GPtrArray  *services,
           const char *uuid_text)
{
  g_autoptr(BleioUuid) su = uuid (SERVICE_UUID);
  g_autoptr(BleioUuid) cu = uuid (uuid_text);

  for (guint i = 0; i < services->len; i++)
    {
      BleioService *service = g_ptr_array_index (services, i);
      g_autoptr(GPtrArray) chars = NULL;

      if (!bleio_uuid_equal (bleio_service_get_uuid (service), su))
        continue;
      chars = bleio_service_dup_characteristics (service);
      for (guint j = 0; j < chars->len; j++)
        if (bleio_uuid_equal (bleio_characteristic_get_uuid (g_ptr_array_index (chars, j)), cu))
          return g_object_ref (g_ptr_array_index (chars, j));
    }
  return NULL;
}

typedef struct {
  Server *s;
  guint n;
} Count;

static gboolean
heard_at_least (gpointer user_data)
{
  Count *c = user_data;

  return c->s->heard->len >= c->n;
}

static void
wait_heard (Server *s,
            guint   n)
{
  Count c = { s, n };

  assert_true (common_wait (heard_at_least, &c, WAIT_MSEC));
}

static Heard *
heard (Server *s,
       guint   i)
{
  assert_true (i < s->heard->len);
  return g_ptr_array_index (s->heard, i);
}

static void
assert_from_central (Server          *s,
                     BleioConnection *connection)
{
  g_autoptr(BleioAddress) central = bleio_adapter_dup_address (s->central);

  assert_non_null (connection);
  assert_true (bleio_address_equal (bleio_connection_get_address (connection), central));
}

static gboolean
no_links (gpointer user_data)
{
  Server *s = user_data;
  g_autoptr(GPtrArray) a = bleio_adapter_dup_connections (s->central);
  g_autoptr(GPtrArray) b = bleio_adapter_dup_connections (s->peripheral);

  return a->len == 0 && b->len == 0;
}

/* ---- tests ----------------------------------------------------------------------- */

/* A read, a write and a read again are told in that order, each with the
 * client's connection; a descriptor's read too; a read at an offset says
 * where it began, and one past the end (refused) is not told. */
static void
test_gatt_server_read_told (void **state)
{
  Server *s = *state;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioConnection) link = client_connect (s, &services);
  g_autoptr(BleioCharacteristic) rw = find_char (services, RW_UUID);
  g_autoptr(GPtrArray) descs = NULL;
  g_autoptr(GBytes) value = NULL;
  g_autoptr(GBytes) go = g_bytes_new ("go", 2);
  g_autoptr(BleioUuid) du = uuid (DESC_UUID);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  GVariantBuilder options;
  guint past_end;

  assert_non_null (rw);
  g_ptr_array_set_size (s->heard, 0);
  value = bleio_characteristic_read_value (rw, &error);
  assert_no_error (error);
  g_clear_pointer (&value, g_bytes_unref);
  assert_true (bleio_characteristic_write_value (rw, go, &error));
  assert_no_error (error);
  value = bleio_characteristic_read_value (rw, &error);
  assert_no_error (error);
  wait_heard (s, 3);
  assert_string_equal (heard (s, 0)->what, "read");
  assert_int_equal (heard (s, 0)->offset, 0);
  assert_from_central (s, heard (s, 0)->connection);
  assert_string_equal (heard (s, 1)->what, "written");
  assert_string_equal (heard (s, 2)->what, "read");
  assert_from_central (s, heard (s, 2)->connection);

  descs = bleio_characteristic_dup_descriptors (rw);
  for (guint i = 0; i < descs->len; i++)
    {
      BleioDescriptor *d = g_ptr_array_index (descs, i);

      if (!bleio_uuid_equal (bleio_descriptor_get_uuid (d), du))
        continue;
      g_clear_pointer (&value, g_bytes_unref);
      value = bleio_descriptor_read_value (d, &error);
      assert_no_error (error);
    }
  wait_heard (s, 4);
  assert_string_equal (heard (s, 3)->what, "desc-read");
  assert_from_central (s, heard (s, 3)->connection);

  /* An offset, as a long read sends it; then one past the end. */
  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "offset", g_variant_new_uint16 (1));
  reply = g_dbus_connection_call_sync (sim_fixture_get_connection (s->fx), "org.bluez",
                                       bleio_characteristic_get_object_path (rw),
                                       "org.bluez.GattCharacteristic1", "ReadValue",
                                       g_variant_new ("(a{sv})", &options), G_VARIANT_TYPE ("(ay)"),
                                       G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC, NULL, &error);
  assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  wait_heard (s, 5);
  assert_string_equal (heard (s, 4)->what, "read");
  assert_int_equal (heard (s, 4)->offset, 1);
  past_end = s->heard->len;
  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "offset", g_variant_new_uint16 (9));
  reply = g_dbus_connection_call_sync (sim_fixture_get_connection (s->fx), "org.bluez",
                                       bleio_characteristic_get_object_path (rw),
                                       "org.bluez.GattCharacteristic1", "ReadValue",
                                       g_variant_new ("(a{sv})", &options), G_VARIANT_TYPE ("(ay)"),
                                       G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC, NULL, &error);
  assert_null (reply);
  assert_non_null (error);
  g_clear_error (&error);
  /* A read after it is the next thing told: the refused one was not. */
  g_clear_pointer (&value, g_bytes_unref);
  value = bleio_characteristic_read_value (rw, &error);
  assert_no_error (error);
  wait_heard (s, past_end + 1);
  assert_string_equal (heard (s, past_end)->what, "read");
  assert_int_equal (heard (s, past_end)->offset, 0);

  assert_true (bleio_connection_disconnect (link, &error));
  assert_no_error (error);
  assert_true (common_wait (no_links, s, WAIT_MSEC));
}

/* The first subscription is told, the unsubscription too, and a client
 * that leaves subscribed ends it. */
static void
test_gatt_server_notifying_told (void **state)
{
  Server *s = *state;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioConnection) link = client_connect (s, &services);
  g_autoptr(BleioCharacteristic) notify = find_char (services, NOTIFY_UUID);
  g_autoptr(GError) error = NULL;

  assert_non_null (notify);
  g_ptr_array_set_size (s->heard, 0);
  assert_false (bleio_characteristic_get_notifying (s->notify));
  assert_true (bleio_characteristic_set_cccd (notify, TRUE, FALSE, &error));
  assert_no_error (error);
  wait_heard (s, 1);
  assert_string_equal (heard (s, 0)->what, "on");
  assert_true (bleio_characteristic_set_cccd (notify, FALSE, FALSE, &error));
  assert_no_error (error);
  wait_heard (s, 2);
  assert_string_equal (heard (s, 1)->what, "off");

  assert_true (bleio_characteristic_set_cccd (notify, TRUE, FALSE, &error));
  assert_no_error (error);
  wait_heard (s, 3);
  assert_string_equal (heard (s, 2)->what, "on");
  assert_true (bleio_connection_disconnect (link, &error));
  assert_no_error (error);
  wait_heard (s, 4);
  assert_string_equal (heard (s, 3)->what, "off");
  assert_true (common_wait (no_links, s, WAIT_MSEC));
  assert_int_equal (s->heard->len, 4);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_gatt_server_read_told),
    cmocka_unit_test (test_gatt_server_notifying_told),
  };

  if (argc < 2)
    {
      g_printerr ("usage: %s SCENARIO\n", argv[0]);
      return 2;
    }
  scenario = argv[1];
  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
