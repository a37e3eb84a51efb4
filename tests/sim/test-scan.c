/* SPDX-License-Identifier: MIT */
/* Scanning against bleio-sim: entries through next() and the signal,
 * prefixes, minimum RSSI, buffer bounds, timeout, a shared discovery, a
 * second scan refused, repeated advertisements, adapter removed. */
#include "central.h"

static BleioScanEntry *
next_named (BleioScanResults *results,
            const char       *name,
            guint             msec)
{
  gint64 end = g_get_monotonic_time () + (gint64) msec * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, 0.1, &error);
      g_autofree char *entry_name = NULL;

      if (entry == NULL)
        {
          if (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_TIMEOUT))
            continue;
          assert_no_error (error);
          return NULL;
        }
      entry_name = bleio_scan_entry_dup_complete_name (entry);
      if (g_strcmp0 (entry_name, name) == 0)
        return g_steal_pointer (&entry);
    }
  return NULL;
}

static void
test_scan_finds_demo_peripheral (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(BleioScanEntry) entry = NULL;
  g_autoptr(BleioScanEntry) after = NULL;
  GBytes *bytes;
  gsize len = 0;
  const guint8 *data;

  results = bleio_adapter_start_scan (adapter, NULL, 4096, FALSE, 0, 0.1, 0.1, -127, TRUE, &error);
  assert_no_error (error);
  assert_non_null (results);
  assert_true (common_sim_bool (fx, HCI0, "org.bluez.Adapter1", "Discovering"));

  entry = next_named (results, DEMO_NAME, WAIT_MSEC);
  assert_non_null (entry);
  assert_true (bleio_scan_entry_get_connectable (entry));
  assert_false (bleio_scan_entry_get_scan_response (entry));
  assert_true (bleio_scan_entry_get_rssi (entry) <= 20);
  assert_true (bleio_scan_entry_get_rssi (entry) >= -127);
  bytes = bleio_scan_entry_get_advertisement_bytes (entry);
  data = g_bytes_get_data (bytes, &len);
  assert_true (bleio_ad_validate (data, len, NULL));
  /* The rebuilt advertisement carries the complete name. */
  assert_true (bleio_scan_entry_matches (entry, (const guint8 []) { 0x02, 0x09, 'I' }, 3, TRUE));
  assert_false (bleio_scan_entry_matches (entry, (const guint8 []) { 0x02, 0x09, 'Z' }, 3, TRUE));

  assert_true (bleio_adapter_stop_scan (adapter, &error));
  assert_no_error (error);
  assert_true (bleio_scan_results_is_done (results));
  /* What was buffered comes out, then the end: NULL without an error. */
  for (guint i = 0; i < 10000; i++)
    {
      g_autoptr(BleioScanEntry) rest = bleio_scan_results_next (results, 1.0, &error);

      if (rest == NULL)
        break;
    }
  assert_no_error (error);
  after = bleio_scan_results_next (results, 1.0, &error);
  assert_null (after);
  assert_no_error (error);
  /* Stopping again is harmless. */
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  assert_no_error (error);
}

static void
test_scan_connectable_heuristic (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(BleioAddress) ibeacon = NULL;
  g_autoptr(BleioAddress) no_flags = NULL;
  gboolean seen_ibeacon = FALSE, seen_no_flags = FALSE, seen_demo = FALSE;
  gint64 end = g_get_monotonic_time () + (gint64) WAIT_MSEC * 1000;

  /* From the demo scenario: an iBeacon (flags 06, non-connectable) and an
   * Eddystone beacon without flags. */
  ibeacon = bleio_address_new_from_string ("4C:00:00:00:00:01", BLEIO_ADDRESS_TYPE_RANDOM_STATIC, &error);
  assert_no_error (error);
  no_flags = bleio_address_new_from_string ("C1:EA:00:00:00:03", BLEIO_ADDRESS_TYPE_RANDOM_STATIC, &error);
  assert_no_error (error);
  results = bleio_adapter_start_scan (adapter, NULL, 8192, FALSE, 0, 0.1, 0.1, -127, TRUE, &error);
  assert_no_error (error);
  while (!(seen_ibeacon && seen_no_flags && seen_demo) && g_get_monotonic_time () < end)
    {
      g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, 0.1, NULL);
      const guint8 *bytes;
      g_autofree char *name = NULL;

      if (entry == NULL)
        continue;
      bytes = bleio_address_get_bytes (bleio_scan_entry_get_address (entry));
      name = bleio_scan_entry_dup_complete_name (entry);
      if (memcmp (bytes, bleio_address_get_bytes (ibeacon), 6) == 0)
        {
          seen_ibeacon = TRUE;
          assert_false (bleio_scan_entry_get_connectable (entry));
        }
      else if (memcmp (bytes, bleio_address_get_bytes (no_flags), 6) == 0)
        {
          seen_no_flags = TRUE;
          assert_false (bleio_scan_entry_get_connectable (entry));
        }
      else if (g_strcmp0 (name, DEMO_NAME) == 0)
        {
          seen_demo = TRUE;
          assert_true (bleio_scan_entry_get_connectable (entry));
        }
    }
  assert_true (seen_ibeacon && seen_no_flags && seen_demo);
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  assert_no_error (error);
}

