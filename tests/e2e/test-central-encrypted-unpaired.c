/* SPDX-License-Identifier: MIT */
/*
 * Reading the peripheral's encrypt-read characteristic without pairing
 * first (issue 21 defect 2). The peer answers Insufficient Encryption,
 * bluetoothd raises the link's security by itself and the kernel starts
 * a Just Works pairing that bluetoothd has to confirm with the default
 * agent. This test's own default agent refuses (a central with no agent
 * gets the same: "No agent available"), the kernel closes the ATT
 * channel (EACCES) and ends the link; 5.66 fails the retried read with
 * the link, 5.82 never answers it, and neither says why on the bus
 * (5.83's Device1.Disconnected does). libbleio ends the read at once:
 * CONNECTION up to 5.82, SECURITY where bluetoothd says why, and in both
 * cases the message tells to pair first. Then, with that agent gone and
 * the peripheral's accepting one the default again, a new connection
 * pairs and the same read gives the value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "agent1.h"
#include "e2e-central.h"

#define REFUSER_PATH "/org/bleio/e2e/refuser"

/* A default agent that refuses every request, on a bus connection and a
 * thread of its own (GDBus dispatches its calls in that thread's
 * context while the test blocks in libbleio's calls). */
typedef struct {
  GMainContext *context;
  GMainLoop *loop;
  GDBusConnection *bus;
  guint registration;
  GThread *thread;
  gint calls;                   /* atomic: requests refused */
} Refuser;

static void
refuser_method (GDBusConnection       *connection,
                const char            *sender,
                const char            *object_path,
                const char            *interface_name,
                const char            *method_name,
                GVariant              *parameters,
                GDBusMethodInvocation *invocation,
                gpointer               user_data)
{
  Refuser *r = user_data;

  g_printerr ("refuser: %s refused\n", method_name);
  if (g_str_equal (method_name, "Release") || g_str_equal (method_name, "Cancel"))
    {
      g_dbus_method_invocation_return_value (invocation, NULL);
      return;
    }
  g_atomic_int_inc (&r->calls);
  g_dbus_method_invocation_return_dbus_error (invocation, "org.bluez.Error.Rejected",
                                              "refused by the test");
}

static const GDBusInterfaceVTable refuser_vtable = { refuser_method, NULL, NULL, { 0 } };

static gpointer
refuser_thread (gpointer data)
{
  Refuser *r = data;

  g_main_context_push_thread_default (r->context);
  g_main_loop_run (r->loop);
  g_main_context_pop_thread_default (r->context);
  return NULL;
}

static GVariant *
agent_manager_call (GDBusConnection *bus,
                    const char      *method,
                    GVariant        *args,
                    GError         **error)
{
  return g_dbus_connection_call_sync (bus, "org.bluez", "/org/bluez", "org.bluez.AgentManager1",
                                      method, args, NULL, G_DBUS_CALL_FLAGS_NONE, 10000,
                                      NULL, error);
}

static Refuser *
refuser_new (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  g_autoptr(GVariant) reply = NULL;
  Refuser *r = g_new0 (Refuser, 1);

  r->context = g_main_context_new ();
  r->loop = g_main_loop_new (r->context, FALSE);
  address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  assert_non_null (address);
  g_main_context_push_thread_default (r->context);
  r->bus = g_dbus_connection_new_for_address_sync (address,
                                                   G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                   G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                   NULL, NULL, &error);
  if (r->bus == NULL)
    fail_msg ("bus: %s", error->message);
  r->registration = g_dbus_connection_register_object (r->bus, REFUSER_PATH,
                                                       agent1_interface_info (),
                                                       &refuser_vtable, r, NULL, &error);
  g_main_context_pop_thread_default (r->context);
  assert_true (r->registration != 0);
  r->thread = g_thread_new ("refuser", refuser_thread, r);

  reply = agent_manager_call (r->bus, "RegisterAgent",
                              g_variant_new ("(os)", REFUSER_PATH, "NoInputNoOutput"), &error);
  if (reply == NULL)
    fail_msg ("RegisterAgent: %s", error->message);
  g_clear_pointer (&reply, g_variant_unref);
  reply = agent_manager_call (r->bus, "RequestDefaultAgent", g_variant_new ("(o)", REFUSER_PATH),
                              &error);
  if (reply == NULL)
    fail_msg ("RequestDefaultAgent: %s", error->message);
  return r;
}

