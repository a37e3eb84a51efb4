/* SPDX-License-Identifier: MIT */
/*
 * GattService1 / GattCharacteristic1 / GattDescriptor1 of a connected
 * peripheral: building the objects from the scenario's database, reads and
 * writes with bluetoothd 5.66's checks and error answers (and 5.82's where
 * they differ), and security elevation. Notification calls go to sim-notify.c.
 */
#include "sim-gatt.h"
#include "sim-agent.h"
#include "sim-battery.h"

#include <string.h>

#define GAP_UUID "00001800-0000-1000-8000-00805f9b34fb"
#define CCCD_UUID "00002902-0000-1000-8000-00805f9b34fb"

static SimDevice *
char_device (SimChar *chr)
{
  return chr->service->device;
}

static void
return_not_connected (GDBusMethodInvocation *invocation)
{
  sim_return_error (invocation, SIM_ERR_FAILED, "Not connected");
}

static void
pending_fail (SimPendingOp *p)
{
  g_autoptr(GPtrArray) waiting = g_steal_pointer (&p->invocations);

  g_clear_handle_id (&p->source, g_source_remove);
  p->served = FALSE;
  p->serial++;
  for (guint i = 0; waiting != NULL && i < waiting->len; i++)
    return_not_connected (g_ptr_array_index (waiting, i));
}

/* ---- building and exporting ---- */

static void
desc_free (gpointer data)
{
  SimDesc *d = data;

  pending_fail (&d->read_op);
  pending_fail (&d->write_op);
  sim_obj_clear (&d->obj);
  g_byte_array_unref (d->cached);
  g_free (d);
}

static void
char_free (gpointer data)
{
  SimChar *c = data;

  sim_notify_char_clear (c);
  pending_fail (&c->read_op);
  pending_fail (&c->write_op);
  g_ptr_array_unref (c->descs);
  sim_obj_clear (&c->obj);
  g_byte_array_unref (c->cached);
  g_free (c);
}

static void
service_free (gpointer data)
{
  SimService *s = data;

  g_ptr_array_unref (s->chars);
  sim_obj_clear (&s->obj);
  g_free (s);
}

static SimService *
build_service (SimDevice     *device,
               SimServiceDef *sd)
{
  SimService *s = g_new0 (SimService, 1);

  sim_obj_init (&s->obj, SIM_OBJ_SERVICE,
                g_strdup_printf ("%s/service%04x", device->obj.path, sd->handle));
  s->device = device;
  s->def = sd;
  s->chars = g_ptr_array_new_with_free_func (char_free);
  for (guint j = 0; j < sd->chars->len; j++)
    {
      SimCharDef *cd = g_ptr_array_index (sd->chars, j);
      SimChar *c = g_new0 (SimChar, 1);

      sim_obj_init (&c->obj, SIM_OBJ_CHAR,
                    g_strdup_printf ("%s/char%04x", s->obj.path, cd->handle));
      c->service = s;
      c->def = cd;
      c->cached = g_byte_array_new ();
      /* bluetoothd's GATT client reads Database Hash and Server
       * Supported Features itself while discovering */
      if (g_str_equal (cd->uuid, "00002b2a-0000-1000-8000-00805f9b34fb")
          || g_str_equal (cd->uuid, "00002b3a-0000-1000-8000-00805f9b34fb"))
        g_byte_array_append (c->cached, cd->value->data, cd->value->len);
      sim_notify_char_init (c);
      c->descs = g_ptr_array_new_with_free_func (desc_free);
      for (guint k = 0; k < cd->descs->len; k++)
        {
          SimDescDef *dd = g_ptr_array_index (cd->descs, k);
          SimDesc *d = g_new0 (SimDesc, 1);

          sim_obj_init (&d->obj, SIM_OBJ_DESC,
                        g_strdup_printf ("%s/desc%04x", c->obj.path, dd->handle));
          d->chr = c;
          d->def = dd;
          d->cached = g_byte_array_new ();
          /* bluetoothd reads Extended Properties itself */
          if (g_str_equal (dd->uuid, "00002900-0000-1000-8000-00805f9b34fb"))
            g_byte_array_append (d->cached, dd->value->data, dd->value->len);
          g_ptr_array_add (c->descs, d);
        }
      g_ptr_array_add (s->chars, c);
    }
  return s;
}

/* The services bluetoothd 5.82's own plugins claim (each profile's
 * remote_uuid; in 5.82 no GATT profile of the tree is "external" any
 * more): GAP, Device Information, Battery, HID, Scan Parameters, the LE
 * audio services (VCS, CSIS, GTBS, GMCS, MICS, BASS, PACS) and MIDI. */
