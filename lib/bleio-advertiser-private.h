/* SPDX-License-Identifier: MIT */
/*
 * The advertisement an adapter runs (lib/bleio-advertiser.c): the exported
 * org.bluez.LEAdvertisement1 object, its registration with bluetoothd, and
 * what ends it or brings it back. It sits beside the connect queue: the
 * adapter owns one and calls it; it reaches the adapter only through the
 * GObject it was given, to emit the signals it installed on its class.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-advertiser-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-client-private.h"
#include "bleio-ad-translate-private.h"

G_BEGIN_DECLS

typedef struct _BleioAdvertiser BleioAdvertiser;

/* Finds the advertiser of an object of the class given to
 * bleio_advertiser_class_install(). */
typedef BleioAdvertiser *(*BleioAdvertiserOf) (GObject *owner);

/* Installs the `advertising` property and the `advertising-ended` and
 * `advertising-restored` signals on @klass (BleioAdapter's), whose
 * get_property it takes over: the class has no other property. */
void     bleio_advertiser_class_install (GObjectClass      *klass,
                                         BleioAdvertiserOf  advertiser_of);

/* An advertiser for the adapter at @adapter_path; its signals are emitted
 * on @owner (held weakly) in @context. */
BleioAdvertiser *bleio_advertiser_new   (BleioClient  *client,
                                         const char   *adapter_path,
                                         GObject      *owner,
                                         GMainContext *context);
/* Unregisters a running advertisement (without waiting) and lets go. */
void     bleio_advertiser_free          (BleioAdvertiser *advertiser);

gboolean bleio_advertiser_is_advertising (BleioAdvertiser *advertiser);

/* A central connected to the adapter (bleio-adapter-incoming.c decides
 * that a link is incoming): a connectable advertisement ends, as `_bleio`
 * says, and is unregistered (bluetoothd 5.66 would keep it). Any thread;
 * the adapter calls it just before it hands the connection over. */
void     bleio_advertiser_central_connected (BleioAdvertiser *advertiser);

/* @settings is copied. */
void     bleio_advertiser_start_async   (BleioAdvertiser                *advertiser,
                                         const BleioAdvertisingSettings *settings,
                                         GCancellable                   *cancellable,
                                         GAsyncReadyCallback             callback,
                                         gpointer                        user_data);
gboolean bleio_advertiser_start_finish  (BleioAdvertiser                *advertiser,
                                         GAsyncResult                   *result,
                                         GError                        **error);
void     bleio_advertiser_stop_async    (BleioAdvertiser                *advertiser,
                                         GCancellable                   *cancellable,
                                         GAsyncReadyCallback             callback,
                                         gpointer                        user_data);
gboolean bleio_advertiser_stop_finish   (BleioAdvertiser                *advertiser,
                                         GAsyncResult                   *result,
                                         GError                        **error);

G_END_DECLS
