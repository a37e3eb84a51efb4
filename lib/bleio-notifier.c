/* SPDX-License-Identifier: MIT */
/*
 * The notifier: feeds an inbox from BlueZ on the client's worker thread,
 * so inboxes fill while the application blocks in a read with no main
 * loop running. It takes AcquireNotify when the characteristic allows it:
 * one notification per read() on a SOCK_SEQPACKET descriptor, where a
 * zero-length read is a zero-length notification unless the peer hung up,
 * and a hang-up means the link is gone (DESIGN §3 quirk 7). Otherwise it
 * takes Value changes, only while the characteristic is subscribed
 * (quirk 9).
 *
 * When the characteristic goes while the link stays (the peer's database
 * changed), the notifier waits until the database has settled and then
 * follows it to its new object if the peer still has one at the same
 * place (lib/bleio-gatt-place.c), subscribing there as it had here;
 * otherwise the inbox ends with DOES_NOT_EXIST (issue 19 item 6).
 */
#define _GNU_SOURCE   /* POLLRDHUP */
#include "bleio-notifier-private.h"
#include "bleio-att-private.h"
#include "bleio-characteristic-private.h"
#include "bleio-gatt-private.h"
#include "bleio-db-watch-private.h"
#include "bleio-gatt-place-private.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>

/* Larger than any ATT payload (BLEIO_ATT_MAX_MTU - 3); SEQPACKET keeps
 * boundaries. */
#define PACKET_MAX 1024
/* Packets read per wake-up before giving the worker back. */
#define READ_BURST 256
/* A byte inbox takes the packets of one wake-up in one push: one lock and
 * one wake-up of its reader per batch instead of per notification. */
#define BATCH_BYTES (64 * PACKET_MAX)

struct _BleioNotifier {
  gint ref_count;
  BleioClient *client;
  BleioInbox *inbox;
  char *device_path;
  gboolean subscribe;           /* as asked at the start */
  BleioGattPlace *place;        /* what a re-bind looks for; may be NULL */

  /* Changed on the worker by a re-bind; other threads read them under
   * @lock. */
  GMutex lock;
  BleioCharacteristic *characteristic;
  char *path;
  BleioNotifierReboundFunc rebound;
  gpointer rebound_data;
  GDestroyNotify rebound_destroy;

  /* Set before the start task returns, read on the worker. */
  gint acquired;
  gint subscribed;
  gint riding;                  /* on another client's StartNotify session */
  gint held_subscription;       /* we hold one on characteristic */
  gint held_acquired;           /* likewise */
  gint stopped;
  gint started;                 /* the start task returned the notifier */
  gint mtu;
  gsize packet_max;             /* longest notification: MTU - 3 */

  /* Worker only (after start). */
  int fd;
  GSource *fd_source;
  guint8 *batch;                /* BATCH_BYTES, for a byte inbox */
  guint watch_id;
  GSource *verdict;             /* see notifier_suspect() */
};

static BleioNotifier *
notifier_ref (BleioNotifier *notifier)
{
  g_atomic_int_inc (&notifier->ref_count);
  return notifier;
}

static void
notifier_unref (gpointer data)
{
  BleioNotifier *notifier = data;

  if (notifier == NULL || !g_atomic_int_dec_and_test (&notifier->ref_count))
    return;
  if (notifier->fd >= 0)
    close (notifier->fd);
  g_free (notifier->batch);
  bleio_inbox_unref (notifier->inbox);
  bleio_client_unref (notifier->client);
  g_object_unref (notifier->characteristic);
  if (notifier->rebound_destroy != NULL)
    notifier->rebound_destroy (notifier->rebound_data);
  bleio_gatt_place_free (notifier->place);
  g_mutex_clear (&notifier->lock);
  g_free (notifier->path);
  g_free (notifier->device_path);
  g_free (notifier);
}

/* The subscription and the descriptor this notifier holds on its
 * characteristic object, taken when BlueZ gave them. */
static void
hold_subscription (BleioNotifier *notifier)
{
  g_atomic_int_set (&notifier->subscribed, 1);
  g_atomic_int_set (&notifier->held_subscription, 1);
  bleio_characteristic_hold_subscription (notifier->characteristic, TRUE);
}

