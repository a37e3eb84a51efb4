/* SPDX-License-Identifier: MIT */
/*
 * The object cache (lib/bleio-cache.c) without a bus: what each signal
 * does to it, the events it reports, what readers see, and that readers
 * on other threads never see a torn object while it changes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bleio-cache-private.h"

#define DEV "/org/bluez/hci0/dev_C0_FF_EE_00_00_01"

static GVariant *
parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *value = g_variant_parse (NULL, text, NULL, NULL, &error);

  if (value == NULL)
    fail_msg ("%s: %s", text, error->message);
  return value;
}

static void
add (BleioCache *cache,
     const char *path,
     const char *interfaces,
     GPtrArray  *events)
{
  g_autoptr(GVariant) value = parse (interfaces);

  bleio_cache_add_interfaces (cache, path, value, events);
}

static const BleioClientEvent *
event_at (GPtrArray *events,
          guint      i)
{
  assert_true (i < events->len);
  return g_ptr_array_index (events, i);
}

static void
assert_event (GPtrArray            *events,
              guint                 i,
              BleioClientEventKind  kind,
              const char           *path,
              const char           *interface)
{
  const BleioClientEvent *event = event_at (events, i);

  assert_int_equal (event->kind, kind);
  assert_string_equal (event->path, path);
  assert_string_equal (event->interface, interface);
}

static gint16
rssi_of (BleioCache *cache,
         const char *path)
{
  g_autoptr(GVariant) value = bleio_cache_dup_property (cache, path, "org.bluez.Device1", "RSSI");

  assert_non_null (value);
  assert_true (g_variant_is_of_type (value, G_VARIANT_TYPE_INT16));
  return g_variant_get_int16 (value);
}

/* InterfacesAdded: one ADDED per interface kept; the D-Bus standard
 * interfaces are not kept; values keep the type they came with. */
static void
test_cache_added (void **state)
{
  BleioCache *cache = bleio_cache_new ();
  g_autoptr(GPtrArray) events = bleio_cache_events_new ();
  g_autoptr(GVariant) name = NULL;
  g_autoptr(GVariant) odd = NULL;

  add (cache, DEV,
       "{'org.bluez.Device1': {'Address': <'C0:FF:EE:00:00:01'>, 'RSSI': <int16 -60>,"
       " 'Odd': <'not a number'>},"
       " 'org.freedesktop.DBus.Properties': @a{sv} {},"
       " 'org.freedesktop.DBus.Introspectable': @a{sv} {}}", events);
  assert_int_equal (events->len, 1);
  assert_event (events, 0, BLEIO_CLIENT_EVENT_ADDED, DEV, "org.bluez.Device1");
  assert_null (event_at (events, 0)->changed);
  assert_int_equal (bleio_cache_count_objects (cache), 1);
  assert_true (bleio_cache_has_interface (cache, DEV, "org.bluez.Device1"));
  assert_false (bleio_cache_has_interface (cache, DEV, "org.freedesktop.DBus.Properties"));
  assert_int_equal (rssi_of (cache, DEV), -60);
  name = bleio_cache_dup_property (cache, DEV, "org.bluez.Device1", "Name");
  assert_null (name);
  odd = bleio_cache_dup_property (cache, DEV, "org.bluez.Device1", "Odd");
  assert_string_equal (g_variant_get_string (odd, NULL), "not a number");

  /* Only the standard interfaces: no object at all. */
  add (cache, "/org/bluez", "{'org.freedesktop.DBus.Introspectable': @a{sv} {}}", events);
  assert_int_equal (events->len, 1);
  assert_int_equal (bleio_cache_count_objects (cache), 1);
  bleio_cache_free (cache);
}

/* PropertiesChanged: values replaced, invalidated ones dropped, one
 * CHANGED carrying the dictionary; ignored for what the cache lacks. */
