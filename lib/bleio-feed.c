/* SPDX-License-Identifier: MIT */
/*
 * The cache's feed, through the library's own connection or GDBus; see
 * bleio-feed-private.h. Both ways check each signal's arguments before
 * reading them and drop a signal that is not what it should be.
 */
#include "bleio-feed-private.h"
#include "bleio-reader-private.h"

#include <string.h>

#define BLUEZ "org.bluez"
#define DBUS_NAME "org.freedesktop.DBus"
#define DBUS_PATH "/org/freedesktop/DBus"
#define IFACE_PROPERTIES "org.freedesktop.DBus.Properties"
#define IFACE_OBJECT_MANAGER "org.freedesktop.DBus.ObjectManager"
#define IFACE_DEVICE "org.bluez.Device1"

/* The handshake of the own connection, and GetNameOwner: the daemon
 * answers both itself. */
#define LOCAL_MSEC 10000
/* GetManagedObjects, whose reply grows with every device bluetoothd
 * knows (as BLEIO_CALL_OBJECTS_MSEC). */
#define OBJECTS_MSEC 60000

typedef struct {
  BleioFeed *feed;
  BleioFeedKind kind;
  guint tag;
  guint32 serial;               /* own connection: 0 when not sent */
  char *from;                   /* own connection: who must answer */
  GSource *timeout;             /* own connection */
} Call;

struct _BleioFeed {
  GDBusConnection *connection;
  GMainContext *context;
  BleioFeedFunc func;
  gpointer user_data;
  gboolean freeing;

  /* The own connection, or NULL for GDBus's way. */
  BleioReader *reader;
  GList *calls;                 /* Call*, own connection */

  /* GDBus's way. */
  guint owner_subscription;
  guint bluez_subscription;
  guint subscriptions_alive;    /* their destroy notifies still to come */
  guint calls_in_flight;
  GCancellable *cancellable;
};

static const char * const rules[] = {
  "type='signal',sender='" BLUEZ "'",
  "type='signal',sender='" DBUS_NAME "',path='" DBUS_PATH "',interface='" DBUS_NAME "',"
  "member='NameOwnerChanged',arg0='" BLUEZ "'",
  NULL
};

static void
emit (BleioFeed      *feed,
      BleioFeedEvent *event)
{
  if (!feed->freeing)
    feed->func (event, feed->user_data);
}

/* ---- signals, either way -------------------------------------------------- */

/* NameOwnerChanged(sss), already checked to be that. */
static void
owner_changed (BleioFeed *feed,
               GVariant  *body)
{
  BleioFeedEvent event = { .kind = BLEIO_FEED_OWNER_CHANGED };

  g_variant_get (body, "(&s&s&s)", &event.name, &event.old_owner, &event.new_owner);
  if (g_str_equal (event.name, BLUEZ))
    emit (feed, &event);
}

/* org.bluez's signals other than PropertiesChanged and InterfacesAdded
 * (whose readers differ by way), from a body of any type. */
static void
other_signal (BleioFeed  *feed,
              const char *sender,
              const char *path,
              const char *interface,
              const char *member,
              GVariant   *body)
{
  BleioFeedEvent event = { .sender = sender, .path = path };

  if (g_str_equal (interface, IFACE_OBJECT_MANAGER) && g_str_equal (member, "InterfacesRemoved") &&
      g_str_equal (path, "/") && g_variant_is_of_type (body, G_VARIANT_TYPE ("(oas)")))
    {
      g_autofree const char **names = NULL;

      event.kind = BLEIO_FEED_INTERFACES_REMOVED;
      g_variant_get (body, "(&o^a&s)", &event.path, &names);
      event.names = names;
      emit (feed, &event);
    }
  else if (g_str_equal (interface, IFACE_DEVICE) && g_str_equal (member, "Disconnected") &&
           g_variant_is_of_type (body, G_VARIANT_TYPE ("(ss)")))
    {
      g_autoptr(GVariant) why = g_variant_get_child_value (body, 0);

      event.kind = BLEIO_FEED_DISCONNECTED;
      event.values = why;
      emit (feed, &event);
    }
}

/* ---- GDBus's way ---------------------------------------------------------- */

static void
on_gdbus_owner_changed (GDBusConnection *connection,
                        const char      *sender,
                        const char      *path,
                        const char      *interface,
                        const char      *member,
                        GVariant        *params,
                        gpointer         user_data)
{
  if (g_variant_is_of_type (params, G_VARIANT_TYPE ("(sss)")))
    owner_changed (user_data, params);
}

