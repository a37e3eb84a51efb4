/* SPDX-License-Identifier: MIT */
/*
 * bleio-e2e-record-advertising: records what bluetoothd 5.66 does with
 * LEAdvertisingManager1 on hci1 of the e2e guest, GDBus only, for the
 * simulator and the library's peripheral role (tests/e2e/README.md,
 * "Recorded facts"). Run by hand, alone, without the test peripheral (it
 * would hold an advertising instance) and with btmon recording:
 *
 *   run-e2e.sh ... --test tests/e2e/bleio-e2e-record-advertising \
 *     --env BLEIO_E2E_PERIPHERAL=0 --env BLEIO_E2E_BTMON=1
 *
 * then tests/e2e/extract-records.sh CONSOLE tests/data/bluez-5.66 keeps
 * what it printed between E2E-RECORD-BEGIN/END lines:
 *   advertising-manager.json   LEAdvertisingManager1 of both adapters
 *   advertising-register.json  RegisterAdvertisement answers, one per case
 *   advertising-not-discoverable.json  one without Discoverable, unfiltered
 *                              and filtered discovery
 *   advertising-discovered.json  what hci0's discovery makes of it
 *   advertising-link.json      a link to the advertiser and its ends
 *   advertising-timeout.json   Timeout: when Release and ActiveInstances
 *   advertising-btmon.txt      btmon's trace, with a "record:" note per case
 *
 * The advertisement objects are answered from a connection filter rather
 * than g_dbus_connection_register_object(), so that a property can have
 * any type, a wrong one included.
 */
#include "record.h"

#include <stdlib.h>
#include <string.h>

#define HCI0 "/org/bluez/hci0"
#define HCI1 "/org/bluez/hci1"
#define ADV_MGR "org.bluez.LEAdvertisingManager1"
#define ADV_IFACE "org.bluez.LEAdvertisement1"
#define ADV_ROOT "/org/bleio/record"

/* ---- advertisement objects, answered from the filter thread ---- */

typedef struct {
  char *path;
  GVariant *props;            /* a{sv} */
  guint releases;
  double first_release;       /* seconds, rec_now() */
} Adv;

static GMutex adv_lock;
static GHashTable *advs;      /* path -> Adv */
static Rec *rec;

static void
adv_free (gpointer data)
{
  Adv *adv = data;

  g_free (adv->path);
  g_variant_unref (adv->props);
  g_free (adv);
}

static void
adv_put (const char *path, const char *props_text)
{
  g_autoptr(GError) error = NULL;
  GVariant *props = g_variant_parse (G_VARIANT_TYPE_VARDICT, props_text, NULL, NULL, &error);
  Adv *adv = g_new0 (Adv, 1);

  if (props == NULL)
    g_error ("bad case text %s: %s", props_text, error->message);
  adv->path = g_strdup (path);
  adv->props = g_variant_ref_sink (props);
  g_mutex_lock (&adv_lock);
  g_hash_table_replace (advs, adv->path, adv);
  g_mutex_unlock (&adv_lock);
}

static guint
adv_releases (const char *path, double *first)
{
  guint n = 0;
  Adv *adv;

  g_mutex_lock (&adv_lock);
  adv = g_hash_table_lookup (advs, path);
  if (adv)
    {
      n = adv->releases;
      if (first)
        *first = adv->first_release;
    }
  g_mutex_unlock (&adv_lock);
  return n;
}

static GDBusMessage *
filter (GDBusConnection *bus, GDBusMessage *message, gboolean incoming,
        gpointer user_data)
{
  const char *path = g_dbus_message_get_path (message);
  const char *member = g_dbus_message_get_member (message);
  GDBusMessage *reply = NULL;
  Adv *adv;

  if (!incoming || g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_METHOD_CALL
      || path == NULL || member == NULL)
    return message;
  g_mutex_lock (&adv_lock);
  adv = g_hash_table_lookup (advs, path);
  if (adv && g_str_equal (member, "GetAll"))
    {
      reply = g_dbus_message_new_method_reply (message);
      g_dbus_message_set_body (reply, g_variant_new ("(@a{sv})", adv->props));
    }
  else if (adv && g_str_equal (member, "Get"))
    {
      const char *name = NULL;
      g_autoptr(GVariant) value = NULL;

      g_variant_get_child (g_dbus_message_get_body (message), 1, "&s", &name);
      value = g_variant_lookup_value (adv->props, name, NULL);
      if (value)
        {
          reply = g_dbus_message_new_method_reply (message);
          g_dbus_message_set_body (reply, g_variant_new ("(v)", value));
        }
      else
        reply = g_dbus_message_new_method_error (message,
                                                 "org.freedesktop.DBus.Error.InvalidArgs",
                                                 "No such property");
    }
  else if (adv && g_str_equal (member, "Release"))
    {
      if (adv->releases++ == 0)
        adv->first_release = rec_now (rec);
      reply = g_dbus_message_new_method_reply (message);
    }
  else if (adv)
    reply = g_dbus_message_new_method_error (message,
                                             "org.freedesktop.DBus.Error.UnknownMethod",
                                             "Not implemented");
  g_mutex_unlock (&adv_lock);
  if (reply == NULL)
    return message;
  g_dbus_connection_send_message (bus, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL);
  g_object_unref (reply);
  g_object_unref (message);
  return NULL;
}

