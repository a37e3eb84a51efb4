/* SPDX-License-Identifier: MIT */
/*
 * What the client's cache is fed with (lib/bleio-client.c): org.bluez's
 * signals, NameOwnerChanged for org.bluez, and the two calls whose
 * replies must come in order with those signals (GetNameOwner and
 * GetManagedObjects: "subscribe first, ask second").
 *
 * Two ways, one set of events: the library's own bus connection
 * (lib/bleio-reader.c, messages read by lib/bleio-wire.c, no GDBusMessage
 * per signal), or, when the bus is not on a Unix socket or that
 * connection cannot be made, GDBus's subscriptions on the application's
 * connection. Either way the calls go on the connection that carries the
 * signals, so a reply comes behind every signal sent before it.
 *
 * The environment variable BLEIO_RECEIVE=gdbus forces the GDBus way; it
 * is for the tests that keep that path covered, not for applications.
 *
 * One thread: the client's worker, which iterates @context.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-feed-private.h is internal to libbleio"
#endif

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _BleioFeed BleioFeed;

typedef enum {
  /* @sender, @path, @interface, @values a{sv}, @names the invalidated
   * properties (NULL when none). */
  BLEIO_FEED_PROPERTIES_CHANGED,
  /* @sender, @path the object (not the signal's), @values a{sa{sv}}. */
  BLEIO_FEED_INTERFACES_ADDED,
  /* @sender, @path the object, @names the interfaces. */
  BLEIO_FEED_INTERFACES_REMOVED,
  /* Device1.Disconnected: @sender, @path, @values the reason (s). */
  BLEIO_FEED_DISCONNECTED,
  /* NameOwnerChanged for org.bluez: @name, @old_owner, @new_owner. */
  BLEIO_FEED_OWNER_CHANGED,
  /* GetNameOwner's reply: @new_owner, or @error. @tag as given. */
  BLEIO_FEED_OWNER,
  /* GetManagedObjects' reply: @values a{oa{sa{sv}}}, or @error. */
  BLEIO_FEED_OBJECTS,
  /* The feed's own bus connection closed: the bus is gone. */
  BLEIO_FEED_CLOSED,
} BleioFeedKind;

typedef struct {
  BleioFeedKind kind;
  const char *sender;
  const char *path;
  const char *interface;
  GVariant *values;
  const char * const *names;
  const char *name;
  const char *old_owner;
  const char *new_owner;
  guint tag;
  /* A D-Bus error as GDBus gives it (g_dbus_error_get_remote_error()
   * works on it), or G_IO_ERROR_TIMED_OUT. */
  const GError *error;
} BleioFeedEvent;

typedef void (*BleioFeedFunc) (const BleioFeedEvent *event,
                               gpointer              user_data);

/* Subscribes (on the worker thread, which must be iterating @context
 * from now on); events come to @func in @context. */
BleioFeed *bleio_feed_new          (GDBusConnection *connection,
                                    GMainContext    *context,
                                    BleioFeedFunc    func,
                                    gpointer         user_data);
/* TRUE when the feed reads the library's own connection. */
gboolean   bleio_feed_is_own       (BleioFeed       *feed);
/* GetNameOwner("org.bluez"); a BLEIO_FEED_OWNER event with @tag. */
void       bleio_feed_get_owner    (BleioFeed       *feed,
                                    guint            tag);
/* GetManagedObjects on @owner's "/"; a BLEIO_FEED_OBJECTS event. */
void       bleio_feed_get_objects  (BleioFeed       *feed,
                                    const char      *owner,
                                    guint            tag);
/* Unsubscribes and drops the calls out (no events after this); iterates
 * @context until GDBus has let go of the feed. */
void       bleio_feed_free         (BleioFeed       *feed);

G_END_DECLS
