/* SPDX-License-Identifier: MIT */
/*
 * BleioAdapter's scanning: start_scan (active through a discovery session,
 * passive through an advertisement monitor, bleio-scan-monitor.c) and
 * stop_scan. The entries are gathered by BleioScanResults (bleio-scan.c).
 */
#include "bleio-adapter-private.h"
#include "bleio-scan-private.h"
#include "bleio-timeout-private.h"
#include "bleio-sync-private.h"
#include "bleio-scan-monitor-private.h"

#define DEFAULT_BUFFER_SIZE 512

/* ---- scanning ----------------------------------------------------------------- */

typedef struct {
  gboolean fallback;
  GBytes *prefixes;
  gsize buffer_size;
  guint timeout_msec;
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

/* The reply to one of the calls that start a scan. FALSE when it failed:
 * the scan is then failed and *task taken. @in_progress_ok: InProgress
 * counts as success. */
static gboolean
scan_step_finish (GTask        **task,
                  GAsyncResult  *result,
                  gboolean       in_progress_ok)
{
  BleioAdapter *self = g_task_get_source_object (*task);
  GError *error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (self->client, result, &error);

  if (reply == NULL &&
      !(in_progress_ok && g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_IN_PROGRESS)))
    {
      scan_failed (g_steal_pointer (task), error);
      return FALSE;
    }
  g_clear_error (&error);
  return TRUE;
}

static void scan_started (GTask *task_in);

static void
start_discovery_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;

  /* InProgress: this connection's discovery session already runs (a scan
   * that timed out, or a connect's filtered discovery): share it. */
  if (!scan_step_finish (&task, result, TRUE))
    return;
  scan_started (g_steal_pointer (&task));
}

static void
scan_started (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  BleioAdapter *self = g_task_get_source_object (task);
  ScanData *data = g_task_get_task_data (task);

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
  GCancellable *cancellable;

  if (!scan_step_finish (&task, result, FALSE))
    return;
  data->results = bleio_scan_results_new (self->client, self->path, self->context,
                                          data->prefixes, data->buffer_size,
                                          data->minimum_rssi, data->timeout_msec);
  cancellable = g_task_get_cancellable (task);
  bleio_client_call (self->client, self->path, BLEIO_IFACE_ADAPTER, "StartDiscovery",
                     NULL, BLEIO_CALL_LOCAL_MSEC, cancellable, start_discovery_cb, g_steal_pointer (&task));
}

