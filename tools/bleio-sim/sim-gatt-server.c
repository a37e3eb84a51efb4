/* SPDX-License-Identifier: MIT */
/*
 * GattManager1 and each adapter's local GATT database. Every rule here is
 * bluetoothd 5.66's (src/gatt-database.c, src/shared/gatt-db.c,
 * gdbus/client.c, lib/uuid.c); the function named in a comment is where
 * it was read.
 */
#include "sim-gatt-server.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SERVICE_IFACE "org.bluez.GattService1"
#define CHAR_IFACE "org.bluez.GattCharacteristic1"
#define DESC_IFACE "org.bluez.GattDescriptor1"
#define PROFILE_IFACE "org.bluez.GattProfile1"

/* bluetoothd's own services take the first handles of every adapter's
 * database: GAP 1-7, GATT 8-17 and Device Information 18-20
 * (register_core_services(); DeviceID defaults to 0002:1d6b:0246, so
 * the last is always there), then the audio plugins' servers: Volume
 * Control 21-29 (src/shared/vcp.c) and Generic Media Control 30-60, which
 * stays inactive (src/shared/mcp.c). The reference capture agrees: the
 * first service of example-gatt-server got handle 0x003d. */
#define CORE_HANDLES 60

/* ---- building blocks ---- */

static void
attr_clear (SimLocalAttr *a)
{
  /* peers may still hold it: they find the application gone */
  if (a->served != NULL)
    g_clear_pointer (&a->served->owner, g_free);
  g_clear_pointer (&a->served, sim_served_unref);
  g_free (a->path);
  g_clear_pointer (&a->props, g_variant_unref);
  g_free (a->uuid);
}

static void
local_desc_free (gpointer data)
{
  SimLocalDesc *d = data;

  attr_clear (&d->attr);
  g_free (d->chr_path);
  g_free (d);
}

static void
local_char_free (gpointer data)
{
  SimLocalChar *c = data;

  g_clear_handle_id (&c->notify_watch, g_source_remove);
  if (c->notify_fd >= 0)
    close (c->notify_fd);
  g_clear_handle_id (&c->write_watch, g_source_remove);
  if (c->write_fd >= 0)
    close (c->write_fd);
  /* their free function answers the peers still waiting */
  g_clear_pointer (&c->pending_writes, g_ptr_array_unref);
  attr_clear (&c->attr);
  g_ptr_array_unref (c->descs);
  g_free (c);
}

static void
local_service_free (gpointer data)
{
  SimLocalService *s = data;

  attr_clear (&s->attr);
  g_ptr_array_unref (s->includes);
  g_array_unref (s->include_handles);
  g_ptr_array_unref (s->include_uuids);
  g_ptr_array_unref (s->chars);
  g_ptr_array_unref (s->descs);
  g_free (s);
}

static void
attr_init (SimLocalAttr *a,
           SimLocalKind      kind,
           SimGattApp   *app,
           const char   *path,
           const char   *iface,
           GVariant     *props)
{
  a->kind = kind;
  a->app = app;
  a->path = g_strdup (path);
  a->iface = iface;
  a->props = g_variant_ref (props);
}

/* bt_string_to_uuid() of lib/uuid.c, to a lower-case 128-bit string:
 * 4 or 6 characters are a hex 16-bit number (strtol, so "0x" and a tail
 * after '-' pass), 8 or 10 a 32-bit one, 36 with dashes a 128-bit one. */
static char *
parse_uuid_text (const char *s)
{
  gsize len = strlen (s);
  char *end = NULL;

  if (len == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-')
    {
      unsigned int d0, d4;
      unsigned short d1, d2, d3, d5;

      if (sscanf (s, "%08x-%04hx-%04hx-%04hx-%08x%04hx", &d0, &d1, &d2, &d3, &d4, &d5) != 6)
        return NULL;
      return g_strdup_printf ("%08x-%04x-%04x-%04x-%08x%04x", d0, d1, d2, d3, d4, d5);
    }
  if (len == 8 || len == 10)
    {
      guint64 v = g_ascii_strtoull (s, &end, 16);

      if (end == NULL || *end != '\0')
        return NULL;
      return g_strdup_printf ("%08x" SIM_BASE_UUID_TAIL, (guint32) v);
    }
  if (len == 4 || len == 6)
    {
      gint64 v = g_ascii_strtoll (s, &end, 16);

      if (end == NULL || (*end != '\0' && *end != '-'))
        return NULL;
      return g_strdup_printf ("%08x" SIM_BASE_UUID_TAIL, (guint16) v);
    }
  return NULL;
}

/* parse_uuid(): a string that is a UUID, and neither GAP nor GATT, which
 * bluetoothd serves itself (for characteristics and descriptors too). */
static gboolean
take_uuid (SimLocalAttr *a)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (a->props, "UUID", NULL);

  if (v == NULL || !g_variant_is_of_type (v, G_VARIANT_TYPE_STRING))
    return FALSE;
  a->uuid = parse_uuid_text (g_variant_get_string (v, NULL));
  if (a->uuid == NULL)
    return FALSE;
  if (g_str_equal (a->uuid, "00001800" SIM_BASE_UUID_TAIL)
      || g_str_equal (a->uuid, "00001801" SIM_BASE_UUID_TAIL))
    {
      g_debug ("GattManager1: %s: GAP and GATT are bluetoothd's own", a->path);
      return FALSE;
    }
  return TRUE;
}

