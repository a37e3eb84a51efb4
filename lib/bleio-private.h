/* SPDX-License-Identifier: MIT */
/*
 * The error map's internals (lib/bleio-error.c), for the library and its
 * tests. The cache and client headers take the property index from here.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-prop-index-private.h"

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
