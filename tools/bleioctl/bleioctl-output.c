/* SPDX-License-Identifier: MIT */
/*
 * Everything bleioctl prints: result lines (human or JSON), errors, and the
 * progress spinner that both must stay out of the way of.
 */
#include "bleioctl.h"

#include <stdio.h>
#include <string.h>

/* ---- progress indicator (only when stdout is a terminal) ---------------------- */

static struct {
  GMutex lock;
  GThread *thread;
  gboolean running;
  gboolean active;
  gboolean drawn;
  char *label;
  gint64 start;
} spinner;

/* Called with spinner.lock held. */
static void
spinner_erase_locked (void)
{
  if (spinner.drawn)
    {
      fputs ("\r\033[K", stderr);
      fflush (stderr);
      spinner.drawn = FALSE;
    }
}

static gpointer
spinner_thread (gpointer data)
{
  static const char frames[] = "|/-\\";
  guint frame = 0;

  for (;;)
    {
      g_usleep (100 * 1000);
      g_mutex_lock (&spinner.lock);
      if (!spinner.running)
        {
          spinner_erase_locked ();
          g_mutex_unlock (&spinner.lock);
          return NULL;
        }
      if (spinner.active)
        {
          double elapsed = (double) (g_get_monotonic_time () - spinner.start) / G_USEC_PER_SEC;

          fprintf (stderr, "\r\033[K%c %s %.1f s", frames[frame++ % 4], spinner.label, elapsed);
          fflush (stderr);
          spinner.drawn = TRUE;
        }
      g_mutex_unlock (&spinner.lock);
    }
}

void
spinner_begin (const char *label)
{
  if (!ctl.progress)
    return;
  g_mutex_lock (&spinner.lock);
  g_free (spinner.label);
  spinner.label = g_strdup (label);
  spinner.start = g_get_monotonic_time ();
  spinner.active = TRUE;
  if (spinner.thread == NULL)
    {
      spinner.running = TRUE;
      spinner.thread = g_thread_new ("bleioctl-progress", spinner_thread, NULL);
    }
  g_mutex_unlock (&spinner.lock);
}

void
spinner_end (void)
{
  if (!ctl.progress)
    return;
  g_mutex_lock (&spinner.lock);
  spinner.active = FALSE;
  spinner_erase_locked ();
  g_mutex_unlock (&spinner.lock);
}

void
spinner_shutdown (void)
{
  GThread *thread;

  g_mutex_lock (&spinner.lock);
  spinner.running = FALSE;
  thread = g_steal_pointer (&spinner.thread);
  g_mutex_unlock (&spinner.lock);
  if (thread != NULL)
    g_thread_join (thread);
  g_clear_pointer (&spinner.label, g_free);
}

/* ---- lines out of the spinner's way --------------------------------------------- */

static void G_GNUC_PRINTF (2, 0)
print_to (FILE       *stream,
          const char *format,
          va_list     args)
{
  g_mutex_lock (&spinner.lock);
  spinner_erase_locked ();
  vfprintf (stream, format, args);
  fflush (stream);
  g_mutex_unlock (&spinner.lock);
}

/* A line of results on stdout. */
void
out (const char *format,
     ...)
{
  va_list args;

  va_start (args, format);
  print_to (stdout, format, args);
  va_end (args);
}

/* A line for the user on stderr, which scripts reading stdout never see. */
void
note (const char *format,
      ...)
{
  va_list args;

  va_start (args, format);
  print_to (stderr, format, args);
  va_end (args);
}

static char *
json_text (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);

  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

void
out_json (JsonBuilder *builder)
{
  g_autofree char *text = json_text (builder);

  out ("%s\n", text);
}

/* ---- errors ------------------------------------------------------------------ */

