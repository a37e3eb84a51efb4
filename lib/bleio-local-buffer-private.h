/* SPDX-License-Identifier: MIT */
/*
 * The buffers on a local characteristic (lib/bleio-local-buffer.c): the
 * feed that puts every client write into a buffer's inbox, and the
 * packets a PacketBuffer sends as notifications or indications. The
 * buffers (lib/bleio-characteristic-buffer.c, lib/bleio-packet-buffer.c)
 * keep their reads, bounds, drop counting and deinit for both roles.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-local-buffer-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-inbox-private.h"

G_BEGIN_DECLS

typedef struct _BleioLocalFeed BleioLocalFeed;

/* From now on every client write to the local @characteristic (through
 * WriteValue or the acquired write socket) is pushed into @inbox. */
BleioLocalFeed *bleio_local_feed_start    (BleioCharacteristic *characteristic,
                                           BleioInbox          *inbox);
/* No more writes reach the inbox once it returns; any thread, again. */
void            bleio_local_feed_stop     (BleioLocalFeed *feed);
void            bleio_local_feed_free     (BleioLocalFeed *feed);
/* The longest packet a client write brings, and the longest the
 * PacketBuffer sends: the MTU bluetoothd gave with an acquired socket
 * (23 before one), less 3, within the characteristic's max_length. */
gsize           bleio_local_feed_get_incoming_length (BleioLocalFeed *feed);
gsize           bleio_local_feed_get_outgoing_length (BleioLocalFeed *feed);
/* Whether values go out through the acquired notify socket now. */
gboolean        bleio_local_feed_get_notify_acquired (BleioLocalFeed *feed);
/* Sends @header and @data joined, one packet, as the characteristic's
 * value to the subscribed clients:
 * the task (source @source_object) returns its length once bluetoothd has
 * it (a confirmed indication for an INDICATE-only characteristic), 0 when
 * no client is subscribed. */
void            bleio_local_feed_send_async (BleioLocalFeed      *feed,
                                             gpointer             source_object,
                                             const guint8        *header,
                                             gsize                header_length,
                                             const guint8        *data,
                                             gsize                length,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);

G_END_DECLS
