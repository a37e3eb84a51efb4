/* SPDX-License-Identifier: MIT */
/*
 * The per-attribute operation queue, the children cache of GATT objects
 * and small GATT helpers.
 *
 * bluetoothd answers InProgress when a client starts a second read or
 * write on an attribute whose first one has not finished (DESIGN §3 quirk
 * 2). Every libbleio call on a GATT object path goes through a queue keyed
 * by (bus, path): one call in flight, the rest wait in order. The queue is
 * keyed by path rather than hung on an object so that two objects for the
 * same attribute (from two discoveries) still share it.
 */
#include "bleio-att-private.h"
#include "bleio-gatt-private.h"
#include "bleio-weak-ref-private.h"
#include "bleio-path-private.h"

#include <string.h>

#define RETRY_LIMIT 3
#define RETRY_STEP_MSEC 50

typedef struct {
  guint ref_count;              /* under queues_lock */
  char *key;
  gboolean busy;                /* under queues_lock */
  GQueue waiting;               /* GTask*, under queues_lock */
} OpQueue;

/* Ends a call in flight when its device's link goes down. bluetoothd
 * answers a call pending at that moment late (after its own timeouts) or,
 * from 5.82 on, never: the worker's watch cancels the call instead, and
 * the completion tells the link loss from the caller's own cancel by
 * @lost. Shared with the watch, which may still run on the worker while
 * the call completes in the caller's context. */
typedef enum {
  LINK_UP,
  LINK_LOST,
  LINK_BLUEZ_GONE,              /* bluetoothd left the bus, with the link */
  LINK_AUTH_FAILED,             /* ended by a pairing or encryption failure */
} LinkState;

typedef struct {
  gint ref_count;               /* atomic */
  GCancellable *cancellable;    /* the D-Bus call's */
  gint state;                   /* LinkState, atomic */
} LinkGuard;

typedef struct {
  BleioClient *client;
  char *path;
  char *interface;
  char *method;
  GVariant *parameters;
  guint attempts;
  OpQueue *queue;
  LinkGuard *guard;             /* while a call is in flight */
  gboolean unpaired;            /* the device was not paired when the call went out */
  guint link_watch;
  gulong cancel_id;             /* on the caller's cancellable */
} Op;

static GMutex queues_lock;
static GHashTable *queues;      /* key -> OpQueue* */

static OpQueue *
queue_acquire (BleioClient *client,
               const char  *path)
{
  g_autofree char *key = g_strdup_printf ("%p %s", (gpointer) client, path);
  OpQueue *queue;

  g_mutex_lock (&queues_lock);
  if (queues == NULL)
    queues = g_hash_table_new (g_str_hash, g_str_equal);
  queue = g_hash_table_lookup (queues, key);
  if (queue == NULL)
    {
      queue = g_new0 (OpQueue, 1);
      queue->key = g_steal_pointer (&key);
      g_queue_init (&queue->waiting);
      g_hash_table_insert (queues, queue->key, queue);
    }
  queue->ref_count++;
  g_mutex_unlock (&queues_lock);
  return queue;
}

static void
queue_release (OpQueue *queue)
{
  g_mutex_lock (&queues_lock);
  if (--queue->ref_count > 0)
    {
      g_mutex_unlock (&queues_lock);
      return;
    }
  g_hash_table_remove (queues, queue->key);
  g_mutex_unlock (&queues_lock);
  g_free (queue->key);
  g_free (queue);
}

static LinkGuard *
link_guard_ref (LinkGuard *guard)
{
  g_atomic_int_inc (&guard->ref_count);
  return guard;
}

static void
link_guard_unref (gpointer data)
{
  LinkGuard *guard = data;

  if (!g_atomic_int_dec_and_test (&guard->ref_count))
    return;
  g_object_unref (guard->cancellable);
  g_free (guard);
}

