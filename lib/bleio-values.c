/* SPDX-License-Identifier: MIT */
/*
 * BlueZ property values to library values; see bleio-values-private.h.
 */
#include "bleio-values-private.h"
#include "bleio-att-private.h"

BleioUuid *
bleio_uuid_from_bluez_value (GVariant *value)
{
  if (value == NULL || !g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    return NULL;
  return bleio_uuid_new_from_string (g_variant_get_string (value, NULL), NULL);
}

gboolean
bleio_boolean_from_bluez_value (GVariant *value,
                                gboolean  fallback)
{
  if (value == NULL || !g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return fallback;
  return g_variant_get_boolean (value);
}

BleioCharacteristicProperties
bleio_characteristic_properties_from_flags (const char *const *flags)
{
  static const struct {
    const char *name;
    BleioCharacteristicProperties bit;
  } table[] = {
    { "broadcast", BLEIO_CHARACTERISTIC_PROPERTY_BROADCAST },
    { "read", BLEIO_CHARACTERISTIC_PROPERTY_READ },
    { "write-without-response", BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE },
    { "write", BLEIO_CHARACTERISTIC_PROPERTY_WRITE },
    { "notify", BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY },
    { "indicate", BLEIO_CHARACTERISTIC_PROPERTY_INDICATE },
  };
  BleioCharacteristicProperties properties = BLEIO_CHARACTERISTIC_PROPERTY_NONE;

  for (gsize i = 0; flags != NULL && flags[i] != NULL; i++)
    for (gsize j = 0; j < G_N_ELEMENTS (table); j++)
      if (g_str_equal (flags[i], table[j].name))
        properties |= table[j].bit;
  return properties;
}

BleioCharacteristicProperties
bleio_properties_from_bluez_value (GVariant *value)
{
  g_autofree const char **strv = NULL;

  if (value == NULL || !g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
    return BLEIO_CHARACTERISTIC_PROPERTY_NONE;
  strv = g_variant_get_strv (value, NULL);
  return bleio_characteristic_properties_from_flags (strv);
}

BleioAddress *
bleio_address_from_bluez_values (GVariant *address,
                                 GVariant *address_type)
{
  const char *type = "public";

  if (address == NULL || !g_variant_is_of_type (address, G_VARIANT_TYPE_STRING))
    return NULL;
  if (address_type != NULL && g_variant_is_of_type (address_type, G_VARIANT_TYPE_STRING))
    type = g_variant_get_string (address_type, NULL);
  return bleio_address_new_from_bluez (g_variant_get_string (address, NULL), type, NULL);
}

guint16
bleio_mtu_from_bluez_value (GVariant *value,
                            guint16   minimum)
{
  guint16 mtu;

  if (value == NULL || !g_variant_is_of_type (value, G_VARIANT_TYPE_UINT16))
    return 0;
  mtu = g_variant_get_uint16 (value);
  /* Below ATT's smallest is no MTU at all, above its largest is more than
   * any peer can use. */
  if (mtu < MAX (minimum, BLEIO_ATT_MIN_MTU))
    return 0;
  return MIN (mtu, BLEIO_ATT_MAX_MTU);
}
