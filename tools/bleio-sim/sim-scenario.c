/* SPDX-License-Identifier: MIT */
/*
 * Scenario files: JSON read with json-glib into the SimScenario model.
 * Every error names the file, the line and column of the offending value,
 * and what is wrong with it (sim-json.c). README.md documents the format.
 */
#include "sim-scenario.h"
#include "sim-json.h"

#include <string.h>

const char *const sim_flag_names[] = {
  "broadcast", "read", "write-without-response", "write", "notify",
  "indicate", "authenticated-signed-writes", "extended-properties",
  "reliable-write", "writable-auxiliaries", "encrypt-read", "encrypt-write",
  "encrypt-authenticated-read", "encrypt-authenticated-write", "secure-read",
  "secure-write", "authorize", "encrypt-notify",
  "encrypt-authenticated-notify", "secure-notify", NULL
};

char *
sim_uuid_normalize (const char *text)
{
  g_autofree char *lower = NULL;
  gsize len;

  if (text == NULL)
    return NULL;
  lower = g_ascii_strdown (text, -1);
  if (g_str_has_prefix (lower, "0x"))
    {
      char *stripped = g_strdup (lower + 2);

      g_free (lower);
      lower = stripped;
    }
  len = strlen (lower);
  if (len == 4 || len == 8)
    {
      for (gsize i = 0; i < len; i++)
        if (!g_ascii_isxdigit (lower[i]))
          return NULL;
      return g_strdup_printf ("%s%s-0000-1000-8000-00805f9b34fb",
                              len == 4 ? "0000" : "", lower);
    }
  if (len != 36)
    return NULL;
  for (gsize i = 0; i < len; i++)
    {
      gboolean dash = i == 8 || i == 13 || i == 18 || i == 23;

      if (dash ? lower[i] != '-' : !g_ascii_isxdigit (lower[i]))
        return NULL;
    }
  return g_steal_pointer (&lower);
}

static gboolean
node_uuid (SimJsonCtx *ctx,
           JsonNode   *n,
           const char *key,
           char      **out,
           GError    **error)
{
  if (!sim_json_want_type (ctx, n, key, JSON_NODE_VALUE, G_TYPE_STRING, "a UUID string",
                           error))
    return FALSE;
  *out = sim_uuid_normalize (json_node_get_string (n));
  if (*out == NULL)
    return sim_json_fail (ctx, n, error, "'%s' is not a UUID: \"%s\" (use 16-bit \"180d\""
                          " or 128-bit \"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\")",
                          key, json_node_get_string (n));
  return TRUE;
}

static gboolean
get_uuid (SimJsonCtx *ctx,
          JsonNode   *obj,
          const char *key,
          char      **out,
          GError    **error)
{
  JsonNode *n = sim_json_member (obj, key);

  if (n == NULL)
    return sim_json_fail (ctx, obj, error, "missing '%s'", key);
  return node_uuid (ctx, n, key, out, error);
}

guint32
sim_flags_from_strv (const char *const *strv,
                     GError    **error)
{
  guint32 flags = 0;

  for (; strv != NULL && *strv != NULL; strv++)
    {
      guint i;

      for (i = 0; sim_flag_names[i] != NULL; i++)
        if (g_str_equal (sim_flag_names[i], *strv))
          break;
      if (sim_flag_names[i] == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "unknown flag \"%s\"", *strv);
          return G_MAXUINT32;
        }
      flags |= 1u << i;
    }
  return flags;
}

static gboolean
get_flags (SimJsonCtx *ctx,
           JsonNode   *obj,
           const char *fallback,
           guint32    *out,
           GError    **error)
{
  JsonNode *n = sim_json_member (obj, "flags");
  JsonArray *array;
  g_autoptr(GPtrArray) strv = g_ptr_array_new ();
  g_autoptr(GError) local = NULL;

  if (n == NULL)
    {
      const char *one[] = { fallback, NULL };

      *out = sim_flags_from_strv (one, NULL);
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_ARRAY (n))
    return sim_json_fail (ctx, n, error, "'flags' must be an array of strings");
  array = json_node_get_array (n);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *e = json_array_get_element (array, i);

      if (!sim_json_want_type (ctx, e, "flags", JSON_NODE_VALUE, G_TYPE_STRING,
                               "an array of strings", error))
        return FALSE;
      g_ptr_array_add (strv, (gpointer) json_node_get_string (e));
      if (sim_flags_from_strv ((const char *const[]) { json_node_get_string (e), NULL },
                               &local) == G_MAXUINT32)
        return sim_json_fail (ctx, e, error, "%s (known: read, write, "
                              "write-without-response, notify, indicate, "
                              "encrypt-read, ...)", local->message);
    }
  g_ptr_array_add (strv, NULL);
  *out = sim_flags_from_strv ((const char *const *) strv->pdata, NULL);
  return TRUE;
}

SimServed *
sim_served_ref (SimServed *served)
{
  g_atomic_int_inc (&served->ref_count);
  return served;
}

void
sim_served_unref (SimServed *served)
{
  if (served == NULL || !g_atomic_int_dec_and_test (&served->ref_count))
    return;
  g_free (served->adapter);
  g_free (served->owner);
  g_free (served->path);
  g_free (served);
}

