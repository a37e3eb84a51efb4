/* SPDX-License-Identifier: MIT */
/*
 * org.bluez.Adapter1 and the other interfaces bluetoothd puts on an adapter
 * object (but LEAdvertisingManager1, sim-advertising.c); discovery sessions
 * per D-Bus client with their filters; the advertising loop that makes
 * peripherals appear; temporary devices.
 */
#include "sim-adapter.h"
#include "sim-adapter-misc.h"
#include "sim-device.h"
#include "sim-gatt.h"
#include "sim-monitor.h"

#include <string.h>

static const char *const adapter_uuids[] = {
  "0000112d-0000-1000-8000-00805f9b34fb", "0000110e-0000-1000-8000-00805f9b34fb",
  "00001200-0000-1000-8000-00805f9b34fb", "0000110c-0000-1000-8000-00805f9b34fb",
  "00001800-0000-1000-8000-00805f9b34fb", "00001801-0000-1000-8000-00805f9b34fb",
  "00001844-0000-1000-8000-00805f9b34fb", "0000180a-0000-1000-8000-00805f9b34fb",
  NULL
};

static const char *const filter_names[] = {
  "UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData", "Discoverable",
  "Pattern", NULL
};

#define ADV_TICK_MS 20
#define RSSI_DELTA_THRESHOLD 8

static void stop_discovery (SimAdapter *adapter);
static void flood_end (SimAdapter *adapter);
static void update_discoverable (SimAdapter *adapter);

/* Powered or Discoverable changed: what the adapter advertises follows */
static void
adapter_changed (SimAdapter *adapter)
{
  if (sim_world.hooks.adapter_changed != NULL)
    sim_world.hooks.adapter_changed (adapter);
}

SimAdapter *
sim_adapter_find (const char *name)
{
  for (guint i = 0; sim_world.adapters != NULL && i < sim_world.adapters->len; i++)
    {
      SimAdapter *a = g_ptr_array_index (sim_world.adapters, i);

      if (g_str_equal (a->name, name))
        return a;
    }
  return NULL;
}

SimDevice *
sim_adapter_find_device (SimAdapter *adapter,
                         const char *address)
{
  char upper[18];

  if (strlen (address) != 17)
    return NULL;
  for (int i = 0; i < 17; i++)
    upper[i] = g_ascii_toupper (address[i]);
  upper[17] = '\0';
  return g_hash_table_lookup (adapter->device_index, upper);
}

/* Every device in adapter->devices is in device_index under its address
 * (upper case, owned by its peripheral). */
void
sim_adapter_add_device (SimAdapter *adapter,
                        SimDevice  *device)
{
  g_ptr_array_add (adapter->devices, device);
  g_hash_table_insert (adapter->device_index, device->periph->address, device);
}

void
sim_adapter_drop_device (SimAdapter *adapter,
                         SimDevice  *device)
{
  if (g_hash_table_lookup (adapter->device_index, device->periph->address) == device)
    g_hash_table_remove (adapter->device_index, device->periph->address);
  sim_monitor_forget_device (adapter, device);
  g_ptr_array_remove (adapter->devices, device);
}

static SimPeripheral *
find_peripheral (SimAdapter *adapter,
                 const char *address)
{
  for (guint i = 0; i < adapter->peripherals->len; i++)
    {
      SimPeripheral *p = g_ptr_array_index (adapter->peripherals, i);

      if (g_ascii_strcasecmp (p->address, address) == 0)
        return p;
    }
  return NULL;
}

/* ---- discovery clients ---- */

static void
client_free (gpointer data)
{
  SimDiscoveryClient *c = data;

  if (c->watch_id != 0)
    g_bus_unwatch_name (c->watch_id);
  g_free (c->sender);
  g_strfreev (c->uuids);
  g_free (c->transport);
  g_free (c->pattern);
  g_free (c);
}

static gboolean
any_discovering (SimAdapter *adapter)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, adapter->clients);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((SimDiscoveryClient *) value)->discovering)
      return TRUE;
  return FALSE;
}

typedef struct {
  char *adapter_name;
  char *sender;
} WatchData;

static void
watch_data_free (gpointer data)
{
  WatchData *w = data;

  g_free (w->adapter_name);
  g_free (w->sender);
  g_free (w);
}

static void
on_client_vanished (GDBusConnection *conn,
                    const char      *name,
                    gpointer         user_data)
{
  WatchData *w = user_data;
  SimAdapter *adapter = sim_adapter_find (w->adapter_name);
  g_autofree char *sender = g_strdup (w->sender);

  /* w dies with the watch, which dies with the client */
  if (adapter == NULL || !g_hash_table_contains (adapter->clients, sender))
    return;
  g_hash_table_remove (adapter->clients, sender);
  if (adapter->discovering && !any_discovering (adapter))
    stop_discovery (adapter);
  update_discoverable (adapter);
}

