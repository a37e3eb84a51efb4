/* SPDX-License-Identifier: MIT */
#include "fuzz-common.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  /* A critical or warning from GLib means the library handed it a value
   * it had not checked: make it a crash the fuzzer reports. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

GVariant *
fuzz_variant_new (const char   *type,
                  const guint8 *data,
                  gsize         size)
{
  /* A heap copy: GVariant needs its own, suitably aligned, buffer, and
   * AddressSanitizer then sees any read past its end. */
  guint8 *copy = g_memdup2 (data, size);

  return g_variant_ref_sink (g_variant_new_from_data (G_VARIANT_TYPE (type), copy, size,
                                                      FALSE, g_free, copy));
}

const char *
fuzz_pick_type (guint8             selector,
                const char *const *types,
                gsize              n_types)
{
  /* 3 in 4 inputs get the right type. */
  if (n_types < 2 || selector < 192)
    return types[0];
  return types[1 + selector % (n_types - 1)];
}
