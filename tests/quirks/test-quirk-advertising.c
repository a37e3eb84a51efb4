/* SPDX-License-Identifier: MIT */
/*
 * The advertising quirks of bluetoothd 5.66 (not numbered in DESIGN.md §3
 * yet), each reproduced against bleio-sim:
 *
 * - it keeps an advertisement registered after a central connected to
 *   it, where `_bleio` stops advertising: the library unregisters it;
 * - it keeps an advertisement registered while the adapter is off (and
 *   sends it again at power on), where `_bleio` stops: the same;
 * - it calls Release, without a reason, just before it removes an
 *   adapter: the application hears adapter-removed;
 * - as it shuts down it powers its adapters off before it leaves the bus:
 *   a restart, not a power-off, so the advertisement comes back.
 *
 * The fifth, MinInterval/MaxInterval/TxPower accepted and ignored without
 * bluetoothd's experimental flag, is test_quirk_interval_ignored_* in
 * tests/unit/test-ad-translate.c (the simulator runs as with -E).
 */
#include "advertising.h"

/* The demo's InterestingPeripheral plays the central in ConnectCentral. */
#define CENTRAL "00:AA:01:01:00:01"

static void
test_quirk_advertising_kept_after_connect (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  AdvInstancesWait none = { fx, HCI0, 0 };
  const char *device = NULL;
  AdvHeard h;

  adv_listen (adapter, &h);
  adv_start_ok (adapter, "02 01 06", NULL, TRUE, 0);
  reply = sim_fixture_call (fx, "ConnectCentral", g_variant_new ("(ss)", "hci0", CENTRAL), &error);
  assert_no_error (error);
  g_variant_get (reply, "(&o)", &device);
  assert_true (common_wait (adv_heard_end, &h, WAIT_MSEC));
  assert_int_equal (h.reason, BLEIO_ADVERTISING_END_REASON_CONNECTED);
  /* bluetoothd would still count it; the library took it back. */
  assert_true (common_wait (adv_instances_are, &none, WAIT_MSEC));
  assert_true (sim_fixture_drop_link (fx, device, "test over", &error));
  assert_no_error (error);
  adv_unlisten (adapter, &h);
}

static void
test_quirk_advertising_kept_while_powered_off (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  AdvInstancesWait none = { fx, HCI0, 0 };
  AdvHeard h;

  adv_listen (adapter, &h);
  adv_start_ok (adapter, "02 01 06", NULL, TRUE, 0);
  assert_true (bleio_adapter_set_enabled (adapter, FALSE, &error));
  assert_no_error (error);
  assert_true (common_wait (adv_heard_end, &h, WAIT_MSEC));
  assert_int_equal (h.reason, BLEIO_ADVERTISING_END_REASON_ADAPTER_OFF);
  assert_true (common_wait (adv_instances_are, &none, WAIT_MSEC));
  /* Powered on again, nothing comes back on the air by itself. */
  assert_true (bleio_adapter_set_enabled (adapter, TRUE, &error));
  assert_no_error (error);
  assert_int_equal (adv_active_instances (fx, HCI0), 0);
  assert_false (bleio_adapter_get_advertising (adapter));
  adv_unlisten (adapter, &h);
}

static void
test_quirk_release_before_adapter_removed (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) removed = NULL;
  g_autoptr(GVariant) added = NULL;
  AdvHeard h;

  adv_listen (adapter, &h);
  adv_start_ok (adapter, "02 01 06", NULL, TRUE, 0);
  removed = sim_fixture_call (fx, "RemoveAdapter", g_variant_new ("(s)", "hci0"), &error);
  assert_no_error (error);
  assert_true (common_wait (adv_heard_end, &h, WAIT_MSEC));
  assert_int_equal (h.reason, BLEIO_ADVERTISING_END_REASON_ADAPTER_REMOVED);
  added = sim_fixture_call (fx, "AddAdapter", g_variant_new ("(ss)", "hci0", "00:AA:01:00:00:00"),
                            &error);
  assert_no_error (error);
  assert_true (sim_fixture_wait_property (fx, HCI0, "org.bluez.Adapter1", "Powered",
                                          g_variant_new_boolean (TRUE), WAIT_MSEC));
  adv_unlisten (adapter, &h);
}

static void
test_quirk_power_off_before_exit (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  AdvInstancesWait one = { fx, HCI0, 1 };
  AdvHeard h;

  adv_listen (adapter, &h);
  adv_start_ok (adapter, "02 01 06", NULL, TRUE, 0);
  /* What systemctl restart bluetooth does: Powered false, then the
   * name goes. */
  assert_true (sim_fixture_set_property (fx, HCI0, "org.bluez.Adapter1", "Powered",
                                         g_variant_new_boolean (FALSE), &error));
  assert_no_error (error);
  assert_true (sim_fixture_restart (fx, 300, &error));
  assert_no_error (error);
  assert_true (common_wait (adv_heard_restored, &h, WAIT_MSEC));
  assert_int_equal (h.ended, 1);
  assert_int_equal (h.reason, BLEIO_ADVERTISING_END_REASON_BLUEZ_UNAVAILABLE);
  assert_true (bleio_adapter_get_advertising (adapter));
  assert_true (common_wait (adv_instances_are, &one, WAIT_MSEC));
  assert_true (bleio_adapter_stop_advertising (adapter, NULL));
  adv_unlisten (adapter, &h);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_quirk_advertising_kept_after_connect),
    cmocka_unit_test (test_quirk_advertising_kept_while_powered_off),
    cmocka_unit_test (test_quirk_release_before_adapter_removed),
    cmocka_unit_test (test_quirk_power_off_before_exit),
  };

  return cmocka_run_group_tests (tests, sim_fixture_group_setup, sim_fixture_group_teardown);
}
