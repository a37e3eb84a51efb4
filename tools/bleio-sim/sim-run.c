/* SPDX-License-Identifier: MIT */
/*
 * `bleio-sim run [--scenario FILE] [--bluez VERSION] [--] COMMAND [ARGS...]`
 *
 * Starts a private system-like bus with the simulator on it (sim-bus.c),
 * runs COMMAND with DBUS_SYSTEM_BUS_ADDRESS pointing at that bus, forwards
 * SIGINT, SIGTERM and SIGHUP to it (SIGINT and SIGHUP only when they did
 * not come from our terminal, which sends them to COMMAND itself: COMMAND
 * stays in our process group so that it can use the terminal), and when it
 * exits tears the bus down
 * and returns its exit status (128 + N when a signal N ended it), as
 * dbus-run-session does for session buses.
 */
#include "sim-run.h"
#include "sim-bus.h"
#include "sim-scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Exit statuses of our own failures, chosen like env(1) and the shells. */
#define RUN_EXIT_USAGE 2
#define RUN_EXIT_SETUP 125
#define RUN_EXIT_NOT_FOUND 127

static const char run_help[] =
  "Usage:\n"
  "  %s run [--scenario FILE] [--] COMMAND [ARGS...]\n"
  "\n"
  "Start a private D-Bus bus configured like a system bus, start the BlueZ\n"
  "simulator on it (it owns org.bluez there), and run COMMAND with\n"
  "DBUS_SYSTEM_BUS_ADDRESS set to that bus. Any program that talks to\n"
  "bluetoothd over the system bus (bluetoothctl, your own gateway) then\n"
  "talks to the simulator instead.\n"
  "\n"
  "When COMMAND exits, the simulator and the bus are stopped and its exit\n"
  "status is returned (128+N if signal N ended it). SIGINT, SIGTERM and\n"
  "SIGHUP sent to bleio-sim run meanwhile are passed on to COMMAND; a\n"
  "Ctrl-C typed at the terminal reaches COMMAND directly, once.\n"
  "\n"
  "Options:\n"
  "  --scenario FILE   load the peripherals and adapters from FILE\n"
  "                    (default: the built-in demo scenario)\n"
  "  --bluez VERSION   speak bluetoothd 5.66 or 5.82 (default:\n"
  "                    $BLEIO_SIM_BLUEZ, else the scenario's \"bluez\"\n"
  "                    key, else 5.66)\n"
  "  -h, --help        show this help and exit\n"
  "\n"
  "The bus policy lets anyone own any name and call anything, which is\n"
  "looser than a real system bus. Own failures exit with 125 (setup) or\n"
  "127 (COMMAND not found), wrong usage with 2.\n";

typedef struct {
  GMainLoop *loop;
  GPid child;
  int wait_status;
  gboolean exited;
} RunState;

static void
child_exited (GPid     pid,
              int      wait_status,
              gpointer user_data)
{
  RunState *state = user_data;

  state->wait_status = wait_status;
  state->exited = TRUE;
  g_main_loop_quit (state->loop);
}

static gboolean
forward_signal (RunState *state,
                int       signum)
{
  if (!state->exited && state->child > 0)
    kill (state->child, signum);
  return G_SOURCE_CONTINUE;
}

/* Whether we run in the foreground of a terminal. Then a Ctrl-C typed
 * there (or a hangup) reached the whole process group, COMMAND included,
 * and forwarding it would deliver it twice. */
