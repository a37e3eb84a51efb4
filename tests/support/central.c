/* SPDX-License-Identifier: MIT */
/* What central.h declares (the comments are there). */
#include "central.h"

gboolean
common_wait (CommonCondition cond,
             gpointer        user_data,
             guint           msec)
{
  return poll_until (cond, user_data, msec, 5000);
}

BleioAdapter *
common_adapter (SimFixture *fx,
                const char *name)
{
  g_autoptr(GError) error = NULL;
  BleioAdapter *adapter = bleio_adapter_new_for_name (sim_fixture_get_connection (fx),
                                                      name, NULL, &error);

  assert_no_error (error);
  assert_non_null (adapter);
  return adapter;
}

BleioAddress *
common_address (const char *text)
{
  g_autoptr(GError) error = NULL;
  BleioAddress *address = bleio_address_new_from_string (text, BLEIO_ADDRESS_TYPE_PUBLIC, &error);

  assert_no_error (error);
  return address;
}

BleioAddress *
common_scan_for (BleioAdapter *adapter,
                 const char   *name,
                 guint         msec)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  BleioAddress *found = NULL;
  gint64 end = g_get_monotonic_time () + (gint64) msec * 1000;

  results = bleio_adapter_start_scan (adapter, NULL, 4096, FALSE, 0, 0.1, 0.1, -127, TRUE, &error);
  assert_no_error (error);
  while (found == NULL && g_get_monotonic_time () < end)
    {
      g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, 0.2, &error);
      g_autofree char *entry_name = NULL;

      if (entry == NULL)
        {
          if (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_TIMEOUT))
            {
              g_clear_error (&error);
              continue;
            }
          assert_no_error (error);
          break;
        }
      entry_name = bleio_scan_entry_dup_complete_name (entry);
      if (g_strcmp0 (entry_name, name) == 0)
        found = bleio_address_copy (bleio_scan_entry_get_address (entry));
    }
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  assert_no_error (error);
  return found;
}

char *
common_add (SimFixture *fx,
            const char *json)
{
  g_autoptr(GError) error = NULL;
  char *path = sim_fixture_add_device (fx, "hci0", json, &error);

  assert_no_error (error);
  assert_non_null (path);
  return path;
}

gboolean
common_start (SimFixture   **fx,
              BleioAdapter **adapter)
{
  g_autoptr(GError) error = NULL;

  *fx = sim_fixture_new (NULL, &error);
  if (*fx == NULL)
    {
      g_printerr ("fixture: %s\n", error->message);
      return FALSE;
    }
  *adapter = common_adapter (*fx, "hci0");
  return TRUE;
}

int
common_group_setup (void **state)
{
  CommonGroup *g = g_new0 (CommonGroup, 1);

  if (!common_start (&g->fx, &g->adapter))
    {
      g_free (g);
      return -1;
    }
  *state = g;
  return 0;
}

int
common_group_teardown (void **state)
{
  CommonGroup *g = *state;

  g_clear_object (&g->adapter);
  sim_fixture_free (g->fx);
  g_free (g);
  return 0;
}

int
common_demo_group_setup (void **state)
{
  CommonDemoGroup *g = g_new0 (CommonDemoGroup, 1);

  *state = g;
  if (!common_start (&g->fx, &g->adapter))
    return -1;
  g->demo = common_scan_for (g->adapter, DEMO_NAME, WAIT_MSEC);
  return g->demo != NULL ? 0 : -1;
}

int
common_demo_group_teardown (void **state)
{
  CommonDemoGroup *g = *state;

  g_clear_object (&g->adapter);
  bleio_address_free (g->demo);
  if (g->fx != NULL)
    sim_fixture_free (g->fx);
  g_free (g);
  return 0;
}

BleioConnection *
common_add_and_connect (CommonGroup *g,
                        const char  *address,
                        const char  *json,
                        char       **path_out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAddress) bleio_address = common_address (address);
  BleioConnection *connection;

  *path_out = common_add (g->fx, json);
  connection = bleio_adapter_connect (g->adapter, bleio_address, 10, NULL, &error);
  assert_no_error (error);
  assert_non_null (connection);
  return connection;
}

void
common_disconnect_remove (CommonGroup     *g,
                          BleioConnection *connection,
                          char            *path)
{
  g_autoptr(GError) error = NULL;

  assert_true (bleio_connection_disconnect (connection, &error));
  assert_no_error (error);
  g_object_unref (connection);
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
  assert_no_error (error);
  g_free (path);
}

void
common_on_display (const BleioAddress *peer,
                   guint32             passkey,
                   guint16             entered,
                   gpointer            user_data)
{
  PairCallbacks *c = user_data;

  g_atomic_int_inc (&c->display_calls);
  g_atomic_int_set (&c->passkey_seen, (gint) passkey);
  g_atomic_pointer_set (&c->thread, g_thread_self ());
}

gboolean
common_on_request (const BleioAddress *peer,
                   guint32            *passkey,
                   gpointer            user_data)
{
  PairCallbacks *c = user_data;

  g_atomic_int_inc (&c->request_calls);
  g_atomic_pointer_set (&c->thread, g_thread_self ());
  *passkey = (guint32) g_atomic_int_get (&c->passkey_to_give);
  return !g_atomic_int_get (&c->refuse);
}

