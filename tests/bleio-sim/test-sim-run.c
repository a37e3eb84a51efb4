/* SPDX-License-Identifier: MIT */
/*
 * `bleio-sim run` and the fixture's process handling: exit statuses,
 * the environment the command sees, signal forwarding, and that no
 * dbus-daemon or simulator process outlives its owner, even a killed one.
 */
/* posix_openpt() and friends */
#define _GNU_SOURCE

#include "sim-fixture.h"

#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <time.h>
#include <utime.h>
#include <fcntl.h>
#include <poll.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define WAIT_MSEC 10000

static const char *
sim_binary (void)
{
  const char *binary = g_getenv ("BLEIO_SIM");

  if (binary == NULL)
    fail_msg ("BLEIO_SIM is not set: run this test through meson test");
  return binary;
}

/* Runs `bleio-sim run ARGS...` to completion; returns the exit status the
 * shell would show (128+N for a signal). */
static int
run_sim (const char * const *args,
         char              **out,
         char              **err)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  int wait_status = 0;

  g_ptr_array_add (argv, (char *) sim_binary ());
  g_ptr_array_add (argv, (char *) "run");
  for (; *args != NULL; args++)
    g_ptr_array_add (argv, (char *) *args);
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT,
                     NULL, NULL, out, err, &wait_status, &error))
    fail_msg ("cannot spawn %s: %s", sim_binary (), error->message);

  if (WIFEXITED (wait_status))
    return WEXITSTATUS (wait_status);
  if (WIFSIGNALED (wait_status))
    return 128 + WTERMSIG (wait_status);
  return -1;
}

/* Whether @pid names a live process: a zombie counts as gone. */
static gboolean
process_alive (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *paren;

  if (kill (pid, 0) < 0 && errno == ESRCH)
    return FALSE;
  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return FALSE;
  paren = strrchr (stat, ')');
  return paren == NULL || paren[1] == '\0' || paren[2] != 'Z';
}

static gboolean
wait_gone (GPid pid)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MSEC * 1000;

  while (process_alive (pid))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_usleep (10000);
    }
  return TRUE;
}

/* The children of @parent and their command names (comm). */
static GHashTable *
children_of (GPid parent)
{
  GHashTable *children = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_autoptr(GDir) dir = g_dir_open ("/proc", 0, NULL);
  const char *name;

  assert_non_null (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *stat = NULL;
      const char *open_paren;
      const char *close_paren;
      int ppid = 0;
      char state = 0;

      if (!g_ascii_isdigit (name[0]))
        continue;
      path = g_strdup_printf ("/proc/%s/stat", name);
      if (!g_file_get_contents (path, &stat, NULL, NULL))
        continue;
      open_paren = strchr (stat, '(');
      close_paren = strrchr (stat, ')');
      if (open_paren == NULL || close_paren == NULL)
        continue;
      if (sscanf (close_paren + 1, " %c %d", &state, &ppid) != 2)
        continue;
      if (ppid == parent && state != 'Z')
        g_hash_table_insert (children,
                             GINT_TO_POINTER (atoi (name)),
                             g_strndup (open_paren + 1,
                                        (gsize) (close_paren - open_paren - 1)));
    }
  return children;
}

/* The temporary directory of the bus whose dbus-daemon is @pid, from the
 * --config-file=DIR/bus.conf on its command line. */
static char *
bus_tmpdir (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/cmdline", (int) pid);
  g_autofree char *cmdline = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &cmdline, &len, NULL))
    return NULL;
  for (gsize i = 0; i < len; i += strlen (cmdline + i) + 1)
    if (g_str_has_prefix (cmdline + i, "--config-file="))
      return g_path_get_dirname (cmdline + i + strlen ("--config-file="));
  return NULL;
}

static void
remove_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      g_unlink (child);
    }
  g_rmdir (path);
}

/* Starts `bleio-sim run -- sh -c SCRIPT` with a pipe on its stdin and
 * stdout; returns its pid. */
static GPid
spawn_run (const char *script,
           int        *stdin_fd,
           int        *stdout_fd)
{
  const char *argv[] = { sim_binary (), "run", "--", "sh", "-c", script, NULL };
  g_autoptr(GError) error = NULL;
  GPid pid = 0;

  if (!g_spawn_async_with_pipes (NULL, (char **) argv, NULL,
                                 G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                 &pid, stdin_fd, stdout_fd, NULL, &error))
    fail_msg ("cannot spawn bleio-sim run: %s", error->message);
  return pid;
}

