/* SPDX-License-Identifier: MIT */
/*
 * Noticing that a connected peer's GATT database changed.
 *
 * bluetoothd 5.66 handles a Service Changed indication in shared/gatt-client
 * by discovering the range again: a service whose declaration (start,
 * UUID, size) is unchanged keeps its objects; one that differs loses its
 * objects as the new one is found, and the new one's objects appear, all
 * at once, when its characteristics and descriptors have been read; those
 * not found again go last. Device1.ServicesResolved stays true throughout
 * and nothing on D-Bus marks the end, so a change counts as settled once
 * no GATT object under the device has come or gone for
 * BLEIO_DB_SETTLE_MSEC. Should ServicesResolved turn false and true again
 * while connected (as a re-resolve would), its turning true settles the
 * change at once.
 */
#include "bleio-db-watch-private.h"
#include "bleio-path-private.h"

#define BLEIO_IFACE_DESCRIPTOR_NAME "org.bluez.GattDescriptor1"

typedef struct {
  BleioClient *client;
  char *device_path;
  GMainContext *context;
  BleioDbChangedFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
  gboolean resolved;            /* ServicesResolved as last seen */
  gboolean pending;             /* objects came or went since the last call */
  guint16 start, end;
  GSource *settle;
} DbWatch;

static void
cancel_settle (DbWatch *w)
{
  if (w->settle != NULL)
    {
      g_source_destroy (w->settle);
      g_clear_pointer (&w->settle, g_source_unref);
    }
}

static void
db_watch_free (gpointer data)
{
  DbWatch *w = data;

  cancel_settle (w);
  if (w->destroy != NULL)
    w->destroy (w->user_data);
  g_main_context_unref (w->context);
  g_free (w->device_path);
  g_free (w);
}

static void
settled (DbWatch *w)
{
  guint16 start = w->start, end = w->end;

  cancel_settle (w);
  w->pending = FALSE;
  w->func (start, end, w->user_data);
}

static gboolean
settle_cb (gpointer data)
{
  settled (data);
  return G_SOURCE_REMOVE;
}

/* The handle in the last component of a GATT object's path (service0008,
 * char000a, desc000c), or 0. */
static guint16
path_handle (const char *path)
{
  static const char *const prefixes[] = { "service", "char", "desc" };

  for (guint i = 0; i < G_N_ELEMENTS (prefixes); i++)
    {
      guint handle = bleio_path_handle (path, prefixes[i]);

      if (handle != 0)
        return (guint16) handle;
    }
  return 0;
}

static void
on_event (BleioClient            *client,
          const BleioClientEvent *event,
          gpointer                user_data)
{
  DbWatch *w = user_data;
  gboolean value;
  guint16 handle;

  if (event->kind == BLEIO_CLIENT_EVENT_CHANGED
      && g_str_equal (event->path, w->device_path))
    {
      if (g_variant_lookup (event->changed, "Connected", "b", &value) && !value)
        {
          /* the link went: the connection is spent, nothing to tell */
          cancel_settle (w);
          w->pending = FALSE;
          w->resolved = FALSE;
        }
      else if (g_variant_lookup (event->changed, "ServicesResolved", "b", &value))
        {
          w->resolved = value;
          if (value && w->pending)
            settled (w);
        }
      return;
    }
  if ((event->kind != BLEIO_CLIENT_EVENT_ADDED && event->kind != BLEIO_CLIENT_EVENT_REMOVED)
      || g_str_equal (event->path, w->device_path))
    return;
  /* objects that come before the first resolve are the initial discovery */
  if (!w->resolved && !w->pending)
    return;
  handle = path_handle (event->path);
  if (handle == 0)
    return;
  if (!w->pending)
    {
      w->pending = TRUE;
      w->start = handle;
      w->end = handle;
    }
  w->start = MIN (w->start, handle);
  w->end = MAX (w->end, handle);
  if (!w->resolved)
    return;                     /* ServicesResolved turning true settles it */
  cancel_settle (w);
  w->settle = g_timeout_source_new (BLEIO_DB_SETTLE_MSEC);
  g_source_set_callback (w->settle, settle_cb, w, NULL);
  g_source_set_static_name (w->settle, "[bleio] database settles");
  g_source_attach (w->settle, w->context);
}

guint
bleio_db_watch (BleioClient        *client,
                const char         *device_path,
                GMainContext       *context,
                BleioDbChangedFunc  func,
                gpointer            user_data,
                GDestroyNotify      destroy)
{
  DbWatch *w = g_new0 (DbWatch, 1);
  /* Of the GATT objects only their coming and going: their Value changes
   * (every notification) would each be queued for @context. */
  const guint come_go = BLEIO_CLIENT_EVENT_BIT (BLEIO_CLIENT_EVENT_ADDED) |
                        BLEIO_CLIENT_EVENT_BIT (BLEIO_CLIENT_EVENT_REMOVED);
  BleioClientWatchKey keys[] = {
    { device_path, BLEIO_IFACE_DEVICE, FALSE, 0 },
    { device_path, BLEIO_IFACE_SERVICE, TRUE, come_go },
    { device_path, BLEIO_IFACE_CHARACTERISTIC, TRUE, come_go },
    { device_path, BLEIO_IFACE_DESCRIPTOR_NAME, TRUE, come_go },
  };
  guint id;

  w->client = client;
  w->device_path = g_strdup (device_path);
  w->context = g_main_context_ref (context);
  w->func = func;
  w->user_data = user_data;
  w->destroy = destroy;
  id = bleio_client_watch_keys (client, context, keys, G_N_ELEMENTS (keys), on_event,
                                w, db_watch_free);
  /* Subscribed first, read second: a resolve that lands in between is
   * seen twice, which is harmless. */
  w->resolved = bleio_client_get_boolean (client, device_path, BLEIO_IFACE_DEVICE,
                                          "ServicesResolved");
  return id;
}
