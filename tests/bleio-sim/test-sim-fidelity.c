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
#include "sim-expect.h"
#include "pending-call.h"

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

/* Adds a peripheral whose JSON entry is @extra (keys after the address
 * and name, with a leading comma, or ""), waits until discovery found it
 * and returns its path. */
static char *
new_device (const char *extra)
{
  g_autofree char *name = g_strdup_printf ("Fidelity-%u", ++next_address);
  g_autofree char *address = g_strdup_printf ("C0:FF:EE:30:00:%02X", next_address);

  return sim_expect_new_device (fx, "hci0", name, address, extra);
}

/* ---- 10: Pair without an agent ---- */

/* No agent anywhere: bluetoothd 5.66 gives the kernel NoInputNoOutput,
 * but the kernel still asks user space to confirm the just-works pairing,
 * bluetoothd finds nobody to ask and Pair fails (recorded in the e2e
 * guest: tests/data/bluez-5.66/issue15-facts.json, item 10; issue 15
 * expected a just-works pairing, which the recording disproved). */
static void
test_pair_without_agent_fails (void **state)
{
  g_autofree char *device = new_device (", \"pairing\": { \"io_capability\": "
                                        "\"KeyboardDisplay\" }");
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  reply = sim_fixture_call_bluez (fx, device, DEVICE1, "Pair", NULL, &error);
  sim_expect_remote_error (error, "org.bluez.Error.AuthenticationFailed", "Authentication Failed",
                           "Pair with no agent anywhere");
  assert_false (sim_expect_bool (fx, device, DEVICE1, "Paired"));
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
  sim_expect_remote_error (error, "org.bluez.Error.AuthenticationFailed", "Authentication Failed",
                           "Pair with no agent, the peer wanting numeric comparison");
  assert_false (sim_expect_bool (fx, device, DEVICE1, "Paired"));
}

/* ---- 11: TxPower when discovery ends ---- */

typedef struct {
  char *path;
  GPtrArray *invalidated;     /* char *, every Device1 property invalidated */
  gboolean rssi_and_tx_power_together;
  gboolean discovering_off;
} DiscoveryEnd;

static void
on_properties_changed (GDBusConnection *conn,
                       const char      *sender,
                       const char      *path,
                       const char      *interface,
                       const char      *signal,
                       GVariant        *params,
                       gpointer         user_data)
{
  DiscoveryEnd *e = user_data;
  const char *iface;
  g_autoptr(GVariant) changed = NULL;
  g_autofree const char **gone = NULL;
  gboolean rssi = FALSE, tx = FALSE;

  g_variant_get (params, "(&s@a{sv}^a&s)", &iface, &changed, &gone);
  if (g_str_equal (path, ADAPTER) && g_str_equal (iface, ADAPTER1))
    {
      gboolean on;

      if (g_variant_lookup (changed, "Discovering", "b", &on) && !on)
        e->discovering_off = TRUE;
      return;
    }
  if (!g_str_equal (path, e->path) || !g_str_equal (iface, DEVICE1))
    return;
  for (const char **n = gone; *n != NULL; n++)
    {
      g_ptr_array_add (e->invalidated, g_strdup (*n));
      rssi |= g_str_equal (*n, "RSSI");
      tx |= g_str_equal (*n, "TxPower");
    }
  e->rssi_and_tx_power_together |= rssi && tx;
}

static gboolean
discovering_off (gpointer data)
{
  return ((DiscoveryEnd *) data)->discovering_off;
}

static gboolean
has_property (const char *path,
              const char *name)
{
  g_autoptr(GVariant) v = sim_fixture_get_property (fx, path, DEVICE1, name);

  return v != NULL;
}

/* bluetoothd forgets RSSI and TxPower together when discovery ends
 * (adapter.c, invalidate_rssi_and_tx_power()), and a later discovery
 * brings TxPower back with the next advertisement. */
