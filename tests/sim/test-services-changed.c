/* SPDX-License-Identifier: MIT */
/* The peer's GATT database changes while connected (issue 19 items 5, 6
 * and 8): the simulator's ReplaceGatt removes and adds objects as
 * bluetoothd 5.66 does after a Service Changed indication. The
 * connection says so once with `services-changed`; objects handed out
 * before that and now gone fail with DOES_NOT_EXIST, even where a new
 * attribute took their path; a buffer on a characteristic that stays
 * keeps receiving, also when the change gave it a new object on other
 * handles (the buffer follows it by service UUID, characteristic UUID
 * and rank among same-UUID siblings); one on a characteristic that went
 * ends, after its data is read, with DOES_NOT_EXIST. */
#include "central.h"

typedef CommonGroup Group;

/* One peer per case, so that a failed case leaves nothing in the next
 * one's way. */
#define PEER(n) "00:CC:00:00:19:0" #n

/* Service 0xfff0 at 0x0010: 0xfff1 (read, "01") at 0x0011; service
 * 0xaaa0 at 0x0020: 0xaaa1 (notify) at 0x0021, its CCCD at 0x0023. */
#define GATT_BEFORE \
  "[{\"uuid\": \"fff0\", \"handle\": \"0x0010\", \"characteristics\": [" \
  "   {\"uuid\": \"fff1\", \"handle\": \"0x0011\", \"flags\": [\"read\"], \"value\": \"01\"}]}," \
  " {\"uuid\": \"aaa0\", \"handle\": \"0x0020\", \"characteristics\": [" \
  "   {\"uuid\": \"aaa1\", \"handle\": \"0x0021\", \"flags\": [\"notify\"], \"value\": \"00\"}]}]"
/* 0xfff0 gives way to 0xeee0, whose 0xeee1 (read, "02") takes the path
 * of 0xfff1; 0xaaa0 is unchanged. */
#define GATT_AFTER \
  "[{\"uuid\": \"eee0\", \"handle\": \"0x0010\", \"characteristics\": [" \
  "   {\"uuid\": \"eee1\", \"handle\": \"0x0011\", \"flags\": [\"read\"], \"value\": \"02\"}]}," \
  " {\"uuid\": \"aaa0\", \"handle\": \"0x0020\", \"characteristics\": [" \
  "   {\"uuid\": \"aaa1\", \"handle\": \"0x0021\", \"flags\": [\"notify\"], \"value\": \"00\"}]}]"
/* 0xaaa0 goes; 0xfff0 stays. */
#define GATT_WITHOUT_AAA0 \
  "[{\"uuid\": \"fff0\", \"handle\": \"0x0010\", \"characteristics\": [" \
  "   {\"uuid\": \"fff1\", \"handle\": \"0x0011\", \"flags\": [\"read\"], \"value\": \"01\"}]}]"

/* Service 0xaaa0 at 0x0020 with 0xaaa1 (notify: AcquireNotify) at 0x0021
 * and 0xccc1 (read, write without response, indicate: StartNotify and
 * AcquireWrite) at 0x0024; 0xfff0 as in GATT_BEFORE. */
#define GATT_TWO_BEFORE \
  "[{\"uuid\": \"fff0\", \"handle\": \"0x0010\", \"characteristics\": [" \
  "   {\"uuid\": \"fff1\", \"handle\": \"0x0011\", \"flags\": [\"read\"], \"value\": \"01\"}]}," \
  " {\"uuid\": \"aaa0\", \"handle\": \"0x0020\", \"characteristics\": [" \
  "   {\"uuid\": \"aaa1\", \"handle\": \"0x0021\", \"flags\": [\"notify\"], \"value\": \"00\"}," \
  "   {\"uuid\": \"ccc1\", \"handle\": \"0x0024\"," \
  "    \"flags\": [\"read\", \"write-without-response\", \"indicate\"], \"value\": \"00\"}]}]"
/* A firmware update: 0xfff0 gives way to 0xeee0 (0xfff1 is stale), and
 * 0xaaa0 gains 0xaaa2 before the others, which so move to 0x0023 and
 * 0x0026: bluetoothd drops 0xaaa0's objects and makes new ones. */
