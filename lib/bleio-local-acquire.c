/* SPDX-License-Identifier: MIT */
/*
 * The acquired sockets of a local characteristic and its write taps
 * (bleio-local-acquire-private.h).
 *
 * What bluetoothd 5.66 does (src/gatt-database.c, and the calls recorded
 * in tests/data/bluez-5.66/gatt-server-calls.json): when the first client
 * enables the CCCD of a characteristic whose object has a NotifyAcquired
 * property (its value does not matter), it calls AcquireNotify with
 * `device`, `link` and `mtu` instead of StartNotify, and each read() of
 * up to 512 bytes on the descriptor it gets back is one notification (or
 * indication, each confirmation calling Confirm) to every client whose
 * CCCD is on; when the last client disables it or disconnects, it closes
 * its end. A write to a characteristic with a WriteAcquired property
 * (request or command alike) calls AcquireWrite with the same options the
 * first time, and from then on each write is sent on the descriptor and
 * answered as a success without asking us, until either end closes. The
 * `mtu` it gets back is only logged. Packet boundaries must hold both
 * ways, hence SOCK_SEQPACKET.
 */
#include "bleio-local-acquire-private.h"

#include <errno.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <sys/socket.h>
#include <unistd.h>

/* bluetoothd reads 512 bytes at most; one more tells a longer packet. */
#define PACKET_MAX 513

struct _BleioLocalAcquire {
  gatomicrefcount ref;
  BleioClient *client;
  BleioLocalAcquireHooks hooks;
  gpointer attr;

  GMutex lock;
  gboolean notify_enabled;
  gboolean write_enabled;
  guint mtu;
  int notify_fd;
  GSource *notify_watch;        /* HUP of notify_fd */
  GSource *room_watch;          /* room in notify_fd for what waits */
  GQueue waiting;               /* Outgoing*, oldest first */
  int write_fd;
  GSource *write_watch;
  char *write_device;
  GPtrArray *taps;              /* Tap* */
  guint next_tap;
};

typedef struct {
  GBytes *value;
  GTask *task;
} Outgoing;

typedef struct {
  guint id;
  BleioLocalTapFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
} Tap;

static void
tap_free (gpointer data)
{
  Tap *tap = data;

  if (tap->destroy != NULL)
    tap->destroy (tap->user_data);
  g_free (tap);
}

static void
outgoing_free (Outgoing *out)
{
  g_bytes_unref (out->value);
  g_clear_object (&out->task);
  g_free (out);
}

BleioLocalAcquire *
bleio_local_acquire_new (BleioClient                  *client,
                         const BleioLocalAcquireHooks *hooks,
                         gpointer                      attr)
{
  BleioLocalAcquire *self = g_new0 (BleioLocalAcquire, 1);

  g_atomic_ref_count_init (&self->ref);
  self->client = bleio_client_ref (client);
  self->hooks = *hooks;
  self->attr = attr;
  g_mutex_init (&self->lock);
  self->notify_fd = -1;
  self->write_fd = -1;
  g_queue_init (&self->waiting);
  self->taps = g_ptr_array_new_with_free_func (tap_free);
  return self;
}

static BleioLocalAcquire *
acquire_ref (BleioLocalAcquire *self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

static void acquire_unref (gpointer data);

/* A watch keeps the attribute too: the hooks are called with it. The
 * cycle ends when the socket closes or the attribute is reset. */
static gpointer
watch_data (BleioLocalAcquire *self)
{
  self->hooks.ref (self->attr);
  return acquire_ref (self);
}

static void
watch_data_free (gpointer data)
{
  BleioLocalAcquire *self = data;

  self->hooks.unref (self->attr);
  acquire_unref (self);
}

static void
acquire_unref (gpointer data)
{
  BleioLocalAcquire *self = data;

  if (!g_atomic_ref_count_dec (&self->ref))
    return;
  g_ptr_array_unref (self->taps);
  g_free (self->write_device);
  g_mutex_clear (&self->lock);
  bleio_client_unref (self->client);
  g_free (self);
}

void
bleio_local_acquire_free (BleioLocalAcquire *self)
{
  if (self == NULL)
    return;
  bleio_local_acquire_reset (self);
  acquire_unref (self);
}

void
bleio_local_acquire_set_enabled (BleioLocalAcquire *self,
                                 gboolean           notify,
                                 gboolean           write)
{
  g_mutex_lock (&self->lock);
  self->notify_enabled = notify;
  self->write_enabled = write;
  g_mutex_unlock (&self->lock);
}

void
bleio_local_acquire_add_properties (BleioLocalAcquire *self,
                                    GVariantBuilder   *props)
{
  gboolean notify, write, notify_held, write_held;

  g_mutex_lock (&self->lock);
  notify = self->notify_enabled;
  write = self->write_enabled;
  notify_held = self->notify_fd >= 0;
  write_held = self->write_fd >= 0;
  g_mutex_unlock (&self->lock);
  /* bluetoothd looks at whether they exist, not at their values. */
  if (notify)
    g_variant_builder_add (props, "{sv}", "NotifyAcquired", g_variant_new_boolean (notify_held));
  if (write)
    g_variant_builder_add (props, "{sv}", "WriteAcquired", g_variant_new_boolean (write_held));
}

gboolean
bleio_local_acquire_notify_held (BleioLocalAcquire *self)
{
  gboolean held;

  g_mutex_lock (&self->lock);
  held = self->notify_fd >= 0;
  g_mutex_unlock (&self->lock);
  return held;
}

guint
bleio_local_acquire_get_mtu (BleioLocalAcquire *self)
{
  guint mtu;

  g_mutex_lock (&self->lock);
  mtu = self->mtu;
  g_mutex_unlock (&self->lock);
  return mtu;
}

/* ---- the notify socket ---------------------------------------------------------- */

/* Destroys the watches a close_*_locked() took, outside the lock: a
 * watch's data may hold the last reference to the attribute, whose end
 * frees this. */
static void
destroy_watches (GPtrArray *dead)
{
  for (guint i = 0; i < dead->len; i++)
    g_source_destroy (g_ptr_array_index (dead, i));
  g_ptr_array_unref (dead);
}

static GPtrArray *
dead_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) g_source_unref);
}

