/* SPDX-License-Identifier: MIT */
/*
 * The advertisement builder: bleio_ad_build_from_bluez() on Device1
 * property dicts built from arbitrary bytes (and on values of wrong
 * types). Whatever BlueZ sends, the rebuilt bytes must be well-formed.
 */
#include "fuzz-common.h"

#include <bleio/bleio.h>

static const char *const types[] = {
  "a{sv}",              /* Device1 properties, as BlueZ sends them */
  "a{ss}",
  "av",
  "a{sa{sv}}",
  "(a{sv})",
  "ay",
  "v",
};

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  const char *type;

  if (size == 0)
    return 0;
  type = fuzz_pick_type (data[0], types, G_N_ELEMENTS (types));
  props = fuzz_variant_new (type, data + 1, size - 1);
  bytes = bleio_ad_build_from_bluez (props, &error);
  if (!g_variant_is_of_type (props, G_VARIANT_TYPE_VARDICT))
    {
      fuzz_check (bytes == NULL && error != NULL, "a non-a{sv} value is refused with an error");
      return 0;
    }
  fuzz_check (bytes != NULL && error == NULL, "an a{sv} always builds");
  {
    gsize len = 0;
    const guint8 *adv = g_bytes_get_data (bytes, &len);
    BleioAdIter iter;
    guint8 t;
    const guint8 *payload;
    gsize payload_len;

    fuzz_check (bleio_ad_validate (adv, len, NULL), "the rebuilt advertisement is well-formed");
    fuzz_check (len <= 1650, "the rebuilt advertisement fits an extended advertisement");
    bleio_ad_iter_init (&iter, adv, len);
    while (bleio_ad_iter_next (&iter, &t, &payload, &payload_len, NULL))
      fuzz_check (payload_len <= 254, "no structure exceeds 255 bytes");
  }
  return 0;
}
