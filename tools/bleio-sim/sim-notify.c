/* SPDX-License-Identifier: MIT */
/*
 * Notifications of a characteristic: StartNotify sessions, AcquireNotify
 * and AcquireWrite sockets, the CCCD they switch, notification streams and
 * bursts, with bluetoothd 5.66's answers. sim-notify.h says why it is fast.
 */
#include "sim-notify.h"
#include "sim-battery.h"

#include <errno.h>
#include <glib-unix.h>
#include <gio/gunixfdlist.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CCCD_UUID "00002902-0000-1000-8000-00805f9b34fb"
#define BURST_SIGNALS_PER_ITERATION 256

static gboolean burst_step (gpointer data);
static void stream_update (SimChar *chr);

static void
unwatch (gpointer data)
{
  g_bus_unwatch_name (GPOINTER_TO_UINT (data));
}

static void
release_notify_fd (SimChar *chr,
                   gboolean announce)
{
  if (chr->notify_fd < 0)
    return;
  g_clear_handle_id (&chr->notify_watch, g_source_remove);
  g_clear_handle_id (&chr->burst_source, g_source_remove);
  chr->burst_left = 0;
  close (chr->notify_fd);
  chr->notify_fd = -1;
  if (announce)
    sim_obj_changed_by_name (&chr->obj, SIM_CHAR_INTERFACE, "NotifyAcquired", NULL);
}

static void
release_write_fd (SimChar *chr,
                  gboolean announce)
{
  if (chr->write_fd < 0)
    return;
  g_clear_handle_id (&chr->write_watch, g_source_remove);
  close (chr->write_fd);
  chr->write_fd = -1;
  if (announce)
    sim_obj_changed_by_name (&chr->obj, SIM_CHAR_INTERFACE, "WriteAcquired", NULL);
}

static void
set_cccd (SimChar *chr,
          gboolean on)
{
  for (guint i = 0; i < chr->def->descs->len; i++)
    {
      SimDescDef *d = g_ptr_array_index (chr->def->descs, i);

      if (g_str_equal (d->uuid, CCCD_UUID))
        {
          guint8 v[2] = { 0, 0 };
          gboolean was_on = chr->ccc_on;

          /* the peer is an application on another adapter: its
           * bluetoothd hears this client's CCC write */
          chr->ccc_on = on;
          if (chr->def->served != NULL && was_on != on && sim_world.hooks.ccc_written != NULL)
            sim_world.hooks.ccc_written (chr, on);
          if (on)
            v[0] = (chr->def->flags & SIM_CHR_NOTIFY) ? 0x01 : 0x02;
          g_byte_array_set_size (d->value, 0);
          g_byte_array_append (d->value, v, 2);
        }
    }
}

