/* SPDX-License-Identifier: MIT */
/*
 * Wrong calls get the error bluetoothd 5.66 gives, and the simulator keeps
 * answering; malformed scenario files are refused with file, line, column
 * and reason.
 *
 * What bluetoothd answers follows from how it is built: its gdbus layer
 * (on libdbus) looks a method up by interface, name and exact signature and
 * leaves anything it does not find to libdbus, which replies
 * org.freedesktop.DBus.Error.UnknownMethod "Method "M" with signature "S"
 * on interface "I" doesn't exist" — for a wrong signature, an unknown
 * method or interface, and a path nobody registered alike. Its Properties
 * implementation answers InvalidArgs "No such interface/property",
 * PropertyReadOnly, UnknownProperty and InvalidSignature; and the method
 * handlers answer org.bluez.Error.InvalidArguments "Invalid arguments in
 * method call" for values they cannot parse.
 */
#include "sim-fixture.h"

#include <glib/gstdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#define DEMO_NAME "InterestingPeripheral"
#define ADAPTER "/org/bluez/hci0"
#define INVALID_ARGUMENTS "org.bluez.Error.InvalidArguments"
#define INVALID_ARGUMENTS_MSG "Invalid arguments in method call"
#define UNKNOWN_METHOD "org.freedesktop.DBus.Error.UnknownMethod"
#define INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"

typedef struct {
  const char *name;
  const char *path;       /* "$DEVICE" and "$CHAR" are filled in */
  const char *interface;  /* NULL: a call without an interface field */
  const char *method;
  const char *params;     /* GVariant text, NULL for no arguments */
  const char *error_name;
  /* The whole message bluetoothd sends; for UnknownMethod (libdbus's own
   * wording) only the "Method "M" with signature "S"" part is checked. */
  const char *error_message;
} BadCall;