static const char *
error_class (int code)
{
  switch (code)
    {
    case EXIT_USAGE: return "usage";
    case EXIT_NOT_FOUND: return "not-found";
    case EXIT_TIMEOUT: return "timeout";
    case EXIT_CONNECTION: return "connection";
    case EXIT_SECURITY: return "security";
    case EXIT_NOT_SUPPORTED: return "not-supported";
    case EXIT_BLUEZ_UNAVAILABLE: return "bluez-unavailable";
    case EXIT_NO_ADAPTER: return "no-adapter";
    case EXIT_BUSY: return "busy";
    case EXIT_INTERRUPTED: return "interrupted";
    default: return "failed";
    }
}

/* Prints @error (exit code @code) on stderr; returns @code. */
int
report_error (const GError *error,
              int           code)
{
  if (ctl.json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autofree char *text = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "error");
      json_builder_add_string_value (builder, error_class (code));
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, error->message);
      json_builder_set_member_name (builder, "exit_code");
      json_builder_add_int_value (builder, code);
      json_builder_end_object (builder);
      text = json_text (builder);
      note ("%s\n", text);
    }
  else
    note ("bleioctl: %s\n", error->message);
  return code;
}

/* ---- values -------------------------------------------------------------------- */

char *
hex_encode (GBytes *bytes)
{
  gsize len = 0;
  const guint8 *data = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;

  return hex_encode_data (data, len);
}

char *
hex_encode_data (const guint8 *data,
                 gsize         len)
{
  GString *text = g_string_sized_new (len * 2 + 1);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (text, "%02x", data[i]);
  return g_string_free (text, FALSE);
}

/* Peer-supplied text in human output: control characters become '?'. */
char *
printable (const char *text)
{
  char *copy = g_strdup (text != NULL ? text : "");

  for (char *p = copy; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      *p = '?';
  return copy;
}

const char *
address_type_name (BleioAddressType type)
{
  switch (type)
    {
    case BLEIO_ADDRESS_TYPE_PUBLIC: return "public";
    case BLEIO_ADDRESS_TYPE_RANDOM_STATIC: return "random-static";
    case BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_RESOLVABLE: return "random-private-resolvable";
    case BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_NON_RESOLVABLE: return "random-private-non-resolvable";
    default: return "unknown";
    }
}

void
json_add_string_or_null (JsonBuilder *builder,
                         const char  *member,
                         const char  *value)
{
  json_builder_set_member_name (builder, member);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
json_add_address_members (JsonBuilder        *builder,
                          const BleioAddress *address)
{
  g_autofree char *text = bleio_address_to_bluez_string (address);

  json_builder_set_member_name (builder, "address");
  json_builder_add_string_value (builder, text);
  json_builder_set_member_name (builder, "address_type");
  json_builder_add_string_value (builder, address_type_name (bleio_address_get_address_type (address)));
}

/* ---- advertisers ---------------------------------------------------------------- */

/* A JSON object of "key": "value" members from a key, value, ... array. */
static void
json_add_pairs (JsonBuilder *builder,
                const char  *member,
                GPtrArray   *pairs)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_object (builder);
  for (guint i = 0; i + 1 < pairs->len; i += 2)
    {
      json_builder_set_member_name (builder, g_ptr_array_index (pairs, i));
      json_builder_add_string_value (builder, g_ptr_array_index (pairs, i + 1));
    }
  json_builder_end_object (builder);
}

static void
json_add_entry_members (JsonBuilder          *builder,
                        const BleioScanEntry *entry,
                        const AdFields       *fields)
{
  g_autofree char *adv = hex_encode (bleio_scan_entry_get_advertisement_bytes (entry));

  json_add_address_members (builder, bleio_scan_entry_get_address (entry));
  json_add_string_or_null (builder, "name", fields->name);
  /* null when the controller reported no RSSI (HCI's 127): no number of
   * dBm would be true */
  json_builder_set_member_name (builder, "rssi");
  if (bleio_scan_entry_get_rssi (entry) == BLEIO_SCAN_ENTRY_RSSI_UNKNOWN)
    json_builder_add_null_value (builder);
  else
    json_builder_add_int_value (builder, bleio_scan_entry_get_rssi (entry));
  json_builder_set_member_name (builder, "connectable");
  json_builder_add_boolean_value (builder, bleio_scan_entry_get_connectable (entry));
  json_builder_set_member_name (builder, "tx_power");
  if (fields->has_tx_power)
    json_builder_add_int_value (builder, fields->tx_power);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "appearance");
  if (fields->has_appearance)
    json_builder_add_int_value (builder, fields->appearance);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "uuids");
  json_builder_begin_array (builder);
  for (guint i = 0; i < fields->uuids->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (fields->uuids, i));
  json_builder_end_array (builder);
  json_add_pairs (builder, "manufacturer_data", fields->manufacturer);
  json_add_pairs (builder, "service_data", fields->service_data);
  json_builder_set_member_name (builder, "advertisement");
  json_builder_add_string_value (builder, adv);
}

