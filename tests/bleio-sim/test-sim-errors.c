/* SPDX-License-Identifier: MIT */
/*
 * Every situation of tests/data/bluez-5.66/errors-observed.json,
 * replayed against the simulator's demo scenario in the file's order
 * (speaking 5.82, with the answers 5.82 changed: changed_in_582) (the
 * reference was recorded as one session, so later entries may rely on the
 * state earlier ones left, as pairing does), one test case each. A case
 * passes when the simulator answers with the same error name and message,
 * or succeeds where bluetoothd succeeded. The setup mirrors the reference:
 * an auto-accepting NoInputNoOutput default agent on its own connection.
 *
 * A situation this file does not know how to reproduce fails: new entries
 * in the reference need a reproduction here.
 */
#include "sim-fixture.h"
#include "test-data.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <gio/gunixfdlist.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define DEMO_NAME "InterestingPeripheral"
#define ADAPTER "/org/bluez/hci0"
#define DEVICE1 "org.bluez.Device1"
#define CHR1 "org.bluez.GattCharacteristic1"
#define DESC1 "org.bluez.GattDescriptor1"
#define CCCD_UUID "00002902-0000-1000-8000-00805f9b34fb"
#define BATTERY_LEVEL_UUID "00002a19-0000-1000-8000-00805f9b34fb"
#define WAIT_MSEC 10000
/* tools/bleio-sim/scenarios/demo.json: read needs encryption. */
#define DEMO_ENCRYPTED_UUID "12345678-1234-5678-1234-56789abcdef5"

typedef struct {
  char *situation;
  gboolean expect_ok;
  char *error_name;
  char *error_message;
  JsonNode *reply;      /* the recorded reply of a success, or NULL */
} Situation;

/* What a reproduction observed. */
typedef struct {
  GVariant *reply;
  GUnixFDList *fds;
  GError *error;
} Outcome;

typedef void (*Reproduce) (const Situation *s, Outcome *out);

/* The group's state; cmocka hands each case its Situation instead. */
static SimFixture *fx;
static SimAgent *agent;
static char *device;

static void
outcome_clear (Outcome *out)
{
  g_clear_pointer (&out->reply, g_variant_unref);
  g_clear_object (&out->fds);
  g_clear_error (&out->error);
}

/* ---- calls ---- */

static gboolean
call (Outcome    *out,
      const char *path,
      const char *interface,
      const char *method,
      GVariant   *params,
      int         timeout_msec)
{
  outcome_clear (out);
  out->reply = g_dbus_connection_call_with_unix_fd_list_sync (sim_fixture_get_connection (fx),
                                                              "org.bluez", path,
                                                              interface, method,
                                                              params, NULL,
                                                              G_DBUS_CALL_FLAGS_NONE,
                                                              timeout_msec, NULL,
                                                              &out->fds, NULL,
                                                              &out->error);
  return out->reply != NULL;
}

/* A call whose outcome is not the one under test: it must succeed. */
static void
must (const char *path,
      const char *interface,
      const char *method,
      GVariant   *params)
{
  Outcome out = { 0 };

  if (!call (&out, path, interface, method, params, WAIT_MSEC))
    fail_msg ("setup step %s.%s on %s failed: %s", interface, method, path,
              out.error->message);
  outcome_clear (&out);
}

/* A cleanup call: its outcome does not matter. */
static void
try_call (const char *path,
          const char *interface,
          const char *method,
          GVariant   *params)
{
  Outcome out = { 0 };

  call (&out, path, interface, method, params, WAIT_MSEC);
  outcome_clear (&out);
}

static gboolean
get_bool (const char *path,
          const char *interface,
          const char *name)
{
  g_autoptr(GVariant) value = sim_fixture_get_property (fx, path, interface, name);

  return value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN) &&
         g_variant_get_boolean (value);
}

static void
wait_bool (const char *path,
           const char *interface,
           const char *name,
           gboolean    value)
{
  if (!sim_fixture_wait_property (fx, path, interface, name,
                                  g_variant_new_boolean (value), WAIT_MSEC))
    fail_msg ("%s: %s.%s did not become %s within %d ms", path, interface,
              name, value ? "true" : "false", WAIT_MSEC);
}

