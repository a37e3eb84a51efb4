/* SPDX-License-Identifier: MIT */
/*
 * Advertisement monitors as bluetoothd 5.66 runs them (src/adv_monitor.c;
 * the order and errors seen in the e2e guest are in
 * tests/data/bluez-5.66/adv-monitor-observed.json), on D-Bus: the
 * manager's properties and errors, which monitors 5.66 releases as
 * invalid, Release before and Activate after the RegisterMonitor answer,
 * DeviceFound on a passive scan (nobody discovering), monitors added and
 * removed through the root's signals, Release on UnregisterMonitor, the
 * RSSI thresholds with their DeviceLost, and a caller that leaves the bus.
 * Each test registers from a connection of its own.
 */
#include "sim-fixture.h"
#include "sim-expect.h"
#include "test-data.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define ADAPTER "/org/bluez/hci0"
#define MANAGER_IFACE "org.bluez.AdvertisementMonitorManager1"
#define MONITOR_IFACE "org.bluez.AdvertisementMonitor1"
#define ROOT "/org/bleio/test/monitors"
#define PERIPHERAL ADAPTER "/dev_00_AA_01_01_00_01"
#define WAIT_MSEC 10000

static SimFixture *fx;

static const char introspection[] =
  "<node>"
  "  <interface name='org.freedesktop.DBus.ObjectManager'>"
  "    <method name='GetManagedObjects'>"
  "      <arg type='a{oa{sa{sv}}}' direction='out'/>"
  "    </method>"
  "  </interface>"
  "  <interface name='org.bluez.AdvertisementMonitor1'>"
  "    <method name='Release'/>"
  "    <method name='Activate'/>"
  "    <method name='DeviceFound'><arg type='o' direction='in'/></method>"
  "    <method name='DeviceLost'><arg type='o' direction='in'/></method>"
  "  </interface>"
  "</node>";

/* One application: its connection, the objects it shows and every call
 * bluetoothd made on them, as "Method NAME [DEVICE]" in order, with
 * "answered" where the RegisterMonitor answer came. */
typedef struct {
  GDBusConnection *conn;
  GDBusNodeInfo *node;
  GHashTable *objects;          /* leaf name -> a{sv} of AdvertisementMonitor1 */
  GPtrArray *log;
  guint root_id;
  GArray *ids;
  gboolean answered;
  GError *error;
} App;

static const char *
leaf (const char *path)
{
  return g_str_has_prefix (path, ROOT "/") ? path + strlen (ROOT "/") : path;
}

static void
method_call (GDBusConnection *conn, const char *sender, const char *path,
             const char *iface, const char *method, GVariant *params,
             GDBusMethodInvocation *invocation, gpointer user_data)
{
  App *app = user_data;

  if (g_str_equal (method, "GetManagedObjects"))
    {
      GVariantBuilder b;
      GHashTableIter iter;
      gpointer key, value;

      g_variant_builder_init (&b, G_VARIANT_TYPE ("a{oa{sa{sv}}}"));
      g_hash_table_iter_init (&iter, app->objects);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          g_autofree char *p = g_strconcat (ROOT "/", key, NULL);

          g_variant_builder_add_parsed (&b, "{%o, {%s: %@a{sv}}}", p, MONITOR_IFACE, value);
        }
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(a{oa{sa{sv}}})", &b));
      return;
    }
  if (g_str_equal (method, "DeviceFound") || g_str_equal (method, "DeviceLost"))
    {
      const char *device;

      g_variant_get (params, "(&o)", &device);
      g_ptr_array_add (app->log, g_strdup_printf ("%s %s %s", method, leaf (path), device));
    }
  else
    g_ptr_array_add (app->log, g_strdup_printf ("%s %s", method, leaf (path)));
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static const GDBusInterfaceVTable vtable = { method_call, NULL, NULL, { 0 } };

static App *
app_new (void)
{
  App *app = g_new0 (App, 1);
  g_autoptr(GError) error = NULL;

  app->conn = sim_expect_new_client (fx, "client");
  app->node = g_dbus_node_info_new_for_xml (introspection, &error);
  assert_non_null (app->node);
  app->objects = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) g_variant_unref);
  app->log = g_ptr_array_new_with_free_func (g_free);
  app->ids = g_array_new (FALSE, FALSE, sizeof (guint));
  app->root_id = g_dbus_connection_register_object (app->conn, ROOT, app->node->interfaces[0],
                                                    &vtable, app, NULL, &error);
  assert_int_not_equal (app->root_id, 0);
  return app;
}

