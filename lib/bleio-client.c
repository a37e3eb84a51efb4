/* SPDX-License-Identifier: MIT */
/*
 * One view of org.bluez per GDBusConnection: its owner, its objects (the
 * cache of lib/bleio-cache.c, fed by GetManagedObjects and the signals)
 * and the watchers of both, on a worker thread of its own; see
 * bleio-client-private.h for the rules.
 */
#include "bleio-client-private.h"
#include "bleio-cache-private.h"
#include "bleio-feed-private.h"
#include "bleio-watches-private.h"
#include "bleio-system-bus-private.h"
#include "bleio-weak-ref-private.h"

#include <string.h>

typedef enum {
  CLIENT_STARTING,
  CLIENT_READY,
  CLIENT_FAILED,
} ClientState;

struct _BleioClient {
  gint ref_count;
  GDBusConnection *connection;
  GMainContext *worker_context;
  GMainLoop *worker_loop;
  GThread *worker;

  GMutex lock;
  GCond cond;
  ClientState state;
  GError *init_error;
  GList *pending;                       /* GTask* waiting for READY */
  char *owner;                          /* org.bluez's unique name, or NULL */
  gboolean has_owner;                   /* announced: its objects are loaded */
  GHashTable *adapters;                 /* path -> GWeakRef* */
  GHashTable *connections;              /* path -> GObject* (strong) */
  BleioWatches *watches;                /* has a lock of its own */

  gboolean free_on_exit;        /* the last unref ran on the worker */
  gint bus_closed;              /* atomic: the connection closed for good */
  GSource *bus_check;           /* worker: polls for a closed connection */

  /* Worker only. */
  BleioCache *cache;
  BleioFeed *feed;              /* the signals and the calls ordered with them */
  gboolean owner_known;         /* GetNameOwner answered */
  guint generation;             /* one per owner of org.bluez */
  gboolean loading;             /* GetManagedObjects of @generation out */
};

static GMutex clients_lock;
static GHashTable *clients;             /* GDBusConnection* -> BleioClient* */

/* ---- events ------------------------------------------------------------- */

guint
bleio_client_watch_keys (BleioClient               *client,
                         GMainContext              *context,
                         const BleioClientWatchKey *keys,
                         guint                      n_keys,
                         BleioClientWatchFunc       func,
                         gpointer                   user_data,
                         GDestroyNotify             destroy)
{
  return bleio_watches_add (client->watches, context, keys, n_keys, func, user_data, destroy);
}

guint
bleio_client_watch (BleioClient          *client,
                    GMainContext         *context,
                    BleioClientWatchFunc  func,
                    gpointer              user_data,
                    GDestroyNotify        destroy)
{
  static const BleioClientWatchKey everything = { NULL, NULL, FALSE, 0 };

  return bleio_watches_add (client->watches, context, &everything, 1, func, user_data, destroy);
}

void
bleio_client_unwatch (BleioClient *client,
                      guint        id)
{
  bleio_watches_remove (client->watches, id);
}

/* Runs in the worker: hands the events a cache change caused to the
 * watchers, in order. */
static void
emit_events (BleioClient *client,
             GPtrArray   *events)
{
  for (guint i = 0; i < events->len; i++)
    {
      const BleioClientEvent *event = g_ptr_array_index (events, i);

      if (event->kind != BLEIO_CLIENT_EVENT_CHANGED)
        g_debug ("%s %s %s", event->kind == BLEIO_CLIENT_EVENT_ADDED ? "added" : "removed",
                 event->path, event->interface);
      bleio_watches_emit (client->watches, event);
    }
}

static void
emit_owner (BleioClient *client,
            gboolean     has_owner)
{
  BleioClientEvent event = { 0, };

  event.kind = BLEIO_CLIENT_EVENT_OWNER;
  event.has_owner = has_owner;
  bleio_watches_emit (client->watches, &event);
}

/* ---- org.bluez's signals (worker) ----------------------------------------- */

