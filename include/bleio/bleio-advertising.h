/* SPDX-License-Identifier: MIT */
#pragma once

#if !defined(__BLEIO_H_INSIDE__) && !defined(BLEIO_COMPILATION)
#error "Only <bleio/bleio.h> can be included directly."
#endif

#include <gio/gio.h>
#include <bleio/bleio-macros.h>
#include <bleio/bleio-address.h>
#include <bleio/bleio-adapter.h>

G_BEGIN_DECLS

/**
 * BleioAdvertisingEndReason:
 * @BLEIO_ADVERTISING_END_REASON_STOPPED: this process called
 *   bleio_adapter_stop_advertising()
 * @BLEIO_ADVERTISING_END_REASON_TIMEOUT: the timeout given to
 *   bleio_adapter_start_advertising_async() passed (bluetoothd released the
 *   advertisement then)
 * @BLEIO_ADVERTISING_END_REASON_CONNECTED: a central connected to the
 *   adapter while a connectable advertisement ran (emitted just after
 *   #BleioAdapter::incoming-connection, in whose handlers
 *   bleio_adapter_get_advertising() reads %FALSE already); as in
 *   `_bleio`, the advertisement
 *   then ends (libbleio unregisters it). Links this adapter's own connect
 *   attempts make do not end it
 * @BLEIO_ADVERTISING_END_REASON_RELEASED: bluetoothd called `Release` on
 *   the advertisement for a reason of its own (it does so when its adapter
 *   goes away and when it shuts down)
 * @BLEIO_ADVERTISING_END_REASON_ADAPTER_OFF: the adapter was powered off
 * @BLEIO_ADVERTISING_END_REASON_ADAPTER_REMOVED: the adapter went away
 * @BLEIO_ADVERTISING_END_REASON_BLUEZ_UNAVAILABLE: bluetoothd left the bus;
 *   libbleio registers the advertisement again when it comes back and
 *   then emits #BleioAdapter::advertising-restored
 * @BLEIO_ADVERTISING_END_REASON_RESTORE_FAILED: bluetoothd came back but
 *   refused the advertisement libbleio registered again; the advertisement
 *   is over
 *
 * Why advertising ended; passed with #BleioAdapter::advertising-ended.
 *
 * Since: 0.3
 */
typedef enum {
  BLEIO_ADVERTISING_END_REASON_STOPPED,
  BLEIO_ADVERTISING_END_REASON_TIMEOUT,
  BLEIO_ADVERTISING_END_REASON_CONNECTED,
  BLEIO_ADVERTISING_END_REASON_RELEASED,
  BLEIO_ADVERTISING_END_REASON_ADAPTER_OFF,
  BLEIO_ADVERTISING_END_REASON_ADAPTER_REMOVED,
  BLEIO_ADVERTISING_END_REASON_BLUEZ_UNAVAILABLE,
  BLEIO_ADVERTISING_END_REASON_RESTORE_FAILED,
} BleioAdvertisingEndReason;

/**
 * bleio_advertising_end_reason_get_type:
 *
 * Returns: the #GType of #BleioAdvertisingEndReason
 *
 * Since: 0.3
 */
BLEIO_EXPORT
GType bleio_advertising_end_reason_get_type (void);
/**
 * BLEIO_TYPE_ADVERTISING_END_REASON:
 *
 * The #GType of #BleioAdvertisingEndReason.
 */
#define BLEIO_TYPE_ADVERTISING_END_REASON (bleio_advertising_end_reason_get_type ())

/**
 * bleio_adapter_start_advertising_async:
 * @adapter: a #BleioAdapter
 * @data: (nullable): the advertising data: raw AD structures, as `_bleio`'s
 *   `data`; %NULL or empty for none (bluetoothd still sends its flags)
 * @scan_response: (nullable): the scan response, raw AD structures; BlueZ
 *   can carry only a local name here
 * @connectable: %TRUE for a connectable advertisement (`Type`
 *   `peripheral`), %FALSE for a broadcast
 * @anonymous: must be %FALSE: BlueZ has no per-advertisement random
 *   address, so %TRUE fails with %BLEIO_ERROR_NOT_SUPPORTED
 * @timeout: seconds until advertising stops by itself, 0 for none, at most
 *   65535 (BlueZ's `Timeout`)
 * @interval: the advertising interval in seconds, 0.02 to 10.24, or 0 to
 *   let bluetoothd choose. Only a bluetoothd started with its experimental
 *   flag (`-E`) takes an interval; any other fails with
 *   %BLEIO_ERROR_NOT_SUPPORTED rather than ignore it. `_bleio`'s default
 *   is 0.1: bindings that want their default to work everywhere pass 0
 * @tx_power: the transmit power in dBm, -127 to 20, or 0 for no
 *   preference; like @interval it needs the experimental flag and a
 *   controller that reports its range, else %BLEIO_ERROR_NOT_SUPPORTED
 * @directed_to: (nullable): must be %NULL: BlueZ cannot send directed
 *   advertisements, so an address fails with %BLEIO_ERROR_NOT_SUPPORTED
 * @cancellable: (nullable): a #GCancellable; cancelling after the request
 *   reached bluetoothd unregisters the advertisement again
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * `_bleio.Adapter.start_advertising()`. libbleio exports an
 * `org.bluez.LEAdvertisement1` object on the adapter's bus connection
 * (served by its worker thread) and registers it with the adapter's
 * `LEAdvertisingManager1`. Each AD structure of @data and @scan_response
 * becomes the property that carries it (docs/peripheral.md has the table);
 * bluetoothd builds the bytes on air from those properties, so their order
 * and the placement of the local name (in the scan response, for a legacy
 * advertisement) are bluetoothd's. Anything BlueZ cannot send fails before
 * anything is registered: malformed bytes (a length that overruns, a zero
 * length) with %BLEIO_ERROR_INVALID_ARGUMENT, an AD type no property
 * carries and `Data` refuses with %BLEIO_ERROR_NOT_SUPPORTED; the message
 * names the structure by its index and type. More than 31 bytes is an
 * extended advertisement, which needs a controller that lists
 * `SupportedSecondaryChannels` (else %BLEIO_ERROR_NOT_SUPPORTED; see
 * docs/bluez-versions.md for what each BlueZ release sends).
 *
 * A second start while advertising fails with %BLEIO_ERROR_ALREADY_EXISTS,
 * "Already advertising". When every advertising instance of the
 * controller is taken by other programs it fails with
 * %BLEIO_ERROR_NOT_PERMITTED. A powered-off adapter fails with
 * %BLEIO_ERROR_NOT_READY.
 *
 * Advertising ends with bleio_adapter_stop_advertising(), when @timeout
 * passes, when a central connects while @connectable, when bluetoothd
 * releases it, and when the adapter is powered off or removed:
 * #BleioAdapter:advertising turns %FALSE and #BleioAdapter::advertising-ended
 * says why. When bluetoothd restarts, libbleio registers the advertisement
 * again by itself and emits #BleioAdapter::advertising-restored. The
 * advertisement is unregistered when the adapter object is finalized.
 *
 * Finish with bleio_adapter_start_advertising_finish(); the blocking twin
 * is bleio_adapter_start_advertising().
 *
 * Since: 0.3
 */