static GVariant *
no_options (void)
{
  return g_variant_new ("(a{sv})", NULL);
}

static GVariant *
bytes (const guint8 *data,
       gsize         len)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1);
}

/* ---- state the situations need ---- */

static void
ensure_connected (void)
{
  g_autoptr(GError) error = NULL;

  if (get_bool (device, DEVICE1, "ServicesResolved"))
    return;
  if (!sim_fixture_connect_device (fx, device, &error))
    fail_msg ("connecting the demo peripheral: %s", error->message);
}

static void
ensure_disconnected (void)
{
  if (!get_bool (device, DEVICE1, "Connected"))
    return;
  must (device, DEVICE1, "Disconnect", NULL);
  wait_bool (device, DEVICE1, "Connected", FALSE);
}

static const char * const no_security_read[] = {
  "encrypt-read", "encrypt-authenticated-read", "secure-read", NULL
};

static char *find_char (const char *what, const char *uuid,
                        const char * const *with, const char * const *without);

/* A characteristic with @with flags and without @without; fails the case
 * when the demo has none. */
static char *
find_char (const char         *what,
           const char         *uuid,
           const char * const *with,
           const char * const *without)
{
  char *path;

  ensure_connected ();
  path = sim_fixture_find_gatt (fx, device, CHR1, uuid, with, without);
  if (path == NULL)
    fail_msg ("the demo peripheral has no %s characteristic", what);
  return path;
}

static char *
notify_only_char (void)
{
  static const char * const with[] = { "notify", NULL };
  static const char * const without[] = {
    "read", "write", "write-without-response", "indicate", NULL
  };

  return find_char ("notify-only", NULL, with, without);
}

static char *
readable_char (void)
{
  static const char * const with[] = { "read", NULL };

  return find_char ("plainly readable", NULL, with, no_security_read);
}

static char *
writable_char (void)
{
  static const char * const with[] = { "write", NULL };
  static const char * const without[] = {
    "write-without-response", "encrypt-write", "encrypt-authenticated-write",
    "secure-write", NULL
  };

  return find_char ("writable (request only, no security)", NULL, with, without);
}

static char *
no_notify_char (void)
{
  static const char * const without[] = { "notify", "indicate", NULL };

  return find_char ("non-notifying", NULL, NULL, without);
}

/* A remote characteristic's Flags show only its declared properties, as
 * in bluetoothd: that it needs encryption cannot be seen, so the demo's
 * encrypted characteristic is known by its UUID. */
static char *
encrypt_read_char (void)
{
  return find_char ("encrypt-read", DEMO_ENCRYPTED_UUID, NULL, NULL);
}

static char *
cccd_of (const char *char_path)
{
  char *path = sim_fixture_find_gatt (fx, char_path, DESC1, CCCD_UUID, NULL, NULL);

  if (path == NULL)
    fail_msg ("%s has no CCCD descriptor", char_path);
  return path;
}

/* Drops an acquired notify fd and waits until BlueZ noticed. */
static void
release_fd (const char *char_path,
            Outcome    *out)
{
  g_clear_object (&out->fds);
  wait_bool (char_path, CHR1, "NotifyAcquired", FALSE);
}

/* Compares a successful reply with a recorded "bytes:<hex>" value. */
static void
check_bytes_reply (const Situation *s,
                   GVariant        *reply)
{
  const char *recorded = json_node_get_string (s->reply);
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GString) got = g_string_new ("bytes:");
  const guint8 *data;
  gsize len = 0;

  if (!g_variant_is_of_type (reply, G_VARIANT_TYPE ("(ay)")))
    fail_msg ("%s: answered %s, not (ay)", s->situation,
              g_variant_get_type_string (reply));
  value = g_variant_get_child_value (reply, 0);
  data = g_variant_get_fixed_array (value, &len, 1);
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (got, "%02x", data[i]);
  if (g_ascii_strcasecmp (got->str, recorded) != 0)
    fail_msg ("%s: got %s, bluetoothd gave %s", s->situation, got->str, recorded);
}

