/* SPDX-License-Identifier: MIT */
/*
 * The advertisement codec: walking AD structures, matching scan prefixes,
 * and rebuilding advertisement bytes from the fields BlueZ parsed.
 */
#include "bleio-ad-private.h"

#include <string.h>

/* The payload of one AD structure: its length byte counts the type too. */
#define MAX_PAYLOAD 254
/* The most AD data one advertisement can carry: an extended advertising
 * set holds up to 1650 bytes of advertising or scan response data (Core
 * Vol 4 Part E 7.8.57; a scannable extended advertisement carries its data
 * in the scan response alone), a legacy one 31 of each. BlueZ does not
 * say which kind it heard, so a rebuild is bounded by the larger. */
#define MAX_ADVERTISEMENT 1650

G_STATIC_ASSERT (sizeof (BleioAdIter) >= 4 * sizeof (gpointer));

void
bleio_ad_iter_init (BleioAdIter  *iter,
                    const guint8 *data,
                    gsize         len)
{
  g_return_if_fail (iter != NULL);

  /* Cleared first, so that a refused call leaves an iterator that is at
   * its end rather than one full of stack garbage. */
  memset (iter, 0, sizeof *iter);
  g_return_if_fail (data != NULL || len == 0);
  iter->_data = data;
  iter->_len = len;
}

gboolean
bleio_ad_iter_next (BleioAdIter    *iter,
                    guint8         *type,
                    const guint8  **payload,
                    gsize          *payload_len,
                    GError        **error)
{
  gsize pos, field_len;

  g_return_val_if_fail (iter != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (iter->_done || iter->_pos >= iter->_len)
    {
      iter->_done = TRUE;
      return FALSE;
    }

  pos = iter->_pos;
  field_len = iter->_data[pos];
  if (field_len == 0)
    {
      /* Early termination: the rest is padding. */
      iter->_done = TRUE;
      return FALSE;
    }

  /* pos < _len, so _len - pos - 1 cannot wrap. */
  if (field_len > iter->_len - pos - 1)
    {
      iter->_done = TRUE;
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_VALUE,
                   "Malformed advertising data: the structure at offset %"
                   G_GSIZE_FORMAT " claims %" G_GSIZE_FORMAT " bytes but only %"
                   G_GSIZE_FORMAT " follow", pos, field_len,
                   iter->_len - pos - 1);
      return FALSE;
    }

  if (type != NULL)
    *type = iter->_data[pos + 1];
  if (payload != NULL)
    *payload = iter->_data + pos + 2;
  if (payload_len != NULL)
    *payload_len = field_len - 1;
  iter->_pos = pos + 1 + field_len;
  return TRUE;
}

gboolean
bleio_ad_validate (const guint8 *data,
                   gsize         len,
                   GError      **error)
{
  BleioAdIter iter;
  GError *local_error = NULL;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  bleio_ad_iter_init (&iter, data, len);
  while (bleio_ad_iter_next (&iter, NULL, NULL, NULL, &local_error))
    ;
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  return TRUE;
}

/* Whether some well-formed structure of @adv starts with @type + @data. */
static gboolean
adv_has_prefix (const guint8 *adv,
                gsize         adv_len,
                guint8        type,
                const guint8 *data,
                gsize         data_len)
{
  BleioAdIter iter;
  guint8 t;
  const guint8 *payload;
  gsize payload_len;

  bleio_ad_iter_init (&iter, adv, adv_len);
  /* A malformed tail ends the walk; its error is of no interest here. */
  while (bleio_ad_iter_next (&iter, &t, &payload, &payload_len, NULL))
    {
      if (t == type && payload_len >= data_len
          && (data_len == 0 || memcmp (payload, data, data_len) == 0))
        return TRUE;
    }
  return FALSE;
}

gboolean
bleio_ad_matches (const guint8 *adv,
                  gsize         adv_len,
                  const guint8 *prefixes,
                  gsize         prefixes_len,
                  gboolean      match_all)
{
  BleioAdIter iter;
  guint8 type;
  const guint8 *data;
  gsize data_len;
  gboolean any_prefix = FALSE;

  g_return_val_if_fail (adv != NULL || adv_len == 0, FALSE);
  g_return_val_if_fail (prefixes != NULL || prefixes_len == 0, FALSE);

  if (!bleio_ad_validate (prefixes, prefixes_len, NULL))
    return FALSE;

  bleio_ad_iter_init (&iter, prefixes, prefixes_len);
  while (bleio_ad_iter_next (&iter, &type, &data, &data_len, NULL))
    {
      gboolean found = adv_has_prefix (adv, adv_len, type, data, data_len);

      any_prefix = TRUE;
      if (found && !match_all)
        return TRUE;
      if (!found && match_all)
        return FALSE;
    }

  /* No prefix at all matches everything; otherwise we got here because
   * every prefix matched (match_all) or none did (match any). */
  return !any_prefix || match_all;
}

