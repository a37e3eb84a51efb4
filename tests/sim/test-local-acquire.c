/* SPDX-License-Identifier: MIT */
/* The fast paths and the buffers of local characteristics (issue 17
 * items 2 and 3), libbleio serving on hci1 and libbleio the client on
 * hci0 of two-adapters.json, through the simulator's air: values set on
 * the server reach a subscribed client both as PropertiesChanged after
 * StartNotify and through the socket of AcquireNotify (notifications and
 * a confirmed indication); client writes reach the server both as
 * WriteValue and through the socket of AcquireWrite; a PacketBuffer and a
 * CharacteristicBuffer on local characteristics carry packets and bytes
 * both ways, with the same bounds, drops and deinit as a peer's.
 *
 *   test-local-acquire SCENARIO
 */
#include "advertising.h"

#include <string.h>

static const char *scenario;

typedef struct {
  SimFixture *fx;
  BleioAdapter *server;
  BleioAdapter *central;
  BleioService *service;
  BleioCharacteristic *plain_notify;    /* fff1: PropertiesChanged */
  BleioCharacteristic *fast_notify;     /* fff2: AcquireNotify */
  BleioCharacteristic *fast_write;      /* fff3: AcquireWrite */
  BleioCharacteristic *plain_write;     /* fff4: WriteValue */
  BleioCharacteristic *fast_indicate;   /* fff5: AcquireNotify, indications */
  BleioConnection *link;
  GPtrArray *remote;                    /* the client's services */
} Fixture;

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
  assert_no_error (error);
  assert_non_null (c);
  return c;
}

static int
group_setup (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioUuid) uuid = bleio_uuid_new_from_uuid16 (0xfff0);
  g_autoptr(BleioAddress) address = NULL;
  Fixture *f = g_new0 (Fixture, 1);

  f->fx = sim_fixture_new (scenario, &error);
  if (f->fx == NULL)
    {
      g_printerr ("simulator: %s\n", error->message);
      return -1;
    }
  f->central = common_adapter (f->fx, "hci0");
  f->server = common_adapter (f->fx, "hci1");
  f->service = bleio_service_new (f->server, uuid, FALSE, &error);
  assert_no_error (error);
  f->plain_notify = add_char (f->service, 0xfff1,
                              BLEIO_CHARACTERISTIC_PROPERTY_READ | BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY);
  f->fast_notify = add_char (f->service, 0xfff2,
                             BLEIO_CHARACTERISTIC_PROPERTY_READ | BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY);
  f->fast_write = add_char (f->service, 0xfff3,
                            BLEIO_CHARACTERISTIC_PROPERTY_WRITE |
                            BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE);
  f->plain_write = add_char (f->service, 0xfff4,
                             BLEIO_CHARACTERISTIC_PROPERTY_WRITE |
                             BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE);
  f->fast_indicate = add_char (f->service, 0xfff5, BLEIO_CHARACTERISTIC_PROPERTY_INDICATE);
  assert_true (bleio_characteristic_set_acquired (f->fast_notify, TRUE, FALSE, &error));
  assert_no_error (error);
  assert_true (bleio_characteristic_set_acquired (f->fast_write, FALSE, TRUE, &error));
  assert_no_error (error);
  assert_true (bleio_characteristic_set_acquired (f->fast_indicate, TRUE, FALSE, &error));
  assert_no_error (error);
  assert_true (bleio_adapter_publish_services (f->server, NULL, &error));
  assert_no_error (error);

  adv_start_ok (f->server, "02 01 06", "07 09 46 61 73 74 47 46", TRUE, 0);
  address = bleio_adapter_dup_address (f->server);
  f->link = bleio_adapter_connect (f->central, address, 10, NULL, &error);
  assert_no_error (error);
  assert_non_null (f->link);
  f->remote = bleio_connection_discover_remote_services (f->link, NULL, 10, &error);
  assert_no_error (error);
  assert_non_null (f->remote);
  *state = f;
  return 0;
}

