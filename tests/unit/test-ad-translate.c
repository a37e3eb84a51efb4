/* SPDX-License-Identifier: MIT */
/*
 * Raw AD structures and advertising settings into LEAdvertisement1
 * properties (lib/bleio-ad-translate.c): every AD type bluetoothd 5.66 can
 * carry lands in its property, every type it cannot is refused naming the
 * structure, malformed bytes are refused before anything is registered,
 * and the length limits follow what the adapter's LEAdvertisingManager1
 * says. Each input sits in a heap block of its exact size so that the
 * address sanitizer sees any over-read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include "bleio-private.h"
#include "bleio-ad-translate-private.h"

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

/* Translates @data (and @scan) with @caps (NULL: a legacy controller and
 * a bluetoothd without its experimental flag). */
static GVariant *
translate_full (const char                     *data,
                const char                     *scan,
                gboolean                        connectable,
                const BleioAdvertisingCaps     *caps,
                BleioAdvertisingSettings       *extra,
                GError                        **error)
{
  g_autoptr(GBytes) d = hex (data != NULL ? data : "");
  g_autoptr(GBytes) s = hex (scan != NULL ? scan : "");
  /* Exact-size heap copies: any read past the end is an ASan error. */
  g_autofree guint8 *dcopy = g_memdup2 (g_bytes_get_data (d, NULL), g_bytes_get_size (d));
  g_autofree guint8 *scopy = g_memdup2 (g_bytes_get_data (s, NULL), g_bytes_get_size (s));
  BleioAdvertisingSettings settings = { 0 };
  BleioAdvertisingCaps legacy;
  GVariant *props;

  if (extra != NULL)
    settings = *extra;
  settings.data = dcopy;
  settings.data_len = g_bytes_get_size (d);
  settings.scan_response = scopy;
  settings.scan_response_len = g_bytes_get_size (s);
  settings.connectable = connectable;
  bleio_advertising_caps_init (&legacy);
  legacy.include_tx_power = TRUE;
  props = bleio_advertising_properties (&settings, caps != NULL ? caps : &legacy, error);
  if (props != NULL)
    g_variant_ref_sink (props);
  return props;
}

static GVariant *
translate (const char *data,
           GError    **error)
{
  return translate_full (data, NULL, TRUE, NULL, NULL, error);
}

static void
assert_printed (GVariant   *props,
                const char *key,
                const char *expected)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (props, key, NULL);
  g_autofree char *text = NULL;

  if (value == NULL)
    fail_msg ("%s missing", key);
  text = g_variant_print (value, TRUE);
  assert_string_equal (text, expected);
}

static void
assert_absent (GVariant   *props,
               const char *key)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (props, key, NULL);

  assert_null (value);
}

static void
assert_error (GError     *error,
              int         code,
              const char *part)
{
  assert_non_null (error);
  assert_true (g_error_matches (error, BLEIO_ERROR, code));
  if (strstr (error->message, part) == NULL)
    fail_msg ("\"%s\" does not mention \"%s\"", error->message, part);
}

