/* SPDX-License-Identifier: MIT */
/*
 * The client's watches; see bleio-watches-private.h.
 */
#include "bleio-watches-private.h"

#include <string.h>

typedef struct {
  char *path;                   /* NULL: every object */
  char *interface;              /* NULL: every interface */
  gboolean subtree;
  guint kinds;                  /* BLEIO_CLIENT_EVENT_BIT()s; 0: every kind */
} WatchKey;

typedef struct _Watch Watch;

struct _Watch {
  gint ref_count;
  guint id;
  gboolean active;
  GMainContext *context;        /* NULL: worker */
  BleioClientWatchFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
  BleioWatches *watches;        /* not a reference: see bleio_watches_free() */
  WatchKey *keys;
  guint n_keys;
  guint stamp;                  /* the last event this watch was matched against */
  GQueue events;                /* queued for @context */
  GSource *idle;
};

struct _BleioWatches {
  BleioClient *client;
  GMutex lock;
  GList *all;                   /* Watch* (a reference each), newest first */
  guint next_id;
  GPtrArray *any_path;          /* Watch* with a key for every object */
  GHashTable *by_path;          /* path -> GPtrArray of Watch* (exact keys) */
  GPtrArray *subtree;           /* Watch* with a subtree key: a few at a time
                                 * (connects and discoveries under way), so a
                                 * prefix test each beats hashing every
                                 * ancestor of every event's path */
  guint stamp;                  /* worker only: one per object event */
};

static Watch *
watch_ref (Watch *watch)
{
  g_atomic_int_inc (&watch->ref_count);
  return watch;
}

static void
watch_unref (gpointer data)
{
  Watch *watch = data;

  if (!g_atomic_int_dec_and_test (&watch->ref_count))
    return;
  g_queue_clear_full (&watch->events, bleio_client_event_free);
  if (watch->destroy != NULL)
    watch->destroy (watch->user_data);
  for (guint i = 0; i < watch->n_keys; i++)
    {
      g_free (watch->keys[i].path);
      g_free (watch->keys[i].interface);
    }
  g_free (watch->keys);
  g_clear_pointer (&watch->context, g_main_context_unref);
  g_free (watch);
}

BleioWatches *
bleio_watches_new (BleioClient *client)
{
  BleioWatches *watches = g_new0 (BleioWatches, 1);

  watches->client = client;
  g_mutex_init (&watches->lock);
  watches->any_path = g_ptr_array_new ();
  watches->by_path = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) g_ptr_array_unref);
  watches->subtree = g_ptr_array_new ();
  return watches;
}

void
bleio_watches_free (BleioWatches *watches)
{
  g_autoptr(GPtrArray) idles = g_ptr_array_new_with_free_func ((GDestroyNotify) g_source_unref);

  if (watches == NULL)
    return;
  /* No queued dispatch may run once they are gone: it reads them. */
  g_mutex_lock (&watches->lock);
  for (GList *l = watches->all; l != NULL; l = l->next)
    {
      Watch *watch = l->data;

      watch->active = FALSE;
      if (watch->idle != NULL)
        g_ptr_array_add (idles, g_steal_pointer (&watch->idle));
    }
  g_mutex_unlock (&watches->lock);
  for (guint i = 0; i < idles->len; i++)
    g_source_destroy (g_ptr_array_index (idles, i));
  g_list_free_full (watches->all, watch_unref);
  g_ptr_array_unref (watches->subtree);
  g_hash_table_unref (watches->by_path);
  g_ptr_array_unref (watches->any_path);
  g_mutex_clear (&watches->lock);
  g_free (watches);
}

/* Locked. */
static GPtrArray *
filed_under (BleioWatches   *watches,
             const WatchKey *key,
             gboolean        create)
{
  GPtrArray *filed;

  if (key->path == NULL)
    return watches->any_path;
  if (key->subtree)
    return watches->subtree;
  filed = g_hash_table_lookup (watches->by_path, key->path);
  if (filed == NULL && create)
    {
      filed = g_ptr_array_new ();
      g_hash_table_insert (watches->by_path, g_strdup (key->path), filed);
    }
  return filed;
}

guint
bleio_watches_add (BleioWatches              *watches,
                   GMainContext              *context,
                   const BleioClientWatchKey *keys,
                   guint                      n_keys,
                   BleioClientWatchFunc       func,
                   gpointer                   user_data,
                   GDestroyNotify             destroy)
{
  Watch *watch = g_new0 (Watch, 1);
  guint id;

  watch->ref_count = 1;
  watch->active = TRUE;
  watch->context = context != NULL ? g_main_context_ref (context) : NULL;
  watch->func = func;
  watch->user_data = user_data;
  watch->destroy = destroy;
  watch->watches = watches;
  watch->keys = g_new0 (WatchKey, n_keys > 0 ? n_keys : 1);
  watch->n_keys = n_keys;
  for (guint i = 0; i < n_keys; i++)
    {
      watch->keys[i].path = g_strdup (keys[i].path);
      watch->keys[i].interface = g_strdup (keys[i].interface);
      watch->keys[i].subtree = keys[i].subtree && keys[i].path != NULL;
      watch->keys[i].kinds = keys[i].kinds;
    }
  g_queue_init (&watch->events);

  g_mutex_lock (&watches->lock);
  id = watch->id = ++watches->next_id;
  watches->all = g_list_prepend (watches->all, watch);
  for (guint i = 0; i < n_keys; i++)
    g_ptr_array_add (filed_under (watches, &watch->keys[i], TRUE), watch);
  g_mutex_unlock (&watches->lock);
  return id;
}

