/* SPDX-License-Identifier: MIT */
/*
 * bleio-e2e-record-gatt-server: records, GDBus only, the calls bluetoothd
 * 5.66 makes into a GATT application (GattManager1.RegisterApplication on
 * hci1) while hci0's central reads, writes and subscribes, for the
 * simulator's GattManager1 (issue 17). Run by hand, alone:
 *
 *   run-e2e.sh ... --test tests/e2e/bleio-e2e-record-gatt-server \
 *     --env BLEIO_E2E_PERIPHERAL=0
 *
 * It prints gatt-server-calls.json between E2E-RECORD-BEGIN/END lines
 * (extract-records.sh): every method call the application received, with
 * its arguments, in order, interleaved with the central's calls and their
 * replies.
 *
 * The application's objects are answered from a connection filter, like
 * the advertisements of record-advertising.c, so that every call is seen
 * exactly as bluetoothd sent it.
 */
#include "record.h"

#include <gio/gunixfdlist.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HCI0 "/org/bluez/hci0"
#define HCI1 "/org/bluez/hci1"
#define APP "/org/bleio/gatt"
#define ADV APP "/adv"
#define SVC APP "/service0"
#define CHR1 "org.bluez.GattCharacteristic1"
#define BASE_UUID "-0000-1000-8000-00805f9b34fb"

typedef struct {
  const char *name;           /* path element under SVC */
  const char *uuid;
  const char *flags;          /* comma-separated */
  gboolean notify_acquired;   /* NotifyAcquired property present */
  gboolean write_acquired;    /* WriteAcquired property present */
  gsize value_len;            /* the value: 0, 1, 2... mod 256 */
} ChrDef;

static const ChrDef chr_defs[] = {
  { "char0", "0000fff1" BASE_UUID, "read,write", FALSE, FALSE, 6 },
  { "char1", "0000fff2" BASE_UUID, "write-without-response", FALSE, FALSE, 0 },
  { "char2", "0000fff3" BASE_UUID, "notify", FALSE, FALSE, 2 },
  { "char3", "0000fff4" BASE_UUID, "notify", TRUE, FALSE, 2 },
  { "char4", "0000fff5" BASE_UUID, "read", FALSE, FALSE, 600 },
  { "char5", "0000fff6" BASE_UUID, "write-without-response", FALSE, TRUE, 0 },
  { "char6", "0000fff7" BASE_UUID, "indicate", FALSE, FALSE, 2 },
  { "char7", "0000fff8" BASE_UUID, "read,write,reliable-write", FALSE, FALSE, 4 },
};

static Rec *rec;
static GMutex lock;
static GPtrArray *app_calls;  /* JsonNode: calls the application received */
static int acquired_notify_fd = -1;
static int acquired_write_fd = -1;

static GVariant *
value_variant (gsize len)
{
  g_autofree guint8 *data = g_malloc0 (len + 1);

  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) i;
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1);
}

static GVariant *
chr_props (const ChrDef *def)
{
  GVariantBuilder b;
  g_auto(GStrv) flags = g_strsplit (def->flags, ",", -1);

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "UUID", g_variant_new_string (def->uuid));
  g_variant_builder_add (&b, "{sv}", "Service", g_variant_new_object_path (SVC));
  g_variant_builder_add (&b, "{sv}", "Flags",
                         g_variant_new_strv ((const char *const *) flags, -1));
  if (def->notify_acquired)
    g_variant_builder_add (&b, "{sv}", "NotifyAcquired", g_variant_new_boolean (FALSE));
  if (def->write_acquired)
    g_variant_builder_add (&b, "{sv}", "WriteAcquired", g_variant_new_boolean (FALSE));
  return g_variant_builder_end (&b);
}

static GVariant *
managed_objects (void)
{
  GVariantBuilder objects;

  g_variant_builder_init (&objects, G_VARIANT_TYPE ("a{oa{sa{sv}}}"));
  g_variant_builder_add_parsed (&objects, "{%o, {'org.bluez.GattService1': "
                                "{'UUID': <%s>, 'Primary': <true>}}}",
                                SVC, "0000fff0" BASE_UUID);
  for (guint i = 0; i < G_N_ELEMENTS (chr_defs); i++)
    {
      g_autofree char *path = g_strdup_printf (SVC "/%s", chr_defs[i].name);

      g_variant_builder_add (&objects, "{o@a{sa{sv}}}", path,
                             g_variant_new_parsed ("{'org.bluez.GattCharacteristic1': %@a{sv}}",
                                                   chr_props (&chr_defs[i])));
    }
  return g_variant_builder_end (&objects);
}

