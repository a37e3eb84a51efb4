/* SPDX-License-Identifier: MIT */
/*
 * Advertisement monitors as bluetoothd 5.66 runs them (src/adv_monitor.c)
 * on a kernel with the software monitor (no controller offload, which is
 * what the e2e guest's 6.1 kernel with btvirt reports: SupportedFeatures
 * empty, at most 32 monitors of at most 16 patterns each):
 *
 * - RegisterMonitor(root) reads the caller's objects (GetManagedObjects on
 *   root) and answers once they are read; a second registration of the
 *   same root by the same caller is AlreadyExists. Every object under root
 *   with AdvertisementMonitor1 is a monitor: an invalid one gets Release()
 *   at once (before the answer), a valid one Activate() once the kernel
 *   took its patterns (here: on the next turn of the main loop).
 * - InterfacesAdded/InterfacesRemoved on root add and drop monitors later;
 *   a dropped monitor is not called.
 * - UnregisterMonitor(root) calls Release() on each monitor still there;
 *   an unknown root is DoesNotExist. A caller that leaves the bus is
 *   forgotten without calls.
 * - Every advertisement an activated monitor's or_patterns match makes the
 *   device object (or updates it) and then: without RSSI thresholds,
 *   DeviceFound(device) each time; with them, DeviceFound once the RSSI has
 *   been above the high threshold for the high timeout, DeviceLost once it
 *   has been below the low one for the low timeout or nothing was heard
 *   for the low timeout. bluetoothd counts these in whole seconds of the
 *   wall clock (time()); the simulator uses whole seconds of the monotonic
 *   clock, and RSSISamplingPeriod is validated, not applied (the kernel's
 *   software monitor does not sample either).
 */
#include "sim-monitor.h"
#include "sim-device.h"

#include <string.h>

#define MONITOR_IFACE "org.bluez.AdvertisementMonitor1"
#define OBJECT_MANAGER_IFACE "org.freedesktop.DBus.ObjectManager"

/* src/adv_monitor.c */
#define RSSI_UNSET 127
#define RSSI_MAX 20
#define RSSI_MIN (-127)
#define TIMEOUT_UNSET 0
#define TIMEOUT_MIN 1
#define TIMEOUT_MAX 300
#define DEFAULT_LOW_TIMEOUT 5
#define DEFAULT_HIGH_TIMEOUT 10
#define SAMPLING_UNSET 256
#define SAMPLING_MAX 255
/* The kernel's limit per monitor (HCI_MAX_ADV_MONITOR_NUM_PATTERNS; the
 * guest's bluetoothd logs "max number of supported patterns:16"): more
 * and the kernel refuses the monitor, which bluetoothd then releases. */
#define KERNEL_MAX_PATTERNS 16
/* src/shared/ad.c: the AD types a pattern may name */
#define AD_TYPE_LAST 0x3d
#define AD_TYPE_MANUFACTURER 0xff
#define AD_MAX_LEN 31

typedef struct _SimMonitorApp SimMonitorApp;

typedef struct {
  guint8 type;
  guint8 offset;
  guint8 len;
  guint8 data[AD_MAX_LEN];
} Pattern;

typedef struct {
  SimMonitorApp *app;
  char *path;
  gboolean active;
  GArray *patterns;             /* Pattern */
  gboolean rssi_set;
  gint16 high_rssi;
  gint16 low_rssi;
  guint16 high_timeout;
  guint16 low_timeout;
  GHashTable *devices;          /* device path -> Tracked, with RSSI only */
} Monitor;

typedef struct {
  Monitor *monitor;
  char *device_path;
  gboolean found;
  gint64 last_seen;             /* seconds, 0 = never */
  gint64 high_since;
  gint64 low_since;
  guint lost_source;
} Tracked;

struct _SimMonitorApp {
  SimAdapter *adapter;
  char *sender;
  char *root;
  guint watch_id;
  guint added_id;
  guint removed_id;
  GCancellable *cancellable;    /* the GetManagedObjects call */
  GDBusMethodInvocation *registration;
  GPtrArray *monitors;          /* Monitor, owned */
  guint activate_source;
};

