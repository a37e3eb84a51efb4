/* SPDX-License-Identifier: MIT */
/*
 * bleio-sim internals: the scenario model, the exported objects and the
 * helpers the per-interface files share. The daemon is single threaded: every
 * function here runs in the main context, except where a comment says so.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define SIM_BLUEZ_NAME "org.bluez"
#define SIM_CONTROL_PATH "/org/bleio/sim"
#define SIM_DEFAULT_MTU 517
#define SIM_MAX_ATTR_LEN 512

/* Characteristic and descriptor permission bits. The low ten are what a
 * remote's declaration and extended properties show, hence what BlueZ puts in
 * Flags; the others are server-side security that a client cannot see. */
enum {
  SIM_CHR_BROADCAST = 1 << 0,
  SIM_CHR_READ = 1 << 1,
  SIM_CHR_WRITE_WITHOUT_RESPONSE = 1 << 2,
  SIM_CHR_WRITE = 1 << 3,
  SIM_CHR_NOTIFY = 1 << 4,
  SIM_CHR_INDICATE = 1 << 5,
  SIM_CHR_AUTHENTICATED_SIGNED_WRITES = 1 << 6,
  SIM_CHR_EXTENDED_PROPERTIES = 1 << 7,
  SIM_CHR_RELIABLE_WRITE = 1 << 8,
  SIM_CHR_WRITABLE_AUXILIARIES = 1 << 9,
  SIM_CHR_ENCRYPT_READ = 1 << 10,
  SIM_CHR_ENCRYPT_WRITE = 1 << 11,
  SIM_CHR_ENCRYPT_AUTHENTICATED_READ = 1 << 12,
  SIM_CHR_ENCRYPT_AUTHENTICATED_WRITE = 1 << 13,
  SIM_CHR_SECURE_READ = 1 << 14,
  SIM_CHR_SECURE_WRITE = 1 << 15,
  SIM_CHR_AUTHORIZE = 1 << 16,
  SIM_CHR_ENCRYPT_NOTIFY = 1 << 17,
  SIM_CHR_ENCRYPT_AUTHENTICATED_NOTIFY = 1 << 18,
  SIM_CHR_SECURE_NOTIFY = 1 << 19,
};

#define SIM_CHR_VISIBLE_MASK 0x3ffu
#define SIM_CHR_READ_SECURITY \
  (SIM_CHR_ENCRYPT_READ | SIM_CHR_ENCRYPT_AUTHENTICATED_READ | SIM_CHR_SECURE_READ)
#define SIM_CHR_WRITE_SECURITY \
  (SIM_CHR_ENCRYPT_WRITE | SIM_CHR_ENCRYPT_AUTHENTICATED_WRITE | SIM_CHR_SECURE_WRITE)

/* Flag strings in the order BlueZ lists them; NULL-terminated. */
extern const char *const sim_flag_names[];

/* ---- scenario model (sim-scenario.c) ---- */

typedef struct {
  guint16 handle;
  char *uuid;
  guint32 flags;
  GByteArray *value;
} SimDescDef;

typedef struct {
  guint16 handle;       /* declaration handle, the one in the object path */
  char *uuid;
  guint32 flags;
  GByteArray *value;    /* the peripheral's current value */
  gboolean acquire_notify;
  gboolean acquire_write;
  guint period_ms;      /* notification stream, 0 = none */
  GPtrArray *payloads;  /* GBytes, sent in turn */
  GPtrArray *descs;     /* SimDescDef, in handle order */
} SimCharDef;

typedef struct {
  guint16 handle;
  char *uuid;
  gboolean primary;
  gboolean hidden;      /* in the database and UUIDs, but no object */
  GPtrArray *chars;     /* SimCharDef, in handle order */
} SimServiceDef;

typedef struct {
  char *name;
  char *address;
  char *alias;
  char *system_name;
  char *modalias;
  gboolean powered;
  gboolean discoverable;
  gboolean pairable;
  guint32 class_of_device;
  guint32 discoverable_timeout;
  guint32 pairable_timeout;
} SimAdapterDef;

