/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the hostile-BlueZ tests: each test gets a fresh private bus
 * and simulator on hostile.json (so no hostile state and no library cache
 * outlives it), spoils some of the simulator's answers through
 * org.bleio.Sim1.SetHostile, drives the library's public API into them and
 * checks the outcome.
 */
#pragma once

#include <string.h>

#include <bleio/bleio.h>
#include "bleio-assert.h"
#include "sim-fixture.h"

#define HOSTILE_NAME "Hostile"
#define HOSTILE_ADDRESS "00:AA:05:00:00:01"
#define HCI0 "/org/bluez/hci0"
#define DEV HCI0 "/dev_00_AA_05_00_00_01"
#define BATTERY_SERVICE DEV "/service0010"
#define BATTERY_CHAR BATTERY_SERVICE "/char0011"
#define CUSTOM_SERVICE DEV "/service0020"
#define CUSTOM_CHAR CUSTOM_SERVICE "/char0021"
#define IFACE_DEVICE "org.bluez.Device1"
#define IFACE_SERVICE "org.bluez.GattService1"
#define IFACE_CHAR "org.bluez.GattCharacteristic1"
#define IFACE_DESC "org.bluez.GattDescriptor1"
/* Upper bound of every wait; never a measured duration. */
#define WAIT_MSEC 20000

typedef struct {
  SimFixture *fx;
  BleioAdapter *adapter;
} Hostile;

int hostile_setup (void **state);

int hostile_teardown (void **state);

/* Every hostile case runs on a fresh simulator (hostile_setup). */
#define HOSTILE_TEST(f) cmocka_unit_test_setup_teardown (f, hostile_setup, hostile_teardown)

/* main() of each hostile program: runs @tests (named "tests", as
 * cmocka_run_group_tests() would name the array), or with an argument
 * only the cases that cmocka filter matches, to run one by hand. */
int hostile_run_tests (const struct CMUnitTest *tests, gsize n_tests,
                       int argc, char **argv);

/* @path's @interface.@name shows @value (any type) from now on, announced
 * by a PropertiesChanged, as bluetoothd would change a property. */
void hostile_property (Hostile *h, const char *path, const char *interface,
                       const char *name, GVariant *value);

/* The same without PropertiesChanged: the value shows only in the
 * object's next InterfacesAdded and in GetManagedObjects. */
void hostile_property_quiet (Hostile *h, const char *path,
                             const char *interface, const char *name,
                             GVariant *value);

/* @path's @interface.@name is left out of what the bus shows from now
 * on, announced as invalidated. */
void hostile_hide (Hostile *h, const char *path, const char *interface,
                   const char *name);

/* org.bluez emits @interface.@member on @path with @args (a tuple or NULL;
 * consumed if floating). */
void hostile_signal (Hostile *h, const char *path, const char *interface,
                     const char *member, GVariant *args);

/* ObjectManager.@member (InterfacesAdded, InterfacesRemoved) on "/" from
 * org.bluez, with @args as hostile_signal() takes them. */
void hostile_object_manager_signal (Hostile *h, const char *member,
                                    GVariant *args);

/* PropertiesChanged(@interface, {@name: @value}, []) on @path from org.bluez. */
void hostile_changed (Hostile *h, const char *path, const char *interface,
                      const char *name, GVariant *value);

/* The next call of @method (on @path, or any when NULL) is answered with
 * @body (a tuple, consumed if floating; NULL: no arguments at all). */
void hostile_reply (Hostile *h, const char *method, const char *path,
                    GVariant *body);

/* Objects (a{oa{sa{sv}}}, consumed if floating) added to GetManagedObjects,
 * each announced with InterfacesAdded when @announce. */
void hostile_objects (Hostile *h, GVariant *objects, gboolean announce);

/* The next AcquireNotify is answered the @mode way (see the simulator's
 * README): "no-fd", "bad-index", "not-socket", "closed", "oversized". */
void hostile_acquire (Hostile *h, const char *mode, guint mtu, guint size,
                      guint packets);

/* The next AcquireWrite is answered the @mode way: "no-fd", "bad-index",
 * "closed" (see the simulator's README). */
void hostile_acquire_write (Hostile *h, const char *mode);

BleioAdapter *hostile_adapter (Hostile *h);

/* Scans (with @buffer_size) for at most @msec and returns the first entry
 * from @address, or NULL; every other entry is dropped. When @dropped is
 * not NULL the scan also ends at the first entry the buffer had to drop,
 * and *dropped gets the results' dropped count. */
BleioScanEntry *hostile_scan_full (Hostile *h, const char *address,
                                   guint msec, gsize buffer_size,
                                   guint *dropped);

BleioScanEntry *hostile_scan_for (Hostile *h, const char *address, guint msec);

BleioAddress *hostile_address (void);

BleioConnection *hostile_connect (Hostile *h);

/* discover_remote_services with no whitelist; asserts success. */
GPtrArray *hostile_discover (BleioConnection *connection);

/* The characteristic of @uuid16 (0 = the custom 128-bit one) among
 * @services, with a new reference; fails the test when absent. */
BleioCharacteristic *hostile_find_char (GPtrArray *services,
                                        const char *object_path);

/* Runs the thread-default context for @msec: time for signals sent before
 * to reach the library (an upper bound on nothing; tests assert the state
 * after it, not its duration). */
void hostile_settle (guint msec);

/* Waits (up to the bound) until the library reports @connection lost. */
void hostile_wait_disconnected (BleioConnection *connection);

/* A round trip through the simulator: every signal it sent before has
 * been delivered to our connection once this returns. */
void hostile_sync (Hostile *h);

/* ClearHostile(): the simulator answers honestly again. */
void hostile_clear (Hostile *h);

/* Scans until an entry from the peripheral arrives; fails the test if none
 * does. */
BleioScanEntry *scan_expect (Hostile *h);

gsize adv_len (BleioScanEntry *entry);

/* The advertisement the library rebuilt must be well-formed AD data. */
void assert_adv_valid (BleioScanEntry *entry);

/* The AD field of @type in @entry's advertisement, or NULL. */
GBytes *adv_field (BleioScanEntry *entry, guint8 type);
