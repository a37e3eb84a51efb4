/* SPDX-License-Identifier: MIT */
/*
 * bleio-e2e-peripheral: the e2e guest's test peripheral. It runs on the
 * second btvirt controller (hci1) of the same bluetoothd the central uses,
 * and offers the GATT database and name of the simulator's demo scenario
 * (tools/bleio-sim/scenarios/demo.json), so one test source can run against
 * both.
 *
 * It registers with bluetoothd through GattManager1.RegisterApplication,
 * LEAdvertisingManager1.RegisterAdvertisement and, for Just Works pairing
 * on the peripheral side, a NoInputNoOutput default agent that accepts
 * everything (none with BLEIO_E2E_PERIPHERAL_AGENT=0). When bluetoothd goes
 * away and comes back it registers again.
 * Once registered it creates the file named by $BLEIO_E2E_READY_FILE
 * (default /run/e2e/peripheral-ready), and removes it when bluetoothd goes.
 *
 * Its database can change under a live link, as a firmware update's does:
 * the custom service is a second application, and setting the property
 * Version (u) of org.bleio.E2EPeripheral1 on /org/bleio/e2e/control to 2
 * (through org.freedesktop.DBus.Properties, which the guest's D-Bus
 * policy lets through where it stops an interface of ours) unregisters
 * that application, replaces it with the second version below
 * (custom_chrs_v2: "Read me" gone, a "Version" characteristic before the
 * others) and registers it again; 1 goes back. The property reads 0
 * while the change is under way. bluetoothd sends the connected centrals
 * Service Changed for what went and for what came (issue 19 item 7).
 *
 * btvirt's controllers send an advertising report only when scanning or
 * advertising is switched on, and the kernel drops reports that arrive
 * before its discovery has fully started; a real controller repeats its
 * advertisements. So when another adapter of this bluetoothd starts
 * discovering while nobody is connected to us, and ADV_REFRESH_MSEC later
 * it still has not heard us (its Device1 for us lacks an RSSI or our
 * name), the advertisement is registered anew, which makes btvirt report
 * it once more, now to a discovery that listens. Only then: re-advertising while the
 * central connects made bluetoothd see the link twice and never answer
 * Device1.Connect.
 *
 * Usage: bleio-e2e-peripheral [ADAPTER]   (default hci1)
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <gio/gio.h>
#include <signal.h>
#include <string.h>

#include "agent1.h"

#define BLUEZ "org.bluez"
#define APP_PATH "/org/bleio/e2e"
/* The custom service is an application of its own, so that changing it
 * (Version) leaves the others alone. */
#define CUSTOM_APP_PATH APP_PATH "/custom"
#define ADV_PATH APP_PATH "/advertisement"
#define AGENT_PATH APP_PATH "/agent"
#define LOCAL_NAME "InterestingPeripheral"
#define ADV_REFRESH_MSEC 300

/* ---- the GATT database ---- */

typedef struct {
  const char *uuid;
  const char *flags;         /* comma-separated BlueZ flag names */
  const char *value_hex;     /* initial value */
  guint notify_period_ms;    /* 0: no stream while notifying */
  const char *stream_hex;    /* comma-separated payloads sent in turn */
  const char *description;   /* a readable 0x2901 descriptor, or NULL */
} ChrDef;

typedef struct {
  const char *uuid;
  const ChrDef *chrs;
} SvcDef;

#define CUSTOM_UUID(n) "12345678-1234-5678-1234-56789abcdef" n

/* The values of tools/bleio-sim/scenarios/demo.json. */
static const ChrDef heart_rate_chrs[] = {
  /* Heart Rate Measurement: flags (uint8 bpm, contact detected), bpm. */
  { "00002a37-0000-1000-8000-00805f9b34fb", "notify", "0648", 1000,
    "0648,064a,064c,0650,064e" },
  /* Body Sensor Location: chest. */
  { "00002a38-0000-1000-8000-00805f9b34fb", "read", "01", 0, NULL },
  /* Heart Rate Control Point. */
  { "00002a39-0000-1000-8000-00805f9b34fb", "write", "", 0, NULL },
  { NULL }
};

static const ChrDef battery_chrs[] = {
  /* Battery Level, percent: 98. */
  { "00002a19-0000-1000-8000-00805f9b34fb", "read,notify", "62", 0, NULL },
  { NULL }
};

static const ChrDef device_info_chrs[] = {
  /* Manufacturer Name "bleio", Model Number "Sim-1", PnP ID. */
  { "00002a29-0000-1000-8000-00805f9b34fb", "read", "626c65696f", 0, NULL },
  { "00002a24-0000-1000-8000-00805f9b34fb", "read", "53696d2d31", 0, NULL },
  { "00002a50-0000-1000-8000-00805f9b34fb", "read", "026b1d46024205", 0, NULL },
  { NULL }
};

static const ChrDef custom_chrs[] = {
  /* read: "Hello" */
  { CUSTOM_UUID ("1"), "read", "48656c6c6f", 0, NULL, "Read me" },
  /* read and write request */
  { CUSTOM_UUID ("2"), "read,write", "00", 0, NULL, "Write me" },
  /* write without response */
  { CUSTOM_UUID ("3"), "write-without-response", "", 0, NULL, "Command" },
  /* notify: a counter stream */
  { CUSTOM_UUID ("4"), "notify", "00", 500, "00,01,02,03", "Counter" },
  /* read over an encrypted link only: "secret" */
  { CUSTOM_UUID ("5"), "read,encrypt-read", "736563726574", 0, NULL, "Secret" },
  /* the same UUID twice (as HID does): distinct characteristics */
  { CUSTOM_UUID ("6"), "read,notify", "01", 0, NULL, "Report 1" },
  { CUSTOM_UUID ("6"), "read,notify", "02", 0, NULL, "Report 2" },
  { NULL }
};

