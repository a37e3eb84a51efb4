/* SPDX-License-Identifier: MIT */
/*
 * What one PropertiesChanged(Value) signal costs to receive on each D-Bus
 * stack the library could move its receive path to (issue 20, item 2):
 * GDBus (today's), libdbus, sd-bus and a minimal parser of the project's
 * own. Not a comparison of libbleio with anything: groundwork for choosing.
 *
 *  1. Parse only: one real signal, as dbus-daemon delivered it from the
 *     simulator, parsed again and again from memory down to the Value
 *     bytes (GDBus: g_dbus_message_new_from_blob() and a GVariant lookup;
 *     libdbus: dbus_message_demarshal() and a DBusMessageIter walk; own:
 *     header fields and body read in place, no allocation; bleio-wire:
 *     the library's own reader, lib/bleio-wire.c, which validates fully
 *     and makes the a{sv} of GVariants the cache takes). sd-bus has no
 *     public call that parses a buffer, so it has no figure here.
 *  2. Receive: a receiver on each stack on its own connection to the
 *     private bus, a match rule for the characteristic's
 *     PropertiesChanged, and the simulator's NotifyBurst; each takes the
 *     Value bytes out of every signal and checks them. CPU per signal is
 *     getrusage of this process over the burst (the fixture's own GDBus
 *     connection has no match for these signals). The counting reader
 *     (no parsing at all) gives the floor and the delivery ceiling.
 *
 * Usage: bench-receive [--count N] [--parse N] [--reps N]
 */
#include "bench-common.h"
#include "bench-peripheral.h"
#include "bleio-wire-private.h"

#include <dbus/dbus.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  SimFixture *fx;
  char *chr;                    /* the characteristic's object path */
  char *rule;                   /* match rule for its PropertiesChanged */
  guint8 payload[20];
  guint count;
} Bench;

typedef struct {
  guint received;
  guint8 first;
  gsize len;
} Tally;

static void G_GNUC_NORETURN
fail (const char *what,
      const char *why)
{
  g_printerr ("bench-receive: %s: %s\n", what, why);
  exit (1);
}

static void
tally (Tally        *t,
       const guint8 *data,
       gsize         len)
{
  if (data != NULL && len == t->len && data[0] == t->first)
    t->received++;
}

static double
thread_cpu_now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- a minimal parser of the project's own ---- */