gboolean
common_on_confirm (const BleioAddress *peer,
                   guint32             passkey,
                   gpointer            user_data)
{
  PairCallbacks *c = user_data;

  g_atomic_int_inc (&c->confirm_calls);
  g_atomic_int_set (&c->passkey_seen, (gint) passkey);
  g_atomic_pointer_set (&c->thread, g_thread_self ());
  return !g_atomic_int_get (&c->refuse);
}

gboolean
common_sim_bool (SimFixture *fx,
                 const char *path,
                 const char *interface,
                 const char *name)
{
  g_autoptr(GVariant) value = sim_fixture_get_property (fx, path, interface, name);

  return value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN) &&
         g_variant_get_boolean (value);
}

void
common_on_disconnected (BleioConnection       *connection,
                        BleioDisconnectReason  reason,
                        gpointer               user_data)
{
  Disconnected *d = user_data;

  d->fired = TRUE;
  d->reason = reason;
  d->thread = g_thread_self ();
}

gboolean
common_disconnected_fired (gpointer user_data)
{
  return ((Disconnected *) user_data)->fired;
}

gboolean
common_not_connected (gpointer user_data)
{
  return !bleio_connection_get_connected (user_data);
}

void
common_assert_spent (BleioConnection *connection)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) services = NULL;
  double interval = 1;

  assert_false (bleio_connection_get_connected (connection));
  assert_false (bleio_connection_get_paired (connection, &error));
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  assert_non_null (strstr (error->message, "Create a new connection"));
  g_clear_error (&error);
  assert_int_equal (bleio_connection_get_max_packet_length (connection, &error), 0);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&error);
  assert_false (bleio_connection_get_connection_interval (connection, &interval, &error));
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&error);
  assert_false (bleio_connection_pair (connection, TRUE, &error));
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&error);
  services = bleio_connection_discover_remote_services (connection, NULL, 1, &error);
  assert_null (services);
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&error);
  /* disconnect stays a no-op */
  assert_true (bleio_connection_disconnect (connection, &error));
  assert_no_error (error);
}

typedef struct {
  SimFixture *fx;
  const char *path;
} SimWait;

static gboolean
sim_connected (gpointer user_data)
{
  SimWait *w = user_data;

  return common_sim_bool (w->fx, w->path, "org.bluez.Device1", "Connected");
}

gboolean
link_listed (gpointer user_data)
{
  LinkWait *w = user_data;
  g_autoptr(GPtrArray) connections = bleio_adapter_dup_connections (w->adapter);

  for (guint i = 0; i < connections->len; i++)
    if (g_str_equal (bleio_connection_get_object_path (g_ptr_array_index (connections, i)), w->path))
      {
        w->found = g_object_ref (g_ptr_array_index (connections, i));
        return TRUE;
      }
  return FALSE;
}

static void
connect_reply_ignored (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  GVariant *reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, NULL);

  g_clear_pointer (&reply, g_variant_unref);
}

BleioConnection *
common_link_made_elsewhere (SimFixture   *fx,
                            BleioAdapter *adapter,
                            const char   *address,
                            const char   *extra_json,
                            char        **path_out)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = g_strdup_printf ("{\"address\": \"%s\", \"name\": \"Q%s\", "
                                           "\"advertising_interval_ms\": 100, %s}",
                                           address, address + 12, extra_json);
  char *path = common_add (fx, json);
  g_autofree char *name = g_strdup_printf ("Q%s", address + 12);
  g_autofree char *found = sim_fixture_find_device (fx, HCI0, name, &error);
  SimWait sw = { fx, NULL };
  LinkWait lw = { adapter, NULL, NULL };

  assert_no_error (error);
  assert_string_equal (found, path);
  g_dbus_connection_call (sim_fixture_get_connection (fx), "org.bluez", path,
                          "org.bluez.Device1", "Connect", NULL, NULL,
                          G_DBUS_CALL_FLAGS_NONE, 60000, NULL, connect_reply_ignored, NULL);
  sw.path = path;
  assert_true (common_wait (sim_connected, &sw, WAIT_MSEC));
  lw.path = path;
  assert_true (common_wait (link_listed, &lw, WAIT_MSEC));
  *path_out = path;
  return lw.found;
}

guint
common_drain_named (BleioScanResults *results,
                    const char       *name,
                    guint             msec,
                    guint            *total)
{
  gint64 end = g_get_monotonic_time () + (gint64) msec * 1000;
  guint named = 0;

  *total = 0;
  while (g_get_monotonic_time () < end)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, 0.1, &error);
      g_autofree char *entry_name = NULL;

      if (entry == NULL)
        {
          if (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_TIMEOUT))
            continue;
          assert_no_error (error);
          break;
        }
      (*total)++;
      entry_name = bleio_scan_entry_dup_complete_name (entry);
      if (name == NULL || g_strcmp0 (entry_name, name) == 0)
        named++;
    }
  return named;
}

void
common_connected (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  CommonConnect *c = user_data;

  c->connection = bleio_adapter_connect_finish (BLEIO_ADAPTER (source), result, &c->error);
  c->done = TRUE;
  c->thread = g_thread_self ();
}

gboolean
common_connect_done (gpointer user_data)
{
  return ((CommonConnect *) user_data)->done;
}