static const SvcDef services[] = {
  { "0000180d-0000-1000-8000-00805f9b34fb", heart_rate_chrs },
  { "0000180f-0000-1000-8000-00805f9b34fb", battery_chrs },
  { "0000180a-0000-1000-8000-00805f9b34fb", device_info_chrs },
  { NULL }
};

static const SvcDef custom_services[] = {
  { CUSTOM_UUID ("0"), custom_chrs },
  { NULL }
};

/* The second version of the custom service (Version 2): "Read me"
 * is gone, "Version" (read: 02) comes first, the rest stays. */
static const ChrDef custom_chrs_v2[] = {
  { CUSTOM_UUID ("7"), "read", "02", 0, NULL, "Version" },
  { CUSTOM_UUID ("2"), "read,write", "00", 0, NULL, "Write me" },
  { CUSTOM_UUID ("3"), "write-without-response", "", 0, NULL, "Command" },
  { CUSTOM_UUID ("4"), "notify", "00", 500, "00,01,02,03", "Counter" },
  { CUSTOM_UUID ("5"), "read,encrypt-read", "736563726574", 0, NULL, "Secret" },
  { CUSTOM_UUID ("6"), "read,notify", "01", 0, NULL, "Report 1" },
  { CUSTOM_UUID ("6"), "read,notify", "02", 0, NULL, "Report 2" },
  { NULL }
};

static const SvcDef custom_services_v2[] = {
  { CUSTOM_UUID ("0"), custom_chrs_v2 },
  { NULL }
};

/* ---- runtime state ---- */

typedef struct _Peripheral Peripheral;

typedef struct {
  Peripheral *self;
  const ChrDef *def;
  char *path;
  char *service_path;
  GByteArray *value;
  GPtrArray *stream;         /* GBytes */
  guint stream_pos;
  gboolean notifying;
  guint notify_source;
  char *desc_path;           /* its 0x2901 descriptor, or NULL */
} Chr;

typedef struct {
  const SvcDef *def;
  char *path;
  GPtrArray *chrs;           /* Chr */
} Svc;

struct _Peripheral {
  GMainLoop *loop;
  GDBusConnection *bus;
  GDBusNodeInfo *node;
  char *adapter_path;
  char *ready_file;
  GPtrArray *svcs;           /* Svc, of both applications */
  const SvcDef *custom_defs; /* the custom application's version */
  GArray *registrations;     /* guint: the roots, advertisement, agent, control */
  GArray *gatt_registrations; /* guint: the services and their children */
  GArray *custom_registrations; /* guint: those of the custom application */
  gboolean changing;         /* a change of Version under way */
  gboolean app_registered;
  gboolean adv_registered;
  gboolean agent_registered;
  GCancellable *cancellable; /* registration calls of the current bluetoothd */
  gboolean failed;
  GHashTable *discovering;   /* adapter paths (not ours) that discover */
  GHashTable *connected;     /* our Device1 paths that are connected */
  gboolean refreshing;       /* an Unregister/Register round is under way */
  guint power_attempts;
  guint refresh_source;
  const char *address;       /* ours, as BlueZ writes it */
};

static const char introspection_xml[] =
  "<node>"
  "  <interface name='org.freedesktop.DBus.ObjectManager'>"
  "    <method name='GetManagedObjects'>"
  "      <arg name='objects' type='a{oa{sa{sv}}}' direction='out'/>"
  "    </method>"
  "  </interface>"
  "  <interface name='org.bluez.GattService1'>"
  "    <property name='UUID' type='s' access='read'/>"
  "    <property name='Primary' type='b' access='read'/>"
  "  </interface>"
  "  <interface name='org.bluez.GattCharacteristic1'>"
  "    <method name='ReadValue'>"
  "      <arg name='options' type='a{sv}' direction='in'/>"
  "      <arg name='value' type='ay' direction='out'/>"
  "    </method>"
  "    <method name='WriteValue'>"
  "      <arg name='value' type='ay' direction='in'/>"
  "      <arg name='options' type='a{sv}' direction='in'/>"
  "    </method>"
  "    <method name='StartNotify'/>"
  "    <method name='StopNotify'/>"
  "    <property name='UUID' type='s' access='read'/>"
  "    <property name='Service' type='o' access='read'/>"
  "    <property name='Flags' type='as' access='read'/>"
  "    <property name='Value' type='ay' access='read'/>"
  "    <property name='Notifying' type='b' access='read'/>"
  "  </interface>"
  "  <interface name='org.bluez.GattDescriptor1'>"
  "    <method name='ReadValue'>"
  "      <arg name='options' type='a{sv}' direction='in'/>"
  "      <arg name='value' type='ay' direction='out'/>"
  "    </method>"
  "    <property name='UUID' type='s' access='read'/>"
  "    <property name='Characteristic' type='o' access='read'/>"
  "    <property name='Flags' type='as' access='read'/>"
  "  </interface>"
  "  <interface name='org.bleio.E2EPeripheral1'>"
  "    <property name='Version' type='u' access='readwrite'/>"
  "  </interface>"
  "  <interface name='org.bluez.LEAdvertisement1'>"
  "    <method name='Release'/>"
  "    <property name='Type' type='s' access='read'/>"
  "    <property name='LocalName' type='s' access='read'/>"
  "    <property name='ServiceUUIDs' type='as' access='read'/>"
  "    <property name='Discoverable' type='b' access='read'/>"
  "  </interface>"
  "</node>";

