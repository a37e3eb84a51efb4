/* SPDX-License-Identifier: MIT */
/*
 * Connection and the GATT objects: Service, Characteristic, Descriptor,
 * a peer's (from discover_remote_services()) or local ones (made in
 * local.c), the same types as in CircuitPython.
 */
#include "pybleio.h"

#define GOBJ(obj) (((PybGObject *) (obj))->gobj)
#define CONNECTION(obj) BLEIO_CONNECTION (GOBJ (obj))
#define SERVICE(obj) BLEIO_SERVICE (GOBJ (obj))
#define CHARACTERISTIC(obj) BLEIO_CHARACTERISTIC (GOBJ (obj))
#define DESCRIPTOR(obj) BLEIO_DESCRIPTOR (GOBJ (obj))
#define KW (METH_VARARGS | METH_KEYWORDS)
#define FN(f) ((PyCFunction) (void (*) (void)) (f))

static PyObject *
not_created (PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
  PyErr_Format (PyExc_TypeError, "%s objects come from the library and cannot be created",
                type->tp_name);
  return NULL;
}

static PyObject *
bytes_from_gbytes (GBytes *bytes)
{
  gsize len = 0;
  const char *data = g_bytes_get_data (bytes, &len);
  PyObject *result = PyBytes_FromStringAndSize (data != NULL ? data : "", len);

  g_bytes_unref (bytes);
  return result;
}

/* A buffer-protocol value as GBytes; NULL with a TypeError otherwise. */
static GBytes *
gbytes_from_buffer (PyObject *value, const char *what)
{
  Py_buffer view;
  GBytes *bytes;

  if (value == NULL || !PyObject_CheckBuffer (value) || PyUnicode_Check (value))
    {
      PyErr_Format (PyExc_TypeError, "%s must be bytes-like, not %s", what,
                    value != NULL ? Py_TYPE (value)->tp_name : "deleted");
      return NULL;
    }
  if (PyObject_GetBuffer (value, &view, PyBUF_SIMPLE) < 0)
    return NULL;
  bytes = g_bytes_new (view.buf, view.len);
  PyBuffer_Release (&view);
  return bytes;
}

/* ---- Connection ---- */

static PyObject *
connection_get_connected (PyObject *self, void *closure)
{
  return PyBool_FromLong (bleio_connection_get_connected (CONNECTION (self)));
}

static PyObject *
connection_get_paired (PyObject *self, void *closure)
{
  GError *error = NULL;
  gboolean paired = bleio_connection_get_paired (CONNECTION (self), &error);

  if (error != NULL)
    return pyb_raise (error);
  return PyBool_FromLong (paired);
}

static PyObject *
connection_pair (PyObject *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "bond", NULL };
  int bond = 1;
  PybWait wait;
  GError *error = NULL;
  gboolean ok, done;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "|$p:pair", kwlist, &bond))
    return NULL;
  pyb_wait_begin (&wait);
  bleio_connection_pair_async (CONNECTION (self), bond, wait.cancellable, pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  ok = bleio_connection_pair_finish (CONNECTION (self), wait.result, &error);
  pyb_wait_end (&wait);
  if (!pyb_wait_check (done, ok, error))
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *
connection_disconnect (PyObject *self, PyObject *unused)
{
  PybWait wait;
  GError *error = NULL;
  gboolean ok, done;

  pyb_wait_begin (&wait);
  bleio_connection_disconnect_async (CONNECTION (self), wait.cancellable, pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  ok = bleio_connection_disconnect_finish (CONNECTION (self), wait.result, &error);
  pyb_wait_end (&wait);
  if (!pyb_wait_check (done, ok, error))
    return NULL;
  Py_RETURN_NONE;
}

static void
free_uuid (gpointer uuid)
{
  bleio_uuid_free (uuid);
}

static PyObject *
connection_discover_remote_services (PyObject *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "service_uuids_whitelist", NULL };
  PyObject *whitelist_obj = Py_None;
  g_autoptr(GPtrArray) whitelist = NULL;
  GPtrArray *services;
  PybWait wait;
  GError *error = NULL;
  gboolean done;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "|O:discover_remote_services", kwlist,
                                    &whitelist_obj))
    return NULL;
  if (whitelist_obj != Py_None)
    {
      PyObject *iter = PyObject_GetIter (whitelist_obj), *item;

      if (iter == NULL)
        {
          PyErr_SetString (PyExc_TypeError, "service_uuids_whitelist must be an iterable of UUID");
          return NULL;
        }
      whitelist = g_ptr_array_new_with_free_func (free_uuid);
      while ((item = PyIter_Next (iter)) != NULL)
        {
          const BleioUuid *uuid = pyb_uuid_get (item);
          Py_DECREF (item);
          if (uuid == NULL)
            {
              Py_DECREF (iter);
              return NULL;
            }
          g_ptr_array_add (whitelist, bleio_uuid_copy (uuid));
        }
      Py_DECREF (iter);
      if (PyErr_Occurred ())
        return NULL;
    }
  pyb_wait_begin (&wait);
  bleio_connection_discover_remote_services_async (CONNECTION (self), whitelist, 0,
                                                   wait.cancellable, pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  services = bleio_connection_discover_remote_services_finish (CONNECTION (self), wait.result,
                                                               &error);
  pyb_wait_end (&wait);
  if (!done)
    {
      g_clear_error (&error);
      g_clear_pointer (&services, g_ptr_array_unref);
      return NULL;
    }
  if (services == NULL)
    return pyb_raise (error);
  return pyb_wrap_array (&pyb_ServiceType, services);
}

