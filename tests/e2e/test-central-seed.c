/* SPDX-License-Identifier: MIT */
/*
 * The seed example's flow through the public API: scan, find the
 * peripheral by its complete name, connect with a timeout, discover its
 * services (all of them, then a whitelist), disconnect. Runs against real
 * bluetoothd (e2e suite) and against bleio-sim (sim suite).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e-central.h"

#define HEART_RATE "0000180d-0000-1000-8000-00805f9b34fb"
#define BATTERY "0000180f-0000-1000-8000-00805f9b34fb"
#define DEVICE_INFORMATION "0000180a-0000-1000-8000-00805f9b34fb"
#define CUSTOM "12345678-1234-5678-1234-56789abcdef0"

static gboolean
has_service (GPtrArray *services, const char *uuid)
{
  for (guint i = 0; i < services->len; i++)
    {
      g_autofree char *s = bleio_uuid_to_bluez_string (
          bleio_service_get_uuid (g_ptr_array_index (services, i)));

      if (g_ascii_strcasecmp (s, uuid) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
test_seed_flow (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(BleioAddress) address = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioConnection) again = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(GPtrArray) only_battery = NULL;
  g_autoptr(GPtrArray) whitelist = g_ptr_array_new_with_free_func ((GDestroyNotify) bleio_uuid_free);
  g_autoptr(GPtrArray) connections = NULL;
  g_autoptr(GPtrArray) after = NULL;

  adapter = e2e_central_adapter (&error);
  assert_null (error);
  assert_true (bleio_adapter_get_enabled (adapter));

  address = e2e_find_peripheral (adapter, &error);
  if (error)
    fail_msg ("%s", error->message);
  connection = e2e_connect (adapter, address, &error);
  if (error)
    fail_msg ("connect: %s", error->message);
  assert_true (bleio_connection_get_connected (connection));
  assert_true (bleio_address_equal (bleio_connection_get_address (connection), address));
  assert_true (bleio_adapter_get_connected (adapter));

  /* The same link gives the same object, from connect and from the list. */
  again = e2e_connect (adapter, address, &error);
  if (error)
    fail_msg ("second connect: %s", error->message);
  assert_ptr_equal (again, connection);
  connections = bleio_adapter_dup_connections (adapter);
  assert_int_equal (connections->len, 1);
  assert_ptr_equal (g_ptr_array_index (connections, 0), connection);

  services = bleio_connection_discover_remote_services (connection, NULL, 30, &error);
  if (error)
    fail_msg ("discover: %s", error->message);
  for (guint i = 0; i < services->len; i++)
    {
      BleioService *s = g_ptr_array_index (services, i);
      g_autofree char *uuid = bleio_uuid_to_string (bleio_service_get_uuid (s));

      g_print ("service %s handle 0x%04x\n", uuid, bleio_service_get_handle (s));
      assert_true (bleio_service_get_remote (s));
      assert_ptr_equal (bleio_service_get_connection (s), connection);
      if (i > 0)
        assert_true (bleio_service_get_handle (s)
                     > bleio_service_get_handle (g_ptr_array_index (services, i - 1)));
    }
  assert_true (has_service (services, HEART_RATE));
  assert_true (has_service (services, BATTERY));
  assert_true (has_service (services, DEVICE_INFORMATION));
  assert_true (has_service (services, CUSTOM));

  /* Battery Service UUIDs from BlueZ come back as 16-bit ones. */
  g_ptr_array_add (whitelist, bleio_uuid_new_from_uuid16 (0x180f));
  only_battery = bleio_connection_discover_remote_services (connection, whitelist, 30, &error);
  if (error)
    fail_msg ("discover with whitelist: %s", error->message);
  assert_int_equal (only_battery->len, 1);
  assert_int_equal (bleio_uuid_get_size (bleio_service_get_uuid (g_ptr_array_index (only_battery, 0))), 16);
  assert_int_equal (bleio_uuid_get_uuid16 (bleio_service_get_uuid (g_ptr_array_index (only_battery, 0))), 0x180f);

  assert_true (bleio_connection_disconnect (connection, &error));
  assert_null (error);
  assert_false (bleio_connection_get_connected (connection));
  after = bleio_connection_discover_remote_services (connection, NULL, 5, &error);
  assert_null (after);
  assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_CONNECTION));
  g_clear_error (&error);
  /* Disconnecting a spent connection is a no-op. */
  assert_true (bleio_connection_disconnect (connection, &error));
  assert_null (error);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_seed_flow),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
