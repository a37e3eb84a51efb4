/* SPDX-License-Identifier: MIT */
/*
 * BleioAdapter: finding adapters, their properties, scanning and the
 * connect queue.
 */
#include "bleio-adapter-private.h"
#include "bleio-agent-private.h"
#include "bleio-values-private.h"

#include <string.h>

#define DEFAULT_BUFFER_SIZE 512
#define UNDO_TIMEOUT_MSEC 5000

struct _BleioAdapter {
  GObject parent_instance;

  BleioClient *client;
  char *path;
  char *name;
  GMainContext *context;

  GMutex lock;
  BleioScanResults *scan;
  gboolean scan_starting;
  GQueue connect_queue;         /* GTask*, head is running */
  GHashTable *late_undos;       /* BlueZ address -> LateUndo* */
};

G_DEFINE_FINAL_TYPE (BleioAdapter, bleio_adapter, G_TYPE_OBJECT)

static void late_undo_drop (gpointer user_data);

static void
bleio_adapter_finalize (GObject *object)
{
  BleioAdapter *self = BLEIO_ADAPTER (object);

  /* A scan nobody can stop any more: end it and our discovery session. */
  if (self->scan != NULL && bleio_scan_results_end (self->scan, NULL) &&
      bleio_client_has_owner (self->client))
    bleio_client_call (self->client, self->path, BLEIO_IFACE_ADAPTER, "StopDiscovery",
                       NULL, -1, NULL, NULL, NULL);
  g_clear_object (&self->scan);
  g_queue_clear (&self->connect_queue);
  g_hash_table_unref (self->late_undos);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->path);
  g_free (self->name);
  bleio_client_unref (self->client);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (bleio_adapter_parent_class)->finalize (object);
}

static void
bleio_adapter_class_init (BleioAdapterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bleio_adapter_finalize;
}

static void
bleio_adapter_init (BleioAdapter *self)
{
  g_mutex_init (&self->lock);
  g_queue_init (&self->connect_queue);
  self->late_undos = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, late_undo_drop);
}

static gboolean
check_usable (BleioAdapter  *self,
              GError       **error)
{
  if (!bleio_client_check_available (self->client, error))
    return FALSE;
  if (!bleio_client_has_interface (self->client, self->path, BLEIO_IFACE_ADAPTER))
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NO_ADAPTER,
                   "The Bluetooth adapter %s is gone", self->name);
      return FALSE;
    }
  return TRUE;
}

/* ---- finding adapters ----------------------------------------------------- */

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

static BleioAdapter *
adapter_for_path (BleioClient  *client,
                  const char   *path,
                  GMainContext *context)
{
  GObject *existing = bleio_client_dup_adapter (client, path);
  BleioAdapter *self;
  const char *base;

  if (existing != NULL)
    return BLEIO_ADAPTER (existing);
  self = g_object_new (BLEIO_TYPE_ADAPTER, NULL);
  self->client = bleio_client_ref (client);
  self->path = g_strdup (path);
  base = strrchr (path, '/');
  self->name = g_strdup (base != NULL ? base + 1 : path);
  self->context = g_main_context_ref (context);
  bleio_client_set_adapter (client, path, G_OBJECT (self));
  return self;
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
  g_task_return_pointer (task, adapter_for_path (client, found, data->context), g_object_unref);
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

/* ---- properties ------------------------------------------------------------ */

const char *
bleio_adapter_get_object_path (BleioAdapter *adapter)
{
  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), NULL);
  return adapter->path;
}

const char *
bleio_adapter_get_interface_name (BleioAdapter *adapter)
{
  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), NULL);
  return adapter->name;
}

GPtrArray *
bleio_adapter_dup_all (BleioAdapter *adapter)
{
  g_autoptr(GPtrArray) paths = NULL;
  GPtrArray *adapters;

  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), NULL);
  adapters = g_ptr_array_new_with_free_func (g_object_unref);
  if (!bleio_client_has_owner (adapter->client))
    return adapters;
  paths = bleio_client_list_paths (adapter->client, BLEIO_IFACE_ADAPTER, NULL);
  for (guint i = 0; i < paths->len; i++)
    g_ptr_array_add (adapters, adapter_for_path (adapter->client, g_ptr_array_index (paths, i),
                                                 adapter->context));
  return adapters;
}

gboolean
bleio_adapter_is_present (BleioAdapter *adapter)
{
  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), FALSE);
  return bleio_client_has_interface (adapter->client, adapter->path, BLEIO_IFACE_ADAPTER);
}

gboolean
bleio_adapter_get_enabled (BleioAdapter *adapter)
{
  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), FALSE);
  return bleio_client_get_boolean (adapter->client, adapter->path, BLEIO_IFACE_ADAPTER, "Powered");
}

BleioAddress *
bleio_adapter_dup_address (BleioAdapter *adapter)
{
  g_autoptr(GVariant) address = NULL;
  g_autoptr(GVariant) type = NULL;

  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), NULL);
  address = bleio_client_dup_property (adapter->client, adapter->path, BLEIO_IFACE_ADAPTER, "Address");
  type = bleio_client_dup_property (adapter->client, adapter->path, BLEIO_IFACE_ADAPTER, "AddressType");
  return bleio_address_from_bluez_values (address, type);
}