static const BadCall bad_calls[] = {
  /* Wrong signatures: no method matches, libdbus answers. */
  { "StartDiscovery with an argument", ADAPTER, "org.bluez.Adapter1",
    "StartDiscovery", "('now',)", UNKNOWN_METHOD,
    "Method \"StartDiscovery\" with signature \"s\"" },
  { "RemoveDevice with a string", ADAPTER, "org.bluez.Adapter1",
    "RemoveDevice", "('/org/bluez/hci0/dev_00_00_00_00_00_01',)", UNKNOWN_METHOD,
    "Method \"RemoveDevice\" with signature \"s\"" },
  { "SetDiscoveryFilter with a{ss}", ADAPTER, "org.bluez.Adapter1",
    "SetDiscoveryFilter", "({'Transport': 'le'},)", UNKNOWN_METHOD,
    "Method \"SetDiscoveryFilter\" with signature \"a{ss}\"" },
  { "SetDiscoveryFilter without its argument", ADAPTER, "org.bluez.Adapter1",
    "SetDiscoveryFilter", NULL, UNKNOWN_METHOD,
    "Method \"SetDiscoveryFilter\" with signature \"\"" },
  { "Device1.Connect with an argument", "$DEVICE", "org.bluez.Device1",
    "Connect", "(uint32 1,)", UNKNOWN_METHOD,
    "Method \"Connect\" with signature \"u\"" },
  { "Properties.Get with one argument", ADAPTER, "org.freedesktop.DBus.Properties",
    "Get", "('org.bluez.Adapter1',)", UNKNOWN_METHOD,
    "Method \"Get\" with signature \"s\"" },
  { "ReadValue without options", "$CHAR", "org.bluez.GattCharacteristic1",
    "ReadValue", NULL, UNKNOWN_METHOD,
    "Method \"ReadValue\" with signature \"\"" },

  /* Unknown members, interfaces and objects. */
  { "unknown method", ADAPTER, "org.bluez.Adapter1", "Frobnicate", NULL,
    UNKNOWN_METHOD, "Method \"Frobnicate\" with signature \"\"" },
  { "unknown interface", ADAPTER, "org.bluez.Bogus1", "StartDiscovery", NULL,
    UNKNOWN_METHOD, "Method \"StartDiscovery\" with signature \"\"" },
  { "unknown adapter path", "/org/bluez/hci9", "org.bluez.Adapter1",
    "StartDiscovery", NULL, UNKNOWN_METHOD,
    "Method \"StartDiscovery\" with signature \"\"" },
  { "unknown device path", "/org/bluez/hci0/dev_00_00_00_00_00_09",
    "org.bluez.Device1", "Connect", NULL, UNKNOWN_METHOD,
    "Method \"Connect\" with signature \"\"" },
  { "GetManagedObjects away from /", "/org/bluez",
    "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL,
    UNKNOWN_METHOD, "Method \"GetManagedObjects\" with signature \"\"" },
  { "a call without an interface", ADAPTER, NULL, "StartDiscovery", NULL,
    UNKNOWN_METHOD, "Method \"StartDiscovery\" with signature \"\"" },

  /* Properties. */
  { "Get of an unknown property", ADAPTER, "org.freedesktop.DBus.Properties",
    "Get", "('org.bluez.Adapter1', 'Bogus')", INVALID_ARGS,
    "No such property 'Bogus'" },
  { "Get on an unknown interface", ADAPTER, "org.freedesktop.DBus.Properties",
    "Get", "('org.bluez.Bogus1', 'Address')", INVALID_ARGS,
    "No such interface 'org.bluez.Bogus1'" },
  { "GetAll on an unknown interface", ADAPTER, "org.freedesktop.DBus.Properties",
    "GetAll", "('org.bluez.Bogus1',)", INVALID_ARGS,
    "No such interface 'org.bluez.Bogus1'" },
  { "Set of a read-only property", ADAPTER, "org.freedesktop.DBus.Properties",
    "Set", "('org.bluez.Adapter1', 'Address', <'00:11:22:33:44:55'>)",
    "org.freedesktop.DBus.Error.PropertyReadOnly",
    "Property 'Address' is not writable" },
  { "Set of an unknown property", ADAPTER, "org.freedesktop.DBus.Properties",
    "Set", "('org.bluez.Adapter1', 'Bogus', <true>)",
    "org.freedesktop.DBus.Error.UnknownProperty", "No such property 'Bogus'" },
  { "Set of Powered to a string", ADAPTER, "org.freedesktop.DBus.Properties",
    "Set", "('org.bluez.Adapter1', 'Powered', <'yes'>)",
    "org.freedesktop.DBus.Error.InvalidSignature",
    "Invalid signature for 'Powered'" },
  { "Set of Alias to a number", ADAPTER, "org.freedesktop.DBus.Properties",
    "Set", "('org.bluez.Adapter1', 'Alias', <uint32 5>)",
    "org.freedesktop.DBus.Error.InvalidSignature",
    "Invalid signature for 'Alias'" },
  { "Set of Trusted to a string", "$DEVICE", "org.freedesktop.DBus.Properties",
    "Set", "('org.bluez.Device1', 'Trusted', <'very'>)",
    "org.freedesktop.DBus.Error.InvalidSignature",
    "Invalid signature for 'Trusted'" },

  /* Right signature, values bluetoothd cannot use. */
  { "SetDiscoveryFilter RSSI as a string", ADAPTER, "org.bluez.Adapter1",
    "SetDiscoveryFilter", "({'RSSI': <'loud'>},)", INVALID_ARGUMENTS,
    INVALID_ARGUMENTS_MSG },
  { "SetDiscoveryFilter RSSI and Pathloss together", ADAPTER, "org.bluez.Adapter1",
    "SetDiscoveryFilter", "({'RSSI': <int16 -60>, 'Pathloss': <uint16 10>},)",
    INVALID_ARGUMENTS, INVALID_ARGUMENTS_MSG },
  { "SetDiscoveryFilter a bad UUID", ADAPTER, "org.bluez.Adapter1",
    "SetDiscoveryFilter", "({'UUIDs': <['not-a-uuid']>},)", INVALID_ARGUMENTS,
    INVALID_ARGUMENTS_MSG },
  { "SetDiscoveryFilter Transport as a number", ADAPTER, "org.bluez.Adapter1",
    "SetDiscoveryFilter", "({'Transport': <uint32 1>},)", INVALID_ARGUMENTS,
    INVALID_ARGUMENTS_MSG },
  { "SetDiscoveryFilter DuplicateData as a string", ADAPTER, "org.bluez.Adapter1",
    "SetDiscoveryFilter", "({'DuplicateData': <'no'>},)", INVALID_ARGUMENTS,
    INVALID_ARGUMENTS_MSG },
  { "ConnectDevice without an address", ADAPTER, "org.bluez.Adapter1",
    "ConnectDevice", "(@a{sv} {},)", INVALID_ARGUMENTS, INVALID_ARGUMENTS_MSG },
  { "ConnectDevice with a malformed address", ADAPTER, "org.bluez.Adapter1",
    "ConnectDevice", "({'Address': <'zz:zz'>},)", INVALID_ARGUMENTS,
    INVALID_ARGUMENTS_MSG },
  { "RegisterAgent with an unknown capability", "/org/bluez",
    "org.bluez.AgentManager1", "RegisterAgent",
    "(objectpath '/org/bleio/test/bogus', 'Telepathy')", INVALID_ARGUMENTS,
    INVALID_ARGUMENTS_MSG },
  { "ReadValue with a string offset", "$CHAR", "org.bluez.GattCharacteristic1",
    "ReadValue", "({'offset': <'3'>},)", INVALID_ARGUMENTS, INVALID_ARGUMENTS_MSG },
  { "WriteValue with a numeric type", "$CHAR", "org.bluez.GattCharacteristic1",
    "WriteValue", "([byte 1], {'type': <uint32 1>})", INVALID_ARGUMENTS,
    INVALID_ARGUMENTS_MSG },
};

