/* SPDX-License-Identifier: MIT */
/*
 * The object registry (floor 1): objects exported on the bus, ObjectManager
 * at "/", introspection in bluetoothd's own format, property signals and
 * error replies. The floors above reach in through SimObj and SimIfaceDef;
 * it reaches them only through the hooks they register (sim-registry.h).
 *
 * GDBus would answer Introspect itself, adding org.freedesktop.DBus.Peer and
 * its own layout; bluetoothd's answer differs, so a connection filter takes
 * Introspect calls for BlueZ paths and answers them from the main context.
 * The same filter answers calls whose signature does not match the way
 * bluetoothd does (org.bluez.Error.InvalidArguments).
 */
#include "sim-registry.h"

#include <string.h>

static GDBusConnection *bus;
static GHashTable *objects;      /* path -> SimObj (not owned); NULL while closed */
static GDBusNodeInfo *bluez_node;
/* The release whose interfaces bluez_node holds; set before it is read. */
static SimBluez bluez_release = SIM_BLUEZ_5_66;
static GDBusNodeInfo *std_node;
static guint filter_id;
static GPtrArray *noreply_keep;  /* invocations we never answer */

static struct {
  SimCallLogHook log;
  SimCallAnswerHook answer;
  SimCallFaultHook fault;
  SimPropsHook props;
  SimObjectsHook objects;
} hooks;

static GVariant *
filter_props (const char *path,
              const char *interface,
              GVariant   *props,
              gboolean    add_missing)
{
  return hooks.props != NULL ? hooks.props (path, interface, props, add_missing) : props;
}

/* What the filter (GDBus's worker thread) needs to know about the exported
 * objects: path -> GPtrArray of SimIfaceDef, under reg_lock. */
static GMutex reg_lock;
static GHashTable *reg_paths;

static void
reg_add (const char        *path,
         const SimIfaceDef *def)
{
  GPtrArray *defs;

  g_mutex_lock (&reg_lock);
  if (reg_paths == NULL)
    reg_paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) g_ptr_array_unref);
  defs = g_hash_table_lookup (reg_paths, path);
  if (defs == NULL)
    {
      defs = g_ptr_array_new ();
      g_hash_table_insert (reg_paths, g_strdup (path), defs);
    }
  g_ptr_array_add (defs, (gpointer) def);
  g_mutex_unlock (&reg_lock);
}

static void
reg_remove (const char        *path,
            const SimIfaceDef *def)
{
  GPtrArray *defs;

  g_mutex_lock (&reg_lock);
  defs = reg_paths != NULL ? g_hash_table_lookup (reg_paths, path) : NULL;
  if (defs != NULL)
    {
      if (def == NULL)
        g_hash_table_remove (reg_paths, path);
      else
        {
          g_ptr_array_remove (defs, (gpointer) def);
          if (defs->len == 0)
            g_hash_table_remove (reg_paths, path);
        }
    }
  g_mutex_unlock (&reg_lock);
}

/* The interface @name of the object at @path, or NULL. Any thread. */
static GDBusInterfaceInfo *
reg_lookup (const char *path,
            const char *name,
            gboolean   *path_known)
{
  GDBusInterfaceInfo *info = NULL;
  GPtrArray *defs;

  g_mutex_lock (&reg_lock);
  defs = reg_paths != NULL ? g_hash_table_lookup (reg_paths, path) : NULL;
  if (path_known != NULL)
    *path_known = defs != NULL;
  for (guint i = 0; defs != NULL && name != NULL && i < defs->len; i++)
    {
      const SimIfaceDef *def = g_ptr_array_index (defs, i);

      if (g_str_equal (def->name, name))
        info = def->info;
    }
  g_mutex_unlock (&reg_lock);
  return info;
}

static const char std_xml[] =
  "<node>"
  "<interface name='org.freedesktop.DBus.Introspectable'>"
  "<method name='Introspect'><arg name='xml' type='s' direction='out'/></method>"
  "</interface>"
  "<interface name='org.freedesktop.DBus.Properties'>"
  "<method name='Get'><arg name='interface' type='s' direction='in'/>"
  "<arg name='name' type='s' direction='in'/>"
  "<arg name='value' type='v' direction='out'/></method>"
  "<method name='Set'><arg name='interface' type='s' direction='in'/>"
  "<arg name='name' type='s' direction='in'/>"
  "<arg name='value' type='v' direction='in'/></method>"
  "<method name='GetAll'><arg name='interface' type='s' direction='in'/>"
  "<arg name='properties' type='a{sv}' direction='out'/></method>"
  "<signal name='PropertiesChanged'><arg name='interface' type='s'/>"
  "<arg name='changed_properties' type='a{sv}'/>"
  "<arg name='invalidated_properties' type='as'/></signal>"
  "</interface>"
  "</node>";

