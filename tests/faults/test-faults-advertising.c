/* SPDX-License-Identifier: MIT */
/*
 * Faults while advertising (issue 16 item 13): bluetoothd restarted and
 * killed (the advertisement is registered again by the library, which
 * says so), and the adapter removed (bluetoothd releases the
 * advertisement, then removes the adapter: the application hears
 * adapter-removed, and nothing comes back by itself).
 *
 *   test-faults-advertising SCENARIO
 */
#include "faults.h"
#include "advertising.h"

#define DATA "02 01 06 03 03 0f 18 05 ff 59 00 01 02"

static void
assert_restored (Env      *env,
                 AdvHeard *h)
{
  AdvInstancesWait w = { env->fx, HCI0, 1 };

  assert_true (common_wait (adv_heard_end, h, WAIT_MSEC));
  assert_int_equal (h->reason, BLEIO_ADVERTISING_END_REASON_BLUEZ_UNAVAILABLE);
  assert_true (common_wait (adv_heard_restored, h, WAIT_MSEC));
  assert_int_equal (h->ended, 1);
  assert_int_equal (h->restored, 1);
  assert_true (h->advertising_at_restore);
  assert_true (bleio_adapter_get_advertising (env->adapter));
  /* The new bluetoothd holds it: one registration, ours. */
  assert_true (common_wait (adv_instances_are, &w, WAIT_MSEC));
  /* And it is the application's to stop, as before. */
  assert_true (bleio_adapter_stop_advertising (env->adapter, NULL));
  w.expected = 0;
  assert_true (common_wait (adv_instances_are, &w, WAIT_MSEC));
}

static void
test_fault_advertising_restart (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  AdvHeard h;

  adv_listen (env->adapter, &h);
  adv_start_ok (env->adapter, DATA, NULL, TRUE, 0);
  assert_true (sim_fixture_restart (env->fx, RESTART_DOWN_MSEC, &error));
  assert_no_error (error);
  assert_restored (env, &h);
  adv_unlisten (env->adapter, &h);
}

static void
test_fault_advertising_crash (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  AdvHeard h;

  adv_listen (env->adapter, &h);
  adv_start_ok (env->adapter, DATA, NULL, TRUE, 0);
  assert_true (sim_fixture_crash (env->fx, &error));
  assert_no_error (error);
  assert_restored (env, &h);
  adv_unlisten (env->adapter, &h);
}

/* Stopped while bluetoothd is away: nothing is registered when it comes
 * back. */
static void
test_fault_advertising_stopped_while_away (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  AdvInstancesWait w = { env->fx, HCI0, 0 };
  AdvHeard h;

  adv_listen (env->adapter, &h);
  adv_start_ok (env->adapter, DATA, NULL, TRUE, 0);
  assert_true (sim_fixture_restart (env->fx, 1500, &error));
  assert_no_error (error);
  assert_true (common_wait (adv_heard_end, &h, WAIT_MSEC));
  assert_true (bleio_adapter_stop_advertising (env->adapter, &error));
  assert_no_error (error);
  assert_true (sim_fixture_reset_calls (env->fx, NULL));
  /* Back, with the adapter's manager: nothing was registered. */
  assert_true (common_wait (adv_instances_are, &w, WAIT_MSEC));
  assert_true (sim_fixture_wait_property (env->fx, HCI0, "org.bluez.Adapter1", "Powered",
                                          g_variant_new_boolean (TRUE), WAIT_MSEC));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  assert_int_equal (h.restored, 0);
  assert_int_equal (sim_fixture_count_calls (env->fx, "RegisterAdvertisement"), 0);
  assert_false (bleio_adapter_get_advertising (env->adapter));
  adv_unlisten (env->adapter, &h);
}

/* bluetoothd 5.66 calls Release on each advertisement of an adapter it
 * removes, then removes the adapter. */
static void
test_fault_advertising_adapter_removed (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  AdvHeard h;

  adv_listen (env->adapter, &h);
  adv_start_ok (env->adapter, DATA, NULL, TRUE, 0);
  reply = sim_fixture_call (env->fx, "RemoveAdapter", g_variant_new ("(s)", "hci0"), &error);
  assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  assert_true (common_wait (adv_heard_end, &h, WAIT_MSEC));
  assert_int_equal (h.reason, BLEIO_ADVERTISING_END_REASON_ADAPTER_REMOVED);
  assert_false (bleio_adapter_get_advertising (env->adapter));

  /* Plugged in again: not advertising until asked, then it works. */
  reply = sim_fixture_call (env->fx, "AddAdapter",
                            g_variant_new ("(ss)", "hci0", "00:AA:01:00:00:00"), &error);
  assert_no_error (error);
  assert_true (sim_fixture_wait_property (env->fx, HCI0, "org.bluez.Adapter1", "Powered",
                                          g_variant_new_boolean (TRUE), WAIT_MSEC));
  assert_int_equal (adv_active_instances (env->fx, HCI0), 0);
  assert_int_equal (h.ended, 1);
  assert_int_equal (h.restored, 0);
  adv_start_ok (env->adapter, DATA, NULL, TRUE, 0);
  assert_true (bleio_adapter_stop_advertising (env->adapter, NULL));
  adv_unlisten (env->adapter, &h);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_fault_advertising_restart, faults_setup,
                                     faults_teardown),
    cmocka_unit_test_setup_teardown (test_fault_advertising_crash, faults_setup,
                                     faults_teardown),
    cmocka_unit_test_setup_teardown (test_fault_advertising_stopped_while_away, faults_setup,
                                     faults_teardown),
    cmocka_unit_test_setup_teardown (test_fault_advertising_adapter_removed, faults_setup,
                                     faults_teardown),
  };

  faults_init (argc, argv);
  return cmocka_run_group_tests_name ("faults-advertising", tests, NULL, NULL);
}
