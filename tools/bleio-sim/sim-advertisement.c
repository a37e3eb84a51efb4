/* SPDX-License-Identifier: MIT */
/*
 * One LEAdvertisement1 as bluetoothd 5.66 reads it (floor 3, between
 * sim-air.c and sim-advertising.c): its properties parsed with src/advertising.c's rules and
 * src/shared/ad.c's limits, whether it fits what the kernel allows, and
 * what it puts on the air. The registrations, their timers and owners are
 * sim-advertising.c's.
 */
#include "sim-advertisement.h"

#include <stdlib.h>
#include <string.h>

#define MAX_AD_LEN 31
#define NO_APPEARANCE 0xffff
#define NO_TX_POWER 0x7f
/* How often the air repeats an advertisement without MinInterval: the
 * kernel's default, 0x0800 units (recorded on the air). */
#define DEFAULT_INTERVAL_MS 1280
#define BROADCAST_INTERVAL_MS 100

enum {
  AD_FLAG_LIMITED = 0x01,
  AD_FLAG_GENERAL = 0x02,
  AD_FLAG_NO_BREDR = 0x04,
};

/* A UUID as bluetoothd holds it: its size on the air and its 128-bit form */
typedef struct {
  char *uuid;
  guint size;
} AdvUuid;

/* One manufacturer data, service data or Data entry */
typedef struct {
  guint16 key;                /* company id or AD type */
  AdvUuid uuid;               /* service data */
  GBytes *value;
} AdvBlob;

/* ---- values ---- */

static void
uuid_free (gpointer data)
{
  AdvUuid *u = data;

  g_free (u->uuid);
  g_free (u);
}

static void
blob_free (gpointer data)
{
  AdvBlob *b = data;

  g_free (b->uuid.uuid);
  g_bytes_unref (b->value);
  g_free (b);
}

/* bt_string_to_uuid() of BlueZ: a 128-bit string on the base UUID is a
 * 16-bit UUID, 8 or 10 characters a 32-bit one, 4 or 6 a 16-bit one (hex,
 * "0x" allowed). Returns the size on the air, 0 when it is no UUID. */
static guint
parse_uuid (const char *s,
            char      **full)
{
  gsize len = strlen (s);
  char *end = NULL;

  if (len == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-')
    {
      for (gsize i = 0; i < len; i++)
        if (s[i] != '-' && !g_ascii_isxdigit (s[i]))
          return 0;
      *full = g_ascii_strdown (s, -1);
      return g_str_has_prefix (*full, "0000")
             && g_str_equal (*full + 8, "-0000-1000-8000-00805f9b34fb") ? 2 : 16;
    }
  if (len == 8 || len == 10)
    {
      unsigned long v = strtoul (s, &end, 16);

      if (end == NULL || *end != '\0')
        return 0;
      *full = g_strdup_printf ("%08x-0000-1000-8000-00805f9b34fb", (guint32) v);
      return 4;
    }
  if (len == 4 || len == 6)
    {
      long v = strtol (s, &end, 16);

      if (end == NULL || (*end != '\0' && *end != '-'))
        return 0;
      *full = g_strdup_printf ("0000%04x-0000-1000-8000-00805f9b34fb", (guint16) v);
      return 2;
    }
  return 0;
}

/* The byte array inside a dictionary value (v of ay), or NULL. */
static GBytes *
variant_bytes (GVariant *v)
{
  g_autoptr(GVariant) inner = g_variant_get_variant (v);

  if (!g_variant_is_of_type (inner, G_VARIANT_TYPE_BYTESTRING))
    return NULL;
  return g_variant_get_data_as_bytes (inner);
}

/* src/shared/ad.c adds an entry whose key is already there only when its
 * bytes differ, and fails otherwise. */
static gboolean
put_blob (GPtrArray  *list,
          AdvBlob    *blob,
          gboolean  (*same_key) (const AdvBlob *, const AdvBlob *))
{
  for (guint i = 0; i < list->len; i++)
    {
      AdvBlob *old = g_ptr_array_index (list, i);

      if (!same_key (old, blob))
        continue;
      if (g_bytes_equal (old->value, blob->value))
        {
          blob_free (blob);
          return FALSE;
        }
      g_ptr_array_index (list, i) = blob;
      blob_free (old);
      return TRUE;
    }
  g_ptr_array_add (list, blob);
  return TRUE;
}

static gboolean
same_id (const AdvBlob *a,
         const AdvBlob *b)
{
  return a->key == b->key;
}

static gboolean
same_uuid (const AdvBlob *a,
           const AdvBlob *b)
{
  return g_str_equal (a->uuid.uuid, b->uuid.uuid);
}

/* ---- the parsers, in bluetoothd's order; @v is NULL when the property is
 * gone (a PropertiesChanged that invalidates it) ---- */

static gboolean
parse_type (SimAdvContent *adv,
            GVariant      *v)
{
  const char *type;

  if (v == NULL)
    return TRUE;
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_STRING))
    return FALSE;
  type = g_variant_get_string (v, NULL);
  if (g_str_equal (type, "broadcast") || g_str_equal (type, "peripheral"))
    {
      adv->peripheral = g_str_equal (type, "peripheral");
      return TRUE;
    }
  return FALSE;
}