GDBusInterfaceInfo *
sim_interface_info (const char *name)
{
  return g_dbus_node_info_lookup_interface (bluez_node, name);
}

static void
init_interfaces (void)
{
  g_autoptr(GBytes) xml = NULL;
  g_autoptr(GError) error = NULL;

  if (bluez_node != NULL)
    return;
  xml = g_resources_lookup_data (bluez_release == SIM_BLUEZ_5_82
                                 ? "/org/bleio/sim/org.bluez-5.82.xml"
                                 : "/org/bleio/sim/org.bluez-5.66.xml",
                                 G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
  g_assert_no_error (error);
  bluez_node = g_dbus_node_info_new_for_xml (g_bytes_get_data (xml, NULL),
                                             &error);
  g_assert_no_error (error);
  std_node = g_dbus_node_info_new_for_xml (std_xml, &error);
  g_assert_no_error (error);
}

/* ---- errors ---- */

/* TRUE while Restart takes bluetoothd down: calls it leaves unanswered get
 * what dbus-daemon tells callers of a process that went away. */
static gboolean going_down;

#define NO_REPLY_NAME "org.freedesktop.DBus.Error.NoReply"
#define NO_REPLY_MSG "Message recipient disconnected from message bus without replying"

void
sim_return_error (GDBusMethodInvocation *invocation,
                  const char            *name,
                  const char            *message)
{
  if (going_down)
    {
      name = NO_REPLY_NAME;
      message = NO_REPLY_MSG;
    }
  g_dbus_method_invocation_return_dbus_error (invocation, name, message);
}

GVariant *
sim_bytes_variant (const guint8 *data,
                   gsize         len)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1);
}

/* ---- the registry ---- */

void
sim_obj_init (SimObj     *obj,
              SimObjKind  kind,
              char       *path)
{
  obj->kind = kind;
  obj->path = path;
  obj->ifaces = g_array_new (FALSE, TRUE, sizeof (SimIfaceReg));
}

void
sim_obj_clear (SimObj *obj)
{
  if (obj->exported)
    sim_obj_unexport (obj, FALSE);
  g_clear_pointer (&obj->ifaces, g_array_unref);
  g_clear_pointer (&obj->path, g_free);
}

SimObj *
sim_obj_lookup (const char *path)
{
  return objects != NULL ? g_hash_table_lookup (objects, path) : NULL;
}

static const SimIfaceDef *
find_def (SimObj     *obj,
          const char *interface)
{
  for (guint i = 0; i < obj->ifaces->len; i++)
    {
      const SimIfaceDef *def = g_array_index (obj->ifaces, SimIfaceReg, i).def;

      if (g_str_equal (def->name, interface))
        return def;
    }
  return NULL;
}

gboolean
sim_obj_has_iface (SimObj            *obj,
                   const SimIfaceDef *def)
{
  return obj->exported && find_def (obj, def->name) != NULL;
}

/* A call held back by a DelayNext. bluetoothd handles the calls it
 * receives one after the other, so a delayed call holds back the later
 * calls of the same client on the same object: they queue behind it and
 * run, faults and all, once it ran. */
typedef struct {
  GDBusMethodInvocation *invocation;
  char *path;
  char *interface;
} Held;

typedef struct {
  char *key;                  /* sender '\n' path */
  GQueue calls;               /* Held; the head waits for source */
  guint source;
} HeldQueue;

static GHashTable *held;      /* key -> HeldQueue */

static void
held_free (Held *h)
{
  g_free (h->path);
  g_free (h->interface);
  g_free (h);
}

static void
held_queue_free (gpointer data)
{
  HeldQueue *q = data;
  Held *h;

  g_clear_handle_id (&q->source, g_source_remove);
  while ((h = g_queue_pop_head (&q->calls)) != NULL)
    {
      g_object_unref (h->invocation);
      held_free (h);
    }
  g_free (q->key);
  g_free (q);
}

static void
run_method (GDBusMethodInvocation *invocation,
            const char            *path,
            const char            *interface)
{
  SimObj *obj = sim_obj_lookup (path);
  const SimIfaceDef *def = obj != NULL ? find_def (obj, interface) : NULL;

  if (def == NULL)
    g_dbus_method_invocation_return_dbus_error (invocation,
                                                "org.freedesktop.DBus.Error.UnknownObject",
                                                "Method call to an object that went away");
  else
    def->method (obj, invocation, g_dbus_method_invocation_get_method_name (invocation),
                 g_dbus_method_invocation_get_parameters (invocation));
}

/* Applies the answer and fault hooks to a call; returns the delay it got
 * (0: it was answered or taken, or ran). */
static guint
dispatch (GDBusMethodInvocation *invocation,
          const char            *path,
          const char            *interface)
{
  guint delay = 0;

  if (hooks.answer != NULL && hooks.answer (invocation))
    return 0;
  if (hooks.fault != NULL && hooks.fault (invocation, &delay))
    return 0;
  if (delay == 0)
    run_method (invocation, path, interface);
  return delay;
}

