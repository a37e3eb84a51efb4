/* SPDX-License-Identifier: MIT */
/*
 * The adapter and the links: finding or making the link a command needs and
 * leaving it as it was found, and the commands about links and adapters
 * themselves (connect, pair, disconnect, adapter).
 */
#include "bleioctl.h"

/* ---- the adapter and the link every command uses ----------------------------------- */

gboolean
open_adapter (GError **error)
{
  ctl.adapter = bleio_adapter_new_for_name (NULL, ctl.adapter_name, ctl.cancellable, error);
  return ctl.adapter != NULL;
}

BleioConnection *
find_connection (const BleioAddress *address)
{
  g_autoptr(GPtrArray) connections = bleio_adapter_dup_connections (ctl.adapter);

  for (guint i = 0; i < connections->len; i++)
    {
      BleioConnection *connection = g_ptr_array_index (connections, i);

      if (same_address (bleio_connection_get_address (connection), address))
        return g_object_ref (connection);
    }
  return NULL;
}

/* The link to the peer: an existing one (whoever made it), or a new one,
 * after finding the peer by scanning unless --address-type says how to
 * reach it. *made tells whether this process made the link. */
BleioConnection *
open_connection (const char  *address_text,
                 gboolean    *made,
                 GError     **error)
{
  g_autoptr(BleioAddress) address = parse_address (address_text, error);
  g_autoptr(BleioAddress) target = NULL;
  g_autofree char *label = NULL;
  BleioConnection *connection;

  *made = FALSE;
  if (address == NULL || !open_adapter (error))
    return NULL;
  connection = find_connection (address);
  if (connection != NULL)
    return connection;
  if (ctl.address_type != NULL)
    target = bleio_address_copy (address);
  else
    {
      g_autoptr(BleioScanEntry) entry = find_advertiser (address, error);

      if (entry == NULL)
        return NULL;
      target = bleio_address_copy (bleio_scan_entry_get_address (entry));
    }
  label = g_strdup_printf ("connecting to %s", address_text);
  spinner_begin (label);
  connection = bleio_adapter_connect (ctl.adapter, target, op_timeout (), ctl.cancellable, error);
  spinner_end ();
  if (connection == NULL)
    g_prefix_error (error, "Cannot connect to %s: ", address_text);
  *made = connection != NULL;
  return connection;
}

/* Leaves the link as it was found: a link this process made is closed,
 * unless --keep. */
void
close_connection (BleioConnection *connection,
                  gboolean         made)
{
  if (connection == NULL || !made || ctl.keep)
    return;
  bleio_connection_disconnect (connection, NULL);
}

/* ---- connect -------------------------------------------------------------------- */

gboolean
cmd_connect (char   **args,
             GError **error)
{
  if (!require_address (args, 0, 0, "connect ADDRESS", error))
    return FALSE;
  /* connect leaves the link up for the commands that follow. */
  return show_services (args, TRUE, error);
}

/* ---- pair ----------------------------------------------------------------------- */

#define PAIR_DEFAULT_TIMEOUT 60.0

/* Pairing callbacks: they run on libbleio's worker thread and must answer
 * at once, so they only print and compare. */
static void
pair_display (const BleioAddress *peer,
              guint32             passkey,
              guint16             entered,
              gpointer            user_data)
{
  g_autofree char *text = bleio_address_to_bluez_string (peer);

  note ("bleioctl: type the passkey %06u on %s\n", passkey, text);
}

static gboolean
pair_request (const BleioAddress *peer,
              guint32            *passkey,
              gpointer            user_data)
{
  *passkey = (guint32) ctl.passkey;
  return TRUE;
}

static gboolean
pair_confirm (const BleioAddress *peer,
              guint32             passkey,
              gpointer            user_data)
{
  g_autofree char *text = bleio_address_to_bluez_string (peer);
  gboolean accept = ctl.passkey < 0 || (guint32) ctl.passkey == passkey;

  note ("bleioctl: %s passkey %06u shown by %s\n",
        accept ? "confirming" : "rejecting (not the --passkey given)", passkey, text);
  return accept;
}

gboolean
cmd_pair (char   **args,
          GError **error)
{
  g_autoptr(BleioConnection) connection = NULL;
  g_autofree char *address = NULL;
  g_autofree char *line = NULL;
  gboolean made = FALSE, ok;
  CtlWait wait;

  if (!require_address (args, 0, 0, "pair ADDRESS [--passkey N] [--confirm]", error))
    return FALSE;
  connection = open_connection (args[0], &made, error);
  if (connection == NULL)
    return FALSE;
  /* The agent's IO capability follows from the callbacks: none is "just
   * works", --passkey types the peer's passkey, --confirm compares. */
  if (ctl.passkey >= 0 || ctl.confirm)
    bleio_adapter_set_pairing_callbacks (ctl.adapter,
                                         ctl.confirm ? pair_display : NULL,
                                         ctl.passkey >= 0 ? pair_request : NULL,
                                         ctl.confirm ? pair_confirm : NULL,
                                         NULL, NULL);
  spinner_begin ("pairing");
  /* --timeout bounds the whole pairing, libbleio's wait for the GATT
   * browse before Pair included; without it a person at the peer gets a
   * minute to type or compare the passkey. */
  ctl_wait_begin (&wait, ctl.timeout_set ? ctl.timeout : PAIR_DEFAULT_TIMEOUT);
  bleio_connection_pair_async (connection, TRUE, wait.cancellable, ctl_wait_done, &wait);
  ok = ctl_wait (&wait, error) && bleio_connection_pair_finish (connection, wait.result, error);
  ctl_wait_end (&wait, error);
  if (!ok)
    g_prefix_error (error, "Cannot pair with %s: ", args[0]);
  spinner_end ();
  address = bleio_address_to_bluez_string (bleio_connection_get_address (connection));
  line = g_strdup_printf ("paired with %s", address);
  if (ok)
    print_peer_state (address, "paired", TRUE, line);
  close_connection (connection, made);
  return ok;
}

