/* SPDX-License-Identifier: MIT */
/*
 * The library's own D-Bus reader (lib/bleio-wire.c) on arbitrary bytes
 * as a bus socket would deliver them; the seeds are real messages from
 * bleio-sim through dbus-daemon (bench/capture-wire). Oracles: whatever
 * it accepts, GDBus's parser (g_dbus_message_new_from_blob) accepts too
 * and reads to the same header fields and the same values, and the
 * readers of the hot shapes agree with the general one.
 */
#include "fuzz-common.h"

#include "bleio-wire-private.h"

#include <gio/gio.h>

static void
check_header (const BleioWireMessage *m,
              GDBusMessage           *g)
{
  const char *signature = g_dbus_message_get_signature (g);

  fuzz_check ((int) m->type == (int) g_dbus_message_get_message_type (g), "type");
  fuzz_check (m->serial == g_dbus_message_get_serial (g), "serial");
  fuzz_check (m->reply_serial == g_dbus_message_get_reply_serial (g), "reply serial");
  fuzz_check (m->n_fds == g_dbus_message_get_num_unix_fds (g), "UNIX_FDS");
  fuzz_check (g_strcmp0 (m->path, g_dbus_message_get_path (g)) == 0, "path");
  fuzz_check (g_strcmp0 (m->interface, g_dbus_message_get_interface (g)) == 0, "interface");
  fuzz_check (g_strcmp0 (m->member, g_dbus_message_get_member (g)) == 0, "member");
  fuzz_check (g_strcmp0 (m->error_name, g_dbus_message_get_error_name (g)) == 0, "error name");
  fuzz_check (g_strcmp0 (m->destination, g_dbus_message_get_destination (g)) == 0, "destination");
  fuzz_check (g_strcmp0 (m->sender, g_dbus_message_get_sender (g)) == 0, "sender");
  fuzz_check (g_strcmp0 (m->signature, signature != NULL ? signature : "") == 0, "signature");
}

/* A memo (see bleio_wire_parse_memo()) holding the names of the seeds'
 * PropertiesChanged, so that mutated names near them meet it. */
static const BleioWireMemo *
primed_memo (void)
{
  static BleioWireMemo memo;
  static gsize done;

  if (g_once_init_enter (&done))
    {
      g_autoptr(GDBusMessage) signal = g_dbus_message_new_signal (
          "/org/bluez/hci0/dev_C0_FF_EE_00_0B_01/service0001/char0005",
          "org.freedesktop.DBus.Properties", "PropertiesChanged");
      guchar *blob;
      gsize n;
      BleioWireMessage m;

      g_dbus_message_set_body (signal, g_variant_new_parsed (
          "('org.bluez.GattCharacteristic1', {'Notifying': <true>}, @as [])"));
      g_dbus_message_set_sender (signal, ":1.1");
      g_dbus_message_set_serial (signal, 1);
      blob = g_dbus_message_to_blob (signal, &n, G_DBUS_CAPABILITY_FLAGS_NONE, NULL);
      fuzz_check (blob != NULL && bleio_wire_parse_memo (blob, n, &memo, &m), "the primer parses");
      g_free (blob);
      g_once_init_leave (&done, 1);
    }
  return &memo;
}

/* With a memo, exactly what is accepted without one, read the same. */
static void
check_memo (const guint8 *copy,
            gsize         size,
            gboolean      accepted,
            const BleioWireMessage *plain)
{
  BleioWireMemo *memo = g_memdup2 (primed_memo (), sizeof (BleioWireMemo));

  for (int round = 0; round < 2; round++)
    {
      BleioWireMessage m;
      gboolean ok = bleio_wire_parse_memo (copy, size, memo, &m);

      fuzz_check (ok == accepted, "a memo changes nothing accepted or refused");
      if (!ok)
        break;
      fuzz_check (g_strcmp0 (m.path, plain->path) == 0 &&
                  g_strcmp0 (m.interface, plain->interface) == 0 &&
                  g_strcmp0 (m.member, plain->member) == 0 &&
                  g_strcmp0 (m.error_name, plain->error_name) == 0 &&
                  g_strcmp0 (m.destination, plain->destination) == 0 &&
                  g_strcmp0 (m.sender, plain->sender) == 0 &&
                  g_strcmp0 (m.signature, plain->signature) == 0 &&
                  m.body == plain->body && m.body_size == plain->body_size,
                  "a memo reads the same header");
    }
  g_free (memo);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  /* A heap copy of exactly @size bytes: ASan sees any read past it. */
  g_autofree guint8 *copy = g_memdup2 (data, size);
  g_autoptr(GVariant) body = NULL;
  g_autoptr(GDBusMessage) gdbus = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) changed = NULL;
  g_autoptr(GVariant) interfaces = NULL;
  g_autofree const char **invalidated = NULL;
  const char *first;
  GVariant *gbody;
  BleioWireMessage m;
  gssize framed = bleio_wire_frame_size (copy, size);

  gboolean accepted;

  fuzz_check (size >= 16 || framed == 0, "a frame needs 16 bytes");
  accepted = bleio_wire_parse (copy, size, &m);
  check_memo (copy, size, accepted, &m);
  if (!accepted)
    return 0;
  fuzz_check (framed == (gssize) size, "parse agrees with the frame size");
  fuzz_check (m.body + m.body_size == copy + size, "the body ends the message");
  body = bleio_wire_read_body (&m);

  if (bleio_wire_read_properties_changed (&m, &first, &changed, &invalidated))
    {
      g_autoptr(GVariant) want_changed = NULL;
      g_autofree const char **want_invalidated = NULL;
      const char *want_first;

      fuzz_check (body != NULL, "PropertiesChanged read only when the body is valid");
      g_variant_get (body, "(&s@a{sv}^a&s)", &want_first, &want_changed, &want_invalidated);
      fuzz_check (g_strcmp0 (first, want_first) == 0, "PropertiesChanged interface");
      fuzz_check (g_variant_equal (changed, want_changed), "PropertiesChanged values");
      for (gsize i = 0; want_invalidated[i] != NULL || invalidated[i] != NULL; i++)
        fuzz_check (g_strcmp0 (invalidated[i], want_invalidated[i]) == 0, "invalidated names");
    }
  else
    fuzz_check (body == NULL || !g_str_equal (m.signature, "sa{sv}as"),
                "a valid PropertiesChanged is read");
  if (bleio_wire_read_interfaces_added (&m, &first, &interfaces))
    {
      g_autoptr(GVariant) want = NULL;

      fuzz_check (body != NULL, "InterfacesAdded read only when the body is valid");
      want = g_variant_get_child_value (body, 1);
      fuzz_check (g_variant_equal (interfaces, want), "InterfacesAdded values");
    }
  else
    fuzz_check (body == NULL || !g_str_equal (m.signature, "oa{sa{sv}}"),
                "a valid InterfacesAdded is read");

  if (body == NULL)
    return 0;
  /* What it accepts whole, GDBus accepts, to the same header and values. */
  gdbus = g_dbus_message_new_from_blob (copy, size, G_DBUS_CAPABILITY_FLAGS_UNIX_FD_PASSING, &error);
  if (gdbus == NULL)
    g_error ("fuzz oracle failed: accepted what GDBus refuses (%s)", error->message);
  check_header (&m, gdbus);
  gbody = g_dbus_message_get_body (gdbus);
  if (gbody == NULL)
    fuzz_check (g_variant_n_children (body) == 0, "an empty body");
  else
    fuzz_check (g_variant_equal (body, gbody), "the body's values");
  return 0;
}
