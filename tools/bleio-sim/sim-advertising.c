/* SPDX-License-Identifier: MIT */
/*
 * org.bluez.LEAdvertisingManager1 as bluetoothd 5.66 has it on the
 * reference machine (kernel 6.1 with the extended advertising management
 * commands, a controller of legacy advertising only: 31 bytes, no
 * secondary channels, 5 instances; bluetoothd run with -E, so MinInterval,
 * MaxInterval and TxPower are read). Each rule below is src/advertising.c
 * or src/shared/ad.c of 5.66; tools/bleio-sim/README.md lists them.
 */
#include "sim-advertising.h"
#include "sim-air.h"

#include <stdlib.h>
#include <string.h>

#define ADV_IFACE "org.bluez.LEAdvertisement1"
#define MAX_INSTANCES 5
#define MAX_AD_LEN 31
#define NO_APPEARANCE 0xffff
#define NO_TX_POWER 0x7f
/* How often the air repeats an advertisement without MinInterval. */
#define DEFAULT_INTERVAL_MS 100

#define MSG_PARSE "Failed to parse advertisement."
#define MSG_REGISTER "Failed to register advertisement"

enum {
  INC_TX_POWER = 1 << 0,
  INC_APPEARANCE = 1 << 1,
  INC_LOCAL_NAME = 1 << 2,
};

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

typedef struct {
  SimAdapter *adapter;
  char *owner;
  char *path;
  guint8 instance;
  GDBusMethodInvocation *reg; /* the RegisterAdvertisement being answered */
  GCancellable *cancellable;
  gboolean registered;
  guint owner_watch;
  guint props_sub;
  guint timeout_source;
  guint disc_source;
  /* the advertisement, parsed */
  gboolean peripheral;
  GPtrArray *service_uuids;   /* AdvUuid */
  GPtrArray *solicit_uuids;   /* AdvUuid */
  GPtrArray *mfr;             /* AdvBlob */
  GPtrArray *svc;             /* AdvBlob */
  GPtrArray *data;            /* AdvBlob */
  guint includes;
  char *name;
  guint16 appearance;
  guint16 duration;
  guint16 timeout;
  guint16 disc_timeout;
  gboolean has_flags;
  guint8 flags;
  guint32 min_interval;       /* 0.625 ms units */
  guint32 max_interval;
  gint tx_power;
} Adv;

static GPtrArray *advs;       /* Adv, in registration order */

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
parse_type (Adv      *adv,
            GVariant *v)
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
parse_service_uuids (Adv      *adv,
                     GVariant *v)
{
  return parse_uuid_list (adv->service_uuids, v);
}

static gboolean
parse_solicit_uuids (Adv      *adv,
                     GVariant *v)
{
  return parse_uuid_list (adv->solicit_uuids, v);
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
  if (!g_variant_type_equal (g_variant_type_key (g_variant_type_element (g_variant_get_type (v))),
                             key_type))
    return FALSE;
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
      if (g_variant_is_of_type (key, G_VARIANT_TYPE_UINT16))
        {
          blob->key = g_variant_get_uint16 (key);
          header += 2;
        }
      else if (g_variant_is_of_type (key, G_VARIANT_TYPE_BYTE))
        blob->key = g_variant_get_byte (key);
      else
        {
          blob->uuid.size = parse_uuid (g_variant_get_string (key, NULL), &blob->uuid.uuid);
          ok = blob->uuid.size != 0;
          header += blob->uuid.size;
        }
      ok = ok && blob->value != NULL && g_bytes_get_size (blob->value) <= MAX_AD_LEN - header;
      if (ok && g_variant_is_of_type (key, G_VARIANT_TYPE_BYTE))
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
parse_manufacturer_data (Adv      *adv,
                         GVariant *v)
{
  return parse_dict (adv->mfr, v, G_VARIANT_TYPE_UINT16, same_id);
}

static gboolean
parse_service_data (Adv      *adv,
                    GVariant *v)
{
  return parse_dict (adv->svc, v, G_VARIANT_TYPE_STRING, same_uuid);
}

static gboolean
parse_data (Adv      *adv,
            GVariant *v)
{
  return parse_dict (adv->data, v, G_VARIANT_TYPE_BYTE, same_id);
}

/* Unknown strings are ignored; the adapter supports all three. */
static gboolean
parse_includes (Adv      *adv,
                GVariant *v)
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
parse_local_name (Adv      *adv,
                  GVariant *v)
{
  const char *name;

  if (v == NULL)
    {
      g_clear_pointer (&adv->name, g_free);
      return TRUE;
    }
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_STRING)
      || (adv->includes & INC_LOCAL_NAME) != 0)
    return FALSE;
  name = g_variant_get_string (v, NULL);
  g_free (adv->name);
  adv->name = name[0] != '\0' ? g_strdup (name) : NULL;
  return TRUE;
}

