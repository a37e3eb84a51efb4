/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the load tests (tests/load): the simulator on the
 * scenario given as the program's first argument, and the figures the
 * tests print and bound (resident set size, heap in use, open fds).
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>

#include "central.h"
#include "proc-figures.h"

extern char *load_scenario_path;

void load_init (int argc, char **argv);

int load_group_setup (void **state);

int load_group_teardown (void **state);

/* Open file descriptors of this process. */
int load_fd_count (void);

/* One line per figure, in a form docs/reliability.md quotes. */
void load_report (const char *test, const char *when);

/* Runs the thread-default context once without blocking, so that the
 * library's callbacks for this thread are not held back. */
void load_iterate (void);
