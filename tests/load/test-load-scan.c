/* SPDX-License-Identifier: MIT */
/*
 * Load: 10,000 advertisers during a scan (org.bleio.Sim1.Flood). The
 * scan's buffer_size bounds what it holds for bleio_scan_results_next()
 * (an entry costs its advertisement plus 16 bytes): a consumer that does
 * not read keeps at most that much, and every other advertisement is
 * counted as dropped; a consumer that reads with a buffer that can hold a
 * round gets every advertisement once. Memory after ten rounds of 10,000
 * advertisements stays where it was after two: the library keeps one
 * cached object per device, nothing per advertisement, and lets go of it
 * when bluetoothd removes the device.
 */
#include "load.h"

#define N_DEVICES 10000
#define N_ROUNDS 10
#define SMALL_BUFFER 4096
#define BIG_BUFFER (1024 * 1024)
#define ENTRY_HEADER 16         /* documented cost of an entry beyond its bytes */
/* Growth allowed between round 2 and round N_ROUNDS: a leak of 16 bytes
 * per advertisement would be 1.2 MiB of heap over those 80,000. */
#define HEAP_SLACK_KIB 1024
#define RSS_SLACK_KIB (4 * 1024)
/* What may stay on the heap once bluetoothd has removed the devices
 * (they take about 55 MiB while cached). */
#define FORGOTTEN_SLACK_KIB 1024
/* Upper bound of every wait for a round; never a measured duration. */
#define ROUND_WAIT_MSEC (60 * 1000)

/* The Flood device index carried in the entry's manufacturer data
 * (company 0xFFFF: round, round, index, index), or -1. */
static int
flood_index (BleioScanEntry *entry)
{
  GBytes *bytes = bleio_scan_entry_get_advertisement_bytes (entry);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  for (gsize i = 0; i + 1 < len && data[i] > 0; i += (gsize) data[i] + 1)
    {
      gsize n = data[i];

      if (i + n >= len)
        break;
      if (data[i + 1] == 0xff && n == 7 && data[i + 2] == 0xff && data[i + 3] == 0xff)
        return data[i + 6] << 8 | data[i + 7];
    }
  return -1;
}

static gsize
entry_cost (BleioScanEntry *entry)
{
  return g_bytes_get_size (bleio_scan_entry_get_advertisement_bytes (entry)) + ENTRY_HEADER;
}

static void
flood (SimFixture *fx,
       guint       rounds)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = sim_fixture_call (fx, "Flood",
                                      g_variant_new ("(suu)", "hci0", (guint32) N_DEVICES,
                                                     (guint32) rounds),
                                      &error);

  assert_no_error (error);
  g_variant_unref (reply);
}

static int
fresh_sim (void **state)
{
  return load_group_setup (state);
}

static int
drop_sim (void **state)
{
  return load_group_teardown (state);
}

typedef struct {
  BleioScanResults *results;
  guint threshold;
} DroppedWait;

static gboolean
dropped_at_least (gpointer user_data)
{
  DroppedWait *w = user_data;

  return bleio_scan_results_get_dropped (w->results) >= w->threshold;
}

/* Nobody reads while 10,000 advertisers report once: the scan holds what
 * fits in SMALL_BUFFER (the first ones) and counts the rest as dropped. */
