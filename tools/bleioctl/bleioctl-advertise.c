/* SPDX-License-Identifier: MIT */
/*
 * bleioctl advertise: the peripheral side from the command line. The
 * options become raw AD structures (what `_bleio`'s start_advertising
 * takes), the library turns those into BlueZ's advertisement, and the
 * command then reports the centrals that connect and leave until the
 * timeout, Ctrl-C, SIGTERM or SIGHUP, unregistering on the way out.
 *
 * A connectable advertisement ends when a central connects (as in
 * `_bleio`); the command starts it again when that central leaves, so that
 * it keeps being a peripheral others can find.
 */
#include "bleioctl.h"

#include <string.h>

/* AD types (Bluetooth Core Supplement, part A). */
enum {
  AD_FLAGS = 0x01,
  AD_UUID16_COMPLETE = 0x03,
  AD_UUID128_COMPLETE = 0x07,
  AD_NAME_COMPLETE = 0x09,
  AD_SERVICE_DATA16 = 0x16,
  AD_SERVICE_DATA128 = 0x21,
  AD_MANUFACTURER = 0xff,
};

/* LE General Discoverable, BR/EDR not supported. */
#define FLAGS_PERIPHERAL 0x06

/* ---- building the advertisement ---------------------------------------------- */

static void
append_ad (GByteArray   *ad,
           guint8        type,
           const guint8 *data,
           gsize         len)
{
  guint8 header[2] = { (guint8) (len + 1), type };

  g_byte_array_append (ad, header, 2);
  g_byte_array_append (ad, data, (guint) len);
}

static BleioUuid *
parse_ad_uuid (const char  *text,
               const char  *option,
               GError     **error)
{
  BleioUuid *uuid = bleio_uuid_new_from_string (text, NULL);

  if (uuid == NULL)
    g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                 "%s '%s' is not a UUID: give 180f or the 36-character form", option, text);
  return uuid;
}

/* KEY=HEX, for --manufacturer and --service-data. */
static gboolean
split_pair (const char  *text,
            const char  *option,
            char       **key,
            GBytes     **value,
            GError     **error)
{
  const char *equals = strchr (text, '=');

  if (equals == NULL || equals == text)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "%s '%s' needs the form KEY=HEX, e.g. %s", option, text,
                   g_str_equal (option, "--manufacturer") ? "0x0059=0102" : "180f=64");
      return FALSE;
    }
  *value = hex_decode (equals + 1, error);
  if (*value == NULL)
    return FALSE;
  *key = g_strndup (text, (gsize) (equals - text));
  return TRUE;
}

static gboolean
append_uuids (GByteArray  *ad,
              GError     **error)
{
  g_autoptr(GByteArray) short_uuids = g_byte_array_new ();
  g_autoptr(GByteArray) long_uuids = g_byte_array_new ();

  for (guint i = 0; ctl.uuids != NULL && ctl.uuids[i] != NULL; i++)
    {
      g_autoptr(BleioUuid) uuid = parse_ad_uuid (ctl.uuids[i], "--uuid", error);
      guint8 packed[16];
      guint size;

      if (uuid == NULL)
        return FALSE;
      size = bleio_uuid_get_size (uuid) == 16 ? 2 : 16;
      if (!bleio_uuid_pack_into (uuid, packed, sizeof packed, 0, error))
        return FALSE;
      g_byte_array_append (size == 2 ? short_uuids : long_uuids, packed, size);
    }
  if (short_uuids->len > 0)
    append_ad (ad, AD_UUID16_COMPLETE, short_uuids->data, short_uuids->len);
  if (long_uuids->len > 0)
    append_ad (ad, AD_UUID128_COMPLETE, long_uuids->data, long_uuids->len);
  return TRUE;
}

static gboolean
append_manufacturer (GByteArray  *ad,
                     GError     **error)
{
  for (guint i = 0; ctl.manufacturer != NULL && ctl.manufacturer[i] != NULL; i++)
    {
      g_autofree char *key = NULL;
      g_autoptr(GBytes) value = NULL;
      g_autoptr(GByteArray) field = g_byte_array_new ();
      guint64 id;
      char *end = NULL;
      guint8 le[2];

      if (!split_pair (ctl.manufacturer[i], "--manufacturer", &key, &value, error))
        return FALSE;
      id = g_ascii_strtoull (key, &end, 0);
      if (end == NULL || *end != '\0' || id > 0xffff)
        {
          g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                       "--manufacturer '%s': the company ID must be 0 to 0xffff", key);
          return FALSE;
        }
      le[0] = (guint8) (id & 0xff);
      le[1] = (guint8) (id >> 8);
      g_byte_array_append (field, le, 2);
      g_byte_array_append (field, g_bytes_get_data (value, NULL), (guint) g_bytes_get_size (value));
      append_ad (ad, AD_MANUFACTURER, field->data, field->len);
    }
  return TRUE;
}