static const ChrDef *
chr_for_path (const char *path)
{
  for (guint i = 0; i < G_N_ELEMENTS (chr_defs); i++)
    if (g_str_has_prefix (path, SVC "/") && g_str_equal (path + strlen (SVC "/"), chr_defs[i].name))
      return &chr_defs[i];
  return NULL;
}

static void
log_app_call (GDBusMessage *message)
{
  JsonObject *obj = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  GVariant *body = g_dbus_message_get_body (message);
  const char *path = g_dbus_message_get_path (message);
  const ChrDef *def = chr_for_path (path);

  json_object_set_double_member (obj, "t", (double) (gint64) (rec_now (rec) * 1000) / 1000);
  json_object_set_string_member (obj, "kind", "app-call");
  json_object_set_string_member (obj, "path", path);
  if (def)
    json_object_set_string_member (obj, "uuid", def->uuid);
  json_object_set_string_member (obj, "interface", g_dbus_message_get_interface (message));
  json_object_set_string_member (obj, "member", g_dbus_message_get_member (message));
  json_object_set_member (obj, "args", rec_variant_json (body));
  json_node_take_object (node, obj);
  g_mutex_lock (&lock);
  g_ptr_array_add (app_calls, node);
  g_mutex_unlock (&lock);
}

static GDBusMessage *
acquire_reply (GDBusMessage *message, int *keep)
{
  int sv[2];
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  GDBusMessage *reply;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return g_dbus_message_new_method_error (message, "org.bluez.Error.Failed", "socketpair");
  g_unix_fd_list_append (fds, sv[1], NULL);
  close (sv[1]);
  if (*keep >= 0)
    close (*keep);
  *keep = sv[0];
  fcntl (sv[0], F_SETFL, O_NONBLOCK);
  reply = g_dbus_message_new_method_reply (message);
  g_dbus_message_set_body (reply, g_variant_new ("(hq)", 0, 23));
  g_dbus_message_set_unix_fd_list (reply, fds);
  return reply;
}

static void
emit_value (GDBusConnection *bus, const char *path, gsize len)
{
  GVariantBuilder changed;

  g_variant_builder_init (&changed, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&changed, "{sv}", "Value", value_variant (len));
  g_dbus_connection_emit_signal (bus, NULL, path, "org.freedesktop.DBus.Properties",
                                 "PropertiesChanged",
                                 g_variant_new ("(sa{sv}as)", CHR1, &changed, NULL), NULL);
}

