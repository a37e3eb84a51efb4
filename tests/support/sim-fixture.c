/* SPDX-License-Identifier: MIT */
/*
 * The simulator test fixture: sim-bus plus a connection and typed wrappers
 * around org.bleio.Sim1. See sim-fixture.h for how tests use it.
 */
#include "sim-fixture.h"
#include "agent1.h"

#include <string.h>

struct _SimFixture {
  SimBus *bus;
  GDBusConnection *connection;
  char *sim_binary;
  char *sim_name;
  char *old_system_bus_address;
  gboolean had_system_bus_address;
};

/* Finds who owns org.bluez now: control calls go there. */
static gboolean
refresh_sim_name (SimFixture  *fx,
                  GError     **error)
{
  g_autoptr(GVariant) reply = NULL;

  reply = g_dbus_connection_call_sync (fx->connection,
                                       "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus",
                                       "GetNameOwner",
                                       g_variant_new ("(s)", "org.bluez"),
                                       G_VARIANT_TYPE ("(s)"),
                                       G_DBUS_CALL_FLAGS_NONE,
                                       SIM_FIXTURE_TIMEOUT_MSEC, NULL, error);
  if (reply == NULL)
    return FALSE;
  g_clear_pointer (&fx->sim_name, g_free);
  g_variant_get (reply, "(s)", &fx->sim_name);
  return TRUE;
}

/**
 * sim_fixture_new:
 * @scenario_path: (nullable): a scenario file, %NULL for the demo scenario
 * @error: return location for an error
 *
 * Starts a private bus and the simulator named by $BLEIO_SIM on it, and
 * connects to the bus.
 *
 * Returns: (transfer full) (nullable): the fixture
 */
SimFixture *
sim_fixture_new (const char  *scenario_path,
                 GError     **error)
{
  g_autoptr(SimFixture) fx = g_new0 (SimFixture, 1);
  const char *binary = g_getenv ("BLEIO_SIM");
  const char *old = g_getenv ("DBUS_SYSTEM_BUS_ADDRESS");

  if (binary == NULL || *binary == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           "BLEIO_SIM is not set: it must name the bleio-sim "
                           "executable (meson test sets it)");
      return NULL;
    }
  if (!g_file_test (binary, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "BLEIO_SIM=%s is not an executable file", binary);
      return NULL;
    }
  fx->sim_binary = g_strdup (binary);
  fx->had_system_bus_address = old != NULL;
  fx->old_system_bus_address = g_strdup (old);

  fx->bus = sim_bus_new (binary, scenario_path, error);
  if (fx->bus == NULL)
    return NULL;

  fx->connection = g_dbus_connection_new_for_address_sync (sim_bus_get_address (fx->bus),
                                                           G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                           G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                           NULL, NULL, error);
  if (fx->connection == NULL)
    return NULL;
  g_dbus_connection_set_exit_on_close (fx->connection, FALSE);

  if (!refresh_sim_name (fx, error))
    return NULL;

  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", sim_bus_get_address (fx->bus), TRUE);
  return g_steal_pointer (&fx);
}

void
sim_fixture_free (SimFixture *fx)
{
  if (fx == NULL)
    return;

  if (fx->connection != NULL)
    {
      g_dbus_connection_close_sync (fx->connection, NULL, NULL);
      g_clear_object (&fx->connection);
    }
  g_clear_pointer (&fx->bus, sim_bus_free);

  if (fx->had_system_bus_address)
    g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", fx->old_system_bus_address, TRUE);
  else
    g_unsetenv ("DBUS_SYSTEM_BUS_ADDRESS");

  g_free (fx->old_system_bus_address);
  g_free (fx->sim_binary);
  g_free (fx->sim_name);
  g_free (fx);
}

const char *
sim_fixture_get_address (SimFixture *fx)
{
  g_return_val_if_fail (fx != NULL, NULL);

  return sim_bus_get_address (fx->bus);
}

