/* SPDX-License-Identifier: MIT */
/*
 * What GetManagedObjects() shows, against the object dumps of bluetoothd
 * 5.66 in tests/data/bluez-5.66/ (or 5.82's in tests/data/bluez-5.82/ when
 * the simulator speaks 5.82): which interfaces each object has,
 * which properties each interface lists in which state, and that every
 * value has the type the reference introspection declares. Peripheral data
 * differ (the reference peripheral was BlueZ's example GATT server), so
 * the comparisons are of names and types, by object kind, and of the rules
 * the dumps show (a characteristic lists Notifying only when it can notify
 * or indicate, a descriptor lists no Flags, ...).
 */
#include "sim-fixture.h"
#include "test-data.h"

#include <gio/gunixfdlist.h>
#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define DEMO_NAME "InterestingPeripheral"
#define ADAPTER "/org/bluez/hci0"
#define DEVICE1 "org.bluez.Device1"
#define SERVICE1 "org.bluez.GattService1"
#define CHR1 "org.bluez.GattCharacteristic1"
#define DESC1 "org.bluez.GattDescriptor1"
#define BATTERY1 "org.bluez.Battery1"
#define HEART_RATE_MEASUREMENT "00002a37-0000-1000-8000-00805f9b34fb"
/* tools/bleio-sim/scenarios/demo.json: read needs encryption. */
#define DEMO_ENCRYPTED_UUID "12345678-1234-5678-1234-56789abcdef5"
#define WAIT_MSEC 10000

static SimFixture *fx;
static SimAgent *agent;
static char *device;
/* interface name -> GDBusInterfaceInfo, from every reference XML */
static GHashTable *declared;
static GPtrArray *node_infos;

/* ---- references ---- */

static char *
reference_path (const char *name)
{
  return test_data_path_in (test_data_bluez_folder (), name);
}

static JsonNode *
load_json (const char *name)
{
  g_autofree char *path = reference_path (name);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  if (!json_parser_load_from_file (parser, path, &error))
    fail_msg ("reference %s: %s", path, error->message);
  return json_node_copy (json_parser_get_root (parser));
}

/* The member names of @path's @interface in a GetManagedObjects() dump,
 * sorted; NULL when absent. */
static GPtrArray *
json_keys (JsonNode   *dump,
           const char *path,
           const char *interface)
{
  JsonObject *root = json_node_get_object (dump);
  JsonObject *object;
  GPtrArray *keys;
  g_autoptr(GList) members = NULL;

  if (!json_object_has_member (root, path))
    return NULL;
  object = json_object_get_object_member (root, path);
  if (interface != NULL)
    {
      if (!json_object_has_member (object, interface))
        return NULL;
      object = json_object_get_object_member (object, interface);
    }
  keys = g_ptr_array_new_with_free_func (g_free);
  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    g_ptr_array_add (keys, g_strdup (l->data));
  g_ptr_array_sort (keys, (GCompareFunc) g_strcmp0);
  return keys;
}

static GPtrArray *
json_object_keys (JsonNode *node)
{
  GPtrArray *keys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GList) members = json_object_get_members (json_node_get_object (node));

  for (GList *l = members; l != NULL; l = l->next)
    g_ptr_array_add (keys, g_strdup (l->data));
  g_ptr_array_sort (keys, (GCompareFunc) g_strcmp0);
  return keys;
}

static void
load_declared (void)
{
  static const char * const files[] = {
    "introspect-root.xml", "introspect-org-bluez.xml", "introspect-adapter.xml",
    "introspect-device-connected.xml", "introspect-gattservice1.xml",
    "introspect-gattcharacteristic1.xml", "introspect-gattdescriptor1.xml", NULL
  };

  for (const char * const *f = files; *f != NULL; f++)
    {
      g_autofree char *path = reference_path (*f);
      g_autofree char *xml = NULL;
      g_autoptr(GError) error = NULL;
      GDBusNodeInfo *info;

      if (!g_file_get_contents (path, &xml, NULL, &error))
        fail_msg ("reference %s: %s", path, error->message);
      info = g_dbus_node_info_new_for_xml (xml, &error);
      if (info == NULL)
        fail_msg ("reference %s: %s", path, error->message);
      g_ptr_array_add (node_infos, info);
      for (guint i = 0; info->interfaces != NULL && info->interfaces[i] != NULL; i++)
        g_hash_table_insert (declared, info->interfaces[i]->name, info->interfaces[i]);
    }
}

