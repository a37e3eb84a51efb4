/* SPDX-License-Identifier: MIT */
/*
 * A local attribute and the object bluetoothd calls for it
 * (bleio-local-attr-private.h).
 *
 * What bluetoothd 5.66 does to an application's objects (src/gatt-
 * database.c, and the calls recorded in tests/data/bluez-5.66/
 * gatt-server-calls.json): ReadValue and WriteValue carry `device`,
 * `link`, `mtu` and, when not 0, `offset`; never `type`, so a write
 * command cannot be told from a request (bluetoothd answers the client
 * of a command before it calls WriteValue, and ignores the reply).
 * Errors become ATT errors: InvalidOffset 0x07, InvalidValueLength 0x0d,
 * NotPermitted read/write not permitted, NotAuthorized 0x08, NotSupported
 * 0x06. StartNotify comes when the first client enables the CCCD and
 * StopNotify when the last one disables it or disconnects (an unbonded
 * client's CCCD is cleared with its link); neither says which client. A
 * Value in PropertiesChanged is sent to every client whose CCCD is on,
 * and each confirmed indication calls Confirm.
 */
#include "bleio-local-attr-private.h"
#include "bleio-local-acquire-private.h"

#include <string.h>

#define IFACE_SERVICE "org.bluez.GattService1"
#define IFACE_CHARACTERISTIC "org.bluez.GattCharacteristic1"
#define IFACE_DESCRIPTOR "org.bluez.GattDescriptor1"
#define BLUEZ_ERROR "org.bluez.Error."

struct _BleioLocalAttr {
  gatomicrefcount ref;
  BleioLocalKind kind;
  BleioClient *client;
  char *adapter_path;
  char *path;
  char *parent_path;
  char *uuid;
  gboolean primary;
  GStrv flags;
  gboolean readable;
  gboolean writable;
  guint properties;
  guint max_length;
  gboolean fixed_length;
  GMainContext *context;
  BleioLocalWrittenFunc written;
  BleioLocalAcquire *acquire;   /* characteristics: sockets and taps */

  /* Under local_lock. */
  BleioLocalEventFunc event;
  GBytes *value;
  GObject *object;              /* until the tree is disposed */
  GPtrArray *children;          /* BleioLocalAttr*, owned */
  guint registration_id;
  gboolean notifying;
  GQueue confirms;              /* Indication*, oldest first */
};

typedef struct {
  GTask *task;
  GSource *timeout;
} Indication;

static GMutex local_lock;

/* What the acquired sockets (lib/bleio-local-acquire.c) need of us. */
static void acquired_notifying (gpointer attr, gboolean on);
static void acquired_packet (gpointer attr, const guint8 *data, gsize len, const char *device);
static gpointer acquired_ref (gpointer attr);
static void acquired_unref (gpointer attr);

static const BleioLocalAcquireHooks acquire_hooks = {
  acquired_notifying, acquired_packet, acquired_ref, acquired_unref,
};

static const char attr_xml[] =
  "<node>"
  "<interface name='" IFACE_SERVICE "'>"
  "<property name='UUID' type='s' access='read'/>"
  "<property name='Primary' type='b' access='read'/>"
  "</interface>"
  "<interface name='" IFACE_CHARACTERISTIC "'>"
  "<method name='ReadValue'><arg name='options' type='a{sv}' direction='in'/>"
  "<arg name='value' type='ay' direction='out'/></method>"
  "<method name='WriteValue'><arg name='value' type='ay' direction='in'/>"
  "<arg name='options' type='a{sv}' direction='in'/></method>"
  "<method name='AcquireWrite'><arg name='options' type='a{sv}' direction='in'/>"
  "<arg name='fd' type='h' direction='out'/><arg name='mtu' type='q' direction='out'/></method>"
  "<method name='AcquireNotify'><arg name='options' type='a{sv}' direction='in'/>"
  "<arg name='fd' type='h' direction='out'/><arg name='mtu' type='q' direction='out'/></method>"
  "<method name='StartNotify'/>"
  "<method name='StopNotify'/>"
  "<method name='Confirm'/>"
  "<property name='UUID' type='s' access='read'/>"
  "<property name='Service' type='o' access='read'/>"
  "<property name='Flags' type='as' access='read'/>"
  "<property name='Value' type='ay' access='read'/>"
  "</interface>"
  "<interface name='" IFACE_DESCRIPTOR "'>"
  "<method name='ReadValue'><arg name='options' type='a{sv}' direction='in'/>"
  "<arg name='value' type='ay' direction='out'/></method>"
  "<method name='WriteValue'><arg name='value' type='ay' direction='in'/>"
  "<arg name='options' type='a{sv}' direction='in'/></method>"
  "<property name='UUID' type='s' access='read'/>"
  "<property name='Characteristic' type='o' access='read'/>"
  "<property name='Flags' type='as' access='read'/>"
  "<property name='Value' type='ay' access='read'/>"
  "</interface>"
  "</node>";

