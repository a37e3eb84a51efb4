/* SPDX-License-Identifier: MIT */
/*
 * The library's own bus connection for receiving; see
 * bleio-reader-private.h. The handshake is done blocking (bounded by the
 * socket's timeout) on the thread that creates the reader: the bus is
 * local and already answered the application's connection, and nothing
 * else runs on the client's worker before its view is loaded.
 */
#include "bleio-reader-private.h"
#include "bleio-private.h"

#include <string.h>
#include <unistd.h>

/* The first read buffer; it grows to the largest message seen. Large
 * enough for a burst of small signals in one recv(). */
#define READ_CHUNK (64 * 1024)
/* recv() calls per wake-up before the context gets a turn. */
#define READS_PER_WAKEUP 16

struct _BleioReader {
  GSocket *socket;
  GSource *source;
  BleioReaderFunc func;
  gpointer user_data;
  guint8 *buf;
  gsize len;                    /* bytes in @buf */
  gsize cap;
  guint32 serial;               /* the last one sent */
  char *unique_name;
  gboolean closed;
  BleioWireMemo memo;           /* the names of the last message read */
};

static void
set_failed (GError    **error,
            const char *what,
            GError     *cause)
{
  g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_BLUEZ_UNAVAILABLE,
               "The library's own bus connection failed (%s%s%s); it "
               "receives through GDBus instead",
               what, cause != NULL ? ": " : "", cause != NULL ? cause->message : "");
}

static gboolean
send_all (BleioReader  *reader,
          const guint8 *data,
          gsize         size,
          GError      **error)
{
  while (size > 0)
    {
      gssize n = g_socket_send_with_blocking (reader->socket, (const char *) data, size,
                                              TRUE, NULL, error);

      if (n <= 0)
        {
          if (n == 0)
            g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "closed");
          return FALSE;
        }
      data += n;
      size -= n;
    }
  return TRUE;
}

static gboolean
send_message (BleioReader  *reader,
              GDBusMessage *message,
              GError      **error)
{
  g_autofree guchar *blob = NULL;
  gsize size;

  g_dbus_message_set_serial (message, ++reader->serial);
  blob = g_dbus_message_to_blob (message, &size, G_DBUS_CAPABILITY_FLAGS_NONE, error);
  return blob != NULL && send_all (reader, blob, size, error);
}

static GDBusMessage *
new_call (const char *destination,
          const char *path,
          const char *interface,
          const char *member,
          GVariant   *body)
{
  GDBusMessage *message = g_dbus_message_new_method_call (destination, path, interface, member);

  if (body != NULL)
    g_dbus_message_set_body (message, body);
  return message;
}

/* Reads what is there (or, @blocking, waits for something): the bytes
 * read, 0 at the end of the stream, -1 with @error (WOULD_BLOCK when
 * nothing is there). */
static gssize
receive_some (BleioReader *reader,
              gboolean     blocking,
              GError     **error)
{
  gssize n;

  if (reader->len == reader->cap)
    {
      reader->cap *= 2;
      reader->buf = g_realloc (reader->buf, reader->cap);
    }
  n = g_socket_receive_with_blocking (reader->socket, (char *) reader->buf + reader->len,
                                      reader->cap - reader->len, blocking, NULL, error);
  if (n > 0)
    reader->len += n;
  return n;
}

/* The size of the message at *@at when it is all in the buffer, 0 when
 * more bytes are needed (then the buffer can hold it: what is before *@at
 * is dropped and *@at becomes 0 if need be), -1 when the stream is not
 * D-Bus. */
static gssize
complete_message (BleioReader *reader,
                  gsize       *at)
{
  gssize size = bleio_wire_frame_size (reader->buf + *at, reader->len - *at);

  if (size <= 0 || (gsize) size <= reader->len - *at)
    return size;
  if ((gsize) size > reader->cap - *at)
    {
      memmove (reader->buf, reader->buf + *at, reader->len - *at);
      reader->len -= *at;
      *at = 0;
      while (reader->cap < (gsize) size)
        reader->cap *= 2;
      reader->buf = g_realloc (reader->buf, reader->cap);
    }
  return 0;
}

static void
consume (BleioReader *reader,
         gsize        used)
{
  memmove (reader->buf, reader->buf + used, reader->len - used);
  reader->len -= used;
}

/* ---- handshake ------------------------------------------------------------ */

