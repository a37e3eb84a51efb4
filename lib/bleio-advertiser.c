/* SPDX-License-Identifier: MIT */
/*
 * An adapter's advertisement: its LEAdvertisement1 object
 * (lib/bleio-advertisement.c) registered with the adapter's
 * LEAdvertisingManager1, and what ends it or brings it back.
 *
 * bluetoothd 5.66 ends an advertisement by itself only on its Timeout and
 * when its adapter goes away or it shuts down (Release, in both cases). It
 * keeps advertising while the adapter is off and after a central
 * connected; `_bleio` wants both to end it, so the library unregisters
 * then. A bluetoothd that leaves the bus forgets every advertisement: the
 * library keeps the properties and registers them again when org.bluez
 * has an owner again.
 *
 * State lives under the lock; it changes on the worker (bluetoothd's
 * events and calls) and in the application's threads (start, stop). A
 * generation count tells a reply that arrives after the state moved on.
 */
#include "bleio-advertiser-private.h"
#include "bleio-advertisement-private.h"

#include <string.h>

#define IFACE_MANAGER "org.bluez.LEAdvertisingManager1"

/* bluetoothd 5.66 tells little of why an advertisement ends. As it shuts
 * down it powers its adapters off, then calls Release on every
 * advertisement, then leaves the bus; before it removes an adapter it
 * calls Release. So a power-off or a Release is told only once this time
 * shows what follows: org.bluez losing its owner (a restart: the
 * advertisement comes back), or the adapter's InterfacesRemoved. */
#define SETTLE_MSEC 500

typedef enum {
  STATE_IDLE,
  STATE_STARTING,       /* RegisterAdvertisement sent */
  STATE_ACTIVE,
  STATE_RESTORING,      /* waiting for bluetoothd to come back */
} State;

struct _BleioAdvertiser {
  gatomicrefcount ref;
  BleioClient *client;
  char *adapter_path;
  const char *name;             /* points into adapter_path */
  GWeakRef owner;
  GMainContext *context;
  guint watch_id;

  GMutex lock;
  GCond object_cond;
  gboolean object_pending;      /* being exported by one thread */
  BleioAdvertisement *object;   /* NULL until the first start */
  State state;
  gboolean restoring;           /* STARTING is a restore, not the application's start */
  guint generation;
  GVariant *props;              /* a{sv} while not idle */
  gboolean connectable;
  guint timeout;
  gint64 started_at;            /* monotonic µs, when it became active */
  /* An end whose reason is not known yet (SETTLE_MSEC), with the
   * properties to restore if bluetoothd is restarting. */
  GSource *pending_source;
  BleioAdvertisingEndReason pending_reason;
  GVariant *pending_props;
};

enum {
  SIGNAL_ENDED,
  SIGNAL_RESTORED,
  N_SIGNALS
};

enum {
  PROP_0,
  PROP_ADVERTISING,
};

static guint signals[N_SIGNALS];
static GParamSpec *advertising_pspec;
static BleioAdvertiserOf advertiser_of;

G_DEFINE_ENUM_TYPE (BleioAdvertisingEndReason, bleio_advertising_end_reason,
  G_DEFINE_ENUM_VALUE (BLEIO_ADVERTISING_END_REASON_STOPPED, "stopped"),
  G_DEFINE_ENUM_VALUE (BLEIO_ADVERTISING_END_REASON_TIMEOUT, "timeout"),
  G_DEFINE_ENUM_VALUE (BLEIO_ADVERTISING_END_REASON_CONNECTED, "connected"),
  G_DEFINE_ENUM_VALUE (BLEIO_ADVERTISING_END_REASON_RELEASED, "released"),
  G_DEFINE_ENUM_VALUE (BLEIO_ADVERTISING_END_REASON_ADAPTER_OFF, "adapter-off"),
  G_DEFINE_ENUM_VALUE (BLEIO_ADVERTISING_END_REASON_ADAPTER_REMOVED, "adapter-removed"),
  G_DEFINE_ENUM_VALUE (BLEIO_ADVERTISING_END_REASON_BLUEZ_UNAVAILABLE, "bluez-unavailable"),
  G_DEFINE_ENUM_VALUE (BLEIO_ADVERTISING_END_REASON_RESTORE_FAILED, "restore-failed"))