/* Through BlueZ's discovery: its filter first, then StartDiscovery. */
static void
start_active (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  BleioAdapter *adapter = g_task_get_source_object (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GVariantBuilder filter;

  g_variant_builder_init (&filter, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&filter, "{sv}", "Transport", g_variant_new_string ("le"));
  g_variant_builder_add (&filter, "{sv}", "DuplicateData", g_variant_new_boolean (TRUE));
  /* No "RSSI" in the filter: the kernel then drops every advertisement
   * whose controller reports no RSSI (0x7f), so those peers could never be
   * found (btvirt's, in the e2e suite). minimum_rssi is applied to the
   * entries instead, and an unknown RSSI (127) passes it. */
  bleio_client_call (adapter->client, adapter->path, BLEIO_IFACE_ADAPTER, "SetDiscoveryFilter",
                     g_variant_new ("(a{sv})", &filter), BLEIO_CALL_LOCAL_MSEC, cancellable, set_filter_cb,
                     g_steal_pointer (&task));
}

/* A passive scan: the monitor is registered and active, or the reason it
 * cannot be, which the fallback turns into an active scan. */
static void
monitor_started_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioAdapter *self = g_task_get_source_object (task);
  ScanData *data = g_task_get_task_data (task);
  GError *error = NULL;
  BleioScanMonitor *monitor = bleio_scan_monitor_start_finish (result, &error);

  if (monitor == NULL)
    {
      if (data->fallback && g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED))
        {
          g_debug ("passive scan on %s falls back to an active one: %s", self->name,
                   error->message);
          g_error_free (error);
          start_active (g_steal_pointer (&task));
          return;
        }
      scan_failed (g_steal_pointer (&task), error);
      return;
    }
  data->results = bleio_scan_results_new (self->client, self->path, self->context,
                                          data->prefixes, data->buffer_size,
                                          data->minimum_rssi, data->timeout_msec);
  bleio_scan_results_take_monitor (data->results, monitor);
  scan_started (g_steal_pointer (&task));
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
  gboolean busy, fallback;
  guint timeout_msec = 0;

  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  task = g_task_new (adapter, cancellable, callback, user_data);
  g_task_set_source_tag (task, BLEIO_TAG (bleio_adapter_start_scan_async));

  if (!bleio_adapter_check_usable (adapter, &error))
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
  /* 0 or less keeps its documented meaning, "until stopped"; so does a
   * bound beyond what a GLib timeout holds, as `_bleio` takes None. */
  if (!(timeout <= 0) &&
      !bleio_timeout_to_msec (timeout, BLEIO_TIMEOUT_HUGE_IS_NONE, "scan timeout",
                              &timeout_msec, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_mutex_lock (&adapter->lock);
  busy = adapter->scan_starting ||
         (adapter->scan != NULL && !bleio_scan_results_is_done (adapter->scan));
  if (!busy)
    adapter->scan_starting = TRUE;
  fallback = adapter->passive_fallback;
  g_mutex_unlock (&adapter->lock);
  if (busy)
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_IN_PROGRESS,
                               "A scan is already running on %s; stop it first",
                               adapter->name);
      return;
    }

  g_debug ("scan on %s: extended=%d interval=%g window=%g are left to BlueZ; active=%d",
           adapter->name, extended, interval, window, active);
  data = g_new0 (ScanData, 1);
  data->prefixes = prefixes != NULL ? g_bytes_ref (prefixes) : NULL;
  data->buffer_size = buffer_size > 0 ? buffer_size : DEFAULT_BUFFER_SIZE;
  data->timeout_msec = timeout_msec;
  data->minimum_rssi = minimum_rssi;
  g_task_set_task_data (task, data, (GDestroyNotify) scan_data_free);

  if (!active)
    {
      data->fallback = fallback;
      bleio_scan_monitor_start_async (adapter->client, adapter->path, prefixes, cancellable,
                                      monitor_started_cb, g_steal_pointer (&task));
      return;
    }
  start_active (g_steal_pointer (&task));
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
  /* A passive scan has no discovery session to stop (StopDiscovery would
   * end one this connection holds for something else); ending it sent
   * UnregisterMonitor, and bluetoothd answers a connection's calls in
   * order, so the answer to a Ping says the monitor is gone. */
  if (bleio_scan_results_get_passive (scan))
    bleio_client_call (adapter->client, "/", "org.freedesktop.DBus.Peer", "Ping",
                       NULL, BLEIO_CALL_LOCAL_MSEC, cancellable, stop_discovery_cb,
                       g_steal_pointer (&task));
  else
    bleio_client_call (adapter->client, adapter->path, BLEIO_IFACE_ADAPTER, "StopDiscovery",
                       NULL, BLEIO_CALL_LOCAL_MSEC, cancellable, stop_discovery_cb,
                       g_steal_pointer (&task));
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

void
bleio_adapter_set_passive_scan_fallback (BleioAdapter *adapter,
                                         gboolean      fallback)
{
  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  g_mutex_lock (&adapter->lock);
  adapter->passive_fallback = fallback;
  g_mutex_unlock (&adapter->lock);
}

gboolean
bleio_adapter_get_passive_scan_fallback (BleioAdapter *adapter)
{
  gboolean fallback;

  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), FALSE);
  g_mutex_lock (&adapter->lock);
  fallback = adapter->passive_fallback;
  g_mutex_unlock (&adapter->lock);
  return fallback;
}
