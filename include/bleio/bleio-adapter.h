/* SPDX-License-Identifier: MIT */
#pragma once

#if !defined(__BLEIO_H_INSIDE__) && !defined(BLEIO_COMPILATION)
#error "Only <bleio/bleio.h> can be included directly."
#endif

#include <gio/gio.h>
#include <bleio/bleio-macros.h>
#include <bleio/bleio-address.h>
#include <bleio/bleio-scan.h>
#include <bleio/bleio-connection.h>

G_BEGIN_DECLS

/**
 * BleioAdapter:
 *
 * A local Bluetooth adapter (BlueZ's `org.bluez.Adapter1`), as
 * `_bleio.Adapter` in the central role.
 *
 * Every adapter of one #GDBusConnection shares one cache of BlueZ's objects,
 * kept current by a private libbleio worker thread; the same adapter path
 * yields the same #BleioAdapter object while someone holds a reference.
 *
 * Threads and main contexts: an `_async` function completes in the
 * thread-default #GMainContext of the thread that calls it. Signals of the
 * objects an adapter hands out (#BleioScanResults::entry,
 * #BleioConnection::disconnected) are emitted in the thread-default context
 * that was current when the adapter was first created. Blocking functions
 * run their async twin on a private context: they can be called from any
 * thread, also while another thread runs a main loop, and never iterate the
 * caller's context.
 *
 * When bluetoothd leaves the bus, calls fail with
 * %BLEIO_ERROR_BLUEZ_UNAVAILABLE; when it comes back the same adapter object
 * works again. When the adapter itself goes away, calls fail with
 * %BLEIO_ERROR_NO_ADAPTER until it returns.
 *
 * When the bus itself goes away (dbus-daemon stopped: the #GDBusConnection
 * closed), it is as if bluetoothd left for good: operations in flight fail
 * with %BLEIO_ERROR_BLUEZ_UNAVAILABLE, links are spent
 * (%BLEIO_DISCONNECT_REASON_BLUEZ_UNAVAILABLE), scans end, and every later
 * call on the adapters of that connection fails with
 * %BLEIO_ERROR_BLUEZ_UNAVAILABLE (libbleio notices within half a second
 * even when no main loop runs). A #GDBusConnection never reconnects: once
 * the bus is back, make new adapters, with bleio_adapter_new_for_name() on
 * a new connection or with bleio_adapter_get_default(). GLib ends a process
 * whose shared system bus connection (g_bus_get()) closes unless
 * exit-on-close is turned off with g_dbus_connection_set_exit_on_close();
 * libbleio leaves that choice to the application.
 */
#define BLEIO_TYPE_ADAPTER (bleio_adapter_get_type ())
BLEIO_EXPORT
G_DECLARE_FINAL_TYPE (BleioAdapter, bleio_adapter, BLEIO, ADAPTER, GObject)

/**
 * bleio_adapter_get_default_async:
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the adapter is found, in the thread-default main
 *   context of the caller
 * @user_data: data for @callback
 *
 * Finds the first adapter (in path order: `hci0` before `hci1`) on the
 * system bus, whose address is taken from `DBUS_SYSTEM_BUS_ADDRESS` when it
 * is set. The bus connection is GLib's shared one (g_bus_get()); when that
 * one closed (the bus went away and came back) while something still holds
 * it, libbleio opens a connection of its own to the new bus. Finish with
 * bleio_adapter_get_default_finish(); the blocking twin is
 * bleio_adapter_get_default().
 */
BLEIO_EXPORT
void bleio_adapter_get_default_async (GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data);

