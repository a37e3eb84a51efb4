/* SPDX-License-Identifier: MIT */
/*
 * The local GATT database of each adapter and org.bluez.GattManager1
 * (floor 3, above sim-notify.c, below sim-gatt.c): applications that
 * clients register, read through GetManagedObjects, checked and given
 * handles the way bluetoothd 5.66 does (src/gatt-database.c).
 *
 * The remote side of a link (another adapter's central discovering this
 * adapter's services) builds on sim_gatt_server_service_defs(): the local
 * database as the scenario model (SimServiceDef) that sim-gatt.c already
 * turns into GattService1/GattCharacteristic1/GattDescriptor1 objects, so
 * a registered application is a second source of the same remote objects.
 * Each SimCharDef/SimDescDef made from an application points at its local
 * attribute (SimCharDef.served, SimDescDef.served); the calls that must
 * reach the application go through sim_gatt_server_read() and friends.
 */
#pragma once

#include "sim-notify.h"

G_BEGIN_DECLS

typedef struct _SimLocalAttr SimLocalAttr;

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

/* The database as a peer discovers it: SimServiceDef in handle order
 * (GAP first; sim_gatt_build() leaves it out as for any peer), with the
 * CCC and Extended Properties descriptors bluetoothd adds. Values are
 * empty; attributes of applications carry their SimLocalAttr in
 * `served`. A new array; its free function frees the definitions. */
GPtrArray       *sim_gatt_server_service_defs (SimGattDatabase *db);

/* What a remote operation on a served attribute hears back: the value of
 * a read (NULL for a write), or an error's D-Bus name and message as the
 * application answered it (bluetoothd turns them into ATT errors). */
typedef void (*SimServedReply) (GBytes     *value,
                                const char *error_name,
                                const char *error_message,
                                gpointer    user_data);

/* ReadValue / WriteValue on the application's object with bluetoothd's
 * options: device (the server side's Device1 of the peer), offset when
 * not 0, link "LE", mtu. @reply may be NULL for a write command (bluetoothd
 * asks no reply of a write-without-response characteristic). Returns
 * FALSE when @attr's application is gone. */
gboolean sim_gatt_server_read  (SimLocalAttr   *attr,
                                const char     *device_path,
                                guint16         mtu,
                                guint16         offset,
                                SimServedReply  reply,
                                gpointer        user_data);
gboolean sim_gatt_server_write (SimLocalAttr   *attr,
                                const char     *device_path,
                                guint16         mtu,
                                guint16         offset,
                                const guint8   *data,
                                gsize           len,
                                SimServedReply  reply,
                                gpointer        user_data);

G_END_DECLS