static void
hold_acquired (BleioNotifier *notifier)
{
  g_atomic_int_set (&notifier->acquired, 1);
  g_atomic_int_set (&notifier->held_acquired, 1);
  bleio_characteristic_hold_acquired (notifier->characteristic, TRUE);
}

/* Under @lock: gives back what hold_*() took, once. @stop_notify ends
 * BlueZ's session too, unless another holder keeps it; not after a
 * re-bind, whose old object is gone (and its path maybe another
 * attribute's). */
static void
release_holds (BleioNotifier *notifier,
               gboolean       stop_notify)
{
  if (g_atomic_int_compare_and_exchange (&notifier->held_subscription, 1, 0))
    {
      bleio_characteristic_hold_subscription (notifier->characteristic, FALSE);
      /* The application's own set_cccd(), or another buffer, keeps the
       * session. */
      if (stop_notify &&
          !bleio_characteristic_is_subscribed (notifier->characteristic) &&
          bleio_client_has_owner (notifier->client))
        bleio_client_call (notifier->client, notifier->path, BLEIO_IFACE_CHARACTERISTIC,
                           "StopNotify", NULL, BLEIO_CALL_ATT_MSEC, NULL, NULL, NULL);
    }
  if (g_atomic_int_compare_and_exchange (&notifier->held_acquired, 1, 0))
    bleio_characteristic_hold_acquired (notifier->characteristic, FALSE);
}

/* Worker. */
static void
notifier_drop_fd (BleioNotifier *notifier)
{
  if (notifier->fd_source != NULL)
    {
      g_source_destroy (notifier->fd_source);
      g_clear_pointer (&notifier->fd_source, g_source_unref);
    }
  if (notifier->fd >= 0)
    {
      close (notifier->fd);
      notifier->fd = -1;
    }
}

/* Worker. */
static void
cancel_verdict (BleioNotifier *notifier)
{
  if (notifier->verdict != NULL)
    {
      g_source_destroy (notifier->verdict);
      g_clear_pointer (&notifier->verdict, g_source_unref);
    }
}

/* Worker. */
static void
notifier_lost (BleioNotifier *notifier,
               const char    *why)
{
  cancel_verdict (notifier);
  if (!bleio_inbox_is_lost (notifier->inbox))
    g_debug ("notifications of %s lost: %s", notifier->path, why);
  bleio_inbox_set_lost (notifier->inbox);
}

/* Worker: the characteristic is gone while the device stays connected
 * (the peer's database changed), rather than the link. */
static gboolean
notifier_char_gone (BleioNotifier *notifier)
{
  return bleio_client_get_boolean (notifier->client, notifier->device_path,
                                   BLEIO_IFACE_DEVICE, "Connected")
         && bleio_client_get_incarnation (notifier->client, notifier->path)
              != bleio_characteristic_get_incarnation (notifier->characteristic);
}

static void notifier_rebind (BleioNotifier *notifier,
                             const char    *path);

static gboolean
verdict_cb (gpointer user_data)
{
  BleioNotifier *notifier = user_data;
  g_autofree char *successor = NULL;

  g_clear_pointer (&notifier->verdict, g_source_unref);
  if (g_atomic_int_get (&notifier->stopped))
    return G_SOURCE_REMOVE;
  if (!notifier_char_gone (notifier))
    {
      notifier_lost (notifier, "the notifications stopped, the link stayed");
      return G_SOURCE_REMOVE;
    }
  /* A characteristic that went while the start was still under way is
   * not followed: the start fails on it (check_connected). */
  if (notifier->place != NULL && g_atomic_int_get (&notifier->started))
    successor = bleio_gatt_place_find (notifier->place, notifier->client, notifier->device_path);
  if (successor != NULL)
    {
      notifier_rebind (notifier, successor);
      return G_SOURCE_REMOVE;
    }
  g_debug ("%s: gone with a change of the peer's database", notifier->path);
  bleio_inbox_set_gone (notifier->inbox);
  return G_SOURCE_REMOVE;
}

