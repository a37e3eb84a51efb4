/* SPDX-License-Identifier: MIT */
/*
 * libbleio's pairing agent: an org.bluez.Agent1 object exported on the bus
 * connection from the client's worker thread, so that bluetoothd's calls
 * are answered even while an application thread blocks in Pair.
 *
 * Security rules (docs/security.md):
 *   - only calls from the current owner of org.bluez are answered;
 *   - requests about a device the application is not pairing with
 *     (bleio_connection_pair() in progress) are rejected unless the
 *     application opted in with bleio_adapter_set_accept_incoming_pairing();
 *   - passkeys and PIN codes are never logged.
 */
#include "bleio-agent-private.h"
#include "bleio-bluez-agent1.h"

#include <unistd.h>

struct _BleioAgentState {
  BleioClient *client;          /* not a reference: the client's watch owns us */
  GMutex lock;
  GCond exported_cond;
  gboolean exported;            /* export_cb ran (registration_id is final) */
  char *path;
  guint registration_id;
  char *registered_capability;  /* NULL: not registered with bluetoothd */

  /* Each callback with its own data (bleio_adapter_set_passkey_*_func()),
   * or all three sharing @shared_data (bleio_adapter_set_pairing_callbacks()). */
  BleioPasskeyDisplayFunc display;
  gpointer display_data;
  GDestroyNotify display_destroy;
  BleioPasskeyRequestFunc request;
  gpointer request_data;
  GDestroyNotify request_destroy;
  BleioPasskeyConfirmFunc confirm;
  gpointer confirm_data;
  GDestroyNotify confirm_destroy;
  gpointer shared_data;
  GDestroyNotify shared_destroy;

  GHashTable *pairing;          /* device path -> count of our Pair calls */
  gboolean accept_incoming;
};

static guint agent_serial;

/* The agents by client. The client sits below the agent and keeps no
 * pointer to it; the agent lives exactly as long as its watch on the
 * client, whose destroy notify (agent_free) takes it out of here. */
static GMutex agents_lock;
static GHashTable *agents;      /* BleioClient* -> BleioAgentState* */

static BleioAgentState *
agent_new (BleioClient *client)
{
  BleioAgentState *state = g_new0 (BleioAgentState, 1);

  state->client = client;
  g_mutex_init (&state->lock);
  g_cond_init (&state->exported_cond);
  state->pairing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  state->path = g_strdup_printf ("/org/bleio/agent/p%d_%u", (int) getpid (),
                                 g_atomic_int_add (&agent_serial, 1));
  return state;
}

/* The destroy notify of the agent's watch: runs when the client frees its
 * watches, after its worker has stopped, so no method call is running. */
static void
agent_free (gpointer data)
{
  BleioAgentState *state = data;

  g_mutex_lock (&agents_lock);
  if (agents != NULL && g_hash_table_lookup (agents, state->client) == state)
    g_hash_table_remove (agents, state->client);
  g_mutex_unlock (&agents_lock);

  if (state->registration_id != 0)
    g_dbus_connection_unregister_object (bleio_client_get_connection (state->client),
                                         state->registration_id);
  if (state->display_destroy != NULL)
    state->display_destroy (state->display_data);
  if (state->request_destroy != NULL)
    state->request_destroy (state->request_data);
  if (state->confirm_destroy != NULL)
    state->confirm_destroy (state->confirm_data);
  if (state->shared_destroy != NULL)
    state->shared_destroy (state->shared_data);
  g_free (state->registered_capability);
  g_free (state->path);
  g_hash_table_unref (state->pairing);
  g_cond_clear (&state->exported_cond);
  g_mutex_clear (&state->lock);
  g_free (state);
}

