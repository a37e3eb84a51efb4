/* SPDX-License-Identifier: MIT */
/*
 * A GATT application registered on hci1, browsed, read, written and
 * subscribed to from hci0 over the simulator's shared air
 * (scenarios/two-adapters.json), as two controllers of one bluetoothd
 * 5.66 do: hci0's client sees the application's services after
 * bluetoothd's own, and its calls reach the application's objects with
 * the options bluetoothd's server passes (src/gatt-database.c,
 * append_options(): device, offset when not 0, link, mtu), its errors
 * come back as the ATT errors they become, and a Value change of the
 * application is a notification.
 *
 * The application (and the advertisement that makes hci1 connectable) is
 * served by a message filter on a connection of its own, which records
 * every call it gets.
 */
#include "sim-fixture.h"
#include "sim-expect.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <gio/gunixfdlist.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#define HCI0 "/org/bluez/hci0"
#define HCI1 "/org/bluez/hci1"
#define DEV_HCI1 "/org/bluez/hci0/dev_00_AA_01_01_00_01"
#define DEV_HCI0 "/org/bluez/hci1/dev_00_AA_01_00_00_00"
#define DEVICE1 "org.bluez.Device1"
#define CHR1 "org.bluez.GattCharacteristic1"
#define WAIT_MSEC 10000
#define SVC "12345678-1234-5678-1234-56789abcdef0"
#define CHR_RW "12345678-1234-5678-1234-56789abcdef1"
#define CHR_NOTIFY "12345678-1234-5678-1234-56789abcdef2"
#define CHR_INDICATE "12345678-1234-5678-1234-56789abcdef3"
#define CHR_ACQ_WRITE "12345678-1234-5678-1234-56789abcdef4"
#define CHR_ACQ_NOTIFY "12345678-1234-5678-1234-56789abcdef5"
#define CHR_BIG "12345678-1234-5678-1234-56789abcdef6"
#define CHR_RELIABLE "12345678-1234-5678-1234-56789abcdef7"

static SimFixture *fx;

/* ---- the application on hci1 ---- */

typedef struct {
  GDBusConnection *conn;
  guint filter;
  GMutex lock;
  GByteArray *value;          /* what /app/s/rw holds */
  char *fail_name;            /* the next ReadValue fails with it, or NULL */
  char *fail_message;
  GPtrArray *log;             /* char *: "METHOD PATH ARGS" */
  int write_end;              /* our end of the AcquireWrite socket, or -1 */
  int notify_end;             /* ... and of the AcquireNotify one */
} App;

static const char tree[] =
  "{ objectpath '/app/s': { 'org.bluez.GattService1': { 'UUID': <'" SVC "'>,"
  "  'Primary': <true> } },"
  "  objectpath '/app/s/rw': { 'org.bluez.GattCharacteristic1': { 'UUID': <'" CHR_RW "'>,"
  "  'Service': <objectpath '/app/s'>, 'Flags': <['read', 'write']> } },"
  "  objectpath '/app/s/n': { 'org.bluez.GattCharacteristic1': { 'UUID': <'" CHR_NOTIFY "'>,"
  "  'Service': <objectpath '/app/s'>, 'Flags': <['notify']> } },"
  "  objectpath '/app/s/i': { 'org.bluez.GattCharacteristic1': { 'UUID': <'" CHR_INDICATE "'>,"
  "  'Service': <objectpath '/app/s'>, 'Flags': <['indicate']> } },"
  "  objectpath '/app/s/wa': { 'org.bluez.GattCharacteristic1': { 'UUID': <'" CHR_ACQ_WRITE "'>,"
  "  'Service': <objectpath '/app/s'>, 'Flags': <['write-without-response']>,"
  "  'WriteAcquired': <false> } },"
  "  objectpath '/app/s/na': { 'org.bluez.GattCharacteristic1': { 'UUID': <'" CHR_ACQ_NOTIFY "'>,"
  "  'Service': <objectpath '/app/s'>, 'Flags': <['notify']>,"
  "  'NotifyAcquired': <false> } },"
  "  objectpath '/app/s/big': { 'org.bluez.GattCharacteristic1': { 'UUID': <'" CHR_BIG "'>,"
  "  'Service': <objectpath '/app/s'>, 'Flags': <['read']> } },"
  "  objectpath '/app/s/rel': { 'org.bluez.GattCharacteristic1': { 'UUID': <'" CHR_RELIABLE "'>,"
  "  'Service': <objectpath '/app/s'>, 'Flags': <['write', 'reliable-write']> } } }";

