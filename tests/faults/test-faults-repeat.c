/* SPDX-License-Identifier: MIT */
/*
 * Faults over and over in one process: bluetoothd crashing and restarting
 * in turn with a link up each time, then crashes back to back (the next
 * one while the library is still reading the new bluetoothd's objects).
 * The library must come back every time, and its heap must not grow with
 * the number of faults.
 *
 *   test-faults-repeat SCENARIO
 */
#include "faults.h"

#include <malloc.h>

#define CYCLES 12

static gboolean
spent (gpointer user_data)
{
  return !bleio_connection_get_connected (user_data);
}

/* Bytes the allocator handed out and did not get back, in KiB (0 under a
 * sanitizer or valgrind, whose allocators mallinfo2() does not see). */
static long
heap_in_use_kib (void)
{
  struct mallinfo2 info = mallinfo2 ();

  return (long) ((info.uordblks + info.hblkhd) / 1024);
}

static void
one_cycle (Env      *env,
           FaultKind kind)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioConnection) connection = connect_peer (env, FAULT_PEER, &services);
  g_autoptr(BleioCharacteristic) c = find_char (services, 0xfa03);
  g_autoptr(GBytes) value = bleio_characteristic_read_value (c, &error);

  assert_no_error (error);
  assert_int_equal (g_bytes_get_size (value), sizeof fa03_value);
  fault_kind = kind;
  inject (env, FAULT_PATH);
  assert_true (common_wait (spent, connection, WAIT_MSEC));
  g_clear_pointer (&value, g_bytes_unref);
  value = bleio_characteristic_read_value (c, &error);
  assert_null (value);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
}

static void
test_fault_repeated_restarts_and_crashes (void **state)
{
  Env *env = *state;
  long heap_start = 0;
  long heap_end;

  for (guint i = 0; i < CYCLES; i++)
    {
      one_cycle (env, i % 2 == 0 ? FAULT_CRASH : FAULT_RESTART);
      /* the first cycles warm up GLib's and the library's caches */
      if (i == 1)
        heap_start = heap_in_use_kib ();
    }
  assert_fault_peer_recovered (env);
  heap_end = heap_in_use_kib ();
  g_print ("# heap in use after cycle 2: %ld KiB, after %d: %ld KiB\n",
           heap_start, CYCLES, heap_end);
  /* Ten more faults may cost a little (GLib's and GDBus's tables grow to
   * their working size: about 70 KiB here, less and less per fault) but
   * not what a leak of the link's objects per fault would (a GATT tree,
   * a connection and their proxies are tens of KiB each). */
  assert_true (heap_end <= heap_start + 256);
}

static void
test_fault_crashes_back_to_back (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioConnection) connection = connect_peer (env, FAULT_PEER, &services);
  Disconnected d = { 0, };

  g_signal_connect (connection, "disconnected", G_CALLBACK (common_on_disconnected), &d);
  /* Each new bluetoothd dies as soon as it owns org.bluez, while the
   * library may still be fetching its objects. */
  for (guint i = 0; i < 4; i++)
    {
      assert_true (sim_fixture_crash (env->fx, &error));
      assert_no_error (error);
    }
  assert_true (common_wait (common_disconnected_fired, &d, WAIT_MSEC));
  assert_int_equal (d.reason, BLEIO_DISCONNECT_REASON_BLUEZ_UNAVAILABLE);
  common_assert_spent (connection);
  assert_fault_peer_recovered (env);
  assert_slow_peer_recovered (env);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_fault_repeated_restarts_and_crashes, faults_setup,
                                     faults_teardown),
    cmocka_unit_test_setup_teardown (test_fault_crashes_back_to_back, faults_setup,
                                     faults_teardown),
  };

  faults_init (argc, argv);
  return cmocka_run_group_tests_name ("faults-repeat", tests, NULL, NULL);
}
