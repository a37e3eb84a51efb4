/* SPDX-License-Identifier: MIT */
/* `bleioctl serve` as the GATT server on hci1, with two clients on hci0:
 * libbleio (read 6869, write and read back, three notifications of the
 * server's stream) and BlueZ's own bluetoothctl, driven through its
 * standard input (scan, connect, the gatt menu's list-attributes,
 * select-attribute, read, write, notify). Each client's reads, writes
 * and subscription show in what serve prints (--json, into a file),
 * with the client's address. SIGTERM ends serve with exit status 0.
 *
 * Issue 17 item 11. The test plays no test peripheral, so in the guest
 * init.sh starts none (every test-peripheral-* test); under the
 * simulator it runs on two-adapters.json. bleioctl is
 * $BLEIO_TEST_BLEIOCTL, else "bleioctl" from PATH (/e2e/bin in the guest).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <signal.h>
#include <glib/gstdio.h>

#include "e2e-central.h"

#define SERVE_NAME "BleioServe"
#define SERVICE_UUID "12345678-1234-5678-1234-56789abcde00"
#define RW_UUID "12345678-1234-5678-1234-56789abcde01"
#define NOTIFY_UUID "12345678-1234-5678-1234-56789abcde02"

static const char serve_file[] =
  "{ \"name\": \"" SERVE_NAME "\", \"gatt\": [ { \"uuid\": \"" SERVICE_UUID "\","
  "  \"characteristics\": ["
  "    { \"uuid\": \"" RW_UUID "\", \"flags\": [\"read\", \"write\"], \"value\": \"6869\" },"
  "    { \"uuid\": \"" NOTIFY_UUID "\", \"flags\": [\"notify\"],"
  "      \"notify\": { \"period_ms\": 300, \"payloads\": [\"01\", \"0202\", \"030303\"] } }"
  "  ] } ] }";

typedef struct {
  char *dir;
  char *output;                 /* serve's stdout */
  GSubprocess *serve;
  GSubprocess *agent;           /* bleio-e2e-agent, hci1's side of pairing */
  char *central;                /* hci0's address, AA:BB:... */
  char *server;                 /* hci1's */
} Serve;

/* Polls @cond (spinning the default context) for up to @msec. */
static gboolean
poll_until (gboolean (*cond) (gpointer),
            gpointer user_data,
            guint    msec)
{
  gint64 end = g_get_monotonic_time () + (gint64) msec * 1000;

  while (!cond (user_data))
    {
      if (g_get_monotonic_time () >= end)
        return FALSE;
      e2e_spin (100);
    }
  return TRUE;
}

/* The line serve printed that holds every one of the NULL-terminated
 * needles, or NULL. */
static char *
served_line (Serve *s, ...)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (s->output, &text, NULL, NULL))
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      gboolean all = TRUE;
      const char *needle;
      va_list ap;

      va_start (ap, s);
      while ((needle = va_arg (ap, const char *)) != NULL)
        all = all && strstr (lines[i], needle) != NULL;
      va_end (ap);
      if (all && lines[i][0] != '\0')
        return g_strdup (lines[i]);
    }
  return NULL;
}

