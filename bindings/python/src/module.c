/* SPDX-License-Identifier: MIT */
/*
 * The `_bleio` module: its exceptions, `adapter` and `set_adapter()`, the
 * GError → exception map, the one-wrapper-per-object table, and the wait
 * that releases the GIL around an async call.
 */
#include "pybleio.h"

#include <math.h>

PyObject *pyb_BluetoothError;
PyObject *pyb_RoleError;
PyObject *pyb_SecurityError;
PyObject *pyb_ConnectionError;

/* GObject → its live Python wrapper (borrowed; the wrapper's dealloc removes
 * it). Touched only with the GIL held. */
static GHashTable *wrappers;

PyObject *
pyb_raise (GError *error)
{
  PyObject *type = pyb_BluetoothError;

  if (error == NULL)
    {
      PyErr_SetString (pyb_BluetoothError, "Unknown error in libbleio");
      return NULL;
    }
  if (error->domain == BLEIO_ERROR)
    {
      switch ((BleioError) error->code)
        {
        case BLEIO_ERROR_CONNECTION:
          type = pyb_ConnectionError;
          break;
        case BLEIO_ERROR_ROLE:
          type = pyb_RoleError;
          break;
        case BLEIO_ERROR_SECURITY:
        case BLEIO_ERROR_NOT_AUTHORIZED:
          type = pyb_SecurityError;
          break;
        case BLEIO_ERROR_NOT_SUPPORTED:
          type = PyExc_NotImplementedError;
          break;
        case BLEIO_ERROR_INVALID_ARGUMENT:
        case BLEIO_ERROR_INVALID_VALUE:
          type = PyExc_ValueError;
          break;
        default:
          break;
        }
    }
  PyErr_SetString (type, error->message);
  g_error_free (error);
  return NULL;
}

PyObject *
pyb_wrap (PyTypeObject *type, gpointer gobj)
{
  PybGObject *self;

  if (gobj == NULL)
    Py_RETURN_NONE;
  self = g_hash_table_lookup (wrappers, gobj);
  if (self != NULL)
    {
      Py_INCREF (self);
      return (PyObject *) self;
    }
  /* tp_alloc zeroes what a type adds after PybGObject. */
  self = (PybGObject *) type->tp_alloc (type, 0);
  if (self == NULL)
    return NULL;
  self->gobj = g_object_ref (gobj);
  self->weakrefs = NULL;
  g_hash_table_insert (wrappers, gobj, self);
  return (PyObject *) self;
}

void
pyb_gobject_dealloc (PyObject *obj)
{
  PybGObject *self = (PybGObject *) obj;

  if (self->weakrefs != NULL)
    PyObject_ClearWeakRefs (obj);
  if (self->gobj != NULL)
    {
      if (g_hash_table_lookup (wrappers, self->gobj) == self)
        g_hash_table_remove (wrappers, self->gobj);
      /* The last unref may wait on the library's worker: not under the GIL. */
      GObject *gobj = self->gobj;
      self->gobj = NULL;
      Py_BEGIN_ALLOW_THREADS
      g_object_unref (gobj);
      Py_END_ALLOW_THREADS
    }
  Py_TYPE (obj)->tp_free (obj);
}

PyObject *
pyb_wrap_array (PyTypeObject *type, GPtrArray *array)
{
  PyObject *tuple = PyTuple_New (array->len);

  for (guint i = 0; tuple != NULL && i < array->len; i++)
    {
      PyObject *item = pyb_wrap (type, g_ptr_array_index (array, i));
      if (item == NULL)
        Py_CLEAR (tuple);
      else
        PyTuple_SET_ITEM (tuple, i, item);
    }
  g_ptr_array_unref (array);
  return tuple;
}

void
pyb_wait_begin (PybWait *wait)
{
  wait->context = g_main_context_new ();
  wait->cancellable = g_cancellable_new ();
  wait->result = NULL;
  wait->interrupted = FALSE;
  g_main_context_push_thread_default (wait->context);
}

void
pyb_wait_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  PybWait *wait = user_data;

  wait->result = g_object_ref (result);
}

static gboolean
tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

