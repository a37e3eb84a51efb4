/* SPDX-License-Identifier: MIT */
/*
 * The connect queue an adapter owns: one attempt at a time per adapter,
 * each finding its way to a link (ConnectDevice, or discovery then
 * Device1.Connect), undoing what it started when it times out or is
 * cancelled. See bleio-connect-private.h.
 */
#include "bleio-connect-private.h"
#include "bleio-late-undo-private.h"
#include "bleio-timeout-private.h"

#include <string.h>

#define UNDO_TIMEOUT_MSEC 5000

struct _BleioConnectQueue {
  BleioClient *client;
  char *adapter_path;
  const BleioConnectHooks *hooks;
  gpointer owner;

  GMutex lock;
  GQueue tasks;                 /* GTask*, head is running */
  GHashTable *late_undos;       /* BlueZ address -> BleioLateUndo* */
};

static void
late_undo_start (BleioConnectQueue *self,
                 const char        *address)
{
  BleioLateUndo *undo = bleio_late_undo_start (self->client, self->adapter_path, address);

  g_mutex_lock (&self->lock);
  g_hash_table_replace (self->late_undos, g_strdup (address), undo);
  g_mutex_unlock (&self->lock);
}

static void
late_undo_cancel (BleioConnectQueue *self,
                  const char        *address)
{
  BleioLateUndo *undo = NULL;
  g_autofree char *key = NULL;

  g_mutex_lock (&self->lock);
  g_hash_table_steal_extended (self->late_undos, address, (gpointer *) &key, (gpointer *) &undo);
  g_mutex_unlock (&self->lock);
  if (undo != NULL)
    bleio_late_undo_drop (undo);
}

/* ---- connect -------------------------------------------------------------------- */

typedef enum {
  STAGE_QUEUED,
  STAGE_CONNECT_DEVICE,
  STAGE_DISCOVERY,
  STAGE_FIND_KNOWN,             /* ConnectDevice said bluetoothd has it: await our view */
  STAGE_CONNECT,
  STAGE_CHECK_LINK,             /* Connect answered: does bluetoothd show the link? */
  STAGE_RECONNECT,              /* undoing a link bluetoothd did not show, to retry */
  STAGE_WAIT_CONNECTED,
  STAGE_UNDOING,
  STAGE_DONE,
} ConnectStage;

typedef struct {
  BleioAddress *address;
  char *bluez_address;
  char *device_path;
  GCancellable *op_cancellable;
  GSource *timeout_source;
  gulong cancel_id;
  guint watch_id;
  gboolean retried;
  gboolean retried_unshown;     /* after a Connect answered with no link shown */
  gboolean tried_connect_device;
  gboolean filter_set;
  gboolean discovery_started;
  ConnectStage stage;
  GError *undo_error;           /* returned once the undo finished */
  GMainContext *object_context;
  gint64 deadline;              /* monotonic, µs */
  BleioConnectQueue *queue;     /* owns the task until connect_dequeue() */
} ConnectData;

static BleioConnectQueue *
queue_of (GTask *task)
{
  ConnectData *data = g_task_get_task_data (task);

  return data->queue;
}

static void
connect_data_free (ConnectData *data)
{
  bleio_address_free (data->address);
  g_free (data->bluez_address);
  g_free (data->device_path);
  g_clear_object (&data->op_cancellable);
  g_clear_error (&data->undo_error);
  g_clear_pointer (&data->object_context, g_main_context_unref);
  g_free (data);
}

static void connect_start (GTask *task);

static gboolean
connect_start_cb (gpointer user_data)
{
  connect_start (g_object_ref (user_data));
  return G_SOURCE_REMOVE;
}

/* Removes @task from the queue and starts the next attempt. */
static void
connect_dequeue (BleioConnectQueue *self,
                 GTask             *task)
{
  GTask *next = NULL;
  gboolean was_head;
  gboolean removed;

  g_mutex_lock (&self->lock);
  was_head = g_queue_peek_head (&self->tasks) == task;
  removed = g_queue_remove (&self->tasks, task);
  if (was_head)
    next = g_queue_peek_head (&self->tasks);
  if (next != NULL)
    g_object_ref (next);
  g_mutex_unlock (&self->lock);
  if (removed)
    g_object_unref (task);

  if (next != NULL)
    {
      g_main_context_invoke_full (g_task_get_context (next), G_PRIORITY_DEFAULT,
                                  connect_start_cb, next, g_object_unref);
    }
}