/**
 * bleio_adapter_get_default_finish:
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_adapter_get_default_async().
 *
 * Returns: (transfer full): the adapter, or %NULL with @error set:
 *   %BLEIO_ERROR_NO_ADAPTER when BlueZ has no adapter,
 *   %BLEIO_ERROR_BLUEZ_UNAVAILABLE when bluetoothd is not running
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioAdapter *bleio_adapter_get_default_finish (GAsyncResult  *result,
                                                GError       **error);

/**
 * bleio_adapter_get_default:
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_adapter_get_default_async(); safe from any thread.
 *
 * Returns: (transfer full): the adapter, or %NULL with @error set
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioAdapter *bleio_adapter_get_default (GCancellable  *cancellable,
                                         GError       **error);

/**
 * bleio_adapter_new_for_name_async:
 * @connection: (nullable): the bus BlueZ is on; %NULL for the system bus
 * @name_or_address: (nullable): an interface name such as `hci1`, an
 *   address such as `00:AA:01:00:00:00`, or %NULL for the first adapter
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * Finds an adapter by name or address. Tests pass the #GDBusConnection of a
 * private bus. Finish with bleio_adapter_new_for_name_finish(); the blocking
 * twin is bleio_adapter_new_for_name().
 */
BLEIO_EXPORT
void bleio_adapter_new_for_name_async (GDBusConnection     *connection,
                                       const char          *name_or_address,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);

/**
 * bleio_adapter_new_for_name_finish:
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_adapter_new_for_name_async().
 *
 * Returns: (transfer full): the adapter, or %NULL with @error set
 *   (%BLEIO_ERROR_NO_ADAPTER, %BLEIO_ERROR_BLUEZ_UNAVAILABLE)
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioAdapter *bleio_adapter_new_for_name_finish (GAsyncResult  *result,
                                                 GError       **error);

/**
 * bleio_adapter_new_for_name:
 * @connection: (nullable): the bus BlueZ is on; %NULL for the system bus
 * @name_or_address: (nullable): `hci1`, an address, or %NULL for the first
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_adapter_new_for_name_async(); safe from any
 * thread.
 *
 * Returns: (transfer full): the adapter, or %NULL with @error set
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioAdapter *bleio_adapter_new_for_name (GDBusConnection  *connection,
                                          const char       *name_or_address,
                                          GCancellable     *cancellable,
                                          GError          **error);

/**
 * bleio_adapter_get_object_path:
 * @adapter: a #BleioAdapter
 *
 * Where BlueZ exports the adapter, for programs that also talk to BlueZ
 * directly. Never blocks.
 *
 * Returns: (transfer none): the adapter's D-Bus object path, such as
 *   `/org/bluez/hci0`
 */
BLEIO_EXPORT
const char *bleio_adapter_get_object_path (BleioAdapter *adapter);

/**
 * bleio_adapter_get_interface_name:
 * @adapter: a #BleioAdapter
 *
 * The controller's name, the last part of the adapter's object path. Never
 * blocks.
 *
 * Returns: (transfer none): the adapter's interface name, such as `hci0`
 */
BLEIO_EXPORT
const char *bleio_adapter_get_interface_name (BleioAdapter *adapter);

/**
 * bleio_adapter_dup_all:
 * @adapter: a #BleioAdapter
 *
 * Lists every adapter BlueZ exports on the bus of @adapter, @adapter
 * included, in path order (`hci0`, `hci1`, ..., `hci10`), as tools such as
 * `bleioctl adapter` show them. Read from the cache without blocking. Each
 * adapter is the same object bleio_adapter_new_for_name() gives for its
 * name while someone holds a reference, and its signals are emitted in the
 * context @adapter was created in.
 *
 * Returns: (transfer container) (element-type BleioAdapter): the adapters; empty
 *   when bluetoothd is not running or has no adapter
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
GPtrArray *bleio_adapter_dup_all (BleioAdapter *adapter);

/**
 * bleio_adapter_is_present:
 * @adapter: a #BleioAdapter
 *
 * Says whether BlueZ exports the adapter right now (it disappears when the
 * controller is unplugged or bluetoothd stops, and may come back).
 *
 * Returns: %TRUE when the adapter exists
 */
BLEIO_EXPORT
gboolean bleio_adapter_is_present (BleioAdapter *adapter);

