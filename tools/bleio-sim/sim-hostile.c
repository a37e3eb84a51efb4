/* SPDX-License-Identifier: MIT */
/*
 * The hostile mode: a bluetoothd that breaks its own interface, so that
 * tests can check what a client does with wrong types, missing properties,
 * out-of-range values, huge arrays, unexpected object paths, signals about
 * objects nobody announced, malformed method replies and bad file
 * descriptors. Everything here is steered through
 * org.bleio.Sim1.SetHostile(kind, options) and undone by ClearHostile();
 * README.md documents each kind.
 *
 * The faults live outside the model of the simulated world: a property
 * override changes what the bus shows (GetManagedObjects, InterfacesAdded,
 * PropertiesChanged), never what the simulator itself believes, so the rest
 * of the daemon keeps behaving like bluetoothd underneath.
 */
#include "sim-hostile.h"

#include <errno.h>
#include <gio/gunixfdlist.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
  char *path;
  char *interface;
  char *name;
  GVariant *value;              /* NULL: the property is left out */
} Override;

typedef struct {
  char *path;                   /* NULL: any object */
  GVariant *body;               /* NULL: a reply with no arguments */
  guint count;
} Reply;

typedef struct {
  const char *method;           /* AcquireNotify or AcquireWrite */
  char *path;                   /* NULL: any characteristic */
  char *mode;
  guint16 mtu;
  guint size;
  guint count;
} AcquireFault;

static GPtrArray *overrides;    /* Override */
static GPtrArray *fake_paths;   /* char *, in the order they were added */
static GHashTable *fake_objects; /* path -> a{sa{sv}} */
static GHashTable *replies;     /* method -> GQueue of Reply */
static GQueue acquire_faults = G_QUEUE_INIT; /* AcquireFault */
static GArray *held_fds;        /* int: our ends of handed-out sockets */

static void
override_free (gpointer data)
{
  Override *o = data;

  g_free (o->path);
  g_free (o->interface);
  g_free (o->name);
  g_clear_pointer (&o->value, g_variant_unref);
  g_free (o);
}

static void
reply_free (gpointer data)
{
  Reply *r = data;

  g_free (r->path);
  g_clear_pointer (&r->body, g_variant_unref);
  g_free (r);
}

static void
reply_queue_free (gpointer data)
{
  g_queue_free_full (data, reply_free);
}

static void
acquire_fault_free (gpointer data)
{
  AcquireFault *a = data;

  g_free (a->path);
  g_free (a->mode);
  g_free (a);
}

static void
ensure_state (void)
{
  if (overrides != NULL)
    return;
  overrides = g_ptr_array_new_with_free_func (override_free);
  fake_paths = g_ptr_array_new_with_free_func (g_free);
  fake_objects = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                        (GDestroyNotify) g_variant_unref);
  replies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, reply_queue_free);
  held_fds = g_array_new (FALSE, FALSE, sizeof (int));
}

void
sim_hostile_reset (void)
{
  if (overrides == NULL)
    return;
  g_ptr_array_set_size (overrides, 0);
  g_hash_table_remove_all (fake_objects);
  g_ptr_array_set_size (fake_paths, 0);
  g_hash_table_remove_all (replies);
  g_queue_clear_full (&acquire_faults, acquire_fault_free);
  for (guint i = 0; i < held_fds->len; i++)
    close (g_array_index (held_fds, int, i));
  g_array_set_size (held_fds, 0);
}

/* ---- properties ---- */

static Override *
find_override (const char *path,
               const char *interface,
               const char *name)
{
  for (guint i = 0; overrides != NULL && i < overrides->len; i++)
    {
      Override *o = g_ptr_array_index (overrides, i);

      if (g_str_equal (o->path, path) && g_str_equal (o->interface, interface)
          && g_str_equal (o->name, name))
        return o;
    }
  return NULL;
}

