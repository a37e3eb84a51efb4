/* SPDX-License-Identifier: MIT */
/*
 * A peripheral, written blocking: advertise a connectable beacon
 * ("BleioBeacon", manufacturer data of company 0x0059) for at most 30 s,
 * wait for a central to connect, print it, wait for it to leave, exit.
 * The adapter is the first argument (default: the first one BlueZ has).
 * beacon-async.c does the same on a main loop with signals.
 *
 * Without a main loop, the state is read as it is now: the library keeps
 * its view of BlueZ current on a thread of its own.
 */
#include <bleio/bleio.h>
#include <stdio.h>

#define POLL_USEC 50000
#define ADVERTISE_SECONDS 30

/* Flags (LE General Discoverable, no BR/EDR), the complete local name and
 * manufacturer data 0x0059 "be ac": what _bleio's start_advertising takes. */
static const guint8 advertisement[] = {
  0x02, 0x01, 0x06,
  0x0c, 0x09, 'B', 'l', 'e', 'i', 'o', 'B', 'e', 'a', 'c', 'o', 'n',
  0x05, 0xff, 0x59, 0x00, 0xbe, 0xac,
};

static int
fail (const char *what,
      GError     *error)
{
  fprintf (stderr, "beacon-blocking: %s: %s\n", what, error->message);
  return 1;
}

/* The first link a central made to @adapter, or NULL. */
static BleioConnection *
first_connection (BleioAdapter *adapter)
{
  g_autoptr(GPtrArray) connections = bleio_adapter_dup_connections (adapter);

  return connections->len > 0 ? g_object_ref (g_ptr_array_index (connections, 0)) : NULL;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(GBytes) data = g_bytes_new_static (advertisement, sizeof advertisement);
  g_autoptr(BleioConnection) connection = NULL;
  g_autofree char *address = NULL;

  adapter = argc > 1 ? bleio_adapter_new_for_name (NULL, argv[1], NULL, &error)
                     : bleio_adapter_get_default (NULL, &error);
  if (adapter == NULL)
    return fail ("no adapter", error);

  /* _bleio's adapter.start_advertising(data, timeout=30). */
  if (!bleio_adapter_start_advertising (adapter, data, NULL, TRUE, FALSE, ADVERTISE_SECONDS,
                                        0, 0, NULL, NULL, &error))
    return fail ("cannot advertise", error);
  printf ("advertising on %s\n", bleio_adapter_get_object_path (adapter));
  fflush (stdout);

  /* A connectable advertisement ends when a central connects, or at the
   * timeout when none did. */
  while ((connection = first_connection (adapter)) == NULL &&
         bleio_adapter_get_advertising (adapter))
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (POLL_USEC);
    }
  if (connection == NULL)
    {
      fprintf (stderr, "beacon-blocking: no central connected within %d s\n", ADVERTISE_SECONDS);
      return 1;
    }
  address = bleio_address_to_string (bleio_connection_get_address (connection));
  printf ("connected %s\n", address);
  fflush (stdout);

  while (bleio_connection_get_connected (connection))
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (POLL_USEC);
    }
  printf ("disconnected %s\n", address);
  if (bleio_adapter_get_advertising (adapter) && !bleio_adapter_stop_advertising (adapter, &error))
    return fail ("cannot stop advertising", error);
  return 0;
}
