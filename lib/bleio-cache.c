/* SPDX-License-Identifier: MIT */
/*
 * The object cache; see bleio-cache-private.h.
 */
#include "bleio-cache-private.h"

#include <string.h>

typedef struct {
  char *name;
  /* char* -> GVariant* (the value itself). The keys are owned here, not
   * by the table (it has no key destroy function): a property that
   * changes keeps its key, see store_props(). */
  GHashTable *props;
} CacheIface;

typedef struct {
  char *path;
  CacheIface *ifaces;           /* a handful: an array searched in order */
  guint n_ifaces;
  char *address;                /* its Device1 Address as filed in by_address */
  guint incarnation;            /* see bleio_cache_get_incarnation() */
} CacheObject;

struct _BleioCache {
  GMutex lock;
  GHashTable *objects;          /* path (the object's own) -> CacheObject* */
  GTree *sorted;                /* the same objects by path, for ranges */
  GHashTable *by_address;       /* upper-case Device1 Address -> GSList of CacheObject* */
  gboolean values_own;          /* see bleio_cache_set_values_own() */
};

#define DEVICE_INTERFACE "org.bluez.Device1"

static void
iface_clear (CacheIface *iface)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, iface->props);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_hash_table_iter_steal (&iter);
      g_free (key);
      g_variant_unref (value);
    }
  g_free (iface->name);
  g_hash_table_unref (iface->props);
}

static void
object_free (CacheObject *object)
{
  for (guint i = 0; i < object->n_ifaces; i++)
    iface_clear (&object->ifaces[i]);
  g_free (object->ifaces);
  g_free (object->address);
  g_free (object->path);
  g_free (object);
}

/* Shared by every cache, so that no path of any bus gets a number
 * twice (a restarted bluetoothd refills a new cache). */
static guint
next_incarnation (void)
{
  static gint counter;

  return (guint) g_atomic_int_add (&counter, 1) + 1;
}

static int
tree_compare (gconstpointer a,
              gconstpointer b,
              gpointer      user_data)
{
  return strcmp (a, b);
}

static void
free_list_cb (gpointer key,
              gpointer value,
              gpointer user_data)
{
  g_slist_free (value);
}

void
bleio_cache_set_values_own (BleioCache *cache,
                            gboolean    own)
{
  g_mutex_lock (&cache->lock);
  cache->values_own = own;
  g_mutex_unlock (&cache->lock);
}

BleioCache *
bleio_cache_new (void)
{
  BleioCache *cache = g_new0 (BleioCache, 1);

  g_mutex_init (&cache->lock);
  cache->objects = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                          (GDestroyNotify) object_free);
  cache->sorted = g_tree_new_full (tree_compare, NULL, NULL, NULL);
  cache->by_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return cache;
}

void
bleio_cache_free (BleioCache *cache)
{
  if (cache == NULL)
    return;
  g_hash_table_foreach (cache->by_address, free_list_cb, NULL);
  g_hash_table_unref (cache->by_address);
  g_tree_unref (cache->sorted);
  g_hash_table_unref (cache->objects);
  g_mutex_clear (&cache->lock);
  g_free (cache);
}

GPtrArray *
bleio_cache_events_new (void)
{
  return g_ptr_array_new_with_free_func (bleio_client_event_free);
}

static void
add_event (GPtrArray            *events,
           BleioClientEventKind  kind,
           const char           *path,
           const char           *interface,
           GVariant             *changed)
{
  g_ptr_array_add (events, bleio_client_event_new (kind, path, interface, changed));
}

static CacheIface *
find_iface (CacheObject *object,
            const char  *interface)
{
  if (object == NULL)
    return NULL;
  for (guint i = 0; i < object->n_ifaces; i++)
    if (strcmp (object->ifaces[i].name, interface) == 0)
      return &object->ifaces[i];
  return NULL;
}

/* Locked. Takes @object out of the address index. */
static void
unindex_locked (BleioCache  *cache,
                CacheObject *object)
{
  GSList *list;

  if (object->address == NULL)
    return;
  list = g_slist_remove (g_hash_table_lookup (cache->by_address, object->address), object);
  if (list == NULL)
    g_hash_table_remove (cache->by_address, object->address);
  else
    g_hash_table_insert (cache->by_address, g_strdup (object->address), list);
  g_clear_pointer (&object->address, g_free);
}

/* Locked. Files @object under its Device1 Address (a string), if it has
 * one, after any change to its interfaces or their values: find_device
 * looks a device up by address on every Device1 event of a connect, and
 * a walk over every object under the adapter (GATT ones too) would cost
 * that much each time. */
