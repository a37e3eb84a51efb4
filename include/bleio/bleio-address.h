/* SPDX-License-Identifier: MIT */
#pragma once

#if !defined(__BLEIO_H_INSIDE__) && !defined(BLEIO_COMPILATION)
#error "Only <bleio/bleio.h> can be included directly."
#endif

#include <glib-object.h>
#include <bleio/bleio-macros.h>

G_BEGIN_DECLS

/**
 * BleioAddressType:
 * @BLEIO_ADDRESS_TYPE_PUBLIC: a public (IEEE-assigned) device address
 * @BLEIO_ADDRESS_TYPE_RANDOM_STATIC: a random static address (top two bits
 *   of the most significant byte are `11`)
 * @BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_RESOLVABLE: a resolvable private
 *   address (top two bits `01`)
 * @BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_NON_RESOLVABLE: a non-resolvable
 *   private address (top two bits `00`)
 *
 * The kind of a Bluetooth LE device address; the values are those of
 * `_bleio.Address.PUBLIC` and the other constants.
 */
typedef enum {
  BLEIO_ADDRESS_TYPE_PUBLIC = 0,
  BLEIO_ADDRESS_TYPE_RANDOM_STATIC = 1,
  BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_RESOLVABLE = 2,
  BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_NON_RESOLVABLE = 3,
} BleioAddressType;

/**
 * bleio_address_type_get_type:
 *
 * Returns the #GType of the #BleioAddressType enumeration.
 *
 * Returns: the #GType
 */
BLEIO_EXPORT
GType bleio_address_type_get_type (void);
/**
 * BLEIO_TYPE_ADDRESS_TYPE:
 *
 * The #GType of #BleioAddressType.
 */
#define BLEIO_TYPE_ADDRESS_TYPE (bleio_address_type_get_type ())

/**
 * BleioAddress:
 *
 * A Bluetooth device address and its type, as `_bleio.Address`. The value
 * is immutable; copy it with bleio_address_copy() and release it with
 * bleio_address_free(). Two addresses are equal when both the six bytes and
 * the type are equal.
 */
typedef struct _BleioAddress BleioAddress;

/**
 * BLEIO_TYPE_ADDRESS:
 *
 * The #GType of the boxed type #BleioAddress.
 */
#define BLEIO_TYPE_ADDRESS (bleio_address_get_type ())

/**
 * bleio_address_get_type:
 *
 * Returns the #GType of the boxed type #BleioAddress.
 *
 * Returns: the #GType
 */
BLEIO_EXPORT
GType bleio_address_get_type (void);

/**
 * bleio_address_new:
 * @bytes: (array fixed-size=6): the address, least significant byte first
 *   (the order of `_bleio.Address(address_bytes)`)
 * @address_type: the type of the address
 *
 * Creates an address from its bytes. The bytes are taken as they are; no
 * check is made that they agree with @address_type.
 *
 * Returns: (transfer full): a new address; free it with bleio_address_free()
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioAddress *bleio_address_new (const guint8     bytes[6],
                                 BleioAddressType address_type);

/**
 * bleio_address_new_from_string:
 * @str: the address as `AA:BB:CC:DD:EE:FF`, most significant byte first
 * @address_type: the type of the address
 * @error: return location for a #GError, or %NULL
 *
 * Parses an address in the usual colon-separated form, upper or lower case.
 * The syntax is strict: exactly 17 characters, two hex digits per byte, a
 * colon between bytes and nothing else.
 *
 * Returns: (transfer full) (nullable): a new address, or %NULL with @error
 *   set to %BLEIO_ERROR_INVALID_ARGUMENT
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioAddress *bleio_address_new_from_string (const char      *str,
                                             BleioAddressType address_type,
                                             GError         **error);

/**
 * bleio_address_new_from_bluez:
 * @address: the `Address` property of an `org.bluez.Device1` or
 *   `org.bluez.Adapter1` object (`AA:BB:CC:DD:EE:FF`)
 * @address_type: the `AddressType` property: `"public"` or `"random"`
 * @error: return location for a #GError, or %NULL
 *
 * Builds an address from BlueZ's two properties. BlueZ only says "random";
 * the sub-type comes from the two most significant bits of the most
 * significant byte, as the Core specification defines them: `11` is
 * %BLEIO_ADDRESS_TYPE_RANDOM_STATIC, `01`
 * %BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_RESOLVABLE and `00`
 * %BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_NON_RESOLVABLE. The pattern `10` is
 * reserved; such an address is accepted (rather than losing the device) and
 * classed as %BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_NON_RESOLVABLE, the type that
 * promises neither stability nor resolvability.
 *
 * Returns: (transfer full) (nullable): a new address, or %NULL with @error
 *   set to %BLEIO_ERROR_INVALID_ARGUMENT when @address does not parse or
 *   @address_type is neither `"public"` nor `"random"`
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioAddress *bleio_address_new_from_bluez (const char *address,
                                            const char *address_type,
                                            GError    **error);

/**
 * bleio_address_copy:
 * @address: a #BleioAddress
 *
 * Copies an address.
 *
 * Returns: (transfer full): a new address equal to @address
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioAddress *bleio_address_copy (const BleioAddress *address);

/**
 * bleio_address_free:
 * @address: (nullable) (transfer full): a #BleioAddress, or %NULL
 *
 * Frees an address. Does nothing when @address is %NULL.
 */
