/* SPDX-License-Identifier: MIT */
/* BleioCharacteristic: a peer's GATT characteristic, or a local one
 * (whose state is its BleioLocalAttr, lib/bleio-local-attr.c). */
#include "bleio-att-private.h"
#include "bleio-characteristic-private.h"
#include "bleio-gatt-private.h"
#include "bleio-service-private.h"
#include "bleio-values-private.h"
#include "bleio-sync-private.h"
#include "bleio-weak-ref-private.h"

#include <string.h>

struct _BleioCharacteristic {
  GObject parent_instance;

  BleioService *service;
  BleioClient *client;
  char *path;
  char *device_path;
  BleioUuid *uuid;
  guint16 handle;
  guint incarnation;            /* of path when the object was made */
  BleioLocalAttr *local;        /* a local characteristic's; NULL for a peer's */
  guint max_length;
  BleioCharacteristicProperties properties;
  gboolean can_acquire_notify;
  gboolean can_acquire_write;
  GMainContext *context;
  BleioGattChildren descriptors;

  GMutex lock;
  guint acquired_mtu;
  guint subscriptions;          /* set_cccd and buffers of this object */
  gboolean cccd_on;             /* set_cccd (TRUE) in effect */
  guint acquired;               /* AcquireNotify descriptors held */
  gboolean released;            /* one of them has been released */
  guint watch_id;               /* Value changes, in @context */
  GQueue pending;               /* GBytes* on their way to @context */
  GSource *emit_source;
};

enum {
  SIGNAL_NOTIFICATION,
  SIGNAL_WRITTEN,
  SIGNAL_READ,
  SIGNAL_NOTIFYING_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FLAGS_TYPE (BleioCharacteristicProperties, bleio_characteristic_properties,
  G_DEFINE_ENUM_VALUE (BLEIO_CHARACTERISTIC_PROPERTY_NONE, "none"),
  G_DEFINE_ENUM_VALUE (BLEIO_CHARACTERISTIC_PROPERTY_BROADCAST, "broadcast"),
  G_DEFINE_ENUM_VALUE (BLEIO_CHARACTERISTIC_PROPERTY_READ, "read"),
  G_DEFINE_ENUM_VALUE (BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE, "write-no-response"),
  G_DEFINE_ENUM_VALUE (BLEIO_CHARACTERISTIC_PROPERTY_WRITE, "write"),
  G_DEFINE_ENUM_VALUE (BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY, "notify"),
  G_DEFINE_ENUM_VALUE (BLEIO_CHARACTERISTIC_PROPERTY_INDICATE, "indicate"))

G_DEFINE_ENUM_TYPE (BleioWriteType, bleio_write_type,
  G_DEFINE_ENUM_VALUE (BLEIO_WRITE_TYPE_DEFAULT, "default"),
  G_DEFINE_ENUM_VALUE (BLEIO_WRITE_TYPE_REQUEST, "request"),
  G_DEFINE_ENUM_VALUE (BLEIO_WRITE_TYPE_COMMAND, "command"),
  G_DEFINE_ENUM_VALUE (BLEIO_WRITE_TYPE_RELIABLE, "reliable"))

G_DEFINE_FINAL_TYPE (BleioCharacteristic, bleio_characteristic, G_TYPE_OBJECT)

static void
bleio_characteristic_finalize (GObject *object)
{
  BleioCharacteristic *self = BLEIO_CHARACTERISTIC (object);

  bleio_client_unwatch (self->client, self->watch_id);
  if (self->emit_source != NULL)
    {
      g_source_destroy (self->emit_source);
      g_source_unref (self->emit_source);
    }
  g_queue_clear_full (&self->pending, (GDestroyNotify) g_bytes_unref);
  bleio_gatt_children_clear (&self->descriptors);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->uuid, bleio_uuid_free);
  g_clear_pointer (&self->local, bleio_local_attr_unref);
  g_free (self->path);
  g_free (self->device_path);
  bleio_client_unref (self->client);
  g_clear_object (&self->service);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (bleio_characteristic_parent_class)->finalize (object);
}

