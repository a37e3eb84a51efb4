/* SPDX-License-Identifier: MIT */
/*
 * org.bluez.LEAdvertisingManager1 as bluetoothd 5.66 has it on the
 * reference machine (kernel 6.1 with the extended advertising management
 * commands, a controller of legacy advertising only: 31 bytes, no
 * secondary channels, 5 instances; bluetoothd run with -E, so MinInterval,
 * MaxInterval and TxPower are read): registrations, instances, timers,
 * owners, Release. How one advertisement is read and checked is
 * sim-advertisement.c. Each rule is src/advertising.c of 5.66;
 * tools/bleio-sim/README.md lists them.
 */
#include "sim-advertising.h"
#include "sim-advertisement.h"

#include <string.h>

#define ADV_IFACE "org.bluez.LEAdvertisement1"
#define MAX_INSTANCES 5

#define MSG_PARSE "Failed to parse advertisement."
#define MSG_REGISTER "Failed to register advertisement"

typedef struct {
  SimAdapter *adapter;
  char *owner;
  char *path;
  guint8 instance;
  GDBusMethodInvocation *reg; /* the RegisterAdvertisement being answered */
  GCancellable *cancellable;
  gboolean registered;
  guint owner_watch;
  guint props_sub;
  guint timeout_source;
  guint disc_source;
  SimAdvContent *content;
} Adv;

static GPtrArray *advs;       /* Adv, in registration order */

static void adv_remove (Adv      *adv,
                        gboolean  release,
                        gboolean  announce);
static void refresh    (Adv *adv);

static gboolean
timeout_expired (gpointer data)
{
  Adv *adv = data;

  adv->timeout_source = 0;
  g_debug ("advertisement %s of %s timed out", adv->path, adv->owner);
  adv_remove (adv, TRUE, TRUE);
  return G_SOURCE_REMOVE;
}

static gboolean
discoverable_expired (gpointer data)
{
  Adv *adv = data;

  adv->disc_source = 0;
  adv->content->has_flags = FALSE;
  adv->content->disc_running = FALSE;
  refresh (adv);
  return G_SOURCE_REMOVE;
}

/* The timers a parse asked for, as bluetoothd's parsers start them */
static void
apply_timers (Adv *adv)
{
  SimAdvContent *c = adv->content;

  if (c->timeout_rearm)
    {
      c->timeout_rearm = FALSE;
      g_clear_handle_id (&adv->timeout_source, g_source_remove);
      if (c->timeout > 0)
        adv->timeout_source = g_timeout_add_seconds (c->timeout, timeout_expired, adv);
    }
  if (c->disc_rearm)
    {
      c->disc_rearm = FALSE;
      g_clear_handle_id (&adv->disc_source, g_source_remove);
      if (c->disc_running)
        adv->disc_source = g_timeout_add_seconds (c->disc_timeout, discoverable_expired, adv);
    }
}

/* The air carries the adapter's first registered advertisement: with
 * several, a controller rotates them and a scanner keeps the last it
 * heard; the simulator keeps one still. */
static void
update_air (SimAdapter *adapter)
{
  for (guint i = 0; advs != NULL && i < advs->len; i++)
    {
      Adv *a = g_ptr_array_index (advs, i);

      if (a->adapter == adapter && a->registered)
        {
          sim_adv_content_put_on_air (a->content, adapter);
          return;
        }
    }
  sim_air_set_advert (adapter, NULL);
}

/* A property of a registered advertisement changed and parsed: bluetoothd
 * hands the kernel the new data; data the kernel refuses (too long) ends
 * the advertisement without a word (add_client_complete() has no message
 * to answer by then). */
static void
refresh (Adv *adv)
{
  if (!adv->registered)
    return;
  if (!sim_adv_content_fits (adv->content, adv->adapter))
    {
      g_debug ("advertisement %s no longer fits: dropped", adv->path);
      adv_remove (adv, FALSE, FALSE);
      return;
    }
  update_air (adv->adapter);
}

/* ---- instances ---- */

