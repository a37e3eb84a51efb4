/* SPDX-License-Identifier: MIT */
/* BleioAdapter's internals (lib/bleio-adapter.c), for the code that finds
 * adapters. */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-adapter-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-client-private.h"

G_BEGIN_DECLS

/* The adapter object for @path on @client's bus (lib/bleio-adapter.c):
 * the existing one, or a new one whose signals go to @context. */
BleioAdapter     *bleio_adapter_dup_for_path    (BleioClient  *client,
                                                 const char   *path,
                                                 GMainContext *context);

G_END_DECLS
