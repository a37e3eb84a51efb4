/* SPDX-License-Identifier: MIT */
/* BleioCharacteristicBuffer: a byte FIFO fed by notifications, or by
 * client writes on a local characteristic. */
#include "bleio-characteristic-private.h"
#include "bleio-gatt-private.h"
#include "bleio-inbox-private.h"
#include "bleio-local-buffer-private.h"
#include "bleio-notifier-private.h"
#include "bleio-sync-private.h"
#include "bleio-timeout-private.h"
#include "bleio-weak-ref-private.h"

struct _BleioCharacteristicBuffer {
  GObject parent_instance;

  BleioInbox *inbox;
  BleioNotifier *notifier;      /* a peer's characteristic */
  BleioLocalFeed *feed;         /* a local one */
  gsize buffer_size;

  GMutex lock;
  /* A re-bind (the notifier followed the characteristic to a new object)
   * changes these on the worker. The objects it replaced stay alive in
   * @retired: bleio_characteristic_buffer_get_characteristic() gave them
   * out without a reference. */
  BleioCharacteristic *characteristic;
  GPtrArray *retired;
  gboolean acquired;
  double timeout;
  gboolean deinited;
};

G_DEFINE_FINAL_TYPE (BleioCharacteristicBuffer, bleio_characteristic_buffer, G_TYPE_OBJECT)

static void
bleio_characteristic_buffer_finalize (GObject *object)
{
  BleioCharacteristicBuffer *self = BLEIO_CHARACTERISTIC_BUFFER (object);

  bleio_characteristic_buffer_deinit (self);
  g_clear_pointer (&self->notifier, bleio_notifier_unref);
  g_clear_pointer (&self->feed, bleio_local_feed_free);
  g_clear_pointer (&self->inbox, bleio_inbox_unref);
  g_clear_object (&self->characteristic);
  g_clear_pointer (&self->retired, g_ptr_array_unref);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (bleio_characteristic_buffer_parent_class)->finalize (object);
}

static void
bleio_characteristic_buffer_class_init (BleioCharacteristicBufferClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bleio_characteristic_buffer_finalize;
}

static void
bleio_characteristic_buffer_init (BleioCharacteristicBuffer *self)
{
  g_mutex_init (&self->lock);
  self->retired = g_ptr_array_new_with_free_func (g_object_unref);
}

typedef struct {
  BleioCharacteristic *characteristic;
  BleioInbox *inbox;
  double timeout;
  gsize buffer_size;
} NewData;

/* A read timeout in seconds: 0 or less does not wait (documented); NaN
 * and a bound beyond what a timeout holds are refused, as `_bleio` takes
 * no None here. Sets *@deadline, when given, for a read starting now. */
static gboolean
check_timeout (double    timeout,
               gint64   *deadline,
               GError  **error)
{
  guint msec = 0;

  if (!(timeout <= 0) &&
      !bleio_timeout_to_msec (timeout, BLEIO_TIMEOUT_HUGE_IS_INVALID,
                              "CharacteristicBuffer timeout", &msec, error))
    return FALSE;
  if (deadline != NULL)
    *deadline = bleio_timeout_deadline (msec);
  return TRUE;
}

static void
new_data_free (gpointer data)
{
  NewData *new_data = data;

  g_object_unref (new_data->characteristic);
  bleio_inbox_unref (new_data->inbox);
  g_free (new_data);
}

/* Worker: the notifier followed the characteristic to @characteristic. */
static void
rebound_cb (BleioCharacteristic *characteristic,
            gpointer             user_data)
{
  g_autoptr(BleioCharacteristicBuffer) self = g_weak_ref_get (user_data);

  if (self == NULL)
    return;
  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->retired, self->characteristic);
  self->characteristic = g_object_ref (characteristic);
  self->acquired = bleio_notifier_is_acquired (self->notifier);
  g_mutex_unlock (&self->lock);
}