static GDBusInterfaceInfo *
attr_info (BleioLocalKind kind)
{
  static gsize node;

  if (g_once_init_enter (&node))
    {
      /* Kept for the life of the process, as generated interface info is. */
      GDBusNodeInfo *info = g_dbus_node_info_new_for_xml (attr_xml, NULL);

      g_once_init_leave (&node, (gsize) info);
    }
  return ((GDBusNodeInfo *) node)->interfaces[kind];
}

static const char *
attr_iface (BleioLocalKind kind)
{
  return attr_info (kind)->name;
}

/* ---- lifetime ------------------------------------------------------------------ */

BleioLocalAttr *
bleio_local_attr_new (const BleioLocalAttrSpec *spec,
                      BleioClient              *client,
                      const char               *adapter_path,
                      const char               *path,
                      const char               *parent_path,
                      GObject                  *object,
                      GMainContext             *context,
                      BleioLocalWrittenFunc     written)
{
  BleioLocalAttr *self = g_new0 (BleioLocalAttr, 1);

  g_atomic_ref_count_init (&self->ref);
  self->kind = spec->kind;
  self->client = bleio_client_ref (client);
  self->adapter_path = g_strdup (adapter_path);
  self->path = g_strdup (path);
  self->parent_path = g_strdup (parent_path);
  self->uuid = g_strdup (spec->uuid);
  self->primary = spec->primary;
  self->flags = g_strdupv ((char **) spec->flags);
  self->readable = spec->readable;
  self->writable = spec->writable;
  self->properties = spec->properties;
  self->max_length = spec->max_length;
  self->fixed_length = spec->fixed_length;
  self->context = g_main_context_ref (context);
  self->written = written;
  self->value = spec->value != NULL ? g_bytes_ref (spec->value) : g_bytes_new (NULL, 0);
  self->object = object != NULL ? g_object_ref (object) : NULL;
  self->children = g_ptr_array_new_with_free_func ((GDestroyNotify) bleio_local_attr_unref);
  g_queue_init (&self->confirms);
  if (self->kind == BLEIO_LOCAL_CHARACTERISTIC)
    self->acquire = bleio_local_acquire_new (client, &acquire_hooks, self);
  return self;
}

BleioLocalAttr *
bleio_local_attr_ref (BleioLocalAttr *self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

void
bleio_local_attr_unref (BleioLocalAttr *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref))
    return;
  /* Nothing waits any more: reset() ran when the tree ended, and a
   * waiting indication holds a reference through its task's data. */
  g_clear_pointer (&self->acquire, bleio_local_acquire_free);
  g_clear_pointer (&self->children, g_ptr_array_unref);
  g_clear_object (&self->object);
  g_bytes_unref (self->value);
  g_main_context_unref (self->context);
  g_strfreev (self->flags);
  g_free (self->uuid);
  g_free (self->parent_path);
  g_free (self->path);
  g_free (self->adapter_path);
  bleio_client_unref (self->client);
  g_free (self);
}

BleioLocalKind
bleio_local_attr_get_kind (BleioLocalAttr *self)
{
  return self->kind;
}