/* ---- helpers ---- */

static JsonObject *
json_obj (JsonNode **node)
{
  JsonObject *obj = json_object_new ();

  *node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (*node, obj);
  return obj;
}

static int
active_instances (const char *adapter)
{
  g_autoptr(GVariant) v = rec_get (rec, adapter, ADV_MGR, "ActiveInstances");

  return v ? g_variant_get_byte (v) : -1;
}

static RecCall *
register_adv (const char *path)
{
  return rec_call_sync (rec, HCI1, ADV_MGR, "RegisterAdvertisement",
                        g_variant_new ("(oa{sv})", path, NULL), 10000);
}

static RecCall *
unregister_adv (const char *path)
{
  return rec_call_sync (rec, HCI1, ADV_MGR, "UnregisterAdvertisement",
                        g_variant_new ("(o)", path), 10000);
}

static gboolean
call_ok (RecCall *call)
{
  return call->done && call->error_name == NULL;
}

/* ---- b: RegisterAdvertisement, one case at a time ---- */

typedef struct {
  const char *name;
  const char *props;
} Case;

#define UUID128 "12345678-1234-5678-1234-56789abcdef0"

static const Case cases[] = {
  { "minimal-peripheral", "{'Type': <'peripheral'>}" },
  { "minimal-broadcast", "{'Type': <'broadcast'>}" },
  { "no-type", "{'LocalName': <'NoType'>}" },
  { "empty", "@a{sv} {}" },
  { "type-bad", "{'Type': <'bogus'>}" },
  { "type-wrong-dbus-type", "{'Type': <uint32 1>}" },
  { "service-uuids-16", "{'Type': <'peripheral'>, 'ServiceUUIDs': <['180d', '0000180f-0000-1000-8000-00805f9b34fb']>}" },
  { "service-uuids-128", "{'Type': <'peripheral'>, 'ServiceUUIDs': <['" UUID128 "']>}" },
  { "service-uuids-bad", "{'Type': <'peripheral'>, 'ServiceUUIDs': <['not-a-uuid']>}" },
  { "service-uuids-wrong-dbus-type", "{'Type': <'peripheral'>, 'ServiceUUIDs': <'180d'>}" },
  { "solicit-uuids", "{'Type': <'peripheral'>, 'SolicitUUIDs': <['1812']>}" },
  { "solicit-uuids-bad", "{'Type': <'peripheral'>, 'SolicitUUIDs': <['xyz']>}" },
  { "manufacturer-data", "{'Type': <'peripheral'>, 'ManufacturerData': <{uint16 0xffff: <[byte 1, 2, 3]>}>}" },
  { "manufacturer-data-two-ids", "{'Type': <'peripheral'>, 'ManufacturerData': <{uint16 0xffff: <[byte 1]>, uint16 0x004c: <[byte 2]>}>}" },
  { "manufacturer-data-key-string", "{'Type': <'peripheral'>, 'ManufacturerData': <{'abc': <[byte 1, 2]>}>}" },
  { "manufacturer-data-value-string", "{'Type': <'peripheral'>, 'ManufacturerData': <{uint16 0xffff: <'abc'>}>}" },
  { "manufacturer-data-value-not-variant", "{'Type': <'peripheral'>, 'ManufacturerData': <{uint16 0xffff: [byte 1, 2]}>}" },
  { "manufacturer-data-24-bytes", "{'Type': <'peripheral'>, 'ManufacturerData': <{uint16 0xffff: <[byte 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23]>}>}" },
  { "manufacturer-data-25-bytes", "{'Type': <'peripheral'>, 'ManufacturerData': <{uint16 0xffff: <[byte 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24]>}>}" },
  { "manufacturer-data-27-bytes-broadcast", "{'Type': <'broadcast'>, 'ManufacturerData': <{uint16 0xffff: <[byte 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26]>}>}" },
  { "manufacturer-data-28-bytes-broadcast", "{'Type': <'broadcast'>, 'ManufacturerData': <{uint16 0xffff: <[byte 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27]>}>}" },
  { "service-data-16", "{'Type': <'peripheral'>, 'ServiceData': <{'180d': <[byte 9, 8]>}>}" },
  { "service-data-128", "{'Type': <'peripheral'>, 'ServiceData': <{'" UUID128 "': <[byte 9]>}>}" },
  { "service-data-key-bad", "{'Type': <'peripheral'>, 'ServiceData': <{'zz': <[byte 9]>}>}" },
  { "data-uri-0x24", "{'Type': <'peripheral'>, 'Data': <{byte 0x24: <[byte 0x16, 0x2f, 0x2f, 0x62]>}>}" },
  { "data-flags-0x01", "{'Type': <'peripheral'>, 'Data': <{byte 0x01: <[byte 0x06]>}>}" },
  { "data-name-0x09", "{'Type': <'peripheral'>, 'Data': <{byte 0x09: <[byte 0x41]>}>}" },
  { "data-manufacturer-0xff", "{'Type': <'peripheral'>, 'Data': <{byte 0xff: <[byte 0xff, 0xff, 1]>}>}" },
  { "data-service-data-0x16", "{'Type': <'peripheral'>, 'Data': <{byte 0x16: <[byte 0x0d, 0x18, 1]>}>}" },
  { "data-mesh-beacon-0x2b", "{'Type': <'peripheral'>, 'Data': <{byte 0x2b: <[byte 0, 1]>}>}" },
  { "data-key-uint16", "{'Type': <'peripheral'>, 'Data': <{uint16 0x24: <[byte 0x16]>}>}" },
  { "local-name", "{'Type': <'peripheral'>, 'LocalName': <'RecName'>}" },
  { "local-name-long", "{'Type': <'peripheral'>, 'LocalName': <'ARatherLongLocalNameOfThirtyOneChars'>}" },
  { "local-name-empty", "{'Type': <'peripheral'>, 'LocalName': <''>}" },
  { "local-name-and-include-local-name", "{'Type': <'peripheral'>, 'Includes': <['local-name']>, 'LocalName': <'Both'>}" },
  { "includes-local-name", "{'Type': <'peripheral'>, 'Includes': <['local-name']>}" },
  { "includes-tx-power", "{'Type': <'peripheral'>, 'Includes': <['tx-power']>}" },
  { "includes-appearance", "{'Type': <'peripheral'>, 'Includes': <['appearance']>}" },
  { "includes-all", "{'Type': <'peripheral'>, 'Includes': <['tx-power', 'appearance', 'local-name']>}" },
  { "includes-unknown", "{'Type': <'peripheral'>, 'Includes': <['bogus']>}" },
  { "includes-rsi", "{'Type': <'peripheral'>, 'Includes': <['rsi']>}" },
  { "appearance", "{'Type': <'peripheral'>, 'Appearance': <uint16 0x0341>}" },
  { "appearance-and-include-appearance", "{'Type': <'peripheral'>, 'Includes': <['appearance']>, 'Appearance': <uint16 0x0341>}" },
  { "discoverable-true", "{'Type': <'peripheral'>, 'Discoverable': <true>}" },
  { "discoverable-false", "{'Type': <'peripheral'>, 'Discoverable': <false>}" },
  { "discoverable-broadcast", "{'Type': <'broadcast'>, 'Discoverable': <true>}" },
  { "discoverable-timeout-5", "{'Type': <'peripheral'>, 'Discoverable': <true>, 'DiscoverableTimeout': <uint16 5>}" },
  { "discoverable-timeout-over-timeout", "{'Type': <'peripheral'>, 'Discoverable': <true>, 'DiscoverableTimeout': <uint16 10>, 'Timeout': <uint16 5>}" },
  { "duration-0", "{'Type': <'peripheral'>, 'Duration': <uint16 0>}" },
  { "duration-2", "{'Type': <'peripheral'>, 'Duration': <uint16 2>}" },
  { "duration-wrong-dbus-type", "{'Type': <'peripheral'>, 'Duration': <uint32 2>}" },
  { "timeout-0", "{'Type': <'peripheral'>, 'Timeout': <uint16 0>}" },
  { "timeout-wrong-dbus-type", "{'Type': <'peripheral'>, 'Timeout': <int32 2>}" },
  { "secondary-1M", "{'Type': <'peripheral'>, 'SecondaryChannel': <'1M'>}" },
  { "secondary-2M", "{'Type': <'peripheral'>, 'SecondaryChannel': <'2M'>}" },
  { "secondary-Coded", "{'Type': <'peripheral'>, 'SecondaryChannel': <'Coded'>}" },
  { "secondary-bad", "{'Type': <'peripheral'>, 'SecondaryChannel': <'3M'>}" },
  { "interval-100-150", "{'Type': <'peripheral'>, 'MinInterval': <uint32 100>, 'MaxInterval': <uint32 150>}" },
  { "interval-min-over-max", "{'Type': <'peripheral'>, 'MinInterval': <uint32 200>, 'MaxInterval': <uint32 100>}" },
  { "interval-min-only", "{'Type': <'peripheral'>, 'MinInterval': <uint32 100>}" },
  { "interval-max-only", "{'Type': <'peripheral'>, 'MaxInterval': <uint32 100>}" },
  { "interval-too-small", "{'Type': <'peripheral'>, 'MinInterval': <uint32 10>, 'MaxInterval': <uint32 15>}" },
  { "interval-wrong-dbus-type", "{'Type': <'peripheral'>, 'MinInterval': <uint16 100>, 'MaxInterval': <uint16 150>}" },
  { "tx-power-4", "{'Type': <'peripheral'>, 'TxPower': <int16 4>}" },
  { "tx-power-20", "{'Type': <'peripheral'>, 'TxPower': <int16 20>}" },
  { "tx-power-21", "{'Type': <'peripheral'>, 'TxPower': <int16 21>}" },
  { "tx-power-minus-127", "{'Type': <'peripheral'>, 'TxPower': <int16 -127>}" },
  { "tx-power-minus-128", "{'Type': <'peripheral'>, 'TxPower': <int16 -128>}" },
  { "tx-power-and-include", "{'Type': <'peripheral'>, 'TxPower': <int16 4>, 'Includes': <['tx-power']>}" },
  { "tx-power-wrong-dbus-type", "{'Type': <'peripheral'>, 'TxPower': <int32 4>}" },
  { "unknown-property", "{'Type': <'peripheral'>, 'Bogus': <'x'>}" },
  { "broadcast-rich", "{'Type': <'broadcast'>, 'ServiceUUIDs': <['180d']>, 'ManufacturerData': <{uint16 0xffff: <[byte 1]>}>, 'LocalName': <'Bcast'>}" },
  { "peripheral-rich", "{'Type': <'peripheral'>, 'ServiceUUIDs': <['180d']>, 'ManufacturerData': <{uint16 0xffff: <[byte 1]>}>, 'ServiceData': <{'180f': <[byte 0x62]>}>, 'LocalName': <'Rich'>, 'Appearance': <uint16 0x0341>, 'Includes': <['tx-power']>, 'Discoverable': <true>}" },
};

