/* SPDX-License-Identifier: MIT */
/*
 * Reads through the public API: the battery level (0x2A19), the custom
 * read characteristic, the body sensor location, a characteristic user
 * description descriptor (0x2901), the CCCD bluetoothd adds to a notify
 * characteristic, and a read of a write-only characteristic, which the
 * peripheral refuses. One connection serves the whole group.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "e2e-central.h"

static void
assert_bytes (GBytes *bytes, const char *expected_hex)
{
  g_autofree char *hex = e2e_hex (bytes);

  if (g_strcmp0 (hex, expected_hex) != 0)
    fail_msg ("read %s, expected %s", hex, expected_hex);
}

/* The reads below fail the test with @what and the library's message. */
static GBytes *
read_value (BleioCharacteristic *chr,
            const char          *what)
{
  g_autoptr(GError) error = NULL;
  GBytes *value = bleio_characteristic_read_value (chr, &error);

  if (value == NULL)
    fail_msg ("%s: %s", what, error->message);
  return value;
}

static BleioDescriptor *
find_descriptor (BleioCharacteristic *chr,
                 const char          *uuid)
{
  g_autoptr(GError) error = NULL;
  BleioDescriptor *descriptor = e2e_find_descriptor (chr, uuid, &error);

  if (descriptor == NULL)
    fail_msg ("%s", error->message);
  return descriptor;
}

static GBytes *
read_descriptor (BleioDescriptor *descriptor,
                 const char      *what)
{
  g_autoptr(GError) error = NULL;
  GBytes *value = bleio_descriptor_read_value (descriptor, &error);

  if (value == NULL)
    fail_msg ("%s: %s", what, error->message);
  return value;
}

static void
test_read_battery_level (void **state)
{
  E2eFixture *f = *state;
  g_autoptr(BleioCharacteristic) level = e2e_fixture_find (f, E2E_UUID_BATTERY, E2E_UUID_BATTERY_LEVEL);
  g_autoptr(GBytes) value = read_value (level, "read");

  assert_bytes (value, "62");   /* 98 % */
  assert_true (bleio_characteristic_get_properties (level) & BLEIO_CHARACTERISTIC_PROPERTY_READ);
  assert_true (bleio_characteristic_get_properties (level) & BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY);
}

static void
test_read_custom_twice (void **state)
{
  E2eFixture *f = *state;
  g_autoptr(BleioCharacteristic) hello = e2e_fixture_find (f, E2E_UUID_CUSTOM, E2E_UUID_CUSTOM_READ);
  g_autoptr(BleioCharacteristic) location = e2e_fixture_find (f, E2E_UUID_HEART_RATE, E2E_UUID_BODY_LOCATION);
  g_autoptr(GBytes) value = NULL;
  g_autoptr(GBytes) again = NULL;
  g_autoptr(GBytes) chest = NULL;

  value = read_value (hello, "read");
  assert_bytes (value, "48656c6c6f");   /* "Hello" */

  /* A second read goes to the peripheral again and gives the same. */
  again = read_value (hello, "second read");
  assert_true (g_bytes_equal (value, again));

  chest = read_value (location, "read body sensor location");
  assert_bytes (chest, "01");
}

static void
test_read_user_description (void **state)
{
  E2eFixture *f = *state;
  g_autoptr(BleioCharacteristic) hello = e2e_fixture_find (f, E2E_UUID_CUSTOM, E2E_UUID_CUSTOM_READ);
  g_autoptr(BleioDescriptor) description = NULL;
  g_autoptr(GBytes) value = NULL;

  description = find_descriptor (hello, E2E_UUID_USER_DESCRIPTION);
  assert_ptr_equal (bleio_descriptor_get_characteristic (description), hello);
  assert_true (bleio_descriptor_get_handle (description) > bleio_characteristic_get_handle (hello));
  value = read_descriptor (description, "read descriptor");
  assert_bytes (value, "52656164206d65");   /* "Read me" */
}

static void
test_read_cccd (void **state)
{
  E2eFixture *f = *state;
  g_autoptr(BleioCharacteristic) counter = e2e_fixture_find (f, E2E_UUID_CUSTOM, E2E_UUID_CUSTOM_COUNTER);
  g_autoptr(BleioDescriptor) cccd = NULL;
  g_autoptr(GBytes) value = NULL;

  /* bluetoothd adds a CCCD to every notify characteristic it serves. */
  cccd = find_descriptor (counter, E2E_UUID_CCCD);
  value = read_descriptor (cccd, "read CCCD");
  assert_int_equal (g_bytes_get_size (value), 2);
}

static void
test_read_write_only_is_not_permitted (void **state)
{
  E2eFixture *f = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristic) command = e2e_fixture_find (f, E2E_UUID_CUSTOM, E2E_UUID_CUSTOM_COMMAND);
  g_autoptr(GBytes) value = NULL;

  assert_false (bleio_characteristic_get_properties (command) & BLEIO_CHARACTERISTIC_PROPERTY_READ);
  value = bleio_characteristic_read_value (command, &error);
  assert_null (value);
  assert_non_null (error);
  g_print ("read of a write-only characteristic: %s (%s %d)\n", error->message,
           g_quark_to_string (error->domain), error->code);
  assert_true (error->domain == BLEIO_ERROR);
  assert_true (error->code == BLEIO_ERROR_NOT_PERMITTED);

  /* The link is still good afterwards. */
  assert_true (bleio_connection_get_connected (f->connection));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_read_battery_level),
    cmocka_unit_test (test_read_custom_twice),
    cmocka_unit_test (test_read_user_description),
    cmocka_unit_test (test_read_cccd),
    cmocka_unit_test (test_read_write_only_is_not_permitted),
  };

  return cmocka_run_group_tests (tests, e2e_fixture_setup, e2e_fixture_teardown);
}
