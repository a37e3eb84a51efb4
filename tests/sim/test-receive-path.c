/* SPDX-License-Identifier: MIT */
/*
 * The receive path (issue 20, lib/bleio-feed.c): the client reads
 * org.bluez's signals on a bus connection of the library's own, or, with
 * BLEIO_RECEIVE=gdbus (how meson runs this program a second time, as
 * test-receive-path-gdbus), through GDBus on the application's
 * connection. Each case says what holds on the path the environment
 * picks: which connections the library makes, that a closed own
 * connection ends the view, and that signals sent straight to the
 * library's connections by a client that is not their sender are
 * dropped.
 */
#include "central.h"

#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAIT_MSEC 10000

static gboolean
forced_gdbus (void)
{
  return g_strcmp0 (g_getenv ("BLEIO_RECEIVE"), "gdbus") == 0;
}

/* Unique names on the fixture's bus held by this process. */
static GPtrArray *
own_names (SimFixture *fx)
{
  GDBusConnection *bus = sim_fixture_get_connection (fx);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree const char **names = NULL;
  GPtrArray *mine = g_ptr_array_new_with_free_func (g_free);

  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "ListNames", NULL,
                                       G_VARIANT_TYPE ("(as)"), G_DBUS_CALL_FLAGS_NONE,
                                       WAIT_MSEC, NULL, &error);
  assert_no_error (error);
  g_variant_get (reply, "(^a&s)", &names);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr(GVariant) pid = NULL;
      guint32 process = 0;

      if (names[i][0] != ':')
        continue;
      pid = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                         "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                                         g_variant_new ("(s)", names[i]), G_VARIANT_TYPE ("(u)"),
                                         G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC, NULL, NULL);
      if (pid != NULL)
        g_variant_get (pid, "(u)", &process);
      if (process == (guint32) getpid ())
        g_ptr_array_add (mine, g_strdup (names[i]));
    }
  return mine;
}

/* The socket descriptors this process has open. */
static GHashTable *
socket_fds (void)
{
  GHashTable *fds = g_hash_table_new (NULL, NULL);
  DIR *dir = opendir ("/proc/self/fd");
  struct dirent *entry;

  assert_non_null (dir);
  while ((entry = readdir (dir)) != NULL)
    {
      struct stat st;
      int fd = atoi (entry->d_name);

      if (entry->d_name[0] != '.' && fd != dirfd (dir) && fstat (fd, &st) == 0 &&
          S_ISSOCK (st.st_mode))
        g_hash_table_add (fds, GINT_TO_POINTER (fd));
    }
  closedir (dir);
  return fds;
}

static gboolean
adapter_gone (gpointer user_data)
{
  return !bleio_adapter_is_present (user_data);
}

static gboolean
adapter_disabled (gpointer user_data)
{
  return !bleio_adapter_get_enabled (user_data);
}

typedef struct {
  BleioAdapter *adapter;
  const char *alias;
} AliasWait;

static gboolean
alias_is (gpointer user_data)
{
  AliasWait *w = user_data;
  g_autofree char *name = bleio_adapter_dup_name (w->adapter);

  return g_strcmp0 (name, w->alias) == 0;
}

/* The library opens one connection of its own to the bus for the
 * signals, unless told to use GDBus's; either way the cache follows the
 * simulator's changes. */
static void
test_receive_connections (void **state)
{
  SimFixture *fx = NULL;
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;

  assert_true (sim_fixture_start (&fx, NULL));
  before = own_names (fx);
  adapter = common_adapter (fx, "hci0");
  after = own_names (fx);
  assert_int_equal (after->len, before->len + (forced_gdbus () ? 0 : 1));
  assert_true (bleio_adapter_get_enabled (adapter));
  assert_true (sim_fixture_set_property (fx, HCI0, "org.bluez.Adapter1", "Powered",
                                         g_variant_new_boolean (FALSE), NULL));
  assert_true (common_wait (adapter_disabled, adapter, WAIT_MSEC));
  g_clear_object (&adapter);
  sim_fixture_free (fx);
}

/* The own connection closing (here: shut down under the library) ends
 * the view as the bus going away does: the adapter is no longer there. */
