/* SPDX-License-Identifier: MIT */
/* The local GATT server (issue 17 items 1, 2, 4 and their part of 10)
 * through the simulator's one air, on two-adapters.json: libbleio serves
 * on hci1 and libbleio is the client on hci0, through the public remote
 * API. Reads of the initial value, writes told to the server with the
 * connection they came from and read back, writes of a wrong length
 * refused with the ATT error a client expects, reads at an offset,
 * notifications into a client's CharacteristicBuffer, indications that
 * wait for the client's confirmation, a disconnect ending the
 * subscription, services added after publishing, and the application
 * registered again after bluetoothd restarts.
 *
 *   test-gatt-server-air SCENARIO
 */
#include "advertising.h"

#define SERVICE_UUID "0000fff0-0000-1000-8000-00805f9b34fb"
#define RW_UUID "0000fff1-0000-1000-8000-00805f9b34fb"
#define NOTIFY_UUID "0000fff2-0000-1000-8000-00805f9b34fb"
#define INDICATE_UUID "0000fff3-0000-1000-8000-00805f9b34fb"
#define FIXED_UUID "0000fff4-0000-1000-8000-00805f9b34fb"
#define DESC_UUID "0000fff5-0000-1000-8000-00805f9b34fb"
#define COMMAND_UUID "0000fff6-0000-1000-8000-00805f9b34fb"
#define LATE_SERVICE_UUID "0000fee0-0000-1000-8000-00805f9b34fb"
#define LATE_CHAR_UUID "0000fee1-0000-1000-8000-00805f9b34fb"

static const char *scenario;

/* The server on hci1, made once for the group. */
typedef struct {
  SimFixture *fx;
  BleioAdapter *central;
  BleioAdapter *peripheral;
  BleioService *service;
  BleioCharacteristic *rw;
  BleioCharacteristic *notify;
  BleioCharacteristic *indicate;
  BleioCharacteristic *fixed;
  BleioCharacteristic *command;
  BleioDescriptor *desc;
  /* what the server heard */
  GPtrArray *written;           /* GBytes*, in order */
  GPtrArray *writers;           /* BleioConnection* or NULL */
  guint restored;
  GError *restore_error;
} Server;

static BleioUuid *
uuid (const char *text)
{
  g_autoptr(GError) error = NULL;
  BleioUuid *u = bleio_uuid_new_from_string (text, &error);

  assert_no_error (error);
  return u;
}

