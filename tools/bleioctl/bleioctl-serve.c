/* SPDX-License-Identifier: MIT */
/*
 * bleioctl serve FILE.json: a GATT server from the command line, the
 * counterpart of read, write and notify. The file is an object with
 * "name" (the local name advertised) and "gatt", a list of services in the
 * simulator scenario's gatt format (tools/bleio-sim/README.md) plus the
 * keys of _bleio's add_to_service() that the format lacks (read_perm,
 * write_perm, max_length, fixed_length, user_description). The whole file
 * is checked before anything is registered (bleioctl-serve-file.c).
 *
 * Then the services are published on the adapter, the name advertised,
 * and every read, write and subscription printed as it happens; a
 * characteristic with a "notify" stream sends its payloads in turn, one
 * each period_ms, while a client is subscribed. Ctrl-C, SIGTERM and
 * SIGHUP end it: advertising stops and the application is unregistered
 * when the adapter object goes (main() drops it).
 */
#include "bleioctl.h"

#include <string.h>

/* Bluetooth Core Supplement part A: Flags, Complete Local Name. */
#define AD_FLAGS 0x01
#define AD_NAME_COMPLETE 0x09
/* LE General Discoverable, BR/EDR not supported. */
#define FLAGS_PERIPHERAL 0x06

/* ---- serving ---------------------------------------------------------------------- */

typedef struct _Serve Serve;

/* A characteristic with a notify stream. */
typedef struct {
  Serve *serve;
  BleioCharacteristic *characteristic;
  GPtrArray *payloads;          /* GBytes*, from the spec */
  guint period_ms;
  guint next;                   /* the payload sent next; goes on across subscriptions */
  guint timer;
  gboolean sending;             /* a value set is still under way */
} Stream;

struct _Serve {
  GMainLoop *loop;
  GBytes *advertisement;
  GPtrArray *handlers;          /* Handler* */
  GPtrArray *streams;           /* Stream* */
  GHashTable *links;            /* BleioConnection* -> handler id */
  gboolean restarting;
  GError *error;
};

typedef struct {
  GObject *object;
  gulong id;
} Handler;

static void
handler_free (gpointer data)
{
  Handler *h = data;

  g_signal_handler_disconnect (h->object, h->id);
  g_object_unref (h->object);
  g_free (h);
}

static void
connect_handler (Serve      *serve,
                 gpointer    object,
                 const char *signal,
                 GCallback   callback,
                 gpointer    user_data)
{
  Handler *h = g_new0 (Handler, 1);

  h->object = g_object_ref (object);
  h->id = g_signal_connect (object, signal, callback, user_data);
  g_ptr_array_add (serve->handlers, h);
}

static void
stream_free (gpointer data)
{
  Stream *s = data;

  g_clear_handle_id (&s->timer, g_source_remove);
  g_object_unref (s->characteristic);
  g_ptr_array_unref (s->payloads);
  g_free (s);
}

static char *
uuid_of (GObject *object)
{
  return bleio_uuid_to_string (BLEIO_IS_CHARACTERISTIC (object) ?
                               bleio_characteristic_get_uuid (BLEIO_CHARACTERISTIC (object)) :
                               bleio_descriptor_get_uuid (BLEIO_DESCRIPTOR (object)));
}

/* One line per event: @object the characteristic or descriptor, @value
 * NULL when the event has none. */
static void
print_event (const char      *event,
             GObject         *object,
             BleioConnection *connection,
             GBytes          *value,
             gint64           offset)
{
  g_autofree char *address = connection != NULL ?
    bleio_address_to_bluez_string (bleio_connection_get_address (connection)) : NULL;
  g_autofree char *hex = value != NULL ? hex_encode (value) : NULL;
  gboolean descriptor = object != NULL && BLEIO_IS_DESCRIPTOR (object);
  g_autofree char *uuid = object != NULL ? uuid_of (object) : NULL;

  if (ctl.json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "event");
      json_builder_add_string_value (builder, event);
      if (descriptor)
        {
          BleioCharacteristic *owner = bleio_descriptor_get_characteristic (BLEIO_DESCRIPTOR (object));
          g_autofree char *owner_uuid = uuid_of (G_OBJECT (owner));

          json_builder_set_member_name (builder, "characteristic");
          json_builder_add_string_value (builder, owner_uuid);
          json_builder_set_member_name (builder, "descriptor");
          json_builder_add_string_value (builder, uuid);
        }
      else if (uuid != NULL)
        {
          json_builder_set_member_name (builder, "characteristic");
          json_builder_add_string_value (builder, uuid);
        }
      if (address != NULL)
        {
          json_builder_set_member_name (builder, "address");
          json_builder_add_string_value (builder, address);
        }
      if (offset >= 0)
        {
          json_builder_set_member_name (builder, "offset");
          json_builder_add_int_value (builder, offset);
        }
      if (hex != NULL)
        {
          json_builder_set_member_name (builder, "value");
          json_builder_add_string_value (builder, hex);
        }
      json_builder_end_object (builder);
      out_json (builder);
      return;
    }
  out ("%s%s%s%s%s%s%s\n", event,
       uuid != NULL ? " " : "", uuid != NULL ? uuid : "",
       address != NULL ? " by " : "", address != NULL ? address : "",
       hex != NULL ? ": " : "", hex != NULL ? hex : "");
}