void
bleio_agent_state_set_callbacks (BleioAgentState         *state,
                                 BleioPasskeyDisplayFunc  display,
                                 BleioPasskeyRequestFunc  request,
                                 BleioPasskeyConfirmFunc  confirm,
                                 gpointer                 user_data,
                                 GDestroyNotify           destroy)
{
  GDestroyNotify old_destroy[4];
  gpointer old_data[4];

  g_mutex_lock (&state->lock);
  old_destroy[0] = state->display_destroy;
  old_data[0] = state->display_data;
  old_destroy[1] = state->request_destroy;
  old_data[1] = state->request_data;
  old_destroy[2] = state->confirm_destroy;
  old_data[2] = state->confirm_data;
  old_destroy[3] = state->shared_destroy;
  old_data[3] = state->shared_data;
  state->display = display;
  state->request = request;
  state->confirm = confirm;
  state->display_data = state->request_data = state->confirm_data = user_data;
  state->display_destroy = state->request_destroy = state->confirm_destroy = NULL;
  state->shared_data = user_data;
  state->shared_destroy = destroy;
  g_mutex_unlock (&state->lock);
  /* Outside the lock: a destroy notify may do anything. */
  for (guint i = 0; i < G_N_ELEMENTS (old_destroy); i++)
    if (old_destroy[i] != NULL)
      old_destroy[i] (old_data[i]);
}

/* Replaces one callback and its data; the others keep theirs. */
#define SET_ONE(state, field, func, data, destroy_)               \
  G_STMT_START {                                                   \
    GDestroyNotify old_destroy;                                    \
    gpointer old_data;                                             \
                                                                   \
    g_mutex_lock (&(state)->lock);                                 \
    old_destroy = (state)->field##_destroy;                        \
    old_data = (state)->field##_data;                              \
    (state)->field = (func);                                       \
    (state)->field##_data = (data);                                \
    (state)->field##_destroy = (destroy_);                         \
    g_mutex_unlock (&(state)->lock);                               \
    if (old_destroy != NULL)                                       \
      old_destroy (old_data);                                      \
  } G_STMT_END

void
bleio_agent_state_set_display (BleioAgentState         *state,
                               BleioPasskeyDisplayFunc  func,
                               gpointer                 user_data,
                               GDestroyNotify           destroy)
{
  SET_ONE (state, display, func, user_data, destroy);
}

void
bleio_agent_state_set_request (BleioAgentState         *state,
                               BleioPasskeyRequestFunc  func,
                               gpointer                 user_data,
                               GDestroyNotify           destroy)
{
  SET_ONE (state, request, func, user_data, destroy);
}

void
bleio_agent_state_set_confirm (BleioAgentState         *state,
                               BleioPasskeyConfirmFunc  func,
                               gpointer                 user_data,
                               GDestroyNotify           destroy)
{
  SET_ONE (state, confirm, func, user_data, destroy);
}

void
bleio_agent_state_begin_pairing (BleioAgentState *state,
                                 const char      *device_path)
{
  gpointer count;

  g_mutex_lock (&state->lock);
  count = g_hash_table_lookup (state->pairing, device_path);
  g_hash_table_insert (state->pairing, g_strdup (device_path),
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (count) + 1));
  g_mutex_unlock (&state->lock);
}

void
bleio_agent_state_end_pairing (BleioAgentState *state,
                               const char      *device_path)
{
  guint count;

  g_mutex_lock (&state->lock);
  count = GPOINTER_TO_UINT (g_hash_table_lookup (state->pairing, device_path));
  if (count > 1)
    g_hash_table_insert (state->pairing, g_strdup (device_path),
                         GUINT_TO_POINTER (count - 1));
  else
    g_hash_table_remove (state->pairing, device_path);
  g_mutex_unlock (&state->lock);
}

void
bleio_agent_state_set_accept_incoming (BleioAgentState *state,
                                       gboolean         accept)
{
  g_mutex_lock (&state->lock);
  state->accept_incoming = accept;
  g_mutex_unlock (&state->lock);
}

gboolean
bleio_agent_state_get_accept_incoming (BleioAgentState *state)
{
  gboolean accept;

  g_mutex_lock (&state->lock);
  accept = state->accept_incoming;
  g_mutex_unlock (&state->lock);
  return accept;
}