static SimFixture *fx;
static char *device;
static char *chr;

static char *
resolve_path (const char *path)
{
  if (strcmp (path, "$DEVICE") == 0)
    return g_strdup (device);
  if (strcmp (path, "$CHAR") == 0)
    return g_strdup (chr);
  return g_strdup (path);
}

static GVariant *
parse_params (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *params;

  if (text == NULL)
    return NULL;
  params = g_variant_parse (NULL, text, NULL, NULL, &error);
  if (params == NULL)
    fail_msg ("bad test data '%s': %s", text, error->message);
  return params;
}

/* The simulator answers a plain call right after. */
static void
assert_alive (const char *after)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) objects = sim_fixture_get_objects (fx, &error);
  GPid pid = sim_bus_get_sim_pid (sim_fixture_get_bus (fx));

  if (objects == NULL)
    fail_msg ("no answer to GetManagedObjects after %s: %s", after, error->message);
  if (pid <= 0 || kill (pid, 0) != 0)
    fail_msg ("the simulator process is gone after %s", after);
}

static void
check_bad_call (const BadCall *c)
{
  g_autofree char *path = resolve_path (c->path);
  g_autoptr(GVariant) params = parse_params (c->params);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusMessage) message = NULL;
  g_autoptr(GDBusMessage) reply = NULL;
  g_autofree char *name = NULL;

  /* A message rather than g_dbus_connection_call(): it may have no
   * interface field. g_variant_parse() returned a full reference: the
   * message takes its own. */
  message = g_dbus_message_new_method_call ("org.bluez", path, c->interface,
                                            c->method);
  if (params != NULL)
    g_dbus_message_set_body (message, params);
  reply = g_dbus_connection_send_message_with_reply_sync (sim_fixture_get_connection (fx),
                                                          message,
                                                          G_DBUS_SEND_MESSAGE_FLAGS_NONE,
                                                          SIM_FIXTURE_TIMEOUT_MSEC,
                                                          NULL, NULL, &error);
  if (reply == NULL)
    fail_msg ("%s: no answer: %s", c->name, error->message);
  if (!g_dbus_message_to_gerror (reply, &error))
    fail_msg ("%s: succeeded; bluetoothd answers %s", c->name, c->error_name);
  name = g_dbus_error_get_remote_error (error);
  if (name == NULL)
    fail_msg ("%s: local error %s instead of %s", c->name, error->message,
              c->error_name);
  g_dbus_error_strip_remote_error (error);
  if (strcmp (name, c->error_name) != 0)
    fail_msg ("%s: %s: %s; bluetoothd answers %s: %s", c->name, name,
              error->message, c->error_name, c->error_message);
  if (strcmp (c->error_name, UNKNOWN_METHOD) == 0)
    {
      if (!g_str_has_prefix (error->message, c->error_message))
        fail_msg ("%s: message '%s'; libdbus under bluetoothd says '%s ...'",
                  c->name, error->message, c->error_message);
    }
  else if (strcmp (g_strchomp (error->message), c->error_message) != 0)
    {
      fail_msg ("%s: message '%s'; bluetoothd says '%s'", c->name,
                error->message, c->error_message);
    }
  assert_alive (c->name);
}