static void
connect_detach (GTask *task)
{
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);

  bleio_client_unwatch (self->client, data->watch_id);
  data->watch_id = 0;
  if (data->timeout_source != NULL)
    {
      g_source_destroy (data->timeout_source);
      g_clear_pointer (&data->timeout_source, g_source_unref);
    }
  if (data->cancel_id != 0)
    {
      g_cancellable_disconnect (g_task_get_cancellable (task), data->cancel_id);
      data->cancel_id = 0;
    }
}

static void
stop_filtered_discovery (GTask *task)
{
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);
  gboolean scanning;

  if (!data->discovery_started && !data->filter_set)
    return;
  scanning = self->hooks->is_scanning (self->owner);
  /* Our scan shares the same discovery session: leave it running. */
  if (!scanning && data->discovery_started)
    bleio_client_call (self->client, self->adapter_path, BLEIO_IFACE_ADAPTER, "StopDiscovery",
                       NULL, BLEIO_CALL_LOCAL_MSEC, NULL, NULL, NULL);
  /* Leave no address filter behind on this bus connection. */
  if (!scanning && data->filter_set)
    bleio_client_call (self->client, self->adapter_path, BLEIO_IFACE_ADAPTER, "SetDiscoveryFilter",
                       g_variant_new ("(@a{sv})", g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)),
                       BLEIO_CALL_LOCAL_MSEC, NULL, NULL, NULL);
  data->discovery_started = FALSE;
  data->filter_set = FALSE;
}

static void
connect_finish_ok (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);
  BleioConnection *connection;

  if (data->stage == STAGE_DONE)
    return;
  data->stage = STAGE_DONE;
  /* Calls still in flight (a Connect whose reply waits for the GATT
   * browse) give their reference on the task back now. */
  g_cancellable_cancel (data->op_cancellable);
  connect_detach (task);
  stop_filtered_discovery (task);
  connection = self->hooks->dup_connection (self->owner, data->device_path,
                                            data->object_context);
  connect_dequeue (self, task);
  g_debug ("connected to %s", data->device_path);
  g_task_return_pointer (task, connection, g_object_unref);
}

static void
connect_finish_error (GTask  *task_in,
                      GError *error)
{
  g_autoptr(GTask) task = task_in;
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);

  if (data->stage == STAGE_DONE)
    {
      g_error_free (error);
      return;
    }
  data->stage = STAGE_DONE;
  g_cancellable_cancel (data->op_cancellable);
  connect_detach (task);
  stop_filtered_discovery (task);
  connect_dequeue (self, task);
  g_debug ("connect to %s failed: %s", data->bluez_address, error->message);
  g_task_return_error (task, error);
}

static void
undo_disconnect_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);
  GVariant *reply = bleio_client_call_finish (self->client, result, NULL);

  g_clear_pointer (&reply, g_variant_unref);

  data->stage = STAGE_UNDOING;
  connect_finish_error (g_steal_pointer (&task), g_steal_pointer (&data->undo_error));
}

/* Timeout or cancellation: stop whatever runs, disconnect, then fail. */
static void
connect_abort (GTask  *task,
               GError *error)
{
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);
  ConnectStage stage = data->stage;
  g_autofree char *path = NULL;

  if (stage == STAGE_DONE || stage == STAGE_UNDOING)
    {
      g_error_free (error);
      return;
    }
  data->stage = STAGE_UNDOING;
  g_cancellable_cancel (data->op_cancellable);
  connect_detach (task);
  data->undo_error = error;

  path = data->device_path != NULL ? g_strdup (data->device_path)
                                   : bleio_client_find_device (self->client, self->adapter_path,
                                                               data->bluez_address);
  if (path == NULL && stage == STAGE_CONNECT_DEVICE && bleio_client_has_owner (self->client))
    late_undo_start (self, data->bluez_address);
  if (stage == STAGE_QUEUED || path == NULL || !bleio_client_has_owner (self->client))
    {
      data->stage = STAGE_UNDOING;
      connect_finish_error (g_object_ref (task), g_steal_pointer (&data->undo_error));
      return;
    }
  bleio_client_call (self->client, path, BLEIO_IFACE_DEVICE, "Disconnect", NULL,
                     UNDO_TIMEOUT_MSEC, NULL, undo_disconnect_cb, g_object_ref (task));
}