static GByteArray *
bytes_from_hex (const char *hex)
{
  GByteArray *out = g_byte_array_new ();
  gsize len = strlen (hex);

  g_assert (len % 2 == 0);
  for (gsize i = 0; i < len; i += 2)
    {
      guint8 b = (guint8) ((g_ascii_xdigit_value (hex[i]) << 4)
                           | g_ascii_xdigit_value (hex[i + 1]));
      g_byte_array_append (out, &b, 1);
    }
  return out;
}

static GVariant *
ay_variant (const guint8 *data, gsize len)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1);
}

static GVariant *
flags_variant (const char *flags)
{
  g_auto(GStrv) names = g_strsplit (flags, ",", -1);

  return g_variant_new_strv ((const char * const *) names, -1);
}

static void
chr_free (gpointer data)
{
  Chr *chr = data;

  g_clear_handle_id (&chr->notify_source, g_source_remove);
  g_free (chr->path);
  g_free (chr->desc_path);
  g_free (chr->service_path);
  g_byte_array_unref (chr->value);
  g_clear_pointer (&chr->stream, g_ptr_array_unref);
  g_free (chr);
}

static void
svc_free (gpointer data)
{
  Svc *svc = data;

  g_free (svc->path);
  g_ptr_array_unref (svc->chrs);
  g_free (svc);
}

/* ---- properties ---- */

static GVariant *
chr_get_property (Chr *chr, const char *name)
{
  if (g_str_equal (name, "UUID"))
    return g_variant_new_string (chr->def->uuid);
  if (g_str_equal (name, "Service"))
    return g_variant_new_object_path (chr->service_path);
  if (g_str_equal (name, "Flags"))
    return flags_variant (chr->def->flags);
  if (g_str_equal (name, "Value"))
    return ay_variant (chr->value->data, chr->value->len);
  if (g_str_equal (name, "Notifying"))
    return g_variant_new_boolean (chr->notifying);
  return NULL;
}

#define USER_DESCRIPTION_UUID "00002901-0000-1000-8000-00805f9b34fb"

/* The 0x2901 descriptor of @chr (its object's user data is the Chr). */
static GVariant *
desc_get_property (Chr *chr, const char *name)
{
  if (g_str_equal (name, "UUID"))
    return g_variant_new_string (USER_DESCRIPTION_UUID);
  if (g_str_equal (name, "Characteristic"))
    return g_variant_new_object_path (chr->path);
  if (g_str_equal (name, "Flags"))
    return flags_variant ("read");
  return NULL;
}

static GVariant *
svc_get_property (Svc *svc, const char *name)
{
  if (g_str_equal (name, "UUID"))
    return g_variant_new_string (svc->def->uuid);
  if (g_str_equal (name, "Primary"))
    return g_variant_new_boolean (TRUE);
  return NULL;
}

static GVariant *
adv_get_property (const char *name)
{
  /* With the flags, 27 of the 31 bytes; the name goes to the scan
   * response (BlueZ puts it there). */
  static const char *const uuids[] = {
    "0000180d-0000-1000-8000-00805f9b34fb",
    "0000180f-0000-1000-8000-00805f9b34fb",
    CUSTOM_UUID ("0"),
    NULL
  };

  if (g_str_equal (name, "Type"))
    return g_variant_new_string ("peripheral");
  if (g_str_equal (name, "LocalName"))
    return g_variant_new_string (LOCAL_NAME);
  if (g_str_equal (name, "ServiceUUIDs"))
    return g_variant_new_strv (uuids, -1);
  if (g_str_equal (name, "Discoverable"))
    return g_variant_new_boolean (TRUE);
  return NULL;
}

/* All properties of @iface on an object, as a{sv}. */
static GVariant *
all_properties (Peripheral *self, const char *iface, gpointer object)
{
  GDBusInterfaceInfo *info = g_dbus_node_info_lookup_interface (self->node, iface);
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  for (guint i = 0; info->properties && info->properties[i]; i++)
    {
      const char *name = info->properties[i]->name;
      GVariant *v = NULL;

      if (g_str_equal (iface, "org.bluez.GattCharacteristic1"))
        v = chr_get_property (object, name);
      else if (g_str_equal (iface, "org.bluez.GattService1"))
        v = svc_get_property (object, name);
      else if (g_str_equal (iface, "org.bluez.GattDescriptor1"))
        v = desc_get_property (object, name);
      if (v)
        g_variant_builder_add (&b, "{sv}", name, v);
    }
  return g_variant_builder_end (&b);
}

static void
chr_emit_changed (Chr *chr, const char *name)
{
  GVariantBuilder changed;

  g_variant_builder_init (&changed, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&changed, "{sv}", name, chr_get_property (chr, name));
  g_dbus_connection_emit_signal (chr->self->bus, NULL, chr->path,
                                 "org.freedesktop.DBus.Properties",
                                 "PropertiesChanged",
                                 g_variant_new ("(sa{sv}as)",
                                                "org.bluez.GattCharacteristic1",
                                                &changed, NULL),
                                 NULL);
}

/* ---- GATT method handlers ---- */

static guint16
option_offset (GVariant *options)
{
  guint16 offset = 0;

  g_variant_lookup (options, "offset", "q", &offset);
  return offset;
}

static gboolean
chr_notify_tick (gpointer data)
{
  Chr *chr = data;
  GBytes *next = g_ptr_array_index (chr->stream, chr->stream_pos);
  gsize len;
  const guint8 *bytes = g_bytes_get_data (next, &len);

  chr->stream_pos = (chr->stream_pos + 1) % chr->stream->len;
  g_byte_array_set_size (chr->value, 0);
  g_byte_array_append (chr->value, bytes, (guint) len);
  chr_emit_changed (chr, "Value");
  return G_SOURCE_CONTINUE;
}