/* parse_handle(): optional, a uint16 when present; 0 means "give one". */
static gboolean
take_handle (SimLocalAttr *a,
             guint16      *handle,
             gboolean     *present)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (a->props, "Handle", NULL);

  *handle = 0;
  *present = v != NULL;
  if (v == NULL)
    return TRUE;
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_UINT16))
    return FALSE;
  *handle = g_variant_get_uint16 (v);
  return TRUE;
}

static const char *
path_prop (SimLocalAttr *a,
           const char   *name)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (a->props, name, NULL);

  /* the a{sv} holds the value, which outlives this reference */
  if (v == NULL || !g_variant_is_of_type (v, G_VARIANT_TYPE_OBJECT_PATH))
    return NULL;
  return g_variant_get_string (v, NULL);
}

/* ---- flags (parse_chrc_flags(), parse_desc_flags()) ---- */

typedef struct {
  const char *name;
  guint32 bits;
  guint8 ext;                 /* Extended Properties bits */
} FlagDef;

static const FlagDef char_flags[] = {
  { "broadcast", SIM_CHR_BROADCAST, 0 },
  { "read", SIM_CHR_READ, 0 },
  { "write-without-response", SIM_CHR_WRITE_WITHOUT_RESPONSE, 0 },
  { "write", SIM_CHR_WRITE, 0 },
  { "notify", SIM_CHR_NOTIFY, 0 },
  { "indicate", SIM_CHR_INDICATE, 0 },
  { "authenticated-signed-writes", SIM_CHR_AUTHENTICATED_SIGNED_WRITES, 0 },
  { "extended-properties", SIM_CHR_EXTENDED_PROPERTIES, 0 },
  { "reliable-write", SIM_CHR_RELIABLE_WRITE, 1 },
  { "writable-auxiliaries", SIM_CHR_WRITABLE_AUXILIARIES, 2 },
  { "encrypt-read", SIM_CHR_READ | SIM_CHR_ENCRYPT_READ, 0 },
  { "encrypt-write", SIM_CHR_WRITE | SIM_CHR_ENCRYPT_WRITE, 0 },
  { "encrypt-authenticated-read", SIM_CHR_READ | SIM_CHR_ENCRYPT_AUTHENTICATED_READ, 0 },
  { "encrypt-authenticated-write", SIM_CHR_WRITE | SIM_CHR_ENCRYPT_AUTHENTICATED_WRITE, 0 },
  { "secure-read", SIM_CHR_READ | SIM_CHR_SECURE_READ, 0 },
  { "secure-write", SIM_CHR_WRITE | SIM_CHR_SECURE_WRITE, 0 },
  { "authorize", SIM_CHR_AUTHORIZE, 0 },
  { "encrypt-notify", SIM_CHR_NOTIFY | SIM_CHR_ENCRYPT_NOTIFY, 0 },
  { "encrypt-authenticated-notify",
    SIM_CHR_NOTIFY | SIM_CHR_ENCRYPT_AUTHENTICATED_NOTIFY, 0 },
  { "secure-notify", SIM_CHR_NOTIFY | SIM_CHR_SECURE_NOTIFY, 0 },
  { "encrypt-indicate", SIM_CHR_INDICATE | SIM_CHR_ENCRYPT_NOTIFY, 0 },
  { "encrypt-authenticated-indicate",
    SIM_CHR_INDICATE | SIM_CHR_ENCRYPT_AUTHENTICATED_NOTIFY, 0 },
  { "secure-indicate", SIM_CHR_INDICATE | SIM_CHR_SECURE_NOTIFY, 0 },
  { NULL, 0, 0 }
};

static const FlagDef desc_flags[] = {
  { "read", SIM_CHR_READ, 0 },
  { "write", SIM_CHR_WRITE, 0 },
  { "encrypt-read", SIM_CHR_READ | SIM_CHR_ENCRYPT_READ, 0 },
  { "encrypt-write", SIM_CHR_WRITE | SIM_CHR_ENCRYPT_WRITE, 0 },
  { "encrypt-authenticated-read", SIM_CHR_READ | SIM_CHR_ENCRYPT_AUTHENTICATED_READ, 0 },
  { "encrypt-authenticated-write", SIM_CHR_WRITE | SIM_CHR_ENCRYPT_AUTHENTICATED_WRITE, 0 },
  { "secure-read", SIM_CHR_READ | SIM_CHR_SECURE_READ, 0 },
  { "secure-write", SIM_CHR_WRITE | SIM_CHR_SECURE_WRITE, 0 },
  { "authorize", SIM_CHR_AUTHORIZE, 0 },
  { NULL, 0, 0 }
};