/* ---- the simulator's side ---- */

static GVariant *
objects (void)
{
  g_autoptr(GError) error = NULL;
  GVariant *all = sim_fixture_get_objects (fx, &error);

  if (all == NULL)
    fail_msg ("GetManagedObjects: %s", error->message);
  return all;
}

static GPtrArray *
variant_keys (GVariant *dict)
{
  GPtrArray *keys = g_ptr_array_new_with_free_func (g_free);
  GVariantIter iter;
  const char *key;

  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{&s@*}", &key, NULL))
    g_ptr_array_add (keys, g_strdup (key));
  g_ptr_array_sort (keys, (GCompareFunc) g_strcmp0);
  return keys;
}

static GPtrArray *
sim_keys (GVariant   *all,
          const char *path,
          const char *interface)
{
  g_autoptr(GVariant) ifaces = g_variant_lookup_value (all, path, G_VARIANT_TYPE ("a{sa{sv}}"));
  g_autoptr(GVariant) props = NULL;

  if (ifaces == NULL)
    return NULL;
  if (interface == NULL)
    return variant_keys (ifaces);
  props = g_variant_lookup_value (ifaces, interface, G_VARIANT_TYPE ("a{sv}"));
  return props != NULL ? variant_keys (props) : NULL;
}

static char *
join (GPtrArray *keys)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; keys != NULL && i < keys->len; i++)
    g_string_append_printf (out, "%s%s", i ? " " : "", (char *) g_ptr_array_index (keys, i));
  return g_string_free (out, FALSE);
}

static gboolean
has_key (GPtrArray  *keys,
         const char *key)
{
  for (guint i = 0; keys != NULL && i < keys->len; i++)
    if (strcmp (g_ptr_array_index (keys, i), key) == 0)
      return TRUE;
  return FALSE;
}

/* @what: the keys must equal @want; with @subset, only contain them. */
static void
compare_keys (GString    *diff,
              const char *what,
              GPtrArray  *want,
              GPtrArray  *got,
              gboolean    subset)
{
  g_autofree char *want_text = join (want);
  g_autofree char *got_text = join (got);

  if (got == NULL)
    {
      g_string_append_printf (diff, "  %s: missing (reference: %s)\n", what, want_text);
      return;
    }
  for (guint i = 0; i < want->len; i++)
    if (!has_key (got, g_ptr_array_index (want, i)))
      g_string_append_printf (diff, "  %s: no %s (has: %s)\n", what,
                              (char *) g_ptr_array_index (want, i), got_text);
  if (!subset)
    for (guint i = 0; i < got->len; i++)
      if (!has_key (want, g_ptr_array_index (got, i)))
        g_string_append_printf (diff, "  %s: %s, which the reference does not list\n",
                                what, (char *) g_ptr_array_index (got, i));
}

static GPtrArray *
strings (const char *first,
         ...)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  va_list ap;

  va_start (ap, first);
  for (const char *s = first; s != NULL; s = va_arg (ap, const char *))
    g_ptr_array_add (out, g_strdup (s));
  va_end (ap);
  g_ptr_array_sort (out, (GCompareFunc) g_strcmp0);
  return out;
}

