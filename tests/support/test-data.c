/* SPDX-License-Identifier: MIT */
#include "test-data.h"

char *
test_data_path_in (const char *folder,
                   const char *name)
{
  return g_build_filename (BLEIO_TEST_DATA_DIR, folder, name, NULL);
}

gboolean
test_data_bluez_is_582 (void)
{
  return g_strcmp0 (g_getenv ("BLEIO_SIM_BLUEZ"), "5.82") == 0;
}

const char *
test_data_bluez_folder (void)
{
  return test_data_bluez_is_582 () ? "bluez-5.82" : "bluez-5.66";
}