/* An array of strings, each one known. bluetoothd reads the first
 * element before looking at the array's length, so an empty Flags is
 * refused like an unknown flag. */
static gboolean
take_flags (SimLocalAttr  *a,
            const FlagDef *table,
            guint8        *ext)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (a->props, "Flags", NULL);
  gsize n;

  *ext = 0;
  if (v == NULL || !g_variant_is_of_type (v, G_VARIANT_TYPE_STRING_ARRAY))
    return FALSE;
  n = g_variant_n_children (v);
  if (n == 0)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    {
      const char *name;
      const FlagDef *f;

      g_variant_get_child (v, i, "&s", &name);
      for (f = table; f->name != NULL && !g_str_equal (f->name, name); f++)
        ;
      if (f->name == NULL)
        {
          g_debug ("GattManager1: %s: invalid flag %s", a->path, name);
          return FALSE;
        }
      a->flags |= f->bits;
      *ext |= f->ext;
    }
  if (*ext != 0)
    a->flags |= SIM_CHR_EXTENDED_PROPERTIES;
  return TRUE;
}

/* ---- the objects of an application (client_ready_cb()) ---- */

typedef struct {
  const char *path;
  const char *iface;
  GVariant *props;
} Proxy;

static SimLocalService *
find_service (SimGattApp *app,
              const char *path)
{
  for (guint i = 0; path != NULL && i < app->services->len; i++)
    {
      SimLocalService *s = g_ptr_array_index (app->services, i);

      if (g_str_equal (s->attr.path, path))
        return s;
    }
  return NULL;
}

static SimLocalService *
find_service_by_char (SimGattApp  *app,
                      const char  *chr_path,
                      SimLocalChar  **chr)
{
  for (guint i = 0; chr_path != NULL && i < app->services->len; i++)
    {
      SimLocalService *s = g_ptr_array_index (app->services, i);

      for (guint j = 0; j < s->chars->len; j++)
        {
          SimLocalChar *c = g_ptr_array_index (s->chars, j);

          if (g_str_equal (c->attr.path, chr_path))
            {
              *chr = c;
              return s;
            }
        }
    }
  return NULL;
}

/* register_profile(): a GattProfile1 needs a non-empty UUIDs. */
static gboolean
create_profile (SimGattApp *app,
                Proxy      *p)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (p->props, "UUIDs", NULL);

  if (v == NULL || !g_variant_is_of_type (v, G_VARIANT_TYPE_STRING_ARRAY)
      || g_variant_n_children (v) == 0)
    return FALSE;
  app->profiles++;
  return TRUE;
}

/* create_service(): one declaration attribute. */
static gboolean
create_service (SimGattApp *app,
                Proxy      *p)
{
  SimLocalService *s = g_new0 (SimLocalService, 1);

  attr_init (&s->attr, SIM_LOCAL_SERVICE, app, p->path, SERVICE_IFACE, p->props);
  s->count = 1;
  s->includes = g_ptr_array_new_with_free_func (g_free);
  s->include_handles = g_array_new (FALSE, FALSE, sizeof (guint16));
  s->include_uuids = g_ptr_array_new_with_free_func (g_free);
  s->chars = g_ptr_array_new_with_free_func (local_char_free);
  s->descs = g_ptr_array_new_with_free_func (local_desc_free);
  g_ptr_array_add (app->services, s);
  return TRUE;
}

/* chrc_create(): its Service among the application's services, known
 * flags; declaration and value, a CCC for notify or indicate, an
 * Extended Properties descriptor for reliable-write or
 * writable-auxiliaries. */
static gboolean
create_char (SimGattApp *app,
             Proxy      *p)
{
  SimLocalAttr probe = { .props = p->props };
  SimLocalService *s = find_service (app, path_prop (&probe, "Service"));
  SimLocalChar *c;

  if (s == NULL)
    {
      g_debug ("GattManager1: no service for characteristic %s", p->path);
      return FALSE;
    }
  c = g_new0 (SimLocalChar, 1);
  attr_init (&c->attr, SIM_LOCAL_CHAR, app, p->path, CHAR_IFACE, p->props);
  c->service = s;
  c->descs = g_ptr_array_new ();
  c->notify_fd = -1;
  c->write_fd = -1;
  if (!take_flags (&c->attr, char_flags, &c->ext_props))
    {
      local_char_free (c);
      return FALSE;
    }
  s->count += 2;
  if (c->attr.flags & (SIM_CHR_NOTIFY | SIM_CHR_INDICATE))
    s->count++;
  if (c->ext_props != 0)
    s->count++;
  g_ptr_array_add (s->chars, c);
  return TRUE;
}