static void
test_every_property_type (void **state)
{
  g_autoptr(GError) error = NULL;
  BleioAdvertisingCaps caps;
  g_autoptr(GVariant) props = NULL;

  /* All of it is 113 bytes: an extended advertisement. */
  bleio_advertising_caps_init (&caps);
  caps.extended = TRUE;
  caps.max_adv_len = 251;
  caps.include_tx_power = TRUE;
  /* Flags (general), 16/32/128-bit UUID lists, a name, TX power,
   * appearance, service data of each size, manufacturer data,
   * solicitation UUIDs of each size. */
  props = translate_full (
    "02 01 06"
    "05 03 0f 18 0a 18"
    "05 05 78 56 34 12"
    "11 07 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff"
    "05 09 42 6c 65 6f"
    "02 0a 04"
    "03 19 c1 03"
    "05 16 0f 18 64 65"
    "07 20 78 56 34 12 01 02"
    "12 21 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 09"
    "05 ff 59 00 01 02"
    "03 14 0d 18"
    "05 1f 44 33 22 11"
    "11 15 10 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff", NULL, TRUE, &caps, NULL, &error);

  (void) state;
  assert_null (error);
  assert_non_null (props);
  assert_printed (props, "Type", "'peripheral'");
  assert_printed (props, "ServiceUUIDs",
                  "['180f', '180a', '12345678', 'ffeeddcc-bbaa-9988-7766-554433221100']");
  assert_printed (props, "SolicitUUIDs",
                  "['180d', '11223344', 'ffeeddcc-bbaa-9988-7766-554433221110']");
  assert_printed (props, "LocalName", "'Bleo'");
  assert_printed (props, "Includes", "['tx-power']");
  assert_printed (props, "Appearance", "uint16 961");
  assert_printed (props, "Discoverable", "true");
  assert_printed (props, "ManufacturerData", "{uint16 89: <[byte 0x01, 0x02]>}");
  {
    g_autoptr(GVariant) sd = g_variant_lookup_value (props, "ServiceData", G_VARIANT_TYPE_VARDICT);
    g_autoptr(GVariant) a = NULL, b = NULL, c = NULL;

    assert_non_null (sd);
    assert_int_equal (g_variant_n_children (sd), 3);
    a = g_variant_lookup_value (sd, "180f", G_VARIANT_TYPE_BYTESTRING);
    b = g_variant_lookup_value (sd, "12345678", G_VARIANT_TYPE_BYTESTRING);
    c = g_variant_lookup_value (sd, "ffeeddcc-bbaa-9988-7766-554433221100",
                                G_VARIANT_TYPE_BYTESTRING);
    assert_non_null (a);
    assert_non_null (b);
    assert_non_null (c);
    assert_int_equal (g_variant_get_size (a), 2);
    assert_memory_equal (g_variant_get_data (a), "de", 2);
    assert_int_equal (g_variant_get_size (b), 2);
    assert_int_equal (g_variant_get_size (c), 1);
  }
  assert_absent (props, "Data");
  assert_absent (props, "Timeout");
  assert_printed (props, "SecondaryChannel", "'1M'");
  assert_absent (props, "MinInterval");
  assert_absent (props, "TxPower");
}

/* Incomplete lists and the shortened name carry the same values. */
static void
test_incomplete_and_short (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) props = translate ("03 02 0f 18 05 04 78 56 34 12 03 08 42 6c", &error);

  (void) state;
  assert_null (error);
  assert_printed (props, "ServiceUUIDs", "['180f', '12345678']");
  assert_printed (props, "LocalName", "'Bl'");
  /* No Flags structure: bluetoothd manages the flags itself. */
  assert_absent (props, "Discoverable");
}

/* A repeated UUID is sent once. */
static void
test_uuid_repeated (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) props = translate ("03 02 0f 18 05 03 0f 18 0a 18", &error);

  (void) state;
  assert_null (error);
  assert_printed (props, "ServiceUUIDs", "['180f', '180a']");
}

/* Types that have no property but that bluetoothd takes in Data. */
static void
test_raw_data_types (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) props = translate ("04 24 17 2f 2f 02 0b 00 03 30 aa bb", &error);
  g_autoptr(GVariant) data = NULL;
  g_autoptr(GVariant) uri = NULL;

  (void) state;
  assert_null (error);
  data = g_variant_lookup_value (props, "Data", G_VARIANT_TYPE ("a{yv}"));
  assert_non_null (data);
  assert_int_equal (g_variant_n_children (data), 3);
  for (gsize i = 0; i < g_variant_n_children (data); i++)
    {
      guint8 type;
      g_autoptr(GVariant) v = NULL;

      g_variant_get_child (data, i, "{yv}", &type, &v);
      if (type == 0x24)
        uri = g_variant_ref (v);
    }
  assert_non_null (uri);
  assert_int_equal (g_variant_get_size (uri), 3);
  assert_memory_equal (g_variant_get_data (uri), "\x17//", 3);
}

