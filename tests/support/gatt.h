/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the GATT client tests (tests/sim/test-gatt.c and
 * test-buffers.c, tests/quirks/test-quirk-02-09-gatt.c): the library
 * against bleio-sim on the scenario tests/sim/scenarios/gatt.json, whose
 * path is the program's first argument. Each test connects to GattBench afresh and disconnects after.
 */
#pragma once

#include <stdio.h>
#include <string.h>

#include <bleio/bleio.h>
#include "bleio-assert.h"
#include "sim-fixture.h"
#include "proc-figures.h"

#define BENCH_ADDRESS "00:AA:02:00:00:01"
#define BENCH_PATH "/org/bluez/hci0/dev_00_AA_02_00_00_01"
#define BENCH_MTU 100
/* Upper bound of every wait for an event; never a measured duration. */
#define WAIT_MSEC 10000

/* Declaration handles in gatt.json. */
#define H_STREAM 0x0011         /* notify, AcquireNotify allowed */
#define H_NOACQ 0x0014          /* read + notify, AcquireNotify refused */
#define H_RW 0x0017             /* read, write, write-without-response */
#define H_INDICATE 0x001c       /* indicate only */
#define H_READ 0x001f           /* read + broadcast */
#define H_DUP1 0x0021           /* aa06, read + notify, value 01 */
#define H_DUP2 0x0024           /* aa06, read + notify, value 02 */
#define H_WRITE 0x0027          /* write (request) only */
#define H_WNR_NOACQ 0x0029      /* write-without-response + notify, AcquireWrite refused */

typedef struct {
  SimFixture *fx;
  BleioAdapter *adapter;
  BleioConnection *connection;
  BleioService *service;
  GPtrArray *characteristics;
} GattEnv;

extern char *gatt_scenario_path;

void gatt_init (int argc, char **argv);

int gatt_group_setup (void **state);

int gatt_group_teardown (void **state);

BleioCharacteristic *gatt_char (GattEnv *env, guint16 handle);

char *gatt_char_path (guint16 handle);

/* Connects GattBench and finds service 0xaa00. */
int gatt_setup (void **state);

typedef gboolean (*GattCondition) (gpointer user_data);

/* Iterates the thread-default context until @cond holds or @msec pass. */
gboolean gatt_wait (GattCondition cond, gpointer user_data, guint msec);

int gatt_teardown (void **state);

gboolean gatt_sim_bool (GattEnv *env, const char *path, const char *interface,
                        const char *name);

void gatt_notify (GattEnv *env, guint16 handle, const void *data, gsize len);

void gatt_drop_link (GattEnv *env);

/* The characteristic's value as the simulated peripheral holds it (read
 * through another D-Bus client, as another program would). */
GBytes *gatt_sim_read (GattEnv *env, guint16 handle);

void assert_bytes (GBytes *bytes, const void *expected, gsize len);

/* For gatt_wait(): the pointer at @user_data (a gpointer *) is set, as an
 * async callback's result is. */
gboolean gatt_pointer_set (gpointer user_data);

/* For gatt_wait(): @buffer holds at least @n bytes. */
typedef struct {
  BleioCharacteristicBuffer *buffer;
  gsize n;
} GattInWaiting;

gboolean gatt_in_waiting_reached (gpointer user_data);

/* Waits (at most WAIT_MSEC) until @buffer holds at least @n bytes. */
void gatt_wait_in_waiting (BleioCharacteristicBuffer *buffer, gsize n);
