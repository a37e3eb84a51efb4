/* SPDX-License-Identifier: MIT */
/* Advertising (issue 16) against bleio-sim's LEAdvertisingManager1 on the
 * demo scenario: start and stop, what bluetoothd is given, the errors
 * before and from RegisterAdvertisement, and every way an advertisement
 * ends (stop, timeout, a central connecting, power off), each told by
 * BleioAdapter::advertising-ended and the advertising property. */
#include "advertising.h"

/* The demo's InterestingPeripheral plays the central in ConnectCentral. */
#define CENTRAL "00:AA:01:01:00:01"

static guint8
active_instances (SimFixture *fx)
{
  int n = adv_active_instances (fx, HCI0);

  assert_true (n >= 0);
  return (guint8) n;
}

static void
test_advertising_start_stop (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  gboolean advertising = TRUE;
  AdvHeard h;

  adv_listen (adapter, &h);
  assert_false (bleio_adapter_get_advertising (adapter));
  assert_int_equal (active_instances (fx), 0);
  assert_true (sim_fixture_reset_calls (fx, NULL));

  adv_start_ok (adapter, "02 01 06 03 03 0f 18 05 ff 59 00 01 02", "09 09 42 6c 65 69 6f 41 64 76",
            TRUE, 0);
  assert_int_equal (sim_fixture_count_calls (fx, "RegisterAdvertisement"), 1);
  assert_int_equal (active_instances (fx), 1);
  /* The property notification comes in the adapter's context, queued
   * before the start returned. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  assert_int_equal (h.notified, 1);
  assert_int_equal (h.ended, 0);
  g_object_get (adapter, "advertising", &advertising, NULL);
  assert_true (advertising);

  assert_true (bleio_adapter_stop_advertising (adapter, &error));
  assert_no_error (error);
  assert_false (bleio_adapter_get_advertising (adapter));
  assert_int_equal (sim_fixture_count_calls (fx, "UnregisterAdvertisement"), 1);
  assert_int_equal (active_instances (fx), 0);
  assert_true (common_wait (adv_heard_end, &h, WAIT_MSEC));
  assert_int_equal (h.ended, 1);
  assert_int_equal (h.reason, BLEIO_ADVERTISING_END_REASON_STOPPED);
  assert_false (h.advertising_at_end);
  assert_ptr_equal (h.thread, g_thread_self ());
  assert_int_equal (h.notified, 2);

  /* Stopping again, when nothing runs, succeeds and says nothing. */
  assert_true (bleio_adapter_stop_advertising (adapter, &error));
  assert_no_error (error);
  assert_int_equal (sim_fixture_count_calls (fx, "UnregisterAdvertisement"), 1);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  assert_int_equal (h.ended, 1);
  adv_unlisten (adapter, &h);
}

static void
test_advertising_already (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) d = adv_bytes ("02 01 06");

  adv_start_ok (adapter, "02 01 06", NULL, TRUE, 0);
  assert_false (bleio_adapter_start_advertising (adapter, d, NULL, TRUE, FALSE, 0, 0, 0, NULL,
                                                 NULL, &error));
  assert_bleio_error (error, BLEIO_ERROR_ALREADY_EXISTS);
  assert_string_equal (error->message, "Already advertising");
  /* The first one is untouched. */
  assert_true (bleio_adapter_get_advertising (adapter));
  assert_int_equal (active_instances (fx), 1);
  assert_true (bleio_adapter_stop_advertising (adapter, NULL));
  assert_int_equal (active_instances (fx), 0);
}

/* Bad bytes and settings BlueZ cannot honour never reach bluetoothd. */
static void
test_advertising_refused_before_bluez (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(BleioAddress) peer = common_address (CENTRAL);
  static const struct {
    const char *data;
    int code;
    const char *part;
  } cases[] = {
    { "02 01 06 05 09 41", BLEIO_ERROR_INVALID_ARGUMENT, "AD structure 1 of data" },
    { "02 01 06 00", BLEIO_ERROR_INVALID_ARGUMENT, "length byte is 0" },
    { "02 01 06 02 0d 00", BLEIO_ERROR_NOT_SUPPORTED, "(type 0x0d)" },
    { "1f ff 59 00 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b",
      BLEIO_ERROR_NOT_SUPPORTED, "SupportedSecondaryChannels" },
  };

  assert_true (sim_fixture_reset_calls (fx, NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) d = adv_bytes (cases[i].data);

      assert_false (bleio_adapter_start_advertising (adapter, d, NULL, TRUE, FALSE, 0, 0, 0,
                                                     NULL, NULL, &error));
      assert_bleio_error (error, cases[i].code);
      assert_non_null (strstr (error->message, cases[i].part));
    }
  {
    g_autoptr(GError) error = NULL;

    assert_false (bleio_adapter_start_advertising (adapter, NULL, NULL, TRUE, TRUE, 0, 0, 0,
                                                   NULL, NULL, &error));
    assert_bleio_error (error, BLEIO_ERROR_NOT_SUPPORTED);
    g_clear_error (&error);
    assert_false (bleio_adapter_start_advertising (adapter, NULL, NULL, TRUE, FALSE, 0, 0, 0,
                                                   peer, NULL, &error));
    assert_bleio_error (error, BLEIO_ERROR_NOT_SUPPORTED);
  }
  assert_int_equal (sim_fixture_count_calls (fx, "RegisterAdvertisement"), 0);
  assert_false (bleio_adapter_get_advertising (adapter));
}