void
sim_desc_def_free (gpointer data)
{
  SimDescDef *d = data;

  g_free (d->uuid);
  g_byte_array_unref (d->value);
  sim_served_unref (d->served);
  g_free (d);
}

void
sim_char_def_free (gpointer data)
{
  SimCharDef *c = data;

  g_free (c->uuid);
  g_byte_array_unref (c->value);
  g_ptr_array_unref (c->payloads);
  g_ptr_array_unref (c->descs);
  sim_served_unref (c->served);
  g_free (c);
}

void
sim_service_def_free (gpointer data)
{
  SimServiceDef *s = data;

  g_free (s->uuid);
  g_ptr_array_unref (s->chars);
  g_free (s);
}

/* Handles must grow through the database; @next is the lowest free one. */
static gboolean
take_handle (SimJsonCtx *ctx,
             JsonNode   *obj,
             guint      *next,
             guint       span,
             guint16    *out,
             GError    **error)
{
  gint64 h;
  gboolean present;

  if (!sim_json_get_int (ctx, obj, "handle", 1, 0xffff, *next, &h, &present, error))
    return FALSE;
  if (h < *next)
    return sim_json_fail (ctx, present ? sim_json_member (obj, "handle") : obj, error,
                          "handle 0x%04x overlaps earlier attributes (next free handle "
                          "is 0x%04x)", (guint) h, *next);
  if (h + span > 0x10000)
    return sim_json_fail (ctx, obj, error, "handle 0x%04x leaves no room", (guint) h);
  *out = (guint16) h;
  *next = (guint) h + span;
  return TRUE;
}

static gboolean
parse_desc (SimJsonCtx *ctx,
            JsonNode   *n,
            guint      *next,
            SimDescDef **out,
            GError    **error)
{
  static const char *const keys[] = { "uuid", "handle", "flags", "value", NULL };
  g_autoptr(GByteArray) value = NULL;
  g_autofree char *uuid = NULL;
  SimDescDef *d;
  guint32 flags;
  guint16 handle;

  if (!JSON_NODE_HOLDS_OBJECT (n))
    return sim_json_fail (ctx, n, error, "a descriptor must be an object");
  if (!sim_json_check_keys (ctx, n, keys, "a descriptor", error)
      || !get_uuid (ctx, n, "uuid", &uuid, error)
      || !take_handle (ctx, n, next, 1, &handle, error)
      || !get_flags (ctx, n, "read", &flags, error)
      || !sim_json_get_hex (ctx, n, "value", &value, error))
    return FALSE;
  d = g_new0 (SimDescDef, 1);
  d->uuid = g_steal_pointer (&uuid);
  d->handle = handle;
  d->flags = flags;
  d->value = g_steal_pointer (&value);
  *out = d;
  return TRUE;
}

static SimDescDef *
cccd_new (guint16 handle)
{
  SimDescDef *d = g_new0 (SimDescDef, 1);

  d->uuid = sim_uuid_normalize ("2902");
  d->handle = handle;
  d->flags = SIM_CHR_READ | SIM_CHR_WRITE;
  d->value = g_byte_array_new ();
  g_byte_array_append (d->value, (const guint8 *) "\0\0", 2);
  return d;
}