static gboolean held_due (gpointer data);

/* Runs the queue's calls in order until one is delayed again or none is
 * left (then the queue goes). */
static void
held_drain (HeldQueue *q,
            gboolean   head_is_due)
{
  Held *h;

  while ((h = g_queue_peek_head (&q->calls)) != NULL)
    {
      guint delay;

      if (head_is_due)
        {
          run_method (h->invocation, h->path, h->interface);
          delay = 0;
          head_is_due = FALSE;
        }
      else
        delay = dispatch (h->invocation, h->path, h->interface);
      if (delay > 0)
        {
          q->source = g_timeout_add (delay, held_due, q);
          return;
        }
      held_free (g_queue_pop_head (&q->calls));
    }
  g_hash_table_remove (held, q->key);
}

static gboolean
held_due (gpointer data)
{
  HeldQueue *q = data;

  q->source = 0;
  held_drain (q, TRUE);
  return G_SOURCE_REMOVE;
}

static void
on_method_call (GDBusConnection       *conn,
                const char            *sender,
                const char            *path,
                const char            *interface,
                const char            *method,
                GVariant              *params,
                GDBusMethodInvocation *invocation,
                gpointer               user_data)
{
  SimObj *obj = user_data;
  const SimIfaceDef *def = find_def (obj, interface);
  g_autofree char *key = NULL;
  HeldQueue *q;
  Held *h;
  guint delay;

  if (hooks.log != NULL)
    hooks.log (method, path, sender);
  if (def == NULL || def->method == NULL)
    {
      g_dbus_method_invocation_return_dbus_error (invocation,
                                                  "org.freedesktop.DBus.Error.UnknownMethod",
                                                  "Unknown method");
      return;
    }
  key = g_strconcat (sender != NULL ? sender : "", "\n", path, NULL);
  if (held == NULL)
    held = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, held_queue_free);
  h = g_new0 (Held, 1);
  h->invocation = invocation;
  h->path = g_strdup (path);
  h->interface = g_strdup (interface);
  q = g_hash_table_lookup (held, key);
  if (q != NULL)
    {
      g_queue_push_tail (&q->calls, h);
      return;
    }
  delay = dispatch (invocation, path, interface);
  if (delay == 0)
    {
      held_free (h);
      return;
    }
  q = g_new0 (HeldQueue, 1);
  q->key = g_steal_pointer (&key);
  g_queue_push_tail (&q->calls, h);
  q->source = g_timeout_add (delay, held_due, q);
  g_hash_table_insert (held, q->key, q);
}

static GVariant *
on_get_property (GDBusConnection *conn,
                 const char      *sender,
                 const char      *path,
                 const char      *interface,
                 const char      *property,
                 GError         **error,
                 gpointer         user_data)
{
  SimObj *obj = user_data;
  const SimIfaceDef *def = find_def (obj, interface);
  GVariant *v = def != NULL && def->get != NULL ? def->get (obj, property) : NULL;

  if (v == NULL)
    g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                 "No such property '%s'", property);
  return v;
}

static gboolean
on_set_property (GDBusConnection *conn,
                 const char      *sender,
                 const char      *path,
                 const char      *interface,
                 const char      *property,
                 GVariant        *value,
                 GError         **error,
                 gpointer         user_data)
{
  SimObj *obj = user_data;
  const SimIfaceDef *def = find_def (obj, interface);

  if (def == NULL || def->set == NULL)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_PROPERTY_READ_ONLY,
                   "Property '%s' is not writable", property);
      return FALSE;
    }
  return def->set (obj, property, value, error);
}

static const GDBusInterfaceVTable vtable = {
  on_method_call, on_get_property, on_set_property, { 0 }
};

static GVariant *
iface_props (SimObj            *obj,
             const SimIfaceDef *def)
{
  GVariantBuilder b;
  GDBusPropertyInfo **props = def->info->properties;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  for (guint i = 0; props != NULL && props[i] != NULL; i++)
    {
      GVariant *v = def->get != NULL ? def->get (obj, props[i]->name) : NULL;

      /* get() hands over a floating or a full reference */
      if (v != NULL)
        {
          g_variant_take_ref (v);
          g_variant_builder_add (&b, "{sv}", props[i]->name, v);
          g_variant_unref (v);
        }
    }
  return filter_props (obj->path, def->name, g_variant_builder_end (&b), TRUE);
}

static gboolean
has_properties (SimObj *obj)
{
  for (guint i = 0; i < obj->ifaces->len; i++)
    {
      const SimIfaceDef *def = g_array_index (obj->ifaces, SimIfaceReg, i).def;

      if (def->info->properties != NULL && def->info->properties[0] != NULL)
        return TRUE;
    }
  return FALSE;
}

