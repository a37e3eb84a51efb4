/* SPDX-License-Identifier: MIT */
/*
 * GattManager1 as bluetoothd 5.66 has it (src/gatt-database.c): the
 * application's objects read with GetManagedObjects, the tree checked with
 * bluetoothd's error answers, handles given the way its gatt_db places
 * attributes (and written back into a Handle property of 0), applications
 * dropped on UnregisterApplication and when their owner leaves the bus,
 * and a service object removed after registration leaving the database.
 *
 * The test application is served by a message filter on a connection of
 * its own: the filter runs in GDBus's worker thread, so the application
 * answers while this thread waits in a synchronous RegisterApplication,
 * and it can answer GetManagedObjects with any tree, bad ones included.
 * The database is read back through org.bleio.Sim1.GetGattDatabase.
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
#define MANAGER "org.bluez.GattManager1"
#define WAIT_MSEC 10000
#define UUID_TAIL "-0000-1000-8000-00805f9b34fb"
#define SVC_A "12345678-1234-5678-1234-56789abcdef0"
#define SVC_B "12345678-1234-5678-1234-56789abcdef1"
#define CHR_1 "12345678-1234-5678-1234-56789abcdef2"
#define CHR_2 "12345678-1234-5678-1234-56789abcdef3"
#define CHR_3 "12345678-1234-5678-1234-56789abcdef4"
#define DSC_1 "12345678-1234-5678-1234-56789abcdef5"
/* bluetoothd's own GAP, GATT and Device Information services (20 rows),
 * and the declarations of Volume Control and Generic Media Control */
#define CORE_ROWS 22
/* the first handle after example-gatt-server's services, which
 * test_example_gatt_server_handles registers first */
#define FIRST_FREE 0x0057

static SimFixture *fx;

/* ---- a test application ---- */

typedef struct {
  GDBusConnection *conn;
  guint filter;
  GMutex lock;
  char *tree;                 /* GVariant text of GetManagedObjects' answer,
                               * NULL: answer an error */
  GPtrArray *log;             /* char *: "GetManagedObjects PATH",
                               * "Set PATH IFACE NAME VALUE" */
  gboolean hold;              /* keep GetManagedObjects unanswered */
  GDBusMessage *held;
} App;

static GDBusMessage *
app_filter (GDBusConnection *conn,
            GDBusMessage    *message,
            gboolean         incoming,
            gpointer         user_data)
{
  App *app = user_data;
  const char *member = g_dbus_message_get_member (message);
  const char *iface = g_dbus_message_get_interface (message);
  g_autoptr(GDBusMessage) reply = NULL;

  if (!incoming || g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_METHOD_CALL)
    return message;
  g_mutex_lock (&app->lock);
  if (g_strcmp0 (iface, "org.freedesktop.DBus.ObjectManager") == 0
      && g_strcmp0 (member, "GetManagedObjects") == 0)
    {
      g_ptr_array_add (app->log, g_strdup_printf ("GetManagedObjects %s",
                                                  g_dbus_message_get_path (message)));
      if (app->hold)
        {
          app->held = message;
          g_mutex_unlock (&app->lock);
          return NULL;
        }
      if (app->tree == NULL)
        reply = g_dbus_message_new_method_error (message, "org.freedesktop.DBus.Error.UnknownMethod",
                                                 "no object manager here");
      else
        {
          reply = g_dbus_message_new_method_reply (message);
          g_dbus_message_set_body (reply, g_variant_new ("(@a{oa{sa{sv}}})",
                                                         g_variant_new_parsed (app->tree)));
        }
    }
  else if (g_strcmp0 (iface, "org.freedesktop.DBus.Properties") == 0
           && g_strcmp0 (member, "Set") == 0)
    {
      g_autofree char *args = g_variant_print (g_dbus_message_get_body (message), FALSE);

      g_ptr_array_add (app->log, g_strdup_printf ("Set %s %s",
                                                  g_dbus_message_get_path (message), args));
      reply = g_dbus_message_new_method_reply (message);
    }
  g_mutex_unlock (&app->lock);
  if (reply == NULL)
    return message;
  g_dbus_connection_send_message (conn, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL);
  g_object_unref (message);
  return NULL;
}

