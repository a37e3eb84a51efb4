/* SPDX-License-Identifier: MIT */
/*
 * The commands that listen to advertisements: scan, info, and the search
 * for one advertiser that precedes a connect.
 */
#include "bleioctl.h"

#include <string.h>

/* ---- advertisements ----------------------------------------------------------- */

static void
ad_fields_clear (AdFields *fields)
{
  g_clear_pointer (&fields->name, g_free);
  g_clear_pointer (&fields->uuids, g_ptr_array_unref);
  g_clear_pointer (&fields->manufacturer, g_ptr_array_unref);
  g_clear_pointer (&fields->service_data, g_ptr_array_unref);
}

static char *
uuid_from_le (const guint8 *data,
              gsize         len)
{
  g_autoptr(BleioUuid) uuid = NULL;

  if (len == 4)
    return g_strdup_printf ("%08x", (guint) data[0] | (guint) data[1] << 8 |
                            (guint) data[2] << 16 | (guint) data[3] << 24);
  uuid = bleio_uuid_new_from_bytes (data, len, NULL);
  if (uuid == NULL)
    return NULL;
  if (len == 16)
    {
      /* Print UUIDs on the Bluetooth base short, as everywhere else. */
      g_autofree char *text = bleio_uuid_to_string (uuid);
      g_autoptr(BleioUuid) normal = bleio_uuid_new_from_string (text, NULL);

      return normal != NULL ? ctl_uuid_format (normal) : g_steal_pointer (&text);
    }
  return ctl_uuid_format (uuid);
}

/* The length of the UUIDs a list or service data AD type carries, or 0. */
static gsize
uuid_length_of (guint8 type)
{
  switch (type)
    {
    case BLEIO_AD_TYPE_UUID16_INCOMPLETE:
    case BLEIO_AD_TYPE_UUID16_COMPLETE:
    case BLEIO_AD_TYPE_SERVICE_DATA_UUID16:
      return 2;
    case BLEIO_AD_TYPE_UUID32_INCOMPLETE:
    case BLEIO_AD_TYPE_UUID32_COMPLETE:
    case BLEIO_AD_TYPE_SERVICE_DATA_UUID32:
      return 4;
    case BLEIO_AD_TYPE_UUID128_INCOMPLETE:
    case BLEIO_AD_TYPE_UUID128_COMPLETE:
    case BLEIO_AD_TYPE_SERVICE_DATA_UUID128:
      return 16;
    default:
      return 0;
    }
}