static gboolean
connect_timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  ConnectData *data = g_task_get_task_data (task);

  g_clear_pointer (&data->timeout_source, g_source_unref);
  connect_abort (task, g_error_new_literal (BLEIO_ERROR, BLEIO_ERROR_TIMEOUT,
                                            "Failed to connect: timeout"));
  return G_SOURCE_REMOVE;
}

static gboolean
connect_cancelled_idle (gpointer user_data)
{
  GTask *task = user_data;

  connect_abort (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                            "Operation was cancelled"));
  return G_SOURCE_REMOVE;
}

static void
connect_cancelled (GCancellable *cancellable,
                   gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(GSource) idle = g_idle_source_new ();

  /* The cancel handler may run in any thread: hop to the task's context. */
  g_source_set_callback (idle, connect_cancelled_idle, g_object_ref (task), g_object_unref);
  g_source_attach (idle, g_task_get_context (task));
}

static gint
remaining_msec (GTask *task)
{
  ConnectData *data = g_task_get_task_data (task);
  gint64 left = (data->deadline - g_get_monotonic_time ()) / 1000;

  /* Our own timer decides; let D-Bus wait a little longer than it. */
  return (gint) CLAMP (left + 1000, 1000, G_MAXINT);
}

static void wait_connected (GTask *task);
static void check_link_shown (GTask *task);
static void call_connect (GTask *task);
static void connect_device (GTask *task);
static void watch_connect_events (GTask *task);
static gboolean link_up (GTask *task);

static void
connect_reply_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (self->client, result, &error);

  if (data->stage != STAGE_CONNECT)
    return;                     /* aborted meanwhile */
  if (g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    {
      /* The caller cancelled, and this reply reached us before the cancel
       * handler's idle did: no retry, no fallback, no link kept; undo and
       * report the cancellation, as the handler would have. */
      connect_abort (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                "Operation was cancelled"));
      return;
    }
  if (reply == NULL)
    {
      /* A temporary device that BlueZ dropped after we looked it up (its
       * object is gone): connect by address instead. */
      if (!data->tried_connect_device &&
          (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_DOES_NOT_EXIST) ||
           g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED)))
        {
          g_debug ("%s vanished (%s): connecting by address", data->device_path, error->message);
          g_clear_pointer (&data->device_path, g_free);
          connect_device (g_steal_pointer (&task));
          return;
        }
      if (!data->retried &&
          (strstr (error->message, "le-connection-abort-by-local") != NULL ||
           strstr (error->message, "Software caused connection abort") != NULL))
        {
          g_debug ("connect to %s: %s; retrying once", data->device_path, error->message);
          data->retried = TRUE;
          call_connect (g_steal_pointer (&task));
          return;
        }
      connect_finish_error (g_steal_pointer (&task), g_steal_pointer (&error));
      return;
    }
  check_link_shown (g_steal_pointer (&task));
}

static void
reconnect_disconnected_cb (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);
  GVariant *reply = bleio_client_call_finish (self->client, result, NULL);

  /* Whatever Disconnect answered, the second Connect follows. */
  g_clear_pointer (&reply, g_variant_unref);
  if (data->stage != STAGE_RECONNECT)
    return;                     /* aborted meanwhile */
  call_connect (g_steal_pointer (&task));
}