/* ---- calls to the application ---- */

static void
call_monitor (Monitor    *m,
              const char *method,
              const char *device_path)
{
  /* bluetoothd does not wait for, or look at, the answers */
  g_dbus_connection_call (sim_registry_get_connection (), m->app->sender, m->path,
                          MONITOR_IFACE, method,
                          device_path != NULL ? g_variant_new ("(o)", device_path) : NULL,
                          NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
}

static void
tracked_free (gpointer data)
{
  Tracked *t = data;

  g_clear_handle_id (&t->lost_source, g_source_remove);
  g_free (t->device_path);
  g_free (t);
}

static void
monitor_free (gpointer data)
{
  Monitor *m = data;

  g_free (m->path);
  g_array_unref (m->patterns);
  g_hash_table_unref (m->devices);
  g_free (m);
}

/* ---- parsing a monitor as src/adv_monitor.c does ---- */

static gboolean
ad_type_valid (guint8 type)
{
  return (type >= 0x01 && type <= AD_TYPE_LAST) || type == AD_TYPE_MANUFACTURER;
}

static gboolean
parse_patterns (Monitor  *m,
                GVariant *props)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (props, "Patterns", NULL);
  GVariantIter iter;
  guint8 offset, type;
  GVariant *value;

  if (v == NULL || !g_variant_is_of_type (v, G_VARIANT_TYPE ("a(yyay)")))
    return FALSE;
  g_variant_iter_init (&iter, v);
  while (g_variant_iter_next (&iter, "(yy@ay)", &offset, &type, &value))
    {
      Pattern p = { type, offset, 0, { 0 } };
      gsize len;
      const guint8 *bytes = g_variant_get_fixed_array (value, &len, 1);
      gboolean ok = len > 0 && len <= AD_MAX_LEN && offset < AD_MAX_LEN
                    && offset + len <= AD_MAX_LEN && ad_type_valid (type);

      if (ok)
        {
          p.len = (guint8) len;
          memcpy (p.data, bytes, len);
          g_array_append_val (m->patterns, p);
        }
      g_variant_unref (value);
      if (!ok)
        return FALSE;
    }
  return m->patterns->len > 0;
}

/* A property that is there must have its type; one that is missing is
 * unset. */
static gboolean
lookup_typed (GVariant           *props,
              const char         *name,
              const GVariantType *type,
              GVariant          **out)
{
  *out = g_variant_lookup_value (props, name, NULL);
  return *out == NULL || g_variant_is_of_type (*out, type);
}

static gboolean
parse_rssi (Monitor  *m,
            GVariant *props)
{
  g_autoptr(GVariant) hr = NULL, ht = NULL, lr = NULL, lt = NULL, sp = NULL;
  gint high, low, high_to, low_to, sampling;

  if (!lookup_typed (props, "RSSIHighThreshold", G_VARIANT_TYPE_INT16, &hr)
      || !lookup_typed (props, "RSSIHighTimeout", G_VARIANT_TYPE_UINT16, &ht)
      || !lookup_typed (props, "RSSILowThreshold", G_VARIANT_TYPE_INT16, &lr)
      || !lookup_typed (props, "RSSILowTimeout", G_VARIANT_TYPE_UINT16, &lt)
      || !lookup_typed (props, "RSSISamplingPeriod", G_VARIANT_TYPE_UINT16, &sp))
    return FALSE;
  high = hr != NULL ? g_variant_get_int16 (hr) : RSSI_UNSET;
  low = lr != NULL ? g_variant_get_int16 (lr) : RSSI_UNSET;
  high_to = ht != NULL ? g_variant_get_uint16 (ht) : TIMEOUT_UNSET;
  low_to = lt != NULL ? g_variant_get_uint16 (lt) : TIMEOUT_UNSET;
  sampling = sp != NULL ? g_variant_get_uint16 (sp) : SAMPLING_UNSET;
  /* the unset values count as unset even when given explicitly */
  if (high == RSSI_UNSET && low == RSSI_UNSET && high_to == TIMEOUT_UNSET
      && low_to == TIMEOUT_UNSET && sampling == SAMPLING_UNSET)
    return TRUE;
  if (low == RSSI_UNSET)
    low = RSSI_MIN;
  if (high == RSSI_UNSET)
    high = low;
  if (low_to == TIMEOUT_UNSET)
    low_to = DEFAULT_LOW_TIMEOUT;
  if (high_to == TIMEOUT_UNSET)
    high_to = DEFAULT_HIGH_TIMEOUT;
  if (sampling == SAMPLING_UNSET)
    sampling = 0;
  if (high < RSSI_MIN || high > RSSI_MAX || low < RSSI_MIN || low > RSSI_MAX
      || high < low)
    return FALSE;
  if (high_to < TIMEOUT_MIN || high_to > TIMEOUT_MAX
      || low_to < TIMEOUT_MIN || low_to > TIMEOUT_MAX)
    return FALSE;
  if (sampling > SAMPLING_MAX)
    return FALSE;
  m->rssi_set = TRUE;
  m->high_rssi = (gint16) high;
  m->low_rssi = (gint16) low;
  m->high_timeout = (guint16) high_to;
  m->low_timeout = (guint16) low_to;
  return TRUE;
}

