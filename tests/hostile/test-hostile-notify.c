/* SPDX-License-Identifier: MIT */
/*
 * Hostile BlueZ, notifications: AcquireNotify answers without a usable
 * descriptor (none, a bad index, a pipe, one already hung up, one that
 * carries oversized packets), NotifyAcquired without any descriptor, and
 * Value signals of the wrong type or size, through CharacteristicBuffer,
 * PacketBuffer and set_cccd.
 */
#include "hostile.h"

typedef struct {
  BleioConnection *connection;
  GPtrArray *services;
  BleioCharacteristic *chr;
} Link;

static void
link_open (Hostile *h,
           Link    *link)
{
  link->connection = hostile_connect (h);
  link->services = hostile_discover (link->connection);
  link->chr = hostile_find_char (link->services, CUSTOM_CHAR);
}

static void
link_close (Link *link)
{
  g_clear_object (&link->chr);
  g_clear_pointer (&link->services, g_ptr_array_unref);
  g_clear_object (&link->connection);
}

/* Reads from @buffer until @want bytes came or the wait bound passes. */
static gsize
buffer_collect (BleioCharacteristicBuffer *buffer,
                guint8                    *out,
                gsize                      want)
{
  gsize got = 0;
  gint64 end = g_get_monotonic_time () + (gint64) WAIT_MSEC * 1000;

  while (got < want && g_get_monotonic_time () < end)
    {
      g_autoptr(GError) error = NULL;
      gssize n = bleio_characteristic_buffer_readinto (buffer, out + got, want - got, &error);

      assert_no_error (error);
      got += (gsize) n;
    }
  return got;
}

/* The next packet of @buffer (waiting up to the bound); its length. */
static gssize
packet_next (BleioPacketBuffer *buffer,
             guint8            *out,
             gsize              size)
{
  gint64 end = g_get_monotonic_time () + (gint64) WAIT_MSEC * 1000;
  gssize n = 0;

  while (g_get_monotonic_time () < end)
    {
      g_autoptr(GError) error = NULL;

      n = bleio_packet_buffer_readinto (buffer, out, size, &error);
      assert_no_error (error);
      if (n != 0)
        break;
      hostile_settle (10);
    }
  return n;
}

/* Waits (up to the bound) until @buffer reports its descriptor lost. */
static void
wait_buffer_lost (BleioCharacteristicBuffer *buffer)
{
  gint64 end = g_get_monotonic_time () + (gint64) WAIT_MSEC * 1000;

  while (bleio_characteristic_buffer_get_connected (buffer) && g_get_monotonic_time () < end)
    hostile_settle (20);
  assert_false (bleio_characteristic_buffer_get_connected (buffer));
}

static void
notify (Hostile      *h,
        const guint8 *data,
        gsize         len)
{
  g_autoptr(GError) error = NULL;

  assert_true (sim_fixture_notify (h->fx, CUSTOM_CHAR, data, len, &error));
  assert_no_error (error);
}

/* A descriptor that cannot be used: the PacketBuffer falls back to
 * StartNotify and Value signals and gets every notification. */
static void
fallback_works (Hostile    *h,
                const char *mode)
{
  Link link = { 0 };
  g_autoptr(BleioPacketBuffer) buffer = NULL;
  g_autoptr(GError) error = NULL;
  guint8 out[64] = { 0 };

  link_open (h, &link);
  hostile_acquire (h, mode, 23, 0, 0);
  buffer = bleio_packet_buffer_new (link.chr, 8, 0, &error);
  assert_no_error (error);
  assert_non_null (buffer);
  assert_false (bleio_packet_buffer_get_notify_acquired (buffer));
  assert_int_equal (sim_fixture_count_calls (h->fx, "StartNotify"), 1);
  notify (h, (const guint8 *) "ab", 2);
  notify (h, (const guint8 *) "cde", 3);
  assert_int_equal (packet_next (buffer, out, sizeof out), 2);
  assert_memory_equal (out, "ab", 2);
  assert_int_equal (packet_next (buffer, out, sizeof out), 3);
  assert_memory_equal (out, "cde", 3);
  link_close (&link);
}

/* AcquireNotify answering (h) index 0 with no descriptor attached. */
static void
test_acquire_notify_no_fd (void **state)
{
  fallback_works (*state, "no-fd");
}

/* AcquireNotify answering an index past the descriptors it sent. */
static void
test_acquire_notify_bad_index (void **state)
{
  fallback_works (*state, "bad-index");
}

/* The descriptor is a pipe with 3 x 600 bytes in it, then end of file: no
 * notification comes out of it (recv fails on a pipe), the buffer reports
 * the descriptor lost (CONNECTION once drained), never a crash. */
