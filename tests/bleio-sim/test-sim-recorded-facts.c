/* SPDX-License-Identifier: MIT */
/*
 * The simulator against what real bluetoothd 5.66 answered in the e2e
 * guest (tests/data/bluez-5.66/issue15-facts.json and
 * advertising-discovered.json, recorded by tests/e2e/record-*.c; see
 * tests/e2e/README.md, "Recorded facts"). Each case replays a recorded
 * situation against bleio-sim and expects the recorded answer, read from
 * the file: recording again changes what is expected.
 *
 * test-sim-fidelity.c checks the same issue 15 items against what was read
 * in BlueZ's source; this one is the check against the running daemon.
 * No agent is registered in this group, as none was in the recording.
 */
#include "sim-fixture.h"
#include "sim-expect.h"
#include "pending-call.h"
#include "test-data.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <json-glib/json-glib.h>

#define ADAPTER "/org/bluez/hci0"
#define ADAPTER1 "org.bluez.Adapter1"
#define DEVICE1 "org.bluez.Device1"
#define CHR1 "org.bluez.GattCharacteristic1"
#define WAIT_MSEC 10000
#define READ_ONLY_UUID "0000fe01-0000-1000-8000-00805f9b34fb"

static SimFixture *fx;
static guint next_address;
static JsonParser *issue15;       /* issue15-facts.json */
static JsonParser *discovered;    /* advertising-discovered.json */

/* ---- the recordings ---- */

static JsonParser *
load (const char *name)
{
  g_autofree char *path = test_data_path_in ("bluez-5.66", name);
  g_autoptr(GError) error = NULL;
  JsonParser *parser = json_parser_new ();

  if (!json_parser_load_from_file (parser, path, &error))
    {
      g_printerr ("%s: %s\n", path, error->message);
      g_object_unref (parser);
      return NULL;
    }
  return parser;
}

/* The object at the dotted @path ("item15_write_without_write_property.
 * write_type_request") of @parser's root; fails the test when missing. */
static JsonObject *
recorded (JsonParser *parser, const char *path)
{
  g_auto(GStrv) parts = g_strsplit (path, ".", -1);
  JsonNode *node = json_parser_get_root (parser);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)
          || !json_object_has_member (json_node_get_object (node), parts[i]))
        fail_msg ("the recording has no %s", path);
      node = json_object_get_member (json_node_get_object (node), parts[i]);
    }
  if (!JSON_NODE_HOLDS_OBJECT (node))
    fail_msg ("%s in the recording is not an object", path);
  return json_node_get_object (node);
}

/* The simulator's answer (@reply or @error) is the recorded one
 * (@answer: {"ok": ...} or {"error": NAME, "message": TEXT}). */
static void
expect_recorded (JsonObject   *answer,
                 GVariant     *reply,
                 const GError *error,
                 const char   *what)
{
  if (json_object_has_member (answer, "error"))
    {
      g_autofree char *problem =
        sim_fixture_check_remote_error (error,
                                        json_object_get_string_member (answer, "error"),
                                        json_object_get_string_member (answer, "message"));

      if (problem != NULL)
        fail_msg ("%s: %s (recorded on bluetoothd 5.66)", what, problem);
    }
  else if (json_object_has_member (answer, "ok"))
    {
      if (reply == NULL)
        fail_msg ("%s: %s; bluetoothd 5.66 answered without an error", what,
                  error != NULL ? error->message : "no reply");
    }
  else
    fail_msg ("%s: the recording has no answer (it was still pending)", what);
}

/* ---- helpers ---- */

/* Adds a peripheral whose JSON entry is @extra (keys after the address
 * and name, with a leading comma, or ""), waits until discovery found it
 * and returns its path. */
static char *
new_device (const char *extra)
{
  g_autofree char *name = g_strdup_printf ("Recorded-%u", ++next_address);
  g_autofree char *address = g_strdup_printf ("C0:FF:EE:40:00:%02X", next_address);

  return sim_expect_new_device (fx, "hci0", name, address, extra);
}