GDBusConnection *
sim_fixture_get_connection (SimFixture *fx)
{
  g_return_val_if_fail (fx != NULL, NULL);

  return fx->connection;
}

SimBus *
sim_fixture_get_bus (SimFixture *fx)
{
  g_return_val_if_fail (fx != NULL, NULL);

  return fx->bus;
}

const char *
sim_fixture_get_sim_binary (SimFixture *fx)
{
  g_return_val_if_fail (fx != NULL, NULL);

  return fx->sim_binary;
}

const char *
sim_fixture_get_sim_name (SimFixture *fx)
{
  g_return_val_if_fail (fx != NULL, NULL);

  return fx->sim_name;
}

GVariant *
sim_fixture_call (SimFixture  *fx,
                  const char  *method,
                  GVariant    *params,
                  GError     **error)
{
  g_return_val_if_fail (fx != NULL, NULL);
  g_return_val_if_fail (method != NULL, NULL);

  return g_dbus_connection_call_sync (fx->connection, fx->sim_name,
                                      SIM_FIXTURE_CONTROL_PATH,
                                      SIM_FIXTURE_CONTROL_INTERFACE,
                                      method, params, NULL,
                                      G_DBUS_CALL_FLAGS_NONE,
                                      SIM_FIXTURE_TIMEOUT_MSEC, NULL, error);
}

GVariant *
sim_fixture_call_bluez (SimFixture  *fx,
                        const char  *path,
                        const char  *interface,
                        const char  *method,
                        GVariant    *params,
                        GError     **error)
{
  g_return_val_if_fail (fx != NULL, NULL);

  return g_dbus_connection_call_sync (fx->connection, "org.bluez", path,
                                      interface, method, params, NULL,
                                      G_DBUS_CALL_FLAGS_NONE,
                                      SIM_FIXTURE_TIMEOUT_MSEC, NULL, error);
}

/* Calls a control method whose answer does not matter. */
static gboolean
call_void (SimFixture  *fx,
           const char  *method,
           GVariant    *params,
           GError     **error)
{
  g_autoptr(GVariant) reply = sim_fixture_call (fx, method, params, error);

  return reply != NULL;
}

gboolean
sim_fixture_fail_next (SimFixture  *fx,
                       const char  *method,
                       const char  *error_name,
                       const char  *error_message,
                       guint        count,
                       GError     **error)
{
  return call_void (fx, "FailNext",
                    g_variant_new ("(sssu)", method, error_name,
                                   error_message != NULL ? error_message : "",
                                   count),
                    error);
}

gboolean
sim_fixture_delay_next (SimFixture  *fx,
                        const char  *method,
                        guint        delay_msec,
                        guint        count,
                        GError     **error)
{
  return call_void (fx, "DelayNext",
                    g_variant_new ("(suu)", method, delay_msec, count), error);
}

gboolean
sim_fixture_no_reply_next (SimFixture  *fx,
                           const char  *method,
                           guint        count,
                           GError     **error)
{
  return call_void (fx, "NoReplyNext",
                    g_variant_new ("(su)", method, count), error);
}

gboolean
sim_fixture_drop_link (SimFixture  *fx,
                       const char  *device_path,
                       const char  *reason,
                       GError     **error)
{
  return call_void (fx, "DropLink",
                    g_variant_new ("(os)", device_path,
                                   reason != NULL ? reason : ""),
                    error);
}

static GVariant *
bytes_variant (const guint8 *value,
               gsize         len)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, value, len, 1);
}

gboolean
sim_fixture_notify (SimFixture   *fx,
                    const char   *char_path,
                    const guint8 *value,
                    gsize         len,
                    GError      **error)
{
  return call_void (fx, "Notify",
                    g_variant_new ("(o@ay)", char_path,
                                   bytes_variant (value, len)),
                    error);
}

gboolean
sim_fixture_notify_burst (SimFixture   *fx,
                          const char   *char_path,
                          const guint8 *value,
                          gsize         len,
                          guint         count,
                          GError      **error)
{
  return call_void (fx, "NotifyBurst",
                    g_variant_new ("(o@ayu)", char_path,
                                   bytes_variant (value, len), count),
                    error);
}

