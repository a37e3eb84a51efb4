/* SPDX-License-Identifier: MIT */
/*
 * One local attribute (lib/bleio-local-attr.c): its value, the limits a
 * client's write must keep, its subscription state, and the D-Bus object
 * bluetoothd calls. What the application (lib/bleio-gatt-app.c) needs of
 * it beyond the functions of bleio-gatt-app-private.h.
 *
 * Locking: every attribute's mutable state is under one lock of this
 * file; the application may hold its own lock while calling these, never
 * the other way round.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-local-attr-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-client-private.h"

G_BEGIN_DECLS

typedef struct _BleioLocalAttr BleioLocalAttr;

typedef enum {
  BLEIO_LOCAL_SERVICE,
  BLEIO_LOCAL_CHARACTERISTIC,
  BLEIO_LOCAL_DESCRIPTOR,
} BleioLocalKind;

/* A client wrote @value (the whole value now held) through the device at
 * @device_path ("" when bluetoothd did not say). Called in the context
 * the attribute was made in, with its public object. */
typedef void (*BleioLocalWrittenFunc) (GObject    *object,
                                       GBytes     *value,
                                       const char *device_path);

/* What else a client did, told beside the writes (lib/bleio-local-events.c
 * turns these into the public objects' signals). */
typedef enum {
  BLEIO_LOCAL_EVENT_READ,       /* @number: the offset read from */
  BLEIO_LOCAL_EVENT_NOTIFYING,  /* @number: 1 from the first StartNotify, 0
                                 * when the last client left */
} BleioLocalEventKind;

/* Called in the context the attribute was made in, with its public
 * object, in order with the writes; @device_path as for
 * BleioLocalWrittenFunc ("" for NOTIFYING: bluetoothd does not say). */
typedef void (*BleioLocalEventFunc) (GObject             *object,
                                     BleioLocalAttr      *attr,
                                     BleioLocalEventKind  kind,
                                     guint                number,
                                     const char          *device_path);

/* What a new attribute is; strings and @value are copied. */
typedef struct {
  BleioLocalKind kind;
  const char *uuid;             /* 128-bit, lower case */
  gboolean primary;             /* services */
  const char * const *flags;    /* BlueZ Flags (characteristics, descriptors) */
  gboolean readable;            /* the flags let a client read it */
  gboolean writable;            /* ... and write it */
  guint properties;             /* BleioCharacteristicProperties */
  guint max_length;
  gboolean fixed_length;
  GBytes *value;
} BleioLocalAttrSpec;


/* ---- for the public objects ---- */

BleioLocalAttr *bleio_local_attr_ref    (BleioLocalAttr *attr);
void            bleio_local_attr_unref  (BleioLocalAttr *attr);
BleioLocalKind  bleio_local_attr_get_kind (BleioLocalAttr *attr);
/* Set when the attribute is made, never changed. */
const char     *bleio_local_attr_get_path (BleioLocalAttr *attr);
guint           bleio_local_attr_get_max_length (BleioLocalAttr *attr);
/* The bus and adapter of its application, for the public objects. */
BleioClient    *bleio_local_attr_get_client (BleioLocalAttr *attr);
const char     *bleio_local_attr_get_adapter_path (BleioLocalAttr *attr);
/* The public objects of the children, in the order they were added. */
GPtrArray      *bleio_local_attr_dup_children (BleioLocalAttr *attr);
/* The public object, or NULL once the tree is over. */
GObject        *bleio_local_attr_dup_object (BleioLocalAttr *attr);
GBytes         *bleio_local_attr_dup_value (BleioLocalAttr *attr);
gboolean        bleio_local_attr_get_notifying (BleioLocalAttr *attr);

/* The application sets the value: checked against max_length and
 * fixed_length (BLEIO_ERROR_INVALID_ARGUMENT), stored, and sent to the
 * subscribed clients; for a characteristic that indicates and does not
 * notify, completes once a client confirmed (or fails with
 * BLEIO_ERROR_TIMEOUT, or BLEIO_ERROR_CONNECTION when the subscription
 * ends first). The task's source object is the caller's. */
void            bleio_local_attr_set_value (BleioLocalAttr *attr,
                                            GBytes         *value,
                                            GTask          *task);

/* The blocking setter's shortcut (lib/bleio-local-acquire.c's socket):
 * sets the value and returns TRUE when the acquired notify socket took it
 * at once and no confirmation is awaited; FALSE, nothing done, when
 * bleio_local_attr_set_value() must do it. */
gboolean        bleio_local_attr_set_value_now (BleioLocalAttr *attr,
                                                GBytes         *value);

/* Reads and subscription changes go to @func from now on (none are told
 * without one). */
void            bleio_local_attr_set_event_func (BleioLocalAttr      *attr,
                                                 BleioLocalEventFunc  func);

/* ---- for the application ---- */

/* A new attribute at @path (under @parent_path for characteristics and
 * descriptors) of the adapter at @adapter_path on @client's bus. */
BleioLocalAttr *bleio_local_attr_new          (const BleioLocalAttrSpec *spec,
                                               BleioClient              *client,
                                               const char               *adapter_path,
                                               const char               *path,
                                               const char               *parent_path,
                                               GObject                  *object,
                                               GMainContext             *context,
                                               BleioLocalWrittenFunc     written);
/* Files @child (a new reference) as the last child of @attr. */
void            bleio_local_attr_add_child    (BleioLocalAttr *attr,
                                               BleioLocalAttr *child);
/* The attributes under @attr, depth first (new references). */
void            bleio_local_attr_collect      (BleioLocalAttr *attr,
                                               GPtrArray      *into);
/* Adds the attribute's object to a GetManagedObjects answer
 * (a{oa{sa{sv}}}). */
void            bleio_local_attr_add_managed  (BleioLocalAttr  *attr,
                                               GVariantBuilder *objects);
/* On the worker: puts the object on the bus unless it is there. */
gboolean        bleio_local_attr_export       (BleioLocalAttr  *attr,
                                               GError         **error);
/* Any thread: takes the object off the bus. */
void            bleio_local_attr_unexport     (BleioLocalAttr  *attr);
/* bluetoothd forgot the application (unregistered, restarted, adapter
 * gone): no client is subscribed any more; indications waiting for a
 * confirmation fail with BLEIO_ERROR_CONNECTION. */
void            bleio_local_attr_reset        (BleioLocalAttr  *attr);
/* Lets the public object and the children go (the tree is over). */
void            bleio_local_attr_dispose      (BleioLocalAttr  *attr);

/* A characteristic's acquired sockets and write taps
 * (bleio-local-acquire-private.h); NULL for the other kinds. */
typedef struct _BleioLocalAcquire BleioLocalAcquire;
BleioLocalAcquire *bleio_local_attr_get_acquire (BleioLocalAttr *attr);

G_END_DECLS
