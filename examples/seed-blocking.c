/* SPDX-License-Identifier: MIT */
/*
 * The seed example, blocking: scan for a peripheral whose advertised
 * complete name is "InterestingPeripheral", connect to it with a 10 s
 * timeout, discover its services and print them.
 *
 *   bleio-sim run -- ./seed-blocking      (against the simulator)
 *   ./seed-blocking                       (against the system's BlueZ)
 */
#include <bleio/bleio.h>
#include <stdio.h>

#define WANTED_NAME "InterestingPeripheral"

static int
fail (const char *what,
      GError     *error)
{
  fprintf (stderr, "seed-blocking: %s: %s\n", what, error->message);
  return 1;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(BleioAddress) found = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autofree char *address = NULL;
  BleioScanEntry *entry;

  adapter = bleio_adapter_get_default (NULL, &error);
  if (adapter == NULL)
    return fail ("no adapter", error);

  /* _bleio's adapter.start_scan(timeout=2.5) with its other defaults. */
  results = bleio_adapter_start_scan (adapter, NULL, 512, FALSE, 2.5, 0.1, 0.1,
                                      -80, TRUE, &error);
  if (results == NULL)
    return fail ("cannot scan", error);
  while (found == NULL && (entry = bleio_scan_results_next (results, -1, &error)) != NULL)
    {
      g_autofree char *name = bleio_scan_entry_dup_complete_name (entry);

      if (g_strcmp0 (name, WANTED_NAME) == 0)
        found = bleio_address_copy (bleio_scan_entry_get_address (entry));
      bleio_scan_entry_unref (entry);
    }
  if (error != NULL)
    return fail ("scan failed", error);
  if (!bleio_adapter_stop_scan (adapter, &error))
    return fail ("cannot stop the scan", error);
  if (found == NULL)
    {
      fprintf (stderr, "seed-blocking: '%s' not found\n", WANTED_NAME);
      return 1;
    }

  address = bleio_address_to_string (found);
  printf ("found %s at %s\n", WANTED_NAME, address);
  connection = bleio_adapter_connect (adapter, found, 10, NULL, &error);
  if (connection == NULL)
    return fail ("cannot connect", error);

  services = bleio_connection_discover_remote_services (connection, NULL, 0, &error);
  if (services == NULL)
    return fail ("cannot discover services", error);
  printf ("%u services:\n", services->len);
  for (guint i = 0; i < services->len; i++)
    {
      BleioService *service = g_ptr_array_index (services, i);
      g_autofree char *uuid = bleio_uuid_to_string (bleio_service_get_uuid (service));

      printf ("  service %s (handle 0x%04x, %s)\n", uuid,
              bleio_service_get_handle (service),
              bleio_service_get_secondary (service) ? "secondary" : "primary");
    }

  if (!bleio_connection_disconnect (connection, &error))
    return fail ("cannot disconnect", error);
  return 0;
}
