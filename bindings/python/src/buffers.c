/* SPDX-License-Identifier: MIT */
/*
 * CharacteristicBuffer (a byte FIFO fed by notifications) and PacketBuffer
 * (packets, boundaries kept).
 */
#include "pybleio.h"

#define CBUF(obj) BLEIO_CHARACTERISTIC_BUFFER (((PybGObject *) (obj))->gobj)
#define PBUF(obj) BLEIO_PACKET_BUFFER (((PybGObject *) (obj))->gobj)
#define KW (METH_VARARGS | METH_KEYWORDS)
#define FN(f) ((PyCFunction) (void (*) (void)) (f))

/* The longest single wait inside a read, so that Ctrl-C is heard. */
#define SLICE_SECONDS 0.1

static BleioCharacteristic *
characteristic_arg (PyObject *obj)
{
  if (!PyObject_TypeCheck (obj, &pyb_CharacteristicType))
    {
      PyErr_Format (PyExc_TypeError, "Expected a Characteristic, not %s", Py_TYPE (obj)->tp_name);
      return NULL;
    }
  return BLEIO_CHARACTERISTIC (((PybGObject *) obj)->gobj);
}

static PyObject *
enter (PyObject *self, PyObject *unused)
{
  Py_INCREF (self);
  return self;
}

/* ---- CharacteristicBuffer ---- */

static PyObject *
cbuf_tp_new (PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "characteristic", "timeout", "buffer_size", NULL };
  PyObject *char_obj, *timeout_obj = NULL, *result;
  Py_ssize_t buffer_size = 64;
  double timeout = 1.0;
  BleioCharacteristic *characteristic;
  BleioCharacteristicBuffer *buffer;
  PybWait wait;
  GError *error = NULL;
  gboolean done;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "O|$On:CharacteristicBuffer", kwlist,
                                    &char_obj, &timeout_obj, &buffer_size))
    return NULL;
  characteristic = characteristic_arg (char_obj);
  if (characteristic == NULL ||
      (timeout_obj != NULL && pyb_seconds (timeout_obj, "timeout", &timeout) < 0))
    return NULL;
  if (timeout < 0)
    {
      PyErr_SetString (PyExc_ValueError, "timeout must be >= 0");
      return NULL;
    }
  if (buffer_size < 1)
    {
      PyErr_SetString (PyExc_ValueError, "buffer_size must be >= 1");
      return NULL;
    }
  pyb_wait_begin (&wait);
  bleio_characteristic_buffer_new_async (characteristic, timeout, buffer_size, wait.cancellable,
                                         pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  buffer = bleio_characteristic_buffer_new_finish (wait.result, &error);
  pyb_wait_end (&wait);
  if (!done)
    {
      g_clear_error (&error);
      if (buffer != NULL)
        {
          bleio_characteristic_buffer_deinit (buffer);
          g_object_unref (buffer);
        }
      return NULL;
    }
  if (buffer == NULL)
    return pyb_raise (error);
  result = pyb_wrap (type, buffer);
  g_object_unref (buffer);
  return result;
}

/* Reads up to @want bytes (0: whatever arrives first) within the buffer's
 * timeout, waiting in slices so that signal handlers run between them. */
static GByteArray *
cbuf_read_sliced (PyObject *self, gsize want)
{
  BleioCharacteristicBuffer *buffer = CBUF (self);
  double timeout = bleio_characteristic_buffer_get_timeout (buffer);
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout * G_USEC_PER_SEC);
  GByteArray *got = g_byte_array_new ();

  for (;;)
    {
      double remaining = (double) (deadline - g_get_monotonic_time ()) / G_USEC_PER_SEC;
      double slice = CLAMP (remaining, 0, SLICE_SECONDS);
      GError *error = NULL;
      GBytes *bytes;

      Py_BEGIN_ALLOW_THREADS
      bleio_characteristic_buffer_set_timeout (buffer, slice);
      bytes = bleio_characteristic_buffer_read (buffer, want > 0 ? want - got->len : 0, &error);
      bleio_characteristic_buffer_set_timeout (buffer, timeout);
      Py_END_ALLOW_THREADS
      if (bytes == NULL)
        {
          if (got->len > 0)
            {
              g_error_free (error);
              return got;
            }
          g_byte_array_unref (got);
          pyb_raise (error);
          return NULL;
        }
      g_byte_array_append (got, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      g_bytes_unref (bytes);
      if ((want == 0 && got->len > 0) || (want > 0 && got->len >= want) || remaining <= slice)
        return got;
      if (PyErr_CheckSignals () < 0)
        {
          g_byte_array_unref (got);
          return NULL;
        }
    }
}

