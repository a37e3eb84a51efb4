/* SPDX-License-Identifier: MIT */
/*
 * bleio-e2e-record-central-facts: records, GDBus only, what bluetoothd 5.66
 * answers in the situations of issue 15's simulator items (10, 11, 13, 14,
 * 15), with the test peripheral on hci1 and no agent registered anywhere:
 *
 *   run-e2e.sh ... --test tests/e2e/bleio-e2e-record-central-facts \
 *     --env BLEIO_E2E_PERIPHERAL_AGENT=0
 *
 * It prints issue15-facts.json between E2E-RECORD-BEGIN/END lines
 * (extract-records.sh saves it into tests/data/bluez-5.66), then
 * bluetoothd's log and, with BLEIO_E2E_BTMON=1, btmon's trace, to explain
 * the answers. It stops the test peripheral near its end (item 13).
 */
#include "record.h"

#include <signal.h>
#include <string.h>

#define HCI0 "/org/bluez/hci0"
#define DEVICE1 "org.bluez.Device1"
#define CHR1 "org.bluez.GattCharacteristic1"
#define READ_ONLY_UUID "12345678-1234-5678-1234-56789abcdef1"
#define BODY_SENSOR_UUID "00002a38-0000-1000-8000-00805f9b34fb"
#define WRITE_UUID "12345678-1234-5678-1234-56789abcdef2"

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
device_flag (const char *path, const char *name)
{
  g_autoptr(GVariant) v = rec_get (rec, path, DEVICE1, name);

  return v && g_variant_get_boolean (v);
}

static gboolean
wait_flag (const char *path, const char *name, gboolean want, guint msec)
{
  gint64 end = g_get_monotonic_time () + (gint64) msec * 1000;

  do
    {
      if (device_flag (path, name) == want)
        return TRUE;
      rec_spin (200);
    }
  while (g_get_monotonic_time () < end);
  return FALSE;
}

/* The path of the characteristic with @uuid under @device, or NULL. */
static char *
find_characteristic (const char *device, const char *uuid)
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

/* Stops the test peripheral (its ready file names its bus name), so that
 * bluetoothd drops its advertisement. */
static gboolean
stop_peripheral (void)
{
  g_autofree char *text = NULL;
  g_autoptr(GVariant) reply = NULL;
  guint32 pid = 0;

  if (!g_file_get_contents ("/run/e2e/peripheral-ready", &text, NULL, NULL)
      || !g_str_has_prefix (text, "ready "))
    return FALSE;
  g_strstrip (text);
  reply = g_dbus_connection_call_sync (rec_bus (rec), "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "GetConnectionUnixProcessID",
                                       g_variant_new ("(s)", text + strlen ("ready ")),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE,
                                       5000, NULL, NULL);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(u)", &pid);
  return pid > 1 && kill ((pid_t) pid, SIGTERM) == 0;
}

static gboolean
discover (const char *device, JsonObject *obj)
{
  RecCall *c = rec_call_sync (rec, HCI0, "org.bluez.Adapter1", "StartDiscovery", NULL, 10000);
  gboolean found;

  rec_call_free (c);
  found = rec_wait_object (rec, device, DEVICE1, 15000);
  if (obj)
    {
      rec_spin (1000);
      json_object_set_member (obj, "device_properties_discovering",
                              rec_get_all (rec, device, DEVICE1));
    }
  return found;
}

static gboolean
connect_with_retries (const char *device, JsonObject *obj, const char *member)
{
  for (guint attempt = 1; attempt <= 3; attempt++)
    {
      RecCall *c = rec_call_sync (rec, device, DEVICE1, "Connect", NULL, 25000);
      gboolean ok = c->done && c->error_name == NULL;

      json_object_set_member (obj, member, rec_call_json (c));
      rec_call_free (c);
      if (ok)
        return TRUE;
      rec_call_free (rec_call_sync (rec, device, DEVICE1, "Disconnect", NULL, 10000));
      discover (device, NULL);
      rec_call_free (rec_call_sync (rec, HCI0, "org.bluez.Adapter1", "StopDiscovery", NULL, 10000));
    }
  return FALSE;
}

