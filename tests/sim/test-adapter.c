/* SPDX-License-Identifier: MIT */
/* BleioAdapter against bleio-sim: finding adapters, their properties,
 * several adapters, none, and bluetoothd going away and coming back. */
#include "central.h"

static gboolean
adapter_gone (gpointer user_data)
{
  return !bleio_adapter_is_present (user_data);
}

static gboolean
adapter_back (gpointer user_data)
{
  return bleio_adapter_is_present (user_data);
}

static gboolean
adapter_disabled (gpointer user_data)
{
  return !bleio_adapter_get_enabled (user_data);
}

static gboolean
adapter_enabled (gpointer user_data)
{
  return bleio_adapter_get_enabled (user_data);
}

static void
test_adapter_by_name (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) first = common_adapter (fx, NULL);
  g_autoptr(BleioAdapter) by_name = common_adapter (fx, "hci0");
  g_autoptr(BleioAddress) address = bleio_adapter_dup_address (first);
  g_autofree char *text = NULL;
  g_autoptr(BleioAdapter) by_address = NULL;
  g_autoptr(GVariant) sim_address = sim_fixture_get_property (fx, HCI0, "org.bluez.Adapter1", "Address");

  assert_string_equal (bleio_adapter_get_object_path (first), HCI0);
  assert_string_equal (bleio_adapter_get_interface_name (first), "hci0");
  /* The same path gives the same object. */
  assert_ptr_equal (first, by_name);
  assert_true (bleio_adapter_is_present (first));

  assert_non_null (address);
  text = bleio_address_to_string (address);
  assert_non_null (sim_address);
  assert_int_equal (g_ascii_strcasecmp (text, g_variant_get_string (sim_address, NULL)), 0);
  by_address = common_adapter (fx, text);
  assert_ptr_equal (first, by_address);
}

static void
test_adapter_unknown_name (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter =
    bleio_adapter_new_for_name (sim_fixture_get_connection (fx), "hci42", NULL, &error);

  assert_null (adapter);
  assert_bleio_error (error, BLEIO_ERROR_NO_ADAPTER);
  assert_non_null (strstr (error->message, "hci42"));
}

typedef struct {
  GMainLoop *loop;
  BleioAdapter *adapter;
  GError *error;
  GThread *thread;
} AsyncResult;

static void
got_adapter_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  AsyncResult *r = user_data;

  r->adapter = bleio_adapter_new_for_name_finish (result, &r->error);
  r->thread = g_thread_self ();
  g_main_loop_quit (r->loop);
}