const char *
bleio_local_attr_get_path (BleioLocalAttr *self)
{
  return self->path;
}

guint
bleio_local_attr_get_max_length (BleioLocalAttr *self)
{
  return self->max_length;
}

BleioClient *
bleio_local_attr_get_client (BleioLocalAttr *self)
{
  return self->client;
}

const char *
bleio_local_attr_get_adapter_path (BleioLocalAttr *self)
{
  return self->adapter_path;
}

void
bleio_local_attr_add_child (BleioLocalAttr *self,
                            BleioLocalAttr *child)
{
  g_mutex_lock (&local_lock);
  if (self->children != NULL)
    g_ptr_array_add (self->children, bleio_local_attr_ref (child));
  g_mutex_unlock (&local_lock);
}

GPtrArray *
bleio_local_attr_dup_children (BleioLocalAttr *self)
{
  GPtrArray *objects = g_ptr_array_new_with_free_func (g_object_unref);

  g_mutex_lock (&local_lock);
  for (guint i = 0; self->children != NULL && i < self->children->len; i++)
    {
      BleioLocalAttr *child = g_ptr_array_index (self->children, i);

      if (child->object != NULL)
        g_ptr_array_add (objects, g_object_ref (child->object));
    }
  g_mutex_unlock (&local_lock);
  return objects;
}

void
bleio_local_attr_collect (BleioLocalAttr *self,
                          GPtrArray      *into)
{
  g_autoptr(GPtrArray) children = g_ptr_array_new_with_free_func ((GDestroyNotify) bleio_local_attr_unref);

  g_ptr_array_add (into, bleio_local_attr_ref (self));
  g_mutex_lock (&local_lock);
  for (guint i = 0; self->children != NULL && i < self->children->len; i++)
    g_ptr_array_add (children, bleio_local_attr_ref (g_ptr_array_index (self->children, i)));
  g_mutex_unlock (&local_lock);
  for (guint i = 0; i < children->len; i++)
    bleio_local_attr_collect (g_ptr_array_index (children, i), into);
}

GObject *
bleio_local_attr_dup_object (BleioLocalAttr *self)
{
  GObject *object;

  g_mutex_lock (&local_lock);
  object = self->object != NULL ? g_object_ref (self->object) : NULL;
  g_mutex_unlock (&local_lock);
  return object;
}

GBytes *
bleio_local_attr_dup_value (BleioLocalAttr *self)
{
  GBytes *value;

  g_mutex_lock (&local_lock);
  value = g_bytes_ref (self->value);
  g_mutex_unlock (&local_lock);
  return value;
}

gboolean
bleio_local_attr_get_notifying (BleioLocalAttr *self)
{
  gboolean notifying;

  g_mutex_lock (&local_lock);
  notifying = self->notifying;
  g_mutex_unlock (&local_lock);
  return notifying;
}

/* ---- what bluetoothd reads ----------------------------------------------------- */

/* Under local_lock. */
static GVariant *
properties_locked (BleioLocalAttr *self)
{
  GVariantBuilder props;

  g_variant_builder_init (&props, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&props, "{sv}", "UUID", g_variant_new_string (self->uuid));
  if (self->kind == BLEIO_LOCAL_SERVICE)
    {
      g_variant_builder_add (&props, "{sv}", "Primary", g_variant_new_boolean (self->primary));
      return g_variant_builder_end (&props);
    }
  g_variant_builder_add (&props, "{sv}",
                         self->kind == BLEIO_LOCAL_CHARACTERISTIC ? "Service" : "Characteristic",
                         g_variant_new_object_path (self->parent_path));
  g_variant_builder_add (&props, "{sv}", "Flags",
                         g_variant_new_strv ((const char * const *) self->flags, -1));
  g_variant_builder_add (&props, "{sv}", "Value",
                         g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, self->value, TRUE));
  if (self->acquire != NULL)
    bleio_local_acquire_add_properties (self->acquire, &props);
  return g_variant_builder_end (&props);
}