/* Worker thread: the device's Connected turned false, or its object went. */
static void
on_link_event (BleioClient            *client,
               const BleioClientEvent *event,
               gpointer                user_data)
{
  LinkGuard *guard = user_data;
  gboolean connected = TRUE;
  LinkState state = LINK_UP;

  if ((event->kind == BLEIO_CLIENT_EVENT_OWNER && !event->has_owner) ||
      (event->kind == BLEIO_CLIENT_EVENT_REMOVED && !bleio_client_has_owner (client)))
    state = LINK_BLUEZ_GONE;
  else if (event->kind == BLEIO_CLIENT_EVENT_CHANGED &&
           g_variant_lookup (event->changed, "Connected", "b", &connected) && !connected)
    {
      g_autofree char *reason = bleio_client_dup_string (client, event->path, BLEIO_IFACE_DEVICE,
                                                         BLEIO_DEVICE_DISCONNECT_REASON);

      state = g_strcmp0 (reason, BLEIO_REASON_AUTHENTICATION) == 0 ? LINK_AUTH_FAILED : LINK_LOST;
    }
  else if (event->kind == BLEIO_CLIENT_EVENT_REMOVED)
    state = LINK_LOST;
  if (state != LINK_UP &&
      g_atomic_int_compare_and_exchange (&guard->state, LINK_UP, state))
    g_cancellable_cancel (guard->cancellable);
}

static void
on_caller_cancelled (GCancellable *cancellable,
                     gpointer      user_data)
{
  g_cancellable_cancel (user_data);
}

/* The call's turn is over: its guard no longer listens. */
static void
op_unguard (GTask *task)
{
  Op *op = g_task_get_task_data (task);

  if (op->guard == NULL)
    return;
  bleio_client_unwatch (op->client, op->link_watch);
  op->link_watch = 0;
  g_cancellable_disconnect (g_task_get_cancellable (task), op->cancel_id);
  op->cancel_id = 0;
  g_clear_pointer (&op->guard, link_guard_unref);
}

static void
op_free (gpointer data)
{
  Op *op = data;

  if (op->guard != NULL)
    {
      bleio_client_unwatch (op->client, op->link_watch);
      g_clear_pointer (&op->guard, link_guard_unref);
    }
  if (op->queue != NULL)
    queue_release (op->queue);
  bleio_client_unref (op->client);
  g_free (op->path);
  g_free (op->interface);
  g_free (op->method);
  g_clear_pointer (&op->parameters, g_variant_unref);
  g_free (op);
}

static void op_start (GTask *task_in);

static gboolean
op_start_idle_cb (gpointer user_data)
{
  GTask *task = user_data;
  GMainContext *context = g_task_get_context (task);

  /* The D-Bus reply must come back in the task's context. */
  g_main_context_push_thread_default (context);
  op_start (g_object_ref (task));
  g_main_context_pop_thread_default (context);
  return G_SOURCE_REMOVE;
}

static void
schedule_start (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  g_autoptr(GSource) idle = g_idle_source_new ();
  GMainContext *context = g_task_get_context (task);

  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (idle, op_start_idle_cb, g_steal_pointer (&task), g_object_unref);
  g_source_set_static_name (idle, "[bleio] gatt queue");
  g_source_attach (idle, context);
}

/* The turn of @queue's current operation is over: start the next one. */
static void
queue_advance (OpQueue *queue)
{
  GTask *next;

  g_mutex_lock (&queues_lock);
  next = g_queue_pop_head (&queue->waiting);
  if (next == NULL)
    queue->busy = FALSE;
  g_mutex_unlock (&queues_lock);
  if (next != NULL)
    schedule_start (next);
}

/* The Device1 path an attribute path lies under, or NULL. */
static char *
device_path_of (const char *path)
{
  const char *dev = strstr (path, "/dev_");
  const char *end;

  if (dev == NULL)
    return NULL;
  end = strchr (dev + 1, '/');
  return end != NULL ? g_strndup (path, (gsize) (end - path)) : g_strdup (path);
}

/* FALSE when the cache says the attribute's device has no link. */
static gboolean
op_link_up (Op *op)
{
  g_autofree char *device = device_path_of (op->path);

  return device == NULL ||
         bleio_client_get_boolean (op->client, device, BLEIO_IFACE_DEVICE, "Connected");
}

/* Up to 5.82 bluetoothd says nothing on the bus about why a link ended.
 * On a link that is not encrypted, an attribute that needs encryption
 * makes bluetoothd pair by itself (security elevation) and, when nobody
 * accepts that pairing (no default agent, or the peer refuses), the
 * kernel ends the link: in the e2e guest the call is then cut short on
 * 5.66 and never answered on 5.82, exactly as when the link is lost. It
 * stays CONNECTION, and the message names the likely cause. */
