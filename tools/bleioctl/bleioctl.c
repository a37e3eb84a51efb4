/* SPDX-License-Identifier: MIT */
/*
 * bleioctl: a scriptable command-line client for Bluetooth LE peripherals,
 * built on libbleio's public API alone (no direct D-Bus). Every invocation
 * is a fresh process: it finds the adapter, finds or connects the peer,
 * does one job and exits with a code that says how it went (see
 * docs/bleioctl.md and bleioctl(1)).
 */
#include <bleio/bleio.h>
#include <json-glib/json-glib.h>
#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bleioctl-names.h"

/* Exit codes, one per class of error; documented in docs/bleioctl.md. */
enum {
  EXIT_OK = 0,
  EXIT_FAILURE_GENERIC = 1,
  EXIT_USAGE = 2,
  EXIT_NOT_FOUND = 3,
  EXIT_TIMEOUT = 4,
  EXIT_CONNECTION = 5,
  EXIT_SECURITY = 6,
  EXIT_NOT_SUPPORTED = 7,
  EXIT_BLUEZ_UNAVAILABLE = 8,
  EXIT_NO_ADAPTER = 9,
  EXIT_BUSY = 10,
  EXIT_INTERRUPTED = 130,
};

#define DEFAULT_TIMEOUT 10.0

typedef struct {
  /* common options */
  char *adapter_name;
  double timeout;
  gboolean timeout_set;
  gboolean json;
  /* command options */
  char *name;
  char *prefix;
  int min_rssi;
  gboolean min_rssi_set;
  int count;
  gboolean no_response;
  gboolean keep;
  gboolean duplicates;
  char *address_type;
  gboolean version;
  gint64 passkey;
  gboolean confirm;

  /* state */
  gboolean progress;
  BleioAdapter *adapter;
  GCancellable *cancellable;
} Ctl;

static Ctl ctl;

/* ---- errors ------------------------------------------------------------------ */

static int
exit_code_for (const GError *error)
{
  if (error == NULL)
    return EXIT_OK;
  if (error->domain == G_OPTION_ERROR)
    return EXIT_USAGE;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return EXIT_INTERRUPTED;
  if (error->domain != BLEIO_ERROR)
    return EXIT_FAILURE_GENERIC;
  switch ((BleioError) error->code)
    {
    case BLEIO_ERROR_INVALID_ARGUMENT:
      return EXIT_USAGE;
    case BLEIO_ERROR_DOES_NOT_EXIST:
      return EXIT_NOT_FOUND;
    case BLEIO_ERROR_TIMEOUT:
      return EXIT_TIMEOUT;
    case BLEIO_ERROR_CONNECTION:
      return EXIT_CONNECTION;
    case BLEIO_ERROR_SECURITY:
    case BLEIO_ERROR_NOT_PERMITTED:
    case BLEIO_ERROR_NOT_AUTHORIZED:
      return EXIT_SECURITY;
    case BLEIO_ERROR_NOT_SUPPORTED:
    case BLEIO_ERROR_ROLE:
      return EXIT_NOT_SUPPORTED;
    case BLEIO_ERROR_BLUEZ_UNAVAILABLE:
      return EXIT_BLUEZ_UNAVAILABLE;
    case BLEIO_ERROR_NO_ADAPTER:
    case BLEIO_ERROR_NOT_READY:
      return EXIT_NO_ADAPTER;
    case BLEIO_ERROR_IN_PROGRESS:
      return EXIT_BUSY;
    case BLEIO_ERROR_BLUETOOTH:
    case BLEIO_ERROR_ALREADY_EXISTS:
    case BLEIO_ERROR_INVALID_VALUE:
    default:
      return EXIT_FAILURE_GENERIC;
    }
}

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

static void
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

static void
spinner_end (void)
{
  if (!ctl.progress)
    return;
  g_mutex_lock (&spinner.lock);
  spinner.active = FALSE;
  spinner_erase_locked ();
  g_mutex_unlock (&spinner.lock);
}

static void
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

/* Prints a line of results on stdout, out of the spinner's way. */
static void G_GNUC_PRINTF (1, 2)
out (const char *format,
     ...)
{
  va_list args;

  g_mutex_lock (&spinner.lock);
  spinner_erase_locked ();
  va_start (args, format);
  vfprintf (stdout, format, args);
  va_end (args);
  fflush (stdout);
  g_mutex_unlock (&spinner.lock);
}

static void
out_json (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = NULL;

  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  out ("%s\n", text);
}

static int
report_error (const GError *error)
{
  int code = exit_code_for (error);

  g_mutex_lock (&spinner.lock);
  spinner_erase_locked ();
  if (ctl.json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *text = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "error");
      json_builder_add_string_value (builder, error_class (code));
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, error->message);
      json_builder_set_member_name (builder, "exit_code");
      json_builder_add_int_value (builder, code);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      json_generator_set_root (generator, root);
      text = json_generator_to_data (generator, NULL);
      fprintf (stderr, "%s\n", text);
    }
  else
    fprintf (stderr, "bleioctl: %s\n", error->message);
  fflush (stderr);
  g_mutex_unlock (&spinner.lock);
  return code;
}

/* ---- small helpers ------------------------------------------------------------ */

static char *
hex_encode (GBytes *bytes)
{
  gsize len = 0;
  const guint8 *data = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;
  GString *text = g_string_sized_new (len * 2 + 1);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (text, "%02x", data[i]);
  return g_string_free (text, FALSE);
}

static char *
hex_encode_data (const guint8 *data,
                 gsize         len)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, len);

  return hex_encode (bytes);
}

/* HEX: pairs of hex digits, optionally separated by ':', '-' or spaces
 * between bytes, with an optional leading 0x; "" is an empty value. */
static GBytes *
hex_decode (const char  *text,
            GError     **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  const char *p = text;

  if (g_str_has_prefix (p, "0x") || g_str_has_prefix (p, "0X"))
    p += 2;
  while (*p != '\0')
    {
      int hi, lo;
      guint8 byte;

      if (*p == ':' || *p == '-' || *p == ' ')
        {
          p++;
          continue;
        }
      hi = g_ascii_xdigit_value (p[0]);
      lo = p[1] != '\0' ? g_ascii_xdigit_value (p[1]) : -1;
      if (hi < 0 || lo < 0)
        {
          g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                       "'%s' is not a hex value: write the bytes as pairs of hex digits, "
                       "such as 0102ff or 01:02:ff", text);
          return NULL;
        }
      byte = (guint8) (hi * 16 + lo);
      g_byte_array_append (bytes, &byte, 1);
      p += 2;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}

static const char *
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

