/* SPDX-License-Identifier: MIT */
/*
 * org.bluez.LEAdvertisingManager1 (floor 3, the top of the world, above
 * sim-air.c): RegisterAdvertisement reads the application's
 * LEAdvertisement1 object and checks it as bluetoothd 5.66 does
 * (src/advertising.c, src/shared/ad.c), the instances, their timeouts,
 * Release, and what the registered advertisement puts on the air.
 */
#pragma once

#include "sim-world.h"

G_BEGIN_DECLS

/* Put on every adapter through sim_world.adv_manager_iface. */
extern SimIfaceDef sim_advertising_iface;

/* @adapter is being removed: bluetoothd calls Release() on each of its
 * advertisements and forgets them (a pending registration fails). */
void sim_advertising_adapter_removing (SimAdapter *adapter);
/* SimWorldHooks.adapter_changed: bluetoothd refreshes its advertisements
 * when the adapter's Discoverable changes (the Flags follow it); the air
 * follows Powered. */
void sim_advertising_adapter_changed  (SimAdapter *adapter);
/* bluetoothd went away (Restart, exit): forget every advertisement
 * without a word to its owner. */
void sim_advertising_reset            (void);

G_END_DECLS
