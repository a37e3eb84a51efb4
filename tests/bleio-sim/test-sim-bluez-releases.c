/* SPDX-License-Identifier: MIT */
/*
 * What the simulator answers differently as bluetoothd 5.66 and as 5.82
 * (issue 21; tools/bleio-sim/README.md, "Speaking bluetoothd 5.82"), on
 * the demo scenario. It runs under both releases (meson: this test and
 * test-sim-bluez-releases-bluez-5.82) and expects each release's answers:
 * 5.82's from tests/data/bluez-5.82 and bluetoothd's source at tag 5.82.
 */
#include "sim-fixture.h"
#include "test-data.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define DEMO_NAME "InterestingPeripheral"
#define ADAPTER "/org/bluez/hci0"
#define SERVICE1 "org.bluez.GattService1"
#define CHR1 "org.bluez.GattCharacteristic1"
#define DESC1 "org.bluez.GattDescriptor1"
#define CCCD_UUID "00002902-0000-1000-8000-00805f9b34fb"
#define GAP_UUID "00001800-0000-1000-8000-00805f9b34fb"
#define BATTERY_LEVEL_UUID "00002a19-0000-1000-8000-00805f9b34fb"
#define HEART_RATE_MEASUREMENT_UUID "00002a37-0000-1000-8000-00805f9b34fb"

static SimFixture *fx;
static SimAgent *agent;
static char *device;

static void
expect_error (GVariant     *reply,
              const GError *error,
              const char   *what,
              const char   *name,
              const char   *message)
{
  g_autofree char *problem = NULL;

  if (reply != NULL)
    fail_msg ("%s succeeded; expected %s", what, name);
  problem = sim_fixture_check_remote_error (error, name, message);
  if (problem != NULL)
    fail_msg ("%s: expected %s: %s, got %s", what, name, message, problem);
}

/* Adapter1: 5.82's Manufacturer and Version are btvirt's (objects-idle.json);
 * 5.66 has neither. */
static void
test_adapter_properties (void **state)
{
  g_autoptr(GVariant) manufacturer = sim_fixture_get_property (fx, ADAPTER, "org.bluez.Adapter1",
                                                               "Manufacturer");
  g_autoptr(GVariant) version = sim_fixture_get_property (fx, ADAPTER, "org.bluez.Adapter1",
                                                          "Version");
  g_autoptr(GVariant) connectable = sim_fixture_get_property (fx, ADAPTER, "org.bluez.Adapter1",
                                                              "Connectable");

  if (!test_data_bluez_is_582 ())
    {
      assert_null (manufacturer);
      assert_null (version);
      assert_null (connectable);
      return;
    }
  assert_non_null (manufacturer);
  assert_int_equal (g_variant_get_uint16 (manufacturer), 1521);
  assert_non_null (version);
  assert_int_equal (g_variant_get_byte (version), 9);
  assert_non_null (connectable);
  assert_false (g_variant_get_boolean (connectable));
}

/* GAP, claimed by bluetoothd's gap plugin: no object on 5.66, exported
 * (read-only) on 5.82 (objects-connected.json's service0001). */
static void
test_claimed_service_exported (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *gap = NULL;

  assert_true (sim_fixture_connect_device (fx, device, &error));
  gap = sim_fixture_find_gatt (fx, device, SERVICE1, GAP_UUID, NULL, NULL);
  if (test_data_bluez_is_582 ())
    assert_non_null (gap);
  else
    assert_null (gap);
}

/* Writing a CCCD: NotPermitted on both, except in a service a plugin
 * claims (Battery, internal since 5.82), where 5.82 answers NotAuthorized
 * first (src/gatt-client.c descriptor_write_value()). */
static void
test_cccd_write (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) error2 = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) reply2 = NULL;
  g_autofree char *battery = NULL;
  g_autofree char *battery_cccd = NULL;
  g_autofree char *hrm = NULL;
  g_autofree char *hrm_cccd = NULL;
  static const guint8 on[] = { 0x01, 0x00 };

  assert_true (sim_fixture_connect_device (fx, device, &error));
  battery = sim_fixture_find_gatt (fx, device, CHR1, BATTERY_LEVEL_UUID, NULL, NULL);
  hrm = sim_fixture_find_gatt (fx, device, CHR1, HEART_RATE_MEASUREMENT_UUID, NULL, NULL);
  assert_non_null (battery);
  assert_non_null (hrm);
  battery_cccd = sim_fixture_find_gatt (fx, battery, DESC1, CCCD_UUID, NULL, NULL);
  hrm_cccd = sim_fixture_find_gatt (fx, hrm, DESC1, CCCD_UUID, NULL, NULL);
  assert_non_null (battery_cccd);
  assert_non_null (hrm_cccd);

  reply = sim_fixture_call_bluez (fx, battery_cccd, DESC1, "WriteValue",
                                  g_variant_new ("(@aya{sv})",
                                                 g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, on, 2, 1),
                                                 NULL),
                                  &error);
  if (test_data_bluez_is_582 ())
    expect_error (reply, error, "the Battery Level CCCD", "org.bluez.Error.NotAuthorized",
                  "Operation Not Authorized");
  else
    expect_error (reply, error, "the Battery Level CCCD", "org.bluez.Error.NotPermitted",
                  "Write not permitted");
  reply2 = sim_fixture_call_bluez (fx, hrm_cccd, DESC1, "WriteValue",
                                   g_variant_new ("(@aya{sv})",
                                                  g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, on, 2, 1),
                                                  NULL),
                                   &error2);
  expect_error (reply2, error2, "the Heart Rate Measurement CCCD", "org.bluez.Error.NotPermitted",
                "Write not permitted");
}

/* GetServiceRecords (5.82 only): an LE link resolves no SDP records. */
static void
test_get_service_records (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  if (!test_data_bluez_is_582 ())
    skip ();
  assert_true (sim_fixture_connect_device (fx, device, &error));
  reply = sim_fixture_call_bluez (fx, device, "org.bluez.Device1", "GetServiceRecords",
                                  NULL, &error);
  expect_error (reply, error, "GetServiceRecords while connected", "org.bluez.Error.NotReady",
                "Resource Not Ready");
}

static int
group_setup (void **state)
{
  g_autoptr(GError) error = NULL;

  if (!sim_fixture_start (&fx, &agent))
    return -1;
  device = sim_fixture_find_device (fx, ADAPTER, DEMO_NAME, &error);
  if (device == NULL)
    {
      g_printerr ("demo peripheral: %s\n", error->message);
      return -1;
    }
  return 0;
}

static int
group_teardown (void **state)
{
  g_clear_pointer (&agent, sim_agent_free);
  g_clear_pointer (&fx, sim_fixture_free);
  g_clear_pointer (&device, g_free);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_adapter_properties),
    cmocka_unit_test (test_claimed_service_exported),
    cmocka_unit_test (test_cccd_write),
    cmocka_unit_test (test_get_service_records),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