static BleioAddress *
parse_address (const char  *text,
               GError     **error)
{
  g_autoptr(GError) local = NULL;
  BleioAddress *address;

  if (ctl.address_type != NULL && !g_str_equal (ctl.address_type, "public"))
    {
      if (!g_str_has_prefix (ctl.address_type, "random"))
        {
          g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                       "Unknown address type '%s': use public or random", ctl.address_type);
          return NULL;
        }
      /* The random sub-type follows from the address itself. */
      address = bleio_address_new_from_bluez (text, "random", &local);
    }
  else
    address = bleio_address_new_from_string (text, BLEIO_ADDRESS_TYPE_PUBLIC, &local);
  if (address == NULL)
    g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                 "'%s' is not a Bluetooth address: write it as AA:BB:CC:DD:EE:FF", text);
  return address;
}

static gboolean
same_bytes (const BleioAddress *a,
            const BleioAddress *b)
{
  return memcmp (bleio_address_get_bytes (a), bleio_address_get_bytes (b), 6) == 0;
}

static double
op_timeout (void)
{
  return ctl.timeout > 0 ? ctl.timeout : DEFAULT_TIMEOUT;
}

/* ---- advertisements ----------------------------------------------------------- */

typedef struct {
  char *name;
  gboolean has_tx_power;
  int tx_power;
  gboolean has_appearance;
  guint appearance;
  gboolean has_flags;
  guint flags;
  GPtrArray *uuids;             /* char* */
  GPtrArray *manufacturer;      /* char* "0x004c", char* hex, ... pairs */
  GPtrArray *service_data;      /* char* uuid, char* hex, ... pairs */
} AdFields;

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
      gsize step = 0;

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
          step = 2;
          break;
        case BLEIO_AD_TYPE_UUID32_INCOMPLETE:
        case BLEIO_AD_TYPE_UUID32_COMPLETE:
          step = 4;
          break;
        case BLEIO_AD_TYPE_UUID128_INCOMPLETE:
        case BLEIO_AD_TYPE_UUID128_COMPLETE:
          step = 16;
          break;
        case BLEIO_AD_TYPE_SERVICE_DATA_UUID16:
        case BLEIO_AD_TYPE_SERVICE_DATA_UUID32:
        case BLEIO_AD_TYPE_SERVICE_DATA_UUID128:
          {
            gsize ulen = type == BLEIO_AD_TYPE_SERVICE_DATA_UUID16 ? 2 :
                         type == BLEIO_AD_TYPE_SERVICE_DATA_UUID32 ? 4 : 16;
            char *uuid;

            if (plen < ulen)
              break;
            uuid = uuid_from_le (payload, ulen);
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
      for (gsize i = 0; step > 0 && i + step <= plen; i += step)
        {
          char *uuid = uuid_from_le (payload + i, step);

          if (uuid != NULL)
            g_ptr_array_add (fields->uuids, uuid);
        }
    }
  if (fields->name == NULL)
    fields->name = short_name;
  else
    g_free (short_name);
}

static void
json_add_entry_members (JsonBuilder          *builder,
                        const BleioScanEntry *entry,
                        const AdFields       *fields)
{
  const BleioAddress *address = bleio_scan_entry_get_address (entry);
  g_autofree char *text = bleio_address_to_bluez_string (address);
  g_autofree char *adv = hex_encode (bleio_scan_entry_get_advertisement_bytes (entry));

  json_builder_set_member_name (builder, "address");
  json_builder_add_string_value (builder, text);
  json_builder_set_member_name (builder, "address_type");
  json_builder_add_string_value (builder, address_type_name (bleio_address_get_address_type (address)));
  json_builder_set_member_name (builder, "name");
  if (fields->name != NULL)
    json_builder_add_string_value (builder, fields->name);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "rssi");
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
  json_builder_set_member_name (builder, "manufacturer_data");
  json_builder_begin_object (builder);
  for (guint i = 0; i + 1 < fields->manufacturer->len; i += 2)
    {
      json_builder_set_member_name (builder, g_ptr_array_index (fields->manufacturer, i));
      json_builder_add_string_value (builder, g_ptr_array_index (fields->manufacturer, i + 1));
    }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "service_data");
  json_builder_begin_object (builder);
  for (guint i = 0; i + 1 < fields->service_data->len; i += 2)
    {
      json_builder_set_member_name (builder, g_ptr_array_index (fields->service_data, i));
      json_builder_add_string_value (builder, g_ptr_array_index (fields->service_data, i + 1));
    }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "advertisement");
  json_builder_add_string_value (builder, adv);
}

/* Peer-supplied text in human output: control characters become '?'. */
static char *
printable (const char *text)
{
  char *copy = g_strdup (text != NULL ? text : "");

  for (char *p = copy; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      *p = '?';
  return copy;
}

static void
print_entry_human (const BleioScanEntry *entry,
                   const AdFields       *fields)
{
  const BleioAddress *address = bleio_scan_entry_get_address (entry);
  g_autofree char *text = bleio_address_to_bluez_string (address);
  g_autofree char *name = printable (fields->name);

  out ("%s  %-6s  %4d dBm  %-15s  %s\n", text, bleio_address_get_bluez_address_type (address),
       bleio_scan_entry_get_rssi (entry),
       bleio_scan_entry_get_connectable (entry) ? "connectable" : "non-connectable",
       fields->name != NULL ? name : "(no name)");
}

/* ---- adapter ------------------------------------------------------------------ */

static gboolean
open_adapter (GError **error)
{
  ctl.adapter = bleio_adapter_new_for_name (NULL, ctl.adapter_name, ctl.cancellable, error);
  return ctl.adapter != NULL;
}

static void
json_add_adapter (JsonBuilder  *builder,
                  BleioAdapter *adapter)
{
  g_autoptr(BleioAddress) address = bleio_adapter_dup_address (adapter);
  g_autofree char *address_text = address != NULL ? bleio_address_to_bluez_string (address) : NULL;
  g_autofree char *name = bleio_adapter_dup_name (adapter);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "adapter");
  json_builder_add_string_value (builder, bleio_adapter_get_interface_name (adapter));
  json_builder_set_member_name (builder, "address");
  if (address_text != NULL)
    json_builder_add_string_value (builder, address_text);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "address_type");
  if (address != NULL)
    json_builder_add_string_value (builder, address_type_name (bleio_address_get_address_type (address)));
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "name");
  if (name != NULL)
    json_builder_add_string_value (builder, name);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "powered");
  json_builder_add_boolean_value (builder, bleio_adapter_get_enabled (adapter));
  json_builder_set_member_name (builder, "connected");
  json_builder_add_boolean_value (builder, bleio_adapter_get_connected (adapter));
  json_builder_set_member_name (builder, "object_path");
  json_builder_add_string_value (builder, bleio_adapter_get_object_path (adapter));
  json_builder_end_object (builder);
}

static void
print_adapter (BleioAdapter *adapter)
{
  if (ctl.json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_add_adapter (builder, adapter);
      out_json (builder);
    }
  else
    {
      g_autoptr(BleioAddress) address = bleio_adapter_dup_address (adapter);
      g_autofree char *address_text = address != NULL ? bleio_address_to_bluez_string (address) : NULL;
      g_autofree char *name = bleio_adapter_dup_name (adapter);
      g_autofree char *shown = printable (name);

      out ("%s  %s  %-3s  %s\n", bleio_adapter_get_interface_name (adapter),
           address_text != NULL ? address_text : "??:??:??:??:??:??",
           bleio_adapter_get_enabled (adapter) ? "on" : "off", shown);
    }
}

