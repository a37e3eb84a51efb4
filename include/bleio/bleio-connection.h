/* SPDX-License-Identifier: MIT */
#pragma once

#if !defined(__BLEIO_H_INSIDE__) && !defined(BLEIO_COMPILATION)
#error "Only <bleio/bleio.h> can be included directly."
#endif

#include <gio/gio.h>
#include <bleio/bleio-macros.h>
#include <bleio/bleio-address.h>
#include <bleio/bleio-uuid.h>

G_BEGIN_DECLS

/**
 * BleioDisconnectReason:
 * @BLEIO_DISCONNECT_REASON_LOCAL: this process called
 *   bleio_connection_disconnect()
 * @BLEIO_DISCONNECT_REASON_REMOTE: the link went down without this process
 *   asking: the peer disconnected, the link was lost, or another program
 *   disconnected it (BlueZ 5.66 does not say which)
 * @BLEIO_DISCONNECT_REASON_DEVICE_REMOVED: BlueZ removed the device
 * @BLEIO_DISCONNECT_REASON_ADAPTER_REMOVED: the adapter went away
 * @BLEIO_DISCONNECT_REASON_BLUEZ_UNAVAILABLE: bluetoothd left the bus
 *
 * Why a #BleioConnection ended; passed with #BleioConnection::disconnected.
 */
typedef enum {
  BLEIO_DISCONNECT_REASON_LOCAL,
  BLEIO_DISCONNECT_REASON_REMOTE,
  BLEIO_DISCONNECT_REASON_DEVICE_REMOVED,
  BLEIO_DISCONNECT_REASON_ADAPTER_REMOVED,
  BLEIO_DISCONNECT_REASON_BLUEZ_UNAVAILABLE,
} BleioDisconnectReason;

/**
 * bleio_disconnect_reason_get_type:
 *
 * Returns: the #GType of #BleioDisconnectReason
 */
BLEIO_EXPORT
GType bleio_disconnect_reason_get_type (void);
/**
 * BLEIO_TYPE_DISCONNECT_REASON:
 *
 * The #GType of #BleioDisconnectReason.
 */
#define BLEIO_TYPE_DISCONNECT_REASON (bleio_disconnect_reason_get_type ())

/**
 * BleioConnection:
 *
 * A link to a peer, as `_bleio.Connection`. Made by
 * bleio_adapter_connect() or found in bleio_adapter_dup_connections(); the
 * same link always gives the same object.
 *
 * Once the link is down the object is spent: bleio_connection_get_connected()
 * returns %FALSE, bleio_connection_disconnect() does nothing, and every
 * other member fails with %BLEIO_ERROR_CONNECTION ("Connection has been
 * disconnected and can no longer be used. Create a new connection.").
 * An operation already running on the link when it goes (a pair, a service
 * discovery, a read or write of one of its attributes) fails with
 * %BLEIO_ERROR_CONNECTION when the peer dropped or the link was lost, and
 * with %BLEIO_ERROR_BLUEZ_UNAVAILABLE when bluetoothd left the bus (it
 * stopped or crashed: every link goes with it). Its callback runs once
 * either way. Notification buffers say %BLEIO_ERROR_CONNECTION in both
 * cases, once their buffered data is read.
 *
 * Threads and main contexts: `_async` functions complete in the
 * thread-default context of their caller; #BleioConnection::disconnected is
 * emitted in the thread-default context that was current when the adapter
 * was created. Blocking functions work from any thread and never iterate
 * the caller's context. State is tracked by libbleio's worker thread, so the
 * getters are current even when no main loop runs.
 */
#define BLEIO_TYPE_CONNECTION (bleio_connection_get_type ())
BLEIO_EXPORT
G_DECLARE_FINAL_TYPE (BleioConnection, bleio_connection, BLEIO, CONNECTION, GObject)

/**
 * bleio_connection_get_address:
 * @connection: a #BleioConnection
 *
 * The address of the peer this connection links to.
 *
 * Returns: (transfer none): the peer's address
 */
BLEIO_EXPORT
const BleioAddress *bleio_connection_get_address (BleioConnection *connection);

/**
 * bleio_connection_get_object_path:
 * @connection: a #BleioConnection
 *
 * Where BlueZ exports the peer, for programs that also talk to BlueZ
 * directly.
 *
 * Returns: (transfer none): BlueZ's `Device1` object path of the peer
 */
