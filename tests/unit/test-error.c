/* SPDX-License-Identifier: MIT */
/* The BLEIO_ERROR domain and the D-Bus error translation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <gio/gio.h>
#include "bleio-private.h"

typedef struct {
  const char *name;
  const char *message;
  BleioError code;
  const char *expect_message_prefix;
} Case;

/* Every org.bluez.Error name in BlueZ's documents and errors-observed.json,
 * with the message bluetoothd 5.66 sent where it was observed. */
static const Case bluez_cases[] = {
  { "org.bluez.Error.Failed", "No discovery started", BLEIO_ERROR_BLUETOOTH, "No discovery started" },
  { "org.bluez.Error.Failed", "No notify session started", BLEIO_ERROR_BLUETOOTH, "No notify session started" },
  { "org.bluez.Error.Failed", "Not connected", BLEIO_ERROR_CONNECTION, "Not connected" },
  /* bluetoothd's answer to a request whose bearer went down (0x0e Unlikely
   * Error from its ATT layer), as after a failed security elevation. */
  { "org.bluez.Error.Failed", "Operation failed with ATT error: 0x0e", BLEIO_ERROR_CONNECTION, "Operation failed with ATT error: 0x0e" },
  { "org.bluez.Error.DoesNotExist", "Does Not Exist", BLEIO_ERROR_DOES_NOT_EXIST, "Does Not Exist" },
  { "org.bluez.Error.InvalidArguments", "Invalid arguments in method call", BLEIO_ERROR_INVALID_ARGUMENT, "Invalid arguments" },
  { "org.bluez.Error.InvalidArguments", "Invalid Length", BLEIO_ERROR_INVALID_ARGUMENT, "Invalid Length" },
  { "org.bluez.Error.InProgress", "Operation already in progress", BLEIO_ERROR_IN_PROGRESS, "Operation already" },
  { "org.bluez.Error.InProgress", "In Progress", BLEIO_ERROR_IN_PROGRESS, "In Progress" },
  { "org.bluez.Error.NotSupported", "Operation is not supported", BLEIO_ERROR_NOT_SUPPORTED, "Operation is not" },
  { "org.bluez.Error.NotPermitted", "Notify acquired", BLEIO_ERROR_NOT_PERMITTED, "Notify acquired" },
  { "org.bluez.Error.NotPermitted", "Write not permitted", BLEIO_ERROR_NOT_PERMITTED, "Write not permitted" },
  { "org.bluez.Error.AuthenticationFailed", "Authentication Failed", BLEIO_ERROR_SECURITY, "Authentication Failed" },
  { "org.bluez.Error.AuthenticationCanceled", "Authentication Canceled", BLEIO_ERROR_SECURITY, "Authentication" },
  { "org.bluez.Error.AuthenticationRejected", "Authentication Rejected", BLEIO_ERROR_SECURITY, "Authentication" },
  { "org.bluez.Error.AuthenticationTimeout", "Authentication Timeout", BLEIO_ERROR_SECURITY, "Authentication" },
  { "org.bluez.Error.ConnectionAttemptFailed", "Page Timeout", BLEIO_ERROR_CONNECTION, "Page Timeout" },
  { "org.bluez.Error.NotAuthorized", "Operation Not Authorized", BLEIO_ERROR_NOT_AUTHORIZED, "Operation" },
  { "org.bluez.Error.NotAvailable", "Operation currently not available", BLEIO_ERROR_NOT_READY, "Operation" },
  { "org.bluez.Error.NotReady", "Resource Not Ready", BLEIO_ERROR_NOT_READY, "Resource" },
  { "org.bluez.Error.AlreadyExists", "Already Exists", BLEIO_ERROR_ALREADY_EXISTS, "Already" },
  { "org.bluez.Error.AlreadyConnected", "Already Connected", BLEIO_ERROR_ALREADY_EXISTS, "Already" },
  { "org.bluez.Error.NotConnected", "Not Connected", BLEIO_ERROR_CONNECTION, "Not Connected" },
  { "org.bluez.Error.InvalidOffset", "Invalid offset", BLEIO_ERROR_INVALID_VALUE, "Invalid offset" },
  { "org.bluez.Error.InvalidValueLength", "Invalid value length", BLEIO_ERROR_INVALID_VALUE, "Invalid value" },
  { "org.bluez.Error.Rejected", "Rejected", BLEIO_ERROR_SECURITY, "Rejected" },
  { "org.bluez.Error.Canceled", "Canceled", BLEIO_ERROR_SECURITY, "Canceled" },
  { "org.bluez.Error.NotAcquired", "Not Acquired", BLEIO_ERROR_NOT_PERMITTED, "Not Acquired" },
  { "org.bluez.Error.BREDR.ProfileUnavailable", "Exhausted the list of BR/EDR profiles to connect to", BLEIO_ERROR_NOT_SUPPORTED, "Exhausted" },
  /* An org.bluez.Error name from a later BlueZ that we do not know yet. */
  { "org.bluez.Error.SomethingNew", "New thing", BLEIO_ERROR_BLUETOOTH, "New thing" },
  /* D-Bus's own answers. */
  { "org.freedesktop.DBus.Error.NoReply", "Did not receive a reply.", BLEIO_ERROR_TIMEOUT, "Did not receive" },
  { "org.freedesktop.DBus.Error.ServiceUnknown", "The name org.bluez was not provided", BLEIO_ERROR_BLUEZ_UNAVAILABLE, "The name" },
  { "org.freedesktop.DBus.Error.NameHasNoOwner", "No owner", BLEIO_ERROR_BLUEZ_UNAVAILABLE, "No owner" },
  { "org.freedesktop.DBus.Error.UnknownObject", "No such object", BLEIO_ERROR_DOES_NOT_EXIST, "No such" },
  { "org.freedesktop.DBus.Error.UnknownMethod", "No such method", BLEIO_ERROR_NOT_SUPPORTED, "No such" },
  { "org.freedesktop.DBus.Error.UnknownInterface", "No such interface", BLEIO_ERROR_DOES_NOT_EXIST, "No such" },
  { "org.freedesktop.DBus.Error.InvalidArgs", "Type mismatch", BLEIO_ERROR_INVALID_ARGUMENT, "Type" },
  { "org.freedesktop.DBus.Error.AccessDenied", "Rejected send message", BLEIO_ERROR_NOT_PERMITTED, "Rejected" },
  { "org.freedesktop.DBus.Error.PropertyReadOnly", "read-only", BLEIO_ERROR_NOT_PERMITTED, "read-only" },
  { "com.example.Vendor.Error", "whatever", BLEIO_ERROR_BLUETOOTH, "whatever" },
};

