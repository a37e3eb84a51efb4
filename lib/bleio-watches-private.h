/* SPDX-License-Identifier: MIT */
/*
 * The client's watches and the handing of events to them
 * (bleio_client_watch_keys() and friends are built on this).
 *
 * Each watch names what it wants (BleioClientWatchKey) and is filed under
 * it: by exact path, among the few with a subtree, or among the few that
 * want every path. An object event is matched only against the watches
 * filed under its path and those few, and reaches the ones whose key
 * matches its path, interface and kind; an OWNER event reaches every
 * watch.
 *
 * Order: the watches an event reaches hear it newest first. Those in the
 * worker's context (NULL) are called at once, one after the other, before
 * the event is queued for any watch in another context; each of those
 * gets the events in order from an idle source there.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-watches-private.h is internal to libbleio"
#endif

#include "bleio-client-event-private.h"

G_BEGIN_DECLS

typedef struct _BleioWatches BleioWatches;

/* @client is what the watch functions are given (not a reference). */
BleioWatches *bleio_watches_new    (BleioClient               *client);
/* Drops every watch (each destroy notify runs, here or when its last
 * queued dispatch has gone). */
void          bleio_watches_free   (BleioWatches              *watches);
guint         bleio_watches_add    (BleioWatches              *watches,
                                    GMainContext              *context,
                                    const BleioClientWatchKey *keys,
                                    guint                      n_keys,
                                    BleioClientWatchFunc       func,
                                    gpointer                   user_data,
                                    GDestroyNotify             destroy);
void          bleio_watches_remove (BleioWatches              *watches,
                                    guint                      id);
/* Runs in the worker. */
void          bleio_watches_emit   (BleioWatches              *watches,
                                    const BleioClientEvent    *event);

G_END_DECLS
