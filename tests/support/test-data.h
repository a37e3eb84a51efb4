/* SPDX-License-Identifier: MIT */
/*
 * Where the tests' reference data lives: tests/data/ of this source tree
 * (tests/data/README.md says what is there and where it came from). The
 * directory is compiled in, so a test finds it without an environment
 * variable and never looks outside the repository.
 */
#pragma once

#include <glib.h>

/* The path of @name in the folder @folder of tests/data/ (e.g.
 * "bluez-5.66", "objects-idle.json"); free with g_free(). */
char *test_data_path_in (const char *folder,
                         const char *name);
