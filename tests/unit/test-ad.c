/* SPDX-License-Identifier: MIT */
/*
 * The advertisement codec: the AD iterator on good and bad input (every
 * prefix and every one-byte corruption of a valid buffer, each in a heap
 * block of its exact size so that the address sanitizer sees any over-read),
 * prefix matching, and the rebuilding of advertisement bytes from the
 * Device1 properties bluetoothd 5.66 really exported.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include "bleio-private.h"

/* Hex text (spaces allowed) to bytes; the test vectors below are written by
 * hand from the Core specification's AD format. */
static GBytes *
hex (const char *text)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  for (const char *p = text; *p != '\0'; )
    {
      int hi, lo;
      guint8 b;

      if (*p == ' ')
        {
          p++;
          continue;
        }
      hi = g_ascii_xdigit_value (p[0]);
      lo = hi < 0 ? -1 : g_ascii_xdigit_value (p[1]);
      if (hi < 0 || lo < 0)
        fail_msg ("bad hex in test vector at \"%s\"", p);
      b = (guint8) ((hi << 4) | lo);
      g_byte_array_append (out, &b, 1);
      p += 2;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static char *
to_hex (GBytes *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%s%02x", i == 0 ? "" : " ", data[i]);
  return g_string_free (s, FALSE);
}

static void
assert_bytes_equal (GBytes     *got,
                    const char *want_hex)
{
  g_autoptr(GBytes) want = hex (want_hex);

  if (!g_bytes_equal (got, want))
    {
      g_autofree char *got_text = to_hex (got);
      g_autofree char *want_text = to_hex (want);

      fail_msg ("got  %s\nwant %s", got_text, want_text);
    }
}

/* Flags 06; complete 16-bit list 180d 180f; complete name "Ab"; one
 * structure with a type but no data; manufacturer data 0x0059 + 01 02. */
#define VALID_HEX "02 01 06  05 03 0d 18 0f 18  03 09 41 62  01 ff  05 ff 59 00 01 02"

static void
test_iter_valid (void **state)
{
  g_autoptr(GBytes) bytes = hex (VALID_HEX);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  static const struct { guint8 type; gsize offset; gsize len; } want[] = {
    { 0x01, 2, 1 }, { 0x03, 5, 4 }, { 0x09, 11, 2 }, { 0xff, 15, 0 }, { 0xff, 17, 4 },
  };
  BleioAdIter iter;
  guint8 type = 0;
  const guint8 *payload = NULL;
  gsize payload_len = 99;
  g_autoptr(GError) error = NULL;

  bleio_ad_iter_init (&iter, data, len);
  for (gsize i = 0; i < G_N_ELEMENTS (want); i++)
    {
      assert_true (bleio_ad_iter_next (&iter, &type, &payload, &payload_len, &error));
      assert_null (error);
      assert_int_equal (type, want[i].type);
      assert_ptr_equal (payload, data + want[i].offset);
      assert_int_equal (payload_len, want[i].len);
    }
  assert_false (bleio_ad_iter_next (&iter, &type, &payload, &payload_len, &error));
  assert_null (error);
  /* Stays at the end. */
  assert_false (bleio_ad_iter_next (&iter, NULL, NULL, NULL, &error));
  assert_null (error);
  assert_true (bleio_ad_validate (data, len, &error));
  assert_null (error);

  /* Every out argument is optional. */
  bleio_ad_iter_init (&iter, data, len);
  assert_true (bleio_ad_iter_next (&iter, NULL, NULL, NULL, NULL));
  assert_true (bleio_ad_iter_next (&iter, &type, NULL, NULL, NULL));
  assert_int_equal (type, 0x03);
}

static void
test_iter_empty (void **state)
{
  static const guint8 one[1] = { 0 };
  BleioAdIter iter;
  g_autoptr(GError) error = NULL;

  bleio_ad_iter_init (&iter, NULL, 0);
  assert_false (bleio_ad_iter_next (&iter, NULL, NULL, NULL, &error));
  assert_null (error);
  assert_true (bleio_ad_validate (NULL, 0, &error));
  assert_true (bleio_ad_validate (one, 0, &error));
  assert_null (error);
}

static void
test_iter_zero_padding (void **state)
{
  /* A zero length byte ends the data; what follows is padding and is not
   * looked at, even when it would not parse. */
  static const char *padded[] = {
    "02 01 06 00",
    "02 01 06 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
    "02 01 06 00 ff ff ff",
    "02 01 06 00 03 03 0d 18",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (padded); i++)
    {
      g_autoptr(GBytes) bytes = hex (padded[i]);
      gsize len;
      const guint8 *data = g_bytes_get_data (bytes, &len);
      BleioAdIter iter;
      guint8 type;
      g_autoptr(GError) error = NULL;

      bleio_ad_iter_init (&iter, data, len);
      assert_true (bleio_ad_iter_next (&iter, &type, NULL, NULL, &error));
      assert_int_equal (type, 0x01);
      assert_false (bleio_ad_iter_next (&iter, &type, NULL, NULL, &error));
      assert_null (error);
      assert_true (bleio_ad_validate (data, len, &error));
      assert_null (error);
    }

  /* Only padding. */
  {
    g_autoptr(GBytes) bytes = hex ("00 00 00");
    gsize len;
    const guint8 *data = g_bytes_get_data (bytes, &len);
    BleioAdIter iter;
    g_autoptr(GError) error = NULL;

    bleio_ad_iter_init (&iter, data, len);
    assert_false (bleio_ad_iter_next (&iter, NULL, NULL, NULL, &error));
    assert_null (error);
  }
}

static void
test_iter_malformed (void **state)
{
  static const struct { const char *hex; guint good; } cases[] = {
    { "05 09 41 42", 0 },             /* claims 5, only 3 follow */
    { "01", 0 },                      /* a length with no type */
    { "ff", 0 },
    { "02 01 06 03", 1 },             /* a lone length byte at the end */
    { "02 01 06 03 03 0d", 1 },
    { "02 01 06 05 03 0d 18 0f", 1 }, /* one byte short */
    { "02 01 06 01 ff 1e ff", 2 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) bytes = hex (cases[i].hex);
      gsize len;
      const guint8 *data = g_bytes_get_data (bytes, &len);
      BleioAdIter iter;
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) validate_error = NULL;

      bleio_ad_iter_init (&iter, data, len);
      for (guint n = 0; n < cases[i].good; n++)
        assert_true (bleio_ad_iter_next (&iter, NULL, NULL, NULL, &error));
      assert_false (bleio_ad_iter_next (&iter, NULL, NULL, NULL, &error));
      if (!g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_VALUE))
        fail_msg ("\"%s\": no INVALID_VALUE error", cases[i].hex);
      /* After the error: FALSE, and no new error. */
      g_clear_error (&error);
      assert_false (bleio_ad_iter_next (&iter, NULL, NULL, NULL, &error));
      assert_null (error);

      assert_false (bleio_ad_validate (data, len, &validate_error));
      assert_true (g_error_matches (validate_error, BLEIO_ERROR, BLEIO_ERROR_INVALID_VALUE));
    }
}

