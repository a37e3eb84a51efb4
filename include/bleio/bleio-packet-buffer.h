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
 * BleioPacketBuffer:
 *
 * `_bleio.PacketBuffer`: whole packets in and out of one characteristic.
 *
 * In: the constructor subscribes. When the characteristic allows it the
 * buffer takes BlueZ's `AcquireNotify` file descriptor (one notification
 * per packet); otherwise it calls `StartNotify` (notify preferred, else
 * indicate) and takes the `Value` changes BlueZ signals. A zero-length
 * notification is a packet. When the buffer holds @buffer_size packets
 * the oldest is dropped to make room and counted in
 * bleio_packet_buffer_get_dropped().
 *
 * Out: a write without response through BlueZ's `AcquireWrite` descriptor
 * when the characteristic allows it, else `WriteValue` (without response
 * when allowed, else a write request).
 *
 * After the link is lost, packets already buffered can still be read;
 * then reads fail with %BLEIO_ERROR_CONNECTION and writes return 0. A
 * #BleioConnection is spent once its link is down, so the buffer never
 * resubscribes: make a new one on the new connection. When the peer's
 * GATT database changes while connected, the rule of
 * #BleioCharacteristicBuffer holds for a buffer on a characteristic that
 * can notify or indicate: it goes on where bluetoothd kept the
 * characteristic; it follows the characteristic to its new object where
 * the peer has it at the same place (same service UUID, characteristic
 * UUID and rank among same-UUID siblings), subscribing there as it had
 * and, when it wrote through an AcquireWrite descriptor, acquiring a new
 * one (writes go through WriteValue until it is there); otherwise it
 * reads what it holds, then fails with %BLEIO_ERROR_DOES_NOT_EXIST and
 * writes return 0. A buffer on a characteristic that can only be written
 * does not follow it: its writes return 0 once the characteristic is
 * gone; discover the services again and make a new buffer.
 *
 * The buffer is fed on libbleio's worker thread; every function is safe
 * from any thread. `_async` functions complete in the thread-default main
 * context of their caller.
 */
#define BLEIO_TYPE_PACKET_BUFFER (bleio_packet_buffer_get_type ())
BLEIO_EXPORT
G_DECLARE_FINAL_TYPE (BleioPacketBuffer, bleio_packet_buffer, BLEIO, PACKET_BUFFER, GObject)

/**
 * bleio_packet_buffer_new_async:
 * @characteristic: a #BleioCharacteristic
 * @buffer_size: how many incoming packets the buffer holds; at least 1
 * @max_packet_size: a bound on both packet lengths, or 0 for none
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * Makes a packet buffer on @characteristic and subscribes to it when it
 * can notify or indicate. Fails with %BLEIO_ERROR_CONNECTION when the link
 * is down, with %BLEIO_ERROR_NOT_SUPPORTED when the characteristic can
 * neither notify, indicate nor be written. Finish with
 * bleio_packet_buffer_new_finish(); the blocking twin is
 * bleio_packet_buffer_new().
 */
BLEIO_EXPORT
void bleio_packet_buffer_new_async (BleioCharacteristic *characteristic,
                                    gsize                buffer_size,
                                    gsize                max_packet_size,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data);

/**
 * bleio_packet_buffer_new_finish:
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_packet_buffer_new_async().
 *
 * Returns: (transfer full): the buffer, or %NULL with @error set
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioPacketBuffer *bleio_packet_buffer_new_finish (GAsyncResult  *result,
                                                   GError       **error);

/**
 * bleio_packet_buffer_new:
 * @characteristic: a #BleioCharacteristic
 * @buffer_size: how many incoming packets the buffer holds; at least 1
 * @max_packet_size: a bound on both packet lengths, or 0 for none
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_packet_buffer_new_async(); safe from any thread.
 *
 * Returns: (transfer full): the buffer, or %NULL with @error set
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
BleioPacketBuffer *bleio_packet_buffer_new (BleioCharacteristic  *characteristic,
                                            gsize                 buffer_size,
                                            gsize                 max_packet_size,
                                            GError              **error);

/**
 * bleio_packet_buffer_readinto: (skip)
 * @buffer: a #BleioPacketBuffer
 * @data: (out caller-allocates) (array length=length) (element-type guint8):
 *   where the packet goes
 * @length: the size of @data
 * @error: return location for a #GError, or %NULL
 *
 * `_bleio.PacketBuffer.readinto()`: takes the oldest packet, without
 * waiting. A packet longer than @length is dropped and the call fails with
 * %BLEIO_ERROR_INVALID_ARGUMENT ("Buffer too short by N bytes"). Returns 0
 * both when nothing is buffered and for a zero-length packet; use
 * bleio_packet_buffer_read_packet() to tell them apart. Not available
 * through GObject Introspection, which cannot hand a caller-sized buffer to
 * C to be filled: bindings call bleio_packet_buffer_read_packet().
 *
 * Returns: the packet's length, or -1 with @error set
 */