static GVariant *
filter_props (const char *path,
              const char *interface,
              GVariant   *props,
              gboolean    add_missing)
{
  GVariantBuilder b;
  GVariantIter iter;
  const char *key;
  GVariant *value;
  gboolean any = FALSE;

  if (overrides == NULL || overrides->len == 0)
    return props;
  for (guint i = 0; i < overrides->len && !any; i++)
    {
      Override *o = g_ptr_array_index (overrides, i);

      any = g_str_equal (o->path, path) && g_str_equal (o->interface, interface);
    }
  if (!any)
    return props;

  g_variant_ref_sink (props);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  g_variant_iter_init (&iter, props);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      Override *o = find_override (path, interface, key);

      if (o == NULL)
        g_variant_builder_add (&b, "{sv}", key, value);
      else if (o->value != NULL)
        g_variant_builder_add (&b, "{sv}", key, o->value);
      g_variant_unref (value);
    }
  for (guint i = 0; add_missing && i < overrides->len; i++)
    {
      Override *o = g_ptr_array_index (overrides, i);
      g_autoptr(GVariant) have = NULL;

      if (o->value == NULL || !g_str_equal (o->path, path)
          || !g_str_equal (o->interface, interface))
        continue;
      have = g_variant_lookup_value (props, o->name, NULL);
      if (have == NULL)
        g_variant_builder_add (&b, "{sv}", o->name, o->value);
    }
  g_variant_unref (props);
  return g_variant_builder_end (&b);
}

static void
append_objects (GVariantBuilder *b)
{
  for (guint i = 0; fake_paths != NULL && i < fake_paths->len; i++)
    {
      const char *path = g_ptr_array_index (fake_paths, i);

      g_variant_builder_add (b, "{o@a{sa{sv}}}", path,
                             g_hash_table_lookup (fake_objects, path));
    }
}

/* ---- method replies ---- */

static void
send_raw_reply (GDBusMethodInvocation *invocation,
                GVariant              *body,
                GUnixFDList           *fds)
{
  GDBusMessage *call = g_dbus_method_invocation_get_message (invocation);
  g_autoptr(GDBusMessage) reply = g_dbus_message_new_method_reply (call);
  g_autoptr(GError) error = NULL;

  /* Built by hand: GDBus would refuse to send a body that does not match
   * the method's declared output. */
  if (body != NULL)
    g_dbus_message_set_body (reply, body);
  if (fds != NULL)
    g_dbus_message_set_unix_fd_list (reply, fds);
  if (!g_dbus_connection_send_message (g_dbus_method_invocation_get_connection (invocation),
                                       reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE,
                                       NULL, &error))
    g_warning ("hostile: cannot send the reply: %s", error->message);
  g_object_unref (invocation);
}

static void
hold_fd (int fd)
{
  g_array_append_val (held_fds, fd);
}

/* Answers AcquireNotify or AcquireWrite with @fault. */
static void
acquire_reply (GDBusMethodInvocation *invocation,
               AcquireFault          *fault)
{
  g_autoptr(GUnixFDList) list = g_unix_fd_list_new ();
  g_autoptr(GError) error = NULL;
  int sv[2] = { -1, -1 };
  gint32 index = 0;
  GVariant *body;

  if (g_str_equal (fault->mode, "no-fd"))
    {
      send_raw_reply (invocation, g_variant_new ("(hq)", 0, fault->mtu), NULL);
      return;
    }
  if (g_str_equal (fault->mode, "not-socket"))
    {
      g_autofree guint8 *junk = g_malloc0 (MAX (fault->size, 1));

      if (pipe (sv) < 0)
        {
          sim_return_error (invocation, SIM_ERR_FAILED, g_strerror (errno));
          return;
        }
      /* The pipe's read end goes to the client; what is written first
       * waits there, then the write end closes: end of file. */
      for (guint i = 0; i < fault->count; i++)
        if (write (sv[1], junk, fault->size) < 0)
          break;
      close (sv[1]);
      sv[1] = sv[0];
    }
  else
    {
      if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
        {
          sim_return_error (invocation, SIM_ERR_FAILED, g_strerror (errno));
          return;
        }
      if (g_str_equal (fault->mode, "closed"))
        close (sv[0]);
      else
        {
          /* "oversized": packets longer than any ATT payload, then the
           * socket stays open (until ClearHostile). */
          g_autofree guint8 *big = g_malloc (MAX (fault->size, 1));

          for (guint i = 0; i < fault->size; i++)
            big[i] = (guint8) i;
          for (guint i = 0; i < fault->count; i++)
            if (send (sv[0], big, fault->size, MSG_NOSIGNAL) < 0)
              break;
          hold_fd (sv[0]);
        }
    }
  index = g_unix_fd_list_append (list, sv[1], &error);
  close (sv[1]);
  if (index < 0)
    {
      sim_return_error (invocation, SIM_ERR_FAILED, error->message);
      return;
    }
  if (g_str_equal (fault->mode, "bad-index"))
    index = 7;
  body = g_variant_new ("(hq)", index, fault->mtu);
  send_raw_reply (invocation, body, list);
}