static GBytes *
bytes (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

static void
on_written (BleioCharacteristic *characteristic,
            GBytes              *value,
            BleioConnection     *connection,
            gpointer             user_data)
{
  Server *s = user_data;

  (void) characteristic;
  g_ptr_array_add (s->written, g_bytes_ref (value));
  g_ptr_array_add (s->writers, connection != NULL ? g_object_ref (connection) : NULL);
}

static void
on_restored (BleioAdapter *adapter,
             const GError *error,
             gpointer      user_data)
{
  Server *s = user_data;

  (void) adapter;
  s->restored++;
  g_clear_error (&s->restore_error);
  if (error != NULL)
    s->restore_error = g_error_copy (error);
}

static int
group_setup (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioUuid) service_uuid = NULL;
  g_autoptr(GBytes) hi = bytes ("hi");
  g_autoptr(GBytes) four = bytes ("abcd");
  Server *s = g_new0 (Server, 1);

  s->fx = sim_fixture_new (scenario, &error);
  if (s->fx == NULL)
    {
      g_printerr ("simulator: %s\n", error->message);
      return -1;
    }
  s->central = common_adapter (s->fx, "hci0");
  s->peripheral = common_adapter (s->fx, "hci1");
  s->written = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  s->writers = g_ptr_array_new_with_free_func (g_object_unref);
  g_signal_connect (s->peripheral, "services-restored", G_CALLBACK (on_restored), s);

  service_uuid = uuid (SERVICE_UUID);
  s->service = bleio_service_new (s->peripheral, service_uuid, FALSE, &error);
  assert_no_error (error);
  {
    g_autoptr(BleioUuid) u = uuid (RW_UUID);

    s->rw = bleio_characteristic_add_to_service (s->service, u,
                                                 BLEIO_CHARACTERISTIC_PROPERTY_READ |
                                                 BLEIO_CHARACTERISTIC_PROPERTY_WRITE,
                                                 BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_OPEN,
                                                 8, FALSE, hi, "Greeting", &error);
    assert_no_error (error);
  }
  {
    g_autoptr(BleioUuid) u = uuid (NOTIFY_UUID);

    s->notify = bleio_characteristic_add_to_service (s->service, u,
                                                     BLEIO_CHARACTERISTIC_PROPERTY_READ |
                                                     BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY,
                                                     BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_NO_ACCESS,
                                                     20, FALSE, NULL, NULL, &error);
    assert_no_error (error);
  }
  {
    g_autoptr(BleioUuid) u = uuid (INDICATE_UUID);

    s->indicate = bleio_characteristic_add_to_service (s->service, u,
                                                       BLEIO_CHARACTERISTIC_PROPERTY_INDICATE,
                                                       BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_NO_ACCESS,
                                                       20, FALSE, NULL, NULL, &error);
    assert_no_error (error);
  }
  {
    g_autoptr(BleioUuid) u = uuid (FIXED_UUID);

    s->fixed = bleio_characteristic_add_to_service (s->service, u,
                                                    BLEIO_CHARACTERISTIC_PROPERTY_READ |
                                                    BLEIO_CHARACTERISTIC_PROPERTY_WRITE,
                                                    BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_OPEN,
                                                    4, TRUE, four, NULL, &error);
    assert_no_error (error);
  }
  {
    g_autoptr(BleioUuid) u = uuid (COMMAND_UUID);

    s->command = bleio_characteristic_add_to_service (s->service, u,
                                                      BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE,
                                                      BLEIO_ATTRIBUTE_NO_ACCESS, BLEIO_ATTRIBUTE_OPEN,
                                                      20, FALSE, NULL, NULL, &error);
    assert_no_error (error);
  }
  {
    g_autoptr(BleioUuid) u = uuid (DESC_UUID);
    g_autoptr(GBytes) d = bytes ("d0");

    s->desc = bleio_descriptor_add_to_characteristic (s->rw, u, BLEIO_ATTRIBUTE_OPEN,
                                                      BLEIO_ATTRIBUTE_OPEN, 10, FALSE, d, &error);
    assert_no_error (error);
  }
  g_signal_connect (s->rw, "written", G_CALLBACK (on_written), s);
  g_signal_connect (s->fixed, "written", G_CALLBACK (on_written), s);
  g_signal_connect (s->command, "written", G_CALLBACK (on_written), s);
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
  g_clear_object (&s->indicate);
  g_clear_object (&s->fixed);
  g_clear_object (&s->command);
  g_clear_object (&s->service);
  g_clear_object (&s->central);
  g_clear_object (&s->peripheral);
  g_ptr_array_unref (s->written);
  g_ptr_array_unref (s->writers);
  g_clear_error (&s->restore_error);
  sim_fixture_free (s->fx);
  g_free (s);
  return 0;
}

/* ---- the client side ------------------------------------------------------------ */

