/* SPDX-License-Identifier: MIT */
#pragma once

#if !defined(__BLEIO_H_INSIDE__) && !defined(BLEIO_COMPILATION)
#error "Only <bleio/bleio.h> can be included directly."
#endif

#include <gio/gio.h>
#include <bleio/bleio-macros.h>
#include <bleio/bleio-uuid.h>
#include <bleio/bleio-characteristic.h>

G_BEGIN_DECLS

/**
 * BleioDescriptor:
 *
 * A descriptor of a peer's characteristic (BlueZ's
 * `org.bluez.GattDescriptor1`), as `_bleio.Descriptor`. Get them from
 * bleio_characteristic_dup_descriptors(). A local descriptor, made with
 * bleio_descriptor_add_to_characteristic(), is the same type: reading it
 * gives the value libbleio holds, writing it sets that value (clients
 * hear of it when they read), and #BleioDescriptor::written tells a
 * client's writes.
 *
 * Reads and writes on one descriptor are queued like those on a
 * characteristic. BlueZ refuses writes to the Client Characteristic
 * Configuration descriptor (0x2902) because it owns subscriptions: such a
 * write fails with %BLEIO_ERROR_NOT_PERMITTED; use
 * bleio_characteristic_set_cccd() instead.
 *
 * `_async` functions complete in the thread-default main context of their
 * caller; blocking functions work from any thread.
 */
#define BLEIO_TYPE_DESCRIPTOR (bleio_descriptor_get_type ())
BLEIO_EXPORT
G_DECLARE_FINAL_TYPE (BleioDescriptor, bleio_descriptor, BLEIO, DESCRIPTOR, GObject)

/**
 * bleio_descriptor_get_uuid:
 * @descriptor: a #BleioDescriptor
 *
 * `_bleio.Descriptor.uuid`.
 *
 * Returns: (transfer none): the descriptor's UUID; UUIDs on the Bluetooth
 *   base are 16-bit
 */
BLEIO_EXPORT
const BleioUuid *bleio_descriptor_get_uuid (BleioDescriptor *descriptor);

/**
 * bleio_descriptor_get_handle:
 * @descriptor: a #BleioDescriptor
 *
 * The descriptor's attribute handle in the peer's GATT database: BlueZ's
 * `Handle` property where bluetoothd exports one (5.82), else the number in
 * BlueZ's object path (5.66).
 *
 * Returns: the descriptor's handle
 */
BLEIO_EXPORT
guint16 bleio_descriptor_get_handle (BleioDescriptor *descriptor);

/**
 * bleio_descriptor_get_characteristic:
 * @descriptor: a #BleioDescriptor
 *
 * `_bleio.Descriptor.characteristic`.
 *
 * Returns: (transfer none): the characteristic the descriptor belongs to
 */
BLEIO_EXPORT
BleioCharacteristic *bleio_descriptor_get_characteristic (BleioDescriptor *descriptor);

/**
 * bleio_descriptor_get_object_path:
 * @descriptor: a #BleioDescriptor
 *
 * Where BlueZ exports the descriptor, for programs that also talk to BlueZ
 * directly.
 *
 * Returns: (transfer none): BlueZ's object path of the descriptor
 */
BLEIO_EXPORT
const char *bleio_descriptor_get_object_path (BleioDescriptor *descriptor);

/**
 * bleio_descriptor_read_value_async:
 * @descriptor: a #BleioDescriptor
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * Reads `_bleio.Descriptor.value` from the peer (BlueZ's `ReadValue`).
 * Finish with bleio_descriptor_read_value_finish(); the blocking twin is
 * bleio_descriptor_read_value().
 */
BLEIO_EXPORT
void bleio_descriptor_read_value_async (BleioDescriptor     *descriptor,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);

/**
 * bleio_descriptor_read_value_finish:
 * @descriptor: a #BleioDescriptor
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_descriptor_read_value_async().
 *
 * Returns: (transfer full): the value, or %NULL with @error set
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
GBytes *bleio_descriptor_read_value_finish (BleioDescriptor  *descriptor,
                                            GAsyncResult     *result,
                                            GError          **error);

/**
 * bleio_descriptor_read_value:
 * @descriptor: a #BleioDescriptor
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_descriptor_read_value_async(); safe from any
 * thread.
 *
 * Returns: (transfer full): the value, or %NULL with @error set
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
GBytes *bleio_descriptor_read_value (BleioDescriptor  *descriptor,
                                     GError          **error);

/**
 * bleio_descriptor_write_value_async:
 * @descriptor: a #BleioDescriptor
 * @value: the bytes to write
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * Writes `_bleio.Descriptor.value` (BlueZ's `WriteValue`). Writing the
 * CCCD fails with %BLEIO_ERROR_NOT_PERMITTED (BlueZ refuses it). Finish
 * with bleio_descriptor_write_value_finish(); the blocking twin is
 * bleio_descriptor_write_value().
 */
BLEIO_EXPORT
void bleio_descriptor_write_value_async (BleioDescriptor     *descriptor,
                                         GBytes              *value,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);

/**
 * bleio_descriptor_write_value_finish:
 * @descriptor: a #BleioDescriptor
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_descriptor_write_value_async().
 *
 * Returns: %TRUE on success
 */
BLEIO_EXPORT
gboolean bleio_descriptor_write_value_finish (BleioDescriptor  *descriptor,
                                              GAsyncResult     *result,
                                              GError          **error);

/**
 * bleio_descriptor_write_value:
 * @descriptor: a #BleioDescriptor
 * @value: the bytes to write
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_descriptor_write_value_async(); safe from any
 * thread.
 *
 * Returns: %TRUE on success
 */
BLEIO_EXPORT
gboolean bleio_descriptor_write_value (BleioDescriptor  *descriptor,
                                       GBytes           *value,
                                       GError          **error);

G_END_DECLS
