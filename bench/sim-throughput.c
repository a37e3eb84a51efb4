/* SPDX-License-Identifier: MIT */
/*
 * How fast bleio-sim delivers notifications, so we know it is never the
 * bottleneck of a benchmark of the library:
 *
 *  1. through an AcquireNotify fd: NotifyBurst pushes N notifications, we
 *     read() them one per packet (goal: at least 100,000/s);
 *  2. as PropertiesChanged signals on a characteristic's Value after
 *     StartNotify (goal: at least 20,000/s), received by a GDBus client;
 *  3. the same signals received by a client that only counts them on a raw
 *     socket (no GDBus parsing): what the simulator and dbus-daemon
 *     deliver when the receiver is not the bottleneck.
 *
 * Usage: sim-throughput [--fd-count N] [--signal-count N]
 * The simulator is $BLEIO_SIM (meson sets it); it runs on a private bus.
 * The numbers are printed; the exit status only says whether the
 * measurement could be made, not whether the goals were met.
 */
#include "sim-fixture.h"

#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEMO_NAME "InterestingPeripheral"
#define ADAPTER "/org/bluez/hci0"
#define CHR1 "org.bluez.GattCharacteristic1"
#define FD_GOAL 100000.0
#define SIGNAL_GOAL 20000.0
/* Bound on one measurement: far above what the goals need. */
#define MEASURE_TIMEOUT_USEC (60 * G_USEC_PER_SEC)

/* Distinct from what the demo's own notification streams send, which go
 * on meanwhile and are not counted. */
static const guint8 payload[] = { 0xb1, 0xe1, 0x05, 0x1a };

typedef struct {
  SimFixture *fx;
  const char *chr;
  guint count;
  GError *error;
  gboolean done;
} Burst;

static gpointer
burst_thread (gpointer data)
{
  Burst *burst = data;

  if (!sim_fixture_notify_burst (burst->fx, burst->chr, payload,
                                 sizeof payload, burst->count, &burst->error))
    g_prefix_error (&burst->error, "NotifyBurst: ");
  return NULL;
}

static gboolean
measure_fd (SimFixture *fx,
            const char *chr,
            guint       count,
            double     *rate,
            GError    **error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  Burst burst = { fx, chr, count, NULL, FALSE };
  GThread *thread;
  guint received = 0;
  guint other = 0;
  gint64 start;
  gint64 end;
  gint64 deadline;
  int fd;

  reply = g_dbus_connection_call_with_unix_fd_list_sync (sim_fixture_get_connection (fx),
                                                         "org.bluez", chr, CHR1,
                                                         "AcquireNotify",
                                                         g_variant_new ("(a{sv})", NULL),
                                                         G_VARIANT_TYPE ("(hq)"),
                                                         G_DBUS_CALL_FLAGS_NONE,
                                                         SIM_FIXTURE_TIMEOUT_MSEC,
                                                         NULL, &fds, NULL, error);
  if (reply == NULL)
    {
      g_prefix_error (error, "AcquireNotify on %s: ", chr);
      return FALSE;
    }
  fd = g_unix_fd_list_get (fds, 0, error);
  if (fd < 0)
    return FALSE;

  /* The burst call returns when the simulator has written everything,
   * which needs us reading: call it from another thread. */
  start = g_get_monotonic_time ();
  deadline = start + MEASURE_TIMEOUT_USEC;
  thread = g_thread_new ("burst", burst_thread, &burst);
  /* Read until the socket is empty, and only then wait: one poll() per
   * batch rather than per notification keeps the reader cheap. */
  g_unix_set_fd_nonblocking (fd, TRUE, NULL);
  while (received < count && g_get_monotonic_time () < deadline)
    {
      struct pollfd pfd = { fd, POLLIN, 0 };
      guint8 buf[600];
      ssize_t n = read (fd, buf, sizeof buf);

      if (n < 0 && errno == EAGAIN)
        {
          poll (&pfd, 1, 100);
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      if ((size_t) n == sizeof payload && memcmp (buf, payload, sizeof payload) == 0)
        received++;
      else
        other++;
    }
  end = g_get_monotonic_time ();
  g_thread_join (thread);
  close (fd);

  if (burst.error != NULL)
    {
      g_propagate_error (error, burst.error);
      return FALSE;
    }
  if (received < count)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "fd: %u of %u notifications came back intact, one per "
                   "read() (and %u others)", received, count, other);
      return FALSE;
    }
  *rate = count / ((end - start) / (double) G_USEC_PER_SEC);
  return TRUE;
}