static const char *const claimed_582[] = {
  GAP_UUID,
  "0000180a-0000-1000-8000-00805f9b34fb",
  "0000180f-0000-1000-8000-00805f9b34fb",
  "00001812-0000-1000-8000-00805f9b34fb",
  "00001813-0000-1000-8000-00805f9b34fb",
  "00001844-0000-1000-8000-00805f9b34fb",
  "00001846-0000-1000-8000-00805f9b34fb",
  "0000184c-0000-1000-8000-00805f9b34fb",
  "00001849-0000-1000-8000-00805f9b34fb",
  "0000184d-0000-1000-8000-00805f9b34fb",
  "0000184f-0000-1000-8000-00805f9b34fb",
  "00001850-0000-1000-8000-00805f9b34fb",
  "03b80e5a-ede8-4b33-a751-6ce34ec4c700",
  NULL
};

/* Claimed by a plugin of bluetoothd. 5.66 exports no object for a claimed
 * service (GAP, and those a scenario marks "hidden"); 5.82 exports them
 * read-only (main.conf's ExportClaimedServices, read-only by default):
 * every write is refused with NotAuthorized (src/gatt-client.c). */
static gboolean
claimed (const SimServiceDef *sd)
{
  if (sim_bluez () != SIM_BLUEZ_5_82)
    return g_str_equal (sd->uuid, GAP_UUID) || sd->hidden;
  return sd->hidden || g_strv_contains (claimed_582, sd->uuid);
}

static gboolean
has_object (const SimServiceDef *sd)
{
  return sim_bluez () == SIM_BLUEZ_5_82 || !claimed (sd);
}

/* 5.82's answer to a write of a claimed service's attribute */
static gboolean
refuse_claimed_write (SimChar               *chr,
                      GDBusMethodInvocation *invocation)
{
  if (sim_bluez () != SIM_BLUEZ_5_82 || !claimed (chr->service->def))
    return FALSE;
  sim_return_error (invocation, SIM_ERR_NOT_AUTHORIZED, "Operation Not Authorized");
  return TRUE;
}

GPtrArray *
sim_gatt_build (SimDevice *device)
{
  GPtrArray *services = g_ptr_array_new_with_free_func (service_free);
  SimPeripheral *p = device->periph;

  /* another adapter of the simulator: its applications as they are now */
  sim_gatt_peer_refresh (p);
  for (guint i = 0; i < p->services->len; i++)
    {
      SimServiceDef *sd = g_ptr_array_index (p->services, i);

      if (has_object (sd))
        g_ptr_array_add (services, build_service (device, sd));
    }
  return services;
}

static void
service_export (SimService *s,
                gboolean    announce)
{
  sim_obj_export (&s->obj, (const SimIfaceDef *const[]) { &sim_service_iface, NULL },
                  announce);
  for (guint j = 0; j < s->chars->len; j++)
    {
      SimChar *c = g_ptr_array_index (s->chars, j);

      sim_obj_export (&c->obj, (const SimIfaceDef *const[]) { &sim_char_iface, NULL },
                      announce);
      for (guint k = 0; k < c->descs->len; k++)
        {
          SimDesc *d = g_ptr_array_index (c->descs, k);

          sim_obj_export (&d->obj, (const SimIfaceDef *const[]) { &sim_desc_iface, NULL },
                          announce);
        }
    }
}

/* In the order of 5.66's unregister_service() (src/gatt-client.c), seen
 * in the e2e guest (tests/data/bluez-5.66/service-changed.json): each
 * characteristic in handle order, its descriptors before it, the service
 * last. */
static void
service_unexport (SimService *s,
                  gboolean    announce)
{
  for (guint j = 0; j < s->chars->len; j++)
    {
      SimChar *c = g_ptr_array_index (s->chars, j);

      for (guint k = 0; k < c->descs->len; k++)
        sim_obj_unexport (&((SimDesc *) g_ptr_array_index (c->descs, k))->obj,
                          announce);
      sim_obj_unexport (&c->obj, announce);
    }
  sim_obj_unexport (&s->obj, announce);
}

static void
service_link_lost (SimService *s)
{
  for (guint j = 0; j < s->chars->len; j++)
    {
      SimChar *c = g_ptr_array_index (s->chars, j);

      sim_notify_link_lost (c);
      pending_fail (&c->read_op);
      pending_fail (&c->write_op);
      for (guint k = 0; k < c->descs->len; k++)
        {
          SimDesc *d = g_ptr_array_index (c->descs, k);

          pending_fail (&d->read_op);
          pending_fail (&d->write_op);
        }
    }
}

void
sim_gatt_export (GPtrArray *services,
                 gboolean   announce)
{
  for (guint i = 0; i < services->len; i++)
    service_export (g_ptr_array_index (services, i), announce);
}

void
sim_gatt_unexport (GPtrArray *services,
                   gboolean   announce)
{
  for (guint i = services->len; i > 0; i--)
    service_unexport (g_ptr_array_index (services, i - 1), announce);
}

void
sim_gatt_link_lost (GPtrArray *services)
{
  for (guint i = 0; i < services->len; i++)
    service_link_lost (g_ptr_array_index (services, i));
}

/* ---- Service Changed ---- */

/* The last handle of a service: the end of the group bluetoothd's
 * discovery reads from the peripheral. */