/* One signal of org.bluez, its arguments checked by the feed. */
static void
apply_signal (BleioClient          *client,
              const BleioFeedEvent *event)
{
  g_autoptr(GPtrArray) events = NULL;

  /* Only the owner of org.bluez speaks for it (the bus routes by the
   * name; this also holds if the bus does not check the sender). While
   * its objects load, its signals are older than the reply that is
   * coming and are in it. */
  if (client->loading || client->owner == NULL || g_strcmp0 (event->sender, client->owner) != 0)
    return;
  events = bleio_cache_events_new ();
  switch (event->kind)
    {
    case BLEIO_FEED_PROPERTIES_CHANGED:
      bleio_cache_change_properties (client->cache, event->path, event->interface,
                                     event->values, event->names, events);
      break;
    case BLEIO_FEED_INTERFACES_ADDED:
      bleio_cache_add_interfaces (client->cache, event->path, event->values, events);
      break;
    case BLEIO_FEED_INTERFACES_REMOVED:
      bleio_cache_remove_interfaces (client->cache, event->path, event->names, events);
      break;
    case BLEIO_FEED_DISCONNECTED:
      {
        g_autoptr(GVariant) changed = NULL;
        GVariantDict reason;

        g_variant_dict_init (&reason, NULL);
        g_variant_dict_insert_value (&reason, BLEIO_DEVICE_DISCONNECT_REASON, event->values);
        changed = g_variant_ref_sink (g_variant_dict_end (&reason));
        bleio_cache_change_properties (client->cache, event->path, BLEIO_IFACE_DEVICE, changed,
                                       NULL, events);
      }
      break;
    default:
      break;
    }
  emit_events (client, events);
}

/* ---- org.bluez's owner (worker) -------------------------------------------- */

/* Until the first owner (or its absence) is known, applications wait. */
static void
become_ready (BleioClient *client,
              GError      *error)
{
  GList *pending;

  g_mutex_lock (&client->lock);
  if (client->state != CLIENT_STARTING)
    {
      g_mutex_unlock (&client->lock);
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    {
      client->state = CLIENT_FAILED;
      client->init_error = error;
    }
  else
    client->state = CLIENT_READY;
  pending = g_steal_pointer (&client->pending);
  g_cond_broadcast (&client->cond);
  g_mutex_unlock (&client->lock);

  for (GList *l = pending; l != NULL; l = l->next)
    {
      g_autoptr(GTask) task = l->data;

      /* Each pending task carries one reference taken for it. */
      if (client->state == CLIENT_FAILED)
        {
          g_task_return_error (task, g_error_copy (client->init_error));
          bleio_client_unref (client);
        }
      else
        g_task_return_pointer (task, client, (GDestroyNotify) bleio_client_unref);
    }
  g_list_free (pending);
}

static void
objects_loaded (BleioClient          *client,
                const BleioFeedEvent *event)
{
  g_autoptr(GPtrArray) events = bleio_cache_events_new ();

  if (event->tag != client->generation)
    return;             /* that owner left meanwhile */
  client->loading = FALSE;
  if (event->error == NULL)
    bleio_cache_load (client->cache, event->values, events);
  else
    {
      /* An empty view until signals fill it: a bluetoothd that cannot
       * answer GetManagedObjects has nothing usable to show. */
      g_debug ("GetManagedObjects from %s failed: %s", client->owner, event->error->message);
    }
  emit_events (client, events);

  g_mutex_lock (&client->lock);
  client->has_owner = TRUE;
  g_mutex_unlock (&client->lock);
  emit_owner (client, TRUE);
  become_ready (client, NULL);
}

static void
owner_lost (BleioClient *client)
{
  g_autoptr(GPtrArray) events = bleio_cache_events_new ();
  gboolean had_owner;

  g_debug ("org.bluez has no owner (was %s)", client->owner);
  client->generation++;
  client->loading = FALSE;
  g_mutex_lock (&client->lock);
  g_clear_pointer (&client->owner, g_free);
  had_owner = client->has_owner;
  client->has_owner = FALSE;
  g_mutex_unlock (&client->lock);
  /* As GLib's object manager does: the view is emptied, the owner's
   * departure told, then each object's removal, so that a watcher can
   * tell a removal from bluetoothd leaving. */
  bleio_cache_clear (client->cache, events);
  if (had_owner)
    emit_owner (client, FALSE);
  emit_events (client, events);
  /* Gone before its objects loaded, the first time: applications
   * waiting for the client get it now, without an owner, rather than
   * when a bluetoothd next appears. */
  become_ready (client, NULL);
}

static void
owner_found (BleioClient *client,
             const char  *owner)
{
  g_debug ("org.bluez owner: %s", owner);
  client->generation++;
  client->loading = TRUE;
  g_mutex_lock (&client->lock);
  g_free (client->owner);
  client->owner = g_strdup (owner);
  g_mutex_unlock (&client->lock);
  bleio_feed_get_objects (client->feed, owner, client->generation);
}

static void
owner_changed (BleioClient          *client,
               const BleioFeedEvent *event)
{
  /* Before GetNameOwner answers, changes are older than its answer. */
  if (!client->owner_known)
    return;
  if (client->owner != NULL)
    owner_lost (client);
  if (*event->new_owner != '\0')
    owner_found (client, event->new_owner);
}

static void
owner_answered (BleioClient          *client,
                const BleioFeedEvent *event)
{
  client->owner_known = TRUE;
  if (event->error != NULL)
    {
      g_autofree char *remote = g_dbus_error_get_remote_error (event->error);

      if (g_strcmp0 (remote, "org.freedesktop.DBus.Error.NameHasNoOwner") == 0)
        {
          g_debug ("org.bluez has no owner");
          become_ready (client, NULL);
        }
      else
        become_ready (client, bleio_error_from_dbus (event->error));
      return;
    }
  owner_found (client, event->new_owner);
}

/* GDBus tells that a connection closed only in the context the connection
 * was made in, which a blocking program never iterates; the worker looks
 * for itself. The check is an atomic read. */
#define BUS_CHECK_MSEC 500

/* Runs in the worker. The bus is gone (dbus-daemon stopped, or the
 * application closed the connection): to every watcher it is as if
 * bluetoothd left, for good, and the cache reads as empty from now on. */
static void
bus_gone (BleioClient *client)
{
  g_debug ("the bus connection closed: org.bluez is out of reach for good");
  g_mutex_lock (&client->lock);
  if (g_atomic_int_get (&client->bus_closed))
    {
      g_mutex_unlock (&client->lock);
      return;
    }
  g_atomic_int_set (&client->bus_closed, TRUE);
  client->has_owner = FALSE;
  g_mutex_unlock (&client->lock);

  emit_owner (client, FALSE);
}

static gboolean
bus_check_cb (gpointer user_data)
{
  BleioClient *client = user_data;

  if (!g_dbus_connection_is_closed (client->connection))
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&client->bus_check, g_source_unref);
  bus_gone (client);
  return G_SOURCE_REMOVE;
}