static guint
served_count (Serve      *s,
              const char *needle)
{
  g_autofree char *text = NULL;
  guint n = 0;

  if (!g_file_get_contents (s->output, &text, NULL, NULL))
    return 0;
  for (const char *p = strstr (text, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

typedef struct {
  Serve *s;
  const char *a, *b, *c;
} Wanted;

static gboolean
served_it (gpointer user_data)
{
  Wanted *w = user_data;
  g_autofree char *line = served_line (w->s, w->a, w->b, w->c, NULL);

  return line != NULL;
}

static void
wait_served (Serve      *s,
             const char *a,
             const char *b,
             const char *c)
{
  Wanted w = { s, a, b, c };
  g_autofree char *text = NULL;

  if (poll_until (served_it, &w, 30000))
    return;
  g_file_get_contents (s->output, &text, NULL, NULL);
  fail_msg ("serve printed no line with %s %s %s; it printed:\n%s", a, b, c ? c : "",
            text != NULL ? text : "(nothing)");
}

typedef struct {
  Serve *s;
  const char *needle;
  guint at_least;
} Counted;

static gboolean
served_enough (gpointer user_data)
{
  Counted *n = user_data;

  return served_count (n->s, n->needle) >= n->at_least;
}

/* Waits (30 s at most) until serve printed @needle @at_least times. */
static void
wait_count (Serve      *s,
            const char *needle,
            guint       at_least)
{
  Counted n = { s, needle, at_least };

  if (!poll_until (served_enough, &n, 30000))
    fail_msg ("serve printed %s %u times, not %u", needle, served_count (s, needle), at_least);
}

static char *
address_of (const char *adapter_name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  g_autoptr(BleioAdapter) adapter = NULL;
  g_autoptr(BleioAddress) address = NULL;
  g_autofree char *text = NULL;

  if (bus == NULL)
    fail_msg ("system bus: %s", error->message);
  adapter = bleio_adapter_new_for_name (bus, adapter_name, NULL, &error);
  if (adapter == NULL)
    fail_msg ("adapter %s: %s", adapter_name, error->message);
  if (!bleio_adapter_get_enabled (adapter) && !bleio_adapter_set_enabled (adapter, TRUE, &error))
    fail_msg ("power on %s: %s", adapter_name, error->message);
  address = bleio_adapter_dup_address (adapter);
  text = bleio_address_to_string (address);
  return g_ascii_strup (text, -1);
}

/* Starts bleioctl serve on hci1 unless it runs, and waits until it
 * serves. */
static void
serve_start (Serve *s)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *spec = g_build_filename (s->dir, "S.json", NULL);

  if (s->serve != NULL)
    return;
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_stdout_file_path (launcher, s->output);
  s->serve = g_subprocess_launcher_spawn (launcher, &error,
                                          e2e_env ("BLEIO_TEST_BLEIOCTL", "bleioctl"),
                                          "--adapter", e2e_env ("BLEIO_TEST_PERIPHERAL_ADAPTER", "hci1"),
                                          "--json", "serve", spec, NULL);
  if (s->serve == NULL)
    fail_msg ("cannot run bleioctl serve: %s", error->message);
  wait_served (s, "\"event\":\"serving\"", "\"name\":\"" SERVE_NAME "\"", NULL);
}

/* bleio-e2e-agent (e2e_agent_start()) answers hci1's side of the pairing
 * a 5.82 central starts for EATT: bluetoothctl's agent, the default one
 * before it, would prompt and take the next command on bluetoothctl's
 * standard input for the answer. It asks to be the default agent after
 * bluetoothctl registered its own (bluetoothd makes the first agent the
 * default). */
static void
agent_start (Serve *s)
{
  if (s->agent == NULL)
    s->agent = e2e_agent_start ();
}

static int
setup (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *spec = NULL;
  Serve *s = g_new0 (Serve, 1);

  s->dir = g_dir_make_tmp ("bleio-serve-XXXXXX", &error);
  if (s->dir == NULL)
    fail_msg ("temporary directory: %s", error->message);
  spec = g_build_filename (s->dir, "S.json", NULL);
  s->output = g_build_filename (s->dir, "served.jsonl", NULL);
  if (!g_file_set_contents (spec, serve_file, -1, &error))
    fail_msg ("%s: %s", spec, error->message);
  s->central = address_of (e2e_env ("BLEIO_TEST_ADAPTER", "hci0"));
  s->server = address_of (e2e_env ("BLEIO_TEST_PERIPHERAL_ADAPTER", "hci1"));
  *state = s;
  return 0;
}

static int
teardown (void **state)
{
  Serve *s = *state;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *spec = g_build_filename (s->dir, "S.json", NULL);
  int status;

  if (s->serve != NULL)
    {
      g_subprocess_send_signal (s->serve, SIGTERM);
      if (!g_subprocess_wait (s->serve, NULL, &error))
        fail_msg ("waiting for serve: %s", error->message);
      status = g_subprocess_get_if_exited (s->serve) ? g_subprocess_get_exit_status (s->serve) : -1;
    }
  else
    status = -1;
  e2e_agent_stop (g_steal_pointer (&s->agent));
  g_file_get_contents (s->output, &text, NULL, NULL);
  g_printerr ("# serve printed:\n%s", text != NULL ? text : "");
  g_unlink (s->output);
  g_unlink (spec);
  g_rmdir (s->dir);
  g_free (s->dir);
  g_free (s->output);
  g_free (s->central);
  g_free (s->server);
  g_clear_object (&s->serve);
  g_free (s);
  /* After the files went: a failure here leaves nothing behind. */
  assert_int_equal (status, 0);
  return 0;
}

static void
on_notification (BleioCharacteristic *characteristic,
                 GBytes              *value,
                 gpointer             user_data)
{
  g_ptr_array_add (user_data, g_bytes_ref (value));
}

static gboolean
three_heard (gpointer user_data)
{
  return ((GPtrArray *) user_data)->len >= 3;
}

/* libbleio on hci0: read, write and read back, three notifications. */
static void
test_peripheral_serve_libbleio (void **state)
{
  Serve *s = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioAdapter) central = e2e_central_adapter (&error);
  g_autoptr(BleioConnection) link = NULL;
  g_autoptr(BleioAddress) server = NULL;
  g_autoptr(BleioCharacteristic) rw = NULL;
  g_autoptr(BleioCharacteristic) notify = NULL;
  g_autoptr(GBytes) value = NULL;
  g_autoptr(GBytes) coffee = g_bytes_new ("\xc0\xff\xee", 3);
  g_autoptr(GPtrArray) heard = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autofree char *address = g_strdup_printf ("\"address\":\"%s\"", s->central);
  g_autofree char *hex = NULL;
  gulong id;
  guint disconnected;

  if (central == NULL)
    fail_msg ("central adapter: %s", error->message);
  agent_start (s);
  serve_start (s);
  /* By address: after bluetoothctl's link hci0 names the device by the
   * GAP name it read, no longer by the advertised one. */
  server = bleio_address_new_from_string (s->server, BLEIO_ADDRESS_TYPE_PUBLIC, &error);
  if (server == NULL)
    fail_msg ("%s: %s", s->server, error->message);
  link = e2e_connect (central, server, &error);
  if (link == NULL)
    fail_msg ("connect to serve's adapter: %s", error->message);
  rw = e2e_find_characteristic (link, SERVICE_UUID, RW_UUID, &error);
  if (rw == NULL)
    fail_msg ("%s: %s", RW_UUID, error->message);
  notify = e2e_find_characteristic (link, SERVICE_UUID, NOTIFY_UUID, &error);
  if (notify == NULL)
    fail_msg ("%s: %s", NOTIFY_UUID, error->message);

  value = bleio_characteristic_read_value (rw, &error);
  if (value == NULL)
    fail_msg ("read: %s", error->message);
  hex = e2e_hex (value);
  assert_string_equal (hex, "6869");
  wait_served (s, "\"event\":\"read\"", address, "\"value\":\"6869\"");

  if (!bleio_characteristic_write_value (rw, coffee, &error))
    fail_msg ("write: %s", error->message);
  wait_served (s, "\"event\":\"write\"", address, "\"value\":\"c0ffee\"");
  g_clear_pointer (&value, g_bytes_unref);
  value = bleio_characteristic_read_value (rw, &error);
  if (value == NULL)
    fail_msg ("read back: %s", error->message);
  g_free (hex);
  hex = e2e_hex (value);
  assert_string_equal (hex, "c0ffee");

  id = g_signal_connect (notify, "notification", G_CALLBACK (on_notification), heard);
  if (!bleio_characteristic_set_cccd (notify, TRUE, FALSE, &error))
    fail_msg ("subscribe: %s", error->message);
  wait_served (s, "\"event\":\"subscribed\"", NOTIFY_UUID, NULL);
  if (!poll_until (three_heard, heard, 30000))
    fail_msg ("%u notifications of serve's stream in 30 s, not 3", heard->len);
  g_signal_handler_disconnect (notify, id);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *v = e2e_hex (g_ptr_array_index (heard, i));
      g_autofree char *sent = g_strdup_printf ("\"value\":\"%s\"", v);
      g_autofree char *line = served_line (s, "\"event\":\"notified\"", sent, NULL);

      if (line == NULL)
        fail_msg ("notification %s is not a value serve sent", v);
    }
  if (!bleio_characteristic_set_cccd (notify, FALSE, FALSE, &error))
    fail_msg ("unsubscribe: %s", error->message);
  wait_served (s, "\"event\":\"unsubscribed\"", NOTIFY_UUID, NULL);
  disconnected = served_count (s, "\"event\":\"disconnected\"");
  if (!bleio_connection_disconnect (link, &error))
    fail_msg ("disconnect: %s", error->message);
  wait_count (s, "\"event\":\"disconnected\"", disconnected + 1);
  wait_served (s, "\"event\":\"disconnected\"", address, NULL);
}