static void
app_free (App *app)
{
  for (guint i = 0; i < app->ids->len; i++)
    g_dbus_connection_unregister_object (app->conn, g_array_index (app->ids, guint, i));
  g_dbus_connection_unregister_object (app->conn, app->root_id);
  g_dbus_connection_close_sync (app->conn, NULL, NULL);
  g_object_unref (app->conn);
  g_dbus_node_info_unref (app->node);
  g_hash_table_unref (app->objects);
  g_ptr_array_unref (app->log);
  g_array_unref (app->ids);
  g_clear_error (&app->error);
  g_free (app);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (App, app_free)

/* A monitor object @name with the properties of @props (a text GVariant
 * a{sv}). */
static void
app_add (App        *app,
         const char *name,
         const char *props)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_strconcat (ROOT "/", name, NULL);
  GVariant *v = g_variant_parse (G_VARIANT_TYPE_VARDICT, props, NULL, NULL, &error);
  guint id;

  if (v == NULL)
    fail_msg ("%s: %s", props, error->message);
  g_hash_table_insert (app->objects, g_strdup (name), v);   /* parse gives a full reference */
  id = g_dbus_connection_register_object (app->conn, path, app->node->interfaces[1],
                                          &vtable, app, NULL, &error);
  assert_int_not_equal (id, 0);
  g_array_append_val (app->ids, id);
}

static void
registered (GObject *source, GAsyncResult *result, gpointer user_data)
{
  App *app = user_data;
  GVariant *reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                   &app->error);

  g_clear_pointer (&reply, g_variant_unref);
  app->answered = TRUE;
  g_ptr_array_add (app->log, g_strdup ("answered"));
}

static gboolean
is_answered (gpointer data)
{
  return ((App *) data)->answered;
}

/* Calls @method (RegisterMonitor, UnregisterMonitor) with @root from the
 * app's connection while its main loop serves the simulator's calls. */
static GError *
app_call (App        *app,
          const char *method,
          const char *root)
{
  app->answered = FALSE;
  g_clear_error (&app->error);
  g_dbus_connection_call (app->conn, "org.bluez", ADAPTER, MANAGER_IFACE, method,
                          g_variant_new ("(o)", root), NULL, G_DBUS_CALL_FLAGS_NONE,
                          WAIT_MSEC, NULL, registered, app);
  if (!sim_fixture_wait_until (is_answered, app, WAIT_MSEC))
    fail_msg ("%s was not answered", method);
  return g_steal_pointer (&app->error);
}

static void
app_must (App        *app,
          const char *method)
{
  g_autoptr(GError) error = app_call (app, method, ROOT);

  if (error != NULL)
    fail_msg ("%s: %s", method, error->message);
}

static int
log_index (App        *app,
           const char *entry)
{
  for (guint i = 0; i < app->log->len; i++)
    if (g_str_equal (g_ptr_array_index (app->log, i), entry))
      return (int) i;
  return -1;
}

static guint
log_count (App        *app,
           const char *entry)
{
  guint n = 0;

  for (guint i = 0; i < app->log->len; i++)
    n += g_str_equal (g_ptr_array_index (app->log, i), entry);
  return n;
}

typedef struct {
  App *app;
  const char *entry;
  guint count;
} Wait;

static gboolean
logged (gpointer data)
{
  Wait *w = data;

  return log_count (w->app, w->entry) >= w->count;
}

static void
wait_logged (App        *app,
             const char *entry,
             guint       count)
{
  Wait w = { app, entry, count };

  if (!sim_fixture_wait_until (logged, &w, WAIT_MSEC))
    fail_msg ("\"%s\" %u times: got %u", entry, count, log_count (app, entry));
}

static gboolean
never (gpointer data)
{
  return FALSE;
}

/* Runs the main loop for @msec: only to let calls that must not come have
 * their chance. */
static void
spin (guint msec)
{
  sim_fixture_wait_until (never, NULL, msec);
}

static gboolean
discovering (void)
{
  g_autoptr(GVariant) v = sim_fixture_get_property (fx, ADAPTER, "org.bluez.Adapter1",
                                                    "Discovering");

  return v != NULL && g_variant_get_boolean (v);
}

#define UUID_180D "'Type': <'or_patterns'>, 'Patterns': <[(byte 0, byte 0x03, [byte 0x0d, 0x18])]>"

