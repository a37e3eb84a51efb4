/* SPDX-License-Identifier: MIT */
/*
 * BleioPropIndex: the one-pass lookup that scan entries and the
 * advertisement rebuild use instead of g_variant_lookup(). It must answer
 * exactly as g_variant_lookup_value() on the same dictionary did.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bleio-prop-index-private.h"
#include "bleio-ad-private.h"

static const char * const keys[] = { "Name", "RSSI", "ManufacturerData", "Absent" };

static GVariant *
props_with_duplicates (void)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "Address", g_variant_new_string ("C0:FF:EE:00:00:01"));
  g_variant_builder_add (&b, "{sv}", "Name", g_variant_new_string ("first"));
  g_variant_builder_add (&b, "{sv}", "RSSI", g_variant_new_int16 (-42));
  g_variant_builder_add (&b, "{sv}", "Name", g_variant_new_string ("second"));
  g_variant_builder_add (&b, "{sv}", "ManufacturerData", g_variant_new_string ("wrong type"));
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

/* Same answers as g_variant_lookup_value(): the first entry of a key, NULL
 * for a missing key or a value of another type, and keys not asked for
 * are not there. */
static void
test_matches_lookup_value (void **state)
{
  g_autoptr(GVariant) props = props_with_duplicates ();
  BleioPropIndex index;
  g_autoptr(GVariant) name = NULL;
  g_autoptr(GVariant) expected = NULL;
  g_autoptr(GVariant) rssi = NULL;
  g_autoptr(GVariant) mfr = NULL;
  g_autoptr(GVariant) mfr_any = NULL;
  g_autoptr(GVariant) absent = NULL;
  g_autoptr(GVariant) address = NULL;

  bleio_prop_index_init (&index, props, keys, G_N_ELEMENTS (keys));
  name = bleio_prop_index_lookup (&index, "Name", G_VARIANT_TYPE_STRING);
  expected = g_variant_lookup_value (props, "Name", G_VARIANT_TYPE_STRING);
  assert_non_null (name);
  assert_true (g_variant_equal (name, expected));
  assert_string_equal (g_variant_get_string (name, NULL), "first");

  rssi = bleio_prop_index_lookup (&index, "RSSI", G_VARIANT_TYPE_INT16);
  assert_non_null (rssi);
  assert_int_equal (g_variant_get_int16 (rssi), -42);

  mfr = bleio_prop_index_lookup (&index, "ManufacturerData", G_VARIANT_TYPE ("a{qv}"));
  assert_null (mfr);
  mfr_any = bleio_prop_index_lookup (&index, "ManufacturerData", NULL);
  assert_non_null (mfr_any);

  absent = bleio_prop_index_lookup (&index, "Absent", NULL);
  assert_null (absent);
  address = bleio_prop_index_lookup (&index, "Address", NULL);
  assert_null (address);
  bleio_prop_index_clear (&index);
  assert_int_equal (index.n, 0);
}

static void
test_empty (void **state)
{
  g_autoptr(GVariant) props = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("{sv}"),
                                                                       NULL, 0));
  BleioPropIndex index;

  bleio_prop_index_init (&index, props, keys, G_N_ELEMENTS (keys));
  assert_int_equal (index.n, 0);
  assert_null (bleio_prop_index_lookup (&index, "Name", NULL));
  bleio_prop_index_clear (&index);
}

/* A scan entry made from properties through the index: what an
 * advertisement of this device looked like before the change. */
static void
test_advertisement_rebuilt (void **state)
{
  GVariantBuilder b, mfr;
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GBytes) ad = NULL;
  static const guint8 data[] = { 0x01, 0x02 };
  static const guint8 expected[] = {
    0x02, 0x01, 0x06,                           /* Flags */
    0x03, 0x09, 'H', 'i',                       /* Complete Local Name */
    0x05, 0xff, 0x4c, 0x00, 0x01, 0x02,         /* Manufacturer data, 0x004c */
  };
  gsize len = 0;
  const guint8 *bytes;

  g_variant_builder_init (&mfr, G_VARIANT_TYPE ("a{qv}"));
  g_variant_builder_add (&mfr, "{qv}", (guint16) 0x004c,
                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, 2, 1));
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "RSSI", g_variant_new_int16 (-50));
  g_variant_builder_add (&b, "{sv}", "ManufacturerData", g_variant_builder_end (&mfr));
  g_variant_builder_add (&b, "{sv}", "Name", g_variant_new_string ("Hi"));
  g_variant_builder_add (&b, "{sv}", "AdvertisingFlags",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "\x06", 1, 1));
  props = g_variant_ref_sink (g_variant_builder_end (&b));

  ad = bleio_ad_build_from_bluez (props, NULL);
  assert_non_null (ad);
  bytes = g_bytes_get_data (ad, &len);
  assert_int_equal (len, sizeof expected);
  assert_memory_equal (bytes, expected, sizeof expected);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_matches_lookup_value),
    cmocka_unit_test (test_empty),
    cmocka_unit_test (test_advertisement_rebuilt),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
