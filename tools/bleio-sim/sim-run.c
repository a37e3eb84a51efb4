/* SPDX-License-Identifier: MIT */
#include "sim-run.h"
#include "sim-bus.h"

int
bleio_sim_run_main (int argc, char **argv)
{
  g_printerr ("bleio-sim run: not implemented yet\n");
  return 2;
}