static void
finish (Serve  *serve,
        GError *error)
{
  if (serve->error == NULL)
    serve->error = error;
  else if (error != NULL)
    g_error_free (error);
  g_main_loop_quit (serve->loop);
}

static void
on_read (GObject         *object,
         BleioConnection *connection,
         guint            offset,
         gpointer         user_data)
{
  g_autoptr(GBytes) value = BLEIO_IS_CHARACTERISTIC (object) ?
    bleio_characteristic_dup_value (BLEIO_CHARACTERISTIC (object)) :
    bleio_descriptor_dup_value (BLEIO_DESCRIPTOR (object));

  print_event ("read", object, connection, value, offset);
}

static void
on_written (GObject         *object,
            GBytes          *value,
            BleioConnection *connection,
            gpointer         user_data)
{
  print_event ("write", object, connection, value, -1);
}

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Stream *stream = user_data;
  g_autoptr(GError) error = NULL;

  stream->sending = FALSE;
  if (!bleio_characteristic_write_value_finish (BLEIO_CHARACTERISTIC (source), result, &error))
    {
      /* A client that left before confirming an indication is no reason
       * to stop serving the others. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        note ("bleioctl: a notify stream's value was not confirmed: %s\n", error->message);
    }
}

static gboolean
stream_tick (gpointer user_data)
{
  Stream *stream = user_data;
  GBytes *payload;

  /* An indication still waiting for its confirmation: this turn is
   * skipped rather than queued. */
  if (stream->sending)
    return G_SOURCE_CONTINUE;
  payload = g_ptr_array_index (stream->payloads, stream->next % stream->payloads->len);
  stream->next++;
  stream->sending = TRUE;
  print_event ("notified", G_OBJECT (stream->characteristic), NULL, payload, -1);
  bleio_characteristic_write_value_async (stream->characteristic, payload, ctl.cancellable,
                                          sent_cb, stream);
  return G_SOURCE_CONTINUE;
}

static void
on_notifying_changed (BleioCharacteristic *characteristic,
                      gboolean             notifying,
                      gpointer             user_data)
{
  Serve *serve = user_data;

  print_event (notifying ? "subscribed" : "unsubscribed", G_OBJECT (characteristic), NULL, NULL, -1);
  for (guint i = 0; i < serve->streams->len; i++)
    {
      Stream *stream = g_ptr_array_index (serve->streams, i);

      if (stream->characteristic != characteristic)
        continue;
      if (notifying && stream->timer == 0)
        stream->timer = g_timeout_add (stream->period_ms, stream_tick, stream);
      else if (!notifying)
        g_clear_handle_id (&stream->timer, g_source_remove);
    }
}

/* The services of the file on the adapter, each object's events wired. */
static gboolean
build (Serve      *serve,
       GPtrArray  *specs,
       GError    **error)
{
  for (guint i = 0; i < specs->len; i++)
    {
      ServiceSpec *s = g_ptr_array_index (specs, i);
      g_autoptr(BleioService) service = bleio_service_new (ctl.adapter, s->uuid, !s->primary, error);

      if (service == NULL)
        return FALSE;
      for (guint j = 0; j < s->chars->len; j++)
        {
          CharSpec *c = g_ptr_array_index (s->chars, j);
          g_autoptr(BleioCharacteristic) characteristic =
            bleio_characteristic_add_to_service (service, c->uuid, c->properties, c->read_perm,
                                                 c->write_perm, c->max_length, c->fixed_length,
                                                 c->value, c->description, error);

          if (characteristic == NULL)
            {
              g_prefix_error (error, "gatt[%u].characteristics[%u]: ", i, j);
              return FALSE;
            }
          connect_handler (serve, characteristic, "read", G_CALLBACK (on_read), serve);
          connect_handler (serve, characteristic, "written", G_CALLBACK (on_written), serve);
          connect_handler (serve, characteristic, "notifying-changed",
                           G_CALLBACK (on_notifying_changed), serve);
          if (c->period_ms > 0)
            {
              Stream *stream = g_new0 (Stream, 1);

              stream->serve = serve;
              stream->characteristic = g_object_ref (characteristic);
              stream->payloads = g_ptr_array_ref (c->payloads);
              stream->period_ms = c->period_ms;
              g_ptr_array_add (serve->streams, stream);
            }
          for (guint k = 0; k < c->descs->len; k++)
            {
              DescSpec *d = g_ptr_array_index (c->descs, k);
              g_autoptr(BleioDescriptor) descriptor =
                bleio_descriptor_add_to_characteristic (characteristic, d->uuid, d->read_perm,
                                                        d->write_perm, d->max_length,
                                                        d->fixed_length, d->value, error);

              if (descriptor == NULL)
                {
                  g_prefix_error (error, "gatt[%u].characteristics[%u].descriptors[%u]: ", i, j, k);
                  return FALSE;
                }
              connect_handler (serve, descriptor, "read", G_CALLBACK (on_read), serve);
              connect_handler (serve, descriptor, "written", G_CALLBACK (on_written), serve);
            }
        }
    }
  return TRUE;
}

