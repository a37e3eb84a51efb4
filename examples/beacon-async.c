/* SPDX-License-Identifier: MIT */
/*
 * The beacon peripheral on a GLib main loop: the same steps as
 * beacon-blocking.c (advertise "BleioBeacon" for at most 30 s, take the
 * first central that connects, wait for it to leave), driven by the
 * adapter's and the connection's signals.
 */
#include <bleio/bleio.h>
#include <stdio.h>

#define ADVERTISE_SECONDS 30

static const guint8 advertisement[] = {
  0x02, 0x01, 0x06,
  0x0c, 0x09, 'B', 'l', 'e', 'i', 'o', 'B', 'e', 'a', 'c', 'o', 'n',
  0x05, 0xff, 0x59, 0x00, 0xbe, 0xac,
};

typedef struct {
  GMainLoop *loop;
  BleioAdapter *adapter;
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
      fprintf (stderr, "beacon-async: %s%s%s\n", what,
               error != NULL ? ": " : "", error != NULL ? error->message : "");
      app->status = 1;
    }
  g_main_loop_quit (app->loop);
}

static void
on_disconnected (BleioConnection       *connection,
                 BleioDisconnectReason  reason,
                 gpointer               user_data)
{
  App *app = user_data;
  g_autofree char *address = bleio_address_to_string (bleio_connection_get_address (connection));
  g_autoptr(GEnumClass) reasons = g_type_class_ref (BLEIO_TYPE_DISCONNECT_REASON);

  printf ("disconnected %s (%s)\n", address, g_enum_get_value (reasons, (int) reason)->value_nick);
  finish (app, NULL, NULL);
}

static void
on_incoming (BleioAdapter    *adapter,
             BleioConnection *connection,
             gpointer         user_data)
{
  App *app = user_data;
  g_autofree char *address = NULL;

  if (app->connection != NULL)
    return;
  app->connection = g_object_ref (connection);
  address = bleio_address_to_string (bleio_connection_get_address (connection));
  printf ("connected %s\n", address);
  fflush (stdout);
  g_signal_connect (connection, "disconnected", G_CALLBACK (on_disconnected), app);
}

static void
on_advertising_ended (BleioAdapter              *adapter,
                      BleioAdvertisingEndReason  reason,
                      gpointer                   user_data)
{
  App *app = user_data;

  /* Ending because a central connected is what we wait for. */
  if (reason != BLEIO_ADVERTISING_END_REASON_CONNECTED && app->connection == NULL)
    finish (app, "advertising ended before a central connected", NULL);
}

static void
advertising_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;

  if (!bleio_adapter_start_advertising_finish (BLEIO_ADAPTER (source), result, &error))
    {
      finish (app, "cannot advertise", error);
      return;
    }
  printf ("advertising on %s\n", bleio_adapter_get_object_path (app->adapter));
  fflush (stdout);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GBytes) data = g_bytes_new_static (advertisement, sizeof advertisement);
  App app = { loop, NULL, NULL, 0 };

  app.adapter = argc > 1 ? bleio_adapter_new_for_name (NULL, argv[1], NULL, &error)
                         : bleio_adapter_get_default (NULL, &error);
  if (app.adapter == NULL)
    {
      fprintf (stderr, "beacon-async: no adapter: %s\n", error->message);
      return 1;
    }
  g_signal_connect (app.adapter, "incoming-connection", G_CALLBACK (on_incoming), &app);
  g_signal_connect (app.adapter, "advertising-ended", G_CALLBACK (on_advertising_ended), &app);
  bleio_adapter_start_advertising_async (app.adapter, data, NULL, TRUE, FALSE, ADVERTISE_SECONDS,
                                         0, 0, NULL, NULL, advertising_cb, &app);
  g_main_loop_run (loop);

  if (bleio_adapter_get_advertising (app.adapter))
    bleio_adapter_stop_advertising (app.adapter, NULL);
  g_clear_object (&app.connection);
  g_object_unref (app.adapter);
  return app.status;
}
