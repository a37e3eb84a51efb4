/* SPDX-License-Identifier: MIT */
/*
 * This process's memory figures, for the tests that bound them
 * (test-buffers.c here, and tests/load): one reader of each, so that
 * every test measures the same way.
 */
#pragma once

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

/* Resident set size of this process in KiB, from /proc/self/status. */
long proc_rss_kib (void);

/* Bytes the allocator has handed out and not got back, in KiB (every
 * arena). Unlike RSS it does not move when arenas grow or fragment, so it
 * is the figure that shows a leak. */
long proc_heap_kib (void);
