/* SPDX-License-Identifier: MIT */
/*
 * org.bleio.Sim1 at /org/bleio/sim: what tests use to steer the simulator
 * (devices, properties, notifications, link loss, injected failures,
 * restarts, advertising floods) and to read the log of org.bluez calls.
 * README.md documents every member.
 */
#include "sim-control.h"
#include "sim-adapter.h"
#include "sim-advertising.h"
#include "sim-agent.h"
#include "sim-air.h"
#include "sim-battery.h"
#include "sim-daemon.h"
#include "sim-device.h"
#include "sim-gatt.h"
#include "sim-hostile.h"

#include <string.h>

#define SIM_CTL_ERR_NOT_FOUND "org.bleio.Sim1.Error.NotFound"
#define SIM_CTL_ERR_EXISTS "org.bleio.Sim1.Error.AlreadyExists"
#define SIM_CTL_ERR_NOT_ADVERTISING "org.bleio.Sim1.Error.NotAdvertising"
#define MAX_LOGGED_CALLS 200000

typedef enum { FAULT_FAIL, FAULT_DELAY, FAULT_NO_REPLY } FaultKind;

typedef struct {
  FaultKind kind;
  char *error_name;
  char *error_message;
  guint msec;
  guint count;
  gboolean drop;        /* FAULT_FAIL: then the device's link drops */
} Fault;

typedef struct {
  char *method;
  char *path;
  char *sender;
} Call;

static GDBusNodeInfo *control_node;
static guint control_id;
static GHashTable *faults;      /* method name -> GQueue of Fault */
static GArray *calls;           /* Call */

static void
fault_free (gpointer data)
{
  Fault *f = data;

  g_free (f->error_name);
  g_free (f->error_message);
  g_free (f);
}

static void
queue_free (gpointer data)
{
  g_queue_free_full (data, fault_free);
}

static void
call_clear (gpointer data)
{
  Call *c = data;

  g_free (c->method);
  g_free (c->path);
  g_free (c->sender);
}

static void
log_call (const char *method,
          const char *path,
          const char *sender)
{
  Call c;

  if (calls == NULL || calls->len >= MAX_LOGGED_CALLS)
    return;
  c.method = g_strdup (method);
  c.path = g_strdup (path);
  c.sender = g_strdup (sender != NULL ? sender : "");
  g_array_append_val (calls, c);
}

static void drop_link_under (const char *path);

static gboolean
fault_call (GDBusMethodInvocation *invocation,
            guint                 *delay_ms)
{
  const char *method = g_dbus_method_invocation_get_method_name (invocation);
  GQueue *q = faults != NULL ? g_hash_table_lookup (faults, method) : NULL;
  Fault *f;

  *delay_ms = 0;
  if (q == NULL || g_queue_is_empty (q))
    return FALSE;
  f = g_queue_peek_head (q);
  f->count--;
  switch (f->kind)
    {
    case FAULT_FAIL:
      {
        g_autofree char *path = g_strdup (g_dbus_method_invocation_get_object_path (invocation));

        g_dbus_method_invocation_return_dbus_error (invocation, f->error_name,
                                                    f->error_message);
        if (f->drop)
          drop_link_under (path);
      }
      break;
    case FAULT_NO_REPLY:
      sim_registry_keep_unanswered (invocation);
      break;
    case FAULT_DELAY:
      *delay_ms = MAX (f->msec, 1);
      break;
    default:
      g_assert_not_reached ();
    }
  if (f->count == 0)
    fault_free (g_queue_pop_head (q));
  return *delay_ms == 0;
}

static void
add_fault (const char *method,
           Fault      *f)
{
  GQueue *q = g_hash_table_lookup (faults, method);

  if (q == NULL)
    {
      q = g_queue_new ();
      g_hash_table_insert (faults, g_strdup (method), q);
    }
  g_queue_push_tail (q, f);
}