/* ---- reproductions, one per situation ---- */

static void
stop_discovery_without_start (const Situation *s, Outcome *out)
{
  call (out, ADAPTER, "org.bluez.Adapter1", "StopDiscovery", NULL, WAIT_MSEC);
}

static void
remove_unknown_device (const Situation *s, Outcome *out)
{
  call (out, ADAPTER, "org.bluez.Adapter1", "RemoveDevice",
        g_variant_new ("(o)", ADAPTER "/dev_00_00_00_00_00_00"), WAIT_MSEC);
}

static void
filter_unknown_key (const Situation *s, Outcome *out)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "Bogus", g_variant_new_boolean (TRUE));
  call (out, ADAPTER, "org.bluez.Adapter1", "SetDiscoveryFilter",
        g_variant_new ("(a{sv})", &b), WAIT_MSEC);
}

static void
filter_bad_transport (const Situation *s, Outcome *out)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "Transport", g_variant_new_string ("xyz"));
  call (out, ADAPTER, "org.bluez.Adapter1", "SetDiscoveryFilter",
        g_variant_new ("(a{sv})", &b), WAIT_MSEC);
}

/* bluetoothd never answered within 40 s; the client saw NoReply. We wait
 * 3 s: a simulator that answers at all within that time differs. */
static void
connect_device_nobody (const Situation *s, Outcome *out)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "Address", g_variant_new_string ("12:34:56:78:9A:BC"));
  call (out, ADAPTER, "org.bluez.Adapter1", "ConnectDevice",
        g_variant_new ("(a{sv})", &b), 3000);
  if (g_error_matches (out->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      /* GDBus reports its own timeout as a local error; turn it into the
       * name the reference recorded. */
      g_clear_error (&out->error);
      out->error = g_dbus_error_new_for_dbus_error ("org.freedesktop.DBus.Error.NoReply",
                                                    s->error_message);
    }
}

static void
start_discovery_twice (const Situation *s, Outcome *out)
{
  must (ADAPTER, "org.bluez.Adapter1", "StartDiscovery", NULL);
  call (out, ADAPTER, "org.bluez.Adapter1", "StartDiscovery", NULL, WAIT_MSEC);
  try_call (ADAPTER, "org.bluez.Adapter1", "StopDiscovery", NULL);
}

static void
disconnect_when_not_connected (const Situation *s, Outcome *out)
{
  ensure_disconnected ();
  call (out, device, DEVICE1, "Disconnect", NULL, WAIT_MSEC);
}

static void
cancel_pairing_idle (const Situation *s, Outcome *out)
{
  call (out, device, DEVICE1, "CancelPairing", NULL, WAIT_MSEC);
}

static void
connect_when_connected (const Situation *s, Outcome *out)
{
  ensure_connected ();
  call (out, device, DEVICE1, "Connect", NULL, WAIT_MSEC);
  if (out->reply != NULL && !get_bool (device, DEVICE1, "Connected"))
    fail_msg ("Connect on a connected device succeeded but Connected is false");
}

static void
read_notify_only (const Situation *s, Outcome *out)
{
  g_autofree char *chr = notify_only_char ();

  call (out, chr, CHR1, "ReadValue", no_options (), WAIT_MSEC);
}

static void
write_notify_only (const Situation *s, Outcome *out)
{
  static const guint8 one[] = { 1 };
  g_autofree char *chr = notify_only_char ();

  call (out, chr, CHR1, "WriteValue",
        g_variant_new ("(@aya{sv})", bytes (one, 1), NULL), WAIT_MSEC);
}

static void
stop_notify_idle (const Situation *s, Outcome *out)
{
  g_autofree char *chr = notify_only_char ();

  if (get_bool (chr, CHR1, "Notifying"))
    fail_msg ("%s is already notifying before the case", chr);
  call (out, chr, CHR1, "StopNotify", NULL, WAIT_MSEC);
}

static void
start_notify (const Situation *s, Outcome *out)
{
  g_autofree char *chr = notify_only_char ();

  call (out, chr, CHR1, "StartNotify", NULL, WAIT_MSEC);
  if (out->reply != NULL)
    wait_bool (chr, CHR1, "Notifying", TRUE);
  try_call (chr, CHR1, "StopNotify", NULL);
}

