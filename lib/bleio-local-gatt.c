/* SPDX-License-Identifier: MIT */
/*
 * The local GATT server's public functions (include/bleio/bleio-local-gatt.h):
 * `_bleio`'s Service(), Characteristic.add_to_service() and
 * Descriptor.add_to_characteristic() checked and turned into attributes
 * of the adapter's GATT application (lib/bleio-gatt-app.c), with the
 * properties and security modes as BlueZ Flags (lib/bleio-local-flags.c),
 * and the application's publishing.
 */
#include "bleio-adapter-private.h"
#include "bleio-service-private.h"
#include "bleio-characteristic-private.h"
#include "bleio-connection-private.h"
#include "bleio-local-events-private.h"
#include "bleio-sync-private.h"
#include "bleio-local-flags-private.h"

#include <string.h>

/* ---- the checks every attribute shares ------------------------------------------ */

static GBytes *
initial_value (guint      max_length,
               gboolean   fixed_length,
               GBytes    *given,
               GError   **error)
{
  gsize len;

  if (max_length > BLEIO_CHARACTERISTIC_MAX_LENGTH)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "max_length %u is above the %d bytes an attribute can hold",
                   max_length, BLEIO_CHARACTERISTIC_MAX_LENGTH);
      return NULL;
    }
  if (given == NULL)
    {
      /* `_bleio`: no initial value means zeros. */
      return g_bytes_new_take (g_malloc0 (fixed_length ? max_length : 0),
                               fixed_length ? max_length : 0);
    }
  len = g_bytes_get_size (given);
  if (len > max_length || (fixed_length && len != max_length))
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "initial_value is %" G_GSIZE_FORMAT " bytes long; the attribute takes %s%u",
                   len, fixed_length ? "exactly " : "at most ", max_length);
      return NULL;
    }
  return g_bytes_ref (given);
}

/* ---- a client's writes, told on the public objects -------------------------------- */

static BleioConnection *
writer_connection (BleioLocalAttr *attr,
                   const char     *device)
{
  const char *adapter_path = bleio_local_attr_get_adapter_path (attr);
  gsize n = strlen (adapter_path);
  g_autoptr(GMainContext) context = NULL;

  if (device[0] == '\0' || !g_variant_is_object_path (device) ||
      strncmp (device, adapter_path, n) != 0 || device[n] != '/')
    return NULL;
  /* Runs in the attribute's context, where its signals go too. */
  context = g_main_context_ref_thread_default ();
  return bleio_connection_dup_for_path (bleio_local_attr_get_client (attr), adapter_path, device,
                                        context);
}

static void
characteristic_written (GObject    *object,
                        GBytes     *value,
                        const char *device)
{
  BleioCharacteristic *self = BLEIO_CHARACTERISTIC (object);
  g_autoptr(BleioConnection) connection =
    writer_connection (bleio_characteristic_get_local (self), device);

  bleio_characteristic_emit_written (self, value, connection);
}

static void
descriptor_written (GObject    *object,
                    GBytes     *value,
                    const char *device)
{
  BleioDescriptor *self = BLEIO_DESCRIPTOR (object);
  g_autoptr(BleioConnection) connection =
    writer_connection (bleio_descriptor_get_local (self), device);

  bleio_descriptor_emit_written (self, value, connection);
}

/* ---- services ------------------------------------------------------------------ */

BleioService *
bleio_service_new (BleioAdapter     *adapter,
                   const BleioUuid  *uuid,
                   gboolean          secondary,
                   GError          **error)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  g_autofree char *uuid_str = NULL;
  BleioLocalAttrSpec spec = { 0 };
  BleioService *self;
  BleioLocalAttr *attr;

  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), NULL);
  g_return_val_if_fail (uuid != NULL, NULL);
  if (!bleio_adapter_check_usable (adapter, error))
    return NULL;
  uuid_str = bleio_uuid_to_bluez_string (uuid);
  spec.kind = BLEIO_LOCAL_SERVICE;
  spec.uuid = uuid_str;
  spec.primary = !secondary;
  self = bleio_service_new_local (bleio_uuid_copy (uuid), !secondary);
  attr = bleio_gatt_app_add (bleio_adapter_get_gatt_app (adapter), NULL, &spec, G_OBJECT (self),
                             context, NULL);
  bleio_service_set_local (self, attr);
  bleio_local_attr_unref (attr);
  return self;
}

GPtrArray *
bleio_adapter_dup_services (BleioAdapter *adapter)
{
  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), NULL);
  return bleio_gatt_app_dup_services (bleio_adapter_get_gatt_app (adapter));
}

/* ---- characteristics --------------------------------------------------------------- */

static BleioLocalAttr *
add_descriptor (BleioCharacteristic     *characteristic,
                BleioDescriptor        **descriptor_out,
                const BleioUuid         *uuid,
                BleioAttributeSecurity   read_perm,
                BleioAttributeSecurity   write_perm,
                guint                    max_length,
                gboolean                 fixed_length,
                GBytes                  *initial,
                GError                 **error);

