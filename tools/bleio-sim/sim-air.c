/* SPDX-License-Identifier: MIT */
/*
 * The simulator's shared air (sim-air.h). Each adapter is, to the others,
 * a SimPeripheral (air_self) with the adapter's address, bluetoothd's own
 * GATT database and the fields of its advertisement; it is put in the
 * others' peripherals lists while it is on the air, so discovery, RSSI
 * and the Device1 fields come from the same code as for scenario
 * peripherals. A link between two adapters is two devices, one on each,
 * kept together through the link_up / link_down hooks of sim-device.c.
 */
#include "sim-air.h"
#include "sim-adapter.h"
#include "sim-device.h"

#include <string.h>

/* bluetoothd 5.66's own database as the reference capture shows it from the
 * other controller: GAP (no object), GATT with its four characteristics,
 * Device Information with PnP ID, and the Volume Control service a plugin
 * claims (no object either). The handles are the capture's. An
 * application registered through GattManager1 would add its services
 * after these (the next free handle): that is where it is browsed from. */
static const char local_database[] =
  "{ \"address\": \"%s\", \"connect\": { \"resolve_delay_ms\": 5 }, \"gatt\": ["
  "  { \"uuid\": \"1800\", \"handle\": 1, \"characteristics\": ["
  "      { \"uuid\": \"2a00\", \"handle\": 2, \"flags\": [\"read\"] },"
  "      { \"uuid\": \"2a01\", \"handle\": 4, \"flags\": [\"read\"], \"value\": \"0000\" } ] },"
  "  { \"uuid\": \"1801\", \"handle\": 8, \"characteristics\": ["
  "      { \"uuid\": \"2a05\", \"handle\": 9, \"flags\": [\"indicate\"] },"
  "      { \"uuid\": \"2b29\", \"handle\": 12, \"flags\": [\"read\", \"write\"] },"
  "      { \"uuid\": \"2b2a\", \"handle\": 14, \"flags\": [\"read\"],"
  "        \"value\": \"20037497d4e860d870d7422597e0ea63\" },"
  "      { \"uuid\": \"2b3a\", \"handle\": 16, \"flags\": [\"read\"], \"value\": \"01\" } ] },"
  "  { \"uuid\": \"180a\", \"handle\": 18, \"characteristics\": ["
  "      { \"uuid\": \"2a50\", \"handle\": 19, \"flags\": [\"read\"] } ] },"
  "  { \"uuid\": \"1844\", \"handle\": 21, \"hidden\": true } ] }";

SimPeripheral *
sim_air_self (SimAdapter *adapter)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  SimPeripheral *p;

  if (adapter->air_self != NULL)
    return adapter->air_self;
  json = g_strdup_printf (local_database, adapter->address);
  p = sim_peripheral_from_json (json, adapter->name, &error);
  g_assert_no_error (error);
  /* the GAP Device Name and the PnP ID another bluetoothd reads */
  p->gap_name = g_strdup (adapter->alias);
  p->modalias = g_strdup (adapter->modalias);
  p->connectable = FALSE;
  p->needs_discoverable_flags = TRUE;
  adapter->air_self = p;
  return p;
}

/* The controller advertises while powered and an advertisement is
 * registered. A central's connection ends legacy advertising in the
 * controller, but the kernel enables it again right away (recorded), and
 * bluetoothd keeps the registration: a connection changes nothing here. */
static void
show (SimAdapter    *adapter,
      SimPeripheral *p,
      gboolean       on)
{
  for (guint i = 0; p != NULL && sim_world.adapters != NULL && i < sim_world.adapters->len; i++)
    {
      SimAdapter *other = g_ptr_array_index (sim_world.adapters, i);

      if (other == adapter)
        continue;
      if (on && !sim_adapter_sees_peripheral (other, p))
        sim_adapter_add_peripheral (other, p);
      else if (!on && sim_adapter_sees_peripheral (other, p))
        sim_adapter_forget_peripheral (other, p);
    }
}

static gboolean
on_air (SimAdapter *adapter)
{
  return adapter->powered && adapter->air_advertising;
}

/* A connectable advertisement goes out from the adapter's address, a
 * broadcast from a non-resolvable private address (recorded: own address
 * type random, "Non-Resolvable"): the kernel asks for privacy when the
 * advertising cannot be connected to. */
static void
refresh (SimAdapter *adapter)
{
  gboolean on = on_air (adapter);

  sim_air_self (adapter)->connectable = on && adapter->air_connectable;
  show (adapter, adapter->air_self, on && adapter->air_connectable);
  show (adapter, adapter->air_anon, on && !adapter->air_connectable);
}

