/* SPDX-License-Identifier: MIT */
/*
 * BlueZ quirk: after a client closes its AcquireNotify descriptor,
 * bluetoothd keeps refusing AcquireNotify with
 * org.bluez.Error.NotPermitted "Notify acquired" until its main loop has
 * seen the hang-up (NotifyAcquired turns false then). A buffer made right
 * after another one on the same characteristic was released used to lose
 * that race, fall back to Value signals without subscribing, and receive
 * nothing. Here buffers are made, fed and released back to back many
 * times; each must hold the descriptor and get its notifications.
 */
#include "load.h"

#define CYCLES 1000
#define H_FD 0x0011

static void
test_reacquire_at_once (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(BleioAddress) address = common_address ("00:DE:00:00:00:01");
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(GPtrArray) chars = NULL;
  g_autofree char *path = NULL;
  g_autofree char *char_path = NULL;
  BleioCharacteristic *c;

  path = common_add (fx, "{\"address\": \"00:DE:00:00:00:01\", \"name\": \"Reacquire\","
                         " \"connect\": {\"delay_ms\": 5, \"resolve_delay_ms\": 10},"
                         " \"gatt\": [{\"uuid\": \"bb00\", \"handle\": \"0x0010\","
                         " \"characteristics\": [{\"uuid\": \"bb01\", \"handle\": \"0x0011\","
                         " \"flags\": [\"notify\"]}]}]}");
  char_path = g_strdup_printf ("%s/service0010/char%04x", path, H_FD);
  connection = bleio_adapter_connect (adapter, address, 30, NULL, &error);
  assert_no_error (error);
  services = bleio_connection_discover_remote_services (connection, NULL, 30, &error);
  assert_no_error (error);
  chars = bleio_service_dup_characteristics (g_ptr_array_index (services, 0));
  c = g_ptr_array_index (chars, 0);
  assert_int_equal (bleio_characteristic_get_handle (c), H_FD);

  for (guint i = 0; i < CYCLES; i++)
    {
      g_autoptr(BleioCharacteristicBuffer) buffer = NULL;
      g_autoptr(GBytes) got = NULL;
      guint8 value[4] = { 0x5e, 0x00, (guint8) (i >> 8), (guint8) i };

      buffer = bleio_characteristic_buffer_new (c, 5.0, 64, &error);
      assert_no_error (error);
      if (!bleio_characteristic_buffer_get_notify_acquired (buffer))
        fail_msg ("cycle %u: the buffer did not get the notification descriptor", i);
      assert_true (sim_fixture_notify (fx, char_path, value, sizeof value, &error));
      assert_no_error (error);
      got = bleio_characteristic_buffer_read (buffer, sizeof value, &error);
      assert_no_error (error);
      if (g_bytes_get_size (got) != sizeof value)
        fail_msg ("cycle %u: %zu bytes arrived instead of %zu", i,
                  g_bytes_get_size (got), sizeof value);
      assert_memory_equal (g_bytes_get_data (got, NULL), value, sizeof value);
      bleio_characteristic_buffer_deinit (buffer);
    }

  assert_true (bleio_connection_disconnect (connection, &error));
  assert_no_error (error);
  assert_true (sim_fixture_remove_device (fx, path, &error));
  assert_no_error (error);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_reacquire_at_once),
  };

  load_init (argc, argv);
  return cmocka_run_group_tests (tests, load_group_setup, load_group_teardown);
}
