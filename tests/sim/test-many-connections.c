/* SPDX-License-Identifier: MIT */
/* Twenty simulated peripherals connected at once through the connect queue,
 * each discovered, all listed by the adapter, all disconnected. */
#include "central.h"

#define N_PEERS 20

typedef struct {
  BleioConnection *connection;
  GError *error;
  gboolean done;
  GPtrArray *services;
  gboolean discovered;
} Peer;

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Peer *p = user_data;

  p->connection = bleio_adapter_connect_finish (BLEIO_ADAPTER (source), result, &p->error);
  p->done = TRUE;
}

static void
discovered_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Peer *p = user_data;

  p->services = bleio_connection_discover_remote_services_finish (BLEIO_CONNECTION (source),
                                                                  result, &p->error);
  p->discovered = TRUE;
}

static Peer peers[N_PEERS];

static gboolean
all_connected (gpointer user_data)
{
  for (guint i = 0; i < N_PEERS; i++)
    if (!peers[i].done)
      return FALSE;
  return TRUE;
}

static gboolean
all_discovered (gpointer user_data)
{
  for (guint i = 0; i < N_PEERS; i++)
    if (!peers[i].discovered)
      return FALSE;
  return TRUE;
}

static void
test_twenty_connections (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autoptr(GPtrArray) listed = NULL;
  char *paths[N_PEERS];
  guint ours = 0;

  for (guint i = 0; i < N_PEERS; i++)
    {
      g_autofree char *json = g_strdup_printf (
        "{\"address\": \"00:CC:00:00:00:%02X\", \"name\": \"Many%02u\","
        " \"gatt\": [{\"uuid\": \"180f\", \"characteristics\": [{\"uuid\": \"2a19\","
        " \"flags\": [\"read\", \"notify\"], \"value\": \"%02x\"}]}]}", i + 1, i, i + 1);
      g_autofree char *text = g_strdup_printf ("00:CC:00:00:00:%02X", i + 1);
      g_autoptr(BleioAddress) address = common_address (text);

      paths[i] = common_add (fx, json);
      bleio_adapter_connect_async (adapter, address, 30, NULL, connected_cb, &peers[i]);
    }
  assert_true (common_wait (all_connected, NULL, 12 * WAIT_MSEC));
  for (guint i = 0; i < N_PEERS; i++)
    {
      if (peers[i].error != NULL)
        fail_msg ("peer %u: %s", i, peers[i].error->message);
      assert_true (bleio_connection_get_connected (peers[i].connection));
      bleio_connection_discover_remote_services_async (peers[i].connection, NULL, 20, NULL,
                                                       discovered_cb, &peers[i]);
    }
  assert_true (common_wait (all_discovered, NULL, 6 * WAIT_MSEC));
  for (guint i = 0; i < N_PEERS; i++)
    {
      if (peers[i].error != NULL)
        fail_msg ("peer %u: %s", i, peers[i].error->message);
      assert_int_equal (peers[i].services->len, 1);
      assert_int_equal (bleio_uuid_get_uuid16 (bleio_service_get_uuid (g_ptr_array_index (peers[i].services, 0))),
                        0x180f);
    }

  /* The adapter lists the same twenty objects. */
  listed = bleio_adapter_dup_connections (adapter);
  for (guint i = 0; i < listed->len; i++)
    for (guint j = 0; j < N_PEERS; j++)
      if (g_ptr_array_index (listed, i) == peers[j].connection)
        ours++;
  assert_int_equal (ours, N_PEERS);

  for (guint i = 0; i < N_PEERS; i++)
    {
      assert_true (bleio_connection_disconnect (peers[i].connection, &error));
      assert_no_error (error);
      assert_false (bleio_connection_get_connected (peers[i].connection));
      g_clear_object (&peers[i].connection);
      g_clear_pointer (&peers[i].services, g_ptr_array_unref);
      assert_true (sim_fixture_remove_device (fx, paths[i], &error));
      g_free (paths[i]);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_twenty_connections),
  };

  return cmocka_run_group_tests (tests, sim_fixture_group_setup, sim_fixture_group_teardown);
}
