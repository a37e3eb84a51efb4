/* SPDX-License-Identifier: MIT */
/*
 * Characteristic1.AcquireWrite: the socket and MTU BlueZ hands over for
 * writes without response. The reply carries a file descriptor, so the
 * call goes to the connection directly rather than through the GATT
 * operation queue.
 */
#include "bleio-acquire-write-private.h"
#include "bleio-att-private.h"

#include <unistd.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>

typedef struct {
  int fd;
  guint16 mtu;
} AcquiredWrite;

static void
acquired_write_free (gpointer data)
{
  AcquiredWrite *acquired = data;

  if (acquired->fd >= 0)
    close (acquired->fd);
  g_free (acquired);
}

static void
acquire_write_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GVariant) reply = NULL;
  GError *local = NULL;
  GError *error = NULL;
  AcquiredWrite *acquired;
  gint32 index = -1;
  guint16 mtu = 0;

  reply = g_dbus_connection_call_with_unix_fd_list_finish (G_DBUS_CONNECTION (source),
                                                           &fds, result, &local);
  if (reply == NULL)
    {
      bleio_propagate_dbus_error (&error, local);
      g_task_return_error (task, error);
      return;
    }
  g_variant_get (reply, "(hq)", &index, &mtu);
  acquired = g_new0 (AcquiredWrite, 1);
  acquired->mtu = CLAMP (mtu, BLEIO_ATT_MIN_MTU, BLEIO_ATT_MAX_MTU);
  acquired->fd = fds != NULL && index >= 0 && index < g_unix_fd_list_get_length (fds)
                 ? g_unix_fd_list_get (fds, index, &local) : -1;
  if (acquired->fd < 0)
    {
      acquired_write_free (acquired);
      if (local == NULL)
        local = g_error_new_literal (BLEIO_ERROR, BLEIO_ERROR_BLUETOOTH,
                                     "AcquireWrite gave no file descriptor");
      g_task_return_error (task, local);
      return;
    }
  g_unix_set_fd_nonblocking (acquired->fd, TRUE, NULL);
  g_task_return_pointer (task, acquired, acquired_write_free);
}

void
bleio_acquire_write_async (BleioClient         *client,
                           const char          *path,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, BLEIO_TAG (bleio_acquire_write_async));
  g_dbus_connection_call_with_unix_fd_list (bleio_client_get_connection (client),
                                            BLEIO_BLUEZ_NAME,
                                            path,
                                            BLEIO_IFACE_CHARACTERISTIC, "AcquireWrite",
                                            g_variant_new ("(a{sv})", NULL),
                                            G_VARIANT_TYPE ("(hq)"),
                                            G_DBUS_CALL_FLAGS_NO_AUTO_START, BLEIO_CALL_ATT_MSEC, NULL,
                                            cancellable, acquire_write_cb,
                                            g_steal_pointer (&task));
}

int
bleio_acquire_write_finish (GAsyncResult  *result,
                            guint16       *mtu,
                            GError       **error)
{
  AcquiredWrite *acquired;
  int fd;

  g_return_val_if_fail (g_task_is_valid (result, NULL), -1);
  acquired = g_task_propagate_pointer (G_TASK (result), error);
  if (acquired == NULL)
    return -1;
  fd = acquired->fd;
  acquired->fd = -1;
  if (mtu != NULL)
    *mtu = acquired->mtu;
  acquired_write_free (acquired);
  return fd;
}