gboolean
pyb_wait_run (PybWait *wait)
{
  /* Wakes the loop so that a Ctrl-C is heard within a tick. */
  GSource *tick = g_timeout_source_new (50);

  g_source_set_callback (tick, tick_cb, NULL, NULL);
  g_source_attach (tick, wait->context);
  while (wait->result == NULL)
    {
      Py_BEGIN_ALLOW_THREADS
      g_main_context_iteration (wait->context, TRUE);
      Py_END_ALLOW_THREADS
      if (!wait->interrupted && PyErr_CheckSignals () < 0)
        {
          wait->interrupted = TRUE;
          g_cancellable_cancel (wait->cancellable);
        }
    }
  g_source_destroy (tick);
  g_source_unref (tick);
  return !wait->interrupted;
}

gboolean
pyb_wait_check (gboolean done, gboolean ok, GError *error)
{
  if (!done)
    {
      g_clear_error (&error);
      return FALSE;
    }
  if (!ok)
    {
      pyb_raise (error);
      return FALSE;
    }
  return TRUE;
}

void
pyb_wait_end (PybWait *wait)
{
  /* Let what the finished call queued in the context (idle unrefs) run. */
  while (g_main_context_iteration (wait->context, FALSE))
    ;
  g_main_context_pop_thread_default (wait->context);
  g_clear_object (&wait->result);
  g_clear_object (&wait->cancellable);
  g_main_context_unref (wait->context);
  wait->context = NULL;
}

int
pyb_seconds (PyObject *obj, const char *what, double *out)
{
  double value;

  if (PyBool_Check (obj) || !(PyFloat_Check (obj) || PyLong_Check (obj)))
    {
      PyErr_Format (PyExc_TypeError, "%s must be a number of seconds, not %s",
                    what, Py_TYPE (obj)->tp_name);
      return -1;
    }
  value = PyFloat_AsDouble (obj);
  if (value == -1.0 && PyErr_Occurred ())
    return -1;
  if (isnan (value))
    {
      PyErr_Format (PyExc_ValueError, "%s must be a number of seconds, not NaN", what);
      return -1;
    }
  *out = value;
  return 0;
}

/* Module state: the default adapter lives in the module's dict as `adapter`. */

static PyObject *
set_adapter (PyObject *module, PyObject *new_adapter)
{
  if (new_adapter != Py_None && !PyObject_TypeCheck (new_adapter, &pyb_AdapterType))
    {
      PyErr_Format (PyExc_TypeError, "set_adapter() takes an Adapter or None, not %s",
                    Py_TYPE (new_adapter)->tp_name);
      return NULL;
    }
  if (PyObject_SetAttrString (module, "adapter", new_adapter) < 0)
    return NULL;
  Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
  { "set_adapter", set_adapter, METH_O,
    "set_adapter(new_adapter)\n--\n\n"
    "Make new_adapter (an Adapter, or None) the module's `adapter`." },
  { NULL, NULL, 0, NULL }
};

static struct PyModuleDef module_def = {
  PyModuleDef_HEAD_INIT,
  .m_name = "_bleio",
  .m_doc = "CircuitPython's _bleio BLE API on Linux, through libbleio and BlueZ.",
  .m_size = -1,
  .m_methods = module_methods,
};

/* The context the library's objects signal in (an adapter's, and so its
 * scans' and connections'): the library queues an idle there for every
 * batch of scan entries and every link change, whether or not anyone
 * listens. A Python program runs no GLib main loop, so the module runs one
 * on its own thread; otherwise each of those idles, and the object it holds,
 * would stay queued forever. */
static GMainContext *home_context;

static gpointer
home_thread (gpointer data)
{
  GMainLoop *loop = g_main_loop_new (home_context, FALSE);

  g_main_context_push_thread_default (home_context);
  g_main_loop_run (loop);
  return NULL;
}

/* A lookup handed to the home thread, so that the adapter's context is the
 * home context (a context can be thread-default only where it is owned). */
typedef struct {
  const char *name;
  BleioAdapter *adapter;
  GError *error;
  gboolean done;
  GMutex lock;
  GCond cond;
} FindData;