BleioCharacteristic *
bleio_characteristic_add_to_service (BleioService                  *service,
                                     const BleioUuid               *uuid,
                                     BleioCharacteristicProperties  properties,
                                     BleioAttributeSecurity         read_perm,
                                     BleioAttributeSecurity         write_perm,
                                     guint                          max_length,
                                     gboolean                       fixed_length,
                                     GBytes                        *initial,
                                     const char                    *user_description,
                                     GError                       **error)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  g_autoptr(GPtrArray) flags = NULL;
  g_autoptr(GBytes) value = NULL;
  g_autoptr(GObject) adapter = NULL;
  g_autofree char *uuid_str = NULL;
  BleioLocalAttr *service_attr;
  BleioLocalAttrSpec spec = { 0 };
  BleioCharacteristic *self;
  BleioLocalAttr *attr;

  g_return_val_if_fail (BLEIO_IS_SERVICE (service), NULL);
  g_return_val_if_fail (uuid != NULL, NULL);
  service_attr = bleio_service_get_local (service);
  if (service_attr == NULL)
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_ROLE,
                           "This service is a peer's: characteristics are added to local "
                           "services, made with bleio_service_new()");
      return NULL;
    }
  flags = bleio_local_characteristic_flags (properties, read_perm, write_perm, error);
  if (flags == NULL)
    return NULL;
  value = initial_value (max_length, fixed_length, initial, error);
  if (value == NULL)
    return NULL;
  adapter = bleio_client_dup_adapter (bleio_local_attr_get_client (service_attr),
                                      bleio_local_attr_get_adapter_path (service_attr));
  if (adapter == NULL)
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_NO_ADAPTER,
                           "The adapter object of this service was finalized: keep a "
                           "reference to the adapter while it serves");
      return NULL;
    }
  uuid_str = bleio_uuid_to_bluez_string (uuid);
  spec.kind = BLEIO_LOCAL_CHARACTERISTIC;
  spec.uuid = uuid_str;
  spec.flags = (const char * const *) flags->pdata;
  spec.readable = bleio_local_flags_allow (flags, FALSE);
  spec.writable = bleio_local_flags_allow (flags, TRUE);
  spec.properties = properties;
  spec.max_length = max_length;
  spec.fixed_length = fixed_length;
  spec.value = value;
  self = bleio_characteristic_new_local (service, bleio_uuid_copy (uuid), properties, max_length);
  attr = bleio_gatt_app_add (bleio_adapter_get_gatt_app (BLEIO_ADAPTER (adapter)), service_attr,
                             &spec, G_OBJECT (self), context, characteristic_written);
  bleio_characteristic_set_local (self, attr);
  bleio_local_attr_set_event_func (attr, bleio_local_events_emit);
  bleio_local_attr_unref (attr);
  if (user_description != NULL)
    {
      g_autoptr(BleioUuid) cud = bleio_uuid_new_from_uuid16 (0x2901);
      gsize len = MIN (strlen (user_description), BLEIO_CHARACTERISTIC_MAX_LENGTH);
      g_autoptr(GBytes) text = g_bytes_new (user_description, len);
      BleioLocalAttr *desc;

      /* `_bleio`: read-only, as readable as the characteristic. */
      desc = add_descriptor (self, NULL, cud,
                             read_perm == BLEIO_ATTRIBUTE_NO_ACCESS ? BLEIO_ATTRIBUTE_OPEN : read_perm,
                             BLEIO_ATTRIBUTE_NO_ACCESS, (guint) len, FALSE, text, NULL);
      bleio_local_attr_unref (desc);
    }
  return self;
}

/* ---- descriptors ------------------------------------------------------------------- */

static BleioLocalAttr *
add_descriptor (BleioCharacteristic     *characteristic,
                BleioDescriptor        **descriptor_out,
                const BleioUuid         *uuid,
                BleioAttributeSecurity   read_perm,
                BleioAttributeSecurity   write_perm,
                guint                    max_length,
                gboolean                 fixed_length,
                GBytes                  *initial,
                GError                 **error)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  g_autoptr(GPtrArray) flags = NULL;
  g_autoptr(GBytes) value = NULL;
  g_autoptr(GObject) adapter = NULL;
  g_autoptr(BleioDescriptor) self = NULL;
  g_autoptr(BleioUuid) extended = bleio_uuid_new_from_uuid16 (0x2900);
  g_autofree char *uuid_str = NULL;
  BleioLocalAttr *char_attr = bleio_characteristic_get_local (characteristic);
  BleioLocalAttrSpec spec = { 0 };
  BleioLocalAttr *attr;

  if (char_attr == NULL)
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_ROLE,
                           "This characteristic is a peer's: descriptors are added to local "
                           "characteristics, made with bleio_characteristic_add_to_service()");
      return NULL;
    }
  if (bleio_uuid_is_cccd (uuid) || bleio_uuid_equal (uuid, extended))
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                           "bluetoothd adds the CCCD (0x2902) and the Extended Properties "
                           "descriptor (0x2900) itself from the characteristic's properties");
      return NULL;
    }
  flags = bleio_local_descriptor_flags (read_perm, write_perm, error);
  if (flags == NULL)
    return NULL;
  value = initial_value (max_length, fixed_length, initial, error);
  if (value == NULL)
    return NULL;
  adapter = bleio_client_dup_adapter (bleio_local_attr_get_client (char_attr),
                                      bleio_local_attr_get_adapter_path (char_attr));
  if (adapter == NULL)
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_NO_ADAPTER,
                           "The adapter object of this characteristic was finalized: keep "
                           "a reference to the adapter while it serves");
      return NULL;
    }
  spec.readable = bleio_local_flags_allow (flags, FALSE);
  spec.writable = bleio_local_flags_allow (flags, TRUE);
  uuid_str = bleio_uuid_to_bluez_string (uuid);
  spec.kind = BLEIO_LOCAL_DESCRIPTOR;
  spec.uuid = uuid_str;
  spec.flags = (const char * const *) flags->pdata;
  spec.max_length = max_length;
  spec.fixed_length = fixed_length;
  spec.value = value;
  self = bleio_descriptor_new_local (characteristic, bleio_uuid_copy (uuid));
  attr = bleio_gatt_app_add (bleio_adapter_get_gatt_app (BLEIO_ADAPTER (adapter)), char_attr,
                             &spec, G_OBJECT (self), context, descriptor_written);
  bleio_descriptor_set_local (self, attr);
  bleio_local_attr_set_event_func (attr, bleio_local_events_emit);
  if (descriptor_out != NULL)
    *descriptor_out = g_steal_pointer (&self);
  return attr;
}

