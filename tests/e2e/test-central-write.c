/* SPDX-License-Identifier: MIT */
/*
 * Both write types through the public API: write requests (the default
 * for a characteristic without write-without-response, and asked for
 * explicitly) read back from the peripheral, and writes without response
 * (the default where the characteristic allows them, and asked for
 * explicitly), checked on the peripheral's side: in the guest by asking
 * the test peripheral what it holds, under the simulator by its call log.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "e2e-central.h"

static void
read_back (BleioCharacteristic *chr, const char *expected_hex)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = bleio_characteristic_read_value (chr, &error);
  g_autofree char *hex = NULL;

  if (value == NULL)
    fail_msg ("read back: %s", error->message);
  hex = e2e_hex (value);
  if (g_strcmp0 (hex, expected_hex) != 0)
    fail_msg ("read back %s, wrote %s", hex, expected_hex);
}

static void
test_write_request_read_back (void **state)
{
  E2eFixture *f = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristic) chr = e2e_fixture_find (f, E2E_UUID_CUSTOM, E2E_UUID_CUSTOM_WRITE);
  g_autoptr(GBytes) first = g_bytes_new_static ("\x01\x02\x03", 3);
  g_autoptr(GBytes) second = g_bytes_new_static ("\xa5\x5a", 2);
  g_autoptr(GBytes) peer = NULL;

  assert_true (bleio_characteristic_get_properties (chr) & BLEIO_CHARACTERISTIC_PROPERTY_WRITE);
  assert_false (bleio_characteristic_get_properties (chr) & BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE);

  /* The default for a characteristic without write-without-response is a
   * write request. */
  if (!bleio_characteristic_write_value (chr, first, &error))
    fail_msg ("write: %s", error->message);
  read_back (chr, "010203");

  if (!bleio_characteristic_write_value_full (chr, second, BLEIO_WRITE_TYPE_REQUEST, 0, &error))
    fail_msg ("write request: %s", error->message);
  read_back (chr, "a55a");

  peer = e2e_peer_value (chr, &error);
  if (peer != NULL)
    {
      g_autofree char *hex = e2e_hex (peer);

      assert_string_equal (hex, "a55a");
    }
  else
    {
      assert_false (e2e_target_is_real_bluez ());
      g_clear_error (&error);
    }
}

static void
test_write_without_response (void **state)
{
  E2eFixture *f = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioCharacteristic) chr = e2e_fixture_find (f, E2E_UUID_CUSTOM, E2E_UUID_CUSTOM_COMMAND);
  g_autoptr(BleioCharacteristic) check = e2e_fixture_find (f, E2E_UUID_CUSTOM, E2E_UUID_CUSTOM_WRITE);
  g_autoptr(GBytes) first = g_bytes_new_static ("\x10\x20", 2);
  g_autoptr(GBytes) second = g_bytes_new_static ("\x30\x40\x50", 3);
  g_autoptr(GBytes) marker = g_bytes_new_static ("\x77", 1);
  gint calls_before = 0;

  assert_true (bleio_characteristic_get_properties (chr) & BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE);
  if (!e2e_target_is_real_bluez ())
    {
      calls_before = e2e_sim_write_calls (chr, &error);
      assert_null (error);
    }

  /* The default where write-without-response is allowed is a command. */
  if (!bleio_characteristic_write_value (chr, first, &error))
    fail_msg ("write: %s", error->message);
  if (!bleio_characteristic_write_value_full (chr, second, BLEIO_WRITE_TYPE_COMMAND, 0, &error))
    fail_msg ("write command: %s", error->message);

  /* Commands have no answer: a write request on the same link after them
   * arrives after them, so once it is answered they are there too. */
  if (!bleio_characteristic_write_value_full (check, marker, BLEIO_WRITE_TYPE_REQUEST, 0, &error))
    fail_msg ("write request after the commands: %s", error->message);

  if (e2e_target_is_real_bluez ())
    {
      g_autoptr(GBytes) peer = e2e_peer_value (chr, &error);
      g_autofree char *hex = NULL;

      if (peer == NULL)
        fail_msg ("the peripheral's value: %s", error->message);
      hex = e2e_hex (peer);
      assert_string_equal (hex, "304050");
    }
  else
    {
      gint calls = e2e_sim_write_calls (chr, &error);

      assert_null (error);
      assert_int_equal (calls - calls_before, 2);
    }

  /* A command longer than the ATT MTU allows is refused before it goes
   * out: it cannot be split. */
  {
    guint mtu = bleio_characteristic_get_mtu (chr);
    gsize room = mtu > 3 ? mtu - 3 : 0;
    g_autofree guint8 *big = g_malloc0 (room + 1);
    g_autoptr(GBytes) too_long = g_bytes_new (big, room + 1);

    g_print ("characteristic MTU %u\n", mtu);
    assert_true (mtu >= 23);
    assert_false (bleio_characteristic_write_value_full (chr, too_long, BLEIO_WRITE_TYPE_COMMAND,
                                                         0, &error));
    assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
    g_clear_error (&error);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_write_request_read_back),
    cmocka_unit_test (test_write_without_response),
  };

  return cmocka_run_group_tests (tests, e2e_fixture_setup, e2e_fixture_teardown);
}