static void
chr_method_call (Chr *chr, const char *method, GVariant *params,
                 GDBusMethodInvocation *invocation)
{
  if (g_str_equal (method, "ReadValue"))
    {
      g_autoptr(GVariant) options = g_variant_get_child_value (params, 0);
      guint16 offset = option_offset (options);

      if (offset > chr->value->len)
        {
          g_dbus_method_invocation_return_dbus_error (invocation,
              "org.bluez.Error.InvalidOffset", "Invalid offset");
          return;
        }
      g_dbus_method_invocation_return_value (invocation,
          g_variant_new_tuple ((GVariant *[]) {
            ay_variant (chr->value->data + offset, chr->value->len - offset) }, 1));
    }
  else if (g_str_equal (method, "WriteValue"))
    {
      g_autoptr(GVariant) value = g_variant_get_child_value (params, 0);
      g_autoptr(GVariant) options = g_variant_get_child_value (params, 1);
      guint16 offset = option_offset (options);
      gsize len;
      const guint8 *data = g_variant_get_fixed_array (value, &len, 1);

      if (offset > chr->value->len)
        {
          g_dbus_method_invocation_return_dbus_error (invocation,
              "org.bluez.Error.InvalidOffset", "Invalid offset");
          return;
        }
      g_byte_array_set_size (chr->value, offset);
      g_byte_array_append (chr->value, data, (guint) len);
      g_printerr ("peripheral: %s written, %u bytes\n", chr->def->uuid,
                  chr->value->len);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method, "StartNotify"))
    {
      if (!chr->notifying)
        {
          chr->notifying = TRUE;
          chr_emit_changed (chr, "Notifying");
          if (chr->stream && chr->def->notify_period_ms > 0)
            chr->notify_source = g_timeout_add (chr->def->notify_period_ms,
                                                chr_notify_tick, chr);
        }
      g_printerr ("peripheral: %s notifying\n", chr->def->uuid);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method, "StopNotify"))
    {
      if (chr->notifying)
        {
          chr->notifying = FALSE;
          g_clear_handle_id (&chr->notify_source, g_source_remove);
          chr_emit_changed (chr, "Notifying");
        }
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else
    g_dbus_method_invocation_return_dbus_error (invocation,
        "org.bluez.Error.NotSupported", "Not supported");
}

/* ---- the object tree ---- */

/* {iface: properties} for one object. */
static GVariant *
interfaces_and_properties (Peripheral *self, const char *iface, gpointer object)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sa{sv}}"));
  g_variant_builder_add (&b, "{s@a{sv}}", iface, all_properties (self, iface, object));
  return g_variant_builder_end (&b);
}

/* The objects of the application at @root. */
static GVariant *
get_managed_objects (Peripheral *self, const char *root)
{
  g_autofree char *prefix = g_strconcat (root, "/service", NULL);
  GVariantBuilder objects;

  g_variant_builder_init (&objects, G_VARIANT_TYPE ("a{oa{sa{sv}}}"));
  for (guint i = 0; i < self->svcs->len; i++)
    {
      Svc *svc = g_ptr_array_index (self->svcs, i);

      if (!g_str_has_prefix (svc->path, prefix))
        continue;
      g_variant_builder_add (&objects, "{o@a{sa{sv}}}", svc->path,
                             interfaces_and_properties (self, "org.bluez.GattService1", svc));
      for (guint j = 0; j < svc->chrs->len; j++)
        {
          Chr *chr = g_ptr_array_index (svc->chrs, j);

          g_variant_builder_add (&objects, "{o@a{sa{sv}}}", chr->path,
                                 interfaces_and_properties (self, "org.bluez.GattCharacteristic1", chr));
          if (chr->desc_path != NULL)
            g_variant_builder_add (&objects, "{o@a{sa{sv}}}", chr->desc_path,
                                   interfaces_and_properties (self, "org.bluez.GattDescriptor1", chr));
        }
    }
  return g_variant_builder_end (&objects);
}

static void
agent_method_call (const char *method, GDBusMethodInvocation *invocation)
{
  g_printerr ("peripheral: agent %s: accepted\n", method);
  if (g_str_equal (method, "RequestPinCode"))
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(s)", "0000"));
  else if (g_str_equal (method, "RequestPasskey"))
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", 0));
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
method_call (GDBusConnection *bus, const char *sender, const char *path,
             const char *iface, const char *method, GVariant *params,
             GDBusMethodInvocation *invocation, gpointer user_data)
{
  Peripheral *self = g_object_get_data (G_OBJECT (bus), "bleio-e2e-peripheral");

  if (g_str_equal (iface, "org.freedesktop.DBus.ObjectManager"))
    g_dbus_method_invocation_return_value (invocation,
        g_variant_new_tuple ((GVariant *[]) { get_managed_objects (self, path) }, 1));
  else if (g_str_equal (iface, "org.bluez.GattCharacteristic1"))
    chr_method_call (user_data, method, params, invocation);
  else if (g_str_equal (iface, "org.bluez.GattDescriptor1"))
    {
      Chr *chr = user_data;
      const char *text = chr->def->description;

      g_dbus_method_invocation_return_value (invocation,
          g_variant_new_tuple ((GVariant *[]) {
            ay_variant ((const guint8 *) text, strlen (text)) }, 1));
    }
  else if (g_str_equal (iface, "org.bluez.Agent1"))
    agent_method_call (method, invocation);

  else if (g_str_equal (iface, "org.bluez.LEAdvertisement1"))
    {
      g_printerr ("peripheral: advertisement released\n");
      self->adv_registered = FALSE;
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else
    g_dbus_method_invocation_return_dbus_error (invocation,
        "org.freedesktop.DBus.Error.UnknownMethod", "Unknown method");
}

static GVariant *
get_property (GDBusConnection *bus, const char *sender, const char *path,
              const char *iface, const char *name, GError **error,
              gpointer user_data)
{
  GVariant *v = NULL;

  if (g_str_equal (iface, "org.bluez.GattCharacteristic1"))
    v = chr_get_property (user_data, name);
  else if (g_str_equal (iface, "org.bluez.GattService1"))
    v = svc_get_property (user_data, name);
  else if (g_str_equal (iface, "org.bluez.GattDescriptor1"))
    v = desc_get_property (user_data, name);
  else if (g_str_equal (iface, "org.bluez.LEAdvertisement1"))
    v = adv_get_property (name);
  else if (g_str_equal (iface, "org.bleio.E2EPeripheral1"))
    {
      Peripheral *self = g_object_get_data (G_OBJECT (bus), "bleio-e2e-peripheral");

      v = g_variant_new_uint32 (self->changing ? 0 : self->custom_defs == custom_services ? 1 : 2);
    }
  if (!v)
    g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY,
                 "No property %s.%s", iface, name);
  return v;
}

static gboolean change_database (Peripheral *self, guint version, GError **error);

static gboolean
set_property (GDBusConnection *bus, const char *sender, const char *path,
              const char *iface, const char *name, GVariant *value, GError **error,
              gpointer user_data)
{
  Peripheral *self = g_object_get_data (G_OBJECT (bus), "bleio-e2e-peripheral");

  if (!g_str_equal (iface, "org.bleio.E2EPeripheral1") || !g_str_equal (name, "Version"))
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_PROPERTY_READ_ONLY,
                   "%s.%s cannot be set", iface, name);
      return FALSE;
    }
  return change_database (self, g_variant_get_uint32 (value), error);
}