static int
group_teardown (void **state)
{
  Fixture *f = *state;

  if (f->link != NULL)
    (void) bleio_connection_disconnect (f->link, NULL);
  g_clear_pointer (&f->remote, g_ptr_array_unref);
  g_clear_object (&f->link);
  g_clear_object (&f->plain_notify);
  g_clear_object (&f->fast_notify);
  g_clear_object (&f->fast_write);
  g_clear_object (&f->plain_write);
  g_clear_object (&f->fast_indicate);
  g_clear_object (&f->service);
  g_clear_object (&f->server);
  g_clear_object (&f->central);
  sim_fixture_free (f->fx);
  g_free (f);
  return 0;
}

/* The client's object of the server's characteristic @uuid16. */
static BleioCharacteristic *
remote_char (Fixture *f,
             guint16  uuid16)
{
  g_autoptr(BleioUuid) want = bleio_uuid_new_from_uuid16 (uuid16);

  for (guint i = 0; i < f->remote->len; i++)
    {
      g_autoptr(GPtrArray) chars = bleio_service_dup_characteristics (g_ptr_array_index (f->remote, i));

      for (guint j = 0; j < chars->len; j++)
        {
          BleioCharacteristic *c = g_ptr_array_index (chars, j);

          if (bleio_uuid_equal (bleio_characteristic_get_uuid (c), want))
            return g_object_ref (c);
        }
    }
  fail_msg ("the client sees no characteristic %04x", uuid16);
  return NULL;
}

static gboolean
notifying (gpointer user_data)
{
  return bleio_characteristic_get_notifying (user_data);
}

static gboolean
notify_acquired (gpointer user_data)
{
  return bleio_characteristic_get_notify_acquired (user_data);
}

static gboolean
notify_released (gpointer user_data)
{
  return !bleio_characteristic_get_notify_acquired (user_data);
}

typedef struct {
  BleioPacketBuffer *buffer;
  GBytes *packet;
} PacketWait;

static gboolean
packet_came (gpointer user_data)
{
  PacketWait *w = user_data;
  g_autoptr(GError) error = NULL;

  if (w->packet == NULL)
    w->packet = bleio_packet_buffer_read_packet (w->buffer, &error);
  assert_no_error (error);
  return w->packet != NULL;
}

/* Waits for the next packet of @buffer and checks it is @hex. */
static void
assert_next_packet (BleioPacketBuffer *buffer,
                    const char        *hex)
{
  PacketWait w = { buffer, NULL };
  g_autoptr(GBytes) want = adv_bytes (hex);

  assert_true (common_wait (packet_came, &w, WAIT_MSEC));
  assert_true (g_bytes_equal (w.packet, want));
  g_bytes_unref (w.packet);
}

static gboolean
one_dropped (gpointer user_data)
{
  return bleio_packet_buffer_get_dropped (user_data) == 1;
}

static void
set_value (BleioCharacteristic *c,
           const char          *hex)
{
  g_autoptr(GBytes) value = adv_bytes (hex);
  g_autoptr(GError) error = NULL;

  assert_true (bleio_characteristic_write_value (c, value, &error));
  assert_no_error (error);
}

/* A value set on the server reaches the subscribed client on both paths:
 * fff1 through PropertiesChanged (bluetoothd called StartNotify, no
 * socket), fff2 through the socket bluetoothd acquired. */
