/* SPDX-License-Identifier: MIT */
/* Pairing ends promptly on cancel, at every stage (issue 15 item 3):
 * bleioctl bounds `pair` by cancelling, and the wait for ServicesResolved
 * before Pair (up to 15 s) did not listen to the cancellable. */
#include "central.h"

typedef CommonGroup Group;

typedef struct {
  gboolean done;
  gboolean ok;
  GError *error;
} PairState;

static void
paired_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  PairState *s = user_data;

  s->ok = bleio_connection_pair_finish (BLEIO_CONNECTION (source), result, &s->error);
  s->done = TRUE;
}

static gboolean
pair_done (gpointer user_data)
{
  return ((PairState *) user_data)->done;
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

/* Pairs @connection and cancels after @cancel_msec; the result must be
 * G_IO_ERROR_CANCELLED, and must come before the peer's @pending property
 * (what the pairing was waiting for, seconds away) turns true: the cancel
 * ended the wait, not the event. */
static void
pair_and_cancel (CommonGroup     *g,
                 BleioConnection *connection,
                 const char      *path,
                 const char      *pending,
                 guint            cancel_msec)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  PairState s = { 0, };

  bleio_connection_pair_async (connection, TRUE, cancellable, paired_cb, &s);
  g_timeout_add (cancel_msec, cancel_cb, cancellable);
  assert_true (common_wait (pair_done, &s, 3000));
  assert_true (g_cancellable_is_cancelled (cancellable));
  assert_false (common_sim_bool (g->fx, path, "org.bluez.Device1", pending));
  assert_false (s.ok);
  assert_true (g_error_matches (s.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error (&s.error);
}

/* ServicesResolved is 20 s away: the cancel lands in the wait before Pair,
 * and Pair is never sent. */
static void
test_pair_cancel_while_waiting_for_services (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  BleioConnection *connection = common_add_and_connect (g, "00:CC:00:00:03:01",
    "{\"address\": \"00:CC:00:00:03:01\", \"name\": \"SlowResolve\","
    " \"connect\": {\"resolve_delay_ms\": 20000}, \"pairing\": {}}", &path);

  assert_true (sim_fixture_reset_calls (g->fx, &error));
  pair_and_cancel (g, connection, path, "ServicesResolved", 300);
  assert_int_equal (sim_fixture_count_calls (g->fx, "Pair"), 0);
  assert_false (common_sim_bool (g->fx, path, "org.bluez.Device1", "Paired"));
  common_disconnect_remove (g, connection, path);
}

/* The peer takes 5 s to pair: the cancel lands while Pair is pending, and
 * the library asks bluetoothd to cancel the pairing. */
static void
test_pair_cancel_while_pairing (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  BleioConnection *connection = common_add_and_connect (g, "00:CC:00:00:03:02",
    "{\"address\": \"00:CC:00:00:03:02\", \"name\": \"SlowPair\","
    " \"pairing\": {\"delay_ms\": 5000}}", &path);

  /* Let ServicesResolved come, so the cancel lands in Pair. */
  assert_true (sim_fixture_wait_property (g->fx, path, "org.bluez.Device1", "ServicesResolved",
                                          g_variant_new_boolean (TRUE), WAIT_MSEC));
  assert_true (sim_fixture_reset_calls (g->fx, &error));
  pair_and_cancel (g, connection, path, "Paired", 500);
  assert_int_equal (sim_fixture_count_calls (g->fx, "Pair"), 1);
  for (gint64 end = g_get_monotonic_time () + WAIT_MSEC * 1000;
       sim_fixture_count_calls (g->fx, "CancelPairing") < 1 && g_get_monotonic_time () < end;)
    g_usleep (10 * 1000);
  assert_int_equal (sim_fixture_count_calls (g->fx, "CancelPairing"), 1);
  common_disconnect_remove (g, connection, path);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_pair_cancel_while_waiting_for_services),
    cmocka_unit_test (test_pair_cancel_while_pairing),
  };

  return cmocka_run_group_tests (tests, common_group_setup, common_group_teardown);
}
