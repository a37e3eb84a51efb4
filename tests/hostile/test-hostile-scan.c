/* SPDX-License-Identifier: MIT */
/*
 * Hostile BlueZ, scanning: Device1 properties of the wrong type, missing,
 * out of range or huge, and devices in unexpected places, read through
 * bleio_adapter_start_scan() and BleioScanEntry.
 */
#include "hostile.h"

/* Device1.@name shows @value (announced in no signal): a scan of @msec
 * does not report the peripheral. */
static void
assert_spoiled_not_reported (Hostile    *h,
                             const char *name,
                             GVariant   *value,
                             guint       msec)
{
  g_autoptr(BleioScanEntry) entry = NULL;

  hostile_property_quiet (h, DEV, IFACE_DEVICE, name, value);
  entry = hostile_scan_for (h, HOSTILE_ADDRESS, msec);
  assert_null (entry);
}

/* Device1.@name shows @value: the peripheral is still reported, but its
 * advertisement has no AD field of @type. Returns the entry for the
 * caller's further checks. */
static BleioScanEntry *
spoiled_field_left_out (Hostile    *h,
                        const char *name,
                        GVariant   *value,
                        guint8      type)
{
  BleioScanEntry *entry;
  g_autoptr(GBytes) field = NULL;

  hostile_property_quiet (h, DEV, IFACE_DEVICE, name, value);
  entry = scan_expect (h);
  field = adv_field (entry, type);
  assert_null (field);
  return entry;
}

/* A baseline: the untouched peripheral scans as the scenario says. */
static void
test_baseline (void **state)
{
  Hostile *h = *state;
  g_autoptr(BleioScanEntry) entry = scan_expect (h);
  g_autofree char *name = bleio_scan_entry_dup_complete_name (entry);

  assert_string_equal (name, HOSTILE_NAME);
  assert_int_equal (bleio_scan_entry_get_rssi (entry), -50);
  assert_adv_valid (entry);
}

/* RSSI as a string: the device's reports carry no usable RSSI, so the
 * library does not report it (as a device not heard); others still are. */
static void
test_rssi_as_string (void **state)
{
  Hostile *h = *state;
  g_autoptr(BleioScanEntry) again = NULL;

  assert_spoiled_not_reported (h, "RSSI", g_variant_new_string ("strong"), 1000);
  hostile_clear (h);
  again = scan_expect (h);
  assert_int_equal (bleio_scan_entry_get_rssi (again), -50);
}

static void
rssi_clamped (Hostile *h,
              gint16   value,
              int      expected)
{
  g_autoptr(BleioScanEntry) entry = NULL;

  hostile_property_quiet (h, DEV, IFACE_DEVICE, "RSSI", g_variant_new_int16 (value));
  entry = scan_expect (h);
  assert_int_equal (bleio_scan_entry_get_rssi (entry), expected);
}

/* RSSI 500 (no radio reports more than +20 dBm) is reported as +20. */
static void
test_rssi_500_clamped (void **state)
{
  rssi_clamped (*state, 500, 20);
}

/* RSSI -32768 is reported as -127, the lowest HCI value. */
static void
test_rssi_minus_32768_clamped (void **state)
{
  rssi_clamped (*state, G_MININT16, -127);
}

/* RSSI as an int32 (bluetoothd sends int16). */
static void
test_rssi_as_int32 (void **state)
{
  assert_spoiled_not_reported (*state, "RSSI", g_variant_new_int32 (-40), 1000);
}

/* UUIDs as one string instead of as: the field is left out, the rest of
 * the advertisement is kept. */
static void
test_uuids_as_string (void **state)
{
  g_autoptr(BleioScanEntry) entry = NULL;
  g_autofree char *name = NULL;

  entry = spoiled_field_left_out (*state, "UUIDs",
                                  g_variant_new_string ("0000180f-0000-1000-8000-00805f9b34fb"),
                                  BLEIO_AD_TYPE_UUID16_COMPLETE);
  name = bleio_scan_entry_dup_complete_name (entry);
  assert_string_equal (name, HOSTILE_NAME);
  assert_adv_valid (entry);
}