static void
test_bad_call (void **state)
{
  check_bad_call (*state);
}

/* All of them at once, without waiting between them, twenty times: every
 * one gets an error back and the simulator still answers. */
typedef struct {
  guint pending;
  guint errors;
  guint successes;
} Batch;

static void
batch_reply (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Batch *batch = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);

  if (reply != NULL)
    batch->successes++;
  else
    batch->errors++;
  batch->pending--;
}

static gboolean
batch_done (gpointer user_data)
{
  Batch *batch = user_data;

  return batch->pending == 0;
}

static void
test_batch (void **state)
{
  Batch batch = { 0, 0, 0 };
  guint rounds = 20;
  guint per_round = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (bad_calls); i++)
    if (bad_calls[i].interface != NULL)
      per_round++;

  /* A round at a time: like the real system bus, ours lets a connection
   * wait for at most 128 replies (max_replies_per_connection). */
  for (guint r = 0; r < rounds; r++)
    {
      for (gsize i = 0; i < G_N_ELEMENTS (bad_calls); i++)
        {
          const BadCall *c = &bad_calls[i];
          g_autofree char *path = NULL;
          g_autoptr(GVariant) params = NULL;

          /* g_dbus_connection_call() needs an interface. */
          if (c->interface == NULL)
            continue;
          path = resolve_path (c->path);
          params = parse_params (c->params);
          batch.pending++;
          g_dbus_connection_call (sim_fixture_get_connection (fx), "org.bluez",
                                  path, c->interface, c->method, params, NULL,
                                  G_DBUS_CALL_FLAGS_NONE, SIM_FIXTURE_TIMEOUT_MSEC,
                                  NULL, batch_reply, &batch);
        }
      if (!sim_fixture_wait_until (batch_done, &batch, 2 * SIM_FIXTURE_TIMEOUT_MSEC))
        fail_msg ("%u of round %u's calls got no answer", batch.pending, r);
    }
  assert_int_equal (batch.successes, 0);
  assert_int_equal (batch.errors, rounds * per_round);
  assert_alive ("the batch");
}

/* The control interface is ours, not BlueZ's, but must be as sturdy. */
static void
test_control_bad_input (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *path = NULL;

  reply = sim_fixture_call (fx, "FailNext", g_variant_new ("(s)", "Connect"), &error);
  assert_null (reply);
  assert_non_null (error);
  g_clear_error (&error);
  assert_alive ("FailNext with a wrong signature");

  path = sim_fixture_add_device (fx, "hci0", "{ \"address\": ", &error);
  assert_null (path);
  assert_non_null (error);
  g_clear_error (&error);
  assert_alive ("AddDevice with broken JSON");

  path = sim_fixture_add_device (fx, "hci7", "{ \"address\": \"C0:FF:EE:00:00:07\" }",
                                 &error);
  assert_null (path);
  assert_non_null (error);
  g_clear_error (&error);
  assert_alive ("AddDevice on an unknown adapter");

  assert_false (sim_fixture_notify (fx, "/org/bluez/hci0/dev_00_00_00_00_00_09/service0001/char0002",
                                    (const guint8 *) "x", 1, &error));
  g_clear_error (&error);
  assert_alive ("Notify on an unknown characteristic");

  assert_false (sim_fixture_set_property (fx, ADAPTER, "org.bluez.Adapter1",
                                          "Bogus", g_variant_new_boolean (TRUE),
                                          &error));
  g_clear_error (&error);
  assert_alive ("SetProperty of an unknown property");
}

/* ---- malformed scenario files ---- */