char *
bleio_adapter_dup_name (BleioAdapter *adapter)
{
  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), NULL);
  return bleio_client_dup_string (adapter->client, adapter->path, BLEIO_IFACE_ADAPTER, "Alias");
}

typedef struct {
  char *property;
  GVariant *value;
} SetData;

static void
set_data_free (SetData *data)
{
  g_free (data->property);
  g_variant_unref (data->value);
  g_free (data);
}

static void
property_cached_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;

  /* Whether or not the cache caught up in time, the change was made. */
  bleio_client_wait_property_finish (result);
  g_task_return_boolean (task, TRUE);
}

static void
set_property_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioAdapter *self = g_task_get_source_object (task);
  SetData *data = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (self->client, result, &error);

  if (reply == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* The reply can overtake the PropertiesChanged on its way through the
   * worker's cache: wait for it so that getters agree on return. */
  /* data->value is not floating: the wait takes a reference of its own. */
  bleio_client_wait_property_async (self->client, self->path, BLEIO_IFACE_ADAPTER,
                                    data->property, data->value, 2000,
                                    property_cached_cb, g_steal_pointer (&task));
}

static void
set_adapter_property (BleioAdapter        *self,
                      const char          *property,
                      GVariant            *value,
                      gpointer             source_tag,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  GError *error = NULL;
  SetData *data = g_new0 (SetData, 1);

  g_task_set_source_tag (task, source_tag);
  data->property = g_strdup (property);
  data->value = g_variant_ref_sink (value);
  g_task_set_task_data (task, data, (GDestroyNotify) set_data_free);
  if (!check_usable (self, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  /* g_variant_new ("v") references a value that is not floating. */
  bleio_client_set_property (self->client, self->path, BLEIO_IFACE_ADAPTER, property,
                             data->value, cancellable, set_property_cb,
                             g_steal_pointer (&task));
}

void
bleio_adapter_set_enabled_async (BleioAdapter        *adapter,
                                 gboolean             enabled,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  set_adapter_property (adapter, "Powered", g_variant_new_boolean (enabled),
                        BLEIO_TAG (bleio_adapter_set_enabled_async), cancellable, callback, user_data);
}

gboolean
bleio_adapter_set_enabled_finish (BleioAdapter  *adapter,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, adapter), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
bleio_adapter_set_enabled (BleioAdapter  *adapter,
                           gboolean       enabled,
                           GError       **error)
{
  BleioSync sync;
  gboolean ok;

  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), FALSE);
  bleio_sync_begin (&sync);
  bleio_adapter_set_enabled_async (adapter, enabled, NULL, bleio_sync_callback, &sync);
  ok = bleio_adapter_set_enabled_finish (adapter, bleio_sync_wait (&sync), error);
  bleio_sync_end (&sync);
  return ok;
}

void
bleio_adapter_set_name_async (BleioAdapter        *adapter,
                              const char          *name,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  g_return_if_fail (name != NULL);
  set_adapter_property (adapter, "Alias", g_variant_new_string (name),
                        BLEIO_TAG (bleio_adapter_set_name_async), cancellable, callback, user_data);
}

gboolean
bleio_adapter_set_name_finish (BleioAdapter  *adapter,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, adapter), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
bleio_adapter_set_name (BleioAdapter  *adapter,
                        const char    *name,
                        GError       **error)
{
  BleioSync sync;
  gboolean ok;

  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), FALSE);
  bleio_sync_begin (&sync);
  bleio_adapter_set_name_async (adapter, name, NULL, bleio_sync_callback, &sync);
  ok = bleio_adapter_set_name_finish (adapter, bleio_sync_wait (&sync), error);
  bleio_sync_end (&sync);
  return ok;
}

static GPtrArray *
connected_devices (BleioAdapter *self)
{
  g_autoptr(GPtrArray) paths = bleio_client_list_paths (self->client, BLEIO_IFACE_DEVICE, self->path);
  GPtrArray *connected = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = g_ptr_array_index (paths, i);

      if (bleio_client_get_boolean (self->client, path, BLEIO_IFACE_DEVICE, "Connected"))
        g_ptr_array_add (connected, g_strdup (path));
    }
  return connected;
}

gboolean
bleio_adapter_get_connected (BleioAdapter *adapter)
{
  g_autoptr(GPtrArray) connected = NULL;

  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), FALSE);
  connected = connected_devices (adapter);
  return connected->len > 0;
}

GPtrArray *
bleio_adapter_dup_connections (BleioAdapter *adapter)
{
  g_autoptr(GPtrArray) connected = NULL;
  GPtrArray *connections;

  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), NULL);
  connected = connected_devices (adapter);
  connections = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < connected->len; i++)
    {
      BleioConnection *connection =
        bleio_connection_dup_for_path (adapter->client, adapter->path,
                                       g_ptr_array_index (connected, i), adapter->context);

      if (bleio_connection_get_connected (connection))
        g_ptr_array_add (connections, connection);
      else
        g_object_unref (connection);
    }
  return connections;
}