BleioDescriptor *
bleio_descriptor_add_to_characteristic (BleioCharacteristic     *characteristic,
                                        const BleioUuid         *uuid,
                                        BleioAttributeSecurity   read_perm,
                                        BleioAttributeSecurity   write_perm,
                                        guint                    max_length,
                                        gboolean                 fixed_length,
                                        GBytes                  *initial,
                                        GError                 **error)
{
  BleioDescriptor *descriptor = NULL;
  BleioLocalAttr *attr;

  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), NULL);
  g_return_val_if_fail (uuid != NULL, NULL);
  attr = add_descriptor (characteristic, &descriptor, uuid, read_perm, write_perm, max_length,
                         fixed_length, initial, error);
  if (attr == NULL)
    return NULL;
  bleio_local_attr_unref (attr);
  return descriptor;
}

/* ---- values ------------------------------------------------------------------------ */

gboolean
bleio_characteristic_get_remote (BleioCharacteristic *characteristic)
{
  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), TRUE);
  return bleio_characteristic_get_local (characteristic) == NULL;
}

GBytes *
bleio_characteristic_dup_value (BleioCharacteristic *characteristic)
{
  BleioLocalAttr *attr;

  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), NULL);
  attr = bleio_characteristic_get_local (characteristic);
  return attr != NULL ? bleio_local_attr_dup_value (attr) : NULL;
}

gboolean
bleio_characteristic_get_notifying (BleioCharacteristic *characteristic)
{
  BleioLocalAttr *attr;

  g_return_val_if_fail (BLEIO_IS_CHARACTERISTIC (characteristic), FALSE);
  attr = bleio_characteristic_get_local (characteristic);
  return attr != NULL && bleio_local_attr_get_notifying (attr);
}

gboolean
bleio_descriptor_get_remote (BleioDescriptor *descriptor)
{
  g_return_val_if_fail (BLEIO_IS_DESCRIPTOR (descriptor), TRUE);
  return bleio_descriptor_get_local (descriptor) == NULL;
}

GBytes *
bleio_descriptor_dup_value (BleioDescriptor *descriptor)
{
  BleioLocalAttr *attr;

  g_return_val_if_fail (BLEIO_IS_DESCRIPTOR (descriptor), NULL);
  attr = bleio_descriptor_get_local (descriptor);
  return attr != NULL ? bleio_local_attr_dup_value (attr) : NULL;
}

/* ---- publishing ------------------------------------------------------------------- */

static void
publish_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioAdapter *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (bleio_gatt_app_publish_finish (bleio_adapter_get_gatt_app (self), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
bleio_adapter_publish_services_async (BleioAdapter        *adapter,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  task = g_task_new (adapter, cancellable, callback, user_data);
  g_task_set_source_tag (task, BLEIO_TAG (bleio_adapter_publish_services_async));
  if (!bleio_adapter_check_usable (adapter, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  bleio_gatt_app_publish_async (bleio_adapter_get_gatt_app (adapter), cancellable, publish_done,
                                g_steal_pointer (&task));
}

gboolean
bleio_adapter_publish_services_finish (BleioAdapter  *adapter,
                                       GAsyncResult  *result,
                                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, adapter), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
bleio_adapter_publish_services (BleioAdapter  *adapter,
                                GCancellable  *cancellable,
                                GError       **error)
{
  BleioSync sync;
  gboolean ok;

  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), FALSE);
  bleio_sync_begin (&sync);
  bleio_adapter_publish_services_async (adapter, cancellable, bleio_sync_callback, &sync);
  ok = bleio_adapter_publish_services_finish (adapter, bleio_sync_wait (&sync), error);
  bleio_sync_end (&sync);
  return ok;
}
