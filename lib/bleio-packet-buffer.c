/* SPDX-License-Identifier: MIT */
/* BleioPacketBuffer: whole packets in (notifications) and out (writes);
 * on a local characteristic, in (client writes) and out (notifications or
 * indications), through lib/bleio-local-buffer.c. */
#include "bleio-acquire-write-private.h"
#include "bleio-att-private.h"
#include "bleio-characteristic-private.h"
#include "bleio-gatt-private.h"
#include "bleio-inbox-private.h"
#include "bleio-local-buffer-private.h"
#include "bleio-notifier-private.h"
#include "bleio-sync-private.h"
#include "bleio-weak-ref-private.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long a write waits for room in the AcquireWrite socket. */
#define WRITE_WAIT_MSEC 5000

struct _BleioPacketBuffer {
  GObject parent_instance;

  BleioInbox *inbox;
  BleioNotifier *notifier;      /* NULL when it can neither notify nor indicate */
  BleioLocalFeed *feed;         /* a local characteristic's, else NULL */
  gsize buffer_size;
  gsize max_packet_size;
  gboolean can_write;

  GMutex lock;
  /* A re-bind (the notifier followed the characteristic to a new object)
   * changes these on the worker; the objects it replaced stay alive in
   * @retired, as bleio_packet_buffer_get_characteristic() gave them out
   * without a reference. */
  BleioCharacteristic *characteristic;
  GPtrArray *retired;
  int write_fd;                 /* AcquireWrite, or -1 */
  guint write_mtu;
  gboolean deinited;
  gboolean write_lost;
  guint writers;                /* writes running on write_fd */
  int deferred_close;           /* write_fd after deinit, closed by the last writer */
};

G_DEFINE_FINAL_TYPE (BleioPacketBuffer, bleio_packet_buffer, G_TYPE_OBJECT)

static void
bleio_packet_buffer_finalize (GObject *object)
{
  BleioPacketBuffer *self = BLEIO_PACKET_BUFFER (object);

  bleio_packet_buffer_deinit (self);
  g_clear_pointer (&self->notifier, bleio_notifier_unref);
  g_clear_pointer (&self->feed, bleio_local_feed_free);
  g_clear_pointer (&self->inbox, bleio_inbox_unref);
  g_clear_object (&self->characteristic);
  g_clear_pointer (&self->retired, g_ptr_array_unref);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (bleio_packet_buffer_parent_class)->finalize (object);
}

static void
bleio_packet_buffer_class_init (BleioPacketBufferClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bleio_packet_buffer_finalize;
}

static void
bleio_packet_buffer_init (BleioPacketBuffer *self)
{
  g_mutex_init (&self->lock);
  self->retired = g_ptr_array_new_with_free_func (g_object_unref);
  self->write_fd = -1;
  self->deferred_close = -1;
}

/* ---- construction ------------------------------------------------------- */

typedef struct {
  BleioCharacteristic *characteristic;
  BleioInbox *inbox;
  BleioNotifier *notifier;
  gsize buffer_size;
  gsize max_packet_size;
  gboolean can_write;
  int write_fd;
  guint16 write_mtu;
} NewData;

static void
new_data_free (gpointer data)
{
  NewData *new_data = data;

  if (new_data->notifier != NULL)
    {
      bleio_notifier_stop (new_data->notifier);
      bleio_notifier_unref (new_data->notifier);
    }
  if (new_data->write_fd >= 0)
    close (new_data->write_fd);
  g_object_unref (new_data->characteristic);
  bleio_inbox_unref (new_data->inbox);
  g_free (new_data);
}

/* The characteristic the buffer is on now (see @retired). */
static BleioCharacteristic *
current_characteristic (BleioPacketBuffer *self)
{
  BleioCharacteristic *characteristic;

  g_mutex_lock (&self->lock);
  characteristic = self->characteristic;
  g_mutex_unlock (&self->lock);
  return characteristic;
}

