/* SPDX-License-Identifier: MIT */
/*
 * The order of org.bluez's signals, against
 * tests/data/bluez-5.66/signals-discovery-to-disconnect.json: the
 * same session is replayed on the demo peripheral (discover, stop, connect,
 * acquire notifications, pair through a security requirement, disconnect)
 * and each phase checks the ordering rules the reference shows:
 *
 *  - Discovering=true comes before the device's InterfacesAdded;
 *  - InterfacesAdded lists Introspectable and Properties beside the
 *    BlueZ interface, for devices and GATT objects alike;
 *  - stopping discovery invalidates the device's RSSI before
 *    Discovering=false;
 *  - Connected=true, then every GATT object added in handle order, then one
 *    PropertiesChanged carrying UUIDs and ServicesResolved=true, then
 *    Battery1 added to the device;
 *  - AcquireNotify changes NotifyAcquired, never Notifying;
 *  - pairing sets Bonded and Paired in one signal;
 *  - disconnecting removes Battery1, then ServicesResolved=false, then
 *    Connected=false, and a bonded device's GATT objects stay.
 *
 * The phases share one simulator and run in order, as the reference did.
 */
#include "sim-fixture.h"

#include <gio/gunixfdlist.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define DEMO_NAME "InterestingPeripheral"
#define ADAPTER "/org/bluez/hci0"
#define DEVICE1 "org.bluez.Device1"
#define CHR1 "org.bluez.GattCharacteristic1"
#define HEART_RATE_MEASUREMENT "00002a37-0000-1000-8000-00805f9b34fb"
/* tools/bleio-sim/scenarios/demo.json: read needs encryption. */
#define DEMO_ENCRYPTED_UUID "12345678-1234-5678-1234-56789abcdef5"
#define WAIT_MSEC 10000

typedef struct {
  char *signal;       /* InterfacesAdded, InterfacesRemoved, PropertiesChanged */
  char *path;         /* the object the signal is about */
  char *interface;    /* PropertiesChanged: the interface */
  GVariant *changed;  /* PropertiesChanged: a{sv} */
  GStrv names;        /* interfaces added/removed, or invalidated properties */
  char *name;         /* InterfacesAdded of a Device1: its Name, if any */
} Event;

static SimFixture *fx;
static SimAgent *agent;
static GMainContext *context;
static GPtrArray *events;
static guint subscription;
static char *device;

static void
event_free (gpointer data)
{
  Event *e = data;

  g_free (e->signal);
  g_free (e->path);
  g_free (e->interface);
  g_clear_pointer (&e->changed, g_variant_unref);
  g_strfreev (e->names);
  g_free (e->name);
  g_free (e);
}

static void
on_signal (GDBusConnection *connection,
           const char      *sender,
           const char      *path,
           const char      *interface,
           const char      *signal,
           GVariant        *params,
           gpointer         user_data)
{
  Event *e = g_new0 (Event, 1);

  e->signal = g_strdup (signal);
  if (strcmp (signal, "PropertiesChanged") == 0 &&
      g_variant_is_of_type (params, G_VARIANT_TYPE ("(sa{sv}as)")))
    {
      e->path = g_strdup (path);
      g_variant_get (params, "(s@a{sv}^as)", &e->interface, &e->changed, &e->names);
    }
  else if (strcmp (signal, "InterfacesAdded") == 0 &&
           g_variant_is_of_type (params, G_VARIANT_TYPE ("(oa{sa{sv}})")))
    {
      g_autoptr(GVariant) ifaces = NULL;
      GVariantIter iter;
      const char *name;
      GPtrArray *names = g_ptr_array_new ();

      g_variant_get (params, "(o@a{sa{sv}})", &e->path, &ifaces);
      g_variant_iter_init (&iter, ifaces);
      for (;;)
        {
          g_autoptr(GVariant) props = NULL;

          if (!g_variant_iter_next (&iter, "{&s@a{sv}}", &name, &props))
            break;
          g_ptr_array_add (names, g_strdup (name));
          if (strcmp (name, DEVICE1) == 0)
            g_variant_lookup (props, "Name", "s", &e->name);
        }
      g_ptr_array_add (names, NULL);
      e->names = (GStrv) g_ptr_array_free (names, FALSE);
    }
  else if (strcmp (signal, "InterfacesRemoved") == 0 &&
           g_variant_is_of_type (params, G_VARIANT_TYPE ("(oas)")))
    {
      g_variant_get (params, "(o^as)", &e->path, &e->names);
    }
  else
    {
      event_free (e);
      return;
    }
  g_ptr_array_add (events, e);
}

