/* SPDX-License-Identifier: MIT */
/*
 * An adapter's interfaces that only show properties (sim-adapter-misc.c).
 */
#pragma once

#include "sim-world.h"

G_BEGIN_DECLS

extern SimIfaceDef sim_battery_provider_iface;
extern SimIfaceDef sim_media_iface;
extern SimIfaceDef sim_network_iface;
extern SimIfaceDef sim_sim_access_iface;

G_END_DECLS