/* Worker: the AcquireWrite of a re-bind answered. */
static void
rebound_write_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(BleioPacketBuffer) self = g_weak_ref_get (user_data);
  g_autoptr(GError) error = NULL;
  guint16 mtu = 0;
  int fd = bleio_acquire_write_finish (result, &mtu, &error);

  bleio_weak_ref_free (user_data);
  if (fd < 0)
    {
      /* WriteValue serves the writes instead, as when AcquireWrite is
       * refused at the start. */
      g_debug ("AcquireWrite after a re-bind refused (%s): using WriteValue", error->message);
      return;
    }
  if (self != NULL)
    {
      g_mutex_lock (&self->lock);
      if (!self->deinited && self->write_fd < 0)
        {
          self->write_fd = fd;
          self->write_mtu = mtu;
          bleio_characteristic_note_mtu (self->characteristic, mtu);
          fd = -1;
        }
      g_mutex_unlock (&self->lock);
    }
  if (fd >= 0)
    close (fd);
}

/* Worker: the notifier followed the characteristic to @characteristic.
 * Writes move there too: the AcquireWrite descriptor of the old object
 * died with it (bluetoothd closed it), so a new one is asked for when the
 * buffer had one; WriteValue serves the writes meanwhile. */
static void
rebound_cb (BleioCharacteristic *characteristic,
            gpointer             user_data)
{
  g_autoptr(BleioPacketBuffer) self = g_weak_ref_get (user_data);
  gboolean reacquire;
  int fd;

  if (self == NULL)
    return;
  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->retired, self->characteristic);
  self->characteristic = g_object_ref (characteristic);
  self->write_lost = FALSE;
  fd = self->write_fd;
  self->write_fd = -1;
  reacquire = fd >= 0 && !self->deinited;
  if (fd >= 0 && self->writers > 0 && self->deferred_close < 0)
    {
      shutdown (fd, SHUT_RDWR);
      self->deferred_close = fd;
      fd = -1;
    }
  g_mutex_unlock (&self->lock);
  if (fd >= 0)
    close (fd);
  if (reacquire && bleio_characteristic_can_acquire (characteristic, TRUE))
    bleio_acquire_write_async (bleio_characteristic_get_client (characteristic),
                               bleio_characteristic_get_object_path (characteristic),
                               NULL, rebound_write_cb, bleio_weak_ref_new (self));
}

static void
new_return (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  NewData *data = g_task_get_task_data (task);
  BleioPacketBuffer *self = g_object_new (BLEIO_TYPE_PACKET_BUFFER, NULL);

  self->characteristic = g_object_ref (data->characteristic);
  self->inbox = bleio_inbox_ref (data->inbox);
  self->notifier = g_steal_pointer (&data->notifier);
  self->buffer_size = data->buffer_size;
  self->max_packet_size = data->max_packet_size;
  self->can_write = data->can_write;
  self->write_fd = data->write_fd;
  self->write_mtu = data->write_mtu;
  data->write_fd = -1;
  if (self->notifier != NULL)
    bleio_notifier_set_rebound (self->notifier, rebound_cb, bleio_weak_ref_new (self),
                                bleio_weak_ref_free);
  g_task_return_pointer (task, self, g_object_unref);
}

static void
acquire_write_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  NewData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  data->write_fd = bleio_acquire_write_finish (result, &data->write_mtu, &error);
  if (data->write_fd >= 0)
    {
      bleio_characteristic_note_mtu (data->characteristic, data->write_mtu);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
           g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_CONNECTION))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  else
    {
      g_debug ("AcquireWrite on %s refused (%s): using WriteValue",
               bleio_characteristic_get_object_path (data->characteristic), error->message);
    }
  new_return (g_steal_pointer (&task));
}

static void
setup_write (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  NewData *data = g_task_get_task_data (task);

  if (bleio_characteristic_can_acquire (data->characteristic, TRUE))
    {
      GCancellable *cancellable = g_task_get_cancellable (task);

      bleio_acquire_write_async (bleio_characteristic_get_client (data->characteristic),
                                 bleio_characteristic_get_object_path (data->characteristic),
                                 cancellable, acquire_write_cb, g_steal_pointer (&task));
      return;
    }
  new_return (g_steal_pointer (&task));
}

