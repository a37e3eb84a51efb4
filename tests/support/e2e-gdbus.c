/* SPDX-License-Identifier: MIT */
#include "e2e-gdbus.h"

const char *
e2e_env (const char *name, const char *fallback)
{
  const char *value = g_getenv (name);

  return value && *value ? value : fallback;
}

static gboolean
tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
timed_out (gpointer user_data)
{
  gboolean *flag = user_data;

  *flag = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
e2e_wait_until (gboolean (*done) (gpointer user_data),
                gpointer user_data,
                guint    timeout_msec)
{
  GMainContext *context = g_main_context_get_thread_default ();
  gboolean expired = FALSE;
  g_autoptr(GSource) timer = g_timeout_source_new (timeout_msec);
  g_autoptr(GSource) poll = g_timeout_source_new (100);
  gboolean result;

  /* The tick wakes the loop so that @done may also poll. */
  g_source_set_callback (timer, timed_out, &expired, NULL);
  g_source_attach (timer, context);
  g_source_set_callback (poll, tick, NULL, NULL);
  g_source_attach (poll, context);
  while (!(result = done (user_data)) && !expired)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timer);
  g_source_destroy (poll);
  return result;
}

static gboolean
never (gpointer user_data)
{
  return FALSE;
}

void
e2e_spin (guint msec)
{
  e2e_wait_until (never, NULL, msec);
}

GVariant *
e2e_call (GDBusConnection *bus, const char *path, const char *iface,
          const char *method, GVariant *params, const char *reply_type,
          int timeout_msec, GError **error)
{
  return g_dbus_connection_call_sync (bus, "org.bluez", path, iface, method,
                                      params,
                                      reply_type ? G_VARIANT_TYPE (reply_type) : NULL,
                                      G_DBUS_CALL_FLAGS_NONE, timeout_msec,
                                      NULL, error);
}

GVariant *
e2e_get_cached (GDBusObjectManager *manager, const char *path,
                const char *iface, const char *name)
{
  g_autoptr(GDBusInterface) interface = g_dbus_object_manager_get_interface (manager, path, iface);

  if (!interface)
    return NULL;
  return g_dbus_proxy_get_cached_property (G_DBUS_PROXY (interface), name);
}