/* hci0 connects to hci1 (advertising for it) and discovers. */
static BleioConnection *
client_connect (Server     *s,
                GPtrArray **services)
{
  g_autoptr(BleioAddress) address = bleio_adapter_dup_address (s->peripheral);
  g_autoptr(GError) error = NULL;
  BleioConnection *link;

  /* A connect ends the advertisement once the adapter's context hears
   * of the link; the test before may not have run it since. */
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

static gboolean
no_links (gpointer user_data)
{
  Server *s = user_data;
  g_autoptr(GPtrArray) a = bleio_adapter_dup_connections (s->central);
  g_autoptr(GPtrArray) b = bleio_adapter_dup_connections (s->peripheral);

  return a->len == 0 && b->len == 0;
}

static void
client_disconnect (Server          *s,
                   BleioConnection *link)
{
  g_autoptr(GError) error = NULL;

  assert_true (bleio_connection_disconnect (link, &error));
  assert_no_error (error);
  assert_true (common_wait (no_links, s, WAIT_MSEC));
}

/* The remote characteristic with @uuid_text in the service with
 * @service_text, or NULL. */
static BleioCharacteristic *
find_char (GPtrArray  *services,
           const char *service_text,
           const char *uuid_text)
{
  g_autoptr(BleioUuid) su = uuid (service_text);
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

static void
assert_bytes (GBytes     *value,
              const char *text)
{
  assert_non_null (value);
  assert_int_equal (g_bytes_get_size (value), strlen (text));
  assert_memory_equal (g_bytes_get_data (value, NULL), text, strlen (text));
}

static gboolean
heard_writes (gpointer user_data)
{
  Server *s = user_data;

  return s->written->len > 0;
}

static gboolean
heard_go (gpointer user_data)
{
  Server *s = user_data;
  GBytes *last = s->written->len > 0 ? g_ptr_array_index (s->written, s->written->len - 1) : NULL;

  return last != NULL && g_bytes_get_size (last) == 2 &&
         memcmp (g_bytes_get_data (last, NULL), "go", 2) == 0;
}

/* ---- tests ----------------------------------------------------------------------- */

static void
test_gatt_server_read_write (void **state)
{
  Server *s = *state;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioConnection) link = client_connect (s, &services);
  g_autoptr(BleioCharacteristic) rw = find_char (services, SERVICE_UUID, RW_UUID);
  g_autoptr(BleioCharacteristic) fixed = find_char (services, SERVICE_UUID, FIXED_UUID);
  g_autoptr(GPtrArray) descs = NULL;
  g_autoptr(GPtrArray) incoming = NULL;
  g_autoptr(GBytes) value = NULL;
  g_autoptr(GBytes) abc = bytes ("abc");
  g_autoptr(GBytes) too_long = bytes ("123456789");
  g_autoptr(GBytes) three = bytes ("xyz");
  g_autoptr(GBytes) wxyz = bytes ("wxyz");
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioUuid) cud = bleio_uuid_new_from_uuid16 (0x2901);
  g_autoptr(BleioUuid) du = uuid (DESC_UUID);
  gboolean cud_seen = FALSE;
  gboolean desc_seen = FALSE;

  assert_non_null (rw);
  assert_non_null (fixed);
  assert_true (bleio_characteristic_get_remote (rw));
  assert_false (bleio_characteristic_get_remote (s->rw));
  assert_false (bleio_service_get_remote (s->service));

  /* The initial value, as the server holds it. */
  value = bleio_characteristic_read_value (rw, &error);
  assert_no_error (error);
  assert_bytes (value, "hi");
  g_clear_pointer (&value, g_bytes_unref);

  /* A write reaches the server, which is told who wrote it. */
  g_ptr_array_set_size (s->written, 0);
  g_ptr_array_set_size (s->writers, 0);
  assert_true (bleio_characteristic_write_value (rw, abc, &error));
  assert_no_error (error);
  assert_true (common_wait (heard_writes, s, WAIT_MSEC));
  assert_bytes (g_ptr_array_index (s->written, 0), "abc");
  incoming = bleio_adapter_dup_connections (s->peripheral);
  assert_int_equal (incoming->len, 1);
  assert_ptr_equal (g_ptr_array_index (s->writers, 0), g_ptr_array_index (incoming, 0));
  value = bleio_characteristic_dup_value (s->rw);
  assert_bytes (value, "abc");
  g_clear_pointer (&value, g_bytes_unref);
  value = bleio_characteristic_read_value (rw, &error);
  assert_no_error (error);
  assert_bytes (value, "abc");
  g_clear_pointer (&value, g_bytes_unref);

  /* Longer than max_length (8): the ATT error Invalid Attribute Value
   * Length, which the client's bluetoothd reports as "Invalid Length". */
  assert_false (bleio_characteristic_write_value (rw, too_long, &error));
  assert_non_null (error);
  assert_non_null (strstr (error->message, "Invalid Length"));
  g_clear_error (&error);
  /* A fixed-length value takes exactly its length. */
  assert_false (bleio_characteristic_write_value (fixed, three, &error));
  assert_non_null (error);
  assert_non_null (strstr (error->message, "Invalid Length"));
  g_clear_error (&error);
  assert_true (bleio_characteristic_write_value (fixed, wxyz, &error));
  assert_no_error (error);
  value = bleio_characteristic_read_value (fixed, &error);
  assert_no_error (error);
  assert_bytes (value, "wxyz");
  g_clear_pointer (&value, g_bytes_unref);
  value = bleio_characteristic_dup_value (s->rw);
  assert_bytes (value, "abc");
  g_clear_pointer (&value, g_bytes_unref);

  /* A write without response reaches the server the same way
   * (bluetoothd answers the client first). */
  {
    g_autoptr(BleioCharacteristic) command = find_char (services, SERVICE_UUID, COMMAND_UUID);
    g_autoptr(GBytes) cmd = bytes ("go");

    assert_non_null (command);
    assert_true (bleio_characteristic_write_value (command, cmd, &error));
    assert_no_error (error);
    /* After the writes to fff4 above, told in order. */
    assert_true (common_wait (heard_go, s, WAIT_MSEC));
    assert_bytes (g_ptr_array_index (s->written, s->written->len - 2), "wxyz");
    value = bleio_characteristic_dup_value (s->command);
    assert_bytes (value, "go");
    g_clear_pointer (&value, g_bytes_unref);
  }

  /* The user description and the application's descriptor. */
  descs = bleio_characteristic_dup_descriptors (rw);
  for (guint i = 0; i < descs->len; i++)
    {
      BleioDescriptor *d = g_ptr_array_index (descs, i);

      if (bleio_uuid_equal (bleio_descriptor_get_uuid (d), cud))
        {
          value = bleio_descriptor_read_value (d, &error);
          assert_no_error (error);
          assert_bytes (value, "Greeting");
          g_clear_pointer (&value, g_bytes_unref);
          cud_seen = TRUE;
        }
      else if (bleio_uuid_equal (bleio_descriptor_get_uuid (d), du))
        {
          g_autoptr(GBytes) d1 = bytes ("d1");

          value = bleio_descriptor_read_value (d, &error);
          assert_no_error (error);
          assert_bytes (value, "d0");
          g_clear_pointer (&value, g_bytes_unref);
          assert_true (bleio_descriptor_write_value (d, d1, &error));
          assert_no_error (error);
          value = bleio_descriptor_dup_value (s->desc);
          assert_bytes (value, "d1");
          g_clear_pointer (&value, g_bytes_unref);
          desc_seen = TRUE;
        }
    }
  assert_true (cud_seen);
  assert_true (desc_seen);
  client_disconnect (s, link);
}

