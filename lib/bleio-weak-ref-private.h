/* SPDX-License-Identifier: MIT */
/*
 * A GWeakRef on the heap: the user data of a watch or a source that must
 * not keep its object alive, with a destroy notify that clears it.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-weak-ref-private.h is internal to libbleio"
#endif

#include <glib-object.h>

G_BEGIN_DECLS

/* A new weak reference to @object; free it with bleio_weak_ref_free(). */
GWeakRef *bleio_weak_ref_new  (gpointer object);
/* Clears and frees a GWeakRef from bleio_weak_ref_new(); a GDestroyNotify. */
void      bleio_weak_ref_free (gpointer weak);

G_END_DECLS
