/* SPDX-License-Identifier: MIT */
/*
 * An adapter's GATT application (bleio-gatt-app-private.h).
 *
 * bluetoothd 5.66 reads an application once, with GetManagedObjects on
 * its root, while it registers it (src/gatt-database.c); objects added
 * later are not given handles. So every change of the tree after the
 * first publish registers the application again: UnregisterApplication,
 * then RegisterApplication, coalesced on the worker, with the values the
 * attributes hold. A bluetoothd that leaves the bus forgets the
 * application; when org.bluez has an owner again with the adapter's
 * GattManager1, the application is registered again and the adapter
 * emits services-restored.
 *
 * Registration state lives under the lock and changes on the worker
 * (bluetoothd's events and replies); publish and add come from any
 * thread and hand the work to the worker. A generation count tells a
 * reply from a bluetoothd that has gone since.
 */
#include "bleio-gatt-app-private.h"
#include "bleio-local-attr-private.h"

#include <unistd.h>

struct _BleioGattApp {
  gatomicrefcount ref;
  BleioClient *client;
  char *adapter_path;
  char *root;
  GWeakRef owner;
  GMainContext *context;
  guint watch_id;

  GMutex lock;
  GPtrArray *services;          /* BleioLocalAttr*, owned */
  guint serial;                 /* names the attributes' objects */
  guint om_id;                  /* the ObjectManager on the bus */
  gboolean closed;
  gboolean published;           /* the application asked for it once */
  gboolean registered;          /* bluetoothd holds the application */
  gboolean registering;         /* a registration is out */
  gboolean dirty;               /* the tree changed since it was sent */
  gboolean restoring;           /* it is sent because bluetoothd came back */
  gboolean kick_queued;
  guint generation;             /* bumped when bluetoothd forgets it */
  GPtrArray *waiters;           /* GTask*, publish calls */
};

static guint app_serial;
static guint restored_signal;

