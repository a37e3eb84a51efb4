/* SPDX-License-Identifier: MIT */
/*
 * The value classes: UUID, Address, and Attribute's security-mode
 * constants. UUID and Address hold a copy of the library's boxed value.
 */
#include "pybleio.h"

#include <string.h>

typedef struct {
  PyObject_HEAD
  BleioUuid *uuid;
} PybUUID;

typedef struct {
  PyObject_HEAD
  BleioAddress *address;
} PybAddress;

/* ---- UUID ---- */

PyObject *
pyb_uuid_new (const BleioUuid *uuid)
{
  PybUUID *self = PyObject_New (PybUUID, &pyb_UUIDType);

  if (self != NULL)
    self->uuid = bleio_uuid_copy (uuid);
  return (PyObject *) self;
}

const BleioUuid *
pyb_uuid_get (PyObject *obj)
{
  if (!PyObject_TypeCheck (obj, &pyb_UUIDType))
    {
      PyErr_Format (PyExc_TypeError, "Expected a UUID, not %s", Py_TYPE (obj)->tp_name);
      return NULL;
    }
  return ((PybUUID *) obj)->uuid;
}

/* 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx' into 16 bytes, least significant
 * first as _bleio and the library hold them. */
static gboolean
parse_uuid128 (const char *str, guint8 out[16])
{
  int digits = 0;

  if (strlen (str) != 36)
    return FALSE;
  for (int i = 0; i < 36; i++)
    {
      int v;

      if (i == 8 || i == 13 || i == 18 || i == 23)
        {
          if (str[i] != '-')
            return FALSE;
          continue;
        }
      v = g_ascii_xdigit_value (str[i]);
      if (v < 0)
        return FALSE;
      if (digits % 2 == 0)
        out[15 - digits / 2] = (guint8) (v << 4);
      else
        out[15 - digits / 2] |= (guint8) v;
      digits++;
    }
  return TRUE;
}

static PyObject *
uuid_tp_new (PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "value", NULL };
  PyObject *value;
  BleioUuid *uuid = NULL;
  GError *error = NULL;
  PybUUID *self;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "O:UUID", kwlist, &value))
    return NULL;
  if (PyLong_Check (value) && !PyBool_Check (value))
    {
      long v = PyLong_AsLong (value);
      if (v == -1 && PyErr_Occurred ())
        PyErr_Clear ();
      if (v < 0 || v > 0xFFFF)
        {
          PyErr_SetString (PyExc_ValueError, "UUID integer value must be 0-0xffff");
          return NULL;
        }
      uuid = bleio_uuid_new_from_uuid16 ((guint16) v);
    }
  else if (PyUnicode_Check (value))
    {
      const char *str = PyUnicode_AsUTF8 (value);
      if (str == NULL)
        return NULL;
      guint8 bytes[16];

      /* CircuitPython takes only the 36-character form and keeps it 128-bit
       * even on the Bluetooth base (the library's string parser would
       * shorten it): the bytes are read here, least significant last. */
      if (!parse_uuid128 (str, bytes))
        {
          PyErr_SetString (PyExc_ValueError,
                           "UUID string not 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx'");
          return NULL;
        }
      uuid = bleio_uuid_new_from_bytes (bytes, 16, &error);
      if (uuid == NULL)
        return pyb_raise (error);
    }
  else if (PyObject_CheckBuffer (value))
    {
      Py_buffer view;
      if (PyObject_GetBuffer (value, &view, PyBUF_SIMPLE) < 0)
        return NULL;
      if (view.len != 16)
        {
          PyBuffer_Release (&view);
          PyErr_SetString (PyExc_ValueError, "Byte buffer must be 16 bytes.");
          return NULL;
        }
      uuid = bleio_uuid_new_from_bytes (view.buf, 16, &error);
      PyBuffer_Release (&view);
      if (uuid == NULL)
        return pyb_raise (error);
    }
  else
    {
      PyErr_SetString (PyExc_ValueError, "UUID value is not str, int or byte buffer");
      return NULL;
    }
  self = (PybUUID *) type->tp_alloc (type, 0);
  if (self == NULL)
    {
      bleio_uuid_free (uuid);
      return NULL;
    }
  self->uuid = uuid;
  return (PyObject *) self;
}