BLEIO_EXPORT
const char *bleio_connection_get_object_path (BleioConnection *connection);

/**
 * bleio_connection_get_connected:
 * @connection: a #BleioConnection
 *
 * `_bleio.Connection.connected`. Never fails.
 *
 * Returns: %TRUE while the link is up
 */
BLEIO_EXPORT
gboolean bleio_connection_get_connected (BleioConnection *connection);

/**
 * bleio_connection_get_paired:
 * @connection: a #BleioConnection
 * @error: return location for a #GError, or %NULL
 *
 * `_bleio.Connection.paired`: BlueZ's `Paired` (or `Bonded`). The pairing
 * outlives the link (bluetoothd keeps both properties on a disconnected
 * peer); bleio_adapter_get_paired() tells it without a link.
 *
 * Returns: %TRUE when paired; %FALSE with %BLEIO_ERROR_CONNECTION set once
 *   the link is down
 */
BLEIO_EXPORT
gboolean bleio_connection_get_paired (BleioConnection  *connection,
                                      GError          **error);

/**
 * bleio_connection_disconnect_async:
 * @connection: a #BleioConnection
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * `_bleio.Connection.disconnect()` (`Device1.Disconnect`); succeeds at once
 * when the link is already down. Finish with
 * bleio_connection_disconnect_finish(); the blocking twin is
 * bleio_connection_disconnect().
 */
BLEIO_EXPORT
void bleio_connection_disconnect_async (BleioConnection     *connection,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);

/**
 * bleio_connection_disconnect_finish:
 * @connection: a #BleioConnection
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_connection_disconnect_async().
 *
 * Returns: %TRUE on success
 */
BLEIO_EXPORT
gboolean bleio_connection_disconnect_finish (BleioConnection  *connection,
                                             GAsyncResult     *result,
                                             GError          **error);

/**
 * bleio_connection_disconnect:
 * @connection: a #BleioConnection
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_connection_disconnect_async(); safe from any
 * thread.
 *
 * Returns: %TRUE on success
 */
BLEIO_EXPORT
gboolean bleio_connection_disconnect (BleioConnection  *connection,
                                      GError          **error);

/**
 * bleio_connection_pair_async:
 * @connection: a #BleioConnection
 * @bond: must be %TRUE: BlueZ's D-Bus API cannot pair without bonding
 * @cancellable: (nullable): a #GCancellable; cancelling ends the call at
 *   once, whatever stage it is in, with `G_IO_ERROR_CANCELLED`, and a
 *   pending `Device1.Pair` is cancelled with `Device1.CancelPairing`
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * `_bleio.Connection.pair()`: registers libbleio's agent (see
 * bleio_adapter_set_pairing_callbacks()), waits (at most 15 s) for BlueZ
 * to resolve the peer's services, calls `Device1.Pair` and marks the
 * device trusted. Pairing an already paired peer succeeds. Rejected,
 * cancelled (by the peer or user), failed or timed-out pairing fails with
 * %BLEIO_ERROR_SECURITY;
 * @bond %FALSE fails with %BLEIO_ERROR_NOT_SUPPORTED. Finish with
 * bleio_connection_pair_finish(); the blocking twin is
 * bleio_connection_pair().
 */
BLEIO_EXPORT
void bleio_connection_pair_async (BleioConnection     *connection,
                                  gboolean             bond,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data);

/**
 * bleio_connection_pair_finish:
 * @connection: a #BleioConnection
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_connection_pair_async().
 *
 * Returns: %TRUE when the peer is paired
 */
BLEIO_EXPORT
gboolean bleio_connection_pair_finish (BleioConnection  *connection,
                                       GAsyncResult     *result,
                                       GError          **error);

/**
 * bleio_connection_pair:
 * @connection: a #BleioConnection
 * @bond: must be %TRUE
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_connection_pair_async(); safe from any thread. It
 * cannot deadlock while BlueZ calls the agent: the agent answers from
 * libbleio's worker thread.
 *
 * Returns: %TRUE when the peer is paired
 */
BLEIO_EXPORT
gboolean bleio_connection_pair (BleioConnection  *connection,
                                gboolean          bond,
                                GError          **error);

