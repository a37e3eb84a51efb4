/* SPDX-License-Identifier: MIT */
/*
 * Scan throughput: the simulator's Flood makes N advertisers advertise R
 * times each as fast as it can; libbleio delivers ScanEntries through
 * bleio_scan_results_next(), and a raw GDBus subscriber counts the same
 * advertisements as they come: InterfacesAdded for a device's first one,
 * PropertiesChanged of ManufacturerData for the others. The clock runs
 * from the Flood request until the last advertisement is in hand. Each
 * measurement gets a fresh simulator, so every run starts with BlueZ
 * knowing no device; raw and library alternate, --reps times, best kept.
 *
 * Usage: bench-scan [--reps N] [--cpu]
 * --cpu: one small flood per side with callgrind counter dumps around it.
 */
#include "bench-common.h"

#include <stdlib.h>
#include <string.h>

#define SCENARIO \
  "{ \"adapters\": [ { \"name\": \"hci0\", \"address\": \"00:AA:01:00:00:00\" } ],\n" \
  "  \"peripherals\": [] }\n"

/* CPU seconds this process used in the last measured part (all threads). */
static double last_cpu;

/* The lowest CPU per entry of the runs (the least disturbed). */
static void
keep_cpu (double *kept,
          double  cpu)
{
  if (*kept < 0 || cpu < *kept)
    *kept = cpu;
}

static void
flood (SimFixture *fx,
       guint       devices,
       guint       rounds)
{
  bench_sim_call (fx, "Flood", g_variant_new ("(suu)", "hci0", devices, rounds));
}

static gboolean
wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* ---- raw GDBus ---- */

typedef struct {
  guint count;
  guint64 bytes;                /* of ManufacturerData seen: the work is done */
} RawScan;

static void
take_manufacturer_data (RawScan  *state,
                        GVariant *props)
{
  g_autoptr(GVariant) mfr = g_variant_lookup_value (props, "ManufacturerData",
                                                    G_VARIANT_TYPE ("a{qv}"));
  GVariantIter iter;
  guint16 company;
  GVariant *value;

  if (mfr == NULL)
    return;
  g_variant_iter_init (&iter, mfr);
  while (g_variant_iter_next (&iter, "{qv}", &company, &value))
    {
      gsize n = 0;

      if (g_variant_is_of_type (value, G_VARIANT_TYPE_BYTESTRING))
        g_variant_get_fixed_array (value, &n, 1);
      state->bytes += n;
      g_variant_unref (value);
    }
  state->count++;
}

static void
on_added (GDBusConnection *connection,
          const char      *sender,
          const char      *path,
          const char      *interface,
          const char      *signal,
          GVariant        *params,
          gpointer         user_data)
{
  const char *object;
  g_autoptr(GVariant) interfaces = NULL;
  g_autoptr(GVariant) device = NULL;

  g_variant_get (params, "(&o@a{sa{sv}})", &object, &interfaces);
  if (!g_str_has_prefix (object, BENCH_ADAPTER "/dev_"))
    return;
  device = g_variant_lookup_value (interfaces, BENCH_DEVICE1, G_VARIANT_TYPE ("a{sv}"));
  if (device != NULL)
    take_manufacturer_data (user_data, device);
}

static void
on_changed (GDBusConnection *connection,
            const char      *sender,
            const char      *path,
            const char      *interface,
            const char      *signal,
            GVariant        *params,
            gpointer         user_data)
{
  g_autoptr(GVariant) changed = NULL;

  if (!g_str_has_prefix (path, BENCH_ADAPTER "/dev_"))
    return;
  g_variant_get (params, "(&s@a{sv}@as)", NULL, &changed, NULL);
  take_manufacturer_data (user_data, changed);
}

