/* SPDX-License-Identifier: MIT */
#include "record.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The kernel's HCI monitor "user logging" channel: what a process writes
 * there shows in btmon's trace as "= ident: text" (include/net/bluetooth
 * in the kernel; defined here to need no BlueZ headers). */
#define REC_AF_BLUETOOTH 31
#define REC_BTPROTO_HCI 1
#define REC_HCI_CHANNEL_LOGGING 4
#define REC_HCI_DEV_NONE 0xffff

struct rec_sockaddr_hci {
  sa_family_t hci_family;
  unsigned short hci_dev;
  unsigned short hci_channel;
};

struct _Rec {
  GDBusConnection *bus;
  gint64 start;
  GPtrArray *events;          /* JsonNode, objects with "t" and "path" */
  guint subscription;
  int log_fd;
};

double
rec_now (Rec *rec)
{
  return (double) (g_get_monotonic_time () - rec->start) / G_USEC_PER_SEC;
}

static double
rounded (double t)
{
  return (double) (gint64) (t * 1000 + 0.5) / 1000;
}

/* ---- GVariant to JSON ---- */

JsonNode *
rec_variant_json (GVariant *value)
{
  JsonNode *node;

  if (value == NULL)
    return json_node_new (JSON_NODE_NULL);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr(GVariant) inner = g_variant_get_variant (value);

      return rec_variant_json (inner);
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BYTESTRING))
    {
      gsize len;
      const guint8 *data = g_variant_get_fixed_array (value, &len, 1);
      GString *s = g_string_new ("bytes:");

      for (gsize i = 0; i < len; i++)
        g_string_append_printf (s, "%02x", data[i]);
      node = json_node_new (JSON_NODE_VALUE);
      json_node_set_string (node, s->str);
      g_string_free (s, TRUE);
      return node;
    }
  if (g_variant_type_is_array (g_variant_get_type (value))
      && g_variant_type_is_dict_entry (g_variant_type_element (g_variant_get_type (value))))
    {
      JsonObject *obj = json_object_new ();
      GVariantIter iter;
      GVariant *entry;

      g_variant_iter_init (&iter, value);
      while ((entry = g_variant_iter_next_value (&iter)))
        {
          g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);
          g_autoptr(GVariant) val = g_variant_get_child_value (entry, 1);
          g_autofree char *k = g_variant_is_of_type (key, G_VARIANT_TYPE_STRING)
                               || g_variant_is_of_type (key, G_VARIANT_TYPE_OBJECT_PATH)
              ? g_variant_dup_string (key, NULL)
              : g_variant_print (key, FALSE);

          json_object_set_member (obj, k, rec_variant_json (val));
          g_variant_unref (entry);
        }
      node = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (node, obj);
      return node;
    }
  if (g_variant_is_container (value))
    {
      JsonArray *arr = json_array_new ();
      GVariantIter iter;
      GVariant *child;

      g_variant_iter_init (&iter, value);
      while ((child = g_variant_iter_next_value (&iter)))
        {
          json_array_add_element (arr, rec_variant_json (child));
          g_variant_unref (child);
        }
      node = json_node_new (JSON_NODE_ARRAY);
      json_node_take_array (node, arr);
      return node;
    }
  node = json_node_new (JSON_NODE_VALUE);
  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_BOOLEAN:
      json_node_set_boolean (node, g_variant_get_boolean (value));
      break;
    case G_VARIANT_CLASS_BYTE:
      json_node_set_int (node, g_variant_get_byte (value));
      break;
    case G_VARIANT_CLASS_INT16:
      json_node_set_int (node, g_variant_get_int16 (value));
      break;
    case G_VARIANT_CLASS_UINT16:
      json_node_set_int (node, g_variant_get_uint16 (value));
      break;
    case G_VARIANT_CLASS_INT32:
      json_node_set_int (node, g_variant_get_int32 (value));
      break;
    case G_VARIANT_CLASS_UINT32:
      json_node_set_int (node, g_variant_get_uint32 (value));
      break;
    case G_VARIANT_CLASS_INT64:
      json_node_set_int (node, g_variant_get_int64 (value));
      break;
    case G_VARIANT_CLASS_UINT64:
      json_node_set_int (node, (gint64) g_variant_get_uint64 (value));
      break;
    case G_VARIANT_CLASS_DOUBLE:
      json_node_set_double (node, g_variant_get_double (value));
      break;
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      json_node_set_string (node, g_variant_get_string (value, NULL));
      break;
    default:
      {
        g_autofree char *text = g_variant_print (value, TRUE);

        json_node_set_string (node, text);
      }
      break;
    }
  return node;
}

