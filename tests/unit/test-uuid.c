/* SPDX-License-Identifier: MIT */
/* BleioUuid: parsing, the base collapse, packing, formatting, hashing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include "bleio-private.h"

/* 12345678-1234-5678-1234-56789abcdef0, least significant byte first. */
static const guint8 custom_le[16] = {
  0xf0, 0xde, 0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12,
  0x78, 0x56, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12,
};

/* The Bluetooth base with 0x180d in it, least significant byte first. */
static const guint8 heart_rate_le[16] = {
  0xfb, 0x34, 0x9b, 0x5f, 0x80, 0x00, 0x00, 0x80,
  0x00, 0x10, 0x00, 0x00, 0x0d, 0x18, 0x00, 0x00,
};

static BleioUuid *
parse_ok (const char *str)
{
  g_autoptr(GError) error = NULL;
  BleioUuid *uuid = bleio_uuid_new_from_string (str, &error);

  if (uuid == NULL)
    fail_msg ("\"%s\" was rejected: %s", str, error->message);
  assert_null (error);
  return uuid;
}

static void
test_uuid16 (void **state)
{
  g_autoptr(BleioUuid) uuid = bleio_uuid_new_from_uuid16 (0x180d);
  g_autofree char *text = bleio_uuid_to_string (uuid);
  g_autofree char *bluez = bleio_uuid_to_bluez_string (uuid);
  guint8 out[16] = { 0xaa };

  assert_int_equal (bleio_uuid_get_size (uuid), 16);
  assert_int_equal (bleio_uuid_get_uuid16 (uuid), 0x180d);
  assert_string_equal (text, "0x180d");
  assert_string_equal (bluez, "0000180d-0000-1000-8000-00805f9b34fb");
  /* No 128-bit bytes for a 16-bit UUID, as _bleio raises there. */
  assert_false (bleio_uuid_get_uuid128 (uuid, out));
  assert_int_equal (out[0], 0xaa);
}

static void
test_short_forms (void **state)
{
  static const char *forms[] = { "180d", "180D", "0x180d", "0x180D", "0X180d" };

  for (gsize i = 0; i < G_N_ELEMENTS (forms); i++)
    {
      g_autoptr(BleioUuid) uuid = parse_ok (forms[i]);

      assert_int_equal (bleio_uuid_get_size (uuid), 16);
      assert_int_equal (bleio_uuid_get_uuid16 (uuid), 0x180d);
    }

  {
    g_autoptr(BleioUuid) zero = parse_ok ("0000");
    g_autoptr(BleioUuid) ffff = parse_ok ("0xffff");

    assert_int_equal (bleio_uuid_get_uuid16 (zero), 0);
    assert_int_equal (bleio_uuid_get_uuid16 (ffff), 0xffff);
  }
}

static void
test_long_form (void **state)
{
  static const char *forms[] = {
    "12345678-1234-5678-1234-56789abcdef0",
    "12345678-1234-5678-1234-56789ABCDEF0",
    "12345678-1234-5678-1234-56789aBcDeF0",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (forms); i++)
    {
      g_autoptr(BleioUuid) uuid = parse_ok (forms[i]);
      g_autofree char *text = bleio_uuid_to_string (uuid);
      g_autofree char *bluez = bleio_uuid_to_bluez_string (uuid);
      guint8 out[16];

      assert_int_equal (bleio_uuid_get_size (uuid), 128);
      assert_true (bleio_uuid_get_uuid128 (uuid, out));
      assert_memory_equal (out, custom_le, 16);
      assert_string_equal (text, "12345678-1234-5678-1234-56789abcdef0");
      assert_string_equal (bluez, "12345678-1234-5678-1234-56789abcdef0");
      /* Bytes 12 and 13, least significant first: 0x5678. */
      assert_int_equal (bleio_uuid_get_uuid16 (uuid), 0x5678);
    }
}

static void
test_base_collapse (void **state)
{
  g_autoptr(BleioUuid) lower = parse_ok ("0000180d-0000-1000-8000-00805f9b34fb");
  g_autoptr(BleioUuid) upper = parse_ok ("0000180D-0000-1000-8000-00805F9B34FB");
  g_autoptr(BleioUuid) short_form = bleio_uuid_new_from_uuid16 (0x180d);
  g_autofree char *text = bleio_uuid_to_string (lower);

  assert_int_equal (bleio_uuid_get_size (lower), 16);
  assert_int_equal (bleio_uuid_get_size (upper), 16);
  assert_int_equal (bleio_uuid_get_uuid16 (lower), 0x180d);
  assert_string_equal (text, "0x180d");
  assert_true (bleio_uuid_equal (lower, short_form));
  assert_true (bleio_uuid_equal (upper, short_form));
}

