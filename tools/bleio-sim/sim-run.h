/* SPDX-License-Identifier: MIT */
/*
 * `bleio-sim run`: run a command against a private system-like bus on which
 * the simulator owns org.bluez, like dbus-run-session does for session buses.
 */
#pragma once

/* Entry point of `bleio-sim run ...`. @argv[0] is the program name and
 * @argv[1] is "run". Returns the process exit status to use. */
int bleio_sim_run_main (int argc, char **argv);