static GBytes *
build_advertisement (const char *name)
{
  g_autoptr(GByteArray) ad = g_byte_array_new ();
  guint8 flags[3] = { 2, AD_FLAGS, FLAGS_PERIPHERAL };

  g_byte_array_append (ad, flags, sizeof flags);
  if (name != NULL)
    {
      guint8 header[2] = { (guint8) (strlen (name) + 1), AD_NAME_COMPLETE };

      /* Longer names are the library's to refuse, by the AD's length. */
      g_byte_array_append (ad, header, 2);
      g_byte_array_append (ad, (const guint8 *) name, (guint) MIN (strlen (name), 254));
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&ad));
}

static void
restarted_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Serve *serve = user_data;
  GError *error = NULL;

  serve->restarting = FALSE;
  if (!bleio_adapter_start_advertising_finish (BLEIO_ADAPTER (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_clear_error (&error);
      finish (serve, error);
    }
}

/* The last client left: advertise again for the next. */
static void
on_disconnected (BleioConnection       *connection,
                 BleioDisconnectReason  reason,
                 gpointer               user_data)
{
  Serve *serve = user_data;

  print_event ("disconnected", NULL, connection, NULL, -1);
  g_hash_table_remove (serve->links, connection);
  if (g_hash_table_size (serve->links) > 0 || serve->restarting ||
      g_cancellable_is_cancelled (ctl.cancellable) || bleio_adapter_get_advertising (ctl.adapter))
    return;
  serve->restarting = TRUE;
  bleio_adapter_start_advertising_async (ctl.adapter, serve->advertisement, NULL, TRUE, FALSE,
                                         0, 0, 0, NULL, ctl.cancellable, restarted_cb, serve);
}

static void
on_incoming (BleioAdapter    *adapter,
             BleioConnection *connection,
             gpointer         user_data)
{
  Serve *serve = user_data;
  gulong id;

  if (g_hash_table_contains (serve->links, connection))
    return;
  print_event ("connected", NULL, connection, NULL, -1);
  id = g_signal_connect (connection, "disconnected", G_CALLBACK (on_disconnected), serve);
  g_hash_table_insert (serve->links, g_object_ref (connection), GSIZE_TO_POINTER (id));
}

static void
on_ended (BleioAdapter              *adapter,
          BleioAdvertisingEndReason  reason,
          gpointer                   user_data)
{
  Serve *serve = user_data;

  switch (reason)
    {
    case BLEIO_ADVERTISING_END_REASON_CONNECTED:
    case BLEIO_ADVERTISING_END_REASON_BLUEZ_UNAVAILABLE:
      /* Again when the client leaves, or by the library when bluetoothd
       * is back. */
      break;
    case BLEIO_ADVERTISING_END_REASON_ADAPTER_REMOVED:
      finish (serve, g_error_new_literal (BLEIO_ERROR, BLEIO_ERROR_NO_ADAPTER,
                                          "The adapter went away; nothing is served"));
      break;
    case BLEIO_ADVERTISING_END_REASON_ADAPTER_OFF:
      finish (serve, g_error_new_literal (BLEIO_ERROR, BLEIO_ERROR_NOT_READY,
                                          "The adapter was powered off; power it on "
                                          "(bleioctl adapter power on) and serve again"));
      break;
    default:
      finish (serve, g_error_new_literal (BLEIO_ERROR, BLEIO_ERROR_BLUETOOTH,
                                          "bluetoothd ended the advertisement; serve again"));
      break;
    }
}

static void
on_services_restored (BleioAdapter *adapter,
                      gpointer      user_data)
{
  print_event ("restored", NULL, NULL, NULL, -1);
}

static void
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  g_main_loop_quit (user_data);
}

