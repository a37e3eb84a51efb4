/* SPDX-License-Identifier: MIT */
/*
 * Noticing that a connected peer's GATT database changed (lib/bleio-db-watch.c):
 * GATT objects under the device removed or added after its services were
 * resolved. The connection owns one and gets told once per change, after
 * the new objects have settled.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-db-watch-private.h is internal to libbleio"
#endif

#include "bleio-client-private.h"

G_BEGIN_DECLS

/* How long no GATT object under the device may come or go before a
 * change counts as settled. bluetoothd 5.66 marks neither the start nor
 * the end of what it does on a Service Changed indication on D-Bus
 * (ServicesResolved stays true; docs/bluez-limits.md), and each new
 * service appears only after a few ATT round trips of a connection
 * interval each (7.5 ms to 4 s, commonly 30-50 ms). */
#define BLEIO_DB_SETTLE_MSEC 1000

/* Called in @context with the lowest and highest handles of the objects
 * that went or came. */
typedef void (*BleioDbChangedFunc) (guint16  start,
                                    guint16  end,
                                    gpointer user_data);

/* Starts watching @device_path's GATT objects; @func runs in @context
 * with @user_data, which @destroy frees with the watch. Returns the watch
 * id for bleio_client_unwatch(). */
guint bleio_db_watch (BleioClient        *client,
                      const char         *device_path,
                      GMainContext       *context,
                      BleioDbChangedFunc  func,
                      gpointer            user_data,
                      GDestroyNotify      destroy);

G_END_DECLS
