/* SPDX-License-Identifier: MIT */
/*
 * The blocking twins' private main context; see bleio-sync-private.h.
 */
#include "bleio-sync-private.h"

void
bleio_sync_begin (BleioSync *sync)
{
  sync->context = g_main_context_new ();
  sync->result = NULL;
  g_main_context_push_thread_default (sync->context);
}

void
bleio_sync_callback (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  BleioSync *sync = user_data;

  sync->result = g_object_ref (result);
}

GAsyncResult *
bleio_sync_wait (BleioSync *sync)
{
  while (sync->result == NULL)
    g_main_context_iteration (sync->context, TRUE);
  return sync->result;
}

void
bleio_sync_end (BleioSync *sync)
{
  /* Run what the operation left ready (cancelled calls giving their
   * references back) before the context goes. */
  while (g_main_context_iteration (sync->context, FALSE))
    ;
  g_main_context_pop_thread_default (sync->context);
  g_clear_object (&sync->result);
  g_clear_pointer (&sync->context, g_main_context_unref);
}
