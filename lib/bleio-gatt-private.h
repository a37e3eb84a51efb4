/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the GATT client objects: the per-attribute operation
 * queue and the children cache of GATT objects (lib/bleio-gatt.c).
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-gatt-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-connection-private.h"

G_BEGIN_DECLS

#ifndef BLEIO_IFACE_DESCRIPTOR
#define BLEIO_IFACE_DESCRIPTOR "org.bluez.GattDescriptor1"
#endif

#define BLEIO_NOT_CONNECTED_MESSAGE "Not connected"
/* The error of an attribute the peer's database no longer holds. */
#define BLEIO_DATABASE_CHANGED_MESSAGE \
  "The peer's database changed: discover services again"

/* FALSE with BLEIO_ERROR_DOES_NOT_EXIST when the object at @path is no
 * longer the one that had @incarnation (bleio_cache_get_incarnation()):
 * gone, or another attribute that took its path. */
gboolean  bleio_gatt_check_current (BleioClient  *client,
                                    const char   *path,
                                    guint         incarnation,
                                    GError      **error);

/* ---- per-attribute operation queue (lib/bleio-gatt.c) ----
 *
 * Calls on one BlueZ object path (of one bus) reach BlueZ one at a time, in
 * submission order, so bluetoothd never answers InProgress to us. An
 * InProgress that still comes (another program) is retried a few times.
 * The reply arrives in the caller's thread-default context. */
void      bleio_gatt_call_async  (BleioClient         *client,
                                  const char          *path,
                                  const char          *interface,
                                  const char          *method,
                                  GVariant            *parameters,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data);
GVariant *bleio_gatt_call_finish (GAsyncResult  *result,
                                  GError       **error);

/* The completion of a ReadValue sent with bleio_gatt_call_async() for
 * characteristics and descriptors alike: @user_data is the GTask (owned),
 * which gets the value as GBytes, or an error; a reply that is not (ay) is
 * BLEIO_ERROR_INVALID_VALUE rather than a crash. */
void      bleio_gatt_read_value_cb (GObject      *source,
                                    GAsyncResult *result,
                                    gpointer      user_data);
/* The completion of a WriteValue sent with bleio_gatt_call_async(), for
 * characteristics and descriptors alike: @user_data is the GTask (owned),
 * which gets TRUE, or the error as it came. */
void      bleio_gatt_write_value_cb (GObject      *source,
                                     GAsyncResult *result,
                                     gpointer      user_data);

/* ---- attribute children (lib/bleio-gatt.c) ----
 *
 * A GATT object's children (a service's characteristics, a
 * characteristic's descriptors) live in a field of the parent: BlueZ path
 * -> weak reference, so one attribute keeps one object while the
 * application holds it. */
typedef struct {
  GMutex lock;
  GHashTable *objects;          /* path -> GWeakRef* */
} BleioGattChildren;

typedef gpointer (*BleioGattChildNew) (gpointer    parent,
                                       const char *path);

void       bleio_gatt_children_init  (BleioGattChildren *children);
void       bleio_gatt_children_clear (BleioGattChildren *children);
/* The direct children of @parent_path on @interface, in handle order
 * (@prefix names the path component, see bleio_path_handle()): the live
 * object of each, or a new one from @new_child (@parent, path). A child
 * is filed by path and incarnation, so a new attribute on a gone one's
 * path gets a new object; a parent that is not @parent_incarnation any
 * more (the database changed) has no children. */
GPtrArray *bleio_gatt_children_dup   (BleioGattChildren *children,
                                      BleioClient       *client,
                                      const char        *parent_path,
                                      guint              parent_incarnation,
                                      const char        *interface,
                                      const char        *prefix,
                                      BleioGattChildNew  new_child,
                                      gpointer           parent);
/* Sorts BlueZ attribute paths by the handle in their last component. */
void       bleio_gatt_sort_paths     (GPtrArray         *paths,
                                      const char        *prefix);

/* TRUE for the standard CCCD UUID (0x2902). */
/* The ATT handle of the GATT object at @path: its `Handle` property where
 * bluetoothd exports one (5.82), else the number after @prefix ("service",
 * "char", "desc") in the path (5.66); 0 when neither says. */
guint16   bleio_gatt_handle      (BleioClient *client,
                                  const char  *path,
                                  const char  *interface,
                                  const char  *prefix);

gboolean  bleio_uuid_is_cccd     (const BleioUuid *uuid);

G_END_DECLS