static GDBusMessage *
filter (GDBusConnection *bus, GDBusMessage *message, gboolean incoming, gpointer user_data)
{
  const char *path = g_dbus_message_get_path (message);
  const char *member = g_dbus_message_get_member (message);
  GVariant *body = g_dbus_message_get_body (message);
  const ChrDef *def;
  GDBusMessage *reply = NULL;

  if (!incoming || g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_METHOD_CALL
      || path == NULL || member == NULL || !g_str_has_prefix (path, APP))
    return message;
  log_app_call (message);
  def = chr_for_path (path);
  if (g_str_equal (path, ADV) && g_str_equal (member, "GetAll"))
    {
      reply = g_dbus_message_new_method_reply (message);
      g_dbus_message_set_body (reply, g_variant_new_parsed (
          "({'Type': <'peripheral'>, 'ServiceUUIDs': <['fff0']>, 'LocalName': <'GattRec'>, "
          "'Discoverable': <true>},)"));
    }
  else if (g_str_equal (path, APP) && g_str_equal (member, "GetManagedObjects"))
    {
      reply = g_dbus_message_new_method_reply (message);
      g_dbus_message_set_body (reply, g_variant_new_tuple ((GVariant *[]) { managed_objects () }, 1));
    }
  else if (def && g_str_equal (member, "GetAll"))
    {
      reply = g_dbus_message_new_method_reply (message);
      g_dbus_message_set_body (reply, g_variant_new_tuple ((GVariant *[]) { chr_props (def) }, 1));
    }
  else if (def && g_str_equal (member, "ReadValue"))
    {
      guint16 offset = 0;
      g_autoptr(GVariant) options = g_variant_get_child_value (body, 0);
      g_autoptr(GVariant) whole = value_variant (def->value_len);
      gsize len;
      const guint8 *data = g_variant_get_fixed_array (whole, &len, 1);

      g_variant_lookup (options, "offset", "q", &offset);
      reply = g_dbus_message_new_method_reply (message);
      g_dbus_message_set_body (reply, g_variant_new_tuple ((GVariant *[]) {
          g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data + MIN (offset, len),
                                     len - MIN (offset, len), 1) }, 1));
    }
  else if (def && (g_str_equal (member, "WriteValue") || g_str_equal (member, "StopNotify")
                   || g_str_equal (member, "Confirm")))
    reply = g_dbus_message_new_method_reply (message);
  else if (def && g_str_equal (member, "StartNotify"))
    {
      reply = g_dbus_message_new_method_reply (message);
      g_dbus_connection_send_message (bus, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL);
      g_object_unref (reply);
      reply = NULL;
      /* one notification or indication for the subscriber */
      emit_value (bus, path, def->value_len);
      g_object_unref (message);
      return NULL;
    }
  else if (def && g_str_equal (member, "AcquireNotify"))
    {
      reply = acquire_reply (message, &acquired_notify_fd);
      if (acquired_notify_fd >= 0)
        {
          static const guint8 note[] = { 0x0a, 0x0b };

          if (write (acquired_notify_fd, note, sizeof note) < 0)
            g_printerr ("record: notify fd: %s\n", g_strerror (errno));
        }
    }
  else if (def && g_str_equal (member, "AcquireWrite"))
    reply = acquire_reply (message, &acquired_write_fd);
  else
    reply = g_dbus_message_new_method_error (message, "org.freedesktop.DBus.Error.UnknownMethod",
                                             "Not implemented here");
  g_dbus_connection_send_message (bus, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL);
  g_object_unref (reply);
  g_object_unref (message);
  return NULL;
}

/* ---- the central's side ---- */

static char *
find_chr (const char *device, const char *uuid)
{
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (rec_bus (rec), "org.bluez", "/",
                                                           "org.freedesktop.DBus.ObjectManager",
                                                           "GetManagedObjects", NULL,
                                                           G_VARIANT_TYPE ("(a{oa{sa{sv}}})"),
                                                           G_DBUS_CALL_FLAGS_NONE, 10000,
                                                           NULL, NULL);
  g_autoptr(GVariant) objects = NULL;
  GVariantIter iter;
  const char *path;
  GVariant *ifaces;

  if (reply == NULL)
    return NULL;
  objects = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, &ifaces))
    {
      g_autoptr(GVariant) props = g_variant_lookup_value (ifaces, CHR1, NULL);
      const char *u = NULL;

      g_variant_unref (ifaces);
      if (props && g_str_has_prefix (path, device)
          && g_variant_lookup (props, "UUID", "&s", &u) && g_str_equal (u, uuid))
        return g_strdup (path);
    }
  return NULL;
}

static JsonArray *steps;

/* Runs one central call on the characteristic with @uuid and records its
 * answer; the application's calls in between are in the merged log. */
static void
step (const char *device, const char *label, const char *uuid, const char *method,
      GVariant *params)
{
  g_autofree char *chr = find_chr (device, uuid);
  JsonObject *obj = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  RecCall *c;

  rec_mark (rec, -1, "%s", label);
  json_object_set_string_member (obj, "step", label);
  json_object_set_string_member (obj, "uuid", uuid);
  if (chr == NULL)
    {
      json_object_set_string_member (obj, "missing", "characteristic not found on hci0");
      if (params)
        g_variant_unref (g_variant_ref_sink (params));
    }
  else
    {
      c = rec_call_sync (rec, chr, CHR1, method, params, 15000);
      json_object_set_member (obj, "answer", rec_call_json (c));
      rec_call_free (c);
    }
  /* what bluetoothd does after the answer (a confirmation, a release) */
  rec_spin (700);
  json_node_take_object (node, obj);
  json_array_add_element (steps, node);
}

