/* SPDX-License-Identifier: MIT */
#include "test-data.h"

char *
test_data_path_in (const char *folder,
                   const char *name)
{
  return g_build_filename (BLEIO_TEST_DATA_DIR, folder, name, NULL);
}