static void
bleio_characteristic_class_init (BleioCharacteristicClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bleio_characteristic_finalize;

  /**
   * BleioCharacteristic::notification:
   * @characteristic: the #BleioCharacteristic
   * @value: (type GLib.Bytes): the bytes the peer sent
   *
   * Emitted once per notification or indication, in the order the peer
   * sent them, in the thread-default main context that was current when
   * the characteristic object was created. Notifications flow while this
   * process subscribes: after bleio_characteristic_set_cccd() with
   * @notify or @indicate, or while a #BleioCharacteristicBuffer or
   * #BleioPacketBuffer on this object holds a subscription. None is lost
   * while that context keeps up: pending ones wait in an unbounded queue.
   */
  signals[SIGNAL_NOTIFICATION] =
    g_signal_new ("notification", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_BYTES | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * BleioCharacteristic::written:
   * @characteristic: the local #BleioCharacteristic
   * @value: (type GLib.Bytes): the whole value the characteristic holds
   *   after the write
   * @connection: (nullable): the connection of the client that wrote, or
   *   %NULL when bluetoothd did not say which it was
   *
   * A client wrote a local characteristic (made with
   * bleio_characteristic_add_to_service()); the value is already stored.
   * Emitted once per write, in order, in the thread-default main context
   * that was current when the characteristic was made. bluetoothd 5.66
   * does not tell a write request from a write without response.
   *
   * Since: 0.4
   */
  signals[SIGNAL_WRITTEN] =
    g_signal_new ("written", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                  G_TYPE_BYTES | G_SIGNAL_TYPE_STATIC_SCOPE, BLEIO_TYPE_CONNECTION);

  /**
   * BleioCharacteristic::read:
   * @characteristic: the local #BleioCharacteristic
   * @connection: (nullable): the connection of the client that read, or
   *   %NULL when bluetoothd did not say which it was
   * @offset: where in the value the read began (0 but for the later parts
   *   of a long read)
   *
   * A client read a local characteristic and was answered with the value
   * the server holds (from bleio_characteristic_dup_value()). Emitted once
   * per read bluetoothd passed on, after the answer, in order with
   * #BleioCharacteristic::written, in the thread-default main context that
   * was current when the characteristic was made. A read refused (no read
   * permission, an offset past the end) is not told.
   *
   * Since: 0.4
   */
  signals[SIGNAL_READ] =
    g_signal_new ("read", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, BLEIO_TYPE_CONNECTION, G_TYPE_UINT);

  /**
   * BleioCharacteristic::notifying-changed:
   * @characteristic: the local #BleioCharacteristic
   * @notifying: the new bleio_characteristic_get_notifying()
   *
   * The first client subscribed to a local characteristic (@notifying
   * %TRUE), or the last one unsubscribed or left (%FALSE); bluetoothd
   * 5.66 tells neither which client it was nor about the clients in
   * between. Also %FALSE when bluetoothd forgot the application
   * (restarted, or the adapter went). Emitted in the thread-default main
   * context that was current when the characteristic was made.
   *
   * Since: 0.4
   */
  signals[SIGNAL_NOTIFYING_CHANGED] =
    g_signal_new ("notifying-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
}

static void
bleio_characteristic_init (BleioCharacteristic *self)
{
  g_mutex_init (&self->lock);
  g_queue_init (&self->pending);
  bleio_gatt_children_init (&self->descriptors);
}

/* ---- construction ------------------------------------------------------- */

/* @context: where the notification signal is emitted. */
static BleioCharacteristic *
characteristic_new (BleioService *service,
                    const char   *path,
                    GMainContext *context)
{
  BleioConnection *connection = bleio_service_get_connection (service);
  BleioClient *client = bleio_connection_get_client (connection);
  g_autoptr(GVariant) uuid = bleio_client_dup_property (client, path, BLEIO_IFACE_CHARACTERISTIC, "UUID");
  g_autoptr(GVariant) flags = bleio_client_dup_property (client, path, BLEIO_IFACE_CHARACTERISTIC, "Flags");
  g_autoptr(GVariant) notify_acquired = bleio_client_dup_property (client, path, BLEIO_IFACE_CHARACTERISTIC, "NotifyAcquired");
  g_autoptr(GVariant) write_acquired = bleio_client_dup_property (client, path, BLEIO_IFACE_CHARACTERISTIC, "WriteAcquired");
  BleioCharacteristic *self = g_object_new (BLEIO_TYPE_CHARACTERISTIC, NULL);

  self->service = g_object_ref (service);
  self->client = bleio_client_ref (client);
  self->path = g_strdup (path);
  self->device_path = g_strdup (bleio_connection_get_object_path (connection));
  self->handle = bleio_gatt_handle (client, path, BLEIO_IFACE_CHARACTERISTIC, "char");
  self->max_length = BLEIO_CHARACTERISTIC_MAX_LENGTH;
  self->incarnation = bleio_client_get_incarnation (client, path);
  self->context = g_main_context_ref (context);
  self->uuid = bleio_uuid_from_bluez_value (uuid);
  if (self->uuid == NULL)
    self->uuid = bleio_uuid_new_from_uuid16 (0);
  self->properties = bleio_properties_from_bluez_value (flags);
  /* bluetoothd exports NotifyAcquired/WriteAcquired only for
   * characteristics that can notify / be written without response. */
  self->can_acquire_notify = notify_acquired != NULL &&
                             (self->properties & BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY);
  self->can_acquire_write = write_acquired != NULL &&
                            (self->properties & BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE);
  return self;
}

BleioCharacteristic *
bleio_characteristic_new_local (BleioService                  *service,
                                BleioUuid                     *uuid,
                                BleioCharacteristicProperties  properties,
                                guint                          max_length)
{
  BleioCharacteristic *self = g_object_new (BLEIO_TYPE_CHARACTERISTIC, NULL);

  self->service = g_object_ref (service);
  self->client = bleio_client_ref (bleio_local_attr_get_client (bleio_service_get_local (service)));
  self->context = g_main_context_ref_thread_default ();
  self->uuid = uuid;
  self->properties = properties;
  self->max_length = max_length;
  return self;
}

void
bleio_characteristic_set_local (BleioCharacteristic *characteristic,
                                BleioLocalAttr      *attr)
{
  characteristic->local = bleio_local_attr_ref (attr);
  characteristic->path = g_strdup (bleio_local_attr_get_path (attr));
}

BleioLocalAttr *
bleio_characteristic_get_local (BleioCharacteristic *characteristic)
{
  return characteristic->local;
}

void
bleio_characteristic_emit_written (BleioCharacteristic *characteristic,
                                   GBytes              *value,
                                   BleioConnection     *connection)
{
  g_signal_emit (characteristic, signals[SIGNAL_WRITTEN], 0, value, connection);
}

void
bleio_characteristic_emit_read (BleioCharacteristic *characteristic,
                                BleioConnection     *connection,
                                guint                offset)
{
  g_signal_emit (characteristic, signals[SIGNAL_READ], 0, connection, offset);
}

void
bleio_characteristic_emit_notifying_changed (BleioCharacteristic *characteristic,
                                             gboolean             notifying)
{
  g_signal_emit (characteristic, signals[SIGNAL_NOTIFYING_CHANGED], 0, notifying);
}

static gpointer
characteristic_new_child (gpointer    service,
                          const char *path)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();

  return characteristic_new (service, path, context);
}

BleioCharacteristic *
bleio_characteristic_new_successor (BleioCharacteristic *characteristic,
                                    const char          *path)
{
  BleioConnection *connection = bleio_service_get_connection (characteristic->service);
  g_autofree char *service_path = g_strdup (path);
  g_autoptr(GVariant) uuid = NULL;
  g_autoptr(GVariant) primary = NULL;
  g_autoptr(BleioService) service = NULL;
  BleioUuid *service_uuid;
  char *slash = strrchr (service_path, '/');

  if (slash == NULL)
    return NULL;
  *slash = '\0';
  uuid = bleio_client_dup_property (characteristic->client, service_path,
                                    BLEIO_IFACE_SERVICE, "UUID");
  primary = bleio_client_dup_property (characteristic->client, service_path,
                                       BLEIO_IFACE_SERVICE, "Primary");
  service_uuid = bleio_uuid_from_bluez_value (uuid);
  if (service_uuid == NULL)
    return NULL;
  service = bleio_service_new_remote (connection, service_path, service_uuid,
                                      bleio_boolean_from_bluez_value (primary, TRUE));
  return characteristic_new (service, path, characteristic->context);
}

GPtrArray *
bleio_service_dup_characteristics (BleioService *service)
{
  g_return_val_if_fail (BLEIO_IS_SERVICE (service), NULL);
  if (bleio_service_get_local (service) != NULL)
    return bleio_local_attr_dup_children (bleio_service_get_local (service));
  return bleio_gatt_children_dup (bleio_service_get_characteristic_children (service),
                                  bleio_connection_get_client (bleio_service_get_connection (service)),
                                  bleio_service_get_object_path (service),
                                  bleio_service_get_incarnation (service),
                                  BLEIO_IFACE_CHARACTERISTIC, "char",
                                  characteristic_new_child, service);
}

/* ---- getters ------------------------------------------------------------ */

const BleioUuid *
bleio_characteristic_get_uuid (BleioCharacteristic *characteristic)
{
  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), NULL);
  return characteristic->uuid;
}