static gboolean
parse_on_off (const char  *text,
              gboolean    *on,
              GError     **error)
{
  if (g_str_equal (text, "on") || g_str_equal (text, "yes") || g_str_equal (text, "1"))
    *on = TRUE;
  else if (g_str_equal (text, "off") || g_str_equal (text, "no") || g_str_equal (text, "0"))
    *on = FALSE;
  else
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "'%s' is neither on nor off: use bleioctl adapter power on|off", text);
      return FALSE;
    }
  return TRUE;
}

static gboolean
cmd_adapter (char   **args,
             GError **error)
{
  guint n = g_strv_length (args);

  if (n == 0)
    {
      g_autoptr(GPtrArray) all = NULL;

      if (!open_adapter (error))
        return FALSE;
      if (ctl.adapter_name != NULL)
        {
          print_adapter (ctl.adapter);
          return TRUE;
        }
      all = bleio_adapter_dup_all (ctl.adapter);
      for (guint i = 0; i < all->len; i++)
        print_adapter (g_ptr_array_index (all, i));
      return TRUE;
    }
  if (g_str_equal (args[0], "power") && n == 2)
    {
      gboolean on;

      if (!parse_on_off (args[1], &on, error) || !open_adapter (error))
        return FALSE;
      if (!bleio_adapter_set_enabled (ctl.adapter, on, error))
        {
          g_prefix_error (error, "Cannot power %s %s: ", bleio_adapter_get_interface_name (ctl.adapter),
                          on ? "on" : "off");
          return FALSE;
        }
      print_adapter (ctl.adapter);
      return TRUE;
    }
  if (g_str_equal (args[0], "name") && n == 2)
    {
      if (!open_adapter (error))
        return FALSE;
      if (!bleio_adapter_set_name (ctl.adapter, args[1], error))
        {
          g_prefix_error (error, "Cannot rename %s: ", bleio_adapter_get_interface_name (ctl.adapter));
          return FALSE;
        }
      print_adapter (ctl.adapter);
      return TRUE;
    }
  g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                       "Usage: bleioctl adapter [power on|off | name NAME]");
  return FALSE;
}

/* ---- scan --------------------------------------------------------------------- */

static gboolean
entry_passes_filters (const AdFields *fields)
{
  if (ctl.name != NULL && g_strcmp0 (fields->name, ctl.name) != 0)
    return FALSE;
  if (ctl.prefix != NULL && (fields->name == NULL || !g_str_has_prefix (fields->name, ctl.prefix)))
    return FALSE;
  return TRUE;
}

static gboolean
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
  results = bleio_adapter_start_scan (ctl.adapter, NULL, 256 * 1024, FALSE, timeout, 0, 0,
                                      ctl.min_rssi_set ? ctl.min_rssi : G_MININT, TRUE, error);
  if (results == NULL)
    return FALSE;
  spinner_begin ("scanning");
  for (;;)
    {
      g_autoptr(BleioScanEntry) entry = NULL;
      g_autofree char *address = NULL;
      AdFields fields;

      if (g_cancellable_is_cancelled (ctl.cancellable))
        break;
      entry = bleio_scan_results_next (results, 0.2, &local);
      if (entry == NULL)
        {
          if (g_error_matches (local, BLEIO_ERROR, BLEIO_ERROR_TIMEOUT))
            {
              g_clear_error (&local);
              continue;
            }
          break;
        }
      ad_parse (bleio_scan_entry_get_advertisement_bytes (entry), &fields);
      address = bleio_address_to_bluez_string (bleio_scan_entry_get_address (entry));
      if (entry_passes_filters (&fields) &&
          (ctl.duplicates || !g_hash_table_contains (seen, address)))
        {
          g_hash_table_add (seen, g_strdup (address));
          if (ctl.json)
            {
              g_autoptr(JsonBuilder) builder = json_builder_new ();

              json_builder_begin_object (builder);
              json_add_entry_members (builder, entry, &fields);
              json_builder_end_object (builder);
              out_json (builder);
            }
          else
            print_entry_human (entry, &fields);
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
    out ("%u device%s found\n", g_hash_table_size (seen), g_hash_table_size (seen) == 1 ? "" : "s");
  return TRUE;
}

/* Scans until @address advertises; returns its entry. */
static BleioScanEntry *
find_advertiser (const BleioAddress  *address,
                 GError             **error)
{
  g_autoptr(BleioScanResults) results = NULL;
  g_autofree char *text = bleio_address_to_bluez_string (address);
  g_autofree char *label = g_strdup_printf ("looking for %s", text);
  BleioScanEntry *found = NULL;
  g_autoptr(GError) local = NULL;

  results = bleio_adapter_start_scan (ctl.adapter, NULL, 256 * 1024, FALSE, op_timeout (), 0, 0,
                                      G_MININT, TRUE, error);
  if (results == NULL)
    return NULL;
  spinner_begin (label);
  while (found == NULL && !g_cancellable_is_cancelled (ctl.cancellable))
    {
      g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, 0.2, &local);

      if (entry == NULL)
        {
          if (g_error_matches (local, BLEIO_ERROR, BLEIO_ERROR_TIMEOUT))
            {
              g_clear_error (&local);
              continue;
            }
          break;
        }
      if (same_bytes (bleio_scan_entry_get_address (entry), address))
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

static BleioConnection *
find_connection (const BleioAddress *address)
{
  g_autoptr(GPtrArray) connections = bleio_adapter_dup_connections (ctl.adapter);

  for (guint i = 0; i < connections->len; i++)
    {
      BleioConnection *connection = g_ptr_array_index (connections, i);

      if (same_bytes (bleio_connection_get_address (connection), address))
        return g_object_ref (connection);
    }
  return NULL;
}

/* The link to the peer: an existing one (whoever made it), or a new one,
 * after finding the peer by scanning unless --address-type says how to
 * reach it. *made tells whether this process made the link. */
static BleioConnection *
open_connection (const char  *address_text,
                 gboolean    *made,
                 GError     **error)
{
  g_autoptr(BleioAddress) address = parse_address (address_text, error);
  g_autoptr(BleioAddress) target = NULL;
  g_autofree char *label = NULL;
  BleioConnection *connection;

  *made = FALSE;
  if (address == NULL || !open_adapter (error))
    return NULL;
  connection = find_connection (address);
  if (connection != NULL)
    return connection;
  if (ctl.address_type != NULL)
    target = bleio_address_copy (address);
  else
    {
      g_autoptr(BleioScanEntry) entry = find_advertiser (address, error);

      if (entry == NULL)
        return NULL;
      target = bleio_address_copy (bleio_scan_entry_get_address (entry));
    }
  label = g_strdup_printf ("connecting to %s", address_text);
  spinner_begin (label);
  connection = bleio_adapter_connect (ctl.adapter, target, op_timeout (), ctl.cancellable, error);
  spinner_end ();
  if (connection == NULL)
    g_prefix_error (error, "Cannot connect to %s: ", address_text);
  *made = connection != NULL;
  return connection;
}

/* Leaves the link as it was found: a link this process made is closed,
 * unless --keep. */
static void
close_connection (BleioConnection *connection,
                  gboolean         made)
{
  if (connection == NULL || !made || ctl.keep)
    return;
  bleio_connection_disconnect (connection, NULL);
}

/* ---- services ----------------------------------------------------------------- */

static GPtrArray *
discover (BleioConnection  *connection,
          GPtrArray        *whitelist,
          GError          **error)
{
  GPtrArray *services;

  spinner_begin ("discovering services");
  services = bleio_connection_discover_remote_services (connection, whitelist, op_timeout (), error);
  spinner_end ();
  if (services == NULL)
    g_prefix_error (error, "Cannot discover the services: ");
  return services;
}

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
  const char *name = ctl_uuid_name (uuid, kind);

  json_builder_set_member_name (builder, "uuid");
  json_builder_add_string_value (builder, text);
  json_builder_set_member_name (builder, "name");
  if (name != NULL)
    json_builder_add_string_value (builder, name);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "handle");
  json_builder_add_string_value (builder, handle_text);
}

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

