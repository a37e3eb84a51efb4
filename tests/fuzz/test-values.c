/* SPDX-License-Identifier: MIT */
/*
 * The BlueZ value conversions of lib/bleio-values.c (fuzzed by
 * fuzz-managed-objects and fuzz-properties-changed) on the values BlueZ
 * sends and on values of the wrong type, which count as missing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bleio-values-private.h"

static void
test_uuid (void **state)
{
  g_autoptr(GVariant) good = g_variant_ref_sink (g_variant_new_string ("0000180d-0000-1000-8000-00805f9b34fb"));
  g_autoptr(GVariant) number = g_variant_ref_sink (g_variant_new_uint16 (0x180d));
  g_autoptr(GVariant) junk = g_variant_ref_sink (g_variant_new_string ("heart rate"));
  g_autoptr(BleioUuid) uuid = bleio_uuid_from_bluez_value (good);

  assert_non_null (uuid);
  assert_int_equal (bleio_uuid_get_uuid16 (uuid), 0x180d);
  assert_null (bleio_uuid_from_bluez_value (number));
  assert_null (bleio_uuid_from_bluez_value (junk));
  assert_null (bleio_uuid_from_bluez_value (NULL));
}

/* A GattService1 Primary that is not a boolean once reached
 * g_variant_get_boolean() (a critical): now it is the fallback. */
static void
test_boolean_primary_not_boolean (void **state)
{
  g_autoptr(GVariant) no = g_variant_ref_sink (g_variant_new_boolean (FALSE));
  g_autoptr(GVariant) text = g_variant_ref_sink (g_variant_new_string ("false"));

  assert_false (bleio_boolean_from_bluez_value (no, TRUE));
  assert_true (bleio_boolean_from_bluez_value (text, TRUE));
  assert_false (bleio_boolean_from_bluez_value (text, FALSE));
  assert_true (bleio_boolean_from_bluez_value (NULL, TRUE));
}

static void
test_flags (void **state)
{
  const char *const flags[] = { "read", "notify", "encrypt-read", "bogus", NULL };
  g_autoptr(GVariant) good = g_variant_ref_sink (g_variant_new_strv (flags, -1));
  g_autoptr(GVariant) one = g_variant_ref_sink (g_variant_new_string ("read"));

  assert_int_equal (bleio_properties_from_bluez_value (good),
                    BLEIO_CHARACTERISTIC_PROPERTY_READ | BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY);
  assert_int_equal (bleio_properties_from_bluez_value (one), BLEIO_CHARACTERISTIC_PROPERTY_NONE);
  assert_int_equal (bleio_properties_from_bluez_value (NULL), BLEIO_CHARACTERISTIC_PROPERTY_NONE);
}

static void
test_address (void **state)
{
  g_autoptr(GVariant) address = g_variant_ref_sink (g_variant_new_string ("C0:11:22:33:44:55"));
  g_autoptr(GVariant) random = g_variant_ref_sink (g_variant_new_string ("random"));
  g_autoptr(GVariant) wrong_type = g_variant_ref_sink (g_variant_new_boolean (TRUE));
  g_autoptr(GVariant) bytes = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                             "\x55\x44\x33\x22\x11\xc0", 6, 1));
  g_autoptr(BleioAddress) with_type = bleio_address_from_bluez_values (address, random);
  g_autoptr(BleioAddress) without = bleio_address_from_bluez_values (address, NULL);
  g_autoptr(BleioAddress) odd_type = bleio_address_from_bluez_values (address, wrong_type);

  assert_non_null (with_type);
  assert_int_equal (bleio_address_get_address_type (with_type), BLEIO_ADDRESS_TYPE_RANDOM_STATIC);
  /* A missing or mistyped AddressType is BlueZ's default, public. */
  assert_non_null (without);
  assert_int_equal (bleio_address_get_address_type (without), BLEIO_ADDRESS_TYPE_PUBLIC);
  assert_non_null (odd_type);
  assert_int_equal (bleio_address_get_address_type (odd_type), BLEIO_ADDRESS_TYPE_PUBLIC);
  assert_null (bleio_address_from_bluez_values (bytes, random));
  assert_null (bleio_address_from_bluez_values (random, random));
  assert_null (bleio_address_from_bluez_values (NULL, random));
}

static void
test_mtu (void **state)
{
  g_autoptr(GVariant) mtu = g_variant_ref_sink (g_variant_new_uint16 (517));
  g_autoptr(GVariant) small = g_variant_ref_sink (g_variant_new_uint16 (3));
  g_autoptr(GVariant) wide = g_variant_ref_sink (g_variant_new_uint32 (517));
  g_autoptr(GVariant) huge = g_variant_ref_sink (g_variant_new_uint16 (65535));

  assert_int_equal (bleio_mtu_from_bluez_value (mtu, 23), 517);
  assert_int_equal (bleio_mtu_from_bluez_value (mtu, 600), 0);
  /* ATT's LE range is 23..517, whatever the caller's minimum. */
  assert_int_equal (bleio_mtu_from_bluez_value (small, 23), 0);
  assert_int_equal (bleio_mtu_from_bluez_value (small, 3), 0);
  assert_int_equal (bleio_mtu_from_bluez_value (huge, 23), 517);
  assert_int_equal (bleio_mtu_from_bluez_value (wide, 23), 0);
  assert_int_equal (bleio_mtu_from_bluez_value (NULL, 23), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_uuid),
    cmocka_unit_test (test_boolean_primary_not_boolean),
    cmocka_unit_test (test_flags),
    cmocka_unit_test (test_address),
    cmocka_unit_test (test_mtu),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
