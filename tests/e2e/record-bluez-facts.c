/* SPDX-License-Identifier: MIT */
/*
 * bleio-e2e-record-bluez-facts: records, GDBus only, the reference set of
 * tests/data/bluez-VERSION for whichever bluetoothd the guest runs (issue
 * 21 item 8): the introspection of every object kind, GetManagedObjects
 * idle, connected and after the disconnect, Device1 when discovered and
 * when connected and paired, a characteristic while AcquireNotify holds
 * it, the signals from discovery to disconnect, and the answers to wrong
 * or edge calls. The test peripheral (tests/e2e/peripheral.c) is on hci1
 * with its accept-all agent:
 *
 *   run-e2e.sh --bluez 5.82 ... --test tests/e2e/bleio-e2e-record-bluez-facts
 *
 * Each file is printed between E2E-RECORD-BEGIN/END lines under the name it
 * has in tests/data/bluez-VERSION (extract-records.sh saves them).
 */
#include "record.h"

#include <gio/gunixfdlist.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define HCI0 "/org/bluez/hci0"
#define ADAPTER1 "org.bluez.Adapter1"
#define DEVICE1 "org.bluez.Device1"
#define SVC1 "org.bluez.GattService1"
#define CHR1 "org.bluez.GattCharacteristic1"
#define DSC1 "org.bluez.GattDescriptor1"
#define CUSTOM(n) "12345678-1234-5678-1234-56789abcdef" n
#define BATTERY_LEVEL "00002a19-0000-1000-8000-00805f9b34fb"
#define CCCD "00002902-0000-1000-8000-00805f9b34fb"

static Rec *rec;
static JsonArray *errors;

static GVariant *
call_sync (const char *path, const char *iface, const char *method, GVariant *params,
           const char *reply_type)
{
  return g_dbus_connection_call_sync (rec_bus (rec), "org.bluez", path, iface, method, params,
                                      reply_type ? G_VARIANT_TYPE (reply_type) : NULL,
                                      G_DBUS_CALL_FLAGS_NONE, 10000, NULL, NULL);
}

static void
print_introspection (const char *name, const char *path)
{
  g_autoptr(GVariant) reply = call_sync (path, "org.freedesktop.DBus.Introspectable",
                                         "Introspect", NULL, "(s)");
  const char *xml = "";

  if (reply)
    g_variant_get (reply, "(&s)", &xml);
  fflush (stderr);
  printf ("\nE2E-RECORD-BEGIN %s\n%s\nE2E-RECORD-END %s\n", name, xml, name);
  fflush (stdout);
}

static JsonNode *
managed_objects (void)
{
  g_autoptr(GVariant) reply = call_sync ("/", "org.freedesktop.DBus.ObjectManager",
                                         "GetManagedObjects", NULL, "(a{oa{sa{sv}}})");
  g_autoptr(GVariant) objects = NULL;

  if (reply == NULL)
    return json_node_new (JSON_NODE_NULL);
  objects = g_variant_get_child_value (reply, 0);
  return rec_variant_json (objects);
}

/* The first object under @under with @iface whose UUID is @uuid. */
static char *
find_object (const char *under, const char *iface, const char *uuid)
{
  g_autoptr(GVariant) reply = call_sync ("/", "org.freedesktop.DBus.ObjectManager",
                                         "GetManagedObjects", NULL, "(a{oa{sa{sv}}})");
  g_autoptr(GVariant) objects = NULL;
  g_autofree char *best = NULL;
  GVariantIter iter;
  const char *path;
  GVariant *ifaces;

  if (reply == NULL)
    return NULL;
  objects = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, &ifaces))
    {
      g_autoptr(GVariant) props = g_variant_lookup_value (ifaces, iface, NULL);
      const char *u = NULL;

      g_variant_unref (ifaces);
      if (props && g_str_has_prefix (path, under)
          && g_variant_lookup (props, "UUID", "&s", &u) && g_str_equal (u, uuid)
          && (best == NULL || strcmp (path, best) < 0))
        {
          g_free (best);
          best = g_strdup (path);
        }
    }
  return g_steal_pointer (&best);
}

static gboolean
wait_flag (const char *path, const char *name, gboolean want, guint msec)
{
  gint64 end = g_get_monotonic_time () + (gint64) msec * 1000;

  do
    {
      g_autoptr(GVariant) v = rec_get (rec, path, DEVICE1, name);

      if (v && g_variant_get_boolean (v) == want)
        return TRUE;
      rec_spin (200);
    }
  while (g_get_monotonic_time () < end);
  return FALSE;
}

