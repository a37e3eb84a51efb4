/* SPDX-License-Identifier: MIT */
/*
 * What the files of the `_bleio` extension share: the type objects, the
 * exceptions, turning a GError into a Python exception, wrapping library
 * objects so that one library object has one Python object, and waiting for
 * an async call with the GIL released while Ctrl-C stays heard.
 */
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <bleio/bleio.h>

/* The exceptions, created at import (module.c). */
extern PyObject *pyb_BluetoothError;
extern PyObject *pyb_RoleError;
extern PyObject *pyb_SecurityError;
extern PyObject *pyb_ConnectionError;

/* The types, one per class of the module. */
extern PyTypeObject pyb_AdapterType;
extern PyTypeObject pyb_AddressType;
extern PyTypeObject pyb_AttributeType;
extern PyTypeObject pyb_UUIDType;
extern PyTypeObject pyb_ScanEntryType;
extern PyTypeObject pyb_ScanResultsType;
extern PyTypeObject pyb_ConnectionType;
extern PyTypeObject pyb_ServiceType;
extern PyTypeObject pyb_CharacteristicType;
extern PyTypeObject pyb_DescriptorType;
extern PyTypeObject pyb_CharacteristicBufferType;
extern PyTypeObject pyb_PacketBufferType;

/* A Python object that holds one reference on a library GObject. */
typedef struct {
  PyObject_HEAD
  GObject *gobj;
  PyObject *weakrefs;
} PybGObject;

/* Sets the Python exception for @error (consumed) and returns NULL. */
PyObject *pyb_raise (GError *error);

/* The Python object for @gobj (new reference): the same one as long as it
 * lives, so `adapter.connections[0] is conn` holds. NULL @gobj gives None. */
PyObject *pyb_wrap (PyTypeObject *type, gpointer gobj);
/* tp_dealloc of every PybGObject type. */
void pyb_gobject_dealloc (PyObject *self);
/* A tuple of wrappers for a GPtrArray of GObjects (consumed). */
PyObject *pyb_wrap_array (PyTypeObject *type, GPtrArray *array);

/* Value types between C and Python. */
PyObject *pyb_uuid_new (const BleioUuid *uuid);
const BleioUuid *pyb_uuid_get (PyObject *obj);
PyObject *pyb_address_new (const BleioAddress *address);
const BleioAddress *pyb_address_get (PyObject *obj);

/* One async call waited for on a private main context. The GIL is released
 * while the context runs; every 50 ms the wait takes the GIL back to run
 * Python's signal handlers, and when one raises (Ctrl-C: KeyboardInterrupt)
 * the call is cancelled and waited for to its end, so nothing is left
 * half-done. */
typedef struct {
  GMainContext *context;
  GCancellable *cancellable;
  GAsyncResult *result;
  gboolean interrupted;
} PybWait;

void pyb_wait_begin (PybWait *wait);
/* The GAsyncReadyCallback to hand to the _async function, with the PybWait
 * as user data. */
void pyb_wait_done (GObject *source, GAsyncResult *result, gpointer user_data);
/* Runs until the call completed; FALSE when a signal handler raised (the
 * Python exception is set, the result is still there to be finished). */
gboolean pyb_wait_run (PybWait *wait);
void pyb_wait_end (PybWait *wait);
/* After pyb_wait_end(): TRUE when the call ran to its end (@done, from
 * pyb_wait_run()) and succeeded (@ok). Otherwise FALSE with the Python
 * exception set: the interrupting one when not @done (@error is then
 * dropped), else @error's; @error is consumed either way. */
gboolean pyb_wait_check (gboolean done, gboolean ok, GError *error);

/* Looks up an adapter (NULL @name: the default one) so that it signals in
 * the module's own main context, which the module's thread runs. Blocks;
 * call without the GIL. */
BleioAdapter *pyb_find_adapter (const char *name, GError **error);

/* Argument helpers: a float in seconds (not bool, not NaN). */
int pyb_seconds (PyObject *obj, const char *what, double *out);

/* PyType_Ready and add to the module; an int constant in a type's dict. */
int pyb_add_type (PyObject *module, PyTypeObject *type, const char *name);
int pyb_add_int_constant (PyTypeObject *type, const char *name, long value);

/* Adapter's advertising members (advertising.c). */
PyObject *pyb_adapter_start_advertising (PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *pyb_adapter_stop_advertising (PyObject *self, PyObject *unused);
PyObject *pyb_adapter_get_advertising (PyObject *self, void *closure);

/* The local GATT server (local.c): Service's tp_new, the two class
 * methods, and registering an adapter's services with bluetoothd (0, or -1
 * with the exception set; nothing to do without services). */
PyObject *pyb_service_new_local (PyTypeObject *type, PyObject *args, PyObject *kwargs);
PyObject *pyb_characteristic_add_to_service (PyObject *cls, PyObject *args, PyObject *kwargs);
PyObject *pyb_descriptor_add_to_characteristic (PyObject *cls, PyObject *args, PyObject *kwargs);
int pyb_publish_services (PyObject *adapter);

/* Per-file set-up, called from the module init. */
int pyb_values_init (PyObject *module);
int pyb_adapter_init (PyObject *module);
int pyb_gatt_init (PyObject *module);
int pyb_buffers_init (PyObject *module);
