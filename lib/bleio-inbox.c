/* SPDX-License-Identifier: MIT */
/*
 * The notification inbox: a thread-safe byte or packet FIFO. A notifier
 * pushes from the client's worker thread; a buffer reads from any thread,
 * blocking until enough is there, the link is lost or its timeout passes.
 */
#include "bleio-inbox-private.h"

#include <string.h>

struct _BleioInbox {
  gint ref_count;
  BleioInboxMode mode;
  gsize capacity;

  GMutex lock;
  GCond cond;
  guint8 *ring;                 /* BYTES */
  gsize head;
  gsize len;
  GQueue packets;               /* PACKETS: GBytes* */
  guint64 dropped;
  gboolean lost;
  gboolean gone;                /* lost because the attribute is gone */
  gboolean closed;
};

BleioInbox *
bleio_inbox_new (BleioInboxMode mode,
                 gsize          capacity)
{
  BleioInbox *inbox = g_new0 (BleioInbox, 1);

  inbox->ref_count = 1;
  inbox->mode = mode;
  inbox->capacity = MAX (capacity, 1);
  g_mutex_init (&inbox->lock);
  g_cond_init (&inbox->cond);
  g_queue_init (&inbox->packets);
  if (mode == BLEIO_INBOX_BYTES)
    inbox->ring = g_malloc (inbox->capacity);
  return inbox;
}

BleioInbox *
bleio_inbox_ref (BleioInbox *inbox)
{
  g_atomic_int_inc (&inbox->ref_count);
  return inbox;
}

void
bleio_inbox_unref (BleioInbox *inbox)
{
  if (inbox == NULL || !g_atomic_int_dec_and_test (&inbox->ref_count))
    return;
  g_queue_clear_full (&inbox->packets, (GDestroyNotify) g_bytes_unref);
  g_free (inbox->ring);
  g_mutex_clear (&inbox->lock);
  g_cond_clear (&inbox->cond);
  g_free (inbox);
}

void
bleio_inbox_push (BleioInbox   *inbox,
                  const guint8 *data,
                  gsize         len)
{
  g_mutex_lock (&inbox->lock);
  if (inbox->lost || inbox->closed)
    {
      g_mutex_unlock (&inbox->lock);
      return;
    }
  if (inbox->mode == BLEIO_INBOX_BYTES)
    {
      gsize room = inbox->capacity - inbox->len;
      gsize take = MIN (room, len);

      gsize tail = (inbox->head + inbox->len) % inbox->capacity;
      gsize first = MIN (take, inbox->capacity - tail);

      /* As _bleio: what does not fit is dropped. The free space is at
       * most two runs of the ring: copy them whole. */
      memcpy (inbox->ring + tail, data, first);
      memcpy (inbox->ring, data + first, take - first);
      inbox->len += take;
      inbox->dropped += len - take;
    }
  else
    {
      if (g_queue_get_length (&inbox->packets) >= inbox->capacity)
        {
          g_bytes_unref (g_queue_pop_head (&inbox->packets));
          inbox->dropped++;
        }
      g_queue_push_tail (&inbox->packets, g_bytes_new (data, len));
    }
  g_cond_broadcast (&inbox->cond);
  g_mutex_unlock (&inbox->lock);
}

void
bleio_inbox_set_lost (BleioInbox *inbox)
{
  g_mutex_lock (&inbox->lock);
  inbox->lost = TRUE;
  g_cond_broadcast (&inbox->cond);
  g_mutex_unlock (&inbox->lock);
}

void
bleio_inbox_set_gone (BleioInbox *inbox)
{
  g_mutex_lock (&inbox->lock);
  inbox->lost = TRUE;
  inbox->gone = TRUE;
  g_cond_broadcast (&inbox->cond);
  g_mutex_unlock (&inbox->lock);
}

void
bleio_inbox_close (BleioInbox *inbox)
{
  g_mutex_lock (&inbox->lock);
  inbox->closed = TRUE;
  g_cond_broadcast (&inbox->cond);
  g_mutex_unlock (&inbox->lock);
}

BleioInboxMode
bleio_inbox_get_mode (BleioInbox *inbox)
{
  return inbox->mode;
}

gboolean
bleio_inbox_is_lost (BleioInbox *inbox)
{
  gboolean lost;

  g_mutex_lock (&inbox->lock);
  lost = inbox->lost;
  g_mutex_unlock (&inbox->lock);
  return lost;
}