static void
test_cache_changed (void **state)
{
  BleioCache *cache = bleio_cache_new ();
  g_autoptr(GPtrArray) events = bleio_cache_events_new ();
  g_autoptr(GVariant) changed = parse ("{'RSSI': <int16 -40>, 'Name': <'Thermo'>}");
  g_autoptr(GVariant) not_a_dict = g_variant_ref_sink (g_variant_new_int32 (7));
  g_autoptr(GVariant) name = NULL;
  g_autoptr(GVariant) tx = NULL;
  const char *invalidated[] = { "TxPower", NULL };
  gint16 rssi = 0;

  add (cache, DEV, "{'org.bluez.Device1': {'RSSI': <int16 -60>, 'TxPower': <int16 4>}}", events);
  g_ptr_array_set_size (events, 0);

  bleio_cache_change_properties (cache, DEV, "org.bluez.Device1", changed, invalidated, events);
  assert_int_equal (events->len, 1);
  assert_event (events, 0, BLEIO_CLIENT_EVENT_CHANGED, DEV, "org.bluez.Device1");
  assert_true (g_variant_lookup (event_at (events, 0)->changed, "RSSI", "n", &rssi));
  assert_int_equal (rssi, -40);
  assert_int_equal (rssi_of (cache, DEV), -40);
  name = bleio_cache_dup_property (cache, DEV, "org.bluez.Device1", "Name");
  assert_string_equal (g_variant_get_string (name, NULL), "Thermo");
  tx = bleio_cache_dup_property (cache, DEV, "org.bluez.Device1", "TxPower");
  assert_null (tx);

  /* Unknown object, unknown interface, a non-dictionary: no event. */
  bleio_cache_change_properties (cache, DEV "/nope", "org.bluez.Device1", changed, NULL, events);
  bleio_cache_change_properties (cache, DEV, "org.bluez.Battery1", changed, NULL, events);
  bleio_cache_change_properties (cache, DEV, "org.bluez.Device1", not_a_dict, NULL, events);
  assert_int_equal (events->len, 1);
  assert_int_equal (rssi_of (cache, DEV), -40);
  bleio_cache_free (cache);
}

/* A dictionary of separately made values (as bleio-wire makes them).
 * With values of their own the cache keeps each one, made compact, and
 * does not copy it; with views into a message (GDBus's, the default) it
 * keeps a copy. */
static void
test_cache_values_own (void **state)
{
  for (int own = 0; own <= 1; own++)
    {
      BleioCache *cache = bleio_cache_new ();
      g_autoptr(GPtrArray) events = bleio_cache_events_new ();
      const guint8 bytes[] = { 1, 2, 3 };
      GVariant *value = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                       bytes, 3, 1));
      GVariant *uuids[] = { g_variant_new_string ("180f"), g_variant_new_string ("180a") };
      GVariant *list = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE_STRING, uuids, 2));
      GVariant *entries[] = {
        g_variant_new_dict_entry (g_variant_new_string ("Value"), g_variant_new_variant (value)),
        g_variant_new_dict_entry (g_variant_new_string ("UUIDs"), g_variant_new_variant (list)),
      };
      g_autoptr(GVariant) changed = g_variant_ref_sink (g_variant_new_array (NULL, entries, 2));
      g_autoptr(GVariant) stored = NULL;
      g_autoptr(GVariant) stored_list = NULL;
      g_autoptr(GVariant) expected = parse ("['180f', '180a']");
      gsize n = 0;

      bleio_cache_set_values_own (cache, own);
      add (cache, DEV, "{'org.bluez.Device1': {'RSSI': <int16 -60>}}", events);
      bleio_cache_change_properties (cache, DEV, "org.bluez.Device1", changed, NULL, events);
      stored = bleio_cache_dup_property (cache, DEV, "org.bluez.Device1", "Value");
      stored_list = bleio_cache_dup_property (cache, DEV, "org.bluez.Device1", "UUIDs");
      assert_memory_equal (g_variant_get_fixed_array (stored, &n, 1), bytes, 3);
      assert_int_equal (n, 3);
      assert_true (g_variant_equal (stored_list, expected));
      if (own)
        {
          assert_ptr_equal (stored, value);
          assert_ptr_equal (stored_list, list);
        }
      else
        {
          assert_ptr_not_equal (stored, value);
          assert_ptr_not_equal (stored_list, list);
        }
      g_variant_unref (value);
      g_variant_unref (list);
      bleio_cache_free (cache);
    }
}

