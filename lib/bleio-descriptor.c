/* SPDX-License-Identifier: MIT */
/* BleioDescriptor: a descriptor of a peer's characteristic, or a local
 * one (whose state is its BleioLocalAttr, lib/bleio-local-attr.c). */
#include "bleio-characteristic-private.h"
#include "bleio-gatt-private.h"
#include "bleio-values-private.h"
#include "bleio-sync-private.h"

struct _BleioDescriptor {
  GObject parent_instance;

  BleioCharacteristic *characteristic;
  char *path;
  BleioUuid *uuid;
  guint16 handle;
  guint incarnation;            /* of path when the object was made */
  BleioLocalAttr *local;        /* a local descriptor's; NULL for a peer's */
};

enum {
  SIGNAL_WRITTEN,
  SIGNAL_READ,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (BleioDescriptor, bleio_descriptor, G_TYPE_OBJECT)

static void
bleio_descriptor_finalize (GObject *object)
{
  BleioDescriptor *self = BLEIO_DESCRIPTOR (object);

  g_clear_object (&self->characteristic);
  g_clear_pointer (&self->local, bleio_local_attr_unref);
  g_clear_pointer (&self->uuid, bleio_uuid_free);
  g_free (self->path);
  G_OBJECT_CLASS (bleio_descriptor_parent_class)->finalize (object);
}

static void
bleio_descriptor_class_init (BleioDescriptorClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bleio_descriptor_finalize;

  /**
   * BleioDescriptor::written:
   * @descriptor: the local #BleioDescriptor
   * @value: (type GLib.Bytes): the whole value the descriptor holds after
   *   the write
   * @connection: (nullable): the connection of the client that wrote, or
   *   %NULL when bluetoothd did not say which it was
   *
   * A client wrote a local descriptor (made with
   * bleio_descriptor_add_to_characteristic()); the value is already
   * stored. Emitted in the thread-default main context that was current
   * when the descriptor was made.
   *
   * Since: 0.4
   */
  signals[SIGNAL_WRITTEN] =
    g_signal_new ("written", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                  G_TYPE_BYTES | G_SIGNAL_TYPE_STATIC_SCOPE, BLEIO_TYPE_CONNECTION);

  /**
   * BleioDescriptor::read:
   * @descriptor: the local #BleioDescriptor
   * @connection: (nullable): the connection of the client that read, or
   *   %NULL when bluetoothd did not say which it was
   * @offset: where in the value the read began
   *
   * A client read a local descriptor and was answered with the value the
   * server holds. Emitted after the answer, in order with
   * #BleioDescriptor::written, in the thread-default main context that
   * was current when the descriptor was made; a refused read is not told.
   *
   * Since: 0.4
   */
  signals[SIGNAL_READ] =
    g_signal_new ("read", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, BLEIO_TYPE_CONNECTION, G_TYPE_UINT);
}

static void
bleio_descriptor_init (BleioDescriptor *self)
{
}

static BleioDescriptor *
descriptor_new (BleioCharacteristic *characteristic,
                const char          *path)
{
  BleioClient *client = bleio_characteristic_get_client (characteristic);
  g_autoptr(GVariant) uuid = bleio_client_dup_property (client, path, BLEIO_IFACE_DESCRIPTOR, "UUID");
  BleioDescriptor *self = g_object_new (BLEIO_TYPE_DESCRIPTOR, NULL);

  self->characteristic = g_object_ref (characteristic);
  self->path = g_strdup (path);
  self->handle = bleio_gatt_handle (client, path, BLEIO_IFACE_DESCRIPTOR, "desc");
  self->incarnation = bleio_client_get_incarnation (client, path);
  self->uuid = bleio_uuid_from_bluez_value (uuid);
  if (self->uuid == NULL)
    self->uuid = bleio_uuid_new_from_uuid16 (0);
  return self;
}

BleioDescriptor *
bleio_descriptor_new_local (BleioCharacteristic *characteristic,
                            BleioUuid           *uuid)
{
  BleioDescriptor *self = g_object_new (BLEIO_TYPE_DESCRIPTOR, NULL);

  self->characteristic = g_object_ref (characteristic);
  self->uuid = uuid;
  return self;
}

void
bleio_descriptor_set_local (BleioDescriptor *descriptor,
                            BleioLocalAttr  *attr)
{
  descriptor->local = bleio_local_attr_ref (attr);
  descriptor->path = g_strdup (bleio_local_attr_get_path (attr));
}

BleioLocalAttr *
bleio_descriptor_get_local (BleioDescriptor *descriptor)
{
  return descriptor->local;
}

void
bleio_descriptor_emit_written (BleioDescriptor *descriptor,
                               GBytes          *value,
                               BleioConnection *connection)
{
  g_signal_emit (descriptor, signals[SIGNAL_WRITTEN], 0, value, connection);
}

void
bleio_descriptor_emit_read (BleioDescriptor *descriptor,
                            BleioConnection *connection,
                            guint            offset)
{
  g_signal_emit (descriptor, signals[SIGNAL_READ], 0, connection, offset);
}

static gpointer
descriptor_new_child (gpointer    characteristic,
                      const char *path)
{
  return descriptor_new (characteristic, path);
}

GPtrArray *
bleio_characteristic_dup_descriptors (BleioCharacteristic *characteristic)
{
  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), NULL);
  if (bleio_characteristic_get_local (characteristic) != NULL)
    return bleio_local_attr_dup_children (bleio_characteristic_get_local (characteristic));
  return bleio_gatt_children_dup (bleio_characteristic_get_descriptor_children (characteristic),
                                  bleio_characteristic_get_client (characteristic),
                                  bleio_characteristic_get_object_path (characteristic),
                                  bleio_characteristic_get_incarnation (characteristic),
                                  BLEIO_IFACE_DESCRIPTOR, "desc",
                                  descriptor_new_child, characteristic);
}

