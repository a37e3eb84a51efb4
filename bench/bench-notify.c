/* SPDX-License-Identifier: MIT */
/*
 * Notifications into a BleioCharacteristicBuffer, through AcquireNotify and
 * through Value signals, with 20-byte and 244-byte payloads, against raw
 * GDBus doing the same: read() on the AcquireNotify socket, or a
 * PropertiesChanged subscription that takes the bytes out of each signal.
 * Also reads (ReadValue), one at a time, as the library and as a plain
 * synchronous GDBus call.
 *
 * The simulator's NotifyBurst pushes the notifications as fast as the
 * socket or the bus takes them; the clock runs from the burst's request
 * until the last byte is in the reader's hands. Each side runs on a fresh
 * connection of its own, alternately, --reps times; the best of each is
 * reported (the machine is shared: the best run is the least disturbed).
 *
 * Usage: bench-notify [--count N] [--signal-count N] [--reads N]
 *                     [--reps N] [--cpu]
 * --cpu: small counts, one run each, and callgrind counter dumps around
 * each measured part (run it under valgrind --tool=callgrind; bench/run
 * does).
 */
#include "bench-common.h"
#include "bench-peripheral.h"

#include <errno.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* CPU seconds this process used in the last measured part (all threads). */
static double last_cpu;

/* The lowest CPU per operation of the runs (the least disturbed, as for
 * the rates, which keep the best run). */
static void
keep_cpu (double *kept,
          double  cpu)
{
  if (*kept < 0 || cpu < *kept)
    *kept = cpu;
}

typedef struct {
  SimFixture *fx;
  char *device;
  char *chr_fd;
  char *chr_signal;
  char *chr_read;
  gboolean cpu;
} Bench;

static guint8 *
make_payload (gsize len,
              guint round)
{
  guint8 *payload = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    payload[i] = (guint8) (i + round * 7);
  return payload;
}

static void
burst (Bench        *b,
       const char   *chr,
       const guint8 *payload,
       gsize         len,
       guint         count)
{
  g_autoptr(GError) error = NULL;

  if (!sim_fixture_notify_burst (b->fx, chr, payload, len, count, &error))
    {
      g_printerr ("bench-notify: NotifyBurst: %s\n", error->message);
      exit (1);
    }
}

static void
wait_released (Bench      *b,
               const char *chr,
               const char *property)
{
  if (!sim_fixture_wait_property (b->fx, chr, BENCH_CHR1, property,
                                  g_variant_new_boolean (FALSE), 30000))
    g_printerr ("bench-notify: %s stayed true on %s\n", property, chr);
}

static void
cpu_label (char       *buf,
           gsize       size,
           const char *name,
           const char *side,
           guint       count)
{
  g_snprintf (buf, size, "%s|%s|%u", name, side, count);
}

/* ---- raw GDBus: read() on the AcquireNotify socket ---- */

static double
raw_fd (Bench      *b,
        gsize       len,
        guint       count,
        const char *label)
{
  GDBusConnection *connection = bench_connection_new (b->fx);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autofree guint8 *payload = make_payload (len, 1);
  guint received = 0;
  double start, end, c0;
  gint64 deadline;
  int fd;

  reply = g_dbus_connection_call_with_unix_fd_list_sync (connection, "org.bluez", b->chr_fd,
                                                         BENCH_CHR1, "AcquireNotify",
                                                         g_variant_new ("(a{sv})", NULL),
                                                         G_VARIANT_TYPE ("(hq)"),
                                                         G_DBUS_CALL_FLAGS_NONE, 10000,
                                                         NULL, &fds, NULL, &error);
  if (reply == NULL || (fd = g_unix_fd_list_get (fds, 0, &error)) < 0)
    {
      g_printerr ("bench-notify: AcquireNotify: %s\n", error->message);
      exit (1);
    }
  /* The list holds its own copy of the descriptor: the socket is released
   * only once both are closed. */
  g_clear_object (&fds);
  g_unix_set_fd_nonblocking (fd, TRUE, NULL);
  deadline = g_get_monotonic_time () + BENCH_WAIT_USEC;
  if (label != NULL)
    bench_callgrind_zero ();
  c0 = bench_cpu_now ();
  start = bench_now ();
  burst (b, b->chr_fd, payload, len, count);
  while (received < count && g_get_monotonic_time () < deadline)
    {
      guint8 buf[1024];
      ssize_t n = read (fd, buf, sizeof buf);

      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        {
          struct pollfd pfd = { fd, POLLIN, 0 };

          poll (&pfd, 1, 100);
          continue;
        }
      if (n <= 0)
        break;
      if ((gsize) n == len && buf[0] == payload[0])
        received++;
    }
  end = bench_now ();
  last_cpu = bench_cpu_now () - c0;
  if (label != NULL)
    bench_callgrind_dump (label);
  close (fd);
  bench_connection_free (connection);
  wait_released (b, b->chr_fd, "NotifyAcquired");
  if (received < count)
    {
      g_printerr ("bench-notify: raw fd: %u of %u notifications arrived\n", received, count);
      exit (1);
    }
  return count / (end - start);
}

