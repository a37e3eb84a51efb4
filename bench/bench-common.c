/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the libbleio-versus-raw-GDBus benchmarks; see bench-common.h.
 */
#include "bench-common.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef HAVE_CALLGRIND_H
#include <valgrind/callgrind.h>
#endif

static char *program_name;

static void G_GNUC_NORETURN G_GNUC_PRINTF (1, 2)
die (const char *format,
     ...)
{
  va_list ap;
  g_autofree char *message = NULL;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_printerr ("%s: %s\n", program_name != NULL ? program_name : g_get_prgname (),
              message);
  exit (1);
}

SimFixture *
bench_sim_new (const char *json)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  SimFixture *fx;
  int fd = -1;

  program_name = g_strdup (g_get_prgname ());
  if (json != NULL)
    {
      fd = g_file_open_tmp ("bleio-bench-XXXXXX.json", &path, &error);
      if (fd < 0)
        die ("scenario file: %s", error->message);
      close (fd);
      if (!g_file_set_contents (path, json, -1, &error))
        die ("scenario file %s: %s", path, error->message);
    }
  fx = sim_fixture_new (path, &error);
  if (path != NULL)
    g_unlink (path);
  if (fx == NULL)
    die ("the simulator: %s", error->message);
  return fx;
}

GDBusConnection *
bench_connection_new (SimFixture *fx)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection;

  connection = g_dbus_connection_new_for_address_sync (sim_fixture_get_address (fx),
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                       G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                       NULL, NULL, &error);
  if (connection == NULL)
    die ("connecting to the private bus: %s", error->message);
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  return connection;
}

void
bench_connection_free (GDBusConnection *connection)
{
  if (connection == NULL)
    return;
  g_dbus_connection_close_sync (connection, NULL, NULL);
  g_object_unref (connection);
}

void
bench_sim_call (SimFixture *fx,
                const char *method,
                GVariant   *params)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = sim_fixture_call (fx, method, params, &error);

  if (reply == NULL)
    die ("org.bleio.Sim1.%s: %s", method, error->message);
}

BleioAdapter *
bench_adapter (GDBusConnection *connection)
{
  g_autoptr(GError) error = NULL;
  BleioAdapter *adapter = bleio_adapter_new_for_name (connection, "hci0", NULL, &error);

  if (adapter == NULL)
    die ("bleio_adapter_new_for_name: %s", error->message);
  return adapter;
}

BleioConnection *
bench_lib_connect (BleioAdapter *adapter,
                   const char   *address,
                   GPtrArray   **services)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAddress) peer = NULL;
  BleioConnection *connection;
  /* Under valgrind everything in this process runs tens of times slower. */
  double slow = bench_under_valgrind () ? 20 : 1;

  peer = bleio_address_new_from_string (address, BLEIO_ADDRESS_TYPE_PUBLIC, &error);
  if (peer == NULL)
    die ("%s: %s", address, error->message);
  connection = bleio_adapter_connect (adapter, peer, 30 * slow, NULL, &error);
  if (connection == NULL)
    die ("bleio_adapter_connect %s: %s", address, error->message);
  if (services != NULL)
    {
      *services = bleio_connection_discover_remote_services (connection, NULL, 60 * slow, &error);
      if (*services == NULL)
        die ("discover_remote_services %s: %s", address, error->message);
    }
  return connection;
}

BleioCharacteristic *
bench_find_characteristic (GPtrArray *services,
                           guint16    uuid16)
{
  for (guint i = 0; i < services->len; i++)
    {
      g_autoptr(GPtrArray) chars =
        bleio_service_dup_characteristics (g_ptr_array_index (services, i));

      for (guint j = 0; j < chars->len; j++)
        {
          BleioCharacteristic *c = g_ptr_array_index (chars, j);

          if (bleio_uuid_get_uuid16 (bleio_characteristic_get_uuid (c)) == uuid16)
            return g_object_ref (c);
        }
    }
  die ("no characteristic 0x%04x", uuid16);
}