static void
notifier_started_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  NewData *data = g_task_get_task_data (task);
  GError *error = NULL;
  BleioNotifier *notifier = bleio_notifier_start_finish (result, &error);
  BleioCharacteristicBuffer *self;

  if (notifier == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  self = g_object_new (BLEIO_TYPE_CHARACTERISTIC_BUFFER, NULL);
  self->characteristic = g_object_ref (data->characteristic);
  self->inbox = bleio_inbox_ref (data->inbox);
  self->notifier = notifier;
  self->buffer_size = data->buffer_size;
  self->timeout = data->timeout;
  self->acquired = bleio_notifier_is_acquired (notifier);
  bleio_notifier_set_rebound (notifier, rebound_cb, bleio_weak_ref_new (self),
                              bleio_weak_ref_free);
  g_task_return_pointer (task, self, g_object_unref);
}

void
bleio_characteristic_buffer_new_async (BleioCharacteristic *characteristic,
                                       double               timeout,
                                       gsize                buffer_size,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  NewData *data;
  GError *error = NULL;

  g_return_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic));
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, BLEIO_TAG (bleio_characteristic_buffer_new_async));
  data = g_new0 (NewData, 1);
  data->characteristic = g_object_ref (characteristic);
  data->buffer_size = MAX (buffer_size, 1);
  data->timeout = timeout;
  data->inbox = bleio_inbox_new (BLEIO_INBOX_BYTES, data->buffer_size);
  g_task_set_task_data (task, data, new_data_free);
  if (!check_timeout (timeout, NULL, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (bleio_characteristic_get_local (characteristic) != NULL)
    {
      BleioCharacteristicBuffer *self = g_object_new (BLEIO_TYPE_CHARACTERISTIC_BUFFER, NULL);

      /* A local characteristic: the bytes clients write, from now on. */
      self->characteristic = g_object_ref (characteristic);
      self->inbox = bleio_inbox_ref (data->inbox);
      self->feed = bleio_local_feed_start (characteristic, data->inbox);
      self->buffer_size = data->buffer_size;
      self->timeout = timeout;
      g_task_return_pointer (task, self, g_object_unref);
      return;
    }
  /* Takes Value signals only while subscribed: _bleio's buffer does not
   * write the CCCD. AcquireNotify subscribes by its nature. */
  bleio_notifier_start_async (characteristic, data->inbox, FALSE, cancellable,
                              notifier_started_cb, g_steal_pointer (&task));
}

BleioCharacteristicBuffer *
bleio_characteristic_buffer_new_finish (GAsyncResult  *result,
                                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

BleioCharacteristicBuffer *
bleio_characteristic_buffer_new (BleioCharacteristic  *characteristic,
                                 double                timeout,
                                 gsize                 buffer_size,
                                 GError              **error)
{
  BleioSync sync;
  BleioCharacteristicBuffer *buffer;

  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), NULL);
  bleio_sync_begin (&sync);
  bleio_characteristic_buffer_new_async (characteristic, timeout, buffer_size, NULL,
                                         bleio_sync_callback, &sync);
  buffer = bleio_characteristic_buffer_new_finish (bleio_sync_wait (&sync), error);
  bleio_sync_end (&sync);
  return buffer;
}

/* The monotonic time a read that starts now gives up at. */
static gboolean
read_deadline (BleioCharacteristicBuffer  *self,
               gint64                     *deadline,
               GError                    **error)
{
  double timeout;

  g_mutex_lock (&self->lock);
  timeout = self->timeout;
  g_mutex_unlock (&self->lock);
  return check_timeout (timeout, deadline, error);
}

static GBytes *
read_common (BleioCharacteristicBuffer  *self,
             gsize                       nbytes,
             gboolean                    line,
             GError                    **error)
{
  gsize max = nbytes > 0 ? nbytes : self->buffer_size;
  g_autofree guint8 *data = NULL;
  gint64 deadline;
  gssize n;

  if (!read_deadline (self, &deadline, error))
    return NULL;
  data = g_malloc (MAX (max, 1));
  n = bleio_inbox_read_bytes (self->inbox, data, max, nbytes > 0 ? nbytes : 1,
                              line, deadline, error);
  if (n < 0)
    return NULL;
  return g_bytes_new (data, (gsize) n);
}

GBytes *
bleio_characteristic_buffer_read (BleioCharacteristicBuffer  *buffer,
                                  gsize                       nbytes,
                                  GError                    **error)
{
  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC_BUFFER (buffer), NULL);
  return read_common (buffer, nbytes, FALSE, error);
}