/* An array whose elements are not strings is read as an empty list, as
 * bluetoothd's loop over string elements does. */
static gboolean
parse_uuid_list (GPtrArray *list,
                 GVariant  *v)
{
  GVariantIter iter;
  const char *s;

  g_ptr_array_set_size (list, 0);
  if (v == NULL)
    return TRUE;
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_ARRAY))
    return FALSE;
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_STRING_ARRAY))
    return TRUE;
  g_variant_iter_init (&iter, v);
  while (g_variant_iter_next (&iter, "&s", &s))
    {
      AdvUuid *u = g_new0 (AdvUuid, 1);

      u->size = parse_uuid (s, &u->uuid);
      if (u->size == 0)
        {
          uuid_free (u);
          g_ptr_array_set_size (list, 0);
          return FALSE;
        }
      g_ptr_array_add (list, u);
    }
  return TRUE;
}

static gboolean
parse_service_uuids (SimAdvContent *adv,
                     GVariant      *v)
{
  return parse_uuid_list (adv->service_uuids, v);
}

static gboolean
parse_solicit_uuids (SimAdvContent *adv,
                     GVariant      *v)
{
  return parse_uuid_list (adv->solicit_uuids, v);
}

static guint16
key_number (GVariant *key)
{
  if (g_variant_is_of_type (key, G_VARIANT_TYPE_BYTE))
    return g_variant_get_byte (key);
  if (g_variant_is_of_type (key, G_VARIANT_TYPE_UINT16))
    return g_variant_get_uint16 (key);
  if (g_variant_is_of_type (key, G_VARIANT_TYPE_INT16))
    return (guint16) g_variant_get_int16 (key);
  if (g_variant_is_of_type (key, G_VARIANT_TYPE_UINT32))
    return (guint16) g_variant_get_uint32 (key);
  if (g_variant_is_of_type (key, G_VARIANT_TYPE_INT32))
    return (guint16) g_variant_get_int32 (key);
  if (g_variant_is_of_type (key, G_VARIANT_TYPE_UINT64))
    return (guint16) g_variant_get_uint64 (key);
  if (g_variant_is_of_type (key, G_VARIANT_TYPE_INT64))
    return (guint16) g_variant_get_int64 (key);
  return 0;
}

/* ManufacturerData a{qv}, ServiceData a{sv}, Data a{yv}: each value must
 * hold bytes, at most 31 minus the AD header and key. */