/* InterfacesAdded again for an interface the object has: its values
 * win, reported as a change of them (a device re-announced with
 * Connected false is a disconnect to the connection watching it). */
static void
test_cache_added_again (void **state)
{
  BleioCache *cache = bleio_cache_new ();
  g_autoptr(GPtrArray) events = bleio_cache_events_new ();
  gboolean connected = TRUE;

  add (cache, DEV, "{'org.bluez.Device1': {'Connected': <true>, 'RSSI': <int16 -60>}}", events);
  add (cache, DEV, "{'org.bluez.Device1': {'Connected': <false>},"
                   " 'org.bluez.Battery1': {'Percentage': <byte 98>}}", events);
  assert_int_equal (events->len, 3);
  assert_event (events, 1, BLEIO_CLIENT_EVENT_CHANGED, DEV, "org.bluez.Device1");
  assert_true (g_variant_lookup (event_at (events, 1)->changed, "Connected", "b", &connected));
  assert_false (connected);
  assert_event (events, 2, BLEIO_CLIENT_EVENT_ADDED, DEV, "org.bluez.Battery1");
  /* Values not named again are kept. */
  assert_int_equal (rssi_of (cache, DEV), -60);
  assert_int_equal (bleio_cache_count_objects (cache), 1);
  bleio_cache_free (cache);
}

/* InterfacesRemoved: one REMOVED per interface the object had; the
 * object goes with its last interface. */
static void
test_cache_removed (void **state)
{
  BleioCache *cache = bleio_cache_new ();
  g_autoptr(GPtrArray) events = bleio_cache_events_new ();
  const char *battery[] = { "org.bluez.Battery1", "org.bluez.Nothing1", NULL };
  const char *device[] = { "org.bluez.Device1", NULL };

  add (cache, DEV, "{'org.bluez.Device1': {'RSSI': <int16 -60>},"
                   " 'org.bluez.Battery1': {'Percentage': <byte 98>}}", events);
  g_ptr_array_set_size (events, 0);

  bleio_cache_remove_interfaces (cache, DEV, battery, events);
  assert_int_equal (events->len, 1);
  assert_event (events, 0, BLEIO_CLIENT_EVENT_REMOVED, DEV, "org.bluez.Battery1");
  assert_false (bleio_cache_has_interface (cache, DEV, "org.bluez.Battery1"));
  assert_int_equal (rssi_of (cache, DEV), -60);

  bleio_cache_remove_interfaces (cache, DEV, device, events);
  assert_int_equal (events->len, 2);
  assert_event (events, 1, BLEIO_CLIENT_EVENT_REMOVED, DEV, "org.bluez.Device1");
  assert_int_equal (bleio_cache_count_objects (cache), 0);
  {
    g_autoptr(GPtrArray) paths = bleio_cache_list_paths (cache, "org.bluez.Device1", NULL);

    assert_int_equal (paths->len, 0);
  }
  /* Again, and for an unknown object: nothing. */
  bleio_cache_remove_interfaces (cache, DEV, device, events);
  bleio_cache_remove_interfaces (cache, "/elsewhere", device, events);
  assert_int_equal (events->len, 2);
  bleio_cache_free (cache);
}

/* GetManagedObjects, then listing: by interface, under a prefix only,
 * shorter paths first so that handles sort numerically. */