/**
 * bleio_adapter_get_enabled:
 * @adapter: a #BleioAdapter
 *
 * `_bleio.Adapter.enabled`: BlueZ's `Powered`, read from the cache without
 * blocking.
 *
 * Returns: %TRUE when the adapter is powered; %FALSE when it is off or gone
 */
BLEIO_EXPORT
gboolean bleio_adapter_get_enabled (BleioAdapter *adapter);

/**
 * bleio_adapter_set_enabled_async:
 * @adapter: a #BleioAdapter
 * @enabled: %TRUE to power the adapter on
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * Powers the adapter on or off (`Powered`). Finish with
 * bleio_adapter_set_enabled_finish(); the blocking twin is
 * bleio_adapter_set_enabled().
 */
BLEIO_EXPORT
void bleio_adapter_set_enabled_async (BleioAdapter        *adapter,
                                      gboolean             enabled,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data);

/**
 * bleio_adapter_set_enabled_finish:
 * @adapter: a #BleioAdapter
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_adapter_set_enabled_async().
 *
 * Returns: %TRUE on success
 */
BLEIO_EXPORT
gboolean bleio_adapter_set_enabled_finish (BleioAdapter  *adapter,
                                           GAsyncResult  *result,
                                           GError       **error);

/**
 * bleio_adapter_set_enabled:
 * @adapter: a #BleioAdapter
 * @enabled: %TRUE to power the adapter on
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_adapter_set_enabled_async(); safe from any thread.
 *
 * Returns: %TRUE on success
 */
BLEIO_EXPORT
gboolean bleio_adapter_set_enabled (BleioAdapter  *adapter,
                                    gboolean       enabled,
                                    GError       **error);

/**
 * bleio_adapter_dup_address:
 * @adapter: a #BleioAdapter
 *
 * `_bleio.Adapter.address`, from BlueZ's `Address` and `AddressType`.
 * Setting the address is impossible over D-Bus, so there is no setter.
 *
 * Returns: (transfer full) (nullable): the address, or %NULL when the
 *   adapter is gone
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioAddress *bleio_adapter_dup_address (BleioAdapter *adapter);

/**
 * bleio_adapter_dup_name:
 * @adapter: a #BleioAdapter
 *
 * `_bleio.Adapter.name`: BlueZ's `Alias`, which is system-wide (other
 * programs see the change too).
 *
 * Returns: (transfer full) (nullable): the name, or %NULL when the adapter
 *   is gone
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
char *bleio_adapter_dup_name (BleioAdapter *adapter);

/**
 * bleio_adapter_set_name_async:
 * @adapter: a #BleioAdapter
 * @name: the new name
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * Sets BlueZ's `Alias` of the adapter. Finish with
 * bleio_adapter_set_name_finish(); the blocking twin is
 * bleio_adapter_set_name().
 */
BLEIO_EXPORT
void bleio_adapter_set_name_async (BleioAdapter        *adapter,
                                   const char          *name,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);

/**
 * bleio_adapter_set_name_finish:
 * @adapter: a #BleioAdapter
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_adapter_set_name_async().
 *
 * Returns: %TRUE on success
 */
BLEIO_EXPORT
gboolean bleio_adapter_set_name_finish (BleioAdapter  *adapter,
                                        GAsyncResult  *result,
                                        GError       **error);

/**
 * bleio_adapter_set_name:
 * @adapter: a #BleioAdapter
 * @name: the new name
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_adapter_set_name_async(); safe from any thread.
 *
 * Returns: %TRUE on success
 */
BLEIO_EXPORT
gboolean bleio_adapter_set_name (BleioAdapter  *adapter,
                                 const char    *name,
                                 GError       **error);

/**
 * bleio_adapter_get_connected:
 * @adapter: a #BleioAdapter
 *
 * `_bleio.Adapter.connected`: whether any device of this adapter is
 * connected.
 *
 * Returns: %TRUE when at least one link is up
 */
BLEIO_EXPORT
gboolean bleio_adapter_get_connected (BleioAdapter *adapter);