/* Every type bluetoothd 5.66 neither has a property for nor takes in Data
 * is NOT_SUPPORTED, naming the structure's index and type. */
static void
test_refused_types (void **state)
{
  static const guint8 refused[] = {
    0x00, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x17, 0x18, 0x1a, 0x1b, 0x1c,
    0x1d, 0x1e, 0x22, 0x23, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x3d, 0x3e, 0x80, 0xfe,
  };

  (void) state;
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *data = g_strdup_printf ("02 01 06 02 %02x 00", refused[i]);
      g_autofree char *named = g_strdup_printf ("AD structure 1 of data (type 0x%02x)", refused[i]);
      g_autoptr(GVariant) props = translate (data, &error);

      assert_null (props);
      assert_error (error, BLEIO_ERROR_NOT_SUPPORTED, named);
    }
}

static void
test_malformed (void **state)
{
  static const struct {
    const char *data;
    int code;
    const char *part;
  } cases[] = {
    /* Length runs past the end. */
    { "02 01 06 05 09 41 42", BLEIO_ERROR_INVALID_ARGUMENT, "AD structure 1 of data (at byte 3): its length 5 runs past" },
    /* A zero length byte, even at the end. */
    { "02 01 06 00", BLEIO_ERROR_INVALID_ARGUMENT, "AD structure 1 of data (at byte 3): its length byte is 0" },
    { "00 02 01 06", BLEIO_ERROR_INVALID_ARGUMENT, "AD structure 0 of data (at byte 0)" },
    /* A length byte with nothing after it. */
    { "02 01 06 01", BLEIO_ERROR_INVALID_ARGUMENT, "AD structure 1 of data" },
    { "02 01 06 09", BLEIO_ERROR_INVALID_ARGUMENT, "runs past" },
    /* Wrong sizes. */
    { "03 01 06 00", BLEIO_ERROR_INVALID_ARGUMENT, "Flags are one byte" },
    { "04 03 0f 18 0a", BLEIO_ERROR_INVALID_ARGUMENT, "not a whole number of 2-byte UUIDs" },
    { "04 05 0f 18 0a", BLEIO_ERROR_INVALID_ARGUMENT, "4-byte UUIDs" },
    { "05 07 0f 18 0a 18", BLEIO_ERROR_INVALID_ARGUMENT, "16-byte UUIDs" },
    { "03 0a 01 02", BLEIO_ERROR_INVALID_ARGUMENT, "TX power level is one byte" },
    { "02 19 01", BLEIO_ERROR_INVALID_ARGUMENT, "Appearance is two bytes" },
    { "02 16 0f", BLEIO_ERROR_INVALID_ARGUMENT, "shorter than its 2-byte UUID" },
    { "04 20 01 02 03", BLEIO_ERROR_INVALID_ARGUMENT, "shorter than its 4-byte UUID" },
    { "05 21 01 02 03 04", BLEIO_ERROR_INVALID_ARGUMENT, "shorter than its 16-byte UUID" },
    { "02 ff 59", BLEIO_ERROR_INVALID_ARGUMENT, "company identifier" },
    { "01 03", BLEIO_ERROR_INVALID_ARGUMENT, "holds no data" },
    { "01 09", BLEIO_ERROR_INVALID_ARGUMENT, "non-empty UTF-8" },
    { "03 09 ff fe", BLEIO_ERROR_INVALID_ARGUMENT, "UTF-8" },
    { "03 09 41 00", BLEIO_ERROR_INVALID_ARGUMENT, "NUL" },
    /* Repeats BlueZ would merge or drop. */
    { "02 01 06 02 01 06", BLEIO_ERROR_INVALID_ARGUMENT, "a second Flags" },
    { "02 09 41 02 08 42", BLEIO_ERROR_INVALID_ARGUMENT, "a second local name" },
    { "02 0a 00 02 0a 00", BLEIO_ERROR_INVALID_ARGUMENT, "a second TX power" },
    { "03 19 00 00 03 19 00 00", BLEIO_ERROR_INVALID_ARGUMENT, "a second Appearance" },
    { "04 16 0f 18 01 04 16 0f 18 01", BLEIO_ERROR_INVALID_ARGUMENT, "service data for UUID 180f" },
    { "04 ff 59 00 02 04 ff 59 00 01", BLEIO_ERROR_INVALID_ARGUMENT, "company 0x0059" },
    { "02 24 17 02 24 16", BLEIO_ERROR_INVALID_ARGUMENT, "one per type in Data" },
    /* Entries bluetoothd 5.66 refuses when they hold no bytes. */
    { "03 16 0f 18", BLEIO_ERROR_NOT_SUPPORTED, "service data without bytes" },
    { "03 ff 59 00", BLEIO_ERROR_NOT_SUPPORTED, "manufacturer data without bytes" },
    /* Flags BlueZ cannot send. */
    { "02 01 05", BLEIO_ERROR_NOT_SUPPORTED, "LE Limited Discoverable" },
  };

  (void) state;
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) props = translate (cases[i].data, &error);

      if (props != NULL)
        fail_msg ("case %" G_GSIZE_FORMAT " (%s) was accepted", i, cases[i].data);
      assert_error (error, cases[i].code, cases[i].part);
    }
}

