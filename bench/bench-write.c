/* SPDX-License-Identifier: MIT */
/*
 * Writes without response: through AcquireWrite (a BleioPacketBuffer
 * writing on the socket, against raw send() on a socket from a raw
 * AcquireWrite call) and through WriteValue with type "command"
 * (bleio_characteristic_write_value_full(), against a synchronous raw
 * GDBus call), one after the other as an application streaming data does.
 * Each write carries its sequence number; the clock stops when the
 * simulated peripheral holds the last one (read back with ReadValue from
 * the fixture's connection), so what the socket still buffered counts.
 * Raw and library alternate, --reps times; the best of each is reported.
 *
 * Usage: bench-write [--count N] [--calls N] [--reps N] [--cpu]
 * --cpu: one run per side under callgrind, counters dumped around the
 * writes themselves (the client's cost per write).
 */
#include "bench-common.h"
#include "bench-peripheral.h"

#include <errno.h>
#include <gio/gunixfdlist.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PAYLOAD 20

typedef struct {
  SimFixture *fx;
  char *device;
  char *chr_fd;
  char *chr_call;
} Bench;

static void
fill (guint8 *payload,
      guint   seq,
      guint   run)
{
  for (guint i = 0; i < PAYLOAD; i++)
    payload[i] = (guint8) (i * 3 + run);
  payload[0] = (guint8) (seq >> 24);
  payload[1] = (guint8) (seq >> 16);
  payload[2] = (guint8) (seq >> 8);
  payload[3] = (guint8) seq;
}

/* Waits until the peripheral's value is @last. */
static void
wait_value (Bench        *b,
            const char   *chr,
            const guint8 *last)
{
  gint64 end = g_get_monotonic_time () + BENCH_WAIT_USEC;

  while (g_get_monotonic_time () < end)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) reply = sim_fixture_call_bluez (b->fx, chr, BENCH_CHR1, "ReadValue",
                                                          g_variant_new ("(a{sv})", NULL),
                                                          &error);
      g_autoptr(GVariant) value = NULL;
      const guint8 *data;
      gsize n = 0;

      if (reply == NULL)
        {
          g_printerr ("bench-write: ReadValue: %s\n", error->message);
          exit (1);
        }
      value = g_variant_get_child_value (reply, 0);
      data = g_variant_get_fixed_array (value, &n, 1);
      if (n == PAYLOAD && memcmp (data, last, PAYLOAD) == 0)
        return;
      g_usleep (1000);
    }
  g_printerr ("bench-write: the last write never reached %s\n", chr);
  exit (1);
}

/* ---- raw GDBus ---- */

static double
raw_fd (Bench      *b,
        guint       count,
        guint       run,
        const char *label)
{
  GDBusConnection *connection = bench_connection_new (b->fx);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  guint8 payload[PAYLOAD];
  double start, end;
  int fd;

  reply = g_dbus_connection_call_with_unix_fd_list_sync (connection, "org.bluez", b->chr_fd,
                                                         BENCH_CHR1, "AcquireWrite",
                                                         g_variant_new ("(a{sv})", NULL),
                                                         G_VARIANT_TYPE ("(hq)"),
                                                         G_DBUS_CALL_FLAGS_NONE, 10000,
                                                         NULL, &fds, NULL, &error);
  if (reply == NULL || (fd = g_unix_fd_list_get (fds, 0, &error)) < 0)
    {
      g_printerr ("bench-write: AcquireWrite: %s\n", error->message);
      exit (1);
    }
  g_clear_object (&fds);
  if (label != NULL)
    bench_callgrind_zero ();
  start = bench_now ();
  for (guint i = 0; i < count; i++)
    {
      fill (payload, i, run);
      while (send (fd, payload, PAYLOAD, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        {
          struct pollfd pfd = { fd, POLLOUT, 0 };

          if (errno != EAGAIN && errno != EINTR)
            {
              g_printerr ("bench-write: send: %s\n", g_strerror (errno));
              exit (1);
            }
          poll (&pfd, 1, 1000);
        }
    }
  if (label != NULL)
    bench_callgrind_dump (label);
  wait_value (b, b->chr_fd, payload);
  end = bench_now ();
  close (fd);
  bench_connection_free (connection);
  if (!sim_fixture_wait_property (b->fx, b->chr_fd, BENCH_CHR1, "WriteAcquired",
                                  g_variant_new_boolean (FALSE), 30000))
    g_printerr ("bench-write: WriteAcquired stayed true\n");
  return count / (end - start);
}

static double
raw_calls (Bench      *b,
           guint       count,
           guint       run,
           const char *label)
{
  GDBusConnection *connection = bench_connection_new (b->fx);
  guint8 payload[PAYLOAD];
  double start, end;

  if (label != NULL)
    bench_callgrind_zero ();
  start = bench_now ();
  for (guint i = 0; i < count; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) reply = NULL;
      GVariantBuilder options;

      fill (payload, i, run);
      g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&options, "{sv}", "type", g_variant_new_string ("command"));
      reply = g_dbus_connection_call_sync (connection, "org.bluez", b->chr_call, BENCH_CHR1,
                                           "WriteValue",
                                           g_variant_new ("(@aya{sv})",
                                                          g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                                     payload, PAYLOAD, 1),
                                                          &options),
                                           NULL, G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
      if (reply == NULL)
        {
          g_printerr ("bench-write: WriteValue: %s\n", error->message);
          exit (1);
        }
    }
  if (label != NULL)
    bench_callgrind_dump (label);
  wait_value (b, b->chr_call, payload);
  end = bench_now ();
  bench_connection_free (connection);
  return count / (end - start);
}