static PyObject *
connection_get_connection_interval (PyObject *self, void *closure)
{
  GError *error = NULL;
  double interval = 0;

  if (!bleio_connection_get_connection_interval (CONNECTION (self), &interval, &error))
    return pyb_raise (error);
  return PyFloat_FromDouble (interval);
}

static int
connection_set_connection_interval (PyObject *self, PyObject *value, void *closure)
{
  GError *error = NULL;
  double interval;
  gboolean ok;

  if (value == NULL)
    {
      PyErr_SetString (PyExc_TypeError, "connection_interval cannot be deleted");
      return -1;
    }
  if (PyBool_Check (value) || !(PyFloat_Check (value) || PyLong_Check (value)))
    {
      PyErr_Format (PyExc_TypeError, "connection_interval must be a number of milliseconds, not %s",
                    Py_TYPE (value)->tp_name);
      return -1;
    }
  interval = PyFloat_AsDouble (value);
  Py_BEGIN_ALLOW_THREADS
  ok = bleio_connection_set_connection_interval (CONNECTION (self), interval, &error);
  Py_END_ALLOW_THREADS
  if (!ok)
    {
      pyb_raise (error);
      return -1;
    }
  return 0;
}

static PyObject *
connection_get_max_packet_length (PyObject *self, void *closure)
{
  GError *error = NULL;
  guint length = bleio_connection_get_max_packet_length (CONNECTION (self), &error);

  if (error != NULL)
    return pyb_raise (error);
  return PyLong_FromUnsignedLong (length);
}

static PyObject *
connection_repr (PyObject *self)
{
  g_autofree char *address = bleio_address_to_string (bleio_connection_get_address (CONNECTION (self)));

  return PyUnicode_FromFormat ("<Connection %s%s>", address,
                               bleio_connection_get_connected (CONNECTION (self)) ? "" : " (disconnected)");
}

static PyGetSetDef connection_getset[] = {
  { "connected", connection_get_connected, NULL, "True while the link is up.", NULL },
  { "paired", connection_get_paired, NULL, "True when paired to the peer.", NULL },
  { "connection_interval", connection_get_connection_interval, connection_set_connection_interval,
    "Time between transmissions in milliseconds (BlueZ offers no D-Bus API for it).", NULL },
  { "max_packet_length", connection_get_max_packet_length, NULL,
    "The longest packet that fits: ATT MTU - 3.", NULL },
  { NULL }
};

static PyMethodDef connection_methods[] = {
  { "pair", FN (connection_pair), KW,
    "pair(*, bond=True)\n--\n\nPair to the peer (bond=False cannot be done through BlueZ)." },
  { "disconnect", connection_disconnect, METH_NOARGS,
    "disconnect()\n--\n\nDisconnect; nothing happens when already disconnected." },
  { "discover_remote_services", FN (connection_discover_remote_services), KW,
    "discover_remote_services(service_uuids_whitelist=None)\n--\n\n"
    "The peer's services, in handle order; only those whose UUID is in the whitelist "
    "when one is given." },
  { NULL }
};