const BleioUuid *
bleio_descriptor_get_uuid (BleioDescriptor *descriptor)
{
  g_return_val_if_fail (BLEIO_IS_DESCRIPTOR (descriptor), NULL);
  return descriptor->uuid;
}

guint16
bleio_descriptor_get_handle (BleioDescriptor *descriptor)
{
  g_return_val_if_fail (BLEIO_IS_DESCRIPTOR (descriptor), 0);
  return descriptor->handle;
}

BleioCharacteristic *
bleio_descriptor_get_characteristic (BleioDescriptor *descriptor)
{
  g_return_val_if_fail (BLEIO_IS_DESCRIPTOR (descriptor), NULL);
  return descriptor->characteristic;
}

const char *
bleio_descriptor_get_object_path (BleioDescriptor *descriptor)
{
  g_return_val_if_fail (BLEIO_IS_DESCRIPTOR (descriptor), NULL);
  return descriptor->path;
}

/* ---- read ----------------------------------------------------------------- */

void
bleio_descriptor_read_value_async (BleioDescriptor     *descriptor,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (BLEIO_IS_DESCRIPTOR (descriptor));
  task = g_task_new (descriptor, cancellable, callback, user_data);
  g_task_set_source_tag (task, BLEIO_TAG (bleio_descriptor_read_value_async));
  if (descriptor->local != NULL)
    {
      g_task_return_pointer (task, bleio_local_attr_dup_value (descriptor->local),
                             (GDestroyNotify) g_bytes_unref);
      return;
    }
  if (!bleio_characteristic_check_connected (descriptor->characteristic, &error)
      || !bleio_gatt_check_current (bleio_characteristic_get_client (descriptor->characteristic),
                                    descriptor->path, descriptor->incarnation, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  bleio_gatt_call_async (bleio_characteristic_get_client (descriptor->characteristic),
                         descriptor->path, BLEIO_IFACE_DESCRIPTOR, "ReadValue",
                         g_variant_new ("(a{sv})", NULL), cancellable, bleio_gatt_read_value_cb,
                         g_steal_pointer (&task));
}

GBytes *
bleio_descriptor_read_value_finish (BleioDescriptor  *descriptor,
                                    GAsyncResult     *result,
                                    GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, descriptor), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

GBytes *
bleio_descriptor_read_value (BleioDescriptor  *descriptor,
                             GError          **error)
{
  BleioSync sync;
  GBytes *value;

  g_return_val_if_fail (BLEIO_IS_DESCRIPTOR (descriptor), NULL);
  bleio_sync_begin (&sync);
  bleio_descriptor_read_value_async (descriptor, NULL, bleio_sync_callback, &sync);
  value = bleio_descriptor_read_value_finish (descriptor, bleio_sync_wait (&sync), error);
  bleio_sync_end (&sync);
  return value;
}

/* ---- write ---------------------------------------------------------------- */

void
bleio_descriptor_write_value_async (BleioDescriptor     *descriptor,
                                    GBytes              *value,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  gsize len;
  const guint8 *data;

  g_return_if_fail (BLEIO_IS_DESCRIPTOR (descriptor));
  g_return_if_fail (value != NULL);
  task = g_task_new (descriptor, cancellable, callback, user_data);
  g_task_set_source_tag (task, BLEIO_TAG (bleio_descriptor_write_value_async));
  if (descriptor->local != NULL)
    {
      bleio_local_attr_set_value (descriptor->local, value, task);
      return;
    }
  if (!bleio_characteristic_check_connected (descriptor->characteristic, &error)
      || !bleio_gatt_check_current (bleio_characteristic_get_client (descriptor->characteristic),
                                    descriptor->path, descriptor->incarnation, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  data = g_bytes_get_data (value, &len);
  if (len > BLEIO_CHARACTERISTIC_MAX_LENGTH)
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                               "Value too long: %" G_GSIZE_FORMAT " bytes exceed the %d "
                               "bytes an attribute can hold",
                               len, BLEIO_CHARACTERISTIC_MAX_LENGTH);
      return;
    }
  bleio_gatt_call_async (bleio_characteristic_get_client (descriptor->characteristic),
                         descriptor->path, BLEIO_IFACE_DESCRIPTOR, "WriteValue",
                         g_variant_new ("(@aya{sv})",
                                        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1),
                                        NULL),
                         cancellable, bleio_gatt_write_value_cb, g_steal_pointer (&task));
}

gboolean
bleio_descriptor_write_value_finish (BleioDescriptor  *descriptor,
                                     GAsyncResult     *result,
                                     GError          **error)
{
  GError *local = NULL;

  g_return_val_if_fail (g_task_is_valid (result, descriptor), FALSE);
  if (g_task_propagate_boolean (G_TASK (result), &local))
    return TRUE;
  if (bleio_uuid_is_cccd (descriptor->uuid) &&
      g_error_matches (local, BLEIO_ERROR, BLEIO_ERROR_NOT_PERMITTED))
    {
      /* bluetoothd owns the CCCD and refuses client writes to it. */
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_PERMITTED,
                   "BlueZ does not let clients write the CCCD (%s); "
                   "use bleio_characteristic_set_cccd() to subscribe",
                   local->message);
      g_error_free (local);
      return FALSE;
    }
  g_propagate_error (error, local);
  return FALSE;
}

gboolean
bleio_descriptor_write_value (BleioDescriptor  *descriptor,
                              GBytes           *value,
                              GError          **error)
{
  BleioSync sync;
  gboolean ok;

  g_return_val_if_fail (BLEIO_IS_DESCRIPTOR (descriptor), FALSE);
  bleio_sync_begin (&sync);
  bleio_descriptor_write_value_async (descriptor, value, NULL, bleio_sync_callback, &sync);
  ok = bleio_descriptor_write_value_finish (descriptor, bleio_sync_wait (&sync), error);
  bleio_sync_end (&sync);
  return ok;
}