/* ---- libbleio ---- */

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
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static double
lib_fd (Bench      *b,
        guint       count,
        guint       run,
        const char *label)
{
  Lib lib = { 0 };
  g_autoptr(BleioCharacteristic) chr = NULL;
  g_autoptr(BleioPacketBuffer) buffer = NULL;
  g_autoptr(GError) error = NULL;
  guint8 payload[PAYLOAD];
  double start, end;

  lib_open (b, &lib);
  chr = bench_find_characteristic (lib.services, BENCH_CHR_WRITE_FD);
  buffer = bleio_packet_buffer_new (chr, 16, 0, &error);
  if (buffer == NULL)
    {
      g_printerr ("bench-write: PacketBuffer: %s\n", error->message);
      exit (1);
    }
  if (!bleio_packet_buffer_get_write_acquired (buffer))
    {
      g_printerr ("bench-write: the PacketBuffer did not take AcquireWrite\n");
      exit (1);
    }
  if (label != NULL)
    bench_callgrind_zero ();
  start = bench_now ();
  for (guint i = 0; i < count; i++)
    {
      fill (payload, i, run);
      if (bleio_packet_buffer_write (buffer, payload, PAYLOAD, NULL, 0, &error) != PAYLOAD)
        {
          g_printerr ("bench-write: packet_buffer_write: %s\n",
                      error != NULL ? error->message : "short write");
          exit (1);
        }
    }
  if (label != NULL)
    bench_callgrind_dump (label);
  wait_value (b, b->chr_fd, payload);
  end = bench_now ();
  bleio_packet_buffer_deinit (buffer);
  g_clear_object (&buffer);
  g_clear_object (&chr);
  lib_close (&lib);
  if (!sim_fixture_wait_property (b->fx, b->chr_fd, BENCH_CHR1, "WriteAcquired",
                                  g_variant_new_boolean (FALSE), 30000))
    g_printerr ("bench-write: WriteAcquired stayed true after the library's buffer\n");
  return count / (end - start);
}

static double
lib_calls (Bench      *b,
           guint       count,
           guint       run,
           const char *label)
{
  Lib lib = { 0 };
  g_autoptr(BleioCharacteristic) chr = NULL;
  guint8 payload[PAYLOAD];
  double start, end;

  lib_open (b, &lib);
  chr = bench_find_characteristic (lib.services, BENCH_CHR_WRITE_CALL);
  if (label != NULL)
    bench_callgrind_zero ();
  start = bench_now ();
  for (guint i = 0; i < count; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) value = NULL;

      fill (payload, i, run);
      value = g_bytes_new (payload, PAYLOAD);
      if (!bleio_characteristic_write_value_full (chr, value, BLEIO_WRITE_TYPE_COMMAND, 0,
                                                  &error))
        {
          g_printerr ("bench-write: write_value_full: %s\n", error->message);
          exit (1);
        }
    }
  if (label != NULL)
    bench_callgrind_dump (label);
  wait_value (b, b->chr_call, payload);
  end = bench_now ();
  g_clear_object (&chr);
  lib_close (&lib);
  return count / (end - start);
}

