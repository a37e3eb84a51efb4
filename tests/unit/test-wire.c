/* SPDX-License-Identifier: MIT */
/*
 * The in-place D-Bus reader (lib/bleio-wire.c) against GDBus's own
 * serialiser: every message GDBus writes, in either byte order, reads
 * back to the same header and the same values; and each way a message
 * can break the specification is refused, whole.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <gio/gio.h>
#include <string.h>

#include "bleio-wire-private.h"

#define DEV "/org/bluez/hci0/dev_C0_FF_EE_00_00_01"
#define CHR DEV "/service0010/char0011"

static GVariant *
parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *value = g_variant_parse (NULL, text, NULL, NULL, &error);

  if (value == NULL)
    fail_msg ("%s: %s", text, error->message);
  /* g_variant_parse() gives a full reference already. */
  return g_variant_take_ref (value);
}

/* A signal's bytes as GDBus writes them. */
static GBytes *
signal_blob (const char              *path,
             const char              *interface,
             const char              *member,
             const char              *body,
             GDBusMessageByteOrder    order)
{
  g_autoptr(GDBusMessage) message = g_dbus_message_new_signal (path, interface, member);
  g_autoptr(GError) error = NULL;
  guchar *blob;
  gsize size;

  if (body != NULL)
    {
      g_autoptr(GVariant) value = parse (body);

      g_dbus_message_set_body (message, value);
    }
  g_dbus_message_set_sender (message, ":1.42");
  g_dbus_message_set_serial (message, 7);
  g_dbus_message_set_byte_order (message, order);
  blob = g_dbus_message_to_blob (message, &size, G_DBUS_CAPABILITY_FLAGS_NONE, &error);
  if (blob == NULL)
    fail_msg ("%s", error->message);
  return g_bytes_new_take (blob, size);
}

static gboolean
parse_bytes (GBytes           *bytes,
             BleioWireMessage *message)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);

  return bleio_wire_parse (data, size, message);
}

/* Parses and reads @bytes' body; NULL when either is refused. */
static GVariant *
read_blob (const guint8 *data,
           gsize         size)
{
  BleioWireMessage message;

  if (!bleio_wire_parse (data, size, &message))
    return NULL;
  return bleio_wire_read_body (&message);
}

static const char *const bodies[] = {
  "('org.bluez.GattCharacteristic1', {'Value': <[byte 1, 2, 3, 0xff]>}, @as [])",
  "(byte 7, true, int16 -2, uint16 65535, -5, uint32 4000000000, int64 -9, uint64 10, 2.5)",
  "('a string', objectpath '/org/bluez', signature 'a{sv}', <<<'nested'>>>)",
  "([int16 1, -2, 3], [uint16 1], [int32 -1, 7], [uint32 9], [int64 -1], [uint64 1, 2], [1.5, -0.25])",
  "([true, false, true], @a(ii) [], [(1, 'x'), (2, 'yy')], @a{sv} {})",
  "({uint16 65535: <[byte 0, 1]>, 76: <@ay []>}, {'a': <{'b': <@as ['c']>}>})",
  "(byte 1, @ax [], byte 2, [(byte 3, int64 4)], [@aay [], [[byte 5]]])",
  ("(objectpath '/', {'org.bluez.Device1': {'Address': <'C0:FF:EE:00:00:01'>, 'RSSI': <int16 -60>, "
   "'UUIDs': <['0000180d-0000-1000-8000-00805f9b34fb']>}})"),
  "('\xc3\xa9t\xc3\xa9 \xe2\x9c\x93',)",
  "('abc \xc3\xa9t\xc3\xa9',)",
};

static void
check_round_trip (GDBusMessageByteOrder order)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr(GVariant) want = parse (bodies[i]);
      g_autoptr(GBytes) bytes = signal_blob (CHR, "org.freedesktop.DBus.Properties",
                                             "PropertiesChanged", bodies[i], order);
      g_autoptr(GVariant) got = NULL;
      BleioWireMessage message;

      assert_true (parse_bytes (bytes, &message));
      assert_int_equal (message.type, BLEIO_WIRE_SIGNAL);
      assert_int_equal (message.big_endian, order == G_DBUS_MESSAGE_BYTE_ORDER_BIG_ENDIAN);
      assert_int_equal (message.serial, 7);
      assert_string_equal (message.path, CHR);
      assert_string_equal (message.interface, "org.freedesktop.DBus.Properties");
      assert_string_equal (message.member, "PropertiesChanged");
      assert_string_equal (message.sender, ":1.42");
      assert_null (message.destination);
      const char *tuple = g_variant_get_type_string (want);
      g_autofree char *signature = g_strndup (tuple + 1, strlen (tuple) - 2);

      assert_string_equal (message.signature, signature);
      got = bleio_wire_read_body (&message);
      if (got == NULL || !g_variant_equal (got, want))
        fail_msg ("body %zu read back as %s", i, got != NULL ? g_variant_print (got, TRUE) : "NULL");
    }
}