static gboolean
append_service_data (GByteArray  *ad,
                     GError     **error)
{
  for (guint i = 0; ctl.service_data != NULL && ctl.service_data[i] != NULL; i++)
    {
      g_autofree char *key = NULL;
      g_autoptr(GBytes) value = NULL;
      g_autoptr(BleioUuid) uuid = NULL;
      g_autoptr(GByteArray) field = g_byte_array_new ();
      guint8 packed[16];
      guint size;

      if (!split_pair (ctl.service_data[i], "--service-data", &key, &value, error))
        return FALSE;
      uuid = parse_ad_uuid (key, "--service-data", error);
      if (uuid == NULL || !bleio_uuid_pack_into (uuid, packed, sizeof packed, 0, error))
        return FALSE;
      size = bleio_uuid_get_size (uuid) == 16 ? 2 : 16;
      g_byte_array_append (field, packed, size);
      g_byte_array_append (field, g_bytes_get_data (value, NULL), (guint) g_bytes_get_size (value));
      append_ad (ad, size == 2 ? AD_SERVICE_DATA16 : AD_SERVICE_DATA128, field->data, field->len);
    }
  return TRUE;
}

/* The advertising data the options describe, in the order a peripheral
 * usually sends it; --raw is appended as given. The library checks the
 * result (lengths, what BlueZ can carry) and names what is wrong. */
static GBytes *
build_advertisement (gboolean   connectable,
                     GError   **error)
{
  g_autoptr(GByteArray) ad = g_byte_array_new ();

  if (connectable)
    {
      guint8 flags = FLAGS_PERIPHERAL;

      append_ad (ad, AD_FLAGS, &flags, 1);
    }
  if (!append_uuids (ad, error) || !append_manufacturer (ad, error) ||
      !append_service_data (ad, error))
    return NULL;
  if (ctl.name != NULL)
    append_ad (ad, AD_NAME_COMPLETE, (const guint8 *) ctl.name, strlen (ctl.name));
  if (ctl.raw != NULL)
    {
      g_autoptr(GBytes) raw = hex_decode (ctl.raw, error);

      if (raw == NULL)
        return NULL;
      g_byte_array_append (ad, g_bytes_get_data (raw, NULL), (guint) g_bytes_get_size (raw));
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&ad));
}

/* ---- running ---------------------------------------------------------------------- */

/* hci0: the last element of the adapter's object path. */
static const char *
adapter_label (void)
{
  const char *path = bleio_adapter_get_object_path (ctl.adapter);
  const char *slash = strrchr (path, '/');

  return slash != NULL ? slash + 1 : path;
}

typedef struct {
  GMainLoop *loop;
  GBytes *data;
  GBytes *scan_response;
  gboolean connectable;
  guint timeout;                /* s, 0: none */
  gint64 deadline;              /* monotonic µs, 0: none */
  gboolean ended;               /* the run is over (timeout, error, signal) */
  gboolean restarting;          /* a start after a central left is pending */
  GError *error;
  GHashTable *links;            /* BleioConnection* -> handler id (gulong in a pointer) */
} Advertise;

static void
print_event (const char      *event,
             BleioConnection *connection,
             const char      *reason)
{
  g_autofree char *address = connection != NULL ?
    bleio_address_to_bluez_string (bleio_connection_get_address (connection)) : NULL;

  if (ctl.json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "event");
      json_builder_add_string_value (builder, event);
      json_builder_set_member_name (builder, "adapter");
      json_builder_add_string_value (builder, adapter_label ());
      if (address != NULL)
        {
          json_builder_set_member_name (builder, "address");
          json_builder_add_string_value (builder, address);
        }
      if (reason != NULL)
        {
          json_builder_set_member_name (builder, "reason");
          json_builder_add_string_value (builder, reason);
        }
      json_builder_end_object (builder);
      out_json (builder);
    }
  else if (address != NULL && reason != NULL)
    out ("%s %s (%s)\n", event, address, reason);
  else if (address != NULL)
    out ("%s %s\n", event, address);
  else if (reason != NULL)
    out ("%s on %s (%s)\n", event, adapter_label (), reason);
  else
    out ("%s on %s\n", event, adapter_label ());
}

static const char *
enum_nick (GType type,
           int   value)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (type);
  GEnumValue *found = g_enum_get_value (klass, value);

  return found != NULL ? found->value_nick : "unknown";
}

static void
finish (Advertise *adv,
        GError    *error)
{
  if (adv->error == NULL)
    adv->error = error;
  else if (error != NULL)
    g_error_free (error);
  adv->ended = TRUE;
  g_main_loop_quit (adv->loop);
}