BLEIO_EXPORT
gssize bleio_packet_buffer_readinto (BleioPacketBuffer  *buffer,
                                     guint8             *data,
                                     gsize               length,
                                     GError            **error);

/**
 * bleio_packet_buffer_read_packet:
 * @buffer: a #BleioPacketBuffer
 * @error: return location for a #GError, or %NULL
 *
 * Takes the oldest packet, without waiting.
 *
 * Returns: (transfer full) (nullable): the packet (possibly empty), or
 *   %NULL when none is buffered (@error unset) or on error (@error set)
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
GBytes *bleio_packet_buffer_read_packet (BleioPacketBuffer  *buffer,
                                         GError            **error);

/**
 * bleio_packet_buffer_write_async:
 * @buffer: a #BleioPacketBuffer
 * @data: the packet's payload
 * @header: (nullable): bytes sent before @data in the same packet
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * `_bleio.PacketBuffer.write()`: sends @header then @data as one packet.
 * Longer than bleio_packet_buffer_get_outgoing_packet_length() fails with
 * %BLEIO_ERROR_INVALID_ARGUMENT. Finish with
 * bleio_packet_buffer_write_finish(); the blocking twin is
 * bleio_packet_buffer_write().
 */
BLEIO_EXPORT
void bleio_packet_buffer_write_async (BleioPacketBuffer   *buffer,
                                      GBytes              *data,
                                      GBytes              *header,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data);

/**
 * bleio_packet_buffer_write_finish:
 * @buffer: a #BleioPacketBuffer
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes bleio_packet_buffer_write_async().
 *
 * Returns: the bytes sent, header included; 0 when the link is down; -1
 *   with @error set
 */
BLEIO_EXPORT
gssize bleio_packet_buffer_write_finish (BleioPacketBuffer  *buffer,
                                         GAsyncResult       *result,
                                         GError            **error);

/**
 * bleio_packet_buffer_write:
 * @buffer: a #BleioPacketBuffer
 * @data: (array length=length) (element-type guint8): the payload
 * @length: the length of @data
 * @header: (nullable) (array length=header_length) (element-type guint8):
 *   bytes sent before @data in the same packet
 * @header_length: the length of @header
 * @error: return location for a #GError, or %NULL
 *
 * Blocking twin of bleio_packet_buffer_write_async(); safe from any
 * thread.
 *
 * Returns: the bytes sent, header included; 0 when the link is down; -1
 *   with @error set
 */
BLEIO_EXPORT
gssize bleio_packet_buffer_write (BleioPacketBuffer  *buffer,
                                  const guint8       *data,
                                  gsize               length,
                                  const guint8       *header,
                                  gsize               header_length,
                                  GError            **error);

/**
 * bleio_packet_buffer_get_incoming_packet_length:
 * @buffer: a #BleioPacketBuffer
 *
 * `_bleio.PacketBuffer.incoming_packet_length`: ATT MTU - 3, bounded by
 * the max_packet_size given at construction.
 *
 * Returns: the longest packet the peer can send, or 0 when the
 *   characteristic can neither notify nor indicate
 */
BLEIO_EXPORT
gsize bleio_packet_buffer_get_incoming_packet_length (BleioPacketBuffer *buffer);