static guint16
service_def_end (const SimServiceDef *sd)
{
  guint16 end = sd->handle;

  for (guint i = 0; i < sd->chars->len; i++)
    {
      SimCharDef *cd = g_ptr_array_index (sd->chars, i);

      end = MAX (end, cd->handle + 1);
      for (guint k = 0; k < cd->descs->len; k++)
        end = MAX (end, ((SimDescDef *) g_ptr_array_index (cd->descs, k))->handle);
    }
  return end;
}

/* What bluetoothd 5.66's gatt_db_insert_service() accepts as the service it
 * already has: same type, UUID, start and size. */
static gboolean
same_declaration (const SimServiceDef *a,
                  const SimServiceDef *b)
{
  return a->handle == b->handle && a->primary == b->primary
         && g_str_equal (a->uuid, b->uuid)
         && service_def_end (a) == service_def_end (b);
}

#define BATTERY_SERVICE_UUID "0000180f-0000-1000-8000-00805f9b34fb"

static gint
compare_str_ptr (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The primary service UUIDs of @defs, sorted, as one string. */
static char *
uuid_key (GPtrArray *defs)
{
  g_autoptr(GPtrArray) uuids = g_ptr_array_new ();
  g_autoptr(GString) key = g_string_new (NULL);

  for (guint i = 0; i < defs->len; i++)
    {
      SimServiceDef *sd = g_ptr_array_index (defs, i);

      if (sd->primary && !g_ptr_array_find_with_equal_func (uuids, sd->uuid, g_str_equal, NULL))
        g_ptr_array_add (uuids, sd->uuid);
    }
  g_ptr_array_sort (uuids, compare_str_ptr);
  for (guint i = 0; i < uuids->len; i++)
    g_string_append_printf (key, "%s ", (const char *) g_ptr_array_index (uuids, i));
  return g_string_free (g_steal_pointer (&key), FALSE);
}

/* Device1.UUIDs follows device->uuid_services: bluetoothd 5.66 signals it
 * when a service brings a new UUID or takes the last of one away, after
 * the service's objects went or before they come (the guest's
 * service-changed.json). */
static void
uuids_step (SimDevice *device,
            char     **key)
{
  g_autofree char *now = uuid_key (device->uuid_services);

  if (g_str_equal (now, *key))
    return;
  g_free (*key);
  *key = g_steal_pointer (&now);
  sim_obj_changed_by_name (&device->obj, "org.bluez.Device1", "UUIDs", NULL);
}

static void
remove_object (SimDevice  *device,
               SimService *s,
               char      **key)
{
  gboolean battery = g_str_equal (s->def->uuid, BATTERY_SERVICE_UUID);

  service_link_lost (s);
  service_unexport (s, TRUE);
  g_ptr_array_remove (device->uuid_services, s->def);
  g_ptr_array_remove (device->services, s);
  uuids_step (device, key);
  /* the battery plugin lets go of the device with the service */
  if (battery)
    sim_battery_unexport (device);
}

/* Removes the objects of the services defined in old whose handles meet
 * [start, end]. */
static void
remove_overlapping (SimDevice *device,
                    GPtrArray *old,
                    guint16    start,
                    guint16    end,
                    char     **key)
{
  for (guint i = 0; i < device->services->len;)
    {
      SimService *s = g_ptr_array_index (device->services, i);

      if (g_ptr_array_find (old, s->def, NULL)
          && s->def->handle <= end && service_def_end (s->def) >= start)
        remove_object (device, s, key);
      else
        i++;
    }
}

static void
insert_object (SimDevice  *device,
               SimService *s,
               char      **key)
{
  guint i = 0;

  while (i < device->services->len
         && ((SimService *) g_ptr_array_index (device->services, i))->def->handle
              < s->def->handle)
    i++;
  g_ptr_array_add (device->uuid_services, s->def);
  uuids_step (device, key);
  g_ptr_array_insert (device->services, (gint) i, s);
  service_export (s, TRUE);
  if (g_str_equal (s->def->uuid, BATTERY_SERVICE_UUID))
    sim_battery_export (device);
}

void
sim_gatt_replace (SimDevice *device,
                  GPtrArray *defs)
{
  SimPeripheral *p = device->periph;
  g_autoptr(GPtrArray) old = p->services;
  g_autoptr(GPtrArray) known = g_ptr_array_new ();  /* does not own the definitions */
  g_autofree char *key = uuid_key (old);

  g_ptr_array_extend (known, old, NULL, NULL);
  p->services = defs;
  device->uuid_services = known;
  for (guint i = 0; i < defs->len; i++)
    {
      SimServiceDef *nd = g_ptr_array_index (defs, i);
      gboolean same = FALSE;

      for (guint j = 0; j < old->len && !same; j++)
        if (same_declaration (g_ptr_array_index (old, j), nd))
          {
            /* 5.66 does not look inside a service it already has: the old
             * definition and its objects stay, and the new one is
             * dropped with what old holds */
            defs->pdata[i] = old->pdata[j];
            old->pdata[j] = nd;
            same = TRUE;
          }
      if (same || device->services == NULL)
        continue;
      /* a different service where one was: the old one goes first, then
       * the new one appears whole once its characteristics are read */
      remove_overlapping (device, old, nd->handle, service_def_end (nd), &key);
      if (has_object (nd))
        insert_object (device, build_service (device, nd), &key);
    }
  /* the services not found again go last */
  if (device->services != NULL)
    remove_overlapping (device, old, 0x0001, 0xffff, &key);
  device->uuid_services = NULL;
  if (device->services != NULL && device->resolved_once)
    {
      g_autofree char *now = uuid_key (defs);

      /* what has no object (GAP, the plugins' services) changes last */
      if (!g_str_equal (now, key))
        sim_obj_changed_by_name (&device->obj, "org.bluez.Device1", "UUIDs", NULL);
    }
}

SimChar *
sim_gatt_find_char (SimDevice  *device,
                    const char *uuid)
{
  for (guint i = 0; device->services != NULL && i < device->services->len; i++)
    {
      SimService *s = g_ptr_array_index (device->services, i);

      for (guint j = 0; j < s->chars->len; j++)
        {
          SimChar *c = g_ptr_array_index (s->chars, j);

          if (g_str_equal (c->def->uuid, uuid))
            return c;
        }
    }
  return NULL;
}

/* ---- GattService1 ---- */

static GVariant *
service_get (SimObj     *obj,
             const char *prop)
{
  SimService *s = (SimService *) obj;

  if (g_str_equal (prop, "UUID"))
    return g_variant_new_string (s->def->uuid);
  if (g_str_equal (prop, "Device"))
    return g_variant_new_object_path (s->device->obj.path);
  if (g_str_equal (prop, "Primary"))
    return g_variant_new_boolean (s->def->primary);
  if (g_str_equal (prop, "Includes"))
    return g_variant_new_objv (NULL, 0);
  if (g_str_equal (prop, "Handle"))   /* 5.82: the start handle */
    return g_variant_new_uint16 (s->def->handle);
  return NULL;
}

SimIfaceDef sim_service_iface = {
  "org.bluez.GattService1", NULL, service_get, NULL, NULL
};

/* ---- GattCharacteristic1 ---- */

static GVariant *
flags_variant (guint32 flags)
{
  const char *names[12];
  guint n = 0;

  for (guint i = 0; i < 10; i++)
    if (flags & (1u << i))
      names[n++] = sim_flag_names[i];
  return g_variant_new_strv (names, n);
}

static GVariant *
char_get (SimObj     *obj,
          const char *prop)
{
  SimChar *c = (SimChar *) obj;
  guint32 flags = c->def->flags;

  if (g_str_equal (prop, "UUID"))
    return g_variant_new_string (c->def->uuid);
  if (g_str_equal (prop, "Handle"))   /* 5.82: the declaration's, as in the path */
    return g_variant_new_uint16 (c->def->handle);
  if (g_str_equal (prop, "Service"))
    return g_variant_new_object_path (c->service->obj.path);
  if (g_str_equal (prop, "Value"))
    return sim_bytes_variant (c->cached->data, c->cached->len);
  if (g_str_equal (prop, "Notifying"))
    return (flags & (SIM_CHR_NOTIFY | SIM_CHR_INDICATE))
           ? g_variant_new_boolean (g_hash_table_size (c->sessions) > 0) : NULL;
  if (g_str_equal (prop, "Flags"))
    return flags_variant (flags);
  if (g_str_equal (prop, "WriteAcquired"))
    return (flags & SIM_CHR_WRITE_WITHOUT_RESPONSE)
           ? g_variant_new_boolean (c->write_fd >= 0) : NULL;
  if (g_str_equal (prop, "NotifyAcquired"))
    return (flags & SIM_CHR_NOTIFY) ? g_variant_new_boolean (c->notify_fd >= 0) : NULL;
  if (g_str_equal (prop, "MTU"))
    return char_device (c)->connected ? g_variant_new_uint16 (char_device (c)->periph->mtu)
                                      : NULL;
  return NULL;
}

typedef struct {
  guint16 offset;
  const char *type;
  gboolean ok;
} Options;

static Options
parse_options (GVariant *dict)
{
  Options o = { 0, NULL, TRUE };
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      if (g_str_equal (key, "offset"))
        {
          if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT16))
            o.offset = g_variant_get_uint16 (value);
          else
            o.ok = FALSE;
        }
      else if (g_str_equal (key, "type"))
        {
          if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
            o.type = g_intern_string (g_variant_get_string (value, NULL));
          else
            o.ok = FALSE;
        }
      else if (g_str_equal (key, "device"))
        o.ok &= g_variant_is_of_type (value, G_VARIANT_TYPE_OBJECT_PATH);
      else if (g_str_equal (key, "mtu"))
        o.ok &= g_variant_is_of_type (value, G_VARIANT_TYPE_UINT16);
      else if (g_str_equal (key, "link"))
        o.ok &= g_variant_is_of_type (value, G_VARIANT_TYPE_STRING);
      else if (g_str_equal (key, "prepare-authorize"))
        o.ok &= g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN);
      g_variant_unref (value);
    }
  return o;
}

