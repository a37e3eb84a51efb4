/* SPDX-License-Identifier: MIT */
#pragma once

#if !defined(__BLEIO_H_INSIDE__) && !defined(BLEIO_COMPILATION)
#error "Only <bleio/bleio.h> can be included directly."
#endif

#include <gio/gio.h>
#include <bleio/bleio-macros.h>
#include <bleio/bleio-characteristic.h>

G_BEGIN_DECLS

/**
 * BleioCharacteristicBuffer:
 *
 * `_bleio.CharacteristicBuffer`: a byte FIFO fed by a peer's
 * notifications on one characteristic.
 *
 * Where the bytes come from: when the characteristic allows it, the
 * buffer takes BlueZ's `AcquireNotify` file descriptor, which also turns
 * notifications on; each notification arrives whole on it. Otherwise (the
 * peer cannot notify through it, or the characteristic is already
 * subscribed with `StartNotify`, which excludes `AcquireNotify`) the
 * buffer takes the `Value` changes BlueZ signals while the characteristic
 * is subscribed, and it does not subscribe itself: call
 * bleio_characteristic_set_cccd() as with `_bleio`. Either way only
 * notifications count: a `Value` change that comes from a read while
 * nothing is subscribed is not taken.
 *
 * When the buffer is full, new bytes are dropped (as `_bleio` does) and
 * counted in bleio_characteristic_buffer_get_dropped().
 *
 * After the link is lost (the notification descriptor hangs up, the
 * device disconnects, or bluetoothd goes away) the bytes already buffered
 * can still be read; then reads fail with %BLEIO_ERROR_CONNECTION. A
 * #BleioConnection is spent once its link is down, so a buffer never
 * resubscribes: make a new one on the new connection.
 *
 * When the peer's GATT database changes while connected
 * (#BleioConnection::services-changed), the buffer follows its
 * characteristic by what the application found it by, not by handle:
 *
 * - A characteristic bluetoothd keeps (its service's declaration, that is
 *   start handle, UUID and size, did not change, so BlueZ 5.66 keeps its
 *   objects) keeps the buffer's subscription; nothing changes.
 * - A characteristic that came back on a new object (its service changed,
 *   or moved to other handles) is followed when the peer's database has
 *   the same thing at the same place: a service with the same UUID (the
 *   same one of several with that UUID, in handle order) holding a
 *   characteristic with the same UUID (the same one of several with that
 *   UUID). Once no service of the peer has come or gone for a second,
 *   about when #BleioConnection::services-changed is emitted, the buffer
 *   subscribes there as it had (AcquireNotify again, or StartNotify again,
 *   or the Value changes while another subscription is on), keeps the
 *   bytes it holds and goes on receiving;
 *   bleio_characteristic_buffer_get_characteristic() then returns the new
 *   object. Notifications the peer sends before the new subscription is
 *   in place are not received (a real peer sends none: the new
 *   characteristic's CCCD is off until then).
 * - A characteristic the peer no longer has at its place ends the
 *   buffer: the bytes already buffered can still be read, then reads fail
 *   with %BLEIO_ERROR_DOES_NOT_EXIST ("discover services again"). So does
 *   a buffer whose subscription on the new object is refused.
 *
 * The buffer is fed on libbleio's worker thread, so blocking reads work
 * from any thread with no main loop running. Reading from several threads
 * at once is safe but interleaves.
 */
#define BLEIO_TYPE_CHARACTERISTIC_BUFFER (bleio_characteristic_buffer_get_type ())
BLEIO_EXPORT
G_DECLARE_FINAL_TYPE (BleioCharacteristicBuffer, bleio_characteristic_buffer, BLEIO, CHARACTERISTIC_BUFFER, GObject)

/**
 * bleio_characteristic_buffer_new_async:
 * @characteristic: a #BleioCharacteristic that can notify
 * @timeout: seconds a read waits for bytes (`_bleio`'s default is 1.0);
 *   0 or less does not wait; NaN, infinity and anything beyond 49 days
 *   (4294967 s) fail with %BLEIO_ERROR_INVALID_ARGUMENT
 * @buffer_size: capacity in bytes (`_bleio`'s default is 64); at least 1
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * Makes a buffer on @characteristic, taking `AcquireNotify` when allowed.
 * Fails with %BLEIO_ERROR_CONNECTION when the link is down and with
 * %BLEIO_ERROR_NOT_SUPPORTED when the characteristic can neither notify
 * nor indicate. Finish with bleio_characteristic_buffer_new_finish(); the
 * blocking twin is bleio_characteristic_buffer_new().
 */