static gboolean
parse_appearance (Adv      *adv,
                  GVariant *v)
{
  if (v == NULL)
    {
      adv->appearance = 0;
      return TRUE;
    }
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_UINT16)
      || (adv->includes & INC_APPEARANCE) != 0)
    return FALSE;
  adv->appearance = g_variant_get_uint16 (v);
  return TRUE;
}

static gboolean
parse_duration (Adv      *adv,
                GVariant *v)
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

static void adv_remove (Adv      *adv,
                        gboolean  release,
                        gboolean  announce);

static gboolean
timeout_expired (gpointer data)
{
  Adv *adv = data;

  adv->timeout_source = 0;
  g_debug ("advertisement %s of %s timed out", adv->path, adv->owner);
  adv_remove (adv, TRUE, TRUE);
  return G_SOURCE_REMOVE;
}

static gboolean
parse_timeout (Adv      *adv,
               GVariant *v)
{
  g_clear_handle_id (&adv->timeout_source, g_source_remove);
  if (v == NULL)
    {
      adv->timeout = 0;
      return TRUE;
    }
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_UINT16))
    return FALSE;
  adv->timeout = g_variant_get_uint16 (v);
  if (adv->timeout > 0)
    adv->timeout_source = g_timeout_add_seconds (adv->timeout, timeout_expired, adv);
  return TRUE;
}

/* bluetoothd's set_flags(): the adapters are LE only (as btvirt's), so
 * "BR/EDR not supported" goes with every Flags it writes. */
static gboolean
set_flags (Adv    *adv,
           guint8  flags)
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
parse_discoverable (Adv      *adv,
                    GVariant *v)
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

static void refresh (Adv *adv);

static gboolean
discoverable_expired (gpointer data)
{
  Adv *adv = data;

  adv->disc_source = 0;
  adv->has_flags = FALSE;
  refresh (adv);
  return G_SOURCE_REMOVE;
}

static gboolean
parse_discoverable_timeout (Adv      *adv,
                            GVariant *v)
{
  g_clear_handle_id (&adv->disc_source, g_source_remove);
  if (v == NULL)
    {
      adv->disc_timeout = 0;
      return TRUE;
    }
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_UINT16))
    return FALSE;
  adv->disc_timeout = g_variant_get_uint16 (v);
  adv->disc_source = g_timeout_add_seconds (adv->disc_timeout, discoverable_expired, adv);
  return TRUE;
}

/* The controller has no secondary channel (no extended advertising):
 * every value, even a known one, is refused. */
static gboolean
parse_secondary (Adv      *adv,
                 GVariant *v)
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
parse_min_interval (Adv      *adv,
                    GVariant *v)
{
  return parse_interval (&adv->min_interval, v);
}

static gboolean
parse_max_interval (Adv      *adv,
                    GVariant *v)
{
  return parse_interval (&adv->max_interval, v);
}

static gboolean
parse_tx_power (Adv      *adv,
                GVariant *v)
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
  gboolean (*parse) (Adv *adv, GVariant *v);
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

/* parse_advertisement(): every property present, in the table's order,
 * then the checks across properties. */