static const GDBusInterfaceVTable vtable = { method_call, get_property, set_property, { 0 } };

static gboolean
export_into (Peripheral *self, GArray *registrations, const char *path, const char *iface,
             gpointer object, GError **error)
{
  GDBusInterfaceInfo *info = g_str_equal (iface, "org.bluez.Agent1")
      ? agent1_interface_info ()
      : g_dbus_node_info_lookup_interface (self->node, iface);
  guint id = g_dbus_connection_register_object (self->bus, path, info,
                                                &vtable, object, NULL, error);

  if (id == 0)
    return FALSE;
  g_array_append_val (registrations, id);
  return TRUE;
}

/* The services of the application at @root from @defs (NULL-terminated);
 * their registrations go to @registrations. */
static gboolean
export_gatt (Peripheral *self, const char *root, const SvcDef *defs, GArray *registrations,
             GError **error)
{
  for (guint i = 0; defs[i].uuid != NULL; i++)
    {
      Svc *svc = g_new0 (Svc, 1);

      svc->def = &defs[i];
      svc->path = g_strdup_printf ("%s/service%u", root, i);
      svc->chrs = g_ptr_array_new_with_free_func (chr_free);
      g_ptr_array_add (self->svcs, svc);
      if (!export_into (self, registrations, svc->path, "org.bluez.GattService1", svc, error))
        return FALSE;

      for (guint j = 0; svc->def->chrs[j].uuid; j++)
        {
          Chr *chr = g_new0 (Chr, 1);

          chr->self = self;
          chr->def = &svc->def->chrs[j];
          chr->path = g_strdup_printf ("%s/char%u", svc->path, j);
          chr->service_path = g_strdup (svc->path);
          chr->value = bytes_from_hex (chr->def->value_hex);
          if (chr->def->stream_hex)
            {
              g_auto(GStrv) payloads = g_strsplit (chr->def->stream_hex, ",", -1);

              chr->stream = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
              for (guint k = 0; payloads[k]; k++)
                g_ptr_array_add (chr->stream,
                                 g_byte_array_free_to_bytes (bytes_from_hex (payloads[k])));
            }
          g_ptr_array_add (svc->chrs, chr);
          if (!export_into (self, registrations, chr->path, "org.bluez.GattCharacteristic1", chr, error))
            return FALSE;
          if (chr->def->description != NULL)
            {
              chr->desc_path = g_strdup_printf ("%s/desc0", chr->path);
              if (!export_into (self, registrations, chr->desc_path, "org.bluez.GattDescriptor1", chr, error))
                return FALSE;
            }
        }
    }
  return TRUE;
}

/* Drops the objects of @registrations and the services under @root. */
static void
unexport_gatt (Peripheral *self, const char *root, GArray *registrations)
{
  g_autofree char *prefix = g_strconcat (root, "/service", NULL);

  for (guint i = 0; i < registrations->len; i++)
    g_dbus_connection_unregister_object (self->bus, g_array_index (registrations, guint, i));
  g_array_set_size (registrations, 0);
  for (guint i = self->svcs->len; i > 0; i--)
    if (g_str_has_prefix (((Svc *) g_ptr_array_index (self->svcs, i - 1))->path, prefix))
      g_ptr_array_remove_index (self->svcs, i - 1);
}

static gboolean
export_custom (Peripheral *self, const SvcDef *defs, GError **error)
{
  self->custom_defs = defs;
  return export_gatt (self, CUSTOM_APP_PATH, defs, self->custom_registrations, error);
}

static gboolean
build_and_export (Peripheral *self, GError **error)
{
  if (!export_into (self, self->registrations, APP_PATH,
                    "org.freedesktop.DBus.ObjectManager", NULL, error)
      || !export_into (self, self->registrations, ADV_PATH,
                       "org.bluez.LEAdvertisement1", NULL, error)
      || !export_into (self, self->registrations, AGENT_PATH, "org.bluez.Agent1", NULL, error)
      || !export_into (self, self->registrations, APP_PATH "/control",
                       "org.bleio.E2EPeripheral1", NULL, error)
      || !export_into (self, self->registrations, CUSTOM_APP_PATH,
                       "org.freedesktop.DBus.ObjectManager", NULL, error))
    return FALSE;
  return export_gatt (self, APP_PATH, services, self->gatt_registrations, error)
         && export_custom (self, custom_services, error);
}

