/* SPDX-License-Identifier: MIT */
/*
 * The BLEIO_ERROR domain, and the translation of every error that a D-Bus
 * call to BlueZ can produce into it.
 */
#include "bleio-private.h"

#include <gio/gio.h>
#include <string.h>

G_DEFINE_ENUM_TYPE (BleioError, bleio_error,
  G_DEFINE_ENUM_VALUE (BLEIO_ERROR_BLUETOOTH, "bluetooth"),
  G_DEFINE_ENUM_VALUE (BLEIO_ERROR_CONNECTION, "connection"),
  G_DEFINE_ENUM_VALUE (BLEIO_ERROR_ROLE, "role"),
  G_DEFINE_ENUM_VALUE (BLEIO_ERROR_SECURITY, "security"),
  G_DEFINE_ENUM_VALUE (BLEIO_ERROR_TIMEOUT, "timeout"),
  G_DEFINE_ENUM_VALUE (BLEIO_ERROR_IN_PROGRESS, "in-progress"),
  G_DEFINE_ENUM_VALUE (BLEIO_ERROR_NOT_SUPPORTED, "not-supported"),
  G_DEFINE_ENUM_VALUE (BLEIO_ERROR_NOT_PERMITTED, "not-permitted"),
  G_DEFINE_ENUM_VALUE (BLEIO_ERROR_INVALID_ARGUMENT, "invalid-argument"),
  G_DEFINE_ENUM_VALUE (BLEIO_ERROR_NO_ADAPTER, "no-adapter"),
  G_DEFINE_ENUM_VALUE (BLEIO_ERROR_BLUEZ_UNAVAILABLE, "bluez-unavailable"),
  G_DEFINE_ENUM_VALUE (BLEIO_ERROR_DOES_NOT_EXIST, "does-not-exist"),
  G_DEFINE_ENUM_VALUE (BLEIO_ERROR_ALREADY_EXISTS, "already-exists"),
  G_DEFINE_ENUM_VALUE (BLEIO_ERROR_NOT_READY, "not-ready"),
  G_DEFINE_ENUM_VALUE (BLEIO_ERROR_NOT_AUTHORIZED, "not-authorized"),
  G_DEFINE_ENUM_VALUE (BLEIO_ERROR_INVALID_VALUE, "invalid-value"))

/* One D-Bus name per code, registered with GDBus: it is what a BLEIO_ERROR
 * becomes when the library answers a call on the bus (the pairing agent),
 * and the name GDBus recognises when it meets it in a reply. Codes with no
 * BlueZ counterpart get a name in our own namespace. */
static const GDBusErrorEntry registered_names[] = {
  { BLEIO_ERROR_BLUETOOTH, "org.bluez.Error.Failed" },
  { BLEIO_ERROR_CONNECTION, "org.bluez.Error.NotConnected" },
  { BLEIO_ERROR_ROLE, "org.bleio.Error.Role" },
  { BLEIO_ERROR_SECURITY, "org.bluez.Error.AuthenticationFailed" },
  { BLEIO_ERROR_TIMEOUT, "org.bleio.Error.Timeout" },
  { BLEIO_ERROR_IN_PROGRESS, "org.bluez.Error.InProgress" },
  { BLEIO_ERROR_NOT_SUPPORTED, "org.bluez.Error.NotSupported" },
  { BLEIO_ERROR_NOT_PERMITTED, "org.bluez.Error.NotPermitted" },
  { BLEIO_ERROR_INVALID_ARGUMENT, "org.bluez.Error.InvalidArguments" },
  { BLEIO_ERROR_NO_ADAPTER, "org.bleio.Error.NoAdapter" },
  { BLEIO_ERROR_BLUEZ_UNAVAILABLE, "org.bleio.Error.BluezUnavailable" },
  { BLEIO_ERROR_DOES_NOT_EXIST, "org.bluez.Error.DoesNotExist" },
  { BLEIO_ERROR_ALREADY_EXISTS, "org.bluez.Error.AlreadyExists" },
  { BLEIO_ERROR_NOT_READY, "org.bluez.Error.NotReady" },
  { BLEIO_ERROR_NOT_AUTHORIZED, "org.bluez.Error.NotAuthorized" },
  { BLEIO_ERROR_INVALID_VALUE, "org.bluez.Error.InvalidValueLength" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (registered_names) == BLEIO_ERROR_INVALID_VALUE + 1);

GQuark
bleio_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("bleio-error-quark", &quark,
                                      registered_names,
                                      G_N_ELEMENTS (registered_names));
  return (GQuark) quark;
}

