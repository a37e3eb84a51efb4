/* SPDX-License-Identifier: MIT */
/*
 * bleio_packet_buffer_deinit() from one thread while another is blocked in
 * bleio_packet_buffer_write() on the AcquireWrite socket (the peer stopped
 * taking packets: the simulator is stopped with SIGSTOP until the socket
 * is full). The write must return the deinit error, not write into a
 * descriptor closed (and possibly reused) under it.
 *
 *   test-faults-deinit SCENARIO
 */
#include "faults.h"

#include <signal.h>

typedef struct {
  BleioPacketBuffer *buffer;
  gint written;                 /* atomic: packets sent so far */
  gint done;                    /* atomic */
  GError *error;
  gssize last;
} Writer;

static gpointer
writer_main (gpointer data)
{
  Writer *w = data;
  static const guint8 packet[64] = { 0x42, };

  for (;;)
    {
      w->last = bleio_packet_buffer_write (w->buffer, packet, sizeof packet, NULL, 0, &w->error);
      if (w->last <= 0)
        break;
      g_atomic_int_inc (&w->written);
    }
  g_atomic_int_set (&w->done, TRUE);
  return NULL;
}

typedef struct {
  Writer *w;
  gint last_seen;
  gint64 still_since;
} Stall;

/* The writer has sent packets and sent none for 300 ms: it is blocked. */
static gboolean
writer_blocked (gpointer user_data)
{
  Stall *s = user_data;
  gint now = g_atomic_int_get (&s->w->written);

  if (g_atomic_int_get (&s->w->done))
    return TRUE;
  if (now != s->last_seen || now == 0)
    {
      s->last_seen = now;
      s->still_since = g_get_monotonic_time ();
      return FALSE;
    }
  return g_get_monotonic_time () - s->still_since > 300 * 1000;
}

static gboolean
writer_done (gpointer user_data)
{
  return g_atomic_int_get (&((Writer *) user_data)->done);
}

static void
test_fault_deinit_during_acquired_write (void **state)
{
  Env *env = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioConnection) connection = connect_peer (env, FAULT_PEER, &services);
  g_autoptr(BleioCharacteristic) c = find_char (services, 0xfa03);
  GPid sim = sim_bus_get_sim_pid (sim_fixture_get_bus (env->fx));
  Writer w = { 0, };
  Stall stall = { &w, 0, 0 };
  GThread *thread;
  int spare[2];

  w.buffer = bleio_packet_buffer_new (c, 16, 0, &error);
  assert_no_error (error);
  assert_true (bleio_packet_buffer_get_write_acquired (w.buffer));

  /* The peer stops taking packets: the socket fills, the write blocks. */
  assert_int_equal (kill (sim, SIGSTOP), 0);
  thread = g_thread_new ("writer", writer_main, &w);
  assert_true (common_wait (writer_blocked, &stall, 4 * WAIT_MSEC));
  assert_false (g_atomic_int_get (&w.done));
  assert_true (g_atomic_int_get (&w.written) > 0);

  bleio_packet_buffer_deinit (w.buffer);
  /* Were the descriptor closed, this pipe would likely take its number
   * and the blocked write would go on into it. */
  assert_int_equal (pipe (spare), 0);
  assert_true (common_wait (writer_done, &w, 2 * WAIT_MSEC));
  g_thread_join (thread);
  assert_int_equal (w.last, -1);
  assert_bleio_error (w.error, BLEIO_ERROR_INVALID_ARGUMENT);
  assert_non_null (strstr (w.error->message, "deinitialized"));
  g_clear_error (&w.error);
  close (spare[0]);
  close (spare[1]);

  assert_int_equal (kill (sim, SIGCONT), 0);
  /* deinit twice is harmless; writes after it fail the same way */
  bleio_packet_buffer_deinit (w.buffer);
  {
    static const guint8 one[1] = { 1 };

    assert_int_equal (bleio_packet_buffer_write (w.buffer, one, 1, NULL, 0, &error), -1);
    assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }
  g_clear_object (&w.buffer);
  assert_true (bleio_connection_disconnect (connection, &error));
  assert_no_error (error);
  /* (FaultPeer's fa03 now holds the packets written: read SlowPeer's) */
  assert_slow_peer_recovered (env);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_fault_deinit_during_acquired_write, faults_setup,
                                     faults_teardown),
  };

  faults_init (argc, argv);
  return cmocka_run_group_tests_name ("faults-deinit", tests, NULL, NULL);
}
