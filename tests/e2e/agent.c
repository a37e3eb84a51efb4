/* SPDX-License-Identifier: MIT */
/*
 * bleio-e2e-agent: a NoInputNoOutput pairing agent that accepts every
 * request, registered as bluetoothd's default agent, for the tests in
 * which libbleio itself is the peripheral (test-peripheral-serve).
 *
 * Why a peripheral needs one: bluetoothd 5.82 listens for EATT channels
 * with encryption required (5.66 did not), so a 5.82 central with EATT
 * (bluetoothd's default, [GATT] Channels = 3) pairs with a 5.82 peripheral
 * as soon as its GATT client is ready. The Just Works pairing is put to
 * the peripheral side's default agent; with none, or with one that says
 * no, bluetoothd refuses it and the kernel drops the link (Authentication
 * Failure). The test peripheral (peripheral.c) has such an agent for the
 * central tests; this is the same agent alone. docs/bluez-versions.md.
 *
 * Prints "ready" on stdout once bluetoothd took it as the default agent;
 * runs until SIGTERM or SIGINT, and says each request on stderr.
 */
#include <glib-unix.h>
#include <stdio.h>

#include "agent1.h"

#define AGENT_PATH "/org/bleio/e2e/agent"

static void
method_call (GDBusConnection       *bus,
             const char            *sender,
             const char            *path,
             const char            *iface,
             const char            *method,
             GVariant              *params,
             GDBusMethodInvocation *invocation,
             gpointer               user_data)
{
  g_printerr ("bleio-e2e-agent: %s: accepted\n", method);
  if (g_str_equal (method, "RequestPinCode"))
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(s)", "0000"));
  else if (g_str_equal (method, "RequestPasskey"))
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", 0));
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static gboolean
call_agent_manager (GDBusConnection *bus,
                    const char      *method,
                    GVariant        *params,
                    GError         **error)
{
  g_autoptr(GVariant) reply = NULL;

  reply = g_dbus_connection_call_sync (bus, "org.bluez", "/org/bluez", "org.bluez.AgentManager1",
                                       method, params, NULL, G_DBUS_CALL_FLAGS_NONE, 10000,
                                       NULL, error);
  return reply != NULL;
}

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (void)
{
  static const GDBusInterfaceVTable vtable = { method_call, NULL, NULL, { 0 } };
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  guint id;

  if (bus == NULL)
    {
      g_printerr ("bleio-e2e-agent: system bus: %s\n", error->message);
      return 1;
    }
  id = g_dbus_connection_register_object (bus, AGENT_PATH, agent1_interface_info (), &vtable,
                                          NULL, NULL, &error);
  if (id == 0
      || !call_agent_manager (bus, "RegisterAgent",
                              g_variant_new ("(os)", AGENT_PATH, "NoInputNoOutput"), &error)
      || !call_agent_manager (bus, "RequestDefaultAgent", g_variant_new ("(o)", AGENT_PATH),
                              &error))
    {
      g_printerr ("bleio-e2e-agent: %s\n", error->message);
      return 1;
    }
  printf ("ready\n");
  fflush (stdout);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_main_loop_run (loop);
  /* bluetoothd forgets the agent when we leave the bus; saying so first
   * keeps its log clean. */
  call_agent_manager (bus, "UnregisterAgent", g_variant_new ("(o)", AGENT_PATH), NULL);
  g_dbus_connection_unregister_object (bus, id);
  return 0;
}