/**
 * bleio_adapter_get_paired:
 * @adapter: a #BleioAdapter
 * @address: the peer's address
 * @error: return location for a #GError, or %NULL
 *
 * Whether this adapter holds a pairing (or bond) with @address, linked or
 * not: bluetoothd keeps `Paired` and `Bonded` on the device object while
 * the peer is disconnected, so no link is needed. Read from the library's
 * cache, without a D-Bus round trip; safe from any thread.
 *
 * A device BlueZ does not know is not paired: %FALSE without @error
 * (bluetoothd keeps an object for every device it holds keys for).
 * bleio_connection_get_paired() answers the same for a connected peer.
 *
 * Returns: %TRUE when BlueZ says `Paired` or `Bonded`; %FALSE when not, or
 *   with @error set (%BLEIO_ERROR_NO_ADAPTER when the adapter is gone,
 *   %BLEIO_ERROR_BLUEZ_UNAVAILABLE when bluetoothd is)
 *
 * Since: 0.2
 */
BLEIO_EXPORT
gboolean bleio_adapter_get_paired (BleioAdapter        *adapter,
                                   const BleioAddress  *address,
                                   GError             **error);

/**
 * bleio_adapter_dup_connections:
 * @adapter: a #BleioAdapter
 *
 * `_bleio.Adapter.connections`: a #BleioConnection for every connected
 * device of this adapter, whoever made the link. The same link gives the
 * same object every time.
 *
 * Returns: (transfer container) (element-type BleioConnection): the connections
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
GPtrArray *bleio_adapter_dup_connections (BleioAdapter *adapter);

/**
 * bleio_adapter_erase_bonding_async:
 * @adapter: a #BleioAdapter
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * `_bleio.Adapter.erase_bonding()`: removes (`RemoveDevice`) every paired or
 * bonded device of this adapter. Finish with
 * bleio_adapter_erase_bonding_finish(); the blocking twin is
 * bleio_adapter_erase_bonding().
 */
BLEIO_EXPORT
void bleio_adapter_erase_bonding_async (BleioAdapter        *adapter,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);

/**
 * bleio_adapter_erase_bonding_finish:
 * @adapter: a #BleioAdapter
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_adapter_erase_bonding_async().
 *
 * Returns: %TRUE when every bond was removed
 */
BLEIO_EXPORT
gboolean bleio_adapter_erase_bonding_finish (BleioAdapter  *adapter,
                                             GAsyncResult  *result,
                                             GError       **error);

/**
 * bleio_adapter_erase_bonding:
 * @adapter: a #BleioAdapter
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_adapter_erase_bonding_async(); safe from any
 * thread.
 *
 * Returns: %TRUE when every bond was removed
 */
BLEIO_EXPORT
gboolean bleio_adapter_erase_bonding (BleioAdapter  *adapter,
                                      GError       **error);

/**
 * bleio_adapter_set_passive_scan_fallback:
 * @adapter: a #BleioAdapter
 * @fallback: %TRUE to let a passive scan run actively where BlueZ cannot
 *   scan passively
 *
 * By default a scan started with `active` %FALSE fails with
 * %BLEIO_ERROR_NOT_SUPPORTED where BlueZ offers no passive scan (no
 * advertisement monitor manager, no `or_patterns`, a monitor refused or
 * released). With @fallback %TRUE such a scan runs actively instead, with
 * the same client-side filtering, and bleio_scan_results_get_passive()
 * returns %FALSE for it. Applies to scans started afterwards.
 *
 * Since: 0.3
 */
BLEIO_EXPORT
void bleio_adapter_set_passive_scan_fallback (BleioAdapter *adapter,
                                              gboolean      fallback);

/**
 * bleio_adapter_get_passive_scan_fallback:
 * @adapter: a #BleioAdapter
 *
 * Returns: whether a passive scan may run actively instead, as set by
 *   bleio_adapter_set_passive_scan_fallback() (%FALSE by default)
 *
 * Since: 0.3
 */
