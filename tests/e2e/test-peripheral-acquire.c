/* SPDX-License-Identifier: MIT */
/*
 * The acquired sockets of local characteristics against real bluetoothd
 * (issue 17 items 2 and 3): libbleio serves on hci1 and is the client on
 * hci0. A value set on a characteristic with NotifyAcquired reaches the
 * client through the socket of AcquireNotify, one without it through
 * PropertiesChanged; a client's writes to a characteristic with
 * WriteAcquired reach a local PacketBuffer through the socket of
 * AcquireWrite, in order, packet by packet.
 *
 * The test plays the peripheral itself (init.sh starts no test peripheral
 * for test-peripheral-*); under the simulator it runs on two-adapters.json.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "e2e-central.h"

#define ADV_NAME "BleioE2eAcq"

static const guint8 adv_data[] = { 0x02, 0x01, 0x06 };
static const guint8 adv_scan_response[] = {
  0x0c, 0x09, 'B', 'l', 'e', 'i', 'o', 'E', '2', 'e', 'A', 'c', 'q',
};

static BleioAdapter *
peripheral_adapter (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  g_autoptr(BleioAdapter) adapter = NULL;

  if (bus == NULL)
    fail_msg ("system bus: %s", error->message);
  adapter = bleio_adapter_new_for_name (bus, e2e_env ("BLEIO_TEST_PERIPHERAL_ADAPTER", "hci1"),
                                        NULL, &error);
  if (adapter == NULL)
    fail_msg ("peripheral adapter: %s", error->message);
  if (!bleio_adapter_get_enabled (adapter)
      && !bleio_adapter_set_enabled (adapter, TRUE, &error))
    fail_msg ("power on the peripheral adapter: %s", error->message);
  return g_steal_pointer (&adapter);
}

static void
start_advertising (BleioAdapter *adapter)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) data = g_bytes_new_static (adv_data, sizeof adv_data);
  g_autoptr(GBytes) scan_response = g_bytes_new_static (adv_scan_response,
                                                        sizeof adv_scan_response);

  if (!bleio_adapter_start_advertising (adapter, data, scan_response, TRUE, FALSE,
                                        0, 0, 0, NULL, NULL, &error))
    fail_msg ("start advertising: %s", error->message);
}

/* As test-peripheral-advertise does: btvirt reports an advertisement only
 * when scanning or advertising is switched on, so advertising starts once
 * the scan runs, and again every 4 s until hci0 heard it. */
static BleioScanEntry *
scan_while_advertising (BleioAdapter *central,
                        BleioAdapter *peripheral)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  BleioScanEntry *found = NULL;

  results = bleio_adapter_start_scan (central, NULL, 512, FALSE, 0, 0.1, 0.1, -127, TRUE, &error);
  if (results == NULL)
    fail_msg ("start scan: %s", error->message);
  e2e_spin (1000);
  for (guint round = 0; found == NULL && round < 5; round++)
    {
      gint64 end = g_get_monotonic_time () + 4 * G_USEC_PER_SEC;

      if (round > 0 && !bleio_adapter_stop_advertising (peripheral, &error))
        fail_msg ("stop advertising: %s", error->message);
      start_advertising (peripheral);
      while (found == NULL && g_get_monotonic_time () < end)
        {
          g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, 0.2, &error);
          g_autofree char *name = NULL;

          if (entry == NULL)
            {
              if (!g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_TIMEOUT))
                fail_msg ("scan: %s", error->message);
              g_clear_error (&error);
              continue;
            }
          name = bleio_scan_entry_dup_complete_name (entry);
          if (g_strcmp0 (name, ADV_NAME) == 0)
            found = g_steal_pointer (&entry);
        }
    }
  if (!bleio_adapter_stop_scan (central, &error))
    fail_msg ("stop scan: %s", error->message);
  return found;
}

