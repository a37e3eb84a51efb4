/* SPDX-License-Identifier: MIT */
/*
 * The object cache (lib/bleio-cache.c) driven through an arbitrary
 * sequence of the signals a broken or hostile bluetoothd can send:
 * InterfacesAdded, InterfacesRemoved, PropertiesChanged, GetManagedObjects
 * replies and bluetoothd leaving, with reads in between. Each step is
 *
 *   op, path, interface, type selector, length (2 bytes, little endian),
 *   that many payload bytes (fewer at the end of the input)
 *
 * where path and interface pick from realistic BlueZ names (and odd ones:
 * the cache stores whatever it is given), and the payload is the GVariant
 * the signal carries (g_variant_new_from_data, untrusted; a wrong type for
 * some selectors).
 *
 * After every step a shadow model, built only from the events the cache
 * reported, must agree with what the readers say: so an ADDED event is
 * for an interface the object did not have, a REMOVED for one it had, and
 * no change goes unreported. The values stored are checked against the
 * last ones the step sent.
 */
#include "fuzz-common.h"

#include <string.h>

#include "bleio-cache-private.h"
#include "bleio-private.h"

#define DEV0 "/org/bluez/hci0/dev_00_AA_01_01_00_01"

static const char *const paths[] = {
  "/org/bluez/hci0",
  "/org/bluez/hci1",
  "/org/bluez/hci2",
  "/org/bluez/hci10",
  DEV0,
  "/org/bluez/hci0/dev_00_AA_01_01_00_02",
  "/org/bluez/hci1/dev_C0_FF_EE_00_00_01",
  DEV0 "/service0009",
  DEV0 "/service0009/char000a",
  DEV0 "/service0009/char000a/desc000c",
  DEV0 "/service000a",
  DEV0 "/service000a/char000b",
  "/",
  "/org/bluez",
  /* Odd ones: sorted between hci0 and hci0/ by strcmp ('-' < '/'), a
   * longer sibling, a trailing slash, nothing at all, a non-path. */
  "/org/bluez/hci0-x",
  "/org/bluez/hci00",
  "/org/bluez/hci0/",
  "",
  "hci0",
  DEV0 "/service0009/char000a/desc000c/x",
};

/* The prefixes list_paths is asked for (adapters and devices, as the
 * library asks, and odd ones). */
static const char *const prefixes[] = {
  "/org/bluez/hci0",
  "/org/bluez/hci1",
  DEV0,
  DEV0 "/service0009",
  "/org/bluez",
  "/",
  "",
  "/org/bluez/hci0-x",
};

static const char *const interfaces[] = {
  "org.bluez.Adapter1",
  "org.bluez.Device1",
  "org.bluez.GattService1",
  "org.bluez.GattCharacteristic1",
  "org.bluez.GattDescriptor1",
  "org.bluez.Battery1",
  "org.bluez.AgentManager1",
  "org.bluez.LEAdvertisingManager1",
  "org.freedesktop.DBus.Properties",
  "org.freedesktop.DBus.Introspectable",
  "org.freedesktop.DBus.ObjectManager",
  /* Not under org.freedesktop.DBus.: kept. */
  "org.freedesktop.DBus",
  "org.freedesktop.DBusX",
  "",
  "org.bluez.Device1.x",
};

static const char *const keys[] = {
  "Address", "AddressType", "Name", "Alias", "RSSI", "TxPower", "Connected",
  "ServicesResolved", "Paired", "UUID", "UUIDs", "Value", "Flags", "MTU",
  "Primary", "Powered", "ManufacturerData", "ServiceData", "Adapter",
  "Device", "Service", "Characteristic", "Handle", "",
};

static const char *const add_types[] = {
  "a{sa{sv}}", "a{sa{ss}}", "a{sv}", "(sa{sv})", "a{oa{sa{sv}}}",
};
static const char *const props_types[] = {
  "a{sv}", "a{ss}", "a{sa{sv}}", "as", "v",
};
static const char *const change_types[] = {
  "(a{sv}as)", "(a{ss}as)", "a{sv}", "(a{sv})", "(sa{sv}as)",
};
static const char *const load_types[] = {
  "a{oa{sa{sv}}}", "a{sa{sa{sv}}}", "a{sa{sv}}", "a{oa{sv}}", "(a{oa{sa{sv}}})",
};