/* Reads one line from @fd, bounded in time. */
static char *
read_line (int fd)
{
  GString *line = g_string_new (NULL);
  gint64 deadline = g_get_monotonic_time () + WAIT_MSEC * 1000;

  for (;;)
    {
      char c;
      ssize_t n;
      fd_set set;
      struct timeval tv = { 0, 100000 };

      if (g_get_monotonic_time () > deadline)
        fail_msg ("no line from bleio-sim run within %d ms (got '%s')",
                  WAIT_MSEC, line->str);
      FD_ZERO (&set);
      FD_SET (fd, &set);
      if (select (fd + 1, &set, NULL, NULL, &tv) <= 0)
        continue;
      n = read (fd, &c, 1);
      if (n <= 0)
        fail_msg ("bleio-sim run closed its output early (got '%s')", line->str);
      if (c == '\n')
        break;
      g_string_append_c (line, c);
    }
  return g_string_free (line, FALSE);
}

static int
wait_status_code (GPid pid)
{
  int status = 0;

  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      fail_msg ("waitpid: %s", g_strerror (errno));
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return -1;
}

static void
test_exit_status (void **state)
{
  const char *args[] = { "--", "sh", "-c", "exit 7", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  assert_int_equal (run_sim (args, &out, &err), 7);
}

static void
test_exit_status_zero_without_dashes (void **state)
{
  const char *args[] = { "true", NULL };

  assert_int_equal (run_sim (args, NULL, NULL), 0);
}

static void
test_signal_status (void **state)
{
  const char *args[] = { "--", "sh", "-c", "kill -TERM $$", NULL };

  assert_int_equal (run_sim (args, NULL, NULL), 128 + SIGTERM);
}

static void
test_command_sees_bus (void **state)
{
  /* The command sees the address, and the bus it names has an owner for
   * org.bluez (gdbus is GLib's own client, libglib2.0-bin). */
  const char *args[] = {
    "--", "sh", "-c",
    "echo \"$DBUS_SYSTEM_BUS_ADDRESS\"; "
    "gdbus call --system --dest org.freedesktop.DBus "
    "--object-path /org/freedesktop/DBus "
    "--method org.freedesktop.DBus.NameHasOwner org.bluez",
    NULL
  };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_auto(GStrv) lines = NULL;

  assert_int_equal (run_sim (args, &out, &err), 0);
  lines = g_strsplit (out, "\n", -1);
  assert_true (g_strv_length (lines) >= 2);
  if (!g_str_has_prefix (lines[0], "unix:path="))
    fail_msg ("DBUS_SYSTEM_BUS_ADDRESS is '%s'", lines[0]);
  assert_string_not_equal (lines[0], "unix:path=/run/dbus/system_bus_socket");
  assert_string_equal (lines[1], "(true,)");
}

static void
test_scenario_missing (void **state)
{
  const char *args[] = { "--scenario", "/nonexistent/bleio.json", "--", "true", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  assert_int_equal (run_sim (args, &out, &err), 125);
  assert_non_null (strstr (err, "/nonexistent/bleio.json"));
}

/* --scenario FILE (relative to the caller's directory, and in its
 * --scenario=FILE form) reaches the simulator, and the fixture takes one
 * too. */
static void
test_scenario_file (void **state)
{
  static const char scenario[] =
    "{\n"
    "  \"adapters\": [ { \"name\": \"hci5\", \"address\": \"00:11:22:33:44:55\" } ]\n"
    "}\n";
  const char *script =
    "gdbus call --system --dest org.bluez --object-path / "
    "--method org.freedesktop.DBus.ObjectManager.GetManagedObjects";
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bleio-scenario-XXXXXX", &error);
  g_autofree char *file = NULL;
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *out = NULL;
  g_autofree char *out2 = NULL;
  g_autofree char *absolute = NULL;
  g_autoptr(SimFixture) fx = NULL;
  g_autoptr(GVariant) objects = NULL;
  g_autoptr(GVariant) hci5 = NULL;
  g_autoptr(GVariant) hci0 = NULL;
  const char *relative[] = { "--scenario", "one-adapter.json", "--", "sh", "-c", script, NULL };
  const char *equals[] = { NULL, "--", "sh", "-c", script, NULL };

  assert_non_null (dir);
  file = g_build_filename (dir, "one-adapter.json", NULL);
  if (!g_file_set_contents (file, scenario, -1, &error))
    fail_msg ("%s", error->message);

  assert_int_equal (g_chdir (dir), 0);
  assert_int_equal (run_sim (relative, &out, NULL), 0);
  assert_int_equal (g_chdir (cwd), 0);
  assert_non_null (strstr (out, "/org/bluez/hci5"));
  assert_null (strstr (out, "/org/bluez/hci0"));

  absolute = g_strconcat ("--scenario=", file, NULL);
  equals[0] = absolute;
  assert_int_equal (run_sim (equals, &out2, NULL), 0);
  assert_non_null (strstr (out2, "/org/bluez/hci5"));

  fx = sim_fixture_new (file, &error);
  if (fx == NULL)
    fail_msg ("sim_fixture_new (%s): %s", file, error->message);
  objects = sim_fixture_get_objects (fx, &error);
  if (objects == NULL)
    fail_msg ("GetManagedObjects: %s", error->message);
  hci5 = g_variant_lookup_value (objects, "/org/bluez/hci5", NULL);
  hci0 = g_variant_lookup_value (objects, "/org/bluez/hci0", NULL);
  assert_non_null (hci5);
  assert_null (hci0);

  g_unlink (file);
  g_rmdir (dir);
}

static void
test_usage (void **state)
{
  const char *help[] = { "--help", NULL };
  const char *none[] = { NULL };
  const char *dashes[] = { "--", NULL };
  const char *bad[] = { "--bogus", "true", NULL };
  const char *missing[] = { "--", "/nonexistent/command", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  assert_int_equal (run_sim (help, &out, NULL), 0);
  assert_non_null (strstr (out, "run [--scenario FILE] [--] COMMAND"));
  assert_non_null (strstr (out, "DBUS_SYSTEM_BUS_ADDRESS"));
  assert_int_equal (run_sim (none, NULL, &err), 2);
  assert_non_null (strstr (err, "COMMAND"));
  assert_int_equal (run_sim (dashes, NULL, NULL), 2);
  assert_int_equal (run_sim (bad, NULL, NULL), 2);
  assert_int_equal (run_sim (missing, NULL, NULL), 127);
}

/* While the command runs, bleio-sim run has exactly three children: the
 * bus, the simulator and the command; after it returns none of them is
 * alive. */
/* --bluez VERSION and the scenario's "bluez" key choose the bluetoothd
 * release the simulator speaks (issue 21): 5.82's Adapter1 has
 * Manufacturer, 5.66's does not; the option wins over the key, and a
 * release the simulator does not know is a usage error. */
static char *
introspect_hci0 (const char *const *options)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autofree char *out = NULL;

  for (; *options != NULL; options++)
    g_ptr_array_add (args, (char *) *options);
  g_ptr_array_add (args, (char *) "--");
  g_ptr_array_add (args, (char *) "gdbus");
  g_ptr_array_add (args, (char *) "introspect");
  g_ptr_array_add (args, (char *) "--system");
  g_ptr_array_add (args, (char *) "--dest");
  g_ptr_array_add (args, (char *) "org.bluez");
  g_ptr_array_add (args, (char *) "--object-path");
  g_ptr_array_add (args, (char *) "/org/bluez/hci0");
  g_ptr_array_add (args, NULL);
  assert_int_equal (run_sim ((const char *const *) args->pdata, &out, NULL), 0);
  return g_steal_pointer (&out);
}

static void
test_bluez_option (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bleio-bluez-XXXXXX", &error);
  g_autofree char *key_582 = NULL;
  g_autofree char *key_566 = NULL;
  g_autofree char *help = NULL;
  g_autofree char *saved = g_strdup (g_getenv ("BLEIO_SIM_BLUEZ"));
  const char *help_args[] = { "--help", NULL };
  const char *bad[] = { "--bluez", "5.99", "--", "true", NULL };
  const char *none[] = { NULL };
  const char *newer[] = { "--bluez", "5.82", NULL };
  const char *older[] = { "--bluez=5.66", NULL };
  g_autofree char *out = NULL;

  assert_non_null (dir);
  key_582 = g_build_filename (dir, "key-582.json", NULL);
  key_566 = g_build_filename (dir, "key-566.json", NULL);
  assert_true (g_file_set_contents (key_582,
    "{ \"bluez\": \"5.82\", \"adapters\": [ { \"name\": \"hci0\", "
    "\"address\": \"00:11:22:33:44:55\" } ] }", -1, NULL));
  assert_true (g_file_set_contents (key_566,
    "{ \"bluez\": \"5.66\", \"adapters\": [ { \"name\": \"hci0\", "
    "\"address\": \"00:11:22:33:44:55\" } ] }", -1, NULL));
  /* the variable the 5.82 test setup sets would decide before the key */
  g_unsetenv ("BLEIO_SIM_BLUEZ");

  assert_int_equal (run_sim (help_args, &help, NULL), 0);
  assert_non_null (strstr (help, "--bluez VERSION"));
  assert_int_equal (run_sim (bad, NULL, NULL), 2);

  out = introspect_hci0 (none);
  assert_null (strstr (out, "Manufacturer"));
  g_free (out);
  out = introspect_hci0 (newer);
  assert_non_null (strstr (out, "Manufacturer"));
  assert_non_null (strstr (out, "Connectable"));
  g_free (out);
  out = introspect_hci0 (older);
  assert_null (strstr (out, "Manufacturer"));
  g_free (out);
  {
    const char *key[] = { "--scenario", key_582, NULL };
    const char *key_and_option[] = { "--scenario", key_582, "--bluez", "5.66", NULL };
    const char *option_over_key[] = { "--scenario", key_566, "--bluez", "5.82", NULL };

    out = introspect_hci0 (key);
    assert_non_null (strstr (out, "Manufacturer"));
    g_free (out);
    out = introspect_hci0 (key_and_option);
    assert_null (strstr (out, "Manufacturer"));
    g_free (out);
    out = introspect_hci0 (option_over_key);
    assert_non_null (strstr (out, "Manufacturer"));
  }

  if (saved != NULL)
    g_setenv ("BLEIO_SIM_BLUEZ", saved, TRUE);
  g_unlink (key_582);
  g_unlink (key_566);
  g_rmdir (dir);
}

static void
test_no_survivors (void **state)
{
  int in_fd = -1;
  int out_fd = -1;
  GPid run = spawn_run ("echo ready; read line; exit 3", &in_fd, &out_fd);
  g_autofree char *ready = read_line (out_fd);
  g_autoptr(GHashTable) children = NULL;
  GHashTableIter iter;
  gpointer key;
  gpointer value;
  gboolean saw_daemon = FALSE;
  gboolean saw_sim = FALSE;
  gboolean saw_sh = FALSE;

  assert_string_equal (ready, "ready");
  children = children_of (run);
  g_hash_table_iter_init (&iter, children);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (strcmp (value, "dbus-daemon") == 0)
        saw_daemon = TRUE;
      else if (strcmp (value, "sh") == 0)
        saw_sh = TRUE;
      else
        saw_sim = TRUE;
    }
  assert_int_equal (g_hash_table_size (children), 3);
  assert_true (saw_daemon);
  assert_true (saw_sim);
  assert_true (saw_sh);

  assert_int_equal (write (in_fd, "go\n", 3), 3);
  assert_int_equal (wait_status_code (run), 3);
  close (in_fd);
  close (out_fd);

  g_hash_table_iter_init (&iter, children);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (process_alive (GPOINTER_TO_INT (key)))
      fail_msg ("%s (pid %d) outlived bleio-sim run", (char *) value,
                GPOINTER_TO_INT (key));
}

/* SIGTERM to bleio-sim run reaches the command, whose own status (here
 * from its trap) comes back. */
static void
test_sigterm_forwarded (void **state)
{
  int in_fd = -1;
  int out_fd = -1;
  GPid run = spawn_run ("trap 'exit 9' TERM; echo ready; "
                        "while :; do sleep 0.05; done",
                        &in_fd, &out_fd);
  g_autofree char *ready = read_line (out_fd);

  assert_string_equal (ready, "ready");
  assert_int_equal (kill (run, SIGTERM), 0);
  assert_int_equal (wait_status_code (run), 9);
  close (in_fd);
  close (out_fd);
}

/* Runs `bleio-sim run -- sh -c SCRIPT` on a new pseudo-terminal, as a
 * terminal's foreground job; returns its pid and the terminal's master. */
static GPid
spawn_run_on_terminal (const char *script,
                       int        *master)
{
  const char *argv[] = { sim_binary (), "run", "--", "sh", "-c", script, NULL };
  char *slave_name;
  pid_t pid;

  *master = posix_openpt (O_RDWR | O_NOCTTY);
  assert_true (*master >= 0);
  assert_int_equal (grantpt (*master), 0);
  assert_int_equal (unlockpt (*master), 0);
  slave_name = ptsname (*master);
  assert_non_null (slave_name);

  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      int slave;

      setsid ();
      slave = open (slave_name, O_RDWR);
      if (slave < 0)
        _exit (126);
      dup2 (slave, 0);
      dup2 (slave, 1);
      dup2 (slave, 2);
      if (slave > 2)
        close (slave);
      execv (argv[0], (char **) argv);
      _exit (127);
    }
  return pid;
}