/* Every prefix of a valid advertisement: each either translates or is
 * refused as malformed, never read past its end. */
static void
test_every_prefix (void **state)
{
  const char *full = "02 01 06 03 03 0f 18 05 09 42 6c 65 6f 05 ff 59 00 01 02";
  g_autoptr(GBytes) bytes = hex (full);
  gsize n = g_bytes_get_size (bytes);
  const guint8 *p = g_bytes_get_data (bytes, NULL);
  guint accepted = 0;

  (void) state;
  for (gsize len = 0; len <= n; len++)
    {
      g_autofree guint8 *copy = g_memdup2 (p, len);
      BleioAdvertisingSettings s = { 0 };
      BleioAdvertisingCaps caps;
      g_autoptr(GError) error = NULL;
      GVariant *props;

      bleio_advertising_caps_init (&caps);
      s.data = copy;
      s.data_len = len;
      s.connectable = TRUE;
      props = bleio_advertising_properties (&s, &caps, &error);
      if (props != NULL)
        {
          accepted++;
          g_variant_unref (g_variant_ref_sink (props));
        }
      else
        assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
    }
  /* The empty data and the four whole-structure boundaries. */
  assert_int_equal (accepted, 5);
}

static void
test_broadcast (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) props = translate_full ("02 01 04 03 03 0f 18", NULL, FALSE, NULL, NULL,
                                              &error);
  g_autoptr(GVariant) refused = NULL;

  (void) state;
  assert_null (error);
  assert_printed (props, "Type", "'broadcast'");
  assert_printed (props, "Discoverable", "false");
  /* A broadcaster may not claim to be discoverable (Core 5.0 Vol 3 Part C
   * 9.1.1; bluetoothd refuses it too). */
  refused = translate_full ("02 01 06", NULL, FALSE, NULL, NULL, &error);
  assert_null (refused);
  assert_error (error, BLEIO_ERROR_INVALID_ARGUMENT, "must not be discoverable");
}

static void
test_scan_response (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) props = translate_full ("02 01 06", "06 09 42 6c 65 69 6f", TRUE, NULL,
                                              NULL, &error);
  g_autoptr(GVariant) refused = NULL;
  g_autoptr(GVariant) twice = NULL;

  (void) state;
  assert_null (error);
  assert_printed (props, "LocalName", "'Bleio'");
  refused = translate_full ("02 01 06", "03 03 0f 18", TRUE, NULL, NULL, &error);
  assert_null (refused);
  assert_error (error, BLEIO_ERROR_NOT_SUPPORTED,
                "AD structure 0 of scan_response (type 0x03): BlueZ's LEAdvertisement1 puts only");
  g_clear_error (&error);
  twice = translate_full ("02 09 41", "02 09 42", TRUE, NULL, NULL, &error);
  assert_null (twice);
  assert_error (error, BLEIO_ERROR_INVALID_ARGUMENT,
                "AD structure 0 of scan_response (type 0x09): a second local name");
}

