/* SPDX-License-Identifier: MIT */
/*
 * Discovery as bluetoothd 5.66 does it, seen on D-Bus: sessions per
 * client (each bus connection), the filter keys it reports, the adapter's
 * Discovering following the union of sessions, a client's session ending
 * when it leaves the bus, RSSI updates while discovering, temporary
 * devices removed once discovery stops, a Flood() ending with the
 * discovery it was seen by, and an adapter removed and added again.
 */
#include "sim-fixture.h"
#include "sim-expect.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define ADAPTER "/org/bluez/hci0"
#define ADAPTER1 "org.bluez.Adapter1"
#define WAIT_MSEC 10000

static SimFixture *fx;

/* Calls an Adapter1 method from @client; returns the error or NULL. */
static GError *
adapter_call (GDBusConnection *client,
              const char      *method,
              GVariant        *params)
{
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;

  reply = g_dbus_connection_call_sync (client, "org.bluez", ADAPTER, ADAPTER1, method,
                                       params, NULL, G_DBUS_CALL_FLAGS_NONE,
                                       WAIT_MSEC, NULL, &error);
  return error;
}

static void
must (GDBusConnection *client,
      const char      *method)
{
  g_autoptr(GError) error = adapter_call (client, method, NULL);

  if (error != NULL)
    fail_msg ("%s: %s", method, error->message);
}

static void
expect_error (GError     *error,
              const char *name,
              const char *message)
{
  g_autoptr(GError) owned = error;
  g_autofree char *problem = sim_fixture_check_remote_error (owned, name, message);

  if (problem != NULL)
    fail_msg ("%s", problem);
}

static gboolean
discovering (void)
{
  g_autoptr(GVariant) value = sim_fixture_get_property (fx, ADAPTER, ADAPTER1, "Discovering");

  if (value == NULL)
    fail_msg ("the adapter has no Discovering property");
  return g_variant_get_boolean (value);
}

static void
wait_discovering (gboolean value)
{
  if (!sim_fixture_wait_property (fx, ADAPTER, ADAPTER1, "Discovering",
                                  g_variant_new_boolean (value), WAIT_MSEC))
    fail_msg ("Discovering did not become %s", value ? "true" : "false");
}

static void
test_filter_keys (void **state)
{
  static const char * const keys[] = {
    "UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData", "Discoverable",
    "Pattern", NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree const char **got = NULL;

  reply = sim_fixture_call_bluez (fx, ADAPTER, ADAPTER1, "GetDiscoveryFilters", NULL, &error);
  if (reply == NULL)
    fail_msg ("GetDiscoveryFilters: %s", error->message);
  g_variant_get (reply, "(^a&s)", &got);
  if (!g_strv_equal (got, keys))
    {
      g_autofree char *text = g_strjoinv (" ", (char **) got);

      fail_msg ("GetDiscoveryFilters gave [%s]; bluetoothd 5.66 gives "
                "UUIDs RSSI Pathloss Transport DuplicateData Discoverable Pattern", text);
    }
}

/* Every documented key with a valid value is accepted, and an empty
 * dictionary clears the filter. */
static void
test_filter_valid (void **state)
{
  GVariantBuilder b;
  const char *uuids[] = { "0000180d-0000-1000-8000-00805f9b34fb", NULL };

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "UUIDs", g_variant_new_strv (uuids, -1));
  g_variant_builder_add (&b, "{sv}", "RSSI", g_variant_new_int16 (-90));
  g_variant_builder_add (&b, "{sv}", "Transport", g_variant_new_string ("le"));
  g_variant_builder_add (&b, "{sv}", "DuplicateData", g_variant_new_boolean (FALSE));
  g_variant_builder_add (&b, "{sv}", "Discoverable", g_variant_new_boolean (FALSE));
  g_variant_builder_add (&b, "{sv}", "Pattern", g_variant_new_string (""));
  {
    g_autoptr(GError) error = adapter_call (sim_fixture_get_connection (fx),
                                            "SetDiscoveryFilter",
                                            g_variant_new ("(a{sv})", &b));
    if (error != NULL)
      fail_msg ("a valid filter was refused: %s", error->message);
  }
  {
    g_autoptr(GError) error = adapter_call (sim_fixture_get_connection (fx),
                                            "SetDiscoveryFilter",
                                            g_variant_new ("(a{sv})", NULL));
    if (error != NULL)
      fail_msg ("clearing the filter was refused: %s", error->message);
  }
}

