/* SPDX-License-Identifier: MIT */
/*
 * BleioConnection's service discovery: waits until BlueZ has resolved the
 * peer's services and the tree in the cache has been quiet for a moment,
 * then builds the service objects, in handle order.
 */
#include "bleio-connection-private.h"
#include "bleio-service-private.h"
#include "bleio-timeout-private.h"
#include "bleio-values-private.h"
#include "bleio-sync-private.h"

#include <string.h>

#define SETTLE_MSEC 100
/* The bound when the caller gives none (0 or less), as documented. */
#define DEFAULT_DISCOVER_MSEC (30 * 1000)

typedef struct {
  GPtrArray *whitelist;         /* BleioUuid*, copies */
  guint watch_id;
  GSource *timeout_source;
  GSource *settle_source;
  gulong cancel_id;
  gboolean resolved;
  guint incomplete_settles;     /* quiet spells with a service still bare */
  char *prefix;                 /* device path + "/" */
} DiscoverData;

static void
discover_data_free (DiscoverData *data)
{
  g_clear_pointer (&data->whitelist, g_ptr_array_unref);
  g_free (data->prefix);
  g_free (data);
}

/* Detaches everything that could still call back; the task's context. */
static void
discover_cleanup (GTask *task)
{
  BleioConnection *self = g_task_get_source_object (task);
  DiscoverData *data = g_task_get_task_data (task);

  bleio_client_unwatch (bleio_connection_get_client (self), data->watch_id);
  data->watch_id = 0;
  if (data->timeout_source != NULL)
    {
      g_source_destroy (data->timeout_source);
      g_clear_pointer (&data->timeout_source, g_source_unref);
    }
  if (data->settle_source != NULL)
    {
      g_source_destroy (data->settle_source);
      g_clear_pointer (&data->settle_source, g_source_unref);
    }
  if (data->cancel_id != 0)
    {
      g_cancellable_disconnect (g_task_get_cancellable (task), data->cancel_id);
      data->cancel_id = 0;
    }
}

static gboolean
uuid_whitelisted (GPtrArray       *whitelist,
                  const BleioUuid *uuid)
{
  if (whitelist == NULL)
    return TRUE;
  for (guint i = 0; i < whitelist->len; i++)
    if (bleio_uuid_equal (g_ptr_array_index (whitelist, i), uuid))
      return TRUE;
  return FALSE;
}

static GPtrArray *
collect_services (BleioConnection *self,
                  GPtrArray       *whitelist)
{
  g_autoptr(GPtrArray) paths = bleio_client_list_paths (bleio_connection_get_client (self), BLEIO_IFACE_SERVICE, bleio_connection_get_object_path (self));
  GPtrArray *services = g_ptr_array_new_with_free_func (g_object_unref);

  bleio_gatt_sort_paths (paths, "service");
  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = g_ptr_array_index (paths, i);
      g_autoptr(GVariant) uuid_value = bleio_client_dup_property (bleio_connection_get_client (self), path, BLEIO_IFACE_SERVICE, "UUID");
      g_autoptr(GVariant) primary = bleio_client_dup_property (bleio_connection_get_client (self), path, BLEIO_IFACE_SERVICE, "Primary");
      BleioUuid *uuid;

      /* Services only, not characteristics of services (same interface
       * never appears deeper, but be strict about direct children). */
      if (strchr (path + strlen (bleio_connection_get_object_path (self)) + 1, '/') != NULL)
        continue;
      uuid = bleio_uuid_from_bluez_value (uuid_value);
      if (uuid == NULL)
        continue;
      if (!uuid_whitelisted (whitelist, uuid))
        {
          bleio_uuid_free (uuid);
          continue;
        }
      g_ptr_array_add (services,
                       bleio_service_new_remote (self, path, uuid,
                                          bleio_boolean_from_bluez_value (primary, TRUE)));
    }
  return services;
}

static void
discover_return (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  BleioConnection *self = g_task_get_source_object (task);
  DiscoverData *data = g_task_get_task_data (task);

  discover_cleanup (task);
  g_task_return_pointer (task, collect_services (self, data->whitelist),
                         (GDestroyNotify) g_ptr_array_unref);
}

static void
discover_fail (GTask  *task_in,
               GError *error)
{
  g_autoptr(GTask) task = task_in;

  discover_cleanup (task);
  g_task_return_error (task, error);
}

static gboolean
has_services (BleioConnection *self)
{
  g_autoptr(GPtrArray) paths = bleio_client_list_paths (bleio_connection_get_client (self), BLEIO_IFACE_SERVICE, bleio_connection_get_object_path (self));

  return paths->len > 0;
}

/* A service whose characteristics are not in the cache yet: on a loaded
 * machine (the e2e guest, load average near 20) the tree went quiet for
 * longer than SETTLE_MSEC between a service and its characteristics. */
#define SETTLE_INCOMPLETE_MAX 20

