/* SPDX-License-Identifier: MIT */
/* Threads and main contexts: blocking calls from a thread while the main
 * thread runs a loop, async calls completing in a thread's own context,
 * blocking calls never iterating the caller's context, two threads
 * connecting at once. */
#include "central.h"

typedef struct {
  SimFixture *fx;
  GMainLoop *loop;
  gboolean ok;
  char *failure;
} Job;

static gboolean
quit_idle (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static void
job_fail (Job        *job,
          const char *what,
          GError     *error)
{
  job->failure = g_strdup_printf ("%s: %s", what, error != NULL ? error->message : "failed");
}

/* The whole seed sequence, blocking, in a thread of its own. */
static gpointer
blocking_job (gpointer data)
{
  Job *job = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(BleioAddress) address = NULL;
  g_autoptr(BleioConnection) connection = NULL;
  g_autoptr(GPtrArray) services = NULL;

  adapter = bleio_adapter_new_for_name (sim_fixture_get_connection (job->fx), "hci0", NULL, &error);
  if (adapter == NULL)
    job_fail (job, "adapter", error);
  else if ((address = common_scan_for (adapter, DEMO_NAME, WAIT_MSEC)) == NULL)
    job_fail (job, "scan", NULL);
  else if ((connection = bleio_adapter_connect (adapter, address, 10, NULL, &error)) == NULL)
    job_fail (job, "connect", error);
  else if ((services = bleio_connection_discover_remote_services (connection, NULL, 10, &error)) == NULL)
    job_fail (job, "discover", error);
  else if (services->len == 0)
    job_fail (job, "discover", NULL);
  else if (!bleio_connection_disconnect (connection, &error))
    job_fail (job, "disconnect", error);
  else
    job->ok = TRUE;
  g_main_context_invoke (NULL, quit_idle, job->loop);
  return NULL;
}

static gboolean
give_up (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_blocking_in_thread_while_main_loop_runs (void **state)
{
  Job job = { *state, NULL, FALSE, NULL };
  GThread *thread;
  guint guard;

  job.loop = g_main_loop_new (NULL, FALSE);
  thread = g_thread_new ("blocking-job", blocking_job, &job);
  guard = g_timeout_add (6 * WAIT_MSEC, give_up, job.loop);
  g_main_loop_run (job.loop);
  g_source_remove (guard);
  g_thread_join (thread);
  if (!job.ok)
    fail_msg ("blocking job: %s", job.failure != NULL ? job.failure : "did not finish");
  g_free (job.failure);
  g_main_loop_unref (job.loop);
}

typedef struct {
  SimFixture *fx;
  GMainContext *context;
  GMainLoop *loop;
  GThread *self;
  BleioAdapter *adapter;
  BleioScanResults *results;
  BleioAddress *found;
  BleioConnection *connection;
  gboolean wrong_thread;
  gboolean ok;
  char *failure;
} AsyncJob;

static void
async_finish (AsyncJob   *job,
              const char *what,
              GError     *error)
{
  if (what != NULL)
    job->failure = g_strdup_printf ("%s: %s", what, error != NULL ? error->message : "failed");
  else
    job->ok = TRUE;
  g_main_loop_quit (job->loop);
}

static void
check_thread (AsyncJob *job)
{
  if (g_thread_self () != job->self)
    job->wrong_thread = TRUE;
}

static void
async_disconnected (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  AsyncJob *job = user_data;
  g_autoptr(GError) error = NULL;

  check_thread (job);
  if (!bleio_connection_disconnect_finish (BLEIO_CONNECTION (source), result, &error))
    async_finish (job, "disconnect", error);
  else
    async_finish (job, NULL, NULL);
}

static void
async_connected (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  AsyncJob *job = user_data;
  g_autoptr(GError) error = NULL;

  check_thread (job);
  job->connection = bleio_adapter_connect_finish (BLEIO_ADAPTER (source), result, &error);
  if (job->connection == NULL)
    {
      async_finish (job, "connect", error);
      return;
    }
  bleio_connection_disconnect_async (job->connection, NULL, async_disconnected, job);
}

static void
async_stopped (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  AsyncJob *job = user_data;
  g_autoptr(GError) error = NULL;

  check_thread (job);
  if (!bleio_adapter_stop_scan_finish (BLEIO_ADAPTER (source), result, &error))
    {
      async_finish (job, "stop scan", error);
      return;
    }
  bleio_adapter_connect_async (job->adapter, job->found, 10, NULL, async_connected, job);
}

static void
async_entry (BleioScanResults *results,
             BleioScanEntry   *entry,
             gpointer          user_data)
{
  AsyncJob *job = user_data;
  g_autofree char *name = bleio_scan_entry_dup_complete_name (entry);

  check_thread (job);
  if (job->found != NULL || g_strcmp0 (name, DEMO_NAME) != 0)
    return;
  job->found = bleio_address_copy (bleio_scan_entry_get_address (entry));
  bleio_adapter_stop_scan_async (job->adapter, NULL, async_stopped, job);
}

static void
async_scanning (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  AsyncJob *job = user_data;
  g_autoptr(GError) error = NULL;

  check_thread (job);
  job->results = bleio_adapter_start_scan_finish (BLEIO_ADAPTER (source), result, &error);
  if (job->results == NULL)
    {
      async_finish (job, "scan", error);
      return;
    }
  g_signal_connect (job->results, "entry", G_CALLBACK (async_entry), job);
}

static void
async_adapter (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  AsyncJob *job = user_data;
  g_autoptr(GError) error = NULL;

  check_thread (job);
  job->adapter = bleio_adapter_new_for_name_finish (result, &error);
  if (job->adapter == NULL)
    {
      async_finish (job, "adapter", error);
      return;
    }
  bleio_adapter_start_scan_async (job->adapter, NULL, 4096, FALSE, 0, 0.1, 0.1, -127, TRUE,
                                  NULL, async_scanning, job);
}

static gpointer
async_job_thread (gpointer data)
{
  AsyncJob *job = data;
  GSource *guard;

  job->self = g_thread_self ();
  job->context = g_main_context_new ();
  g_main_context_push_thread_default (job->context);
  job->loop = g_main_loop_new (job->context, FALSE);
  guard = g_timeout_source_new (6 * WAIT_MSEC);
  g_source_set_callback (guard, give_up, job->loop, NULL);
  g_source_attach (guard, job->context);

  bleio_adapter_new_for_name_async (sim_fixture_get_connection (job->fx), "hci0", NULL,
                                    async_adapter, job);
  g_main_loop_run (job->loop);

  g_source_destroy (guard);
  g_source_unref (guard);
  if (job->results != NULL)
    g_signal_handlers_disconnect_by_data (job->results, job);
  g_clear_object (&job->results);
  g_clear_object (&job->connection);
  g_clear_object (&job->adapter);
  g_clear_pointer (&job->found, bleio_address_free);
  /* Let late idles of the library run here before the context goes. */
  while (g_main_context_iteration (job->context, FALSE))
    ;
  g_main_loop_unref (job->loop);
  g_main_context_pop_thread_default (job->context);
  g_main_context_unref (job->context);
  return NULL;
}

static void
test_async_in_thread_context (void **state)
{
  AsyncJob job = { 0, };
  GThread *thread;

  job.fx = *state;
  thread = g_thread_new ("async-job", async_job_thread, &job);
  g_thread_join (thread);
  if (!job.ok)
    fail_msg ("async job: %s", job.failure != NULL ? job.failure : "did not finish");
  /* Every callback and signal ran in the thread that made the calls. */
  assert_false (job.wrong_thread);
  g_free (job.failure);
}

static gboolean
set_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_blocking_never_iterates_caller_context (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autofree char *name = NULL;
  gboolean ran = FALSE;
  guint id = g_idle_add (set_flag, &ran);

  name = bleio_adapter_dup_name (adapter);
  assert_true (bleio_adapter_set_name (adapter, name, &error));
  assert_no_error (error);
  assert_true (bleio_adapter_stop_scan (adapter, &error));
  /* The idle in this thread's context is still pending. */
  assert_false (ran);
  g_source_remove (id);
}

typedef struct {
  SimFixture *fx;
  BleioAdapter *adapter;
  const char *address;
  gboolean ok;
  char *failure;
} ConnectJob;

static gpointer
connect_job (gpointer data)
{
  ConnectJob *job = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAddress) address = common_address (job->address);
  g_autoptr(BleioConnection) connection = bleio_adapter_connect (job->adapter, address, 10, NULL, &error);

  if (connection == NULL)
    job->failure = g_strdup (error->message);
  else
    job->ok = bleio_connection_get_connected (connection) &&
              bleio_connection_disconnect (connection, &error);
  return NULL;
}

static void
test_two_threads_connect_at_once (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) adapter = common_adapter (fx, "hci0");
  g_autofree char *pa = common_add (fx, "{\"address\": \"00:BB:00:00:05:01\", \"name\": \"T1\", \"connect\": {\"delay_ms\": 200}}");
  g_autofree char *pb = common_add (fx, "{\"address\": \"00:BB:00:00:05:02\", \"name\": \"T2\", \"connect\": {\"delay_ms\": 200}}");
  ConnectJob a = { fx, adapter, "00:BB:00:00:05:01", FALSE, NULL };
  ConnectJob b = { fx, adapter, "00:BB:00:00:05:02", FALSE, NULL };
  GThread *ta = g_thread_new ("connect-a", connect_job, &a);
  GThread *tb = g_thread_new ("connect-b", connect_job, &b);

  g_thread_join (ta);
  g_thread_join (tb);
  if (!a.ok || !b.ok)
    fail_msg ("connects: %s / %s", a.failure ? a.failure : "ok", b.failure ? b.failure : "ok");
  assert_true (sim_fixture_remove_device (fx, pa, &error));
  assert_true (sim_fixture_remove_device (fx, pb, &error));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_blocking_in_thread_while_main_loop_runs),
    cmocka_unit_test (test_async_in_thread_context),
    cmocka_unit_test (test_blocking_never_iterates_caller_context),
    cmocka_unit_test (test_two_threads_connect_at_once),
  };

  return cmocka_run_group_tests (tests, sim_fixture_group_setup, sim_fixture_group_teardown);
}
