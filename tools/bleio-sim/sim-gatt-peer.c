/* SPDX-License-Identifier: MIT */
/*
 * A local database served to a peer (sim-gatt-peer.h). bluetoothd 5.66's
 * side of each step is named in the comments: src/gatt-database.c for the
 * server, src/gatt-client.c for the peer's client.
 */
#include "sim-gatt-peer.h"

#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the database as a peer sees it ---- */

/* A 16-bit UUID's four digits, or a full one, as a full one. */
static char *
full_uuid (const char *uuid)
{
  return strlen (uuid) == 4 ? g_strdup_printf ("0000%s" SIM_BASE_UUID_TAIL, uuid) : g_strdup (uuid);
}

static SimServiceDef *
service_def (guint16     handle,
             const char *uuid,
             gboolean    primary,
             gboolean    hidden)
{
  SimServiceDef *sd = g_new0 (SimServiceDef, 1);

  sd->handle = handle;
  sd->uuid = full_uuid (uuid);
  sd->primary = primary;
  sd->hidden = hidden;
  sd->chars = g_ptr_array_new_with_free_func (sim_char_def_free);
  return sd;
}

static SimCharDef *
char_def (SimServiceDef *sd,
          guint16        handle,
          const char    *uuid,
          guint32        flags,
          const char    *hex)
{
  SimCharDef *cd = g_new0 (SimCharDef, 1);

  cd->handle = handle;
  cd->uuid = full_uuid (uuid);
  cd->flags = flags;
  cd->value = g_byte_array_new ();
  for (gsize i = 0; hex != NULL && hex[i] != '\0' && hex[i + 1] != '\0'; i += 2)
    {
      guint8 b = (guint8) (g_ascii_xdigit_value (hex[i]) * 16 + g_ascii_xdigit_value (hex[i + 1]));

      g_byte_array_append (cd->value, &b, 1);
    }
  cd->acquire_notify = TRUE;
  cd->acquire_write = TRUE;
  cd->payloads = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  cd->descs = g_ptr_array_new_with_free_func (sim_desc_def_free);
  g_ptr_array_add (sd->chars, cd);
  return cd;
}

static void
desc_def (SimCharDef *cd,
          guint16     handle,
          const char *uuid,
          guint32     flags,
          SimServed  *served)
{
  SimDescDef *dd = g_new0 (SimDescDef, 1);

  dd->handle = handle;
  dd->uuid = g_strdup (uuid);
  dd->flags = flags;
  dd->value = g_byte_array_new ();
  dd->served = served != NULL ? sim_served_ref (served) : NULL;
  g_ptr_array_add (cd->descs, dd);
}

static gint
service_def_cmp (gconstpointer a,
                 gconstpointer b)
{
  const SimServiceDef *x = *(SimServiceDef *const *) a;
  const SimServiceDef *y = *(SimServiceDef *const *) b;

  return (gint) x->handle - (gint) y->handle;
}

