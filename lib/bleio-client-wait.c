/* SPDX-License-Identifier: MIT */
/*
 * bleio_client_wait_property_async(): waiting until the cache holds a
 * value, built on the client's watches and readers only.
 */
#include "bleio-client-private.h"

typedef struct {
  BleioClient *client;
  char *path;
  char *interface;
  char *property;
  GVariant *expected;
  guint watch_id;
  GSource *timeout;
  gboolean finished;
} WaitData;

static void
wait_data_free (WaitData *data)
{
  g_free (data->path);
  g_free (data->interface);
  g_free (data->property);
  g_variant_unref (data->expected);
  bleio_client_unref (data->client);
  g_free (data);
}

static gboolean
wait_matches (WaitData *data)
{
  g_autoptr(GVariant) value = bleio_client_dup_property (data->client, data->path,
                                                         data->interface, data->property);

  return value != NULL && g_variant_equal (value, data->expected);
}

static void
wait_finish (GTask    *task,
             gboolean  matched)
{
  WaitData *data = g_task_get_task_data (task);

  if (data->finished)
    return;
  data->finished = TRUE;
  if (data->timeout != NULL)
    {
      g_source_destroy (data->timeout);
      g_clear_pointer (&data->timeout, g_source_unref);
    }
  g_object_ref (task);
  bleio_client_unwatch (data->client, data->watch_id);
  g_task_return_boolean (task, matched);
  g_object_unref (task);
}

static void
on_wait_event (BleioClient            *client,
               const BleioClientEvent *event,
               gpointer                user_data)
{
  GTask *task = user_data;
  WaitData *data = g_task_get_task_data (task);

  if (event->kind == BLEIO_CLIENT_EVENT_OWNER && !event->has_owner)
    wait_finish (task, FALSE);
  else if (event->path == NULL || !g_str_equal (event->path, data->path))
    return;
  else if (event->kind == BLEIO_CLIENT_EVENT_REMOVED && g_str_equal (event->interface, data->interface))
    wait_finish (task, FALSE);     /* the object is gone: nothing to wait for */
  else if (wait_matches (data))
    wait_finish (task, TRUE);
}

static gboolean
wait_timeout_cb (gpointer user_data)
{
  WaitData *data = g_task_get_task_data (user_data);

  g_debug ("gave up waiting for %s.%s of %s", data->interface, data->property, data->path);
  wait_finish (user_data, FALSE);
  return G_SOURCE_REMOVE;
}

void
bleio_client_wait_property_async (BleioClient         *client,
                                  const char          *path,
                                  const char          *interface,
                                  const char          *property,
                                  GVariant            *expected,
                                  guint                timeout_msec,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, callback, user_data);
  WaitData *data = g_new0 (WaitData, 1);
  BleioClientWatchKey key = { NULL, NULL, FALSE, 0 };

  g_task_set_source_tag (task, BLEIO_TAG (bleio_client_wait_property_async));
  data->client = bleio_client_ref (client);
  data->path = g_strdup (path);
  data->interface = g_strdup (interface);
  data->property = g_strdup (property);
  data->expected = g_variant_ref_sink (expected);
  g_task_set_task_data (task, data, (GDestroyNotify) wait_data_free);

  /* Subscribe first, check second. */
  key.path = path;
  key.interface = interface;
  data->watch_id = bleio_client_watch_keys (client, g_task_get_context (task), &key, 1,
                                            on_wait_event, g_object_ref (task), g_object_unref);
  if (wait_matches (data))
    {
      wait_finish (task, TRUE);
      return;
    }
  if (!bleio_client_has_interface (client, path, interface))
    {
      wait_finish (task, FALSE);
      return;
    }
  data->timeout = g_timeout_source_new (timeout_msec);
  g_source_set_callback (data->timeout, wait_timeout_cb, task, NULL);
  g_source_set_static_name (data->timeout, "[bleio] wait for the cache");
  g_source_attach (data->timeout, g_task_get_context (task));
}

gboolean
bleio_client_wait_property_finish (GAsyncResult *result)
{
  return g_task_propagate_boolean (G_TASK (result), NULL);
}