/* ---- the event log ---- */

static JsonObject *
add_event (Rec *rec, const char *kind, const char *path)
{
  JsonObject *obj = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_double_member (obj, "t", rounded (rec_now (rec)));
  json_object_set_string_member (obj, "kind", kind);
  if (path)
    json_object_set_string_member (obj, "path", path);
  json_node_take_object (node, obj);
  g_ptr_array_add (rec->events, node);
  return obj;
}

static void
on_signal (GDBusConnection *bus, const char *sender, const char *path,
           const char *iface, const char *member, GVariant *params,
           gpointer user_data)
{
  Rec *rec = user_data;
  JsonObject *ev;

  if (g_str_equal (member, "PropertiesChanged")
      && g_variant_is_of_type (params, G_VARIANT_TYPE ("(sa{sv}as)")))
    {
      g_autoptr(GVariant) changed = g_variant_get_child_value (params, 1);
      g_autoptr(GVariant) invalidated = g_variant_get_child_value (params, 2);
      const char *changed_iface;

      g_variant_get_child (params, 0, "&s", &changed_iface);
      ev = add_event (rec, "PropertiesChanged", path);
      json_object_set_string_member (ev, "interface", changed_iface);
      json_object_set_member (ev, "changed", rec_variant_json (changed));
      json_object_set_member (ev, "invalidated", rec_variant_json (invalidated));
    }
  else if (g_str_equal (member, "InterfacesAdded")
           && g_variant_is_of_type (params, G_VARIANT_TYPE ("(oa{sa{sv}})")))
    {
      g_autoptr(GVariant) ifaces = g_variant_get_child_value (params, 1);
      const char *object;

      g_variant_get_child (params, 0, "&o", &object);
      ev = add_event (rec, "InterfacesAdded", object);
      json_object_set_member (ev, "interfaces", rec_variant_json (ifaces));
    }
  else if (g_str_equal (member, "InterfacesRemoved")
           && g_variant_is_of_type (params, G_VARIANT_TYPE ("(oas)")))
    {
      g_autoptr(GVariant) ifaces = g_variant_get_child_value (params, 1);
      const char *object;

      g_variant_get_child (params, 0, "&o", &object);
      ev = add_event (rec, "InterfacesRemoved", object);
      json_object_set_member (ev, "interfaces", rec_variant_json (ifaces));
    }
  else
    {
      ev = add_event (rec, member, path);
      json_object_set_string_member (ev, "interface", iface);
      json_object_set_member (ev, "args", rec_variant_json (params));
    }
}

