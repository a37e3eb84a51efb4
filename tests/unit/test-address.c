/* SPDX-License-Identifier: MIT */
/* BleioAddress: byte order, parsing, BlueZ's types and forms, hashing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include "bleio-private.h"

/* C8:1D:AB:01:02:F3, least significant byte first. */
static const guint8 sample_le[6] = { 0xf3, 0x02, 0x01, 0xab, 0x1d, 0xc8 };

static void
test_new_from_bytes (void **state)
{
  g_autoptr(BleioAddress) address = bleio_address_new (sample_le, BLEIO_ADDRESS_TYPE_RANDOM_STATIC);
  g_autofree char *text = bleio_address_to_string (address);
  g_autofree char *bluez = bleio_address_to_bluez_string (address);

  assert_memory_equal (bleio_address_get_bytes (address), sample_le, 6);
  assert_int_equal (bleio_address_get_address_type (address), BLEIO_ADDRESS_TYPE_RANDOM_STATIC);
  assert_string_equal (bleio_address_get_bluez_address_type (address), "random");
  /* Printed most significant first: lower case as _bleio, upper as BlueZ. */
  assert_string_equal (text, "c8:1d:ab:01:02:f3");
  assert_string_equal (bluez, "C8:1D:AB:01:02:F3");
}

static void
test_from_string (void **state)
{
  static const char *forms[] = {
    "C8:1D:AB:01:02:F3", "c8:1d:ab:01:02:f3", "c8:1D:Ab:01:02:f3",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (forms); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BleioAddress) address =
        bleio_address_new_from_string (forms[i], BLEIO_ADDRESS_TYPE_PUBLIC, &error);
      g_autofree char *bluez = NULL;

      assert_null (error);
      assert_non_null (address);
      assert_memory_equal (bleio_address_get_bytes (address), sample_le, 6);
      assert_int_equal (bleio_address_get_address_type (address), BLEIO_ADDRESS_TYPE_PUBLIC);
      assert_string_equal (bleio_address_get_bluez_address_type (address), "public");
      bluez = bleio_address_to_bluez_string (address);
      assert_string_equal (bluez, "C8:1D:AB:01:02:F3");
    }

  {
    g_autoptr(BleioAddress) zero = bleio_address_new_from_string ("00:00:00:00:00:00", BLEIO_ADDRESS_TYPE_PUBLIC, NULL);
    g_autoptr(BleioAddress) ones = bleio_address_new_from_string ("FF:FF:FF:FF:FF:FF", BLEIO_ADDRESS_TYPE_PUBLIC, NULL);
    static const guint8 z[6] = { 0 };
    static const guint8 f[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

    assert_memory_equal (bleio_address_get_bytes (zero), z, 6);
    assert_memory_equal (bleio_address_get_bytes (ones), f, 6);
  }
}

static const char *bad_addresses[] = {
  "",
  "C8",
  "C8:1D:AB:01:02",
  "C8:1D:AB:01:02:F",
  "C8:1D:AB:01:02:F3:",
  "C8:1D:AB:01:02:F3 ",
  " C8:1D:AB:01:02:F3",
  "C8:1D:AB:01:02:F3:00",
  "C8:1D:AB:01:02:G3",
  "X8:1D:AB:01:02:F3",
  "C8-1D-AB-01-02-F3",
  "C8:1D:AB-01:02:F3",
  "C81DAB0102F3",
  "C81D:AB:01:02:F3:",
  "C:81D:AB:01:02:F3",
  "C8::1D:AB:01:02:F",
  "c8:1d:ab:01:02:f3\n",
  "+8:1D:AB:01:02:F3",
  "C8:1D:AB:01:02:F3x",
  "0xC8:1D:AB:01:02:F3",
};

static void
test_rejected_strings (void **state)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bad_addresses); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) bluez_error = NULL;
      g_autoptr(BleioAddress) address =
        bleio_address_new_from_string (bad_addresses[i], BLEIO_ADDRESS_TYPE_PUBLIC, &error);
      g_autoptr(BleioAddress) from_bluez =
        bleio_address_new_from_bluez (bad_addresses[i], "public", &bluez_error);
      g_autofree char *quoted = g_strescape (bad_addresses[i], NULL);

      if (address != NULL || from_bluez != NULL)
        fail_msg ("\"%s\" was accepted", quoted);
      assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
      assert_true (g_error_matches (bluez_error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
      assert_non_null (strstr (error->message, quoted));
      assert_non_null (strstr (error->message, "AA:BB:CC:DD:EE:FF"));
    }
}