void
bleio_gatt_app_class_install (GObjectClass *klass)
{
  /**
   * BleioAdapter::services-restored:
   * @adapter: the #BleioAdapter
   * @error: (nullable): %NULL when the services are served again, else
   *   why bluetoothd refused them
   *
   * bluetoothd restarted (or the adapter came back) and forgot the GATT
   * application of this adapter; libbleio registered it again by itself,
   * with the values last set. Emitted in the thread-default main context
   * that was current when the adapter was created. Clients that were
   * subscribed are not any more: they subscribe again when they
   * reconnect.
   *
   * Since: 0.4
   */
  restored_signal =
    g_signal_new ("services-restored", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

/* ---- lifetime --------------------------------------------------------------------- */

static BleioGattApp *
app_ref (BleioGattApp *self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

static void
app_unref (gpointer data)
{
  BleioGattApp *self = data;

  if (!g_atomic_ref_count_dec (&self->ref))
    return;
  g_ptr_array_unref (self->waiters);
  g_ptr_array_unref (self->services);
  g_weak_ref_clear (&self->owner);
  g_main_context_unref (self->context);
  bleio_client_unref (self->client);
  g_free (self->root);
  g_free (self->adapter_path);
  g_mutex_clear (&self->lock);
  g_free (self);
}

/* ---- telling the application -------------------------------------------------------- */

typedef struct {
  BleioGattApp *app;
  GError *error;
} Restored;

static gboolean
restored_cb (gpointer data)
{
  Restored *r = data;
  g_autoptr(GObject) owner = g_weak_ref_get (&r->app->owner);

  if (owner != NULL)
    g_signal_emit (owner, restored_signal, 0, r->error);
  return G_SOURCE_REMOVE;
}

static void
restored_free (gpointer data)
{
  Restored *r = data;

  app_unref (r->app);
  g_clear_error (&r->error);
  g_free (r);
}

static void
tell_restored (BleioGattApp *self,
               const GError *error)
{
  Restored *r = g_new0 (Restored, 1);
  g_autoptr(GSource) idle = g_idle_source_new ();

  g_debug ("GATT application on %s restored: %s", self->adapter_path,
           error != NULL ? error->message : "ok");
  r->app = app_ref (self);
  r->error = error != NULL ? g_error_copy (error) : NULL;
  g_source_set_callback (idle, restored_cb, r, restored_free);
  g_source_set_static_name (idle, "[bleio] services restored");
  g_source_attach (idle, self->context);
}

/* Under the lock: the publish calls waiting, handed over. */
static GPtrArray *
take_waiters_locked (BleioGattApp *self)
{
  GPtrArray *waiters = g_steal_pointer (&self->waiters);

  self->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  return waiters;
}

/* What a publish call that can be cancelled keeps: its handler, to be
 * disconnected once it completes (a cancellable may outlive many calls). */
typedef struct {
  GCancellable *cancellable;
  gulong handler;
} Waiting;

static void
waiting_free (gpointer data)
{
  Waiting *w = data;

  g_clear_object (&w->cancellable);
  g_free (w);
}

static void
complete_waiters (GPtrArray    *waiters,
                  const GError *error)
{
  for (guint i = 0; i < waiters->len; i++)
    {
      GTask *task = g_ptr_array_index (waiters, i);
      Waiting *w = g_task_get_task_data (task);

      if (w != NULL && w->handler != 0)
        g_cancellable_disconnect (w->cancellable, w->handler);
      if (error == NULL)
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, g_error_copy (error));
    }
  g_ptr_array_unref (waiters);
}

/* Every attribute of the tree (new references). */
static GPtrArray *
collect_locked (BleioGattApp *self)
{
  GPtrArray *all = g_ptr_array_new_with_free_func ((GDestroyNotify) bleio_local_attr_unref);

  for (guint i = 0; i < self->services->len; i++)
    bleio_local_attr_collect (g_ptr_array_index (self->services, i), all);
  return all;
}

/* bluetoothd forgot the application: nobody is subscribed any more. */
static void
forgotten (BleioGattApp *self)
{
  g_autoptr(GPtrArray) all = NULL;

  g_mutex_lock (&self->lock);
  all = collect_locked (self);
  g_mutex_unlock (&self->lock);
  for (guint i = 0; i < all->len; i++)
    bleio_local_attr_reset (g_ptr_array_index (all, i));
}

/* ---- the ObjectManager at the root ------------------------------------------------------ */

static const char om_xml[] =
  "<node><interface name='org.freedesktop.DBus.ObjectManager'>"
  "<method name='GetManagedObjects'>"
  "<arg name='objects' type='a{oa{sa{sv}}}' direction='out'/>"
  "</method>"
  "<signal name='InterfacesAdded'><arg type='o'/><arg type='a{sa{sv}}'/></signal>"
  "<signal name='InterfacesRemoved'><arg type='o'/><arg type='as'/></signal>"
  "</interface></node>";

static GDBusInterfaceInfo *
om_info (void)
{
  static gsize info;

  if (g_once_init_enter (&info))
    {
      GDBusNodeInfo *node = g_dbus_node_info_new_for_xml (om_xml, NULL);
      GDBusInterfaceInfo *iface = g_dbus_interface_info_ref (node->interfaces[0]);

      /* Kept for the life of the process, as generated interface info is. */
      g_dbus_node_info_unref (node);
      g_once_init_leave (&info, (gsize) iface);
    }
  return (GDBusInterfaceInfo *) info;
}

static void
om_method_call (GDBusConnection       *connection,
                const char            *sender,
                const char            *object_path,
                const char            *interface_name,
                const char            *method_name,
                GVariant              *parameters,
                GDBusMethodInvocation *invocation,
                gpointer               user_data)
{
  BleioGattApp *self = user_data;
  g_autoptr(GPtrArray) all = NULL;
  GVariantBuilder objects;

  g_mutex_lock (&self->lock);
  all = collect_locked (self);
  g_mutex_unlock (&self->lock);
  g_variant_builder_init (&objects, G_VARIANT_TYPE ("a{oa{sa{sv}}}"));
  for (guint i = 0; i < all->len; i++)
    bleio_local_attr_add_managed (g_ptr_array_index (all, i), &objects);
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(a{oa{sa{sv}}})", &objects));
}

static const GDBusInterfaceVTable om_vtable = {
  om_method_call, NULL, NULL, { 0 },
};

/* On the worker: the root and every attribute on the bus. */
static gboolean
export_all (BleioGattApp  *self,
            GError       **error)
{
  g_autoptr(GPtrArray) all = NULL;
  guint id;

  g_mutex_lock (&self->lock);
  id = self->om_id;
  all = collect_locked (self);
  g_mutex_unlock (&self->lock);
  if (id == 0)
    {
      id = g_dbus_connection_register_object (bleio_client_get_connection (self->client),
                                              self->root, om_info (), &om_vtable,
                                              app_ref (self), app_unref, error);
      if (id == 0)
        return FALSE;
      g_mutex_lock (&self->lock);
      self->om_id = id;
      g_mutex_unlock (&self->lock);
    }
  for (guint i = 0; i < all->len; i++)
    if (!bleio_local_attr_export (g_ptr_array_index (all, i), error))
      return FALSE;
  return TRUE;
}

/* ---- registration (on the worker) ---------------------------------------------------- */

static void kick (BleioGattApp *self);

typedef struct {
  BleioGattApp *app;
  guint generation;
} Attempt;

static Attempt *
attempt_new (BleioGattApp *self,
             guint         generation)
{
  Attempt *a = g_new0 (Attempt, 1);

  a->app = app_ref (self);
  a->generation = generation;
  return a;
}

static void
attempt_free (Attempt *a)
{
  app_unref (a->app);
  g_free (a);
}

static GError *
explain_refusal (BleioGattApp *self,
                 GError       *error)
{
  GError *explained = g_error_new (error->domain, error->code,
                                   "bluetoothd refused the GATT application of %s: %s",
                                   self->adapter_path, error->message);

  g_error_free (error);
  return explained;
}

static void
register_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  Attempt *a = data;
  BleioGattApp *self = a->app;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (self->client, result, &error);
  GPtrArray *waiters = NULL;
  gboolean restoring = FALSE;
  gboolean again = FALSE;

  g_mutex_lock (&self->lock);
  if (a->generation != self->generation || self->closed)
    {
      /* bluetoothd went meanwhile (or we did); its owner event saw to
       * the rest. */
      g_mutex_unlock (&self->lock);
      attempt_free (a);
      return;
    }
  self->registering = FALSE;
  self->registered = reply != NULL;
  if (reply != NULL && self->dirty)
    again = TRUE;
  else
    {
      restoring = self->restoring;
      self->restoring = FALSE;
      waiters = take_waiters_locked (self);
    }
  g_mutex_unlock (&self->lock);
  if (error != NULL)
    error = explain_refusal (self, g_steal_pointer (&error));
  if (again)
    kick (self);
  else
    {
      complete_waiters (waiters, error);
      if (restoring)
        tell_restored (self, error);
    }
  attempt_free (a);
}

static void
send_register (BleioGattApp *self,
               guint         generation)
{
  GVariantBuilder options;

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  bleio_client_call (self->client, self->adapter_path, BLEIO_IFACE_GATT_MANAGER,
                     "RegisterApplication", g_variant_new ("(oa{sv})", self->root, &options),
                     BLEIO_CALL_LOCAL_MSEC, NULL, register_cb, attempt_new (self, generation));
}

static void
unregister_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  Attempt *a = data;
  BleioGattApp *self = a->app;
  GVariant *reply = bleio_client_call_finish (self->client, result, NULL);
  gboolean current;

  /* DoesNotExist when bluetoothd had dropped it already: either way it
   * holds no application of ours now. */
  if (reply != NULL)
    g_variant_unref (reply);
  forgotten (self);
  g_mutex_lock (&self->lock);
  current = a->generation == self->generation && !self->closed;
  g_mutex_unlock (&self->lock);
  if (current)
    send_register (self, a->generation);
  attempt_free (a);
}