/* One advertiser as scan lists it. */
void
print_entry (const BleioScanEntry *entry,
             const AdFields       *fields)
{
  const BleioAddress *address = bleio_scan_entry_get_address (entry);
  g_autofree char *text = NULL;
  g_autofree char *name = NULL;
  g_autofree char *rssi = NULL;

  if (ctl.json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_add_entry_members (builder, entry, fields);
      json_builder_end_object (builder);
      out_json (builder);
      return;
    }
  text = bleio_address_to_bluez_string (address);
  name = printable (fields->name);
  if (bleio_scan_entry_get_rssi (entry) == BLEIO_SCAN_ENTRY_RSSI_UNKNOWN)
    rssi = g_strdup ("   ? dBm");
  else
    rssi = g_strdup_printf ("%4d dBm", bleio_scan_entry_get_rssi (entry));
  out ("%s  %-6s  %s  %-15s  %s\n", text, bleio_address_get_bluez_address_type (address),
       rssi,
       bleio_scan_entry_get_connectable (entry) ? "connectable" : "non-connectable",
       fields->name != NULL ? name : "(no name)");
}

static void
print_ad_fields_human (const BleioScanEntry *entry,
                       const AdFields       *fields)
{
  g_autofree char *name = printable (fields->name);
  g_autofree char *adv = hex_encode (bleio_scan_entry_get_advertisement_bytes (entry));

  out ("name: %s\n", fields->name != NULL ? name : "(none)");
  if (bleio_scan_entry_get_rssi (entry) == BLEIO_SCAN_ENTRY_RSSI_UNKNOWN)
    out ("rssi: unknown\n");
  else
    out ("rssi: %d dBm\n", bleio_scan_entry_get_rssi (entry));
  out ("connectable: %s\n", bleio_scan_entry_get_connectable (entry) ? "yes" : "no");
  if (fields->has_tx_power)
    out ("tx power: %d dBm\n", fields->tx_power);
  if (fields->has_appearance)
    out ("appearance: 0x%04x\n", fields->appearance);
  for (guint i = 0; i < fields->uuids->len; i++)
    {
      const char *uuid = g_ptr_array_index (fields->uuids, i);
      g_autoptr(BleioUuid) parsed = bleio_uuid_new_from_string (uuid, NULL);
      const char *name16 = parsed != NULL ? ctl_uuid_name (parsed, CTL_NAME_SERVICE) : NULL;

      out ("service uuid: %s%s%s\n", uuid, name16 != NULL ? " " : "", name16 != NULL ? name16 : "");
    }
  for (guint i = 0; i + 1 < fields->manufacturer->len; i += 2)
    out ("manufacturer data: %s %s\n", (char *) g_ptr_array_index (fields->manufacturer, i),
         (char *) g_ptr_array_index (fields->manufacturer, i + 1));
  for (guint i = 0; i + 1 < fields->service_data->len; i += 2)
    out ("service data: %s %s\n", (char *) g_ptr_array_index (fields->service_data, i),
         (char *) g_ptr_array_index (fields->service_data, i + 1));
  out ("advertisement: %s\n", adv);
}

