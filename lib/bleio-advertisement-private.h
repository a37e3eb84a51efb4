/* SPDX-License-Identifier: MIT */
/*
 * One org.bluez.LEAdvertisement1 object on a client's bus connection
 * (lib/bleio-advertisement.c): what bluetoothd reads while it registers an
 * advertisement, and where it calls Release. It knows nothing of
 * registrations; its owner (lib/bleio-advertiser.c) hands it the
 * properties to serve and hears the Release through its hooks.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-advertisement-private.h is internal to libbleio"
#endif

#include <gio/gio.h>
#include "bleio-client-private.h"

G_BEGIN_DECLS

typedef struct _BleioAdvertisement BleioAdvertisement;

typedef struct {
  /* The properties to serve now: a new reference to an a{sv}, or NULL
   * when there is nothing to advertise. Any thread. */
  GVariant *(*dup_properties) (gpointer user_data);
  /* The owner of org.bluez called Release. On the worker. */
  void      (*released)       (gpointer user_data);
} BleioAdvertisementHooks;

/* Exports a new object under /org/bleio/advertisement from @client's
 * worker thread, so that bluetoothd is answered while an application
 * thread blocks in RegisterAdvertisement; this waits for that. @user_data
 * is kept until the object is gone and no call to it runs, then
 * @destroy is called on it. NULL with an error when the bus refuses. */
BleioAdvertisement *bleio_advertisement_new      (BleioClient                   *client,
                                                  const BleioAdvertisementHooks *hooks,
                                                  gpointer                       user_data,
                                                  GDestroyNotify                 destroy,
                                                  GError                       **error);
const char         *bleio_advertisement_get_path (BleioAdvertisement            *advertisement);
/* Takes the object off the bus. */
void                bleio_advertisement_free     (BleioAdvertisement            *advertisement);

G_END_DECLS
