/* SPDX-License-Identifier: MIT */
/*
 * A private dbus-daemon set up like a system bus, and the simulator on it.
 *
 * The bus configuration is written to a fresh temporary directory: type
 * "system", one unix socket in that directory, EXTERNAL authentication, and
 * a policy that lets any connection own any name (org.bluez included) and
 * send anything to anyone. That is deliberately looser than Debian's
 * /usr/share/dbus-1/system.conf plus /usr/share/dbus-1/system.d/bluetooth.conf,
 * where only root may own org.bluez and only some interfaces may be called by
 * ordinary users: the private bus runs as whoever runs the tests, so the
 * simulator could not own org.bluez under the real policy. Tests that depend
 * on the real policy (access denied errors) cannot be run on this bus.
 *
 * Both children are put in their own process group, so a Ctrl-C typed at a
 * terminal reaches the command of `bleio-sim run` but not the bus, and they
 * get SIGKILL from the kernel when the thread that started them dies
 * (PR_SET_PDEATHSIG), so a crashed test leaves no process behind. The
 * directory of such a crashed caller stays; the next sim_bus_new() removes
 * it once nothing listens on its socket.
 */
#include "sim-bus.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <gio/gunixsocketaddress.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long each step may take before we give up: generous, because a loaded
 * CI machine or valgrind can be slow, yet bounded. */
#define SIM_BUS_ADDRESS_TIMEOUT_MSEC 10000
#define SIM_BUS_OWNER_TIMEOUT_MSEC 20000
#define SIM_BUS_TERM_TIMEOUT_MSEC 3000

struct _SimBus {
  char *tmpdir;
  char *config_path;
  char *address;
  char *sim_binary;
  char *scenario_path;
  GPid daemon_pid;
  GPid sim_pid;
};

static const char bus_config_template[] =
  "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
  " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
  "<!-- Written by bleio-sim for a private test bus. Looser than a real\n"
  "     system bus: anyone may own org.bluez and call anything. -->\n"
  "<busconfig>\n"
  "  <type>system</type>\n"
  "  <listen>unix:path=%s</listen>\n"
  "  <auth>EXTERNAL</auth>\n"
  "  <policy context=\"default\">\n"
  "    <allow user=\"*\"/>\n"
  "    <allow own=\"*\"/>\n"
  "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
  "    <allow eavesdrop=\"true\"/>\n"
  "    <allow send_type=\"method_call\"/>\n"
  "    <allow send_type=\"signal\"/>\n"
  "    <allow send_type=\"method_return\"/>\n"
  "    <allow send_type=\"error\"/>\n"
  "    <allow receive_type=\"method_call\"/>\n"
  "    <allow receive_type=\"signal\"/>\n"
  "    <allow receive_type=\"method_return\"/>\n"
  "    <allow receive_type=\"error\"/>\n"
  "  </policy>\n"
  "</busconfig>\n";

typedef struct {
  pid_t parent;
} ChildSetup;

/* Runs in the child between fork and exec: only async-signal-safe calls. */
static void
child_setup (gpointer user_data)
{
  const ChildSetup *setup = user_data;

  setpgid (0, 0);
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  /* The parent may have died before prctl: then nobody would kill us. */
  if (getppid () != setup->parent)
    _exit (127);
}

static gboolean
wait_exit (GPid  pid,
           guint timeout_msec,
           int  *wait_status)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_msec * 1000;

  for (;;)
    {
      int status = 0;
      pid_t r = waitpid (pid, &status, WNOHANG);

      if (r == pid || (r < 0 && errno == ECHILD))
        {
          if (wait_status != NULL)
            *wait_status = r == pid ? status : 0;
          return TRUE;
        }
      if (r < 0 && errno != EINTR)
        return TRUE;
      if (g_get_monotonic_time () >= deadline)
        return FALSE;
      g_usleep (2000);
    }
}

