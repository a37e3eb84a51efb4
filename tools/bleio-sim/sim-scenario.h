/* SPDX-License-Identifier: MIT */
/*
 * The scenario model (floor 0, values): what a scenario file describes,
 * read by sim-scenario.c (with sim-json.c) and never changed by the floors
 * above except for runtime counters and values a peripheral holds.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

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

/* An attribute that an application registered on one of the simulator's
 * adapters serves (sim-gatt-server.c): where a peer's operations on it
 * go. Shared by reference between that adapter's database and the
 * definitions a peer's objects are built from, so it holds no pointer
 * into either. */
typedef struct {
  gint ref_count;
  char *adapter;        /* the serving adapter's name */
  char *owner;          /* the application's bus name; NULL once it went */
  char *path;           /* its object */
  const char *iface;    /* GattCharacteristic1 or GattDescriptor1 */
  gboolean notify_acquired; /* shows NotifyAcquired: bluetoothd acquires */
  gboolean write_acquired;  /* shows WriteAcquired */
  guint subscribers;    /* peers with the CCC on (bluetoothd's ntfy_cnt) */
} SimServed;

SimServed *sim_served_ref   (SimServed *served);
void       sim_served_unref (SimServed *served);

typedef struct {
  guint16 handle;
  char *uuid;
  guint32 flags;
  GByteArray *value;
  SimServed *served;    /* NULL: the value above is the peer's */
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
  SimServed *served;    /* NULL: the value above is the peer's */
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
  /* runtime: a scanner that has no device for it yet sees it only with
   * the discoverable Flags or a filtered discovery (sim-air.c sets it for
   * the adapters' advertisements) */
  gboolean needs_discoverable_flags;
} SimPeripheral;

/* The bluetoothd release whose D-Bus API the simulator speaks (its
 * "personality"): 5.66 (Debian 12) unless told otherwise, or 5.82 (Debian
 * 13). The value is the release's number without the dot. */
typedef enum {
  SIM_BLUEZ_DEFAULT = 0,      /* not given: the scenario does not say */
  SIM_BLUEZ_5_66 = 566,
  SIM_BLUEZ_5_82 = 582,
} SimBluez;

typedef struct {
  GPtrArray *adapters;        /* SimAdapterDef */
  GPtrArray *peripherals;     /* SimPeripheral */
  guint temporary_timeout_ms;
  SimBluez bluez;             /* the scenario's "bluez" key */
} SimScenario;

/* Free functions of the definitions, for arrays built outside a scenario
 * file (an adapter's own database, sim-gatt-server.c). */
void           sim_desc_def_free        (gpointer data);
void           sim_char_def_free        (gpointer data);
void           sim_service_def_free     (gpointer data);

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
/* "5.66" or "5.82"; anything else is SIM_BLUEZ_DEFAULT. */
SimBluez       sim_bluez_parse          (const char *text);
guint32        sim_flags_from_strv      (const char *const *strv,
                                         GError    **error);

/* The demo scenario built into the binary (scenarios/demo.json), used
 * when no --scenario is given and again on Restart. */
SimScenario   *sim_scenario_load_demo   (GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimScenario, sim_scenario_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimPeripheral, sim_peripheral_unref)


G_END_DECLS