static void
reindex_locked (BleioCache  *cache,
                CacheObject *object)
{
  CacheIface *iface = find_iface (object, DEVICE_INTERFACE);
  GVariant *value = iface != NULL ? g_hash_table_lookup (iface->props, "Address") : NULL;
  const char *address = NULL;
  GSList *list;

  if (value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    address = g_variant_get_string (value, NULL);
  if (address != NULL && object->address != NULL &&
      g_ascii_strcasecmp (address, object->address) == 0)
    return;
  unindex_locked (cache, object);
  if (address == NULL)
    return;
  object->address = g_ascii_strup (address, -1);
  list = g_hash_table_lookup (cache->by_address, object->address);
  g_hash_table_insert (cache->by_address, g_strdup (object->address),
                       g_slist_prepend (list, object));
}

/* The value inside @boxed, a compact copy of its own rather than a view
 * into the message it came in: a view keeps the whole message body alive,
 * and with 10,000 advertisers replacing theirs at every advertisement RSS
 * would grow round after round with the heap in use flat (test-load-scan).
 * With @own the value is no view (see bleio_cache_set_values_own()): it is
 * kept, made compact (a container made of child values becomes one
 * buffer) instead of copied. */
static GVariant *
copy_value (GVariant *boxed,
            gboolean  own)
{
  if (own)
    {
      GVariant *inner = g_variant_get_variant (boxed);

      (void) g_variant_get_data (inner);
      return inner;
    }

  g_autoptr(GVariant) inner = g_variant_get_variant (boxed);
  gconstpointer data = g_variant_get_data (inner);
  gsize size = g_variant_get_size (inner);
  g_autoptr(GBytes) copy = NULL;

  /* A value cut from a malformed message may have no bytes at all (GLib
   * reads it as its type's default; g_variant_get_data_as_bytes() aborts
   * on it): its normal form stands in. */
  if (data == NULL && size > 0)
    return g_variant_get_normal_form (inner);
  copy = g_bytes_new (data, size);
  return g_variant_ref_sink (g_variant_new_from_bytes (g_variant_get_type (inner), copy, FALSE));
}

/* Stores every entry of an a{sv}. The children are taken directly: a
 * format string parsed per entry would be a third of the cache's cost. A
 * known property keeps its key: a new key per change, freed among the
 * short-lived allocations of each signal, would scatter the cache over
 * ever more pages. */
static void
store_props (GHashTable *props,
             GVariant   *dict,
             gboolean    own)
{
  gsize n = g_variant_n_children (dict);

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (dict, i);
      g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) boxed = g_variant_get_child_value (entry, 1);
      const char *name = g_variant_get_string (key, NULL);
      GVariant *value = copy_value (boxed, own);
      gpointer stored;

      if (g_hash_table_lookup_extended (props, name, &stored, NULL))
        g_hash_table_insert (props, stored, value);
      else
        g_hash_table_insert (props, g_strdup (name), value);
    }
}

/* Locked. */
static void
add_locked (BleioCache *cache,
            const char *path,
            GVariant   *interfaces,
            GPtrArray  *events)
{
  CacheObject *object = g_hash_table_lookup (cache->objects, path);
  gsize n = g_variant_n_children (interfaces);

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (interfaces, i);
      g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);
      const char *name = g_variant_get_string (key, NULL);
      GVariant *props = g_variant_get_child_value (entry, 1);
      CacheIface *iface;

      /* Properties and Introspectable say nothing the library reads. */
      if (g_str_has_prefix (name, "org.freedesktop.DBus."))
        {
          g_variant_unref (props);
          continue;
        }
      iface = find_iface (object, name);
      if (iface != NULL)
        {
          /* Announced again (a broken or hostile bluetoothd): the values
           * given win, as a change of them. */
          store_props (iface->props, props, cache->values_own);
          add_event (events, BLEIO_CLIENT_EVENT_CHANGED, path, name, props);
          g_variant_unref (props);
          continue;
        }
      if (object == NULL)
        {
          object = g_new0 (CacheObject, 1);
          object->path = g_strdup (path);
          object->incarnation = next_incarnation ();
          g_hash_table_insert (cache->objects, object->path, object);
          g_tree_insert (cache->sorted, object->path, object);
        }
      object->ifaces = g_renew (CacheIface, object->ifaces, object->n_ifaces + 1);
      iface = &object->ifaces[object->n_ifaces++];
      iface->name = g_strdup (name);
      iface->props = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                            (GDestroyNotify) g_variant_unref);
      store_props (iface->props, props, cache->values_own);
      add_event (events, BLEIO_CLIENT_EVENT_ADDED, path, name, NULL);
      g_variant_unref (props);
    }
  if (object != NULL)
    reindex_locked (cache, object);
}