static GDBusMessage *
app_filter (GDBusConnection *conn,
            GDBusMessage    *message,
            gboolean         incoming,
            gpointer         user_data)
{
  App *app = user_data;
  const char *path = g_dbus_message_get_path (message);
  const char *member = g_dbus_message_get_member (message);
  GVariant *body = g_dbus_message_get_body (message);
  g_autoptr(GDBusMessage) reply = NULL;
  g_autofree char *args = NULL;

  if (!incoming || g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_METHOD_CALL
      || path == NULL || (!g_str_has_prefix (path, "/app") && !g_str_has_prefix (path, "/adv")))
    return message;
  args = body != NULL ? g_variant_print (body, FALSE) : g_strdup ("()");
  g_mutex_lock (&app->lock);
  g_ptr_array_add (app->log, g_strdup_printf ("%s %s %s", member, path, args));
  if (g_strcmp0 (member, "GetManagedObjects") == 0 && g_str_equal (path, "/app"))
    {
      reply = g_dbus_message_new_method_reply (message);
      g_dbus_message_set_body (reply, g_variant_new ("(@a{oa{sa{sv}}})",
                                                     g_variant_new_parsed (tree)));
    }
  else if (g_strcmp0 (member, "GetAll") == 0 && g_str_equal (path, "/adv"))
    {
      reply = g_dbus_message_new_method_reply (message);
      /* Discoverable: a scanner without a filter only reports an
       * advertisement with the discoverable flags */
      g_dbus_message_set_body (reply, g_variant_new_parsed (
        "({'Type': <'peripheral'>, 'LocalName': <'GattAir'>, 'Discoverable': <true>},)"));
    }
  else if (g_strcmp0 (member, "ReadValue") == 0 && app->fail_name != NULL)
    {
      reply = g_dbus_message_new_method_error_literal (message, app->fail_name,
                                                       app->fail_message);
      g_clear_pointer (&app->fail_name, g_free);
      g_clear_pointer (&app->fail_message, g_free);
    }
  else if (g_strcmp0 (member, "ReadValue") == 0 && g_str_equal (path, "/app/s/big"))
    {
      guint8 big[600];

      for (guint i = 0; i < sizeof big; i++)
        big[i] = (guint8) i;
      reply = g_dbus_message_new_method_reply (message);
      g_dbus_message_set_body (reply, g_variant_new ("(@ay)",
        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, big, sizeof big, 1)));
    }
  else if (g_strcmp0 (member, "WriteValue") == 0 && g_str_equal (path, "/app/s/rel"))
    reply = g_dbus_message_new_method_reply (message);
  else if (g_strcmp0 (member, "ReadValue") == 0)
    {
      guint16 offset = 0;
      g_autoptr(GVariant) opts = g_variant_get_child_value (body, 0);

      g_variant_lookup (opts, "offset", "q", &offset);
      offset = MIN (offset, app->value->len);
      reply = g_dbus_message_new_method_reply (message);
      g_dbus_message_set_body (reply, g_variant_new ("(@ay)",
        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, app->value->data + offset,
                                   app->value->len - offset, 1)));
    }
  else if (g_strcmp0 (member, "WriteValue") == 0)
    {
      g_autoptr(GVariant) v = g_variant_get_child_value (body, 0);
      gsize len;
      const guint8 *data = g_variant_get_fixed_array (v, &len, 1);

      g_byte_array_set_size (app->value, 0);
      g_byte_array_append (app->value, data, (guint) len);
      reply = g_dbus_message_new_method_reply (message);
    }
  else if (g_strcmp0 (member, "AcquireWrite") == 0 || g_strcmp0 (member, "AcquireNotify") == 0)
    {
      int sv[2];
      g_autoptr(GUnixFDList) fds = NULL;

      g_assert (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
      fds = g_unix_fd_list_new_from_array (&sv[1], 1);
      if (g_str_equal (member, "AcquireWrite"))
        app->write_end = sv[0];
      else
        app->notify_end = sv[0];
      reply = g_dbus_message_new_method_reply (message);
      g_dbus_message_set_body (reply, g_variant_new ("(hq)", 0, 517));
      g_dbus_message_set_unix_fd_list (reply, fds);
    }
  else if (g_strcmp0 (member, "StartNotify") == 0 || g_strcmp0 (member, "StopNotify") == 0
           || g_strcmp0 (member, "Confirm") == 0)
    reply = g_dbus_message_new_method_reply (message);
  else
    reply = g_dbus_message_new_method_error (message, "org.freedesktop.DBus.Error.UnknownMethod",
                                             "not here");
  g_mutex_unlock (&app->lock);
  g_dbus_connection_send_message (conn, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL);
  g_object_unref (message);
  return NULL;
}

