/* SPDX-License-Identifier: MIT */
/*
 * SimFixture: a private system-like bus with bleio-sim on it, for tests.
 *
 * Usage, one bus and simulator per cmocka group:
 *
 *   static int
 *   group_setup (void **state)
 *   {
 *     return sim_fixture_group_setup (state);   // demo scenario
 *   }
 *
 *   static void
 *   test_something (void **state)
 *   {
 *     SimFixture *fx = *state;
 *     GDBusConnection *bus = sim_fixture_get_connection (fx);
 *     g_autoptr(GError) error = NULL;
 *
 *     assert_true (sim_fixture_fail_next (fx, "Connect",
 *                                         "org.bluez.Error.Failed",
 *                                         "le-connection-abort-by-local",
 *                                         1, &error));
 *     ... call org.bluez through bus, or through the library ...
 *     assert_int_equal (sim_fixture_count_calls (fx, "Connect"), 1);
 *   }
 *
 *   cmocka_run_group_tests (tests, group_setup, sim_fixture_group_teardown);
 *
 * The simulator binary is found through $BLEIO_SIM (meson test sets it to
 * the built bleio-sim). sim_fixture_new() also sets DBUS_SYSTEM_BUS_ADDRESS
 * in this process's environment to the private bus (restored by
 * sim_fixture_free()), so code that opens "the system bus" reaches the
 * simulator; note that g_bus_get() caches the system bus per process.
 *
 * Each test should leave the simulator as it found it (ResetCalls, remove
 * what it added) or run in a group of its own: state is per group.
 *
 * Control calls go to the simulator's unique bus name, not to org.bluez,
 * so they keep working while a simulated bluetoothd restart has released
 * org.bluez.
 */
#pragma once

#include <glib.h>
#include <gio/gio.h>

#include "sim-bus.h"

G_BEGIN_DECLS

#define SIM_FIXTURE_CONTROL_PATH "/org/bleio/sim"
#define SIM_FIXTURE_CONTROL_INTERFACE "org.bleio.Sim1"
/* Default bound for calls and waits, in milliseconds. */
#define SIM_FIXTURE_TIMEOUT_MSEC 10000

typedef struct _SimFixture SimFixture;

SimFixture      *sim_fixture_new             (const char  *scenario_path,
                                              GError     **error);
void             sim_fixture_free            (SimFixture  *fx);

const char      *sim_fixture_get_address     (SimFixture  *fx);
GDBusConnection *sim_fixture_get_connection  (SimFixture  *fx);
SimBus          *sim_fixture_get_bus         (SimFixture  *fx);
const char      *sim_fixture_get_sim_binary  (SimFixture  *fx);
/* Unique bus name of the simulator process (it owns org.bluez). */
const char      *sim_fixture_get_sim_name    (SimFixture  *fx);

/* Calls @method of org.bleio.Sim1; @params is consumed if floating. */
GVariant        *sim_fixture_call            (SimFixture  *fx,
                                              const char  *method,
                                              GVariant    *params,
                                              GError     **error);
/* Calls org.bluez (the simulator's public side) synchronously. */
GVariant        *sim_fixture_call_bluez      (SimFixture  *fx,
                                              const char  *path,
                                              const char  *interface,
                                              const char  *method,
                                              GVariant    *params,
                                              GError     **error);

gboolean         sim_fixture_fail_next       (SimFixture  *fx,
                                              const char  *method,
                                              const char  *error_name,
                                              const char  *error_message,
                                              guint        count,
                                              GError     **error);
gboolean         sim_fixture_delay_next      (SimFixture  *fx,
                                              const char  *method,
                                              guint        delay_msec,
                                              guint        count,
                                              GError     **error);
gboolean         sim_fixture_no_reply_next   (SimFixture  *fx,
                                              const char  *method,
                                              guint        count,
                                              GError     **error);
gboolean         sim_fixture_drop_link       (SimFixture  *fx,
                                              const char  *device_path,
                                              const char  *reason,
                                              GError     **error);
gboolean         sim_fixture_notify          (SimFixture  *fx,
                                              const char  *char_path,
                                              const guint8 *value,
                                              gsize        len,
                                              GError     **error);
gboolean         sim_fixture_notify_burst    (SimFixture  *fx,
                                              const char  *char_path,
                                              const guint8 *value,
                                              gsize        len,
                                              guint        count,
                                              GError     **error);
gboolean         sim_fixture_set_property    (SimFixture  *fx,
                                              const char  *path,
                                              const char  *interface,
                                              const char  *property,
                                              GVariant    *value,
                                              GError     **error);
char            *sim_fixture_add_device      (SimFixture  *fx,
                                              const char  *adapter,
                                              const char  *json,
                                              GError     **error);
gboolean         sim_fixture_remove_device   (SimFixture  *fx,
                                              const char  *device_path,
                                              GError     **error);

/* GetCalls(): an a(sos) array, see org.bleio.Sim1.xml. */
GVariant        *sim_fixture_get_calls       (SimFixture  *fx,
                                              GError     **error);
/* How many calls of @method ("Connect" or "org.bluez.Device1.Connect")
 * the simulator recorded since the last reset; -1 on error. */