#define LINK_LOST_UNPAIRED_HINT \
  "; the device is not paired: if the attribute needs encryption, the pairing " \
  "bluetoothd tried for it failed, so pair first with bleio_connection_pair()"

#define LINK_AUTH_FAILED_MESSAGE \
  "%s failed: pairing or encryption failed and the link went down; pair first " \
  "with bleio_connection_pair() (with passkey callbacks if the peer needs a passkey)"

/* Whether bluetoothd said the attribute's link ended for an
 * authentication failure (5.83 and later say why; older ones never do). */
static gboolean
op_auth_failed (Op *op)
{
  g_autofree char *device = device_path_of (op->path);
  g_autofree char *reason = NULL;

  if (device == NULL)
    return FALSE;
  reason = bleio_client_dup_string (op->client, device, BLEIO_IFACE_DEVICE,
                                    BLEIO_DEVICE_DISCONNECT_REASON);
  return g_strcmp0 (reason, BLEIO_REASON_AUTHENTICATION) == 0;
}

static void
op_return (GTask    *task_in,
           GVariant *reply,
           GError   *error)
{
  g_autoptr(GTask) task = task_in;
  Op *op = g_task_get_task_data (task);

  /* A link lost under a pending call shows as "Not connected" or, when
   * bluetoothd dropped the attribute objects first, as an object that went
   * away; either way the application sees the link loss, or the failed
   * pairing that took the link down when bluetoothd said so. */
  if (error != NULL && error->domain == BLEIO_ERROR &&
      (error->code == BLEIO_ERROR_DOES_NOT_EXIST || !op_link_up (op)) &&
      error->code != BLEIO_ERROR_CONNECTION && error->code != BLEIO_ERROR_BLUEZ_UNAVAILABLE &&
      error->code != BLEIO_ERROR_SECURITY)
    {
      GError *lost = op_auth_failed (op)
                     ? g_error_new (BLEIO_ERROR, BLEIO_ERROR_SECURITY, LINK_AUTH_FAILED_MESSAGE,
                                    op->method)
                     : g_error_new (BLEIO_ERROR, BLEIO_ERROR_CONNECTION,
                                    BLEIO_NOT_CONNECTED_MESSAGE " (%s)", error->message);

      g_error_free (error);
      error = lost;
    }
  if (op->unpaired && g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_CONNECTION))
    {
      char *hinted = g_strconcat (error->message, LINK_LOST_UNPAIRED_HINT, NULL);

      g_free (error->message);
      error->message = hinted;
    }
  queue_advance (op->queue);
  if (reply == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, reply, (GDestroyNotify) g_variant_unref);
}

static void
op_call_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Op *op = g_task_get_task_data (task);
  GError *error = NULL;
  GVariant *reply = bleio_client_call_finish (op->client, result, &error);
  LinkState state = op->guard != NULL ? g_atomic_int_get (&op->guard->state) : LINK_UP;

  op_unguard (task);
  if (reply == NULL && state != LINK_UP &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      !g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    {
      g_clear_error (&error);
      if (state == LINK_BLUEZ_GONE)
        error = g_error_new (BLEIO_ERROR, BLEIO_ERROR_BLUEZ_UNAVAILABLE,
                             "bluetoothd left the bus before it answered %s; retry once "
                             "it is back", op->method);
      else if (state == LINK_AUTH_FAILED)
        error = g_error_new (BLEIO_ERROR, BLEIO_ERROR_SECURITY, LINK_AUTH_FAILED_MESSAGE,
                             op->method);
      else
        error = g_error_new (BLEIO_ERROR, BLEIO_ERROR_CONNECTION,
                             BLEIO_NOT_CONNECTED_MESSAGE ": the link went down before "
                             "bluetoothd answered %s; reconnect and retry", op->method);
    }
  if (reply == NULL &&
      g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_IN_PROGRESS) &&
      op->attempts < RETRY_LIMIT &&
      !g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    {
      g_autoptr(GSource) timeout = g_timeout_source_new (RETRY_STEP_MSEC * op->attempts);

      /* Someone else (another program) holds the attribute. */
      g_debug ("%s %s: in progress elsewhere, retry %u", op->path, op->method, op->attempts);
      g_clear_error (&error);
      g_source_set_callback (timeout, op_start_idle_cb, g_object_ref (task), g_object_unref);
      g_source_set_static_name (timeout, "[bleio] gatt retry");
      g_source_attach (timeout, g_task_get_context (task));
      return;
    }
  op_return (g_steal_pointer (&task), reply, error);
}

