/* SPDX-License-Identifier: MIT */
/*
 * A heart-rate monitor client: scans for a peripheral that advertises the
 * Heart Rate service (0x180D), optionally with a given name, connects,
 * subscribes to Heart Rate Measurement (0x2A37) and prints COUNT
 * measurements from the main loop, then unsubscribes and disconnects.
 *
 *   heart-rate-monitor [NAME [COUNT]]
 *   bleio-sim run -- ./heart-rate-monitor InterestingPeripheral 3
 *
 * Setup is blocking; the notifications arrive as the characteristic's
 * "notification" signal in the main loop.
 */
#include <bleio/bleio.h>
#include <stdio.h>
#include <stdlib.h>

#define HEART_RATE_SERVICE 0x180d
#define HEART_RATE_MEASUREMENT 0x2a37

typedef struct {
  GMainLoop *loop;
  guint wanted;
  guint received;
  int status;
} Monitor;

static int
fail (const char *what,
      GError     *error)
{
  fprintf (stderr, "heart-rate-monitor: %s: %s\n", what, error->message);
  return 1;
}

/* Does the advertisement list @uuid16 among its 16-bit service UUIDs? */
static gboolean
advertises (GBytes  *advertisement,
            guint16  uuid16)
{
  BleioAdIter iter;
  const guint8 *payload;
  gsize len;
  guint8 type;
  gsize size;
  const guint8 *data = g_bytes_get_data (advertisement, &size);

  bleio_ad_iter_init (&iter, data, size);
  while (bleio_ad_iter_next (&iter, &type, &payload, &len, NULL))
    {
      if (type != 0x02 && type != 0x03)     /* incomplete / complete list */
        continue;
      for (gsize i = 0; i + 1 < len; i += 2)
        if ((guint16) (payload[i] | payload[i + 1] << 8) == uuid16)
          return TRUE;
    }
  return FALSE;
}

static void
on_measurement (BleioCharacteristic *characteristic,
                GBytes              *value,
                gpointer             user_data)
{
  Monitor *monitor = user_data;
  gsize len;
  const guint8 *data = g_bytes_get_data (value, &len);
  guint bpm;

  /* Flags bit 0: the value is a uint16 rather than a uint8. */
  if (len < 2 || ((data[0] & 0x01) && len < 3))
    {
      printf ("measurement too short (%" G_GSIZE_FORMAT " bytes)\n", len);
      return;
    }
  bpm = (data[0] & 0x01) ? (guint) (data[1] | data[2] << 8) : data[1];
  monitor->received++;
  printf ("heart rate: %u bpm\n", bpm);
  fflush (stdout);
  if (monitor->received == monitor->wanted)
    g_main_loop_quit (monitor->loop);
}

static void
subscribed_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Monitor *monitor = user_data;
  g_autoptr(GError) error = NULL;

  if (!bleio_characteristic_set_cccd_finish (BLEIO_CHARACTERISTIC (source), result, &error))
    {
      monitor->status = fail ("cannot subscribe", error);
      g_main_loop_quit (monitor->loop);
      return;
    }
  printf ("subscribed\n");
}

static void
on_disconnected (BleioConnection       *connection,
                 BleioDisconnectReason  reason,
                 gpointer               user_data)
{
  Monitor *monitor = user_data;

  fprintf (stderr, "heart-rate-monitor: the peripheral went away\n");
  monitor->status = 1;
  g_main_loop_quit (monitor->loop);
}

int
main (int    argc,
      char **argv)
{
  const char *wanted_name = argc > 1 ? argv[1] : NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(BleioAddress) found = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(GPtrArray) whitelist = g_ptr_array_new_with_free_func ((GDestroyNotify) bleio_uuid_free);
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(GPtrArray) characteristics = NULL;
  g_autoptr(BleioUuid) measurement_uuid = bleio_uuid_new_from_uuid16 (HEART_RATE_MEASUREMENT);
  g_autofree char *address = NULL;
  BleioCharacteristic *measurement = NULL;
  BleioScanEntry *entry;
  Monitor monitor = { NULL, 5, 0, 0 };

  if (argc > 2)
    monitor.wanted = (guint) strtoul (argv[2], NULL, 10);

  adapter = bleio_adapter_get_default (NULL, &error);
  if (adapter == NULL)
    return fail ("no adapter", error);

  results = bleio_adapter_start_scan (adapter, NULL, 4096, FALSE, 5, 0.1, 0.1, -90, TRUE, &error);
  if (results == NULL)
    return fail ("cannot scan", error);
  while (found == NULL && (entry = bleio_scan_results_next (results, -1, &error)) != NULL)
    {
      g_autofree char *name = bleio_scan_entry_dup_complete_name (entry);

      if (advertises (bleio_scan_entry_get_advertisement_bytes (entry), HEART_RATE_SERVICE) &&
          (wanted_name == NULL || g_strcmp0 (name, wanted_name) == 0))
        found = bleio_address_copy (bleio_scan_entry_get_address (entry));
      bleio_scan_entry_unref (entry);
    }
  if (error != NULL)
    return fail ("scan failed", error);
  if (!bleio_adapter_stop_scan (adapter, &error))
    return fail ("cannot stop the scan", error);
  if (found == NULL)
    {
      fprintf (stderr, "heart-rate-monitor: no heart-rate sensor found\n");
      return 1;
    }
  address = bleio_address_to_string (found);
  printf ("found a heart-rate sensor at %s\n", address);

  connection = bleio_adapter_connect (adapter, found, 10, NULL, &error);
  if (connection == NULL)
    return fail ("cannot connect", error);
  g_ptr_array_add (whitelist, bleio_uuid_new_from_uuid16 (HEART_RATE_SERVICE));
  services = bleio_connection_discover_remote_services (connection, whitelist, 0, &error);
  if (services == NULL)
    return fail ("cannot discover services", error);
  if (services->len == 0)
    {
      fprintf (stderr, "heart-rate-monitor: no Heart Rate service\n");
      return 1;
    }
  characteristics = bleio_service_dup_characteristics (g_ptr_array_index (services, 0));
  for (guint i = 0; i < characteristics->len && measurement == NULL; i++)
    if (bleio_uuid_equal (bleio_characteristic_get_uuid (g_ptr_array_index (characteristics, i)),
                          measurement_uuid))
      measurement = g_ptr_array_index (characteristics, i);
  if (measurement == NULL)
    {
      fprintf (stderr, "heart-rate-monitor: no Heart Rate Measurement characteristic\n");
      return 1;
    }

  monitor.loop = g_main_loop_new (NULL, FALSE);
  g_signal_connect (measurement, "notification", G_CALLBACK (on_measurement), &monitor);
  g_signal_connect (connection, "disconnected", G_CALLBACK (on_disconnected), &monitor);
  bleio_characteristic_set_cccd_async (measurement, TRUE, FALSE, NULL, subscribed_cb, &monitor);
  g_main_loop_run (monitor.loop);
  g_main_loop_unref (monitor.loop);
  g_signal_handlers_disconnect_by_data (connection, &monitor);
  g_signal_handlers_disconnect_by_data (measurement, &monitor);
  if (monitor.status != 0)
    return monitor.status;

  if (!bleio_characteristic_set_cccd (measurement, FALSE, FALSE, &error))
    return fail ("cannot unsubscribe", error);
  if (!bleio_connection_disconnect (connection, &error))
    return fail ("cannot disconnect", error);
  printf ("%u measurements\n", monitor.received);
  return 0;
}