/* An ATT operation: the reply comes from the main loop (after the
 * peripheral's att_delay_ms), so requests sent meanwhile meet bluetoothd's
 * rules: a read at the pending read's offset joins it, any other second
 * read or write is InProgress, reads and writes do not block each other. */
typedef struct {
  SimChar *chr;
  SimDesc *desc;
  gboolean write;
  guint16 offset;
  GByteArray *data;
} Op;

static void
op_free (gpointer data)
{
  Op *op = data;

  if (op->data != NULL)
    g_byte_array_unref (op->data);
  g_free (op);
}

static SimPendingOp *
op_slot (Op *op)
{
  if (op->desc != NULL)
    return op->write ? &op->desc->write_op : &op->desc->read_op;
  return op->write ? &op->chr->write_op : &op->chr->read_op;
}

static void
apply_write (GByteArray  *target,
             guint16      offset,
             GByteArray  *data)
{
  g_byte_array_set_size (target, offset);
  g_byte_array_append (target, data->data, data->len);
}

/* An application of another adapter answered (sim-gatt-peer.c): the
 * objects may have gone meanwhile, so they are looked up again. */
typedef struct {
  char *path;
  gboolean write;
  guint serial;
} ServedOp;

static void
served_reply (GBytes     *value,
              const char *error_name,
              const char *error_message,
              gpointer    user_data)
{
  ServedOp *s = user_data;
  SimObj *obj = sim_obj_lookup (s->path);
  SimChar *chr = obj != NULL && obj->kind == SIM_OBJ_CHAR ? (SimChar *) obj : NULL;
  SimDesc *desc = obj != NULL && obj->kind == SIM_OBJ_DESC ? (SimDesc *) obj : NULL;
  SimPendingOp *slot = NULL;
  g_autoptr(GPtrArray) waiting = NULL;

  if (chr != NULL)
    slot = s->write ? &chr->write_op : &chr->read_op;
  else if (desc != NULL)
    slot = s->write ? &desc->write_op : &desc->read_op;
  if (slot == NULL || !slot->served || slot->serial != s->serial)
    goto out;
  slot->served = FALSE;
  waiting = g_steal_pointer (&slot->invocations);
  for (guint i = 0; i < waiting->len; i++)
    {
      GDBusMethodInvocation *inv = g_ptr_array_index (waiting, i);

      if (error_name != NULL)
        sim_return_error (inv, error_name, error_message);
      else if (s->write)
        g_dbus_method_invocation_return_value (inv, NULL);
      else
        {
          gsize len;
          const guint8 *data = g_bytes_get_data (value, &len);
          GByteArray *cached = desc != NULL ? desc->cached : chr->cached;

          if (i == 0)
            {
              g_byte_array_set_size (cached, 0);
              g_byte_array_append (cached, data, (guint) len);
              if (desc != NULL)
                sim_obj_changed (&desc->obj, &sim_desc_iface, "Value", NULL);
              else
                sim_obj_changed (&chr->obj, &sim_char_iface, "Value", NULL);
            }
          g_dbus_method_invocation_return_value (inv, g_variant_new ("(@ay)",
                                                                     sim_bytes_variant (data, len)));
        }
    }
out:
  g_free (s->path);
  g_free (s);
}