/* Worker: (re)starts the wait for the verdict. */
static void
arm_verdict (BleioNotifier *notifier)
{
  cancel_verdict (notifier);
  notifier->verdict = g_timeout_source_new (BLEIO_DB_SETTLE_MSEC);
  g_source_set_callback (notifier->verdict, verdict_cb, notifier_ref (notifier), notifier_unref);
  g_source_set_static_name (notifier->verdict, "[bleio] notifier verdict");
  g_source_attach (notifier->verdict, bleio_client_get_worker_context (notifier->client));
}

/* Worker: the notifications stopped (the characteristic's object went, or
 * its descriptor hung up) while the cache still shows the link up. On a
 * link loss bluetoothd removes the GATT objects before Connected turns
 * false, and on a change of the peer's database Connected never does: so
 * the inbox ends with a verdict once the link's fate is known (Connected
 * false, bluetoothd leaving: notifier_lost()) or the database has had
 * time to settle: BLEIO_DB_SETTLE_MSEC with no service of the device
 * coming or going (on_notifier_event() re-arms the wait), as for
 * BleioConnection::services-changed. */
static void
notifier_suspect (BleioNotifier *notifier,
                  const char    *why)
{
  if (!bleio_client_get_boolean (notifier->client, notifier->device_path,
                                 BLEIO_IFACE_DEVICE, "Connected"))
    {
      notifier_lost (notifier, why);
      return;
    }
  if (notifier->verdict != NULL || bleio_inbox_is_lost (notifier->inbox))
    return;
  g_debug ("%s: %s; waiting for the link or the database", notifier->path, why);
  arm_verdict (notifier);
}

static void
notifier_take (BleioNotifier *notifier,
               const guint8  *data,
               gsize          len,
               gboolean       signal)
{
  bleio_inbox_push (notifier->inbox, data, len);
  if (signal)
    bleio_characteristic_deliver (notifier->characteristic, data, len);
}

/* Worker: the peer hung up once poll says so. */
static gboolean
fd_hung_up (int fd)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };

  if (poll (&pfd, 1, 0) < 0)
    return FALSE;
  return (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
}

static gboolean
fd_ready_cb (int          fd,
             GIOCondition condition,
             gpointer     user_data)
{
  BleioNotifier *notifier = user_data;
  guint8 buf[PACKET_MAX];
  gboolean bytes = bleio_inbox_get_mode (notifier->inbox) == BLEIO_INBOX_BYTES;
  gsize batched = 0;
  gboolean drained = FALSE;
  gboolean signal;

  if (g_atomic_int_get (&notifier->stopped))
    return G_SOURCE_CONTINUE;   /* the teardown removes us */
  /* Asked once per wake-up: asked per packet (it takes GLib's signal
   * lock), it cost ~250 of the 1,350 instructions of a 20-byte
   * notification (bench-notify under callgrind). */
  signal = bleio_characteristic_wants_notifications (notifier->characteristic);
  if (bytes && notifier->batch == NULL)
    notifier->batch = g_malloc (BATCH_BYTES);
  for (guint i = 0; i < READ_BURST; i++)
    {
      guint8 *into = bytes ? notifier->batch + batched : buf;
      /* A packet longer than the MTU allows is cut to it, as no peer
       * could have sent more (SEQPACKET drops the excess). */
      ssize_t n = recv (fd, into, notifier->packet_max, MSG_DONTWAIT);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        {
          drained = !(condition & (G_IO_HUP | G_IO_ERR));
          break;
        }
      if (n < 0)
        break;
      /* SEQPACKET: 0 is an empty notification, or end of file when the
       * other side is gone. */
      if (n == 0 && fd_hung_up (fd))
        break;
      if (!bytes)
        {
          notifier_take (notifier, buf, (gsize) n, signal);
          continue;
        }
      if (signal)
        bleio_characteristic_deliver (notifier->characteristic, into, (gsize) n);
      batched += (gsize) n;
      if (batched > BATCH_BYTES - PACKET_MAX)
        {
          bleio_inbox_push (notifier->inbox, notifier->batch, batched);
          batched = 0;
        }
    }
  if (batched > 0)
    bleio_inbox_push (notifier->inbox, notifier->batch, batched);
  if (drained)
    return G_SOURCE_CONTINUE;
  if (!(condition & (G_IO_HUP | G_IO_ERR)) && !fd_hung_up (fd))
    return G_SOURCE_CONTINUE;   /* more than a burst was waiting */

  notifier_suspect (notifier, "the notification descriptor hung up");
  g_clear_pointer (&notifier->fd_source, g_source_unref);
  close (notifier->fd);
  notifier->fd = -1;
  return G_SOURCE_REMOVE;
}

