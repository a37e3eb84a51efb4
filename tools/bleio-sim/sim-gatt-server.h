/* SPDX-License-Identifier: MIT */
/*
 * The local GATT database of each adapter and org.bluez.GattManager1
 * (floor 3, above sim-notify.c): applications that clients register, read
 * through GetManagedObjects, checked and given handles the way
 * bluetoothd 5.66 does (src/gatt-database.c). sim-gatt-peer.c, above it,
 * serves this database to the other adapters' centrals.
 */
#pragma once

#include "sim-notify.h"

G_BEGIN_DECLS

#define SIM_BASE_UUID_TAIL "-0000-1000-8000-00805f9b34fb"

typedef enum {
  SIM_LOCAL_SERVICE,
  SIM_LOCAL_CHAR,
  SIM_LOCAL_DESC,
} SimLocalKind;

typedef struct _SimLocalAttr SimLocalAttr;
typedef struct _SimLocalService SimLocalService;
typedef struct _SimLocalChar SimLocalChar;
typedef struct _SimGattApp SimGattApp;

/* What every local attribute of an application shares: the object that
 * answers for it and the handle it got. */
struct _SimLocalAttr {
  SimLocalKind kind;
  SimGattApp *app;
  char *path;
  const char *iface;
  GVariant *props;            /* a{sv} as GetManagedObjects gave it */
  char *uuid;                 /* lower-case 128-bit */
  guint32 flags;              /* SIM_CHR_* bits */
  guint16 handle;             /* service: declaration; char: value */
  SimServed *served;          /* characteristics and descriptors, once placed */
};

typedef struct {
  SimLocalAttr attr;
  char *chr_path;
  SimLocalChar *chr;
  gboolean placed;            /* desc->handled of bluetoothd */
} SimLocalDesc;

struct _SimLocalChar {
  SimLocalAttr attr;
  SimLocalService *service;
  guint16 ccc;                /* 0 when none */
  guint16 cep;
  guint8 ext_props;
  GPtrArray *descs;           /* SimLocalDesc, placed, in handle order */
  int notify_fd;              /* AcquireNotify's socket, or -1 */
  guint notify_watch;
  int write_fd;               /* AcquireWrite's socket, or -1 */
  guint write_watch;          /* its hang-up */
  GPtrArray *pending_writes;  /* written while AcquireWrite is out
                               * (sim-gatt-peer.c's), or NULL */
};

struct _SimLocalService {
  SimLocalAttr attr;
  gboolean primary;
  gboolean inserted;          /* has its handle range */
  guint16 count;              /* attributes reserved */
  guint16 used;               /* attributes placed */
  guint16 last;               /* handle of the last placed attribute */
  GPtrArray *includes;        /* char * paths */
  GArray *include_handles;    /* guint16: placed include attributes */
  GPtrArray *include_uuids;   /* char *: the UUID each one declares */
  GPtrArray *chars;           /* SimLocalChar, owned, in creation order */
  GPtrArray *descs;           /* SimLocalDesc, owned, in creation order */
};

struct _SimGattApp {
  SimGattDatabase *db;
  char *owner;
  char *path;
  GDBusMethodInvocation *reg; /* RegisterApplication not answered yet */
  GCancellable *cancel;
  guint owner_watch;
  guint removed_sub;
  guint changed_sub;
  GPtrArray *services;        /* SimLocalService, owned, in creation order */
  guint profiles;
};

struct _SimGattDatabase {
  SimAdapter *adapter;
  GPtrArray *apps;            /* SimGattApp, owned */
  /* gatt_db's next_handle: past the highest range ever given, never
   * lowered when a service goes */
  guint32 next_handle;
};


extern SimIfaceDef sim_gatt_manager_iface;

/* The adapter's database with bluetoothd's own services (GAP, GATT,
 * Device Information) and no application. */
SimGattDatabase *sim_gatt_database_new  (SimAdapter      *adapter);
/* Drops every application without a word to it (the daemon is going);
 * a registration still waiting for GetManagedObjects is never answered. */
void             sim_gatt_database_free (SimGattDatabase *db);

/* The whole database in handle order, one (handle, kind, UUID, object
 * path) per attribute: kind is primary, secondary, include,
 * characteristic (the declaration), value, ccc, cep or descriptor; the
 * path is the application object behind it, "/" for bluetoothd's own
 * (of the audio plugins' services, only the declarations are listed). */
GVariant        *sim_gatt_database_dump (SimGattDatabase *db);

G_END_DECLS