static GVariant *
write_params (const guint8 *data, gsize len, const char *options_text)
{
  g_autoptr(GError) error = NULL;
  GVariant *options = g_variant_parse (G_VARIANT_TYPE_VARDICT, options_text, NULL, NULL, &error);

  g_assert_no_error (error);
  return g_variant_new ("(@ay@a{sv})",
                        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1), options);
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  g_autofree char *device = NULL;
  g_autoptr(GVariant) addr = NULL;
  JsonNode *root;
  JsonObject *top;
  JsonArray *merged;
  RecCall *c;
  gboolean found = FALSE;
  guint from;
  static const guint8 w3[] = { 1, 2, 3 };
  static const guint8 w1[] = { 9 };

  if (bus == NULL)
    return 1;
  rec = rec_new (bus);
  app_calls = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  steps = json_array_new ();
  g_dbus_connection_add_filter (bus, filter, NULL, NULL);
  addr = rec_get (rec, HCI1, "org.bluez.Adapter1", "Address");
  if (addr == NULL)
    return 1;
  {
    g_autofree char *a = g_strdelimit (g_variant_dup_string (addr, NULL), ":", '_');

    device = g_strdup_printf (HCI0 "/dev_%s", a);
  }
  root = json_node_new (JSON_NODE_OBJECT);
  top = json_object_new ();
  json_node_take_object (root, top);
  json_object_set_string_member (top, "setup",
      "bluetoothd 5.66 -n -E -P vcp,mcp; this program's GATT application (service fff0, "
      "characteristics fff1..fff8, see record-gatt-server.c) and advertisement on hci1, "
      "its central calls on hci0; app-call events are what bluetoothd called in the "
      "application, in the order received");

  from = rec_position (rec);
  rec_mark (rec, -1, "register application");
  c = rec_call_sync (rec, HCI1, "org.bluez.GattManager1", "RegisterApplication",
                     g_variant_new ("(oa{sv})", APP, NULL), 10000);
  json_object_set_member (top, "register_application", rec_call_json (c));
  rec_call_free (c);

  c = rec_call_sync (rec, HCI0, "org.bluez.Adapter1", "StartDiscovery", NULL, 10000);
  rec_call_free (c);
  rec_spin (1000);
  for (guint attempt = 1; attempt <= 3 && !found; attempt++)
    {
      c = rec_call_sync (rec, HCI1, "org.bluez.LEAdvertisingManager1", "RegisterAdvertisement",
                         g_variant_new ("(oa{sv})", ADV, NULL), 10000);
      rec_call_free (c);
      found = rec_wait_object (rec, device, "org.bluez.Device1", 6000);
      if (!found)
        rec_call_free (rec_call_sync (rec, HCI1, "org.bluez.LEAdvertisingManager1",
                                      "UnregisterAdvertisement",
                                      g_variant_new ("(o)", ADV), 10000));
    }
  rec_call_free (rec_call_sync (rec, HCI0, "org.bluez.Adapter1", "StopDiscovery", NULL, 10000));

  rec_mark (rec, -1, "connect");
  for (guint attempt = 1; attempt <= 3; attempt++)
    {
      c = rec_call_sync (rec, device, "org.bluez.Device1", "Connect", NULL, 25000);
      json_object_set_member (top, "connect", rec_call_json (c));
      if (c->done && c->error_name == NULL)
        {
          rec_call_free (c);
          break;
        }
      rec_call_free (c);
    }
  /* the browse, and the objects to be exported */
  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *last = find_chr (device, "0000fff8" BASE_UUID);

      if (last)
        break;
      rec_spin (200);
    }
  rec_spin (500);

  step (device, "read fff1", "0000fff1" BASE_UUID, "ReadValue",
        g_variant_new_parsed ("(@a{sv} {},)"));
  step (device, "read fff1 offset 2", "0000fff1" BASE_UUID, "ReadValue",
        g_variant_new_parsed ("({'offset': <uint16 2>},)"));
  step (device, "write fff1 request", "0000fff1" BASE_UUID, "WriteValue",
        write_params (w3, sizeof w3, "{'type': <'request'>}"));
  step (device, "write fff1 offset 1", "0000fff1" BASE_UUID, "WriteValue",
        write_params (w1, sizeof w1, "{'offset': <uint16 1>}"));
  step (device, "write fff8 reliable", "0000fff8" BASE_UUID, "WriteValue",
        write_params (w3, sizeof w3, "{'type': <'reliable'>}"));
  step (device, "write fff2 command", "0000fff2" BASE_UUID, "WriteValue",
        write_params (w3, sizeof w3, "{'type': <'command'>}"));
  step (device, "write fff6 command (WriteAcquired)", "0000fff6" BASE_UUID, "WriteValue",
        write_params (w3, sizeof w3, "{'type': <'command'>}"));
  step (device, "write fff6 command again", "0000fff6" BASE_UUID, "WriteValue",
        write_params (w1, sizeof w1, "{'type': <'command'>}"));
  step (device, "read fff5 (600 bytes)", "0000fff5" BASE_UUID, "ReadValue",
        g_variant_new_parsed ("(@a{sv} {},)"));
  step (device, "subscribe fff3", "0000fff3" BASE_UUID, "StartNotify", NULL);
  step (device, "unsubscribe fff3", "0000fff3" BASE_UUID, "StopNotify", NULL);
  step (device, "subscribe fff4 (NotifyAcquired)", "0000fff4" BASE_UUID, "StartNotify", NULL);
  step (device, "unsubscribe fff4", "0000fff4" BASE_UUID, "StopNotify", NULL);
  step (device, "subscribe fff7 (indicate)", "0000fff7" BASE_UUID, "StartNotify", NULL);
  step (device, "unsubscribe fff7", "0000fff7" BASE_UUID, "StopNotify", NULL);

  /* What came through the acquired write socket. */
  if (acquired_write_fd >= 0)
    {
      JsonArray *packets = json_array_new ();
      guint8 buf[600];
      ssize_t n;

      while ((n = read (acquired_write_fd, buf, sizeof buf)) > 0)
        {
          g_autoptr(GVariant) v = g_variant_ref_sink (
            g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, buf, (gsize) n, 1));

          json_array_add_element (packets, rec_variant_json (v));
        }
      json_object_set_array_member (top, "acquired_write_packets", packets);
    }

  rec_mark (rec, -1, "disconnect");
  rec_call_free (rec_call_sync (rec, device, "org.bluez.Device1", "Disconnect", NULL, 15000));
  rec_spin (1500);
  rec_mark (rec, -1, "unregister application");
  c = rec_call_sync (rec, HCI1, "org.bluez.GattManager1", "UnregisterApplication",
                     g_variant_new ("(o)", APP), 10000);
  json_object_set_member (top, "unregister_application", rec_call_json (c));
  rec_call_free (c);
  rec_spin (500);

  json_object_set_array_member (top, "steps", steps);
  /* One log: the central's marks, calls and replies and the application's
   * calls, by time. */
  {
    JsonNode *events = rec_events (rec, from, device);
    GPtrArray *all = g_ptr_array_new ();

    merged = json_array_new ();
    for (guint i = 0; i < json_array_get_length (json_node_get_array (events)); i++)
      g_ptr_array_add (all, json_array_get_element (json_node_get_array (events), i));
    g_mutex_lock (&lock);
    for (guint i = 0; i < app_calls->len; i++)
      g_ptr_array_add (all, g_ptr_array_index (app_calls, i));
    g_mutex_unlock (&lock);
    /* a stable merge by "t" */
    for (guint i = 1; i < all->len; i++)
      for (guint j = i; j > 0; j--)
        {
          JsonNode *a = g_ptr_array_index (all, j - 1);
          JsonNode *b = g_ptr_array_index (all, j);

          if (json_object_get_double_member (json_node_get_object (a), "t")
              <= json_object_get_double_member (json_node_get_object (b), "t"))
            break;
          all->pdata[j - 1] = b;
          all->pdata[j] = a;
        }
    for (guint i = 0; i < all->len; i++)
      json_array_add_element (merged, json_node_copy (g_ptr_array_index (all, i)));
    g_ptr_array_unref (all);
    json_node_unref (events);
  }
  json_object_set_array_member (top, "log", merged);
  rec_print ("gatt-server-calls.json", root);
  return 0;
}
