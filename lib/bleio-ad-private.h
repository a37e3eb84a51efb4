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

G_END_DECLS