const char *
bleio_error_code_to_string (BleioError code)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (BLEIO_TYPE_ERROR);
  GEnumValue *value = g_enum_get_value (klass, (int) code);

  /* The class stays alive after this unref: GLib never frees static enum
   * classes, so the nick outlives the call. */
  return value != NULL ? value->value_nick : "unknown";
}

typedef struct {
  const char *name;
  BleioError code;
} NameMap;

/* Every error name BlueZ's D-Bus documents list, plus those D-Bus itself
 * answers with when bluetoothd is gone, slow or lacks the object. */
static const NameMap dbus_names[] = {
  { "org.bluez.Error.Failed", BLEIO_ERROR_BLUETOOTH },
  { "org.bluez.Error.InProgress", BLEIO_ERROR_IN_PROGRESS },
  { "org.bluez.Error.NotPermitted", BLEIO_ERROR_NOT_PERMITTED },
  { "org.bluez.Error.NotAuthorized", BLEIO_ERROR_NOT_AUTHORIZED },
  { "org.bluez.Error.InvalidArguments", BLEIO_ERROR_INVALID_ARGUMENT },
  { "org.bluez.Error.NotSupported", BLEIO_ERROR_NOT_SUPPORTED },
  { "org.bluez.Error.NotAvailable", BLEIO_ERROR_NOT_READY },
  { "org.bluez.Error.NotReady", BLEIO_ERROR_NOT_READY },
  { "org.bluez.Error.AlreadyExists", BLEIO_ERROR_ALREADY_EXISTS },
  { "org.bluez.Error.AlreadyConnected", BLEIO_ERROR_ALREADY_EXISTS },
  { "org.bluez.Error.DoesNotExist", BLEIO_ERROR_DOES_NOT_EXIST },
  { "org.bluez.Error.NotConnected", BLEIO_ERROR_CONNECTION },
  { "org.bluez.Error.ConnectionAttemptFailed", BLEIO_ERROR_CONNECTION },
  { "org.bluez.Error.AuthenticationFailed", BLEIO_ERROR_SECURITY },
  { "org.bluez.Error.AuthenticationCanceled", BLEIO_ERROR_SECURITY },
  { "org.bluez.Error.AuthenticationRejected", BLEIO_ERROR_SECURITY },
  { "org.bluez.Error.AuthenticationTimeout", BLEIO_ERROR_SECURITY },
  { "org.bluez.Error.Rejected", BLEIO_ERROR_SECURITY },
  { "org.bluez.Error.Canceled", BLEIO_ERROR_SECURITY },
  { "org.bluez.Error.InvalidOffset", BLEIO_ERROR_INVALID_VALUE },
  { "org.bluez.Error.InvalidValueLength", BLEIO_ERROR_INVALID_VALUE },
  { "org.bluez.Error.NotAcquired", BLEIO_ERROR_NOT_PERMITTED },
  { "org.bluez.Error.BREDR.ProfileUnavailable", BLEIO_ERROR_NOT_SUPPORTED },
  { "org.bluez.Error.BREDR.KeyMissing", BLEIO_ERROR_SECURITY },
  { "org.bluez.Error.LE.KeyMissing", BLEIO_ERROR_SECURITY },
  { "org.bleio.Error.Role", BLEIO_ERROR_ROLE },
  { "org.bleio.Error.Timeout", BLEIO_ERROR_TIMEOUT },
  { "org.bleio.Error.NoAdapter", BLEIO_ERROR_NO_ADAPTER },
  { "org.bleio.Error.BluezUnavailable", BLEIO_ERROR_BLUEZ_UNAVAILABLE },
  { "org.freedesktop.DBus.Error.NoReply", BLEIO_ERROR_TIMEOUT },
  { "org.freedesktop.DBus.Error.Timeout", BLEIO_ERROR_TIMEOUT },
  { "org.freedesktop.DBus.Error.TimedOut", BLEIO_ERROR_TIMEOUT },
  { "org.freedesktop.DBus.Error.ServiceUnknown", BLEIO_ERROR_BLUEZ_UNAVAILABLE },
  { "org.freedesktop.DBus.Error.NameHasNoOwner", BLEIO_ERROR_BLUEZ_UNAVAILABLE },
  { "org.freedesktop.DBus.Error.Disconnected", BLEIO_ERROR_BLUEZ_UNAVAILABLE },
  { "org.freedesktop.DBus.Error.NoServer", BLEIO_ERROR_BLUEZ_UNAVAILABLE },
  { "org.freedesktop.DBus.Error.UnknownObject", BLEIO_ERROR_DOES_NOT_EXIST },
  { "org.freedesktop.DBus.Error.UnknownInterface", BLEIO_ERROR_DOES_NOT_EXIST },
  { "org.freedesktop.DBus.Error.UnknownMethod", BLEIO_ERROR_NOT_SUPPORTED },
  { "org.freedesktop.DBus.Error.UnknownProperty", BLEIO_ERROR_DOES_NOT_EXIST },
  { "org.freedesktop.DBus.Error.PropertyReadOnly", BLEIO_ERROR_NOT_PERMITTED },
  { "org.freedesktop.DBus.Error.InvalidArgs", BLEIO_ERROR_INVALID_ARGUMENT },
  { "org.freedesktop.DBus.Error.InvalidSignature", BLEIO_ERROR_INVALID_ARGUMENT },
  { "org.freedesktop.DBus.Error.AccessDenied", BLEIO_ERROR_NOT_PERMITTED },
  { "org.freedesktop.DBus.Error.AuthFailed", BLEIO_ERROR_NOT_PERMITTED },
  { "org.freedesktop.DBus.Error.NotSupported", BLEIO_ERROR_NOT_SUPPORTED },
  { "org.freedesktop.DBus.Error.LimitsExceeded", BLEIO_ERROR_NOT_PERMITTED },
};