static void
notifier_started_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  NewData *data = g_task_get_task_data (task);
  GError *error = NULL;

  data->notifier = bleio_notifier_start_finish (result, &error);
  if (data->notifier == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  setup_write (g_steal_pointer (&task));
}

/* On a local characteristic: packets in are client writes, packets out
 * are notifications or indications. */
static void
new_local (GTask                         *task_in,
           BleioCharacteristicProperties  properties)
{
  g_autoptr(GTask) task = task_in;
  NewData *data = g_task_get_task_data (task);
  BleioPacketBuffer *self;

  if (!(properties & (BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY | BLEIO_CHARACTERISTIC_PROPERTY_INDICATE |
                      BLEIO_CHARACTERISTIC_PROPERTY_WRITE |
                      BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE)))
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                               "Clients can neither write this local characteristic nor "
                               "subscribe to it: give it WRITE, WRITE_NO_RESPONSE, NOTIFY "
                               "or INDICATE");
      return;
    }
  self = g_object_new (BLEIO_TYPE_PACKET_BUFFER, NULL);
  self->characteristic = g_object_ref (data->characteristic);
  self->inbox = bleio_inbox_ref (data->inbox);
  self->feed = bleio_local_feed_start (data->characteristic, data->inbox);
  self->buffer_size = data->buffer_size;
  self->max_packet_size = data->max_packet_size;
  self->can_write = (properties & (BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY |
                                   BLEIO_CHARACTERISTIC_PROPERTY_INDICATE)) != 0;
  g_task_return_pointer (task, self, g_object_unref);
}

void
bleio_packet_buffer_new_async (BleioCharacteristic *characteristic,
                               gsize                buffer_size,
                               gsize                max_packet_size,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  BleioCharacteristicProperties properties;
  GError *error = NULL;
  NewData *data;

  g_return_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic));
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, BLEIO_TAG (bleio_packet_buffer_new_async));
  data = g_new0 (NewData, 1);
  data->characteristic = g_object_ref (characteristic);
  data->buffer_size = MAX (buffer_size, 1);
  data->max_packet_size = max_packet_size;
  data->write_fd = -1;
  data->inbox = bleio_inbox_new (BLEIO_INBOX_PACKETS, data->buffer_size);
  g_task_set_task_data (task, data, new_data_free);

  properties = bleio_characteristic_get_properties (characteristic);
  if (bleio_characteristic_get_local (characteristic) != NULL)
    {
      new_local (g_steal_pointer (&task), properties);
      return;
    }
  data->can_write = (properties & (BLEIO_CHARACTERISTIC_PROPERTY_WRITE |
                                   BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE)) != 0;
  if (!bleio_characteristic_check_connected (characteristic, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (properties & (BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY | BLEIO_CHARACTERISTIC_PROPERTY_INDICATE))
    {
      bleio_notifier_start_async (characteristic, data->inbox, TRUE, cancellable,
                                  notifier_started_cb, g_steal_pointer (&task));
      return;
    }
  if (!data->can_write)
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                               "Characteristic %s can neither notify, indicate nor be written",
                               bleio_characteristic_get_object_path (characteristic));
      return;
    }
  setup_write (g_steal_pointer (&task));
}

BleioPacketBuffer *
bleio_packet_buffer_new_finish (GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

BleioPacketBuffer *
bleio_packet_buffer_new (BleioCharacteristic  *characteristic,
                         gsize                 buffer_size,
                         gsize                 max_packet_size,
                         GError              **error)
{
  BleioSync sync;
  BleioPacketBuffer *buffer;

  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), NULL);
  bleio_sync_begin (&sync);
  bleio_packet_buffer_new_async (characteristic, buffer_size, max_packet_size, NULL,
                                 bleio_sync_callback, &sync);
  buffer = bleio_packet_buffer_new_finish (bleio_sync_wait (&sync), error);
  bleio_sync_end (&sync);
  return buffer;
}

