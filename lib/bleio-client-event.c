/* SPDX-License-Identifier: MIT */
/*
 * The cache's events; see bleio-client-event-private.h.
 */
#include "bleio-client-event-private.h"

BleioClientEvent *
bleio_client_event_new (BleioClientEventKind  kind,
                        const char           *path,
                        const char           *interface,
                        GVariant             *changed)
{
  BleioClientEvent *event = g_new0 (BleioClientEvent, 1);

  event->kind = kind;
  event->path = g_strdup (path);
  event->interface = g_strdup (interface);
  event->changed = changed != NULL ? g_variant_ref (changed) : NULL;
  return event;
}

BleioClientEvent *
bleio_client_event_copy (const BleioClientEvent *event)
{
  BleioClientEvent *copy = bleio_client_event_new (event->kind, event->path,
                                                   event->interface, event->changed);

  copy->has_owner = event->has_owner;
  return copy;
}

void
bleio_client_event_free (gpointer data)
{
  BleioClientEvent *event = data;

  g_free (event->path);
  g_free (event->interface);
  g_clear_pointer (&event->changed, g_variant_unref);
  g_free (event);
}
