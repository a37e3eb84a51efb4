/* SPDX-License-Identifier: MIT */
/*
 * BleioCharacteristic's internals (lib/bleio-characteristic.c), for its
 * descriptors, the notifier and the buffers.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-characteristic-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-gatt-private.h"
#include "bleio-local-attr-private.h"

G_BEGIN_DECLS

/* A local characteristic of @service (lib/bleio-local-gatt.c); takes
 * @uuid. Its attribute is set once it exists. */
BleioCharacteristic *bleio_characteristic_new_local (BleioService                  *service,
                                                     BleioUuid                     *uuid,
                                                     BleioCharacteristicProperties  properties,
                                                     guint                          max_length);
void         bleio_characteristic_set_local     (BleioCharacteristic *characteristic,
                                                 BleioLocalAttr      *attr);
/* NULL for a peer's characteristic. */
BleioLocalAttr *bleio_characteristic_get_local  (BleioCharacteristic *characteristic);
/* #BleioCharacteristic::written, in the caller's context. */
void         bleio_characteristic_emit_written  (BleioCharacteristic *characteristic,
                                                 GBytes              *value,
                                                 BleioConnection     *connection);
/* #BleioCharacteristic::read and ::notifying-changed, in the caller's
 * context (lib/bleio-local-events.c). */
void         bleio_characteristic_emit_read     (BleioCharacteristic *characteristic,
                                                 BleioConnection     *connection,
                                                 guint                offset);
void         bleio_characteristic_emit_notifying_changed (BleioCharacteristic *characteristic,
                                                          gboolean             notifying);
/* A local descriptor of @characteristic (lib/bleio-descriptor.c); takes
 * @uuid. */
BleioDescriptor *bleio_descriptor_new_local     (BleioCharacteristic *characteristic,
                                                 BleioUuid           *uuid);
void         bleio_descriptor_set_local         (BleioDescriptor     *descriptor,
                                                 BleioLocalAttr      *attr);
/* NULL for a peer's descriptor. */
BleioLocalAttr *bleio_descriptor_get_local      (BleioDescriptor     *descriptor);
/* #BleioDescriptor::written, in the caller's context. */
void         bleio_descriptor_emit_written      (BleioDescriptor     *descriptor,
                                                 GBytes              *value,
                                                 BleioConnection     *connection);
/* #BleioDescriptor::read, in the caller's context. */
void         bleio_descriptor_emit_read         (BleioDescriptor     *descriptor,
                                                 BleioConnection     *connection,
                                                 guint                offset);
BleioClient *bleio_characteristic_get_client    (BleioCharacteristic *characteristic);
const char  *bleio_characteristic_get_device_path (BleioCharacteristic *characteristic);
/* The characteristic's descriptor objects (bleio_characteristic_dup_descriptors()). */
BleioGattChildren *bleio_characteristic_get_descriptor_children (BleioCharacteristic *characteristic);
/* FALSE with BLEIO_ERROR_CONNECTION when the link is down, or with
 * BLEIO_ERROR_DOES_NOT_EXIST when the peer's database changed and this
 * characteristic is gone (bleio_gatt_check_current()). */
gboolean     bleio_characteristic_check_connected (BleioCharacteristic  *characteristic,
                                                   GError              **error);
/* A new object for the characteristic at @path (as the cache holds it
 * now), in a new service object for its parent, whose notification
 * signal is emitted where @characteristic's is: what a buffer re-binds
 * to when its characteristic comes back on another object after a change
 * of the peer's database. NULL when the cache does not hold the service. */
BleioCharacteristic *bleio_characteristic_new_successor (BleioCharacteristic *characteristic,
                                                         const char          *path);
/* The cache's incarnation of its path when the object was made. */
guint        bleio_characteristic_get_incarnation (BleioCharacteristic *characteristic);
/* The answer of AcquireNotify/AcquireWrite tells the MTU. */
void         bleio_characteristic_note_mtu      (BleioCharacteristic *characteristic,
                                                 guint                mtu);
/* TRUE when BlueZ exports NotifyAcquired / WriteAcquired for it (the
 * characteristic supports the Acquire* calls). */
gboolean     bleio_characteristic_can_acquire   (BleioCharacteristic *characteristic,
                                                 gboolean             write);
/* Subscriptions made through this object (set_cccd() or a buffer):
 * is_subscribed is TRUE while any holds BlueZ's notify session. */
gboolean     bleio_characteristic_is_subscribed (BleioCharacteristic *characteristic);
void         bleio_characteristic_hold_subscription (BleioCharacteristic *characteristic,
                                                     gboolean             hold);
/* Buffers holding an AcquireNotify descriptor: while any does, the
 * notification signal is fed from it rather than from Value changes. */
void         bleio_characteristic_hold_acquired (BleioCharacteristic *characteristic,
                                                 gboolean             hold);
/* TRUE once a descriptor held through this object has been released:
 * bluetoothd may still count it as acquired until it sees the hang-up. */
gboolean     bleio_characteristic_released_acquired (BleioCharacteristic *characteristic);
/* Any thread: one notification for #BleioCharacteristic::notification. */
void         bleio_characteristic_deliver       (BleioCharacteristic *characteristic,
                                                 const guint8        *data,
                                                 gsize                len);
/* Any thread: whether #BleioCharacteristic::notification has a handler
 * (deliveries are dropped otherwise). It takes GLib's signal lock: ask
 * once per batch of packets, not per packet. */
gboolean     bleio_characteristic_wants_notifications (BleioCharacteristic *characteristic);

G_END_DECLS