/* ---- reading -------------------------------------------------------------- */

GBytes *
bleio_packet_buffer_read_packet (BleioPacketBuffer  *buffer,
                                 GError            **error)
{
  g_return_val_if_fail (BLEIO_IS_PACKET_BUFFER (buffer), NULL);
  return bleio_inbox_pop_packet (buffer->inbox, error);
}

gssize
bleio_packet_buffer_readinto (BleioPacketBuffer  *buffer,
                              guint8             *data,
                              gsize               length,
                              GError            **error)
{
  GError *local = NULL;
  g_autoptr(GBytes) packet = NULL;
  gsize size;

  g_return_val_if_fail (BLEIO_IS_PACKET_BUFFER (buffer), -1);
  g_return_val_if_fail (data != NULL || length == 0, -1);
  packet = bleio_inbox_pop_packet (buffer->inbox, &local);
  if (packet == NULL)
    {
      if (local == NULL)
        return 0;
      g_propagate_error (error, local);
      return -1;
    }
  size = g_bytes_get_size (packet);
  if (size > length)
    {
      bleio_inbox_count_dropped (buffer->inbox, 1);
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "Buffer too short by %" G_GSIZE_FORMAT " bytes", size - length);
      return -1;
    }
  if (size > 0)
    memcpy (data, g_bytes_get_data (packet, NULL), size);
  return (gssize) size;
}

/* ---- lengths -------------------------------------------------------------- */

static gsize
bound (BleioPacketBuffer *self,
       guint              mtu)
{
  gsize length = mtu > 3 ? mtu - 3 : 0;

  if (self->max_packet_size > 0)
    length = MIN (length, self->max_packet_size);
  return length;
}

gsize
bleio_packet_buffer_get_incoming_packet_length (BleioPacketBuffer *buffer)
{
  guint mtu;

  g_return_val_if_fail (BLEIO_IS_PACKET_BUFFER (buffer), 0);
  if (buffer->feed != NULL)
    return bound (buffer, (guint) bleio_local_feed_get_incoming_length (buffer->feed) + 3);
  if (buffer->notifier == NULL)
    return 0;
  mtu = bleio_notifier_get_mtu (buffer->notifier);
  if (mtu < BLEIO_ATT_DEFAULT_MTU)
    mtu = bleio_characteristic_get_mtu (current_characteristic (buffer));
  return bound (buffer, mtu);
}

/* The outgoing length on @characteristic with the descriptor's MTU
 * @write_mtu (0 without one); the caller read both under the lock (a
 * deinit or a re-bind changes them). */
static gsize
outgoing_length (BleioPacketBuffer   *buffer,
                 BleioCharacteristic *characteristic,
                 guint                write_mtu)
{
  guint mtu = write_mtu;

  if (!buffer->can_write)
    return 0;
  if (buffer->feed != NULL)
    return bound (buffer, (guint) bleio_local_feed_get_outgoing_length (buffer->feed) + 3);
  if (mtu < BLEIO_ATT_DEFAULT_MTU)
    mtu = bleio_characteristic_get_mtu (characteristic);
  return bound (buffer, mtu);
}

gsize
bleio_packet_buffer_get_outgoing_packet_length (BleioPacketBuffer *buffer)
{
  BleioCharacteristic *characteristic;
  guint write_mtu;

  g_return_val_if_fail (BLEIO_IS_PACKET_BUFFER (buffer), 0);
  g_mutex_lock (&buffer->lock);
  write_mtu = buffer->write_fd >= 0 ? buffer->write_mtu : 0;
  characteristic = buffer->characteristic;
  g_mutex_unlock (&buffer->lock);
  return outgoing_length (buffer, characteristic, write_mtu);
}

/* ---- writing -------------------------------------------------------------- */