static gboolean
parse_dict (GPtrArray          *list,
            GVariant           *v,
            const GVariantType *key_type,
            gboolean          (*same_key) (const AdvBlob *, const AdvBlob *))
{
  GVariantIter iter;
  GVariant *entry;

  g_ptr_array_set_size (list, 0);
  if (v == NULL)
    return TRUE;
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_ARRAY))
    return FALSE;
  if (!g_variant_type_is_dict_entry (g_variant_type_element (g_variant_get_type (v))))
    return TRUE;
  g_variant_iter_init (&iter, v);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) value = g_variant_get_child_value (entry, 1);
      AdvBlob *blob = g_new0 (AdvBlob, 1);
      gsize header = 2;
      gboolean ok = TRUE;

      g_variant_unref (entry);
      blob->value = g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT)
                    ? variant_bytes (value) : NULL;
      if (g_variant_type_equal (key_type, G_VARIANT_TYPE_STRING))
        {
          /* a key that is no string would be read as a pointer */
          ok = g_variant_type_is_subtype_of (g_variant_get_type (key),
                                             G_VARIANT_TYPE_STRING)
               || g_variant_is_of_type (key, G_VARIANT_TYPE_OBJECT_PATH);
          blob->uuid.size = ok ? parse_uuid (g_variant_get_string (key, NULL), &blob->uuid.uuid) : 0;
          ok = blob->uuid.size != 0;
          header += blob->uuid.size;
        }
      else
        {
          /* bluetoothd takes the key with dbus_message_iter_get_basic()
           * whatever its type: the recording shows {'abc': ...} accepted as
           * some company and {uint16 0x24: ...} as Data type 0x24. A
           * number keeps its low bits here; anything else is 0. */
          blob->key = key_number (key);
          if (g_variant_type_equal (key_type, G_VARIANT_TYPE_UINT16))
            header += 2;
          else
            blob->key &= 0xff;
        }
      ok = ok && blob->value != NULL && g_bytes_get_size (blob->value) <= MAX_AD_LEN - header;
      if (ok && g_variant_type_equal (key_type, G_VARIANT_TYPE_BYTE))
        {
          /* src/shared/ad.c: every type bluetoothd has a property for, or
           * builds itself, is refused in Data */
          static const guint8 refused[] = {
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0d,
            0x0e, 0x0f, 0x10, 0x11, 0x12, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19,
            0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x27,
            0x28, 0x29, 0x2a, 0x2b, 0x3d, 0xff
          };

          ok = memchr (refused, blob->key, sizeof refused) == NULL;
        }
      if (!ok)
        {
          blob_free (blob);
          g_ptr_array_set_size (list, 0);
          return FALSE;
        }
      if (!put_blob (list, blob, same_key))
        {
          g_ptr_array_set_size (list, 0);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
parse_manufacturer_data (SimAdvContent *adv,
                         GVariant      *v)
{
  return parse_dict (adv->mfr, v, G_VARIANT_TYPE_UINT16, same_id);
}

static gboolean
parse_service_data (SimAdvContent *adv,
                    GVariant      *v)
{
  return parse_dict (adv->svc, v, G_VARIANT_TYPE_STRING, same_uuid);
}

static gboolean
parse_data (SimAdvContent *adv,
            GVariant      *v)
{
  return parse_dict (adv->data, v, G_VARIANT_TYPE_BYTE, same_id);
}

/* Unknown strings are ignored; the adapter supports all three. */
static gboolean
parse_includes (SimAdvContent *adv,
                GVariant      *v)
{
  static const char *const names[] = { "tx-power", "appearance", "local-name", NULL };
  GVariantIter iter;
  const char *s;

  adv->includes = 0;
  if (v == NULL)
    return TRUE;
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_ARRAY))
    return FALSE;
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_STRING_ARRAY))
    return TRUE;
  g_variant_iter_init (&iter, v);
  while (g_variant_iter_next (&iter, "&s", &s))
    for (guint i = 0; names[i] != NULL; i++)
      if (g_str_equal (s, names[i]))
        adv->includes |= 1u << i;
  return TRUE;
}

static gboolean
parse_local_name (SimAdvContent *adv,
                  GVariant      *v)
{
  const char *name;

  if (v == NULL)
    {
      g_clear_pointer (&adv->name, g_free);
      return TRUE;
    }
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_STRING)
      || (adv->includes & SIM_ADV_INC_LOCAL_NAME) != 0)
    return FALSE;
  name = g_variant_get_string (v, NULL);
  g_free (adv->name);
  adv->name = name[0] != '\0' ? g_strdup (name) : NULL;
  return TRUE;
}

static gboolean
parse_appearance (SimAdvContent *adv,
                  GVariant      *v)
{
  if (v == NULL)
    {
      adv->appearance = 0;
      return TRUE;
    }
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_UINT16)
      || (adv->includes & SIM_ADV_INC_APPEARANCE) != 0)
    return FALSE;
  adv->appearance = g_variant_get_uint16 (v);
  return TRUE;
}

