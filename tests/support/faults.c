/* SPDX-License-Identifier: MIT */
/* What faults.h declares (the comments are there). */
#include "faults.h"

const char *faults_scenario;
FaultKind fault_kind;
const char *
fault_name (FaultKind kind)
{
  switch (kind)
    {
    case FAULT_RESTART:
      return "restart";
    case FAULT_CRASH:
      return "crash";
    case FAULT_DROP:
    default:
      return "drop";
    }
}

void
faults_init (int    argc,
             char **argv)
{
  if (argc < 2)
    {
      g_printerr ("usage: %s SCENARIO.json [restart|crash|drop] [GROUP]\n", argv[0]);
      exit (2);
    }
  faults_scenario = argv[1];
  fault_kind = FAULT_RESTART;
  if (argc > 2 && g_str_equal (argv[2], "crash"))
    fault_kind = FAULT_CRASH;
  else if (argc > 2 && g_str_equal (argv[2], "drop"))
    fault_kind = FAULT_DROP;
}

int
faults_setup (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  Env *env = g_new0 (Env, 1);

  env->fx = sim_fixture_new (faults_scenario, &error);
  if (env->fx == NULL)
    {
      g_printerr ("simulator: %s\n", error->message);
      g_free (env);
      return -1;
    }
  /* Devices found by a scan stay until the test ends. */
  reply = sim_fixture_call (env->fx, "SetTemporaryTimeout",
                            g_variant_new ("(u)", 3600 * 1000), &error);
  if (reply == NULL)
    {
      g_printerr ("SetTemporaryTimeout: %s\n", error->message);
      return -1;
    }
  env->adapter = common_adapter (env->fx, "hci0");
  env->adapter_weak = env->adapter;
  g_object_add_weak_pointer (G_OBJECT (env->adapter), &env->adapter_weak);
  *state = env;
  return 0;
}

gboolean
adapter_gone (gpointer user_data)
{
  Env *env = user_data;

  while (g_main_context_iteration (NULL, FALSE))
    ;
  return env->adapter_weak == NULL;
}

int
faults_teardown (void **state)
{
  Env *env = *state;

  g_clear_object (&env->adapter);
  /* Nothing the test did keeps the adapter alive once its own references
   * are gone: no pending operation, no leaked reference. */
  if (!common_wait (adapter_gone, env, WAIT_MSEC))
    fail_msg ("the adapter is still alive after the test dropped it");
  sim_fixture_free (env->fx);
  g_free (env);
  return 0;
}

void
inject (Env        *env,
        const char *device_path)
{
  g_autoptr(GError) error = NULL;

  switch (fault_kind)
    {
    case FAULT_RESTART:
      sim_fixture_restart (env->fx, RESTART_DOWN_MSEC, &error);
      break;
    case FAULT_CRASH:
      sim_fixture_crash (env->fx, &error);
      break;
    case FAULT_DROP:
    default:
      sim_fixture_drop_link (env->fx, device_path, "connection-timeout", &error);
      break;
    }
  if (error != NULL)
    fail_msg ("injecting the %s fault failed: %s", fault_name (fault_kind), error->message);
}

BleioError
expected_error (void)
{
  return fault_kind == FAULT_DROP ? BLEIO_ERROR_CONNECTION : BLEIO_ERROR_BLUEZ_UNAVAILABLE;
}

BleioDisconnectReason
expected_reason (void)
{
  return fault_kind == FAULT_DROP ? BLEIO_DISCONNECT_REASON_REMOTE
                                  : BLEIO_DISCONNECT_REASON_BLUEZ_UNAVAILABLE;
}

static gboolean
calls_reached (gpointer user_data)
{
  CallsWait *w = user_data;

  return sim_fixture_count_calls (w->fx, w->method) >= w->count;
}

void
wait_calls (Env        *env,
            const char *method,
            int         count)
{
  CallsWait w = { env->fx, method, count };

  if (!common_wait (calls_reached, &w, WAIT_MSEC))
    fail_msg ("the simulator never received %d %s call(s)", count, method);
}

static gpointer
blocker_main (gpointer user_data)
{
  Blocker *b = user_data;

  b->result = b->func (b->data, &b->error);
  g_atomic_pointer_set (&b->returned_at, GSIZE_TO_POINTER (1));
  return NULL;
}

void
blocker_start (Blocker      *b,
               BlockingFunc  func,
               gpointer      data)
{
  memset (b, 0, sizeof *b);
  b->func = func;
  b->data = data;
  b->thread = g_thread_new ("blocking-call", blocker_main, b);
}

gboolean
blocker_returned (gpointer user_data)
{
  Blocker *b = user_data;

  return g_atomic_pointer_get (&b->returned_at) != NULL;
}

void
blocker_join (Blocker *b,
              guint    msec)
{
  if (!common_wait (blocker_returned, b, msec))
    fail_msg ("the blocking call did not return within %u ms of the fault", msec);
  g_thread_join (b->thread);
  b->thread = NULL;
}

void
pending_clear (Pending *p)
{
  g_clear_error (&p->error);
  if (p->result != NULL && p->free_result != NULL)
    p->free_result (p->result);
  p->result = NULL;
}

static gboolean
pending_fired (gpointer user_data)
{
  return ((Pending *) user_data)->fired > 0;
}

gboolean
never (gpointer user_data)
{
  return FALSE;
}

void
pending_connect_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Pending *p = user_data;

  p->fired++;
  p->result = bleio_adapter_connect_finish (BLEIO_ADAPTER (source), result, &p->error);
  p->free_result = g_object_unref;
}

