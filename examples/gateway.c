/* SPDX-License-Identifier: MIT */
/*
 * A sensor gateway: watches the advertisements of every BLE device in range
 * and prints one JSON object per line for each reading it finds in them,
 * ready for a log shipper or `jq`. It never connects: beacons and many
 * sensors put their readings in the advertisement itself, as manufacturer
 * data (a Bluetooth SIG company identifier, then the company's bytes) or as
 * service data (a service UUID, then bytes whose meaning the service
 * defines).
 *
 *   bleio-sim run -- ./gateway --duration 5        (the simulator's crowd)
 *   ./gateway --adapter hci1                       (the system's BlueZ)
 *   ./gateway --passive                            (without scan requests)
 *
 * --passive scans without sending scan requests (the sensors do not see
 * the gateway and spend no energy answering it), through a BlueZ
 * advertisement monitor: with no prefixes libbleio's monitor hears every
 * advertiser that sends a Flags structure, and nothing of the scan
 * responses. bluetoothd 5.66 offers it when started with --experimental;
 * elsewhere the gateway says why and exits 1 rather than scan actively.
 *
 * Decoded formats:
 *   - Apple iBeacon (manufacturer data 0x004C, type 0x02): proximity UUID,
 *     major, minor, calibrated TX power;
 *   - Eddystone (service data 0xFEAA): UID, URL and TLM frames;
 *   - Battery Service (service data 0x180F): battery level in percent;
 *   - Environmental Sensing (service data 0x181A) in the two layouts that
 *     open thermometer firmwares (ATC and pvvx) broadcast: temperature,
 *     humidity, battery.
 * Anything else is printed as hex with its company identifier or UUID, so
 * that no reading is lost; add a decoder below for your own sensors.
 *
 * Each line carries the advertiser's address and address type, RSSI,
 * whether it accepts connections (libbleio's guess: BlueZ does not say, see
 * bleio_scan_entry_get_connectable()), its name when it advertises one, and
 * a "kind" naming the decoder, e.g.
 *
 *   {"address": "4C:00:00:00:00:01", "address_type": "random", "rssi": -71,
 *    "connectable": false, "kind": "ibeacon", "company_id": 76,
 *    "uuid": "e2c56db5-dffb-48d2-b060-d0f5a71096e0", "major": 1, "minor": 2,
 *    "tx_power": -59}
 *
 * (shown wrapped; the program prints each object on one line).
 */
#include <bleio/bleio.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

/* ---- a tiny JSON line writer ---------------------------------------------
 * One reading is built in a GString: json_begin() writes the fields every
 * line has, the decoders add theirs, json_end() closes and prints it. */

static void
json_key (GString    *line,
          const char *key)
{
  g_string_append_printf (line, ", \"%s\": ", key);
}

/* A JSON string: quotes, backslashes and control characters escaped. Names
 * come from the radio, so they may hold anything; invalid UTF-8 is
 * replaced rather than passed on. */
static void
json_string (GString    *line,
             const char *key,
             const char *value)
{
  g_autofree char *valid = g_utf8_make_valid (value, -1);

  json_key (line, key);
  g_string_append_c (line, '"');
  for (const char *p = valid; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c == '"' || c == '\\')
        g_string_append_printf (line, "\\%c", c);
      else if (c < 0x20)
        g_string_append_printf (line, "\\u%04x", c);
      else
        g_string_append_c (line, (char) c);
    }
  g_string_append_c (line, '"');
}

static void
json_int (GString    *line,
          const char *key,
          gint64      value)
{
  json_key (line, key);
  g_string_append_printf (line, "%" G_GINT64_FORMAT, value);
}

/* Fixed-point sensor values: printed with exactly @decimals digits, so that
 * 0.1 °C steps come out as 23.5, never 23.499999. */
static void
json_fixed (GString    *line,
            const char *key,
            gint64      value,
            guint       divisor,
            guint       decimals)
{
  json_key (line, key);
  if (value < 0)
    {
      g_string_append_c (line, '-');
      value = -value;
    }
  g_string_append_printf (line, "%" G_GINT64_FORMAT ".%0*" G_GINT64_FORMAT,
                          value / divisor, (int) decimals, value % divisor);
}

static void
json_bool (GString    *line,
           const char *key,
           gboolean    value)
{
  json_key (line, key);
  g_string_append (line, value ? "true" : "false");
}

static void
json_hex (GString      *line,
          const char   *key,
          const guint8 *data,
          gsize         len)
{
  json_key (line, key);
  g_string_append_c (line, '"');
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (line, "%02x", data[i]);
  g_string_append_c (line, '"');
}

/* What every line of one advertisement shares. */
typedef struct {
  char *address;
  const char *address_type;
  int rssi;
  gboolean connectable;
  char *name;                   /* NULL when none is advertised */
} Advertiser;