static void
link_shown_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);
  g_autoptr(GVariant) reply = bleio_client_call_finish (self->client, result, NULL);
  g_autoptr(GVariant) value = NULL;
  gint timeout_msec;

  if (data->stage != STAGE_CHECK_LINK)
    return;                     /* connected or aborted meanwhile */
  if (reply != NULL && g_variant_is_of_type (reply, G_VARIANT_TYPE ("(v)")))
    g_variant_get (reply, "(v)", &value);
  if (value == NULL || !g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN) ||
      g_variant_get_boolean (value))
    {
      /* Shown (the cache is catching up), or bluetoothd cannot say. */
      wait_connected (g_steal_pointer (&task));
      return;
    }
  if (data->retried_unshown)
    {
      connect_abort (task, g_error_new (BLEIO_ERROR, BLEIO_ERROR_CONNECTION,
                                        "Failed to connect: bluetoothd answered Connect twice "
                                        "without reporting the link (its \"already connected\" "
                                        "race); retry, or restart bluetoothd if it persists"));
      return;
    }
  g_debug ("%s: Connect answered, Connected still false: undoing and connecting again",
           data->device_path);
  data->retried_unshown = TRUE;
  data->stage = STAGE_RECONNECT;
  timeout_msec = MIN (remaining_msec (task), BLEIO_CALL_DISCONNECT_MSEC);
  bleio_client_call (self->client, data->device_path, BLEIO_IFACE_DEVICE, "Disconnect", NULL,
                     timeout_msec, data->op_cancellable, reconnect_disconnected_cb,
                     g_steal_pointer (&task));
}

/* bluetoothd 5.82 may answer Connect with success while Connected never
 * turns true: its ATT socket came up before the kernel's Device Connected
 * event, and it logs "already connected" (5.66 leaves the same race's
 * Connect unanswered; tests/e2e/README.md). Connected is set before
 * Connect is answered, so asking for it now tells the race from a cache
 * that is a moment behind, without a timer; the half-made link is undone
 * and Connect tried once more within the caller's bound. */
static void
check_link_shown (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);
  gint timeout_msec = MIN (remaining_msec (task), BLEIO_CALL_LOCAL_MSEC);

  if (data->device_path == NULL ||
      bleio_client_get_boolean (self->client, data->device_path, BLEIO_IFACE_DEVICE, "Connected"))
    {
      wait_connected (g_steal_pointer (&task));
      return;
    }
  data->stage = STAGE_CHECK_LINK;
  bleio_client_call (self->client, data->device_path, "org.freedesktop.DBus.Properties", "Get",
                     g_variant_new ("(ss)", BLEIO_IFACE_DEVICE, "Connected"), timeout_msec,
                     data->op_cancellable, link_shown_cb, g_steal_pointer (&task));
}

static void
call_connect (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);
  gint timeout_msec = remaining_msec (task);

  data->stage = STAGE_CONNECT;
  watch_connect_events (task);
  bleio_client_call (self->client, data->device_path, BLEIO_IFACE_DEVICE, "Connect", NULL,
                     timeout_msec, data->op_cancellable, connect_reply_cb,
                     g_object_ref (task));
  /* Subscribed first, checked second: the link may be up already (made by
   * another program, or by bluetoothd itself); Connect would then answer
   * only after a GATT browse. Our own disconnects wait for the cache to
   * say so, so a stale Connected=true is not left behind by us. */
  if (link_up (task))
    connect_finish_ok (g_steal_pointer (&task));
}

/* The link is up once BlueZ says Connected, which can be long before the
 * Connect reply: bluetoothd answers only after reading the peer's GATT
 * database. _bleio's connect returns with the link; service discovery is
 * discover_remote_services()'s business. */
static gboolean
link_up (GTask *task)
{
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);
  g_autofree char *path = bleio_client_find_device (self->client, self->adapter_path, data->bluez_address);

  if (path == NULL || !bleio_client_get_boolean (self->client, path, BLEIO_IFACE_DEVICE, "Connected"))
    return FALSE;
  if (data->device_path == NULL)
    data->device_path = g_steal_pointer (&path);
  return TRUE;
}

/* Discovery found the device (@path, taken): connect to it. */
static void
connect_found (GTask *task,
               char  *path)
{
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);

  bleio_client_unwatch (self->client, data->watch_id);
  data->watch_id = 0;
  data->device_path = path;
  stop_filtered_discovery (task);
  call_connect (task);
}

