/* SPDX-License-Identifier: MIT */
/*
 * The property index (lib/bleio-prop-index.c): reads BlueZ property
 * dictionaries for the scan entries, the advertisement rebuild and the
 * cache. Pure: no bus, no state.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-prop-index-private.h is internal to libbleio"
#endif

#include <glib.h>

G_BEGIN_DECLS

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
/* Sets @key (a static string, like those given to init) to @value (a
 * reference is taken), replacing what the dictionary held; ignored when
 * the index is full. */
void      bleio_prop_index_replace (BleioPropIndex    *index,
                                    const char        *key,
                                    GVariant          *value);
void      bleio_prop_index_clear  (BleioPropIndex     *index);

G_END_DECLS
