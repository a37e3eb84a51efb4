/* SPDX-License-Identifier: MIT */
/*
 * Raw AD structures into LEAdvertisement1 properties. bluetoothd 5.66 does
 * not take advertising bytes: it takes fields (ServiceUUIDs, LocalName,
 * ...) and a `Data` dictionary for the AD types it has no field for, and
 * builds the PDU itself (src/advertising.c, src/shared/ad.c). So each
 * structure is mapped to the field that carries it, and a structure that no
 * field carries and that `Data` refuses is NOT_SUPPORTED here, before
 * anything reaches the bus: bluetoothd would otherwise answer only "Failed
 * to parse advertisement." without saying which.
 */
#include "bleio-ad-translate-private.h"

#include <math.h>
#include <string.h>

/* `_bleio` accepts intervals from 20 ms to 10.24 s. */
#define MIN_INTERVAL 0.02
#define MAX_INTERVAL 10.24
/* The range bluetoothd 5.66 accepts for TxPower (Core 5.2, Vol 4, Part E). */
#define MIN_TX_POWER (-127)
#define MAX_TX_POWER 20

void
bleio_advertising_caps_init (BleioAdvertisingCaps *caps)
{
  memset (caps, 0, sizeof *caps);
  caps->max_adv_len = BLEIO_AD_LEGACY_MAX;
  caps->max_scan_rsp_len = BLEIO_AD_LEGACY_MAX;
}

void
bleio_advertising_caps_from_manager (BleioAdvertisingCaps *caps,
                                     GVariant             *props)
{
  g_autoptr(GVariant) includes = NULL;
  g_autoptr(GVariant) channels = NULL;
  g_autoptr(GVariant) capabilities = NULL;

  bleio_advertising_caps_init (caps);
  if (props == NULL || !g_variant_is_of_type (props, G_VARIANT_TYPE_VARDICT))
    return;
  includes = g_variant_lookup_value (props, "SupportedIncludes", G_VARIANT_TYPE_STRING_ARRAY);
  if (includes != NULL)
    {
      g_autofree const char **names = g_variant_get_strv (includes, NULL);

      caps->include_tx_power = g_strv_contains (names, "tx-power");
    }
  channels = g_variant_lookup_value (props, "SupportedSecondaryChannels",
                                     G_VARIANT_TYPE_STRING_ARRAY);
  caps->extended = channels != NULL && g_variant_n_children (channels) > 0;
  capabilities = g_variant_lookup_value (props, "SupportedCapabilities", G_VARIANT_TYPE_VARDICT);
  if (capabilities != NULL)
    {
      guint8 len;
      gint16 power;

      caps->experimental = TRUE;
      if (g_variant_lookup (capabilities, "MaxAdvLen", "y", &len))
        caps->max_adv_len = len;
      if (g_variant_lookup (capabilities, "MaxScnRspLen", "y", &len))
        caps->max_scan_rsp_len = len;
      if (g_variant_lookup (capabilities, "MinTxPower", "n", &power))
        {
          caps->min_tx_power = power;
          if (g_variant_lookup (capabilities, "MaxTxPower", "n", &power))
            {
              caps->max_tx_power = power;
              caps->has_tx_power_range = TRUE;
            }
        }
    }
}

/* The AD types bluetoothd 5.66 refuses in `Data` (type_reject_list in
 * src/shared/ad.c): those it builds itself, and those it will not let an
 * application send. */
static const guint8 data_refused[] = {
  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0d, 0x0e,
  0x0f, 0x10, 0x11, 0x12, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
  0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x27, 0x28, 0x29, 0x2a,
  0x2b, 0x3d, 0xff,
};

static gboolean
data_accepts (guint8 type)
{
  /* Beyond 0x3d only manufacturer data is a type bluetoothd knows, and
   * that one has its own field. */
  if (type == 0x00 || (type > 0x3d && type != 0xff))
    return FALSE;
  return memchr (data_refused, type, sizeof data_refused) == NULL;
}

typedef struct {
  const char *which;            /* "data" or "scan_response" */
  guint index;
  guint8 type;
} Where;