static PyObject *
cbuf_read (PyObject *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "nbytes", NULL };
  PyObject *nbytes_obj = Py_None, *result;
  Py_ssize_t nbytes = 0;
  GByteArray *got;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "|O:read", kwlist, &nbytes_obj))
    return NULL;
  if (nbytes_obj != Py_None)
    {
      if (!PyLong_Check (nbytes_obj) || PyBool_Check (nbytes_obj))
        {
          PyErr_Format (PyExc_TypeError, "nbytes must be an int or None, not %s",
                        Py_TYPE (nbytes_obj)->tp_name);
          return NULL;
        }
      nbytes = PyLong_AsSsize_t (nbytes_obj);
      if (nbytes == -1 && PyErr_Occurred ())
        return NULL;
      if (nbytes < 1)
        {
          PyErr_SetString (PyExc_ValueError, "nbytes must be >= 1");
          return NULL;
        }
    }
  got = cbuf_read_sliced (self, nbytes);
  if (got == NULL)
    return NULL;
  result = PyBytes_FromStringAndSize ((const char *) got->data, got->len);
  g_byte_array_unref (got);
  return result;
}

static PyObject *
cbuf_readinto (PyObject *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "buf", NULL };
  Py_buffer view;
  GByteArray *got;
  PyObject *result;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "w*:readinto", kwlist, &view))
    return NULL;
  if (view.len == 0)
    {
      PyBuffer_Release (&view);
      return PyLong_FromLong (0);
    }
  got = cbuf_read_sliced (self, view.len);
  if (got == NULL)
    {
      PyBuffer_Release (&view);
      return NULL;
    }
  memcpy (view.buf, got->data, got->len);
  result = PyLong_FromSize_t (got->len);
  g_byte_array_unref (got);
  PyBuffer_Release (&view);
  return result;
}

static PyObject *
cbuf_readline (PyObject *self, PyObject *unused)
{
  GError *error = NULL;
  GBytes *line;
  gsize len;
  const char *data;
  PyObject *result;

  /* Bounded by the buffer's timeout (1 s by default). */
  Py_BEGIN_ALLOW_THREADS
  line = bleio_characteristic_buffer_readline (CBUF (self), &error);
  Py_END_ALLOW_THREADS
  if (line == NULL)
    return pyb_raise (error);
  data = g_bytes_get_data (line, &len);
  result = PyBytes_FromStringAndSize (data != NULL ? data : "", len);
  g_bytes_unref (line);
  return result;
}

static PyObject *
cbuf_get_in_waiting (PyObject *self, void *closure)
{
  return PyLong_FromSize_t (bleio_characteristic_buffer_get_in_waiting (CBUF (self)));
}

static PyObject *
cbuf_reset_input_buffer (PyObject *self, PyObject *unused)
{
  bleio_characteristic_buffer_reset_input_buffer (CBUF (self));
  Py_RETURN_NONE;
}

