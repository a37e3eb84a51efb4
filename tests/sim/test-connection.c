/* SPDX-License-Identifier: MIT */
/* Connect and the connection lifecycle against bleio-sim. */
#include <string.h>

#include "central.h"

typedef CommonDemoGroup Group;

static void
test_connect_and_disconnect (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioConnection) again = NULL;
  g_autoptr(GPtrArray) connections = NULL;
  Disconnected d = { 0, };
  double interval = 0;

  connection = bleio_adapter_connect (g->adapter, g->demo, 10, NULL, &error);
  assert_no_error (error);
  assert_non_null (connection);
  assert_true (bleio_connection_get_connected (connection));
  assert_true (bleio_address_equal (bleio_connection_get_address (connection), g->demo));
  assert_true (common_sim_bool (g->fx, bleio_connection_get_object_path (connection),
                                "org.bluez.Device1", "Connected"));
  assert_true (bleio_adapter_get_connected (g->adapter));

  /* The same link is the same object, however it is reached. */
  connections = bleio_adapter_dup_connections (g->adapter);
  assert_int_equal (connections->len, 1);
  assert_ptr_equal (g_ptr_array_index (connections, 0), connection);
  again = bleio_adapter_connect (g->adapter, g->demo, 10, NULL, &error);
  assert_no_error (error);
  assert_ptr_equal (again, connection);

  assert_false (bleio_connection_get_paired (connection, &error));
  assert_no_error (error);
  assert_false (bleio_connection_get_connection_interval (connection, &interval, &error));
  assert_bleio_error (error, BLEIO_ERROR_NOT_SUPPORTED);
  assert_non_null (strstr (error->message, "D-Bus"));
  g_clear_error (&error);
  assert_false (bleio_connection_set_connection_interval (connection, 15, &error));
  assert_bleio_error (error, BLEIO_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  g_signal_connect (connection, "disconnected", G_CALLBACK (common_on_disconnected), &d);
  assert_true (bleio_connection_disconnect (connection, &error));
  assert_no_error (error);
  assert_false (bleio_connection_get_connected (connection));
  assert_true (common_wait (common_disconnected_fired, &d, WAIT_MSEC));
  assert_int_equal (d.reason, BLEIO_DISCONNECT_REASON_LOCAL);
  assert_ptr_equal (d.thread, g_thread_self ());
  assert_false (common_sim_bool (g->fx, bleio_connection_get_object_path (connection),
                                 "org.bluez.Device1", "Connected"));
  common_assert_spent (connection);
  g_signal_handlers_disconnect_by_data (connection, &d);

  /* A new connect gives a new object. */
  g_clear_object (&again);
  again = bleio_adapter_connect (g->adapter, g->demo, 10, NULL, &error);
  assert_no_error (error);
  assert_ptr_not_equal (again, connection);
  assert_true (bleio_connection_disconnect (again, &error));
  assert_no_error (error);
}

static void
test_connect_async (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  CommonConnect s = { 0, };

  bleio_adapter_connect_async (g->adapter, g->demo, 10, NULL, common_connected, &s);
  assert_true (common_wait (common_connect_done, &s, WAIT_MSEC));
  assert_no_error (s.error);
  assert_ptr_equal (s.thread, g_thread_self ());
  assert_true (bleio_connection_get_connected (s.connection));
  assert_true (bleio_connection_disconnect (s.connection, &error));
  assert_no_error (error);
  g_object_unref (s.connection);
}

static void
test_connect_timeout_leaves_nothing_connected (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = common_add (g->fx,
    "{\"address\": \"00:BB:00:00:01:01\", \"name\": \"Slow\", \"connect\": {\"delay_ms\": 3000}}");
  g_autoptr(BleioAddress) address = common_address ("00:BB:00:00:01:01");
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(GPtrArray) connections = NULL;

  assert_true (sim_fixture_reset_calls (g->fx, &error));
  connection = bleio_adapter_connect (g->adapter, address, 0.3, NULL, &error);
  assert_null (connection);
  assert_bleio_error (error, BLEIO_ERROR_TIMEOUT);
  assert_string_equal (error->message, "Failed to connect: timeout");
  g_clear_error (&error);
  /* Past the moment the peripheral would have answered: still down (the
   * abandoned attempt was undone with a Disconnect). */
  g_usleep (3500 * 1000);
  assert_true (sim_fixture_count_calls (g->fx, "Disconnect") >= 1);
  assert_false (common_sim_bool (g->fx, path, "org.bluez.Device1", "Connected"));
  connections = bleio_adapter_dup_connections (g->adapter);
  assert_int_equal (connections->len, 0);
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
}