/* In bluetoothd's order: Type, then the RSSI fields, then Patterns. */
static gboolean
parse_monitor (Monitor  *m,
               GVariant *props)
{
  g_autoptr(GVariant) type = g_variant_lookup_value (props, "Type", G_VARIANT_TYPE_STRING);

  return type != NULL && g_str_equal (g_variant_get_string (type, NULL), "or_patterns")
         && parse_rssi (m, props) && parse_patterns (m, props);
}

static Monitor *
find_monitor (SimMonitorApp *app,
              const char    *path)
{
  for (guint i = 0; i < app->monitors->len; i++)
    {
      Monitor *m = g_ptr_array_index (app->monitors, i);

      if (g_str_equal (m->path, path))
        return m;
    }
  return NULL;
}

static gboolean
activate_pending (gpointer data)
{
  SimMonitorApp *app = data;
  gboolean any = FALSE;

  app->activate_source = 0;
  for (guint i = 0; i < app->monitors->len; i++)
    {
      Monitor *m = g_ptr_array_index (app->monitors, i);

      if (!m->active)
        {
          m->active = TRUE;
          any = TRUE;
          call_monitor (m, "Activate", NULL);
        }
    }
  if (any)
    sim_world.hooks.update_scan (app->adapter);
  return G_SOURCE_REMOVE;
}

/* One object of the application (GetManagedObjects or InterfacesAdded). */
static void
add_object (SimMonitorApp *app,
            const char    *path,
            GVariant      *interfaces)
{
  g_autoptr(GVariant) props = g_variant_lookup_value (interfaces, MONITOR_IFACE,
                                                      G_VARIANT_TYPE_VARDICT);
  Monitor *m;

  if (props == NULL || !g_str_has_prefix (path, app->root) || find_monitor (app, path) != NULL)
    return;
  m = g_new0 (Monitor, 1);
  m->app = app;
  m->path = g_strdup (path);
  m->patterns = g_array_new (FALSE, FALSE, sizeof (Pattern));
  m->devices = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, tracked_free);
  if (!parse_monitor (m, props) || m->patterns->len > KERNEL_MAX_PATTERNS)
    {
      /* bluetoothd releases what it cannot use and forgets it */
      call_monitor (m, "Release", NULL);
      monitor_free (m);
      return;
    }
  g_ptr_array_add (app->monitors, m);
  if (app->activate_source == 0 && app->registration == NULL)
    app->activate_source = g_idle_add (activate_pending, app);
}

/* ---- applications ---- */