static SimDiscoveryClient *
ensure_client (SimAdapter *adapter,
               const char *sender)
{
  SimDiscoveryClient *c = g_hash_table_lookup (adapter->clients, sender);
  WatchData *w;

  if (c != NULL)
    return c;
  c = g_new0 (SimDiscoveryClient, 1);
  c->sender = g_strdup (sender);
  w = g_new0 (WatchData, 1);
  w->adapter_name = g_strdup (adapter->name);
  w->sender = g_strdup (sender);
  c->watch_id = g_bus_watch_name_on_connection (sim_registry_get_connection (), sender,
                                                G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                NULL, on_client_vanished, w,
                                                watch_data_free);
  g_hash_table_insert (adapter->clients, c->sender, c);
  return c;
}

/* ---- advertising ---- */

static gboolean
filter_match (SimDiscoveryClient *c,
              SimPeripheral      *p,
              gint16              rssi)
{
  if (!c->has_filter)
    return TRUE;
  if (c->transport != NULL && g_str_equal (c->transport, "bredr"))
    return FALSE;
  if (c->uuids != NULL && c->uuids[0] != NULL)
    {
      gboolean found = FALSE;

      for (guint i = 0; i < p->uuids->len && !found; i++)
        found = g_strv_contains ((const char *const *) c->uuids, p->uuids->pdata[i]);
      if (!found && p->service_data != NULL)
        {
          GVariantIter iter;
          const char *uuid;

          g_variant_iter_init (&iter, p->service_data);
          while (!found && g_variant_iter_next (&iter, "{&sv}", &uuid, NULL))
            found = g_strv_contains ((const char *const *) c->uuids, uuid);
        }
      if (!found)
        return FALSE;
    }
  if (c->has_rssi && rssi < c->rssi)
    return FALSE;
  if (c->has_pathloss && (!p->has_tx_power || p->tx_power - rssi > c->pathloss))
    return FALSE;
  if (c->pattern != NULL && c->pattern[0] != '\0'
      && !g_str_has_prefix (p->address, c->pattern)
      && (p->name == NULL || !g_str_has_prefix (p->name, c->pattern)))
    return FALSE;
  return TRUE;
}

static gboolean
discoverable_flags (SimPeripheral *p)
{
  return p->adv_flags != NULL && g_bytes_get_size (p->adv_flags) > 0
         && (*(const guint8 *) g_bytes_get_data (p->adv_flags, NULL) & 0x03) != 0;
}

static void
report (SimAdapter    *adapter,
        SimPeripheral *p)
{
  GHashTableIter iter;
  gpointer value;
  gboolean match = FALSE, duplicates = FALSE, filtered = FALSE;
  gint16 rssi = (gint16) p->rssi;
  SimDevice *dev;
  GPtrArray *monitors;

  /* 127 is HCI's "no RSSI": reported as it is, as bluetoothd does */
  if (p->rssi_jitter > 0 && p->rssi != 127)
    rssi += (gint16) g_random_int_range (-(gint) p->rssi_jitter,
                                         (gint) p->rssi_jitter + 1);
  if (p->rssi != 127)
    rssi = CLAMP (rssi, -127, 20);
  g_hash_table_iter_init (&iter, adapter->clients);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      SimDiscoveryClient *c = value;

      if (!c->discovering)
        continue;
      filtered |= c->has_filter;
      if (filter_match (c, p, rssi))
        {
          match = TRUE;
          duplicates |= c->has_filter && c->duplicate_data;
        }
    }
  /* bluetoothd (adapter.c, btd_adapter_update_found_device()) matches
   * the monitors first; a match makes the device and updates it whether or
   * not anybody discovers, and past the discovery filters */
  monitors = sim_monitor_match (adapter, p);
  if (!match && monitors == NULL)
    return;
  dev = sim_adapter_find_device (adapter, p->address);
  if (dev == NULL && p->needs_discoverable_flags && !filtered && !discoverable_flags (p)
      && monitors == NULL)
    {
      /* device_is_discoverable() of bluetoothd: an LE report without the
       * limited or general discoverable flag makes no new device unless
       * the discovery is filtered (recorded on 5.66 for an advertisement
       * without Discoverable) or a monitor matched it */
      return;
    }
  if (dev == NULL)
    {
      dev = sim_device_new (adapter, p);
      dev->rssi_valid = TRUE;
      dev->rssi = rssi;
      dev->advertised = TRUE;
      dev->tx_power_valid = p->has_tx_power;
      dev->shown_mfr = p->manufacturer_data != NULL ? g_variant_ref (p->manufacturer_data) : NULL;
      dev->shown_svc = p->service_data != NULL ? g_variant_ref (p->service_data) : NULL;
      sim_adapter_add_device (adapter, dev);
      sim_obj_export (&dev->obj, (const SimIfaceDef *const[]) { &sim_device_iface, NULL },
                      TRUE);
    }
  else
    sim_device_advertise (dev, rssi, duplicates, filtered);
  sim_monitor_notify (monitors, dev, rssi);
}

/* Advertisements are heard while somebody discovers or a monitor is
 * activated (the kernel then scans passively). */
static gboolean
scanning (SimAdapter *adapter)
{
  return adapter->discovering || sim_monitor_active (adapter);
}