static void
terminate_child (GPid *pid)
{
  if (*pid <= 0)
    return;

  kill (*pid, SIGTERM);
  if (!wait_exit (*pid, SIM_BUS_TERM_TIMEOUT_MSEC, NULL))
    {
      g_warning ("sim-bus: process %d ignored SIGTERM, killing it", (int) *pid);
      kill (*pid, SIGKILL);
      while (waitpid (*pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  *pid = 0;
}

static char *
describe_status (int status)
{
  if (WIFEXITED (status))
    return g_strdup_printf ("exited with status %d", WEXITSTATUS (status));
  if (WIFSIGNALED (status))
    return g_strdup_printf ("was killed by signal %d (%s)", WTERMSIG (status),
                            g_strsignal (WTERMSIG (status)));
  return g_strdup_printf ("ended with wait status 0x%x", (unsigned) status);
}

static void
remove_tmpdir (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (path == NULL)
    return;
  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        g_unlink (child);
      }
  g_rmdir (path);
}

/* Whether something may listen on the unix socket @path: only a refused
 * connection says for sure that nothing does. The attempt does not block,
 * so a busy daemon with a full backlog counts as alive. */
static gboolean
socket_is_live (const char *path)
{
  g_autoptr(GSocket) sock = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) error = NULL;

  sock = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                       G_SOCKET_PROTOCOL_DEFAULT, NULL);
  if (sock == NULL)
    return TRUE;
  g_socket_set_blocking (sock, FALSE);
  address = g_unix_socket_address_new (path);
  if (g_socket_connect (sock, address, NULL, &error))
    return TRUE;
  return !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
}

/* A caller that crashed (a test that aborted, a SIGKILLed `bleio-sim run`)
 * could not remove its directory; its processes died with it. Remove such
 * leftovers of ours: a directory whose bus socket nobody listens on. A
 * live bus accepts the connection and is left alone. */
static void
sweep_stale_tmpdirs (void)
{
  const char *tmp = g_get_tmp_dir ();
  g_autoptr(GDir) dir = g_dir_open (tmp, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *config = NULL;
      g_autofree char *socket_path = NULL;
      GStatBuf st;

      if (!g_str_has_prefix (name, "bleio-sim-") || strlen (name) != strlen ("bleio-sim-XXXXXX"))
        continue;
      path = g_build_filename (tmp, name, NULL);
      config = g_build_filename (path, "bus.conf", NULL);
      socket_path = g_build_filename (path, "system_bus_socket", NULL);
      if (g_lstat (path, &st) != 0 || !S_ISDIR (st.st_mode) || st.st_uid != getuid ())
        continue;
      /* A socket made in the last minute may belong to a daemon between
       * bind() and listen(): leave it. */
      if (!g_file_test (config, G_FILE_TEST_IS_REGULAR) ||
          g_lstat (socket_path, &st) != 0 ||
          st.st_mtime > (time_t) (g_get_real_time () / G_USEC_PER_SEC) - 60 ||
          socket_is_live (socket_path))
        continue;
      remove_tmpdir (path);
    }
}

