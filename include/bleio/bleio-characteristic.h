/* SPDX-License-Identifier: MIT */
#pragma once

#if !defined(__BLEIO_H_INSIDE__) && !defined(BLEIO_COMPILATION)
#error "Only <bleio/bleio.h> can be included directly."
#endif

#include <gio/gio.h>
#include <bleio/bleio-macros.h>
#include <bleio/bleio-uuid.h>
#include <bleio/bleio-service.h>

G_BEGIN_DECLS

/**
 * BleioCharacteristicProperties:
 * @BLEIO_CHARACTERISTIC_PROPERTY_NONE: no property
 * @BLEIO_CHARACTERISTIC_PROPERTY_BROADCAST: the value may be broadcast
 *   (BlueZ flag `broadcast`)
 * @BLEIO_CHARACTERISTIC_PROPERTY_READ: the value can be read (`read`)
 * @BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE: the value can be written
 *   without response (`write-without-response`)
 * @BLEIO_CHARACTERISTIC_PROPERTY_WRITE: the value can be written with a
 *   write request (`write`)
 * @BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY: the peer can notify changes
 *   (`notify`)
 * @BLEIO_CHARACTERISTIC_PROPERTY_INDICATE: the peer can indicate changes
 *   (`indicate`)
 *
 * The properties of `_bleio.Characteristic`, with the Bluetooth Core bit
 * values that `_bleio` uses. libbleio translates them from the strings of
 * BlueZ's `GattCharacteristic1.Flags`; BlueZ's other flags (security,
 * reliable write, extended properties) have no bit here.
 */
typedef enum /*< flags >*/ {
  BLEIO_CHARACTERISTIC_PROPERTY_NONE = 0,
  BLEIO_CHARACTERISTIC_PROPERTY_BROADCAST = 0x01,
  BLEIO_CHARACTERISTIC_PROPERTY_READ = 0x02,
  BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE = 0x04,
  BLEIO_CHARACTERISTIC_PROPERTY_WRITE = 0x08,
  BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY = 0x10,
  BLEIO_CHARACTERISTIC_PROPERTY_INDICATE = 0x20,
} BleioCharacteristicProperties;

/**
 * bleio_characteristic_properties_get_type:
 *
 * Returns: the #GType of #BleioCharacteristicProperties
 */
BLEIO_EXPORT
GType bleio_characteristic_properties_get_type (void);
/**
 * BLEIO_TYPE_CHARACTERISTIC_PROPERTIES:
 *
 * The #GType of #BleioCharacteristicProperties.
 */
#define BLEIO_TYPE_CHARACTERISTIC_PROPERTIES (bleio_characteristic_properties_get_type ())

/**
 * BleioWriteType:
 * @BLEIO_WRITE_TYPE_DEFAULT: `_bleio`'s rule: a write without response when
 *   the characteristic has %BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE,
 *   else a write request
 * @BLEIO_WRITE_TYPE_REQUEST: a write request, acknowledged by the peer;
 *   BlueZ turns a value longer than the ATT MTU allows into a long write
 *   (prepared writes, then execute)
 * @BLEIO_WRITE_TYPE_COMMAND: a write without response; the value must fit
 *   in one ATT packet (MTU - 3 bytes)
 * @BLEIO_WRITE_TYPE_RELIABLE: a reliable write: prepared writes that the
 *   peer echoes and BlueZ checks before executing them
 *
 * How bleio_characteristic_write_value_full_async() writes; BlueZ's
 * `WriteValue` option `type`.
 */
typedef enum {
  BLEIO_WRITE_TYPE_DEFAULT,
  BLEIO_WRITE_TYPE_REQUEST,
  BLEIO_WRITE_TYPE_COMMAND,
  BLEIO_WRITE_TYPE_RELIABLE,
} BleioWriteType;

/**
 * bleio_write_type_get_type:
 *
 * Returns: the #GType of #BleioWriteType
 */
BLEIO_EXPORT
GType bleio_write_type_get_type (void);
/**
 * BLEIO_TYPE_WRITE_TYPE:
 *
 * The #GType of #BleioWriteType.
 */
#define BLEIO_TYPE_WRITE_TYPE (bleio_write_type_get_type ())

/**
 * BLEIO_CHARACTERISTIC_MAX_LENGTH:
 *
 * The longest attribute value ATT allows (512 bytes): what
 * bleio_characteristic_get_max_length() reports for a peer's
 * characteristic, whose own limit BlueZ does not expose.
 */