static void
test_wire_round_trip_little_endian (void **state)
{
  check_round_trip (G_DBUS_MESSAGE_BYTE_ORDER_LITTLE_ENDIAN);
}

static void
test_wire_round_trip_big_endian (void **state)
{
  check_round_trip (G_DBUS_MESSAGE_BYTE_ORDER_BIG_ENDIAN);
}

static void
test_wire_empty_body (void **state)
{
  g_autoptr(GBytes) bytes = signal_blob ("/", "org.bluez.Test", "Nothing", NULL,
                                         G_DBUS_MESSAGE_BYTE_ORDER_LITTLE_ENDIAN);
  g_autoptr(GVariant) body = NULL;
  BleioWireMessage message;

  assert_true (parse_bytes (bytes, &message));
  assert_string_equal (message.signature, "");
  assert_int_equal (message.body_size, 0);
  body = bleio_wire_read_body (&message);
  assert_non_null (body);
  assert_string_equal (g_variant_get_type_string (body), "()");
}

static void
test_wire_properties_changed (void **state)
{
  g_autoptr(GBytes) bytes = signal_blob (CHR, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                         "('org.bluez.GattCharacteristic1', "
                                         "{'Value': <[byte 1, 2]>, 'Notifying': <true>}, ['Flags', 'MTU'])",
                                         G_DBUS_MESSAGE_BYTE_ORDER_BIG_ENDIAN);
  g_autoptr(GVariant) want = parse ("{'Value': <[byte 1, 2]>, 'Notifying': <true>}");
  g_autoptr(GVariant) changed = NULL;
  g_autofree const char **invalidated = NULL;
  const char *interface;
  BleioWireMessage message;

  assert_true (parse_bytes (bytes, &message));
  assert_true (bleio_wire_read_properties_changed (&message, &interface, &changed, &invalidated));
  assert_string_equal (interface, "org.bluez.GattCharacteristic1");
  assert_true (g_variant_equal (changed, want));
  assert_false (g_variant_is_floating (changed));
  assert_string_equal (invalidated[0], "Flags");
  assert_string_equal (invalidated[1], "MTU");
  assert_null (invalidated[2]);
  /* Another shape is not read as this one. */
  assert_false (bleio_wire_read_interfaces_added (&message, &interface, &changed));
}

static void
test_wire_interfaces_added (void **state)
{
  const char *text = "{'org.bluez.GattCharacteristic1': {'UUID': <'00002a37-0000-1000-8000-00805f9b34fb'>, "
                     "'Flags': <['notify']>}, 'org.freedesktop.DBus.Properties': @a{sv} {}}";
  g_autofree char *body = g_strdup_printf ("(objectpath '%s', %s)", CHR, text);
  g_autoptr(GBytes) bytes = signal_blob ("/", "org.freedesktop.DBus.ObjectManager", "InterfacesAdded",
                                         body, G_DBUS_MESSAGE_BYTE_ORDER_LITTLE_ENDIAN);
  g_autoptr(GVariant) want = parse (text);
  g_autoptr(GVariant) interfaces = NULL;
  g_autoptr(GVariant) changed = NULL;
  g_autofree const char **invalidated = NULL;
  const char *object;
  BleioWireMessage message;

  assert_true (parse_bytes (bytes, &message));
  assert_true (bleio_wire_read_interfaces_added (&message, &object, &interfaces));
  assert_string_equal (object, CHR);
  assert_true (g_variant_equal (interfaces, want));
  assert_false (bleio_wire_read_properties_changed (&message, &object, &changed, &invalidated));
}