/* bluetoothctl, driven through its standard input, its output kept. */
typedef struct {
  GSubprocess *process;
  GString *output;
  gboolean eof;
} Ctl;

/* Takes what bluetoothctl printed so far, without blocking. */
static gboolean
ctl_drain (gpointer user_data)
{
  Ctl *c = user_data;
  GPollableInputStream *out = G_POLLABLE_INPUT_STREAM (g_subprocess_get_stdout_pipe (c->process));
  char buf[4096];

  while (!c->eof)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_pollable_input_stream_read_nonblocking (out, buf, sizeof buf, NULL, &error);

      if (n > 0)
        g_string_append_len (c->output, buf, n);
      else if (n == 0)
        c->eof = TRUE;
      else
        break;
    }
  return c->eof;
}

static void
ctl_send (Ctl        *c,
          const char *text)
{
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all (g_subprocess_get_stdin_pipe (c->process), text, strlen (text),
                                  NULL, NULL, &error))
    fail_msg ("to bluetoothctl: %s", error->message);
}

typedef struct {
  Ctl *c;
  const char *needle;
} CtlWanted;

static gboolean
ctl_said (gpointer user_data)
{
  CtlWanted *w = user_data;

  ctl_drain (w->c);
  return strstr (w->c->output->str, w->needle) != NULL;
}

