/* SPDX-License-Identifier: MIT */
/*
 * cmocka assertions on a GError from libbleio, and the poll loop the
 * tests wait with. Every helper header of tests/support includes it.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <bleio/bleio.h>

#define assert_no_error(e) \
  do { if ((e) != NULL) fail_msg ("unexpected error: %s", (e)->message); } while (0)
#define assert_bleio_error(e, c) \
  do { \
    if ((e) == NULL) fail_msg ("expected %s, got no error", bleio_error_code_to_string (c)); \
    if (!g_error_matches ((e), BLEIO_ERROR, (c))) \
      fail_msg ("expected %s, got %s %d: %s", bleio_error_code_to_string (c), \
                g_quark_to_string ((e)->domain), (e)->code, (e)->message); \
  } while (0)

/* Iterates the thread-default context (without blocking in it), sleeping
 * @poll_usec between rounds, until @cond holds or @msec pass; returns the
 * last value of @cond. The library's callbacks run on its worker thread,
 * so a test cannot block in its own context to wait for them. */
gboolean poll_until (gboolean (*cond) (gpointer user_data), gpointer user_data,
                     guint msec, gulong poll_usec);