static void
app_free (SimMonitorApp *app)
{
  if (app->registration != NULL)
    sim_return_error (g_steal_pointer (&app->registration), SIM_ERR_FAILED,
                      "Adv Monitor app destroyed");
  g_cancellable_cancel (app->cancellable);
  g_clear_object (&app->cancellable);
  if (app->watch_id != 0)
    g_bus_unwatch_name (app->watch_id);
  if (app->added_id != 0)
    g_dbus_connection_signal_unsubscribe (sim_registry_get_connection (), app->added_id);
  if (app->removed_id != 0)
    g_dbus_connection_signal_unsubscribe (sim_registry_get_connection (), app->removed_id);
  g_clear_handle_id (&app->activate_source, g_source_remove);
  g_ptr_array_unref (app->monitors);
  g_free (app->sender);
  g_free (app->root);
  g_free (app);
}

static void
app_remove (SimMonitorApp *app)
{
  SimAdapter *adapter = app->adapter;

  g_ptr_array_remove (adapter->monitor_apps, app);
  app_free (app);
  sim_world.hooks.update_scan (adapter);
}

static SimMonitorApp *
find_app (SimAdapter *adapter,
          const char *sender,
          const char *root)
{
  for (guint i = 0; adapter->monitor_apps != NULL && i < adapter->monitor_apps->len; i++)
    {
      SimMonitorApp *app = g_ptr_array_index (adapter->monitor_apps, i);

      if (g_str_equal (app->sender, sender) && g_str_equal (app->root, root))
        return app;
    }
  return NULL;
}

static void
on_app_vanished (GDBusConnection *conn,
                 const char      *name,
                 gpointer         user_data)
{
  /* gone from the bus: nobody to call Release on */
  app_remove (user_data);
}

static void
on_interfaces_added (GDBusConnection *conn,
                     const char      *sender,
                     const char      *path,
                     const char      *iface,
                     const char      *signal,
                     GVariant        *params,
                     gpointer         user_data)
{
  SimMonitorApp *app = user_data;
  const char *object;
  g_autoptr(GVariant) interfaces = NULL;

  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(oa{sa{sv}})")))
    return;
  g_variant_get (params, "(&o@a{sa{sv}})", &object, &interfaces);
  add_object (app, object, interfaces);
}

static void
on_interfaces_removed (GDBusConnection *conn,
                       const char      *sender,
                       const char      *path,
                       const char      *iface,
                       const char      *signal,
                       GVariant        *params,
                       gpointer         user_data)
{
  SimMonitorApp *app = user_data;
  const char *object;
  g_autofree const char **names = NULL;
  Monitor *m;

  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(oas)")))
    return;
  g_variant_get (params, "(&o^a&s)", &object, &names);
  m = find_monitor (app, object);
  if (m == NULL || !g_strv_contains (names, MONITOR_IFACE))
    return;
  /* bluetoothd marks it released and drops it without a call */
  g_ptr_array_remove (app->monitors, m);
  sim_world.hooks.update_scan (app->adapter);
}

static void
objects_read (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);
  SimMonitorApp *app;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  app = user_data;
  /* bluetoothd's D-Bus client reports itself ready even when the call
   * failed: the registration then succeeds with no monitors */
  if (reply != NULL)
    {
      g_autoptr(GVariant) objects = g_variant_get_child_value (reply, 0);
      GVariantIter iter;
      const char *path;
      GVariant *interfaces;

      g_variant_iter_init (&iter, objects);
      while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, &interfaces))
        {
          add_object (app, path, interfaces);
          g_variant_unref (interfaces);
        }
    }
  g_dbus_method_invocation_return_value (g_steal_pointer (&app->registration), NULL);
  if (app->monitors->len > 0 && app->activate_source == 0)
    app->activate_source = g_idle_add (activate_pending, app);
}