static gboolean
intercept (GDBusMethodInvocation *invocation)
{
  const char *method = g_dbus_method_invocation_get_method_name (invocation);
  const char *path = g_dbus_method_invocation_get_object_path (invocation);
  GQueue *q;

  if (overrides == NULL)
    return FALSE;
  if (g_str_equal (method, "AcquireNotify") || g_str_equal (method, "AcquireWrite"))
    for (GList *l = acquire_faults.head; l != NULL; l = l->next)
      {
        AcquireFault *a = l->data;

        if (!g_str_equal (a->method, method) || (a->path != NULL && !g_str_equal (a->path, path)))
          continue;
        /* each fault answers one call */
        g_queue_delete_link (&acquire_faults, l);
        acquire_reply (invocation, a);
        acquire_fault_free (a);
        return TRUE;
      }
  q = g_hash_table_lookup (replies, method);
  for (GList *l = q != NULL ? q->head : NULL; l != NULL; l = l->next)
    {
      Reply *r = l->data;

      if (r->path != NULL && !g_str_equal (r->path, path))
        continue;
      send_raw_reply (invocation, r->body != NULL ? g_variant_ref (r->body) : NULL, NULL);
      if (--r->count == 0)
        {
          g_queue_delete_link (q, l);
          reply_free (r);
        }
      return TRUE;
    }
  return FALSE;
}

/* ---- control ---- */

static gboolean
opt_string (GVariant    *options,
            const char  *key,
            gboolean     required,
            char       **out,
            GError     **error)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (options, key, NULL);

  *out = NULL;
  if (v == NULL)
    {
      if (required)
        g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                     "option '%s' is required", key);
      return !required;
    }
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_STRING)
      && !g_variant_is_of_type (v, G_VARIANT_TYPE_OBJECT_PATH))
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "option '%s' must be a string or an object path", key);
      return FALSE;
    }
  *out = g_variant_dup_string (v, NULL);
  return TRUE;
}

static guint
opt_uint (GVariant   *options,
          const char *key,
          guint       fallback)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (options, key, NULL);

  if (v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
    return g_variant_get_uint32 (v);
  if (v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT16))
    return g_variant_get_uint16 (v);
  return fallback;
}

static gboolean
opt_bool (GVariant   *options,
          const char *key,
          gboolean    fallback)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (options, key, G_VARIANT_TYPE_BOOLEAN);

  return v != NULL ? g_variant_get_boolean (v) : fallback;
}

static void
emit_raw (const char *path,
          const char *interface,
          const char *member,
          GVariant   *args)
{
  g_autoptr(GError) error = NULL;

  if (!g_dbus_connection_emit_signal (sim_registry_get_connection (), NULL, path, interface, member,
                                      args, &error))
    g_warning ("hostile: cannot emit %s.%s on %s: %s", interface, member, path,
               error->message);
}