static void
test_local_acquire_notify_both_paths (void **state)
{
  Fixture *f = *state;
  g_autoptr(BleioCharacteristic) plain = remote_char (f, 0xfff1);
  g_autoptr(BleioCharacteristic) fast = remote_char (f, 0xfff2);
  g_autoptr(BleioPacketBuffer) plain_in = NULL;
  g_autoptr(BleioPacketBuffer) fast_in = NULL;
  g_autoptr(GError) error = NULL;

  assert_false (bleio_characteristic_get_notify_acquired (f->fast_notify));
  plain_in = bleio_packet_buffer_new (plain, 8, 0, &error);
  assert_no_error (error);
  fast_in = bleio_packet_buffer_new (fast, 8, 0, &error);
  assert_no_error (error);
  assert_true (common_wait (notifying, f->plain_notify, WAIT_MSEC));
  assert_true (common_wait (notify_acquired, f->fast_notify, WAIT_MSEC));
  assert_true (bleio_characteristic_get_notifying (f->fast_notify));
  /* The characteristic without NotifyAcquired got StartNotify. */
  assert_false (bleio_characteristic_get_notify_acquired (f->plain_notify));

  set_value (f->plain_notify, "01 02 03");
  set_value (f->fast_notify, "0a 0b");
  set_value (f->fast_notify, "");
  set_value (f->fast_notify, "0c");
  assert_next_packet (plain_in, "01 02 03");
  assert_next_packet (fast_in, "0a 0b");
  /* A zero-length notification is a packet. */
  assert_next_packet (fast_in, "");
  assert_next_packet (fast_in, "0c");

  /* The last client unsubscribes: bluetoothd closes the socket. */
  bleio_packet_buffer_deinit (fast_in);
  g_clear_object (&fast_in);
  assert_true (common_wait (notify_released, f->fast_notify, WAIT_MSEC));
  assert_false (bleio_characteristic_get_notifying (f->fast_notify));
  /* The value is still set, with nobody to tell. */
  set_value (f->fast_notify, "0d");
  bleio_packet_buffer_deinit (plain_in);
}

/* An indication through the acquired socket completes once the client
 * confirmed it (bluetoothd calls Confirm). */
static void
test_local_acquire_indication_confirmed (void **state)
{
  Fixture *f = *state;
  g_autoptr(BleioCharacteristic) remote = remote_char (f, 0xfff5);
  g_autoptr(BleioPacketBuffer) in = NULL;
  g_autoptr(GError) error = NULL;

  in = bleio_packet_buffer_new (remote, 8, 0, &error);
  assert_no_error (error);
  assert_true (common_wait (notify_acquired, f->fast_indicate, WAIT_MSEC));
  set_value (f->fast_indicate, "42");
  assert_next_packet (in, "42");
  bleio_packet_buffer_deinit (in);
}

/* Client writes arrive through the acquired write socket (fff3) and
 * through WriteValue (fff4); a local PacketBuffer keeps each write a
 * packet, a local CharacteristicBuffer is the bytes in order. */
static void
test_local_acquire_client_writes_buffered (void **state)
{
  Fixture *f = *state;
  g_autoptr(BleioCharacteristic) fast = remote_char (f, 0xfff3);
  g_autoptr(BleioCharacteristic) plain = remote_char (f, 0xfff4);
  g_autoptr(BleioPacketBuffer) packets = NULL;
  g_autoptr(BleioCharacteristicBuffer) bytes = NULL;
  g_autoptr(BleioPacketBuffer) out = NULL;
  g_autoptr(GBytes) line = NULL;
  g_autoptr(GBytes) held = NULL;
  g_autoptr(GBytes) want = adv_bytes ("68 69 0a");
  g_autoptr(GError) error = NULL;
  const guint8 a[] = { 1, 2, 3 }, b[] = { 9 };

  packets = bleio_packet_buffer_new (f->fast_write, 4, 0, &error);
  assert_no_error (error);
  bytes = bleio_characteristic_buffer_new (f->plain_write, 2.0, 16, &error);
  assert_no_error (error);
  /* Neither notifies: nothing goes out of this buffer. */
  assert_int_equal (bleio_packet_buffer_get_outgoing_packet_length (packets), 0);
  assert_int_equal (bleio_packet_buffer_get_incoming_packet_length (packets), 20);

  out = bleio_packet_buffer_new (fast, 4, 0, &error);
  assert_no_error (error);
  assert_int_equal (bleio_packet_buffer_write (out, a, sizeof a, NULL, 0, &error), 3);
  assert_no_error (error);
  assert_int_equal (bleio_packet_buffer_write (out, b, sizeof b, NULL, 0, &error), 1);
  assert_no_error (error);
  assert_next_packet (packets, "01 02 03");
  assert_next_packet (packets, "09");
  /* The characteristic holds the last write, as through WriteValue. */
  held = bleio_characteristic_dup_value (f->fast_write);
  assert_int_equal (g_bytes_get_size (held), 1);

  set_value (plain, "68 69");
  set_value (plain, "0a");
  line = bleio_characteristic_buffer_readline (bytes, &error);
  assert_no_error (error);
  assert_true (g_bytes_equal (line, want));

  /* deinit: no more writes are kept, reads fail. */
  bleio_characteristic_buffer_deinit (bytes);
  set_value (plain, "01");
  assert_int_equal (bleio_characteristic_buffer_get_in_waiting (bytes), 0);
  assert_null (bleio_characteristic_buffer_readline (bytes, &error));
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  bleio_packet_buffer_deinit (packets);
  bleio_packet_buffer_deinit (out);
}