static void
write_value_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  g_autoptr(GVariant) reply = bleio_gatt_call_finish (result, &error);

  if (reply == NULL && g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_CONNECTION))
    {
      /* _bleio: nothing queued when not connected. */
      g_error_free (error);
      g_task_return_int (task, 0);
      return;
    }
  if (reply == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_int (task, GPOINTER_TO_SIZE (g_task_get_task_data (task)));
}

/* Sends one packet on the AcquireWrite socket: its size, 0 when the link
 * is gone, -1 with @error. */
static gssize
send_packet (int            fd,
             const guint8  *packet,
             gsize          size,
             GError       **error)
{
  /* The deadline is taken when the socket first fills: the clock read per
   * packet was a tenth of a write's cost next to raw send() (bench-write). */
  gint64 end = 0;

  for (;;)
    {
      ssize_t n = send (fd, packet, size, MSG_NOSIGNAL | MSG_DONTWAIT);
      struct pollfd pfd = { .fd = fd, .events = POLLOUT };
      gint64 left;

      if (n >= 0)
        return n;
      if (errno == EINTR)
        continue;
      if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN)
        return 0;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        {
          int saved = errno;

          g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_BLUETOOTH,
                       "Cannot write to the AcquireWrite descriptor: %s",
                       g_strerror (saved));
          return -1;
        }
      if (end == 0)
        end = g_get_monotonic_time () + WRITE_WAIT_MSEC * G_TIME_SPAN_MILLISECOND;
      left = (end - g_get_monotonic_time ()) / G_TIME_SPAN_MILLISECOND;
      if (left <= 0)
        {
          g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_TIMEOUT,
                               "BlueZ took no packet for 5 s");
          return -1;
        }
      if (poll (&pfd, 1, (int) left) > 0 && (pfd.revents & (POLLHUP | POLLERR)))
        return 0;
    }
}

/* Gives back the descriptor write_direct() claimed; @link_lost marks the
 * link lost unless a deinit came meanwhile. Returns whether one came. */
static gboolean
release_writer (BleioPacketBuffer *buffer,
                gboolean           link_lost)
{
  int to_close = -1;
  gboolean deinited;

  g_mutex_lock (&buffer->lock);
  if (--buffer->writers == 0)
    {
      to_close = buffer->deferred_close;
      buffer->deferred_close = -1;
    }
  deinited = buffer->deinited;
  if (link_lost && !deinited)
    buffer->write_lost = TRUE;
  g_mutex_unlock (&buffer->lock);
  if (to_close >= 0)
    close (to_close);
  return deinited;
}

/* The checks and the AcquireWrite path, shared by
 * bleio_packet_buffer_write_async() and its blocking twin (which so
 * needs no task and no main context for a descriptor write). Returns
 * TRUE when the write is over: *@sent is its result (bytes, 0 when the
 * link is gone, or -1 with @error set). Returns FALSE when it must go
 * through WriteValue: *@packet is what to write. */