/* ---- erase_bonding ---------------------------------------------------------- */

typedef struct {
  GPtrArray *paths;
  guint next;
  GError *first_error;
} EraseData;

static void
erase_data_free (EraseData *data)
{
  g_ptr_array_unref (data->paths);
  g_clear_error (&data->first_error);
  g_free (data);
}

static void erase_next (GTask *task);

static void
remove_device_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioAdapter *self = g_task_get_source_object (task);
  EraseData *data = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (self->client, result, &error);

  if (reply == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, error);
          return;
        }
      if (data->first_error == NULL)
        data->first_error = error;
      else
        g_error_free (error);
    }
  erase_next (g_steal_pointer (&task));
}

static void
erase_next (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  BleioAdapter *self = g_task_get_source_object (task);
  EraseData *data = g_task_get_task_data (task);
  GCancellable *cancellable;

  if (data->next >= data->paths->len)
    {
      if (data->first_error != NULL)
        g_task_return_error (task, g_steal_pointer (&data->first_error));
      else
        g_task_return_boolean (task, TRUE);
      return;
    }
  cancellable = g_task_get_cancellable (task);
  bleio_client_call (self->client, self->path, BLEIO_IFACE_ADAPTER, "RemoveDevice",
                     g_variant_new ("(o)", (const char *) g_ptr_array_index (data->paths, data->next++)),
                     -1, cancellable, remove_device_cb, g_steal_pointer (&task));
}

void
bleio_adapter_erase_bonding_async (BleioAdapter        *adapter,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GPtrArray) paths = NULL;
  EraseData *data;
  GError *error = NULL;

  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  task = g_task_new (adapter, cancellable, callback, user_data);
  g_task_set_source_tag (task, BLEIO_TAG (bleio_adapter_erase_bonding_async));
  if (!check_usable (adapter, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  data = g_new0 (EraseData, 1);
  data->paths = g_ptr_array_new_with_free_func (g_free);
  paths = bleio_client_list_paths (adapter->client, BLEIO_IFACE_DEVICE, adapter->path);
  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = g_ptr_array_index (paths, i);

      if (bleio_client_get_boolean (adapter->client, path, BLEIO_IFACE_DEVICE, "Paired") ||
          bleio_client_get_boolean (adapter->client, path, BLEIO_IFACE_DEVICE, "Bonded"))
        g_ptr_array_add (data->paths, g_strdup (path));
    }
  g_task_set_task_data (task, data, (GDestroyNotify) erase_data_free);
  erase_next (g_steal_pointer (&task));
}

gboolean
bleio_adapter_erase_bonding_finish (BleioAdapter  *adapter,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, adapter), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
bleio_adapter_erase_bonding (BleioAdapter  *adapter,
                             GError       **error)
{
  BleioSync sync;
  gboolean ok;

  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), FALSE);
  bleio_sync_begin (&sync);
  bleio_adapter_erase_bonding_async (adapter, NULL, bleio_sync_callback, &sync);
  ok = bleio_adapter_erase_bonding_finish (adapter, bleio_sync_wait (&sync), error);
  bleio_sync_end (&sync);
  return ok;
}

/* ---- scanning ----------------------------------------------------------------- */

typedef struct {
  GBytes *prefixes;
  gsize buffer_size;
  double timeout;
  int minimum_rssi;
  BleioScanResults *results;
} ScanData;

static void
scan_data_free (ScanData *data)
{
  g_clear_pointer (&data->prefixes, g_bytes_unref);
  g_clear_object (&data->results);
  g_free (data);
}

static void
scan_failed (GTask  *task_in,
             GError *error)
{
  g_autoptr(GTask) task = task_in;
  BleioAdapter *self = g_task_get_source_object (task);
  ScanData *data = g_task_get_task_data (task);

  if (data->results != NULL)
    bleio_scan_results_end (data->results, g_error_copy (error));
  g_mutex_lock (&self->lock);
  self->scan_starting = FALSE;
  g_mutex_unlock (&self->lock);
  g_task_return_error (task, error);
}

static void
start_discovery_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioAdapter *self = g_task_get_source_object (task);
  ScanData *data = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (self->client, result, &error);

  /* InProgress: this connection's discovery session already runs (a scan
   * that timed out, or a connect's filtered discovery): share it. */
  if (reply == NULL && !g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_IN_PROGRESS))
    {
      scan_failed (g_steal_pointer (&task), error);
      return;
    }
  g_clear_error (&error);
  g_mutex_lock (&self->lock);
  g_set_object (&self->scan, data->results);
  self->scan_starting = FALSE;
  g_mutex_unlock (&self->lock);
  g_task_return_pointer (task, g_object_ref (data->results), g_object_unref);
}