static gboolean
authenticate (BleioReader *reader,
              GError     **error)
{
  g_autofree char *uid = g_strdup_printf ("%u", (unsigned) getuid ());
  g_autoptr(GString) line = g_string_new ("");
  char *end;

  /* The credentials byte, then EXTERNAL with the uid in hex. */
  g_string_append_c (line, '\0');
  g_string_append (line, "AUTH EXTERNAL ");
  for (const char *c = uid; *c != '\0'; c++)
    g_string_append_printf (line, "%02x", (unsigned) (guchar) *c);
  g_string_append (line, "\r\n");
  if (!send_all (reader, (const guint8 *) line->str, line->len, error))
    return FALSE;
  /* The server says one line and waits for ours. */
  while ((end = memchr (reader->buf, '\n', reader->len)) == NULL)
    {
      gssize n;

      if (reader->len > 512)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "no SASL reply");
          return FALSE;
        }
      n = receive_some (reader, TRUE, error);
      if (n <= 0)
        {
          if (n == 0)
            g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "closed");
          return FALSE;
        }
    }
  if (reader->len < 3 || memcmp (reader->buf, "OK ", 3) != 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                           "SASL EXTERNAL refused");
      return FALSE;
    }
  consume (reader, end + 1 - (char *) reader->buf);
  return send_all (reader, (const guint8 *) "BEGIN\r\n", 7, error);
}

/* Waits for the replies to the calls up to serial @last: Hello's gives
 * the unique name; an error to any of them fails the handshake. Other
 * messages (NameAcquired) are dropped: nothing can be subscribed yet. */
static gboolean
await_replies (BleioReader *reader,
               guint32      last,
               GError     **error)
{
  guint32 answered = 0;

  while (answered < last)
    {
      gsize at = 0;
      gssize size = complete_message (reader, &at);
      BleioWireMessage message;

      if (size < 0)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "not D-Bus");
          return FALSE;
        }
      if (size == 0)
        {
          gssize n = receive_some (reader, TRUE, error);

          if (n <= 0)
            {
              if (n == 0)
                g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "closed");
              return FALSE;
            }
          continue;
        }
      if (bleio_wire_parse (reader->buf, size, &message) &&
          (message.type == BLEIO_WIRE_METHOD_RETURN || message.type == BLEIO_WIRE_ERROR) &&
          message.reply_serial >= 1 && message.reply_serial <= last &&
          g_strcmp0 (message.sender, "org.freedesktop.DBus") == 0)
        {
          if (message.type == BLEIO_WIRE_ERROR)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", message.error_name);
              return FALSE;
            }
          if (message.reply_serial == 1)
            {
              g_autoptr(GVariant) body = bleio_wire_read_body (&message);

              if (body == NULL || !g_variant_is_of_type (body, G_VARIANT_TYPE ("(s)")))
                {
                  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                       "Hello's reply is not a name");
                  return FALSE;
                }
              g_variant_get (body, "(s)", &reader->unique_name);
            }
          answered++;
        }
      consume (reader, size);
    }
  return reader->unique_name != NULL;
}

/* ---- receiving ------------------------------------------------------------ */

static void
close_reader (BleioReader *reader)
{
  reader->closed = TRUE;
  g_socket_close (reader->socket, NULL);
  reader->func (NULL, reader->user_data);
}

/* Hands every complete message in the buffer over; FALSE when the stream
 * broke the protocol. */
static gboolean
dispatch (BleioReader *reader)
{
  gsize at = 0;

  for (;;)
    {
      gssize size = complete_message (reader, &at);
      BleioWireMessage message;

      if (size < 0)
        return FALSE;
      if (size == 0)
        break;
      /* The bus checked the message; one this reader reads more
       * strictly than the bus does is dropped, as GDBus's path drops a
       * signal whose arguments are not what they should be. */
      if (bleio_wire_parse_memo (reader->buf + at, size, &reader->memo, &message))
        reader->func (&message, reader->user_data);
      at += size;
      if (reader->closed)
        return TRUE;
    }
  if (at > 0)
    consume (reader, at);
  /* A large reply (GetManagedObjects of thousands of objects) grew the
   * buffer; it is not kept for the small signals that follow. */
  if (reader->len <= READ_CHUNK && reader->cap > 4 * READ_CHUNK)
    {
      reader->cap = READ_CHUNK;
      reader->buf = g_realloc (reader->buf, reader->cap);
    }
  return TRUE;
}

