/* SPDX-License-Identifier: MIT */
/*
 * Quirk (found by the e2e suite, tests/e2e/README.md): bluetoothd 5.66
 * starts a GATT browse on every new LE link, and when a bond completes
 * while that browse runs, the reply to Device1.Pair is never sent,
 * although the device is paired. libbleio's connect returns with the link,
 * before the browse ends, so its pair waits for ServicesResolved before it
 * calls Pair.
 *
 * Simulator only (it needs org.bleio.Sim1): a peripheral whose GATT browse
 * takes 3 s. A raw Pair right after the link is up gets no answer (the
 * simulator models the quirk); bleio_connection_pair() right after
 * bleio_adapter_connect() succeeds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e-central.h"

/* One peripheral per test: the simulator keeps what a test added. */
#define SLOW_ADDRESS "00:AA:01:42:00:01"
#define SLOW_PATH "/org/bluez/hci0/dev_00_AA_01_42_00_01"
#define SLOW_ADDRESS_2 "00:AA:01:42:00:02"
#define SLOW_PATH_2 "/org/bluez/hci0/dev_00_AA_01_42_00_02"
#define SLOW_JSON(address) \
  "{\"address\": \"" address "\", \"name\": \"SlowBrowse\", \"connectable\": true," \
  " \"pairing\": {\"io_capability\": \"NoInputNoOutput\", \"outcome\": \"accept\"}," \
  " \"connect\": {\"delay_ms\": 20, \"resolve_delay_ms\": 3000}," \
  " \"gatt\": [{\"uuid\": \"180f\", \"handle\": \"0x0010\", \"characteristics\": [" \
  "   {\"uuid\": \"2a19\", \"handle\": \"0x0011\", \"flags\": [\"read\"], \"value\": \"62\"}]}]}"

static GDBusConnection *
bus (void)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *b = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);

  if (b == NULL)
    fail_msg ("bus: %s", error->message);
  return b;
}

static void
add_slow_peripheral (GDBusConnection *b,
                     const char      *json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  reply = g_dbus_connection_call_sync (b, "org.bluez", "/org/bleio/sim", "org.bleio.Sim1",
                                       "AddDevice", g_variant_new ("(ss)", "hci0", json),
                                       G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE, 10000,
                                       NULL, &error);
  if (reply == NULL)
    fail_msg ("AddDevice: %s", error->message);
}

static gboolean
property_true (GDBusConnection *b, const char *path, const char *name)
{
  g_autoptr(GVariant) reply = e2e_call (b, path, "org.freedesktop.DBus.Properties", "Get",
                                        g_variant_new ("(ss)", "org.bluez.Device1", name),
                                        "(v)", 5000, NULL);
  g_autoptr(GVariant) v = NULL;

  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(v)", &v);
  return g_variant_get_boolean (v);
}

/* The simulator as bluetoothd: Pair during the browse is never answered,
 * though the device ends up paired. */
static void
test_raw_pair_during_browse_is_lost (void **state)
{
  g_autoptr(GDBusConnection) b = bus ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) connected = NULL;

  if (e2e_target_is_real_bluez ())
    skip ();                    /* never listed in the guest */
  add_slow_peripheral (b, SLOW_JSON (SLOW_ADDRESS));
  connected = e2e_call (b, "/org/bluez/hci0", "org.bluez.Adapter1", "ConnectDevice",
                        g_variant_new_parsed ("({'Address': <%s>, 'AddressType': <'public'>},)",
                                              SLOW_ADDRESS),
                        NULL, 10000, &error);
  if (connected == NULL)
    fail_msg ("ConnectDevice: %s", error->message);
  for (guint i = 0; i < 1000 && !property_true (b, SLOW_PATH, "ServicesResolved"); i++)
    g_usleep (10000);
  assert_true (property_true (b, SLOW_PATH, "ServicesResolved"));

  /* A fresh link: disconnect and connect with Device1.Connect, then Pair
   * as soon as Connected is seen, before ServicesResolved. */
  g_clear_pointer (&connected, g_variant_unref);
  connected = e2e_call (b, SLOW_PATH, "org.bluez.Device1", "Disconnect", NULL, NULL, 10000, &error);
  assert_non_null (connected);
  g_dbus_connection_call (b, "org.bluez", SLOW_PATH, "org.bluez.Device1", "Connect", NULL,
                          NULL, G_DBUS_CALL_FLAGS_NONE, 20000, NULL, NULL, NULL);
  for (guint i = 0; i < 200 && !property_true (b, SLOW_PATH, "Connected"); i++)
    g_usleep (10000);
  assert_true (property_true (b, SLOW_PATH, "Connected"));
  assert_false (property_true (b, SLOW_PATH, "ServicesResolved"));
  assert_false (property_true (b, SLOW_PATH, "Paired"));
  /* Just Works on both sides: the agent is never called, but Pair needs
   * one registered. */
  g_clear_pointer (&connected, g_variant_unref);
  connected = e2e_call (b, "/org/bluez", "org.bluez.AgentManager1", "RegisterAgent",
                        g_variant_new ("(os)", "/org/bleio/test/agent", "NoInputNoOutput"),
                        NULL, 5000, &error);
  if (connected == NULL)
    fail_msg ("RegisterAgent: %s", error->message);
  reply = e2e_call (b, SLOW_PATH, "org.bluez.Device1", "Pair", NULL, NULL, 6000, &error);
  assert_null (reply);
  g_print ("raw Pair during the browse: %s\n", error->message);
  assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
  /* Paired all the same. */
  assert_true (property_true (b, SLOW_PATH, "Paired"));

  /* bluetoothd keeps one agent per bus connection, and this connection is
   * the process's shared system bus, which libbleio uses too: leave it
   * free for the library's own agent in the next test. */
  g_clear_pointer (&connected, g_variant_unref);
  g_clear_error (&error);
  connected = e2e_call (b, "/org/bluez", "org.bluez.AgentManager1", "UnregisterAgent",
                        g_variant_new ("(o)", "/org/bleio/test/agent"),
                        NULL, 5000, &error);
  if (connected == NULL)
    fail_msg ("UnregisterAgent: %s", error->message);
}

static void
test_pair_waits_for_the_browse (void **state)
{
  g_autoptr(GDBusConnection) b = bus ();
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(BleioAddress) address = NULL;
  g_autoptr(BleioConnection) connection = NULL;

  if (e2e_target_is_real_bluez ())
    skip ();
  add_slow_peripheral (b, SLOW_JSON (SLOW_ADDRESS_2));
  adapter = e2e_central_adapter (&error);
  assert_non_null (adapter);
  address = bleio_address_new_from_string (SLOW_ADDRESS_2, BLEIO_ADDRESS_TYPE_PUBLIC, &error);
  assert_non_null (address);
  connection = bleio_adapter_connect (adapter, address, 10, NULL, &error);
  if (connection == NULL)
    fail_msg ("connect: %s", error->message);
  /* connect returned with the link, the browse still runs */
  assert_false (property_true (b, SLOW_PATH_2, "ServicesResolved"));
  if (!bleio_connection_pair (connection, TRUE, &error))
    fail_msg ("pair: %s", error->message);
  assert_true (bleio_connection_get_paired (connection, &error));
  assert_null (error);
  assert_true (property_true (b, SLOW_PATH_2, "ServicesResolved"));
  assert_true (bleio_connection_disconnect (connection, &error));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_raw_pair_during_browse_is_lost),
    cmocka_unit_test (test_pair_waits_for_the_browse),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