static void G_GNUC_PRINTF (4, 5)
fail (GError     **error,
      int          code,
      const Where *where,
      const char  *format,
      ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, BLEIO_ERROR, code, "AD structure %u of %s (type 0x%02x): %s",
               where->index, where->which, where->type, what);
}

/* The UUID of @len bytes (2, 4 or 16, little-endian as on air) as the
 * string bluetoothd parses back into a UUID of the same size. */
static char *
uuid_string (const guint8 *p,
             gsize         len)
{
  if (len == 2)
    return g_strdup_printf ("%04x", p[0] | (p[1] << 8));
  if (len == 4)
    return g_strdup_printf ("%08x", (guint32) p[0] | ((guint32) p[1] << 8) |
                                    ((guint32) p[2] << 16) | ((guint32) p[3] << 24));
  return g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                          "%02x%02x%02x%02x%02x%02x",
                          p[15], p[14], p[13], p[12], p[11], p[10], p[9], p[8],
                          p[7], p[6], p[5], p[4], p[3], p[2], p[1], p[0]);
}

typedef struct {
  GPtrArray *service_uuids;     /* char*, in order, no repeats */
  GPtrArray *solicit_uuids;
  GVariantDict service_data;
  GHashTable *manufacturer_ids; /* id -> GBytes */
  GHashTable *data;             /* type -> GBytes */
  char *name;
  gboolean has_flags;
  guint8 flags;
  gboolean has_appearance;
  guint16 appearance;
  gboolean tx_power;
} Fields;

static void
fields_clear (Fields *f)
{
  g_ptr_array_unref (f->service_uuids);
  g_ptr_array_unref (f->solicit_uuids);
  g_variant_dict_clear (&f->service_data);
  g_hash_table_unref (f->manufacturer_ids);
  g_hash_table_unref (f->data);
  g_free (f->name);
}

static void
add_uuids (GPtrArray    *list,
           const guint8 *p,
           gsize         len,
           gsize         size)
{
  for (gsize i = 0; i + size <= len; i += size)
    {
      g_autofree char *uuid = uuid_string (p + i, size);

      if (!g_ptr_array_find_with_equal_func (list, uuid, g_str_equal, NULL))
        g_ptr_array_add (list, g_steal_pointer (&uuid));
    }
}