static PyObject *
cbuf_deinit (PyObject *self, PyObject *unused)
{
  Py_BEGIN_ALLOW_THREADS
  bleio_characteristic_buffer_deinit (CBUF (self));
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *
cbuf_exit (PyObject *self, PyObject *args)
{
  return cbuf_deinit (self, NULL);
}

static PyGetSetDef cbuf_getset[] = {
  { "in_waiting", cbuf_get_in_waiting, NULL, "The number of bytes waiting to be read.", NULL },
  { NULL }
};

static PyMethodDef cbuf_methods[] = {
  { "read", FN (cbuf_read), KW,
    "read(nbytes=None)\n--\n\nRead nbytes (None: what has arrived), waiting up to the timeout; "
    "fewer when the timeout passes." },
  { "readinto", FN (cbuf_readinto), KW,
    "readinto(buf)\n--\n\nRead into buf, waiting up to the timeout; returns the count." },
  { "readline", cbuf_readline, METH_NOARGS, "readline()\n--\n\nRead a line, ending in a newline." },
  { "reset_input_buffer", cbuf_reset_input_buffer, METH_NOARGS,
    "reset_input_buffer()\n--\n\nDiscard what is waiting." },
  { "deinit", cbuf_deinit, METH_NOARGS, "deinit()\n--\n\nStop listening to the characteristic." },
  { "__enter__", enter, METH_NOARGS, NULL },
  { "__exit__", cbuf_exit, METH_VARARGS, NULL },
  { NULL }
};

PyTypeObject pyb_CharacteristicBufferType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "_bleio.CharacteristicBuffer",
  .tp_basicsize = sizeof (PybGObject),
  .tp_weaklistoffset = offsetof (PybGObject, weakrefs),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "CharacteristicBuffer(characteristic, *, timeout=1.0, buffer_size=64)\n--\n\n"
            "A FIFO of the bytes a characteristic notifies (it does not write the CCCD).",
  .tp_new = cbuf_tp_new,
  .tp_dealloc = pyb_gobject_dealloc,
  .tp_getset = cbuf_getset,
  .tp_methods = cbuf_methods,
};

/* ---- PacketBuffer ---- */

static PyObject *
pbuf_tp_new (PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "characteristic", "buffer_size", "max_packet_size", NULL };
  PyObject *char_obj, *max_obj = Py_None, *result;
  Py_ssize_t buffer_size, max_packet_size = 0;
  BleioCharacteristic *characteristic;
  BleioPacketBuffer *buffer;
  PybWait wait;
  GError *error = NULL;
  gboolean done;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "O|$nO:PacketBuffer", kwlist,
                                    &char_obj, &buffer_size, &max_obj))
    return NULL;
  if (!PyDict_Check (kwargs ? kwargs : Py_None) ||
      PyDict_GetItemString (kwargs, "buffer_size") == NULL)
    {
      PyErr_SetString (PyExc_TypeError, "PacketBuffer() missing required keyword-only argument: 'buffer_size'");
      return NULL;
    }
  characteristic = characteristic_arg (char_obj);
  if (characteristic == NULL)
    return NULL;
  if (buffer_size < 1)
    {
      PyErr_SetString (PyExc_ValueError, "buffer_size must be >= 1");
      return NULL;
    }
  if (max_obj != Py_None)
    {
      if (!PyLong_Check (max_obj) || PyBool_Check (max_obj))
        {
          PyErr_Format (PyExc_TypeError, "max_packet_size must be an int or None, not %s",
                        Py_TYPE (max_obj)->tp_name);
          return NULL;
        }
      max_packet_size = PyLong_AsSsize_t (max_obj);
      if (max_packet_size == -1 && PyErr_Occurred ())
        return NULL;
      if (max_packet_size < 1)
        {
          PyErr_SetString (PyExc_ValueError, "max_packet_size must be >= 1");
          return NULL;
        }
    }
  pyb_wait_begin (&wait);
  bleio_packet_buffer_new_async (characteristic, buffer_size, max_packet_size, wait.cancellable,
                                 pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  buffer = bleio_packet_buffer_new_finish (wait.result, &error);
  pyb_wait_end (&wait);
  if (!done)
    {
      g_clear_error (&error);
      if (buffer != NULL)
        {
          Py_BEGIN_ALLOW_THREADS
          bleio_packet_buffer_deinit (buffer);
          g_object_unref (buffer);
          Py_END_ALLOW_THREADS
        }
      return NULL;
    }
  if (buffer == NULL)
    return pyb_raise (error);
  result = pyb_wrap (type, buffer);
  g_object_unref (buffer);
  return result;
}

static PyObject *
pbuf_readinto (PyObject *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "buf", NULL };
  Py_buffer view;
  GError *error = NULL;
  gssize n;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "w*:readinto", kwlist, &view))
    return NULL;
  n = bleio_packet_buffer_readinto (PBUF (self), view.buf, view.len, &error);
  PyBuffer_Release (&view);
  if (n < 0)
    return pyb_raise (error);
  return PyLong_FromSsize_t (n);
}