BleioCharacteristicProperties
bleio_characteristic_get_properties (BleioCharacteristic *characteristic)
{
  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), 0);
  return characteristic->properties;
}

guint16
bleio_characteristic_get_handle (BleioCharacteristic *characteristic)
{
  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), 0);
  return characteristic->handle;
}

guint
bleio_characteristic_get_max_length (BleioCharacteristic *characteristic)
{
  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), 0);
  return characteristic->max_length;
}

BleioService *
bleio_characteristic_get_service (BleioCharacteristic *characteristic)
{
  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), NULL);
  return characteristic->service;
}

const char *
bleio_characteristic_get_object_path (BleioCharacteristic *characteristic)
{
  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), NULL);
  return characteristic->path;
}

BleioGattChildren *
bleio_characteristic_get_descriptor_children (BleioCharacteristic *characteristic)
{
  return &characteristic->descriptors;
}

guint
bleio_characteristic_get_mtu (BleioCharacteristic *characteristic)
{
  g_autoptr(GVariant) mtu = NULL;
  guint acquired;
  guint16 value;

  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), BLEIO_ATT_DEFAULT_MTU);
  mtu = bleio_client_dup_property (characteristic->client, characteristic->path,
                                   BLEIO_IFACE_CHARACTERISTIC, "MTU");
  value = bleio_mtu_from_bluez_value (mtu, BLEIO_ATT_DEFAULT_MTU);
  if (value != 0)
    return value;
  g_mutex_lock (&characteristic->lock);
  acquired = characteristic->acquired_mtu;
  g_mutex_unlock (&characteristic->lock);
  return acquired >= BLEIO_ATT_DEFAULT_MTU ? acquired : BLEIO_ATT_DEFAULT_MTU;
}