static void
start (const char *path,
       const char *interface,
       const char *method,
       PendingCall *p)
{
  pending_call_start (p, sim_fixture_get_connection (fx), path, interface, method, NULL,
                      3 * WAIT_MSEC);
}

/* ---- item 10: Pair with no agent registered by anyone ---- */

static void
test_recorded_pair_without_agent (void **state)
{
  JsonObject *o = recorded (issue15, "item10_pair_without_agent");
  JsonArray *attempts = json_object_get_array_member (o, "attempts");
  g_autofree char *device = new_device ("");
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  assert_true (json_array_get_length (attempts) > 0);
  reply = sim_fixture_call_bluez (fx, device, DEVICE1, "Pair", NULL, &error);
  expect_recorded (json_object_get_object_member (json_array_get_object_element (attempts, 0),
                                                  "pair"),
                   reply, error, "Pair with no agent anywhere");
  assert_false (sim_expect_bool (fx, device, DEVICE1, "Paired"));
}

/* ---- item 11: what StopDiscovery does to RSSI and TxPower ---- */

typedef struct {
  const char *path;
  const char *name;
} PropertyWait;

static gboolean
has_property (gpointer data)
{
  PropertyWait *w = data;
  g_autoptr(GVariant) v = sim_fixture_get_property (fx, w->path, DEVICE1, w->name);

  return v != NULL;
}

typedef struct {
  const char *path;
  guint device_signals;       /* Device1 PropertiesChanged of @path */
  GHashTable *invalidated;    /* of the first one */
  guint changed;              /* properties changed in the first one */
  gboolean device_before_discovering;
  gboolean discovering_off;
} StopSeen;

static void
on_properties_changed (GDBusConnection *conn,
                       const char      *sender,
                       const char      *path,
                       const char      *interface,
                       const char      *signal,
                       GVariant        *params,
                       gpointer         user_data)
{
  StopSeen *s = user_data;
  const char *iface;
  g_autoptr(GVariant) changed = NULL;
  g_autofree const char **gone = NULL;

  g_variant_get (params, "(&s@a{sv}^a&s)", &iface, &changed, &gone);
  if (g_str_equal (path, ADAPTER) && g_str_equal (iface, ADAPTER1))
    {
      gboolean on;

      if (g_variant_lookup (changed, "Discovering", "b", &on) && !on)
        s->discovering_off = TRUE;
      return;
    }
  if (!g_str_equal (path, s->path) || !g_str_equal (iface, DEVICE1))
    return;
  if (s->device_signals++ > 0)
    return;
  s->device_before_discovering = !s->discovering_off;
  s->changed = (guint) g_variant_n_children (changed);
  for (const char **n = gone; *n != NULL; n++)
    g_hash_table_add (s->invalidated, g_strdup (*n));
}

static gboolean
stop_seen (gpointer data)
{
  StopSeen *s = data;

  return s->discovering_off && s->device_signals > 0;
}

/* @recording: the events after StopDiscovery, with the device's
 * PropertiesChanged and the adapter's Discovering false. */
