/* SPDX-License-Identifier: MIT */
/*
 * One view of org.bluez per GDBusConnection: its owner, its objects (the
 * cache of lib/bleio-cache.c, fed by GetManagedObjects and the signals)
 * and the watchers of both, on a worker thread of its own; see
 * bleio-client-private.h for the rules.
 */
#include "bleio-client-private.h"
#include "bleio-cache-private.h"
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
  guint owner_subscription;     /* NameOwnerChanged for org.bluez */
  guint bluez_subscription;     /* every signal org.bluez sends */
  guint subscriptions_alive;    /* their destroy notifies still to come */
  guint calls_in_flight;        /* GetNameOwner / GetManagedObjects */
  gboolean owner_known;         /* GetNameOwner answered */
  guint generation;             /* one per owner of org.bluez */
  gboolean loading;             /* GetManagedObjects of @generation out */
  GCancellable *cancellable;    /* the calls, cancelled at shutdown */
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
  static const BleioClientWatchKey everything = { NULL, NULL, FALSE };

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

static void
on_bluez_signal (GDBusConnection *connection,
                 const char      *sender,
                 const char      *path,
                 const char      *interface,
                 const char      *member,
                 GVariant        *params,
                 gpointer         user_data)
{
  BleioClient *client = user_data;
  g_autoptr(GPtrArray) events = NULL;

  /* Only the owner of org.bluez speaks for it (the bus routes by the
   * name; this also holds if GDBus does not check the sender). While its
   * objects load, its signals are older than the reply that is coming
   * and are in it. */
  if (client->loading || client->owner == NULL || g_strcmp0 (sender, client->owner) != 0)
    return;
  events = bleio_cache_events_new ();
  /* Each argument list is checked before it is read: a malformed signal
   * (which no well-behaved sender emits) is dropped. */
  if (g_str_equal (interface, "org.freedesktop.DBus.Properties") &&
      g_str_equal (member, "PropertiesChanged"))
    {
      g_autoptr(GVariant) iface = NULL;
      g_autoptr(GVariant) changed = NULL;
      g_autoptr(GVariant) gone = NULL;
      g_autofree const char **invalidated = NULL;

      if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(sa{sv}as)")))
        goto malformed;
      /* The children directly: every notification through Value signals
       * and every advertisement comes this way. */
      iface = g_variant_get_child_value (params, 0);
      changed = g_variant_get_child_value (params, 1);
      gone = g_variant_get_child_value (params, 2);
      if (g_variant_n_children (gone) > 0)
        invalidated = g_variant_get_strv (gone, NULL);
      bleio_cache_change_properties (client->cache, path, g_variant_get_string (iface, NULL),
                                     changed, invalidated, events);
    }
  else if (g_str_equal (interface, "org.freedesktop.DBus.ObjectManager") &&
           g_str_equal (path, "/"))
    {
      const char *object;

      if (g_str_equal (member, "InterfacesAdded"))
        {
          g_autoptr(GVariant) first = NULL;
          g_autoptr(GVariant) interfaces = NULL;

          if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(oa{sa{sv}})")))
            goto malformed;
          /* Children taken directly, not through a format string. */
          first = g_variant_get_child_value (params, 0);
          interfaces = g_variant_get_child_value (params, 1);
          object = g_variant_get_string (first, NULL);
          bleio_cache_add_interfaces (client->cache, object, interfaces, events);
        }
      else if (g_str_equal (member, "InterfacesRemoved"))
        {
          g_autofree const char **names = NULL;

          if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(oas)")))
            goto malformed;
          g_variant_get (params, "(&o^a&s)", &object, &names);
          bleio_cache_remove_interfaces (client->cache, object, names, events);
        }
    }
  else if (g_str_equal (interface, BLEIO_IFACE_DEVICE) && g_str_equal (member, "Disconnected"))
    {
      g_autoptr(GVariant) why = NULL;
      g_autoptr(GVariant) changed = NULL;
      GVariantDict reason;

      if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(ss)")))
        goto malformed;
      why = g_variant_get_child_value (params, 0);
      g_variant_dict_init (&reason, NULL);
      g_variant_dict_insert_value (&reason, BLEIO_DEVICE_DISCONNECT_REASON, why);
      changed = g_variant_ref_sink (g_variant_dict_end (&reason));
      bleio_cache_change_properties (client->cache, path, BLEIO_IFACE_DEVICE, changed, NULL, events);
    }
  emit_events (client, events);
  return;

malformed:
  g_debug ("dropped %s.%s on %s from %s: arguments %s", interface, member, path, sender,
           g_variant_get_type_string (params));
}

/* ---- org.bluez's owner (worker) -------------------------------------------- */

typedef struct {
  BleioClient *client;          /* not a reference: see calls_in_flight */
  guint generation;
} CallData;

static CallData *
call_data_new (BleioClient *client)
{
  CallData *data = g_new0 (CallData, 1);

  data->client = client;
  data->generation = client->generation;
  client->calls_in_flight++;
  return data;
}

