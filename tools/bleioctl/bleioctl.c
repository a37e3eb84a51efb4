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
#include <math.h>
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

/* The bound of each wait. main() has checked --timeout: it is positive
 * and at most MAX_TIMEOUT for every command but scan. */
double
op_timeout (void)
{
  return ctl.timeout_set ? ctl.timeout : DEFAULT_TIMEOUT;
}

/* --timeout as the commands use it. libbleio turns seconds into a guint of
 * milliseconds, which wraps (to 0: no wait at all) from 2^32 ms, 49.7
 * days, on: no value above MAX_TIMEOUT reaches it. For scan and advertise
 * (open-ended commands), 0, inf and
 * anything above MAX_TIMEOUT mean "until Ctrl-C" (ctl.timeout 0); a wait
 * for a peer, a link or a pairing is capped at MAX_TIMEOUT, and 0 is
 * refused there, since a bound of nothing is no bound a user means. */
static gboolean
parse_timeout (const char  *text,
               gboolean     open_ended,
               GError     **error)
{
  char *end = NULL;
  double timeout;

  if (text == NULL)
    return TRUE;
  timeout = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || isnan (timeout) || timeout < 0)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "--timeout must be a number of seconds, 0 or more, not '%s'", text);
      return FALSE;
    }
  if (open_ended)
    ctl.timeout = timeout > MAX_TIMEOUT ? 0 : timeout;
  else if (timeout == 0)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "--timeout 0 (no limit) is for scan only: give the seconds each wait may "
                   "take, such as --timeout 30");
      return FALSE;
    }
  else
    ctl.timeout = MIN (timeout, MAX_TIMEOUT);
  ctl.timeout_set = TRUE;
  return TRUE;
}

/* HEX: pairs of hex digits, each pair followed by at most one ':', '-'
 * or ' ' before the next, with an optional leading 0x; "" is an empty
 * value, but "0x" alone, a separator doubled or at either end is refused
 * (a typo, most likely, rather than the value meant). */
GBytes *
hex_decode (const char  *text,
            GError     **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  const char *p = text;

  if (g_str_has_prefix (p, "0x") || g_str_has_prefix (p, "0X"))
    {
      p += 2;
      if (*p == '\0')
        goto bad;
    }
  while (*p != '\0')
    {
      int hi = g_ascii_xdigit_value (p[0]);
      int lo = hi >= 0 ? g_ascii_xdigit_value (p[1]) : -1;
      guint8 byte;

      if (hi < 0 || lo < 0)
        goto bad;
      byte = (guint8) (hi * 16 + lo);
      g_byte_array_append (bytes, &byte, 1);
      p += 2;
      if (*p == ':' || *p == '-' || *p == ' ')
        {
          p++;
          if (*p == '\0')
            goto bad;
        }
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
bad:
  g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
               "'%s' is not a hex value: write the bytes as pairs of hex digits, "
               "such as 0102ff or 01:02:ff", text);
  return NULL;
}

/* --passkey: six decimal digits at most, 0 to 999999. */
static gboolean
parse_passkey (const char  *text,
               GError     **error)
{
  guint64 value = 0;

  if (text == NULL)
    {
      ctl.passkey = -1;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (text, 10, 0, 999999, &value, NULL))
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "--passkey must be 0 to 999999, not '%s'", text);
      return FALSE;
    }
  ctl.passkey = (gint64) value;
  return TRUE;
}

/* ---- waiting for libbleio ----------------------------------------------------------- */

/* How long an operation that was cancelled may take to answer before it is
 * abandoned: libbleio answers a cancelled D-Bus call at once, but some of
 * its waits (the one before Pair) do not look at the cancellable. */
#define ABANDON_GRACE_USEC (G_USEC_PER_SEC / 2)

static void
wake_context (GCancellable *cancellable,
              gpointer      user_data)
{
  g_main_context_wakeup (user_data);
}

/* Wakes the loop of ctl_wait() now and then to look at the deadline. */
static gboolean
tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

void
ctl_wait_begin (CtlWait *wait,
                double   timeout)
{
  g_autoptr(GSource) ticker = g_timeout_source_new (50);

  memset (wait, 0, sizeof *wait);
  wait->context = g_main_context_new ();
  wait->cancellable = g_cancellable_new ();
  wait->timeout = timeout;
  wait->deadline = timeout > 0 ? g_get_monotonic_time () + (gint64) (timeout * G_USEC_PER_SEC)
                               : G_MAXINT64;
  g_main_context_push_thread_default (wait->context);
  g_source_set_callback (ticker, tick, NULL, NULL);
  g_source_attach (ticker, wait->context);
  wait->cancel_id = g_cancellable_connect (ctl.cancellable, G_CALLBACK (wake_context),
                                           g_main_context_ref (wait->context),
                                           (GDestroyNotify) g_main_context_unref);
}