typedef struct {
  const char *path;
  gint received;        /* atomic: counted in GDBus's worker thread */
  gint other;
  gboolean call_done;
  GError *error;
} SignalCount;

/* Counts the Value changes as they arrive, in GDBus's worker thread, and
 * drops them there: what is measured is the simulator and the bus, not
 * how fast this process's main loop dispatches callbacks. */
static GDBusMessage *
count_filter (GDBusConnection *connection,
              GDBusMessage    *message,
              gboolean         incoming,
              gpointer         user_data)
{
  SignalCount *state = user_data;
  g_autoptr(GVariant) changed = NULL;
  g_autoptr(GVariant) value = NULL;
  GVariant *body;
  const char *iface = NULL;
  const guint8 *data;
  gsize len = 0;

  if (!incoming ||
      g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_SIGNAL ||
      g_strcmp0 (g_dbus_message_get_member (message), "PropertiesChanged") != 0 ||
      g_strcmp0 (g_dbus_message_get_path (message), state->path) != 0)
    return message;
  body = g_dbus_message_get_body (message);
  if (body == NULL || !g_variant_is_of_type (body, G_VARIANT_TYPE ("(sa{sv}as)")))
    return message;
  g_variant_get (body, "(&s@a{sv}@as)", &iface, &changed, NULL);
  if (strcmp (iface, CHR1) != 0)
    return message;
  value = g_variant_lookup_value (changed, "Value", G_VARIANT_TYPE_BYTESTRING);
  if (value == NULL)
    return message;
  data = g_variant_get_fixed_array (value, &len, 1);
  if (len == sizeof payload && memcmp (data, payload, len) == 0)
    g_atomic_int_inc (&state->received);
  else
    g_atomic_int_inc (&state->other);
  g_object_unref (message);
  return NULL;
}

static void
ignore_signal (GDBusConnection *connection,
               const char      *sender,
               const char      *path,
               const char      *interface,
               const char      *signal,
               GVariant        *params,
               gpointer         user_data)
{
}

static void
burst_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  SignalCount *state = user_data;
  g_autoptr(GVariant) reply = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                         &state->error);
  state->call_done = TRUE;
}