/* ---- disconnect ----------------------------------------------------------------- */

gboolean
cmd_disconnect (char   **args,
                GError **error)
{
  g_autoptr(BleioAddress) address = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;

  if (!require_address (args, 0, 0, "disconnect ADDRESS", error))
    return FALSE;
  address = parse_address (args[0], error);
  if (address == NULL || !open_adapter (error))
    return FALSE;
  text = bleio_address_to_bluez_string (address);
  connection = find_connection (address);
  if (connection == NULL)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_DOES_NOT_EXIST,
                   "%s is not connected to %s: nothing to disconnect", text,
                   bleio_adapter_get_interface_name (ctl.adapter));
      return FALSE;
    }
  if (!bleio_connection_disconnect (connection, error))
    {
      g_prefix_error (error, "Cannot disconnect %s: ", text);
      return FALSE;
    }
  line = g_strdup_printf ("disconnected %s", text);
  print_peer_state (text, "connected", FALSE, line);
  return TRUE;
}

/* ---- adapter -------------------------------------------------------------------- */

static gboolean
parse_on_off (const char  *text,
              gboolean    *on,
              GError     **error)
{
  if (g_str_equal (text, "on") || g_str_equal (text, "yes") || g_str_equal (text, "1"))
    *on = TRUE;
  else if (g_str_equal (text, "off") || g_str_equal (text, "no") || g_str_equal (text, "0"))
    *on = FALSE;
  else
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "'%s' is neither on nor off: use bleioctl adapter power on|off", text);
      return FALSE;
    }
  return TRUE;
}

static gboolean
list_adapters (GError **error)
{
  g_autoptr(GPtrArray) all = NULL;

  if (!open_adapter (error))
    return FALSE;
  if (ctl.adapter_name != NULL)
    {
      print_adapter (ctl.adapter);
      return TRUE;
    }
  all = bleio_adapter_dup_all (ctl.adapter);
  for (guint i = 0; i < all->len; i++)
    print_adapter (g_ptr_array_index (all, i));
  return TRUE;
}

static gboolean
set_power (const char  *state,
           GError     **error)
{
  gboolean on, ok;
  CtlWait wait;

  if (!parse_on_off (state, &on, error) || !open_adapter (error))
    return FALSE;
  ctl_wait_begin (&wait, 0);
  bleio_adapter_set_enabled_async (ctl.adapter, on, wait.cancellable, ctl_wait_done, &wait);
  ok = ctl_wait (&wait, error) && bleio_adapter_set_enabled_finish (ctl.adapter, wait.result, error);
  ctl_wait_end (&wait, error);
  if (!ok)
    {
      g_prefix_error (error, "Cannot power %s %s: ", bleio_adapter_get_interface_name (ctl.adapter),
                      on ? "on" : "off");
      return FALSE;
    }
  print_adapter (ctl.adapter);
  return TRUE;
}

static gboolean
set_name (const char  *name,
          GError     **error)
{
  CtlWait wait;
  gboolean ok;

  if (!open_adapter (error))
    return FALSE;
  /* An empty name gives the adapter back its system name (BlueZ's
   * behaviour); libbleio returns once that shows. */
  ctl_wait_begin (&wait, 0);
  bleio_adapter_set_name_async (ctl.adapter, name, wait.cancellable, ctl_wait_done, &wait);
  ok = ctl_wait (&wait, error) && bleio_adapter_set_name_finish (ctl.adapter, wait.result, error);
  ctl_wait_end (&wait, error);
  if (!ok)
    {
      g_prefix_error (error, "Cannot rename %s: ", bleio_adapter_get_interface_name (ctl.adapter));
      return FALSE;
    }
  print_adapter (ctl.adapter);
  return TRUE;
}

gboolean
cmd_adapter (char   **args,
             GError **error)
{
  guint n = g_strv_length (args);

  if (n == 0)
    return list_adapters (error);
  if (g_str_equal (args[0], "power") && n == 2)
    return set_power (args[1], error);
  if (g_str_equal (args[0], "name") && n == 2)
    return set_name (args[1], error);
  g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                       "Usage: bleioctl adapter [power on|off | name NAME]");
  return FALSE;
}
