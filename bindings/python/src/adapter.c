/* SPDX-License-Identifier: MIT */
/*
 * Adapter, and the scan it starts: ScanResults (an iterator that blocks)
 * and ScanEntry.
 */
#include "pybleio.h"

#include <math.h>

#define ADAPTER(obj) BLEIO_ADAPTER (((PybGObject *) (obj))->gobj)

typedef struct {
  PyObject_HEAD
  BleioScanEntry *entry;
} PybScanEntry;

typedef struct {
  PyObject_HEAD
  BleioScanResults *results;
  BleioAdapter *adapter;
} PybScanResults;

/* ---- Adapter ---- */

static PyObject *
adapter_tp_new (PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "name", NULL };
  const char *name;
  BleioAdapter *adapter;
  GError *error = NULL;
  PyObject *obj;

  /* CircuitPython builds an Adapter only for HCI boards (uart=, rts=, cts=);
   * on Linux the adapters are BlueZ's, picked by name or address. */
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "s:Adapter", kwlist, &name))
    return NULL;
  Py_BEGIN_ALLOW_THREADS
  adapter = pyb_find_adapter (name, &error);
  Py_END_ALLOW_THREADS
  if (adapter == NULL)
    return pyb_raise (error);
  obj = pyb_wrap (type, adapter);
  g_object_unref (adapter);
  return obj;
}

static PyObject *
adapter_get_enabled (PyObject *self, void *closure)
{
  return PyBool_FromLong (bleio_adapter_get_enabled (ADAPTER (self)));
}

