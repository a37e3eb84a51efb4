/* SPDX-License-Identifier: MIT */
/*
 * The sockets bluetoothd acquires from a local characteristic, and the
 * taps through which the buffers hear what clients write
 * (lib/bleio-local-acquire.c). One BleioLocalAcquire per local
 * characteristic, owned by its BleioLocalAttr (lib/bleio-local-attr.c),
 * which calls in here from its D-Bus methods and value setter; this file
 * reaches back only through the hooks it is given.
 *
 * Locking: its own lock, which may be taken under the attribute's; the
 * hooks and the taps are called with it released (taps: held, so a tap
 * removed is never called again; they only push into an inbox).
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-local-acquire-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-client-private.h"

G_BEGIN_DECLS

typedef struct _BleioLocalAcquire BleioLocalAcquire;

/* What the attribute does for this file, called on the worker with no
 * lock held: the acquired notify socket came (@on) or went; a packet came
 * on the acquired write socket (the attribute checks it against its
 * limits, stores it, tells the application and calls
 * bleio_local_acquire_tell_taps() as for a WriteValue). */
typedef struct {
  void (*notifying) (gpointer attr, gboolean on);
  void (*packet)    (gpointer attr, const guint8 *data, gsize len, const char *device);
  /* A watch on a socket keeps the attribute until the socket closes. */
  gpointer (*ref)   (gpointer attr);
  void (*unref)     (gpointer attr);
} BleioLocalAcquireHooks;

/* A client's write, as the bytes it sent; any thread, quick, no lock of
 * the caller held. */
typedef void (*BleioLocalTapFunc) (const guint8 *data,
                                   gsize         len,
                                   gpointer      user_data);

BleioLocalAcquire *bleio_local_acquire_new   (BleioClient                  *client,
                                              const BleioLocalAcquireHooks *hooks,
                                              gpointer                      attr);
/* Closes the sockets; the tasks waiting for room complete. */
void      bleio_local_acquire_free           (BleioLocalAcquire *acquire);

/* Which of NotifyAcquired and WriteAcquired the object shows (bluetoothd
 * reads them at registration). */
void      bleio_local_acquire_set_enabled    (BleioLocalAcquire *acquire,
                                              gboolean           notify,
                                              gboolean           write);
/* Adds NotifyAcquired / WriteAcquired to the object's properties. */
void      bleio_local_acquire_add_properties (BleioLocalAcquire *acquire,
                                              GVariantBuilder   *props);
/* Serves AcquireNotify or AcquireWrite (@method); %FALSE when the object
 * does not offer it (the caller answers NotSupported). On the worker. */
gboolean  bleio_local_acquire_handle         (BleioLocalAcquire     *acquire,
                                              const char            *method,
                                              GVariant              *parameters,
                                              GDBusMethodInvocation *invocation);
gboolean  bleio_local_acquire_notify_held    (BleioLocalAcquire *acquire);
/* The MTU bluetoothd gave with AcquireNotify or AcquireWrite (0 before). */
guint     bleio_local_acquire_get_mtu        (BleioLocalAcquire *acquire);
/* Sends @value as one notification on the acquired socket; @task (may
 * be NULL) completes with TRUE once bluetoothd has it, or when the socket
 * closes first. %FALSE when no socket is held (nothing done). */
gboolean  bleio_local_acquire_send           (BleioLocalAcquire *acquire,
                                              GBytes            *value,
                                              GTask             *task);
/* Sends @value at once when the socket takes it and nothing waits before
 * it; %FALSE (nothing done) otherwise. */
gboolean  bleio_local_acquire_try_send       (BleioLocalAcquire *acquire,
                                              GBytes            *value);
/* bluetoothd forgot the application: the sockets close. */
void      bleio_local_acquire_reset          (BleioLocalAcquire *acquire);

/* Taps: every client write reaches @func until it is removed. */
guint     bleio_local_acquire_add_tap        (BleioLocalAcquire *acquire,
                                              BleioLocalTapFunc  func,
                                              gpointer           user_data,
                                              GDestroyNotify     destroy);
void      bleio_local_acquire_remove_tap     (BleioLocalAcquire *acquire,
                                              guint              id);
void      bleio_local_acquire_tell_taps      (BleioLocalAcquire *acquire,
                                              const guint8      *data,
                                              gsize              len);

G_END_DECLS
