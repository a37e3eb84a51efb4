/* SPDX-License-Identifier: MIT */
/*
 * What BlueZ's object paths say by themselves: the ATT handle in the last
 * component of a GATT attribute's path ("service0008", "char000a",
 * "desc000c").
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-path-private.h is internal to libbleio"
#endif

#include <glib.h>

G_BEGIN_DECLS

/* The hexadecimal handle after @prefix in the last component of @path,
 * or 0 when that component is not @prefix followed by a hexadecimal
 * number no larger than 0xFFFF. */
guint     bleio_path_handle   (const char *path,
                               const char *prefix);

G_END_DECLS