static gboolean
measure_signals (SimFixture *fx,
                 const char *chr,
                 guint       count,
                 double     *rate,
                 GError    **error)
{
  GDBusConnection *connection = sim_fixture_get_connection (fx);
  g_autoptr(GVariant) reply = NULL;
  SignalCount state = { chr, 0, 0, FALSE, NULL };
  guint filter;
  GMainContext *context = g_main_context_default ();
  guint subscription;
  gint64 start;
  gint64 end;
  gint64 deadline;

  subscription = g_dbus_connection_signal_subscribe (connection, "org.bluez",
                                                     "org.freedesktop.DBus.Properties",
                                                     "PropertiesChanged", chr,
                                                     CHR1, G_DBUS_SIGNAL_FLAGS_NONE,
                                                     ignore_signal, NULL, NULL);
  reply = sim_fixture_call_bluez (fx, chr, CHR1, "StartNotify", NULL, error);
  if (reply == NULL)
    {
      g_prefix_error (error, "StartNotify on %s: ", chr);
      g_dbus_connection_signal_unsubscribe (connection, subscription);
      return FALSE;
    }
  /* Let the Notifying change and anything StartNotify caused go by. */
  while (g_main_context_iteration (context, FALSE))
    ;
  filter = g_dbus_connection_add_filter (connection, count_filter, &state, NULL);

  start = g_get_monotonic_time ();
  deadline = start + MEASURE_TIMEOUT_USEC;
  g_dbus_connection_call (connection, sim_fixture_get_sim_name (fx),
                          SIM_FIXTURE_CONTROL_PATH, SIM_FIXTURE_CONTROL_INTERFACE,
                          "NotifyBurst",
                          g_variant_new ("(o@ayu)", chr,
                                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                    payload, sizeof payload, 1),
                                         count),
                          NULL, G_DBUS_CALL_FLAGS_NONE, MEASURE_TIMEOUT_USEC / 1000,
                          NULL, burst_done, &state);
  while (((guint) g_atomic_int_get (&state.received) < count || !state.call_done) &&
         state.error == NULL && g_get_monotonic_time () < deadline)
    {
      /* Returns at once when the reply is in; otherwise wakes now and
       * then to look at the counter. */
      if (!g_main_context_iteration (context, FALSE))
        g_usleep (1000);
    }
  end = g_get_monotonic_time ();

  g_dbus_connection_remove_filter (connection, filter);
  g_dbus_connection_signal_unsubscribe (connection, subscription);
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call_bluez (fx, chr, CHR1, "StopNotify", NULL, NULL);

  if (state.error != NULL)
    {
      g_propagate_prefixed_error (error, state.error, "NotifyBurst: ");
      return FALSE;
    }
  if ((guint) g_atomic_int_get (&state.received) < count)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "signals: %d of %u Value changes came (and %d others)",
                   g_atomic_int_get (&state.received), count,
                   g_atomic_int_get (&state.other));
      return FALSE;
    }
  *rate = count / ((end - start) / (double) G_USEC_PER_SEC);
  return TRUE;
}

/* ---- a client that only counts messages, on a raw socket ---- */

