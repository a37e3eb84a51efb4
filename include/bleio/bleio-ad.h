/* SPDX-License-Identifier: MIT */
#pragma once

#if !defined(__BLEIO_H_INSIDE__) && !defined(BLEIO_COMPILATION)
#error "Only <bleio/bleio.h> can be included directly."
#endif

#include <glib-object.h>
#include <bleio/bleio-macros.h>

G_BEGIN_DECLS

/**
 * BLEIO_AD_TYPE_FLAGS:
 *
 * AD type of the Flags structure.
 */
#define BLEIO_AD_TYPE_FLAGS 0x01
/**
 * BLEIO_AD_TYPE_UUID16_INCOMPLETE:
 *
 * AD type of an incomplete list of 16-bit service UUIDs.
 */
#define BLEIO_AD_TYPE_UUID16_INCOMPLETE 0x02
/**
 * BLEIO_AD_TYPE_UUID16_COMPLETE:
 *
 * AD type of the complete list of 16-bit service UUIDs.
 */
#define BLEIO_AD_TYPE_UUID16_COMPLETE 0x03
/**
 * BLEIO_AD_TYPE_UUID32_INCOMPLETE:
 *
 * AD type of an incomplete list of 32-bit service UUIDs.
 */
#define BLEIO_AD_TYPE_UUID32_INCOMPLETE 0x04
/**
 * BLEIO_AD_TYPE_UUID32_COMPLETE:
 *
 * AD type of the complete list of 32-bit service UUIDs.
 */
#define BLEIO_AD_TYPE_UUID32_COMPLETE 0x05
/**
 * BLEIO_AD_TYPE_UUID128_INCOMPLETE:
 *
 * AD type of an incomplete list of 128-bit service UUIDs.
 */
#define BLEIO_AD_TYPE_UUID128_INCOMPLETE 0x06
/**
 * BLEIO_AD_TYPE_UUID128_COMPLETE:
 *
 * AD type of the complete list of 128-bit service UUIDs.
 */
#define BLEIO_AD_TYPE_UUID128_COMPLETE 0x07
/**
 * BLEIO_AD_TYPE_SHORT_NAME:
 *
 * AD type of the shortened local name.
 */
#define BLEIO_AD_TYPE_SHORT_NAME 0x08
/**
 * BLEIO_AD_TYPE_COMPLETE_NAME:
 *
 * AD type of the complete local name.
 */
#define BLEIO_AD_TYPE_COMPLETE_NAME 0x09
/**
 * BLEIO_AD_TYPE_TX_POWER:
 *
 * AD type of the TX power level (one signed byte, dBm).
 */
#define BLEIO_AD_TYPE_TX_POWER 0x0A
/**
 * BLEIO_AD_TYPE_SERVICE_DATA_UUID16:
 *
 * AD type of service data for a 16-bit UUID.
 */
#define BLEIO_AD_TYPE_SERVICE_DATA_UUID16 0x16
/**
 * BLEIO_AD_TYPE_APPEARANCE:
 *
 * AD type of the appearance (two bytes, little-endian).
 */
#define BLEIO_AD_TYPE_APPEARANCE 0x19
/**
 * BLEIO_AD_TYPE_SERVICE_DATA_UUID32:
 *
 * AD type of service data for a 32-bit UUID.
 */
#define BLEIO_AD_TYPE_SERVICE_DATA_UUID32 0x20
/**
 * BLEIO_AD_TYPE_SERVICE_DATA_UUID128:
 *
 * AD type of service data for a 128-bit UUID.
 */
#define BLEIO_AD_TYPE_SERVICE_DATA_UUID128 0x21
/**
 * BLEIO_AD_TYPE_MANUFACTURER_DATA:
 *
 * AD type of manufacturer-specific data (company identifier, little-endian,
 * then the data).
 */
#define BLEIO_AD_TYPE_MANUFACTURER_DATA 0xFF

/**
 * BleioAdIter:
 *
 * Walks the AD structures of advertising or scan response data without
 * allocating. Declare it on the stack, set it up with bleio_ad_iter_init()
 * and call bleio_ad_iter_next() until it returns %FALSE. Its fields are
 * private.
 *
 * The grammar is that of the Core specification (Vol 3, Part C, section 11):
 * a run of structures, each a length byte followed by that many bytes, the
 * first of which is the AD type. A length byte of zero ends the data early:
 * whatever follows it is padding and is not examined, so zero-padded buffers
 * (as controllers deliver them) are valid.
 */
typedef struct {
  /*< private >*/
  const guint8 *_data;
  gsize _len;
  gsize _pos;
  guint _done;
  gpointer _padding[4];
} BleioAdIter;

/**
 * bleio_ad_iter_init: (skip)
 * @iter: an uninitialised #BleioAdIter, usually on the stack
 * @data: (array length=len) (nullable): the advertising data
 * @len: the length of @data
 *
 * Prepares @iter to walk @data. @data is not copied: it must stay valid and
 * unchanged while @iter is used.
 *
 * Not available through GObject Introspection: the iterator points into
 * memory the caller owns, which bindings cannot keep alive. Bindings walk
 * the AD structures in their own language (bleio_ad_validate() checks them).
 */
BLEIO_EXPORT
void bleio_ad_iter_init (BleioAdIter  *iter,
                         const guint8 *data,
                         gsize         len);