/* Walks @data, which sits in a heap block of exactly @len bytes, checking
 * every reported payload lies inside it. Returns the structure count, or
 * -1 when the walk ended with an error. */
static int
walk_checked (const guint8 *data,
              gsize         len)
{
  BleioAdIter iter;
  const guint8 *payload;
  gsize payload_len;
  guint8 type;
  int count = 0;
  g_autoptr(GError) error = NULL;

  bleio_ad_iter_init (&iter, data, len);
  while (bleio_ad_iter_next (&iter, &type, &payload, &payload_len, &error))
    {
      assert_true (payload >= data + 2);
      assert_true (payload_len <= len);
      assert_true ((gsize) (payload - data) + payload_len <= len);
      /* The type byte sits just before the payload, the length before it. */
      assert_int_equal (payload[-1], type);
      assert_int_equal (payload[-2], payload_len + 1);
      if (payload_len > 0)
        {
          /* Touch the whole payload so ASan checks it. */
          volatile guint8 sink = 0;

          for (gsize k = 0; k < payload_len; k++)
            sink ^= payload[k];
          (void) sink;
        }
      count++;
      assert_true ((gsize) count <= len / 2);
    }
  if (error != NULL)
    {
      assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_VALUE));
      return -1;
    }
  return count;
}

static void
test_iter_every_prefix (void **state)
{
  g_autoptr(GBytes) bytes = hex (VALID_HEX);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  /* Where structures end in VALID_HEX: a prefix is valid exactly there. */
  static const gsize boundaries[] = { 0, 3, 9, 13, 15, 21 };

  assert_int_equal (len, 21);
  for (gsize cut = 0; cut <= len; cut++)
    {
      guint8 *copy = g_malloc (MAX (cut, 1));
      gboolean boundary = FALSE;
      int count;

      memcpy (copy, data, cut);
      for (gsize b = 0; b < G_N_ELEMENTS (boundaries); b++)
        if (boundaries[b] == cut)
          boundary = TRUE;

      count = walk_checked (copy, cut);
      if (boundary != (count >= 0))
        fail_msg ("prefix of %zu bytes: walk gave %d", cut, count);
      assert_int_equal (bleio_ad_validate (copy, cut, NULL), boundary);
      g_free (copy);
    }
}