typedef struct {
  const char *reason;
  BleioError code;
  const char *hint;
} ReasonMap;

/* BlueZ's connection failure reasons (the text of org.bluez.Error.Failed
 * or NotAvailable when Connect fails), each with what it means for the
 * caller. Matched on the whole reason word. */
static const ReasonMap reasons[] = {
  { "le-connection-abort-by-local", BLEIO_ERROR_CONNECTION,
    "the local controller gave up the connection attempt; retry" },
  { "le-connection-abort-by-remote", BLEIO_ERROR_CONNECTION,
    "the peer closed the link while it was being set up" },
  { "le-connection-timeout", BLEIO_ERROR_TIMEOUT,
    "the peer did not answer; is it advertising and in range?" },
  { "le-connection-already-connected", BLEIO_ERROR_ALREADY_EXISTS,
    "the link is already up" },
  { "le-connection-adapter-not-powered", BLEIO_ERROR_NOT_READY,
    "power the adapter on first" },
  { "le-connection-not-supported", BLEIO_ERROR_NOT_SUPPORTED,
    "the adapter cannot make LE connections" },
  { "le-connection-invalid-arguments", BLEIO_ERROR_INVALID_ARGUMENT,
    "BlueZ rejected the connection parameters" },
  { "le-connection-busy", BLEIO_ERROR_IN_PROGRESS,
    "another connection attempt is running; wait for it" },
  { "le-connection-concurrent-connection-limit", BLEIO_ERROR_IN_PROGRESS,
    "the controller cannot start another connection now" },
  { "le-connection-refused", BLEIO_ERROR_CONNECTION,
    "the peer refused the connection" },
  { "le-connection-link-layer-protocol-error", BLEIO_ERROR_CONNECTION,
    "link-layer protocol error; retry" },
  { "le-connection-gatt-browsing", BLEIO_ERROR_CONNECTION,
    "the link dropped while BlueZ read the GATT database" },
  { "le-connection-key-missing", BLEIO_ERROR_SECURITY,
    "the peer lost its bond; remove the device and pair again" },
  { "le-connection-create-socket", BLEIO_ERROR_BLUETOOTH, NULL },
  { "le-connection-bad-socket", BLEIO_ERROR_BLUETOOTH, NULL },
  { "le-connection-memory-allocation", BLEIO_ERROR_BLUETOOTH, NULL },
  { "le-connection-unknown", BLEIO_ERROR_BLUETOOTH, NULL },
  { "br-connection-page-timeout", BLEIO_ERROR_TIMEOUT,
    "the peer did not answer the page; is it in range?" },
  { "br-connection-timeout", BLEIO_ERROR_TIMEOUT,
    "the peer did not answer; is it in range?" },
  { "br-connection-already-connected", BLEIO_ERROR_ALREADY_EXISTS,
    "the link is already up" },
  { "br-connection-adapter-not-powered", BLEIO_ERROR_NOT_READY,
    "power the adapter on first" },
  { "br-connection-not-supported", BLEIO_ERROR_NOT_SUPPORTED, NULL },
  { "br-connection-profile-unavailable", BLEIO_ERROR_NOT_SUPPORTED,
    "no BR/EDR profile to connect; for LE peers use an LE-only adapter or "
    "make sure the device's address type is LE" },
  { "br-connection-invalid-argument", BLEIO_ERROR_INVALID_ARGUMENT, NULL },
  { "br-connection-busy", BLEIO_ERROR_IN_PROGRESS,
    "another connection attempt is running; wait for it" },
  { "br-connection-concurrent-connection-limit", BLEIO_ERROR_IN_PROGRESS, NULL },
  { "br-connection-refused", BLEIO_ERROR_CONNECTION,
    "the peer refused the connection" },
  { "br-connection-aborted-by-remote", BLEIO_ERROR_CONNECTION, NULL },
  { "br-connection-aborted-by-local", BLEIO_ERROR_CONNECTION, NULL },
  { "br-connection-lmp-protocol-error", BLEIO_ERROR_CONNECTION, NULL },
  { "br-connection-canceled", BLEIO_ERROR_CONNECTION,
    "the attempt was cancelled by a disconnect" },
  { "br-connection-key-missing", BLEIO_ERROR_SECURITY,
    "the peer lost its bond; remove the device and pair again" },
  { "br-connection-sdp-search", BLEIO_ERROR_BLUETOOTH, NULL },
  { "br-connection-create-socket", BLEIO_ERROR_BLUETOOTH, NULL },
  { "br-connection-bad-socket", BLEIO_ERROR_BLUETOOTH, NULL },
  { "br-connection-memory-allocation", BLEIO_ERROR_BLUETOOTH, NULL },
  { "br-connection-unknown", BLEIO_ERROR_BLUETOOTH, NULL },
  /* ATT security errors on a read or write: bluetoothd 5.66 answers
   * NotPermitted "Not paired" for Insufficient Authentication, Encryption
   * and Encryption Key Size; other versions pass the ATT error's name or
   * number on as the message of Failed. */
  { "Not paired", BLEIO_ERROR_SECURITY,
    "the peripheral requires an encrypted link: pair with bleio_connection_pair() first" },
  { "Insufficient Authentication", BLEIO_ERROR_SECURITY,
    "the peripheral requires an authenticated link: pair with bleio_connection_pair() first" },
  { "Insufficient Encryption", BLEIO_ERROR_SECURITY,
    "the peripheral requires an encrypted link: pair with bleio_connection_pair() first" },
  { "Operation failed with ATT error: 0x05", BLEIO_ERROR_SECURITY,
    "the peripheral requires an authenticated link: pair with bleio_connection_pair() first" },
  { "Operation failed with ATT error: 0x0f", BLEIO_ERROR_SECURITY,
    "the peripheral requires an encrypted link: pair with bleio_connection_pair() first" },
  { "Operation failed with ATT error: 0x0c", BLEIO_ERROR_SECURITY,
    "the peripheral requires a longer encryption key: pair again with bleio_connection_pair()" },
  /* bluetoothd (5.66, 5.82) fails a request with ATT error 0x0e
   * (Unlikely Error) when the bearer it waited on went down: its ATT
   * layer hands a NULL response to the request's callback
   * (src/shared/att.c disc_att_send_op, gatt-client.c process_error).
   * The answer can arrive before Connected turns false in the cache. */
  { "Operation failed with ATT error: 0x0e", BLEIO_ERROR_CONNECTION,
    "the link went down under the call (or the peer answered Unlikely Error); "
    "reconnect and retry" },
  /* errno texts that BlueZ passes on as the message of Failed. */
  { "Software caused connection abort", BLEIO_ERROR_CONNECTION,
    "the link was aborted; retry" },
  { "Not connected", BLEIO_ERROR_CONNECTION,
    "connect to the device first" },
  { "Connection timed out", BLEIO_ERROR_TIMEOUT, NULL },
  { "Connection refused", BLEIO_ERROR_CONNECTION, NULL },
  { "Host is down", BLEIO_ERROR_CONNECTION, NULL },
  { "Input/output error", BLEIO_ERROR_BLUETOOTH, NULL },
};