#define BLEIO_CHARACTERISTIC_MAX_LENGTH 512

/**
 * BleioCharacteristic:
 *
 * A characteristic of a peer's service (BlueZ's
 * `org.bluez.GattCharacteristic1`), as `_bleio.Characteristic`. Get them
 * from bleio_service_dup_characteristics(). A local characteristic of
 * this adapter's GATT server, made with
 * bleio_characteristic_add_to_service(), is the same type
 * (bleio_characteristic_get_remote() is %FALSE): its value is held by
 * libbleio, reads and writes of it never block on a peer, and
 * #BleioCharacteristic::written tells a client's writes. Two characteristics with the
 * same UUID in one service (HID reports, for example) are distinct
 * objects: libbleio tells attributes apart by handle, never by UUID.
 *
 * Operations on one characteristic (reads, writes, subscription changes)
 * are queued and reach BlueZ one at a time, in the order they were made,
 * so concurrent calls never fail with BlueZ's `InProgress`; when another
 * program's operation holds the characteristic, libbleio retries a few
 * times before failing with %BLEIO_ERROR_IN_PROGRESS.
 *
 * Once the connection is down every operation fails with
 * %BLEIO_ERROR_CONNECTION. Once the peer's database changed and the
 * characteristic is gone (#BleioConnection::services-changed), every
 * operation on it and on its descriptors fails with
 * %BLEIO_ERROR_DOES_NOT_EXIST, also when a new characteristic took its
 * handle: that one is a new object, from a new discovery.
 *
 * Threads and main contexts: `_async` functions complete in the
 * thread-default main context of their caller; blocking functions work from
 * any thread and never iterate the caller's context;
 * #BleioCharacteristic::notification is emitted in the thread-default main
 * context that was current when the characteristic object was created.
 */
#define BLEIO_TYPE_CHARACTERISTIC (bleio_characteristic_get_type ())
BLEIO_EXPORT
G_DECLARE_FINAL_TYPE (BleioCharacteristic, bleio_characteristic, BLEIO, CHARACTERISTIC, GObject)

/**
 * bleio_service_dup_characteristics:
 * @service: a #BleioService
 *
 * `_bleio.Service.characteristics`: the characteristics of @service as
 * BlueZ resolved them, in handle order (the handle comes from the object
 * path, `.../char000e` is 0x000e). The same BlueZ characteristic gives the
 * same #BleioCharacteristic object while anything holds a reference to it.
 * Never blocks.
 *
 * Returns: (transfer container) (element-type BleioCharacteristic): the
 *   characteristics; empty once BlueZ has dropped the service's objects
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
GPtrArray *bleio_service_dup_characteristics (BleioService *service);

/**
 * bleio_characteristic_get_uuid:
 * @characteristic: a #BleioCharacteristic
 *
 * `_bleio.Characteristic.uuid`.
 *
 * Returns: (transfer none): the characteristic's UUID; UUIDs on the
 *   Bluetooth base are 16-bit
 */
BLEIO_EXPORT
const BleioUuid *bleio_characteristic_get_uuid (BleioCharacteristic *characteristic);

/**
 * bleio_characteristic_get_properties:
 * @characteristic: a #BleioCharacteristic
 *
 * `_bleio.Characteristic.properties`, translated from BlueZ's `Flags`.
 *
 * Returns: the properties
 */
BLEIO_EXPORT
BleioCharacteristicProperties bleio_characteristic_get_properties (BleioCharacteristic *characteristic);

/**
 * bleio_characteristic_get_handle:
 * @characteristic: a #BleioCharacteristic
 *
 * The handle of the characteristic declaration: BlueZ's `Handle` property
 * where bluetoothd exports one (5.82), else the number in BlueZ's object
 * path (bluetoothd 5.66 exports no `Handle` property for a peer's
 * attributes).
 *
 * Returns: the handle; 0 for a local characteristic
 */
BLEIO_EXPORT
guint16 bleio_characteristic_get_handle (BleioCharacteristic *characteristic);

/**
 * bleio_characteristic_get_max_length:
 * @characteristic: a #BleioCharacteristic
 *
 * `_bleio.Characteristic.max_length`. BlueZ does not tell a client how long
 * a peer's value may be, so this is the ATT limit,
 * %BLEIO_CHARACTERISTIC_MAX_LENGTH; for a local characteristic it is the
 * `max_length` it was made with.
 *
 * Returns: the longest value a read or a request write can carry
 */