static guint
count (SimAdapter *adapter)
{
  guint n = 0;

  for (guint i = 0; advs != NULL && i < advs->len; i++)
    n += ((Adv *) g_ptr_array_index (advs, i))->adapter == adapter;
  return n;
}

static Adv *
find (SimAdapter *adapter,
      const char *owner,
      const char *path)
{
  for (guint i = 0; advs != NULL && i < advs->len; i++)
    {
      Adv *a = g_ptr_array_index (advs, i);

      if (a->adapter == adapter && g_str_equal (a->owner, owner) && g_str_equal (a->path, path))
        return a;
    }
  return NULL;
}

static guint8
free_instance (SimAdapter *adapter)
{
  for (guint8 n = 1; n <= MAX_INSTANCES; n++)
    {
      gboolean used = FALSE;

      for (guint i = 0; i < advs->len && !used; i++)
        {
          Adv *a = g_ptr_array_index (advs, i);

          used = a->adapter == adapter && a->instance == n;
        }
      if (!used)
        return n;
    }
  return 0;
}

static void
adv_free (Adv *adv)
{
  g_cancellable_cancel (adv->cancellable);
  g_clear_object (&adv->cancellable);
  if (adv->reg != NULL)
    sim_return_error (g_steal_pointer (&adv->reg), SIM_ERR_FAILED,
                      "Failed to complete registration");
  if (adv->owner_watch != 0)
    g_bus_unwatch_name (adv->owner_watch);
  if (adv->props_sub != 0)
    g_dbus_connection_signal_unsubscribe (sim_registry_get_connection (), adv->props_sub);
  g_clear_handle_id (&adv->timeout_source, g_source_remove);
  g_clear_handle_id (&adv->disc_source, g_source_remove);
  sim_adv_content_free (adv->content);
  g_free (adv->owner);
  g_free (adv->path);
  g_free (adv);
}

static void
send_release (Adv *adv)
{
  /* bluetoothd sends it without waiting for an answer */
  g_dbus_connection_call (sim_registry_get_connection (), adv->owner, adv->path,
                          ADV_IFACE, "Release", NULL, NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
}

static void
announce_instances (SimAdapter *adapter)
{
  /* recorded: one signal, in this order */
  sim_obj_changed (&adapter->obj, &sim_advertising_iface,
                   "SupportedInstances", "ActiveInstances", NULL);
}

/* client_remove() (announce) or client_destroy() (release): the
 * advertisement leaves the list, the air and the counts. */
static void
adv_remove (Adv      *adv,
            gboolean  release,
            gboolean  announce)
{
  SimAdapter *adapter = adv->adapter;
  gboolean was_registered = adv->registered;

  if (release)
    send_release (adv);
  g_ptr_array_remove (advs, adv);
  adv_free (adv);
  if (announce)
    announce_instances (adapter);
  if (was_registered)
    update_air (adapter);
}

static void
on_owner_vanished (GDBusConnection *conn,
                   const char      *name,
                   gpointer         user_data)
{
  Adv *adv = user_data;

  g_debug ("advertisement %s: %s left the bus", adv->path, name);
  /* a registration still being read is dropped with it; bluetoothd only
   * watches its owner once registered, but a reply to nobody is lost */
  adv_remove (adv, FALSE, adv->registered);
}

static void
on_props_changed (GDBusConnection *conn,
                  const char      *sender,
                  const char      *path,
                  const char      *interface,
                  const char      *signal,
                  GVariant        *params,
                  gpointer         user_data)
{
  Adv *adv = user_data;
  const char *iface;
  g_autoptr(GVariant) changed = NULL;
  g_autofree const char **invalidated = NULL;
  gboolean again = FALSE;
  GVariantIter iter;
  const char *name;
  GVariant *value;

  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(sa{sv}as)")))
    return;
  g_variant_get (params, "(&s@a{sv}^a&s)", &iface, &changed, &invalidated);
  if (!g_str_equal (iface, ADV_IFACE))
    return;
  /* each property as its own update, as gdbus's property watch calls
   * properties_changed() once per property */
  g_variant_iter_init (&iter, changed);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    {
      again |= sim_adv_content_parse_one (adv->content, name, value);
      g_variant_unref (value);
    }
  for (guint i = 0; invalidated[i] != NULL; i++)
    again |= sim_adv_content_parse_one (adv->content, invalidated[i], NULL);
  apply_timers (adv);
  if (again)
    refresh (adv);
}

static void
registered (Adv *adv)
{
  GDBusConnection *conn = sim_registry_get_connection ();

  adv->registered = TRUE;
  adv->props_sub = g_dbus_connection_signal_subscribe (conn, adv->owner,
                                                       "org.freedesktop.DBus.Properties",
                                                       "PropertiesChanged", adv->path,
                                                       ADV_IFACE, G_DBUS_SIGNAL_FLAGS_NONE,
                                                       on_props_changed, adv, NULL);
  /* recorded on 5.66: the counts' PropertiesChanged comes before the
   * reply */
  announce_instances (adv->adapter);
  g_dbus_method_invocation_return_value (g_steal_pointer (&adv->reg), NULL);
  update_air (adv->adapter);
}

static void
on_get_all (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);
  g_autoptr(GVariant) props = NULL;
  Adv *adv = user_data;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  /* gdbus's proxy is added even when GetAll fails: the advertisement is
   * then read with no property at all */
  if (reply != NULL)
    props = g_variant_get_child_value (reply, 0);
  else
    props = g_variant_ref_sink (g_variant_new ("a{sv}", NULL));
  if (!sim_adv_content_parse_all (adv->content, props))
    {
      sim_return_error (g_steal_pointer (&adv->reg), SIM_ERR_FAILED, MSG_PARSE);
      adv_remove (adv, FALSE, FALSE);
      return;
    }
  apply_timers (adv);
  if (!sim_adv_content_fits (adv->content, adv->adapter))
    {
      sim_return_error (g_steal_pointer (&adv->reg), SIM_ERR_FAILED, MSG_REGISTER);
      adv_remove (adv, FALSE, FALSE);
      return;
    }
  registered (adv);
}