static void
start_notify_twice (const Situation *s, Outcome *out)
{
  g_autofree char *chr = notify_only_char ();

  must (chr, CHR1, "StartNotify", NULL);
  call (out, chr, CHR1, "StartNotify", NULL, WAIT_MSEC);
  try_call (chr, CHR1, "StopNotify", NULL);
}

static void
acquire_while_notifying (const Situation *s, Outcome *out)
{
  g_autofree char *chr = notify_only_char ();

  must (chr, CHR1, "StartNotify", NULL);
  call (out, chr, CHR1, "AcquireNotify", no_options (), WAIT_MSEC);
  if (out->fds != NULL)
    release_fd (chr, out);
  try_call (chr, CHR1, "StopNotify", NULL);
}

static void
stop_notify (const Situation *s, Outcome *out)
{
  g_autofree char *chr = notify_only_char ();

  must (chr, CHR1, "StartNotify", NULL);
  call (out, chr, CHR1, "StopNotify", NULL, WAIT_MSEC);
  if (out->reply != NULL)
    wait_bool (chr, CHR1, "Notifying", FALSE);
}

/* "fd + mtu=517": one fd, the MTU the reference shows, NotifyAcquired. */
static void
acquire_notify (const Situation *s, Outcome *out)
{
  g_autofree char *chr = notify_only_char ();
  const char *recorded = json_node_get_string (s->reply);
  const char *mtu_text = recorded != NULL ? strstr (recorded, "mtu=") : NULL;
  guint16 mtu = 0;
  int handle = -1;

  if (mtu_text == NULL)
    fail_msg ("cannot read the MTU in the recorded reply '%s'", recorded);
  call (out, chr, CHR1, "AcquireNotify", no_options (), WAIT_MSEC);
  if (out->reply == NULL)
    return;
  if (!g_variant_is_of_type (out->reply, G_VARIANT_TYPE ("(hq)")))
    fail_msg ("AcquireNotify answered %s, not (hq)",
              g_variant_get_type_string (out->reply));
  g_variant_get (out->reply, "(hq)", &handle, &mtu);
  if (out->fds == NULL || handle < 0 || handle >= g_unix_fd_list_get_length (out->fds))
    fail_msg ("AcquireNotify sent no usable fd (handle %d)", handle);
  assert_int_equal (mtu, atoi (mtu_text + strlen ("mtu=")));
  assert_true (get_bool (chr, CHR1, "NotifyAcquired"));
  release_fd (chr, out);
}

/* The reference read four notifications, one per read(); we push the same
 * payloads through the control interface and read them back the same way. */
static void
acquire_notify_reads (const Situation *s, Outcome *out)
{
  g_autofree char *chr = notify_only_char ();
  JsonArray *expected = json_node_get_array (s->reply);
  g_autoptr(GError) error = NULL;
  int fd;

  call (out, chr, CHR1, "AcquireNotify", no_options (), WAIT_MSEC);
  if (out->reply == NULL)
    return;
  fd = g_unix_fd_list_get (out->fds, 0, &error);
  if (fd < 0)
    fail_msg ("no fd: %s", error->message);

  for (guint i = 0; i < json_array_get_length (expected); i++)
    {
      const char *hex = json_array_get_string_element (expected, i);
      gsize len = strlen (hex) / 2;
      g_autofree guint8 *payload = g_malloc (len + 1);
      guint8 buf[1024];
      struct pollfd pfd = { fd, POLLIN, 0 };
      ssize_t n;

      for (gsize k = 0; k < len; k++)
        payload[k] = (guint8) (g_ascii_xdigit_value (hex[2 * k]) * 16 +
                               g_ascii_xdigit_value (hex[2 * k + 1]));
      if (!sim_fixture_notify (fx, chr, payload, len, &error))
        fail_msg ("Notify: %s", error->message);
      if (poll (&pfd, 1, WAIT_MSEC) != 1)
        fail_msg ("notification %u (%s) did not reach the fd within %d ms",
                  i, hex, WAIT_MSEC);
      n = read (fd, buf, sizeof buf);
      if (n != (ssize_t) len || memcmp (buf, payload, len) != 0)
        fail_msg ("read() %u gave %zd bytes, expected one notification %s",
                  i, n, hex);
    }
  close (fd);
  release_fd (chr, out);
}

