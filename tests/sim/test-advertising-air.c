/* SPDX-License-Identifier: MIT */
/* Both roles of libbleio against each other through the simulator's one
 * air (issue 16 item 11), on two-adapters.json: the library advertises on
 * hci1, scans from hci0 and finds the advertised name, UUID and
 * manufacturer data, connects from hci0, and the advertisement on hci1
 * ends because a central connected; both sides see the link come and go.
 *
 *   test-advertising-air SCENARIO
 */
#include "advertising.h"

#define HCI1 "/org/bluez/hci1"

static const char *scenario;

static int
group_setup (void **state)
{
  g_autoptr(GError) error = NULL;
  SimFixture *fx = sim_fixture_new (scenario, &error);

  if (fx == NULL)
    {
      g_printerr ("simulator: %s\n", error->message);
      return -1;
    }
  *state = fx;
  return 0;
}

typedef struct {
  BleioAdapter *adapter;
  guint expected;
} LinksWait;

static gboolean
links_are (gpointer user_data)
{
  LinksWait *w = user_data;
  g_autoptr(GPtrArray) links = bleio_adapter_dup_connections (w->adapter);

  return links->len == w->expected;
}

/* Scans from @adapter for @name; the entry found, or NULL. */
static BleioScanEntry *
scan_for (BleioAdapter *adapter,
          const char   *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  BleioScanEntry *found = NULL;
  gint64 end = g_get_monotonic_time () + (gint64) WAIT_MSEC * 1000;

  results = bleio_adapter_start_scan (adapter, NULL, 4096, FALSE, 0, 0.1, 0.1, -127, TRUE, &error);
  assert_no_error (error);
  while (found == NULL && g_get_monotonic_time () < end)
    {
      g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, 0.2, &error);
      g_autofree char *entry_name = NULL;

      if (entry == NULL)
        {
          assert_bleio_error (error, BLEIO_ERROR_TIMEOUT);
          g_clear_error (&error);
          continue;
        }
      entry_name = bleio_scan_entry_dup_complete_name (entry);
      if (g_strcmp0 (entry_name, name) == 0)
        found = g_steal_pointer (&entry);
    }
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  assert_no_error (error);
  return found;
}

static void
test_advertising_air_found_and_connected (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) central = common_adapter (fx, "hci0");
  g_autoptr(BleioAdapter) peripheral = common_adapter (fx, "hci1");
  g_autoptr(BleioScanEntry) entry = NULL;
  g_autoptr(BleioConnection) link = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) uuid = adv_bytes ("03 03 0f 18");
  g_autoptr(GBytes) manufacturer = adv_bytes ("05 ff 59 00 01 02");
  LinksWait on_central = { central, 0 };
  LinksWait on_peripheral = { peripheral, 1 };
  AdvHeard h;

  adv_listen (peripheral, &h);
  adv_start_ok (peripheral, "02 01 06 03 03 0f 18 05 ff 59 00 01 02",
                "09 09 42 6c 65 69 6f 41 64 76", TRUE, 0);

  entry = scan_for (central, "BleioAdv");
  assert_non_null (entry);
  assert_true (bleio_scan_entry_matches (entry, g_bytes_get_data (uuid, NULL),
                                         g_bytes_get_size (uuid), TRUE));
  assert_true (bleio_scan_entry_matches (entry, g_bytes_get_data (manufacturer, NULL),
                                         g_bytes_get_size (manufacturer), TRUE));
  assert_true (bleio_scan_entry_get_connectable (entry));

  link = bleio_adapter_connect (central, bleio_scan_entry_get_address (entry), 10, NULL, &error);
  assert_no_error (error);
  assert_non_null (link);
  /* `_bleio`: a central connecting ends a connectable advertisement. */
  assert_true (common_wait (adv_heard_end, &h, WAIT_MSEC));
  assert_int_equal (h.reason, BLEIO_ADVERTISING_END_REASON_CONNECTED);
  assert_false (bleio_adapter_get_advertising (peripheral));
  /* The advertising side has the central's link. */
  assert_true (common_wait (links_are, &on_peripheral, WAIT_MSEC));

  assert_true (bleio_connection_disconnect (link, &error));
  assert_no_error (error);
  on_peripheral.expected = 0;
  assert_true (common_wait (links_are, &on_peripheral, WAIT_MSEC));
  assert_true (common_wait (links_are, &on_central, WAIT_MSEC));
  adv_unlisten (peripheral, &h);
}

/* hci1 advertises and connects, as a central, to hci0's advertisement:
 * its own link does not end its advertisement; hci0's ends, a central
 * having connected to it. */
