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

G_END_DECLS
