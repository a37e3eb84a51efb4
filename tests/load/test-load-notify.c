/* SPDX-License-Identifier: MIT */
/*
 * Load: twenty simulated peripherals connected at once, each streaming two
 * bursts of notifications at full speed (org.bleio.Sim1.NotifySequence,
 * which numbers them): one characteristic through AcquireNotify into a
 * CharacteristicBuffer, one through Value signals into a PacketBuffer.
 * With buffers that hold a whole burst nothing is lost, reordered or
 * duplicated; with buffers that do not, every notification that is not
 * delivered is counted as dropped, and the ones kept are the ones the
 * buffers' rules say (CharacteristicBuffer keeps the oldest bytes,
 * PacketBuffer the newest packets). Three rounds of it; the heap in use
 * after the last is within HEAP_SLACK_KIB of the one before.
 */
#include "load.h"

#define N_PEERS 20
#define N_NOTIFY 2000           /* per characteristic and burst */
#define PAYLOAD 20              /* bytes per notification */
#define SMALL 100               /* notifications the small buffers hold */
#define H_FD 0x0011             /* notify, AcquireNotify allowed */
#define H_SIGNAL 0x0014         /* notify, AcquireNotify refused */
#define N_ROUNDS 3
/* Heap growth allowed over the last round (80,000 notifications, 20
 * connections, 80 buffers): a leak of 3 bytes per notification, or of
 * 10 KiB per connection, goes over it. */
#define HEAP_SLACK_KIB 192

typedef struct {
  char *path;
  BleioConnection *connection;
  BleioCharacteristic *fd_char;
  BleioCharacteristic *signal_char;
  BleioCharacteristicBuffer *cbuf;
  BleioPacketBuffer *pbuf;
} Peer;

static Peer peers[N_PEERS];

static void
connect_peer (SimFixture   *fx,
              BleioAdapter *adapter,
              guint         i)
{
  Peer *p = &peers[i];
  g_autoptr(GError) error = NULL;
  g_autofree char *json = g_strdup_printf (
    "{\"address\": \"00:DD:00:00:00:%02X\", \"name\": \"Load%02u\", \"mtu\": 247,"
    " \"connect\": {\"delay_ms\": 5, \"resolve_delay_ms\": 10},"
    " \"gatt\": [{\"uuid\": \"bb00\", \"handle\": \"0x0010\", \"characteristics\": ["
    "  {\"uuid\": \"bb01\", \"handle\": \"0x0011\", \"flags\": [\"notify\"]},"
    "  {\"uuid\": \"bb02\", \"handle\": \"0x0014\", \"flags\": [\"notify\"],"
    "   \"acquire_notify\": false}]}]}", i + 1, i);
  g_autofree char *text = g_strdup_printf ("00:DD:00:00:00:%02X", i + 1);
  g_autoptr(BleioAddress) address = common_address (text);
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(GPtrArray) chars = NULL;

  p->path = common_add (fx, json);
  p->connection = bleio_adapter_connect (adapter, address, 30, NULL, &error);
  assert_no_error (error);
  services = bleio_connection_discover_remote_services (p->connection, NULL, 30, &error);
  assert_no_error (error);
  assert_int_equal (services->len, 1);
  chars = bleio_service_dup_characteristics (g_ptr_array_index (services, 0));
  for (guint j = 0; j < chars->len; j++)
    {
      BleioCharacteristic *c = g_ptr_array_index (chars, j);

      if (bleio_characteristic_get_handle (c) == H_FD)
        p->fd_char = g_object_ref (c);
      else if (bleio_characteristic_get_handle (c) == H_SIGNAL)
        p->signal_char = g_object_ref (c);
    }
  assert_non_null (p->fd_char);
  assert_non_null (p->signal_char);
}

static void
make_buffers (guint notifications)
{
  for (guint i = 0; i < N_PEERS; i++)
    {
      g_autoptr(GError) error = NULL;

      peers[i].cbuf = bleio_characteristic_buffer_new (peers[i].fd_char, 1.0,
                                                       notifications * PAYLOAD, &error);
      assert_no_error (error);
      assert_true (bleio_characteristic_buffer_get_notify_acquired (peers[i].cbuf));
      peers[i].pbuf = bleio_packet_buffer_new (peers[i].signal_char, notifications, 0, &error);
      assert_no_error (error);
      assert_false (bleio_packet_buffer_get_notify_acquired (peers[i].pbuf));
    }
}