static gpointer
cancel_later (gpointer data)
{
  g_usleep (200 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_connect_cancel (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = common_add (g->fx,
    "{\"address\": \"00:BB:00:00:01:02\", \"name\": \"Slow2\", \"connect\": {\"delay_ms\": 3000}}");
  g_autoptr(BleioAddress) address = common_address ("00:BB:00:00:01:02");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(BleioConnection) connection = NULL;
  GThread *thread = g_thread_new ("cancel", cancel_later, cancellable);

  connection = bleio_adapter_connect (g->adapter, address, 10, cancellable, &error);
  g_thread_join (thread);
  assert_null (connection);
  assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error (&error);
  g_usleep (3500 * 1000);
  assert_false (common_sim_bool (g->fx, path, "org.bluez.Device1", "Connected"));
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
}

static void
test_connect_unknown_to_bluez (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = common_add (g->fx,
    "{\"address\": \"00:BB:00:00:01:03\", \"name\": \"NotScanned\"}");
  g_autoptr(BleioAddress) address = common_address ("00:BB:00:00:01:03");
  g_autoptr(BleioConnection) connection = NULL;

  assert_true (sim_fixture_reset_calls (g->fx, &error));
  /* No scan ran for it: BlueZ may have no Device1 yet. */
  connection = bleio_adapter_connect (g->adapter, address, 10, NULL, &error);
  assert_no_error (error);
  assert_true (bleio_connection_get_connected (connection));
  assert_true (sim_fixture_count_calls (g->fx, "ConnectDevice") +
               sim_fixture_count_calls (g->fx, "Connect") >= 1);
  assert_true (bleio_connection_disconnect (connection, &error));
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
}

static void
test_connect_without_connect_device (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = common_add (g->fx,
    "{\"address\": \"00:BB:00:00:01:04\", \"name\": \"NoExperimental\","
    " \"advertising_interval_ms\": 100}");
  g_autoptr(BleioAddress) address = common_address ("00:BB:00:00:01:04");
  g_autoptr(BleioConnection) connection = NULL;

  assert_true (sim_fixture_reset_calls (g->fx, &error));
  /* bluetoothd without -E does not know the experimental method. */
  assert_true (sim_fixture_fail_next (g->fx, "ConnectDevice",
                                      "org.freedesktop.DBus.Error.UnknownMethod",
                                      "Method \"ConnectDevice\" doesn't exist", 1, &error));
  connection = bleio_adapter_connect (g->adapter, address, 10, NULL, &error);
  assert_no_error (error);
  assert_true (bleio_connection_get_connected (connection));
  /* It found the peer with a filtered discovery, then connected. */
  assert_true (sim_fixture_count_calls (g->fx, "SetDiscoveryFilter") >= 1);
  assert_true (sim_fixture_count_calls (g->fx, "StartDiscovery") >= 1);
  assert_true (sim_fixture_count_calls (g->fx, "Connect") >= 1);
  assert_true (bleio_connection_disconnect (connection, &error));
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
}

static gboolean
adapter_not_discovering (gpointer user_data)
{
  Group *g = user_data;

  return !common_sim_bool (g->fx, HCI0, "org.bluez.Adapter1", "Discovering");
}

static gboolean
discovery_asked (gpointer user_data)
{
  Group *g = user_data;

  return sim_fixture_count_calls (g->fx, "StartDiscovery") >= 1;
}

static GVariant *
call_adapter (GDBusConnection *connection,
              const char      *method)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = g_dbus_connection_call_sync (connection, "org.bluez", HCI0,
                                                 "org.bluez.Adapter1", method, NULL, NULL,
                                                 G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC, NULL,
                                                 &error);

  assert_no_error (error);
  return reply;
}

/* The peer shows (another program's discovery makes its object) after
 * the library asked for its own discovery and before bluetoothd answered:
 * the attempt ends and cancels that call, but bluetoothd starts the
 * session all the same, and the library must end it. It used to run on
 * for as long as the library's bus connection lived (seen as a later
 * test's StartDiscovery answered InProgress). */
static void
test_connect_found_before_discovery_answered (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(BleioAddress) address = common_address ("00:BB:00:00:01:0C");
  g_autoptr(GDBusConnection) other =
    g_dbus_connection_new_for_address_sync (sim_fixture_get_address (g->fx),
                                            G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                            NULL, NULL, &error);
  CommonConnect c = { 0, };

  assert_no_error (error);
  g_variant_unref (call_adapter (other, "StartDiscovery"));
  assert_true (sim_fixture_reset_calls (g->fx, &error));
  assert_true (sim_fixture_fail_next (g->fx, "ConnectDevice",
                                      "org.freedesktop.DBus.Error.UnknownMethod",
                                      "Method \"ConnectDevice\" doesn't exist", 1, &error));
  assert_true (sim_fixture_delay_next (g->fx, "StartDiscovery", 1500, 1, &error));
  bleio_adapter_connect_async (g->adapter, address, 10, NULL, common_connected, &c);
  assert_true (common_wait (discovery_asked, g, WAIT_MSEC));
  path = common_add (g->fx, "{\"address\": \"00:BB:00:00:01:0C\", \"name\": \"FoundEarly\","
                            " \"advertising_interval_ms\": 100}");
  assert_true (common_wait (common_connect_done, &c, WAIT_MSEC));
  assert_no_error (c.error);
  g_variant_unref (call_adapter (other, "StopDiscovery"));
  /* The simulator runs the held StartDiscovery 1.5 s after it came, which
   * was before the peer was added: past that, only the library's session
   * could keep the adapter discovering. (Were the simulator late, this
   * would pass without proving anything; it cannot fail wrongly.) */
  g_usleep (1600 * 1000);
  assert_true (common_wait (adapter_not_discovering, g, WAIT_MSEC));
  assert_true (bleio_connection_disconnect (c.connection, &error));
  g_object_unref (c.connection);
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
}

/* How many calls the simulator has seen on the object at @path. */
static int
count_calls_on (SimFixture *fx,
                const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) calls = sim_fixture_get_calls (fx, &error);
  GVariantIter iter;
  const char *method, *at, *sender;
  int count = 0;

  assert_no_error (error);
  g_variant_iter_init (&iter, calls);
  while (g_variant_iter_next (&iter, "(&s&o&s)", &method, &at, &sender))
    count += g_str_equal (at, path);
  return count;
}

