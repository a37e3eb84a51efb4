/* SPDX-License-Identifier: MIT */
/*
 * The notifier (lib/bleio-notifier.c): feeds an inbox from one
 * characteristic's notifications, on the client's worker thread.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-notifier-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-inbox-private.h"

G_BEGIN_DECLS

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

/* Called on the client's worker thread with the characteristic's new
 * object once the notifier has followed it there (a change of the peer's
 * database moved it; lib/bleio-gatt-place.c) and subscribed again. */
typedef void (*BleioNotifierReboundFunc) (BleioCharacteristic *characteristic,
                                          gpointer             user_data);
/* Set once, after the start; @destroy frees @user_data with the
 * notifier. */
void           bleio_notifier_set_rebound  (BleioNotifier            *notifier,
                                            BleioNotifierReboundFunc  func,
                                            gpointer                  user_data,
                                            GDestroyNotify            destroy);
guint          bleio_notifier_get_mtu      (BleioNotifier *notifier);

G_END_DECLS