static gboolean
write_direct (BleioPacketBuffer  *buffer,
              const guint8       *data,
              gsize               length,
              const guint8       *header,
              gsize               header_length,
              BleioCharacteristic **characteristic_out,
              GByteArray        **packet_out,
              gssize             *sent_out,
              GError            **error)
{
  BleioCharacteristic *characteristic;
  guint write_mtu;
  g_autoptr(GByteArray) packet = NULL;
  guint8 joined[1024];
  const guint8 *bytes;
  gsize outgoing;
  gboolean deinited, lost;
  GError *local = NULL;
  gssize sent;
  int fd;

  *sent_out = -1;
  /* One look under the lock (the state, and the descriptor claimed for
   * this write when there is one): a lock per step was a tenth of a
   * write's cost next to raw send() (bench-write). A deinit in another
   * thread must not close the descriptor under a write (its number could
   * be reused at once): it shuts the socket down, which wakes the write,
   * and the last writer closes it. */
  g_mutex_lock (&buffer->lock);
  deinited = buffer->deinited;
  lost = buffer->write_lost;
  fd = deinited || lost ? -1 : buffer->write_fd;
  if (fd >= 0)
    buffer->writers++;
  write_mtu = fd >= 0 ? buffer->write_mtu : 0;
  characteristic = buffer->characteristic;
  g_mutex_unlock (&buffer->lock);
  *characteristic_out = characteristic;
  if (deinited)
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                           "Object has been deinitialized and can no longer be used");
      return TRUE;
    }
  /* From the descriptor claimed above, not write_fd again: a deinit in
   * another thread may clear it meanwhile (ThreadSanitizer). */
  outgoing = outgoing_length (buffer, characteristic, write_mtu);
  if (outgoing == 0)
    {
      if (fd >= 0)
        release_writer (buffer, FALSE);
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                   "Characteristic %s cannot be written",
                   bleio_characteristic_get_object_path (characteristic));
      return TRUE;
    }
  if (header_length + length > outgoing)
    {
      if (fd >= 0)
        release_writer (buffer, FALSE);
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "Total data to write is larger than outgoing_packet_length "
                   "(%" G_GSIZE_FORMAT " > %" G_GSIZE_FORMAT ")", header_length + length,
                   outgoing);
      return TRUE;
    }
  /* The packet: @data itself, or the header and the data joined on the
   * stack (a heap copy only for the rare packet longer than 1 KiB). */
  if (header == NULL || header_length == 0)
    bytes = data;
  else if (header_length + length <= sizeof joined)
    {
      memcpy (joined, header, header_length);
      if (length > 0)
        memcpy (joined + header_length, data, length);
      bytes = joined;
    }
  else
    {
      packet = g_byte_array_sized_new ((guint) (header_length + length));
      g_byte_array_append (packet, header, (guint) header_length);
      g_byte_array_append (packet, data, (guint) length);
      bytes = packet->data;
    }
  /* With the AcquireWrite descriptor, a lost link shows on the socket
   * (bluetoothd shuts it down) and has marked the connection spent: looking
   * the Connected property up in the object cache for every packet cost
   * ten times what the send() does (bench-write under callgrind). */
  if (lost ||
      (fd >= 0
       ? bleio_connection_is_spent (bleio_service_get_connection (bleio_characteristic_get_service (characteristic)))
       : !bleio_characteristic_check_connected (characteristic, NULL)))
    {
      if (fd >= 0)
        release_writer (buffer, FALSE);
      *sent_out = 0;
      return TRUE;
    }

  if (fd < 0)
    {
      if (packet == NULL)
        {
          packet = g_byte_array_sized_new ((guint) (header_length + length));
          g_byte_array_append (packet, bytes, (guint) (header_length + length));
        }
      *packet_out = g_steal_pointer (&packet);
      return FALSE;
    }

  sent = send_packet (fd, bytes, header_length + length, &local);
  deinited = release_writer (buffer, sent == 0);
  if (sent <= 0 && deinited)
    {
      g_clear_error (&local);
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                           "Object has been deinitialized and can no longer be used");
      return TRUE;
    }
  if (sent < 0)
    {
      g_propagate_error (error, local);
      return TRUE;
    }
  *sent_out = sent;
  return TRUE;
}

static void
local_sent_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  gssize sent = g_task_propagate_int (G_TASK (result), &error);

  if (sent < 0)
    g_task_return_error (task, error);
  else
    g_task_return_int (task, sent);
}

/* A packet out of a local characteristic's buffer: the same checks as a
 * peer's, then the characteristic's value, sent to the subscribed
 * clients (lib/bleio-local-buffer.c). */
static void
write_local (BleioPacketBuffer *buffer,
             const guint8      *data,
             gsize              length,
             const guint8      *header,
             gsize              header_length,
             GTask             *task_in)
{
  g_autoptr(GTask) task = task_in;
  gsize outgoing = outgoing_length (buffer, current_characteristic (buffer), 0);
  GCancellable *cancellable;
  gboolean deinited;

  g_mutex_lock (&buffer->lock);
  deinited = buffer->deinited;
  g_mutex_unlock (&buffer->lock);
  if (deinited)
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                               "Object has been deinitialized and can no longer be used");
      return;
    }
  if (outgoing == 0)
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                               "Local characteristic %s neither notifies nor indicates",
                               bleio_characteristic_get_object_path (current_characteristic (buffer)));
      return;
    }
  if (header_length + length > outgoing)
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                               "Total data to write is larger than outgoing_packet_length "
                               "(%" G_GSIZE_FORMAT " > %" G_GSIZE_FORMAT ")",
                               header_length + length, outgoing);
      return;
    }
  cancellable = g_task_get_cancellable (task);
  bleio_local_feed_send_async (buffer->feed, buffer, header, header_length, data, length,
                               cancellable, local_sent_cb, g_steal_pointer (&task));
}

