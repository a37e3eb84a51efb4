/* SPDX-License-Identifier: MIT */
/*
 * A small table of Bluetooth SIG assigned numbers (GATT services,
 * characteristics and descriptors) so that `bleioctl services` can say
 * "Battery Level" next to 2a19. It holds the common ones; anything else is
 * printed by UUID alone.
 */
#include "bleioctl-names.h"

typedef struct {
  guint16 uuid16;
  const char *name;
} NameEntry;

static const NameEntry services[] = {
  { 0x1800, "Generic Access" },
  { 0x1801, "Generic Attribute" },
  { 0x1802, "Immediate Alert" },
  { 0x1803, "Link Loss" },
  { 0x1804, "Tx Power" },
  { 0x1805, "Current Time" },
  { 0x1808, "Glucose" },
  { 0x1809, "Health Thermometer" },
  { 0x180a, "Device Information" },
  { 0x180d, "Heart Rate" },
  { 0x180f, "Battery" },
  { 0x1810, "Blood Pressure" },
  { 0x1812, "Human Interface Device" },
  { 0x1814, "Running Speed and Cadence" },
  { 0x1816, "Cycling Speed and Cadence" },
  { 0x1818, "Cycling Power" },
  { 0x1819, "Location and Navigation" },
  { 0x181a, "Environmental Sensing" },
  { 0x181c, "User Data" },
  { 0x181d, "Weight Scale" },
  { 0x1826, "Fitness Machine" },
};

static const NameEntry characteristics[] = {
  { 0x2a00, "Device Name" },
  { 0x2a01, "Appearance" },
  { 0x2a04, "Peripheral Preferred Connection Parameters" },
  { 0x2a05, "Service Changed" },
  { 0x2a06, "Alert Level" },
  { 0x2a07, "Tx Power Level" },
  { 0x2a19, "Battery Level" },
  { 0x2a1c, "Temperature Measurement" },
  { 0x2a23, "System ID" },
  { 0x2a24, "Model Number String" },
  { 0x2a25, "Serial Number String" },
  { 0x2a26, "Firmware Revision String" },
  { 0x2a27, "Hardware Revision String" },
  { 0x2a28, "Software Revision String" },
  { 0x2a29, "Manufacturer Name String" },
  { 0x2a2a, "IEEE 11073-20601 Regulatory Certification Data List" },
  { 0x2a2b, "Current Time" },
  { 0x2a35, "Blood Pressure Measurement" },
  { 0x2a37, "Heart Rate Measurement" },
  { 0x2a38, "Body Sensor Location" },
  { 0x2a39, "Heart Rate Control Point" },
  { 0x2a4a, "HID Information" },
  { 0x2a4b, "Report Map" },
  { 0x2a4c, "HID Control Point" },
  { 0x2a4d, "Report" },
  { 0x2a4e, "Protocol Mode" },
  { 0x2a50, "PnP ID" },
  { 0x2a5b, "CSC Measurement" },
  { 0x2a63, "Cycling Power Measurement" },
  { 0x2a6d, "Pressure" },
  { 0x2a6e, "Temperature" },
  { 0x2a6f, "Humidity" },
  { 0x2aa6, "Central Address Resolution" },
  { 0x2b29, "Client Supported Features" },
  { 0x2b2a, "Database Hash" },
  { 0x2b3a, "Server Supported Features" },
};

static const NameEntry descriptors[] = {
  { 0x2900, "Characteristic Extended Properties" },
  { 0x2901, "Characteristic User Description" },
  { 0x2902, "Client Characteristic Configuration" },
  { 0x2903, "Server Characteristic Configuration" },
  { 0x2904, "Characteristic Presentation Format" },
  { 0x2905, "Characteristic Aggregate Format" },
  { 0x2906, "Valid Range" },
  { 0x2907, "External Report Reference" },
  { 0x2908, "Report Reference" },
};

