/* SPDX-License-Identifier: MIT */
/*
 * Watching for links that centrals make to an adapter
 * (lib/bleio-adapter-incoming.c). The adapter starts the watch and hears
 * of each such link through a callback, so this file needs nothing of it.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-adapter-incoming-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-client-private.h"
#include "bleio-connect-private.h"

G_BEGIN_DECLS

/* Called in the owner's context with the link's connection object. */
typedef void (*BleioIncomingFunc) (GObject         *owner,
                                   BleioConnection *connection);

/* Watches the devices under @adapter_path for links that none of
 * @queue's attempts claims, and calls @func with each in @context.
 * @owner (the adapter; held weakly) owns @queue: the queue is only used
 * while @owner is alive. Returns the id for bleio_client_unwatch(). */
guint bleio_incoming_watch (BleioClient       *client,
                            const char        *adapter_path,
                            BleioConnectQueue *queue,
                            GMainContext      *context,
                            GObject           *owner,
                            BleioIncomingFunc  func);

G_END_DECLS
