/* SPDX-License-Identifier: MIT */
/*
 * Memory: a process that scanned 10,000 advertisers (the simulator's
 * Flood) and then holds 20 connections with their GATT databases
 * discovered (20 x 310 objects), as libbleio, against GDBus's object
 * manager alone (GDBusObjectManagerClient over org.bluez) holding the same
 * objects. Each side runs in a child process of its own on a fresh
 * simulator, so their heaps do not mix; the child reports the heap in use
 * (glibc's mallinfo2: what malloc handed out and not yet got back) and its
 * RSS after connecting to the bus, after the scan and after the
 * connections. Heap per device and per attribute are the differences
 * divided by the object counts.
 *
 * Usage: bench-memory [--devices N]
 */
#include "bench-common.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PEERS 20
#define PEER_FORMAT "C0:FF:EE:00:0D:%02X"
#define PEER_OBJECTS (10 * (1 + 10 * 3))

typedef struct {
  gsize heap[3];
  gsize rss[3];
} Figures;

static gsize
heap_in_use (void)
{
  struct mallinfo2 info = mallinfo2 ();

  return info.uordblks + info.hblkhd;
}

static gsize
rss (void)
{
  g_autofree char *statm = NULL;
  unsigned long size = 0, resident = 0;

  if (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL))
    sscanf (statm, "%lu %lu", &size, &resident);
  return resident * (gsize) sysconf (_SC_PAGESIZE);
}

static void
sample (Figures *f,
        guint    i)
{
  /* Give back what the allocator keeps only for speed. */
  malloc_trim (0);
  f->heap[i] = heap_in_use ();
  f->rss[i] = rss ();
}

static char *
make_scenario (void)
{
  GString *json = g_string_new (NULL);

  g_string_append (json, "{ \"adapters\": [ { \"name\": \"hci0\", \"address\": \"00:AA:01:00:00:00\" } ],\n"
                         "  \"peripherals\": [\n");
  for (guint p = 0; p < PEERS; p++)
    {
      g_string_append_printf (json, "%s  { \"address\": \"" PEER_FORMAT "\", \"name\": \"Held-%u\", "
                              "\"advertising_interval_ms\": 100,\n"
                              "    \"connect\": { \"delay_ms\": 1, \"resolve_delay_ms\": 1 },\n"
                              "    \"gatt\": [\n", p > 0 ? ",\n" : "", p, p);
      for (guint s = 0; s < 10; s++)
        {
          g_string_append_printf (json, "%s      { \"uuid\": \"%04x\", \"characteristics\": [",
                                  s > 0 ? ",\n" : "", 0xd000 + s);
          for (guint c = 0; c < 10; c++)
            g_string_append_printf (json,
                                    "%s{ \"uuid\": \"%04x\", \"flags\": [\"read\"], \"value\": \"%02x\", "
                                    "\"descriptors\": [ { \"uuid\": \"2901\", \"value\": \"61\" }, "
                                    "{ \"uuid\": \"2904\", \"value\": \"04000027ad0100\" } ] }",
                                    c > 0 ? ", " : "", 0xe000 + c, c);
          g_string_append (json, "] }");
        }
      g_string_append (json, " ] }");
    }
  g_string_append (json, "\n  ] }\n");
  return g_string_free (json, FALSE);
}

static void G_GNUC_NORETURN
fail (const char *what,
      GError     *error)
{
  g_printerr ("bench-memory: %s: %s\n", what, error != NULL ? error->message : "failed");
  exit (1);
}

static GDBusConnection *
child_bus (void)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *bus =
    g_dbus_connection_new_for_address_sync (g_getenv ("DBUS_SYSTEM_BUS_ADDRESS"),
                                            G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                            NULL, NULL, &error);

  if (bus == NULL)
    fail ("connecting to the bus", error);
  return bus;
}

static void
call_sim (GDBusConnection *bus,
          const char      *method,
          GVariant        *params)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (bus, "org.bluez", SIM_FIXTURE_CONTROL_PATH,
                                                           SIM_FIXTURE_CONTROL_INTERFACE, method,
                                                           params, NULL, G_DBUS_CALL_FLAGS_NONE,
                                                           60000, NULL, &error);

  if (reply == NULL)
    fail (method, error);
}

/* ---- raw: GDBusObjectManagerClient ---- */

static guint
count_devices (GDBusObjectManager *manager)
{
  GList *objects = g_dbus_object_manager_get_objects (manager);
  guint n = 0;

  for (GList *l = objects; l != NULL; l = l->next)
    {
      g_autoptr(GDBusInterface) device = g_dbus_object_get_interface (l->data, BENCH_DEVICE1);

      n += device != NULL;
    }
  g_list_free_full (objects, g_object_unref);
  return n;
}