static gboolean
parse_duration (SimAdvContent *adv,
                GVariant      *v)
{
  if (v == NULL)
    {
      adv->duration = 0;
      return TRUE;
    }
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_UINT16))
    return FALSE;
  adv->duration = g_variant_get_uint16 (v);
  return TRUE;
}

static gboolean
parse_timeout (SimAdvContent *adv,
               GVariant      *v)
{
  if (v != NULL && !g_variant_is_of_type (v, G_VARIANT_TYPE_UINT16))
    return FALSE;
  adv->timeout = v != NULL ? g_variant_get_uint16 (v) : 0;
  adv->timeout_rearm = TRUE;
  return TRUE;
}

/* bluetoothd's set_flags(): the adapters are LE only (as btvirt's), so
 * "BR/EDR not supported" goes with every Flags it writes. */
static gboolean
set_flags (SimAdvContent *adv,
           guint8         flags)
{
  if (flags == 0)
    {
      adv->has_flags = FALSE;
      return TRUE;
    }
  adv->has_flags = TRUE;
  adv->flags = flags | AD_FLAG_NO_BREDR;
  return TRUE;
}

static gboolean
parse_discoverable (SimAdvContent *adv,
                    GVariant      *v)
{
  if (v == NULL)
    {
      adv->has_flags = FALSE;
      return TRUE;
    }
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_BOOLEAN))
    return FALSE;
  return set_flags (adv, g_variant_get_boolean (v) ? AD_FLAG_GENERAL : 0);
}

static gboolean
parse_discoverable_timeout (SimAdvContent *adv,
                            GVariant      *v)
{
  if (v != NULL && !g_variant_is_of_type (v, G_VARIANT_TYPE_UINT16))
    return FALSE;
  adv->disc_timeout = v != NULL ? g_variant_get_uint16 (v) : 0;
  /* the timer runs even for 0 */
  adv->disc_running = v != NULL;
  adv->disc_rearm = TRUE;
  return TRUE;
}

/* The controller has no secondary channel (no extended advertising):
 * every value, even a known one, is refused. */
static gboolean
parse_secondary (SimAdvContent *adv,
                 GVariant      *v)
{
  return v == NULL;
}

/* ms to 0.625 ms units, truncated as bluetoothd's float division is;
 * 20 ms (0x20) up to 0xffffff units. */
static gboolean
parse_interval (guint32  *out,
                GVariant *v)
{
  if (v == NULL)
    {
      *out = 0;
      return FALSE;
    }
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
    return FALSE;
  *out = (guint32) (g_variant_get_uint32 (v) / 0.625);
  if (*out < 0x20 || *out > 0xffffff)
    {
      *out = 0;
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_min_interval (SimAdvContent *adv,
                    GVariant      *v)
{
  return parse_interval (&adv->min_interval, v);
}

static gboolean
parse_max_interval (SimAdvContent *adv,
                    GVariant      *v)
{
  return parse_interval (&adv->max_interval, v);
}

static gboolean
parse_tx_power (SimAdvContent *adv,
                GVariant      *v)
{
  gint16 value;

  if (v == NULL)
    {
      adv->tx_power = NO_TX_POWER;
      return FALSE;
    }
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_INT16))
    return FALSE;
  value = g_variant_get_int16 (v);
  if (value < -127 || value > 20)
    return FALSE;
  adv->tx_power = value;
  return TRUE;
}

static const struct {
  const char *name;
  gboolean (*parse) (SimAdvContent *adv, GVariant *v);
} parsers[] = {
  { "Type", parse_type },
  { "ServiceUUIDs", parse_service_uuids },
  { "SolicitUUIDs", parse_solicit_uuids },
  { "ManufacturerData", parse_manufacturer_data },
  { "ServiceData", parse_service_data },
  { "Includes", parse_includes },
  { "LocalName", parse_local_name },
  { "Appearance", parse_appearance },
  { "Duration", parse_duration },
  { "Timeout", parse_timeout },
  { "Data", parse_data },
  { "Discoverable", parse_discoverable },
  { "DiscoverableTimeout", parse_discoverable_timeout },
  { "SecondaryChannel", parse_secondary },
  { "MinInterval", parse_min_interval },
  { "MaxInterval", parse_max_interval },
  { "TxPower", parse_tx_power },
};