static gboolean
valid_address (const char *s)
{
  if (strlen (s) != 17)
    return FALSE;
  for (int i = 0; i < 17; i++)
    if (i % 3 == 2 ? s[i] != ':' : !g_ascii_isxdigit (s[i]))
      return FALSE;
  return TRUE;
}

static void
invalid (GDBusMethodInvocation *invocation,
         const char            *message)
{
  g_dbus_method_invocation_return_dbus_error (invocation,
                                              "org.freedesktop.DBus.Error.InvalidArgs",
                                              message);
}

static void
not_found (GDBusMethodInvocation *invocation,
           const char            *what)
{
  g_autofree char *msg = g_strdup_printf ("No such %s", what);

  g_dbus_method_invocation_return_dbus_error (invocation, SIM_CTL_ERR_NOT_FOUND, msg);
}

static gboolean
restart_idle (gpointer data)
{
  sim_daemon_restart (GPOINTER_TO_UINT (data));
  return G_SOURCE_REMOVE;
}

static gboolean
quit_idle (gpointer data)
{
  sim_daemon_quit (0);
  return G_SOURCE_REMOVE;
}

static SimChar *
lookup_char (const char *path)
{
  SimObj *obj = sim_obj_lookup (path);

  return obj != NULL && obj->kind == SIM_OBJ_CHAR ? (SimChar *) obj : NULL;
}

static SimDevice *
lookup_device (const char *path)
{
  SimObj *obj = sim_obj_lookup (path);

  return obj != NULL && obj->kind == SIM_OBJ_DEVICE ? (SimDevice *) obj : NULL;
}

/* The link of the device @path lies under (a Device1 or one of its GATT
 * objects) drops, as the kernel ends a link whose pairing failed. */
static void
drop_link_under (const char *path)
{
  const char *dev = strstr (path, "/dev_");
  const char *end = dev != NULL ? strchr (dev + 1, '/') : NULL;
  g_autofree char *device = end != NULL ? g_strndup (path, (gsize) (end - path)) : g_strdup (path);
  SimDevice *d = lookup_device (device);

  if (d != NULL && d->connected)
    sim_device_drop_link (d, "authentication failure");
}

static void
replace_variant (GVariant **slot,
                 GVariant  *value)
{
  g_clear_pointer (slot, g_variant_unref);
  *slot = g_variant_n_children (value) > 0 ? g_variant_ref (value) : NULL;
}