static void
uuid_dealloc (PyObject *obj)
{
  bleio_uuid_free (((PybUUID *) obj)->uuid);
  Py_TYPE (obj)->tp_free (obj);
}

static PyObject *
uuid_get_uuid16 (PyObject *obj, void *closure)
{
  return PyLong_FromLong (bleio_uuid_get_uuid16 (((PybUUID *) obj)->uuid));
}

static PyObject *
uuid_get_uuid128 (PyObject *obj, void *closure)
{
  guint8 bytes[16];

  if (!bleio_uuid_get_uuid128 (((PybUUID *) obj)->uuid, bytes))
    {
      PyErr_SetString (PyExc_AttributeError, "uuid128: this is a 16-bit UUID");
      return NULL;
    }
  return PyBytes_FromStringAndSize ((const char *) bytes, 16);
}

static PyObject *
uuid_get_size (PyObject *obj, void *closure)
{
  return PyLong_FromLong (bleio_uuid_get_size (((PybUUID *) obj)->uuid));
}

static PyObject *
uuid_pack_into (PyObject *obj, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "buffer", "offset", NULL };
  Py_buffer view;
  Py_ssize_t offset = 0;
  GError *error = NULL;
  gboolean ok;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "w*|n:pack_into", kwlist, &view, &offset))
    return NULL;
  if (offset < 0)
    {
      PyBuffer_Release (&view);
      PyErr_SetString (PyExc_ValueError, "offset must be >= 0");
      return NULL;
    }
  if ((gsize) offset + bleio_uuid_get_size (((PybUUID *) obj)->uuid) / 8 > (gsize) view.len)
    {
      PyBuffer_Release (&view);
      PyErr_SetString (PyExc_IndexError, "Buffer too small");
      return NULL;
    }
  ok = bleio_uuid_pack_into (((PybUUID *) obj)->uuid, view.buf, view.len, offset, &error);
  PyBuffer_Release (&view);
  if (!ok)
    return pyb_raise (error);
  Py_RETURN_NONE;
}

static PyObject *
uuid_repr (PyObject *obj)
{
  const BleioUuid *uuid = ((PybUUID *) obj)->uuid;
  g_autofree char *str = NULL;

  if (bleio_uuid_get_size (uuid) == 16)
    return PyUnicode_FromFormat ("UUID(0x%04x)", bleio_uuid_get_uuid16 (uuid));
  str = bleio_uuid_to_string (uuid);
  return PyUnicode_FromFormat ("UUID('%s')", str);
}

static PyObject *
uuid_richcompare (PyObject *a, PyObject *b, int op)
{
  gboolean equal;

  if (!PyObject_TypeCheck (b, &pyb_UUIDType) || (op != Py_EQ && op != Py_NE))
    Py_RETURN_NOTIMPLEMENTED;
  equal = bleio_uuid_equal (((PybUUID *) a)->uuid, ((PybUUID *) b)->uuid);
  return PyBool_FromLong (op == Py_EQ ? equal : !equal);
}

static Py_hash_t
uuid_hash (PyObject *obj)
{
  Py_hash_t h = (Py_hash_t) bleio_uuid_hash (((PybUUID *) obj)->uuid);
  return h == -1 ? -2 : h;
}

static PyGetSetDef uuid_getset[] = {
  { "uuid16", uuid_get_uuid16, NULL, "The 16-bit part of the UUID.", NULL },
  { "uuid128", uuid_get_uuid128, NULL,
    "The 128-bit value as 16 bytes, least significant first; AttributeError for a 16-bit UUID.", NULL },
  { "size", uuid_get_size, NULL, "128 if the UUID is 128-bit, 16 if it is 16-bit.", NULL },
  { NULL }
};