static void
register_monitor (SimAdapter            *adapter,
                  GDBusMethodInvocation *invocation,
                  const char            *root)
{
  GDBusConnection *conn = sim_registry_get_connection ();
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  SimMonitorApp *app;

  if (find_app (adapter, sender, root) != NULL)
    {
      sim_return_error (invocation, SIM_ERR_ALREADY_EXISTS, SIM_MSG_ALREADY_EXISTS);
      return;
    }
  app = g_new0 (SimMonitorApp, 1);
  app->adapter = adapter;
  app->sender = g_strdup (sender);
  app->root = g_strdup (root);
  app->monitors = g_ptr_array_new_with_free_func (monitor_free);
  app->cancellable = g_cancellable_new ();
  app->registration = invocation;
  if (adapter->monitor_apps == NULL)
    adapter->monitor_apps = g_ptr_array_new ();
  g_ptr_array_add (adapter->monitor_apps, app);
  app->watch_id = g_bus_watch_name_on_connection (conn, sender, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                  NULL, on_app_vanished, app, NULL);
  app->added_id = g_dbus_connection_signal_subscribe (conn, sender, OBJECT_MANAGER_IFACE,
                                                      "InterfacesAdded", root, NULL,
                                                      G_DBUS_SIGNAL_FLAGS_NONE,
                                                      on_interfaces_added, app, NULL);
  app->removed_id = g_dbus_connection_signal_subscribe (conn, sender, OBJECT_MANAGER_IFACE,
                                                        "InterfacesRemoved", root, NULL,
                                                        G_DBUS_SIGNAL_FLAGS_NONE,
                                                        on_interfaces_removed, app, NULL);
  g_dbus_connection_call (conn, sender, root, OBJECT_MANAGER_IFACE, "GetManagedObjects",
                          NULL, G_VARIANT_TYPE ("(a{oa{sa{sv}}})"),
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, app->cancellable,
                          objects_read, app);
}

static void
unregister_monitor (SimAdapter            *adapter,
                    GDBusMethodInvocation *invocation,
                    const char            *root)
{
  SimMonitorApp *app = find_app (adapter, g_dbus_method_invocation_get_sender (invocation), root);

  if (app == NULL)
    {
      sim_return_error (invocation, SIM_ERR_DOES_NOT_EXIST, SIM_MSG_DOES_NOT_EXIST);
      return;
    }
  for (guint i = 0; i < app->monitors->len; i++)
    call_monitor (g_ptr_array_index (app->monitors, i), "Release", NULL);
  app_remove (app);
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
manager_method (SimObj                *obj,
                GDBusMethodInvocation *invocation,
                const char            *method,
                GVariant              *params)
{
  SimAdapter *adapter = (SimAdapter *) obj;
  const char *root;

  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(o)")))
    {
      sim_return_error (invocation, SIM_ERR_INVALID_ARGS, SIM_MSG_INVALID_ARGS);
      return;
    }
  g_variant_get (params, "(&o)", &root);
  if (g_str_equal (method, "RegisterMonitor"))
    register_monitor (adapter, invocation, root);
  else
    unregister_monitor (adapter, invocation, root);
}

static GVariant *
manager_get (SimObj     *obj,
             const char *prop)
{
  if (g_str_equal (prop, "SupportedMonitorTypes"))
    return g_variant_new_strv ((const char *const[]) { "or_patterns" }, 1);
  if (g_str_equal (prop, "SupportedFeatures"))
    return g_variant_new_strv (NULL, 0);
  return NULL;
}

SimIfaceDef sim_monitor_manager_iface = {
  "org.bluez.AdvertisementMonitorManager1", manager_method, manager_get, NULL, NULL
};

/* ---- what an advertiser sends ---- */

static void
add_structure (GPtrArray    *ad,
               guint8        type,
               const guint8 *data,
               gsize         len)
{
  GByteArray *b = g_byte_array_sized_new ((guint) len + 1);

  g_byte_array_append (b, &type, 1);
  g_byte_array_append (b, data, (guint) len);
  g_ptr_array_add (ad, g_byte_array_free_to_bytes (b));
}

/* A UUID string as the bytes an advertisement carries it in (little
 * endian; 16 or 32 bits when it is on the Bluetooth base). */
static gsize
uuid_bytes (const char *uuid,
            guint8      out[16])
{
  guint8 be[16];
  gsize n = 0;

  for (const char *c = uuid; *c != '\0' && n < 16; c++)
    {
      if (*c == '-')
        continue;
      if (!g_ascii_isxdigit (c[0]) || !g_ascii_isxdigit (c[1]))
        return 0;
      be[n++] = (guint8) (g_ascii_xdigit_value (c[0]) << 4 | g_ascii_xdigit_value (c[1]));
      c++;
    }
  if (n != 16)
    return 0;
  if (g_str_has_suffix (uuid, "-0000-1000-8000-00805f9b34fb"))
    {
      gsize size = be[0] == 0 && be[1] == 0 ? 2 : 4;

      for (gsize i = 0; i < size; i++)
        out[i] = be[3 - i];
      return size;
    }
  for (gsize i = 0; i < 16; i++)
    out[i] = be[15 - i];
  return 16;
}

static const guint8 *
variant_bytes (GVariant *v,
               gsize    *len)
{
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_BYTESTRING))
    {
      *len = 0;
      return NULL;
    }
  return g_variant_get_fixed_array (v, len, 1);
}

