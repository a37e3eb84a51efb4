/* SPDX-License-Identifier: MIT */
/* BleioService: a peer's GATT service, as discovered, or a local one. */
#include "bleio-service-private.h"
#include "bleio-gatt-private.h"

struct _BleioService {
  GObject parent_instance;

  BleioConnection *connection;
  char *path;
  BleioUuid *uuid;
  guint16 handle;
  gboolean primary;
  guint incarnation;            /* of path when discovered */
  BleioGattChildren characteristics;
  BleioLocalAttr *local;        /* a local service's; NULL for a peer's */
};

G_DEFINE_FINAL_TYPE (BleioService, bleio_service, G_TYPE_OBJECT)

static void
bleio_service_finalize (GObject *object)
{
  BleioService *self = BLEIO_SERVICE (object);

  g_clear_object (&self->connection);
  g_clear_pointer (&self->local, bleio_local_attr_unref);
  g_clear_pointer (&self->uuid, bleio_uuid_free);
  g_free (self->path);
  bleio_gatt_children_clear (&self->characteristics);
  G_OBJECT_CLASS (bleio_service_parent_class)->finalize (object);
}

static void
bleio_service_class_init (BleioServiceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bleio_service_finalize;
}

static void
bleio_service_init (BleioService *self)
{
  bleio_gatt_children_init (&self->characteristics);
}

BleioService *
bleio_service_new_remote (BleioConnection *connection,
                   const char      *path,
                   BleioUuid       *uuid,
                   gboolean         primary)
{
  BleioService *self = g_object_new (BLEIO_TYPE_SERVICE, NULL);

  self->connection = g_object_ref (connection);
  self->path = g_strdup (path);
  self->uuid = uuid;
  self->handle = bleio_gatt_handle (bleio_connection_get_client (connection), path,
                                    BLEIO_IFACE_SERVICE, "service");
  self->primary = primary;
  self->incarnation = bleio_client_get_incarnation (bleio_connection_get_client (connection), path);
  return self;
}

BleioService *
bleio_service_new_local (BleioUuid *uuid,
                         gboolean   primary)
{
  BleioService *self = g_object_new (BLEIO_TYPE_SERVICE, NULL);

  self->uuid = uuid;
  self->primary = primary;
  return self;
}

void
bleio_service_set_local (BleioService   *service,
                         BleioLocalAttr *attr)
{
  service->local = bleio_local_attr_ref (attr);
  service->path = g_strdup (bleio_local_attr_get_path (attr));
}

BleioLocalAttr *
bleio_service_get_local (BleioService *service)
{
  return service->local;
}

const BleioUuid *
bleio_service_get_uuid (BleioService *service)
{
  g_return_val_if_fail (BLEIO_IS_SERVICE (service), NULL);
  return service->uuid;
}

guint16
bleio_service_get_handle (BleioService *service)
{
  g_return_val_if_fail (BLEIO_IS_SERVICE (service), 0);
  return service->handle;
}

gboolean
bleio_service_get_secondary (BleioService *service)
{
  g_return_val_if_fail (BLEIO_IS_SERVICE (service), FALSE);
  return !service->primary;
}

gboolean
bleio_service_get_remote (BleioService *service)
{
  g_return_val_if_fail (BLEIO_IS_SERVICE (service), FALSE);
  return service->local == NULL;
}

BleioConnection *
bleio_service_get_connection (BleioService *service)
{
  g_return_val_if_fail (BLEIO_IS_SERVICE (service), NULL);
  return service->connection;
}

const char *
bleio_service_get_object_path (BleioService *service)
{
  g_return_val_if_fail (BLEIO_IS_SERVICE (service), NULL);
  return service->path;
}

guint
bleio_service_get_incarnation (BleioService *service)
{
  return service->incarnation;
}

BleioGattChildren *
bleio_service_get_characteristic_children (BleioService *service)
{
  return &service->characteristics;
}
