/* SPDX-License-Identifier: MIT */
/*
 * An adapter's local database served to the other adapters' centrals
 * (floor 3, above sim-gatt-server.c, below sim-gatt.c). The remote side
 * of a link builds on sim_gatt_peer_service_defs(): the database as the
 * scenario model (SimServiceDef) that sim-gatt.c already turns into
 * GattService1/GattCharacteristic1/GattDescriptor1 objects, so a
 * registered application is a second source of the same remote objects.
 * Each SimCharDef/SimDescDef made from an application carries its
 * SimServed: the operations that must reach the application go through
 * sim_gatt_peer_read() and friends, and its notifications come back
 * through sim_char_notify() on every peer characteristic built from it.
 */
#pragma once

#include "sim-gatt-server.h"

G_BEGIN_DECLS

/* The database as a peer discovers it: SimServiceDef in handle order
 * (GAP first; sim_gatt_build() leaves it out as for any peer), with the
 * CCC and Extended Properties descriptors bluetoothd adds. Values are
 * empty; attributes of applications carry their SimServed in `served`. A new array; its free function frees the definitions. */
GPtrArray       *sim_gatt_peer_service_defs (SimGattDatabase *db);

/* What a peer's operation on a served attribute hears back: the value of
 * a read (NULL for a write), or the error the peer's bluetoothd answers
 * its client, from the ATT error the application's D-Bus error became
 * (dbus_error_to_att_ecode() on the server side, create_gatt_dbus_error()
 * on the client side). */
typedef void (*SimServedReply) (GBytes     *value,
                                const char *error_name,
                                const char *error_message,
                                gpointer    user_data);

/* ReadValue / WriteValue on the application's object with bluetoothd's
 * options: device (the serving adapter's Device1 of @client's adapter),
 * offset when not 0, link "LE", mtu. @reply NULL: a write command, sent
 * with no answer asked. FALSE when the application or the server side's
 * device is gone (no call made, @reply never called). */
gboolean sim_gatt_peer_read  (SimServed      *served,
                                SimDevice      *client,
                                guint16         offset,
                                SimServedReply  reply,
                                gpointer        user_data);
gboolean sim_gatt_peer_write (SimServed      *served,
                                SimDevice      *client,
                                guint16         offset,
                                const guint8   *data,
                                gsize           len,
                                SimServedReply  reply,
                                gpointer        user_data);
/* A peer's client switched the CCC of @chr (built from a served
 * characteristic) on or off: SimWorldHooks.ccc_written. */
/* A Write Command from the client of @chr (its acquired write socket). */
void     sim_gatt_peer_command (SimChar      *chr,
                                const guint8 *data,
                                gsize         len);
void     sim_gatt_peer_ccc_written (SimChar  *chr,
                                      gboolean  on);
/* When @periph is an adapter as the others see it (SimAdapter.air_self),
 * gives it the adapter's database as it is now, unless some device still
 * shows objects built from the current one (a bonded device, another
 * central): those objects point into it, and bluetoothd's Service Changed
 * is not simulated. sim_gatt_build() calls it before each browse. */
void     sim_gatt_peer_refresh (SimPeripheral *periph);
/* The application notified: every peer characteristic built from
 * @served gets the value (SimWorldHooks.served_value). */
void     sim_gatt_peer_deliver (SimServed    *served,
                                const guint8 *data,
                                gsize         len);

G_END_DECLS