void
bleio_local_attr_add_managed (BleioLocalAttr  *self,
                              GVariantBuilder *objects)
{
  GVariant *props;

  g_mutex_lock (&local_lock);
  props = properties_locked (self);
  g_mutex_unlock (&local_lock);
  g_variant_builder_open (objects, G_VARIANT_TYPE ("{oa{sa{sv}}}"));
  g_variant_builder_add (objects, "o", self->path);
  g_variant_builder_open (objects, G_VARIANT_TYPE ("a{sa{sv}}"));
  g_variant_builder_add (objects, "{s@a{sv}}", attr_iface (self->kind), props);
  g_variant_builder_close (objects);
  g_variant_builder_close (objects);
}

static GVariant *
get_property (GDBusConnection  *connection,
              const char       *sender,
              const char       *object_path,
              const char       *interface_name,
              const char       *property_name,
              GError          **error,
              gpointer          user_data)
{
  BleioLocalAttr *self = user_data;
  g_autoptr(GVariant) props = NULL;
  GVariant *value;

  g_mutex_lock (&local_lock);
  props = properties_locked (self);
  g_mutex_unlock (&local_lock);
  value = g_variant_lookup_value (props, property_name, NULL);
  if (value == NULL)
    g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY,
                 "No property %s", property_name);
  return value;
}

/* ---- a client's reads and writes ------------------------------------------------- */

typedef struct {
  BleioLocalAttr *attr;
  GBytes *value;
  char *device;
} Written;

static gboolean
written_cb (gpointer data)
{
  Written *w = data;
  g_autoptr(GObject) object = NULL;

  g_mutex_lock (&local_lock);
  if (w->attr->object != NULL)
    object = g_object_ref (w->attr->object);
  g_mutex_unlock (&local_lock);
  if (object != NULL && w->attr->written != NULL)
    w->attr->written (object, w->value, w->device);
  return G_SOURCE_REMOVE;
}

static void
written_free (gpointer data)
{
  Written *w = data;

  bleio_local_attr_unref (w->attr);
  g_bytes_unref (w->value);
  g_free (w->device);
  g_free (w);
}

/* Any thread: told in the attribute's context, in order. */
static void
tell_written (BleioLocalAttr *self,
              GBytes         *value,
              const char     *device)
{
  Written *w = g_new0 (Written, 1);
  g_autoptr(GSource) idle = g_idle_source_new ();

  w->attr = bleio_local_attr_ref (self);
  w->value = g_bytes_ref (value);
  w->device = g_strdup (device != NULL ? device : "");
  g_source_set_callback (idle, written_cb, w, written_free);
  g_source_set_static_name (idle, "[bleio] local attribute written");
  g_source_attach (idle, self->context);
}

static void tell_event (BleioLocalAttr      *self,
                        BleioLocalEventKind  kind,
                        guint                number,
                        const char          *device);

static void
read_value (BleioLocalAttr        *self,
            GVariant              *options,
            GDBusMethodInvocation *invocation)
{
  g_autoptr(GBytes) value = NULL;
  const char *device = NULL;
  guint16 offset = 0;
  gsize len;

  if (!self->readable)
    {
      g_dbus_method_invocation_return_dbus_error (invocation, BLUEZ_ERROR "NotPermitted",
                                                  "Reading this attribute is not permitted");
      return;
    }
  g_variant_lookup (options, "offset", "q", &offset);
  g_variant_lookup (options, "device", "&o", &device);
  value = bleio_local_attr_dup_value (self);
  len = g_bytes_get_size (value);
  if (offset > len)
    {
      /* An offset past the end is the ATT error Invalid Offset; one at the
       * end reads nothing (Core Vol 3 Part F 3.4.4.5). */
      g_dbus_method_invocation_return_dbus_error (invocation, BLUEZ_ERROR "InvalidOffset",
                                                  "The offset is past the end of the value");
      return;
    }
  g_dbus_method_invocation_return_value (
      invocation, g_variant_new ("(@ay)",
                                 g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                            (const guint8 *) g_bytes_get_data (value, NULL) + offset,
                                                            len - offset, 1)));
  tell_event (self, BLEIO_LOCAL_EVENT_READ, offset, device);
}