static gboolean
adv_tick (gpointer data)
{
  SimAdapter *adapter = data;
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < adapter->peripherals->len; i++)
    {
      SimPeripheral *p = g_ptr_array_index (adapter->peripherals, i);
      gpointer due;

      if (g_hash_table_lookup_extended (adapter->next_adv, p, NULL, &due)
          && now < (gint64) GPOINTER_TO_SIZE (due))
        continue;
      g_hash_table_insert (adapter->next_adv, p,
                           GSIZE_TO_POINTER ((gsize) (now + (gint64) p->adv_interval_ms * 1000)));
      report (adapter, p);
      /* report() may have ended discovery (a client left in a signal
       * handler cannot, but stay safe) */
      if (!scanning (adapter))
        break;
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
first_adv (gpointer data)
{
  SimAdapter *adapter = data;

  adapter->first_adv_source = 0;
  if (scanning (adapter))
    adv_tick (adapter);
  return G_SOURCE_REMOVE;
}

/* The Discoverable filter makes the adapter discoverable while some client
 * that asked for it discovers. */
static void
update_discoverable (SimAdapter *adapter)
{
  GHashTableIter iter;
  gpointer value;
  gboolean want = FALSE;

  g_hash_table_iter_init (&iter, adapter->clients);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      SimDiscoveryClient *c = value;

      want |= c->discovering && c->has_filter && c->discoverable;
    }
  if (want && !adapter->discoverable)
    {
      adapter->discoverable = TRUE;
      adapter->discoverable_by_filter = TRUE;
      sim_obj_changed (&adapter->obj, &sim_adapter_iface, "Discoverable", NULL);
      adapter_changed (adapter);
    }
  else if (!want && adapter->discoverable_by_filter)
    {
      adapter->discoverable_by_filter = FALSE;
      adapter->discoverable = FALSE;
      sim_obj_changed (&adapter->obj, &sim_adapter_iface, "Discoverable", NULL);
      adapter_changed (adapter);
    }
}

static void
start_hearing (SimAdapter *adapter)
{
  g_hash_table_remove_all (adapter->next_adv);
  if (adapter->first_adv_source == 0)
    adapter->first_adv_source = g_idle_add (first_adv, adapter);
  if (adapter->adv_source == 0)
    adapter->adv_source = g_timeout_add (ADV_TICK_MS, adv_tick, adapter);
}

static void
stop_hearing (SimAdapter *adapter)
{
  g_clear_handle_id (&adapter->adv_source, g_source_remove);
  /* By id: g_idle_remove_by_data() removed whichever idle of this adapter
   * came first, the flood's step or a pending prune among them, and left
   * flood_source naming a source that no longer existed. */
  g_clear_handle_id (&adapter->first_adv_source, g_source_remove);
}

void
sim_adapter_update_scan (SimAdapter *adapter)
{
  if (scanning (adapter) && adapter->adv_source == 0)
    start_hearing (adapter);
  else if (!scanning (adapter) && adapter->adv_source != 0)
    stop_hearing (adapter);
}

static void
start_discovery (SimAdapter *adapter)
{
  adapter->discovering = TRUE;
  sim_obj_changed (&adapter->obj, &sim_adapter_iface, "Discovering", NULL);
  sim_adapter_update_temporary (adapter);
  start_hearing (adapter);
}

static void
stop_discovery (SimAdapter *adapter)
{
  /* A flood is advertising seen by this discovery: it ends with it, and a
   * round whose flush is still on its way must not resume it at the next
   * StartDiscovery. */
  flood_end (adapter);
  for (guint i = 0; i < adapter->devices->len; i++)
    {
      SimDevice *d = g_ptr_array_index (adapter->devices, i);

      /* bluetoothd forgets both when discovery ends (adapter.c,
       * invalidate_rssi_and_tx_power()), in one PropertiesChanged. */
      if (d->rssi_valid && d->tx_power_valid)
        {
          d->rssi_valid = FALSE;
          d->tx_power_valid = FALSE;
          sim_obj_changed (&d->obj, &sim_device_iface, "RSSI", "TxPower", NULL);
        }
      else if (d->rssi_valid)
        {
          d->rssi_valid = FALSE;
          sim_obj_invalidated (&d->obj, &sim_device_iface, "RSSI");
        }
      else if (d->tx_power_valid)
        {
          d->tx_power_valid = FALSE;
          sim_obj_invalidated (&d->obj, &sim_device_iface, "TxPower");
        }
    }
  adapter->discovering = FALSE;
  sim_obj_changed (&adapter->obj, &sim_adapter_iface, "Discovering", NULL);
  sim_adapter_update_scan (adapter);
  sim_adapter_update_temporary (adapter);
}

/* ---- temporary devices ---- */

void
sim_adapter_update_temporary (SimAdapter *adapter)
{
  for (guint i = 0; i < adapter->devices->len; i++)
    {
      SimDevice *d = g_ptr_array_index (adapter->devices, i);

      g_clear_handle_id (&d->temporary_source, g_source_remove);
      if (!adapter->discovering)
        sim_device_arm_temporary (d);
    }
}

/* ---- devices ---- */