/* A monitor that hears the demo's heart rate sensors (the peripheral and
 * FitnessBand, E0:00:00:00:00:06), and no other advertiser: on 5.66 by
 * their 0x180d in the UUID list; bluetoothd 5.69 and later never match a
 * UUID list pattern (test_patterns_on_parsed_structures), so on 5.82 by
 * their manufacturer data. */
static const char *
hr_monitor (void)
{
  if (test_data_bluez_is_582 ())
    return "{'Type': <'or_patterns'>, 'Patterns': <[(byte 0, byte 0xff, [byte 0xff, 0xff, 0x00]),"
           " (byte 0, byte 0xff, [byte 0x57, 0x01, 0x01])]>}";
  return "{" UUID_180D "}";
}

static void
test_manager_properties (void **state)
{
  g_autoptr(GVariant) types = sim_fixture_get_property (fx, ADAPTER, MANAGER_IFACE,
                                                        "SupportedMonitorTypes");
  g_autoptr(GVariant) features = sim_fixture_get_property (fx, ADAPTER, MANAGER_IFACE,
                                                           "SupportedFeatures");

  assert_non_null (types);
  assert_non_null (features);
  assert_true (g_variant_is_of_type (types, G_VARIANT_TYPE_STRING_ARRAY));
  assert_int_equal (g_variant_n_children (types), 1);
  {
    g_autofree const char **names = g_variant_get_strv (types, NULL);

    assert_string_equal (names[0], "or_patterns");
  }
  assert_int_equal (g_variant_n_children (features), 0);
}

/* What src/adv_monitor.c's parser and the kernel's 16-pattern limit
 * refuse, next to the edge cases they accept. */
static const struct {
  const char *name;
  const char *props;
  gboolean valid;
} cases[] = {
  { "plain", "{" UUID_180D "}", TRUE },
  { "and", "{'Type': <'and_patterns'>, 'Patterns': <[(byte 0, byte 0x03, [byte 0x0d])]>}", FALSE },
  { "notype", "{'Patterns': <[(byte 0, byte 0x03, [byte 0x0d])]>}", FALSE },
  { "nopatterns", "{'Type': <'or_patterns'>}", FALSE },
  { "emptypatterns", "{'Type': <'or_patterns'>, 'Patterns': <@a(yyay) []>}", FALSE },
  { "emptyvalue", "{'Type': <'or_patterns'>, 'Patterns': <[(byte 0, byte 0x03, @ay [])]>}", FALSE },
  { "offset31", "{'Type': <'or_patterns'>, 'Patterns': <[(byte 31, byte 0x03, [byte 1])]>}", FALSE },
  { "offset30", "{'Type': <'or_patterns'>, 'Patterns': <[(byte 30, byte 0x03, [byte 1])]>}", TRUE },
  { "toolong", "{'Type': <'or_patterns'>, 'Patterns': <[(byte 30, byte 0x03, [byte 1, 2])]>}", FALSE },
  { "type0", "{'Type': <'or_patterns'>, 'Patterns': <[(byte 0, byte 0x00, [byte 1])]>}", FALSE },
  { "type3e", "{'Type': <'or_patterns'>, 'Patterns': <[(byte 0, byte 0x3e, [byte 1])]>}", FALSE },
  { "typeff", "{'Type': <'or_patterns'>, 'Patterns': <[(byte 0, byte 0xff, [byte 1])]>}", TRUE },
  { "high21", "{" UUID_180D ", 'RSSIHighThreshold': <int16 21>}", FALSE },
  { "highbelowlow", "{" UUID_180D ", 'RSSIHighThreshold': <int16 -90>, 'RSSILowThreshold': <int16 -80>}", FALSE },
  { "lowonly", "{" UUID_180D ", 'RSSILowThreshold': <int16 -80>}", TRUE },
  { "timeout301", "{" UUID_180D ", 'RSSILowTimeout': <uint16 301>}", FALSE },
  { "timeout0", "{" UUID_180D ", 'RSSIHighThreshold': <int16 -60>, 'RSSIHighTimeout': <uint16 0>}", TRUE },
  { "sampling255", "{" UUID_180D ", 'RSSISamplingPeriod': <uint16 255>}", TRUE },
  { "sampling257", "{" UUID_180D ", 'RSSISamplingPeriod': <uint16 257>}", FALSE },
  { "int32rssi", "{" UUID_180D ", 'RSSIHighThreshold': <-60>}", FALSE },
  { "patterns16", "{'Type': <'or_patterns'>, 'Patterns': <[(byte 0, byte 1, [byte 1]), (byte 0, byte 1, [byte 2]), (byte 0, byte 1, [byte 3]), (byte 0, byte 1, [byte 4]), (byte 0, byte 1, [byte 5]), (byte 0, byte 1, [byte 6]), (byte 0, byte 1, [byte 7]), (byte 0, byte 1, [byte 8]), (byte 0, byte 1, [byte 9]), (byte 0, byte 1, [byte 10]), (byte 0, byte 1, [byte 11]), (byte 0, byte 1, [byte 12]), (byte 0, byte 1, [byte 13]), (byte 0, byte 1, [byte 14]), (byte 0, byte 1, [byte 15]), (byte 0, byte 1, [byte 16])]>}", TRUE },
  { "patterns17", "{'Type': <'or_patterns'>, 'Patterns': <[(byte 0, byte 1, [byte 1]), (byte 0, byte 1, [byte 2]), (byte 0, byte 1, [byte 3]), (byte 0, byte 1, [byte 4]), (byte 0, byte 1, [byte 5]), (byte 0, byte 1, [byte 6]), (byte 0, byte 1, [byte 7]), (byte 0, byte 1, [byte 8]), (byte 0, byte 1, [byte 9]), (byte 0, byte 1, [byte 10]), (byte 0, byte 1, [byte 11]), (byte 0, byte 1, [byte 12]), (byte 0, byte 1, [byte 13]), (byte 0, byte 1, [byte 14]), (byte 0, byte 1, [byte 15]), (byte 0, byte 1, [byte 16]), (byte 0, byte 1, [byte 17])]>}", FALSE },
};

