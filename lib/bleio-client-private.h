/* SPDX-License-Identifier: MIT */
/*
 * The shared view of org.bluez: one per GDBusConnection.
 *
 * Threading rule (the one everything else in the library relies on): the
 * object cache (lib/bleio-cache.c) is fed by org.bluez's signals on a
 * private worker thread that iterates its own GMainContext, so the cache
 * stays current whether or not any application thread runs a main loop.
 * Reading the cache (objects and cached properties) is safe from any
 * thread. Events are handed to each
 * watcher in the GMainContext it chose: the worker's own (the callback runs
 * on the worker thread and must not block) or any other (the events are
 * queued in order and dispatched from an idle source there). Method calls
 * go straight to the connection and complete in the caller's thread-default
 * context, so a blocking call that iterates a private context never needs
 * another thread's loop.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-client-private.h is internal to libbleio"
#endif

#include <gio/gio.h>
#include "bleio-private.h"
#include "bleio-client-event-private.h"

G_BEGIN_DECLS

/* A GTask source tag from a function, without a function-to-object
 * pointer conversion (ISO C forbids it; -Wpedantic says so). */
#define BLEIO_TAG(func) ((gpointer) (guintptr) (func))

#define BLEIO_BLUEZ_NAME "org.bluez"
#define BLEIO_IFACE_ADAPTER "org.bluez.Adapter1"
#define BLEIO_IFACE_DEVICE "org.bluez.Device1"
#define BLEIO_IFACE_SERVICE "org.bluez.GattService1"
#define BLEIO_IFACE_CHARACTERISTIC "org.bluez.GattCharacteristic1"
#define BLEIO_IFACE_AGENT_MANAGER "org.bluez.AgentManager1"

/* bluetoothd 5.83 and later say why a link ended, with the signal
 * Device1.Disconnected(reason, message), just before Connected turns
 * false. The client keeps the reason on the device's Device1 entry in the
 * cache under this key, which no BlueZ property can take (it is not a
 * D-Bus member name), for whoever sees Connected turn false. */
#define BLEIO_DEVICE_DISCONNECT_REASON "bleio:DisconnectReason"
/* The reason of a link ended by an authentication (pairing or
 * encryption) failure. */
#define BLEIO_REASON_AUTHENTICATION "org.bluez.Reason.Authentication"

