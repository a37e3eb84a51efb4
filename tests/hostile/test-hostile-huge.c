/* SPDX-License-Identifier: MIT */
/*
 * Hostile BlueZ, huge values: 100,000 UUIDs, 60,000 ManufacturerData
 * entries, a 64 KiB name, 10,000 services. Their waits are bounded by
 * HUGE_WAIT_MSEC, far above what they take on an idle machine (a few
 * seconds): a loaded machine spends long moving megabytes of D-Bus
 * messages, and under valgrind the library's side of one such message
 * took over 90 s. Only a failure waits that long (and meson's timeout may
 * end it first).
 */
#include "hostile.h"

#define HUGE_WAIT_MSEC 600000

/* 100,000 UUIDs (271,058 bytes of lists): the rebuilt advertisement
 * stops at the 1650 bytes an extended advertisement can carry, filled
 * with whole list structures (none cut: each at most 256 bytes). A buffer
 * smaller than that entry counts it as dropped, never holds it; the usual
 * 4 KiB buffer takes it, as well-formed AD data. */
static void
test_uuids_100000 (void **state)
{
  Hostile *h = *state;
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(BleioScanEntry) dropped_entry = NULL;
  g_autoptr(BleioScanEntry) entry = NULL;
  guint dropped = 0;

  for (guint i = 0; i < 100000; i++)
    g_ptr_array_add (strings, g_strdup_printf ("%08x-0000-1000-8000-00805f9b34fb", i));
  hostile_property_quiet (h, DEV, IFACE_DEVICE, "UUIDs",
                          g_variant_new_strv ((const char *const *) strings->pdata, strings->len));
  dropped_entry = hostile_scan_full (h, HOSTILE_ADDRESS, HUGE_WAIT_MSEC, 1024, &dropped);
  assert_null (dropped_entry);
  assert_true (dropped > 0);
  entry = hostile_scan_full (h, HOSTILE_ADDRESS, HUGE_WAIT_MSEC, 4096, NULL);
  assert_non_null (entry);
  assert_adv_valid (entry);
  assert_true (adv_len (entry) <= 1650);
  assert_true (adv_len (entry) > 1650 - 256);
}

/* 60,000 ManufacturerData entries, some 600 bytes long. */
static void
test_manufacturer_data_60000 (void **state)
{
  Hostile *h = *state;
  GVariantBuilder b;
  guint8 big[600];
  g_autoptr(BleioScanEntry) entry = NULL;

  memset (big, 0xab, sizeof big);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{qv}"));
  for (guint i = 0; i < 60000; i++)
    g_variant_builder_add (&b, "{qv}", (guint16) i,
                           g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, big,
                                                      i % 1000 == 0 ? sizeof big : 2, 1));
  hostile_property_quiet (h, DEV, IFACE_DEVICE, "ManufacturerData", g_variant_builder_end (&b));
  entry = hostile_scan_full (h, HOSTILE_ADDRESS, HUGE_WAIT_MSEC, 4096, NULL);
  assert_non_null (entry);
  assert_adv_valid (entry);
  /* One structure per company, each cut to 254 bytes of data, as many as
   * fit the 1650 bytes of an extended advertisement: what is left over is
   * less than one structure of the largest size. */
  assert_true (adv_len (entry) <= 1650);
  assert_true (adv_len (entry) > 1650 - 256);
}

/* A 64 KiB name: the rebuilt advertisement carries a shortened name that
 * fits one AD field. */
static void
test_name_64k (void **state)
{
  Hostile *h = *state;
  g_autofree char *name = g_malloc (65537);
  g_autoptr(BleioScanEntry) entry = NULL;
  g_autoptr(GBytes) shortened = NULL;

  memset (name, 'n', 65536);
  name[65536] = '\0';
  hostile_property_quiet (h, DEV, IFACE_DEVICE, "Name", g_variant_new_string (name));
  entry = hostile_scan_full (h, HOSTILE_ADDRESS, HUGE_WAIT_MSEC, 4096, NULL);
  assert_non_null (entry);
  assert_adv_valid (entry);
  shortened = adv_field (entry, BLEIO_AD_TYPE_SHORT_NAME);
  assert_non_null (shortened);
  assert_true (g_bytes_get_size (shortened) <= 254);
}

/* 10,000 services in GetManagedObjects under the device (there before
 * the library first looks): discovery lists them all, in handle order. */
static void
test_services_10000 (void **state)
{
  Hostile *h = *state;
  GVariantBuilder objects;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioAddress) address = NULL;
  g_autoptr(GError) error = NULL;

  g_variant_builder_init (&objects, G_VARIANT_TYPE ("a{oa{sa{sv}}}"));
  for (guint i = 0; i < 10000; i++)
    {
      g_autofree char *path = g_strdup_printf (DEV "/service%04x", 0x1000 + i);
      g_autofree char *uuid = g_strdup_printf ("%08x-0000-1000-8000-00805f9b34fb", 0x10000 + i);

      g_variant_builder_add_parsed (&objects,
                                    "{%o, {'org.bluez.GattService1': {'UUID': <%s>, 'Device': <%o>, 'Primary': <true>}}}",
                                    path, uuid, DEV);
    }
  hostile_objects (h, g_variant_builder_end (&objects), FALSE);
  address = hostile_address ();
  connection = bleio_adapter_connect (hostile_adapter (h), address, HUGE_WAIT_MSEC / 1000, NULL, &error);
  assert_no_error (error);
  services = bleio_connection_discover_remote_services (connection, NULL, HUGE_WAIT_MSEC / 1000, &error);
  assert_no_error (error);
  assert_non_null (services);
  assert_int_equal (services->len, 10002);
  assert_int_equal (bleio_service_get_handle (g_ptr_array_index (services, 0)), 0x0010);
  assert_int_equal (bleio_service_get_handle (g_ptr_array_index (services, 10001)), 0x1000 + 9999);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    HOSTILE_TEST (test_uuids_100000),
    HOSTILE_TEST (test_manufacturer_data_60000),
    HOSTILE_TEST (test_name_64k),
    HOSTILE_TEST (test_services_10000),
  };

  return hostile_run_tests (tests, G_N_ELEMENTS (tests), argc, argv);
}