char *
bench_ensure_device (SimFixture *fx,
                     const char *address)
{
  g_autofree char *path = g_strdup_printf (BENCH_ADAPTER "/dev_%s", address);
  g_autoptr(GVariant) have = NULL;
  double end = bench_now () + 30;

  for (char *p = path + strlen (BENCH_ADAPTER "/dev_"); *p != '\0'; p++)
    if (*p == ':')
      *p = '_';
  have = sim_fixture_get_property (fx, path, BENCH_DEVICE1, "Address");
  if (have != NULL)
    return g_steal_pointer (&path);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = sim_fixture_call_bluez (fx, BENCH_ADAPTER, "org.bluez.Adapter1",
                                                        "StartDiscovery", NULL, &error);

    if (reply == NULL)
      die ("StartDiscovery: %s", error->message);
  }
  while (have == NULL && bench_now () < end)
    {
      g_usleep (20000);
      have = sim_fixture_get_property (fx, path, BENCH_DEVICE1, "Address");
    }
  g_clear_pointer (&have, g_variant_unref);
  have = sim_fixture_call_bluez (fx, BENCH_ADAPTER, "org.bluez.Adapter1", "StopDiscovery",
                                 NULL, NULL);
  g_clear_pointer (&have, g_variant_unref);
  have = sim_fixture_get_property (fx, path, BENCH_DEVICE1, "Address");
  if (have == NULL)
    die ("%s was not discovered", address);
  return g_steal_pointer (&path);
}

char *
bench_find_gatt_path (SimFixture *fx,
                      const char *device_path,
                      const char *interface,
                      guint16     uuid16)
{
  g_autofree char *uuid = g_strdup_printf ("0000%04x-0000-1000-8000-00805f9b34fb", uuid16);
  char *path = sim_fixture_find_gatt (fx, device_path, interface, uuid, NULL, NULL);

  if (path == NULL)
    die ("no %s %s under %s", interface, uuid, device_path);
  return path;
}