void
bleio_watches_remove (BleioWatches *watches,
                      guint         id)
{
  Watch *found = NULL;
  GSource *idle = NULL;

  if (id == 0)
    return;
  g_mutex_lock (&watches->lock);
  for (GList *l = watches->all; l != NULL; l = l->next)
    {
      Watch *watch = l->data;

      if (watch->id != id)
        continue;
      found = watch;
      found->active = FALSE;
      watches->all = g_list_delete_link (watches->all, l);
      idle = g_steal_pointer (&found->idle);
      for (guint i = 0; i < found->n_keys; i++)
        {
          const WatchKey *key = &found->keys[i];
          GPtrArray *filed = filed_under (watches, key, FALSE);

          if (filed == NULL)
            continue;
          g_ptr_array_remove (filed, found);
          if (filed->len == 0 && key->path != NULL && !key->subtree)
            g_hash_table_remove (watches->by_path, key->path);
        }
      break;
    }
  g_mutex_unlock (&watches->lock);

  if (idle != NULL)
    {
      g_source_destroy (idle);
      g_source_unref (idle);
    }
  if (found != NULL)
    watch_unref (found);
}

static gboolean
key_matches (const WatchKey         *key,
             const BleioClientEvent *event)
{
  if (key->kinds != 0 && (key->kinds & BLEIO_CLIENT_EVENT_BIT (event->kind)) == 0)
    return FALSE;
  if (key->interface != NULL && strcmp (key->interface, event->interface) != 0)
    return FALSE;
  if (key->path == NULL)
    return TRUE;
  if (!key->subtree)
    return strcmp (key->path, event->path) == 0;
  if (strcmp (key->path, "/") == 0)
    return TRUE;
  if (!g_str_has_prefix (event->path, key->path))
    return FALSE;
  return event->path[strlen (key->path)] == '\0' || event->path[strlen (key->path)] == '/';
}

/* Locked, on the worker. Adds to @matched (a reference each) the watches in
 * @filed that want @event and were not looked at for it yet. */
static void
match_filed (BleioWatches           *watches,
             GPtrArray              *filed,
             const BleioClientEvent *event,
             GPtrArray              *matched)
{
  for (guint i = 0; filed != NULL && i < filed->len; i++)
    {
      Watch *watch = g_ptr_array_index (filed, i);

      if (watch->stamp == watches->stamp)
        continue;
      watch->stamp = watches->stamp;
      for (guint k = 0; k < watch->n_keys; k++)
        if (key_matches (&watch->keys[k], event))
          {
            g_ptr_array_add (matched, watch_ref (watch));
            break;
          }
    }
}

static int
newest_first (gconstpointer a,
              gconstpointer b)
{
  const Watch *wa = *(Watch * const *) a;
  const Watch *wb = *(Watch * const *) b;

  return wa->id < wb->id ? 1 : wa->id > wb->id ? -1 : 0;
}

/* Locked, on the worker: the watches that want @event, newest first. */
static void
collect (BleioWatches           *watches,
         const BleioClientEvent *event,
         GPtrArray              *matched)
{
  if (event->kind == BLEIO_CLIENT_EVENT_OWNER || event->path == NULL ||
      event->interface == NULL)
    {
      for (GList *l = watches->all; l != NULL; l = l->next)
        g_ptr_array_add (matched, watch_ref (l->data));
      return;
    }
  watches->stamp++;
  match_filed (watches, watches->any_path, event, matched);
  if (g_hash_table_size (watches->by_path) > 0)
    match_filed (watches, g_hash_table_lookup (watches->by_path, event->path), event, matched);
  match_filed (watches, watches->subtree, event, matched);
  if (matched->len > 1)
    g_ptr_array_sort (matched, newest_first);
}

static gboolean
dispatch_cb (gpointer user_data)
{
  Watch *watch = user_data;
  BleioWatches *watches = watch->watches;

  for (;;)
    {
      BleioClientEvent *event;

      g_mutex_lock (&watches->lock);
      event = watch->active ? g_queue_pop_head (&watch->events) : NULL;
      if (event == NULL)
        g_clear_pointer (&watch->idle, g_source_unref);
      g_mutex_unlock (&watches->lock);
      if (event == NULL)
        break;
      watch->func (watches->client, event, watch->user_data);
      bleio_client_event_free (event);
    }
  return G_SOURCE_REMOVE;
}

void
bleio_watches_emit (BleioWatches           *watches,
                    const BleioClientEvent *event)
{
  g_autoptr(GPtrArray) matched = g_ptr_array_new_with_free_func (watch_unref);
  gboolean queued = FALSE;

  g_mutex_lock (&watches->lock);
  collect (watches, event, matched);
  g_mutex_unlock (&watches->lock);

  for (guint i = 0; i < matched->len; i++)
    {
      Watch *watch = g_ptr_array_index (matched, i);
      gboolean active;

      if (watch->context != NULL)
        {
          queued = TRUE;
          continue;
        }
      g_mutex_lock (&watches->lock);
      active = watch->active;
      g_mutex_unlock (&watches->lock);
      if (active)
        watch->func (watches->client, event, watch->user_data);
    }

  if (!queued)
    return;
  g_mutex_lock (&watches->lock);
  for (guint i = 0; i < matched->len; i++)
    {
      Watch *watch = g_ptr_array_index (matched, i);

      if (watch->context == NULL || !watch->active)
        continue;
      g_queue_push_tail (&watch->events, bleio_client_event_copy (event));
      if (watch->idle == NULL)
        {
          watch->idle = g_idle_source_new ();
          g_source_set_priority (watch->idle, G_PRIORITY_DEFAULT);
          g_source_set_callback (watch->idle, dispatch_cb, watch_ref (watch), watch_unref);
          g_source_set_static_name (watch->idle, "[bleio] client event");
          g_source_attach (watch->idle, watch->context);
        }
    }
  g_mutex_unlock (&watches->lock);
}
