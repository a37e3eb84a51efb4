/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the central-role tests (test-adapter.c, test-scan.c,
 * test-connection.c, ...): the library against bleio-sim through the
 * fixture's private bus.
 */
#pragma once

#include <string.h>

#include <bleio/bleio.h>
#include "bleio-assert.h"
#include "sim-fixture.h"

#define DEMO_NAME "InterestingPeripheral"
#define HCI0 "/org/bluez/hci0"
/* Upper bound of every wait for an event; never a measured duration. */
#define WAIT_MSEC 10000

/* The "gatt" member of a peripheral's JSON (common_add()) with two
 * services, the battery one and a custom one, each with one readable
 * characteristic: enough for "services resolved" to mean something. */
#define TWO_SERVICES \
  "\"gatt\": [" \
  " {\"uuid\": \"180f\", \"characteristics\": [{\"uuid\": \"2a19\", \"flags\": [\"read\"], \"value\": \"50\"}]}," \
  " {\"uuid\": \"12345678-1234-5678-1234-56789abcdef0\", \"characteristics\":" \
  "   [{\"uuid\": \"12345678-1234-5678-1234-56789abcdef1\", \"flags\": [\"read\", \"write\"], \"value\": \"00\"}]}]"

typedef gboolean (*CommonCondition) (gpointer user_data);

/* Iterates the thread-default context (without blocking in it) until
 * @cond holds or @msec pass; returns the last value of @cond. */
gboolean common_wait (CommonCondition cond, gpointer user_data, guint msec);

BleioAdapter *common_adapter (SimFixture *fx, const char *name);

BleioAddress *common_address (const char *text);

/* Scans until an entry whose complete name is @name shows up; returns its
 * address, or NULL after @msec. The scan is stopped either way. */
BleioAddress *common_scan_for (BleioAdapter *adapter, const char *name,
                               guint msec);

/* Adds a peripheral from JSON to hci0 and returns its BlueZ object path. */
char *common_add (SimFixture *fx, const char *json);

/* ---- group fixture ---- */

/* What the tests that run all their cases against one simulator and hci0's
 * adapter share (tests/sim/test-pair.c, tests/quirks/test-quirk-01-*.c,
 * tests/security): set up once per program, since starting bleio-sim is
 * the slow part. */
typedef struct {
  SimFixture *fx;
  BleioAdapter *adapter;
} CommonGroup;

/* A fresh simulator in *@fx and its hci0 in *@adapter; FALSE, said on
 * stderr, when the simulator does not start. For group setups, including
 * those that keep more than a CommonGroup. */
gboolean common_start (SimFixture **fx, BleioAdapter **adapter);

/* cmocka group setup: a fresh simulator and its hci0. */
int common_group_setup (void **state);

int common_group_teardown (void **state);

/* The same, with the scenario's demo peripheral (DEMO_NAME) scanned for
 * once, so that every case can connect to it (tests/sim/test-connection.c,
 * test-timeouts.c). */
typedef struct {
  SimFixture *fx;
  BleioAdapter *adapter;
  BleioAddress *demo;
} CommonDemoGroup;

int common_demo_group_setup (void **state);

int common_demo_group_teardown (void **state);

/* Adds the peripheral @json (at @address) to hci0 and connects to it
 * through the library; the peripheral's object path in @path_out, for
 * common_disconnect_remove(). */
BleioConnection *common_add_and_connect (CommonGroup *g, const char *address,
                                         const char *json, char **path_out);

/* Ends what common_add_and_connect() made: disconnects (which must work),
 * drops @connection, removes the peripheral and frees @path, so that the
 * next case starts from an adapter with no link and no such device. */
void common_disconnect_remove (CommonGroup *g, BleioConnection *connection,
                               char *path);

/* The pairing callbacks of test-pair.c and tests/security: they count
 * their calls and keep the last passkey shown or asked to confirm and the
 * thread they ran on; request gives @passkey_to_give. Request and confirm
 * answer yes unless @refuse. libbleio runs them on its worker thread
 * while the test's thread may look: every field is an atomic. */
typedef struct {
  gint confirm_calls;
  gint request_calls;
  gint display_calls;
  gint passkey_seen;
  gint passkey_to_give;
  gint refuse;
  gpointer thread;
} PairCallbacks;

void common_on_display (const BleioAddress *peer, guint32 passkey,
                        guint16 entered, gpointer user_data);

gboolean common_on_request (const BleioAddress *peer, guint32 *passkey,
                            gpointer user_data);

gboolean common_on_confirm (const BleioAddress *peer, guint32 passkey,
                            gpointer user_data);

gboolean common_sim_bool (SimFixture *fx, const char *path,
                          const char *interface, const char *name);

/* Takes entries from @results for up to @msec; returns how many had the
 * complete name @name (NULL: any), and the total in *@total. */
guint common_drain_named (BleioScanResults *results, const char *name,
                          guint msec, guint *total);

/* One bleio_adapter_connect_async() and what it finished with:
 * common_connected() is its callback, common_connect_done() the condition
 * for common_wait(). */
typedef struct {
  BleioConnection *connection;
  GError *error;
  gboolean done;
  GThread *thread;              /* where the callback ran */
} CommonConnect;

void common_connected (GObject *source, GAsyncResult *result, gpointer user_data);

gboolean common_connect_done (gpointer user_data);

typedef struct {
  gboolean fired;
  BleioDisconnectReason reason;
  GThread *thread;
} Disconnected;

void common_on_disconnected (BleioConnection *connection,
                             BleioDisconnectReason reason, gpointer user_data);

gboolean common_disconnected_fired (gpointer user_data);

gboolean common_not_connected (gpointer user_data);

/* Every member but connected/disconnect fails with CONNECTION. */
void common_assert_spent (BleioConnection *connection);

/* For common_wait(): @adapter lists a connection on @path, which is
 * then referenced in @found. */
typedef struct {
  BleioAdapter *adapter;
  const char *path;
  BleioConnection *found;
} LinkWait;

gboolean link_listed (gpointer user_data);

/* Another program connects the peripheral (through the fixture's own
 * connection, not waiting for the reply, which bluetoothd sends once the
 * services are resolved); we pick the link up from the adapter. */
BleioConnection *common_link_made_elsewhere (SimFixture *fx,
                                             BleioAdapter *adapter,
                                             const char *address,
                                             const char *extra_json,
                                             char **path_out);