PyTypeObject pyb_ConnectionType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "_bleio.Connection",
  .tp_basicsize = sizeof (PybGObject),
  .tp_weaklistoffset = offsetof (PybGObject, weakrefs),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "A BLE link to a peer; made by Adapter.connect().",
  .tp_new = not_created,
  .tp_dealloc = pyb_gobject_dealloc,
  .tp_repr = connection_repr,
  .tp_getset = connection_getset,
  .tp_methods = connection_methods,
};

/* ---- Service ---- */

static PyObject *
service_get_uuid (PyObject *self, void *closure)
{
  return pyb_uuid_new (bleio_service_get_uuid (SERVICE (self)));
}

static PyObject *
service_get_characteristics (PyObject *self, void *closure)
{
  return pyb_wrap_array (&pyb_CharacteristicType, bleio_service_dup_characteristics (SERVICE (self)));
}

static PyObject *
service_get_remote (PyObject *self, void *closure)
{
  return PyBool_FromLong (bleio_service_get_remote (SERVICE (self)));
}

static PyObject *
service_get_secondary (PyObject *self, void *closure)
{
  return PyBool_FromLong (bleio_service_get_secondary (SERVICE (self)));
}

static PyObject *
service_get_connection (PyObject *self, void *closure)
{
  return pyb_wrap (&pyb_ConnectionType, bleio_service_get_connection (SERVICE (self)));
}

static PyObject *
service_repr (PyObject *self)
{
  PyObject *uuid = service_get_uuid (self, NULL), *repr;

  if (uuid == NULL)
    return NULL;
  repr = PyUnicode_FromFormat ("<Service %R>", uuid);
  Py_DECREF (uuid);
  return repr;
}

static PyGetSetDef service_getset[] = {
  { "uuid", service_get_uuid, NULL, "The service's UUID.", NULL },
  { "characteristics", service_get_characteristics, NULL,
    "Tuple of the service's Characteristic, in handle order.", NULL },
  { "remote", service_get_remote, NULL, "True for a service of a peer.", NULL },
  { "secondary", service_get_secondary, NULL, "True for a secondary service.", NULL },
  { "connection", service_get_connection, NULL, "The Connection of a remote service.", NULL },
  { NULL }
};

PyTypeObject pyb_ServiceType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "_bleio.Service",
  .tp_basicsize = sizeof (PybGObject),
  .tp_weaklistoffset = offsetof (PybGObject, weakrefs),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "Service(uuid, *, secondary=False)\n--\n\nA GATT service. Remote ones come from "
            "Connection.discover_remote_services(); Service(uuid) makes a local one on "
            "_bleio.adapter, registered with bluetoothd by the adapter's next "
            "start_advertising().",
  .tp_new = pyb_service_new_local,
  .tp_dealloc = pyb_gobject_dealloc,
  .tp_repr = service_repr,
  .tp_getset = service_getset,
};

/* ---- Characteristic ---- */

static PyObject *
characteristic_get_uuid (PyObject *self, void *closure)
{
  return pyb_uuid_new (bleio_characteristic_get_uuid (CHARACTERISTIC (self)));
}

static PyObject *
characteristic_get_properties (PyObject *self, void *closure)
{
  return PyLong_FromLong (bleio_characteristic_get_properties (CHARACTERISTIC (self)));
}

static PyObject *
characteristic_get_max_length (PyObject *self, void *closure)
{
  return PyLong_FromUnsignedLong (bleio_characteristic_get_max_length (CHARACTERISTIC (self)));
}

static PyObject *
characteristic_get_service (PyObject *self, void *closure)
{
  return pyb_wrap (&pyb_ServiceType, bleio_characteristic_get_service (CHARACTERISTIC (self)));
}

static PyObject *
characteristic_get_descriptors (PyObject *self, void *closure)
{
  return pyb_wrap_array (&pyb_DescriptorType, bleio_characteristic_dup_descriptors (CHARACTERISTIC (self)));
}