gboolean
sim_fixture_set_property (SimFixture  *fx,
                          const char  *path,
                          const char  *interface,
                          const char  *property,
                          GVariant    *value,
                          GError     **error)
{
  return call_void (fx, "SetProperty",
                    g_variant_new ("(ossv)", path, interface, property, value),
                    error);
}

char *
sim_fixture_add_device (SimFixture  *fx,
                        const char  *adapter,
                        const char  *json,
                        GError     **error)
{
  g_autoptr(GVariant) reply = NULL;
  char *path = NULL;

  reply = sim_fixture_call (fx, "AddDevice",
                            g_variant_new ("(ss)", adapter, json), error);
  if (reply == NULL)
    return NULL;
  if (!g_variant_is_of_type (reply, G_VARIANT_TYPE ("(o)")))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "AddDevice answered %s, not (o)",
                   g_variant_get_type_string (reply));
      return NULL;
    }
  g_variant_get (reply, "(o)", &path);
  return path;
}

gboolean
sim_fixture_remove_device (SimFixture  *fx,
                           const char  *device_path,
                           GError     **error)
{
  return call_void (fx, "RemoveDevice",
                    g_variant_new ("(o)", device_path), error);
}

GVariant *
sim_fixture_get_calls (SimFixture  *fx,
                       GError     **error)
{
  g_autoptr(GVariant) reply = sim_fixture_call (fx, "GetCalls", NULL, error);

  if (reply == NULL)
    return NULL;
  if (!g_variant_is_of_type (reply, G_VARIANT_TYPE ("(a(sos))")))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "GetCalls answered %s, not (a(sos))",
                   g_variant_get_type_string (reply));
      return NULL;
    }
  return g_variant_get_child_value (reply, 0);
}

/* A recorded method matches "Connect" when it is "Connect" or ends in
 * ".Connect", and matches "org.bluez.Device1.Connect" exactly. */
static gboolean
method_matches (const char *recorded,
                const char *wanted)
{
  size_t rlen = strlen (recorded);
  size_t wlen = strlen (wanted);

  if (strcmp (recorded, wanted) == 0)
    return TRUE;
  if (strchr (wanted, '.') != NULL || rlen <= wlen)
    return FALSE;
  return recorded[rlen - wlen - 1] == '.' &&
         strcmp (recorded + rlen - wlen, wanted) == 0;
}

int
sim_fixture_count_calls (SimFixture *fx,
                         const char *method)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) calls = sim_fixture_get_calls (fx, &error);
  GVariantIter iter;
  const char *first;
  const char *path;
  const char *third;
  int count = 0;

  if (calls == NULL)
    {
      g_printerr ("sim_fixture_count_calls: %s\n", error->message);
      return -1;
    }

  /* The two strings are an interface-qualified method name and the
   * caller; whichever order the simulator uses, only the method name can
   * match a method. */
  g_variant_iter_init (&iter, calls);
  while (g_variant_iter_next (&iter, "(&s&o&s)", &first, &path, &third))
    if (method_matches (first, method) || method_matches (third, method))
      count++;
  return count;
}

gboolean
sim_fixture_reset_calls (SimFixture  *fx,
                         GError     **error)
{
  return call_void (fx, "ResetCalls", NULL, error);
}

gboolean
sim_fixture_restart (SimFixture  *fx,
                     guint        down_msec,
                     GError     **error)
{
  return call_void (fx, "Restart", g_variant_new ("(u)", down_msec), error);
}

gboolean
sim_fixture_crash (SimFixture  *fx,
                   GError     **error)
{
  g_return_val_if_fail (fx != NULL, FALSE);

  if (!sim_bus_restart_sim (fx->bus, error))
    return FALSE;
  return refresh_sim_name (fx, error);
}

typedef struct {
  gboolean timed_out;
} WaitState;