static const char *
capability_locked (BleioAgentState *state)
{
  if (state->request != NULL)
    return state->display != NULL ? "KeyboardDisplay" : "KeyboardOnly";
  if (state->display != NULL)
    return state->confirm != NULL ? "DisplayYesNo" : "DisplayOnly";
  return "NoInputNoOutput";
}

/* bluetoothd forgets its agents when it goes: a new one knows nothing of
 * ours. */
static void
agent_forget (BleioAgentState *state)
{
  g_mutex_lock (&state->lock);
  g_clear_pointer (&state->registered_capability, g_free);
  g_mutex_unlock (&state->lock);
}

/* On the worker, before the event is queued for any other context: nobody
 * hears of a new bluetoothd while the agent still counts as registered. */
static void
on_owner_event (BleioClient            *client,
                const BleioClientEvent *event,
                gpointer                user_data)
{
  if (event->kind == BLEIO_CLIENT_EVENT_OWNER)
    agent_forget (user_data);
}

static BleioAddress *
peer_address (BleioAgentState *state,
              const char      *device_path)
{
  g_autofree char *address = bleio_client_dup_string (state->client, device_path,
                                                      BLEIO_IFACE_DEVICE, "Address");
  g_autofree char *type = bleio_client_dup_string (state->client, device_path,
                                                   BLEIO_IFACE_DEVICE, "AddressType");

  if (address == NULL)
    return NULL;
  return bleio_address_new_from_bluez (address, type != NULL ? type : "public", NULL);
}

static void
reject (GDBusMethodInvocation *invocation,
        const char            *why)
{
  g_dbus_method_invocation_return_dbus_error (invocation, "org.bluez.Error.Rejected", why);
}

