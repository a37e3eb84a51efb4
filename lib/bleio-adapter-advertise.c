/* SPDX-License-Identifier: MIT */
/*
 * BleioAdapter's advertising functions (`_bleio`'s start_advertising,
 * stop_advertising, advertising): the arguments checked and handed to the
 * adapter's BleioAdvertiser (lib/bleio-advertiser.c), which does the work.
 */
#include "bleio-adapter-private.h"
#include "bleio-sync-private.h"

static void
start_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioAdapter *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (bleio_advertiser_start_finish (bleio_adapter_get_advertiser (self), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
bleio_adapter_start_advertising_async (BleioAdapter        *adapter,
                                       GBytes              *data,
                                       GBytes              *scan_response,
                                       gboolean             connectable,
                                       gboolean             anonymous,
                                       guint                timeout,
                                       double               interval,
                                       int                  tx_power,
                                       const BleioAddress  *directed_to,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  BleioAdvertisingSettings settings = { 0 };

  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  task = g_task_new (adapter, cancellable, callback, user_data);
  g_task_set_source_tag (task, BLEIO_TAG (bleio_adapter_start_advertising_async));
  if (data != NULL)
    settings.data = g_bytes_get_data (data, &settings.data_len);
  if (scan_response != NULL)
    settings.scan_response = g_bytes_get_data (scan_response, &settings.scan_response_len);
  settings.connectable = connectable;
  settings.anonymous = anonymous;
  settings.timeout = timeout;
  settings.interval = interval;
  settings.tx_power = tx_power;
  settings.directed = directed_to != NULL;
  /* The bytes are translated before this returns; nothing keeps them. */
  bleio_advertiser_start_async (bleio_adapter_get_advertiser (adapter), &settings,
                                cancellable, start_done, g_steal_pointer (&task));
}

gboolean
bleio_adapter_start_advertising_finish (BleioAdapter  *adapter,
                                        GAsyncResult  *result,
                                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, adapter), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
bleio_adapter_start_advertising (BleioAdapter        *adapter,
                                 GBytes              *data,
                                 GBytes              *scan_response,
                                 gboolean             connectable,
                                 gboolean             anonymous,
                                 guint                timeout,
                                 double               interval,
                                 int                  tx_power,
                                 const BleioAddress  *directed_to,
                                 GCancellable        *cancellable,
                                 GError             **error)
{
  BleioSync sync;
  gboolean ok;

  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), FALSE);
  bleio_sync_begin (&sync);
  bleio_adapter_start_advertising_async (adapter, data, scan_response, connectable, anonymous,
                                         timeout, interval, tx_power, directed_to, cancellable,
                                         bleio_sync_callback, &sync);
  ok = bleio_adapter_start_advertising_finish (adapter, bleio_sync_wait (&sync), error);
  bleio_sync_end (&sync);
  return ok;
}

static void
stop_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioAdapter *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (bleio_advertiser_stop_finish (bleio_adapter_get_advertiser (self), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
bleio_adapter_stop_advertising_async (BleioAdapter        *adapter,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  task = g_task_new (adapter, cancellable, callback, user_data);
  g_task_set_source_tag (task, BLEIO_TAG (bleio_adapter_stop_advertising_async));
  bleio_advertiser_stop_async (bleio_adapter_get_advertiser (adapter), cancellable,
                               stop_done, g_steal_pointer (&task));
}

gboolean
bleio_adapter_stop_advertising_finish (BleioAdapter  *adapter,
                                       GAsyncResult  *result,
                                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, adapter), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
bleio_adapter_stop_advertising (BleioAdapter  *adapter,
                                GError       **error)
{
  BleioSync sync;
  gboolean ok;

  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), FALSE);
  bleio_sync_begin (&sync);
  bleio_adapter_stop_advertising_async (adapter, NULL, bleio_sync_callback, &sync);
  ok = bleio_adapter_stop_advertising_finish (adapter, bleio_sync_wait (&sync), error);
  bleio_sync_end (&sync);
  return ok;
}

gboolean
bleio_adapter_get_advertising (BleioAdapter *adapter)
{
  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), FALSE);
  return bleio_advertiser_is_advertising (bleio_adapter_get_advertiser (adapter));
}
