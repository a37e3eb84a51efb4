/* SPDX-License-Identifier: MIT */
/*
 * Weak references on the heap; see bleio-weak-ref-private.h.
 */
#include "bleio-weak-ref-private.h"

GWeakRef *
bleio_weak_ref_new (gpointer object)
{
  GWeakRef *weak = g_new0 (GWeakRef, 1);

  g_weak_ref_init (weak, object);
  return weak;
}

void
bleio_weak_ref_free (gpointer weak)
{
  g_weak_ref_clear (weak);
  g_free (weak);
}
