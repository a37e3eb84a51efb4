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
#include "bleio-adapter-private.h"
#include "bleio-connect-private.h"
#include "bleio-connection-private.h"
#include "bleio-weak-ref-private.h"

typedef struct {
  BleioAdapter *adapter;
  char *device_path;
} Incoming;

static void
incoming_free (gpointer user_data)
{
  Incoming *incoming = user_data;

  g_object_unref (incoming->adapter);
  g_free (incoming->device_path);
  g_free (incoming);
}

/* The adapter's context. The link may have gone again meanwhile: then
 * there is nothing to hand over. */
static gboolean
emit_incoming_cb (gpointer user_data)
{
  Incoming *incoming = user_data;
  BleioAdapter *adapter = incoming->adapter;
  BleioClient *client = bleio_adapter_get_client (adapter);
  g_autoptr(BleioConnection) connection = NULL;

  if (!bleio_client_get_boolean (client, incoming->device_path, BLEIO_IFACE_DEVICE, "Connected"))
    return G_SOURCE_REMOVE;
  connection = bleio_connection_dup_for_path (client, bleio_adapter_get_object_path (adapter),
                                              incoming->device_path,
                                              bleio_adapter_get_context (adapter));
  if (bleio_connection_get_connected (connection))
    bleio_adapter_emit_incoming_connection (adapter, connection);
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
  g_autoptr(BleioAdapter) adapter = g_weak_ref_get (user_data);
  g_autoptr(GVariant) address = NULL;
  g_autoptr(GSource) idle = NULL;
  g_autoptr(GObject) existing = NULL;
  Incoming *incoming;

  if (adapter == NULL || event->interface == NULL || !link_came_up (client, event))
    return;
  address = bleio_client_dup_property (client, event->path, BLEIO_IFACE_DEVICE, "Address");
  if (address == NULL || !g_variant_is_of_type (address, G_VARIANT_TYPE_STRING) ||
      bleio_connect_queue_claims (bleio_adapter_get_connect_queue (adapter),
                                  g_variant_get_string (address, NULL)))
    return;
  /* Our own attempt may have seen the link in the cache, made its
   * connection object and left the queue before this event reached us. */
  existing = bleio_client_dup_connection (client, event->path);
  if (existing != NULL && !bleio_connection_is_spent (BLEIO_CONNECTION (existing)))
    return;
  incoming = g_new0 (Incoming, 1);
  incoming->adapter = g_steal_pointer (&adapter);
  incoming->device_path = g_strdup (event->path);
  idle = g_idle_source_new ();
  g_source_set_callback (idle, emit_incoming_cb, incoming, incoming_free);
  g_source_set_static_name (idle, "[bleio] incoming connection");
  g_source_attach (idle, bleio_adapter_get_context (incoming->adapter));
}

guint
bleio_adapter_watch_incoming (BleioAdapter *adapter)
{
  BleioClientWatchKey key = { bleio_adapter_get_object_path (adapter), BLEIO_IFACE_DEVICE, TRUE };

  return bleio_client_watch_keys (bleio_adapter_get_client (adapter), NULL, &key, 1,
                                  on_device_event, bleio_weak_ref_new (adapter),
                                  bleio_weak_ref_free);
}