static void
on_managed_objects (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  Adv *adv = user_data;

  /* Only whether it answered matters: bluetoothd reads the properties
   * with GetAll next either way. */
  g_clear_pointer (&reply, g_variant_unref);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_dbus_connection_call (sim_registry_get_connection (), adv->owner, adv->path,
                          "org.freedesktop.DBus.Properties", "GetAll",
                          g_variant_new ("(s)", ADV_IFACE), G_VARIANT_TYPE ("(a{sv})"),
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, adv->cancellable,
                          on_get_all, adv);
}

static void
register_advertisement (SimAdapter            *adapter,
                        GDBusMethodInvocation *invocation,
                        GVariant              *params)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  const char *path;
  Adv *adv;
  guint8 instance;

  g_variant_get (params, "(&o@a{sv})", &path, NULL);
  if (find (adapter, sender, path) != NULL)
    {
      sim_return_error (invocation, SIM_ERR_ALREADY_EXISTS, SIM_MSG_ALREADY_EXISTS);
      return;
    }
  instance = free_instance (adapter);
  if (instance == 0)
    {
      sim_return_error (invocation, SIM_ERR_NOT_PERMITTED, "Maximum advertisements reached");
      return;
    }
  adv = g_new0 (Adv, 1);
  adv->adapter = adapter;
  adv->owner = g_strdup (sender);
  adv->path = g_strdup (path);
  adv->instance = instance;
  adv->reg = invocation;
  adv->cancellable = g_cancellable_new ();
  adv->content = sim_adv_content_new ();
  g_ptr_array_add (advs, adv);
  adv->owner_watch = g_bus_watch_name_on_connection (sim_registry_get_connection (), sender,
                                                     G_BUS_NAME_WATCHER_FLAGS_NONE, NULL,
                                                     on_owner_vanished, adv, NULL);
  /* bluetoothd's gdbus client asks the owner for its objects under the
   * path first, then for the interface's properties */
  g_dbus_connection_call (sim_registry_get_connection (), sender, path,
                          "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                          NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1,
                          adv->cancellable, on_managed_objects, adv);
}