static gboolean
parse_char (SimJsonCtx  *ctx,
            JsonNode    *n,
            guint       *next,
            SimCharDef **out,
            GError     **error)
{
  static const char *const keys[] = {
    "uuid", "handle", "flags", "value", "acquire_notify", "acquire_write",
    "notify", "descriptors", NULL
  };
  static const char *const notify_keys[] = { "period_ms", "payloads", NULL };
  g_autoptr(GPtrArray) descs = g_ptr_array_new_with_free_func (sim_desc_def_free);
  g_autoptr(GPtrArray) payloads =
    g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GByteArray) value = NULL;
  g_autofree char *uuid = NULL;
  gboolean acquire_notify, acquire_write, has_cccd = FALSE;
  gint64 period = 0;
  guint32 flags;
  guint16 handle;
  JsonNode *dn, *nn;
  SimCharDef *c;

  if (!JSON_NODE_HOLDS_OBJECT (n))
    return sim_json_fail (ctx, n, error, "a characteristic must be an object");
  if (!sim_json_check_keys (ctx, n, keys, "a characteristic", error)
      || !get_uuid (ctx, n, "uuid", &uuid, error)
      || !take_handle (ctx, n, next, 2, &handle, error)
      || !get_flags (ctx, n, "read", &flags, error)
      || !sim_json_get_hex (ctx, n, "value", &value, error)
      || !sim_json_get_bool (ctx, n, "acquire_notify", TRUE, &acquire_notify, error)
      || !sim_json_get_bool (ctx, n, "acquire_write", TRUE, &acquire_write, error))
    return FALSE;
  if (value->len > SIM_MAX_ATTR_LEN)
    return sim_json_fail (ctx, sim_json_member (n, "value"), error,
                          "'value' is longer than %d bytes", SIM_MAX_ATTR_LEN);

  nn = sim_json_member (n, "notify");
  if (nn != NULL)
    {
      JsonNode *pn;

      if (!JSON_NODE_HOLDS_OBJECT (nn))
        return sim_json_fail (ctx, nn, error, "'notify' must be an object");
      if (!sim_json_check_keys (ctx, nn, notify_keys, "'notify'", error)
          || !sim_json_get_int (ctx, nn, "period_ms", 1, 3600000, 1000, &period, NULL,
                                error))
        return FALSE;
      if (!(flags & (SIM_CHR_NOTIFY | SIM_CHR_INDICATE)))
        return sim_json_fail (ctx, nn, error, "'notify' needs the notify or indicate flag");
      pn = sim_json_member (nn, "payloads");
      if (pn == NULL || !JSON_NODE_HOLDS_ARRAY (pn)
          || json_array_get_length (json_node_get_array (pn)) == 0)
        return sim_json_fail (ctx, pn != NULL ? pn : nn, error,
                              "'payloads' must be a non-empty array of hex strings");
      for (guint i = 0; i < json_array_get_length (json_node_get_array (pn)); i++)
        {
          g_autoptr(GByteArray) p = NULL;

          if (!sim_json_parse_hex (ctx, json_array_get_element (json_node_get_array (pn), i),
                                   "payloads", &p, error))
            return FALSE;
          g_ptr_array_add (payloads, g_byte_array_free_to_bytes (g_steal_pointer (&p)));
        }
    }

  dn = sim_json_member (n, "descriptors");
  if (dn != NULL && !JSON_NODE_HOLDS_ARRAY (dn))
    return sim_json_fail (ctx, dn, error, "'descriptors' must be an array");
  if (dn != NULL)
    {
      JsonArray *a = json_node_get_array (dn);

      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          JsonNode *u = JSON_NODE_HOLDS_OBJECT (e) ? sim_json_member (e, "uuid") : NULL;
          g_autofree char *norm = NULL;

          if (u != NULL && JSON_NODE_HOLDS_VALUE (u)
              && json_node_get_value_type (u) == G_TYPE_STRING)
            norm = sim_uuid_normalize (json_node_get_string (u));
          if (g_strcmp0 (norm, "00002902-0000-1000-8000-00805f9b34fb") == 0)
            has_cccd = TRUE;
        }
    }
  /* A notifying characteristic has a CCCD right after its value. */
  if ((flags & (SIM_CHR_NOTIFY | SIM_CHR_INDICATE)) && !has_cccd)
    {
      g_ptr_array_add (descs, cccd_new ((guint16) *next));
      *next += 1;
    }
  if (dn != NULL)
    {
      JsonArray *a = json_node_get_array (dn);

      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          SimDescDef *d = NULL;

          if (!parse_desc (ctx, json_array_get_element (a, i), next, &d, error))
            return FALSE;
          if (g_str_equal (d->uuid, "00002902-0000-1000-8000-00805f9b34fb"))
            d->flags |= SIM_CHR_READ | SIM_CHR_WRITE;
          g_ptr_array_add (descs, d);
        }
    }

  c = g_new0 (SimCharDef, 1);
  c->uuid = g_steal_pointer (&uuid);
  c->handle = handle;
  c->flags = flags;
  c->value = g_steal_pointer (&value);
  c->acquire_notify = acquire_notify;
  c->acquire_write = acquire_write;
  c->period_ms = (guint) period;
  c->payloads = g_steal_pointer (&payloads);
  c->descs = g_steal_pointer (&descs);
  *out = c;
  return TRUE;
}

static gboolean
parse_service (SimJsonCtx     *ctx,
               JsonNode       *n,
               guint          *next,
               SimServiceDef **out,
               GError        **error)
{
  static const char *const keys[] = {
    "uuid", "handle", "primary", "hidden", "characteristics", NULL
  };
  g_autoptr(GPtrArray) chars = g_ptr_array_new_with_free_func (sim_char_def_free);
  g_autofree char *uuid = NULL;
  gboolean primary, hidden;
  guint16 handle;
  JsonNode *cn;
  SimServiceDef *s;

  if (!JSON_NODE_HOLDS_OBJECT (n))
    return sim_json_fail (ctx, n, error, "a service must be an object");
  if (!sim_json_check_keys (ctx, n, keys, "a service", error)
      || !get_uuid (ctx, n, "uuid", &uuid, error)
      || !take_handle (ctx, n, next, 1, &handle, error)
      || !sim_json_get_bool (ctx, n, "primary", TRUE, &primary, error)
      || !sim_json_get_bool (ctx, n, "hidden", FALSE, &hidden, error))
    return FALSE;
  cn = sim_json_member (n, "characteristics");
  if (cn != NULL && !JSON_NODE_HOLDS_ARRAY (cn))
    return sim_json_fail (ctx, cn, error, "'characteristics' must be an array");
  if (cn != NULL)
    {
      JsonArray *a = json_node_get_array (cn);

      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          SimCharDef *c = NULL;

          if (!parse_char (ctx, json_array_get_element (a, i), next, &c, error))
            return FALSE;
          g_ptr_array_add (chars, c);
        }
    }
  s = g_new0 (SimServiceDef, 1);
  s->uuid = g_steal_pointer (&uuid);
  s->handle = handle;
  s->primary = primary;
  s->hidden = hidden;
  s->chars = g_steal_pointer (&chars);
  *out = s;
  return TRUE;
}