void
bleio_packet_buffer_write_async (BleioPacketBuffer   *buffer,
                                 GBytes              *data,
                                 GBytes              *header,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GByteArray) packet = NULL;
  BleioCharacteristic *characteristic = NULL;
  BleioCharacteristicProperties properties;
  GVariantBuilder options;
  GError *error = NULL;
  gsize data_len = 0, header_len = 0;
  const guint8 *data_bytes;
  const guint8 *header_bytes = NULL;
  gssize sent;

  g_return_if_fail (BLEIO_IS_PACKET_BUFFER (buffer));
  g_return_if_fail (data != NULL);
  task = g_task_new (buffer, cancellable, callback, user_data);
  g_task_set_source_tag (task, BLEIO_TAG (bleio_packet_buffer_write_async));

  data_bytes = g_bytes_get_data (data, &data_len);
  if (header != NULL)
    header_bytes = g_bytes_get_data (header, &header_len);
  if (buffer->feed != NULL)
    {
      write_local (buffer, data_bytes, data_len, header_bytes, header_len,
                   g_steal_pointer (&task));
      return;
    }
  if (write_direct (buffer, data_bytes, data_len, header_bytes, header_len, &characteristic,
                    &packet, &sent, &error))
    {
      if (sent < 0)
        g_task_return_error (task, error);
      else
        g_task_return_int (task, sent);
      return;
    }

  properties = bleio_characteristic_get_properties (characteristic);
  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "type",
                         g_variant_new_string ((properties & BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE)
                                               ? "command" : "request"));
  g_task_set_task_data (task, GSIZE_TO_POINTER ((gsize) packet->len), NULL);
  bleio_gatt_call_async (bleio_characteristic_get_client (characteristic),
                         bleio_characteristic_get_object_path (characteristic),
                         BLEIO_IFACE_CHARACTERISTIC, "WriteValue",
                         g_variant_new ("(@aya{sv})",
                                        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                   packet->data, packet->len, 1),
                                        &options),
                         cancellable, write_value_cb, g_steal_pointer (&task));
}

gssize
bleio_packet_buffer_write_finish (BleioPacketBuffer  *buffer,
                                  GAsyncResult       *result,
                                  GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, buffer), -1);
  return g_task_propagate_int (G_TASK (result), error);
}

gssize
bleio_packet_buffer_write (BleioPacketBuffer  *buffer,
                           const guint8       *data,
                           gsize               length,
                           const guint8       *header,
                           gsize               header_length,
                           GError            **error)
{
  g_autoptr(GBytes) data_bytes = NULL;
  g_autoptr(GBytes) header_bytes = NULL;
  BleioSync sync;
  gssize sent;

  g_return_val_if_fail (BLEIO_IS_PACKET_BUFFER (buffer), -1);
  g_return_val_if_fail (data != NULL || length == 0, -1);
  /* Checks, and AcquireWrite writes, need no round trip through a main
   * context: a write then costs about what send() costs. A local
   * characteristic's packets go through its value, asynchronously. */
  if (buffer->feed == NULL)
    {
      g_autoptr(GByteArray) packet = NULL;
      BleioCharacteristic *characteristic;

      if (write_direct (buffer, data, length, header, header != NULL ? header_length : 0,
                        &characteristic, &packet, &sent, error))
        return sent;
    }
  data_bytes = g_bytes_new (data, length);
  if (header != NULL)
    header_bytes = g_bytes_new (header, header_length);
  bleio_sync_begin (&sync);
  bleio_packet_buffer_write_async (buffer, data_bytes, header_bytes, NULL,
                                   bleio_sync_callback, &sync);
  sent = bleio_packet_buffer_write_finish (buffer, bleio_sync_wait (&sync), error);
  bleio_sync_end (&sync);
  return sent;
}