static void
drop_buffers (void)
{
  for (guint i = 0; i < N_PEERS; i++)
    {
      bleio_characteristic_buffer_deinit (peers[i].cbuf);
      bleio_packet_buffer_deinit (peers[i].pbuf);
      g_clear_object (&peers[i].cbuf);
      g_clear_object (&peers[i].pbuf);
    }
  load_iterate ();
}

/* Every peripheral starts both bursts; they run side by side. */
static void
burst_all (SimFixture *fx)
{
  guint8 value[PAYLOAD];

  for (guint k = 0; k < PAYLOAD; k++)
    value[k] = (guint8) (0xa0 + k);
  for (guint i = 0; i < N_PEERS; i++)
    for (guint h = 0; h < 2; h++)
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_strdup_printf ("%s/service0010/char%04x", peers[i].path,
                                                 h == 0 ? H_FD : H_SIGNAL);
        g_autoptr(GVariant) reply = NULL;

        reply = sim_fixture_call (fx, "NotifySequence",
                                  g_variant_new ("(o@ayu)", path,
                                                 g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                            value, PAYLOAD, 1),
                                                 (guint32) N_NOTIFY),
                                  &error);
        assert_no_error (error);
      }
}

/* Every notification of every burst is either buffered or counted. */
static gboolean
all_accounted (gpointer user_data)
{
  for (guint i = 0; i < N_PEERS; i++)
    {
      if (bleio_characteristic_buffer_get_in_waiting (peers[i].cbuf) +
          bleio_characteristic_buffer_get_dropped (peers[i].cbuf) < N_NOTIFY * PAYLOAD)
        return FALSE;
      if (bleio_packet_buffer_get_packets_waiting (peers[i].pbuf) +
          bleio_packet_buffer_get_dropped (peers[i].pbuf) < N_NOTIFY)
        return FALSE;
    }
  return TRUE;
}

static void
report_unaccounted (void)
{
  for (guint i = 0; i < N_PEERS; i++)
    fprintf (stderr, "peer %u: fd path %zu buffered + %" G_GUINT64_FORMAT " dropped bytes,"
             " signal path %zu buffered + %" G_GUINT64_FORMAT " dropped packets\n", i,
             bleio_characteristic_buffer_get_in_waiting (peers[i].cbuf),
             bleio_characteristic_buffer_get_dropped (peers[i].cbuf),
             bleio_packet_buffer_get_packets_waiting (peers[i].pbuf),
             bleio_packet_buffer_get_dropped (peers[i].pbuf));
}

/* A notification of the burst: its number, then the burst's pattern. */
static void
assert_notification (const guint8 *data,
                     guint32       expected_seq)
{
  guint32 seq = (guint32) data[0] | (guint32) data[1] << 8 |
                (guint32) data[2] << 16 | (guint32) data[3] << 24;

  if (seq != expected_seq)
    fail_msg ("notification %u arrived where %u was expected", seq, expected_seq);
  for (guint k = 4; k < PAYLOAD; k++)
    assert_int_equal (data[k], 0xa0 + k);
}

/* The CharacteristicBuffer holds notifications @first.. in order, @count
 * of them; the PacketBuffer likewise from @pfirst. */
static void
check_contents (guint first,
                guint count,
                guint pfirst,
                guint pcount)
{
  for (guint i = 0; i < N_PEERS; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = NULL;
      const guint8 *data;
      gsize len = 0;

      bytes = bleio_characteristic_buffer_read (peers[i].cbuf, count * PAYLOAD, &error);
      assert_no_error (error);
      data = g_bytes_get_data (bytes, &len);
      assert_int_equal (len, count * PAYLOAD);
      for (guint n = 0; n < count; n++)
        assert_notification (data + n * PAYLOAD, first + n);
      assert_int_equal (bleio_characteristic_buffer_get_in_waiting (peers[i].cbuf), 0);

      for (guint n = 0; n < pcount; n++)
        {
          g_autoptr(GBytes) packet = bleio_packet_buffer_read_packet (peers[i].pbuf, &error);

          assert_no_error (error);
          assert_non_null (packet);
          assert_int_equal (g_bytes_get_size (packet), PAYLOAD);
          assert_notification (g_bytes_get_data (packet, NULL), pfirst + n);
        }
      assert_int_equal (bleio_packet_buffer_get_packets_waiting (peers[i].pbuf), 0);
    }
}

