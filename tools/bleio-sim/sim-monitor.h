/* SPDX-License-Identifier: MIT */
/*
 * org.bluez.AdvertisementMonitorManager1 (floor 3, above sim-device.c,
 * below sim-adapter.c): monitor applications, their or_patterns matched
 * against what an advertiser sends, Activate/Release/DeviceFound/DeviceLost
 * as bluetoothd 5.66 (src/adv_monitor.c) calls them.
 */
#pragma once

#include "sim-world.h"

G_BEGIN_DECLS

extern SimIfaceDef sim_monitor_manager_iface;

/* TRUE while @adapter has an activated monitor: the kernel then scans
 * passively even when nobody discovers. */
gboolean   sim_monitor_active     (SimAdapter *adapter);
/* The monitors of @adapter whose patterns match @periph's advertisement
 * (@with_scan_response: what an active scan adds), or NULL for none. */
GPtrArray *sim_monitor_match      (SimAdapter    *adapter,
                                   SimPeripheral *periph);
/* Tells the monitors of @matched, after @device was updated, that it was
 * seen with @rssi (DeviceFound, RSSI thresholds). Frees @matched. */
void       sim_monitor_notify     (GPtrArray *matched,
                                   SimDevice *device,
                                   gint16     rssi);
/* Forgets @device in every monitor of @adapter (it is being removed). */
void       sim_monitor_forget_device (SimAdapter *adapter,
                                      SimDevice  *device);
/* Drops every application of @adapter without calling them (the daemon
 * goes down). */
void       sim_monitor_clear      (SimAdapter *adapter);

G_END_DECLS
