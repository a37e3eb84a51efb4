/* SPDX-License-Identifier: MIT */
/*
 * One air for all the adapters of the simulator (floor 3, above
 * sim-adapter.c): what an adapter advertises reaches every other adapter
 * through the same path as a scenario peripheral (the adapter is a
 * SimPeripheral to the others, SimAdapter.air_self), and a link made from
 * one adapter to another shows on both, as two controllers of one
 * bluetoothd (btvirt in the e2e guest) do.
 */
#pragma once

#include "sim-world.h"

G_BEGIN_DECLS

/* What an adapter puts on the air, as a scanner decodes it. */
typedef struct {
  gboolean connectable;
  const char *name;            /* complete or shortened local name, or NULL */
  GPtrArray *uuids;            /* char *, 128-bit strings (service UUIDs) */
  GVariant *manufacturer_data; /* a{qv} or NULL */
  GVariant *service_data;      /* a{sv} or NULL */
  GVariant *advertising_data;  /* a{yv} (Data entries) or NULL */
  guint8 flags;                /* the Flags AD the controller sends */
  gboolean has_appearance;
  guint16 appearance;
  gboolean has_tx_power;
  gint tx_power;
  guint interval_ms;
} SimAirAdvert;

/* @adapter advertises @advert from now on (copied), or nothing (NULL). It
 * is on the air while powered and not connected to a central. */
void       sim_air_set_advert       (SimAdapter         *adapter,
                                     const SimAirAdvert *advert);
/* @adapter as the others see it (created on first use). Its services
 * are the adapter's own GATT database as a remote browses it: bluetoothd's
 * GAP, GATT, Device Information and Volume Control services. A local GATT
 * application (GattManager1) belongs after them, in the same array, so
 * that a link from another adapter browses it. */
SimPeripheral *sim_air_self         (SimAdapter *adapter);
/* A new adapter starts hearing the others' advertisements. */
void       sim_air_adapter_added    (SimAdapter *adapter);
/* @adapter goes away: its links to the others end, it leaves the air. */
void       sim_air_adapter_removing (SimAdapter *adapter);
/* A simulated central (@central, a scenario peripheral or another
 * adapter's air_self) connects to @adapter, which must be advertising
 * connectable: returns the device @adapter shows for it, or NULL with
 * @error when @adapter is not connectable on the air. */
SimDevice *sim_air_central_connect  (SimAdapter    *adapter,
                                     SimPeripheral *central,
                                     GError       **error);

/* SimWorldHooks */
void       sim_air_link_up          (SimDevice *device);
void       sim_air_link_down        (SimDevice  *device,
                                     const char *reason);

G_END_DECLS
