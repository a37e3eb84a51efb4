/* SPDX-License-Identifier: MIT */
/*
 * The commands that work on the peer's GATT database: services, read,
 * write, notify; and their argument CHARACTERISTIC (HEX is in bleioctl.c).
 */
#include "bleioctl.h"

#include <string.h>

/* ---- arguments ------------------------------------------------------------------ */

/* A service or characteristic on the command line, the same rule for
 * both: 0x-prefixed hex is a handle; four hex digits or the 36-character
 * form is a UUID. */
typedef struct {
  const char *text;
  guint handle;                 /* 0: by UUID */
  BleioUuid *uuid;
} AttributeSpec;

static void
attribute_spec_clear (AttributeSpec *spec)
{
  g_clear_pointer (&spec->uuid, bleio_uuid_free);
}

static gboolean
parse_attribute_spec (const char     *text,
                      const char     *what,
                      AttributeSpec  *spec,
                      GError        **error)
{
  spec->text = text;
  spec->handle = 0;
  spec->uuid = NULL;
  if (g_str_has_prefix (text, "0x") || g_str_has_prefix (text, "0X"))
    {
      const char *digits = text + 2;
      gsize len = strlen (digits);
      guint value = 0;

      if (len == 0 || len > 4)
        goto bad;
      for (gsize i = 0; i < len; i++)
        {
          int d = g_ascii_xdigit_value (digits[i]);

          if (d < 0)
            goto bad;
          value = value * 16 + (guint) d;
        }
      if (value == 0)
        goto bad;
      spec->handle = value;
      return TRUE;
    }
  spec->uuid = bleio_uuid_new_from_string (text, NULL);
  if (spec->uuid != NULL)
    return TRUE;
bad:
  g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
               "'%s' is not a %s: give a UUID (%s, or the 36-character form) "
               "or a handle (0x0012)", text, what, g_str_equal (what, "service") ? "180f" : "2a19");
  return FALSE;
}

static gboolean
attribute_spec_matches (const AttributeSpec *spec,
                        const BleioUuid     *uuid,
                        guint16              handle)
{
  return spec->uuid != NULL ? bleio_uuid_equal (uuid, spec->uuid) : handle == spec->handle;
}

/* ---- services ----------------------------------------------------------------- */

static GPtrArray *
discover (BleioConnection  *connection,
          GError          **error)
{
  GPtrArray *services = NULL;
  CtlWait wait;

  spinner_begin ("discovering services");
  /* libbleio bounds the discovery itself, and says so in its error. */
  ctl_wait_begin (&wait, 0);
  bleio_connection_discover_remote_services_async (connection, NULL, op_timeout (),
                                                   wait.cancellable, ctl_wait_done, &wait);
  if (ctl_wait (&wait, error))
    services = bleio_connection_discover_remote_services_finish (connection, wait.result, error);
  ctl_wait_end (&wait, error);
  spinner_end ();
  if (services == NULL)
    g_prefix_error (error, "Cannot discover the services: ");
  return services;
}

/* The services @specs name, in handle order; every spec must name one. */
static GPtrArray *
select_services (GPtrArray      *services,
                 AttributeSpec  *specs,
                 guint           n_specs,
                 GError        **error)
{
  g_autoptr(GPtrArray) selected = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint k = 0; k < n_specs; k++)
    {
      gboolean found = FALSE;

      for (guint i = 0; i < services->len; i++)
        found |= attribute_spec_matches (&specs[k],
                                         bleio_service_get_uuid (g_ptr_array_index (services, i)),
                                         bleio_service_get_handle (g_ptr_array_index (services, i)));
      if (!found)
        {
          g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_DOES_NOT_EXIST,
                       "The peer has no service %s: list them with bleioctl services ADDRESS",
                       specs[k].text);
          return NULL;
        }
    }
  for (guint i = 0; i < services->len; i++)
    {
      BleioService *service = g_ptr_array_index (services, i);

      for (guint k = 0; k < n_specs; k++)
        if (attribute_spec_matches (&specs[k], bleio_service_get_uuid (service),
                                    bleio_service_get_handle (service)))
          {
            g_ptr_array_add (selected, g_object_ref (service));
            break;
          }
    }
  return g_steal_pointer (&selected);
}

/* services and connect: the GATT tree of args[0], only the services that
 * follow when any do; @keep_link leaves the link up. */
