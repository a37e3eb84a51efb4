/* SPDX-License-Identifier: MIT */
/*
 * A GetManagedObjects reply (a{oa{sa{sv}}}) built from arbitrary bytes,
 * taken apart as the library takes the object manager's cache apart:
 * every object and interface goes through the conversions the library
 * applies to it (Adapter1 and Device1 addresses, the Device1 scan entry,
 * GattService1 / GattCharacteristic1 / GattDescriptor1 UUIDs, Primary,
 * Flags, MTU and handles from the path), and every property value, of
 * whatever type, through every value conversion.
 */
#include "fuzz-common.h"

#include "bleio-scan-private.h"
#include "bleio-gatt-private.h"
#include "bleio-values-private.h"
#include "bleio-path-private.h"

#include <string.h>

static const char *const types[] = {
  "a{oa{sa{sv}}}",
  "a{sa{sa{sv}}}",
  "a{oa{sv}}",
  "a{oa{sa{ss}}}",
  "(a{oa{sa{sv}}})",
  "a{sv}",
};

/* Each value conversion must take any value. */
static void
convert_value (GVariant *value)
{
  g_autoptr(BleioUuid) uuid = bleio_uuid_from_bluez_value (value);
  g_autoptr(BleioAddress) address = bleio_address_from_bluez_values (value, value);
  guint16 mtu = bleio_mtu_from_bluez_value (value, 23);

  fuzz_check (mtu == 0 || (mtu >= 23 && mtu <= 517), "an MTU is within ATT's 23..517");
  fuzz_check (uuid == NULL || g_variant_is_of_type (value, G_VARIANT_TYPE_STRING), "only a string is a UUID");
  fuzz_check (address == NULL || g_variant_is_of_type (value, G_VARIANT_TYPE_STRING), "only a string is an address");
  (void) bleio_boolean_from_bluez_value (value, TRUE);
  (void) bleio_properties_from_bluez_value (value);
}

static void
convert_interface (const char *path,
                   const char *interface,
                   GVariant   *props)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, props);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    convert_value (value);

  if (g_str_equal (interface, "org.bluez.Adapter1") ||
      g_str_equal (interface, "org.bluez.Device1"))
    {
      g_autoptr(GVariant) address = g_variant_lookup_value (props, "Address", NULL);
      g_autoptr(GVariant) type = g_variant_lookup_value (props, "AddressType", NULL);
      g_autoptr(BleioAddress) parsed = bleio_address_from_bluez_values (address, type);
      g_autoptr(GVariant) adapter = g_variant_lookup_value (props, "Adapter", G_VARIANT_TYPE_OBJECT_PATH);

      if (adapter != NULL)
        {
          BleioScanEntry *entry = bleio_scan_entry_new_from_bluez (props,
                                                                   g_variant_get_string (adapter, NULL),
                                                                   G_MININT, NULL);

          if (entry != NULL)
            {
              g_autofree char *name = bleio_scan_entry_dup_complete_name (entry);

              fuzz_check (parsed != NULL, "an entry has the device's address");
              fuzz_check (name == NULL || strlen (name) <= 254, "a name comes from one structure");
              bleio_scan_entry_unref (entry);
            }
        }
    }
  else if (g_str_equal (interface, "org.bluez.GattService1") ||
           g_str_equal (interface, "org.bluez.GattCharacteristic1") ||
           g_str_equal (interface, "org.bluez.GattDescriptor1"))
    {
      g_autoptr(GVariant) uuid_value = g_variant_lookup_value (props, "UUID", NULL);
      g_autoptr(GVariant) primary = g_variant_lookup_value (props, "Primary", NULL);
      g_autoptr(GVariant) flags = g_variant_lookup_value (props, "Flags", NULL);
      g_autoptr(GVariant) mtu = g_variant_lookup_value (props, "MTU", NULL);
      g_autoptr(BleioUuid) uuid = bleio_uuid_from_bluez_value (uuid_value);
      BleioCharacteristicProperties properties = bleio_properties_from_bluez_value (flags);

      fuzz_check ((properties & ~(BLEIO_CHARACTERISTIC_PROPERTY_BROADCAST |
                                  BLEIO_CHARACTERISTIC_PROPERTY_READ |
                                  BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE |
                                  BLEIO_CHARACTERISTIC_PROPERTY_WRITE |
                                  BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY |
                                  BLEIO_CHARACTERISTIC_PROPERTY_INDICATE)) == 0,
                  "only _bleio property bits come out of Flags");
      (void) bleio_boolean_from_bluez_value (primary, TRUE);
      (void) bleio_mtu_from_bluez_value (mtu, 23);
      fuzz_check (!bleio_uuid_is_cccd (uuid) || uuid_value != NULL, "a CCCD comes from a UUID property");
      fuzz_check (bleio_path_handle (path, "service") <= 0xFFFF &&
                  bleio_path_handle (path, "char") <= 0xFFFF &&
                  bleio_path_handle (path, "desc") <= 0xFFFF, "a handle fits 16 bits");
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GVariant) reply = NULL;
  GVariantIter objects;
  const char *path;
  GVariant *interfaces;

  if (size == 0)
    return 0;
  reply = fuzz_variant_new (fuzz_pick_type (data[0], types, G_N_ELEMENTS (types)),
                            data + 1, size - 1);
  if (!g_variant_is_of_type (reply, G_VARIANT_TYPE ("a{oa{sa{sv}}}")))
    {
      /* A reply of another type: the conversions refuse it whole. */
      convert_value (reply);
      fuzz_check (bleio_scan_entry_new_from_bluez (reply, "/org/bluez/hci0", G_MININT, NULL) == NULL,
                  "a non-dict makes no entry");
      return 0;
    }

  g_variant_iter_init (&objects, reply);
  while (g_variant_iter_loop (&objects, "{&o@a{sa{sv}}}", &path, &interfaces))
    {
      GVariantIter iter;
      const char *interface;
      GVariant *props;

      (void) bleio_path_handle (path, "service");
      g_variant_iter_init (&iter, interfaces);
      while (g_variant_iter_loop (&iter, "{&s@a{sv}}", &interface, &props))
        convert_interface (path, interface, props);
    }
  return 0;
}
