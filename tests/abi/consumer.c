/* SPDX-License-Identifier: MIT */
/* An out-of-tree program built against an installed libbleio with nothing
 * but `pkg-config --cflags --libs libbleio`. */
#include <bleio/bleio.h>
#include <stdio.h>

int
main (void)
{
  g_autoptr(GError) error = NULL;
  BleioUuid *uuid = bleio_uuid_new_from_string ("0000180d-0000-1000-8000-00805f9b34fb", &error);
  char *text;
  int ok;

  if (uuid == NULL)
    {
      fprintf (stderr, "parse failed: %s\n", error->message);
      return 1;
    }
  text = bleio_uuid_to_string (uuid);
  ok = bleio_uuid_get_size (uuid) == 16 && bleio_uuid_get_uuid16 (uuid) == 0x180d;
  printf ("%s size=%u\n", text, bleio_uuid_get_size (uuid));
  g_free (text);
  bleio_uuid_free (uuid);
  return ok ? 0 : 1;
}