gboolean
bench_wait_flag (const gboolean *flag)
{
  gint64 end = g_get_monotonic_time () + BENCH_WAIT_USEC;

  while (!*flag && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  return *flag;
}

double
bench_now (void)
{
  return g_get_monotonic_time () / (double) G_USEC_PER_SEC;
}

static FILE *
tsv (void)
{
  static FILE *file;
  static gboolean tried;
  const char *path = g_getenv ("BENCH_TSV");

  if (!tried && path != NULL && *path != '\0')
    {
      file = fopen (path, "a");
      if (file == NULL)
        g_printerr ("BENCH_TSV=%s: cannot append\n", path);
    }
  tried = TRUE;
  return file;
}

void
bench_table_begin (const char *title)
{
  g_print ("\n%s\n", title);
  g_print ("%-44s %12s %12s %12s %12s %8s  %s\n", "case", "libbleio", "raw GDBus", "bleak",
           "counter", "lib/raw", "goal");
  g_print ("%-44s %12s %12s %12s %12s %8s  %s\n", "--------------------------------------------",
           "------------", "------------", "------------", "------------", "--------",
           "----------------");
}

static const char *
format_value (char   *buf,
              gsize   size,
              double  value)
{
  if (value < 0)
    g_snprintf (buf, size, "-");
  else if (value >= 100)
    g_snprintf (buf, size, "%.0f", value);
  else if (value >= 10)
    g_snprintf (buf, size, "%.1f", value);
  else
    g_snprintf (buf, size, "%.3f", value);
  return buf;
}

void
bench_figures_init (BenchFigures *f)
{
  f->lib = f->raw = f->bleak = f->counted = BENCH_NONE;
  f->lib_cpu = f->raw_cpu = f->bleak_cpu = f->counted_cpu = BENCH_NONE;
}

static double
micro (double seconds)
{
  return seconds < 0 ? BENCH_NONE : seconds * 1e6;
}

void
bench_table_row_full (const char         *name,
                      const char         *unit,
                      const BenchFigures *f,
                      BenchDirection      direction,
                      double              goal)
{
  double ratio = f->raw > 0 ? f->lib / f->raw : 0;
  gboolean met = direction == BENCH_HIGHER_IS_BETTER ? ratio >= goal : ratio <= goal;
  g_autofree char *label = g_strdup_printf ("%s (%s)", name, unit);
  g_autofree char *goal_text = NULL;
  char a[32], b[32], c[32], d[32];
  FILE *file = tsv ();

  if (goal > 0)
    goal_text = g_strdup_printf ("%s %.2fx: %s",
                                 direction == BENCH_HIGHER_IS_BETTER ? ">=" : "<=",
                                 goal, met ? "met" : "NOT MET");
  else
    goal_text = g_strdup ("-");
  g_print ("%-44s %12s %12s %12s %12s %7.3fx  %s\n", label,
           format_value (a, sizeof a, f->lib), format_value (b, sizeof b, f->raw),
           format_value (c, sizeof c, f->bleak), format_value (d, sizeof d, f->counted),
           ratio, goal_text);
  if (f->lib_cpu >= 0 || f->raw_cpu >= 0 || f->bleak_cpu >= 0 || f->counted_cpu >= 0)
    {
      g_autofree char *vs = NULL;

      /* The issue-20 goal compares the library's CPU with bleak's. */
      if (f->lib_cpu >= 0 && f->bleak_cpu > 0)
        vs = g_strdup_printf ("lib/bleak %.2fx", f->lib_cpu / f->bleak_cpu);
      else if (f->lib_cpu >= 0 && f->raw_cpu > 0)
        vs = g_strdup_printf ("lib/raw %.2fx", f->lib_cpu / f->raw_cpu);
      g_print ("%-44s %12s %12s %12s %12s  %s\n", "  CPU per operation (us)",
               format_value (a, sizeof a, micro (f->lib_cpu)),
               format_value (b, sizeof b, micro (f->raw_cpu)),
               format_value (c, sizeof c, micro (f->bleak_cpu)),
               format_value (d, sizeof d, micro (f->counted_cpu)), vs != NULL ? vs : "");
    }
  if (file != NULL)
    {
      /* Columns 1-7 as bench_table_row() always wrote them; then bleak,
       * counter, and the CPU microseconds per operation of each side
       * ("-": not measured). */
      fprintf (file, "%s\t%s\t%s\t%.6g\t%.6g\t%.4f\t%s\t%s\t%s", g_get_prgname (), name, unit,
               f->lib, f->raw, ratio, goal_text, format_value (a, sizeof a, f->bleak),
               format_value (b, sizeof b, f->counted));
      fprintf (file, "\t%s\t%s", format_value (a, sizeof a, micro (f->lib_cpu)),
               format_value (b, sizeof b, micro (f->raw_cpu)));
      fprintf (file, "\t%s\t%s\n", format_value (a, sizeof a, micro (f->bleak_cpu)),
               format_value (b, sizeof b, micro (f->counted_cpu)));
      fflush (file);
    }
}

void
bench_table_row (const char     *name,
                 const char     *unit,
                 double          lib,
                 double          raw,
                 BenchDirection  direction,
                 double          goal)
{
  BenchFigures f;

  bench_figures_init (&f);
  f.lib = lib;
  f.raw = raw;
  bench_table_row_full (name, unit, &f, direction, goal);
}

void
bench_note (const char *format,
            ...)
{
  va_list ap;
  g_autofree char *text = NULL;
  FILE *file = tsv ();

  va_start (ap, format);
  text = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_print ("  %s\n", text);
  if (file != NULL)
    {
      fprintf (file, "# %s: %s\n", g_get_prgname (), text);
      fflush (file);
    }
}

gboolean
bench_under_valgrind (void)
{
#ifdef HAVE_CALLGRIND_H
  return RUNNING_ON_VALGRIND != 0;
#else
  return FALSE;
#endif
}

void
bench_callgrind_zero (void)
{
#ifdef HAVE_CALLGRIND_H
  CALLGRIND_ZERO_STATS;
#endif
}

void
bench_callgrind_dump (const char *label)
{
#ifdef HAVE_CALLGRIND_H
  CALLGRIND_DUMP_STATS_AT (label);
#else
  (void) label;
#endif
}

double
bench_best (const double   *values,
            guint           n,
            BenchDirection  direction)
{
  double best = BENCH_NONE;

  /* A run that measured nothing (BENCH_NONE) is never the best. */
  for (guint i = 0; i < n; i++)
    if (values[i] >= 0 &&
        (best < 0 || (direction == BENCH_HIGHER_IS_BETTER ? values[i] > best : values[i] < best)))
      best = values[i];
  return best;
}

double
bench_cpu_now (void)
{
  struct rusage usage;

  if (getrusage (RUSAGE_SELF, &usage) != 0)
    return 0;
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
         usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

double
bench_sim_cpu_now (SimFixture *fx)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat",
                                           (int) sim_bus_get_sim_pid (sim_fixture_get_bus (fx)));
  g_autofree char *stat = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after;

  if (!g_file_get_contents (path, &stat, NULL, NULL) || (after = strrchr (stat, ')')) == NULL)
    return 0;
  /* after the command name: state is field 3, utime 14 and stime 15 */
  fields = g_strsplit (after + 2, " ", 0);
  if (g_strv_length (fields) < 13)
    return 0;
  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL)) /
         (double) sysconf (_SC_CLK_TCK);
}