static double
raw_scan (guint       devices,
          guint       rounds,
          const char *label)
{
  g_autoptr(SimFixture) fx = bench_sim_new (SCENARIO);
  GDBusConnection *connection = bench_connection_new (fx);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  RawScan state = { 0, 0 };
  GVariantBuilder filter;
  guint added, changed, waker;
  guint expected = devices * rounds;
  double start, end, c0;
  gint64 deadline;

  added = g_dbus_connection_signal_subscribe (connection, "org.bluez",
                                              "org.freedesktop.DBus.ObjectManager",
                                              "InterfacesAdded", "/", NULL,
                                              G_DBUS_SIGNAL_FLAGS_NONE, on_added, &state, NULL);
  changed = g_dbus_connection_signal_subscribe (connection, "org.bluez", BENCH_PROPS,
                                                "PropertiesChanged", NULL, BENCH_DEVICE1,
                                                G_DBUS_SIGNAL_FLAGS_NONE, on_changed, &state,
                                                NULL);
  g_variant_builder_init (&filter, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&filter, "{sv}", "Transport", g_variant_new_string ("le"));
  g_variant_builder_add (&filter, "{sv}", "DuplicateData", g_variant_new_boolean (TRUE));
  reply = g_dbus_connection_call_sync (connection, "org.bluez", BENCH_ADAPTER,
                                       "org.bluez.Adapter1", "SetDiscoveryFilter",
                                       g_variant_new ("(a{sv})", &filter), NULL,
                                       G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
  if (reply != NULL)
    {
      g_clear_pointer (&reply, g_variant_unref);
      reply = g_dbus_connection_call_sync (connection, "org.bluez", BENCH_ADAPTER,
                                           "org.bluez.Adapter1", "StartDiscovery", NULL, NULL,
                                           G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
    }
  if (reply == NULL)
    {
      g_printerr ("bench-scan: starting discovery: %s\n", error->message);
      exit (1);
    }
  waker = g_timeout_add (100, wake, NULL);
  deadline = g_get_monotonic_time () + BENCH_WAIT_USEC;
  if (label != NULL)
    bench_callgrind_zero ();
  c0 = bench_cpu_now ();
  start = bench_now ();
  flood (fx, devices, rounds);
  while (state.count < expected && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  end = bench_now ();
  last_cpu = bench_cpu_now () - c0;
  if (label != NULL)
    bench_callgrind_dump (label);
  g_source_remove (waker);
  g_dbus_connection_signal_unsubscribe (connection, added);
  g_dbus_connection_signal_unsubscribe (connection, changed);
  bench_connection_free (connection);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  if (state.count < expected || state.bytes == 0)
    {
      g_printerr ("bench-scan: raw: %u of %u advertisements arrived\n", state.count, expected);
      exit (1);
    }
  return expected / (end - start);
}

/* ---- libbleio ---- */

static double
lib_scan (guint       devices,
          guint       rounds,
          const char *label,
          guint      *dropped)
{
  g_autoptr(SimFixture) fx = bench_sim_new (SCENARIO);
  GDBusConnection *connection = bench_connection_new (fx);
  g_autoptr(BleioAdapter) adapter = bench_adapter (connection);
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(GError) error = NULL;
  guint expected = devices * rounds;
  guint count = 0;
  guint64 bytes = 0;
  double start, end, c0;
  gint64 deadline;

  /* Room for every entry: this measures delivery, not dropping. */
  results = bleio_adapter_start_scan (adapter, NULL, 256u << 20, FALSE, 0, 0.1, 0.1, -127,
                                      TRUE, &error);
  if (results == NULL)
    {
      g_printerr ("bench-scan: start_scan: %s\n", error->message);
      exit (1);
    }
  deadline = g_get_monotonic_time () + BENCH_WAIT_USEC;
  if (label != NULL)
    bench_callgrind_zero ();
  c0 = bench_cpu_now ();
  start = bench_now ();
  flood (fx, devices, rounds);
  while (count < expected && g_get_monotonic_time () < deadline)
    {
      g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, 1.0, &error);
      GBytes *adv;

      if (entry == NULL)
        {
          if (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_TIMEOUT))
            {
              g_clear_error (&error);
              continue;
            }
          g_printerr ("bench-scan: next: %s\n", error != NULL ? error->message : "scan over");
          exit (1);
        }
      adv = bleio_scan_entry_get_advertisement_bytes (entry);
      bytes += g_bytes_get_size (adv);
      count++;
    }
  end = bench_now ();
  last_cpu = bench_cpu_now () - c0;
  if (label != NULL)
    bench_callgrind_dump (label);
  *dropped = bleio_scan_results_get_dropped (results);
  if (!bleio_adapter_stop_scan (adapter, &error))
    g_printerr ("bench-scan: stop_scan: %s\n", error->message);
  g_clear_object (&results);
  g_clear_object (&adapter);
  bench_connection_free (connection);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  if (count < expected || bytes == 0)
    {
      g_printerr ("bench-scan: libbleio: %u of %u entries arrived (%u dropped)\n", count,
                  expected, *dropped);
      exit (1);
    }
  return expected / (end - start);
}

/* ---- bleak: a BleakScanner's detection callback ---- */

/* Entries per second through bleak, or BENCH_NONE; CPU per entry in *@cpu. */
static double
bleak_scan (guint   devices,
            guint   rounds,
            double *cpu)
{
  g_autoptr(SimFixture) fx = bench_sim_new (SCENARIO);
  g_autofree char *devices_text = g_strdup_printf ("%u", devices);
  g_autofree char *rounds_text = g_strdup_printf ("%u", rounds);
  const char *args[] = { "scan", sim_fixture_get_sim_name (fx), devices_text, rounds_text,
                         NULL };
  BenchBleak r;

  if (!bench_bleak_run (fx, args, &r))
    return BENCH_NONE;
  *cpu = r.cpu / r.count;
  return r.count / r.seconds;
}

/* ---- the counting reader: what the simulator delivers ---- */

typedef struct {
  SimFixture *fx;
  guint devices, rounds;
} CounterFlood;

static void
counter_start (gpointer data)
{
  CounterFlood *c = data;

  flood (c->fx, c->devices, c->rounds);
}

static double
counted_scan (guint   devices,
              guint   rounds,
              double *cpu)
{
  static const char * const rules[] = {
    "type='signal',sender='org.bluez',path='/',"
    "interface='org.freedesktop.DBus.ObjectManager',member='InterfacesAdded'",
    "type='signal',sender='org.bluez',interface='" BENCH_PROPS "',"
    "member='PropertiesChanged',arg0='" BENCH_DEVICE1 "'",
    NULL
  };
  g_autoptr(SimFixture) fx = bench_sim_new (SCENARIO);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  GVariantBuilder filter;
  CounterFlood c = { fx, devices, rounds };
  BenchCounter *counter = bench_counter_connect (fx, rules);
  double seconds = 0;

  /* Discovery is the fixture's own (the counter only reads); the signals
   * of the devices go to every matching client. */
  g_variant_builder_init (&filter, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&filter, "{sv}", "Transport", g_variant_new_string ("le"));
  g_variant_builder_add (&filter, "{sv}", "DuplicateData", g_variant_new_boolean (TRUE));
  reply = sim_fixture_call_bluez (fx, BENCH_ADAPTER, "org.bluez.Adapter1", "SetDiscoveryFilter",
                                  g_variant_new ("(a{sv})", &filter), &error);
  if (reply != NULL)
    {
      g_clear_pointer (&reply, g_variant_unref);
      reply = sim_fixture_call_bluez (fx, BENCH_ADAPTER, "org.bluez.Adapter1", "StartDiscovery",
                                      NULL, &error);
    }
  if (reply == NULL)
    {
      g_printerr ("bench-scan: counter: starting discovery: %s\n", error->message);
      exit (1);
    }
  if (!bench_counter_run (counter, counter_start, &c, devices * rounds, &seconds, cpu))
    {
      g_printerr ("bench-scan: counter: fewer than %u advertisements arrived\n",
                  devices * rounds);
      exit (1);
    }
  *cpu /= devices * rounds;
  return devices * rounds / seconds;
}

int
main (int    argc,
      char **argv)
{
  static const struct { guint devices, rounds; } runs[] = {
    { 1000, 20 },
    { 10000, 3 },
  };
  guint reps = 3;
  gboolean cpu = FALSE;

  g_set_prgname ("bench-scan");
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--reps") == 0 && i + 1 < argc)
        reps = (guint) strtoul (argv[++i], NULL, 10);
      else if (strcmp (argv[i], "--cpu") == 0)
        cpu = TRUE;
      else
        {
          g_printerr ("usage: bench-scan [--reps N] [--cpu]\n");
          return 2;
        }
    }
  reps = CLAMP (reps, 1, 16);

  if (cpu)
    {
      guint dropped = 0;

      bench_table_begin ("Scan entries: instructions per entry (callgrind)");
      raw_scan (500, 4, "scan entry|raw|2000");
      lib_scan (500, 4, "scan entry|lib|2000", &dropped);
      return 0;
    }

  bench_table_begin ("Scan throughput: advertisements from a Flood");
  for (guint i = 0; i < G_N_ELEMENTS (runs); i++)
    {
      double lib_rate[16], raw_rate[16], bleak_rate[16], counted_rate[16];
      guint dropped = 0, most_dropped = 0;
      guint expected = runs[i].devices * runs[i].rounds;
      g_autofree char *name = g_strdup_printf ("scan %u devices x %u", runs[i].devices,
                                               runs[i].rounds);
      BenchFigures f;

      bench_figures_init (&f);
      for (guint r = 0; r < reps; r++)
        {
          double used = 0;

          raw_rate[r] = raw_scan (runs[i].devices, runs[i].rounds, NULL);
          keep_cpu (&f.raw_cpu, last_cpu / expected);
          lib_rate[r] = lib_scan (runs[i].devices, runs[i].rounds, NULL, &dropped);
          keep_cpu (&f.lib_cpu, last_cpu / expected);
          most_dropped = MAX (most_dropped, dropped);
          bleak_rate[r] = bleak_scan (runs[i].devices, runs[i].rounds, &used);
          if (bleak_rate[r] >= 0)
            keep_cpu (&f.bleak_cpu, used);
          counted_rate[r] = counted_scan (runs[i].devices, runs[i].rounds, &used);
          keep_cpu (&f.counted_cpu, used);
        }
      f.lib = bench_best (lib_rate, reps, BENCH_HIGHER_IS_BETTER);
      f.raw = bench_best (raw_rate, reps, BENCH_HIGHER_IS_BETTER);
      f.bleak = bench_best (bleak_rate, reps, BENCH_HIGHER_IS_BETTER);
      f.counted = bench_best (counted_rate, reps, BENCH_HIGHER_IS_BETTER);
      bench_table_row_full (name, "entries/s", &f, BENCH_HIGHER_IS_BETTER, 0.8);
      bench_note ("%s: every advertisement delivered, %u entries dropped (buffer_size 256 MiB)",
                  name, most_dropped);
    }
  bench_note ("best of %u runs each, each on a fresh simulator", reps);
  bench_note ("CPU per entry: getrusage of the receiving process, all its threads, lowest of "
              "the runs; bleak: Debian's python3-bleak, a BleakScanner with DuplicateData; "
              "counter: a reader that only counts the signals on a plain socket");
  return 0;
}