/* ---- internals for the buffers ------------------------------------------ */

BleioClient *
bleio_characteristic_get_client (BleioCharacteristic *characteristic)
{
  return characteristic->client;
}

const char *
bleio_characteristic_get_device_path (BleioCharacteristic *characteristic)
{
  return characteristic->device_path;
}

gboolean
bleio_characteristic_check_connected (BleioCharacteristic  *characteristic,
                                      GError              **error)
{
  BleioConnection *connection = bleio_service_get_connection (characteristic->service);

  if (characteristic->local != NULL)
    {
      /* Clients subscribe to a local characteristic; the application
       * sets its value. */
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_ROLE,
                   "%s is a local characteristic: this is for a peer's characteristic "
                   "(set the value with bleio_characteristic_write_value())",
                   characteristic->path);
      return FALSE;
    }
  if (!bleio_connection_get_connected (connection))
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_CONNECTION,
                           BLEIO_NOT_CONNECTED_MESSAGE);
      return FALSE;
    }
  return bleio_gatt_check_current (characteristic->client, characteristic->path,
                                   characteristic->incarnation, error);
}

guint
bleio_characteristic_get_incarnation (BleioCharacteristic *characteristic)
{
  return characteristic->incarnation;
}

void
bleio_characteristic_note_mtu (BleioCharacteristic *characteristic,
                               guint                mtu)
{
  g_mutex_lock (&characteristic->lock);
  characteristic->acquired_mtu = mtu;
  g_mutex_unlock (&characteristic->lock);
}

