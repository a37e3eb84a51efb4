/* SPDX-License-Identifier: MIT */
/* libbleio: shared macros for the public headers. */
#pragma once

#if !defined(__BLEIO_H_INSIDE__) && !defined(BLEIO_COMPILATION)
#error "Only <bleio/bleio.h> can be included directly."
#endif

#include <glib.h>

/**
 * BLEIO_EXPORT:
 *
 * Marks a function as part of libbleio's public ABI. The library is built
 * with hidden visibility, so only symbols carrying this macro (and listed in
 * `lib/libbleio.map`) are exported.
 */
#if defined(BLEIO_COMPILATION) && defined(__GNUC__)
#define BLEIO_EXPORT __attribute__((visibility("default"))) extern
#else
#define BLEIO_EXPORT extern
#endif

/**
 * BLEIO_MAJOR_VERSION:
 *
 * The major version of the libbleio headers in use.
 */
#define BLEIO_MAJOR_VERSION 0
/**
 * BLEIO_MINOR_VERSION:
 *
 * The minor version of the libbleio headers in use.
 */
#define BLEIO_MINOR_VERSION 1
/**
 * BLEIO_MICRO_VERSION:
 *
 * The micro version of the libbleio headers in use.
 */
#define BLEIO_MICRO_VERSION 0