static void
test_bluez_types (void **state)
{
  static const struct {
    const char *address;
    const char *type;
    BleioAddressType want;
  } cases[] = {
    { "00:AA:01:01:00:01", "public", BLEIO_ADDRESS_TYPE_PUBLIC },
    /* Public addresses keep their type whatever the top bits say. */
    { "C0:AA:01:01:00:01", "public", BLEIO_ADDRESS_TYPE_PUBLIC },
    /* Random: the two top bits of the most significant byte. */
    { "C0:00:00:00:00:01", "random", BLEIO_ADDRESS_TYPE_RANDOM_STATIC },
    { "FF:FF:FF:FF:FF:FF", "random", BLEIO_ADDRESS_TYPE_RANDOM_STATIC },
    { "E4:12:34:56:78:9A", "random", BLEIO_ADDRESS_TYPE_RANDOM_STATIC },
    { "40:00:00:00:00:01", "random", BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_RESOLVABLE },
    { "7F:FF:FF:FF:FF:FF", "random", BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_RESOLVABLE },
    { "5A:12:34:56:78:9A", "random", BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_RESOLVABLE },
    { "00:00:00:00:00:01", "random", BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_NON_RESOLVABLE },
    { "3F:FF:FF:FF:FF:FF", "random", BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_NON_RESOLVABLE },
    /* 10 is reserved: documented as non-resolvable. */
    { "80:00:00:00:00:01", "random", BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_NON_RESOLVABLE },
    { "BF:FF:FF:FF:FF:FF", "random", BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_NON_RESOLVABLE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BleioAddress) address =
        bleio_address_new_from_bluez (cases[i].address, cases[i].type, &error);
      g_autofree char *bluez = NULL;

      assert_null (error);
      assert_non_null (address);
      if (bleio_address_get_address_type (address) != cases[i].want)
        fail_msg ("%s %s: type %d, want %d", cases[i].address, cases[i].type,
                  bleio_address_get_address_type (address), cases[i].want);
      assert_string_equal (bleio_address_get_bluez_address_type (address), cases[i].type);
      bluez = bleio_address_to_bluez_string (address);
      assert_string_equal (bluez, cases[i].address);
    }
}

static void
test_bluez_type_rejected (void **state)
{
  static const char *bad[] = { "", "Public", "RANDOM", "le-public", "random ", "static" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BleioAddress) address = bleio_address_new_from_bluez ("C0:00:00:00:00:01", bad[i], &error);

      assert_null (address);
      assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
      assert_non_null (strstr (error->message, "public"));
    }
}

static void
test_equal_hash (void **state)
{
  static const guint8 other_le[6] = { 0xf4, 0x02, 0x01, 0xab, 0x1d, 0xc8 };
  g_autoptr(BleioAddress) a = bleio_address_new (sample_le, BLEIO_ADDRESS_TYPE_RANDOM_STATIC);
  g_autoptr(BleioAddress) b = bleio_address_new_from_bluez ("C8:1D:AB:01:02:F3", "random", NULL);
  g_autoptr(BleioAddress) c = bleio_address_new (sample_le, BLEIO_ADDRESS_TYPE_PUBLIC);
  g_autoptr(BleioAddress) d = bleio_address_new (other_le, BLEIO_ADDRESS_TYPE_RANDOM_STATIC);
  g_autoptr(BleioAddress) e = bleio_address_copy (a);
  g_autoptr(GHashTable) table = g_hash_table_new_full (bleio_address_hash, bleio_address_equal,
                                                       (GDestroyNotify) bleio_address_free, NULL);
  const BleioAddress *all[5];

  all[0] = a; all[1] = b; all[2] = c; all[3] = d; all[4] = e;

  assert_true (bleio_address_equal (a, b));
  assert_true (bleio_address_equal (a, e));
  assert_ptr_not_equal (a, e);
  assert_false (bleio_address_equal (a, c));   /* same bytes, other type */
  assert_false (bleio_address_equal (a, d));   /* one bit apart */

  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    for (gsize j = 0; j < G_N_ELEMENTS (all); j++)
      if (bleio_address_equal (all[i], all[j]))
        assert_int_equal (bleio_address_hash (all[i]), bleio_address_hash (all[j]));

  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    g_hash_table_add (table, bleio_address_copy (all[i]));
  assert_int_equal (g_hash_table_size (table), 3);
  assert_true (g_hash_table_contains (table, b));
  assert_true (g_hash_table_contains (table, c));
}

static void
test_types_registered (void **state)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (BLEIO_TYPE_ADDRESS_TYPE);
  g_autoptr(BleioAddress) address = bleio_address_new (sample_le, BLEIO_ADDRESS_TYPE_PUBLIC);
  BleioAddress *boxed;

  assert_true (G_TYPE_IS_ENUM (BLEIO_TYPE_ADDRESS_TYPE));
  assert_int_equal (klass->n_values, 4);
  assert_int_equal (g_enum_get_value (klass, 3)->value, BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_NON_RESOLVABLE);
  assert_true (G_TYPE_IS_BOXED (BLEIO_TYPE_ADDRESS));
  boxed = g_boxed_copy (BLEIO_TYPE_ADDRESS, address);
  assert_true (bleio_address_equal (boxed, address));
  g_boxed_free (BLEIO_TYPE_ADDRESS, boxed);
  bleio_address_free (NULL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_new_from_bytes),
    cmocka_unit_test (test_from_string),
    cmocka_unit_test (test_rejected_strings),
    cmocka_unit_test (test_bluez_types),
    cmocka_unit_test (test_bluez_type_rejected),
    cmocka_unit_test (test_equal_hash),
    cmocka_unit_test (test_types_registered),
  };

  return cmocka_run_group_tests_name ("address", tests, NULL, NULL);
}