/* desc_create(): its Characteristic in one of the services, known flags. */
static gboolean
create_desc (SimGattApp *app,
             Proxy      *p)
{
  SimLocalAttr probe = { .props = p->props };
  const char *chr_path = path_prop (&probe, "Characteristic");
  SimLocalChar *chr = NULL;
  SimLocalService *s = find_service_by_char (app, chr_path, &chr);
  SimLocalDesc *d;
  guint8 ext;

  if (s == NULL)
    {
      g_debug ("GattManager1: no characteristic for descriptor %s", p->path);
      return FALSE;
    }
  d = g_new0 (SimLocalDesc, 1);
  attr_init (&d->attr, SIM_LOCAL_DESC, app, p->path, DESC_IFACE, p->props);
  d->chr_path = g_strdup (chr_path);
  if (!take_flags (&d->attr, desc_flags, &ext))
    {
      local_desc_free (d);
      return FALSE;
    }
  s->count++;
  g_ptr_array_add (s->descs, d);
  return TRUE;
}

/* ---- handles (gatt_db_insert_service() and friends) ---- */

static gboolean
ranges_overlap (guint32 a,
                guint32 a_end,
                guint32 b,
                guint32 b_end)
{
  return a <= b_end && b <= a_end;
}

static gboolean
insert_service (SimGattDatabase *db,
                SimLocalService    *s,
                guint16          requested)
{
  guint32 start = requested != 0 ? requested : db->next_handle;
  guint32 end = start + s->count - 1;

  if (end > G_MAXUINT16 || ranges_overlap (start, end, 1, CORE_HANDLES))
    return FALSE;
  for (guint i = 0; i < db->apps->len; i++)
    {
      SimGattApp *app = g_ptr_array_index (db->apps, i);

      for (guint j = 0; j < app->services->len; j++)
        {
          SimLocalService *o = g_ptr_array_index (app->services, j);

          if (o != s && o->inserted
              && ranges_overlap (start, end, o->attr.handle,
                                 (guint32) o->attr.handle + o->count - 1))
            return FALSE;
        }
    }
  s->attr.handle = (guint16) start;
  s->inserted = TRUE;
  s->used = 1;
  s->last = (guint16) start;
  db->next_handle = MAX (db->next_handle, end + 1);
  return TRUE;
}

/* One more attribute (@pair: a declaration and its value) in @s, at
 * @requested or after the last one; returns its handle or 0. */
static guint16
place (SimLocalService *s,
       guint16       requested,
       gboolean      pair)
{
  guint16 handle;

  if (s->used + (pair ? 2 : 1) > s->count)
    return 0;
  if (requested != 0 && (requested <= s->attr.handle || (pair && requested == G_MAXUINT16)))
    return 0;
  handle = requested != 0 ? requested : (guint16) (s->last + (pair ? 2 : 1));
  s->used += pair ? 2 : 1;
  s->last = handle;
  return handle;
}

/* write_handle(): an object that shows a Handle of 0 is told the one it
 * got, with Properties.Set, whose answer bluetoothd does not wait for. */
