/* SPDX-License-Identifier: MIT */
/* A connect its caller cancelled is never retried and leaves no link
 * (issue 15 item 13). bluetoothd answers a Connect cut short by a
 * Disconnect with Failed "br-connection-canceled", and a Connect the
 * controller aborted with "le-connection-abort-by-local", which the
 * connect queue retries once: the retry must not happen once the caller
 * has cancelled, even when that failure reached the caller's context
 * before the cancellation did. */
#include "central.h"

#define PEER_ADDRESS "00:CC:00:00:13:01"
#define PEER_NAME "CancelledPeer"

typedef struct {
  SimFixture *fx;
  BleioAdapter *adapter;
  BleioAddress *peer;
  char *path;
} Group;

static int
group_setup (void **state)
{
  Group *g = g_new0 (Group, 1);

  *state = g;
  if (!common_start (&g->fx, &g->adapter))
    return -1;
  g->path = common_add (g->fx, "{\"address\": \"" PEER_ADDRESS "\", \"name\": \"" PEER_NAME "\"}");
  /* Scanned, so that BlueZ has its Device1 and the queue calls Connect. */
  g->peer = common_scan_for (g->adapter, PEER_NAME, WAIT_MSEC);
  if (g->peer == NULL)
    return -1;
  return 0;
}

static int
group_teardown (void **state)
{
  Group *g = *state;

  g_clear_object (&g->adapter);
  bleio_address_free (g->peer);
  if (g->fx != NULL)
    sim_fixture_free (g->fx);
  g_free (g->path);
  g_free (g);
  return 0;
}

/* The Connect fails with le-connection-abort-by-local; its reply is queued
 * in the caller's context when the caller cancels, so it is dispatched
 * before the cancellation reaches the queue. */
static void
test_cancelled_connect_not_retried (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  CommonConnect s = { 0, };
  gint64 end;

  assert_true (sim_fixture_reset_calls (g->fx, &error));
  assert_true (sim_fixture_fail_next (g->fx, "Connect", "org.bluez.Error.Failed",
                                      "le-connection-abort-by-local", 1, &error));
  bleio_adapter_connect_async (g->adapter, g->peer, 10, cancellable, common_connected, &s);
  end = g_get_monotonic_time () + WAIT_MSEC * 1000;
  while (sim_fixture_count_calls (g->fx, "Connect") < 1 && g_get_monotonic_time () < end)
    g_usleep (10 * 1000);
  assert_int_equal (sim_fixture_count_calls (g->fx, "Connect"), 1);
  /* Time for the failure to reach this thread's context, not dispatched. */
  g_usleep (300 * 1000);
  g_cancellable_cancel (cancellable);

  assert_true (common_wait (common_connect_done, &s, WAIT_MSEC));
  assert_null (s.connection);
  assert_true (g_error_matches (s.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error (&s.error);
  /* Anything the queue still sends would be sent by now. */
  end = g_get_monotonic_time () + 500 * 1000;
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  assert_int_equal (sim_fixture_count_calls (g->fx, "Connect"), 1);
  assert_false (common_sim_bool (g->fx, g->path, "org.bluez.Device1", "Connected"));
}

/* Cancelled while Connect is pending on a slow peer: the queue's own
 * Disconnect ends the attempt (bluetoothd then fails the Connect, which is
 * not retried) and no link is left, also after the peer would have
 * answered. */
static void
test_cancel_pending_connect_leaves_no_link (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *path = common_add (g->fx,
    "{\"address\": \"00:CC:00:00:13:02\", \"name\": \"SlowCancelled\","
    " \"connect\": {\"delay_ms\": 1500}}");
  g_autoptr(BleioAddress) slow = common_scan_for (g->adapter, "SlowCancelled", WAIT_MSEC);
  CommonConnect s = { 0, };
  gint64 end;

  assert_non_null (slow);
  assert_true (sim_fixture_reset_calls (g->fx, &error));
  bleio_adapter_connect_async (g->adapter, slow, 10, cancellable, common_connected, &s);
  end = g_get_monotonic_time () + WAIT_MSEC * 1000;
  while (sim_fixture_count_calls (g->fx, "Connect") < 1 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  g_cancellable_cancel (cancellable);
  assert_true (common_wait (common_connect_done, &s, WAIT_MSEC));
  assert_null (s.connection);
  assert_true (g_error_matches (s.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error (&s.error);
  end = g_get_monotonic_time () + 2500 * 1000;
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  assert_int_equal (sim_fixture_count_calls (g->fx, "Connect"), 1);
  assert_false (common_sim_bool (g->fx, path, "org.bluez.Device1", "Connected"));
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_cancelled_connect_not_retried),
    cmocka_unit_test (test_cancel_pending_connect_leaves_no_link),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
