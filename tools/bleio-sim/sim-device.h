/* SPDX-License-Identifier: MIT */
/*
 * org.bluez.Device1 (floor 3, above sim-gatt.c): the link life cycle,
 * advertising updates, pairing state and temporary-device expiry.
 */
#pragma once

#include "sim-world.h"

G_BEGIN_DECLS

extern SimIfaceDef sim_device_iface;

SimDevice *sim_device_new         (SimAdapter    *adapter,
                                   SimPeripheral *periph);
void       sim_device_free        (SimDevice *device);
void       sim_device_connect     (SimDevice             *device,
                                   GDBusMethodInvocation *invocation);
/* A central (another adapter of the simulator, or a scenario peripheral
 * through org.bleio.Sim1) connected to @device's adapter: the object shows
 * Connected=true, then the central's GATT database is browsed. */
void       sim_device_incoming_link (SimDevice *device);
/* Ends the link; @reason is logged only. Emits the disconnect signals. */
void       sim_device_drop_link   (SimDevice  *device,
                                   const char *reason);
void       sim_device_set_paired  (SimDevice *device,
                                   gboolean   bonded);
void       sim_device_arm_temporary (SimDevice *device);
/* Advertising report: updates RSSI and advertising fields. @duplicates says
 * whether unchanged data is signalled again (DuplicateData). */
void       sim_device_advertise   (SimDevice *device,
                                   gint16     rssi,
                                   gboolean   duplicates,
                                   gboolean   rssi_any_change);


G_END_DECLS