/**
 * bleio_ad_iter_next: (skip)
 * @iter: a #BleioAdIter
 * @type: (out) (optional): the AD type of the structure
 * @payload: (out) (optional) (transfer none) (array length=payload_len):
 *   the bytes after the type, pointing into the data given to
 *   bleio_ad_iter_init(); may be empty
 * @payload_len: (out) (optional): the number of payload bytes
 * @error: return location for a #GError, or %NULL
 *
 * Moves to the next AD structure. Never reads outside the data given to
 * bleio_ad_iter_init(). Not available through GObject Introspection, as
 * bleio_ad_iter_init().
 *
 * Returns: %TRUE when a structure was found and the out arguments were set;
 *   %FALSE at the end of the data (or at a zero length byte) without
 *   setting @error, or %FALSE with @error set to %BLEIO_ERROR_INVALID_VALUE
 *   when a length byte runs past the end of the data. Once it has returned
 *   %FALSE, later calls return %FALSE without setting @error.
 */
BLEIO_EXPORT
gboolean bleio_ad_iter_next (BleioAdIter    *iter,
                             guint8         *type,
                             const guint8  **payload,
                             gsize          *payload_len,
                             GError        **error);

/**
 * bleio_ad_validate:
 * @data: (array length=len) (nullable): advertising data
 * @len: the length of @data
 * @error: return location for a #GError, or %NULL
 *
 * Checks that @data follows the AD grammar described at #BleioAdIter. Empty
 * data is valid.
 *
 * Returns: %TRUE if @data is well formed; %FALSE with @error set to
 *   %BLEIO_ERROR_INVALID_VALUE otherwise
 */
BLEIO_EXPORT
gboolean bleio_ad_validate (const guint8 *data,
                            gsize         len,
                            GError      **error);

/**
 * bleio_ad_build_from_bluez:
 * @device_properties: the properties of an `org.bluez.Device1` object, as
 *   an `a{sv}` dictionary
 * @error: return location for a #GError, or %NULL
 *
 * Rebuilds advertisement bytes from the fields BlueZ parsed out of the
 * advertising and scan response data of a device. BlueZ does not keep the
 * raw bytes, so the result is a reconstruction: the structures come out in
 * a fixed order, the advertisement and the scan response are merged, and the
 * lists hold whatever BlueZ accumulated (`UUIDs` of a connected device also
 * includes services found over GATT).
 *
 * The result is never longer than 1650 bytes, the most AD data an extended
 * advertisement carries (a legacy one carries 31 bytes and 31 of scan
 * response; BlueZ does not say which kind it heard, so the larger bound
 * holds). A structure that would take it past 1650 bytes is left out, and
 * the ones after it still go in where they fit.
 *
 * The structures, in this order:
 *
 * - `AdvertisingFlags` as %BLEIO_AD_TYPE_FLAGS;
 * - `UUIDs` split by size into complete lists: 16-bit (UUIDs on the
 *   Bluetooth base), 32-bit (on the base with the upper 16 bits of the value
 *   set) and 128-bit; a list that does not fit one structure continues in
 *   another of the same type;
 * - `Name` as %BLEIO_AD_TYPE_COMPLETE_NAME, or as
 *   %BLEIO_AD_TYPE_SHORT_NAME cut at a character boundary when it is longer
 *   than one structure can hold;
 * - `TxPower` as one signed byte (clamped to -128..127);
 * - `Appearance`, little-endian;
 * - `ServiceData`, one structure per UUID, the type chosen by the UUID's
 *   size, the UUID little-endian, then the data (cut to fit);
 * - `ManufacturerData`, one structure per company identifier;
 * - `AdvertisingData`, the raw structures BlueZ passes on, except those of a
 *   type emitted above.
 *
 * Every structure fits its one-byte length field: type and data together are
 * at most 255 bytes (so at most 254 bytes of data). A
 * property that is missing, empty or of an unexpected D-Bus type is left out,
 * as is an entry of the wrong type or an unparsable UUID inside a property.
 *
 * Returns: (transfer full) (nullable): the bytes, possibly empty; %NULL with
 *   @error set to %BLEIO_ERROR_INVALID_ARGUMENT only when
 *   @device_properties is not of type `a{sv}`
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
GBytes *bleio_ad_build_from_bluez (GVariant *device_properties,
                                   GError  **error);

/**
 * bleio_ad_matches:
 * @adv: (array length=adv_len) (nullable): advertising data
 * @adv_len: the length of @adv
 * @prefixes: (array length=prefixes_len) (nullable): prefixes, each written
 *   as an AD structure: `[length][AD type][data...]`
 * @prefixes_len: the length of @prefixes
 * @match_all: %TRUE if every prefix must match, %FALSE if one is enough
 *
 * Tells whether advertising data matches a set of prefixes, as
 * `_bleio.ScanEntry.matches()` and the `prefixes` argument of
 * `Adapter.start_scan()`. A prefix matches when some AD structure of @adv
 * starts with the prefix's type and data bytes; a prefix with a type only
 * matches any structure of that type.
 *
 * When @prefixes holds no prefix at all (empty, or only a zero terminator)
 * everything matches. Prefixes that are not well formed (see
 * bleio_ad_validate()) never match. In @adv, the well-formed structures
 * before a malformed one are examined and the malformed tail is ignored.
 *
 * Returns: %TRUE if @adv matches
 */
BLEIO_EXPORT
gboolean bleio_ad_matches (const guint8 *adv,
                           gsize         adv_len,
                           const guint8 *prefixes,
                           gsize         prefixes_len,
                           gboolean      match_all);

G_END_DECLS