gboolean
show_services (char     **args,
               gboolean   keep_link,
               GError   **error)
{
  guint n_specs = g_strv_length (args) - 1;
  g_autofree AttributeSpec *specs = g_new0 (AttributeSpec, n_specs + 1);
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(GPtrArray) services = NULL;
  gboolean made = FALSE, ok = TRUE;

  for (guint k = 0; ok && k < n_specs; k++)
    ok = parse_attribute_spec (args[k + 1], "service", &specs[k], error);
  if (ok)
    connection = open_connection (args[0], &made, error);
  if (connection != NULL)
    services = discover (connection, error);
  if (services != NULL && n_specs > 0)
    {
      GPtrArray *all = g_steal_pointer (&services);

      services = select_services (all, specs, n_specs, error);
      g_ptr_array_unref (all);
    }
  for (guint k = 0; k < n_specs; k++)
    attribute_spec_clear (&specs[k]);
  if (services == NULL)
    {
      close_connection (connection, made);
      return FALSE;
    }
  if (keep_link && !ctl.json)
    {
      g_autofree char *address = bleio_address_to_bluez_string (bleio_connection_get_address (connection));

      out ("connected to %s\n", address);
    }
  print_services (connection, services);
  if (!keep_link)
    close_connection (connection, made);
  return TRUE;
}

gboolean
cmd_services (char   **args,
              GError **error)
{
  if (!require_address (args, 0, G_MAXUINT - 1, "services ADDRESS [SERVICE...]", error))
    return FALSE;
  return show_services (args, FALSE, error);
}

/* ---- characteristics ------------------------------------------------------------ */

static BleioCharacteristic *
find_characteristic (GPtrArray            *services,
                     const AttributeSpec  *spec,
                     GError              **error)
{
  g_autoptr(GPtrArray) matches = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GString) handles = g_string_new (NULL);

  for (guint i = 0; i < services->len; i++)
    {
      g_autoptr(GPtrArray) characteristics =
        bleio_service_dup_characteristics (g_ptr_array_index (services, i));

      for (guint j = 0; j < characteristics->len; j++)
        {
          BleioCharacteristic *characteristic = g_ptr_array_index (characteristics, j);

          if (attribute_spec_matches (spec, bleio_characteristic_get_uuid (characteristic),
                                      bleio_characteristic_get_handle (characteristic)))
            g_ptr_array_add (matches, g_object_ref (characteristic));
        }
    }
  if (matches->len == 1)
    return g_object_ref (g_ptr_array_index (matches, 0));
  if (matches->len == 0)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_DOES_NOT_EXIST,
                   "The peer has no characteristic %s: list them with bleioctl services", spec->text);
      return NULL;
    }
  for (guint i = 0; i < matches->len; i++)
    g_string_append_printf (handles, "%s0x%04x", i > 0 ? ", " : "",
                            bleio_characteristic_get_handle (g_ptr_array_index (matches, i)));
  g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
               "%u characteristics have the UUID %s (handles %s): give the handle instead",
               matches->len, spec->text, handles->str);
  return NULL;
}

/* Connects, discovers and finds the characteristic of a one-shot command,
 * and checks that it has one of the properties @needed (else the error
 * says @refusal). *connection is set whenever a link was found or made. */
static BleioCharacteristic *
open_characteristic (const char                     *address,
                     const char                     *text,
                     BleioCharacteristicProperties   needed,
                     const char                     *refusal,
                     BleioConnection               **connection,
                     gboolean                       *made,
                     GError                        **error)
{
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioCharacteristic) characteristic = NULL;
  AttributeSpec spec;

  /* Bad input fails before any radio work. */
  if (!parse_attribute_spec (text, "characteristic", &spec, error))
    return NULL;
  *connection = open_connection (address, made, error);
  if (*connection != NULL)
    services = discover (*connection, error);
  if (services != NULL)
    characteristic = find_characteristic (services, &spec, error);
  attribute_spec_clear (&spec);
  if (characteristic != NULL && (bleio_characteristic_get_properties (characteristic) & needed) == 0)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED, "Characteristic %s %s", text,
                   refusal);
      return NULL;
    }
  return g_steal_pointer (&characteristic);
}

gboolean
cmd_read (char   **args,
          GError **error)
{
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioCharacteristic) characteristic = NULL;
  g_autoptr(GBytes) value = NULL;
  gboolean made = FALSE;

  if (!require_address (args, 1, 1, "read ADDRESS CHARACTERISTIC", error))
    return FALSE;
  characteristic = open_characteristic (args[0], args[1], BLEIO_CHARACTERISTIC_PROPERTY_READ,
                                        "cannot be read (see its properties with bleioctl services)",
                                        &connection, &made, error);
  if (characteristic != NULL)
    {
      CtlWait wait;

      ctl_wait_begin (&wait, 0);
      bleio_characteristic_read_value_async (characteristic, wait.cancellable, ctl_wait_done, &wait);
      if (ctl_wait (&wait, error))
        value = bleio_characteristic_read_value_finish (characteristic, wait.result, error);
      ctl_wait_end (&wait, error);
      if (value == NULL)
        g_prefix_error (error, "Cannot read %s: ", args[1]);
    }
  if (value != NULL)
    print_value (connection, characteristic, value);
  close_connection (connection, made);
  return value != NULL;
}