/* Building. */

/* Appends one structure, or leaves it out when it would take the
 * advertisement past MAX_ADVERTISEMENT: what BlueZ accumulated beyond what
 * the air can carry is not what the peer advertised. The structures after
 * it still go in when they fit. */
static void
append_structure (GByteArray   *out,
                  guint8        type,
                  const guint8 *payload,
                  gsize         payload_len)
{
  guint8 header[2];

  g_assert (payload_len <= MAX_PAYLOAD);
  if (out->len + 2 + payload_len > MAX_ADVERTISEMENT)
    return;
  header[0] = (guint8) (payload_len + 1);
  header[1] = type;
  g_byte_array_append (out, header, 2);
  if (payload_len > 0)
    g_byte_array_append (out, payload, (guint) payload_len);
}

/* Looks up @key in @props and returns it only when it has @type. */
static GVariant *
lookup_typed (const BleioPropIndex *props,
              const char           *key,
              const GVariantType   *type)
{
  return bleio_prop_index_lookup (props, key, type);
}

/* The bytes of a byte-array variant, or NULL when it is of another type. */
static const guint8 *
variant_bytes (GVariant *value,
               gsize    *len)
{
  const guint8 *data;

  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_BYTESTRING))
    return NULL;
  data = g_variant_get_fixed_array (value, len, 1);
  /* An empty array gives NULL; callers tell "no bytes" from "wrong type". */
  return data != NULL ? data : (const guint8 *) "";
}

typedef struct {
  GByteArray *bytes;
  guint8 type;
  guint8 unit;    /* bytes per UUID */
} UuidList;

static void
uuid_list_add (GByteArray   *out,
               UuidList     *list,
               const guint8 *uuid_le)
{
  if (list->bytes->len + list->unit > MAX_PAYLOAD)
    {
      append_structure (out, list->type, list->bytes->data, list->bytes->len);
      g_byte_array_set_size (list->bytes, 0);
    }
  g_byte_array_append (list->bytes, uuid_le, list->unit);
}

/* Sorts a UUID into its AD size: 2 bytes (on the base), 4 bytes (on the
 * base, upper bits set) or 16 bytes; writes its little-endian bytes. */
static guint
uuid_ad_bytes (const BleioUuid *uuid,
               guint8           out[16])
{
  static const guint8 base_low[12] = {
    0xfb, 0x34, 0x9b, 0x5f, 0x80, 0x00, 0x00, 0x80, 0x00, 0x10, 0x00, 0x00,
  };
  guint8 full[16];

  if (bleio_uuid_get_size (uuid) == 16)
    {
      guint16 v = bleio_uuid_get_uuid16 (uuid);

      out[0] = v & 0xff;
      out[1] = v >> 8;
      return 2;
    }

  bleio_uuid_get_uuid128 (uuid, full);
  if (memcmp (full, base_low, sizeof base_low) == 0)
    {
      memcpy (out, full + 12, 4);
      return 4;
    }
  memcpy (out, full, 16);
  return 16;
}

static void
add_uuids (GByteArray           *out,
           const BleioPropIndex *props,
           guint8               *emitted)
{
  g_autoptr(GVariant) uuids = lookup_typed (props, "UUIDs", G_VARIANT_TYPE_STRING_ARRAY);
  g_autoptr(GByteArray) b16 = g_byte_array_new ();
  g_autoptr(GByteArray) b32 = g_byte_array_new ();
  g_autoptr(GByteArray) b128 = g_byte_array_new ();
  UuidList lists[] = {
    { b16, BLEIO_AD_TYPE_UUID16_COMPLETE, 2 },
    { b32, BLEIO_AD_TYPE_UUID32_COMPLETE, 4 },
    { b128, BLEIO_AD_TYPE_UUID128_COMPLETE, 16 },
  };
  GVariantIter iter;
  const char *str;

  if (uuids == NULL)
    return;

  g_variant_iter_init (&iter, uuids);
  while (g_variant_iter_next (&iter, "&s", &str))
    {
      g_autoptr(BleioUuid) uuid = bleio_uuid_new_from_string (str, NULL);
      guint8 le[16];
      guint n;

      if (uuid == NULL)
        continue;
      n = uuid_ad_bytes (uuid, le);
      uuid_list_add (out, &lists[n == 2 ? 0 : n == 4 ? 1 : 2], le);
    }

  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    if (lists[i].bytes->len > 0)
      {
        append_structure (out, lists[i].type, lists[i].bytes->data,
                          lists[i].bytes->len);
        emitted[lists[i].type] = TRUE;
      }
}

