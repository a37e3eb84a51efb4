/* SPDX-License-Identifier: MIT */
/*
 * Load: 1,000 connect / discover / disconnect cycles to one simulated
 * peripheral through the public API. Every object the library handed out
 * in a cycle (the connection, its services and characteristics) is
 * finalized once released; open file descriptors come back to their
 * number before the first cycle after every 100; the heap in use (G_SLICE=always-malloc)
 * and RSS stay within a bound of their value after cycle 100.
 */
#include "load.h"

#ifndef N_CYCLES
#define N_CYCLES 1000
#endif
#define CHECKPOINT 100
/* A leak of 300 bytes per cycle would be 260 KiB over the 900 cycles. */
#define HEAP_SLACK_KIB 256
#define RSS_SLACK_KIB (4 * 1024)
#define ADDRESS "00:CE:00:00:00:01"

/* Library objects handed out and not yet finalized. */
static gint live;

static void
object_gone (gpointer  data,
             GObject  *where)
{
  g_atomic_int_add (&live, -1);
}

static void
track (gpointer object)
{
  g_atomic_int_inc (&live);
  g_object_weak_ref (object, object_gone, NULL);
}

static gboolean
none_live (gpointer user_data)
{
  return g_atomic_int_get (&live) == 0;
}

/* A descriptor can be open for a moment (a blocking call's private main
 * context has an eventfd until it is let go of): wait for the count to
 * come back down rather than read it once. */
static gboolean
fds_back (gpointer user_data)
{
  return load_fd_count () <= GPOINTER_TO_INT (user_data);
}

static void
one_cycle (BleioAdapter *adapter,
           BleioAddress *address,
           guint         cycle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(GPtrArray) chars = NULL;
  g_autoptr(GBytes) value = NULL;

  connection = bleio_adapter_connect (adapter, address, 30, NULL, &error);
  if (connection == NULL)
    fail_msg ("cycle %u: connect: %s", cycle, error->message);
  track (connection);
  services = bleio_connection_discover_remote_services (connection, NULL, 30, &error);
  if (services == NULL)
    fail_msg ("cycle %u: discovery: %s", cycle, error->message);
  assert_int_equal (services->len, 1);
  track (g_ptr_array_index (services, 0));
  chars = bleio_service_dup_characteristics (g_ptr_array_index (services, 0));
  assert_int_equal (chars->len, 1);
  track (g_ptr_array_index (chars, 0));
  value = bleio_characteristic_read_value (g_ptr_array_index (chars, 0), &error);
  if (value == NULL)
    fail_msg ("cycle %u: read: %s", cycle, error->message);
  assert_int_equal (g_bytes_get_size (value), 1);
  assert_int_equal (((const guint8 *) g_bytes_get_data (value, NULL))[0], 0x2a);
  if (!bleio_connection_disconnect (connection, &error))
    fail_msg ("cycle %u: disconnect: %s", cycle, error->message);
  assert_false (bleio_connection_get_connected (connection));
}

static void
test_thousand_cycles (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(BleioAddress) address = common_address (ADDRESS);
  g_autofree char *path = NULL;
  long rss_start, rss_mid = 0, heap_mid = 0;
  int fds_start, fds_mid = 0;

  path = common_add (fx, "{\"address\": \"" ADDRESS "\", \"name\": \"Cycler\","
                         " \"connect\": {\"delay_ms\": 1, \"resolve_delay_ms\": 1},"
                         " \"gatt\": [{\"uuid\": \"180f\", \"characteristics\": [{\"uuid\": \"2a19\","
                         " \"flags\": [\"read\"], \"value\": \"2a\"}]}]}");
  rss_start = proc_rss_kib ();
  fds_start = load_fd_count ();
  load_report ("cycles", "start");
  for (guint cycle = 1; cycle <= N_CYCLES; cycle++)
    {
      one_cycle (adapter, address, cycle);
      load_iterate ();
      if (cycle % CHECKPOINT != 0)
        continue;
      /* Everything of the cycles so far has been let go of. */
      if (!common_wait (none_live, NULL, WAIT_MSEC))
        fail_msg ("after cycle %u, %d library objects are still alive", cycle,
                  g_atomic_int_get (&live));
      if (!common_wait (fds_back, GINT_TO_POINTER (fds_start), WAIT_MSEC))
        fail_msg ("after cycle %u, %d file descriptors are open, %d before the first",
                  cycle, load_fd_count (), fds_start);
      if (cycle == CHECKPOINT)
        {
          rss_mid = proc_rss_kib ();
          heap_mid = proc_heap_kib ();
          fds_mid = load_fd_count ();
          load_report ("cycles", "after 100 cycles");
        }
      else
        {
          printf ("load: cycles: after %u: rss %ld KiB, heap %ld KiB, fds %d\n", cycle,
                  proc_rss_kib (), proc_heap_kib (), load_fd_count ());
          fflush (stdout);
        }
    }
  load_report ("cycles", "end");
  printf ("load: cycles: %u cycles: rss start %ld KiB, after %u %ld KiB, end %ld KiB;"
          " heap after %u %ld KiB, end %ld KiB; fds start %d, after %u %d, end %d\n",
          N_CYCLES, rss_start, CHECKPOINT, rss_mid, proc_rss_kib (), CHECKPOINT, heap_mid,
          proc_heap_kib (), fds_start, CHECKPOINT, fds_mid, load_fd_count ());
  assert_true (load_fd_count () <= fds_start);
  if (proc_heap_kib () > heap_mid + HEAP_SLACK_KIB)
    fail_msg ("heap grew by %ld KiB from cycle %u to cycle %u", proc_heap_kib () - heap_mid,
              CHECKPOINT, N_CYCLES);
  if (proc_rss_kib () > rss_mid + RSS_SLACK_KIB)
    fail_msg ("RSS grew by %ld KiB from cycle %u to cycle %u", proc_rss_kib () - rss_mid,
              CHECKPOINT, N_CYCLES);
  assert_true (sim_fixture_remove_device (fx, path, &error));
  assert_no_error (error);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_thousand_cycles),
  };

  load_init (argc, argv);
  return cmocka_run_group_tests (tests, load_group_setup, load_group_teardown);
}