/* Under the lock: takes the notify socket down; what waited for room is
 * handed back to complete outside it, the watches go into @dead. */
static GQueue
close_notify_locked (BleioLocalAcquire *self,
                     GPtrArray         *dead)
{
  GQueue waiting = self->waiting;

  g_queue_init (&self->waiting);
  if (self->notify_watch != NULL)
    g_ptr_array_add (dead, g_steal_pointer (&self->notify_watch));
  if (self->room_watch != NULL)
    g_ptr_array_add (dead, g_steal_pointer (&self->room_watch));
  if (self->notify_fd >= 0)
    close (self->notify_fd);
  self->notify_fd = -1;
  return waiting;
}

/* The value is set and no client is left to hear it: as with no
 * subscription at all, the setter succeeds. */
static void
complete_waiting (GQueue *waiting)
{
  Outgoing *out;

  while ((out = g_queue_pop_head (waiting)) != NULL)
    {
      if (out->task != NULL)
        g_task_return_boolean (out->task, TRUE);
      outgoing_free (out);
    }
}

static gboolean
notify_hup (gint         fd,
            GIOCondition condition,
            gpointer     user_data)
{
  BleioLocalAcquire *self = user_data;
  GPtrArray *dead = dead_new ();
  GQueue waiting;
  gboolean ours;

  g_mutex_lock (&self->lock);
  /* Only the socket this watch was made for (a new AcquireNotify may
   * have replaced it). */
  ours = self->notify_fd == fd;
  waiting = ours ? close_notify_locked (self, dead) : (GQueue) G_QUEUE_INIT;
  g_mutex_unlock (&self->lock);
  destroy_watches (dead);
  complete_waiting (&waiting);
  if (ours)
    {
      g_debug ("bluetoothd closed the acquired notify socket: no client is subscribed");
      self->hooks.notifying (self->attr, FALSE);
    }
  return G_SOURCE_REMOVE;
}