static gboolean
valid_address (const char *s)
{
  if (s == NULL || strlen (s) != 17)
    return FALSE;
  for (int i = 0; i < 17; i++)
    {
      if (i % 3 == 2 ? s[i] != ':' : !g_ascii_isxdigit (s[i]))
        return FALSE;
    }
  return TRUE;
}

SimPeripheral *
sim_peripheral_ref (SimPeripheral *p)
{
  g_atomic_int_inc (&p->ref_count);
  return p;
}

void
sim_peripheral_unref (SimPeripheral *p)
{
  if (p == NULL || !g_atomic_int_dec_and_test (&p->ref_count))
    return;
  g_free (p->adapter);
  g_free (p->address);
  g_free (p->address_type);
  g_free (p->name);
  g_free (p->gap_name);
  g_free (p->alias);
  g_free (p->modalias);
  g_free (p->icon);
  g_clear_pointer (&p->adv_flags, g_bytes_unref);
  g_ptr_array_unref (p->uuids);
  g_clear_pointer (&p->manufacturer_data, g_variant_unref);
  g_clear_pointer (&p->service_data, g_variant_unref);
  g_clear_pointer (&p->advertising_data, g_variant_unref);
  g_free (p->io_capability);
  g_free (p->pair_method);
  g_free (p->connect_error);
  g_ptr_array_unref (p->services);
  g_free (p);
}

/* Parses {"key": "hex"} into a dictionary variant; @kind says how keys read. */
typedef enum { KEY_COMPANY, KEY_UUID, KEY_AD_TYPE } KeyKind;

static gboolean
parse_data_map (SimJsonCtx *ctx,
                JsonNode   *obj,
                const char *key,
                KeyKind     kind,
                GVariant  **out,
                GError    **error)
{
  JsonNode *n = sim_json_member (obj, key);
  g_autoptr(GList) members = NULL;
  GVariantBuilder b;
  const char *type = kind == KEY_COMPANY ? "a{qv}" : kind == KEY_UUID ? "a{sv}" : "a{yv}";

  *out = NULL;
  if (n == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (n))
    return sim_json_fail (ctx, n, error, "'%s' must be an object of hex strings", key);
  members = json_object_get_members (json_node_get_object (n));
  if (members == NULL)
    return TRUE;
  g_variant_builder_init (&b, G_VARIANT_TYPE (type));
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *v = json_object_get_member (json_node_get_object (n), l->data);
      g_autoptr(GByteArray) bytes = NULL;
      GVariant *val;

      if (!sim_json_parse_hex (ctx, v, key, &bytes, error))
        {
          g_variant_builder_clear (&b);
          return FALSE;
        }
      val = g_variant_new_variant (g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, bytes->data,
                                                              bytes->len, 1));
      if (kind == KEY_UUID)
        {
          g_autofree char *uuid = sim_uuid_normalize (l->data);

          if (uuid == NULL)
            {
              g_variant_builder_clear (&b);
              g_variant_unref (g_variant_ref_sink (val));
              return sim_json_fail (ctx, v, error, "'%s' key \"%s\" is not a UUID", key,
                                    (const char *) l->data);
            }
          g_variant_builder_add (&b, "{s@v}", uuid, val);
        }
      else
        {
          char *end = NULL;
          guint64 k = g_ascii_strtoull (l->data, &end, 0);
          guint64 max = kind == KEY_COMPANY ? 0xffff : 0xff;

          if (*(const char *) l->data == '\0' || *end != '\0' || k > max)
            {
              g_variant_builder_clear (&b);
              g_variant_unref (g_variant_ref_sink (val));
              return sim_json_fail (ctx, v, error, "'%s' key \"%s\" must be a number "
                                    "up to 0x%" G_GINT64_MODIFIER "x", key,
                                    (const char *) l->data, max);
            }
          if (kind == KEY_COMPANY)
            g_variant_builder_add (&b, "{q@v}", (guint16) k, val);
          else
            g_variant_builder_add (&b, "{y@v}", (guint8) k, val);
        }
    }
  *out = g_variant_ref_sink (g_variant_builder_end (&b));
  return TRUE;
}