/* Worker. */
static void
on_notifier_event (BleioClient            *client,
                   const BleioClientEvent *event,
                   gpointer                user_data)
{
  BleioNotifier *notifier = user_data;
  gboolean connected = TRUE;

  if (g_atomic_int_get (&notifier->stopped))
    return;
  switch (event->kind)
    {
    case BLEIO_CLIENT_EVENT_OWNER:
      if (!event->has_owner)
        notifier_lost (notifier, "bluetoothd left the bus");
      break;
    case BLEIO_CLIENT_EVENT_ADDED:
    case BLEIO_CLIENT_EVENT_REMOVED:
      /* A service of the device comes or goes: the database has not
       * settled yet. */
      if (notifier->verdict != NULL &&
          g_str_equal (event->interface, BLEIO_IFACE_SERVICE))
        arm_verdict (notifier);
      if (event->kind != BLEIO_CLIENT_EVENT_REMOVED)
        break;
      if (g_str_equal (event->path, notifier->device_path) &&
          g_str_equal (event->interface, BLEIO_IFACE_DEVICE))
        notifier_lost (notifier, "the device went away");
      else if (g_str_equal (event->path, notifier->path) &&
               g_str_equal (event->interface, BLEIO_IFACE_CHARACTERISTIC))
        notifier_suspect (notifier, "the characteristic went away");
      break;
    case BLEIO_CLIENT_EVENT_CHANGED:
      if (g_str_equal (event->path, notifier->device_path) &&
          g_str_equal (event->interface, BLEIO_IFACE_DEVICE) &&
          bleio_client_event_get_boolean (event, "Connected", &connected) && !connected)
        {
          notifier_lost (notifier, "the device disconnected");
        }
      else if (notifier->verdict != NULL &&
               g_str_equal (event->path, notifier->device_path) &&
               g_str_equal (event->interface, BLEIO_IFACE_DEVICE) &&
               bleio_client_event_get_boolean (event, "ServicesResolved", &connected) &&
               !connected)
        {
          /* On a link loss ServicesResolved turns false just before
           * Connected does (the connection is spent on the latter); a
           * change of the database leaves it alone on 5.66. */
          notifier_lost (notifier, "the device's services went with the link");
        }
      else if (g_str_equal (event->path, notifier->path) &&
               g_str_equal (event->interface, BLEIO_IFACE_CHARACTERISTIC) &&
               !g_atomic_int_get (&notifier->acquired))
        {
          g_autoptr(GVariant) value = bleio_client_event_dup_changed (event, "Value",
                                                                      G_VARIANT_TYPE_BYTESTRING);
          gboolean notifying = TRUE;
          gsize len = 0;
          const guint8 *data;

          /* The session we rode on ended: take our own. */
          if (bleio_client_event_get_boolean (event, "Notifying", &notifying) && !notifying &&
              g_atomic_int_compare_and_exchange (&notifier->riding, 1, 0))
            {
              g_debug ("%s: the other client's session ended; subscribing", notifier->path);
              hold_subscription (notifier);
              bleio_client_call (client, notifier->path, BLEIO_IFACE_CHARACTERISTIC,
                                 "StartNotify", NULL, BLEIO_CALL_ATT_MSEC, NULL, NULL, NULL);
            }

          if (value == NULL)
            break;
          /* Notifications only: a Value change while nothing is
           * subscribed comes from somebody's read. */
          if (!g_atomic_int_get (&notifier->subscribed) &&
              !bleio_client_get_boolean (client, notifier->path,
                                         BLEIO_IFACE_CHARACTERISTIC, "Notifying"))
            break;
          data = g_variant_get_fixed_array (value, &len, 1);
          bleio_inbox_push (notifier->inbox, data, MIN (len, notifier->packet_max));
        }
      break;
    default:
      break;
    }
}