static PyObject *
characteristic_get_value (PyObject *self, void *closure)
{
  PybWait wait;
  GError *error = NULL;
  GBytes *value;
  gboolean done;

  /* A local characteristic's value is held here: no one to wait for. */
  if (!bleio_characteristic_get_remote (CHARACTERISTIC (self)))
    return bytes_from_gbytes (bleio_characteristic_dup_value (CHARACTERISTIC (self)));
  pyb_wait_begin (&wait);
  bleio_characteristic_read_value_async (CHARACTERISTIC (self), wait.cancellable,
                                         pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  value = bleio_characteristic_read_value_finish (CHARACTERISTIC (self), wait.result, &error);
  pyb_wait_end (&wait);
  if (!pyb_wait_check (done, value != NULL, error))
    {
      g_clear_pointer (&value, g_bytes_unref);
      return NULL;
    }
  return bytes_from_gbytes (value);
}

static int
characteristic_set_value (PyObject *self, PyObject *value, void *closure)
{
  g_autoptr(GBytes) bytes = gbytes_from_buffer (value, "value");
  PybWait wait;
  GError *error = NULL;
  gboolean ok, done;

  if (bytes == NULL)
    return -1;
  pyb_wait_begin (&wait);
  bleio_characteristic_write_value_async (CHARACTERISTIC (self), bytes, wait.cancellable,
                                          pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  ok = bleio_characteristic_write_value_finish (CHARACTERISTIC (self), wait.result, &error);
  pyb_wait_end (&wait);
  return pyb_wait_check (done, ok, error) ? 0 : -1;
}

static PyObject *
characteristic_set_cccd (PyObject *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "notify", "indicate", NULL };
  int notify = 0, indicate = 0;
  PybWait wait;
  GError *error = NULL;
  gboolean ok, done;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "|$pp:set_cccd", kwlist, &notify, &indicate))
    return NULL;
  pyb_wait_begin (&wait);
  bleio_characteristic_set_cccd_async (CHARACTERISTIC (self), notify, indicate, wait.cancellable,
                                       pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  ok = bleio_characteristic_set_cccd_finish (CHARACTERISTIC (self), wait.result, &error);
  pyb_wait_end (&wait);
  if (!pyb_wait_check (done, ok, error))
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *
characteristic_repr (PyObject *self)
{
  PyObject *uuid = characteristic_get_uuid (self, NULL), *repr;

  if (uuid == NULL)
    return NULL;
  repr = PyUnicode_FromFormat ("<Characteristic %R>", uuid);
  Py_DECREF (uuid);
  return repr;
}

static PyGetSetDef characteristic_getset[] = {
  { "uuid", characteristic_get_uuid, NULL, "The characteristic's UUID.", NULL },
  { "properties", characteristic_get_properties, NULL,
    "The property bits (BROADCAST, READ, WRITE, WRITE_NO_RESPONSE, NOTIFY, INDICATE).", NULL },
  { "max_length", characteristic_get_max_length, NULL, "The longest value, in bytes.", NULL },
  { "service", characteristic_get_service, NULL, "The Service it belongs to.", NULL },
  { "descriptors", characteristic_get_descriptors, NULL, "Tuple of its Descriptor.", NULL },
  { "value", characteristic_get_value, characteristic_set_value,
    "A peer's: reading reads it from the peer; setting writes it (without response when "
    "the characteristic allows that). A local one's: the value clients read; setting it "
    "notifies or indicates every subscribed client.", NULL },
  { NULL }
};

static PyMethodDef characteristic_methods[] = {
  { "add_to_service", FN (pyb_characteristic_add_to_service), KW | METH_CLASS,
    "add_to_service(service, uuid, *, properties=0, read_perm=Attribute.OPEN, "
    "write_perm=Attribute.OPEN, max_length=20, fixed_length=False, initial_value=None, "
    "user_description=None)\n--\n\nA new local characteristic in a local service." },
  { "set_cccd", FN (characteristic_set_cccd), KW,
    "set_cccd(*, notify=False, indicate=False)\n--\n\nWrite the peer's CCCD of this characteristic." },
  { NULL }
};

PyTypeObject pyb_CharacteristicType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "_bleio.Characteristic",
  .tp_basicsize = sizeof (PybGObject),
  .tp_weaklistoffset = offsetof (PybGObject, weakrefs),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "A GATT characteristic of a Service.",
  .tp_new = not_created,
  .tp_dealloc = pyb_gobject_dealloc,
  .tp_repr = characteristic_repr,
  .tp_getset = characteristic_getset,
  .tp_methods = characteristic_methods,
};

/* ---- Descriptor ---- */

static PyObject *
descriptor_get_uuid (PyObject *self, void *closure)
{
  return pyb_uuid_new (bleio_descriptor_get_uuid (DESCRIPTOR (self)));
}

static PyObject *
descriptor_get_characteristic (PyObject *self, void *closure)
{
  return pyb_wrap (&pyb_CharacteristicType, bleio_descriptor_get_characteristic (DESCRIPTOR (self)));
}

