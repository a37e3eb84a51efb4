/* SPDX-License-Identifier: MIT */
/*
 * D-Bus messages read in place from the bytes a bus socket delivers, for
 * the library's own receive path (issue 20, docs/performance.md): the
 * header fields are pointers into the message, and the body's values
 * become the GVariants the object cache keeps (one per value, fixed
 * arrays in one copy) without a GVariant tree of the whole message.
 *
 * Nothing here trusts its input: a message is accepted only if it is
 * valid D-Bus as the specification defines it (framing, alignment and
 * zero padding, header field types, names, object paths, signatures,
 * UTF-8, booleans, nesting depth, array lengths); anything else is
 * refused as a whole, never half read. tests/fuzz/fuzz-wire holds it to
 * that against GDBus's own parser.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-wire-private.h is internal to libbleio"
#endif

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  BLEIO_WIRE_METHOD_CALL = 1,
  BLEIO_WIRE_METHOD_RETURN = 2,
  BLEIO_WIRE_ERROR = 3,
  BLEIO_WIRE_SIGNAL = 4,
} BleioWireType;

/* The D-Bus limit on one message (2^27 bytes). */
#define BLEIO_WIRE_MAX_MESSAGE (128u * 1024u * 1024u)

/* A parsed message: every string points into the bytes given to
 * bleio_wire_parse() and lives as long as they do. Absent fields are
 * NULL (strings) or 0 (numbers); @signature is "" for an empty body. */
typedef struct {
  BleioWireType type;
  guint8 flags;
  gboolean big_endian;
  guint32 serial;
  guint32 reply_serial;
  guint32 n_fds;
  const char *path;
  const char *interface;
  const char *member;
  const char *error_name;
  const char *destination;
  const char *sender;
  const char *signature;
  const guint8 *body;
  gsize body_size;
} BleioWireMessage;

/* The size of the message that starts at @data, once its first 16 bytes
 * are there: 0 while fewer than 16 bytes are given, -1 when they cannot
 * start a message (wrong byte order mark, version, or a size over the
 * limit). For framing a byte stream; nothing else is checked. */
gssize    bleio_wire_frame_size (const guint8 *data,
                                 gsize         size);

/* Parses the header of the one message that is exactly @data[0..@size).
 * FALSE when it is not a valid message header (the body is checked by
 * the readers below, which refuse it as a whole). */
gboolean  bleio_wire_parse      (const guint8     *data,
                                 gsize             size,
                                 BleioWireMessage *message);

/* The header strings of the last message a reader accepted, by field
 * code (path 1, interface 2, member 3, error name 4, destination 6,
 * sender 7, signature 8): a stream of signals repeats them, and checking
 * them again (names, path syntax) was a third of a header's cost. Only
 * byte-for-byte the same string is taken unchecked, so a message is
 * accepted with a memo exactly when it is without. Zero-initialise;
 * strings of BLEIO_WIRE_MEMO_MAX bytes or more are not kept. */
#define BLEIO_WIRE_MEMO_MAX 128

typedef struct {
  guint8 length[10];            /* the string's length + 1; 0: none */
  char text[10][BLEIO_WIRE_MEMO_MAX];
} BleioWireMemo;

/* bleio_wire_parse() with @memo (or NULL): strings it holds are not
 * checked again, and those of a valid message are kept in it. */
gboolean  bleio_wire_parse_memo (const guint8     *data,
                                 gsize             size,
                                 BleioWireMemo    *memo,
                                 BleioWireMessage *message);

/* The whole body as a tuple (a new, sunk reference; "()" when empty), or
 * NULL when it is not valid for the message's signature. The general
 * way: the hot shapes have readers of their own below. */
GVariant *bleio_wire_read_body  (const BleioWireMessage *message);

/* PropertiesChanged, sa{sv}as: @interface points into the message,
 * @changed is a new a{sv}, @invalidated a new NULL-terminated array of
 * pointers into the message (g_free() it). FALSE (and nothing set) when
 * the body is not that or not valid. */
gboolean  bleio_wire_read_properties_changed (const BleioWireMessage  *message,
                                              const char            **interface,
                                              GVariant              **changed,
                                              const char           ***invalidated);

/* InterfacesAdded, oa{sa{sv}}: @object points into the message,
 * @interfaces is a new a{sa{sv}}. FALSE (and nothing set) otherwise. */
gboolean  bleio_wire_read_interfaces_added   (const BleioWireMessage  *message,
                                              const char            **object,
                                              GVariant              **interfaces);

G_END_DECLS