static gboolean
start_daemon (SimBus  *bus,
              GError **error)
{
  g_autofree char *socket_path = g_build_filename (bus->tmpdir, "system_bus_socket", NULL);
  g_autofree char *escaped = g_markup_escape_text (socket_path, -1);
  g_autofree char *config = g_strdup_printf (bus_config_template, escaped);
  g_autofree char *config_arg = NULL;
  GString *address = g_string_new (NULL);
  g_autofree char *address_str = NULL;
  gint64 deadline;
  int pipe_fds[2];
  int source_fds[1];
  int target_fds[1] = { 3 };
  ChildSetup setup = { getpid () };
  gboolean spawned;

  bus->config_path = g_build_filename (bus->tmpdir, "bus.conf", NULL);
  if (!g_file_set_contents (bus->config_path, config, -1, error))
    {
      g_string_free (address, TRUE);
      return FALSE;
    }
  config_arg = g_strconcat ("--config-file=", bus->config_path, NULL);

  if (!g_unix_open_pipe (pipe_fds, FD_CLOEXEC, error))
    {
      g_string_free (address, TRUE);
      return FALSE;
    }
  source_fds[0] = pipe_fds[1];

  {
    const char *argv[] = {
      "dbus-daemon", config_arg, "--nofork", "--nopidfile",
      "--print-address=3", NULL
    };

    spawned = g_spawn_async_with_pipes_and_fds (NULL, argv, NULL,
                                                G_SPAWN_SEARCH_PATH |
                                                G_SPAWN_DO_NOT_REAP_CHILD,
                                                child_setup, &setup,
                                                -1, -1, -1,
                                                source_fds, target_fds, 1,
                                                &bus->daemon_pid,
                                                NULL, NULL, NULL, error);
  }
  close (pipe_fds[1]);
  if (!spawned)
    {
      g_prefix_error (error, "Cannot start dbus-daemon: ");
      close (pipe_fds[0]);
      g_string_free (address, TRUE);
      return FALSE;
    }

  /* The daemon prints its address and a newline once it listens. */
  deadline = g_get_monotonic_time () + SIM_BUS_ADDRESS_TIMEOUT_MSEC * 1000;
  while (strchr (address->str, '\n') == NULL)
    {
      struct pollfd pfd = { pipe_fds[0], POLLIN, 0 };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      char buf[256];
      ssize_t n;
      int r;

      if (left <= 0)
        {
          close (pipe_fds[0]);
          g_string_free (address, TRUE);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "dbus-daemon did not print its address within %d ms",
                       SIM_BUS_ADDRESS_TIMEOUT_MSEC);
          return FALSE;
        }
      r = poll (&pfd, 1, (int) left);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        continue;
      n = read (pipe_fds[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int status = 0;
          g_autofree char *how = NULL;

          close (pipe_fds[0]);
          g_string_free (address, TRUE);
          wait_exit (bus->daemon_pid, SIM_BUS_TERM_TIMEOUT_MSEC, &status);
          how = describe_status (status);
          bus->daemon_pid = 0;
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "dbus-daemon %s before printing its address (config %s)",
                       how, bus->config_path);
          return FALSE;
        }
      g_string_append_len (address, buf, n);
    }
  close (pipe_fds[0]);

  address_str = g_string_free (address, FALSE);
  g_strstrip (address_str);
  if (*address_str == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                           "dbus-daemon printed an empty address");
      return FALSE;
    }
  bus->address = g_steal_pointer (&address_str);
  return TRUE;
}

static gboolean
spawn_sim (SimBus  *bus,
           GError **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  ChildSetup setup = { getpid () };

  g_ptr_array_add (argv, bus->sim_binary);
  g_ptr_array_add (argv, (char *) "--address");
  g_ptr_array_add (argv, bus->address);
  if (bus->scenario_path != NULL)
    {
      g_ptr_array_add (argv, (char *) "--scenario");
      g_ptr_array_add (argv, bus->scenario_path);
    }
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_async (NULL, (char **) argv->pdata, NULL,
                      G_SPAWN_DO_NOT_REAP_CHILD,
                      child_setup, &setup, &bus->sim_pid, error))
    {
      g_prefix_error (error, "Cannot start %s: ", bus->sim_binary);
      return FALSE;
    }
  return TRUE;
}

/* Waits until org.bluez has an owner on the bus, the simulator dies, or
 * the bound passes; polls because it must also notice the death. */
static gboolean
wait_for_owner (SimBus  *bus,
                GError **error)
{
  g_autoptr(GDBusConnection) connection = NULL;
  gint64 deadline = g_get_monotonic_time () + (gint64) SIM_BUS_OWNER_TIMEOUT_MSEC * 1000;
  guint delay_usec = 1000;

  connection = g_dbus_connection_new_for_address_sync (bus->address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                       G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                       NULL, NULL, error);
  if (connection == NULL)
    {
      g_prefix_error (error, "Cannot connect to the private bus %s: ", bus->address);
      return FALSE;
    }

  for (;;)
    {
      g_autoptr(GVariant) reply = NULL;
      g_autoptr(GError) local_error = NULL;
      gboolean has_owner = FALSE;
      int status = 0;
      pid_t r;

      reply = g_dbus_connection_call_sync (connection,
                                           "org.freedesktop.DBus",
                                           "/org/freedesktop/DBus",
                                           "org.freedesktop.DBus",
                                           "NameHasOwner",
                                           g_variant_new ("(s)", "org.bluez"),
                                           G_VARIANT_TYPE ("(b)"),
                                           G_DBUS_CALL_FLAGS_NONE, 5000,
                                           NULL, &local_error);
      if (reply == NULL)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "Cannot ask the private bus about org.bluez: ");
          return FALSE;
        }
      g_variant_get (reply, "(b)", &has_owner);
      if (has_owner)
        break;

      r = waitpid (bus->sim_pid, &status, WNOHANG);
      if (r == bus->sim_pid)
        {
          g_autofree char *how = describe_status (status);

          bus->sim_pid = 0;
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "%s %s before owning org.bluez on %s",
                       bus->sim_binary, how, bus->address);
          return FALSE;
        }
      if (g_get_monotonic_time () >= deadline)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "%s did not own org.bluez on %s within %d ms",
                       bus->sim_binary, bus->address, SIM_BUS_OWNER_TIMEOUT_MSEC);
          return FALSE;
        }
      g_usleep (delay_usec);
      delay_usec = MIN (delay_usec * 2, 20000);
    }

  g_dbus_connection_close_sync (connection, NULL, NULL);
  return TRUE;
}