static void
ad_parse (GBytes   *bytes,
          AdFields *fields)
{
  BleioAdIter iter;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  guint8 type;
  const guint8 *payload;
  gsize plen;
  char *short_name = NULL;

  memset (fields, 0, sizeof *fields);
  fields->uuids = g_ptr_array_new_with_free_func (g_free);
  fields->manufacturer = g_ptr_array_new_with_free_func (g_free);
  fields->service_data = g_ptr_array_new_with_free_func (g_free);
  bleio_ad_iter_init (&iter, data, len);
  while (bleio_ad_iter_next (&iter, &type, &payload, &plen, NULL))
    {
      gsize ulen = uuid_length_of (type);

      switch (type)
        {
        case BLEIO_AD_TYPE_FLAGS:
          if (plen >= 1)
            {
              fields->has_flags = TRUE;
              fields->flags = payload[0];
            }
          break;
        case BLEIO_AD_TYPE_COMPLETE_NAME:
          g_free (fields->name);
          fields->name = g_utf8_make_valid ((const char *) payload, (gssize) plen);
          break;
        case BLEIO_AD_TYPE_SHORT_NAME:
          g_free (short_name);
          short_name = g_utf8_make_valid ((const char *) payload, (gssize) plen);
          break;
        case BLEIO_AD_TYPE_TX_POWER:
          if (plen >= 1)
            {
              fields->has_tx_power = TRUE;
              fields->tx_power = (gint8) payload[0];
            }
          break;
        case BLEIO_AD_TYPE_APPEARANCE:
          if (plen >= 2)
            {
              fields->has_appearance = TRUE;
              fields->appearance = (guint) payload[0] | (guint) payload[1] << 8;
            }
          break;
        case BLEIO_AD_TYPE_UUID16_INCOMPLETE:
        case BLEIO_AD_TYPE_UUID16_COMPLETE:
        case BLEIO_AD_TYPE_UUID32_INCOMPLETE:
        case BLEIO_AD_TYPE_UUID32_COMPLETE:
        case BLEIO_AD_TYPE_UUID128_INCOMPLETE:
        case BLEIO_AD_TYPE_UUID128_COMPLETE:
          for (gsize i = 0; i + ulen <= plen; i += ulen)
            {
              char *uuid = uuid_from_le (payload + i, ulen);

              if (uuid != NULL)
                g_ptr_array_add (fields->uuids, uuid);
            }
          break;
        case BLEIO_AD_TYPE_SERVICE_DATA_UUID16:
        case BLEIO_AD_TYPE_SERVICE_DATA_UUID32:
        case BLEIO_AD_TYPE_SERVICE_DATA_UUID128:
          {
            char *uuid = plen >= ulen ? uuid_from_le (payload, ulen) : NULL;

            if (uuid == NULL)
              break;
            g_ptr_array_add (fields->service_data, uuid);
            g_ptr_array_add (fields->service_data, hex_encode_data (payload + ulen, plen - ulen));
          }
          break;
        case BLEIO_AD_TYPE_MANUFACTURER_DATA:
          if (plen >= 2)
            {
              g_ptr_array_add (fields->manufacturer,
                               g_strdup_printf ("0x%04x", (guint) payload[0] | (guint) payload[1] << 8));
              g_ptr_array_add (fields->manufacturer, hex_encode_data (payload + 2, plen - 2));
            }
          break;
        default:
          break;
        }
    }
  if (fields->name == NULL)
    fields->name = short_name;
  else
    g_free (short_name);
}

/* ---- scanning ------------------------------------------------------------------- */

/* @passive: through an advertisement monitor, or NOT_SUPPORTED (exit 7)
 * saying why: never an active scan in its place. */
static BleioScanResults *
start_scan (double    timeout,
            int       min_rssi,
            gboolean  passive,
            GError  **error)
{
  return bleio_adapter_start_scan (ctl.adapter, NULL, 256 * 1024, FALSE, timeout, 0, 0,
                                   min_rssi, !passive, error);
}

/* The next advertisement; NULL when the scan ended (with @error set if it
 * ended abnormally) or Ctrl-C came. Polls so that Ctrl-C is seen. */
static BleioScanEntry *
next_entry (BleioScanResults  *results,
            GError           **error)
{
  while (!g_cancellable_is_cancelled (ctl.cancellable))
    {
      g_autoptr(GError) local = NULL;
      BleioScanEntry *entry = bleio_scan_results_next (results, 0.2, &local);

      if (entry != NULL)
        return entry;
      if (local == NULL)
        return NULL;
      if (!g_error_matches (local, BLEIO_ERROR, BLEIO_ERROR_TIMEOUT))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
    }
  return NULL;
}

static gboolean
entry_passes_filters (const AdFields *fields)
{
  if (ctl.name != NULL && g_strcmp0 (fields->name, ctl.name) != 0)
    return FALSE;
  if (ctl.prefix != NULL && (fields->name == NULL || !g_str_has_prefix (fields->name, ctl.prefix)))
    return FALSE;
  return TRUE;
}

