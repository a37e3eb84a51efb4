/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the advertising tests (tests/sim, tests/faults,
 * tests/hostile): what the application hears about its advertisement
 * (BleioAdapter::advertising-ended, ::advertising-restored and
 * notify::advertising), starting one, and what the simulator's
 * LEAdvertisingManager1 counts.
 */
#pragma once

#include "central.h"

#define ADV_MANAGER "org.bluez.LEAdvertisingManager1"

typedef struct {
  guint ended;
  BleioAdvertisingEndReason reason;
  guint restored;
  guint notified;
  GThread *thread;              /* where the last ended signal ran */
  /* `advertising` as the last ended and restored signals ran: false and
   * true, unless the state moved on again before the application's
   * context ran (a bluetoothd that crashed and came back at once). */
  gboolean advertising_at_end;
  gboolean advertising_at_restore;
} AdvHeard;

/* Connects the handlers (zeroing @h); adv_unlisten() before @h goes. */
void      adv_listen            (BleioAdapter *adapter,
                                 AdvHeard     *h);
void      adv_unlisten          (BleioAdapter *adapter,
                                 AdvHeard     *h);
/* Conditions for common_wait() on an AdvHeard. */
gboolean  adv_heard_end         (gpointer user_data);
gboolean  adv_heard_restored    (gpointer user_data);

/* Hex text (spaces allowed) to bytes. */
GBytes   *adv_bytes             (const char *hex_text);
/* Starts a plain advertisement (no interval, TX power, address) and
 * asserts that it runs. */
void      adv_start_ok          (BleioAdapter *adapter,
                                 const char   *data,
                                 const char   *scan_response,
                                 gboolean      connectable,
                                 guint         timeout);

/* ActiveInstances of @adapter_path's LEAdvertisingManager1 in the
 * simulator; -1 when it has none. */
int       adv_active_instances  (SimFixture *fx,
                                 const char *adapter_path);

typedef struct {
  SimFixture *fx;
  const char *adapter_path;
  int expected;
} AdvInstancesWait;

/* A condition for common_wait() on an AdvInstancesWait. */
gboolean  adv_instances_are     (gpointer user_data);