/* Whether one of the BlueZ interfaces in @ifaces declares properties. */
static gboolean
has_properties (GVariant *ifaces)
{
  gsize n = g_variant_n_children (ifaces);

  for (gsize i = 0; i < n; i++)
    {
      const char *interface = NULL;
      GDBusInterfaceInfo *info;

      g_variant_get_child (ifaces, i, "{&s@a{sv}}", &interface, NULL);
      if (!g_str_has_prefix (interface, "org.bluez."))
        continue;
      info = g_hash_table_lookup (declared, interface);
      if (info != NULL && info->properties != NULL && info->properties[0] != NULL)
        return TRUE;
    }
  return FALSE;
}

/* Every property of every object has the type the reference declares,
 * and every object lists Introspectable and Properties as bluetoothd's
 * GetManagedObjects() does. */
static void
check_types (GVariant *all,
             GString  *diff)
{
  gsize n = g_variant_n_children (all);

  for (gsize o = 0; o < n; o++)
    {
      g_autoptr(GVariant) ifaces = NULL;
      const char *path = NULL;
      gsize n_ifaces;

      g_variant_get_child (all, o, "{&o@a{sa{sv}}}", &path, &ifaces);
      if (!g_str_has_prefix (path, "/org/bluez"))
        continue;
      /* bluetoothd lists Introspectable for every object, and Properties
       * for those with an interface that has properties (not /org/bluez). */
      if (!g_variant_lookup (ifaces, "org.freedesktop.DBus.Introspectable", "@a{sv}", NULL))
        g_string_append_printf (diff, "  %s: Introspectable not listed\n", path);
      if (g_variant_lookup (ifaces, "org.freedesktop.DBus.Properties", "@a{sv}", NULL) !=
          has_properties (ifaces))
        g_string_append_printf (diff, "  %s: Properties %slisted\n", path,
                                has_properties (ifaces) ? "not " : "");

      n_ifaces = g_variant_n_children (ifaces);
      for (gsize i = 0; i < n_ifaces; i++)
        {
          g_autoptr(GVariant) props = NULL;
          const char *interface = NULL;
          GDBusInterfaceInfo *info;
          gsize n_props;

          g_variant_get_child (ifaces, i, "{&s@a{sv}}", &interface, &props);
          info = g_hash_table_lookup (declared, interface);
          if (info == NULL)
            {
              g_string_append_printf (diff, "  %s: interface %s is in no reference\n",
                                      path, interface);
              continue;
            }
          n_props = g_variant_n_children (props);
          for (gsize k = 0; k < n_props; k++)
            {
              g_autoptr(GVariant) value = NULL;
              const char *name = NULL;
              GDBusPropertyInfo *prop;

              g_variant_get_child (props, k, "{&sv}", &name, &value);
              prop = g_dbus_interface_info_lookup_property (info, name);

              if (prop == NULL)
                g_string_append_printf (diff, "  %s: %s.%s is not declared\n", path,
                                        interface, name);
              else if (strcmp (prop->signature, g_variant_get_type_string (value)) != 0)
                g_string_append_printf (diff, "  %s: %s.%s has type %s, declared %s\n",
                                        path, interface, name,
                                        g_variant_get_type_string (value), prop->signature);
            }
        }
    }
}

static void
fail_on (GString    *diff,
         const char *what)
{
  if (diff->len > 0)
    fail_msg ("%s differs from bluetoothd %s:\n%s", what,
              test_data_bluez_is_582 () ? "5.82" : "5.66", diff->str);
}

/* ---- state ---- */

static void
ensure_device (void)
{
  g_autoptr(GError) error = NULL;

  if (device == NULL)
    device = sim_fixture_find_device (fx, ADAPTER, DEMO_NAME, &error);
  if (device == NULL)
    fail_msg ("the demo peripheral: %s", error->message);
}