static void
set_filter_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioAdapter *self = g_task_get_source_object (task);
  ScanData *data = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (self->client, result, &error);
  GCancellable *cancellable;

  if (reply == NULL)
    {
      scan_failed (g_steal_pointer (&task), error);
      return;
    }
  data->results = bleio_scan_results_new (self->client, self->path, self->context,
                                          data->prefixes, data->buffer_size,
                                          data->minimum_rssi, data->timeout);
  cancellable = g_task_get_cancellable (task);
  bleio_client_call (self->client, self->path, BLEIO_IFACE_ADAPTER, "StartDiscovery",
                     NULL, -1, cancellable, start_discovery_cb, g_steal_pointer (&task));
}

void
bleio_adapter_start_scan_async (BleioAdapter        *adapter,
                                GBytes              *prefixes,
                                gsize                buffer_size,
                                gboolean             extended,
                                double               timeout,
                                double               interval,
                                double               window,
                                int                  minimum_rssi,
                                gboolean             active,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ScanData *data;
  GError *error = NULL;
  GVariantBuilder filter;
  gboolean busy;

  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  task = g_task_new (adapter, cancellable, callback, user_data);
  g_task_set_source_tag (task, BLEIO_TAG (bleio_adapter_start_scan_async));

  if (!check_usable (adapter, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (prefixes != NULL && g_bytes_get_size (prefixes) > 0 &&
      !bleio_ad_validate (g_bytes_get_data (prefixes, NULL), g_bytes_get_size (prefixes), NULL))
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                               "prefixes must be a run of [length][AD type][data] structures");
      return;
    }
  g_mutex_lock (&adapter->lock);
  busy = adapter->scan_starting ||
         (adapter->scan != NULL && !bleio_scan_results_is_done (adapter->scan));
  if (!busy)
    adapter->scan_starting = TRUE;
  g_mutex_unlock (&adapter->lock);
  if (busy)
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_IN_PROGRESS,
                               "A scan is already running on %s; stop it first",
                               adapter->name);
      return;
    }

  g_debug ("scan on %s: extended=%d interval=%g window=%g active=%d are left to BlueZ",
           adapter->name, extended, interval, window, active);
  data = g_new0 (ScanData, 1);
  data->prefixes = prefixes != NULL ? g_bytes_ref (prefixes) : NULL;
  data->buffer_size = buffer_size > 0 ? buffer_size : DEFAULT_BUFFER_SIZE;
  data->timeout = timeout;
  data->minimum_rssi = minimum_rssi;
  g_task_set_task_data (task, data, (GDestroyNotify) scan_data_free);

  g_variant_builder_init (&filter, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&filter, "{sv}", "Transport", g_variant_new_string ("le"));
  g_variant_builder_add (&filter, "{sv}", "DuplicateData", g_variant_new_boolean (TRUE));
  /* No "RSSI" in the filter: the kernel then drops every advertisement
   * whose controller reports no RSSI (0x7f), so those peers could never be
   * found (btvirt's, in the e2e suite). minimum_rssi is applied to the
   * entries instead, and an unknown RSSI (127) passes it. */
  bleio_client_call (adapter->client, adapter->path, BLEIO_IFACE_ADAPTER, "SetDiscoveryFilter",
                     g_variant_new ("(a{sv})", &filter), -1, cancellable, set_filter_cb,
                     g_steal_pointer (&task));
}

BleioScanResults *
bleio_adapter_start_scan_finish (BleioAdapter  *adapter,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, adapter), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

BleioScanResults *
bleio_adapter_start_scan (BleioAdapter  *adapter,
                          GBytes        *prefixes,
                          gsize          buffer_size,
                          gboolean       extended,
                          double         timeout,
                          double         interval,
                          double         window,
                          int            minimum_rssi,
                          gboolean       active,
                          GError       **error)
{
  BleioSync sync;
  BleioScanResults *results;

  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), NULL);
  bleio_sync_begin (&sync);
  bleio_adapter_start_scan_async (adapter, prefixes, buffer_size, extended, timeout,
                                  interval, window, minimum_rssi, active, NULL,
                                  bleio_sync_callback, &sync);
  results = bleio_adapter_start_scan_finish (adapter, bleio_sync_wait (&sync), error);
  bleio_sync_end (&sync);
  return results;
}

static void
stop_discovery_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioAdapter *self = g_task_get_source_object (task);
  GError *error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (self->client, result, &error);

  /* "No discovery started" (the scan's own timeout stopped it) and a
   * vanished bluetoothd both leave nothing to stop. */
  if (reply == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, error);
      return;
    }
  g_clear_error (&error);
  g_task_return_boolean (task, TRUE);
}

void
bleio_adapter_stop_scan_async (BleioAdapter        *adapter,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(BleioScanResults) scan = NULL;

  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  task = g_task_new (adapter, cancellable, callback, user_data);
  g_task_set_source_tag (task, BLEIO_TAG (bleio_adapter_stop_scan_async));

  g_mutex_lock (&adapter->lock);
  scan = g_steal_pointer (&adapter->scan);
  g_mutex_unlock (&adapter->lock);
  if (scan == NULL || !bleio_scan_results_end (scan, NULL) ||
      !bleio_client_has_owner (adapter->client))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  bleio_client_call (adapter->client, adapter->path, BLEIO_IFACE_ADAPTER, "StopDiscovery",
                     NULL, -1, cancellable, stop_discovery_cb, g_steal_pointer (&task));
}