/* UUID strings that are not UUIDs are skipped one by one. */
static void
test_uuids_not_uuids (void **state)
{
  Hostile *h = *state;
  const char *bad[] = { "", "zz", "0000180f", "180f-", "not-a-uuid-at-all-no-no-no-no-no-nooo", "180a", NULL };
  g_autoptr(BleioScanEntry) entry = NULL;
  g_autoptr(GBytes) uuids = NULL;
  const guint8 *data;
  gsize len = 0;

  hostile_property_quiet (h, DEV, IFACE_DEVICE, "UUIDs", g_variant_new_strv (bad, -1));
  entry = scan_expect (h);
  uuids = adv_field (entry, BLEIO_AD_TYPE_UUID16_COMPLETE);
  assert_non_null (uuids);
  data = g_bytes_get_data (uuids, &len);
  /* 180a survives ("0000180f" is a 32-bit form of 180f, which counts too) */
  assert_true (len == 2 || len == 4);
  assert_adv_valid (entry);
  (void) data;
}

/* ManufacturerData keyed by strings (a{sv} instead of a{qv}): ignored. */
static void
test_manufacturer_data_keyed_by_string (void **state)
{
  GVariantBuilder b;
  g_autoptr(BleioScanEntry) entry = NULL;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&b, "{sv}", "0xffff",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "\x01\x02", 2, 1));
  entry = spoiled_field_left_out (*state, "ManufacturerData", g_variant_builder_end (&b),
                                  BLEIO_AD_TYPE_MANUFACTURER_DATA);
  assert_adv_valid (entry);
}

/* ManufacturerData whose values are strings instead of ay: skipped. */
static void
test_manufacturer_data_value_string (void **state)
{
  GVariantBuilder b;
  g_autoptr(BleioScanEntry) entry = NULL;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{qv}"));
  g_variant_builder_add (&b, "{qv}", 0xffff, g_variant_new_string ("0102"));
  entry = spoiled_field_left_out (*state, "ManufacturerData", g_variant_builder_end (&b),
                                  BLEIO_AD_TYPE_MANUFACTURER_DATA);
  assert_adv_valid (entry);
}

/* Name as ay: no name in the entry, the entry itself still arrives. */
static void
test_name_as_bytes (void **state)
{
  Hostile *h = *state;
  g_autoptr(BleioScanEntry) entry = NULL;
  g_autofree char *name = NULL;

  hostile_property_quiet (h, DEV, IFACE_DEVICE, "Name",
                          g_variant_new_bytestring ("Hostile"));
  entry = scan_expect (h);
  name = bleio_scan_entry_dup_complete_name (entry);
  assert_null (name);
}

/* TxPower as a string and Appearance 0xffff as int32: ignored fields. */
static void
test_txpower_appearance_wrong (void **state)
{
  Hostile *h = *state;
  g_autoptr(BleioScanEntry) entry = NULL;
  g_autoptr(GBytes) tx = NULL;
  g_autoptr(GBytes) appearance = NULL;

  hostile_property_quiet (h, DEV, IFACE_DEVICE, "TxPower", g_variant_new_string ("loud"));
  hostile_property_quiet (h, DEV, IFACE_DEVICE, "Appearance", g_variant_new_int32 (0x1ffff));
  entry = scan_expect (h);
  tx = adv_field (entry, BLEIO_AD_TYPE_TX_POWER);
  appearance = adv_field (entry, BLEIO_AD_TYPE_APPEARANCE);
  assert_null (tx);
  assert_null (appearance);
  assert_adv_valid (entry);
}

/* TxPower 500 (an int16 no radio sends) is carried as one signed byte
 * clamped to +127; Appearance 0xffff is a valid uint16 and kept. */
