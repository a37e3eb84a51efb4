/* SPDX-License-Identifier: MIT */
#include "bleio-timeout-private.h"

#include <math.h>

#include <bleio/bleio.h>

gboolean
bleio_timeout_to_msec (double             seconds,
                       BleioTimeoutHuge   huge,
                       const char        *what,
                       guint             *msec,
                       GError           **error)
{
  double ms;

  g_return_val_if_fail (msec != NULL, FALSE);

  if (isnan (seconds) || seconds < 0)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "The %s must be a number of seconds, not %g", what, seconds);
      return FALSE;
    }
  /* Compared as a double before any cast: a cast of a value beyond the
   * range of guint is undefined and in practice wraps to a short bound. */
  ms = seconds * 1000.0;
  if (ms >= (double) BLEIO_TIMEOUT_NONE)
    {
      if (huge == BLEIO_TIMEOUT_HUGE_IS_NONE)
        {
          *msec = BLEIO_TIMEOUT_NONE;
          return TRUE;
        }
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "The %s of %g s is too long; give at most %u s",
                   what, seconds, (BLEIO_TIMEOUT_NONE - 1) / 1000);
      return FALSE;
    }
  *msec = (guint) ms;
  if ((double) *msec < ms)
    *msec += 1;
  return TRUE;
}

gint64
bleio_timeout_deadline (guint msec)
{
  if (msec == BLEIO_TIMEOUT_NONE)
    return G_MAXINT64;
  return g_get_monotonic_time () + (gint64) msec * 1000;
}
