/* SPDX-License-Identifier: MIT */
/*
 * Notifications through CharacteristicBuffer and PacketBuffer, on both of
 * the library's paths:
 *
 *  - AcquireNotify: bluetoothd exports NotifyAcquired for a notify
 *    characteristic, and libbleio reads the notifications from the socket
 *    it hands out (notify_acquired TRUE);
 *  - the StartNotify fallback: while another D-Bus client of bluetoothd
 *    holds a StartNotify session on the characteristic, bluetoothd refuses
 *    AcquireNotify (InProgress), and libbleio takes the Value changes
 *    (notify_acquired FALSE), each notification once.
 *
 * The peripheral streams while notifying: the custom counter 00 01 02 03
 * every 500 ms, the heart rate measurement 06 48, 06 4a, ... every second.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "e2e-central.h"

/* Long enough for several periods of either stream on a loaded machine. */
#define READ_TIMEOUT_S 15.0
#define PACKETS 3

/* The counter through a CharacteristicBuffer: 4 bytes that count on. */
static void
check_counter_buffer (BleioCharacteristic *counter,
                      gboolean             expect_acquired)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
  g_autoptr(GBytes) bytes = NULL;
  const guint8 *data;
  gsize len;

  buffer = bleio_characteristic_buffer_new (counter, READ_TIMEOUT_S, 64, &error);
  if (buffer == NULL)
    fail_msg ("CharacteristicBuffer: %s", error->message);
  g_print ("CharacteristicBuffer notify_acquired=%d\n",
           bleio_characteristic_buffer_get_notify_acquired (buffer));
  assert_int_equal (bleio_characteristic_buffer_get_notify_acquired (buffer), expect_acquired);
  assert_true (bleio_characteristic_buffer_get_connected (buffer));

  bytes = bleio_characteristic_buffer_read (buffer, 4, &error);
  if (bytes == NULL)
    fail_msg ("read: %s", error->message);
  data = g_bytes_get_data (bytes, &len);
  {
    g_autofree char *hex = e2e_hex (bytes);

    g_print ("counter bytes %s\n", hex);
  }
  assert_int_equal (len, 4);
  for (gsize i = 1; i < len; i++)
    assert_int_equal (data[i], (data[i - 1] + 1) % 4);
  assert_int_equal (bleio_characteristic_buffer_get_dropped (buffer), 0);
  bleio_characteristic_buffer_deinit (buffer);
  assert_false (bleio_characteristic_buffer_get_connected (buffer));
}

typedef struct {
  BleioPacketBuffer *buffer;
  GPtrArray *packets;
  GError *error;
} Collect;

static gboolean
collect_packets (gpointer user_data)
{
  Collect *c = user_data;
  GBytes *packet;

  while (c->error == NULL && c->packets->len < PACKETS
         && (packet = bleio_packet_buffer_read_packet (c->buffer, &c->error)) != NULL)
    g_ptr_array_add (c->packets, packet);
  return c->error != NULL || c->packets->len >= PACKETS;
}

/* The heart rate measurement through a PacketBuffer: whole 2-byte packets
 * from the peripheral's stream, one per notification. */
static void
check_heart_rate_packets (BleioCharacteristic *measurement,
                          gboolean             expect_acquired)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioPacketBuffer) buffer = NULL;
  g_autoptr(GPtrArray) packets = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  Collect c = { 0 };

  buffer = bleio_packet_buffer_new (measurement, 16, 0, &error);
  if (buffer == NULL)
    fail_msg ("PacketBuffer: %s", error->message);
  g_print ("PacketBuffer notify_acquired=%d incoming packet length %" G_GSIZE_FORMAT "\n",
           bleio_packet_buffer_get_notify_acquired (buffer),
           bleio_packet_buffer_get_incoming_packet_length (buffer));
  assert_int_equal (bleio_packet_buffer_get_notify_acquired (buffer), expect_acquired);
  assert_true (bleio_packet_buffer_get_incoming_packet_length (buffer) >= 20);

  c.buffer = buffer;
  c.packets = packets;
  e2e_wait_until (collect_packets, &c, (guint) (READ_TIMEOUT_S * 1000));
  if (c.error != NULL)
    fail_msg ("read_packet: %s", c.error->message);
  g_print ("%u heart rate packets\n", packets->len);
  assert_int_equal (packets->len, PACKETS);
  for (guint i = 0; i < packets->len; i++)
    {
      gsize len;
      const guint8 *p = g_bytes_get_data (g_ptr_array_index (packets, i), &len);
      g_autofree char *hex = e2e_hex (g_ptr_array_index (packets, i));

      g_print ("packet %u: %s\n", i, hex);
      assert_int_equal (len, 2);
      assert_int_equal (p[0], 0x06);
      assert_true (p[1] >= 0x48 && p[1] <= 0x50);
      if (i > 0)
        assert_false (g_bytes_equal (g_ptr_array_index (packets, i),
                                     g_ptr_array_index (packets, i - 1)));
    }
  assert_int_equal (bleio_packet_buffer_get_dropped (buffer), 0);
  bleio_packet_buffer_deinit (buffer);
  assert_false (bleio_packet_buffer_get_connected (buffer));
}

static void
test_characteristic_buffer_acquired (void **state)
{
  E2eFixture *f = *state;
  g_autoptr(BleioCharacteristic) counter = e2e_fixture_find (f, E2E_UUID_CUSTOM, E2E_UUID_CUSTOM_COUNTER);

  check_counter_buffer (counter, TRUE);
}

static void
test_characteristic_buffer_fallback (void **state)
{
  E2eFixture *f = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristic) counter = e2e_fixture_find (f, E2E_UUID_CUSTOM, E2E_UUID_CUSTOM_COUNTER);
  g_autoptr(GDBusConnection) other = e2e_other_client_start_notify (counter, &error);

  if (other == NULL)
    fail_msg ("the other client's StartNotify: %s", error->message);
  check_counter_buffer (counter, FALSE);
  g_dbus_connection_close_sync (other, NULL, NULL);
}

static void
test_packet_buffer_acquired (void **state)
{
  E2eFixture *f = *state;
  g_autoptr(BleioCharacteristic) measurement = e2e_fixture_find (f, E2E_UUID_HEART_RATE,
                                                                 E2E_UUID_HEART_RATE_MEAS);

  check_heart_rate_packets (measurement, TRUE);
}

/* Quirk (the e2e guest): bluetoothd 5.66 emits one Value change per
 * StartNotify session for every notification. A PacketBuffer that took a
 * session of its own next to the other client's got each packet twice;
 * it rides on the other client's session instead. */
static void
test_packet_buffer_fallback_one_value_per_notification (void **state)
{
  E2eFixture *f = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristic) measurement = e2e_fixture_find (f, E2E_UUID_HEART_RATE,
                                                                 E2E_UUID_HEART_RATE_MEAS);
  g_autoptr(GDBusConnection) other = e2e_other_client_start_notify (measurement, &error);

  if (other == NULL)
    fail_msg ("the other client's StartNotify: %s", error->message);
  check_heart_rate_packets (measurement, FALSE);
  g_dbus_connection_close_sync (other, NULL, NULL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_characteristic_buffer_acquired),
    cmocka_unit_test (test_characteristic_buffer_fallback),
    cmocka_unit_test (test_packet_buffer_acquired),
    cmocka_unit_test (test_packet_buffer_fallback_one_value_per_notification),
  };

  return cmocka_run_group_tests (tests, e2e_fixture_setup, e2e_fixture_teardown);
}