gssize
bleio_characteristic_buffer_readinto (BleioCharacteristicBuffer  *buffer,
                                      guint8                     *data,
                                      gsize                       length,
                                      GError                    **error)
{
  gint64 deadline;

  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC_BUFFER (buffer), -1);
  g_return_val_if_fail (data != NULL || length == 0, -1);
  if (length == 0)
    return 0;
  if (!read_deadline (buffer, &deadline, error))
    return -1;
  return bleio_inbox_read_bytes (buffer->inbox, data, length, length, FALSE,
                                 deadline, error);
}

GBytes *
bleio_characteristic_buffer_readline (BleioCharacteristicBuffer  *buffer,
                                      GError                    **error)
{
  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC_BUFFER (buffer), NULL);
  return read_common (buffer, 0, TRUE, error);
}

gsize
bleio_characteristic_buffer_get_in_waiting (BleioCharacteristicBuffer *buffer)
{
  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC_BUFFER (buffer), 0);
  return bleio_inbox_get_waiting (buffer->inbox);
}

void
bleio_characteristic_buffer_reset_input_buffer (BleioCharacteristicBuffer *buffer)
{
  g_return_if_fail (BLEIO_IS_CHARACTERISTIC_BUFFER (buffer));
  bleio_inbox_clear (buffer->inbox);
}

guint64
bleio_characteristic_buffer_get_dropped (BleioCharacteristicBuffer *buffer)
{
  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC_BUFFER (buffer), 0);
  return bleio_inbox_get_dropped (buffer->inbox);
}

gsize
bleio_characteristic_buffer_get_buffer_size (BleioCharacteristicBuffer *buffer)
{
  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC_BUFFER (buffer), 0);
  return buffer->buffer_size;
}

double
bleio_characteristic_buffer_get_timeout (BleioCharacteristicBuffer *buffer)
{
  double timeout;

  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC_BUFFER (buffer), 0);
  g_mutex_lock (&buffer->lock);
  timeout = buffer->timeout;
  g_mutex_unlock (&buffer->lock);
  return timeout;
}

void
bleio_characteristic_buffer_set_timeout (BleioCharacteristicBuffer *buffer,
                                         double                     timeout)
{
  g_return_if_fail (BLEIO_IS_CHARACTERISTIC_BUFFER (buffer));
  g_mutex_lock (&buffer->lock);
  buffer->timeout = timeout;
  g_mutex_unlock (&buffer->lock);
}

BleioCharacteristic *
bleio_characteristic_buffer_get_characteristic (BleioCharacteristicBuffer *buffer)
{
  BleioCharacteristic *characteristic;

  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC_BUFFER (buffer), NULL);
  g_mutex_lock (&buffer->lock);
  characteristic = buffer->characteristic;
  g_mutex_unlock (&buffer->lock);
  return characteristic;
}

gboolean
bleio_characteristic_buffer_get_notify_acquired (BleioCharacteristicBuffer *buffer)
{
  gboolean acquired;

  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC_BUFFER (buffer), FALSE);
  /* On a local characteristic the writes come through the acquired
   * write socket or WriteValue alike; nothing subscribes. */
  g_mutex_lock (&buffer->lock);
  acquired = buffer->acquired;
  g_mutex_unlock (&buffer->lock);
  return acquired;
}

gboolean
bleio_characteristic_buffer_get_connected (BleioCharacteristicBuffer *buffer)
{
  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC_BUFFER (buffer), FALSE);
  return !bleio_inbox_is_closed (buffer->inbox) && !bleio_inbox_is_lost (buffer->inbox);
}

void
bleio_characteristic_buffer_deinit (BleioCharacteristicBuffer *buffer)
{
  gboolean first;

  g_return_if_fail (BLEIO_IS_CHARACTERISTIC_BUFFER (buffer));
  g_mutex_lock (&buffer->lock);
  first = !buffer->deinited;
  buffer->deinited = TRUE;
  g_mutex_unlock (&buffer->lock);
  if (!first)
    return;
  if (buffer->notifier != NULL)
    bleio_notifier_stop (buffer->notifier);
  if (buffer->feed != NULL)
    bleio_local_feed_stop (buffer->feed);
  bleio_inbox_close (buffer->inbox);
}