static void
start_notify_while_acquired (const Situation *s, Outcome *out)
{
  g_autofree char *chr = notify_only_char ();
  Outcome acquired = { 0 };

  if (!call (&acquired, chr, CHR1, "AcquireNotify", no_options (), WAIT_MSEC))
    fail_msg ("setup AcquireNotify failed: %s", acquired.error->message);
  call (out, chr, CHR1, "StartNotify", NULL, WAIT_MSEC);
  release_fd (chr, &acquired);
  outcome_clear (&acquired);
}

static GVariant *
read_options (guint16 offset)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "offset", g_variant_new_uint16 (offset));
  return g_variant_new ("(a{sv})", &b);
}

static void
read_offset_3 (const Situation *s, Outcome *out)
{
  g_autofree char *chr = readable_char ();
  Outcome whole = { 0 };
  gsize whole_len = 0;
  gsize part_len = 0;
  const guint8 *whole_data;
  const guint8 *part_data;
  g_autoptr(GVariant) whole_value = NULL;
  g_autoptr(GVariant) part_value = NULL;

  if (!call (&whole, chr, CHR1, "ReadValue", no_options (), WAIT_MSEC))
    fail_msg ("ReadValue without offset failed: %s", whole.error->message);
  call (out, chr, CHR1, "ReadValue", read_options (3), WAIT_MSEC);
  if (out->reply != NULL)
    {
      /* A read at an offset is the tail of the whole value. */
      whole_value = g_variant_get_child_value (whole.reply, 0);
      part_value = g_variant_get_child_value (out->reply, 0);
      whole_data = g_variant_get_fixed_array (whole_value, &whole_len, 1);
      part_data = g_variant_get_fixed_array (part_value, &part_len, 1);
      if (whole_len >= 3)
        {
          assert_int_equal (part_len, whole_len - 3);
          assert_memory_equal (part_data, whole_data + 3, part_len);
        }
    }
  outcome_clear (&whole);
}

static void
read_offset_past_end (const Situation *s, Outcome *out)
{
  g_autofree char *chr = readable_char ();

  call (out, chr, CHR1, "ReadValue", read_options (200), WAIT_MSEC);
}

static GVariant *
write_params (const guint8 *data,
              gsize         len,
              const char   *type)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  if (type != NULL)
    g_variant_builder_add (&b, "{sv}", "type", g_variant_new_string (type));
  return g_variant_new ("(@aya{sv})", bytes (data, len), &b);
}

static void
write_command_without_wwr (const Situation *s, Outcome *out)
{
  static const guint8 data[] = { 0x42 };
  g_autofree char *chr = writable_char ();

  call (out, chr, CHR1, "WriteValue", write_params (data, 1, "command"), WAIT_MSEC);
}

static void
write_bogus_type (const Situation *s, Outcome *out)
{
  static const guint8 data[] = { 0x42 };
  g_autofree char *chr = writable_char ();

  call (out, chr, CHR1, "WriteValue", write_params (data, 1, "bogus"), WAIT_MSEC);
}

static void
write_600_bytes (const Situation *s, Outcome *out)
{
  g_autofree guint8 *data = g_malloc0 (600);
  g_autofree char *chr = writable_char ();

  call (out, chr, CHR1, "WriteValue", write_params (data, 600, NULL), WAIT_MSEC);
}

static void
acquire_write_without_wwr (const Situation *s, Outcome *out)
{
  g_autofree char *chr = writable_char ();

  call (out, chr, CHR1, "AcquireWrite", no_options (), WAIT_MSEC);
}

static void
start_notify_without_notify (const Situation *s, Outcome *out)
{
  g_autofree char *chr = no_notify_char ();

  call (out, chr, CHR1, "StartNotify", NULL, WAIT_MSEC);
}