static void
ensure_connected_and_paired (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) paired = NULL;
  g_autofree char *chr = NULL;

  ensure_device ();
  if (!sim_fixture_connect_device (fx, device, &error))
    fail_msg ("connecting: %s", error->message);
  paired = sim_fixture_get_property (fx, device, DEVICE1, "Paired");
  if (paired != NULL && g_variant_get_boolean (paired))
    return;
  /* Paired through a security requirement, as the reference was. */
  chr = sim_fixture_find_gatt (fx, device, CHR1, DEMO_ENCRYPTED_UUID, NULL, NULL);
  if (chr == NULL)
    fail_msg ("no encrypted characteristic in the demo");
  reply = sim_fixture_call_bluez (fx, chr, CHR1, "ReadValue",
                                  g_variant_new ("(a{sv})", NULL), &error);
  if (reply == NULL)
    fail_msg ("ReadValue of %s: %s", chr, error->message);
  if (!sim_fixture_wait_property (fx, device, DEVICE1, "Bonded",
                                  g_variant_new_boolean (TRUE), WAIT_MSEC))
    fail_msg ("the demo peripheral did not bond");
  if (!sim_fixture_wait_property (fx, device, DEVICE1, "ServicesResolved",
                                  g_variant_new_boolean (TRUE), WAIT_MSEC))
    fail_msg ("services not resolved after pairing");
}

/* ---- cases ---- */

static void
test_manager_and_adapter (void **state)
{
  g_autoptr(JsonNode) idle = load_json ("objects-idle.json");
  g_autoptr(GVariant) all = objects ();
  g_autoptr(GString) diff = g_string_new (NULL);
  g_autoptr(GPtrArray) want_manager = json_keys (idle, "/org/bluez", NULL);
  g_autoptr(GPtrArray) got_manager = sim_keys (all, "/org/bluez", NULL);
  g_autoptr(GPtrArray) want_adapter = json_keys (idle, ADAPTER, NULL);
  g_autoptr(GPtrArray) got_adapter = sim_keys (all, ADAPTER, NULL);

  compare_keys (diff, "/org/bluez interfaces", want_manager, got_manager, FALSE);
  compare_keys (diff, "adapter interfaces", want_adapter, got_adapter, FALSE);
  for (guint i = 0; want_adapter != NULL && i < want_adapter->len; i++)
    {
      const char *iface = g_ptr_array_index (want_adapter, i);
      g_autoptr(GPtrArray) want = json_keys (idle, ADAPTER, iface);
      g_autoptr(GPtrArray) got = sim_keys (all, ADAPTER, iface);
      g_autofree char *what = g_strdup_printf ("adapter %s properties", iface);

      if (got != NULL)
        compare_keys (diff, what, want, got, FALSE);
    }
  fail_on (diff, "The manager and the adapter");
}

static void
test_types_idle (void **state)
{
  g_autoptr(GVariant) all = objects ();
  g_autoptr(GString) diff = g_string_new (NULL);

  check_types (all, diff);
  fail_on (diff, "Property types before connecting");
}

/* While discovering: what bluetoothd shows of a device it only heard
 * advertise. AdvertisingData is left out: it is there only for a
 * peripheral that sends data types BlueZ does not parse itself. */
static void
test_device_discovered (void **state)
{
  g_autoptr(JsonNode) discovered = load_json ("device-props-discovered.json");
  g_autoptr(GPtrArray) want = json_object_keys (discovered);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) all = NULL;
  g_autoptr(GPtrArray) got = NULL;
  g_autoptr(GString) diff = g_string_new (NULL);
  g_autoptr(GError) error = NULL;

  ensure_device ();
  for (guint i = 0; i < want->len; i++)
    if (strcmp (g_ptr_array_index (want, i), "AdvertisingData") == 0)
      g_ptr_array_remove_index (want, i--);

  reply = sim_fixture_call_bluez (fx, ADAPTER, "org.bluez.Adapter1", "StartDiscovery",
                                  NULL, &error);
  if (reply == NULL)
    fail_msg ("StartDiscovery: %s", error->message);
  /* bluetoothd, as the simulator, sets RSSI when it hears the device's
   * first advertisement after StartDiscovery's answer: wait for that
   * (bounded; a device never heard fails below, without RSSI). */
  for (gint64 end = g_get_monotonic_time () + SIM_FIXTURE_TIMEOUT_MSEC * G_GINT64_CONSTANT (1000);;)
    {
      g_clear_pointer (&all, g_variant_unref);
      g_clear_pointer (&got, g_ptr_array_unref);
      all = objects ();
      got = sim_keys (all, device, DEVICE1);
      if ((got != NULL && g_ptr_array_find_with_equal_func (got, "RSSI", g_str_equal, NULL)) ||
          g_get_monotonic_time () > end)
        break;
      g_usleep (20 * 1000);
    }
  compare_keys (diff, "discovered Device1", want, got, TRUE);
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call_bluez (fx, ADAPTER, "org.bluez.Adapter1", "StopDiscovery",
                                  NULL, NULL);
  fail_on (diff, "A discovered device");
}