static void
test_receive_own_connection_lost (void **state)
{
  SimFixture *fx = NULL;
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GHashTable) after = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(GError) error = NULL;
  GHashTableIter iter;
  gpointer fd;
  int reader = -1;

  if (forced_gdbus ())
    {
      skip ();
      return;
    }
  assert_true (sim_fixture_start (&fx, NULL));
  before = socket_fds ();
  adapter = common_adapter (fx, "hci0");
  after = socket_fds ();
  g_hash_table_iter_init (&iter, after);
  while (g_hash_table_iter_next (&iter, &fd, NULL))
    if (!g_hash_table_contains (before, fd))
      {
        assert_int_equal (reader, -1);          /* exactly one new socket */
        reader = GPOINTER_TO_INT (fd);
      }
  assert_int_not_equal (reader, -1);
  assert_true (bleio_adapter_is_present (adapter));
  assert_int_equal (shutdown (reader, SHUT_RDWR), 0);
  assert_true (common_wait (adapter_gone, adapter, WAIT_MSEC));
  /* The application's connection is still open; the library says the
   * bus is gone, not that bluetoothd is. */
  assert_false (g_dbus_connection_is_closed (sim_fixture_get_connection (fx)));
  assert_false (bleio_adapter_set_name (adapter, "x", &error));
  assert_bleio_error (error, BLEIO_ERROR_BLUEZ_UNAVAILABLE);
  assert_non_null (strstr (error->message, "closed"));
  g_clear_object (&adapter);
  sim_fixture_free (fx);
}

/* A client that is not the bus sends NameOwnerChanged ("org.bluez has
 * no owner") and a PropertiesChanged (Powered false) straight to each of
 * this process's connections: unicast signals pass every match rule, so
 * only the sender check keeps them out of the view. */
static void
test_receive_impostor_signals_dropped (void **state)
{
  SimFixture *fx = NULL;
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(GDBusConnection) impostor = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) owner = NULL;
  const char *gone[] = { NULL };
  AliasWait w;

  assert_true (sim_fixture_start (&fx, NULL));
  adapter = common_adapter (fx, "hci0");
  names = own_names (fx);
  impostor = g_dbus_connection_new_for_address_sync (sim_fixture_get_address (fx),
                                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                     G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                     NULL, NULL, &error);
  assert_no_error (error);
  for (guint i = 0; i < names->len; i++)
    {
      const char *to = g_ptr_array_index (names, i);
      GVariantBuilder changed;

      g_dbus_connection_emit_signal (impostor, to, "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "NameOwnerChanged",
                                     g_variant_new ("(sss)", "org.bluez",
                                                    sim_fixture_get_sim_name (fx), ""),
                                     &error);
      assert_no_error (error);
      g_variant_builder_init (&changed, G_VARIANT_TYPE ("a{sv}"));
      g_variant_builder_add (&changed, "{sv}", "Powered", g_variant_new_boolean (FALSE));
      g_dbus_connection_emit_signal (impostor, to, HCI0, "org.freedesktop.DBus.Properties",
                                     "PropertiesChanged",
                                     g_variant_new ("(sa{sv}^as)", "org.bluez.Adapter1",
                                                    &changed, gone),
                                     &error);
      assert_no_error (error);
    }
  /* A round trip through the bus on the impostor's connection: its
   * signals were routed before the simulator is asked for a change. */
  owner = g_dbus_connection_call_sync (impostor, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetNameOwner",
                                       g_variant_new ("(s)", "org.bluez"), G_VARIANT_TYPE ("(s)"),
                                       G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC, NULL, &error);
  assert_no_error (error);
  assert_true (sim_fixture_set_property (fx, HCI0, "org.bluez.Adapter1", "Alias",
                                         g_variant_new_string ("after-impostor"), NULL));
  w.adapter = adapter;
  w.alias = "after-impostor";
  assert_true (common_wait (alias_is, &w, WAIT_MSEC));
  assert_true (bleio_adapter_is_present (adapter));
  assert_true (bleio_adapter_get_enabled (adapter));
  g_clear_object (&adapter);
  sim_fixture_free (fx);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_receive_connections),
    cmocka_unit_test (test_receive_own_connection_lost),
    cmocka_unit_test (test_receive_impostor_signals_dropped),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