static void
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
        }
      else
        {
          g_autofree char *line = describe (bleio_service_get_uuid (service),
                                            bleio_service_get_handle (service), CTL_NAME_SERVICE);

          out ("%s %s\n", bleio_service_get_secondary (service) ? "secondary service" : "service",
               line);
        }
      for (guint j = 0; j < characteristics->len; j++)
        {
          BleioCharacteristic *characteristic = g_ptr_array_index (characteristics, j);
          g_autoptr(GPtrArray) descriptors = bleio_characteristic_dup_descriptors (characteristic);
          BleioCharacteristicProperties props = bleio_characteristic_get_properties (characteristic);
          g_autoptr(GString) flags = g_string_new (NULL);

          for (gsize k = 0; k < G_N_ELEMENTS (property_bits); k++)
            if (props & property_bits[k])
              g_string_append_printf (flags, "%s%s", flags->len > 0 ? "," : "", property_names[k]);
          if (ctl.json)
            {
              json_builder_begin_object (builder);
              json_add_uuid_members (builder, bleio_characteristic_get_uuid (characteristic),
                                     bleio_characteristic_get_handle (characteristic),
                                     CTL_NAME_CHARACTERISTIC);
              json_builder_set_member_name (builder, "properties");
              json_builder_begin_array (builder);
              for (gsize k = 0; k < G_N_ELEMENTS (property_bits); k++)
                if (props & property_bits[k])
                  json_builder_add_string_value (builder, property_names[k]);
              json_builder_end_array (builder);
              json_builder_set_member_name (builder, "descriptors");
              json_builder_begin_array (builder);
            }
          else
            {
              g_autofree char *line = describe (bleio_characteristic_get_uuid (characteristic),
                                                bleio_characteristic_get_handle (characteristic),
                                                CTL_NAME_CHARACTERISTIC);

              out ("  characteristic %s [%s]\n", line, flags->str);
            }
          for (guint k = 0; k < descriptors->len; k++)
            {
              BleioDescriptor *descriptor = g_ptr_array_index (descriptors, k);

              if (ctl.json)
                {
                  json_builder_begin_object (builder);
                  json_add_uuid_members (builder, bleio_descriptor_get_uuid (descriptor),
                                         bleio_descriptor_get_handle (descriptor),
                                         CTL_NAME_DESCRIPTOR);
                  json_builder_end_object (builder);
                }
              else
                {
                  g_autofree char *line = describe (bleio_descriptor_get_uuid (descriptor),
                                                    bleio_descriptor_get_handle (descriptor),
                                                    CTL_NAME_DESCRIPTOR);

                  out ("    descriptor %s\n", line);
                }
            }
          if (ctl.json)
            {
              json_builder_end_array (builder);
              json_builder_end_object (builder);
            }
        }
      if (ctl.json)
        {
          json_builder_end_array (builder);
          json_builder_end_object (builder);
        }
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  if (ctl.json)
    out_json (builder);
}

static gboolean
require_address (char       **args,
                 guint        extra_min,
                 guint        extra_max,
                 const char  *usage,
                 GError     **error)
{
  guint n = g_strv_length (args);

  if (n < 1 + extra_min || n > 1 + extra_max)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT, "Usage: bleioctl %s", usage);
      return FALSE;
    }
  return TRUE;
}

static gboolean
cmd_services_common (char     **args,
                     gboolean   is_connect,
                     GError   **error)
{
  g_autoptr(GPtrArray) whitelist = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(GPtrArray) services = NULL;
  gboolean made = FALSE;

  if (is_connect)
    {
      if (!require_address (args, 0, 0, "connect ADDRESS", error))
        return FALSE;
    }
  else if (!require_address (args, 0, G_MAXUINT - 1, "services ADDRESS [UUID...]", error))
    return FALSE;
  for (guint i = 1; args[i] != NULL; i++)
    {
      BleioUuid *uuid = bleio_uuid_new_from_string (args[i], error);

      if (uuid == NULL)
        return FALSE;
      if (whitelist == NULL)
        whitelist = g_ptr_array_new_with_free_func ((GDestroyNotify) bleio_uuid_free);
      g_ptr_array_add (whitelist, uuid);
    }
  connection = open_connection (args[0], &made, error);
  if (connection == NULL)
    return FALSE;
  services = discover (connection, whitelist, error);
  if (services == NULL)
    {
      close_connection (connection, made);
      return FALSE;
    }
  if (is_connect && !ctl.json)
    {
      g_autofree char *address = bleio_address_to_bluez_string (bleio_connection_get_address (connection));

      out ("connected to %s\n", address);
    }
  print_services (connection, services);
  /* connect leaves the link up for the commands that follow. */
  if (!is_connect)
    close_connection (connection, made);
  return TRUE;
}

static gboolean
cmd_connect (char   **args,
             GError **error)
{
  return cmd_services_common (args, TRUE, error);
}

static gboolean
cmd_services (char   **args,
              GError **error)
{
  return cmd_services_common (args, FALSE, error);
}

/* ---- characteristics ------------------------------------------------------------ */

/* CHARACTERISTIC: 0x-prefixed hex is a handle; four hex digits or the
 * 36-character form is a UUID. */
