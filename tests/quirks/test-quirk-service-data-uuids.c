/* SPDX-License-Identifier: MIT */
/* Quirk (not in DESIGN.md §3): bluetoothd 5.69 and later add the UUID of
 * every service data field to Device1.UUIDs (issue 21 item 6: on 5.82 the
 * rebuilt advertisement read 07030d180f189999... where the air carried
 * 05030d180f18). The library rebuilds the UUID list from what the list
 * held: a service data UUID goes into it only on a bluetoothd that keeps
 * the two apart (5.66), where UUIDs is the advertised list.
 *
 * The simulator speaks 5.66; the newer bluetoothd is its hostile mode:
 * Adapter1.Manufacturer, which every adapter has from 5.71 on, and a
 * Device1.UUIDs that carries the service data UUID as 5.82's does. */
#include "central.h"

typedef CommonGroup Group;

/* Whether @ad holds a 16-bit UUID list (complete or not) with @uuid16. */
static gboolean
ad_lists_uuid16 (GBytes  *ad,
                 guint16  uuid16)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (ad, &len);

  for (gsize i = 0; i + 1 < len && data[i] != 0; i += (gsize) data[i] + 1)
    {
      gsize field = data[i];

      if (i + 1 + field > len)
        break;
      if (data[i + 1] != 0x02 && data[i + 1] != 0x03)
        continue;
      for (gsize j = i + 2; j + 1 < i + 1 + field; j += 2)
        if ((data[j] | (data[j + 1] << 8)) == uuid16)
          return TRUE;
    }
  return FALSE;
}

/* Whether @ad holds 16-bit service data for @uuid16. */
static gboolean
ad_has_service_data16 (GBytes  *ad,
                       guint16  uuid16)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (ad, &len);

  for (gsize i = 0; i + 1 < len && data[i] != 0; i += (gsize) data[i] + 1)
    if (data[i + 1] == 0x16 && data[i] >= 3 && i + 3 < len &&
        (data[i + 2] | (data[i + 3] << 8)) == uuid16)
      return TRUE;
  return FALSE;
}

/* The next entry of @address with RSSI @rssi (the mark of the change the
 * test made last), or NULL after WAIT_MSEC. */
static BleioScanEntry *
next_marked (BleioScanResults   *results,
             const BleioAddress *address,
             int                 rssi)
{
  gint64 end = g_get_monotonic_time () + (gint64) WAIT_MSEC * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, 0.1, NULL);

      if (entry != NULL &&
          bleio_address_equal (bleio_scan_entry_get_address (entry), address) &&
          bleio_scan_entry_get_rssi (entry) == rssi)
        return g_steal_pointer (&entry);
    }
  return NULL;
}

static void
sim_hostile_manufacturer (SimFixture *fx)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "path", g_variant_new_object_path (HCI0));
  g_variant_builder_add (&b, "{sv}", "interface", g_variant_new_string ("org.bluez.Adapter1"));
  g_variant_builder_add (&b, "{sv}", "name", g_variant_new_string ("Manufacturer"));
  g_variant_builder_add (&b, "{sv}", "value", g_variant_new_variant (g_variant_new_uint16 (2)));
  reply = sim_fixture_call (fx, "SetHostile", g_variant_new ("(sa{sv})", "property", &b), &error);
  assert_no_error (error);
}

/* A peer advertising 180d and 180f in its UUID list and service data for
 * 9999 (and, with @listed, 9999 in its list as well); Device1.UUIDs then
 * shows 9999 too, as bluetoothd 5.69+ shows it in both cases. Returns the
 * rebuilt advertisement of the entry seen after that. */
static GBytes *
rebuilt_advertisement (Group      *g,
                       const char *address,
                       gboolean    listed,
                       gboolean    newer_bluez)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAddress) bleio_address = common_address (address);
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(BleioScanEntry) entry = NULL;
  g_autofree char *json =
    g_strdup_printf ("{\"address\": \"%s\", \"name\": \"SD%s\", \"advertising_flags\": \"06\","
                     " \"uuids\": [\"180d\", \"180f\"%s], \"service_data\": {\"9999\": \"0102\"}}",
                     address, address + 12, listed ? ", \"9999\"" : "");
  g_autofree char *path = common_add (g->fx, json);
  const char *uuids[] = {
    "0000180d-0000-1000-8000-00805f9b34fb",
    "0000180f-0000-1000-8000-00805f9b34fb",
    "00009999-0000-1000-8000-00805f9b34fb",
  };
  GBytes *bytes;

  if (newer_bluez)
    sim_hostile_manufacturer (g->fx);
  results = bleio_adapter_start_scan (g->adapter, NULL, 8192, FALSE, 0, 0.1, 0.1, -127, TRUE,
                                      &error);
  assert_no_error (error);
  /* The simulator exports the device once the scan has heard it. */
  assert_true (sim_fixture_wait_property (g->fx, path, "org.bluez.Device1", "Address",
                                          g_variant_new_string (address), WAIT_MSEC));
  assert_true (sim_fixture_set_property (g->fx, path, "org.bluez.Device1", "UUIDs",
                                         g_variant_new_strv (uuids, G_N_ELEMENTS (uuids)),
                                         &error));
  assert_true (sim_fixture_set_property (g->fx, path, "org.bluez.Device1", "RSSI",
                                         g_variant_new_int16 (-33), &error));
  assert_no_error (error);
  entry = next_marked (results, bleio_address, -33);
  assert_non_null (entry);
  bytes = g_bytes_ref (bleio_scan_entry_get_advertisement_bytes (entry));
  assert_true (bleio_adapter_stop_scan (g->adapter, &error));
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
  g_variant_unref (sim_fixture_call (g->fx, "ClearHostile", NULL, &error));
  assert_no_error (error);
  return bytes;
}

/* bluetoothd 5.71+: 9999 is only service data on the air, and stays out
 * of the rebuilt UUID list. */
static void
test_service_data_uuid_not_listed (void **state)
{
  g_autoptr(GBytes) ad = rebuilt_advertisement (*state, "00:CC:00:00:21:61", FALSE, TRUE);

  assert_true (ad_lists_uuid16 (ad, 0x180d));
  assert_true (ad_lists_uuid16 (ad, 0x180f));
  assert_false (ad_lists_uuid16 (ad, 0x9999));
  assert_true (ad_has_service_data16 (ad, 0x9999));
}

/* bluetoothd 5.66 keeps UUIDs to the advertised list: a peer that lists
 * a UUID it also sends service data for (an Eddystone beacon, say) keeps
 * it in the rebuilt list. */
static void
test_service_data_uuid_listed_on_5_66 (void **state)
{
  g_autoptr(GBytes) ad = rebuilt_advertisement (*state, "00:CC:00:00:21:62", TRUE, FALSE);

  assert_true (ad_lists_uuid16 (ad, 0x180d));
  assert_true (ad_lists_uuid16 (ad, 0x9999));
  assert_true (ad_has_service_data16 (ad, 0x9999));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    /* 5.66 first: the library's cache keeps the hostile Manufacturer
     * after ClearHostile, which announces no change. */
    cmocka_unit_test (test_service_data_uuid_listed_on_5_66),
    cmocka_unit_test (test_service_data_uuid_not_listed),
  };

  return cmocka_run_group_tests (tests, common_group_setup, common_group_teardown);
}