gboolean
sim_char_notify (SimChar      *chr,
                 const guint8 *data,
                 gsize         len)
{
  SimDevice *dev = chr->service->device;
  gsize max = dev->periph->mtu - 3u;

  if (!dev->connected)
    return FALSE;
  if (len > max)
    len = max;
  /* the peripheral's own value follows what it sends */
  g_byte_array_set_size (chr->def->value, 0);
  g_byte_array_append (chr->def->value, data, (guint) len);
  if (chr->notify_fd >= 0)
    {
      if (send (chr->notify_fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0
          && errno != EAGAIN && errno != EWOULDBLOCK)
        release_notify_fd (chr, TRUE);
      return TRUE;
    }
  if (g_hash_table_size (chr->sessions) == 0)
    {
      /* bluetoothd's battery plugin subscribes on its own behalf */
      return sim_battery_notify (dev, chr);
    }
  g_byte_array_set_size (chr->cached, 0);
  g_byte_array_append (chr->cached, data, (guint) len);
  /* As bluetoothd 5.66: one Value change per StartNotify session (each
   * session has its own notification callback; the e2e guest saw a
   * second subscriber double them). Bursts send one, for the benches. */
  for (guint i = 0; i < g_hash_table_size (chr->sessions); i++)
    sim_emit_value (chr->obj.path, SIM_CHAR_INTERFACE, data, len);
  sim_battery_notify (dev, chr);
  return TRUE;
}

static void
burst_flushed (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autofree char *path = user_data;
  SimObj *obj = sim_obj_lookup (path);
  SimChar *chr;

  g_dbus_connection_flush_finish (G_DBUS_CONNECTION (source), result, NULL);
  if (obj == NULL || obj->kind != SIM_OBJ_CHAR)
    return;
  chr = (SimChar *) obj;
  chr->burst_flushing = FALSE;
  if (chr->burst_left > 0 && chr->burst_source == 0)
    chr->burst_source = g_idle_add (burst_step, chr);
}

static gboolean
burst_writable (int          fd,
                GIOCondition condition,
                gpointer     data)
{
  SimChar *chr = data;

  chr->burst_source = 0;
  if (condition & (G_IO_HUP | G_IO_ERR))
    {
      chr->burst_left = 0;
      return G_SOURCE_REMOVE;
    }
  burst_step (chr);
  return G_SOURCE_REMOVE;
}

/* The next notification of a burst: its value as given, or for
 * NotifySequence a copy in @scratch with the index in the first four
 * bytes (little-endian). */
static const guint8 *
burst_payload (SimChar *chr,
               guint8  *scratch,
               gsize    len)
{
  const guint8 *bytes = g_bytes_get_data (chr->burst_value, NULL);

  if (!chr->burst_counted)
    return bytes;
  memcpy (scratch, bytes, len);
  for (guint i = 0; i < 4 && i < len; i++)
    scratch[i] = (guint8) (chr->burst_seq >> (8 * i));
  return scratch;
}

static gboolean
burst_step (gpointer data)
{
  SimChar *chr = data;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (chr->burst_value, &len);
  gsize max = chr->service->device->periph->mtu - 3u;
  guint8 scratch[SIM_MAX_ATTR_LEN];

  chr->burst_source = 0;
  if (!chr->service->device->connected)
    {
      chr->burst_left = 0;
      return G_SOURCE_REMOVE;
    }
  if (len > max)
    len = max;
  if (chr->burst_counted && len > sizeof scratch)
    len = sizeof scratch;
  if (chr->notify_fd >= 0)
    {
      while (chr->burst_left > 0)
        {
          bytes = burst_payload (chr, scratch, len);
          if (send (chr->notify_fd, bytes, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
            {
              if (errno == EAGAIN || errno == EWOULDBLOCK)
                {
                  chr->burst_source = g_unix_fd_add (chr->notify_fd,
                                                     G_IO_OUT | G_IO_HUP | G_IO_ERR,
                                                     burst_writable, chr);
                  return G_SOURCE_REMOVE;
                }
              if (errno == EINTR)
                continue;
              chr->burst_left = 0;
              release_notify_fd (chr, TRUE);
              return G_SOURCE_REMOVE;
            }
          chr->burst_left--;
          chr->burst_seq++;
        }
      return G_SOURCE_REMOVE;
    }
  if (g_hash_table_size (chr->sessions) > 0)
    {
      guint n = MIN (chr->burst_left, BURST_SIGNALS_PER_ITERATION);

      g_byte_array_set_size (chr->cached, 0);
      g_byte_array_append (chr->cached, bytes, (guint) len);
      for (guint i = 0; i < n; i++)
        {
          bytes = burst_payload (chr, scratch, len);
          sim_emit_value (chr->obj.path, SIM_CHAR_INTERFACE, bytes, len);
          chr->burst_seq++;
        }
      chr->burst_left -= n;
      /* Keep GDBus's send queue short: a long queue makes its writer
       * slower, so the next batch waits for this one to be on the wire. */
      if (chr->burst_left > 0)
        {
          chr->burst_flushing = TRUE;
          g_dbus_connection_flush (sim_registry_get_connection (), NULL, burst_flushed,
                                   g_strdup (chr->obj.path));
        }
      return G_SOURCE_REMOVE;
    }
  chr->burst_left = 0;
  return G_SOURCE_REMOVE;
}

void
sim_char_notify_burst (SimChar *chr,
                       GBytes  *value,
                       guint    count)
{
  g_clear_handle_id (&chr->burst_source, g_source_remove);
  g_clear_pointer (&chr->burst_value, g_bytes_unref);
  chr->burst_value = g_bytes_ref (value);
  chr->burst_left = count;
  chr->burst_counted = FALSE;
  chr->burst_seq = 0;
  {
    gsize len;
    const guint8 *bytes = g_bytes_get_data (value, &len);

    g_byte_array_set_size (chr->def->value, 0);
    g_byte_array_append (chr->def->value, bytes, (guint) MIN (len, SIM_MAX_ATTR_LEN));
  }
  if (count > 0)
    chr->burst_source = g_idle_add (burst_step, chr);
}

void
sim_char_notify_sequence (SimChar *chr,
                          GBytes  *value,
                          guint    count)
{
  sim_char_notify_burst (chr, value, count);
  chr->burst_counted = TRUE;
}

static gboolean
stream_tick (gpointer data)
{
  SimChar *chr = data;
  GPtrArray *payloads = chr->def->payloads;
  GBytes *b = g_ptr_array_index (payloads, chr->stream_index % payloads->len);
  gsize len;
  const guint8 *bytes = g_bytes_get_data (b, &len);

  chr->stream_index++;
  sim_char_notify (chr, bytes, len);
  return G_SOURCE_CONTINUE;
}

static void
stream_update (SimChar *chr)
{
  gboolean want = chr->def->period_ms > 0 && chr->def->payloads->len > 0
                  && chr->service->device->connected
                  && (chr->notify_fd >= 0 || g_hash_table_size (chr->sessions) > 0);

  if (want && chr->stream_source == 0)
    chr->stream_source = g_timeout_add (chr->def->period_ms, stream_tick, chr);
  else if (!want)
    g_clear_handle_id (&chr->stream_source, g_source_remove);
}

static void
on_session_vanished (GDBusConnection *conn,
                     const char      *name,
                     gpointer         user_data)
{
  g_autofree char *path = g_strdup (user_data);
  SimObj *obj = sim_obj_lookup (path);
  SimChar *chr;

  if (obj == NULL || obj->kind != SIM_OBJ_CHAR)
    return;
  chr = (SimChar *) obj;
  if (!g_hash_table_remove (chr->sessions, name))
    return;
  if (g_hash_table_size (chr->sessions) == 0)
    {
      set_cccd (chr, FALSE);
      sim_obj_changed_by_name (&chr->obj, SIM_CHAR_INTERFACE, "Notifying", NULL);
      stream_update (chr);
    }
}

static gboolean
notify_fd_event (int          fd,
                 GIOCondition condition,
                 gpointer     data)
{
  SimChar *chr = data;

  if (condition & (G_IO_HUP | G_IO_ERR))
    {
      chr->notify_watch = 0;
      release_notify_fd (chr, TRUE);
      set_cccd (chr, FALSE);
      stream_update (chr);
      return G_SOURCE_REMOVE;
    }
  {
    guint8 junk[64];

    if (recv (fd, junk, sizeof junk, MSG_DONTWAIT) == 0)
      {
        chr->notify_watch = 0;
        release_notify_fd (chr, TRUE);
        set_cccd (chr, FALSE);
        stream_update (chr);
        return G_SOURCE_REMOVE;
      }
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
write_fd_event (int          fd,
                GIOCondition condition,
                gpointer     data)
{
  SimChar *chr = data;
  guint8 buf[SIM_DEFAULT_MTU];

  if (condition & G_IO_IN)
    {
      for (;;)
        {
          ssize_t n = recv (fd, buf, sizeof buf, MSG_DONTWAIT);

          if (n > 0 && chr->def->served != NULL)
            {
              /* gatt-client.c sends each packet as a Write Command: to
               * the application that serves it, when one does */
              if (sim_world.hooks.served_write != NULL)
                sim_world.hooks.served_write (chr, buf, (gsize) n);
              continue;
            }
          if (n > 0)
            {
              g_byte_array_set_size (chr->def->value, 0);
              g_byte_array_append (chr->def->value, buf, (guint) n);
              continue;
            }
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return G_SOURCE_CONTINUE;
          if (n < 0 && errno == EINTR)
            continue;
          break;            /* 0 = the other end closed */
        }
    }
  chr->write_watch = 0;
  release_write_fd (chr, TRUE);
  return G_SOURCE_REMOVE;
}

static gboolean
make_socketpair (int     *ours,
                 int     *theirs,
                 GError **error)
{
  int sv[2];

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "socketpair: %s", g_strerror (errno));
      return FALSE;
    }
  *ours = sv[0];
  *theirs = sv[1];
  return TRUE;
}

static void
return_fd (GDBusMethodInvocation *invocation,
           int                    fd,
           guint16                mtu)
{
  g_autoptr(GUnixFDList) list = g_unix_fd_list_new ();
  g_autoptr(GError) error = NULL;
  int index = g_unix_fd_list_append (list, fd, &error);

  close (fd);
  if (index < 0)
    {
      sim_return_error (invocation, SIM_ERR_FAILED, error->message);
      return;
    }
  g_dbus_method_invocation_return_value_with_unix_fd_list (invocation,
                                                           g_variant_new ("(hq)", index, mtu),
                                                           list);
}

void
sim_notify_char_init (SimChar *chr)
{
  chr->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, unwatch);
  chr->notify_fd = -1;
  chr->write_fd = -1;
}

void
sim_notify_char_clear (SimChar *chr)
{
  release_notify_fd (chr, FALSE);
  release_write_fd (chr, FALSE);
  g_clear_handle_id (&chr->stream_source, g_source_remove);
  g_clear_handle_id (&chr->burst_source, g_source_remove);
  g_clear_pointer (&chr->sessions, g_hash_table_unref);
  g_clear_pointer (&chr->burst_value, g_bytes_unref);
}

void
sim_notify_link_lost (SimChar *chr)
{
  release_notify_fd (chr, TRUE);
  release_write_fd (chr, TRUE);
  g_clear_handle_id (&chr->burst_source, g_source_remove);
  chr->burst_left = 0;
  if (g_hash_table_size (chr->sessions) > 0)
    {
      g_hash_table_remove_all (chr->sessions);
      sim_obj_changed_by_name (&chr->obj, SIM_CHAR_INTERFACE, "Notifying", NULL);
    }
  set_cccd (chr, FALSE);
  stream_update (chr);
}

void
sim_notify_start (SimChar               *chr,
                  GDBusMethodInvocation *invocation)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);

  if (!(chr->def->flags & (SIM_CHR_NOTIFY | SIM_CHR_INDICATE)))
    sim_return_error (invocation, SIM_ERR_NOT_SUPPORTED, SIM_MSG_NOT_SUPPORTED);
  else if (chr->notify_fd >= 0)
    sim_return_error (invocation, SIM_ERR_NOT_PERMITTED, "Notify acquired");
  else if (g_hash_table_contains (chr->sessions, sender))
    g_dbus_method_invocation_return_value (invocation, NULL);
  else
    {
      guint id = g_bus_watch_name_on_connection (sim_registry_get_connection (), sender,
                                                 G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                 NULL, on_session_vanished,
                                                 g_strdup (chr->obj.path), g_free);

      g_hash_table_insert (chr->sessions, g_strdup (sender), GUINT_TO_POINTER (id));
      if (g_hash_table_size (chr->sessions) == 1)
        {
          set_cccd (chr, TRUE);
          sim_obj_changed_by_name (&chr->obj, SIM_CHAR_INTERFACE, "Notifying", NULL);
        }
      g_dbus_method_invocation_return_value (invocation, NULL);
      stream_update (chr);
    }
}

