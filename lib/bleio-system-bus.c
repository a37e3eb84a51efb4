/* SPDX-License-Identifier: MIT */
/*
 * Reaching the system bus; see bleio-system-bus-private.h.
 */
#include "bleio-system-bus-private.h"
#include "bleio-private.h"

/* GLib hands out its shared system bus connection as long as anybody holds
 * it, even once it closed: then the library's own connection to the new
 * bus is kept here. */
static GMutex system_lock;
static GDBusConnection *system_replacement;

static void
return_unreachable (GTask        *task,
                    const GError *error)
{
  g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_BLUEZ_UNAVAILABLE,
                           "Cannot reach the system bus (%s); is D-Bus "
                           "running?", error->message);
}

static void
replacement_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) connection = g_dbus_connection_new_for_address_finish (result, &error);

  if (connection == NULL)
    {
      return_unreachable (task, error);
      return;
    }
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  g_mutex_lock (&system_lock);
  if (system_replacement != NULL && !g_dbus_connection_is_closed (system_replacement))
    g_set_object (&connection, system_replacement);     /* another call was first */
  else
    g_set_object (&system_replacement, connection);
  g_mutex_unlock (&system_lock);
  g_task_return_pointer (task, g_steal_pointer (&connection), g_object_unref);
}

static void
shared_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) connection = g_bus_get_finish (result, &error);
  g_autofree char *address = NULL;
  GCancellable *cancellable;

  if (connection == NULL)
    {
      return_unreachable (task, error);
      return;
    }
  if (g_dbus_connection_is_closed (connection))
    {
      g_mutex_lock (&system_lock);
      g_set_object (&connection, system_replacement);
      g_mutex_unlock (&system_lock);
      if (connection == NULL || g_dbus_connection_is_closed (connection))
        {
          address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
          if (address == NULL)
            {
              return_unreachable (task, error);
              return;
            }
          /* Not in the call's arguments: g_steal_pointer() may go first. */
          cancellable = g_task_get_cancellable (task);
          g_dbus_connection_new_for_address (address,
                                             G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                             G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                             NULL, cancellable,
                                             replacement_cb, g_steal_pointer (&task));
          return;
        }
    }
  g_task_return_pointer (task, g_steal_pointer (&connection), g_object_unref);
}

void
bleio_system_bus_get_async (GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  /* Cast through an integer: ISO C has no function-to-object conversion. */
  g_task_set_source_tag (task, (gpointer) (guintptr) bleio_system_bus_get_async);
  g_bus_get (G_BUS_TYPE_SYSTEM, cancellable, shared_cb, g_steal_pointer (&task));
}

GDBusConnection *
bleio_system_bus_get_finish (GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