/* Runs in the worker: everything the feed brings. */
static void
on_feed_event (const BleioFeedEvent *event,
               gpointer              user_data)
{
  BleioClient *client = user_data;

  switch (event->kind)
    {
    case BLEIO_FEED_OWNER_CHANGED:
      owner_changed (client, event);
      break;
    case BLEIO_FEED_OWNER:
      owner_answered (client, event);
      break;
    case BLEIO_FEED_OBJECTS:
      objects_loaded (client, event);
      break;
    case BLEIO_FEED_CLOSED:
      /* The library's own connection to the bus: the bus is gone (or
       * broke the protocol), and with it every signal from now on. */
      bus_gone (client);
      break;
    default:
      apply_signal (client, event);
      break;
    }
}

/* ---- lifetime ----------------------------------------------------------- */

static void client_free (BleioClient *client);

static gpointer
worker_main (gpointer data)
{
  BleioClient *client = data;

  g_main_context_push_thread_default (client->worker_context);

  /* Subscribe first, ask second, on the one connection that carries the
   * signals: every change after the answers is seen. */
  client->feed = bleio_feed_new (client->connection, client->worker_context, on_feed_event, client);
  g_debug ("receiving through %s", bleio_feed_is_own (client->feed) ? "the library's own bus "
           "connection" : "GDBus");
  /* bleio-wire makes every value separately; GDBus's are views into their
   * message. */
  bleio_cache_set_values_own (client->cache, bleio_feed_is_own (client->feed));
  bleio_feed_get_owner (client->feed, client->generation);

  client->bus_check = g_timeout_source_new (BUS_CHECK_MSEC);
  g_source_set_callback (client->bus_check, bus_check_cb, client, NULL);
  g_source_set_static_name (client->bus_check, "[bleio] bus check");
  g_source_attach (client->bus_check, client->worker_context);

  g_main_loop_run (client->worker_loop);

  if (client->bus_check != NULL)
    {
      g_source_destroy (client->bus_check);
      g_clear_pointer (&client->bus_check, g_source_unref);
    }
  g_clear_pointer (&client->feed, bleio_feed_free);
  while (g_main_context_iteration (client->worker_context, FALSE))
    ;
  g_main_context_pop_thread_default (client->worker_context);
  if (client->free_on_exit)
    client_free (client);
  return NULL;
}