/* bluetoothd answered, and paired on its own through the default agent. */
static void
read_encrypted_before_pairing (const Situation *s, Outcome *out)
{
  g_autofree char *chr = encrypt_read_char ();

  if (get_bool (device, DEVICE1, "Paired"))
    fail_msg ("the demo peripheral is already paired before the case");
  call (out, chr, CHR1, "ReadValue", no_options (), WAIT_MSEC);
  if (out->reply != NULL)
    {
      wait_bool (device, DEVICE1, "Paired", TRUE);
      wait_bool (device, DEVICE1, "Bonded", TRUE);
    }
}

static void
read_encrypted_after_pairing (const Situation *s, Outcome *out)
{
  g_autofree char *chr = encrypt_read_char ();

  if (!get_bool (device, DEVICE1, "Paired"))
    fail_msg ("the demo peripheral is not paired before the case");
  call (out, chr, CHR1, "ReadValue", no_options (), WAIT_MSEC);
}

/* The reference read 0100 while notifications were on. */
static void
read_cccd (const Situation *s, Outcome *out)
{
  g_autofree char *chr = notify_only_char ();
  g_autofree char *cccd = cccd_of (chr);

  must (chr, CHR1, "StartNotify", NULL);
  call (out, cccd, DESC1, "ReadValue", no_options (), WAIT_MSEC);
  try_call (chr, CHR1, "StopNotify", NULL);
  if (out->reply != NULL)
    check_bytes_reply (s, out->reply);
}

static void
write_cccd (const Situation *s, Outcome *out)
{
  static const guint8 enable[] = { 0x01, 0x00 };
  g_autofree char *chr = notify_only_char ();
  g_autofree char *cccd = cccd_of (chr);

  call (out, cccd, DESC1, "WriteValue", write_params (enable, 2, NULL), WAIT_MSEC);
}

/* The level is the peripheral's; check its shape, not the reference's 0x62. */
static void
read_battery_level (const Situation *s, Outcome *out)
{
  g_autofree char *chr = find_char ("battery level", BATTERY_LEVEL_UUID, NULL, NULL);
  g_autoptr(GVariant) value = NULL;
  const guint8 *level;
  gsize len = 0;

  call (out, chr, CHR1, "ReadValue", no_options (), WAIT_MSEC);
  if (out->reply == NULL)
    return;
  value = g_variant_get_child_value (out->reply, 0);
  level = g_variant_get_fixed_array (value, &len, 1);
  assert_int_equal (len, 1);
  assert_true (level[0] <= 100);
}

static void
pair_no_agent_of_ours (const Situation *s, Outcome *out)
{
  ensure_connected ();
  call (out, device, DEVICE1, "Pair", NULL, WAIT_MSEC);
}

static void
pair_when_paired (const Situation *s, Outcome *out)
{
  ensure_connected ();
  if (!get_bool (device, DEVICE1, "Paired"))
    fail_msg ("the demo peripheral is not paired before the case");
  call (out, device, DEVICE1, "Pair", NULL, WAIT_MSEC);
}

/* The bonded device keeps its GATT objects; calling them says so. */
static void
read_after_disconnect (const Situation *s, Outcome *out)
{
  g_autofree char *chr = readable_char ();

  ensure_disconnected ();
  call (out, chr, CHR1, "ReadValue", no_options (), WAIT_MSEC);
}

static void
disconnect_after_disconnect (const Situation *s, Outcome *out)
{
  ensure_disconnected ();
  call (out, device, DEVICE1, "Disconnect", NULL, WAIT_MSEC);
}