gboolean
bleio_adapter_stop_scan_finish (BleioAdapter  *adapter,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, adapter), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
bleio_adapter_stop_scan (BleioAdapter  *adapter,
                         GError       **error)
{
  BleioSync sync;
  gboolean ok;

  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), FALSE);
  bleio_sync_begin (&sync);
  bleio_adapter_stop_scan_async (adapter, NULL, bleio_sync_callback, &sync);
  ok = bleio_adapter_stop_scan_finish (adapter, bleio_sync_wait (&sync), error);
  bleio_sync_end (&sync);
  return ok;
}


/* ---- undoing a connect that completes after we gave up ----------------------- */

/* When an attempt is abandoned while Adapter1.ConnectDevice runs and BlueZ
 * has no Device1 object to disconnect yet, bluetoothd may still finish the
 * link later. A LateUndo watches (on the worker thread) for that device to
 * come up connected within LATE_UNDO_MSEC and disconnects it, unless a new
 * connect to the same address cancels it first. */
#define LATE_UNDO_MSEC 45000

typedef struct {
  gint ref_count;
  BleioClient *client;
  char *adapter_path;
  char *address;
  guint watch_id;
  GSource *expiry;
  gint finished;                /* atomic */
} LateUndo;

static LateUndo *
late_undo_ref (LateUndo *undo)
{
  g_atomic_int_inc (&undo->ref_count);
  return undo;
}

static void
late_undo_unref (gpointer user_data)
{
  LateUndo *undo = user_data;

  if (!g_atomic_int_dec_and_test (&undo->ref_count))
    return;
  if (undo->expiry != NULL)
    {
      g_source_destroy (undo->expiry);
      g_source_unref (undo->expiry);
    }
  bleio_client_unref (undo->client);
  g_free (undo->adapter_path);
  g_free (undo->address);
  g_free (undo);
}

/* Any thread; idempotent. */
static void
late_undo_finish (LateUndo *undo)
{
  if (!g_atomic_int_compare_and_exchange (&undo->finished, 0, 1))
    return;
  bleio_client_unwatch (undo->client, undo->watch_id);
  if (undo->expiry != NULL)
    g_source_destroy (undo->expiry);
}

static void
late_disconnect_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  LateUndo *undo = user_data;
  GVariant *reply = bleio_client_call_finish (undo->client, result, NULL);

  g_clear_pointer (&reply, g_variant_unref);
  late_undo_unref (undo);
}

/* Worker thread. */
static void
on_late_undo_event (BleioClient            *client,
                    const BleioClientEvent *event,
                    gpointer                user_data)
{
  LateUndo *undo = user_data;
  g_autofree char *path = NULL;

  if (g_atomic_int_get (&undo->finished) || event->interface == NULL ||
      !g_str_equal (event->interface, BLEIO_IFACE_DEVICE) ||
      event->kind == BLEIO_CLIENT_EVENT_REMOVED)
    return;
  path = bleio_client_find_device (client, undo->adapter_path, undo->address);
  if (path == NULL || !g_str_equal (path, event->path))
    return;
  if (!bleio_client_get_boolean (client, path, BLEIO_IFACE_DEVICE, "Connected"))
    {
      /* bluetoothd exports the device of a ConnectDevice once its link is
       * up. One that shows up without a link came from elsewhere (a scan):
       * a link it gets later is another program's connect, left alone. */
      late_undo_finish (undo);
      return;
    }
  g_debug ("%s connected after its attempt was abandoned: disconnecting", path);
  bleio_client_call (client, path, BLEIO_IFACE_DEVICE, "Disconnect", NULL, -1, NULL,
                     late_disconnect_cb, late_undo_ref (undo));
  late_undo_finish (undo);
}

static gboolean
late_undo_expired (gpointer user_data)
{
  late_undo_finish (user_data);
  return G_SOURCE_REMOVE;
}

static void
late_undo_start (BleioAdapter *self,
                 const char   *address)
{
  LateUndo *undo = g_new0 (LateUndo, 1);

  undo->ref_count = 1;
  undo->client = bleio_client_ref (self->client);
  undo->adapter_path = g_strdup (self->path);
  undo->address = g_strdup (address);
  undo->expiry = g_timeout_source_new (LATE_UNDO_MSEC);
  g_source_set_callback (undo->expiry, late_undo_expired, late_undo_ref (undo), late_undo_unref);
  g_source_set_static_name (undo->expiry, "[bleio] late undo");
  g_source_attach (undo->expiry, bleio_client_get_worker_context (self->client));
  undo->watch_id = bleio_client_watch (self->client, NULL, on_late_undo_event,
                                       late_undo_ref (undo), late_undo_unref);
  g_mutex_lock (&self->lock);
  g_hash_table_replace (self->late_undos, g_strdup (address), undo);
  g_mutex_unlock (&self->lock);
}