gboolean
cmd_write (char   **args,
           GError **error)
{
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioCharacteristic) characteristic = NULL;
  g_autoptr(GBytes) value = NULL;
  gboolean made = FALSE, ok = FALSE;
  BleioWriteType type = BLEIO_WRITE_TYPE_REQUEST;

  if (!require_address (args, 2, 2, "write ADDRESS CHARACTERISTIC HEX [--no-response]", error))
    return FALSE;
  value = hex_decode (args[2], error);
  if (value == NULL)
    return FALSE;
  characteristic = open_characteristic (args[0], args[1],
                                        BLEIO_CHARACTERISTIC_PROPERTY_WRITE |
                                        BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE,
                                        "cannot be written (see its properties with "
                                        "bleioctl services)", &connection, &made, error);
  if (characteristic != NULL)
    {
      BleioCharacteristicProperties props = bleio_characteristic_get_properties (characteristic);
      CtlWait wait;

      /* A write request unless asked otherwise or the characteristic only
       * takes writes without response. */
      if (ctl.no_response || (props & BLEIO_CHARACTERISTIC_PROPERTY_WRITE) == 0)
        type = BLEIO_WRITE_TYPE_COMMAND;
      ctl_wait_begin (&wait, 0);
      bleio_characteristic_write_value_full_async (characteristic, value, type, 0, wait.cancellable,
                                                   ctl_wait_done, &wait);
      ok = ctl_wait (&wait, error) &&
           bleio_characteristic_write_value_finish (characteristic, wait.result, error);
      ctl_wait_end (&wait, error);
      if (!ok)
        g_prefix_error (error, "Cannot write %s: ", args[1]);
    }
  if (ok)
    print_written (connection, characteristic, value, type);
  close_connection (connection, made);
  return ok;
}

/* ---- notify --------------------------------------------------------------------- */

typedef struct {
  GMainLoop *loop;
  BleioConnection *connection;
  guint received;
  GError *error;
} NotifyState;

static void
on_notification (BleioCharacteristic *characteristic,
                 GBytes              *value,
                 gpointer             user_data)
{
  NotifyState *state = user_data;

  if (ctl.count > 0 && state->received >= (guint) ctl.count)
    return;
  print_value (state->connection, characteristic, value);
  state->received++;
  if (ctl.count > 0 && state->received >= (guint) ctl.count)
    g_main_loop_quit (state->loop);
}

static void
on_disconnected (BleioConnection       *connection,
                 BleioDisconnectReason  reason,
                 gpointer               user_data)
{
  NotifyState *state = user_data;

  if (state->error == NULL)
    state->error = g_error_new_literal (BLEIO_ERROR, BLEIO_ERROR_CONNECTION,
                                        "The link went down while waiting for notifications");
  g_main_loop_quit (state->loop);
}

static void
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  g_main_loop_quit (user_data);
}

/* Subscribes and prints what arrives until --count, Ctrl-C or the link
 * drops; unsubscribes if the link is still up. */
static gboolean
print_notifications (BleioConnection      *connection,
                     BleioCharacteristic  *characteristic,
                     const char           *spec,
                     GError              **error)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  NotifyState state = { loop, connection, 0, NULL };
  gboolean indicate = (bleio_characteristic_get_properties (characteristic) &
                       BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY) == 0;
  gulong notify_id, disconnect_id, cancel_id;
  gboolean subscribed;

  notify_id = g_signal_connect (characteristic, "notification", G_CALLBACK (on_notification), &state);
  disconnect_id = g_signal_connect (connection, "disconnected", G_CALLBACK (on_disconnected), &state);
  cancel_id = g_cancellable_connect (ctl.cancellable, G_CALLBACK (on_cancelled), loop, NULL);
  subscribed = bleio_characteristic_set_cccd (characteristic, !indicate, indicate, error);
  if (!subscribed)
    g_prefix_error (error, "Cannot subscribe to %s: ", spec);
  else if (!g_cancellable_is_cancelled (ctl.cancellable))
    g_main_loop_run (loop);
  g_cancellable_disconnect (ctl.cancellable, cancel_id);
  g_signal_handler_disconnect (characteristic, notify_id);
  g_signal_handler_disconnect (connection, disconnect_id);
  if (!subscribed)
    return FALSE;
  if (bleio_connection_get_connected (connection))
    bleio_characteristic_set_cccd (characteristic, FALSE, FALSE, NULL);
  if (state.error != NULL)
    {
      g_propagate_error (error, state.error);
      return FALSE;
    }
  return TRUE;
}

gboolean
cmd_notify (char   **args,
            GError **error)
{
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioCharacteristic) characteristic = NULL;
  gboolean made = FALSE, ok;

  if (!require_address (args, 1, 1, "notify ADDRESS CHARACTERISTIC [--count N]", error))
    return FALSE;
  characteristic = open_characteristic (args[0], args[1],
                                        BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY |
                                        BLEIO_CHARACTERISTIC_PROPERTY_INDICATE,
                                        "can neither notify nor indicate: read it instead",
                                        &connection, &made, error);
  ok = characteristic != NULL && print_notifications (connection, characteristic, args[1], error);
  close_connection (connection, made);
  return ok;
}