static BleioCharacteristic *
add_char (BleioService                  *service,
          guint16                        uuid16,
          BleioCharacteristicProperties  properties)
{
  g_autoptr(BleioUuid) uuid = bleio_uuid_new_from_uuid16 (uuid16);
  g_autoptr(GError) error = NULL;
  BleioCharacteristic *c;

  c = bleio_characteristic_add_to_service (service, uuid, properties, BLEIO_ATTRIBUTE_OPEN,
                                           BLEIO_ATTRIBUTE_OPEN, 64, FALSE, NULL, NULL, &error);
  if (c == NULL)
    fail_msg ("add characteristic %04x: %s", uuid16, error->message);
  return c;
}

static BleioCharacteristic *
remote_char (GPtrArray *services,
             guint16    uuid16)
{
  g_autoptr(BleioUuid) want = bleio_uuid_new_from_uuid16 (uuid16);

  for (guint i = 0; i < services->len; i++)
    {
      g_autoptr(GPtrArray) chars = bleio_service_dup_characteristics (g_ptr_array_index (services, i));

      for (guint j = 0; j < chars->len; j++)
        if (bleio_uuid_equal (bleio_characteristic_get_uuid (g_ptr_array_index (chars, j)), want))
          return g_object_ref (g_ptr_array_index (chars, j));
    }
  fail_msg ("hci0 sees no characteristic %04x", uuid16);
  return NULL;
}

static gboolean
notify_acquired (gpointer user_data)
{
  return bleio_characteristic_get_notify_acquired (user_data);
}

static gboolean
notifying (gpointer user_data)
{
  return bleio_characteristic_get_notifying (user_data);
}

typedef struct {
  BleioPacketBuffer *buffer;
  GBytes *packet;
} PacketWait;

static gboolean
packet_came (gpointer user_data)
{
  PacketWait *w = user_data;

  if (w->packet == NULL)
    w->packet = bleio_packet_buffer_read_packet (w->buffer, NULL);
  return w->packet != NULL;
}

static void
assert_next_packet (BleioPacketBuffer *buffer,
                    const guint8      *want,
                    gsize              len)
{
  PacketWait w = { buffer, NULL };
  g_autoptr(GBytes) expected = g_bytes_new (want, len);

  assert_true (e2e_wait_until (packet_came, &w, E2E_WAIT_MSEC));
  if (!g_bytes_equal (w.packet, expected))
    {
      /* What came, for the log: the guest's failures are read from it. */
      g_autofree char *got = e2e_hex (w.packet);
      g_autofree char *want_hex = e2e_hex (expected);

      g_bytes_unref (w.packet);
      fail_msg ("the packet read was %s, not %s", got, want_hex);
    }
  g_bytes_unref (w.packet);
}

static void
set_value (BleioCharacteristic *c,
           const guint8        *data,
           gsize                len)
{
  g_autoptr(GBytes) value = g_bytes_new (data, len);
  g_autoptr(GError) error = NULL;

  if (!bleio_characteristic_write_value (c, value, &error))
    fail_msg ("set the value: %s", error->message);
}