/* The simulator's bluetoothd runs with -E, as the e2e guest's: an
 * interval reaches it as MinInterval/MaxInterval and is accepted. */
static void
test_advertising_interval_experimental (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) d = adv_bytes ("02 01 06");

  assert_true (bleio_adapter_start_advertising (adapter, d, NULL, TRUE, FALSE, 0, 0.1, 0, NULL,
                                                NULL, &error));
  assert_no_error (error);
  assert_true (bleio_adapter_stop_advertising (adapter, NULL));
  /* It reports no TX power range, so a TX power cannot be honoured. */
  assert_false (bleio_adapter_start_advertising (adapter, d, NULL, TRUE, FALSE, 0, 0, 4, NULL,
                                                 NULL, &error));
  assert_bleio_error (error, BLEIO_ERROR_NOT_SUPPORTED);
  assert_non_null (strstr (error->message, "TxPower"));
}

static void
test_advertising_timeout (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  AdvInstancesWait w = { fx, HCI0, 0 };
  AdvHeard h;

  adv_listen (adapter, &h);
  adv_start_ok (adapter, "02 01 06", NULL, TRUE, 1);
  /* bluetoothd calls Release when its Timeout passes. */
  assert_true (common_wait (adv_heard_end, &h, WAIT_MSEC));
  assert_int_equal (h.reason, BLEIO_ADVERTISING_END_REASON_TIMEOUT);
  assert_false (bleio_adapter_get_advertising (adapter));
  assert_true (common_wait (adv_instances_are, &w, WAIT_MSEC));
  /* A new one starts at once. */
  adv_start_ok (adapter, "02 01 06", NULL, TRUE, 0);
  assert_true (bleio_adapter_stop_advertising (adapter, NULL));
  adv_unlisten (adapter, &h);
}

static void
test_advertising_power_off (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) d = adv_bytes ("02 01 06");
  AdvInstancesWait w = { fx, HCI0, 0 };
  AdvHeard h;

  adv_listen (adapter, &h);
  adv_start_ok (adapter, "02 01 06", NULL, TRUE, 0);
  assert_true (bleio_adapter_set_enabled (adapter, FALSE, &error));
  assert_no_error (error);
  assert_true (common_wait (adv_heard_end, &h, WAIT_MSEC));
  assert_int_equal (h.reason, BLEIO_ADVERTISING_END_REASON_ADAPTER_OFF);
  /* bluetoothd 5.66 would keep it registered; the library unregistered. */
  assert_true (common_wait (adv_instances_are, &w, WAIT_MSEC));

  assert_false (bleio_adapter_start_advertising (adapter, d, NULL, TRUE, FALSE, 0, 0, 0, NULL,
                                                 NULL, &error));
  assert_bleio_error (error, BLEIO_ERROR_NOT_READY);
  g_clear_error (&error);
  assert_true (bleio_adapter_set_enabled (adapter, TRUE, &error));
  assert_no_error (error);
  adv_unlisten (adapter, &h);
}

static void
test_advertising_central_connects (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  const char *device = NULL;
  AdvInstancesWait w = { fx, HCI0, 0 };
  AdvHeard h;

  adv_listen (adapter, &h);
  adv_start_ok (adapter, "02 01 06 03 03 0f 18", NULL, TRUE, 0);
  reply = sim_fixture_call (fx, "ConnectCentral", g_variant_new ("(ss)", "hci0", CENTRAL), &error);
  assert_no_error (error);
  g_variant_get (reply, "(&o)", &device);
  assert_true (common_wait (adv_heard_end, &h, WAIT_MSEC));
  assert_int_equal (h.reason, BLEIO_ADVERTISING_END_REASON_CONNECTED);
  assert_false (bleio_adapter_get_advertising (adapter));
  assert_true (common_wait (adv_instances_are, &w, WAIT_MSEC));
  assert_true (sim_fixture_drop_link (fx, device, "test over", &error));
  assert_no_error (error);
  adv_unlisten (adapter, &h);
}