static JsonNode *
record_case (const Case *c, guint index)
{
  g_autofree char *path = g_strdup_printf (ADV_ROOT "/case%u", index);
  JsonNode *node;
  JsonObject *obj = json_obj (&node);
  RecCall *reg;
  double first;

  adv_put (path, c->props);
  json_object_set_string_member (obj, "case", c->name);
  json_object_set_string_member (obj, "properties", c->props);
  rec_mark (rec, 1, "case %s register", c->name);
  reg = register_adv (path);
  json_object_set_member (obj, "register", rec_call_json (reg));
  if (call_ok (reg))
    {
      RecCall *unreg;

      /* Long enough for the kernel's HCI commands to go out. */
      rec_spin (600);
      json_object_set_int_member (obj, "active_instances", active_instances (HCI1));
      rec_mark (rec, 1, "case %s unregister", c->name);
      unreg = unregister_adv (path);
      json_object_set_member (obj, "unregister", rec_call_json (unreg));
      rec_call_free (unreg);
      rec_spin (300);
    }
  json_object_set_int_member (obj, "releases", adv_releases (path, &first));
  json_object_set_int_member (obj, "active_instances_after", active_instances (HCI1));
  rec_call_free (reg);
  return node;
}

static JsonNode *
record_twice_and_overflow (void)
{
  JsonNode *node;
  JsonObject *obj = json_obj (&node);
  const char *path = ADV_ROOT "/twice";
  g_autoptr(GVariant) max = rec_get (rec, HCI1, ADV_MGR, "SupportedInstances");
  guint n = max ? g_variant_get_byte (max) : 0;
  JsonArray *arr = json_array_new ();
  RecCall *c;

  /* The same object twice by one client. */
  adv_put (path, "{'Type': <'peripheral'>}");
  rec_mark (rec, 1, "case same-object-twice");
  c = register_adv (path);
  json_object_set_member (obj, "same_object_first", rec_call_json (c));
  rec_call_free (c);
  c = register_adv (path);
  json_object_set_member (obj, "same_object_second", rec_call_json (c));
  rec_call_free (c);
  c = unregister_adv (path);
  json_object_set_member (obj, "same_object_unregister", rec_call_json (c));
  rec_call_free (c);
  c = unregister_adv (path);
  json_object_set_member (obj, "same_object_unregister_again", rec_call_json (c));
  rec_call_free (c);
  c = unregister_adv (ADV_ROOT "/never_registered");
  json_object_set_member (obj, "unregister_never_registered", rec_call_json (c));
  rec_call_free (c);

  /* One more than SupportedInstances. */
  rec_mark (rec, 1, "case more-than-supported-instances (%u)", n);
  json_object_set_int_member (obj, "supported_instances", n);
  for (guint i = 0; i <= n; i++)
    {
      g_autofree char *p = g_strdup_printf (ADV_ROOT "/many%u", i);
      g_autofree char *props = g_strdup_printf ("{'Type': <'broadcast'>, 'ManufacturerData': <{uint16 0xffff: <[byte %u]>}>}", i);
      JsonNode *one;
      JsonObject *o = json_obj (&one);

      adv_put (p, props);
      c = register_adv (p);
      json_object_set_int_member (o, "index", i);
      json_object_set_member (o, "register", rec_call_json (c));
      json_object_set_int_member (o, "active_instances", active_instances (HCI1));
      json_array_add_element (arr, one);
      rec_call_free (c);
    }
  json_object_set_array_member (obj, "registrations", arr);
  /* Let the kernel rotate through the instances (btmon shows it). */
  rec_spin (3000);
  for (guint i = 0; i <= n; i++)
    {
      g_autofree char *p = g_strdup_printf (ADV_ROOT "/many%u", i);

      rec_call_free (unregister_adv (p));
    }
  rec_spin (300);
  json_object_set_int_member (obj, "active_instances_after", active_instances (HCI1));

  /* Last: a path where nothing answers may hold its instance until this
   * client leaves the bus. */
  rec_mark (rec, 1, "case object-not-exported");
  c = rec_call_sync (rec, HCI1, ADV_MGR, "RegisterAdvertisement",
                     g_variant_new ("(oa{sv})", ADV_ROOT "/no_such_object", NULL), 10000);
  json_object_set_member (obj, "register_object_not_exported", rec_call_json (c));
  rec_call_free (c);
  json_object_set_int_member (obj, "active_instances_after_not_exported",
                              active_instances (HCI1));
  c = unregister_adv (ADV_ROOT "/no_such_object");
  json_object_set_member (obj, "unregister_not_exported", rec_call_json (c));
  rec_call_free (c);
  return node;
}

