/* SPDX-License-Identifier: MIT */
/*
 * Links that a central makes to us. BlueZ shows one as a Device1 of the
 * central under our adapter whose Connected turns true; it does not say
 * who opened a link, so a link is taken for incoming when none of this
 * adapter's own connect attempts claims its address (bleio-connect.c) and
 * no live connection object stands for it already.
 * The decision is made on the worker thread as the event arrives, while an
 * attempt that the same event completes is still queued; the connection
 * object is then made, and the signal emitted, in the adapter's context.
 */
#include "bleio-adapter-incoming-private.h"
#include "bleio-connection-private.h"

/* What the watch holds. */
typedef struct {
  GWeakRef owner;
  BleioClient *client;
  char *adapter_path;
  BleioConnectQueue *queue;     /* the owner's: used only while it is alive */
  GMainContext *context;
  BleioIncomingFunc func;
} Watch;

static void
watch_free (gpointer user_data)
{
  Watch *watch = user_data;

  g_weak_ref_clear (&watch->owner);
  bleio_client_unref (watch->client);
  g_free (watch->adapter_path);
  g_main_context_unref (watch->context);
  g_free (watch);
}

/* One link to hand over. */
typedef struct {
  GObject *owner;
  BleioClient *client;
  char *adapter_path;
  GMainContext *context;
  BleioIncomingFunc func;
  char *device_path;
} Incoming;

static void
incoming_free (gpointer user_data)
{
  Incoming *incoming = user_data;

  g_object_unref (incoming->owner);
  bleio_client_unref (incoming->client);
  g_free (incoming->adapter_path);
  g_main_context_unref (incoming->context);
  g_free (incoming->device_path);
  g_free (incoming);
}

/* The owner's context. The link may have gone again meanwhile: then
 * there is nothing to hand over. */
static gboolean
emit_incoming_cb (gpointer user_data)
{
  Incoming *incoming = user_data;
  g_autoptr(BleioConnection) connection = NULL;

  if (!bleio_client_get_boolean (incoming->client, incoming->device_path,
                                 BLEIO_IFACE_DEVICE, "Connected"))
    return G_SOURCE_REMOVE;
  connection = bleio_connection_dup_for_path (incoming->client, incoming->adapter_path,
                                              incoming->device_path, incoming->context);
  if (bleio_connection_get_connected (connection))
    incoming->func (incoming->owner, connection);
  return G_SOURCE_REMOVE;
}

/* TRUE when @event says the link of the device at its path came up. */
static gboolean
link_came_up (BleioClient            *client,
              const BleioClientEvent *event)
{
  gboolean connected = FALSE;

  switch (event->kind)
    {
    case BLEIO_CLIENT_EVENT_ADDED:
      return bleio_client_get_boolean (client, event->path, BLEIO_IFACE_DEVICE, "Connected");
    case BLEIO_CLIENT_EVENT_CHANGED:
      return event->changed != NULL &&
             g_variant_lookup (event->changed, "Connected", "b", &connected) && connected;
    case BLEIO_CLIENT_EVENT_REMOVED:
    case BLEIO_CLIENT_EVENT_OWNER:
    default:
      return FALSE;
    }
}

/* Worker thread. */
static void
on_device_event (BleioClient            *client,
                 const BleioClientEvent *event,
                 gpointer                user_data)
{
  Watch *watch = user_data;
  g_autoptr(GObject) owner = g_weak_ref_get (&watch->owner);
  g_autoptr(GVariant) address = NULL;
  g_autoptr(GSource) idle = NULL;
  g_autoptr(GObject) existing = NULL;
  Incoming *incoming;

  if (owner == NULL || event->interface == NULL || !link_came_up (client, event))
    return;
  address = bleio_client_dup_property (client, event->path, BLEIO_IFACE_DEVICE, "Address");
  if (address == NULL || !g_variant_is_of_type (address, G_VARIANT_TYPE_STRING) ||
      bleio_connect_queue_claims (watch->queue, g_variant_get_string (address, NULL)))
    return;
  /* Our own attempt may have seen the link in the cache, made its
   * connection object and left the queue before this event reached us. */
  existing = bleio_client_dup_connection (client, event->path);
  if (existing != NULL && !bleio_connection_is_spent (BLEIO_CONNECTION (existing)))
    return;
  incoming = g_new0 (Incoming, 1);
  incoming->owner = g_steal_pointer (&owner);
  incoming->client = bleio_client_ref (client);
  incoming->adapter_path = g_strdup (watch->adapter_path);
  incoming->context = g_main_context_ref (watch->context);
  incoming->func = watch->func;
  incoming->device_path = g_strdup (event->path);
  idle = g_idle_source_new ();
  g_source_set_callback (idle, emit_incoming_cb, incoming, incoming_free);
  g_source_set_static_name (idle, "[bleio] incoming connection");
  g_source_attach (idle, watch->context);
}

guint
bleio_incoming_watch (BleioClient       *client,
                      const char        *adapter_path,
                      BleioConnectQueue *queue,
                      GMainContext      *context,
                      GObject           *owner,
                      BleioIncomingFunc  func)
{
  BleioClientWatchKey key = { adapter_path, BLEIO_IFACE_DEVICE, TRUE, 0 };
  Watch *watch = g_new0 (Watch, 1);

  g_weak_ref_init (&watch->owner, owner);
  watch->client = bleio_client_ref (client);
  watch->adapter_path = g_strdup (adapter_path);
  watch->queue = queue;
  watch->context = g_main_context_ref (context);
  watch->func = func;
  return bleio_client_watch_keys (client, NULL, &key, 1, on_device_event, watch, watch_free);
}