typedef struct {
  const char *name;
  const char *text;
  guint line;             /* where the error must be reported */
  const char *reason;     /* a piece of the reason */
} BadScenario;

static const BadScenario bad_scenarios[] = {
  { "syntax",
    "{\n"
    "  \"adapters\": [\n"
    "    { \"name\": \"hci0\", \"address\": \"00:11:22:33:44:55\" },,\n"
    "  ]\n"
    "}\n", 3, NULL },
  { "unknown-key",
    "{\n"
    "  \"description\": \"a key the format does not have\",\n"
    "  \"bogus_key\": 1\n"
    "}\n", 3, "bogus_key" },
  { "not-an-object",
    "[\n"
    "  1, 2\n"
    "]\n", 1, "object" },
  { "peripherals-not-array",
    "{\n"
    "  \"adapters\": [ { \"name\": \"hci0\", \"address\": \"00:11:22:33:44:55\" } ],\n"
    "  \"peripherals\": { }\n"
    "}\n", 3, "peripherals" },
  { "bad-uuid",
    "{\n"
    "  \"adapters\": [ { \"name\": \"hci0\", \"address\": \"00:11:22:33:44:55\" } ],\n"
    "  \"peripherals\": [\n"
    "    {\n"
    "      \"adapter\": \"hci0\",\n"
    "      \"address\": \"C0:FF:EE:00:00:01\",\n"
    "      \"gatt\": [\n"
    "        { \"uuid\": \"not-a-uuid\", \"characteristics\": [] }\n"
    "      ]\n"
    "    }\n"
    "  ]\n"
    "}\n", 8, "not-a-uuid" },
  { "bad-flag",
    "{\n"
    "  \"adapters\": [ { \"name\": \"hci0\", \"address\": \"00:11:22:33:44:55\" } ],\n"
    "  \"peripherals\": [\n"
    "    {\n"
    "      \"adapter\": \"hci0\",\n"
    "      \"address\": \"C0:FF:EE:00:00:01\",\n"
    "      \"gatt\": [\n"
    "        { \"uuid\": \"180f\", \"characteristics\": [\n"
    "            { \"uuid\": \"2a19\",\n"
    "              \"flags\": [ \"read\", \"teleport\" ] }\n"
    "        ] }\n"
    "      ]\n"
    "    }\n"
    "  ]\n"
    "}\n", 10, "teleport" },
  { "bad-hex",
    "{\n"
    "  \"adapters\": [ { \"name\": \"hci0\", \"address\": \"00:11:22:33:44:55\" } ],\n"
    "  \"peripherals\": [\n"
    "    {\n"
    "      \"adapter\": \"hci0\",\n"
    "      \"address\": \"C0:FF:EE:00:00:01\",\n"
    "      \"gatt\": [\n"
    "        { \"uuid\": \"180f\", \"characteristics\": [\n"
    "            { \"uuid\": \"2a19\", \"flags\": [ \"read\" ],\n"
    "              \"value\": \"6g\" }\n"
    "        ] }\n"
    "      ]\n"
    "    }\n"
    "  ]\n"
    "}\n", 10, "hex" },
  { "bad-address",
    "{\n"
    "  \"adapters\": [\n"
    "    { \"name\": \"hci0\", \"address\": \"00:11:22:33:44\" }\n"
    "  ]\n"
    "}\n", 3, "address" },
  { "empty", "", 1, NULL },
};