void
print_info (const BleioAddress   *peer,
            const BleioScanEntry *entry,
            const AdFields       *fields,
            gboolean              paired)
{
  gboolean connected = entry == NULL;

  if (ctl.json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      if (entry != NULL)
        json_add_entry_members (builder, entry, fields);
      else
        json_add_address_members (builder, peer);
      json_builder_set_member_name (builder, "connected");
      json_builder_add_boolean_value (builder, connected);
      json_builder_set_member_name (builder, "paired");
      json_builder_add_boolean_value (builder, paired);
      json_builder_end_object (builder);
      out_json (builder);
    }
  else
    {
      g_autofree char *text = bleio_address_to_bluez_string (peer);

      out ("address: %s (%s)\n", text, address_type_name (bleio_address_get_address_type (peer)));
      out ("connected: %s\n", connected ? "yes" : "no");
      out ("paired: %s\n", paired ? "yes" : "no");
      if (entry != NULL)
        print_ad_fields_human (entry, fields);
    }
}

/* ---- adapters ------------------------------------------------------------------- */

void
print_adapter (BleioAdapter *adapter)
{
  g_autoptr(BleioAddress) address = bleio_adapter_dup_address (adapter);
  g_autofree char *address_text = address != NULL ? bleio_address_to_bluez_string (address) : NULL;
  g_autofree char *name = bleio_adapter_dup_name (adapter);

  if (ctl.json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "adapter");
      json_builder_add_string_value (builder, bleio_adapter_get_interface_name (adapter));
      json_add_string_or_null (builder, "address", address_text);
      json_add_string_or_null (builder, "address_type",
                               address != NULL ? address_type_name (bleio_address_get_address_type (address))
                                               : NULL);
      json_add_string_or_null (builder, "name", name);
      json_builder_set_member_name (builder, "powered");
      json_builder_add_boolean_value (builder, bleio_adapter_get_enabled (adapter));
      json_builder_set_member_name (builder, "connected");
      json_builder_add_boolean_value (builder, bleio_adapter_get_connected (adapter));
      json_builder_set_member_name (builder, "object_path");
      json_builder_add_string_value (builder, bleio_adapter_get_object_path (adapter));
      json_builder_end_object (builder);
      out_json (builder);
    }
  else
    {
      g_autofree char *shown = printable (name);

      out ("%s  %s  %-3s  %s\n", bleio_adapter_get_interface_name (adapter),
           address_text != NULL ? address_text : "??:??:??:??:??:??",
           bleio_adapter_get_enabled (adapter) ? "on" : "off", shown);
    }
}

/* {"address": ..., MEMBER: VALUE} in JSON, else the line @human. */
void
print_peer_state (const char *address,
                  const char *member,
                  gboolean    value,
                  const char *human)
{
  if (ctl.json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "address");
      json_builder_add_string_value (builder, address);
      json_builder_set_member_name (builder, member);
      json_builder_add_boolean_value (builder, value);
      json_builder_end_object (builder);
      out_json (builder);
    }
  else
    out ("%s\n", human);
}

/* ---- GATT ----------------------------------------------------------------------- */

static const char *const property_names[] = {
  "broadcast", "read", "write-without-response", "write", "notify", "indicate",
};
static const BleioCharacteristicProperties property_bits[] = {
  BLEIO_CHARACTERISTIC_PROPERTY_BROADCAST, BLEIO_CHARACTERISTIC_PROPERTY_READ,
  BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE, BLEIO_CHARACTERISTIC_PROPERTY_WRITE,
  BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY, BLEIO_CHARACTERISTIC_PROPERTY_INDICATE,
};

static void
json_add_uuid_members (JsonBuilder     *builder,
                       const BleioUuid *uuid,
                       guint16          handle,
                       CtlNameKind      kind)
{
  g_autofree char *text = ctl_uuid_format (uuid);
  g_autofree char *handle_text = g_strdup_printf ("0x%04x", handle);

  json_builder_set_member_name (builder, "uuid");
  json_builder_add_string_value (builder, text);
  json_add_string_or_null (builder, "name", ctl_uuid_name (uuid, kind));
  json_builder_set_member_name (builder, "handle");
  json_builder_add_string_value (builder, handle_text);
}