static const struct {
  const char *situation;
  Reproduce reproduce;
} reproductions[] = {
  { "Adapter1.StopDiscovery without StartDiscovery", stop_discovery_without_start },
  { "Adapter1.RemoveDevice of a path that does not exist", remove_unknown_device },
  { "Adapter1.SetDiscoveryFilter with an unknown key", filter_unknown_key },
  { "Adapter1.SetDiscoveryFilter Transport=xyz", filter_bad_transport },
  { "Adapter1.ConnectDevice to an address nobody uses (experimental)", connect_device_nobody },
  { "Adapter1.StartDiscovery twice from one client", start_discovery_twice },
  { "Device1.Disconnect when not connected", disconnect_when_not_connected },
  { "Device1.CancelPairing when not pairing", cancel_pairing_idle },
  { "Device1.Connect when already connected", connect_when_connected },
  { "ReadValue on a notify-only characteristic", read_notify_only },
  { "WriteValue on a notify-only characteristic", write_notify_only },
  { "StopNotify when not notifying", stop_notify_idle },
  { "StartNotify", start_notify },
  { "StartNotify twice from one client", start_notify_twice },
  { "AcquireNotify while notifying", acquire_while_notifying },
  { "StopNotify", stop_notify },
  { "AcquireNotify", acquire_notify },
  { "AcquireNotify fd reads after 2.5 s", acquire_notify_reads },
  { "StartNotify while NotifyAcquired", start_notify_while_acquired },
  { "ReadValue with offset 3", read_offset_3 },
  { "ReadValue with offset 200 (past end)", read_offset_past_end },
  { "WriteValue type=command on a char without write-without-response", write_command_without_wwr },
  { "WriteValue type=bogus", write_bogus_type },
  { "WriteValue 600 bytes", write_600_bytes },
  { "AcquireWrite on a char without write-without-response", acquire_write_without_wwr },
  { "StartNotify on a char without notify", start_notify_without_notify },
  { "ReadValue on encrypt-read char before pairing", read_encrypted_before_pairing },
  { "GattDescriptor1.ReadValue on the CCCD", read_cccd },
  { "GattDescriptor1.WriteValue on the CCCD", write_cccd },
  { "ReadValue battery level", read_battery_level },
  { "Device1.Pair (no agent registered by this client)", pair_no_agent_of_ours },
  { "Device1.Pair when already paired", pair_when_paired },
  { "ReadValue on encrypt-read char after pairing", read_encrypted_after_pairing },
  { "ReadValue after disconnect (object may be gone)", read_after_disconnect },
  { "Device1.Disconnect after disconnect", disconnect_after_disconnect },
};

static void
test_situation (void **state)
{
  const Situation *s = *state;
  Reproduce reproduce = NULL;
  Outcome out = { 0 };

  for (gsize i = 0; i < G_N_ELEMENTS (reproductions); i++)
    if (strcmp (reproductions[i].situation, s->situation) == 0)
      reproduce = reproductions[i].reproduce;
  if (reproduce == NULL)
    fail_msg ("no reproduction for the situation '%s': add one to %s",
              s->situation, __FILE__);

  reproduce (s, &out);

  if (s->expect_ok)
    {
      /* Recorded values are compared by the reproductions where they do
       * not depend on the peripheral's data (the CCCD's 0100). */
      if (out.error != NULL)
        fail_msg ("%s: bluetoothd succeeded, the simulator answered %s",
                  s->situation, out.error->message);
    }
  else
    {
      g_autofree char *name = NULL;

      if (out.error == NULL)
        fail_msg ("%s: bluetoothd answered %s: %s, the simulator succeeded",
                  s->situation, s->error_name, s->error_message);
      name = g_dbus_error_get_remote_error (out.error);
      if (name == NULL)
        fail_msg ("%s: a local error instead of %s: %s", s->situation,
                  s->error_name, out.error->message);
      g_dbus_error_strip_remote_error (out.error);
      if (g_strcmp0 (name, s->error_name) != 0 ||
          g_strcmp0 (out.error->message, s->error_message) != 0)
        fail_msg ("%s: expected %s: %s\n  got %s: %s", s->situation,
                  s->error_name, s->error_message, name, out.error->message);
    }
  outcome_clear (&out);
}

static void
situation_free (gpointer data)
{
  Situation *s = data;

  g_free (s->situation);
  g_free (s->error_name);
  g_free (s->error_message);
  g_clear_pointer (&s->reply, json_node_unref);
  g_free (s);
}