static int
adapter_set_enabled (PyObject *self, PyObject *value, void *closure)
{
  PybWait wait;
  GError *error = NULL;
  gboolean ok, done;

  if (value == NULL || !PyBool_Check (value))
    {
      PyErr_SetString (PyExc_TypeError, "enabled must be True or False");
      return -1;
    }
  pyb_wait_begin (&wait);
  bleio_adapter_set_enabled_async (ADAPTER (self), value == Py_True, wait.cancellable,
                                   pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  ok = bleio_adapter_set_enabled_finish (ADAPTER (self), wait.result, &error);
  pyb_wait_end (&wait);
  return pyb_wait_check (done, ok, error) ? 0 : -1;
}

static PyObject *
adapter_get_address (PyObject *self, void *closure)
{
  g_autoptr(BleioAddress) address = bleio_adapter_dup_address (ADAPTER (self));

  if (address == NULL)
    {
      PyErr_SetString (pyb_BluetoothError, "The adapter is gone: BlueZ no longer lists it");
      return NULL;
    }
  return pyb_address_new (address);
}

static int
adapter_set_address (PyObject *self, PyObject *value, void *closure)
{
  PyErr_SetString (PyExc_NotImplementedError,
                   "Adapter.address cannot be set: BlueZ's D-Bus API has no way to change "
                   "an adapter's address");
  return -1;
}

static PyObject *
adapter_get_name (PyObject *self, void *closure)
{
  g_autofree char *name = bleio_adapter_dup_name (ADAPTER (self));

  return PyUnicode_FromString (name != NULL ? name : "");
}

static int
adapter_set_name (PyObject *self, PyObject *value, void *closure)
{
  PybWait wait;
  GError *error = NULL;
  const char *name;
  gboolean ok, done;

  if (value == NULL || !PyUnicode_Check (value))
    {
      PyErr_SetString (PyExc_TypeError, "name must be a str");
      return -1;
    }
  name = PyUnicode_AsUTF8 (value);
  if (name == NULL)
    return -1;
  pyb_wait_begin (&wait);
  bleio_adapter_set_name_async (ADAPTER (self), name, wait.cancellable, pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  ok = bleio_adapter_set_name_finish (ADAPTER (self), wait.result, &error);
  pyb_wait_end (&wait);
  return pyb_wait_check (done, ok, error) ? 0 : -1;
}

static PyObject *
adapter_get_connected (PyObject *self, void *closure)
{
  return PyBool_FromLong (bleio_adapter_get_connected (ADAPTER (self)));
}

static PyObject *
adapter_get_connections (PyObject *self, void *closure)
{
  return pyb_wrap_array (&pyb_ConnectionType, bleio_adapter_dup_connections (ADAPTER (self)));
}

static PyObject *
adapter_start_scan (PyObject *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "prefixes", "buffer_size", "extended", "timeout", "interval",
                            "window", "minimum_rssi", "active", NULL };
  Py_buffer prefixes = { 0 };
  Py_ssize_t buffer_size = 512;
  int extended = 0, active = 1, minimum_rssi = -80;
  PyObject *timeout_obj = Py_None, *interval_obj = NULL, *window_obj = NULL;
  double timeout = 0, interval = 0.1, window = 0.1;
  g_autoptr(GBytes) prefix_bytes = NULL;
  BleioScanResults *results;
  GError *error = NULL;
  PybScanResults *obj;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "|y*$npOOOip:start_scan", kwlist,
                                    &prefixes, &buffer_size, &extended, &timeout_obj,
                                    &interval_obj, &window_obj, &minimum_rssi, &active))
    return NULL;
  if (prefixes.obj != NULL)
    {
      prefix_bytes = g_bytes_new (prefixes.buf, prefixes.len);
      PyBuffer_Release (&prefixes);
    }
  if (buffer_size < 1)
    {
      PyErr_SetString (PyExc_ValueError, "buffer_size must be >= 1");
      return NULL;
    }
  if (timeout_obj != Py_None && pyb_seconds (timeout_obj, "timeout", &timeout) < 0)
    return NULL;
  if (timeout < 0)
    {
      PyErr_SetString (PyExc_ValueError, "timeout must be >= 0");
      return NULL;
    }
  if ((interval_obj != NULL && pyb_seconds (interval_obj, "interval", &interval) < 0) ||
      (window_obj != NULL && pyb_seconds (window_obj, "window", &window) < 0))
    return NULL;
  /* CircuitPython's bounds (BLE's 0x0004..0xFFFF in 0.625 ms units). */
  if (interval < 0.0025 || interval > 40.959375)
    {
      PyErr_SetString (PyExc_ValueError, "interval must be in range 0.0025-40.9594");
      return NULL;
    }
  if (window > interval)
    {
      PyErr_SetString (PyExc_ValueError, "window must be <= interval");
      return NULL;
    }
  if (window < 0.0025)
    {
      PyErr_SetString (PyExc_ValueError, "window must be in range 0.0025-40.9594");
      return NULL;
    }
  Py_BEGIN_ALLOW_THREADS
  results = bleio_adapter_start_scan (ADAPTER (self), prefix_bytes, buffer_size, extended,
                                      timeout, interval, window, minimum_rssi, active, &error);
  Py_END_ALLOW_THREADS
  if (results == NULL)
    return pyb_raise (error);
  obj = PyObject_New (PybScanResults, &pyb_ScanResultsType);
  if (obj == NULL)
    {
      g_object_unref (results);
      return NULL;
    }
  obj->results = results;
  obj->adapter = g_object_ref (ADAPTER (self));
  return (PyObject *) obj;
}

