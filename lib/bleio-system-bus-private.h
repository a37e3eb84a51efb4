/* SPDX-License-Identifier: MIT */
/*
 * The system bus connection the library talks to BlueZ on when the
 * application gives none: GLib's shared one while it is open, else (the
 * bus went away and came back, and somebody still holds GLib's closed
 * one) a connection of the library's own, shared the same way.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-system-bus-private.h is internal to libbleio"
#endif

#include <gio/gio.h>

G_BEGIN_DECLS

void             bleio_system_bus_get_async  (GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
/* An open connection (transfer full), or NULL with
 * BLEIO_ERROR_BLUEZ_UNAVAILABLE saying the bus cannot be reached. */
GDBusConnection *bleio_system_bus_get_finish (GAsyncResult        *result,
                                              GError             **error);

G_END_DECLS