static gboolean
parse_characteristic_spec (const char  *spec,
                           guint       *handle,
                           BleioUuid  **uuid,
                           GError     **error)
{
  *handle = 0;
  *uuid = NULL;
  if (g_str_has_prefix (spec, "0x") || g_str_has_prefix (spec, "0X"))
    {
      const char *digits = spec + 2;
      gsize len = strlen (digits);
      guint value = 0;

      if (len == 0 || len > 4)
        goto bad;
      for (gsize i = 0; i < len; i++)
        {
          int d = g_ascii_xdigit_value (digits[i]);

          if (d < 0)
            goto bad;
          value = value * 16 + (guint) d;
        }
      if (value == 0)
        goto bad;
      *handle = value;
      return TRUE;
    }
  *uuid = bleio_uuid_new_from_string (spec, NULL);
  if (*uuid != NULL)
    return TRUE;
bad:
  g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
               "'%s' is not a characteristic: give a UUID (2a19, or the 36-character form) "
               "or a handle (0x0012)", spec);
  return FALSE;
}

static BleioCharacteristic *
find_characteristic (GPtrArray   *services,
                     const char  *spec,
                     GError     **error)
{
  g_autoptr(BleioUuid) uuid = NULL;
  g_autoptr(GPtrArray) matches = g_ptr_array_new_with_free_func (g_object_unref);
  guint handle;

  if (!parse_characteristic_spec (spec, &handle, &uuid, error))
    return NULL;
  for (guint i = 0; i < services->len; i++)
    {
      g_autoptr(GPtrArray) characteristics =
        bleio_service_dup_characteristics (g_ptr_array_index (services, i));

      for (guint j = 0; j < characteristics->len; j++)
        {
          BleioCharacteristic *characteristic = g_ptr_array_index (characteristics, j);

          if ((uuid != NULL && bleio_uuid_equal (bleio_characteristic_get_uuid (characteristic), uuid)) ||
              (uuid == NULL && bleio_characteristic_get_handle (characteristic) == handle))
            g_ptr_array_add (matches, g_object_ref (characteristic));
        }
    }
  if (matches->len == 1)
    return g_object_ref (g_ptr_array_index (matches, 0));
  if (matches->len == 0)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_DOES_NOT_EXIST,
                   "The peer has no characteristic %s: list them with bleioctl services", spec);
      return NULL;
    }
  else
    {
      g_autoptr(GString) handles = g_string_new (NULL);

      for (guint i = 0; i < matches->len; i++)
        g_string_append_printf (handles, "%s0x%04x", i > 0 ? ", " : "",
                                bleio_characteristic_get_handle (g_ptr_array_index (matches, i)));
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "%u characteristics have the UUID %s (handles %s): give the handle instead",
                   matches->len, spec, handles->str);
      return NULL;
    }
}

/* Connects, discovers and finds the characteristic of a one-shot command. */
static BleioCharacteristic *
open_characteristic (const char       *address,
                     const char       *spec,
                     BleioConnection **connection,
                     gboolean         *made,
                     GError          **error)
{
  g_autoptr(GPtrArray) services = NULL;
  guint handle;
  g_autoptr(BleioUuid) uuid = NULL;
  BleioCharacteristic *characteristic;

  /* Bad input fails before any radio work. */
  if (!parse_characteristic_spec (spec, &handle, &uuid, error))
    return NULL;
  *connection = open_connection (address, made, error);
  if (*connection == NULL)
    return NULL;
  services = discover (*connection, NULL, error);
  if (services == NULL)
    return NULL;
  characteristic = find_characteristic (services, spec, error);
  return characteristic;
}

static void
json_add_characteristic_members (JsonBuilder         *builder,
                                 BleioConnection     *connection,
                                 BleioCharacteristic *characteristic)
{
  g_autofree char *address = bleio_address_to_bluez_string (bleio_connection_get_address (connection));

  json_builder_set_member_name (builder, "address");
  json_builder_add_string_value (builder, address);
  json_add_uuid_members (builder, bleio_characteristic_get_uuid (characteristic),
                         bleio_characteristic_get_handle (characteristic), CTL_NAME_CHARACTERISTIC);
}

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

static void
print_value (BleioConnection     *connection,
             BleioCharacteristic *characteristic,
             GBytes              *value)
{
  g_autofree char *hex = hex_encode (value);

  if (ctl.json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_add_characteristic_members (builder, connection, characteristic);
      json_builder_set_member_name (builder, "value");
      json_builder_add_string_value (builder, hex);
      json_builder_end_object (builder);
      out_json (builder);
    }
  else
    {
      g_autofree char *line = describe (bleio_characteristic_get_uuid (characteristic),
                                        bleio_characteristic_get_handle (characteristic),
                                        CTL_NAME_CHARACTERISTIC);
      g_autofree char *text = text_of (value);
      g_autofree char *reading = ctl_value_describe (bleio_characteristic_get_uuid (characteristic),
                                                     value);

      if (reading != NULL)
        out ("%s: %s (%s)\n", line, hex, reading);
      else if (text != NULL)
        out ("%s: %s \"%s\"\n", line, hex, text);
      else
        out ("%s: %s\n", line, hex);
    }
}

static gboolean
cmd_read (char   **args,
          GError **error)
{
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioCharacteristic) characteristic = NULL;
  g_autoptr(GBytes) value = NULL;
  gboolean made = FALSE;

  if (!require_address (args, 1, 1, "read ADDRESS CHARACTERISTIC", error))
    return FALSE;
  characteristic = open_characteristic (args[0], args[1], &connection, &made, error);
  if (characteristic != NULL &&
      (bleio_characteristic_get_properties (characteristic) & BLEIO_CHARACTERISTIC_PROPERTY_READ) == 0)
    g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                 "Characteristic %s cannot be read (see its properties with bleioctl services)",
                 args[1]);
  else if (characteristic != NULL)
    {
      value = bleio_characteristic_read_value (characteristic, error);
      if (value == NULL)
        g_prefix_error (error, "Cannot read %s: ", args[1]);
    }
  if (value != NULL)
    print_value (connection, characteristic, value);
  close_connection (connection, made);
  return value != NULL;
}