/* ---- c: what hci0's discovery sees; d: a link; e: Timeout ---- */

static char *
device_path (const char *adapter, const char *address)
{
  g_autofree char *a = g_strdelimit (g_strdup (address), ":", '_');

  return g_strdup_printf ("%s/dev_%s", adapter, a);
}

/* A connectable advertisement without Discoverable (no LE discoverable
 * flag): seen by an unfiltered StartDiscovery, and by one with a
 * discovery filter? The device object is removed afterwards, so that
 * record_discovered() sees it appear anew. */
static JsonNode *
record_not_discoverable (const char *peer_on_hci0)
{
  static const char props[] =
    "{'Type': <'peripheral'>, 'LocalName': <'Hidden'>, 'ServiceUUIDs': <['180d']>}";
  const char *path = ADV_ROOT "/hidden";
  JsonNode *node;
  JsonObject *obj = json_obj (&node);
  JsonArray *arr = json_array_new ();
  RecCall *c;

  adv_put (path, props);
  json_object_set_string_member (obj, "advertised", props);
  for (guint filtered = 0; filtered <= 1; filtered++)
    {
      JsonNode *one;
      JsonObject *o = json_obj (&one);
      guint from = rec_position (rec);
      gboolean found;

      rec_mark (rec, -1, "not discoverable, %s discovery", filtered ? "filtered" : "unfiltered");
      json_object_set_string_member (o, "discovery",
                                     filtered ? "SetDiscoveryFilter({Transport: le}), StartDiscovery"
                                              : "StartDiscovery, no filter");
      if (filtered)
        {
          c = rec_call_sync (rec, HCI0, "org.bluez.Adapter1", "SetDiscoveryFilter",
                             g_variant_new_parsed ("({'Transport': <'le'>},)"), 10000);
          json_object_set_member (o, "set_discovery_filter", rec_call_json (c));
          rec_call_free (c);
        }
      c = rec_call_sync (rec, HCI0, "org.bluez.Adapter1", "StartDiscovery", NULL, 10000);
      json_object_set_member (o, "start_discovery", rec_call_json (c));
      rec_call_free (c);
      rec_spin (1000);
      found = FALSE;
      for (guint attempt = 1; attempt <= 2 && !found; attempt++)
        {
          c = register_adv (path);
          rec_call_free (c);
          found = rec_wait_object (rec, peer_on_hci0, "org.bluez.Device1", 5000);
          rec_call_free (unregister_adv (path));
          rec_spin (300);
        }
      json_object_set_boolean_member (o, "found", found);
      if (found)
        json_object_set_member (o, "device_properties",
                                rec_get_all (rec, peer_on_hci0, "org.bluez.Device1"));
      rec_call_free (rec_call_sync (rec, HCI0, "org.bluez.Adapter1", "StopDiscovery", NULL, 10000));
      if (filtered)
        rec_call_free (rec_call_sync (rec, HCI0, "org.bluez.Adapter1", "SetDiscoveryFilter",
                                      g_variant_new_parsed ("(@a{sv} {},)"), 10000));
      if (found)
        rec_call_free (rec_call_sync (rec, HCI0, "org.bluez.Adapter1", "RemoveDevice",
                                      g_variant_new ("(o)", peer_on_hci0), 10000));
      rec_spin (500);
      json_object_set_member (o, "signals", rec_events (rec, from, peer_on_hci0));
      json_array_add_element (arr, one);
    }
  json_object_set_array_member (obj, "discoveries", arr);
  return node;
}