typedef struct {
  const guint8 *data;
  gsize size;
  gsize pos;
} Reader;

static guint8
take_byte (Reader *r)
{
  return r->pos < r->size ? r->data[r->pos++] : 0;
}

/* The payload: a length then up to that many bytes. */
static const guint8 *
take_payload (Reader *r,
              gsize  *len)
{
  gsize want = take_byte (r);
  const guint8 *start;

  want |= (gsize) take_byte (r) << 8;
  *len = MIN (want, r->size - r->pos);
  start = r->data + r->pos;
  r->pos += *len;
  return start;
}

#define PICK(array, byte) ((array)[(byte) % G_N_ELEMENTS (array)])

/* The shadow: path -> set of interface names, from the events alone. */
typedef struct {
  GHashTable *objects;          /* char* -> GHashTable* (char* set) */
  GHashTable *seen;             /* every interface name ever ADDED */
} Shadow;

static gboolean
shadow_has (Shadow     *shadow,
            const char *path,
            const char *interface)
{
  GHashTable *set = g_hash_table_lookup (shadow->objects, path);

  return set != NULL && g_hash_table_contains (set, interface);
}

static void
shadow_apply (Shadow    *shadow,
              GPtrArray *events)
{
  for (guint i = 0; i < events->len; i++)
    {
      const BleioClientEvent *event = g_ptr_array_index (events, i);
      GHashTable *set;

      fuzz_check (event->path != NULL && event->interface != NULL, "an event names its object");
      set = g_hash_table_lookup (shadow->objects, event->path);
      switch (event->kind)
        {
        case BLEIO_CLIENT_EVENT_ADDED:
          fuzz_check (!g_str_has_prefix (event->interface, "org.freedesktop.DBus."),
                      "org.freedesktop.DBus.* interfaces are not kept");
          fuzz_check (!shadow_has (shadow, event->path, event->interface),
                      "ADDED only for an interface the object did not have");
          fuzz_check (event->changed == NULL, "ADDED carries no values");
          if (set == NULL)
            {
              set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
              g_hash_table_insert (shadow->objects, g_strdup (event->path), set);
            }
          g_hash_table_add (set, g_strdup (event->interface));
          g_hash_table_add (shadow->seen, g_strdup (event->interface));
          break;
        case BLEIO_CLIENT_EVENT_REMOVED:
          fuzz_check (shadow_has (shadow, event->path, event->interface),
                      "REMOVED only for an interface the object had");
          fuzz_check (event->changed == NULL, "REMOVED carries no values");
          g_hash_table_remove (set, event->interface);
          if (g_hash_table_size (set) == 0)
            g_hash_table_remove (shadow->objects, event->path);
          break;
        case BLEIO_CLIENT_EVENT_CHANGED:
          fuzz_check (shadow_has (shadow, event->path, event->interface),
                      "CHANGED only for an interface the object has");
          fuzz_check (event->changed != NULL &&
                      g_variant_is_of_type (event->changed, G_VARIANT_TYPE_VARDICT),
                      "CHANGED carries an a{sv}");
          break;
        default:
          fuzz_check (FALSE, "the cache reports only ADDED, REMOVED and CHANGED");
        }
    }
}


/* The cache agrees with the shadow, through every reader. */
/* The address index agrees with the Device1 values: every device is
 * found by its Address (a string), and only such devices, in order. */
static void
check_addresses (BleioCache *cache)
{
  g_autoptr(GPtrArray) devices = bleio_cache_list_paths (cache, "org.bluez.Device1", NULL);

  for (guint i = 0; i < devices->len; i++)
    {
      const char *path = g_ptr_array_index (devices, i);
      g_autoptr(GVariant) address = bleio_cache_dup_property (cache, path, "org.bluez.Device1",
                                                              "Address");
      g_autoptr(GPtrArray) found = NULL;
      gboolean listed = FALSE;

      if (address == NULL || !g_variant_is_of_type (address, G_VARIANT_TYPE_STRING))
        continue;
      found = bleio_cache_find_address (cache, g_variant_get_string (address, NULL));
      for (guint j = 0; j < found->len; j++)
        {
          const char *other = g_ptr_array_index (found, j);
          g_autoptr(GVariant) value = bleio_cache_dup_property (cache, other, "org.bluez.Device1",
                                                                "Address");

          listed |= g_str_equal (other, path);
          fuzz_check (value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING) &&
                      g_ascii_strcasecmp (g_variant_get_string (value, NULL),
                                          g_variant_get_string (address, NULL)) == 0,
                      "find_address finds only devices with that Address");
          fuzz_check (j == 0 || bleio_cache_path_compare (&g_ptr_array_index (found, j - 1),
                                                          &g_ptr_array_index (found, j)) < 0,
                      "find_address is sorted, no path twice");
        }
      fuzz_check (listed, "find_address finds every device by its Address");
    }
}