static PyObject *
adapter_stop_scan (PyObject *self, PyObject *unused)
{
  PybWait wait;
  GError *error = NULL;
  gboolean ok, done;

  pyb_wait_begin (&wait);
  bleio_adapter_stop_scan_async (ADAPTER (self), wait.cancellable, pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  ok = bleio_adapter_stop_scan_finish (ADAPTER (self), wait.result, &error);
  pyb_wait_end (&wait);
  if (!pyb_wait_check (done, ok, error))
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *
adapter_connect (PyObject *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "address", "timeout", NULL };
  PyObject *address_obj, *timeout_obj, *result;
  const BleioAddress *address;
  double timeout;
  BleioConnection *connection;
  GError *error = NULL;
  PybWait wait;
  gboolean done;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "O$O:connect", kwlist,
                                    &address_obj, &timeout_obj))
    return NULL;
  address = pyb_address_get (address_obj);
  if (address == NULL || pyb_seconds (timeout_obj, "timeout", &timeout) < 0)
    return NULL;
  if (!(timeout > 0))
    {
      PyErr_SetString (PyExc_ValueError, "timeout must be > 0");
      return NULL;
    }
  pyb_wait_begin (&wait);
  bleio_adapter_connect_async (ADAPTER (self), address, timeout, wait.cancellable,
                               pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  connection = bleio_adapter_connect_finish (ADAPTER (self), wait.result, &error);
  pyb_wait_end (&wait);
  if (!done)
    {
      /* Interrupted, yet the link came up before the cancel was heard: take
       * it down, so Ctrl-C leaves no link behind. */
      g_clear_error (&error);
      if (connection != NULL)
        {
          Py_BEGIN_ALLOW_THREADS
          bleio_connection_disconnect (connection, NULL);
          g_object_unref (connection);
          Py_END_ALLOW_THREADS
        }
      return NULL;
    }
  if (connection == NULL)
    return pyb_raise (error);
  result = pyb_wrap (&pyb_ConnectionType, connection);
  g_object_unref (connection);
  return result;
}

static PyObject *
adapter_erase_bonding (PyObject *self, PyObject *unused)
{
  PybWait wait;
  GError *error = NULL;
  gboolean ok, done;

  pyb_wait_begin (&wait);
  bleio_adapter_erase_bonding_async (ADAPTER (self), wait.cancellable, pyb_wait_done, &wait);
  done = pyb_wait_run (&wait);
  ok = bleio_adapter_erase_bonding_finish (ADAPTER (self), wait.result, &error);
  pyb_wait_end (&wait);
  if (!pyb_wait_check (done, ok, error))
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *
adapter_repr (PyObject *self)
{
  return PyUnicode_FromFormat ("<Adapter %s>", bleio_adapter_get_interface_name (ADAPTER (self)));
}

static PyGetSetDef adapter_getset[] = {
  { "enabled", adapter_get_enabled, adapter_set_enabled,
    "State of the BLE adapter (powered).", NULL },
  { "address", adapter_get_address, adapter_set_address,
    "MAC address of the BLE adapter; cannot be set through BlueZ.", NULL },
  { "name", adapter_get_name, adapter_set_name, "Name of the adapter (BlueZ Alias).", NULL },
  { "advertising", pyb_adapter_get_advertising, NULL,
    "True when the adapter is advertising.", NULL },
  { "connected", adapter_get_connected, NULL,
    "True when the adapter is connected to another device, whoever made the link.", NULL },
  { "connections", adapter_get_connections, NULL,
    "Tuple of active connections, ours and those centrals made to us; the same Connection "
    "object for the same link.", NULL },
  { NULL }
};

#define KW (METH_VARARGS | METH_KEYWORDS)
#define FN(f) ((PyCFunction) (void (*) (void)) (f))

static PyMethodDef adapter_methods[] = {
  { "start_scan", FN (adapter_start_scan), KW,
    "start_scan(prefixes=b'', *, buffer_size=512, extended=False, timeout=None, "
    "interval=0.1, window=0.1, minimum_rssi=-80, active=True)\n--\n\n"
    "Start a scan and return an iterable of ScanEntry that blocks until an entry "
    "arrives or the scan ends." },
  { "stop_scan", adapter_stop_scan, METH_NOARGS, "stop_scan()\n--\n\nStop the current scan." },
  { "connect", FN (adapter_connect), KW,
    "connect(address, *, timeout)\n--\n\nConnect to address within timeout seconds; returns a Connection." },
  { "erase_bonding", adapter_erase_bonding, METH_NOARGS,
    "erase_bonding()\n--\n\nForget every bonded device." },
  { "start_advertising", FN (pyb_adapter_start_advertising), KW,
    "start_advertising(data, *, scan_response=None, connectable=True, anonymous=False, "
    "timeout=0, interval=0.1, tx_power=-20, directed_to=None)\n--\n\n"
    "Advertise data (raw AD structures) until stop_advertising(), the timeout (s, 0 for "
    "none) or, when connectable, a central connecting. BlueZ rebuilds the bytes from "
    "their fields; the default interval and an omitted tx_power leave bluetoothd its own "
    "choice; anonymous and directed_to raise NotImplementedError." },
  { "stop_advertising", pyb_adapter_stop_advertising, METH_NOARGS,
    "stop_advertising()\n--\n\nStop advertising." },
  { NULL }
};

PyTypeObject pyb_AdapterType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "_bleio.Adapter",
  .tp_basicsize = sizeof (PybGObject),
  .tp_weaklistoffset = offsetof (PybGObject, weakrefs),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "Adapter(name)\n--\n\nA BlueZ adapter, by name ('hci1') or address. "
            "Most programs use _bleio.adapter.",
  .tp_new = adapter_tp_new,
  .tp_dealloc = pyb_gobject_dealloc,
  .tp_repr = adapter_repr,
  .tp_getset = adapter_getset,
  .tp_methods = adapter_methods,
};

