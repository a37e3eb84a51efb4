/* SPDX-License-Identifier: MIT */
/*
 * bleio-sim: a BlueZ 5.66 (or 5.82) double on D-Bus. `bleio-sim [--scenario
 * FILE] [--address ADDRESS] [--bluez VERSION]` runs the daemon; `bleio-sim run ...` runs a command
 * against a private bus with the daemon on it (sim-run.c). The top floor:
 * it starts the hostile mode and the control interface, which hook
 * themselves into the registry, then the daemon.
 */
#include "sim-control.h"
#include "sim-daemon.h"
#include "sim-hostile.h"
#include "sim-run.h"

#include <glib-unix.h>
#include <locale.h>
#include <string.h>

static gboolean
on_signal (gpointer data)
{
  sim_daemon_quit (0);
  return G_SOURCE_CONTINUE;
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *scenario_path = NULL;
  g_autofree char *address = NULL;
  g_autofree char *bluez_text = NULL;
  gboolean check = FALSE;
  SimBluez bluez = SIM_BLUEZ_DEFAULT;
  GOptionEntry entries[] = {
    { "scenario", 's', 0, G_OPTION_ARG_FILENAME, &scenario_path,
      "Scenario file (default: the built-in demo)", "FILE" },
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address,
      "D-Bus address of the bus to own org.bluez on (default: the system bus)",
      "ADDRESS" },
    { "bluez", 0, 0, G_OPTION_ARG_STRING, &bluez_text,
      "The bluetoothd release to speak, 5.66 or 5.82 (default: $BLEIO_SIM_BLUEZ, "
      "else the scenario's \"bluez\" key, else 5.66)", "VERSION" },
    { "check", 0, 0, G_OPTION_ARG_NONE, &check,
      "Only parse the scenario and report errors", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) conn = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  SimScenario *scenario;
  SimDaemon daemon = { 0 };

  setlocale (LC_ALL, "");
  if (argc > 1 && strcmp (argv[1], "run") == 0)
    return bleio_sim_run_main (argc, argv);

  context = g_option_context_new ("- simulate bluetoothd 5.66 or 5.82 on D-Bus");
  g_option_context_set_summary (context,
                                "Owns org.bluez on a bus and serves the adapters and "
                                "peripherals of a scenario.\n"
                                "  bleio-sim run [--scenario FILE] -- COMMAND [ARGS...]\n"
                                "runs COMMAND against a private bus with the simulator on it.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bleio-sim: %s\n", error->message);
      return 2;
    }
  if (argc > 1)
    {
      g_printerr ("bleio-sim: unexpected argument '%s'\n", argv[1]);
      return 2;
    }
  if (bluez_text == NULL && g_getenv ("BLEIO_SIM_BLUEZ") != NULL
      && *g_getenv ("BLEIO_SIM_BLUEZ") != '\0')
    bluez_text = g_strdup (g_getenv ("BLEIO_SIM_BLUEZ"));
  if (bluez_text != NULL)
    {
      bluez = sim_bluez_parse (bluez_text);
      if (bluez == SIM_BLUEZ_DEFAULT)
        {
          g_printerr ("bleio-sim: --bluez (or BLEIO_SIM_BLUEZ) takes 5.66 or 5.82, not '%s'\n",
                      bluez_text);
          return 2;
        }
    }

  scenario = scenario_path != NULL ? sim_scenario_load_file (scenario_path, &error)
                                   : sim_scenario_load_demo (&error);
  if (scenario == NULL)
    {
      g_printerr ("bleio-sim: bad scenario: %s\n", error->message);
      return 1;
    }
  if (check)
    {
      g_print ("%s: %u adapter(s), %u peripheral(s)\n",
               scenario_path != NULL ? scenario_path : "demo",
               scenario->adapters->len, scenario->peripherals->len);
      sim_scenario_free (scenario);
      return 0;
    }

  if (address != NULL)
    conn = g_dbus_connection_new_for_address_sync (address,
                                                   G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                                   | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                   NULL, NULL, &error);
  else
    conn = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (conn == NULL)
    {
      g_printerr ("bleio-sim: cannot connect to the bus: %s\n", error->message);
      sim_scenario_free (scenario);
      return 1;
    }
  g_dbus_connection_set_exit_on_close (conn, FALSE);

  sim = &daemon;
  loop = g_main_loop_new (NULL, FALSE);
  daemon.loop = loop;
  g_unix_signal_add (SIGTERM, on_signal, NULL);
  g_unix_signal_add (SIGINT, on_signal, NULL);
  /* The control interface is there before org.bluez is requested: a test
   * that sees the name appear may steer the simulator at once. */
  sim_hostile_install ();
  sim_control_export (conn);
  if (!sim_daemon_start (conn, scenario, scenario_path, bluez, &error))
    {
      g_printerr ("bleio-sim: %s\n", error->message);
      return 1;
    }
  g_main_loop_run (loop);
  sim_control_unexport ();
  sim_hostile_free ();
  sim_daemon_stop ();
  g_dbus_connection_flush_sync (conn, NULL, NULL);
  sim = NULL;
  return daemon.exit_status;
}