/* "0x0046 2a19 Battery Level": handle, UUID and assigned name. */
static char *
describe (const BleioUuid *uuid,
          guint16          handle,
          CtlNameKind      kind)
{
  g_autofree char *text = ctl_uuid_format (uuid);
  const char *name = ctl_uuid_name (uuid, kind);

  if (name != NULL)
    return g_strdup_printf ("0x%04x %s %s", handle, text, name);
  return g_strdup_printf ("0x%04x %s", handle, text);
}

static char *
describe_characteristic (BleioCharacteristic *characteristic)
{
  return describe (bleio_characteristic_get_uuid (characteristic),
                   bleio_characteristic_get_handle (characteristic), CTL_NAME_CHARACTERISTIC);
}

static void
json_add_characteristic (JsonBuilder         *builder,
                         BleioCharacteristic *characteristic)
{
  BleioCharacteristicProperties props = bleio_characteristic_get_properties (characteristic);
  g_autoptr(GPtrArray) descriptors = bleio_characteristic_dup_descriptors (characteristic);

  json_builder_begin_object (builder);
  json_add_uuid_members (builder, bleio_characteristic_get_uuid (characteristic),
                         bleio_characteristic_get_handle (characteristic), CTL_NAME_CHARACTERISTIC);
  json_builder_set_member_name (builder, "properties");
  json_builder_begin_array (builder);
  for (gsize k = 0; k < G_N_ELEMENTS (property_bits); k++)
    if (props & property_bits[k])
      json_builder_add_string_value (builder, property_names[k]);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "descriptors");
  json_builder_begin_array (builder);
  for (guint k = 0; k < descriptors->len; k++)
    {
      BleioDescriptor *descriptor = g_ptr_array_index (descriptors, k);

      json_builder_begin_object (builder);
      json_add_uuid_members (builder, bleio_descriptor_get_uuid (descriptor),
                             bleio_descriptor_get_handle (descriptor), CTL_NAME_DESCRIPTOR);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
}

static void
print_characteristic_human (BleioCharacteristic *characteristic)
{
  BleioCharacteristicProperties props = bleio_characteristic_get_properties (characteristic);
  g_autoptr(GPtrArray) descriptors = bleio_characteristic_dup_descriptors (characteristic);
  g_autoptr(GString) flags = g_string_new (NULL);
  g_autofree char *line = describe_characteristic (characteristic);

  for (gsize k = 0; k < G_N_ELEMENTS (property_bits); k++)
    if (props & property_bits[k])
      g_string_append_printf (flags, "%s%s", flags->len > 0 ? "," : "", property_names[k]);
  out ("  characteristic %s [%s]\n", line, flags->str);
  for (guint k = 0; k < descriptors->len; k++)
    {
      BleioDescriptor *descriptor = g_ptr_array_index (descriptors, k);
      g_autofree char *text = describe (bleio_descriptor_get_uuid (descriptor),
                                        bleio_descriptor_get_handle (descriptor),
                                        CTL_NAME_DESCRIPTOR);

      out ("    descriptor %s\n", text);
    }
}