/* The AD structures of @p's advertisement, each a GBytes of [type][data]:
 * flags, the complete UUID lists, the complete name, TX power, appearance,
 * service data, manufacturer data and the other advertising data the
 * scenario gives. The scenario does not say which of these a real
 * advertiser would put in its scan response; the simulator matches them
 * all (README.md, "Advertisement monitors"). */
static GPtrArray *
ad_structures (SimPeripheral *p)
{
  GPtrArray *ad = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  GByteArray *lists[3] = { g_byte_array_new (), g_byte_array_new (), g_byte_array_new () };
  static const guint8 list_types[3] = { 0x03, 0x05, 0x07 };
  GVariantIter iter;
  GVariant *value;

  if (p->adv_flags != NULL)
    add_structure (ad, 0x01, g_bytes_get_data (p->adv_flags, NULL), g_bytes_get_size (p->adv_flags));
  for (guint i = 0; p->uuids != NULL && i < p->uuids->len; i++)
    {
      guint8 bytes[16];
      gsize n = uuid_bytes (g_ptr_array_index (p->uuids, i), bytes);

      if (n > 0)
        g_byte_array_append (lists[n == 2 ? 0 : n == 4 ? 1 : 2], bytes, (guint) n);
    }
  for (guint i = 0; i < 3; i++)
    {
      if (lists[i]->len > 0)
        add_structure (ad, list_types[i], lists[i]->data, lists[i]->len);
      g_byte_array_unref (lists[i]);
    }
  if (p->name != NULL)
    add_structure (ad, 0x09, (const guint8 *) p->name, strlen (p->name));
  if (p->has_tx_power)
    {
      guint8 tx = (guint8) (gint8) p->tx_power;

      add_structure (ad, 0x0a, &tx, 1);
    }
  if (p->has_appearance)
    {
      guint8 le[2] = { p->appearance & 0xff, p->appearance >> 8 };

      add_structure (ad, 0x19, le, 2);
    }
  if (p->service_data != NULL)
    {
      const char *uuid;

      g_variant_iter_init (&iter, p->service_data);
      while (g_variant_iter_next (&iter, "{&sv}", &uuid, &value))
        {
          guint8 bytes[16 + 256];
          gsize n = uuid_bytes (uuid, bytes), len;
          const guint8 *data = variant_bytes (value, &len);

          if (n > 0 && len <= 256)
            {
              if (len > 0)
                memcpy (bytes + n, data, len);
              add_structure (ad, n == 2 ? 0x16 : n == 4 ? 0x20 : 0x21, bytes, n + len);
            }
          g_variant_unref (value);
        }
    }
  if (p->manufacturer_data != NULL)
    {
      guint16 company;

      g_variant_iter_init (&iter, p->manufacturer_data);
      while (g_variant_iter_next (&iter, "{qv}", &company, &value))
        {
          guint8 bytes[2 + 256];
          gsize len;
          const guint8 *data = variant_bytes (value, &len);

          bytes[0] = company & 0xff;
          bytes[1] = company >> 8;
          if (len <= 256)
            {
              if (len > 0)
                memcpy (bytes + 2, data, len);
              add_structure (ad, 0xff, bytes, len + 2);
            }
          g_variant_unref (value);
        }
    }
  if (p->advertising_data != NULL)
    {
      guint8 type;

      g_variant_iter_init (&iter, p->advertising_data);
      while (g_variant_iter_next (&iter, "{yv}", &type, &value))
        {
          gsize len;
          const guint8 *data = variant_bytes (value, &len);

          add_structure (ad, type, data, len);
          g_variant_unref (value);
        }
    }
  return ad;
}

