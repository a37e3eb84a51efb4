/* SPDX-License-Identifier: MIT */
/*
 * The property index: a few keys of a BlueZ a{sv} dictionary taken in one
 * pass; see bleio-prop-index-private.h for why.
 */
#include "bleio-prop-index-private.h"

#include <string.h>

/* (transfer none) */
static GVariant *
index_find (const BleioPropIndex *index,
            const char           *key)
{
  for (guint i = 0; i < index->n; i++)
    if (index->names[i] == key || strcmp (index->names[i], key) == 0)
      return index->values[i];
  return NULL;
}

void
bleio_prop_index_init (BleioPropIndex     *index,
                       GVariant           *dict,
                       const char * const *keys,
                       guint               n_keys)
{
  GVariantIter iter;
  GVariant *entry;

  g_assert (n_keys <= G_N_ELEMENTS (index->names));
  index->n = 0;
  g_variant_iter_init (&iter, dict);
  while (index->n < n_keys && (entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);
      const char *name = g_variant_get_string (key, NULL);
      guint i;

      for (i = 0; i < n_keys; i++)
        if (strcmp (name, keys[i]) == 0)
          break;
      if (i < n_keys && index_find (index, keys[i]) == NULL)
        {
          g_autoptr(GVariant) boxed = g_variant_get_child_value (entry, 1);

          index->names[index->n] = keys[i];
          index->values[index->n] = g_variant_get_variant (boxed);
          index->n++;
        }
      g_variant_unref (entry);
    }
}

GVariant *
bleio_prop_index_lookup (const BleioPropIndex *index,
                         const char           *key,
                         const GVariantType   *type)
{
  GVariant *value = index_find (index, key);

  if (value == NULL || (type != NULL && !g_variant_is_of_type (value, type)))
    return NULL;
  return g_variant_ref (value);
}

void
bleio_prop_index_replace (BleioPropIndex *index,
                          const char     *key,
                          GVariant       *value)
{
  for (guint i = 0; i < index->n; i++)
    if (index->names[i] == key || strcmp (index->names[i], key) == 0)
      {
        g_variant_ref (value);
        g_variant_unref (index->values[i]);
        index->values[i] = value;
        return;
      }
  if (index->n == G_N_ELEMENTS (index->names))
    return;
  index->names[index->n] = key;
  index->values[index->n] = g_variant_ref (value);
  index->n++;
}

void
bleio_prop_index_clear (BleioPropIndex *index)
{
  for (guint i = 0; i < index->n; i++)
    g_variant_unref (index->values[i]);
  index->n = 0;
}