static gboolean
raw_send (int            fd,
          GDBusMessage  *message,
          guint32        serial,
          GError       **error)
{
  g_autofree guchar *blob = NULL;
  gsize len = 0;

  g_dbus_message_set_serial (message, serial);
  blob = g_dbus_message_to_blob (message, &len, G_DBUS_CAPABILITY_FLAGS_NONE, error);
  if (blob == NULL)
    return FALSE;
  if (write (fd, blob, len) != (ssize_t) len)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "write: %s", g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* Connects to the bus at @address (unix:path=...), authenticates, says
 * Hello and adds a match for @chr's PropertiesChanged; -1 on failure. */
static int
raw_connect (const char  *address,
             const char  *chr,
             GError     **error)
{
  g_autofree char *path = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *uid = g_strdup_printf ("%u", (unsigned) getuid ());
  g_autoptr(GString) hex = g_string_new (NULL);
  g_autoptr(GDBusMessage) hello = NULL;
  g_autoptr(GDBusMessage) match = NULL;
  g_autofree char *rule = NULL;
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  const char *start = strstr (address, "path=");
  char reply[256];
  ssize_t n;
  int fd;

  if (start == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "bus address %s has no path",
                   address);
      return -1;
    }
  path = g_strndup (start + 5, strcspn (start + 5, ","));
  g_strlcpy (sun.sun_path, path, sizeof sun.sun_path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect (fd, (struct sockaddr *) &sun, sizeof sun) < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "connect %s: %s", path,
                   g_strerror (errno));
      if (fd >= 0)
        close (fd);
      return -1;
    }
  for (const char *c = uid; *c != '\0'; c++)
    g_string_append_printf (hex, "%02x", (unsigned) *c);
  auth = g_strdup_printf ("AUTH EXTERNAL %s\r\n", hex->str);
  if (write (fd, "", 1) != 1 || write (fd, auth, strlen (auth)) != (ssize_t) strlen (auth) ||
      (n = read (fd, reply, sizeof reply - 1)) <= 0 || strncmp (reply, "OK ", 3) != 0 ||
      write (fd, "BEGIN\r\n", 7) != 7)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "SASL EXTERNAL was refused");
      close (fd);
      return -1;
    }
  hello = g_dbus_message_new_method_call ("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                          "org.freedesktop.DBus", "Hello");
  rule = g_strdup_printf ("type='signal',sender='org.bluez',path='%s',"
                          "interface='org.freedesktop.DBus.Properties',"
                          "member='PropertiesChanged'", chr);
  match = g_dbus_message_new_method_call ("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                          "org.freedesktop.DBus", "AddMatch");
  g_dbus_message_set_body (match, g_variant_new ("(s)", rule));
  if (!raw_send (fd, hello, 1, error) || !raw_send (fd, match, 2, error))
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* Message length from its fixed header (little- or big-endian). */
static gsize
raw_message_length (const guint8 *h)
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

/* Reads and counts signal messages until @count arrived after the match
 * was in place (the AddMatch reply, serial 2, comes first). */
static gboolean
measure_raw (SimFixture *fx,
             const char *chr,
             guint       count,
             double     *rate,
             GError    **error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  guint signals = 0;
  gboolean matched = FALSE;
  gint64 start = 0, end, deadline;
  int fd = raw_connect (sim_fixture_get_address (fx), chr, error);

  if (fd < 0)
    return FALSE;
  reply = sim_fixture_call_bluez (fx, chr, CHR1, "StartNotify", NULL, error);
  if (reply == NULL)
    {
      close (fd);
      return FALSE;
    }
  deadline = g_get_monotonic_time () + MEASURE_TIMEOUT_USEC;
  while (signals < count && g_get_monotonic_time () < deadline)
    {
      guint8 chunk[65536];
      struct pollfd pfd = { fd, POLLIN, 0 };
      ssize_t n;

      if (poll (&pfd, 1, 100) <= 0)
        continue;
      n = read (fd, chunk, sizeof chunk);
      if (n <= 0)
        break;
      g_byte_array_append (buf, chunk, (guint) n);
      while (buf->len >= 16 && buf->len >= raw_message_length (buf->data))
        {
          gsize len = raw_message_length (buf->data);

          /* type 2 is a method return: the AddMatch reply starts the clock */
          if (buf->data[1] == 2 && !matched)
            {
              matched = TRUE;
              start = g_get_monotonic_time ();
              if (!sim_fixture_notify_burst (fx, chr, payload, sizeof payload, count, error))
                {
                  close (fd);
                  return FALSE;
                }
            }
          else if (buf->data[1] == 4 && matched)
            signals++;
          g_byte_array_remove_range (buf, 0, (guint) len);
        }
    }
  end = g_get_monotonic_time ();
  close (fd);
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call_bluez (fx, chr, CHR1, "StopNotify", NULL, NULL);
  if (signals < count)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "raw: %u of %u signals came", signals, count);
      return FALSE;
    }
  *rate = count / ((end - start) / (double) G_USEC_PER_SEC);
  return TRUE;
}

/* CPU seconds (user + system) @pid has used so far, from /proc. */
static double
cpu_seconds (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return 0;
  after = strrchr (stat, ')');
  if (after == NULL)
    return 0;
  /* After the command name: state is field 3, utime 14 and stime 15. */
  fields = g_strsplit (after + 2, " ", 0);
  if (g_strv_length (fields) < 13)
    return 0;
  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL)) /
         (double) sysconf (_SC_CLK_TCK);
}

typedef struct {
  double sim;
  double daemon;
  double self;
} CpuUse;

static void
cpu_sample (SimFixture *fx,
            CpuUse     *use)
{
  use->sim = cpu_seconds (sim_bus_get_sim_pid (sim_fixture_get_bus (fx)));
  use->daemon = cpu_seconds (sim_bus_get_daemon_pid (sim_fixture_get_bus (fx)));
  use->self = cpu_seconds (getpid ());
}

/* Prints the rate, and how much CPU each process used meanwhile: on a
 * loaded machine that says who the bottleneck is better than the rate. */