SimDevice *
sim_adapter_ensure_device (SimAdapter    *adapter,
                           SimPeripheral *periph)
{
  SimDevice *dev = sim_adapter_find_device (adapter, periph->address);

  if (dev != NULL)
    return dev;
  dev = sim_device_new (adapter, periph);
  sim_adapter_add_device (adapter, dev);
  sim_obj_export (&dev->obj, (const SimIfaceDef *const[]) { &sim_device_iface, NULL },
                  TRUE);
  return dev;
}

void
sim_adapter_remove_device (SimAdapter *adapter,
                           SimDevice  *device)
{
  if (device->connected || device->connecting)
    sim_device_drop_link (device, "removed");
  if (device->services != NULL)
    {
      sim_gatt_unexport (device->services, TRUE);
      g_clear_pointer (&device->services, g_ptr_array_unref);
    }
  sim_obj_unexport (&device->obj, TRUE);
  device->periph->paired = FALSE;
  sim_adapter_drop_device (adapter, device);
}

void
sim_adapter_add_peripheral (SimAdapter    *adapter,
                            SimPeripheral *periph)
{
  g_ptr_array_add (adapter->peripherals, sim_peripheral_ref (periph));
  /* Bonded devices are loaded from storage at start, GATT cache included. */
  if (periph->paired)
    {
      SimDevice *dev = sim_adapter_ensure_device (adapter, periph);

      dev->paired = dev->bonded = TRUE;
      dev->temporary = FALSE;
      dev->services = sim_gatt_build (dev);
      sim_gatt_export (dev->services, TRUE);
    }
}

void
sim_adapter_remove_peripheral (SimAdapter    *adapter,
                               SimPeripheral *periph)
{
  SimDevice *dev = sim_adapter_find_device (adapter, periph->address);

  if (dev != NULL)
    sim_adapter_remove_device (adapter, dev);
  g_hash_table_remove (adapter->next_adv, periph);
  g_ptr_array_remove (adapter->peripherals, periph);
}

void
sim_adapter_forget_peripheral (SimAdapter    *adapter,
                               SimPeripheral *periph)
{
  g_hash_table_remove (adapter->next_adv, periph);
  g_ptr_array_remove (adapter->peripherals, periph);
}

gboolean
sim_adapter_sees_peripheral (SimAdapter    *adapter,
                             SimPeripheral *periph)
{
  return g_ptr_array_find (adapter->peripherals, periph, NULL);
}

/* ---- Flood: many advertisers, each advertising as fast as possible ---- */

static gboolean flood_step (gpointer data);

/* A flush in flight names its flood by adapter name and flood id: the
 * adapter may be gone (or removed and added again under the same name)
 * and the flood ended or replaced by the time it completes. */
typedef struct {
  char *adapter_name;
  guint flood_id;
} FloodFlush;

static void
flood_end (SimAdapter *adapter)
{
  g_clear_handle_id (&adapter->flood_source, g_source_remove);
  adapter->flood_id = 0;
  adapter->flood_rounds = 0;
  adapter->flood_round = 0;
}

static void
flood_flushed (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  FloodFlush *flush = user_data;
  SimAdapter *adapter;

  g_dbus_connection_flush_finish (G_DBUS_CONNECTION (source), result, NULL);
  adapter = sim_adapter_find (flush->adapter_name);
  if (adapter != NULL && adapter->flood_id == flush->flood_id
      && adapter->flood_round < adapter->flood_rounds && adapter->flood_source == 0)
    adapter->flood_source = g_idle_add (flood_step, adapter);
  g_free (flush->adapter_name);
  g_free (flush);
}

static gboolean
flood_step (gpointer data)
{
  SimAdapter *adapter = data;

  if (!adapter->discovering)
    {
      /* wait for discovery without spinning */
      adapter->flood_source = g_timeout_add (20, flood_step, adapter);
      return G_SOURCE_REMOVE;
    }
  for (guint i = 0; i < adapter->flood_peripherals->len; i++)
    {
      SimPeripheral *p = g_ptr_array_index (adapter->flood_peripherals, i);
      guint8 payload[4];

      payload[0] = (guint8) (adapter->flood_round >> 8);
      payload[1] = (guint8) adapter->flood_round;
      payload[2] = (guint8) (i >> 8);
      payload[3] = (guint8) i;
      g_clear_pointer (&p->manufacturer_data, g_variant_unref);
      p->manufacturer_data =
        g_variant_ref_sink (g_variant_new_parsed ("{uint16 65535: <%@ay>}",
                                                  sim_bytes_variant (payload, 4)));
      report (adapter, p);
    }
  adapter->flood_round++;
  adapter->flood_source = 0;
  /* Next round once this one is on the wire: GDBus's writer slows down
   * when its queue grows (see NotifyBurst). */
  if (adapter->flood_round < adapter->flood_rounds)
    {
      FloodFlush *flush = g_new0 (FloodFlush, 1);

      flush->adapter_name = g_strdup (adapter->name);
      flush->flood_id = adapter->flood_id;
      g_dbus_connection_flush (sim_registry_get_connection (), NULL, flood_flushed, flush);
    }
  else
    adapter->flood_id = 0;
  return G_SOURCE_REMOVE;
}