static BleioClient *
client_new (GDBusConnection *connection)
{
  BleioClient *client = g_new0 (BleioClient, 1);

  client->ref_count = 1;
  client->connection = g_object_ref (connection);
  client->worker_context = g_main_context_new ();
  client->worker_loop = g_main_loop_new (client->worker_context, FALSE);
  g_mutex_init (&client->lock);
  g_cond_init (&client->cond);
  client->cache = bleio_cache_new ();
  client->watches = bleio_watches_new (client);
  client->adapters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, bleio_weak_ref_free);
  client->connections = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  client->worker = g_thread_new ("bleio-client", worker_main, client);
  return client;
}

BleioClient *
bleio_client_ref (BleioClient *client)
{
  g_atomic_int_inc (&client->ref_count);
  return client;
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
client_free (BleioClient *client)
{
  bleio_watches_free (client->watches);
  g_hash_table_unref (client->connections);
  g_hash_table_unref (client->adapters);
  g_clear_error (&client->init_error);
  g_main_loop_unref (client->worker_loop);
  g_main_context_unref (client->worker_context);
  g_object_unref (client->connection);
  g_mutex_clear (&client->lock);
  g_cond_clear (&client->cond);
  bleio_cache_free (client->cache);
  g_free (client->owner);
  g_free (client);
}

void
bleio_client_unref (BleioClient *client)
{
  if (client == NULL)
    return;

  g_mutex_lock (&clients_lock);
  if (!g_atomic_int_dec_and_test (&client->ref_count))
    {
      g_mutex_unlock (&clients_lock);
      return;
    }
  if (clients != NULL && g_hash_table_lookup (clients, client->connection) == client)
    g_hash_table_remove (clients, client->connection);
  g_mutex_unlock (&clients_lock);

  if (g_thread_self () == client->worker)
    {
      /* The last reference went on the worker itself (an object finalized
       * by one of its callbacks): it cannot join itself, so it frees the
       * client once its loop has ended. */
      client->free_on_exit = TRUE;
      g_main_loop_quit (client->worker_loop);
      g_thread_unref (client->worker);
      return;
    }
  g_main_context_invoke (client->worker_context, quit_cb, client->worker_loop);
  g_thread_join (client->worker);
  client_free (client);
}

static void
get_with_connection (GDBusConnection *connection,
                     GTask           *task_in)
{
  g_autoptr(GTask) task = task_in;
  BleioClient *client;

  g_mutex_lock (&clients_lock);
  if (clients == NULL)
    clients = g_hash_table_new (NULL, NULL);
  client = g_hash_table_lookup (clients, connection);
  if (client != NULL)
    bleio_client_ref (client);
  else
    {
      client = client_new (connection);
      g_hash_table_insert (clients, connection, client);
    }
  g_mutex_unlock (&clients_lock);

  g_mutex_lock (&client->lock);
  if (client->state == CLIENT_STARTING)
    {
      /* The worker hands our reference to the task when it is ready. */
      client->pending = g_list_append (client->pending, g_steal_pointer (&task));
      g_mutex_unlock (&client->lock);
      return;
    }
  g_mutex_unlock (&client->lock);

  if (client->state == CLIENT_FAILED)
    {
      g_task_return_error (task, g_error_copy (client->init_error));
      bleio_client_unref (client);
      return;
    }
  g_task_return_pointer (task, client, (GDestroyNotify) bleio_client_unref);
}

static void
system_bus_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  g_autoptr(GDBusConnection) connection = bleio_system_bus_get_finish (result, &error);

  if (connection == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  get_with_connection (connection, g_steal_pointer (&task));
}

void
bleio_client_get_async (GDBusConnection     *connection,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, BLEIO_TAG (bleio_client_get_async));
  if (connection != NULL)
    {
      get_with_connection (connection, g_steal_pointer (&task));
      return;
    }
  bleio_system_bus_get_async (cancellable, system_bus_cb, g_steal_pointer (&task));
}