static void
add_name (GByteArray           *out,
          const BleioPropIndex *props,
          guint8               *emitted)
{
  g_autoptr(GVariant) name = lookup_typed (props, "Name", G_VARIANT_TYPE_STRING);
  const char *s;
  gsize len;

  if (name == NULL)
    return;
  s = g_variant_get_string (name, &len);
  if (len == 0)
    return;

  if (len <= MAX_PAYLOAD)
    {
      append_structure (out, BLEIO_AD_TYPE_COMPLETE_NAME, (const guint8 *) s, len);
      emitted[BLEIO_AD_TYPE_COMPLETE_NAME] = TRUE;
      return;
    }

  /* Cut before the character that straddles the limit. GVariant strings
   * are valid UTF-8, so stepping back over continuation bytes is enough. */
  len = MAX_PAYLOAD;
  while (len > 0 && ((guint8) s[len] & 0xc0) == 0x80)
    len--;
  append_structure (out, BLEIO_AD_TYPE_SHORT_NAME, (const guint8 *) s, len);
  emitted[BLEIO_AD_TYPE_SHORT_NAME] = TRUE;
}

static void
add_service_data (GByteArray           *out,
                  const BleioPropIndex *props,
                  guint8               *emitted)
{
  g_autoptr(GVariant) dict = lookup_typed (props, "ServiceData", G_VARIANT_TYPE_VARDICT);
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (dict == NULL)
    return;

  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      g_autoptr(BleioUuid) uuid = bleio_uuid_new_from_string (key, NULL);
      guint8 payload[MAX_PAYLOAD];
      const guint8 *data;
      gsize data_len;
      guint n;
      guint8 type;

      if (uuid == NULL || (data = variant_bytes (value, &data_len)) == NULL)
        continue;

      n = uuid_ad_bytes (uuid, payload);
      type = n == 2 ? BLEIO_AD_TYPE_SERVICE_DATA_UUID16
             : n == 4 ? BLEIO_AD_TYPE_SERVICE_DATA_UUID32
             : BLEIO_AD_TYPE_SERVICE_DATA_UUID128;
      data_len = MIN (data_len, (gsize) (MAX_PAYLOAD - n));
      if (data_len > 0)
        memcpy (payload + n, data, data_len);
      append_structure (out, type, payload, n + data_len);
      emitted[type] = TRUE;
    }
}

static void
add_manufacturer_data (GByteArray           *out,
                       const BleioPropIndex *props,
                       guint8               *emitted)
{
  g_autoptr(GVariant) dict = lookup_typed (props, "ManufacturerData", G_VARIANT_TYPE ("a{qv}"));
  GVariantIter iter;
  guint16 company;
  GVariant *value;

  if (dict == NULL)
    return;

  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_loop (&iter, "{qv}", &company, &value))
    {
      guint8 payload[MAX_PAYLOAD];
      const guint8 *data;
      gsize data_len;

      if ((data = variant_bytes (value, &data_len)) == NULL)
        continue;
      payload[0] = company & 0xff;
      payload[1] = company >> 8;
      data_len = MIN (data_len, (gsize) (MAX_PAYLOAD - 2));
      if (data_len > 0)
        memcpy (payload + 2, data, data_len);
      append_structure (out, BLEIO_AD_TYPE_MANUFACTURER_DATA, payload, 2 + data_len);
      emitted[BLEIO_AD_TYPE_MANUFACTURER_DATA] = TRUE;
    }
}

static void
add_raw_data (GByteArray           *out,
              const BleioPropIndex *props,
              const guint8         *emitted)
{
  g_autoptr(GVariant) dict = lookup_typed (props, "AdvertisingData", G_VARIANT_TYPE ("a{yv}"));
  GVariantIter iter;
  guint8 type;
  GVariant *value;

  if (dict == NULL)
    return;

  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_loop (&iter, "{yv}", &type, &value))
    {
      const guint8 *data;
      gsize data_len;

      if (emitted[type] || (data = variant_bytes (value, &data_len)) == NULL)
        continue;
      append_structure (out, type, data, MIN (data_len, (gsize) MAX_PAYLOAD));
    }
}

