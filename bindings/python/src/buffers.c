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

/* A CharacteristicBuffer's wrapper keeps the bytes a read had taken from
 * the library's FIFO when Ctrl-C interrupted it, and hands them out first
 * next time: an interrupted read loses nothing. */
typedef struct {
  PybGObject base;
  GByteArray *pending;
} PybCharacteristicBuffer;

#define PENDING(obj) (((PybCharacteristicBuffer *) (obj))->pending)

static void
cbuf_dealloc (PyObject *self)
{
  g_clear_pointer (&PENDING (self), g_byte_array_unref);
  pyb_gobject_dealloc (self);
}

typedef enum {
  TAKE_ANY,    /* whatever has arrived, at least one byte */
  TAKE_COUNT,  /* @want bytes */
  TAKE_LINE,   /* up to and including a newline, or a buffer's worth */
} TakeMode;

/* How many bytes of @got make a complete answer now (0: not yet). */
static gsize
complete_length (GByteArray *got, TakeMode mode, gsize want, gsize piece)
{
  switch (mode)
    {
    case TAKE_ANY:
      return got->len;
    case TAKE_COUNT:
      return got->len >= want ? want : 0;
    case TAKE_LINE:
      {
        const guint8 *nl = memchr (got->data, '\n', got->len);
        if (nl != NULL)
          return (gsize) (nl - got->data) + 1;
        return got->len >= piece ? piece : 0;
      }
    }
  return 0;
}

/* Keeps the bytes of @got past @len for the next read; returns @got cut to
 * @len. */
static GByteArray *
keep_rest (PyObject *self, GByteArray *got, gsize len)
{
  if (len < got->len)
    {
      g_assert (PENDING (self) == NULL);
      PENDING (self) = g_byte_array_new ();
      g_byte_array_append (PENDING (self), got->data + len, got->len - len);
      g_byte_array_set_size (got, len);
    }
  return got;
}

/* A read within the buffer's timeout, waiting in slices of SLICE_SECONDS so
 * that signal handlers run between them. Returns the bytes (maybe none when
 * the timeout passed), or NULL with the exception set. */
static GByteArray *
cbuf_take (PyObject *self, TakeMode mode, gsize want)
{
  BleioCharacteristicBuffer *buffer = CBUF (self);
  double timeout = bleio_characteristic_buffer_get_timeout (buffer);
  gsize piece = bleio_characteristic_buffer_get_buffer_size (buffer);
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout * G_USEC_PER_SEC);
  GByteArray *got = PENDING (self) != NULL ? g_steal_pointer (&PENDING (self)) : g_byte_array_new ();

  for (;;)
    {
      gsize done = complete_length (got, mode, want, piece);
      double remaining, slice;
      GError *error = NULL;
      GBytes *bytes;

      if (done > 0)
        return keep_rest (self, got, done);
      remaining = (double) (deadline - g_get_monotonic_time ()) / G_USEC_PER_SEC;
      slice = CLAMP (remaining, 0, SLICE_SECONDS);
      Py_BEGIN_ALLOW_THREADS
      bleio_characteristic_buffer_set_timeout (buffer, slice);
      bytes = bleio_characteristic_buffer_read (buffer, mode == TAKE_COUNT ? want - got->len : 0,
                                                &error);
      bleio_characteristic_buffer_set_timeout (buffer, timeout);
      Py_END_ALLOW_THREADS
      if (bytes == NULL)
        {
          /* What arrived before the link went is handed out first; the
           * next read reports the error. */
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
      if (remaining <= slice)
        {
          done = complete_length (got, mode, want, piece);
          return keep_rest (self, got, done > 0 ? done : got->len);
        }
      if (PyErr_CheckSignals () < 0)
        {
          if (got->len > 0)
            PENDING (self) = got;
          else
            g_byte_array_unref (got);
          return NULL;
        }
    }
}

static PyObject *
bytes_from_array (GByteArray *got)
{
  PyObject *result;

  if (got == NULL)
    return NULL;
  result = PyBytes_FromStringAndSize ((const char *) got->data, got->len);
  g_byte_array_unref (got);
  return result;
}

static PyObject *
cbuf_read (PyObject *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "nbytes", NULL };
  PyObject *nbytes_obj = Py_None;
  Py_ssize_t nbytes = 0;

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
  return bytes_from_array (cbuf_take (self, nbytes > 0 ? TAKE_COUNT : TAKE_ANY, nbytes));
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
  got = cbuf_take (self, TAKE_COUNT, view.len);
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
  return bytes_from_array (cbuf_take (self, TAKE_LINE, 0));
}

static PyObject *
cbuf_get_in_waiting (PyObject *self, void *closure)
{
  gsize pending = PENDING (self) != NULL ? PENDING (self)->len : 0;

  return PyLong_FromSize_t (bleio_characteristic_buffer_get_in_waiting (CBUF (self)) + pending);
}

static PyObject *
cbuf_reset_input_buffer (PyObject *self, PyObject *unused)
{
  g_clear_pointer (&PENDING (self), g_byte_array_unref);
  bleio_characteristic_buffer_reset_input_buffer (CBUF (self));
  Py_RETURN_NONE;
}

static PyObject *
cbuf_deinit (PyObject *self, PyObject *unused)
{
  g_clear_pointer (&PENDING (self), g_byte_array_unref);
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
  .tp_basicsize = sizeof (PybCharacteristicBuffer),
  .tp_weaklistoffset = offsetof (PybGObject, weakrefs),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "CharacteristicBuffer(characteristic, *, timeout=1.0, buffer_size=64)\n--\n\n"
            "A FIFO of the bytes a characteristic notifies (it does not write the CCCD).",
  .tp_new = cbuf_tp_new,
  .tp_dealloc = cbuf_dealloc,
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
  if (!pyb_wait_check (done, n >= 0, error))
    return NULL;
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
