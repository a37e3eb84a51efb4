/* SPDX-License-Identifier: MIT */
/*
 * What the benchmarks of libbleio against raw GDBus share: a simulator on
 * a private bus per measurement (the test fixture), a connection of its
 * own for each side, scenario files written on the fly, a table printer
 * and, under valgrind, callgrind client requests around the measured work.
 *
 * Every program prints one table: the case, libbleio's figure, raw
 * GDBus's figure from the same run, bleak's and a counting reader's where
 * measured, the libbleio/raw ratio and the goal, and under the rows that
 * have them the CPU per operation of each receiving process. With
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

/* CPU seconds (user + system) this process has used so far, all its
 * threads (getrusage RUSAGE_SELF). The simulator and dbus-daemon are other
 * processes: a difference of two readings is the receiving side's cost. */
double           bench_cpu_now          (void);

/* CPU seconds (user + system) the simulator of @fx has used so far, from
 * /proc; 0 when it cannot be read. */
double           bench_sim_cpu_now      (SimFixture *fx);

/* ---- bleak, the Python library, doing the same work (bleak-bench.py) ---- */

/* One measurement by bleak-bench.py: wall seconds, CPU seconds of the
 * Python process and the operations done. */
typedef struct {
  double seconds;
  double cpu;
  guint count;
} BenchBleak;

/* Runs bleak-bench.py with @args (NULL-terminated) against @fx's bus
 * (DBUS_SYSTEM_BUS_ADDRESS). FALSE when bleak is not installed (said once,
 * with the package to install) or the run failed (its output is printed):
 * the table then has no bleak figure. The interpreter is $BENCH_PYTHON,
 * else /usr/bin/python3 (Debian's, where python3-bleak lives); the script
 * is $BENCH_BLEAK_SCRIPT, else the one next to this file's source. */
gboolean         bench_bleak_run        (SimFixture         *fx,
                                         const char * const *args,
                                         BenchBleak         *out);

/* ---- a counting reader: the simulator's delivery ceiling ---- */

/* A client on a plain socket of @fx's bus that authenticates, says Hello,
 * adds each of @rules (NULL-terminated match rules) and then only counts
 * signal messages, reading the fixed header of each and nothing more:
 * what the simulator and dbus-daemon deliver to a receiver that costs
 * almost nothing. Exits the program on failure. */
typedef struct {
  int fd;
  guint replies;                /* method returns to wait for: Hello's and the rules' */
} BenchCounter;

BenchCounter    *bench_counter_connect  (SimFixture         *fx,
                                         const char * const *rules);

/* Waits for the replies of the AddMatch calls, calls @start (which asks
 * the simulator to send), and counts signals until @count came. Fills
 * @seconds (from @start's call) and @cpu (this process's CPU meanwhile);
 * FALSE when fewer came within BENCH_WAIT_USEC. Frees @counter. */
gboolean         bench_counter_run      (BenchCounter       *counter,
                                         void              (*start) (gpointer data),
                                         gpointer            data,
                                         guint               count,
                                         double             *seconds,
                                         double             *cpu);

/* ---- rows with every side ---- */

/* A figure not measured (bleak not installed, no counter for the case). */
#define BENCH_NONE (-1.0)

typedef struct {
  double lib, raw, bleak, counted;               /* rates or times; BENCH_NONE */
  double lib_cpu, raw_cpu, bleak_cpu, counted_cpu; /* CPU seconds per operation; BENCH_NONE */
} BenchFigures;

/* Sets every field of @f to BENCH_NONE. */
void             bench_figures_init     (BenchFigures *f);

/* One row with the bleak and counting-reader figures beside libbleio's and
 * raw GDBus's, and a second line with the CPU per operation of each
 * receiving process. The ratio and the goal compare libbleio with raw
 * GDBus, as in bench_table_row(). */
void             bench_table_row_full   (const char         *name,
                                         const char         *unit,
                                         const BenchFigures *f,
                                         BenchDirection      direction,
                                         double              goal);

/* Best of several: the highest (rates) or lowest (times) value, leaving
 * out BENCH_NONE; BENCH_NONE when none was measured. */
double           bench_best             (const double   *values,
                                         guint           n,
                                         BenchDirection  direction);

G_END_DECLS
