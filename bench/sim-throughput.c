/* SPDX-License-Identifier: MIT */
/*
 * How fast bleio-sim delivers notifications, so we know it is never the
 * bottleneck of a benchmark of the library:
 *
 *  1. through an AcquireNotify fd: NotifyBurst pushes N notifications, we
 *     read() them one per packet (goal: at least 100,000/s);
 *  2. as PropertiesChanged signals on a characteristic's Value after
 *     StartNotify (goal: at least 20,000/s).
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
      status = 1;
    }
  return status;
}