static void
replay_stop_discovery (JsonArray  *recording,
                       const char *extra,
                       const char *what)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autofree char *device = new_device (extra);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GHashTable) expected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  StopSeen s = { device, 0, g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL),
                 0, FALSE, FALSE };
  gboolean recorded_device_first = FALSE, seen_device = FALSE;
  guint id;

  for (guint i = 0; i < json_array_get_length (recording); i++)
    {
      JsonObject *ev = json_array_get_object_element (recording, i);
      const char *kind = json_object_get_string_member (ev, "kind");

      if (!g_str_equal (kind, "PropertiesChanged"))
        continue;
      if (g_str_equal (json_object_get_string_member (ev, "interface"), DEVICE1)
          && !seen_device)
        {
          JsonArray *gone = json_object_get_array_member (ev, "invalidated");

          seen_device = TRUE;
          recorded_device_first = TRUE;
          for (guint j = 0; j < json_array_get_length (gone); j++)
            g_hash_table_add (expected, g_strdup (json_array_get_string_element (gone, j)));
        }
      else if (g_str_equal (json_object_get_string_member (ev, "interface"), ADAPTER1)
               && !seen_device)
        recorded_device_first = FALSE;
    }
  if (!seen_device)
    fail_msg ("%s: the recording has no Device1 change after StopDiscovery", what);

  reply = sim_fixture_call_bluez (fx, ADAPTER, ADAPTER1, "StartDiscovery", NULL, &error);
  if (reply == NULL)
    fail_msg ("StartDiscovery: %s", error->message);
  /* what the recording's device had before StopDiscovery */
  {
    GHashTableIter iter;
    gpointer name;

    g_hash_table_iter_init (&iter, expected);
    while (g_hash_table_iter_next (&iter, &name, NULL))
      {
        PropertyWait w = { device, name };

        if (!sim_fixture_wait_until (has_property, &w, WAIT_MSEC))
          fail_msg ("%s: %s never showed while discovering", what, (const char *) name);
      }
  }

  g_main_context_push_thread_default (context);
  id = g_dbus_connection_signal_subscribe (sim_fixture_get_connection (fx), "org.bluez",
                                           "org.freedesktop.DBus.Properties",
                                           "PropertiesChanged", NULL, NULL,
                                           G_DBUS_SIGNAL_FLAGS_NONE, on_properties_changed,
                                           &s, NULL);
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call_bluez (fx, ADAPTER, ADAPTER1, "StopDiscovery", NULL, &error);
  if (reply == NULL)
    fail_msg ("StopDiscovery: %s", error->message);
  if (!sim_fixture_wait_until (stop_seen, &s, WAIT_MSEC))
    fail_msg ("%s: no Device1 change or no Discovering false after StopDiscovery", what);
  g_dbus_connection_signal_unsubscribe (sim_fixture_get_connection (fx), id);
  g_main_context_pop_thread_default (context);

  if (s.changed != 0)
    fail_msg ("%s: %u properties changed with the invalidation; bluetoothd 5.66 changed "
              "none", what, s.changed);
  if (g_hash_table_size (s.invalidated) != g_hash_table_size (expected))
    fail_msg ("%s: %u properties invalidated, bluetoothd 5.66 invalidated %u in one signal",
              what, g_hash_table_size (s.invalidated), g_hash_table_size (expected));
  {
    GHashTableIter iter;
    gpointer name;

    g_hash_table_iter_init (&iter, expected);
    while (g_hash_table_iter_next (&iter, &name, NULL))
      if (!g_hash_table_contains (s.invalidated, name))
        fail_msg ("%s: %s not invalidated with the others", what, (const char *) name);
  }
  if (recorded_device_first && !s.device_before_discovering)
    fail_msg ("%s: Discovering went false before the device's change; bluetoothd 5.66 "
              "signals the device first", what);
  g_hash_table_unref (s.invalidated);
}

static void
test_recorded_stop_discovery_rssi_and_tx_power (void **state)
{
  JsonObject *o = recorded (discovered, "");

  replay_stop_discovery (json_object_get_array_member (o, "signals_after_stop"),
                         ", \"tx_power\": 0, \"advertising_interval_ms\": 50",
                         "StopDiscovery, advertiser with TX power");
}

static void
test_recorded_stop_discovery_rssi_only (void **state)
{
  JsonObject *o = recorded (issue15, "item11_stop_discovery");

  replay_stop_discovery (json_object_get_array_member (o, "signals_after_stop"),
                         ", \"advertising_interval_ms\": 50",
                         "StopDiscovery, advertiser without TX power");
}

/* ---- item 14: one client's Connect, then at once its Disconnect ---- */