void
sim_notify_stop (SimChar               *chr,
                 GDBusMethodInvocation *invocation)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);

  /* bluetoothd's StopNotify shuts an acquired notify socket down */
  if (chr->notify_fd >= 0)
    {
      release_notify_fd (chr, TRUE);
      set_cccd (chr, FALSE);
      g_dbus_method_invocation_return_value (invocation, NULL);
      stream_update (chr);
      return;
    }
  if (!g_hash_table_remove (chr->sessions, sender))
    {
      sim_return_error (invocation, SIM_ERR_FAILED, "No notify session started");
      return;
    }
  if (g_hash_table_size (chr->sessions) == 0)
    {
      set_cccd (chr, FALSE);
      sim_obj_changed_by_name (&chr->obj, SIM_CHAR_INTERFACE, "Notifying", NULL);
    }
  g_dbus_method_invocation_return_value (invocation, NULL);
  stream_update (chr);
}

void
sim_notify_acquire (SimChar               *chr,
                    GDBusMethodInvocation *invocation,
                    gboolean               notify)
{
  guint32 flags = chr->def->flags;
  g_autoptr(GError) error = NULL;
  int ours, theirs;

  if (notify ? (!(flags & (SIM_CHR_NOTIFY | SIM_CHR_INDICATE)) || !chr->def->acquire_notify)
             : (!(flags & SIM_CHR_WRITE_WITHOUT_RESPONSE) || !chr->def->acquire_write))
    {
      sim_return_error (invocation, SIM_ERR_NOT_SUPPORTED, SIM_MSG_NOT_SUPPORTED);
      return;
    }
  if (notify && g_hash_table_size (chr->sessions) > 0)
    {
      sim_return_error (invocation, SIM_ERR_IN_PROGRESS, SIM_MSG_IN_PROGRESS);
      return;
    }
  if (notify ? chr->notify_fd >= 0 : chr->write_fd >= 0)
    {
      sim_return_error (invocation, SIM_ERR_NOT_PERMITTED,
                        notify ? "Notify acquired" : "Write acquired");
      return;
    }
  if (!make_socketpair (&ours, &theirs, &error))
    {
      sim_return_error (invocation, SIM_ERR_FAILED, error->message);
      return;
    }
  if (notify)
    {
      chr->notify_fd = ours;
      chr->notify_watch = g_unix_fd_add (ours, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                         notify_fd_event, chr);
      set_cccd (chr, TRUE);
    }
  else
    {
      chr->write_fd = ours;
      chr->write_watch = g_unix_fd_add (ours, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                        write_fd_event, chr);
    }
  return_fd (invocation, theirs, chr->service->device->periph->mtu);
  sim_obj_changed_by_name (&chr->obj, SIM_CHAR_INTERFACE,
                           notify ? "NotifyAcquired" : "WriteAcquired", NULL);
  if (notify)
    stream_update (chr);
}
