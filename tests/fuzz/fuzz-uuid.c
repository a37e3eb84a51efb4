/* SPDX-License-Identifier: MIT */
/*
 * UUID parsing from bytes (bleio_uuid_new_from_bytes), from strings
 * (bleio_uuid_new_from_string, and a BlueZ UUID property value), with the
 * round trips through the printed forms and pack_into.
 */
#include "fuzz-common.h"

#include <bleio/bleio.h>
#include "bleio-values-private.h"
#include <string.h>

static void
check_uuid (const BleioUuid *uuid)
{
  g_autofree char *printed = bleio_uuid_to_string (uuid);
  g_autofree char *bluez = bleio_uuid_to_bluez_string (uuid);
  g_autoptr(BleioUuid) again = bleio_uuid_new_from_string (printed, NULL);
  g_autoptr(BleioUuid) from_bluez = bleio_uuid_new_from_string (bluez, NULL);
  g_autofree char *bluez_again = NULL;
  guint8 buffer[20];
  guint size = bleio_uuid_get_size (uuid);

  fuzz_check (size == 16 || size == 128, "a UUID is 16 or 128 bits");
  fuzz_check (again != NULL && from_bluez != NULL, "printed UUIDs parse back");
  /* A 128-bit UUID on the Bluetooth base prints in the long form and
   * parses back as 16-bit; the long forms always agree. */
  bluez_again = bleio_uuid_to_bluez_string (from_bluez);
  fuzz_check (g_str_equal (bluez, bluez_again), "the BlueZ form round-trips");
  if (size == 16)
    fuzz_check (bleio_uuid_equal (uuid, again), "a 16-bit UUID round-trips");
  fuzz_check (bleio_uuid_hash (uuid) == bleio_uuid_hash (uuid), "the hash is stable");
  for (gsize offset = 0; offset <= sizeof buffer + 1; offset++)
    {
      gboolean fits = offset + size / 8 <= sizeof buffer;

      fuzz_check (bleio_uuid_pack_into (uuid, buffer, sizeof buffer, offset, NULL) == fits,
                  "pack_into fits exactly when there is room");
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(BleioUuid) from_bytes = NULL;
  g_autoptr(BleioUuid) from_string = NULL;
  g_autoptr(BleioUuid) from_value = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *str = g_strndup ((const char *) data, size);

  from_bytes = bleio_uuid_new_from_bytes (data, size, &error);
  fuzz_check ((from_bytes != NULL) == (size == 2 || size == 16), "bytes parse when 2 or 16 long");
  fuzz_check ((from_bytes == NULL) == (error != NULL), "a refusal says why");
  g_clear_error (&error);
  if (from_bytes != NULL)
    check_uuid (from_bytes);

  from_string = bleio_uuid_new_from_string (str, &error);
  fuzz_check ((from_string == NULL) == (error != NULL), "a refusal says why");
  if (from_string != NULL)
    check_uuid (from_string);

  /* The same text as a BlueZ UUID property (any bytes: GLib checks). */
  value = fuzz_variant_new ("s", data, size);
  from_value = bleio_uuid_from_bluez_value (value);
  if (from_value != NULL)
    check_uuid (from_value);
  return 0;
}
