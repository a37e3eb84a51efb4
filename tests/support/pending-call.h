/* SPDX-License-Identifier: MIT */
/*
 * A D-Bus method call sent without waiting, whose answer is kept for the
 * test to look at later: for cases about the order in which bluetoothd
 * answers calls that overlap (Connect then Disconnect...).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  GVariant *reply;
  GError *error;
  gboolean done;
  guint order;                /* 1 for the first call answered, 2 ... */
} PendingCall;

/* Calls @method of @interface on @path at org.bluez over @conn with
 * @params (floating, or NULL) and @timeout_msec; the answer lands in @p
 * in the thread-default main context. */
void             pending_call_start          (PendingCall     *p,
                                              GDBusConnection *conn,
                                              const char      *path,
                                              const char      *interface,
                                              const char      *method,
                                              GVariant        *params,
                                              int              timeout_msec);
/* A GSourceFunc for sim_fixture_wait_until(): TRUE once @data (a
 * PendingCall) is answered. */
gboolean         pending_call_is_done        (gpointer         data);
/* Frees the answer kept in @p. */
void             pending_call_clear          (PendingCall     *p);

G_END_DECLS