static App *
app_new (const char *tree)
{
  g_autoptr(GError) error = NULL;
  App *app = g_new0 (App, 1);

  g_mutex_init (&app->lock);
  app->tree = g_strdup (tree);
  app->log = g_ptr_array_new_with_free_func (g_free);
  app->conn = g_dbus_connection_new_for_address_sync (
      sim_fixture_get_address (fx),
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
      | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error);
  if (app->conn == NULL)
    fail_msg ("application connection: %s", error->message);
  app->filter = g_dbus_connection_add_filter (app->conn, app_filter, app, NULL);
  return app;
}

static void
app_free (App *app)
{
  if (app->conn != NULL)
    {
      g_dbus_connection_remove_filter (app->conn, app->filter);
      g_dbus_connection_close_sync (app->conn, NULL, NULL);
      g_object_unref (app->conn);
    }
  g_ptr_array_unref (app->log);
  g_clear_object (&app->held);
  g_free (app->tree);
  g_mutex_clear (&app->lock);
  g_free (app);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (App, app_free)

static gboolean
app_call (App         *app,
          const char  *method,
          const char  *path,
          GError     **error)
{
  g_autoptr(GVariant) reply = NULL;
  GVariant *params = g_str_equal (method, "RegisterApplication")
                     ? g_variant_new ("(oa{sv})", path, NULL)
                     : g_variant_new ("(o)", path);

  reply = g_dbus_connection_call_sync (app->conn, "org.bluez", ADAPTER, MANAGER, method,
                                       params, NULL, G_DBUS_CALL_FLAGS_NONE,
                                       WAIT_MSEC, NULL, error);
  return reply != NULL;
}

/* The log so far as one string, entries joined by "\n". */
static char *
app_log (App *app)
{
  g_autoptr(GString) s = g_string_new (NULL);

  g_mutex_lock (&app->lock);
  for (guint i = 0; i < app->log->len; i++)
    g_string_append_printf (s, "%s%s", i ? "\n" : "", (char *) g_ptr_array_index (app->log, i));
  g_mutex_unlock (&app->lock);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* ---- the database ---- */

/* GetGattDatabase("hci0") without bluetoothd's own rows, one
 * "HANDLE KIND UUID PATH" line per attribute. */
static char *
database (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = sim_fixture_call (fx, "GetGattDatabase",
                                                g_variant_new ("(s)", "hci0"), &error);
  g_autoptr(GVariant) rows = NULL;
  g_autoptr(GString) s = g_string_new (NULL);
  gsize n;

  if (reply == NULL)
    fail_msg ("GetGattDatabase: %s", error->message);
  rows = g_variant_get_child_value (reply, 0);
  n = g_variant_n_children (rows);
  assert_true (n >= CORE_ROWS);
  for (gsize i = CORE_ROWS; i < n; i++)
    {
      guint16 handle;
      const char *kind, *uuid, *path;

      g_variant_get_child (rows, i, "(q&s&s&o)", &handle, &kind, &uuid, &path);
      g_string_append_printf (s, "%s%04x %s %s %s", s->len ? "\n" : "", handle, kind, uuid, path);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* Polls the database until it equals @want or WAIT_MSEC pass (the
 * simulator hears of a connection that closed in its own time). */
static gboolean
wait_database (const char *want)
{
  for (guint waited = 0; waited < WAIT_MSEC; waited += 20)
    {
      g_autofree char *now = database ();

      if (g_str_equal (now, want))
        return TRUE;
      g_usleep (20 * 1000);
    }
  return FALSE;
}

static void
assert_database (const char *want)
{
  g_autofree char *now = database ();

  if (!g_str_equal (now, want))
    fail_msg ("the database is\n%s\nand should be\n%s", now, want);
}

/* A tree of two services: A (primary) with a read/notify characteristic
 * and its descriptor, and a write/reliable-write one; B (secondary)
 * including A, with a read characteristic. Service A, characteristic 1
 * and the descriptor show a Handle of 0. */
#define GOOD_TREE \
  "{ objectpath '/app/a': { 'org.bluez.GattService1': { 'UUID': <'" SVC_A "'>," \
  "    'Primary': <true>, 'Handle': <uint16 0> } }," \
  "  '/app/a/c1': { 'org.bluez.GattCharacteristic1': { 'UUID': <'" CHR_1 "'>," \
  "    'Service': <objectpath '/app/a'>, 'Flags': <['read', 'notify']>," \
  "    'Handle': <uint16 0> } }," \
  "  '/app/a/c1/d1': { 'org.bluez.GattDescriptor1': { 'UUID': <'" DSC_1 "'>," \
  "    'Characteristic': <objectpath '/app/a/c1'>, 'Flags': <['read']>," \
  "    'Handle': <uint16 0> } }," \
  "  '/app/a/c2': { 'org.bluez.GattCharacteristic1': { 'UUID': <'" CHR_2 "'>," \
  "    'Service': <objectpath '/app/a'>, 'Flags': <['write', 'reliable-write']> } }," \
  "  '/app/b': { 'org.bluez.GattService1': { 'UUID': <'" SVC_B "'>," \
  "    'Primary': <false>, 'Includes': <[objectpath '/app/a']> } }," \
  "  '/app/b/c3': { 'org.bluez.GattCharacteristic1': { 'UUID': <'" CHR_3 "'>," \
  "    'Service': <objectpath '/app/b'>, 'Flags': <['read']> } } }"

/* The rows GOOD_TREE gets when its first service starts at @h. */
static char *
good_rows (guint h)
{
  return g_strdup_printf (
    "%04x primary " SVC_A " /app/a\n"
    "%04x characteristic " CHR_1 " /app/a/c1\n"
    "%04x value " CHR_1 " /app/a/c1\n"
    "%04x ccc 00002902" UUID_TAIL " /app/a/c1\n"
    "%04x descriptor " DSC_1 " /app/a/c1/d1\n"
    "%04x characteristic " CHR_2 " /app/a/c2\n"
    "%04x value " CHR_2 " /app/a/c2\n"
    "%04x cep 00002900" UUID_TAIL " /app/a/c2\n"
    "%04x secondary " SVC_B " /app/b\n"
    "%04x include " SVC_A " /app/b\n"
    "%04x characteristic " CHR_3 " /app/b/c3\n"
    "%04x value " CHR_3 " /app/b/c3",
    h, h + 1, h + 2, h + 3, h + 4, h + 5, h + 6, h + 7, h + 8, h + 9, h + 10, h + 11);
}

/* ---- cases ---- */

/* BlueZ's test/example-gatt-server as the reference capture registered it
 * on hci1 (its objects in the order its GetManagedObjects lists them);
 * tests/data/bluez-5.66/objects-connected.json shows the handles the
 * central found: service003d, char003e, desc0040, char0041, char0043,
 * service0045, char0046, desc0048, service0049, char004a, desc004c (CEP),
 * desc004d, desc004e, char004f, desc0051, desc0052, char0053, desc0055,
 * desc0056. */
#define EX "/org/bluez/example/"
#define EX_SVC(n, uuid) \
  "objectpath '" EX "service" n "': { 'org.bluez.GattService1': { 'UUID': <'" uuid "'>," \
  " 'Primary': <true>, 'Includes': <@ao []> } }"
#define EX_CHR(s, c, uuid, flags) \
  "objectpath '" EX "service" s "/char" c "': { 'org.bluez.GattCharacteristic1': {" \
  " 'Service': <objectpath '" EX "service" s "'>, 'UUID': <'" uuid "'>," \
  " 'Flags': <" flags ">, 'Descriptors': <@ao []> } }"
#define EX_DSC(s, c, d, uuid, flags) \
  "objectpath '" EX "service" s "/char" c "/desc" d "': { 'org.bluez.GattDescriptor1': {" \
  " 'Characteristic': <objectpath '" EX "service" s "/char" c "'>, 'UUID': <'" uuid "'>," \
  " 'Flags': <" flags "> } }"
#define TEST_UUID(n) "12345678-1234-5678-1234-56789abcdef" n

static void
test_example_gatt_server_handles (void **state)
{
  g_autoptr(App) app = app_new (
    "{ " EX_SVC ("0", "0000180d-0000-1000-8000-00805f9b34fb") ", "
    EX_CHR ("0", "0", "00002a37-0000-1000-8000-00805f9b34fb", "['notify']") ", "
    EX_CHR ("0", "1", "00002a38-0000-1000-8000-00805f9b34fb", "['read']") ", "
    EX_CHR ("0", "2", "00002a39-0000-1000-8000-00805f9b34fb", "['write']") ", "
    EX_SVC ("1", "180f") ", "
    EX_CHR ("1", "0", "2a19", "['read', 'notify']") ", "
    EX_SVC ("2", TEST_UUID ("0")) ", "
    EX_CHR ("2", "0", TEST_UUID ("1"), "['read', 'write', 'writable-auxiliaries']") ", "
    EX_DSC ("2", "0", "0", TEST_UUID ("2"), "['read', 'write']") ", "
    EX_DSC ("2", "0", "1", "2901", "['read', 'write']") ", "
    EX_CHR ("2", "1", TEST_UUID ("3"), "['encrypt-read', 'encrypt-write']") ", "
    EX_DSC ("2", "1", "2", TEST_UUID ("4"), "['encrypt-read', 'encrypt-write']") ", "
    EX_DSC ("2", "1", "3", "2901", "['read', 'write']") ", "
    EX_CHR ("2", "2", TEST_UUID ("5"), "['secure-read', 'secure-write']") ", "
    EX_DSC ("2", "2", "4", TEST_UUID ("6"), "['secure-read', 'secure-write']") ", "
    EX_DSC ("2", "2", "5", "2901", "['read', 'write']") " }");
  g_autoptr(GError) error = NULL;
  g_autofree char *rows = NULL;
  char *lines[] = {
    "003d primary 0000180d",  "003e characteristic 00002a37", "003f value 00002a37",
    "0040 ccc 00002902",      "0041 characteristic 00002a38", "0042 value 00002a38",
    "0043 characteristic 00002a39", "0044 value 00002a39",
    "0045 primary 0000180f",  "0046 characteristic 00002a19", "0047 value 00002a19",
    "0048 ccc 00002902",
    "0049 primary " TEST_UUID ("0"), "004a characteristic " TEST_UUID ("1"),
    "004b value " TEST_UUID ("1"), "004c cep 00002900", "004d descriptor " TEST_UUID ("2"),
    "004e descriptor 00002901", "004f characteristic " TEST_UUID ("3"),
    "0050 value " TEST_UUID ("3"), "0051 descriptor " TEST_UUID ("4"),
    "0052 descriptor 00002901", "0053 characteristic " TEST_UUID ("5"),
    "0054 value " TEST_UUID ("5"), "0055 descriptor " TEST_UUID ("6"),
    "0056 descriptor 00002901",
  };
  g_auto(GStrv) got = NULL;

  if (!app_call (app, "RegisterApplication", "/org/bluez/example", &error))
    fail_msg ("RegisterApplication: %s", error->message);
  rows = database ();
  got = g_strsplit (rows, "\n", -1);
  assert_int_equal (g_strv_length (got), G_N_ELEMENTS (lines));
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    if (!g_str_has_prefix (got[i], lines[i]))
      fail_msg ("row %u is \"%s\"; the capture has \"%s...\"", i, got[i], lines[i]);
  assert_true (app_call (app, "UnregisterApplication", "/org/bluez/example", &error));
}

/* Service declaration, then per characteristic its declaration and value,
 * the CCC bluetoothd adds for notify/indicate, the Extended Properties
 * descriptor for reliable-write, the application's descriptors; includes
 * right after the service declaration. A Handle of 0 is written back
 * (the value handle for a characteristic) before the reply. */
static void
test_register_assigns_handles (void **state)
{
  g_autoptr(App) app = app_new (GOOD_TREE);
  g_autoptr(GError) error = NULL;
  g_autofree char *rows = NULL;
  g_autofree char *log = NULL;
  g_autofree char *want_log = NULL;
  g_autofree char *after = NULL;

  if (!app_call (app, "RegisterApplication", "/app", &error))
    fail_msg ("RegisterApplication: %s", error->message);
  /* the Set calls were sent before the reply, so they are here already */
  log = app_log (app);
  want_log = g_strdup_printf (
    "GetManagedObjects /app\n"
    "Set /app/a ('org.bluez.GattService1', 'Handle', <uint16 %u>)\n"
    "Set /app/a/c1 ('org.bluez.GattCharacteristic1', 'Handle', <uint16 %u>)\n"
    "Set /app/a/c1/d1 ('org.bluez.GattDescriptor1', 'Handle', <uint16 %u>)",
    FIRST_FREE, FIRST_FREE + 2, FIRST_FREE + 4);
  assert_string_equal (log, want_log);
  rows = good_rows (FIRST_FREE);
  assert_database (rows);

  if (!app_call (app, "UnregisterApplication", "/app", &error))
    fail_msg ("UnregisterApplication: %s", error->message);
  assert_database ("");
  /* gatt_db never lowers its next handle: the same tree again goes after
   * the range it had */
  if (!app_call (app, "RegisterApplication", "/app", &error))
    fail_msg ("RegisterApplication again: %s", error->message);
  after = good_rows (FIRST_FREE + 12);
  assert_database (after);
  assert_true (app_call (app, "UnregisterApplication", "/app", &error));
}

/* The same owner and path twice is AlreadyExists; another path of the
 * same owner is another application. */
static void
test_register_twice_already_exists (void **state)
{
  g_autoptr(App) app = app_new ("{ objectpath '/p': { 'org.bluez.GattProfile1': "
                                "{ 'UUIDs': <['" SVC_A "']> } } }");
  g_autoptr(GError) error = NULL;

  assert_true (app_call (app, "RegisterApplication", "/p", &error));
  assert_false (app_call (app, "RegisterApplication", "/p", &error));
  sim_expect_remote_error (error, "org.bluez.Error.AlreadyExists", "Already Exists", "second registration");
  g_clear_error (&error);
  assert_true (app_call (app, "RegisterApplication", "/q", &error));
  assert_true (app_call (app, "UnregisterApplication", "/p", &error));
  assert_true (app_call (app, "UnregisterApplication", "/q", &error));
}

static void
test_unregister_unknown_does_not_exist (void **state)
{
  g_autoptr(App) app = app_new ("{}");
  g_autoptr(GError) error = NULL;

  assert_false (app_call (app, "UnregisterApplication", "/nothing", &error));
  sim_expect_remote_error (error, "org.bluez.Error.DoesNotExist", "Does Not Exist", "UnregisterApplication");
}

typedef struct {
  const char *what;
  const char *tree;           /* NULL: GetManagedObjects answers an error */
  const char *message;        /* of org.bluez.Error.Failed */
} Bad;

#define SVC(extra) \
  "objectpath '/app/s': { 'org.bluez.GattService1': { 'UUID': <'" SVC_A "'>" extra " } }"
#define CHR(service, flags) \
  "objectpath '/app/s/c': { 'org.bluez.GattCharacteristic1': { 'UUID': <'" CHR_1 "'>," \
  " 'Service': <objectpath '" service "'>, 'Flags': <" flags "> } }"

static const Bad bad_trees[] = {
  { "no object at all", "@a{oa{sa{sv}}} {}", "No object received" },
  { "GetManagedObjects fails", NULL, "No object received" },
  { "only interfaces that are not GATT",
    "{ objectpath '/app/x': { 'org.example.Other': { 'A': <1> } } }",
    "No valid service object found" },
  { "a characteristic whose service is not in the tree",
    "{ " SVC (", 'Primary': <true>") ", " CHR ("/app/elsewhere", "['read']") " }",
    "No valid service object found" },
  { "a characteristic with no Service",
    "{ " SVC (", 'Primary': <true>") ", objectpath '/app/s/c': { "
    "'org.bluez.GattCharacteristic1': { 'UUID': <'" CHR_1 "'>, 'Flags': <['read']> } } }",
    "No valid service object found" },
  { "an unknown characteristic flag",
    "{ " SVC (", 'Primary': <true>") ", " CHR ("/app/s", "['read', 'fly']") " }",
    "No valid service object found" },
  { "an empty Flags",
    "{ " SVC (", 'Primary': <true>") ", " CHR ("/app/s", "@as []") " }",
    "No valid service object found" },
  { "a descriptor without its characteristic",
    "{ " SVC (", 'Primary': <true>") ", objectpath '/app/s/d': { "
    "'org.bluez.GattDescriptor1': { 'UUID': <'" DSC_1 "'>, 'Characteristic': "
    "<objectpath '/app/s/none'>, 'Flags': <['read']> } } }",
    "No valid service object found" },
  { "a descriptor flag only characteristics have",
    "{ " SVC (", 'Primary': <true>") ", " CHR ("/app/s", "['read']") ", objectpath "
    "'/app/s/c/d': { 'org.bluez.GattDescriptor1': { 'UUID': <'" DSC_1 "'>, "
    "'Characteristic': <objectpath '/app/s/c'>, 'Flags': <['notify']> } } }",
    "No valid service object found" },
  { "a profile with no UUIDs",
    "{ objectpath '/app/p': { 'org.bluez.GattProfile1': { 'UUIDs': <@as []> } } }",
    "No valid service object found" },
  { "a service UUID that is not one",
    "{ objectpath '/app/s': { 'org.bluez.GattService1': { 'UUID': <'not-a-uuid'>,"
    " 'Primary': <true> } } }",
    "Failed to create entry in database" },
  { "the GAP service, which bluetoothd serves itself",
    "{ objectpath '/app/s': { 'org.bluez.GattService1': { 'UUID': <'1800'>,"
    " 'Primary': <true> } } }",
    "Failed to create entry in database" },
  { "a characteristic with the GATT service's UUID",
    "{ " SVC (", 'Primary': <true>") ", objectpath '/app/s/c': { "
    "'org.bluez.GattCharacteristic1': { 'UUID': <'00001801" UUID_TAIL "'>, "
    "'Service': <objectpath '/app/s'>, 'Flags': <['read']> } } }",
    "Failed to create entry in database" },
  { "a service without Primary", "{ " SVC ("") " }", "Failed to create entry in database" },
  { "a Handle that is not a uint16",
    "{ " SVC (", 'Primary': <true>, 'Handle': <uint32 40>") " }",
    "Failed to create entry in database" },
  { "a Handle inside bluetoothd's own services",
    "{ " SVC (", 'Primary': <true>, 'Handle': <uint16 5>") " }",
    "Failed to create entry in database" },
  { "a characteristic Handle at or before its service's",
    "{ " SVC (", 'Primary': <true>, 'Handle': <uint16 100>") ", objectpath '/app/s/c': { "
    "'org.bluez.GattCharacteristic1': { 'UUID': <'" CHR_1 "'>, 'Service': "
    "<objectpath '/app/s'>, 'Flags': <['read']>, 'Handle': <uint16 100> } } }",
    "Failed to create entry in database" },
};

/* Each bad tree gets bluetoothd's answer, and the application is gone
 * afterwards (UnregisterApplication: DoesNotExist), leaving nothing in
 * the database. */
static void
test_register_bad_trees (void **state)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_trees); i++)
    {
      g_autoptr(App) app = app_new (bad_trees[i].tree);
      g_autoptr(GError) error = NULL;

      if (app_call (app, "RegisterApplication", "/app", &error))
        fail_msg ("%s: registered; bluetoothd answers Failed: %s", bad_trees[i].what,
                  bad_trees[i].message);
      sim_expect_remote_error (error, "org.bluez.Error.Failed", bad_trees[i].message, bad_trees[i].what);
      g_clear_error (&error);
      assert_false (app_call (app, "UnregisterApplication", "/app", &error));
      sim_expect_remote_error (error, "org.bluez.Error.DoesNotExist", "Does Not Exist", bad_trees[i].what);
      assert_database ("");
    }
}

/* bluetoothd takes a Handle the application asks for, places the
 * characteristics after it, and accepts 16-bit UUIDs. */
static void
test_register_requested_handle (void **state)
{
  g_autoptr(App) app = app_new (
    "{ objectpath '/app/s': { 'org.bluez.GattService1': { 'UUID': <'180d'>,"
    "  'Primary': <true>, 'Handle': <uint16 0x0100> } },"
    "  objectpath '/app/s/c': { 'org.bluez.GattCharacteristic1': { 'UUID': <'2a37'>,"
    "  'Service': <objectpath '/app/s'>, 'Flags': <['indicate']> } } }");
  g_autoptr(GError) error = NULL;
  g_autofree char *log = NULL;

  if (!app_call (app, "RegisterApplication", "/app", &error))
    fail_msg ("RegisterApplication: %s", error->message);
  assert_database ("0100 primary 0000180d" UUID_TAIL " /app/s\n"
                   "0101 characteristic 00002a37" UUID_TAIL " /app/s/c\n"
                   "0102 value 00002a37" UUID_TAIL " /app/s/c\n"
                   "0103 ccc 00002902" UUID_TAIL " /app/s/c");
  /* a Handle that is not 0 is not written back */
  log = app_log (app);
  assert_string_equal (log, "GetManagedObjects /app");
  assert_true (app_call (app, "UnregisterApplication", "/app", &error));
}

static void
on_register_answered (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  GVariant *reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, NULL);

  g_clear_pointer (&reply, g_variant_unref);
  *(gboolean *) user_data = TRUE;
}