static void
test_iter_every_corruption (void **state)
{
  g_autoptr(GBytes) bytes = hex (VALID_HEX);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  guint valid = 0, invalid = 0;

  for (gsize pos = 0; pos < len; pos++)
    for (guint value = 0; value < 256; value++)
      {
        guint8 *copy = g_memdup2 (data, len);
        int count;

        copy[pos] = (guint8) value;
        count = walk_checked (copy, len);
        assert_int_equal (bleio_ad_validate (copy, len, NULL), count >= 0);
        if (count >= 0)
          valid++;
        else
          invalid++;
        g_free (copy);
      }

  /* Both outcomes happen: corrupting a length byte upward breaks the data,
   * corrupting a payload byte does not. */
  assert_true (valid > 0);
  assert_true (invalid > 0);
}

/* Matching. */

static gboolean
matches (const char *adv_hex,
         const char *prefixes_hex,
         gboolean    match_all)
{
  g_autoptr(GBytes) adv = hex (adv_hex);
  g_autoptr(GBytes) prefixes = hex (prefixes_hex);
  gsize adv_len, prefixes_len;
  /* Exact-size heap copies, so that an over-read shows under ASan. */
  g_autofree guint8 *a = g_memdup2 (g_bytes_get_data (adv, &adv_len), g_bytes_get_size (adv));
  g_autofree guint8 *p = g_memdup2 (g_bytes_get_data (prefixes, &prefixes_len), g_bytes_get_size (prefixes));

  return bleio_ad_matches (a, adv_len, p, prefixes_len, match_all);
}

/* What test_build_discovered produces from device-props-discovered.json. */
#define DISCOVERED_HEX \
  "02 01 04 " \
  "05 03 0d 18 0f 18 " \
  "12 09 54 65 73 74 41 64 76 65 72 74 69 73 65 6d 65 6e 74 " \
  "08 16 99 99 00 01 02 03 04 " \
  "07 ff ff ff 00 01 02 03 " \
  "04 26 01 01 00"

static void
test_matches_basic (void **state)
{
  for (int all = 0; all <= 1; all++)
    {
      /* Empty prefixes match everything, even empty data. */
      assert_true (matches (DISCOVERED_HEX, "", all));
      assert_true (matches ("", "", all));
      assert_true (matches (DISCOVERED_HEX, "00", all));
      /* A prefix needs something to match. */
      assert_false (matches ("", "01 09", all));
      /* Type only. */
      assert_true (matches (DISCOVERED_HEX, "01 09", all));
      assert_false (matches (DISCOVERED_HEX, "01 08", all));
      /* Type and the start of the data. */
      assert_true (matches (DISCOVERED_HEX, "05 09 54 65 73 74", all));
      assert_false (matches (DISCOVERED_HEX, "05 09 42 6c 75 65", all));
      assert_true (matches (DISCOVERED_HEX, "03 03 0d 18", all));
      /* 180f is in the list, but not at its start. */
      assert_false (matches (DISCOVERED_HEX, "03 03 0f 18", all));
      assert_true (matches (DISCOVERED_HEX, "03 ff ff ff", all));
      assert_true (matches (DISCOVERED_HEX, "07 ff ff ff 00 01 02 03", all));
      /* One byte longer than the structure. */
      assert_false (matches (DISCOVERED_HEX, "08 ff ff ff 00 01 02 03 04", all));
      /* The last structure of the data. */
      assert_true (matches (DISCOVERED_HEX, "04 26 01 01 00", all));
      /* A terminator ends the prefixes. */
      assert_true (matches (DISCOVERED_HEX, "01 09 00 01 08", all));
    }
}