/* 31 bytes is a legacy advertisement; 32 needs an extended one. */
static void
test_length_limits (void **state)
{
  /* 31 bytes: one manufacturer structure of 30. */
  const char *legacy = "1e ff 59 00 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17 18 19 1a";
  const char *longer = "1f ff 59 00 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b";
  BleioAdvertisingCaps extended;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ok = translate (legacy, &error);
  g_autoptr(GVariant) refused = NULL;
  g_autoptr(GVariant) ext = NULL;
  g_autoptr(GVariant) too_long = NULL;
  g_autoptr(GVariant) scannable = NULL;
  g_autoptr(GVariant) broadcast = NULL;

  (void) state;
  assert_null (error);
  assert_non_null (ok);
  assert_absent (ok, "SecondaryChannel");

  refused = translate (longer, &error);
  assert_null (refused);
  assert_error (error, BLEIO_ERROR_NOT_SUPPORTED, "32 bytes, more than the 31");
  assert_error (error, BLEIO_ERROR_NOT_SUPPORTED, "SupportedSecondaryChannels");
  g_clear_error (&error);

  bleio_advertising_caps_init (&extended);
  extended.extended = TRUE;
  extended.max_adv_len = 251;
  extended.max_scan_rsp_len = 251;
  ext = translate_full (longer, NULL, TRUE, &extended, NULL, &error);
  assert_null (error);
  assert_printed (ext, "SecondaryChannel", "'1M'");

  extended.max_adv_len = 31;
  too_long = translate_full (longer, NULL, TRUE, &extended, NULL, &error);
  assert_null (too_long);
  assert_error (error, BLEIO_ERROR_NOT_SUPPORTED, "sends at most 31");
  g_clear_error (&error);

  /* A connectable extended advertisement has no scan response. */
  extended.max_adv_len = 251;
  scannable = translate_full (longer, "02 09 41", TRUE, &extended, NULL, &error);
  assert_null (scannable);
  assert_error (error, BLEIO_ERROR_NOT_SUPPORTED, "cannot have a scan response");
  g_clear_error (&error);
  broadcast = translate_full (longer, "02 09 41", FALSE, &extended, NULL, &error);
  assert_null (error);
  assert_printed (broadcast, "SecondaryChannel", "'1M'");
}

