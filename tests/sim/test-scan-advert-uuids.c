/* SPDX-License-Identifier: MIT */
/* A scan entry heard after a connection is rebuilt from what the peer
 * advertised (issue 15 item 9): BlueZ merges the services it finds over
 * GATT (1800, 1801, 180a here) into Device1.UUIDs, which the peer never
 * advertised, and the rebuilt advertisement grew past 31 bytes. */
#include "central.h"

#define PEER "00:CC:00:00:09:01"

typedef CommonGroup Group;

/* Whether @ad holds a complete or incomplete 16-bit UUID list with
 * @uuid16. */
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
      for (gsize j = i + 2; j + 1 < i + 1 + field + 1; j += 2)
        if ((data[j] | (data[j + 1] << 8)) == uuid16)
          return TRUE;
    }
  return FALSE;
}

static BleioScanEntry *
next_for (BleioScanResults   *results,
          const BleioAddress *address)
{
  gint64 end = g_get_monotonic_time () + (gint64) WAIT_MSEC * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, 0.1, &error);

      if (entry != NULL && bleio_address_equal (bleio_scan_entry_get_address (entry), address))
        return g_steal_pointer (&entry);
    }
  return NULL;
}

static void
test_entry_after_connection_has_advertised_uuids (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAddress) address = common_address (PEER);
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(BleioScanEntry) before = NULL;
  g_autoptr(BleioScanEntry) after = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autofree char *path = common_add (g->fx,
    "{\"address\": \"" PEER "\", \"name\": \"Adv\", \"uuids\": [\"180f\"],"
    " \"gatt\": [{\"uuid\": \"180f\", \"characteristics\": [{\"uuid\": \"2a19\","
    " \"flags\": [\"read\"], \"value\": \"50\"}]}, {\"uuid\": \"180a\","
    " \"characteristics\": []}]}");

  results = bleio_adapter_start_scan (g->adapter, NULL, 65536, FALSE, 0, 0.1, 0.1, -127,
                                      TRUE, &error);
  assert_no_error (error);
  before = next_for (results, address);
  assert_non_null (before);
  assert_true (ad_lists_uuid16 (bleio_scan_entry_get_advertisement_bytes (before), 0x180f));
  assert_false (ad_lists_uuid16 (bleio_scan_entry_get_advertisement_bytes (before), 0x180a));

  connection = bleio_adapter_connect (g->adapter, address, 10, NULL, &error);
  assert_no_error (error);
  assert_true (sim_fixture_wait_property (g->fx, path, "org.bluez.Device1", "ServicesResolved",
                                          g_variant_new_boolean (TRUE), WAIT_MSEC));
  /* BlueZ has merged the GATT services into UUIDs... */
  {
    g_autoptr(GVariant) uuids = sim_fixture_get_property (g->fx, path, "org.bluez.Device1",
                                                          "UUIDs");
    g_autofree const char **strv = NULL;

    assert_non_null (uuids);
    strv = g_variant_get_strv (uuids, NULL);
    assert_true (g_strv_contains (strv, "0000180a-0000-1000-8000-00805f9b34fb"));
  }
  /* ...and the peer is heard again. */
  assert_true (sim_fixture_set_property (g->fx, path, "org.bluez.Device1", "RSSI",
                                         g_variant_new_int16 (-42), &error));
  for (;;)
    {
      g_clear_pointer (&after, bleio_scan_entry_unref);
      after = next_for (results, address);
      assert_non_null (after);
      if (bleio_scan_entry_get_rssi (after) == -42)
        break;
    }
  assert_true (ad_lists_uuid16 (bleio_scan_entry_get_advertisement_bytes (after), 0x180f));
  assert_false (ad_lists_uuid16 (bleio_scan_entry_get_advertisement_bytes (after), 0x180a));
  assert_true (g_bytes_get_size (bleio_scan_entry_get_advertisement_bytes (after)) <= 31);
  assert_true (bleio_adapter_stop_scan (g->adapter, &error));
  assert_true (bleio_connection_disconnect (connection, &error));
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_entry_after_connection_has_advertised_uuids),
  };

  return cmocka_run_group_tests (tests, common_group_setup, common_group_teardown);
}