/* Lets queued signals in; returns after @quiet_msec without new ones. */
static void
settle (guint quiet_msec)
{
  gint64 quiet_since = g_get_monotonic_time ();
  gint64 deadline = quiet_since + WAIT_MSEC * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      if (g_main_context_iteration (context, FALSE))
        quiet_since = g_get_monotonic_time ();
      else if (g_get_monotonic_time () - quiet_since > (gint64) quiet_msec * 1000)
        return;
      else
        g_usleep (2000);
    }
}

static gboolean
event_is_change (const Event *e,
                 const char  *path,
                 const char  *interface,
                 const char  *property,
                 GVariant    *value)
{
  g_autoptr(GVariant) wanted = value != NULL ? g_variant_take_ref (value) : NULL;
  g_autoptr(GVariant) got = NULL;

  if (strcmp (e->signal, "PropertiesChanged") != 0 || strcmp (e->path, path) != 0 ||
      strcmp (e->interface, interface) != 0)
    return FALSE;
  got = g_variant_lookup_value (e->changed, property, NULL);
  if (got == NULL)
    return FALSE;
  return wanted == NULL || g_variant_equal (got, wanted);
}

/* Index of the first event from @from on that satisfies the test, or -1. */
static int
find_change (guint       from,
             const char *path,
             const char *interface,
             const char *property,
             GVariant   *value)
{
  g_autoptr(GVariant) wanted = value != NULL ? g_variant_take_ref (value) : NULL;

  for (guint i = from; i < events->len; i++)
    if (event_is_change (g_ptr_array_index (events, i), path, interface, property,
                         wanted != NULL ? g_variant_ref (wanted) : NULL))
      return (int) i;
  return -1;
}

static int
find_interfaces (guint       from,
                 const char *signal,
                 const char *path,
                 const char *interface)
{
  for (guint i = from; i < events->len; i++)
    {
      Event *e = g_ptr_array_index (events, i);

      if (strcmp (e->signal, signal) == 0 && strcmp (e->path, path) == 0 &&
          (interface == NULL || g_strv_contains ((const char * const *) e->names, interface)))
        return (int) i;
    }
  return -1;
}

typedef struct {
  const char *path;
  const char *interface;
  const char *property;
  GVariant *value;
  const char *signal;   /* or wait for this signal with interface on path */
} Awaited;

static gboolean
awaited_seen (gpointer data)
{
  Awaited *a = data;

  if (a->signal != NULL)
    return find_interfaces (0, a->signal, a->path, a->interface) >= 0;
  return find_change (0, a->path, a->interface, a->property,
                      a->value != NULL ? g_variant_ref (a->value) : NULL) >= 0;
}

static void
wait_change (const char *path,
             const char *interface,
             const char *property,
             GVariant   *value)
{
  g_autoptr(GVariant) sunk = g_variant_ref_sink (value);
  Awaited a = { path, interface, property, sunk, NULL };

  if (!sim_fixture_wait_until (awaited_seen, &a, WAIT_MSEC))
    fail_msg ("no PropertiesChanged %s.%s on %s within %d ms", interface,
              property, path, WAIT_MSEC);
}