static JsonNode *
write_case (const char *chr, const char *type)
{
  GVariantBuilder options;
  const guint8 byte = 0x41;
  RecCall *c;
  JsonNode *node;

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  if (type)
    g_variant_builder_add (&options, "{sv}", "type", g_variant_new_string (type));
  c = rec_call_sync (rec, chr, CHR1, "WriteValue",
                     g_variant_new ("(@aya{sv})",
                                    g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, &byte, 1, 1),
                                    &options),
                     15000);
  node = rec_call_json (c);
  rec_call_free (c);
  return node;
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  const char *peer_address = g_getenv ("BLEIO_TEST_PERIPHERAL_ADDRESS");
  g_autofree char *peer = NULL;
  g_autofree char *read_only = NULL;
  g_autofree char *body_sensor = NULL;
  JsonNode *root;
  JsonObject *top = json_obj (&root);
  JsonNode *node;
  JsonObject *obj;
  RecCall *c, *c2;
  guint from;

  if (bus == NULL)
    {
      g_printerr ("record: no system bus: %s\n", error->message);
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
      "bluetoothd 5.66 -n -E -P vcp,mcp; tests/e2e/peripheral.c on hci1 with "
      "BLEIO_E2E_PERIPHERAL_AGENT=0 (no agent registered by anyone); "
      "calls from one GDBus client on hci0");

  /* item 11: RSSI (btvirt: 127) and TxPower when discovery stops. The
   * peripheral does not advertise a TX power; advertising-discovered.json
   * has an advertisement that does. */
  obj = json_obj (&node);
  rec_mark (rec, -1, "item 11");
  if (!discover (peer, obj))
    g_printerr ("record: the peripheral was not found\n");
  from = rec_position (rec);
  c = rec_call_sync (rec, HCI0, "org.bluez.Adapter1", "StopDiscovery", NULL, 10000);
  json_object_set_member (obj, "stop_discovery", rec_call_json (c));
  rec_call_free (c);
  rec_spin (1500);
  json_object_set_member (obj, "signals_after_stop", rec_events (rec, from, peer));
  json_object_set_member (obj, "device_properties_after_stop", rec_get_all (rec, peer, DEVICE1));
  json_object_set_member (top, "item11_stop_discovery", node);

  /* Connect, and wait for the browse to end (a Pair during it loses its
   * reply: tests/e2e/README.md). */
  obj = json_obj (&node);
  rec_mark (rec, -1, "connect");
  connect_with_retries (peer, obj, "connect");
  json_object_set_boolean_member (obj, "services_resolved",
                                  wait_flag (peer, "ServicesResolved", TRUE, 20000));
  rec_spin (1000);
  read_only = find_characteristic (peer, READ_ONLY_UUID);
  body_sensor = find_characteristic (peer, BODY_SENSOR_UUID);
  json_object_set_member (top, "connect", node);

  /* item 15: WriteValue on characteristics without the write property. */
  obj = json_obj (&node);
  rec_mark (rec, -1, "item 15");
  json_object_set_string_member (obj, "characteristic",
      READ_ONLY_UUID " (flags: read; the application's), value \"Hello\"");
  if (read_only)
    {
      g_autoptr(GVariant) flags = rec_get (rec, read_only, CHR1, "Flags");

      json_object_set_member (obj, "flags_seen_by_central", rec_variant_json (flags));
      json_object_set_member (obj, "write_type_request", write_case (read_only, "request"));
      json_object_set_member (obj, "write_no_type", write_case (read_only, NULL));
      json_object_set_member (obj, "write_type_command", write_case (read_only, "command"));
      json_object_set_member (obj, "write_type_reliable", write_case (read_only, "reliable"));
      c = rec_call_sync (rec, read_only, CHR1, "ReadValue",
                         g_variant_new ("(a{sv})", NULL), 15000);
      json_object_set_member (obj, "read_back", rec_call_json (c));
      rec_call_free (c);
    }
  else
    json_object_set_string_member (obj, "missing", "no read-only characteristic found");
  if (body_sensor)
    {
      json_object_set_string_member (obj, "characteristic_2",
          BODY_SENSOR_UUID " (flags: read; the application's)");
      json_object_set_member (obj, "write_type_request_2", write_case (body_sensor, "request"));
      json_object_set_member (obj, "write_no_type_2", write_case (body_sensor, NULL));
    }
  json_object_set_member (top, "item15_write_without_write_property", node);

  /* item 10: Pair with no agent anywhere: first as bluetoothd leaves
   * the adapters without an agent (not pairable), then with the peer's
   * adapter made pairable, then with both. */
  {
    static const char *const steps[] = { "as_is", "peer_pairable", "both_pairable" };
    JsonArray *arr = json_array_new ();

    for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
      {
        JsonNode *one;
        JsonObject *o = json_obj (&one);
        g_autoptr(GVariant) p0 = NULL;
        g_autoptr(GVariant) p1 = NULL;
        gboolean paired;

        if (i == 1 || i == 2)
          {
            const char *adapter = i == 1 ? "/org/bluez/hci1" : HCI0;

            c = rec_call_sync (rec, adapter, "org.freedesktop.DBus.Properties", "Set",
                               g_variant_new ("(ssv)", "org.bluez.Adapter1", "Pairable",
                                              g_variant_new_boolean (TRUE)), 10000);
            json_object_set_member (o, "set_pairable", rec_call_json (c));
            rec_call_free (c);
          }
        if (!device_flag (peer, "Connected"))
          {
            connect_with_retries (peer, o, "reconnect");
            json_object_set_boolean_member (o, "services_resolved",
                                            wait_flag (peer, "ServicesResolved", TRUE, 20000));
            rec_spin (1000);
          }
        p0 = rec_get (rec, HCI0, "org.bluez.Adapter1", "Pairable");
        p1 = rec_get (rec, "/org/bluez/hci1", "org.bluez.Adapter1", "Pairable");
        json_object_set_string_member (o, "step", steps[i]);
        json_object_set_member (o, "hci0_pairable", rec_variant_json (p0));
        json_object_set_member (o, "hci1_pairable", rec_variant_json (p1));
        from = rec_position (rec);
        rec_mark (rec, -1, "item 10 %s", steps[i]);
        c = rec_call_sync (rec, peer, DEVICE1, "Pair", NULL, 30000);
        json_object_set_member (o, "pair", rec_call_json (c));
        rec_call_free (c);
        rec_spin (1500);
        json_object_set_member (o, "signals", rec_events (rec, from, peer));
        json_object_set_member (o, "device_properties_after", rec_get_all (rec, peer, DEVICE1));
        json_array_add_element (arr, one);
        paired = device_flag (peer, "Paired");
        if (paired)
          break;
      }
    obj = json_obj (&node);
    json_object_set_array_member (obj, "attempts", arr);
    json_object_set_member (top, "item10_pair_without_agent", node);
  }

  rec_call_free (rec_call_sync (rec, peer, DEVICE1, "Disconnect", NULL, 15000));
  wait_flag (peer, "Connected", FALSE, 10000);
  rec_spin (1000);

  /* item 14: one client's Connect, then at once its Disconnect. */
  obj = json_obj (&node);
  from = rec_position (rec);
  rec_mark (rec, -1, "item 14");
  c = rec_call (rec, peer, DEVICE1, "Connect", NULL, 25000);
  c2 = rec_call (rec, peer, DEVICE1, "Disconnect", NULL, 25000);
  rec_call_wait (rec, c, 26000);
  rec_call_wait (rec, c2, 26000);
  json_object_set_member (obj, "connect", rec_call_json (c));
  json_object_set_member (obj, "disconnect", rec_call_json (c2));
  json_object_set_string_member (obj, "answered_first",
                                 !c->done || !c2->done ? "unknown"
                                 : c->answered <= c2->answered ? "connect" : "disconnect");
  rec_call_free (c);
  rec_call_free (c2);
  rec_spin (5000);
  json_object_set_boolean_member (obj, "connected_5s_later", device_flag (peer, "Connected"));
  json_object_set_member (obj, "events", rec_events (rec, from, peer));
  json_object_set_member (top, "item14_connect_then_disconnect", node);
  rec_call_free (rec_call_sync (rec, peer, DEVICE1, "Disconnect", NULL, 15000));
  wait_flag (peer, "Connected", FALSE, 10000);

  /* item 13: Disconnect while a Connect is pending. The device object
   * stays; its advertiser goes away (the test peripheral is stopped, and
   * bluetoothd drops its advertisement), so the Connect waits for an
   * advertisement that never comes. */
  obj = json_obj (&node);
  json_object_set_boolean_member (obj, "peripheral_stopped", stop_peripheral ());
  rec_spin (1500);
  from = rec_position (rec);
  rec_mark (rec, -1, "item 13");
  c = rec_call (rec, peer, DEVICE1, "Connect", NULL, 30000);
  rec_spin (2000);
  json_object_set_boolean_member (obj, "connect_pending_after_2s", !c->done);
  c2 = rec_call_sync (rec, peer, DEVICE1, "Disconnect", NULL, 15000);
  rec_call_wait (rec, c, 32000);
  json_object_set_member (obj, "connect", rec_call_json (c));
  json_object_set_member (obj, "disconnect_during_connect", rec_call_json (c2));
  json_object_set_string_member (obj, "answered_first",
                                 !c->done || !c2->done ? "unknown"
                                 : c->answered <= c2->answered ? "connect" : "disconnect");
  rec_call_free (c);
  rec_call_free (c2);
  rec_spin (1000);
  json_object_set_boolean_member (obj, "connected_after", device_flag (peer, "Connected"));
  json_object_set_member (obj, "events", rec_events (rec, from, peer));
  json_object_set_member (top, "item13_disconnect_during_connect", node);

  rec_print ("issue15-facts.json", root);
  /* Why a step went as it did: bluetoothd's own log, and btmon's trace
   * when init.sh records one (BLEIO_E2E_BTMON=1). */
  rec_print_file ("issue15-bluetoothd.log", "/tmp/bluetoothd.log");
  if (g_file_test ("/tmp/btmon.snoop", G_FILE_TEST_EXISTS)
      && g_spawn_command_line_sync ("sh -c 'btmon -r /tmp/btmon.snoop > /tmp/btmon-record.txt 2>&1'",
                                    NULL, NULL, NULL, NULL))
    rec_print_file ("issue15-btmon.txt", "/tmp/btmon-record.txt");
  rec_free (rec);
  return 0;
}