/* ---- a database that changes while connected ---- */

static void
change_done (Peripheral *self, const GError *error)
{
  self->changing = FALSE;
  if (error != NULL)
    g_printerr ("peripheral: changing the database failed: %s\n", error->message);
  else
    g_printerr ("peripheral: the database changed\n");
}

static void
reregistered (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Peripheral *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                              result, &error);

  self->app_registered = reply != NULL;
  change_done (self, error);
}

typedef struct {
  Peripheral *self;
  const SvcDef *defs;
} Change;

static void
unregistered (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree Change *change = user_data;
  Peripheral *self = change->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                              result, &error);

  if (reply == NULL)
    {
      change_done (self, error);
      return;
    }
  self->app_registered = FALSE;
  unexport_gatt (self, CUSTOM_APP_PATH, self->custom_registrations);
  if (!export_custom (self, change->defs, &error))
    {
      change_done (self, error);
      return;
    }
  g_dbus_connection_call (self->bus, BLUEZ, self->adapter_path, "org.bluez.GattManager1",
                          "RegisterApplication",
                          g_variant_new ("(oa{sv})", CUSTOM_APP_PATH, NULL),
                          NULL, G_DBUS_CALL_FLAGS_NONE, 10000, self->cancellable,
                          reregistered, self);
}

/* Version := @version: the custom application goes and comes back in
 * that version, as one whose firmware changed (1: custom_services, 2:
 * custom_services_v2). */
static gboolean
change_database (Peripheral *self, guint version, GError **error)
{
  Change *change;

  if (version != 1 && version != 2)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "Version is 1 or 2");
      return FALSE;
    }
  if (self->changing || !self->app_registered)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
                   "The application is not registered, or is changing already");
      return FALSE;
    }
  g_printerr ("peripheral: changing the database to version %u\n", version);
  change = g_new0 (Change, 1);
  change->self = self;
  change->defs = version == 1 ? custom_services : custom_services_v2;
  self->changing = TRUE;
  g_dbus_connection_call (self->bus, BLUEZ, self->adapter_path, "org.bluez.GattManager1",
                          "UnregisterApplication", g_variant_new ("(o)", CUSTOM_APP_PATH),
                          NULL, G_DBUS_CALL_FLAGS_NONE, 10000, self->cancellable,
                          unregistered, change);
  return TRUE;
}

/* ---- registration with bluetoothd ---- */

static void
update_ready (Peripheral *self)
{
  if (self->app_registered && self->adv_registered && self->agent_registered)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *contents = g_strdup_printf ("ready %s\n",
          g_dbus_connection_get_unique_name (self->bus));

      /* Tests read the bus name to look at our side of a value
       * (e2e_peer_value()). */
      if (!g_file_set_contents (self->ready_file, contents, -1, &error))
        g_printerr ("peripheral: %s\n", error->message);
      else
        g_printerr ("peripheral: registered on %s\n", self->adapter_path);
    }
  else
    g_unlink (self->ready_file);
}

typedef enum { STEP_APP, STEP_CUSTOM_APP, STEP_ADV, STEP_AGENT, STEP_DEFAULT_AGENT } Step;

typedef struct {
  Peripheral *self;
  Step step;
} StepData;

static void register_step (Peripheral *self, Step step);

static void
step_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree StepData *data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                              result, &error);
  Peripheral *self = data->self;

  if (!reply)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_printerr ("peripheral: registration step %d failed: %s\n",
                      data->step, error->message);
          self->failed = TRUE;
          g_main_loop_quit (self->loop);
        }
      return;
    }
  switch (data->step)
    {
    case STEP_APP:
      register_step (self, STEP_CUSTOM_APP);
      break;
    case STEP_CUSTOM_APP:
      self->app_registered = TRUE;
      register_step (self, STEP_ADV);
      break;
    case STEP_ADV:
      self->adv_registered = TRUE;
      /* BLEIO_E2E_PERIPHERAL_AGENT=0: no agent in the whole bluetoothd,
       * to record what pairing does without one (README.md). */
      if (g_strcmp0 (g_getenv ("BLEIO_E2E_PERIPHERAL_AGENT"), "0") == 0)
        {
          self->agent_registered = TRUE;
          update_ready (self);
        }
      else
        register_step (self, STEP_AGENT);
      break;
    case STEP_AGENT:
      register_step (self, STEP_DEFAULT_AGENT);
      break;
    case STEP_DEFAULT_AGENT:
      self->agent_registered = TRUE;
      update_ready (self);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
register_step (Peripheral *self, Step step)
{
  StepData *data = g_new0 (StepData, 1);
  const char *path = self->adapter_path;
  const char *iface;
  const char *method;
  GVariant *params;

  data->self = self;
  data->step = step;
  switch (step)
    {
    case STEP_APP:
      iface = "org.bluez.GattManager1";
      method = "RegisterApplication";
      params = g_variant_new ("(oa{sv})", APP_PATH, NULL);
      break;
    case STEP_CUSTOM_APP:
      iface = "org.bluez.GattManager1";
      method = "RegisterApplication";
      params = g_variant_new ("(oa{sv})", CUSTOM_APP_PATH, NULL);
      break;
    case STEP_ADV:
      iface = "org.bluez.LEAdvertisingManager1";
      method = "RegisterAdvertisement";
      params = g_variant_new ("(oa{sv})", ADV_PATH, NULL);
      break;
    case STEP_AGENT:
      path = "/org/bluez";
      iface = "org.bluez.AgentManager1";
      method = "RegisterAgent";
      params = g_variant_new ("(os)", AGENT_PATH, "NoInputNoOutput");
      break;
    case STEP_DEFAULT_AGENT:
      path = "/org/bluez";
      iface = "org.bluez.AgentManager1";
      method = "RequestDefaultAgent";
      params = g_variant_new ("(o)", AGENT_PATH);
      break;
    default:
      g_assert_not_reached ();
    }
  g_dbus_connection_call (self->bus, BLUEZ, path, iface, method, params, NULL,
                          G_DBUS_CALL_FLAGS_NONE, 10000, self->cancellable,
                          step_done, data);
}

static void power_on (Peripheral *self);

static gboolean
power_on_again (gpointer user_data)
{
  power_on (user_data);
  return G_SOURCE_REMOVE;
}

static void
powered (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Peripheral *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                              result, &error);

  /* A bluetoothd that has just taken its name may not have exported the
   * adapter yet, or may still be powering it (Busy): try again a while. */
  if (!reply && (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT)
                 || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD)
                 || strstr (error->message, "org.bluez.Error.Busy") != NULL)
      && self->power_attempts < 100)
    {
      g_timeout_add (100, power_on_again, self);
      return;
    }
  if (!reply)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_printerr ("peripheral: cannot power %s: %s\n", self->adapter_path,
                      error->message);
          self->failed = TRUE;
          g_main_loop_quit (self->loop);
        }
      return;
    }
  /* The GAP Device Name is the adapter's alias: the demo's name. */
  g_dbus_connection_call (self->bus, BLUEZ, self->adapter_path,
                          "org.freedesktop.DBus.Properties", "Set",
                          g_variant_new ("(ssv)", "org.bluez.Adapter1", "Alias",
                                         g_variant_new_string (LOCAL_NAME)),
                          NULL, G_DBUS_CALL_FLAGS_NONE, 10000, self->cancellable,
                          NULL, NULL);
  register_step (self, STEP_APP);
}