/* ---- state ----------------------------------------------------------------- */

gsize
bleio_packet_buffer_get_packets_waiting (BleioPacketBuffer *buffer)
{
  g_return_val_if_fail (BLEIO_IS_PACKET_BUFFER (buffer), 0);
  return bleio_inbox_get_waiting (buffer->inbox);
}

guint64
bleio_packet_buffer_get_dropped (BleioPacketBuffer *buffer)
{
  g_return_val_if_fail (BLEIO_IS_PACKET_BUFFER (buffer), 0);
  return bleio_inbox_get_dropped (buffer->inbox);
}

gsize
bleio_packet_buffer_get_buffer_size (BleioPacketBuffer *buffer)
{
  g_return_val_if_fail (BLEIO_IS_PACKET_BUFFER (buffer), 0);
  return buffer->buffer_size;
}

BleioCharacteristic *
bleio_packet_buffer_get_characteristic (BleioPacketBuffer *buffer)
{
  g_return_val_if_fail (BLEIO_IS_PACKET_BUFFER (buffer), NULL);
  return current_characteristic (buffer);
}

gboolean
bleio_packet_buffer_get_notify_acquired (BleioPacketBuffer *buffer)
{
  g_return_val_if_fail (BLEIO_IS_PACKET_BUFFER (buffer), FALSE);
  if (buffer->feed != NULL)
    return bleio_local_feed_get_notify_acquired (buffer->feed);
  return buffer->notifier != NULL && bleio_notifier_is_acquired (buffer->notifier);
}

gboolean
bleio_packet_buffer_get_write_acquired (BleioPacketBuffer *buffer)
{
  gboolean acquired;

  g_return_val_if_fail (BLEIO_IS_PACKET_BUFFER (buffer), FALSE);
  /* Under the lock: a deinit in another thread clears write_fd. */
  g_mutex_lock (&buffer->lock);
  acquired = buffer->write_fd >= 0;
  g_mutex_unlock (&buffer->lock);
  return acquired;
}

gboolean
bleio_packet_buffer_get_connected (BleioPacketBuffer *buffer)
{
  gboolean connected;

  g_return_val_if_fail (BLEIO_IS_PACKET_BUFFER (buffer), FALSE);
  g_mutex_lock (&buffer->lock);
  connected = !buffer->deinited && !buffer->write_lost;
  g_mutex_unlock (&buffer->lock);
  if (buffer->feed != NULL)
    return connected;
  if (buffer->notifier != NULL)
    connected = connected && !bleio_inbox_is_lost (buffer->inbox);
  else
    connected = connected && bleio_characteristic_check_connected (current_characteristic (buffer), NULL);
  return connected;
}

void
bleio_packet_buffer_deinit (BleioPacketBuffer *buffer)
{
  int fd;

  g_return_if_fail (BLEIO_IS_PACKET_BUFFER (buffer));
  g_mutex_lock (&buffer->lock);
  if (buffer->deinited)
    {
      g_mutex_unlock (&buffer->lock);
      return;
    }
  buffer->deinited = TRUE;
  fd = buffer->write_fd;
  buffer->write_fd = -1;
  if (fd >= 0 && buffer->writers > 0)
    {
      shutdown (fd, SHUT_RDWR);
      buffer->deferred_close = fd;
      fd = -1;
    }
  g_mutex_unlock (&buffer->lock);
  if (buffer->notifier != NULL)
    bleio_notifier_stop (buffer->notifier);
  if (buffer->feed != NULL)
    bleio_local_feed_stop (buffer->feed);
  bleio_inbox_close (buffer->inbox);
  if (fd >= 0)
    close (fd);
}