void
ctl_wait_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  CtlWait *wait = user_data;

  wait->result = g_object_ref (result);
}

static void
set_timed_out (CtlWait  *wait,
               GError  **error)
{
  g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_TIMEOUT, "gave up after %g s: raise --timeout",
               wait->timeout);
}

gboolean
ctl_wait (CtlWait  *wait,
          GError  **error)
{
  gint64 abandon_at = 0;

  while (wait->result == NULL)
    {
      gint64 now = g_get_monotonic_time ();

      if (abandon_at == 0 && (g_cancellable_is_cancelled (ctl.cancellable) || now >= wait->deadline))
        {
          wait->timed_out = !g_cancellable_is_cancelled (ctl.cancellable);
          g_cancellable_cancel (wait->cancellable);
          abandon_at = now + ABANDON_GRACE_USEC;
        }
      else if (abandon_at != 0 && now >= abandon_at)
        {
          /* Never iterated again, the context keeps the late answer. */
          if (wait->timed_out)
            set_timed_out (wait, error);
          else
            g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Interrupted");
          return FALSE;
        }
      g_main_context_iteration (wait->context, TRUE);
    }
  return TRUE;
}

void
ctl_wait_end (CtlWait  *wait,
              GError  **error)
{
  /* The deadline cancelled the operation: that is a timeout. */
  if (wait->timed_out && error != NULL && g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_error (error);
      set_timed_out (wait, error);
    }
  g_cancellable_disconnect (ctl.cancellable, wait->cancel_id);
  g_main_context_pop_thread_default (wait->context);
  g_clear_object (&wait->result);
  g_clear_object (&wait->cancellable);
  g_clear_pointer (&wait->context, g_main_context_unref);
}

/* ---- dispatch ------------------------------------------------------------------- */

typedef struct {
  const char *name;
  CtlCommandFunc run;
  const char *synopsis;
} Command;

static const Command commands[] = {
  { "scan", cmd_scan, "scan [--name NAME] [--prefix PREFIX] [--min-rssi DBM] [--count N] [--duplicates] [--passive]" },
  { "info", cmd_info, "info ADDRESS" },
  { "connect", cmd_connect, "connect ADDRESS" },
  { "services", cmd_services, "services ADDRESS [SERVICE...]" },
  { "read", cmd_read, "read ADDRESS CHARACTERISTIC" },
  { "write", cmd_write, "write ADDRESS CHARACTERISTIC HEX [--no-response]" },
  { "notify", cmd_notify, "notify ADDRESS CHARACTERISTIC [--count N]" },
  { "pair", cmd_pair, "pair ADDRESS [--passkey N] [--confirm]" },
  { "disconnect", cmd_disconnect, "disconnect ADDRESS" },
  { "advertise", cmd_advertise, "advertise [--name NAME] [--uuid UUID]... [--manufacturer ID=HEX]... "
                                "[--service-data UUID=HEX]... [--raw HEX] [--scan-response HEX] "
                                "[--no-connectable]" },
  { "serve", cmd_serve, "serve FILE.json" },
  { "adapter", cmd_adapter, "adapter [power on|off | name NAME]" },
};

static gboolean
on_signal (gpointer user_data)
{
  g_cancellable_cancel (ctl.cancellable);
  return G_SOURCE_CONTINUE;
}