static gboolean
cmd_write (char   **args,
           GError **error)
{
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioCharacteristic) characteristic = NULL;
  g_autoptr(GBytes) value = NULL;
  gboolean made = FALSE, ok = FALSE;
  BleioWriteType type = BLEIO_WRITE_TYPE_REQUEST;

  if (!require_address (args, 2, 2, "write ADDRESS CHARACTERISTIC HEX [--no-response]", error))
    return FALSE;
  value = hex_decode (args[2], error);
  if (value == NULL)
    return FALSE;
  characteristic = open_characteristic (args[0], args[1], &connection, &made, error);
  if (characteristic != NULL)
    {
      BleioCharacteristicProperties props = bleio_characteristic_get_properties (characteristic);
      BleioCharacteristicProperties writable = BLEIO_CHARACTERISTIC_PROPERTY_WRITE |
                                               BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE;

      if ((props & writable) == 0)
        {
          g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                       "Characteristic %s cannot be written (see its properties with "
                       "bleioctl services)", args[1]);
          close_connection (connection, made);
          return FALSE;
        }
      /* A write request unless asked otherwise or the characteristic only
       * takes writes without response. */
      if (ctl.no_response ||
          ((props & BLEIO_CHARACTERISTIC_PROPERTY_WRITE) == 0 &&
           (props & BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE) != 0))
        type = BLEIO_WRITE_TYPE_COMMAND;
      ok = bleio_characteristic_write_value_full (characteristic, value, type, 0, error);
      if (!ok)
        g_prefix_error (error, "Cannot write %s: ", args[1]);
    }
  if (ok)
    {
      g_autofree char *hex = hex_encode (value);

      if (ctl.json)
        {
          g_autoptr(JsonBuilder) builder = json_builder_new ();

          json_builder_begin_object (builder);
          json_add_characteristic_members (builder, connection, characteristic);
          json_builder_set_member_name (builder, "value");
          json_builder_add_string_value (builder, hex);
          json_builder_set_member_name (builder, "write_type");
          json_builder_add_string_value (builder, type == BLEIO_WRITE_TYPE_COMMAND ? "command" : "request");
          json_builder_end_object (builder);
          out_json (builder);
        }
      else
        {
          g_autofree char *line = describe (bleio_characteristic_get_uuid (characteristic),
                                            bleio_characteristic_get_handle (characteristic),
                                            CTL_NAME_CHARACTERISTIC);

          out ("wrote %" G_GSIZE_FORMAT " byte%s to %s%s\n", g_bytes_get_size (value),
               g_bytes_get_size (value) == 1 ? "" : "s", line,
               type == BLEIO_WRITE_TYPE_COMMAND ? " (without response)" : "");
        }
    }
  close_connection (connection, made);
  return ok;
}

typedef struct {
  GMainLoop *loop;
  BleioConnection *connection;
  BleioCharacteristic *characteristic;
  guint received;
  GError *error;
} NotifyState;

static void
on_notification (BleioCharacteristic *characteristic,
                 GBytes              *value,
                 gpointer             user_data)
{
  NotifyState *state = user_data;

  if (ctl.count > 0 && state->received >= (guint) ctl.count)
    return;
  print_value (state->connection, characteristic, value);
  state->received++;
  if (ctl.count > 0 && state->received >= (guint) ctl.count)
    g_main_loop_quit (state->loop);
}

static void
on_disconnected (BleioConnection       *connection,
                 BleioDisconnectReason  reason,
                 gpointer               user_data)
{
  NotifyState *state = user_data;

  if (state->error == NULL)
    state->error = g_error_new_literal (BLEIO_ERROR, BLEIO_ERROR_CONNECTION,
                                        "The link went down while waiting for notifications");
  g_main_loop_quit (state->loop);
}

static void
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  g_main_loop_quit (user_data);
}

static gboolean
cmd_notify (char   **args,
            GError **error)
{
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioCharacteristic) characteristic = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  NotifyState state = { 0 };
  gboolean made = FALSE, indicate;
  BleioCharacteristicProperties props;
  gulong notify_id, disconnect_id, cancel_id;

  if (!require_address (args, 1, 1, "notify ADDRESS CHARACTERISTIC [--count N]", error))
    return FALSE;
  characteristic = open_characteristic (args[0], args[1], &connection, &made, error);
  if (characteristic == NULL)
    {
      close_connection (connection, made);
      return FALSE;
    }
  props = bleio_characteristic_get_properties (characteristic);
  if ((props & (BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY | BLEIO_CHARACTERISTIC_PROPERTY_INDICATE)) == 0)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                   "Characteristic %s can neither notify nor indicate: read it instead", args[1]);
      close_connection (connection, made);
      return FALSE;
    }
  indicate = (props & BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY) == 0;
  loop = g_main_loop_new (NULL, FALSE);
  state.loop = loop;
  state.connection = connection;
  state.characteristic = characteristic;
  notify_id = g_signal_connect (characteristic, "notification", G_CALLBACK (on_notification), &state);
  disconnect_id = g_signal_connect (connection, "disconnected", G_CALLBACK (on_disconnected), &state);
  cancel_id = g_cancellable_connect (ctl.cancellable, G_CALLBACK (on_cancelled), loop, NULL);
  if (!bleio_characteristic_set_cccd (characteristic, !indicate, indicate, error))
    {
      g_prefix_error (error, "Cannot subscribe to %s: ", args[1]);
      g_cancellable_disconnect (ctl.cancellable, cancel_id);
      g_signal_handler_disconnect (characteristic, notify_id);
      g_signal_handler_disconnect (connection, disconnect_id);
      close_connection (connection, made);
      return FALSE;
    }
  if (!g_cancellable_is_cancelled (ctl.cancellable))
    g_main_loop_run (loop);
  g_cancellable_disconnect (ctl.cancellable, cancel_id);
  g_signal_handler_disconnect (characteristic, notify_id);
  g_signal_handler_disconnect (connection, disconnect_id);
  if (bleio_connection_get_connected (connection))
    bleio_characteristic_set_cccd (characteristic, FALSE, FALSE, NULL);
  close_connection (connection, made);
  if (state.error != NULL)
    {
      g_propagate_error (error, state.error);
      return FALSE;
    }
  return TRUE;
}

/* ---- pair, disconnect, info --------------------------------------------------- */

/* Pairing callbacks: they run on libbleio's worker thread and must answer
 * at once, so they only print and compare. */
static void
pair_display (const BleioAddress *peer,
              guint32             passkey,
              guint16             entered,
              gpointer            user_data)
{
  g_autofree char *text = bleio_address_to_bluez_string (peer);

  g_mutex_lock (&spinner.lock);
  spinner_erase_locked ();
  fprintf (stderr, "bleioctl: type the passkey %06u on %s\n", passkey, text);
  fflush (stderr);
  g_mutex_unlock (&spinner.lock);
}

static gboolean
pair_request (const BleioAddress *peer,
              guint32            *passkey,
              gpointer            user_data)
{
  *passkey = (guint32) ctl.passkey;
  return TRUE;
}

static gboolean
pair_confirm (const BleioAddress *peer,
              guint32             passkey,
              gpointer            user_data)
{
  g_autofree char *text = bleio_address_to_bluez_string (peer);
  gboolean accept = ctl.passkey < 0 || (guint32) ctl.passkey == passkey;

  g_mutex_lock (&spinner.lock);
  spinner_erase_locked ();
  fprintf (stderr, "bleioctl: %s passkey %06u shown by %s\n",
           accept ? "confirming" : "rejecting (not the --passkey given)", passkey, text);
  fflush (stderr);
  g_mutex_unlock (&spinner.lock);
  return accept;
}