/* The operation goes to the application that serves the attribute; the
 * slot stays busy until it answers. */
static void
op_forward (Op           *op,
            SimServed    *served,
            SimPendingOp *slot)
{
  SimDevice *dev = char_device (op->chr);
  ServedOp *s = g_new0 (ServedOp, 1);
  gboolean sent;

  s->path = g_strdup (op->desc != NULL ? op->desc->obj.path : op->chr->obj.path);
  s->write = op->write;
  s->serial = ++slot->serial;
  slot->served = TRUE;
  /* chrc_write_cb(): bluetoothd asks no answer of a characteristic that
   * can be written without response, and acknowledges at once */
  if (op->write && op->desc == NULL && (op->chr->def->flags & SIM_CHR_WRITE_WITHOUT_RESPONSE))
    {
      sent = sim_gatt_peer_write (served, dev, op->offset, op->data->data, op->data->len,
                                  NULL, NULL);
      served_reply (NULL, sent ? NULL : SIM_ERR_FAILED, "Operation failed with ATT error: 0x0e",
                    s);
      return;
    }
  if (op->write)
    sent = sim_gatt_peer_write (served, dev, op->offset, op->data->data, op->data->len,
                                served_reply, s);
  else
    sent = sim_gatt_peer_read (served, dev, op->offset, served_reply, s);
  /* the application went: its attribute answers Unlikely Error */
  if (!sent)
    served_reply (NULL, SIM_ERR_FAILED, "Operation failed with ATT error: 0x0e", s);
}