/* The remaining advertising time, or 0 when none is left or none was set. */
static guint
remaining_seconds (Advertise *adv,
                   gboolean  *over)
{
  gint64 left;

  *over = FALSE;
  if (adv->deadline == 0)
    return 0;
  left = adv->deadline - g_get_monotonic_time ();
  if (left <= 0)
    {
      *over = TRUE;
      return 0;
    }
  return (guint) ((left + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
}

/* The BlueZ Timeout for what is left of --timeout: 0 for none, also
 * when more is left than BlueZ's Timeout holds (the command's own
 * deadline ends it then). *over: the time is up already. */
static guint
bluez_timeout (Advertise *adv,
               gboolean  *over)
{
  guint timeout = remaining_seconds (adv, over);

  return timeout > G_MAXUINT16 ? 0 : timeout;
}

static gboolean
start (Advertise  *adv,
       GError    **error)
{
  gboolean over;
  guint timeout = bluez_timeout (adv, &over);

  if (over)
    {
      finish (adv, NULL);
      return TRUE;
    }
  return bleio_adapter_start_advertising (ctl.adapter, adv->data, adv->scan_response,
                                          adv->connectable, FALSE, timeout, 0, 0, NULL,
                                          ctl.cancellable, error);
}

static void
restarted_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Advertise *adv = user_data;
  GError *error = NULL;

  adv->restarting = FALSE;
  if (!bleio_adapter_start_advertising_finish (BLEIO_ADAPTER (source), result, &error))
    {
      /* Ctrl-C, SIGTERM and SIGHUP end the command normally. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_clear_error (&error);
      finish (adv, error);
    }
  else if (!adv->ended)
    print_event ("advertising", NULL, NULL);
}

/* The last central left: advertise again. Asynchronously, since this runs
 * in the loop of the context the library reports to. */
static void
on_disconnected (BleioConnection       *connection,
                 BleioDisconnectReason  reason,
                 gpointer               user_data)
{
  Advertise *adv = user_data;
  gboolean over;
  guint timeout;

  print_event ("disconnected", connection,
               enum_nick (BLEIO_TYPE_DISCONNECT_REASON, (int) reason));
  g_hash_table_remove (adv->links, connection);
  if (adv->ended || bleio_adapter_get_advertising (ctl.adapter) ||
      g_hash_table_size (adv->links) > 0)
    return;
  timeout = bluez_timeout (adv, &over);
  if (over)
    {
      print_event ("stopped", NULL, "timeout");
      finish (adv, NULL);
      return;
    }
  adv->restarting = TRUE;
  bleio_adapter_start_advertising_async (ctl.adapter, adv->data, adv->scan_response,
                                         adv->connectable, FALSE, timeout, 0, 0, NULL,
                                         ctl.cancellable, restarted_cb, adv);
}

static void
on_incoming (BleioAdapter    *adapter,
             BleioConnection *connection,
             gpointer         user_data)
{
  Advertise *adv = user_data;
  gulong id;

  if (g_hash_table_contains (adv->links, connection))
    return;
  print_event ("connected", connection, NULL);
  id = g_signal_connect (connection, "disconnected", G_CALLBACK (on_disconnected), adv);
  g_hash_table_insert (adv->links, g_object_ref (connection), GSIZE_TO_POINTER (id));
}

static void
on_ended (BleioAdapter              *adapter,
          BleioAdvertisingEndReason  reason,
          gpointer                   user_data)
{
  Advertise *adv = user_data;
  const char *nick = enum_nick (BLEIO_TYPE_ADVERTISING_END_REASON, (int) reason);

  switch (reason)
    {
    case BLEIO_ADVERTISING_END_REASON_CONNECTED:
      /* Started again when the central leaves. */
      print_event ("paused", NULL, nick);
      break;
    case BLEIO_ADVERTISING_END_REASON_BLUEZ_UNAVAILABLE:
      /* The library registers it again when bluetoothd is back. */
      print_event ("paused", NULL, nick);
      break;
    case BLEIO_ADVERTISING_END_REASON_TIMEOUT:
    case BLEIO_ADVERTISING_END_REASON_STOPPED:
      print_event ("stopped", NULL, nick);
      finish (adv, NULL);
      break;
    case BLEIO_ADVERTISING_END_REASON_ADAPTER_REMOVED:
      finish (adv, g_error_new (BLEIO_ERROR, BLEIO_ERROR_NO_ADAPTER,
                                "Advertising ended: the adapter %s went away",
                                adapter_label ()));
      break;
    case BLEIO_ADVERTISING_END_REASON_ADAPTER_OFF:
      finish (adv, g_error_new (BLEIO_ERROR, BLEIO_ERROR_NOT_READY,
                                "Advertising ended: the adapter %s was powered off; "
                                "power it on (bleioctl adapter power on) and start again",
                                adapter_label ()));
      break;
    case BLEIO_ADVERTISING_END_REASON_RELEASED:
    case BLEIO_ADVERTISING_END_REASON_RESTORE_FAILED:
    default:
      finish (adv, g_error_new (BLEIO_ERROR, BLEIO_ERROR_BLUETOOTH,
                                "Advertising ended: bluetoothd %s",
                                reason == BLEIO_ADVERTISING_END_REASON_RELEASED ?
                                "released the advertisement" :
                                "refused the advertisement again after a restart"));
      break;
    }
}

static void
on_restored (BleioAdapter *adapter,
             gpointer      user_data)
{
  print_event ("advertising", NULL, "restored");
}

/* BlueZ's Timeout ends a running advertisement; this ends the command
 * when the time is up while a central holds the link, or when the time
 * asked for is more than BlueZ's Timeout can hold. */
static gboolean
on_deadline (gpointer user_data)
{
  Advertise *adv = user_data;
  gboolean over;

  remaining_seconds (adv, &over);
  if (over && !adv->ended)
    {
      print_event ("stopped", NULL, "timeout");
      finish (adv, NULL);
    }
  return G_SOURCE_CONTINUE;
}

static void
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  g_main_loop_quit (user_data);
}

gboolean
cmd_advertise (char   **args,
               GError **error)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Advertise adv = { loop, NULL, NULL, !ctl.no_connectable, 0, 0, FALSE, FALSE, NULL, NULL };
  gulong incoming_id, ended_id, restored_id, cancel_id;
  guint deadline_id = 0;
  GHashTableIter iter;
  gpointer key, value;
  gboolean ok;

  if (args[0] != NULL)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "advertise takes options only, not '%s'", args[0]);
      return FALSE;
    }
  adv.data = build_advertisement (adv.connectable, error);
  if (adv.data == NULL)
    return FALSE;
  if (ctl.scan_response != NULL)
    {
      adv.scan_response = hex_decode (ctl.scan_response, error);
      if (adv.scan_response == NULL)
        {
          g_bytes_unref (adv.data);
          return FALSE;
        }
    }
  /* No --timeout, 0 or inf: until Ctrl-C. */
  if (ctl.timeout_set && ctl.timeout > 0)
    adv.deadline = g_get_monotonic_time () + (gint64) (ctl.timeout * G_USEC_PER_SEC);
  if (!open_adapter (error))
    {
      g_clear_pointer (&adv.data, g_bytes_unref);
      g_clear_pointer (&adv.scan_response, g_bytes_unref);
      return FALSE;
    }
  adv.links = g_hash_table_new_full (g_direct_hash, g_direct_equal, g_object_unref, NULL);
  incoming_id = g_signal_connect (ctl.adapter, "incoming-connection", G_CALLBACK (on_incoming), &adv);
  ended_id = g_signal_connect (ctl.adapter, "advertising-ended", G_CALLBACK (on_ended), &adv);
  restored_id = g_signal_connect (ctl.adapter, "advertising-restored", G_CALLBACK (on_restored), &adv);
  cancel_id = g_cancellable_connect (ctl.cancellable, G_CALLBACK (on_cancelled), loop, NULL);

  ok = start (&adv, error);
  if (ok && !adv.ended)
    {
      print_event ("advertising", NULL, NULL);
      if (adv.deadline != 0)
        deadline_id = g_timeout_add_seconds (1, on_deadline, &adv);
      if (!g_cancellable_is_cancelled (ctl.cancellable))
        g_main_loop_run (loop);
    }
  if (deadline_id != 0)
    g_source_remove (deadline_id);
  g_cancellable_disconnect (ctl.cancellable, cancel_id);
  g_signal_handler_disconnect (ctl.adapter, incoming_id);
  g_signal_handler_disconnect (ctl.adapter, ended_id);
  g_signal_handler_disconnect (ctl.adapter, restored_id);
  /* A start still pending holds a pointer to adv: let it finish (a signal
   * has cancelled it already). */
  while (adv.restarting)
    g_main_context_iteration (NULL, TRUE);
  /* Ctrl-C, SIGTERM and SIGHUP end an advertisement normally: take it
   * off the air (the library also does on exit, but a stop reports an
   * error bluetoothd gives) and leave the centrals' links alone. */
  if (ok && bleio_adapter_get_advertising (ctl.adapter))
    ok = bleio_adapter_stop_advertising (ctl.adapter, error);
  g_hash_table_iter_init (&iter, adv.links);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_signal_handler_disconnect (key, GPOINTER_TO_SIZE (value));
  g_hash_table_unref (adv.links);
  g_bytes_unref (adv.data);
  g_clear_pointer (&adv.scan_response, g_bytes_unref);
  if (ok && adv.error != NULL)
    {
      g_propagate_error (error, adv.error);
      return FALSE;
    }
  g_clear_error (&adv.error);
  return ok;
}