typedef enum {
  SIM_PAIR_ACCEPT,
  SIM_PAIR_REJECT,
  SIM_PAIR_CANCEL,
  SIM_PAIR_TIMEOUT,
} SimPairOutcome;

typedef struct {
  gint ref_count;
  char *adapter;
  char *address;
  char *address_type;
  char *name;           /* advertised name, NULL when none */
  char *gap_name;       /* GAP Device Name read after connecting, or NULL */
  char *alias;          /* initial Alias of the device object, or NULL */
  char *modalias;       /* learnt from Device Information after connecting */
  char *icon;
  gint rssi;
  guint rssi_jitter;
  gboolean has_tx_power;
  gint tx_power;
  gboolean has_appearance;
  guint16 appearance;
  gboolean has_class;
  guint32 class_of_device;
  guint adv_interval_ms;
  gboolean connectable;
  GBytes *adv_flags;          /* NULL when not advertised */
  GPtrArray *uuids;           /* char *, full 128-bit strings */
  GVariant *manufacturer_data; /* a{qv}, NULL when empty */
  GVariant *service_data;     /* a{sv}, NULL when empty */
  GVariant *advertising_data; /* a{yv}, NULL when empty */
  guint16 mtu;
  gboolean legacy_pairing;
  /* pairing */
  char *io_capability;
  char *pair_method;          /* just-works, confirmation, passkey-entry,
                                 display-passkey or authorization */
  guint32 passkey;
  SimPairOutcome pair_outcome;
  gboolean bonding;
  guint pair_delay_ms;
  guint agent_timeout_ms;
  gboolean paired;            /* bonded before the simulator started */
  /* connecting */
  guint connect_delay_ms;
  char *connect_error;        /* BlueZ reason string, NULL = success */
  guint connect_fail_count;   /* 0 = every attempt fails when connect_error */
  guint connect_attempts;     /* runtime counter */
  guint resolve_delay_ms;
  guint att_delay_ms;
  GPtrArray *services;        /* SimServiceDef, in handle order */
} SimPeripheral;

typedef struct {
  GPtrArray *adapters;        /* SimAdapterDef */
  GPtrArray *peripherals;     /* SimPeripheral */
  guint temporary_timeout_ms;
} SimScenario;

SimScenario   *sim_scenario_load_file   (const char  *path,
                                         GError     **error);
SimScenario   *sim_scenario_load_data   (const char  *data,
                                         gssize       length,
                                         const char  *display_name,
                                         GError     **error);
void           sim_scenario_free        (SimScenario *scenario);
SimPeripheral *sim_peripheral_from_json (const char  *json,
                                         const char  *adapter,
                                         GError     **error);
SimPeripheral *sim_peripheral_ref       (SimPeripheral *p);
void           sim_peripheral_unref     (SimPeripheral *p);
SimAdapterDef *sim_adapter_def_new      (const char *name,
                                         const char *address);
void           sim_adapter_def_free     (SimAdapterDef *def);
char          *sim_uuid_normalize       (const char *text);
guint32        sim_flags_from_strv      (const char *const *strv,
                                         GError    **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimScenario, sim_scenario_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimPeripheral, sim_peripheral_unref)

/* ---- exported objects (sim-daemon.c) ---- */

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
  GDBusInterfaceInfo *info;   /* filled by sim_daemon_init_interfaces() */
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
#define SIM_ERR_AUTH_FAILED "org.bluez.Error.AuthenticationFailed"
#define SIM_ERR_AUTH_CANCELED "org.bluez.Error.AuthenticationCanceled"
#define SIM_ERR_AUTH_REJECTED "org.bluez.Error.AuthenticationRejected"
#define SIM_ERR_AUTH_TIMEOUT "org.bluez.Error.AuthenticationTimeout"
#define SIM_MSG_INVALID_ARGS "Invalid arguments in method call"
#define SIM_MSG_NOT_SUPPORTED "Operation is not supported"
#define SIM_MSG_DOES_NOT_EXIST "Does Not Exist"
#define SIM_MSG_ALREADY_EXISTS "Already Exists"
#define SIM_MSG_IN_PROGRESS "In Progress"

