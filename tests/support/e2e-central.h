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

/* bluetoothd goes away and comes back: the guest's restart script (stop
 * with SIGTERM, or SIGKILL when @crash; start; wait for the adapters),
 * org.bleio.Sim1.Restart otherwise (which is always a crash). */
gboolean         e2e_restart_bluez        (gboolean crash,
                                           GError **error);

/* The demo peripheral's UUIDs (tools/bleio-sim/scenarios/demo.json and
 * peripheral.c). */
#define E2E_UUID_HEART_RATE        "0000180d-0000-1000-8000-00805f9b34fb"
#define E2E_UUID_HEART_RATE_MEAS   "00002a37-0000-1000-8000-00805f9b34fb"
#define E2E_UUID_BODY_LOCATION     "00002a38-0000-1000-8000-00805f9b34fb"
#define E2E_UUID_BATTERY           "0000180f-0000-1000-8000-00805f9b34fb"
#define E2E_UUID_BATTERY_LEVEL     "00002a19-0000-1000-8000-00805f9b34fb"
#define E2E_UUID_CUSTOM            "12345678-1234-5678-1234-56789abcdef0"
#define E2E_UUID_CUSTOM_READ       "12345678-1234-5678-1234-56789abcdef1"
#define E2E_UUID_CUSTOM_WRITE      "12345678-1234-5678-1234-56789abcdef2"
#define E2E_UUID_CUSTOM_COMMAND    "12345678-1234-5678-1234-56789abcdef3"
#define E2E_UUID_CUSTOM_COUNTER    "12345678-1234-5678-1234-56789abcdef4"
#define E2E_UUID_CUSTOM_SECRET     "12345678-1234-5678-1234-56789abcdef5"
#define E2E_UUID_CUSTOM_VERSION    "12345678-1234-5678-1234-56789abcdef7"
#define E2E_UUID_USER_DESCRIPTION  "00002901-0000-1000-8000-00805f9b34fb"
#define E2E_UUID_CCCD              "00002902-0000-1000-8000-00805f9b34fb"

/* The first characteristic @char_uuid of the first service @service_uuid,
 * found through bleio_connection_discover_remote_services(); a new
 * reference, or NULL with @error set. */
BleioCharacteristic *e2e_find_characteristic (BleioConnection *connection,
                                              const char      *service_uuid,
                                              const char      *char_uuid,
                                              GError         **error);

/* The descriptor @uuid of @characteristic (a new reference), or NULL with
 * @error set. */
BleioDescriptor *e2e_find_descriptor      (BleioCharacteristic *characteristic,
                                           const char          *uuid,
                                           GError             **error);

/* Another D-Bus client of BlueZ (its own bus connection) subscribes to
 * @characteristic with StartNotify, as a second application would. While
 * it holds the session, bluetoothd refuses AcquireNotify (InProgress) and
 * libbleio falls back to Value signals. Unref the connection to end it. */
GDBusConnection *e2e_other_client_start_notify (BleioCharacteristic *characteristic,
                                                GError             **error);

/* What the peripheral itself holds as @characteristic's value, whatever
 * its flags allow the central: in the guest, a ReadValue on the test
 * peripheral's own GATT object (its bus name is in the ready file); under
 * the simulator, which keeps no such view, NULL and NOT_SUPPORTED. */
GBytes          *e2e_peer_value           (BleioCharacteristic *characteristic,
                                           GError             **error);

/* The peer's GATT database changes under the live link to the demo
 * peripheral's second version (peripheral.c's services_v2: the custom
 * service loses "Read me", E2E_UUID_CUSTOM_READ, and gains "Version",
 * E2E_UUID_CUSTOM_VERSION, before the others): in the guest the test
 * peripheral unregisters its application and registers the second
 * version (bluetoothd sends Service Changed), returning once it is
 * registered; under the simulator org.bleio.Sim1.ReplaceGatt with the
 * objects the guest shows after it (E2E_DEMO_GATT_V2). */
gboolean         e2e_peer_change_database (BleioConnection *connection,
                                           GError         **error);

/* How many WriteValue calls reached the simulator for @characteristic
 * (org.bleio.Sim1.GetCalls); -1 and NOT_SUPPORTED in the guest. */
gint             e2e_sim_write_calls      (BleioCharacteristic *characteristic,
                                           GError             **error);

/* For the tests in which libbleio is the peripheral on hci1: starts
 * bleio-e2e-agent (tests/e2e/agent.c; $BLEIO_TEST_AGENT, else the one
 * beside the running test program), an agent that accepts every pairing
 * request, and returns once bluetoothd made it the default agent. A
 * bluetoothd 5.82 central pairs with a 5.82 peripheral for EATT, and
 * without an agent that says yes on the peripheral's side the link drops.
 * Fails the test when it cannot. e2e_agent_stop() ends it (NULL: nothing). */
GSubprocess     *e2e_agent_start          (void);
void             e2e_agent_stop           (GSubprocess *agent);

/* bytes as lower-case hex, for messages. */
char            *e2e_hex                  (GBytes *bytes);

/* Counts BleioConnection::disconnected and keeps the last reason. */
typedef struct {
  guint count;
  BleioDisconnectReason reason;
} E2eDisconnects;

void             e2e_watch_disconnects    (BleioConnection *connection,
                                           E2eDisconnects  *record);

/* The start of the disconnect and restart cases: the central adapter
 * (in *@adapter_out) and a connection to the peripheral whose
 * disconnects @record counts; fails the test when either is missing. */
BleioConnection *e2e_connect_watched      (BleioAdapter  **adapter_out,
                                           E2eDisconnects *record);

/* Iterates the default main context until @record saw a disconnect or
 * @timeout_msec passed. */
gboolean         e2e_wait_disconnected    (E2eDisconnects *record,
                                           guint           timeout_msec);

/* The group fixture of the tests that share one connection to the
 * peripheral for all their cases (read, write, notify): connecting once
 * keeps the group inside its time bound in the guest, where a connect can
 * take several attempts. */
typedef struct {
  BleioAdapter *adapter;
  BleioConnection *connection;
} E2eFixture;

/* cmocka group setup: the central adapter and a connection to the
 * peripheral in a new E2eFixture; fails the group when either is missing. */
int              e2e_fixture_setup        (void **state);

/* cmocka group teardown: disconnects (a failure is only printed, the cases
 * have run by then) and frees the fixture. */
int              e2e_fixture_teardown     (void **state);

/* e2e_find_characteristic() on the fixture's connection that fails the
 * test instead of returning NULL; a new reference. */
BleioCharacteristic *e2e_fixture_find     (E2eFixture *f,
                                           const char *service_uuid,
                                           const char *char_uuid);

G_END_DECLS