/* A fresh non-resolvable private address: random, the two top bits 0. */
static SimPeripheral *
anon_new (SimAdapter *adapter)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  guint8 b[6];
  SimPeripheral *p;

  for (guint i = 0; i < 6; i++)
    b[i] = (guint8) g_random_int_range (0, 256);
  b[0] &= 0x3f;
  json = g_strdup_printf ("{ \"address\": \"%02X:%02X:%02X:%02X:%02X:%02X\","
                          " \"address_type\": \"random\", \"connectable\": false }",
                          b[0], b[1], b[2], b[3], b[4], b[5]);
  p = sim_peripheral_from_json (json, adapter->name, &error);
  g_assert_no_error (error);
  p->needs_discoverable_flags = TRUE;
  return p;
}

static GVariant *
ref_or_null (GVariant *v)
{
  return v != NULL ? g_variant_ref (v) : NULL;
}

enum {
  CHANGE_NAME = 1 << 0,
  CHANGE_FLAGS = 1 << 1,
  CHANGE_DATA = 1 << 2,
  CHANGE_UUIDS = 1 << 3,
  CHANGE_APPEARANCE = 1 << 4,
};

static gboolean
same_uuids (GPtrArray *a,
            GPtrArray *b)
{
  if ((a != NULL ? a->len : 0) != (b != NULL ? b->len : 0))
    return FALSE;
  for (guint i = 0; a != NULL && i < a->len; i++)
    if (!g_str_equal (g_ptr_array_index (a, i), g_ptr_array_index (b, i)))
      return FALSE;
  return TRUE;
}

static guint
what_changes (SimPeripheral      *p,
              const SimAirAdvert *advert)
{
  guint changes = 0;
  guint8 flags = p->adv_flags != NULL ? *(const guint8 *) g_bytes_get_data (p->adv_flags, NULL) : 0;

  if (g_strcmp0 (p->name, advert->name) != 0)
    changes |= CHANGE_NAME;
  if (flags != advert->flags)
    changes |= CHANGE_FLAGS;
  if (!(p->advertising_data == advert->advertising_data
        || (p->advertising_data != NULL && advert->advertising_data != NULL
            && g_variant_equal (p->advertising_data, advert->advertising_data))))
    changes |= CHANGE_DATA;
  if (!same_uuids (p->uuids, advert->uuids))
    changes |= CHANGE_UUIDS;
  if (p->has_appearance != advert->has_appearance || p->appearance != advert->appearance)
    changes |= CHANGE_APPEARANCE;
  return changes;
}

/* A registered advertisement changed: the scanners that are discovering
 * hear it with its next repetition and bluetoothd signals what differs
 * (ManufacturerData and ServiceData go through the usual report, which
 * compares with what each device last showed). A scanner not discovering
 * shows the new values without a signal, where bluetoothd would keep the
 * old ones until it hears the advertisement again. */
static void
announce_changes (SimAdapter    *adapter,
                  SimPeripheral *p,
                  guint          changes)
{
  for (guint i = 0; changes != 0 && sim_world.adapters != NULL && i < sim_world.adapters->len; i++)
    {
      SimAdapter *other = g_ptr_array_index (sim_world.adapters, i);
      SimDevice *d;

      if (other == adapter || !other->discovering)
        continue;
      d = sim_adapter_find_device (other, p->address);
      if (d == NULL || d->periph != p || !d->obj.exported || !d->advertised)
        continue;
      if ((changes & CHANGE_NAME) && d->alias == NULL && !d->gap_name_known)
        sim_obj_changed (&d->obj, &sim_device_iface, "Name", "Alias", NULL);
      if (changes & CHANGE_FLAGS)
        sim_obj_changed (&d->obj, &sim_device_iface, "AdvertisingFlags", NULL);
      if (changes & CHANGE_DATA)
        sim_obj_changed (&d->obj, &sim_device_iface, "AdvertisingData", NULL);
      if ((changes & CHANGE_UUIDS) && !d->resolved_once)
        sim_obj_changed (&d->obj, &sim_device_iface, "UUIDs", NULL);
      if (changes & CHANGE_APPEARANCE)
        sim_obj_changed (&d->obj, &sim_device_iface, "Appearance", "Icon", NULL);
    }
}

