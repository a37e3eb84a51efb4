/* SPDX-License-Identifier: MIT */
/*
 * PropertiesChanged (sa{sv}as) built from arbitrary bytes, applied to the
 * cached properties of a discovered device or a characteristic the way
 * GDBusProxy applies it (changed values replace, invalidated names go),
 * then converted as the library converts the cache: the scan entry of a
 * Device1, the Value, Flags and MTU of a characteristic. The
 * PropertiesChanged dict itself goes through the checks the library's
 * event handlers make on it.
 */
#include "fuzz-common.h"

#include "bleio-scan-private.h"
#include "bleio-values-private.h"

static const char *const types[] = {
  "(sa{sv}as)",
  "(sa{sv})",
  "(sa{ss}as)",
  "(a{sv}as)",
  "a{sv}",
};

/* A Device1 as bluetoothd 5.66 exported it while discovering
 * (tests/data/bluez-5.66/device-props-discovered.json, with an RSSI). */
static GVariant *
cached_device (void)
{
  GVariantBuilder b;
  static const guint8 flags[] = { 0x06 };
  static const guint8 manufacturer[] = { 0x00, 0x01, 0x02, 0x03 };

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "Adapter", g_variant_new_object_path ("/org/bluez/hci0"));
  g_variant_builder_add (&b, "{sv}", "Address", g_variant_new_string ("00:AA:01:01:00:01"));
  g_variant_builder_add (&b, "{sv}", "AddressType", g_variant_new_string ("public"));
  g_variant_builder_add (&b, "{sv}", "Name", g_variant_new_string ("TestAdvertisement"));
  g_variant_builder_add (&b, "{sv}", "RSSI", g_variant_new_int16 (-60));
  g_variant_builder_add (&b, "{sv}", "AdvertisingFlags",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, flags, 1, 1));
  g_variant_builder_add (&b, "{sv}", "ManufacturerData",
                         g_variant_new_parsed ("{@q 65535: <%@ay>}",
                                               g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                          manufacturer,
                                                                          sizeof manufacturer, 1)));
  g_variant_builder_add (&b, "{sv}", "UUIDs",
                         g_variant_new_parsed ("['0000180d-0000-1000-8000-00805f9b34fb']"));
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

/* @cached updated by @changed and @invalidated, as GDBusProxy does. */
static GVariant *
apply (GVariant          *cached,
       GVariant          *changed,
       const char *const *invalidated)
{
  g_autoptr(GHashTable) table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                       (GDestroyNotify) g_variant_unref);
  GVariantBuilder b;
  GVariantIter iter;
  GHashTableIter it;
  const char *key;
  GVariant *value;
  gpointer k, v;

  g_variant_iter_init (&iter, cached);
  while (g_variant_iter_next (&iter, "{sv}", &k, &v))
    g_hash_table_replace (table, k, v);
  g_variant_iter_init (&iter, changed);
  while (g_variant_iter_next (&iter, "{sv}", &k, &v))
    g_hash_table_replace (table, k, v);
  for (gsize i = 0; invalidated != NULL && invalidated[i] != NULL; i++)
    g_hash_table_remove (table, invalidated[i]);

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_hash_table_iter_init (&it, table);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      key = k;
      value = v;
      g_variant_builder_add (&b, "{sv}", key, value);
    }
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GVariant) args = NULL;
  g_autoptr(GVariant) changed = NULL;
  g_autoptr(GVariant) cached = NULL;
  g_autoptr(GVariant) merged = NULL;
  g_autofree const char **invalidated = NULL;
  const char *interface = NULL;

  if (size == 0)
    return 0;
  args = fuzz_variant_new (fuzz_pick_type (data[0], types, G_N_ELEMENTS (types)),
                           data + 1, size - 1);
  if (!g_variant_is_of_type (args, G_VARIANT_TYPE ("(sa{sv}as)")))
    {
      /* GDBus drops a PropertiesChanged of another signature before the
       * library sees it; the conversions still refuse it whole. */
      fuzz_check (!bleio_scan_is_advert_change (args) ||
                  g_variant_is_of_type (args, G_VARIANT_TYPE_VARDICT),
                  "only a dict is an advertisement change");
      return 0;
    }
  g_variant_get (args, "(&s@a{sv}^a&s)", &interface, &changed, &invalidated);

  /* What the event handlers look at in the changed dict itself. */
  (void) bleio_scan_is_advert_change (changed);
  {
    g_autoptr(GVariant) connected = g_variant_lookup_value (changed, "Connected", NULL);
    g_autoptr(GVariant) value = g_variant_lookup_value (changed, "Value", G_VARIANT_TYPE_BYTESTRING);

    (void) bleio_boolean_from_bluez_value (connected, FALSE);
    if (value != NULL)
      {
        gsize len = 0;
        const guint8 *bytes = g_variant_get_fixed_array (value, &len, 1);
        g_autoptr(GBytes) copy = g_bytes_new (bytes, len);

        fuzz_check (g_bytes_get_size (copy) == len, "the Value is copied whole");
      }
  }

  if (g_str_equal (interface, "org.bluez.Device1"))
    {
      BleioScanEntry *entry;

      cached = cached_device ();
      merged = apply (cached, changed, invalidated);
      entry = bleio_scan_entry_new_from_bluez (merged, "/org/bluez/hci0", G_MININT, NULL);
      if (entry != NULL)
        {
          gsize len = 0;
          const guint8 *adv = g_bytes_get_data (bleio_scan_entry_get_advertisement_bytes (entry), &len);

          fuzz_check (bleio_ad_validate (adv, len, NULL), "the entry's advertisement is well-formed");
          bleio_scan_entry_unref (entry);
        }
    }
  else
    {
      g_autoptr(GVariant) flags = NULL;
      g_autoptr(GVariant) mtu = NULL;
      g_autoptr(GVariant) uuid = NULL;
      g_autoptr(BleioUuid) parsed = NULL;

      cached = g_variant_ref_sink (g_variant_new_parsed ("{'UUID': <'00002a37-0000-1000-8000-00805f9b34fb'>, "
                                                         "'Flags': <['notify']>, 'MTU': <@q 517>}"));
      merged = apply (cached, changed, invalidated);
      flags = g_variant_lookup_value (merged, "Flags", NULL);
      mtu = g_variant_lookup_value (merged, "MTU", NULL);
      uuid = g_variant_lookup_value (merged, "UUID", NULL);
      parsed = bleio_uuid_from_bluez_value (uuid);
      fuzz_check (parsed == NULL || uuid != NULL, "a UUID comes from the UUID property");
      (void) bleio_properties_from_bluez_value (flags);
      (void) bleio_mtu_from_bluez_value (mtu, 23);
    }
  return 0;
}