static gboolean
add_structure (Fields                     *f,
               const BleioAdvertisingSettings *settings,
               const Where                *where,
               const guint8               *p,
               gsize                       len,
               GError                    **error)
{
  gsize uuid_size = 0;

  if (len == 0 && where->type != BLEIO_AD_TYPE_SHORT_NAME &&
      where->type != BLEIO_AD_TYPE_COMPLETE_NAME)
    {
      fail (error, BLEIO_ERROR_INVALID_ARGUMENT, where, "it holds no data");
      return FALSE;
    }
  switch (where->type)
    {
    case BLEIO_AD_TYPE_FLAGS:
      if (f->has_flags || len != 1)
        {
          fail (error, BLEIO_ERROR_INVALID_ARGUMENT, where,
                f->has_flags ? "a second Flags structure" : "Flags are one byte");
          return FALSE;
        }
      if (p[0] & 0x01)
        {
          fail (error, BLEIO_ERROR_NOT_SUPPORTED, where,
                "BlueZ sets LE Limited Discoverable only from DiscoverableTimeout; "
                "ask for General Discoverable (0x02) instead");
          return FALSE;
        }
      if ((p[0] & 0x02) && !settings->connectable)
        {
          fail (error, BLEIO_ERROR_INVALID_ARGUMENT, where,
                "a non-connectable (broadcast) advertisement must not be discoverable");
          return FALSE;
        }
      f->has_flags = TRUE;
      f->flags = p[0];
      return TRUE;
    case BLEIO_AD_TYPE_UUID16_INCOMPLETE:
    case BLEIO_AD_TYPE_UUID16_COMPLETE:
    case 0x14:
      uuid_size = 2;
      break;
    case BLEIO_AD_TYPE_UUID32_INCOMPLETE:
    case BLEIO_AD_TYPE_UUID32_COMPLETE:
    case 0x1f:
      uuid_size = 4;
      break;
    case BLEIO_AD_TYPE_UUID128_INCOMPLETE:
    case BLEIO_AD_TYPE_UUID128_COMPLETE:
    case 0x15:
      uuid_size = 16;
      break;
    case BLEIO_AD_TYPE_SHORT_NAME:
    case BLEIO_AD_TYPE_COMPLETE_NAME:
      if (f->name != NULL)
        {
          fail (error, BLEIO_ERROR_INVALID_ARGUMENT, where,
                "a second local name; BlueZ sends one LocalName");
          return FALSE;
        }
      if (len == 0 || !g_utf8_validate ((const char *) p, len, NULL) ||
          memchr (p, 0, len) != NULL)
        {
          fail (error, BLEIO_ERROR_INVALID_ARGUMENT, where,
                "the local name must be non-empty UTF-8 without NUL bytes");
          return FALSE;
        }
      f->name = g_strndup ((const char *) p, len);
      return TRUE;
    case BLEIO_AD_TYPE_TX_POWER:
      if (f->tx_power || len != 1)
        {
          fail (error, BLEIO_ERROR_INVALID_ARGUMENT, where,
                f->tx_power ? "a second TX power level" : "the TX power level is one byte");
          return FALSE;
        }
      f->tx_power = TRUE;
      return TRUE;
    case BLEIO_AD_TYPE_APPEARANCE:
      if (f->has_appearance || len != 2)
        {
          fail (error, BLEIO_ERROR_INVALID_ARGUMENT, where,
                f->has_appearance ? "a second Appearance" : "Appearance is two bytes");
          return FALSE;
        }
      f->has_appearance = TRUE;
      f->appearance = p[0] | (p[1] << 8);
      return TRUE;
    case BLEIO_AD_TYPE_SERVICE_DATA_UUID16:
    case BLEIO_AD_TYPE_SERVICE_DATA_UUID32:
    case BLEIO_AD_TYPE_SERVICE_DATA_UUID128:
      {
        gsize size = where->type == BLEIO_AD_TYPE_SERVICE_DATA_UUID16 ? 2 :
                     where->type == BLEIO_AD_TYPE_SERVICE_DATA_UUID32 ? 4 : 16;
        g_autofree char *uuid = NULL;

        if (len < size)
          {
            fail (error, BLEIO_ERROR_INVALID_ARGUMENT, where,
                  "service data shorter than its %u-byte UUID", (guint) size);
            return FALSE;
          }
        if (len == size)
          {
            fail (error, BLEIO_ERROR_NOT_SUPPORTED, where,
                  "bluetoothd 5.66 refuses service data without bytes after the UUID");
            return FALSE;
          }
        uuid = uuid_string (p, size);
        if (g_variant_dict_contains (&f->service_data, uuid))
          {
            fail (error, BLEIO_ERROR_INVALID_ARGUMENT, where,
                  "a second service data for UUID %s", uuid);
            return FALSE;
          }
        g_variant_dict_insert_value (&f->service_data, uuid,
                                     g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                p + size, len - size, 1));
        return TRUE;
      }
    case BLEIO_AD_TYPE_MANUFACTURER_DATA:
      {
        guint16 id;

        if (len < 2)
          {
            fail (error, BLEIO_ERROR_INVALID_ARGUMENT, where,
                  "manufacturer data shorter than its 2-byte company identifier");
            return FALSE;
          }
        if (len == 2)
          {
            fail (error, BLEIO_ERROR_NOT_SUPPORTED, where,
                  "bluetoothd 5.66 refuses manufacturer data without bytes after the "
                  "company identifier");
            return FALSE;
          }
        id = p[0] | (p[1] << 8);
        if (g_hash_table_contains (f->manufacturer_ids, GUINT_TO_POINTER (id)))
          {
            fail (error, BLEIO_ERROR_INVALID_ARGUMENT, where,
                  "a second manufacturer data for company 0x%04x", id);
            return FALSE;
          }
        g_hash_table_insert (f->manufacturer_ids, GUINT_TO_POINTER (id),
                             g_bytes_new (p + 2, len - 2));
        return TRUE;
      }
    default:
      if (!data_accepts (where->type))
        {
          fail (error, BLEIO_ERROR_NOT_SUPPORTED, where,
                "bluetoothd has no LEAdvertisement1 property for this type and "
                "refuses it in Data");
          return FALSE;
        }
      if (g_hash_table_contains (f->data, GUINT_TO_POINTER (where->type)))
        {
          fail (error, BLEIO_ERROR_INVALID_ARGUMENT, where,
                "a second structure of this type; bluetoothd keeps one per type in Data");
          return FALSE;
        }
      g_hash_table_insert (f->data, GUINT_TO_POINTER (where->type), g_bytes_new (p, len));
      return TRUE;
    }

  if (len % uuid_size != 0)
    {
      fail (error, BLEIO_ERROR_INVALID_ARGUMENT, where,
            "%" G_GSIZE_FORMAT " bytes is not a whole number of %u-byte UUIDs",
            len, (guint) uuid_size);
      return FALSE;
    }
  add_uuids (where->type >= 0x14 ? f->solicit_uuids : f->service_uuids, p, len, uuid_size);
  return TRUE;
}

