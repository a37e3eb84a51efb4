/* SPDX-License-Identifier: MIT */
/*
 * The notification inbox (lib/bleio-inbox.c): a thread-safe byte or packet
 * FIFO with blocking reads, which the buffers read from and a notifier
 * fills.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-inbox-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>

G_BEGIN_DECLS

typedef enum {
  BLEIO_INBOX_BYTES,      /* byte FIFO; when full, new bytes are dropped */
  BLEIO_INBOX_PACKETS,    /* packet FIFO; when full, the oldest is dropped */
} BleioInboxMode;

typedef struct _BleioInbox BleioInbox;

BleioInbox *bleio_inbox_new        (BleioInboxMode mode,
                                    gsize          capacity);
BleioInbox *bleio_inbox_ref        (BleioInbox *inbox);
void        bleio_inbox_unref      (BleioInbox *inbox);
/* Any thread. Ignored once lost or closed. */
void        bleio_inbox_push       (BleioInbox   *inbox,
                                    const guint8 *data,
                                    gsize         len);
/* The link went down: readers drain what is there, then get CONNECTION. */
void        bleio_inbox_set_lost   (BleioInbox *inbox);
/* The attribute went with a change of the peer's database: readers
 * drain what is there, then get DOES_NOT_EXIST. */
void        bleio_inbox_set_gone   (BleioInbox *inbox);
/* deinit: readers get INVALID_ARGUMENT at once. */
void        bleio_inbox_close      (BleioInbox *inbox);
BleioInboxMode bleio_inbox_get_mode (BleioInbox *inbox);
gboolean    bleio_inbox_is_lost    (BleioInbox *inbox);
gboolean    bleio_inbox_is_closed  (BleioInbox *inbox);
gsize       bleio_inbox_get_waiting (BleioInbox *inbox);
guint64     bleio_inbox_get_dropped (BleioInbox *inbox);
void        bleio_inbox_count_dropped (BleioInbox *inbox,
                                       guint64     count);
void        bleio_inbox_clear      (BleioInbox *inbox);
/* BYTES: waits until @want bytes (or, with @line, a newline) are there,
 * the link is lost, or @end_time (monotonic, µs) passes; copies up to @max
 * bytes. -1 with @error on deinit, or when the link is lost and nothing is
 * buffered. */
gssize      bleio_inbox_read_bytes (BleioInbox  *inbox,
                                    guint8      *dest,
                                    gsize        max,
                                    gsize        want,
                                    gboolean     line,
                                    gint64       end_time,
                                    GError     **error);
/* PACKETS: the oldest packet or NULL (no error) when empty. */
GBytes     *bleio_inbox_pop_packet (BleioInbox  *inbox,
                                    GError     **error);

G_END_DECLS