static gboolean
set_device_property (SimDevice  *d,
                     const char *name,
                     GVariant   *value)
{
  SimPeripheral *p = d->periph;

  if (g_str_equal (name, "RSSI"))
    {
      p->rssi = g_variant_get_int16 (value);
      d->rssi = (gint16) p->rssi;
      d->rssi_valid = TRUE;
    }
  else if (g_str_equal (name, "Name"))
    {
      g_free (p->name);
      p->name = g_variant_dup_string (value, NULL);
      g_clear_pointer (&p->gap_name, g_free);
      d->advertised = TRUE;
      sim_obj_changed (&d->obj, &sim_device_iface, "Name", "Alias", NULL);
      return TRUE;
    }
  else if (g_str_equal (name, "TxPower"))
    {
      p->has_tx_power = TRUE;
      p->tx_power = g_variant_get_int16 (value);
      d->tx_power_valid = TRUE;
    }
  else if (g_str_equal (name, "ManufacturerData"))
    {
      replace_variant (&p->manufacturer_data, value);
      replace_variant (&d->shown_mfr, value);
    }
  else if (g_str_equal (name, "ServiceData"))
    {
      replace_variant (&p->service_data, value);
      replace_variant (&d->shown_svc, value);
    }
  else if (g_str_equal (name, "AdvertisingData"))
    replace_variant (&p->advertising_data, value);
  else if (g_str_equal (name, "AdvertisingFlags"))
    {
      gsize len;
      const guint8 *b = g_variant_get_fixed_array (value, &len, 1);

      g_clear_pointer (&p->adv_flags, g_bytes_unref);
      p->adv_flags = g_bytes_new (b, len);
      d->advertised = TRUE;
    }
  else if (g_str_equal (name, "UUIDs"))
    {
      g_autofree const char **strv = g_variant_get_strv (value, NULL);

      g_ptr_array_set_size (p->uuids, 0);
      for (guint i = 0; strv[i] != NULL; i++)
        {
          char *u = sim_uuid_normalize (strv[i]);

          if (u != NULL)
            g_ptr_array_add (p->uuids, u);
        }
      d->advertised = TRUE;
    }
  else if (g_str_equal (name, "Appearance"))
    {
      p->has_appearance = TRUE;
      p->appearance = g_variant_get_uint16 (value);
      sim_obj_changed (&d->obj, &sim_device_iface, "Appearance", "Icon", NULL);
      return TRUE;
    }
  else if (g_str_equal (name, "Modalias"))
    {
      g_free (p->modalias);
      p->modalias = g_variant_dup_string (value, NULL);
    }
  else if (g_str_equal (name, "Paired"))
    d->paired = g_variant_get_boolean (value);
  else if (g_str_equal (name, "Bonded"))
    d->bonded = g_variant_get_boolean (value);
  else if (g_str_equal (name, "LegacyPairing"))
    d->legacy_pairing = g_variant_get_boolean (value);
  else if (g_str_equal (name, "ServicesResolved"))
    {
      /* the bluez#1489 race: the flag without (or before) the objects */
      d->services_resolved = g_variant_get_boolean (value);
      if (d->services_resolved)
        d->resolved_once = TRUE;
    }
  else if (g_str_equal (name, "Connected"))
    {
      if (g_variant_get_boolean (value))
        sim_device_connect (d, NULL);
      else
        sim_device_drop_link (d, "remote user terminated connection");
      return TRUE;
    }
  else
    return FALSE;
  sim_obj_changed (&d->obj, &sim_device_iface, name, NULL);
  return TRUE;
}