static void
test_settings (void **state)
{
  BleioAdvertisingCaps caps;
  BleioAdvertisingSettings s = { 0 };
  g_autoptr(GError) error = NULL;
  GVariant *props;

  (void) state;
  bleio_advertising_caps_init (&caps);

  s.anonymous = TRUE;
  assert_null (translate_full ("", NULL, TRUE, &caps, &s, &error));
  assert_error (error, BLEIO_ERROR_NOT_SUPPORTED, "anonymous");
  g_clear_error (&error);
  s.anonymous = FALSE;

  s.directed = TRUE;
  assert_null (translate_full ("", NULL, TRUE, &caps, &s, &error));
  assert_error (error, BLEIO_ERROR_NOT_SUPPORTED, "directed_to");
  g_clear_error (&error);
  s.directed = FALSE;

  s.timeout = 65536;
  assert_null (translate_full ("", NULL, TRUE, &caps, &s, &error));
  assert_error (error, BLEIO_ERROR_INVALID_ARGUMENT, "at most 65535");
  g_clear_error (&error);
  s.timeout = 65535;
  props = translate_full ("", NULL, TRUE, &caps, &s, &error);
  assert_null (error);
  assert_printed (props, "Timeout", "uint16 65535");
  g_variant_unref (props);
  s.timeout = 0;

  /* Interval: out of range either way; without the experimental flag
   * bluetoothd 5.66 would accept MinInterval and ignore it. */
  s.interval = 0.01;
  assert_null (translate_full ("", NULL, TRUE, &caps, &s, &error));
  assert_error (error, BLEIO_ERROR_INVALID_ARGUMENT, "out of range");
  g_clear_error (&error);
  s.interval = 10.25;
  assert_null (translate_full ("", NULL, TRUE, &caps, &s, &error));
  assert_error (error, BLEIO_ERROR_INVALID_ARGUMENT, "out of range");
  g_clear_error (&error);
  s.interval = 0.1;
  assert_null (translate_full ("", NULL, TRUE, &caps, &s, &error));
  assert_error (error, BLEIO_ERROR_NOT_SUPPORTED, "experimental");
  g_clear_error (&error);
  caps.experimental = TRUE;
  props = translate_full ("", NULL, TRUE, &caps, &s, &error);
  assert_null (error);
  assert_printed (props, "MinInterval", "uint32 100");
  assert_printed (props, "MaxInterval", "uint32 100");
  g_variant_unref (props);
  s.interval = 0;

  /* TX power: needs the experimental flag and the controller's range. */
  s.tx_power = 21;
  assert_null (translate_full ("", NULL, TRUE, &caps, &s, &error));
  assert_error (error, BLEIO_ERROR_INVALID_ARGUMENT, "-127 to 20");
  g_clear_error (&error);
  s.tx_power = -4;
  assert_null (translate_full ("", NULL, TRUE, &caps, &s, &error));
  assert_error (error, BLEIO_ERROR_NOT_SUPPORTED, "TxPower");
  g_clear_error (&error);
  caps.has_tx_power_range = TRUE;
  caps.min_tx_power = -20;
  caps.max_tx_power = 10;
  props = translate_full ("", NULL, TRUE, &caps, &s, &error);
  assert_null (error);
  assert_printed (props, "TxPower", "int16 -4");
  g_variant_unref (props);
  s.tx_power = -30;
  assert_null (translate_full ("", NULL, TRUE, &caps, &s, &error));
  assert_error (error, BLEIO_ERROR_INVALID_ARGUMENT, "-20 to 10");
  g_clear_error (&error);
}

/* bluetoothd 5.66 without its experimental flag accepts MinInterval,
 * MaxInterval and TxPower and ignores them: a setting that changes what
 * goes on air is refused instead, and passed on only to a bluetoothd that
 * shows the flag (SupportedCapabilities exported). */
static void
test_quirk_interval_ignored_without_experimental (void **state)
{
  g_autoptr(GVariant) without = g_variant_ref_sink (g_variant_new_parsed (
    "{'SupportedInstances': <byte 5>, 'SupportedIncludes': <['tx-power']>}"));
  g_autoptr(GVariant) with = g_variant_ref_sink (g_variant_new_parsed (
    "{'SupportedCapabilities': <{'MaxAdvLen': <byte 31>, 'MinTxPower': <int16 -20>,"
    " 'MaxTxPower': <int16 10>}>}"));
  BleioAdvertisingSettings s = { 0 };
  BleioAdvertisingCaps caps;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) props = NULL;

  (void) state;
  s.interval = 0.5;
  s.tx_power = 5;
  bleio_advertising_caps_from_manager (&caps, without);
  assert_null (bleio_advertising_properties (&s, &caps, &error));
  assert_error (error, BLEIO_ERROR_NOT_SUPPORTED, "-E");
  g_clear_error (&error);
  bleio_advertising_caps_from_manager (&caps, with);
  props = bleio_advertising_properties (&s, &caps, &error);
  assert_null (error);
  g_variant_ref_sink (props);
  assert_printed (props, "MinInterval", "uint32 500");
  assert_printed (props, "TxPower", "int16 5");
}

