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

/* The folder of the recordings of the bluetoothd the simulator speaks in
 * this run: "bluez-5.82" when BLEIO_SIM_BLUEZ says 5.82 (the test setup
 * of the sim suite's 5.82 entries), else "bluez-5.66". */
const char *test_data_bluez_folder (void);

/* Whether the simulator of this run speaks bluetoothd 5.82. */
gboolean    test_data_bluez_is_582 (void);