static JsonNode *
record_discovered (const char *peer_on_hci0, const char *rich_path)
{
  JsonNode *node;
  JsonObject *obj = json_obj (&node);
  guint from = rec_position (rec);
  gboolean found = FALSE;
  RecCall *c;
  guint stop_from;

  adv_put (rich_path, cases[G_N_ELEMENTS (cases) - 1].props);
  json_object_set_string_member (obj, "advertised", cases[G_N_ELEMENTS (cases) - 1].props);
  rec_mark (rec, -1, "discovery on hci0");
  c = rec_call_sync (rec, HCI0, "org.bluez.Adapter1", "StartDiscovery", NULL, 10000);
  json_object_set_member (obj, "start_discovery", rec_call_json (c));
  rec_call_free (c);
  /* btvirt reports an advertisement when advertising is switched on, and
   * the kernel drops reports before its discovery has fully started. */
  rec_spin (1000);
  for (guint attempt = 1; attempt <= 3 && !found; attempt++)
    {
      rec_mark (rec, 1, "discovered: register (attempt %u)", attempt);
      c = register_adv (rich_path);
      json_object_set_member (obj, "register", rec_call_json (c));
      rec_call_free (c);
      found = rec_wait_object (rec, peer_on_hci0, "org.bluez.Device1", 6000);
      json_object_set_int_member (obj, "attempts", attempt);
      if (!found)
        {
          rec_call_free (unregister_adv (rich_path));
          rec_spin (500);
        }
    }
  json_object_set_boolean_member (obj, "found", found);
  /* Let the scan response, if any, arrive. */
  rec_spin (2000);
  json_object_set_member (obj, "device_properties",
                          rec_get_all (rec, peer_on_hci0, "org.bluez.Device1"));
  json_object_set_member (obj, "signals", rec_events (rec, from, HCI0));

  /* issue 15 item 11: what stopping discovery does to RSSI and TxPower. */
  stop_from = rec_position (rec);
  rec_mark (rec, -1, "stop discovery on hci0");
  c = rec_call_sync (rec, HCI0, "org.bluez.Adapter1", "StopDiscovery", NULL, 10000);
  json_object_set_member (obj, "stop_discovery", rec_call_json (c));
  rec_call_free (c);
  rec_spin (1500);
  json_object_set_member (obj, "signals_after_stop", rec_events (rec, stop_from, HCI0));
  json_object_set_member (obj, "device_properties_after_stop",
                          rec_get_all (rec, peer_on_hci0, "org.bluez.Device1"));
  return node;
}