static gboolean
readable_cb (GSocket      *socket,
             GIOCondition  condition,
             gpointer      user_data)
{
  BleioReader *reader = user_data;

  for (guint i = 0; i < READS_PER_WAKEUP; i++)
    {
      g_autoptr(GError) error = NULL;
      gssize n = receive_some (reader, FALSE, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;
      if (n <= 0)
        {
          g_debug ("own bus connection: %s", n == 0 ? "closed by the bus" : error->message);
          break;
        }
      if (!dispatch (reader))
        {
          g_debug ("own bus connection: the bus sent something that is not D-Bus");
          break;
        }
      if (reader->closed)
        return G_SOURCE_REMOVE;
      if (i + 1 == READS_PER_WAKEUP)
        return G_SOURCE_CONTINUE;       /* more later: the context gets a turn */
    }
  /* The stream ended or broke. */
  g_source_destroy (reader->source);
  g_clear_pointer (&reader->source, g_source_unref);
  close_reader (reader);
  return G_SOURCE_REMOVE;
}

/* ---- public --------------------------------------------------------------- */

static GSocket *
connect_like (GDBusConnection *connection,
              guint            timeout_msec,
              GError         **error)
{
  GIOStream *stream = g_dbus_connection_get_stream (connection);
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GError) local = NULL;

  if (g_dbus_connection_get_unique_name (connection) == NULL)
    {
      set_failed (error, "not a message bus connection", NULL);
      return NULL;
    }
  if (!G_IS_SOCKET_CONNECTION (stream))
    {
      set_failed (error, "the bus is not reached through a socket", NULL);
      return NULL;
    }
  address = g_socket_connection_get_remote_address (G_SOCKET_CONNECTION (stream), &local);
  if (address == NULL || !G_IS_UNIX_SOCKET_ADDRESS (address))
    {
      set_failed (error, "the bus is not on a Unix socket", local);
      return NULL;
    }
  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                         &local);
  if (socket == NULL)
    {
      set_failed (error, "socket", local);
      return NULL;
    }
  g_socket_set_timeout (socket, (timeout_msec + 999) / 1000);
  if (!g_socket_connect (socket, address, NULL, &local))
    {
      set_failed (error, "connect", local);
      return NULL;
    }
  return g_steal_pointer (&socket);
}

BleioReader *
bleio_reader_new (GDBusConnection    *connection,
                  const char * const *rules,
                  guint               timeout_msec,
                  GMainContext       *context,
                  BleioReaderFunc     func,
                  gpointer            user_data,
                  GError            **error)
{
  g_autoptr(GError) local = NULL;
  GSocket *socket = connect_like (connection, timeout_msec, error);
  BleioReader *reader;
  gboolean ok;

  if (socket == NULL)
    return NULL;
  reader = g_new0 (BleioReader, 1);
  reader->socket = socket;
  reader->func = func;
  reader->user_data = user_data;
  reader->cap = READ_CHUNK;
  reader->buf = g_malloc (reader->cap);

  ok = authenticate (reader, &local);
  if (ok)
    {
      g_autoptr(GDBusMessage) hello = new_call ("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                "org.freedesktop.DBus", "Hello", NULL);

      ok = send_message (reader, hello, &local);
    }
  for (guint i = 0; ok && rules[i] != NULL; i++)
    {
      g_autoptr(GDBusMessage) match = new_call ("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                "org.freedesktop.DBus", "AddMatch",
                                                g_variant_new ("(s)", rules[i]));

      ok = send_message (reader, match, &local);
    }
  /* The rules are in place before any call sent after them is read by
   * the bus, so a reply to a later call comes behind every signal the
   * rules let in before it. */
  if (ok)
    ok = await_replies (reader, reader->serial, &local);
  if (!ok)
    {
      set_failed (error, "handshake", local);
      reader->closed = TRUE;
      bleio_reader_free (reader);
      return NULL;
    }
  g_debug ("own bus connection %s", reader->unique_name);
  /* With a timeout set, a socket source fires when it passes and the
   * next read fails: an idle bus is not a broken one. */
  g_socket_set_timeout (socket, 0);
  reader->source = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (reader->source, G_SOURCE_FUNC (readable_cb), reader, NULL);
  g_source_set_static_name (reader->source, "[bleio] own bus connection");
  g_source_attach (reader->source, context);
  /* Messages read behind the last reply stay in the buffer: they are
   * handed over, in order, at the next wake-up, which the reply to the
   * first call sent from now on brings at the latest. */
  return reader;
}

guint32
bleio_reader_call (BleioReader *reader,
                   const char  *destination,
                   const char  *path,
                   const char  *interface,
                   const char  *member,
                   GVariant    *body)
{
  g_autoptr(GDBusMessage) call = new_call (destination, path, interface, member, body);
  g_autoptr(GError) error = NULL;

  if (reader->closed)
    return 0;
  if (!send_message (reader, call, &error))
    {
      g_debug ("own bus connection: %s.%s not sent: %s", interface, member, error->message);
      return 0;
    }
  return reader->serial;
}

const char *
bleio_reader_get_unique_name (BleioReader *reader)
{
  return reader->unique_name;
}

void
bleio_reader_free (BleioReader *reader)
{
  if (reader == NULL)
    return;
  if (reader->source != NULL)
    {
      g_source_destroy (reader->source);
      g_source_unref (reader->source);
    }
  if (!reader->closed)
    g_socket_close (reader->socket, NULL);
  g_object_unref (reader->socket);
  g_free (reader->unique_name);
  g_free (reader->buf);
  g_free (reader);
}
