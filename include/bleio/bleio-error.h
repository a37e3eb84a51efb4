/* SPDX-License-Identifier: MIT */
#pragma once

#if !defined(__BLEIO_H_INSIDE__) && !defined(BLEIO_COMPILATION)
#error "Only <bleio/bleio.h> can be included directly."
#endif

#include <glib-object.h>
#include <bleio/bleio-macros.h>

G_BEGIN_DECLS

/**
 * BLEIO_ERROR:
 *
 * The error domain of every failure libbleio reports. Cancellation is the
 * exception: a cancelled operation fails with `G_IO_ERROR_CANCELLED` in the
 * `G_IO_ERROR` domain, as GIO does everywhere.
 */
#define BLEIO_ERROR (bleio_error_quark ())

/**
 * BleioError:
 * @BLEIO_ERROR_BLUETOOTH: a Bluetooth operation failed for a reason with no
 *   finer code (`_bleio.BluetoothError`); BlueZ's `org.bluez.Error.Failed`.
 * @BLEIO_ERROR_CONNECTION: the link is not up or was lost
 *   (`_bleio.ConnectionError`); create a new connection.
 * @BLEIO_ERROR_ROLE: the operation needs the other GAP role
 *   (`_bleio.RoleError`).
 * @BLEIO_ERROR_SECURITY: pairing or authentication failed, was rejected,
 *   cancelled or timed out (`_bleio.SecurityError`).
 * @BLEIO_ERROR_TIMEOUT: the operation did not finish in the time given; the
 *   half-done work was undone.
 * @BLEIO_ERROR_IN_PROGRESS: the same operation is already running.
 * @BLEIO_ERROR_NOT_SUPPORTED: BlueZ, the adapter or the peer cannot do this;
 *   the message says why.
 * @BLEIO_ERROR_NOT_PERMITTED: the peer or BlueZ refused the operation
 *   (attribute permissions, D-Bus policy).
 * @BLEIO_ERROR_INVALID_ARGUMENT: an argument was out of range or malformed.
 * @BLEIO_ERROR_NO_ADAPTER: no Bluetooth adapter (or not the one asked for).
 * @BLEIO_ERROR_BLUEZ_UNAVAILABLE: bluetoothd is not running or left the bus.
 * @BLEIO_ERROR_DOES_NOT_EXIST: the device or attribute is gone.
 * @BLEIO_ERROR_ALREADY_EXISTS: the object or state already exists.
 * @BLEIO_ERROR_NOT_READY: the adapter is not ready (for example powered off).
 * @BLEIO_ERROR_NOT_AUTHORIZED: the operation needs authorization the caller
 *   does not have.
 * @BLEIO_ERROR_INVALID_VALUE: a value read or received was malformed, or a
 *   value to write has a length or offset the attribute refuses.
 *
 * Error codes in the %BLEIO_ERROR domain. The first four match the
 * exceptions of CircuitPython's `_bleio`; the rest refine
 * %BLEIO_ERROR_BLUETOOTH so that programs can react without parsing text.
 */
typedef enum {
  BLEIO_ERROR_BLUETOOTH,
  BLEIO_ERROR_CONNECTION,
  BLEIO_ERROR_ROLE,
  BLEIO_ERROR_SECURITY,
  BLEIO_ERROR_TIMEOUT,
  BLEIO_ERROR_IN_PROGRESS,
  BLEIO_ERROR_NOT_SUPPORTED,
  BLEIO_ERROR_NOT_PERMITTED,
  BLEIO_ERROR_INVALID_ARGUMENT,
  BLEIO_ERROR_NO_ADAPTER,
  BLEIO_ERROR_BLUEZ_UNAVAILABLE,
  BLEIO_ERROR_DOES_NOT_EXIST,
  BLEIO_ERROR_ALREADY_EXISTS,
  BLEIO_ERROR_NOT_READY,
  BLEIO_ERROR_NOT_AUTHORIZED,
  BLEIO_ERROR_INVALID_VALUE,
} BleioError;

/**
 * bleio_error_get_type:
 *
 * Returns the #GType of the #BleioError enumeration; its value nicks are the
 * names bleio_error_code_to_string() returns.
 *
 * Returns: the #GType
 */
BLEIO_EXPORT
GType bleio_error_get_type (void);
/**
 * BLEIO_TYPE_ERROR:
 *
 * The #GType of #BleioError.
 */
#define BLEIO_TYPE_ERROR (bleio_error_get_type ())

/**
 * bleio_error_quark:
 *
 * Returns the quark of the %BLEIO_ERROR domain. Calling it also registers
 * the domain with GDBus, so that BlueZ's `org.bluez.Error.*` names map onto
 * %BleioError codes when errors cross the bus.
 *
 * Returns: the error quark
 */
BLEIO_EXPORT
GQuark bleio_error_quark (void);

/**
 * bleio_error_from_dbus:
 * @error: (transfer none): an error returned by a GDBus call to BlueZ
 *
 * Translates a #GError from a D-Bus call to BlueZ into the %BLEIO_ERROR
 * domain. BlueZ's error names (`org.bluez.Error.*`), its connection failure
 * reasons (`le-connection-abort-by-local`, `br-connection-page-timeout`,
 * ...), D-Bus's own errors (no reply, service unknown, unknown object) and
 * GIO's errors each map to one #BleioError code. The one exception is
 * `org.freedesktop.DBus.Error.NoReply`: dbus-daemon's own reply timeout is
 * %BLEIO_ERROR_TIMEOUT, but the NoReply it sends when the recipient left the
 * bus before answering (bluetoothd stopped or crashed) is
 * %BLEIO_ERROR_BLUEZ_UNAVAILABLE. The message is BlueZ's text without the
 * `GDBus.Error:org.bluez.Error.X: ` prefix.
 *
 * `G_IO_ERROR_CANCELLED` is returned unchanged (as a copy), and an error
 * already in the %BLEIO_ERROR domain is copied as it is.
 *
 * Returns: (transfer full): a new error; free it with g_error_free()
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
GError *bleio_error_from_dbus (const GError *error);

/**
 * bleio_error_code_to_string:
 * @code: a #BleioError code
 *
 * Names an error code, for logs and for tools that print errors as JSON.
 *
 * Returns: (transfer none): a static string such as `"connection"`, or
 *   `"unknown"` for a value outside the enumeration
 */
BLEIO_EXPORT
const char *bleio_error_code_to_string (BleioError code);

G_END_DECLS