static void
test_unread_scan_is_bounded (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(BleioScanResults) results = NULL;
  g_autofree guint8 *seen = g_new0 (guint8, N_DEVICES);
  DroppedWait w;
  guint taken = 0, held = 0;
  gsize held_bytes = 0;
  gboolean in_prefix = TRUE;

  load_report ("scan-unread", "start");
  results = bleio_adapter_start_scan (adapter, NULL, SMALL_BUFFER, FALSE, 0, 0.1, 0.1,
                                      -127, TRUE, &error);
  assert_no_error (error);
  flood (fx, 1);

  /* Everything but what the buffer can hold has been dropped. */
  w.results = results;
  w.threshold = N_DEVICES - SMALL_BUFFER / ENTRY_HEADER;
  if (!common_wait (dropped_at_least, &w, ROUND_WAIT_MSEC))
    fail_msg ("only %u advertisements dropped", bleio_scan_results_get_dropped (results));
  printf ("load: scan: unread, buffer_size %u: %u of %u advertisements dropped before"
          " the first read\n", SMALL_BUFFER, bleio_scan_results_get_dropped (results), N_DEVICES);
  load_report ("scan-unread", "after 10,000 advertisements, unread");

  /* Now read: the entries held come first, devices 0, 1, ... in order,
   * then whatever was still on its way. Each device shows up once, and
   * what was neither delivered nor dropped would hang this loop. */
  while (taken + bleio_scan_results_get_dropped (results) < N_DEVICES)
    {
      g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, ROUND_WAIT_MSEC / 1000.0,
                                                                 &error);
      int index;

      if (entry == NULL)
        fail_msg ("%u taken + %u dropped of %u: %s", taken,
                  bleio_scan_results_get_dropped (results), N_DEVICES,
                  error != NULL ? error->message : "scan ended");
      index = flood_index (entry);
      assert_true (index >= 0 && index < N_DEVICES);
      if (seen[index]++)
        fail_msg ("device %d delivered twice", index);
      if (in_prefix && (guint) index == held)
        {
          held++;
          held_bytes += entry_cost (entry);
        }
      else
        in_prefix = FALSE;
      taken++;
    }
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  assert_no_error (error);

  /* The held entries never cost more than buffer_size; and the buffer was
   * really used (one more entry would not have fitted). */
  printf ("load: scan: unread, buffer_size %u: %u entries (%zu bytes) held, %u dropped,"
          " %u delivered in all\n", SMALL_BUFFER, held, held_bytes,
          bleio_scan_results_get_dropped (results), taken);
  assert_true (held > 0);
  assert_true (held_bytes <= SMALL_BUFFER);
  assert_true (held_bytes + held_bytes / held > SMALL_BUFFER - ENTRY_HEADER);
  assert_int_equal (taken + bleio_scan_results_get_dropped (results), N_DEVICES);
  load_iterate ();
  load_report ("scan-unread", "end");
}

typedef struct {
  long limit_kib;
} HeapWait;

static gboolean
heap_below (gpointer user_data)
{
  return proc_heap_kib () < ((HeapWait *) user_data)->limit_kib;
}

/* A reader with a buffer that holds a whole round: ten rounds, every
 * advertisement of every round delivered once, none dropped, memory
 * flat from round 2 on. */
static void
test_read_scan_rounds (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(BleioScanResults) results = NULL;
  g_autofree guint8 *seen = g_new0 (guint8, N_DEVICES);
  long rss[N_ROUNDS], heap[N_ROUNDS];
  long rss_start = proc_rss_kib (), heap_start = proc_heap_kib ();
  HeapWait gone;
  GVariant *reply;

  load_report ("scan-read", "start");
  results = bleio_adapter_start_scan (adapter, NULL, BIG_BUFFER, FALSE, 0, 0.1, 0.1,
                                      -127, TRUE, &error);
  assert_no_error (error);
  for (guint r = 0; r < N_ROUNDS; r++)
    {
      memset (seen, 0, N_DEVICES);
      flood (fx, 1);
      for (guint taken = 0; taken < N_DEVICES; taken++)
        {
          g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results,
                                                                     ROUND_WAIT_MSEC / 1000.0,
                                                                     &error);
          int index;

          if (entry == NULL)
            fail_msg ("round %u: %u of %u delivered, %u dropped: %s", r + 1, taken, N_DEVICES,
                      bleio_scan_results_get_dropped (results),
                      error != NULL ? error->message : "scan ended");
          index = flood_index (entry);
          assert_true (index >= 0 && index < N_DEVICES);
          if (seen[index]++)
            fail_msg ("round %u: device %d delivered twice", r + 1, index);
        }
      assert_int_equal (bleio_scan_results_get_dropped (results), 0);
      /* the ::entry signal's queue is flushed too */
      load_iterate ();
      /* Free memory goes back to the system before RSS is read: what a
       * flood left queued at its peak (GDBus holds every signal until
       * the library's worker takes it) is not kept, and the peak varies
       * with how far the worker lagged, so RSS would compare high-water
       * marks instead of what the library keeps. */
      malloc_trim (0);
      rss[r] = proc_rss_kib ();
      heap[r] = proc_heap_kib ();
      printf ("load: scan: read, round %u: %u delivered, 0 dropped; rss %ld KiB, heap %ld KiB\n",
              r + 1, N_DEVICES, rss[r], heap[r]);
      fflush (stdout);
    }
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  assert_no_error (error);
  load_iterate ();
  printf ("load: scan: %u rounds of %u advertisements: rss start %ld KiB, after round 2"
          " %ld KiB, end %ld KiB; heap start %ld KiB, after round 2 %ld KiB, end %ld KiB\n",
          N_ROUNDS, N_DEVICES, rss_start, rss[1], rss[N_ROUNDS - 1],
          heap_start, heap[1], heap[N_ROUNDS - 1]);
  if (heap[N_ROUNDS - 1] > heap[1] + HEAP_SLACK_KIB)
    fail_msg ("heap grew by %ld KiB from round 2 to round %u", heap[N_ROUNDS - 1] - heap[1],
              N_ROUNDS);
  if (rss[N_ROUNDS - 1] > rss[1] + RSS_SLACK_KIB)
    fail_msg ("RSS grew by %ld KiB from round 2 to round %u", rss[N_ROUNDS - 1] - rss[1],
              N_ROUNDS);

  /* Discovery is over: bluetoothd drops the 10,000 temporary devices, and
   * the library's cache lets go of them while the adapter stays. */
  reply = sim_fixture_call (fx, "SetTemporaryTimeout", g_variant_new ("(u)", 100), &error);
  assert_no_error (error);
  g_variant_unref (reply);
  gone.limit_kib = heap_start + FORGOTTEN_SLACK_KIB;
  if (!common_wait (heap_below, &gone, ROUND_WAIT_MSEC))
    fail_msg ("the devices are gone but the heap holds %ld KiB (%ld KiB at the start)",
              proc_heap_kib (), heap_start);
  printf ("load: scan: the 10,000 devices removed by bluetoothd: heap %ld KiB (start %ld KiB)\n",
          proc_heap_kib (), heap_start);
  assert_true (bleio_adapter_is_present (adapter));
  load_report ("scan-read", "end");
}