/* A client wrote @n bytes at @offset: stored, told to the application
 * and the taps; or refused, *@refusal and *@message say why. */
static gboolean
client_wrote (BleioLocalAttr  *self,
              guint16          offset,
              const guint8    *bytes,
              gsize            n,
              const char      *device,
              const char     **refusal_out,
              const char     **message_out)
{
  g_autoptr(GBytes) updated = NULL;
  const char *refusal = NULL;
  const char *message = NULL;

  g_mutex_lock (&local_lock);
  if (offset > g_bytes_get_size (self->value))
    {
      refusal = "InvalidOffset";
      message = "The offset is past the end of the value";
    }
  else if ((gsize) offset + n > self->max_length)
    {
      refusal = "InvalidValueLength";
      message = "The value would be longer than the attribute's max_length";
    }
  else if (self->fixed_length && (gsize) offset + n != self->max_length)
    {
      /* A fixed-length value is written whole (a long write's last part
       * ends at its length; earlier parts cannot be told from short
       * writes, see docs/peripheral.md). */
      refusal = "InvalidValueLength";
      message = "The value has a fixed length";
    }
  else
    {
      GByteArray *value = g_byte_array_sized_new ((guint) (offset + n));

      g_byte_array_append (value, g_bytes_get_data (self->value, NULL), offset);
      g_byte_array_append (value, bytes, (guint) n);
      g_bytes_unref (self->value);
      self->value = g_byte_array_free_to_bytes (value);
      updated = g_bytes_ref (self->value);
    }
  g_mutex_unlock (&local_lock);
  *refusal_out = refusal;
  *message_out = message;
  if (refusal != NULL)
    return FALSE;
  tell_written (self, updated, device);
  if (self->acquire != NULL)
    bleio_local_acquire_tell_taps (self->acquire, bytes, n);
  return TRUE;
}

static void
write_value (BleioLocalAttr        *self,
             GVariant              *data,
             GVariant              *options,
             GDBusMethodInvocation *invocation)
{
  const char *device = NULL;
  const guint8 *bytes;
  const char *refusal = NULL;
  const char *message = NULL;
  guint16 offset = 0;
  gsize n;

  bytes = g_variant_get_fixed_array (data, &n, 1);
  g_variant_lookup (options, "offset", "q", &offset);
  g_variant_lookup (options, "device", "&o", &device);
  if (!self->writable)
    {
      g_dbus_method_invocation_return_dbus_error (invocation, BLUEZ_ERROR "NotPermitted",
                                                  "Writing this attribute is not permitted");
      return;
    }
  if (!client_wrote (self, offset, bytes, n, device, &refusal, &message))
    {
      g_autofree char *name = g_strconcat (BLUEZ_ERROR, refusal, NULL);

      g_dbus_method_invocation_return_dbus_error (invocation, name, message);
      return;
    }
  g_dbus_method_invocation_return_value (invocation, NULL);
}

/* ---- subscriptions and indications ------------------------------------------------ */

static void
indication_free (Indication *ind)
{
  if (ind->timeout != NULL)
    {
      g_source_destroy (ind->timeout);
      g_source_unref (ind->timeout);
    }
  g_clear_object (&ind->task);
  g_free (ind);
}

/* Fails every indication waiting, with @code. */
static void
fail_indications (BleioLocalAttr *self,
                  int             code,
                  const char     *message)
{
  GQueue waiting = G_QUEUE_INIT;
  Indication *ind;

  g_mutex_lock (&local_lock);
  waiting = self->confirms;
  g_queue_init (&self->confirms);
  g_mutex_unlock (&local_lock);
  while ((ind = g_queue_pop_head (&waiting)) != NULL)
    {
      g_task_return_new_error (ind->task, BLEIO_ERROR, code, "%s", message);
      indication_free (ind);
    }
}