/* ---- ScanEntry ---- */

static PyObject *
scan_entry_tp_new (PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
  PyErr_SetString (PyExc_TypeError, "ScanEntry cannot be created: Adapter.start_scan() yields them");
  return NULL;
}

static void
scan_entry_dealloc (PyObject *obj)
{
  bleio_scan_entry_unref (((PybScanEntry *) obj)->entry);
  Py_TYPE (obj)->tp_free (obj);
}

#define ENTRY(obj) (((PybScanEntry *) (obj))->entry)

static PyObject *
scan_entry_get_address (PyObject *self, void *closure)
{
  return pyb_address_new (bleio_scan_entry_get_address (ENTRY (self)));
}

static PyObject *
scan_entry_get_advertisement_bytes (PyObject *self, void *closure)
{
  GBytes *bytes = bleio_scan_entry_get_advertisement_bytes (ENTRY (self));
  gsize len = 0;
  const char *data = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;

  return PyBytes_FromStringAndSize (data != NULL ? data : "", len);
}

static PyObject *
scan_entry_get_rssi (PyObject *self, void *closure)
{
  return PyLong_FromLong (bleio_scan_entry_get_rssi (ENTRY (self)));
}

static PyObject *
scan_entry_get_connectable (PyObject *self, void *closure)
{
  return PyBool_FromLong (bleio_scan_entry_get_connectable (ENTRY (self)));
}

static PyObject *
scan_entry_get_scan_response (PyObject *self, void *closure)
{
  return PyBool_FromLong (bleio_scan_entry_get_scan_response (ENTRY (self)));
}

static PyObject *
scan_entry_matches (PyObject *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "prefixes", "match_all", NULL };
  Py_buffer prefixes;
  int match_all = 1;
  gboolean matches;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "y*|$p:matches", kwlist, &prefixes, &match_all))
    return NULL;
  matches = bleio_scan_entry_matches (ENTRY (self), prefixes.buf, prefixes.len, match_all);
  PyBuffer_Release (&prefixes);
  return PyBool_FromLong (matches);
}

static PyObject *
scan_entry_repr (PyObject *self)
{
  g_autofree char *address = bleio_address_to_string (bleio_scan_entry_get_address (ENTRY (self)));

  return PyUnicode_FromFormat ("<ScanEntry address=%s rssi=%d>", address,
                               bleio_scan_entry_get_rssi (ENTRY (self)));
}

static PyGetSetDef scan_entry_getset[] = {
  { "address", scan_entry_get_address, NULL, "The address of the advertiser.", NULL },
  { "advertisement_bytes", scan_entry_get_advertisement_bytes, NULL,
    "The advertisement's AD structures (rebuilt from BlueZ's fields).", NULL },
  { "rssi", scan_entry_get_rssi, NULL, "Signal strength in dBm.", NULL },
  { "connectable", scan_entry_get_connectable, NULL, "True when the advertiser takes connections.", NULL },
  { "scan_response", scan_entry_get_scan_response, NULL,
    "True for a scan response (BlueZ merges them: always False).", NULL },
  { NULL }
};