void
pending_read_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Pending *p = user_data;

  p->fired++;
  p->result = bleio_characteristic_read_value_finish (BLEIO_CHARACTERISTIC (source), result,
                                                      &p->error);
  p->free_result = (GDestroyNotify) g_bytes_unref;
}

void
assert_fired_once (Pending *p)
{
  if (!common_wait (pending_fired, p, 2 * WAIT_MSEC))
    fail_msg ("the operation's callback never ran");
  common_wait (never, NULL, SETTLE_MSEC);
  assert_int_equal (p->fired, 1);
}

void
assert_scan_ends (BleioScanResults *results,
                  BleioError        code)
{
  g_autoptr(GError) error = NULL;
  gboolean ended = FALSE;

  for (guint i = 0; i < 100000 && !ended; i++)
    {
      g_autoptr(BleioScanEntry) e = bleio_scan_results_next (results, WAIT_MSEC / 1000.0,
                                                             &error);

      ended = e == NULL;
    }
  assert_true (ended);
  assert_bleio_error (error, code);
}

gsize
drain_buffer_until_lost (BleioCharacteristicBuffer *buffer)
{
  g_autoptr(GError) error = NULL;
  gint64 end = g_get_monotonic_time () + (gint64) 2 * WAIT_MSEC * 1000;
  gsize total = 0;

  while (g_get_monotonic_time () < end)
    {
      g_autoptr(GBytes) bytes = bleio_characteristic_buffer_read (buffer, 0, &error);

      if (bytes == NULL)
        break;
      total += g_bytes_get_size (bytes);
    }
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  return total;
}

gboolean
adapter_back (gpointer user_data)
{
  return bleio_adapter_is_present (user_data);
}

BleioAddress *
scan_until_found (Env        *env,
                  const char *name)
{
  gint64 end = g_get_monotonic_time () + (gint64) 2 * WAIT_MSEC * 1000;
  g_autofree char *last = NULL;

  if (!common_wait (adapter_back, env->adapter, WAIT_MSEC))
    fail_msg ("the adapter did not come back");
  while (g_get_monotonic_time () < end)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BleioScanResults) results = NULL;

      results = bleio_adapter_start_scan (env->adapter, NULL, 4096, FALSE, 0, 0.1, 0.1,
                                          -127, TRUE, &error);
      if (results == NULL)
        {
          g_free (last);
          last = g_strdup (error->message);
          g_usleep (20000);
          continue;
        }
      while (g_get_monotonic_time () < end)
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
              g_free (last);
              last = g_strdup (error != NULL ? error->message : "the scan ended");
              break;
            }
          entry_name = bleio_scan_entry_dup_complete_name (entry);
          if (g_strcmp0 (entry_name, name) == 0)
            {
              BleioAddress *found = bleio_address_copy (bleio_scan_entry_get_address (entry));

              bleio_adapter_stop_scan (env->adapter, NULL);
              return found;
            }
        }
      bleio_adapter_stop_scan (env->adapter, NULL);
    }
  fail_msg ("no scan entry named %s (last error: %s)", name, last != NULL ? last : "none");
  return NULL;
}

BleioCharacteristic *
find_char (GPtrArray *services,
           guint16    uuid16)
{
  g_autoptr(BleioUuid) uuid = bleio_uuid_new_from_uuid16 (uuid16);

  for (guint i = 0; i < services->len; i++)
    {
      g_autoptr(GPtrArray) chars = bleio_service_dup_characteristics (g_ptr_array_index (services, i));

      for (guint j = 0; j < chars->len; j++)
        if (bleio_uuid_equal (bleio_characteristic_get_uuid (g_ptr_array_index (chars, j)), uuid))
          return g_object_ref (g_ptr_array_index (chars, j));
    }
  fail_msg ("no characteristic %04x", uuid16);
  return NULL;
}

BleioConnection *
connect_peer (Env         *env,
              const char  *name,
              GPtrArray  **services_out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAddress) address = scan_until_found (env, name);
  BleioConnection *connection = bleio_adapter_connect (env->adapter, address, 10, NULL, &error);

  assert_no_error (error);
  assert_non_null (connection);
  if (services_out != NULL)
    {
      *services_out = bleio_connection_discover_remote_services (connection, NULL, 10, &error);
      assert_no_error (error);
      assert_non_null (*services_out);
    }
  return connection;
}

/* The library works again in this process: a scan finds @name, a new
 * connect, discovery and a read of @uuid16 give @value. */
static void
assert_recovered (Env          *env,
                  const char   *name,
                  guint16       uuid16,
                  const guint8 *value,
                  gsize         len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(BleioConnection) connection = connect_peer (env, name, &services);
  g_autoptr(BleioCharacteristic) c = find_char (services, uuid16);
  g_autoptr(GBytes) read = bleio_characteristic_read_value (c, &error);

  assert_no_error (error);
  assert_non_null (read);
  assert_int_equal (g_bytes_get_size (read), len);
  assert_memory_equal (g_bytes_get_data (read, NULL), value, len);
  assert_true (bleio_connection_disconnect (connection, &error));
  assert_no_error (error);
}

const guint8 fa03_value[2] = { 0x01, 0x02 };
const guint8 fb03_value[2] = { 0x03, 0x04 };
void
assert_fault_peer_recovered (Env *env)
{
  assert_recovered (env, FAULT_PEER, 0xfa03, fa03_value, sizeof fa03_value);
}

void
assert_slow_peer_recovered (Env *env)
{
  assert_recovered (env, SLOW_PEER, 0xfb03, fb03_value, sizeof fb03_value);
}
