/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the GATT client objects: the per-attribute operation
 * queue, the notification inbox and the subscriptions that feed it.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-gatt-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-adapter-private.h"

G_BEGIN_DECLS

#ifndef BLEIO_IFACE_DESCRIPTOR
#define BLEIO_IFACE_DESCRIPTOR "org.bluez.GattDescriptor1"
#endif

#define BLEIO_ATT_DEFAULT_MTU 23
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

/* BlueZ Flags strings to _bleio property bits. */
BleioCharacteristicProperties bleio_characteristic_properties_from_flags (const char *const *flags);

/* TRUE for the standard CCCD UUID (0x2902). */
gboolean  bleio_uuid_is_cccd     (const BleioUuid *uuid);

/* ---- characteristic internals (lib/bleio-characteristic.c) ---- */
BleioClient *bleio_characteristic_get_client    (BleioCharacteristic *characteristic);
const char  *bleio_characteristic_get_device_path (BleioCharacteristic *characteristic);
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

/* ---- descriptor internals (lib/bleio-descriptor.c) ---- */
BleioDescriptor *bleio_descriptor_new (BleioCharacteristic *characteristic,
                                       const char          *path);

/* ---- notification inbox (lib/bleio-notify.c) ---- */

typedef enum {
  BLEIO_INBOX_BYTES,      /* byte FIFO; when full, new bytes are dropped */
  BLEIO_INBOX_PACKETS,    /* packet FIFO; when full, the oldest is dropped */
} BleioInboxMode;

typedef struct _BleioInbox BleioInbox;

BleioInbox *bleio_inbox_new        (BleioInboxMode mode,
                                    gsize          capacity);
BleioInbox *bleio_inbox_ref        (BleioInbox *inbox);
void        bleio_inbox_unref      (BleioInbox *inbox);
/* Any thread. Ignored once lost or closed. */
void        bleio_inbox_push       (BleioInbox   *inbox,
                                    const guint8 *data,
                                    gsize         len);
/* The link went down: readers drain what is there, then get CONNECTION. */
void        bleio_inbox_set_lost   (BleioInbox *inbox);
/* deinit: readers get INVALID_ARGUMENT at once. */
void        bleio_inbox_close      (BleioInbox *inbox);
gboolean    bleio_inbox_is_lost    (BleioInbox *inbox);
gboolean    bleio_inbox_is_closed  (BleioInbox *inbox);
gsize       bleio_inbox_get_waiting (BleioInbox *inbox);
guint64     bleio_inbox_get_dropped (BleioInbox *inbox);
void        bleio_inbox_count_dropped (BleioInbox *inbox,
                                       guint64     count);
void        bleio_inbox_clear      (BleioInbox *inbox);
/* BYTES: waits until @want bytes (or, with @line, a newline) are there,
 * the link is lost, or @end_time (monotonic, µs) passes; copies up to @max
 * bytes. -1 with @error on deinit, or when the link is lost and nothing is
 * buffered. */
gssize      bleio_inbox_read_bytes (BleioInbox  *inbox,
                                    guint8      *dest,
                                    gsize        max,
                                    gsize        want,
                                    gboolean     line,
                                    gint64       end_time,
                                    GError     **error);
/* PACKETS: the oldest packet or NULL (no error) when empty. */
GBytes     *bleio_inbox_pop_packet (BleioInbox  *inbox,
                                    GError     **error);

/* ---- subscriptions (lib/bleio-notify.c) ---- */

typedef struct _BleioNotifier BleioNotifier;

/* Feeds @inbox from @characteristic: AcquireNotify when the
 * characteristic allows it; otherwise Value changes, after StartNotify
 * when @subscribe, or while BlueZ reports Notifying when not. */
void           bleio_notifier_start_async  (BleioCharacteristic *characteristic,
                                            BleioInbox          *inbox,
                                            gboolean             subscribe,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
BleioNotifier *bleio_notifier_start_finish (GAsyncResult  *result,
                                            GError       **error);
/* Any thread; idempotent teardown happens on the worker. */
void           bleio_notifier_stop         (BleioNotifier *notifier);
void           bleio_notifier_unref        (BleioNotifier *notifier);
gboolean       bleio_notifier_is_acquired  (BleioNotifier *notifier);
guint          bleio_notifier_get_mtu      (BleioNotifier *notifier);

/* AcquireWrite: the descriptor and its MTU, or -1 with @error. */
void           bleio_acquire_write_async   (BleioCharacteristic *characteristic,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
int            bleio_acquire_write_finish  (GAsyncResult  *result,
                                            guint16       *mtu,
                                            GError       **error);

G_END_DECLS
