/* SPDX-License-Identifier: MIT */
/*
 * The ATT handles libbleio reports (issue 21 item 8): bluetoothd 5.82
 * exports a `Handle` property on every GattService1, GattCharacteristic1
 * and GattDescriptor1, equal to the number in the object path (a
 * characteristic's is its declaration's: src/gatt-client.c); 5.66 has only
 * the path. libbleio reads the property where it is there and the path
 * otherwise. Run with the simulator speaking 5.82 (meson: BLEIO_SIM_BLUEZ);
 * since bluetoothd never makes the two differ, the hostile mode does, to
 * show which one the library took.
 */
#include "hostile.h"

#define CUSTOM_DESC CUSTOM_CHAR "/desc0024"   /* the 0x2901 after the CCC */

typedef struct {
  guint16 service;
  guint16 characteristic;
  guint16 descriptor;
} Handles;

static Handles
custom_handles (Hostile *h)
{
  g_autoptr(BleioConnection) connection = hostile_connect (h);
  g_autoptr(GPtrArray) services = hostile_discover (connection);
  g_autoptr(BleioCharacteristic) chr = hostile_find_char (services, CUSTOM_CHAR);
  g_autoptr(GPtrArray) descriptors = bleio_characteristic_dup_descriptors (chr);
  Handles out = { 0, 0, 0 };

  out.characteristic = bleio_characteristic_get_handle (chr);
  out.service = bleio_service_get_handle (bleio_characteristic_get_service (chr));
  for (guint i = 0; i < descriptors->len; i++)
    {
      BleioDescriptor *d = g_ptr_array_index (descriptors, i);

      if (bleio_uuid_get_uuid16 (bleio_descriptor_get_uuid (d)) == 0x2901)
        out.descriptor = bleio_descriptor_get_handle (d);
    }
  return out;
}

/* What 5.82 shows: the property, equal to the path's number. */
static void
test_handle_as_bluetoothd_shows_it (void **state)
{
  Hostile *h = *state;
  g_autoptr(GVariant) shown = NULL;
  Handles got = { 0, 0, 0 };

  got = custom_handles (h);
  shown = sim_fixture_get_property (h->fx, CUSTOM_CHAR, IFACE_CHAR, "Handle");
  assert_non_null (shown);
  assert_int_equal (g_variant_get_uint16 (shown), 0x0021);
  assert_int_equal (got.service, 0x0020);
  assert_int_equal (got.characteristic, 0x0021);
  assert_int_equal (got.descriptor, 0x0024);
}

/* A Handle that differs from the path is what libbleio reports. */
static void
test_handle_property_is_used (void **state)
{
  Hostile *h = *state;
  Handles got = { 0, 0, 0 };

  hostile_property_quiet (h, CUSTOM_SERVICE, IFACE_SERVICE, "Handle", g_variant_new_uint16 (0x0100));
  hostile_property_quiet (h, CUSTOM_CHAR, IFACE_CHAR, "Handle", g_variant_new_uint16 (0x0777));
  hostile_property_quiet (h, CUSTOM_DESC, IFACE_DESC, "Handle", g_variant_new_uint16 (0x0779));
  got = custom_handles (h);
  assert_int_equal (got.service, 0x0100);
  assert_int_equal (got.characteristic, 0x0777);
  assert_int_equal (got.descriptor, 0x0779);
}

/* No Handle (5.66), or one of another type: the path's number. */
static void
test_handle_missing_or_wrong_type_falls_back (void **state)
{
  Hostile *h = *state;
  Handles got = { 0, 0, 0 };

  hostile_hide (h, CUSTOM_SERVICE, IFACE_SERVICE, "Handle");
  hostile_hide (h, CUSTOM_DESC, IFACE_DESC, "Handle");
  hostile_property_quiet (h, CUSTOM_CHAR, IFACE_CHAR, "Handle", g_variant_new_string ("0x0777"));
  got = custom_handles (h);
  assert_int_equal (got.service, 0x0020);
  assert_int_equal (got.characteristic, 0x0021);
  assert_int_equal (got.descriptor, 0x0024);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    HOSTILE_TEST (test_handle_as_bluetoothd_shows_it),
    HOSTILE_TEST (test_handle_property_is_used),
    HOSTILE_TEST (test_handle_missing_or_wrong_type_falls_back),
  };

  return hostile_run_tests (tests, G_N_ELEMENTS (tests), argc, argv);
}