static PyMethodDef uuid_methods[] = {
  { "pack_into", (PyCFunction) (void (*) (void)) uuid_pack_into, METH_VARARGS | METH_KEYWORDS,
    "pack_into(buffer, offset=0)\n--\n\nPack the UUID into buffer at offset, least significant byte first." },
  { NULL }
};

PyTypeObject pyb_UUIDType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "_bleio.UUID",
  .tp_basicsize = sizeof (PybUUID),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "UUID(value)\n--\n\nA 16-bit or 128-bit UUID: an int 0..0xFFFF, 16 bytes "
            "least significant first, or 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx'.",
  .tp_new = uuid_tp_new,
  .tp_dealloc = uuid_dealloc,
  .tp_repr = uuid_repr,
  .tp_richcompare = uuid_richcompare,
  .tp_hash = uuid_hash,
  .tp_getset = uuid_getset,
  .tp_methods = uuid_methods,
};

/* ---- Address ---- */

PyObject *
pyb_address_new (const BleioAddress *address)
{
  PybAddress *self = PyObject_New (PybAddress, &pyb_AddressType);

  if (self != NULL)
    self->address = bleio_address_copy (address);
  return (PyObject *) self;
}

const BleioAddress *
pyb_address_get (PyObject *obj)
{
  if (!PyObject_TypeCheck (obj, &pyb_AddressType))
    {
      PyErr_Format (PyExc_TypeError, "Expected an Address, not %s", Py_TYPE (obj)->tp_name);
      return NULL;
    }
  return ((PybAddress *) obj)->address;
}

static PyObject *
address_tp_new (PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "address", "address_type", NULL };
  Py_buffer view;
  int address_type;
  PybAddress *self;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "y*i:Address", kwlist, &view, &address_type))
    return NULL;
  if (view.len != 6)
    {
      PyBuffer_Release (&view);
      PyErr_SetString (PyExc_ValueError, "Address must be 6 bytes long");
      return NULL;
    }
  if (address_type < BLEIO_ADDRESS_TYPE_PUBLIC ||
      address_type > BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_NON_RESOLVABLE)
    {
      PyBuffer_Release (&view);
      PyErr_SetString (PyExc_ValueError, "Address type out of range");
      return NULL;
    }
  self = (PybAddress *) type->tp_alloc (type, 0);
  if (self != NULL)
    self->address = bleio_address_new (view.buf, address_type);
  PyBuffer_Release (&view);
  return (PyObject *) self;
}

static void
address_dealloc (PyObject *obj)
{
  bleio_address_free (((PybAddress *) obj)->address);
  Py_TYPE (obj)->tp_free (obj);
}

static PyObject *
address_get_bytes (PyObject *obj, void *closure)
{
  return PyBytes_FromStringAndSize ((const char *) bleio_address_get_bytes (((PybAddress *) obj)->address), 6);
}

static PyObject *
address_get_type (PyObject *obj, void *closure)
{
  return PyLong_FromLong (bleio_address_get_address_type (((PybAddress *) obj)->address));
}

static PyObject *
address_repr (PyObject *obj)
{
  g_autofree char *str = bleio_address_to_string (((PybAddress *) obj)->address);

  return PyUnicode_FromFormat ("<Address %s>", str);
}

static PyObject *
address_richcompare (PyObject *a, PyObject *b, int op)
{
  gboolean equal;

  if (!PyObject_TypeCheck (b, &pyb_AddressType) || (op != Py_EQ && op != Py_NE))
    Py_RETURN_NOTIMPLEMENTED;
  equal = bleio_address_equal (((PybAddress *) a)->address, ((PybAddress *) b)->address);
  return PyBool_FromLong (op == Py_EQ ? equal : !equal);
}