/* manager_unregister_app(): an application whose GetManagedObjects is
 * still out is dropped like any other, and app_free() frees the
 * registration message without answering it. */
static void
test_unregister_pending_registration (void **state)
{
  g_autoptr(App) app = app_new ("{ " SVC (", 'Primary': <true>") " }");
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusMessage) held = NULL;
  g_autoptr(GDBusMessage) late = NULL;
  gboolean answered = FALSE;
  gboolean asked = FALSE;

  app->hold = TRUE;
  g_dbus_connection_call (app->conn, "org.bluez", ADAPTER, MANAGER, "RegisterApplication",
                          g_variant_new ("(oa{sv})", "/app", NULL), NULL,
                          G_DBUS_CALL_FLAGS_NONE, G_MAXINT, NULL, on_register_answered,
                          &answered);
  for (guint waited = 0; waited < WAIT_MSEC && !asked; waited += 20)
    {
      g_main_context_iteration (NULL, FALSE);
      g_mutex_lock (&app->lock);
      asked = app->held != NULL;
      g_mutex_unlock (&app->lock);
      if (!asked)
        g_usleep (20 * 1000);
    }
  assert_true (asked);
  /* pending, it is there already: a second registration is refused */
  assert_false (app_call (app, "RegisterApplication", "/app", &error));
  sim_expect_remote_error (error, "org.bluez.Error.AlreadyExists", "Already Exists",
                           "registering while the first registration is pending");
  g_clear_error (&error);
  if (!app_call (app, "UnregisterApplication", "/app", &error))
    fail_msg ("UnregisterApplication of a pending registration: %s", error->message);
  /* the objects arrive too late: nothing comes of them */
  g_mutex_lock (&app->lock);
  held = g_steal_pointer (&app->held);
  app->hold = FALSE;
  g_mutex_unlock (&app->lock);
  late = g_dbus_message_new_method_reply (held);
  g_dbus_message_set_body (late, g_variant_new ("(@a{oa{sa{sv}}})",
                                                g_variant_new_parsed (app->tree)));
  g_dbus_connection_send_message (app->conn, late, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL);
  /* the path is free again */
  if (!app_call (app, "RegisterApplication", "/app", &error))
    fail_msg ("RegisterApplication after the pending one went: %s", error->message);
  /* one connection carries it all in order: had the simulator answered
   * the first registration (after the Unregister or the late objects),
   * that answer would have come before this registration's, and its
   * callback is dispatched by now */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  assert_false (answered);
  assert_database ("0104 primary " SVC_A " /app/s");
  assert_true (app_call (app, "UnregisterApplication", "/app", &error));
}