static void
on_gdbus_signal (GDBusConnection *connection,
                 const char      *sender,
                 const char      *path,
                 const char      *interface,
                 const char      *member,
                 GVariant        *params,
                 gpointer         user_data)
{
  BleioFeed *feed = user_data;
  BleioFeedEvent event = { .sender = sender, .path = path };

  if (g_str_equal (interface, IFACE_PROPERTIES) && g_str_equal (member, "PropertiesChanged"))
    {
      g_autoptr(GVariant) iface = NULL;
      g_autoptr(GVariant) changed = NULL;
      g_autoptr(GVariant) gone = NULL;
      g_autofree const char **invalidated = NULL;

      if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(sa{sv}as)")))
        return;
      /* The children directly: every notification through Value signals
       * and every advertisement comes this way. */
      iface = g_variant_get_child_value (params, 0);
      changed = g_variant_get_child_value (params, 1);
      gone = g_variant_get_child_value (params, 2);
      if (g_variant_n_children (gone) > 0)
        invalidated = g_variant_get_strv (gone, NULL);
      event.kind = BLEIO_FEED_PROPERTIES_CHANGED;
      event.interface = g_variant_get_string (iface, NULL);
      event.values = changed;
      event.names = invalidated;
      emit (feed, &event);
    }
  else if (g_str_equal (interface, IFACE_OBJECT_MANAGER) && g_str_equal (member, "InterfacesAdded"))
    {
      g_autoptr(GVariant) object = NULL;
      g_autoptr(GVariant) interfaces = NULL;

      if (!g_str_equal (path, "/") || !g_variant_is_of_type (params, G_VARIANT_TYPE ("(oa{sa{sv}})")))
        return;
      object = g_variant_get_child_value (params, 0);
      interfaces = g_variant_get_child_value (params, 1);
      event.kind = BLEIO_FEED_INTERFACES_ADDED;
      event.path = g_variant_get_string (object, NULL);
      event.values = interfaces;
      emit (feed, &event);
    }
  else
    other_signal (feed, sender, path, interface, member, params);
}

static void
subscription_gone (gpointer user_data)
{
  BleioFeed *feed = user_data;

  feed->subscriptions_alive--;
}

typedef struct {
  BleioFeed *feed;
  BleioFeedKind kind;
  guint tag;
} GDBusCall;

static void
gdbus_call_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autofree GDBusCall *call = user_data;
  BleioFeed *feed = call->feed;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (feed->connection, result, &error);
  g_autoptr(GVariant) objects = NULL;
  BleioFeedEvent event = { .kind = call->kind, .tag = call->tag, .error = error };

  feed->calls_in_flight--;
  if (reply != NULL && call->kind == BLEIO_FEED_OWNER)
    g_variant_get (reply, "(&s)", &event.new_owner);
  else if (reply != NULL)
    event.values = objects = g_variant_get_child_value (reply, 0);
  emit (feed, &event);
}

static void
gdbus_call (BleioFeed          *feed,
            BleioFeedKind       kind,
            guint               tag,
            const char         *destination,
            const char         *path,
            const char         *interface,
            const char         *member,
            GVariant           *body,
            const GVariantType *reply_type,
            int                 timeout_msec)
{
  GDBusCall *call = g_new0 (GDBusCall, 1);

  call->feed = feed;
  call->kind = kind;
  call->tag = tag;
  feed->calls_in_flight++;
  g_dbus_connection_call (feed->connection, destination, path, interface, member, body,
                          reply_type, G_DBUS_CALL_FLAGS_NO_AUTO_START, timeout_msec,
                          feed->cancellable, gdbus_call_done, call);
}

/* ---- the own connection --------------------------------------------------- */

static void
call_free (Call *call)
{
  if (call->timeout != NULL)
    {
      g_source_destroy (call->timeout);
      g_source_unref (call->timeout);
    }
  g_free (call->from);
  g_free (call);
}

/* Ends @call with its reply's @body (NULL with @error). */
static void
call_finish (Call         *call,
             GVariant     *body,
             const GError *error)
{
  BleioFeed *feed = call->feed;
  g_autoptr(GError) wrong = NULL;
  g_autoptr(GVariant) objects = NULL;
  BleioFeedEvent event = { .kind = call->kind, .tag = call->tag };
  const char *type = call->kind == BLEIO_FEED_OWNER ? "(s)" : "(a{oa{sa{sv}}})";

  feed->calls = g_list_remove (feed->calls, call);
  if (body != NULL && !g_variant_is_of_type (body, G_VARIANT_TYPE (type)))
    {
      /* What GDBus says of a reply of the wrong type. */
      wrong = g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "Method returned type '%s' but expected '%s'",
                           g_variant_get_type_string (body), type);
      body = NULL;
      error = wrong;
    }
  if (body != NULL && call->kind == BLEIO_FEED_OWNER)
    g_variant_get (body, "(&s)", &event.new_owner);
  else if (body != NULL)
    event.values = objects = g_variant_get_child_value (body, 0);
  event.error = error;
  call_free (call);
  emit (feed, &event);
}

