/* SPDX-License-Identifier: MIT */
/*
 * Typed access to a JSON document that remembers where each value was, so
 * that an error can name the file, the line and the column (sim-json.h).
 */
#include "sim-json.h"

#include <string.h>

static void
record_pos (JsonParser *parser,
            JsonNode   *node,
            SimJsonCtx *ctx)
{
  guint line = json_parser_get_current_line (parser);
  guint col = json_parser_get_current_pos (parser);

  if (node != NULL)
    g_hash_table_insert (ctx->pos, node,
                         GUINT_TO_POINTER ((MIN (line, 0xffffu) << 16)
                                           | MIN (col, 0xffffu)));
}

static void
on_object_member (JsonParser *parser,
                  JsonObject *object,
                  const char *member,
                  gpointer    user_data)
{
  record_pos (parser, json_object_get_member (object, member), user_data);
}

static void
on_array_element (JsonParser *parser,
                  JsonArray  *array,
                  int         index,
                  gpointer    user_data)
{
  record_pos (parser, json_array_get_element (array, (guint) index), user_data);
}

gboolean
sim_json_fail (SimJsonCtx  *ctx,
               JsonNode    *node,
               GError     **error,
               const char  *format,
               ...)
{
  va_list ap;
  g_autofree char *msg = NULL;
  guint packed = 0;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (node != NULL)
    packed = GPOINTER_TO_UINT (g_hash_table_lookup (ctx->pos, node));
  if (packed == 0)
    packed = (1u << 16) | 1u;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s:%u:%u: %s",
               ctx->file, packed >> 16, packed & 0xffff, msg);
  return FALSE;
}

gboolean
sim_json_check_keys (SimJsonCtx        *ctx,
                     JsonNode          *node,
                     const char *const *allowed,
                     const char        *what,
                     GError           **error)
{
  JsonObject *obj = json_node_get_object (node);
  g_autoptr(GList) members = json_object_get_members (obj);

  for (GList *l = members; l != NULL; l = l->next)
    {
      if (!g_strv_contains (allowed, l->data))
        return sim_json_fail (ctx, json_object_get_member (obj, l->data), error,
                              "unknown key '%s' in %s", (const char *) l->data, what);
    }
  return TRUE;
}

JsonNode *
sim_json_member (JsonNode   *node,
                 const char *key)
{
  JsonObject *obj = json_node_get_object (node);

  return json_object_has_member (obj, key)
         ? json_object_get_member (obj, key) : NULL;
}

gboolean
sim_json_want_type (SimJsonCtx  *ctx,
                    JsonNode    *node,
                    const char  *key,
                    JsonNodeType type,
                    GType        value_type,
                    const char  *what,
                    GError     **error)
{
  if (JSON_NODE_TYPE (node) != type
      || (type == JSON_NODE_VALUE && json_node_get_value_type (node) != value_type
          && !(value_type == G_TYPE_DOUBLE
               && json_node_get_value_type (node) == G_TYPE_INT64)))
    return sim_json_fail (ctx, node, error, "'%s' must be %s", key, what);
  return TRUE;
}

gboolean
sim_json_get_string (SimJsonCtx  *ctx,
                     JsonNode    *obj,
                     const char  *key,
                     const char  *fallback,
                     char       **out,
                     GError     **error)
{
  JsonNode *n = sim_json_member (obj, key);

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    {
      *out = g_strdup (fallback);
      return TRUE;
    }
  if (!sim_json_want_type (ctx, n, key, JSON_NODE_VALUE, G_TYPE_STRING, "a string", error))
    return FALSE;
  *out = g_strdup (json_node_get_string (n));
  return TRUE;
}

gboolean
sim_json_get_bool (SimJsonCtx  *ctx,
                   JsonNode    *obj,
                   const char  *key,
                   gboolean     fallback,
                   gboolean    *out,
                   GError     **error)
{
  JsonNode *n = sim_json_member (obj, key);

  if (n == NULL)
    {
      *out = fallback;
      return TRUE;
    }
  if (!sim_json_want_type (ctx, n, key, JSON_NODE_VALUE, G_TYPE_BOOLEAN, "true or false",
                           error))
    return FALSE;
  *out = json_node_get_boolean (n);
  return TRUE;
}