static void
test_txpower_out_of_range (void **state)
{
  Hostile *h = *state;
  g_autoptr(BleioScanEntry) entry = NULL;
  g_autoptr(GBytes) tx = NULL;
  g_autoptr(GBytes) appearance = NULL;
  const guint8 *d;

  hostile_property_quiet (h, DEV, IFACE_DEVICE, "TxPower", g_variant_new_int16 (500));
  hostile_property_quiet (h, DEV, IFACE_DEVICE, "Appearance", g_variant_new_uint16 (0xffff));
  entry = scan_expect (h);
  tx = adv_field (entry, BLEIO_AD_TYPE_TX_POWER);
  assert_non_null (tx);
  assert_int_equal (g_bytes_get_size (tx), 1);
  d = g_bytes_get_data (tx, NULL);
  assert_int_equal ((gint8) d[0], 127);
  appearance = adv_field (entry, BLEIO_AD_TYPE_APPEARANCE);
  assert_non_null (appearance);
  assert_adv_valid (entry);
}

/* AdvertisingFlags as a string: no Flags field. */
static void
test_advertising_flags_as_string (void **state)
{
  bleio_scan_entry_unref (spoiled_field_left_out (*state, "AdvertisingFlags",
                                                  g_variant_new_string ("06"),
                                                  BLEIO_AD_TYPE_FLAGS));
}

/* A Device1 without Address (the device is announced without it when
 * discovery finds it): never reported, and the scan goes on. */
static void
test_device_without_address (void **state)
{
  Hostile *h = *state;
  g_autoptr(BleioScanEntry) entry = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *other = NULL;
  g_autoptr(BleioScanEntry) second = NULL;

  hostile_hide (h, DEV, IFACE_DEVICE, "Address");
  entry = hostile_scan_for (h, HOSTILE_ADDRESS, 1000);
  assert_null (entry);
  /* another peripheral added now is found by the same kind of scan */
  other = sim_fixture_add_device (h->fx, "hci0",
                                  "{\"address\": \"00:AA:05:00:00:02\", \"name\": \"Other\", "
                                  "\"advertising_interval_ms\": 100}", &error);
  assert_no_error (error);
  second = hostile_scan_for (h, "00:AA:05:00:00:02", WAIT_MSEC);
  assert_non_null (second);
}

/* An Address that is no address: not reported. */
static void
test_address_malformed (void **state)
{
  Hostile *h = *state;
  const char *bad[] = { "", "00:AA:05:00:00", "ZZ:ZZ:ZZ:ZZ:ZZ:ZZ", "00:AA:05:00:00:01:02", NULL };

  for (guint i = 0; bad[i] != NULL; i++)
    assert_spoiled_not_reported (h, "Address", g_variant_new_string (bad[i]), 600);
}

/* Address as an int: not reported. */
static void
test_address_as_uint64 (void **state)
{
  assert_spoiled_not_reported (*state, "Address", g_variant_new_uint64 (0x00aa05000001), 1000);
}

/* AddressType as a number: taken as public, BlueZ's default. */
static void
test_address_type_as_uint32 (void **state)
{
  Hostile *h = *state;
  g_autoptr(BleioScanEntry) typed = NULL;

  hostile_property_quiet (h, DEV, IFACE_DEVICE, "AddressType", g_variant_new_uint32 (1));
  typed = scan_expect (h);
  assert_int_equal (bleio_address_get_address_type (bleio_scan_entry_get_address (typed)),
                    BLEIO_ADDRESS_TYPE_PUBLIC);
}

/* A Device1 whose Adapter is a string, not an object path: not reported
 * by a scan on hci0. */
static void
test_device_adapter_as_string (void **state)
{
  assert_spoiled_not_reported (*state, "Adapter", g_variant_new_string (HCI0), 1000);
}

/* A Device1 under hci0's path whose Adapter says hci1: not reported by a
 * scan on hci0. */
static void
test_device_adapter_other (void **state)
{
  assert_spoiled_not_reported (*state, "Adapter",
                               g_variant_new_object_path ("/org/bluez/hci1"), 1000);
}

/* Devices at unexpected paths: under an adapter that does not exist,
 * directly under /org/bluez, and a path that is no device path at all,
 * each claiming to belong to hci0. They are taken at their word (the
 * Adapter property decides), never crash the scan, and carry their own
 * address. */