gboolean
cmd_scan (char   **args,
          GError **error)
{
  g_autoptr(BleioScanResults) results = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  double timeout = ctl.timeout_set ? ctl.timeout : DEFAULT_TIMEOUT;
  guint shown = 0;
  g_autoptr(GError) local = NULL;

  if (args[0] != NULL)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "scan takes no arguments ('%s'): filter with --name, --prefix or --min-rssi",
                   args[0]);
      return FALSE;
    }
  if (!open_adapter (error))
    return FALSE;
  results = start_scan (timeout, ctl.min_rssi_set ? ctl.min_rssi : G_MININT, ctl.passive, error);
  if (results == NULL)
    return FALSE;
  spinner_begin ("scanning");
  for (;;)
    {
      g_autoptr(BleioScanEntry) entry = next_entry (results, &local);
      g_autofree char *address = NULL;
      AdFields fields;

      if (entry == NULL)
        break;
      ad_parse (bleio_scan_entry_get_advertisement_bytes (entry), &fields);
      address = bleio_address_to_bluez_string (bleio_scan_entry_get_address (entry));
      if (entry_passes_filters (&fields) &&
          (ctl.duplicates || !g_hash_table_contains (seen, address)))
        {
          g_hash_table_add (seen, g_strdup (address));
          print_entry (entry, &fields);
          shown++;
        }
      ad_fields_clear (&fields);
      if (ctl.count > 0 && shown >= (guint) ctl.count)
        break;
    }
  spinner_end ();
  bleio_adapter_stop_scan (ctl.adapter, NULL);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!ctl.json)
    out ("%u device%s found%s\n", g_hash_table_size (seen), g_hash_table_size (seen) == 1 ? "" : "s",
         bleio_scan_results_get_passive (results) ? " (passive scan)" : "");
  return TRUE;
}

/* Scans until @address advertises; returns its entry. */
BleioScanEntry *
find_advertiser (const BleioAddress  *address,
                 GError             **error)
{
  g_autoptr(BleioScanResults) results = NULL;
  g_autofree char *text = bleio_address_to_bluez_string (address);
  g_autofree char *label = g_strdup_printf ("looking for %s", text);
  BleioScanEntry *found = NULL;
  g_autoptr(GError) local = NULL;

  results = start_scan (op_timeout (), G_MININT, FALSE, error);
  if (results == NULL)
    return NULL;
  spinner_begin (label);
  while (found == NULL)
    {
      g_autoptr(BleioScanEntry) entry = next_entry (results, &local);

      if (entry == NULL)
        break;
      if (same_address (bleio_scan_entry_get_address (entry), address))
        found = g_steal_pointer (&entry);
    }
  spinner_end ();
  bleio_adapter_stop_scan (ctl.adapter, NULL);
  if (found != NULL)
    return found;
  if (local != NULL)
    g_propagate_error (error, g_steal_pointer (&local));
  else if (!g_cancellable_set_error_if_cancelled (ctl.cancellable, error))
    g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_DOES_NOT_EXIST,
                 "Device %s not found: it did not advertise within %.0f s. Check that it is "
                 "powered and in range, raise --timeout, or pass --address-type to connect "
                 "without scanning", text, op_timeout ());
  return NULL;
}

gboolean
cmd_info (char   **args,
          GError **error)
{
  g_autoptr(BleioAddress) address = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioScanEntry) entry = NULL;
  AdFields fields = { 0 };
  gboolean paired;

  if (!require_address (args, 0, 0, "info ADDRESS", error))
    return FALSE;
  address = parse_address (args[0], error);
  if (address == NULL || !open_adapter (error))
    return FALSE;
  connection = find_connection (address);
  if (connection != NULL)
    {
      print_info (bleio_connection_get_address (connection), NULL, NULL,
                  bleio_connection_get_paired (connection, NULL));
      return TRUE;
    }
  /* A connected peer usually stops advertising; only scan for others. */
  entry = find_advertiser (address, error);
  if (entry == NULL)
    return FALSE;
  /* bluetoothd keeps Paired/Bonded while the peer is not linked. */
  paired = bleio_adapter_get_paired (ctl.adapter, bleio_scan_entry_get_address (entry), error);
  if (!paired && error != NULL && *error != NULL)
    return FALSE;
  ad_parse (bleio_scan_entry_get_advertisement_bytes (entry), &fields);
  print_info (bleio_scan_entry_get_address (entry), entry, &fields, paired);
  ad_fields_clear (&fields);
  return TRUE;
}
