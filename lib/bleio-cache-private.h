/* SPDX-License-Identifier: MIT */
/*
 * The library's copy of org.bluez's objects: path -> interface ->
 * property -> value, fed by GetManagedObjects and the ObjectManager and
 * Properties signals (lib/bleio-client.c does the D-Bus side).
 *
 * Not GLib's GDBusObjectManagerClient: that builds a GObject proxy per
 * interface of every object (three per GATT attribute, counting
 * org.freedesktop.DBus.Properties and Introspectable), half of the work of
 * discovering a 3,100-object database (docs/performance.md). Here an
 * interface is a hash table of the values exactly as bluetoothd sent them
 * (any type: readers check), and an object is a few of those.
 *
 * One thread writes (the client's worker); any thread reads. Writers
 * append the events their change causes to an array, so the caller hands
 * them to its watchers after the cache's lock is released.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-cache-private.h is internal to libbleio"
#endif

#include "bleio-private.h"
#include "bleio-client-event-private.h"

G_BEGIN_DECLS

typedef struct _BleioCache BleioCache;

BleioCache *bleio_cache_new  (void);
void        bleio_cache_free (BleioCache *cache);

/* Whether the values the writers are given are their own (each made
 * separately, as the library's own reader makes them) rather than views
 * into a message that holds others (GDBus's): own values are kept, made
 * compact, instead of copied. FALSE at first; set before writing. */
void        bleio_cache_set_values_own (BleioCache *cache,
                                        gboolean    own);

/* An array for the writers' events (BleioClientEvent*, owned). */
GPtrArray  *bleio_cache_events_new (void);

/* ---- writers (one thread) ---- */

/* InterfacesAdded: @interfaces is a{sa{sv}} (anything else is ignored).
 * A new interface is an ADDED event; one the object has already is
 * updated with the values given and reported as CHANGED with them.
 * org.freedesktop.DBus.* interfaces are not kept. */
void        bleio_cache_add_interfaces    (BleioCache         *cache,
                                           const char         *path,
                                           GVariant           *interfaces,
                                           GPtrArray          *events);
/* InterfacesRemoved: a REMOVED event per interface the object had. */
void        bleio_cache_remove_interfaces (BleioCache         *cache,
                                           const char         *path,
                                           const char * const *interfaces,
                                           GPtrArray          *events);
/* PropertiesChanged: @changed is a{sv}. Ignored (no event) for an object
 * or interface the cache does not hold, as GLib's proxies ignore it. */
void        bleio_cache_change_properties (BleioCache         *cache,
                                           const char         *path,
                                           const char         *interface,
                                           GVariant           *changed,
                                           const char * const *invalidated,
                                           GPtrArray          *events);
/* A GetManagedObjects reply, a{oa{sa{sv}}}, added object by object. */
void        bleio_cache_load              (BleioCache         *cache,
                                           GVariant           *objects,
                                           GPtrArray          *events);
/* Empties the cache: a REMOVED event per interface of every object. */
void        bleio_cache_clear             (BleioCache         *cache,
                                           GPtrArray          *events);

/* ---- readers (any thread) ---- */

guint       bleio_cache_count_objects     (BleioCache  *cache);
gboolean    bleio_cache_has_interface     (BleioCache  *cache,
                                           const char  *path,
                                           const char  *interface);
/* A number the object at @path got when it appeared, never given to
 * another object (of any path or cache); 0 when there is none. BlueZ
 * names GATT objects by handle, so after the peer's database changes a
 * new attribute can take a gone one's path: comparing this number tells
 * them apart. */
guint       bleio_cache_get_incarnation   (BleioCache  *cache,
                                           const char  *path);
/* The value (not boxed in a variant), or NULL. */
GVariant   *bleio_cache_dup_property      (BleioCache  *cache,
                                           const char  *path,
                                           const char  *interface,
                                           const char  *property);
/* Fills @index with the values of those of @keys (at most 16, static
 * strings) the interface has; FALSE (and @index empty) without it. */
gboolean    bleio_cache_fill_index        (BleioCache         *cache,
                                           const char         *path,
                                           const char         *interface,
                                           BleioPropIndex     *index,
                                           const char * const *keys,
                                           guint               n_keys);
/* Paths of the objects with @interface, under @prefix/ when @prefix is
 * not NULL, sorted shorter first then by strcmp() (hci2 before hci10,
 * service0009 before service000a). */
GPtrArray  *bleio_cache_list_paths        (BleioCache  *cache,
                                           const char  *interface,
                                           const char  *prefix);
/* Paths of the objects whose org.bluez.Device1 Address (a string) is
 * @address, ASCII case ignored, in the order of list_paths. */
GPtrArray  *bleio_cache_find_address      (BleioCache  *cache,
                                           const char  *address);
/* That order, for g_ptr_array_sort() on an array of paths. */
int         bleio_cache_path_compare      (gconstpointer a,
                                           gconstpointer b);

G_END_DECLS