/* ---- matching ---- */

gboolean
sim_monitor_active (SimAdapter *adapter)
{
  for (guint i = 0; adapter->monitor_apps != NULL && i < adapter->monitor_apps->len; i++)
    {
      SimMonitorApp *app = g_ptr_array_index (adapter->monitor_apps, i);

      for (guint j = 0; j < app->monitors->len; j++)
        if (((Monitor *) g_ptr_array_index (app->monitors, j))->active)
          return TRUE;
    }
  return FALSE;
}

/* bluetoothd 5.69 and later (src/shared/ad.c, bt_ad_pattern_match())
 * parse UUID lists and names into fields of their own, so a pattern on
 * those types never matches; a service data pattern is compared with the
 * data after the UUID of each service data structure, whatever the UUID's
 * size; a manufacturer data pattern with each manufacturer structure (its
 * company id included); other types with the last structure of the type,
 * as 5.66 does. */
static gboolean
pattern_matches_582 (const Pattern *p,
                     GPtrArray     *ad)
{
  gboolean service_data = p->type == 0x16 || p->type == 0x20 || p->type == 0x21;

  if (p->type >= 0x02 && p->type <= 0x09)
    return FALSE;
  for (guint i = 0; i < ad->len; i++)
    {
      gsize size;
      const guint8 *s = g_bytes_get_data (g_ptr_array_index (ad, i), &size);
      gsize skip;

      if (size == 0)
        continue;
      if (service_data && (s[0] == 0x16 || s[0] == 0x20 || s[0] == 0x21))
        skip = s[0] == 0x16 ? 2 : s[0] == 0x20 ? 4 : 16;
      else if (!service_data && p->type == 0xff && s[0] == 0xff)
        skip = 0;
      else
        continue;
      if (size - 1 >= skip + p->offset + p->len
          && memcmp (s + 1 + skip + p->offset, p->data, p->len) == 0)
        return TRUE;
    }
  return FALSE;
}

static gboolean
pattern_matches (const Pattern *p,
                 GPtrArray     *ad)
{
  /* bluetoothd parses the advertisement into one entry per AD type (a
   * later structure of a type replaces an earlier one) */
  const guint8 *data = NULL;
  gsize len = 0;

  if (sim_bluez () == SIM_BLUEZ_5_82
      && (p->type == 0xff || p->type == 0x16 || p->type == 0x20 || p->type == 0x21
          || (p->type >= 0x02 && p->type <= 0x09)))
    return pattern_matches_582 (p, ad);
  for (guint i = 0; i < ad->len; i++)
    {
      gsize size;
      const guint8 *s = g_bytes_get_data (g_ptr_array_index (ad, i), &size);

      if (size > 0 && s[0] == p->type)
        {
          data = s + 1;
          len = size - 1;
        }
    }
  if (data == NULL || len < (gsize) p->offset + p->len)
    return FALSE;
  return memcmp (data + p->offset, p->data, p->len) == 0;
}