BleioClient *
bleio_client_get_finish (GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

GDBusConnection *
bleio_client_get_connection (BleioClient *client)
{
  return client->connection;
}

GMainContext *
bleio_client_get_worker_context (BleioClient *client)
{
  return client->worker_context;
}

gboolean
bleio_client_has_owner (BleioClient *client)
{
  gboolean has_owner;

  g_mutex_lock (&client->lock);
  has_owner = client->has_owner;
  g_mutex_unlock (&client->lock);
  return has_owner;
}

gboolean
bleio_client_check_available (BleioClient  *client,
                              GError      **error)
{
  if (bleio_client_has_owner (client))
    return TRUE;
  /* A new bluetoothd is announced once its objects are loaded; a call
   * made while they load goes through (the name has an owner). */
  if (!g_atomic_int_get (&client->bus_closed))
    {
      gboolean owned;

      g_mutex_lock (&client->lock);
      owned = client->owner != NULL;
      g_mutex_unlock (&client->lock);
      if (owned)
        return TRUE;
    }
  if (g_atomic_int_get (&client->bus_closed))
    g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_BLUEZ_UNAVAILABLE,
                         "The D-Bus connection to BlueZ is closed (the bus went "
                         "away); once it is back, make a new adapter on a new "
                         "connection");
  else
    g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_BLUEZ_UNAVAILABLE,
                         "BlueZ (bluetoothd) is not running on the system bus; "
                         "start bluetooth.service (systemctl start bluetooth)");
  return FALSE;
}

/* ---- cache -------------------------------------------------------------- */

/* Empty once the bus is gone: nothing in it can be acted on. */
static BleioCache *
cache_for_readers (BleioClient *client)
{
  return g_atomic_int_get (&client->bus_closed) ? NULL : client->cache;
}

GPtrArray *
bleio_client_list_paths (BleioClient *client,
                         const char  *interface,
                         const char  *prefix)
{
  BleioCache *cache = cache_for_readers (client);

  if (cache == NULL)
    return g_ptr_array_new_with_free_func (g_free);
  return bleio_cache_list_paths (cache, interface, prefix);
}

gboolean
bleio_client_has_interface (BleioClient *client,
                            const char  *path,
                            const char  *interface)
{
  BleioCache *cache = cache_for_readers (client);

  return cache != NULL && bleio_cache_has_interface (cache, path, interface);
}

guint
bleio_client_get_incarnation (BleioClient *client,
                              const char  *path)
{
  BleioCache *cache = cache_for_readers (client);

  return cache != NULL ? bleio_cache_get_incarnation (cache, path) : 0;
}

GVariant *
bleio_client_dup_property (BleioClient *client,
                           const char  *path,
                           const char  *interface,
                           const char  *property)
{
  BleioCache *cache = cache_for_readers (client);

  return cache != NULL ? bleio_cache_dup_property (cache, path, interface, property) : NULL;
}

gboolean
bleio_client_fill_index (BleioClient        *client,
                         const char         *path,
                         const char         *interface,
                         BleioPropIndex     *index,
                         const char * const *keys,
                         guint               n_keys)
{
  BleioCache *cache = cache_for_readers (client);

  if (cache == NULL)
    {
      index->n = 0;
      return FALSE;
    }
  return bleio_cache_fill_index (cache, path, interface, index, keys, n_keys);
}

gboolean
bleio_client_get_boolean (BleioClient *client,
                          const char  *path,
                          const char  *interface,
                          const char  *property)
{
  g_autoptr(GVariant) value = bleio_client_dup_property (client, path, interface, property);

  if (value == NULL || !g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return FALSE;
  return g_variant_get_boolean (value);
}

char *
bleio_client_dup_string (BleioClient *client,
                         const char  *path,
                         const char  *interface,
                         const char  *property)
{
  g_autoptr(GVariant) value = bleio_client_dup_property (client, path, interface, property);

  if (value == NULL || !g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    return NULL;
  return g_variant_dup_string (value, NULL);
}

gboolean
bleio_client_device_paired (BleioClient *client,
                            const char  *path)
{
  return bleio_client_get_boolean (client, path, BLEIO_IFACE_DEVICE, "Paired") ||
         bleio_client_get_boolean (client, path, BLEIO_IFACE_DEVICE, "Bonded");
}

char *
bleio_client_find_device (BleioClient *client,
                          const char  *adapter_path,
                          const char  *bluez_address)
{
  BleioCache *cache = cache_for_readers (client);
  g_autoptr(GPtrArray) paths = NULL;
  g_autofree char *under = NULL;

  if (cache == NULL)
    return NULL;
  paths = bleio_cache_find_address (cache, bluez_address);
  under = g_strconcat (adapter_path, "/", NULL);
  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = g_ptr_array_index (paths, i);
      g_autoptr(GVariant) adapter = NULL;

      if (!g_str_has_prefix (path, under))
        continue;
      /* bluetoothd gives every adapter its own Device1 objects. */
      adapter = bleio_client_dup_property (client, path, BLEIO_IFACE_DEVICE, "Adapter");
      if (adapter != NULL && g_variant_is_of_type (adapter, G_VARIANT_TYPE_OBJECT_PATH) &&
          !g_str_equal (g_variant_get_string (adapter, NULL), adapter_path))
        continue;
      return g_strdup (path);
    }
  return NULL;
}

gboolean
bleio_client_check_caller_is_bluez (BleioClient           *client,
                                    const char            *sender,
                                    GDBusMethodInvocation *invocation,
                                    const char            *refusal)
{
  g_autofree char *bluez = bleio_client_dup_bluez_owner (client);

  if (bluez != NULL && g_strcmp0 (sender, bluez) == 0)
    return TRUE;
  g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.DBus.Error.AccessDenied",
                                              refusal);
  return FALSE;
}