/* Under the lock: sends what waits until the socket is full. */
static void
flush_locked (BleioLocalAcquire *self,
              GQueue            *done)
{
  Outgoing *out;

  while ((out = g_queue_peek_head (&self->waiting)) != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (out->value, &len);

      if (send (self->notify_fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
          (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
      /* Sent, or the socket is going (its HUP closes it). */
      g_queue_push_tail (done, g_queue_pop_head (&self->waiting));
    }
}

static gboolean
room_cb (gint         fd,
         GIOCondition condition,
         gpointer     user_data)
{
  BleioLocalAcquire *self = user_data;
  GQueue done = G_QUEUE_INIT;
  gboolean more = FALSE;

  g_mutex_lock (&self->lock);
  if (self->notify_fd == fd)
    {
      flush_locked (self, &done);
      more = !g_queue_is_empty (&self->waiting);
      if (!more)
        g_clear_pointer (&self->room_watch, g_source_unref);
    }
  g_mutex_unlock (&self->lock);
  complete_waiting (&done);
  return more ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

gboolean
bleio_local_acquire_send (BleioLocalAcquire *self,
                          GBytes            *value,
                          GTask             *task)
{
  GQueue done = G_QUEUE_INIT;
  Outgoing *out;

  g_mutex_lock (&self->lock);
  if (self->notify_fd < 0)
    {
      g_mutex_unlock (&self->lock);
      return FALSE;
    }
  out = g_new0 (Outgoing, 1);
  out->value = g_bytes_ref (value);
  out->task = task != NULL ? g_object_ref (task) : NULL;
  /* In order: behind whatever waits for room already. */
  g_queue_push_tail (&self->waiting, out);
  flush_locked (self, &done);
  if (!g_queue_is_empty (&self->waiting) && self->room_watch == NULL)
    {
      /* bluetoothd reads as fast as the link takes them; the setter's
       * task completes when the packet is in. */
      self->room_watch = g_unix_fd_source_new (self->notify_fd, G_IO_OUT);
      g_source_set_callback (self->room_watch, (GSourceFunc) (void (*) (void)) room_cb,
                             watch_data (self), watch_data_free);
      g_source_set_static_name (self->room_watch, "[bleio] acquired notify room");
      g_source_attach (self->room_watch, bleio_client_get_worker_context (self->client));
    }
  g_mutex_unlock (&self->lock);
  complete_waiting (&done);
  return TRUE;
}

gboolean
bleio_local_acquire_try_send (BleioLocalAcquire *self,
                              GBytes            *value)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (value, &len);
  gboolean sent;

  g_mutex_lock (&self->lock);
  sent = self->notify_fd >= 0 && g_queue_is_empty (&self->waiting) &&
         send (self->notify_fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
  g_mutex_unlock (&self->lock);
  return sent;
}

/* A socket pair: ours in *@mine, bluetoothd's in the reply. */
static gboolean
reply_with_socket (GDBusMethodInvocation *invocation,
                   guint16                mtu,
                   int                   *mine)
{
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr(GError) error = NULL;
  int sv[2];
  int index;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    {
      int saved = errno;

      /* bluetoothd falls back to WriteValue / StartNotify on an error
       * other than Failed. */
      g_dbus_method_invocation_return_dbus_error (invocation, "org.bluez.Error.NotSupported",
                                                  g_strerror (saved));
      return FALSE;
    }
  index = g_unix_fd_list_append (fds, sv[1], &error);
  close (sv[1]);
  if (index < 0)
    {
      close (sv[0]);
      g_dbus_method_invocation_return_dbus_error (invocation, "org.bluez.Error.NotSupported",
                                                  error->message);
      return FALSE;
    }
  *mine = sv[0];
  g_dbus_method_invocation_return_value_with_unix_fd_list (
      invocation, g_variant_new ("(hq)", index, mtu), fds);
  return TRUE;
}

static gboolean
acquire_notify (BleioLocalAcquire     *self,
                guint16                mtu,
                GDBusMethodInvocation *invocation)
{
  GPtrArray *dead = dead_new ();
  GQueue stale;
  int fd;

  if (!reply_with_socket (invocation, mtu, &fd))
    {
      g_ptr_array_unref (dead);
      return TRUE;
    }
  g_mutex_lock (&self->lock);
  /* bluetoothd asks again only once it has closed the last one, or after
   * a restart: whatever we still hold is spent. */
  stale = close_notify_locked (self, dead);
  self->notify_fd = fd;
  self->mtu = mtu;
  self->notify_watch = g_unix_fd_source_new (fd, G_IO_HUP | G_IO_ERR);
  g_source_set_callback (self->notify_watch, (GSourceFunc) (void (*) (void)) notify_hup,
                         watch_data (self), watch_data_free);
  g_source_set_static_name (self->notify_watch, "[bleio] acquired notify");
  g_source_attach (self->notify_watch, bleio_client_get_worker_context (self->client));
  g_mutex_unlock (&self->lock);
  destroy_watches (dead);
  complete_waiting (&stale);
  self->hooks.notifying (self->attr, TRUE);
  return TRUE;
}

/* ---- the write socket ----------------------------------------------------------- */

static void
close_write_locked (BleioLocalAcquire *self,
                    GPtrArray         *dead)
{
  if (self->write_watch != NULL)
    g_ptr_array_add (dead, g_steal_pointer (&self->write_watch));
  if (self->write_fd >= 0)
    close (self->write_fd);
  self->write_fd = -1;
}

static gboolean
write_ready (gint         fd,
             GIOCondition condition,
             gpointer     user_data)
{
  BleioLocalAcquire *self = user_data;
  g_autofree char *device = NULL;
  guint8 packet[PACKET_MAX];

  g_mutex_lock (&self->lock);
  device = g_strdup (self->write_device);
  g_mutex_unlock (&self->lock);
  for (;;)
    {
      ssize_t n = recv (fd, packet, sizeof packet, MSG_DONTWAIT);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return G_SOURCE_CONTINUE;
      /* A zero-length record is a zero-length write; with the other end
       * gone it is the end. */
      if (n < 0 || (n == 0 && (condition & (G_IO_HUP | G_IO_ERR))))
        break;
      self->hooks.packet (self->attr, packet, (gsize) n, device);
      if (n == 0)
        return G_SOURCE_CONTINUE;
    }
  g_mutex_lock (&self->lock);
  /* The next client write acquires again (bluetoothd's sock_hup()). */
  if (self->write_fd == fd)
    {
      g_clear_pointer (&self->write_watch, g_source_unref);
      close (self->write_fd);
      self->write_fd = -1;
    }
  g_mutex_unlock (&self->lock);
  return G_SOURCE_REMOVE;
}

static gboolean
acquire_write (BleioLocalAcquire     *self,
               guint16                mtu,
               const char            *device,
               GDBusMethodInvocation *invocation)
{
  GPtrArray *dead;
  int fd;

  if (!reply_with_socket (invocation, mtu, &fd))
    return TRUE;
  dead = dead_new ();
  g_mutex_lock (&self->lock);
  close_write_locked (self, dead);
  self->write_fd = fd;
  self->mtu = mtu;
  g_free (self->write_device);
  self->write_device = g_strdup (device);
  self->write_watch = g_unix_fd_source_new (fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
  g_source_set_callback (self->write_watch, (GSourceFunc) (void (*) (void)) write_ready,
                         watch_data (self), watch_data_free);
  g_source_set_static_name (self->write_watch, "[bleio] acquired write");
  g_source_attach (self->write_watch, bleio_client_get_worker_context (self->client));
  g_mutex_unlock (&self->lock);
  destroy_watches (dead);
  return TRUE;
}

gboolean
bleio_local_acquire_handle (BleioLocalAcquire     *self,
                            const char            *method,
                            GVariant              *parameters,
                            GDBusMethodInvocation *invocation)
{
  g_autoptr(GVariant) options = g_variant_get_child_value (parameters, 0);
  gboolean notify = g_str_equal (method, "AcquireNotify");
  const char *device = "";
  gboolean enabled;
  guint16 mtu = 23;

  g_mutex_lock (&self->lock);
  enabled = notify ? self->notify_enabled : self->write_enabled;
  g_mutex_unlock (&self->lock);
  if (!enabled)
    return FALSE;
  g_variant_lookup (options, "mtu", "q", &mtu);
  g_variant_lookup (options, "device", "&o", &device);
  g_debug ("bluetoothd calls %s (device %s, mtu %u)", method, device, mtu);
  return notify ? acquire_notify (self, mtu, invocation)
                : acquire_write (self, mtu, device, invocation);
}

void
bleio_local_acquire_reset (BleioLocalAcquire *self)
{
  GPtrArray *dead = dead_new ();
  GQueue waiting;

  g_mutex_lock (&self->lock);
  waiting = close_notify_locked (self, dead);
  close_write_locked (self, dead);
  g_mutex_unlock (&self->lock);
  destroy_watches (dead);
  complete_waiting (&waiting);
}

/* ---- taps ---------------------------------------------------------------------- */

guint
bleio_local_acquire_add_tap (BleioLocalAcquire *self,
                             BleioLocalTapFunc  func,
                             gpointer           user_data,
                             GDestroyNotify     destroy)
{
  Tap *tap = g_new0 (Tap, 1);
  guint id;

  tap->func = func;
  tap->user_data = user_data;
  tap->destroy = destroy;
  g_mutex_lock (&self->lock);
  id = tap->id = ++self->next_tap;
  g_ptr_array_add (self->taps, tap);
  g_mutex_unlock (&self->lock);
  return id;
}

void
bleio_local_acquire_remove_tap (BleioLocalAcquire *self,
                                guint              id)
{
  Tap *gone = NULL;

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->taps->len; i++)
    if (((Tap *) g_ptr_array_index (self->taps, i))->id == id)
      {
        gone = g_ptr_array_steal_index (self->taps, i);
        break;
      }
  g_mutex_unlock (&self->lock);
  if (gone != NULL)
    tap_free (gone);
}

void
bleio_local_acquire_tell_taps (BleioLocalAcquire *self,
                               const guint8      *data,
                               gsize              len)
{
  /* Under the lock, so a tap removed meanwhile is not called after its
   * removal returned: taps only push into an inbox. */
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->taps->len; i++)
    {
      Tap *tap = g_ptr_array_index (self->taps, i);

      tap->func (data, len, tap->user_data);
    }
  g_mutex_unlock (&self->lock);
}