/* ReadValue with an offset, as a long read sends it: the option travels
 * from the client's bluetoothd to the application. */
static void
test_gatt_server_offset_reads (void **state)
{
  Server *s = *state;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioConnection) link = client_connect (s, &services);
  g_autoptr(BleioCharacteristic) fixed = find_char (services, SERVICE_UUID, FIXED_UUID);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) data = NULL;
  GVariantBuilder options;
  gsize n;
  const guint8 *p;

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "offset", g_variant_new_uint16 (1));
  reply = g_dbus_connection_call_sync (sim_fixture_get_connection (s->fx), "org.bluez",
                                       bleio_characteristic_get_object_path (fixed),
                                       "org.bluez.GattCharacteristic1", "ReadValue",
                                       g_variant_new ("(a{sv})", &options), G_VARIANT_TYPE ("(ay)"),
                                       G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC, NULL, &error);
  assert_no_error (error);
  data = g_variant_get_child_value (reply, 0);
  p = g_variant_get_fixed_array (data, &n, 1);
  /* fff4 holds "abcd", or "wxyz" once the test before wrote it. */
  assert_int_equal (n, 3);
  assert_true (memcmp (p, "bcd", 3) == 0 || memcmp (p, "xyz", 3) == 0);
  g_clear_pointer (&reply, g_variant_unref);

  /* Past the end: Invalid Offset, "Invalid offset" for the client. */
  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "offset", g_variant_new_uint16 (5));
  reply = g_dbus_connection_call_sync (sim_fixture_get_connection (s->fx), "org.bluez",
                                       bleio_characteristic_get_object_path (fixed),
                                       "org.bluez.GattCharacteristic1", "ReadValue",
                                       g_variant_new ("(a{sv})", &options), G_VARIANT_TYPE ("(ay)"),
                                       G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC, NULL, &error);
  assert_null (reply);
  assert_non_null (error);
  assert_non_null (strstr (error->message, "Invalid offset"));
  client_disconnect (s, link);
}