gboolean
bleio_characteristic_can_acquire (BleioCharacteristic *characteristic,
                                  gboolean             write)
{
  return write ? characteristic->can_acquire_write : characteristic->can_acquire_notify;
}

static gboolean
emit_pending_cb (gpointer user_data)
{
  BleioCharacteristic *self = user_data;

  for (;;)
    {
      g_autoptr(GBytes) value = NULL;

      g_mutex_lock (&self->lock);
      value = g_queue_pop_head (&self->pending);
      if (value == NULL)
        g_clear_pointer (&self->emit_source, g_source_unref);
      g_mutex_unlock (&self->lock);
      if (value == NULL)
        break;
      g_signal_emit (self, signals[SIGNAL_NOTIFICATION], 0, value);
    }
  return G_SOURCE_REMOVE;
}

/* Any thread. Queues @value for the signal in the object's context. */
static void
queue_emission (BleioCharacteristic *self,
                GBytes              *value)
{
  if (!g_signal_has_handler_pending (self, signals[SIGNAL_NOTIFICATION], 0, TRUE))
    return;
  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->pending, g_bytes_ref (value));
  if (self->emit_source == NULL)
    {
      self->emit_source = g_idle_source_new ();
      g_source_set_priority (self->emit_source, G_PRIORITY_DEFAULT);
      g_source_set_callback (self->emit_source, emit_pending_cb,
                             g_object_ref (self), g_object_unref);
      g_source_set_static_name (self->emit_source, "[bleio] notification");
      g_source_attach (self->emit_source, self->context);
    }
  g_mutex_unlock (&self->lock);
}

void
bleio_characteristic_deliver (BleioCharacteristic *characteristic,
                              const guint8        *data,
                              gsize                len)
{
  g_autoptr(GBytes) value = NULL;

  if (!bleio_characteristic_wants_notifications (characteristic))
    return;
  value = g_bytes_new (data, len);
  queue_emission (characteristic, value);
}

gboolean
bleio_characteristic_wants_notifications (BleioCharacteristic *characteristic)
{
  return g_signal_has_handler_pending (characteristic, signals[SIGNAL_NOTIFICATION], 0, TRUE);
}

/* On the worker: Value changes while subscribed go to the signal's queue,
 * which takes them only while a handler is connected, so a process that
 * never runs its main loop does not pile them up. */
static void
on_value_event (BleioClient            *client,
                const BleioClientEvent *event,
                gpointer                user_data)
{
  g_autoptr(BleioCharacteristic) self = g_weak_ref_get (user_data);
  g_autoptr(GVariant) value = NULL;
  gboolean wanted;

  if (self == NULL || event->kind != BLEIO_CLIENT_EVENT_CHANGED ||
      !g_str_equal (event->path, self->path) ||
      !g_str_equal (event->interface, BLEIO_IFACE_CHARACTERISTIC))
    return;
  value = bleio_client_event_dup_changed (event, "Value", G_VARIANT_TYPE_BYTESTRING);
  if (value == NULL)
    return;
  g_mutex_lock (&self->lock);
  /* An acquired descriptor feeds the signal itself. */
  wanted = self->subscriptions > 0 && self->acquired == 0;
  g_mutex_unlock (&self->lock);
  if (wanted)
    {
      gsize len = 0;
      const guint8 *data = g_variant_get_fixed_array (value, &len, 1);

      bleio_characteristic_deliver (self, data, len);
    }
}

gboolean
bleio_characteristic_is_subscribed (BleioCharacteristic *characteristic)
{
  gboolean subscribed;

  g_mutex_lock (&characteristic->lock);
  subscribed = characteristic->subscriptions > 0;
  g_mutex_unlock (&characteristic->lock);
  return subscribed;
}

