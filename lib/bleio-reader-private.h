/* SPDX-License-Identifier: MIT */
/*
 * A bus connection of the library's own, for receiving (issue 20): a Unix
 * socket to the bus an application's GDBusConnection talks to, SASL
 * EXTERNAL, Hello and match rules done at once, then every message the
 * bus sends read in place by lib/bleio-wire.c in a GMainContext's
 * source, with no GDBusMessage. It sends only the few calls whose
 * replies must come in order with the signals (lib/bleio-feed.c).
 *
 * One thread: the one that iterates the context given (the client's
 * worker). Everything else the library sends stays on GDBus.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-reader-private.h is internal to libbleio"
#endif

#include <gio/gio.h>
#include "bleio-wire-private.h"

G_BEGIN_DECLS

typedef struct _BleioReader BleioReader;

/* Called for every valid message the bus delivers, and once with
 * @message NULL when the connection has closed (the bus went away or
 * broke the protocol); after that, never again. The message's strings
 * live until the function returns. */
typedef void (*BleioReaderFunc) (const BleioWireMessage *message,
                                 gpointer                user_data);

/* Connects to the bus @connection is connected to, when that is a
 * message bus reached over a Unix socket; authenticates, says Hello and
 * adds @rules (match rules), waiting up to @timeout_msec for each step.
 * NULL with @error when any of that is not possible: the caller keeps
 * receiving through GDBus. Messages are read in @context from then on. */
BleioReader *bleio_reader_new   (GDBusConnection    *connection,
                                 const char * const *rules,
                                 guint               timeout_msec,
                                 GMainContext       *context,
                                 BleioReaderFunc     func,
                                 gpointer            user_data,
                                 GError            **error);
/* Sends a method call with @body ("()" or a tuple, consumed if floating,
 * NULL for none); 0 when it could not be sent (the connection is closed
 * or closing). Its reply comes to the message function like any message,
 * with REPLY_SERIAL the serial returned. */
guint32      bleio_reader_call  (BleioReader        *reader,
                                 const char         *destination,
                                 const char         *path,
                                 const char         *interface,
                                 const char         *member,
                                 GVariant           *body);
/* The connection's unique name on the bus. */
const char  *bleio_reader_get_unique_name (BleioReader *reader);
/* Closes the connection; the function is not called again. */
void         bleio_reader_free  (BleioReader        *reader);

G_END_DECLS