/**
 * bleio_connection_discover_remote_services_async:
 * @connection: a #BleioConnection
 * @whitelist: (nullable) (element-type BleioUuid): keep only services with
 *   these UUIDs; %NULL keeps all
 * @timeout: seconds to wait for BlueZ to resolve the services; 0 or less
 *   means 30; NaN, infinity and anything beyond 49 days (4294967 s) fail
 *   with %BLEIO_ERROR_INVALID_ARGUMENT
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * `_bleio.Connection.discover_remote_services()`. BlueZ discovers every
 * service on connecting; this waits until `ServicesResolved` is true and the
 * service objects have been exported (bluetoothd may flip the property
 * before exporting them), then returns them in handle order. The whitelist
 * is applied afterwards. Fails with %BLEIO_ERROR_TIMEOUT when the services
 * are not resolved in time and %BLEIO_ERROR_CONNECTION when the link drops.
 * Finish with bleio_connection_discover_remote_services_finish(); the
 * blocking twin is bleio_connection_discover_remote_services().
 */
BLEIO_EXPORT
void bleio_connection_discover_remote_services_async (BleioConnection     *connection,
                                                      GPtrArray           *whitelist,
                                                      double               timeout,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);

/**
 * bleio_connection_discover_remote_services_finish:
 * @connection: a #BleioConnection
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_connection_discover_remote_services_async().
 *
 * Returns: (transfer container) (element-type BleioService): the services in
 *   handle order, or %NULL with @error set
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
GPtrArray *bleio_connection_discover_remote_services_finish (BleioConnection  *connection,
                                                             GAsyncResult     *result,
                                                             GError          **error);

/**
 * bleio_connection_discover_remote_services:
 * @connection: a #BleioConnection
 * @whitelist: (nullable) (element-type BleioUuid): UUIDs to keep, or %NULL
 * @timeout: seconds; 0 or less means 30; NaN, infinity and beyond 49
 *   days are invalid arguments
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_connection_discover_remote_services_async(); safe
 * from any thread.
 *
 * Returns: (transfer container) (element-type BleioService): the services in
 *   handle order, or %NULL with @error set
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
GPtrArray *bleio_connection_discover_remote_services (BleioConnection  *connection,
                                                      GPtrArray        *whitelist,
                                                      double            timeout,
                                                      GError          **error);

/**
 * bleio_connection_get_max_packet_length:
 * @connection: a #BleioConnection
 * @error: return location for a #GError, or %NULL
 *
 * `_bleio.Connection.max_packet_length`: the ATT MTU minus 3, from the `MTU`
 * property of any of the peer's characteristics (BlueZ 5.62 and later), or
 * 20 when BlueZ does not say.
 *
 * Returns: the length, or 0 with %BLEIO_ERROR_CONNECTION once the link is
 *   down
 */
BLEIO_EXPORT
guint bleio_connection_get_max_packet_length (BleioConnection  *connection,
                                              GError          **error);

/**
 * bleio_connection_get_connection_interval:
 * @connection: a #BleioConnection
 * @interval_ms: (out) (optional): the interval in milliseconds
 * @error: return location for a #GError, or %NULL
 *
 * `_bleio.Connection.connection_interval`. BlueZ has no D-Bus API for the
 * connection parameters, so this fails with %BLEIO_ERROR_NOT_SUPPORTED (or
 * %BLEIO_ERROR_CONNECTION once the link is down).
 *
 * Returns: %FALSE with @error set
 */
BLEIO_EXPORT
gboolean bleio_connection_get_connection_interval (BleioConnection  *connection,
                                                   double           *interval_ms,
                                                   GError          **error);

/**
 * bleio_connection_set_connection_interval:
 * @connection: a #BleioConnection
 * @interval_ms: the interval wanted, in milliseconds
 * @error: return location for a #GError, or %NULL
 *
 * Setting `_bleio.Connection.connection_interval`; fails as
 * bleio_connection_get_connection_interval() does.
 *
 * Returns: %FALSE with @error set
 */
BLEIO_EXPORT
gboolean bleio_connection_set_connection_interval (BleioConnection  *connection,
                                                   double            interval_ms,
                                                   GError          **error);

G_END_DECLS