static void
write_handle (SimLocalAttr *a,
              gboolean      present,
              guint16       requested)
{
  if (!present || requested != 0)
    return;
  g_dbus_connection_call (sim_registry_get_connection (), a->app->owner, a->path,
                          "org.freedesktop.DBus.Properties", "Set",
                          g_variant_new ("(ssv)", a->iface, "Handle",
                                         g_variant_new_uint16 (a->handle)),
                          NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
}

static void
serve (SimLocalAttr *a)
{
  SimServed *served = g_new0 (SimServed, 1);

  served->ref_count = 1;
  served->adapter = g_strdup (a->app->db->adapter->name);
  served->owner = g_strdup (a->app->owner);
  served->path = g_strdup (a->path);
  served->iface = a->iface;
  if (a->kind == SIM_LOCAL_CHAR)
    {
      g_autoptr(GVariant) n = g_variant_lookup_value (a->props, "NotifyAcquired", NULL);
      g_autoptr(GVariant) w = g_variant_lookup_value (a->props, "WriteAcquired", NULL);

      /* bluetoothd only asks whether the property is there */
      served->notify_acquired = n != NULL;
      served->write_acquired = w != NULL;
    }
  a->served = served;
}

static gboolean
add_desc (SimLocalService *s,
          SimLocalChar    *c,
          SimLocalDesc    *d)
{
  guint16 requested;
  gboolean present;

  if (!take_handle (&d->attr, &requested, &present) || !take_uuid (&d->attr))
    return FALSE;
  d->attr.handle = place (s, requested, FALSE);
  if (d->attr.handle == 0)
    return FALSE;
  d->placed = TRUE;
  d->chr = c;
  serve (&d->attr);
  g_ptr_array_add (c->descs, d);
  write_handle (&d->attr, present, requested);
  return TRUE;
}

/* database_add_chrc(): value, CCC, CEP, then its descriptors in the
 * order they were created. */
static gboolean
add_char (SimLocalService *s,
          SimLocalChar    *c)
{
  guint16 requested;
  gboolean present;

  if (!take_handle (&c->attr, &requested, &present) || !take_uuid (&c->attr))
    return FALSE;
  c->attr.handle = place (s, requested, TRUE);
  if (c->attr.handle == 0)
    return FALSE;
  if ((c->attr.flags & (SIM_CHR_NOTIFY | SIM_CHR_INDICATE))
      && (c->ccc = place (s, 0, FALSE)) == 0)
    return FALSE;
  if (c->ext_props != 0 && (c->cep = place (s, 0, FALSE)) == 0)
    return FALSE;
  serve (&c->attr);
  write_handle (&c->attr, present, requested);
  for (guint i = 0; i < s->descs->len; i++)
    {
      SimLocalDesc *d = g_ptr_array_index (s->descs, i);

      if (!d->placed && g_str_equal (d->chr_path, c->attr.path) && !add_desc (s, c, d))
        return FALSE;
    }
  return TRUE;
}

/* database_add_service(): UUID, Primary, Includes, Handle, the range,
 * the includes of services placed before it, the characteristics. */
static gboolean
add_service (SimGattApp   *app,
             SimLocalService *s)
{
  g_autoptr(GVariant) primary = NULL;
  g_autoptr(GVariant) includes = NULL;
  guint16 requested;
  gboolean present;

  if (!take_uuid (&s->attr))
    return FALSE;
  primary = g_variant_lookup_value (s->attr.props, "Primary", NULL);
  if (primary == NULL || !g_variant_is_of_type (primary, G_VARIANT_TYPE_BOOLEAN))
    return FALSE;
  s->primary = g_variant_get_boolean (primary);
  includes = g_variant_lookup_value (s->attr.props, "Includes", NULL);
  if (includes != NULL)
    {
      if (!g_variant_is_of_type (includes, G_VARIANT_TYPE_ARRAY))
        return FALSE;
      for (gsize i = 0; i < g_variant_n_children (includes); i++)
        {
          g_autoptr(GVariant) item = g_variant_get_child_value (includes, i);

          if (!g_variant_is_of_type (item, G_VARIANT_TYPE_OBJECT_PATH))
            return FALSE;
          g_ptr_array_add (s->includes, g_variant_dup_string (item, NULL));
          s->count++;
        }
    }
  if (!take_handle (&s->attr, &requested, &present) || !insert_service (app->db, s, requested))
    return FALSE;
  write_handle (&s->attr, present, requested);
  for (guint i = 0; i < s->includes->len; i++)
    {
      SimLocalService *inc = find_service (app, g_ptr_array_index (s->includes, i));
      guint16 h;

      /* include_services(): one not in the database yet is skipped */
      if (inc != NULL && inc->inserted && (h = place (s, 0, FALSE)) != 0)
        {
          g_array_append_val (s->include_handles, h);
          g_ptr_array_add (s->include_uuids, g_strdup (inc->attr.uuid));
        }
    }
  for (guint i = 0; i < s->chars->len; i++)
    if (!add_char (s, g_ptr_array_index (s->chars, i)))
      return FALSE;
  for (guint i = 0; i < s->descs->len; i++)
    if (!((SimLocalDesc *) g_ptr_array_index (s->descs, i))->placed)
      return FALSE;
  return TRUE;
}

/* ---- applications ---- */

static void
app_free (SimGattApp *app)
{
  if (app->cancel != NULL)
    {
      g_cancellable_cancel (app->cancel);
      g_object_unref (app->cancel);
    }
  if (app->owner_watch != 0)
    g_bus_unwatch_name (app->owner_watch);
  if (app->removed_sub != 0)
    g_dbus_connection_signal_unsubscribe (sim_registry_get_connection (), app->removed_sub);
  if (app->changed_sub != 0)
    g_dbus_connection_signal_unsubscribe (sim_registry_get_connection (), app->changed_sub);
  /* bluetoothd frees a registration it did not answer without a reply */
  if (app->reg != NULL)
    sim_registry_keep_unanswered (app->reg);
  g_ptr_array_unref (app->services);
  g_free (app->owner);
  g_free (app->path);
  g_free (app);
}

static void
app_remove (SimGattApp *app)
{
  g_debug ("GattManager1: application %s%s goes", app->owner, app->path);
  g_ptr_array_remove (app->db->apps, app);
  app_free (app);
}

static SimGattApp *
find_app (SimGattDatabase *db,
          const char      *owner,
          const char      *path)
{
  for (guint i = 0; i < db->apps->len; i++)
    {
      SimGattApp *app = g_ptr_array_index (db->apps, i);

      if (g_str_equal (app->owner, owner) && g_str_equal (app->path, path))
        return app;
    }
  return NULL;
}

static SimGattApp *
find_app_anywhere (const char *owner,
                   const char *path)
{
  for (guint i = 0; sim_world.adapters != NULL && i < sim_world.adapters->len; i++)
    {
      SimAdapter *a = g_ptr_array_index (sim_world.adapters, i);
      SimGattApp *app = a->gatt_db != NULL ? find_app (a->gatt_db, owner, path) : NULL;

      if (app != NULL)
        return app;
    }
  return NULL;
}

static void
on_owner_vanished (GDBusConnection *conn,
                   const char      *name,
                   gpointer         user_data)
{
  g_autofree char *owner = g_strdup (name);
  SimGattApp *app;

  /* client_disconnect_cb(): every application of the owner goes */
  for (guint i = 0; sim_world.adapters != NULL && i < sim_world.adapters->len; i++)
    {
      SimGattDatabase *db = ((SimAdapter *) g_ptr_array_index (sim_world.adapters, i))->gatt_db;

      for (guint j = db != NULL ? db->apps->len : 0; j > 0; j--)
        {
          app = g_ptr_array_index (db->apps, j - 1);
          if (g_str_equal (app->owner, owner))
            app_remove (app);
        }
    }
}

/* proxy_removed_cb(): a GattService1 leaving the application's object
 * manager takes its service out of the database. Nothing is added for
 * InterfacesAdded: bluetoothd keeps the proxy and never registers it. */
static void
on_interfaces_removed (GDBusConnection *conn,
                       const char      *sender,
                       const char      *object_path,
                       const char      *interface,
                       const char      *signal,
                       GVariant        *params,
                       gpointer         user_data)
{
  const char *path;
  g_autofree const char **ifaces = NULL;

  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(oas)")))
    return;
  g_variant_get (params, "(&o^a&s)", &path, &ifaces);
  for (guint i = 0; ifaces[i] != NULL; i++)
    {
      /* the owner and path pick the application: the signal may come
       * after it went */
      SimGattApp *app = find_app_anywhere (sender, object_path);
      SimLocalService *s = app != NULL ? find_service (app, path) : NULL;

      if (s != NULL && g_str_equal (ifaces[i], SERVICE_IFACE))
        {
          g_debug ("GattManager1: service %s leaves the database", path);
          g_ptr_array_remove (app->services, s);
        }
    }
}

/* property_changed_cb(): a Value change of a characteristic with a CCC
 * is a notification, whether the value changed or not. */
static void
on_properties_changed (GDBusConnection *conn,
                       const char      *sender,
                       const char      *object_path,
                       const char      *interface,
                       const char      *signal,
                       GVariant        *params,
                       gpointer         user_data)
{
  const char *iface;
  g_autoptr(GVariant) changed = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autofree const char **invalidated = NULL;

  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(sa{sv}as)")))
    return;
  g_variant_get (params, "(&s@a{sv}^a&s)", &iface, &changed, &invalidated);
  value = g_variant_lookup_value (changed, "Value", G_VARIANT_TYPE_BYTESTRING);
  /* gdbus/client.c reports an invalidated property as one without a
   * value: an empty notification */
  if (value == NULL && g_strv_contains (invalidated, "Value"))
    value = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, NULL, 0, 1));
  if (!g_str_equal (iface, CHAR_IFACE) || value == NULL)
    return;
  for (guint i = 0; sim_world.adapters != NULL && i < sim_world.adapters->len; i++)
    {
      SimGattDatabase *db = ((SimAdapter *) g_ptr_array_index (sim_world.adapters, i))->gatt_db;

      for (guint j = 0; db != NULL && j < db->apps->len; j++)
        {
          SimGattApp *app = g_ptr_array_index (db->apps, j);

          for (guint k = 0; g_str_equal (app->owner, sender)
                            && g_str_has_prefix (object_path, app->path)
                            && k < app->services->len; k++)
            {
              SimLocalService *s = g_ptr_array_index (app->services, k);

              for (guint m = 0; m < s->chars->len; m++)
                {
                  SimLocalChar *c = g_ptr_array_index (s->chars, m);
                  gsize len;
                  const guint8 *data;

                  if (c->ccc == 0 || !g_str_equal (c->attr.path, object_path))
                    continue;
                  data = g_variant_get_fixed_array (value, &len, 1);
                  if (sim_world.hooks.served_value != NULL)
                    sim_world.hooks.served_value (c->attr.served, data, len);
                }
            }
        }
    }
}

