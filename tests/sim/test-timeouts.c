/* SPDX-License-Identifier: MIT */
/* Timeouts in seconds (issue 15 item 1): a bound too large for a GLib
 * timeout never turns into a short one. Where `_bleio` takes None it means
 * "no timeout"; elsewhere it, NaN and negatives without a documented
 * meaning are BLEIO_ERROR_INVALID_ARGUMENT. */
#include <math.h>

#include "central.h"

typedef CommonDemoGroup Group;

/* A scan timeout beyond what a GLib timeout holds scans until stopped,
 * like None in `_bleio`: it must not end the scan at once. */
static void
test_scan_huge_timeout_is_none (void **state)
{
  Group *g = *state;
  const double huge[] = { INFINITY, 1e10, 4294967.296 };

  for (gsize i = 0; i < G_N_ELEMENTS (huge); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BleioScanResults) results = NULL;

      results = bleio_adapter_start_scan (g->adapter, NULL, 4096, FALSE, huge[i],
                                          0.1, 0.1, -127, TRUE, &error);
      assert_no_error (error);
      g_usleep (300 * 1000);
      assert_false (bleio_scan_results_is_done (results));
      assert_true (bleio_adapter_stop_scan (g->adapter, &error));
    }
}

static void
test_scan_nan_timeout_invalid (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;

  results = bleio_adapter_start_scan (g->adapter, NULL, 4096, FALSE, NAN,
                                      0.1, 0.1, -127, TRUE, &error);
  assert_null (results);
  assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
}

/* scan_results_next(): NaN is refused even when the scan is over (it used
 * to count as "wait forever"), infinity waits like a negative value. */
static void
test_scan_next_nan_invalid (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(BleioScanEntry) entry = NULL;

  results = bleio_adapter_start_scan (g->adapter, NULL, 4096, FALSE, 0,
                                      0.1, 0.1, -127, TRUE, &error);
  assert_no_error (error);
  entry = bleio_scan_results_next (results, NAN, &error);
  assert_null (entry);
  assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
  g_clear_error (&error);
  entry = bleio_scan_results_next (results, INFINITY, &error);
  assert_no_error (error);
  assert_non_null (entry);
  assert_true (bleio_adapter_stop_scan (g->adapter, &error));
}

/* `_bleio`'s connect needs a number: infinity, a bound beyond what a GLib
 * timeout holds and NaN are refused, not a connect that times out at
 * once. */
static void
test_connect_huge_timeout_invalid (void **state)
{
  Group *g = *state;
  const double bad[] = { INFINITY, 1e10, NAN, -1 };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BleioConnection) connection = NULL;

      connection = bleio_adapter_connect (g->adapter, g->demo, bad[i], NULL, &error);
      assert_null (connection);
      assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
    }
}

/* A large but representable bound still connects. */
static void
test_connect_long_timeout_connects (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioConnection) connection = NULL;

  connection = bleio_adapter_connect (g->adapter, g->demo, 4000000.0, NULL, &error);
  assert_no_error (error);
  assert_non_null (connection);
  assert_true (bleio_connection_disconnect (connection, &error));
}

static void
test_discover_huge_timeout_invalid (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  const double bad[] = { INFINITY, 1e10, NAN };

  connection = bleio_adapter_connect (g->adapter, g->demo, 10, NULL, &error);
  assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GPtrArray) services = NULL;

      services = bleio_connection_discover_remote_services (connection, NULL, bad[i], &error);
      assert_null (services);
      assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
      g_clear_error (&error);
    }
  assert_true (bleio_connection_disconnect (connection, &error));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_scan_huge_timeout_is_none),
    cmocka_unit_test (test_scan_nan_timeout_invalid),
    cmocka_unit_test (test_scan_next_nan_invalid),
    cmocka_unit_test (test_connect_huge_timeout_invalid),
    cmocka_unit_test (test_connect_long_timeout_connects),
    cmocka_unit_test (test_discover_huge_timeout_invalid),
  };

  return cmocka_run_group_tests (tests, common_demo_group_setup, common_demo_group_teardown);
}