static void
refuser_free (Refuser *r)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = agent_manager_call (r->bus, "UnregisterAgent",
                                                  g_variant_new ("(o)", REFUSER_PATH), &error);

  if (reply == NULL)
    fail_msg ("UnregisterAgent: %s", error->message);
  g_dbus_connection_unregister_object (r->bus, r->registration);
  g_main_loop_quit (r->loop);
  g_thread_join (r->thread);
  g_dbus_connection_close_sync (r->bus, NULL, NULL);
  g_object_unref (r->bus);
  g_main_loop_unref (r->loop);
  g_main_context_unref (r->context);
  g_free (r);
}

static BleioCharacteristic *
find_secret (BleioConnection *connection)
{
  g_autoptr(GError) error = NULL;
  BleioCharacteristic *secret =
    e2e_find_characteristic (connection, E2E_UUID_CUSTOM, E2E_UUID_CUSTOM_SECRET, &error);

  if (secret == NULL)
    fail_msg ("%s", error->message);
  return secret;
}

static void
test_encrypted_unpaired (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(BleioAddress) address = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioConnection) second = NULL;
  g_autoptr(BleioCharacteristic) secret = NULL;
  g_autoptr(GBytes) value = NULL;
  g_autofree char *hex = NULL;
  E2eDisconnects ended = { 0 };
  Refuser *refuser;

  adapter = e2e_central_adapter (&error);
  assert_null (error);
  address = e2e_find_peripheral (adapter, &error);
  if (error)
    fail_msg ("find: %s", error->message);
  /* Before the connect: on 5.82 the link's own setup may already ask for
   * a pairing, which must not find the peripheral's accepting agent. */
  refuser = refuser_new ();
  connection = e2e_connect (adapter, address, &error);
  if (error)
    fail_msg ("connect: %s", error->message);
  e2e_watch_disconnects (connection, &ended);
  assert_false (bleio_connection_get_paired (connection, &error));
  assert_null (error);
  secret = find_secret (connection);

  value = bleio_characteristic_read_value (secret, &error);
  assert_null (value);
  assert_non_null (error);
  g_printerr ("encrypted read, not paired: %s %d: %s\n",
              g_quark_to_string (error->domain), error->code, error->message);
  assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_CONNECTION) ||
               g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_SECURITY));
  assert_non_null (strstr (error->message, "bleio_connection_pair"));
  g_clear_error (&error);
  /* bluetoothd asked the default agent, and the link is gone (the
   * library may hear of it a moment after the read's answer). */
  assert_true (g_atomic_int_get (&refuser->calls) > 0);
  assert_true (e2e_wait_disconnected (&ended, 10000));
  assert_int_equal (ended.count, 1);
  assert_false (bleio_connection_get_connected (connection));
  refuser_free (refuser);
  g_clear_object (&secret);

  second = e2e_connect (adapter, address, &error);
  if (error)
    fail_msg ("reconnect: %s", error->message);
  if (!bleio_connection_pair (second, TRUE, &error))
    fail_msg ("pair: %s", error->message);
  secret = find_secret (second);
  value = bleio_characteristic_read_value (secret, &error);
  if (value == NULL)
    fail_msg ("encrypted read after pairing: %s", error->message);
  hex = e2e_hex (value);
  assert_string_equal (hex, "736563726574");   /* "secret" */
  assert_true (bleio_connection_disconnect (second, &error));
  assert_null (error);
  if (!bleio_adapter_erase_bonding (adapter, &error))
    fail_msg ("erase_bonding: %s", error->message);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_encrypted_unpaired),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