static void
set_notifying (BleioLocalAttr *self,
               gboolean        on)
{
  gboolean was;

  g_mutex_lock (&local_lock);
  was = self->notifying;
  self->notifying = on;
  g_mutex_unlock (&local_lock);
  if (was != on)
    tell_event (self, BLEIO_LOCAL_EVENT_NOTIFYING, on, NULL);
  if (!on)
    fail_indications (self, BLEIO_ERROR_CONNECTION,
                      "The clients unsubscribed or disconnected before one confirmed the indication");
}

static void
confirmed (BleioLocalAttr *self)
{
  Indication *ind;

  g_mutex_lock (&local_lock);
  ind = g_queue_pop_head (&self->confirms);
  g_mutex_unlock (&local_lock);
  if (ind == NULL)
    return;
  g_task_return_boolean (ind->task, TRUE);
  indication_free (ind);
}

typedef struct {
  BleioLocalAttr *attr;
  Indication *ind;
} Expiry;

static gboolean
indication_expired (gpointer data)
{
  Expiry *e = data;
  gboolean waiting;

  g_mutex_lock (&local_lock);
  waiting = g_queue_remove (&e->attr->confirms, e->ind);
  g_mutex_unlock (&local_lock);
  if (waiting)
    {
      g_task_return_new_error (e->ind->task, BLEIO_ERROR, BLEIO_ERROR_TIMEOUT,
                               "No client confirmed the indication in %d s; "
                               "the value is set, the clients may have missed it",
                               BLEIO_CALL_ATT_MSEC / 1000);
      indication_free (e->ind);
    }
  return G_SOURCE_REMOVE;
}

static void
expiry_free (gpointer data)
{
  Expiry *e = data;

  bleio_local_attr_unref (e->attr);
  g_free (e);
}

void
bleio_local_attr_set_value (BleioLocalAttr *self,
                            GBytes         *value,
                            GTask          *task)
{
  gsize len = g_bytes_get_size (value);
  gboolean send;
  gboolean wait;

  if (len > self->max_length || (self->fixed_length && len != self->max_length))
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                               "The value is %" G_GSIZE_FORMAT " bytes long; this attribute takes %s%u",
                               len, self->fixed_length ? "exactly " : "at most ", self->max_length);
      return;
    }
  g_mutex_lock (&local_lock);
  g_bytes_unref (self->value);
  self->value = g_bytes_ref (value);
  send = self->kind == BLEIO_LOCAL_CHARACTERISTIC && self->notifying &&
         self->registration_id != 0 &&
         (self->properties & (BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY | BLEIO_CHARACTERISTIC_PROPERTY_INDICATE));
  /* With both, each client gets what it enabled, and only indications
   * are confirmed: the call does not wait then. */
  wait = send && (self->properties & BLEIO_CHARACTERISTIC_PROPERTY_INDICATE) &&
         !(self->properties & BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY);
  if (wait)
    {
      Indication *ind = g_new0 (Indication, 1);
      Expiry *e = g_new0 (Expiry, 1);

      ind->task = g_object_ref (task);
      e->attr = bleio_local_attr_ref (self);
      e->ind = ind;
      ind->timeout = g_timeout_source_new (BLEIO_CALL_ATT_MSEC);
      g_source_set_callback (ind->timeout, indication_expired, e, expiry_free);
      g_source_set_static_name (ind->timeout, "[bleio] indication");
      g_source_attach (ind->timeout, bleio_client_get_worker_context (self->client));
      g_queue_push_tail (&self->confirms, ind);
    }
  g_mutex_unlock (&local_lock);
  /* Through the socket bluetoothd acquired, when it holds one: the task
   * of a notification then completes once bluetoothd has the packet. */
  if (send && self->acquire != NULL &&
      bleio_local_acquire_send (self->acquire, value, wait ? NULL : task))
    return;
  if (send)
    {
      GVariantBuilder changed;

      g_variant_builder_init (&changed, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&changed, "{sv}", "Value",
                             g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, value, TRUE));
      g_dbus_connection_emit_signal (bleio_client_get_connection (self->client), NULL, self->path,
                                     "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                     g_variant_new ("(sa{sv}as)", IFACE_CHARACTERISTIC,
                                                    &changed, NULL),
                                     NULL);
    }
  if (!wait)
    g_task_return_boolean (task, TRUE);
}

