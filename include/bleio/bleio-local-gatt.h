/* SPDX-License-Identifier: MIT */
#pragma once

#if !defined(__BLEIO_H_INSIDE__) && !defined(BLEIO_COMPILATION)
#error "Only <bleio/bleio.h> can be included directly."
#endif

#include <gio/gio.h>
#include <bleio/bleio-macros.h>
#include <bleio/bleio-uuid.h>
#include <bleio/bleio-adapter.h>
#include <bleio/bleio-service.h>
#include <bleio/bleio-characteristic.h>
#include <bleio/bleio-descriptor.h>

G_BEGIN_DECLS

/*
 * The peripheral role's GATT server (`_bleio`'s `Service(uuid,
 * secondary)`, `Characteristic.add_to_service()`,
 * `Descriptor.add_to_characteristic()` and the `Attribute` security
 * modes). Local services, characteristics and descriptors are the same
 * #BleioService, #BleioCharacteristic and #BleioDescriptor types as a
 * peer's, with bleio_service_get_remote() and friends %FALSE, so the
 * buffers and every getter work on both.
 *
 * libbleio exports the services of an adapter as one BlueZ GATT
 * application (`GattService1`, `GattCharacteristic1`, `GattDescriptor1`
 * objects under an `org.freedesktop.DBus.ObjectManager`) on the adapter's
 * bus connection, served by the library's worker thread, and registers it
 * with the adapter's `GattManager1` when the application calls
 * bleio_adapter_publish_services(). A service or attribute added after
 * that registers the application again (bluetoothd reads the whole tree
 * once, at registration), keeping every value. When bluetoothd restarts,
 * or the adapter is removed and comes back, the library registers it
 * again with the values last set and emits
 * #BleioAdapter::services-restored; the application is unregistered when
 * the adapter object is finalized.
 *
 * A client's reads are answered from the value the library holds, its
 * `offset` honoured; a client's writes change that value, within
 * `max_length` and `fixed_length`, and are told by
 * #BleioCharacteristic::written and #BleioDescriptor::written.
 * bleio_characteristic_write_value() on a local characteristic sets the
 * value and notifies or indicates every subscribed client.
 * docs/peripheral.md has the table from properties and security modes to
 * BlueZ's `Flags`.
 */

/**
 * BleioAttributeSecurity:
 * @BLEIO_ATTRIBUTE_NO_ACCESS: clients may not do it at all: the property
 *   (read, or write and write without response) is left out of BlueZ's
 *   `Flags`
 * @BLEIO_ATTRIBUTE_OPEN: no security: `read`, `write`,
 *   `write-without-response`
 * @BLEIO_ATTRIBUTE_ENCRYPT_NO_MITM: an encrypted link, any pairing:
 *   `encrypt-read`, `encrypt-write`, `encrypt-notify`
 * @BLEIO_ATTRIBUTE_ENCRYPT_WITH_MITM: an encrypted link from an
 *   authenticated (MITM-protected) pairing: `encrypt-authenticated-*`
 * @BLEIO_ATTRIBUTE_LESC_ENCRYPT_WITH_MITM: an encrypted link from an
 *   authenticated LE Secure Connections pairing: `secure-*`
 * @BLEIO_ATTRIBUTE_SIGNED_NO_MITM: signed writes (write permission of a
 *   characteristic only): `authenticated-signed-writes`
 * @BLEIO_ATTRIBUTE_SIGNED_WITH_MITM: signed writes with an authenticated
 *   key: BlueZ's `Flags` cannot ask for it, so it fails with
 *   %BLEIO_ERROR_NOT_SUPPORTED
 *
 * `_bleio.Attribute`'s security modes, with `_bleio`'s values, for the
 * read and write permissions of local characteristics and descriptors.
 *
 * Since: 0.4
 */
typedef enum {
  BLEIO_ATTRIBUTE_NO_ACCESS = 0x00,
  BLEIO_ATTRIBUTE_OPEN = 0x11,
  BLEIO_ATTRIBUTE_ENCRYPT_NO_MITM = 0x21,
  BLEIO_ATTRIBUTE_ENCRYPT_WITH_MITM = 0x31,
  BLEIO_ATTRIBUTE_LESC_ENCRYPT_WITH_MITM = 0x41,
  BLEIO_ATTRIBUTE_SIGNED_NO_MITM = 0x12,
  BLEIO_ATTRIBUTE_SIGNED_WITH_MITM = 0x22,
} BleioAttributeSecurity;

/**
 * bleio_attribute_security_get_type:
 *
 * Returns: the #GType of #BleioAttributeSecurity
 *
 * Since: 0.4
 */
BLEIO_EXPORT
GType bleio_attribute_security_get_type (void);
/**
 * BLEIO_TYPE_ATTRIBUTE_SECURITY:
 *
 * The #GType of #BleioAttributeSecurity.
 */
#define BLEIO_TYPE_ATTRIBUTE_SECURITY (bleio_attribute_security_get_type ())