/* Waits (30 s at most) until bluetoothctl printed @needle: under TCG it
 * takes seconds to reach bluetoothd, scan and connect. */
static void
ctl_wait_for (Ctl        *c,
              const char *needle)
{
  CtlWanted w = { c, needle };

  if (!poll_until (ctl_said, &w, 30000))
    fail_msg ("bluetoothctl did not say '%s'; it said:\n%s", needle, c->output->str);
}

/* BlueZ's bluetoothctl on hci0 as the client: its gatt menu lists the
 * served characteristics, reads 6869, writes 61 62 and reads it back,
 * writes 68 69 again, and switches notifications on and off; serve prints
 * each with hci0's address. Each step waits for what serve printed, or
 * for bluetoothctl's word. It runs first, while hci0 has no device object
 * for hci1 yet, and starts serve once its scan runs: bluetoothctl 5.66
 * then meets the device during its own scan. */
static void
test_peripheral_serve_bluetoothctl (void **state)
{
  Serve *s = *state;
  g_autoptr(GError) error = NULL;
  g_autofree char *program = g_find_program_in_path ("bluetoothctl");
  g_autofree char *commands = NULL;
  g_autofree char *address = g_strdup_printf ("\"address\":\"%s\"", s->central);
  g_autofree char *device = g_strdup_printf ("Device %s", s->server);
  Ctl c = { NULL, g_string_new (NULL), FALSE };
  guint reads, subscribed, unsubscribed;
  g_autofree char *said = NULL;

  if (program == NULL)
    fail_msg ("bluetoothctl is not on PATH (Debian's bluez package has it)");
  c.process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                | G_SUBPROCESS_FLAGS_STDERR_MERGE, &error, program, NULL);
  if (c.process == NULL)
    fail_msg ("bluetoothctl: %s", error->message);
  ctl_wait_for (&c, "Agent registered");
  agent_start (s);
  commands = g_strdup_printf ("select %s\nscan on\n", s->central);
  ctl_send (&c, commands);
  /* Serve starts advertising once the scan runs: btvirt reports an
   * advertiser to a scanner when its advertising is switched on (see
   * test-peripheral-advertise.c). */
  ctl_wait_for (&c, "Discovering: yes");
  serve_start (s);
  reads = served_count (s, "\"event\":\"read\"");
  subscribed = served_count (s, "\"event\":\"subscribed\"");
  unsubscribed = served_count (s, "\"event\":\"unsubscribed\"");
  ctl_wait_for (&c, device);
  g_free (commands);
  commands = g_strdup_printf ("scan off\nconnect %s\n", s->server);
  ctl_send (&c, commands);
  ctl_wait_for (&c, "Connection successful");
  ctl_wait_for (&c, "ServicesResolved: yes");
  g_free (commands);
  commands = g_strdup_printf ("menu gatt\nlist-attributes %s\nselect-attribute %s\nread\n",
                              s->server, RW_UUID);
  ctl_send (&c, commands);
  wait_count (s, "\"event\":\"read\"", reads + 1);
  ctl_send (&c, "write \"0x61 0x62\"\n");
  wait_served (s, "\"event\":\"write\"", address, "\"value\":\"6162\"");
  ctl_send (&c, "read\n");
  wait_count (s, "\"event\":\"read\"", reads + 2);
  ctl_wait_for (&c, "61 62");
  /* The value the next client expects again. */
  ctl_send (&c, "write \"0x68 0x69\"\n");
  wait_served (s, "\"event\":\"write\"", address, "\"value\":\"6869\"");
  g_free (commands);
  commands = g_strdup_printf ("select-attribute %s\nnotify on\n", NOTIFY_UUID);
  ctl_send (&c, commands);
  wait_count (s, "\"event\":\"subscribed\"", subscribed + 1);
  ctl_send (&c, "notify off\n");
  wait_count (s, "\"event\":\"unsubscribed\"", unsubscribed + 1);
  g_free (commands);
  commands = g_strdup_printf ("back\ndisconnect %s\nquit\n", s->server);
  ctl_send (&c, commands);
  g_output_stream_close (g_subprocess_get_stdin_pipe (c.process), NULL, NULL);
  poll_until (ctl_drain, &c, 30000);
  g_subprocess_force_exit (c.process);
  g_subprocess_wait (c.process, NULL, NULL);
  g_object_unref (c.process);
  said = g_string_free (c.output, FALSE);
  g_printerr ("# bluetoothctl said:\n%s\n", said);
  /* bluetoothd drops the link on its own time after bluetoothctl's
   * disconnect; a test after this one that finds it still up takes it
   * over and then meets "Device is disconnecting" (CI, 5.66). */
  wait_served (s, "\"event\":\"disconnected\"", address, NULL);

  /* list-attributes showed the served characteristics; the first read
   * printed the initial value. */
  if (strstr (said, RW_UUID) == NULL || strstr (said, NOTIFY_UUID) == NULL)
    fail_msg ("bluetoothctl's list-attributes did not show %s and %s", RW_UUID, NOTIFY_UUID);
  if (strstr (said, "68 69") == NULL)
    fail_msg ("bluetoothctl did not read 68 69");
  wait_served (s, "\"event\":\"read\"", address, "\"value\":\"6162\"");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_peripheral_serve_bluetoothctl),
    cmocka_unit_test (test_peripheral_serve_libbleio),
  };

  return cmocka_run_group_tests (tests, setup, teardown);
}