static void
test_connect_queue_one_at_a_time (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autofree char *path_a = common_add (g->fx,
    "{\"address\": \"00:BB:00:00:01:05\", \"name\": \"QA\", \"connect\": {\"delay_ms\": 1500}}");
  g_autofree char *path_b = common_add (g->fx,
    "{\"address\": \"00:BB:00:00:01:06\", \"name\": \"QB\", \"connect\": {\"delay_ms\": 100}}");
  g_autoptr(BleioAddress) a = common_address ("00:BB:00:00:01:05");
  g_autoptr(BleioAddress) b = common_address ("00:BB:00:00:01:06");
  CommonConnect sa = { 0, }, sb = { 0, };
  int started;

  assert_true (sim_fixture_reset_calls (g->fx, &error));
  bleio_adapter_connect_async (g->adapter, a, 10, NULL, common_connected, &sa);
  bleio_adapter_connect_async (g->adapter, b, 10, NULL, common_connected, &sb);
  /* While A's attempt runs, B's waits in the queue: only A's attempt
   * reached the simulator. That attempt is one Connect on A's object, or
   * one ConnectDevice, followed by that Connect when bluetoothd refused it
   * because it had A's object before the library saw it. */
  g_usleep (500 * 1000);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  started = sim_fixture_count_calls (g->fx, "ConnectDevice") + sim_fixture_count_calls (g->fx, "Connect");
  assert_true (started >= 1);
  assert_true (sim_fixture_count_calls (g->fx, "ConnectDevice") <= 1);
  assert_int_equal (sim_fixture_count_calls (g->fx, "Connect"), count_calls_on (g->fx, path_a));
  assert_int_equal (count_calls_on (g->fx, path_b), 0);
  assert_false (sb.done);
  assert_true (common_wait (common_connect_done, &sb, WAIT_MSEC));
  /* Queued in call order: A finished first. */
  assert_true (sa.done);
  assert_no_error (sa.error);
  assert_no_error (sb.error);
  assert_true (bleio_connection_disconnect (sa.connection, &error));
  assert_true (bleio_connection_disconnect (sb.connection, &error));
  g_object_unref (sa.connection);
  g_object_unref (sb.connection);
  assert_true (sim_fixture_remove_device (g->fx, path_a, &error));
  assert_true (sim_fixture_remove_device (g->fx, path_b, &error));
}

