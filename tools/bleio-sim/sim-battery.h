/* SPDX-License-Identifier: MIT */
/*
 * org.bluez.Battery1 (floor 3, above sim-world.c): what bluetoothd's battery
 * plugin shows of a connected peripheral's Battery Level characteristic.
 */
#pragma once

#include "sim-world.h"

G_BEGIN_DECLS

extern SimIfaceDef sim_battery_iface;

/* The Battery Level characteristic (0x2A19 in 0x180F) of @p, or NULL. */
SimCharDef *sim_battery_level_def (SimPeripheral *p);
/* Adds Battery1 to a device whose services were resolved, when it has a
 * Battery Level; removes it on link loss. */
void        sim_battery_export    (SimDevice *device);
void        sim_battery_unexport  (SimDevice *device);
/* @chr's value changed: Percentage follows when @chr is the battery
 * level. Returns FALSE when Battery1 does not show it. */
gboolean    sim_battery_notify    (SimDevice *device,
                                   SimChar   *chr);

G_END_DECLS