static void
kick (BleioGattApp *self)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *waiters = NULL;
  gboolean was_registered;
  gboolean restoring = FALSE;
  guint generation;

  g_mutex_lock (&self->lock);
  if (self->closed || self->registering || !self->published)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  if (self->registered && !self->dirty)
    {
      waiters = take_waiters_locked (self);
      g_mutex_unlock (&self->lock);
      complete_waiters (waiters, NULL);
      return;
    }
  if (!bleio_client_has_interface (self->client, self->adapter_path, BLEIO_IFACE_GATT_MANAGER))
    {
      /* Registered by itself when bluetoothd or the adapter comes back. */
      self->restoring = TRUE;
      waiters = take_waiters_locked (self);
      g_mutex_unlock (&self->lock);
      if (!bleio_client_check_available (self->client, &error))
        complete_waiters (waiters, error);
      else
        {
          g_autoptr(GError) gone = g_error_new (BLEIO_ERROR, BLEIO_ERROR_NO_ADAPTER,
                                                "The Bluetooth adapter %s is gone, or its "
                                                "bluetoothd has no GATT server",
                                                self->adapter_path);

          complete_waiters (waiters, gone);
        }
      return;
    }
  self->registering = TRUE;
  self->dirty = FALSE;
  was_registered = self->registered;
  generation = self->generation;
  g_mutex_unlock (&self->lock);

  if (!export_all (self, &error))
    {
      g_mutex_lock (&self->lock);
      self->registering = FALSE;
      restoring = self->restoring;
      self->restoring = FALSE;
      waiters = take_waiters_locked (self);
      g_mutex_unlock (&self->lock);
      g_prefix_error (&error, "The GATT application could not be put on the bus: ");
      error->domain = BLEIO_ERROR;
      error->code = BLEIO_ERROR_BLUETOOTH;
      complete_waiters (waiters, error);
      if (restoring)
        tell_restored (self, error);
      return;
    }
  g_debug ("GATT application %s on %s: %s", self->root, self->adapter_path,
           was_registered ? "registering again" : "registering");
  if (was_registered)
    bleio_client_call (self->client, self->adapter_path, BLEIO_IFACE_GATT_MANAGER,
                       "UnregisterApplication", g_variant_new ("(o)", self->root),
                       BLEIO_CALL_LOCAL_MSEC, NULL, unregister_cb, attempt_new (self, generation));
  else
    send_register (self, generation);
}