static void
test_bad_scenario (void **state)
{
  const BadScenario *bad = *state;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bleio-badscenario-XXXXXX", &error);
  g_autofree char *file = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *where = NULL;
  g_autofree char *escaped = NULL;
  g_autoptr(GRegex) position = NULL;
  g_autoptr(GMatchInfo) match = NULL;
  int wait_status = 0;
  const char *argv[] = { g_getenv ("BLEIO_SIM"), "run", "--scenario", NULL,
                         "--", "true", NULL };

  assert_non_null (dir);
  file = g_strdup_printf ("%s/%s.json", dir, bad->name);
  if (!g_file_set_contents (file, bad->text, -1, &error))
    fail_msg ("%s", error->message);
  argv[3] = file;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                     &out, &err, &wait_status, &error))
    fail_msg ("cannot run %s: %s", argv[0], error->message);
  g_unlink (file);
  g_rmdir (dir);

  /* `run` exits 125 when the simulator cannot start: true never ran. */
  if (!WIFEXITED (wait_status) || WEXITSTATUS (wait_status) != 125)
    fail_msg ("%s: bleio-sim run gave wait status 0x%x, not exit 125; stderr:\n%s",
              bad->name, (unsigned) wait_status, err);

  /* FILE:LINE:COL: reason */
  escaped = g_regex_escape_string (file, -1);
  where = g_strdup_printf ("%s:(\\d+):(\\d+): (.+)", escaped);
  position = g_regex_new (where, 0, 0, NULL);
  if (!g_regex_match (position, err, 0, &match))
    fail_msg ("%s: stderr does not say '%s:LINE:COLUMN: reason':\n%s",
              bad->name, file, err);
  {
    g_autofree char *line = g_match_info_fetch (match, 1);
    g_autofree char *reason = g_match_info_fetch (match, 3);

    if ((guint) atoi (line) != bad->line)
      fail_msg ("%s: error reported on line %s, the fault is on line %u:\n%s",
                bad->name, line, bad->line, err);
    if (bad->reason != NULL && strstr (reason, bad->reason) == NULL)
      fail_msg ("%s: the reason '%s' does not mention '%s'", bad->name, reason,
                bad->reason);
    if (strlen (g_strstrip (reason)) < 5)
      fail_msg ("%s: the reason '%s' says nothing", bad->name, reason);
  }
}

static int
group_setup (void **state)
{
  g_autoptr(GError) error = NULL;
  static const char * const readable[] = { "read", NULL };

  if (!sim_fixture_start (&fx, NULL))
    return -1;
  device = sim_fixture_find_device (fx, ADAPTER, DEMO_NAME, &error);
  if (device == NULL)
    {
      g_printerr ("demo peripheral: %s\n", error->message);
      return -1;
    }
  if (!sim_fixture_connect_device (fx, device, &error))
    {
      g_printerr ("connecting the demo peripheral: %s\n", error->message);
      return -1;
    }
  chr = sim_fixture_find_gatt (fx, device, "org.bluez.GattCharacteristic1",
                               NULL, readable, NULL);
  if (chr == NULL)
    {
      g_printerr ("the demo peripheral has no readable characteristic\n");
      return -1;
    }
  return 0;
}

static int
group_teardown (void **state)
{
  g_clear_pointer (&fx, sim_fixture_free);
  g_clear_pointer (&device, g_free);
  g_clear_pointer (&chr, g_free);
  return 0;
}

int
main (void)
{
  gsize n_calls = G_N_ELEMENTS (bad_calls);
  gsize n_files = G_N_ELEMENTS (bad_scenarios);
  g_autofree struct CMUnitTest *calls = g_new0 (struct CMUnitTest, n_calls + 2);
  g_autofree struct CMUnitTest *files = g_new0 (struct CMUnitTest, n_files);
  g_autofree char **names = g_new0 (char *, n_files + 1);
  int failed;

  for (gsize i = 0; i < n_calls; i++)
    {
      calls[i].name = bad_calls[i].name;
      calls[i].test_func = test_bad_call;
      calls[i].initial_state = (void *) &bad_calls[i];
    }
  calls[n_calls].name = "batch of wrong calls";
  calls[n_calls].test_func = test_batch;
  calls[n_calls + 1].name = "control interface bad input";
  calls[n_calls + 1].test_func = test_control_bad_input;

  for (gsize i = 0; i < n_files; i++)
    {
      names[i] = g_strdup_printf ("scenario %s", bad_scenarios[i].name);
      files[i].name = names[i];
      files[i].test_func = test_bad_scenario;
      files[i].initial_state = (void *) &bad_scenarios[i];
    }

  failed = _cmocka_run_group_tests ("wrong calls", calls, n_calls + 2,
                                    group_setup, group_teardown);
  failed += _cmocka_run_group_tests ("malformed scenarios", files, n_files,
                                     NULL, NULL);
  for (gsize i = 0; i < n_files; i++)
    g_free (names[i]);
  return failed;
}