static gboolean
quit_on_timeout (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_adapter_async (void **state)
{
  SimFixture *fx = *state;
  AsyncResult r = { 0, };
  guint timeout_id;

  r.loop = g_main_loop_new (NULL, FALSE);
  bleio_adapter_new_for_name_async (sim_fixture_get_connection (fx), "hci0", NULL,
                                    got_adapter_cb, &r);
  timeout_id = g_timeout_add (WAIT_MSEC, quit_on_timeout, r.loop);
  g_main_loop_run (r.loop);
  g_source_remove (timeout_id);
  assert_no_error (r.error);
  assert_non_null (r.adapter);
  /* The callback ran in this thread's default context. */
  assert_ptr_equal (r.thread, g_thread_self ());
  assert_string_equal (bleio_adapter_get_interface_name (r.adapter), "hci0");
  g_object_unref (r.adapter);
  g_main_loop_unref (r.loop);
}

static void
test_adapter_default_system_bus (void **state)
{
  /* The fixture points DBUS_SYSTEM_BUS_ADDRESS at its private bus. */
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = bleio_adapter_get_default (NULL, &error);

  assert_no_error (error);
  assert_non_null (adapter);
  assert_string_equal (bleio_adapter_get_interface_name (adapter), "hci0");
  assert_true (bleio_adapter_get_enabled (adapter));
}

static void
test_adapter_enabled (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;

  assert_true (bleio_adapter_get_enabled (adapter));
  assert_true (bleio_adapter_set_enabled (adapter, FALSE, &error));
  assert_no_error (error);
  assert_true (common_wait (adapter_disabled, adapter, WAIT_MSEC));
  assert_false (common_sim_bool (fx, HCI0, "org.bluez.Adapter1", "Powered"));

  assert_true (bleio_adapter_set_enabled (adapter, TRUE, &error));
  assert_no_error (error);
  assert_true (common_wait (adapter_enabled, adapter, WAIT_MSEC));
  assert_true (common_sim_bool (fx, HCI0, "org.bluez.Adapter1", "Powered"));
}

typedef struct {
  BleioAdapter *adapter;
  const char *name;
} NameWait;

static gboolean
name_is (gpointer user_data)
{
  NameWait *w = user_data;
  g_autofree char *name = bleio_adapter_dup_name (w->adapter);

  return g_strcmp0 (name, w->name) == 0;
}

static void
test_adapter_name (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autofree char *before = bleio_adapter_dup_name (adapter);
  g_autoptr(GVariant) alias = NULL;
  NameWait w = { adapter, "libbleio test" };

  assert_non_null (before);
  assert_true (bleio_adapter_set_name (adapter, "libbleio test", &error));
  assert_no_error (error);
  assert_true (common_wait (name_is, &w, WAIT_MSEC));
  alias = sim_fixture_get_property (fx, HCI0, "org.bluez.Adapter1", "Alias");
  assert_non_null (alias);
  assert_string_equal (g_variant_get_string (alias, NULL), "libbleio test");

  assert_true (bleio_adapter_set_name (adapter, before, &error));
  assert_no_error (error);
  w.name = before;
  assert_true (common_wait (name_is, &w, WAIT_MSEC));
}

/* How often the library gave up waiting for its cache to show a value
 * (its debug trace says so), counted by log_writer(). */
static int waits_given_up;

static GLogWriterOutput
log_writer (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  if (level & G_LOG_LEVEL_DEBUG)
    {
      for (gsize i = 0; i < n_fields; i++)
        if (g_str_equal (fields[i].key, "MESSAGE") && fields[i].length < 0 &&
            g_str_has_prefix (fields[i].value, "gave up waiting for "))
          g_atomic_int_inc (&waits_given_up);
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_default (level, fields, n_fields, user_data);
}

/* Issue 15 item 7: BlueZ answers an empty Alias by putting the system
 * name back; the setter returns once the cache shows that, instead of
 * waiting out its bound for an empty Alias that never comes. */
static void
test_adapter_name_empty_restores_system_name (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) system_name = sim_fixture_get_property (fx, HCI0, "org.bluez.Adapter1", "Name");
  g_autofree char *before = bleio_adapter_dup_name (adapter);
  g_autofree char *after = NULL;

  assert_non_null (system_name);
  assert_true (bleio_adapter_set_name (adapter, "temporary name", &error));
  assert_no_error (error);
  g_atomic_int_set (&waits_given_up, 0);
  assert_true (bleio_adapter_set_name (adapter, "", &error));
  assert_no_error (error);
  /* Returned because the system name came back (the getter agrees at
   * once), not because the wait for the cache ran out. */
  after = bleio_adapter_dup_name (adapter);
  assert_string_equal (after, g_variant_get_string (system_name, NULL));
  assert_int_equal (g_atomic_int_get (&waits_given_up), 0);
  assert_true (bleio_adapter_set_name (adapter, before, &error));
  assert_no_error (error);
}

static void
test_adapter_not_connected (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GPtrArray) connections = bleio_adapter_dup_connections (adapter);

  assert_false (bleio_adapter_get_connected (adapter));
  assert_int_equal (connections->len, 0);
}

typedef struct {
  SimFixture *fx;
  const char *name;
} AdapterWait;

static gboolean
adapter_findable (gpointer user_data)
{
  AdapterWait *w = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter =
    bleio_adapter_new_for_name (sim_fixture_get_connection (w->fx), w->name, NULL, &error);

  return adapter != NULL;
}

static void
test_adapter_second_appears_and_goes (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(BleioAdapter) hci0 = common_adapter (fx, "hci0");
  g_autoptr(BleioAdapter) hci1 = NULL;
  g_autoptr(BleioAddress) address = NULL;
  g_autofree char *text = NULL;
  AdapterWait w = { fx, "hci1" };

  reply = sim_fixture_call (fx, "AddAdapter", g_variant_new ("(ss)", "hci1", "00:AA:01:00:00:71"), &error);
  assert_no_error (error);
  assert_true (common_wait (adapter_findable, &w, WAIT_MSEC));

  hci1 = common_adapter (fx, "hci1");
  assert_ptr_not_equal (hci0, hci1);
  address = bleio_adapter_dup_address (hci1);
  text = bleio_address_to_string (address);
  assert_int_equal (g_ascii_strcasecmp (text, "00:AA:01:00:00:71"), 0);
  /* Both work side by side. */
  assert_true (bleio_adapter_set_name (hci1, "second", &error));
  assert_no_error (error);
  assert_true (bleio_adapter_is_present (hci0));

  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call (fx, "RemoveAdapter", g_variant_new ("(s)", "hci1"), &error);
  assert_no_error (error);
  assert_true (common_wait (adapter_gone, hci1, WAIT_MSEC));
  assert_false (bleio_adapter_set_name (hci1, "gone", &error));
  assert_bleio_error (error, BLEIO_ERROR_NO_ADAPTER);
  g_clear_error (&error);
  assert_true (bleio_adapter_is_present (hci0));

  /* It comes back: the same handle works again. */
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call (fx, "AddAdapter", g_variant_new ("(ss)", "hci1", "00:AA:01:00:00:71"), &error);
  assert_no_error (error);
  assert_true (common_wait (adapter_back, hci1, WAIT_MSEC));
  assert_true (bleio_adapter_set_name (hci1, "back", &error));
  assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call (fx, "RemoveAdapter", g_variant_new ("(s)", "hci1"), &error);
  assert_no_error (error);
}