BLEIO_EXPORT
void bleio_characteristic_buffer_new_async (BleioCharacteristic *characteristic,
                                            double               timeout,
                                            gsize                buffer_size,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);

/**
 * bleio_characteristic_buffer_new_finish:
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_characteristic_buffer_new_async().
 *
 * Returns: (transfer full): the buffer, or %NULL with @error set
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioCharacteristicBuffer *bleio_characteristic_buffer_new_finish (GAsyncResult  *result,
                                                                   GError       **error);

/**
 * bleio_characteristic_buffer_new:
 * @characteristic: a #BleioCharacteristic that can notify
 * @timeout: seconds a read waits for bytes; as for
 *   bleio_characteristic_buffer_new_async()
 * @buffer_size: capacity in bytes; at least 1
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_characteristic_buffer_new_async(); safe from any
 * thread.
 *
 * Returns: (transfer full): the buffer, or %NULL with @error set
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioCharacteristicBuffer *bleio_characteristic_buffer_new (BleioCharacteristic  *characteristic,
                                                            double                timeout,
                                                            gsize                 buffer_size,
                                                            GError              **error);

/**
 * bleio_characteristic_buffer_read:
 * @buffer: a #BleioCharacteristicBuffer
 * @nbytes: how many bytes to read; 0 for everything buffered
 * @error: return location for a #GError, or %NULL
 *
 * `_bleio.CharacteristicBuffer.read()`: waits up to the timeout until
 * @nbytes bytes are buffered (with @nbytes 0: until at least one is) and
 * returns up to @nbytes of them, fewer when the timeout passes. An empty
 * result means nothing arrived in time. Blocks; safe from any thread.
 *
 * Returns: (transfer full): the bytes, or %NULL with @error set
 *   (%BLEIO_ERROR_CONNECTION once the link is lost and the buffer empty;
 *   %BLEIO_ERROR_DOES_NOT_EXIST once the characteristic went with a change
 *   of the peer's database and the buffer is empty;
 *   %BLEIO_ERROR_INVALID_ARGUMENT after deinit)
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
GBytes *bleio_characteristic_buffer_read (BleioCharacteristicBuffer  *buffer,
                                          gsize                       nbytes,
                                          GError                    **error);

/**
 * bleio_characteristic_buffer_readinto: (skip)
 * @buffer: a #BleioCharacteristicBuffer
 * @data: (out caller-allocates) (array length=length) (element-type guint8):
 *   where the bytes go
 * @length: the size of @data
 * @error: return location for a #GError, or %NULL
 *
 * `_bleio.CharacteristicBuffer.readinto()`: like
 * bleio_characteristic_buffer_read() with @length bytes wanted. Blocks.
 * Not available through GObject Introspection, which cannot hand a
 * caller-sized buffer to C to be filled: bindings call
 * bleio_characteristic_buffer_read().
 *
 * Returns: how many bytes were stored (0 when nothing arrived in time), or
 *   -1 with @error set
 */
BLEIO_EXPORT
gssize bleio_characteristic_buffer_readinto (BleioCharacteristicBuffer  *buffer,
                                             guint8                     *data,
                                             gsize                       length,
                                             GError                    **error);

/**
 * bleio_characteristic_buffer_readline:
 * @buffer: a #BleioCharacteristicBuffer
 * @error: return location for a #GError, or %NULL
 *
 * `_bleio.CharacteristicBuffer.readline()`: waits up to the timeout for a
 * newline (0x0a) and returns the bytes up to and including it; when the
 * timeout passes first, returns what is buffered. A line longer than the
 * buffer comes back in pieces of the buffer's size. Blocks.
 *
 * Returns: (transfer full): the line, or %NULL with @error set
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
GBytes *bleio_characteristic_buffer_readline (BleioCharacteristicBuffer  *buffer,
                                              GError                    **error);

/**
 * bleio_characteristic_buffer_get_in_waiting:
 * @buffer: a #BleioCharacteristicBuffer
 *
 * `_bleio.CharacteristicBuffer.in_waiting`. Never blocks.
 *
 * Returns: how many bytes are buffered
 */