int              sim_fixture_count_calls     (SimFixture  *fx,
                                              const char  *method);
gboolean         sim_fixture_reset_calls     (SimFixture  *fx,
                                              GError     **error);

/* Simulated bluetoothd restart through the control interface: org.bluez
 * and every object go away for @down_msec, then come back. */
gboolean         sim_fixture_restart         (SimFixture  *fx,
                                              guint        down_msec,
                                              GError     **error);
/* A real crash: SIGKILL the simulator process and start a fresh one. The
 * new one dies with the thread that calls this (PR_SET_PDEATHSIG follows
 * the thread): call it from a thread that outlives the test, such as the
 * main one. */
gboolean         sim_fixture_crash           (SimFixture  *fx,
                                              GError     **error);

/* ---- org.bluez helpers (plain D-Bus calls on the fixture's connection) ---- */

/* GetManagedObjects() of org.bluez: the a{oa{sa{sv}}} itself. */
GVariant        *sim_fixture_get_objects     (SimFixture  *fx,
                                              GError     **error);
/* Property @name of @interface on @path from GetManagedObjects(); NULL
 * when the object or the property is absent. */
GVariant        *sim_fixture_get_property    (SimFixture  *fx,
                                              const char  *path,
                                              const char  *interface,
                                              const char  *name);
/* Polls (every 20 ms) until @path's @interface.@name equals @value or
 * @timeout_msec passes. @value is consumed if floating. */
gboolean         sim_fixture_wait_property   (SimFixture  *fx,
                                              const char  *path,
                                              const char  *interface,
                                              const char  *name,
                                              GVariant    *value,
                                              guint        timeout_msec);
/* The Device1 under @adapter_path ("/org/bluez/hci0") whose Name or Alias
 * is @name; runs StartDiscovery/StopDiscovery from the fixture's
 * connection when it is not there yet. */
char            *sim_fixture_find_device     (SimFixture  *fx,
                                              const char  *adapter_path,
                                              const char  *name,
                                              GError     **error);
/* Connect() and wait until ServicesResolved is true. */
gboolean         sim_fixture_connect_device  (SimFixture  *fx,
                                              const char  *device_path,
                                              GError     **error);
/* The first object under @device_path (in path order) with @interface
 * (org.bluez.GattService1, GattCharacteristic1, GattDescriptor1) whose
 * UUID is @uuid (NULL: any) and whose Flags contain every flag of
 * @with and none of @without (NULL-terminated, or NULL). */
char            *sim_fixture_find_gatt       (SimFixture  *fx,
                                              const char  *device_path,
                                              const char  *interface,
                                              const char  *uuid,
                                              const char * const *with,
                                              const char * const *without);

/* ---- a pairing agent, like the one a desktop session registers ---- */

/* An org.bluez.Agent1 on its own connection, served by its own thread, so
 * it answers while the test blocks in a synchronous call. It accepts
 * everything: RequestConfirmation and RequestAuthorization return, and
 * RequestPasskey answers @passkey. */
typedef struct _SimAgent SimAgent;

SimAgent        *sim_agent_new               (SimFixture  *fx,
                                              const char  *capability,
                                              gboolean     make_default,
                                              guint32      passkey,
                                              GError     **error);
void             sim_agent_free              (SimAgent    *agent);
/* The Agent1 methods called so far, in order ("RequestConfirmation"...). */
GStrv            sim_agent_dup_calls         (SimAgent    *agent);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimAgent, sim_agent_free)

/* Runs the thread-default main context until @done returns TRUE or
 * @timeout_msec passes; returns the last value of @done. */
gboolean         sim_fixture_wait_until      (GSourceFunc  done,
                                              gpointer     user_data,
                                              guint        timeout_msec);

/* For group setups that keep what they start in variables of their own: a
 * fresh simulator on the demo scenario in *@fx and, when @agent is not
 * NULL, an auto-accepting NoInputNoOutput default agent in *@agent (what a
 * desktop session has registered). FALSE, said on stderr, when either
 * does not start; what did start is left for the teardown to free. */
gboolean         sim_fixture_start           (SimFixture **fx,
                                              SimAgent   **agent);

/* NULL when @error is the D-Bus error @name with @message, as bluetoothd
 * answers; otherwise what came instead ("succeeded", or the name and
 * message), for the test's failure message. */
char            *sim_fixture_check_remote_error (const GError *error,
                                                 const char   *name,
                                                 const char   *message);

/* cmocka group setup/teardown on the demo scenario; *state is the
 * SimFixture. For another scenario, write a setup that calls
 * sim_fixture_new() and use sim_fixture_group_teardown(). */
int              sim_fixture_group_setup     (void       **state);
/* For group setups that keep the fixture in a variable of their own: a
 * fresh simulator on @scenario (NULL for the demo one) in *@fx; 0, or -1
 * said on stderr when it does not start. */
int              sim_fixture_group_start_on  (SimFixture **fx,
                                              const char  *scenario);
int              sim_fixture_group_teardown  (void       **state);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimFixture, sim_fixture_free)

G_END_DECLS