static void
test_validation_and_order (void **state)
{
  g_autoptr(App) app = app_new ();
  int answered;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    app_add (app, cases[i].name, cases[i].props);
  app_must (app, "RegisterMonitor");
  answered = log_index (app, "answered");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    if (cases[i].valid)
      {
        g_autofree char *activate = g_strconcat ("Activate ", cases[i].name, NULL);

        wait_logged (app, activate, 1);
      }
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *activate = g_strconcat ("Activate ", cases[i].name, NULL);
      g_autofree char *release = g_strconcat ("Release ", cases[i].name, NULL);

      if (cases[i].valid)
        {
          if (log_index (app, release) >= 0 || log_index (app, activate) < answered)
            fail_msg ("%s: released, or activated before the answer", cases[i].name);
        }
      else
        {
          int r = log_index (app, release);

          if (r < 0 || r > answered || log_index (app, activate) >= 0)
            fail_msg ("%s: not released before the answer, or activated", cases[i].name);
        }
    }
  app_must (app, "UnregisterMonitor");
  /* only the monitors still registered are released again */
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *release = g_strconcat ("Release ", cases[i].name, NULL);

      wait_logged (app, release, 1);
    }
  spin (200);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *release = g_strconcat ("Release ", cases[i].name, NULL);

      assert_int_equal (log_count (app, release), 1);
    }
}

static void
test_errors (void **state)
{
  g_autoptr(App) app = app_new ();
  g_autoptr(App) other = app_new ();
  GError *error;
  g_autofree char *problem = NULL;

  app_must (app, "RegisterMonitor");
  error = app_call (app, "RegisterMonitor", ROOT);
  problem = sim_fixture_check_remote_error (error, "org.bluez.Error.AlreadyExists", "Already Exists");
  g_clear_error (&error);
  if (problem != NULL)
    fail_msg ("second RegisterMonitor: %s", problem);
  /* the same root from another caller is another application */
  app_must (other, "RegisterMonitor");
  error = app_call (app, "UnregisterMonitor", "/org/bleio/test/nobody");
  g_clear_pointer (&problem, g_free);
  problem = sim_fixture_check_remote_error (error, "org.bluez.Error.DoesNotExist", "Does Not Exist");
  g_clear_error (&error);
  if (problem != NULL)
    fail_msg ("UnregisterMonitor of an unknown root: %s", problem);
  app_must (app, "UnregisterMonitor");
  error = app_call (app, "UnregisterMonitor", ROOT);
  g_clear_pointer (&problem, g_free);
  problem = sim_fixture_check_remote_error (error, "org.bluez.Error.DoesNotExist", "Does Not Exist");
  g_clear_error (&error);
  if (problem != NULL)
    fail_msg ("second UnregisterMonitor: %s", problem);
  app_must (other, "UnregisterMonitor");
}