gboolean
cmd_serve (char   **args,
           GError **error)
{
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GPtrArray) specs = NULL;
  g_autofree char *name = NULL;
  Serve serve = { 0 };
  GHashTableIter iter;
  gpointer key, value;
  gulong cancel_id;
  gboolean ok;

  if (args[0] == NULL || args[1] != NULL)
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                           "Usage: bleioctl serve FILE.json (see bleioctl(1) for the format)");
      return FALSE;
    }
  specs = serve_parse_file (args[0], &name, error);
  if (specs == NULL)
    return FALSE;
  if (!open_adapter (error))
    return FALSE;
  loop = g_main_loop_new (NULL, FALSE);
  serve.loop = loop;
  serve.advertisement = build_advertisement (name);
  serve.handlers = g_ptr_array_new_with_free_func (handler_free);
  serve.streams = g_ptr_array_new_with_free_func (stream_free);
  serve.links = g_hash_table_new_full (g_direct_hash, g_direct_equal, g_object_unref, NULL);
  connect_handler (&serve, ctl.adapter, "incoming-connection", G_CALLBACK (on_incoming), &serve);
  connect_handler (&serve, ctl.adapter, "advertising-ended", G_CALLBACK (on_ended), &serve);
  connect_handler (&serve, ctl.adapter, "services-restored", G_CALLBACK (on_services_restored), &serve);
  cancel_id = g_cancellable_connect (ctl.cancellable, G_CALLBACK (on_cancelled), loop, NULL);

  ok = build (&serve, specs, error) &&
       bleio_adapter_publish_services (ctl.adapter, ctl.cancellable, error) &&
       bleio_adapter_start_advertising (ctl.adapter, serve.advertisement, NULL, TRUE, FALSE,
                                        0, 0, 0, NULL, ctl.cancellable, error);
  if (ok)
    {
      g_autoptr(BleioAddress) own = bleio_adapter_dup_address (ctl.adapter);
      g_autofree char *address = own != NULL ? bleio_address_to_bluez_string (own) : g_strdup ("?");

      if (ctl.json)
        {
          g_autoptr(JsonBuilder) builder = json_builder_new ();

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "event");
          json_builder_add_string_value (builder, "serving");
          json_builder_set_member_name (builder, "address");
          json_builder_add_string_value (builder, address);
          json_add_string_or_null (builder, "name", name);
          json_builder_set_member_name (builder, "services");
          json_builder_add_int_value (builder, specs->len);
          json_builder_end_object (builder);
          out_json (builder);
        }
      else
        out ("serving %u service%s as %s%s%s%s\n", specs->len, specs->len == 1 ? "" : "s", address,
             name != NULL ? " (" : "", name != NULL ? name : "", name != NULL ? ")" : "");
      if (!g_cancellable_is_cancelled (ctl.cancellable))
        g_main_loop_run (loop);
    }
  g_cancellable_disconnect (ctl.cancellable, cancel_id);
  /* Ctrl-C, SIGTERM and SIGHUP have cancelled what is pending; let it
   * answer before the objects it points at go. */
  g_cancellable_cancel (ctl.cancellable);
  for (gboolean busy = TRUE; busy;)
    {
      busy = serve.restarting;
      for (guint i = 0; i < serve.streams->len; i++)
        {
          Stream *stream = g_ptr_array_index (serve.streams, i);

          g_clear_handle_id (&stream->timer, g_source_remove);
          busy = busy || stream->sending;
        }
      if (busy)
        g_main_context_iteration (NULL, TRUE);
    }
  if (bleio_adapter_get_advertising (ctl.adapter))
    {
      g_autoptr(GError) local = NULL;

      /* A stop that fails leaves the library's own clean-up at exit. */
      if (!bleio_adapter_stop_advertising (ctl.adapter, ok ? error : &local))
        ok = FALSE;
    }
  g_hash_table_iter_init (&iter, serve.links);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_signal_handler_disconnect (key, GPOINTER_TO_SIZE (value));
  g_hash_table_unref (serve.links);
  g_ptr_array_unref (serve.streams);
  g_ptr_array_unref (serve.handlers);
  g_bytes_unref (serve.advertisement);
  if (ok && serve.error != NULL)
    {
      g_propagate_error (error, serve.error);
      return FALSE;
    }
  g_clear_error (&serve.error);
  return ok;
}
