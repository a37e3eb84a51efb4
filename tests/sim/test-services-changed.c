/* SPDX-License-Identifier: MIT */
/* The peer's GATT database changes while connected (issue 19 items 5, 6
 * and 8): the simulator's ReplaceGatt removes and adds objects as
 * bluetoothd 5.66 does after a Service Changed indication. The
 * connection says so once with `services-changed`; objects handed out
 * before that and now gone fail with DOES_NOT_EXIST, even where a new
 * attribute took their path; a buffer on a characteristic that stays
 * keeps receiving; one on a characteristic that went ends, after its
 * data is read, with DOES_NOT_EXIST. */
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
connect_peer (Group      *g,
              const char *address,
              char      **path_out)
{
  g_autofree char *json =
    g_strdup_printf ("{\"address\": \"%s\", \"name\": \"Changing\", \"gatt\": %s}",
                     address, GATT_BEFORE);

  return common_add_and_connect (g, address, json, path_out);
}

static BleioCharacteristic *
find_char (BleioConnection *connection,
           guint16          uuid16)
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

          if (bleio_uuid_get_size (uuid) == 16 && bleio_uuid_get_uuid16 (uuid) == uuid16)
            return g_object_ref (c);
        }
    }
  return NULL;
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

static void
notify (Group       *g,
        const char  *path,
        guint8       byte)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *chr = g_strdup_printf ("%s/service0020/char0021", path);

  assert_true (sim_fixture_notify (g->fx, chr, &byte, 1, &error));
  assert_no_error (error);
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

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_services_changed_fires_once),
    cmocka_unit_test (test_stale_characteristic_path_reused),
    cmocka_unit_test (test_surviving_buffer_keeps_receiving),
    cmocka_unit_test (test_gone_buffer_ends_after_data),
  };

  return cmocka_run_group_tests (tests, common_group_setup, common_group_teardown);
}