static void
late_undo_cancel (BleioAdapter *self,
                  const char   *address)
{
  LateUndo *undo = NULL;
  g_autofree char *key = NULL;

  g_mutex_lock (&self->lock);
  g_hash_table_steal_extended (self->late_undos, address, (gpointer *) &key, (gpointer *) &undo);
  g_mutex_unlock (&self->lock);
  if (undo != NULL)
    {
      late_undo_finish (undo);
      late_undo_unref (undo);
    }
}

static void
late_undo_drop (gpointer user_data)
{
  LateUndo *undo = user_data;

  late_undo_finish (undo);
  late_undo_unref (undo);
}

/* ---- connect -------------------------------------------------------------------- */

typedef enum {
  STAGE_QUEUED,
  STAGE_CONNECT_DEVICE,
  STAGE_DISCOVERY,
  STAGE_CONNECT,
  STAGE_WAIT_CONNECTED,
  STAGE_UNDOING,
  STAGE_DONE,
} ConnectStage;

typedef struct {
  BleioAddress *address;
  char *bluez_address;
  double timeout;
  char *device_path;
  GCancellable *op_cancellable;
  GSource *timeout_source;
  gulong cancel_id;
  guint watch_id;
  gboolean retried;
  gboolean tried_connect_device;
  gboolean filter_set;
  gboolean discovery_started;
  ConnectStage stage;
  GError *undo_error;           /* returned once the undo finished */
  GMainContext *object_context;
} ConnectData;

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
connect_dequeue (BleioAdapter *self,
                 GTask        *task)
{
  GTask *next = NULL;
  gboolean was_head;
  gboolean removed;

  g_mutex_lock (&self->lock);
  was_head = g_queue_peek_head (&self->connect_queue) == task;
  removed = g_queue_remove (&self->connect_queue, task);
  if (was_head)
    next = g_queue_peek_head (&self->connect_queue);
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
  BleioAdapter *self = g_task_get_source_object (task);
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
  BleioAdapter *self = g_task_get_source_object (task);
  ConnectData *data = g_task_get_task_data (task);
  gboolean scanning;

  if (!data->discovery_started && !data->filter_set)
    return;
  g_mutex_lock (&self->lock);
  scanning = self->scan != NULL && !bleio_scan_results_is_done (self->scan);
  g_mutex_unlock (&self->lock);
  /* Our scan shares the same discovery session: leave it running. */
  if (!scanning && data->discovery_started)
    bleio_client_call (self->client, self->path, BLEIO_IFACE_ADAPTER, "StopDiscovery",
                       NULL, -1, NULL, NULL, NULL);
  /* Leave no address filter behind on this bus connection. */
  if (!scanning && data->filter_set)
    bleio_client_call (self->client, self->path, BLEIO_IFACE_ADAPTER, "SetDiscoveryFilter",
                       g_variant_new ("(@a{sv})", g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)),
                       -1, NULL, NULL, NULL);
  data->discovery_started = FALSE;
  data->filter_set = FALSE;
}

static void
connect_finish_ok (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  BleioAdapter *self = g_task_get_source_object (task);
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
  connection = bleio_connection_dup_for_path (self->client, self->path, data->device_path,
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
  BleioAdapter *self = g_task_get_source_object (task);
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
  BleioAdapter *self = g_task_get_source_object (task);
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
  BleioAdapter *self = g_task_get_source_object (task);
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
                                   : bleio_client_find_device (self->client, self->path,
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
  gint64 deadline = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (task), "bleio-deadline"));
  gint64 left = (deadline - g_get_monotonic_time ()) / 1000;

  /* Our own timer decides; let D-Bus wait a little longer than it. */
  return (gint) CLAMP (left + 1000, 1000, G_MAXINT);
}

static void wait_connected (GTask *task);
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
  BleioAdapter *self = g_task_get_source_object (task);
  ConnectData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (self->client, result, &error);

  if (data->stage != STAGE_CONNECT)
    return;                     /* aborted meanwhile */
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
  wait_connected (g_steal_pointer (&task));
}

static void
call_connect (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  BleioAdapter *self = g_task_get_source_object (task);
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
  BleioAdapter *self = g_task_get_source_object (task);
  ConnectData *data = g_task_get_task_data (task);
  g_autofree char *path = bleio_client_find_device (self->client, self->path, data->bluez_address);

  if (path == NULL || !bleio_client_get_boolean (self->client, path, BLEIO_IFACE_DEVICE, "Connected"))
    return FALSE;
  if (data->device_path == NULL)
    data->device_path = g_steal_pointer (&path);
  return TRUE;
}