static gboolean
wait_timeout_cb (gpointer user_data)
{
  WaitState *state = user_data;

  state->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
sim_fixture_wait_until (GSourceFunc done,
                        gpointer    user_data,
                        guint       timeout_msec)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  WaitState state = { FALSE };
  g_autoptr(GSource) timeout = g_timeout_source_new (timeout_msec);
  gboolean result;

  g_source_set_callback (timeout, wait_timeout_cb, &state, NULL);
  g_source_attach (timeout, context);

  while (!(result = done (user_data)) && !state.timed_out)
    g_main_context_iteration (context, TRUE);

  g_source_destroy (timeout);
  return result;
}

gboolean
sim_fixture_start (SimFixture **fx,
                   SimAgent   **agent)
{
  g_autoptr(GError) error = NULL;

  *fx = sim_fixture_new (NULL, &error);
  if (*fx == NULL)
    {
      g_printerr ("sim fixture: %s\n", error->message);
      return FALSE;
    }
  if (agent == NULL)
    return TRUE;
  *agent = sim_agent_new (*fx, "NoInputNoOutput", TRUE, 0, &error);
  if (*agent == NULL)
    {
      g_printerr ("default agent: %s\n", error->message);
      return FALSE;
    }
  return TRUE;
}

int
sim_fixture_group_setup (void **state)
{
  SimFixture *fx = NULL;

  if (!sim_fixture_start (&fx, NULL))
    return -1;
  *state = fx;
  return 0;
}

int
sim_fixture_group_start_on (SimFixture **fx,
                            const char  *scenario)
{
  g_autoptr(GError) error = NULL;

  *fx = sim_fixture_new (scenario, &error);
  if (*fx == NULL)
    {
      g_printerr ("sim fixture: %s\n", error->message);
      return -1;
    }
  return 0;
}

int
sim_fixture_group_teardown (void **state)
{
  g_clear_pointer ((SimFixture **) state, sim_fixture_free);
  return 0;
}

GVariant *
sim_fixture_get_objects (SimFixture  *fx,
                         GError     **error)
{
  g_autoptr(GVariant) reply = NULL;

  reply = g_dbus_connection_call_sync (fx->connection, "org.bluez", "/",
                                       "org.freedesktop.DBus.ObjectManager",
                                       "GetManagedObjects", NULL,
                                       G_VARIANT_TYPE ("(a{oa{sa{sv}}})"),
                                       G_DBUS_CALL_FLAGS_NONE,
                                       SIM_FIXTURE_TIMEOUT_MSEC, NULL, error);
  if (reply == NULL)
    return NULL;
  return g_variant_get_child_value (reply, 0);
}

static GVariant *
lookup_property (GVariant   *objects,
                 const char *path,
                 const char *interface,
                 const char *name)
{
  g_autoptr(GVariant) ifaces = NULL;
  g_autoptr(GVariant) props = NULL;

  ifaces = g_variant_lookup_value (objects, path, G_VARIANT_TYPE ("a{sa{sv}}"));
  if (ifaces == NULL)
    return NULL;
  props = g_variant_lookup_value (ifaces, interface, G_VARIANT_TYPE ("a{sv}"));
  if (props == NULL)
    return NULL;
  return g_variant_lookup_value (props, name, NULL);
}

GVariant *
sim_fixture_get_property (SimFixture *fx,
                          const char *path,
                          const char *interface,
                          const char *name)
{
  g_autoptr(GVariant) objects = sim_fixture_get_objects (fx, NULL);

  if (objects == NULL)
    return NULL;
  return lookup_property (objects, path, interface, name);
}

gboolean
sim_fixture_wait_property (SimFixture *fx,
                           const char *path,
                           const char *interface,
                           const char *name,
                           GVariant   *value,
                           guint       timeout_msec)
{
  g_autoptr(GVariant) wanted = g_variant_ref_sink (value);
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_msec * 1000;

  for (;;)
    {
      g_autoptr(GVariant) current = sim_fixture_get_property (fx, path, interface, name);

      if (current != NULL && g_variant_equal (current, wanted))
        return TRUE;
      if (g_get_monotonic_time () >= deadline)
        return FALSE;
      g_usleep (20000);
    }
}

