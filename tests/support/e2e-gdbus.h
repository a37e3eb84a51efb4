/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the e2e programs that talk to org.bluez through GDBus alone
 * (the harness's own tools and its first test, which prove the guest before
 * the library's API is used). Library tests use the public API instead.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Milliseconds to wait for anything that should happen in the guest. */
#define E2E_WAIT_MSEC 20000

/* The environment a test runs in, with defaults for the e2e guest. */
const char *e2e_env (const char *name, const char *fallback);

/* Runs the thread-default main context until @done (@user_data) returns
 * TRUE or @timeout_msec passes; returns the last value of @done. */
gboolean e2e_wait_until (gboolean (*done) (gpointer user_data),
                         gpointer user_data,
                         guint    timeout_msec);

/* Runs the thread-default main context for @msec milliseconds. */
void e2e_spin (guint msec);

/* Calls org.bluez synchronously; NULL and @error on failure. */
GVariant *e2e_call (GDBusConnection *bus, const char *path,
                    const char *iface, const char *method,
                    GVariant *params, const char *reply_type,
                    int timeout_msec, GError **error);

/* A cached property of interface @iface on @path, or NULL. */
GVariant *e2e_get_cached (GDBusObjectManager *manager, const char *path,
                          const char *iface, const char *name);

G_END_DECLS