BLEIO_EXPORT
void bleio_address_free (BleioAddress *address);

/**
 * bleio_address_get_bytes:
 * @address: a #BleioAddress
 *
 * Returns the six bytes of the address, least significant first, as
 * `_bleio.Address.address_bytes`.
 *
 * Returns: (transfer none) (array fixed-size=6): the bytes, valid as long as
 *   @address is
 */
BLEIO_EXPORT
const guint8 *bleio_address_get_bytes (const BleioAddress *address);

/**
 * bleio_address_get_address_type:
 * @address: a #BleioAddress
 *
 * Returns the type of the address, as `_bleio.Address.type`.
 *
 * Returns: the address type
 */
BLEIO_EXPORT
BleioAddressType bleio_address_get_address_type (const BleioAddress *address);

/**
 * bleio_address_get_bluez_address_type:
 * @address: a #BleioAddress
 *
 * Returns the address type as BlueZ names it (the `AddressType` property
 * and the `AddressType` key of `Adapter1.ConnectDevice`).
 *
 * Returns: (transfer none): `"public"` for a public address, `"random"` for
 *   any random one
 */
BLEIO_EXPORT
const char *bleio_address_get_bluez_address_type (const BleioAddress *address);

/**
 * bleio_address_to_string:
 * @address: a #BleioAddress
 *
 * Formats the address most significant byte first in lower case, as
 * `_bleio.Address` prints: `c8:1d:...`.
 *
 * Returns: (transfer full): a new string; free it with g_free()
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
char *bleio_address_to_string (const BleioAddress *address);

/**
 * bleio_address_to_bluez_string:
 * @address: a #BleioAddress
 *
 * Formats the address as BlueZ writes it: most significant byte first, upper
 * case, `AA:BB:CC:DD:EE:FF`. BlueZ's device object paths end in the same
 * text with the colons replaced by underscores (`dev_AA_BB_CC_DD_EE_FF`).
 *
 * Returns: (transfer full): a new string; free it with g_free()
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
char *bleio_address_to_bluez_string (const BleioAddress *address);

/**
 * bleio_address_equal:
 * @a: (type BleioAddress): a #BleioAddress
 * @b: (type BleioAddress): a #BleioAddress
 *
 * Compares two addresses: equal when both the bytes and the type are equal,
 * as `_bleio.Address.__eq__`. Suitable as a #GEqualFunc with
 * bleio_address_hash().
 *
 * Returns: %TRUE if @a and @b are equal
 */
BLEIO_EXPORT
gboolean bleio_address_equal (gconstpointer a,
                              gconstpointer b);

/**
 * bleio_address_hash:
 * @address: (type BleioAddress): a #BleioAddress
 *
 * Hashes an address; equal addresses have equal hashes. Suitable as a
 * #GHashFunc with bleio_address_equal().
 *
 * Returns: the hash value
 */
BLEIO_EXPORT
guint bleio_address_hash (gconstpointer address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BleioAddress, bleio_address_free)

G_END_DECLS