/* Reads the terminal until @text appeared @count times or @msec passed;
 * returns how many times it appeared. */
static guint
read_terminal (int         master,
               GString    *seen,
               const char *text,
               guint       count,
               guint       msec)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) msec * 1000;

  for (;;)
    {
      struct pollfd pfd = { master, POLLIN, 0 };
      guint found = 0;
      char buf[512];
      ssize_t n;

      for (const char *p = strstr (seen->str, text); p != NULL; p = strstr (p + 1, text))
        found++;
      if (found >= count || g_get_monotonic_time () >= deadline)
        return found;
      if (poll (&pfd, 1, 50) <= 0)
        continue;
      n = read (master, buf, sizeof buf);
      if (n <= 0)
        return found;
      g_string_append_len (seen, buf, n);
    }
}

/* A Ctrl-C typed at the terminal reaches COMMAND once: the terminal sends
 * it to the whole foreground job, so bleio-sim run must not pass it on
 * again. SIGTERM sent to bleio-sim run alone is still passed on. */
static void
test_terminal_interrupt_once (void **state)
{
  int master = -1;
  /* A loop of builtins, so that the shell runs its trap for each signal
   * as it comes (around an external sleep, two would merge into one). */
  GPid run = spawn_run_on_terminal ("trap 'echo GOT-INT' INT; echo READY; "
                                    "while :; do :; done", &master);
  g_autoptr(GString) seen = g_string_new (NULL);

  if (read_terminal (master, seen, "READY", 1, 10000) < 1)
    fail_msg ("the command did not start on the terminal:\n%s", seen->str);
  assert_int_equal (write (master, "\003", 1), 1);
  if (read_terminal (master, seen, "GOT-INT", 1, 10000) < 1)
    fail_msg ("Ctrl-C did not reach the command:\n%s", seen->str);
  /* A second delivery would come right after the first. */
  assert_int_equal (read_terminal (master, seen, "GOT-INT", 2, 500), 1);

  assert_int_equal (kill (run, SIGTERM), 0);
  assert_int_equal (wait_status_code (run), 128 + SIGTERM);
  close (master);
}