/* Watches the link (subscribed first) before the call goes out; a link
 * already down by then cancels the call before it is sent. */
static void
op_guard (GTask *task)
{
  Op *op = g_task_get_task_data (task);
  g_autofree char *device = device_path_of (op->path);
  BleioClientWatchKey key = { NULL, BLEIO_IFACE_DEVICE, FALSE, 0 };
  GCancellable *cancellable = g_task_get_cancellable (task);

  op->guard = g_new0 (LinkGuard, 1);
  op->guard->ref_count = 1;
  op->guard->cancellable = g_cancellable_new ();
  if (device != NULL)
    {
      key.path = device;
      op->unpaired = !bleio_client_device_paired (op->client, device);
      op->link_watch = bleio_client_watch_keys (op->client, NULL, &key, 1, on_link_event,
                                                link_guard_ref (op->guard), link_guard_unref);
      if (!op_link_up (op))
        {
          g_atomic_int_set (&op->guard->state, LINK_LOST);
          g_cancellable_cancel (op->guard->cancellable);
        }
    }
  if (cancellable != NULL)
    op->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (on_caller_cancelled),
                                           op->guard->cancellable, NULL);
}

static void
op_start (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  Op *op = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;

  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    {
      op_return (g_steal_pointer (&task), NULL, error);
      return;
    }
  if (!op_link_up (op))
    {
      op_return (g_steal_pointer (&task), NULL,
                 g_error_new_literal (BLEIO_ERROR, BLEIO_ERROR_CONNECTION,
                                      BLEIO_NOT_CONNECTED_MESSAGE));
      return;
    }
  op->attempts++;
  op_guard (task);
  bleio_client_call (op->client, op->path, op->interface, op->method,
                     op->parameters, BLEIO_CALL_ATT_MSEC, op->guard->cancellable,
                     op_call_cb, g_steal_pointer (&task));
}

void
bleio_gatt_call_async (BleioClient         *client,
                       const char          *path,
                       const char          *interface,
                       const char          *method,
                       GVariant            *parameters,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Op *op = g_new0 (Op, 1);
  gboolean start;

  g_task_set_source_tag (task, BLEIO_TAG (bleio_gatt_call_async));
  op->client = bleio_client_ref (client);
  op->path = g_strdup (path);
  op->interface = g_strdup (interface);
  op->method = g_strdup (method);
  op->parameters = parameters != NULL ? g_variant_ref_sink (parameters) : NULL;
  op->queue = queue_acquire (client, path);
  g_task_set_task_data (task, op, op_free);

  g_mutex_lock (&queues_lock);
  start = !op->queue->busy;
  if (start)
    op->queue->busy = TRUE;
  else
    g_queue_push_tail (&op->queue->waiting, g_object_ref (task));
  g_mutex_unlock (&queues_lock);

  if (start)
    op_start (g_steal_pointer (&task));
  else
    g_debug ("%s %s: queued", path, method);
}

GVariant *
bleio_gatt_call_finish (GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- attribute children --------------------------------------------------- */

static int
path_handle_compare (gconstpointer a,
                     gconstpointer b,
                     gpointer      prefix)
{
  const char *pa = *(const char * const *) a;
  const char *pb = *(const char * const *) b;

  return (int) bleio_path_handle (pa, prefix) - (int) bleio_path_handle (pb, prefix);
}

guint16
bleio_gatt_handle (BleioClient *client,
                   const char  *path,
                   const char  *interface,
                   const char  *prefix)
{
  g_autoptr(GVariant) handle = bleio_client_dup_property (client, path, interface, "Handle");

  /* bluetoothd 5.82 exports the ATT handle (for a characteristic, its
   * declaration's, the number in the path: src/gatt-client.c); 5.66 has
   * only the path */
  if (handle != NULL && g_variant_is_of_type (handle, G_VARIANT_TYPE_UINT16))
    return g_variant_get_uint16 (handle);
  return (guint16) bleio_path_handle (path, prefix);
}

void
bleio_gatt_sort_paths (GPtrArray  *paths,
                       const char *prefix)
{
  g_ptr_array_sort_with_data (paths, path_handle_compare, (gpointer) prefix);
}

void
bleio_gatt_children_init (BleioGattChildren *children)
{
  g_mutex_init (&children->lock);
  children->objects = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, bleio_weak_ref_free);
}