void
bleio_characteristic_hold_subscription (BleioCharacteristic *characteristic,
                                        gboolean             hold)
{
  /* The watch calls take the client's lock, never ours: no inversion. */
  g_mutex_lock (&characteristic->lock);
  if (hold)
    {
      if (characteristic->subscriptions++ == 0)
        {
          BleioClientWatchKey key = { characteristic->path, BLEIO_IFACE_CHARACTERISTIC, FALSE, 0 };

          characteristic->watch_id = bleio_client_watch_keys (characteristic->client, NULL,
                                                              &key, 1, on_value_event,
                                                              bleio_weak_ref_new (characteristic),
                                                              bleio_weak_ref_free);
        }
    }
  else if (characteristic->subscriptions > 0 && --characteristic->subscriptions == 0)
    {
      bleio_client_unwatch (characteristic->client, characteristic->watch_id);
      characteristic->watch_id = 0;
    }
  g_mutex_unlock (&characteristic->lock);
}

void
bleio_characteristic_hold_acquired (BleioCharacteristic *characteristic,
                                    gboolean             hold)
{
  g_mutex_lock (&characteristic->lock);
  if (hold)
    characteristic->acquired++;
  else if (characteristic->acquired > 0)
    {
      characteristic->acquired--;
      characteristic->released = TRUE;
    }
  g_mutex_unlock (&characteristic->lock);
}

gboolean
bleio_characteristic_released_acquired (BleioCharacteristic *characteristic)
{
  gboolean released;

  g_mutex_lock (&characteristic->lock);
  released = characteristic->released;
  g_mutex_unlock (&characteristic->lock);
  return released;
}

/* ---- read ----------------------------------------------------------------- */

void
bleio_characteristic_read_value_async (BleioCharacteristic *characteristic,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic));
  task = g_task_new (characteristic, cancellable, callback, user_data);
  g_task_set_source_tag (task, BLEIO_TAG (bleio_characteristic_read_value_async));
  if (characteristic->local != NULL)
    {
      g_task_return_pointer (task, bleio_local_attr_dup_value (characteristic->local),
                             (GDestroyNotify) g_bytes_unref);
      return;
    }
  if (!bleio_characteristic_check_connected (characteristic, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  bleio_gatt_call_async (characteristic->client, characteristic->path,
                         BLEIO_IFACE_CHARACTERISTIC, "ReadValue",
                         g_variant_new ("(a{sv})", NULL), cancellable, bleio_gatt_read_value_cb,
                         g_steal_pointer (&task));
}

GBytes *
bleio_characteristic_read_value_finish (BleioCharacteristic  *characteristic,
                                        GAsyncResult         *result,
                                        GError              **error)
{
  g_return_val_if_fail (g_task_is_valid (result, characteristic), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

GBytes *
bleio_characteristic_read_value (BleioCharacteristic  *characteristic,
                                 GError              **error)
{
  BleioSync sync;
  GBytes *value;

  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), NULL);
  bleio_sync_begin (&sync);
  bleio_characteristic_read_value_async (characteristic, NULL, bleio_sync_callback, &sync);
  value = bleio_characteristic_read_value_finish (characteristic, bleio_sync_wait (&sync), error);
  bleio_sync_end (&sync);
  return value;
}

/* ---- write ---------------------------------------------------------------- */

void
bleio_characteristic_write_value_full_async (BleioCharacteristic *characteristic,
                                             GBytes              *value,
                                             BleioWriteType       type,
                                             guint16              offset,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  GVariantBuilder options;
  const char *type_name;
  gsize len;
  const guint8 *data;
  guint mtu;

  g_return_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic));
  g_return_if_fail (value != NULL);
  task = g_task_new (characteristic, cancellable, callback, user_data);
  g_task_set_source_tag (task, BLEIO_TAG (bleio_characteristic_write_value_full_async));

  if (characteristic->local != NULL)
    {
      if (offset != 0)
        g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                                 "A local characteristic's value is set whole: give offset 0");
      else
        bleio_local_attr_set_value (characteristic->local, value, task);
      return;
    }
  data = g_bytes_get_data (value, &len);
  if (type == BLEIO_WRITE_TYPE_DEFAULT)
    type = (characteristic->properties & BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE)
           ? BLEIO_WRITE_TYPE_COMMAND : BLEIO_WRITE_TYPE_REQUEST;
  switch (type)
    {
    case BLEIO_WRITE_TYPE_COMMAND:
      type_name = "command";
      break;
    case BLEIO_WRITE_TYPE_RELIABLE:
      type_name = "reliable";
      break;
    case BLEIO_WRITE_TYPE_REQUEST:
    case BLEIO_WRITE_TYPE_DEFAULT:
    default:
      type_name = "request";
      break;
    }

  if (!bleio_characteristic_check_connected (characteristic, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if ((gsize) offset + len > BLEIO_CHARACTERISTIC_MAX_LENGTH)
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                               "Value too long: %" G_GSIZE_FORMAT " bytes at offset %u "
                               "exceed the %d bytes an attribute can hold",
                               len, offset, BLEIO_CHARACTERISTIC_MAX_LENGTH);
      return;
    }
  mtu = bleio_characteristic_get_mtu (characteristic);
  if (type == BLEIO_WRITE_TYPE_COMMAND && len > mtu - 3)
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                               "Value too long for a write without response: %"
                               G_GSIZE_FORMAT " bytes, the ATT MTU of %u allows %u",
                               len, mtu, mtu - 3);
      return;
    }

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "type", g_variant_new_string (type_name));
  if (offset > 0)
    g_variant_builder_add (&options, "{sv}", "offset", g_variant_new_uint16 (offset));
  bleio_gatt_call_async (characteristic->client, characteristic->path,
                         BLEIO_IFACE_CHARACTERISTIC, "WriteValue",
                         g_variant_new ("(@aya{sv})",
                                        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1),
                                        &options),
                         cancellable, bleio_gatt_write_value_cb, g_steal_pointer (&task));
}