BLEIO_EXPORT
void bleio_adapter_start_advertising_async (BleioAdapter        *adapter,
                                            GBytes              *data,
                                            GBytes              *scan_response,
                                            gboolean             connectable,
                                            gboolean             anonymous,
                                            guint                timeout,
                                            double               interval,
                                            int                  tx_power,
                                            const BleioAddress  *directed_to,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);

/**
 * bleio_adapter_start_advertising_finish:
 * @adapter: a #BleioAdapter
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_adapter_start_advertising_async().
 *
 * Returns: %TRUE once bluetoothd accepted the advertisement; %FALSE with
 *   @error set
 *
 * Since: 0.3
 */
BLEIO_EXPORT
gboolean bleio_adapter_start_advertising_finish (BleioAdapter  *adapter,
                                                 GAsyncResult  *result,
                                                 GError       **error);

/**
 * bleio_adapter_start_advertising:
 * @adapter: a #BleioAdapter
 * @data: (nullable): see bleio_adapter_start_advertising_async()
 * @scan_response: (nullable): see bleio_adapter_start_advertising_async()
 * @connectable: see bleio_adapter_start_advertising_async()
 * @anonymous: see bleio_adapter_start_advertising_async()
 * @timeout: see bleio_adapter_start_advertising_async()
 * @interval: see bleio_adapter_start_advertising_async()
 * @tx_power: see bleio_adapter_start_advertising_async()
 * @directed_to: (nullable): see bleio_adapter_start_advertising_async()
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_adapter_start_advertising_async(); safe from any
 * thread. The signals about the advertisement are emitted in the context
 * the adapter was created in.
 *
 * Returns: %TRUE when advertising; %FALSE with @error set
 *
 * Since: 0.3
 */
BLEIO_EXPORT
gboolean bleio_adapter_start_advertising (BleioAdapter        *adapter,
                                          GBytes              *data,
                                          GBytes              *scan_response,
                                          gboolean             connectable,
                                          gboolean             anonymous,
                                          guint                timeout,
                                          double               interval,
                                          int                  tx_power,
                                          const BleioAddress  *directed_to,
                                          GCancellable        *cancellable,
                                          GError             **error);

/**
 * bleio_adapter_stop_advertising_async:
 * @adapter: a #BleioAdapter
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * `_bleio.Adapter.stop_advertising()`: unregisters this adapter's
 * advertisement (stopping when not advertising succeeds, and forgets an
 * advertisement waiting for bluetoothd to come back).
 * #BleioAdapter::advertising-ended is emitted with
 * %BLEIO_ADVERTISING_END_REASON_STOPPED when one was running. Finish with
 * bleio_adapter_stop_advertising_finish(); the blocking twin is
 * bleio_adapter_stop_advertising().
 *
 * Since: 0.3
 */
BLEIO_EXPORT
void bleio_adapter_stop_advertising_async (BleioAdapter        *adapter,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);

/**
 * bleio_adapter_stop_advertising_finish:
 * @adapter: a #BleioAdapter
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_adapter_stop_advertising_async().
 *
 * Returns: %TRUE when no advertisement of this adapter runs any more
 *
 * Since: 0.3
 */
BLEIO_EXPORT
gboolean bleio_adapter_stop_advertising_finish (BleioAdapter  *adapter,
                                                GAsyncResult  *result,
                                                GError       **error);

/**
 * bleio_adapter_stop_advertising:
 * @adapter: a #BleioAdapter
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_adapter_stop_advertising_async(); safe from any
 * thread.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.3
 */
BLEIO_EXPORT
gboolean bleio_adapter_stop_advertising (BleioAdapter  *adapter,
                                         GError       **error);

/**
 * bleio_adapter_get_advertising:
 * @adapter: a #BleioAdapter
 *
 * `_bleio.Adapter.advertising`; also the #BleioAdapter:advertising
 * property. Never blocks; safe from any thread.
 *
 * Returns: %TRUE while bluetoothd holds this adapter's advertisement
 *
 * Since: 0.3
 */
BLEIO_EXPORT
gboolean bleio_adapter_get_advertising (BleioAdapter *adapter);

G_END_DECLS