static void
test_connect_failure_reported (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = common_add (g->fx,
    "{\"address\": \"00:BB:00:00:01:07\", \"name\": \"Refuses\","
    " \"connect\": {\"outcome\": \"le-connection-refused\"}}");
  g_autoptr(BleioAddress) address = common_address ("00:BB:00:00:01:07");
  g_autoptr(BleioConnection) connection = NULL;

  connection = bleio_adapter_connect (g->adapter, address, 10, NULL, &error);
  assert_null (connection);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  assert_non_null (strstr (error->message, "le-connection-refused"));
  g_clear_error (&error);
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
}

static void
test_remote_disconnect (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  Disconnected d = { 0, };

  connection = bleio_adapter_connect (g->adapter, g->demo, 10, NULL, &error);
  assert_no_error (error);
  g_signal_connect (connection, "disconnected", G_CALLBACK (common_on_disconnected), &d);
  assert_true (sim_fixture_drop_link (g->fx, bleio_connection_get_object_path (connection),
                                      "remote", &error));
  assert_no_error (error);
  assert_true (common_wait (common_disconnected_fired, &d, WAIT_MSEC));
  assert_int_equal (d.reason, BLEIO_DISCONNECT_REASON_REMOTE);
  common_assert_spent (connection);
  g_signal_handlers_disconnect_by_data (connection, &d);
}

/* Issue 15 item 5: BlueZ answering Disconnect with an error while the
 * link stays up is that error, and the connection stays usable. */
static void
test_disconnect_refused_link_up (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioConnection) connection = NULL;

  connection = bleio_adapter_connect (g->adapter, g->demo, 10, NULL, &error);
  assert_no_error (error);
  assert_true (sim_fixture_fail_next (g->fx, "Disconnect", "org.bluez.Error.NotConnected",
                                      "Not connected", 1, &error));
  assert_no_error (error);
  assert_false (bleio_connection_disconnect (connection, &error));
  assert_bleio_error (error, BLEIO_ERROR_BLUETOOTH);
  assert_non_null (strstr (error->message, "still up"));
  g_clear_error (&error);
  assert_true (bleio_connection_get_connected (connection));
  assert_true (common_sim_bool (g->fx, bleio_connection_get_object_path (connection),
                                "org.bluez.Device1", "Connected"));

  assert_true (bleio_connection_disconnect (connection, &error));
  assert_no_error (error);
  assert_false (bleio_connection_get_connected (connection));
}