/* Two clients: each has its own session; the adapter discovers while
 * either does; a client that never started cannot stop the other's. */
static void
test_sessions_per_client (void **state)
{
  GDBusConnection *a = sim_fixture_get_connection (fx);
  g_autoptr(GDBusConnection) b = sim_expect_new_client (fx, "second client");

  assert_false (discovering ());
  must (a, "StartDiscovery");
  wait_discovering (TRUE);
  must (b, "StartDiscovery");
  expect_error (adapter_call (b, "StartDiscovery", NULL),
                "org.bluez.Error.InProgress", "Operation already in progress");

  must (a, "StopDiscovery");
  expect_error (adapter_call (a, "StopDiscovery", NULL),
                "org.bluez.Error.Failed", "No discovery started");
  /* b still discovers. */
  g_usleep (200 * 1000);
  assert_true (discovering ());

  must (b, "StopDiscovery");
  wait_discovering (FALSE);
  g_dbus_connection_close_sync (b, NULL, NULL);
}

/* A client that leaves the bus loses its session, as if it had stopped. */
static void
test_session_ends_with_client (void **state)
{
  g_autoptr(GDBusConnection) b = sim_expect_new_client (fx, "second client");

  assert_false (discovering ());
  must (b, "StartDiscovery");
  wait_discovering (TRUE);
  g_dbus_connection_close_sync (b, NULL, NULL);
  wait_discovering (FALSE);
}

typedef struct {
  guint rssi_changes;
  guint removed;
} Seen;

static void
on_signal (GDBusConnection *connection,
           const char      *sender,
           const char      *path,
           const char      *interface,
           const char      *signal,
           GVariant        *params,
           gpointer         user_data)
{
  Seen *seen = user_data;

  if (strcmp (signal, "PropertiesChanged") == 0 &&
      g_variant_is_of_type (params, G_VARIANT_TYPE ("(sa{sv}as)")))
    {
      g_autoptr(GVariant) changed = g_variant_get_child_value (params, 1);
      g_autoptr(GVariant) rssi = g_variant_lookup_value (changed, "RSSI", G_VARIANT_TYPE_INT16);

      if (rssi != NULL)
        seen->rssi_changes++;
    }
  else if (strcmp (signal, "InterfacesRemoved") == 0 &&
           g_variant_is_of_type (params, G_VARIANT_TYPE ("(oas)")))
    {
      g_autofree const char **ifaces = NULL;

      g_variant_get (params, "(&o^a&s)", NULL, &ifaces);
      if (g_strv_contains (ifaces, "org.bluez.Device1"))
        seen->removed++;
    }
}

static gboolean
some_rssi (gpointer data)
{
  return ((Seen *) data)->rssi_changes >= 3;
}

/* Whether no device object is left under the adapter; *@left counts. */
static gboolean
all_removed (gpointer data)
{
  gsize *left = data;
  g_autoptr(GVariant) all = sim_fixture_get_objects (fx, NULL);
  gsize prefix_len = strlen (ADAPTER "/dev_");

  *left = 0;
  for (gsize i = 0; all != NULL && i < g_variant_n_children (all); i++)
    {
      const char *path = NULL;

      g_variant_get_child (all, i, "{&o@a{sa{sv}}}", &path, NULL);
      if (g_str_has_prefix (path, ADAPTER "/dev_") && strchr (path + prefix_len, '/') == NULL)
        (*left)++;
    }
  return all != NULL && *left == 0;
}

/* While discovering, advertisements update RSSI; once discovery stops,
 * devices that are neither connected nor paired go away after the
 * temporary timeout (shortened here through the control interface). */
