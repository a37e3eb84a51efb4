/* SPDX-License-Identifier: MIT */
/*
 * Finding an adapter: the default one, or one by interface name, object
 * path or address, once the client for the bus is ready.
 */
#include "bleio-adapter-private.h"
#include "bleio-sync-private.h"

#include <string.h>

typedef struct {
  char *name;
  GMainContext *context;
} FindData;

static void
find_data_free (FindData *data)
{
  g_free (data->name);
  g_clear_pointer (&data->context, g_main_context_unref);
  g_free (data);
}

static void
client_ready_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FindData *data = g_task_get_task_data (task);
  GError *error = NULL;
  BleioClient *client = bleio_client_get_finish (result, &error);
  g_autoptr(GPtrArray) paths = NULL;
  const char *found = NULL;

  if (client == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (!bleio_client_check_available (client, &error))
    {
      bleio_client_unref (client);
      g_task_return_error (task, error);
      return;
    }
  paths = bleio_client_list_paths (client, BLEIO_IFACE_ADAPTER, NULL);
  for (guint i = 0; i < paths->len && found == NULL; i++)
    {
      const char *path = g_ptr_array_index (paths, i);
      const char *base = strrchr (path, '/');
      g_autofree char *address = NULL;

      if (data->name == NULL)
        {
          found = path;
          break;
        }
      address = bleio_client_dup_string (client, path, BLEIO_IFACE_ADAPTER, "Address");
      if ((base != NULL && g_str_equal (base + 1, data->name)) ||
          g_str_equal (path, data->name) ||
          (address != NULL && g_ascii_strcasecmp (address, data->name) == 0))
        found = path;
    }
  if (found == NULL)
    {
      if (data->name == NULL)
        g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_NO_ADAPTER,
                                 "No Bluetooth adapter found; is a controller plugged "
                                 "in and not blocked (rfkill)?");
      else
        g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_NO_ADAPTER,
                                 "No Bluetooth adapter named %s", data->name);
      bleio_client_unref (client);
      return;
    }
  g_task_return_pointer (task, bleio_adapter_dup_for_path (client, found, data->context), g_object_unref);
  bleio_client_unref (client);
}

static void
adapter_find_async (GDBusConnection     *connection,
                    const char          *name,
                    GMainContext        *object_context,
                    gpointer             source_tag,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  FindData *data = g_new0 (FindData, 1);

  g_task_set_source_tag (task, source_tag);
  data->name = g_strdup (name);
  data->context = object_context != NULL ? g_main_context_ref (object_context)
                                         : g_main_context_ref_thread_default ();
  g_task_set_task_data (task, data, (GDestroyNotify) find_data_free);
  bleio_client_get_async (connection, cancellable, client_ready_cb, g_steal_pointer (&task));
}

void
bleio_adapter_get_default_async (GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  adapter_find_async (NULL, NULL, NULL, BLEIO_TAG (bleio_adapter_get_default_async),
                      cancellable, callback, user_data);
}

BleioAdapter *
bleio_adapter_get_default_finish (GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static BleioAdapter *
adapter_find_sync (GDBusConnection  *connection,
                   const char       *name,
                   GCancellable     *cancellable,
                   GError          **error)
{
  /* Signals go to the caller's context, not to the private one. */
  g_autoptr(GMainContext) caller = g_main_context_ref_thread_default ();
  BleioSync sync;
  BleioAdapter *adapter;

  bleio_sync_begin (&sync);
  adapter_find_async (connection, name, caller, BLEIO_TAG (adapter_find_sync), cancellable,
                      bleio_sync_callback, &sync);
  adapter = g_task_propagate_pointer (G_TASK (bleio_sync_wait (&sync)), error);
  bleio_sync_end (&sync);
  return adapter;
}

BleioAdapter *
bleio_adapter_get_default (GCancellable  *cancellable,
                           GError       **error)
{
  return adapter_find_sync (NULL, NULL, cancellable, error);
}

void
bleio_adapter_new_for_name_async (GDBusConnection     *connection,
                                  const char          *name_or_address,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_return_if_fail (connection == NULL || G_IS_DBUS_CONNECTION (connection));
  adapter_find_async (connection, name_or_address, NULL, BLEIO_TAG (bleio_adapter_new_for_name_async),
                      cancellable, callback, user_data);
}

BleioAdapter *
bleio_adapter_new_for_name_finish (GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

BleioAdapter *
bleio_adapter_new_for_name (GDBusConnection  *connection,
                            const char       *name_or_address,
                            GCancellable     *cancellable,
                            GError          **error)
{
  g_return_val_if_fail (connection == NULL || G_IS_DBUS_CONNECTION (connection), NULL);
  return adapter_find_sync (connection, name_or_address, cancellable, error);
}
