/* SPDX-License-Identifier: MIT */
/*
 * A hostile or unlucky bluetoothd and advertising (issue 16 item 13):
 * RegisterAdvertisement refused with each error bluetoothd 5.66 gives
 * (src/advertising.c), a request never answered and cancelled, an
 * UnregisterAdvertisement refused, and a Release from someone who is not
 * bluetoothd. Each time the application gets a BLEIO_ERROR that says what
 * to do, and the adapter can advertise afterwards.
 */
#include "advertising.h"

static void
fail_next (SimFixture *fx,
           const char *method,
           const char *name,
           const char *message)
{
  g_autoptr(GError) error = NULL;

  assert_true (sim_fixture_fail_next (fx, method, name, message, 1, &error));
  assert_no_error (error);
}

static void
test_hostile_advertising_register_refused (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GBytes) d = adv_bytes ("02 01 06 03 03 0f 18");
  /* Every refusal of RegisterAdvertisement in bluetoothd 5.66. */
  static const struct {
    const char *name;
    const char *message;
    int code;
    const char *part;
  } cases[] = {
    { "org.bluez.Error.InvalidArguments", "Invalid arguments in method call",
      BLEIO_ERROR_INVALID_ARGUMENT, "bluetoothd refused the advertisement on hci0" },
    { "org.bluez.Error.AlreadyExists", "Already Exists",
      BLEIO_ERROR_ALREADY_EXISTS, "Already advertising" },
    { "org.bluez.Error.NotPermitted", "Maximum advertisements reached",
      BLEIO_ERROR_NOT_PERMITTED, "in use by other programs" },
    { "org.bluez.Error.Failed", "Failed to parse advertisement.",
      BLEIO_ERROR_BLUETOOTH, "Failed to parse advertisement." },
    { "org.bluez.Error.Failed", "Failed to register advertisement",
      BLEIO_ERROR_BLUETOOTH, "longer than this controller sends" },
    { "org.bluez.Error.Failed", "Failed to complete registration",
      BLEIO_ERROR_BLUETOOTH, "hci0" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;

      fail_next (fx, "RegisterAdvertisement", cases[i].name, cases[i].message);
      assert_false (bleio_adapter_start_advertising (adapter, d, NULL, TRUE, FALSE, 0, 0, 0,
                                                     NULL, NULL, &error));
      assert_bleio_error (error, cases[i].code);
      if (strstr (error->message, cases[i].part) == NULL)
        fail_msg ("\"%s\" does not say \"%s\"", error->message, cases[i].part);
      assert_false (bleio_adapter_get_advertising (adapter));
    }
  /* Nothing stuck: the next one is accepted. */
  adv_start_ok (adapter, "02 01 06", NULL, TRUE, 0);
  assert_true (bleio_adapter_stop_advertising (adapter, NULL));
}

/* The blocking call iterates a context of its own, so the cancel comes
 * from another thread, once the request is on its way (the order is all
 * that matters: the simulator never answers it). */
static gpointer
cancel_later (gpointer cancellable)
{
  g_usleep (200 * 1000);
  g_cancellable_cancel (cancellable);
  return NULL;
}

/* A request bluetoothd never answers, cancelled: the caller hears
 * CANCELLED, and the library takes back what bluetoothd may have
 * registered. */
static void
test_hostile_advertising_no_reply_cancelled (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GBytes) d = adv_bytes ("02 01 06");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  GThread *thread;

  assert_true (sim_fixture_no_reply_next (fx, "RegisterAdvertisement", 1, &error));
  assert_no_error (error);
  assert_true (sim_fixture_reset_calls (fx, NULL));
  thread = g_thread_new ("canceller", cancel_later, cancellable);
  assert_false (bleio_adapter_start_advertising (adapter, d, NULL, TRUE, FALSE, 0, 0, 0, NULL,
                                                 cancellable, &error));
  g_thread_join (thread);
  assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  assert_false (bleio_adapter_get_advertising (adapter));
  /* What bluetoothd may hold is taken back. */
  assert_true (sim_fixture_wait_property (fx, HCI0, ADV_MANAGER, "ActiveInstances",
                                          g_variant_new_byte (0), WAIT_MSEC));
  assert_int_equal (sim_fixture_count_calls (fx, "UnregisterAdvertisement"), 1);
  g_clear_error (&error);
  adv_start_ok (adapter, "02 01 06", NULL, TRUE, 0);
  assert_true (bleio_adapter_stop_advertising (adapter, NULL));
}