static void
test_recorded_connect_then_disconnect (void **state)
{
  JsonObject *o = recorded (issue15, "item14_connect_then_disconnect");
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autofree char *device = new_device ("");
  PendingCall connect = { 0 };
  PendingCall disconnect = { 0 };
  const char *first = json_object_get_string_member (o, "answered_first");

  g_main_context_push_thread_default (context);
  start (device, DEVICE1, "Connect", &connect);
  start (device, DEVICE1, "Disconnect", &disconnect);
  if (!sim_fixture_wait_until (pending_call_is_done, &connect, 3 * WAIT_MSEC)
      || !sim_fixture_wait_until (pending_call_is_done, &disconnect, 3 * WAIT_MSEC))
    fail_msg ("Connect or Disconnect never answered");
  g_main_context_pop_thread_default (context);

  expect_recorded (json_object_get_object_member (o, "connect"), connect.reply, connect.error,
                   "Connect followed at once by Disconnect");
  expect_recorded (json_object_get_object_member (o, "disconnect"), disconnect.reply,
                   disconnect.error, "the Disconnect");
  if (g_str_equal (first, "connect") && connect.order > disconnect.order)
    fail_msg ("the Disconnect was answered first; bluetoothd 5.66 answered the Connect first");
  if (g_str_equal (first, "disconnect") && connect.order < disconnect.order)
    fail_msg ("the Connect was answered first; bluetoothd 5.66 answered the Disconnect first");
  g_usleep (300 * 1000);
  if (sim_expect_bool (fx, device, DEVICE1, "Connected")
      != json_object_get_boolean_member (o, "connected_5s_later"))
    fail_msg ("Connected is %d after the pair of calls; recorded %d",
              sim_expect_bool (fx, device, DEVICE1, "Connected"),
              json_object_get_boolean_member (o, "connected_5s_later"));
  pending_call_clear (&connect);
  pending_call_clear (&disconnect);
}

/* ---- item 13: Disconnect while a Connect waits for the peer ---- */

/* The recording's peer had stopped advertising, so its Connect waited
 * until the Disconnect 2 s later; here the peer takes 5 s to answer. */
static void
test_recorded_disconnect_during_pending_connect (void **state)
{
  JsonObject *o = recorded (issue15, "item13_disconnect_during_connect");
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autofree char *device = new_device (", \"connect\": { \"delay_ms\": 5000 }");
  PendingCall connect = { 0 };
  PendingCall disconnect = { 0 };
  const char *first = json_object_get_string_member (o, "answered_first");

  if (!json_object_get_boolean_member (o, "connect_pending_after_2s"))
    fail_msg ("the recorded Connect was not pending when Disconnect was called");
  g_main_context_push_thread_default (context);
  start (device, DEVICE1, "Connect", &connect);
  /* a while, so that the Connect is under way in the simulator */
  g_usleep (300 * 1000);
  start (device, DEVICE1, "Disconnect", &disconnect);
  if (!sim_fixture_wait_until (pending_call_is_done, &connect, 3 * WAIT_MSEC)
      || !sim_fixture_wait_until (pending_call_is_done, &disconnect, 3 * WAIT_MSEC))
    fail_msg ("Connect or Disconnect never answered");
  g_main_context_pop_thread_default (context);

  expect_recorded (json_object_get_object_member (o, "connect"), connect.reply, connect.error,
                   "a pending Connect cancelled by Disconnect");
  expect_recorded (json_object_get_object_member (o, "disconnect_during_connect"),
                   disconnect.reply, disconnect.error, "Disconnect during a pending Connect");
  if (g_str_equal (first, "connect") && connect.order > disconnect.order)
    fail_msg ("the Disconnect was answered first; bluetoothd 5.66 answered the Connect first");
  if (g_str_equal (first, "disconnect") && connect.order < disconnect.order)
    fail_msg ("the Connect was answered first; bluetoothd 5.66 answered the Disconnect first");
  if (sim_expect_bool (fx, device, DEVICE1, "Connected") != json_object_get_boolean_member (o, "connected_after"))
    fail_msg ("Connected is %d after the cancelled Connect; recorded %d",
              sim_expect_bool (fx, device, DEVICE1, "Connected"),
              json_object_get_boolean_member (o, "connected_after"));
  pending_call_clear (&connect);
  pending_call_clear (&disconnect);
}