static void
test_rssi_and_temporary_devices (void **state)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  gsize left = 0;
  Seen seen = { 0, 0 };
  guint subscription;

  g_main_context_push_thread_default (context);
  subscription = g_dbus_connection_signal_subscribe (sim_fixture_get_connection (fx),
                                                     "org.bluez", NULL, NULL, NULL, NULL,
                                                     G_DBUS_SIGNAL_FLAGS_NONE,
                                                     on_signal, &seen, NULL);
  reply = sim_fixture_call (fx, "SetTemporaryTimeout", g_variant_new ("(u)", 500), &error);
  if (reply == NULL)
    fail_msg ("SetTemporaryTimeout: %s", error->message);

  must (sim_fixture_get_connection (fx), "StartDiscovery");
  if (!sim_fixture_wait_until (some_rssi, &seen, WAIT_MSEC))
    fail_msg ("only %u RSSI updates while discovering", seen.rssi_changes);
  must (sim_fixture_get_connection (fx), "StopDiscovery");
  wait_discovering (FALSE);

  if (!sim_fixture_wait_until (all_removed, &left, WAIT_MSEC))
    fail_msg ("%" G_GSIZE_FORMAT " discovered devices still there after discovery "
              "stopped and the temporary timeout passed", left);
  assert_true (seen.removed > 0);

  g_dbus_connection_signal_unsubscribe (sim_fixture_get_connection (fx), subscription);
  g_main_context_pop_thread_default (context);
}

static gboolean
flood_seen (gpointer data)
{
  guint *added = data;

  return *added >= 200;
}

static void
on_added (GDBusConnection *connection,
          const char      *sender,
          const char      *path,
          const char      *interface,
          const char      *signal,
          GVariant        *params,
          gpointer         user_data)
{
  guint *added = user_data;
  g_autoptr(GVariant) ifaces = NULL;
  g_autoptr(GVariant) props = NULL;
  const char *name = NULL;

  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(oa{sa{sv}})")))
    return;
  ifaces = g_variant_get_child_value (params, 1);
  props = g_variant_lookup_value (ifaces, "org.bluez.Device1", G_VARIANT_TYPE ("a{sv}"));
  if (props != NULL && g_variant_lookup (props, "Name", "&s", &name) &&
      g_str_has_prefix (name, "Flood-"))
    (*added)++;
}

/* Flood(): its advertisers show up as devices like any other, each once,
 * and the simulator keeps answering meanwhile. */
static void
test_flood (void **state)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) filters = NULL;
  guint added = 0;
  guint subscription;

  g_main_context_push_thread_default (context);
  subscription = g_dbus_connection_signal_subscribe (sim_fixture_get_connection (fx),
                                                     "org.bluez",
                                                     "org.freedesktop.DBus.ObjectManager",
                                                     "InterfacesAdded", "/", NULL,
                                                     G_DBUS_SIGNAL_FLAGS_NONE,
                                                     on_added, &added, NULL);
  must (sim_fixture_get_connection (fx), "StartDiscovery");
  reply = sim_fixture_call (fx, "Flood", g_variant_new ("(suu)", "hci0", 200, 5), &error);
  if (reply == NULL)
    fail_msg ("Flood: %s", error->message);
  if (!sim_fixture_wait_until (flood_seen, &added, 3 * WAIT_MSEC))
    fail_msg ("%u of the 200 flooding devices appeared", added);
  filters = sim_fixture_call_bluez (fx, ADAPTER, ADAPTER1, "GetDiscoveryFilters", NULL, &error);
  if (filters == NULL)
    fail_msg ("no answer during the flood: %s", error->message);
  must (sim_fixture_get_connection (fx), "StopDiscovery");
  wait_discovering (FALSE);
  /* Let late signals in: none may add a flooding device twice. */
  g_usleep (200 * 1000);
  while (g_main_context_iteration (context, FALSE))
    ;
  assert_int_equal (added, 200);
  g_dbus_connection_signal_unsubscribe (sim_fixture_get_connection (fx), subscription);
  g_main_context_pop_thread_default (context);
}

/* ---- a flood ends with the discovery it was seen by ---- */

/* Whether @path is a Flood() advertiser's device (F0:0D:.., see Flood). */
static gboolean
is_flood_device (const char *path)
{
  const char *dev = strstr (path, "/dev_F0_0D_");

  return dev != NULL && strchr (dev + 1, '/') == NULL;
}

/* Counts what a flood round shows: a flooding device added, or its
 * ManufacturerData changed. */