/* ---- raw GDBus: a PropertiesChanged subscription ---- */

typedef struct {
  gsize len;
  guint8 first;
  guint received;
  guint64 bytes;
} RawSignals;

static void
on_value (GDBusConnection *connection,
          const char      *sender,
          const char      *path,
          const char      *interface,
          const char      *signal,
          GVariant        *params,
          gpointer         user_data)
{
  RawSignals *state = user_data;
  g_autoptr(GVariant) changed = NULL;
  g_autoptr(GVariant) value = NULL;
  const guint8 *data;
  gsize n = 0;

  g_variant_get (params, "(&s@a{sv}@as)", NULL, &changed, NULL);
  value = g_variant_lookup_value (changed, "Value", G_VARIANT_TYPE_BYTESTRING);
  if (value == NULL)
    return;
  data = g_variant_get_fixed_array (value, &n, 1);
  if (n == state->len && data[0] == state->first)
    {
      state->received++;
      state->bytes += n;
    }
}

static gboolean
wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static double
raw_signals (Bench      *b,
             gsize       len,
             guint       count,
             const char *label)
{
  GDBusConnection *connection = bench_connection_new (b->fx);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree guint8 *payload = make_payload (len, 2);
  RawSignals state = { len, payload[0], 0, 0 };
  guint subscription;
  guint waker;
  double start, end, c0;
  gint64 deadline;

  subscription = g_dbus_connection_signal_subscribe (connection, "org.bluez", BENCH_PROPS,
                                                     "PropertiesChanged", b->chr_signal,
                                                     BENCH_CHR1, G_DBUS_SIGNAL_FLAGS_NONE,
                                                     on_value, &state, NULL);
  reply = g_dbus_connection_call_sync (connection, "org.bluez", b->chr_signal, BENCH_CHR1,
                                       "StartNotify", NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
                                       10000, NULL, &error);
  if (reply == NULL)
    {
      g_printerr ("bench-notify: StartNotify: %s\n", error->message);
      exit (1);
    }
  while (g_main_context_iteration (NULL, FALSE))
    ;
  state.received = 0;
  waker = g_timeout_add (100, wake, NULL);
  deadline = g_get_monotonic_time () + BENCH_WAIT_USEC;
  if (label != NULL)
    bench_callgrind_zero ();
  c0 = bench_cpu_now ();
  start = bench_now ();
  burst (b, b->chr_signal, payload, len, count);
  while (state.received < count && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  end = bench_now ();
  last_cpu = bench_cpu_now () - c0;
  if (label != NULL)
    bench_callgrind_dump (label);
  g_source_remove (waker);
  g_clear_pointer (&reply, g_variant_unref);
  reply = g_dbus_connection_call_sync (connection, "org.bluez", b->chr_signal, BENCH_CHR1,
                                       "StopNotify", NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
                                       10000, NULL, NULL);
  g_dbus_connection_signal_unsubscribe (connection, subscription);
  bench_connection_free (connection);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  wait_released (b, b->chr_signal, "Notifying");
  if (state.received < count)
    {
      g_printerr ("bench-notify: raw signals: %u of %u notifications arrived\n",
                  state.received, count);
      exit (1);
    }
  return count / (end - start);
}

/* ---- bleak: start_notify() on the same characteristic ---- */

/* Notifications per second through bleak, or BENCH_NONE; its CPU per
 * notification in *@cpu. */
static double
bleak_signals (Bench  *b,
               gsize   len,
               guint   count,
               double *cpu)
{
  g_autofree char *uuid = g_strdup_printf ("0000%04x-0000-1000-8000-00805f9b34fb",
                                           BENCH_CHR_NOTIFY_SIGNAL);
  g_autofree char *len_text = g_strdup_printf ("%zu", len);
  g_autofree char *count_text = g_strdup_printf ("%u", count);
  const char *args[] = { "notify", sim_fixture_get_sim_name (b->fx), b->device, b->chr_signal,
                         uuid, len_text, count_text, NULL };
  BenchBleak r;
  gboolean ok = bench_bleak_run (b->fx, args, &r);

  wait_released (b, b->chr_signal, "Notifying");
  if (!ok)
    return BENCH_NONE;
  *cpu = r.cpu / r.count;
  return r.count / r.seconds;
}

/* ---- the counting reader: what the simulator delivers ---- */

typedef struct {
  Bench *b;
  const guint8 *payload;
  gsize len;
  guint count;
} CounterBurst;

static void
counter_start (gpointer data)
{
  CounterBurst *c = data;

  burst (c->b, c->b->chr_signal, c->payload, c->len, c->count);
}

static double
counted_signals (Bench  *b,
                 gsize   len,
                 guint   count,
                 double *cpu)
{
  g_autofree char *rule = g_strdup_printf ("type='signal',sender='org.bluez',path='%s',"
                                           "interface='" BENCH_PROPS "',"
                                           "member='PropertiesChanged'", b->chr_signal);
  const char *rules[] = { rule, NULL };
  g_autofree guint8 *payload = make_payload (len, 5);
  CounterBurst c = { b, payload, len, count };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  BenchCounter *counter;
  double seconds = 0;
  gboolean ok;

  /* Notifying's change must be routed before the counter's match exists:
   * it would be counted as a notification. The property read after it is
   * answered behind the signal. */
  reply = sim_fixture_call_bluez (b->fx, b->chr_signal, BENCH_CHR1, "StartNotify", NULL,
                                  &error);
  if (reply == NULL || !sim_fixture_wait_property (b->fx, b->chr_signal, BENCH_CHR1,
                                                   "Notifying", g_variant_new_boolean (TRUE),
                                                   30000))
    {
      g_printerr ("bench-notify: StartNotify: %s\n",
                  error != NULL ? error->message : "Notifying stayed false");
      exit (1);
    }
  counter = bench_counter_connect (b->fx, rules);
  ok = bench_counter_run (counter, counter_start, &c, count, &seconds, cpu);
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call_bluez (b->fx, b->chr_signal, BENCH_CHR1, "StopNotify", NULL, NULL);
  wait_released (b, b->chr_signal, "Notifying");
  if (!ok)
    {
      g_printerr ("bench-notify: counter: fewer than %u signals arrived\n", count);
      exit (1);
    }
  *cpu /= count;
  return count / seconds;
}

/* ---- libbleio: a CharacteristicBuffer ---- */

typedef struct {
  GDBusConnection *bus;
  BleioAdapter *adapter;
  BleioConnection *connection;
  GPtrArray *services;
} Lib;

static void
lib_open (Bench *b,
          Lib   *lib)
{
  lib->bus = bench_connection_new (b->fx);
  lib->adapter = bench_adapter (lib->bus);
  lib->connection = bench_lib_connect (lib->adapter, BENCH_PERIPH_ADDRESS, &lib->services);
}

static void
lib_close (Lib *lib)
{
  g_clear_pointer (&lib->services, g_ptr_array_unref);
  g_clear_object (&lib->connection);
  g_clear_object (&lib->adapter);
  g_clear_pointer (&lib->bus, bench_connection_free);
  /* The library's worker finishes its teardown on its own. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static double
lib_buffer (Bench      *b,
            guint16     uuid,
            gboolean    acquired,
            gsize       len,
            guint       count,
            const char *label)
{
  Lib lib = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristic) chr = NULL;
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autofree guint8 *payload = make_payload (len, 3);
  g_autofree guint8 *buf = g_malloc (65536);
  const char *path = acquired ? b->chr_fd : b->chr_signal;
  guint64 total = (guint64) count * len;
  guint64 got = 0;
  guint64 dropped;
  double start, end, c0;
  gint64 deadline;

  lib_open (b, &lib);
  chr = bench_find_characteristic (lib.services, uuid);
  /* As in _bleio, a buffer without AcquireNotify takes the Value changes
   * of a subscription the application makes. */
  if (!acquired && !bleio_characteristic_set_cccd (chr, TRUE, FALSE, &error))
    {
      g_printerr ("bench-notify: set_cccd: %s\n", error->message);
      exit (1);
    }
  buffer = bleio_characteristic_buffer_new (chr, 5.0, 256u << 20, &error);
  if (buffer == NULL)
    {
      g_printerr ("bench-notify: CharacteristicBuffer: %s\n", error->message);
      exit (1);
    }
  if (bleio_characteristic_buffer_get_notify_acquired (buffer) != acquired)
    {
      g_printerr ("bench-notify: the buffer on %04x %s AcquireNotify, expected the other path\n",
                  uuid, acquired ? "did not take" : "took");
      exit (1);
    }
  deadline = g_get_monotonic_time () + BENCH_WAIT_USEC;
  if (label != NULL)
    bench_callgrind_zero ();
  c0 = bench_cpu_now ();
  start = bench_now ();
  burst (b, path, payload, len, count);
  while (got < total && g_get_monotonic_time () < deadline)
    {
      gsize avail = bleio_characteristic_buffer_get_in_waiting (buffer);
      gssize n = bleio_characteristic_buffer_readinto (buffer, buf,
                                                       avail > 0 ? MIN (avail, 65536) : 1,
                                                       &error);

      if (n < 0)
        {
          g_printerr ("bench-notify: readinto: %s\n", error->message);
          exit (1);
        }
      got += (guint64) n;
    }
  end = bench_now ();
  last_cpu = bench_cpu_now () - c0;
  if (label != NULL)
    bench_callgrind_dump (label);
  dropped = bleio_characteristic_buffer_get_dropped (buffer);
  bleio_characteristic_buffer_deinit (buffer);
  g_clear_object (&buffer);
  if (!acquired && !bleio_characteristic_set_cccd (chr, FALSE, FALSE, &error))
    g_printerr ("bench-notify: set_cccd: %s\n", error->message);
  g_clear_object (&chr);
  lib_close (&lib);
  wait_released (b, path, acquired ? "NotifyAcquired" : "Notifying");
  if (got < total || dropped > 0)
    {
      g_printerr ("bench-notify: libbleio %s: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                  " bytes arrived, %" G_GUINT64_FORMAT " dropped\n",
                  acquired ? "fd" : "signals", got, total, dropped);
      exit (1);
    }
  return count / (end - start);
}

/* ---- reads ---- */

static double
raw_reads (Bench      *b,
           guint       count,
           const char *label)
{
  GDBusConnection *connection = bench_connection_new (b->fx);
  double start, end, c0;

  if (label != NULL)
    bench_callgrind_zero ();
  c0 = bench_cpu_now ();
  start = bench_now ();
  for (guint i = 0; i < count; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) reply = NULL;
      g_autoptr(GVariant) value = NULL;
      gsize n = 0;

      reply = g_dbus_connection_call_sync (connection, "org.bluez", b->chr_read, BENCH_CHR1,
                                           "ReadValue", g_variant_new ("(a{sv})", NULL),
                                           G_VARIANT_TYPE ("(ay)"), G_DBUS_CALL_FLAGS_NONE,
                                           10000, NULL, &error);
      if (reply == NULL)
        {
          g_printerr ("bench-notify: ReadValue: %s\n", error->message);
          exit (1);
        }
      value = g_variant_get_child_value (reply, 0);
      g_variant_get_fixed_array (value, &n, 1);
      if (n != 8)
        {
          g_printerr ("bench-notify: ReadValue gave %zu bytes\n", n);
          exit (1);
        }
    }
  end = bench_now ();
  last_cpu = bench_cpu_now () - c0;
  if (label != NULL)
    bench_callgrind_dump (label);
  bench_connection_free (connection);
  return count / (end - start);
}

