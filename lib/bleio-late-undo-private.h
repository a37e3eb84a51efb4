/* SPDX-License-Identifier: MIT */
/*
 * Undoing a connect that completes after its caller gave up
 * (lib/bleio-late-undo.c). When an attempt is abandoned while
 * Adapter1.ConnectDevice runs and bluetoothd has no Device1 object to
 * disconnect yet, bluetoothd may still finish the link later. An undo
 * watches, on the client's worker thread, for that device to come up
 * connected within 45 s and disconnects it, unless it is dropped first (a
 * new connect to the same address drops it).
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-late-undo-private.h is internal to libbleio"
#endif

#include "bleio-client-private.h"

G_BEGIN_DECLS

typedef struct _BleioLateUndo BleioLateUndo;

/* Starts watching for @address's device under @adapter_path. */
BleioLateUndo *bleio_late_undo_start       (BleioClient   *client,
                                            const char    *adapter_path,
                                            const char    *address);
/* TRUE once it disconnected, saw the device come from elsewhere, expired
 * or was dropped. Any thread. */
gboolean       bleio_late_undo_is_finished (BleioLateUndo *undo);
/* Stops watching and lets go of @undo (a GDestroyNotify). Any thread. */
void           bleio_late_undo_drop        (gpointer       undo);

G_END_DECLS