static void
on_flood_signal (GDBusConnection *connection,
                 const char      *sender,
                 const char      *path,
                 const char      *interface,
                 const char      *signal,
                 GVariant        *params,
                 gpointer         user_data)
{
  guint *events = user_data;

  if (strcmp (signal, "InterfacesAdded") == 0 &&
      g_variant_is_of_type (params, G_VARIANT_TYPE ("(oa{sa{sv}})")))
    {
      const char *object = NULL;

      g_variant_get (params, "(&o@a{sa{sv}})", &object, NULL);
      if (is_flood_device (object))
        (*events)++;
    }
  else if (strcmp (signal, "PropertiesChanged") == 0 && is_flood_device (path) &&
           g_variant_is_of_type (params, G_VARIANT_TYPE ("(sa{sv}as)")))
    {
      g_autoptr(GVariant) changed = g_variant_get_child_value (params, 1);
      g_autoptr(GVariant) data = g_variant_lookup_value (changed, "ManufacturerData", NULL);

      if (data != NULL)
        (*events)++;
    }
}

typedef struct {
  const guint *events;
  guint target;
} EventsWait;

static gboolean
events_reached (gpointer data)
{
  EventsWait *w = data;

  return *w->events >= w->target;
}

static void
wait_events (const guint *events,
             guint        target)
{
  EventsWait w = { events, target };

  if (!sim_fixture_wait_until (events_reached, &w, 3 * WAIT_MSEC))
    fail_msg ("%u flood signals, waited for %u", *events, target);
}

/* Runs the thread-default context for @msec: signals already on their way
 * are counted. */
static void
settle (guint msec)
{
  GMainContext *context = g_main_context_get_thread_default ();
  gint64 deadline = g_get_monotonic_time () + msec * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < deadline)
    {
      while (g_main_context_iteration (context, FALSE))
        ;
      g_usleep (10 * 1000);
    }
}

/* No flood signal for a while, and none once discovery starts again. */
static void
assert_flood_over (GDBusConnection *starter,
                   const guint     *events)
{
  guint before;

  settle (300);
  before = *events;
  settle (500);
  if (*events != before)
    fail_msg ("%u flood signals after discovery stopped", *events - before);
  must (starter, "StartDiscovery");
  wait_discovering (TRUE);
  settle (500);
  if (*events != before)
    fail_msg ("the ended flood resumed with the next discovery: %u signals",
              *events - before);
  must (starter, "StopDiscovery");
  wait_discovering (FALSE);
}

static void
start_flood (guint devices,
             guint rounds)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  reply = sim_fixture_call (fx, "Flood", g_variant_new ("(suu)", "hci0", devices, rounds),
                            &error);
  if (reply == NULL)
    fail_msg ("Flood: %s", error->message);
}

/* StopDiscovery, or the last discovering client leaving the bus, ends a
 * flood: before, a round whose flush was in flight resumed it at the next
 * StartDiscovery, and stop_discovery() could remove the flood's idle
 * without clearing flood_source. A new Flood after a new StartDiscovery
 * delivers. */
static void
test_flood_ends_with_discovery (void **state)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  GDBusConnection *bus = sim_fixture_get_connection (fx);
  g_autoptr(GDBusConnection) b = NULL;
  guint events = 0;
  guint subscription;

  /* Under memcheck this program takes each flood signal far slower than
   * the simulator (not traced) sends them, so its own calls wait behind
   * thousands of them: StopDiscovery timed out after 10 s in CI. Every
   * other setup (plain, ASan, TSan) runs this case. */
  if (g_getenv ("BLEIO_UNDER_MEMCHECK") != NULL)
    {
      g_print ("test_flood_ends_with_discovery: not run under memcheck (flood rate)\n");
      skip ();
    }

  g_main_context_push_thread_default (context);
  subscription = g_dbus_connection_signal_subscribe (bus, "org.bluez", NULL, NULL, NULL,
                                                     NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                     on_flood_signal, &events, NULL);

  /* StopDiscovery in the middle of an endless flood */
  must (bus, "StartDiscovery");
  wait_discovering (TRUE);
  start_flood (50, G_MAXUINT32);
  wait_events (&events, 150);
  must (bus, "StopDiscovery");
  wait_discovering (FALSE);
  assert_flood_over (bus, &events);

  /* a new flood in a new discovery delivers, and ends after its rounds */
  must (bus, "StartDiscovery");
  wait_discovering (TRUE);
  start_flood (50, 4);
  wait_events (&events, events + 100);
  must (bus, "StopDiscovery");
  wait_discovering (FALSE);

  /* the last discovering client leaving the bus */
  b = sim_expect_new_client (fx, "second client");
  must (b, "StartDiscovery");
  wait_discovering (TRUE);
  start_flood (50, G_MAXUINT32);
  wait_events (&events, events + 150);
  g_dbus_connection_close_sync (b, NULL, NULL);
  wait_discovering (FALSE);
  assert_flood_over (bus, &events);

  g_dbus_connection_signal_unsubscribe (bus, subscription);
  g_main_context_pop_thread_default (context);
}