static void
set_property (GDBusMethodInvocation *invocation,
              GVariant              *params)
{
  const char *path, *iface, *name;
  g_autoptr(GVariant) value = NULL;
  SimObj *obj;
  GDBusInterfaceInfo *info;
  GDBusPropertyInfo *pinfo;
  g_autoptr(GError) error = NULL;
  gboolean done = FALSE;

  g_variant_get (params, "(&o&s&sv)", &path, &iface, &name, &value);
  obj = sim_obj_lookup (path);
  info = sim_interface_info (iface);
  pinfo = info != NULL ? g_dbus_interface_info_lookup_property (info, name) : NULL;
  if (obj == NULL)
    {
      not_found (invocation, "object");
      return;
    }
  if (pinfo == NULL)
    {
      invalid (invocation, "No such interface or property");
      return;
    }
  if (!g_str_equal (g_variant_get_type_string (value), pinfo->signature))
    {
      g_autofree char *msg = g_strdup_printf ("%s has type %s", name, pinfo->signature);

      invalid (invocation, msg);
      return;
    }

  if (obj->kind == SIM_OBJ_DEVICE && g_str_equal (iface, "org.bluez.Device1"))
    done = set_device_property ((SimDevice *) obj, name, value);
  else if (obj->kind == SIM_OBJ_DEVICE && g_str_equal (iface, "org.bluez.Battery1")
           && g_str_equal (name, "Percentage"))
    {
      SimDevice *d = (SimDevice *) obj;
      SimChar *c = sim_gatt_find_char (d, "00002a19-0000-1000-8000-00805f9b34fb");
      guint8 level = g_variant_get_byte (value);

      if (c != NULL)
        {
          g_byte_array_set_size (c->def->value, 0);
          g_byte_array_append (c->def->value, &level, 1);
          sim_obj_changed (obj, &sim_battery_iface, "Percentage", NULL);
          done = TRUE;
        }
    }
  else if (obj->kind == SIM_OBJ_CHAR && g_str_equal (name, "Value"))
    {
      SimChar *c = (SimChar *) obj;
      gsize len;
      const guint8 *b = g_variant_get_fixed_array (value, &len, 1);

      g_byte_array_set_size (c->def->value, 0);
      g_byte_array_append (c->def->value, b, (guint) len);
      g_byte_array_set_size (c->cached, 0);
      g_byte_array_append (c->cached, b, (guint) len);
      sim_obj_changed (obj, &sim_char_iface, "Value", NULL);
      done = TRUE;
    }
  else if (obj->kind == SIM_OBJ_CHAR && g_str_equal (name, "MTU"))
    {
      SimChar *c = (SimChar *) obj;

      c->service->device->periph->mtu = MAX (g_variant_get_uint16 (value), 23);
      sim_obj_changed (obj, &sim_char_iface, "MTU", NULL);
      done = TRUE;
    }
  else if (obj->kind == SIM_OBJ_CHAR && g_str_equal (name, "Flags"))
    {
      SimChar *c = (SimChar *) obj;
      g_autofree const char **strv = g_variant_get_strv (value, NULL);
      guint32 flags = sim_flags_from_strv (strv, &error);

      if (flags == G_MAXUINT32)
        {
          invalid (invocation, error->message);
          return;
        }
      c->def->flags = (c->def->flags & ~SIM_CHR_VISIBLE_MASK) | (flags & SIM_CHR_VISIBLE_MASK);
      sim_obj_changed (obj, &sim_char_iface, "Flags", NULL);
      done = TRUE;
    }
  else if (obj->kind == SIM_OBJ_DESC && g_str_equal (name, "Value"))
    {
      SimDesc *d = (SimDesc *) obj;
      gsize len;
      const guint8 *b = g_variant_get_fixed_array (value, &len, 1);

      g_byte_array_set_size (d->def->value, 0);
      g_byte_array_append (d->def->value, b, (guint) len);
      g_byte_array_set_size (d->cached, 0);
      g_byte_array_append (d->cached, b, (guint) len);
      sim_obj_changed (obj, &sim_desc_iface, "Value", NULL);
      done = TRUE;
    }
  else if (obj->kind == SIM_OBJ_ADAPTER && g_str_equal (iface, "org.bluez.Adapter1"))
    {
      SimAdapter *a = (SimAdapter *) obj;

      if (g_str_equal (name, "Name"))
        {
          g_free (a->system_name);
          a->system_name = g_variant_dup_string (value, NULL);
          sim_obj_changed (obj, &sim_adapter_iface, "Name", NULL);
          done = TRUE;
        }
      else if (g_str_equal (name, "Class"))
        {
          a->class_of_device = g_variant_get_uint32 (value);
          sim_obj_changed (obj, &sim_adapter_iface, "Class", NULL);
          done = TRUE;
        }
      else if (pinfo->flags & G_DBUS_PROPERTY_INFO_FLAGS_WRITABLE)
        {
          if (!sim_adapter_iface.set (obj, name, value, &error))
            {
              invalid (invocation, error->message);
              return;
            }
          done = TRUE;
        }
    }
  if (!done && (pinfo->flags & G_DBUS_PROPERTY_INFO_FLAGS_WRITABLE)
      && sim_obj_has_iface (obj, &sim_device_iface) && g_str_equal (iface, "org.bluez.Device1"))
    done = sim_device_iface.set (obj, name, value, NULL);
  if (!done)
    {
      invalid (invocation, "The simulator cannot set this property");
      return;
    }
  g_dbus_method_invocation_return_value (invocation, NULL);
}

/* PairIncoming: the control call's reply is the pairing's outcome. */
/* A scenario peripheral plays a central and connects to an advertising
 * adapter. */