static gboolean
walk (Fields                         *f,
      const BleioAdvertisingSettings *settings,
      const char                     *which,
      gboolean                        scan_response,
      const guint8                   *bytes,
      gsize                           n,
      GError                        **error)
{
  Where where = { which, 0, 0 };
  gsize pos = 0;

  /* Walked here rather than with BleioAdIter, which takes a zero length
   * byte as the start of padding: an application's advertisement has no
   * padding, so a zero length is an error that must name its structure. */
  for (; pos < n; where.index++)
    {
      gsize field_len = bytes[pos];

      where.type = pos + 1 < n ? bytes[pos + 1] : 0;
      if (field_len == 0)
        {
          g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                       "AD structure %u of %s (at byte %" G_GSIZE_FORMAT "): "
                       "its length byte is 0", where.index, which, pos);
          return FALSE;
        }
      if (field_len > n - pos - 1)
        {
          g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                       "AD structure %u of %s (at byte %" G_GSIZE_FORMAT "): "
                       "its length %" G_GSIZE_FORMAT " runs past the end of the "
                       "data (%" G_GSIZE_FORMAT " bytes follow)",
                       where.index, which, pos, field_len, n - pos - 1);
          return FALSE;
        }
      if (scan_response &&
          where.type != BLEIO_AD_TYPE_SHORT_NAME && where.type != BLEIO_AD_TYPE_COMPLETE_NAME)
        {
          fail (error, BLEIO_ERROR_NOT_SUPPORTED, &where,
                "BlueZ's LEAdvertisement1 puts only the local name in the scan "
                "response; move this structure to the advertising data");
          return FALSE;
        }
      if (!add_structure (f, settings, &where, bytes + pos + 2, field_len - 1, error))
        return FALSE;
      pos += 1 + field_len;
    }
  return TRUE;
}

static gboolean
check_length (const char                 *which,
              gsize                       len,
              guint                       max,
              const BleioAdvertisingCaps *caps,
              gboolean                   *extended,
              GError                    **error)
{
  if (len <= BLEIO_AD_LEGACY_MAX)
    return TRUE;
  if (!caps->extended)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                   "%s is %" G_GSIZE_FORMAT " bytes, more than the %d of a legacy "
                   "advertisement, and this controller cannot send extended "
                   "advertisements (LEAdvertisingManager1 lists no "
                   "SupportedSecondaryChannels); shorten it",
                   which, len, BLEIO_AD_LEGACY_MAX);
      return FALSE;
    }
  if (len > max)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                   "%s is %" G_GSIZE_FORMAT " bytes; this adapter sends at most %u; "
                   "shorten it", which, len, max);
      return FALSE;
    }
  *extended = TRUE;
  return TRUE;
}