/* Runs on the worker thread. */
static void
agent_method_call (GDBusConnection       *connection,
                   const char            *sender,
                   const char            *object_path,
                   const char            *interface_name,
                   const char            *method_name,
                   GVariant              *parameters,
                   GDBusMethodInvocation *invocation,
                   gpointer               user_data)
{
  BleioAgentState *state = user_data;
  BleioPasskeyDisplayFunc display;
  BleioPasskeyRequestFunc request;
  BleioPasskeyConfirmFunc confirm;
  gpointer display_data, request_data, confirm_data;
  const char *device = NULL;
  g_autoptr(BleioAddress) peer = NULL;
  gboolean ours = FALSE;
  gboolean accept_incoming;

  /* Never log the parameters: they carry passkeys and PIN codes. */
  g_debug ("agent: %s from %s", method_name, sender);
  /* Only bluetoothd may drive the agent; anyone else on the bus could
   * otherwise learn or plant passkeys. */
  if (!bleio_client_check_caller_is_bluez (state->client, sender, invocation,
                                           "Only org.bluez may call this agent"))
    {
      g_debug ("agent: %s refused: %s is not org.bluez", method_name, sender);
      return;
    }

  if (g_variant_n_children (parameters) > 0)
    {
      g_autoptr(GVariant) first = g_variant_get_child_value (parameters, 0);

      if (g_variant_is_of_type (first, G_VARIANT_TYPE_OBJECT_PATH))
        {
          device = g_variant_get_string (first, NULL);
          peer = peer_address (state, device);
        }
    }

  g_mutex_lock (&state->lock);
  display = state->display;
  display_data = state->display_data;
  request = state->request;
  request_data = state->request_data;
  confirm = state->confirm;
  confirm_data = state->confirm_data;
  accept_incoming = state->accept_incoming;
  if (device != NULL)
    ours = g_hash_table_contains (state->pairing, device);
  g_mutex_unlock (&state->lock);

  /* A request about a device nobody in this process is pairing with comes
   * from the peer or from another program: refuse it unless the
   * application asked for incoming pairings. */
  if (device != NULL && !ours && !accept_incoming)
    {
      g_debug ("agent: %s for %s refused: the application is not pairing with it",
               method_name, device);
      reject (invocation, "Pairing not started by this application; "
                          "see bleio_adapter_set_accept_incoming_pairing()");
      return;
    }

  if (g_str_equal (method_name, "Release"))
    {
      agent_forget (state);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method_name, "RequestPasskey"))
    {
      guint32 passkey = 0;

      if (request == NULL || peer == NULL || !request (peer, &passkey, request_data) ||
          passkey > 999999)
        {
          reject (invocation, "No passkey given");
          return;
        }
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", passkey));
    }
  else if (g_str_equal (method_name, "RequestPinCode"))
    {
      guint32 passkey = 0;
      char pin[8];

      /* Legacy PIN codes are a BR/EDR affair; answer with the passkey
       * callback when there is one. */
      if (request == NULL || peer == NULL || !request (peer, &passkey, request_data) ||
          passkey > 999999)
        {
          reject (invocation, "No PIN code given");
          return;
        }
      g_snprintf (pin, sizeof pin, "%06u", passkey);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(s)", pin));
    }
  else if (g_str_equal (method_name, "DisplayPasskey"))
    {
      guint32 passkey = 0;
      guint16 entered = 0;

      g_variant_get (parameters, "(&ouq)", NULL, &passkey, &entered);
      if (display != NULL && peer != NULL)
        display (peer, passkey, entered, display_data);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method_name, "DisplayPinCode"))
    {
      const char *pin = NULL;
      guint64 value = 0;

      g_variant_get (parameters, "(&o&s)", NULL, &pin);
      if (display != NULL && peer != NULL &&
          g_ascii_string_to_unsigned (pin, 10, 0, 999999, &value, NULL))
        display (peer, (guint32) value, 0, display_data);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method_name, "RequestConfirmation"))
    {
      guint32 passkey = 0;

      g_variant_get (parameters, "(&ou)", NULL, &passkey);
      if (confirm != NULL && (peer == NULL || !confirm (peer, passkey, confirm_data)))
        {
          reject (invocation, "Passkey not confirmed");
          return;
        }
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method_name, "RequestAuthorization") ||
           g_str_equal (method_name, "AuthorizeService"))
    {
      /* The application asked for the pairing, or opted in to incoming
       * ones; accept. */
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method_name, "Cancel"))
    {
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else
    {
      g_dbus_method_invocation_return_dbus_error (invocation,
                                                  "org.freedesktop.DBus.Error.UnknownMethod",
                                                  "Unknown method");
    }
}

static const GDBusInterfaceVTable agent_vtable = {
  agent_method_call, NULL, NULL, { 0 },
};

/* Runs on the worker: GDBus dispatches the agent's method calls in the
 * thread-default context of the thread that registers it. */
static gboolean
export_cb (gpointer user_data)
{
  BleioAgentState *state = user_data;
  g_autoptr(GError) error = NULL;
  guint id;

  id = g_dbus_connection_register_object (bleio_client_get_connection (state->client),
                                          state->path,
                                          (GDBusInterfaceInfo *) &bleio_bluez_agent1_interface,
                                          &agent_vtable, state, NULL, &error);
  if (id == 0)
    g_debug ("cannot export the agent: %s", error->message);
  g_mutex_lock (&state->lock);
  state->registration_id = id;
  state->exported = TRUE;
  g_cond_broadcast (&state->exported_cond);
  g_mutex_unlock (&state->lock);
  return G_SOURCE_REMOVE;
}

BleioAgentState *
bleio_agent_get (BleioClient *client)
{
  BleioAgentState *state;
  gboolean created = FALSE;

  g_mutex_lock (&agents_lock);
  if (agents == NULL)
    agents = g_hash_table_new (NULL, NULL);
  state = g_hash_table_lookup (agents, client);
  if (state == NULL)
    {
      state = agent_new (client);
      g_hash_table_insert (agents, client, state);
      created = TRUE;
    }
  g_mutex_unlock (&agents_lock);

  if (created)
    {
      bleio_client_watch_keys (client, NULL, NULL, 0, on_owner_event, state, agent_free);
      g_main_context_invoke (bleio_client_get_worker_context (client), export_cb, state);
    }
  g_mutex_lock (&state->lock);
  while (!state->exported)
    g_cond_wait (&state->exported_cond, &state->lock);
  g_mutex_unlock (&state->lock);
  return state;
}