static void
connect_central (GDBusMethodInvocation *invocation,
                 GVariant              *params)
{
  const char *name, *address;
  g_autoptr(GError) error = NULL;
  SimPeripheral *central = NULL;
  SimAdapter *a;
  SimDevice *d;

  g_variant_get (params, "(&s&s)", &name, &address);
  a = sim_adapter_find (name);
  if (a == NULL)
    {
      not_found (invocation, "adapter");
      return;
    }
  for (guint i = 0; central == NULL && i < sim_world.adapters->len; i++)
    {
      SimAdapter *other = g_ptr_array_index (sim_world.adapters, i);

      for (guint j = 0; central == NULL && j < other->peripherals->len; j++)
        {
          SimPeripheral *p = g_ptr_array_index (other->peripherals, j);
          gboolean is_adapter = FALSE;

          for (guint k = 0; k < sim_world.adapters->len; k++)
            is_adapter |= ((SimAdapter *) g_ptr_array_index (sim_world.adapters, k))->air_self == p;
          if (!is_adapter && g_ascii_strcasecmp (p->address, address) == 0)
            central = p;
        }
    }
  if (central == NULL)
    {
      not_found (invocation, "peripheral");
      return;
    }
  d = sim_air_central_connect (a, central, &error);
  if (d == NULL)
    g_dbus_method_invocation_return_dbus_error (invocation,
                                                g_error_matches (error, G_IO_ERROR,
                                                                 G_IO_ERROR_EXISTS)
                                                ? SIM_CTL_ERR_EXISTS
                                                : SIM_CTL_ERR_NOT_ADVERTISING,
                                                error->message);
  else
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o)", d->obj.path));
}