/* A little-endian or big-endian 32-bit value at @p. */
static guint32
get_u32 (const guint8 *p,
         gboolean      le)
{
  return le ? (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24
            : (guint32) p[3] | (guint32) p[2] << 8 | (guint32) p[1] << 16 | (guint32) p[0] << 24;
}

typedef struct {
  const guint8 *data;
  gsize len;
  gsize pos;                    /* relative to the start of the message */
  gboolean le;
  gboolean bad;
} Reader;

static gboolean
r_align (Reader *r,
         gsize   n)
{
  gsize to = (r->pos + n - 1) & ~(n - 1);

  if (to > r->len)
    return !(r->bad = TRUE);
  r->pos = to;
  return TRUE;
}

static gboolean
r_u32 (Reader  *r,
       guint32 *v)
{
  if (!r_align (r, 4) || r->pos + 4 > r->len)
    return !(r->bad = TRUE);
  *v = get_u32 (r->data + r->pos, r->le);
  r->pos += 4;
  return TRUE;
}

/* A string (s, o: u32 length; g: byte length), nul-terminated in place. */
static const char *
r_string (Reader *r,
          char    type)
{
  guint32 n;
  const char *s;

  if (type == 'g')
    {
      if (r->pos + 1 > r->len)
        return (r->bad = TRUE, NULL);
      n = r->data[r->pos++];
    }
  else if (!r_u32 (r, &n))
    return NULL;
  if (n >= r->len - r->pos || r->data[r->pos + n] != '\0')
    return (r->bad = TRUE, NULL);
  s = (const char *) r->data + r->pos;
  r->pos += n + 1;
  return s;
}

static gsize
type_align (char t)
{
  switch (t)
    {
    case 'y': case 'g': case 'v': return 1;
    case 'n': case 'q': return 2;
    case 'x': case 't': case 'd': case '(': case '{': return 8;
    default: return 4;
    }
}

/* The end of the single complete type at @sig, or NULL. */
static const char *
sig_next (const char *sig)
{
  int depth = 0;

  do
    {
      switch (*sig)
        {
        case '\0': return NULL;
        case 'a': sig++; continue;
        case '(': case '{': depth++; break;
        case ')': case '}': depth--; break;
        default: break;
        }
      sig++;
    }
  while (depth > 0);
  return sig;
}

/* Skips one value of the single complete type [@sig, @end). */
static void
r_skip (Reader     *r,
        const char *sig,
        const char *end,
        int         depth)
{
  if (depth > 32 || r->bad)
    {
      r->bad = TRUE;
      return;
    }
  switch (*sig)
    {
    case 'y':
      r->pos + 1 <= r->len ? (void) r->pos++ : (void) (r->bad = TRUE);
      return;
    case 'n': case 'q':
      if (r_align (r, 2) && r->pos + 2 <= r->len)
        r->pos += 2;
      else
        r->bad = TRUE;
      return;
    case 'b': case 'i': case 'u': case 'h':
      {
        guint32 v;

        r_u32 (r, &v);
        return;
      }
    case 'x': case 't': case 'd':
      if (r_align (r, 8) && r->pos + 8 <= r->len)
        r->pos += 8;
      else
        r->bad = TRUE;
      return;
    case 's': case 'o': case 'g':
      r_string (r, *sig);
      return;
    case 'v':
      {
        const char *inner = r_string (r, 'g');
        const char *inner_end = inner != NULL ? sig_next (inner) : NULL;

        if (inner_end == NULL || *inner_end != '\0')
          r->bad = TRUE;
        else
          r_skip (r, inner, inner_end, depth + 1);
        return;
      }
    case 'a':
      {
        guint32 n;
        gsize stop;

        if (!r_u32 (r, &n) || !r_align (r, type_align (sig[1])) || n > r->len - r->pos)
          {
            r->bad = TRUE;
            return;
          }
        stop = r->pos + n;
        while (r->pos < stop && !r->bad)
          r_skip (r, sig + 1, end, depth + 1);
        if (r->pos != stop)
          r->bad = TRUE;
        return;
      }
    case '(': case '{':
      {
        const char *member = sig + 1;

        r_align (r, 8);
        while (!r->bad && *member != ')' && *member != '}')
          {
            const char *next = sig_next (member);

            if (next == NULL)
              {
                r->bad = TRUE;
                return;
              }
            r_skip (r, member, next, depth + 1);
            member = next;
          }
        return;
      }
    default:
      r->bad = TRUE;
    }
}

/* Finds the Value bytes of a PropertiesChanged signal of
 * org.bluez.GattCharacteristic1 in @data (one whole message). FALSE when
 * it is another message or malformed; *@value NULL when it has no Value. */
static gboolean
own_parse (const guint8  *data,
           gsize          len,
           const guint8 **value,
           gsize         *value_len)
{
  Reader r = { data, len, 16, FALSE, FALSE };
  const char *member = NULL, *interface = NULL, *signature = NULL, *iface;
  guint32 fields_len, body_len, n;
  gsize fields_end, body, stop;

  *value = NULL;
  if (len < 16 || (data[0] != 'l' && data[0] != 'B') || data[1] != 4 || data[3] != 1)
    return FALSE;
  r.le = data[0] == 'l';
  body_len = get_u32 (data + 4, r.le);
  fields_len = get_u32 (data + 12, r.le);
  fields_end = 16 + (gsize) fields_len;
  body = (fields_end + 7) & ~(gsize) 7;
  if (fields_len > len || body > len || body_len != len - body)
    return FALSE;
  r.len = fields_end;
  while (r.pos < fields_end && !r.bad)
    {
      guint8 code;
      const char *sig;

      if (!r_align (&r, 8) || r.pos + 1 > fields_end)
        break;
      code = data[r.pos++];
      sig = r_string (&r, 'g');
      if (sig == NULL || sig[0] == '\0' || sig[1] != '\0')
        return FALSE;
      if (code == 2 && sig[0] == 's')
        interface = r_string (&r, 's');
      else if (code == 3 && sig[0] == 's')
        member = r_string (&r, 's');
      else if (code == 8 && sig[0] == 'g')
        signature = r_string (&r, 'g');
      else
        r_skip (&r, sig, sig + 1, 0);
    }
  if (r.bad || member == NULL || interface == NULL || signature == NULL ||
      strcmp (member, "PropertiesChanged") != 0 ||
      strcmp (interface, "org.freedesktop.DBus.Properties") != 0 ||
      strcmp (signature, "sa{sv}as") != 0)
    return FALSE;

  r.len = len;
  r.pos = body;
  iface = r_string (&r, 's');
  if (iface == NULL || strcmp (iface, "org.bluez.GattCharacteristic1") != 0 ||
      !r_u32 (&r, &n) || !r_align (&r, 8) || n > len - r.pos)
    return FALSE;
  stop = r.pos + n;
  while (r.pos < stop && !r.bad)
    {
      const char *key, *sig;

      r_align (&r, 8);
      key = r_string (&r, 's');
      sig = r_string (&r, 'g');
      if (key == NULL || sig == NULL)
        return FALSE;
      if (strcmp (key, "Value") == 0 && strcmp (sig, "ay") == 0)
        {
          guint32 bytes;

          if (!r_u32 (&r, &bytes) || bytes > len - r.pos)
            return FALSE;
          *value = data + r.pos;
          *value_len = bytes;
          r.pos += bytes;
        }
      else
        {
          const char *end = sig_next (sig);

          if (end == NULL || *end != '\0')
            return FALSE;
          r_skip (&r, sig, end, 0);
        }
    }
  /* the invalidated names (as) are not needed */
  return !r.bad && r.pos == stop;
}

/* ---- parse only ---- */

static gboolean
gdbus_parse (const guint8  *blob,
             gsize          len,
             Tally         *t)
{
  g_autoptr(GDBusMessage) message = g_dbus_message_new_from_blob ((guchar *) blob, len,
                                                                  G_DBUS_CAPABILITY_FLAGS_NONE,
                                                                  NULL);
  g_autoptr(GVariant) changed = NULL;
  g_autoptr(GVariant) value = NULL;
  GVariant *body;
  gsize n = 0;
  const guint8 *data;

  if (message == NULL || (body = g_dbus_message_get_body (message)) == NULL ||
      !g_variant_is_of_type (body, G_VARIANT_TYPE ("(sa{sv}as)")))
    return FALSE;
  changed = g_variant_get_child_value (body, 1);
  value = g_variant_lookup_value (changed, "Value", G_VARIANT_TYPE_BYTESTRING);
  if (value == NULL)
    return FALSE;
  data = g_variant_get_fixed_array (value, &n, 1);
  tally (t, data, n);
  return TRUE;
}

/* The Value bytes of a libdbus PropertiesChanged message. */
static gboolean
libdbus_value (DBusMessage   *message,
               const guint8 **value,
               int           *value_len)
{
  DBusMessageIter iter, dict, entry, variant, bytes;
  const char *iface, *key;

  *value = NULL;
  if (!dbus_message_is_signal (message, DBUS_INTERFACE_PROPERTIES, "PropertiesChanged") ||
      !dbus_message_has_signature (message, "sa{sv}as") ||
      !dbus_message_iter_init (message, &iter))
    return FALSE;
  dbus_message_iter_get_basic (&iter, &iface);
  dbus_message_iter_next (&iter);
  dbus_message_iter_recurse (&iter, &dict);
  while (dbus_message_iter_get_arg_type (&dict) == DBUS_TYPE_DICT_ENTRY)
    {
      dbus_message_iter_recurse (&dict, &entry);
      dbus_message_iter_get_basic (&entry, &key);
      dbus_message_iter_next (&entry);
      dbus_message_iter_recurse (&entry, &variant);
      if (strcmp (key, "Value") == 0 &&
          dbus_message_iter_get_arg_type (&variant) == DBUS_TYPE_ARRAY &&
          dbus_message_iter_get_element_type (&variant) == DBUS_TYPE_BYTE)
        {
          dbus_message_iter_recurse (&variant, &bytes);
          dbus_message_iter_get_fixed_array (&bytes, value, value_len);
        }
      dbus_message_iter_next (&dict);
    }
  return TRUE;
}

static gboolean
libdbus_parse (const guint8 *blob,
               gsize         len,
               Tally        *t)
{
  DBusMessage *message = dbus_message_demarshal ((const char *) blob, (int) len, NULL);
  const guint8 *value;
  int n = 0;
  gboolean ok;

  if (message == NULL)
    return FALSE;
  ok = libdbus_value (message, &value, &n) && value != NULL;
  if (ok)
    tally (t, value, (gsize) n);
  dbus_message_unref (message);
  return ok;
}

static gboolean
own_parse_tally (const guint8 *blob,
                 gsize         len,
                 Tally        *t)
{
  const guint8 *value;
  gsize n = 0;

  if (!own_parse (blob, len, &value, &n) || value == NULL)
    return FALSE;
  tally (t, value, n);
  return TRUE;
}

/* The library's reader: the header, then PropertiesChanged's values as
 * the cache takes them (an a{sv} of GVariants), then the Value. */
static gboolean
wire_parse_tally (const guint8 *blob,
                  gsize         len,
                  Tally        *t)
{
  BleioWireMessage message;
  g_autoptr(GVariant) changed = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autofree const char **invalidated = NULL;
  const char *interface;
  const guint8 *data;
  gsize n = 0;

  if (!bleio_wire_parse (blob, len, &message) ||
      !bleio_wire_read_properties_changed (&message, &interface, &changed, &invalidated))
    return FALSE;
  value = g_variant_lookup_value (changed, "Value", G_VARIANT_TYPE_BYTESTRING);
  if (value == NULL)
    return FALSE;
  data = g_variant_get_fixed_array (value, &n, 1);
  tally (t, data, n);
  return TRUE;
}

/* Thread CPU nanoseconds per parse of @blob by @parse, best of @reps. */
static double
parse_cost (const char *name,
            gboolean  (*parse) (const guint8 *, gsize, Tally *),
            const guint8 *blob,
            gsize         len,
            const Bench  *b,
            guint         iterations,
            guint         reps)
{
  double best = -1;

  for (guint r = 0; r < reps; r++)
    {
      Tally t = { 0, b->payload[0], sizeof b->payload };
      double c0 = thread_cpu_now ();

      for (guint i = 0; i < iterations; i++)
        if (!parse (blob, len, &t))
          fail (name, "could not parse the signal");
      c0 = thread_cpu_now () - c0;
      if (t.received != iterations)
        fail (name, "the Value bytes were wrong");
      if (best < 0 || c0 < best)
        best = c0;
    }
  return best * 1e9 / iterations;
}

/* ---- receivers on a real bus ---- */

static void
burst (Bench *b)
{
  g_autoptr(GError) error = NULL;

  if (!sim_fixture_notify_burst (b->fx, b->chr, b->payload, sizeof b->payload, b->count,
                                 &error))
    fail ("NotifyBurst", error->message);
}

static void
notify_on (Bench    *b,
           gboolean  on)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = sim_fixture_call_bluez (b->fx, b->chr, BENCH_CHR1,
                                                      on ? "StartNotify" : "StopNotify",
                                                      NULL, &error);

  if (reply == NULL)
    fail (on ? "StartNotify" : "StopNotify", error->message);
  /* The read is answered behind Notifying's change: a match added after
   * this does not see that signal. */
  if (!sim_fixture_wait_property (b->fx, b->chr, BENCH_CHR1, "Notifying",
                                  g_variant_new_boolean (on), 30000))
    fail (on ? "StartNotify" : "StopNotify", "Notifying did not change");
}