static PyObject *
pbuf_write (PyObject *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "data", "header", NULL };
  Py_buffer data, header = { 0 };
  PyObject *header_obj = Py_None;
  g_autoptr(GBytes) data_bytes = NULL;
  g_autoptr(GBytes) header_bytes = NULL;
  PybWait wait;
  GError *error = NULL;
  gssize n;
  gboolean done;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "y*|$O:write", kwlist, &data, &header_obj))
    return NULL;
  data_bytes = g_bytes_new (data.buf, data.len);
  PyBuffer_Release (&data);
  if (header_obj != Py_None)
    {
      if (!PyObject_CheckBuffer (header_obj) || PyObject_GetBuffer (header_obj, &header, PyBUF_SIMPLE) < 0)
        {
          PyErr_Clear ();
          PyErr_Format (PyExc_TypeError, "header must be bytes-like or None, not %s",
                        Py_TYPE (header_obj)->tp_name);
          return NULL;
        }
      header_bytes = g_bytes_new (header.buf, header.len);
      PyBuffer_Release (&header);
    }
  pyb_wait_begin (&wait);
  bleio_packet_buffer_write_async (PBUF (self), data_bytes, header_bytes, wait.cancellable,
                                   pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  n = bleio_packet_buffer_write_finish (PBUF (self), wait.result, &error);
  pyb_wait_end (&wait);
  if (!done)
    {
      g_clear_error (&error);
      return NULL;
    }
  if (n < 0)
    return pyb_raise (error);
  return PyLong_FromSsize_t (n);
}

static PyObject *
pbuf_get_incoming_packet_length (PyObject *self, void *closure)
{
  return PyLong_FromSize_t (bleio_packet_buffer_get_incoming_packet_length (PBUF (self)));
}

static PyObject *
pbuf_get_outgoing_packet_length (PyObject *self, void *closure)
{
  return PyLong_FromSize_t (bleio_packet_buffer_get_outgoing_packet_length (PBUF (self)));
}

static PyObject *
pbuf_deinit (PyObject *self, PyObject *unused)
{
  Py_BEGIN_ALLOW_THREADS
  bleio_packet_buffer_deinit (PBUF (self));
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *
pbuf_exit (PyObject *self, PyObject *args)
{
  return pbuf_deinit (self, NULL);
}

static PyGetSetDef pbuf_getset[] = {
  { "incoming_packet_length", pbuf_get_incoming_packet_length, NULL,
    "The longest packet that can arrive.", NULL },
  { "outgoing_packet_length", pbuf_get_outgoing_packet_length, NULL,
    "The longest packet write() sends: ATT MTU - 3, bounded by max_packet_size.", NULL },
  { NULL }
};

static PyMethodDef pbuf_methods[] = {
  { "readinto", FN (pbuf_readinto), KW,
    "readinto(buf)\n--\n\nCopy the oldest packet into buf and return its length (0 when none "
    "waits); ValueError when buf is too short." },
  { "write", FN (pbuf_write), KW,
    "write(data, *, header=None)\n--\n\nSend header + data as one packet; returns the bytes "
    "sent, 0 when not connected." },
  { "deinit", pbuf_deinit, METH_NOARGS, "deinit()\n--\n\nStop listening to the characteristic." },
  { "__enter__", enter, METH_NOARGS, NULL },
  { "__exit__", pbuf_exit, METH_VARARGS, NULL },
  { NULL }
};

PyTypeObject pyb_PacketBufferType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "_bleio.PacketBuffer",
  .tp_basicsize = sizeof (PybGObject),
  .tp_weaklistoffset = offsetof (PybGObject, weakrefs),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "PacketBuffer(characteristic, *, buffer_size, max_packet_size=None)\n--\n\n"
            "Packets of a characteristic, boundaries kept; it subscribes to the peer's "
            "notifications (or indications).",
  .tp_new = pbuf_tp_new,
  .tp_dealloc = pyb_gobject_dealloc,
  .tp_getset = pbuf_getset,
  .tp_methods = pbuf_methods,
};

int
pyb_buffers_init (PyObject *module)
{
  if (pyb_add_type (module, &pyb_CharacteristicBufferType, "CharacteristicBuffer") < 0 ||
      pyb_add_type (module, &pyb_PacketBufferType, "PacketBuffer") < 0)
    return -1;
  return 0;
}