static void
test_discover_services (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(GPtrArray) whitelist = NULL;
  g_autoptr(GPtrArray) filtered = NULL;
  g_autoptr(GVariant) objects = NULL;
  guint sim_services = 0;
  GVariantIter iter;
  const char *path;
  GVariant *ifaces;

  connection = bleio_adapter_connect (g->adapter, g->demo, 10, NULL, &error);
  assert_no_error (error);
  services = bleio_connection_discover_remote_services (connection, NULL, 0, &error);
  assert_no_error (error);
  assert_non_null (services);

  /* As many as the simulator exports under the device. */
  objects = sim_fixture_get_objects (g->fx, &error);
  assert_no_error (error);
  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, &ifaces))
    {
      g_autofree char *prefix = g_strconcat (bleio_connection_get_object_path (connection), "/", NULL);
      g_autoptr(GVariant) service = g_variant_lookup_value (ifaces, "org.bluez.GattService1", NULL);

      if (g_str_has_prefix (path, prefix) && service != NULL)
        sim_services++;
      g_variant_unref (ifaces);
    }
  assert_true (services->len > 0);
  assert_int_equal (services->len, sim_services);

  for (guint i = 0; i < services->len; i++)
    {
      BleioService *service = g_ptr_array_index (services, i);
      const BleioUuid *uuid = bleio_service_get_uuid (service);
      g_autofree char *bluez = bleio_uuid_to_bluez_string (uuid);
      g_autoptr(GVariant) sim_uuid = sim_fixture_get_property (g->fx, bleio_service_get_object_path (service),
                                                               "org.bluez.GattService1", "UUID");

      assert_true (bleio_service_get_remote (service));
      assert_ptr_equal (bleio_service_get_connection (service), connection);
      assert_non_null (sim_uuid);
      assert_string_equal (bluez, g_variant_get_string (sim_uuid, NULL));
      /* Bluetooth-base UUIDs come back 16-bit. */
      if (g_str_has_suffix (bluez, "-0000-1000-8000-00805f9b34fb") && g_str_has_prefix (bluez, "0000"))
        assert_int_equal (bleio_uuid_get_size (uuid), 16);
      if (i > 0)
        assert_true (bleio_service_get_handle (g_ptr_array_index (services, i - 1)) <
                     bleio_service_get_handle (service));
    }

  whitelist = g_ptr_array_new_with_free_func ((GDestroyNotify) bleio_uuid_free);
  g_ptr_array_add (whitelist, bleio_uuid_copy (bleio_service_get_uuid (g_ptr_array_index (services, 0))));
  filtered = bleio_connection_discover_remote_services (connection, whitelist, 0, &error);
  assert_no_error (error);
  assert_true (filtered->len >= 1);
  for (guint i = 0; i < filtered->len; i++)
    assert_true (bleio_uuid_equal (bleio_service_get_uuid (g_ptr_array_index (filtered, i)),
                                   g_ptr_array_index (whitelist, 0)));

  assert_int_equal (bleio_connection_get_max_packet_length (connection, &error), 517 - 3);
  assert_no_error (error);
  assert_true (bleio_connection_disconnect (connection, &error));
}

static void
test_max_packet_length_small_mtu (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = common_add (g->fx,
    "{\"address\": \"00:BB:00:00:01:08\", \"name\": \"SmallMtu\", \"mtu\": 23,"
    " \"gatt\": [{\"uuid\": \"180f\", \"characteristics\": [{\"uuid\": \"2a19\","
    " \"flags\": [\"read\"], \"value\": \"64\"}]}]}");
  g_autoptr(BleioAddress) address = common_address ("00:BB:00:00:01:08");
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(GPtrArray) services = NULL;

  connection = bleio_adapter_connect (g->adapter, address, 10, NULL, &error);
  assert_no_error (error);
  services = bleio_connection_discover_remote_services (connection, NULL, 0, &error);
  assert_no_error (error);
  assert_int_equal (bleio_connection_get_max_packet_length (connection, &error), 20);
  assert_no_error (error);
  assert_true (bleio_connection_disconnect (connection, &error));
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
}

typedef struct {
  GPtrArray *services;
  GError *error;
  gboolean done;
} DiscoverState;

static void
discovered_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  DiscoverState *s = user_data;

  s->services = bleio_connection_discover_remote_services_finish (BLEIO_CONNECTION (source),
                                                                  result, &s->error);
  s->done = TRUE;
}