#define GATT_TWO_MOVED \
  "[{\"uuid\": \"eee0\", \"handle\": \"0x0010\", \"characteristics\": [" \
  "   {\"uuid\": \"eee1\", \"handle\": \"0x0011\", \"flags\": [\"read\"], \"value\": \"02\"}]}," \
  " {\"uuid\": \"aaa0\", \"handle\": \"0x0020\", \"characteristics\": [" \
  "   {\"uuid\": \"aaa2\", \"handle\": \"0x0021\", \"flags\": [\"read\"], \"value\": \"07\"}," \
  "   {\"uuid\": \"aaa1\", \"handle\": \"0x0023\", \"flags\": [\"notify\"], \"value\": \"00\"}," \
  "   {\"uuid\": \"ccc1\", \"handle\": \"0x0026\"," \
  "    \"flags\": [\"read\", \"write-without-response\", \"indicate\"], \"value\": \"00\"}]}]"
/* Two 0xaaa1 in 0xaaa0 (as HID has several reports), at 0x0021 and
 * 0x0024; then 0xaaa2 comes first and they move to 0x0023 and 0x0026. */
#define GATT_TWINS_BEFORE \
  "[{\"uuid\": \"aaa0\", \"handle\": \"0x0020\", \"characteristics\": [" \
  "   {\"uuid\": \"aaa1\", \"handle\": \"0x0021\", \"flags\": [\"notify\"], \"value\": \"00\"}," \
  "   {\"uuid\": \"aaa1\", \"handle\": \"0x0024\", \"flags\": [\"notify\"], \"value\": \"00\"}]}]"
#define GATT_TWINS_MOVED \
  "[{\"uuid\": \"aaa0\", \"handle\": \"0x0020\", \"characteristics\": [" \
  "   {\"uuid\": \"aaa2\", \"handle\": \"0x0021\", \"flags\": [\"read\"], \"value\": \"07\"}," \
  "   {\"uuid\": \"aaa1\", \"handle\": \"0x0023\", \"flags\": [\"notify\"], \"value\": \"00\"}," \
  "   {\"uuid\": \"aaa1\", \"handle\": \"0x0026\", \"flags\": [\"notify\"], \"value\": \"00\"}]}]"

typedef struct {
  guint count;
  guint start, end;
} Changed;

static void
on_services_changed (BleioConnection *connection,
                     guint            start,
                     guint            end,
                     gpointer         user_data)
{
  Changed *c = user_data;

  c->count++;
  c->start = start;
  c->end = end;
}

static gboolean
changed_fired (gpointer user_data)
{
  return ((Changed *) user_data)->count > 0;
}

static gboolean
never (gpointer user_data)
{
  return FALSE;
}

static BleioConnection *
connect_peer_with (Group      *g,
                   const char *address,
                   const char *gatt,
                   char      **path_out)
{
  g_autofree char *json =
    g_strdup_printf ("{\"address\": \"%s\", \"name\": \"Changing\", \"gatt\": %s}",
                     address, gatt);

  return common_add_and_connect (g, address, json, path_out);
}

static BleioConnection *
connect_peer (Group      *g,
              const char *address,
              char      **path_out)
{
  return connect_peer_with (g, address, GATT_BEFORE, path_out);
}

/* The @rank-th characteristic with @uuid16 (in handle order). */
static BleioCharacteristic *
find_char_rank (BleioConnection *connection,
                guint16          uuid16,
                guint            rank)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) services =
    bleio_connection_discover_remote_services (connection, NULL, 10, &error);

  assert_no_error (error);
  for (guint i = 0; services != NULL && i < services->len; i++)
    {
      g_autoptr(GPtrArray) chars =
        bleio_service_dup_characteristics (g_ptr_array_index (services, i));

      for (guint j = 0; j < chars->len; j++)
        {
          BleioCharacteristic *c = g_ptr_array_index (chars, j);
          const BleioUuid *uuid = bleio_characteristic_get_uuid (c);

          if (bleio_uuid_get_size (uuid) == 16 && bleio_uuid_get_uuid16 (uuid) == uuid16 &&
              rank-- == 0)
            return g_object_ref (c);
        }
    }
  return NULL;
}

