/* SPDX-License-Identifier: MIT */
/*
 * A connect abandoned (timeout) while Adapter1.ConnectDevice runs, before
 * BlueZ has a Device1 object to disconnect: the link that attempt still
 * makes is undone when it comes up, but a link another program makes to
 * the same address afterwards is left alone.
 *
 *   test-faults-late-undo SCENARIO
 */
#include "faults.h"

#define LATE_FAIL_ADDRESS "00:AA:03:00:00:03"
#define LATE_FAIL_PATH "/org/bluez/hci0/dev_00_AA_03_00_00_03"
#define LATE_OK_ADDRESS "00:AA:03:00:00:04"
#define LATE_OK_PATH "/org/bluez/hci0/dev_00_AA_03_00_00_04"

/* Our connect gives up after 1 s; the peer answers ConnectDevice 2.5 s
 * after it was asked. */
static void
abandon_connect (Env        *env,
                 const char *address_text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAddress) address = common_address (address_text);
  g_autoptr(BleioConnection) connection = NULL;

  assert_true (sim_fixture_reset_calls (env->fx, &error));
  connection = bleio_adapter_connect (env->adapter, address, 1, NULL, &error);
  assert_null (connection);
  assert_bleio_error (error, BLEIO_ERROR_TIMEOUT);
  assert_int_equal (sim_fixture_count_calls (env->fx, "ConnectDevice"), 1);
}

typedef struct {
  SimFixture *fx;
  const char *path;
} DeviceWait;

static gboolean
undone (gpointer user_data)
{
  DeviceWait *w = user_data;

  return sim_fixture_count_calls (w->fx, "Disconnect") >= 1 &&
         !common_sim_bool (w->fx, w->path, "org.bluez.Device1", "Connected");
}

static void
test_fault_late_link_of_abandoned_connect_undone (void **state)
{
  Env *env = *state;
  DeviceWait w = { env->fx, LATE_OK_PATH };

  abandon_connect (env, LATE_OK_ADDRESS);
  /* The link comes up 1.5 s later: it is ours, nobody wants it. */
  assert_true (common_wait (undone, &w, 2 * WAIT_MSEC));
  assert_fault_peer_recovered (env);
}

static void
test_fault_abandoned_connect_spares_other_programs_link (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  LinkWait lw = { env->adapter, LATE_FAIL_PATH, NULL };
  gint64 end;

  abandon_connect (env, LATE_FAIL_ADDRESS);
  /* Our attempt fails at bluetoothd 1.5 s later (the first attempt to
   * LateFail fails). */
  common_wait (never, NULL, 2000);
  /* Another program (the fixture's own calls) discovers the peer and
   * connects it with Device1.Connect, once our attempt is over. */
  path = sim_fixture_find_device (env->fx, HCI0, "LateFail", &error);
  assert_no_error (error);
  assert_string_equal (path, LATE_FAIL_PATH);
  assert_true (sim_fixture_reset_calls (env->fx, &error));
  end = g_get_monotonic_time () + (gint64) WAIT_MSEC * 1000;
  while (!sim_fixture_connect_device (env->fx, path, &error) &&
         g_dbus_error_is_remote_error (error) && g_get_monotonic_time () < end)
    {
      g_autofree char *name = g_dbus_error_get_remote_error (error);

      if (!g_str_equal (name, "org.bluez.Error.InProgress"))
        break;
      g_clear_error (&error);
      common_wait (never, NULL, 100);
    }
  assert_no_error (error);
  /* The library sees the link (and would have undone it by now)... */
  assert_true (common_wait (link_listed, &lw, WAIT_MSEC));
  common_wait (never, NULL, 500);
  /* ...and left it alone. */
  assert_int_equal (sim_fixture_count_calls (env->fx, "Disconnect"), 0);
  assert_true (common_sim_bool (env->fx, path, "org.bluez.Device1", "Connected"));
  g_clear_object (&lw.found);
  assert_true (sim_fixture_drop_link (env->fx, path, "test over", &error));
  assert_no_error (error);
  assert_fault_peer_recovered (env);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_fault_late_link_of_abandoned_connect_undone,
                                     faults_setup, faults_teardown),
    cmocka_unit_test_setup_teardown (test_fault_abandoned_connect_spares_other_programs_link,
                                     faults_setup, faults_teardown),
  };

  faults_init (argc, argv);
  return cmocka_run_group_tests_name ("faults-late-undo", tests, NULL, NULL);
}