static void
check_invariants (BleioCache *cache,
                  Shadow     *shadow)
{
  g_autoptr(GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) all_paths = NULL;
  GHashTableIter it;
  gpointer key, value;

  /* Every interface ever seen, listed with and without prefixes. */
  all_paths = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  g_hash_table_iter_init (&it, shadow->seen);
  while (g_hash_table_iter_next (&it, &key, NULL))
    {
      const char *interface = key;
      GPtrArray *list = bleio_cache_list_paths (cache, interface, NULL);
      guint expected = 0;
      GHashTableIter oit;
      gpointer set;

      g_ptr_array_add (all_paths, list);
      for (guint i = 0; i < list->len; i++)
        {
          const char *path = g_ptr_array_index (list, i);

          fuzz_check (bleio_cache_has_interface (cache, path, interface),
                      "a listed object has the interface");
          fuzz_check (shadow_has (shadow, path, interface),
                      "a listed object was reported ADDED");
          fuzz_check (i == 0 || bleio_cache_path_compare (&g_ptr_array_index (list, i - 1),
                                            &g_ptr_array_index (list, i)) < 0,
                      "list_paths is sorted, no path twice");
          g_hash_table_add (listed, (gpointer) path);
        }
      g_hash_table_iter_init (&oit, shadow->objects);
      while (g_hash_table_iter_next (&oit, NULL, &set))
        expected += g_hash_table_contains (set, interface);
      fuzz_check (list->len == expected, "list_paths lists every object with the interface");

      for (gsize p = 0; p < G_N_ELEMENTS (prefixes); p++)
        {
          g_autoptr(GPtrArray) under = bleio_cache_list_paths (cache, interface, prefixes[p]);
          g_autofree char *slash = g_strconcat (prefixes[p], "/", NULL);
          guint n = 0;

          for (guint i = 0; i < under->len; i++)
            {
              const char *path = g_ptr_array_index (under, i);

              fuzz_check (g_str_has_prefix (path, slash), "a path listed under a prefix is under it");
              fuzz_check (shadow_has (shadow, path, interface),
                          "a path listed under a prefix has the interface");
              fuzz_check (i == 0 || bleio_cache_path_compare (&g_ptr_array_index (under, i - 1),
                                                &g_ptr_array_index (under, i)) < 0,
                          "list_paths under a prefix is sorted, no path twice");
            }
          for (guint i = 0; i < list->len; i++)
            n += g_str_has_prefix (g_ptr_array_index (list, i), slash);
          fuzz_check (n == under->len, "list_paths under a prefix misses none");
        }
    }

  fuzz_check (bleio_cache_count_objects (cache) == g_hash_table_size (listed),
              "count_objects is the number of distinct listed paths");
  fuzz_check (bleio_cache_count_objects (cache) == g_hash_table_size (shadow->objects),
              "count_objects is the number of objects reported ADDED and not REMOVED");

  /* Every interface the shadow holds is there with an a{sv}. */
  g_hash_table_iter_init (&it, shadow->objects);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      GHashTableIter sit;
      gpointer interface;

      g_hash_table_iter_init (&sit, value);
      while (g_hash_table_iter_next (&sit, &interface, NULL))
        {
          BleioPropIndex index;

          fuzz_check (bleio_cache_has_interface (cache, key, interface),
                      "an interface reported ADDED and not REMOVED is there");
          fuzz_check (bleio_cache_fill_index (cache, key, interface, &index, NULL, 0) &&
                      index.n == 0,
                      "fill_index of a present interface succeeds");
        }
    }

  /* And nothing else is, on the fixed names. */
  for (gsize p = 0; p < G_N_ELEMENTS (paths); p++)
    for (gsize i = 0; i < G_N_ELEMENTS (interfaces); i++)
      if (!shadow_has (shadow, paths[p], interfaces[i]))
        {
          fuzz_check (!bleio_cache_has_interface (cache, paths[p], interfaces[i]),
                      "an interface never reported ADDED (or REMOVED since) is absent");
          {
            BleioPropIndex index;

            fuzz_check (!bleio_cache_fill_index (cache, paths[p], interfaces[i], &index,
                                                 keys, G_N_ELEMENTS (index.names)) &&
                        index.n == 0,
                        "fill_index of an absent interface fails and gives nothing");
          }
          fuzz_check (bleio_cache_dup_property (cache, paths[p], interfaces[i], "Address") == NULL,
                      "dup_property of an absent interface is NULL");
        }

  check_addresses (cache);
}

