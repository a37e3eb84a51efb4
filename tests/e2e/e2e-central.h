/* SPDX-License-Identifier: MIT */
/*
 * Helpers for tests that use libbleio's public API as the central and run
 * unchanged against real bluetoothd (the e2e guest) and against bleio-sim
 * (`bleio-sim run -- TEST`, the sim suite). Everything they need comes from
 * the environment:
 *
 *   DBUS_SYSTEM_BUS_ADDRESS      the bus BlueZ (or the simulator) is on
 *   BLEIO_TEST_ADAPTER           central adapter, default hci0
 *   BLEIO_TEST_PERIPHERAL_NAME   default InterestingPeripheral
 *   BLEIO_TEST_TARGET            "e2e" in the guest; anything else means
 *                                the simulator
 *   BLEIO_TEST_PERIPHERAL_ADAPTER, BLEIO_TEST_RESTART_BLUEZ   e2e only
 *
 * What the peer does (dropping the link, bluetoothd restarting) is done the
 * way each target allows: through the peripheral adapter's Device1 and a
 * real bluetoothd restart in the guest, through org.bleio.Sim1 otherwise.
 */
#pragma once

#include <bleio/bleio.h>

#include "e2e-gdbus.h"

G_BEGIN_DECLS

/* Seconds to scan for the peripheral before giving up. */
#define E2E_SCAN_SECONDS 20.0

gboolean         e2e_target_is_real_bluez (void);

/* The central adapter, powered on. */
BleioAdapter    *e2e_central_adapter      (GError **error);

/* Scans until an advertisement with the peripheral's complete name shows
 * up; its address, or NULL with @error set. */
BleioAddress    *e2e_find_peripheral      (BleioAdapter *adapter,
                                           GError      **error);

/* bleio_adapter_connect() with the seed's 10 s timeout. In the e2e guest a
 * timed-out attempt is tried again, at most E2E_CONNECT_ATTEMPTS in all,
 * saying so on stderr: bluetoothd 5.66 under TCG sometimes never answers
 * Device1.Connect (it logs "Device ... is already connected"; README.md).
 * Against the simulator there is one attempt. */
#define E2E_CONNECT_ATTEMPTS 3
BleioConnection *e2e_connect              (BleioAdapter       *adapter,
                                           const BleioAddress *address,
                                           GError            **error);

/* Finds and connects to the peripheral with e2e_connect(). */
BleioConnection *e2e_connect_peripheral   (BleioAdapter *adapter,
                                           GError      **error);

/* The peer ends the link: the peripheral adapter's Device1.Disconnect in
 * the guest, org.bleio.Sim1.DropLink on the simulator. */
gboolean         e2e_peer_disconnect      (BleioConnection *connection,
                                           GError         **error);

/* bluetoothd goes away and comes back: the guest's restart script (kill,
 * start, wait for the adapters), org.bleio.Sim1.Restart otherwise. */
gboolean         e2e_restart_bluez        (GError **error);

/* Counts BleioConnection::disconnected and keeps the last reason. */
typedef struct {
  guint count;
  BleioDisconnectReason reason;
} E2eDisconnects;

void             e2e_watch_disconnects    (BleioConnection *connection,
                                           E2eDisconnects  *record);

/* Iterates the default main context until @record saw a disconnect or
 * @timeout_msec passed. */
gboolean         e2e_wait_disconnected    (E2eDisconnects *record,
                                           guint           timeout_msec);

G_END_DECLS