GPtrArray *
sim_gatt_peer_service_defs (SimGattDatabase *db)
{
  GPtrArray *services = g_ptr_array_new_with_free_func (sim_service_def_free);
  SimServiceDef *sd;
  SimCharDef *cd;

  /* bluetoothd's own, with the values the reference capture read */
  sd = service_def (1, "1800", TRUE, FALSE);
  char_def (sd, 2, "2a00", SIM_CHR_READ, NULL);
  char_def (sd, 4, "2a01", SIM_CHR_READ, "0000");
  char_def (sd, 6, "2aa6", SIM_CHR_READ, "00");
  g_ptr_array_add (services, sd);
  sd = service_def (8, "1801", TRUE, FALSE);
  cd = char_def (sd, 9, "2a05", SIM_CHR_INDICATE, NULL);
  desc_def (cd, 11, "00002902" SIM_BASE_UUID_TAIL, SIM_CHR_READ | SIM_CHR_WRITE, NULL);
  char_def (sd, 12, "2b29", SIM_CHR_READ | SIM_CHR_WRITE, NULL);
  char_def (sd, 14, "2b2a", SIM_CHR_READ, "20037497d4e860d870d7422597e0ea63");
  char_def (sd, 16, "2b3a", SIM_CHR_READ, "01");
  g_ptr_array_add (services, sd);
  sd = service_def (18, "180a", TRUE, FALSE);
  char_def (sd, 19, "2a50", SIM_CHR_READ, NULL);
  g_ptr_array_add (services, sd);
  /* a peer's bluetoothd claims Volume Control for its vcp plugin (no
   * object); Generic Media Control is inactive, so never discovered */
  g_ptr_array_add (services, service_def (21, "1844", TRUE, TRUE));
  for (guint i = 0; i < db->apps->len; i++)
    {
      SimGattApp *app = g_ptr_array_index (db->apps, i);

      for (guint j = 0; app->reg == NULL && j < app->services->len; j++)
        {
          SimLocalService *s = g_ptr_array_index (app->services, j);

          sd = service_def (s->attr.handle, s->attr.uuid, s->primary, FALSE);
          for (guint k = 0; k < s->chars->len; k++)
            {
              SimLocalChar *c = g_ptr_array_index (s->chars, k);

              cd = char_def (sd, c->attr.handle - 1, c->attr.uuid, c->attr.flags, NULL);
              cd->served = sim_served_ref (c->attr.served);
              if (c->ccc != 0)
                desc_def (cd, c->ccc, "00002902" SIM_BASE_UUID_TAIL,
                          SIM_CHR_READ | SIM_CHR_WRITE, NULL);
              if (c->cep != 0)
                {
                  guint8 v[2] = { c->ext_props, 0 };

                  desc_def (cd, c->cep, "00002900" SIM_BASE_UUID_TAIL, SIM_CHR_READ, NULL);
                  g_byte_array_append (((SimDescDef *) g_ptr_array_index (cd->descs,
                                                                          cd->descs->len - 1))->value,
                                       v, 2);
                }
              for (guint m = 0; m < c->descs->len; m++)
                {
                  SimLocalDesc *d = g_ptr_array_index (c->descs, m);

                  desc_def (cd, d->attr.handle, d->attr.uuid, d->attr.flags, d->attr.served);
                }
            }
          g_ptr_array_add (services, sd);
        }
    }
  /* an application may have asked for handles below another's */
  g_ptr_array_sort (services, service_def_cmp);
  return services;
}

/* ---- a peer's operations, forwarded to the application ---- */

/* dbus_error_to_att_ecode(): the application's error as the ATT error
 * bluetoothd sends; @perm_err for NotPermitted. */
static guint8
att_error (const char *name,
           const char *message,
           guint8      perm_err)
{
  if (g_strcmp0 (name, "org.bluez.Error.Failed") == 0)
    {
      char *end = NULL;
      gint64 code = g_ascii_strtoll (message, &end, 0);

      if (end == NULL || end == message || *end != '\0')
        return 0x80;
      return code >= 0x80 && code <= 0x9f ? (guint8) code : 0x0e;
    }
  if (g_strcmp0 (name, "org.bluez.Error.NotSupported") == 0)
    return 0x06;
  if (g_strcmp0 (name, "org.bluez.Error.NotAuthorized") == 0)
    return 0x08;
  if (g_strcmp0 (name, "org.bluez.Error.InvalidValueLength") == 0)
    return 0x0d;
  if (g_strcmp0 (name, "org.bluez.Error.InvalidOffset") == 0)
    return 0x07;
  if (g_strcmp0 (name, "org.bluez.Error.InProgress") == 0)
    return 0xfe;
  if (g_strcmp0 (name, "org.bluez.Error.NotPermitted") == 0)
    return perm_err;
  return 0x0e;
}

/* gatt-client.c create_gatt_dbus_error(): the ATT error as the peer's
 * bluetoothd answers its own client. */
static void
client_error (guint8   code,
              char   **name,
              char   **message)
{
  const char *n = SIM_ERR_FAILED;
  const char *m = NULL;

  switch (code)
    {
    case 0x02: n = SIM_ERR_NOT_PERMITTED; m = "Read not permitted"; break;
    case 0x03: n = SIM_ERR_NOT_PERMITTED; m = "Write not permitted"; break;
    case 0x05: case 0x0c: case 0x0f: n = SIM_ERR_NOT_PERMITTED; m = "Not paired"; break;
    case 0x07: n = SIM_ERR_INVALID_ARGS; m = "Invalid offset"; break;
    case 0x0d: n = SIM_ERR_INVALID_ARGS; m = "Invalid Length"; break;
    case 0x08: n = SIM_ERR_NOT_AUTHORIZED; m = "Operation Not Authorized"; break;
    case 0x06: n = SIM_ERR_NOT_SUPPORTED; m = SIM_MSG_NOT_SUPPORTED; break;
    default: break;
    }
  *name = g_strdup (n);
  *message = m != NULL ? g_strdup (m)
                       : g_strdup_printf ("Operation failed with ATT error: 0x%02x", code);
}

