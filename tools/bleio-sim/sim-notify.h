/* SPDX-License-Identifier: MIT */
/*
 * Notifications of a characteristic (floor 3, above sim-agent.c):
 * StartNotify sessions, AcquireNotify and AcquireWrite sockets, the CCCD
 * they switch, notification streams and bursts. sim-gatt.c dispatches the
 * GattCharacteristic1 calls that concern them here.
 *
 * Notifications are the hot path: one send() on a SOCK_SEQPACKET socket per
 * notification, or one PropertiesChanged signal, with no lookups and no
 * allocation besides the signal's message.
 */
#pragma once

#include "sim-world.h"

G_BEGIN_DECLS

#define SIM_CHAR_INTERFACE "org.bluez.GattCharacteristic1"

/* The peripheral sends one notification; returns FALSE when nobody gets it. */
gboolean   sim_char_notify        (SimChar      *chr,
                                   const guint8 *data,
                                   gsize         len);
void       sim_char_notify_burst  (SimChar *chr,
                                   GBytes  *value,
                                   guint    count);
/* As sim_char_notify_burst(), with each notification's index (from 0) in
 * its first four bytes, little-endian; @value must hold at least four. */
void       sim_char_notify_sequence (SimChar *chr,
                                     GBytes  *value,
                                     guint    count);

/* Sets up the notification state of a new characteristic. */
void       sim_notify_char_init   (SimChar  *chr);
/* StartNotify, StopNotify, AcquireNotify and AcquireWrite on a connected
 * device; sim-gatt.c checked the options already. */
void       sim_notify_start       (SimChar               *chr,
                                   GDBusMethodInvocation *invocation);
void       sim_notify_stop        (SimChar               *chr,
                                   GDBusMethodInvocation *invocation);
void       sim_notify_acquire     (SimChar               *chr,
                                   GDBusMethodInvocation *invocation,
                                   gboolean               notify);
/* The link went: closes acquired sockets, ends sessions (Notifying goes
 * false), clears the CCCD, stops streams and bursts. */
void       sim_notify_link_lost   (SimChar  *chr);
/* Closes what a characteristic being freed still holds, unannounced. */
void       sim_notify_char_clear  (SimChar  *chr);

G_END_DECLS