/**
 * BLEIO_LOCAL_DEFAULT_MAX_LENGTH:
 *
 * `_bleio`'s default `max_length` of a local characteristic or
 * descriptor (20 bytes, one notification at the minimum MTU).
 *
 * Since: 0.4
 */
#define BLEIO_LOCAL_DEFAULT_MAX_LENGTH 20

/**
 * bleio_service_new:
 * @adapter: the #BleioAdapter whose GATT server offers the service
 * @uuid: the service's UUID
 * @secondary: %TRUE for a secondary service (BlueZ's `Primary` false)
 * @error: return location for a #GError, or %NULL
 *
 * `_bleio.Service(uuid, secondary=...)`: a new local service, offered to
 * every central that connects to @adapter once published (see
 * bleio_adapter_publish_services(); a service added after publishing is
 * published again by itself). Never blocks. The adapter keeps the service
 * as long as the adapter object lives; `_bleio` has no way to remove one.
 *
 * Returns: (transfer full): the service, or %NULL with @error set
 *   (%BLEIO_ERROR_NO_ADAPTER when the adapter's object is gone)
 *
 * Since: 0.4
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioService *bleio_service_new (BleioAdapter     *adapter,
                                 const BleioUuid  *uuid,
                                 gboolean          secondary,
                                 GError          **error);

/**
 * bleio_adapter_dup_services:
 * @adapter: a #BleioAdapter
 *
 * The local services made with bleio_service_new() on @adapter, in the
 * order they were made. Never blocks.
 *
 * Returns: (transfer container) (element-type BleioService): the services
 *
 * Since: 0.4
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
GPtrArray *bleio_adapter_dup_services (BleioAdapter *adapter);

/**
 * bleio_characteristic_add_to_service:
 * @service: a local #BleioService (from bleio_service_new())
 * @uuid: the characteristic's UUID
 * @properties: what clients may do, #BleioCharacteristicProperties
 * @read_perm: the security a client's read needs (and its subscription,
 *   when @properties has NOTIFY or INDICATE)
 * @write_perm: the security a client's write needs
 * @max_length: the longest value, at most %BLEIO_CHARACTERISTIC_MAX_LENGTH
 *   (`_bleio`'s default is %BLEIO_LOCAL_DEFAULT_MAX_LENGTH)
 * @fixed_length: %TRUE when every value is exactly @max_length bytes long
 * @initial_value: (nullable): the first value; %NULL means @max_length
 *   zero bytes when @fixed_length, else an empty value
 * @user_description: (nullable): a text clients read from a read-only
 *   Characteristic User Description descriptor (0x2901), or %NULL for none
 * @error: return location for a #GError, or %NULL
 *
 * `_bleio.Characteristic.add_to_service()`: a new local characteristic
 * in @service. Never blocks; when @service's adapter has published its
 * services, the application is registered again with the new
 * characteristic (the values of the others are kept).
 *
 * Fails with %BLEIO_ERROR_INVALID_ARGUMENT for a @max_length above 512,
 * an @initial_value longer than @max_length (or of another length when
 * @fixed_length), a signed mode as @read_perm, or properties that ask for
 * nothing; with %BLEIO_ERROR_NOT_SUPPORTED for
 * %BLEIO_ATTRIBUTE_SIGNED_WITH_MITM; with %BLEIO_ERROR_ROLE when @service
 * is a peer's.
 *
 * Returns: (transfer full): the characteristic, or %NULL with @error set
 *
 * Since: 0.4
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioCharacteristic *bleio_characteristic_add_to_service (BleioService                  *service,
                                                          const BleioUuid               *uuid,
                                                          BleioCharacteristicProperties  properties,
                                                          BleioAttributeSecurity         read_perm,
                                                          BleioAttributeSecurity         write_perm,
                                                          guint                          max_length,
                                                          gboolean                       fixed_length,
                                                          GBytes                        *initial_value,
                                                          const char                    *user_description,
                                                          GError                       **error);

/**
 * bleio_descriptor_add_to_characteristic:
 * @characteristic: a local #BleioCharacteristic
 * @uuid: the descriptor's UUID; not 0x2902 (BlueZ owns the CCCD) nor
 *   0x2900 (BlueZ adds it from the characteristic's flags)
 * @read_perm: the security a client's read needs
 * @write_perm: the security a client's write needs (no signed mode)
 * @max_length: the longest value, at most %BLEIO_CHARACTERISTIC_MAX_LENGTH
 * @fixed_length: %TRUE when every value is exactly @max_length bytes long
 * @initial_value: (nullable): the first value; %NULL as for
 *   bleio_characteristic_add_to_service()
 * @error: return location for a #GError, or %NULL
 *
 * `_bleio.Descriptor.add_to_characteristic()`: a new local descriptor.
 * Never blocks; publishes again like bleio_characteristic_add_to_service(),
 * and fails for the same reasons.
 *
 * Returns: (transfer full): the descriptor, or %NULL with @error set
 *
 * Since: 0.4
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioDescriptor *bleio_descriptor_add_to_characteristic (BleioCharacteristic     *characteristic,
                                                         const BleioUuid         *uuid,
                                                         BleioAttributeSecurity   read_perm,
                                                         BleioAttributeSecurity   write_perm,
                                                         guint                    max_length,
                                                         gboolean                 fixed_length,
                                                         GBytes                  *initial_value,
                                                         GError                 **error);

/**
 * bleio_adapter_publish_services_async:
 * @adapter: a #BleioAdapter
 * @cancellable: (nullable): a #GCancellable; cancelling stops the wait,
 *   not the registration
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * Registers the adapter's local services with bluetoothd
 * (`GattManager1.RegisterApplication`) and completes once bluetoothd has
 * read them and accepted the application, or refused it. After the first
 * publish, every service, characteristic or descriptor added registers
 * the application again by itself; calling this again waits for the
 * registration that holds everything added so far.
 *
 * Fails with %BLEIO_ERROR_INVALID_ARGUMENT when @adapter has no local
 * service, with %BLEIO_ERROR_NO_ADAPTER or
 * %BLEIO_ERROR_BLUEZ_UNAVAILABLE, or with bluetoothd's refusal.
 *
 * Finish with bleio_adapter_publish_services_finish(); the blocking twin
 * is bleio_adapter_publish_services().
 *
 * Since: 0.4
 */
