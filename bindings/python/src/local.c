/* SPDX-License-Identifier: MIT */
/*
 * The peripheral role's local GATT server: `Service(uuid)`,
 * `Characteristic.add_to_service()`, `Descriptor.add_to_characteristic()`,
 * and publishing an adapter's services before it advertises.
 *
 * CircuitPython's `Service(uuid)` takes no adapter: a board has one, and
 * its GATT table is live as soon as a service is added. Here the service
 * goes to the module's `adapter` (set_adapter() chooses another), and the
 * adapter's services are registered with bluetoothd by the first
 * start_advertising() that follows them (adafruit_ble makes its services,
 * then advertises); the library registers again by itself for what is
 * added later. Registering at each Service() instead would have bluetoothd
 * read the whole tree once per attribute while a program sets up.
 */
#include "pybleio.h"

#define GOBJ(obj) (((PybGObject *) (obj))->gobj)

/* The adapters that have local services. The library keeps an adapter's
 * services only while its adapter object lives, and `_bleio` has no way
 * to remove a service: a program that switches adapters with
 * set_adapter() keeps serving on the old one, as a board would. */
static PyObject *serving;

static int
keep_serving (PyObject *adapter)
{
  int found;

  if (serving == NULL && (serving = PyList_New (0)) == NULL)
    return -1;
  found = PySequence_Contains (serving, adapter);
  if (found < 0)
    return -1;
  return found ? 0 : PyList_Append (serving, adapter);
}

/* The module's `adapter` (new reference), or NULL with BluetoothError when
 * there is none. */
static PyObject *
module_adapter (void)
{
  PyObject *module = PyImport_ImportModule ("_bleio"), *adapter;

  if (module == NULL)
    return NULL;
  adapter = PyObject_GetAttrString (module, "adapter");
  Py_DECREF (module);
  if (adapter == NULL)
    return NULL;
  if (!PyObject_TypeCheck (adapter, &pyb_AdapterType))
    {
      Py_DECREF (adapter);
      PyErr_SetString (pyb_BluetoothError,
                       "No adapter: _bleio.adapter is None (is bluetoothd running? "
                       "set_adapter() chooses one)");
      return NULL;
    }
  return adapter;
}

/* A mode of Attribute, as the library's enum; -1 with ValueError else. */
static int
security_mode (int value, const char *what, BleioAttributeSecurity *out)
{
  switch (value)
    {
    case BLEIO_ATTRIBUTE_NO_ACCESS:
    case BLEIO_ATTRIBUTE_OPEN:
    case BLEIO_ATTRIBUTE_ENCRYPT_NO_MITM:
    case BLEIO_ATTRIBUTE_ENCRYPT_WITH_MITM:
    case BLEIO_ATTRIBUTE_LESC_ENCRYPT_WITH_MITM:
    case BLEIO_ATTRIBUTE_SIGNED_NO_MITM:
    case BLEIO_ATTRIBUTE_SIGNED_WITH_MITM:
      *out = (BleioAttributeSecurity) value;
      return 0;
    default:
      /* CircuitPython's message for a mode that is not one of Attribute's. */
      PyErr_Format (PyExc_ValueError, "Invalid security_mode (%s)", what);
      return -1;
    }
}

/* CircuitPython's range checks of max_length, with its message. */
static int
check_max_length (int max_length)
{
  if (max_length < 0 || max_length > BLEIO_CHARACTERISTIC_MAX_LENGTH)
    {
      PyErr_Format (PyExc_ValueError, "max_length must be 0-%d", BLEIO_CHARACTERISTIC_MAX_LENGTH);
      return -1;
    }
  return 0;
}