static gboolean
services_complete (BleioConnection *self)
{
  g_autoptr(GPtrArray) services = bleio_client_list_paths (bleio_connection_get_client (self), BLEIO_IFACE_SERVICE,
                                                           bleio_connection_get_object_path (self));

  for (guint i = 0; i < services->len; i++)
    {
      g_autoptr(GPtrArray) chars = bleio_client_list_paths (bleio_connection_get_client (self),
                                                            BLEIO_IFACE_CHARACTERISTIC,
                                                            g_ptr_array_index (services, i));

      if (chars->len == 0)
        return FALSE;
    }
  return TRUE;
}

/* Whether the tree can be returned as soon as ServicesResolved is true.
 * bluetoothd 5.66 sends the flag after the objects or before them: in
 * ../shared/bluez-5.66/signals-discovery-to-disconnect.json one device's
 * GATT objects all come before its ServicesResolved (signals 17-44),
 * another's trickle in over 90 ms after it (6-14). The cache already
 * holds everything sent before the flag (signals are applied in order),
 * so services that are there, each with its characteristics, are the
 * first case; none, or a bare service, is the second (bluez#1489), which
 * waits for the tree to settle. */
static gboolean
tree_ready (BleioConnection *self)
{
  return has_services (self) && services_complete (self);
}

static void restart_settle (GTask *task);

static gboolean
settle_cb (gpointer user_data)
{
  GTask *task = user_data;
  BleioConnection *self = g_task_get_source_object (task);
  DiscoverData *data = g_task_get_task_data (task);

  g_clear_pointer (&data->settle_source, g_source_unref);
  /* ServicesResolved may come before the objects (bluez#1489): wait for
   * at least one service, then for the tree to stay quiet. A service
   * without characteristics may still be on its way: wait a while longer
   * (a service may have none, so not for ever). */
  if (!has_services (self))
    return G_SOURCE_REMOVE;
  if (!services_complete (self) && data->incomplete_settles++ < SETTLE_INCOMPLETE_MAX)
    {
      restart_settle (task);
      return G_SOURCE_REMOVE;
    }
  discover_return (g_object_ref (task));
  return G_SOURCE_REMOVE;
}

static void
restart_settle (GTask *task)
{
  DiscoverData *data = g_task_get_task_data (task);

  if (data->settle_source != NULL)
    {
      g_source_destroy (data->settle_source);
      g_clear_pointer (&data->settle_source, g_source_unref);
    }
  data->settle_source = g_timeout_source_new (SETTLE_MSEC);
  g_source_set_callback (data->settle_source, settle_cb, task, NULL);
  g_source_set_static_name (data->settle_source, "[bleio] services settle");
  g_source_attach (data->settle_source, g_task_get_context (task));
}

/* In the task's context: the watch holds the task until cleanup. */
static void
on_discover_event (BleioClient            *client,
                   const BleioClientEvent *event,
                   gpointer                user_data)
{
  GTask *task = user_data;
  BleioConnection *self = g_task_get_source_object (task);
  DiscoverData *data = g_task_get_task_data (task);
  gboolean value = FALSE;

  if ((event->kind == BLEIO_CLIENT_EVENT_OWNER && !event->has_owner) ||
      (event->kind == BLEIO_CLIENT_EVENT_REMOVED && !bleio_client_has_owner (client)))
    {
      discover_fail (g_object_ref (task),
                     g_error_new_literal (BLEIO_ERROR, BLEIO_ERROR_BLUEZ_UNAVAILABLE,
                                          BLEIO_CONNECTION_BLUEZ_LEFT_MESSAGE));
      return;
    }
  if (event->path == NULL)
    return;
  if (g_str_equal (event->path, bleio_connection_get_object_path (self)) &&
      g_str_equal (event->interface, BLEIO_IFACE_DEVICE))
    {
      if (event->kind == BLEIO_CLIENT_EVENT_REMOVED ||
          (event->kind == BLEIO_CLIENT_EVENT_CHANGED &&
           g_variant_lookup (event->changed, "Connected", "b", &value) && !value))
        {
          discover_fail (g_object_ref (task),
                         g_error_new_literal (BLEIO_ERROR, BLEIO_ERROR_CONNECTION, BLEIO_CONNECTION_SPENT_MESSAGE));
          return;
        }
      if (event->kind == BLEIO_CLIENT_EVENT_CHANGED &&
          g_variant_lookup (event->changed, "ServicesResolved", "b", &value) && value &&
          !data->resolved)
        {
          data->resolved = TRUE;
          if (tree_ready (self))
            discover_return (g_object_ref (task));
          else
            restart_settle (task);
        }
      return;
    }
  if (data->resolved && event->kind == BLEIO_CLIENT_EVENT_ADDED &&
      g_str_has_prefix (event->path, data->prefix))
    restart_settle (task);
}

