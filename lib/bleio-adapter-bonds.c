/* SPDX-License-Identifier: MIT */
/*
 * What an adapter knows of bonds: whether a peer is paired, forgetting every
 * bonded device, and the pairing callbacks and incoming-pairing opt-in that
 * the process-wide agent (bleio-agent.c) uses.
 */
#include "bleio-adapter-private.h"
#include "bleio-agent-private.h"
#include "bleio-sync-private.h"

/* ---- erase_bonding ---------------------------------------------------------- */

typedef struct {
  GPtrArray *paths;
  guint next;
  GError *first_error;
} EraseData;

static void
erase_data_free (EraseData *data)
{
  g_ptr_array_unref (data->paths);
  g_clear_error (&data->first_error);
  g_free (data);
}

static void erase_next (GTask *task);

static void
remove_device_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  BleioAdapter *self = g_task_get_source_object (task);
  EraseData *data = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GVariant) reply = bleio_client_call_finish (bleio_adapter_get_client (self), result, &error);

  if (reply == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, error);
          return;
        }
      if (data->first_error == NULL)
        data->first_error = error;
      else
        g_error_free (error);
    }
  erase_next (g_steal_pointer (&task));
}

static void
erase_next (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  BleioAdapter *self = g_task_get_source_object (task);
  EraseData *data = g_task_get_task_data (task);
  GCancellable *cancellable;

  if (data->next >= data->paths->len)
    {
      if (data->first_error != NULL)
        g_task_return_error (task, g_steal_pointer (&data->first_error));
      else
        g_task_return_boolean (task, TRUE);
      return;
    }
  cancellable = g_task_get_cancellable (task);
  bleio_client_call (bleio_adapter_get_client (self), bleio_adapter_get_object_path (self), BLEIO_IFACE_ADAPTER, "RemoveDevice",
                     g_variant_new ("(o)", (const char *) g_ptr_array_index (data->paths, data->next++)),
                     BLEIO_CALL_LOCAL_MSEC, cancellable, remove_device_cb, g_steal_pointer (&task));
}

void
bleio_adapter_erase_bonding_async (BleioAdapter        *adapter,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GPtrArray) paths = NULL;
  EraseData *data;
  GError *error = NULL;

  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  task = g_task_new (adapter, cancellable, callback, user_data);
  g_task_set_source_tag (task, BLEIO_TAG (bleio_adapter_erase_bonding_async));
  if (!bleio_adapter_check_usable (adapter, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  data = g_new0 (EraseData, 1);
  data->paths = g_ptr_array_new_with_free_func (g_free);
  paths = bleio_client_list_paths (bleio_adapter_get_client (adapter), BLEIO_IFACE_DEVICE, bleio_adapter_get_object_path (adapter));
  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = g_ptr_array_index (paths, i);

      if (bleio_client_device_paired (bleio_adapter_get_client (adapter), path))
        g_ptr_array_add (data->paths, g_strdup (path));
    }
  g_task_set_task_data (task, data, (GDestroyNotify) erase_data_free);
  erase_next (g_steal_pointer (&task));
}

gboolean
bleio_adapter_erase_bonding_finish (BleioAdapter  *adapter,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, adapter), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
bleio_adapter_erase_bonding (BleioAdapter  *adapter,
                             GError       **error)
{
  BleioSync sync;
  gboolean ok;

  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), FALSE);
  bleio_sync_begin (&sync);
  bleio_adapter_erase_bonding_async (adapter, NULL, bleio_sync_callback, &sync);
  ok = bleio_adapter_erase_bonding_finish (adapter, bleio_sync_wait (&sync), error);
  bleio_sync_end (&sync);
  return ok;
}

gboolean
bleio_adapter_get_paired (BleioAdapter        *adapter,
                          const BleioAddress  *address,
                          GError             **error)
{
  g_autofree char *bluez_address = NULL;
  g_autofree char *path = NULL;

  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!bleio_adapter_check_usable (adapter, error))
    return FALSE;
  bluez_address = bleio_address_to_bluez_string (address);
  path = bleio_client_find_device (bleio_adapter_get_client (adapter), bleio_adapter_get_object_path (adapter), bluez_address);
  if (path == NULL)
    return FALSE;
  return bleio_client_device_paired (bleio_adapter_get_client (adapter), path);
}

/* ---- pairing callbacks ------------------------------------------------------------ */

void
bleio_adapter_set_pairing_callbacks (BleioAdapter            *adapter,
                                     BleioPasskeyDisplayFunc  display,
                                     BleioPasskeyRequestFunc  request,
                                     BleioPasskeyConfirmFunc  confirm,
                                     gpointer                 user_data,
                                     GDestroyNotify           destroy)
{
  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  bleio_agent_state_set_callbacks (bleio_agent_get (bleio_adapter_get_client (adapter)),
                                   display, request, confirm, user_data, destroy);
}

void
bleio_adapter_set_passkey_display_func (BleioAdapter            *adapter,
                                        BleioPasskeyDisplayFunc  func,
                                        gpointer                 user_data,
                                        GDestroyNotify           destroy)
{
  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  bleio_agent_state_set_display (bleio_agent_get (bleio_adapter_get_client (adapter)),
                                 func, user_data, destroy);
}

void
bleio_adapter_set_passkey_request_func (BleioAdapter            *adapter,
                                        BleioPasskeyRequestFunc  func,
                                        gpointer                 user_data,
                                        GDestroyNotify           destroy)
{
  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  bleio_agent_state_set_request (bleio_agent_get (bleio_adapter_get_client (adapter)),
                                 func, user_data, destroy);
}

void
bleio_adapter_set_passkey_confirm_func (BleioAdapter            *adapter,
                                        BleioPasskeyConfirmFunc  func,
                                        gpointer                 user_data,
                                        GDestroyNotify           destroy)
{
  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  bleio_agent_state_set_confirm (bleio_agent_get (bleio_adapter_get_client (adapter)),
                                 func, user_data, destroy);
}

void
bleio_adapter_set_accept_incoming_pairing (BleioAdapter *adapter,
                                           gboolean      accept)
{
  g_return_if_fail (BLEIO_IS_ADAPTER (adapter));
  bleio_agent_state_set_accept_incoming (bleio_agent_get (bleio_adapter_get_client (adapter)),
                                         accept);
}

gboolean
bleio_adapter_get_accept_incoming_pairing (BleioAdapter *adapter)
{
  g_return_val_if_fail (BLEIO_IS_ADAPTER (adapter), FALSE);
  return bleio_agent_state_get_accept_incoming (bleio_agent_get (bleio_adapter_get_client (adapter)));
}