static gboolean
call_timeout_cb (gpointer user_data)
{
  Call *call = user_data;
  g_autoptr(GError) error = NULL;

  if (call->serial == 0)
    error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED, "The bus connection is closed");
  else
    error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "Timeout was reached");
  g_clear_pointer (&call->timeout, g_source_unref);
  call_finish (call, NULL, error);
  return G_SOURCE_REMOVE;
}

static void
own_call (BleioFeed     *feed,
          BleioFeedKind  kind,
          guint          tag,
          const char    *destination,
          const char    *path,
          const char    *interface,
          const char    *member,
          GVariant      *body,
          guint          timeout_msec)
{
  Call *call = g_new0 (Call, 1);

  call->feed = feed;
  call->kind = kind;
  call->tag = tag;
  call->from = g_strdup (destination);
  call->serial = bleio_reader_call (feed->reader, destination, path, interface, member, body);
  /* Not sent: it fails, as a GDBus call on a closed connection does, in
   * a later turn of the context. */
  call->timeout = g_timeout_source_new (call->serial != 0 ? timeout_msec : 0);
  g_source_set_callback (call->timeout, call_timeout_cb, call, NULL);
  g_source_set_static_name (call->timeout, "[bleio] feed call");
  g_source_attach (call->timeout, feed->context);
  feed->calls = g_list_prepend (feed->calls, call);
}

static void
own_reply (BleioFeed              *feed,
           const BleioWireMessage *message)
{
  Call *call = NULL;
  g_autoptr(GVariant) body = NULL;
  g_autoptr(GError) error = NULL;

  for (GList *l = feed->calls; l != NULL; l = l->next)
    {
      Call *candidate = l->data;

      if (candidate->serial != 0 && candidate->serial == message->reply_serial)
        call = candidate;
    }
  /* Only the callee answers (the bus routes by serial; this also holds
   * against a bus that did not check). */
  if (call == NULL || g_strcmp0 (message->sender, call->from) != 0)
    return;
  body = bleio_wire_read_body (message);
  if (message->type == BLEIO_WIRE_ERROR)
    {
      const char *text = "";

      if (body != NULL && g_str_has_prefix (g_variant_get_type_string (body), "(s"))
        g_variant_get_child (body, 0, "&s", &text);
      error = g_dbus_error_new_for_dbus_error (message->error_name, text);
      call_finish (call, NULL, error);
      return;
    }
  if (body == NULL)
    {
      error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                   "The reply's arguments are not valid D-Bus");
      call_finish (call, NULL, error);
      return;
    }
  call_finish (call, body, NULL);
}

static void
own_signal (BleioFeed              *feed,
            const BleioWireMessage *message)
{
  BleioFeedEvent event = { .sender = message->sender, .path = message->path };
  g_autoptr(GVariant) body = NULL;

  if (message->sender == NULL || message->path == NULL || message->interface == NULL ||
      message->member == NULL)
    return;
  if (g_str_equal (message->member, "PropertiesChanged") &&
      g_str_equal (message->interface, IFACE_PROPERTIES))
    {
      g_autoptr(GVariant) changed = NULL;
      g_autofree const char **invalidated = NULL;

      if (!bleio_wire_read_properties_changed (message, &event.interface, &changed, &invalidated))
        return;
      event.kind = BLEIO_FEED_PROPERTIES_CHANGED;
      event.values = changed;
      event.names = invalidated != NULL && invalidated[0] != NULL ? invalidated : NULL;
      emit (feed, &event);
      return;
    }
  if (g_str_equal (message->member, "InterfacesAdded") &&
      g_str_equal (message->interface, IFACE_OBJECT_MANAGER))
    {
      g_autoptr(GVariant) interfaces = NULL;

      if (!g_str_equal (message->path, "/") ||
          !bleio_wire_read_interfaces_added (message, &event.path, &interfaces))
        return;
      event.kind = BLEIO_FEED_INTERFACES_ADDED;
      event.values = interfaces;
      emit (feed, &event);
      return;
    }
  if (g_str_equal (message->member, "NameOwnerChanged"))
    {
      /* The bus's own, never one sent straight to this connection by
       * another client. */
      if (!g_str_equal (message->sender, DBUS_NAME) || !g_str_equal (message->path, DBUS_PATH) ||
          !g_str_equal (message->interface, DBUS_NAME) || !g_str_equal (message->signature, "sss"))
        return;
      body = bleio_wire_read_body (message);
      if (body != NULL)
        owner_changed (feed, body);
      return;
    }
  /* The rest are rare: the general reader. */
  if (!g_str_equal (message->signature, "oas") && !g_str_equal (message->signature, "ss"))
    return;
  body = bleio_wire_read_body (message);
  if (body != NULL)
    other_signal (feed, message->sender, message->path, message->interface, message->member, body);
}