/* a{sa{sv}} of @obj, with the standard interfaces as bluetoothd lists them;
 * only @only when not NULL. */
static GVariant *
obj_interfaces (SimObj            *obj,
                const SimIfaceDef *only)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sa{sv}}"));
  for (guint i = 0; i < obj->ifaces->len; i++)
    {
      const SimIfaceDef *def = g_array_index (obj->ifaces, SimIfaceReg, i).def;

      if (only != NULL && def != only)
        continue;
      g_variant_builder_add (&b, "{s@a{sv}}", def->name, iface_props (obj, def));
    }
  if (only == NULL)
    {
      g_variant_builder_add (&b, "{s@a{sv}}", "org.freedesktop.DBus.Introspectable",
                             g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
      if (has_properties (obj))
        g_variant_builder_add (&b, "{s@a{sv}}", "org.freedesktop.DBus.Properties",
                               g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
    }
  return g_variant_builder_end (&b);
}

static void
emit_added (SimObj            *obj,
            const SimIfaceDef *only)
{
  g_dbus_connection_emit_signal (bus, NULL, "/",
                                 "org.freedesktop.DBus.ObjectManager",
                                 "InterfacesAdded",
                                 g_variant_new ("(o@a{sa{sv}})", obj->path,
                                                obj_interfaces (obj, only)),
                                 NULL);
}

static void
emit_removed (SimObj            *obj,
              const SimIfaceDef *only)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("as"));
  for (guint i = 0; i < obj->ifaces->len; i++)
    {
      const SimIfaceDef *def = g_array_index (obj->ifaces, SimIfaceReg, i).def;

      if (only == NULL || def == only)
        g_variant_builder_add (&b, "s", def->name);
    }
  if (only == NULL)
    {
      g_variant_builder_add (&b, "s", "org.freedesktop.DBus.Introspectable");
      if (has_properties (obj))
        g_variant_builder_add (&b, "s", "org.freedesktop.DBus.Properties");
    }
  g_dbus_connection_emit_signal (bus, NULL, "/",
                                 "org.freedesktop.DBus.ObjectManager",
                                 "InterfacesRemoved",
                                 g_variant_new ("(o@as)", obj->path,
                                                g_variant_builder_end (&b)),
                                 NULL);
}

static void
register_iface (SimObj            *obj,
                const SimIfaceDef *def)
{
  g_autoptr(GError) error = NULL;
  SimIfaceReg reg = { def, 0 };

  /* The definitions are static data of the files above; the first export
   * gives each its introspection data. */
  if (def->info == NULL)
    ((SimIfaceDef *) def)->info = sim_interface_info (def->name);
  g_assert (def->info != NULL);
  reg.id = g_dbus_connection_register_object (bus, obj->path, def->info,
                                              &vtable, obj, NULL, &error);
  if (reg.id == 0)
    g_warning ("cannot export %s on %s: %s", def->name, obj->path,
               error->message);
  g_array_append_val (obj->ifaces, reg);
  reg_add (obj->path, def);
}

void
sim_obj_export (SimObj             *obj,
                const SimIfaceDef *const *defs,
                gboolean            announce)
{
  g_assert (!obj->exported);
  for (; *defs != NULL; defs++)
    register_iface (obj, *defs);
  obj->exported = TRUE;
  g_hash_table_insert (objects, obj->path, obj);
  if (announce && obj->kind != SIM_OBJ_ROOT)
    emit_added (obj, NULL);
}

void
sim_obj_add_iface (SimObj            *obj,
                   const SimIfaceDef *def)
{
  if (!obj->exported || find_def (obj, def->name) != NULL)
    return;
  register_iface (obj, def);
  emit_added (obj, def);
}

void
sim_obj_remove_iface (SimObj            *obj,
                      const SimIfaceDef *def)
{
  for (guint i = 0; obj->exported && i < obj->ifaces->len; i++)
    {
      SimIfaceReg *reg = &g_array_index (obj->ifaces, SimIfaceReg, i);

      if (reg->def != def)
        continue;
      emit_removed (obj, def);
      reg_remove (obj->path, def);
      if (reg->id != 0)
        g_dbus_connection_unregister_object (bus, reg->id);
      g_array_remove_index (obj->ifaces, i);
      return;
    }
}

void
sim_obj_unexport (SimObj   *obj,
                  gboolean  announce)
{
  if (!obj->exported)
    return;
  if (announce && obj->kind != SIM_OBJ_ROOT)
    emit_removed (obj, NULL);
  for (guint i = 0; i < obj->ifaces->len; i++)
    {
      SimIfaceReg *reg = &g_array_index (obj->ifaces, SimIfaceReg, i);

      if (reg->id != 0)
        g_dbus_connection_unregister_object (bus, reg->id);
    }
  g_array_set_size (obj->ifaces, 0);
  obj->exported = FALSE;
  reg_remove (obj->path, NULL);
  if (objects != NULL && g_hash_table_lookup (objects, obj->path) == obj)
    g_hash_table_remove (objects, obj->path);
}

