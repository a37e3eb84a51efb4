/* SPDX-License-Identifier: MIT */
/*
 * The peer's GATT database changes under a live link (issue 19 items 6
 * and 7). In the guest the test peripheral registers the second version
 * of its custom application while connected (peripheral.c, Version), and
 * real bluetoothd on our side hears Service Changed; under the simulator
 * ReplaceGatt does the same to the demo peripheral. Either way the custom
 * service comes back on other handles, without "Read me" and with
 * "Version" first:
 *
 *  - BleioConnection::services-changed fires once;
 *  - "Read me", discovered before, fails with DOES_NOT_EXIST;
 *  - the CharacteristicBuffer on the counter, which the new database
 *    still has at its place, follows it to its new object, subscribes
 *    there and keeps receiving the stream 00 01 02 03;
 *  - a new discovery shows the new database.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "e2e-central.h"

/* Several periods of the counter on a loaded machine. */
#define READ_TIMEOUT_S 15.0
/* bluetoothd's rediscovery after the indications, under TCG. */
#define CHANGE_WAIT_MSEC 30000
/* As long again as the library waits for a change to settle (1 s), and
 * more: a second services-changed would have come by then. */
#define SECOND_SIGNAL_WAIT_MSEC 4000

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
  g_print ("services-changed 0x%04x-0x%04x\n", start, end);
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

typedef struct {
  BleioCharacteristicBuffer *buffer;
  char *old_path;
} Follow;

static gboolean
buffer_moved (gpointer user_data)
{
  Follow *f = user_data;
  BleioCharacteristic *now = bleio_characteristic_buffer_get_characteristic (f->buffer);

  return !g_str_equal (bleio_characteristic_get_object_path (now), f->old_path);
}

/* 4 bytes of the counter that count on. */
static void
read_counting (BleioCharacteristicBuffer *buffer)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = bleio_characteristic_buffer_read (buffer, 4, &error);
  g_autofree char *hex = NULL;
  const guint8 *data;
  gsize len;

  if (bytes == NULL)
    fail_msg ("read: %s", error->message);
  hex = e2e_hex (bytes);
  g_print ("counter bytes %s\n", hex);
  data = g_bytes_get_data (bytes, &len);
  assert_int_equal (len, 4);
  for (gsize i = 1; i < len; i++)
    assert_int_equal (data[i], (data[i - 1] + 1) % 4);
}

static void
test_database_changes_under_the_link (void **state)
{
  E2eFixture *f = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristic) counter = e2e_fixture_find (f, E2E_UUID_CUSTOM,
                                                             E2E_UUID_CUSTOM_COUNTER);
  g_autoptr(BleioCharacteristic) read_me = e2e_fixture_find (f, E2E_UUID_CUSTOM,
                                                             E2E_UUID_CUSTOM_READ);
  g_autoptr(BleioCharacteristic) version = NULL;
  g_autoptr(BleioCharacteristic) gone = NULL;
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GBytes) value = NULL;
  Changed changed = { 0 };
  Follow follow = { 0 };

  buffer = bleio_characteristic_buffer_new (counter, READ_TIMEOUT_S, 64, &error);
  if (buffer == NULL)
    fail_msg ("CharacteristicBuffer: %s", error->message);
  read_counting (buffer);

  g_signal_connect (f->connection, "services-changed", G_CALLBACK (on_services_changed),
                    &changed);
  if (!e2e_peer_change_database (f->connection, &error))
    fail_msg ("changing the peer's database: %s", error->message);
  assert_true (e2e_wait_until (changed_fired, &changed, CHANGE_WAIT_MSEC));
  e2e_wait_until (never, NULL, SECOND_SIGNAL_WAIT_MSEC);
  assert_int_equal (changed.count, 1);

  /* the stale characteristic */
  value = bleio_characteristic_read_value (read_me, &error);
  assert_null (value);
  if (!g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_DOES_NOT_EXIST))
    fail_msg ("reading the gone characteristic: %s", error->message);
  g_print ("gone: %s\n", error->message);
  g_clear_error (&error);

  /* the surviving one's buffer */
  follow.buffer = buffer;
  follow.old_path = g_strdup (bleio_characteristic_get_object_path (counter));
  assert_true (e2e_wait_until (buffer_moved, &follow, CHANGE_WAIT_MSEC));
  g_print ("the buffer moved from %s to %s\n", follow.old_path,
           bleio_characteristic_get_object_path (bleio_characteristic_buffer_get_characteristic (buffer)));
  g_free (follow.old_path);
  assert_true (bleio_characteristic_buffer_get_connected (buffer));
  bleio_characteristic_buffer_reset_input_buffer (buffer);
  read_counting (buffer);
  bleio_characteristic_buffer_deinit (buffer);

  /* the new database */
  version = e2e_find_characteristic (f->connection, E2E_UUID_CUSTOM, E2E_UUID_CUSTOM_VERSION,
                                     &error);
  if (version == NULL)
    fail_msg ("the new characteristic: %s", error->message);
  value = bleio_characteristic_read_value (version, &error);
  if (value == NULL)
    fail_msg ("reading the new characteristic: %s", error->message);
  assert_int_equal (g_bytes_get_size (value), 1);
  assert_int_equal (((const guint8 *) g_bytes_get_data (value, NULL))[0], 0x02);
  gone = e2e_find_characteristic (f->connection, E2E_UUID_CUSTOM, E2E_UUID_CUSTOM_READ, &error);
  assert_null (gone);
  g_clear_error (&error);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_database_changes_under_the_link),
  };

  return cmocka_run_group_tests (tests, e2e_fixture_setup, e2e_fixture_teardown);
}