BLEIO_EXPORT
gboolean bleio_adapter_get_passive_scan_fallback (BleioAdapter *adapter);

/**
 * bleio_adapter_start_scan_async:
 * @adapter: a #BleioAdapter
 * @prefixes: (nullable): `_bleio` prefixes: a run of `[length][AD type]
 *   [data...]`; an advertisement is kept when any prefix matches the start
 *   of any of its AD structures. %NULL or empty keeps everything.
 * @buffer_size: bytes of entries held for bleio_scan_results_next() (an
 *   entry costs its advertisement plus 16 bytes); entries that do not fit
 *   are dropped and counted. 0 means 512, `_bleio`'s default.
 * @extended: ignored: BlueZ picks legacy or extended scanning itself
 * @timeout: seconds after which the scan stops; 0 or less, infinity
 *   (`_bleio`'s None) and anything beyond 49 days scan until
 *   bleio_adapter_stop_scan(); NaN fails with
 *   %BLEIO_ERROR_INVALID_ARGUMENT
 * @interval: ignored: BlueZ sets the scan interval system-wide
 * @window: ignored: BlueZ sets the scan window system-wide
 * @minimum_rssi: entries weaker than this (dBm) are dropped by libbleio;
 *   it is not passed to BlueZ, whose RSSI filter would also hide peers
 *   whose RSSI is unknown
 * @active: %TRUE scans actively through BlueZ's discovery; %FALSE scans
 *   passively (no scan requests, so no scan responses) through an
 *   advertisement monitor (`AdvertisementMonitorManager1`, which
 *   bluetoothd 5.66 exports only with `--experimental`): each prefix with
 *   at least one data byte becomes an or-pattern at offset 0 of its AD
 *   type, and with no prefixes every advertiser that sends a Flags
 *   structure is heard. Where that cannot be had the scan fails with
 *   %BLEIO_ERROR_NOT_SUPPORTED saying why, unless
 *   bleio_adapter_set_passive_scan_fallback() allowed an active scan
 *   instead; bleio_scan_results_get_passive() tells which runs.
 *   @minimum_rssi is applied by libbleio either way.
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * `_bleio.Adapter.start_scan()`. Sets BlueZ's discovery filter
 * (`Transport=le`, `DuplicateData=true`) and starts discovery; a
 * discovery that another program runs is shared, not an error. A second
 * scan from this adapter while one runs fails with
 * %BLEIO_ERROR_IN_PROGRESS. Entries are made from `Device1` objects of this
 * adapter as they appear and as their advertisement properties change; see
 * #BleioScanEntry for what is reconstructed. Finish with
 * bleio_adapter_start_scan_finish(); the blocking twin is
 * bleio_adapter_start_scan().
 */
BLEIO_EXPORT
void bleio_adapter_start_scan_async (BleioAdapter        *adapter,
                                     GBytes              *prefixes,
                                     gsize                buffer_size,
                                     gboolean             extended,
                                     double               timeout,
                                     double               interval,
                                     double               window,
                                     int                  minimum_rssi,
                                     gboolean             active,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data);