static void
obj_changed_va (SimObj            *obj,
                const SimIfaceDef *def,
                va_list            ap)
{
  GVariantBuilder changed, invalidated;

  g_variant_builder_init (&changed, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_init (&invalidated, G_VARIANT_TYPE ("as"));
  for (const char *name = va_arg (ap, const char *); name != NULL;
       name = va_arg (ap, const char *))
    {
      GVariant *v = def->get (obj, name);

      if (v != NULL)
        {
          g_variant_take_ref (v);
          g_variant_builder_add (&changed, "{sv}", name, v);
          g_variant_unref (v);
        }
      else
        g_variant_builder_add (&invalidated, "s", name);
    }
  g_dbus_connection_emit_signal (bus, NULL, obj->path,
                                 "org.freedesktop.DBus.Properties",
                                 "PropertiesChanged",
                                 g_variant_new ("(s@a{sv}as)", def->name,
                                                filter_props (obj->path, def->name,
                                                              g_variant_builder_end (&changed),
                                                              FALSE),
                                                &invalidated),
                                 NULL);
}

void
sim_obj_changed (SimObj            *obj,
                 const SimIfaceDef *def,
                 ...)
{
  va_list ap;

  if (!obj->exported || find_def (obj, def->name) == NULL)
    return;
  va_start (ap, def);
  obj_changed_va (obj, def, ap);
  va_end (ap);
}

void
sim_obj_changed_by_name (SimObj     *obj,
                         const char *interface,
                         ...)
{
  const SimIfaceDef *def = obj->exported ? find_def (obj, interface) : NULL;
  va_list ap;

  if (def == NULL)
    return;
  va_start (ap, interface);
  obj_changed_va (obj, def, ap);
  va_end (ap);
}

void
sim_obj_invalidated (SimObj            *obj,
                     const SimIfaceDef *def,
                     const char        *property)
{
  const char *names[] = { property, NULL };

  if (!obj->exported)
    return;
  g_dbus_connection_emit_signal (bus, NULL, obj->path,
                                 "org.freedesktop.DBus.Properties",
                                 "PropertiesChanged",
                                 g_variant_new ("(s@a{sv}^as)", def->name,
                                                g_variant_new_array (G_VARIANT_TYPE ("{sv}"),
                                                                     NULL, 0),
                                                names),
                                 NULL);
}

void
sim_emit_value (const char   *path,
                const char   *interface,
                const guint8 *data,
                gsize         len)
{
  static GDBusMessage *template;
  g_autoptr(GDBusMessage) message = NULL;
  GVariant *entry;
  GVariant *body[3];

  /* The hot path of notification bursts (bench/sim-throughput): the body
   * is put together with the plain constructors, as building it from
   * format strings cost a third of the simulator's time per signal, and
   * the header fields of the last object's signal are copied rather than
   * made and checked again. */
  entry = g_variant_new_dict_entry (g_variant_new_string ("Value"),
                                    g_variant_new_variant (sim_bytes_variant (data, len)));
  body[0] = g_variant_new_string (interface);
  body[1] = filter_props (path, interface, g_variant_new_array (NULL, &entry, 1), FALSE);
  body[2] = g_variant_new_array (G_VARIANT_TYPE_STRING, NULL, 0);
  if (template == NULL || g_strcmp0 (g_dbus_message_get_path (template), path) != 0)
    {
      g_clear_object (&template);
      template = g_dbus_message_new_signal (path, "org.freedesktop.DBus.Properties",
                                            "PropertiesChanged");
    }
  message = g_dbus_message_copy (template, NULL);
  g_dbus_message_set_body (message, g_variant_new_tuple (body, 3));
  g_dbus_connection_send_message (bus, message, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
                                  NULL);
}

/* ---- "/" and "/org/bluez" ---- */

static void
root_method (SimObj                *obj,
             GDBusMethodInvocation *invocation,
             const char            *method,
             GVariant              *params)
{
  GVariantBuilder b;
  GHashTableIter iter;
  gpointer value;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{oa{sa{sv}}}"));
  g_hash_table_iter_init (&iter, objects);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      SimObj *o = value;

      if (o->kind == SIM_OBJ_ROOT)
        continue;
      g_variant_builder_add (&b, "{o@a{sa{sv}}}", o->path, obj_interfaces (o, NULL));
    }
  if (hooks.objects != NULL)
    hooks.objects (&b);
  g_dbus_method_invocation_return_value (invocation,
                                         g_variant_new ("(a{oa{sa{sv}}})", &b));
}