static void
test_cache_load_and_list (void **state)
{
  BleioCache *cache = bleio_cache_new ();
  g_autoptr(GPtrArray) events = bleio_cache_events_new ();
  g_autoptr(GVariant) objects = parse (
    "{objectpath '/org/bluez/hci10': {'org.bluez.Adapter1': {'Powered': <true>}},"
    " '/org/bluez/hci2': {'org.bluez.Adapter1': {'Powered': <true>}},"
    " '" DEV "/service000a': {'org.bluez.GattService1': {'UUID': <'180f'>}},"
    " '" DEV "/service0009': {'org.bluez.GattService1': {'UUID': <'180a'>}},"
    " '" DEV "/service0009/char000b': {'org.bluez.GattCharacteristic1': {'UUID': <'2a19'>}},"
    " '" DEV "_2/service0001': {'org.bluez.GattService1': {'UUID': <'1800'>}},"
    " '" DEV "': {'org.bluez.Device1': {'RSSI': <int16 -1>}}}");
  g_autoptr(GPtrArray) adapters = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(GPtrArray) chars = NULL;
  g_autoptr(GVariant) wrong = g_variant_ref_sink (g_variant_new_int32 (1));

  bleio_cache_load (cache, objects, events);
  assert_int_equal (events->len, 7);
  for (guint i = 0; i < events->len; i++)
    assert_int_equal (event_at (events, i)->kind, BLEIO_CLIENT_EVENT_ADDED);
  assert_int_equal (bleio_cache_count_objects (cache), 7);

  adapters = bleio_cache_list_paths (cache, "org.bluez.Adapter1", NULL);
  assert_int_equal (adapters->len, 2);
  assert_string_equal (g_ptr_array_index (adapters, 0), "/org/bluez/hci2");
  assert_string_equal (g_ptr_array_index (adapters, 1), "/org/bluez/hci10");

  /* Not DEV_2's service, not the characteristic's interface. */
  services = bleio_cache_list_paths (cache, "org.bluez.GattService1", DEV);
  assert_int_equal (services->len, 2);
  assert_string_equal (g_ptr_array_index (services, 0), DEV "/service0009");
  assert_string_equal (g_ptr_array_index (services, 1), DEV "/service000a");
  chars = bleio_cache_list_paths (cache, "org.bluez.GattCharacteristic1", DEV "/service0009");
  assert_int_equal (chars->len, 1);

  /* A reply of another type changes nothing. */
  bleio_cache_load (cache, wrong, events);
  assert_int_equal (events->len, 7);
  bleio_cache_free (cache);
}

/* Clearing (bluetoothd left): a REMOVED for every interface. */
static void
test_cache_clear (void **state)
{
  BleioCache *cache = bleio_cache_new ();
  g_autoptr(GPtrArray) events = bleio_cache_events_new ();
  guint removed = 0;

  add (cache, "/org/bluez/hci0", "{'org.bluez.Adapter1': @a{sv} {},"
                                 " 'org.bluez.GattManager1': @a{sv} {}}", events);
  add (cache, DEV, "{'org.bluez.Device1': {'RSSI': <int16 -60>}}", events);
  g_ptr_array_set_size (events, 0);
  bleio_cache_clear (cache, events);
  for (guint i = 0; i < events->len; i++)
    if (event_at (events, i)->kind == BLEIO_CLIENT_EVENT_REMOVED)
      removed++;
  assert_int_equal (removed, 3);
  assert_int_equal (events->len, 3);
  assert_int_equal (bleio_cache_count_objects (cache), 0);
  assert_false (bleio_cache_has_interface (cache, DEV, "org.bluez.Device1"));
  /* Usable again afterwards. */
  add (cache, DEV, "{'org.bluez.Device1': {'RSSI': <int16 -61>}}", events);
  assert_int_equal (rssi_of (cache, DEV), -61);
  bleio_cache_free (cache);
}

