/* SPDX-License-Identifier: MIT */
/*
 * The advertisement monitor behind a passive scan (lib/bleio-scan-monitor.c):
 * org.bluez.AdvertisementMonitor1 objects exported on the client's bus and
 * registered with the adapter's AdvertisementMonitorManager1.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-scan-monitor-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-client-private.h"

G_BEGIN_DECLS

typedef struct _BleioScanMonitor BleioScanMonitor;

/* Registers monitors for @prefixes (NULL or empty: every advertisement
 * with a Flags structure) on @adapter_path and completes once bluetoothd
 * activated them all. BLEIO_ERROR_NOT_SUPPORTED, saying why, where a
 * passive scan cannot be had. */
void              bleio_scan_monitor_start_async  (BleioClient         *client,
                                                   const char          *adapter_path,
                                                   GBytes              *prefixes,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
BleioScanMonitor *bleio_scan_monitor_start_finish (GAsyncResult        *result,
                                                   GError             **error);
/* From then on (on the client's worker thread) @found gets the device
 * path of every DeviceFound and @released is called if bluetoothd
 * releases a monitor, both with @target (held weakly) while it lives. */
typedef void (*BleioScanMonitorFound)    (GObject    *target,
                                          const char *device_path);
typedef void (*BleioScanMonitorReleased) (GObject    *target);
void              bleio_scan_monitor_feed         (BleioScanMonitor         *monitor,
                                                   GObject                  *target,
                                                   BleioScanMonitorFound     found,
                                                   BleioScanMonitorReleased  released);
/* Unregisters (without waiting for the answer) and frees. */
void              bleio_scan_monitor_stop         (BleioScanMonitor *monitor);

G_END_DECLS