/* ---- runtime objects ---- */

typedef struct _SimAdapter SimAdapter;
typedef struct _SimDevice SimDevice;
typedef struct _SimService SimService;
typedef struct _SimChar SimChar;
typedef struct _SimDesc SimDesc;
typedef struct _SimPairing SimPairing;

/* One pending ATT read or write: bluetoothd keeps one of each per
 * attribute; reads at the same offset join the pending one. */
typedef struct {
  guint source;
  guint16 offset;
  GPtrArray *invocations;     /* GDBusMethodInvocation waiting for it */
} SimPendingOp;

typedef struct {
  char *sender;
  guint watch_id;
  gboolean discovering;       /* StartDiscovery called */
  gboolean has_filter;
  char **uuids;
  gboolean has_rssi;
  gint16 rssi;
  gboolean has_pathloss;
  guint16 pathloss;
  char *transport;
  gboolean duplicate_data;
  gboolean discoverable;
  char *pattern;
} SimDiscoveryClient;

struct _SimAdapter {
  SimObj obj;
  char *name;
  char *address;
  char *alias;
  char *system_name;
  char *modalias;
  gboolean powered;
  const char *power_state;
  gboolean discoverable;
  gboolean discoverable_by_filter;
  guint32 discoverable_timeout;
  guint discoverable_source;
  gboolean pairable;
  guint32 pairable_timeout;
  guint32 class_of_device;
  gboolean discovering;
  GHashTable *clients;        /* sender -> SimDiscoveryClient */
  GPtrArray *devices;         /* SimDevice, owned */
  GHashTable *device_index;   /* address -> SimDevice, same set */
  GPtrArray *peripherals;     /* SimPeripheral advertising here, owned */
  GHashTable *next_adv;       /* SimPeripheral -> gint64 due time (us) */
  guint adv_source;
  guint first_adv_source;     /* the idle that starts a discovery's adverts */
  guint flood_source;
  guint flood_id;             /* the running flood, 0 for none: flushes of an
                               * ended flood must not resume it */
  guint flood_devices;
  guint flood_rounds;
  guint flood_round;
  GPtrArray *flood_peripherals;
};

struct _SimDevice {
  SimObj obj;
  SimAdapter *adapter;
  SimPeripheral *periph;
  char *alias;                /* set through the Alias property, or NULL */
  gboolean rssi_valid;
  gint16 rssi;
  gboolean tx_power_valid;
  gboolean advertised;        /* advertising fields known */
  gboolean connected;
  gboolean services_resolved;
  gboolean resolved_once;
  gboolean paired;
  gboolean bonded;
  gboolean trusted;
  gboolean blocked;
  gboolean legacy_pairing;
  gboolean temporary;
  gboolean gap_name_known;
  gboolean battery_exported;
  GPtrArray *services;        /* SimService, owned; NULL when not exported */
  GPtrArray *connect_waiters; /* GDBusMethodInvocation */
  guint connect_source;
  guint resolve_source;
  guint temporary_source;
  SimPairing *pairing;
  GDBusMethodInvocation *connect_device_invocation; /* answered with (o) */
  GVariant *shown_mfr;        /* ManufacturerData as last received */
  GVariant *shown_svc;        /* ServiceData as last received */
  gboolean connecting;
};

struct _SimService {
  SimObj obj;
  SimDevice *device;
  SimServiceDef *def;
  GPtrArray *chars;           /* SimChar, owned */
};

struct _SimChar {
  SimObj obj;
  SimService *service;
  SimCharDef *def;
  GByteArray *cached;         /* the Value property */
  GHashTable *sessions;       /* sender -> watch id (StartNotify) */
  int notify_fd;
  guint notify_watch;
  int write_fd;
  guint write_watch;
  guint stream_source;
  guint stream_index;
  SimPendingOp read_op;
  SimPendingOp write_op;
  GPtrArray *descs;           /* SimDesc, owned */
  /* a NotifyBurst in progress */
  guint burst_left;
  GBytes *burst_value;
  guint burst_source;
  gboolean burst_flushing;
  /* NotifySequence: the next index written into the payload */
  gboolean burst_counted;
  guint32 burst_seq;
};