static const ReasonMap *
lookup_reason (const char *message)
{
  for (gsize i = 0; i < G_N_ELEMENTS (reasons); i++)
    {
      const char *r = reasons[i].reason;
      gsize len = strlen (r);

      /* BlueZ gives the reason alone; some versions add ": detail". */
      if (strncmp (message, r, len) == 0 &&
          (message[len] == '\0' || message[len] == ':' || message[len] == ' '))
        return &reasons[i];
    }
  return NULL;
}

gboolean
bleio_error_lookup_dbus_name (const char *name,
                              BleioError *code)
{
  for (gsize i = 0; i < G_N_ELEMENTS (dbus_names); i++)
    if (g_str_equal (name, dbus_names[i].name))
      {
        *code = dbus_names[i].code;
        return TRUE;
      }
  return FALSE;
}

static BleioError
code_for_remote (const char *name,
                 const char *message,
                 const char **hint)
{
  const ReasonMap *reason = lookup_reason (message);
  BleioError code = BLEIO_ERROR_BLUETOOTH;

  *hint = NULL;
  /* dbus-daemon answers NoReply with this text for a call whose recipient
   * left the bus before answering: bluetoothd stopped or crashed. (Its own
   * reply timeout says "timeout by message bus" and stays a TIMEOUT.) */
  if (g_str_equal (name, "org.freedesktop.DBus.Error.NoReply") &&
      strstr (message, "disconnected from message bus") != NULL)
    {
      *hint = "bluetoothd left the bus before answering; retry once it is back";
      return BLEIO_ERROR_BLUEZ_UNAVAILABLE;
    }
  if (!bleio_error_lookup_dbus_name (name, &code) &&
      !g_str_has_prefix (name, "org.bluez.Error."))
    code = BLEIO_ERROR_BLUETOOTH;

  /* A reason word refines the generic names only: a SECURITY or
   * INVALID_ARGUMENT name keeps its meaning whatever the text says. An
   * ATT security error refines NotPermitted too (quirk: bluetoothd 5.66
   * reports a missing pairing as NotPermitted "Not paired"). */
  if (reason != NULL &&
      (code == BLEIO_ERROR_BLUETOOTH || code == BLEIO_ERROR_NOT_READY ||
       (code == BLEIO_ERROR_NOT_PERMITTED && reason->code == BLEIO_ERROR_SECURITY)))
    {
      *hint = reason->hint;
      code = reason->code;
    }
  return code;
}