static gboolean
op_complete (gpointer data)
{
  Op *op = data;
  SimPendingOp *slot = op_slot (op);
  SimServed *served = op->desc != NULL ? op->desc->def->served : op->chr->def->served;
  g_autoptr(GPtrArray) waiting = NULL;
  GByteArray *value = op->desc != NULL ? op->desc->def->value : op->chr->def->value;
  GByteArray *cached = op->desc != NULL ? op->desc->cached : op->chr->cached;

  slot->source = 0;
  if (served != NULL)
    {
      op_forward (op, served, slot);
      return G_SOURCE_REMOVE;
    }
  waiting = g_steal_pointer (&slot->invocations);
  if (op->write)
    {
      apply_write (value, op->offset, op->data);
      for (guint i = 0; i < waiting->len; i++)
        g_dbus_method_invocation_return_value (g_ptr_array_index (waiting, i), NULL);
      return G_SOURCE_REMOVE;
    }
  {
    guint off = MIN (op->offset, value->len);

    g_byte_array_set_size (cached, 0);
    g_byte_array_append (cached, value->data + off, value->len - off);
  }
  if (op->desc != NULL)
    sim_obj_changed (&op->desc->obj, &sim_desc_iface, "Value", NULL);
  else
    sim_obj_changed (&op->chr->obj, &sim_char_iface, "Value", NULL);
  for (guint i = 0; i < waiting->len; i++)
    g_dbus_method_invocation_return_value (g_ptr_array_index (waiting, i),
                                           g_variant_new ("(@ay)",
                                                          sim_bytes_variant (cached->data,
                                                                             cached->len)));
  return G_SOURCE_REMOVE;
}

/* Starts @op, or joins or refuses it when its slot is busy. Takes @op. */
static void
start_op (GDBusMethodInvocation *invocation,
          Op                    *op)
{
  SimPendingOp *slot = op_slot (op);
  guint delay = char_device (op->chr)->periph->att_delay_ms;

  if (slot->source != 0 || slot->served)
    {
      if (!op->write && slot->offset == op->offset)
        g_ptr_array_add (slot->invocations, invocation);
      else
        sim_return_error (invocation, SIM_ERR_IN_PROGRESS, SIM_MSG_IN_PROGRESS);
      op_free (op);
      return;
    }
  slot->offset = op->offset;
  slot->invocations = g_ptr_array_new ();
  g_ptr_array_add (slot->invocations, invocation);
  if (delay > 0)
    slot->source = g_timeout_add_full (G_PRIORITY_DEFAULT, delay, op_complete, op, op_free);
  else
    slot->source = g_idle_add_full (G_PRIORITY_DEFAULT, op_complete, op, op_free);
}

/* Security elevation: bluetoothd pairs through the default agent when the
 * peripheral answers Insufficient Authentication. */
typedef struct {
  char *path;
  GDBusMethodInvocation *invocation;
  Op *op;
} Elevation;

static void
elevation_done (SimDevice  *device,
                const char *error_name,
                const char *error_message,
                gpointer    user_data)
{
  Elevation *e = user_data;
  SimObj *obj = sim_obj_lookup (e->path);
  SimChar *chr = NULL;

  /* the objects may have gone and come back meanwhile: look them up */
  e->op->desc = NULL;
  if (obj != NULL && obj->kind == SIM_OBJ_CHAR)
    chr = (SimChar *) obj;
  else if (obj != NULL && obj->kind == SIM_OBJ_DESC)
    {
      e->op->desc = (SimDesc *) obj;
      chr = e->op->desc->chr;
    }
  e->op->chr = chr;
  if (chr == NULL || !char_device (chr)->connected)
    {
      return_not_connected (e->invocation);
      op_free (e->op);
    }
  else if (error_name != NULL && device->pairing_refused_here)
    {
      /* The default agent said no: in the e2e guest the kernel then
       * closes the ATT channel
       * (EACCES) and ends the link. bluetoothd 5.66 held the retried
       * request in its bearer's queue and fails it with the link (ATT
       * error 0x0e, Unlikely); 5.82 held it in the channel's queue, which
       * is freed without an answer (src/shared/att.c). Connected turns
       * false first (the kernel's Device Disconnected event comes before
       * the ATT channel's hang-up). */
      sim_world.hooks.drop_link (device, "pairing for security elevation failed");
      if (sim_bluez () != SIM_BLUEZ_5_82)
        sim_return_error (e->invocation, SIM_ERR_FAILED, "Operation failed with ATT error: 0x0e");
      else
        sim_registry_keep_unanswered (e->invocation);
      op_free (e->op);
    }
  else if (error_name != NULL)
    {
      sim_return_error (e->invocation, SIM_ERR_NOT_PERMITTED, "Not paired");
      op_free (e->op);
    }
  else
    start_op (e->invocation, e->op);
  g_free (e->path);
  g_free (e);
}