/**
 * bleio_adapter_start_scan_finish:
 * @adapter: a #BleioAdapter
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_adapter_start_scan_async().
 *
 * Returns: (transfer full): the running scan, or %NULL with @error set
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioScanResults *bleio_adapter_start_scan_finish (BleioAdapter  *adapter,
                                                   GAsyncResult  *result,
                                                   GError       **error);

/**
 * bleio_adapter_start_scan:
 * @adapter: a #BleioAdapter
 * @prefixes: (nullable): see bleio_adapter_start_scan_async()
 * @buffer_size: see bleio_adapter_start_scan_async()
 * @extended: ignored
 * @timeout: seconds; 0 or less, infinity or beyond 49 days scans until
 *   stopped; NaN is an invalid argument
 * @interval: ignored
 * @window: ignored
 * @minimum_rssi: weakest RSSI kept, in dBm
 * @active: %FALSE scans passively, see bleio_adapter_start_scan_async()
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_adapter_start_scan_async(); safe from any thread.
 * The #BleioScanResults::entry signal of the result is emitted in the
 * context the adapter was created in; bleio_scan_results_next() works
 * without any main loop.
 *
 * Returns: (transfer full): the running scan, or %NULL with @error set
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioScanResults *bleio_adapter_start_scan (BleioAdapter  *adapter,
                                            GBytes        *prefixes,
                                            gsize          buffer_size,
                                            gboolean       extended,
                                            double         timeout,
                                            double         interval,
                                            double         window,
                                            int            minimum_rssi,
                                            gboolean       active,
                                            GError       **error);

/**
 * bleio_adapter_stop_scan_async:
 * @adapter: a #BleioAdapter
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * `_bleio.Adapter.stop_scan()`: ends this adapter's scan (if any; stopping
 * no scan succeeds). The results still yield what they buffered, then
 * end. Finish with bleio_adapter_stop_scan_finish(); the blocking twin is
 * bleio_adapter_stop_scan().
 */
BLEIO_EXPORT
void bleio_adapter_stop_scan_async (BleioAdapter        *adapter,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data);

/**
 * bleio_adapter_stop_scan_finish:
 * @adapter: a #BleioAdapter
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_adapter_stop_scan_async().
 *
 * Returns: %TRUE on success
 */
BLEIO_EXPORT
gboolean bleio_adapter_stop_scan_finish (BleioAdapter  *adapter,
                                         GAsyncResult  *result,
                                         GError       **error);

/**
 * bleio_adapter_stop_scan:
 * @adapter: a #BleioAdapter
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_adapter_stop_scan_async(); safe from any thread.
 *
 * Returns: %TRUE on success
 */
BLEIO_EXPORT
gboolean bleio_adapter_stop_scan (BleioAdapter  *adapter,
                                  GError       **error);

/**
 * bleio_adapter_connect_async:
 * @adapter: a #BleioAdapter
 * @address: the peer's address
 * @timeout: seconds to wait for the link: positive and at most 4294967
 *   (about 49 days, what a GLib timeout holds); `_bleio` has no "wait
 *   forever" here, so infinity, a larger value, 0, a negative value and
 *   NaN fail with %BLEIO_ERROR_INVALID_ARGUMENT
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * `_bleio.Adapter.connect()`. Connects through the peer's `Device1` object
 * when BlueZ has one; otherwise through `Adapter1.ConnectDevice`, or, when
 * bluetoothd does not offer that experimental method, after a short
 * discovery filtered on the address. Connect attempts on one adapter run one
 * at a time, in call order. A failure `le-connection-abort-by-local` (or
 * `Software caused connection abort`) is retried once. The call completes
 * as soon as BlueZ reports the link up (`Connected`), without waiting for
 * bluetoothd to finish reading the peer's GATT database;
 * bleio_connection_discover_remote_services() waits for that.
 *
 * When @timeout expires the attempt is undone (`Device1.Disconnect`) and the
 * call fails with %BLEIO_ERROR_TIMEOUT, "Failed to connect: timeout"; when
 * @cancellable is cancelled it is undone too and fails with
 * `G_IO_ERROR_CANCELLED`. If the attempt was abandoned while
 * `ConnectDevice` ran and BlueZ had no device object to disconnect yet, a
 * link that still comes up within 45 s is disconnected as soon as it
 * appears, unless a new connect to the same address starts first or the
 * device shows up without a link first (found by a scan: a link another
 * program makes to it later is left alone). Finish with bleio_adapter_connect_finish(); the
 * blocking twin is bleio_adapter_connect().
 */
BLEIO_EXPORT
void bleio_adapter_connect_async (BleioAdapter        *adapter,
                                  const BleioAddress  *address,
                                  double               timeout,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data);