/* A SIGKILLed bleio-sim run cannot clean up: the kernel must take the bus
 * and the simulator down (PR_SET_PDEATHSIG). */
static void
test_killed_run_leaves_nothing (void **state)
{
  int in_fd = -1;
  int out_fd = -1;
  GPid run = spawn_run ("echo ready; read line", &in_fd, &out_fd);
  g_autofree char *ready = read_line (out_fd);
  g_autofree char *tmpdir = NULL;
  g_autoptr(GHashTable) children = NULL;
  GHashTableIter iter;
  gpointer key;
  gpointer value;

  assert_string_equal (ready, "ready");
  children = children_of (run);
  assert_int_equal (g_hash_table_size (children), 3);
  g_hash_table_iter_init (&iter, children);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (strcmp (value, "dbus-daemon") == 0)
      tmpdir = bus_tmpdir (GPOINTER_TO_INT (key));
  assert_non_null (tmpdir);

  assert_int_equal (kill (run, SIGKILL), 0);
  assert_int_equal (wait_status_code (run), 128 + SIGKILL);

  g_hash_table_iter_init (&iter, children);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      /* The command is not ours to kill (dbus-run-session does not kill
       * it either); closing its stdin ends it. */
      if (strcmp (value, "sh") == 0)
        continue;
      if (!wait_gone (GPOINTER_TO_INT (key)))
        fail_msg ("%s (pid %d) outlived a killed bleio-sim run",
                  (char *) value, GPOINTER_TO_INT (key));
    }
  close (in_fd);
  close (out_fd);

  /* Nobody was left to remove the bus's directory: do it here. */
  remove_dir (tmpdir);
}

