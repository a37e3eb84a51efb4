/* SPDX-License-Identifier: MIT */
/*
 * The org.bluez.LEAdvertisement1 object bluetoothd reads an advertisement
 * from. bluetoothd's gdbus client asks for GetManagedObjects on the path
 * (GDBus answers UnknownMethod) and then GetAll; an unset property is left
 * out, as bluetoothd expects of the optional ones.
 */
#include "bleio-advertisement-private.h"
#include "bleio-private.h"

#include <unistd.h>

#define IFACE_ADVERTISEMENT "org.bluez.LEAdvertisement1"

struct _BleioAdvertisement {
  BleioClient *client;
  char *path;
  guint registration_id;
  BleioAdvertisementHooks hooks;
  gpointer user_data;
  GDestroyNotify destroy;
};

static guint advertisement_serial;

static const char advertisement_xml[] =
  "<node><interface name='" IFACE_ADVERTISEMENT "'>"
  "<method name='Release'/>"
  "<property name='Type' type='s' access='read'/>"
  "<property name='ServiceUUIDs' type='as' access='read'/>"
  "<property name='SolicitUUIDs' type='as' access='read'/>"
  "<property name='ManufacturerData' type='a{qv}' access='read'/>"
  "<property name='ServiceData' type='a{sv}' access='read'/>"
  "<property name='Data' type='a{yv}' access='read'/>"
  "<property name='Discoverable' type='b' access='read'/>"
  "<property name='Includes' type='as' access='read'/>"
  "<property name='LocalName' type='s' access='read'/>"
  "<property name='Appearance' type='q' access='read'/>"
  "<property name='Timeout' type='q' access='read'/>"
  "<property name='SecondaryChannel' type='s' access='read'/>"
  "<property name='MinInterval' type='u' access='read'/>"
  "<property name='MaxInterval' type='u' access='read'/>"
  "<property name='TxPower' type='n' access='read'/>"
  "</interface></node>";

static GDBusInterfaceInfo *
advertisement_info (void)
{
  static gsize info;

  if (g_once_init_enter (&info))
    {
      GDBusNodeInfo *node = g_dbus_node_info_new_for_xml (advertisement_xml, NULL);
      GDBusInterfaceInfo *iface = g_dbus_interface_info_ref (node->interfaces[0]);

      /* Kept for the life of the process, as generated interface info is. */
      g_dbus_node_info_unref (node);
      g_once_init_leave (&info, (gsize) iface);
    }
  return (GDBusInterfaceInfo *) info;
}

/* GDBus's free function of the registration: no call runs any more. */
static void
advertisement_destroy (gpointer data)
{
  BleioAdvertisement *self = data;

  if (self->destroy != NULL)
    self->destroy (self->user_data);
  bleio_client_unref (self->client);
  g_free (self->path);
  g_free (self);
}

static void
method_call (GDBusConnection       *connection,
             const char            *sender,
             const char            *object_path,
             const char            *interface_name,
             const char            *method_name,
             GVariant              *parameters,
             GDBusMethodInvocation *invocation,
             gpointer               user_data)
{
  BleioAdvertisement *self = user_data;

  /* Anyone else on the bus could otherwise end the advertisement. */
  if (!bleio_client_check_caller_is_bluez (self->client, sender, invocation,
                                           "Only org.bluez may release this advertisement"))
    return;
  self->hooks.released (self->user_data);
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static GVariant *
get_property (GDBusConnection  *connection,
              const char       *sender,
              const char       *object_path,
              const char       *interface_name,
              const char       *property_name,
              GError          **error,
              gpointer          user_data)
{
  BleioAdvertisement *self = user_data;
  g_autoptr(GVariant) props = self->hooks.dup_properties (self->user_data);
  GVariant *value = NULL;

  if (props != NULL)
    value = g_variant_lookup_value (props, property_name, NULL);
  if (value == NULL)
    g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                 "%s is not set on this advertisement", property_name);
  return value;
}

static const GDBusInterfaceVTable vtable = {
  method_call, get_property, NULL, { 0 },
};

typedef struct {
  BleioAdvertisement *advertisement;
  GMutex lock;
  GCond cond;
  gboolean done;
  GError *error;
} Export;

/* On the worker: GDBus dispatches calls to an object in the context of
 * the thread that registered it, and the worker never blocks. */
static gboolean
export_cb (gpointer data)
{
  Export *export = data;
  BleioAdvertisement *self = export->advertisement;
  GError *error = NULL;
  guint id;

  id = g_dbus_connection_register_object (bleio_client_get_connection (self->client),
                                          self->path, advertisement_info (), &vtable,
                                          self, advertisement_destroy, &error);
  g_mutex_lock (&export->lock);
  self->registration_id = id;
  export->error = error;
  export->done = TRUE;
  g_cond_signal (&export->cond);
  g_mutex_unlock (&export->lock);
  return G_SOURCE_REMOVE;
}

BleioAdvertisement *
bleio_advertisement_new (BleioClient                   *client,
                         const BleioAdvertisementHooks *hooks,
                         gpointer                       user_data,
                         GDestroyNotify                 destroy,
                         GError                       **error)
{
  BleioAdvertisement *self = g_new0 (BleioAdvertisement, 1);
  Export export = { self, { 0 }, { 0 }, FALSE, NULL };

  self->client = bleio_client_ref (client);
  self->path = g_strdup_printf ("/org/bleio/advertisement/p%d_%u", (int) getpid (),
                                g_atomic_int_add (&advertisement_serial, 1));
  self->hooks = *hooks;
  self->user_data = user_data;
  self->destroy = destroy;
  g_mutex_init (&export.lock);
  g_cond_init (&export.cond);
  g_main_context_invoke (bleio_client_get_worker_context (client), export_cb, &export);
  g_mutex_lock (&export.lock);
  while (!export.done)
    g_cond_wait (&export.cond, &export.lock);
  g_mutex_unlock (&export.lock);
  g_mutex_clear (&export.lock);
  g_cond_clear (&export.cond);
  if (self->registration_id == 0)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_BLUETOOTH,
                   "The advertisement could not be exported on the bus: %s",
                   export.error->message);
      g_error_free (export.error);
      advertisement_destroy (self);
      return NULL;
    }
  return self;
}

const char *
bleio_advertisement_get_path (BleioAdvertisement *self)
{
  return self->path;
}

void
bleio_advertisement_free (BleioAdvertisement *self)
{
  if (self == NULL)
    return;
  /* GDBus calls advertisement_destroy() once no call to it runs. */
  g_dbus_connection_unregister_object (bleio_client_get_connection (self->client),
                                       self->registration_id);
}
