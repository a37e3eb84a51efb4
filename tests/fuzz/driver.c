/* SPDX-License-Identifier: MIT */
/*
 * A main() for the fuzz targets where libFuzzer is not linked (gcc, or a
 * clang build without -Dfuzzing): runs each file named on the command line,
 * or every file of each directory named, through LLVMFuzzerTestOneInput
 * once. The fuzz suite uses it to replay the corpus as a regression test.
 * Options starting with '-' (libFuzzer's) are ignored.
 */
#include "fuzz-common.h"

#include <stdio.h>

static gboolean
run_file (const char *path,
          guint      *count)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return FALSE;
    }
  LLVMFuzzerTestOneInput ((const uint8_t *) contents, len);
  (*count)++;
  return TRUE;
}

static gboolean
run_path (const char *path,
          guint      *count)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    return run_file (path, count);
  dir = g_dir_open (path, 0, &error);
  if (dir == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return FALSE;
    }
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < names->len; i++)
    if (!run_path (g_ptr_array_index (names, i), count))
      return FALSE;
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  guint count = 0;

  LLVMFuzzerInitialize (&argc, &argv);
  for (int i = 1; i < argc; i++)
    {
      if (argv[i][0] == '-')
        continue;
      if (!run_path (argv[i], &count))
        return 1;
    }
  printf ("%u inputs ran\n", count);
  /* Nothing to run is a mistake in the test, not a pass. */
  return count > 0 ? 0 : 1;
}
