/* SPDX-License-Identifier: MIT */
/*
 * Disconnect from either side: the connection reports it once, with the
 * right reason, is spent afterwards (members fail with
 * BLEIO_ERROR_CONNECTION), and a new connect gives a new live object.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e-central.h"

static void
assert_spent (BleioConnection *connection)
{
  g_autoptr(GError) error = NULL;

  assert_false (bleio_connection_get_connected (connection));
  assert_false (bleio_connection_get_paired (connection, &error));
  assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_CONNECTION));
  g_clear_error (&error);
  assert_int_equal (bleio_connection_get_max_packet_length (connection, &error), 0);
  assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_CONNECTION));
  g_clear_error (&error);
  assert_true (bleio_connection_disconnect (connection, &error));
  assert_null (error);
}

static void
test_local_disconnect (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  E2eDisconnects seen;

  connection = e2e_connect_watched (&adapter, &seen);

  assert_true (bleio_connection_disconnect (connection, &error));
  assert_null (error);
  assert_true (e2e_wait_disconnected (&seen, E2E_WAIT_MSEC));
  /* Let a duplicate emission show up if there is one. */
  e2e_spin (500);
  assert_int_equal (seen.count, 1);
  assert_int_equal (seen.reason, BLEIO_DISCONNECT_REASON_LOCAL);
  assert_spent (connection);
  assert_false (bleio_adapter_get_connected (adapter));
}

static void
test_remote_disconnect (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioConnection) next = NULL;
  E2eDisconnects seen;

  connection = e2e_connect_watched (&adapter, &seen);

  if (!e2e_peer_disconnect (connection, &error))
    fail_msg ("peer disconnect: %s", error->message);
  assert_true (e2e_wait_disconnected (&seen, E2E_WAIT_MSEC));
  assert_int_equal (seen.count, 1);
  assert_int_equal (seen.reason, BLEIO_DISCONNECT_REASON_REMOTE);
  assert_spent (connection);
  assert_false (bleio_adapter_get_connected (adapter));

  next = e2e_connect_peripheral (adapter, &error);
  if (error)
    fail_msg ("connect again: %s", error->message);
  assert_ptr_not_equal (next, connection);
  assert_true (bleio_connection_get_connected (next));
  assert_true (bleio_connection_disconnect (next, &error));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_local_disconnect),
    cmocka_unit_test (test_remote_disconnect),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