/* The situations whose answer changed between bluetoothd 5.66 and 5.82
 * (docs/bluez-versions.md). The two recordings were made against
 * different peripherals (tests/data/bluez-5.82/README.md), so the other
 * answers that differ between the files come from the peripheral, not from
 * bluetoothd: on 5.82 the simulator is held to the 5.66 set with these
 * answers taken from the 5.82 set. */
static const char *const changed_in_582[] = {
  "Device1.Pair (no agent registered by this client)",
  "Device1.Pair when already paired",
  NULL
};

static JsonObject *
find_situation (JsonArray  *array,
                const char *situation)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *o = json_array_get_object_element (array, i);

      if (g_strcmp0 (json_object_get_string_member (o, "situation"), situation) == 0)
        return o;
    }
  return NULL;
}

static GPtrArray *
load_situations (void)
{
  g_autofree char *path = test_data_path_in ("bluez-5.66", "errors-observed.json");
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonParser) parser_582 = json_parser_new ();
  g_autoptr(GError) error = NULL;
  GPtrArray *situations = g_ptr_array_new_with_free_func (situation_free);
  JsonArray *array;
  JsonArray *array_582 = NULL;

  if (!json_parser_load_from_file (parser, path, &error))
    g_error ("cannot load %s: %s", path, error->message);
  if (!JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser)))
    g_error ("%s: not a JSON array", path);
  array = json_node_get_array (json_parser_get_root (parser));
  if (test_data_bluez_is_582 ())
    {
      g_autofree char *newer = test_data_path_in ("bluez-5.82", "errors-observed.json");

      if (!json_parser_load_from_file (parser_582, newer, &error))
        g_error ("cannot load %s: %s", newer, error->message);
      array_582 = json_node_get_array (json_parser_get_root (parser_582));
    }
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *o = json_array_get_object_element (array, i);
      Situation *s = g_new0 (Situation, 1);
      const char *name = json_object_get_string_member (o, "situation");

      if (array_582 != NULL && g_strv_contains (changed_in_582, name))
        {
          o = find_situation (array_582, name);
          if (o == NULL)
            g_error ("bluez-5.82/errors-observed.json has no situation '%s'", name);
        }

      s->situation = g_strdup (json_object_get_string_member (o, "situation"));
      s->expect_ok = json_object_has_member (o, "result") &&
                     g_strcmp0 (json_object_get_string_member (o, "result"), "ok") == 0;
      if (json_object_has_member (o, "error"))
        {
          s->error_name = g_strdup (json_object_get_string_member (o, "error"));
          s->error_message = g_strdup (json_object_get_string_member (o, "message"));
        }
      if (json_object_has_member (o, "reply") &&
          !JSON_NODE_HOLDS_NULL (json_object_get_member (o, "reply")))
        s->reply = json_node_copy (json_object_get_member (o, "reply"));
      if (!s->expect_ok && s->error_name == NULL)
        g_error ("%s entry %u has neither result ok nor an error", path, i);
      g_ptr_array_add (situations, s);
    }
  return situations;
}

static int
group_setup (void **state)
{
  g_autoptr(GError) error = NULL;

  if (!sim_fixture_start (&fx, &agent))
    return -1;
  device = sim_fixture_find_device (fx, ADAPTER, DEMO_NAME, &error);
  if (device == NULL)
    {
      g_printerr ("demo peripheral: %s\n", error->message);
      return -1;
    }
  return 0;
}

static int
group_teardown (void **state)
{
  g_clear_pointer (&agent, sim_agent_free);
  g_clear_pointer (&fx, sim_fixture_free);
  g_clear_pointer (&device, g_free);
  return 0;
}

int
main (void)
{
  g_autoptr(GPtrArray) situations = load_situations ();
  g_autofree struct CMUnitTest *tests = g_new0 (struct CMUnitTest, situations->len);

  for (guint i = 0; i < situations->len; i++)
    {
      Situation *s = g_ptr_array_index (situations, i);

      tests[i].name = s->situation;
      tests[i].test_func = test_situation;
      tests[i].initial_state = s;
    }
  return _cmocka_run_group_tests ("test-sim-errors", tests, situations->len,
                                  group_setup, group_teardown);
}
