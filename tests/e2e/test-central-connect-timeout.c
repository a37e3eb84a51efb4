/* SPDX-License-Identifier: MIT */
/*
 * Connecting to an address nobody uses: the timeout is honoured, the error
 * is BLEIO_ERROR_TIMEOUT, and nothing is left connected or connecting, so a
 * real connect right after works.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e-central.h"

/* In btvirt's range but not one of its controllers, and not in the demo
 * scenario either. */
#define NOBODY "00:AA:01:99:99:99"
#define TIMEOUT_S 3.0

static void
test_connect_nobody_times_out (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(BleioAddress) nobody = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioConnection) real = NULL;
  g_autoptr(GPtrArray) connections = NULL;
  gint64 start, elapsed_ms;

  adapter = e2e_central_adapter (&error);
  assert_null (error);
  nobody = bleio_address_new_from_string (NOBODY, BLEIO_ADDRESS_TYPE_PUBLIC, &error);
  assert_null (error);

  start = g_get_monotonic_time ();
  connection = bleio_adapter_connect (adapter, nobody, TIMEOUT_S, NULL, &error);
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;
  g_print ("connect to %s: %s after %" G_GINT64_FORMAT " ms\n", NOBODY,
           error ? error->message : "connected?!", elapsed_ms);
  assert_null (connection);
  assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_TIMEOUT));
  assert_true (elapsed_ms >= TIMEOUT_S * 1000 - 100);
  assert_true (elapsed_ms < TIMEOUT_S * 1000 + 5000);
  g_clear_error (&error);

  assert_false (bleio_adapter_get_connected (adapter));
  connections = bleio_adapter_dup_connections (adapter);
  assert_int_equal (connections->len, 0);

  /* The adapter is not stuck in the abandoned attempt. */
  real = e2e_connect_peripheral (adapter, &error);
  if (error)
    fail_msg ("connect after the timeout: %s", error->message);
  assert_true (bleio_connection_get_connected (real));
  assert_true (bleio_connection_disconnect (real, &error));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_connect_nobody_times_out),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