static gboolean
cmd_pair (char   **args,
          GError **error)
{
  g_autoptr(BleioConnection) connection = NULL;
  g_autofree char *address = NULL;
  gboolean made = FALSE, ok;

  if (!require_address (args, 0, 0, "pair ADDRESS [--passkey N] [--confirm]", error))
    return FALSE;
  connection = open_connection (args[0], &made, error);
  if (connection == NULL)
    return FALSE;
  /* The agent's IO capability follows from the callbacks: none is "just
   * works", --passkey types the peer's passkey, --confirm compares. */
  if (ctl.passkey >= 0 || ctl.confirm)
    bleio_adapter_set_pairing_callbacks (ctl.adapter,
                                         ctl.confirm ? pair_display : NULL,
                                         ctl.passkey >= 0 ? pair_request : NULL,
                                         ctl.confirm ? pair_confirm : NULL,
                                         NULL, NULL);
  spinner_begin ("pairing");
  ok = bleio_connection_pair (connection, TRUE, error);
  if (!ok)
    g_prefix_error (error, "Cannot pair with %s: ", args[0]);
  spinner_end ();
  address = bleio_address_to_bluez_string (bleio_connection_get_address (connection));
  if (ok)
    {
      if (ctl.json)
        {
          g_autoptr(JsonBuilder) builder = json_builder_new ();

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "address");
          json_builder_add_string_value (builder, address);
          json_builder_set_member_name (builder, "paired");
          json_builder_add_boolean_value (builder, TRUE);
          json_builder_end_object (builder);
          out_json (builder);
        }
      else
        out ("paired with %s\n", address);
    }
  close_connection (connection, made);
  return ok;
}

static gboolean
cmd_disconnect (char   **args,
                GError **error)
{
  g_autoptr(BleioAddress) address = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autofree char *text = NULL;

  if (!require_address (args, 0, 0, "disconnect ADDRESS", error))
    return FALSE;
  address = parse_address (args[0], error);
  if (address == NULL || !open_adapter (error))
    return FALSE;
  text = bleio_address_to_bluez_string (address);
  connection = find_connection (address);
  if (connection == NULL)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_DOES_NOT_EXIST,
                   "%s is not connected to %s: nothing to disconnect", text,
                   bleio_adapter_get_interface_name (ctl.adapter));
      return FALSE;
    }
  if (!bleio_connection_disconnect (connection, error))
    {
      g_prefix_error (error, "Cannot disconnect %s: ", text);
      return FALSE;
    }
  if (ctl.json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "address");
      json_builder_add_string_value (builder, text);
      json_builder_set_member_name (builder, "connected");
      json_builder_add_boolean_value (builder, bleio_connection_get_connected (connection));
      json_builder_end_object (builder);
      out_json (builder);
    }
  else
    out ("disconnected %s\n", text);
  return TRUE;
}

static gboolean
cmd_info (char   **args,
          GError **error)
{
  g_autoptr(BleioAddress) address = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(BleioScanEntry) entry = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *text = NULL;
  gboolean paired = FALSE;
  AdFields fields = { 0 };

  if (!require_address (args, 0, 0, "info ADDRESS", error))
    return FALSE;
  address = parse_address (args[0], error);
  if (address == NULL || !open_adapter (error))
    return FALSE;
  connection = find_connection (address);
  if (connection != NULL)
    paired = bleio_connection_get_paired (connection, NULL);
  else
    {
      /* A connected peer usually stops advertising; only scan for others. */
      entry = find_advertiser (address, error);
      if (entry == NULL)
        return FALSE;
      ad_parse (bleio_scan_entry_get_advertisement_bytes (entry), &fields);
    }
  text = bleio_address_to_bluez_string (connection != NULL ? bleio_connection_get_address (connection)
                                                           : bleio_scan_entry_get_address (entry));
  json_builder_begin_object (builder);
  if (entry != NULL)
    json_add_entry_members (builder, entry, &fields);
  else
    {
      const BleioAddress *peer = bleio_connection_get_address (connection);

      json_builder_set_member_name (builder, "address");
      json_builder_add_string_value (builder, text);
      json_builder_set_member_name (builder, "address_type");
      json_builder_add_string_value (builder, address_type_name (bleio_address_get_address_type (peer)));
    }
  json_builder_set_member_name (builder, "connected");
  json_builder_add_boolean_value (builder, connection != NULL);
  /* Whether a peer is paired is known from its link only. */
  json_builder_set_member_name (builder, "paired");
  if (connection != NULL)
    json_builder_add_boolean_value (builder, paired);
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
  if (ctl.json)
    out_json (builder);
  else
    {
      const BleioAddress *peer = connection != NULL ? bleio_connection_get_address (connection)
                                                    : bleio_scan_entry_get_address (entry);

      out ("address: %s (%s)\n", text, address_type_name (bleio_address_get_address_type (peer)));
      out ("connected: %s\n", connection != NULL ? "yes" : "no");
      out ("paired: %s\n", connection == NULL ? "unknown (not connected)" : paired ? "yes" : "no");
      if (entry != NULL)
        {
          g_autofree char *name = printable (fields.name);
          g_autofree char *adv = hex_encode (bleio_scan_entry_get_advertisement_bytes (entry));

          out ("name: %s\n", fields.name != NULL ? name : "(none)");
          out ("rssi: %d dBm\n", bleio_scan_entry_get_rssi (entry));
          out ("connectable: %s\n", bleio_scan_entry_get_connectable (entry) ? "yes" : "no");
          if (fields.has_tx_power)
            out ("tx power: %d dBm\n", fields.tx_power);
          if (fields.has_appearance)
            out ("appearance: 0x%04x\n", fields.appearance);
          for (guint i = 0; i < fields.uuids->len; i++)
            {
              const char *uuid = g_ptr_array_index (fields.uuids, i);
              g_autoptr(BleioUuid) parsed = bleio_uuid_new_from_string (uuid, NULL);
              const char *name16 = parsed != NULL ? ctl_uuid_name (parsed, CTL_NAME_SERVICE) : NULL;

              out ("service uuid: %s%s%s\n", uuid, name16 != NULL ? " " : "", name16 != NULL ? name16 : "");
            }
          for (guint i = 0; i + 1 < fields.manufacturer->len; i += 2)
            out ("manufacturer data: %s %s\n", (char *) g_ptr_array_index (fields.manufacturer, i),
                 (char *) g_ptr_array_index (fields.manufacturer, i + 1));
          for (guint i = 0; i + 1 < fields.service_data->len; i += 2)
            out ("service data: %s %s\n", (char *) g_ptr_array_index (fields.service_data, i),
                 (char *) g_ptr_array_index (fields.service_data, i + 1));
          out ("advertisement: %s\n", adv);
        }
    }
  if (entry != NULL)
    ad_fields_clear (&fields);
  return TRUE;
}

/* ---- main --------------------------------------------------------------------- */

typedef struct {
  const char *name;
  gboolean (*run) (char **args, GError **error);
  const char *synopsis;
} Command;

