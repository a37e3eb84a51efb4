/* SPDX-License-Identifier: MIT */
/* BleioService's internals (lib/bleio-service.c). */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-service-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-gatt-private.h"
#include "bleio-local-attr-private.h"

G_BEGIN_DECLS

/* A peer's service; takes @uuid. */
BleioService      *bleio_service_new_remote (BleioConnection *connection,
                                      const char      *path,
                                      BleioUuid       *uuid,
                                      gboolean         primary);
/* A local service (lib/bleio-local-gatt.c); takes @uuid. Its attribute
 * is set once it exists. */
BleioService      *bleio_service_new_local (BleioUuid       *uuid,
                                            gboolean         primary);
void               bleio_service_set_local (BleioService    *service,
                                            BleioLocalAttr  *attr);
/* NULL for a peer's service. */
BleioLocalAttr    *bleio_service_get_local (BleioService    *service);
/* The cache's incarnation of its path when it was discovered. */
guint              bleio_service_get_incarnation (BleioService *service);
/* The service's characteristic objects (bleio_service_dup_characteristics()). */
BleioGattChildren *bleio_service_get_characteristic_children (BleioService *service);

G_END_DECLS