gboolean
bleio_local_attr_set_value_now (BleioLocalAttr *self,
                                GBytes         *value)
{
  gsize len = g_bytes_get_size (value);
  gboolean done = FALSE;

  if (self->acquire == NULL || len > self->max_length ||
      (self->fixed_length && len != self->max_length) ||
      !(self->properties & BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY))
    return FALSE;
  g_mutex_lock (&local_lock);
  /* Sent and stored under the lock, so setters in two threads keep the
   * order of what clients hear and what the value is. */
  if (self->notifying && self->registration_id != 0 &&
      bleio_local_acquire_try_send (self->acquire, value))
    {
      g_bytes_unref (self->value);
      self->value = g_bytes_ref (value);
      done = TRUE;
    }
  g_mutex_unlock (&local_lock);
  return done;
}

/* ---- the object on the bus ----------------------------------------------------- */

static void
method_call (GDBusConnection       *connection,
             const char            *sender,
             const char            *object_path,
             const char            *interface_name,
             const char            *method_name,
             GVariant              *parameters,
             GDBusMethodInvocation *invocation,
             gpointer               user_data)
{
  BleioLocalAttr *self = user_data;

  /* Anyone else on the bus could otherwise change what clients read. */
  if (!bleio_client_check_caller_is_bluez (self->client, sender, invocation,
                                           "Only org.bluez may call the GATT application"))
    return;
  if (g_str_equal (method_name, "ReadValue"))
    {
      g_autoptr(GVariant) options = g_variant_get_child_value (parameters, 0);

      read_value (self, options, invocation);
    }
  else if (g_str_equal (method_name, "WriteValue"))
    {
      g_autoptr(GVariant) data = g_variant_get_child_value (parameters, 0);
      g_autoptr(GVariant) options = g_variant_get_child_value (parameters, 1);

      write_value (self, data, options, invocation);
    }
  else if (g_str_equal (method_name, "StartNotify") || g_str_equal (method_name, "StopNotify"))
    {
      set_notifying (self, g_str_equal (method_name, "StartNotify"));
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method_name, "Confirm"))
    {
      confirmed (self);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (self->acquire == NULL ||
           !bleio_local_acquire_handle (self->acquire, method_name, parameters, invocation))
    {
      /* bluetoothd asks only for what NotifyAcquired/WriteAcquired
       * offer (bleio_characteristic_set_acquired()); anything else falls
       * back to StartNotify and WriteValue. */
      g_dbus_method_invocation_return_dbus_error (invocation, BLUEZ_ERROR "NotSupported",
                                                  "libbleio serves this characteristic through "
                                                  "StartNotify and WriteValue");
    }
}

static const GDBusInterfaceVTable vtable = {
  method_call, get_property, NULL, { 0 },
};

static void
unref_cb (gpointer data)
{
  bleio_local_attr_unref (data);
}

gboolean
bleio_local_attr_export (BleioLocalAttr  *self,
                         GError         **error)
{
  guint id;

  g_mutex_lock (&local_lock);
  id = self->registration_id;
  g_mutex_unlock (&local_lock);
  if (id != 0)
    return TRUE;
  /* GDBus dispatches the calls in the context of the thread that
   * registers: this runs on the worker, which never blocks. */
  id = g_dbus_connection_register_object (bleio_client_get_connection (self->client), self->path,
                                          attr_info (self->kind), &vtable,
                                          bleio_local_attr_ref (self), unref_cb, error);
  if (id == 0)
    return FALSE;
  g_mutex_lock (&local_lock);
  self->registration_id = id;
  g_mutex_unlock (&local_lock);
  return TRUE;
}