/* BlueZ's connection failure reasons travel as the message of Failed. */
static const Case reason_cases[] = {
  { "org.bluez.Error.Failed", "le-connection-abort-by-local", BLEIO_ERROR_CONNECTION, "le-connection-abort-by-local (" },
  { "org.bluez.Error.Failed", "le-connection-abort-by-remote", BLEIO_ERROR_CONNECTION, "le-connection-abort-by-remote" },
  { "org.bluez.Error.Failed", "le-connection-timeout", BLEIO_ERROR_TIMEOUT, "le-connection-timeout" },
  { "org.bluez.Error.Failed", "le-connection-already-connected", BLEIO_ERROR_ALREADY_EXISTS, "le-connection" },
  { "org.bluez.Error.Failed", "le-connection-adapter-not-powered", BLEIO_ERROR_NOT_READY, "le-connection" },
  { "org.bluez.Error.Failed", "le-connection-not-supported", BLEIO_ERROR_NOT_SUPPORTED, "le-connection" },
  { "org.bluez.Error.Failed", "le-connection-invalid-arguments", BLEIO_ERROR_INVALID_ARGUMENT, "le-connection" },
  { "org.bluez.Error.Failed", "le-connection-busy", BLEIO_ERROR_IN_PROGRESS, "le-connection" },
  { "org.bluez.Error.Failed", "le-connection-concurrent-connection-limit", BLEIO_ERROR_IN_PROGRESS, "le-connection" },
  { "org.bluez.Error.Failed", "le-connection-refused", BLEIO_ERROR_CONNECTION, "le-connection" },
  { "org.bluez.Error.Failed", "le-connection-link-layer-protocol-error", BLEIO_ERROR_CONNECTION, "le-connection" },
  { "org.bluez.Error.Failed", "le-connection-gatt-browsing", BLEIO_ERROR_CONNECTION, "le-connection" },
  { "org.bluez.Error.Failed", "le-connection-key-missing", BLEIO_ERROR_SECURITY, "le-connection" },
  { "org.bluez.Error.Failed", "le-connection-create-socket", BLEIO_ERROR_BLUETOOTH, "le-connection-create-socket" },
  { "org.bluez.Error.Failed", "le-connection-bad-socket", BLEIO_ERROR_BLUETOOTH, "le-connection" },
  { "org.bluez.Error.Failed", "le-connection-memory-allocation", BLEIO_ERROR_BLUETOOTH, "le-connection" },
  { "org.bluez.Error.Failed", "le-connection-unknown", BLEIO_ERROR_BLUETOOTH, "le-connection" },
  { "org.bluez.Error.Failed", "br-connection-page-timeout", BLEIO_ERROR_TIMEOUT, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-timeout", BLEIO_ERROR_TIMEOUT, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-already-connected", BLEIO_ERROR_ALREADY_EXISTS, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-adapter-not-powered", BLEIO_ERROR_NOT_READY, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-not-supported", BLEIO_ERROR_NOT_SUPPORTED, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-profile-unavailable", BLEIO_ERROR_NOT_SUPPORTED, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-invalid-argument", BLEIO_ERROR_INVALID_ARGUMENT, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-busy", BLEIO_ERROR_IN_PROGRESS, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-concurrent-connection-limit", BLEIO_ERROR_IN_PROGRESS, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-refused", BLEIO_ERROR_CONNECTION, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-aborted-by-remote", BLEIO_ERROR_CONNECTION, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-aborted-by-local", BLEIO_ERROR_CONNECTION, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-lmp-protocol-error", BLEIO_ERROR_CONNECTION, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-canceled", BLEIO_ERROR_CONNECTION, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-key-missing", BLEIO_ERROR_SECURITY, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-sdp-search", BLEIO_ERROR_BLUETOOTH, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-create-socket", BLEIO_ERROR_BLUETOOTH, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-bad-socket", BLEIO_ERROR_BLUETOOTH, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-memory-allocation", BLEIO_ERROR_BLUETOOTH, "br-connection" },
  { "org.bluez.Error.Failed", "br-connection-unknown", BLEIO_ERROR_BLUETOOTH, "br-connection" },
  { "org.bluez.Error.Failed", "Software caused connection abort", BLEIO_ERROR_CONNECTION, "Software caused" },
  { "org.bluez.Error.NotAvailable", "br-connection-profile-unavailable", BLEIO_ERROR_NOT_SUPPORTED, "br-connection" },
  /* A reason word never overrides a specific name. */
  { "org.bluez.Error.AuthenticationFailed", "le-connection-abort-by-local", BLEIO_ERROR_SECURITY, "le-connection" },
  /* Only the whole word counts: a longer unknown word stays generic. */
  { "org.bluez.Error.Failed", "le-connection-abort-by-localhost", BLEIO_ERROR_BLUETOOTH, "le-connection-abort-by-localhost" },
};