static gboolean
wait_connected (const char *path, gboolean want, guint msec)
{
  gint64 end = g_get_monotonic_time () + (gint64) msec * 1000;

  do
    {
      g_autoptr(GVariant) v = rec_get (rec, path, "org.bluez.Device1", "Connected");

      if (v && g_variant_get_boolean (v) == want)
        return TRUE;
      rec_spin (200);
    }
  while (g_get_monotonic_time () < end);
  return FALSE;
}

/* hci0 connects to the advertiser; @rich_path is still registered. */
static JsonNode *
record_link (const char *peer_on_hci0, const char *central_on_hci1, const char *rich_path)
{
  JsonNode *node;
  JsonObject *obj = json_obj (&node);
  guint from;
  RecCall *c = NULL;
  gboolean connected = FALSE;

  json_object_set_int_member (obj, "active_instances_before", active_instances (HCI1));
  json_object_set_int_member (obj, "releases_before", adv_releases (rich_path, NULL));
  from = rec_position (rec);
  for (guint attempt = 1; attempt <= 3 && !connected; attempt++)
    {
      rec_mark (rec, -1, "link: hci0 connects (attempt %u)", attempt);
      c = rec_call_sync (rec, peer_on_hci0, "org.bluez.Device1", "Connect", NULL, 25000);
      connected = call_ok (c);
      json_object_set_member (obj, "connect", rec_call_json (c));
      json_object_set_int_member (obj, "connect_attempts", attempt);
      rec_call_free (c);
    }
  /* The browse that follows every new LE link, on both ends. */
  rec_spin (5000);
  json_object_set_member (obj, "signals_connect_hci1", rec_events (rec, from, HCI1));
  json_object_set_member (obj, "signals_connect_hci0", rec_events (rec, from, HCI0));
  json_object_set_member (obj, "hci1_device_properties",
                          rec_get_all (rec, central_on_hci1, "org.bluez.Device1"));
  json_object_set_member (obj, "hci0_device_properties",
                          rec_get_all (rec, peer_on_hci0, "org.bluez.Device1"));
  json_object_set_int_member (obj, "active_instances_connected", active_instances (HCI1));
  json_object_set_int_member (obj, "releases_connected", adv_releases (rich_path, NULL));

  /* The central ends the link. */
  from = rec_position (rec);
  rec_mark (rec, -1, "link: hci0 disconnects");
  c = rec_call_sync (rec, peer_on_hci0, "org.bluez.Device1", "Disconnect", NULL, 15000);
  json_object_set_member (obj, "disconnect_from_hci0", rec_call_json (c));
  rec_call_free (c);
  rec_spin (3000);
  json_object_set_member (obj, "signals_disconnect_from_hci0", rec_events (rec, from, NULL));
  json_object_set_int_member (obj, "active_instances_after_central_disconnect",
                              active_instances (HCI1));
  json_object_set_int_member (obj, "releases_after_central_disconnect",
                              adv_releases (rich_path, NULL));
  json_object_set_member (obj, "hci1_device_properties_after_central_disconnect",
                          rec_get_all (rec, central_on_hci1, "org.bluez.Device1"));

  /* Again, and this time the peripheral's side ends it. */
  connected = FALSE;
  from = rec_position (rec);
  for (guint attempt = 1; attempt <= 3 && !connected; attempt++)
    {
      rec_mark (rec, -1, "link: hci0 connects again (attempt %u)", attempt);
      c = rec_call_sync (rec, peer_on_hci0, "org.bluez.Device1", "Connect", NULL, 25000);
      connected = call_ok (c);
      json_object_set_member (obj, "connect_again", rec_call_json (c));
      rec_call_free (c);
    }
  rec_spin (4000);
  json_object_set_member (obj, "signals_connect_again", rec_events (rec, from, NULL));
  wait_connected (central_on_hci1, TRUE, 5000);
  from = rec_position (rec);
  rec_mark (rec, -1, "link: hci1 disconnects");
  c = rec_call_sync (rec, central_on_hci1, "org.bluez.Device1", "Disconnect", NULL, 15000);
  json_object_set_member (obj, "disconnect_from_hci1", rec_call_json (c));
  rec_call_free (c);
  rec_spin (3000);
  json_object_set_member (obj, "signals_disconnect_from_hci1", rec_events (rec, from, NULL));
  json_object_set_member (obj, "hci0_device_properties_after_peripheral_disconnect",
                          rec_get_all (rec, peer_on_hci0, "org.bluez.Device1"));
  json_object_set_int_member (obj, "active_instances_end", active_instances (HCI1));
  json_object_set_int_member (obj, "releases_end", adv_releases (rich_path, NULL));
  c = unregister_adv (rich_path);
  json_object_set_member (obj, "unregister_end", rec_call_json (c));
  rec_call_free (c);
  return node;
}