int
main (int    argc,
      char **argv)
{
  Bench b = { 0 };
  guint count = 1000000;        /* ~1 s: 100,000 swung 2x from run to run */
  guint calls = 3000;
  guint reps = 3;
  gboolean cpu = FALSE;
  double lib_rate[16], raw_rate[16];

  g_set_prgname ("bench-write");
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--count") == 0 && i + 1 < argc)
        count = (guint) strtoul (argv[++i], NULL, 10);
      else if (strcmp (argv[i], "--calls") == 0 && i + 1 < argc)
        calls = (guint) strtoul (argv[++i], NULL, 10);
      else if (strcmp (argv[i], "--reps") == 0 && i + 1 < argc)
        reps = (guint) strtoul (argv[++i], NULL, 10);
      else if (strcmp (argv[i], "--cpu") == 0)
        cpu = TRUE;
      else
        {
          g_printerr ("usage: bench-write [--count N] [--calls N] [--reps N] [--cpu]\n");
          return 2;
        }
    }
  reps = CLAMP (reps, 1, 16);
  if (cpu)
    {
      count = MIN (count, 20000);
      calls = MIN (calls, 300);
    }
  if (count == 0 || calls == 0)
    {
      g_printerr ("bench-write: counts must be positive\n");
      return 2;
    }

  b.fx = bench_sim_new (BENCH_PERIPH_SCENARIO);
  bench_sim_call (b.fx, "SetTemporaryTimeout", g_variant_new ("(u)", 3600000));
  b.device = bench_ensure_device (b.fx, BENCH_PERIPH_ADDRESS);
  {
    g_autoptr(GError) error = NULL;

    if (!sim_fixture_connect_device (b.fx, b.device, &error))
      {
        g_printerr ("bench-write: connecting %s: %s\n", b.device, error->message);
        return 1;
      }
  }
  b.chr_fd = bench_find_gatt_path (b.fx, b.device, BENCH_CHR1, BENCH_CHR_WRITE_FD);
  b.chr_call = bench_find_gatt_path (b.fx, b.device, BENCH_CHR1, BENCH_CHR_WRITE_CALL);

  if (cpu)
    {
      g_autofree char *fd_raw = g_strdup_printf ("write fd|raw|%u", count);
      g_autofree char *fd_lib = g_strdup_printf ("write fd|lib|%u", count);
      g_autofree char *call_raw = g_strdup_printf ("write call|raw|%u", calls);
      g_autofree char *call_lib = g_strdup_printf ("write call|lib|%u", calls);

      bench_table_begin ("Writes: instructions per write (callgrind)");
      raw_fd (&b, count, 0, fd_raw);
      lib_fd (&b, count, 1, fd_lib);
      raw_calls (&b, calls, 0, call_raw);
      lib_calls (&b, calls, 1, call_lib);
      reps = 0;
    }
  else
    bench_table_begin ("Writes without response, 20 bytes each");
  for (guint r = 0; r < reps; r++)
    {
      raw_rate[r] = raw_fd (&b, count, 2 * r, NULL);
      lib_rate[r] = lib_fd (&b, count, 2 * r + 1, NULL);
    }
  if (reps > 0)
    bench_table_row ("write AcquireWrite", "writes/s",
                     bench_best (lib_rate, reps, BENCH_HIGHER_IS_BETTER),
                     bench_best (raw_rate, reps, BENCH_HIGHER_IS_BETTER),
                     BENCH_HIGHER_IS_BETTER, 0.9);
  for (guint r = 0; r < reps; r++)
    {
      raw_rate[r] = raw_calls (&b, calls, 2 * r, NULL);
      lib_rate[r] = lib_calls (&b, calls, 2 * r + 1, NULL);
    }
  if (reps > 0)
    bench_table_row ("write WriteValue (command)", "writes/s",
                     bench_best (lib_rate, reps, BENCH_HIGHER_IS_BETTER),
                     bench_best (raw_rate, reps, BENCH_HIGHER_IS_BETTER),
                     BENCH_HIGHER_IS_BETTER, 0.9);
  if (reps > 0)
    bench_note ("%u writes per AcquireWrite run, %u per WriteValue run; best of %u runs each",
                count, calls, reps);

  g_free (b.device);
  g_free (b.chr_fd);
  g_free (b.chr_call);
  sim_fixture_free (b.fx);
  return 0;
}
