/* SPDX-License-Identifier: MIT */
/*
 * bluetoothd stopped (SIGTERM) or killed (SIGKILL) and started again
 * mid-session: the open connection reports its end and is spent, the same
 * adapter object comes back, and scanning, connecting and discovering work
 * again without restarting the application.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e-central.h"

static gboolean
adapter_back (gpointer user_data)
{
  return bleio_adapter_is_present (user_data) && bleio_adapter_get_enabled (user_data);
}

static void
restart_mid_session (gboolean crash)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioConnection) next = NULL;
  g_autoptr(GPtrArray) services = NULL;
  E2eDisconnects seen;

  connection = e2e_connect_watched (&adapter, &seen);

  if (!e2e_restart_bluez (crash, &error))
    fail_msg ("restart: %s", error->message);
  assert_true (e2e_wait_disconnected (&seen, E2E_WAIT_MSEC));
  /* A bluetoothd that is stopped (SIGTERM) drops its links before it
   * leaves the bus, so the link ends as REMOTE; one that vanishes at once
   * (the simulator's Restart, a crash) gives BLUEZ_UNAVAILABLE. */
  g_print ("disconnect reason %d\n", seen.reason);
  if (crash)
    assert_int_equal (seen.reason, BLEIO_DISCONNECT_REASON_BLUEZ_UNAVAILABLE);
  else
    assert_true (seen.reason == BLEIO_DISCONNECT_REASON_BLUEZ_UNAVAILABLE
                 || seen.reason == BLEIO_DISCONNECT_REASON_REMOTE);
  assert_int_equal (seen.count, 1);
  assert_false (bleio_connection_get_connected (connection));
  services = bleio_connection_discover_remote_services (connection, NULL, 5, &error);
  assert_null (services);
  assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_CONNECTION));
  g_clear_error (&error);

  assert_true (e2e_wait_until (adapter_back, adapter, E2E_WAIT_MSEC));
  /* A killed bluetoothd leaves its link to the kernel, which drops it a
   * moment later (no ATT user left). A connect made in that moment can
   * land on the dying link and end with a disconnect, as it would for an
   * application: like one, connect again, up to three times. */
  for (guint attempt = 1; ; attempt++)
    {
      g_clear_object (&next);
      g_clear_pointer (&services, g_ptr_array_unref);
      next = e2e_connect_peripheral (adapter, &error);
      if (error)
        fail_msg ("connect after the restart: %s", error->message);
      assert_ptr_not_equal (next, connection);
      services = bleio_connection_discover_remote_services (next, NULL, 30, &error);
      if (services != NULL)
        break;
      if (!crash || attempt == 3
          || !g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_CONNECTION))
        fail_msg ("discover after the restart: %s", error->message);
      g_printerr ("attempt %u: the link ended under discovery (%s); connecting again\n",
                  attempt, error->message);
      g_clear_error (&error);
      g_usleep (2 * G_USEC_PER_SEC);
    }
  assert_true (services->len >= 4);
  assert_true (bleio_connection_disconnect (next, &error));
}

static void
test_restart_mid_session (void **state)
{
  restart_mid_session (FALSE);
}

/* SIGKILL: bluetoothd leaves the bus without a word; its links are not
 * closed by it. */
static void
test_killed_mid_session (void **state)
{
  restart_mid_session (TRUE);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_restart_mid_session),
    cmocka_unit_test (test_killed_mid_session),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