/* ---- the class's property and signals ----------------------------------- */

static void
owner_get_property (GObject    *object,
                    guint       prop_id,
                    GValue     *value,
                    GParamSpec *pspec)
{
  if (prop_id == PROP_ADVERTISING)
    g_value_set_boolean (value, bleio_advertiser_is_advertising (advertiser_of (object)));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

void
bleio_advertiser_class_install (GObjectClass      *klass,
                                BleioAdvertiserOf  of)
{
  advertiser_of = of;
  klass->get_property = owner_get_property;

  /**
   * BleioAdapter:advertising:
   *
   * Whether bluetoothd holds this adapter's advertisement, as
   * bleio_adapter_get_advertising(). Its notifications are emitted in the
   * context the adapter was created in.
   *
   * Since: 0.3
   */
  advertising_pspec = g_param_spec_boolean ("advertising", NULL, NULL, FALSE,
                                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS |
                                            G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_property (klass, PROP_ADVERTISING, advertising_pspec);

  /**
   * BleioAdapter::advertising-ended:
   * @adapter: the #BleioAdapter
   * @reason: a #BleioAdvertisingEndReason
   *
   * Emitted once when an advertisement started with
   * bleio_adapter_start_advertising_async() ends, in the thread-default
   * context that was current when the adapter was created;
   * #BleioAdapter:advertising reads %FALSE by then, unless advertising
   * started again before that context ran (a restore, or a new start from
   * another thread). With %BLEIO_ADVERTISING_END_REASON_BLUEZ_UNAVAILABLE
   * the advertisement is kept and registered again when bluetoothd
   * returns; #BleioAdapter::advertising-restored follows.
   *
   * Since: 0.3
   */
  signals[SIGNAL_ENDED] =
    g_signal_new ("advertising-ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  BLEIO_TYPE_ADVERTISING_END_REASON);

  /**
   * BleioAdapter::advertising-restored:
   * @adapter: the #BleioAdapter
   *
   * Emitted when bluetoothd came back after leaving the bus and libbleio
   * registered the advertisement again, unchanged, without the application
   * doing anything; #BleioAdapter:advertising reads %TRUE again. Emitted
   * in the context the adapter was created in. If bluetoothd refuses it,
   * #BleioAdapter::advertising-ended is emitted with
   * %BLEIO_ADVERTISING_END_REASON_RESTORE_FAILED instead.
   *
   * Since: 0.3
   */
  signals[SIGNAL_RESTORED] =
    g_signal_new ("advertising-restored", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

/* ---- lifetime --------------------------------------------------------------- */

static BleioAdvertiser *
advertiser_ref (BleioAdvertiser *self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

static void
advertiser_unref (gpointer data)
{
  BleioAdvertiser *self = data;

  if (!g_atomic_ref_count_dec (&self->ref))
    return;
  g_clear_pointer (&self->props, g_variant_unref);
  g_clear_pointer (&self->pending_props, g_variant_unref);
  g_weak_ref_clear (&self->owner);
  g_main_context_unref (self->context);
  bleio_client_unref (self->client);
  g_free (self->adapter_path);
  g_cond_clear (&self->object_cond);
  g_mutex_clear (&self->lock);
  g_free (self);
}

gboolean
bleio_advertiser_is_advertising (BleioAdvertiser *self)
{
  gboolean active;

  g_mutex_lock (&self->lock);
  active = self->state == STATE_ACTIVE;
  g_mutex_unlock (&self->lock);
  return active;
}

/* ---- telling the application ------------------------------------------------ */

typedef enum {
  TELL_NOTIFY,
  TELL_ENDED,
  TELL_RESTORED,
} Tell;

typedef struct {
  BleioAdvertiser *advertiser;
  Tell what;
  BleioAdvertisingEndReason reason;
} Emission;

static gboolean
emit_cb (gpointer data)
{
  Emission *emission = data;
  g_autoptr(GObject) owner = g_weak_ref_get (&emission->advertiser->owner);

  if (owner == NULL)
    return G_SOURCE_REMOVE;
  g_object_notify_by_pspec (owner, advertising_pspec);
  if (emission->what == TELL_ENDED)
    g_signal_emit (owner, signals[SIGNAL_ENDED], 0, emission->reason);
  else if (emission->what == TELL_RESTORED)
    g_signal_emit (owner, signals[SIGNAL_RESTORED], 0);
  return G_SOURCE_REMOVE;
}

static void
emission_free (gpointer data)
{
  Emission *emission = data;

  advertiser_unref (emission->advertiser);
  g_free (emission);
}

/* Any thread: queued in the adapter's context, in order. */
static void
tell (BleioAdvertiser           *self,
      Tell                       what,
      BleioAdvertisingEndReason  reason)
{
  Emission *emission = g_new0 (Emission, 1);
  g_autoptr(GSource) idle = g_idle_source_new ();

  g_debug ("advertisement on %s: %s (%d)", self->adapter_path,
           what == TELL_ENDED ? "ended" : what == TELL_RESTORED ? "restored" : "started",
           reason);
  emission->advertiser = advertiser_ref (self);
  emission->what = what;
  emission->reason = reason;
  g_source_set_callback (idle, emit_cb, emission, emission_free);
  g_source_set_static_name (idle, "[bleio] advertising");
  g_source_attach (idle, self->context);
}

/* Under the lock: the running advertisement is over. */
static void
end_locked (BleioAdvertiser *self)
{
  self->state = STATE_IDLE;
  self->generation++;
  g_clear_pointer (&self->props, g_variant_unref);
}

/* Without waiting for the answer: the advertisement is over for us
 * whatever bluetoothd says (DoesNotExist when it already dropped it). */
static const char *
object_path (BleioAdvertiser *self)
{
  /* Set once, before anything was registered. */
  return bleio_advertisement_get_path (self->object);
}

static void
unregister_quietly (BleioAdvertiser *self)
{
  if (self->object != NULL && bleio_client_has_owner (self->client))
    bleio_client_call (self->client, self->adapter_path, IFACE_MANAGER,
                       "UnregisterAdvertisement", g_variant_new ("(o)", object_path (self)),
                       BLEIO_CALL_LOCAL_MSEC, NULL, NULL, NULL);
}

/* ---- ends told late ------------------------------------------------------------ */

/* Under the lock: takes the pending end, if any; its properties go to
 * *@props (NULL: dropped). */
static gboolean
take_pending_locked (BleioAdvertiser           *self,
                     BleioAdvertisingEndReason *reason,
                     GVariant                 **props)
{
  if (self->pending_source == NULL)
    return FALSE;
  g_source_destroy (self->pending_source);
  g_clear_pointer (&self->pending_source, g_source_unref);
  *reason = self->pending_reason;
  if (props != NULL)
    *props = g_steal_pointer (&self->pending_props);
  g_clear_pointer (&self->pending_props, g_variant_unref);
  return TRUE;
}

/* Any thread: a pending end is told now, with its own reason. */
static void
settle_pending (BleioAdvertiser *self)
{
  BleioAdvertisingEndReason reason;
  gboolean pending;

  g_mutex_lock (&self->lock);
  pending = take_pending_locked (self, &reason, NULL);
  g_mutex_unlock (&self->lock);
  if (pending)
    tell (self, TELL_ENDED, reason);
}

static gboolean
settled_cb (gpointer data)
{
  settle_pending (data);
  return G_SOURCE_REMOVE;
}

/* Under the lock, on the worker: the running advertisement is over at
 * once, but why is told after SETTLE_MSEC. */
static void
end_pending_locked (BleioAdvertiser           *self,
                    BleioAdvertisingEndReason  reason)
{
  GSource *source;

  g_clear_pointer (&self->pending_props, g_variant_unref);
  self->pending_props = g_steal_pointer (&self->props);
  self->pending_reason = reason;
  end_locked (self);
  source = g_timeout_source_new (SETTLE_MSEC);
  g_source_set_callback (source, settled_cb, advertiser_ref (self), advertiser_unref);
  g_source_set_static_name (source, "[bleio] advertisement ended");
  self->pending_source = source;
  g_source_attach (source, bleio_client_get_worker_context (self->client));
}

/* ---- the object's hooks ----------------------------------------------------------- */

static GVariant *
hook_dup_properties (gpointer data)
{
  BleioAdvertiser *self = data;
  GVariant *props;

  g_mutex_lock (&self->lock);
  props = self->props != NULL ? g_variant_ref (self->props) : NULL;
  g_mutex_unlock (&self->lock);
  return props;
}

/* On the worker: bluetoothd released the advertisement: its Timeout
 * passed, or it is dropping the adapter or shutting down. */
static void
hook_released (gpointer data)
{
  BleioAdvertiser *self = data;
  BleioAdvertisingEndReason reason = BLEIO_ADVERTISING_END_REASON_RELEASED;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&self->lock);
  if (self->state == STATE_ACTIVE)
    {
      /* bluetoothd's own Timeout is the one Release that comes once the
       * timeout has passed (a second of slack between the two clocks). */
      if (self->timeout > 0 &&
          now - self->started_at >= (gint64) self->timeout * G_USEC_PER_SEC - G_USEC_PER_SEC)
        reason = BLEIO_ADVERTISING_END_REASON_TIMEOUT;
      end_pending_locked (self, reason);
    }
  g_mutex_unlock (&self->lock);
}

static const BleioAdvertisementHooks object_hooks = {
  hook_dup_properties,
  hook_released,
};

/* The object, exported by the first start; the others wait for it. */
static gboolean
ensure_object (BleioAdvertiser  *self,
               GError          **error)
{
  BleioAdvertisement *object;

  g_mutex_lock (&self->lock);
  while (self->object_pending)
    g_cond_wait (&self->object_cond, &self->lock);
  if (self->object != NULL)
    {
      g_mutex_unlock (&self->lock);
      return TRUE;
    }
  self->object_pending = TRUE;
  g_mutex_unlock (&self->lock);

  object = bleio_advertisement_new (self->client, &object_hooks, advertiser_ref (self),
                                    advertiser_unref, error);
  g_mutex_lock (&self->lock);
  self->object = object;
  self->object_pending = FALSE;
  g_cond_broadcast (&self->object_cond);
  g_mutex_unlock (&self->lock);
  return object != NULL;
}

/* ---- bluetoothd's events (on the worker) ---------------------------------------- */

static void restore (BleioAdvertiser *self);

static void
on_owner (BleioAdvertiser *self,
          gboolean         has_owner)
{
  gboolean ended = FALSE;

  if (has_owner)
    {
      restore (self);
      return;
    }
  g_mutex_lock (&self->lock);
  if (self->state == STATE_ACTIVE)
    {
      self->state = STATE_RESTORING;
      self->generation++;
      ended = TRUE;
    }
  else if (self->state == STATE_STARTING && self->restoring)
    {
      /* Gone again before it answered: wait for the next one. */
      self->state = STATE_RESTORING;
      self->generation++;
    }
  else if (self->state == STATE_STARTING)
    {
      /* The start fails on its own (no reply); nothing ran to restore. */
      end_locked (self);
    }
  else
    {
      BleioAdvertisingEndReason reason;
      GVariant *props = NULL;

      /* Powered off or released as bluetoothd shut down: a restart. */
      if (take_pending_locked (self, &reason, &props) && props != NULL)
        {
          self->props = props;
          self->state = STATE_RESTORING;
          self->generation++;
          ended = TRUE;
        }
    }
  g_mutex_unlock (&self->lock);
  if (ended)
    tell (self, TELL_ENDED, BLEIO_ADVERTISING_END_REASON_BLUEZ_UNAVAILABLE);
}

/* Ends a running advertisement for @reason; with @unregister, tells
 * bluetoothd too (it keeps advertising otherwise). */
static void
end_for (BleioAdvertiser           *self,
         BleioAdvertisingEndReason  reason,
         gboolean                   unregister)
{
  BleioAdvertisingEndReason pending;

  g_mutex_lock (&self->lock);
  /* The adapter's removal explains a Release just before it. */
  if (reason == BLEIO_ADVERTISING_END_REASON_ADAPTER_REMOVED &&
      take_pending_locked (self, &pending, NULL))
    {
      g_mutex_unlock (&self->lock);
      tell (self, TELL_ENDED, reason);
      return;
    }
  if (self->state != STATE_ACTIVE)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  end_locked (self);
  g_mutex_unlock (&self->lock);
  if (unregister)
    unregister_quietly (self);
  tell (self, TELL_ENDED, reason);
}

/* bluetoothd 5.66 keeps the registration of a powered-off adapter and
 * advertises again at power on; `_bleio` stops. Told late: bluetoothd
 * powers its adapters off as it shuts down. */
static void
end_powered_off (BleioAdvertiser *self)
{
  gboolean ended = FALSE;

  g_mutex_lock (&self->lock);
  if (self->state == STATE_ACTIVE)
    {
      end_pending_locked (self, BLEIO_ADVERTISING_END_REASON_ADAPTER_OFF);
      ended = TRUE;
    }
  g_mutex_unlock (&self->lock);
  if (ended)
    unregister_quietly (self);
}

static void
on_event (BleioClient            *client,
          const BleioClientEvent *event,
          gpointer                user_data)
{
  BleioAdvertiser *self = user_data;
  gboolean powered = TRUE;

  if (event->kind == BLEIO_CLIENT_EVENT_OWNER)
    {
      on_owner (self, event->has_owner);
      return;
    }
  /* Everything vanishes when bluetoothd leaves; on_owner() saw to that. */
  if (!bleio_client_has_owner (client) || g_strcmp0 (event->path, self->adapter_path) != 0)
    return;
  if (event->kind == BLEIO_CLIENT_EVENT_REMOVED)
    end_for (self, BLEIO_ADVERTISING_END_REASON_ADAPTER_REMOVED, FALSE);
  else if (event->kind == BLEIO_CLIENT_EVENT_CHANGED && event->changed != NULL &&
           g_strcmp0 (event->interface, BLEIO_IFACE_ADAPTER) == 0 &&
           g_variant_lookup (event->changed, "Powered", "b", &powered) && !powered)
    end_powered_off (self);
}

void
bleio_advertiser_central_connected (BleioAdvertiser *self)
{
  gboolean connectable;

  g_mutex_lock (&self->lock);
  connectable = self->connectable;
  g_mutex_unlock (&self->lock);
  if (connectable)
    end_for (self, BLEIO_ADVERTISING_END_REASON_CONNECTED, TRUE);
}

/* ---- registration ------------------------------------------------------------- */

typedef struct {
  BleioAdvertiser *advertiser;
  guint generation;
} Attempt;

static void
attempt_free (Attempt *attempt)
{
  advertiser_unref (attempt->advertiser);
  g_free (attempt);
}

static Attempt *
attempt_new (BleioAdvertiser *self,
             guint            generation)
{
  Attempt *attempt = g_new0 (Attempt, 1);

  attempt->advertiser = advertiser_ref (self);
  attempt->generation = generation;
  return attempt;
}

static void
send_register (BleioAdvertiser     *self,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             data)
{
  GVariantBuilder options;

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  bleio_client_call (self->client, self->adapter_path, IFACE_MANAGER, "RegisterAdvertisement",
                     g_variant_new ("(oa{sv})", object_path (self), &options), BLEIO_CALL_LOCAL_MSEC, cancellable,
                     callback, data);
}

/* bluetoothd's refusals, said so that the application knows what to do. */
static GError *
explain_refusal (BleioAdvertiser *self,
                 GError          *error)
{
  GError *explained = NULL;

  if (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_NOT_PERMITTED))
    explained = g_error_new (BLEIO_ERROR, BLEIO_ERROR_NOT_PERMITTED,
                             "Every advertising instance of %s is in use by other "
                             "programs; stop one of their advertisements (%s)",
                             self->name, error->message);
  else if (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_ALREADY_EXISTS))
    explained = g_error_new (BLEIO_ERROR, BLEIO_ERROR_ALREADY_EXISTS,
                             "Already advertising: bluetoothd holds this advertisement "
                             "already (%s)", error->message);
  else if (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_BLUETOOTH) ||
           g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT))
    explained = g_error_new (error->domain, error->code,
                             "bluetoothd refused the advertisement on %s: %s; it may be "
                             "longer than this controller sends once bluetoothd adds its "
                             "flags, or use a field this bluetoothd cannot send",
                             self->name, error->message);
  if (explained == NULL)
    return error;
  g_error_free (error);
  return explained;
}

static void
restore_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  Attempt *attempt = data;
  BleioAdvertiser *self = attempt->advertiser;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (self->client, result, &error);
  gboolean current;

  g_mutex_lock (&self->lock);
  current = self->generation == attempt->generation && self->state == STATE_STARTING;
  if (current && reply != NULL)
    {
      self->state = STATE_ACTIVE;
      self->started_at = g_get_monotonic_time ();
    }
  else if (current)
    end_locked (self);
  g_mutex_unlock (&self->lock);

  if (!current)
    {
      if (reply != NULL)
        unregister_quietly (self);      /* stopped meanwhile */
    }
  else if (reply != NULL)
    tell (self, TELL_RESTORED, 0);
  else
    {
      g_debug ("advertisement on %s not restored: %s", self->adapter_path, error->message);
      tell (self, TELL_ENDED, BLEIO_ADVERTISING_END_REASON_RESTORE_FAILED);
    }
  attempt_free (attempt);
}