void
sim_air_set_advert (SimAdapter         *adapter,
                    const SimAirAdvert *advert)
{
  SimPeripheral *p = sim_air_self (adapter);
  guint changes = 0;

  if (advert != NULL && !advert->connectable
      && (adapter->air_anon == NULL || !adapter->air_advertising || adapter->air_connectable))
    {
      /* a broadcast starts: the kernel picks a new private address */
      show (adapter, adapter->air_anon, FALSE);
      g_clear_pointer (&adapter->air_anon, sim_peripheral_unref);
      adapter->air_anon = anon_new (adapter);
    }
  if (advert != NULL && !advert->connectable)
    p = adapter->air_anon;
  if (advert != NULL && adapter->air_advertising && adapter->air_connectable == advert->connectable)
    changes = what_changes (p, advert);
  adapter->air_advertising = advert != NULL;
  if (advert != NULL)
    {
      adapter->air_connectable = advert->connectable;
      g_free (p->name);
      p->name = g_strdup (advert->name);
      g_ptr_array_set_size (p->uuids, 0);
      for (guint i = 0; advert->uuids != NULL && i < advert->uuids->len; i++)
        g_ptr_array_add (p->uuids, g_strdup (g_ptr_array_index (advert->uuids, i)));
      g_clear_pointer (&p->manufacturer_data, g_variant_unref);
      p->manufacturer_data = ref_or_null (advert->manufacturer_data);
      g_clear_pointer (&p->service_data, g_variant_unref);
      p->service_data = ref_or_null (advert->service_data);
      g_clear_pointer (&p->advertising_data, g_variant_unref);
      p->advertising_data = ref_or_null (advert->advertising_data);
      g_clear_pointer (&p->adv_flags, g_bytes_unref);
      if (advert->flags != 0)
        p->adv_flags = g_bytes_new (&advert->flags, 1);
      p->has_tx_power = advert->has_tx_power;
      p->tx_power = advert->tx_power;
      p->has_appearance = advert->has_appearance;
      p->appearance = advert->appearance;
      p->adv_interval_ms = MAX (advert->interval_ms, 1);
    }
  refresh (adapter);
  if (on_air (adapter))
    announce_changes (adapter, p, changes);
}

void
sim_air_adapter_added (SimAdapter *adapter)
{
  for (guint i = 0; sim_world.adapters != NULL && i < sim_world.adapters->len; i++)
    {
      SimAdapter *other = g_ptr_array_index (sim_world.adapters, i);

      if (other != adapter && other->air_self != NULL)
        refresh (other);
    }
}

/* The adapter whose air_self is @p, if any. */
static SimAdapter *
adapter_of (SimPeripheral *p)
{
  for (guint i = 0; sim_world.adapters != NULL && i < sim_world.adapters->len; i++)
    {
      SimAdapter *a = g_ptr_array_index (sim_world.adapters, i);

      if (a->air_self == p)
        return a;
    }
  return NULL;
}

/* The device @on shows for @remote's air_self, if any. */
static SimDevice *
device_for (SimAdapter *on,
            SimAdapter *remote)
{
  SimDevice *d;

  if (remote->air_self == NULL)
    return NULL;
  d = sim_adapter_find_device (on, remote->address);
  return d != NULL && d->periph == remote->air_self ? d : NULL;
}

void
sim_air_adapter_removing (SimAdapter *adapter)
{
  adapter->air_advertising = FALSE;
  for (guint i = 0; sim_world.adapters != NULL && i < sim_world.adapters->len; i++)
    {
      SimAdapter *other = g_ptr_array_index (sim_world.adapters, i);
      SimDevice *d;

      if (other == adapter)
        continue;
      d = device_for (other, adapter);
      if (d != NULL && (d->connected || d->connecting))
        sim_device_drop_link (d, "remote controller removed");
    }
  if (adapter->air_self != NULL)
    refresh (adapter);
}

SimDevice *
sim_air_central_connect (SimAdapter    *adapter,
                         SimPeripheral *central,
                         GError       **error)
{
  SimDevice *d;

  if (!sim_air_self (adapter)->connectable)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                   "%s is not advertising connectable", adapter->name);
      return NULL;
    }
  d = sim_adapter_find_device (adapter, central->address);
  if (d != NULL && d->periph != central)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "%s already has another device at %s", adapter->name, central->address);
      return NULL;
    }
  if (d == NULL)
    {
      d = sim_device_new (adapter, central);
      sim_adapter_add_device (adapter, d);
    }
  else if (d->connected || d->connecting)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "%s is already connected to %s", central->address, adapter->name);
      return NULL;
    }
  sim_device_incoming_link (d);
  refresh (adapter);
  return d;
}

void
sim_air_link_up (SimDevice *device)
{
  SimAdapter *peripheral;

  if (device->incoming)
    return;
  peripheral = adapter_of (device->periph);
  if (peripheral == NULL || peripheral == device->adapter)
    return;
  if (sim_air_central_connect (peripheral, sim_air_self (device->adapter), NULL) == NULL)
    g_debug ("%s: no incoming link on %s", device->obj.path, peripheral->name);
}

void
sim_air_link_down (SimDevice  *device,
                   const char *reason)
{
  SimAdapter *remote = adapter_of (device->periph);
  SimDevice *other;

  if (remote != NULL && remote != device->adapter)
    {
      other = device_for (remote, device->adapter);
      if (other != NULL && (other->connected || other->connecting))
        {
          other->remote_ended = TRUE;
          sim_device_drop_link (other, reason);
        }
    }
  if (device->incoming)
    refresh (device->adapter);
}
