/* SPDX-License-Identifier: MIT */
/*
 * The simulated world's shared state (sim-world.h): the bottom of floor 3,
 * so that every file of the world can read it without reaching up.
 */
#include "sim-world.h"

SimWorld sim_world;
