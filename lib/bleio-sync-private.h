/* SPDX-License-Identifier: MIT */
/*
 * Blocking twins: a blocking call starts its async twin on a private
 * GMainContext, pushed as the thread-default one, and iterates only that
 * context until the result is in. Nothing else the thread owns runs
 * meanwhile, and no other thread's loop is needed.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-sync-private.h is internal to libbleio"
#endif

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  GMainContext *context;
  GAsyncResult *result;
} BleioSync;

/* Makes the private context and pushes it as the thread-default one. */
void          bleio_sync_begin    (BleioSync    *sync);
/* The GAsyncReadyCallback to give the async twin, with @sync as its data. */
void          bleio_sync_callback (GObject      *source,
                                   GAsyncResult *result,
                                   gpointer      user_data);
/* Iterates the private context until the result is in (transfer none). */
GAsyncResult *bleio_sync_wait     (BleioSync    *sync);
/* Runs what is left ready, pops the context and frees it and the result. */
void          bleio_sync_end      (BleioSync    *sync);

G_END_DECLS