static void
app_fail (SimGattApp *app,
          const char *message)
{
  GDBusMethodInvocation *reg = g_steal_pointer (&app->reg);

  sim_return_error (reg, SIM_ERR_FAILED, message);
  app_remove (app);
}

static void
on_managed_objects (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  SimGattApp *app = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);
  g_autoptr(GArray) proxies = g_array_new (FALSE, FALSE, sizeof (Proxy));
  gboolean (*const passes[]) (SimGattApp *, Proxy *) = {
    create_profile, create_service, create_char, create_desc
  };
  const char *const pass_ifaces[] = { PROFILE_IFACE, SERVICE_IFACE, CHAR_IFACE, DESC_IFACE };
  GVariantIter objects;
  const char *path;
  GVariant *ifaces;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&app->cancel);
  /* gdbus/client.c: an error answer is read as no objects at all */
  if (reply != NULL && g_variant_is_of_type (reply, G_VARIANT_TYPE ("(a{oa{sa{sv}}})")))
    {
      g_autoptr(GVariant) dict = g_variant_get_child_value (reply, 0);

      g_variant_iter_init (&objects, dict);
      while (g_variant_iter_next (&objects, "{&o@a{sa{sv}}}", &path, &ifaces))
        {
          GVariantIter it;
          const char *iface;
          GVariant *props;

          g_variant_iter_init (&it, ifaces);
          while (g_variant_iter_next (&it, "{&s@a{sv}}", &iface, &props))
            {
              gboolean seen = FALSE;

              /* one proxy per object and interface; these two get none */
              for (guint k = 0; k < proxies->len; k++)
                {
                  Proxy *q = &g_array_index (proxies, Proxy, k);

                  seen |= g_str_equal (q->path, path) && g_str_equal (q->iface, iface);
                }
              if (!seen && !g_str_equal (iface, "org.freedesktop.DBus.Introspectable")
                  && !g_str_equal (iface, "org.freedesktop.DBus.Properties"))
                g_array_append_val (proxies, ((Proxy) { path, iface, props }));
              g_variant_unref (props);
            }
          g_variant_unref (ifaces);
        }
    }
  if (proxies->len == 0)
    {
      app_fail (app, "No object received");
      return;
    }
  for (guint pass = 0; pass < G_N_ELEMENTS (passes); pass++)
    for (guint k = 0; k < proxies->len; k++)
      {
        Proxy *p = &g_array_index (proxies, Proxy, k);

        if (g_str_equal (p->iface, pass_ifaces[pass]) && !passes[pass] (app, p))
          {
            app_fail (app, "No valid service object found");
            return;
          }
      }
  if (app->services->len == 0 && app->profiles == 0)
    {
      app_fail (app, "No valid service object found");
      return;
    }
  for (guint i = 0; i < app->services->len; i++)
    if (!add_service (app, g_ptr_array_index (app->services, i)))
      {
        app_fail (app, "Failed to create entry in database");
        return;
      }
  g_debug ("GattManager1: application %s%s registered", app->owner, app->path);
  g_dbus_method_invocation_return_value (g_steal_pointer (&app->reg), NULL);
}