static gboolean
notifier_teardown_cb (gpointer user_data)
{
  BleioNotifier *notifier = user_data;

  bleio_client_unwatch (notifier->client, notifier->watch_id);
  notifier->watch_id = 0;
  cancel_verdict (notifier);
  notifier_drop_fd (notifier);
  return G_SOURCE_REMOVE;
}

void
bleio_notifier_stop (BleioNotifier *notifier)
{
  if (notifier == NULL || !g_atomic_int_compare_and_exchange (&notifier->stopped, 0, 1))
    return;
  g_mutex_lock (&notifier->lock);
  release_holds (notifier, TRUE);
  g_mutex_unlock (&notifier->lock);
  g_main_context_invoke_full (bleio_client_get_worker_context (notifier->client),
                              G_PRIORITY_DEFAULT, notifier_teardown_cb,
                              notifier_ref (notifier), notifier_unref);
}

void
bleio_notifier_unref (BleioNotifier *notifier)
{
  notifier_unref (notifier);
}

gboolean
bleio_notifier_is_acquired (BleioNotifier *notifier)
{
  return g_atomic_int_get (&notifier->acquired);
}

guint
bleio_notifier_get_mtu (BleioNotifier *notifier)
{
  return (guint) g_atomic_int_get (&notifier->mtu);
}

/* Worker: the descriptor is watched from here on. */
static gboolean
attach_fd_cb (gpointer user_data)
{
  BleioNotifier *notifier = user_data;

  if (g_atomic_int_get (&notifier->stopped) || notifier->fd < 0)
    return G_SOURCE_REMOVE;
  notifier->fd_source = g_unix_fd_source_new (notifier->fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
  g_source_set_callback (notifier->fd_source, G_SOURCE_FUNC (fd_ready_cb),
                         notifier_ref (notifier), notifier_unref);
  g_source_set_static_name (notifier->fd_source, "[bleio] notify fd");
  g_source_attach (notifier->fd_source, bleio_client_get_worker_context (notifier->client));
  return G_SOURCE_REMOVE;
}

static void
start_return (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  BleioNotifier *notifier = g_task_get_task_data (task);
  GError *error = NULL;

  if (!bleio_characteristic_check_connected (notifier->characteristic, &error))
    {
      bleio_notifier_stop (notifier);
      g_task_return_error (task, error);
      return;
    }
  g_atomic_int_set (&notifier->started, 1);
  g_task_return_pointer (task, notifier_ref (notifier), notifier_unref);
}

static void
start_fail (GTask  *task_in,
            GError *error)
{
  g_autoptr(GTask) task = task_in;
  BleioNotifier *notifier = g_task_get_task_data (task);

  bleio_notifier_stop (notifier);
  g_task_return_error (task, error);
}

static void
start_notify_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  g_autoptr(GVariant) reply = bleio_gatt_call_finish (result, &error);

  if (reply == NULL)
    {
      start_fail (g_steal_pointer (&task), error);
      return;
    }
  start_return (g_steal_pointer (&task));
}

static void
start_fallback (GTask *task_in,
                gboolean subscribe)
{
  g_autoptr(GTask) task = task_in;
  BleioNotifier *notifier = g_task_get_task_data (task);
  GCancellable *cancellable;

  if (!subscribe)
    {
      start_return (g_steal_pointer (&task));
      return;
    }
  /* bluetoothd 5.66 emits one Value change per StartNotify session for
   * every notification (each session has its own callback), so a session
   * of ours next to another client's would deliver each one twice (the
   * e2e guest saw it). Ride on theirs; on_notifier_event() takes a session
   * of our own when theirs ends. */
  if (!bleio_characteristic_is_subscribed (notifier->characteristic) &&
      bleio_client_get_boolean (notifier->client, notifier->path,
                                BLEIO_IFACE_CHARACTERISTIC, "Notifying"))
    {
      g_debug ("%s: another client is subscribed; using its session", notifier->path);
      g_atomic_int_set (&notifier->riding, 1);
      start_return (g_steal_pointer (&task));
      return;
    }
  cancellable = g_task_get_cancellable (task);
  hold_subscription (notifier);
  bleio_gatt_call_async (notifier->client, notifier->path, BLEIO_IFACE_CHARACTERISTIC,
                         "StartNotify", NULL, cancellable,
                         start_notify_cb, g_steal_pointer (&task));
}

