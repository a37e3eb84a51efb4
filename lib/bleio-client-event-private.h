/* SPDX-License-Identifier: MIT */
/*
 * What the object cache tells its watchers: an interface added to or
 * removed from an object, properties changed, org.bluez gaining or losing
 * its owner; and what a watcher says it wants to hear. The cache (lib/bleio-cache.c) makes the object events and the
 * client (lib/bleio-client.c) hands them, and its owner events, to the
 * watchers; both include this, neither the other's header for it.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-client-event-private.h is internal to libbleio"
#endif

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  BLEIO_CLIENT_EVENT_ADDED,
  BLEIO_CLIENT_EVENT_REMOVED,
  BLEIO_CLIENT_EVENT_CHANGED,
  BLEIO_CLIENT_EVENT_OWNER,
} BleioClientEventKind;

/* The properties that several watchers of one event look up (the
 * notification path asks for Value and Notifying three times per
 * notification); see bleio_client_event_dup_changed(). */
#define BLEIO_CLIENT_EVENT_N_KNOWN 4

typedef struct {
  BleioClientEventKind kind;
  char *path;            /* ADDED, REMOVED, CHANGED */
  char *interface;       /* ADDED, REMOVED, CHANGED */
  GVariant *changed;     /* CHANGED: a{sv} */
  gboolean has_owner;    /* OWNER */
  /* CHANGED: the unboxed values of the known keys (NULL: absent), found
   * in one walk by the first lookup. An event is read by one thread at a
   * time (the worker's watches, or the one context a copy was queued
   * for), so the lookups may fill them in. */
  gboolean known_found;
  GVariant *known[BLEIO_CLIENT_EVENT_N_KNOWN];
} BleioClientEvent;

/* A new object event; @changed (a{sv}, or NULL) gains a reference. */
BleioClientEvent *bleio_client_event_new  (BleioClientEventKind    kind,
                                           const char             *path,
                                           const char             *interface,
                                           GVariant               *changed);
BleioClientEvent *bleio_client_event_copy (const BleioClientEvent *event);

/* The value of @key in a CHANGED event's properties (unboxed; NULL when
 * absent, or not of @type when @type is not NULL). Unlike
 * g_variant_lookup(), which first flattens a dictionary made of separate
 * values (as the library's own reader makes them) into one buffer, at a
 * cost larger than the rest of a notification's path, this walks the
 * entries as they are; the first lookup of Value, Notifying, Connected or
 * ServicesResolved finds all four in one walk, and later lookups of them
 * walk nothing. */
GVariant         *bleio_client_event_dup_changed (const BleioClientEvent *event,
                                                  const char             *key,
                                                  const GVariantType     *type);
/* TRUE with *@value set when the event's properties hold @key as a
 * boolean. */
gboolean          bleio_client_event_get_boolean (const BleioClientEvent *event,
                                                  const char             *key,
                                                  gboolean               *value);
/* Frees @event; a GDestroyNotify. */
void              bleio_client_event_free (gpointer                event);

typedef struct _BleioClient BleioClient;

typedef void (*BleioClientWatchFunc) (BleioClient            *client,
                                      const BleioClientEvent *event,
                                      gpointer                user_data);

/* A bit of BleioClientWatchKey.kinds. */
#define BLEIO_CLIENT_EVENT_BIT(kind) (1u << (kind))

/* What a watch hears besides the OWNER events, which every watch hears:
 * the events of the object at @path (with @subtree, also of every object
 * under it) about @interface, of the kinds in @kinds. NULL @path: every
 * object; NULL @interface: every interface; 0 @kinds: every kind. A
 * watch in an application's context that wants only objects coming and
 * going says so in @kinds: otherwise every notification under its path
 * (a Value change) is copied, queued and dispatched in that context. */
typedef struct {
  const char *path;
  const char *interface;
  gboolean    subtree;
  guint       kinds;
} BleioClientWatchKey;

G_END_DECLS
