/* SPDX-License-Identifier: MIT */
/*
 * A client's reads and subscriptions of local attributes, as signals of
 * the public objects (bleio-local-events-private.h). The attribute
 * (lib/bleio-local-attr.c) queues each event to the context the object
 * was made in; here the device bluetoothd named becomes the client's
 * #BleioConnection, as for the writes.
 */
#include "bleio-local-events-private.h"
#include "bleio-characteristic-private.h"
#include "bleio-connection-private.h"

#include <string.h>

/* The connection of the device at @device_path, or NULL when bluetoothd
 * named none or one of another adapter. */
static BleioConnection *
client_connection (BleioLocalAttr *attr,
                   const char     *device_path)
{
  const char *adapter_path = bleio_local_attr_get_adapter_path (attr);
  gsize n = strlen (adapter_path);
  g_autoptr(GMainContext) context = NULL;

  if (device_path[0] == '\0' || !g_variant_is_object_path (device_path) ||
      strncmp (device_path, adapter_path, n) != 0 || device_path[n] != '/')
    return NULL;
  /* The running context, which may be the global default (NULL from
   * g_main_context_get_thread_default()). */
  context = g_main_context_ref_thread_default ();
  return bleio_connection_dup_for_path (bleio_local_attr_get_client (attr), adapter_path,
                                        device_path, context);
}

void
bleio_local_events_emit (GObject             *object,
                         BleioLocalAttr      *attr,
                         BleioLocalEventKind  kind,
                         guint                number,
                         const char          *device_path)
{
  g_autoptr(BleioConnection) connection = NULL;

  switch (kind)
    {
    case BLEIO_LOCAL_EVENT_READ:
      connection = client_connection (attr, device_path);
      if (BLEIO_IS_CHARACTERISTIC (object))
        bleio_characteristic_emit_read (BLEIO_CHARACTERISTIC (object), connection, number);
      else if (BLEIO_IS_DESCRIPTOR (object))
        bleio_descriptor_emit_read (BLEIO_DESCRIPTOR (object), connection, number);
      break;
    case BLEIO_LOCAL_EVENT_NOTIFYING:
      if (BLEIO_IS_CHARACTERISTIC (object))
        bleio_characteristic_emit_notifying_changed (BLEIO_CHARACTERISTIC (object), number != 0);
      break;
    default:
      g_assert_not_reached ();
    }
}