static void
test_matches_any_all (void **state)
{
  /* name + 180d: both there. */
  assert_true (matches (DISCOVERED_HEX, "01 09 03 03 0d 18", TRUE));
  assert_true (matches (DISCOVERED_HEX, "01 09 03 03 0d 18", FALSE));
  /* name + 1812 (absent). */
  assert_false (matches (DISCOVERED_HEX, "01 09 03 03 12 18", TRUE));
  assert_true (matches (DISCOVERED_HEX, "01 09 03 03 12 18", FALSE));
  assert_true (matches (DISCOVERED_HEX, "03 03 12 18 01 09", FALSE));
  assert_false (matches (DISCOVERED_HEX, "03 03 12 18 01 09", TRUE));
  /* Neither there. */
  assert_false (matches (DISCOVERED_HEX, "03 03 12 18 01 08", FALSE));
  assert_false (matches (DISCOVERED_HEX, "03 03 12 18 01 08", TRUE));
  /* Three, all present. */
  assert_true (matches (DISCOVERED_HEX, "02 01 04 03 16 99 99 01 26", TRUE));
}

static void
test_matches_malformed (void **state)
{
  for (int all = 0; all <= 1; all++)
    {
      /* Malformed prefixes never match, even when a good prefix before the
       * bad one would. */
      assert_false (matches (DISCOVERED_HEX, "05 09 54", all));
      assert_false (matches (DISCOVERED_HEX, "01 09 05 09 54", all));
      assert_false (matches (DISCOVERED_HEX, "01", all));
      assert_false (matches (DISCOVERED_HEX, "01 09 03", all));
      assert_false (matches ("", "05", all));

      /* A malformed tail of the data is ignored after the good part. */
      assert_true (matches ("02 01 06 03 03 0d 18 09 ff 01", "03 03 0d 18", all));
      assert_false (matches ("02 01 06 03 03 0d 18 09 ff 01", "02 ff 01", all));
      assert_false (matches ("09 ff 01", "01 ff", all));
      /* Nothing after a terminator in the data counts. */
      assert_false (matches ("02 01 06 00 03 03 0d 18", "03 03 0d 18", all));
      assert_true (matches ("02 01 06 00 03 03 0d 18", "02 01 06", all));
    }
}

/* Building from BlueZ's fields. */

static GVariant *
ay (const char *hex_text)
{
  g_autoptr(GBytes) bytes = hex (hex_text);

  return g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE);
}

/* The shared keys of both device-props-*.json files, as the a{sv} D-Bus
 * delivers; @name and @uuids differ. */
static GVariant *
device_props (const char  *name,
              const char **uuids)
{
  GVariantBuilder props, service_data, manufacturer, raw;

  g_variant_builder_init (&props, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&props, "{sv}", "Adapter", g_variant_new_object_path ("/org/bluez/hci0"));
  g_variant_builder_add (&props, "{sv}", "Address", g_variant_new_string ("00:AA:01:01:00:01"));
  g_variant_builder_add (&props, "{sv}", "AddressType", g_variant_new_string ("public"));

  g_variant_builder_init (&raw, G_VARIANT_TYPE ("a{yv}"));
  g_variant_builder_add (&raw, "{yv}", (guint8) '&', ay ("010100"));
  g_variant_builder_add (&props, "{sv}", "AdvertisingData", g_variant_builder_end (&raw));

  g_variant_builder_add (&props, "{sv}", "AdvertisingFlags", ay ("04"));
  g_variant_builder_add (&props, "{sv}", "Alias", g_variant_new_string (name));
  g_variant_builder_add (&props, "{sv}", "Blocked", g_variant_new_boolean (FALSE));
  g_variant_builder_add (&props, "{sv}", "Connected", g_variant_new_boolean (FALSE));

  g_variant_builder_init (&manufacturer, G_VARIANT_TYPE ("a{qv}"));
  g_variant_builder_add (&manufacturer, "{qv}", (guint16) 65535, ay ("00010203"));
  g_variant_builder_add (&props, "{sv}", "ManufacturerData", g_variant_builder_end (&manufacturer));

  g_variant_builder_add (&props, "{sv}", "Name", g_variant_new_string (name));
  g_variant_builder_add (&props, "{sv}", "Paired", g_variant_new_boolean (FALSE));

  g_variant_builder_init (&service_data, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&service_data, "{sv}", "00009999-0000-1000-8000-00805f9b34fb", ay ("0001020304"));
  g_variant_builder_add (&props, "{sv}", "ServiceData", g_variant_builder_end (&service_data));

  g_variant_builder_add (&props, "{sv}", "UUIDs", g_variant_new_strv (uuids, -1));
  return g_variant_ref_sink (g_variant_builder_end (&props));
}

