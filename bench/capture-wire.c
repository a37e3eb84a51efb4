/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpus of tests/fuzz/fuzz-wire: real message bytes as
 * dbus-daemon delivers them from bleio-sim to a plain socket (the
 * framing the library's own reader will see), over one client's life:
 * the bus's replies, a GetManagedObjects reply, discovery, connect and
 * service resolution, notifications, an error reply, disconnect and
 * removal. At most a few messages of each kind are kept.
 *
 * Usage: BLEIO_SIM=build/tools/bleio-sim/bleio-sim build/bench/capture-wire DIR
 * (the files are committed; rerun only to refresh the seeds).
 */
#include "bench-common.h"
#include "bench-peripheral.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#define KEEP_PER_KIND 5

typedef struct {
  int fd;
  guint32 serial;
  GByteArray *buf;
  GHashTable *kinds;            /* kind -> count kept */
  const char *dir;
  guint written;
} Capture;

static void G_GNUC_NORETURN
die (const char *what,
     const char *why)
{
  g_printerr ("capture-wire: %s: %s\n", what, why);
  exit (1);
}

static void
send_call (Capture    *c,
           const char *path,
           const char *interface,
           const char *member,
           GVariant   *body)
{
  g_autoptr(GDBusMessage) call = g_dbus_message_new_method_call ("org.bluez", path, interface, member);
  g_autoptr(GError) error = NULL;
  g_autofree guchar *blob = NULL;
  gsize len;

  if (body != NULL)
    g_dbus_message_set_body (call, body);
  g_dbus_message_set_serial (call, c->serial++);
  blob = g_dbus_message_to_blob (call, &len, G_DBUS_CAPABILITY_FLAGS_NONE, &error);
  if (blob == NULL)
    die ("serialising", error->message);
  if (write (c->fd, blob, len) != (ssize_t) len)
    die ("write", g_strerror (errno));
}

static guint32
u32_at (const guint8 *p,
        gboolean      little)
{
  return little ? (guint32) p[0] | p[1] << 8 | p[2] << 16 | (guint32) p[3] << 24
                : (guint32) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static void
save (Capture      *c,
      const guint8 *data,
      gsize         len)
{
  g_autoptr(GDBusMessage) message = g_dbus_message_new_from_blob ((guchar *) data, len,
                                                                  G_DBUS_CAPABILITY_FLAGS_UNIX_FD_PASSING,
                                                                  NULL);
  g_autofree char *kind = NULL;
  g_autofree char *file = NULL;
  g_autoptr(GError) error = NULL;
  guint kept;

  if (message == NULL)
    die ("capture", "dbus-daemon delivered a message GDBus cannot read");
  switch (g_dbus_message_get_message_type (message))
    {
    case G_DBUS_MESSAGE_TYPE_SIGNAL:
      kind = g_strdup_printf ("signal-%s-%s", g_dbus_message_get_member (message),
                              g_str_has_prefix (g_dbus_message_get_path (message), "/org/bluez")
                              ? strrchr (g_dbus_message_get_path (message), '/') + 1 : "root");
      /* One file per member and object kind, not per object. */
      g_strdelimit (kind, "0123456789", '_');
      break;
    case G_DBUS_MESSAGE_TYPE_METHOD_RETURN:
      kind = g_strdup_printf ("return-%s", g_dbus_message_get_signature (message));
      g_strdelimit (kind, "{}()", '_');
      break;
    case G_DBUS_MESSAGE_TYPE_ERROR:
      kind = g_strdup_printf ("error-%s", g_dbus_message_get_error_name (message));
      break;
    default:
      kind = g_strdup ("other");
      break;
    }
  kept = GPOINTER_TO_UINT (g_hash_table_lookup (c->kinds, kind));
  if (kept >= KEEP_PER_KIND)
    return;
  g_hash_table_insert (c->kinds, g_strdup (kind), GUINT_TO_POINTER (kept + 1));
  file = g_strdup_printf ("%s/seed-%s-%u", c->dir, kind, kept);
  if (!g_file_set_contents (file, (const char *) data, (gssize) len, &error))
    die ("writing", error->message);
  c->written++;
}

/* Reads what has come until the socket is quiet for @quiet_ms. */
static void
drain (Capture *c,
       int      quiet_ms)
{
  for (;;)
    {
      guint8 chunk[65536];
      struct pollfd pfd = { c->fd, POLLIN, 0 };
      ssize_t n;

      if (poll (&pfd, 1, quiet_ms) <= 0)
        return;
      n = read (c->fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        die ("read", "the bus closed");
      g_byte_array_append (c->buf, chunk, (guint) n);
      while (c->buf->len >= 16)
        {
          gboolean little = c->buf->data[0] == 'l';
          gsize len = 16 + ((u32_at (c->buf->data + 12, little) + 7) & ~7u) +
                      u32_at (c->buf->data + 4, little);

          if (c->buf->len < len)
            break;
          save (c, c->buf->data, len);
          g_byte_array_remove_range (c->buf, 0, (guint) len);
        }
    }
}

static void
call_bluez (SimFixture *fx,
            const char *path,
            const char *interface,
            const char *member,
            GVariant   *args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = sim_fixture_call_bluez (fx, path, interface, member, args, &error);

  if (reply == NULL)
    die (member, error->message);
}

int
main (int    argc,
      char **argv)
{
  const char *rules[] = { "type='signal',sender='org.bluez'", NULL };
  static const guint8 payload[] = { 0x01, 0x02, 0x03, 0xfe, 0xff };
  g_autoptr(GHashTable) kinds = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *device = NULL;
  g_autofree char *chr = NULL;
  BenchCounter *counter;
  SimFixture *fx;
  Capture c = { 0 };

  if (argc != 2)
    {
      g_printerr ("usage: capture-wire DIR\n");
      return 2;
    }
  c.dir = argv[1];
  c.kinds = kinds;
  c.buf = g_byte_array_new ();
  if (g_mkdir_with_parents (c.dir, 0755) != 0)
    die (c.dir, g_strerror (errno));

  fx = bench_sim_new (BENCH_PERIPH_SCENARIO);
  counter = bench_counter_connect (fx, rules);
  c.fd = counter->fd;
  c.serial = counter->replies + 1;
  g_free (counter);
  drain (&c, 300);

  send_call (&c, "/", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL);
  drain (&c, 300);
  device = bench_ensure_device (fx, BENCH_PERIPH_ADDRESS);
  drain (&c, 300);
  if (!sim_fixture_connect_device (fx, device, &error))
    die ("connecting", error->message);
  drain (&c, 300);
  send_call (&c, "/", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL);
  chr = bench_find_gatt_path (fx, device, BENCH_CHR1, BENCH_CHR_NOTIFY_SIGNAL);
  call_bluez (fx, chr, BENCH_CHR1, "StartNotify", NULL);
  if (!sim_fixture_notify_burst (fx, chr, payload, sizeof payload, 3, &error))
    die ("NotifyBurst", error->message);
  call_bluez (fx, chr, BENCH_CHR1, "StopNotify", NULL);
  drain (&c, 300);
  /* An error reply: a call bluetoothd refuses. */
  send_call (&c, chr, BENCH_CHR1, "StopNotify", NULL);
  send_call (&c, "/org/bluez/hci0/nothing", "org.bluez.Device1", "Connect", NULL);
  drain (&c, 300);
  call_bluez (fx, device, "org.bluez.Device1", "Disconnect", NULL);
  drain (&c, 300);
  call_bluez (fx, "/org/bluez/hci0", "org.bluez.Adapter1", "RemoveDevice",
              g_variant_new ("(o)", device));
  drain (&c, 500);

  g_print ("capture-wire: %u messages in %s\n", c.written, c.dir);
  close (c.fd);
  g_byte_array_unref (c.buf);
  sim_fixture_free (fx);
  return c.written > 0 ? 0 : 1;
}
