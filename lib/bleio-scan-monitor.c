/* SPDX-License-Identifier: MIT */
/*
 * A passive scan: BlueZ has no passive discovery session, but while an
 * advertisement monitor is registered the kernel scans passively (no scan
 * requests, so no scan responses) and bluetoothd updates the Device1 of
 * every advertiser a monitor's or_patterns match and calls DeviceFound on
 * it (bluetoothd 5.66 with -E; tests/data/bluez-5.66/adv-monitor-observed.json).
 *
 * Each prefix [len][type][data] of the scan becomes the pattern "data at
 * offset 0 of a structure of that type"; the kernel takes at most 16
 * patterns per monitor, so they are spread over monitors of 16. With no
 * prefixes the patterns are the 32 Flags values 0x00..0x1f (every
 * defined flag bit): every advertiser that sends Flags. A pattern needs at
 * least one byte of data, so a prefix of a type alone cannot be monitored.
 *
 * minimum_rssi is not given to bluetoothd as RSSI thresholds: with
 * thresholds it calls DeviceFound once a device has stayed above them for
 * a timeout, instead of for every advertisement, and a controller that
 * reports no RSSI or reports once (btvirt) is then never found. The scan
 * results apply minimum_rssi to the entries, as for an active scan.
 *
 * The objects are served on the client's worker thread (its context is
 * thread-default while they are registered), so bluetoothd's calls are
 * answered whether or not the application runs a main loop, and during a
 * blocking bleio_adapter_start_scan().
 */
#include "bleio-scan-monitor-private.h"
#include "bleio-private.h"

#include <string.h>

#define MANAGER_IFACE "org.bluez.AdvertisementMonitorManager1"
#define MONITOR_IFACE "org.bluez.AdvertisementMonitor1"
#define PATTERNS_PER_MONITOR 16
#define MAX_MONITORS 32
#define ACTIVATE_TIMEOUT_MSEC 10000

static const char introspection[] =
  "<node>"
  "  <interface name='org.freedesktop.DBus.ObjectManager'>"
  "    <method name='GetManagedObjects'>"
  "      <arg type='a{oa{sa{sv}}}' direction='out'/>"
  "    </method>"
  "  </interface>"
  "  <interface name='org.bluez.AdvertisementMonitor1'>"
  "    <method name='Release'/>"
  "    <method name='Activate'/>"
  "    <method name='DeviceFound'><arg type='o' direction='in'/></method>"
  "    <method name='DeviceLost'><arg type='o' direction='in'/></method>"
  "    <property name='Type' type='s' access='read'/>"
  "    <property name='Patterns' type='a(yyay)' access='read'/>"
  "  </interface>"
  "</node>";

struct _BleioScanMonitor {
  gint ref_count;
  BleioClient *client;
  GDBusConnection *connection;
  char *adapter_path;
  char *root;
  GPtrArray *patterns;          /* GVariant a(yyay), one per monitor */
  GArray *registrations;        /* guint */

  GMutex lock;
  GTask *start;                 /* until activated, failed or cancelled */
  GCancellable *cancellable;    /* the start's */
  GSource *activate_timeout;
  guint activated;
  gboolean stopped;
  GWeakRef target;
  BleioScanMonitorFound found;
  BleioScanMonitorReleased released;
};