/* On the worker, once bluetoothd is back with its objects loaded. */
static void
restore (BleioAdvertiser *self)
{
  guint generation;

  g_mutex_lock (&self->lock);
  if (self->state != STATE_RESTORING ||
      !bleio_client_has_interface (self->client, self->adapter_path, IFACE_MANAGER))
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  self->state = STATE_STARTING;
  self->restoring = TRUE;
  generation = ++self->generation;
  g_mutex_unlock (&self->lock);
  g_debug ("advertisement on %s: registering again with the new bluetoothd",
           self->adapter_path);
  send_register (self, NULL, restore_cb, attempt_new (self, generation));
}

/* ---- start and stop --------------------------------------------------------------- */

static void
start_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      data)
{
  g_autoptr(GTask) task = data;
  BleioAdvertiser *self = g_task_get_task_data (task);
  guint generation = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (task), "bleio-generation"));
  GError *error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (self->client, result, &error);
  gboolean current;

  g_mutex_lock (&self->lock);
  current = self->generation == generation && self->state == STATE_STARTING;
  if (current && reply != NULL)
    {
      self->state = STATE_ACTIVE;
      self->started_at = g_get_monotonic_time ();
    }
  else if (current)
    end_locked (self);
  g_mutex_unlock (&self->lock);

  if (reply != NULL && !current)
    {
      /* Stopped, or bluetoothd changed hands, while the request was on
       * its way: what bluetoothd registered is not wanted. */
      unregister_quietly (self);
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_BLUETOOTH,
                               "Advertising was stopped before it started");
      return;
    }
  if (reply == NULL)
    {
      /* A cancelled call may still reach bluetoothd: undo it. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        unregister_quietly (self);
      else
        error = explain_refusal (self, error);
      g_task_return_error (task, error);
      return;
    }
  tell (self, TELL_NOTIFY, 0);
  g_task_return_boolean (task, TRUE);
}

static GVariant *
dup_manager_properties (BleioAdvertiser *self)
{
  static const char * const names[] = {
    "SupportedIncludes", "SupportedSecondaryChannels", "SupportedCapabilities",
  };
  GVariantBuilder props;

  g_variant_builder_init (&props, G_VARIANT_TYPE_VARDICT);
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GVariant) value = bleio_client_dup_property (self->client, self->adapter_path,
                                                             IFACE_MANAGER, names[i]);

      if (value != NULL)
        g_variant_builder_add (&props, "{sv}", names[i], value);
    }
  return g_variant_ref_sink (g_variant_builder_end (&props));
}

/* What can be said before asking bluetoothd; sets @props. */
static gboolean
check_start (BleioAdvertiser                *self,
             const BleioAdvertisingSettings *settings,
             GVariant                      **props,
             GError                        **error)
{
  g_autoptr(GVariant) manager = NULL;
  g_autoptr(GVariant) free_slots = NULL;
  BleioAdvertisingCaps caps;

  if (!bleio_client_check_available (self->client, error))
    return FALSE;
  if (!bleio_client_has_interface (self->client, self->adapter_path, BLEIO_IFACE_ADAPTER))
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NO_ADAPTER,
                   "The Bluetooth adapter %s is gone", self->name);
      return FALSE;
    }
  if (!bleio_client_has_interface (self->client, self->adapter_path, IFACE_MANAGER))
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                   "%s cannot advertise: bluetoothd offers no LEAdvertisingManager1 "
                   "on it (a controller without LE)", self->name);
      return FALSE;
    }
  if (!bleio_client_get_boolean (self->client, self->adapter_path, BLEIO_IFACE_ADAPTER, "Powered"))
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_READY,
                   "%s is powered off; power it on (bleio_adapter_set_enabled()) "
                   "before advertising", self->name);
      return FALSE;
    }
  manager = dup_manager_properties (self);
  bleio_advertising_caps_from_manager (&caps, manager);
  *props = bleio_advertising_properties (settings, &caps, error);
  if (*props == NULL)
    return FALSE;
  g_variant_ref_sink (*props);
  /* bluetoothd 5.66 counts the free instances down in SupportedInstances. */
  free_slots = bleio_client_dup_property (self->client, self->adapter_path, IFACE_MANAGER,
                                          "SupportedInstances");
  if (free_slots != NULL && g_variant_is_of_type (free_slots, G_VARIANT_TYPE_BYTE) &&
      g_variant_get_byte (free_slots) == 0)
    {
      g_clear_pointer (props, g_variant_unref);
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_NOT_PERMITTED,
                   "Every advertising instance of %s is in use by other programs "
                   "(SupportedInstances is 0); stop one of their advertisements",
                   self->name);
      return FALSE;
    }
  return TRUE;
}

