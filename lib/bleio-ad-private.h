/* SPDX-License-Identifier: MIT */
/*
 * The advertisement codec's internals (lib/bleio-ad.c).
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-ad-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>
#include "bleio-prop-index-private.h"

G_BEGIN_DECLS

/* bleio_ad_build_from_bluez() on an index holding (at least) the Device1
 * properties an advertisement is rebuilt from. */
GBytes   *bleio_ad_build_from_index (const BleioPropIndex *props);

/* bluetoothd 5.69 and later add the UUID of every service data field to
 * Device1.UUIDs, whether or not the advertisement listed it as a service.
 * Takes those out of @props' UUIDs (a UUID that is a key of ServiceData),
 * so that the rebuilt UUID lists hold what the lists on the air held; a
 * UUID that was in both loses its list entry, which BlueZ left no way to
 * tell apart. Only for a bluetoothd known to merge them. */
void      bleio_ad_drop_service_data_uuids (BleioPropIndex *props);

G_END_DECLS