static void
pair_incoming_done (SimDevice  *device,
                    const char *error_name,
                    const char *error_message,
                    gpointer    user_data)
{
  GDBusMethodInvocation *invocation = user_data;

  if (error_name != NULL)
    sim_return_error (invocation, error_name, error_message);
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
control_method (GDBusConnection       *conn,
                const char            *sender,
                const char            *path,
                const char            *interface,
                const char            *method,
                GVariant              *params,
                GDBusMethodInvocation *invocation,
                gpointer               user_data)
{
  if (g_str_equal (method, "Quit"))
    {
      g_dbus_method_invocation_return_value (invocation, NULL);
      g_idle_add (quit_idle, NULL);
      return;
    }
  if (g_str_equal (method, "GetCalls"))
    {
      GVariantBuilder b;

      g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sos)"));
      for (guint i = 0; i < calls->len; i++)
        {
          Call *c = &g_array_index (calls, Call, i);

          g_variant_builder_add (&b, "(sos)", c->method, c->path, c->sender);
        }
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(a(sos))", &b));
      return;
    }
  if (g_str_equal (method, "ResetCalls"))
    {
      g_array_set_size (calls, 0);
      g_dbus_method_invocation_return_value (invocation, NULL);
      return;
    }
  if (g_str_equal (method, "FailNext") || g_str_equal (method, "DelayNext")
      || g_str_equal (method, "NoReplyNext") || g_str_equal (method, "FailNextAndDrop"))
    {
      Fault *f = g_new0 (Fault, 1);
      const char *target;

      if (g_str_equal (method, "FailNext") || g_str_equal (method, "FailNextAndDrop"))
        {
          const char *name, *msg;

          f->kind = FAULT_FAIL;
          f->drop = g_str_equal (method, "FailNextAndDrop");
          g_variant_get (params, "(&s&s&su)", &target, &name, &msg, &f->count);
          if (!g_dbus_is_interface_name (name))
            {
              fault_free (f);
              invalid (invocation, "error_name is not a D-Bus error name");
              return;
            }
          f->error_name = g_strdup (name);
          f->error_message = g_strdup (msg);
        }
      else if (g_str_equal (method, "DelayNext"))
        {
          f->kind = FAULT_DELAY;
          g_variant_get (params, "(&suu)", &target, &f->msec, &f->count);
        }
      else
        {
          f->kind = FAULT_NO_REPLY;
          g_variant_get (params, "(&su)", &target, &f->count);
        }
      if (!g_dbus_is_member_name (target))
        {
          fault_free (f);
          invalid (invocation, "method is not a D-Bus member name");
          return;
        }
      if (f->count == 0)
        {
          fault_free (f);
          g_dbus_method_invocation_return_value (invocation, NULL);
          return;
        }
      add_fault (target, f);
      g_dbus_method_invocation_return_value (invocation, NULL);
      return;
    }
  if (g_str_equal (method, "SetHostile") || g_str_equal (method, "ClearHostile"))
    {
      sim_hostile_control (invocation, method, params);
      return;
    }
  if (!sim->up)
    {
      g_dbus_method_invocation_return_dbus_error (invocation, "org.bleio.Sim1.Error.Down",
                                                  "The simulated bluetoothd is down");
      return;
    }
  if (g_str_equal (method, "Restart"))
    {
      guint down;

      g_variant_get (params, "(u)", &down);
      g_dbus_method_invocation_return_value (invocation, NULL);
      g_idle_add (restart_idle, GUINT_TO_POINTER (down));
    }
  else if (g_str_equal (method, "SetTemporaryTimeout"))
    {
      g_variant_get (params, "(u)", &sim_world.temporary_timeout_ms);
      for (guint i = 0; i < sim_world.adapters->len; i++)
        sim_adapter_update_temporary (g_ptr_array_index (sim_world.adapters, i));
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method, "AddAdapter"))
    {
      const char *name, *address;
      SimAdapterDef *def;
      SimAdapter *a;

      g_variant_get (params, "(&s&s)", &name, &address);
      if (!g_str_has_prefix (name, "hci") || name[3] == '\0'
          || strspn (name + 3, "0123456789") != strlen (name + 3) || !valid_address (address))
        {
          invalid (invocation, "name must be hciN and address 00:11:22:33:44:55");
          return;
        }
      if (sim_adapter_find (name) != NULL)
        {
          g_dbus_method_invocation_return_dbus_error (invocation, SIM_CTL_ERR_EXISTS,
                                                      "Adapter exists");
          return;
        }
      def = sim_adapter_def_new (name, address);
      a = sim_adapter_new (def);
      sim_adapter_def_free (def);
      g_ptr_array_add (sim_world.adapters, a);
      sim_adapter_export (a, TRUE);
      /* The scenario's peripherals are radios around the machine, not
       * state of the controller: a controller plugged in again (or a new
       * one with a scenario adapter's name) sees those tied to its name,
       * as bring_up() gives them to the scenario's adapters. Their device
       * objects went with the adapter that was removed and come back only
       * when discovered again. */
      for (guint i = 0; i < sim->scenario->peripherals->len; i++)
        {
          SimPeripheral *p = g_ptr_array_index (sim->scenario->peripherals, i);

          if (g_strcmp0 (p->adapter, name) == 0)
            sim_adapter_add_peripheral (a, p);
        }
      sim_air_adapter_added (a);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method, "GetGattDatabase"))
    {
      const char *name;
      SimAdapter *a;

      g_variant_get (params, "(&s)", &name);
      a = sim_adapter_find (name);
      if (a == NULL)
        {
          not_found (invocation, "adapter");
          return;
        }
      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(@a(qsso))",
                                                            sim_gatt_database_dump (a->gatt_db)));
    }
  else if (g_str_equal (method, "RemoveAdapter"))
    {
      const char *name;
      SimAdapter *a;

      g_variant_get (params, "(&s)", &name);
      a = sim_adapter_find (name);
      if (a == NULL)
        {
          not_found (invocation, "adapter");
          return;
        }
      sim_advertising_adapter_removing (a);
      while (a->devices->len > 0)
        sim_adapter_remove_device (a, g_ptr_array_index (a->devices, a->devices->len - 1));
      sim_obj_unexport (&a->obj, TRUE);
      g_ptr_array_remove (sim_world.adapters, a);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method, "AddDevice"))
    {
      const char *name, *json;
      g_autoptr(GError) error = NULL;
      g_autoptr(SimPeripheral) p = NULL;
      g_autofree char *dev_path = NULL;
      SimAdapter *a;

      g_variant_get (params, "(&s&s)", &name, &json);
      a = sim_adapter_find (name);
      if (a == NULL)
        {
          not_found (invocation, "adapter");
          return;
        }
      p = sim_peripheral_from_json (json, name, &error);
      if (p == NULL)
        {
          invalid (invocation, error->message);
          return;
        }
      for (guint i = 0; i < a->peripherals->len; i++)
        if (g_str_equal (((SimPeripheral *) g_ptr_array_index (a->peripherals, i))->address,
                         p->address))
          {
            g_dbus_method_invocation_return_dbus_error (invocation, SIM_CTL_ERR_EXISTS,
                                                        "A peripheral has this address");
            return;
          }
      dev_path = g_strdup_printf ("%s/dev_%s", a->obj.path, p->address);
      g_strdelimit (dev_path + strlen (a->obj.path), ":", '_');
      sim_adapter_add_peripheral (a, p);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o)", dev_path));
    }
  else if (g_str_equal (method, "RemoveDevice"))
    {
      const char *dpath;

      g_variant_get (params, "(&o)", &dpath);
      for (guint i = 0; i < sim_world.adapters->len; i++)
        {
          SimAdapter *a = g_ptr_array_index (sim_world.adapters, i);

          for (guint j = 0; j < a->peripherals->len; j++)
            {
              SimPeripheral *p = g_ptr_array_index (a->peripherals, j);
              g_autofree char *ppath = g_strdup_printf ("%s/dev_%s", a->obj.path, p->address);

              g_strdelimit (ppath + strlen (a->obj.path), ":", '_');
              if (g_str_equal (ppath, dpath))
                {
                  sim_adapter_remove_peripheral (a, p);
                  g_dbus_method_invocation_return_value (invocation, NULL);
                  return;
                }
            }
        }
      not_found (invocation, "device");
    }
  else if (g_str_equal (method, "SetProperty"))
    set_property (invocation, params);
  else if (g_str_equal (method, "Notify") || g_str_equal (method, "NotifyBurst") ||
           g_str_equal (method, "NotifySequence"))
    {
      const char *cpath;
      g_autoptr(GVariant) value = NULL;
      guint count = 1;
      SimChar *c;
      gsize len;
      const guint8 *bytes;

      if (g_str_equal (method, "Notify"))
        g_variant_get (params, "(&o@ay)", &cpath, &value);
      else
        g_variant_get (params, "(&o@ayu)", &cpath, &value, &count);
      c = lookup_char (cpath);
      if (c == NULL)
        {
          not_found (invocation, "characteristic");
          return;
        }
      if (!(c->def->flags & (SIM_CHR_NOTIFY | SIM_CHR_INDICATE)))
        {
          invalid (invocation, "The characteristic cannot notify");
          return;
        }
      bytes = g_variant_get_fixed_array (value, &len, 1);
      if (g_str_equal (method, "NotifySequence") && len < 4)
        {
          invalid (invocation, "NotifySequence needs a value of at least 4 bytes");
          return;
        }
      if (g_str_equal (method, "Notify"))
        sim_char_notify (c, bytes, len);
      else
        {
          g_autoptr(GBytes) b = g_bytes_new (bytes, len);

          if (g_str_equal (method, "NotifySequence"))
            sim_char_notify_sequence (c, b, count);
          else
            sim_char_notify_burst (c, b, count);
        }
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method, "DropLink"))
    {
      const char *dpath, *reason;
      SimDevice *d;

      g_variant_get (params, "(&o&s)", &dpath, &reason);
      d = lookup_device (dpath);
      if (d == NULL)
        {
          not_found (invocation, "device");
          return;
        }
      /* a central gone from the adapter's own device ends as the
       * recordings show a link the other end closed */
      d->remote_ended = d->incoming;
      sim_device_drop_link (d, reason);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method, "ConnectCentral"))
    connect_central (invocation, params);
  else if (g_str_equal (method, "ReplaceGatt"))
    {
      const char *dpath, *gatt;
      g_autoptr(GError) error = NULL;
      g_autoptr(SimPeripheral) np = NULL;
      g_autofree char *json = NULL;
      SimDevice *d;

      g_variant_get (params, "(&o&s)", &dpath, &gatt);
      d = lookup_device (dpath);
      if (d == NULL)
        {
          not_found (invocation, "device");
          return;
        }
      /* the scenario's parser checks the array as it checks a peripheral's */
      json = g_strdup_printf ("{\"address\": \"%s\", \"gatt\": %s\n}",
                              d->periph->address, gatt);
      np = sim_peripheral_from_json (json, d->adapter->name, &error);
      if (np == NULL)
        {
          invalid (invocation, error->message);
          return;
        }
      sim_gatt_replace (d, g_steal_pointer (&np->services));
      np->services = g_ptr_array_new ();
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method, "PairIncoming"))
    {
      const char *dpath;
      SimDevice *d;

      g_variant_get (params, "(&o)", &dpath);
      d = lookup_device (dpath);
      if (d == NULL)
        not_found (invocation, "device");
      else if (!d->connected)
        sim_return_error (invocation, "org.bluez.Error.NotConnected", "Not Connected");
      else if (d->pairing != NULL)
        sim_return_error (invocation, SIM_ERR_IN_PROGRESS, SIM_MSG_IN_PROGRESS);
      else if (d->paired)
        sim_return_error (invocation, SIM_ERR_ALREADY_EXISTS, SIM_MSG_ALREADY_EXISTS);
      else
        sim_agent_pair_incoming (d, pair_incoming_done, invocation);
    }
  else if (g_str_equal (method, "Flood"))
    {
      const char *name;
      guint devices, rounds;
      SimAdapter *a;

      g_variant_get (params, "(&suu)", &name, &devices, &rounds);
      a = sim_adapter_find (name);
      if (a == NULL)
        {
          not_found (invocation, "adapter");
          return;
        }
      sim_adapter_flood (a, MIN (devices, 65535u), rounds);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else
    g_dbus_method_invocation_return_dbus_error (invocation,
                                                "org.freedesktop.DBus.Error.UnknownMethod",
                                                "Unknown method");
}