/* ---- calls -------------------------------------------------------------- */

void
bleio_client_call (BleioClient         *client,
                   const char          *path,
                   const char          *interface,
                   const char          *method,
                   GVariant            *parameters,
                   int                  timeout_msec,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  g_debug ("call %s %s.%s", path, interface, method);
  g_dbus_connection_call (client->connection, BLEIO_BLUEZ_NAME, path,
                          interface, method, parameters, NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, timeout_msec,
                          cancellable, callback, user_data);
}

GVariant *
bleio_client_call_finish (BleioClient   *client,
                          GAsyncResult  *result,
                          GError       **error)
{
  GError *local = NULL;
  GVariant *reply = g_dbus_connection_call_finish (client->connection, result, &local);

  if (reply == NULL)
    {
      g_debug ("call failed: %s", local->message);
      bleio_propagate_dbus_error (error, local);
    }
  return reply;
}

void
bleio_client_set_property (BleioClient         *client,
                           const char          *path,
                           const char          *interface,
                           const char          *property,
                           GVariant            *value,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  bleio_client_call (client, path, "org.freedesktop.DBus.Properties", "Set",
                     g_variant_new ("(ssv)", interface, property, value),
                     BLEIO_CALL_LOCAL_MSEC, cancellable, callback, user_data);
}

/* ---- registries --------------------------------------------------------- */

GObject *
bleio_client_dup_adapter (BleioClient *client,
                          const char  *path)
{
  GWeakRef *weak;
  GObject *object = NULL;

  g_mutex_lock (&client->lock);
  weak = g_hash_table_lookup (client->adapters, path);
  if (weak != NULL)
    object = g_weak_ref_get (weak);
  g_mutex_unlock (&client->lock);
  return object;
}

void
bleio_client_set_adapter (BleioClient *client,
                          const char  *path,
                          GObject     *adapter)
{
  g_mutex_lock (&client->lock);
  g_hash_table_replace (client->adapters, g_strdup (path), bleio_weak_ref_new (adapter));
  g_mutex_unlock (&client->lock);
}

GObject *
bleio_client_dup_connection (BleioClient *client,
                             const char  *path)
{
  GObject *object;

  g_mutex_lock (&client->lock);
  object = g_hash_table_lookup (client->connections, path);
  if (object != NULL)
    g_object_ref (object);
  g_mutex_unlock (&client->lock);
  return object;
}

void
bleio_client_set_connection (BleioClient *client,
                             const char  *path,
                             GObject     *connection)
{
  g_mutex_lock (&client->lock);
  g_hash_table_replace (client->connections, g_strdup (path), g_object_ref (connection));
  g_mutex_unlock (&client->lock);
}

void
bleio_client_remove_connection (BleioClient *client,
                                const char  *path,
                                GObject     *connection)
{
  gpointer old = NULL;
  gpointer key = NULL;

  g_mutex_lock (&client->lock);
  if (g_hash_table_lookup (client->connections, path) == connection)
    g_hash_table_steal_extended (client->connections, path, &key, &old);
  g_mutex_unlock (&client->lock);
  /* Outside the lock: the last reference may go here. */
  g_free (key);
  g_clear_object (&old);
}

char *
bleio_client_dup_bluez_owner (BleioClient *client)
{
  char *owner;

  g_mutex_lock (&client->lock);
  owner = g_strdup (client->owner);
  g_mutex_unlock (&client->lock);
  return owner;
}