static void
report (const char   *what,
        guint         count,
        double        rate,
        double        goal,
        const CpuUse *before,
        const CpuUse *after)
{
  g_print ("%-28s %8u in %7.3f s = %10.0f/s  (goal >= %.0f/s: %s)\n",
           what, count, count / rate, rate, goal,
           rate >= goal ? "met" : "NOT MET");
  double sim_cpu = after->sim - before->sim;

  g_print ("%-28s CPU used: bleio-sim %.2f s, dbus-daemon %.2f s, this client %.2f s\n",
           "", sim_cpu, after->daemon - before->daemon, after->self - before->self);
  /* What one core running only the simulator would sustain. */
  if (sim_cpu > 0)
    g_print ("%-28s bleio-sim's own cost: %.1f us each, %.0f/s per core\n",
             "", sim_cpu * 1e6 / count, count / sim_cpu);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimFixture) fx = NULL;
  g_autofree char *device = NULL;
  g_autofree char *chr = NULL;
  static const char * const notify[] = { "notify", NULL };
  guint fd_count = 500000;
  guint signal_count = 100000;
  double fd_rate = 0;
  double signal_rate = 0;
  CpuUse before;
  CpuUse after;
  int status = 0;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--fd-count") == 0 && i + 1 < argc)
        fd_count = (guint) strtoul (argv[++i], NULL, 10);
      else if (strcmp (argv[i], "--signal-count") == 0 && i + 1 < argc)
        signal_count = (guint) strtoul (argv[++i], NULL, 10);
      else
        {
          g_printerr ("usage: %s [--fd-count N] [--signal-count N]\n", argv[0]);
          return 2;
        }
    }
  if (fd_count == 0 || signal_count == 0)
    {
      g_printerr ("%s: counts must be positive\n", argv[0]);
      return 2;
    }

  fx = sim_fixture_new (NULL, &error);
  if (fx == NULL)
    {
      g_printerr ("sim-throughput: %s\n", error->message);
      return 1;
    }
  device = sim_fixture_find_device (fx, ADAPTER, DEMO_NAME, &error);
  if (device == NULL || !sim_fixture_connect_device (fx, device, &error))
    {
      g_printerr ("sim-throughput: the demo peripheral: %s\n", error->message);
      return 1;
    }
  chr = sim_fixture_find_gatt (fx, device, CHR1, NULL, notify, NULL);
  if (chr == NULL)
    {
      g_printerr ("sim-throughput: no notifying characteristic on %s\n", device);
      return 1;
    }
  g_print ("bleio-sim throughput, characteristic %s\n", chr);

  cpu_sample (fx, &before);
  if (measure_fd (fx, chr, fd_count, &fd_rate, &error))
    {
      cpu_sample (fx, &after);
      report ("AcquireNotify fd", fd_count, fd_rate, FD_GOAL, &before, &after);
    }
  else
    {
      g_printerr ("sim-throughput: %s\n", error->message);
      g_clear_error (&error);
      status = 1;
    }

  /* The fd's release reaches the simulator asynchronously. */
  if (!sim_fixture_wait_property (fx, chr, CHR1, "NotifyAcquired",
                                  g_variant_new_boolean (FALSE),
                                  SIM_FIXTURE_TIMEOUT_MSEC))
    g_printerr ("sim-throughput: NotifyAcquired stayed true after closing the fd\n");

  cpu_sample (fx, &before);
  if (measure_signals (fx, chr, signal_count, &signal_rate, &error))
    {
      cpu_sample (fx, &after);
      report ("PropertiesChanged (Value)", signal_count, signal_rate, SIGNAL_GOAL,
              &before, &after);
    }
  else
    {
      g_printerr ("sim-throughput: %s\n", error->message);
      g_clear_error (&error);
      status = 1;
    }

  cpu_sample (fx, &before);
  if (measure_raw (fx, chr, signal_count, &signal_rate, &error))
    {
      cpu_sample (fx, &after);
      report ("PropertiesChanged, counted", signal_count, signal_rate, SIGNAL_GOAL,
              &before, &after);
    }
  else
    {
      g_printerr ("sim-throughput: %s\n", error->message);
      status = 1;
    }
  return status;
}