static gboolean
name_has_owner (GDBusConnection *connection,
                const char      *name)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  gboolean owned = FALSE;

  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", name),
                                       G_VARIANT_TYPE ("(b)"),
                                       G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC,
                                       NULL, &error);
  if (reply == NULL)
    fail_msg ("NameHasOwner: %s", error->message);
  g_variant_get (reply, "(b)", &owned);
  return owned;
}

/* The fixture: a bus where org.bluez is owned, the process environment
 * pointing at it, and every process gone after free. */
static void
test_fixture_lifecycle (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *old = g_strdup (g_getenv ("DBUS_SYSTEM_BUS_ADDRESS"));
  SimFixture *fx = sim_fixture_new (NULL, &error);
  g_autofree char *tmpdir = NULL;
  GPid daemon;
  GPid sim;

  if (fx == NULL)
    fail_msg ("sim_fixture_new: %s", error->message);
  assert_string_equal (g_getenv ("DBUS_SYSTEM_BUS_ADDRESS"),
                       sim_fixture_get_address (fx));
  assert_true (name_has_owner (sim_fixture_get_connection (fx), "org.bluez"));
  assert_non_null (sim_fixture_get_sim_name (fx));
  assert_true (sim_fixture_get_sim_name (fx)[0] == ':');

  daemon = sim_bus_get_daemon_pid (sim_fixture_get_bus (fx));
  sim = sim_bus_get_sim_pid (sim_fixture_get_bus (fx));
  tmpdir = g_strdup (sim_bus_get_tmpdir (sim_fixture_get_bus (fx)));
  assert_true (process_alive (daemon));
  assert_true (process_alive (sim));
  assert_true (g_file_test (tmpdir, G_FILE_TEST_IS_DIR));

  sim_fixture_free (fx);
  assert_false (process_alive (daemon));
  assert_false (process_alive (sim));
  assert_false (g_file_test (tmpdir, G_FILE_TEST_EXISTS));
  assert_string_equal (g_getenv ("DBUS_SYSTEM_BUS_ADDRESS") ? g_getenv ("DBUS_SYSTEM_BUS_ADDRESS") : "(unset)",
                       old ? old : "(unset)");
}

