/* SPDX-License-Identifier: MIT */
/*
 * bleio-e2e-record-service-changed: records, GDBus only, what bluetoothd
 * does to a central's GATT objects when the connected peripheral's
 * database changes (issue 19 item 7). hci0 connects to the test
 * peripheral on hci1 and waits for the browse; then the peripheral
 * changes its application (peripheral.c's Version property: it
 * unregisters it and registers its second version; bluetoothd on hci1
 * sends Service Changed for what went and what came). Then back again.
 *
 *   run-e2e.sh ... --test tests/e2e/bleio-e2e-record-service-changed
 *
 * It prints service-changed.json between E2E-RECORD-BEGIN/END lines
 * (extract-records.sh saves it into tests/data/bluez-VERSION): for each
 * change, every signal under hci0's device object in the order they came
 * ("events"), the same as one line each ("order"), and the GATT objects
 * before and after ("objects_*"); then bluetoothd's log.
 */
#include "record.h"

#include <string.h>

#define HCI0 "/org/bluez/hci0"
#define DEVICE1 "org.bluez.Device1"
#define SERVICE1 "org.bluez.GattService1"
#define CHR1 "org.bluez.GattCharacteristic1"
#define DESC1 "org.bluez.GattDescriptor1"
/* How long after the peripheral registered again signals are collected:
 * bluetoothd's rediscovery of each indicated range takes ATT round trips. */
#define COLLECT_MSEC 8000

static Rec *rec;

static JsonObject *
json_obj (JsonNode **node)
{
  JsonObject *obj = json_object_new ();

  *node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (*node, obj);
  return obj;
}

static gboolean
wait_flag (const char *path, const char *name, gboolean want, guint msec)
{
  gint64 end = g_get_monotonic_time () + (gint64) msec * 1000;

  do
    {
      g_autoptr(GVariant) v = rec_get (rec, path, DEVICE1, name);

      if ((v != NULL && g_variant_get_boolean (v)) == want)
        return TRUE;
      rec_spin (200);
    }
  while (g_get_monotonic_time () < end);
  return FALSE;
}

static gint
compare_lines (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* "PATH IFACE UUID" for every GATT object under @device, sorted. */
static JsonNode *
gatt_objects (const char *device)
{
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (rec_bus (rec), "org.bluez", "/",
                                                           "org.freedesktop.DBus.ObjectManager",
                                                           "GetManagedObjects", NULL,
                                                           G_VARIANT_TYPE ("(a{oa{sa{sv}}})"),
                                                           G_DBUS_CALL_FLAGS_NONE, 10000,
                                                           NULL, NULL);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GVariant) objects = NULL;
  JsonArray *arr = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  static const char *const ifaces[] = { SERVICE1, CHR1, DESC1 };
  GVariantIter iter;
  const char *path;
  GVariant *by_iface;

  json_node_take_array (node, arr);
  if (reply == NULL)
    return node;
  objects = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, &by_iface))
    {
      for (guint i = 0; i < G_N_ELEMENTS (ifaces); i++)
        {
          g_autoptr(GVariant) props = g_variant_lookup_value (by_iface, ifaces[i], NULL);
          const char *uuid = "?";

          if (props == NULL || !g_str_has_prefix (path, device))
            continue;
          g_variant_lookup (props, "UUID", "&s", &uuid);
          g_ptr_array_add (lines, g_strdup_printf ("%s %s %s", path, ifaces[i], uuid));
        }
      g_variant_unref (by_iface);
    }
  g_ptr_array_sort (lines, compare_lines);
  for (guint i = 0; i < lines->len; i++)
    json_array_add_string_element (arr, g_ptr_array_index (lines, i));
  return node;
}

/* One line per event: "T KIND PATH [interfaces or changed properties]". */
static JsonNode *
order_of (JsonNode *events)
{
  JsonArray *in = json_node_get_array (events);
  JsonArray *arr = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; i < json_array_get_length (in); i++)
    {
      JsonObject *ev = json_array_get_object_element (in, i);
      const char *kind = json_object_get_string_member (ev, "kind");
      g_autoptr(GString) line = g_string_new (NULL);

      g_string_printf (line, "%.3f %s %s", json_object_get_double_member (ev, "t"), kind,
                       json_object_has_member (ev, "path")
                       ? json_object_get_string_member (ev, "path") : "-");
      if (json_object_has_member (ev, "interfaces"))
        {
          JsonNode *ifaces = json_object_get_member (ev, "interfaces");

          if (JSON_NODE_HOLDS_ARRAY (ifaces))
            for (guint j = 0; j < json_array_get_length (json_node_get_array (ifaces)); j++)
              g_string_append_printf (line, " %s",
                                      json_array_get_string_element (json_node_get_array (ifaces), j));
          else if (JSON_NODE_HOLDS_OBJECT (ifaces))
            {
              g_autoptr(GList) names = json_object_get_members (json_node_get_object (ifaces));

              for (GList *l = names; l != NULL; l = l->next)
                g_string_append_printf (line, " %s", (const char *) l->data);
            }
        }
      if (json_object_has_member (ev, "changed"))
        {
          JsonNode *changed = json_object_get_member (ev, "changed");

          if (JSON_NODE_HOLDS_OBJECT (changed))
            {
              g_autoptr(GList) names = json_object_get_members (json_node_get_object (changed));

              for (GList *l = names; l != NULL; l = l->next)
                g_string_append_printf (line, " %s", (const char *) l->data);
            }
        }
      json_array_add_string_element (arr, line->str);
    }
  json_node_take_array (node, arr);
  return node;
}