static void
test_scan_second_scan_refused (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) first = NULL;
  g_autoptr(BleioScanResults) second = NULL;
  g_autoptr(BleioScanResults) third = NULL;

  first = bleio_adapter_start_scan (adapter, NULL, 0, FALSE, 0, 0.1, 0.1, -80, TRUE, &error);
  assert_no_error (error);
  second = bleio_adapter_start_scan (adapter, NULL, 0, FALSE, 0, 0.1, 0.1, -80, TRUE, &error);
  assert_null (second);
  assert_bleio_error (error, BLEIO_ERROR_IN_PROGRESS);
  assert_non_null (strstr (error->message, "already running"));
  g_clear_error (&error);
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  third = bleio_adapter_start_scan (adapter, NULL, 0, FALSE, 0, 0.1, 0.1, -80, TRUE, &error);
  assert_no_error (error);
  assert_non_null (third);
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  assert_no_error (error);
}

static void
test_scan_prefixes (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  /* [len][type][data]: the start of the complete name structure. */
  static const guint8 wanted[] = { 0x06, 0x09, 'I', 'n', 't', 'e', 'r' };
  static const guint8 nobody[] = { 0x06, 0x09, 'Q', 'x', 'z', 'z', 'y' };
  g_autoptr(GBytes) wanted_bytes = g_bytes_new_static (wanted, sizeof wanted);
  g_autoptr(GBytes) nobody_bytes = g_bytes_new_static (nobody, sizeof nobody);
  guint total = 0, named;

  results = bleio_adapter_start_scan (adapter, wanted_bytes, 4096, FALSE, 0, 0.1, 0.1, -127,
                                      TRUE, &error);
  assert_no_error (error);
  named = common_drain_named (results, DEMO_NAME, 3000, &total);
  assert_true (named > 0);
  /* Every kept entry matched the prefix: only the demo peripheral. */
  assert_int_equal (named, total);
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  g_clear_object (&results);

  results = bleio_adapter_start_scan (adapter, nobody_bytes, 4096, FALSE, 0, 0.1, 0.1, -127,
                                      TRUE, &error);
  assert_no_error (error);
  named = common_drain_named (results, NULL, 2000, &total);
  assert_int_equal (total, 0);
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  assert_no_error (error);
}

static void
test_scan_minimum_rssi (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  g_autofree char *weak = common_add (fx,
    "{\"address\": \"00:BB:00:00:00:01\", \"name\": \"WeakOne\", \"rssi\": -95,"
    " \"advertising_interval_ms\": 100}");
  guint total = 0, named;

  results = bleio_adapter_start_scan (adapter, NULL, 8192, FALSE, 0, 0.1, 0.1, -80, TRUE, &error);
  assert_no_error (error);
  named = common_drain_named (results, "WeakOne", 2000, &total);
  assert_int_equal (named, 0);
  assert_true (total > 0);
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  g_clear_object (&results);

  results = bleio_adapter_start_scan (adapter, NULL, 8192, FALSE, 0, 0.1, 0.1, -100, TRUE, &error);
  assert_no_error (error);
  named = common_drain_named (results, "WeakOne", 3000, &total);
  assert_true (named > 0);
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  assert_true (sim_fixture_remove_device (fx, weak, &error));
  assert_no_error (error);
}

static void
test_scan_buffer_size_bounds_memory (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  gsize held = 0;
  const gsize buffer_size = 100;

  results = bleio_adapter_start_scan (adapter, NULL, buffer_size, FALSE, 0, 0.1, 0.1, -127,
                                      TRUE, &error);
  assert_no_error (error);
  /* Let advertisements pile up without taking any. */
  g_usleep (2 * G_USEC_PER_SEC);
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  for (;;)
    {
      g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, 0, &error);

      if (entry == NULL)
        break;
      held += g_bytes_get_size (bleio_scan_entry_get_advertisement_bytes (entry)) + 16;
    }
  assert_no_error (error);
  assert_true (held > 0);
  assert_true (held <= buffer_size);
  assert_true (bleio_scan_results_get_dropped (results) > 0);
}