static gboolean
kick_cb (gpointer data)
{
  BleioGattApp *self = data;

  g_mutex_lock (&self->lock);
  self->kick_queued = FALSE;
  g_mutex_unlock (&self->lock);
  kick (self);
  return G_SOURCE_REMOVE;
}

/* Any thread: kick() soon on the worker, once for many changes. */
static void
queue_kick (BleioGattApp *self)
{
  g_autoptr(GSource) idle = NULL;

  g_mutex_lock (&self->lock);
  if (self->kick_queued)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  self->kick_queued = TRUE;
  g_mutex_unlock (&self->lock);
  idle = g_idle_source_new ();
  g_source_set_callback (idle, kick_cb, app_ref (self), app_unref);
  g_source_set_static_name (idle, "[bleio] GATT application");
  g_source_attach (idle, bleio_client_get_worker_context (self->client));
}

/* ---- bluetoothd's events (on the worker) --------------------------------------------- */

static void
on_event (BleioClient            *client,
          const BleioClientEvent *event,
          gpointer                user_data)
{
  BleioGattApp *self = user_data;
  GPtrArray *waiters = NULL;
  gboolean lost = FALSE;
  gboolean restore = FALSE;

  g_mutex_lock (&self->lock);
  if ((event->kind == BLEIO_CLIENT_EVENT_OWNER && !event->has_owner) ||
      (event->kind == BLEIO_CLIENT_EVENT_REMOVED &&
       g_strcmp0 (event->path, self->adapter_path) == 0 &&
       g_strcmp0 (event->interface, BLEIO_IFACE_GATT_MANAGER) == 0))
    {
      /* bluetoothd forgets the application with its adapter or itself. */
      self->generation++;
      self->registering = FALSE;
      lost = self->registered;
      self->registered = FALSE;
      if (self->published && !self->closed)
        self->restoring = TRUE;
      /* A registration that was out gets no answer now. */
      waiters = take_waiters_locked (self);
    }
  else if ((event->kind == BLEIO_CLIENT_EVENT_OWNER && event->has_owner) ||
           (event->kind == BLEIO_CLIENT_EVENT_ADDED &&
            g_strcmp0 (event->path, self->adapter_path) == 0 &&
            g_strcmp0 (event->interface, BLEIO_IFACE_GATT_MANAGER) == 0))
    restore = self->restoring && !self->registered && !self->registering;
  g_mutex_unlock (&self->lock);
  if (waiters != NULL && waiters->len > 0)
    {
      g_autoptr(GError) error = g_error_new (BLEIO_ERROR, BLEIO_ERROR_BLUEZ_UNAVAILABLE,
                                             "bluetoothd went away (or the adapter %s did) "
                                             "before it accepted the GATT application; libbleio "
                                             "registers it when they are back",
                                             self->adapter_path);

      complete_waiters (waiters, error);
    }
  else if (waiters != NULL)
    g_ptr_array_unref (waiters);
  if (lost)
    forgotten (self);
  if (restore)
    kick (self);
}