static gboolean
parse_all (Adv      *adv,
           GVariant *props)
{
  for (guint i = 0; i < G_N_ELEMENTS (parsers); i++)
    {
      g_autoptr(GVariant) v = g_variant_lookup_value (props, parsers[i].name, NULL);

      if (v != NULL && !parsers[i].parse (adv, v))
        {
          g_debug ("advertisement %s: bad %s", adv->path, parsers[i].name);
          return FALSE;
        }
    }
  if (adv->has_flags)
    {
      /* a broadcaster must not be discoverable (Core 5.0 Vol 3 Part C) */
      if (!adv->peripheral)
        return FALSE;
      if (adv->disc_source != 0)
        set_flags (adv, AD_FLAG_LIMITED);
    }
  else
    {
      g_clear_handle_id (&adv->disc_source, g_source_remove);
      adv->disc_timeout = 0;
    }
  if (adv->timeout != 0 && adv->timeout < adv->disc_timeout)
    return FALSE;
  return adv->min_interval <= adv->max_interval;
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
adapter_discoverable_flag (Adv *adv)
{
  return adv->peripheral && adv->adapter->discoverable && !adv->has_flags;
}

/* The kernel's limits for the extended advertising parameters it was given
 * (tlv_data_max_len()): 31 bytes less the Flags and TX power it adds to the
 * data, less the appearance it adds to the scan response. */
static gboolean
fits (Adv *adv)
{
  gsize data = uuid_list_len (adv->service_uuids) + uuid_list_len (adv->solicit_uuids)
               + blobs_len (adv->mfr, 2) + blobs_len (adv->svc, 0) + blobs_len (adv->data, 1)
               + (adv->has_flags ? 3 : 0)
               + ((adv->includes & INC_APPEARANCE) || adv->appearance != NO_APPEARANCE
                  ? 4 : 0);
  gsize max_data = MAX_AD_LEN - (adapter_discoverable_flag (adv) ? 3 : 0)
                   - ((adv->includes & INC_TX_POWER) ? 3 : 0);
  gsize scan = adv->name != NULL ? MIN (2 + strlen (adv->name), MAX_AD_LEN) : 0;
  gsize max_scan = MAX_AD_LEN - ((adv->includes & INC_APPEARANCE) ? 4 : 0);

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

/* The air carries the adapter's first registered advertisement: with
 * several, a controller rotates them and a scanner keeps the last it
 * heard; the simulator keeps one still. */
static void
update_air (SimAdapter *adapter)
{
  Adv *adv = NULL;
  SimAirAdvert air = { 0 };
  g_autoptr(GPtrArray) uuids = g_ptr_array_new ();
  g_autofree char *name = NULL;

  for (guint i = 0; advs != NULL && i < advs->len && adv == NULL; i++)
    {
      Adv *a = g_ptr_array_index (advs, i);

      if (a->adapter == adapter && a->registered)
        adv = a;
    }
  if (adv == NULL)
    {
      sim_air_set_advert (adapter, NULL);
      return;
    }
  air.connectable = adv->peripheral;
  if (adv->name != NULL)
    name = ad_name (adv->name);
  else if (adv->includes & INC_LOCAL_NAME)
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
              : AD_FLAG_NO_BREDR | (adv->adapter->discoverable ? AD_FLAG_GENERAL : 0);
  /* "appearance" alone sends the adapter's appearance, 0 here, which a
   * scanning bluetoothd does not show */
  air.has_appearance = adv->appearance != NO_APPEARANCE && adv->appearance != 0;
  air.appearance = adv->appearance;
  air.interval_ms = adv->min_interval != 0 ? adv->min_interval * 5 / 8 : DEFAULT_INTERVAL_MS;
  sim_air_set_advert (adapter, &air);
  g_clear_pointer (&air.manufacturer_data, g_variant_unref);
  g_clear_pointer (&air.service_data, g_variant_unref);
  g_clear_pointer (&air.advertising_data, g_variant_unref);
}

/* A property of a registered advertisement changed and parsed: bluetoothd
 * hands the kernel the new data; data the kernel refuses (too long) ends
 * the advertisement without a word (add_client_complete() has no message
 * to answer by then). */
static void
refresh (Adv *adv)
{
  if (!adv->registered)
    return;
  if (!fits (adv))
    {
      g_debug ("advertisement %s no longer fits: dropped", adv->path);
      adv_remove (adv, FALSE, FALSE);
      return;
    }
  update_air (adv->adapter);
}

/* ---- instances ---- */

static guint
count (SimAdapter *adapter)
{
  guint n = 0;

  for (guint i = 0; advs != NULL && i < advs->len; i++)
    n += ((Adv *) g_ptr_array_index (advs, i))->adapter == adapter;
  return n;
}

static Adv *
find (SimAdapter *adapter,
      const char *owner,
      const char *path)
{
  for (guint i = 0; advs != NULL && i < advs->len; i++)
    {
      Adv *a = g_ptr_array_index (advs, i);

      if (a->adapter == adapter && g_str_equal (a->owner, owner) && g_str_equal (a->path, path))
        return a;
    }
  return NULL;
}

static guint8
free_instance (SimAdapter *adapter)
{
  for (guint8 n = 1; n <= MAX_INSTANCES; n++)
    {
      gboolean used = FALSE;

      for (guint i = 0; i < advs->len && !used; i++)
        {
          Adv *a = g_ptr_array_index (advs, i);

          used = a->adapter == adapter && a->instance == n;
        }
      if (!used)
        return n;
    }
  return 0;
}

static void
adv_free (Adv *adv)
{
  g_cancellable_cancel (adv->cancellable);
  g_clear_object (&adv->cancellable);
  if (adv->reg != NULL)
    sim_return_error (g_steal_pointer (&adv->reg), SIM_ERR_FAILED,
                      "Failed to complete registration");
  if (adv->owner_watch != 0)
    g_bus_unwatch_name (adv->owner_watch);
  if (adv->props_sub != 0)
    g_dbus_connection_signal_unsubscribe (sim_registry_get_connection (), adv->props_sub);
  g_clear_handle_id (&adv->timeout_source, g_source_remove);
  g_clear_handle_id (&adv->disc_source, g_source_remove);
  g_ptr_array_unref (adv->service_uuids);
  g_ptr_array_unref (adv->solicit_uuids);
  g_ptr_array_unref (adv->mfr);
  g_ptr_array_unref (adv->svc);
  g_ptr_array_unref (adv->data);
  g_free (adv->name);
  g_free (adv->owner);
  g_free (adv->path);
  g_free (adv);
}

static void
send_release (Adv *adv)
{
  /* bluetoothd sends it without waiting for an answer */
  g_dbus_connection_call (sim_registry_get_connection (), adv->owner, adv->path,
                          ADV_IFACE, "Release", NULL, NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
}

static void
announce_instances (SimAdapter *adapter)
{
  sim_obj_changed (&adapter->obj, &sim_advertising_iface,
                   "ActiveInstances", "SupportedInstances", NULL);
}

/* client_remove() (announce) or client_destroy() (release): the
 * advertisement leaves the list, the air and the counts. */
static void
adv_remove (Adv      *adv,
            gboolean  release,
            gboolean  announce)
{
  SimAdapter *adapter = adv->adapter;
  gboolean was_registered = adv->registered;

  if (release)
    send_release (adv);
  g_ptr_array_remove (advs, adv);
  adv_free (adv);
  if (announce)
    announce_instances (adapter);
  if (was_registered)
    update_air (adapter);
}

static void
on_owner_vanished (GDBusConnection *conn,
                   const char      *name,
                   gpointer         user_data)
{
  Adv *adv = user_data;

  g_debug ("advertisement %s: %s left the bus", adv->path, name);
  /* a registration still being read is dropped with it; bluetoothd only
   * watches its owner once registered, but a reply to nobody is lost */
  adv_remove (adv, FALSE, adv->registered);
}

static void
on_props_changed (GDBusConnection *conn,
                  const char      *sender,
                  const char      *path,
                  const char      *interface,
                  const char      *signal,
                  GVariant        *params,
                  gpointer         user_data)
{
  Adv *adv = user_data;
  const char *iface;
  g_autoptr(GVariant) changed = NULL;
  g_autofree const char **invalidated = NULL;
  gboolean again = FALSE;

  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(sa{sv}as)")))
    return;
  g_variant_get (params, "(&s@a{sv}^a&s)", &iface, &changed, &invalidated);
  if (!g_str_equal (iface, ADV_IFACE))
    return;
  /* each property as its own update, as gdbus's property watch calls
   * properties_changed() once per property */
  for (guint i = 0; i < G_N_ELEMENTS (parsers); i++)
    {
      g_autoptr(GVariant) v = g_variant_lookup_value (changed, parsers[i].name, NULL);

      if (v != NULL && parsers[i].parse (adv, v))
        again = TRUE;
      else if (v == NULL && g_strv_contains (invalidated, parsers[i].name)
               && parsers[i].parse (adv, NULL))
        again = TRUE;
    }
  if (again)
    refresh (adv);
}

static void
registered (Adv *adv)
{
  GDBusConnection *conn = sim_registry_get_connection ();

  adv->registered = TRUE;
  adv->props_sub = g_dbus_connection_signal_subscribe (conn, adv->owner,
                                                       "org.freedesktop.DBus.Properties",
                                                       "PropertiesChanged", adv->path,
                                                       ADV_IFACE, G_DBUS_SIGNAL_FLAGS_NONE,
                                                       on_props_changed, adv, NULL);
  g_dbus_method_invocation_return_value (g_steal_pointer (&adv->reg), NULL);
  announce_instances (adv->adapter);
  update_air (adv->adapter);
}

static void
on_get_all (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);
  g_autoptr(GVariant) props = NULL;
  Adv *adv = user_data;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  /* gdbus's proxy is added even when GetAll fails: the advertisement is
   * then read with no property at all */
  if (reply != NULL)
    props = g_variant_get_child_value (reply, 0);
  else
    props = g_variant_ref_sink (g_variant_new ("a{sv}", NULL));
  if (!parse_all (adv, props))
    {
      sim_return_error (g_steal_pointer (&adv->reg), SIM_ERR_FAILED, MSG_PARSE);
      adv_remove (adv, FALSE, FALSE);
      return;
    }
  if (!fits (adv))
    {
      sim_return_error (g_steal_pointer (&adv->reg), SIM_ERR_FAILED, MSG_REGISTER);
      adv_remove (adv, FALSE, FALSE);
      return;
    }
  registered (adv);
}

static void
on_managed_objects (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);
  Adv *adv = user_data;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_dbus_connection_call (sim_registry_get_connection (), adv->owner, adv->path,
                          "org.freedesktop.DBus.Properties", "GetAll",
                          g_variant_new ("(s)", ADV_IFACE), G_VARIANT_TYPE ("(a{sv})"),
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, adv->cancellable,
                          on_get_all, adv);
}

static void
register_advertisement (SimAdapter            *adapter,
                        GDBusMethodInvocation *invocation,
                        GVariant              *params)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  const char *path;
  Adv *adv;
  guint8 instance;

  g_variant_get (params, "(&o@a{sv})", &path, NULL);
  if (find (adapter, sender, path) != NULL)
    {
      sim_return_error (invocation, SIM_ERR_ALREADY_EXISTS, SIM_MSG_ALREADY_EXISTS);
      return;
    }
  instance = free_instance (adapter);
  if (instance == 0)
    {
      sim_return_error (invocation, SIM_ERR_NOT_PERMITTED, "Maximum advertisements reached");
      return;
    }
  adv = g_new0 (Adv, 1);
  adv->adapter = adapter;
  adv->owner = g_strdup (sender);
  adv->path = g_strdup (path);
  adv->instance = instance;
  adv->reg = invocation;
  adv->cancellable = g_cancellable_new ();
  adv->service_uuids = g_ptr_array_new_with_free_func (uuid_free);
  adv->solicit_uuids = g_ptr_array_new_with_free_func (uuid_free);
  adv->mfr = g_ptr_array_new_with_free_func (blob_free);
  adv->svc = g_ptr_array_new_with_free_func (blob_free);
  adv->data = g_ptr_array_new_with_free_func (blob_free);
  adv->appearance = NO_APPEARANCE;
  adv->tx_power = NO_TX_POWER;
  g_ptr_array_add (advs, adv);
  adv->owner_watch = g_bus_watch_name_on_connection (sim_registry_get_connection (), sender,
                                                     G_BUS_NAME_WATCHER_FLAGS_NONE, NULL,
                                                     on_owner_vanished, adv, NULL);
  /* bluetoothd's gdbus client asks the owner for its objects under the
   * path first, then for the interface's properties */
  g_dbus_connection_call (sim_registry_get_connection (), sender, path,
                          "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                          NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1,
                          adv->cancellable, on_managed_objects, adv);
}