static void
test_stop_discovery_clears_tx_power (void **state)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autofree char *device = new_device (", \"tx_power\": 4, \"advertising_interval_ms\": 50");
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  DiscoveryEnd e = { device, g_ptr_array_new_with_free_func (g_free), FALSE, FALSE };
  guint id;

  reply = sim_fixture_call_bluez (fx, ADAPTER, ADAPTER1, "StartDiscovery", NULL, &error);
  if (reply == NULL)
    fail_msg ("StartDiscovery: %s", error->message);
  if (!sim_fixture_wait_property (fx, device, DEVICE1, "TxPower",
                                  g_variant_new_int16 (4), WAIT_MSEC))
    fail_msg ("TxPower 4 never showed while discovering");

  g_main_context_push_thread_default (context);
  id = g_dbus_connection_signal_subscribe (sim_fixture_get_connection (fx), "org.bluez",
                                           "org.freedesktop.DBus.Properties",
                                           "PropertiesChanged", NULL, NULL,
                                           G_DBUS_SIGNAL_FLAGS_NONE, on_properties_changed,
                                           &e, NULL);
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call_bluez (fx, ADAPTER, ADAPTER1, "StopDiscovery", NULL, &error);
  if (reply == NULL)
    fail_msg ("StopDiscovery: %s", error->message);
  if (!sim_fixture_wait_until (discovering_off, &e, WAIT_MSEC))
    fail_msg ("Discovering never went false");
  g_dbus_connection_signal_unsubscribe (sim_fixture_get_connection (fx), id);
  g_main_context_pop_thread_default (context);

  if (has_property (device, "TxPower"))
    fail_msg ("TxPower still shown after StopDiscovery; bluetoothd 5.66 invalidates it "
              "with RSSI");
  assert_false (has_property (device, "RSSI"));
  if (!e.rssi_and_tx_power_together)
    fail_msg ("RSSI and TxPower were not invalidated in one PropertiesChanged "
              "(%u invalidations seen)", e.invalidated->len);
  g_ptr_array_unref (e.invalidated);

  /* the next discovery shows it again */
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call_bluez (fx, ADAPTER, ADAPTER1, "StartDiscovery", NULL, &error);
  if (reply == NULL)
    fail_msg ("StartDiscovery again: %s", error->message);
  if (!sim_fixture_wait_property (fx, device, DEVICE1, "TxPower",
                                  g_variant_new_int16 (4), WAIT_MSEC))
    fail_msg ("TxPower did not come back with the next discovery");
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call_bluez (fx, ADAPTER, ADAPTER1, "StopDiscovery", NULL, &error);
  if (reply == NULL)
    fail_msg ("StopDiscovery again: %s", error->message);
}

/* ---- 13 and 14: Disconnect while a Connect is pending ---- */


/* Calls @method on @path from the fixture's connection, answered into @p
 * in the thread-default context. */
static void
start (const char *path,
       const char *interface,
       const char *method,
       GVariant   *params,
       PendingCall *p)
{
  pending_call_start (p, sim_fixture_get_connection (fx), path, interface, method, params,
                      WAIT_MSEC);
}

static void
wait_done (PendingCall *p,
           const char *what)
{
  if (!sim_fixture_wait_until (pending_call_is_done, p, 2 * WAIT_MSEC))
    fail_msg ("%s never answered", what);
}

/* bluetoothd answers the pending Connect with Failed "br-connection-canceled"
 * before the Disconnect's own reply (device.c, device_request_disconnect()). */
static void
test_disconnect_cancels_pending_connect (void **state)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autofree char *device = new_device (", \"connect\": { \"delay_ms\": 1500 }");
  PendingCall connect = { 0 };
  PendingCall disconnect = { 0 };

  g_main_context_push_thread_default (context);
  start (device, DEVICE1, "Connect", NULL, &connect);
  start (device, DEVICE1, "Disconnect", NULL, &disconnect);
  wait_done (&disconnect, "Disconnect");
  wait_done (&connect, "the cancelled Connect");
  g_main_context_pop_thread_default (context);

  if (disconnect.error != NULL)
    fail_msg ("Disconnect during a Connect: %s", disconnect.error->message);
  sim_expect_remote_error (connect.error, "org.bluez.Error.Failed", "br-connection-canceled",
                           "a Connect cancelled by Disconnect");
  if (connect.order > disconnect.order)
    fail_msg ("the Disconnect was answered before the Connect it cancelled");
  assert_false (sim_expect_bool (fx, device, DEVICE1, "Connected"));
  pending_call_clear (&connect);
  pending_call_clear (&disconnect);
}

/* A DelayNext on Connect is bluetoothd being slow to handle it: it still
 * handles one client's calls on a device in order, so the Disconnect sent
 * after it waits, cancels it, and no link is left behind. */
