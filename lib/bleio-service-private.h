/* SPDX-License-Identifier: MIT */
/* BleioService's internals (lib/bleio-service.c). */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-service-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-gatt-private.h"

G_BEGIN_DECLS

/* Takes @uuid. */
BleioService      *bleio_service_new (BleioConnection *connection,
                                      const char      *path,
                                      BleioUuid       *uuid,
                                      gboolean         primary);
/* The cache's incarnation of its path when it was discovered. */
guint              bleio_service_get_incarnation (BleioService *service);
/* The service's characteristic objects (bleio_service_dup_characteristics()). */
BleioGattChildren *bleio_service_get_characteristic_children (BleioService *service);

G_END_DECLS
