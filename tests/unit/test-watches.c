/* SPDX-License-Identifier: MIT */
/*
 * The client's watches (lib/bleio-watches.c) without a bus: which events
 * reach which watch, and what is queued for a watch in another context.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bleio-watches-private.h"

#define DEV "/org/bluez/hci0/dev_C0_FF_EE_00_00_01"
#define CHR DEV "/service0010/char0011"
#define IFACE_CHR "org.bluez.GattCharacteristic1"

static void
count_event (BleioClient            *client,
             const BleioClientEvent *event,
             gpointer                user_data)
{
  guint *counts = user_data;

  counts[event->kind]++;
}

static void
emit (BleioWatches         *watches,
      BleioClientEventKind  kind,
      const char           *path)
{
  g_autoptr(GVariant) changed = g_variant_ref_sink (g_variant_new_parsed ("{'Value': <[byte 1]>}"));
  BleioClientEvent *event = bleio_client_event_new (kind, path, IFACE_CHR,
                                                    kind == BLEIO_CLIENT_EVENT_CHANGED ? changed : NULL);

  bleio_watches_emit (watches, event);
  bleio_client_event_free (event);
}

/* A watch in an application's context that wants only objects coming and
 * going (the connection's database watch) is not handed, nor woken for,
 * the Value changes of every notification under its path. */
static void
test_kinds_filter_before_queueing (void **state)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  BleioWatches *watches = bleio_watches_new (NULL);
  const BleioClientWatchKey come_go = {
    DEV, IFACE_CHR, TRUE,
    BLEIO_CLIENT_EVENT_BIT (BLEIO_CLIENT_EVENT_ADDED) |
    BLEIO_CLIENT_EVENT_BIT (BLEIO_CLIENT_EVENT_REMOVED)
  };
  const BleioClientWatchKey every = { CHR, IFACE_CHR, FALSE, 0 };
  guint filtered[4] = { 0 }, all[4] = { 0 };

  bleio_watches_add (watches, context, &come_go, 1, count_event, filtered, NULL);
  bleio_watches_add (watches, NULL, &every, 1, count_event, all, NULL);

  for (guint i = 0; i < 100; i++)
    emit (watches, BLEIO_CLIENT_EVENT_CHANGED, CHR);
  assert_int_equal (all[BLEIO_CLIENT_EVENT_CHANGED], 100);
  /* nothing was queued: no source to dispatch in the context */
  assert_false (g_main_context_pending (context));
  while (g_main_context_iteration (context, FALSE))
    ;
  assert_int_equal (filtered[BLEIO_CLIENT_EVENT_CHANGED], 0);

  emit (watches, BLEIO_CLIENT_EVENT_ADDED, CHR);
  emit (watches, BLEIO_CLIENT_EVENT_REMOVED, CHR);
  assert_true (g_main_context_pending (context));
  while (g_main_context_iteration (context, FALSE))
    ;
  assert_int_equal (filtered[BLEIO_CLIENT_EVENT_ADDED], 1);
  assert_int_equal (filtered[BLEIO_CLIENT_EVENT_REMOVED], 1);
  assert_int_equal (filtered[BLEIO_CLIENT_EVENT_CHANGED], 0);
  assert_int_equal (all[BLEIO_CLIENT_EVENT_ADDED], 1);
  bleio_watches_free (watches);
}

/* 0 kinds is every kind, as before kinds existed. */
static void
test_kinds_zero_is_every_kind (void **state)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  BleioWatches *watches = bleio_watches_new (NULL);
  const BleioClientWatchKey key = { DEV, NULL, TRUE, 0 };
  guint counts[4] = { 0 };

  bleio_watches_add (watches, context, &key, 1, count_event, counts, NULL);
  emit (watches, BLEIO_CLIENT_EVENT_ADDED, CHR);
  emit (watches, BLEIO_CLIENT_EVENT_CHANGED, CHR);
  emit (watches, BLEIO_CLIENT_EVENT_REMOVED, CHR);
  while (g_main_context_iteration (context, FALSE))
    ;
  assert_int_equal (counts[BLEIO_CLIENT_EVENT_ADDED], 1);
  assert_int_equal (counts[BLEIO_CLIENT_EVENT_CHANGED], 1);
  assert_int_equal (counts[BLEIO_CLIENT_EVENT_REMOVED], 1);
  bleio_watches_free (watches);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_kinds_filter_before_queueing),
    cmocka_unit_test (test_kinds_zero_is_every_kind),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