/* An optional buffer-protocol argument as GBytes (*out NULL for None). */
static int
optional_buffer (PyObject *obj, const char *what, GBytes **out)
{
  Py_buffer view;

  *out = NULL;
  if (obj == NULL || obj == Py_None)
    return 0;
  if (PyUnicode_Check (obj) || !PyObject_CheckBuffer (obj))
    {
      PyErr_Format (PyExc_TypeError, "%s must be bytes-like, not %s", what, Py_TYPE (obj)->tp_name);
      return -1;
    }
  if (PyObject_GetBuffer (obj, &view, PyBUF_SIMPLE) < 0)
    return -1;
  *out = g_bytes_new (view.buf, view.len);
  PyBuffer_Release (&view);
  return 0;
}

PyObject *
pyb_service_new_local (PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "uuid", "secondary", NULL };
  PyObject *uuid_obj, *adapter, *result;
  const BleioUuid *uuid;
  int secondary = 0;
  BleioService *service;
  GError *error = NULL;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "O|$p:Service", kwlist, &uuid_obj, &secondary))
    return NULL;
  uuid = pyb_uuid_get (uuid_obj);
  if (uuid == NULL)
    return NULL;
  adapter = module_adapter ();
  if (adapter == NULL)
    return NULL;
  service = bleio_service_new (BLEIO_ADAPTER (GOBJ (adapter)), uuid, secondary, &error);
  if (service == NULL || keep_serving (adapter) < 0)
    {
      Py_DECREF (adapter);
      g_clear_object (&service);
      return error != NULL ? pyb_raise (error) : NULL;
    }
  Py_DECREF (adapter);
  result = pyb_wrap (type, service);
  g_object_unref (service);
  return result;
}

PyObject *
pyb_characteristic_add_to_service (PyObject *cls, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "service", "uuid", "properties", "read_perm", "write_perm",
                            "max_length", "fixed_length", "initial_value",
                            "user_description", NULL };
  PyObject *service_obj, *uuid_obj, *initial_obj = Py_None, *description_obj = Py_None, *result;
  int properties = 0, read_perm = BLEIO_ATTRIBUTE_OPEN, write_perm = BLEIO_ATTRIBUTE_OPEN;
  int max_length = BLEIO_LOCAL_DEFAULT_MAX_LENGTH, fixed = 0;
  BleioAttributeSecurity read_mode, write_mode;
  const BleioUuid *uuid;
  const char *description = NULL;
  g_autoptr(GBytes) initial = NULL;
  BleioCharacteristic *characteristic;
  GError *error = NULL;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "OO|$iiiipOO:add_to_service", kwlist,
                                    &service_obj, &uuid_obj, &properties, &read_perm,
                                    &write_perm, &max_length, &fixed, &initial_obj,
                                    &description_obj))
    return NULL;
  if (!PyObject_TypeCheck (service_obj, &pyb_ServiceType))
    {
      PyErr_Format (PyExc_TypeError, "service must be a Service, not %s",
                    Py_TYPE (service_obj)->tp_name);
      return NULL;
    }
  uuid = pyb_uuid_get (uuid_obj);
  if (uuid == NULL)
    return NULL;
  /* CircuitPython's check and message: only the six bits it names. */
  if ((properties & ~0x3f) != 0)
    {
      PyErr_SetString (PyExc_ValueError, "Invalid properties");
      return NULL;
    }
  if (security_mode (read_perm, "read_perm", &read_mode) < 0 ||
      security_mode (write_perm, "write_perm", &write_mode) < 0 ||
      check_max_length (max_length) < 0 ||
      optional_buffer (initial_obj, "initial_value", &initial) < 0)
    return NULL;
  if (description_obj != Py_None)
    {
      if (!PyUnicode_Check (description_obj))
        {
          PyErr_Format (PyExc_TypeError, "user_description must be a str, not %s",
                        Py_TYPE (description_obj)->tp_name);
          return NULL;
        }
      description = PyUnicode_AsUTF8 (description_obj);
      if (description == NULL)
        return NULL;
    }
  if (bleio_service_get_remote (BLEIO_SERVICE (GOBJ (service_obj))))
    {
      PyErr_SetString (pyb_RoleError,
                       "Characteristics are added to local services only: this Service "
                       "is a peer's (make one with _bleio.Service(uuid))");
      return NULL;
    }
  characteristic = bleio_characteristic_add_to_service (BLEIO_SERVICE (GOBJ (service_obj)), uuid,
                                                        properties, read_mode, write_mode,
                                                        max_length, fixed, initial,
                                                        description, &error);
  if (characteristic == NULL)
    return pyb_raise (error);
  result = pyb_wrap (&pyb_CharacteristicType, characteristic);
  g_object_unref (characteristic);
  return result;
}