BLEIO_EXPORT
guint bleio_characteristic_get_max_length (BleioCharacteristic *characteristic);

/**
 * bleio_characteristic_get_service:
 * @characteristic: a #BleioCharacteristic
 *
 * `_bleio.Characteristic.service`.
 *
 * Returns: (transfer none): the service the characteristic belongs to
 */
BLEIO_EXPORT
BleioService *bleio_characteristic_get_service (BleioCharacteristic *characteristic);

/**
 * bleio_characteristic_get_object_path:
 * @characteristic: a #BleioCharacteristic
 *
 * Where BlueZ exports the characteristic, for programs that also talk to
 * BlueZ directly.
 *
 * Returns: (transfer none): BlueZ's object path of the characteristic
 */
BLEIO_EXPORT
const char *bleio_characteristic_get_object_path (BleioCharacteristic *characteristic);

/**
 * bleio_characteristic_get_mtu:
 * @characteristic: a #BleioCharacteristic
 *
 * The ATT MTU of the link as BlueZ reports it for this characteristic
 * (`MTU`, BlueZ 5.62), or as an `AcquireNotify`/`AcquireWrite` answer
 * reported it; 23, the ATT minimum, when neither is known.
 *
 * Returns: the ATT MTU in bytes
 */
BLEIO_EXPORT
guint bleio_characteristic_get_mtu (BleioCharacteristic *characteristic);

/**
 * bleio_characteristic_read_value_async:
 * @characteristic: a #BleioCharacteristic
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * Reads the value from the peer (`_bleio.Characteristic.value`; BlueZ's
 * `ReadValue`), after the operations queued before it on this
 * characteristic. For a local characteristic it gives the value the
 * server holds (bleio_characteristic_dup_value()). Finish with bleio_characteristic_read_value_finish(); the
 * blocking twin is bleio_characteristic_read_value().
 */
BLEIO_EXPORT
void bleio_characteristic_read_value_async (BleioCharacteristic *characteristic,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);

/**
 * bleio_characteristic_read_value_finish:
 * @characteristic: a #BleioCharacteristic
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_characteristic_read_value_async().
 *
 * Returns: (transfer full): the value, or %NULL with @error set
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
GBytes *bleio_characteristic_read_value_finish (BleioCharacteristic  *characteristic,
                                                GAsyncResult         *result,
                                                GError              **error);

/**
 * bleio_characteristic_read_value:
 * @characteristic: a #BleioCharacteristic
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_characteristic_read_value_async(); safe from any
 * thread.
 *
 * Returns: (transfer full): the value, or %NULL with @error set
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
GBytes *bleio_characteristic_read_value (BleioCharacteristic  *characteristic,
                                         GError              **error);

/**
 * bleio_characteristic_write_value_async:
 * @characteristic: a #BleioCharacteristic
 * @value: the bytes to write
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * Sets `_bleio.Characteristic.value`: a write without response when the
 * characteristic has %BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE, else
 * a write request (%BLEIO_WRITE_TYPE_DEFAULT).
 *
 * On a local characteristic it sets the value the server holds
 * (%BLEIO_ERROR_INVALID_ARGUMENT when longer than its `max_length`, or of
 * another length when `fixed_length`) and sends it to every subscribed
 * client: notified, or indicated when the characteristic indicates and
 * does not notify, in which case the call completes once a client
 * confirmed (%BLEIO_ERROR_TIMEOUT after 35 s, %BLEIO_ERROR_CONNECTION when
 * the last subscriber left first).
 *
 * Finish with bleio_characteristic_write_value_finish(); the blocking
 * twin is bleio_characteristic_write_value().
 */
BLEIO_EXPORT
void bleio_characteristic_write_value_async (BleioCharacteristic *characteristic,
                                             GBytes              *value,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);

/**
 * bleio_characteristic_write_value_full_async:
 * @characteristic: a #BleioCharacteristic
 * @value: the bytes to write
 * @type: how to write
 * @offset: where in the attribute value the bytes go (0 for a whole value;
 *   more for one part of a long value)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * Writes with an explicit write type. A value that does not fit fails with
 * %BLEIO_ERROR_INVALID_ARGUMENT before anything reaches BlueZ: @offset plus
 * the length beyond %BLEIO_CHARACTERISTIC_MAX_LENGTH, or a write without
 * response longer than bleio_characteristic_get_mtu() - 3. On a local
 * characteristic @type is ignored and @offset must be 0: it is
 * bleio_characteristic_write_value_async(). Finish with
 * bleio_characteristic_write_value_finish(); the blocking twin is
 * bleio_characteristic_write_value_full().
 */
