/* SPDX-License-Identifier: MIT */
/*
 * The object registry (floor 1, the bus): objects exported under org.bluez,
 * ObjectManager at "/", Introspect in bluetoothd's layout, the message
 * filter that answers bad calls as bluetoothd does, property signals and
 * error replies. It knows nothing of adapters or devices; the floors above
 * register hooks (sim-control.c's call log and faults, sim-hostile.c's
 * answers and overrides) and it calls them, never the other way round.
 * Everything here runs in the main context unless a comment says so.
 */
#pragma once

#include <gio/gio.h>

#include "sim-scenario.h"

G_BEGIN_DECLS

typedef struct _SimObj SimObj;
typedef struct _SimIfaceDef SimIfaceDef;

struct _SimIfaceDef {
  const char *name;
  /* Answers a method call; the call was logged and fault injection applied. */
  void      (*method) (SimObj                *obj,
                       GDBusMethodInvocation *invocation,
                       const char            *method,
                       GVariant              *params);
  /* Returns the property's value (floating or a new reference, which the
   * caller owns), or NULL when the object does not have it right now
   * (BlueZ leaves such properties out of GetAll). */
  GVariant *(*get)    (SimObj     *obj,
                       const char *property);
  gboolean  (*set)    (SimObj     *obj,
                       const char *property,
                       GVariant   *value,
                       GError    **error);
  GDBusInterfaceInfo *info;   /* looked up by the registry when first exported */
};

typedef enum {
  SIM_OBJ_ROOT,
  SIM_OBJ_MANAGER,
  SIM_OBJ_ADAPTER,
  SIM_OBJ_DEVICE,
  SIM_OBJ_SERVICE,
  SIM_OBJ_CHAR,
  SIM_OBJ_DESC,
} SimObjKind;

typedef struct {
  const SimIfaceDef *def;
  guint id;
} SimIfaceReg;

struct _SimObj {
  SimObjKind kind;
  char *path;
  GArray *ifaces;             /* SimIfaceReg, in registration order */
  gboolean exported;
};

void      sim_obj_init            (SimObj     *obj,
                                   SimObjKind  kind,
                                   char       *path);
void      sim_obj_clear           (SimObj *obj);
/* Registers @defs (NULL-terminated) on the bus; emits InterfacesAdded when
 * @announce. */
void      sim_obj_export          (SimObj             *obj,
                                   const SimIfaceDef *const *defs,
                                   gboolean            announce);
/* Adds one interface to an exported object, with InterfacesAdded. */
void      sim_obj_add_iface       (SimObj            *obj,
                                   const SimIfaceDef *def);
void      sim_obj_remove_iface    (SimObj            *obj,
                                   const SimIfaceDef *def);
/* Unregisters everything; emits InterfacesRemoved when @announce. */
void      sim_obj_unexport        (SimObj   *obj,
                                   gboolean  announce);
gboolean  sim_obj_has_iface       (SimObj            *obj,
                                   const SimIfaceDef *def);
SimObj   *sim_obj_lookup          (const char *path);
/* Emits PropertiesChanged with the current value of each named property
 * (NULL-terminated); absent ones go to the invalidated list. */
void      sim_obj_changed         (SimObj            *obj,
                                   const SimIfaceDef *def,
                                   ...) G_GNUC_NULL_TERMINATED;
/* The same for the interface called @interface: for the floors below the
 * file that defines the interface (sim-notify.c for GattCharacteristic1). */
void      sim_obj_changed_by_name (SimObj     *obj,
                                   const char *interface,
                                   ...) G_GNUC_NULL_TERMINATED;
void      sim_obj_invalidated     (SimObj            *obj,
                                   const SimIfaceDef *def,
                                   const char        *property);
/* The fast path for notifications: PropertiesChanged {Value: @data}. */
void      sim_emit_value          (const char   *path,
                                   const char   *interface,
                                   const guint8 *data,
                                   gsize         len);

GVariant *sim_bytes_variant       (const guint8 *data,
                                   gsize         len);

/* ---- errors as bluetoothd words them ---- */
void sim_return_error (GDBusMethodInvocation *invocation,
                       const char            *name,
                       const char            *message);