/* A TX power structure needs bluetoothd to offer the tx-power include. */
static void
test_tx_power_include (void **state)
{
  BleioAdvertisingCaps caps;
  g_autoptr(GError) error = NULL;

  (void) state;
  bleio_advertising_caps_init (&caps);
  assert_null (translate_full ("02 0a 00", NULL, TRUE, &caps, NULL, &error));
  assert_error (error, BLEIO_ERROR_NOT_SUPPORTED, "SupportedIncludes");
}

/* The manager's properties as bluetoothd 5.66 exported them in the e2e
 * guest (tests/data/bluez-5.66/objects-idle.json), and as it exports them
 * without its experimental flag. */
static void
test_caps_from_manager (void **state)
{
  BleioAdvertisingCaps caps;
  g_autoptr(GVariant) recorded = g_variant_ref_sink (g_variant_new_parsed (
    "{'ActiveInstances': <byte 0>, 'SupportedCapabilities': <{'MaxAdvLen': <byte 31>,"
    " 'MaxScnRspLen': <byte 31>}>, 'SupportedFeatures': <@as []>,"
    " 'SupportedIncludes': <['tx-power', 'appearance', 'local-name']>,"
    " 'SupportedInstances': <byte 5>}"));
  g_autoptr(GVariant) plain = g_variant_ref_sink (g_variant_new_parsed (
    "{'ActiveInstances': <byte 0>, 'SupportedIncludes': <['appearance', 'local-name']>,"
    " 'SupportedInstances': <byte 5>}"));
  g_autoptr(GVariant) extended = g_variant_ref_sink (g_variant_new_parsed (
    "{'SupportedSecondaryChannels': <['1M', '2M']>, 'SupportedCapabilities':"
    " <{'MaxAdvLen': <byte 251>, 'MaxScnRspLen': <byte 251>, 'MinTxPower': <int16 -34>,"
    " 'MaxTxPower': <int16 10>}>}"));

  (void) state;
  bleio_advertising_caps_from_manager (&caps, recorded);
  assert_true (caps.experimental);
  assert_false (caps.extended);
  assert_true (caps.include_tx_power);
  assert_int_equal (caps.max_adv_len, 31);
  assert_false (caps.has_tx_power_range);

  bleio_advertising_caps_from_manager (&caps, plain);
  assert_false (caps.experimental);
  assert_false (caps.include_tx_power);
  assert_int_equal (caps.max_adv_len, 31);

  bleio_advertising_caps_from_manager (&caps, extended);
  assert_true (caps.extended);
  assert_int_equal (caps.max_adv_len, 251);
  assert_true (caps.has_tx_power_range);
  assert_int_equal (caps.min_tx_power, -34);
  assert_int_equal (caps.max_tx_power, 10);

  bleio_advertising_caps_from_manager (&caps, NULL);
  assert_false (caps.experimental);
  assert_int_equal (caps.max_adv_len, 31);
}

/* Empty data is a valid advertisement: bluetoothd fills in the flags. */
static void
test_empty (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) props = translate ("", &error);

  (void) state;
  assert_null (error);
  assert_int_equal (g_variant_n_children (props), 1);
  assert_printed (props, "Type", "'peripheral'");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_every_property_type),
    cmocka_unit_test (test_incomplete_and_short),
    cmocka_unit_test (test_uuid_repeated),
    cmocka_unit_test (test_raw_data_types),
    cmocka_unit_test (test_refused_types),
    cmocka_unit_test (test_malformed),
    cmocka_unit_test (test_every_prefix),
    cmocka_unit_test (test_broadcast),
    cmocka_unit_test (test_scan_response),
    cmocka_unit_test (test_length_limits),
    cmocka_unit_test (test_settings),
    cmocka_unit_test (test_tx_power_include),
    cmocka_unit_test (test_quirk_interval_ignored_without_experimental),
    cmocka_unit_test (test_caps_from_manager),
    cmocka_unit_test (test_empty),
  };

  return cmocka_run_group_tests_name ("ad-translate", tests, NULL, NULL);
}
