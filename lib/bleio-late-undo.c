/* SPDX-License-Identifier: MIT */
/*
 * Undoing a connect that completes after the caller gave up; see
 * bleio-late-undo-private.h.
 */
#include "bleio-late-undo-private.h"

#define LATE_UNDO_MSEC 45000

struct _BleioLateUndo {
  gint ref_count;
  BleioClient *client;
  char *adapter_path;
  char *address;
  guint watch_id;
  GSource *expiry;
  gint finished;                /* atomic */
};

static BleioLateUndo *
late_undo_ref (BleioLateUndo *undo)
{
  g_atomic_int_inc (&undo->ref_count);
  return undo;
}

static void
late_undo_unref (gpointer user_data)
{
  BleioLateUndo *undo = user_data;

  if (!g_atomic_int_dec_and_test (&undo->ref_count))
    return;
  if (undo->expiry != NULL)
    {
      g_source_destroy (undo->expiry);
      g_source_unref (undo->expiry);
    }
  bleio_client_unref (undo->client);
  g_free (undo->adapter_path);
  g_free (undo->address);
  g_free (undo);
}

/* Any thread; idempotent. */
static void
late_undo_finish (BleioLateUndo *undo)
{
  if (!g_atomic_int_compare_and_exchange (&undo->finished, 0, 1))
    return;
  bleio_client_unwatch (undo->client, undo->watch_id);
  if (undo->expiry != NULL)
    g_source_destroy (undo->expiry);
}

static void
late_disconnect_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  BleioLateUndo *undo = user_data;
  GVariant *reply = bleio_client_call_finish (undo->client, result, NULL);

  g_clear_pointer (&reply, g_variant_unref);
  late_undo_unref (undo);
}

/* Worker thread. */
static void
on_late_undo_event (BleioClient            *client,
                    const BleioClientEvent *event,
                    gpointer                user_data)
{
  BleioLateUndo *undo = user_data;
  g_autofree char *path = NULL;

  if (g_atomic_int_get (&undo->finished) || event->interface == NULL ||
      !g_str_equal (event->interface, BLEIO_IFACE_DEVICE) ||
      event->kind == BLEIO_CLIENT_EVENT_REMOVED)
    return;
  path = bleio_client_find_device (client, undo->adapter_path, undo->address);
  if (path == NULL || !g_str_equal (path, event->path))
    return;
  if (!bleio_client_get_boolean (client, path, BLEIO_IFACE_DEVICE, "Connected"))
    {
      /* bluetoothd exports the device of a ConnectDevice once its link is
       * up. One that shows up without a link came from elsewhere (a scan):
       * a link it gets later is another program's connect, left alone. */
      late_undo_finish (undo);
      return;
    }
  g_debug ("%s connected after its attempt was abandoned: disconnecting", path);
  bleio_client_call (client, path, BLEIO_IFACE_DEVICE, "Disconnect", NULL,
                     BLEIO_CALL_DISCONNECT_MSEC, NULL, late_disconnect_cb, late_undo_ref (undo));
  late_undo_finish (undo);
}

static gboolean
late_undo_expired (gpointer user_data)
{
  late_undo_finish (user_data);
  return G_SOURCE_REMOVE;
}

BleioLateUndo *
bleio_late_undo_start (BleioClient *client,
                       const char  *adapter_path,
                       const char  *address)
{
  BleioLateUndo *undo = g_new0 (BleioLateUndo, 1);
  BleioClientWatchKey key = { NULL, BLEIO_IFACE_DEVICE, TRUE, 0 };

  undo->ref_count = 1;
  undo->client = bleio_client_ref (client);
  undo->adapter_path = g_strdup (adapter_path);
  undo->address = g_strdup (address);
  undo->expiry = g_timeout_source_new (LATE_UNDO_MSEC);
  g_source_set_callback (undo->expiry, late_undo_expired, late_undo_ref (undo), late_undo_unref);
  g_source_set_static_name (undo->expiry, "[bleio] late undo");
  g_source_attach (undo->expiry, bleio_client_get_worker_context (client));
  key.path = undo->adapter_path;
  undo->watch_id = bleio_client_watch_keys (client, NULL, &key, 1, on_late_undo_event,
                                            late_undo_ref (undo), late_undo_unref);
  return undo;
}

gboolean
bleio_late_undo_is_finished (BleioLateUndo *undo)
{
  return g_atomic_int_get (&undo->finished);
}

void
bleio_late_undo_drop (gpointer undo)
{
  late_undo_finish (undo);
  late_undo_unref (undo);
}