static void
manager_method (SimObj                *obj,
                GDBusMethodInvocation *invocation,
                const char            *method,
                GVariant              *params)
{
  SimAdapter *adapter = (SimAdapter *) obj;

  if (advs == NULL)
    advs = g_ptr_array_new ();
  if (g_str_equal (method, "RegisterAdvertisement"))
    register_advertisement (adapter, invocation, params);
  else if (g_str_equal (method, "UnregisterAdvertisement"))
    {
      const char *path;
      Adv *adv;

      g_variant_get (params, "(&o)", &path);
      adv = find (adapter, g_dbus_method_invocation_get_sender (invocation), path);
      if (adv == NULL)
        {
          sim_return_error (invocation, SIM_ERR_DOES_NOT_EXIST, SIM_MSG_DOES_NOT_EXIST);
          return;
        }
      g_dbus_method_invocation_return_value (invocation, NULL);
      adv_remove (adv, FALSE, TRUE);
    }
  else
    sim_return_error (invocation, SIM_ERR_NOT_SUPPORTED, SIM_MSG_NOT_SUPPORTED);
}

static GVariant *
manager_get (SimObj     *obj,
             const char *prop)
{
  SimAdapter *adapter = (SimAdapter *) obj;

  if (g_str_equal (prop, "ActiveInstances"))
    return g_variant_new_byte (count (adapter));
  if (g_str_equal (prop, "SupportedInstances"))
    return g_variant_new_byte (MAX_INSTANCES - count (adapter));
  if (g_str_equal (prop, "SupportedIncludes"))
    return g_variant_new_strv ((const char *const[]) {
      "tx-power", "appearance", "local-name" }, 3);
  /* SupportedSecondaryChannels exists only with extended advertising */
  if (g_str_equal (prop, "SupportedFeatures"))
    return g_variant_new_strv (NULL, 0);
  if (g_str_equal (prop, "SupportedCapabilities"))
    return g_variant_new_parsed ("{'MaxAdvLen': <byte 31>, 'MaxScnRspLen': <byte 31>}");
  return NULL;
}

