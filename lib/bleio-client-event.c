/* SPDX-License-Identifier: MIT */
/*
 * The cache's events; see bleio-client-event-private.h.
 */
#include "bleio-client-event-private.h"

#include <string.h>

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

GVariant *
bleio_client_event_dup_changed (const BleioClientEvent *event,
                                const char             *key,
                                const GVariantType     *type)
{
  gsize n;

  if (event->changed == NULL || !g_variant_is_of_type (event->changed, G_VARIANT_TYPE_VARDICT))
    return NULL;
  n = g_variant_n_children (event->changed);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (event->changed, i);
      g_autoptr(GVariant) name = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) boxed = NULL;
      GVariant *value;

      if (strcmp (g_variant_get_string (name, NULL), key) != 0)
        continue;
      boxed = g_variant_get_child_value (entry, 1);
      value = g_variant_get_variant (boxed);
      if (type != NULL && !g_variant_is_of_type (value, type))
        g_clear_pointer (&value, g_variant_unref);
      return value;
    }
  return NULL;
}

gboolean
bleio_client_event_get_boolean (const BleioClientEvent *event,
                                const char             *key,
                                gboolean               *value)
{
  g_autoptr(GVariant) found = bleio_client_event_dup_changed (event, key, G_VARIANT_TYPE_BOOLEAN);

  if (found == NULL)
    return FALSE;
  *value = g_variant_get_boolean (found);
  return TRUE;
}