/* ---- advertisement refresh for btvirt (see the top of the file) ---- */

static void
readvertised (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Peripheral *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                              result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->refreshing = FALSE;
  if (!reply)
    g_printerr ("peripheral: advertising again failed: %s\n", error->message);
  else
    self->adv_registered = TRUE;
}

static void
unadvertised (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Peripheral *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                              result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (!reply)
    g_printerr ("peripheral: unregistering the advertisement failed: %s\n",
                error->message);
  self->adv_registered = FALSE;
  g_dbus_connection_call (self->bus, BLUEZ, self->adapter_path,
                          "org.bluez.LEAdvertisingManager1", "RegisterAdvertisement",
                          g_variant_new ("(oa{sv})", ADV_PATH, NULL), NULL,
                          G_DBUS_CALL_FLAGS_NONE, 10000, self->cancellable,
                          readvertised, self);
}

/* The discovering side has already heard us when its Device1 for us has an
 * RSSI and our name: then advertising anew would only race with its
 * connect. The name counts because a passive scan (an advertisement
 * monitor) leaves an RSSI without one: no scan request, no scan response.
 * After it, an active discovery that lost its report to the kernel's race
 * still needs us to advertise anew (test-central-passive-scan). */
static void
got_device (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Peripheral *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                              result, &error);
  g_autoptr(GVariant) props = NULL;
  gboolean heard = FALSE;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (reply != NULL)
    {
      g_variant_get (reply, "(@a{sv})", &props);
      heard = g_variant_lookup (props, "RSSI", "n", NULL)
              && g_variant_lookup (props, "Name", "&s", NULL);
    }
  if (heard || !self->adv_registered
      || g_hash_table_size (self->discovering) == 0
      || g_hash_table_size (self->connected) > 0)
    {
      self->refreshing = FALSE;
      return;
    }
  g_dbus_connection_call (self->bus, BLUEZ, self->adapter_path,
                          "org.bluez.LEAdvertisingManager1", "UnregisterAdvertisement",
                          g_variant_new ("(o)", ADV_PATH), NULL,
                          G_DBUS_CALL_FLAGS_NONE, 10000, self->cancellable,
                          unadvertised, self);
}

static gboolean
refresh_advertisement (gpointer user_data)
{
  Peripheral *self = user_data;
  GHashTableIter iter;
  gpointer scanner;
  g_autofree char *address = NULL;
  g_autofree char *device_path = NULL;

  self->refresh_source = 0;
  if (self->refreshing || !self->adv_registered
      || g_hash_table_size (self->discovering) == 0
      || g_hash_table_size (self->connected) > 0)
    return G_SOURCE_REMOVE;
  self->refreshing = TRUE;
  g_hash_table_iter_init (&iter, self->discovering);
  g_hash_table_iter_next (&iter, &scanner, NULL);
  address = g_strdelimit (g_strdup (self->address), ":", '_');
  device_path = g_strdup_printf ("%s/dev_%s", (const char *) scanner, address);
  g_dbus_connection_call (self->bus, BLUEZ, device_path,
                          "org.freedesktop.DBus.Properties", "GetAll",
                          g_variant_new ("(s)", "org.bluez.Device1"),
                          G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, 10000,
                          self->cancellable, got_device, self);
  return G_SOURCE_REMOVE;
}