static void
on_connect_event (BleioClient            *client,
                  const BleioClientEvent *event,
                  gpointer                user_data)
{
  GTask *task = user_data;
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);

  if (event->kind == BLEIO_CLIENT_EVENT_OWNER && !event->has_owner)
    {
      connect_finish_error (g_object_ref (task),
                            g_error_new_literal (BLEIO_ERROR, BLEIO_ERROR_BLUEZ_UNAVAILABLE,
                                                 "bluetoothd left the bus while connecting"));
      return;
    }
  if (event->path == NULL || event->interface == NULL ||
      !g_str_equal (event->interface, BLEIO_IFACE_DEVICE))
    return;

  if ((data->stage == STAGE_DISCOVERY || data->stage == STAGE_FIND_KNOWN) &&
      event->kind != BLEIO_CLIENT_EVENT_REMOVED)
    {
      g_autofree char *path = bleio_client_find_device (self->client, self->adapter_path,
                                                        data->bluez_address);

      if (path != NULL)
        connect_found (g_object_ref (task), g_steal_pointer (&path));
      return;
    }
  if (data->stage == STAGE_CONNECT || data->stage == STAGE_CONNECT_DEVICE ||
      data->stage == STAGE_CHECK_LINK)
    {
      gboolean value = FALSE;

      /* Only a change seen after our call counts: the cache may still hold
       * the previous link's Connected=true for a moment. */
      if ((event->kind == BLEIO_CLIENT_EVENT_CHANGED &&
           g_variant_lookup (event->changed, "Connected", "b", &value) && value) ||
          event->kind == BLEIO_CLIENT_EVENT_ADDED)
        {
          if (link_up (task) && g_str_equal (data->device_path, event->path))
            connect_finish_ok (g_object_ref (task));
        }
      return;
    }
  if (data->stage == STAGE_WAIT_CONNECTED && data->device_path == NULL)
    data->device_path = bleio_client_find_device (self->client, self->adapter_path, data->bluez_address);
  if (data->stage == STAGE_WAIT_CONNECTED && data->device_path != NULL &&
      g_str_equal (event->path, data->device_path))
    {
      if (bleio_client_get_boolean (self->client, data->device_path,
                                    BLEIO_IFACE_DEVICE, "Connected"))
        connect_finish_ok (g_object_ref (task));
      else if (event->kind == BLEIO_CLIENT_EVENT_REMOVED)
        connect_finish_error (g_object_ref (task),
                              g_error_new_literal (BLEIO_ERROR, BLEIO_ERROR_CONNECTION,
                                                   "The device went away while connecting"));
    }
}

static void
watch_connect_events (GTask *task)
{
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);
  BleioClientWatchKey key = { self->adapter_path, BLEIO_IFACE_DEVICE, TRUE, 0 };

  if (data->watch_id == 0)
    data->watch_id = bleio_client_watch_keys (self->client, g_task_get_context (task), &key, 1,
                                              on_connect_event, g_object_ref (task), g_object_unref);
}

/* The Connect reply can overtake the Connected change on its way through
 * the worker's cache: wait until the cache agrees. */
static void
wait_connected (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);

  if (data->device_path == NULL)
    data->device_path = bleio_client_find_device (self->client, self->adapter_path, data->bluez_address);
  data->stage = STAGE_WAIT_CONNECTED;
  watch_connect_events (task);
  if (data->device_path != NULL &&
      bleio_client_get_boolean (self->client, data->device_path, BLEIO_IFACE_DEVICE, "Connected"))
    connect_finish_ok (g_steal_pointer (&task));
}

static void
discovery_started_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (self->client, result, &error);
  g_autofree char *path = NULL;

  if (data->stage != STAGE_DISCOVERY)
    return;
  if (reply == NULL && !g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_IN_PROGRESS))
    {
      connect_finish_error (g_steal_pointer (&task), g_steal_pointer (&error));
      return;
    }
  data->discovery_started = reply != NULL;
  path = bleio_client_find_device (self->client, self->adapter_path, data->bluez_address);
  if (path != NULL)
    connect_found (g_steal_pointer (&task), g_steal_pointer (&path));
}

