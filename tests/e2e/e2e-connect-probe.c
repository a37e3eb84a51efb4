/* SPDX-License-Identifier: MIT */
/*
 * bleio-e2e-connect-probe [CYCLES]: connects to the peripheral and
 * disconnects CYCLES times (default 10), one attempt each with the seed's
 * 10 s timeout, and prints how many connects bluetoothd left unanswered.
 * Odd cycles scan for the peripheral first, as the tests do; even cycles
 * connect at once.
 * Built for runs by hand in the guest (README.md), not part of the suite:
 * it measures the setup rather than testing the library.
 */
#include "e2e-central.h"

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = e2e_central_adapter (&error);
  g_autoptr(BleioAddress) address = NULL;
  guint cycles = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 10;
  guint lost = 0, ok = 0;

  if (adapter == NULL || (address = e2e_find_peripheral (adapter, &error)) == NULL)
    {
      g_printerr ("probe: %s\n", error->message);
      return 1;
    }
  for (guint i = 0; i < cycles; i++)
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(BleioConnection) c = NULL;
      gint64 t0, ms;

      if (i % 2 == 1)
        {
          g_autoptr(BleioAddress) again = e2e_find_peripheral (adapter, &local);

          if (again == NULL)
            {
              g_print ("probe: cycle %u: scan: %s\n", i, local->message);
              continue;
            }
        }
      t0 = g_get_monotonic_time ();
      c = bleio_adapter_connect (adapter, address, 10, NULL, &local);
      ms = (g_get_monotonic_time () - t0) / 1000;

      if (c != NULL)
        {
          ok++;
          g_print ("probe: cycle %u (%s) connected in %" G_GINT64_FORMAT " ms\n", i,
                   i % 2 ? "after a scan" : "no scan", ms);
          if (!bleio_connection_disconnect (c, &local))
            g_print ("probe: disconnect: %s\n", local->message);
        }
      else
        {
          lost++;
          g_print ("probe: cycle %u (%s): %s after %" G_GINT64_FORMAT " ms\n", i,
                   i % 2 ? "after a scan" : "no scan", local->message, ms);
        }
      e2e_spin (500);
    }
  g_print ("probe: %u of %u connects answered, %u lost\n", ok, cycles, lost);
  return 0;
}