/* A broadcast is not ended by a link: nobody can connect to it. */
static void
test_advertising_broadcast (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  AdvHeard h;

  adv_listen (adapter, &h);
  adv_start_ok (adapter, "05 ff 59 00 01 02", NULL, FALSE, 0);
  /* The simulator's central cannot connect to a broadcaster. */
  reply = sim_fixture_call (fx, "ConnectCentral", g_variant_new ("(ss)", "hci0", CENTRAL), &error);
  assert_null (reply);
  assert_non_null (error);
  g_clear_error (&error);
  assert_true (bleio_adapter_get_advertising (adapter));
  assert_true (bleio_adapter_stop_advertising (adapter, NULL));
  assert_true (common_wait (adv_heard_end, &h, WAIT_MSEC));
  assert_int_equal (h.reason, BLEIO_ADVERTISING_END_REASON_STOPPED);
  adv_unlisten (adapter, &h);
}

typedef struct {
  GMainLoop *loop;
  gboolean ok;
  GError *error;
} Done;

static void
started_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Done *d = user_data;

  d->ok = bleio_adapter_start_advertising_finish (BLEIO_ADAPTER (source), result, &d->error);
  g_main_loop_quit (d->loop);
}

static void
stopped_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Done *d = user_data;

  d->ok = bleio_adapter_stop_advertising_finish (BLEIO_ADAPTER (source), result, &d->error);
  g_main_loop_quit (d->loop);
}

static void
test_advertising_async (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GBytes) d = adv_bytes ("02 01 06 03 19 c1 03");
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Done done = { loop, FALSE, NULL };

  bleio_adapter_start_advertising_async (adapter, d, NULL, TRUE, FALSE, 0, 0, 0, NULL, NULL,
                                         started_cb, &done);
  g_main_loop_run (loop);
  assert_no_error (done.error);
  assert_true (done.ok);
  assert_true (bleio_adapter_get_advertising (adapter));
  done.ok = FALSE;
  bleio_adapter_stop_advertising_async (adapter, NULL, stopped_cb, &done);
  g_main_loop_run (loop);
  assert_no_error (done.error);
  assert_true (done.ok);
  assert_false (bleio_adapter_get_advertising (adapter));
}

typedef struct {
  BleioAdapter *adapter;
  gboolean started;
  gboolean stopped;
  GError *error;
} FromThread;

static gpointer
start_stop_thread (gpointer data)
{
  FromThread *t = data;
  g_autoptr(GBytes) d = adv_bytes ("02 01 06");

  t->started = bleio_adapter_start_advertising (t->adapter, d, NULL, TRUE, FALSE, 0, 0, 0,
                                                NULL, NULL, &t->error);
  if (t->started)
    t->stopped = bleio_adapter_stop_advertising (t->adapter, &t->error);
  return NULL;
}

/* The blocking calls from another thread while this one runs its loop:
 * they iterate their own context, and the signals come here, where the
 * adapter was made. */
static void
test_advertising_other_thread (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  FromThread t = { adapter, FALSE, FALSE, NULL };
  GThread *thread;
  AdvHeard h;

  adv_listen (adapter, &h);
  thread = g_thread_new ("advertiser", start_stop_thread, &t);
  g_thread_join (thread);
  assert_no_error (t.error);
  assert_true (t.started);
  assert_true (t.stopped);
  assert_true (common_wait (adv_heard_end, &h, WAIT_MSEC));
  assert_int_equal (h.reason, BLEIO_ADVERTISING_END_REASON_STOPPED);
  assert_ptr_equal (h.thread, g_thread_self ());
  assert_int_equal (h.notified, 2);
  adv_unlisten (adapter, &h);
}

/* The program lets go of the adapter while advertising: bluetoothd must
 * not keep an advertisement nobody serves. */
static void
test_advertising_unregistered_on_finalize (void **state)
{
  SimFixture *fx = *state;
  AdvInstancesWait w = { fx, HCI0, 0 };

  {
    g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");

    adv_start_ok (adapter, "02 01 06", NULL, TRUE, 0);
    assert_int_equal (active_instances (fx), 1);
  }
  assert_true (common_wait (adv_instances_are, &w, WAIT_MSEC));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_advertising_start_stop),
    cmocka_unit_test (test_advertising_already),
    cmocka_unit_test (test_advertising_refused_before_bluez),
    cmocka_unit_test (test_advertising_interval_experimental),
    cmocka_unit_test (test_advertising_timeout),
    cmocka_unit_test (test_advertising_power_off),
    cmocka_unit_test (test_advertising_central_connects),
    cmocka_unit_test (test_advertising_broadcast),
    cmocka_unit_test (test_advertising_async),
    cmocka_unit_test (test_advertising_other_thread),
    cmocka_unit_test (test_advertising_unregistered_on_finalize),
  };

  return cmocka_run_group_tests (tests, sim_fixture_group_setup, sim_fixture_group_teardown);
}
