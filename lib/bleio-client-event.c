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

  for (guint i = 0; i < BLEIO_CLIENT_EVENT_N_KNOWN; i++)
    g_clear_pointer (&event->known[i], g_variant_unref);
  g_free (event->path);
  g_free (event->interface);
  g_clear_pointer (&event->changed, g_variant_unref);
  g_free (event);
}

static const char *const known_keys[BLEIO_CLIENT_EVENT_N_KNOWN] = {
  "Value", "Notifying", "Connected", "ServicesResolved",
};

static int
known_index (const char *key)
{
  for (guint i = 0; i < G_N_ELEMENTS (known_keys); i++)
    if (strcmp (key, known_keys[i]) == 0)
      return (int) i;
  return -1;
}

/* Walks the properties for @key (NULL: for every known key, filling
 * event->known); the first entry of a name counts. */
static GVariant *
walk_changed (BleioClientEvent *event,
              const char       *key)
{
  gsize n = g_variant_n_children (event->changed);

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (event->changed, i);
      g_autoptr(GVariant) name = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) boxed = NULL;
      const char *text = g_variant_get_string (name, NULL);
      int k;

      if (key != NULL)
        {
          if (strcmp (text, key) != 0)
            continue;
          boxed = g_variant_get_child_value (entry, 1);
          return g_variant_get_variant (boxed);
        }
      k = known_index (text);
      if (k < 0 || event->known[k] != NULL)
        continue;
      boxed = g_variant_get_child_value (entry, 1);
      event->known[k] = g_variant_get_variant (boxed);
    }
  return NULL;
}

GVariant *
bleio_client_event_dup_changed (const BleioClientEvent *event,
                                const char             *key,
                                const GVariantType     *type)
{
  /* See known_found: the one thread reading the event fills them in. */
  BleioClientEvent *self = (BleioClientEvent *) event;
  GVariant *value;
  int k;

  if (event->changed == NULL || !g_variant_is_of_type (event->changed, G_VARIANT_TYPE_VARDICT))
    return NULL;
  k = known_index (key);
  if (k < 0)
    value = walk_changed (self, key);
  else
    {
      if (!self->known_found)
        {
          walk_changed (self, NULL);
          self->known_found = TRUE;
        }
      value = self->known[k] != NULL ? g_variant_ref (self->known[k]) : NULL;
    }
  if (value != NULL && type != NULL && !g_variant_is_of_type (value, type))
    g_clear_pointer (&value, g_variant_unref);
  return value;
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