static void
check_case (const Case *c)
{
  g_autoptr(GError) remote = g_dbus_error_new_for_dbus_error (c->name, c->message);
  g_autoptr(GError) mapped = bleio_error_from_dbus (remote);

  assert_non_null (mapped);
  if (mapped->domain != BLEIO_ERROR || mapped->code != (int) c->code)
    fail_msg ("%s \"%s\": got %s/%d, want %s", c->name, c->message,
              g_quark_to_string (mapped->domain), mapped->code,
              bleio_error_code_to_string (c->code));
  /* The D-Bus prefix is gone, BlueZ's text stays. */
  if (!g_str_has_prefix (mapped->message, c->expect_message_prefix))
    fail_msg ("%s: message \"%s\" does not start with \"%s\"", c->name,
              mapped->message, c->expect_message_prefix);
  assert_null (strstr (mapped->message, "GDBus.Error"));
}

static void
test_bluez_names (void **state)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bluez_cases); i++)
    check_case (&bluez_cases[i]);
}

static void
test_failure_reasons (void **state)
{
  for (gsize i = 0; i < G_N_ELEMENTS (reason_cases); i++)
    check_case (&reason_cases[i]);
}

static void
test_cancelled_kept (void **state)
{
  g_autoptr(GError) in = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Operation was cancelled");
  g_autoptr(GError) out = bleio_error_from_dbus (in);

  assert_true (g_error_matches (out, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  assert_ptr_not_equal (in, out);
}

static void
test_local_gio_errors (void **state)
{
  static const struct { GQuark (*domain) (void); int code; BleioError want; } local[] = {
    { g_io_error_quark, G_IO_ERROR_TIMED_OUT, BLEIO_ERROR_TIMEOUT },
    { g_io_error_quark, G_IO_ERROR_CLOSED, BLEIO_ERROR_BLUEZ_UNAVAILABLE },
    { g_io_error_quark, G_IO_ERROR_CONNECTION_CLOSED, BLEIO_ERROR_BLUEZ_UNAVAILABLE },
    { g_io_error_quark, G_IO_ERROR_NOT_FOUND, BLEIO_ERROR_DOES_NOT_EXIST },
    { g_io_error_quark, G_IO_ERROR_PERMISSION_DENIED, BLEIO_ERROR_NOT_PERMITTED },
    { g_io_error_quark, G_IO_ERROR_FAILED, BLEIO_ERROR_BLUETOOTH },
    { g_dbus_error_quark, G_DBUS_ERROR_SERVICE_UNKNOWN, BLEIO_ERROR_BLUEZ_UNAVAILABLE },
    { g_dbus_error_quark, G_DBUS_ERROR_NO_REPLY, BLEIO_ERROR_TIMEOUT },
    { g_dbus_error_quark, G_DBUS_ERROR_UNKNOWN_OBJECT, BLEIO_ERROR_DOES_NOT_EXIST },
    { g_dbus_error_quark, G_DBUS_ERROR_INVALID_ARGS, BLEIO_ERROR_INVALID_ARGUMENT },
    { g_dbus_error_quark, G_DBUS_ERROR_ACCESS_DENIED, BLEIO_ERROR_NOT_PERMITTED },
    { g_dbus_error_quark, G_DBUS_ERROR_FAILED, BLEIO_ERROR_BLUETOOTH },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (local); i++)
    {
      g_autoptr(GError) in = g_error_new (local[i].domain (), local[i].code, "local %zu", i);
      g_autoptr(GError) out = bleio_error_from_dbus (in);

      assert_int_equal (out->domain, BLEIO_ERROR);
      assert_int_equal (out->code, local[i].want);
      assert_string_equal (out->message, in->message);
    }
}

static void
test_bleio_error_copied (void **state)
{
  g_autoptr(GError) in = g_error_new_literal (BLEIO_ERROR, BLEIO_ERROR_ROLE, "peripheral only");
  g_autoptr(GError) out = bleio_error_from_dbus (in);

  assert_true (g_error_matches (out, BLEIO_ERROR, BLEIO_ERROR_ROLE));
  assert_string_equal (out->message, "peripheral only");
}

/* The domain is registered with GDBus: our errors cross the bus under one
 * name per code and come back as the same code. */
static void
test_registered_round_trip (void **state)
{
  for (int code = BLEIO_ERROR_BLUETOOTH; code <= BLEIO_ERROR_INVALID_VALUE; code++)
    {
      g_autoptr(GError) local = g_error_new (BLEIO_ERROR, code, "code %d", code);
      g_autofree char *name = g_dbus_error_encode_gerror (local);
      g_autoptr(GError) back = g_dbus_error_new_for_dbus_error (name, "round trip");
      g_autoptr(GError) mapped = bleio_error_from_dbus (back);

      assert_false (g_str_has_prefix (name, "org.gtk.GDBus.UnmappedGError"));
      assert_int_equal (mapped->domain, BLEIO_ERROR);
      if (mapped->code != code)
        fail_msg ("%s came back as %d, want %d", name, mapped->code, code);
      assert_string_equal (mapped->message, "round trip");
    }
}

static void
test_code_names (void **state)
{
  assert_string_equal (bleio_error_code_to_string (BLEIO_ERROR_CONNECTION), "connection");
  assert_string_equal (bleio_error_code_to_string (BLEIO_ERROR_NOT_SUPPORTED), "not-supported");
  assert_string_equal (bleio_error_code_to_string ((BleioError) 999), "unknown");
  assert_true (G_TYPE_IS_ENUM (BLEIO_TYPE_ERROR));
}

static void
test_propagate (void **state)
{
  g_autoptr(GError) dest = NULL;

  bleio_propagate_dbus_error (&dest, NULL);
  assert_null (dest);
  bleio_propagate_dbus_error (&dest, g_dbus_error_new_for_dbus_error ("org.bluez.Error.InProgress", "In Progress"));
  assert_true (g_error_matches (dest, BLEIO_ERROR, BLEIO_ERROR_IN_PROGRESS));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_bluez_names),
    cmocka_unit_test (test_failure_reasons),
    cmocka_unit_test (test_cancelled_kept),
    cmocka_unit_test (test_local_gio_errors),
    cmocka_unit_test (test_bleio_error_copied),
    cmocka_unit_test (test_registered_round_trip),
    cmocka_unit_test (test_code_names),
    cmocka_unit_test (test_propagate),
  };

  return cmocka_run_group_tests_name ("error", tests, NULL, NULL);
}