/* A crash (SIGKILL) of the simulator under the fixture: a new one owns
 * org.bluez under a new unique name, and control calls follow it. */
static void
test_fixture_crash (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimFixture) fx = sim_fixture_new (NULL, &error);
  g_autofree char *first_name = NULL;
  g_autoptr(GVariant) calls = NULL;
  GPid first_pid;

  if (fx == NULL)
    fail_msg ("sim_fixture_new: %s", error->message);
  first_name = g_strdup (sim_fixture_get_sim_name (fx));
  first_pid = sim_bus_get_sim_pid (sim_fixture_get_bus (fx));

  if (!sim_fixture_crash (fx, &error))
    fail_msg ("sim_fixture_crash: %s", error->message);
  assert_false (process_alive (first_pid));
  assert_true (name_has_owner (sim_fixture_get_connection (fx), "org.bluez"));
  assert_string_not_equal (first_name, sim_fixture_get_sim_name (fx));

  calls = sim_fixture_get_calls (fx, &error);
  if (calls == NULL)
    fail_msg ("GetCalls after a crash: %s", error->message);
}

static GVariant *
call_adapter (SimFixture  *fx,
              const char  *method,
              int          timeout_msec,
              GError     **error)
{
  return g_dbus_connection_call_sync (sim_fixture_get_connection (fx), "org.bluez",
                                      "/org/bluez/hci0", "org.bluez.Adapter1",
                                      method, NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
                                      timeout_msec, NULL, error);
}

/* The fixture's typed helpers reach the daemon with the right signatures
 * and do what they say. */