static guint32
peripheral_version (const char *peripheral)
{
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (rec_bus (rec), peripheral,
                                                           "/org/bleio/e2e/control",
                                                           "org.freedesktop.DBus.Properties", "Get",
                                                           g_variant_new ("(ss)", "org.bleio.E2EPeripheral1",
                                                                          "Version"),
                                                           G_VARIANT_TYPE ("(v)"),
                                                           G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL);
  g_autoptr(GVariant) value = NULL;

  if (reply == NULL)
    return 0;
  g_variant_get (reply, "(v)", &value);
  return g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32) ? g_variant_get_uint32 (value) : 0;
}

/* Sets the peripheral's Version to @version (its application goes and
 * comes back in that version) while the main loop logs bluetoothd's
 * signals, and waits until the peripheral has registered it again. */
static JsonNode *
change_database (const char *peripheral, guint32 version, double *registered)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  gint64 end = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;
  JsonNode *node;
  JsonObject *obj = json_obj (&node);

  reply = g_dbus_connection_call_sync (rec_bus (rec), peripheral, "/org/bleio/e2e/control",
                                       "org.freedesktop.DBus.Properties", "Set",
                                       g_variant_new ("(ssv)", "org.bleio.E2EPeripheral1", "Version",
                                                      g_variant_new_uint32 (version)),
                                       NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  if (reply == NULL)
    {
      json_object_set_string_member (obj, "error", error->message);
      *registered = rec_now (rec);
      return node;
    }
  while (peripheral_version (peripheral) != version && g_get_monotonic_time () < end)
    rec_spin (20);
  *registered = rec_now (rec);
  json_object_set_boolean_member (obj, "registered_again", peripheral_version (peripheral) == version);
  return node;
}

static char *
peripheral_bus_name (void)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents ("/run/e2e/peripheral-ready", &text, NULL, NULL)
      || !g_str_has_prefix (text, "ready "))
    return NULL;
  g_strstrip (text);
  return g_strdup (text + strlen ("ready "));
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  const char *peer_address = g_getenv ("BLEIO_TEST_PERIPHERAL_ADDRESS");
  g_autofree char *peer = NULL;
  g_autofree char *peripheral = peripheral_bus_name ();
  JsonNode *root;
  JsonObject *top = json_obj (&root);
  JsonArray *changes = json_array_new ();
  JsonNode *changes_node = json_node_new (JSON_NODE_ARRAY);
  gboolean connected = FALSE;

  if (bus == NULL || peripheral == NULL)
    {
      g_printerr ("record: no system bus or no peripheral\n");
      return 1;
    }
  rec = rec_new (bus);
  if (peer_address == NULL)
    peer_address = "00:AA:01:01:00:01";
  {
    g_autofree char *a = g_strdelimit (g_strdup (peer_address), ":", '_');

    peer = g_strdup_printf (HCI0 "/dev_%s", a);
  }
  json_object_set_string_member (top, "setup",
      "bluetoothd -n -E -P vcp,mcp with hci0 (central, one GDBus client) and hci1 "
      "(tests/e2e/peripheral.c); its Version set = UnregisterApplication, then "
      "RegisterApplication of the other version, on hci1, while hci0 is connected");

  rec_call_free (rec_call_sync (rec, HCI0, "org.bluez.Adapter1", "StartDiscovery", NULL, 10000));
  rec_wait_object (rec, peer, DEVICE1, 15000);
  rec_call_free (rec_call_sync (rec, HCI0, "org.bluez.Adapter1", "StopDiscovery", NULL, 10000));
  for (guint attempt = 1; attempt <= 3 && !connected; attempt++)
    {
      RecCall *c = rec_call_sync (rec, peer, DEVICE1, "Connect", NULL, 25000);

      connected = c->done && c->error_name == NULL;
      rec_call_free (c);
      if (!connected)
        rec_call_free (rec_call_sync (rec, peer, DEVICE1, "Disconnect", NULL, 10000));
    }
  json_object_set_boolean_member (top, "connected", connected);
  json_object_set_boolean_member (top, "services_resolved",
                                  wait_flag (peer, "ServicesResolved", TRUE, 20000));
  rec_spin (2000);

  /* Two changes: to the second version, and back. */
  for (guint i = 0; i < 2; i++)
    {
      JsonNode *node;
      JsonObject *obj = json_obj (&node);
      JsonNode *events;
      guint from;
      double started, answered;

      json_object_set_member (obj, "objects_before", gatt_objects (peer));
      from = rec_position (rec);
      rec_mark (rec, 0, "change %u", i + 1);
      started = rec_now (rec);
      json_object_set_member (obj, "change_database",
                              change_database (peripheral, i == 0 ? 2 : 1, &answered));
      json_object_set_double_member (obj, "registered_after_s", answered - started);
      rec_spin (COLLECT_MSEC);
      events = rec_events (rec, from, peer);
      json_object_set_member (obj, "order", order_of (events));
      json_object_set_member (obj, "events", events);
      json_object_set_member (obj, "objects_after", gatt_objects (peer));
      {
        g_autoptr(GVariant) resolved = rec_get (rec, peer, DEVICE1, "ServicesResolved");
        g_autoptr(GVariant) up = rec_get (rec, peer, DEVICE1, "Connected");

        json_object_set_boolean_member (obj, "services_resolved_after",
                                        resolved != NULL && g_variant_get_boolean (resolved));
        json_object_set_boolean_member (obj, "connected_after",
                                        up != NULL && g_variant_get_boolean (up));
      }
      json_array_add_element (changes, node);
    }
  json_node_take_array (changes_node, changes);
  json_object_set_member (top, "changes", changes_node);
  rec_call_free (rec_call_sync (rec, peer, DEVICE1, "Disconnect", NULL, 15000));

  rec_print ("service-changed.json", root);
  rec_print_file ("service-changed-bluetoothd.log", "/tmp/bluetoothd.log");
  rec_free (rec);
  return 0;
}