/* ---- registration with bluetoothd ----------------------------------------- */

typedef struct {
  char *capability;
  gboolean retried;
} EnsureData;

static void
ensure_data_free (EnsureData *data)
{
  g_free (data->capability);
  g_free (data);
}

static void register_agent (GTask *task);

static BleioClient *
task_client (GTask *task)
{
  return g_object_get_data (G_OBJECT (task), "bleio-client");
}

static void
unregister_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioClient *client = task_client (task);
  GVariant *reply = bleio_client_call_finish (client, result, NULL);

  g_clear_pointer (&reply, g_variant_unref);

  register_agent (g_steal_pointer (&task));
}

static void
unregister_agent (GTask *task)
{
  BleioClient *client = task_client (task);
  BleioAgentState *state = bleio_agent_get (client);

  bleio_client_call (client, "/org/bluez", BLEIO_IFACE_AGENT_MANAGER, "UnregisterAgent",
                     g_variant_new ("(o)", state->path), BLEIO_CALL_LOCAL_MSEC,
                     g_task_get_cancellable (task), unregister_cb, task);
}

static void
register_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioClient *client = task_client (task);
  BleioAgentState *state = bleio_agent_get (client);
  EnsureData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (client, result, &error);

  if (reply == NULL)
    {
      if (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_ALREADY_EXISTS) && !data->retried)
        {
          data->retried = TRUE;
          unregister_agent (g_steal_pointer (&task));
          return;
        }
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_mutex_lock (&state->lock);
  g_free (state->registered_capability);
  state->registered_capability = g_strdup (data->capability);
  g_mutex_unlock (&state->lock);
  g_task_return_boolean (task, TRUE);
}

static void
register_agent (GTask *task)
{
  BleioClient *client = task_client (task);
  BleioAgentState *state = bleio_agent_get (client);
  EnsureData *data = g_task_get_task_data (task);

  bleio_client_call (client, "/org/bluez", BLEIO_IFACE_AGENT_MANAGER, "RegisterAgent",
                     g_variant_new ("(os)", state->path, data->capability), BLEIO_CALL_LOCAL_MSEC,
                     g_task_get_cancellable (task), register_cb, task);
}

void
bleio_agent_ensure_async (BleioClient         *client,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  BleioAgentState *state = bleio_agent_get (client);
  g_autoptr(GTask) task = NULL;
  EnsureData *data;
  gboolean current = FALSE;
  gboolean registered = FALSE;

  /* The client is not a GObject, so it cannot be the source object. */
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, BLEIO_TAG (bleio_agent_ensure_async));
  g_object_set_data (G_OBJECT (task), "bleio-client", client);
  data = g_new0 (EnsureData, 1);

  g_mutex_lock (&state->lock);
  data->capability = g_strdup (capability_locked (state));
  registered = state->registered_capability != NULL;
  current = registered && g_str_equal (state->registered_capability, data->capability);
  g_mutex_unlock (&state->lock);
  g_task_set_task_data (task, data, (GDestroyNotify) ensure_data_free);

  if (state->registration_id == 0)
    {
      g_task_return_new_error (task, BLEIO_ERROR, BLEIO_ERROR_BLUETOOTH,
                               "The pairing agent could not be exported on the bus");
      return;
    }
  if (current)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (registered)
    {
      data->retried = TRUE;
      unregister_agent (g_steal_pointer (&task));
      return;
    }
  register_agent (g_steal_pointer (&task));
}

gboolean
bleio_agent_ensure_finish (BleioClient   *client,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