Rec *
rec_new (GDBusConnection *bus)
{
  Rec *rec = g_new0 (Rec, 1);
  struct rec_sockaddr_hci addr = { REC_AF_BLUETOOTH, REC_HCI_DEV_NONE,
                                   REC_HCI_CHANNEL_LOGGING };

  rec->bus = g_object_ref (bus);
  rec->start = g_get_monotonic_time ();
  rec->events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  rec->subscription = g_dbus_connection_signal_subscribe (bus, "org.bluez", NULL, NULL,
                                                          NULL, NULL,
                                                          G_DBUS_SIGNAL_FLAGS_NONE,
                                                          on_signal, rec, NULL);
  rec->log_fd = socket (REC_AF_BLUETOOTH, SOCK_RAW | SOCK_CLOEXEC, REC_BTPROTO_HCI);
  if (rec->log_fd >= 0 && bind (rec->log_fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      g_printerr ("record: no btmon markers: %s\n", g_strerror (errno));
      close (rec->log_fd);
      rec->log_fd = -1;
    }
  return rec;
}

void
rec_free (Rec *rec)
{
  g_dbus_connection_signal_unsubscribe (rec->bus, rec->subscription);
  g_ptr_array_unref (rec->events);
  if (rec->log_fd >= 0)
    close (rec->log_fd);
  g_object_unref (rec->bus);
  g_free (rec);
}

GDBusConnection *
rec_bus (Rec *rec)
{
  return rec->bus;
}

/* One user-logging frame: header (opcode 0, index, length), priority,
 * ident length, ident, text, each string NUL-terminated. */
static void
btmon_note (Rec *rec, int hci_index, const char *text)
{
  static const char ident[] = "record";
  gsize text_len = strlen (text) + 1;
  gsize payload = 2 + sizeof ident + text_len;
  g_autofree guint8 *frame = g_malloc (6 + payload);
  guint16 index = hci_index < 0 ? REC_HCI_DEV_NONE : (guint16) hci_index;

  if (rec->log_fd < 0)
    return;
  frame[0] = 0;
  frame[1] = 0;
  frame[2] = index & 0xff;
  frame[3] = index >> 8;
  frame[4] = payload & 0xff;
  frame[5] = (payload >> 8) & 0xff;
  frame[6] = 6;                       /* LOG_INFO */
  frame[7] = sizeof ident;
  memcpy (frame + 8, ident, sizeof ident);
  memcpy (frame + 8 + sizeof ident, text, text_len);
  if (write (rec->log_fd, frame, 6 + payload) < 0)
    g_printerr ("record: btmon marker lost: %s\n", g_strerror (errno));
}

guint
rec_mark (Rec *rec, int hci_index, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *text = NULL;
  JsonObject *ev;

  va_start (ap, fmt);
  text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  ev = add_event (rec, "mark", NULL);
  json_object_set_string_member (ev, "text", text);
  btmon_note (rec, hci_index, text);
  g_printerr ("record: [%.3f] %s\n", rec_now (rec), text);
  return rec->events->len - 1;
}

guint
rec_position (Rec *rec)
{
  return rec->events->len;
}

JsonNode *
rec_events (Rec *rec, guint from, const char *prefix)
{
  JsonArray *arr = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  for (guint i = from; i < rec->events->len; i++)
    {
      JsonNode *ev = g_ptr_array_index (rec->events, i);
      JsonObject *obj = json_node_get_object (ev);
      const char *path = json_object_has_member (obj, "path")
          ? json_object_get_string_member (obj, "path") : NULL;
      const char *kind = json_object_get_string_member (obj, "kind");

      if (prefix && path && !g_str_has_prefix (path, prefix)
          && !g_str_equal (kind, "reply"))
        continue;
      json_array_add_element (arr, json_node_copy (ev));
    }
  json_node_take_array (node, arr);
  return node;
}

/* ---- calls ---- */

typedef struct {
  Rec *rec;
  RecCall *call;
} CallData;

static void
call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree CallData *data = user_data;
  g_autoptr(GError) error = NULL;
  RecCall *call = data->call;
  JsonObject *ev;

  call->reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  call->answered = rec_now (data->rec);
  call->done = TRUE;
  ev = add_event (data->rec, "reply", NULL);
  json_object_set_string_member (ev, "call", call->what);
  if (error)
    {
      call->error_name = g_dbus_error_get_remote_error (error);
      g_dbus_error_strip_remote_error (error);
      call->error_message = g_strdup (error->message);
      if (call->error_name == NULL)
        call->error_name = g_strdup (g_quark_to_string (error->domain));
      json_object_set_string_member (ev, "error", call->error_name);
      json_object_set_string_member (ev, "message", call->error_message);
    }
}

RecCall *
rec_call (Rec *rec, const char *path, const char *iface, const char *method,
          GVariant *params, int timeout_msec)
{
  RecCall *call = g_new0 (RecCall, 1);
  CallData *data = g_new0 (CallData, 1);
  const char *dot = strrchr (iface, '.');
  JsonObject *ev;

  call->what = g_strdup_printf ("%s.%s %s", dot ? dot + 1 : iface, method, path);
  call->sent = rec_now (rec);
  ev = add_event (rec, "call", NULL);
  json_object_set_string_member (ev, "call", call->what);
  data->rec = rec;
  data->call = call;
  g_dbus_connection_call (rec->bus, "org.bluez", path, iface, method, params, NULL,
                          G_DBUS_CALL_FLAGS_NONE, timeout_msec, NULL, call_done, data);
  return call;
}