BLEIO_EXPORT
gsize bleio_characteristic_buffer_get_in_waiting (BleioCharacteristicBuffer *buffer);

/**
 * bleio_characteristic_buffer_reset_input_buffer:
 * @buffer: a #BleioCharacteristicBuffer
 *
 * `_bleio.CharacteristicBuffer.reset_input_buffer()`: discards what is
 * buffered (not counted as dropped).
 */
BLEIO_EXPORT
void bleio_characteristic_buffer_reset_input_buffer (BleioCharacteristicBuffer *buffer);

/**
 * bleio_characteristic_buffer_get_dropped:
 * @buffer: a #BleioCharacteristicBuffer
 *
 * Counts the bytes lost to a full buffer since it was made.
 *
 * Returns: how many bytes arrived while the buffer was full and were
 *   dropped
 */
BLEIO_EXPORT
guint64 bleio_characteristic_buffer_get_dropped (BleioCharacteristicBuffer *buffer);

/**
 * bleio_characteristic_buffer_get_buffer_size:
 * @buffer: a #BleioCharacteristicBuffer
 *
 * The size given when the buffer was made.
 *
 * Returns: the capacity in bytes
 */
BLEIO_EXPORT
gsize bleio_characteristic_buffer_get_buffer_size (BleioCharacteristicBuffer *buffer);

/**
 * bleio_characteristic_buffer_get_timeout:
 * @buffer: a #BleioCharacteristicBuffer
 *
 * The timeout given when the buffer was made.
 *
 * Returns: seconds a read waits
 */
BLEIO_EXPORT
double bleio_characteristic_buffer_get_timeout (BleioCharacteristicBuffer *buffer);

/**
 * bleio_characteristic_buffer_set_timeout:
 * @buffer: a #BleioCharacteristicBuffer
 * @timeout: seconds a read waits; 0 or less does not wait
 *
 * Changes the read timeout for reads that start after this call. NaN,
 * infinity and anything beyond 49 days (4294967 s) are kept, and each
 * read then fails with %BLEIO_ERROR_INVALID_ARGUMENT until a valid
 * timeout is set: `_bleio`'s buffer has no "wait forever".
 */
BLEIO_EXPORT
void bleio_characteristic_buffer_set_timeout (BleioCharacteristicBuffer *buffer,
                                              double                     timeout);

/**
 * bleio_characteristic_buffer_get_characteristic:
 * @buffer: a #BleioCharacteristicBuffer
 *
 * The characteristic whose notifications fill the buffer: the one it was
 * made on, or, after the peer's database changed and the buffer followed
 * the characteristic to a new object, that object. Every object returned
 * stays valid as long as the buffer.
 *
 * Returns: (transfer none): the characteristic the buffer listens to
 */
BLEIO_EXPORT
BleioCharacteristic *bleio_characteristic_buffer_get_characteristic (BleioCharacteristicBuffer *buffer);

/**
 * bleio_characteristic_buffer_get_notify_acquired:
 * @buffer: a #BleioCharacteristicBuffer
 *
 * Which of BlueZ's two notification paths the buffer uses.
 *
 * Returns: %TRUE when the buffer reads BlueZ's `AcquireNotify` descriptor,
 *   %FALSE when it takes `Value` signals
 */
BLEIO_EXPORT
gboolean bleio_characteristic_buffer_get_notify_acquired (BleioCharacteristicBuffer *buffer);

/**
 * bleio_characteristic_buffer_get_connected:
 * @buffer: a #BleioCharacteristicBuffer
 *
 * Whether the buffer still receives notifications.
 *
 * Returns: %FALSE once the buffer has seen the link go down or was
 *   deinitialised
 */
BLEIO_EXPORT
gboolean bleio_characteristic_buffer_get_connected (BleioCharacteristicBuffer *buffer);

/**
 * bleio_characteristic_buffer_deinit:
 * @buffer: a #BleioCharacteristicBuffer
 *
 * `_bleio.CharacteristicBuffer.deinit()`: stops taking notifications,
 * releases the acquired descriptor and wakes blocked readers. Later reads
 * fail with %BLEIO_ERROR_INVALID_ARGUMENT. Idempotent; dropping the last
 * reference does the same.
 */
BLEIO_EXPORT
void bleio_characteristic_buffer_deinit (BleioCharacteristicBuffer *buffer);

G_END_DECLS
