/* SPDX-License-Identifier: MIT */
/*
 * The seed example on a GLib main loop: the same steps as seed-blocking.c
 * (scan for "InterestingPeripheral", connect with a 10 s timeout, discover
 * and print the services), each one an _async call whose callback starts
 * the next.
 */
#include <bleio/bleio.h>
#include <stdio.h>

#define WANTED_NAME "InterestingPeripheral"

typedef struct {
  GMainLoop *loop;
  BleioAdapter *adapter;
  BleioScanResults *results;
  BleioAddress *found;
  BleioConnection *connection;
  int status;
} App;

static void
finish (App        *app,
        const char *what,
        GError     *error)
{
  if (what != NULL)
    {
      fprintf (stderr, "seed-async: %s%s%s\n", what,
               error != NULL ? ": " : "", error != NULL ? error->message : "");
      app->status = 1;
    }
  g_main_loop_quit (app->loop);
}

static void
disconnected_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;

  if (!bleio_connection_disconnect_finish (BLEIO_CONNECTION (source), result, &error))
    {
      finish (app, "cannot disconnect", error);
      return;
    }
  finish (app, NULL, NULL);
}

static void
discovered_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) services =
    bleio_connection_discover_remote_services_finish (BLEIO_CONNECTION (source), result, &error);

  if (services == NULL)
    {
      finish (app, "cannot discover services", error);
      return;
    }
  printf ("%u services:\n", services->len);
  for (guint i = 0; i < services->len; i++)
    {
      BleioService *service = g_ptr_array_index (services, i);
      g_autofree char *uuid = bleio_uuid_to_string (bleio_service_get_uuid (service));

      printf ("  service %s (handle 0x%04x, %s)\n", uuid,
              bleio_service_get_handle (service),
              bleio_service_get_secondary (service) ? "secondary" : "primary");
    }
  bleio_connection_disconnect_async (app->connection, NULL, disconnected_cb, app);
}

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;

  app->connection = bleio_adapter_connect_finish (BLEIO_ADAPTER (source), result, &error);
  if (app->connection == NULL)
    {
      finish (app, "cannot connect", error);
      return;
    }
  bleio_connection_discover_remote_services_async (app->connection, NULL, 0, NULL,
                                                   discovered_cb, app);
}

static void
scan_stopped_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;

  if (!bleio_adapter_stop_scan_finish (BLEIO_ADAPTER (source), result, &error))
    {
      finish (app, "cannot stop the scan", error);
      return;
    }
  address = bleio_address_to_string (app->found);
  printf ("found %s at %s\n", WANTED_NAME, address);
  bleio_adapter_connect_async (app->adapter, app->found, 10, NULL, connected_cb, app);
}

static void
on_entry (BleioScanResults *results,
          BleioScanEntry   *entry,
          gpointer          user_data)
{
  App *app = user_data;
  g_autofree char *name = bleio_scan_entry_dup_complete_name (entry);

  if (app->found != NULL || g_strcmp0 (name, WANTED_NAME) != 0)
    return;
  app->found = bleio_address_copy (bleio_scan_entry_get_address (entry));
  bleio_adapter_stop_scan_async (app->adapter, NULL, scan_stopped_cb, app);
}

static void
on_scan_done (BleioScanResults *results,
              gpointer          user_data)
{
  App *app = user_data;

  if (app->found == NULL)
    finish (app, "'" WANTED_NAME "' not found", NULL);
}

static void
scan_started_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;

  app->results = bleio_adapter_start_scan_finish (BLEIO_ADAPTER (source), result, &error);
  if (app->results == NULL)
    {
      finish (app, "cannot scan", error);
      return;
    }
  g_signal_connect (app->results, "entry", G_CALLBACK (on_entry), app);
  g_signal_connect (app->results, "done", G_CALLBACK (on_scan_done), app);
}

static void
adapter_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;

  app->adapter = bleio_adapter_get_default_finish (result, &error);
  if (app->adapter == NULL)
    {
      finish (app, "no adapter", error);
      return;
    }
  bleio_adapter_start_scan_async (app->adapter, NULL, 512, FALSE, 2.5, 0.1, 0.1,
                                  -80, TRUE, NULL, scan_started_cb, app);
}

int
main (int    argc,
      char **argv)
{
  App app = { 0, };

  app.loop = g_main_loop_new (NULL, FALSE);
  bleio_adapter_get_default_async (NULL, adapter_cb, &app);
  g_main_loop_run (app.loop);

  g_clear_object (&app.connection);
  if (app.results != NULL)
    g_signal_handlers_disconnect_by_data (app.results, &app);
  g_clear_object (&app.results);
  g_clear_object (&app.adapter);
  g_clear_pointer (&app.found, bleio_address_free);
  g_main_loop_unref (app.loop);
  return app.status;
}