static void
test_connected (void **state)
{
  g_autoptr(JsonNode) paired = load_json ("device-props-connected-paired.json");
  g_autoptr(JsonNode) connected = load_json ("objects-connected.json");
  g_autoptr(GPtrArray) want_device = json_object_keys (paired);
  g_autoptr(GPtrArray) want_device_ifaces = NULL;
  g_autoptr(GPtrArray) got_device_ifaces = NULL;
  g_autoptr(GPtrArray) want_battery = NULL;
  g_autoptr(GPtrArray) got = NULL;
  g_autoptr(GPtrArray) service_keys = strings ("Device", "Includes", "Primary", "UUID", NULL);
  g_autoptr(GPtrArray) desc_keys = strings ("Characteristic", "UUID", "Value", NULL);
  g_autoptr(GVariant) all = NULL;
  g_autoptr(GString) diff = g_string_new (NULL);
  g_autofree char *prefix = NULL;
  const char *ref_device = "/org/bluez/hci0/dev_00_AA_01_01_00_01";
  guint chars = 0;

  ensure_connected_and_paired ();
  prefix = g_strconcat (device, "/", NULL);
  all = objects ();
  /* 5.82 lists each GATT object's ATT handle (objects-connected.json) */
  if (test_data_bluez_is_582 ())
    {
      g_ptr_array_add (service_keys, g_strdup ("Handle"));
      g_ptr_array_add (desc_keys, g_strdup ("Handle"));
    }

  for (guint i = 0; i < want_device->len; i++)
    if (strcmp (g_ptr_array_index (want_device, i), "AdvertisingData") == 0)
      g_ptr_array_remove_index (want_device, i--);
  got = sim_keys (all, device, DEVICE1);
  compare_keys (diff, "connected and paired Device1", want_device, got, TRUE);
  want_device_ifaces = json_keys (connected, ref_device, NULL);
  got_device_ifaces = sim_keys (all, device, NULL);
  compare_keys (diff, "device interfaces", want_device_ifaces, got_device_ifaces, FALSE);
  want_battery = json_keys (connected, ref_device, BATTERY1);
  g_clear_pointer (&got, g_ptr_array_unref);
  got = sim_keys (all, device, BATTERY1);
  compare_keys (diff, "Battery1", want_battery, got, FALSE);

  /* GATT objects, by kind; a characteristic's list depends on its flags
   * as in the reference: Notifying for notify or indicate, NotifyAcquired
   * for notify, WriteAcquired for write-without-response. */
  for (gsize o = 0; o < g_variant_n_children (all); o++)
    {
      g_autoptr(GVariant) ifaces = NULL;
      g_autoptr(GVariant) props = NULL;
      g_autoptr(GPtrArray) keys = NULL;
      const char *path = NULL;

      g_variant_get_child (all, o, "{&o@a{sa{sv}}}", &path, &ifaces);
      if (!g_str_has_prefix (path, prefix))
        continue;
      if ((props = g_variant_lookup_value (ifaces, SERVICE1, NULL)) != NULL)
        {
          keys = variant_keys (props);
          compare_keys (diff, path, service_keys, keys, FALSE);
        }
      else if ((props = g_variant_lookup_value (ifaces, DESC1, NULL)) != NULL)
        {
          keys = variant_keys (props);
          compare_keys (diff, path, desc_keys, keys, FALSE);
        }
      else if ((props = g_variant_lookup_value (ifaces, CHR1, NULL)) != NULL)
        {
          g_autofree const char **flags = NULL;
          g_autoptr(GPtrArray) want = strings ("Flags", "MTU", "Service", "UUID", "Value", NULL);

          chars++;
          if (test_data_bluez_is_582 ())
            g_ptr_array_add (want, g_strdup ("Handle"));
          g_variant_lookup (props, "Flags", "^a&s", &flags);
          if (flags == NULL)
            {
              g_string_append_printf (diff, "  %s: no Flags\n", path);
              continue;
            }
          if (g_strv_contains (flags, "notify") || g_strv_contains (flags, "indicate"))
            g_ptr_array_add (want, g_strdup ("Notifying"));
          if (g_strv_contains (flags, "notify"))
            g_ptr_array_add (want, g_strdup ("NotifyAcquired"));
          if (g_strv_contains (flags, "write-without-response"))
            g_ptr_array_add (want, g_strdup ("WriteAcquired"));
          keys = variant_keys (props);
          compare_keys (diff, path, want, keys, FALSE);
        }
    }
  if (chars < 8)
    g_string_append_printf (diff, "  only %u characteristics\n", chars);
  check_types (all, diff);
  fail_on (diff, "A connected, paired device");
}