/* The index a scan entry is made from, filled from the cache. */
static void
test_cache_fill_index (void **state)
{
  static const char * const keys[] = { "Address", "RSSI", "Name" };
  BleioCache *cache = bleio_cache_new ();
  g_autoptr(GPtrArray) events = bleio_cache_events_new ();
  g_autoptr(GVariant) rssi = NULL;
  g_autoptr(GVariant) name = NULL;
  BleioPropIndex index;

  add (cache, DEV, "{'org.bluez.Device1': {'Address': <'C0:FF:EE:00:00:01'>,"
                   " 'RSSI': <int16 -60>, 'Paired': <false>}}", events);
  assert_true (bleio_cache_fill_index (cache, DEV, "org.bluez.Device1", &index,
                                       keys, G_N_ELEMENTS (keys)));
  assert_int_equal (index.n, 2);
  rssi = bleio_prop_index_lookup (&index, "RSSI", G_VARIANT_TYPE_INT16);
  assert_int_equal (g_variant_get_int16 (rssi), -60);
  name = bleio_prop_index_lookup (&index, "Name", NULL);
  assert_null (name);
  bleio_prop_index_clear (&index);

  assert_false (bleio_cache_fill_index (cache, DEV, "org.bluez.Battery1", &index,
                                        keys, G_N_ELEMENTS (keys)));
  assert_int_equal (index.n, 0);
  bleio_cache_free (cache);
}

/* One writer changing a device while other threads read it: every read
 * sees a whole value (RSSI and TxPower are written together, as one
 * PropertiesChanged, so a reader must see them equal). */
typedef struct {
  BleioCache *cache;
  gint stop;
  gint torn;
  gint reads;
} Race;

static gpointer
reader_main (gpointer data)
{
  static const char * const keys[] = { "RSSI", "TxPower" };
  Race *race = data;

  while (!g_atomic_int_get (&race->stop))
    {
      BleioPropIndex index;

      if (bleio_cache_fill_index (race->cache, DEV, "org.bluez.Device1", &index, keys, 2) &&
          index.n == 2 &&
          g_variant_get_int16 (index.values[0]) != g_variant_get_int16 (index.values[1]))
        g_atomic_int_inc (&race->torn);
      bleio_prop_index_clear (&index);
      {
        g_autoptr(GPtrArray) paths = bleio_cache_list_paths (race->cache, "org.bluez.Device1", NULL);

        g_assert (paths->len <= 1);
      }
      g_atomic_int_inc (&race->reads);
    }
  return NULL;
}