static const GDBusInterfaceVTable control_vtable = { control_method, NULL, NULL, { 0 } };

void
sim_control_export (GDBusConnection *conn)
{
  g_autoptr(GBytes) xml = NULL;
  g_autoptr(GError) error = NULL;

  if (control_node == NULL)
    {
      xml = g_resources_lookup_data ("/org/bleio/sim/org.bleio.Sim1.xml",
                                     G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
      g_assert_no_error (error);
      control_node = g_dbus_node_info_new_for_xml (g_bytes_get_data (xml, NULL), &error);
      g_assert_no_error (error);
    }
  faults = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, queue_free);
  calls = g_array_new (FALSE, TRUE, sizeof (Call));
  g_array_set_clear_func (calls, call_clear);
  control_id = g_dbus_connection_register_object (conn, SIM_CONTROL_PATH,
                                                  control_node->interfaces[0],
                                                  &control_vtable, NULL, NULL, &error);
  if (control_id == 0)
    g_warning ("cannot export %s: %s", SIM_CONTROL_PATH, error->message);
  sim_registry_set_call_log_hook (log_call);
  sim_registry_set_call_fault_hook (fault_call);
}

void
sim_control_unexport (void)
{
  if (control_id != 0)
    g_dbus_connection_unregister_object (sim_registry_get_connection (), control_id);
  control_id = 0;
  g_clear_pointer (&faults, g_hash_table_unref);
  g_clear_pointer (&calls, g_array_unref);
}