static gboolean
parse_peripheral (SimJsonCtx     *ctx,
                  JsonNode       *n,
                  const char     *default_adapter,
                  SimPeripheral **out,
                  GError        **error)
{
  static const char *const keys[] = {
    "adapter", "address", "address_type", "name", "gap_name", "alias",
    "icon", "rssi", "rssi_jitter", "tx_power", "appearance", "class",
    "advertising_interval_ms", "connectable", "advertising_flags", "uuids",
    "manufacturer_data", "service_data", "advertising_data", "mtu",
    "modalias", "legacy_pairing", "paired", "pairing", "connect",
    "att_delay_ms", "gatt", NULL
  };
  static const char *const pairing_keys[] = {
    "io_capability", "method", "passkey", "outcome", "bonding", "delay_ms",
    "agent_timeout_ms", NULL
  };
  static const char *const connect_keys[] = {
    "delay_ms", "outcome", "fail_count", "resolve_delay_ms", NULL
  };
  static const char *const io_caps[] = {
    "DisplayOnly", "DisplayYesNo", "KeyboardOnly", "NoInputNoOutput",
    "KeyboardDisplay", NULL
  };
  g_autoptr(SimPeripheral) p = g_new0 (SimPeripheral, 1);
  g_autofree char *outcome = NULL;
  g_autofree char *connect_outcome = NULL;
  gint64 v;
  gboolean present;
  JsonNode *sub;
  guint next = 1;

  p->ref_count = 1;
  p->uuids = g_ptr_array_new_with_free_func (g_free);
  p->services = g_ptr_array_new_with_free_func (sim_service_def_free);
  if (!JSON_NODE_HOLDS_OBJECT (n))
    return sim_json_fail (ctx, n, error, "a peripheral must be an object");
  if (!sim_json_check_keys (ctx, n, keys, "a peripheral", error)
      || !sim_json_get_string (ctx, n, "adapter", default_adapter, &p->adapter, error)
      || !sim_json_get_string (ctx, n, "address", NULL, &p->address, error)
      || !sim_json_get_string (ctx, n, "address_type", "public", &p->address_type, error)
      || !sim_json_get_string (ctx, n, "name", NULL, &p->name, error)
      || !sim_json_get_string (ctx, n, "gap_name", NULL, &p->gap_name, error)
      || !sim_json_get_string (ctx, n, "alias", NULL, &p->alias, error)
      || !sim_json_get_string (ctx, n, "icon", NULL, &p->icon, error)
      || !sim_json_get_string (ctx, n, "modalias", NULL, &p->modalias, error)
      || !sim_json_get_bool (ctx, n, "connectable", TRUE, &p->connectable, error)
      || !sim_json_get_bool (ctx, n, "legacy_pairing", FALSE, &p->legacy_pairing, error)
      || !sim_json_get_bool (ctx, n, "paired", FALSE, &p->paired, error))
    return FALSE;
  if (p->adapter == NULL)
    return sim_json_fail (ctx, n, error, "missing 'adapter'");
  if (!valid_address (p->address))
    return sim_json_fail (ctx, sim_json_member (n, "address") != NULL
                          ? sim_json_member (n, "address") : n, error,
                          "'address' must look like 00:11:22:33:44:55");
  {
    char *up = g_ascii_strup (p->address, -1);

    g_free (p->address);
    p->address = up;
  }
  if (!g_str_equal (p->address_type, "public")
      && !g_str_equal (p->address_type, "random"))
    return sim_json_fail (ctx, sim_json_member (n, "address_type"), error,
                          "'address_type' must be \"public\" or \"random\"");

  /* -127..20 dBm as HCI reports them, or 127, HCI's "not available"
   * (btvirt's controllers, and bluetoothd passes it on) */
  if (!sim_json_get_int (ctx, n, "rssi", -127, 127, -60, &v, NULL, error))
    return FALSE;
  if (v > 20 && v != 127)
    return sim_json_fail (ctx, sim_json_member (n, "rssi"), error,
                          "'rssi' must be -127..20 dBm, or 127 for none");
  p->rssi = (gint) v;
  if (!sim_json_get_int (ctx, n, "rssi_jitter", 0, 40, 0, &v, NULL, error))
    return FALSE;
  p->rssi_jitter = (guint) v;
  if (!sim_json_get_int (ctx, n, "tx_power", -127, 127, 0, &v, &p->has_tx_power, error))
    return FALSE;
  p->tx_power = (gint) v;
  if (!sim_json_get_int (ctx, n, "appearance", 0, 0xffff, 0, &v, &p->has_appearance,
                         error))
    return FALSE;
  p->appearance = (guint16) v;
  if (!sim_json_get_int (ctx, n, "class", 0, 0xffffff, 0, &v, &p->has_class, error))
    return FALSE;
  p->class_of_device = (guint32) v;
  if (!sim_json_get_int (ctx, n, "advertising_interval_ms", 1, 60000, 1000, &v, NULL,
                         error))
    return FALSE;
  p->adv_interval_ms = (guint) v;
  if (!sim_json_get_int (ctx, n, "mtu", 23, 517, SIM_DEFAULT_MTU, &v, NULL, error))
    return FALSE;
  p->mtu = (guint16) v;
  if (!sim_json_get_int (ctx, n, "att_delay_ms", 0, 60000, 0, &v, NULL, error))
    return FALSE;
  p->att_delay_ms = (guint) v;

  sub = sim_json_member (n, "advertising_flags");
  if (sub != NULL)
    {
      g_autoptr(GByteArray) flags = NULL;

      if (!sim_json_parse_hex (ctx, sub, "advertising_flags", &flags, error))
        return FALSE;
      p->adv_flags = g_byte_array_free_to_bytes (g_steal_pointer (&flags));
    }
  sub = sim_json_member (n, "uuids");
  if (sub != NULL)
    {
      if (!JSON_NODE_HOLDS_ARRAY (sub))
        return sim_json_fail (ctx, sub, error, "'uuids' must be an array of UUIDs");
      for (guint i = 0; i < json_array_get_length (json_node_get_array (sub)); i++)
        {
          char *uuid = NULL;

          if (!node_uuid (ctx, json_array_get_element (json_node_get_array (sub), i),
                          "uuids", &uuid, error))
            return FALSE;
          g_ptr_array_add (p->uuids, uuid);
        }
    }
  if (!parse_data_map (ctx, n, "manufacturer_data", KEY_COMPANY,
                       &p->manufacturer_data, error)
      || !parse_data_map (ctx, n, "service_data", KEY_UUID, &p->service_data,
                          error)
      || !parse_data_map (ctx, n, "advertising_data", KEY_AD_TYPE,
                          &p->advertising_data, error))
    return FALSE;

  /* pairing */
  p->io_capability = g_strdup ("NoInputNoOutput");
  p->bonding = TRUE;
  p->agent_timeout_ms = 25000;
  sub = sim_json_member (n, "pairing");
  if (sub != NULL)
    {
      if (!JSON_NODE_HOLDS_OBJECT (sub))
        return sim_json_fail (ctx, sub, error, "'pairing' must be an object");
      g_clear_pointer (&p->io_capability, g_free);
      if (!sim_json_check_keys (ctx, sub, pairing_keys, "'pairing'", error)
          || !sim_json_get_string (ctx, sub, "io_capability", "NoInputNoOutput",
                                   &p->io_capability, error)
          || !sim_json_get_string (ctx, sub, "outcome", "accept", &outcome, error)
          || !sim_json_get_string (ctx, sub, "method", NULL, &p->pair_method, error)
          || !sim_json_get_bool (ctx, sub, "bonding", TRUE, &p->bonding, error))
        return FALSE;
      if (!g_strv_contains (io_caps, p->io_capability))
        return sim_json_fail (ctx, sim_json_member (sub, "io_capability"), error,
                              "'io_capability' must be one of DisplayOnly, DisplayYesNo, "
                              "KeyboardOnly, NoInputNoOutput, KeyboardDisplay");
      if (p->pair_method != NULL
          && !g_strv_contains ((const char *const[]) { "just-works", "confirmation",
                                                       "passkey-entry", "display-passkey",
                                                       "authorization", NULL },
                               p->pair_method))
        return sim_json_fail (ctx, sim_json_member (sub, "method"), error,
                              "'method' must be just-works, confirmation, passkey-entry, "
                              "display-passkey or authorization");
      if (!sim_json_get_int (ctx, sub, "passkey", 0, 999999, 123456, &v, NULL, error))
        return FALSE;
      p->passkey = (guint32) v;
      if (!sim_json_get_int (ctx, sub, "delay_ms", 0, 600000, 0, &v, NULL, error))
        return FALSE;
      p->pair_delay_ms = (guint) v;
      if (!sim_json_get_int (ctx, sub, "agent_timeout_ms", 1, 600000, 25000, &v, NULL,
                             error))
        return FALSE;
      p->agent_timeout_ms = (guint) v;
      if (g_str_equal (outcome, "accept"))
        p->pair_outcome = SIM_PAIR_ACCEPT;
      else if (g_str_equal (outcome, "reject"))
        p->pair_outcome = SIM_PAIR_REJECT;
      else if (g_str_equal (outcome, "cancel"))
        p->pair_outcome = SIM_PAIR_CANCEL;
      else if (g_str_equal (outcome, "timeout"))
        p->pair_outcome = SIM_PAIR_TIMEOUT;
      else
        return sim_json_fail (ctx, sim_json_member (sub, "outcome"), error,
                              "'outcome' must be accept, reject, cancel or timeout");
    }

  /* connecting */
  p->resolve_delay_ms = 20;
  p->connect_delay_ms = 10;
  sub = sim_json_member (n, "connect");
  if (sub != NULL)
    {
      if (!JSON_NODE_HOLDS_OBJECT (sub))
        return sim_json_fail (ctx, sub, error, "'connect' must be an object");
      if (!sim_json_check_keys (ctx, sub, connect_keys, "'connect'", error)
          || !sim_json_get_string (ctx, sub, "outcome", "ok", &connect_outcome, error))
        return FALSE;
      if (!sim_json_get_int (ctx, sub, "delay_ms", 0, 600000, 10, &v, NULL, error))
        return FALSE;
      p->connect_delay_ms = (guint) v;
      if (!sim_json_get_int (ctx, sub, "fail_count", 0, G_MAXUINT32, 0, &v, NULL, error))
        return FALSE;
      p->connect_fail_count = (guint) v;
      if (!sim_json_get_int (ctx, sub, "resolve_delay_ms", 0, 600000, 20, &v, NULL, error))
        return FALSE;
      p->resolve_delay_ms = (guint) v;
      if (!g_str_equal (connect_outcome, "ok"))
        {
          for (const char *c = connect_outcome; *c != '\0'; c++)
            if (!g_ascii_isalnum (*c) && *c != '-' && *c != ' ')
              return sim_json_fail (ctx, sim_json_member (sub, "outcome"), error,
                                    "'outcome' must be \"ok\" or a BlueZ reason such as "
                                    "\"le-connection-abort-by-local\"");
          p->connect_error = g_steal_pointer (&connect_outcome);
        }
    }

  sub = sim_json_member (n, "gatt");
  if (sub != NULL && !JSON_NODE_HOLDS_ARRAY (sub))
    return sim_json_fail (ctx, sub, error, "'gatt' must be an array of services");
  if (sub != NULL)
    {
      JsonArray *a = json_node_get_array (sub);

      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          SimServiceDef *s = NULL;

          if (!parse_service (ctx, json_array_get_element (a, i), &next, &s,
                              error))
            return FALSE;
          g_ptr_array_add (p->services, s);
        }
    }
  (void) present;
  *out = g_steal_pointer (&p);
  return TRUE;
}

