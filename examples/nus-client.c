/* SPDX-License-Identifier: MIT */
/*
 * A Nordic UART Service client, written blocking as a _bleio program would
 * be: scans for a peripheral advertising the NUS (optionally with a given
 * name), connects, makes a PacketBuffer on RX (6e400002, for writing) and
 * on TX (6e400003, which notifies), sends one line, then prints COUNT
 * incoming packets and disconnects.
 *
 *   nus-client [NAME [COUNT]]
 *   bleio-sim run --scenario tests/sim/scenarios/nus.json -- ./nus-client NUS-Echo 3
 */
#include <bleio/bleio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUS_SERVICE "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
#define NUS_RX "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
#define NUS_TX "6e400003-b5a3-f393-e0a9-e50e24dcca9e"
#define READ_DEADLINE_SECONDS 10

static int
fail (const char *what,
      GError     *error)
{
  fprintf (stderr, "nus-client: %s: %s\n", what, error->message);
  return 1;
}

/* Does the advertisement list @uuid among its 128-bit service UUIDs? */
static gboolean
advertises (GBytes          *advertisement,
            const BleioUuid *uuid)
{
  BleioAdIter iter;
  const guint8 *payload;
  gsize len, size;
  guint8 type;
  const guint8 *data = g_bytes_get_data (advertisement, &size);

  bleio_ad_iter_init (&iter, data, size);
  while (bleio_ad_iter_next (&iter, &type, &payload, &len, NULL))
    {
      if (type != 0x06 && type != 0x07)
        continue;
      for (gsize i = 0; i + 16 <= len; i += 16)
        {
          g_autoptr(BleioUuid) listed = bleio_uuid_new_from_bytes (payload + i, 16, NULL);

          if (listed != NULL && bleio_uuid_equal (listed, uuid))
            return TRUE;
        }
    }
  return FALSE;
}

static BleioCharacteristic *
find_characteristic (GPtrArray  *characteristics,
                     const char *uuid_text)
{
  g_autoptr(BleioUuid) uuid = bleio_uuid_new_from_string (uuid_text, NULL);

  for (guint i = 0; i < characteristics->len; i++)
    if (bleio_uuid_equal (bleio_characteristic_get_uuid (g_ptr_array_index (characteristics, i)), uuid))
      return g_ptr_array_index (characteristics, i);
  return NULL;
}

int
main (int    argc,
      char **argv)
{
  const char *wanted_name = argc > 1 ? argv[1] : NULL;
  guint wanted = argc > 2 ? (guint) strtoul (argv[2], NULL, 10) : 3;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(BleioAddress) found = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioUuid) service_uuid = bleio_uuid_new_from_string (NUS_SERVICE, NULL);
  g_autoptr(GPtrArray) whitelist = g_ptr_array_new ();
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(GPtrArray) characteristics = NULL;
  g_autoptr(BleioPacketBuffer) rx = NULL;
  g_autoptr(BleioPacketBuffer) tx = NULL;
  g_autofree guint8 *packet = NULL;
  g_autofree char *address = NULL;
  static const char line[] = "hello from the central\n";
  BleioScanEntry *entry;
  gint64 deadline;
  gssize sent;
  guint received = 0;

  adapter = bleio_adapter_get_default (NULL, &error);
  if (adapter == NULL)
    return fail ("no adapter", error);
  results = bleio_adapter_start_scan (adapter, NULL, 4096, FALSE, 5, 0.1, 0.1, -90, TRUE, &error);
  if (results == NULL)
    return fail ("cannot scan", error);
  while (found == NULL && (entry = bleio_scan_results_next (results, -1, &error)) != NULL)
    {
      g_autofree char *name = bleio_scan_entry_dup_complete_name (entry);

      if (advertises (bleio_scan_entry_get_advertisement_bytes (entry), service_uuid) &&
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
      fprintf (stderr, "nus-client: no UART peripheral found\n");
      return 1;
    }
  address = bleio_address_to_string (found);
  printf ("found a UART peripheral at %s\n", address);

  connection = bleio_adapter_connect (adapter, found, 10, NULL, &error);
  if (connection == NULL)
    return fail ("cannot connect", error);
  g_ptr_array_add (whitelist, service_uuid);
  services = bleio_connection_discover_remote_services (connection, whitelist, 0, &error);
  if (services == NULL)
    return fail ("cannot discover services", error);
  if (services->len == 0)
    {
      fprintf (stderr, "nus-client: no UART service\n");
      return 1;
    }
  characteristics = bleio_service_dup_characteristics (g_ptr_array_index (services, 0));
  if (find_characteristic (characteristics, NUS_RX) == NULL ||
      find_characteristic (characteristics, NUS_TX) == NULL)
    {
      fprintf (stderr, "nus-client: RX or TX is missing\n");
      return 1;
    }

  /* As adafruit_ble's UARTService does for a peer: a PacketBuffer on each. */
  rx = bleio_packet_buffer_new (find_characteristic (characteristics, NUS_RX), 1, 0, &error);
  if (rx == NULL)
    return fail ("cannot set up RX", error);
  tx = bleio_packet_buffer_new (find_characteristic (characteristics, NUS_TX), 16, 0, &error);
  if (tx == NULL)
    return fail ("cannot set up TX", error);
  printf ("packet lengths: out %" G_GSIZE_FORMAT ", in %" G_GSIZE_FORMAT "\n",
          bleio_packet_buffer_get_outgoing_packet_length (rx),
          bleio_packet_buffer_get_incoming_packet_length (tx));

  sent = bleio_packet_buffer_write (rx, (const guint8 *) line, strlen (line), NULL, 0, &error);
  if (sent < 0)
    return fail ("cannot write", error);
  printf ("sent %" G_GSSIZE_FORMAT " bytes\n", sent);
  if (sent == 0)
    {
      fprintf (stderr, "nus-client: not connected any more\n");
      return 1;
    }

  /* readinto never waits: poll, as a _bleio loop would. */
  packet = g_malloc (bleio_packet_buffer_get_incoming_packet_length (tx));
  deadline = g_get_monotonic_time () + READ_DEADLINE_SECONDS * G_USEC_PER_SEC;
  while (received < wanted && g_get_monotonic_time () < deadline)
    {
      gssize n = bleio_packet_buffer_readinto (tx, packet,
                                               bleio_packet_buffer_get_incoming_packet_length (tx),
                                               &error);

      if (n < 0)
        return fail ("cannot read", error);
      if (n == 0 && bleio_packet_buffer_get_packets_waiting (tx) == 0)
        {
          g_usleep (20 * 1000);
          continue;
        }
      received++;
      printf ("received: %.*s", (int) n, (const char *) packet);
      if (n == 0 || packet[n - 1] != '\n')
        printf ("\n");
      fflush (stdout);
    }
  if (received < wanted)
    {
      fprintf (stderr, "nus-client: %u of %u packets in %d s\n", received, wanted,
               READ_DEADLINE_SECONDS);
      return 1;
    }

  bleio_packet_buffer_deinit (tx);
  bleio_packet_buffer_deinit (rx);
  if (!bleio_connection_disconnect (connection, &error))
    return fail ("cannot disconnect", error);
  printf ("%u packets\n", received);
  return 0;
}
