/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the load tests (tests/load): the simulator on the
 * scenario given as the program's first argument, and the figures the
 * tests print and bound (resident set size, heap in use, open fds).
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>

#include "central-common.h"
#include "proc-figures.h"

static char *load_scenario_path;

static G_GNUC_UNUSED void
load_init (int    argc,
           char **argv)
{
  if (argc < 2)
    {
      fprintf (stderr, "usage: %s SCENARIO.json\n", argv[0]);
      exit (2);
    }
  load_scenario_path = argv[1];
}

static G_GNUC_UNUSED int
load_group_setup (void **state)
{
  g_autoptr(GError) error = NULL;
  SimFixture *fx = sim_fixture_new (load_scenario_path, &error);

  if (fx == NULL)
    {
      fprintf (stderr, "simulator: %s\n", error->message);
      return -1;
    }
  *state = fx;
  return 0;
}

static G_GNUC_UNUSED int
load_group_teardown (void **state)
{
  /* Let the library's pending callbacks run out before the bus goes. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return sim_fixture_group_teardown (state);
}

/* Open file descriptors of this process. */
static G_GNUC_UNUSED int
load_fd_count (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  int n = 0;

  if (dir == NULL)
    return -1;
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n - 1;                 /* the one g_dir_open() holds */
}

/* One line per figure, in a form docs/reliability.md quotes. */
static G_GNUC_UNUSED void
load_report (const char *test,
             const char *when)
{
  printf ("load: %s: %s: rss %ld KiB, heap %ld KiB, fds %d\n",
          test, when, proc_rss_kib (), proc_heap_kib (), load_fd_count ());
  fflush (stdout);
}

/* Runs the thread-default context once without blocking, so that the
 * library's callbacks for this thread are not held back. */
static G_GNUC_UNUSED void
load_iterate (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}