/* ---- the interface for the public objects ------------------------------------------ */

BleioGattApp *
bleio_gatt_app_new (BleioClient  *client,
                    const char   *adapter_path,
                    GObject      *owner,
                    GMainContext *context)
{
  BleioGattApp *self = g_new0 (BleioGattApp, 1);
  const BleioClientWatchKey keys[] = {
    { adapter_path, BLEIO_IFACE_GATT_MANAGER, FALSE, 0 },
  };

  g_atomic_ref_count_init (&self->ref);
  g_mutex_init (&self->lock);
  self->client = bleio_client_ref (client);
  self->adapter_path = g_strdup (adapter_path);
  self->root = g_strdup_printf ("/org/bleio/gatt/p%d_%u", (int) getpid (),
                                g_atomic_int_add (&app_serial, 1));
  g_weak_ref_init (&self->owner, owner);
  self->context = g_main_context_ref (context);
  self->services = g_ptr_array_new_with_free_func ((GDestroyNotify) bleio_local_attr_unref);
  self->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->watch_id = bleio_client_watch_keys (client, NULL, keys, G_N_ELEMENTS (keys), on_event,
                                            app_ref (self), app_unref);
  return self;
}

void
bleio_gatt_app_free (BleioGattApp *self)
{
  g_autoptr(GPtrArray) services = NULL;
  GPtrArray *waiters;
  gboolean registered;
  guint om_id;

  if (self == NULL)
    return;
  g_mutex_lock (&self->lock);
  self->closed = TRUE;
  self->generation++;
  registered = self->registered || self->registering;
  self->registered = FALSE;
  om_id = self->om_id;
  self->om_id = 0;
  services = g_steal_pointer (&self->services);
  self->services = g_ptr_array_new_with_free_func ((GDestroyNotify) bleio_local_attr_unref);
  waiters = take_waiters_locked (self);
  g_mutex_unlock (&self->lock);
  bleio_client_unwatch (self->client, self->watch_id);
  /* The program may be exiting: bluetoothd must not keep serving objects
   * nobody answers for. */
  if (registered && bleio_client_has_owner (self->client))
    bleio_client_call (self->client, self->adapter_path, BLEIO_IFACE_GATT_MANAGER,
                       "UnregisterApplication", g_variant_new ("(o)", self->root),
                       BLEIO_CALL_LOCAL_MSEC, NULL, NULL, NULL);
  if (om_id != 0)
    g_dbus_connection_unregister_object (bleio_client_get_connection (self->client), om_id);
  if (waiters->len > 0)
    {
      g_autoptr(GError) error = g_error_new (BLEIO_ERROR, BLEIO_ERROR_NO_ADAPTER,
                                             "The adapter object %s was finalized",
                                             self->adapter_path);

      complete_waiters (waiters, error);
    }
  else
    g_ptr_array_unref (waiters);
  for (guint i = 0; i < services->len; i++)
    bleio_local_attr_dispose (g_ptr_array_index (services, i));
  app_unref (self);
}