/* The GATT tree: one JSON object, or the human tree line by line. */
void
print_services (BleioConnection *connection,
                GPtrArray       *services)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *address = bleio_address_to_bluez_string (bleio_connection_get_address (connection));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "address");
  json_builder_add_string_value (builder, address);
  json_builder_set_member_name (builder, "services");
  json_builder_begin_array (builder);
  for (guint i = 0; i < services->len; i++)
    {
      BleioService *service = g_ptr_array_index (services, i);
      g_autoptr(GPtrArray) characteristics = bleio_service_dup_characteristics (service);

      if (ctl.json)
        {
          json_builder_begin_object (builder);
          json_add_uuid_members (builder, bleio_service_get_uuid (service),
                                 bleio_service_get_handle (service), CTL_NAME_SERVICE);
          json_builder_set_member_name (builder, "primary");
          json_builder_add_boolean_value (builder, !bleio_service_get_secondary (service));
          json_builder_set_member_name (builder, "characteristics");
          json_builder_begin_array (builder);
          for (guint j = 0; j < characteristics->len; j++)
            json_add_characteristic (builder, g_ptr_array_index (characteristics, j));
          json_builder_end_array (builder);
          json_builder_end_object (builder);
        }
      else
        {
          g_autofree char *line = describe (bleio_service_get_uuid (service),
                                            bleio_service_get_handle (service), CTL_NAME_SERVICE);

          out ("%s %s\n", bleio_service_get_secondary (service) ? "secondary service" : "service",
               line);
          for (guint j = 0; j < characteristics->len; j++)
            print_characteristic_human (g_ptr_array_index (characteristics, j));
        }
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  if (ctl.json)
    out_json (builder);
}

/* The value as text, when it is printable text of two bytes or more. */
static char *
text_of (GBytes *value)
{
  gsize len = 0;
  const char *data = g_bytes_get_data (value, &len);

  /* One byte is almost always a number, not a letter. */
  if (len < 2 || !g_utf8_validate (data, (gssize) len, NULL))
    return NULL;
  for (gsize i = 0; i < len; i++)
    if ((guchar) data[i] < 0x20 || data[i] == 0x7f)
      return NULL;
  return g_strndup (data, len);
}

/* The JSON object of read, notify and write; @write_type NULL for a value
 * read or notified. */
static void
out_json_value (BleioConnection     *connection,
                BleioCharacteristic *characteristic,
                const char          *hex,
                const char          *write_type)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *address = bleio_address_to_bluez_string (bleio_connection_get_address (connection));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "address");
  json_builder_add_string_value (builder, address);
  json_add_uuid_members (builder, bleio_characteristic_get_uuid (characteristic),
                         bleio_characteristic_get_handle (characteristic), CTL_NAME_CHARACTERISTIC);
  json_builder_set_member_name (builder, "value");
  json_builder_add_string_value (builder, hex);
  if (write_type != NULL)
    {
      json_builder_set_member_name (builder, "write_type");
      json_builder_add_string_value (builder, write_type);
    }
  json_builder_end_object (builder);
  out_json (builder);
}

/* A value read or notified. */
void
print_value (BleioConnection     *connection,
             BleioCharacteristic *characteristic,
             GBytes              *value)
{
  g_autofree char *hex = hex_encode (value);
  g_autofree char *line = NULL;
  g_autofree char *text = NULL;
  g_autofree char *reading = NULL;

  if (ctl.json)
    {
      out_json_value (connection, characteristic, hex, NULL);
      return;
    }
  line = describe_characteristic (characteristic);
  text = text_of (value);
  reading = ctl_value_describe (bleio_characteristic_get_uuid (characteristic), value);
  if (reading != NULL)
    out ("%s: %s (%s)\n", line, hex, reading);
  else if (text != NULL)
    out ("%s: %s \"%s\"\n", line, hex, text);
  else
    out ("%s: %s\n", line, hex);
}

void
print_written (BleioConnection     *connection,
               BleioCharacteristic *characteristic,
               GBytes              *value,
               BleioWriteType       type)
{
  g_autofree char *hex = hex_encode (value);
  g_autofree char *line = NULL;

  if (ctl.json)
    {
      out_json_value (connection, characteristic, hex,
                      type == BLEIO_WRITE_TYPE_COMMAND ? "command" : "request");
      return;
    }
  line = describe_characteristic (characteristic);
  out ("wrote %" G_GSIZE_FORMAT " byte%s to %s%s\n", g_bytes_get_size (value),
       g_bytes_get_size (value) == 1 ? "" : "s", line,
       type == BLEIO_WRITE_TYPE_COMMAND ? " (without response)" : "");
}