static BleioScanMonitor *
monitor_ref (BleioScanMonitor *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

static void
monitor_unref (gpointer data)
{
  BleioScanMonitor *self = data;

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_clear_object (&self->start);
  g_clear_object (&self->cancellable);
  if (self->activate_timeout != NULL)
    {
      g_source_destroy (self->activate_timeout);
      g_source_unref (self->activate_timeout);
    }
  g_weak_ref_clear (&self->target);
  g_ptr_array_unref (self->patterns);
  g_array_unref (self->registrations);
  g_object_unref (self->connection);
  bleio_client_unref (self->client);
  g_free (self->adapter_path);
  g_free (self->root);
  g_mutex_clear (&self->lock);
  g_free (self);
}

/* Takes the start task out (under the lock) so that it completes once. */
static GTask *
take_start (BleioScanMonitor *self)
{
  GTask *task;

  g_mutex_lock (&self->lock);
  task = g_steal_pointer (&self->start);
  if (self->activate_timeout != NULL)
    {
      g_source_destroy (self->activate_timeout);
      g_clear_pointer (&self->activate_timeout, g_source_unref);
    }
  g_mutex_unlock (&self->lock);
  return task;
}

static void
unregister_objects (BleioScanMonitor *self)
{
  for (guint i = 0; i < self->registrations->len; i++)
    g_dbus_connection_unregister_object (self->connection,
                                         g_array_index (self->registrations, guint, i));
  g_array_set_size (self->registrations, 0);
}

/* A start that fails takes everything down again and drops the
 * monitor's own reference. */
static void
fail_start (BleioScanMonitor *self,
            GError           *error)
{
  g_autoptr(GTask) task = take_start (self);

  if (task == NULL)
    {
      g_error_free (error);
      return;
    }
  g_mutex_lock (&self->lock);
  self->stopped = TRUE;
  g_mutex_unlock (&self->lock);
  if (bleio_client_has_owner (self->client))
    bleio_client_call (self->client, self->adapter_path, MANAGER_IFACE, "UnregisterMonitor",
                       g_variant_new ("(o)", self->root), BLEIO_CALL_LOCAL_MSEC, NULL, NULL, NULL);
  unregister_objects (self);
  g_task_return_error (task, error);
  monitor_unref (self);
}

static int
monitor_index (BleioScanMonitor *self,
               const char       *path)
{
  size_t n = strlen (self->root);
  guint64 i;

  if (strncmp (path, self->root, n) != 0 || path[n] != '/' || path[n + 1] != 'm')
    return -1;
  if (!g_ascii_string_to_unsigned (path + n + 2, 10, 0, self->patterns->len - 1, &i, NULL))
    return -1;
  return (int) i;
}

static GVariant *
monitor_properties (BleioScanMonitor *self,
                    guint             i)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "Type", g_variant_new_string ("or_patterns"));
  g_variant_builder_add (&b, "{sv}", "Patterns", g_ptr_array_index (self->patterns, i));
  return g_variant_builder_end (&b);
}

static GVariant *
managed_objects (BleioScanMonitor *self)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{oa{sa{sv}}}"));
  for (guint i = 0; i < self->patterns->len; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/m%u", self->root, i);
      GVariantBuilder ifaces;

      g_variant_builder_init (&ifaces, G_VARIANT_TYPE ("a{sa{sv}}"));
      g_variant_builder_add (&ifaces, "{s@a{sv}}", MONITOR_IFACE, monitor_properties (self, i));
      g_variant_builder_add (&b, "{oa{sa{sv}}}", path, &ifaces);
    }
  return g_variant_new ("(a{oa{sa{sv}}})", &b);
}

static void
on_activate (BleioScanMonitor *self)
{
  gboolean all;

  g_mutex_lock (&self->lock);
  all = ++self->activated == self->patterns->len;
  g_mutex_unlock (&self->lock);
  if (all)
    {
      g_autoptr(GTask) task = take_start (self);

      /* the monitor's own reference goes to the caller */
      if (task != NULL)
        g_task_return_pointer (task, self, (GDestroyNotify) bleio_scan_monitor_stop);
    }
}

static void
on_release (BleioScanMonitor *self)
{
  g_autoptr(GObject) target = g_weak_ref_get (&self->target);

  g_mutex_lock (&self->lock);
  if (self->stopped)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  g_mutex_unlock (&self->lock);
  fail_start (self, g_error_new (BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                                 "bluetoothd released the passive scan's advertisement "
                                 "monitor on %s before activating it (the kernel refused its "
                                 "patterns); scan actively, or ask for the fallback",
                                 self->adapter_path));
  if (target != NULL && self->released != NULL)
    self->released (target);
}

/* Worker thread. */
static void
method_call (GDBusConnection       *connection,
             const char            *sender,
             const char            *path,
             const char            *interface,
             const char            *method,
             GVariant              *params,
             GDBusMethodInvocation *invocation,
             gpointer               user_data)
{
  BleioScanMonitor *self = user_data;
  g_autofree char *owner = bleio_client_dup_bluez_owner (self->client);

  /* Only bluetoothd may drive the monitors. */
  if (owner == NULL || g_strcmp0 (sender, owner) != 0)
    {
      g_dbus_method_invocation_return_dbus_error (invocation, "org.bluez.Error.NotPermitted",
                                                  "Only org.bluez calls the scan's monitors");
      return;
    }
  if (g_str_equal (method, "GetManagedObjects"))
    {
      g_dbus_method_invocation_return_value (invocation, managed_objects (self));
      return;
    }
  if (g_str_equal (method, "Activate"))
    on_activate (self);
  else if (g_str_equal (method, "Release"))
    on_release (self);
  else if (g_str_equal (method, "DeviceFound"))
    {
      g_autoptr(GObject) target = g_weak_ref_get (&self->target);
      const char *device;

      g_variant_get (params, "(&o)", &device);
      if (target != NULL && self->found != NULL)
        self->found (target, device);
    }
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static GVariant *
get_property (GDBusConnection  *connection,
              const char       *sender,
              const char       *path,
              const char       *interface,
              const char       *name,
              GError          **error,
              gpointer          user_data)
{
  BleioScanMonitor *self = user_data;
  int i = monitor_index (self, path);
  g_autoptr(GVariant) props = NULL;
  GVariant *value;

  if (i < 0)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT, "No monitor at %s", path);
      return NULL;
    }
  props = g_variant_ref_sink (monitor_properties (self, (guint) i));
  value = g_variant_lookup_value (props, name, NULL);
  if (value == NULL)
    g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "No property %s", name);
  return value;
}