static void
manager_method (SimObj                *obj,
                GDBusMethodInvocation *invocation,
                const char            *method,
                GVariant              *params)
{
  SimGattDatabase *db = ((SimAdapter *) obj)->gatt_db;
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  const char *path;
  SimGattApp *app;

  g_variant_get_child (params, 0, "&o", &path);
  app = find_app (db, sender, path);
  if (g_str_equal (method, "UnregisterApplication"))
    {
      if (app == NULL)
        sim_return_error (invocation, SIM_ERR_DOES_NOT_EXIST, SIM_MSG_DOES_NOT_EXIST);
      else
        {
          app_remove (app);
          g_dbus_method_invocation_return_value (invocation, NULL);
        }
      return;
    }
  if (app != NULL)
    {
      sim_return_error (invocation, SIM_ERR_ALREADY_EXISTS, SIM_MSG_ALREADY_EXISTS);
      return;
    }
  app = g_new0 (SimGattApp, 1);
  app->db = db;
  app->owner = g_strdup (sender);
  app->path = g_strdup (path);
  app->reg = invocation;
  app->cancel = g_cancellable_new ();
  app->services = g_ptr_array_new_with_free_func (local_service_free);
  g_ptr_array_add (db->apps, app);
  app->owner_watch = g_bus_watch_name_on_connection (sim_registry_get_connection (), sender,
                                                     G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                     NULL, on_owner_vanished, NULL, NULL);
  app->removed_sub = g_dbus_connection_signal_subscribe (sim_registry_get_connection (), sender,
                                                         "org.freedesktop.DBus.ObjectManager",
                                                         "InterfacesRemoved", path, NULL,
                                                         G_DBUS_SIGNAL_FLAGS_NONE,
                                                         on_interfaces_removed, NULL, NULL);
  /* GDBusClient watches every signal of the owner under the path */
  app->changed_sub = g_dbus_connection_signal_subscribe (sim_registry_get_connection (), sender,
                                                         "org.freedesktop.DBus.Properties",
                                                         "PropertiesChanged", NULL, NULL,
                                                         G_DBUS_SIGNAL_FLAGS_NONE,
                                                         on_properties_changed, NULL, NULL);
  /* GDBusClient with the application's path as its root */
  g_dbus_connection_call (sim_registry_get_connection (), sender, path,
                          "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                          NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, app->cancel,
                          on_managed_objects, app);
}