static void
call_start_discovery (GTask *task)
{
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);

  /* Counted as started once sent: if the peer shows before the answer,
   * the attempt ends and cancels the call, but bluetoothd still starts
   * the session, which stop_filtered_discovery() must end. */
  data->discovery_started = TRUE;
  bleio_client_call (self->client, self->adapter_path, BLEIO_IFACE_ADAPTER, "StartDiscovery", NULL,
                     remaining_msec (task), data->op_cancellable, discovery_started_cb,
                     g_object_ref (task));
}

static void
discovery_filter_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (self->client, result, &error);

  if (data->stage != STAGE_DISCOVERY)
    return;
  /* A bluetoothd without Pattern (before 5.54) still discovers, unfiltered. */
  if (reply == NULL)
    g_debug ("discovery filter refused (%s); discovering unfiltered", error->message);
  data->filter_set = reply != NULL;
  call_start_discovery (task);
}

/* Temporary devices vanish 30 s after discovery: find the peer again, with
 * a discovery filtered on its address, unless our own scan already runs
 * (its filter stays as the application set it). */
static void
start_filtered_discovery (GTask *task)
{
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);
  GVariantBuilder filter;
  gboolean scanning;

  data->stage = STAGE_DISCOVERY;
  watch_connect_events (task);
  scanning = self->hooks->is_scanning (self->owner);
  if (scanning)
    {
      call_start_discovery (task);
      return;
    }
  g_variant_builder_init (&filter, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&filter, "{sv}", "Transport", g_variant_new_string ("le"));
  g_variant_builder_add (&filter, "{sv}", "Pattern", g_variant_new_string (data->bluez_address));
  data->filter_set = TRUE;      /* as discovery_started: once sent */
  bleio_client_call (self->client, self->adapter_path, BLEIO_IFACE_ADAPTER, "SetDiscoveryFilter",
                     g_variant_new ("(a{sv})", &filter), remaining_msec (task),
                     data->op_cancellable, discovery_filter_cb, g_object_ref (task));
}

static void
connect_device_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (self->client, result, &error);

  if (data->stage != STAGE_CONNECT_DEVICE)
    return;
  if (reply == NULL)
    {
      /* The method is experimental: without bluetoothd -E it is unknown. */
      if (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED))
        {
          g_debug ("ConnectDevice unavailable (%s): discovering %s first",
                   error->message, data->bluez_address);
          start_filtered_discovery (task);
          return;
        }
      if (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_ALREADY_EXISTS))
        {
          /* bluetoothd refuses ConnectDevice whenever it has an object
           * for the address, connected or not: connect that object, once
           * our view, which may be a moment behind, shows it. */
          g_autofree char *path = bleio_client_find_device (self->client, self->adapter_path,
                                                            data->bluez_address);

          if (path != NULL)
            {
              connect_found (g_steal_pointer (&task), g_steal_pointer (&path));
              return;
            }
          g_debug ("%s is known to bluetoothd: waiting for its object", data->bluez_address);
          data->stage = STAGE_FIND_KNOWN;
          return;
        }
      connect_finish_error (g_steal_pointer (&task), g_steal_pointer (&error));
      return;
    }
  /* bluetoothd answers with the device's path, although its introspection
   * declares no output. */
  if (g_variant_is_of_type (reply, G_VARIANT_TYPE ("(o)")))
    g_variant_get (reply, "(o)", &data->device_path);
  wait_connected (g_steal_pointer (&task));
}

static void
connect_start (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (data->stage != STAGE_QUEUED)
    return;
  late_undo_cancel (self, data->bluez_address);
  if (!self->hooks->check_usable (self->owner, &error))
    {
      connect_finish_error (g_steal_pointer (&task), error);
      return;
    }
  data->device_path = bleio_client_find_device (self->client, self->adapter_path, data->bluez_address);
  if (data->device_path != NULL)
    {
      call_connect (g_steal_pointer (&task));
      return;
    }
  connect_device (g_steal_pointer (&task));
}

