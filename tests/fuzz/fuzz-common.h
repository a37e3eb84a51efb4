/* SPDX-License-Identifier: MIT */
/*
 * Shared by the fuzz targets: the libFuzzer entry points, and GVariants
 * built from the fuzzer's bytes the way GDBus hands them to the library
 * (g_variant_new_from_data, untrusted: GLib checks the serialisation).
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

int LLVMFuzzerInitialize   (int      *argc,
                            char   ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

/* A new (sunk) variant of @type over a copy of @data. */
GVariant *fuzz_variant_new (const char   *type,
                            const guint8 *data,
                            gsize         size);

/* The type of the variant for a selector byte: index 0 of @types (the
 * type BlueZ sends) for most selectors, any other entry (a wrong type)
 * for the rest. */
const char *fuzz_pick_type (guint8             selector,
                            const char *const *types,
                            gsize              n_types);

/* Aborts (a crash for libFuzzer) with @what when @condition is false: an
 * oracle that holds for every input. */
#define fuzz_check(condition, what) \
  G_STMT_START { \
    if (G_UNLIKELY (!(condition))) \
      g_error ("fuzz oracle failed: %s (%s)", what, #condition); \
  } G_STMT_END

G_END_DECLS