static Py_hash_t
address_hash (PyObject *obj)
{
  Py_hash_t h = (Py_hash_t) bleio_address_hash (((PybAddress *) obj)->address);
  return h == -1 ? -2 : h;
}

static PyGetSetDef address_getset[] = {
  { "address_bytes", address_get_bytes, NULL,
    "The 6 address bytes, least significant first.", NULL },
  { "type", address_get_type, NULL,
    "PUBLIC, RANDOM_STATIC, RANDOM_PRIVATE_RESOLVABLE or RANDOM_PRIVATE_NON_RESOLVABLE.", NULL },
  { NULL }
};

PyTypeObject pyb_AddressType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "_bleio.Address",
  .tp_basicsize = sizeof (PybAddress),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "Address(address, address_type)\n--\n\nA Bluetooth device address: 6 bytes "
            "least significant first and one of the type constants.",
  .tp_new = address_tp_new,
  .tp_dealloc = address_dealloc,
  .tp_repr = address_repr,
  .tp_richcompare = address_richcompare,
  .tp_hash = address_hash,
  .tp_getset = address_getset,
};

/* ---- Attribute ---- */

static PyObject *
attribute_tp_new (PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
  PyErr_SetString (PyExc_TypeError, "Attribute holds constants and cannot be created");
  return NULL;
}

PyTypeObject pyb_AttributeType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "_bleio.Attribute",
  .tp_basicsize = sizeof (PyObject),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "Security modes of a characteristic's or descriptor's read and write.",
  .tp_new = attribute_tp_new,
};

int
pyb_add_int_constant (PyTypeObject *type, const char *name, long value)
{
  PyObject *v = PyLong_FromLong (value);
  int ret;

  if (v == NULL)
    return -1;
  ret = PyDict_SetItemString (type->tp_dict, name, v);
  Py_DECREF (v);
  return ret;
}

int
pyb_add_type (PyObject *module, PyTypeObject *type, const char *name)
{
  if (PyType_Ready (type) < 0)
    return -1;
  Py_INCREF (type);
  return PyModule_AddObject (module, name, (PyObject *) type);
}

int
pyb_values_init (PyObject *module)
{
  /* CircuitPython's values, which programs compare against. */
  static const struct { const char *name; long value; } modes[] = {
    { "NO_ACCESS", 0x00 },
    { "OPEN", 0x11 },
    { "ENCRYPT_NO_MITM", 0x21 },
    { "ENCRYPT_WITH_MITM", 0x31 },
    { "LESC_ENCRYPT_WITH_MITM", 0x41 },
    { "SIGNED_NO_MITM", 0x12 },
    { "SIGNED_WITH_MITM", 0x22 },
  };

  if (pyb_add_type (module, &pyb_UUIDType, "UUID") < 0 ||
      pyb_add_type (module, &pyb_AddressType, "Address") < 0 ||
      pyb_add_type (module, &pyb_AttributeType, "Attribute") < 0)
    return -1;
  if (pyb_add_int_constant (&pyb_AddressType, "PUBLIC", BLEIO_ADDRESS_TYPE_PUBLIC) < 0 ||
      pyb_add_int_constant (&pyb_AddressType, "RANDOM_STATIC", BLEIO_ADDRESS_TYPE_RANDOM_STATIC) < 0 ||
      pyb_add_int_constant (&pyb_AddressType, "RANDOM_PRIVATE_RESOLVABLE",
                        BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_RESOLVABLE) < 0 ||
      pyb_add_int_constant (&pyb_AddressType, "RANDOM_PRIVATE_NON_RESOLVABLE",
                        BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_NON_RESOLVABLE) < 0)
    return -1;
  for (gsize i = 0; i < G_N_ELEMENTS (modes); i++)
    if (pyb_add_int_constant (&pyb_AttributeType, modes[i].name, modes[i].value) < 0)
      return -1;
  PyType_Modified (&pyb_AddressType);
  PyType_Modified (&pyb_AttributeType);
  return 0;
}