void
bleio_cache_add_interfaces (BleioCache *cache,
                            const char *path,
                            GVariant   *interfaces,
                            GPtrArray  *events)
{
  if (path == NULL || interfaces == NULL ||
      !g_variant_is_of_type (interfaces, G_VARIANT_TYPE ("a{sa{sv}}")))
    return;
  g_mutex_lock (&cache->lock);
  add_locked (cache, path, interfaces, events);
  g_mutex_unlock (&cache->lock);
}

/* Locked. */
static void
remove_object_locked (BleioCache  *cache,
                      CacheObject *object)
{
  unindex_locked (cache, object);
  g_tree_remove (cache->sorted, object->path);
  g_hash_table_remove (cache->objects, object->path);       /* frees it */
}

void
bleio_cache_remove_interfaces (BleioCache         *cache,
                               const char         *path,
                               const char * const *interfaces,
                               GPtrArray          *events)
{
  CacheObject *object;

  if (path == NULL || interfaces == NULL)
    return;
  g_mutex_lock (&cache->lock);
  object = g_hash_table_lookup (cache->objects, path);
  for (guint i = 0; object != NULL && interfaces[i] != NULL; i++)
    {
      CacheIface *iface = find_iface (object, interfaces[i]);
      guint index;

      if (iface == NULL)
        continue;
      add_event (events, BLEIO_CLIENT_EVENT_REMOVED, path, iface->name, NULL);
      index = (guint) (iface - object->ifaces);
      iface_clear (iface);
      memmove (&object->ifaces[index], &object->ifaces[index + 1],
               (object->n_ifaces - index - 1) * sizeof (CacheIface));
      object->n_ifaces--;
      if (object->n_ifaces == 0)
        {
          remove_object_locked (cache, object);
          object = NULL;
        }
    }
  if (object != NULL)
    reindex_locked (cache, object);
  g_mutex_unlock (&cache->lock);
}

void
bleio_cache_change_properties (BleioCache         *cache,
                               const char         *path,
                               const char         *interface,
                               GVariant           *changed,
                               const char * const *invalidated,
                               GPtrArray          *events)
{
  CacheObject *object;
  CacheIface *iface;

  if (path == NULL || interface == NULL || changed == NULL ||
      !g_variant_is_of_type (changed, G_VARIANT_TYPE_VARDICT))
    return;
  g_mutex_lock (&cache->lock);
  object = g_hash_table_lookup (cache->objects, path);
  iface = find_iface (object, interface);
  if (iface == NULL)
    {
      g_mutex_unlock (&cache->lock);
      return;
    }
  store_props (iface->props, changed, cache->values_own);
  for (guint i = 0; invalidated != NULL && invalidated[i] != NULL; i++)
    {
      gpointer stored, value;

      /* Stolen, so the key (ours) and the value go here. */
      if (g_hash_table_steal_extended (iface->props, invalidated[i], &stored, &value))
        {
          g_free (stored);
          g_variant_unref (value);
        }
    }
  if (strcmp (interface, DEVICE_INTERFACE) == 0)
    reindex_locked (cache, object);
  g_mutex_unlock (&cache->lock);
  add_event (events, BLEIO_CLIENT_EVENT_CHANGED, path, interface, changed);
}

void
bleio_cache_load (BleioCache *cache,
                  GVariant   *objects,
                  GPtrArray  *events)
{
  gsize n;

  if (objects == NULL || !g_variant_is_of_type (objects, G_VARIANT_TYPE ("a{oa{sa{sv}}}")))
    return;
  n = g_variant_n_children (objects);
  g_mutex_lock (&cache->lock);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (objects, i);
      g_autoptr(GVariant) path = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) interfaces = g_variant_get_child_value (entry, 1);

      add_locked (cache, g_variant_get_string (path, NULL), interfaces, events);
    }
  g_mutex_unlock (&cache->lock);
}

static gboolean
steal_cb (gpointer key,
          gpointer value,
          gpointer user_data)
{
  g_ptr_array_add (user_data, value);
  return FALSE;
}

void
bleio_cache_clear (BleioCache *cache,
                   GPtrArray  *events)
{
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func ((GDestroyNotify) object_free);

  g_mutex_lock (&cache->lock);
  g_tree_foreach (cache->sorted, steal_cb, gone);
  g_hash_table_steal_all (cache->objects);
  g_tree_destroy (cache->sorted);
  cache->sorted = g_tree_new_full (tree_compare, NULL, NULL, NULL);
  g_hash_table_foreach (cache->by_address, free_list_cb, NULL);
  g_hash_table_remove_all (cache->by_address);
  g_mutex_unlock (&cache->lock);

  for (guint i = 0; i < gone->len; i++)
    {
      CacheObject *object = g_ptr_array_index (gone, i);

      for (guint j = 0; j < object->n_ifaces; j++)
        add_event (events, BLEIO_CLIENT_EVENT_REMOVED, object->path, object->ifaces[j].name, NULL);
    }
}