static gboolean
discover_timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  DiscoverData *data = g_task_get_task_data (task);
  BleioConnection *self = g_task_get_source_object (task);

  g_clear_pointer (&data->timeout_source, g_source_unref);
  if (data->resolved)
    {
      /* Resolved but no service ever appeared: report what there is. */
      discover_return (g_object_ref (task));
      return G_SOURCE_REMOVE;
    }
  g_debug ("services of %s not resolved in time", bleio_connection_get_object_path (self));
  discover_fail (g_object_ref (task),
                 g_error_new_literal (BLEIO_ERROR, BLEIO_ERROR_TIMEOUT,
                                      "Service discovery timed out: BlueZ did not "
                                      "resolve the services"));
  return G_SOURCE_REMOVE;
}

static gboolean
discover_cancelled_idle (gpointer user_data)
{
  GTask *task = user_data;
  DiscoverData *data = g_task_get_task_data (task);

  if (data->watch_id == 0)
    return G_SOURCE_REMOVE;     /* already returned */
  discover_fail (g_object_ref (task),
                 g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Operation was cancelled"));
  return G_SOURCE_REMOVE;
}

static void
discover_cancelled (GCancellable *cancellable,
                    gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(GSource) idle = g_idle_source_new ();

  g_source_set_callback (idle, discover_cancelled_idle, g_object_ref (task), g_object_unref);
  g_source_attach (idle, g_task_get_context (task));
}

void
bleio_connection_discover_remote_services_async (BleioConnection     *connection,
                                                 GPtrArray           *whitelist,
                                                 double               timeout,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  DiscoverData *data;
  GError *error = NULL;
  BleioClientWatchKey key = { NULL, NULL, TRUE, 0 };
  guint timeout_msec = DEFAULT_DISCOVER_MSEC;

  g_return_if_fail (BLEIO_IS_CONNECTION (connection));
  task = g_task_new (connection, cancellable, callback, user_data);
  g_task_set_source_tag (task, BLEIO_TAG (bleio_connection_discover_remote_services_async));

  data = g_new0 (DiscoverData, 1);
  data->prefix = g_strconcat (bleio_connection_get_object_path (connection), "/", NULL);
  if (whitelist != NULL)
    {
      data->whitelist = g_ptr_array_new_with_free_func ((GDestroyNotify) bleio_uuid_free);
      for (guint i = 0; i < whitelist->len; i++)
        g_ptr_array_add (data->whitelist, bleio_uuid_copy (g_ptr_array_index (whitelist, i)));
    }
  g_task_set_task_data (task, data, (GDestroyNotify) discover_data_free);

  /* 0 or less keeps its documented meaning, the default bound. */
  if (!(timeout <= 0) &&
      !bleio_timeout_to_msec (timeout, BLEIO_TIMEOUT_HUGE_IS_INVALID, "discovery timeout",
                              &timeout_msec, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (!bleio_connection_check_alive (connection, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* Subscribe first, check second. The watch keeps the task alive. */
  key.path = bleio_connection_get_object_path (connection);
  data->watch_id = bleio_client_watch_keys (bleio_connection_get_client (connection),
                                            g_task_get_context (task), &key, 1,
                                            on_discover_event, g_object_ref (task), g_object_unref);
  data->timeout_source = g_timeout_source_new (timeout_msec);
  g_source_set_callback (data->timeout_source, discover_timeout_cb, task, NULL);
  g_source_set_static_name (data->timeout_source, "[bleio] discover timeout");
  g_source_attach (data->timeout_source, g_task_get_context (task));
  if (cancellable != NULL)
    data->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (discover_cancelled),
                                             task, NULL);

  if (bleio_client_get_boolean (bleio_connection_get_client (connection), bleio_connection_get_object_path (connection),
                                BLEIO_IFACE_DEVICE, "ServicesResolved"))
    {
      data->resolved = TRUE;
      if (tree_ready (connection))
        {
          discover_return (g_steal_pointer (&task));
          return;
        }
      restart_settle (task);
    }
  /* From here the watch's reference carries the task. */
}

GPtrArray *
bleio_connection_discover_remote_services_finish (BleioConnection  *connection,
                                                  GAsyncResult     *result,
                                                  GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, connection), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

GPtrArray *
bleio_connection_discover_remote_services (BleioConnection  *connection,
                                           GPtrArray        *whitelist,
                                           double            timeout,
                                           GError          **error)
{
  BleioSync sync;
  GPtrArray *services;

  g_return_val_if_fail (BLEIO_IS_CONNECTION (connection), NULL);
  bleio_sync_begin (&sync);
  bleio_connection_discover_remote_services_async (connection, whitelist, timeout, NULL,
                                                   bleio_sync_callback, &sync);
  services = bleio_connection_discover_remote_services_finish (connection,
                                                               bleio_sync_wait (&sync), error);
  bleio_sync_end (&sync);
  return services;
}