static void
test_scan_timeout_ends_scan (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  gboolean ended = FALSE;

  results = bleio_adapter_start_scan (adapter, NULL, 256, FALSE, 0.5, 0.1, 0.1, -127, TRUE, &error);
  assert_no_error (error);
  for (guint i = 0; i < 100000 && !ended; i++)
    {
      g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, WAIT_MSEC / 1000.0, &error);

      assert_no_error (error);
      ended = entry == NULL;
    }
  assert_true (ended);
  assert_true (bleio_scan_results_is_done (results));
  /* The scan's timeout stopped our discovery; stop_scan still succeeds. */
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  assert_no_error (error);
}

typedef struct {
  guint entries;
  gboolean demo_seen;
  GThread *thread;
} SignalState;

static void
on_entry (BleioScanResults *results,
          BleioScanEntry   *entry,
          gpointer          user_data)
{
  SignalState *s = user_data;
  g_autofree char *name = bleio_scan_entry_dup_complete_name (entry);

  s->entries++;
  s->thread = g_thread_self ();
  if (g_strcmp0 (name, DEMO_NAME) == 0)
    s->demo_seen = TRUE;
}

static gboolean
demo_seen (gpointer user_data)
{
  return ((SignalState *) user_data)->demo_seen;
}

typedef struct {
  BleioScanResults *results;
  GError *error;
  gboolean done;
} StartState;

static void
started_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  StartState *s = user_data;

  s->results = bleio_adapter_start_scan_finish (BLEIO_ADAPTER (source), result, &s->error);
  s->done = TRUE;
}

static gboolean
start_done (gpointer user_data)
{
  return ((StartState *) user_data)->done;
}

static void
test_scan_entry_signal (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  StartState start = { 0, };
  SignalState s = { 0, };

  bleio_adapter_start_scan_async (adapter, NULL, 512, FALSE, 0, 0.1, 0.1, -127, TRUE, NULL,
                                  started_cb, &start);
  assert_true (common_wait (start_done, &start, WAIT_MSEC));
  assert_no_error (start.error);
  g_signal_connect (start.results, "entry", G_CALLBACK (on_entry), &s);
  assert_true (common_wait (demo_seen, &s, WAIT_MSEC));
  assert_true (s.entries > 0);
  assert_ptr_equal (s.thread, g_thread_self ());
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  assert_no_error (error);
  g_signal_handlers_disconnect_by_data (start.results, &s);
  g_object_unref (start.results);
}

static void
test_scan_shared_discovery (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(BleioScanEntry) entry = NULL;
  g_autoptr(GDBusConnection) other = NULL;

  /* Another program, on a bus connection of its own, runs a discovery. */
  other = g_dbus_connection_new_for_address_sync (sim_fixture_get_address (fx),
                                                  G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                  G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                  NULL, NULL, &error);
  assert_no_error (error);
  reply = g_dbus_connection_call_sync (other, "org.bluez", HCI0, "org.bluez.Adapter1",
                                       "StartDiscovery", NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
                                       WAIT_MSEC, NULL, &error);
  assert_no_error (error);
  results = bleio_adapter_start_scan (adapter, NULL, 4096, FALSE, 0, 0.1, 0.1, -127, TRUE, &error);
  assert_no_error (error);
  assert_non_null (results);
  entry = next_named (results, DEMO_NAME, WAIT_MSEC);
  assert_non_null (entry);
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  assert_no_error (error);
  /* Theirs is still running: ours did not stop it. */
  assert_true (common_sim_bool (fx, HCI0, "org.bluez.Adapter1", "Discovering"));
  g_clear_pointer (&reply, g_variant_unref);
  reply = g_dbus_connection_call_sync (other, "org.bluez", HCI0, "org.bluez.Adapter1",
                                       "StopDiscovery", NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
                                       WAIT_MSEC, NULL, &error);
  assert_no_error (error);
}

static void
test_scan_repeated_advertisements (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  guint total = 0, named;
  int filters;

  assert_true (sim_fixture_reset_calls (fx, &error));
  results = bleio_adapter_start_scan (adapter, NULL, 8192, FALSE, 0, 0.1, 0.1, -127, TRUE, &error);
  assert_no_error (error);
  /* DuplicateData: the same peripheral keeps being reported. */
  named = common_drain_named (results, DEMO_NAME, 4000, &total);
  assert_true (named >= 2);
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  filters = sim_fixture_count_calls (fx, "SetDiscoveryFilter");
  assert_int_equal (filters, 1);
  assert_int_equal (sim_fixture_count_calls (fx, "StartDiscovery"), 1);
  assert_int_equal (sim_fixture_count_calls (fx, "StopDiscovery"), 1);
}

