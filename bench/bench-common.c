/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the libbleio-versus-raw-GDBus benchmarks; see bench-common.h.
 */
#include "bench-common.h"

#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
  g_print ("%-44s %14s %14s %8s  %s\n", "case", "libbleio", "raw GDBus", "ratio",
           "goal");
  g_print ("%-44s %14s %14s %8s  %s\n", "--------------------------------------------",
           "--------------", "--------------", "--------", "----------------");
}

static const char *
format_value (char   *buf,
              gsize   size,
              double  value)
{
  if (value >= 100)
    g_snprintf (buf, size, "%.0f", value);
  else if (value >= 10)
    g_snprintf (buf, size, "%.1f", value);
  else
    g_snprintf (buf, size, "%.3f", value);
  return buf;
}

void
bench_table_row (const char     *name,
                 const char     *unit,
                 double          lib,
                 double          raw,
                 BenchDirection  direction,
                 double          goal)
{
  double ratio = raw > 0 ? lib / raw : 0;
  gboolean met = direction == BENCH_HIGHER_IS_BETTER ? ratio >= goal : ratio <= goal;
  g_autofree char *label = g_strdup_printf ("%s (%s)", name, unit);
  g_autofree char *goal_text = NULL;
  char a[32], b[32];
  FILE *file = tsv ();

  if (goal > 0)
    goal_text = g_strdup_printf ("%s %.2fx: %s",
                                 direction == BENCH_HIGHER_IS_BETTER ? ">=" : "<=",
                                 goal, met ? "met" : "NOT MET");
  else
    goal_text = g_strdup ("-");
  g_print ("%-44s %14s %14s %7.3fx  %s\n", label, format_value (a, sizeof a, lib),
           format_value (b, sizeof b, raw), ratio, goal_text);
  if (file != NULL)
    {
      fprintf (file, "%s\t%s\t%s\t%.6g\t%.6g\t%.4f\t%s\n", g_get_prgname (), name, unit,
               lib, raw, ratio, goal_text);
      fflush (file);
    }
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
  double best = n > 0 ? values[0] : 0;

  for (guint i = 1; i < n; i++)
    if (direction == BENCH_HIGHER_IS_BETTER ? values[i] > best : values[i] < best)
      best = values[i];
  return best;
}
