/* SPDX-License-Identifier: MIT */
/* BleioAdapter's internals (lib/bleio-adapter.c), for the code that finds
 * adapters and the adapter's other files (bleio-adapter-bonds.c,
 * bleio-adapter-scan.c, bleio-adapter-advertise.c, bleio-local-gatt.c). */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-adapter-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-client-private.h"
#include "bleio-advertiser-private.h"
#include "bleio-gatt-app-private.h"

G_BEGIN_DECLS

/* The adapter's state, shared by bleio-adapter.c and bleio-adapter-scan.c
 * (the other files go through the functions below). */
typedef struct _BleioConnectQueue BleioConnectQueue;

struct _BleioAdapter {
  GObject parent_instance;

  BleioClient *client;
  char *path;
  char *name;
  GMainContext *context;

  GMutex lock;
  BleioScanResults *scan;
  gboolean scan_starting;
  BleioConnectQueue *connect_queue;
  guint incoming_watch;
  gboolean passive_fallback;  /* a passive scan may run actively instead */
  BleioAdvertiser *advertiser;
  BleioGattApp *gatt_app;
};

/* The adapter object for @path on @client's bus (lib/bleio-adapter.c):
 * the existing one, or a new one whose signals go to @context. */
BleioAdapter     *bleio_adapter_dup_for_path    (BleioClient  *client,
                                                 const char   *path,
                                                 GMainContext *context);

/* The client whose cache and bus connection @adapter uses (not a new
 * reference). */
BleioClient      *bleio_adapter_get_client      (BleioAdapter  *adapter);

/* FALSE with BLEIO_ERROR_BLUEZ_UNAVAILABLE or BLEIO_ERROR_NO_ADAPTER when
 * bluetoothd or the adapter's object is gone: the check every operation
 * makes before it calls BlueZ. */
gboolean          bleio_adapter_check_usable    (BleioAdapter  *adapter,
                                                 GError       **error);

/* The adapter's GATT application, for the local services
 * (lib/bleio-local-gatt.c). */
BleioGattApp     *bleio_adapter_get_gatt_app    (BleioAdapter  *adapter);
/* The adapter's advertisement, for its public functions
 * (lib/bleio-adapter-advertise.c). */
BleioAdvertiser  *bleio_adapter_get_advertiser  (BleioAdapter  *adapter);

G_END_DECLS