/* The values a step sent: "path\ninterface\nproperty" -> value (the last
 * one sent for it), or NULL for one invalidated after it. */
static GHashTable *
expect_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                (GDestroyNotify) g_variant_unref);
}

static void
expect_dict (GHashTable *expect,
             const char *path,
             const char *interface,
             GVariant   *dict)
{
  GVariantIter iter;
  const char *name;
  GVariant *value;

  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    g_hash_table_replace (expect, g_strjoin ("\n", path, interface, name, NULL), value);
}

static void
expect_interfaces (GHashTable *expect,
                   const char *path,
                   GVariant   *ifaces)
{
  GVariantIter iter;
  const char *name;
  GVariant *props;

  g_variant_iter_init (&iter, ifaces);
  while (g_variant_iter_next (&iter, "{&s@a{sv}}", &name, &props))
    {
      expect_dict (expect, path, name, props);
      g_variant_unref (props);
    }
}

/* Each value sent is what dup_property gives now, if the interface is
 * kept at all (org.freedesktop.DBus.* are not), and what fill_index
 * gives. */
static void
check_expected (BleioCache *cache,
                GHashTable *expect,
                GHashTable *gone)
{
  GHashTableIter it;
  gpointer key, value;

  g_hash_table_iter_init (&it, expect);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      g_auto(GStrv) parts = g_strsplit (key, "\n", 3);
      g_autoptr(GVariant) stored = NULL;
      BleioPropIndex index = { 0 };
      const char *one[1];

      /* A path or interface holding a newline is cut at the wrong place:
       * nothing to compare then. */
      if (g_strv_length (parts) != 3 || strchr (parts[2], '\n') != NULL)
        continue;
      if (!bleio_cache_has_interface (cache, parts[0], parts[1]))
        {
          fuzz_check (g_str_has_prefix (parts[1], "org.freedesktop.DBus."),
                      "an interface values were sent for is there");
          continue;
        }
      stored = bleio_cache_dup_property (cache, parts[0], parts[1], parts[2]);
      if (g_hash_table_contains (gone, key))
        {
          fuzz_check (stored == NULL, "an invalidated property is gone");
          continue;
        }
      fuzz_check (stored != NULL && g_variant_equal (stored, value),
                  "the value sent last for a property is the one stored");
      one[0] = parts[2];
      fuzz_check (bleio_cache_fill_index (cache, parts[0], parts[1], &index, one, 1),
                  "fill_index finds a present interface");
      fuzz_check (index.n == 1 && index.names[0] == one[0] &&
                  g_variant_equal (index.values[0], value),
                  "fill_index gives the stored value");
      bleio_prop_index_clear (&index);
    }
}

static void
step_add (BleioCache *cache,
          Reader     *r,
          GPtrArray  *events,
          GHashTable *expect)
{
  const char *path = PICK (paths, take_byte (r));
  const char *interface = PICK (interfaces, take_byte (r));
  guint8 selector = take_byte (r);
  g_autoptr(GVariant) value = NULL;
  gsize len;
  const guint8 *payload = take_payload (r, &len);

  if (selector & 1)
    {
      /* One interface from the fixed names with a dict from the bytes:
       * realistic names reach the cache without the fuzzer guessing
       * them. */
      g_autoptr(GVariant) props = fuzz_variant_new (fuzz_pick_type (selector, props_types,
                                                                    G_N_ELEMENTS (props_types)),
                                                    payload, len);
      GVariantBuilder b;

      if (!g_variant_is_of_type (props, G_VARIANT_TYPE_VARDICT))
        {
          /* A wrong type in place of the whole argument. */
          bleio_cache_add_interfaces (cache, path, props, events);
          return;
        }
      g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sa{sv}}"));
      g_variant_builder_add (&b, "{s@a{sv}}", interface, props);
      /* Sometimes the same interface twice in one signal. */
      if (selector & 2)
        g_variant_builder_add (&b, "{s@a{sv}}", interface, props);
      value = g_variant_ref_sink (g_variant_builder_end (&b));
    }
  else
    value = fuzz_variant_new (fuzz_pick_type (selector, add_types, G_N_ELEMENTS (add_types)),
                              payload, len);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE ("a{sa{sv}}")))
    expect_interfaces (expect, path, value);
  bleio_cache_add_interfaces (cache, path, value, events);
}