static void
test_acquire_notify_not_socket (void **state)
{
  Hostile *h = *state;
  Link link = { 0 };
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GError) error = NULL;
  guint8 out[8];

  link_open (h, &link);
  hostile_acquire (h, "not-socket", 23, 600, 3);
  buffer = bleio_characteristic_buffer_new (link.chr, 0.2, 64, &error);
  assert_no_error (error);
  assert_non_null (buffer);
  wait_buffer_lost (buffer);
  assert_int_equal (bleio_characteristic_buffer_get_in_waiting (buffer), 0);
  assert_int_equal (bleio_characteristic_buffer_readinto (buffer, out, sizeof out, &error), -1);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  link_close (&link);
}

/* The descriptor hangs up at once: the buffer reports the loss
 * (CONNECTION on read), and the connection itself is unaffected. */
static void
test_acquire_notify_closed (void **state)
{
  Hostile *h = *state;
  Link link = { 0 };
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = NULL;
  guint8 out[8];

  link_open (h, &link);
  hostile_acquire (h, "closed", 23, 0, 0);
  buffer = bleio_characteristic_buffer_new (link.chr, 0.2, 64, &error);
  assert_no_error (error);
  assert_non_null (buffer);
  wait_buffer_lost (buffer);
  assert_int_equal (bleio_characteristic_buffer_readinto (buffer, out, sizeof out, &error), -1);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&error);
  assert_true (bleio_connection_get_connected (link.connection));
  value = bleio_characteristic_read_value (link.chr, &error);
  assert_no_error (error);
  link_close (&link);
}

/* Packets of 600 bytes on a link whose MTU is 23: each is cut to the
 * 20 bytes the MTU allows (never more than a peer could send). */
static void
test_acquire_notify_oversized (void **state)
{
  Hostile *h = *state;
  Link link = { 0 };
  g_autoptr(BleioPacketBuffer) buffer = NULL;
  g_autoptr(GError) error = NULL;
  guint8 out[1024];
  gsize incoming;

  link_open (h, &link);
  hostile_acquire (h, "oversized", 23, 600, 3);
  buffer = bleio_packet_buffer_new (link.chr, 8, 0, &error);
  assert_no_error (error);
  assert_non_null (buffer);
  assert_true (bleio_packet_buffer_get_notify_acquired (buffer));
  incoming = bleio_packet_buffer_get_incoming_packet_length (buffer);
  assert_true (incoming <= 514);
  for (guint i = 0; i < 3; i++)
    {
      assert_int_equal (packet_next (buffer, out, sizeof out), 20);
      assert_int_equal (out[19], 19);
    }
  link_close (&link);
}

/* AcquireNotify answering @mtu (and an fd that stays silent): the MTU
 * the library reports stays within ATT's 23..517. With @hide_mtu the
 * characteristic shows no MTU property, so the answer is all it has. */
static void
acquire_notify_mtu_in_range (Hostile  *h,
                             guint     mtu_answered,
                             gboolean  hide_mtu)
{
  Link link = { 0 };
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GError) error = NULL;
  guint mtu;

  link_open (h, &link);
  if (hide_mtu)
    hostile_hide (h, CUSTOM_CHAR, IFACE_CHAR, "MTU");
  hostile_acquire (h, "oversized", mtu_answered, 1, 0);
  buffer = bleio_characteristic_buffer_new (link.chr, 0.2, 64, &error);
  assert_no_error (error);
  mtu = bleio_characteristic_get_mtu (link.chr);
  assert_true (mtu >= 23 && mtu <= 517);
  link_close (&link);
}

static void
test_acquire_notify_mtu_65535 (void **state)
{
  acquire_notify_mtu_in_range (*state, 65535, TRUE);
}

/* AcquireNotify answering MTU 0: likewise. */
static void
test_acquire_notify_mtu_0 (void **state)
{
  acquire_notify_mtu_in_range (*state, 0, FALSE);
}

/* NotifyAcquired true on a characteristic nobody acquired: buffers still
 * subscribe and receive. */
static void
test_notify_acquired_without_fd (void **state)
{
  Hostile *h = *state;
  Link link = { 0 };
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GError) error = NULL;
  guint8 out[2];

  hostile_property_quiet (h, CUSTOM_CHAR, IFACE_CHAR, "NotifyAcquired", g_variant_new_boolean (TRUE));
  link_open (h, &link);
  buffer = bleio_characteristic_buffer_new (link.chr, 1, 64, &error);
  assert_no_error (error);
  notify (h, (const guint8 *) "hi", 2);
  assert_int_equal (buffer_collect (buffer, out, 2), 2);
  assert_memory_equal (out, "hi", 2);
  link_close (&link);
}

/* The Value-signal path (AcquireNotify refused, PacketBuffer subscribed
 * with StartNotify): Value as ai and as a string are not delivered; 600
 * bytes (more than any MTU carries) are cut to 514; the next proper
 * notification comes through. */
