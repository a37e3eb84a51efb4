/* SPDX-License-Identifier: MIT */
/*
 * The buffers on a local characteristic (bleio-local-buffer-private.h).
 *
 * `_bleio` says a PacketBuffer on the server side sends to the first
 * client that subscribed and ignores the others; bluetoothd 5.66 sends an
 * application's value to every client whose CCCD is on and does not say
 * which clients those are (neither StartNotify nor PropertiesChanged
 * names one, and the acquired socket serves them all), so every
 * subscribed client gets the packets (docs/peripheral.md).
 */
#include "bleio-local-buffer-private.h"
#include "bleio-att-private.h"
#include "bleio-characteristic-private.h"
#include "bleio-local-acquire-private.h"

struct _BleioLocalFeed {
  BleioCharacteristic *characteristic;
  BleioLocalAttr *attr;
  GMutex lock;
  guint tap;                    /* 0 once stopped */
};

static void
push_cb (const guint8 *data,
         gsize         len,
         gpointer      user_data)
{
  bleio_inbox_push (user_data, data, len);
}

BleioLocalFeed *
bleio_local_feed_start (BleioCharacteristic *characteristic,
                        BleioInbox          *inbox)
{
  BleioLocalFeed *self = g_new0 (BleioLocalFeed, 1);

  self->characteristic = g_object_ref (characteristic);
  self->attr = bleio_local_attr_ref (bleio_characteristic_get_local (characteristic));
  g_mutex_init (&self->lock);
  self->tap = bleio_local_acquire_add_tap (bleio_local_attr_get_acquire (self->attr), push_cb,
                                           bleio_inbox_ref (inbox),
                                           (GDestroyNotify) bleio_inbox_unref);
  return self;
}

void
bleio_local_feed_stop (BleioLocalFeed *self)
{
  guint tap;

  g_mutex_lock (&self->lock);
  tap = self->tap;
  self->tap = 0;
  g_mutex_unlock (&self->lock);
  if (tap != 0)
    bleio_local_acquire_remove_tap (bleio_local_attr_get_acquire (self->attr), tap);
}

void
bleio_local_feed_free (BleioLocalFeed *self)
{
  if (self == NULL)
    return;
  bleio_local_feed_stop (self);
  bleio_local_attr_unref (self->attr);
  g_object_unref (self->characteristic);
  g_mutex_clear (&self->lock);
  g_free (self);
}

static gsize
packet_length (BleioLocalFeed *self)
{
  guint mtu = bleio_local_acquire_get_mtu (bleio_local_attr_get_acquire (self->attr));

  if (mtu < BLEIO_ATT_DEFAULT_MTU)
    mtu = BLEIO_ATT_DEFAULT_MTU;
  return MIN ((gsize) mtu - 3, bleio_local_attr_get_max_length (self->attr));
}

gsize
bleio_local_feed_get_incoming_length (BleioLocalFeed *self)
{
  BleioCharacteristicProperties properties = bleio_characteristic_get_properties (self->characteristic);

  if (!(properties & (BLEIO_CHARACTERISTIC_PROPERTY_WRITE |
                      BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE)))
    return 0;
  return packet_length (self);
}

gsize
bleio_local_feed_get_outgoing_length (BleioLocalFeed *self)
{
  BleioCharacteristicProperties properties = bleio_characteristic_get_properties (self->characteristic);

  if (!(properties & (BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY |
                      BLEIO_CHARACTERISTIC_PROPERTY_INDICATE)))
    return 0;
  return packet_length (self);
}

gboolean
bleio_local_feed_get_notify_acquired (BleioLocalFeed *self)
{
  return bleio_local_acquire_notify_held (bleio_local_attr_get_acquire (self->attr));
}

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_task_return_error (task, error);
  else
    g_task_return_int (task, GPOINTER_TO_SIZE (g_task_get_task_data (task)));
}

void
bleio_local_feed_send_async (BleioLocalFeed      *self,
                             gpointer             source_object,
                             const guint8        *header,
                             gsize                header_length,
                             const guint8        *data,
                             gsize                length,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (source_object, cancellable, callback, user_data);
  g_autoptr(GTask) set = NULL;
  g_autoptr(GByteArray) joined = g_byte_array_sized_new ((guint) (header_length + length));
  g_autoptr(GBytes) packet = NULL;

  g_task_set_source_tag (task, BLEIO_TAG (bleio_local_feed_send_async));
  if (!bleio_local_attr_get_notifying (self->attr))
    {
      /* _bleio: nothing is queued when no client listens. */
      g_task_return_int (task, 0);
      return;
    }
  if (header_length > 0)
    g_byte_array_append (joined, header, (guint) header_length);
  if (length > 0)
    g_byte_array_append (joined, data, (guint) length);
  packet = g_byte_array_free_to_bytes (g_steal_pointer (&joined));
  g_task_set_task_data (task, GSIZE_TO_POINTER (g_bytes_get_size (packet)), NULL);
  set = g_task_new (self->characteristic, NULL, sent_cb, g_steal_pointer (&task));
  bleio_local_attr_set_value (self->attr, packet, set);
}