static gboolean
server_notifying (gpointer user_data)
{
  return bleio_characteristic_get_notifying (user_data);
}

static gboolean
server_not_notifying (gpointer user_data)
{
  return !bleio_characteristic_get_notifying (user_data);
}

/* A value set while a client is subscribed reaches the client's
 * CharacteristicBuffer; the client's disconnect ends the subscription. */
static void
test_gatt_server_notify_into_buffer (void **state)
{
  Server *s = *state;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioConnection) link = client_connect (s, &services);
  g_autoptr(BleioCharacteristic) notify = find_char (services, SERVICE_UUID, NOTIFY_UUID);
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GBytes) one = bytes ("one");
  g_autoptr(GBytes) two = bytes ("two");
  g_autoptr(GError) error = NULL;

  assert_non_null (notify);
  assert_false (bleio_characteristic_get_notifying (s->notify));
  buffer = bleio_characteristic_buffer_new (notify, 5.0, 64, &error);
  assert_no_error (error);
  assert_true (bleio_characteristic_set_cccd (notify, TRUE, FALSE, &error));
  assert_no_error (error);
  assert_true (common_wait (server_notifying, s->notify, WAIT_MSEC));

  assert_true (bleio_characteristic_write_value (s->notify, one, &error));
  assert_no_error (error);
  assert_true (bleio_characteristic_write_value (s->notify, two, &error));
  assert_no_error (error);
  got = bleio_characteristic_buffer_read (buffer, 6, &error);
  assert_no_error (error);
  assert_bytes (got, "onetwo");

  /* bluetoothd clears an unbonded client's CCCD with its link and calls
   * StopNotify for the last one. */
  client_disconnect (s, link);
  assert_true (common_wait (server_not_notifying, s->notify, WAIT_MSEC));
}

typedef struct {
  GPtrArray *values;
} Notes;

static void
on_notification (BleioCharacteristic *characteristic,
                 GBytes              *value,
                 gpointer             user_data)
{
  Notes *n = user_data;

  (void) characteristic;
  g_ptr_array_add (n->values, g_bytes_ref (value));
}

static gboolean
noted (gpointer user_data)
{
  return ((Notes *) user_data)->values->len > 0;
}

/* An indication completes once the client confirmed it; with nobody
 * subscribed the value is only stored. */