static const Command commands[] = {
  { "scan", cmd_scan, "scan [--name NAME] [--prefix PREFIX] [--min-rssi DBM] [--count N]" },
  { "info", cmd_info, "info ADDRESS" },
  { "connect", cmd_connect, "connect ADDRESS" },
  { "services", cmd_services, "services ADDRESS [UUID...]" },
  { "read", cmd_read, "read ADDRESS CHARACTERISTIC" },
  { "write", cmd_write, "write ADDRESS CHARACTERISTIC HEX [--no-response]" },
  { "notify", cmd_notify, "notify ADDRESS CHARACTERISTIC [--count N]" },
  { "pair", cmd_pair, "pair ADDRESS [--passkey N] [--confirm]" },
  { "disconnect", cmd_disconnect, "disconnect ADDRESS" },
  { "adapter", cmd_adapter, "adapter [power on|off | name NAME]" },
};

static gboolean
on_signal (gpointer user_data)
{
  g_cancellable_cancel (ctl.cancellable);
  return G_SOURCE_CONTINUE;
}

/* SIGINT and SIGTERM cancel whatever runs, from a thread of their own so
 * that they work while the main thread blocks in a libbleio call. */
static gpointer
signal_thread (gpointer user_data)
{
  GMainContext *context = user_data;

  for (;;)
    g_main_context_iteration (context, TRUE);
  return NULL;
}

static void
watch_signals (void)
{
  GMainContext *context = g_main_context_new ();
  int signals[] = { SIGINT, SIGTERM };

  for (gsize i = 0; i < G_N_ELEMENTS (signals); i++)
    {
      GSource *source = g_unix_signal_source_new (signals[i]);

      g_source_set_callback (source, on_signal, NULL, NULL);
      g_source_attach (source, context);
      g_source_unref (source);
    }
  /* The thread lives as long as the process. */
  g_thread_unref (g_thread_new ("bleioctl-signals", signal_thread, context));
}

static char *
usage_text (void)
{
  GString *text = g_string_new ("Commands:\n");

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (text, "  %s\n", commands[i].synopsis);
  g_string_append (text,
                   "\nADDRESS is AA:BB:CC:DD:EE:FF. CHARACTERISTIC is a UUID (2a19 or the\n"
                   "36-character form) or a handle (0x0012). HEX is the value in hex.\n"
                   "Exit codes: 0 ok, 1 failed, 2 usage, 3 not found, 4 timeout,\n"
                   "5 connection, 6 security, 7 not supported, 8 bluetoothd unavailable,\n"
                   "9 no adapter, 10 busy, 130 interrupted. See bleioctl(1).");
  return g_string_free (text, FALSE);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *description = NULL;
  g_auto(GStrv) args = NULL;
  const Command *command = NULL;
  double timeout = -1;
  int min_rssi = G_MININT;
  int count = 0;
  int passkey = -1;
  int status;
  const GOptionEntry entries[] = {
    { "adapter", 'a', 0, G_OPTION_ARG_STRING, &ctl.adapter_name,
      "Adapter to use (hci0, or its address); default: the first", "NAME" },
    { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &timeout,
      "Seconds for each wait (scan duration for scan); default 10", "SECONDS" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &ctl.json, "Print JSON, one object per line", NULL },
    { "name", 0, 0, G_OPTION_ARG_STRING, &ctl.name, "scan: only this name (complete or short)", "NAME" },
    { "prefix", 0, 0, G_OPTION_ARG_STRING, &ctl.prefix, "scan: only names starting so", "PREFIX" },
    { "min-rssi", 0, 0, G_OPTION_ARG_INT, &min_rssi, "scan: only RSSI at least this", "DBM" },
    { "duplicates", 0, 0, G_OPTION_ARG_NONE, &ctl.duplicates,
      "scan: print every advertisement, not each device once", NULL },
    { "count", 'n', 0, G_OPTION_ARG_INT, &count,
      "scan, notify: stop after N devices or notifications", "N" },
    { "no-response", 0, 0, G_OPTION_ARG_NONE, &ctl.no_response,
      "write: write without response", NULL },
    { "keep", 'k', 0, G_OPTION_ARG_NONE, &ctl.keep,
      "Leave a link this command made connected", NULL },
    { "address-type", 0, 0, G_OPTION_ARG_STRING, &ctl.address_type,
      "public or random: connect without scanning for the peer first", "TYPE" },
    { "passkey", 0, 0, G_OPTION_ARG_INT, &passkey,
      "pair: the passkey the peer shows (0-999999)", "N" },
    { "confirm", 0, 0, G_OPTION_ARG_NONE, &ctl.confirm,
      "pair: accept numeric comparison (the passkey is printed)", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &ctl.version, "Print the version", NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");
  context = g_option_context_new ("COMMAND [ARGS...]");
  g_option_context_set_summary (context, "Talk to Bluetooth LE peripherals through BlueZ and libbleio.");
  description = usage_text ();
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, entries, NULL);
  args = g_strdupv (argv);
  if (!g_option_context_parse_strv (context, &args, &error))
    {
      fprintf (stderr, "bleioctl: %s (see bleioctl --help)\n", error->message);
      return EXIT_USAGE;
    }
  if (ctl.version)
    {
      printf ("bleioctl %s\n", BLEIOCTL_VERSION);
      return EXIT_OK;
    }
  ctl.timeout = timeout;
  ctl.timeout_set = timeout >= 0;
  ctl.min_rssi = min_rssi;
  ctl.min_rssi_set = min_rssi != G_MININT;
  ctl.count = count;
  ctl.passkey = passkey;
  if (passkey < -1 || passkey > 999999)
    {
      fprintf (stderr, "bleioctl: --passkey must be 0 to 999999\n");
      return EXIT_USAGE;
    }
  if (count < 0)
    {
      fprintf (stderr, "bleioctl: --count must be 0 or more\n");
      return EXIT_USAGE;
    }
  if (args[1] == NULL)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

      fprintf (stderr, "%s", help);
      return EXIT_USAGE;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (args[1], commands[i].name))
      command = &commands[i];
  if (command == NULL)
    {
      fprintf (stderr, "bleioctl: unknown command '%s' (see bleioctl --help)\n", args[1]);
      return EXIT_USAGE;
    }

  ctl.progress = !ctl.json && isatty (STDOUT_FILENO) && isatty (STDERR_FILENO);
  ctl.cancellable = g_cancellable_new ();
  watch_signals ();

  if (command->run (args + 2, &error))
    status = EXIT_OK;
  else if (error == NULL)
    status = EXIT_FAILURE_GENERIC;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autoptr(GError) interrupted =
        g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             "Interrupted; what was in progress was undone");

      status = report_error (interrupted);
    }
  else
    status = report_error (error);
  /* Interrupting a scan or notify is how they are meant to end. */
  if (status == EXIT_OK && g_cancellable_is_cancelled (ctl.cancellable) &&
      command->run != cmd_scan && command->run != cmd_notify)
    status = EXIT_INTERRUPTED;

  spinner_shutdown ();
  g_clear_object (&ctl.adapter);
  g_clear_object (&ctl.cancellable);
  g_free (ctl.adapter_name);
  g_free (ctl.name);
  g_free (ctl.prefix);
  g_free (ctl.address_type);
  return status;
}