/* A PacketBuffer on a local characteristic sends its packets to the
 * subscribed client, on both paths; 0 when none is subscribed; a packet
 * longer than outgoing_packet_length is refused. When its inbox is full
 * the oldest packet goes and is counted. */
static void
test_local_acquire_packet_buffer_out (void **state)
{
  Fixture *f = *state;
  g_autoptr(BleioCharacteristic) fast = remote_char (f, 0xfff2);
  g_autoptr(BleioCharacteristic) fast_w = remote_char (f, 0xfff3);
  g_autoptr(BleioPacketBuffer) server_fast = NULL;
  g_autoptr(BleioPacketBuffer) server_plain = NULL;
  g_autoptr(BleioPacketBuffer) server_in = NULL;
  g_autoptr(BleioPacketBuffer) client_in = NULL;
  g_autoptr(BleioPacketBuffer) client_out = NULL;
  g_autoptr(BleioCharacteristic) plain = remote_char (f, 0xfff1);
  g_autoptr(BleioPacketBuffer) client_plain = NULL;
  g_autoptr(GError) error = NULL;
  guint8 big[64] = { 0 };
  const guint8 p1[] = { 0x11 }, p2[] = { 0x22, 0x23 };

  server_fast = bleio_packet_buffer_new (f->fast_notify, 2, 0, &error);
  assert_no_error (error);
  server_plain = bleio_packet_buffer_new (f->plain_notify, 2, 0, &error);
  assert_no_error (error);
  /* Nobody subscribed yet. */
  assert_int_equal (bleio_packet_buffer_write (server_fast, p1, sizeof p1, NULL, 0, &error), 0);
  assert_no_error (error);

  client_in = bleio_packet_buffer_new (fast, 4, 0, &error);
  assert_no_error (error);
  client_plain = bleio_packet_buffer_new (plain, 4, 0, &error);
  assert_no_error (error);
  assert_true (common_wait (notify_acquired, f->fast_notify, WAIT_MSEC));
  assert_true (common_wait (notifying, f->plain_notify, WAIT_MSEC));
  assert_true (bleio_packet_buffer_get_notify_acquired (server_fast));
  assert_false (bleio_packet_buffer_get_notify_acquired (server_plain));
  /* The link's MTU came with AcquireNotify; the characteristic's
   * max_length (64) bounds it. */
  assert_in_range (bleio_packet_buffer_get_outgoing_packet_length (server_fast), 21, 64);
  assert_int_equal (bleio_packet_buffer_get_outgoing_packet_length (server_plain), 20);

  assert_int_equal (bleio_packet_buffer_write (server_fast, p2, sizeof p2, p1, sizeof p1, &error), 3);
  assert_no_error (error);
  assert_next_packet (client_in, "11 22 23");
  assert_int_equal (bleio_packet_buffer_write (server_plain, p2, sizeof p2, NULL, 0, &error), 2);
  assert_no_error (error);
  assert_next_packet (client_plain, "22 23");
  assert_int_equal (bleio_packet_buffer_write (server_plain, big, sizeof big, big, 1, &error), -1);
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Three writes into a buffer of two packets: the first is dropped. */
  server_in = bleio_packet_buffer_new (f->fast_write, 2, 0, &error);
  assert_no_error (error);
  client_out = bleio_packet_buffer_new (fast_w, 4, 0, &error);
  assert_no_error (error);
  for (guint8 i = 1; i <= 3; i++)
    {
      assert_int_equal (bleio_packet_buffer_write (client_out, &i, 1, NULL, 0, &error), 1);
      assert_no_error (error);
    }
  /* Read nothing before the third came and pushed the first out (a read
   * in between would make room). */
  assert_true (common_wait (one_dropped, server_in, WAIT_MSEC));
  assert_int_equal (bleio_packet_buffer_get_packets_waiting (server_in), 2);
  assert_next_packet (server_in, "02");
  assert_next_packet (server_in, "03");

  bleio_packet_buffer_deinit (server_fast);
  assert_int_equal (bleio_packet_buffer_write (server_fast, p1, sizeof p1, NULL, 0, &error), -1);
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  bleio_packet_buffer_deinit (client_in);
  bleio_packet_buffer_deinit (client_plain);
  bleio_packet_buffer_deinit (client_out);
  bleio_packet_buffer_deinit (server_plain);
  bleio_packet_buffer_deinit (server_in);
}

