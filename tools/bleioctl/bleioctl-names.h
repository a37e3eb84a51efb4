/* SPDX-License-Identifier: MIT */
#pragma once

#include <bleio/bleio.h>

G_BEGIN_DECLS

/* What kind of attribute a UUID names; the same 16-bit value is never
 * assigned twice, but the kind keeps the tables apart and readable. */
typedef enum {
  CTL_NAME_SERVICE,
  CTL_NAME_CHARACTERISTIC,
  CTL_NAME_DESCRIPTOR,
} CtlNameKind;

/* The Bluetooth SIG's assigned name of @uuid for @kind, or NULL when it is
 * not in bleioctl's table (static string). */
const char *ctl_uuid_name (const BleioUuid *uuid,
                           CtlNameKind      kind);

/* A UUID as bleioctl prints it: four lower-case hex digits for a 16-bit
 * UUID (`2a19`), the 36-character form for a 128-bit one. */
char *ctl_uuid_format (const BleioUuid *uuid);

/* A reading of a few common characteristics in their units ("98 %",
 * "72 bpm"), for human output; NULL for anything else or a value of the
 * wrong length. */
char *ctl_value_describe (const BleioUuid *uuid,
                          GBytes          *value);

G_END_DECLS
