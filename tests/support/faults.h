/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the fault-injection tests (tests/faults): every test gets a
 * bus and simulator of its own (tests/faults/faults.json), injects one
 * fault while one library operation is in flight, checks the error the
 * operation reports, that its callback ran exactly once, and that the
 * library works again afterwards in the same process (a scan finds the
 * peer, a new connect and a read succeed).
 */
#pragma once

#include "central.h"

#define FAULT_PEER "FaultPeer"
#define FAULT_ADDRESS "00:AA:03:00:00:01"
#define FAULT_PATH "/org/bluez/hci0/dev_00_AA_03_00_00_01"
#define SLOW_PEER "SlowPeer"
#define SLOW_ADDRESS "00:AA:03:00:00:02"
#define SLOW_PATH "/org/bluez/hci0/dev_00_AA_03_00_00_02"
/* How long a polite Restart keeps org.bluez away. */
#define RESTART_DOWN_MSEC 300
/* After a callback fired: how long we keep iterating to see it fire twice. */
#define SETTLE_MSEC 300

typedef enum {
  FAULT_RESTART,        /* org.bleio.Sim1.Restart: name and objects go, come back */
  FAULT_CRASH,          /* SIGKILL of the simulator, a new one on the same bus */
  FAULT_DROP,           /* org.bleio.Sim1.DropLink: the peer vanishes */
} FaultKind;

extern const char *faults_scenario;
extern FaultKind fault_kind;

typedef struct {
  SimFixture *fx;
  BleioAdapter *adapter;
  gpointer adapter_weak;        /* NULL once the adapter is finalized */
} Env;

const char *fault_name (FaultKind kind);

/* argv[1] is the scenario, argv[2] (optional) the fault kind. */
void faults_init (int argc, char **argv);

int faults_setup (void **state);

gboolean adapter_gone (gpointer user_data);

int faults_teardown (void **state);

/* ---- faults ------------------------------------------------------------- */

/* Injects the fault of this run; @device_path is the peer for a drop. */
void inject (Env *env, const char *device_path);

/* The error every operation in flight reports for this run's fault. */
BleioError expected_error (void);

/* The reason #BleioConnection::disconnected gives for this run's fault. */
BleioDisconnectReason expected_reason (void);

typedef struct {
  SimFixture *fx;
  const char *method;
  int count;
} CallsWait;

/* Waits until the simulator has received @count calls of @method. */
void wait_calls (Env *env, const char *method, int count);

/* A blocking library call on a thread of its own while the test's thread
 * injects the fault. (The fault is injected from the test's thread because
 * a simulator respawned after a crash dies with the thread that started it:
 * sim-bus.c sets PR_SET_PDEATHSIG, which follows the thread, not the
 * process.) */
typedef gpointer (*BlockingFunc) (gpointer   data,
                                  GError   **error);

typedef struct {
  BlockingFunc func;
  gpointer data;
  gpointer result;
  GError *error;
  GThread *thread;
  gpointer returned_at;         /* non-NULL once the call returned */
} Blocker;

void blocker_start (Blocker *b, BlockingFunc func, gpointer data);

gboolean blocker_returned (gpointer user_data);

/* The blocking call returns (within @msec) after the fault. */
void blocker_join (Blocker *b, guint msec);

/* ---- async operations --------------------------------------------------- */

/* What an async callback saw; @fired counts its calls. */
typedef struct {
  guint fired;
  GError *error;
  gpointer result;              /* a GObject, GBytes or GPtrArray */
  GDestroyNotify free_result;
  gboolean ok;
} Pending;

void pending_clear (Pending *p);

gboolean never (gpointer user_data);

/* The async callbacks more than one fault program needs: each records
 * its call and outcome in the Pending it was given. */
void pending_connect_cb (GObject *source, GAsyncResult *result,
                         gpointer user_data);

void pending_read_cb (GObject *source, GAsyncResult *result,
                      gpointer user_data);

/* The callback ran once, and not again for a while after. */
void assert_fired_once (Pending *p);

/* A scan the fault ended: the entries buffered before it come first,
 * then the end, with the error @code. */
void assert_scan_ends (BleioScanResults *results, BleioError code);

/* Reads until the buffer reports the loss; returns how many bytes were
 * still delivered after the fault. */
gsize drain_buffer_until_lost (BleioCharacteristicBuffer *buffer);

/* ---- the library working again ------------------------------------------ */

gboolean adapter_back (gpointer user_data);

/* Scans until @name shows up, retrying while bluetoothd is still coming
 * back; returns its address. */
BleioAddress *scan_until_found (Env *env, const char *name);

/* The characteristic of @uuid16 among @services. */
BleioCharacteristic *find_char (GPtrArray *services, guint16 uuid16);

/* Connects @name (scanning for it first) and discovers its services. */
BleioConnection *connect_peer (Env *env, const char *name,
                               GPtrArray **services_out);

/* The values of the peers' 0xfa03 and 0xfb03 characteristics (faults.json). */
extern const guint8 fa03_value[2];
extern const guint8 fb03_value[2];

void assert_fault_peer_recovered (Env *env);

void assert_slow_peer_recovered (Env *env);
