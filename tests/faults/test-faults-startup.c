/* SPDX-License-Identifier: MIT */
/*
 * bluetoothd leaves while the library is still loading its objects: the
 * first GetManagedObjects of a new connection is never answered and
 * org.bluez loses its owner. An application waiting for its adapter gets
 * an answer then (no adapter, BlueZ unavailable), not when a bluetoothd
 * next appears; once one does, the same connection works.
 *
 *   test-faults-startup SCENARIO
 */
#include "faults.h"

typedef struct {
  GAsyncResult *result;
} Waiting;

static void
adapter_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Waiting *w = user_data;

  w->result = g_object_ref (result);
}

static gboolean
answered (gpointer user_data)
{
  Waiting *w = user_data;

  return w->result != NULL;
}

static GDBusConnection *
new_connection (SimFixture *fx)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *bus =
    g_dbus_connection_new_for_address_sync (sim_fixture_get_address (fx),
                                            G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                            NULL, NULL, &error);

  assert_no_error (error);
  g_dbus_connection_set_exit_on_close (bus, FALSE);
  return bus;
}

static void
test_fault_bluez_leaves_during_first_load (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = new_connection (env->fx);
  g_autoptr(BleioAdapter) adapter = NULL;
  Waiting w = { NULL };

  /* The next GetManagedObjects (the new connection's first) is held. */
  assert_true (sim_fixture_reset_calls (env->fx, &error));
  assert_true (sim_fixture_no_reply_next (env->fx, "GetManagedObjects", 1, &error));
  assert_no_error (error);
  bleio_adapter_new_for_name_async (bus, "hci0", NULL, adapter_cb, &w);
  wait_calls (env, "GetManagedObjects", 1);
  common_wait (never, NULL, 300);
  assert_false (answered (&w));

  /* bluetoothd goes away for 3 s; the application hears within 1.5 s. */
  assert_true (sim_fixture_restart (env->fx, 3000, &error));
  assert_no_error (error);
  assert_true (common_wait (answered, &w, 1500));
  adapter = bleio_adapter_new_for_name_finish (w.result, &error);
  assert_null (adapter);
  assert_non_null (error);
  assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_BLUEZ_UNAVAILABLE) ||
               g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_NO_ADAPTER));
  g_clear_error (&error);
  g_clear_object (&w.result);

  /* bluetoothd is back: the same connection finds the adapter. */
  assert_true (common_wait (adapter_back, env->adapter, WAIT_MSEC));
  {
    gint64 end = g_get_monotonic_time () + (gint64) WAIT_MSEC * 1000;

    while (adapter == NULL && g_get_monotonic_time () < end)
      {
        g_clear_error (&error);
        adapter = bleio_adapter_new_for_name (bus, "hci0", NULL, &error);
        if (adapter == NULL)
          common_wait (never, NULL, 100);
      }
  }
  assert_no_error (error);
  assert_non_null (adapter);
  assert_true (bleio_adapter_get_enabled (adapter));
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_fault_bluez_leaves_during_first_load,
                                     faults_setup, faults_teardown),
  };

  faults_init (argc, argv);
  return cmocka_run_group_tests_name ("faults-startup", tests, NULL, NULL);
}