static BleioError
code_for_local (const GError *error)
{
  if (error->domain == G_IO_ERROR)
    {
      switch (error->code)
        {
        case G_IO_ERROR_TIMED_OUT:
          return BLEIO_ERROR_TIMEOUT;
        case G_IO_ERROR_CLOSED:
        case G_IO_ERROR_CONNECTION_CLOSED:
        case G_IO_ERROR_NOT_CONNECTED:
        case G_IO_ERROR_CONNECTION_REFUSED:
          return BLEIO_ERROR_BLUEZ_UNAVAILABLE;
        case G_IO_ERROR_INVALID_ARGUMENT:
        case G_IO_ERROR_INVALID_DATA:
          return BLEIO_ERROR_INVALID_ARGUMENT;
        case G_IO_ERROR_PERMISSION_DENIED:
          return BLEIO_ERROR_NOT_PERMITTED;
        case G_IO_ERROR_NOT_SUPPORTED:
          return BLEIO_ERROR_NOT_SUPPORTED;
        case G_IO_ERROR_NOT_FOUND:
          return BLEIO_ERROR_DOES_NOT_EXIST;
        case G_IO_ERROR_BUSY:
        case G_IO_ERROR_PENDING:
          return BLEIO_ERROR_IN_PROGRESS;
        default:
          return BLEIO_ERROR_BLUETOOTH;
        }
    }

  if (error->domain == G_DBUS_ERROR)
    {
      switch (error->code)
        {
        case G_DBUS_ERROR_NO_REPLY:
        case G_DBUS_ERROR_TIMEOUT:
        case G_DBUS_ERROR_TIMED_OUT:
          return BLEIO_ERROR_TIMEOUT;
        case G_DBUS_ERROR_SERVICE_UNKNOWN:
        case G_DBUS_ERROR_NAME_HAS_NO_OWNER:
        case G_DBUS_ERROR_DISCONNECTED:
        case G_DBUS_ERROR_NO_SERVER:
          return BLEIO_ERROR_BLUEZ_UNAVAILABLE;
        case G_DBUS_ERROR_UNKNOWN_OBJECT:
        case G_DBUS_ERROR_UNKNOWN_INTERFACE:
        case G_DBUS_ERROR_UNKNOWN_PROPERTY:
          return BLEIO_ERROR_DOES_NOT_EXIST;
        case G_DBUS_ERROR_UNKNOWN_METHOD:
        case G_DBUS_ERROR_NOT_SUPPORTED:
          return BLEIO_ERROR_NOT_SUPPORTED;
        case G_DBUS_ERROR_INVALID_ARGS:
        case G_DBUS_ERROR_INVALID_SIGNATURE:
          return BLEIO_ERROR_INVALID_ARGUMENT;
        case G_DBUS_ERROR_ACCESS_DENIED:
        case G_DBUS_ERROR_AUTH_FAILED:
        case G_DBUS_ERROR_PROPERTY_READ_ONLY:
        case G_DBUS_ERROR_LIMITS_EXCEEDED:
          return BLEIO_ERROR_NOT_PERMITTED;
        default:
          return BLEIO_ERROR_BLUETOOTH;
        }
    }

  return BLEIO_ERROR_BLUETOOTH;
}

GError *
bleio_error_from_dbus (const GError *error)
{
  g_autofree char *name = NULL;
  g_autoptr(GError) stripped = NULL;
  const char *hint = NULL;
  BleioError code;

  g_return_val_if_fail (error != NULL, NULL);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (error);

  /* Our own errors pass through; GDBus would otherwise hand back the name
   * we registered for the code, and the text could be misread. */
  if (error->domain == BLEIO_ERROR && !g_dbus_error_is_remote_error (error))
    return g_error_copy (error);

  name = g_dbus_error_get_remote_error (error);
  if (name == NULL)
    {
      return g_error_new_literal (BLEIO_ERROR, code_for_local (error),
                                  error->message);
    }

  stripped = g_error_copy (error);
  g_dbus_error_strip_remote_error (stripped);
  code = code_for_remote (name, stripped->message, &hint);

  if (hint != NULL)
    return g_error_new (BLEIO_ERROR, code, "%s (%s)", stripped->message, hint);
  return g_error_new_literal (BLEIO_ERROR, code, stripped->message);
}

void
bleio_propagate_dbus_error (GError **dest,
                            GError  *src)
{
  if (src == NULL)
    return;
  g_propagate_error (dest, bleio_error_from_dbus (src));
  g_error_free (src);
}