static GBytes *
build_ok (GVariant *props)
{
  g_autoptr(GError) error = NULL;
  GBytes *bytes = bleio_ad_build_from_bluez (props, &error);
  gsize len;
  const guint8 *data;
  BleioAdIter iter;
  const guint8 *payload;
  gsize payload_len;

  assert_null (error);
  assert_non_null (bytes);
  data = g_bytes_get_data (bytes, &len);
  assert_true (bleio_ad_validate (data, len, NULL));
  /* Type and data of every structure fit its one-byte length. */
  bleio_ad_iter_init (&iter, data, len);
  while (bleio_ad_iter_next (&iter, NULL, &payload, &payload_len, NULL))
    assert_true (payload_len + 1 <= 255);
  return bytes;
}

static void
test_build_discovered (void **state)
{
  static const char *uuids[] = {
    "0000180d-0000-1000-8000-00805f9b34fb",
    "0000180f-0000-1000-8000-00805f9b34fb",
    NULL,
  };
  g_autoptr(GVariant) props = device_props ("TestAdvertisement", uuids);
  g_autoptr(GBytes) bytes = build_ok (props);

  /* Flags 04; 16-bit list 180d 180f; complete name (17 bytes);
   * service data 9999 + 00..04; manufacturer ffff + 00..03; raw type 0x26. */
  assert_bytes_equal (bytes, DISCOVERED_HEX);
}

static void
test_build_connected_paired (void **state)
{
  static const char *uuids[] = {
    "00001800-0000-1000-8000-00805f9b34fb",
    "00001801-0000-1000-8000-00805f9b34fb",
    "0000180a-0000-1000-8000-00805f9b34fb",
    "0000180d-0000-1000-8000-00805f9b34fb",
    "0000180f-0000-1000-8000-00805f9b34fb",
    "00001844-0000-1000-8000-00805f9b34fb",
    "12345678-1234-5678-1234-56789abcdef0",
    NULL,
  };
  g_autoptr(GVariant) props = device_props ("BlueZ 5.66", uuids);
  g_autoptr(GBytes) bytes = build_ok (props);

  assert_bytes_equal (bytes,
                      "02 01 04 "
                      /* six 16-bit UUIDs: 1 + 12 bytes */
                      "0d 03 00 18 01 18 0a 18 0d 18 0f 18 44 18 "
                      /* one 128-bit UUID, least significant byte first */
                      "11 07 f0 de bc 9a 78 56 34 12 78 56 34 12 78 56 34 12 "
                      /* "BlueZ 5.66" */
                      "0b 09 42 6c 75 65 5a 20 35 2e 36 36 "
                      "08 16 99 99 00 01 02 03 04 "
                      "07 ff ff ff 00 01 02 03 "
                      "04 26 01 01 00");
}