static gboolean
wake (gpointer user_data)
{
  gboolean *flag = user_data;

  *flag = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
rec_call_wait (Rec *rec, RecCall *call, guint timeout_msec)
{
  gboolean expired = FALSE;
  guint timer = g_timeout_add (timeout_msec, wake, &expired);

  while (!call->done && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (timer);
  return call->done;
}

RecCall *
rec_call_sync (Rec *rec, const char *path, const char *iface, const char *method,
               GVariant *params, int timeout_msec)
{
  RecCall *call = rec_call (rec, path, iface, method, params, timeout_msec);

  rec_call_wait (rec, call, (guint) timeout_msec + 1000);
  return call;
}

JsonNode *
rec_call_json (RecCall *call)
{
  JsonObject *obj = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  if (!call->done)
    json_object_set_boolean_member (obj, "pending", TRUE);
  else if (call->error_name)
    {
      json_object_set_string_member (obj, "error", call->error_name);
      json_object_set_string_member (obj, "message", call->error_message);
    }
  else
    json_object_set_member (obj, "ok", rec_variant_json (call->reply));
  if (call->done)
    json_object_set_double_member (obj, "seconds", rounded (call->answered - call->sent));
  json_node_take_object (node, obj);
  return node;
}

void
rec_call_free (RecCall *call)
{
  if (call == NULL)
    return;
  /* A call still pending keeps its record: call_done() writes into it. */
  if (!call->done)
    return;
  g_clear_pointer (&call->reply, g_variant_unref);
  g_free (call->error_name);
  g_free (call->error_message);
  g_free (call->what);
  g_free (call);
}

JsonNode *
rec_get_all (Rec *rec, const char *path, const char *iface)
{
  RecCall *c = rec_call_sync (rec, path, "org.freedesktop.DBus.Properties", "GetAll",
                              g_variant_new ("(s)", iface), 10000);
  JsonNode *node;

  if (c->done && c->reply)
    {
      g_autoptr(GVariant) props = g_variant_get_child_value (c->reply, 0);

      node = rec_variant_json (props);
    }
  else
    node = rec_call_json (c);
  rec_call_free (c);
  return node;
}

GVariant *
rec_get (Rec *rec, const char *path, const char *iface, const char *name)
{
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (rec->bus, "org.bluez", path,
                                                           "org.freedesktop.DBus.Properties",
                                                           "Get",
                                                           g_variant_new ("(ss)", iface, name),
                                                           G_VARIANT_TYPE ("(v)"),
                                                           G_DBUS_CALL_FLAGS_NONE, 10000,
                                                           NULL, NULL);
  GVariant *value = NULL;

  if (reply)
    g_variant_get (reply, "(v)", &value);
  return value;
}

/* ---- output ---- */

void
rec_print (const char *name, JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 2);
  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  fflush (stderr);
  printf ("\nE2E-RECORD-BEGIN %s\n%s\nE2E-RECORD-END %s\n", name, text, name);
  fflush (stdout);
  json_node_unref (node);
}

void
rec_print_file (const char *name, const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  if (!g_file_get_contents (path, &text, NULL, &error))
    {
      g_printerr ("record: %s\n", error->message);
      return;
    }
  fflush (stderr);
  printf ("\nE2E-RECORD-BEGIN %s\n%s\nE2E-RECORD-END %s\n", name, text, name);
  fflush (stdout);
}

void
rec_spin (guint msec)
{
  gboolean expired = FALSE;

  g_timeout_add (msec, wake, &expired);
  while (!expired)
    g_main_context_iteration (NULL, TRUE);
}

gboolean
rec_wait_object (Rec *rec, const char *path, const char *iface, guint timeout_msec)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_msec * 1000;

  do
    {
      g_autoptr(GVariant) reply = g_dbus_connection_call_sync (rec->bus, "org.bluez", path,
                                                               "org.freedesktop.DBus.Properties",
                                                               "GetAll",
                                                               g_variant_new ("(s)", iface),
                                                               NULL, G_DBUS_CALL_FLAGS_NONE,
                                                               5000, NULL, NULL);
      if (reply)
        return TRUE;
      rec_spin (200);
    }
  while (g_get_monotonic_time () < end);
  return FALSE;
}