static void
test_peripheral_acquire_both_paths (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) server = peripheral_adapter ();
  g_autoptr(BleioAdapter) central = NULL;
  g_autoptr(BleioUuid) su = bleio_uuid_new_from_uuid16 (0xfff0);
  g_autoptr(BleioService) service = NULL;
  g_autoptr(BleioCharacteristic) plain = NULL;
  g_autoptr(BleioCharacteristic) fast = NULL;
  g_autoptr(BleioCharacteristic) fast_write = NULL;
  g_autoptr(BleioScanEntry) entry = NULL;
  g_autoptr(BleioConnection) link = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioCharacteristic) r_plain = NULL;
  g_autoptr(BleioCharacteristic) r_fast = NULL;
  g_autoptr(BleioCharacteristic) r_write = NULL;
  g_autoptr(BleioPacketBuffer) in_plain = NULL;
  g_autoptr(BleioPacketBuffer) in_fast = NULL;
  g_autoptr(BleioPacketBuffer) server_in = NULL;
  g_autoptr(BleioPacketBuffer) client_out = NULL;
  const guint8 a[] = { 1, 2, 3 }, b[] = { 0x0a, 0x0b }, c[] = { 9 };

  service = bleio_service_new (server, su, FALSE, &error);
  if (service == NULL)
    fail_msg ("service: %s", error->message);
  plain = add_char (service, 0xfff1,
                    BLEIO_CHARACTERISTIC_PROPERTY_READ | BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY);
  fast = add_char (service, 0xfff2,
                   BLEIO_CHARACTERISTIC_PROPERTY_READ | BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY);
  fast_write = add_char (service, 0xfff3, BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE);
  assert_true (bleio_characteristic_set_acquired (fast, TRUE, FALSE, &error));
  assert_true (bleio_characteristic_set_acquired (fast_write, FALSE, TRUE, &error));
  server_in = bleio_packet_buffer_new (fast_write, 8, 0, &error);
  if (server_in == NULL)
    fail_msg ("server PacketBuffer: %s", error->message);
  if (!bleio_adapter_publish_services (server, NULL, &error))
    fail_msg ("publish: %s", error->message);

  central = e2e_central_adapter (&error);
  if (central == NULL)
    fail_msg ("central adapter: %s", error->message);
  entry = scan_while_advertising (central, server);
  if (entry == NULL)
    fail_msg ("hci0 never heard '%s'", ADV_NAME);
  link = e2e_connect (central, bleio_scan_entry_get_address (entry), &error);
  if (link == NULL)
    fail_msg ("connect: %s", error->message);
  services = bleio_connection_discover_remote_services (link, NULL, 30, &error);
  if (services == NULL)
    fail_msg ("discover: %s", error->message);
  r_plain = remote_char (services, 0xfff1);
  r_fast = remote_char (services, 0xfff2);
  r_write = remote_char (services, 0xfff3);

  in_plain = bleio_packet_buffer_new (r_plain, 8, 0, &error);
  if (in_plain == NULL)
    fail_msg ("client PacketBuffer fff1: %s", error->message);
  in_fast = bleio_packet_buffer_new (r_fast, 8, 0, &error);
  if (in_fast == NULL)
    fail_msg ("client PacketBuffer fff2: %s", error->message);
  assert_true (e2e_wait_until (notifying, plain, E2E_WAIT_MSEC));
  assert_true (e2e_wait_until (notify_acquired, fast, E2E_WAIT_MSEC));
  assert_false (bleio_characteristic_get_notify_acquired (plain));

  set_value (plain, a, sizeof a);
  set_value (fast, b, sizeof b);
  assert_next_packet (in_plain, a, sizeof a);
  assert_next_packet (in_fast, b, sizeof b);

  client_out = bleio_packet_buffer_new (r_write, 4, 0, &error);
  if (client_out == NULL)
    fail_msg ("client PacketBuffer fff3: %s", error->message);
  assert_int_equal (bleio_packet_buffer_write (client_out, a, sizeof a, NULL, 0, &error), 3);
  assert_int_equal (bleio_packet_buffer_write (client_out, c, sizeof c, NULL, 0, &error), 1);
  assert_next_packet (server_in, a, sizeof a);
  assert_next_packet (server_in, c, sizeof c);

  bleio_packet_buffer_deinit (in_fast);
  bleio_packet_buffer_deinit (in_plain);
  bleio_packet_buffer_deinit (client_out);
  bleio_packet_buffer_deinit (server_in);
  if (!bleio_connection_disconnect (link, &error))
    fail_msg ("disconnect: %s", error->message);
  e2e_spin (500);
}

/* hci1's side of the pairing a 5.82 central starts for EATT needs an
 * agent that says yes (e2e_agent_start()). */
static int
agent_setup (void **state)
{
  *state = e2e_agent_start ();
  return 0;
}

static int
agent_teardown (void **state)
{
  e2e_agent_stop (*state);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_peripheral_acquire_both_paths, agent_setup, agent_teardown),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