SimIfaceDef sim_advertising_iface = {
  "org.bluez.LEAdvertisingManager1", manager_method, manager_get, NULL, NULL
};

void
sim_advertising_adapter_removing (SimAdapter *adapter)
{
  for (guint i = 0; advs != NULL && i < advs->len;)
    {
      Adv *adv = g_ptr_array_index (advs, i);

      if (adv->adapter != adapter)
        {
          i++;
          continue;
        }
      /* manager_destroy(): Release, no property signal (the interface
       * goes with the adapter) */
      if (adv->registered)
        send_release (adv);
      g_ptr_array_remove_index (advs, i);
      adv_free (adv);
    }
  sim_air_adapter_removing (adapter);
}

void
sim_advertising_adapter_changed (SimAdapter *adapter)
{
  for (guint i = 0; advs != NULL && i < advs->len;)
    {
      Adv *adv = g_ptr_array_index (advs, i);

      /* the Flags the kernel adds when discoverable take room: what no
       * longer fits is dropped, as on any refresh */
      if (adv->adapter == adapter && adv->registered && !fits (adv))
        adv_remove (adv, FALSE, FALSE);
      else
        i++;
    }
  update_air (adapter);
}

void
sim_advertising_reset (void)
{
  for (guint i = 0; advs != NULL && i < advs->len; i++)
    {
      Adv *adv = g_ptr_array_index (advs, i);

      /* a registration in progress dies with the process: its caller
       * gets dbus-daemon's NoReply */
      if (adv->reg != NULL)
        sim_registry_keep_unanswered (g_steal_pointer (&adv->reg));
      adv_free (adv);
    }
  g_clear_pointer (&advs, g_ptr_array_unref);
}