/* How many objects are at or under @prefix. */
static gsize
objects_under (const char *prefix)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) all = sim_fixture_get_objects (fx, &error);
  gsize n = 0;

  if (all == NULL)
    fail_msg ("GetManagedObjects: %s", error->message);
  for (gsize i = 0; i < g_variant_n_children (all); i++)
    {
      const char *path = NULL;

      g_variant_get_child (all, i, "{&o@a{sa{sv}}}", &path, NULL);
      if (g_str_has_prefix (path, prefix))
        n++;
    }
  return n;
}

/* A controller unplugged and plugged in again: bluetoothd removes the
 * adapter with its device objects (and a flood seen through it ends), and
 * the re-added adapter discovers the peripherals around the machine, the
 * scenario's ones for its name, again. */
static void
test_adapter_readded (void **state)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  GDBusConnection *bus = sim_fixture_get_connection (fx);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *thermometer = NULL;
  g_autofree char *interesting = NULL;
  guint events = 0;
  guint before;
  guint subscription;

  /* The same flood as test_flood_ends_with_discovery: under memcheck the
   * RemoveAdapter reply waits behind thousands of flood signals this
   * program cannot take as fast as they come (it timed out after 10 s in
   * CI). The plain, ASan and TSan setups run it. */
  if (g_getenv ("BLEIO_UNDER_MEMCHECK") != NULL)
    {
      g_print ("test_adapter_readded: not run under memcheck (flood rate)\n");
      skip ();
    }

  g_main_context_push_thread_default (context);
  subscription = g_dbus_connection_signal_subscribe (bus, "org.bluez", NULL, NULL, NULL,
                                                     NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                     on_flood_signal, &events, NULL);
  must (bus, "StartDiscovery");
  wait_discovering (TRUE);
  start_flood (50, G_MAXUINT32);
  wait_events (&events, 100);

  reply = sim_fixture_call (fx, "RemoveAdapter", g_variant_new ("(s)", "hci0"), &error);
  if (reply == NULL)
    fail_msg ("RemoveAdapter: %s", error->message);
  g_clear_pointer (&reply, g_variant_unref);
  assert_int_equal (objects_under (ADAPTER), 0);

  reply = sim_fixture_call (fx, "AddAdapter",
                            g_variant_new ("(ss)", "hci0", "00:AA:01:00:00:00"), &error);
  if (reply == NULL)
    fail_msg ("AddAdapter: %s", error->message);
  /* the adapter alone: its old device objects are gone */
  assert_int_equal (objects_under (ADAPTER), 1);
  assert_int_equal (objects_under (ADAPTER "/dev_"), 0);
  assert_false (discovering ());

  settle (300);
  before = events;
  interesting = sim_fixture_find_device (fx, ADAPTER, "InterestingPeripheral", &error);
  if (interesting == NULL)
    fail_msg ("the re-added adapter does not discover the scenario's peripherals: %s",
              error->message);
  thermometer = sim_fixture_find_device (fx, ADAPTER, "Thermometer", &error);
  if (thermometer == NULL)
    fail_msg ("Thermometer: %s", error->message);
  assert_string_equal (interesting, ADAPTER "/dev_00_AA_01_01_00_01");
  /* the flood of the removed adapter did not follow its name */
  settle (300);
  assert_int_equal (events, before);

  g_dbus_connection_signal_unsubscribe (bus, subscription);
  g_main_context_pop_thread_default (context);
}

static int
group_setup (void **state)
{
  return sim_fixture_start (&fx, NULL) ? 0 : -1;
}

static int
group_teardown (void **state)
{
  g_clear_pointer (&fx, sim_fixture_free);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_filter_keys),
    cmocka_unit_test (test_filter_valid),
    cmocka_unit_test (test_sessions_per_client),
    cmocka_unit_test (test_session_ends_with_client),
    cmocka_unit_test (test_rssi_and_temporary_devices),
    cmocka_unit_test (test_flood),
    cmocka_unit_test (test_flood_ends_with_discovery),
    /* last: it replaces the adapter */
    cmocka_unit_test (test_adapter_readded),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
