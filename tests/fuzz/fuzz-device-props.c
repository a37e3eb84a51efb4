/* SPDX-License-Identifier: MIT */
/*
 * Device1 properties to a scan entry: bleio_scan_entry_new_from_bluez()
 * and bleio_scan_is_advert_change() on a{sv} dicts built from arbitrary
 * bytes (and values of wrong types), then every getter of the entry.
 * Input: [minimum RSSI][prefix length][prefixes][type selector][dict].
 */
#include "fuzz-common.h"

#include "bleio-scan-private.h"

#include <string.h>

#define ADAPTER "/org/bluez/hci0"

static const char *const types[] = {
  "a{sv}",
  "a{ss}",
  "a{sa{sv}}",
  "(a{sv})",
  "av",
  "s",
};

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GBytes) prefixes = NULL;
  BleioScanEntry *entry;
  int minimum_rssi;
  gsize prefixes_len;

  if (size < 3)
    return 0;
  minimum_rssi = (gint8) data[0];
  prefixes_len = MIN ((gsize) data[1], size - 3);
  prefixes = g_bytes_new (data + 2, prefixes_len);
  data += 2 + prefixes_len;
  size -= 2 + prefixes_len;
  props = fuzz_variant_new (fuzz_pick_type (data[0], types, G_N_ELEMENTS (types)),
                            data + 1, size - 1);

  (void) bleio_scan_is_advert_change (props);
  entry = bleio_scan_entry_new_from_bluez (props, ADAPTER, minimum_rssi,
                                           prefixes_len > 0 ? prefixes : NULL);
  if (entry != NULL)
    {
      GBytes *adv = bleio_scan_entry_get_advertisement_bytes (entry);
      gsize len = 0;
      const guint8 *bytes = g_bytes_get_data (adv, &len);
      g_autofree char *name = bleio_scan_entry_dup_complete_name (entry);
      g_autofree char *address = bleio_address_to_string (bleio_scan_entry_get_address (entry));

      fuzz_check (g_variant_is_of_type (props, G_VARIANT_TYPE_VARDICT), "only a dict makes an entry");
      fuzz_check (name == NULL || strlen (name) <= 254, "a name comes from one structure");
      fuzz_check (strlen (address) == 17, "the address prints as AA:BB:CC:DD:EE:FF");
      fuzz_check (bleio_scan_entry_get_rssi (entry) >= minimum_rssi, "the minimum RSSI holds");
      fuzz_check (bleio_ad_validate (bytes, len, NULL), "the entry's advertisement is well-formed");
      fuzz_check (len <= 1650, "the entry's advertisement fits an extended advertisement");
      if (prefixes_len > 0)
        {
          gsize plen = 0;
          const guint8 *p = g_bytes_get_data (prefixes, &plen);

          fuzz_check (bleio_scan_entry_matches (entry, p, plen, FALSE), "a kept entry matches the prefixes");
        }
      (void) bleio_scan_entry_get_connectable (entry);
      fuzz_check (!bleio_scan_entry_get_scan_response (entry), "scan_response is always false");
      bleio_scan_entry_unref (entry);
    }
  return 0;
}