gboolean
sim_json_node_int (SimJsonCtx *ctx,
                   JsonNode *n,
                   const char *key,
                   gint64    min,
                   gint64    max,
                   gint64   *out,
                   GError  **error)
{
  gint64 v;

  if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64)
    v = json_node_get_int (n);
  else if (JSON_NODE_HOLDS_VALUE (n)
           && json_node_get_value_type (n) == G_TYPE_STRING)
    {
      const char *s = json_node_get_string (n);
      char *end = NULL;

      v = g_ascii_strtoll (s, &end, 0);
      if (*s == '\0' || end == NULL || *end != '\0')
        return sim_json_fail (ctx, n, error, "'%s' must be an integer, not \"%s\"",
                              key, s);
    }
  else
    return sim_json_fail (ctx, n, error, "'%s' must be an integer", key);
  if (v < min || v > max)
    return sim_json_fail (ctx, n, error, "'%s' must be between %" G_GINT64_FORMAT
                          " and %" G_GINT64_FORMAT, key, min, max);
  *out = v;
  return TRUE;
}

gboolean
sim_json_get_int (SimJsonCtx *ctx,
                  JsonNode   *obj,
                  const char *key,
                  gint64      min,
                  gint64      max,
                  gint64      fallback,
                  gint64     *out,
                  gboolean   *present,
                  GError    **error)
{
  JsonNode *n = sim_json_member (obj, key);

  if (present != NULL)
    *present = n != NULL;
  if (n == NULL)
    {
      *out = fallback;
      return TRUE;
    }
  return sim_json_node_int (ctx, n, key, min, max, out, error);
}

gboolean
sim_json_parse_hex (SimJsonCtx  *ctx,
                    JsonNode    *n,
                    const char  *key,
                    GByteArray **out,
                    GError     **error)
{
  const char *s;
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  int hi = -1;

  if (!sim_json_want_type (ctx, n, key, JSON_NODE_VALUE, G_TYPE_STRING,
                           "a hex string", error))
    return FALSE;
  s = json_node_get_string (n);
  for (const char *p = s; *p != '\0'; p++)
    {
      int d;

      if (*p == ' ' || *p == ':' || *p == '-')
        continue;
      d = g_ascii_xdigit_value (*p);
      if (d < 0)
        return sim_json_fail (ctx, n, error, "'%s' is not hex: bad character '%c'",
                              key, *p);
      if (hi < 0)
        hi = d;
      else
        {
          guint8 b = (guint8) (hi << 4 | d);

          g_byte_array_append (bytes, &b, 1);
          hi = -1;
        }
    }
  if (hi >= 0)
    return sim_json_fail (ctx, n, error, "'%s' has an odd number of hex digits", key);
  *out = g_steal_pointer (&bytes);
  return TRUE;
}

gboolean
sim_json_get_hex (SimJsonCtx  *ctx,
                  JsonNode    *obj,
                  const char  *key,
                  GByteArray **out,
                  GError     **error)
{
  JsonNode *n = sim_json_member (obj, key);

  if (n == NULL)
    {
      *out = g_byte_array_new ();
      return TRUE;
    }
  return sim_json_parse_hex (ctx, n, key, out, error);
}

JsonParser *
sim_json_parse (SimJsonCtx  *ctx,
                const char  *data,
                gssize       length,
                GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local = NULL;

  g_signal_connect (parser, "object-member", G_CALLBACK (on_object_member), ctx);
  g_signal_connect (parser, "array-element", G_CALLBACK (on_array_element), ctx);
  if (!json_parser_load_from_data (parser, data, length, &local))
    {
      /* json-glib says "<data>:LINE:COL: reason"; put the file name in. */
      const char *msg = local->message;

      if (g_str_has_prefix (msg, "<data>:"))
        msg += strlen ("<data>:");
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s:%s",
                   ctx->file, msg);
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s:1:1: empty document", ctx->file);
      return NULL;
    }
  return g_steal_pointer (&parser);
}