static void
step_remove (BleioCache *cache,
             Reader     *r,
             GPtrArray  *events)
{
  const char *path = PICK (paths, take_byte (r));
  guint8 selector = take_byte (r);
  gsize len;
  const guint8 *payload = take_payload (r, &len);

  if (selector < 128)
    {
      /* Fixed names, one per byte (duplicates and all). */
      g_autofree const char **names = g_new0 (const char *, MIN (len, 32) + 1);

      for (gsize i = 0; i < MIN (len, 32); i++)
        names[i] = PICK (interfaces, payload[i]);
      bleio_cache_remove_interfaces (cache, path, names, events);
    }
  else
    {
      /* Whatever strings the signal's "as" holds. */
      g_autoptr(GVariant) value = fuzz_variant_new ("as", payload, len);
      g_autofree const char **names = g_variant_get_strv (value, NULL);

      bleio_cache_remove_interfaces (cache, path, names, events);
    }
}

static void
step_change (BleioCache *cache,
             Reader     *r,
             GPtrArray  *events,
             GHashTable *expect,
             GHashTable *gone)
{
  const char *path = PICK (paths, take_byte (r));
  const char *interface = PICK (interfaces, take_byte (r));
  guint8 selector = take_byte (r);
  gsize len;
  const guint8 *payload = take_payload (r, &len);
  g_autoptr(GVariant) args = fuzz_variant_new (fuzz_pick_type (selector, change_types,
                                                               G_N_ELEMENTS (change_types)),
                                               payload, len);
  g_autoptr(GVariant) changed = NULL;
  g_autofree const char **invalidated = NULL;
  gboolean present = bleio_cache_has_interface (cache, path, interface);
  guint before = events->len;

  if (g_variant_is_of_type (args, G_VARIANT_TYPE ("(a{sv}as)")))
    g_variant_get (args, "(@a{sv}^a&s)", &changed, &invalidated);
  else
    changed = g_variant_ref (args);     /* a{sv} alone, or a wrong type */
  bleio_cache_change_properties (cache, path, interface, changed, invalidated, events);

  if (!present || !g_variant_is_of_type (changed, G_VARIANT_TYPE_VARDICT))
    {
      fuzz_check (events->len == before, "a change to nothing held, or not a dict, is ignored");
      return;
    }
  fuzz_check (events->len == before + 1, "a change to an interface held is one CHANGED event");
  expect_dict (expect, path, interface, changed);
  for (gsize i = 0; invalidated != NULL && invalidated[i] != NULL; i++)
    {
      char *key = g_strjoin ("\n", path, interface, invalidated[i], NULL);

      /* Invalidated after the changed values are stored: gone. */
      g_hash_table_replace (expect, g_strdup (key), g_variant_ref_sink (g_variant_new_boolean (FALSE)));
      g_hash_table_add (gone, key);
    }
}

static void
step_load (BleioCache *cache,
           Reader     *r,
           GPtrArray  *events,
           GHashTable *expect)
{
  const char *path = PICK (paths, take_byte (r));
  const char *interface = PICK (interfaces, take_byte (r));
  guint8 selector = take_byte (r);
  gsize len;
  const guint8 *payload = take_payload (r, &len);
  g_autoptr(GVariant) value = NULL;

  if ((selector & 1) && g_variant_is_object_path (path))
    {
      /* One object of the fixed names, its interface's dict from the
       * bytes. */
      g_autoptr(GVariant) props = fuzz_variant_new ("a{sv}", payload, len);
      GVariantBuilder b;

      g_variant_builder_init (&b, G_VARIANT_TYPE ("a{oa{sa{sv}}}"));
      g_variant_builder_open (&b, G_VARIANT_TYPE ("{oa{sa{sv}}}"));
      g_variant_builder_add (&b, "o", path);
      g_variant_builder_open (&b, G_VARIANT_TYPE ("a{sa{sv}}"));
      g_variant_builder_add (&b, "{s@a{sv}}", interface, props);
      g_variant_builder_close (&b);
      g_variant_builder_close (&b);
      value = g_variant_ref_sink (g_variant_builder_end (&b));
    }
  else
    value = fuzz_variant_new (fuzz_pick_type (selector, load_types, G_N_ELEMENTS (load_types)),
                              payload, len);

  if (g_variant_is_of_type (value, G_VARIANT_TYPE ("a{oa{sa{sv}}}")))
    {
      GVariantIter iter;
      const char *object;
      GVariant *ifaces;

      g_variant_iter_init (&iter, value);
      while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &object, &ifaces))
        {
          expect_interfaces (expect, object, ifaces);
          g_variant_unref (ifaces);
        }
    }
  bleio_cache_load (cache, value, events);
}