static JsonNode *
record_timeout (void)
{
  JsonNode *node;
  JsonObject *obj = json_obj (&node);
  const char *path = ADV_ROOT "/timeout";
  JsonArray *polls = json_array_new ();
  guint from = rec_position (rec);
  RecCall *c;
  double registered, first = 0;
  int last = -2;

  adv_put (path, "{'Type': <'peripheral'>, 'Timeout': <uint16 2>}");
  json_object_set_string_member (obj, "properties", "{'Type': <'peripheral'>, 'Timeout': <uint16 2>}");
  rec_mark (rec, 1, "timeout-2 register");
  c = register_adv (path);
  registered = c->answered;
  json_object_set_member (obj, "register", rec_call_json (c));
  rec_call_free (c);
  /* ActiveInstances every 250 ms for 5 s: the changes, with their time. */
  for (guint i = 0; i < 20; i++)
    {
      int n = active_instances (HCI1);

      if (n != last)
        {
          JsonNode *one;
          JsonObject *o = json_obj (&one);

          json_object_set_double_member (o, "seconds_after_register",
                                         (double) (gint64) ((rec_now (rec) - registered) * 10) / 10);
          json_object_set_int_member (o, "active_instances", n);
          json_array_add_element (polls, one);
          last = n;
        }
      rec_spin (250);
    }
  json_object_set_array_member (obj, "active_instances_changes", polls);
  json_object_set_int_member (obj, "releases", adv_releases (path, &first));
  if (first > 0)
    json_object_set_double_member (obj, "release_seconds_after_register",
                                   (double) (gint64) ((first - registered) * 10) / 10);
  json_object_set_member (obj, "signals", rec_events (rec, from, HCI1));
  c = unregister_adv (path);
  json_object_set_member (obj, "unregister_after_timeout", rec_call_json (c));
  rec_call_free (c);
  return node;
}