static PyObject *
descriptor_get_value (PyObject *self, void *closure)
{
  PybWait wait;
  GError *error = NULL;
  GBytes *value;
  gboolean done;

  if (!bleio_descriptor_get_remote (DESCRIPTOR (self)))
    return bytes_from_gbytes (bleio_descriptor_dup_value (DESCRIPTOR (self)));
  pyb_wait_begin (&wait);
  bleio_descriptor_read_value_async (DESCRIPTOR (self), wait.cancellable, pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  value = bleio_descriptor_read_value_finish (DESCRIPTOR (self), wait.result, &error);
  pyb_wait_end (&wait);
  if (!pyb_wait_check (done, value != NULL, error))
    {
      g_clear_pointer (&value, g_bytes_unref);
      return NULL;
    }
  return bytes_from_gbytes (value);
}

static int
descriptor_set_value (PyObject *self, PyObject *value, void *closure)
{
  g_autoptr(GBytes) bytes = gbytes_from_buffer (value, "value");
  PybWait wait;
  GError *error = NULL;
  gboolean ok, done;

  if (bytes == NULL)
    return -1;
  pyb_wait_begin (&wait);
  bleio_descriptor_write_value_async (DESCRIPTOR (self), bytes, wait.cancellable,
                                      pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  ok = bleio_descriptor_write_value_finish (DESCRIPTOR (self), wait.result, &error);
  pyb_wait_end (&wait);
  return pyb_wait_check (done, ok, error) ? 0 : -1;
}

static PyObject *
descriptor_repr (PyObject *self)
{
  PyObject *uuid = descriptor_get_uuid (self, NULL), *repr;

  if (uuid == NULL)
    return NULL;
  repr = PyUnicode_FromFormat ("<Descriptor %R>", uuid);
  Py_DECREF (uuid);
  return repr;
}

static PyGetSetDef descriptor_getset[] = {
  { "uuid", descriptor_get_uuid, NULL, "The descriptor's UUID.", NULL },
  { "characteristic", descriptor_get_characteristic, NULL, "The Characteristic it belongs to.", NULL },
  { "value", descriptor_get_value, descriptor_set_value,
    "A peer's: reading reads it from the peer; setting writes it. A local one's: the "
    "value clients read.", NULL },
  { NULL }
};

static PyMethodDef descriptor_methods[] = {
  { "add_to_characteristic", FN (pyb_descriptor_add_to_characteristic), KW | METH_CLASS,
    "add_to_characteristic(characteristic, uuid, *, read_perm=Attribute.OPEN, "
    "write_perm=Attribute.OPEN, max_length=20, fixed_length=False, initial_value=b'')\n--\n\n"
    "A new local descriptor of a local characteristic." },
  { NULL }
};

PyTypeObject pyb_DescriptorType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "_bleio.Descriptor",
  .tp_basicsize = sizeof (PybGObject),
  .tp_weaklistoffset = offsetof (PybGObject, weakrefs),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "A GATT descriptor of a Characteristic.",
  .tp_new = not_created,
  .tp_dealloc = pyb_gobject_dealloc,
  .tp_repr = descriptor_repr,
  .tp_getset = descriptor_getset,
  .tp_methods = descriptor_methods,
};

int
pyb_gatt_init (PyObject *module)
{
  static const struct { const char *name; long value; } props[] = {
    { "BROADCAST", BLEIO_CHARACTERISTIC_PROPERTY_BROADCAST },
    { "READ", BLEIO_CHARACTERISTIC_PROPERTY_READ },
    { "WRITE", BLEIO_CHARACTERISTIC_PROPERTY_WRITE },
    { "WRITE_NO_RESPONSE", BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE },
    { "NOTIFY", BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY },
    { "INDICATE", BLEIO_CHARACTERISTIC_PROPERTY_INDICATE },
  };

  if (pyb_add_type (module, &pyb_ConnectionType, "Connection") < 0 ||
      pyb_add_type (module, &pyb_ServiceType, "Service") < 0 ||
      pyb_add_type (module, &pyb_CharacteristicType, "Characteristic") < 0 ||
      pyb_add_type (module, &pyb_DescriptorType, "Descriptor") < 0)
    return -1;
  for (gsize i = 0; i < G_N_ELEMENTS (props); i++)
    if (pyb_add_int_constant (&pyb_CharacteristicType, props[i].name, props[i].value) < 0)
      return -1;
  PyType_Modified (&pyb_CharacteristicType);
  return 0;
}