/* Nobody discovers: the monitor alone makes the advertisers heard. */
static void
test_passive_device_found (void **state)
{
  g_autoptr(App) app = app_new ();
  guint before;

  assert_false (discovering ());
  app_add (app, "hr", hr_monitor ());
  app_add (app, "nobody", "{'Type': <'or_patterns'>, 'Patterns': <[(byte 0, byte 0xff, [byte 0x34, 0x12, 0x77])]>}");
  app_must (app, "RegisterMonitor");
  /* without thresholds, every advertisement that matches */
  wait_logged (app, "DeviceFound hr " PERIPHERAL, 2);
  wait_logged (app, "DeviceFound hr " ADAPTER "/dev_E0_00_00_00_00_06", 1);
  assert_false (discovering ());
  {
    g_autoptr(GVariant) address = sim_fixture_get_property (fx, PERIPHERAL, "org.bluez.Device1",
                                                            "Address");
    assert_non_null (address);
  }
  for (guint i = 0; i < app->log->len; i++)
    {
      const char *entry = g_ptr_array_index (app->log, i);

      if (g_str_has_prefix (entry, "DeviceFound nobody")
          || g_str_has_prefix (entry, "DeviceFound hr " ADAPTER "/dev_00_1B_DC"))
        fail_msg ("a monitor matched what it should not: %s", entry);
    }
  app_must (app, "UnregisterMonitor");
  wait_logged (app, "Release hr", 1);
  before = log_count (app, "DeviceFound hr " PERIPHERAL);
  spin (1500);
  assert_int_equal (log_count (app, "DeviceFound hr " PERIPHERAL), before);
}

static void
emit (App        *app,
      const char *signal,
      GVariant   *params)
{
  g_autoptr(GError) error = NULL;

  if (!g_dbus_connection_emit_signal (app->conn, NULL, ROOT, "org.freedesktop.DBus.ObjectManager",
                                      signal, params, &error))
    fail_msg ("%s: %s", signal, error->message);
}

static void
test_interfaces_added_removed (void **state)
{
  g_autoptr(App) app = app_new ();
  g_autoptr(GVariant) props = NULL;
  guint before;

  app_must (app, "RegisterMonitor");
  app_add (app, "late", hr_monitor ());
  props = g_variant_ref (g_hash_table_lookup (app->objects, "late"));
  emit (app, "InterfacesAdded",
        g_variant_new_parsed ("(%o, {%s: %@a{sv}})", ROOT "/late", MONITOR_IFACE, props));
  wait_logged (app, "Activate late", 1);
  wait_logged (app, "DeviceFound late " PERIPHERAL, 1);
  /* a monitor outside the root is not the application's */
  emit (app, "InterfacesAdded",
        g_variant_new_parsed ("(%o, {%s: %@a{sv}})", "/org/bleio/elsewhere", MONITOR_IFACE, props));
  emit (app, "InterfacesRemoved",
        g_variant_new_parsed ("(%o, [%s])", ROOT "/late", MONITOR_IFACE));
  spin (300);
  before = log_count (app, "DeviceFound late " PERIPHERAL);
  spin (1500);
  assert_int_equal (log_count (app, "DeviceFound late " PERIPHERAL), before);
  assert_int_equal (log_count (app, "Release late"), 0);
  assert_int_equal (log_count (app, "Activate elsewhere"), 0);
  app_must (app, "UnregisterMonitor");
  spin (200);
  assert_int_equal (log_count (app, "Release late"), 0);
}

/* With thresholds: DeviceFound once the RSSI stayed above the high one
 * for its timeout (reports further apart than that timeout start the count
 * again), DeviceLost when nothing was heard for the low timeout. An
 * advertiser every 1.5 s, a high timeout of 3 s and a low one of 1 s: found,
 * lost before the next report, found again. */
