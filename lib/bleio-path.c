/* SPDX-License-Identifier: MIT */
/*
 * BlueZ object paths; see bleio-path-private.h.
 */
#include "bleio-path-private.h"

#include <string.h>

guint
bleio_path_handle (const char *path,
                   const char *prefix)
{
  const char *base = strrchr (path, '/');
  guint64 value = 0;

  base = base != NULL ? base + 1 : path;
  if (!g_str_has_prefix (base, prefix))
    return 0;
  if (!g_ascii_string_to_unsigned (base + strlen (prefix), 16, 0, 0xFFFF,
                                   &value, NULL))
    return 0;
  return (guint) value;
}