static void
test_gatt_server_indicate_waits_for_confirmation (void **state)
{
  Server *s = *state;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioConnection) link = NULL;
  g_autoptr(BleioCharacteristic) indicate = NULL;
  g_autoptr(GBytes) quiet = bytes ("quiet");
  g_autoptr(GBytes) loud = bytes ("loud");
  g_autoptr(GBytes) value = NULL;
  g_autoptr(GError) error = NULL;
  Notes n = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref) };
  gulong id;

  assert_true (bleio_characteristic_write_value (s->indicate, quiet, &error));
  assert_no_error (error);
  value = bleio_characteristic_dup_value (s->indicate);
  assert_bytes (value, "quiet");

  link = client_connect (s, &services);
  indicate = find_char (services, SERVICE_UUID, INDICATE_UUID);
  assert_non_null (indicate);
  id = g_signal_connect (indicate, "notification", G_CALLBACK (on_notification), &n);
  assert_true (bleio_characteristic_set_cccd (indicate, FALSE, TRUE, &error));
  assert_no_error (error);
  assert_true (common_wait (server_notifying, s->indicate, WAIT_MSEC));
  assert_true (bleio_characteristic_write_value (s->indicate, loud, &error));
  assert_no_error (error);
  assert_true (common_wait (noted, &n, WAIT_MSEC));
  assert_bytes (g_ptr_array_index (n.values, 0), "loud");
  g_signal_handler_disconnect (indicate, id);
  g_ptr_array_unref (n.values);
  client_disconnect (s, link);
}

/* A service added after publishing registers the application again;
 * the values written before are kept. */
static void
test_gatt_server_service_added_after_publish (void **state)
{
  Server *s = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioUuid) su = uuid (LATE_SERVICE_UUID);
  g_autoptr(BleioUuid) cu = uuid (LATE_CHAR_UUID);
  g_autoptr(BleioService) late = bleio_service_new (s->peripheral, su, FALSE, &error);
  g_autoptr(BleioCharacteristic) late_char = NULL;
  g_autoptr(GBytes) v = bytes ("late");
  g_autoptr(GBytes) kept = bleio_characteristic_dup_value (s->rw);
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(GPtrArray) local = NULL;
  g_autoptr(BleioConnection) link = NULL;
  g_autoptr(BleioCharacteristic) remote_late = NULL;
  g_autoptr(BleioCharacteristic) rw = NULL;
  g_autoptr(GBytes) value = NULL;

  assert_no_error (error);
  late_char = bleio_characteristic_add_to_service (late, cu, BLEIO_CHARACTERISTIC_PROPERTY_READ,
                                                   BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_NO_ACCESS,
                                                   20, FALSE, v, NULL, &error);
  assert_no_error (error);
  /* Waits for the registration that holds the new service. */
  assert_true (bleio_adapter_publish_services (s->peripheral, NULL, &error));
  assert_no_error (error);
  local = bleio_adapter_dup_services (s->peripheral);
  assert_int_equal (local->len, 2);
  assert_ptr_equal (g_ptr_array_index (local, 1), late);

  link = client_connect (s, &services);
  remote_late = find_char (services, LATE_SERVICE_UUID, LATE_CHAR_UUID);
  assert_non_null (remote_late);
  value = bleio_characteristic_read_value (remote_late, &error);
  assert_no_error (error);
  assert_bytes (value, "late");
  g_clear_pointer (&value, g_bytes_unref);
  rw = find_char (services, SERVICE_UUID, RW_UUID);
  value = bleio_characteristic_read_value (rw, &error);
  assert_no_error (error);
  assert_true (g_bytes_equal (value, kept));
  client_disconnect (s, link);
}

static gboolean
restored (gpointer user_data)
{
  return ((Server *) user_data)->restored > 0;
}

/* bluetoothd restarts: the library registers the application again by
 * itself, with the values last set, and says so. */
static void
test_gatt_server_restored_after_restart (void **state)
{
  Server *s = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) last = bytes ("last");
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioConnection) link = NULL;
  g_autoptr(BleioCharacteristic) rw = NULL;
  g_autoptr(GBytes) value = NULL;

  assert_true (bleio_characteristic_write_value (s->rw, last, &error));
  assert_no_error (error);
  s->restored = 0;
  assert_true (sim_fixture_restart (s->fx, 1000, &error));
  assert_no_error (error);
  assert_true (common_wait (restored, s, WAIT_MSEC));
  assert_int_equal (s->restored, 1);
  assert_null (s->restore_error);

  link = client_connect (s, &services);
  rw = find_char (services, SERVICE_UUID, RW_UUID);
  assert_non_null (rw);
  value = bleio_characteristic_read_value (rw, &error);
  assert_no_error (error);
  assert_bytes (value, "last");
  client_disconnect (s, link);
}