static void
wait_interfaces (const char *signal,
                 const char *path,
                 const char *interface)
{
  Awaited a = { path, interface, NULL, NULL, signal };

  if (!sim_fixture_wait_until (awaited_seen, &a, WAIT_MSEC))
    fail_msg ("no %s of %s on %s within %d ms", signal, interface, path, WAIT_MSEC);
}

static void
clear_events (void)
{
  settle (50);
  g_ptr_array_set_size (events, 0);
}

static GVariant *
call (const char *path,
      const char *interface,
      const char *method,
      GVariant   *params)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = sim_fixture_call_bluez (fx, path, interface, method, params, &error);

  if (reply == NULL)
    fail_msg ("%s.%s on %s: %s", interface, method, path, error->message);
  return reply;
}

static void
assert_standard_interfaces (const Event *e,
                            const char  *main_interface)
{
  static const char * const standard[] = {
    "org.freedesktop.DBus.Introspectable", "org.freedesktop.DBus.Properties", NULL
  };

  if (!g_strv_contains ((const char * const *) e->names, main_interface))
    fail_msg ("InterfacesAdded of %s lacks %s", e->path, main_interface);
  for (const char * const *s = standard; *s != NULL; s++)
    if (!g_strv_contains ((const char * const *) e->names, *s))
      fail_msg ("InterfacesAdded of %s lists no %s (bluetoothd's does)", e->path, *s);
}

/* Notes the demo peripheral's path once its InterfacesAdded came. */
static gboolean
demo_added (gpointer data)
{
  for (guint i = 0; device == NULL && i < events->len; i++)
    {
      Event *e = g_ptr_array_index (events, i);

      if (strcmp (e->signal, "InterfacesAdded") == 0 && g_strcmp0 (e->name, DEMO_NAME) == 0 &&
          g_str_has_prefix (e->path, ADAPTER "/dev_"))
        device = g_strdup (e->path);
    }
  return device != NULL;
}

static void
test_discovery (void **state)
{
  g_autoptr(GVariant) reply = NULL;
  int discovering;
  int added;

  clear_events ();
  reply = call (ADAPTER, "org.bluez.Adapter1", "StartDiscovery", NULL);
  wait_change (ADAPTER, "org.bluez.Adapter1", "Discovering", g_variant_new_boolean (TRUE));
  if (!sim_fixture_wait_until (demo_added, NULL, WAIT_MSEC))
    fail_msg ("the demo peripheral was not added within %d ms", WAIT_MSEC);

  discovering = find_change (0, ADAPTER, "org.bluez.Adapter1", "Discovering",
                             g_variant_new_boolean (TRUE));
  added = find_interfaces (0, "InterfacesAdded", device, DEVICE1);
  if (discovering > added)
    fail_msg ("the device was added (event %d) before Discovering=true (event %d)",
              added, discovering);
  assert_standard_interfaces (g_ptr_array_index (events, added), DEVICE1);
}

static void
test_stop_discovery (void **state)
{
  g_autoptr(GVariant) reply = NULL;
  int invalidated = -1;
  int stopped;

  if (device == NULL)
    fail_msg ("no device from the discovery case");
  clear_events ();
  reply = call (ADAPTER, "org.bluez.Adapter1", "StopDiscovery", NULL);
  wait_change (ADAPTER, "org.bluez.Adapter1", "Discovering", g_variant_new_boolean (FALSE));
  settle (100);

  stopped = find_change (0, ADAPTER, "org.bluez.Adapter1", "Discovering",
                         g_variant_new_boolean (FALSE));
  for (guint i = 0; i < events->len; i++)
    {
      Event *e = g_ptr_array_index (events, i);

      if (strcmp (e->signal, "PropertiesChanged") == 0 && strcmp (e->path, device) == 0 &&
          g_strv_contains ((const char * const *) e->names, "RSSI"))
        invalidated = (int) i;
    }
  if (invalidated < 0)
    fail_msg ("stopping discovery did not invalidate the device's RSSI");
  if (invalidated > stopped)
    fail_msg ("RSSI was invalidated (event %d) after Discovering=false (event %d)",
              invalidated, stopped);
}

