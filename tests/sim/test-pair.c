/* SPDX-License-Identifier: MIT */
/* Pairing through libbleio's own Agent1 against bleio-sim: just works,
 * passkey confirmation, entry and display callbacks, rejected, cancelled and
 * timed-out pairing, bond=FALSE, already paired, erase_bonding. */
#include "central.h"

typedef CommonGroup Group;

/* Adds a peripheral with @pairing (a JSON object) and connects to it. */
static BleioConnection *
connect_new (Group      *g,
             const char *address,
             const char *pairing,
             char      **path_out)
{
  g_autofree char *json = g_strdup_printf ("{\"address\": \"%s\", \"name\": \"P%s\", \"pairing\": %s}",
                                           address, address + 12, pairing);

  return common_add_and_connect (g, address, json, path_out);
}

static void
test_pair_just_works (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  BleioConnection *connection = connect_new (g, "00:BB:00:00:03:01", "{}", &path);

  assert_false (bleio_connection_get_paired (connection, &error));
  assert_no_error (error);
  assert_true (bleio_connection_pair (connection, TRUE, &error));
  assert_no_error (error);
  assert_true (sim_fixture_wait_property (g->fx, path, "org.bluez.Device1", "Paired",
                                          g_variant_new_boolean (TRUE), WAIT_MSEC));
  assert_true (sim_fixture_wait_property (g->fx, path, "org.bluez.Device1", "Trusted",
                                          g_variant_new_boolean (TRUE), WAIT_MSEC));
  /* Our agent was registered on our connection for the call. */
  assert_true (sim_fixture_count_calls (g->fx, "RegisterAgent") >= 1);
  /* Pairing an already paired peer succeeds without asking BlueZ again. */
  assert_true (bleio_connection_pair (connection, TRUE, &error));
  assert_no_error (error);
  common_disconnect_remove (g, connection, path);
}

static void
test_pair_without_bond_not_supported (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  BleioConnection *connection = connect_new (g, "00:BB:00:00:03:02", "{}", &path);

  assert_false (bleio_connection_pair (connection, FALSE, &error));
  assert_bleio_error (error, BLEIO_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  assert_false (common_sim_bool (g->fx, path, "org.bluez.Device1", "Paired"));
  common_disconnect_remove (g, connection, path);
}

static void
pair_expect_security (Group      *g,
                      const char *address,
                      const char *pairing)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  BleioConnection *connection = connect_new (g, address, pairing, &path);

  assert_false (bleio_connection_pair (connection, TRUE, &error));
  assert_bleio_error (error, BLEIO_ERROR_SECURITY);
  g_clear_error (&error);
  assert_false (common_sim_bool (g->fx, path, "org.bluez.Device1", "Paired"));
  common_disconnect_remove (g, connection, path);
}

static void
test_pair_rejected (void **state)
{
  pair_expect_security (*state, "00:BB:00:00:03:03", "{\"outcome\": \"reject\"}");
}

static void
test_pair_cancelled (void **state)
{
  pair_expect_security (*state, "00:BB:00:00:03:04", "{\"outcome\": \"cancel\"}");
}

static void
test_pair_timed_out (void **state)
{
  pair_expect_security (*state, "00:BB:00:00:03:05",
                        "{\"outcome\": \"timeout\", \"agent_timeout_ms\": 300}");
}

static void
test_pair_failed_by_bluez (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;

  assert_true (sim_fixture_fail_next (g->fx, "Pair", "org.bluez.Error.AuthenticationRejected",
                                      "Authentication Rejected", 1, &error));
  pair_expect_security (g, "00:BB:00:00:03:06", "{}");
}

typedef PairCallbacks Callbacks;

static void
test_pair_confirmation_callback (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  Callbacks c = { 0, };
  char *path = NULL;
  BleioConnection *connection;

  bleio_adapter_set_pairing_callbacks (g->adapter, common_on_display, NULL,
                                       common_on_confirm, &c, NULL);
  connection = connect_new (g, "00:BB:00:00:03:07",
                            "{\"method\": \"confirmation\", \"passkey\": 654321}", &path);
  /* Blocking pair in this thread, with no main loop running here: the
   * agent answers from libbleio's worker thread. */
  assert_true (bleio_connection_pair (connection, TRUE, &error));
  assert_no_error (error);
  assert_int_equal (c.confirm_calls, 1);
  assert_int_equal (c.passkey_seen, 654321);
  assert_ptr_not_equal (c.thread, g_thread_self ());
  common_disconnect_remove (g, connection, path);

  /* Saying no fails the pairing. */
  c.refuse = TRUE;
  connection = connect_new (g, "00:BB:00:00:03:08",
                            "{\"method\": \"confirmation\", \"passkey\": 111111}", &path);
  assert_false (bleio_connection_pair (connection, TRUE, &error));
  assert_bleio_error (error, BLEIO_ERROR_SECURITY);
  g_clear_error (&error);
  assert_int_equal (c.confirm_calls, 2);
  common_disconnect_remove (g, connection, path);
  bleio_adapter_set_pairing_callbacks (g->adapter, NULL, NULL, NULL, NULL, NULL);
}