void
bleio_local_attr_unexport (BleioLocalAttr *self)
{
  guint id;

  g_mutex_lock (&local_lock);
  id = self->registration_id;
  self->registration_id = 0;
  g_mutex_unlock (&local_lock);
  if (id != 0)
    g_dbus_connection_unregister_object (bleio_client_get_connection (self->client), id);
}

void
bleio_local_attr_reset (BleioLocalAttr *self)
{
  if (self->acquire != NULL)
    bleio_local_acquire_reset (self->acquire);
  set_notifying (self, FALSE);
}

BleioLocalAcquire *
bleio_local_attr_get_acquire (BleioLocalAttr *self)
{
  return self->acquire;
}

/* ---- the acquired sockets' hooks ----------------------------------------------- */

static void
acquired_notifying (gpointer attr,
                    gboolean on)
{
  set_notifying (attr, on);
}

static void
acquired_packet (gpointer      attr,
                 const guint8 *data,
                 gsize         len,
                 const char   *device)
{
  BleioLocalAttr *self = attr;
  const char *refusal = NULL;
  const char *message = NULL;

  /* bluetoothd has already told the client the write succeeded: a packet
   * the limits refuse can only be left out. */
  if (!client_wrote (self, 0, data, len, device, &refusal, &message))
    g_debug ("%s: a %" G_GSIZE_FORMAT "-byte write on the acquired socket left out: %s",
             self->path, len, message);
}

static gpointer
acquired_ref (gpointer attr)
{
  return bleio_local_attr_ref (attr);
}

static void
acquired_unref (gpointer attr)
{
  bleio_local_attr_unref (attr);
}

void
bleio_local_attr_dispose (BleioLocalAttr *self)
{
  g_autoptr(GObject) object = NULL;
  g_autoptr(GPtrArray) children = NULL;

  bleio_local_attr_unexport (self);
  bleio_local_attr_reset (self);
  g_mutex_lock (&local_lock);
  object = g_steal_pointer (&self->object);
  children = g_steal_pointer (&self->children);
  g_mutex_unlock (&local_lock);
  for (guint i = 0; children != NULL && i < children->len; i++)
    bleio_local_attr_dispose (g_ptr_array_index (children, i));
}

/* ---- reads and subscriptions, told ---------------------------------------------- */

void
bleio_local_attr_set_event_func (BleioLocalAttr      *self,
                                 BleioLocalEventFunc  func)
{
  g_mutex_lock (&local_lock);
  self->event = func;
  g_mutex_unlock (&local_lock);
}

typedef struct {
  BleioLocalAttr *attr;
  BleioLocalEventFunc func;
  BleioLocalEventKind kind;
  guint number;
  char *device;
} Event;

static gboolean
event_cb (gpointer data)
{
  Event *e = data;
  g_autoptr(GObject) object = bleio_local_attr_dup_object (e->attr);

  if (object != NULL)
    e->func (object, e->attr, e->kind, e->number, e->device);
  return G_SOURCE_REMOVE;
}

static void
event_free (gpointer data)
{
  Event *e = data;

  bleio_local_attr_unref (e->attr);
  g_free (e->device);
  g_free (e);
}

/* Any thread: told in the attribute's context, in order with the writes
 * (tell_written() queues at the same priority). */
static void
tell_event (BleioLocalAttr      *self,
            BleioLocalEventKind  kind,
            guint                number,
            const char          *device)
{
  g_autoptr(GSource) idle = NULL;
  BleioLocalEventFunc func;
  Event *e;

  g_mutex_lock (&local_lock);
  func = self->event;
  g_mutex_unlock (&local_lock);
  if (func == NULL)
    return;
  e = g_new0 (Event, 1);
  e->attr = bleio_local_attr_ref (self);
  e->func = func;
  e->kind = kind;
  e->number = number;
  e->device = g_strdup (device != NULL ? device : "");
  idle = g_idle_source_new ();
  g_source_set_callback (idle, event_cb, e, event_free);
  g_source_set_static_name (idle, "[bleio] local attribute event");
  g_source_attach (idle, self->context);
}
