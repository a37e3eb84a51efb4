/* SPDX-License-Identifier: MIT */
/*
 * A Nordic UART Service peripheral that echoes every line it receives,
 * written blocking as a _bleio program would be: RX (6e400002, clients
 * write) read through a CharacteristicBuffer, TX (6e400003, notifies)
 * written through a PacketBuffer. It advertises the service and NAME,
 * echoes LINES lines (0: until Ctrl-C) and exits. examples/nus-client is
 * its counterpart.
 *
 *   uart-peripheral [NAME [LINES [ADAPTER]]]
 *   bleio-sim run --scenario tools/bleio-sim/scenarios/two-adapters.json -- \
 *     sh -c './uart-peripheral NUS-Echo 1 hci1 & ./nus-client NUS-Echo 1; wait'
 */
#include <bleio/bleio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUS_SERVICE "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
#define NUS_RX "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
#define NUS_TX "6e400003-b5a3-f393-e0a9-e50e24dcca9e"
#define LINE_MAX_BYTES 512

static volatile sig_atomic_t stop;

static void
on_signal (int signum)
{
  stop = 1;
}

static int
fail (const char *what,
      GError     *error)
{
  fprintf (stderr, "uart-peripheral: %s: %s\n", what, error->message);
  return 1;
}

/* Sends @line in packets of the TX buffer's outgoing length. */
static gboolean
echo (BleioPacketBuffer  *tx,
      const guint8       *line,
      gsize               len,
      GError            **error)
{
  gsize chunk = bleio_packet_buffer_get_outgoing_packet_length (tx);

  for (gsize done = 0; done < len && chunk > 0;)
    {
      gsize n = MIN (chunk, len - done);
      gssize sent = bleio_packet_buffer_write (tx, line + done, n, NULL, 0, error);

      if (sent < 0)
        return FALSE;
      if (sent == 0)
        {
          /* Nobody subscribed to TX: the line goes nowhere. */
          fprintf (stderr, "uart-peripheral: no client listens on TX\n");
          return TRUE;
        }
      done += n;
    }
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  const char *name = argc > 1 ? argv[1] : "NUS-Echo";
  guint lines = argc > 2 ? (guint) strtoul (argv[2], NULL, 10) : 0;
  const char *adapter_name = argc > 3 ? argv[3] : NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(BleioUuid) service_uuid = bleio_uuid_new_from_string (NUS_SERVICE, NULL);
  g_autoptr(BleioUuid) rx_uuid = bleio_uuid_new_from_string (NUS_RX, NULL);
  g_autoptr(BleioUuid) tx_uuid = bleio_uuid_new_from_string (NUS_TX, NULL);
  g_autoptr(BleioService) service = NULL;
  g_autoptr(BleioCharacteristic) rx = NULL;
  g_autoptr(BleioCharacteristic) tx = NULL;
  g_autoptr(BleioCharacteristicBuffer) rx_in = NULL;
  g_autoptr(BleioPacketBuffer) tx_out = NULL;
  g_autoptr(GByteArray) adv = g_byte_array_new ();
  g_autoptr(GByteArray) rsp = g_byte_array_new ();
  g_autoptr(GBytes) adv_bytes = NULL;
  g_autoptr(GBytes) rsp_bytes = NULL;
  g_autoptr(GByteArray) pending = g_byte_array_new ();
  guint8 uuid_le[16];
  guint echoed = 0;

  signal (SIGINT, on_signal);
  signal (SIGTERM, on_signal);
  adapter = adapter_name != NULL ? bleio_adapter_new_for_name (NULL, adapter_name, NULL, &error)
                                 : bleio_adapter_get_default (NULL, &error);
  if (adapter == NULL)
    return fail ("no adapter", error);

  /* The service, as adafruit_ble's UARTService has it. */
  service = bleio_service_new (adapter, service_uuid, FALSE, &error);
  if (service == NULL)
    return fail ("cannot make the service", error);
  rx = bleio_characteristic_add_to_service (service, rx_uuid,
                                            BLEIO_CHARACTERISTIC_PROPERTY_WRITE |
                                            BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE,
                                            BLEIO_ATTRIBUTE_NO_ACCESS, BLEIO_ATTRIBUTE_OPEN,
                                            LINE_MAX_BYTES, FALSE, NULL, NULL, &error);
  if (rx == NULL)
    return fail ("cannot make RX", error);
  tx = bleio_characteristic_add_to_service (service, tx_uuid, BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY,
                                            BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_NO_ACCESS,
                                            LINE_MAX_BYTES, FALSE, NULL, NULL, &error);
  if (tx == NULL)
    return fail ("cannot make TX", error);
  /* Whole packets both ways: BlueZ's sockets, no D-Bus message each. */
  if (!bleio_characteristic_set_acquired (rx, FALSE, TRUE, &error) ||
      !bleio_characteristic_set_acquired (tx, TRUE, FALSE, &error))
    return fail ("cannot offer the acquired sockets", error);
  rx_in = bleio_characteristic_buffer_new (rx, 0.5, 4 * LINE_MAX_BYTES, &error);
  if (rx_in == NULL)
    return fail ("cannot set up RX", error);
  tx_out = bleio_packet_buffer_new (tx, 16, 0, &error);
  if (tx_out == NULL)
    return fail ("cannot set up TX", error);
  if (!bleio_adapter_publish_services (adapter, NULL, &error))
    return fail ("cannot publish the service", error);

  /* Flags, then the service's 128-bit UUID (little endian); the name in
   * the scan response. */
  g_byte_array_append (adv, (const guint8 *) "\x02\x01\x06\x11\x07", 5);
  if (!bleio_uuid_pack_into (service_uuid, uuid_le, sizeof uuid_le, 0, &error))
    return fail ("cannot pack the service UUID", error);
  g_byte_array_append (adv, uuid_le, sizeof uuid_le);
  {
    guint8 head[2] = { (guint8) (MIN (strlen (name), 29) + 1), 0x09 };

    g_byte_array_append (rsp, head, 2);
    g_byte_array_append (rsp, (const guint8 *) name, head[0] - 1);
  }
  adv_bytes = g_bytes_new (adv->data, adv->len);
  rsp_bytes = g_bytes_new (rsp->data, rsp->len);
  if (!bleio_adapter_start_advertising (adapter, adv_bytes, rsp_bytes, TRUE, FALSE, 0, 0, 0, NULL,
                                        NULL, &error))
    return fail ("cannot advertise", error);
  printf ("advertising %s\n", name);
  fflush (stdout);

  while (!stop && (lines == 0 || echoed < lines))
    {
      g_autoptr(GBytes) got = bleio_characteristic_buffer_readline (rx_in, &error);
      const guint8 *data;
      gsize len;
      guint8 *end;

      if (got == NULL)
        return fail ("cannot read RX", error);
      data = g_bytes_get_data (got, &len);
      g_byte_array_append (pending, data, (guint) len);
      /* readline gives what came by the timeout: a line may take several. */
      while ((end = memchr (pending->data, '\n', pending->len)) != NULL)
        {
          gsize line_len = (gsize) (end - pending->data) + 1;

          if (!echo (tx_out, pending->data, line_len, &error))
            return fail ("cannot write TX", error);
          printf ("echoed: %.*s", (int) line_len, (const char *) pending->data);
          fflush (stdout);
          g_byte_array_remove_range (pending, 0, (guint) line_len);
          echoed++;
        }
    }
  bleio_packet_buffer_deinit (tx_out);
  bleio_characteristic_buffer_deinit (rx_in);
  printf ("%u lines\n", echoed);
  return 0;
}