static double
lib_reads (Bench      *b,
           guint       count,
           const char *label)
{
  Lib lib = { 0 };
  g_autoptr(BleioCharacteristic) chr = NULL;
  double start, end, c0;

  lib_open (b, &lib);
  chr = bench_find_characteristic (lib.services, BENCH_CHR_READ);
  if (label != NULL)
    bench_callgrind_zero ();
  c0 = bench_cpu_now ();
  start = bench_now ();
  for (guint i = 0; i < count; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) value = bleio_characteristic_read_value (chr, &error);

      if (value == NULL || g_bytes_get_size (value) != 8)
        {
          g_printerr ("bench-notify: read_value: %s\n",
                      error != NULL ? error->message : "wrong length");
          exit (1);
        }
    }
  end = bench_now ();
  last_cpu = bench_cpu_now () - c0;
  if (label != NULL)
    bench_callgrind_dump (label);
  g_clear_object (&chr);
  lib_close (&lib);
  return count / (end - start);
}

int
main (int    argc,
      char **argv)
{
  Bench b = { 0 };
  guint fd_count = 1000000;       /* ~1 s a run: 200,000 swung 2x between runs */
  guint signal_count = 20000;
  guint read_count = 2000;
  guint reps = 3;
  static const gsize sizes[] = { 20, 244 };

  g_set_prgname ("bench-notify");
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--count") == 0 && i + 1 < argc)
        fd_count = (guint) strtoul (argv[++i], NULL, 10);
      else if (strcmp (argv[i], "--signal-count") == 0 && i + 1 < argc)
        signal_count = (guint) strtoul (argv[++i], NULL, 10);
      else if (strcmp (argv[i], "--reads") == 0 && i + 1 < argc)
        read_count = (guint) strtoul (argv[++i], NULL, 10);
      else if (strcmp (argv[i], "--reps") == 0 && i + 1 < argc)
        reps = (guint) strtoul (argv[++i], NULL, 10);
      else if (strcmp (argv[i], "--cpu") == 0)
        b.cpu = TRUE;
      else
        {
          g_printerr ("usage: bench-notify [--count N] [--signal-count N] [--reads N] "
                      "[--reps N] [--cpu]\n");
          return 2;
        }
    }
  if (b.cpu)
    {
      fd_count = MIN (fd_count, 5000);
      signal_count = MIN (signal_count, 2000);
      read_count = MIN (read_count, 300);
      reps = 1;
    }
  if (fd_count == 0 || signal_count == 0 || read_count == 0 || reps == 0)
    {
      g_printerr ("bench-notify: counts must be positive\n");
      return 2;
    }

  b.fx = bench_sim_new (BENCH_PERIPH_SCENARIO);
  bench_sim_call (b.fx, "SetTemporaryTimeout", g_variant_new ("(u)", 3600000));
  b.device = bench_ensure_device (b.fx, BENCH_PERIPH_ADDRESS);
  {
    g_autoptr(GError) error = NULL;

    if (!sim_fixture_connect_device (b.fx, b.device, &error))
      {
        g_printerr ("bench-notify: connecting %s: %s\n", b.device, error->message);
        return 1;
      }
  }
  b.chr_fd = bench_find_gatt_path (b.fx, b.device, BENCH_CHR1, BENCH_CHR_NOTIFY_FD);
  b.chr_signal = bench_find_gatt_path (b.fx, b.device, BENCH_CHR1, BENCH_CHR_NOTIFY_SIGNAL);
  b.chr_read = bench_find_gatt_path (b.fx, b.device, BENCH_CHR1, BENCH_CHR_READ);

  bench_table_begin (b.cpu ? "Notifications and reads: instructions per operation (callgrind)"
                           : "Notifications into a CharacteristicBuffer, and reads");
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      gsize len = sizes[s];
      double lib_rate[16], raw_rate[16], bleak_rate[16], counted_rate[16];
      g_autofree char *name = NULL;
      char lab_lib[128], lab_raw[128];
      BenchFigures f;

      name = g_strdup_printf ("notify fd %zu B", len);
      cpu_label (lab_lib, sizeof lab_lib, name, "lib", fd_count);
      cpu_label (lab_raw, sizeof lab_raw, name, "raw", fd_count);
      bench_figures_init (&f);
      for (guint r = 0; r < MIN (reps, 16); r++)
        {
          raw_rate[r] = raw_fd (&b, len, fd_count, b.cpu ? lab_raw : NULL);
          keep_cpu (&f.raw_cpu, last_cpu / fd_count);
          lib_rate[r] = lib_buffer (&b, BENCH_CHR_NOTIFY_FD, TRUE, len, fd_count,
                                    b.cpu ? lab_lib : NULL);
          keep_cpu (&f.lib_cpu, last_cpu / fd_count);
        }
      f.lib = bench_best (lib_rate, MIN (reps, 16), BENCH_HIGHER_IS_BETTER);
      f.raw = bench_best (raw_rate, MIN (reps, 16), BENCH_HIGHER_IS_BETTER);
      if (!b.cpu)
        bench_table_row_full (name, "notifications/s", &f, BENCH_HIGHER_IS_BETTER, 0.9);

      g_free (name);
      name = g_strdup_printf ("notify signal %zu B", len);
      cpu_label (lab_lib, sizeof lab_lib, name, "lib", signal_count);
      cpu_label (lab_raw, sizeof lab_raw, name, "raw", signal_count);
      bench_figures_init (&f);
      for (guint r = 0; r < MIN (reps, 16); r++)
        {
          double cpu = 0;

          raw_rate[r] = raw_signals (&b, len, signal_count, b.cpu ? lab_raw : NULL);
          keep_cpu (&f.raw_cpu, last_cpu / signal_count);
          lib_rate[r] = lib_buffer (&b, BENCH_CHR_NOTIFY_SIGNAL, FALSE, len, signal_count,
                                    b.cpu ? lab_lib : NULL);
          keep_cpu (&f.lib_cpu, last_cpu / signal_count);
          if (b.cpu)
            continue;
          /* bleak and the counter are other programs or no library at all:
           * nothing for callgrind to count */
          bleak_rate[r] = bleak_signals (&b, len, signal_count, &cpu);
          if (bleak_rate[r] >= 0)
            keep_cpu (&f.bleak_cpu, cpu);
          counted_rate[r] = counted_signals (&b, len, signal_count, &cpu);
          keep_cpu (&f.counted_cpu, cpu);
        }
      if (!b.cpu)
        {
          f.lib = bench_best (lib_rate, MIN (reps, 16), BENCH_HIGHER_IS_BETTER);
          f.raw = bench_best (raw_rate, MIN (reps, 16), BENCH_HIGHER_IS_BETTER);
          f.bleak = bench_best (bleak_rate, MIN (reps, 16), BENCH_HIGHER_IS_BETTER);
          f.counted = bench_best (counted_rate, MIN (reps, 16), BENCH_HIGHER_IS_BETTER);
          bench_table_row_full (name, "notifications/s", &f, BENCH_HIGHER_IS_BETTER, 0.8);
        }
    }

  {
    double lib_rate[16], raw_rate[16];
    char lab_lib[128], lab_raw[128];

    cpu_label (lab_lib, sizeof lab_lib, "read", "lib", read_count);
    cpu_label (lab_raw, sizeof lab_raw, "read", "raw", read_count);
    BenchFigures f;

    bench_figures_init (&f);
    for (guint r = 0; r < MIN (reps, 16); r++)
      {
        raw_rate[r] = raw_reads (&b, read_count, b.cpu ? lab_raw : NULL);
        keep_cpu (&f.raw_cpu, last_cpu / read_count);
        lib_rate[r] = lib_reads (&b, read_count, b.cpu ? lab_lib : NULL);
        keep_cpu (&f.lib_cpu, last_cpu / read_count);
      }
    f.lib = bench_best (lib_rate, MIN (reps, 16), BENCH_HIGHER_IS_BETTER);
    f.raw = bench_best (raw_rate, MIN (reps, 16), BENCH_HIGHER_IS_BETTER);
    if (!b.cpu)
      bench_table_row_full ("read, one at a time", "reads/s", &f, BENCH_HIGHER_IS_BETTER, 0);
  }
  if (!b.cpu)
    {
      bench_note ("%u notifications per fd run, %u per signal run, %u reads; best of %u runs each",
                  fd_count, signal_count, read_count, reps);
      bench_note ("CPU per operation: getrusage of the receiving process, all its threads, "
                  "lowest of the runs; bleak: Debian's python3-bleak in a Python process of "
                  "its own; counter: a reader that only counts messages on a plain socket "
                  "(the simulator's delivery ceiling)");
    }

  g_free (b.device);
  g_free (b.chr_fd);
  g_free (b.chr_signal);
  g_free (b.chr_read);
  sim_fixture_free (b.fx);
  return 0;
}