static gboolean
discover_done (gpointer user_data)
{
  return ((DiscoverState *) user_data)->done;
}

static void
test_peer_drops_during_discovery (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  /* Another program connects; BlueZ takes its time resolving services. */
  g_autoptr(BleioConnection) connection =
    common_link_made_elsewhere (g->fx, g->adapter, "00:BB:00:00:01:09",
                                "\"connect\": {\"resolve_delay_ms\": 5000}", &path);
  DiscoverState s = { 0, };

  bleio_connection_discover_remote_services_async (connection, NULL, 20, NULL, discovered_cb, &s);
  /* Discovery waits for ServicesResolved... */
  assert_false (common_wait (discover_done, &s, 300));
  /* ...and the peer goes away meanwhile. */
  assert_true (sim_fixture_drop_link (g->fx, path, "remote", &error));
  assert_no_error (error);
  assert_true (common_wait (discover_done, &s, WAIT_MSEC));
  assert_null (s.services);
  assert_bleio_error (s.error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&s.error);
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
  g_free (path);
}

static void
test_adapter_removed_mid_connection (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(BleioAdapter) hci3 = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioAddress) address = common_address ("00:BB:00:00:01:0B");
  g_autofree char *device = NULL;
  Disconnected d = { 0, };

  reply = sim_fixture_call (g->fx, "AddAdapter", g_variant_new ("(ss)", "hci3", "00:AA:01:00:00:73"), &error);
  assert_no_error (error);
  device = sim_fixture_add_device (g->fx, "hci3",
    "{\"address\": \"00:BB:00:00:01:0B\", \"name\": \"OnHci3\"}", &error);
  assert_no_error (error);
  for (guint i = 0; i < 500 && hci3 == NULL; i++)
    {
      hci3 = bleio_adapter_new_for_name (sim_fixture_get_connection (g->fx), "hci3", NULL, NULL);
      if (hci3 == NULL)
        g_usleep (20 * 1000);
    }
  assert_non_null (hci3);
  connection = bleio_adapter_connect (hci3, address, 10, NULL, &error);
  assert_no_error (error);
  g_signal_connect (connection, "disconnected", G_CALLBACK (common_on_disconnected), &d);

  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call (g->fx, "RemoveAdapter", g_variant_new ("(s)", "hci3"), &error);
  assert_no_error (error);
  assert_true (common_wait (common_disconnected_fired, &d, WAIT_MSEC));
  /* The link drops (Connected false) and the device object goes with its
   * adapter: whichever the library sees first names the reason. */
  assert_true (d.reason == BLEIO_DISCONNECT_REASON_ADAPTER_REMOVED ||
               d.reason == BLEIO_DISCONNECT_REASON_DEVICE_REMOVED ||
               d.reason == BLEIO_DISCONNECT_REASON_REMOTE);
  common_assert_spent (connection);
  g_signal_handlers_disconnect_by_data (connection, &d);
  /* hci0 is untouched. */
  assert_true (bleio_adapter_is_present (g->adapter));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_connect_and_disconnect),
    cmocka_unit_test (test_connect_async),
    cmocka_unit_test (test_connect_timeout_leaves_nothing_connected),
    cmocka_unit_test (test_connect_cancel),
    cmocka_unit_test (test_connect_unknown_to_bluez),
    cmocka_unit_test (test_connect_without_connect_device),
    cmocka_unit_test (test_connect_found_before_discovery_answered),
    cmocka_unit_test (test_connect_queue_one_at_a_time),
    cmocka_unit_test (test_connect_failure_reported),
    cmocka_unit_test (test_remote_disconnect),
    cmocka_unit_test (test_disconnect_refused_link_up),
    cmocka_unit_test (test_discover_services),
    cmocka_unit_test (test_max_packet_length_small_mtu),
    cmocka_unit_test (test_peer_drops_during_discovery),
    cmocka_unit_test (test_adapter_removed_mid_connection),
  };

  return cmocka_run_group_tests (tests, common_demo_group_setup, common_demo_group_teardown);
}
