/* SPDX-License-Identifier: MIT */
/*
 * The advertisement parser: bleio_ad_iter_*, bleio_ad_validate and
 * bleio_ad_matches on arbitrary bytes. The first byte splits the rest into
 * the scan prefixes and the advertisement.
 */
#include "fuzz-common.h"

#include <bleio/bleio.h>
#include <string.h>

static void
walk (const guint8 *data,
      gsize         len,
      gboolean      valid)
{
  g_autoptr(GError) error = NULL;
  BleioAdIter iter;
  guint8 type;
  const guint8 *payload;
  gsize payload_len;
  gsize covered = 0;
  guint8 sum = 0;

  bleio_ad_iter_init (&iter, data, len);
  while (bleio_ad_iter_next (&iter, &type, &payload, &payload_len, &error))
    {
      fuzz_check (payload >= data + 2 && payload + payload_len <= data + len,
                  "a payload lies inside the advertisement");
      /* Touch every byte, so that AddressSanitizer sees a bad range. */
      for (gsize i = 0; i < payload_len; i++)
        sum ^= payload[i];
      covered = (gsize) (payload - data) + payload_len;
    }
  (void) sum;
  fuzz_check ((error == NULL) == valid, "the walk fails exactly when validate does");
  fuzz_check (covered <= len, "the walk stays inside the buffer");
  /* Once finished, an iterator stays finished. */
  fuzz_check (!bleio_ad_iter_next (&iter, NULL, NULL, NULL, NULL), "a finished iterator stays finished");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  const guint8 *prefixes, *adv;
  gsize prefixes_len, adv_len;
  gboolean adv_valid, prefixes_valid, any, all;

  if (size == 0)
    return 0;
  prefixes_len = MIN ((gsize) data[0], size - 1);
  prefixes = data + 1;
  adv = prefixes + prefixes_len;
  adv_len = size - 1 - prefixes_len;

  adv_valid = bleio_ad_validate (adv, adv_len, NULL);
  prefixes_valid = bleio_ad_validate (prefixes, prefixes_len, NULL);
  walk (adv, adv_len, adv_valid);
  walk (prefixes, prefixes_len, prefixes_valid);

  any = bleio_ad_matches (adv, adv_len, prefixes, prefixes_len, FALSE);
  all = bleio_ad_matches (adv, adv_len, prefixes, prefixes_len, TRUE);
  if (!prefixes_valid)
    fuzz_check (!any && !all, "malformed prefixes match nothing");
  /* Every structure of an advertisement is a prefix of itself. */
  if (adv_valid)
    fuzz_check (bleio_ad_matches (adv, adv_len, adv, adv_len, TRUE),
                "a well-formed advertisement matches itself as prefixes");
  /* The empty prefix list matches everything. */
  fuzz_check (bleio_ad_matches (adv, adv_len, NULL, 0, FALSE), "no prefix matches any");
  return 0;
}