/* Calls @method and adds {situation, result|error, message} to the errors. */
static void
situation (const char *what, const char *path, const char *iface, const char *method,
           GVariant *params)
{
  RecCall *c = rec_call_sync (rec, path, iface, method, params, 15000);
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "situation", what);
  if (!c->done)
    json_object_set_string_member (o, "result", "no reply");
  else if (c->error_name)
    {
      json_object_set_string_member (o, "error", c->error_name);
      json_object_set_string_member (o, "message", c->error_message);
    }
  else
    {
      json_object_set_string_member (o, "result", "ok");
      json_object_set_member (o, "reply", c->reply && g_variant_n_children (c->reply) > 0
                                            ? rec_variant_json (c->reply)
                                            : json_node_new (JSON_NODE_NULL));
    }
  json_array_add_object_element (errors, o);
  rec_call_free (c);
}

static GVariant *
options (const char *key, GVariant *value)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  if (key)
    g_variant_builder_add (&b, "{sv}", key, value);
  return g_variant_new ("(a{sv})", &b);
}

static GVariant *
write_params (gsize len, const char *type)
{
  g_autofree guint8 *data = g_malloc0 (len);
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  if (type)
    g_variant_builder_add (&b, "{sv}", "type", g_variant_new_string (type));
  return g_variant_new ("(@aya{sv})",
                        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1), &b);
}

static gboolean
connect_with_retries (const char *device)
{
  for (guint attempt = 1; attempt <= 3; attempt++)
    {
      RecCall *c = rec_call_sync (rec, device, DEVICE1, "Connect", NULL, 25000);
      gboolean ok = c->done && c->error_name == NULL;

      rec_call_free (c);
      if (ok && wait_flag (device, "Connected", TRUE, 5000))
        return TRUE;
      g_printerr ("record: connect attempt %u failed\n", attempt);
      rec_call_free (rec_call_sync (rec, device, DEVICE1, "Disconnect", NULL, 10000));
      rec_call_free (rec_call_sync (rec, HCI0, ADAPTER1, "StartDiscovery", NULL, 10000));
      rec_wait_object (rec, device, DEVICE1, 15000);
      rec_spin (1000);
      rec_call_free (rec_call_sync (rec, HCI0, ADAPTER1, "StopDiscovery", NULL, 10000));
    }
  return FALSE;
}

/* Keeps only the signals of @events (calls, replies and marks go), their
 * "kind" named "signal" as in tests/data/bluez-5.66. */
