/* SPDX-License-Identifier: MIT */
/*
 * What the benchmarks of libbleio against raw GDBus share: a simulator on
 * a private bus per measurement (the test fixture), a connection of its
 * own for each side, scenario files written on the fly, a table printer
 * and, under valgrind, callgrind client requests around the measured work.
 *
 * Every program prints one table: the case, libbleio's figure, raw
 * GDBus's figure from the same run, their ratio, and the goal. With
 * BENCH_TSV=FILE set it also appends each row to FILE as tab-separated
 * values (bench/run makes the docs' figures and plots from those).
 */
#pragma once

#include <bleio/bleio.h>
#include <glib.h>
#include <gio/gio.h>

#include "sim-fixture.h"

G_BEGIN_DECLS

#define BENCH_ADAPTER "/org/bluez/hci0"
#define BENCH_DEVICE1 "org.bluez.Device1"
#define BENCH_CHR1 "org.bluez.GattCharacteristic1"
#define BENCH_PROPS "org.freedesktop.DBus.Properties"
/* Bound on any single wait; never a measured duration. */
#define BENCH_WAIT_USEC (120 * G_USEC_PER_SEC)

typedef enum {
  BENCH_HIGHER_IS_BETTER,       /* rates: ratio = lib / raw, goal is a minimum */
  BENCH_LOWER_IS_BETTER,        /* times, bytes, instructions: ratio = lib / raw, goal is a maximum */
} BenchDirection;

/* Starts the simulator on a private bus with the scenario @json (written to
 * a temporary file), or the demo scenario when @json is NULL. Exits the
 * program with a message on failure: a benchmark without its simulator
 * has nothing to measure. */
SimFixture      *bench_sim_new          (const char *json);

/* A new connection of its own to the fixture's bus. */
GDBusConnection *bench_connection_new   (SimFixture *fx);
/* Closes and unrefs it (so its match rules leave the bus). */
void             bench_connection_free  (GDBusConnection *connection);

/* Calls org.bleio.Sim1.@method; exits on failure. */
void             bench_sim_call         (SimFixture *fx,
                                         const char *method,
                                         GVariant   *params);

/* The first adapter as a BleioAdapter on @connection; exits on failure. */
BleioAdapter    *bench_adapter          (GDBusConnection *connection);

/* Connects the library to @address and discovers; exits on failure. */
BleioConnection *bench_lib_connect      (BleioAdapter *adapter,
                                         const char   *address,
                                         GPtrArray   **services);

/* The BleioCharacteristic with 16-bit UUID @uuid16 among @services. */
BleioCharacteristic *bench_find_characteristic (GPtrArray *services,
                                                guint16    uuid16);

/* Makes sure BlueZ (the simulator) has a Device1 for @address under hci0:
 * discovers briefly from the fixture's own connection when needed. Returns
 * its object path. Exits on failure. */
char            *bench_ensure_device    (SimFixture *fx,
                                         const char *address);

/* The D-Bus object path of a GATT object with 16-bit @uuid16 under
 * @device_path (for raw GDBus); exits when there is none. */
char            *bench_find_gatt_path   (SimFixture *fx,
                                         const char *device_path,
                                         const char *interface,
                                         guint16     uuid16);

/* Spins the thread-default main context until *@flag is set or
 * BENCH_WAIT_USEC passes; returns *@flag. */
gboolean         bench_wait_flag        (const gboolean *flag);

/* Seconds of the monotonic clock. */
double           bench_now              (void);

/* Prints the table's header, titled @title. */
void             bench_table_begin      (const char *title);
/* One row. @goal is a ratio (0: none). */
void             bench_table_row        (const char     *name,
                                         const char     *unit,
                                         double          lib,
                                         double          raw,
                                         BenchDirection  direction,
                                         double          goal);
/* A free-form note under the table (also to the TSV file as a comment). */
void             bench_note             (const char *format,
                                         ...) G_GNUC_PRINTF (1, 2);

/* Under callgrind: zeroes the counters / dumps them as @label; else no-ops.
 * bench/run reads the dumps' totals. */
void             bench_callgrind_zero   (void);
void             bench_callgrind_dump   (const char *label);
gboolean         bench_under_valgrind   (void);

/* Best of several: the highest (rates) or lowest (times) value. */
double           bench_best             (const double   *values,
                                         guint           n,
                                         BenchDirection  direction);

G_END_DECLS