/* Through the write socket bluetoothd has answered the client before the
 * server sees the write: one longer than max_length (64) cannot be
 * refused, so it is left out; the value and the buffers keep what came
 * before, and the next write is taken. */
static void
test_local_acquire_write_socket_over_max_length_left_out (void **state)
{
  Fixture *f = *state;
  g_autoptr(BleioCharacteristic) remote = remote_char (f, 0xfff3);
  g_autoptr(BleioPacketBuffer) in = NULL;
  g_autoptr(BleioPacketBuffer) out = NULL;
  g_autoptr(GBytes) held = NULL;
  g_autoptr(GError) error = NULL;
  guint8 big[65];
  const guint8 small[] = { 0x77 };

  memset (big, 0xee, sizeof big);
  in = bleio_packet_buffer_new (f->fast_write, 4, 0, &error);
  assert_no_error (error);
  out = bleio_packet_buffer_new (remote, 4, 0, &error);
  assert_no_error (error);
  assert_true (bleio_packet_buffer_get_outgoing_packet_length (out) >= sizeof big);
  assert_int_equal (bleio_packet_buffer_write (out, big, sizeof big, NULL, 0, &error), 65);
  assert_no_error (error);
  assert_int_equal (bleio_packet_buffer_write (out, small, sizeof small, NULL, 0, &error), 1);
  assert_no_error (error);
  /* Packets keep their order: the small one is the first to arrive. */
  assert_next_packet (in, "77");
  assert_int_equal (bleio_packet_buffer_get_packets_waiting (in), 0);
  held = bleio_characteristic_dup_value (f->fast_write);
  assert_int_equal (g_bytes_get_size (held), 1);
  bleio_packet_buffer_deinit (out);
  bleio_packet_buffer_deinit (in);
}

/* The fast paths are for local characteristics with the properties. */
static void
test_local_acquire_refusals (void **state)
{
  Fixture *f = *state;
  g_autoptr(BleioCharacteristic) remote = remote_char (f, 0xfff2);
  g_autoptr(GError) error = NULL;

  assert_false (bleio_characteristic_set_acquired (remote, TRUE, FALSE, &error));
  assert_bleio_error (error, BLEIO_ERROR_ROLE);
  g_clear_error (&error);
  assert_false (bleio_characteristic_set_acquired (f->plain_write, TRUE, FALSE, &error));
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  assert_false (bleio_characteristic_set_acquired (f->plain_notify, FALSE, TRUE, &error));
  assert_bleio_error (error, BLEIO_ERROR_INVALID_ARGUMENT);
  assert_false (bleio_characteristic_get_notify_acquired (remote));
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_local_acquire_refusals),
    cmocka_unit_test (test_local_acquire_notify_both_paths),
    cmocka_unit_test (test_local_acquire_indication_confirmed),
    cmocka_unit_test (test_local_acquire_client_writes_buffered),
    cmocka_unit_test (test_local_acquire_packet_buffer_out),
    cmocka_unit_test (test_local_acquire_write_socket_over_max_length_left_out),
  };

  if (argc < 2)
    {
      g_printerr ("usage: %s SCENARIO\n", argv[0]);
      return 2;
    }
  scenario = argv[1];
  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