static void
run_op (SimObj                *obj,
        GDBusMethodInvocation *invocation,
        Op                    *op,
        guint32                security)
{
  SimDevice *dev = char_device (op->chr);
  Elevation *e;

  if (op_slot (op)->source != 0 || op_slot (op)->served || security == 0 || dev->paired)
    {
      start_op (invocation, op);
      return;
    }
  if (dev->pairing != NULL)
    {
      sim_return_error (invocation, SIM_ERR_IN_PROGRESS, SIM_MSG_IN_PROGRESS);
      op_free (op);
      return;
    }
  e = g_new0 (Elevation, 1);
  e->path = g_strdup (obj->path);
  e->invocation = invocation;
  e->op = op;
  sim_agent_pair (dev, NULL, elevation_done, e);
}

static void
char_method (SimObj                *obj,
             GDBusMethodInvocation *invocation,
             const char            *method,
             GVariant              *params)
{
  SimChar *chr = (SimChar *) obj;
  SimDevice *dev = char_device (chr);
  guint32 flags = chr->def->flags;

  if (!dev->connected)
    {
      return_not_connected (invocation);
      return;
    }
  if (g_str_equal (method, "ReadValue"))
    {
      g_autoptr(GVariant) dict = g_variant_get_child_value (params, 0);
      Options o = parse_options (dict);
      Op *op;

      if (!o.ok)
        {
          sim_return_error (invocation, SIM_ERR_INVALID_ARGS, SIM_MSG_INVALID_ARGS);
          return;
        }
      /* As observed of bluetoothd 5.66: reading a notify-only
       * characteristic is NotSupported (errors-observed.json), reading
       * one that can only be written comes back from the peer as Read
       * Not Permitted (the e2e guest, tests/e2e/README.md). */
      if (!(flags & SIM_CHR_READ)
          && (flags & (SIM_CHR_WRITE | SIM_CHR_WRITE_WITHOUT_RESPONSE)))
        {
          sim_return_error (invocation, SIM_ERR_NOT_PERMITTED, "Read not permitted");
          return;
        }
      if (!(flags & SIM_CHR_READ))
        {
          sim_return_error (invocation, SIM_ERR_NOT_SUPPORTED, SIM_MSG_NOT_SUPPORTED);
          return;
        }
      op = g_new0 (Op, 1);
      op->chr = chr;
      op->offset = o.offset;
      run_op (obj, invocation, op, flags & SIM_CHR_READ_SECURITY);
    }
  else if (g_str_equal (method, "WriteValue"))
    {
      g_autoptr(GVariant) value = g_variant_get_child_value (params, 0);
      g_autoptr(GVariant) dict = g_variant_get_child_value (params, 1);
      Options o = parse_options (dict);
      gsize len;
      const guint8 *bytes = g_variant_get_fixed_array (value, &len, 1);
      gboolean writable = (flags & (SIM_CHR_WRITE | SIM_CHR_WRITE_WITHOUT_RESPONSE
                                    | SIM_CHR_RELIABLE_WRITE
                                    | SIM_CHR_AUTHENTICATED_SIGNED_WRITES)) != 0;
      gboolean command;
      Op *op;

      if (!o.ok)
        {
          sim_return_error (invocation, SIM_ERR_INVALID_ARGS, SIM_MSG_INVALID_ARGS);
          return;
        }
      if (refuse_claimed_write (chr, invocation))
        return;
      /* bluetoothd 5.66 (gatt-client.c, characteristic_write_value())
       * looks at the flags only when no type is given; an explicit
       * "request" or "reliable" goes to the peer, whose attribute refuses
       * it when the characteristic cannot be written (ATT Write Not
       * Permitted), and a "command" is sent and dropped by the peer. */
      if ((o.type == NULL && !writable)
          || (o.type != NULL && !g_str_equal (o.type, "request")
              && !g_str_equal (o.type, "command") && !g_str_equal (o.type, "reliable")))
        {
          sim_return_error (invocation, SIM_ERR_NOT_SUPPORTED, SIM_MSG_NOT_SUPPORTED);
          return;
        }
      if (chr->write_fd >= 0)
        {
          sim_return_error (invocation, SIM_ERR_NOT_PERMITTED, "Write acquired");
          return;
        }
      if (len + o.offset > SIM_MAX_ATTR_LEN)
        {
          sim_return_error (invocation, SIM_ERR_INVALID_ARGS, "Invalid Length");
          return;
        }
      if (o.offset > chr->def->value->len)
        {
          sim_return_error (invocation, SIM_ERR_INVALID_ARGS, "Invalid offset");
          return;
        }
      command = (o.type != NULL && g_str_equal (o.type, "command"))
                || (o.type == NULL && !(flags & (SIM_CHR_WRITE | SIM_CHR_RELIABLE_WRITE)));
      if (command && o.offset != 0)
        {
          sim_return_error (invocation, SIM_ERR_NOT_SUPPORTED, SIM_MSG_NOT_SUPPORTED);
          return;
        }
      if (!writable && !command)
        {
          sim_return_error (invocation, SIM_ERR_NOT_PERMITTED, "Write not permitted");
          return;
        }
      if (!writable)
        {
          g_dbus_method_invocation_return_value (invocation, NULL);
          return;
        }
      if (command && !((flags & SIM_CHR_WRITE_SECURITY) && !dev->paired))
        {
          GByteArray tmp = { (guint8 *) bytes, (guint) len };

          if (chr->def->served != NULL)
            sim_gatt_peer_write (chr->def->served, dev, 0, bytes, len, NULL, NULL);
          else
            apply_write (chr->def->value, 0, &tmp);
          g_dbus_method_invocation_return_value (invocation, NULL);
          return;
        }
      op = g_new0 (Op, 1);
      op->chr = chr;
      op->write = TRUE;
      op->offset = o.offset;
      op->data = g_byte_array_sized_new ((guint) len);
      g_byte_array_append (op->data, bytes, (guint) len);
      run_op (obj, invocation, op, flags & SIM_CHR_WRITE_SECURITY);
    }
  else if (g_str_equal (method, "StartNotify"))
    sim_notify_start (chr, invocation);
  else if (g_str_equal (method, "StopNotify"))
    sim_notify_stop (chr, invocation);
  else if (g_str_equal (method, "AcquireNotify") || g_str_equal (method, "AcquireWrite"))
    {
      g_autoptr(GVariant) dict = g_variant_get_child_value (params, 0);

      if (!parse_options (dict).ok)
        sim_return_error (invocation, SIM_ERR_INVALID_ARGS, SIM_MSG_INVALID_ARGS);
      else if (g_str_equal (method, "AcquireWrite") && refuse_claimed_write (chr, invocation))
        return;
      else
        sim_notify_acquire (chr, invocation, g_str_equal (method, "AcquireNotify"));
    }
  else
    sim_return_error (invocation, SIM_ERR_NOT_SUPPORTED, SIM_MSG_NOT_SUPPORTED);
}