/* ---- bleak ---- */

gboolean
bench_bleak_run (SimFixture         *fx,
                 const char * const *args,
                 BenchBleak         *out)
{
  static gboolean missing;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_auto(GStrv) env = g_get_environ ();
  g_autoptr(GError) error = NULL;
  g_autofree char *stdout_text = NULL;
  g_autofree char *stderr_text = NULL;
  const char *python = g_getenv ("BENCH_PYTHON");
  const char *script = g_getenv ("BENCH_BLEAK_SCRIPT");
  const char *line;
  int status = 0;
  guint count = 0;

  if (missing)
    return FALSE;
  g_ptr_array_add (argv, (gpointer) (python != NULL && *python != '\0' ? python
                                                                         : "/usr/bin/python3"));
  g_ptr_array_add (argv, (gpointer) (script != NULL && *script != '\0' ? script
                                                                         : BENCH_BLEAK_SCRIPT));
  for (; *args != NULL; args++)
    g_ptr_array_add (argv, (gpointer) *args);
  g_ptr_array_add (argv, NULL);
  env = g_environ_setenv (env, "DBUS_SYSTEM_BUS_ADDRESS", sim_fixture_get_address (fx), TRUE);
  if (!g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL,
                     &stdout_text, &stderr_text, &status, &error))
    {
      g_printerr ("%s: bleak: %s\n", g_get_prgname (), error->message);
      missing = TRUE;
      return FALSE;
    }
  if (WIFEXITED (status) && WEXITSTATUS (status) == 3)
    {
      bench_note ("bleak: not measured (%s; Debian: apt-get install python3-bleak)",
                  g_strstrip (stderr_text));
      missing = TRUE;
      return FALSE;
    }
  line = strstr (stdout_text, "result ");
  if (!g_spawn_check_wait_status (status, NULL) || line == NULL ||
      sscanf (line, "result %lf %lf %u", &out->seconds, &out->cpu, &count) != 3 ||
      count == 0 || out->seconds <= 0)
    {
      g_printerr ("%s: bleak-bench.py %s failed:\n%s%s\n", g_get_prgname (),
                  (const char *) g_ptr_array_index (argv, 2), stdout_text, stderr_text);
      return FALSE;
    }
  out->count = count;
  return TRUE;
}

/* ---- the counting reader ---- */

static void
counter_send (int           fd,
              GDBusMessage *message,
              guint32       serial)
{
  g_autoptr(GError) error = NULL;
  g_autofree guchar *blob = NULL;
  gsize len = 0;

  g_dbus_message_set_serial (message, serial);
  blob = g_dbus_message_to_blob (message, &len, G_DBUS_CAPABILITY_FLAGS_NONE, &error);
  if (blob == NULL)
    die ("counter: %s", error->message);
  if (write (fd, blob, len) != (ssize_t) len)
    die ("counter: write: %s", g_strerror (errno));
}

