/* SPDX-License-Identifier: MIT */
/*
 * Address parsing: bleio_address_new_from_string() with every address
 * type, and bleio_address_new_from_bluez() / the BlueZ property values
 * (Address and AddressType, the input split at its first NUL), with the
 * round trips through the printed forms.
 */
#include "fuzz-common.h"

#include <bleio/bleio.h>
#include "bleio-values-private.h"
#include <string.h>

static void
check_address (const BleioAddress *address)
{
  g_autofree char *printed = bleio_address_to_string (address);
  g_autofree char *bluez = bleio_address_to_bluez_string (address);
  g_autoptr(BleioAddress) again = bleio_address_new_from_string (printed,
                                                                 bleio_address_get_address_type (address),
                                                                 NULL);
  g_autoptr(BleioAddress) from_bluez = bleio_address_new_from_bluez (bluez,
                                                                     bleio_address_get_bluez_address_type (address),
                                                                     NULL);

  fuzz_check (again != NULL && bleio_address_equal (address, again), "the printed form round-trips");
  fuzz_check (from_bluez != NULL &&
              memcmp (bleio_address_get_bytes (from_bluez), bleio_address_get_bytes (address), 6) == 0,
              "the BlueZ form keeps the bytes");
  fuzz_check (bleio_address_hash (address) == bleio_address_hash (again), "equal addresses hash alike");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *str = g_strndup ((const char *) data, size);
  const char *nul = memchr (data, 0, size);
  g_autofree char *type = NULL;
  g_autoptr(BleioAddress) from_bluez = NULL;
  g_autoptr(BleioAddress) from_values = NULL;
  g_autoptr(GVariant) address_value = NULL;
  g_autoptr(GVariant) type_value = NULL;
  gsize address_len = nul != NULL ? (gsize) ((const guint8 *) nul - data) : size;

  for (int t = BLEIO_ADDRESS_TYPE_PUBLIC; t <= BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_NON_RESOLVABLE; t++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BleioAddress) address = bleio_address_new_from_string (str, t, &error);

      fuzz_check ((address == NULL) == (error != NULL), "a refusal says why");
      if (address != NULL)
        {
          fuzz_check ((int) bleio_address_get_address_type (address) == t, "the type is kept");
          check_address (address);
        }
    }

  /* The rest, up to its own NUL, is the BlueZ address type. */
  type = nul != NULL ? g_strndup (nul + 1, size - address_len - 1) : g_strdup ("public");
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *address_str = g_strndup ((const char *) data, address_len);

    from_bluez = bleio_address_new_from_bluez (address_str, type, &error);
    fuzz_check ((from_bluez == NULL) == (error != NULL), "a refusal says why");
    if (from_bluez != NULL)
      check_address (from_bluez);
  }

  /* As the Address and AddressType properties: any bytes (GLib checks
   * the serialisation), the type value possibly missing. */
  address_value = fuzz_variant_new ("s", data, address_len);
  if (nul != NULL)
    type_value = fuzz_variant_new ("s", (const guint8 *) nul + 1, size - address_len - 1);
  from_values = bleio_address_from_bluez_values (address_value, type_value);
  if (from_values != NULL)
    check_address (from_values);
  return 0;
}
