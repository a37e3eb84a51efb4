/* SPDX-License-Identifier: MIT */
/*
 * Where the simulator answered otherwise than bluetoothd 5.66 (issue 15),
 * one case each, named after the difference; every case failed against the
 * simulator before its fix. What bluetoothd does was read in its source
 * (src/device.c, src/adapter.c, src/gatt-client.c, src/adv_monitor.c of
 * 5.66); tools/bleio-sim/README.md says which function.
 *
 * No agent is registered in this group: Pair() below runs without one.
 */
#include "sim-fixture.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define ADAPTER "/org/bluez/hci0"
#define ADAPTER1 "org.bluez.Adapter1"
#define DEVICE1 "org.bluez.Device1"
#define CHR1 "org.bluez.GattCharacteristic1"
#define WAIT_MSEC 10000
#define READ_ONLY_UUID "0000fe01-0000-1000-8000-00805f9b34fb"

static SimFixture *fx;
static guint next_address;

/* ---- helpers ---- */

static void
expect_error (const GError *error,
              const char   *name,
              const char   *message,
              const char   *what)
{
  g_autoptr(GError) copy = NULL;
  g_autofree char *remote = NULL;

  if (error == NULL)
    fail_msg ("%s succeeded; bluetoothd 5.66 answers %s: %s", what, name, message);
  copy = g_error_copy (error);
  remote = g_dbus_error_get_remote_error (copy);
  g_dbus_error_strip_remote_error (copy);
  if (g_strcmp0 (remote, name) != 0 || strcmp (copy->message, message) != 0)
    fail_msg ("%s: %s: %s; bluetoothd 5.66 answers %s: %s", what, remote, copy->message,
              name, message);
}

/* Adds a peripheral whose JSON entry is @extra (keys after the address
 * and name, with a leading comma, or ""), waits until discovery found it
 * and returns its path. */
static char *
new_device (const char *extra)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *name = g_strdup_printf ("Fidelity-%u", ++next_address);
  g_autofree char *added = NULL;
  char *path;

  json = g_strdup_printf ("{ \"address\": \"C0:FF:EE:30:00:%02X\", \"name\": \"%s\"%s }",
                          next_address, name, extra);
  added = sim_fixture_add_device (fx, "hci0", json, &error);
  if (added == NULL)
    fail_msg ("AddDevice: %s", error->message);
  path = sim_fixture_find_device (fx, ADAPTER, name, &error);
  if (path == NULL)
    fail_msg ("%s did not appear: %s", name, error->message);
  return path;
}

static gboolean
get_bool (const char *path,
          const char *interface,
          const char *name)
{
  g_autoptr(GVariant) v = sim_fixture_get_property (fx, path, interface, name);

  if (v == NULL)
    fail_msg ("%s has no %s", path, name);
  return g_variant_get_boolean (v);
}

/* ---- 10: Pair without an agent ---- */

/* bluetoothd 5.66 pairs as NoInputNoOutput when the caller has no agent
 * and there is no default one (device.c, pair_device()): just works, even
 * with a peripheral that could display and type. */
static void
test_pair_without_agent_is_just_works (void **state)
{
  g_autofree char *device = new_device (", \"pairing\": { \"io_capability\": "
                                        "\"KeyboardDisplay\" }");
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  reply = sim_fixture_call_bluez (fx, device, DEVICE1, "Pair", NULL, &error);
  if (reply == NULL)
    fail_msg ("Pair with no agent anywhere: %s; bluetoothd 5.66 pairs as "
              "NoInputNoOutput (just works)", error->message);
  assert_true (sim_fixture_wait_property (fx, device, DEVICE1, "Paired",
                                          g_variant_new_boolean (TRUE), WAIT_MSEC));
}

/* A peer that insists on a method needing an answer finds no agent to ask:
 * bluetoothd refuses the kernel's request (device.c, new_auth()) and the
 * bonding fails. */
static void
test_pair_without_agent_peer_wants_confirmation (void **state)
{
  g_autofree char *device = new_device (", \"pairing\": { \"method\": \"confirmation\" }");
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  reply = sim_fixture_call_bluez (fx, device, DEVICE1, "Pair", NULL, &error);
  expect_error (error, "org.bluez.Error.AuthenticationFailed", "Authentication Failed",
                "Pair with no agent, the peer wanting numeric comparison");
  assert_false (get_bool (device, DEVICE1, "Paired"));
}

static int
group_setup (void **state)
{
  g_autoptr(GError) error = NULL;

  fx = sim_fixture_new (NULL, &error);
  if (fx == NULL)
    {
      g_printerr ("sim fixture: %s\n", error->message);
      return -1;
    }
  return 0;
}

static int
group_teardown (void **state)
{
  g_clear_pointer (&fx, sim_fixture_free);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_pair_without_agent_is_just_works),
    cmocka_unit_test (test_pair_without_agent_peer_wants_confirmation),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
