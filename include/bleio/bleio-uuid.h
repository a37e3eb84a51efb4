/* SPDX-License-Identifier: MIT */
#pragma once

#if !defined(__BLEIO_H_INSIDE__) && !defined(BLEIO_COMPILATION)
#error "Only <bleio/bleio.h> can be included directly."
#endif

#include <glib-object.h>
#include <bleio/bleio-macros.h>

G_BEGIN_DECLS

/**
 * BleioUuid:
 *
 * A Bluetooth UUID, as `_bleio.UUID`: either a 16-bit UUID (a value on the
 * Bluetooth base UUID `0000xxxx-0000-1000-8000-00805f9b34fb`) or a full
 * 128-bit one. The value is immutable; copy it with bleio_uuid_copy() and
 * release it with bleio_uuid_free().
 *
 * Two UUIDs are equal only when they have the same size and the same value,
 * as in `_bleio`. So that UUIDs read from BlueZ (which always writes the
 * 128-bit form) compare equal to the 16-bit UUIDs an application writes,
 * bleio_uuid_new_from_string() turns strings on the Bluetooth base into
 * 16-bit UUIDs.
 */
typedef struct _BleioUuid BleioUuid;

/**
 * BLEIO_TYPE_UUID:
 *
 * The #GType of the boxed type #BleioUuid.
 */
#define BLEIO_TYPE_UUID (bleio_uuid_get_type ())

/**
 * bleio_uuid_get_type:
 *
 * Returns the #GType of the boxed type #BleioUuid.
 *
 * Returns: the #GType
 */
BLEIO_EXPORT
GType bleio_uuid_get_type (void);

/**
 * bleio_uuid_new_from_uuid16:
 * @uuid16: a 16-bit UUID value such as `0x180D`
 *
 * Creates a 16-bit UUID, as `_bleio.UUID(0x180D)`.
 *
 * Returns: (transfer full): a new UUID; free it with bleio_uuid_free()
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioUuid *bleio_uuid_new_from_uuid16 (guint16 uuid16);

/**
 * bleio_uuid_new_from_bytes:
 * @data: (array length=len) (nullable): the UUID, least significant byte
 *   first
 * @len: the length of @data: 2 or 16
 * @error: return location for a #GError, or %NULL
 *
 * Creates a UUID from its little-endian bytes, as `_bleio.UUID(buf)`: two
 * bytes give a 16-bit UUID, sixteen bytes a 128-bit UUID. A 128-bit UUID
 * made this way stays 128-bit even when it lies on the Bluetooth base, as in
 * `_bleio`.
 *
 * Returns: (transfer full) (nullable): a new UUID, or %NULL with @error set
 *   to %BLEIO_ERROR_INVALID_ARGUMENT when @len is neither 2 nor 16
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioUuid *bleio_uuid_new_from_bytes (const guint8 *data,
                                      gsize         len,
                                      GError      **error);

/**
 * bleio_uuid_new_from_string:
 * @str: the text of a UUID
 * @error: return location for a #GError, or %NULL
 *
 * Parses a UUID. Three forms are accepted, and nothing else (no spaces, no
 * braces, no other lengths):
 *
 * - exactly four hex digits, such as `180d`: a 16-bit UUID;
 * - `0x` or `0X` followed by exactly four hex digits, such as `0x180D`: a
 *   16-bit UUID;
 * - the 36-character form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in upper,
 *   lower or mixed case: a 128-bit UUID, except that a UUID on the Bluetooth
 *   base `0000xxxx-0000-1000-8000-00805f9b34fb` becomes the 16-bit UUID
 *   `xxxx` (BlueZ writes every UUID in this long form).
 *
 * Returns: (transfer full) (nullable): a new UUID, or %NULL with @error set
 *   to %BLEIO_ERROR_INVALID_ARGUMENT; the message quotes @str and lists the
 *   accepted forms
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioUuid *bleio_uuid_new_from_string (const char *str,
                                       GError    **error);

/**
 * bleio_uuid_copy:
 * @uuid: a #BleioUuid
 *
 * Copies a UUID.
 *
 * Returns: (transfer full): a new UUID equal to @uuid
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioUuid *bleio_uuid_copy (const BleioUuid *uuid);

/**
 * bleio_uuid_free:
 * @uuid: (nullable) (transfer full): a #BleioUuid, or %NULL
 *
 * Frees a UUID. Does nothing when @uuid is %NULL.
 */
BLEIO_EXPORT
void bleio_uuid_free (BleioUuid *uuid);