static void
test_advertising_air_own_connect_keeps_advertising (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) hci0 = common_adapter (fx, "hci0");
  g_autoptr(BleioAdapter) hci1 = common_adapter (fx, "hci1");
  g_autoptr(BleioAddress) hci0_address = bleio_adapter_dup_address (hci0);
  g_autoptr(BleioConnection) link = NULL;
  g_autoptr(GError) error = NULL;
  LinksWait none = { hci0, 0 };
  AdvHeard h0, h1;

  adv_listen (hci0, &h0);
  adv_listen (hci1, &h1);
  adv_start_ok (hci0, "02 01 06", "06 09 48 63 69 30 41", TRUE, 0);
  adv_start_ok (hci1, "02 01 06", "06 09 48 63 69 31 41", TRUE, 0);
  /* By address: hci1 met hci0 as a central in the test before, and
   * bluetoothd keeps the GAP name it read then, not the advertised one. */
  link = bleio_adapter_connect (hci1, hci0_address, 10, NULL, &error);
  assert_no_error (error);
  assert_true (common_wait (adv_heard_end, &h0, WAIT_MSEC));
  assert_int_equal (h0.reason, BLEIO_ADVERTISING_END_REASON_CONNECTED);
  /* By then hci1 has heard of the same link: nothing for it. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  assert_int_equal (h1.ended, 0);
  assert_true (bleio_adapter_get_advertising (hci1));

  assert_true (bleio_connection_disconnect (link, &error));
  assert_no_error (error);
  assert_true (common_wait (links_are, &none, WAIT_MSEC));
  assert_true (bleio_adapter_stop_advertising (hci1, &error));
  assert_no_error (error);
  assert_int_equal (h1.reason, BLEIO_ADVERTISING_END_REASON_STOPPED);
  adv_unlisten (hci0, &h0);
  adv_unlisten (hci1, &h1);
}

/* A link a central made to us works like one we made (issue 16 item 2):
 * handed over once by incoming-connection, the same object the adapter
 * lists; connected, not paired, max_packet_length, the central's own GATT
 * database browsed from the peripheral side, and a disconnect from our
 * side that each end reports with its own reason. */
typedef struct {
  BleioConnection *connection;
  guint count;
} IncomingHeard;

static void
on_incoming (BleioAdapter    *adapter,
             BleioConnection *connection,
             gpointer         user_data)
{
  IncomingHeard *in = user_data;

  if (in->connection == NULL)
    in->connection = g_object_ref (connection);
  in->count++;
}

static gboolean
incoming_heard (gpointer user_data)
{
  return ((IncomingHeard *) user_data)->connection != NULL;
}

static void
test_advertising_air_incoming_link_works (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) central = common_adapter (fx, "hci0");
  g_autoptr(BleioAdapter) peripheral = common_adapter (fx, "hci1");
  g_autoptr(BleioAddress) peripheral_address = bleio_adapter_dup_address (peripheral);
  g_autoptr(BleioAddress) central_address = bleio_adapter_dup_address (central);
  g_autoptr(BleioConnection) link = NULL;
  g_autoptr(GPtrArray) listed = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(GError) error = NULL;
  IncomingHeard in = { NULL, 0 };
  Disconnected ours = { 0, }, theirs = { 0, };
  gulong id = g_signal_connect (peripheral, "incoming-connection", G_CALLBACK (on_incoming), &in);

  adv_start_ok (peripheral, "02 01 06", "06 09 49 6e 63 6d 67", TRUE, 0);
  link = bleio_adapter_connect (central, peripheral_address, 10, NULL, &error);
  assert_no_error (error);
  assert_true (common_wait (incoming_heard, &in, WAIT_MSEC));
  assert_int_equal (in.count, 1);
  assert_true (bleio_address_equal (bleio_connection_get_address (in.connection),
                                    central_address));
  listed = bleio_adapter_dup_connections (peripheral);
  assert_int_equal (listed->len, 1);
  assert_ptr_equal (g_ptr_array_index (listed, 0), in.connection);

  assert_true (bleio_connection_get_connected (in.connection));
  assert_false (bleio_connection_get_paired (in.connection, &error));
  assert_no_error (error);
  assert_true (bleio_connection_get_max_packet_length (in.connection, &error) >= 20);
  assert_no_error (error);
  /* The peripheral may start pairing too (a Security Request on air). */
  assert_true (bleio_connection_pair (in.connection, TRUE, &error));
  assert_no_error (error);
  assert_true (bleio_connection_get_paired (in.connection, &error));
  assert_no_error (error);
  /* The central's own database (bluetoothd's GATT and Device Information
   * services on the simulated hci0), as the ANCS pattern browses it. */
  services = bleio_connection_discover_remote_services (in.connection, NULL, 10, &error);
  assert_no_error (error);
  assert_non_null (services);
  assert_true (services->len > 0);

  g_signal_connect (in.connection, "disconnected", G_CALLBACK (common_on_disconnected), &ours);
  g_signal_connect (link, "disconnected", G_CALLBACK (common_on_disconnected), &theirs);
  assert_true (bleio_connection_disconnect (in.connection, &error));
  assert_no_error (error);
  assert_true (common_wait (common_disconnected_fired, &ours, WAIT_MSEC));
  assert_true (common_wait (common_disconnected_fired, &theirs, WAIT_MSEC));
  assert_int_equal (ours.reason, BLEIO_DISCONNECT_REASON_LOCAL);
  assert_int_equal (theirs.reason, BLEIO_DISCONNECT_REASON_REMOTE);
  g_signal_handler_disconnect (peripheral, id);
  g_object_unref (in.connection);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_advertising_air_found_and_connected),
    cmocka_unit_test (test_advertising_air_own_connect_keeps_advertising),
    cmocka_unit_test (test_advertising_air_incoming_link_works),
  };

  if (argc < 2)
    {
      g_printerr ("usage: %s SCENARIO\n", argv[0]);
      return 2;
    }
  scenario = argv[1];
  return cmocka_run_group_tests (tests, group_setup, sim_fixture_group_teardown);
}
