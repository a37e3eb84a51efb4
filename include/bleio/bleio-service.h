/* SPDX-License-Identifier: MIT */
#pragma once

#if !defined(__BLEIO_H_INSIDE__) && !defined(BLEIO_COMPILATION)
#error "Only <bleio/bleio.h> can be included directly."
#endif

#include <glib-object.h>
#include <bleio/bleio-macros.h>
#include <bleio/bleio-uuid.h>
#include <bleio/bleio-connection.h>

G_BEGIN_DECLS

/**
 * BleioService:
 *
 * A GATT service (`_bleio.Service`): a peer's (BlueZ's
 * `org.bluez.GattService1`, `remote` true), returned by
 * bleio_connection_discover_remote_services(), or a local one of this
 * adapter's GATT server (`remote` false), made with bleio_service_new().
 * Its getters read values fixed when the service was discovered or made;
 * they never block.
 */
#define BLEIO_TYPE_SERVICE (bleio_service_get_type ())
BLEIO_EXPORT
G_DECLARE_FINAL_TYPE (BleioService, bleio_service, BLEIO, SERVICE, GObject)

/**
 * bleio_service_get_uuid:
 * @service: a #BleioService
 *
 * `_bleio.Service.uuid`.
 *
 * Returns: (transfer none): the service's UUID; UUIDs on the Bluetooth
 *   base are 16-bit
 */
BLEIO_EXPORT
const BleioUuid *bleio_service_get_uuid (BleioService *service);

/**
 * bleio_service_get_handle:
 * @service: a #BleioService
 *
 * The attribute handle of the service declaration: BlueZ's `Handle`
 * property where bluetoothd exports one (5.82), else the number in BlueZ's
 * object path (`.../service000c` is 0x000c; bluetoothd 5.66 exports no
 * `Handle` property for remote services).
 *
 * Returns: the handle; 0 for a local service (bluetoothd assigns it and
 *   does not tell the application)
 */
BLEIO_EXPORT
guint16 bleio_service_get_handle (BleioService *service);

/**
 * bleio_service_get_secondary:
 * @service: a #BleioService
 *
 * `_bleio.Service.secondary`.
 *
 * Returns: %TRUE for a secondary service (BlueZ's `Primary` is false)
 */
BLEIO_EXPORT
gboolean bleio_service_get_secondary (BleioService *service);

/**
 * bleio_service_get_remote:
 * @service: a #BleioService
 *
 * `_bleio.Service.remote`.
 *
 * Returns: %TRUE for a peer's service, %FALSE for a local one made with
 *   bleio_service_new()
 */
BLEIO_EXPORT
gboolean bleio_service_get_remote (BleioService *service);

/**
 * bleio_service_get_connection:
 * @service: a #BleioService
 *
 * The connection whose peer has this service.
 *
 * Returns: (transfer none) (nullable): the connection the service was
 *   discovered on; %NULL for a local service
 */
BLEIO_EXPORT
BleioConnection *bleio_service_get_connection (BleioService *service);

/**
 * bleio_service_get_object_path:
 * @service: a #BleioService
 *
 * Where BlueZ exports the service, for programs that also talk to BlueZ
 * directly; for a local service, where libbleio exports it.
 *
 * Returns: (transfer none): the object path of the service
 */
BLEIO_EXPORT
const char *bleio_service_get_object_path (BleioService *service);

G_END_DECLS