static gboolean
terminal_foreground (void)
{
  int fd = open ("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
  gboolean foreground;

  if (fd < 0)
    return FALSE;
  foreground = tcgetpgrp (fd) == getpgrp ();
  close (fd);
  return foreground;
}

static gboolean
on_sigint (gpointer user_data)
{
  if (terminal_foreground ())
    return G_SOURCE_CONTINUE;
  return forward_signal (user_data, SIGINT);
}

static gboolean
on_sigterm (gpointer user_data)
{
  return forward_signal (user_data, SIGTERM);
}

static gboolean
on_sighup (gpointer user_data)
{
  if (terminal_foreground ())
    return G_SOURCE_CONTINUE;
  return forward_signal (user_data, SIGHUP);
}

static int
exit_code_of (int wait_status)
{
  if (WIFEXITED (wait_status))
    return WEXITSTATUS (wait_status);
  if (WIFSIGNALED (wait_status))
    return 128 + WTERMSIG (wait_status);
  return RUN_EXIT_SETUP;
}

static char *
self_binary (void)
{
  g_autoptr(GError) error = NULL;
  char *path = g_file_read_link ("/proc/self/exe", &error);

  /* The link is the real path; fall back to /proc/self/exe itself, which
   * works as long as we are alive, which is as long as the bus lives. */
  return path != NULL ? path : g_strdup ("/proc/self/exe");
}

int
bleio_sim_run_main (int    argc,
                    char **argv)
{
  const char *prog = argc > 0 ? argv[0] : "bleio-sim";
  g_autofree char *scenario = NULL;
  g_autofree char *bluez = NULL;
  g_autofree char *sim_binary = NULL;
  g_autoptr(SimBus) bus = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_auto(GStrv) envp = NULL;
  RunState state = { NULL, 0, 0, FALSE };
  guint sources[3];
  int first = -1;

  for (int i = 2; i < argc; i++)
    {
      const char *arg = argv[i];

      if (strcmp (arg, "--") == 0)
        {
          first = i + 1;
          break;
        }
      else if (strcmp (arg, "-h") == 0 || strcmp (arg, "--help") == 0)
        {
          g_print (run_help, prog);
          return 0;
        }
      else if (strcmp (arg, "--scenario") == 0)
        {
          if (i + 1 >= argc)
            {
              g_printerr ("%s run: --scenario needs a FILE\n", prog);
              return RUN_EXIT_USAGE;
            }
          g_free (scenario);
          scenario = g_strdup (argv[++i]);
        }
      else if (g_str_has_prefix (arg, "--scenario="))
        {
          g_free (scenario);
          scenario = g_strdup (arg + strlen ("--scenario="));
        }
      else if (strcmp (arg, "--bluez") == 0 || g_str_has_prefix (arg, "--bluez="))
        {
          const char *value = arg[strlen ("--bluez")] == '=' ? arg + strlen ("--bluez=")
                              : i + 1 < argc ? argv[++i] : NULL;

          if (sim_bluez_parse (value) == SIM_BLUEZ_DEFAULT)
            {
              g_printerr ("%s run: --bluez takes 5.66 or 5.82\n", prog);
              return RUN_EXIT_USAGE;
            }
          g_free (bluez);
          bluez = g_strdup (value);
        }
      else if (arg[0] == '-' && arg[1] != '\0')
        {
          g_printerr ("%s run: unknown option %s (try --help)\n", prog, arg);
          return RUN_EXIT_USAGE;
        }
      else
        {
          first = i;
          break;
        }
    }

  if (first < 0 || first >= argc)
    {
      g_printerr ("%s run: no COMMAND given (try --help)\n", prog);
      return RUN_EXIT_USAGE;
    }

  if (scenario != NULL && !g_file_test (scenario, G_FILE_TEST_IS_REGULAR))
    {
      g_printerr ("%s run: scenario file %s does not exist or is not a regular file\n",
                  prog, scenario);
      return RUN_EXIT_SETUP;
    }

  /* The simulator may start from another directory than ours: pass an
   * absolute scenario path. */
  if (scenario != NULL && !g_path_is_absolute (scenario))
    {
      g_autofree char *cwd = g_get_current_dir ();
      char *absolute = g_build_filename (cwd, scenario, NULL);

      g_free (scenario);
      scenario = absolute;
    }

  /* The simulator takes the release from this variable as from its own
   * --bluez; COMMAND sees it too. */
  if (bluez != NULL)
    g_setenv ("BLEIO_SIM_BLUEZ", bluez, TRUE);
  sim_binary = self_binary ();
  bus = sim_bus_new (sim_binary, scenario, &error);
  if (bus == NULL)
    {
      g_printerr ("%s run: %s\n", prog, error->message);
      return RUN_EXIT_SETUP;
    }

  envp = g_get_environ ();
  envp = g_environ_setenv (envp, "DBUS_SYSTEM_BUS_ADDRESS",
                           sim_bus_get_address (bus), TRUE);

  loop = g_main_loop_new (NULL, FALSE);
  state.loop = loop;

  /* Install the handlers before the child exists, so no signal sent to
   * us in between is lost; forward_signal ignores them until then. */
  sources[0] = g_unix_signal_add (SIGINT, on_sigint, &state);
  sources[1] = g_unix_signal_add (SIGTERM, on_sigterm, &state);
  sources[2] = g_unix_signal_add (SIGHUP, on_sighup, &state);

  if (!g_spawn_async (NULL, &argv[first], envp,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                      G_SPAWN_CHILD_INHERITS_STDIN,
                      NULL, NULL, &state.child, &error))
    {
      int code = g_error_matches (error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT)
                 ? RUN_EXIT_NOT_FOUND : RUN_EXIT_SETUP;

      g_printerr ("%s run: cannot run %s: %s\n", prog, argv[first], error->message);
      for (guint i = 0; i < 3; i++)
        g_source_remove (sources[i]);
      return code;
    }

  g_child_watch_add (state.child, child_exited, &state);
  g_main_loop_run (loop);

  /* The child watch removed itself when it fired. */
  for (guint i = 0; i < 3; i++)
    g_source_remove (sources[i]);
  g_spawn_close_pid (state.child);

  /* bus goes out of scope here: the simulator and the bus are stopped. */
  return exit_code_of (state.wait_status);
}
