/* SPDX-License-Identifier: MIT */
/* What load.h declares (the comments are there). */
#include "load.h"

char *load_scenario_path;
void
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

int
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

int
load_group_teardown (void **state)
{
  /* Let the library's pending callbacks run out before the bus goes. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return sim_fixture_group_teardown (state);
}

int
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

void
load_report (const char *test,
             const char *when)
{
  printf ("load: %s: %s: rss %ld KiB, heap %ld KiB, fds %d\n",
          test, when, proc_rss_kib (), proc_heap_kib (), load_fd_count ());
  fflush (stdout);
}

void
load_iterate (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}