static void
test_wire_reply_and_error (void **state)
{
  g_autoptr(GDBusMessage) call = g_dbus_message_new_method_call ("org.bluez", DEV, "org.bluez.Device1",
                                                                 "Connect");
  g_autoptr(GDBusMessage) reply = NULL;
  g_autoptr(GDBusMessage) error_reply = NULL;
  guchar *blob;
  gsize size;
  BleioWireMessage message;

  g_dbus_message_set_serial (call, 41);
  reply = g_dbus_message_new_method_reply (call);
  g_dbus_message_set_serial (reply, 5);
  blob = g_dbus_message_to_blob (reply, &size, G_DBUS_CAPABILITY_FLAGS_NONE, NULL);
  assert_true (bleio_wire_parse (blob, size, &message));
  assert_int_equal (message.type, BLEIO_WIRE_METHOD_RETURN);
  assert_int_equal (message.reply_serial, 41);
  g_free (blob);

  error_reply = g_dbus_message_new_method_error (call, "org.bluez.Error.Failed", "%s", "le-connection-abort-by-local");
  g_dbus_message_set_serial (error_reply, 6);
  blob = g_dbus_message_to_blob (error_reply, &size, G_DBUS_CAPABILITY_FLAGS_NONE, NULL);
  assert_true (bleio_wire_parse (blob, size, &message));
  assert_int_equal (message.type, BLEIO_WIRE_ERROR);
  assert_int_equal (message.reply_serial, 41);
  assert_string_equal (message.error_name, "org.bluez.Error.Failed");
  assert_string_equal (message.signature, "s");
  /* A method return without its REPLY_SERIAL is no message. */
  blob[1] = BLEIO_WIRE_METHOD_CALL;
  assert_false (bleio_wire_parse (blob, size, &message));   /* a call needs a member */
  g_free (blob);

  blob = g_dbus_message_to_blob (call, &size, G_DBUS_CAPABILITY_FLAGS_NONE, NULL);
  assert_true (bleio_wire_parse (blob, size, &message));
  assert_int_equal (message.type, BLEIO_WIRE_METHOD_CALL);
  assert_string_equal (message.destination, "org.bluez");
  blob[1] = BLEIO_WIRE_METHOD_RETURN;                         /* no REPLY_SERIAL */
  assert_false (bleio_wire_parse (blob, size, &message));
  blob[1] = BLEIO_WIRE_ERROR;
  assert_false (bleio_wire_parse (blob, size, &message));
  blob[1] = 5;                                                /* no such type */
  assert_false (bleio_wire_parse (blob, size, &message));
  g_free (blob);
}

/* Parsing with a memo of the last message's names accepts exactly what
 * parsing without one accepts: a name that differs from the memo's by a
 * byte is checked, and refused when invalid. */
static void
test_wire_memo (void **state)
{
  g_autoptr(GBytes) bytes = signal_blob (CHR, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                         bodies[0], G_DBUS_MESSAGE_BYTE_ORDER_LITTLE_ENDIAN);
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  g_autofree guint8 *copy = g_memdup2 (data, size);
  g_autofree BleioWireMemo *memo = g_new0 (BleioWireMemo, 1);
  BleioWireMessage plain, memoed;
  guint8 *at;

  assert_true (bleio_wire_parse (copy, size, &plain));
  for (int round = 0; round < 2; round++)
    {
      assert_true (bleio_wire_parse_memo (copy, size, memo, &memoed));
      assert_string_equal (memoed.path, plain.path);
      assert_string_equal (memoed.interface, plain.interface);
      assert_string_equal (memoed.member, plain.member);
      assert_string_equal (memoed.sender, plain.sender);
      assert_string_equal (memoed.signature, plain.signature);
    }
  assert_int_equal (memo->length[2], strlen ("org.freedesktop.DBus.Properties") + 1);
  assert_memory_equal (memo->text[2], "org.freedesktop.DBus.Properties", memo->length[2] - 1);

  /* the interface, member, path and sender each made invalid at the same
   * length: refused with the memo as without it */
  {
    static const struct { const char *find; gsize at; guint8 value; } patches[] = {
      { "org.freedesktop.DBus.Properties", 3, '-' },
      { "org.freedesktop.DBus.Properties", 0, '9' },
      { "PropertiesChanged", 0, '.' },
      { "/org/bluez/hci0", 5, '/' },
      { ":1.42", 1, '.' },
    };

    for (guint i = 0; i < G_N_ELEMENTS (patches); i++)
      {
        gsize n = strlen (patches[i].find);

        memcpy (copy, data, size);
        at = NULL;
        for (gsize k = 0; k + n <= size && at == NULL; k++)
          if (memcmp (copy + k, patches[i].find, n) == 0)
            at = copy + k;
        assert_non_null (at);
        at[patches[i].at] = patches[i].value;
        assert_false (bleio_wire_parse (copy, size, &plain));
        assert_false (bleio_wire_parse_memo (copy, size, memo, &memoed));
      }
  }
  /* the memo still holds the last valid message's names */
  assert_memory_equal (memo->text[2], "org.freedesktop.DBus.Properties", memo->length[2] - 1);
  memcpy (copy, data, size);
  assert_true (bleio_wire_parse_memo (copy, size, memo, &memoed));
}