SimAdapterDef *
sim_adapter_def_new (const char *name,
                     const char *address)
{
  SimAdapterDef *def = g_new0 (SimAdapterDef, 1);

  def->name = g_strdup (name);
  def->address = g_ascii_strup (address, -1);
  /* alias, system_name and modalias NULL: the release's (sim-adapter.c) */
  def->powered = TRUE;
  def->pairable = TRUE;
  def->discoverable_timeout = 180;
  return def;
}

void
sim_adapter_def_free (SimAdapterDef *def)
{
  if (def == NULL)
    return;
  g_free (def->name);
  g_free (def->address);
  g_free (def->alias);
  g_free (def->system_name);
  g_free (def->modalias);
  g_free (def);
}

static gboolean
parse_adapter (SimJsonCtx     *ctx,
               JsonNode       *n,
               SimAdapterDef **out,
               GError        **error)
{
  static const char *const keys[] = {
    "name", "address", "alias", "system_name", "modalias", "powered",
    "discoverable", "discoverable_timeout", "pairable", "pairable_timeout",
    "class", NULL
  };
  g_autofree char *name = NULL;
  g_autofree char *address = NULL;
  SimAdapterDef *def;
  gint64 v;

  if (!JSON_NODE_HOLDS_OBJECT (n))
    return sim_json_fail (ctx, n, error, "an adapter must be an object");
  if (!sim_json_check_keys (ctx, n, keys, "an adapter", error)
      || !sim_json_get_string (ctx, n, "name", NULL, &name, error)
      || !sim_json_get_string (ctx, n, "address", NULL, &address, error))
    return FALSE;
  if (name == NULL || !g_str_has_prefix (name, "hci") || name[3] == '\0'
      || strspn (name + 3, "0123456789") != strlen (name + 3))
    return sim_json_fail (ctx, sim_json_member (n, "name") != NULL
                          ? sim_json_member (n, "name") : n, error,
                          "adapter 'name' must be hciN");
  if (!valid_address (address))
    return sim_json_fail (ctx, sim_json_member (n, "address") != NULL
                          ? sim_json_member (n, "address") : n, error,
                          "'address' must look like 00:11:22:33:44:55");
  def = sim_adapter_def_new (name, address);
  *out = def;
  g_clear_pointer (&def->alias, g_free);
  g_clear_pointer (&def->system_name, g_free);
  g_clear_pointer (&def->modalias, g_free);
  /* absent: NULL, the simulated release's own (sim-adapter.c) */
  if (!sim_json_get_string (ctx, n, "alias", NULL, &def->alias, error)
      || !sim_json_get_string (ctx, n, "system_name", NULL, &def->system_name, error)
      || !sim_json_get_string (ctx, n, "modalias", NULL, &def->modalias, error)
      || !sim_json_get_bool (ctx, n, "powered", TRUE, &def->powered, error)
      || !sim_json_get_bool (ctx, n, "discoverable", FALSE, &def->discoverable, error)
      || !sim_json_get_bool (ctx, n, "pairable", TRUE, &def->pairable, error))
    return FALSE;
  if (!sim_json_get_int (ctx, n, "discoverable_timeout", 0, G_MAXUINT32, 180, &v, NULL,
                         error))
    return FALSE;
  def->discoverable_timeout = (guint32) v;
  if (!sim_json_get_int (ctx, n, "pairable_timeout", 0, G_MAXUINT32, 0, &v, NULL, error))
    return FALSE;
  def->pairable_timeout = (guint32) v;
  if (!sim_json_get_int (ctx, n, "class", 0, 0xffffff, 0, &v, NULL, error))
    return FALSE;
  def->class_of_device = (guint32) v;
  return TRUE;
}