SimIfaceDef sim_char_iface = {
  "org.bluez.GattCharacteristic1", char_method, char_get, NULL, NULL
};

/* ---- GattDescriptor1 ---- */

static GVariant *
desc_get (SimObj     *obj,
          const char *prop)
{
  SimDesc *d = (SimDesc *) obj;

  if (g_str_equal (prop, "UUID"))
    return g_variant_new_string (d->def->uuid);
  if (g_str_equal (prop, "Handle"))   /* 5.82 */
    return g_variant_new_uint16 (d->def->handle);
  if (g_str_equal (prop, "Characteristic"))
    return g_variant_new_object_path (d->chr->obj.path);
  if (g_str_equal (prop, "Value"))
    return sim_bytes_variant (d->cached->data, d->cached->len);
  return NULL;
}

static void
desc_method (SimObj                *obj,
             GDBusMethodInvocation *invocation,
             const char            *method,
             GVariant              *params)
{
  SimDesc *d = (SimDesc *) obj;
  SimChar *chr = d->chr;
  gboolean write = g_str_equal (method, "WriteValue");
  g_autoptr(GVariant) dict = g_variant_get_child_value (params, write ? 1 : 0);
  Options o = parse_options (dict);
  Op *op;

  if (!char_device (chr)->connected)
    {
      return_not_connected (invocation);
      return;
    }
  if (!o.ok)
    {
      sim_return_error (invocation, SIM_ERR_INVALID_ARGS, SIM_MSG_INVALID_ARGS);
      return;
    }
  op = g_new0 (Op, 1);
  op->chr = chr;
  op->desc = d;
  op->write = write;
  op->offset = o.offset;
  if (write)
    {
      g_autoptr(GVariant) value = g_variant_get_child_value (params, 0);
      gsize len;
      const guint8 *bytes = g_variant_get_fixed_array (value, &len, 1);

      if (refuse_claimed_write (chr, invocation))
        {
          op_free (op);
          return;
        }
      /* bluetoothd owns the CCCD: clients use StartNotify */
      if (g_str_equal (d->def->uuid, CCCD_UUID) || !(d->def->flags & SIM_CHR_WRITE))
        {
          sim_return_error (invocation, SIM_ERR_NOT_PERMITTED, "Write not permitted");
          op_free (op);
          return;
        }
      if (len + o.offset > SIM_MAX_ATTR_LEN)
        {
          sim_return_error (invocation, SIM_ERR_INVALID_ARGS, "Invalid Length");
          op_free (op);
          return;
        }
      op->data = g_byte_array_sized_new ((guint) len);
      g_byte_array_append (op->data, bytes, (guint) len);
      run_op (obj, invocation, op, d->def->flags & SIM_CHR_WRITE_SECURITY);
    }
  else
    {
      if (!(d->def->flags & SIM_CHR_READ))
        {
          sim_return_error (invocation, SIM_ERR_NOT_PERMITTED, "Read not permitted");
          op_free (op);
          return;
        }
      run_op (obj, invocation, op, d->def->flags & SIM_CHR_READ_SECURITY);
    }
}

SimIfaceDef sim_desc_iface = {
  "org.bluez.GattDescriptor1", desc_method, desc_get, NULL, NULL
};
