/* SPDX-License-Identifier: MIT */
/*
 * org.bluez.Adapter1 and its companion interfaces (floor 3, the top of the
 * world): discovery sessions and filters, advertising, floods, the
 * adapter's devices.
 */
#pragma once

#include "sim-world.h"

G_BEGIN_DECLS

extern SimIfaceDef sim_adapter_iface;

SimAdapter *sim_adapter_new       (SimAdapterDef *def);
void        sim_adapter_export    (SimAdapter *adapter,
                                   gboolean    announce);
void        sim_adapter_free      (SimAdapter *adapter);
void        sim_adapter_add_peripheral (SimAdapter    *adapter,
                                        SimPeripheral *periph);
SimAdapter *sim_adapter_find      (const char *name);
SimDevice  *sim_adapter_find_device (SimAdapter *adapter,
                                     const char *address);
void        sim_adapter_add_device  (SimAdapter *adapter,
                                     SimDevice  *device);
/* Removes @device from the adapter's lists and frees it. */
void        sim_adapter_drop_device (SimAdapter *adapter,
                                     SimDevice  *device);
/* Creates and exports the Device1 object for @periph (InterfacesAdded). */
SimDevice  *sim_adapter_ensure_device (SimAdapter    *adapter,
                                       SimPeripheral *periph);
void        sim_adapter_remove_device (SimAdapter *adapter,
                                       SimDevice  *device);
void        sim_adapter_remove_peripheral (SimAdapter    *adapter,
                                           SimPeripheral *periph);
/* @periph stops advertising to @adapter: its device object, if any,
 * stays (a device that went quiet), unlike sim_adapter_remove_peripheral. */
void        sim_adapter_forget_peripheral (SimAdapter    *adapter,
                                           SimPeripheral *periph);
gboolean    sim_adapter_sees_peripheral   (SimAdapter    *adapter,
                                           SimPeripheral *periph);
void        sim_adapter_flood     (SimAdapter *adapter,
                                   guint       devices,
                                   guint       rounds);
void        sim_adapter_update_temporary (SimAdapter *adapter);
/* Hears advertisements while somebody discovers or a monitor is active,
 * and stops when neither does (the update_scan hook). */
void        sim_adapter_update_scan (SimAdapter *adapter);


G_END_DECLS