static void
test_char_notify_acquired (void **state)
{
  static const char * const notify[] = { "notify", NULL };
  g_autoptr(JsonNode) reference = load_json ("char-props-notify-acquired.json");
  g_autoptr(GPtrArray) want = json_object_keys (reference);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) all = NULL;
  g_autoptr(GPtrArray) got = NULL;
  g_autoptr(GVariant) acquired = NULL;
  g_autoptr(GVariant) notifying = NULL;
  g_autoptr(GVariant) mtu = NULL;
  g_autoptr(GString) diff = g_string_new (NULL);
  g_autofree char *chr = NULL;
  JsonObject *ref = json_node_get_object (reference);

  ensure_connected_and_paired ();
  chr = sim_fixture_find_gatt (fx, device, CHR1, HEART_RATE_MEASUREMENT, notify, NULL);
  if (chr == NULL)
    fail_msg ("no heart rate measurement characteristic");
  reply = g_dbus_connection_call_with_unix_fd_list_sync (sim_fixture_get_connection (fx),
                                                         "org.bluez", chr, CHR1,
                                                         "AcquireNotify",
                                                         g_variant_new ("(a{sv})", NULL),
                                                         G_VARIANT_TYPE ("(hq)"),
                                                         G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC,
                                                         NULL, &fds, NULL, &error);
  if (reply == NULL)
    fail_msg ("AcquireNotify: %s", error->message);
  if (!sim_fixture_wait_property (fx, chr, CHR1, "NotifyAcquired",
                                  g_variant_new_boolean (TRUE), WAIT_MSEC))
    fail_msg ("NotifyAcquired did not become true");

  all = objects ();
  got = sim_keys (all, chr, CHR1);
  compare_keys (diff, "acquired characteristic", want, got, FALSE);
  acquired = sim_fixture_get_property (fx, chr, CHR1, "NotifyAcquired");
  notifying = sim_fixture_get_property (fx, chr, CHR1, "Notifying");
  mtu = sim_fixture_get_property (fx, chr, CHR1, "MTU");
  if (notifying == NULL ||
      g_variant_get_boolean (notifying) != json_object_get_boolean_member (ref, "Notifying"))
    g_string_append (diff, "  Notifying differs from the reference while acquired\n");
  if (acquired == NULL || !g_variant_get_boolean (acquired))
    g_string_append (diff, "  NotifyAcquired is not true\n");
  if (mtu == NULL || g_variant_get_uint16 (mtu) != json_object_get_int_member (ref, "MTU"))
    g_string_append_printf (diff, "  MTU is not %" G_GINT64_FORMAT "\n",
                            json_object_get_int_member (ref, "MTU"));

  g_clear_object (&fds);
  if (!sim_fixture_wait_property (fx, chr, CHR1, "NotifyAcquired",
                                  g_variant_new_boolean (FALSE), WAIT_MSEC))
    g_string_append (diff, "  NotifyAcquired stayed true after the fd was closed\n");
  fail_on (diff, "A characteristic under AcquireNotify");
}