void
bleio_gatt_children_clear (BleioGattChildren *children)
{
  g_clear_pointer (&children->objects, g_hash_table_unref);
  g_mutex_clear (&children->lock);
}

gboolean
bleio_gatt_check_current (BleioClient  *client,
                          const char   *path,
                          guint         incarnation,
                          GError      **error)
{
  if (bleio_client_get_incarnation (client, path) == incarnation)
    return TRUE;
  g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_DOES_NOT_EXIST,
                       BLEIO_DATABASE_CHANGED_MESSAGE);
  return FALSE;
}

GPtrArray *
bleio_gatt_children_dup (BleioGattChildren *children,
                         BleioClient       *client,
                         const char        *parent_path,
                         guint              parent_incarnation,
                         const char        *interface,
                         const char        *prefix,
                         BleioGattChildNew  new_child,
                         gpointer           parent)
{
  g_autoptr(GPtrArray) paths = bleio_client_list_paths (client, interface, parent_path);
  GPtrArray *objects = g_ptr_array_new_with_free_func (g_object_unref);

  if (bleio_client_get_incarnation (client, parent_path) != parent_incarnation)
    return objects;
  bleio_gatt_sort_paths (paths, prefix);
  g_mutex_lock (&children->lock);
  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = g_ptr_array_index (paths, i);
      g_autofree char *key = NULL;
      GWeakRef *weak;
      gpointer child;

      /* Direct children only. */
      if (strchr (path + strlen (parent_path) + 1, '/') != NULL)
        continue;
      key = g_strdup_printf ("%s#%u", path, bleio_client_get_incarnation (client, path));
      weak = g_hash_table_lookup (children->objects, key);
      child = weak != NULL ? g_weak_ref_get (weak) : NULL;
      if (child == NULL)
        {
          child = new_child (parent, path);
          g_hash_table_replace (children->objects, g_steal_pointer (&key),
                                bleio_weak_ref_new (child));
        }
      g_ptr_array_add (objects, child);
    }
  g_mutex_unlock (&children->lock);
  return objects;
}

/* ---- small helpers ------------------------------------------------------ */

gboolean
bleio_uuid_is_cccd (const BleioUuid *uuid)
{
  return uuid != NULL && bleio_uuid_get_size (uuid) == 16 &&
         bleio_uuid_get_uuid16 (uuid) == 0x2902;
}

void
bleio_gatt_read_value_cb (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  g_autoptr(GVariant) reply = bleio_gatt_call_finish (result, &error);
  g_autoptr(GVariant) value = NULL;
  gsize len = 0;
  const guint8 *data;

  if (reply == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (!g_variant_is_of_type (reply, G_VARIANT_TYPE ("(ay)")))
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_INVALID_VALUE,
                               "BlueZ answered ReadValue with a value of type %s "
                               "instead of (ay)", g_variant_get_type_string (reply));
      return;
    }
  value = g_variant_get_child_value (reply, 0);
  data = g_variant_get_fixed_array (value, &len, 1);
  if (len > BLEIO_ATT_MAX_VALUE_LEN)
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_INVALID_VALUE,
                               "BlueZ answered ReadValue with %" G_GSIZE_FORMAT " bytes; "
                               "an attribute holds at most %d, so bluetoothd is broken",
                               len, BLEIO_ATT_MAX_VALUE_LEN);
      return;
    }
  g_task_return_pointer (task, g_bytes_new (data, len), (GDestroyNotify) g_bytes_unref);
}

void
bleio_gatt_write_value_cb (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  g_autoptr(GVariant) reply = bleio_gatt_call_finish (result, &error);

  if (reply == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}