void
sim_adapter_flood (SimAdapter *adapter,
                   guint       devices,
                   guint       rounds)
{
  static guint last_flood_id = 0;

  flood_end (adapter);
  for (guint i = adapter->flood_peripherals->len; i < devices; i++)
    {
      SimPeripheral *p = g_new0 (SimPeripheral, 1);

      p->ref_count = 1;
      p->adapter = g_strdup (adapter->name);
      p->address = g_strdup_printf ("F0:0D:%02X:%02X:%02X:%02X", (i >> 24) & 0xff,
                                    (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
      p->address_type = g_strdup ("random");
      p->name = g_strdup_printf ("Flood-%u", i);
      p->rssi = -70;
      p->adv_interval_ms = 1000;
      p->uuids = g_ptr_array_new_with_free_func (g_free);
      p->services = g_ptr_array_new ();
      p->mtu = SIM_DEFAULT_MTU;
      p->io_capability = g_strdup ("NoInputNoOutput");
      p->bonding = TRUE;
      p->agent_timeout_ms = 25000;
      g_ptr_array_add (adapter->flood_peripherals, p);
    }
  adapter->flood_devices = devices;
  if (rounds == 0 || devices == 0)
    return;
  adapter->flood_rounds = rounds;
  if (++last_flood_id == 0)
    last_flood_id = 1;
  adapter->flood_id = last_flood_id;
  adapter->flood_source = g_idle_add (flood_step, adapter);
}

/* ---- Adapter1 ---- */

static void
set_discovery_filter (SimAdapter            *adapter,
                      GDBusMethodInvocation *invocation,
                      GVariant              *params)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  g_autoptr(GVariant) dict = g_variant_get_child_value (params, 0);
  SimDiscoveryClient f = { 0 };
  SimDiscoveryClient *c;
  GVariantIter iter;
  const char *key;
  GVariant *value;
  gboolean ok = TRUE;

  g_variant_iter_init (&iter, dict);
  while (ok && g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      if (g_str_equal (key, "UUIDs") && g_variant_is_of_type (value, G_VARIANT_TYPE ("as")))
        {
          g_autofree const char **in = g_variant_get_strv (value, NULL);
          GPtrArray *out = g_ptr_array_new ();

          for (guint i = 0; in[i] != NULL && ok; i++)
            {
              char *u = sim_uuid_normalize (in[i]);

              ok = u != NULL;
              if (ok)
                g_ptr_array_add (out, u);
            }
          g_ptr_array_add (out, NULL);
          g_strfreev (f.uuids);
          f.uuids = (char **) g_ptr_array_free (out, FALSE);
        }
      else if (g_str_equal (key, "RSSI") && g_variant_is_of_type (value, G_VARIANT_TYPE_INT16))
        {
          f.rssi = g_variant_get_int16 (value);
          f.has_rssi = TRUE;
          ok = f.rssi >= -127 && f.rssi <= 20;
        }
      else if (g_str_equal (key, "Pathloss") && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT16))
        {
          f.pathloss = g_variant_get_uint16 (value);
          f.has_pathloss = TRUE;
          ok = f.pathloss <= 137;
        }
      else if (g_str_equal (key, "Transport") && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        {
          const char *t = g_variant_get_string (value, NULL);

          ok = g_str_equal (t, "auto") || g_str_equal (t, "bredr") || g_str_equal (t, "le");
          g_free (f.transport);
          f.transport = g_strdup (t);
        }
      else if (g_str_equal (key, "DuplicateData") && g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
        f.duplicate_data = g_variant_get_boolean (value);
      else if (g_str_equal (key, "Discoverable") && g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
        f.discoverable = g_variant_get_boolean (value);
      else if (g_str_equal (key, "Pattern") && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        {
          g_free (f.pattern);
          f.pattern = g_variant_dup_string (value, NULL);
        }
      else
        ok = FALSE;
      g_variant_unref (value);
    }
  if (ok && f.has_rssi && f.has_pathloss)
    ok = FALSE;
  if (!ok)
    {
      g_strfreev (f.uuids);
      g_free (f.transport);
      g_free (f.pattern);
      sim_return_error (invocation, SIM_ERR_INVALID_ARGS, SIM_MSG_INVALID_ARGS);
      return;
    }
  c = ensure_client (adapter, sender);
  g_strfreev (c->uuids);
  g_free (c->transport);
  g_free (c->pattern);
  c->has_filter = g_variant_n_children (dict) > 0;
  c->uuids = f.uuids;
  c->has_rssi = f.has_rssi;
  c->rssi = f.rssi;
  c->has_pathloss = f.has_pathloss;
  c->pathloss = f.pathloss;
  c->transport = f.transport;
  c->duplicate_data = f.duplicate_data;
  c->discoverable = f.discoverable;
  c->pattern = f.pattern;
  if (!c->has_filter && !c->discovering)
    g_hash_table_remove (adapter->clients, sender);
  g_dbus_method_invocation_return_value (invocation, NULL);
  update_discoverable (adapter);
}

static void
connect_device (SimAdapter            *adapter,
                GDBusMethodInvocation *invocation,
                GVariant              *params)
{
  g_autoptr(GVariant) dict = g_variant_get_child_value (params, 0);
  const char *address = NULL, *type = "public";
  SimPeripheral *p;
  SimDevice *dev;
  GVariantIter iter;
  const char *key;
  GVariant *value;
  gboolean ok = TRUE;

  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      if (g_str_equal (key, "Address") && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        address = g_variant_get_string (value, NULL);
      else if (g_str_equal (key, "AddressType")
               && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        {
          type = g_variant_get_string (value, NULL);
          ok &= g_str_equal (type, "public") || g_str_equal (type, "random");
        }
      else
        ok = FALSE;
      g_variant_unref (value);
    }
  if (!ok || address == NULL || strlen (address) != 17 || address[2] != ':')
    {
      sim_return_error (invocation, SIM_ERR_INVALID_ARGS, SIM_MSG_INVALID_ARGS);
      return;
    }
  if (sim_adapter_find_device (adapter, address) != NULL)
    {
      sim_return_error (invocation, SIM_ERR_ALREADY_EXISTS, SIM_MSG_ALREADY_EXISTS);
      return;
    }
  p = find_peripheral (adapter, address);
  if (p == NULL || !p->connectable || !adapter->powered)
    {
      /* bluetoothd keeps trying and never answers */
      sim_registry_keep_unanswered (invocation);
      return;
    }
  dev = sim_device_new (adapter, p);
  dev->temporary = FALSE;
  sim_adapter_add_device (adapter, dev);
  /* The object appears once the link is up; sim_device_connect() exports it
   * and answers with its path. */
  dev->connect_device_invocation = invocation;
  sim_device_connect (dev, NULL);
}

static void
adapter_method (SimObj                *obj,
                GDBusMethodInvocation *invocation,
                const char            *method,
                GVariant              *params)
{
  SimAdapter *adapter = (SimAdapter *) obj;
  const char *sender = g_dbus_method_invocation_get_sender (invocation);

  if (g_str_equal (method, "StartDiscovery"))
    {
      SimDiscoveryClient *c = g_hash_table_lookup (adapter->clients, sender);

      if (!adapter->powered)
        {
          sim_return_error (invocation, SIM_ERR_NOT_READY, "Resource Not Ready");
          return;
        }
      if (c != NULL && c->discovering)
        {
          sim_return_error (invocation, SIM_ERR_IN_PROGRESS,
                            "Operation already in progress");
          return;
        }
      c = ensure_client (adapter, sender);
      c->discovering = TRUE;
      g_dbus_method_invocation_return_value (invocation, NULL);
      if (!adapter->discovering)
        start_discovery (adapter);
      update_discoverable (adapter);
    }
  else if (g_str_equal (method, "StopDiscovery"))
    {
      SimDiscoveryClient *c = g_hash_table_lookup (adapter->clients, sender);

      if (!adapter->powered)
        {
          sim_return_error (invocation, SIM_ERR_NOT_READY, "Resource Not Ready");
          return;
        }
      if (c == NULL || !c->discovering)
        {
          sim_return_error (invocation, SIM_ERR_FAILED, "No discovery started");
          return;
        }
      c->discovering = FALSE;
      if (!c->has_filter)
        g_hash_table_remove (adapter->clients, sender);
      g_dbus_method_invocation_return_value (invocation, NULL);
      if (adapter->discovering && !any_discovering (adapter))
        stop_discovery (adapter);
      update_discoverable (adapter);
    }
  else if (g_str_equal (method, "SetDiscoveryFilter"))
    set_discovery_filter (adapter, invocation, params);
  else if (g_str_equal (method, "GetDiscoveryFilters"))
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(^as)", filter_names));
  else if (g_str_equal (method, "RemoveDevice"))
    {
      const char *path;
      SimObj *target;

      g_variant_get (params, "(&o)", &path);
      target = sim_obj_lookup (path);
      if (target == NULL || target->kind != SIM_OBJ_DEVICE
          || ((SimDevice *) target)->adapter != adapter)
        {
          sim_return_error (invocation, SIM_ERR_DOES_NOT_EXIST, SIM_MSG_DOES_NOT_EXIST);
          return;
        }
      sim_adapter_remove_device (adapter, (SimDevice *) target);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method, "ConnectDevice"))
    connect_device (adapter, invocation, params);
  else
    sim_return_error (invocation, SIM_ERR_NOT_SUPPORTED, SIM_MSG_NOT_SUPPORTED);
}

static GVariant *
adapter_get (SimObj     *obj,
             const char *prop)
{
  SimAdapter *a = (SimAdapter *) obj;

  if (g_str_equal (prop, "Address"))
    return g_variant_new_string (a->address);
  if (g_str_equal (prop, "AddressType"))
    return g_variant_new_string ("public");
  if (g_str_equal (prop, "Name"))
    return g_variant_new_string (a->system_name);
  if (g_str_equal (prop, "Alias"))
    return g_variant_new_string (a->alias);
  if (g_str_equal (prop, "Class"))
    return g_variant_new_uint32 (a->class_of_device);
  if (g_str_equal (prop, "Powered"))
    return g_variant_new_boolean (a->powered);
  if (g_str_equal (prop, "PowerState"))
    return g_variant_new_string (a->power_state);
  if (g_str_equal (prop, "Discoverable"))
    return g_variant_new_boolean (a->discoverable);
  if (g_str_equal (prop, "DiscoverableTimeout"))
    return g_variant_new_uint32 (a->discoverable_timeout);
  if (g_str_equal (prop, "Pairable"))
    return g_variant_new_boolean (a->pairable);
  if (g_str_equal (prop, "PairableTimeout"))
    return g_variant_new_uint32 (a->pairable_timeout);
  if (g_str_equal (prop, "Discovering"))
    return g_variant_new_boolean (a->discovering);
  if (g_str_equal (prop, "UUIDs"))
    return g_variant_new_strv (adapter_uuids, -1);
  if (g_str_equal (prop, "Modalias"))
    return a->modalias != NULL ? g_variant_new_string (a->modalias) : NULL;
  if (g_str_equal (prop, "Roles"))
    return g_variant_new_strv ((const char *const[]) { "central", "peripheral" }, 2);
  /* 5.82's (org.bluez-5.82.xml): the kernel's connectable setting (false
   * on the reference machine's btvirt controllers), and the company id
   * (1521, the Linux Foundation, btvirt's) and Core version (9, 5.0) the
   * controller reports (tests/data/bluez-5.82/objects-idle.json) */
  if (g_str_equal (prop, "Connectable"))
    return g_variant_new_boolean (a->connectable);
  if (g_str_equal (prop, "Manufacturer"))
    return g_variant_new_uint16 (1521);
  if (g_str_equal (prop, "Version"))
    return g_variant_new_byte (9);
  return NULL;
}

static gboolean
discoverable_expired (gpointer data)
{
  SimAdapter *a = data;

  a->discoverable_source = 0;
  a->discoverable = FALSE;
  sim_obj_changed (&a->obj, &sim_adapter_iface, "Discoverable", NULL);
  adapter_changed (a);
  return G_SOURCE_REMOVE;
}

static void
set_powered (SimAdapter *a,
             gboolean    on)
{
  if (a->powered == on)
    return;
  a->power_state = on ? "off-enabling" : "on-disabling";
  sim_obj_changed (&a->obj, &sim_adapter_iface, "PowerState", NULL);
  if (!on)
    {
      for (guint i = 0; i < a->devices->len; i++)
        {
          SimDevice *d = g_ptr_array_index (a->devices, i);

          if (d->connected || d->connecting)
            sim_device_drop_link (d, "power off");
        }
      g_hash_table_remove_all (a->clients);
      if (a->discovering)
        stop_discovery (a);
      update_discoverable (a);
    }
  a->powered = on;
  a->power_state = on ? "on" : "off";
  sim_obj_changed (&a->obj, &sim_adapter_iface, "Powered", "PowerState", NULL);
  adapter_changed (a);
}

static gboolean
adapter_set (SimObj     *obj,
             const char *prop,
             GVariant   *value,
             GError    **error)
{
  SimAdapter *a = (SimAdapter *) obj;

  if (g_str_equal (prop, "Alias"))
    {
      const char *alias = g_variant_get_string (value, NULL);

      g_free (a->alias);
      a->alias = g_strdup (alias[0] != '\0' ? alias : a->system_name);
      sim_obj_changed (obj, &sim_adapter_iface, "Alias", NULL);
    }
  else if (g_str_equal (prop, "Powered"))
    set_powered (a, g_variant_get_boolean (value));
  else if (g_str_equal (prop, "Discoverable"))
    {
      gboolean on = g_variant_get_boolean (value);

      if (on && !a->powered)
        {
          g_set_error_literal (error, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
                               "Not Powered");
          return FALSE;
        }
      g_clear_handle_id (&a->discoverable_source, g_source_remove);
      a->discoverable_by_filter = FALSE;
      if (on && a->discoverable_timeout > 0)
        a->discoverable_source = g_timeout_add_seconds (a->discoverable_timeout,
                                                        discoverable_expired, a);
      if (a->discoverable != on)
        {
          a->discoverable = on;
          sim_obj_changed (obj, &sim_adapter_iface, "Discoverable", NULL);
          adapter_changed (a);
        }
    }
  else if (g_str_equal (prop, "DiscoverableTimeout"))
    {
      a->discoverable_timeout = g_variant_get_uint32 (value);
      sim_obj_changed (obj, &sim_adapter_iface, "DiscoverableTimeout", NULL);
    }
  else if (g_str_equal (prop, "Pairable"))
    {
      a->pairable = g_variant_get_boolean (value);
      sim_obj_changed (obj, &sim_adapter_iface, "Pairable", NULL);
    }
  else if (g_str_equal (prop, "PairableTimeout"))
    {
      a->pairable_timeout = g_variant_get_uint32 (value);
      sim_obj_changed (obj, &sim_adapter_iface, "PairableTimeout", NULL);
    }
  else if (g_str_equal (prop, "Connectable") && sim_bluez () == SIM_BLUEZ_5_82)
    {
      /* bluetoothd passes it to the kernel's setting and signals the
       * change the kernel reports; the simulator has no kernel between */
      gboolean on = g_variant_get_boolean (value);

      if (a->connectable != on)
        {
          a->connectable = on;
          sim_obj_changed (obj, &sim_adapter_iface, "Connectable", NULL);
        }
    }
  else
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_PROPERTY_READ_ONLY,
                   "Property '%s' is not writable", prop);
      return FALSE;
    }
  return TRUE;
}

SimIfaceDef sim_adapter_iface = {
  "org.bluez.Adapter1", adapter_method, adapter_get, adapter_set, NULL
};

/* ---- life cycle ---- */

SimAdapter *
sim_adapter_new (SimAdapterDef *def)
{
  SimAdapter *a = g_new0 (SimAdapter, 1);
  gboolean newer = sim_bluez () == SIM_BLUEZ_5_82;

  sim_obj_init (&a->obj, SIM_OBJ_ADAPTER, g_strconcat ("/org/bluez/", def->name, NULL));
  a->name = g_strdup (def->name);
  a->address = g_strdup (def->address);
  /* bluetoothd's defaults: the name "BlueZ VERSION", and a modalias whose
   * device number is the version (0x0542 for 5.66, 0x0552 for 5.82) */
  a->system_name = g_strdup (def->system_name != NULL ? def->system_name
                             : newer ? "BlueZ 5.82" : "BlueZ 5.66");
  a->alias = g_strdup (def->alias != NULL ? def->alias : a->system_name);
  a->modalias = g_strdup (def->modalias != NULL ? def->modalias
                          : newer ? "usb:v1D6Bp0246d0552" : "usb:v1D6Bp0246d0542");
  a->powered = def->powered;
  a->power_state = def->powered ? "on" : "off";
  a->discoverable = def->discoverable;
  a->discoverable_timeout = def->discoverable_timeout;
  a->pairable = def->pairable;
  a->pairable_timeout = def->pairable_timeout;
  a->class_of_device = def->class_of_device;
  a->clients = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, client_free);
  a->devices = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_device_free);
  a->peripherals = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_peripheral_unref);
  a->flood_peripherals = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_peripheral_unref);
  a->next_adv = g_hash_table_new (NULL, NULL);
  a->device_index = g_hash_table_new (g_str_hash, g_str_equal);
  a->gatt_db = sim_gatt_database_new (a);
  return a;
}