gboolean
bleio_inbox_is_closed (BleioInbox *inbox)
{
  gboolean closed;

  g_mutex_lock (&inbox->lock);
  closed = inbox->closed;
  g_mutex_unlock (&inbox->lock);
  return closed;
}

gsize
bleio_inbox_get_waiting (BleioInbox *inbox)
{
  gsize waiting;

  g_mutex_lock (&inbox->lock);
  waiting = inbox->mode == BLEIO_INBOX_BYTES ? inbox->len : g_queue_get_length (&inbox->packets);
  g_mutex_unlock (&inbox->lock);
  return waiting;
}

guint64
bleio_inbox_get_dropped (BleioInbox *inbox)
{
  guint64 dropped;

  g_mutex_lock (&inbox->lock);
  dropped = inbox->dropped;
  g_mutex_unlock (&inbox->lock);
  return dropped;
}

void
bleio_inbox_count_dropped (BleioInbox *inbox,
                           guint64     count)
{
  g_mutex_lock (&inbox->lock);
  inbox->dropped += count;
  g_mutex_unlock (&inbox->lock);
}

void
bleio_inbox_clear (BleioInbox *inbox)
{
  g_mutex_lock (&inbox->lock);
  inbox->head = 0;
  inbox->len = 0;
  g_queue_clear_full (&inbox->packets, (GDestroyNotify) g_bytes_unref);
  g_queue_init (&inbox->packets);
  g_mutex_unlock (&inbox->lock);
}

static gboolean
closed_error (GError **error)
{
  g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                       "Object has been deinitialized and can no longer be used");
  return FALSE;
}

static gboolean
lost_error (gboolean   gone,
            GError   **error)
{
  if (gone)
    g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_DOES_NOT_EXIST,
                         "The peer's database changed: discover services again");
  else
    g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_CONNECTION,
                       "Connection has been disconnected and can no longer be used. "
                       "Create a new connection.");
  return FALSE;
}

/* Under the lock: how many bytes up to and including the first newline
 * among the first @max, or 0 when there is none. */
static gsize
line_length (BleioInbox *inbox,
             gsize       max)
{
  gsize n = MIN (inbox->len, max);

  for (gsize i = 0; i < n; i++)
    if (inbox->ring[(inbox->head + i) % inbox->capacity] == '\n')
      return i + 1;
  return 0;
}

gssize
bleio_inbox_read_bytes (BleioInbox  *inbox,
                        guint8      *dest,
                        gsize        max,
                        gsize        want,
                        gboolean     line,
                        gint64       end_time,
                        GError     **error)
{
  gsize n = 0;

  want = MIN (MIN (want, max), inbox->capacity);
  g_mutex_lock (&inbox->lock);
  for (;;)
    {
      if (inbox->closed)
        {
          g_mutex_unlock (&inbox->lock);
          closed_error (error);
          return -1;
        }
      if (line)
        {
          n = line_length (inbox, max);
          if (n == 0 && (inbox->len >= max || inbox->len >= inbox->capacity))
            n = MIN (inbox->len, max);
          if (n > 0)
            break;
        }
      else if (inbox->len >= want && inbox->len > 0)
        break;
      if (inbox->lost)
        break;
      if (!g_cond_wait_until (&inbox->cond, &inbox->lock, end_time))
        break;
    }
  if (n == 0)
    n = MIN (inbox->len, max);
  if (n == 0 && inbox->lost)
    {
      gboolean gone = inbox->gone;

      g_mutex_unlock (&inbox->lock);
      lost_error (gone, error);
      return -1;
    }
  {
    gsize first = MIN (n, inbox->capacity - inbox->head);

    memcpy (dest, inbox->ring + inbox->head, first);
    memcpy (dest + first, inbox->ring, n - first);
  }
  inbox->head = (inbox->head + n) % inbox->capacity;
  inbox->len -= n;
  g_mutex_unlock (&inbox->lock);
  return (gssize) n;
}

GBytes *
bleio_inbox_pop_packet (BleioInbox  *inbox,
                        GError     **error)
{
  GBytes *packet;

  g_mutex_lock (&inbox->lock);
  if (inbox->closed)
    {
      g_mutex_unlock (&inbox->lock);
      closed_error (error);
      return NULL;
    }
  packet = g_queue_pop_head (&inbox->packets);
  if (packet == NULL && inbox->lost)
    {
      gboolean gone = inbox->gone;

      g_mutex_unlock (&inbox->lock);
      lost_error (gone, error);
      return NULL;
    }
  g_mutex_unlock (&inbox->lock);
  return packet;
}
