/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the GATT client objects: the per-attribute operation
 * queue (lib/bleio-gatt.c) and what the characteristic and descriptor
 * objects offer one another and the buffers. The notification inbox, the
 * notifier and AcquireWrite have headers of their own.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-gatt-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-connection-private.h"

G_BEGIN_DECLS

#ifndef BLEIO_IFACE_DESCRIPTOR
#define BLEIO_IFACE_DESCRIPTOR "org.bluez.GattDescriptor1"
#endif

#define BLEIO_NOT_CONNECTED_MESSAGE "Not connected"

/* ---- per-attribute operation queue (lib/bleio-gatt.c) ----
 *
 * Calls on one BlueZ object path (of one bus) reach BlueZ one at a time, in
 * submission order, so bluetoothd never answers InProgress to us. An
 * InProgress that still comes (another program) is retried a few times.
 * The reply arrives in the caller's thread-default context. */
void      bleio_gatt_call_async  (BleioClient         *client,
                                  const char          *path,
                                  const char          *interface,
                                  const char          *method,
                                  GVariant            *parameters,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data);
GVariant *bleio_gatt_call_finish (GAsyncResult  *result,
                                  GError       **error);

/* The completion of a ReadValue sent with bleio_gatt_call_async() for
 * characteristics and descriptors alike: @user_data is the GTask (owned),
 * which gets the value as GBytes, or an error; a reply that is not (ay) is
 * BLEIO_ERROR_INVALID_VALUE rather than a crash. */
void      bleio_gatt_read_value_cb (GObject      *source,
                                    GAsyncResult *result,
                                    gpointer      user_data);

/* ---- attribute children (lib/bleio-gatt.c) ----
 *
 * A GATT object's children (a service's characteristics, a
 * characteristic's descriptors) live in a field of the parent: BlueZ path
 * -> weak reference, so one attribute keeps one object while the
 * application holds it. */
typedef struct {
  GMutex lock;
  GHashTable *objects;          /* path -> GWeakRef* */
} BleioGattChildren;

typedef gpointer (*BleioGattChildNew) (gpointer    parent,
                                       const char *path);

void       bleio_gatt_children_init  (BleioGattChildren *children);
void       bleio_gatt_children_clear (BleioGattChildren *children);
/* The direct children of @parent_path on @interface, in handle order
 * (@prefix names the path component, see bleio_path_handle()): the live
 * object of each, or a new one from @new_child (@parent, path). */
GPtrArray *bleio_gatt_children_dup   (BleioGattChildren *children,
                                      BleioClient       *client,
                                      const char        *parent_path,
                                      const char        *interface,
                                      const char        *prefix,
                                      BleioGattChildNew  new_child,
                                      gpointer           parent);
/* Sorts BlueZ attribute paths by the handle in their last component. */
void       bleio_gatt_sort_paths     (GPtrArray         *paths,
                                      const char        *prefix);

/* TRUE for the standard CCCD UUID (0x2902). */
gboolean  bleio_uuid_is_cccd     (const BleioUuid *uuid);

/* ---- characteristic internals (lib/bleio-characteristic.c) ---- */
BleioClient *bleio_characteristic_get_client    (BleioCharacteristic *characteristic);
const char  *bleio_characteristic_get_device_path (BleioCharacteristic *characteristic);
/* The characteristic's descriptor objects (bleio_characteristic_dup_descriptors()). */
BleioGattChildren *bleio_characteristic_get_descriptor_children (BleioCharacteristic *characteristic);
gboolean     bleio_characteristic_check_connected (BleioCharacteristic  *characteristic,
                                                   GError              **error);
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