static void
test_rssi_thresholds (void **state)
{
  g_autoptr(App) app = app_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = sim_fixture_add_device (fx, "hci0",
                                                  "{ \"address\": \"C0:FF:EE:00:00:41\", \"rssi\": -50,"
                                                  "  \"advertising_interval_ms\": 1500,"
                                                  "  \"manufacturer_data\": { \"0x0d41\": \"0102\" } }",
                                                  &error);
  g_autofree char *found = NULL, *lost = NULL, *plain = NULL;

  if (path == NULL)
    fail_msg ("AddDevice: %s", error->message);
  app_add (app, "near", "{'Type': <'or_patterns'>, 'Patterns': <[(byte 0, byte 0xff, [byte 0x41, 0x0d, 0x01])]>,"
                        " 'RSSIHighThreshold': <int16 -90>, 'RSSILowThreshold': <int16 -100>,"
                        " 'RSSIHighTimeout': <uint16 3>, 'RSSILowTimeout': <uint16 1>}");
  app_add (app, "far", "{'Type': <'or_patterns'>, 'Patterns': <[(byte 0, byte 0xff, [byte 0x41, 0x0d, 0x01])]>,"
                       " 'RSSIHighThreshold': <int16 -40>, 'RSSIHighTimeout': <uint16 1>}");
  app_must (app, "RegisterMonitor");
  found = g_strconcat ("DeviceFound near ", path, NULL);
  lost = g_strconcat ("DeviceLost near ", path, NULL);
  wait_logged (app, found, 1);
  wait_logged (app, lost, 1);
  wait_logged (app, found, 2);
  assert_true (log_index (app, found) < log_index (app, lost));
  /* -50 is never above -40 */
  plain = g_strconcat ("DeviceFound far ", path, NULL);
  assert_int_equal (log_count (app, plain), 0);
  app_must (app, "UnregisterMonitor");
  assert_true (sim_fixture_remove_device (fx, path, NULL));
}

/* The quirk of bluetoothd 5.69 and later (issue 21, docs/bluez-versions.md):
 * it parses UUID lists and names into fields of their own and matches
 * or_patterns only against the structures it keeps whole, manufacturer
 * data (company id first) and service data, whose pattern it compares with
 * the data after the UUID. 5.66 compares every pattern with the raw
 * structure. On the demo peripheral (0x180d in its UUID list, service data
 * 0x9999 00 01 02 03 04): */
static void
test_patterns_on_parsed_structures (void **state)
{
  g_autoptr(App) app = app_new ();
  gboolean newer = test_data_bluez_is_582 ();

  app_add (app, "uuid", "{" UUID_180D "}");
  app_add (app, "svcraw", "{'Type': <'or_patterns'>, 'Patterns': <[(byte 0, byte 0x16, [byte 0x99, 0x99, 0x00])]>}");
  app_add (app, "svcdata", "{'Type': <'or_patterns'>, 'Patterns': <[(byte 0, byte 0x16, [byte 0x00, 0x01, 0x02])]>}");
  app_add (app, "mfr", "{'Type': <'or_patterns'>, 'Patterns': <[(byte 0, byte 0xff, [byte 0xff, 0xff, 0x00, 0x01])]>}");
  app_must (app, "RegisterMonitor");
  /* the manufacturer data matches on both: the advertisements arrive */
  wait_logged (app, "DeviceFound mfr " PERIPHERAL, 2);
  if (newer)
    {
      wait_logged (app, "DeviceFound svcdata " PERIPHERAL, 1);
      assert_int_equal (log_count (app, "DeviceFound uuid " PERIPHERAL), 0);
      assert_int_equal (log_count (app, "DeviceFound svcraw " PERIPHERAL), 0);
    }
  else
    {
      wait_logged (app, "DeviceFound uuid " PERIPHERAL, 1);
      wait_logged (app, "DeviceFound svcraw " PERIPHERAL, 1);
      assert_int_equal (log_count (app, "DeviceFound svcdata " PERIPHERAL), 0);
    }
  app_must (app, "UnregisterMonitor");
  wait_logged (app, "Release mfr", 1);
}

/* A caller that leaves the bus is forgotten: its root can be registered
 * again by the next one, and nothing is called on it. */
static void
test_caller_leaves (void **state)
{
  App *app = app_new ();
  g_autoptr(App) next = app_new ();

  app_add (app, "hr", hr_monitor ());
  app_must (app, "RegisterMonitor");
  wait_logged (app, "Activate hr", 1);
  app_free (app);
  app_add (next, "hr", hr_monitor ());
  app_must (next, "RegisterMonitor");
  wait_logged (next, "DeviceFound hr " PERIPHERAL, 1);
  app_must (next, "UnregisterMonitor");
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
    cmocka_unit_test (test_manager_properties),
    cmocka_unit_test (test_validation_and_order),
    cmocka_unit_test (test_errors),
    cmocka_unit_test (test_passive_device_found),
    cmocka_unit_test (test_interfaces_added_removed),
    cmocka_unit_test (test_rssi_thresholds),
    cmocka_unit_test (test_caller_leaves),
    cmocka_unit_test (test_patterns_on_parsed_structures),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