static SimIfaceDef root_iface = {
  "org.freedesktop.DBus.ObjectManager", root_method, NULL, NULL, NULL
};

static SimObj root_obj;

/* ---- Introspect in bluetoothd's format ---- */

static void
append_iface_xml (GString            *s,
                  GDBusInterfaceInfo *info)
{
  g_string_append_printf (s, "<interface name=\"%s\">", info->name);
  for (guint i = 0; info->methods != NULL && info->methods[i] != NULL; i++)
    {
      GDBusMethodInfo *m = info->methods[i];

      g_string_append_printf (s, "<method name=\"%s\">", m->name);
      for (guint j = 0; m->in_args != NULL && m->in_args[j] != NULL; j++)
        g_string_append_printf (s, "<arg name=\"%s\" type=\"%s\" direction=\"in\"/>\n",
                                m->in_args[j]->name, m->in_args[j]->signature);
      for (guint j = 0; m->out_args != NULL && m->out_args[j] != NULL; j++)
        g_string_append_printf (s, "<arg name=\"%s\" type=\"%s\" direction=\"out\"/>\n",
                                m->out_args[j]->name, m->out_args[j]->signature);
      g_string_append (s, "</method>");
    }
  for (guint i = 0; info->signals != NULL && info->signals[i] != NULL; i++)
    {
      GDBusSignalInfo *sig = info->signals[i];

      g_string_append_printf (s, "<signal name=\"%s\">", sig->name);
      for (guint j = 0; sig->args != NULL && sig->args[j] != NULL; j++)
        g_string_append_printf (s, "<arg name=\"%s\" type=\"%s\"/>\n",
                                sig->args[j]->name, sig->args[j]->signature);
      g_string_append (s, "</signal>\n");
    }
  for (guint i = 0; info->properties != NULL && info->properties[i] != NULL; i++)
    {
      GDBusPropertyInfo *p = info->properties[i];
      const char *access = p->flags == (G_DBUS_PROPERTY_INFO_FLAGS_READABLE
                                        | G_DBUS_PROPERTY_INFO_FLAGS_WRITABLE)
                           ? "readwrite"
                           : (p->flags & G_DBUS_PROPERTY_INFO_FLAGS_WRITABLE)
                           ? "write" : "read";

      g_string_append_printf (s, "<property name=\"%s\" type=\"%s\" access=\"%s\">"
                              "</property>", p->name, p->signature, access);
    }
  g_string_append (s, "</interface>");
}

static gint
compare_str (gconstpointer a,
             gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static char *
introspect_path (const char *path)
{
  GString *s = g_string_new ("<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object "
                             "Introspection 1.0//EN\"\n\"http://www.freedesktop.org/"
                             "standards/dbus/1.0/introspect.dtd\">\n<node>");
  SimObj *obj = sim_obj_lookup (path);
  g_autoptr(GPtrArray) children = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *prefix = g_str_equal (path, "/") ? g_strdup ("/")
                            : g_strconcat (path, "/", NULL);
  gsize plen = strlen (prefix);
  GHashTableIter iter;
  gpointer key;
  gboolean props_done = FALSE;

  append_iface_xml (s, g_dbus_node_info_lookup_interface (std_node,
                                                          "org.freedesktop.DBus.Introspectable"));
  for (guint i = 0; obj != NULL && i < obj->ifaces->len; i++)
    {
      const SimIfaceDef *def = g_array_index (obj->ifaces, SimIfaceReg, i).def;

      append_iface_xml (s, def->info);
      if (!props_done && def->info->properties != NULL
          && def->info->properties[0] != NULL)
        {
          append_iface_xml (s, g_dbus_node_info_lookup_interface (std_node,
                                                                  "org.freedesktop.DBus.Properties"));
          props_done = TRUE;
        }
    }

  /* child nodes: the next path element of every object below */
  g_hash_table_iter_init (&iter, objects);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      const char *p = key;
      const char *rest, *slash;
      g_autofree char *child = NULL;
      gboolean dup = FALSE;

      if (strncmp (p, prefix, plen) != 0 || p[plen] == '\0')
        continue;
      rest = p + plen;
      slash = strchr (rest, '/');
      child = slash != NULL ? g_strndup (rest, (gsize) (slash - rest)) : g_strdup (rest);
      for (guint i = 0; i < children->len && !dup; i++)
        dup = g_str_equal (children->pdata[i], child);
      if (!dup)
        g_ptr_array_add (children, g_steal_pointer (&child));
    }
  g_ptr_array_sort (children, compare_str);
  for (guint i = 0; i < children->len; i++)
    g_string_append_printf (s, "<node name=\"%s\"/>", (const char *) children->pdata[i]);
  g_string_append (s, "</node>");
  return g_string_free (s, FALSE);
}