static void
test_adapter_none (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(BleioAdapter) hci0 = common_adapter (fx, "hci0");
  g_autoptr(BleioAdapter) none = NULL;
  AdapterWait w = { fx, NULL };

  reply = sim_fixture_call (fx, "RemoveAdapter", g_variant_new ("(s)", "hci0"), &error);
  assert_no_error (error);
  assert_true (common_wait (adapter_gone, hci0, WAIT_MSEC));

  none = bleio_adapter_new_for_name (sim_fixture_get_connection (fx), NULL, NULL, &error);
  assert_null (none);
  assert_bleio_error (error, BLEIO_ERROR_NO_ADAPTER);
  g_clear_error (&error);
  assert_false (bleio_adapter_set_enabled (hci0, TRUE, &error));
  assert_bleio_error (error, BLEIO_ERROR_NO_ADAPTER);
  g_clear_error (&error);

  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call (fx, "AddAdapter", g_variant_new ("(ss)", "hci0", "00:AA:01:00:00:00"), &error);
  assert_no_error (error);
  assert_true (common_wait (adapter_findable, &w, WAIT_MSEC));
  assert_true (bleio_adapter_is_present (hci0));
}

static gboolean
owner_gone_check (gpointer user_data)
{
  BleioAdapter *adapter = user_data;
  g_autoptr(GError) error = NULL;

  /* Gone from our cache, and the reason known: bluetoothd left. */
  if (bleio_adapter_is_present (adapter) || bleio_adapter_set_enabled (adapter, TRUE, &error))
    return FALSE;
  return g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_BLUEZ_UNAVAILABLE);
}

static gboolean
works_again (gpointer user_data)
{
  BleioAdapter *adapter = user_data;
  g_autoptr(GError) error = NULL;

  return bleio_adapter_set_enabled (adapter, TRUE, &error);
}

static void
test_adapter_bluetoothd_restart (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(BleioAdapter) during = NULL;
  g_autoptr(BleioAdapter) after = NULL;
  AdapterWait w = { fx, "hci0" };

  assert_true (sim_fixture_restart (fx, 3000, &error));
  assert_no_error (error);
  /* While bluetoothd is away: calls say so and where to look. */
  assert_true (common_wait (owner_gone_check, adapter, WAIT_MSEC));
  during = bleio_adapter_new_for_name (sim_fixture_get_connection (fx), "hci0", NULL, &error);
  assert_null (during);
  assert_bleio_error (error, BLEIO_ERROR_BLUEZ_UNAVAILABLE);
  assert_non_null (strstr (error->message, "bluetooth.service"));
  g_clear_error (&error);
  /* Back: the same process, the same handle, new calls work. */
  assert_true (common_wait (works_again, adapter, WAIT_MSEC));
  assert_true (common_wait (adapter_findable, &w, WAIT_MSEC));
  after = common_adapter (fx, "hci0");
  assert_ptr_equal (after, adapter);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_adapter_default_system_bus),
    cmocka_unit_test (test_adapter_by_name),
    cmocka_unit_test (test_adapter_unknown_name),
    cmocka_unit_test (test_adapter_async),
    cmocka_unit_test (test_adapter_enabled),
    cmocka_unit_test (test_adapter_name),
    cmocka_unit_test (test_adapter_name_empty_restores_system_name),
    cmocka_unit_test (test_adapter_not_connected),
    cmocka_unit_test (test_adapter_second_appears_and_goes),
    cmocka_unit_test (test_adapter_none),
    cmocka_unit_test (test_adapter_bluetoothd_restart),
  };

  /* The library's debug trace reaches log_writer() and nowhere else. */
  g_log_set_debug_enabled (TRUE);
  g_log_set_writer_func (log_writer, NULL, NULL);
  return cmocka_run_group_tests (tests, sim_fixture_group_setup, sim_fixture_group_teardown);
}