/**
 * bleio_adapter_connect_finish:
 * @adapter: a #BleioAdapter
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_adapter_connect_async().
 *
 * Returns: (transfer full): the connection (the same object for the same
 *   link every time), or %NULL with @error set
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioConnection *bleio_adapter_connect_finish (BleioAdapter  *adapter,
                                               GAsyncResult  *result,
                                               GError       **error);

/**
 * bleio_adapter_connect:
 * @adapter: a #BleioAdapter
 * @address: the peer's address
 * @timeout: seconds to wait for the link; as for
 *   bleio_adapter_connect_async()
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_adapter_connect_async(); safe from any thread.
 *
 * Returns: (transfer full): the connection, or %NULL with @error set
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioConnection *bleio_adapter_connect (BleioAdapter        *adapter,
                                        const BleioAddress  *address,
                                        double               timeout,
                                        GCancellable        *cancellable,
                                        GError             **error);

/**
 * BleioPasskeyDisplayFunc:
 * @peer: the peer being paired
 * @passkey: the passkey to show, 0 to 999999
 * @entered: how many digits the peer's user typed so far
 * @user_data: the data given with the callbacks
 *
 * Shows a passkey that the peer's user must type.
 */
typedef void (*BleioPasskeyDisplayFunc) (const BleioAddress *peer,
                                         guint32             passkey,
                                         guint16             entered,
                                         gpointer            user_data);

/**
 * BleioPasskeyRequestFunc:
 * @peer: the peer being paired
 * @passkey: (out): the passkey the user typed, 0 to 999999
 * @user_data: the data given with the callbacks
 *
 * Asks for the passkey the peer displays.
 *
 * Returns: %TRUE with @passkey set, or %FALSE to reject the pairing
 */
typedef gboolean (*BleioPasskeyRequestFunc) (const BleioAddress *peer,
                                             guint32            *passkey,
                                             gpointer            user_data);

/**
 * BleioPasskeyConfirmFunc:
 * @peer: the peer being paired
 * @passkey: the passkey both sides show
 * @user_data: the data given with the callbacks
 *
 * Asks whether the passkey shown on both sides is the same.
 *
 * Returns: %TRUE to accept the pairing
 */
typedef gboolean (*BleioPasskeyConfirmFunc) (const BleioAddress *peer,
                                             guint32             passkey,
                                             gpointer            user_data);

/**
 * bleio_adapter_set_pairing_callbacks: (skip)
 * @adapter: a #BleioAdapter
 * @display: (nullable) (scope notified): shows a passkey
 * @request: (nullable) (scope notified): asks for a passkey
 * @confirm: (nullable) (scope notified): confirms a passkey
 * @user_data: data for the callbacks
 * @destroy: (nullable): frees @user_data when the callbacks are replaced
 *
 * Installs the answers of libbleio's pairing agent (`org.bluez.Agent1`,
 * exported on the adapter's bus connection and shared by every adapter on
 * it). The agent's IO capability follows from the callbacks given:
 * none is `NoInputNoOutput` (the default: "just works" pairing), @display
 * alone `DisplayOnly`, @display and @confirm `DisplayYesNo`, @request alone
 * `KeyboardOnly`, @request with @display `KeyboardDisplay`. The new
 * capability is used by the next bleio_connection_pair().
 *
 * The callbacks run on libbleio's worker thread, not in any application
 * context, so that a blocking pair in any thread cannot deadlock; they must
 * return promptly (BlueZ waits for their answer) and must not call blocking
 * libbleio functions, which need that thread to see BlueZ's events.
 *
 * Not available through GObject Introspection: the three callbacks share
 * one @user_data, which GI cannot describe. Bindings set each callback
 * with bleio_adapter_set_passkey_display_func(),
 * bleio_adapter_set_passkey_request_func() and
 * bleio_adapter_set_passkey_confirm_func(), which C programs may use too.
 */
BLEIO_EXPORT
void bleio_adapter_set_pairing_callbacks (BleioAdapter            *adapter,
                                          BleioPasskeyDisplayFunc  display,
                                          BleioPasskeyRequestFunc  request,
                                          BleioPasskeyConfirmFunc  confirm,
                                          gpointer                 user_data,
                                          GDestroyNotify           destroy);