static PyMethodDef scan_entry_methods[] = {
  { "matches", FN (scan_entry_matches), KW,
    "matches(prefixes, *, match_all=True)\n--\n\n"
    "True when the advertisement matches all (or, with match_all=False, any) of the prefixes." },
  { NULL }
};

PyTypeObject pyb_ScanEntryType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "_bleio.ScanEntry",
  .tp_basicsize = sizeof (PybScanEntry),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "One advertisement heard by a scan.",
  .tp_new = scan_entry_tp_new,
  .tp_dealloc = scan_entry_dealloc,
  .tp_repr = scan_entry_repr,
  .tp_getset = scan_entry_getset,
  .tp_methods = scan_entry_methods,
};

/* ---- ScanResults ---- */

static PyObject *
scan_results_tp_new (PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
  PyErr_SetString (PyExc_TypeError, "ScanResults cannot be created: Adapter.start_scan() returns it");
  return NULL;
}

static void
scan_results_dealloc (PyObject *obj)
{
  PybScanResults *self = (PybScanResults *) obj;
  BleioScanResults *results = self->results;
  BleioAdapter *adapter = self->adapter;

  Py_BEGIN_ALLOW_THREADS
  g_object_unref (results);
  g_object_unref (adapter);
  Py_END_ALLOW_THREADS
  Py_TYPE (obj)->tp_free (obj);
}

static PyObject *
scan_results_iter (PyObject *self)
{
  Py_INCREF (self);
  return self;
}

static PyObject *
scan_results_next (PyObject *obj)
{
  PybScanResults *self = (PybScanResults *) obj;

  /* Waits in slices of 0.1 s so that Ctrl-C is heard between them. */
  for (;;)
    {
      BleioScanEntry *entry;
      GError *error = NULL;
      PybScanEntry *result;

      Py_BEGIN_ALLOW_THREADS
      entry = bleio_scan_results_next (self->results, 0.1, &error);
      Py_END_ALLOW_THREADS
      if (entry != NULL)
        {
          result = PyObject_New (PybScanEntry, &pyb_ScanEntryType);
          if (result == NULL)
            {
              bleio_scan_entry_unref (entry);
              return NULL;
            }
          result->entry = entry;
          return (PyObject *) result;
        }
      if (error == NULL)
        return NULL;  /* the scan is over: StopIteration */
      if (!g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_TIMEOUT))
        return pyb_raise (error);
      g_error_free (error);
      if (PyErr_CheckSignals () < 0)
        {
          /* Ctrl-C ends the scan it interrupted: the adapter is not left
           * discovering for a program that is unwinding. */
          if (!bleio_scan_results_is_done (self->results))
            {
              Py_BEGIN_ALLOW_THREADS
              bleio_adapter_stop_scan (self->adapter, NULL);
              Py_END_ALLOW_THREADS
            }
          return NULL;
        }
    }
}

PyTypeObject pyb_ScanResultsType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "_bleio.ScanResults",
  .tp_basicsize = sizeof (PybScanResults),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "Iterates the ScanEntry of a scan, blocking until one arrives or the scan ends.",
  .tp_new = scan_results_tp_new,
  .tp_dealloc = scan_results_dealloc,
  .tp_iter = scan_results_iter,
  .tp_iternext = scan_results_next,
};

int
pyb_adapter_init (PyObject *module)
{
  if (pyb_add_type (module, &pyb_AdapterType, "Adapter") < 0 ||
      pyb_add_type (module, &pyb_ScanEntryType, "ScanEntry") < 0 ||
      pyb_add_type (module, &pyb_ScanResultsType, "ScanResults") < 0)
    return -1;
  return 0;
}