static void
test_fixture_control (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimFixture) fx = sim_fixture_new (NULL, &error);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) calls = NULL;
  g_autofree char *remote = NULL;
  const char *unique;
  gboolean seen = FALSE;
  GVariantIter iter;
  const char *method;
  const char *path;
  const char *sender;

  if (fx == NULL)
    fail_msg ("sim_fixture_new: %s", error->message);
  unique = g_dbus_connection_get_unique_name (sim_fixture_get_connection (fx));
  if (!sim_fixture_reset_calls (fx, &error))
    fail_msg ("ResetCalls: %s", error->message);
  assert_int_equal (sim_fixture_count_calls (fx, "StartDiscovery"), 0);

  /* FailNext: the next call only. */
  if (!sim_fixture_fail_next (fx, "StartDiscovery", "org.bluez.Error.Failed",
                              "injected by the test", 1, &error))
    fail_msg ("FailNext: %s", error->message);
  reply = call_adapter (fx, "StartDiscovery", SIM_FIXTURE_TIMEOUT_MSEC, &error);
  assert_null (reply);
  remote = g_dbus_error_get_remote_error (error);
  assert_string_equal (remote, "org.bluez.Error.Failed");
  g_dbus_error_strip_remote_error (error);
  assert_string_equal (error->message, "injected by the test");
  g_clear_error (&error);
  reply = call_adapter (fx, "StartDiscovery", SIM_FIXTURE_TIMEOUT_MSEC, &error);
  if (reply == NULL)
    fail_msg ("StartDiscovery after the injected failure: %s", error->message);
  g_clear_pointer (&reply, g_variant_unref);

  /* DelayNext answers, later; no timing is asserted. */
  if (!sim_fixture_delay_next (fx, "StopDiscovery", 200, 1, &error))
    fail_msg ("DelayNext: %s", error->message);
  reply = call_adapter (fx, "StopDiscovery", SIM_FIXTURE_TIMEOUT_MSEC, &error);
  if (reply == NULL)
    fail_msg ("delayed StopDiscovery: %s", error->message);
  g_clear_pointer (&reply, g_variant_unref);

  /* NoReplyNext: the caller's own timeout is all it gets, once. */
  if (!sim_fixture_no_reply_next (fx, "GetDiscoveryFilters", 1, &error))
    fail_msg ("NoReplyNext: %s", error->message);
  reply = call_adapter (fx, "GetDiscoveryFilters", 500, &error);
  assert_null (reply);
  assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
  g_clear_error (&error);
  reply = call_adapter (fx, "GetDiscoveryFilters", SIM_FIXTURE_TIMEOUT_MSEC, &error);
  if (reply == NULL)
    fail_msg ("GetDiscoveryFilters after the lost reply: %s", error->message);

  /* The log: both StartDiscovery calls, with path and caller. */
  assert_int_equal (sim_fixture_count_calls (fx, "StartDiscovery"), 2);
  assert_int_equal (sim_fixture_count_calls (fx, "GetDiscoveryFilters"), 2);
  calls = sim_fixture_get_calls (fx, &error);
  if (calls == NULL)
    fail_msg ("GetCalls: %s", error->message);
  g_variant_iter_init (&iter, calls);
  while (g_variant_iter_next (&iter, "(&s&o&s)", &method, &path, &sender))
    if (strcmp (method, "StartDiscovery") == 0 &&
        strcmp (path, "/org/bluez/hci0") == 0 && strcmp (sender, unique) == 0)
      seen = TRUE;
  assert_true (seen);

  if (!sim_fixture_reset_calls (fx, &error))
    fail_msg ("ResetCalls: %s", error->message);
  assert_int_equal (sim_fixture_count_calls (fx, "StartDiscovery"), 0);
}

typedef struct {
  guint appeared;
  guint vanished;
} NameEvents;

static void
name_appeared (GDBusConnection *connection,
               const char      *name,
               const char      *owner,
               gpointer         user_data)
{
  ((NameEvents *) user_data)->appeared++;
}

static void
name_vanished (GDBusConnection *connection,
               const char      *name,
               gpointer         user_data)
{
  ((NameEvents *) user_data)->vanished++;
}

static gboolean
vanished_once (gpointer user_data)
{
  return ((NameEvents *) user_data)->vanished >= 1;
}

static gboolean
appeared_once (gpointer user_data)
{
  return ((NameEvents *) user_data)->appeared >= 1;
}

static gboolean
appeared_twice (gpointer user_data)
{
  return ((NameEvents *) user_data)->appeared >= 2;
}

/* Restart(u): org.bluez goes away and comes back with its objects, and
 * the control interface keeps answering through it all. */
static void
test_fixture_restart (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimFixture) fx = sim_fixture_new (NULL, &error);
  g_autoptr(GVariant) objects = NULL;
  g_autoptr(GVariant) adapter = NULL;
  g_autoptr(GVariant) calls = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) discovering = NULL;
  g_autofree char *remote = NULL;
  g_autoptr(GMainContext) context = g_main_context_new ();
  NameEvents events = { 0, 0 };
  guint watch;

  if (fx == NULL)
    fail_msg ("sim_fixture_new: %s", error->message);

  g_main_context_push_thread_default (context);
  watch = g_bus_watch_name_on_connection (sim_fixture_get_connection (fx), "org.bluez",
                                          G_BUS_NAME_WATCHER_FLAGS_NONE,
                                          name_appeared, name_vanished, &events, NULL);
  if (!sim_fixture_wait_until (appeared_once, &events, SIM_FIXTURE_TIMEOUT_MSEC))
    fail_msg ("org.bluez is not owned before Restart");

  /* A session that a new bluetoothd cannot know about. */
  reply = call_adapter (fx, "StartDiscovery", SIM_FIXTURE_TIMEOUT_MSEC, &error);
  if (reply == NULL)
    fail_msg ("StartDiscovery: %s", error->message);
  g_clear_pointer (&reply, g_variant_unref);

  if (!sim_fixture_restart (fx, 300, &error))
    fail_msg ("Restart: %s", error->message);
  if (!sim_fixture_wait_until (vanished_once, &events, SIM_FIXTURE_TIMEOUT_MSEC))
    fail_msg ("org.bluez never went away during Restart");
  if (!sim_fixture_wait_until (appeared_twice, &events, SIM_FIXTURE_TIMEOUT_MSEC))
    fail_msg ("org.bluez did not come back after Restart");
  g_bus_unwatch_name (watch);
  g_main_context_pop_thread_default (context);

  objects = sim_fixture_get_objects (fx, &error);
  if (objects == NULL)
    fail_msg ("GetManagedObjects after Restart: %s", error->message);
  adapter = g_variant_lookup_value (objects, "/org/bluez/hci0", NULL);
  assert_non_null (adapter);
  calls = sim_fixture_get_calls (fx, &error);
  if (calls == NULL)
    fail_msg ("GetCalls after Restart: %s", error->message);

  /* The restarted daemon knows no discovery session. */
  discovering = sim_fixture_get_property (fx, "/org/bluez/hci0", "org.bluez.Adapter1",
                                          "Discovering");
  assert_non_null (discovering);
  assert_false (g_variant_get_boolean (discovering));
  reply = call_adapter (fx, "StopDiscovery", SIM_FIXTURE_TIMEOUT_MSEC, &error);
  assert_null (reply);
  remote = g_dbus_error_get_remote_error (error);
  assert_string_equal (remote, "org.bluez.Error.Failed");
}