static char *
find_device_in (GVariant   *objects,
                const char *adapter_path,
                const char *name)
{
  gsize n = g_variant_n_children (objects);

  for (gsize i = 0; i < n; i++)
    {
      const char *path = NULL;
      g_autoptr(GVariant) ifaces = NULL;
      g_autoptr(GVariant) props = NULL;
      const char *adapter = NULL;
      const char *dev_name = NULL;
      const char *alias = NULL;

      g_variant_get_child (objects, i, "{&o@a{sa{sv}}}", &path, &ifaces);
      props = g_variant_lookup_value (ifaces, "org.bluez.Device1",
                                      G_VARIANT_TYPE ("a{sv}"));
      if (props == NULL)
        continue;
      g_variant_lookup (props, "Adapter", "&o", &adapter);
      g_variant_lookup (props, "Name", "&s", &dev_name);
      g_variant_lookup (props, "Alias", "&s", &alias);
      if (g_strcmp0 (adapter, adapter_path) != 0)
        continue;
      if (g_strcmp0 (dev_name, name) == 0 || g_strcmp0 (alias, name) == 0)
        return g_strdup (path);
    }
  return NULL;
}

char *
sim_fixture_find_device (SimFixture  *fx,
                         const char  *adapter_path,
                         const char  *name,
                         GError     **error)
{
  g_autoptr(GVariant) objects = sim_fixture_get_objects (fx, error);
  g_autoptr(GVariant) reply = NULL;
  gint64 deadline;
  char *path;

  if (objects == NULL)
    return NULL;
  path = find_device_in (objects, adapter_path, name);
  if (path != NULL)
    return path;

  reply = sim_fixture_call_bluez (fx, adapter_path, "org.bluez.Adapter1",
                                  "StartDiscovery", NULL, error);
  if (reply == NULL)
    return NULL;

  deadline = g_get_monotonic_time () + SIM_FIXTURE_TIMEOUT_MSEC * 1000;
  while (path == NULL && g_get_monotonic_time () < deadline)
    {
      g_clear_pointer (&objects, g_variant_unref);
      objects = sim_fixture_get_objects (fx, error);
      if (objects == NULL)
        break;
      path = find_device_in (objects, adapter_path, name);
      if (path == NULL)
        g_usleep (20000);
    }

  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call_bluez (fx, adapter_path, "org.bluez.Adapter1",
                                  "StopDiscovery", NULL, NULL);
  if (path == NULL && objects != NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                 "no device named %s under %s after %d ms of discovery",
                 name, adapter_path, SIM_FIXTURE_TIMEOUT_MSEC);
  return path;
}

gboolean
sim_fixture_connect_device (SimFixture  *fx,
                            const char  *device_path,
                            GError     **error)
{
  g_autoptr(GVariant) reply = NULL;

  reply = sim_fixture_call_bluez (fx, device_path, "org.bluez.Device1",
                                  "Connect", NULL, error);
  if (reply == NULL)
    return FALSE;
  if (!sim_fixture_wait_property (fx, device_path, "org.bluez.Device1",
                                  "ServicesResolved", g_variant_new_boolean (TRUE),
                                  SIM_FIXTURE_TIMEOUT_MSEC))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   "%s: ServicesResolved not true %d ms after Connect",
                   device_path, SIM_FIXTURE_TIMEOUT_MSEC);
      return FALSE;
    }
  return TRUE;
}