static gboolean
check_settings (const BleioAdvertisingSettings *s,
                const BleioAdvertisingCaps     *caps,
                GError                        **error)
{
  if (s->anonymous)
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                           "anonymous advertising is not supported: BlueZ has no "
                           "per-advertisement random address; turn on Privacy in "
                           "bluetoothd's main.conf for a resolvable private address");
      return FALSE;
    }
  if (s->directed)
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                           "directed advertising (directed_to) is not supported: "
                           "BlueZ's LEAdvertisement1 has no way to ask for it");
      return FALSE;
    }
  if (s->timeout > G_MAXUINT16)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "advertising timeout %u s is too long: BlueZ takes at most %u s "
                   "(0 advertises until stopped)", s->timeout, G_MAXUINT16);
      return FALSE;
    }
  if (isnan (s->interval) || (s->interval != 0 &&
                              (s->interval < MIN_INTERVAL || s->interval > MAX_INTERVAL)))
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "advertising interval %g s is out of range: give 0 (bluetoothd's "
                   "choice) or %g to %g s", s->interval, MIN_INTERVAL, MAX_INTERVAL);
      return FALSE;
    }
  if (s->interval != 0 && !caps->experimental)
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                           "an advertising interval needs bluetoothd's experimental "
                           "MinInterval/MaxInterval (start bluetoothd with -E); "
                           "pass 0 to let bluetoothd choose");
      return FALSE;
    }
  if (s->tx_power != 0 && (s->tx_power < MIN_TX_POWER || s->tx_power > MAX_TX_POWER))
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "advertising TX power %d dBm is out of range: give %d to %d dBm, "
                   "or 0 for no preference", s->tx_power, MIN_TX_POWER, MAX_TX_POWER);
      return FALSE;
    }
  if (s->tx_power != 0 && (!caps->experimental || !caps->has_tx_power_range))
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                           "an advertising TX power needs bluetoothd's experimental "
                           "TxPower and a controller that reports its range (start "
                           "bluetoothd with -E); pass 0 for no preference");
      return FALSE;
    }
  if (s->tx_power != 0 && (s->tx_power < caps->min_tx_power || s->tx_power > caps->max_tx_power))
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "advertising TX power %d dBm is outside this controller's range "
                   "%d to %d dBm", s->tx_power, caps->min_tx_power, caps->max_tx_power);
      return FALSE;
    }
  return TRUE;
}

static GVariant *
uuid_list (GPtrArray *list)
{
  g_ptr_array_add (list, NULL);
  return g_variant_new_strv ((const char * const *) list->pdata, list->len - 1);
}

