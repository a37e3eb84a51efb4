/* SPDX-License-Identifier: MIT */
#include "sim-expect.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

void
sim_expect_remote_error (const GError *error,
                         const char   *name,
                         const char   *message,
                         const char   *what)
{
  g_autofree char *problem = sim_fixture_check_remote_error (error, name, message);

  if (problem != NULL)
    fail_msg ("%s: %s", what, problem);
}

gboolean
sim_expect_bool (SimFixture *fx,
                 const char *path,
                 const char *interface,
                 const char *name)
{
  g_autoptr(GVariant) v = sim_fixture_get_property (fx, path, interface, name);

  if (v == NULL)
    fail_msg ("%s has no %s", path, name);
  return g_variant_get_boolean (v);
}

char *
sim_expect_new_device (SimFixture *fx,
                       const char *adapter,
                       const char *name,
                       const char *address,
                       const char *extra)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *adapter_path = g_strconcat ("/org/bluez/", adapter, NULL);
  g_autofree char *json = g_strdup_printf ("{ \"address\": \"%s\", \"name\": \"%s\"%s }",
                                           address, name, extra);
  g_autofree char *added = sim_fixture_add_device (fx, adapter, json, &error);
  char *path;

  if (added == NULL)
    fail_msg ("AddDevice: %s", error->message);
  path = sim_fixture_find_device (fx, adapter_path, name, &error);
  if (path == NULL)
    fail_msg ("%s did not appear: %s", name, error->message);
  return path;
}

GDBusConnection *
sim_expect_new_client (SimFixture *fx,
                       const char *what)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *c;

  c = g_dbus_connection_new_for_address_sync (sim_fixture_get_address (fx),
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                              G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                              NULL, NULL, &error);
  if (c == NULL)
    fail_msg ("%s: %s", what, error->message);
  g_dbus_connection_set_exit_on_close (c, FALSE);
  return c;
}