static App *
app_new (void)
{
  g_autoptr(GError) error = NULL;
  App *app = g_new0 (App, 1);
  static const guint8 hi[] = { 0x68, 0x69 };

  g_mutex_init (&app->lock);
  app->value = g_byte_array_new ();
  g_byte_array_append (app->value, hi, 2);
  app->log = g_ptr_array_new_with_free_func (g_free);
  app->write_end = -1;
  app->notify_end = -1;
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
  g_dbus_connection_remove_filter (app->conn, app->filter);
  g_dbus_connection_close_sync (app->conn, NULL, NULL);
  g_object_unref (app->conn);
  g_byte_array_unref (app->value);
  g_ptr_array_unref (app->log);
  if (app->write_end >= 0)
    close (app->write_end);
  if (app->notify_end >= 0)
    close (app->notify_end);
  g_free (app->fail_name);
  g_free (app->fail_message);
  g_mutex_clear (&app->lock);
  g_free (app);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (App, app_free)

static void
app_call (App        *app,
          const char *interface,
          const char *method,
          GVariant   *params)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (app->conn, "org.bluez", HCI1,
                                                           interface, method, params, NULL,
                                                           G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC,
                                                           NULL, &error);

  if (reply == NULL)
    fail_msg ("%s: %s", method, error->message);
}

/* The calls on @path's characteristic the application got, "METHOD ARGS"
 * joined by "\n". */
static char *
app_calls (App        *app,
           const char *path)
{
  g_autoptr(GString) s = g_string_new (NULL);
  g_autofree char *prefix = g_strdup_printf (" %s ", path);

  g_mutex_lock (&app->lock);
  for (guint i = 0; i < app->log->len; i++)
    {
      const char *line = g_ptr_array_index (app->log, i);
      const char *at = strstr (line, prefix);

      if (at != NULL)
        g_string_append_printf (s, "%s%.*s%s", s->len ? "\n" : "", (int) (at - line), line,
                                at + strlen (prefix) - 1);
    }
  g_mutex_unlock (&app->lock);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* ---- hci0's side ---- */

static GVariant *
call_hci0 (const char  *path,
           const char  *method,
           GVariant    *params,
           GError     **error)
{
  return sim_fixture_call_bluez (fx, path, CHR1, method, params, error);
}

static char *
hex (GVariant *bytes)
{
  gsize len;
  const guint8 *data = g_variant_get_fixed_array (bytes, &len, 1);
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", data[i]);
  return g_string_free (s, FALSE);
}

static char *
read_hex (const char *path,
          GVariant   *options)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = call_hci0 (path, "ReadValue", g_variant_new ("(@a{sv})", options),
                                         &error);
  g_autoptr(GVariant) bytes = NULL;

  if (reply == NULL)
    fail_msg ("ReadValue from hci0: %s", error->message);
  bytes = g_variant_get_child_value (reply, 0);
  return hex (bytes);
}

#define OPTS "'device': <objectpath '" DEV_HCI0 "'>"
#define LINK_MTU "'link': <'LE'>, 'mtu': <uint16 517>"

