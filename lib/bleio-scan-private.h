/* SPDX-License-Identifier: MIT */
/*
 * The scan results' internals (lib/bleio-scan.c), for the adapter that
 * starts scans and for the fuzzers.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-scan-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-client-private.h"

G_BEGIN_DECLS

/* @timeout_msec: when the scan stops by itself; 0 or BLEIO_TIMEOUT_NONE
 * scans until stopped. */
BleioScanResults *bleio_scan_results_new      (BleioClient  *client,
                                               const char   *adapter_path,
                                               GMainContext *context,
                                               GBytes       *prefixes,
                                               gsize         buffer_size,
                                               int           minimum_rssi,
                                               guint         timeout_msec);
/* Ends the scan (idempotent): no more entries are taken. @error (taken)
 * is what bleio_scan_results_next() reports after the buffer drains;
 * NULL for a normal end. Returns TRUE if this call ended it. */
gboolean          bleio_scan_results_end      (BleioScanResults *results,
                                               GError           *error);

/* Makes @results a passive scan fed by @monitor (taken), which is stopped
 * when the scan ends (lib/bleio-scan-monitor.c). */
typedef struct _BleioScanMonitor BleioScanMonitor;
void              bleio_scan_results_take_monitor (BleioScanResults *results,
                                                   BleioScanMonitor *monitor);

/* The scan entry for one Device1's properties (a{sv}, as the cache or
 * GetManagedObjects gives them): NULL unless the device belongs to
 * @adapter_path, was heard (RSSI) at or above @minimum_rssi, has an
 * address, and its rebuilt advertisement matches @prefixes (NULL or empty:
 * any). Pure: tests/fuzz drives it. */
BleioScanEntry   *bleio_scan_entry_new_from_bluez (GVariant   *props,
                                                   const char *adapter_path,
                                                   int         minimum_rssi,
                                                   GBytes     *prefixes);
/* TRUE when a Device1 PropertiesChanged dict (a{sv}) touches a field the
 * advertisement is built from. */
gboolean          bleio_scan_is_advert_change     (GVariant   *changed);

G_END_DECLS