static void
test_build_every_field (void **state)
{
  GVariantBuilder b, sd, md, raw;
  const char *uuids[] = {
    "0001180d-0000-1000-8000-00805f9b34fb",   /* 32-bit */
    "0000fe59-0000-1000-8000-00805f9b34fb",
    "not a uuid",
    "6e400001-b5a3-f393-e0a9-e50e24dcca9e",
    NULL,
  };
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GBytes) bytes = NULL;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "AdvertisingFlags", ay ("06"));
  g_variant_builder_add (&b, "{sv}", "UUIDs", g_variant_new_strv (uuids, -1));
  g_variant_builder_add (&b, "{sv}", "Name", g_variant_new_string ("x"));
  g_variant_builder_add (&b, "{sv}", "TxPower", g_variant_new_int16 (-8));
  g_variant_builder_add (&b, "{sv}", "Appearance", g_variant_new_uint16 (0x03c1));

  g_variant_builder_init (&sd, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&sd, "{sv}", "0000feaa-0000-1000-8000-00805f9b34fb", ay (""));
  g_variant_builder_add (&sd, "{sv}", "12345678-0000-1000-8000-00805f9b34fb", ay ("aa"));
  g_variant_builder_add (&sd, "{sv}", "6e400001-b5a3-f393-e0a9-e50e24dcca9e", ay ("bb cc"));
  g_variant_builder_add (&sd, "{sv}", "bogus", ay ("dd"));
  g_variant_builder_add (&sd, "{sv}", "0000180a-0000-1000-8000-00805f9b34fb", g_variant_new_string ("wrong"));
  g_variant_builder_add (&b, "{sv}", "ServiceData", g_variant_builder_end (&sd));

  g_variant_builder_init (&md, G_VARIANT_TYPE ("a{qv}"));
  g_variant_builder_add (&md, "{qv}", (guint16) 0x004c, ay ("02 15"));
  g_variant_builder_add (&md, "{qv}", (guint16) 0x0059, ay (""));
  g_variant_builder_add (&md, "{qv}", (guint16) 0x0001, g_variant_new_uint32 (7));
  g_variant_builder_add (&b, "{sv}", "ManufacturerData", g_variant_builder_end (&md));

  g_variant_builder_init (&raw, G_VARIANT_TYPE ("a{yv}"));
  g_variant_builder_add (&raw, "{yv}", (guint8) 0x01, ay ("1a"));      /* emitted */
  g_variant_builder_add (&raw, "{yv}", (guint8) 0x09, ay ("41"));      /* emitted */
  g_variant_builder_add (&raw, "{yv}", (guint8) 0x03, ay ("0a 18"));   /* emitted */
  g_variant_builder_add (&raw, "{yv}", (guint8) 0x02, ay ("0a 18"));   /* not emitted */
  g_variant_builder_add (&raw, "{yv}", (guint8) 0x16, ay ("99 99"));   /* emitted */
  g_variant_builder_add (&raw, "{yv}", (guint8) 0x24, ay ("01 02 03"));
  g_variant_builder_add (&raw, "{yv}", (guint8) 0x2a, g_variant_new_string ("wrong"));
  g_variant_builder_add (&b, "{sv}", "AdvertisingData", g_variant_builder_end (&raw));
  props = g_variant_ref_sink (g_variant_builder_end (&b));

  bytes = build_ok (props);
  assert_bytes_equal (bytes,
                      "02 01 06 "
                      "03 03 59 fe "
                      "05 05 0d 18 01 00 "
                      "11 07 9e ca dc 24 0e e5 a9 e0 93 f3 a3 b5 01 00 40 6e "
                      "02 09 78 "
                      "02 0a f8 "
                      "03 19 c1 03 "
                      "03 16 aa fe "
                      "06 20 78 56 34 12 aa "
                      "13 21 9e ca dc 24 0e e5 a9 e0 93 f3 a3 b5 01 00 40 6e bb cc "
                      "05 ff 4c 00 02 15 "
                      "03 ff 59 00 "
                      "03 02 0a 18 "
                      "04 24 01 02 03");
}

static void
test_build_tx_power_clamped (void **state)
{
  static const struct { gint16 in; const char *want; } cases[] = {
    { 0, "02 0a 00" }, { 127, "02 0a 7f" }, { 128, "02 0a 7f" }, { 1000, "02 0a 7f" },
    { -128, "02 0a 80" }, { -129, "02 0a 80" }, { G_MININT16, "02 0a 80" }, { -1, "02 0a ff" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GVariantBuilder b;
      g_autoptr(GVariant) props = NULL;
      g_autoptr(GBytes) bytes = NULL;

      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&b, "{sv}", "TxPower", g_variant_new_int16 (cases[i].in));
      props = g_variant_ref_sink (g_variant_builder_end (&b));
      bytes = build_ok (props);
      assert_bytes_equal (bytes, cases[i].want);
    }
}

/* The rebuild never exceeds 1650 bytes, what an extended advertisement
 * carries (issue 15 item 9): 2,000 16-bit UUIDs (4,000 bytes of lists)
 * are cut to the structures that fit, and the small fields after them
 * still go in. */
static void
test_build_bounded_by_extended_advertising (void **state)
{
  g_autoptr(GPtrArray) uuids = g_ptr_array_new_with_free_func (g_free);
  GVariantBuilder b;
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GBytes) bytes = NULL;
  BleioAdIter iter;
  guint8 type;
  const guint8 *payload;
  gsize payload_len, len;
  const guint8 *data;
  gboolean tx_power = FALSE;
  gsize lists = 0;

  for (guint i = 0; i < 2000; i++)
    g_ptr_array_add (uuids, g_strdup_printf ("0000%04x-0000-1000-8000-00805f9b34fb", 0x3000 + i));
  g_ptr_array_add (uuids, NULL);
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "UUIDs", g_variant_new_strv ((const char * const *) uuids->pdata, -1));
  g_variant_builder_add (&b, "{sv}", "TxPower", g_variant_new_int16 (-8));
  props = g_variant_ref_sink (g_variant_builder_end (&b));
  bytes = build_ok (props);
  data = g_bytes_get_data (bytes, &len);
  assert_true (len <= 1650);

  bleio_ad_iter_init (&iter, data, len);
  while (bleio_ad_iter_next (&iter, &type, &payload, &payload_len, NULL))
    {
      if (type == BLEIO_AD_TYPE_UUID16_COMPLETE)
        lists += payload_len + 2;
      else if (type == BLEIO_AD_TYPE_TX_POWER)
        tx_power = payload_len == 1 && (gint8) payload[0] == -8;
    }
  /* Lists of 256 bytes (a full structure) fill all they can: six. */
  assert_int_equal (lists, 6 * 256);
  assert_true (tx_power);
}

