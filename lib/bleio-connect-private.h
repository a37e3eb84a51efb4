/* SPDX-License-Identifier: MIT */
/*
 * The connect queue an adapter owns (lib/bleio-connect.c): connect attempts
 * run one at a time, in the order they were made, and an attempt given up
 * while bluetoothd may still complete it is undone when the link comes up.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-connect-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-client-private.h"

G_BEGIN_DECLS

typedef struct _BleioConnectQueue BleioConnectQueue;

/* What the queue asks of its owner (the adapter). Each is called in the
 * context of the task being served, with the owner given to
 * bleio_connect_queue_new(). */
typedef struct {
  /* FALSE with @error when the adapter cannot connect (gone, no bluetoothd). */
  gboolean          (*check_usable)   (gpointer      owner,
                                       GError      **error);
  /* TRUE while the owner's own scan runs: the queue then shares its
   * discovery session instead of filtering and stopping one. */
  gboolean          (*is_scanning)    (gpointer      owner);
  /* The connection object for a link that came up. */
  BleioConnection  *(*dup_connection) (gpointer      owner,
                                       const char   *device_path,
                                       GMainContext *object_context);
} BleioConnectHooks;

/* @hooks is static; @owner outlives the queue. */
BleioConnectQueue *bleio_connect_queue_new  (BleioClient             *client,
                                             const char              *adapter_path,
                                             const BleioConnectHooks *hooks,
                                             gpointer                 owner);
/* Ends pending late undos. The queue is empty by then: each queued task
 * holds a reference on the owner. */
void               bleio_connect_queue_free (BleioConnectQueue *queue);

/* Queues @task (a reference is taken), whose source object is the owner,
 * to connect to @address within @timeout_msec milliseconds (> 0, from
 * bleio_timeout_to_msec()). The task returns
 * a #BleioConnection (made in @object_context) or an error. */
void               bleio_connect_queue_push (BleioConnectQueue  *queue,
                                             GTask              *task,
                                             const BleioAddress *address,
                                             guint               timeout_msec,
                                             GMainContext       *object_context);

/* Any thread. TRUE while an attempt to @bluez_address ("AA:BB:..") is
 * queued or running, or one given up may still complete and be undone: a
 * link to that address that comes up now is ours, not a central's. */
gboolean           bleio_connect_queue_claims (BleioConnectQueue *queue,
                                               const char        *bluez_address);

G_END_DECLS