static void
test_pair_passkey_entry_callback (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  Callbacks c = { 0, };
  char *path = NULL;
  BleioConnection *connection;

  c.passkey_to_give = 24680;
  bleio_adapter_set_pairing_callbacks (g->adapter, common_on_display, common_on_request,
                                       NULL, &c, NULL);
  connection = connect_new (g, "00:BB:00:00:03:09",
                            "{\"method\": \"passkey-entry\", \"passkey\": 24680}", &path);
  assert_true (bleio_connection_pair (connection, TRUE, &error));
  assert_no_error (error);
  assert_int_equal (c.request_calls, 1);
  common_disconnect_remove (g, connection, path);

  /* The wrong passkey fails. */
  c.passkey_to_give = 13579;
  connection = connect_new (g, "00:BB:00:00:03:0A",
                            "{\"method\": \"passkey-entry\", \"passkey\": 24680}", &path);
  assert_false (bleio_connection_pair (connection, TRUE, &error));
  assert_bleio_error (error, BLEIO_ERROR_SECURITY);
  g_clear_error (&error);
  common_disconnect_remove (g, connection, path);
  bleio_adapter_set_pairing_callbacks (g->adapter, NULL, NULL, NULL, NULL, NULL);
}

static void
test_pair_display_callback (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  Callbacks c = { 0, };
  char *path = NULL;
  BleioConnection *connection;

  bleio_adapter_set_pairing_callbacks (g->adapter, common_on_display, NULL, NULL, &c, NULL);
  connection = connect_new (g, "00:BB:00:00:03:0B",
                            "{\"method\": \"display-passkey\", \"passkey\": 97531}", &path);
  assert_true (bleio_connection_pair (connection, TRUE, &error));
  assert_no_error (error);
  assert_int_equal (c.display_calls, 1);
  assert_int_equal (c.passkey_seen, 97531);
  common_disconnect_remove (g, connection, path);
  bleio_adapter_set_pairing_callbacks (g->adapter, NULL, NULL, NULL, NULL, NULL);
}

typedef struct {
  gboolean done;
  gboolean ok;
  GError *error;
  GThread *thread;
} PairState;

static void
paired_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  PairState *s = user_data;

  s->ok = bleio_connection_pair_finish (BLEIO_CONNECTION (source), result, &s->error);
  s->thread = g_thread_self ();
  s->done = TRUE;
}

static gboolean
pair_done (gpointer user_data)
{
  return ((PairState *) user_data)->done;
}

static void
test_pair_async (void **state)
{
  Group *g = *state;
  PairState s = { 0, };
  char *path = NULL;
  BleioConnection *connection = connect_new (g, "00:BB:00:00:03:0C", "{\"delay_ms\": 200}", &path);

  bleio_connection_pair_async (connection, TRUE, NULL, paired_cb, &s);
  assert_true (common_wait (pair_done, &s, WAIT_MSEC));
  assert_no_error (s.error);
  assert_true (s.ok);
  assert_ptr_equal (s.thread, g_thread_self ());
  common_disconnect_remove (g, connection, path);
}

static void
test_erase_bonding (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  BleioConnection *connection = connect_new (g, "00:BB:00:00:03:0D", "{}", &path);
  g_autoptr(GVariant) after = NULL;

  assert_true (bleio_connection_pair (connection, TRUE, &error));
  assert_no_error (error);
  assert_true (sim_fixture_wait_property (g->fx, path, "org.bluez.Device1", "Paired",
                                          g_variant_new_boolean (TRUE), WAIT_MSEC));
  assert_true (sim_fixture_reset_calls (g->fx, &error));
  assert_true (bleio_adapter_erase_bonding (g->adapter, &error));
  assert_no_error (error);
  assert_true (sim_fixture_count_calls (g->fx, "RemoveDevice") >= 1);
  /* The bonded device is gone from BlueZ. */
  after = sim_fixture_get_property (g->fx, path, "org.bluez.Device1", "Paired");
  assert_true (after == NULL || !g_variant_get_boolean (after));
  g_object_unref (connection);
  g_free (path);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_pair_just_works),
    cmocka_unit_test (test_pair_without_bond_not_supported),
    cmocka_unit_test (test_pair_rejected),
    cmocka_unit_test (test_pair_cancelled),
    cmocka_unit_test (test_pair_timed_out),
    cmocka_unit_test (test_pair_failed_by_bluez),
    cmocka_unit_test (test_pair_confirmation_callback),
    cmocka_unit_test (test_pair_passkey_entry_callback),
    cmocka_unit_test (test_pair_display_callback),
    cmocka_unit_test (test_pair_async),
    cmocka_unit_test (test_erase_bonding),
  };

  return cmocka_run_group_tests (tests, common_group_setup, common_group_teardown);
}