gboolean
sim_adv_content_parse_all (SimAdvContent *adv,
                           GVariant      *props)
{
  for (guint i = 0; i < G_N_ELEMENTS (parsers); i++)
    {
      g_autoptr(GVariant) v = g_variant_lookup_value (props, parsers[i].name, NULL);

      if (v != NULL && !parsers[i].parse (adv, v))
        {
          g_debug ("advertisement: bad %s", parsers[i].name);
          return FALSE;
        }
    }
  if (adv->has_flags)
    {
      /* a broadcaster must not be discoverable (Core 5.0 Vol 3 Part C) */
      if (!adv->peripheral)
        return FALSE;
      if (adv->disc_running)
        set_flags (adv, AD_FLAG_LIMITED);
    }
  else if (adv->disc_running)
    {
      adv->disc_running = FALSE;
      adv->disc_rearm = TRUE;
      adv->disc_timeout = 0;
    }
  if (adv->timeout != 0 && adv->timeout < adv->disc_timeout)
    return FALSE;
  return adv->min_interval <= adv->max_interval;
}

gboolean
sim_adv_content_parse_one (SimAdvContent *adv,
                           const char    *name,
                           GVariant      *value)
{
  for (guint i = 0; i < G_N_ELEMENTS (parsers); i++)
    if (g_str_equal (parsers[i].name, name))
      return parsers[i].parse (adv, value);
  return FALSE;
}

/* ---- what goes on the air ---- */

static gsize
uuid_list_len (GPtrArray *list)
{
  gsize len = 0;
  gboolean sizes[17] = { FALSE };

  for (guint i = 0; i < list->len; i++)
    {
      AdvUuid *u = g_ptr_array_index (list, i);

      len += u->size;
      sizes[u->size] = TRUE;
    }
  return len + 2 * (sizes[2] + sizes[4] + sizes[16]);
}

static gsize
blobs_len (GPtrArray *list,
           gsize      key_len)
{
  gsize len = 0;

  for (guint i = 0; i < list->len; i++)
    {
      AdvBlob *b = g_ptr_array_index (list, i);

      len += 2 + (key_len != 0 ? key_len : b->uuid.size) + g_bytes_get_size (b->value);
    }
  return len;
}

static gboolean
adapter_discoverable_flag (SimAdvContent *adv,
                           SimAdapter    *adapter)
{
  return adv->peripheral && adapter->discoverable && !adv->has_flags;
}

/* The kernel's limits for the extended advertising parameters it was given
 * (tlv_data_max_len()): 31 bytes less the Flags and TX power it adds to the
 * data, less the appearance it adds to the scan response. */
/* The advertising data bluetoothd generates */
static gsize
data_len (SimAdvContent *adv)
{
  return uuid_list_len (adv->service_uuids) + uuid_list_len (adv->solicit_uuids)
         + blobs_len (adv->mfr, 2) + blobs_len (adv->svc, 0) + blobs_len (adv->data, 1)
         + (adv->has_flags ? 3 : 0)
         + ((adv->includes & SIM_ADV_INC_APPEARANCE) || adv->appearance != NO_APPEARANCE
            ? 4 : 0);
}

gboolean
sim_adv_content_fits (SimAdvContent *adv,
                      SimAdapter    *adapter)
{
  gsize data = data_len (adv);
  gsize max_data = MAX_AD_LEN - (adapter_discoverable_flag (adv, adapter) ? 3 : 0)
                   - ((adv->includes & SIM_ADV_INC_TX_POWER) ? 3 : 0);
  gsize scan = adv->name != NULL ? MIN (2 + strlen (adv->name), MAX_AD_LEN) : 0;
  gsize max_scan = MAX_AD_LEN - ((adv->includes & SIM_ADV_INC_APPEARANCE) ? 4 : 0);

  /* with "appearance" bluetoothd writes an Appearance field into the data
   * and also asks the kernel to add one, and the kernel refuses data
   * holding a field it manages (recorded: Invalid Parameters) */
  if (adv->includes & SIM_ADV_INC_APPEARANCE)
    return FALSE;
  return data <= max_data && scan <= max_scan;
}

static char *
ad_name (const char *name)
{
  /* a name longer than the scan response goes out shortened */
  return g_strndup (name, MAX_AD_LEN - 2);
}