static guint
count_under (GDBusObjectManager *manager,
             const char         *prefix)
{
  GList *objects = g_dbus_object_manager_get_objects (manager);
  guint n = 0;

  for (GList *l = objects; l != NULL; l = l->next)
    n += g_str_has_prefix (g_dbus_object_get_object_path (l->data), prefix);
  g_list_free_full (objects, g_object_unref);
  return n;
}

static void
raw_child (guint    devices,
           Figures *f)
{
  GDBusConnection *bus = child_bus ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusObjectManager) manager = NULL;
  g_autoptr(GVariant) reply = NULL;
  gint64 end;

  manager = g_dbus_object_manager_client_new_sync (bus, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE,
                                                   "org.bluez", "/", NULL, NULL, NULL, NULL,
                                                   &error);
  if (manager == NULL)
    fail ("GDBusObjectManagerClient", error);
  sample (f, 0);

  reply = g_dbus_connection_call_sync (bus, "org.bluez", BENCH_ADAPTER, "org.bluez.Adapter1",
                                       "StartDiscovery", NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
                                       10000, NULL, &error);
  if (reply == NULL)
    fail ("StartDiscovery", error);
  call_sim (bus, "Flood", g_variant_new ("(suu)", "hci0", devices, 1));
  end = g_get_monotonic_time () + BENCH_WAIT_USEC;
  while (count_devices (manager) < devices + PEERS && g_get_monotonic_time () < end)
    for (guint i = 0; i < 1000 && g_main_context_iteration (NULL, FALSE); i++)
      ;
  g_clear_pointer (&reply, g_variant_unref);
  reply = g_dbus_connection_call_sync (bus, "org.bluez", BENCH_ADAPTER, "org.bluez.Adapter1",
                                       "StopDiscovery", NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
                                       10000, NULL, &error);
  if (count_devices (manager) < devices + PEERS)
    fail ("the scan", NULL);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  sample (f, 1);

  for (guint p = 0; p < PEERS; p++)
    {
      g_autofree char *path = g_strdup_printf (BENCH_ADAPTER "/dev_C0_FF_EE_00_0D_%02X", p);
      g_autofree char *prefix = g_strconcat (path, "/", NULL);

      g_clear_pointer (&reply, g_variant_unref);
      reply = g_dbus_connection_call_sync (bus, "org.bluez", path, BENCH_DEVICE1, "Connect",
                                           NULL, NULL, G_DBUS_CALL_FLAGS_NONE, 30000, NULL,
                                           &error);
      if (reply == NULL)
        fail ("Connect", error);
      end = g_get_monotonic_time () + BENCH_WAIT_USEC;
      while (count_under (manager, prefix) < PEER_OBJECTS && g_get_monotonic_time () < end)
        g_main_context_iteration (NULL, TRUE);
      if (count_under (manager, prefix) < PEER_OBJECTS)
        fail ("the GATT objects", NULL);
    }
  while (g_main_context_iteration (NULL, FALSE))
    ;
  sample (f, 2);
}

/* ---- libbleio ---- */

static void
lib_child (guint    devices,
           Figures *f)
{
  GDBusConnection *bus = child_bus ();
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = bench_adapter (bus);
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) databases = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  guint peers_seen = 0;
  gint64 end;

  sample (f, 0);
  /* _bleio's default buffer_size: memory stays bounded by it. */
  results = bleio_adapter_start_scan (adapter, NULL, 512, FALSE, 0, 0.1, 0.1, -127, TRUE, &error);
  if (results == NULL)
    fail ("start_scan", error);
  call_sim (bus, "Flood", g_variant_new ("(suu)", "hci0", devices, 1));
  end = g_get_monotonic_time () + BENCH_WAIT_USEC;
  /* Every advertiser was seen once BlueZ reported it: taken entries plus
   * those the small buffer dropped. */
  while ((g_hash_table_size (seen) + bleio_scan_results_get_dropped (results) < devices + PEERS ||
          peers_seen < PEERS) && g_get_monotonic_time () < end)
    {
      g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, 0.5, NULL);
      g_autofree char *address = NULL;

      if (entry == NULL)
        continue;
      address = bleio_address_to_string (bleio_scan_entry_get_address (entry));
      if (g_ascii_strncasecmp (address, "C0:FF:EE:00:0D:", 15) == 0)
        {
          char *key = g_strconcat ("peer ", address, NULL);

          if (!g_hash_table_contains (seen, key))
            peers_seen++;
          g_hash_table_add (seen, key);
        }
      else
        g_hash_table_add (seen, g_steal_pointer (&address));
    }
  if (!bleio_adapter_stop_scan (adapter, &error))
    fail ("stop_scan", error);
  if (peers_seen < PEERS)
    fail ("the scan", NULL);
  g_clear_object (&results);
  g_clear_pointer (&seen, g_hash_table_unref);
  g_usleep (200000);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  sample (f, 1);

  for (guint p = 0; p < PEERS; p++)
    {
      g_autofree char *address = g_strdup_printf (PEER_FORMAT, p);
      GPtrArray *services = NULL;

      g_ptr_array_add (held, bench_lib_connect (adapter, address, &services));
      g_ptr_array_add (databases, services);
    }
  g_usleep (200000);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  sample (f, 2);
}