static gboolean
flags_match (GVariant           *props,
             const char * const *with,
             const char * const *without)
{
  g_autofree const char **flags = NULL;
  g_autoptr(GVariant) value = g_variant_lookup_value (props, "Flags",
                                                      G_VARIANT_TYPE_STRING_ARRAY);

  if (value != NULL)
    flags = g_variant_get_strv (value, NULL);
  for (; with != NULL && *with != NULL; with++)
    if (flags == NULL || !g_strv_contains (flags, *with))
      return FALSE;
  for (; without != NULL && *without != NULL; without++)
    if (flags != NULL && g_strv_contains (flags, *without))
      return FALSE;
  return TRUE;
}

char *
sim_fixture_find_gatt (SimFixture         *fx,
                       const char         *device_path,
                       const char         *interface,
                       const char         *uuid,
                       const char * const *with,
                       const char * const *without)
{
  g_autoptr(GVariant) objects = sim_fixture_get_objects (fx, NULL);
  g_autofree char *prefix = g_strconcat (device_path, "/", NULL);
  const char *best = NULL;
  gsize n;

  if (objects == NULL)
    return NULL;
  n = g_variant_n_children (objects);
  for (gsize i = 0; i < n; i++)
    {
      const char *path = NULL;
      g_autoptr(GVariant) ifaces = NULL;
      g_autoptr(GVariant) props = NULL;
      const char *obj_uuid = NULL;

      g_variant_get_child (objects, i, "{&o@a{sa{sv}}}", &path, &ifaces);
      if (!g_str_has_prefix (path, prefix))
        continue;
      props = g_variant_lookup_value (ifaces, interface, G_VARIANT_TYPE ("a{sv}"));
      if (props == NULL)
        continue;
      g_variant_lookup (props, "UUID", "&s", &obj_uuid);
      if (uuid != NULL && g_ascii_strcasecmp (uuid, obj_uuid != NULL ? obj_uuid : "") != 0)
        continue;
      if (!flags_match (props, with, without))
        continue;
      /* Paths hold zero-padded hex handles: string order is handle order. */
      if (best == NULL || strcmp (path, best) < 0)
        best = path;
    }
  return g_strdup (best);
}

/* ---- SimAgent ---- */

#define SIM_AGENT_PATH "/org/bleio/test/agent"

struct _SimAgent {
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  GDBusConnection *connection;
  guint registration;
  guint32 passkey;
  GMutex lock;
  GPtrArray *calls;
};