struct _SimDesc {
  SimObj obj;
  SimChar *chr;
  SimDescDef *def;
  GByteArray *cached;
  SimPendingOp read_op;
  SimPendingOp write_op;
};

extern SimIfaceDef sim_adapter_iface;
extern SimIfaceDef sim_device_iface;
extern SimIfaceDef sim_battery_iface;
extern SimIfaceDef sim_service_iface;
extern SimIfaceDef sim_char_iface;
extern SimIfaceDef sim_desc_iface;
extern SimIfaceDef sim_agent_manager_iface;

/* ---- the daemon (sim-daemon.c) ---- */

typedef struct {
  GDBusConnection *conn;
  SimScenario *scenario;
  char *scenario_path;        /* NULL = the embedded demo */
  GHashTable *objects;        /* path -> SimObj (not owned) */
  GPtrArray *adapters;        /* SimAdapter, owned */
  guint owner_id;
  gboolean up;                /* objects exported and name requested */
  guint temporary_timeout_ms;
  GMainLoop *loop;
  int exit_status;
} SimDaemon;

extern SimDaemon *sim;

gboolean  sim_daemon_start        (GDBusConnection *conn,
                                   SimScenario     *scenario,
                                   const char      *scenario_path,
                                   GError         **error);
void      sim_daemon_stop         (void);
/* Drops org.bluez and all objects, then brings them back after @down_msec
 * with the scenario reloaded. */
void      sim_daemon_restart      (guint down_msec);
void      sim_daemon_quit         (int status);
GDBusInterfaceInfo *sim_interface_info (const char *name);
void      sim_daemon_keep_unanswered (GDBusMethodInvocation *invocation);
SimScenario *sim_load_embedded_demo (GError **error);
void      sim_daemon_log_call     (const char *method,
                                   const char *path,
                                   const char *sender);

/* ---- sim-adapter.c ---- */
SimAdapter *sim_adapter_new       (SimAdapterDef *def);
void        sim_adapter_export    (SimAdapter *adapter,
                                   gboolean    announce);
void        sim_adapter_free      (SimAdapter *adapter);
void        sim_adapter_add_peripheral (SimAdapter    *adapter,
                                        SimPeripheral *periph);
SimAdapter *sim_adapter_find      (const char *name);
SimDevice  *sim_adapter_find_device (SimAdapter *adapter,
                                     const char *address);
void        sim_adapter_add_device  (SimAdapter *adapter,
                                     SimDevice  *device);
/* Removes @device from the adapter's lists and frees it. */
void        sim_adapter_drop_device (SimAdapter *adapter,
                                     SimDevice  *device);
/* Creates and exports the Device1 object for @periph (InterfacesAdded). */
SimDevice  *sim_adapter_ensure_device (SimAdapter    *adapter,
                                       SimPeripheral *periph);
void        sim_adapter_remove_device (SimAdapter *adapter,
                                       SimDevice  *device);
void        sim_adapter_remove_peripheral (SimAdapter    *adapter,
                                           SimPeripheral *periph);
void        sim_adapter_flood     (SimAdapter *adapter,
                                   guint       devices,
                                   guint       rounds);
void        sim_adapter_update_temporary (SimAdapter *adapter);

/* ---- sim-device.c ---- */
SimDevice *sim_device_new         (SimAdapter    *adapter,
                                   SimPeripheral *periph);
void       sim_device_free        (SimDevice *device);
void       sim_device_connect     (SimDevice             *device,
                                   GDBusMethodInvocation *invocation);
/* Ends the link; @reason is logged only. Emits the disconnect signals. */
void       sim_device_drop_link   (SimDevice  *device,
                                   const char *reason);
void       sim_device_set_paired  (SimDevice *device,
                                   gboolean   bonded);