static void
test_scan_adapter_removed_mid_scan (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  g_autofree char *device = NULL;
  gboolean ended = FALSE;

  reply = sim_fixture_call (fx, "AddAdapter", g_variant_new ("(ss)", "hci2", "00:AA:01:00:00:72"), &error);
  assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  device = sim_fixture_add_device (fx, "hci2",
    "{\"address\": \"00:BB:00:00:02:01\", \"name\": \"OnHci2\", \"advertising_interval_ms\": 100}",
    &error);
  assert_no_error (error);
  for (guint i = 0; i < 200; i++)
    {
      adapter = bleio_adapter_new_for_name (sim_fixture_get_connection (fx), "hci2", NULL, NULL);
      if (adapter != NULL)
        break;
      g_usleep (20000);
    }
  assert_non_null (adapter);
  results = bleio_adapter_start_scan (adapter, NULL, 4096, FALSE, 0, 0.1, 0.1, -127, TRUE, &error);
  assert_no_error (error);
  reply = sim_fixture_call (fx, "RemoveAdapter", g_variant_new ("(s)", "hci2"), &error);
  assert_no_error (error);
  for (guint i = 0; i < 100000 && !ended; i++)
    {
      g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, WAIT_MSEC / 1000.0, &error);

      if (entry == NULL)
        ended = TRUE;
    }
  assert_true (ended);
  assert_bleio_error (error, BLEIO_ERROR_NO_ADAPTER);
  assert_true (bleio_scan_results_is_done (results));
}

typedef struct {
  SimFixture *fx;
} CallWait;

static gboolean
stop_discovery_called (gpointer user_data)
{
  return sim_fixture_count_calls (((CallWait *) user_data)->fx, "StopDiscovery") >= 1;
}

static void
test_scan_ends_with_its_adapter (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(GError) error = NULL;
  BleioAdapter *adapter = common_adapter (fx, "hci0");
  g_autoptr(BleioScanResults) results = NULL;
  CallWait w = { fx };

  results = bleio_adapter_start_scan (adapter, NULL, 512, FALSE, 0, 0.1, 0.1, -127, TRUE, &error);
  assert_no_error (error);
  assert_true (sim_fixture_reset_calls (fx, &error));
  /* Nobody can call stop_scan on a dropped adapter: the scan ends. */
  g_object_unref (adapter);
  assert_true (bleio_scan_results_is_done (results));
  assert_true (common_wait (stop_discovery_called, &w, WAIT_MSEC));
}

static void
test_scan_bluetoothd_restart (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(BleioScanResults) again = NULL;
  g_autoptr(BleioScanEntry) entry = NULL;
  gboolean ended = FALSE;

  results = bleio_adapter_start_scan (adapter, NULL, 4096, FALSE, 0, 0.1, 0.1, -127, TRUE, &error);
  assert_no_error (error);
  assert_true (sim_fixture_restart (fx, 1000, &error));
  assert_no_error (error);
  for (guint i = 0; i < 100000 && !ended; i++)
    {
      g_autoptr(BleioScanEntry) e = bleio_scan_results_next (results, WAIT_MSEC / 1000.0, &error);

      ended = e == NULL;
    }
  assert_true (ended);
  assert_bleio_error (error, BLEIO_ERROR_BLUEZ_UNAVAILABLE);
  g_clear_error (&error);

  /* bluetoothd is back: a new scan in the same process works. */
  for (guint i = 0; i < 500 && again == NULL; i++)
    {
      again = bleio_adapter_start_scan (adapter, NULL, 4096, FALSE, 0, 0.1, 0.1, -127, TRUE, NULL);
      if (again == NULL)
        g_usleep (20 * 1000);
    }
  assert_non_null (again);
  entry = next_named (again, DEMO_NAME, WAIT_MSEC);
  assert_non_null (entry);
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  assert_no_error (error);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_scan_finds_demo_peripheral),
    cmocka_unit_test (test_scan_connectable_heuristic),
    cmocka_unit_test (test_scan_second_scan_refused),
    cmocka_unit_test (test_scan_prefixes),
    cmocka_unit_test (test_scan_minimum_rssi),
    cmocka_unit_test (test_scan_buffer_size_bounds_memory),
    cmocka_unit_test (test_scan_timeout_ends_scan),
    cmocka_unit_test (test_scan_entry_signal),
    cmocka_unit_test (test_scan_shared_discovery),
    cmocka_unit_test (test_scan_repeated_advertisements),
    cmocka_unit_test (test_scan_adapter_removed_mid_scan),
    cmocka_unit_test (test_scan_ends_with_its_adapter),
    cmocka_unit_test (test_scan_bluetoothd_restart),
  };

  return cmocka_run_group_tests (tests, sim_fixture_group_setup, sim_fixture_group_teardown);
}