static void
test_connect (void **state)
{
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *prefix = NULL;
  const char *last_gatt = "";
  int connected;
  int resolved;
  int battery;
  guint gatt_objects = 0;

  if (device == NULL)
    fail_msg ("no device from the discovery case");
  prefix = g_strconcat (device, "/", NULL);
  clear_events ();
  reply = call (device, DEVICE1, "Connect", NULL);
  wait_change (device, DEVICE1, "ServicesResolved", g_variant_new_boolean (TRUE));
  wait_interfaces ("InterfacesAdded", device, "org.bluez.Battery1");
  settle (100);

  connected = find_change (0, device, DEVICE1, "Connected", g_variant_new_boolean (TRUE));
  resolved = find_change (0, device, DEVICE1, "ServicesResolved", g_variant_new_boolean (TRUE));
  battery = find_interfaces (0, "InterfacesAdded", device, "org.bluez.Battery1");
  if (connected < 0)
    fail_msg ("no Connected=true");
  if (!event_is_change (g_ptr_array_index (events, resolved), device, DEVICE1, "UUIDs", NULL))
    fail_msg ("ServicesResolved=true came without UUIDs in the same signal");
  if (battery < resolved)
    fail_msg ("Battery1 was added (event %d) before ServicesResolved (event %d)",
              battery, resolved);

  for (guint i = 0; i < events->len; i++)
    {
      Event *e = g_ptr_array_index (events, i);
      const char *kind;

      if (strcmp (e->signal, "InterfacesAdded") != 0 || !g_str_has_prefix (e->path, prefix))
        continue;
      gatt_objects++;
      if ((int) i < connected || (int) i > resolved)
        fail_msg ("%s was added (event %u) outside Connected=true (%d) .. "
                  "ServicesResolved=true (%d)", e->path, i, connected, resolved);
      if (strcmp (e->path, last_gatt) <= 0)
        fail_msg ("%s was added after %s: not in handle order", e->path, last_gatt);
      last_gatt = e->path;
      kind = strstr (e->path, "/desc") != NULL ? "org.bluez.GattDescriptor1"
             : strstr (e->path, "/char") != NULL ? CHR1 : "org.bluez.GattService1";
      assert_standard_interfaces (e, kind);
    }
  if (gatt_objects < 8)
    fail_msg ("only %u GATT objects were added while connecting", gatt_objects);
}

static void
test_acquire_notify (void **state)
{
  static const char * const notify[] = { "notify", NULL };
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *chr = NULL;

  if (device == NULL)
    fail_msg ("no device from the discovery case");
  chr = sim_fixture_find_gatt (fx, device, CHR1, HEART_RATE_MEASUREMENT, notify, NULL);
  if (chr == NULL)
    fail_msg ("no heart rate measurement characteristic");
  clear_events ();
  reply = g_dbus_connection_call_with_unix_fd_list_sync (sim_fixture_get_connection (fx),
                                                         "org.bluez", chr, CHR1,
                                                         "AcquireNotify",
                                                         g_variant_new ("(a{sv})", NULL),
                                                         G_VARIANT_TYPE ("(hq)"),
                                                         G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC,
                                                         NULL, &fds, NULL, &error);
  if (reply == NULL)
    fail_msg ("AcquireNotify: %s", error->message);
  wait_change (chr, CHR1, "NotifyAcquired", g_variant_new_boolean (TRUE));
  g_clear_object (&fds);
  wait_change (chr, CHR1, "NotifyAcquired", g_variant_new_boolean (FALSE));
  settle (100);
  if (find_change (0, chr, CHR1, "Notifying", NULL) >= 0)
    fail_msg ("AcquireNotify changed Notifying; bluetoothd changes NotifyAcquired only");
}