void
bleio_characteristic_write_value_async (BleioCharacteristic *characteristic,
                                        GBytes              *value,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  bleio_characteristic_write_value_full_async (characteristic, value, BLEIO_WRITE_TYPE_DEFAULT,
                                               0, cancellable, callback, user_data);
}

gboolean
bleio_characteristic_write_value_finish (BleioCharacteristic  *characteristic,
                                         GAsyncResult         *result,
                                         GError              **error)
{
  g_return_val_if_fail (g_task_is_valid (result, characteristic), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
bleio_characteristic_write_value_full (BleioCharacteristic  *characteristic,
                                       GBytes               *value,
                                       BleioWriteType        type,
                                       guint16               offset,
                                       GError              **error)
{
  BleioSync sync;
  gboolean ok;

  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), FALSE);
  /* A local notification the acquired socket takes at once needs no
   * round trip through a main context (bench-serve). */
  if (characteristic->local != NULL && offset == 0 && value != NULL &&
      bleio_local_attr_set_value_now (characteristic->local, value))
    return TRUE;
  bleio_sync_begin (&sync);
  bleio_characteristic_write_value_full_async (characteristic, value, type, offset, NULL,
                                               bleio_sync_callback, &sync);
  ok = bleio_characteristic_write_value_finish (characteristic, bleio_sync_wait (&sync), error);
  bleio_sync_end (&sync);
  return ok;
}

gboolean
bleio_characteristic_write_value (BleioCharacteristic  *characteristic,
                                  GBytes               *value,
                                  GError              **error)
{
  return bleio_characteristic_write_value_full (characteristic, value,
                                                BLEIO_WRITE_TYPE_DEFAULT, 0, error);
}

/* ---- set_cccd ------------------------------------------------------------- */

typedef struct {
  gboolean enable;
} CccdData;

/* Records whether our CCCD session is on. The subscription held for a
 * session that was on is dropped: turning it off ends it, and turning it
 * on again took a second one before asking. */
static void
cccd_record (BleioCharacteristic *self,
             gboolean             on)
{
  gboolean was_on;

  g_mutex_lock (&self->lock);
  was_on = self->cccd_on;
  self->cccd_on = on;
  g_mutex_unlock (&self->lock);
  if (was_on)
    bleio_characteristic_hold_subscription (self, FALSE);
}

