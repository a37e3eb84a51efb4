/* SPDX-License-Identifier: MIT */
#include "pending-call.h"

/* Counts answers across all calls of the test, for PendingCall.order. */
static guint answered;

static void
pending_call_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  PendingCall *p = user_data;

  p->reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &p->error);
  p->done = TRUE;
  p->order = ++answered;
}

void
pending_call_start (PendingCall     *p,
                    GDBusConnection *conn,
                    const char      *path,
                    const char      *interface,
                    const char      *method,
                    GVariant        *params,
                    int              timeout_msec)
{
  g_dbus_connection_call (conn, "org.bluez", path, interface, method, params, NULL,
                          G_DBUS_CALL_FLAGS_NONE, timeout_msec, NULL, pending_call_done, p);
}

gboolean
pending_call_is_done (gpointer data)
{
  return ((PendingCall *) data)->done;
}

void
pending_call_clear (PendingCall *p)
{
  g_clear_pointer (&p->reply, g_variant_unref);
  g_clear_error (&p->error);
}
