/* SPDX-License-Identifier: MIT */
/* BleioConnection's internals (lib/bleio-connection.c). */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-connection-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-client-private.h"

G_BEGIN_DECLS

#define BLEIO_CONNECTION_SPENT_MESSAGE \
  "Connection has been disconnected and can no longer be used. Create a new connection."
#define BLEIO_CONNECTION_BLUEZ_LEFT_MESSAGE \
  "bluetoothd left the bus and the link went with it. Create a new connection once it is back."

/* Connections (lib/bleio-connection.c): the live object for the link, a
 * new one if the previous one is spent. */
BleioConnection  *bleio_connection_dup_for_path (BleioClient  *client,
                                                 const char   *adapter_path,
                                                 const char   *device_path,
                                                 GMainContext *context);
gboolean          bleio_connection_is_spent     (BleioConnection *connection);
/* GATT client objects call BlueZ through the connection's client. */
BleioClient      *bleio_connection_get_client   (BleioConnection *connection);
/* FALSE with BLEIO_CONNECTION_SPENT_MESSAGE once the link is down. */
gboolean          bleio_connection_check_alive  (BleioConnection  *connection,
                                                 GError          **error);

G_END_DECLS