static GVariant *
manager_get (SimObj     *obj,
             const char *prop)
{
  return NULL;
}

SimIfaceDef sim_gatt_manager_iface = {
  "org.bluez.GattManager1", manager_method, manager_get, NULL, NULL
};

/* ---- the database ---- */

SimGattDatabase *
sim_gatt_database_new (SimAdapter *adapter)
{
  SimGattDatabase *db = g_new0 (SimGattDatabase, 1);

  db->adapter = adapter;
  db->apps = g_ptr_array_new ();
  db->next_handle = CORE_HANDLES + 1;
  return db;
}

void
sim_gatt_database_free (SimGattDatabase *db)
{
  if (db == NULL)
    return;
  for (guint i = 0; i < db->apps->len; i++)
    app_free (g_ptr_array_index (db->apps, i));
  g_ptr_array_unref (db->apps);
  g_free (db);
}

typedef struct {
  guint16 handle;
  const char *kind;
  const char *uuid;
  const char *path;
} Row;

static gint
row_cmp (gconstpointer a,
         gconstpointer b)
{
  return (gint) ((const Row *) a)->handle - (gint) ((const Row *) b)->handle;
}

static void
add_row (GArray     *rows,
         guint16     handle,
         const char *kind,
         const char *uuid,
         const char *path)
{
  g_array_append_val (rows, ((Row) { handle, kind, uuid, path }));
}

GVariant *
sim_gatt_database_dump (SimGattDatabase *db)
{
  static const struct { guint16 handle; const char *kind; const char *uuid16; } core[] = {
    { 1, "primary", "1800" }, { 2, "characteristic", "2a00" }, { 3, "value", "2a00" },
    { 4, "characteristic", "2a01" }, { 5, "value", "2a01" },
    { 6, "characteristic", "2aa6" }, { 7, "value", "2aa6" },
    { 8, "primary", "1801" }, { 9, "characteristic", "2a05" }, { 10, "value", "2a05" },
    { 11, "ccc", "2902" }, { 12, "characteristic", "2b29" }, { 13, "value", "2b29" },
    { 14, "characteristic", "2b2a" }, { 15, "value", "2b2a" },
    { 16, "characteristic", "2b3a" }, { 17, "value", "2b3a" },
    { 18, "primary", "180a" }, { 19, "characteristic", "2a50" }, { 20, "value", "2a50" },
    /* the plugins' services: their declarations only */
    { 21, "primary", "1844" }, { 30, "primary", "1849" },
  };
  g_autoptr(GArray) rows = g_array_new (FALSE, FALSE, sizeof (Row));
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  GVariantBuilder b;

  for (guint i = 0; i < G_N_ELEMENTS (core); i++)
    {
      char *uuid = g_strdup_printf ("0000%s" SIM_BASE_UUID_TAIL, core[i].uuid16);

      g_ptr_array_add (strings, uuid);
      add_row (rows, core[i].handle, core[i].kind, uuid, "/");
    }
  for (guint i = 0; i < db->apps->len; i++)
    {
      SimGattApp *app = g_ptr_array_index (db->apps, i);

      for (guint j = 0; app->reg == NULL && j < app->services->len; j++)
        {
          SimLocalService *s = g_ptr_array_index (app->services, j);

          add_row (rows, s->attr.handle, s->primary ? "primary" : "secondary",
                   s->attr.uuid, s->attr.path);
          for (guint k = 0; k < s->include_handles->len; k++)
            add_row (rows, g_array_index (s->include_handles, guint16, k), "include",
                     g_ptr_array_index (s->include_uuids, k), s->attr.path);
          for (guint k = 0; k < s->chars->len; k++)
            {
              SimLocalChar *c = g_ptr_array_index (s->chars, k);

              add_row (rows, c->attr.handle - 1, "characteristic", c->attr.uuid, c->attr.path);
              add_row (rows, c->attr.handle, "value", c->attr.uuid, c->attr.path);
              if (c->ccc != 0)
                add_row (rows, c->ccc, "ccc", "00002902" SIM_BASE_UUID_TAIL, c->attr.path);
              if (c->cep != 0)
                add_row (rows, c->cep, "cep", "00002900" SIM_BASE_UUID_TAIL, c->attr.path);
              for (guint m = 0; m < c->descs->len; m++)
                {
                  SimLocalDesc *d = g_ptr_array_index (c->descs, m);

                  add_row (rows, d->attr.handle, "descriptor", d->attr.uuid, d->attr.path);
                }
            }
        }
    }
  g_array_sort (rows, row_cmp);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(qsso)"));
  for (guint i = 0; i < rows->len; i++)
    {
      Row *r = &g_array_index (rows, Row, i);

      g_variant_builder_add (&b, "(qsso)", r->handle, r->kind, r->uuid, r->path);
    }
  return g_variant_builder_end (&b);
}