static void
test_application_across_the_air (void **state)
{
  g_autoptr(GVariant) service_uuid = NULL;
  g_autoptr(App) app = app_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *rw = NULL;
  g_autofree char *n = NULL;
  g_autofree char *ind = NULL;
  g_autofree char *got = NULL;
  g_autofree char *calls = NULL;
  g_autoptr(GVariant) uuids = NULL;
  GDBusConnection *conn = sim_fixture_get_connection (fx);

  app_call (app, "org.bluez.GattManager1", "RegisterApplication",
            g_variant_new ("(oa{sv})", "/app", NULL));
  app_call (app, "org.bluez.LEAdvertisingManager1", "RegisterAdvertisement",
            g_variant_new ("(oa{sv})", "/adv", NULL));

  /* hci0 finds hci1 and connects; the application's service is browsed
   * after bluetoothd's own, at the first free handle */
  g_clear_pointer (&reply, g_variant_unref);
  reply = g_dbus_connection_call_sync (conn, "org.bluez", HCI0, "org.bluez.Adapter1",
                                       "StartDiscovery", NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
                                       WAIT_MSEC, NULL, &error);
  assert_non_null (reply);
  assert_true (sim_fixture_wait_property (fx, DEV_HCI1, DEVICE1, "Name",
                                          g_variant_new_string ("GattAir"), WAIT_MSEC));
  g_clear_pointer (&reply, g_variant_unref);
  reply = g_dbus_connection_call_sync (conn, "org.bluez", HCI0, "org.bluez.Adapter1",
                                       "StopDiscovery", NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
                                       WAIT_MSEC, NULL, &error);
  assert_non_null (reply);
  if (!sim_fixture_connect_device (fx, DEV_HCI1, &error))
    fail_msg ("Connect from hci0 to hci1: %s", error->message);
  service_uuid = sim_fixture_get_property (fx, DEV_HCI1 "/service003d",
                                           "org.bluez.GattService1", "UUID");
  assert_non_null (service_uuid);
  uuids = sim_fixture_get_property (fx, DEV_HCI1, DEVICE1, "UUIDs");
  assert_non_null (uuids);
  {
    g_autofree const char **list = g_variant_get_strv (uuids, NULL);

    assert_true (g_strv_contains (list, SVC));
  }
  rw = sim_fixture_find_gatt (fx, DEV_HCI1, CHR1, CHR_RW, NULL, NULL);
  n = sim_fixture_find_gatt (fx, DEV_HCI1, CHR1, CHR_NOTIFY, NULL, NULL);
  ind = sim_fixture_find_gatt (fx, DEV_HCI1, CHR1, CHR_INDICATE, NULL, NULL);
  assert_non_null (rw);
  assert_non_null (n);
  assert_non_null (ind);
  assert_string_equal (rw, DEV_HCI1 "/service003d/char003e");

  /* reads and writes reach the application with bluetoothd's options */
  got = read_hex (rw, g_variant_new_parsed ("@a{sv} {}"));
  assert_string_equal (got, "6869");
  g_free (got);
  got = read_hex (rw, g_variant_new_parsed ("{'offset': <uint16 1>}"));
  assert_string_equal (got, "69");
  g_clear_pointer (&reply, g_variant_unref);
  reply = call_hci0 (rw, "WriteValue",
                     g_variant_new_parsed ("([byte 0x41, 0x42], @a{sv} {})"), &error);
  if (reply == NULL)
    fail_msg ("WriteValue from hci0: %s", error->message);
  g_free (got);
  got = read_hex (rw, g_variant_new_parsed ("@a{sv} {}"));
  assert_string_equal (got, "4142");
  calls = app_calls (app, "/app/s/rw");
  assert_string_equal (calls,
    "ReadValue ({" OPTS ", " LINK_MTU "},)\n"
    "ReadValue ({" OPTS ", 'offset': <uint16 1>, " LINK_MTU "},)\n"
    "WriteValue ([0x41, 0x42], {" OPTS ", " LINK_MTU "})\n"
    "ReadValue ({" OPTS ", " LINK_MTU "},)");

  /* the application's errors come back as the ATT errors they become */
  g_mutex_lock (&app->lock);
  app->fail_name = g_strdup ("org.bluez.Error.NotPermitted");
  app->fail_message = g_strdup ("no");
  g_mutex_unlock (&app->lock);
  g_clear_pointer (&reply, g_variant_unref);
  reply = call_hci0 (rw, "ReadValue", g_variant_new_parsed ("(@a{sv} {},)"), &error);
  sim_expect_remote_error (error, "org.bluez.Error.NotPermitted", "Read not permitted",
                           "ReadValue the application refuses");
  g_clear_error (&error);
  g_mutex_lock (&app->lock);
  app->fail_name = g_strdup ("org.bluez.Error.Failed");
  app->fail_message = g_strdup ("0x81");
  g_mutex_unlock (&app->lock);
  reply = call_hci0 (rw, "ReadValue", g_variant_new_parsed ("(@a{sv} {},)"), &error);
  sim_expect_remote_error (error, "org.bluez.Error.Failed", "Operation failed with ATT error: 0x81",
                           "ReadValue failing with an application error code");
  g_clear_error (&error);

  /* StartNotify from hci0 writes the CCC: the application is asked to
   * notify, and its Value changes reach hci0 */
  reply = call_hci0 (n, "StartNotify", NULL, &error);
  assert_non_null (reply);
  g_clear_pointer (&reply, g_variant_unref);
  assert_true (g_dbus_connection_emit_signal (
    app->conn, NULL, "/app/s/n", "org.freedesktop.DBus.Properties", "PropertiesChanged",
    g_variant_new_parsed ("('org.bluez.GattCharacteristic1', "
                          "{'Value': <[byte 0x01, 0x02, 0x03]>}, @as [])"), &error));
  assert_true (sim_fixture_wait_property (fx, n, CHR1, "Value",
                                          g_variant_new_parsed ("[byte 0x01, 0x02, 0x03]"),
                                          WAIT_MSEC));
  /* Value invalidated: bluetoothd's proxy reports it without a value,
   * which it sends as an empty notification */
  assert_true (g_dbus_connection_emit_signal (
    app->conn, NULL, "/app/s/n", "org.freedesktop.DBus.Properties", "PropertiesChanged",
    g_variant_new_parsed ("('org.bluez.GattCharacteristic1', @a{sv} {}, ['Value'])"),
    &error));
  assert_true (sim_fixture_wait_property (fx, n, CHR1, "Value",
                                          g_variant_new_parsed ("@ay []"), WAIT_MSEC));
  reply = call_hci0 (n, "StopNotify", NULL, &error);
  assert_non_null (reply);
  g_clear_pointer (&reply, g_variant_unref);

  /* an indication hci0 received is confirmed to the application */
  reply = call_hci0 (ind, "StartNotify", NULL, &error);
  assert_non_null (reply);
  g_clear_pointer (&reply, g_variant_unref);
  assert_true (g_dbus_connection_emit_signal (
    app->conn, NULL, "/app/s/i", "org.freedesktop.DBus.Properties", "PropertiesChanged",
    g_variant_new_parsed ("('org.bluez.GattCharacteristic1', "
                          "{'Value': <[byte 0x07]>}, @as [])"), &error));
  assert_true (sim_fixture_wait_property (fx, ind, CHR1, "Value",
                                          g_variant_new_parsed ("[byte 0x07]"), WAIT_MSEC));
  /* StopNotify is answered after the simulator sent StopNotify to the
   * application, which it did after Confirm: both are in the log once
   * the application got StopNotify */
  reply = call_hci0 (ind, "StopNotify", NULL, &error);
  assert_non_null (reply);
  g_clear_pointer (&reply, g_variant_unref);
  g_free (calls);
  calls = app_calls (app, "/app/s/n");
  assert_string_equal (calls, "StartNotify ()\nStopNotify ()");
  for (guint waited = 0; waited < WAIT_MSEC; waited += 20)
    {
      g_free (calls);
      calls = app_calls (app, "/app/s/i");
      if (strstr (calls, "StopNotify") != NULL)
        break;
      g_usleep (20 * 1000);
    }
  assert_string_equal (calls, "StartNotify ()\nConfirm ()\nStopNotify ()");

  /* a value longer than an attribute's 512 bytes comes back cut there
   * ("read fff5 (600 bytes)"); a reliable write reaches the application
   * as one WriteValue with neither offset nor type ("write fff8
   * reliable") */
  {
    g_autofree char *big = sim_fixture_find_gatt (fx, DEV_HCI1, CHR1, CHR_BIG, NULL, NULL);
    g_autofree char *rel = sim_fixture_find_gatt (fx, DEV_HCI1, CHR1, CHR_RELIABLE, NULL, NULL);
    g_autoptr(GVariant) bytes = NULL;

    assert_non_null (big);
    assert_non_null (rel);
    reply = call_hci0 (big, "ReadValue", g_variant_new_parsed ("(@a{sv} {},)"), &error);
    assert_non_null (reply);
    bytes = g_variant_get_child_value (reply, 0);
    assert_int_equal (g_variant_n_children (bytes), 512);
    g_clear_pointer (&reply, g_variant_unref);
    reply = call_hci0 (rel, "WriteValue",
                       g_variant_new_parsed ("([byte 1, 2, 3], {'type': <'reliable'>})"), &error);
    if (reply == NULL)
      fail_msg ("reliable WriteValue from hci0: %s", error->message);
    g_clear_pointer (&reply, g_variant_unref);
    g_free (calls);
    calls = app_calls (app, "/app/s/rel");
    assert_string_equal (calls, "WriteValue ([0x01, 0x02, 0x03], {" OPTS ", " LINK_MTU "})");
  }

  /* a characteristic that shows WriteAcquired: the first write acquires
   * the socket, every write is a packet on it, no WriteValue (as
   * recorded on 5.66: gatt-server-calls.json, "write fff6") */
  {
    g_autofree char *wa = sim_fixture_find_gatt (fx, DEV_HCI1, CHR1, CHR_ACQ_WRITE, NULL, NULL);
    guint8 buf[64];
    struct pollfd pfd = { -1, POLLIN, 0 };
    int end;

    assert_non_null (wa);
    reply = call_hci0 (wa, "WriteValue",
                       g_variant_new_parsed ("([byte 1, 2, 3], {'type': <'command'>})"), &error);
    assert_non_null (reply);
    g_clear_pointer (&reply, g_variant_unref);
    reply = call_hci0 (wa, "WriteValue",
                       g_variant_new_parsed ("([byte 9], {'type': <'command'>})"), &error);
    assert_non_null (reply);
    g_clear_pointer (&reply, g_variant_unref);
    for (guint waited = 0; waited < WAIT_MSEC; waited += 20)
      {
        g_mutex_lock (&app->lock);
        end = app->write_end;
        g_mutex_unlock (&app->lock);
        if (end >= 0)
          break;
        g_usleep (20 * 1000);
      }
    assert_true (end >= 0);
    pfd.fd = end;
    assert_int_equal (poll (&pfd, 1, WAIT_MSEC), 1);
    assert_int_equal (read (end, buf, sizeof buf), 3);
    assert_memory_equal (buf, "\x01\x02\x03", 3);
    assert_int_equal (poll (&pfd, 1, WAIT_MSEC), 1);
    assert_int_equal (read (end, buf, sizeof buf), 1);
    assert_int_equal (buf[0], 9);
    g_free (calls);
    calls = app_calls (app, "/app/s/wa");
    assert_string_equal (calls, "AcquireWrite ({" OPTS ", " LINK_MTU "},)");
  }

  /* one that shows NotifyAcquired: subscribing acquires its socket, each
   * packet the application writes is a notification, unsubscribing
   * closes it without a call ("subscribe fff4" in the recording) */
  {
    g_autofree char *na = sim_fixture_find_gatt (fx, DEV_HCI1, CHR1, CHR_ACQ_NOTIFY, NULL, NULL);
    struct pollfd pfd = { -1, POLLIN, 0 };
    int end = -1;

    assert_non_null (na);
    reply = call_hci0 (na, "StartNotify", NULL, &error);
    assert_non_null (reply);
    g_clear_pointer (&reply, g_variant_unref);
    for (guint waited = 0; waited < WAIT_MSEC; waited += 20)
      {
        g_mutex_lock (&app->lock);
        end = app->notify_end;
        g_mutex_unlock (&app->lock);
        if (end >= 0)
          break;
        g_usleep (20 * 1000);
      }
    assert_true (end >= 0);
    assert_int_equal (write (end, "\x05\x06", 2), 2);
    assert_true (sim_fixture_wait_property (fx, na, CHR1, "Value",
                                            g_variant_new_parsed ("[byte 0x05, 0x06]"),
                                            WAIT_MSEC));
    reply = call_hci0 (na, "StopNotify", NULL, &error);
    assert_non_null (reply);
    g_clear_pointer (&reply, g_variant_unref);
    /* the simulator closed its end: ours hangs up */
    pfd.fd = end;
    assert_int_equal (poll (&pfd, 1, WAIT_MSEC), 1);
    assert_true (pfd.revents & POLLHUP);
    g_free (calls);
    calls = app_calls (app, "/app/s/na");
    assert_string_equal (calls, "AcquireNotify ({" OPTS ", " LINK_MTU "},)");
  }

  reply = sim_fixture_call_bluez (fx, DEV_HCI1, DEVICE1, "Disconnect", NULL, &error);
  assert_non_null (reply);
  g_clear_pointer (&reply, g_variant_unref);
  app_call (app, "org.bluez.GattManager1", "UnregisterApplication",
            g_variant_new ("(o)", "/app"));
}

static int
group_setup (void **state)
{
  return sim_fixture_group_start_on (&fx, TWO_ADAPTERS_SCENARIO);
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
    cmocka_unit_test (test_application_across_the_air),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