void
sim_scenario_free (SimScenario *scenario)
{
  if (scenario == NULL)
    return;
  g_ptr_array_unref (scenario->adapters);
  g_ptr_array_unref (scenario->peripherals);
  g_free (scenario);
}

SimBluez
sim_bluez_parse (const char *text)
{
  if (text == NULL)
    return SIM_BLUEZ_DEFAULT;
  if (g_str_equal (text, "5.66"))
    return SIM_BLUEZ_5_66;
  if (g_str_equal (text, "5.82"))
    return SIM_BLUEZ_5_82;
  return SIM_BLUEZ_DEFAULT;
}

SimScenario *
sim_scenario_load_data (const char  *data,
                        gssize       length,
                        const char  *display_name,
                        GError     **error)
{
  static const char *const keys[] = {
    "description", "bluez", "adapters", "peripherals", "temporary_timeout_ms", NULL
  };
  g_autofree char *bluez = NULL;
  g_autoptr(GHashTable) pos = g_hash_table_new (NULL, NULL);
  SimJsonCtx ctx = { display_name, pos };
  g_autoptr(JsonParser) parser = sim_json_parse (&ctx, data, length, error);
  g_autoptr(SimScenario) scenario = NULL;
  JsonNode *root, *n;
  gint64 v;

  if (parser == NULL)
    return NULL;
  root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      sim_json_fail (&ctx, root, error, "the scenario must be a JSON object");
      return NULL;
    }
  if (!sim_json_check_keys (&ctx, root, keys, "the scenario", error))
    return NULL;
  scenario = g_new0 (SimScenario, 1);
  scenario->adapters =
    g_ptr_array_new_with_free_func ((GDestroyNotify) sim_adapter_def_free);
  scenario->peripherals =
    g_ptr_array_new_with_free_func ((GDestroyNotify) sim_peripheral_unref);
  if (!sim_json_get_int (&ctx, root, "temporary_timeout_ms", 0, G_MAXUINT32, 30000, &v,
                         NULL, error))
    return NULL;
  scenario->temporary_timeout_ms = (guint) v;
  if (!sim_json_get_string (&ctx, root, "bluez", NULL, &bluez, error))
    return NULL;
  if (bluez != NULL)
    {
      scenario->bluez = sim_bluez_parse (bluez);
      if (scenario->bluez == SIM_BLUEZ_DEFAULT)
        {
          sim_json_fail (&ctx, sim_json_member (root, "bluez"), error,
                         "'bluez' must be \"5.66\" or \"5.82\", not '%s'", bluez);
          return NULL;
        }
    }

  n = sim_json_member (root, "adapters");
  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    {
      sim_json_fail (&ctx, n != NULL ? n : root, error,
                     "'adapters' must be an array of adapters");
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (json_node_get_array (n)); i++)
    {
      JsonNode *e = json_array_get_element (json_node_get_array (n), i);
      SimAdapterDef *def = NULL;
      gboolean ok = parse_adapter (&ctx, e, &def, error);

      if (def != NULL)
        g_ptr_array_add (scenario->adapters, def);
      if (!ok)
        return NULL;
      for (guint j = 0; j + 1 < scenario->adapters->len; j++)
        {
          SimAdapterDef *other = g_ptr_array_index (scenario->adapters, j);

          if (g_str_equal (other->name, def->name))
            {
              sim_json_fail (&ctx, e, error, "adapter %s is defined twice", def->name);
              return NULL;
            }
        }
    }

  n = sim_json_member (root, "peripherals");
  if (n != NULL && !JSON_NODE_HOLDS_ARRAY (n))
    {
      sim_json_fail (&ctx, n, error, "'peripherals' must be an array");
      return NULL;
    }
  for (guint i = 0; n != NULL && i < json_array_get_length (json_node_get_array (n)); i++)
    {
      JsonNode *e = json_array_get_element (json_node_get_array (n), i);
      const char *first = scenario->adapters->len > 0
        ? ((SimAdapterDef *) g_ptr_array_index (scenario->adapters, 0))->name : NULL;
      SimPeripheral *p = NULL;
      gboolean known = FALSE;

      if (!parse_peripheral (&ctx, e, first, &p, error))
        return NULL;
      g_ptr_array_add (scenario->peripherals, p);
      for (guint j = 0; j < scenario->adapters->len; j++)
        known |= g_str_equal (((SimAdapterDef *) g_ptr_array_index (scenario->adapters, j))->name,
                              p->adapter);
      if (!known)
        {
          sim_json_fail (&ctx, sim_json_member (e, "adapter") != NULL
                         ? sim_json_member (e, "adapter") : e, error,
                         "no adapter named '%s'", p->adapter);
          return NULL;
        }
      for (guint j = 0; j + 1 < scenario->peripherals->len; j++)
        {
          SimPeripheral *o = g_ptr_array_index (scenario->peripherals, j);

          if (g_str_equal (o->adapter, p->adapter)
              && g_str_equal (o->address, p->address))
            {
              sim_json_fail (&ctx, sim_json_member (e, "address"), error,
                             "address %s is used twice on %s", p->address, p->adapter);
              return NULL;
            }
        }
    }
  return g_steal_pointer (&scenario);
}