BLEIO_EXPORT
void bleio_adapter_publish_services_async (BleioAdapter        *adapter,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);

/**
 * bleio_adapter_publish_services_finish:
 * @adapter: a #BleioAdapter
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_adapter_publish_services_async().
 *
 * Returns: %TRUE once bluetoothd serves the services
 *
 * Since: 0.4
 */
BLEIO_EXPORT
gboolean bleio_adapter_publish_services_finish (BleioAdapter  *adapter,
                                                GAsyncResult  *result,
                                                GError       **error);

/**
 * bleio_adapter_publish_services:
 * @adapter: a #BleioAdapter
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_adapter_publish_services_async(); safe from any
 * thread.
 *
 * Returns: %TRUE once bluetoothd serves the services
 *
 * Since: 0.4
 */
BLEIO_EXPORT
gboolean bleio_adapter_publish_services (BleioAdapter  *adapter,
                                         GCancellable  *cancellable,
                                         GError       **error);

/**
 * bleio_characteristic_get_remote:
 * @characteristic: a #BleioCharacteristic
 *
 * Whether the characteristic is a peer's (%TRUE) or one of this
 * adapter's GATT server (%FALSE, from
 * bleio_characteristic_add_to_service()).
 *
 * Returns: %TRUE for a peer's characteristic
 *
 * Since: 0.4
 */
BLEIO_EXPORT
gboolean bleio_characteristic_get_remote (BleioCharacteristic *characteristic);

/**
 * bleio_characteristic_dup_value:
 * @characteristic: a local #BleioCharacteristic
 *
 * The value the server holds now: the last one set with
 * bleio_characteristic_write_value() or written by a client. Never
 * blocks. bleio_characteristic_read_value() gives the same for a local
 * characteristic.
 *
 * Returns: (transfer full) (nullable): the value; %NULL for a peer's
 *   characteristic
 *
 * Since: 0.4
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
GBytes *bleio_characteristic_dup_value (BleioCharacteristic *characteristic);

/**
 * bleio_characteristic_get_notifying:
 * @characteristic: a local #BleioCharacteristic
 *
 * Whether any client is subscribed to the characteristic: bluetoothd
 * called `StartNotify` on it (the first client that switched its CCCD on)
 * and not yet `StopNotify` (the last one switched it off or disconnected).
 * bluetoothd does not say which clients those are.
 *
 * Returns: %TRUE while a client is subscribed; %FALSE for a peer's
 *   characteristic
 *
 * Since: 0.4
 */
BLEIO_EXPORT
gboolean bleio_characteristic_get_notifying (BleioCharacteristic *characteristic);

/**
 * bleio_descriptor_get_remote:
 * @descriptor: a #BleioDescriptor
 *
 * Whether the descriptor is a peer's (%TRUE) or a local one (%FALSE).
 *
 * Returns: %TRUE for a peer's descriptor
 *
 * Since: 0.4
 */
BLEIO_EXPORT
gboolean bleio_descriptor_get_remote (BleioDescriptor *descriptor);

/**
 * bleio_descriptor_dup_value:
 * @descriptor: a local #BleioDescriptor
 *
 * The value the server holds now. Never blocks.
 *
 * Returns: (transfer full) (nullable): the value; %NULL for a peer's
 *   descriptor
 *
 * Since: 0.4
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
GBytes *bleio_descriptor_dup_value (BleioDescriptor *descriptor);

G_END_DECLS