/* Vendor services common enough that a tool should know them. */
static const struct {
  const char *uuid;
  CtlNameKind kind;
  const char *name;
} vendor[] = {
  { "6e400001-b5a3-f393-e0a9-e50e24dcca9e", CTL_NAME_SERVICE, "Nordic UART Service" },
  { "6e400002-b5a3-f393-e0a9-e50e24dcca9e", CTL_NAME_CHARACTERISTIC, "Nordic UART RX" },
  { "6e400003-b5a3-f393-e0a9-e50e24dcca9e", CTL_NAME_CHARACTERISTIC, "Nordic UART TX" },
};

static const char *
lookup16 (const NameEntry *table,
          gsize            n,
          guint16          value)
{
  gsize lo = 0, hi = n;

  /* The tables are sorted by value. */
  while (lo < hi)
    {
      gsize mid = lo + (hi - lo) / 2;

      if (table[mid].uuid16 == value)
        return table[mid].name;
      if (table[mid].uuid16 < value)
        lo = mid + 1;
      else
        hi = mid;
    }
  return NULL;
}

const char *
ctl_uuid_name (const BleioUuid *uuid,
               CtlNameKind      kind)
{
  if (bleio_uuid_get_size (uuid) == 16)
    {
      guint16 value = bleio_uuid_get_uuid16 (uuid);

      switch (kind)
        {
        case CTL_NAME_SERVICE:
          return lookup16 (services, G_N_ELEMENTS (services), value);
        case CTL_NAME_CHARACTERISTIC:
          return lookup16 (characteristics, G_N_ELEMENTS (characteristics), value);
        case CTL_NAME_DESCRIPTOR:
          return lookup16 (descriptors, G_N_ELEMENTS (descriptors), value);
        default:
          return NULL;
        }
    }
  else
    {
      g_autofree char *text = bleio_uuid_to_string (uuid);

      for (gsize i = 0; i < G_N_ELEMENTS (vendor); i++)
        if (vendor[i].kind == kind && g_ascii_strcasecmp (vendor[i].uuid, text) == 0)
          return vendor[i].name;
      return NULL;
    }
}

char *
ctl_uuid_format (const BleioUuid *uuid)
{
  if (bleio_uuid_get_size (uuid) == 16)
    return g_strdup_printf ("%04x", bleio_uuid_get_uuid16 (uuid));
  return bleio_uuid_to_string (uuid);
}

char *
ctl_value_describe (const BleioUuid *uuid,
                    GBytes          *value)
{
  static const char *const locations[] = {
    "Other", "Chest", "Wrist", "Finger", "Hand", "Ear Lobe", "Foot",
  };
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (value, &len);

  if (bleio_uuid_get_size (uuid) != 16 || len == 0)
    return NULL;
  switch (bleio_uuid_get_uuid16 (uuid))
    {
    case 0x2a19: /* Battery Level: uint8, percent */
      return len == 1 && data[0] <= 100 ? g_strdup_printf ("%u %%", data[0]) : NULL;
    case 0x2a07: /* Tx Power Level: sint8, dBm */
      return len == 1 ? g_strdup_printf ("%d dBm", (gint8) data[0]) : NULL;
    case 0x2a37: /* Heart Rate Measurement: flags, then uint8 or uint16 bpm */
      if ((data[0] & 0x01) == 0)
        return len >= 2 ? g_strdup_printf ("%u bpm", data[1]) : NULL;
      return len >= 3 ? g_strdup_printf ("%u bpm", (guint) data[1] | (guint) data[2] << 8) : NULL;
    case 0x2a38: /* Body Sensor Location: enumeration */
      return len == 1 && data[0] < G_N_ELEMENTS (locations) ? g_strdup (locations[data[0]]) : NULL;
    case 0x2a6e: /* Temperature: sint16, 0.01 degree Celsius */
      return len == 2 ? g_strdup_printf ("%.2f \xc2\xb0" "C", (gint16) (data[0] | data[1] << 8) / 100.0)
                      : NULL;
    case 0x2a6f: /* Humidity: uint16, 0.01 percent */
      return len == 2 ? g_strdup_printf ("%.2f %%", (guint16) (data[0] | data[1] << 8) / 100.0)
                      : NULL;
    default:
      return NULL;
    }
}
