/* SPDX-License-Identifier: MIT */
/*
 * The client's watches (lib/bleio-watches.c) without a bus: which events
 * reach which watch, and what is queued for a watch in another context;
 * and what a watcher reads from an event (lib/bleio-client-event.c).
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

static gboolean
event_boolean (const BleioClientEvent *event,
               const char             *key,
               gboolean               *value)
{
  return bleio_client_event_get_boolean (event, key, value);
}

/* The known keys are found in one walk and then served from the event;
 * the answers are those of a walk: the first entry of a name, NULL when
 * absent or of another type; other keys are still walked for. */
static void
test_event_known_keys (void **state)
{
  g_autoptr(GVariant) changed = g_variant_ref_sink (g_variant_new_parsed (
      "{'Notifying': <true>, 'Value': <[byte 7, 8]>, 'Flags': <['read']>, "
      "'Notifying': <false>, 'Connected': <'yes'>}"));
  BleioClientEvent *event = bleio_client_event_new (BLEIO_CLIENT_EVENT_CHANGED, CHR, IFACE_CHR,
                                                    changed);
  BleioClientEvent *copy;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GVariant) again = NULL;
  g_autoptr(GVariant) flags = NULL;
  gboolean b = FALSE;
  gsize n = 0;

  value = bleio_client_event_dup_changed (event, "Value", G_VARIANT_TYPE_BYTESTRING);
  assert_non_null (value);
  assert_true (event->known_found);
  assert_memory_equal (g_variant_get_fixed_array (value, &n, 1), "\x07\x08", 2);
  assert_int_equal (n, 2);
  again = bleio_client_event_dup_changed (event, "Value", NULL);
  assert_ptr_equal (again, value);
  assert_null (bleio_client_event_dup_changed (event, "Value", G_VARIANT_TYPE_BOOLEAN));
  /* the first of two entries of one name */
  assert_true (event_boolean (event, "Notifying", &b));
  assert_true (b);
  /* present but not a boolean; absent */
  assert_false (event_boolean (event, "Connected", &b));
  assert_false (event_boolean (event, "ServicesResolved", &b));
  assert_null (bleio_client_event_dup_changed (event, "ServicesResolved", NULL));
  flags = bleio_client_event_dup_changed (event, "Flags", G_VARIANT_TYPE_STRING_ARRAY);
  assert_non_null (flags);
  assert_null (bleio_client_event_dup_changed (event, "Missing", NULL));

  /* a copy (queued for another context) answers the same */
  copy = bleio_client_event_copy (event);
  bleio_client_event_free (event);
  assert_true (event_boolean (copy, "Notifying", &b));
  assert_true (b);
  bleio_client_event_free (copy);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_kinds_filter_before_queueing),
    cmocka_unit_test (test_kinds_zero_is_every_kind),
    cmocka_unit_test (test_event_known_keys),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
