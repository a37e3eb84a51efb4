/* SPDX-License-Identifier: MIT */
/*
 * bleio_adapter_dup_all(), which `bleioctl adapter` lists adapters with:
 * every adapter of the bus in path order, the same objects as
 * bleio_adapter_new_for_name() gives, and a list that follows adapters
 * appearing and going away.
 */
#include "central.h"

typedef struct {
  BleioAdapter *adapter;
  guint want;
} CountWait;

static gboolean
count_is (gpointer user_data)
{
  CountWait *wait = user_data;
  g_autoptr(GPtrArray) all = bleio_adapter_dup_all (wait->adapter);

  return all->len == wait->want;
}

static void
test_dup_all_follows_adapters (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) hci0 = common_adapter (fx, "hci0");
  g_autoptr(BleioAdapter) hci1 = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  CountWait wait = { hci0, 2 };

  all = bleio_adapter_dup_all (hci0);
  assert_int_equal (all->len, 1);
  assert_ptr_equal (g_ptr_array_index (all, 0), hci0);
  g_clear_pointer (&all, g_ptr_array_unref);

  /* hci10 sorts after hci2 and hci1, by number rather than by text. */
  reply = sim_fixture_call (fx, "AddAdapter", g_variant_new ("(ss)", "hci10", "00:AA:01:00:00:7a"),
                            &error);
  assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call (fx, "AddAdapter", g_variant_new ("(ss)", "hci1", "00:AA:01:00:00:71"),
                            &error);
  assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  wait.want = 3;
  assert_true (common_wait (count_is, &wait, WAIT_MSEC));

  all = bleio_adapter_dup_all (hci0);
  assert_int_equal (all->len, 3);
  assert_string_equal (bleio_adapter_get_interface_name (g_ptr_array_index (all, 0)), "hci0");
  assert_string_equal (bleio_adapter_get_interface_name (g_ptr_array_index (all, 1)), "hci1");
  assert_string_equal (bleio_adapter_get_interface_name (g_ptr_array_index (all, 2)), "hci10");
  assert_ptr_equal (g_ptr_array_index (all, 0), hci0);
  hci1 = common_adapter (fx, "hci1");
  assert_ptr_equal (g_ptr_array_index (all, 1), hci1);
  g_clear_pointer (&all, g_ptr_array_unref);

  /* Listing from another adapter gives the same list. */
  all = bleio_adapter_dup_all (hci1);
  assert_int_equal (all->len, 3);
  assert_ptr_equal (g_ptr_array_index (all, 0), hci0);
  g_clear_pointer (&all, g_ptr_array_unref);

  reply = sim_fixture_call (fx, "RemoveAdapter", g_variant_new ("(s)", "hci10"), &error);
  assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call (fx, "RemoveAdapter", g_variant_new ("(s)", "hci1"), &error);
  assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  wait.want = 1;
  assert_true (common_wait (count_is, &wait, WAIT_MSEC));
}

static void
test_dup_all_bluez_gone (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(BleioAdapter) hci0 = common_adapter (fx, "hci0");
  g_autoptr(GError) error = NULL;
  CountWait wait = { hci0, 0 };

  /* While bluetoothd is away the list is empty, and it comes back. */
  assert_true (sim_fixture_restart (fx, 3000, &error));
  assert_no_error (error);
  assert_true (common_wait (count_is, &wait, WAIT_MSEC));
  wait.want = 1;
  assert_true (common_wait (count_is, &wait, WAIT_MSEC));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_dup_all_follows_adapters),
    cmocka_unit_test (test_dup_all_bluez_gone),
  };

  return cmocka_run_group_tests (tests, sim_fixture_group_setup, sim_fixture_group_teardown);
}