void       sim_device_arm_temporary (SimDevice *device);
/* Advertising report: updates RSSI and advertising fields. @duplicates says
 * whether unchanged data is signalled again (DuplicateData). */
void       sim_device_advertise   (SimDevice *device,
                                   gint16     rssi,
                                   gboolean   duplicates,
                                   gboolean   rssi_any_change);
gboolean   sim_device_notify_battery (SimDevice *device,
                                      SimChar   *chr);

/* ---- sim-gatt.c ---- */
GPtrArray *sim_gatt_build         (SimDevice *device);
void       sim_gatt_export        (GPtrArray *services,
                                   gboolean   announce);
void       sim_gatt_unexport      (GPtrArray *services,
                                   gboolean   announce);
/* Closes acquired fds, ends sessions and fails pending operations. */
void       sim_gatt_link_lost     (GPtrArray *services);
SimChar   *sim_gatt_find_char     (SimDevice *device,
                                   const char *uuid);
/* The peripheral sends one notification; returns FALSE when nobody gets it. */
gboolean   sim_char_notify        (SimChar      *chr,
                                   const guint8 *data,
                                   gsize         len);
void       sim_char_notify_burst  (SimChar *chr,
                                   GBytes  *value,
                                   guint    count);
/* As sim_char_notify_burst(), with each notification's index (from 0) in
 * its first four bytes, little-endian; @value must hold at least four. */
void       sim_char_notify_sequence (SimChar *chr,
                                     GBytes  *value,
                                     guint    count);

/* ---- sim-agent.c ---- */
void       sim_agent_manager_reset (void);
/* Pairs @device on behalf of @invocation (Device1.Pair) or, when
 * @invocation is NULL, as security elevation through the default agent.
 * @done runs with the D-Bus error name or NULL on success. */
typedef void (*SimPairDone) (SimDevice  *device,
                             const char *error_name,
                             const char *error_message,
                             gpointer    user_data);
void       sim_agent_pair         (SimDevice             *device,
                                   GDBusMethodInvocation *invocation,
                                   SimPairDone            done,
                                   gpointer               user_data);
gboolean   sim_agent_cancel_pairing (SimDevice *device);
/* A pairing the peer of @device starts (control method PairIncoming):
 * the default agent answers, else the most recently registered one. */
void       sim_agent_pair_incoming (SimDevice  *device,
                                    SimPairDone done,
                                    gpointer    user_data);
void       sim_agent_pairing_free (SimPairing *pairing);
gboolean   sim_agent_have_default (void);

/* ---- sim-hostile.c: SetHostile / ClearHostile ---- */
void       sim_hostile_control    (GDBusMethodInvocation *invocation,
                                   const char            *method,
                                   GVariant              *params);
void       sim_hostile_reset      (void);
void       sim_hostile_free       (void);
/* Applies the property overrides to @props (a{sv} of @path's @interface;
 * consumed if floating) and returns the result; @add_missing also adds
 * overridden properties @props lacks. Returns @props itself when nothing
 * applies. */
GVariant  *sim_hostile_filter_props (const char *path,
                                     const char *interface,
                                     GVariant   *props,
                                     gboolean    add_missing);
/* Appends the hostile fake objects to a GetManagedObjects answer. */
void       sim_hostile_add_objects (GVariantBuilder *b);
/* Answers a call the hostile way (a malformed reply, a bad fd); returns
 * TRUE when it took @invocation. */
gboolean   sim_hostile_intercept  (GDBusMethodInvocation *invocation);

/* ---- sim-control.c ---- */
void       sim_control_export     (GDBusConnection *conn);
void       sim_control_unexport   (void);
/* Applies FailNext/DelayNext/NoReplyNext to a call; returns TRUE when the
 * call was consumed (answered with an error or kept unanswered). When it
 * returns FALSE and *delay_ms > 0 the caller defers the call. */
gboolean   sim_control_intercept  (GDBusMethodInvocation *invocation,
                                   guint                 *delay_ms);

G_END_DECLS