SimScenario *
sim_scenario_load_file (const char  *path,
                        GError     **error)
{
  g_autofree char *data = NULL;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  return sim_scenario_load_data (data, (gssize) len, path, error);
}

SimPeripheral *
sim_peripheral_from_json (const char  *json,
                          const char  *adapter,
                          GError     **error)
{
  g_autoptr(GHashTable) pos = g_hash_table_new (NULL, NULL);
  SimJsonCtx ctx = { "<json>", pos };
  g_autoptr(JsonParser) parser = sim_json_parse (&ctx, json, -1, error);
  SimPeripheral *p = NULL;

  if (parser == NULL)
    return NULL;
  if (!parse_peripheral (&ctx, json_parser_get_root (parser), adapter, &p,
                         error))
    return NULL;
  g_free (p->adapter);
  p->adapter = g_strdup (adapter);
  return p;
}

SimScenario *
sim_scenario_load_demo (GError **error)
{
  g_autoptr(GBytes) data = g_resources_lookup_data ("/org/bleio/sim/scenarios/demo.json",
                                                    G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  gsize len;
  const char *text;

  if (data == NULL)
    return NULL;
  text = g_bytes_get_data (data, &len);
  return sim_scenario_load_data (text, (gssize) len, "demo.json (built in)", error);
}