static void
test_pair_by_security (void **state)
{
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *chr = NULL;
  int both;

  if (device == NULL)
    fail_msg ("no device from the discovery case");
  chr = sim_fixture_find_gatt (fx, device, CHR1, DEMO_ENCRYPTED_UUID, NULL, NULL);
  if (chr == NULL)
    fail_msg ("no encrypted characteristic in the demo");
  clear_events ();
  reply = call (chr, CHR1, "ReadValue", g_variant_new ("(a{sv})", NULL));
  wait_change (device, DEVICE1, "Paired", g_variant_new_boolean (TRUE));
  settle (100);
  both = find_change (0, device, DEVICE1, "Paired", g_variant_new_boolean (TRUE));
  if (!event_is_change (g_ptr_array_index (events, both), device, DEVICE1, "Bonded",
                        g_variant_new_boolean (TRUE)))
    fail_msg ("Paired=true came without Bonded=true in the same signal");
}

static void
test_disconnect (void **state)
{
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *service = NULL;
  int battery;
  int resolved;
  int connected;

  if (device == NULL)
    fail_msg ("no device from the discovery case");
  prefix = g_strconcat (device, "/", NULL);
  clear_events ();
  reply = call (device, DEVICE1, "Disconnect", NULL);
  wait_change (device, DEVICE1, "Connected", g_variant_new_boolean (FALSE));
  settle (200);

  battery = find_interfaces (0, "InterfacesRemoved", device, "org.bluez.Battery1");
  resolved = find_change (0, device, DEVICE1, "ServicesResolved", g_variant_new_boolean (FALSE));
  connected = find_change (0, device, DEVICE1, "Connected", g_variant_new_boolean (FALSE));
  if (battery < 0)
    fail_msg ("Battery1 was not removed on disconnect");
  if (resolved < 0)
    fail_msg ("no ServicesResolved=false on disconnect");
  if (!(battery < resolved && resolved <= connected))
    fail_msg ("disconnect order: Battery1 removed %d, ServicesResolved=false %d, "
              "Connected=false %d; bluetoothd's is in that order", battery,
              resolved, connected);

  for (guint i = 0; i < events->len; i++)
    {
      Event *e = g_ptr_array_index (events, i);

      if (strcmp (e->signal, "InterfacesRemoved") == 0 && g_str_has_prefix (e->path, prefix))
        fail_msg ("the bonded device lost %s on disconnect", e->path);
    }
  service = sim_fixture_find_gatt (fx, device, "org.bluez.GattService1", NULL, NULL, NULL);
  if (service == NULL)
    fail_msg ("the bonded device has no GATT service left after disconnect");
}

static int
group_setup (void **state)
{
  context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  events = g_ptr_array_new_with_free_func (event_free);

  /* As in the reference: an auto-accepting default agent elsewhere. */
  if (!sim_fixture_start (&fx, &agent))
    return -1;
  subscription = g_dbus_connection_signal_subscribe (sim_fixture_get_connection (fx),
                                                     "org.bluez", NULL, NULL, NULL,
                                                     NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                     on_signal, NULL, NULL);
  return 0;
}

static int
group_teardown (void **state)
{
  if (fx != NULL && subscription != 0)
    g_dbus_connection_signal_unsubscribe (sim_fixture_get_connection (fx), subscription);
  g_clear_pointer (&agent, sim_agent_free);
  g_clear_pointer (&fx, sim_fixture_free);
  g_clear_pointer (&events, g_ptr_array_unref);
  g_clear_pointer (&device, g_free);
  g_main_context_pop_thread_default (context);
  g_clear_pointer (&context, g_main_context_unref);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_discovery),
    cmocka_unit_test (test_stop_discovery),
    cmocka_unit_test (test_connect),
    cmocka_unit_test (test_acquire_notify),
    cmocka_unit_test (test_pair_by_security),
    cmocka_unit_test (test_disconnect),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
