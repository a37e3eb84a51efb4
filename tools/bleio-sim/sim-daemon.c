/* SPDX-License-Identifier: MIT */
/*
 * The daemon core: the object registry, ObjectManager at "/", the manager
 * object /org/bluez, introspection in bluetoothd's own format, property
 * signals, the org.bluez name, and restarts.
 *
 * GDBus would answer Introspect itself, adding org.freedesktop.DBus.Peer and
 * its own layout; bluetoothd's answer differs, so a connection filter takes
 * Introspect calls for BlueZ paths and answers them from the main context.
 * The same filter answers calls whose signature does not match the way
 * bluetoothd does (org.bluez.Error.InvalidArguments).
 */
#include "sim.h"

#include <string.h>

SimDaemon *sim;

static GDBusNodeInfo *bluez_node;
static GDBusNodeInfo *std_node;
static guint filter_id;
static GPtrArray *noreply_keep;  /* invocations we never answer */

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
  xml = g_resources_lookup_data ("/org/bleio/sim/org.bluez-5.66.xml",
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
  return sim != NULL && sim->objects != NULL
         ? g_hash_table_lookup (sim->objects, path) : NULL;
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

typedef struct {
  GDBusMethodInvocation *invocation;
  char *path;
  char *interface;
} Deferred;

static gboolean
deferred_cb (gpointer data)
{
  Deferred *d = data;
  SimObj *obj = sim_obj_lookup (d->path);
  const SimIfaceDef *def = obj != NULL ? find_def (obj, d->interface) : NULL;

  if (def == NULL)
    g_dbus_method_invocation_return_dbus_error (d->invocation,
                                                "org.freedesktop.DBus.Error.UnknownObject",
                                                "Method call to an object that went away");
  else
    def->method (obj, d->invocation,
                 g_dbus_method_invocation_get_method_name (d->invocation),
                 g_dbus_method_invocation_get_parameters (d->invocation));
  g_free (d->path);
  g_free (d->interface);
  g_free (d);
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
  guint delay = 0;

  sim_daemon_log_call (method, path, sender);
  if (def == NULL || def->method == NULL)
    {
      g_dbus_method_invocation_return_dbus_error (invocation,
                                                  "org.freedesktop.DBus.Error.UnknownMethod",
                                                  "Unknown method");
      return;
    }
  if (sim_hostile_intercept (invocation))
    return;
  if (sim_control_intercept (invocation, &delay))
    return;
  if (delay > 0)
    {
      Deferred *d = g_new0 (Deferred, 1);

      d->invocation = invocation;
      d->path = g_strdup (path);
      d->interface = g_strdup (interface);
      g_timeout_add (delay, deferred_cb, d);
      return;
    }
  def->method (obj, invocation, method, params);
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
  return sim_hostile_filter_props (obj->path, def->name, g_variant_builder_end (&b), TRUE);
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
  g_dbus_connection_emit_signal (sim->conn, NULL, "/",
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
  g_dbus_connection_emit_signal (sim->conn, NULL, "/",
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

  g_assert (def->info != NULL);
  reg.id = g_dbus_connection_register_object (sim->conn, obj->path, def->info,
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
  g_hash_table_insert (sim->objects, obj->path, obj);
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
        g_dbus_connection_unregister_object (sim->conn, reg->id);
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
        g_dbus_connection_unregister_object (sim->conn, reg->id);
    }
  g_array_set_size (obj->ifaces, 0);
  obj->exported = FALSE;
  reg_remove (obj->path, NULL);
  if (sim->objects != NULL && g_hash_table_lookup (sim->objects, obj->path) == obj)
    g_hash_table_remove (sim->objects, obj->path);
}

void
sim_obj_changed (SimObj            *obj,
                 const SimIfaceDef *def,
                 ...)
{
  GVariantBuilder changed, invalidated;
  va_list ap;

  if (!obj->exported || find_def (obj, def->name) == NULL)
    return;
  g_variant_builder_init (&changed, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_init (&invalidated, G_VARIANT_TYPE ("as"));
  va_start (ap, def);
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
  va_end (ap);
  g_dbus_connection_emit_signal (sim->conn, NULL, obj->path,
                                 "org.freedesktop.DBus.Properties",
                                 "PropertiesChanged",
                                 g_variant_new ("(s@a{sv}as)", def->name,
                                                sim_hostile_filter_props (obj->path, def->name,
                                                                          g_variant_builder_end (&changed),
                                                                          FALSE),
                                                &invalidated),
                                 NULL);
}

void
sim_obj_invalidated (SimObj            *obj,
                     const SimIfaceDef *def,
                     const char        *property)
{
  const char *names[] = { property, NULL };

  if (!obj->exported)
    return;
  g_dbus_connection_emit_signal (sim->conn, NULL, obj->path,
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
  body[1] = sim_hostile_filter_props (path, interface, g_variant_new_array (NULL, &entry, 1),
                                      FALSE);
  body[2] = g_variant_new_array (G_VARIANT_TYPE_STRING, NULL, 0);
  if (template == NULL || g_strcmp0 (g_dbus_message_get_path (template), path) != 0)
    {
      g_clear_object (&template);
      template = g_dbus_message_new_signal (path, "org.freedesktop.DBus.Properties",
                                            "PropertiesChanged");
    }
  message = g_dbus_message_copy (template, NULL);
  g_dbus_message_set_body (message, g_variant_new_tuple (body, 3));
  g_dbus_connection_send_message (sim->conn, message, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
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
  g_hash_table_iter_init (&iter, sim->objects);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      SimObj *o = value;

      if (o->kind == SIM_OBJ_ROOT)
        continue;
      g_variant_builder_add (&b, "{o@a{sa{sv}}}", o->path, obj_interfaces (o, NULL));
    }
  sim_hostile_add_objects (&b);
  g_dbus_method_invocation_return_value (invocation,
                                         g_variant_new ("(a{oa{sa{sv}}})", &b));
}

static SimIfaceDef root_iface = {
  "org.freedesktop.DBus.ObjectManager", root_method, NULL, NULL, NULL
};

static void
unsupported_method (SimObj                *obj,
                    GDBusMethodInvocation *invocation,
                    const char            *method,
                    GVariant              *params)
{
  sim_return_error (invocation, SIM_ERR_NOT_SUPPORTED, SIM_MSG_NOT_SUPPORTED);
}

static void
profile_method (SimObj                *obj,
                GDBusMethodInvocation *invocation,
                const char            *method,
                GVariant              *params)
{
  /* Profiles are for BR/EDR sockets, which the simulator has none of:
   * accept the registration and never call the profile. */
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static SimIfaceDef profile_iface = {
  "org.bluez.ProfileManager1", profile_method, NULL, NULL, NULL
};
static SimIfaceDef health_iface = {
  "org.bluez.HealthManager1", unsupported_method, NULL, NULL, NULL
};

static SimObj root_obj;
static SimObj manager_obj;

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
  g_hash_table_iter_init (&iter, sim->objects);
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

  if (sim != NULL && sim->objects != NULL
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

/* ---- bring-up, tear-down, restart ---- */

static void
on_name_acquired (GDBusConnection *conn,
                  const char      *name,
                  gpointer         user_data)
{
  g_debug ("owning %s", name);
}

static void
on_name_lost (GDBusConnection *conn,
              const char      *name,
              gpointer         user_data)
{
  if (conn == NULL)
    g_printerr ("bleio-sim: lost the connection to the bus\n");
  else
    g_printerr ("bleio-sim: the name %s is already taken on this bus "
                "(is bluetoothd or another bleio-sim running?)\n", name);
  sim_daemon_quit (1);
}

static void
bring_up (void)
{
  static const SimIfaceDef *root_defs[] = { &root_iface, NULL };
  static const SimIfaceDef *manager_defs[] = {
    &sim_agent_manager_iface, &profile_iface, &health_iface, NULL
  };

  sim->objects = g_hash_table_new (g_str_hash, g_str_equal);
  sim->adapters = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_adapter_free);
  sim->temporary_timeout_ms = sim->scenario->temporary_timeout_ms;

  sim_obj_init (&root_obj, SIM_OBJ_ROOT, g_strdup ("/"));
  sim_obj_export (&root_obj, root_defs, FALSE);
  sim_obj_init (&manager_obj, SIM_OBJ_MANAGER, g_strdup ("/org/bluez"));
  sim_obj_export (&manager_obj, manager_defs, FALSE);

  for (guint i = 0; i < sim->scenario->adapters->len; i++)
    {
      SimAdapterDef *def = g_ptr_array_index (sim->scenario->adapters, i);
      SimAdapter *adapter = sim_adapter_new (def);

      g_ptr_array_add (sim->adapters, adapter);
      sim_adapter_export (adapter, FALSE);
    }
  for (guint i = 0; i < sim->scenario->peripherals->len; i++)
    {
      SimPeripheral *p = g_ptr_array_index (sim->scenario->peripherals, i);
      SimAdapter *adapter = sim_adapter_find (p->adapter);

      if (adapter != NULL)
        sim_adapter_add_peripheral (adapter, p);
    }
  sim->owner_id = g_bus_own_name_on_connection (sim->conn, SIM_BLUEZ_NAME,
                                                G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                                on_name_acquired, on_name_lost,
                                                NULL, NULL);
  sim->up = TRUE;
}

static void
tear_down (void)
{
  if (!sim->up)
    return;
  sim->up = FALSE;
  going_down = TRUE;
  if (sim->owner_id != 0)
    g_bus_unown_name (sim->owner_id);
  sim->owner_id = 0;
  sim_agent_manager_reset ();
  g_clear_pointer (&sim->adapters, g_ptr_array_unref);
  sim_obj_clear (&manager_obj);
  sim_obj_clear (&root_obj);
  g_clear_pointer (&sim->objects, g_hash_table_unref);
  /* calls held by NoReplyNext or an unknown ConnectDevice address */
  while (noreply_keep != NULL && noreply_keep->len > 0)
    sim_return_error (g_ptr_array_steal_index (noreply_keep, noreply_keep->len - 1),
                      NO_REPLY_NAME, NO_REPLY_MSG);
  going_down = FALSE;
}

gboolean
sim_daemon_start (GDBusConnection *conn,
                  SimScenario     *scenario,
                  const char      *scenario_path,
                  GError         **error)
{
  SimIfaceDef *defs[] = {
    &root_iface, &profile_iface, &health_iface, &sim_adapter_iface,
    &sim_device_iface, &sim_battery_iface, &sim_service_iface, &sim_char_iface,
    &sim_desc_iface, &sim_agent_manager_iface
  };

  init_interfaces ();
  for (guint i = 0; i < G_N_ELEMENTS (defs); i++)
    defs[i]->info = sim_interface_info (defs[i]->name);
  sim->conn = g_object_ref (conn);
  sim->scenario = scenario;
  sim->scenario_path = g_strdup (scenario_path);
  noreply_keep = g_ptr_array_new_with_free_func (g_object_unref);
  filter_id = g_dbus_connection_add_filter (conn, message_filter,
                                            g_main_context_ref_thread_default (),
                                            (GDestroyNotify) g_main_context_unref);
  sim_control_export (conn);
  bring_up ();
  return TRUE;
}

void
sim_daemon_stop (void)
{
  tear_down ();
  sim_control_unexport ();
  sim_hostile_free ();
  if (filter_id != 0)
    g_dbus_connection_remove_filter (sim->conn, filter_id);
  filter_id = 0;
  g_clear_pointer (&noreply_keep, g_ptr_array_unref);
  g_clear_pointer (&sim->scenario, sim_scenario_free);
  g_clear_pointer (&sim->scenario_path, g_free);
}

void
sim_daemon_keep_unanswered (GDBusMethodInvocation *invocation)
{
  g_ptr_array_add (noreply_keep, invocation);
}

static gboolean
come_back (gpointer data)
{
  g_autoptr(GError) error = NULL;
  SimScenario *fresh = sim->scenario_path != NULL
    ? sim_scenario_load_file (sim->scenario_path, &error)
    : sim_load_embedded_demo (&error);

  if (fresh == NULL)
    {
      g_printerr ("bleio-sim: cannot reload the scenario: %s\n", error->message);
      sim_daemon_quit (1);
      return G_SOURCE_REMOVE;
    }
  sim_scenario_free (sim->scenario);
  sim->scenario = fresh;
  bring_up ();
  return G_SOURCE_REMOVE;
}

void
sim_daemon_restart (guint down_msec)
{
  tear_down ();
  g_timeout_add (MAX (down_msec, 1), come_back, NULL);
}

void
sim_daemon_quit (int status)
{
  sim->exit_status = status;
  if (sim->loop != NULL)
    g_main_loop_quit (sim->loop);
}