BenchCounter *
bench_counter_connect (SimFixture         *fx,
                       const char * const *rules)
{
  BenchCounter *counter;
  const char *address = sim_fixture_get_address (fx);
  const char *start = strstr (address, "path=");
  g_autofree char *path = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *uid = g_strdup_printf ("%u", (unsigned) getuid ());
  g_autoptr(GString) hex = g_string_new (NULL);
  g_autoptr(GDBusMessage) hello = NULL;
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  guint32 serial = 1;
  char reply[256];
  ssize_t n;
  int fd;

  if (start == NULL)
    die ("counter: bus address %s has no path", address);
  path = g_strndup (start + 5, strcspn (start + 5, ","));
  g_strlcpy (sun.sun_path, path, sizeof sun.sun_path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect (fd, (struct sockaddr *) &sun, sizeof sun) < 0)
    die ("counter: connect %s: %s", path, g_strerror (errno));
  for (const char *c = uid; *c != '\0'; c++)
    g_string_append_printf (hex, "%02x", (unsigned) *c);
  auth = g_strdup_printf ("AUTH EXTERNAL %s\r\n", hex->str);
  if (write (fd, "", 1) != 1 || write (fd, auth, strlen (auth)) != (ssize_t) strlen (auth) ||
      (n = read (fd, reply, sizeof reply - 1)) <= 0 || strncmp (reply, "OK ", 3) != 0 ||
      write (fd, "BEGIN\r\n", 7) != 7)
    die ("counter: SASL EXTERNAL was refused");
  hello = g_dbus_message_new_method_call ("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                          "org.freedesktop.DBus", "Hello");
  counter_send (fd, hello, serial++);
  for (; *rules != NULL; rules++)
    {
      g_autoptr(GDBusMessage) match =
        g_dbus_message_new_method_call ("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", "AddMatch");

      g_dbus_message_set_body (match, g_variant_new ("(s)", *rules));
      counter_send (fd, match, serial++);
    }
  counter = g_new0 (BenchCounter, 1);
  counter->fd = fd;
  /* Hello's reply and one per rule come before any signal they let in. */
  counter->replies = serial - 1;
  return counter;
}

/* Message length from its fixed header (little- or big-endian). */
static gsize
counter_message_length (const guint8 *h)
{
  guint32 body, fields;

  if (h[0] == 'l')
    {
      body = h[4] | h[5] << 8 | h[6] << 16 | (guint32) h[7] << 24;
      fields = h[12] | h[13] << 8 | h[14] << 16 | (guint32) h[15] << 24;
    }
  else
    {
      body = (guint32) h[4] << 24 | h[5] << 16 | h[6] << 8 | h[7];
      fields = (guint32) h[12] << 24 | h[13] << 16 | h[14] << 8 | h[15];
    }
  return 16 + ((fields + 7) & ~7u) + body;
}

gboolean
bench_counter_run (BenchCounter  *counter,
                   void         (*start) (gpointer data),
                   gpointer       data,
                   guint          count,
                   double        *seconds,
                   double        *cpu)
{
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  guint replies = 0, signals = 0;
  double t0 = 0, c0 = 0;
  gint64 deadline = g_get_monotonic_time () + BENCH_WAIT_USEC;
  int fd = counter->fd;
  guint wanted = counter->replies;

  g_free (counter);
  while (signals < count && g_get_monotonic_time () < deadline)
    {
      guint8 chunk[65536];
      struct pollfd pfd = { fd, POLLIN, 0 };
      ssize_t n;

      /* poll() first, so that the deadline holds when nothing comes */
      if (poll (&pfd, 1, 100) <= 0)
        continue;
      n = read (fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      g_byte_array_append (buf, chunk, (guint) n);
      while (buf->len >= 16 && buf->len >= counter_message_length (buf->data))
        {
          gsize len = counter_message_length (buf->data);

          if (buf->data[1] == 3)
            die ("counter: the bus refused a call (a bad match rule?)");
          /* type 2 is a method return: the last AddMatch's starts the clock */
          if (buf->data[1] == 2 && ++replies == wanted)
            {
              t0 = bench_now ();
              c0 = bench_cpu_now ();
              start (data);
            }
          else if (buf->data[1] == 4 && replies >= wanted)
            signals++;
          g_byte_array_remove_range (buf, 0, (guint) len);
        }
    }
  *seconds = bench_now () - t0;
  *cpu = bench_cpu_now () - c0;
  close (fd);
  return signals >= count;
}