typedef struct {
  GDBusConnection *conn;
  GDBusMessage *message;
} IntrospectCall;

static gboolean
introspect_cb (gpointer data)
{
  IntrospectCall *call = data;
  const char *path = g_dbus_message_get_path (call->message);
  g_autoptr(GDBusMessage) reply = NULL;
  g_autofree char *xml = NULL;

  if (objects != NULL
      && (g_str_equal (path, "/") || g_str_equal (path, "/org")
          || sim_obj_lookup (path) != NULL))
    {
      xml = introspect_path (path);
      reply = g_dbus_message_new_method_reply (call->message);
      g_dbus_message_set_body (reply, g_variant_new ("(s)", xml));
    }
  else
    reply = g_dbus_message_new_method_error (call->message,
                                             "org.freedesktop.DBus.Error.UnknownObject",
                                             "No such object path '%s'", path);
  g_dbus_connection_send_message (call->conn, reply,
                                  G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL);
  g_object_unref (call->message);
  g_object_unref (call->conn);
  g_free (call);
  return G_SOURCE_REMOVE;
}

static gboolean
signature_is (GDBusArgInfo **args,
              const char    *have)
{
  GString *want = g_string_new ("");
  gboolean same;

  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_string_append (want, args[i]->signature);
  same = g_str_equal (want->str, have);
  g_string_free (want, TRUE);
  return same;
}

/* bluetoothd's gdbus layer looks methods up by interface, name and exact
 * signature and leaves the rest to libdbus, which answers UnknownMethod in
 * these words; its Properties implementation has its own answers. Returns
 * the error reply, or NULL to let GDBus dispatch the call. Runs in GDBus's
 * worker thread. */
static GDBusMessage *
check_call (GDBusMessage *message,
            const char   *path,
            const char   *iface,
            const char   *member)
{
  const char *sig = g_dbus_message_get_signature (message);
  GDBusInterfaceInfo *info;
  GDBusMethodInfo *m;
  gboolean path_known;

  if (sig == NULL)
    sig = "";
  if (iface != NULL && g_str_equal (iface, "org.freedesktop.DBus.Peer"))
    return NULL;
  if (iface != NULL && g_str_equal (iface, "org.freedesktop.DBus.Properties"))
    {
      GVariant *body = g_dbus_message_get_body (message);
      const char *target = NULL, *name = NULL;
      GDBusPropertyInfo *p;
      gboolean known = (g_str_equal (member, "Get") && g_str_equal (sig, "ss"))
                       || (g_str_equal (member, "GetAll") && g_str_equal (sig, "s"))
                       || (g_str_equal (member, "Set") && g_str_equal (sig, "ssv"));

      reg_lookup (path, NULL, &path_known);
      if (!known || !path_known)
        goto unknown_method;
      g_variant_get_child (body, 0, "&s", &target);
      info = reg_lookup (path, target, NULL);
      if (info == NULL)
        return g_dbus_message_new_method_error (message,
                                                "org.freedesktop.DBus.Error.InvalidArgs",
                                                "No such interface '%s'", target);
      if (g_str_equal (member, "GetAll"))
        return NULL;
      g_variant_get_child (body, 1, "&s", &name);
      p = g_dbus_interface_info_lookup_property (info, name);
      if (g_str_equal (member, "Get"))
        return p != NULL ? NULL
               : g_dbus_message_new_method_error (message,
                                                  "org.freedesktop.DBus.Error.InvalidArgs",
                                                  "No such property '%s'", name);
      if (p == NULL)
        return g_dbus_message_new_method_error (message,
                                                "org.freedesktop.DBus.Error.UnknownProperty",
                                                "No such property '%s'", name);
      if (!(p->flags & G_DBUS_PROPERTY_INFO_FLAGS_WRITABLE))
        return g_dbus_message_new_method_error (message,
                                                "org.freedesktop.DBus.Error.PropertyReadOnly",
                                                "Property '%s' is not writable", name);
      {
        g_autoptr(GVariant) boxed = g_variant_get_child_value (body, 2);
        g_autoptr(GVariant) value = g_variant_get_variant (boxed);

        if (!g_str_equal (g_variant_get_type_string (value), p->signature))
          return g_dbus_message_new_method_error (message,
                                                  "org.freedesktop.DBus.Error.InvalidSignature",
                                                  "Invalid signature for '%s'", name);
      }
      return NULL;
    }
  if (iface != NULL && g_str_equal (iface, "org.freedesktop.DBus.Introspectable"))
    goto unknown_method;    /* Introspect itself was taken earlier */
  info = iface != NULL ? reg_lookup (path, iface, NULL) : NULL;
  m = info != NULL ? g_dbus_interface_info_lookup_method (info, member) : NULL;
  if (m != NULL && signature_is (m->in_args, sig))
    return NULL;

unknown_method:
  return g_dbus_message_new_method_error (message,
                                          "org.freedesktop.DBus.Error.UnknownMethod",
                                          "Method \"%s\" with signature \"%s\" on "
                                          "interface \"%s\" doesn't exist\n",
                                          member, sig, iface != NULL ? iface : "(null)");
}

