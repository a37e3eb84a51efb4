/* SPDX-License-Identifier: MIT */
/*
 * Conversions of single BlueZ property values into library values. The
 * values come from the library's object cache, which keeps whatever type
 * bluetoothd (or anything owning org.bluez) sent, so every function takes
 * a value of any type, or NULL, and never fails loudly: a value of the
 * wrong type counts as missing. No bus is needed, so tests/fuzz drives
 * them with values built from arbitrary bytes.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-values-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>

G_BEGIN_DECLS

/* A UUID property (s): the parsed UUID, or NULL when @value is NULL, not a
 * string or not a UUID. */
BleioUuid    *bleio_uuid_from_bluez_value    (GVariant *value);

/* A boolean property (b), or @fallback when @value is NULL or of another
 * type. */
gboolean      bleio_boolean_from_bluez_value (GVariant *value,
                                              gboolean  fallback);

/* BlueZ Flags strings to _bleio property bits. */
BleioCharacteristicProperties bleio_characteristic_properties_from_flags (const char *const *flags);

/* A characteristic's Flags (as) as _bleio property bits; NONE when @value
 * is NULL or of another type. */
BleioCharacteristicProperties bleio_properties_from_bluez_value (GVariant *value);

/* A device's or adapter's Address (s) and AddressType (s, "public" when
 * NULL or not a string): the address, or NULL when it does not parse. */
BleioAddress *bleio_address_from_bluez_values (GVariant *address,
                                               GVariant *address_type);

/* An MTU property (q): its value, at most BLEIO_ATT_MAX_MTU, when it is at
 * least @minimum and at least BLEIO_ATT_MIN_MTU, else 0. */
guint16       bleio_mtu_from_bluez_value     (GVariant *value,
                                              guint16   minimum);

G_END_DECLS