static BleioCharacteristic *
find_char (BleioConnection *connection,
           guint16          uuid16)
{
  return find_char_rank (connection, uuid16, 0);
}

static void
replace_gatt (Group      *g,
              const char *path,
              const char *gatt)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = sim_fixture_call (g->fx, "ReplaceGatt", g_variant_new ("(os)", path, gatt),
                                      &error);

  assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
}

/* Waits for the signal, then for as long again as the library waits for
 * a change to settle, so that a second emission would be seen. */
static void
wait_changed (Changed *changed)
{
  assert_true (common_wait (changed_fired, changed, WAIT_MSEC));
  common_wait (never, NULL, 1500);
}

static void
test_services_changed_fires_once (void **state)
{
  Group *g = *state;
  char *path = NULL;
  g_autoptr(BleioConnection) connection = connect_peer (g, PEER (1), &path);
  g_autoptr(BleioCharacteristic) fff1 = find_char (connection, 0xfff1);
  Changed changed = { 0 };

  assert_non_null (fff1);
  g_signal_connect (connection, "services-changed", G_CALLBACK (on_services_changed), &changed);
  replace_gatt (g, path, GATT_AFTER);
  wait_changed (&changed);
  assert_int_equal (changed.count, 1);
  /* what went (0x0010-0x0011) and what came (the same handles) */
  assert_int_equal (changed.start, 0x0010);
  assert_int_equal (changed.end, 0x0011);
  common_disconnect_remove (g, g_steal_pointer (&connection), path);
}

/* 0xeee1 takes the object path of 0xfff1 (char0011): the old object must
 * not read the new attribute's value. */
static void
test_stale_characteristic_path_reused (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  g_autoptr(BleioConnection) connection = connect_peer (g, PEER (2), &path);
  g_autoptr(BleioCharacteristic) fff1 = find_char (connection, 0xfff1);
  g_autoptr(BleioCharacteristic) eee1 = NULL;
  g_autoptr(GBytes) value = NULL;
  Changed changed = { 0 };

  assert_non_null (fff1);
  g_signal_connect (connection, "services-changed", G_CALLBACK (on_services_changed), &changed);
  replace_gatt (g, path, GATT_AFTER);
  assert_true (common_wait (changed_fired, &changed, WAIT_MSEC));

  eee1 = find_char (connection, 0xeee1);
  assert_non_null (eee1);
  assert_string_equal (bleio_characteristic_get_object_path (eee1),
                       bleio_characteristic_get_object_path (fff1));
  assert_null (find_char (connection, 0xfff1));

  value = bleio_characteristic_read_value (fff1, &error);
  assert_null (value);
  assert_bleio_error (error, BLEIO_ERROR_DOES_NOT_EXIST);
  assert_non_null (strstr (error->message, "discover services again"));
  g_clear_error (&error);

  value = bleio_characteristic_read_value (eee1, &error);
  assert_no_error (error);
  assert_int_equal (g_bytes_get_size (value), 1);
  assert_int_equal (((const guint8 *) g_bytes_get_data (value, NULL))[0], 0x02);
  common_disconnect_remove (g, g_steal_pointer (&connection), path);
}

static gboolean
has_bytes (gpointer user_data)
{
  return bleio_characteristic_buffer_get_in_waiting (user_data) >= 2;
}

static gboolean
has_bytes_1 (gpointer user_data)
{
  return bleio_characteristic_buffer_get_in_waiting (user_data) >= 1;
}

static void
notify_at (Group       *g,
           const char  *path,
           const char  *chr_name,
           guint8       byte)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *chr = g_strdup_printf ("%s/service0020/%s", path, chr_name);

  assert_true (sim_fixture_notify (g->fx, chr, &byte, 1, &error));
  assert_no_error (error);
}

static void
notify (Group       *g,
        const char  *path,
        guint8       byte)
{
  notify_at (g, path, "char0021", byte);
}

