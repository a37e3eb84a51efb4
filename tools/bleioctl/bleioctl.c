/* SPDX-License-Identifier: MIT */
/*
 * bleioctl: a scriptable command-line client for Bluetooth LE peripherals,
 * built on libbleio's public API alone (no direct D-Bus). Every invocation
 * is a fresh process: it finds the adapter, finds or connects the peer,
 * does one job and exits with a code that says how it went (see
 * docs/bleioctl.md and bleioctl(1)).
 *
 * This file parses the command line, dispatches to the command and turns
 * its outcome into the exit status; see bleioctl.h for the other files.
 */
#include "bleioctl.h"

#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

Ctl ctl;

/* ---- exit codes ---------------------------------------------------------------- */

static int
exit_code_for (const GError *error)
{
  if (error == NULL)
    return EXIT_OK;
  if (error->domain == G_OPTION_ERROR)
    return EXIT_USAGE;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return EXIT_INTERRUPTED;
  if (error->domain != BLEIO_ERROR)
    return EXIT_FAILURE_GENERIC;
  switch ((BleioError) error->code)
    {
    case BLEIO_ERROR_INVALID_ARGUMENT:
      return EXIT_USAGE;
    case BLEIO_ERROR_DOES_NOT_EXIST:
      return EXIT_NOT_FOUND;
    case BLEIO_ERROR_TIMEOUT:
      return EXIT_TIMEOUT;
    case BLEIO_ERROR_CONNECTION:
      return EXIT_CONNECTION;
    case BLEIO_ERROR_SECURITY:
    case BLEIO_ERROR_NOT_PERMITTED:
    case BLEIO_ERROR_NOT_AUTHORIZED:
      return EXIT_SECURITY;
    case BLEIO_ERROR_NOT_SUPPORTED:
    case BLEIO_ERROR_ROLE:
      return EXIT_NOT_SUPPORTED;
    case BLEIO_ERROR_BLUEZ_UNAVAILABLE:
      return EXIT_BLUEZ_UNAVAILABLE;
    case BLEIO_ERROR_NO_ADAPTER:
    case BLEIO_ERROR_NOT_READY:
      return EXIT_NO_ADAPTER;
    case BLEIO_ERROR_IN_PROGRESS:
      return EXIT_BUSY;
    case BLEIO_ERROR_BLUETOOTH:
    case BLEIO_ERROR_ALREADY_EXISTS:
    case BLEIO_ERROR_INVALID_VALUE:
    default:
      return EXIT_FAILURE_GENERIC;
    }
}

/* ---- arguments every command shares ---------------------------------------------- */

gboolean
require_address (char       **args,
                 guint        extra_min,
                 guint        extra_max,
                 const char  *usage,
                 GError     **error)
{
  guint n = g_strv_length (args);

  if (n < 1 + extra_min || n > 1 + extra_max)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT, "Usage: bleioctl %s", usage);
      return FALSE;
    }
  return TRUE;
}

BleioAddress *
parse_address (const char  *text,
               GError     **error)
{
  g_autoptr(GError) local = NULL;
  BleioAddress *address;

  if (ctl.address_type != NULL && !g_str_equal (ctl.address_type, "public"))
    {
      if (!g_str_has_prefix (ctl.address_type, "random"))
        {
          g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                       "Unknown address type '%s': use public or random", ctl.address_type);
          return NULL;
        }
      /* The random sub-type follows from the address itself. */
      address = bleio_address_new_from_bluez (text, "random", &local);
    }
  else
    address = bleio_address_new_from_string (text, BLEIO_ADDRESS_TYPE_PUBLIC, &local);
  if (address == NULL)
    g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                 "'%s' is not a Bluetooth address: write it as AA:BB:CC:DD:EE:FF", text);
  return address;
}

gboolean
same_address (const BleioAddress *a,
            const BleioAddress *b)
{
  return memcmp (bleio_address_get_bytes (a), bleio_address_get_bytes (b), 6) == 0;
}