/* The reply of a call made with call_data_new(); frees @data. */
static GVariant *
call_data_finish (CallData      *data,
                  GAsyncResult  *result,
                  BleioClient  **client,
                  gboolean      *current,
                  GError       **error)
{
  GVariant *reply = g_dbus_connection_call_finish (data->client->connection, result, error);

  *client = data->client;
  *current = data->generation == data->client->generation;
  data->client->calls_in_flight--;
  g_free (data);
  return reply;
}

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
load_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  BleioClient *client;
  gboolean current;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = call_data_finish (user_data, result, &client, &current, &error);
  g_autoptr(GPtrArray) events = bleio_cache_events_new ();

  if (!current || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;             /* that owner left meanwhile, or shutting down */
  client->loading = FALSE;
  if (reply != NULL)
    {
      g_autoptr(GVariant) objects = g_variant_get_child_value (reply, 0);

      bleio_cache_load (client->cache, objects, events);
    }
  else
    {
      /* An empty view until signals fill it: a bluetoothd that cannot
       * answer GetManagedObjects has nothing usable to show. */
      g_debug ("GetManagedObjects from %s failed: %s", client->owner, error->message);
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
  g_dbus_connection_call (client->connection, owner, "/",
                          "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                          NULL, G_VARIANT_TYPE ("(a{oa{sa{sv}}})"),
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, BLEIO_CALL_OBJECTS_MSEC, client->cancellable,
                          load_done, call_data_new (client));
}

static void
on_owner_changed (GDBusConnection *connection,
                  const char      *sender,
                  const char      *path,
                  const char      *interface,
                  const char      *member,
                  GVariant        *params,
                  gpointer         user_data)
{
  BleioClient *client = user_data;
  const char *name, *old_owner, *new_owner;

  /* Before GetNameOwner answers, changes are older than its answer. */
  if (!client->owner_known || !g_variant_is_of_type (params, G_VARIANT_TYPE ("(sss)")))
    return;
  g_variant_get (params, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (!g_str_equal (name, BLEIO_BLUEZ_NAME))
    return;
  if (client->owner != NULL)
    owner_lost (client);
  if (*new_owner != '\0')
    owner_found (client, new_owner);
}

static void
get_owner_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  BleioClient *client;
  gboolean current;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = call_data_finish (user_data, result, &client, &current, &error);
  const char *owner;

  if (reply == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  client->owner_known = TRUE;
  if (reply == NULL)
    {
      g_autofree char *remote = g_dbus_error_get_remote_error (error);

      if (g_strcmp0 (remote, "org.freedesktop.DBus.Error.NameHasNoOwner") == 0)
        {
          g_debug ("org.bluez has no owner");
          become_ready (client, NULL);
        }
      else
        become_ready (client, bleio_error_from_dbus (error));
      return;
    }
  g_variant_get (reply, "(&s)", &owner);
  owner_found (client, owner);
}

/* GDBus tells that a connection closed only in the context the connection
 * was made in, which a blocking program never iterates; the worker looks
 * for itself. The check is an atomic read. */
#define BUS_CHECK_MSEC 500

/* Runs in the worker. The bus is gone (dbus-daemon stopped, or the
 * application closed the connection): to every watcher it is as if
 * bluetoothd left, for good, and the cache reads as empty from now on. */
static gboolean
bus_check_cb (gpointer user_data)
{
  BleioClient *client = user_data;

  if (!g_dbus_connection_is_closed (client->connection))
    return G_SOURCE_CONTINUE;
  g_debug ("the bus connection closed: org.bluez is out of reach for good");
  g_mutex_lock (&client->lock);
  g_atomic_int_set (&client->bus_closed, TRUE);
  client->has_owner = FALSE;
  g_clear_pointer (&client->bus_check, g_source_unref);
  g_mutex_unlock (&client->lock);

  emit_owner (client, FALSE);
  return G_SOURCE_REMOVE;
}

/* ---- lifetime ----------------------------------------------------------- */

static void client_free (BleioClient *client);

static void
subscription_gone (gpointer user_data)
{
  BleioClient *client = user_data;

  client->subscriptions_alive--;
}

static gpointer
worker_main (gpointer data)
{
  BleioClient *client = data;

  g_main_context_push_thread_default (client->worker_context);

  /* Subscribe first, ask second: every change after the answers is seen. */
  client->subscriptions_alive = 2;
  client->owner_subscription =
    g_dbus_connection_signal_subscribe (client->connection, "org.freedesktop.DBus",
                                        "org.freedesktop.DBus", "NameOwnerChanged",
                                        "/org/freedesktop/DBus", BLEIO_BLUEZ_NAME,
                                        G_DBUS_SIGNAL_FLAGS_NONE, on_owner_changed,
                                        client, subscription_gone);
  client->bluez_subscription =
    g_dbus_connection_signal_subscribe (client->connection, BLEIO_BLUEZ_NAME,
                                        NULL, NULL, NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                        on_bluez_signal, client, subscription_gone);
  g_dbus_connection_call (client->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetNameOwner",
                          g_variant_new ("(s)", BLEIO_BLUEZ_NAME), G_VARIANT_TYPE ("(s)"),
                          G_DBUS_CALL_FLAGS_NONE, BLEIO_CALL_LOCAL_MSEC, client->cancellable,
                          get_owner_done, call_data_new (client));

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
  g_dbus_connection_signal_unsubscribe (client->connection, client->owner_subscription);
  g_dbus_connection_signal_unsubscribe (client->connection, client->bluez_subscription);
  g_cancellable_cancel (client->cancellable);
  /* The calls' callbacks and the subscriptions' destroy notifies hold
   * @client: wait for each (GDBus delivers them in this context). */
  while (client->calls_in_flight > 0 || client->subscriptions_alive > 0)
    g_main_context_iteration (client->worker_context, TRUE);
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
  client->cancellable = g_cancellable_new ();
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
  g_object_unref (client->cancellable);
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