GPtrArray *
sim_monitor_match (SimAdapter    *adapter,
                   SimPeripheral *periph)
{
  g_autoptr(GPtrArray) ad = NULL;
  GPtrArray *matched = NULL;

  if (!sim_monitor_active (adapter))
    return NULL;
  ad = ad_structures (periph);
  for (guint i = 0; i < adapter->monitor_apps->len; i++)
    {
      SimMonitorApp *app = g_ptr_array_index (adapter->monitor_apps, i);

      for (guint j = 0; j < app->monitors->len; j++)
        {
          Monitor *m = g_ptr_array_index (app->monitors, j);

          if (!m->active)
            continue;
          for (guint k = 0; k < m->patterns->len; k++)
            if (pattern_matches (&g_array_index (m->patterns, Pattern, k), ad))
              {
                if (matched == NULL)
                  matched = g_ptr_array_new ();
                g_ptr_array_add (matched, m);
                break;
              }
        }
    }
  return matched;
}

static gint64
now_seconds (void)
{
  /* 0 means "not yet" in Tracked */
  return g_get_monotonic_time () / G_USEC_PER_SEC + 1;
}

static gboolean
lost_timeout (gpointer data)
{
  Tracked *t = data;

  t->lost_source = 0;
  t->found = FALSE;
  call_monitor (t->monitor, "DeviceLost", t->device_path);
  return G_SOURCE_REMOVE;
}

/* src/adv_monitor.c adv_monitor_filter_rssi(), step by step */
static void
filter_rssi (Monitor    *m,
             const char *device_path,
             gint16      rssi)
{
  Tracked *t = g_hash_table_lookup (m->devices, device_path);
  gint64 now = now_seconds ();

  if (t == NULL)
    {
      t = g_new0 (Tracked, 1);
      t->monitor = m;
      t->device_path = g_strdup (device_path);
      g_hash_table_insert (m->devices, t->device_path, t);
    }
  g_clear_handle_id (&t->lost_source, g_source_remove);
  if (t->last_seen != 0)
    {
      if (now - t->last_seen > m->high_timeout)
        t->high_since = 0;
      if (now - t->last_seen > m->low_timeout)
        t->low_since = 0;
    }
  t->last_seen = now;
  if (!t->found && rssi > m->high_rssi)
    {
      if (t->high_since == 0)
        t->high_since = now;
      else if (now - t->high_since >= m->high_timeout)
        {
          t->found = TRUE;
          call_monitor (m, "DeviceFound", device_path);
        }
    }
  else
    t->high_since = 0;
  if (t->found && rssi < m->low_rssi)
    {
      if (t->low_since == 0)
        t->low_since = now;
      else if (now - t->low_since >= m->low_timeout)
        {
          t->found = FALSE;
          call_monitor (m, "DeviceLost", device_path);
        }
    }
  else
    t->low_since = 0;
  if (t->found)
    t->lost_source = g_timeout_add_seconds (m->low_timeout, lost_timeout, t);
}

void
sim_monitor_notify (GPtrArray *matched,
                    SimDevice *device,
                    gint16     rssi)
{
  for (guint i = 0; matched != NULL && i < matched->len; i++)
    {
      Monitor *m = g_ptr_array_index (matched, i);

      if (!m->rssi_set)
        call_monitor (m, "DeviceFound", device->obj.path);
      else
        filter_rssi (m, device->obj.path, rssi);
    }
  if (matched != NULL)
    g_ptr_array_unref (matched);
}

void
sim_monitor_forget_device (SimAdapter *adapter,
                           SimDevice  *device)
{
  for (guint i = 0; adapter->monitor_apps != NULL && i < adapter->monitor_apps->len; i++)
    {
      SimMonitorApp *app = g_ptr_array_index (adapter->monitor_apps, i);

      for (guint j = 0; j < app->monitors->len; j++)
        g_hash_table_remove (((Monitor *) g_ptr_array_index (app->monitors, j))->devices,
                             device->obj.path);
    }
}

void
sim_monitor_clear (SimAdapter *adapter)
{
  if (adapter->monitor_apps == NULL)
    return;
  for (guint i = 0; i < adapter->monitor_apps->len; i++)
    app_free (g_ptr_array_index (adapter->monitor_apps, i));
  g_clear_pointer (&adapter->monitor_apps, g_ptr_array_unref);
}