static void
test_not_base_stays_128 (void **state)
{
  /* Each differs from the Bluetooth base in one place. */
  static const char *forms[] = {
    "0001180d-0000-1000-8000-00805f9b34fb",   /* 32-bit value on the base */
    "1000180d-0000-1000-8000-00805f9b34fb",
    "0000180d-0001-1000-8000-00805f9b34fb",
    "0000180d-0000-1001-8000-00805f9b34fb",
    "0000180d-0000-1000-8001-00805f9b34fb",
    "0000180d-0000-1000-8000-00805f9b34fc",
    "0000180d-0000-1000-8000-10805f9b34fb",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (forms); i++)
    {
      g_autoptr(BleioUuid) uuid = parse_ok (forms[i]);
      g_autoptr(BleioUuid) short_form = bleio_uuid_new_from_uuid16 (0x180d);
      g_autofree char *text = bleio_uuid_to_string (uuid);

      if (bleio_uuid_get_size (uuid) != 128)
        fail_msg ("%s collapsed to 16 bits", forms[i]);
      assert_string_equal (text, forms[i]);
      assert_false (bleio_uuid_equal (uuid, short_form));
    }
}

static void
test_rejected_strings (void **state)
{
  static const char *bad[] = {
    "",
    "1",
    "180",
    "180d0",
    "18 d",
    "180g",
    "0x",
    "0x18",
    "0x180",
    "0x180d0",
    "0x180g",
    "x180d",
    "00x180d",
    " 180d",
    "180d ",
    "+180",
    "-180",
    "0x+180",
    "180d\n",
    /* 36-character form: wrong length, missing or moved dashes, bad hex,
     * trailing junk, braces. */
    "12345678-1234-5678-1234-56789abcdef",
    "12345678-1234-5678-1234-56789abcdef00",
    "12345678-1234-5678-1234-56789abcdef0 ",
    "12345678-1234-5678-1234-56789abcdef0x",
    "123456781234-5678-1234-56789abcdef0",
    "12345678123456781234567856789abcdef0",
    "12345678-1234-5678-123456789abcdef0",
    "1234567-81234-5678-1234-56789abcdef0",
    "12345678-1234-5678-1234_56789abcdef0",
    "12345678-1234-5678-1234-56789abcdeg0",
    "g2345678-1234-5678-1234-56789abcdef0",
    "12345678-+234-5678-1234-56789abcdef0",
    "{12345678-1234-5678-1234-56789abcdef0}",
    "12345678123456781234567856789abcdef0abcd",
    "0000180d",
    "0x0000180d",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BleioUuid) uuid = bleio_uuid_new_from_string (bad[i], &error);
      g_autofree char *quoted = g_strescape (bad[i], NULL);
      g_autofree char *quote = g_strdup_printf ("\"%s\"", quoted);

      if (uuid != NULL)
        fail_msg ("\"%s\" was accepted", quoted);
      assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
      /* The message quotes the input and names the accepted forms. */
      if (strstr (error->message, quote) == NULL)
        fail_msg ("message \"%s\" does not quote %s", error->message, quote);
      assert_non_null (strstr (error->message, "180d"));
      assert_non_null (strstr (error->message, "0x"));
      assert_non_null (strstr (error->message, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"));
    }

  /* A NULL error location is fine. */
  assert_null (bleio_uuid_new_from_string ("nope", NULL));
}

static void
test_from_bytes (void **state)
{
  static const guint8 two[2] = { 0x0d, 0x18 };
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioUuid) u16 = bleio_uuid_new_from_bytes (two, 2, &error);
  g_autoptr(BleioUuid) u128 = bleio_uuid_new_from_bytes (custom_le, 16, &error);
  g_autoptr(BleioUuid) on_base = bleio_uuid_new_from_bytes (heart_rate_le, 16, &error);
  g_autoptr(BleioUuid) parsed = parse_ok ("12345678-1234-5678-1234-56789abcdef0");
  g_autoptr(BleioUuid) short_form = bleio_uuid_new_from_uuid16 (0x180d);
  guint8 out[16];

  assert_null (error);
  assert_int_equal (bleio_uuid_get_size (u16), 16);
  assert_int_equal (bleio_uuid_get_uuid16 (u16), 0x180d);
  assert_true (bleio_uuid_equal (u16, short_form));
  assert_int_equal (bleio_uuid_get_size (u128), 128);
  assert_true (bleio_uuid_equal (u128, parsed));
  /* Bytes keep their size even on the base, as _bleio.UUID(buf) does: it is
   * only strings from BlueZ that collapse. */
  assert_int_equal (bleio_uuid_get_size (on_base), 128);
  assert_int_equal (bleio_uuid_get_uuid16 (on_base), 0x180d);
  assert_false (bleio_uuid_equal (on_base, short_form));
  assert_true (bleio_uuid_get_uuid128 (on_base, out));
  assert_memory_equal (out, heart_rate_le, 16);

  for (gsize len = 0; len <= 17; len++)
    {
      g_autoptr(GError) len_error = NULL;
      g_autoptr(BleioUuid) uuid = NULL;

      if (len == 2 || len == 16)
        continue;
      uuid = bleio_uuid_new_from_bytes (custom_le, len, &len_error);
      assert_null (uuid);
      assert_true (g_error_matches (len_error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
    }
  {
    g_autoptr(GError) null_error = NULL;

    assert_null (bleio_uuid_new_from_bytes (NULL, 0, &null_error));
    assert_true (g_error_matches (null_error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
  }
}

static void
test_pack_into (void **state)
{
  g_autoptr(BleioUuid) u16 = bleio_uuid_new_from_uuid16 (0x2a37);
  g_autoptr(BleioUuid) u128 = bleio_uuid_new_from_bytes (custom_le, 16, NULL);
  guint8 buf[20];
  guint8 before[20];

  memset (buf, 0xee, sizeof buf);
  assert_true (bleio_uuid_pack_into (u16, buf, sizeof buf, 3, NULL));
  assert_int_equal (buf[2], 0xee);
  assert_int_equal (buf[3], 0x37);
  assert_int_equal (buf[4], 0x2a);
  assert_int_equal (buf[5], 0xee);

  /* Exactly at the end fits. */
  assert_true (bleio_uuid_pack_into (u16, buf, sizeof buf, 18, NULL));
  assert_int_equal (buf[18], 0x37);
  assert_int_equal (buf[19], 0x2a);
  assert_true (bleio_uuid_pack_into (u128, buf, sizeof buf, 4, NULL));
  assert_memory_equal (buf + 4, custom_le, 16);
  assert_true (bleio_uuid_pack_into (u128, buf, 16, 0, NULL));
  assert_memory_equal (buf, custom_le, 16);

  /* Anything past the end fails and leaves the buffer alone; huge offsets
   * must not wrap around. */
  memcpy (before, buf, sizeof buf);
  {
    static const struct { gsize len; gsize offset; gboolean big; } bad[] = {
      { 20, 19, FALSE }, { 20, 20, FALSE }, { 20, 21, FALSE }, { 1, 0, FALSE },
      { 0, 0, FALSE }, { 20, G_MAXSIZE, FALSE }, { 20, G_MAXSIZE - 1, FALSE },
      { 20, 5, TRUE }, { 15, 0, TRUE }, { 20, G_MAXSIZE - 15, TRUE },
      { 20, 20, TRUE },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(GError) error = NULL;
        const BleioUuid *uuid = bad[i].big ? u128 : u16;

        if (bleio_uuid_pack_into (uuid, buf, bad[i].len, bad[i].offset, &error))
          fail_msg ("case %zu packed", i);
        assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
      }
  }
  assert_memory_equal (buf, before, sizeof buf);
}

static void
test_round_trip (void **state)
{
  static const char *forms[] = {
    "0x0000", "0x180d", "0xffff",
    "12345678-1234-5678-1234-56789abcdef0",
    "6e400001-b5a3-f393-e0a9-e50e24dcca9e",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (forms); i++)
    {
      g_autoptr(BleioUuid) uuid = parse_ok (forms[i]);
      g_autofree char *text = bleio_uuid_to_string (uuid);
      g_autofree char *bluez = bleio_uuid_to_bluez_string (uuid);
      g_autoptr(BleioUuid) again = parse_ok (text);
      g_autoptr(BleioUuid) from_bluez = parse_ok (bluez);
      g_autoptr(BleioUuid) copy = bleio_uuid_copy (uuid);

      assert_string_equal (text, forms[i]);
      assert_int_equal (strlen (bluez), 36);
      assert_true (bleio_uuid_equal (uuid, again));
      assert_true (bleio_uuid_equal (uuid, from_bluez));
      assert_true (bleio_uuid_equal (uuid, copy));
      assert_ptr_not_equal (uuid, copy);
    }
}

static void
test_equal_hash (void **state)
{
  g_autoptr(GHashTable) table = g_hash_table_new_full (bleio_uuid_hash, bleio_uuid_equal,
                                                       (GDestroyNotify) bleio_uuid_free, NULL);
  g_autoptr(BleioUuid) a = bleio_uuid_new_from_uuid16 (0x180d);
  g_autoptr(BleioUuid) b = parse_ok ("0000180d-0000-1000-8000-00805f9b34fb");
  g_autoptr(BleioUuid) c = bleio_uuid_new_from_uuid16 (0x180f);
  g_autoptr(BleioUuid) d = bleio_uuid_new_from_bytes (heart_rate_le, 16, NULL);
  g_autoptr(BleioUuid) e = parse_ok ("12345678-1234-5678-1234-56789abcdef0");
  g_autoptr(BleioUuid) f = bleio_uuid_new_from_bytes (custom_le, 16, NULL);

  assert_true (bleio_uuid_equal (a, b));
  assert_int_equal (bleio_uuid_hash (a), bleio_uuid_hash (b));
  assert_true (bleio_uuid_equal (e, f));
  assert_int_equal (bleio_uuid_hash (e), bleio_uuid_hash (f));
  assert_false (bleio_uuid_equal (a, c));
  assert_false (bleio_uuid_equal (a, d));   /* sizes differ */
  assert_false (bleio_uuid_equal (a, e));

  /* Every pair of UUIDs that compare equal hashes equal. */
  {
    const BleioUuid *all[] = { a, b, c, d, e, f };

    for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
      for (gsize j = 0; j < G_N_ELEMENTS (all); j++)
        if (bleio_uuid_equal (all[i], all[j]))
          assert_int_equal (bleio_uuid_hash (all[i]), bleio_uuid_hash (all[j]));
  }

  g_hash_table_add (table, bleio_uuid_copy (a));
  g_hash_table_add (table, bleio_uuid_copy (b));
  g_hash_table_add (table, bleio_uuid_copy (c));
  g_hash_table_add (table, bleio_uuid_copy (d));
  g_hash_table_add (table, bleio_uuid_copy (e));
  g_hash_table_add (table, bleio_uuid_copy (f));
  assert_int_equal (g_hash_table_size (table), 4);
  assert_true (g_hash_table_contains (table, b));
  assert_true (g_hash_table_contains (table, f));
}

static void
test_boxed (void **state)
{
  g_autoptr(BleioUuid) uuid = bleio_uuid_new_from_uuid16 (0x2902);
  BleioUuid *boxed;

  assert_true (G_TYPE_IS_BOXED (BLEIO_TYPE_UUID));
  assert_string_equal (g_type_name (BLEIO_TYPE_UUID), "BleioUuid");
  boxed = g_boxed_copy (BLEIO_TYPE_UUID, uuid);
  assert_ptr_not_equal (boxed, uuid);
  assert_true (bleio_uuid_equal (boxed, uuid));
  g_boxed_free (BLEIO_TYPE_UUID, boxed);
  bleio_uuid_free (NULL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_uuid16),
    cmocka_unit_test (test_short_forms),
    cmocka_unit_test (test_long_form),
    cmocka_unit_test (test_base_collapse),
    cmocka_unit_test (test_not_base_stays_128),
    cmocka_unit_test (test_rejected_strings),
    cmocka_unit_test (test_from_bytes),
    cmocka_unit_test (test_pack_into),
    cmocka_unit_test (test_round_trip),
    cmocka_unit_test (test_equal_hash),
    cmocka_unit_test (test_boxed),
  };

  return cmocka_run_group_tests_name ("uuid", tests, NULL, NULL);
}