/**
 * bleio_packet_buffer_get_outgoing_packet_length:
 * @buffer: a #BleioPacketBuffer
 *
 * `_bleio.PacketBuffer.outgoing_packet_length`: ATT MTU - 3 (the MTU of
 * the `AcquireWrite` descriptor when one is used), bounded by the
 * max_packet_size given at construction.
 *
 * Returns: the longest packet bleio_packet_buffer_write() sends, or 0 when
 *   the characteristic cannot be written
 */
BLEIO_EXPORT
gsize bleio_packet_buffer_get_outgoing_packet_length (BleioPacketBuffer *buffer);

/**
 * bleio_packet_buffer_get_packets_waiting:
 * @buffer: a #BleioPacketBuffer
 *
 * Packets that arrived and were not read yet.
 *
 * Returns: how many packets are buffered
 */
BLEIO_EXPORT
gsize bleio_packet_buffer_get_packets_waiting (BleioPacketBuffer *buffer);

/**
 * bleio_packet_buffer_get_dropped:
 * @buffer: a #BleioPacketBuffer
 *
 * Counts the packets lost since the buffer was made.
 *
 * Returns: how many packets were dropped, because the buffer was full or a
 *   readinto buffer was too short
 */
BLEIO_EXPORT
guint64 bleio_packet_buffer_get_dropped (BleioPacketBuffer *buffer);

/**
 * bleio_packet_buffer_get_buffer_size:
 * @buffer: a #BleioPacketBuffer
 *
 * The number of packets given when the buffer was made.
 *
 * Returns: the capacity in packets
 */
BLEIO_EXPORT
gsize bleio_packet_buffer_get_buffer_size (BleioPacketBuffer *buffer);

/**
 * bleio_packet_buffer_get_characteristic:
 * @buffer: a #BleioPacketBuffer
 *
 * The characteristic the buffer reads from and writes to: the one it was
 * made on, or, after the peer's database changed and the buffer followed
 * the characteristic to a new object (see #BleioPacketBuffer), that
 * object. Every object returned stays valid as long as the buffer.
 *
 * Returns: (transfer none): the characteristic of the buffer
 */
BLEIO_EXPORT
BleioCharacteristic *bleio_packet_buffer_get_characteristic (BleioPacketBuffer *buffer);

/**
 * bleio_packet_buffer_get_notify_acquired:
 * @buffer: a #BleioPacketBuffer
 *
 * Which of BlueZ's two notification paths the buffer uses.
 *
 * Returns: %TRUE when incoming packets come through BlueZ's
 *   `AcquireNotify` descriptor
 */
BLEIO_EXPORT
gboolean bleio_packet_buffer_get_notify_acquired (BleioPacketBuffer *buffer);

/**
 * bleio_packet_buffer_get_write_acquired:
 * @buffer: a #BleioPacketBuffer
 *
 * Which of BlueZ's two write paths the buffer uses.
 *
 * Returns: %TRUE when outgoing packets go through BlueZ's `AcquireWrite`
 *   descriptor
 */
BLEIO_EXPORT
gboolean bleio_packet_buffer_get_write_acquired (BleioPacketBuffer *buffer);

/**
 * bleio_packet_buffer_get_connected:
 * @buffer: a #BleioPacketBuffer
 *
 * Whether the buffer can still send and receive.
 *
 * Returns: %FALSE once the buffer has seen the link go down or was
 *   deinitialised
 */
BLEIO_EXPORT
gboolean bleio_packet_buffer_get_connected (BleioPacketBuffer *buffer);

/**
 * bleio_packet_buffer_deinit:
 * @buffer: a #BleioPacketBuffer
 *
 * `_bleio.PacketBuffer.deinit()`: unsubscribes, releases the acquired
 * descriptors; later reads and writes fail with
 * %BLEIO_ERROR_INVALID_ARGUMENT, and so does a write that another thread
 * has blocked on the `AcquireWrite` descriptor meanwhile (it returns at
 * once; the descriptor is closed once no write uses it). Idempotent;
 * dropping the last reference does the same.
 */
BLEIO_EXPORT
void bleio_packet_buffer_deinit (BleioPacketBuffer *buffer);

G_END_DECLS
