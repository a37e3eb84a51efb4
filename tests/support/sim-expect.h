/* SPDX-License-Identifier: MIT */
/*
 * cmocka checks on what the simulator answers over D-Bus, for the tests in
 * tests/bleio-sim that speak to it directly: each fails the running case
 * with a message saying what came instead.
 */
#pragma once

#include "sim-fixture.h"

G_BEGIN_DECLS

/* Fails "@what: ..." unless @error is the D-Bus error @name with @message,
 * as bluetoothd answers (sim_fixture_check_remote_error()). */
void             sim_expect_remote_error     (const GError *error,
                                              const char   *name,
                                              const char   *message,
                                              const char   *what);

/* The boolean property @name of @interface at @path; fails when there is
 * none. */
gboolean         sim_expect_bool             (SimFixture   *fx,
                                              const char   *path,
                                              const char   *interface,
                                              const char   *name);

/* Adds a peripheral named @name at @address to @adapter ("hci0"), whose
 * JSON entry carries @extra after the address and name (keys with a
 * leading comma, or ""), waits until discovery found it and returns its
 * object path; fails when either step does not happen. */
char            *sim_expect_new_device       (SimFixture   *fx,
                                              const char   *adapter,
                                              const char   *name,
                                              const char   *address,
                                              const char   *extra);

/* A connection of its own to the fixture's bus, as another program would
 * have (not closing the test when it closes); fails "@what: ..." when it
 * cannot be made. */
GDBusConnection *sim_expect_new_client       (SimFixture   *fx,
                                              const char   *what);

G_END_DECLS