void
sim_adapter_export (SimAdapter *adapter,
                    gboolean    announce)
{
  static gsize once = 0;
  /* bluetoothd's order; LEAdvertisingManager1 comes last */
  const SimIfaceDef *defs[] = {
    &sim_adapter_iface, &sim_battery_provider_iface, &sim_gatt_manager_iface,
    &sim_monitor_manager_iface, &sim_media_iface, &sim_network_iface, &sim_sim_access_iface,
    sim_world.adv_manager_iface, NULL
  };

  if (g_once_init_enter (&once))
    {
      SimIfaceDef *mut[] = {
        &sim_battery_provider_iface, &sim_gatt_manager_iface, &sim_monitor_manager_iface,
        &sim_media_iface, &sim_network_iface, &sim_sim_access_iface
      };

      for (guint i = 0; i < G_N_ELEMENTS (mut); i++)
        mut[i]->info = sim_interface_info (mut[i]->name);
      g_once_init_leave (&once, 1);
    }
  sim_obj_export (&adapter->obj, defs, announce);
}

void
sim_adapter_free (SimAdapter *adapter)
{
  if (adapter == NULL)
    return;
  g_clear_handle_id (&adapter->adv_source, g_source_remove);
  g_clear_handle_id (&adapter->first_adv_source, g_source_remove);
  flood_end (adapter);
  sim_monitor_clear (adapter);
  g_clear_pointer (&adapter->gatt_db, sim_gatt_database_free);
  g_clear_handle_id (&adapter->discoverable_source, g_source_remove);
  while (g_idle_remove_by_data (adapter))
    ;
  /* devices first: they point at the adapter */
  for (guint i = 0; i < adapter->devices->len; i++)
    {
      SimDevice *d = g_ptr_array_index (adapter->devices, i);

      if (d->services != NULL)
        sim_gatt_unexport (d->services, FALSE);
      sim_obj_unexport (&d->obj, FALSE);
    }
  g_hash_table_remove_all (adapter->device_index);
  g_ptr_array_unref (adapter->devices);
  g_hash_table_unref (adapter->device_index);
  g_hash_table_unref (adapter->clients);
  g_hash_table_unref (adapter->next_adv);
  g_ptr_array_unref (adapter->peripherals);
  g_ptr_array_unref (adapter->flood_peripherals);
  g_clear_pointer (&adapter->air_self, sim_peripheral_unref);
  g_clear_pointer (&adapter->air_anon, sim_peripheral_unref);
  sim_obj_clear (&adapter->obj);
  g_free (adapter->name);
  g_free (adapter->address);
  g_free (adapter->alias);
  g_free (adapter->system_name);
  g_free (adapter->modalias);
  g_free (adapter);
}
