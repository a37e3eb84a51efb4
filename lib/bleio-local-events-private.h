/* SPDX-License-Identifier: MIT */
/*
 * A client's reads and subscriptions of local attributes, told on the
 * public objects (lib/bleio-local-events.c): the BleioLocalEventFunc that
 * lib/bleio-local-gatt.c gives every local characteristic and descriptor.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-local-events-private.h is internal to libbleio"
#endif

#include "bleio-local-attr-private.h"

G_BEGIN_DECLS

/* Emits #BleioCharacteristic::read, ::notifying-changed or
 * #BleioDescriptor::read on @object. */
void bleio_local_events_emit (GObject             *object,
                              BleioLocalAttr      *attr,
                              BleioLocalEventKind  kind,
                              guint                number,
                              const char          *device_path);

G_END_DECLS