/* How long a refused AcquireNotify waits for bluetoothd to see that our
 * previous descriptor on the characteristic was closed, and how often the
 * cache is looked at meanwhile. */
#define REACQUIRE_WAIT_MSEC 5000
#define REACQUIRE_POLL_MSEC 5

typedef struct {
  GTask *task;
  gboolean subscribe;
  gboolean retried;
  guint waited_msec;
} AcquireNotifyData;

static void acquire_notify_send (AcquireNotifyData *data);

/* The task's context: poll the cache until bluetoothd has said that the
 * descriptor we released is no longer acquired, then ask again. */
static gboolean
acquire_notify_wait_cb (gpointer user_data)
{
  AcquireNotifyData *data = user_data;
  BleioNotifier *notifier = g_task_get_task_data (data->task);
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (data->task))
    {
      bleio_notifier_stop (notifier);
      g_object_unref (data->task);
      g_free (data);
      return G_SOURCE_REMOVE;
    }
  if (!bleio_characteristic_check_connected (notifier->characteristic, &error))
    {
      start_fail (data->task, error);
      g_free (data);
      return G_SOURCE_REMOVE;
    }
  data->waited_msec += REACQUIRE_POLL_MSEC;
  if (bleio_client_get_boolean (notifier->client, notifier->path,
                                BLEIO_IFACE_CHARACTERISTIC, "NotifyAcquired") &&
      data->waited_msec < REACQUIRE_WAIT_MSEC)
    return G_SOURCE_CONTINUE;
  acquire_notify_send (data);
  return G_SOURCE_REMOVE;
}

static void
acquire_notify_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  AcquireNotifyData *data = user_data;
  g_autoptr(GTask) task = data->task;
  gboolean subscribe = data->subscribe;
  BleioNotifier *notifier = g_task_get_task_data (task);
  g_autoptr(GUnixFDList) fds = NULL;
  GError *local = NULL;
  GError *error = NULL;
  g_autoptr(GVariant) reply = NULL;
  gint32 index = -1;
  guint16 mtu = 0;
  int fd;

  reply = g_dbus_connection_call_with_unix_fd_list_finish (G_DBUS_CONNECTION (source),
                                                           &fds, result, &local);
  if (reply == NULL)
    {
      bleio_propagate_dbus_error (&error, local);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
          g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_CONNECTION))
        {
          g_free (data);
          start_fail (g_steal_pointer (&task), error);
          return;
        }
      /* "Notify acquired" for a descriptor this process has just closed:
       * bluetoothd frees it only once its main loop sees the hang-up.
       * Wait for NotifyAcquired to turn false, then ask once more. */
      if (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_NOT_PERMITTED) &&
          !data->retried &&
          bleio_characteristic_released_acquired (notifier->characteristic))
        {
          GSource *wait = g_timeout_source_new (REACQUIRE_POLL_MSEC);

          g_debug ("AcquireNotify on %s refused (%s): waiting for the release",
                   notifier->path, error->message);
          g_error_free (error);
          data->retried = TRUE;
          data->task = g_steal_pointer (&task);
          g_source_set_callback (wait, acquire_notify_wait_cb, data, NULL);
          g_source_set_static_name (wait, "[bleio] AcquireNotify retry");
          g_source_attach (wait, g_task_get_context (data->task));
          g_source_unref (wait);
          return;
        }
      g_free (data);
      /* Refused (not allowed, or StartNotify already holds it): take the
       * Value signals instead. */
      g_debug ("AcquireNotify on %s refused (%s): using Value signals",
               notifier->path, error->message);
      g_error_free (error);
      start_fallback (g_steal_pointer (&task), subscribe);
      return;
    }
  g_free (data);
  g_variant_get (reply, "(hq)", &index, &mtu);
  /* A descriptor index past the list (or no list) is a broken answer:
   * GUnixFDList would complain loudly, so check it here. */
  fd = fds != NULL && index >= 0 && index < g_unix_fd_list_get_length (fds)
       ? g_unix_fd_list_get (fds, index, &local) : -1;
  if (fd < 0)
    {
      if (local != NULL)
        g_error_free (local);
      start_fallback (g_steal_pointer (&task), subscribe);
      return;
    }
  g_unix_set_fd_nonblocking (fd, TRUE, NULL);
  /* Keep a broken answer within ATT's bounds. */
  mtu = CLAMP (mtu, BLEIO_ATT_MIN_MTU, BLEIO_ATT_MAX_MTU);
  notifier->fd = fd;
  g_atomic_int_set (&notifier->mtu, mtu);
  notifier->packet_max = mtu - 3;
  bleio_characteristic_note_mtu (notifier->characteristic, mtu);
  hold_acquired (notifier);
  g_main_context_invoke_full (bleio_client_get_worker_context (notifier->client),
                              G_PRIORITY_DEFAULT, attach_fd_cb,
                              notifier_ref (notifier), notifier_unref);
  start_return (g_steal_pointer (&task));
}