/* What BlueZ cannot serve, or `_bleio` forbids, is refused before
 * anything is registered. */
static void
test_gatt_server_refuses_bad_attributes (void **state)
{
  Server *s = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioUuid) u = uuid ("0000fff9-0000-1000-8000-00805f9b34fb");
  g_autoptr(BleioUuid) cccd = bleio_uuid_new_from_uuid16 (0x2902);
  g_autoptr(GBytes) long_value = bytes ("123456789");
  BleioCharacteristic *c;
  BleioDescriptor *d;

  c = bleio_characteristic_add_to_service (s->service, u, BLEIO_CHARACTERISTIC_PROPERTY_READ,
                                           BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_OPEN,
                                           513, FALSE, NULL, NULL, &error);
  assert_null (c);
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  c = bleio_characteristic_add_to_service (s->service, u, BLEIO_CHARACTERISTIC_PROPERTY_READ,
                                           BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_OPEN,
                                           4, FALSE, long_value, NULL, &error);
  assert_null (c);
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  c = bleio_characteristic_add_to_service (s->service, u, BLEIO_CHARACTERISTIC_PROPERTY_READ,
                                           BLEIO_ATTRIBUTE_SIGNED_NO_MITM, BLEIO_ATTRIBUTE_OPEN,
                                           4, FALSE, NULL, NULL, &error);
  assert_null (c);
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  c = bleio_characteristic_add_to_service (s->service, u, BLEIO_CHARACTERISTIC_PROPERTY_WRITE,
                                           BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_SIGNED_WITH_MITM,
                                           4, FALSE, NULL, NULL, &error);
  assert_null (c);
  assert_bleio_error (error, BLEIO_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  c = bleio_characteristic_add_to_service (s->service, u, BLEIO_CHARACTERISTIC_PROPERTY_READ,
                                           BLEIO_ATTRIBUTE_NO_ACCESS, BLEIO_ATTRIBUTE_OPEN,
                                           4, FALSE, NULL, NULL, &error);
  assert_null (c);
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  d = bleio_descriptor_add_to_characteristic (s->rw, cccd, BLEIO_ATTRIBUTE_OPEN,
                                              BLEIO_ATTRIBUTE_OPEN, 2, FALSE, NULL, &error);
  assert_null (d);
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* The application sets values within the same limits. */
  assert_false (bleio_characteristic_write_value (s->rw, long_value, &error));
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* Subscribing is a client's business. */
  assert_false (bleio_characteristic_set_cccd (s->notify, TRUE, FALSE, &error));
  assert_bleio_error (error, BLEIO_ERROR_ROLE);
}

/* A publish call whose cancellable is cancelled ends at once; the
 * application stays registered. */
static void
test_gatt_server_publish_cancelled (void **state)
{
  Server *s = *state;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  g_cancellable_cancel (cancellable);
  assert_false (bleio_adapter_publish_services (s->peripheral, cancellable, &error));
  assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error (&error);
  assert_true (bleio_adapter_publish_services (s->peripheral, NULL, &error));
  assert_no_error (error);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_gatt_server_refuses_bad_attributes),
    cmocka_unit_test (test_gatt_server_publish_cancelled),
    cmocka_unit_test (test_gatt_server_read_write),
    cmocka_unit_test (test_gatt_server_offset_reads),
    cmocka_unit_test (test_gatt_server_notify_into_buffer),
    cmocka_unit_test (test_gatt_server_indicate_waits_for_confirmation),
    cmocka_unit_test (test_gatt_server_service_added_after_publish),
    cmocka_unit_test (test_gatt_server_restored_after_restart),
  };

  if (argc < 2)
    {
      g_printerr ("usage: %s SCENARIO\n", argv[0]);
      return 2;
    }
  scenario = argv[1];
  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