/* ---- readers ---- */

guint
bleio_cache_count_objects (BleioCache *cache)
{
  guint n;

  g_mutex_lock (&cache->lock);
  n = g_hash_table_size (cache->objects);
  g_mutex_unlock (&cache->lock);
  return n;
}

/* Locked. */
static CacheIface *
lookup_iface (BleioCache *cache,
              const char *path,
              const char *interface)
{
  return find_iface (g_hash_table_lookup (cache->objects, path), interface);
}

gboolean
bleio_cache_has_interface (BleioCache *cache,
                           const char *path,
                           const char *interface)
{
  gboolean found;

  g_mutex_lock (&cache->lock);
  found = lookup_iface (cache, path, interface) != NULL;
  g_mutex_unlock (&cache->lock);
  return found;
}

guint
bleio_cache_get_incarnation (BleioCache *cache,
                             const char *path)
{
  CacheObject *object;
  guint incarnation;

  g_mutex_lock (&cache->lock);
  object = g_hash_table_lookup (cache->objects, path);
  incarnation = object != NULL ? object->incarnation : 0;
  g_mutex_unlock (&cache->lock);
  return incarnation;
}

GVariant *
bleio_cache_dup_property (BleioCache *cache,
                          const char *path,
                          const char *interface,
                          const char *property)
{
  CacheIface *iface;
  GVariant *value = NULL;

  g_mutex_lock (&cache->lock);
  iface = lookup_iface (cache, path, interface);
  if (iface != NULL)
    value = g_hash_table_lookup (iface->props, property);
  if (value != NULL)
    g_variant_ref (value);
  g_mutex_unlock (&cache->lock);
  return value;
}

gboolean
bleio_cache_fill_index (BleioCache         *cache,
                        const char         *path,
                        const char         *interface,
                        BleioPropIndex     *index,
                        const char * const *keys,
                        guint               n_keys)
{
  CacheIface *iface;

  g_assert (n_keys <= G_N_ELEMENTS (index->names));
  index->n = 0;
  g_mutex_lock (&cache->lock);
  iface = lookup_iface (cache, path, interface);
  for (guint i = 0; iface != NULL && i < n_keys; i++)
    {
      GVariant *value = g_hash_table_lookup (iface->props, keys[i]);

      if (value == NULL)
        continue;
      index->names[index->n] = keys[i];
      index->values[index->n] = g_variant_ref (value);
      index->n++;
    }
  g_mutex_unlock (&cache->lock);
  return iface != NULL;
}

int
bleio_cache_path_compare (gconstpointer a,
                          gconstpointer b)
{
  const char *pa = *(const char * const *) a;
  const char *pb = *(const char * const *) b;
  gsize la = strlen (pa), lb = strlen (pb);

  /* Shorter first so that hci2 sorts before hci10. */
  if (la != lb)
    return la < lb ? -1 : 1;
  return strcmp (pa, pb);
}

typedef struct {
  const char *interface;
  GPtrArray *paths;
} ListAll;

static gboolean
list_all_cb (gpointer key,
             gpointer value,
             gpointer user_data)
{
  ListAll *list = user_data;

  if (find_iface (value, list->interface) != NULL)
    g_ptr_array_add (list->paths, g_strdup (key));
  return FALSE;
}

GPtrArray *
bleio_cache_list_paths (BleioCache *cache,
                        const char *interface,
                        const char *prefix)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);

  g_mutex_lock (&cache->lock);
  if (prefix != NULL)
    {
      g_autofree char *under = g_strconcat (prefix, "/", NULL);
      GTreeNode *node;

      /* The objects under @prefix are one range of the sorted tree. */
      for (node = g_tree_lower_bound (cache->sorted, under);
           node != NULL && g_str_has_prefix (g_tree_node_key (node), under);
           node = g_tree_node_next (node))
        if (find_iface (g_tree_node_value (node), interface) != NULL)
          g_ptr_array_add (paths, g_strdup (g_tree_node_key (node)));
    }
  else
    {
      ListAll list = { interface, paths };

      g_tree_foreach (cache->sorted, list_all_cb, &list);
    }
  g_mutex_unlock (&cache->lock);
  g_ptr_array_sort (paths, bleio_cache_path_compare);
  return paths;
}

GPtrArray *
bleio_cache_find_address (BleioCache *cache,
                          const char *address)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *key = g_ascii_strup (address, -1);

  g_mutex_lock (&cache->lock);
  for (GSList *l = g_hash_table_lookup (cache->by_address, key); l != NULL; l = l->next)
    g_ptr_array_add (paths, g_strdup (((CacheObject *) l->data)->path));
  g_mutex_unlock (&cache->lock);
  g_ptr_array_sort (paths, bleio_cache_path_compare);
  return paths;
}
