/* SPDX-License-Identifier: MIT */
#pragma once

#if !defined(__BLEIO_H_INSIDE__) && !defined(BLEIO_COMPILATION)
#error "Only <bleio/bleio.h> can be included directly."
#endif

#include <gio/gio.h>
#include <bleio/bleio-macros.h>
#include <bleio/bleio-address.h>

G_BEGIN_DECLS

/**
 * BleioScanEntry:
 *
 * One advertisement seen while scanning, as `_bleio.ScanEntry`. Immutable
 * and reference counted.
 *
 * BlueZ does not pass raw advertising reports over D-Bus; it merges what it
 * saw into `Device1` properties. So the advertisement bytes are a
 * reconstruction (see bleio_ad_build_from_bluez()): the structures carry
 * the same data but not necessarily in the order the peer sent, and the
 * scan response is merged into them, which is why
 * bleio_scan_entry_get_scan_response() is always %FALSE.
 */
typedef struct _BleioScanEntry BleioScanEntry;

/**
 * BLEIO_SCAN_ENTRY_RSSI_UNKNOWN:
 *
 * What bleio_scan_entry_get_rssi() returns when the controller reported no
 * RSSI: 127, HCI's own "RSSI not available", outside the -127..+20 dBm a
 * real reading takes. Such an entry passes any minimum RSSI of a scan.
 *
 * Since: 0.2
 */
#define BLEIO_SCAN_ENTRY_RSSI_UNKNOWN 127

/**
 * BLEIO_TYPE_SCAN_ENTRY:
 *
 * The #GType of #BleioScanEntry.
 */
#define BLEIO_TYPE_SCAN_ENTRY (bleio_scan_entry_get_type ())

/**
 * bleio_scan_entry_get_type:
 *
 * Returns: the #GType of the #BleioScanEntry boxed type
 */
BLEIO_EXPORT
GType bleio_scan_entry_get_type (void);

/**
 * bleio_scan_entry_ref:
 * @entry: a #BleioScanEntry
 *
 * Takes a reference to @entry; release it with bleio_scan_entry_unref().
 *
 * Returns: (transfer full): @entry with one more reference
 */
BLEIO_EXPORT
BleioScanEntry *bleio_scan_entry_ref (BleioScanEntry *entry);

/**
 * bleio_scan_entry_unref:
 * @entry: (nullable): a #BleioScanEntry
 *
 * Drops a reference; frees the entry with the last one. Accepts %NULL.
 */
BLEIO_EXPORT
void bleio_scan_entry_unref (BleioScanEntry *entry);

/**
 * bleio_scan_entry_get_address:
 * @entry: a #BleioScanEntry
 *
 * `_bleio.ScanEntry.address`.
 *
 * Returns: (transfer none): the advertiser's address and address type
 */
BLEIO_EXPORT
const BleioAddress *bleio_scan_entry_get_address (const BleioScanEntry *entry);

/**
 * bleio_scan_entry_get_advertisement_bytes:
 * @entry: a #BleioScanEntry
 *
 * `_bleio.ScanEntry.advertisement_bytes`: the AD structures as libbleio
 * rebuilt them from what BlueZ parsed. BlueZ merges the services it finds
 * over GATT into the device's UUIDs; once the scan has seen a device
 * before its first link, its UUID list stays what it advertised then (a
 * device first heard with a link shows BlueZ's list). From bluetoothd 5.71
 * on (which also lists service data UUIDs among the device's UUIDs), a
 * UUID that the device sends service data for is left out of the list. At
 * most 1650 bytes, as bleio_ad_build_from_bluez() says.
 *
 * Returns: (transfer none): the advertisement, rebuilt from BlueZ's
 *   properties
 */
BLEIO_EXPORT
GBytes *bleio_scan_entry_get_advertisement_bytes (const BleioScanEntry *entry);

/**
 * bleio_scan_entry_get_rssi:
 * @entry: a #BleioScanEntry
 *
 * `_bleio.ScanEntry.rssi`.
 *
 * Returns: the received signal strength in dBm, within -127..+20 (the
 *   range HCI reports; a value BlueZ gives outside it is clamped), or
 *   %BLEIO_SCAN_ENTRY_RSSI_UNKNOWN when BlueZ reports 127, "not available"
 */
BLEIO_EXPORT
int bleio_scan_entry_get_rssi (const BleioScanEntry *entry);

/**
 * bleio_scan_entry_get_connectable:
 * @entry: a #BleioScanEntry
 *
 * BlueZ does not say whether an advertisement was connectable, so this is a
 * heuristic: %TRUE when the advertisement carries a Flags structure with
 * any bit set (the Core Specification Supplement requires one in a
 * connectable advertisement whose flags are not all zero; a connectable
 * peer may set only "BR/EDR not supported", 0x04, without a discoverable
 * bit) and is not a beacon frame that is non-connectable by definition
 * (iBeacon, AltBeacon, Eddystone), or when the device is connected or
 * paired already. Advertisements without Flags count as non-connectable.
 *
 * Returns: the guess
 */