/* A bonded device keeps its GATT objects after disconnecting, and loses
 * Battery1, as objects-after-disconnect.json shows. */
static void
test_after_disconnect (void **state)
{
  g_autoptr(JsonNode) after = load_json ("objects-after-disconnect.json");
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) all = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) diff = g_string_new (NULL);
  g_autoptr(GPtrArray) want_ifaces = json_keys (after, "/org/bluez/hci0/dev_00_AA_01_01_00_01", NULL);
  g_autoptr(GPtrArray) got_ifaces = NULL;
  g_autofree char *prefix = NULL;

  ensure_connected_and_paired ();
  prefix = g_strconcat (device, "/", NULL);
  before = objects ();
  reply = sim_fixture_call_bluez (fx, device, DEVICE1, "Disconnect", NULL, &error);
  if (reply == NULL)
    fail_msg ("Disconnect: %s", error->message);
  if (!sim_fixture_wait_property (fx, device, DEVICE1, "Connected",
                                  g_variant_new_boolean (FALSE), WAIT_MSEC))
    fail_msg ("Connected did not become false");
  all = objects ();

  got_ifaces = sim_keys (all, device, NULL);
  compare_keys (diff, "device interfaces after disconnect", want_ifaces, got_ifaces, FALSE);
  for (gsize o = 0; o < g_variant_n_children (before); o++)
    {
      g_autoptr(GVariant) still = NULL;
      const char *path = NULL;

      g_variant_get_child (before, o, "{&o@a{sa{sv}}}", &path, NULL);
      if (!g_str_has_prefix (path, prefix))
        continue;
      still = g_variant_lookup_value (all, path, NULL);
      if (still == NULL)
        g_string_append_printf (diff, "  %s is gone\n", path);
    }
  check_types (all, diff);
  fail_on (diff, "A bonded device after disconnecting");
}

static int
group_setup (void **state)
{
  declared = g_hash_table_new (g_str_hash, g_str_equal);
  node_infos = g_ptr_array_new_with_free_func ((GDestroyNotify) g_dbus_node_info_unref);
  load_declared ();
  if (!sim_fixture_start (&fx, &agent))
    return -1;
  return 0;
}

static int
group_teardown (void **state)
{
  g_clear_pointer (&agent, sim_agent_free);
  g_clear_pointer (&fx, sim_fixture_free);
  g_clear_pointer (&device, g_free);
  g_clear_pointer (&declared, g_hash_table_unref);
  g_clear_pointer (&node_infos, g_ptr_array_unref);
  return 0;
}

static void
test_load_references (void **state)
{
  assert_non_null (g_hash_table_lookup (declared, "org.bluez.Adapter1"));
  assert_non_null (g_hash_table_lookup (declared, DEVICE1));
  assert_non_null (g_hash_table_lookup (declared, CHR1));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_load_references),
    cmocka_unit_test (test_manager_and_adapter),
    cmocka_unit_test (test_types_idle),
    cmocka_unit_test (test_device_discovered),
    cmocka_unit_test (test_connected),
    cmocka_unit_test (test_char_notify_acquired),
    cmocka_unit_test (test_after_disconnect),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