/**
 * bleio_adapter_set_passkey_display_func:
 * @adapter: a #BleioAdapter
 * @func: (nullable) (scope notified): shows a passkey, or %NULL for none
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when @func is replaced or the
 *   agent goes away
 *
 * Sets the @display callback of bleio_adapter_set_pairing_callbacks()
 * alone, with data of its own; the other two callbacks stay as they are.
 * The agent's IO capability follows from the callbacks set, as
 * bleio_adapter_set_pairing_callbacks() describes, and they run on
 * libbleio's worker thread under the same rules.
 */
BLEIO_EXPORT
void bleio_adapter_set_passkey_display_func (BleioAdapter            *adapter,
                                             BleioPasskeyDisplayFunc  func,
                                             gpointer                 user_data,
                                             GDestroyNotify           destroy);

/**
 * bleio_adapter_set_passkey_request_func:
 * @adapter: a #BleioAdapter
 * @func: (nullable) (scope notified): asks for the passkey the peer shows,
 *   or %NULL for none
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when @func is replaced or the
 *   agent goes away
 *
 * Sets the @request callback of bleio_adapter_set_pairing_callbacks()
 * alone, with data of its own; see bleio_adapter_set_passkey_display_func().
 */
BLEIO_EXPORT
void bleio_adapter_set_passkey_request_func (BleioAdapter            *adapter,
                                             BleioPasskeyRequestFunc  func,
                                             gpointer                 user_data,
                                             GDestroyNotify           destroy);

/**
 * bleio_adapter_set_passkey_confirm_func:
 * @adapter: a #BleioAdapter
 * @func: (nullable) (scope notified): confirms the passkey both sides show,
 *   or %NULL for none
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when @func is replaced or the
 *   agent goes away
 *
 * Sets the @confirm callback of bleio_adapter_set_pairing_callbacks()
 * alone, with data of its own; see bleio_adapter_set_passkey_display_func().
 */
BLEIO_EXPORT
void bleio_adapter_set_passkey_confirm_func (BleioAdapter            *adapter,
                                             BleioPasskeyConfirmFunc  func,
                                             gpointer                 user_data,
                                             GDestroyNotify           destroy);

/**
 * bleio_adapter_set_accept_incoming_pairing:
 * @adapter: a #BleioAdapter
 * @accept: %TRUE to answer pairing requests the application did not start
 *
 * By default libbleio's pairing agent answers bluetoothd only about a
 * device that bleio_connection_pair() is pairing with at that moment:
 * `RequestConfirmation`, `RequestPasskey`, `RequestPinCode`,
 * `DisplayPasskey`, `DisplayPinCode`, `RequestAuthorization` and
 * `AuthorizeService` about any other device (a peer that starts pairing on
 * its own, or another program's pairing) are refused with
 * `org.bluez.Error.Rejected`, and the callbacks of
 * bleio_adapter_set_pairing_callbacks() are not called. With @accept
 * %TRUE such requests are answered as the application's own pairings are:
 * through those callbacks, or accepted ("just works") when there is none.
 *
 * The setting belongs to the agent, which is shared by every adapter on
 * the bus connection of @adapter. Calls from any bus name other than the
 * owner of `org.bluez` are refused either way.
 */
BLEIO_EXPORT
void bleio_adapter_set_accept_incoming_pairing (BleioAdapter *adapter,
                                                gboolean      accept);

/**
 * bleio_adapter_get_accept_incoming_pairing:
 * @adapter: a #BleioAdapter
 *
 * Whether the pairing agent answers pairing requests that the application
 * did not start; see bleio_adapter_set_accept_incoming_pairing().
 *
 * Returns: %TRUE when incoming pairing requests are answered, %FALSE (the
 *   default) when they are rejected
 */
BLEIO_EXPORT
gboolean bleio_adapter_get_accept_incoming_pairing (BleioAdapter *adapter);

G_END_DECLS