BleioLocalAttr *
bleio_gatt_app_add (BleioGattApp             *self,
                    BleioLocalAttr           *parent,
                    const BleioLocalAttrSpec *spec,
                    GObject                  *object,
                    GMainContext             *context,
                    BleioLocalWrittenFunc     written)
{
  static const char * const names[] = { "service", "char", "desc" };
  g_autofree char *path = NULL;
  const char *under = parent != NULL ? bleio_local_attr_get_path (parent) : NULL;
  BleioLocalAttr *attr;
  gboolean published;

  g_mutex_lock (&self->lock);
  path = g_strdup_printf ("%s/%s%u", under != NULL ? under : self->root, names[spec->kind],
                          self->serial++);
  attr = bleio_local_attr_new (spec, self->client, self->adapter_path, path, under, object,
                               context, written);
  if (parent == NULL)
    g_ptr_array_add (self->services, bleio_local_attr_ref (attr));
  else
    bleio_local_attr_add_child (parent, attr);
  self->dirty = TRUE;
  published = self->published && !self->closed;
  g_mutex_unlock (&self->lock);
  if (published)
    queue_kick (self);
  return attr;
}

void
bleio_gatt_app_changed (BleioGattApp *self)
{
  gboolean published;

  g_mutex_lock (&self->lock);
  self->dirty = TRUE;
  published = self->published && !self->closed;
  g_mutex_unlock (&self->lock);
  if (published)
    queue_kick (self);
}

GPtrArray *
bleio_gatt_app_dup_services (BleioGattApp *self)
{
  g_autoptr(GPtrArray) services = NULL;
  GPtrArray *objects = g_ptr_array_new_with_free_func (g_object_unref);

  g_mutex_lock (&self->lock);
  services = g_ptr_array_ref (self->services);
  g_mutex_unlock (&self->lock);
  for (guint i = 0; i < services->len; i++)
    {
      GObject *object = bleio_local_attr_dup_object (g_ptr_array_index (services, i));

      if (object != NULL)
        g_ptr_array_add (objects, object);
    }
  return objects;
}

typedef struct {
  BleioGattApp *app;
  GTask *task;
} Cancel;

static void
cancel_free (gpointer data)
{
  Cancel *c = data;

  app_unref (c->app);
  g_object_unref (c->task);
  g_free (c);
}

/* Cancelling ends the wait; the registration goes on. */
static void
publish_cancelled (GCancellable *cancellable,
                   gpointer      data)
{
  Cancel *c = data;
  gboolean waiting;

  g_mutex_lock (&c->app->lock);
  waiting = g_ptr_array_remove (c->app->waiters, c->task);
  if (waiting)
    g_object_ref (c->task);     /* the array's reference went with it */
  g_mutex_unlock (&c->app->lock);
  if (waiting)
    {
      g_task_return_error_if_cancelled (c->task);
      g_object_unref (c->task);
    }
}

void
bleio_gatt_app_publish_async (BleioGattApp        *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Waiting *w = g_new0 (Waiting, 1);
  gboolean empty;
  gboolean closed;

  g_task_set_source_tag (task, BLEIO_TAG (bleio_gatt_app_publish_async));
  g_task_set_task_data (task, w, waiting_free);
  if (cancellable != NULL)
    {
      Cancel *c = g_new0 (Cancel, 1);

      /* Connected before the task can complete on the worker; a
       * cancellable already cancelled runs the handler now, which finds
       * no waiter yet, and the check below ends the call. */
      c->app = app_ref (self);
      c->task = g_object_ref (task);
      w->cancellable = g_object_ref (cancellable);
      w->handler = g_cancellable_connect (cancellable, G_CALLBACK (publish_cancelled), c,
                                          cancel_free);
    }
  g_mutex_lock (&self->lock);
  empty = self->services->len == 0;
  closed = self->closed;
  if (!empty && !closed && !g_cancellable_is_cancelled (cancellable))
    {
      self->published = TRUE;
      g_ptr_array_add (self->waiters, g_object_ref (task));
    }
  g_mutex_unlock (&self->lock);
  if (empty || closed || g_cancellable_is_cancelled (cancellable))
    {
      if (w->handler != 0)
        g_cancellable_disconnect (cancellable, w->handler);
      w->handler = 0;
      if (g_task_return_error_if_cancelled (task))
        return;
      if (closed)
        g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_NO_ADAPTER,
                                 "The adapter object was finalized");
      else
        g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                                 "The adapter has no local service to publish: make one with "
                                 "bleio_service_new() first");
      return;
    }
  queue_kick (self);
}

gboolean
bleio_gatt_app_publish_finish (BleioGattApp  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