PyObject *
pyb_descriptor_add_to_characteristic (PyObject *cls, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "characteristic", "uuid", "read_perm", "write_perm", "max_length",
                            "fixed_length", "initial_value", NULL };
  PyObject *char_obj, *uuid_obj, *initial_obj = NULL, *result;
  int read_perm = BLEIO_ATTRIBUTE_OPEN, write_perm = BLEIO_ATTRIBUTE_OPEN;
  int max_length = BLEIO_LOCAL_DEFAULT_MAX_LENGTH, fixed = 0;
  BleioAttributeSecurity read_mode, write_mode;
  const BleioUuid *uuid;
  g_autoptr(GBytes) initial = NULL;
  BleioDescriptor *descriptor;
  GError *error = NULL;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "OO|$iiipO:add_to_characteristic", kwlist,
                                    &char_obj, &uuid_obj, &read_perm, &write_perm,
                                    &max_length, &fixed, &initial_obj))
    return NULL;
  if (!PyObject_TypeCheck (char_obj, &pyb_CharacteristicType))
    {
      PyErr_Format (PyExc_TypeError, "characteristic must be a Characteristic, not %s",
                    Py_TYPE (char_obj)->tp_name);
      return NULL;
    }
  uuid = pyb_uuid_get (uuid_obj);
  if (uuid == NULL)
    return NULL;
  if (security_mode (read_perm, "read_perm", &read_mode) < 0 ||
      security_mode (write_perm, "write_perm", &write_mode) < 0 ||
      check_max_length (max_length) < 0 ||
      optional_buffer (initial_obj, "initial_value", &initial) < 0)
    return NULL;
  /* CircuitPython's default initial value is b"": empty, or zeros when
   * the length is fixed, which is what the library makes of NULL. */
  if (initial != NULL && g_bytes_get_size (initial) == 0)
    g_clear_pointer (&initial, g_bytes_unref);
  if (bleio_characteristic_get_remote (BLEIO_CHARACTERISTIC (GOBJ (char_obj))))
    {
      PyErr_SetString (pyb_RoleError,
                       "Descriptors are added to local characteristics only: this "
                       "Characteristic is a peer's");
      return NULL;
    }
  descriptor = bleio_descriptor_add_to_characteristic (BLEIO_CHARACTERISTIC (GOBJ (char_obj)),
                                                       uuid, read_mode, write_mode, max_length,
                                                       fixed, initial, &error);
  if (descriptor == NULL)
    return pyb_raise (error);
  result = pyb_wrap (&pyb_DescriptorType, descriptor);
  g_object_unref (descriptor);
  return result;
}

int
pyb_publish_services (PyObject *adapter_obj)
{
  BleioAdapter *adapter = BLEIO_ADAPTER (GOBJ (adapter_obj));
  g_autoptr(GPtrArray) services = bleio_adapter_dup_services (adapter);
  PybWait wait;
  GError *error = NULL;
  gboolean ok, done;

  if (services->len == 0)
    return 0;
  pyb_wait_begin (&wait);
  bleio_adapter_publish_services_async (adapter, wait.cancellable, pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  ok = bleio_adapter_publish_services_finish (adapter, wait.result, &error);
  pyb_wait_end (&wait);
  return pyb_wait_check (done, ok, error) ? 0 : -1;
}