/* 0xaaa0 keeps its declaration, so bluetoothd keeps its objects and the
 * buffer its subscription. */
static void
test_surviving_buffer_keeps_receiving (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  g_autoptr(BleioConnection) connection = connect_peer (g, PEER (3), &path);
  g_autoptr(BleioCharacteristic) aaa1 = find_char (connection, 0xaaa1);
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GBytes) got = NULL;
  Changed changed = { 0 };

  assert_non_null (aaa1);
  buffer = bleio_characteristic_buffer_new (aaa1, 5, 64, &error);
  assert_no_error (error);
  g_signal_connect (connection, "services-changed", G_CALLBACK (on_services_changed), &changed);
  replace_gatt (g, path, GATT_AFTER);
  assert_true (common_wait (changed_fired, &changed, WAIT_MSEC));

  notify (g, path, 0x41);
  notify (g, path, 0x42);
  assert_true (common_wait (has_bytes, buffer, WAIT_MSEC));
  got = bleio_characteristic_buffer_read (buffer, 2, &error);
  assert_no_error (error);
  assert_int_equal (g_bytes_get_size (got), 2);
  assert_memory_equal (g_bytes_get_data (got, NULL), "AB", 2);
  assert_true (bleio_characteristic_buffer_get_connected (buffer));
  bleio_characteristic_buffer_deinit (buffer);
  common_disconnect_remove (g, g_steal_pointer (&connection), path);
}

static void
test_gone_buffer_ends_after_data (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  g_autoptr(BleioConnection) connection = connect_peer (g, PEER (4), &path);
  g_autoptr(BleioCharacteristic) aaa1 = find_char (connection, 0xaaa1);
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GBytes) none = NULL;
  Changed changed = { 0 };

  assert_non_null (aaa1);
  buffer = bleio_characteristic_buffer_new (aaa1, 5, 64, &error);
  assert_no_error (error);
  notify (g, path, 0x41);
  notify (g, path, 0x42);
  assert_true (common_wait (has_bytes, buffer, WAIT_MSEC));

  g_signal_connect (connection, "services-changed", G_CALLBACK (on_services_changed), &changed);
  replace_gatt (g, path, GATT_WITHOUT_AAA0);
  assert_true (common_wait (changed_fired, &changed, WAIT_MSEC));

  got = bleio_characteristic_buffer_read (buffer, 0, &error);
  assert_no_error (error);
  assert_int_equal (g_bytes_get_size (got), 2);
  assert_memory_equal (g_bytes_get_data (got, NULL), "AB", 2);
  none = bleio_characteristic_buffer_read (buffer, 0, &error);
  assert_null (none);
  assert_bleio_error (error, BLEIO_ERROR_DOES_NOT_EXIST);
  assert_false (bleio_characteristic_buffer_get_connected (buffer));
  g_clear_error (&error);
  bleio_characteristic_buffer_deinit (buffer);
  common_disconnect_remove (g, g_steal_pointer (&connection), path);
}

typedef struct {
  BleioCharacteristicBuffer *buffer;
  BleioPacketBuffer *packets;
  const char *suffix;           /* of the object path it must move to */
} Moved;

/* The buffer is on the object at a path that ends in @suffix: it has
 * followed its characteristic there and subscribed again. */
static gboolean
buffer_moved (gpointer user_data)
{
  Moved *m = user_data;
  BleioCharacteristic *c = m->buffer != NULL
                           ? bleio_characteristic_buffer_get_characteristic (m->buffer)
                           : bleio_packet_buffer_get_characteristic (m->packets);

  return g_str_has_suffix (bleio_characteristic_get_object_path (c), m->suffix);
}

/* What "must show" in issue 19: the peer's database changes under a
 * live link (0xaaa1 moves to other handles, 0xfff1 goes): the signal
 * fires once, the stale characteristic fails DOES_NOT_EXIST, and the
 * CharacteristicBuffer on 0xaaa1 keeps what it held and keeps receiving
 * on the new object, through a new AcquireNotify. */