static void
stream_round (SimFixture   *fx,
              BleioAdapter *adapter)
{
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < N_PEERS; i++)
    connect_peer (fx, adapter, i);
  assert_true (bleio_adapter_get_connected (adapter));
  load_report ("notify", "20 connected");

  /* Buffers that hold a whole burst: nothing may be lost. */
  make_buffers (N_NOTIFY);
  burst_all (fx);
  if (!common_wait (all_accounted, NULL, 50 * 1000))
    {
      report_unaccounted ();
      fail_msg ("notifications lost: neither buffered nor counted as dropped");
    }
  for (guint i = 0; i < N_PEERS; i++)
    {
      assert_int_equal (bleio_characteristic_buffer_get_dropped (peers[i].cbuf), 0);
      assert_int_equal (bleio_packet_buffer_get_dropped (peers[i].pbuf), 0);
    }
  check_contents (0, N_NOTIFY, 0, N_NOTIFY);
  printf ("load: notify: %u peers x 2 characteristics x %u notifications of %u bytes:"
          " all delivered in order, none dropped\n", N_PEERS, N_NOTIFY, PAYLOAD);
  load_report ("notify", "after the lossless round");
  drop_buffers ();

  /* Buffers for SMALL notifications, nobody reading during the burst:
   * the rest is counted, none goes missing. */
  make_buffers (SMALL);
  burst_all (fx);
  if (!common_wait (all_accounted, NULL, 50 * 1000))
    {
      report_unaccounted ();
      fail_msg ("notifications lost: neither buffered nor counted as dropped");
    }
  for (guint i = 0; i < N_PEERS; i++)
    {
      assert_int_equal (bleio_characteristic_buffer_get_in_waiting (peers[i].cbuf),
                        SMALL * PAYLOAD);
      assert_int_equal (bleio_characteristic_buffer_get_dropped (peers[i].cbuf),
                        (N_NOTIFY - SMALL) * PAYLOAD);
      assert_int_equal (bleio_packet_buffer_get_packets_waiting (peers[i].pbuf), SMALL);
      assert_int_equal (bleio_packet_buffer_get_dropped (peers[i].pbuf), N_NOTIFY - SMALL);
    }
  check_contents (0, SMALL, N_NOTIFY - SMALL, SMALL);
  printf ("load: notify: buffers of %u notifications: %u kept and %u counted as dropped"
          " per characteristic, none missing\n", SMALL, SMALL, N_NOTIFY - SMALL);
  drop_buffers ();

  for (guint i = 0; i < N_PEERS; i++)
    {
      assert_true (bleio_connection_disconnect (peers[i].connection, &error));
      assert_no_error (error);
      g_clear_object (&peers[i].fd_char);
      g_clear_object (&peers[i].signal_char);
      g_clear_object (&peers[i].connection);
      assert_true (sim_fixture_remove_device (fx, peers[i].path, &error));
      assert_no_error (error);
      g_clear_pointer (&peers[i].path, g_free);
    }
  load_iterate ();
}

static void
test_twenty_streams (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  long rss_start = proc_rss_kib ();
  long heap[N_ROUNDS];

  load_report ("notify", "start");
  for (guint r = 0; r < N_ROUNDS; r++)
    {
      stream_round (fx, adapter);
      heap[r] = proc_heap_kib ();
      printf ("load: notify: after round %u: rss %ld KiB, heap %ld KiB\n",
              r + 1, proc_rss_kib (), heap[r]);
    }
  load_report ("notify", "end");
  printf ("load: notify: %u rounds: rss start %ld KiB, end %ld KiB; heap after round 1"
          " %ld KiB, after round %u %ld KiB, end %ld KiB\n", N_ROUNDS, rss_start, proc_rss_kib (),
          heap[0], N_ROUNDS - 1, heap[N_ROUNDS - 2], heap[N_ROUNDS - 1]);
  if (heap[N_ROUNDS - 1] > heap[N_ROUNDS - 2] + HEAP_SLACK_KIB)
    fail_msg ("heap grew by %ld KiB in the last round", heap[N_ROUNDS - 1] - heap[N_ROUNDS - 2]);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_twenty_streams),
  };

  load_init (argc, argv);
  return cmocka_run_group_tests (tests, load_group_setup, load_group_teardown);
}
