/* SPDX-License-Identifier: MIT */
#include "bleio-assert.h"

gboolean
poll_until (gboolean (*cond) (gpointer user_data),
            gpointer   user_data,
            guint      msec,
            gulong     poll_usec)
{
  gint64 end = g_get_monotonic_time () + (gint64) msec * 1000;

  while (!cond (user_data))
    {
      if (g_get_monotonic_time () > end)
        return cond (user_data);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (poll_usec);
    }
  return TRUE;
}