static void
step_read (BleioCache *cache,
           Reader     *r)
{
  const char *path = PICK (paths, take_byte (r));
  const char *interface = PICK (interfaces, take_byte (r));
  guint8 n_keys = take_byte (r) % 17;
  const char *wanted[16];
  BleioPropIndex index;
  gboolean present = bleio_cache_has_interface (cache, path, interface);
  g_autoptr(GPtrArray) listed = bleio_cache_list_paths (cache, interface, NULL);
  gboolean found = FALSE;

  for (guint i = 0; i < listed->len && !found; i++)
    found = g_str_equal (g_ptr_array_index (listed, i), path);
  fuzz_check (found == present, "list_paths lists the path exactly with the interface");
  for (guint i = 0; i < n_keys; i++)
    wanted[i] = PICK (keys, take_byte (r));

  /* Stale values, to see that fill_index sets every field it reports. */
  memset (&index, 0xa5, sizeof index);
  fuzz_check (bleio_cache_fill_index (cache, path, interface, &index, wanted, n_keys) == present,
              "fill_index succeeds exactly with the interface");
  fuzz_check (index.n <= n_keys, "fill_index gives no more values than keys");
  fuzz_check (present || index.n == 0, "fill_index gives nothing without the interface");
  for (guint i = 0; i < index.n; i++)
    {
      g_autoptr(GVariant) value = bleio_cache_dup_property (cache, path, interface,
                                                             index.names[i]);
      gboolean asked = FALSE;

      for (guint k = 0; k < n_keys; k++)
        asked |= index.names[i] == wanted[k];
      fuzz_check (asked, "fill_index names only keys asked for, the caller's strings");
      fuzz_check (value != NULL && g_variant_equal (value, index.values[i]),
                  "fill_index gives the values dup_property gives");
      fuzz_check (bleio_cache_has_interface (cache, path, interface),
                  "a property fill_index finds is on an interface the object has");
    }
  bleio_prop_index_clear (&index);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  Reader r = { data, size, 0 };
  BleioCache *cache = bleio_cache_new ();
  Shadow shadow;

  shadow.objects = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) g_hash_table_unref);
  shadow.seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  /* A bounded number of steps: each checks every reader. */
  for (guint steps = 0; r.pos < r.size && steps < 64; steps++)
    {
      g_autoptr(GPtrArray) events = bleio_cache_events_new ();
      g_autoptr(GHashTable) expect = expect_new ();
      g_autoptr(GHashTable) gone = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      guint8 op = take_byte (&r);

      switch (op % 6)
        {
        case 0:
          step_add (cache, &r, events, expect);
          break;
        case 1:
          step_remove (cache, &r, events);
          break;
        case 2:
          step_change (cache, &r, events, expect, gone);
          break;
        case 3:
          step_load (cache, &r, events, expect);
          break;
        case 4:
          bleio_cache_clear (cache, events);
          break;
        default:
          step_read (cache, &r);
          break;
        }
      shadow_apply (&shadow, events);
      if (op % 6 == 4)
        fuzz_check (bleio_cache_count_objects (cache) == 0 &&
                    g_hash_table_size (shadow.objects) == 0,
                    "clear empties the cache, a REMOVED for every interface");
      check_invariants (cache, &shadow);
      check_expected (cache, expect, gone);
    }

  bleio_cache_free (cache);
  g_hash_table_unref (shadow.objects);
  g_hash_table_unref (shadow.seen);
  return 0;
}