BLEIO_EXPORT
void bleio_characteristic_write_value_full_async (BleioCharacteristic *characteristic,
                                                  GBytes              *value,
                                                  BleioWriteType       type,
                                                  guint16              offset,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);

/**
 * bleio_characteristic_write_value_finish:
 * @characteristic: a #BleioCharacteristic
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_characteristic_write_value_async() and
 * bleio_characteristic_write_value_full_async(). For a write without
 * response, success means BlueZ sent the packet, not that the peer took it.
 *
 * Returns: %TRUE on success
 */
BLEIO_EXPORT
gboolean bleio_characteristic_write_value_finish (BleioCharacteristic  *characteristic,
                                                  GAsyncResult         *result,
                                                  GError              **error);

/**
 * bleio_characteristic_write_value:
 * @characteristic: a #BleioCharacteristic
 * @value: the bytes to write
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_characteristic_write_value_async(); safe from any
 * thread.
 *
 * Returns: %TRUE on success
 */
BLEIO_EXPORT
gboolean bleio_characteristic_write_value (BleioCharacteristic  *characteristic,
                                           GBytes               *value,
                                           GError              **error);

/**
 * bleio_characteristic_write_value_full:
 * @characteristic: a #BleioCharacteristic
 * @value: the bytes to write
 * @type: how to write
 * @offset: where in the attribute value the bytes go
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_characteristic_write_value_full_async(); safe from
 * any thread.
 *
 * Returns: %TRUE on success
 */
BLEIO_EXPORT
gboolean bleio_characteristic_write_value_full (BleioCharacteristic  *characteristic,
                                                GBytes               *value,
                                                BleioWriteType        type,
                                                guint16               offset,
                                                GError              **error);

/**
 * bleio_characteristic_set_cccd_async:
 * @characteristic: a #BleioCharacteristic
 * @notify: enable notifications
 * @indicate: enable indications
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * `_bleio.Characteristic.set_cccd()`. With @notify or @indicate this calls
 * BlueZ's `StartNotify`; with neither, `StopNotify`. BlueZ writes the CCCD
 * itself and prefers notifications when the peer offers both, so asking
 * for indications on such a characteristic gets notifications. A
 * characteristic that offers neither kind asked for has no CCCD and fails
 * with %BLEIO_ERROR_BLUETOOTH; a local characteristic, which clients
 * subscribe to, with %BLEIO_ERROR_ROLE. While subscribed, each notification is
 * emitted as #BleioCharacteristic::notification. Finish with
 * bleio_characteristic_set_cccd_finish(); the blocking twin is
 * bleio_characteristic_set_cccd().
 */
BLEIO_EXPORT
void bleio_characteristic_set_cccd_async (BleioCharacteristic *characteristic,
                                          gboolean             notify,
                                          gboolean             indicate,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);

/**
 * bleio_characteristic_set_cccd_finish:
 * @characteristic: a #BleioCharacteristic
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_characteristic_set_cccd_async().
 *
 * Returns: %TRUE on success
 */
BLEIO_EXPORT
gboolean bleio_characteristic_set_cccd_finish (BleioCharacteristic  *characteristic,
                                               GAsyncResult         *result,
                                               GError              **error);

/**
 * bleio_characteristic_set_cccd:
 * @characteristic: a #BleioCharacteristic
 * @notify: enable notifications
 * @indicate: enable indications
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_characteristic_set_cccd_async(); safe from any
 * thread.
 *
 * Returns: %TRUE on success
 */
BLEIO_EXPORT
gboolean bleio_characteristic_set_cccd (BleioCharacteristic  *characteristic,
                                        gboolean              notify,
                                        gboolean              indicate,
                                        GError              **error);

/**
 * bleio_characteristic_dup_descriptors:
 * @characteristic: a #BleioCharacteristic
 *
 * `_bleio.Characteristic.descriptors`: the descriptors BlueZ resolved, in
 * handle order. The same BlueZ descriptor gives the same #BleioDescriptor
 * while anything holds a reference to it. Never blocks.
 *
 * Returns: (transfer container) (element-type BleioDescriptor): the descriptors
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
GPtrArray *bleio_characteristic_dup_descriptors (BleioCharacteristic *characteristic);

G_END_DECLS