static void
test_buffer_follows_moved_characteristic (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  g_autoptr(BleioConnection) connection = connect_peer_with (g, PEER (5), GATT_TWO_BEFORE, &path);
  g_autoptr(BleioCharacteristic) fff1 = find_char (connection, 0xfff1);
  g_autoptr(BleioCharacteristic) aaa1 = find_char (connection, 0xaaa1);
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GBytes) value = NULL;
  Changed changed = { 0 };
  Moved moved = { .suffix = "/service0020/char0023" };
  BleioCharacteristic *now;

  assert_non_null (fff1);
  assert_non_null (aaa1);
  buffer = bleio_characteristic_buffer_new (aaa1, 5, 64, &error);
  assert_no_error (error);
  assert_true (bleio_characteristic_buffer_get_notify_acquired (buffer));
  notify (g, path, 0x41);
  assert_true (common_wait (has_bytes_1, buffer, WAIT_MSEC));

  g_signal_connect (connection, "services-changed", G_CALLBACK (on_services_changed), &changed);
  replace_gatt (g, path, GATT_TWO_MOVED);
  wait_changed (&changed);
  assert_int_equal (changed.count, 1);

  value = bleio_characteristic_read_value (fff1, &error);
  assert_null (value);
  assert_bleio_error (error, BLEIO_ERROR_DOES_NOT_EXIST);
  g_clear_error (&error);

  moved.buffer = buffer;
  assert_true (common_wait (buffer_moved, &moved, WAIT_MSEC));
  now = bleio_characteristic_buffer_get_characteristic (buffer);
  assert_ptr_not_equal (now, aaa1);
  assert_int_equal (bleio_uuid_get_uuid16 (bleio_characteristic_get_uuid (now)), 0xaaa1);
  assert_true (bleio_characteristic_buffer_get_notify_acquired (buffer));
  assert_true (bleio_characteristic_buffer_get_connected (buffer));

  notify_at (g, path, "char0023", 0x42);
  assert_true (common_wait (has_bytes, buffer, WAIT_MSEC));
  got = bleio_characteristic_buffer_read (buffer, 2, &error);
  assert_no_error (error);
  assert_int_equal (g_bytes_get_size (got), 2);
  assert_memory_equal (g_bytes_get_data (got, NULL), "AB", 2);
  bleio_characteristic_buffer_deinit (buffer);
  common_disconnect_remove (g, g_steal_pointer (&connection), path);
}

static gboolean
has_packet (gpointer user_data)
{
  return bleio_packet_buffer_get_packets_waiting (user_data) >= 1;
}

static gboolean
write_acquired (gpointer user_data)
{
  return bleio_packet_buffer_get_write_acquired (user_data);
}

typedef struct {
  BleioCharacteristic *characteristic;
  guint8 want;
} ReadsAs;

static gboolean
reads_as (gpointer user_data)
{
  ReadsAs *r = user_data;
  g_autoptr(GBytes) value = bleio_characteristic_read_value (r->characteristic, NULL);

  return value != NULL && g_bytes_get_size (value) == 1 &&
         ((const guint8 *) g_bytes_get_data (value, NULL))[0] == r->want;
}

/* A PacketBuffer on an indicating characteristic (StartNotify) with an
 * AcquireWrite descriptor follows it too: packets keep coming in through
 * a new StartNotify, and writes go out through a new AcquireWrite. */