/* Called in the task's context; the reply comes back there. */
static void
acquire_notify_send (AcquireNotifyData *data)
{
  BleioNotifier *notifier = g_task_get_task_data (data->task);

  g_dbus_connection_call_with_unix_fd_list (bleio_client_get_connection (notifier->client),
                                            BLEIO_BLUEZ_NAME, notifier->path,
                                            BLEIO_IFACE_CHARACTERISTIC, "AcquireNotify",
                                            g_variant_new ("(a{sv})", NULL),
                                            G_VARIANT_TYPE ("(hq)"),
                                            G_DBUS_CALL_FLAGS_NO_AUTO_START, BLEIO_CALL_ATT_MSEC, NULL,
                                            g_task_get_cancellable (data->task),
                                            acquire_notify_cb, data);
}

/* The events the notifier needs: the device's (the link), its
 * characteristic's (Value, Notifying, going) and the coming and going of
 * the device's services (the database settling, see notifier_suspect()). */
static void
notifier_watch (BleioNotifier *notifier)
{
  BleioClientWatchKey keys[] = {
    { notifier->device_path, BLEIO_IFACE_DEVICE, FALSE, 0 },
    { notifier->path, BLEIO_IFACE_CHARACTERISTIC, FALSE, 0 },
    { notifier->device_path, BLEIO_IFACE_SERVICE, TRUE, 0 },
  };

  notifier->watch_id = bleio_client_watch_keys (notifier->client, NULL, keys, G_N_ELEMENTS (keys),
                                                on_notifier_event, notifier_ref (notifier),
                                                notifier_unref);
}

/* AcquireNotify when the characteristic allows it, else Value changes
 * (after StartNotify when asked to subscribe); @task_in's data is the
 * notifier. */
static void
notifier_subscribe (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  BleioNotifier *notifier = g_task_get_task_data (task);

  if (bleio_characteristic_can_acquire (notifier->characteristic, FALSE))
    {
      AcquireNotifyData *data = g_new0 (AcquireNotifyData, 1);

      data->task = g_steal_pointer (&task);
      data->subscribe = notifier->subscribe;
      acquire_notify_send (data);
      return;
    }
  start_fallback (g_steal_pointer (&task), notifier->subscribe);
}

/* Worker: the end of a re-bind's subscription. */
static void
rebound_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  BleioNotifier *notifier = user_data;
  GError *error = NULL;
  BleioNotifier *started = g_task_propagate_pointer (G_TASK (result), &error);
  BleioNotifierReboundFunc rebound;
  gpointer rebound_data;

  if (started == NULL)
    {
      /* start_fail() stopped the notifier; the inbox ends as the link did,
       * or as the characteristic that could not be followed. */
      g_debug ("%s: subscribing after the re-bind failed: %s", notifier->path, error->message);
      if (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_CONNECTION))
        bleio_inbox_set_lost (notifier->inbox);
      else
        bleio_inbox_set_gone (notifier->inbox);
      g_error_free (error);
      notifier_unref (notifier);
      return;
    }
  notifier_unref (started);
  g_mutex_lock (&notifier->lock);
  if (g_atomic_int_get (&notifier->stopped))
    {
      /* Stopped meanwhile: what this re-bind took is given back here. */
      release_holds (notifier, TRUE);
      g_mutex_unlock (&notifier->lock);
      notifier_drop_fd (notifier);
      notifier_unref (notifier);
      return;
    }
  rebound = notifier->rebound;
  rebound_data = notifier->rebound_data;
  g_mutex_unlock (&notifier->lock);
  g_debug ("%s: re-bound, notifications flow again", notifier->path);
  if (rebound != NULL)
    rebound (notifier->characteristic, rebound_data);
  notifier_unref (notifier);
}

