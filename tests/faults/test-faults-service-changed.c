/* SPDX-License-Identifier: MIT */
/*
 * The peer's database changes while bleio_connection_discover_remote_services()
 * waits for bluetoothd to resolve it (issue 19 item 8): the peer takes
 * 3 s to resolve, and the simulator's ReplaceGatt lands in between.
 * Discovery must end once, with the database as it is now (the new
 * services, whose reads give the new values), and no `services-changed`
 * comes for a database nobody had been handed yet.
 *
 *   test-faults-service-changed [SCENARIO (unused)]
 */
#include "central.h"

#define PEER "00:AA:19:00:00:01"

#define GATT_BEFORE \
  "[{\"uuid\": \"fff0\", \"handle\": \"0x0010\", \"characteristics\": [" \
  "   {\"uuid\": \"fff1\", \"handle\": \"0x0011\", \"flags\": [\"read\"], \"value\": \"01\"}]}]"
#define GATT_AFTER \
  "[{\"uuid\": \"eee0\", \"handle\": \"0x0010\", \"characteristics\": [" \
  "   {\"uuid\": \"eee1\", \"handle\": \"0x0011\", \"flags\": [\"read\"], \"value\": \"02\"}]}]"

typedef struct {
  guint calls;
  GPtrArray *services;
  GError *error;
} Discovered;

static void
discovered (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Discovered *d = user_data;

  d->calls++;
  d->services = bleio_connection_discover_remote_services_finish (BLEIO_CONNECTION (source),
                                                                  result, &d->error);
}

static gboolean
discovery_done (gpointer user_data)
{
  return ((Discovered *) user_data)->calls > 0;
}

static gboolean
never (gpointer user_data)
{
  return FALSE;
}

static void
count_changed (BleioConnection *connection,
               guint            start,
               guint            end,
               gpointer         user_data)
{
  (*(guint *) user_data)++;
}

static void
test_fault_database_changes_during_discovery (void **state)
{
  CommonGroup *g = *state;
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  g_autoptr(BleioConnection) connection = common_add_and_connect (g, PEER,
    "{\"address\": \"" PEER "\", \"name\": \"ResolvingSlowly\","
    " \"connect\": {\"resolve_delay_ms\": 3000}, \"gatt\": " GATT_BEFORE "}", &path);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GPtrArray) chars = NULL;
  g_autoptr(GBytes) value = NULL;
  Discovered d = { 0 };
  guint changed = 0;
  BleioService *service;

  g_signal_connect (connection, "services-changed", G_CALLBACK (count_changed), &changed);
  assert_false (common_sim_bool (g->fx, path, "org.bluez.Device1", "ServicesResolved"));
  bleio_connection_discover_remote_services_async (connection, NULL, 10, NULL, discovered, &d);
  reply = sim_fixture_call (g->fx, "ReplaceGatt", g_variant_new ("(os)", path, GATT_AFTER),
                            &error);
  assert_no_error (error);
  /* the discovery was still waiting when the database changed */
  assert_false (common_sim_bool (g->fx, path, "org.bluez.Device1", "ServicesResolved"));

  assert_true (common_wait (discovery_done, &d, WAIT_MSEC));
  common_wait (never, NULL, 1500);
  assert_int_equal (d.calls, 1);
  assert_no_error (d.error);
  assert_int_equal (d.services->len, 1);
  service = g_ptr_array_index (d.services, 0);
  assert_int_equal (bleio_uuid_get_uuid16 (bleio_service_get_uuid (service)), 0xeee0);
  chars = bleio_service_dup_characteristics (service);
  assert_int_equal (chars->len, 1);
  value = bleio_characteristic_read_value (g_ptr_array_index (chars, 0), &error);
  assert_no_error (error);
  assert_int_equal (((const guint8 *) g_bytes_get_data (value, NULL))[0], 0x02);
  assert_int_equal (changed, 0);
  g_ptr_array_unref (d.services);
  common_disconnect_remove (g, g_steal_pointer (&connection), path);
}

int
main (int    argc,
      char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_fault_database_changes_during_discovery),
  };

  (void) argc;
  (void) argv;
  return cmocka_run_group_tests_name ("faults-service-changed", tests,
                                      common_group_setup, common_group_teardown);
}