static void
manager_method (SimObj                *obj,
                GDBusMethodInvocation *invocation,
                const char            *method,
                GVariant              *params)
{
  SimAdapter *adapter = (SimAdapter *) obj;

  if (advs == NULL)
    advs = g_ptr_array_new ();
  if (g_str_equal (method, "RegisterAdvertisement"))
    register_advertisement (adapter, invocation, params);
  else if (g_str_equal (method, "UnregisterAdvertisement"))
    {
      const char *path;
      Adv *adv;

      g_variant_get (params, "(&o)", &path);
      adv = find (adapter, g_dbus_method_invocation_get_sender (invocation), path);
      if (adv == NULL)
        {
          sim_return_error (invocation, SIM_ERR_DOES_NOT_EXIST, SIM_MSG_DOES_NOT_EXIST);
          return;
        }
      /* client_remove() emits the counts, then the reply goes */
      adv_remove (adv, FALSE, TRUE);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else
    sim_return_error (invocation, SIM_ERR_NOT_SUPPORTED, SIM_MSG_NOT_SUPPORTED);
}

static GVariant *
manager_get (SimObj     *obj,
             const char *prop)
{
  SimAdapter *adapter = (SimAdapter *) obj;

  if (g_str_equal (prop, "ActiveInstances"))
    return g_variant_new_byte (count (adapter));
  if (g_str_equal (prop, "SupportedInstances"))
    return g_variant_new_byte (MAX_INSTANCES - count (adapter));
  if (g_str_equal (prop, "SupportedIncludes"))
    return g_variant_new_strv ((const char *const[]) {
      "tx-power", "appearance", "local-name" }, 3);
  /* SupportedSecondaryChannels exists only with extended advertising */
  if (g_str_equal (prop, "SupportedFeatures"))
    return g_variant_new_strv (NULL, 0);
  if (g_str_equal (prop, "SupportedCapabilities"))
    return g_variant_new_parsed ("{'MaxAdvLen': <byte 31>, 'MaxScnRspLen': <byte 31>}");
  return NULL;
}

SimIfaceDef sim_advertising_iface = {
  "org.bluez.LEAdvertisingManager1", manager_method, manager_get, NULL, NULL
};

void
sim_advertising_adapter_removing (SimAdapter *adapter)
{
  for (guint i = 0; advs != NULL && i < advs->len;)
    {
      Adv *adv = g_ptr_array_index (advs, i);

      if (adv->adapter != adapter)
        {
          i++;
          continue;
        }
      /* manager_destroy(): Release, no property signal (the interface
       * goes with the adapter) */
      if (adv->registered)
        send_release (adv);
      g_ptr_array_remove_index (advs, i);
      adv_free (adv);
    }
  sim_air_adapter_removing (adapter);
}

void
sim_advertising_adapter_changed (SimAdapter *adapter)
{
  for (guint i = 0; advs != NULL && i < advs->len;)
    {
      Adv *adv = g_ptr_array_index (advs, i);

      /* the Flags the kernel adds when discoverable take room: what no
       * longer fits is dropped, as on any refresh */
      if (adv->adapter == adapter && adv->registered
          && !sim_adv_content_fits (adv->content, adapter))
        adv_remove (adv, FALSE, FALSE);
      else
        i++;
    }
  update_air (adapter);
}

void
sim_advertising_reset (void)
{
  for (guint i = 0; advs != NULL && i < advs->len; i++)
    {
      Adv *adv = g_ptr_array_index (advs, i);

      /* a registration in progress dies with the process: its caller
       * gets dbus-daemon's NoReply */
      if (adv->reg != NULL)
        sim_registry_keep_unanswered (g_steal_pointer (&adv->reg));
      adv_free (adv);
    }
  g_clear_pointer (&advs, g_ptr_array_unref);
}
