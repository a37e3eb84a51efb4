/* SPDX-License-Identifier: MIT */
/*
 * Reading JSON with positions (floor 0, values): typed getters whose errors
 * say "FILE:LINE:COLUMN: reason" (G_IO_ERROR_INVALID_DATA). Used by the
 * scenario reader.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *file;           /* the name errors give */
  GHashTable *pos;            /* JsonNode -> line << 16 | column */
} SimJsonCtx;

/* Parses @data, recording positions in @ctx->pos. */
JsonParser *sim_json_parse      (SimJsonCtx  *ctx,
                                 const char  *data,
                                 gssize       length,
                                 GError     **error);
/* Sets @error to "FILE:LINE:COLUMN: message" at @node; returns FALSE. */
gboolean    sim_json_fail       (SimJsonCtx  *ctx,
                                 JsonNode    *node,
                                 GError     **error,
                                 const char  *format,
                                 ...) G_GNUC_PRINTF (4, 5);
/* Fails on a key of the object @node that @allowed lacks. */
gboolean    sim_json_check_keys (SimJsonCtx        *ctx,
                                 JsonNode          *node,
                                 const char *const *allowed,
                                 const char        *what,
                                 GError           **error);
/* The member @key of the object @node, or NULL. */
JsonNode   *sim_json_member     (JsonNode   *node,
                                 const char *key);
gboolean    sim_json_want_type  (SimJsonCtx  *ctx,
                                 JsonNode    *node,
                                 const char  *key,
                                 JsonNodeType type,
                                 GType        value_type,
                                 const char  *what,
                                 GError     **error);
/* The getters give @fallback when @key is absent. */
gboolean    sim_json_get_string (SimJsonCtx  *ctx,
                                 JsonNode    *obj,
                                 const char  *key,
                                 const char  *fallback,
                                 char       **out,
                                 GError     **error);
gboolean    sim_json_get_bool   (SimJsonCtx  *ctx,
                                 JsonNode    *obj,
                                 const char  *key,
                                 gboolean     fallback,
                                 gboolean    *out,
                                 GError     **error);
/* Integers may be written as numbers or as strings ("0x2a", "42"). */
gboolean    sim_json_node_int   (SimJsonCtx *ctx,
                                 JsonNode   *n,
                                 const char *key,
                                 gint64      min,
                                 gint64      max,
                                 gint64     *out,
                                 GError    **error);
gboolean    sim_json_get_int    (SimJsonCtx *ctx,
                                 JsonNode   *obj,
                                 const char *key,
                                 gint64      min,
                                 gint64      max,
                                 gint64      fallback,
                                 gint64     *out,
                                 gboolean   *present,
                                 GError    **error);
/* Hex strings; spaces, ':' and '-' between digits are ignored. */
gboolean    sim_json_parse_hex  (SimJsonCtx  *ctx,
                                 JsonNode    *n,
                                 const char  *key,
                                 GByteArray **out,
                                 GError     **error);
gboolean    sim_json_get_hex    (SimJsonCtx  *ctx,
                                 JsonNode    *obj,
                                 const char  *key,
                                 GByteArray **out,
                                 GError     **error);

G_END_DECLS
