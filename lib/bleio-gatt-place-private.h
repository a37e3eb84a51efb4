/* SPDX-License-Identifier: MIT */
/*
 * Where a characteristic sits in a peer's database, by what survives a
 * change of that database rather than by handle (lib/bleio-gatt-place.c):
 * the buffers follow their characteristic to its new object with it.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-gatt-place-private.h is internal to libbleio"
#endif

#include "bleio-client-private.h"

G_BEGIN_DECLS

/* A characteristic's place: its service's UUID and rank among the
 * device's services with that UUID, its own UUID and rank among its
 * service's characteristics with that UUID (ranks in handle order). Two
 * characteristics in one service with one UUID (HID reports, DESIGN §3
 * quirk 8) so keep apart. */
typedef struct _BleioGattPlace BleioGattPlace;

/* The place of the characteristic at @char_path under @device_path as
 * the cache shows it now, or NULL when the cache does not hold it. */
BleioGattPlace *bleio_gatt_place_new  (BleioClient    *client,
                                       const char     *device_path,
                                       const char     *char_path);
void            bleio_gatt_place_free (BleioGattPlace *place);
/* The path of the characteristic that is at @place under @device_path
 * now, or NULL when the database holds none there. */
char           *bleio_gatt_place_find (const BleioGattPlace *place,
                                       BleioClient          *client,
                                       const char           *device_path);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BleioGattPlace, bleio_gatt_place_free)

G_END_DECLS