static void
test_packet_buffer_follows_moved_characteristic (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  g_autoptr(BleioConnection) connection = connect_peer_with (g, PEER (6), GATT_TWO_BEFORE, &path);
  g_autoptr(BleioCharacteristic) ccc1 = find_char (connection, 0xccc1);
  g_autoptr(BleioPacketBuffer) buffer = NULL;
  g_autoptr(GBytes) packet = NULL;
  Changed changed = { 0 };
  Moved moved = { .suffix = "/service0020/char0026" };
  ReadsAs reads = { .want = 0x5a };
  const guint8 out = 0x5a;

  assert_non_null (ccc1);
  buffer = bleio_packet_buffer_new (ccc1, 4, 0, &error);
  assert_no_error (error);
  assert_false (bleio_packet_buffer_get_notify_acquired (buffer));
  assert_true (bleio_packet_buffer_get_write_acquired (buffer));
  notify_at (g, path, "char0024", 0x41);
  assert_true (common_wait (has_packet, buffer, WAIT_MSEC));

  g_signal_connect (connection, "services-changed", G_CALLBACK (on_services_changed), &changed);
  replace_gatt (g, path, GATT_TWO_MOVED);
  wait_changed (&changed);
  assert_int_equal (changed.count, 1);

  moved.packets = buffer;
  assert_true (common_wait (buffer_moved, &moved, WAIT_MSEC));
  assert_true (common_wait (write_acquired, buffer, WAIT_MSEC));
  assert_true (bleio_packet_buffer_get_connected (buffer));

  packet = bleio_packet_buffer_read_packet (buffer, &error);
  assert_no_error (error);
  assert_non_null (packet);
  assert_int_equal (((const guint8 *) g_bytes_get_data (packet, NULL))[0], 0x41);
  g_clear_pointer (&packet, g_bytes_unref);
  notify_at (g, path, "char0026", 0x42);
  assert_true (common_wait (has_packet, buffer, WAIT_MSEC));
  packet = bleio_packet_buffer_read_packet (buffer, &error);
  assert_no_error (error);
  assert_int_equal (((const guint8 *) g_bytes_get_data (packet, NULL))[0], 0x42);

  assert_int_equal (bleio_packet_buffer_write (buffer, &out, 1, NULL, 0, &error), 1);
  assert_no_error (error);
  reads.characteristic = bleio_packet_buffer_get_characteristic (buffer);
  assert_true (common_wait (reads_as, &reads, WAIT_MSEC));
  bleio_packet_buffer_deinit (buffer);
  common_disconnect_remove (g, g_steal_pointer (&connection), path);
}

/* Of two characteristics with one UUID in one service, a buffer on the
 * second follows the second: a match by UUID alone would take the first
 * (DESIGN quirk 8). */
static void
test_buffer_follows_same_uuid_sibling (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  g_autoptr(BleioConnection) connection = connect_peer_with (g, PEER (7), GATT_TWINS_BEFORE, &path);
  g_autoptr(BleioCharacteristic) second = find_char_rank (connection, 0xaaa1, 1);
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GBytes) got = NULL;
  Changed changed = { 0 };
  Moved moved = { .suffix = "/service0020/char0026" };

  assert_non_null (second);
  assert_true (g_str_has_suffix (bleio_characteristic_get_object_path (second), "/char0024"));
  buffer = bleio_characteristic_buffer_new (second, 5, 64, &error);
  assert_no_error (error);
  g_signal_connect (connection, "services-changed", G_CALLBACK (on_services_changed), &changed);
  replace_gatt (g, path, GATT_TWINS_MOVED);
  assert_true (common_wait (changed_fired, &changed, WAIT_MSEC));
  moved.buffer = buffer;
  assert_true (common_wait (buffer_moved, &moved, WAIT_MSEC));

  notify_at (g, path, "char0023", 'X');
  notify_at (g, path, "char0026", 'Y');
  assert_true (common_wait (has_bytes_1, buffer, WAIT_MSEC));
  got = bleio_characteristic_buffer_read (buffer, 1, &error);
  assert_no_error (error);
  assert_int_equal (((const guint8 *) g_bytes_get_data (got, NULL))[0], 'Y');
  bleio_characteristic_buffer_deinit (buffer);
  common_disconnect_remove (g, g_steal_pointer (&connection), path);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_services_changed_fires_once),
    cmocka_unit_test (test_stale_characteristic_path_reused),
    cmocka_unit_test (test_surviving_buffer_keeps_receiving),
    cmocka_unit_test (test_gone_buffer_ends_after_data),
    cmocka_unit_test (test_buffer_follows_moved_characteristic),
    cmocka_unit_test (test_packet_buffer_follows_moved_characteristic),
    cmocka_unit_test (test_buffer_follows_same_uuid_sibling),
  };

  return cmocka_run_group_tests (tests, common_group_setup, common_group_teardown);
}