static void
on_connect_event (BleioClient            *client,
                  const BleioClientEvent *event,
                  gpointer                user_data)
{
  GTask *task = user_data;
  BleioAdapter *self = g_task_get_source_object (task);
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

  if (data->stage == STAGE_DISCOVERY && event->kind != BLEIO_CLIENT_EVENT_REMOVED)
    {
      g_autofree char *path = bleio_client_find_device (self->client, self->path,
                                                        data->bluez_address);

      if (path != NULL)
        {
          bleio_client_unwatch (self->client, data->watch_id);
          data->watch_id = 0;
          data->device_path = g_steal_pointer (&path);
          stop_filtered_discovery (task);
          call_connect (g_object_ref (task));
        }
      return;
    }
  if (data->stage == STAGE_CONNECT || data->stage == STAGE_CONNECT_DEVICE)
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
    data->device_path = bleio_client_find_device (self->client, self->path, data->bluez_address);
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
  BleioAdapter *self = g_task_get_source_object (task);
  ConnectData *data = g_task_get_task_data (task);

  if (data->watch_id == 0)
    data->watch_id = bleio_client_watch (self->client, g_task_get_context (task),
                                         on_connect_event, g_object_ref (task), g_object_unref);
}

/* The Connect reply can overtake the Connected change on its way through
 * the worker's cache: wait until the cache agrees. */
static void
wait_connected (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  BleioAdapter *self = g_task_get_source_object (task);
  ConnectData *data = g_task_get_task_data (task);

  if (data->device_path == NULL)
    data->device_path = bleio_client_find_device (self->client, self->path, data->bluez_address);
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
  BleioAdapter *self = g_task_get_source_object (task);
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
  path = bleio_client_find_device (self->client, self->path, data->bluez_address);
  if (path != NULL)
    {
      bleio_client_unwatch (self->client, data->watch_id);
      data->watch_id = 0;
      data->device_path = g_steal_pointer (&path);
      stop_filtered_discovery (task);
      call_connect (g_steal_pointer (&task));
    }
}

static void
discovery_filter_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioAdapter *self = g_task_get_source_object (task);
  ConnectData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (self->client, result, &error);

  if (data->stage != STAGE_DISCOVERY)
    return;
  /* A bluetoothd without Pattern (before 5.54) still discovers, unfiltered. */
  if (reply == NULL)
    g_debug ("discovery filter refused (%s); discovering unfiltered", error->message);
  data->filter_set = reply != NULL;
  bleio_client_call (self->client, self->path, BLEIO_IFACE_ADAPTER, "StartDiscovery", NULL,
                     remaining_msec (task), data->op_cancellable, discovery_started_cb,
                     g_object_ref (task));
}

/* Temporary devices vanish 30 s after discovery: find the peer again, with
 * a discovery filtered on its address, unless our own scan already runs
 * (its filter stays as the application set it). */
static void
start_filtered_discovery (GTask *task)
{
  BleioAdapter *self = g_task_get_source_object (task);
  ConnectData *data = g_task_get_task_data (task);
  GVariantBuilder filter;
  gboolean scanning;

  data->stage = STAGE_DISCOVERY;
  watch_connect_events (task);
  g_mutex_lock (&self->lock);
  scanning = self->scan != NULL && !bleio_scan_results_is_done (self->scan);
  g_mutex_unlock (&self->lock);
  if (scanning)
    {
      bleio_client_call (self->client, self->path, BLEIO_IFACE_ADAPTER, "StartDiscovery", NULL,
                         remaining_msec (task), data->op_cancellable, discovery_started_cb,
                         g_object_ref (task));
      return;
    }
  g_variant_builder_init (&filter, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&filter, "{sv}", "Transport", g_variant_new_string ("le"));
  g_variant_builder_add (&filter, "{sv}", "Pattern", g_variant_new_string (data->bluez_address));
  bleio_client_call (self->client, self->path, BLEIO_IFACE_ADAPTER, "SetDiscoveryFilter",
                     g_variant_new ("(a{sv})", &filter), remaining_msec (task),
                     data->op_cancellable, discovery_filter_cb, g_object_ref (task));
}

static void
connect_device_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioAdapter *self = g_task_get_source_object (task);
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
          wait_connected (g_steal_pointer (&task));
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
  BleioAdapter *self = g_task_get_source_object (task);
  ConnectData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (data->stage != STAGE_QUEUED)
    return;
  late_undo_cancel (self, data->bluez_address);
  if (!check_usable (self, &error))
    {
      connect_finish_error (g_steal_pointer (&task), error);
      return;
    }
  data->device_path = bleio_client_find_device (self->client, self->path, data->bluez_address);
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
  BleioAdapter *self = g_task_get_source_object (task);
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
  bleio_client_call (self->client, self->path, BLEIO_IFACE_ADAPTER, "ConnectDevice",
                     g_variant_new ("(a{sv})", &props), timeout_msec,
                     data->op_cancellable, connect_device_cb, g_steal_pointer (&task));
}