/* client_disconnect_cb(): the owner leaving the bus drops its
 * application. */
static void
test_owner_vanishing_drops_application (void **state)
{
  g_autoptr(App) app = app_new ("{ " SVC (", 'Primary': <true>") " }");
  g_autoptr(GError) error = NULL;

  if (!app_call (app, "RegisterApplication", "/app", &error))
    fail_msg ("RegisterApplication: %s", error->message);
  /* after 0x0100-0x0103 and 0x0104 of the cases before */
  assert_database ("0105 primary " SVC_A " /app/s");
  g_dbus_connection_close_sync (app->conn, NULL, NULL);
  if (!wait_database (""))
    fail_msg ("the application outlived its owner's connection");
}

/* proxy_removed_cb(): a service whose object leaves the application's
 * ObjectManager leaves the database; an object added after registration
 * is never read (bluetoothd keeps its proxy and registers nothing). */
static void
test_objects_changed_after_registration (void **state)
{
  g_autoptr(App) app = app_new ("{ " SVC (", 'Primary': <true>") ", "
                                "objectpath '/app/t': { 'org.bluez.GattService1': { "
                                "'UUID': <'" SVC_B "'>, 'Primary': <true> } } }");
  g_autoptr(GError) error = NULL;
  g_autofree char *rows = NULL;

  if (!app_call (app, "RegisterApplication", "/app", &error))
    fail_msg ("RegisterApplication: %s", error->message);
  rows = database ();
  assert_string_equal (rows, "0106 primary " SVC_A " /app/s\n0107 primary " SVC_B " /app/t");
  /* added first, removed second: once the removal shows, the addition
   * was handled before it */
  assert_true (g_dbus_connection_emit_signal (
    app->conn, NULL, "/app", "org.freedesktop.DBus.ObjectManager", "InterfacesAdded",
    g_variant_new_parsed ("(objectpath '/app/u', {'org.bluez.GattService1': "
                          "{'UUID': <'" CHR_3 "'>, 'Primary': <true>}})"), &error));
  assert_true (g_dbus_connection_emit_signal (
    app->conn, NULL, "/app", "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved",
    g_variant_new_parsed ("(objectpath '/app/s', ['org.bluez.GattService1'])"), &error));
  if (!wait_database ("0107 primary " SVC_B " /app/t"))
    fail_msg ("removing /app/s did not take its service out");
  assert_true (app_call (app, "UnregisterApplication", "/app", &error));
}

static int
group_setup (void **state)
{
  return sim_fixture_group_start_on (&fx, NULL);
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
  /* the handles each case expects follow from the cases before it, as
   * gatt_db's next handle only grows: a service placed before its
   * registration failed still moves it on (test_register_bad_trees ends
   * it at 0x0103) */
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_example_gatt_server_handles),
    cmocka_unit_test (test_register_assigns_handles),
    cmocka_unit_test (test_register_twice_already_exists),
    cmocka_unit_test (test_unregister_unknown_does_not_exist),
    cmocka_unit_test (test_register_bad_trees),
    cmocka_unit_test (test_register_requested_handle),
    cmocka_unit_test (test_unregister_pending_registration),
    cmocka_unit_test (test_owner_vanishing_drops_application),
    cmocka_unit_test (test_objects_changed_after_registration),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