/* ---- item 15: WriteValue on a characteristic without write ---- */

static void
test_recorded_write_to_read_only_char (void **state)
{
  JsonObject *o = recorded (issue15, "item15_write_without_write_property");
  g_autofree char *device = new_device (
    ", \"gatt\": [ { \"uuid\": \"fe00\", \"characteristics\": [ "
    "{ \"uuid\": \"fe01\", \"flags\": [\"read\"], \"value\": \"48656c6c6f\" } ] } ]");
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *chr = NULL;
  static const guint8 byte = 0x41;
  static const struct { const char *type; const char *member; } cases[] = {
    { "request", "write_type_request" },
    { NULL, "write_no_type" },
    { "command", "write_type_command" },
    { "reliable", "write_type_reliable" },
  };

  if (!sim_fixture_connect_device (fx, device, &error))
    fail_msg ("Connect: %s", error->message);
  chr = sim_fixture_find_gatt (fx, device, CHR1, READ_ONLY_UUID, NULL, NULL);
  assert_non_null (chr);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GVariantBuilder options;
      g_autofree char *what = g_strdup_printf ("WriteValue type=%s on a read-only "
                                               "characteristic",
                                               cases[i].type ? cases[i].type : "(none)");

      g_variant_builder_init (&options, G_VARIANT_TYPE ("a{sv}"));
      if (cases[i].type != NULL)
        g_variant_builder_add (&options, "{sv}", "type", g_variant_new_string (cases[i].type));
      g_clear_error (&error);
      g_clear_pointer (&reply, g_variant_unref);
      reply = sim_fixture_call_bluez (fx, chr, CHR1, "WriteValue",
                                      g_variant_new ("(@aya{sv})",
                                                     g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                                &byte, 1, 1),
                                                     &options),
                                      &error);
      expect_recorded (json_object_get_object_member (o, cases[i].member), reply, error, what);
    }

  /* the value the recording read back afterwards */
  g_clear_error (&error);
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call_bluez (fx, chr, CHR1, "ReadValue",
                                  g_variant_new_parsed ("(@a{sv} {},)"), &error);
  if (reply == NULL)
    fail_msg ("ReadValue: %s", error->message);
  {
    g_autoptr(GVariant) value = g_variant_get_child_value (reply, 0);
    JsonArray *read_back = json_object_get_array_member (
      json_object_get_object_member (o, "read_back"), "ok");
    const char *expected = json_array_get_string_element (read_back, 0);
    gsize len;
    const guint8 *data = g_variant_get_fixed_array (value, &len, 1);
    g_autoptr(GString) got = g_string_new ("bytes:");

    for (gsize i = 0; i < len; i++)
      g_string_append_printf (got, "%02x", data[i]);
    if (!g_str_equal (got->str, expected))
      fail_msg ("read back %s after the writes; recorded %s", got->str, expected);
  }
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call_bluez (fx, device, DEVICE1, "Disconnect", NULL, &error);
  assert_non_null (reply);
}

static int
group_setup (void **state)
{
  issue15 = load ("issue15-facts.json");
  discovered = load ("advertising-discovered.json");
  if (issue15 == NULL || discovered == NULL)
    return -1;
  return sim_fixture_group_start_on (&fx, NULL);
}

static int
group_teardown (void **state)
{
  g_clear_pointer (&fx, sim_fixture_free);
  g_clear_object (&issue15);
  g_clear_object (&discovered);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_recorded_pair_without_agent),
    cmocka_unit_test (test_recorded_stop_discovery_rssi_and_tx_power),
    cmocka_unit_test (test_recorded_stop_discovery_rssi_only),
    cmocka_unit_test (test_recorded_connect_then_disconnect),
    cmocka_unit_test (test_recorded_disconnect_during_pending_connect),
    cmocka_unit_test (test_recorded_write_to_read_only_char),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