static const GDBusInterfaceVTable vtable = { method_call, get_property, NULL, { 0 } };

/* The patterns of the scan's prefixes, 16 to a monitor. */
static GPtrArray *
build_patterns (GBytes  *prefixes,
                GError **error)
{
  g_autoptr(GPtrArray) sets = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  GVariantBuilder b;
  guint n = 0;
  BleioAdIter iter;
  guint8 type;
  const guint8 *payload;
  gsize len, size = 0;
  const guint8 *data = prefixes != NULL ? g_bytes_get_data (prefixes, &size) : NULL;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(yyay)"));
  if (size == 0)
    {
      for (guint8 flags = 0; flags < 0x20; flags++)
        {
          g_variant_builder_add (&b, "(yy@ay)", 0, 0x01,
                                 g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, &flags, 1, 1));
          if (++n % PATTERNS_PER_MONITOR == 0)
            {
              g_ptr_array_add (sets, g_variant_ref_sink (g_variant_builder_end (&b)));
              g_variant_builder_init (&b, G_VARIANT_TYPE ("a(yyay)"));
            }
        }
      g_variant_builder_clear (&b);
      return g_steal_pointer (&sets);
    }
  bleio_ad_iter_init (&iter, data, size);
  while (bleio_ad_iter_next (&iter, &type, &payload, &len, NULL))
    {
      if (len == 0 || !((type >= 0x01 && type <= 0x3d) || type == 0xff))
        {
          g_variant_builder_clear (&b);
          g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                       "A passive scan cannot match the prefix of AD type 0x%02x: BlueZ's "
                       "advertisement monitors need at least one data byte of a type from "
                       "0x01 to 0x3d or 0xff; scan actively for it", type);
          return NULL;
        }
      g_variant_builder_add (&b, "(yy@ay)", 0, type,
                             g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, payload, len, 1));
      if (++n % PATTERNS_PER_MONITOR == 0)
        {
          g_ptr_array_add (sets, g_variant_ref_sink (g_variant_builder_end (&b)));
          g_variant_builder_init (&b, G_VARIANT_TYPE ("a(yyay)"));
        }
    }
  if (n % PATTERNS_PER_MONITOR != 0)
    g_ptr_array_add (sets, g_variant_ref_sink (g_variant_builder_end (&b)));
  else
    g_variant_builder_clear (&b);
  if (sets->len > MAX_MONITORS)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                   "A passive scan takes at most %u prefixes (the kernel's %u monitors of "
                   "%u patterns); give fewer, or scan actively",
                   MAX_MONITORS * PATTERNS_PER_MONITOR, MAX_MONITORS, PATTERNS_PER_MONITOR);
      return NULL;
    }
  return g_steal_pointer (&sets);
}

static gboolean
activate_timed_out (gpointer user_data)
{
  fail_start (user_data, g_error_new (BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                                      "bluetoothd accepted the passive scan's advertisement "
                                      "monitor but never activated it (%u s)",
                                      ACTIVATE_TIMEOUT_MSEC / 1000));
  return G_SOURCE_REMOVE;
}

static void
registered_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  BleioScanMonitor *self = user_data;
  GError *error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (self->client, result, &error);

  if (reply == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
          !g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_BLUEZ_UNAVAILABLE))
        {
          g_autofree char *why = g_strdup (error->message);

          g_clear_error (&error);
          error = g_error_new (BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                               "bluetoothd refused the passive scan's advertisement monitor "
                               "on %s (%s)", self->adapter_path, why);
        }
      fail_start (self, error);
    }
  else
    {
      g_mutex_lock (&self->lock);
      if (self->start != NULL && self->activated < self->patterns->len)
        {
          self->activate_timeout = g_timeout_source_new (ACTIVATE_TIMEOUT_MSEC);
          g_source_set_callback (self->activate_timeout, activate_timed_out,
                                 monitor_ref (self), monitor_unref);
          g_source_set_static_name (self->activate_timeout, "[bleio] monitor activation");
          g_source_attach (self->activate_timeout, bleio_client_get_worker_context (self->client));
        }
      g_mutex_unlock (&self->lock);
    }
  monitor_unref (self);
}

