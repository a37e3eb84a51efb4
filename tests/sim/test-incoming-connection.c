/* SPDX-License-Identifier: MIT */
/* BleioAdapter::incoming-connection (issue 16 item 2): a link that comes
 * up under the adapter without one of its own connect attempts is handed
 * over once, as the same object bleio_adapter_dup_connections() lists; a
 * link the adapter opened itself is not reported. Here "another program"
 * (the fixture's own bus connection) opens the link, which BlueZ cannot
 * tell apart from a central connecting to us. */
#include "central.h"

typedef CommonGroup Group;

typedef struct {
  GPtrArray *seen;   /* BleioConnection*, in signal order */
} Incoming;

static void
on_incoming (BleioAdapter    *adapter,
             BleioConnection *connection,
             gpointer         user_data)
{
  Incoming *in = user_data;

  (void) adapter;
  g_ptr_array_add (in->seen, g_object_ref (connection));
}

static gboolean
one_seen (gpointer user_data)
{
  Incoming *in = user_data;

  return in->seen->len >= 1;
}

static void
test_link_made_elsewhere_is_handed_over (void **state)
{
  Group *g = *state;
  Incoming in = { g_ptr_array_new_with_free_func (g_object_unref) };
  gulong id = g_signal_connect (g->adapter, "incoming-connection", G_CALLBACK (on_incoming), &in);
  char *path = NULL;
  BleioConnection *listed = common_link_made_elsewhere (g->fx, g->adapter, "00:CC:00:00:16:01",
                                                        "\"gatt\": []", &path);

  assert_true (common_wait (one_seen, &in, WAIT_MSEC));
  assert_int_equal (in.seen->len, 1);
  /* The same object for the link, whichever way it was found. */
  assert_ptr_equal (g_ptr_array_index (in.seen, 0), listed);
  assert_true (bleio_connection_get_connected (listed));
  g_signal_handler_disconnect (g->adapter, id);
  g_ptr_array_unref (in.seen);
  common_disconnect_remove (g, listed, path);
}

static void
test_own_connect_not_reported (void **state)
{
  Group *g = *state;
  Incoming in = { g_ptr_array_new_with_free_func (g_object_unref) };
  gulong id = g_signal_connect (g->adapter, "incoming-connection", G_CALLBACK (on_incoming), &in);
  char *own_path = NULL;
  char *other_path = NULL;
  BleioConnection *own = common_add_and_connect (g, "00:CC:00:00:16:02",
    "{\"address\": \"00:CC:00:00:16:02\", \"name\": \"Own\", \"advertising_interval_ms\": 100}",
    &own_path);
  BleioConnection *other = NULL;

  /* A link made elsewhere after ours: its signal comes after any our own
   * link could have caused, so one signal, for it, shows ours made none. */
  other = common_link_made_elsewhere (g->fx, g->adapter, "00:CC:00:00:16:03",
                                      "\"gatt\": []", &other_path);
  assert_true (common_wait (one_seen, &in, WAIT_MSEC));
  assert_int_equal (in.seen->len, 1);
  assert_ptr_equal (g_ptr_array_index (in.seen, 0), other);
  assert_ptr_not_equal (g_ptr_array_index (in.seen, 0), own);
  g_signal_handler_disconnect (g->adapter, id);
  g_ptr_array_unref (in.seen);
  common_disconnect_remove (g, other, other_path);
  common_disconnect_remove (g, own, own_path);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_link_made_elsewhere_is_handed_over),
    cmocka_unit_test (test_own_connect_not_reported),
  };

  return cmocka_run_group_tests (tests, common_group_setup, common_group_teardown);
}