/**
 * bleio_uuid_get_size:
 * @uuid: a #BleioUuid
 *
 * Returns the size of the UUID in bits, as `_bleio.UUID.size`.
 *
 * Returns: 16 or 128
 */
BLEIO_EXPORT
guint bleio_uuid_get_size (const BleioUuid *uuid);

/**
 * bleio_uuid_get_uuid16:
 * @uuid: a #BleioUuid
 *
 * Returns the 16-bit value of the UUID, as `_bleio.UUID.uuid16`. For a
 * 128-bit UUID that is its bytes 12 and 13 (counting the little-endian bytes
 * from 0), the place a 16-bit value takes in the Bluetooth base UUID; for a
 * UUID not on the base that value means little.
 *
 * Returns: the 16-bit value
 */
BLEIO_EXPORT
guint16 bleio_uuid_get_uuid16 (const BleioUuid *uuid);

/**
 * bleio_uuid_get_uuid128:
 * @uuid: a #BleioUuid
 * @out: (out caller-allocates) (array fixed-size=16): where to store the
 *   sixteen bytes, least significant first
 *
 * Gives the bytes of a 128-bit UUID, as `_bleio.UUID.uuid128`. A 16-bit
 * UUID has no 128-bit bytes in `_bleio` (it raises), so this returns %FALSE
 * for one and leaves @out untouched.
 *
 * Returns: %TRUE if @uuid is 128-bit and @out was filled
 */
BLEIO_EXPORT
gboolean bleio_uuid_get_uuid128 (const BleioUuid *uuid,
                                 guint8           out[16]);

/**
 * bleio_uuid_pack_into: (skip)
 * @uuid: a #BleioUuid
 * @buffer: (array length=buffer_len): the buffer to write into
 * @buffer_len: the length of @buffer
 * @offset: where in @buffer the UUID starts
 * @error: return location for a #GError, or %NULL
 *
 * Writes the UUID into @buffer at @offset, little-endian: two bytes for a
 * 16-bit UUID, sixteen for a 128-bit one, as `_bleio.UUID.pack_into()`.
 * Not available through GObject Introspection, which cannot write into a
 * caller's buffer in place: bindings use bleio_uuid_get_uuid16() or
 * bleio_uuid_get_uuid128() and copy the bytes themselves.
 *
 * Returns: %TRUE on success; %FALSE with @error set to
 *   %BLEIO_ERROR_INVALID_ARGUMENT (and @buffer untouched) when the UUID does
 *   not fit between @offset and @buffer_len
 */
BLEIO_EXPORT
gboolean bleio_uuid_pack_into (const BleioUuid *uuid,
                               guint8          *buffer,
                               gsize            buffer_len,
                               gsize            offset,
                               GError         **error);

/**
 * bleio_uuid_to_string:
 * @uuid: a #BleioUuid
 *
 * Formats the UUID for people: `0x180d` for a 16-bit UUID, the lower-case
 * 36-character form for a 128-bit one. Both forms parse back with
 * bleio_uuid_new_from_string() (a 128-bit UUID on the Bluetooth base comes
 * back as 16-bit).
 *
 * Returns: (transfer full): a new string; free it with g_free()
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
char *bleio_uuid_to_string (const BleioUuid *uuid);

/**
 * bleio_uuid_to_bluez_string:
 * @uuid: a #BleioUuid
 *
 * Formats the UUID as BlueZ writes UUIDs: always the lower-case 36-character
 * form; a 16-bit UUID is placed on the Bluetooth base.
 *
 * Returns: (transfer full): a new string; free it with g_free()
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
char *bleio_uuid_to_bluez_string (const BleioUuid *uuid);

/**
 * bleio_uuid_equal:
 * @a: (type BleioUuid): a #BleioUuid
 * @b: (type BleioUuid): a #BleioUuid
 *
 * Compares two UUIDs: they are equal when they have the same size and the
 * same value. Suitable as the #GEqualFunc of a #GHashTable keyed on UUIDs,
 * with bleio_uuid_hash().
 *
 * Returns: %TRUE if @a and @b are equal
 */
BLEIO_EXPORT
gboolean bleio_uuid_equal (gconstpointer a,
                           gconstpointer b);

/**
 * bleio_uuid_hash:
 * @uuid: (type BleioUuid): a #BleioUuid
 *
 * Hashes a UUID; equal UUIDs have equal hashes. Suitable as the #GHashFunc
 * of a #GHashTable keyed on UUIDs, with bleio_uuid_equal().
 *
 * Returns: the hash value
 */
BLEIO_EXPORT
guint bleio_uuid_hash (gconstpointer uuid);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BleioUuid, bleio_uuid_free)

G_END_DECLS