static gboolean
supported (BleioClient *client,
           const char  *adapter_path,
           GError     **error)
{
  g_autoptr(GVariant) types = NULL;

  if (!bleio_client_has_interface (client, adapter_path, MANAGER_IFACE))
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                   "bluetoothd has no %s on %s, which a passive scan needs: it is there "
                   "from BlueZ 5.56 when bluetoothd runs with --experimental (-E); scan "
                   "actively, or ask for the fallback", MANAGER_IFACE, adapter_path);
      return FALSE;
    }
  types = bleio_client_dup_property (client, adapter_path, MANAGER_IFACE, "SupportedMonitorTypes");
  if (types == NULL || !g_variant_is_of_type (types, G_VARIANT_TYPE_STRING_ARRAY))
    goto no_or_patterns;
  {
    g_autofree const char **names = g_variant_get_strv (types, NULL);

    if (g_strv_contains (names, "or_patterns"))
      return TRUE;
  }
no_or_patterns:
  g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
               "The advertisement monitors of %s do not offer or_patterns, which a passive "
               "scan needs; scan actively, or ask for the fallback", adapter_path);
  return FALSE;
}

/* Worker thread: exports the objects and registers them. */
static gboolean
register_on_worker (gpointer user_data)
{
  BleioScanMonitor *self = user_data;
  g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml (introspection, NULL);
  GError *error = NULL;

  for (guint i = 0; i <= self->patterns->len && error == NULL; i++)
    {
      g_autofree char *path = i == 0 ? g_strdup (self->root)
                                     : g_strdup_printf ("%s/m%u", self->root, i - 1);
      guint id = g_dbus_connection_register_object (self->connection, path,
                                                    node->interfaces[i == 0 ? 0 : 1],
                                                    &vtable, monitor_ref (self), monitor_unref,
                                                    &error);

      if (id != 0)
        g_array_append_val (self->registrations, id);
    }
  if (error != NULL)
    {
      fail_start (self, error);
      return G_SOURCE_REMOVE;
    }
  bleio_client_call (self->client, self->adapter_path, MANAGER_IFACE, "RegisterMonitor",
                     g_variant_new ("(o)", self->root), BLEIO_CALL_LOCAL_MSEC, self->cancellable, registered_cb,
                     monitor_ref (self));
  return G_SOURCE_REMOVE;
}

void
bleio_scan_monitor_start_async (BleioClient         *client,
                                const char          *adapter_path,
                                GBytes              *prefixes,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  static gint next_id;
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  GError *error = NULL;
  GPtrArray *patterns;
  BleioScanMonitor *self;
  GMainContext *worker = bleio_client_get_worker_context (client);

  g_task_set_source_tag (task, BLEIO_TAG (bleio_scan_monitor_start_async));
  if (!supported (client, adapter_path, &error) ||
      (patterns = build_patterns (prefixes, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  self = g_new0 (BleioScanMonitor, 1);
  self->ref_count = 1;
  self->client = bleio_client_ref (client);
  self->connection = g_object_ref (bleio_client_get_connection (client));
  self->adapter_path = g_strdup (adapter_path);
  self->root = g_strdup_printf ("/org/bleio/passivescan%d", g_atomic_int_add (&next_id, 1));
  self->patterns = patterns;
  self->registrations = g_array_new (FALSE, FALSE, sizeof (guint));
  g_mutex_init (&self->lock);
  g_weak_ref_init (&self->target, NULL);
  self->start = g_object_ref (task);

  self->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  /* registered from the worker thread, so that bluetoothd's calls are
   * dispatched there */
  g_main_context_invoke_full (worker, G_PRIORITY_DEFAULT, register_on_worker,
                              monitor_ref (self), monitor_unref);
}

BleioScanMonitor *
bleio_scan_monitor_start_finish (GAsyncResult  *result,
                                 GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
bleio_scan_monitor_feed (BleioScanMonitor         *self,
                         GObject                  *target,
                         BleioScanMonitorFound     found,
                         BleioScanMonitorReleased  released)
{
  g_mutex_lock (&self->lock);
  self->found = found;
  self->released = released;
  g_mutex_unlock (&self->lock);
  g_weak_ref_set (&self->target, target);
}

void
bleio_scan_monitor_stop (BleioScanMonitor *self)
{
  if (self == NULL)
    return;
  g_mutex_lock (&self->lock);
  self->stopped = TRUE;
  g_mutex_unlock (&self->lock);
  if (bleio_client_has_owner (self->client))
    bleio_client_call (self->client, self->adapter_path, MANAGER_IFACE, "UnregisterMonitor",
                       g_variant_new ("(o)", self->root), BLEIO_CALL_LOCAL_MSEC, NULL, NULL, NULL);
  unregister_objects (self);
  monitor_unref (self);
}