BLEIO_EXPORT
gboolean bleio_scan_entry_get_connectable (const BleioScanEntry *entry);

/**
 * bleio_scan_entry_get_scan_response:
 * @entry: a #BleioScanEntry
 *
 * `_bleio.ScanEntry.scan_response`.
 *
 * Returns: always %FALSE: BlueZ merges scan responses into the
 *   advertisement data
 */
BLEIO_EXPORT
gboolean bleio_scan_entry_get_scan_response (const BleioScanEntry *entry);

/**
 * bleio_scan_entry_matches:
 * @entry: a #BleioScanEntry
 * @prefixes: (array length=prefixes_len) (nullable): `_bleio` prefixes
 * @prefixes_len: the length of @prefixes
 * @match_all: %TRUE when every prefix must match, %FALSE when one is enough
 *
 * `_bleio.ScanEntry.matches()`, through bleio_ad_matches().
 *
 * Returns: whether the advertisement matches
 */
BLEIO_EXPORT
gboolean bleio_scan_entry_matches (const BleioScanEntry *entry,
                                   const guint8         *prefixes,
                                   gsize                 prefixes_len,
                                   gboolean              match_all);

/**
 * bleio_scan_entry_dup_complete_name:
 * @entry: a #BleioScanEntry
 *
 * The Complete Local Name (AD type 0x09) of the advertisement, which is
 * what the seed example looks for.
 *
 * Returns: (transfer full) (nullable): the name, or %NULL when there is none
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
char *bleio_scan_entry_dup_complete_name (const BleioScanEntry *entry);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BleioScanEntry, bleio_scan_entry_unref)

/**
 * BleioScanResults:
 *
 * A running or finished scan, as `_bleio.ScanResults`.
 *
 * Entries reach the application in two ways, independently: the
 * #BleioScanResults::entry signal, emitted in the thread-default main
 * context that was current when the adapter was created, and
 * bleio_scan_results_next(), which blocks the calling thread (any thread)
 * without needing a main loop. Each way holds at most the scan's
 * `buffer_size` bytes of entries not yet taken; what does not fit is dropped
 * and counted by bleio_scan_results_get_dropped().
 */
#define BLEIO_TYPE_SCAN_RESULTS (bleio_scan_results_get_type ())
BLEIO_EXPORT
G_DECLARE_FINAL_TYPE (BleioScanResults, bleio_scan_results, BLEIO, SCAN_RESULTS, GObject)

/**
 * bleio_scan_results_next:
 * @results: a #BleioScanResults
 * @timeout: seconds to wait for an entry; a negative value, infinity and
 *   anything beyond 49 days wait until one arrives or the scan ends; NaN
 *   fails with %BLEIO_ERROR_INVALID_ARGUMENT
 * @error: return location for a #GError, or %NULL
 *
 * Takes the oldest buffered entry, waiting for one when none is buffered.
 * Safe from any thread; needs no main loop.
 *
 * Returns: (transfer full) (nullable): the entry; %NULL without @error when
 *   the scan is over and everything was taken; %NULL with
 *   %BLEIO_ERROR_TIMEOUT when @timeout expired first; %NULL with another
 *   error when the scan ended abnormally (adapter removed:
 *   %BLEIO_ERROR_NO_ADAPTER; bluetoothd gone:
 *   %BLEIO_ERROR_BLUEZ_UNAVAILABLE), after the buffered entries
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioScanEntry *bleio_scan_results_next (BleioScanResults  *results,
                                         double             timeout,
                                         GError           **error);

/**
 * bleio_scan_results_get_passive:
 * @results: a #BleioScanResults
 *
 * Whether the scan runs passively, through an advertisement monitor
 * (no scan requests are sent, so entries carry no scan response data), or
 * actively through BlueZ's discovery: a scan started with `active` %TRUE,
 * or with %FALSE where bleio_adapter_set_passive_scan_fallback() let it
 * fall back.
 *
 * Returns: %TRUE for a passive scan
 *
 * Since: 0.3
 */
BLEIO_EXPORT
gboolean bleio_scan_results_get_passive (BleioScanResults *results);

/**
 * bleio_scan_results_is_done:
 * @results: a #BleioScanResults
 *
 * Whether the scan is over; bleio_scan_results_next() returns what is still
 * buffered.
 *
 * Returns: %TRUE once the scan has stopped (stopped, timed out, or ended
 *   by a failure); buffered entries may remain
 */
BLEIO_EXPORT
gboolean bleio_scan_results_is_done (BleioScanResults *results);

/**
 * bleio_scan_results_get_dropped:
 * @results: a #BleioScanResults
 *
 * Counts the entries lost to a full buffer since the scan started.
 *
 * Returns: how many entries were dropped because the buffer of
 *   bleio_scan_results_next() was full
 */
BLEIO_EXPORT
guint bleio_scan_results_get_dropped (BleioScanResults *results);

G_END_DECLS