static void
test_value_signal_wrong_types (void **state)
{
  Hostile *h = *state;
  Link link = { 0 };
  g_autoptr(BleioPacketBuffer) buffer = NULL;
  g_autoptr(GError) error = NULL;
  guint8 big[600];
  guint8 out[1024];

  link_open (h, &link);
  assert_true (sim_fixture_fail_next (h->fx, "AcquireNotify", "org.bluez.Error.NotSupported",
                                      "Operation is not supported", 1, &error));
  buffer = bleio_packet_buffer_new (link.chr, 8, 0, &error);
  assert_no_error (error);
  assert_false (bleio_packet_buffer_get_notify_acquired (buffer));
  memset (big, 0x77, sizeof big);
  hostile_changed (h, CUSTOM_CHAR, IFACE_CHAR, "Value", g_variant_new_parsed ("[1, 2, 3]"));
  hostile_changed (h, CUSTOM_CHAR, IFACE_CHAR, "Value", g_variant_new_string ("text"));
  hostile_changed (h, CUSTOM_CHAR, IFACE_CHAR, "Value",
                   g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, big, sizeof big, 1));
  notify (h, (const guint8 *) "ok", 2);
  assert_int_equal (packet_next (buffer, out, sizeof out), 514);
  assert_int_equal (out[513], 0x77);
  assert_int_equal (packet_next (buffer, out, sizeof out), 2);
  assert_memory_equal (out, "ok", 2);
  hostile_settle (100);
  assert_int_equal (bleio_packet_buffer_get_packets_waiting (buffer), 0);
  link_close (&link);
}

/* A Value signal for a characteristic nobody subscribed to, and one on
 * the descriptor path: no notification surfaces anywhere. */
static void
test_value_signal_not_notifying (void **state)
{
  Hostile *h = *state;
  Link link = { 0 };
  g_autoptr(BleioCharacteristic) battery = NULL;
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GError) error = NULL;
  guint8 out[2];

  link_open (h, &link);
  battery = hostile_find_char (link.services, BATTERY_CHAR);
  buffer = bleio_characteristic_buffer_new (link.chr, 1, 64, &error);
  assert_no_error (error);
  hostile_changed (h, BATTERY_CHAR, IFACE_CHAR, "Value", g_variant_new_bytestring ("zz"));
  notify (h, (const guint8 *) "ok", 2);
  assert_int_equal (buffer_collect (buffer, out, 2), 2);
  assert_memory_equal (out, "ok", 2);
  hostile_settle (100);
  assert_int_equal (bleio_characteristic_buffer_get_in_waiting (buffer), 0);
  link_close (&link);
}

/* AcquireWrite answering without a usable descriptor: the PacketBuffer
 * writes through WriteValue instead, and the peer gets the packet. */
static void
write_fallback_works (Hostile    *h,
                      const char *mode)
{
  Link link = { 0 };
  g_autoptr(BleioPacketBuffer) buffer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = NULL;

  link_open (h, &link);
  hostile_acquire_write (h, mode);
  buffer = bleio_packet_buffer_new (link.chr, 8, 0, &error);
  assert_no_error (error);
  assert_non_null (buffer);
  assert_false (bleio_packet_buffer_get_write_acquired (buffer));
  assert_int_equal (bleio_packet_buffer_write (buffer, (const guint8 *) "wxyz", 4, NULL, 0, &error), 4);
  assert_no_error (error);
  value = bleio_characteristic_read_value (link.chr, &error);
  assert_no_error (error);
  assert_int_equal (g_bytes_get_size (value), 4);
  assert_memory_equal (g_bytes_get_data (value, NULL), "wxyz", 4);
  link_close (&link);
}

/* AcquireWrite answering a handle with no descriptor attached. */
static void
test_acquire_write_no_fd (void **state)
{
  write_fallback_works (*state, "no-fd");
}

/* AcquireWrite answering a handle past its descriptors (was a GLib
 * critical in g_unix_fd_list_get). */
static void
test_acquire_write_bad_index (void **state)
{
  write_fallback_works (*state, "bad-index");
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    HOSTILE_TEST (test_acquire_notify_no_fd),
    HOSTILE_TEST (test_acquire_notify_bad_index),
    HOSTILE_TEST (test_acquire_notify_not_socket),
    HOSTILE_TEST (test_acquire_notify_closed),
    HOSTILE_TEST (test_acquire_notify_oversized),
    HOSTILE_TEST (test_acquire_notify_mtu_65535),
    HOSTILE_TEST (test_acquire_notify_mtu_0),
    HOSTILE_TEST (test_notify_acquired_without_fd),
    HOSTILE_TEST (test_value_signal_wrong_types),
    HOSTILE_TEST (test_value_signal_not_notifying),
    HOSTILE_TEST (test_acquire_write_no_fd),
    HOSTILE_TEST (test_acquire_write_bad_index),
  };

  return hostile_run_tests (tests, G_N_ELEMENTS (tests), argc, argv);
}