static void
run_child (const char *side,
           guint       devices)
{
  Figures f = { { 0 }, { 0 } };

  if (g_str_equal (side, "lib"))
    lib_child (devices, &f);
  else
    raw_child (devices, &f);
  for (guint i = 0; i < 3; i++)
    g_print ("RESULT %u %" G_GSIZE_FORMAT " %" G_GSIZE_FORMAT "\n", i, f.heap[i], f.rss[i]);
}

static void
parent_side (const char *self,
             const char *side,
             guint       devices,
             Figures    *f)
{
  g_autofree char *scenario = make_scenario ();
  g_autoptr(SimFixture) fx = bench_sim_new (scenario);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *count = g_strdup_printf ("%u", devices);
  const char *argv[] = { self, "--child", side, "--devices", count, NULL };
  g_auto(GStrv) lines = NULL;
  int status = 0;
  guint got = 0;

  bench_sim_call (fx, "SetTemporaryTimeout", g_variant_new ("(u)", 3600000));
  /* The fixture set DBUS_SYSTEM_BUS_ADDRESS for this process and so for
   * the child. */
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, &out,
                     NULL, &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    fail (side, error);
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      guint k;
      gsize heap, resident;

      if (sscanf (lines[i], "RESULT %u %zu %zu", &k, &heap, &resident) == 3 && k < 3)
        {
          f->heap[k] = heap;
          f->rss[k] = resident;
          got++;
        }
    }
  if (got != 3)
    fail ("the child's figures", NULL);
}

int
main (int    argc,
      char **argv)
{
  const char *child = NULL;
  guint devices = 10000;
  Figures lib, raw;
  double attrs = PEERS * PEER_OBJECTS;

  g_set_prgname ("bench-memory");
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--child") == 0 && i + 1 < argc)
        child = argv[++i];
      else if (strcmp (argv[i], "--devices") == 0 && i + 1 < argc)
        devices = (guint) strtoul (argv[++i], NULL, 10);
      else
        {
          g_printerr ("usage: bench-memory [--devices N]\n");
          return 2;
        }
    }
  devices = CLAMP (devices, 1, 60000);
  if (child != NULL)
    {
      run_child (child, devices);
      return 0;
    }

  parent_side (argv[0], "raw", devices, &raw);
  parent_side (argv[0], "lib", devices, &lib);

  bench_table_begin ("Memory: scanned advertisers and held connections");
  bench_table_row ("heap per scanned device", "bytes",
                   (double) (lib.heap[1] - lib.heap[0]) / (devices + PEERS),
                   (double) (raw.heap[1] - raw.heap[0]) / (devices + PEERS),
                   BENCH_LOWER_IS_BETTER, 1.5);
  bench_table_row ("heap per discovered attribute", "bytes",
                   ((double) lib.heap[2] - (double) lib.heap[1]) / attrs,
                   ((double) raw.heap[2] - (double) raw.heap[1]) / attrs,
                   BENCH_LOWER_IS_BETTER, 1.5);
  bench_table_row ("heap in all", "MiB", lib.heap[2] / 1048576.0, raw.heap[2] / 1048576.0,
                   BENCH_LOWER_IS_BETTER, 1.5);
  bench_table_row ("RSS in all", "MiB", lib.rss[2] / 1048576.0, raw.rss[2] / 1048576.0,
                   BENCH_LOWER_IS_BETTER, 1.5);
  bench_note ("%u advertisers scanned, then %u connections holding %u GATT objects each; "
              "raw = GDBusObjectManagerClient over org.bluez", devices, PEERS, PEER_OBJECTS);
  return 0;
}
