/* SPDX-License-Identifier: MIT */
/*
 * `_bleio`'s characteristic properties and Attribute security modes as
 * the Flags of BlueZ's GattCharacteristic1 / GattDescriptor1
 * (lib/bleio-local-flags.c): pure, tested in tests/unit/test-local-flags.c;
 * docs/peripheral.md has the table.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-local-flags-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>

G_BEGIN_DECLS

/* The Flags of a characteristic, NULL-terminated (GStrv-like, g_free
 * elements), or NULL with BLEIO_ERROR_INVALID_ARGUMENT or
 * BLEIO_ERROR_NOT_SUPPORTED. */
GPtrArray *bleio_local_characteristic_flags (BleioCharacteristicProperties   properties,
                                             BleioAttributeSecurity          read_perm,
                                             BleioAttributeSecurity          write_perm,
                                             GError                        **error);
/* The Flags of a descriptor, as above. */
GPtrArray *bleio_local_descriptor_flags     (BleioAttributeSecurity          read_perm,
                                             BleioAttributeSecurity          write_perm,
                                             GError                        **error);
/* Whether one of @flags lets a client read (@write FALSE) or write. */
gboolean   bleio_local_flags_allow          (GPtrArray                      *flags,
                                             gboolean                        write);

G_END_DECLS