double
op_timeout (void)
{
  return ctl.timeout > 0 ? ctl.timeout : DEFAULT_TIMEOUT;
}

/* ---- dispatch ------------------------------------------------------------------- */

typedef struct {
  const char *name;
  CtlCommandFunc run;
  const char *synopsis;
} Command;

static const Command commands[] = {
  { "scan", cmd_scan, "scan [--name NAME] [--prefix PREFIX] [--min-rssi DBM] [--count N]" },
  { "info", cmd_info, "info ADDRESS" },
  { "connect", cmd_connect, "connect ADDRESS" },
  { "services", cmd_services, "services ADDRESS [UUID...]" },
  { "read", cmd_read, "read ADDRESS CHARACTERISTIC" },
  { "write", cmd_write, "write ADDRESS CHARACTERISTIC HEX [--no-response]" },
  { "notify", cmd_notify, "notify ADDRESS CHARACTERISTIC [--count N]" },
  { "pair", cmd_pair, "pair ADDRESS [--passkey N] [--confirm]" },
  { "disconnect", cmd_disconnect, "disconnect ADDRESS" },
  { "adapter", cmd_adapter, "adapter [power on|off | name NAME]" },
};

static gboolean
on_signal (gpointer user_data)
{
  g_cancellable_cancel (ctl.cancellable);
  return G_SOURCE_CONTINUE;
}

/* SIGINT and SIGTERM cancel whatever runs, from a thread of their own so
 * that they work while the main thread blocks in a libbleio call. */
static gpointer
signal_thread (gpointer user_data)
{
  GMainContext *context = user_data;

  for (;;)
    g_main_context_iteration (context, TRUE);
  return NULL;
}

static void
watch_signals (void)
{
  GMainContext *context = g_main_context_new ();
  int signals[] = { SIGINT, SIGTERM };

  for (gsize i = 0; i < G_N_ELEMENTS (signals); i++)
    {
      GSource *source = g_unix_signal_source_new (signals[i]);

      g_source_set_callback (source, on_signal, NULL, NULL);
      g_source_attach (source, context);
      g_source_unref (source);
    }
  /* The thread lives as long as the process. */
  g_thread_unref (g_thread_new ("bleioctl-signals", signal_thread, context));
}

/* ---- main --------------------------------------------------------------------- */