static gboolean
set_property (GVariant  *options,
              gboolean   hide,
              GError   **error)
{
  g_autofree char *path = NULL;
  g_autofree char *interface = NULL;
  g_autofree char *name = NULL;
  g_autoptr(GVariant) value = NULL;
  Override *o;

  if (!opt_string (options, "path", TRUE, &path, error)
      || !opt_string (options, "interface", TRUE, &interface, error)
      || !opt_string (options, "name", TRUE, &name, error))
    return FALSE;
  if (!g_variant_is_object_path (path))
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "'%s' is not an object path", path);
      return FALSE;
    }
  if (!hide)
    {
      g_autoptr(GVariant) boxed = g_variant_lookup_value (options, "value", G_VARIANT_TYPE_VARIANT);

      if (boxed == NULL)
        {
          g_set_error_literal (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                               "option 'value' (a variant) is required");
          return FALSE;
        }
      value = g_variant_get_variant (boxed);
    }
  o = find_override (path, interface, name);
  if (o == NULL)
    {
      o = g_new0 (Override, 1);
      o->path = g_strdup (path);
      o->interface = g_strdup (interface);
      o->name = g_strdup (name);
      g_ptr_array_add (overrides, o);
    }
  g_clear_pointer (&o->value, g_variant_unref);
  o->value = value != NULL ? g_variant_ref (value) : NULL;

  if (opt_bool (options, "emit", !hide))
    {
      GVariantBuilder changed, invalidated;

      g_variant_builder_init (&changed, G_VARIANT_TYPE ("a{sv}"));
      g_variant_builder_init (&invalidated, G_VARIANT_TYPE ("as"));
      if (value != NULL)
        g_variant_builder_add (&changed, "{sv}", name, value);
      else
        g_variant_builder_add (&invalidated, "s", name);
      emit_raw (path, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                g_variant_new ("(sa{sv}as)", interface, &changed, &invalidated));
    }
  return TRUE;
}

static gboolean
add_objects (GVariant  *options,
             GError   **error)
{
  g_autoptr(GVariant) objects = g_variant_lookup_value (options, "objects",
                                                        G_VARIANT_TYPE ("a{oa{sa{sv}}}"));
  gboolean announce = opt_bool (options, "announce", TRUE);
  GVariantIter iter;
  const char *path;
  GVariant *interfaces;

  if (objects == NULL)
    {
      g_set_error_literal (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                           "option 'objects' (a{oa{sa{sv}}}) is required");
      return FALSE;
    }
  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, &interfaces))
    {
      gpointer key = NULL;

      /* the table's keys are the strings fake_paths owns */
      if (!g_hash_table_lookup_extended (fake_objects, path, &key, NULL))
        {
          key = g_strdup (path);
          g_ptr_array_add (fake_paths, key);
        }
      g_hash_table_insert (fake_objects, key, g_variant_ref (interfaces));
      if (announce)
        emit_raw ("/", "org.freedesktop.DBus.ObjectManager", "InterfacesAdded",
                  g_variant_new ("(o@a{sa{sv}})", path, interfaces));
      g_variant_unref (interfaces);
    }
  return TRUE;
}