static GVariant *
build (Fields                         *f,
       const BleioAdvertisingSettings *s,
       gboolean                        extended)
{
  GVariantBuilder props;
  GHashTableIter iter;
  gpointer key, value;

  g_variant_builder_init (&props, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&props, "{sv}", "Type",
                         g_variant_new_string (s->connectable ? "peripheral" : "broadcast"));
  if (f->service_uuids->len > 0)
    g_variant_builder_add (&props, "{sv}", "ServiceUUIDs", uuid_list (f->service_uuids));
  if (f->solicit_uuids->len > 0)
    g_variant_builder_add (&props, "{sv}", "SolicitUUIDs", uuid_list (f->solicit_uuids));
  if (g_hash_table_size (f->manufacturer_ids) > 0)
    {
      GVariantBuilder m;

      g_variant_builder_init (&m, G_VARIANT_TYPE ("a{qv}"));
      g_hash_table_iter_init (&iter, f->manufacturer_ids);
      while (g_hash_table_iter_next (&iter, &key, &value))
        g_variant_builder_add (&m, "{qv}", (guint16) GPOINTER_TO_UINT (key),
                               g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, value, TRUE));
      g_variant_builder_add (&props, "{sv}", "ManufacturerData", g_variant_builder_end (&m));
    }
  {
    g_autoptr(GVariant) service_data = g_variant_ref_sink (g_variant_dict_end (&f->service_data));

    if (g_variant_n_children (service_data) > 0)
      g_variant_builder_add (&props, "{sv}", "ServiceData", service_data);
  }
  if (g_hash_table_size (f->data) > 0)
    {
      GVariantBuilder d;

      g_variant_builder_init (&d, G_VARIANT_TYPE ("a{yv}"));
      g_hash_table_iter_init (&iter, f->data);
      while (g_hash_table_iter_next (&iter, &key, &value))
        g_variant_builder_add (&d, "{yv}", (guint8) GPOINTER_TO_UINT (key),
                               g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, value, TRUE));
      g_variant_builder_add (&props, "{sv}", "Data", g_variant_builder_end (&d));
    }
  if (f->name != NULL)
    g_variant_builder_add (&props, "{sv}", "LocalName", g_variant_new_string (f->name));
  if (f->has_appearance)
    g_variant_builder_add (&props, "{sv}", "Appearance", g_variant_new_uint16 (f->appearance));
  if (f->tx_power)
    {
      const char *includes[] = { "tx-power", NULL };

      g_variant_builder_add (&props, "{sv}", "Includes", g_variant_new_strv (includes, -1));
    }
  if (f->has_flags)
    g_variant_builder_add (&props, "{sv}", "Discoverable",
                           g_variant_new_boolean ((f->flags & 0x02) != 0));
  if (s->timeout > 0)
    g_variant_builder_add (&props, "{sv}", "Timeout", g_variant_new_uint16 (s->timeout));
  if (extended)
    g_variant_builder_add (&props, "{sv}", "SecondaryChannel", g_variant_new_string ("1M"));
  if (s->interval != 0)
    {
      /* One interval: bluetoothd wants both ends and min <= max. */
      guint32 ms = (guint32) (s->interval * 1000 + 0.5);

      g_variant_builder_add (&props, "{sv}", "MinInterval", g_variant_new_uint32 (ms));
      g_variant_builder_add (&props, "{sv}", "MaxInterval", g_variant_new_uint32 (ms));
    }
  if (s->tx_power != 0)
    g_variant_builder_add (&props, "{sv}", "TxPower", g_variant_new_int16 ((gint16) s->tx_power));
  return g_variant_builder_end (&props);
}

GVariant *
bleio_advertising_properties (const BleioAdvertisingSettings *settings,
                              const BleioAdvertisingCaps     *caps,
                              GError                        **error)
{
  Fields f = { 0 };
  gboolean extended = FALSE;
  GVariant *result = NULL;

  g_return_val_if_fail (settings != NULL && caps != NULL, NULL);
  g_return_val_if_fail (settings->data != NULL || settings->data_len == 0, NULL);
  g_return_val_if_fail (settings->scan_response != NULL || settings->scan_response_len == 0, NULL);

  if (!check_settings (settings, caps, error) ||
      !check_length ("the advertising data", settings->data_len, caps->max_adv_len, caps,
                     &extended, error) ||
      !check_length ("the scan response", settings->scan_response_len,
                     caps->max_scan_rsp_len, caps, &extended, error))
    return NULL;
  if (extended && settings->connectable && settings->scan_response_len > 0)
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                           "a connectable extended advertisement (over 31 bytes) "
                           "cannot have a scan response; bluetoothd would drop it");
      return NULL;
    }

  f.service_uuids = g_ptr_array_new_with_free_func (g_free);
  f.solicit_uuids = g_ptr_array_new_with_free_func (g_free);
  g_variant_dict_init (&f.service_data, NULL);
  f.manufacturer_ids = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_bytes_unref);
  f.data = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_bytes_unref);

  if (walk (&f, settings, "data", FALSE, settings->data, settings->data_len, error) &&
      walk (&f, settings, "scan_response", TRUE, settings->scan_response,
            settings->scan_response_len, error))
    {
      if (f.tx_power && !caps->include_tx_power)
        g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                             "a TX power level structure needs \"tx-power\" in the "
                             "adapter's SupportedIncludes, which it lacks; leave it out");
      else
        result = build (&f, settings, extended);
    }
  fields_clear (&f);
  return result;
}