static void
test_cache_threads (void **state)
{
  Race race = { bleio_cache_new (), 0, 0, 0 };
  g_autoptr(GPtrArray) events = bleio_cache_events_new ();
  GThread *readers[2];
  const char *device[] = { "org.bluez.Device1", NULL };

  for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
    readers[i] = g_thread_new ("reader", reader_main, &race);
  for (guint round = 0; round < 20000 || g_atomic_int_get (&race.reads) < 1000; round++)
    {
      g_autoptr(GVariant) changed = NULL;
      gint16 v = (gint16) (round % 100);

      if (round % 50 == 0)
        {
          bleio_cache_remove_interfaces (race.cache, DEV, device, events);
          add (race.cache, DEV, "{'org.bluez.Device1': {'RSSI': <int16 0>, 'TxPower': <int16 0>}}",
               events);
        }
      changed = g_variant_ref_sink (g_variant_new_parsed ("{'RSSI': <%n>, 'TxPower': <%n>}", v, v));
      bleio_cache_change_properties (race.cache, DEV, "org.bluez.Device1", changed, NULL, events);
      g_ptr_array_set_size (events, 0);
    }
  g_atomic_int_set (&race.stop, TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
    g_thread_join (readers[i]);
  assert_int_equal (race.torn, 0);
  assert_true (race.reads >= 1000);
  bleio_cache_free (race.cache);
}

static void
assert_found (BleioCache *cache,
              const char *address,
              const char *first,
              const char *second)
{
  g_autoptr(GPtrArray) paths = bleio_cache_find_address (cache, address);

  assert_int_equal (paths->len, (first != NULL) + (second != NULL));
  if (first != NULL)
    assert_string_equal (g_ptr_array_index (paths, 0), first);
  if (second != NULL)
    assert_string_equal (g_ptr_array_index (paths, 1), second);
}

/* The address index follows every way a Device1's Address can come, change
 * and go; case does not matter, and one address may be on two adapters. */
static void
test_cache_find_address (void **state)
{
  BleioCache *cache = bleio_cache_new ();
  g_autoptr(GPtrArray) events = bleio_cache_events_new ();
  const char *other = "/org/bluez/hci1/dev_C0_FF_EE_00_00_01";
  const char *gone[] = { "org.bluez.Device1", NULL };
  const char *invalidated[] = { "Address", NULL };
  g_autoptr(GVariant) changed = parse ("{'Address': <'C0:FF:EE:00:00:02'>}");
  g_autoptr(GVariant) wrong = parse ("{'Address': <uint32 7>}");
  g_autoptr(GVariant) empty = parse ("@a{sv} {}");
  g_autoptr(GVariant) objects = parse ("{objectpath '/org/bluez/hci0/dev_A': "
                                       "{'org.bluez.Device1': {'Address': <'aa:bb:cc:dd:ee:ff'>}}}");

  assert_found (cache, "C0:FF:EE:00:00:01", NULL, NULL);
  add (cache, DEV, "{'org.bluez.Device1': {'Address': <'C0:FF:EE:00:00:01'>}}", events);
  add (cache, DEV "/service0001", "{'org.bluez.GattService1': {'Primary': <true>}}", events);
  add (cache, other, "{'org.bluez.Device1': {'Address': <'c0:ff:ee:00:00:01'>}}", events);
  assert_found (cache, "c0:ff:ee:00:00:01", DEV, other);

  /* Changed, given a wrong type, invalidated, given back. */
  bleio_cache_change_properties (cache, other, "org.bluez.Device1", changed, NULL, events);
  assert_found (cache, "C0:FF:EE:00:00:01", DEV, NULL);
  assert_found (cache, "C0:FF:EE:00:00:02", other, NULL);
  bleio_cache_change_properties (cache, other, "org.bluez.Device1", wrong, NULL, events);
  assert_found (cache, "C0:FF:EE:00:00:02", NULL, NULL);
  bleio_cache_change_properties (cache, other, "org.bluez.Device1", changed, NULL, events);
  bleio_cache_change_properties (cache, other, "org.bluez.Device1", empty, invalidated, events);
  assert_found (cache, "C0:FF:EE:00:00:02", NULL, NULL);

  /* An Address on another interface is not a device's. */
  add (cache, other, "{'org.bluez.Battery1': {'Address': <'C0:FF:EE:00:00:03'>}}", events);
  assert_found (cache, "C0:FF:EE:00:00:03", NULL, NULL);

  /* The interface removed while the object stays, then the object. */
  bleio_cache_remove_interfaces (cache, DEV, gone, events);
  assert_found (cache, "C0:FF:EE:00:00:01", NULL, NULL);
  add (cache, DEV, "{'org.bluez.Device1': {'Address': <'C0:FF:EE:00:00:01'>}}", events);
  assert_found (cache, "C0:FF:EE:00:00:01", DEV, NULL);

  bleio_cache_load (cache, objects, events);
  assert_found (cache, "AA:BB:CC:DD:EE:FF", "/org/bluez/hci0/dev_A", NULL);
  bleio_cache_clear (cache, events);
  assert_found (cache, "AA:BB:CC:DD:EE:FF", NULL, NULL);
  assert_found (cache, "C0:FF:EE:00:00:01", NULL, NULL);
  bleio_cache_free (cache);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_cache_added),
    cmocka_unit_test (test_cache_changed),
    cmocka_unit_test (test_cache_values_own),
    cmocka_unit_test (test_cache_added_again),
    cmocka_unit_test (test_cache_removed),
    cmocka_unit_test (test_cache_load_and_list),
    cmocka_unit_test (test_cache_clear),
    cmocka_unit_test (test_cache_fill_index),
    cmocka_unit_test (test_cache_find_address),
    cmocka_unit_test (test_cache_threads),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