/* Privacy addresses rotate: a gateway meets new devices for ever. Each
 * lifetime, N_ROTATING devices nobody saw before appear, are scanned, and
 * are removed from bluetoothd; the heap may not grow with them. */
#define N_ROTATING 1000
#define N_LIFETIMES 5
#define ROTATING_SLACK_KIB 192

static void
test_rotating_addresses (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  long heap[N_LIFETIMES];

  load_report ("scan-rotating", "start");
  for (guint life = 0; life < N_LIFETIMES; life++)
    {
      g_autoptr(BleioScanResults) results = NULL;
      g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      char *paths[N_ROTATING];

      for (guint i = 0; i < N_ROTATING; i++)
        {
          g_autofree char *json = g_strdup_printf (
            "{\"address\": \"F1:%02X:00:00:%02X:%02X\", \"address_type\": \"random\","
            " \"name\": \"R%u-%u\", \"advertising_interval_ms\": 100}",
            life, i >> 8, i & 0xff, life, i);

          paths[i] = common_add (fx, json);
        }
      results = bleio_adapter_start_scan (adapter, NULL, BIG_BUFFER, FALSE, 0, 0.1, 0.1,
                                          -127, TRUE, &error);
      assert_no_error (error);
      while (g_hash_table_size (seen) < N_ROTATING)
        {
          g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results,
                                                                     ROUND_WAIT_MSEC / 1000.0,
                                                                     &error);
          g_autofree char *name = NULL;

          if (entry == NULL)
            fail_msg ("lifetime %u: %u of %u devices seen: %s", life + 1,
                      g_hash_table_size (seen), N_ROTATING,
                      error != NULL ? error->message : "scan ended");
          name = bleio_scan_entry_dup_complete_name (entry);
          if (name != NULL && name[0] == 'R')
            g_hash_table_add (seen, g_steal_pointer (&name));
        }
      assert_true (bleio_adapter_stop_scan (adapter, &error));
      assert_no_error (error);
      for (guint i = 0; i < N_ROTATING; i++)
        {
          assert_true (sim_fixture_remove_device (fx, paths[i], &error));
          assert_no_error (error);
          g_free (paths[i]);
        }
      g_clear_object (&results);
      load_iterate ();
      heap[life] = proc_heap_kib ();
      printf ("load: scan: rotating, lifetime %u: %u new devices seen and removed;"
              " rss %ld KiB, heap %ld KiB\n", life + 1, N_ROTATING, proc_rss_kib (), heap[life]);
      fflush (stdout);
    }
  load_report ("scan-rotating", "end");
  if (heap[N_LIFETIMES - 1] > heap[1] + ROTATING_SLACK_KIB)
    fail_msg ("heap grew by %ld KiB from lifetime 2 to lifetime %u",
              heap[N_LIFETIMES - 1] - heap[1], N_LIFETIMES);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_unread_scan_is_bounded, fresh_sim, drop_sim),
    cmocka_unit_test_setup_teardown (test_read_scan_rounds, fresh_sim, drop_sim),
    cmocka_unit_test_setup_teardown (test_rotating_addresses, fresh_sim, drop_sim),
  };

  load_init (argc, argv);
  return cmocka_run_group_tests (tests, NULL, NULL);
}