void
bleio_advertiser_start_async (BleioAdvertiser                *self,
                              const BleioAdvertisingSettings *settings,
                              GCancellable                   *cancellable,
                              GAsyncReadyCallback             callback,
                              gpointer                        user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GVariant) props = NULL;
  GError *error = NULL;
  guint generation;

  g_task_set_source_tag (task, BLEIO_TAG (bleio_advertiser_start_async));
  g_task_set_task_data (task, advertiser_ref (self), advertiser_unref);
  /* The application hears how the last one ended before the next starts. */
  settle_pending (self);
  if (!check_start (self, settings, &props, &error) || !ensure_object (self, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_mutex_lock (&self->lock);
  if (self->state != STATE_IDLE)
    {
      g_mutex_unlock (&self->lock);
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_ALREADY_EXISTS,
                               "Already advertising");
      return;
    }
  self->state = STATE_STARTING;
  self->restoring = FALSE;
  generation = ++self->generation;
  self->props = g_steal_pointer (&props);
  self->connectable = settings->connectable;
  self->timeout = settings->timeout;
  g_mutex_unlock (&self->lock);

  g_object_set_data (G_OBJECT (task), "bleio-generation", GUINT_TO_POINTER (generation));
  send_register (self, cancellable, start_cb, g_steal_pointer (&task));
}