void
bleio_ad_drop_service_data_uuids (BleioPropIndex *props)
{
  g_autoptr(GVariant) uuids = lookup_typed (props, "UUIDs", G_VARIANT_TYPE_STRING_ARRAY);
  g_autoptr(GVariant) data = lookup_typed (props, "ServiceData", G_VARIANT_TYPE_VARDICT);
  g_autoptr(GHashTable) keys = NULL;
  GVariantBuilder kept;
  GVariantIter iter;
  const char *str;
  gboolean dropped = FALSE;

  if (uuids == NULL || data == NULL || g_variant_n_children (data) == 0)
    return;
  keys = g_hash_table_new_full (bleio_uuid_hash, bleio_uuid_equal,
                                (GDestroyNotify) bleio_uuid_free, NULL);
  g_variant_iter_init (&iter, data);
  while (g_variant_iter_next (&iter, "{&sv}", &str, NULL))
    {
      BleioUuid *uuid = bleio_uuid_new_from_string (str, NULL);

      if (uuid != NULL)
        g_hash_table_add (keys, uuid);
    }

  g_variant_builder_init (&kept, G_VARIANT_TYPE_STRING_ARRAY);
  g_variant_iter_init (&iter, uuids);
  while (g_variant_iter_next (&iter, "&s", &str))
    {
      g_autoptr(BleioUuid) uuid = bleio_uuid_new_from_string (str, NULL);

      if (uuid != NULL && g_hash_table_contains (keys, uuid))
        dropped = TRUE;
      else
        g_variant_builder_add (&kept, "s", str);
    }
  if (dropped)
    {
      g_autoptr(GVariant) value = g_variant_ref_sink (g_variant_builder_end (&kept));

      bleio_prop_index_replace (props, "UUIDs", value);
    }
  else
    g_variant_builder_clear (&kept);
}

GBytes *
bleio_ad_build_from_index (const BleioPropIndex *props)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GVariant) field = NULL;
  guint8 emitted[256] = { 0 };

  field = lookup_typed (props, "AdvertisingFlags", G_VARIANT_TYPE_BYTESTRING);
  if (field != NULL && g_variant_n_children (field) > 0)
    {
      gsize len;
      const guint8 *flags = g_variant_get_fixed_array (field, &len, 1);

      append_structure (out, BLEIO_AD_TYPE_FLAGS, flags, MIN (len, (gsize) MAX_PAYLOAD));
      emitted[BLEIO_AD_TYPE_FLAGS] = TRUE;
    }
  g_clear_pointer (&field, g_variant_unref);

  add_uuids (out, props, emitted);
  add_name (out, props, emitted);

  field = lookup_typed (props, "TxPower", G_VARIANT_TYPE_INT16);
  if (field != NULL)
    {
      gint16 power = CLAMP (g_variant_get_int16 (field), G_MININT8, G_MAXINT8);
      guint8 b = (guint8) (gint8) power;

      append_structure (out, BLEIO_AD_TYPE_TX_POWER, &b, 1);
      emitted[BLEIO_AD_TYPE_TX_POWER] = TRUE;
    }
  g_clear_pointer (&field, g_variant_unref);

  field = lookup_typed (props, "Appearance", G_VARIANT_TYPE_UINT16);
  if (field != NULL)
    {
      guint16 appearance = g_variant_get_uint16 (field);
      guint8 b[2] = { appearance & 0xff, appearance >> 8 };

      append_structure (out, BLEIO_AD_TYPE_APPEARANCE, b, 2);
      emitted[BLEIO_AD_TYPE_APPEARANCE] = TRUE;
    }
  g_clear_pointer (&field, g_variant_unref);

  add_service_data (out, props, emitted);
  add_manufacturer_data (out, props, emitted);
  add_raw_data (out, props, emitted);

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

GBytes *
bleio_ad_build_from_bluez (GVariant *device_properties,
                           GError  **error)
{
  static const char * const keys[] = {
    "AdvertisingFlags", "UUIDs", "Name", "TxPower", "Appearance", "ServiceData",
    "ManufacturerData", "AdvertisingData",
  };
  BleioPropIndex props;
  GBytes *bytes;

  g_return_val_if_fail (device_properties != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_variant_is_of_type (device_properties, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "Device properties must be of type a{sv}, not %s",
                   g_variant_get_type_string (device_properties));
      return NULL;
    }

  bleio_prop_index_init (&props, device_properties, keys, G_N_ELEMENTS (keys));
  bytes = bleio_ad_build_from_index (&props);
  bleio_prop_index_clear (&props);
  return bytes;
}