/* Discovering of the other adapters, Connected of our devices. */
static void
on_properties_changed (GDBusConnection *bus, const char *sender, const char *path,
                       const char *iface, const char *signal, GVariant *params,
                       gpointer user_data)
{
  Peripheral *self = user_data;
  g_autofree char *prefix = g_strconcat (self->adapter_path, "/", NULL);
  const char *changed_iface;
  g_autoptr(GVariant) changed = NULL;
  gboolean value;

  g_variant_get (params, "(&s@a{sv}@as)", &changed_iface, &changed, NULL);
  if (g_str_equal (changed_iface, "org.bluez.Adapter1")
      && !g_str_equal (path, self->adapter_path)
      && g_variant_lookup (changed, "Discovering", "b", &value))
    {
      if (value && g_hash_table_add (self->discovering, g_strdup (path))
          && self->refresh_source == 0)
        self->refresh_source = g_timeout_add (ADV_REFRESH_MSEC, refresh_advertisement, self);
      else if (!value)
        g_hash_table_remove (self->discovering, path);
    }
  else if (g_str_equal (changed_iface, "org.bluez.Device1")
           && g_str_has_prefix (path, prefix)
           && g_variant_lookup (changed, "Connected", "b", &value))
    {
      if (value)
        g_hash_table_add (self->connected, g_strdup (path));
      else
        g_hash_table_remove (self->connected, path);
    }
}

static void
bluez_appeared (GDBusConnection *bus, const char *name, const char *owner,
                gpointer user_data)
{
  Peripheral *self = user_data;

  g_printerr ("peripheral: %s appeared (%s)\n", name, owner);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->power_attempts = 0;
  power_on (self);
}

static void
power_on (Peripheral *self)
{
  self->power_attempts++;
  g_dbus_connection_call (self->bus, BLUEZ, self->adapter_path,
                          "org.freedesktop.DBus.Properties", "Set",
                          g_variant_new ("(ssv)", "org.bluez.Adapter1", "Powered",
                                         g_variant_new_boolean (TRUE)),
                          NULL, G_DBUS_CALL_FLAGS_NONE, 10000, self->cancellable,
                          powered, self);
}

static void
bluez_vanished (GDBusConnection *bus, const char *name, gpointer user_data)
{
  Peripheral *self = user_data;

  g_printerr ("peripheral: %s vanished\n", name);
  g_cancellable_cancel (self->cancellable);
  self->refreshing = FALSE;
  g_hash_table_remove_all (self->discovering);
  g_hash_table_remove_all (self->connected);
  self->app_registered = self->adv_registered = self->agent_registered = FALSE;
  for (guint i = 0; i < self->svcs->len; i++)
    {
      Svc *svc = g_ptr_array_index (self->svcs, i);

      for (guint j = 0; j < svc->chrs->len; j++)
        {
          Chr *chr = g_ptr_array_index (svc->chrs, j);

          chr->notifying = FALSE;
          g_clear_handle_id (&chr->notify_source, g_source_remove);
        }
    }
  update_ready (self);
}

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  Peripheral self = { 0 };
  g_autoptr(GError) error = NULL;
  const char *adapter = argc > 1 ? argv[1] : "hci1";
  const char *ready = g_getenv ("BLEIO_E2E_READY_FILE");
  guint watch;

  self.bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (!self.bus)
    {
      g_printerr ("peripheral: no system bus: %s\n", error->message);
      return 1;
    }
  self.loop = g_main_loop_new (NULL, FALSE);
  self.node = g_dbus_node_info_new_for_xml (introspection_xml, &error);
  g_assert_no_error (error);
  self.adapter_path = g_strdup_printf ("/org/bluez/%s", adapter);
  self.ready_file = g_strdup (ready ? ready : "/run/e2e/peripheral-ready");
  self.svcs = g_ptr_array_new_with_free_func (svc_free);
  self.registrations = g_array_new (FALSE, FALSE, sizeof (guint));
  self.gatt_registrations = g_array_new (FALSE, FALSE, sizeof (guint));
  self.custom_registrations = g_array_new (FALSE, FALSE, sizeof (guint));
  self.cancellable = g_cancellable_new ();
  g_object_set_data (G_OBJECT (self.bus), "bleio-e2e-peripheral", &self);
  self.address = g_getenv ("BLEIO_TEST_PERIPHERAL_ADDRESS");
  if (self.address == NULL)
    self.address = "00:AA:01:01:00:01";
  self.discovering = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self.connected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_dbus_connection_signal_subscribe (self.bus, BLUEZ, "org.freedesktop.DBus.Properties",
                                      "PropertiesChanged", NULL, NULL,
                                      G_DBUS_SIGNAL_FLAGS_NONE, on_properties_changed,
                                      &self, NULL);

  if (!build_and_export (&self, &error))
    {
      g_printerr ("peripheral: cannot export objects: %s\n", error->message);
      return 1;
    }

  watch = g_bus_watch_name_on_connection (self.bus, BLUEZ,
                                          G_BUS_NAME_WATCHER_FLAGS_NONE,
                                          bluez_appeared, bluez_vanished,
                                          &self, NULL);
  g_unix_signal_add (SIGTERM, on_signal, self.loop);
  g_unix_signal_add (SIGINT, on_signal, self.loop);
  g_main_loop_run (self.loop);

  g_bus_unwatch_name (watch);
  g_unlink (self.ready_file);
  g_cancellable_cancel (self.cancellable);
  for (guint i = 0; i < self.registrations->len; i++)
    g_dbus_connection_unregister_object (self.bus,
                                         g_array_index (self.registrations, guint, i));
  g_array_unref (self.registrations);
  unexport_gatt (&self, APP_PATH, self.gatt_registrations);
  unexport_gatt (&self, CUSTOM_APP_PATH, self.custom_registrations);
  g_array_unref (self.gatt_registrations);
  g_array_unref (self.custom_registrations);
  g_ptr_array_unref (self.svcs);
  g_clear_handle_id (&self.refresh_source, g_source_remove);
  g_hash_table_unref (self.discovering);
  g_hash_table_unref (self.connected);
  g_clear_object (&self.cancellable);
  g_dbus_node_info_unref (self.node);
  g_free (self.adapter_path);
  g_free (self.ready_file);
  g_main_loop_unref (self.loop);
  g_object_unref (self.bus);
  return self.failed ? 1 : 0;
}