/**
 * sim_bus_new:
 * @sim_binary: path of the bleio-sim executable
 * @scenario_path: (nullable): scenario file; %NULL for the demo scenario
 * @error: return location for an error
 *
 * Starts a private bus and the simulator on it, and returns once the
 * simulator owns org.bluez. The children are tied to the calling thread:
 * they are killed when it exits, so call this from a thread that outlives
 * the returned object (the main thread, normally).
 *
 * Returns: (transfer full) (nullable): the running bus, or %NULL
 */
SimBus *
sim_bus_new (const char  *sim_binary,
             const char  *scenario_path,
             GError     **error)
{
  g_autoptr(SimBus) bus = NULL;

  g_return_val_if_fail (sim_binary != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  sweep_stale_tmpdirs ();

  bus = g_new0 (SimBus, 1);
  bus->sim_binary = g_strdup (sim_binary);
  bus->scenario_path = g_strdup (scenario_path);
  bus->tmpdir = g_dir_make_tmp ("bleio-sim-XXXXXX", error);
  if (bus->tmpdir == NULL)
    return NULL;

  if (!start_daemon (bus, error))
    return NULL;
  if (!spawn_sim (bus, error))
    return NULL;
  if (!wait_for_owner (bus, error))
    return NULL;

  return g_steal_pointer (&bus);
}

/**
 * sim_bus_restart_sim:
 * @bus: a #SimBus
 * @error: return location for an error
 *
 * Kills the simulator process outright (SIGKILL, like a crash of
 * bluetoothd), starts a new one on the same bus and waits until it owns
 * org.bluez again. The state the old one had is lost.
 *
 * Returns: %TRUE once the new simulator owns org.bluez
 */
gboolean
sim_bus_restart_sim (SimBus  *bus,
                     GError **error)
{
  g_return_val_if_fail (bus != NULL, FALSE);

  if (bus->sim_pid > 0)
    {
      kill (bus->sim_pid, SIGKILL);
      while (waitpid (bus->sim_pid, NULL, 0) < 0 && errno == EINTR)
        ;
      bus->sim_pid = 0;
    }
  if (!spawn_sim (bus, error))
    return FALSE;
  return wait_for_owner (bus, error);
}

/**
 * sim_bus_free:
 * @bus: (nullable): a #SimBus
 *
 * Stops the simulator, then the bus (SIGTERM, then SIGKILL if they take
 * longer than a few seconds), waits for both and removes the temporary
 * directory.
 */
void
sim_bus_free (SimBus *bus)
{
  if (bus == NULL)
    return;

  terminate_child (&bus->sim_pid);
  terminate_child (&bus->daemon_pid);
  remove_tmpdir (bus->tmpdir);

  g_free (bus->tmpdir);
  g_free (bus->config_path);
  g_free (bus->address);
  g_free (bus->sim_binary);
  g_free (bus->scenario_path);
  g_free (bus);
}

const char *
sim_bus_get_address (SimBus *bus)
{
  g_return_val_if_fail (bus != NULL, NULL);

  return bus->address;
}

const char *
sim_bus_get_tmpdir (SimBus *bus)
{
  g_return_val_if_fail (bus != NULL, NULL);

  return bus->tmpdir;
}

GPid
sim_bus_get_daemon_pid (SimBus *bus)
{
  g_return_val_if_fail (bus != NULL, 0);

  return bus->daemon_pid;
}

GPid
sim_bus_get_sim_pid (SimBus *bus)
{
  g_return_val_if_fail (bus != NULL, 0);

  return bus->sim_pid;
}