/* Makes /tmp/bleio-sim-XXXXXX with a bus.conf and a socket that has
 * been there for an hour; with @listening, something listens on it. */
static char *
fake_bus_dir (GSocket **listener)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bleio-sim-XXXXXX", &error);
  g_autofree char *config = NULL;
  g_autofree char *socket_path = NULL;
  g_autoptr(GSocket) sock = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  struct utimbuf old = { 0, 0 };

  assert_non_null (dir);
  config = g_build_filename (dir, "bus.conf", NULL);
  socket_path = g_build_filename (dir, "system_bus_socket", NULL);
  assert_true (g_file_set_contents (config, "<busconfig/>", -1, NULL));
  sock = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                       G_SOCKET_PROTOCOL_DEFAULT, &error);
  assert_non_null (sock);
  address = g_unix_socket_address_new (socket_path);
  if (!g_socket_bind (sock, address, FALSE, &error))
    fail_msg ("bind: %s", error->message);
  if (listener != NULL)
    {
      if (!g_socket_listen (sock, &error))
        fail_msg ("listen: %s", error->message);
      *listener = g_steal_pointer (&sock);
    }
  old.actime = old.modtime = time (NULL) - 3600;
  assert_int_equal (utime (socket_path, &old), 0);
  return g_steal_pointer (&dir);
}

/* The directory a crashed caller left is removed by the next start; one
 * whose bus still listens is not. */
static void
test_stale_dirs_swept (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) listener = NULL;
  g_autofree char *stale = fake_bus_dir (NULL);
  g_autofree char *live = fake_bus_dir (&listener);
  g_autoptr(SimBus) bus = NULL;

  bus = sim_bus_new (sim_binary (), NULL, &error);
  if (bus == NULL)
    fail_msg ("sim_bus_new: %s", error->message);
  assert_false (g_file_test (stale, G_FILE_TEST_EXISTS));
  assert_true (g_file_test (live, G_FILE_TEST_IS_DIR));

  g_clear_object (&listener);
  remove_dir (live);
}

/* A simulator binary that exits at once gives a clear error, not a hang. */
static void
test_fixture_bad_binary (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimBus) bus = sim_bus_new ("/bin/false", NULL, &error);

  assert_null (bus);
  assert_non_null (error);
  assert_non_null (strstr (error->message, "/bin/false"));
  assert_non_null (strstr (error->message, "before owning org.bluez"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_exit_status),
    cmocka_unit_test (test_exit_status_zero_without_dashes),
    cmocka_unit_test (test_signal_status),
    cmocka_unit_test (test_command_sees_bus),
    cmocka_unit_test (test_scenario_missing),
    cmocka_unit_test (test_scenario_file),
    cmocka_unit_test (test_usage),
    cmocka_unit_test (test_bluez_option),
    cmocka_unit_test (test_no_survivors),
    cmocka_unit_test (test_sigterm_forwarded),
    cmocka_unit_test (test_terminal_interrupt_once),
    cmocka_unit_test (test_killed_run_leaves_nothing),
    cmocka_unit_test (test_fixture_lifecycle),
    cmocka_unit_test (test_fixture_crash),
    cmocka_unit_test (test_fixture_control),
    cmocka_unit_test (test_fixture_restart),
    cmocka_unit_test (test_fixture_bad_binary),
    cmocka_unit_test (test_stale_dirs_swept),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
