/* SPDX-License-Identifier: MIT */
/* Passive scanning (issue 19 items 1-2) against bleio-sim's advertisement
 * monitors: start_scan(active=FALSE) registers a monitor instead of
 * starting discovery, its entries follow the same filter rules, stopping
 * or timing out unregisters it, a prefix no monitor can express is
 * NOT_SUPPORTED with the reason, and the fallback, asked for, scans
 * actively and says so. */
#include "central.h"

static gboolean
discovering (SimFixture *fx)
{
  g_autoptr(GVariant) v = sim_fixture_get_property (fx, "/org/bluez/hci0", "org.bluez.Adapter1",
                                                    "Discovering");

  return v != NULL && g_variant_get_boolean (v);
}

static void
test_passive_scan_uses_a_monitor (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  guint total = 0, named;

  assert_true (sim_fixture_reset_calls (fx, NULL));
  assert_false (bleio_adapter_get_passive_scan_fallback (adapter));
  results = bleio_adapter_start_scan (adapter, NULL, 8192, FALSE, 0, 0.1, 0.1, -127, FALSE, &error);
  assert_no_error (error);
  assert_non_null (results);
  assert_true (bleio_scan_results_get_passive (results));
  assert_int_equal (sim_fixture_count_calls (fx, "RegisterMonitor"), 1);
  assert_int_equal (sim_fixture_count_calls (fx, "StartDiscovery"), 0);
  /* every advertiser with Flags, repeatedly: the demo peripheral
   * advertises once a second */
  named = common_drain_named (results, "InterestingPeripheral", 3000, &total);
  assert_true (named >= 2);
  assert_false (discovering (fx));
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  assert_no_error (error);
  assert_true (bleio_scan_results_is_done (results));
  /* stop_scan returns once bluetoothd has taken the monitor away, and a
   * passive scan has no discovery session to stop */
  assert_int_equal (sim_fixture_count_calls (fx, "UnregisterMonitor"), 1);
  assert_int_equal (sim_fixture_count_calls (fx, "StopDiscovery"), 0);
}

/* The prefixes make the patterns, and the entries are filtered as in an
 * active scan: only advertisers of the Heart Rate service. */
static void
test_passive_scan_prefixes (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  static const guint8 heart_rate[] = { 0x03, 0x03, 0x0d, 0x18 };
  g_autoptr(GBytes) prefixes = g_bytes_new_static (heart_rate, sizeof heart_rate);
  guint total = 0, named;

  results = bleio_adapter_start_scan (adapter, prefixes, 8192, FALSE, 0, 0.1, 0.1, -127, FALSE,
                                      &error);
  assert_no_error (error);
  assert_true (bleio_scan_results_get_passive (results));
  named = common_drain_named (results, "InterestingPeripheral", 2500, &total);
  assert_true (named >= 1);
  /* the thermometer (0x1809) never comes */
  assert_int_equal (common_drain_named (results, "Thermometer", 1500, &total), 0);
  assert_true (bleio_adapter_stop_scan (adapter, &error));
}

static void
test_passive_scan_timeout_unregisters (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  guint total = 0;

  assert_true (sim_fixture_reset_calls (fx, NULL));
  results = bleio_adapter_start_scan (adapter, NULL, 8192, FALSE, 0.5, 0.1, 0.1, -127, FALSE, &error);
  assert_no_error (error);
  common_drain_named (results, "InterestingPeripheral", 3000, &total);
  assert_true (bleio_scan_results_is_done (results));
  assert_int_equal (sim_fixture_count_calls (fx, "StopDiscovery"), 0);
  for (int i = 0; i < 50 && sim_fixture_count_calls (fx, "UnregisterMonitor") < 1; i++)
    g_usleep (20000);
  assert_int_equal (sim_fixture_count_calls (fx, "UnregisterMonitor"), 1);
  /* a new scan can start */
  g_clear_object (&results);
  results = bleio_adapter_start_scan (adapter, NULL, 8192, FALSE, 0, 0.1, 0.1, -127, FALSE, &error);
  assert_no_error (error);
  assert_true (bleio_adapter_stop_scan (adapter, &error));
}

/* A pattern needs a data byte: a prefix of a type alone cannot be
 * monitored. Without the fallback that is the scan's error; with it the
 * scan runs actively and says so. */
static void
test_passive_scan_not_supported_and_fallback (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  static const guint8 any_manufacturer[] = { 0x01, 0xff };
  g_autoptr(GBytes) prefixes = g_bytes_new_static (any_manufacturer, sizeof any_manufacturer);

  assert_true (sim_fixture_reset_calls (fx, NULL));
  results = bleio_adapter_start_scan (adapter, prefixes, 8192, FALSE, 0, 0.1, 0.1, -127, FALSE,
                                      &error);
  assert_null (results);
  assert_bleio_error (error, BLEIO_ERROR_NOT_SUPPORTED);
  assert_non_null (strstr (error->message, "scan actively"));
  g_clear_error (&error);
  /* nothing was left registered, and no active scan was started */
  assert_int_equal (sim_fixture_count_calls (fx, "RegisterMonitor"), 0);
  assert_int_equal (sim_fixture_count_calls (fx, "StartDiscovery"), 0);

  bleio_adapter_set_passive_scan_fallback (adapter, TRUE);
  assert_true (bleio_adapter_get_passive_scan_fallback (adapter));
  results = bleio_adapter_start_scan (adapter, prefixes, 8192, FALSE, 0, 0.1, 0.1, -127, FALSE,
                                      &error);
  assert_no_error (error);
  assert_false (bleio_scan_results_get_passive (results));
  assert_true (discovering (fx));
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  bleio_adapter_set_passive_scan_fallback (adapter, FALSE);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_passive_scan_uses_a_monitor),
    cmocka_unit_test (test_passive_scan_prefixes),
    cmocka_unit_test (test_passive_scan_timeout_unregisters),
    cmocka_unit_test (test_passive_scan_not_supported_and_fallback),
  };

  return cmocka_run_group_tests (tests, sim_fixture_group_setup, sim_fixture_group_teardown);
}