static void
test_wire_frame_size (void **state)
{
  g_autoptr(GBytes) bytes = signal_blob (CHR, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                         bodies[0], G_DBUS_MESSAGE_BYTE_ORDER_LITTLE_ENDIAN);
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  g_autofree guint8 *copy = g_memdup2 (data, size);
  BleioWireMessage message;

  for (gsize n = 0; n < 16; n++)
    assert_int_equal (bleio_wire_frame_size (data, n), 0);
  assert_int_equal (bleio_wire_frame_size (data, 16), size);
  /* Every prefix and every longer run is refused by the parser. */
  for (gsize n = 0; n < size; n++)
    assert_false (bleio_wire_parse (data, n, &message));
  copy[0] = 'x';
  assert_int_equal (bleio_wire_frame_size (copy, size), -1);
  copy[0] = 'l';
  copy[3] = 2;                                                /* protocol version */
  assert_int_equal (bleio_wire_frame_size (copy, size), -1);
  copy[3] = 1;
  copy[7] = 0x10;                                             /* a 256 MiB body */
  assert_int_equal (bleio_wire_frame_size (copy, size), -1);
}

/* @body serialised little-endian, @patch applied at the first @find in
 * its body, and read: the reader must refuse it (and accept it without
 * the patch). */
static void
assert_patch_refused (const char   *body,
                      const guint8 *find,
                      gsize         find_len,
                      gsize         at,
                      guint8        value)
{
  g_autoptr(GBytes) bytes = signal_blob ("/", "org.bluez.Test", "Test", body,
                                         G_DBUS_MESSAGE_BYTE_ORDER_LITTLE_ENDIAN);
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  g_autofree guint8 *copy = g_memdup2 (data, size);
  g_autoptr(GVariant) good = read_blob (copy, size);
  guint8 *hit = NULL;
  BleioWireMessage message;

  assert_non_null (good);
  assert_true (bleio_wire_parse (copy, size, &message));
  for (gsize i = 0; i + find_len <= message.body_size && hit == NULL; i++)
    if (memcmp (message.body + i, find, find_len) == 0)
      hit = copy + (message.body - copy) + i;
  if (hit == NULL)
    fail_msg ("pattern not found in %s", body);
  hit[at] = value;
  if (read_blob (copy, size) != NULL)
    fail_msg ("%s patched at %zu to 0x%02x was read", body, at, value);
}

static void
test_wire_refuses_bad_values (void **state)
{
  static const guint8 one[] = { 1, 0, 0, 0 };
  static const guint8 abc[] = { 'a', 'b', 'c', 0 };
  static const guint8 path[] = { '/', 'a', '/', 'b', 0 };
  static const guint8 sig_ay[] = { 2, 'a', 'y', 0 };
  static const guint8 y_pad[] = { 9, 0, 0, 0, 0x2a };
  static const guint8 len3[] = { 3, 0, 0, 0, 1, 2, 3 };

  assert_patch_refused ("(true,)", one, 4, 0, 2);                      /* a boolean is 0 or 1 */
  assert_patch_refused ("(true,)", one, 4, 3, 1);
  assert_patch_refused ("('abc',)", abc, 4, 1, 0xff);                  /* not UTF-8 */
  /* after ASCII: a lead byte cut short by the end, or followed by ASCII */
  assert_patch_refused ("('abc',)", abc, 4, 2, 0xc3);
  assert_patch_refused ("('abc',)", abc, 4, 1, 0xe2);
  assert_patch_refused ("('abc',)", abc, 4, 1, 0x80);                  /* a lone continuation */
  assert_patch_refused ("('abc',)", abc, 4, 1, 0);                     /* an embedded nul */
  assert_patch_refused ("('abc',)", abc, 4, 3, 'd');                   /* no nul after it */
  assert_patch_refused ("(objectpath '/a/b',)", path, 5, 1, '/');      /* not a path */
  assert_patch_refused ("(objectpath '/a/b',)", path, 5, 3, '-');
  assert_patch_refused ("(signature 'ay',)", sig_ay, 4, 2, 'm');       /* not D-Bus */
  assert_patch_refused ("(signature 'ay',)", sig_ay, 4, 2, '{');
  assert_patch_refused ("(<[byte 1]>,)", sig_ay, 4, 1, '(');
  assert_patch_refused ("(<[byte 1]>,)", sig_ay, 4, 0, 1);             /* no nul after "a" */
  assert_patch_refused ("(byte 9, uint32 42)", y_pad, 5, 1, 1);        /* padding not zero */
  assert_patch_refused ("([byte 1, 2, 3],)", len3, 7, 0, 4);           /* runs past the body */
  assert_patch_refused ("([byte 1, 2, 3], byte 0)", len3, 7, 0, 2);    /* leaves a byte over */
  assert_patch_refused ("([int16 1, 2],)", (const guint8 *) "\4\0\0\0\1\0", 6, 0, 3);  /* half an element */
}