static GString *
json_begin (const Advertiser *adv,
            const char       *kind)
{
  GString *line = g_string_new ("{");

  /* The first key has no leading comma: write it by hand. */
  g_string_append_printf (line, "\"address\": \"%s\"", adv->address);
  json_string (line, "address_type", adv->address_type);
  json_int (line, "rssi", adv->rssi);
  json_bool (line, "connectable", adv->connectable);
  if (adv->name != NULL)
    json_string (line, "name", adv->name);
  json_string (line, "kind", kind);
  return line;
}

static void
json_end (GString *line)
{
  g_string_append (line, "}\n");
  fputs (line->str, stdout);
  /* One reading, one write: a consumer reading a pipe sees whole lines. */
  fflush (stdout);
  g_string_free (line, TRUE);
}

/* ---- little helpers for the byte layouts ---------------------------------- */

static guint16
le16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static guint16
be16 (const guint8 *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

/* 16 bytes, most significant first, in the 8-4-4-4-12 text form. */
static char *
uuid_text (const guint8 *b)
{
  return g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                          "%02x%02x%02x%02x%02x%02x",
                          b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8],
                          b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* ---- manufacturer data ----------------------------------------------------- */

/* A few company identifiers from the Bluetooth SIG's assigned numbers, so
 * that a human reading the output recognises them. */
static const char *
company_name (guint16 id)
{
  switch (id)
    {
    case 0x004C: return "Apple, Inc.";
    case 0x0059: return "Nordic Semiconductor ASA";
    case 0x0075: return "Samsung Electronics Co. Ltd.";
    case 0x0157: return "Anhui Huami Information Technology Co., Ltd.";
    case 0xFFFF: return "reserved for tests";
    default: return NULL;
    }
}

/* iBeacon: 0x02 0x15, proximity UUID (16), major (2, big-endian), minor
 * (2, big-endian), TX power measured at 1 m (signed). */
static gboolean
decode_ibeacon (const Advertiser *adv,
                guint16           company,
                const guint8     *p,
                gsize             len)
{
  g_autofree char *uuid = NULL;
  GString *line;

  if (company != 0x004C || len != 23 || p[0] != 0x02 || p[1] != 0x15)
    return FALSE;
  uuid = uuid_text (p + 2);
  line = json_begin (adv, "ibeacon");
  json_int (line, "company_id", company);
  json_string (line, "uuid", uuid);
  json_int (line, "major", be16 (p + 18));
  json_int (line, "minor", be16 (p + 20));
  json_int (line, "tx_power", (gint8) p[22]);
  json_end (line);
  return TRUE;
}

static void
decode_manufacturer (const Advertiser *adv,
                     const guint8     *p,
                     gsize             len)
{
  guint16 company;
  const char *name;
  GString *line;

  if (len < 2)
    return;                     /* no room for the company identifier */
  company = le16 (p);
  if (decode_ibeacon (adv, company, p + 2, len - 2))
    return;
  line = json_begin (adv, "manufacturer");
  json_int (line, "company_id", company);
  if ((name = company_name (company)) != NULL)
    json_string (line, "company", name);
  json_hex (line, "data", p + 2, len - 2);
  json_end (line);
}

/* ---- service data ---------------------------------------------------------- */

/* Eddystone URL frames compress the scheme and common endings. */
static const char *const eddystone_schemes[] = {
  "http://www.", "https://www.", "http://", "https://",
};
static const char *const eddystone_endings[] = {
  ".com/", ".org/", ".edu/", ".net/", ".info/", ".biz/", ".gov/",
  ".com", ".org", ".edu", ".net", ".info", ".biz", ".gov",
};

static gboolean
decode_eddystone (const Advertiser *adv,
                  const guint8     *p,
                  gsize             len)
{
  GString *line;

  if (len < 1)
    return FALSE;
  switch (p[0])
    {
    case 0x00:                  /* UID: TX power, namespace (10), instance (6) */
      if (len < 18)
        return FALSE;
      line = json_begin (adv, "eddystone-uid");
      json_int (line, "tx_power", (gint8) p[1]);
      json_hex (line, "namespace", p + 2, 10);
      json_hex (line, "instance", p + 12, 6);
      json_end (line);
      return TRUE;

    case 0x10:                  /* URL: TX power, scheme, encoded URL */
      {
        g_autoptr(GString) url = NULL;

        if (len < 3 || p[2] >= G_N_ELEMENTS (eddystone_schemes))
          return FALSE;
        url = g_string_new (eddystone_schemes[p[2]]);
        for (gsize i = 3; i < len; i++)
          {
            if (p[i] < G_N_ELEMENTS (eddystone_endings))
              g_string_append (url, eddystone_endings[p[i]]);
            else if (p[i] > 0x20 && p[i] < 0x7F)
              g_string_append_c (url, (char) p[i]);
            else
              return FALSE;     /* not a valid URL frame: print it as hex */
          }
        line = json_begin (adv, "eddystone-url");
        json_int (line, "tx_power", (gint8) p[1]);
        json_string (line, "url", url->str);
        json_end (line);
        return TRUE;
      }

    case 0x20:                  /* TLM, unencrypted (version 0) */
      if (len < 14 || p[1] != 0x00)
        return FALSE;
      line = json_begin (adv, "eddystone-tlm");
      json_int (line, "battery_mv", be16 (p + 2));
      /* Temperature is signed 8.8 fixed point; 0x8000 means "not known". */
      if (be16 (p + 4) != 0x8000)
        json_fixed (line, "temperature_c", ((gint16) be16 (p + 4)) * 100 / 256, 100, 2);
      json_int (line, "advertisements", be32 (p + 6));
      json_fixed (line, "uptime_s", be32 (p + 10), 10, 1);
      json_end (line);
      return TRUE;

    default:
      return FALSE;
    }
}

/* Battery Service data: one byte, the level in percent. */
static gboolean
decode_battery (const Advertiser *adv,
                const guint8     *p,
                gsize             len)
{
  GString *line;

  if (len != 1 || p[0] > 100)
    return FALSE;
  line = json_begin (adv, "battery");
  json_int (line, "battery_percent", p[0]);
  json_end (line);
  return TRUE;
}

/* Environmental Sensing service data as thermometer firmwares send it.
 * ATC (13 bytes, big-endian): MAC (6), temperature in 0.1 °C (signed),
 *   humidity %, battery %, battery mV, frame counter.
 * pvvx (15 bytes, little-endian): MAC (6, reversed), temperature in
 *   0.01 °C (signed), humidity in 0.01 %, battery mV, battery %, counter,
 *   flags. */
static gboolean
decode_environmental (const Advertiser *adv,
                      const guint8     *p,
                      gsize             len)
{
  GString *line;

  if (len == 13)
    {
      line = json_begin (adv, "environmental");
      json_string (line, "format", "atc");
      json_fixed (line, "temperature_c", (gint16) be16 (p + 6), 10, 1);
      json_int (line, "humidity_percent", p[8]);
      json_int (line, "battery_percent", p[9]);
      json_int (line, "battery_mv", be16 (p + 10));
      json_int (line, "counter", p[12]);
      json_end (line);
      return TRUE;
    }
  if (len == 15)
    {
      line = json_begin (adv, "environmental");
      json_string (line, "format", "pvvx");
      json_fixed (line, "temperature_c", (gint16) le16 (p + 6), 100, 2);
      json_fixed (line, "humidity_percent", le16 (p + 8), 100, 2);
      json_int (line, "battery_mv", le16 (p + 10));
      json_int (line, "battery_percent", p[12]);
      json_int (line, "counter", p[13]);
      json_end (line);
      return TRUE;
    }
  return FALSE;
}

/* @uuid_len is 2, 4 or 16 bytes (AD types 0x16, 0x20, 0x21), little-endian
 * as on the air. */
static void
decode_service_data (const Advertiser *adv,
                     const guint8     *p,
                     gsize             len,
                     gsize             uuid_len)
{
  g_autoptr(BleioUuid) uuid = NULL;
  g_autofree char *uuid_string = NULL;
  GString *line;

  if (len < uuid_len)
    return;
  if (uuid_len == 2)
    {
      guint16 uuid16 = le16 (p);
      gboolean decoded = FALSE;

      switch (uuid16)
        {
        case 0xFEAA: decoded = decode_eddystone (adv, p + 2, len - 2); break;
        case 0x180F: decoded = decode_battery (adv, p + 2, len - 2); break;
        case 0x181A: decoded = decode_environmental (adv, p + 2, len - 2); break;
        default: break;
        }
      if (decoded)
        return;
      uuid = bleio_uuid_new_from_uuid16 (uuid16);
    }
  else if (uuid_len == 4)
    {
      /* A 32-bit UUID sits on the Bluetooth base UUID like a 16-bit one. */
      uuid_string = g_strdup_printf ("%08x-0000-1000-8000-00805f9b34fb",
                                     (guint) (le16 (p) | ((guint32) le16 (p + 2) << 16)));
    }
  else
    {
      uuid = bleio_uuid_new_from_bytes (p, 16, NULL);
    }
  if (uuid_string == NULL)
    uuid_string = uuid != NULL ? bleio_uuid_to_string (uuid) : g_strdup ("?");
  line = json_begin (adv, "service-data");
  json_string (line, "uuid", uuid_string);
  json_hex (line, "data", p + uuid_len, len - uuid_len);
  json_end (line);
}

/* ---- one advertisement ------------------------------------------------------ */

static guint
handle_entry (BleioScanEntry *entry)
{
  GBytes *bytes = bleio_scan_entry_get_advertisement_bytes (entry);
  const BleioAddress *address = bleio_scan_entry_get_address (entry);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  Advertiser adv = { 0, };
  BleioAdIter iter;
  guint8 type;
  const guint8 *payload;
  gsize payload_len;
  guint readings = 0;

  adv.address = bleio_address_to_bluez_string (address);
  adv.address_type = bleio_address_get_bluez_address_type (address);
  adv.rssi = bleio_scan_entry_get_rssi (entry);
  adv.connectable = bleio_scan_entry_get_connectable (entry);
  adv.name = bleio_scan_entry_dup_complete_name (entry);

  /* Walk the AD structures: [length][type][payload...] until the end. A
   * malformed advertisement stops the walk; what came before it counts. */
  bleio_ad_iter_init (&iter, data, len);
  while (bleio_ad_iter_next (&iter, &type, &payload, &payload_len, NULL))
    {
      switch (type)
        {
        case BLEIO_AD_TYPE_MANUFACTURER_DATA:
          decode_manufacturer (&adv, payload, payload_len);
          readings++;
          break;
        case BLEIO_AD_TYPE_SERVICE_DATA_UUID16:
          decode_service_data (&adv, payload, payload_len, 2);
          readings++;
          break;
        case BLEIO_AD_TYPE_SERVICE_DATA_UUID32:
          decode_service_data (&adv, payload, payload_len, 4);
          readings++;
          break;
        case BLEIO_AD_TYPE_SERVICE_DATA_UUID128:
          decode_service_data (&adv, payload, payload_len, 16);
          readings++;
          break;
        default:
          break;                /* flags, names, UUID lists: not readings */
        }
    }
  g_free (adv.address);
  g_free (adv.name);
  return readings;
}

/* ---- main -------------------------------------------------------------------- */

int
main (int    argc,
      char **argv)
{
  double duration = 0;
  char *adapter_name = NULL;
  gboolean passive = FALSE;
  GOptionEntry options[] = {
    { "duration", 'd', 0, G_OPTION_ARG_DOUBLE, &duration,
      "Stop after SECONDS (default: run until interrupted)", "SECONDS" },
    { "adapter", 'a', 0, G_OPTION_ARG_STRING, &adapter_name,
      "Use this adapter (hci0, or its address; default: the first)", "NAME" },
    { "passive", 'p', 0, G_OPTION_ARG_NONE, &passive,
      "Scan passively: no scan requests (needs bluetoothd --experimental)", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- print BLE sensor readings as JSON lines");
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  guint64 entries = 0, readings = 0;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, options, NULL);
  g_option_context_set_description (context,
    "Each line is one JSON object: the advertiser (address, address_type,\n"
    "rssi, connectable, name) and one reading (kind, then its fields).\n"
    "A summary goes to stderr at the end.\n");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "gateway: %s\n", error->message);
      return 2;
    }

  adapter = bleio_adapter_new_for_name (NULL, adapter_name, NULL, &error);
  g_free (adapter_name);
  if (adapter == NULL)
    {
      fprintf (stderr, "gateway: no adapter: %s\n", error->message);
      return 1;
    }

  /* Scan with a generous buffer: a crowd of beacons advertising every
   * 100 ms must not overflow it while this loop prints. No prefixes and
   * no minimum RSSI: every advertisement is a candidate reading. The scan
   * stops by itself after @duration (0: never). */
  results = bleio_adapter_start_scan (adapter, NULL, 256 * 1024, FALSE, duration,
                                      0.1, 0.1, -127, !passive, &error);
  if (results == NULL)
    {
      fprintf (stderr, "gateway: cannot scan: %s\n", error->message);
      return 1;
    }

  /* bleio_scan_results_next() blocks until an entry arrives; it returns
   * NULL without an error once the scan has ended and all entries were
   * taken. No main loop is needed. */
  for (;;)
    {
      g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, -1, &error);

      if (entry == NULL)
        break;
      entries++;
      readings += handle_entry (entry);
    }
  if (error != NULL)
    {
      fprintf (stderr, "gateway: the scan failed: %s\n", error->message);
      return 1;
    }
  fprintf (stderr, "gateway: %" G_GUINT64_FORMAT " advertisements, %" G_GUINT64_FORMAT
           " readings, %u dropped (buffer full)\n",
           entries, readings, bleio_scan_results_get_dropped (results));
  return 0;
}