static void
agent_method_call (GDBusConnection       *connection,
                   const char            *sender,
                   const char            *object_path,
                   const char            *interface_name,
                   const char            *method_name,
                   GVariant              *parameters,
                   GDBusMethodInvocation *invocation,
                   gpointer               user_data)
{
  SimAgent *agent = user_data;

  g_mutex_lock (&agent->lock);
  g_ptr_array_add (agent->calls, g_strdup (method_name));
  g_mutex_unlock (&agent->lock);

  if (strcmp (method_name, "RequestPasskey") == 0)
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(u)", agent->passkey));
  else if (strcmp (method_name, "RequestPinCode") == 0)
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(s)", "0000"));
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static const GDBusInterfaceVTable agent_vtable = { agent_method_call, NULL, NULL, { 0 } };

static gpointer
agent_thread (gpointer data)
{
  SimAgent *agent = data;

  g_main_context_push_thread_default (agent->context);
  g_main_loop_run (agent->loop);
  g_main_context_pop_thread_default (agent->context);
  return NULL;
}

SimAgent *
sim_agent_new (SimFixture  *fx,
               const char  *capability,
               gboolean     make_default,
               guint32      passkey,
               GError     **error)
{
  g_autoptr(SimAgent) agent = g_new0 (SimAgent, 1);
  g_autoptr(GVariant) reply = NULL;

  g_mutex_init (&agent->lock);
  agent->calls = g_ptr_array_new_with_free_func (g_free);
  agent->passkey = passkey;
  agent->context = g_main_context_new ();
  agent->loop = g_main_loop_new (agent->context, FALSE);

  /* The connection and the registration belong to the agent's context:
   * create them with it as the thread default. */
  g_main_context_push_thread_default (agent->context);
  agent->connection = g_dbus_connection_new_for_address_sync (sim_fixture_get_address (fx),
                                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                              G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                              NULL, NULL, error);
  if (agent->connection != NULL)
    {
      agent->registration = g_dbus_connection_register_object (agent->connection,
                                                               SIM_AGENT_PATH,
                                                               agent1_interface_info (),
                                                               &agent_vtable, agent,
                                                               NULL, error);
    }
  g_main_context_pop_thread_default (agent->context);
  if (agent->registration == 0)
    return NULL;
  g_dbus_connection_set_exit_on_close (agent->connection, FALSE);

  agent->thread = g_thread_new ("sim-agent", agent_thread, agent);

  /* Register from the agent's own connection: BlueZ ties the agent to
   * the connection that registers it. The thread serves our object. */
  reply = g_dbus_connection_call_sync (agent->connection, "org.bluez", "/org/bluez",
                                       "org.bluez.AgentManager1", "RegisterAgent",
                                       g_variant_new ("(os)", SIM_AGENT_PATH, capability),
                                       NULL, G_DBUS_CALL_FLAGS_NONE,
                                       SIM_FIXTURE_TIMEOUT_MSEC, NULL, error);
  if (reply == NULL)
    return NULL;
  g_clear_pointer (&reply, g_variant_unref);
  if (make_default)
    {
      reply = g_dbus_connection_call_sync (agent->connection, "org.bluez", "/org/bluez",
                                           "org.bluez.AgentManager1", "RequestDefaultAgent",
                                           g_variant_new ("(o)", SIM_AGENT_PATH),
                                           NULL, G_DBUS_CALL_FLAGS_NONE,
                                           SIM_FIXTURE_TIMEOUT_MSEC, NULL, error);
      if (reply == NULL)
        return NULL;
    }
  return g_steal_pointer (&agent);
}

static gboolean
agent_quit (gpointer data)
{
  SimAgent *agent = data;

  if (agent->registration != 0)
    g_dbus_connection_unregister_object (agent->connection, agent->registration);
  agent->registration = 0;
  g_main_loop_quit (agent->loop);
  return G_SOURCE_REMOVE;
}

void
sim_agent_free (SimAgent *agent)
{
  if (agent == NULL)
    return;

  if (agent->thread != NULL)
    {
      g_main_context_invoke (agent->context, agent_quit, agent);
      g_thread_join (agent->thread);
    }
  else if (agent->registration != 0)
    {
      g_dbus_connection_unregister_object (agent->connection, agent->registration);
    }
  if (agent->connection != NULL)
    {
      g_dbus_connection_close_sync (agent->connection, NULL, NULL);
      g_object_unref (agent->connection);
    }
  g_main_loop_unref (agent->loop);
  g_main_context_unref (agent->context);
  g_ptr_array_unref (agent->calls);
  g_mutex_clear (&agent->lock);
  g_free (agent);
}

GStrv
sim_agent_dup_calls (SimAgent *agent)
{
  GStrv result;

  g_mutex_lock (&agent->lock);
  result = g_new0 (char *, agent->calls->len + 1);
  for (guint i = 0; i < agent->calls->len; i++)
    result[i] = g_strdup (g_ptr_array_index (agent->calls, i));
  g_mutex_unlock (&agent->lock);
  return result;
}

char *
sim_fixture_check_remote_error (const GError *error,
                                const char   *name,
                                const char   *message)
{
  g_autoptr(GError) copy = NULL;
  g_autofree char *remote = NULL;

  if (error == NULL)
    return g_strdup_printf ("succeeded; bluetoothd answers %s: %s", name, message);
  copy = g_error_copy (error);
  remote = g_dbus_error_get_remote_error (copy);
  g_dbus_error_strip_remote_error (copy);
  if (g_strcmp0 (remote, name) == 0 && strcmp (copy->message, message) == 0)
    return NULL;
  return g_strdup_printf ("%s: %s; bluetoothd answers %s: %s", remote, copy->message,
                          name, message);
}
