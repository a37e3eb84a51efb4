/* SPDX-License-Identifier: MIT */
/* Internal declarations shared by the library's sources and its tests. */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>

G_BEGIN_DECLS

/* Looks up an exact D-Bus error name in the table bleio_error_from_dbus()
 * uses; FALSE for a name it does not know. */
gboolean bleio_error_lookup_dbus_name (const char *name,
                                       BleioError *code);

/* Translates @src with bleio_error_from_dbus() into @dest and frees @src.
 * Does nothing when @src is NULL. */
void bleio_propagate_dbus_error (GError **dest,
                                 GError  *src);

/* The values of a few keys of an a{sv} dictionary, taken in one pass.
 * Every g_variant_lookup_value() walks the whole dictionary building a
 * child value per entry: for a Device1 with a dozen properties, the
 * sixteen lookups of a scan entry cost ~450k instructions (bench-scan
 * under callgrind). An index takes the first entry of each key. */
typedef struct {
  guint n;
  const char *names[16];        /* the caller's static key strings */
  GVariant *values[16];         /* the values, unwrapped from their v */
} BleioPropIndex;

/* Fills @index from @dict (a{sv}) with the entries whose key is one of
 * @keys (at most 16). */
void      bleio_prop_index_init   (BleioPropIndex     *index,
                                   GVariant           *dict,
                                   const char * const *keys,
                                   guint               n_keys);
/* The value of @key when it has @type (NULL: any), else NULL. */
GVariant *bleio_prop_index_lookup (const BleioPropIndex *index,
                                   const char           *key,
                                   const GVariantType   *type);
void      bleio_prop_index_clear  (BleioPropIndex     *index);

/* bleio_ad_build_from_bluez() on an index holding (at least) the Device1
 * properties an advertisement is rebuilt from. */
GBytes   *bleio_ad_build_from_index (const BleioPropIndex *props);

G_END_DECLS