/* Worker: the characteristic came back at @path after a change of the
 * peer's database. The notifier moves there and subscribes as it did at
 * the start; the inbox keeps what it holds. */
static void
notifier_rebind (BleioNotifier *notifier,
                 const char    *path)
{
  BleioCharacteristic *successor =
    bleio_characteristic_new_successor (notifier->characteristic, path);
  BleioCharacteristic *old;
  GTask *task;

  if (successor == NULL)
    {
      bleio_inbox_set_gone (notifier->inbox);
      return;
    }
  g_debug ("%s: the peer's database changed; following the characteristic to %s",
           notifier->path, path);
  bleio_client_unwatch (notifier->client, notifier->watch_id);
  notifier->watch_id = 0;
  notifier_drop_fd (notifier);
  g_mutex_lock (&notifier->lock);
  release_holds (notifier, FALSE);
  old = notifier->characteristic;
  notifier->characteristic = successor;
  g_free (notifier->path);
  notifier->path = g_strdup (path);
  g_atomic_int_set (&notifier->acquired, 0);
  g_atomic_int_set (&notifier->subscribed, 0);
  g_atomic_int_set (&notifier->riding, 0);
  g_mutex_unlock (&notifier->lock);
  g_object_unref (old);
  notifier_watch (notifier);
  task = g_task_new (NULL, NULL, rebound_cb, notifier_ref (notifier));
  g_task_set_source_tag (task, BLEIO_TAG (notifier_rebind));
  g_task_set_task_data (task, notifier_ref (notifier), notifier_unref);
  notifier_subscribe (task);
}

void
bleio_notifier_set_rebound (BleioNotifier            *notifier,
                            BleioNotifierReboundFunc  func,
                            gpointer                  user_data,
                            GDestroyNotify            destroy)
{
  g_mutex_lock (&notifier->lock);
  notifier->rebound = func;
  notifier->rebound_data = user_data;
  notifier->rebound_destroy = destroy;
  g_mutex_unlock (&notifier->lock);
}

void
bleio_notifier_start_async (BleioCharacteristic *characteristic,
                            BleioInbox          *inbox,
                            gboolean             subscribe,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  BleioNotifier *notifier = g_new0 (BleioNotifier, 1);
  BleioCharacteristicProperties properties = bleio_characteristic_get_properties (characteristic);
  GError *error = NULL;

  g_task_set_source_tag (task, BLEIO_TAG (bleio_notifier_start_async));
  notifier->ref_count = 1;
  g_mutex_init (&notifier->lock);
  notifier->subscribe = subscribe;
  notifier->fd = -1;
  notifier->packet_max = BLEIO_ATT_MAX_MTU - 3;
  notifier->characteristic = g_object_ref (characteristic);
  notifier->client = bleio_client_ref (bleio_characteristic_get_client (characteristic));
  notifier->inbox = bleio_inbox_ref (inbox);
  notifier->path = g_strdup (bleio_characteristic_get_object_path (characteristic));
  notifier->device_path = g_strdup (bleio_characteristic_get_device_path (characteristic));
  g_task_set_task_data (task, notifier, notifier_unref);

  if (!bleio_characteristic_check_connected (characteristic, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (!(properties & (BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY | BLEIO_CHARACTERISTIC_PROPERTY_INDICATE)))
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                               "Characteristic %s can neither notify nor indicate",
                               notifier->path);
      return;
    }

  notifier->place = bleio_gatt_place_new (notifier->client, notifier->device_path,
                                          notifier->path);
  /* Watch first (link loss, Value changes), subscribe second. */
  notifier_watch (notifier);
  notifier_subscribe (g_steal_pointer (&task));
}

BleioNotifier *
bleio_notifier_start_finish (GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