/* The server side's Device1 of the peer whose client is @client: the
 * device on the serving adapter with the client adapter's address. */
static const char *
server_device_path (SimServed *served,
                    SimDevice *client)
{
  for (guint i = 0; sim_world.adapters != NULL && i < sim_world.adapters->len; i++)
    {
      SimAdapter *a = g_ptr_array_index (sim_world.adapters, i);
      SimDevice *d;

      if (!g_str_equal (a->name, served->adapter))
        continue;
      d = g_hash_table_lookup (a->device_index, client->adapter->address);
      return d != NULL ? d->obj.path : NULL;
    }
  return NULL;
}

/* append_options(): device, offset (when not 0), link, mtu, in this
 * order. */
static GVariant *
options (const char *device,
         guint16     offset,
         guint16     mtu)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "device", g_variant_new_object_path (device));
  if (offset != 0)
    g_variant_builder_add (&b, "{sv}", "offset", g_variant_new_uint16 (offset));
  g_variant_builder_add (&b, "{sv}", "link", g_variant_new_string ("LE"));
  g_variant_builder_add (&b, "{sv}", "mtu", g_variant_new_uint16 (mtu));
  return g_variant_builder_end (&b);
}

typedef struct {
  gboolean write;
  SimServedReply reply;
  gpointer user_data;
} Forward;

static void
on_forward_reply (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Forward *f = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  g_autoptr(GBytes) value = NULL;
  guint8 code = 0;

  if (reply == NULL)
    {
      g_autofree char *remote = g_dbus_error_get_remote_error (error);

      g_dbus_error_strip_remote_error (error);
      code = att_error (remote, error->message, f->write ? 0x03 : 0x02);
    }
  else if (!f->write && g_variant_is_of_type (reply, G_VARIANT_TYPE ("(ay)")))
    {
      g_autoptr(GVariant) bytes = g_variant_get_child_value (reply, 0);
      gsize len;
      const guint8 *data = g_variant_get_fixed_array (bytes, &len, 1);

      /* read_reply_cb() truncates to the longest attribute value */
      value = g_bytes_new (data, MIN (len, SIM_MAX_ATTR_LEN));
    }
  else if (f->write ? g_variant_n_children (reply) != 0 : TRUE)
    code = 0x06;  /* "Invalid return value received" */
  if (code != 0)
    client_error (code, &name, &message);
  f->reply (value, name, message, f->user_data);
  g_free (f);
}

