/* SPDX-License-Identifier: MIT */
/*
 * Timeouts: the public API takes seconds as a double, GLib timeout sources
 * take milliseconds as a guint. Every conversion goes through here so that
 * no value can wrap into a short (or zero) timeout.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-timeout-private.h is internal to libbleio"
#endif

#include <glib.h>

G_BEGIN_DECLS

/* Stands for "no timeout" in the millisecond result below. */
#define BLEIO_TIMEOUT_NONE G_MAXUINT

/* How a parameter treats a bound too large for a GLib timeout source
 * (infinity, or G_MAXUINT ms and more, about 49 days). */
typedef enum {
  /* `_bleio` takes None here: such a value means "no timeout". */
  BLEIO_TIMEOUT_HUGE_IS_NONE,
  /* `_bleio` needs a number here: such a value is an invalid argument. */
  BLEIO_TIMEOUT_HUGE_IS_INVALID,
} BleioTimeoutHuge;

/* @seconds, not negative (callers give negative values and 0 their
 * documented meaning first), into milliseconds rounded up, so a positive
 * bound never becomes 0. Sets *@msec to BLEIO_TIMEOUT_NONE for a huge value
 * when @huge allows it. NaN, a negative value and a refused huge value set
 * BLEIO_ERROR_INVALID_ARGUMENT naming @what (e.g. "connect timeout"). */
gboolean bleio_timeout_to_msec (double             seconds,
                                BleioTimeoutHuge   huge,
                                const char        *what,
                                guint             *msec,
                                GError           **error);

/* The monotonic time (µs) @msec from now; G_MAXINT64 for
 * BLEIO_TIMEOUT_NONE. */
gint64   bleio_timeout_deadline (guint msec);

G_END_DECLS