/* A message whose body is what GDBus wrote, with one byte more. */
static void
test_wire_refuses_trailing_bytes (void **state)
{
  g_autoptr(GBytes) bytes = signal_blob ("/", "org.bluez.Test", "Test", "(uint32 1,)",
                                         G_DBUS_MESSAGE_BYTE_ORDER_LITTLE_ENDIAN);
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  g_autofree guint8 *copy = g_malloc0 (size + 1);
  g_autoptr(GVariant) good = NULL;

  memcpy (copy, data, size);
  good = read_blob (copy, size);
  assert_non_null (good);
  copy[4]++;                                                  /* body length */
  assert_null (read_blob (copy, size + 1));
}

/* Type nesting: 32 arrays are allowed, 33 are not; so for structs, and
 * variants count as structs. */
static void
test_wire_nesting_limits (void **state)
{
  g_autoptr(GString) deep = g_string_new ("(@");
  g_autoptr(GString) deeper = NULL;
  g_autoptr(GString) variants = g_string_new ("(");
  g_autoptr(GBytes) ok = NULL;
  g_autoptr(GBytes) too_deep = NULL;
  g_autoptr(GBytes) nested = NULL;
  g_autoptr(GVariant) value = NULL;
  BleioWireMessage message;

  for (int i = 0; i < 31; i++)
    g_string_append_c (deep, 'a');
  deeper = g_string_new (deep->str);
  g_string_append (deep, "ay [],)");
  g_string_append (deeper, "aay [],)");
  ok = signal_blob ("/", "org.bluez.Test", "Test", deep->str, G_DBUS_MESSAGE_BYTE_ORDER_LITTLE_ENDIAN);
  too_deep = signal_blob ("/", "org.bluez.Test", "Test", deeper->str, G_DBUS_MESSAGE_BYTE_ORDER_LITTLE_ENDIAN);
  assert_true (parse_bytes (ok, &message));
  value = bleio_wire_read_body (&message);
  assert_non_null (value);
  /* The signature itself is over the limit: the header is refused. */
  assert_false (parse_bytes (too_deep, &message));

  for (int i = 0; i < 40; i++)
    g_string_append_c (variants, '<');
  g_string_append (variants, "byte 1");
  for (int i = 0; i < 40; i++)
    g_string_append_c (variants, '>');
  g_string_append (variants, ",)");
  nested = signal_blob ("/", "org.bluez.Test", "Test", variants->str, G_DBUS_MESSAGE_BYTE_ORDER_LITTLE_ENDIAN);
  assert_true (parse_bytes (nested, &message));
  assert_null (bleio_wire_read_body (&message));
}

static void
test_wire_handles_need_descriptors (void **state)
{
  g_autoptr(GBytes) bytes = signal_blob ("/", "org.bluez.Test", "Test", "(handle 0, uint16 23)",
                                         G_DBUS_MESSAGE_BYTE_ORDER_LITTLE_ENDIAN);
  g_autoptr(GVariant) want = parse ("(handle 0, uint16 23)");
  g_autoptr(GVariant) body = NULL;
  BleioWireMessage message;

  assert_true (parse_bytes (bytes, &message));
  assert_int_equal (message.n_fds, 0);
  assert_null (bleio_wire_read_body (&message));
  message.n_fds = 1;
  body = bleio_wire_read_body (&message);
  assert_non_null (body);
  assert_true (g_variant_equal (body, want));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_wire_round_trip_little_endian),
    cmocka_unit_test (test_wire_round_trip_big_endian),
    cmocka_unit_test (test_wire_empty_body),
    cmocka_unit_test (test_wire_properties_changed),
    cmocka_unit_test (test_wire_interfaces_added),
    cmocka_unit_test (test_wire_reply_and_error),
    cmocka_unit_test (test_wire_frame_size),
    cmocka_unit_test (test_wire_memo),
    cmocka_unit_test (test_wire_refuses_bad_values),
    cmocka_unit_test (test_wire_refuses_trailing_bytes),
    cmocka_unit_test (test_wire_nesting_limits),
    cmocka_unit_test (test_wire_handles_need_descriptors),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