void          bleio_client_get_async   (GDBusConnection     *connection,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
BleioClient  *bleio_client_get_finish  (GAsyncResult        *result,
                                        GError             **error);
BleioClient  *bleio_client_ref         (BleioClient         *client);
void          bleio_client_unref       (BleioClient         *client);

GDBusConnection *bleio_client_get_connection     (BleioClient *client);
GMainContext    *bleio_client_get_worker_context (BleioClient *client);

/* The unique bus name that owns org.bluez now, or NULL. */
char     *bleio_client_dup_bluez_owner  (BleioClient *client);
/* TRUE when @sender is the current owner of org.bluez. Otherwise answers
 * @invocation with org.freedesktop.DBus.Error.AccessDenied and @refusal
 * and returns FALSE: the objects the library exports (agent,
 * advertisement, GATT application) take calls from bluetoothd only. */
gboolean  bleio_client_check_caller_is_bluez (BleioClient           *client,
                                              const char            *sender,
                                              GDBusMethodInvocation *invocation,
                                              const char            *refusal);
/* TRUE while org.bluez has an owner. */
gboolean  bleio_client_has_owner        (BleioClient *client);
/* FALSE with BLEIO_ERROR_BLUEZ_UNAVAILABLE when org.bluez has no owner. */
gboolean  bleio_client_check_available  (BleioClient *client,
                                         GError     **error);

/* Sorted object paths that carry @interface (and lie under @prefix/ when
 * @prefix is not NULL). */
GPtrArray *bleio_client_list_paths      (BleioClient *client,
                                         const char  *interface,
                                         const char  *prefix);
gboolean  bleio_client_has_interface    (BleioClient *client,
                                         const char  *path,
                                         const char  *interface);
/* bleio_cache_get_incarnation() on the cache. */
guint     bleio_client_get_incarnation  (BleioClient *client,
                                         const char  *path);
GVariant *bleio_client_dup_property     (BleioClient *client,
                                         const char  *path,
                                         const char  *interface,
                                         const char  *property);
/* bleio_cache_fill_index() on the cache (see BleioPropIndex). */
gboolean  bleio_client_fill_index       (BleioClient        *client,
                                         const char         *path,
                                         const char         *interface,
                                         BleioPropIndex     *index,
                                         const char * const *keys,
                                         guint               n_keys);
gboolean  bleio_client_get_boolean      (BleioClient *client,
                                         const char  *path,
                                         const char  *interface,
                                         const char  *property);
char     *bleio_client_dup_string       (BleioClient *client,
                                         const char  *path,
                                         const char  *interface,
                                         const char  *property);
/* Whether the device at @path is paired or bonded (BlueZ keeps both on
 * the object while the link is down). */
gboolean  bleio_client_device_paired    (BleioClient *client,
                                         const char  *path);
/* The Device1 path under @adapter_path whose Address equals
 * @bluez_address (case-insensitive), or NULL. */
char     *bleio_client_find_device      (BleioClient *client,
                                         const char  *adapter_path,
                                         const char  *bluez_address);

/* Bounds on calls to bluetoothd, for calls whose caller gives none. No
 * call relies on GDBus's default (25 s): each waits as long as what
 * bluetoothd does before answering can take, and no longer.
 *
 * LOCAL: bluetoothd answers from its own state or after a few kernel
 * management commands, each bounded by the kernel's 2 s HCI command
 * timeout (discovery, filters, agents, RemoveDevice, CancelPairing,
 * properties), with room for a loaded machine. */
#define BLEIO_CALL_LOCAL_MSEC 10000
/* ATT: one GATT operation. An ATT transaction that gets no answer in 30 s
 * ends the bearer (Core Vol 3 Part F 3.3.3), so bluetoothd either answers
 * or drops the link by then; a link that goes down ends the operation at
 * once anyway (lib/bleio-gatt.c). */
#define BLEIO_CALL_ATT_MSEC 35000
/* DISCONNECT: bluetoothd answers once the link is down, which the
 * controller ends at the latest after the supervision timeout (32 s at
 * most, Core Vol 6 Part B 4.5.2). */
#define BLEIO_CALL_DISCONNECT_MSEC 35000
/* OBJECTS: GetManagedObjects, whose reply grows with every device
 * bluetoothd knows (thousands under a flood of advertisers). */
#define BLEIO_CALL_OBJECTS_MSEC 60000

/* A method call to org.bluez; the reply arrives in the caller's
 * thread-default context. @timeout_msec is the caller's bound or one of
 * the BLEIO_CALL_*_MSEC above, never -1. */
void      bleio_client_call             (BleioClient         *client,
                                         const char          *path,
                                         const char          *interface,
                                         const char          *method,
                                         GVariant            *parameters,
                                         int                  timeout_msec,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
/* The reply, or NULL with the error translated into BLEIO_ERROR. */
GVariant *bleio_client_call_finish      (BleioClient   *client,
                                         GAsyncResult  *result,
                                         GError       **error);
void      bleio_client_set_property     (BleioClient         *client,
                                         const char          *path,
                                         const char          *interface,
                                         const char          *property,
                                         GVariant            *value,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);

/* Completes (in the caller's thread-default context) once the cache holds
 * @expected (consumed if floating) for the property, TRUE, or when
 * @timeout_msec pass or bluetoothd leaves, FALSE. Never fails: it only lets
 * the cache catch up with a reply that overtook its signal. Built on the
 * watches and readers above (lib/bleio-client-wait.c). */
void      bleio_client_wait_property_async  (BleioClient         *client,
                                             const char          *path,
                                             const char          *interface,
                                             const char          *property,
                                             GVariant            *expected,
                                             guint                timeout_msec,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean  bleio_client_wait_property_finish (GAsyncResult        *result);

/* Watches the events that match one of @keys (none: the OWNER events
 * only) in @context, NULL meaning the worker's (see bleio-watches-private.h
 * for the order and the guarantees). */
guint     bleio_client_watch_keys       (BleioClient               *client,
                                         GMainContext              *context,
                                         const BleioClientWatchKey *keys,
                                         guint                      n_keys,
                                         BleioClientWatchFunc       func,
                                         gpointer                   user_data,
                                         GDestroyNotify             destroy);
/* Watches every event. */
guint     bleio_client_watch            (BleioClient          *client,
                                         GMainContext         *context,
                                         BleioClientWatchFunc  func,
                                         gpointer              user_data,
                                         GDestroyNotify        destroy);
/* After this returns (when called from the watch's own context) the
 * function is never called again. */
void      bleio_client_unwatch          (BleioClient *client,
                                         guint        id);

/* Registries: adapters by path (weak), connections by device path
 * (strong until removed). */
GObject  *bleio_client_dup_adapter      (BleioClient *client,
                                         const char  *path);
void      bleio_client_set_adapter      (BleioClient *client,
                                         const char  *path,
                                         GObject     *adapter);
GObject  *bleio_client_dup_connection   (BleioClient *client,
                                         const char  *path);
void      bleio_client_set_connection   (BleioClient *client,
                                         const char  *path,
                                         GObject     *connection);
void      bleio_client_remove_connection (BleioClient *client,
                                          const char  *path,
                                          GObject     *connection);

G_END_DECLS