static char *
usage_text (void)
{
  GString *text = g_string_new ("Commands:\n");

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (text, "  %s\n", commands[i].synopsis);
  g_string_append (text,
                   "\nADDRESS is AA:BB:CC:DD:EE:FF. CHARACTERISTIC is a UUID (2a19 or the\n"
                   "36-character form) or a handle (0x0012). HEX is the value in hex.\n"
                   "Exit codes: 0 ok, 1 failed, 2 usage, 3 not found, 4 timeout,\n"
                   "5 connection, 6 security, 7 not supported, 8 bluetoothd unavailable,\n"
                   "9 no adapter, 10 busy, 130 interrupted. See bleioctl(1).");
  return g_string_free (text, FALSE);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *description = NULL;
  g_auto(GStrv) args = NULL;
  const Command *command = NULL;
  double timeout = -1;
  int min_rssi = G_MININT;
  int count = 0;
  int passkey = -1;
  int status;
  const GOptionEntry entries[] = {
    { "adapter", 'a', 0, G_OPTION_ARG_STRING, &ctl.adapter_name,
      "Adapter to use (hci0, or its address); default: the first", "NAME" },
    { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &timeout,
      "Seconds for each wait (scan duration for scan); default 10", "SECONDS" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &ctl.json, "Print JSON, one object per line", NULL },
    { "name", 0, 0, G_OPTION_ARG_STRING, &ctl.name, "scan: only this name (complete or short)", "NAME" },
    { "prefix", 0, 0, G_OPTION_ARG_STRING, &ctl.prefix, "scan: only names starting so", "PREFIX" },
    { "min-rssi", 0, 0, G_OPTION_ARG_INT, &min_rssi, "scan: only RSSI at least this", "DBM" },
    { "duplicates", 0, 0, G_OPTION_ARG_NONE, &ctl.duplicates,
      "scan: print every advertisement, not each device once", NULL },
    { "count", 'n', 0, G_OPTION_ARG_INT, &count,
      "scan, notify: stop after N devices or notifications", "N" },
    { "no-response", 0, 0, G_OPTION_ARG_NONE, &ctl.no_response,
      "write: write without response", NULL },
    { "keep", 'k', 0, G_OPTION_ARG_NONE, &ctl.keep,
      "Leave a link this command made connected", NULL },
    { "address-type", 0, 0, G_OPTION_ARG_STRING, &ctl.address_type,
      "public or random: connect without scanning for the peer first", "TYPE" },
    { "passkey", 0, 0, G_OPTION_ARG_INT, &passkey,
      "pair: the passkey the peer shows (0-999999)", "N" },
    { "confirm", 0, 0, G_OPTION_ARG_NONE, &ctl.confirm,
      "pair: accept numeric comparison (the passkey is printed)", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &ctl.version, "Print the version", NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");
  context = g_option_context_new ("COMMAND [ARGS...]");
  g_option_context_set_summary (context, "Talk to Bluetooth LE peripherals through BlueZ and libbleio.");
  description = usage_text ();
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, entries, NULL);
  args = g_strdupv (argv);
  if (!g_option_context_parse_strv (context, &args, &error))
    {
      fprintf (stderr, "bleioctl: %s (see bleioctl --help)\n", error->message);
      return EXIT_USAGE;
    }
  if (ctl.version)
    {
      printf ("bleioctl %s\n", BLEIOCTL_VERSION);
      return EXIT_OK;
    }
  ctl.timeout = timeout;
  ctl.timeout_set = timeout >= 0;
  ctl.min_rssi = min_rssi;
  ctl.min_rssi_set = min_rssi != G_MININT;
  ctl.count = count;
  ctl.passkey = passkey;
  if (passkey < -1 || passkey > 999999)
    {
      fprintf (stderr, "bleioctl: --passkey must be 0 to 999999\n");
      return EXIT_USAGE;
    }
  if (count < 0)
    {
      fprintf (stderr, "bleioctl: --count must be 0 or more\n");
      return EXIT_USAGE;
    }
  if (args[1] == NULL)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

      fprintf (stderr, "%s", help);
      return EXIT_USAGE;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (args[1], commands[i].name))
      command = &commands[i];
  if (command == NULL)
    {
      fprintf (stderr, "bleioctl: unknown command '%s' (see bleioctl --help)\n", args[1]);
      return EXIT_USAGE;
    }

  ctl.progress = !ctl.json && isatty (STDOUT_FILENO) && isatty (STDERR_FILENO);
  ctl.cancellable = g_cancellable_new ();
  watch_signals ();

  if (command->run (args + 2, &error))
    status = EXIT_OK;
  else if (error == NULL)
    status = EXIT_FAILURE_GENERIC;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autoptr(GError) interrupted =
        g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             "Interrupted; what was in progress was undone");

      status = report_error (interrupted, EXIT_INTERRUPTED);
    }
  else
    status = report_error (error, exit_code_for (error));
  /* Interrupting a scan or notify is how they are meant to end. */
  if (status == EXIT_OK && g_cancellable_is_cancelled (ctl.cancellable) &&
      command->run != cmd_scan && command->run != cmd_notify)
    status = EXIT_INTERRUPTED;

  spinner_shutdown ();
  g_clear_object (&ctl.adapter);
  g_clear_object (&ctl.cancellable);
  g_free (ctl.adapter_name);
  g_free (ctl.name);
  g_free (ctl.prefix);
  g_free (ctl.address_type);
  return status;
}
