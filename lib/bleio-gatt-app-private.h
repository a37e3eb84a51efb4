/* SPDX-License-Identifier: MIT */
/*
 * An adapter's GATT application (lib/bleio-gatt-app.c): the tree of local
 * attributes (bleio-local-attr-private.h), exported on the client's bus
 * connection under one ObjectManager and registered with the adapter's
 * GattManager1,
 * again after every change of the tree and after bluetoothd restarts.
 * It sits beside the advertiser: the adapter owns one and reaches the
 * public objects only through the hooks of each attribute.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-gatt-app-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-client-private.h"
#include "bleio-local-attr-private.h"

G_BEGIN_DECLS

#define BLEIO_IFACE_GATT_MANAGER "org.bluez.GattManager1"

typedef struct _BleioGattApp BleioGattApp;

/* ---- the application (lib/bleio-gatt-app.c) ---- */

/* Installs #BleioAdapter::services-restored on @klass (BleioAdapter's). */
void          bleio_gatt_app_class_install (GObjectClass  *klass);
/* The application of the adapter at @adapter_path; its signal is emitted
 * on @owner (held weakly) in @context. */
BleioGattApp *bleio_gatt_app_new        (BleioClient   *client,
                                         const char    *adapter_path,
                                         GObject       *owner,
                                         GMainContext  *context);
/* Unregisters (without waiting), takes the objects off the bus, and lets
 * every public object of the tree go. */
void          bleio_gatt_app_free       (BleioGattApp  *app);

/* A new attribute under @parent (NULL for a service), with @object as
 * its public object (a strong reference is kept until the application is
 * freed) and @written called in @context for a client's write. When the
 * application is published it is registered again. */
BleioLocalAttr *bleio_gatt_app_add      (BleioGattApp             *app,
                                         BleioLocalAttr           *parent,
                                         const BleioLocalAttrSpec *spec,
                                         GObject                  *object,
                                         GMainContext             *context,
                                         BleioLocalWrittenFunc     written);
/* Something bluetoothd reads at registration changed (an attribute's
 * properties): registered again when published. */
void          bleio_gatt_app_changed    (BleioGattApp *app);
/* The public objects of the services, in the order they were added. */
GPtrArray    *bleio_gatt_app_dup_services (BleioGattApp *app);

void          bleio_gatt_app_publish_async  (BleioGattApp        *app,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean      bleio_gatt_app_publish_finish (BleioGattApp        *app,
                                             GAsyncResult        *result,
                                             GError             **error);

G_END_DECLS