static GVariant *
blobs_variant (GPtrArray  *list,
               const char *type)
{
  GVariantBuilder b;

  if (list->len == 0)
    return NULL;
  g_variant_builder_init (&b, G_VARIANT_TYPE (type));
  for (guint i = 0; i < list->len; i++)
    {
      AdvBlob *blob = g_ptr_array_index (list, i);
      GVariant *value = g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, blob->value, TRUE);

      if (type[2] == 'q')
        g_variant_builder_add (&b, "{qv}", blob->key, value);
      else if (type[2] == 'y')
        g_variant_builder_add (&b, "{yv}", (guint8) blob->key, value);
      else
        g_variant_builder_add (&b, "{sv}", blob->uuid.uuid, value);
    }
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

void
sim_adv_content_put_on_air (SimAdvContent *adv,
                            SimAdapter    *adapter)
{
  SimAirAdvert air = { 0 };
  g_autoptr(GPtrArray) uuids = g_ptr_array_new ();
  g_autofree char *name = NULL;

  air.connectable = adv->peripheral;
  if (adv->name != NULL)
    name = ad_name (adv->name);
  else if (adv->includes & SIM_ADV_INC_LOCAL_NAME)
    name = ad_name (adapter->alias);
  air.name = name;
  for (guint i = 0; i < adv->service_uuids->len; i++)
    g_ptr_array_add (uuids, ((AdvUuid *) g_ptr_array_index (adv->service_uuids, i))->uuid);
  air.uuids = uuids;
  air.manufacturer_data = blobs_variant (adv->mfr, "a{qv}");
  air.service_data = blobs_variant (adv->svc, "a{sv}");
  air.advertising_data = blobs_variant (adv->data, "a{yv}");
  /* the kernel writes Flags when bluetoothd did not: discoverable when
   * the adapter is, and LE only */
  air.flags = adv->has_flags ? adv->flags
              : AD_FLAG_NO_BREDR | (adapter->discoverable ? AD_FLAG_GENERAL : 0);
  /* ... when there is room for them (recorded: 25 bytes of manufacturer
   * data went out without Flags) */
  if (!adv->has_flags && data_len (adv) + 3 > MAX_AD_LEN)
    air.flags = 0;
  /* "appearance" alone sends the adapter's appearance, 0 here, which a
   * scanning bluetoothd does not show */
  /* the kernel adds the controller's advertising TX power, 0 dBm on the
   * reference controller (recorded: "TX power: 0 dBm", TxPower 0) */
  air.has_tx_power = (adv->includes & SIM_ADV_INC_TX_POWER) != 0;
  air.tx_power = 0;
  air.has_appearance = adv->appearance != NO_APPEARANCE && adv->appearance != 0;
  air.appearance = adv->appearance;
  /* the kernel advertises a broadcast at its fast interval, 100-150 ms
   * (recorded) */
  air.interval_ms = adv->min_interval != 0 ? adv->min_interval * 5 / 8
                    : adv->peripheral ? DEFAULT_INTERVAL_MS : BROADCAST_INTERVAL_MS;
  sim_air_set_advert (adapter, &air);
  g_clear_pointer (&air.manufacturer_data, g_variant_unref);
  g_clear_pointer (&air.service_data, g_variant_unref);
  g_clear_pointer (&air.advertising_data, g_variant_unref);
}


SimAdvContent *
sim_adv_content_new (void)
{
  SimAdvContent *adv = g_new0 (SimAdvContent, 1);

  adv->service_uuids = g_ptr_array_new_with_free_func (uuid_free);
  adv->solicit_uuids = g_ptr_array_new_with_free_func (uuid_free);
  adv->mfr = g_ptr_array_new_with_free_func (blob_free);
  adv->svc = g_ptr_array_new_with_free_func (blob_free);
  adv->data = g_ptr_array_new_with_free_func (blob_free);
  adv->appearance = NO_APPEARANCE;
  adv->tx_power = NO_TX_POWER;
  return adv;
}

void
sim_adv_content_free (SimAdvContent *adv)
{
  if (adv == NULL)
    return;
  g_ptr_array_unref (adv->service_uuids);
  g_ptr_array_unref (adv->solicit_uuids);
  g_ptr_array_unref (adv->mfr);
  g_ptr_array_unref (adv->svc);
  g_ptr_array_unref (adv->data);
  g_free (adv->name);
  g_free (adv);
}