static void
test_delayed_connect_keeps_call_order (void **state)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autofree char *device = new_device ("");
  g_autoptr(GError) error = NULL;
  PendingCall connect = { 0 };
  PendingCall disconnect = { 0 };

  if (!sim_fixture_delay_next (fx, "Connect", 400, 1, &error))
    fail_msg ("DelayNext: %s", error->message);
  g_main_context_push_thread_default (context);
  start (device, DEVICE1, "Connect", NULL, &connect);
  start (device, DEVICE1, "Disconnect", NULL, &disconnect);
  wait_done (&disconnect, "Disconnect");
  wait_done (&connect, "the delayed Connect");
  g_main_context_pop_thread_default (context);

  if (connect.order > disconnect.order)
    fail_msg ("the Disconnect sent after a delayed Connect was answered first");
  if (disconnect.error != NULL)
    fail_msg ("Disconnect: %s", disconnect.error->message);
  sim_expect_remote_error (connect.error, "org.bluez.Error.Failed", "br-connection-canceled",
                           "a delayed Connect followed by Disconnect");
  /* the connect the Disconnect cancelled must not come up later */
  g_usleep (300 * 1000);
  if (sim_expect_bool (fx, device, DEVICE1, "Connected"))
    fail_msg ("the device connected after the Disconnect: a link nobody holds");
  pending_call_clear (&connect);
  pending_call_clear (&disconnect);
}

/* ---- 15: WriteValue type=request without the write property ---- */

/* gatt-client.c (characteristic_write_value()) sends a Write Request
 * whenever type is "request", whatever the flags; the peer's attribute is
 * not writable and answers Write Not Permitted, which bluetoothd relays
 * as NotPermitted. Without a type the flags decide (NotSupported), and a
 * "command" is sent (and dropped by the peer). */
static void
test_write_request_to_read_only_char (void **state)
{
  g_autofree char *device = new_device (
    ", \"gatt\": [ { \"uuid\": \"fe00\", \"characteristics\": [ "
    "{ \"uuid\": \"fe01\", \"flags\": [\"read\"], \"value\": \"2a\" } ] } ]");
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *chr = NULL;
  static const guint8 byte = 0x07;
  const char *types[] = { "request", "reliable", NULL, "command" };

  if (!sim_fixture_connect_device (fx, device, &error))
    fail_msg ("Connect: %s", error->message);
  chr = sim_fixture_find_gatt (fx, device, CHR1, READ_ONLY_UUID, NULL, NULL);
  assert_non_null (chr);

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      GVariantBuilder options;
      g_autofree char *what = g_strdup_printf ("WriteValue type=%s on a read-only "
                                               "characteristic",
                                               types[i] != NULL ? types[i] : "(none)");

      g_variant_builder_init (&options, G_VARIANT_TYPE ("a{sv}"));
      if (types[i] != NULL)
        g_variant_builder_add (&options, "{sv}", "type", g_variant_new_string (types[i]));
      g_clear_error (&error);
      g_clear_pointer (&reply, g_variant_unref);
      reply = sim_fixture_call_bluez (fx, chr, CHR1, "WriteValue",
                                      g_variant_new ("(@aya{sv})",
                                                     g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                                &byte, 1, 1),
                                                     &options),
                                      &error);
      if (i < 2)
        sim_expect_remote_error (error, "org.bluez.Error.NotPermitted", "Write not permitted", what);
      else if (i == 2)
        sim_expect_remote_error (error, "org.bluez.Error.NotSupported", "Operation is not supported",
                                 what);
      else if (reply == NULL)
        fail_msg ("%s: %s; bluetoothd 5.66 sends the command and returns", what,
                  error->message);
    }

  /* the peer kept its value */
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call_bluez (fx, chr, CHR1, "ReadValue",
                                  g_variant_new_parsed ("(@a{sv} {},)"), &error);
  if (reply == NULL)
    fail_msg ("ReadValue: %s", error->message);
  {
    g_autoptr(GVariant) value = g_variant_get_child_value (reply, 0);
    gsize len;
    const guint8 *data = g_variant_get_fixed_array (value, &len, 1);

    assert_int_equal (len, 1);
    assert_int_equal (data[0], 0x2a);
  }
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call_bluez (fx, device, DEVICE1, "Disconnect", NULL, &error);
  assert_non_null (reply);
}

static int
group_setup (void **state)
{
  return sim_fixture_group_start_on (&fx, NULL);
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
    cmocka_unit_test (test_pair_without_agent_fails),
    cmocka_unit_test (test_pair_without_agent_peer_wants_confirmation),
    cmocka_unit_test (test_stop_discovery_clears_tx_power),
    cmocka_unit_test (test_disconnect_cancels_pending_connect),
    cmocka_unit_test (test_delayed_connect_keeps_call_order),
    cmocka_unit_test (test_write_request_to_read_only_char),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
