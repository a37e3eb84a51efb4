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
 * SECTION:bleio-local-acquire
 * @title: Acquired sockets of local characteristics
 *
 * BlueZ's fast path for a local characteristic: when its object shows
 * `NotifyAcquired`, bluetoothd calls `AcquireNotify` instead of
 * `StartNotify` when the first client subscribes, and each value the
 * application sets goes to the clients through the socket it was handed
 * (no D-Bus message per notification); when its object shows
 * `WriteAcquired`, bluetoothd calls `AcquireWrite` at the first client
 * write and sends every later write through a socket. Without them (the
 * default) notifications go out as `PropertiesChanged` of `Value` and
 * writes come as `WriteValue` calls. Both are served the same way to the
 * application: #BleioCharacteristic::written, the buffers, and
 * bleio_characteristic_write_value().
 */

/**
 * bleio_characteristic_set_acquired:
 * @characteristic: a local #BleioCharacteristic
 * @notify: %TRUE to offer `AcquireNotify` (needs NOTIFY or INDICATE)
 * @write: %TRUE to offer `AcquireWrite` (needs WRITE or
 *   WRITE_NO_RESPONSE)
 * @error: return location for a #GError, or %NULL
 *
 * Chooses the delivery paths bluetoothd uses for @characteristic (see
 * the section above). bluetoothd reads them when it registers the
 * application: when the adapter's services are published already, the
 * application is registered again (as when a service is added).
 *
 * Through the write socket bluetoothd answers the client before the
 * library sees the write, so a write longer than the characteristic's
 * `max_length` (or of another length when `fixed_length`) cannot be
 * refused: it is left out, the value is kept. A long write (with
 * offsets) arrives as its parts, each taken as a whole value. Offer
 * @write for characteristics whose clients write whole packets.
 *
 * Fails with %BLEIO_ERROR_ROLE for a peer's characteristic, with
 * %BLEIO_ERROR_INVALID_ARGUMENT when the properties do not allow what is
 * asked.
 *
 * Returns: %TRUE when set
 *
 * Since: 0.4
 */
BLEIO_EXPORT
gboolean bleio_characteristic_set_acquired (BleioCharacteristic  *characteristic,
                                            gboolean              notify,
                                            gboolean              write,
                                            GError              **error);

/**
 * bleio_characteristic_get_notify_acquired:
 * @characteristic: a local #BleioCharacteristic
 *
 * Whether bluetoothd holds the acquired notify socket of @characteristic
 * now: a client subscribed through `AcquireNotify`, and values set go
 * out through the socket. Never blocks.
 *
 * Returns: %TRUE while the socket is held; %FALSE for a peer's
 *   characteristic
 *
 * Since: 0.4
 */
BLEIO_EXPORT
gboolean bleio_characteristic_get_notify_acquired (BleioCharacteristic *characteristic);

G_END_DECLS
