/* SPDX-License-Identifier: MIT */
/*
 * Pairing through the public API (Just Works: libbleio's NoInputNoOutput
 * agent on the central, an accepting agent on the peripheral): paired
 * afterwards, the characteristic that needs encryption reads, pairing
 * again succeeds, bond=FALSE is refused, and the bond survives a reconnect
 * until erase_bonding().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e-central.h"

static void
test_pair (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(BleioAddress) address = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioConnection) reconnected = NULL;
  g_autoptr(BleioCharacteristic) secret = NULL;
  g_autoptr(GBytes) value = NULL;
  g_autofree char *hex = NULL;

  adapter = e2e_central_adapter (&error);
  assert_null (error);
  address = e2e_find_peripheral (adapter, &error);
  if (error)
    fail_msg ("%s", error->message);
  connection = e2e_connect (adapter, address, &error);
  if (error)
    fail_msg ("connect: %s", error->message);

  assert_false (bleio_connection_get_paired (connection, &error));
  assert_null (error);


  assert_false (bleio_connection_pair (connection, FALSE, &error));
  assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED));
  g_clear_error (&error);

  /* At once after the connect, while bluetoothd still browses the new
   * link: bluetoothd 5.66 would drop the reply to a Pair whose bond
   * completes then, and libbleio waits for ServicesResolved first
   * (tests/e2e/README.md). */
  if (!bleio_connection_pair (connection, TRUE, &error))
    fail_msg ("pair: %s", error->message);
  assert_true (bleio_connection_get_paired (connection, &error));
  assert_null (error);

  secret = e2e_find_characteristic (connection, E2E_UUID_CUSTOM, E2E_UUID_CUSTOM_SECRET, &error);
  if (secret == NULL)
    fail_msg ("%s", error->message);

  /* The link is encrypted now: the encrypt-read characteristic reads. */
  value = bleio_characteristic_read_value (secret, &error);
  if (value == NULL)
    fail_msg ("encrypted read: %s", error->message);
  hex = e2e_hex (value);
  assert_string_equal (hex, "736563726574");   /* "secret" */

  /* Already paired: success, not AlreadyExists. */
  if (!bleio_connection_pair (connection, TRUE, &error))
    fail_msg ("second pair: %s", error->message);

  assert_true (bleio_connection_disconnect (connection, &error));
  assert_null (error);
  reconnected = e2e_connect (adapter, address, &error);
  if (error)
    fail_msg ("reconnect: %s", error->message);
  assert_true (bleio_connection_get_paired (reconnected, &error));
  assert_null (error);

  if (!bleio_adapter_erase_bonding (adapter, &error))
    fail_msg ("erase_bonding: %s", error->message);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_pair),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