/* Runs in GDBus's worker thread: only reads immutable interface data and
 * the registry snapshot under its lock. */
static GDBusMessage *
message_filter (GDBusConnection *conn,
                GDBusMessage    *message,
                gboolean         incoming,
                gpointer         user_data)
{
  GMainContext *main_context = user_data;
  const char *path, *iface, *member;
  GDBusMessage *reply;

  if (!incoming
      || g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_METHOD_CALL)
    return message;
  path = g_dbus_message_get_path (message);
  iface = g_dbus_message_get_interface (message);
  member = g_dbus_message_get_member (message);
  if (path == NULL || member == NULL)
    return message;
  if (!g_str_equal (path, "/") && !g_str_equal (path, "/org")
      && !g_str_has_prefix (path, "/org/bluez"))
    return message;

  if (g_str_equal (member, "Introspect")
      && (iface == NULL || g_str_equal (iface, "org.freedesktop.DBus.Introspectable")))
    {
      IntrospectCall *call = g_new0 (IntrospectCall, 1);

      call->conn = g_object_ref (conn);
      call->message = message;
      g_main_context_invoke (main_context, introspect_cb, call);
      return NULL;
    }

  reply = check_call (message, path, iface, member);
  if (reply != NULL)
    {
      if (!(g_dbus_message_get_flags (message) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED))
        g_dbus_connection_send_message (conn, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE,
                                        NULL, NULL);
      g_object_unref (reply);
      g_object_unref (message);
      return NULL;
    }
  return message;
}


/* ---- life cycle and hooks ---- */

void
sim_registry_set_bluez (SimBluez release)
{
  g_return_if_fail (release == SIM_BLUEZ_5_66 || release == SIM_BLUEZ_5_82);
  /* the interface infos are looked up once and kept by the objects */
  g_return_if_fail (bluez_node == NULL || release == bluez_release);
  bluez_release = release;
}

SimBluez
sim_bluez (void)
{
  return bluez_release;
}

void
sim_registry_init (GDBusConnection *conn)
{
  init_interfaces ();
  bus = g_object_ref (conn);
  noreply_keep = g_ptr_array_new_with_free_func (g_object_unref);
  filter_id = g_dbus_connection_add_filter (conn, message_filter,
                                            g_main_context_ref_thread_default (),
                                            (GDestroyNotify) g_main_context_unref);
}

void
sim_registry_shutdown (void)
{
  if (filter_id != 0)
    g_dbus_connection_remove_filter (bus, filter_id);
  filter_id = 0;
  g_clear_pointer (&noreply_keep, g_ptr_array_unref);
  g_clear_pointer (&held, g_hash_table_unref);
  g_clear_object (&bus);
  memset (&hooks, 0, sizeof hooks);
}

GDBusConnection *
sim_registry_get_connection (void)
{
  return bus;
}

void
sim_registry_open (void)
{
  static const SimIfaceDef *root_defs[] = { &root_iface, NULL };

  objects = g_hash_table_new (g_str_hash, g_str_equal);
  sim_obj_init (&root_obj, SIM_OBJ_ROOT, g_strdup ("/"));
  sim_obj_export (&root_obj, root_defs, FALSE);
}

gboolean
sim_registry_is_open (void)
{
  return objects != NULL;
}

void
sim_registry_begin_close (void)
{
  going_down = TRUE;
}

void
sim_registry_close (void)
{
  sim_obj_clear (&root_obj);
  g_clear_pointer (&objects, g_hash_table_unref);
  /* calls held by NoReplyNext or an unknown ConnectDevice address */
  while (noreply_keep != NULL && noreply_keep->len > 0)
    sim_return_error (g_ptr_array_steal_index (noreply_keep, noreply_keep->len - 1),
                      NO_REPLY_NAME, NO_REPLY_MSG);
  going_down = FALSE;
}

void
sim_registry_keep_unanswered (GDBusMethodInvocation *invocation)
{
  g_ptr_array_add (noreply_keep, invocation);
}

void
sim_registry_set_call_log_hook (SimCallLogHook hook)
{
  hooks.log = hook;
}

void
sim_registry_set_call_answer_hook (SimCallAnswerHook hook)
{
  hooks.answer = hook;
}

void
sim_registry_set_call_fault_hook (SimCallFaultHook hook)
{
  hooks.fault = hook;
}

void
sim_registry_set_props_hook (SimPropsHook hook)
{
  hooks.props = hook;
}

void
sim_registry_set_objects_hook (SimObjectsHook hook)
{
  hooks.objects = hook;
}
