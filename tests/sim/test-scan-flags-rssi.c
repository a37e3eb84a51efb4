/* SPDX-License-Identifier: MIT */
/* Two scan entry fields BlueZ 5.82's captures showed wrong (issue 21,
 * items 4 and 5), both reproducible on bleio-sim: an RSSI of 127 (HCI's
 * "not available") is unknown, not +20 dBm; a connectable advertiser whose
 * Flags carry only 0x04 (BR/EDR not supported) is connectable. */
#include "central.h"

static int
group_setup (void **state)
{
  g_autoptr(GError) error = NULL;
  SimFixture *fx = sim_fixture_new (NULL, &error);

  if (fx == NULL)
    {
      g_printerr ("fixture: %s\n", error->message);
      return -1;
    }
  *state = fx;
  return 0;
}

static int
group_teardown (void **state)
{
  sim_fixture_free (*state);
  return 0;
}

static BleioScanEntry *
next_named (BleioScanResults *results,
            const char       *name,
            gboolean        (*accept) (BleioScanEntry *entry))
{
  gint64 end = g_get_monotonic_time () + (gint64) WAIT_MSEC * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, 0.1, NULL);
      g_autofree char *entry_name = NULL;

      if (entry == NULL)
        continue;
      entry_name = bleio_scan_entry_dup_complete_name (entry);
      if (g_strcmp0 (entry_name, name) == 0 && (accept == NULL || accept (entry)))
        return g_steal_pointer (&entry);
    }
  return NULL;
}

static void
test_flags_04_connectable (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(BleioScanEntry) entry = NULL;
  g_autofree char *path = common_add (fx,
    "{\"address\": \"00:CC:00:00:21:05\", \"name\": \"Flags04\", \"connectable\": true,"
    " \"advertising_flags\": \"04\"}");

  results = bleio_adapter_start_scan (adapter, NULL, 8192, FALSE, 0, 0.1, 0.1, -127, TRUE, &error);
  assert_no_error (error);
  entry = next_named (results, "Flags04", NULL);
  assert_non_null (entry);
  assert_true (bleio_scan_entry_get_connectable (entry));
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  assert_true (sim_fixture_remove_device (fx, path, &error));
}

static gboolean
rssi_unknown (BleioScanEntry *entry)
{
  return bleio_scan_entry_get_rssi (entry) == BLEIO_SCAN_ENTRY_RSSI_UNKNOWN;
}

static void
test_rssi_127_unknown (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(BleioScanEntry) entry = NULL;
  g_autofree char *path = common_add (fx,
    "{\"address\": \"00:CC:00:00:21:04\", \"name\": \"NoRssi\", \"advertising_flags\": \"06\"}");

  assert_int_equal (BLEIO_SCAN_ENTRY_RSSI_UNKNOWN, 127);
  /* A minimum RSSI that any real reading of this peer could fail. */
  results = bleio_adapter_start_scan (adapter, NULL, 8192, FALSE, 0, 0.1, 0.1, 0, TRUE, &error);
  assert_no_error (error);
  /* The simulator exports the device once the scan has heard it. */
  assert_true (sim_fixture_wait_property (fx, path, "org.bluez.Device1", "Address",
                                          g_variant_new_string ("00:CC:00:00:21:04"), WAIT_MSEC));
  assert_true (sim_fixture_set_property (fx, path, "org.bluez.Device1", "RSSI",
                                         g_variant_new_int16 (127), &error));
  entry = next_named (results, "NoRssi", rssi_unknown);
  assert_non_null (entry);
  assert_int_equal (bleio_scan_entry_get_rssi (entry), 127);
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  assert_true (sim_fixture_remove_device (fx, path, &error));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_flags_04_connectable),
    cmocka_unit_test (test_rssi_127_unknown),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
