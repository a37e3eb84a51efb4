/* SPDX-License-Identifier: MIT */
/*
 * GattService1, GattCharacteristic1 and GattDescriptor1 objects of a
 * connected peripheral, their reads and writes (floor 3, above
 * sim-notify.c, which holds notifications and acquired sockets).
 */
#pragma once

#include "sim-gatt-peer.h"

G_BEGIN_DECLS

extern SimIfaceDef sim_service_iface;
extern SimIfaceDef sim_char_iface;
extern SimIfaceDef sim_desc_iface;

GPtrArray *sim_gatt_build         (SimDevice *device);
void       sim_gatt_export        (GPtrArray *services,
                                   gboolean   announce);
void       sim_gatt_unexport      (GPtrArray *services,
                                   gboolean   announce);
/* Closes acquired fds, ends sessions and fails pending operations. */
void       sim_gatt_link_lost     (GPtrArray *services);
/* The peripheral's database becomes defs (SimServiceDef in handle order,
 * with the scenario's free function; taken); its objects change as bluetoothd 5.66's
 * do after a Service Changed indication for 0x0001-0xffff. */
void       sim_gatt_replace       (SimDevice *device,
                                   GPtrArray *defs);
SimChar   *sim_gatt_find_char     (SimDevice *device,
                                   const char *uuid);

G_END_DECLS