static gboolean
forward (SimServed      *served,
         SimDevice      *client,
         const char     *method,
         GVariant       *params,
         SimServedReply  reply,
         gpointer        user_data)
{
  Forward *f;

  if (reply == NULL)
    {
      /* a write without response: bluetoothd asks for no answer */
      g_dbus_connection_call (sim_registry_get_connection (), served->owner, served->path,
                              served->iface, method, params, NULL,
                              G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
      return TRUE;
    }
  f = g_new0 (Forward, 1);
  f->write = g_str_equal (method, "WriteValue");
  f->reply = reply;
  f->user_data = user_data;
  g_dbus_connection_call (sim_registry_get_connection (), served->owner, served->path,
                          served->iface, method, params, NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, on_forward_reply, f);
  return TRUE;
}

gboolean
sim_gatt_peer_read (SimServed      *served,
                      SimDevice      *client,
                      guint16         offset,
                      SimServedReply  reply,
                      gpointer        user_data)
{
  const char *device = served->owner != NULL ? server_device_path (served, client) : NULL;

  if (device == NULL)
    return FALSE;
  return forward (served, client, "ReadValue",
                  g_variant_new ("(@a{sv})", options (device, offset, client->periph->mtu)),
                  reply, user_data);
}

/* ---- AcquireWrite (chrc_write_cb(), acquire_write_reply()) ---- */

static SimLocalChar *find_local_char (SimServed *served);

/* A write waiting for the acquired socket. */
typedef struct {
  GBytes *data;
  char *device;
  guint16 mtu;
  SimServedReply reply;
  gpointer user_data;
} QueuedWrite;

static void
queued_write_free (gpointer data)
{
  QueuedWrite *q = data;

  /* still here when the characteristic goes: the peer gets Unlikely */
  if (q->reply != NULL)
    q->reply (NULL, SIM_ERR_FAILED, "Operation failed with ATT error: 0x0e", q->user_data);
  g_bytes_unref (q->data);
  g_free (q->device);
  g_free (q);
}

static gboolean
on_write_fd_hup (int          fd,
                 GIOCondition condition,
                 gpointer     user_data)
{
  SimLocalChar *c = user_data;

  /* sock_hup(): the next write acquires again */
  c->write_watch = 0;
  close (c->write_fd);
  c->write_fd = -1;
  return G_SOURCE_REMOVE;
}

static gboolean
send_packet (SimLocalChar *c,
             GBytes       *data)
{
  gsize len;
  const guint8 *bytes = g_bytes_get_data (data, &len);

  return send (c->write_fd, bytes, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
}

static void
answer_queued (QueuedWrite *q,
               guint8       code)
{
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  SimServedReply reply = q->reply;

  q->reply = NULL;
  if (reply == NULL)
    return;
  if (code != 0)
    client_error (code, &name, &message);
  reply (NULL, name, message, q->user_data);
}

static void
on_acquire_write (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  SimServed *served = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_with_unix_fd_list_finish (
      G_DBUS_CONNECTION (source), &fds, result, &error);
  SimLocalChar *c = find_local_char (served);
  g_autoptr(GPtrArray) queued = NULL;
  gint32 index;
  guint8 code = 0;

  if (c == NULL || c->pending_writes == NULL)
    {
      sim_served_unref (served);
      return;
    }
  queued = g_steal_pointer (&c->pending_writes);
  if (reply == NULL)
    {
      g_autofree char *remote = g_dbus_error_get_remote_error (error);

      g_dbus_error_strip_remote_error (error);
      code = att_error (remote, error->message, 0x03);
    }
  else if (fds != NULL)
    {
      g_variant_get (reply, "(hq)", &index, NULL);
      c->write_fd = g_unix_fd_list_get (fds, index, NULL);
      if (c->write_fd >= 0)
        c->write_watch = g_unix_fd_add (c->write_fd, G_IO_HUP | G_IO_ERR, on_write_fd_hup, c);
    }
  for (guint i = 0; i < queued->len; i++)
    {
      QueuedWrite *q = g_ptr_array_index (queued, i);

      if (reply == NULL && code != 0x0e)
        answer_queued (q, code);
      else if (c->write_fd >= 0 && send_packet (c, q->data))
        answer_queued (q, 0);
      else
        {
          /* flush_pending_writes(): an answer bluetoothd cannot use, or
           * a socket that does not take the packet, and the writes go
           * through WriteValue after all */
          gsize len;
          const guint8 *bytes = g_bytes_get_data (q->data, &len);
          SimServedReply answer = q->reply;

          q->reply = NULL;
          forward (served, NULL, "WriteValue",
                   g_variant_new ("(@ay@a{sv})", sim_bytes_variant (bytes, len),
                                  options (q->device, 0, q->mtu)),
                   answer, q->user_data);
        }
    }
  sim_served_unref (served);
}

/* A write to a characteristic that shows WriteAcquired: on the acquired
 * socket, acquiring it first (the writes meanwhile wait for it). */
static void
write_acquired (SimLocalChar   *c,
                SimServed      *served,
                const char     *device,
                guint16         mtu,
                const guint8   *data,
                gsize           len,
                SimServedReply  reply,
                gpointer        user_data)
{
  QueuedWrite *q;

  if (c->write_fd >= 0)
    {
      g_autoptr(GBytes) packet = g_bytes_new (data, len);
      gboolean sent = send_packet (c, packet);

      if (reply != NULL)
        {
          g_autofree char *name = NULL;
          g_autofree char *message = NULL;

          if (!sent)
            client_error (0x0e, &name, &message);
          reply (NULL, name, message, user_data);
        }
      return;
    }
  q = g_new0 (QueuedWrite, 1);
  q->data = g_bytes_new (data, len);
  q->device = g_strdup (device);
  q->mtu = mtu;
  q->reply = reply;
  q->user_data = user_data;
  if (c->pending_writes != NULL)
    {
      g_ptr_array_add (c->pending_writes, q);
      return;
    }
  c->pending_writes = g_ptr_array_new_with_free_func (queued_write_free);
  g_ptr_array_add (c->pending_writes, q);
  g_dbus_connection_call_with_unix_fd_list (
      sim_registry_get_connection (), served->owner, served->path, served->iface, "AcquireWrite",
      g_variant_new ("(@a{sv})", options (device, 0, mtu)), G_VARIANT_TYPE ("(hq)"),
      G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, on_acquire_write,
      sim_served_ref (served));
}

gboolean
sim_gatt_peer_write (SimServed      *served,
                       SimDevice      *client,
                       guint16         offset,
                       const guint8   *data,
                       gsize           len,
                       SimServedReply  reply,
                       gpointer        user_data)
{
  const char *device = served->owner != NULL ? server_device_path (served, client) : NULL;
  SimLocalChar *c;

  if (device == NULL)
    return FALSE;
  c = served->write_acquired ? find_local_char (served) : NULL;
  if (c != NULL)
    {
      write_acquired (c, served, device, client->periph->mtu, data, len, reply, user_data);
      return TRUE;
    }
  return forward (served, client, "WriteValue",
                  g_variant_new ("(@ay@a{sv})", sim_bytes_variant (data, len),
                                 options (device, offset, client->periph->mtu)),
                  reply, user_data);
}

void
sim_gatt_peer_command (SimChar      *chr,
                       const guint8 *data,
                       gsize         len)
{
  if (chr->def->served != NULL)
    sim_gatt_peer_write (chr->def->served, chr->service->device, 0, data, len, NULL, NULL);
}

/* ---- notifications from the application ---- */

static SimLocalChar *
find_local_char (SimServed *served)
{
  for (guint i = 0; served->owner != NULL && sim_world.adapters != NULL
                    && i < sim_world.adapters->len; i++)
    {
      SimAdapter *a = g_ptr_array_index (sim_world.adapters, i);

      for (guint j = 0; a->gatt_db != NULL && j < a->gatt_db->apps->len; j++)
        {
          SimGattApp *app = g_ptr_array_index (a->gatt_db->apps, j);

          for (guint k = 0; k < app->services->len; k++)
            {
              SimLocalService *s = g_ptr_array_index (app->services, k);

              for (guint m = 0; m < s->chars->len; m++)
                {
                  SimLocalChar *c = g_ptr_array_index (s->chars, m);

                  if (c->attr.served == served)
                    return c;
                }
            }
        }
    }
  return NULL;
}

/* send_notification_to_devices(): every peer's characteristic built from
 * @served gets the value (sim_char_notify() reaches the subscribed
 * clients); an indication confirmed calls Confirm() on the application
 * (conf_cb()). */
void
sim_gatt_peer_deliver (SimServed    *served,
         const guint8 *data,
         gsize         len)
{
  if (served->owner == NULL)
    return;
  len = MIN (len, SIM_MAX_ATTR_LEN);
  for (guint i = 0; sim_world.adapters != NULL && i < sim_world.adapters->len; i++)
    {
      SimAdapter *a = g_ptr_array_index (sim_world.adapters, i);

      for (guint j = 0; !g_str_equal (a->name, served->adapter) && j < a->devices->len; j++)
        {
          SimDevice *d = g_ptr_array_index (a->devices, j);

          for (guint k = 0; d->connected && d->services != NULL && k < d->services->len; k++)
            {
              SimService *s = g_ptr_array_index (d->services, k);

              for (guint m = 0; m < s->chars->len; m++)
                {
                  SimChar *c = g_ptr_array_index (s->chars, m);

                  if (c->def->served == served && sim_char_notify (c, data, len)
                      && !(c->def->flags & SIM_CHR_NOTIFY))
                    g_dbus_connection_call (sim_registry_get_connection (), served->owner,
                                            served->path, served->iface, "Confirm", NULL, NULL,
                                            G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL,
                                            NULL);
                }
            }
        }
    }
}

/* sock_io_read(): each packet on the acquired socket is a notification. */
static gboolean
on_notify_fd (int          fd,
              GIOCondition condition,
              gpointer     user_data)
{
  SimLocalChar *c = user_data;
  guint8 buf[SIM_MAX_ATTR_LEN];
  gssize n = (condition & G_IO_IN) ? read (fd, buf, sizeof buf) : -1;

  if (n < 0 || (n == 0 && (condition & G_IO_HUP)))
    {
      /* sock_hup(): the application closed it */
      c->notify_watch = 0;
      close (c->notify_fd);
      c->notify_fd = -1;
      return G_SOURCE_REMOVE;
    }
  sim_gatt_peer_deliver (c->attr.served, buf, (gsize) n);
  return G_SOURCE_CONTINUE;
}

typedef struct {
  SimServed *served;
} Acquire;

static void
on_acquire_notify (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Acquire *a = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_with_unix_fd_list_finish (
      G_DBUS_CONNECTION (source), &fds, result, &error);
  SimLocalChar *c = find_local_char (a->served);
  gint32 index;

  if (c != NULL && reply == NULL)
    {
      g_autofree char *remote = g_dbus_error_get_remote_error (error);

      /* acquire_notify_reply(): NoReply and Failed end it, anything else
       * falls back to StartNotify */
      if (g_strcmp0 (remote, "org.freedesktop.DBus.Error.NoReply") != 0
          && g_strcmp0 (remote, SIM_ERR_FAILED) != 0)
        g_dbus_connection_call (sim_registry_get_connection (), a->served->owner,
                                a->served->path, a->served->iface, "StartNotify", NULL, NULL,
                                G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
    }
  else if (c != NULL && g_variant_is_of_type (reply, G_VARIANT_TYPE ("(hq)")) && fds != NULL)
    {
      g_variant_get (reply, "(hq)", &index, NULL);
      c->notify_fd = g_unix_fd_list_get (fds, index, NULL);
      if (c->notify_fd >= 0)
        c->notify_watch = g_unix_fd_add (c->notify_fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                         on_notify_fd, c);
    }
  sim_served_unref (a->served);
  g_free (a);
}

/* ccc_write_cb(): the first peer to switch the CCC on starts the
 * application notifying (AcquireNotify when the object shows
 * NotifyAcquired, StartNotify otherwise); the last to switch it off closes
 * the acquired socket or calls StopNotify. bluetoothd ignores the
 * answers of StartNotify and StopNotify. */
void
sim_gatt_peer_ccc_written (SimChar  *chr,
                             gboolean  on)
{
  SimServed *served = chr->def->served;
  SimLocalChar *c = served != NULL ? find_local_char (served) : NULL;
  GDBusConnection *bus = sim_registry_get_connection ();

  if (c == NULL)
    return;
  if (!on)
    {
      if (served->subscribers == 0 || --served->subscribers > 0)
        return;
      if (c->notify_fd >= 0)
        {
          g_clear_handle_id (&c->notify_watch, g_source_remove);
          close (c->notify_fd);
          c->notify_fd = -1;
        }
      else
        g_dbus_connection_call (bus, served->owner, served->path, served->iface, "StopNotify",
                                NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL,
                                NULL);
      return;
    }
  if (served->subscribers++ > 0 || c->notify_fd >= 0)
    return;
  if (served->notify_acquired)
    {
      SimDevice *client = chr->service->device;
      const char *device = server_device_path (served, client);
      Acquire *a = g_new0 (Acquire, 1);

      a->served = sim_served_ref (served);
      g_dbus_connection_call_with_unix_fd_list (
          bus, served->owner, served->path, served->iface, "AcquireNotify",
          g_variant_new ("(@a{sv})", options (device != NULL ? device : "/", 0,
                                              client->periph->mtu)),
          G_VARIANT_TYPE ("(hq)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL,
          on_acquire_notify, a);
      return;
    }
  g_dbus_connection_call (bus, served->owner, served->path, served->iface, "StartNotify",
                          NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
}

void
sim_gatt_peer_refresh (SimPeripheral *periph)
{
  SimAdapter *owner = NULL;

  for (guint i = 0; sim_world.adapters != NULL && i < sim_world.adapters->len; i++)
    {
      SimAdapter *a = g_ptr_array_index (sim_world.adapters, i);

      if (a->air_self == periph)
        owner = a;
      /* a device showing objects points into the definitions in place */
      for (guint j = 0; j < a->devices->len; j++)
        {
          SimDevice *d = g_ptr_array_index (a->devices, j);

          if (d->periph == periph && d->services != NULL)
            return;
        }
    }
  if (owner == NULL || owner->gatt_db == NULL)
    return;
  g_ptr_array_unref (periph->services);
  periph->services = sim_gatt_peer_service_defs (owner->gatt_db);
}