/* bluetoothd refusing the unregistration (it dropped the advertisement
 * already): stopped either way. */
static void
test_hostile_advertising_unregister_refused (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  AdvHeard h;

  adv_listen (adapter, &h);
  adv_start_ok (adapter, "02 01 06", NULL, TRUE, 0);
  fail_next (fx, "UnregisterAdvertisement", "org.bluez.Error.DoesNotExist", "Does Not Exist");
  assert_true (bleio_adapter_stop_advertising (adapter, &error));
  assert_no_error (error);
  assert_false (bleio_adapter_get_advertising (adapter));
  assert_true (common_wait (adv_heard_end, &h, WAIT_MSEC));
  assert_int_equal (h.reason, BLEIO_ADVERTISING_END_REASON_STOPPED);
  adv_unlisten (adapter, &h);
}

/* Another program on the bus calls Release on our advertisement: it is
 * refused, and the advertisement goes on. */
static void
test_hostile_advertising_release_by_stranger (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) stranger = NULL;
  g_autoptr(GVariant) calls = NULL;
  g_autoptr(GVariant) list = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *our_name = NULL;
  g_autofree char *path = NULL;
  GVariantIter iter;
  const char *method, *object, *sender;

  assert_true (sim_fixture_reset_calls (fx, NULL));
  adv_start_ok (adapter, "02 01 06", NULL, TRUE, 0);
  /* Our object's path, from the call the simulator logged. */
  calls = sim_fixture_call (fx, "GetCalls", NULL, &error);
  assert_no_error (error);
  list = g_variant_get_child_value (calls, 0);
  g_variant_iter_init (&iter, list);
  while (g_variant_iter_next (&iter, "(&s&o&s)", &method, &object, &sender))
    if (g_str_equal (method, "RegisterAdvertisement"))
      our_name = g_strdup (sender);
  assert_non_null (our_name);
  /* Our object is the one child of /org/bleio/advertisement. */
  path = g_strdup ("/org/bleio/advertisement");
  stranger = g_dbus_connection_new_for_address_sync (sim_fixture_get_address (fx),
                                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                     G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                     NULL, NULL, &error);
  assert_no_error (error);
  {
    g_autoptr(GVariant) tree = g_dbus_connection_call_sync (stranger, our_name, path,
                                                            "org.freedesktop.DBus.Introspectable",
                                                            "Introspect", NULL, G_VARIANT_TYPE ("(s)"),
                                                            G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
    g_autoptr(GDBusNodeInfo) node = NULL;
    g_autofree char *child = NULL;
    const char *xml = NULL;

    assert_no_error (error);
    g_variant_get (tree, "(&s)", &xml);
    node = g_dbus_node_info_new_for_xml (xml, &error);
    assert_no_error (error);
    assert_non_null (node->nodes);
    assert_non_null (node->nodes[0]);
    child = g_strdup_printf ("%s/%s", path, node->nodes[0]->path);
    reply = g_dbus_connection_call_sync (stranger, our_name, child,
                                         "org.bluez.LEAdvertisement1", "Release", NULL, NULL,
                                         G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  }
  assert_null (reply);
  assert_true (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED));
  g_clear_error (&error);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  assert_true (bleio_adapter_get_advertising (adapter));
  assert_true (bleio_adapter_stop_advertising (adapter, NULL));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_hostile_advertising_register_refused),
    cmocka_unit_test (test_hostile_advertising_no_reply_cancelled),
    cmocka_unit_test (test_hostile_advertising_unregister_refused),
    cmocka_unit_test (test_hostile_advertising_release_by_stranger),
  };

  return cmocka_run_group_tests (tests, sim_fixture_group_setup, sim_fixture_group_teardown);
}