static void
connect_internal_async (BleioAdapter        *adapter,
                        const BleioAddress  *address,
                        double               timeout,
                        GMainContext        *object_context,
                        gpointer             source_tag,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (adapter, cancellable, callback, user_data);
  ConnectData *data;
  gboolean start_now;
  GError *error = NULL;

  g_task_set_source_tag (task, source_tag);
  if (timeout <= 0)
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                               "The connect timeout must be positive");
      return;
    }
  if (!check_usable (adapter, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  data = g_new0 (ConnectData, 1);
  data->address = bleio_address_copy (address);
  data->bluez_address = bleio_address_to_bluez_string (address);
  data->timeout = timeout;
  data->op_cancellable = g_cancellable_new ();
  data->object_context = object_context != NULL ? g_main_context_ref (object_context)
                                                : g_main_context_ref (adapter->context);
  data->stage = STAGE_QUEUED;
  g_task_set_task_data (task, data, (GDestroyNotify) connect_data_free);
  g_object_set_data (G_OBJECT (task), "bleio-deadline",
                     GSIZE_TO_POINTER ((gsize) (g_get_monotonic_time () + (gint64) (timeout * G_USEC_PER_SEC))));

  data->timeout_source = g_timeout_source_new ((guint) (timeout * 1000));
  g_source_set_callback (data->timeout_source, connect_timeout_cb, task, NULL);
  g_source_set_static_name (data->timeout_source, "[bleio] connect timeout");
  g_source_attach (data->timeout_source, g_task_get_context (task));
  if (cancellable != NULL)
    data->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (connect_cancelled),
                                             task, NULL);

  g_mutex_lock (&adapter->lock);
  start_now = g_queue_is_empty (&adapter->connect_queue);
  /* The queue holds a reference until connect_dequeue(); the timeout
   * source and the cancel handler rely on it. */
  g_queue_push_tail (&adapter->connect_queue, g_object_ref (task));
  g_mutex_unlock (&adapter->lock);

  if (start_now)
    connect_start (g_object_ref (task));
}

void
bleio_adapter_connect_async (BleioAdapter        *adapter,
                             const BleioAddress  *address,
                             double               timeout,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  g_return_if_fail (address != NULL);
  connect_internal_async (adapter, address, timeout, NULL, BLEIO_TAG (bleio_adapter_connect_async),
                          cancellable, callback, user_data);
}

BleioConnection *
bleio_adapter_connect_finish (BleioAdapter  *adapter,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, adapter), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

BleioConnection *
bleio_adapter_connect (BleioAdapter        *adapter,
                       const BleioAddress  *address,
                       double               timeout,
                       GCancellable        *cancellable,
                       GError             **error)
{
  BleioSync sync;
  BleioConnection *connection;

  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), NULL);
  g_return_val_if_fail (address != NULL, NULL);
  bleio_sync_begin (&sync);
  connect_internal_async (adapter, address, timeout, adapter->context, BLEIO_TAG (bleio_adapter_connect),
                          cancellable, bleio_sync_callback, &sync);
  connection = g_task_propagate_pointer (G_TASK (bleio_sync_wait (&sync)), error);
  bleio_sync_end (&sync);
  return connection;
}

/* ---- pairing callbacks ------------------------------------------------------------ */

void
bleio_adapter_set_pairing_callbacks (BleioAdapter            *adapter,
                                     BleioPasskeyDisplayFunc  display,
                                     BleioPasskeyRequestFunc  request,
                                     BleioPasskeyConfirmFunc  confirm,
                                     gpointer                 user_data,
                                     GDestroyNotify           destroy)
{
  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  bleio_agent_state_set_callbacks (bleio_client_get_agent_state (adapter->client),
                                   display, request, confirm, user_data, destroy);
}

void
bleio_adapter_set_passkey_display_func (BleioAdapter            *adapter,
                                        BleioPasskeyDisplayFunc  func,
                                        gpointer                 user_data,
                                        GDestroyNotify           destroy)
{
  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  bleio_agent_state_set_display (bleio_client_get_agent_state (adapter->client),
                                 func, user_data, destroy);
}

void
bleio_adapter_set_passkey_request_func (BleioAdapter            *adapter,
                                        BleioPasskeyRequestFunc  func,
                                        gpointer                 user_data,
                                        GDestroyNotify           destroy)
{
  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  bleio_agent_state_set_request (bleio_client_get_agent_state (adapter->client),
                                 func, user_data, destroy);
}

void
bleio_adapter_set_passkey_confirm_func (BleioAdapter            *adapter,
                                        BleioPasskeyConfirmFunc  func,
                                        gpointer                 user_data,
                                        GDestroyNotify           destroy)
{
  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  bleio_agent_state_set_confirm (bleio_client_get_agent_state (adapter->client),
                                 func, user_data, destroy);
}

void
bleio_adapter_set_accept_incoming_pairing (BleioAdapter *adapter,
                                           gboolean      accept)
{
  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  bleio_agent_state_set_accept_incoming (bleio_client_get_agent_state (adapter->client),
                                         accept);
}

gboolean
bleio_adapter_get_accept_incoming_pairing (BleioAdapter *adapter)
{
  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), FALSE);
  return bleio_agent_state_get_accept_incoming (bleio_client_get_agent_state (adapter->client));
}
