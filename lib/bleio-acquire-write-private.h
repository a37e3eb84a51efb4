/* SPDX-License-Identifier: MIT */
/*
 * Characteristic1.AcquireWrite (lib/bleio-acquire-write.c): a socket to
 * write without response through, for the packet buffer.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-acquire-write-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-client-private.h"

G_BEGIN_DECLS

/* AcquireWrite on the characteristic at @path: the descriptor and its
 * MTU, or -1 with @error. */
void           bleio_acquire_write_async   (BleioClient         *client,
                                            const char          *path,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
int            bleio_acquire_write_finish  (GAsyncResult  *result,
                                            guint16       *mtu,
                                            GError       **error);

G_END_DECLS