static void
test_build_long_fields (void **state)
{
  g_autoptr(GString) name = g_string_new (NULL);
  g_autoptr(GString) ascii_name = g_string_new (NULL);
  g_autoptr(GPtrArray) uuids = g_ptr_array_new_with_free_func (g_free);
  g_autofree guint8 *big = g_malloc0 (400);
  GVariantBuilder b, md;
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GBytes) bytes = NULL;
  BleioAdIter iter;
  guint8 type;
  const guint8 *payload;
  gsize payload_len, len;
  const guint8 *data;
  guint n16 = 0, lists = 0;

  /* 253 ASCII bytes, then a 2-byte character that straddles the limit. */
  for (int i = 0; i < 253; i++)
    g_string_append_c (name, 'a');
  g_string_append (name, "\xc3\xa9zzz");
  for (int i = 0; i < 300; i++)
    g_string_append_c (ascii_name, (char) ('a' + i % 26));
  for (guint i = 0; i < 130; i++)
    g_ptr_array_add (uuids, g_strdup_printf ("0000%04x-0000-1000-8000-00805f9b34fb", 0x2a00 + i));
  g_ptr_array_add (uuids, NULL);

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "UUIDs", g_variant_new_strv ((const char * const *) uuids->pdata, -1));
  g_variant_builder_add (&b, "{sv}", "Name", g_variant_new_string (name->str));
  g_variant_builder_init (&md, G_VARIANT_TYPE ("a{qv}"));
  g_variant_builder_add (&md, "{qv}", (guint16) 0x1234,
                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, big, 400, 1));
  g_variant_builder_add (&b, "{sv}", "ManufacturerData", g_variant_builder_end (&md));
  props = g_variant_ref_sink (g_variant_builder_end (&b));
  bytes = build_ok (props);
  data = g_bytes_get_data (bytes, &len);

  bleio_ad_iter_init (&iter, data, len);
  while (bleio_ad_iter_next (&iter, &type, &payload, &payload_len, NULL))
    {
      switch (type)
        {
        case BLEIO_AD_TYPE_UUID16_COMPLETE:
          /* Every UUID lands in order across the structures. */
          for (gsize k = 0; k + 1 < payload_len; k += 2)
            {
              assert_int_equal (payload[k] | (payload[k + 1] << 8), 0x2a00 + n16);
              n16++;
            }
          assert_true (payload_len <= 254);
          lists++;
          break;
        case BLEIO_AD_TYPE_SHORT_NAME:
          /* Cut before the straddling character, never inside it. */
          assert_int_equal (payload_len, 253);
          assert_true (g_utf8_validate ((const char *) payload, (gssize) payload_len, NULL));
          break;
        case BLEIO_AD_TYPE_MANUFACTURER_DATA:
          assert_int_equal (payload_len, 254);
          assert_int_equal (payload[0], 0x34);
          assert_int_equal (payload[1], 0x12);
          break;
        default:
          fail_msg ("unexpected AD type 0x%02x", type);
        }
    }
  assert_int_equal (n16, 130);
  assert_int_equal (lists, 2);

  /* A plain ASCII name longer than 254 bytes is cut at 254. */
  g_clear_pointer (&props, g_variant_unref);
  g_clear_pointer (&bytes, g_bytes_unref);
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "Name", g_variant_new_string (ascii_name->str));
  props = g_variant_ref_sink (g_variant_builder_end (&b));
  bytes = build_ok (props);
  data = g_bytes_get_data (bytes, &len);
  assert_int_equal (len, 256);
  assert_int_equal (data[0], 255);
  assert_int_equal (data[1], BLEIO_AD_TYPE_SHORT_NAME);
  assert_memory_equal (data + 2, ascii_name->str, 254);

  /* A name of exactly 254 bytes is still complete. */
  g_string_truncate (ascii_name, 254);
  g_clear_pointer (&props, g_variant_unref);
  g_clear_pointer (&bytes, g_bytes_unref);
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "Name", g_variant_new_string (ascii_name->str));
  props = g_variant_ref_sink (g_variant_builder_end (&b));
  bytes = build_ok (props);
  data = g_bytes_get_data (bytes, &len);
  assert_int_equal (len, 256);
  assert_int_equal (data[1], BLEIO_AD_TYPE_COMPLETE_NAME);
}