static void
test_devices_at_odd_paths (void **state)
{
  Hostile *h = *state;
  const char *paths[] = {
    "/org/bluez/hci9/dev_00_AA_05_00_00_09",
    "/org/bluez/dev_00_AA_05_00_00_0A",
    "/org/bluez/hci0/dev_00_AA_05_00_00_01/dev_00_AA_05_00_00_0B",
    "/elsewhere",
  };
  const char *addresses[] = {
    "00:AA:05:00:00:09", "00:AA:05:00:00:0A", "00:AA:05:00:00:0B", "00:AA:05:00:00:0C",
  };
  GVariantBuilder objects;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  guint seen = 0;
  gint64 end;

  results = bleio_adapter_start_scan (hostile_adapter (h), NULL, 4096, FALSE, 0, 0.1, 0.1,
                                      -127, TRUE, &error);
  assert_no_error (error);
  g_variant_builder_init (&objects, G_VARIANT_TYPE ("a{oa{sa{sv}}}"));
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      GVariantBuilder props;

      g_variant_builder_init (&props, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&props, "{sv}", "Address", g_variant_new_string (addresses[i]));
      g_variant_builder_add (&props, "{sv}", "AddressType", g_variant_new_string ("public"));
      g_variant_builder_add (&props, "{sv}", "Adapter", g_variant_new_object_path (HCI0));
      g_variant_builder_add (&props, "{sv}", "RSSI", g_variant_new_int16 (-60));
      g_variant_builder_add (&objects, "{o@a{sa{sv}}}", paths[i],
                             g_variant_new_parsed ("{'org.bluez.Device1': %@a{sv}}",
                                                   g_variant_builder_end (&props)));
    }
  hostile_objects (h, g_variant_builder_end (&objects), TRUE);
  end = g_get_monotonic_time () + (gint64) WAIT_MSEC * 1000;
  while (seen != 0xf && g_get_monotonic_time () < end)
    {
      g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, 0.2, &error);
      g_autofree char *text = NULL;

      if (entry == NULL)
        {
          assert_bleio_error (error, BLEIO_ERROR_TIMEOUT);
          g_clear_error (&error);
          continue;
        }
      text = bleio_address_to_string (bleio_scan_entry_get_address (entry));
      for (guint i = 0; i < G_N_ELEMENTS (addresses); i++)
        if (g_ascii_strcasecmp (text, addresses[i]) == 0)
          seen |= 1u << i;
    }
  assert_int_equal (seen, 0xf);
  assert_true (bleio_adapter_stop_scan (hostile_adapter (h), &error));
  assert_no_error (error);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    HOSTILE_TEST (test_baseline),
    HOSTILE_TEST (test_rssi_as_string),
    HOSTILE_TEST (test_rssi_500_clamped),
    HOSTILE_TEST (test_rssi_minus_32768_clamped),
    HOSTILE_TEST (test_rssi_as_int32),
    HOSTILE_TEST (test_uuids_as_string),
    HOSTILE_TEST (test_uuids_not_uuids),
    HOSTILE_TEST (test_manufacturer_data_keyed_by_string),
    HOSTILE_TEST (test_manufacturer_data_value_string),
    HOSTILE_TEST (test_name_as_bytes),
    HOSTILE_TEST (test_txpower_appearance_wrong),
    HOSTILE_TEST (test_txpower_out_of_range),
    HOSTILE_TEST (test_advertising_flags_as_string),
    HOSTILE_TEST (test_device_without_address),
    HOSTILE_TEST (test_address_malformed),
    HOSTILE_TEST (test_address_as_uint64),
    HOSTILE_TEST (test_address_type_as_uint32),
    HOSTILE_TEST (test_device_adapter_as_string),
    HOSTILE_TEST (test_device_adapter_other),
    HOSTILE_TEST (test_devices_at_odd_paths),
  };

  return hostile_run_tests (tests, G_N_ELEMENTS (tests), argc, argv);
}
