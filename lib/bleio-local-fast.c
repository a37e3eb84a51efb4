/* SPDX-License-Identifier: MIT */
/* The public side of a local characteristic's acquired sockets
 * (include/bleio/bleio-local-acquire.h); the sockets themselves are
 * lib/bleio-local-acquire.c. */
#include "bleio-adapter-private.h"
#include "bleio-characteristic-private.h"
#include "bleio-gatt-app-private.h"
#include "bleio-local-acquire-private.h"

gboolean
bleio_characteristic_set_acquired (BleioCharacteristic  *characteristic,
                                   gboolean              notify,
                                   gboolean              write,
                                   GError              **error)
{
  BleioLocalAttr *attr;
  BleioCharacteristicProperties properties;
  g_autoptr(GObject) adapter = NULL;

  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), FALSE);
  attr = bleio_characteristic_get_local (characteristic);
  if (attr == NULL)
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_ROLE,
                           "This characteristic is a peer's: BlueZ acquires sockets from "
                           "local characteristics (bleio_characteristic_add_to_service())");
      return FALSE;
    }
  properties = bleio_characteristic_get_properties (characteristic);
  if (notify && !(properties & (BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY |
                                BLEIO_CHARACTERISTIC_PROPERTY_INDICATE)))
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                           "The characteristic neither notifies nor indicates: give "
                           "notify FALSE, or add NOTIFY or INDICATE to its properties");
      return FALSE;
    }
  if (write && !(properties & (BLEIO_CHARACTERISTIC_PROPERTY_WRITE |
                               BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE)))
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                           "Clients cannot write the characteristic: give write FALSE, "
                           "or add WRITE or WRITE_NO_RESPONSE to its properties");
      return FALSE;
    }
  bleio_local_acquire_set_enabled (bleio_local_attr_get_acquire (attr), notify, write);
  adapter = bleio_client_dup_adapter (bleio_local_attr_get_client (attr),
                                      bleio_local_attr_get_adapter_path (attr));
  /* Without the adapter object there is no application to register. */
  if (adapter != NULL)
    bleio_gatt_app_changed (bleio_adapter_get_gatt_app (BLEIO_ADAPTER (adapter)));
  return TRUE;
}

gboolean
bleio_characteristic_get_notify_acquired (BleioCharacteristic *characteristic)
{
  BleioLocalAttr *attr;

  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), FALSE);
  attr = bleio_characteristic_get_local (characteristic);
  return attr != NULL && bleio_local_acquire_notify_held (bleio_local_attr_get_acquire (attr));
}