static void
on_own_message (const BleioWireMessage *message,
                gpointer                user_data)
{
  BleioFeed *feed = user_data;

  if (message == NULL)
    {
      BleioFeedEvent event = { .kind = BLEIO_FEED_CLOSED };
      g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED,
                                                     "The connection is closed");

      /* The calls out fail first, as GDBus's do when its connection
       * closes, so that the view ends after them. */
      while (feed->calls != NULL)
        call_finish (feed->calls->data, NULL, error);
      emit (feed, &event);
      return;
    }
  if (message->type == BLEIO_WIRE_SIGNAL)
    own_signal (feed, message);
  else if (message->type == BLEIO_WIRE_METHOD_RETURN || message->type == BLEIO_WIRE_ERROR)
    own_reply (feed, message);
  /* Method calls to this connection: it offers nothing, and a caller
   * that waits for a reply gets its bus's timeout. */
}

/* ---- public --------------------------------------------------------------- */

BleioFeed *
bleio_feed_new (GDBusConnection *connection,
                GMainContext    *context,
                BleioFeedFunc    func,
                gpointer         user_data)
{
  BleioFeed *feed = g_new0 (BleioFeed, 1);
  g_autoptr(GError) error = NULL;

  feed->connection = g_object_ref (connection);
  feed->context = g_main_context_ref (context);
  feed->func = func;
  feed->user_data = user_data;
  if (g_strcmp0 (g_getenv ("BLEIO_RECEIVE"), "gdbus") != 0)
    {
      feed->reader = bleio_reader_new (connection, rules, LOCAL_MSEC, context,
                                       on_own_message, feed, &error);
      if (feed->reader != NULL)
        return feed;
      g_debug ("%s", error->message);
    }
  feed->cancellable = g_cancellable_new ();
  feed->subscriptions_alive = 2;
  feed->owner_subscription =
    g_dbus_connection_signal_subscribe (connection, DBUS_NAME, DBUS_NAME, "NameOwnerChanged",
                                        DBUS_PATH, BLUEZ, G_DBUS_SIGNAL_FLAGS_NONE,
                                        on_gdbus_owner_changed, feed, subscription_gone);
  feed->bluez_subscription =
    g_dbus_connection_signal_subscribe (connection, BLUEZ, NULL, NULL, NULL, NULL,
                                        G_DBUS_SIGNAL_FLAGS_NONE, on_gdbus_signal, feed,
                                        subscription_gone);
  return feed;
}

gboolean
bleio_feed_is_own (BleioFeed *feed)
{
  return feed->reader != NULL;
}

void
bleio_feed_get_owner (BleioFeed *feed,
                      guint      tag)
{
  if (feed->reader != NULL)
    own_call (feed, BLEIO_FEED_OWNER, tag, DBUS_NAME, DBUS_PATH, DBUS_NAME, "GetNameOwner",
              g_variant_new ("(s)", BLUEZ), LOCAL_MSEC);
  else
    gdbus_call (feed, BLEIO_FEED_OWNER, tag, DBUS_NAME, DBUS_PATH, DBUS_NAME, "GetNameOwner",
                g_variant_new ("(s)", BLUEZ), G_VARIANT_TYPE ("(s)"), LOCAL_MSEC);
}

void
bleio_feed_get_objects (BleioFeed  *feed,
                        const char *owner,
                        guint       tag)
{
  if (feed->reader != NULL)
    own_call (feed, BLEIO_FEED_OBJECTS, tag, owner, "/", IFACE_OBJECT_MANAGER,
              "GetManagedObjects", NULL, OBJECTS_MSEC);
  else
    gdbus_call (feed, BLEIO_FEED_OBJECTS, tag, owner, "/", IFACE_OBJECT_MANAGER,
                "GetManagedObjects", NULL, G_VARIANT_TYPE ("(a{oa{sa{sv}}})"), OBJECTS_MSEC);
}

void
bleio_feed_free (BleioFeed *feed)
{
  if (feed == NULL)
    return;
  feed->freeing = TRUE;
  if (feed->reader != NULL)
    {
      g_list_free_full (g_steal_pointer (&feed->calls), (GDestroyNotify) call_free);
      bleio_reader_free (feed->reader);
    }
  else
    {
      g_dbus_connection_signal_unsubscribe (feed->connection, feed->owner_subscription);
      g_dbus_connection_signal_unsubscribe (feed->connection, feed->bluez_subscription);
      g_cancellable_cancel (feed->cancellable);
      /* The calls' callbacks and the subscriptions' destroy notifies hold
       * @feed: wait for each (GDBus delivers them in this context). */
      while (feed->calls_in_flight > 0 || feed->subscriptions_alive > 0)
        g_main_context_iteration (feed->context, TRUE);
      g_object_unref (feed->cancellable);
    }
  g_main_context_unref (feed->context);
  g_object_unref (feed->connection);
  g_free (feed);
}