gboolean
bleio_advertiser_start_finish (BleioAdvertiser  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
stop_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  g_autoptr(GTask) task = data;
  BleioAdvertiser *self = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (self->client, result, &error);

  /* DoesNotExist: bluetoothd dropped it first (a Release on its way). It
   * is stopped either way; the application asked, so it hears STOPPED. */
  if (reply == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

void
bleio_advertiser_stop_async (BleioAdvertiser     *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  State was;

  g_task_set_source_tag (task, BLEIO_TAG (bleio_advertiser_stop_async));
  g_task_set_task_data (task, advertiser_ref (self), advertiser_unref);
  settle_pending (self);
  g_mutex_lock (&self->lock);
  was = self->state;
  if (was != STATE_IDLE)
    end_locked (self);
  g_mutex_unlock (&self->lock);

  if (was == STATE_ACTIVE)
    tell (self, TELL_ENDED, BLEIO_ADVERTISING_END_REASON_STOPPED);
  /* Restoring: nothing is registered. Starting: the request reaches
   * bluetoothd before this one, so this unregisters it, and the start
   * fails. */
  if ((was == STATE_ACTIVE || was == STATE_STARTING) && bleio_client_has_owner (self->client))
    {
      bleio_client_call (self->client, self->adapter_path, IFACE_MANAGER,
                         "UnregisterAdvertisement", g_variant_new ("(o)", object_path (self)),
                         BLEIO_CALL_LOCAL_MSEC, cancellable, stop_cb, g_steal_pointer (&task));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

gboolean
bleio_advertiser_stop_finish (BleioAdvertiser  *self,
                              GAsyncResult     *result,
                              GError          **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- construction --------------------------------------------------------------- */

BleioAdvertiser *
bleio_advertiser_new (BleioClient  *client,
                      const char   *adapter_path,
                      GObject      *owner,
                      GMainContext *context)
{
  BleioAdvertiser *self = g_new0 (BleioAdvertiser, 1);
  const BleioClientWatchKey keys[] = {
    { adapter_path, BLEIO_IFACE_ADAPTER, FALSE, 0 },
    { adapter_path, IFACE_MANAGER, FALSE, 0 },
  };

  g_atomic_ref_count_init (&self->ref);
  g_mutex_init (&self->lock);
  g_cond_init (&self->object_cond);
  self->client = bleio_client_ref (client);
  self->adapter_path = g_strdup (adapter_path);
  self->name = strrchr (self->adapter_path, '/') != NULL ?
               strrchr (self->adapter_path, '/') + 1 : self->adapter_path;
  g_weak_ref_init (&self->owner, owner);
  self->context = g_main_context_ref (context);
  self->watch_id = bleio_client_watch_keys (client, NULL, keys, G_N_ELEMENTS (keys), on_event,
                                            advertiser_ref (self), advertiser_unref);
  return self;
}

void
bleio_advertiser_free (BleioAdvertiser *self)
{
  State was;
  BleioAdvertisement *object;

  if (self == NULL)
    return;
  g_mutex_lock (&self->lock);
  was = self->state;
  end_locked (self);
  if (self->pending_source != NULL)
    {
      g_source_destroy (self->pending_source);
      g_clear_pointer (&self->pending_source, g_source_unref);
    }
  g_mutex_unlock (&self->lock);
  /* The program may be exiting: bluetoothd must not keep advertising for
   * an object nobody serves. */
  if (was == STATE_ACTIVE || was == STATE_STARTING)
    unregister_quietly (self);
  bleio_client_unwatch (self->client, self->watch_id);
  /* Nobody else uses the advertiser now: its owner is going. */
  object = g_steal_pointer (&self->object);
  bleio_advertisement_free (object);
  advertiser_unref (self);
}