#define SIM_ERR_FAILED "org.bluez.Error.Failed"
#define SIM_ERR_IN_PROGRESS "org.bluez.Error.InProgress"
#define SIM_ERR_NOT_SUPPORTED "org.bluez.Error.NotSupported"
#define SIM_ERR_NOT_PERMITTED "org.bluez.Error.NotPermitted"
#define SIM_ERR_INVALID_ARGS "org.bluez.Error.InvalidArguments"
#define SIM_ERR_DOES_NOT_EXIST "org.bluez.Error.DoesNotExist"
#define SIM_ERR_ALREADY_EXISTS "org.bluez.Error.AlreadyExists"
#define SIM_ERR_NOT_READY "org.bluez.Error.NotReady"
#define SIM_ERR_NOT_AUTHORIZED "org.bluez.Error.NotAuthorized"
#define SIM_ERR_NOT_CONNECTED "org.bluez.Error.NotConnected"
#define SIM_ERR_AUTH_FAILED "org.bluez.Error.AuthenticationFailed"
#define SIM_ERR_AUTH_CANCELED "org.bluez.Error.AuthenticationCanceled"
#define SIM_ERR_AUTH_REJECTED "org.bluez.Error.AuthenticationRejected"
#define SIM_ERR_AUTH_TIMEOUT "org.bluez.Error.AuthenticationTimeout"
#define SIM_MSG_INVALID_ARGS "Invalid arguments in method call"
#define SIM_MSG_NOT_SUPPORTED "Operation is not supported"
#define SIM_MSG_DOES_NOT_EXIST "Does Not Exist"
#define SIM_MSG_ALREADY_EXISTS "Already Exists"
#define SIM_MSG_IN_PROGRESS "In Progress"

/* ---- the registry's life ---- */

/* Once per process: reads the interface XML and installs the message
 * filter on @conn. */
/* Which bluetoothd the bus shows (its introspection, the members and the
 * behaviour that differ between releases): called once, before
 * sim_registry_init(). 5.66 when never called. */
void             sim_registry_set_bluez      (SimBluez         release);
SimBluez         sim_bluez                   (void);
void             sim_registry_init           (GDBusConnection *conn);
void             sim_registry_shutdown       (void);
GDBusConnection *sim_registry_get_connection (void);
/* Starts an empty registry with ObjectManager at "/". */
void             sim_registry_open           (void);
/* From now until sim_registry_close(), errors are answered as dbus-daemon
 * answers the callers of a process that went away (Restart). */
void             sim_registry_begin_close    (void);
/* Forgets every object (their owners unexported them already) and answers
 * the calls kept unanswered with NoReply. */
void             sim_registry_close          (void);
gboolean         sim_registry_is_open        (void);
GDBusInterfaceInfo *sim_interface_info       (const char *name);
/* Keeps @invocation unanswered until the registry closes. */
void             sim_registry_keep_unanswered (GDBusMethodInvocation *invocation);

/* ---- hooks the floors above register at start-up ---- */

/* Sees every org.bluez method call first (the call log). */
typedef void     (*SimCallLogHook)    (const char *method,
                                       const char *path,
                                       const char *sender);
/* May answer a call in place of its method: TRUE when it took @invocation. */
typedef gboolean (*SimCallAnswerHook) (GDBusMethodInvocation *invocation);
/* May fail, hold or delay a call: TRUE when it took @invocation; when it
 * returns FALSE with *delay_ms > 0 the registry runs the method later. */
typedef gboolean (*SimCallFaultHook)  (GDBusMethodInvocation *invocation,
                                       guint                 *delay_ms);
/* Rewrites the a{sv} of @path's @interface (consumes @props if floating);
 * @add_missing also adds properties @props lacks. */
typedef GVariant *(*SimPropsHook)     (const char *path,
                                       const char *interface,
                                       GVariant   *props,
                                       gboolean    add_missing);
/* Appends extra objects to a GetManagedObjects answer. */
typedef void     (*SimObjectsHook)    (GVariantBuilder *b);

void sim_registry_set_call_log_hook    (SimCallLogHook    hook);
void sim_registry_set_call_answer_hook (SimCallAnswerHook hook);
void sim_registry_set_call_fault_hook  (SimCallFaultHook  hook);
void sim_registry_set_props_hook       (SimPropsHook      hook);
void sim_registry_set_objects_hook     (SimObjectsHook    hook);

G_END_DECLS