typedef struct {
  double rate;
  double cpu;                   /* seconds per signal */
} Received;

static Received
finish (const Bench *b,
        const char  *name,
        guint        received,
        double       seconds,
        double       cpu)
{
  Received r = { b->count / seconds, cpu / b->count };

  if (received < b->count)
    {
      g_autofree char *why = g_strdup_printf ("%u of %u signals", received, b->count);

      fail (name, why);
    }
  return r;
}

/* GDBus: a signal subscription, as the library and the raw side do. */
static void
on_gdbus_signal (GDBusConnection *connection,
                 const char      *sender,
                 const char      *path,
                 const char      *interface,
                 const char      *signal,
                 GVariant        *params,
                 gpointer         user_data)
{
  g_autoptr(GVariant) changed = g_variant_get_child_value (params, 1);
  g_autoptr(GVariant) value = g_variant_lookup_value (changed, "Value",
                                                      G_VARIANT_TYPE_BYTESTRING);
  const guint8 *data;
  gsize n = 0;

  if (value == NULL)
    return;
  data = g_variant_get_fixed_array (value, &n, 1);
  tally (user_data, data, n);
}

static gboolean
wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static Received
receive_gdbus (Bench *b)
{
  GDBusConnection *connection = bench_connection_new (b->fx);
  Tally t = { 0, b->payload[0], sizeof b->payload };
  gint64 deadline = g_get_monotonic_time () + BENCH_WAIT_USEC;
  double start, c0;
  guint id, waker;
  Received r;

  id = g_dbus_connection_signal_subscribe (connection, "org.bluez", BENCH_PROPS,
                                           "PropertiesChanged", b->chr, NULL,
                                           G_DBUS_SIGNAL_FLAGS_NONE, on_gdbus_signal, &t, NULL);
  notify_on (b, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  /* the deadline holds when nothing comes */
  waker = g_timeout_add (100, wake, NULL);
  c0 = bench_cpu_now ();
  start = bench_now ();
  burst (b);
  while (t.received < b->count && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  r = finish (b, "GDBus", t.received, bench_now () - start, bench_cpu_now () - c0);
  g_source_remove (waker);
  g_dbus_connection_signal_unsubscribe (connection, id);
  bench_connection_free (connection);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  notify_on (b, FALSE);
  return r;
}

/* libdbus: read, pop, walk; no dispatching (the cheapest way it offers). */
static Received
receive_libdbus (Bench *b)
{
  DBusError error = DBUS_ERROR_INIT;
  DBusConnection *connection = dbus_connection_open_private (sim_fixture_get_address (b->fx),
                                                             &error);
  Tally t = { 0, b->payload[0], sizeof b->payload };
  gint64 deadline = g_get_monotonic_time () + BENCH_WAIT_USEC;
  double start, c0;
  Received r;

  if (connection == NULL || !dbus_bus_register (connection, &error))
    fail ("libdbus", error.message);
  dbus_bus_add_match (connection, b->rule, &error);
  if (dbus_error_is_set (&error))
    fail ("libdbus AddMatch", error.message);
  notify_on (b, TRUE);
  c0 = bench_cpu_now ();
  start = bench_now ();
  burst (b);
  while (t.received < b->count && g_get_monotonic_time () < deadline)
    {
      DBusMessage *message;

      if (!dbus_connection_read_write (connection, 100))
        break;
      while ((message = dbus_connection_pop_message (connection)) != NULL)
        {
          const guint8 *value;
          int n = 0;

          if (libdbus_value (message, &value, &n) && value != NULL)
            tally (&t, value, (gsize) n);
          dbus_message_unref (message);
        }
    }
  r = finish (b, "libdbus", t.received, bench_now () - start, bench_cpu_now () - c0);
  dbus_connection_close (connection);
  dbus_connection_unref (connection);
  notify_on (b, FALSE);
  return r;
}

/* sd-bus: a match with a callback, sd_bus_process() and sd_bus_wait(). */
static int
on_sdbus_signal (sd_bus_message *m,
                 void           *user_data,
                 sd_bus_error   *ret_error)
{
  const char *iface, *key;
  const void *value;
  size_t n = 0;

  if (sd_bus_message_read (m, "s", &iface) < 0 ||
      sd_bus_message_enter_container (m, 'a', "{sv}") < 0)
    return 0;
  while (sd_bus_message_enter_container (m, 'e', "sv") > 0)
    {
      if (sd_bus_message_read (m, "s", &key) < 0)
        return 0;
      if (strcmp (key, "Value") == 0 && sd_bus_message_enter_container (m, 'v', "ay") > 0)
        {
          if (sd_bus_message_read_array (m, 'y', &value, &n) >= 0)
            tally (user_data, value, n);
          sd_bus_message_exit_container (m);
        }
      else
        sd_bus_message_skip (m, "v");
      sd_bus_message_exit_container (m);
    }
  return 0;
}

static Received
receive_sdbus (Bench *b)
{
  sd_bus *bus = NULL;
  Tally t = { 0, b->payload[0], sizeof b->payload };
  gint64 deadline = g_get_monotonic_time () + BENCH_WAIT_USEC;
  double start, c0;
  Received r;
  int e;

  if ((e = sd_bus_new (&bus)) < 0 ||
      (e = sd_bus_set_address (bus, sim_fixture_get_address (b->fx))) < 0 ||
      (e = sd_bus_set_bus_client (bus, 1)) < 0 || (e = sd_bus_start (bus)) < 0 ||
      (e = sd_bus_add_match (bus, NULL, b->rule, on_sdbus_signal, &t)) < 0)
    fail ("sd-bus", g_strerror (-e));
  notify_on (b, TRUE);
  c0 = bench_cpu_now ();
  start = bench_now ();
  burst (b);
  while (t.received < b->count && g_get_monotonic_time () < deadline)
    {
      e = sd_bus_process (bus, NULL);
      if (e < 0)
        fail ("sd_bus_process", g_strerror (-e));
      if (e == 0)
        sd_bus_wait (bus, 100000);
    }
  r = finish (b, "sd-bus", t.received, bench_now () - start, bench_cpu_now () - c0);
  sd_bus_flush_close_unref (bus);
  notify_on (b, FALSE);
  return r;
}

/* The own parser on a plain socket: the counting reader's framing, and
 * every signal parsed down to its Value. */
static Received
receive_own (Bench    *b,
             gboolean  parse)
{
  const char *rules[] = { b->rule, NULL };
  BenchCounter *counter;
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  Tally t = { 0, b->payload[0], sizeof b->payload };
  gint64 deadline = g_get_monotonic_time () + BENCH_WAIT_USEC;
  guint replies = 0, signals = 0;
  double start = 0, c0 = 0;
  int fd;
  guint wanted;
  Received r;

  /* before the match: Notifying's change is not a notification to count */
  notify_on (b, TRUE);
  counter = bench_counter_connect (b->fx, rules);
  fd = counter->fd;
  wanted = counter->replies;
  g_free (counter);
  while ((parse ? t.received : signals) < b->count && g_get_monotonic_time () < deadline)
    {
      guint8 chunk[65536];
      struct pollfd pfd = { fd, POLLIN, 0 };
      ssize_t n;

      if (poll (&pfd, 1, 100) <= 0)
        continue;
      n = read (fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      g_byte_array_append (buf, chunk, (guint) n);
      for (gsize at = 0;;)
        {
          gsize len;

          if (buf->len - at < 16)
            {
              g_byte_array_remove_range (buf, 0, (guint) at);
              break;
            }
          len = 16 + ((get_u32 (buf->data + at + 12, buf->data[at] == 'l') + 7) & ~7u) +
                get_u32 (buf->data + at + 4, buf->data[at] == 'l');
          if (buf->len - at < len)
            {
              g_byte_array_remove_range (buf, 0, (guint) at);
              break;
            }
          if (buf->data[at + 1] == 2 && ++replies == wanted)
            {
              c0 = bench_cpu_now ();
              start = bench_now ();
              burst (b);
            }
          else if (buf->data[at + 1] == 4 && replies >= wanted)
            {
              signals++;
              if (parse)
                own_parse_tally (buf->data + at, len, &t);
            }
          at += len;
        }
    }
  r = finish (b, parse ? "own parser" : "counter", parse ? t.received : signals,
              bench_now () - start, bench_cpu_now () - c0);
  close (fd);
  notify_on (b, FALSE);
  return r;
}

/* One real signal's bytes as dbus-daemon delivers them. */
static GBytes *
capture_signal (Bench *b)
{
  const char *rules[] = { b->rule, NULL };
  BenchCounter *counter = bench_counter_connect (b->fx, rules);
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  gint64 deadline = g_get_monotonic_time () + BENCH_WAIT_USEC;
  guint replies = 0;
  int fd = counter->fd;
  guint wanted = counter->replies;
  guint saved = b->count;
  GBytes *signal = NULL;

  g_free (counter);
  notify_on (b, TRUE);
  while (signal == NULL && g_get_monotonic_time () < deadline)
    {
      guint8 chunk[4096];
      struct pollfd pfd = { fd, POLLIN, 0 };
      ssize_t n;
      gsize len;

      if (poll (&pfd, 1, 100) <= 0)
        continue;
      if ((n = read (fd, chunk, sizeof chunk)) <= 0)
        break;
      g_byte_array_append (buf, chunk, (guint) n);
      while (signal == NULL && buf->len >= 16 &&
             buf->len >= (len = 16 + ((get_u32 (buf->data + 12, buf->data[0] == 'l') + 7) & ~7u) +
                                get_u32 (buf->data + 4, buf->data[0] == 'l')))
        {
          if (buf->data[1] == 2 && ++replies == wanted)
            {
              b->count = 1;
              burst (b);
              b->count = saved;
            }
          else if (buf->data[1] == 4 && replies >= wanted)
            {
              /* StartNotify's Notifying change comes too: keep a Value one,
               * as libdbus (the reference here) reads it */
              DBusMessage *message = dbus_message_demarshal ((const char *) buf->data,
                                                             (int) len, NULL);
              const guint8 *value = NULL;
              int value_len = 0;

              if (message != NULL && libdbus_value (message, &value, &value_len) &&
                  value != NULL)
                signal = g_bytes_new (buf->data, len);
              if (message != NULL)
                dbus_message_unref (message);
            }
          g_byte_array_remove_range (buf, 0, (guint) len);
        }
    }
  close (fd);
  notify_on (b, FALSE);
  if (signal == NULL)
    fail ("capture", "no signal came");
  return signal;
}

int
main (int    argc,
      char **argv)
{
  Bench b = { 0 };
  guint parse_count = 200000;
  guint reps = 3;
  g_autoptr(GBytes) signal = NULL;
  const guint8 *blob;
  gsize len;
  Received best[5];
  static const char * const names[] = { "GDBus", "libdbus", "sd-bus", "own parser", "counter" };

  g_set_prgname ("bench-receive");
  b.count = 20000;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--count") == 0 && i + 1 < argc)
        b.count = (guint) strtoul (argv[++i], NULL, 10);
      else if (strcmp (argv[i], "--parse") == 0 && i + 1 < argc)
        parse_count = (guint) strtoul (argv[++i], NULL, 10);
      else if (strcmp (argv[i], "--reps") == 0 && i + 1 < argc)
        reps = (guint) strtoul (argv[++i], NULL, 10);
      else
        {
          g_printerr ("usage: bench-receive [--count N] [--parse N] [--reps N]\n");
          return 2;
        }
    }
  if (b.count == 0 || parse_count == 0 || reps == 0)
    {
      g_printerr ("bench-receive: counts must be positive\n");
      return 2;
    }
  for (gsize i = 0; i < sizeof b.payload; i++)
    b.payload[i] = (guint8) (0x40 + i);

  b.fx = bench_sim_new (BENCH_PERIPH_SCENARIO);
  bench_sim_call (b.fx, "SetTemporaryTimeout", g_variant_new ("(u)", 3600000));
  {
    g_autofree char *device = bench_ensure_device (b.fx, BENCH_PERIPH_ADDRESS);
    g_autoptr(GError) error = NULL;

    if (!sim_fixture_connect_device (b.fx, device, &error))
      fail ("connecting", error->message);
    b.chr = bench_find_gatt_path (b.fx, device, BENCH_CHR1, BENCH_CHR_NOTIFY_SIGNAL);
  }
  b.rule = g_strdup_printf ("type='signal',sender='org.bluez',path='%s',"
                            "interface='" BENCH_PROPS "',member='PropertiesChanged'", b.chr);

  signal = capture_signal (&b);
  blob = g_bytes_get_data (signal, &len);
  g_print ("\nParse only: one PropertiesChanged(Value, 20 B) of %zu bytes from dbus-daemon, "
           "%u times, thread CPU, best of %u\n", len, parse_count, reps);
  g_print ("%-12s %12s\n", "stack", "ns/signal");
  g_print ("%-12s %12.0f\n", "GDBus", parse_cost ("GDBus", gdbus_parse, blob, len, &b,
                                                    parse_count, reps));
  g_print ("%-12s %12.0f\n", "libdbus", parse_cost ("libdbus", libdbus_parse, blob, len, &b,
                                                      parse_count, reps));
  g_print ("%-12s %12s\n", "sd-bus", "-");
  g_print ("%-12s %12.0f\n", "own parser", parse_cost ("own", own_parse_tally, blob, len, &b,
                                                         parse_count, reps));
  g_print ("%-12s %12.0f\n", "bleio-wire", parse_cost ("bleio-wire", wire_parse_tally, blob, len,
                                                         &b, parse_count, reps));

  for (guint i = 0; i < G_N_ELEMENTS (best); i++)
    best[i] = (Received) { -1, -1 };
  for (guint r = 0; r < reps; r++)
    {
      Received got[5];

      got[0] = receive_gdbus (&b);
      got[1] = receive_libdbus (&b);
      got[2] = receive_sdbus (&b);
      got[3] = receive_own (&b, TRUE);
      got[4] = receive_own (&b, FALSE);
      for (guint i = 0; i < G_N_ELEMENTS (best); i++)
        {
          if (got[i].rate > best[i].rate)
            best[i].rate = got[i].rate;
          if (best[i].cpu < 0 || got[i].cpu < best[i].cpu)
            best[i].cpu = got[i].cpu;
        }
    }
  g_print ("\nReceive: %u signals from NotifyBurst on a private bus, per stack; "
           "rate best and CPU per signal lowest of %u (getrusage, this process)\n",
           b.count, reps);
  g_print ("%-12s %12s %14s\n", "stack", "signals/s", "CPU us/signal");
  for (guint i = 0; i < G_N_ELEMENTS (best); i++)
    g_print ("%-12s %12.0f %14.2f\n", names[i], best[i].rate, best[i].cpu * 1e6);

  g_free (b.chr);
  g_free (b.rule);
  sim_fixture_free (b.fx);
  return 0;
}