static void
cccd_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioCharacteristic *self = g_task_get_source_object (task);
  CccdData *data = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GVariant) reply = bleio_gatt_call_finish (result, &error);

  if (reply == NULL && data->enable &&
      g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_NOT_PERMITTED) &&
      (strstr (error->message, "Notify acquired") != NULL ||
       bleio_client_get_boolean (self->client, self->path, BLEIO_IFACE_CHARACTERISTIC,
                                 "NotifyAcquired")))
    {
      /* "Notify acquired": notifications already flow to an acquired
       * descriptor (a buffer); that is the state asked for. bluetoothd's
       * words say so first: the NotifyAcquired change that our view
       * would show comes over the receiving connection and may still be
       * on its way when this answer is here. */
      g_clear_error (&error);
    }
  else if (reply == NULL && !data->enable &&
           g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_BLUETOOTH) &&
           strstr (error->message, "No notify session") != NULL)
    {
      g_clear_error (&error);
    }
  if (error != NULL)
    {
      if (data->enable)
        bleio_characteristic_hold_subscription (self, FALSE);
      g_task_return_error (task, error);
      return;
    }
  cccd_record (self, data->enable);
  g_task_return_boolean (task, TRUE);
}

void
bleio_characteristic_set_cccd_async (BleioCharacteristic *characteristic,
                                     gboolean             notify,
                                     gboolean             indicate,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  CccdData *data;
  BleioCharacteristicProperties wanted = 0;

  g_return_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic));
  task = g_task_new (characteristic, cancellable, callback, user_data);
  g_task_set_source_tag (task, BLEIO_TAG (bleio_characteristic_set_cccd_async));
  data = g_new0 (CccdData, 1);
  data->enable = notify || indicate;
  g_task_set_task_data (task, data, g_free);

  if (!bleio_characteristic_check_connected (characteristic, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (notify)
    wanted |= BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY;
  if (indicate)
    wanted |= BLEIO_CHARACTERISTIC_PROPERTY_INDICATE;
  if (data->enable && (characteristic->properties & wanted) == 0)
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_BLUETOOTH,
                               "Characteristic %s has no CCCD for this: it cannot %s",
                               characteristic->path,
                               notify && indicate ? "notify or indicate" : notify ? "notify" : "indicate");
      return;
    }
  if (!data->enable)
    {
      gboolean others;

      /* BlueZ keeps one notify session per client: while a buffer of this
       * object still needs it, turning the CCCD off only drops our part. */
      g_mutex_lock (&characteristic->lock);
      others = characteristic->subscriptions > (characteristic->cccd_on ? 1u : 0u);
      g_mutex_unlock (&characteristic->lock);
      if (others)
        {
          cccd_record (characteristic, FALSE);
          g_task_return_boolean (task, TRUE);
          return;
        }
    }
  /* Subscribed first (the signal watch is up), asked second. */
  if (data->enable)
    bleio_characteristic_hold_subscription (characteristic, TRUE);
  bleio_gatt_call_async (characteristic->client, characteristic->path,
                         BLEIO_IFACE_CHARACTERISTIC,
                         data->enable ? "StartNotify" : "StopNotify", NULL,
                         cancellable, cccd_cb, g_steal_pointer (&task));
}

gboolean
bleio_characteristic_set_cccd_finish (BleioCharacteristic  *characteristic,
                                      GAsyncResult         *result,
                                      GError              **error)
{
  g_return_val_if_fail (g_task_is_valid (result, characteristic), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
bleio_characteristic_set_cccd (BleioCharacteristic  *characteristic,
                               gboolean              notify,
                               gboolean              indicate,
                               GError              **error)
{
  BleioSync sync;
  gboolean ok;

  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), FALSE);
  bleio_sync_begin (&sync);
  bleio_characteristic_set_cccd_async (characteristic, notify, indicate, NULL,
                                       bleio_sync_callback, &sync);
  ok = bleio_characteristic_set_cccd_finish (characteristic, bleio_sync_wait (&sync), error);
  bleio_sync_end (&sync);
  return ok;
}
