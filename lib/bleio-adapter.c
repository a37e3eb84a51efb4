/* SPDX-License-Identifier: MIT */
/*
 * BleioAdapter: its properties and connections. Finding an adapter is in
 * bleio-adapter-find.c, scanning in bleio-adapter-scan.c, bonds and the
 * pairing callbacks in bleio-adapter-bonds.c, advertising in
 * bleio-adapter-advertise.c over the adapter's BleioAdvertiser
 * (bleio-advertiser.c), local GATT services in bleio-local-gatt.c over
 * the adapter's BleioGattApp (bleio-gatt-app.c); connect attempts are queued in the adapter's
 * BleioConnectQueue (bleio-connect.c).
 */
#include "bleio-adapter-private.h"
#include "bleio-adapter-incoming-private.h"
#include "bleio-scan-private.h"
#include "bleio-connect-private.h"
#include "bleio-connection-private.h"
#include "bleio-timeout-private.h"
#include "bleio-values-private.h"
#include "bleio-sync-private.h"

#include <string.h>

enum {
  SIGNAL_INCOMING_CONNECTION,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (BleioAdapter, bleio_adapter, G_TYPE_OBJECT)

static void
bleio_adapter_finalize (GObject *object)
{
  BleioAdapter *self = BLEIO_ADAPTER (object);

  /* A scan nobody can stop any more: end it and our discovery session. */
  if (self->scan != NULL && bleio_scan_results_end (self->scan, NULL) &&
      bleio_client_has_owner (self->client))
    bleio_client_call (self->client, self->path, BLEIO_IFACE_ADAPTER, "StopDiscovery",
                       NULL, BLEIO_CALL_LOCAL_MSEC, NULL, NULL, NULL);
  g_clear_object (&self->scan);
  if (self->incoming_watch != 0)
    bleio_client_unwatch (self->client, self->incoming_watch);
  g_clear_pointer (&self->connect_queue, bleio_connect_queue_free);
  g_clear_pointer (&self->advertiser, bleio_advertiser_free);
  g_clear_pointer (&self->gatt_app, bleio_gatt_app_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->path);
  g_free (self->name);
  bleio_client_unref (self->client);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (bleio_adapter_parent_class)->finalize (object);
}

BleioGattApp *
bleio_adapter_get_gatt_app (BleioAdapter *adapter)
{
  return adapter->gatt_app;
}

BleioAdvertiser *
bleio_adapter_get_advertiser (BleioAdapter *adapter)
{
  return adapter->advertiser;
}

static BleioAdvertiser *
advertiser_of (GObject *object)
{
  return BLEIO_ADAPTER (object)->advertiser;
}

static void
bleio_adapter_class_init (BleioAdapterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bleio_adapter_finalize;

  /**
   * BleioAdapter::incoming-connection:
   * @adapter: the #BleioAdapter
   * @connection: the #BleioConnection of the new link
   *
   * Emitted when a central connects to this adapter (while it advertises
   * connectable, or a bonded central reconnecting), in the thread-default
   * main context that was current when the adapter was created.
   * @connection is the object bleio_adapter_dup_connections() gives for the
   * link from then on; it works like one made by bleio_adapter_connect().
   *
   * BlueZ does not say which side opened a link: a link that comes up while
   * none of this adapter's own connect attempts is after that address is
   * taken for incoming, so a link another program on the machine opens to
   * a peer is reported here too.
   */
  signals[SIGNAL_INCOMING_CONNECTION] =
    g_signal_new ("incoming-connection", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, BLEIO_TYPE_CONNECTION);
  /* The advertising property and signals are documented with their code. */
  bleio_advertiser_class_install (G_OBJECT_CLASS (klass), advertiser_of);
  bleio_gatt_app_class_install (G_OBJECT_CLASS (klass));
}

static void
bleio_adapter_init (BleioAdapter *self)
{
  g_mutex_init (&self->lock);
}

gboolean
bleio_adapter_check_usable (BleioAdapter  *self,
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

/* ---- construction ------------------------------------------------------ */

/* What the connect queue asks of its adapter. */
static gboolean
hook_check_usable (gpointer  owner,
                   GError  **error)
{
  return bleio_adapter_check_usable (owner, error);
}

static gboolean
hook_is_scanning (gpointer owner)
{
  BleioAdapter *self = owner;
  gboolean scanning;

  g_mutex_lock (&self->lock);
  scanning = self->scan != NULL && !bleio_scan_results_is_done (self->scan);
  g_mutex_unlock (&self->lock);
  return scanning;
}

static BleioConnection *
hook_dup_connection (gpointer      owner,
                     const char   *device_path,
                     GMainContext *object_context)
{
  BleioAdapter *self = owner;

  return bleio_connection_dup_for_path (self->client, self->path, device_path, object_context);
}

static void
emit_incoming_connection (GObject         *owner,
                          BleioConnection *connection)
{
  /* `_bleio`: a central connecting ends a connectable advertisement;
   * advertising reads FALSE in the handlers below. */
  bleio_advertiser_central_connected (BLEIO_ADAPTER (owner)->advertiser);
  g_signal_emit (owner, signals[SIGNAL_INCOMING_CONNECTION], 0, connection);
}

static const BleioConnectHooks connect_hooks = {
  hook_check_usable,
  hook_is_scanning,
  hook_dup_connection,
};

BleioAdapter *
bleio_adapter_dup_for_path (BleioClient  *client,
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
  self->connect_queue = bleio_connect_queue_new (client, path, &connect_hooks, self);
  self->incoming_watch = bleio_incoming_watch (client, path, self->connect_queue, context,
                                               G_OBJECT (self), emit_incoming_connection);
  self->advertiser = bleio_advertiser_new (client, path, G_OBJECT (self), context);
  self->gatt_app = bleio_gatt_app_new (client, path, G_OBJECT (self), context);
  bleio_client_set_adapter (client, path, G_OBJECT (self));
  return self;
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
    g_ptr_array_add (adapters, bleio_adapter_dup_for_path (adapter->client, g_ptr_array_index (paths, i),
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
   * worker's cache: wait for it so that getters agree on return. BlueZ
   * does not store an empty Alias: it puts the system name (Name) back,
   * so that is the value to wait for. */
  if (g_strcmp0 (data->property, "Alias") == 0 &&
      g_str_equal (g_variant_get_string (data->value, NULL), ""))
    {
      g_autofree char *system_name = bleio_client_dup_string (self->client, self->path,
                                                              BLEIO_IFACE_ADAPTER, "Name");

      if (system_name == NULL)
        {
          g_task_return_boolean (task, TRUE);
          return;
        }
      bleio_client_wait_property_async (self->client, self->path, BLEIO_IFACE_ADAPTER,
                                        "Alias", g_variant_new_string (system_name), 2000,
                                        property_cached_cb, g_steal_pointer (&task));
      return;
    }
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
  if (!bleio_adapter_check_usable (self, &error))
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

/* ---- connect ---------------------------------------------------------------------- */

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
  GError *error = NULL;
  guint timeout_msec = 0;

  g_task_set_source_tag (task, source_tag);
  /* `_bleio` needs a number here: there is no "wait forever" connect. */
  if (timeout == 0 || timeout < 0)
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                               "The connect timeout must be positive");
      return;
    }
  if (!bleio_timeout_to_msec (timeout, BLEIO_TIMEOUT_HUGE_IS_INVALID, "connect timeout",
                              &timeout_msec, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (!bleio_adapter_check_usable (adapter, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  bleio_connect_queue_push (adapter->connect_queue, task, address, timeout_msec,
                            object_context != NULL ? object_context : adapter->context);
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

BleioClient *
bleio_adapter_get_client (BleioAdapter *adapter)
{
  return adapter->client;
}