static void
connect_device (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  BleioConnectQueue *self = queue_of (task);
  ConnectData *data = g_task_get_task_data (task);
  GVariantBuilder props;
  gint timeout_msec;

  data->tried_connect_device = TRUE;
  data->stage = STAGE_CONNECT_DEVICE;
  g_variant_builder_init (&props, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&props, "{sv}", "Address", g_variant_new_string (data->bluez_address));
  g_variant_builder_add (&props, "{sv}", "AddressType",
                         g_variant_new_string (bleio_address_get_address_type (data->address) ==
                                               BLEIO_ADDRESS_TYPE_PUBLIC ? "public" : "random"));
  timeout_msec = remaining_msec (task);
  watch_connect_events (task);
  bleio_client_call (self->client, self->adapter_path, BLEIO_IFACE_ADAPTER, "ConnectDevice",
                     g_variant_new ("(a{sv})", &props), timeout_msec,
                     data->op_cancellable, connect_device_cb, g_steal_pointer (&task));
}

BleioConnectQueue *
bleio_connect_queue_new (BleioClient             *client,
                         const char              *adapter_path,
                         const BleioConnectHooks *hooks,
                         gpointer                 owner)
{
  BleioConnectQueue *queue = g_new0 (BleioConnectQueue, 1);

  queue->client = bleio_client_ref (client);
  queue->adapter_path = g_strdup (adapter_path);
  queue->hooks = hooks;
  queue->owner = owner;
  g_mutex_init (&queue->lock);
  g_queue_init (&queue->tasks);
  queue->late_undos = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, bleio_late_undo_drop);
  return queue;
}

void
bleio_connect_queue_free (BleioConnectQueue *queue)
{
  if (queue == NULL)
    return;
  g_queue_clear (&queue->tasks);
  g_hash_table_unref (queue->late_undos);
  g_mutex_clear (&queue->lock);
  g_free (queue->adapter_path);
  bleio_client_unref (queue->client);
  g_free (queue);
}

gboolean
bleio_connect_queue_claims (BleioConnectQueue *queue,
                            const char        *bluez_address)
{
  BleioLateUndo *undo;
  gboolean claimed;

  g_mutex_lock (&queue->lock);
  /* A finished undo stays in the table until the next connect to its
   * address replaces it. */
  undo = g_hash_table_lookup (queue->late_undos, bluez_address);
  claimed = undo != NULL && !bleio_late_undo_is_finished (undo);
  for (GList *l = queue->tasks.head; l != NULL && !claimed; l = l->next)
    {
      ConnectData *data = g_task_get_task_data (l->data);

      claimed = g_ascii_strcasecmp (data->bluez_address, bluez_address) == 0;
    }
  g_mutex_unlock (&queue->lock);
  return claimed;
}

void
bleio_connect_queue_push (BleioConnectQueue  *queue,
                          GTask              *task,
                          const BleioAddress *address,
                          guint               timeout_msec,
                          GMainContext       *object_context)
{
  GCancellable *cancellable = g_task_get_cancellable (task);
  ConnectData *data;
  gboolean start_now;

  data = g_new0 (ConnectData, 1);
  data->queue = queue;
  data->address = bleio_address_copy (address);
  data->bluez_address = bleio_address_to_bluez_string (address);
  data->op_cancellable = g_cancellable_new ();
  data->object_context = g_main_context_ref (object_context);
  data->stage = STAGE_QUEUED;
  data->deadline = bleio_timeout_deadline (timeout_msec);
  g_task_set_task_data (task, data, (GDestroyNotify) connect_data_free);

  data->timeout_source = g_timeout_source_new (timeout_msec);
  g_source_set_callback (data->timeout_source, connect_timeout_cb, task, NULL);
  g_source_set_static_name (data->timeout_source, "[bleio] connect timeout");
  g_source_attach (data->timeout_source, g_task_get_context (task));
  if (cancellable != NULL)
    data->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (connect_cancelled),
                                             task, NULL);

  g_mutex_lock (&queue->lock);
  start_now = g_queue_is_empty (&queue->tasks);
  /* The queue holds a reference until connect_dequeue(); the timeout
   * source and the cancel handler rely on it. */
  g_queue_push_tail (&queue->tasks, g_object_ref (task));
  g_mutex_unlock (&queue->lock);

  if (start_now)
    connect_start (g_object_ref (task));
}
