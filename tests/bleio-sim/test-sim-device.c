/* SPDX-License-Identifier: MIT */
/*
 * Device1 when calls overlap, as bluetoothd's device.c answers them: a
 * Connect while one is under way is InProgress, so is a Pair while one is
 * under way; CancelPairing makes the pending Pair fail with
 * AuthenticationCanceled; RemoveDevice on a connected device disconnects
 * it and removes the object. A peripheral that is slow to connect and to
 * pair makes the calls overlap.
 */
#include "sim-fixture.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define ADAPTER "/org/bluez/hci0"
#define DEVICE1 "org.bluez.Device1"
#define WAIT_MSEC 10000

static SimFixture *fx;
static SimAgent *agent;
static guint next_address;

typedef struct {
  GVariant *reply;
  GError *error;
  gboolean done;
} Pending;

static void
pending_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Pending *p = user_data;

  p->reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &p->error);
  p->done = TRUE;
}

static gboolean
is_done (gpointer data)
{
  return ((Pending *) data)->done;
}

static void
pending_clear (Pending *p)
{
  g_clear_pointer (&p->reply, g_variant_unref);
  g_clear_error (&p->error);
}

static void
start (const char *path,
       const char *method,
       Pending    *p)
{
  g_dbus_connection_call (sim_fixture_get_connection (fx), "org.bluez", path, DEVICE1,
                          method, NULL, NULL, G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC,
                          NULL, pending_done, p);
}

static void
wait_done (Pending    *p,
           const char *what)
{
  if (!sim_fixture_wait_until (is_done, p, 2 * WAIT_MSEC))
    fail_msg ("%s never answered", what);
}

static void
expect_error (const GError *error,
              const char   *name,
              const char   *message,
              const char   *what)
{
  g_autofree char *problem = sim_fixture_check_remote_error (error, name, message);

  if (problem != NULL)
    fail_msg ("%s: %s", what, problem);
}

/* A new peripheral that takes @connect_msec to connect and @pair_msec to
 * pair (just works), discovered and ready to use. */
static char *
slow_device (guint connect_msec,
             guint pair_msec)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *name = g_strdup_printf ("Slow-%u", ++next_address);
  g_autofree char *added = NULL;
  char *path;

  json = g_strdup_printf ("{ \"address\": \"C0:FF:EE:20:00:%02X\", \"name\": \"%s\", "
                          "\"connectable\": true, "
                          "\"connect\": { \"delay_ms\": %u }, "
                          "\"pairing\": { \"io_capability\": \"NoInputNoOutput\", "
                          "\"delay_ms\": %u } }",
                          next_address, name, connect_msec, pair_msec);
  added = sim_fixture_add_device (fx, "hci0", json, &error);
  if (added == NULL)
    fail_msg ("AddDevice: %s", error->message);
  path = sim_fixture_find_device (fx, ADAPTER, name, &error);
  if (path == NULL)
    fail_msg ("%s did not appear: %s", name, error->message);
  return path;
}

static void
test_connect_in_progress (void **state)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autofree char *device = slow_device (800, 0);
  Pending first = { 0 };
  Pending second = { 0 };

  g_main_context_push_thread_default (context);
  start (device, "Connect", &first);
  start (device, "Connect", &second);
  wait_done (&second, "the second Connect");
  wait_done (&first, "the first Connect");
  g_main_context_pop_thread_default (context);

  if (first.error != NULL)
    fail_msg ("the first Connect: %s", first.error->message);
  expect_error (second.error, "org.bluez.Error.InProgress", "In Progress",
                "a Connect while one is under way");
  pending_clear (&first);
  pending_clear (&second);
}

static void
test_pair_in_progress (void **state)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autofree char *device = slow_device (0, 800);
  g_autoptr(GError) error = NULL;
  Pending first = { 0 };
  Pending second = { 0 };

  if (!sim_fixture_connect_device (fx, device, &error))
    fail_msg ("Connect: %s", error->message);
  g_main_context_push_thread_default (context);
  start (device, "Pair", &first);
  start (device, "Pair", &second);
  wait_done (&second, "the second Pair");
  wait_done (&first, "the first Pair");
  g_main_context_pop_thread_default (context);

  if (first.error != NULL)
    fail_msg ("the first Pair: %s", first.error->message);
  expect_error (second.error, "org.bluez.Error.InProgress", "In Progress",
                "a Pair while one is under way");
  pending_clear (&first);
  pending_clear (&second);
}

static void
test_cancel_pairing (void **state)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autofree char *device = slow_device (0, 1500);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) paired = NULL;
  Pending pair = { 0 };
  Pending cancel = { 0 };

  if (!sim_fixture_connect_device (fx, device, &error))
    fail_msg ("Connect: %s", error->message);
  g_main_context_push_thread_default (context);
  start (device, "Pair", &pair);
  start (device, "CancelPairing", &cancel);
  wait_done (&cancel, "CancelPairing");
  wait_done (&pair, "the cancelled Pair");
  g_main_context_pop_thread_default (context);

  if (cancel.error != NULL)
    fail_msg ("CancelPairing during a Pair: %s", cancel.error->message);
  expect_error (pair.error, "org.bluez.Error.AuthenticationCanceled",
                "Authentication Canceled", "a cancelled Pair");
  paired = sim_fixture_get_property (fx, device, DEVICE1, "Paired");
  assert_non_null (paired);
  assert_false (g_variant_get_boolean (paired));
  pending_clear (&pair);
  pending_clear (&cancel);
}

static gboolean
device_gone (gpointer data)
{
  g_autoptr(GVariant) all = sim_fixture_get_objects (fx, NULL);
  g_autoptr(GVariant) found = NULL;

  if (all == NULL)
    return FALSE;
  found = g_variant_lookup_value (all, data, NULL);
  return found == NULL;
}

static void
test_remove_connected (void **state)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autofree char *device = slow_device (0, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  if (!sim_fixture_connect_device (fx, device, &error))
    fail_msg ("Connect: %s", error->message);
  reply = sim_fixture_call_bluez (fx, ADAPTER, "org.bluez.Adapter1", "RemoveDevice",
                                  g_variant_new ("(o)", device), &error);
  if (reply == NULL)
    fail_msg ("RemoveDevice of a connected device: %s", error->message);
  g_main_context_push_thread_default (context);
  if (!sim_fixture_wait_until (device_gone, device, WAIT_MSEC))
    fail_msg ("%s is still there after RemoveDevice", device);
  g_main_context_pop_thread_default (context);
}

static int
group_setup (void **state)
{
  return sim_fixture_start (&fx, &agent) ? 0 : -1;
}

static int
group_teardown (void **state)
{
  g_clear_pointer (&agent, sim_agent_free);
  g_clear_pointer (&fx, sim_fixture_free);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_connect_in_progress),
    cmocka_unit_test (test_pair_in_progress),
    cmocka_unit_test (test_cancel_pairing),
    cmocka_unit_test (test_remove_connected),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