static char *
adapter_address (const char *adapter)
{
  g_autoptr(GVariant) v = rec_get (rec, adapter, "org.bluez.Adapter1", "Address");

  return v ? g_variant_dup_string (v, NULL) : NULL;
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  g_autofree char *addr0 = NULL;
  g_autofree char *addr1 = NULL;
  g_autofree char *peer_on_hci0 = NULL;
  g_autofree char *central_on_hci1 = NULL;
  JsonNode *node;
  JsonObject *obj;
  JsonArray *arr;

  if (bus == NULL)
    {
      g_printerr ("record: no system bus: %s\n", error->message);
      return 1;
    }
  advs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, adv_free);
  rec = rec_new (bus);
  g_dbus_connection_add_filter (bus, filter, NULL, NULL);

  addr0 = adapter_address (HCI0);
  addr1 = adapter_address (HCI1);
  if (addr0 == NULL || addr1 == NULL)
    {
      g_printerr ("record: adapters not on the bus\n");
      return 1;
    }
  peer_on_hci0 = device_path (HCI0, addr1);
  central_on_hci1 = device_path (HCI1, addr0);

  /* a: the managers. */
  obj = json_obj (&node);
  json_object_set_string_member (obj, "bluetoothd_args", "-n -E -P vcp,mcp");
  json_object_set_string_member (obj, "hci0_address", addr0);
  json_object_set_string_member (obj, "hci1_address", addr1);
  json_object_set_member (obj, "hci0", rec_get_all (rec, HCI0, ADV_MGR));
  json_object_set_member (obj, "hci1", rec_get_all (rec, HCI1, ADV_MGR));
  json_object_set_member (obj, "hci1_adapter", rec_get_all (rec, HCI1, "org.bluez.Adapter1"));
  rec_print ("advertising-manager.json", node);

  /* b: RegisterAdvertisement case by case. */
  obj = json_obj (&node);
  arr = json_array_new ();
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    json_array_add_element (arr, record_case (&cases[i], i));
  json_object_set_array_member (obj, "cases", arr);
  json_object_set_member (obj, "twice_and_overflow", record_twice_and_overflow ());
  rec_print ("advertising-register.json", node);

  /* e: Timeout (before the link, which may leave bluetoothd in a state of
   * its own). */
  rec_print ("advertising-timeout.json", record_timeout ());

  /* c and d. */
  rec_print ("advertising-not-discoverable.json", record_not_discoverable (peer_on_hci0));
  rec_print ("advertising-discovered.json",
             record_discovered (peer_on_hci0, ADV_ROOT "/rich"));
  rec_print ("advertising-link.json",
             record_link (peer_on_hci0, central_on_hci1, ADV_ROOT "/rich"));

  /* btmon's decoded trace, when init.sh records one. */
  if (g_file_test ("/tmp/btmon.snoop", G_FILE_TEST_EXISTS))
    {
      g_autofree char *argv0 = g_find_program_in_path ("btmon");

      rec_spin (500);
      if (argv0
          && g_spawn_command_line_sync ("sh -c 'btmon -r /tmp/btmon.snoop > /tmp/btmon-record.txt 2>&1'",
                                        NULL, NULL, NULL, &error))
        rec_print_file ("advertising-btmon.txt", "/tmp/btmon-record.txt");
      else
        g_printerr ("record: btmon: %s\n", error ? error->message : "not found");
    }

  g_hash_table_unref (advs);
  rec_free (rec);
  return 0;
}