/* SIGINT, SIGTERM and SIGHUP (the terminal went away) cancel whatever
 * runs, from a thread of their own so that they work while the main
 * thread blocks in a libbleio call; a link the command made is then
 * closed as on any other end. */
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
  int signals[] = { SIGINT, SIGTERM, SIGHUP };

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
                   "\nADDRESS is AA:BB:CC:DD:EE:FF. SERVICE and CHARACTERISTIC are a UUID\n"
                   "(180f, 2a19 or the 36-character form) or, with 0x, a handle (0x0012).\n"
                   "HEX is the value in hex.\n"
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
  g_autofree char *timeout = NULL;
  int min_rssi = G_MININT;
  int count = 0;
  g_autofree char *passkey = NULL;
  int status;
  const GOptionEntry entries[] = {
    { "adapter", 'a', 0, G_OPTION_ARG_STRING, &ctl.adapter_name,
      "Adapter to use (hci0, or its address); default: the first", "NAME" },
    { "timeout", 't', 0, G_OPTION_ARG_STRING, &timeout,
      "Seconds for each wait (scan duration for scan, 0 or inf: until Ctrl-C); default 10",
      "SECONDS" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &ctl.json, "Print JSON, one object per line", NULL },
    { "name", 0, 0, G_OPTION_ARG_STRING, &ctl.name,
      "scan: only this name (complete or short); advertise: the local name to send", "NAME" },
    { "prefix", 0, 0, G_OPTION_ARG_STRING, &ctl.prefix, "scan: only names starting so", "PREFIX" },
    { "min-rssi", 0, 0, G_OPTION_ARG_INT, &min_rssi, "scan: only RSSI at least this", "DBM" },
    { "duplicates", 0, 0, G_OPTION_ARG_NONE, &ctl.duplicates,
      "scan: print every advertisement, not each device once", NULL },
    { "passive", 0, 0, G_OPTION_ARG_NONE, &ctl.passive,
      "scan: scan passively (no scan requests, no scan responses)", NULL },
    { "count", 'n', 0, G_OPTION_ARG_INT, &count,
      "scan, notify: stop after N devices or notifications", "N" },
    { "no-response", 0, 0, G_OPTION_ARG_NONE, &ctl.no_response,
      "write: write without response", NULL },
    { "keep", 'k', 0, G_OPTION_ARG_NONE, &ctl.keep,
      "Leave a link this command made connected", NULL },
    { "address-type", 0, 0, G_OPTION_ARG_STRING, &ctl.address_type,
      "public or random: connect without scanning for the peer first", "TYPE" },
    { "passkey", 0, 0, G_OPTION_ARG_STRING, &passkey,
      "pair: the passkey the peer shows (0-999999)", "N" },
    { "confirm", 0, 0, G_OPTION_ARG_NONE, &ctl.confirm,
      "pair: accept numeric comparison (the passkey is printed)", NULL },
    { "uuid", 0, 0, G_OPTION_ARG_STRING_ARRAY, &ctl.uuids,
      "advertise: a service UUID to advertise (repeat for more)", "UUID" },
    { "manufacturer", 0, 0, G_OPTION_ARG_STRING_ARRAY, &ctl.manufacturer,
      "advertise: manufacturer data, company ID=HEX (repeat for more)", "ID=HEX" },
    { "service-data", 0, 0, G_OPTION_ARG_STRING_ARRAY, &ctl.service_data,
      "advertise: service data, UUID=HEX (repeat for more)", "UUID=HEX" },
    { "raw", 0, 0, G_OPTION_ARG_STRING, &ctl.raw,
      "advertise: raw AD structures appended to the advertisement", "HEX" },
    { "scan-response", 0, 0, G_OPTION_ARG_STRING, &ctl.scan_response,
      "advertise: the scan response, raw AD structures", "HEX" },
    { "no-connectable", 0, 0, G_OPTION_ARG_NONE, &ctl.no_connectable,
      "advertise: a broadcast nobody can connect to", NULL },
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
  ctl.min_rssi = min_rssi;
  ctl.min_rssi_set = min_rssi != G_MININT;
  ctl.count = count;
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
  if (!parse_passkey (passkey, &error) ||
      !parse_timeout (timeout, command->run == cmd_scan || command->run == cmd_advertise ||
                                       command->run == cmd_serve, &error))
    return report_error (error, EXIT_USAGE);
  if (count < 0)
    {
      g_set_error_literal (&error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                           "--count must be 0 or more");
      return report_error (error, EXIT_USAGE);
    }
  if (ctl.adapter_name != NULL && ctl.adapter_name[0] == '\0')
    {
      g_set_error_literal (&error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                           "--adapter needs a name: hci0, or the adapter's address");
      return report_error (error, EXIT_USAGE);
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
  /* A command that succeeded has printed its result, so it exits 0 even
   * when Ctrl-C came afterwards: a result and 130 never go together. */
  spinner_shutdown ();
  g_clear_object (&ctl.adapter);
  g_clear_object (&ctl.cancellable);
  g_free (ctl.adapter_name);
  g_free (ctl.name);
  g_free (ctl.prefix);
  g_free (ctl.address_type);
  g_strfreev (ctl.uuids);
  g_strfreev (ctl.manufacturer);
  g_strfreev (ctl.service_data);
  g_free (ctl.raw);
  g_free (ctl.scan_response);
  return status;
}