static JsonNode *
signals_only (JsonNode *events)
{
  JsonArray *in = json_node_get_array (events);
  JsonArray *out = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; i < json_array_get_length (in); i++)
    {
      JsonObject *o = json_array_get_object_element (in, i);
      const char *kind = json_object_get_string_member (o, "kind");
      JsonObject *copy;
      GList *members;

      if (kind == NULL || g_str_equal (kind, "call") || g_str_equal (kind, "reply")
          || g_str_equal (kind, "mark"))
        continue;
      copy = json_object_new ();
      members = json_object_get_members (o);
      for (GList *l = members; l; l = l->next)
        json_object_set_member (copy, g_str_equal (l->data, "kind") ? "signal" : l->data,
                                json_node_copy (json_object_get_member (o, l->data)));
      g_list_free (members);
      json_array_add_object_element (out, copy);
    }
  json_node_unref (events);
  json_node_take_array (node, out);
  return node;
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  const char *peer_address = g_getenv ("BLEIO_TEST_PERIPHERAL_ADDRESS");
  g_autofree char *peer = NULL;
  g_autofree char *battery = NULL, *counter = NULL, *read_only = NULL, *writable = NULL;
  g_autofree char *secret = NULL, *command = NULL, *cccd = NULL, *service = NULL;
  g_autofree char *user_desc = NULL;
  JsonNode *errors_node = json_node_new (JSON_NODE_ARRAY);
  JsonObject *obj;
  guint from;

  if (bus == NULL)
    {
      g_printerr ("record: no system bus: %s\n", error->message);
      return 1;
    }
  rec = rec_new (bus);
  errors = json_array_new ();
  json_node_take_array (errors_node, errors);
  {
    g_autofree char *a = g_strdelimit (g_strdup (peer_address ? peer_address
                                                              : "00:AA:01:01:00:01"),
                                       ":", '_');

    peer = g_strdup_printf (HCI0 "/dev_%s", a);
  }

  /* Idle: both adapters powered, nothing discovered by hci0. */
  print_introspection ("introspect-root.xml", "/");
  print_introspection ("introspect-org-bluez.xml", "/org/bluez");
  print_introspection ("introspect-adapter.xml", HCI0);
  rec_print ("objects-idle.json", managed_objects ());

  situation ("Adapter1.StopDiscovery without StartDiscovery", HCI0, ADAPTER1,
             "StopDiscovery", NULL);
  situation ("Adapter1.RemoveDevice of a path that does not exist", HCI0, ADAPTER1,
             "RemoveDevice", g_variant_new ("(o)", HCI0 "/dev_00_11_22_33_44_55"));
  situation ("Adapter1.SetDiscoveryFilter with an unknown key", HCI0, ADAPTER1,
             "SetDiscoveryFilter", options ("Bogus", g_variant_new_string ("x")));
  situation ("Adapter1.SetDiscoveryFilter Transport=xyz", HCI0, ADAPTER1,
             "SetDiscoveryFilter", options ("Transport", g_variant_new_string ("xyz")));

  /* Discovery to disconnect: every signal in order. */
  from = rec_position (rec);
  rec_mark (rec, -1, "discovery");
  situation ("Adapter1.StartDiscovery", HCI0, ADAPTER1, "StartDiscovery", NULL);
  situation ("Adapter1.StartDiscovery twice from one client", HCI0, ADAPTER1,
             "StartDiscovery", NULL);
  if (!rec_wait_object (rec, peer, DEVICE1, 20000))
    g_printerr ("record: the peripheral was not found\n");
  rec_spin (1000);
  rec_print ("device-props-discovered.json", rec_get_all (rec, peer, DEVICE1));
  print_introspection ("introspect-device-disconnected.xml", peer);
  situation ("Adapter1.StopDiscovery", HCI0, ADAPTER1, "StopDiscovery", NULL);
  situation ("Device1.Disconnect when not connected", peer, DEVICE1, "Disconnect", NULL);
  situation ("Device1.CancelPairing when not pairing", peer, DEVICE1, "CancelPairing", NULL);

  rec_mark (rec, -1, "connect");
  if (!connect_with_retries (peer))
    g_printerr ("record: no connection to the peripheral\n");
  if (!wait_flag (peer, "ServicesResolved", TRUE, 30000))
    g_printerr ("record: services never resolved\n");
  rec_spin (1500);
  situation ("Device1.Connect when already connected", peer, DEVICE1, "Connect", NULL);
  print_introspection ("introspect-device-connected.xml", peer);

  battery = find_object (peer, CHR1, BATTERY_LEVEL);
  counter = find_object (peer, CHR1, CUSTOM ("4"));
  read_only = find_object (peer, CHR1, CUSTOM ("1"));
  writable = find_object (peer, CHR1, CUSTOM ("2"));
  command = find_object (peer, CHR1, CUSTOM ("3"));
  secret = find_object (peer, CHR1, CUSTOM ("5"));
  service = find_object (peer, SVC1, CUSTOM ("0"));
  cccd = counter ? find_object (counter, DSC1, CCCD) : NULL;
  user_desc = read_only ? find_object (read_only, DSC1, "00002901-0000-1000-8000-00805f9b34fb")
                        : NULL;
  if (!battery || !counter || !read_only || !writable || !command || !secret || !service
      || !cccd || !user_desc)
    g_printerr ("record: some of the peripheral's objects are missing\n");
  if (service)
    print_introspection ("introspect-gattservice1.xml", service);
  if (read_only)
    print_introspection ("introspect-gattcharacteristic1.xml", read_only);
  if (user_desc)
    print_introspection ("introspect-gattdescriptor1.xml", user_desc);

  rec_mark (rec, -1, "gatt");
  if (counter)
    {
      GVariant *reply;
      g_autoptr(GUnixFDList) fds = NULL;

      situation ("ReadValue on a notify-only characteristic", counter, CHR1, "ReadValue",
                 options (NULL, NULL));
      situation ("WriteValue on a notify-only characteristic", counter, CHR1, "WriteValue",
                 write_params (1, NULL));
      situation ("StopNotify when not notifying", counter, CHR1, "StopNotify", NULL);
      situation ("StartNotify", counter, CHR1, "StartNotify", NULL);
      situation ("StartNotify twice from one client", counter, CHR1, "StartNotify", NULL);
      situation ("AcquireNotify while notifying", counter, CHR1, "AcquireNotify",
                 options (NULL, NULL));
      situation ("StopNotify", counter, CHR1, "StopNotify", NULL);
      rec_spin (500);
      /* AcquireNotify with its fd kept open, which GDBus's plain call
       * would close. */
      reply = g_dbus_connection_call_with_unix_fd_list_sync (
          rec_bus (rec), "org.bluez", counter, CHR1, "AcquireNotify", options (NULL, NULL),
          G_VARIANT_TYPE ("(hq)"), G_DBUS_CALL_FLAGS_NONE, 15000, NULL, &fds, NULL, &error);
      obj = json_object_new ();
      json_object_set_string_member (obj, "situation", "AcquireNotify");
      if (reply)
        {
          guint16 mtu = 0;
          gint32 handle = 0;
          int fd;
          g_autofree char *text = NULL;

          g_variant_get (reply, "(hq)", &handle, &mtu);
          g_variant_unref (reply);
          text = g_strdup_printf ("fd + mtu=%u", mtu);
          json_object_set_string_member (obj, "result", "ok");
          json_object_set_string_member (obj, "reply", text);
          json_array_add_object_element (errors, obj);
          fd = g_unix_fd_list_get (fds, handle, NULL);
          rec_spin (300);
          rec_print ("char-props-notify-acquired.json", rec_get_all (rec, counter, CHR1));
          situation ("StartNotify while NotifyAcquired", counter, CHR1, "StartNotify", NULL);
          if (fd >= 0)
            close (fd);
          rec_spin (500);
        }
      else
        {
          json_object_set_string_member (obj, "error", error->message);
          json_array_add_object_element (errors, obj);
          g_clear_error (&error);
        }
    }
  if (read_only)
    {
      situation ("ReadValue with offset 3", read_only, CHR1, "ReadValue",
                 options ("offset", g_variant_new_uint16 (3)));
      situation ("ReadValue with offset 200 (past end)", read_only, CHR1, "ReadValue",
                 options ("offset", g_variant_new_uint16 (200)));
      situation ("StartNotify on a char without notify", read_only, CHR1, "StartNotify", NULL);
    }
  if (writable)
    {
      situation ("WriteValue type=command on a char without write-without-response", writable,
                 CHR1, "WriteValue", write_params (1, "command"));
      situation ("WriteValue type=bogus", writable, CHR1, "WriteValue",
                 write_params (1, "bogus"));
      situation ("WriteValue 600 bytes", writable, CHR1, "WriteValue", write_params (600, NULL));
      situation ("AcquireWrite on a char without write-without-response", writable, CHR1,
                 "AcquireWrite", options (NULL, NULL));
    }
  if (cccd)
    {
      situation ("GattDescriptor1.ReadValue on the CCCD", cccd, DSC1, "ReadValue",
                 options (NULL, NULL));
      situation ("GattDescriptor1.WriteValue on the CCCD", cccd, DSC1, "WriteValue",
                 g_variant_new ("(@aya{sv})",
                                g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "\x01\x00", 2, 1),
                                NULL));
    }
  if (battery)
    situation ("ReadValue battery level", battery, CHR1, "ReadValue", options (NULL, NULL));

  /* Security: the peripheral's agent accepts everything. */
  rec_mark (rec, -1, "security");
  if (secret)
    situation ("ReadValue on encrypt-read char before pairing", secret, CHR1, "ReadValue",
               options (NULL, NULL));
  rec_spin (1000);
  situation ("Device1.Pair (no agent registered by this client)", peer, DEVICE1, "Pair", NULL);
  rec_spin (1000);
  situation ("Device1.Pair when already paired", peer, DEVICE1, "Pair", NULL);
  if (secret)
    situation ("ReadValue on encrypt-read char after pairing", secret, CHR1, "ReadValue",
               options (NULL, NULL));
  rec_print ("device-props-connected-paired.json", rec_get_all (rec, peer, DEVICE1));
  rec_print ("objects-connected.json", managed_objects ());

  rec_mark (rec, -1, "disconnect");
  situation ("Device1.Disconnect", peer, DEVICE1, "Disconnect", NULL);
  wait_flag (peer, "Connected", FALSE, 10000);
  rec_spin (1500);
  rec_print ("signals-discovery-to-disconnect.json", signals_only (rec_events (rec, from, NULL)));
  if (battery)
    situation ("ReadValue after disconnect (object may be gone)", battery, CHR1, "ReadValue",
               options (NULL, NULL));
  situation ("Device1.Disconnect after disconnect", peer, DEVICE1, "Disconnect", NULL);
  rec_print ("objects-after-disconnect.json", managed_objects ());
  rec_print ("errors-observed.json", errors_node);
  rec_free (rec);
  return 0;
}