static gboolean
emit_signal (GVariant  *options,
             GError   **error)
{
  g_autofree char *path = NULL;
  g_autofree char *interface = NULL;
  g_autofree char *member = NULL;
  g_autoptr(GVariant) args = g_variant_lookup_value (options, "args", NULL);
  g_autoptr(GVariant) inner = NULL;
  g_autoptr(GError) local = NULL;

  if (!opt_string (options, "path", TRUE, &path, error)
      || !opt_string (options, "interface", TRUE, &interface, error)
      || !opt_string (options, "member", TRUE, &member, error))
    return FALSE;
  if (args != NULL && g_variant_is_of_type (args, G_VARIANT_TYPE_VARIANT))
    inner = g_variant_get_variant (args);
  else if (args != NULL)
    inner = g_variant_ref (args);
  if (inner != NULL && !g_variant_is_of_type (inner, G_VARIANT_TYPE_TUPLE))
    {
      g_set_error_literal (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                           "option 'args' must be a tuple");
      return FALSE;
    }
  if (!g_variant_is_object_path (path) || !g_dbus_is_interface_name (interface)
      || !g_dbus_is_member_name (member))
    {
      g_set_error_literal (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                           "bad path, interface or member name");
      return FALSE;
    }
  if (!g_dbus_connection_emit_signal (sim_registry_get_connection (), NULL, path, interface, member,
                                      inner, &local))
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "cannot emit: %s", local->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
add_reply (GVariant  *options,
           GError   **error)
{
  g_autofree char *method = NULL;
  g_autoptr(GVariant) body = g_variant_lookup_value (options, "body", NULL);
  Reply *r;
  GQueue *q;

  if (!opt_string (options, "method", TRUE, &method, error))
    return FALSE;
  if (body != NULL && g_variant_is_of_type (body, G_VARIANT_TYPE_VARIANT))
    {
      GVariant *inner = g_variant_get_variant (body);

      g_variant_unref (body);
      body = inner;
    }
  if (body != NULL && !g_variant_is_of_type (body, G_VARIANT_TYPE_TUPLE))
    {
      g_set_error_literal (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                           "option 'body' must be a tuple");
      return FALSE;
    }
  r = g_new0 (Reply, 1);
  if (!opt_string (options, "path", FALSE, &r->path, error))
    {
      reply_free (r);
      return FALSE;
    }
  r->body = g_steal_pointer (&body);
  r->count = MAX (opt_uint (options, "count", 1), 1);
  q = g_hash_table_lookup (replies, method);
  if (q == NULL)
    {
      q = g_queue_new ();
      g_hash_table_insert (replies, g_strdup (method), q);
    }
  g_queue_push_tail (q, r);
  return TRUE;
}

static gboolean
add_acquire_fault (GVariant    *options,
                   const char  *method,
                   GError     **error)
{
  static const char *const modes[] = {
    "no-fd", "bad-index", "not-socket", "closed", "oversized", NULL
  };
  AcquireFault *a = g_new0 (AcquireFault, 1);

  a->method = method;

  if (!opt_string (options, "mode", TRUE, &a->mode, error)
      || !opt_string (options, "path", FALSE, &a->path, error))
    {
      acquire_fault_free (a);
      return FALSE;
    }
  if (!g_strv_contains (modes, a->mode))
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "unknown acquire-notify mode '%s'", a->mode);
      acquire_fault_free (a);
      return FALSE;
    }
  a->mtu = (guint16) MIN (opt_uint (options, "mtu", 23), 65535);
  a->size = MIN (opt_uint (options, "size", 600), 65536);
  a->count = MIN (opt_uint (options, "packets", 3), 1000);
  g_queue_push_tail (&acquire_faults, a);
  return TRUE;
}

void
sim_hostile_control (GDBusMethodInvocation *invocation,
                     const char            *method,
                     GVariant              *params)
{
  g_autoptr(GError) error = NULL;
  const char *kind = NULL;
  g_autoptr(GVariant) options = NULL;
  gboolean ok;

  ensure_state ();
  if (g_str_equal (method, "ClearHostile"))
    {
      sim_hostile_reset ();
      g_dbus_method_invocation_return_value (invocation, NULL);
      return;
    }
  g_variant_get (params, "(&s@a{sv})", &kind, &options);
  if (g_str_equal (kind, "property"))
    ok = set_property (options, FALSE, &error);
  else if (g_str_equal (kind, "hide-property"))
    ok = set_property (options, TRUE, &error);
  else if (g_str_equal (kind, "objects"))
    ok = add_objects (options, &error);
  else if (g_str_equal (kind, "signal"))
    ok = emit_signal (options, &error);
  else if (g_str_equal (kind, "reply"))
    ok = add_reply (options, &error);
  else if (g_str_equal (kind, "acquire-notify"))
    ok = add_acquire_fault (options, "AcquireNotify", &error);
  else if (g_str_equal (kind, "acquire-write"))
    ok = add_acquire_fault (options, "AcquireWrite", &error);
  else
    {
      g_set_error (&error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "unknown hostile kind '%s' (property, hide-property, objects, "
                   "signal, reply, acquire-notify, acquire-write)", kind);
      ok = FALSE;
    }
  if (ok)
    g_dbus_method_invocation_return_value (invocation, NULL);
  else
    g_dbus_method_invocation_return_gerror (invocation, error);
}

void
sim_hostile_free (void)
{
  sim_hostile_reset ();
  g_clear_pointer (&overrides, g_ptr_array_unref);
  g_clear_pointer (&fake_objects, g_hash_table_unref);
  g_clear_pointer (&fake_paths, g_ptr_array_unref);
  g_clear_pointer (&replies, g_hash_table_unref);
  g_clear_pointer (&held_fds, g_array_unref);
}

void
sim_hostile_install (void)
{
  sim_registry_set_call_answer_hook (intercept);
  sim_registry_set_props_hook (filter_props);
  sim_registry_set_objects_hook (append_objects);
}
