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
static G_GNUC_UNUSED long
proc_rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  line = strstr (status, "VmRSS:");
  return line != NULL ? strtol (line + 6, NULL, 10) : -1;
}

/* Bytes the allocator has handed out and not got back, in KiB (every
 * arena). Unlike RSS it does not move when arenas grow or fragment, so it
 * is the figure that shows a leak. */
static G_GNUC_UNUSED long
proc_heap_kib (void)
{
  struct mallinfo2 info = mallinfo2 ();

  return (long) ((info.uordblks + info.hblkhd) / 1024);
}