static void
find_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  FindData *data = user_data;
  BleioAdapter *adapter;
  GError *error = NULL;

  if (data->name != NULL)
    adapter = bleio_adapter_new_for_name_finish (result, &error);
  else
    adapter = bleio_adapter_get_default_finish (result, &error);
  g_mutex_lock (&data->lock);
  data->adapter = adapter;
  data->error = error;
  data->done = TRUE;
  g_cond_signal (&data->cond);
  g_mutex_unlock (&data->lock);
}

static gboolean
find_start (gpointer user_data)
{
  FindData *data = user_data;

  if (data->name != NULL)
    bleio_adapter_new_for_name_async (NULL, data->name, NULL, find_done, data);
  else
    bleio_adapter_get_default_async (NULL, find_done, data);
  return G_SOURCE_REMOVE;
}

BleioAdapter *
pyb_find_adapter (const char *name, GError **error)
{
  FindData data = { .name = name };

  if (home_context == NULL)
    {
      home_context = g_main_context_new ();
      g_thread_unref (g_thread_new ("bleio-python", home_thread, NULL));
    }
  g_mutex_init (&data.lock);
  g_cond_init (&data.cond);
  g_main_context_invoke (home_context, find_start, &data);
  g_mutex_lock (&data.lock);
  while (!data.done)
    g_cond_wait (&data.cond, &data.lock);
  g_mutex_unlock (&data.lock);
  g_mutex_clear (&data.lock);
  g_cond_clear (&data.cond);
  if (data.error != NULL)
    g_propagate_error (error, data.error);
  return data.adapter;
}

static PyObject *
default_adapter (void)
{
  BleioAdapter *adapter;
  GError *error = NULL;
  PyObject *obj;

  Py_BEGIN_ALLOW_THREADS
  adapter = pyb_find_adapter (NULL, &error);
  Py_END_ALLOW_THREADS
  if (adapter == NULL)
    {
      /* No BlueZ or no adapter: `adapter` is None, as the module documents;
       * the reason is there for whoever looks with G_MESSAGES_DEBUG=bleio. */
      g_debug ("_bleio: no default adapter: %s", error->message);
      g_error_free (error);
      Py_RETURN_NONE;
    }
  obj = pyb_wrap (&pyb_AdapterType, adapter);
  g_object_unref (adapter);
  return obj;
}

static int
add_exception (PyObject *module, const char *name, PyObject *base, const char *doc,
               PyObject **out)
{
  char qualified[64];

  g_snprintf (qualified, sizeof qualified, "_bleio.%s", name);
  *out = PyErr_NewExceptionWithDoc (qualified, doc, base, NULL);
  if (*out == NULL)
    return -1;
  Py_INCREF (*out);
  return PyModule_AddObject (module, name, *out);
}

/* The one exported symbol; CPython's headers do not declare it. */
PyMODINIT_FUNC PyInit__bleio (void);

PyMODINIT_FUNC
PyInit__bleio (void)
{
  PyObject *module;
  PyObject *adapter;

  if (wrappers == NULL)
    wrappers = g_hash_table_new (NULL, NULL);
  module = PyModule_Create (&module_def);
  if (module == NULL)
    return NULL;
  if (add_exception (module, "BluetoothError", PyExc_Exception,
                     "Catch-all exception for Bluetooth related errors.",
                     &pyb_BluetoothError) < 0 ||
      add_exception (module, "RoleError", pyb_BluetoothError,
                     "Raised when a resource is used as the mismatched role.",
                     &pyb_RoleError) < 0 ||
      add_exception (module, "SecurityError", pyb_BluetoothError,
                     "Raised when a security related error occurs.",
                     &pyb_SecurityError) < 0 ||
      add_exception (module, "ConnectionError", pyb_BluetoothError,
                     "Raised when a connection is unavailable.",
                     &pyb_ConnectionError) < 0 ||
      pyb_values_init (module) < 0 ||
      pyb_adapter_init (module) < 0 ||
      pyb_gatt_init (module) < 0 ||
      pyb_buffers_init (module) < 0)
    goto fail;
  adapter = default_adapter ();
  if (adapter == NULL || PyModule_AddObject (module, "adapter", adapter) < 0)
    goto fail;
  return module;

fail:
  Py_DECREF (module);
  return NULL;
}