static void
test_build_wrong_types (void **state)
{
  GVariantBuilder b;
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GBytes) bytes = NULL;
  static const char *uuids[] = { "180d", NULL };

  /* Every field of the wrong D-Bus type: all skipped, no critical (the
   * tests run with G_DEBUG=fatal-criticals). */
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "AdvertisingFlags", g_variant_new_string ("06"));
  g_variant_builder_add (&b, "{sv}", "UUIDs", ay ("0d 18"));
  g_variant_builder_add (&b, "{sv}", "Name", ay ("41"));
  g_variant_builder_add (&b, "{sv}", "TxPower", g_variant_new_byte (4));
  g_variant_builder_add (&b, "{sv}", "Appearance", g_variant_new_int16 (1));
  g_variant_builder_add (&b, "{sv}", "ServiceData", g_variant_new_strv (uuids, -1));
  g_variant_builder_add (&b, "{sv}", "ManufacturerData", g_variant_new_parsed ("{'76': <[byte 1]>}"));
  g_variant_builder_add (&b, "{sv}", "AdvertisingData", g_variant_new_parsed ("{uint16 1: <[byte 6]>}"));
  props = g_variant_ref_sink (g_variant_builder_end (&b));
  bytes = build_ok (props);
  assert_int_equal (g_bytes_get_size (bytes), 0);

  /* Empty values are left out too. */
  g_clear_pointer (&props, g_variant_unref);
  g_clear_pointer (&bytes, g_bytes_unref);
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "AdvertisingFlags", ay (""));
  g_variant_builder_add (&b, "{sv}", "Name", g_variant_new_string (""));
  g_variant_builder_add (&b, "{sv}", "UUIDs", g_variant_new_strv (NULL, 0));
  props = g_variant_ref_sink (g_variant_builder_end (&b));
  bytes = build_ok (props);
  assert_int_equal (g_bytes_get_size (bytes), 0);

  /* An empty dictionary gives empty bytes, not an error. */
  g_clear_pointer (&props, g_variant_unref);
  g_clear_pointer (&bytes, g_bytes_unref);
  props = g_variant_ref_sink (g_variant_new_parsed ("@a{sv} {}"));
  bytes = build_ok (props);
  assert_int_equal (g_bytes_get_size (bytes), 0);
}

static void
test_build_not_a_dict (void **state)
{
  g_autoptr(GVariant) s = g_variant_ref_sink (g_variant_new_string ("x"));
  g_autoptr(GVariant) d = g_variant_ref_sink (g_variant_new_parsed ("{'Name': 'x'}"));
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) error2 = NULL;

  assert_null (bleio_ad_build_from_bluez (s, &error));
  assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
  /* a{ss} is not a{sv}. */
  assert_null (bleio_ad_build_from_bluez (d, &error2));
  assert_true (g_error_matches (error2, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_iter_valid),
    cmocka_unit_test (test_iter_empty),
    cmocka_unit_test (test_iter_zero_padding),
    cmocka_unit_test (test_iter_malformed),
    cmocka_unit_test (test_iter_every_prefix),
    cmocka_unit_test (test_iter_every_corruption),
    cmocka_unit_test (test_matches_basic),
    cmocka_unit_test (test_matches_any_all),
    cmocka_unit_test (test_matches_malformed),
    cmocka_unit_test (test_build_discovered),
    cmocka_unit_test (test_build_connected_paired),
    cmocka_unit_test (test_build_every_field),
    cmocka_unit_test (test_build_tx_power_clamped),
    cmocka_unit_test (test_build_long_fields),
    cmocka_unit_test (test_build_bounded_by_extended_advertising),
    cmocka_unit_test (test_build_wrong_types),
    cmocka_unit_test (test_build_not_a_dict),
  };

  return cmocka_run_group_tests_name ("ad", tests, NULL, NULL);
}
