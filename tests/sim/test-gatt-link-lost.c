/* SPDX-License-Identifier: MIT */
/* A GATT operation in flight when its link goes down ends at once with
 * BLEIO_ERROR_CONNECTION (issue 21 item 1): bluetoothd 5.82 never answers
 * a ReadValue whose link dropped (pairing failed under it), and 5.66
 * answers late. The simulator leaves the call unanswered (NoReplyNext)
 * and then drops the link or removes the device; the operation must have
 * ended by the time the connection's `disconnected` signal has run and
 * the context has nothing left to dispatch, where before it waited for
 * GDBus's 25 s reply timeout. */
#include "central.h"

typedef CommonGroup Group;

#define PEER "00:CC:00:00:21:01"

static BleioConnection *
connect_peer (Group *g,
              char **path_out)
{
  return common_add_and_connect (g, PEER,
    "{\"address\": \"" PEER "\", \"name\": \"LinkLost\","
    " \"gatt\": [{\"uuid\": \"fff0\", \"characteristics\": ["
    "  {\"uuid\": \"fff1\", \"flags\": [\"read\", \"write\"], \"value\": \"00\"}]}]}",
    path_out);
}

static BleioCharacteristic *
find_fff1 (BleioConnection *connection)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) services =
    bleio_connection_discover_remote_services (connection, NULL, 10, &error);

  assert_no_error (error);
  for (guint i = 0; services != NULL && i < services->len; i++)
    {
      g_autoptr(GPtrArray) chars =
        bleio_service_dup_characteristics (g_ptr_array_index (services, i));

      for (guint j = 0; j < chars->len; j++)
        {
          BleioCharacteristic *c = g_ptr_array_index (chars, j);
          const BleioUuid *uuid = bleio_characteristic_get_uuid (c);

          if (bleio_uuid_get_size (uuid) == 16 && bleio_uuid_get_uuid16 (uuid) == 0xfff1)
            return g_object_ref (c);
        }
    }
  fail_msg ("no characteristic 0xfff1");
  return NULL;
}

typedef struct {
  gboolean done;
  GError *error;
} OpResult;

static void
read_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  OpResult *r = user_data;
  GBytes *value =
    bleio_characteristic_read_value_finish (BLEIO_CHARACTERISTIC (source), result, &r->error);

  g_clear_pointer (&value, g_bytes_unref);
  r->done = TRUE;
}

static void
write_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  OpResult *r = user_data;

  bleio_characteristic_write_value_finish (BLEIO_CHARACTERISTIC (source), result, &r->error);
  r->done = TRUE;
}

static gboolean
call_logged (gpointer user_data)
{
  gpointer *args = user_data;

  return sim_fixture_count_calls (args[0], args[1]) > 0;
}

typedef enum { LOSE_DROP, LOSE_REMOVE } Loss;

/* Starts @method (ReadValue or WriteValue) on a fresh link, which the
 * simulator never answers, then loses the link as @loss says. */
static void
run_case (Group      *g,
          const char *method,
          Loss        loss)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  g_autoptr(BleioConnection) connection = connect_peer (g, &path);
  g_autoptr(BleioCharacteristic) chr = find_fff1 (connection);
  Disconnected disconnected = { 0 };
  OpResult r = { 0 };
  gpointer args[] = { g->fx, (gpointer) method };

  g_signal_connect (connection, "disconnected", G_CALLBACK (common_on_disconnected),
                    &disconnected);
  assert_true (sim_fixture_reset_calls (g->fx, &error));
  assert_true (sim_fixture_no_reply_next (g->fx, method, 1, &error));
  if (g_str_equal (method, "ReadValue"))
    bleio_characteristic_read_value_async (chr, NULL, read_done, &r);
  else
    {
      static const guint8 one = 1;
      g_autoptr(GBytes) value = g_bytes_new_static (&one, 1);

      bleio_characteristic_write_value_async (chr, value, NULL, write_done, &r);
    }
  /* The call has reached the simulator, which holds it unanswered. */
  assert_true (common_wait (call_logged, args, WAIT_MSEC));
  assert_false (r.done);

  if (loss == LOSE_DROP)
    assert_true (sim_fixture_drop_link (g->fx, path, "test: link lost", &error));
  else
    assert_true (sim_fixture_remove_device (g->fx, path, &error));
  assert_no_error (error);

  assert_true (common_wait (common_disconnected_fired, &disconnected, WAIT_MSEC));
  /* Whatever the link loss queued in this context has run now. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  if (!r.done)
    fail_msg ("%s still pending after the link went down and the context was idle", method);
  assert_bleio_error (r.error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&r.error);

  if (loss == LOSE_DROP)
    assert_true (sim_fixture_remove_device (g->fx, path, &error));
  g_free (path);
}

static void
test_read_unanswered_link_dropped (void **state)
{
  run_case (*state, "ReadValue", LOSE_DROP);
}

static void
test_write_unanswered_link_dropped (void **state)
{
  run_case (*state, "WriteValue", LOSE_DROP);
}

static void
test_read_unanswered_device_removed (void **state)
{
  run_case (*state, "ReadValue", LOSE_REMOVE);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_read_unanswered_link_dropped),
    cmocka_unit_test (test_write_unanswered_link_dropped),
    cmocka_unit_test (test_read_unanswered_device_removed),
  };

  return cmocka_run_group_tests (tests, common_group_setup, common_group_teardown);
}
