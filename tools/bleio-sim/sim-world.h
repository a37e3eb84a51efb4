/* SPDX-License-Identifier: MIT */
/*
 * The simulated world's runtime objects (floor 3): adapters, devices and
 * their GATT objects as structs, and the world's shared state. The files of
 * this floor build on each other in this order, each calling only those
 * before it: sim-world.c, sim-battery.c, sim-agent.c, sim-notify.c,
 * sim-gatt-server.c, sim-gatt-peer.c, sim-gatt.c, sim-device.c,
 * sim-monitor.c, sim-adapter-misc.c, sim-adapter.c, sim-air.c, sim-advertisement.c,
 * sim-advertising.c.
 * Where a lower one must reach a higher one (a device asking its adapter to
 * forget it, pairing marking a device paired, a link or the power changing
 * what is on the air, a monitor starting or stopping the scan, a CCC
 * switched on a characteristic an application serves, an application's
 * notification) it goes through SimWorldHooks, which the daemon fills in.
 */
#pragma once

#include "sim-registry.h"
#include "sim-scenario.h"

G_BEGIN_DECLS

typedef struct _SimAdapter SimAdapter;
typedef struct _SimDevice SimDevice;
typedef struct _SimService SimService;
typedef struct _SimChar SimChar;
typedef struct _SimDesc SimDesc;
typedef struct _SimPairing SimPairing;
typedef struct _SimGattDatabase SimGattDatabase;

/* One pending ATT read or write: bluetoothd keeps one of each per
 * attribute; reads at the same offset join the pending one. */
typedef struct {
  guint source;
  guint16 offset;
  GPtrArray *invocations;     /* GDBusMethodInvocation waiting for it */
  gboolean served;            /* waiting for an application's answer */
  guint serial;               /* tells a late answer from the current op's */
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
  gboolean connectable;       /* 5.82's Adapter1.Connectable */
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
  /* This adapter as the others of the simulator see it on the air: its
   * address, its own GATT database and what it advertises (sim-air.c
   * keeps it; NULL until first needed). */
  SimPeripheral *air_self;
  SimPeripheral *air_anon;    /* the same while it broadcasts: a private
                               * address, no GATT (sim-air.c) */
  gboolean air_advertising;   /* some advertisement is registered */
  gboolean air_connectable;   /* ... and it is connectable */
  GPtrArray *monitor_apps;    /* advertisement monitor applications
                               * (sim-monitor.c), NULL before the first */
  SimGattDatabase *gatt_db;   /* the local database, GattManager1's */
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
  GPtrArray *uuid_services;   /* while ReplaceGatt runs: the SimServiceDefs
                               * Device1.UUIDs shows at this step (not
                               * owned); NULL otherwise (the peripheral's) */
  GPtrArray *connect_waiters; /* GDBusMethodInvocation */
  guint connect_source;
  guint resolve_source;
  guint temporary_source;
  SimPairing *pairing;
  gboolean pairing_refused_here; /* our agent said no to the last pairing */
  GDBusMethodInvocation *connect_device_invocation; /* answered with (o) */
  GVariant *shown_mfr;        /* ManufacturerData as last received */
  GVariant *shown_svc;        /* ServiceData as last received */
  gboolean connecting;
  gboolean incoming;          /* the remote is the central: the link came to us */
  gboolean remote_ended;      /* the link being dropped was closed by the remote */
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
  /* This central's CCCD is on: the peripheral keeps one per client
   * (bluetoothd's device_state), while the definition is shared by
   * every central that browsed it. */
  gboolean ccc_on;
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

typedef struct {
  /* sim-adapter.c: removes a device with InterfacesRemoved */
  void (*remove_device) (SimAdapter *adapter,
                         SimDevice  *device);
  /* sim-adapter.c: forgets a device that has no object */
  void (*drop_device)   (SimAdapter *adapter,
                         SimDevice  *device);
  /* sim-device.c: a pairing succeeded */
  void (*set_paired)    (SimDevice  *device,
                         gboolean    bonded);
  /* sim-device.c: the kernel ends @device's link (sim-gatt.c: a security
   * elevation whose pairing nobody here accepted) */
  void (*drop_link)     (SimDevice  *device,
                         const char *reason);
  /* sim-air.c: a link came up or went down on @device (either role), so
   * that the other end, when it is an adapter of this simulator, follows */
  void (*link_up)       (SimDevice  *device);
  void (*link_down)     (SimDevice  *device,
                         const char *reason);
  /* sim-advertising.c: @adapter's Powered or Discoverable changed */
  void (*adapter_changed) (SimAdapter *adapter);
  /* sim-adapter.c: discovery or the monitors changed: advertisements are
   * heard while either wants them */
  void (*update_scan)   (SimAdapter *adapter);
  /* sim-gatt-peer.c: a client switched the CCC of a characteristic that
   * an application of another adapter serves (sim-notify.c calls it) */
  void (*ccc_written)   (SimChar    *chr,
                         gboolean    on);
  /* sim-gatt-peer.c: a client's acquired write socket carried a packet
   * for a characteristic an application of another adapter serves
   * (sim-notify.c calls it); bluetoothd sends it as a Write Command */
  void (*served_write)  (SimChar      *chr,
                         const guint8 *data,
                         gsize         len);
  /* sim-gatt-peer.c: an application notified a value
   * (sim-gatt-server.c calls it) */
  void (*served_value)  (SimServed    *served,
                         const guint8 *data,
                         gsize         len);
} SimWorldHooks;

typedef struct {
  GPtrArray *adapters;        /* SimAdapter, owned; NULL while down */
  guint temporary_timeout_ms;
  SimWorldHooks hooks;
  /* org.bluez.LEAdvertisingManager1, defined by sim-advertising.c (above
   * sim-adapter.c) and put on every adapter by sim_adapter_export() */
  const SimIfaceDef *adv_manager_iface;
} SimWorld;

extern SimWorld sim_world;

G_END_DECLS
