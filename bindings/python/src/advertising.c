/* SPDX-License-Identifier: MIT */
/*
 * Adapter.start_advertising(), stop_advertising() and advertising: the
 * peripheral role's half of Adapter, on bleio-advertising.h. The links a
 * central then makes to us need nothing here: the library lists them in
 * bleio_adapter_dup_connections(), which Adapter.connections wraps.
 */
#include "pybleio.h"

#include <math.h>

#define ADAPTER(obj) BLEIO_ADAPTER (((PybGObject *) (obj))->gobj)

/* CircuitPython's bounds and default for the advertising interval. */
#define ADV_INTERVAL_MIN 0.02
#define ADV_INTERVAL_MAX 10.24
#define ADV_INTERVAL_DEFAULT 0.1

/* A buffer argument that may be None: *@out stays NULL then. */
static int
optional_bytes (PyObject *obj, const char *what, GBytes **out)
{
  Py_buffer view;

  if (obj == NULL || obj == Py_None)
    return 0;
  if (PyObject_GetBuffer (obj, &view, PyBUF_SIMPLE) < 0)
    {
      PyErr_Clear ();
      PyErr_Format (PyExc_TypeError, "%s must be a bytes-like object or None, not %s",
                    what, Py_TYPE (obj)->tp_name);
      return -1;
    }
  *out = g_bytes_new (view.buf, view.len);
  PyBuffer_Release (&view);
  return 0;
}

/* An int argument (CircuitPython takes no float there): TypeError otherwise. */
static int
int_argument (PyObject *obj, const char *what, long *out)
{
  if (!PyLong_Check (obj))
    {
      PyErr_Format (PyExc_TypeError, "%s must be an int, not %s", what, Py_TYPE (obj)->tp_name);
      return -1;
    }
  *out = PyLong_AsLong (obj);
  if (*out == -1 && PyErr_Occurred ())
    {
      PyErr_Clear ();
      PyErr_Format (PyExc_ValueError, "%s is out of range", what);
      return -1;
    }
  return 0;
}

PyObject *
pyb_adapter_start_advertising (PyObject *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "data", "scan_response", "connectable", "anonymous", "timeout",
                            "interval", "tx_power", "directed_to", NULL };
  Py_buffer data_view;
  PyObject *scan_response_obj = Py_None, *timeout_obj = NULL, *interval_obj = NULL;
  PyObject *tx_power_obj = NULL, *directed_obj = Py_None;
  int connectable = 1, anonymous = 0;
  long timeout = 0, tx_power = 0;
  double interval = ADV_INTERVAL_DEFAULT;
  const BleioAddress *directed_to = NULL;
  g_autoptr(GBytes) data = NULL;
  g_autoptr(GBytes) scan_response = NULL;
  GError *error = NULL;
  PybWait wait;
  gboolean ok, done;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "y*|$OppOOOO:start_advertising", kwlist,
                                    &data_view, &scan_response_obj, &connectable, &anonymous,
                                    &timeout_obj, &interval_obj, &tx_power_obj, &directed_obj))
    return NULL;
  data = g_bytes_new (data_view.buf, data_view.len);
  PyBuffer_Release (&data_view);
  if (optional_bytes (scan_response_obj, "scan_response", &scan_response) < 0)
    return NULL;
  if (interval_obj != NULL && pyb_seconds (interval_obj, "interval", &interval) < 0)
    return NULL;
  if (interval < ADV_INTERVAL_MIN || interval > ADV_INTERVAL_MAX)
    {
      PyErr_SetString (PyExc_ValueError, "interval must be in range 0.02-10.24");
      return NULL;
    }
  if (timeout_obj != NULL && int_argument (timeout_obj, "timeout", &timeout) < 0)
    return NULL;
  if (timeout < 0 || timeout > G_MAXUINT16)
    {
      PyErr_Format (PyExc_ValueError,
                    "timeout must be in range 0-%u seconds (BlueZ's limit; 0 advertises "
                    "until stopped)", G_MAXUINT16);
      return NULL;
    }
  if (tx_power_obj != NULL && int_argument (tx_power_obj, "tx_power", &tx_power) < 0)
    return NULL;
  if (tx_power < G_MININT || tx_power > G_MAXINT)
    {
      PyErr_SetString (PyExc_ValueError, "tx_power is out of range");
      return NULL;
    }
  /* CircuitPython's own checks, with its messages, before anything goes to
   * the library. */
  if (g_bytes_get_size (data) > 31 && connectable && scan_response != NULL &&
      g_bytes_get_size (scan_response) > 0)
    {
      PyErr_SetString (pyb_BluetoothError,
                       "Cannot have scan responses for extended, connectable advertisements.");
      return NULL;
    }
  if (directed_obj != Py_None)
    {
      if (!connectable)
        {
          PyErr_SetString (pyb_BluetoothError, "Only connectable advertisements can be directed");
          return NULL;
        }
      directed_to = pyb_address_get (directed_obj);
      if (directed_to == NULL)
        return NULL;
    }
  /* `_bleio`'s default interval, which adafruit_ble passes explicitly on
   * every start, asks for nothing in particular: bluetoothd chooses, so
   * that such programs work on a bluetoothd without its experimental flag
   * (only that one takes an interval). Any other interval is asked for and
   * raises NotImplementedError where bluetoothd cannot honour it. An
   * omitted tx_power likewise is no preference. */
  if (interval == ADV_INTERVAL_DEFAULT)
    interval = 0;
  /* A central that connects finds the services made so far (local.c). */
  if (pyb_publish_services (self) < 0)
    return NULL;
  pyb_wait_begin (&wait);
  bleio_adapter_start_advertising_async (ADAPTER (self), data, scan_response, connectable,
                                         anonymous, (guint) timeout, interval, (int) tx_power,
                                         directed_to, wait.cancellable, pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  ok = bleio_adapter_start_advertising_finish (ADAPTER (self), wait.result, &error);
  pyb_wait_end (&wait);
  if (!done)
    {
      /* Interrupted: a start that got through anyway is undone, so Ctrl-C
       * leaves no advertisement behind. */
      g_clear_error (&error);
      if (ok)
        {
          Py_BEGIN_ALLOW_THREADS
          bleio_adapter_stop_advertising (ADAPTER (self), NULL);
          Py_END_ALLOW_THREADS
        }
      return NULL;
    }
  if (!ok)
    return pyb_raise (error);
  Py_RETURN_NONE;
}

PyObject *
pyb_adapter_stop_advertising (PyObject *self, PyObject *unused)
{
  PybWait wait;
  GError *error = NULL;
  gboolean ok, done;

  pyb_wait_begin (&wait);
  bleio_adapter_stop_advertising_async (ADAPTER (self), wait.cancellable, pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  ok = bleio_adapter_stop_advertising_finish (ADAPTER (self), wait.result, &error);
  pyb_wait_end (&wait);
  if (!pyb_wait_check (done, ok, error))
    return NULL;
  Py_RETURN_NONE;
}

PyObject *
pyb_adapter_get_advertising (PyObject *self, void *closure)
{
  return PyBool_FromLong (bleio_adapter_get_advertising (ADAPTER (self)));
}
