/* SPDX-License-Identifier: MIT */
/*
 * Notifications per second from a local characteristic to a client on
 * another adapter through the simulator's air (issue 17 item 12):
 * libbleio's GATT server (bleio_characteristic_write_value() in a loop)
 * against a raw GDBus server doing the same (its own application objects,
 * RegisterApplication, and send() on the AcquireNotify socket or
 * PropertiesChanged signals), on both delivery paths, 20-byte values.
 *
 * The server is on hci1, the client on hci0 of a two-adapter world; the
 * client's side is the same for both servers and not measured: the
 * library connects (setup), then a thread reads the client's own
 * AcquireNotify socket. The clock runs from the first value set to the
 * last notification read. The simulator sends a client's notifications
 * without waiting (as a controller's buffer would drop them), so the
 * figure counts what arrived; what did not is noted under the table.
 * Each side runs on a fresh simulator, alternately, --reps times; the
 * best of each is reported.
 *
 * Usage: bench-serve [--count N] [--signal-count N] [--reps N]
 */
#include "bench-common.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SERVER_ADDRESS "00:AA:01:01:00:01"
#define SERVE_UUID16 0xbbb1
#define PAYLOAD 20
#define APP_ROOT "/bench/app"
#define APP_SERVICE APP_ROOT "/service0"
#define APP_CHAR APP_SERVICE "/char0"

static const char scenario[] =
  "{ \"adapters\": [ { \"name\": \"hci0\", \"address\": \"00:AA:01:00:00:00\" },\n"
  "                  { \"name\": \"hci1\", \"address\": \"" SERVER_ADDRESS "\" } ],\n"
  "  \"peripherals\": [] }\n";

/* ---- the client's reader (the same for both servers) ---- */

typedef struct {
  int fd;
  guint want;
  guint got;
  double last;
} Reader;

static gpointer
reader_thread (gpointer data)
{
  Reader *r = data;
  guint8 buf[512];

  while (r->got < r->want)
    {
      struct timeval idle = { 3, 0 };
      ssize_t n;

      /* A notification the simulator dropped never comes: stop after a
       * quiet spell, with what came. */
      setsockopt (r->fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle);
      n = read (r->fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      r->got++;
      r->last = bench_now ();
    }
  return NULL;
}

/* Connects from hci0 with the library (setup only) and acquires the
 * client's notify socket of the served characteristic. */
static int
client_acquire (GDBusConnection  *bus,
                BleioAdapter    **adapter_out,
                BleioConnection **link_out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) services = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GVariant) reply = NULL;
  BleioCharacteristic *chr;
  gint32 index;
  int fd;

  *adapter_out = bench_adapter (bus);
  *link_out = bench_lib_connect (*adapter_out, SERVER_ADDRESS, &services);
  chr = bench_find_characteristic (services, SERVE_UUID16);
  reply = g_dbus_connection_call_with_unix_fd_list_sync (
      bus, "org.bluez", bleio_characteristic_get_object_path (chr), BENCH_CHR1, "AcquireNotify",
      g_variant_new ("(a{sv})", NULL), G_VARIANT_TYPE ("(hq)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
      &fds, NULL, &error);
  if (reply == NULL)
    {
      g_printerr ("bench-serve: client AcquireNotify: %s\n", error->message);
      exit (1);
    }
  g_variant_get (reply, "(hq)", &index, NULL);
  fd = g_unix_fd_list_get (fds, index, &error);
  if (fd < 0)
    {
      g_printerr ("bench-serve: %s\n", error->message);
      exit (1);
    }
  /* The reader blocks (with a receive timeout); the socket may come
   * non-blocking. */
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

/* Advertises hci1 so that hci0 can connect (setup, the same for both). */
static BleioAdapter *
advertise_hci1 (GDBusConnection *bus)
{
  static const guint8 adv[] = { 0x02, 0x01, 0x06 };
  g_autoptr(GBytes) data = g_bytes_new_static (adv, sizeof adv);
  g_autoptr(GError) error = NULL;
  BleioAdapter *adapter = bleio_adapter_new_for_name (bus, "hci1", NULL, &error);

  if (adapter == NULL ||
      !bleio_adapter_start_advertising (adapter, data, NULL, TRUE, FALSE, 0, 0, 0, NULL, NULL,
                                        &error))
    {
      g_printerr ("bench-serve: advertising on hci1: %s\n", error->message);
      exit (1);
    }
  return adapter;
}

/* ---- a raw GDBus server ---- */

typedef struct {
  GDBusConnection *bus;
  gboolean acquired;            /* offer NotifyAcquired */
  int notify_fd;                /* ours, from AcquireNotify */
  gboolean started;             /* StartNotify or AcquireNotify came */
  guint ids[3];
} RawServer;

static const char raw_xml[] =
  "<node>"
  "<interface name='org.freedesktop.DBus.ObjectManager'>"
  "<method name='GetManagedObjects'><arg type='a{oa{sa{sv}}}' direction='out'/></method>"
  "</interface>"
  "<interface name='org.bluez.GattService1'>"
  "<property name='UUID' type='s' access='read'/><property name='Primary' type='b' access='read'/>"
  "</interface>"
  "<interface name='org.bluez.GattCharacteristic1'>"
  "<method name='StartNotify'/><method name='StopNotify'/>"
  "<method name='AcquireNotify'><arg type='a{sv}' direction='in'/>"
  "<arg type='h' direction='out'/><arg type='q' direction='out'/></method>"
  "<method name='ReadValue'><arg type='a{sv}' direction='in'/><arg type='ay' direction='out'/></method>"
  "<property name='UUID' type='s' access='read'/><property name='Service' type='o' access='read'/>"
  "<property name='Flags' type='as' access='read'/>"
  "</interface>"
  "</node>";

static GDBusNodeInfo *raw_info;

static GVariant *
raw_char_props (RawServer *s)
{
  GVariantBuilder b;
  static const char * const flags[] = { "notify", NULL };

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "UUID",
                         g_variant_new_string ("0000bbb1-0000-1000-8000-00805f9b34fb"));
  g_variant_builder_add (&b, "{sv}", "Service", g_variant_new_object_path (APP_SERVICE));
  g_variant_builder_add (&b, "{sv}", "Flags", g_variant_new_strv (flags, -1));
  if (s->acquired)
    g_variant_builder_add (&b, "{sv}", "NotifyAcquired", g_variant_new_boolean (FALSE));
  return g_variant_builder_end (&b);
}

static void
raw_call (GDBusConnection       *connection,
          const char            *sender,
          const char            *path,
          const char            *iface,
          const char            *method,
          GVariant              *params,
          GDBusMethodInvocation *invocation,
          gpointer               user_data)
{
  RawServer *s = user_data;

  if (g_str_equal (method, "GetManagedObjects"))
    {
      GVariantBuilder objects;

      g_variant_builder_init (&objects, G_VARIANT_TYPE ("a{oa{sa{sv}}}"));
      g_variant_builder_add_parsed (&objects, "{%o, {'org.bluez.GattService1': "
                                    "{'UUID': <'0000bbb0-0000-1000-8000-00805f9b34fb'>, "
                                    "'Primary': <true>}}}", APP_SERVICE);
      g_variant_builder_add (&objects, "{o@a{sa{sv}}}", APP_CHAR,
                             g_variant_new_parsed ("{'org.bluez.GattCharacteristic1': %@a{sv}}",
                                                   raw_char_props (s)));
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(@a{oa{sa{sv}}})",
                                                                        g_variant_builder_end (&objects)));
    }
  else if (g_str_equal (method, "AcquireNotify"))
    {
      g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
      int sv[2];

      if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        {
          g_dbus_method_invocation_return_dbus_error (invocation, "org.bluez.Error.NotSupported",
                                                      "socketpair");
          return;
        }
      g_unix_fd_list_append (fds, sv[1], NULL);
      close (sv[1]);
      s->notify_fd = sv[0];
      s->started = TRUE;
      g_dbus_method_invocation_return_value_with_unix_fd_list (invocation,
                                                               g_variant_new ("(hq)", 0, 517), fds);
    }
  else if (g_str_equal (method, "StartNotify"))
    {
      s->started = TRUE;
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method, "ReadValue"))
    g_dbus_method_invocation_return_value (invocation, g_variant_new_parsed ("(@ay [])"));
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static GVariant *
raw_get (GDBusConnection  *connection,
         const char       *sender,
         const char       *path,
         const char       *iface,
         const char       *prop,
         GError          **error,
         gpointer          user_data)
{
  RawServer *s = user_data;
  g_autoptr(GVariant) props = NULL;

  if (g_str_equal (iface, "org.bluez.GattService1"))
    return g_str_equal (prop, "UUID")
           ? g_variant_new_string ("0000bbb0-0000-1000-8000-00805f9b34fb")
           : g_variant_new_boolean (TRUE);
  props = raw_char_props (s);
  return g_variant_lookup_value (props, prop, NULL);
}

static const GDBusInterfaceVTable raw_vtable = { raw_call, raw_get, NULL, { 0 } };

static gboolean registered;

static void
registered_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                             &error);

  if (reply == NULL)
    {
      g_printerr ("bench-serve: RegisterApplication: %s\n", error->message);
      exit (1);
    }
  registered = TRUE;
}

static void
raw_server_start (RawServer *s)
{
  if (raw_info == NULL)
    raw_info = g_dbus_node_info_new_for_xml (raw_xml, NULL);
  s->notify_fd = -1;
  s->ids[0] = g_dbus_connection_register_object (s->bus, APP_ROOT, raw_info->interfaces[0],
                                                 &raw_vtable, s, NULL, NULL);
  s->ids[1] = g_dbus_connection_register_object (s->bus, APP_SERVICE, raw_info->interfaces[1],
                                                 &raw_vtable, s, NULL, NULL);
  s->ids[2] = g_dbus_connection_register_object (s->bus, APP_CHAR, raw_info->interfaces[2],
                                                 &raw_vtable, s, NULL, NULL);
  registered = FALSE;
  /* The reply comes after bluetoothd read the tree from us: this thread
   * must keep serving meanwhile. */
  g_dbus_connection_call (s->bus, "org.bluez", "/org/bluez/hci1", "org.bluez.GattManager1",
                          "RegisterApplication",
                          g_variant_new ("(oa{sv})", APP_ROOT, NULL), NULL,
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, registered_cb, NULL);
  bench_wait_flag (&registered);
}

static void
raw_server_stop (RawServer *s)
{
  for (guint i = 0; i < G_N_ELEMENTS (s->ids); i++)
    g_dbus_connection_unregister_object (s->bus, s->ids[i]);
  if (s->notify_fd >= 0)
    close (s->notify_fd);
}

/* ---- one measurement ---- */

typedef struct {
  double rate;
  guint lost;
} Figure;

static gboolean
lib_notifying (BleioCharacteristic *chr,
               gboolean             acquired)
{
  return acquired ? bleio_characteristic_get_notify_acquired (chr)
                  : bleio_characteristic_get_notifying (chr);
}

/* Values the async loop has in flight. */
#define WINDOW 64

static void
value_set (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  guint *pending = user_data;
  g_autoptr(GError) error = NULL;

  if (!bleio_characteristic_write_value_finish (BLEIO_CHARACTERISTIC (source), result, &error))
    {
      g_printerr ("bench-serve: write_value: %s\n", error->message);
      exit (1);
    }
  (*pending)--;
}

static Figure
measure (gboolean lib,
         gboolean blocking,
         gboolean acquired,
         guint    count)
{
  guint pending = 0;
  SimFixture *fx = bench_sim_new (scenario);
  GDBusConnection *setup_bus = bench_connection_new (fx);
  GDBusConnection *server_bus = bench_connection_new (fx);
  GDBusConnection *client_bus = bench_connection_new (fx);
  g_autoptr(BleioAdapter) advertiser = NULL;
  g_autoptr(BleioAdapter) server = NULL;
  g_autoptr(BleioService) service = NULL;
  g_autoptr(BleioCharacteristic) chr = NULL;
  g_autoptr(BleioAdapter) central = NULL;
  g_autoptr(BleioConnection) link = NULL;
  g_autoptr(GError) error = NULL;
  RawServer raw = { server_bus, acquired, -1, FALSE, { 0 } };
  Reader reader = { -1, count, 0, 0 };
  guint8 payload[PAYLOAD];
  GThread *thread;
  Figure figure;
  double start;

  if (lib)
    {
      g_autoptr(BleioUuid) su = bleio_uuid_new_from_uuid16 (0xbbb0);
      g_autoptr(BleioUuid) cu = bleio_uuid_new_from_uuid16 (SERVE_UUID16);

      server = bleio_adapter_new_for_name (server_bus, "hci1", NULL, &error);
      if (server != NULL)
        service = bleio_service_new (server, su, FALSE, &error);
      if (service != NULL)
        chr = bleio_characteristic_add_to_service (service, cu, BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY,
                                                   BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_NO_ACCESS,
                                                   PAYLOAD, FALSE, NULL, NULL, &error);
      if (chr == NULL || !bleio_characteristic_set_acquired (chr, acquired, FALSE, &error) ||
          !bleio_adapter_publish_services (server, NULL, &error))
        {
          g_printerr ("bench-serve: libbleio server: %s\n", error->message);
          exit (1);
        }
    }
  else
    raw_server_start (&raw);
  advertiser = advertise_hci1 (setup_bus);
  reader.fd = client_acquire (client_bus, &central, &link);

  /* The client's subscription reached the server. */
  if (lib)
    {
      gint64 end = g_get_monotonic_time () + BENCH_WAIT_USEC;

      while (!lib_notifying (chr, acquired) && g_get_monotonic_time () < end)
        g_usleep (1000);
    }
  else
    bench_wait_flag (&raw.started);

  thread = g_thread_new ("reader", reader_thread, &reader);
  memset (payload, 0x5a, sizeof payload);
  start = bench_now ();
  for (guint i = 0; i < count; i++)
    {
      payload[0] = (guint8) i;
      if (lib && blocking)
        {
          g_autoptr(GBytes) value = g_bytes_new (payload, sizeof payload);

          if (!bleio_characteristic_write_value (chr, value, &error))
            {
              g_printerr ("bench-serve: write_value: %s\n", error->message);
              exit (1);
            }
        }
      else if (lib)
        {
          g_autoptr(GBytes) value = g_bytes_new (payload, sizeof payload);

          /* As an event-driven server would: a window of values in
           * flight, each completing in this thread's main context. */
          while (pending >= WINDOW)
            g_main_context_iteration (NULL, TRUE);
          pending++;
          bleio_characteristic_write_value_async (chr, value, NULL, value_set, &pending);
        }
      else if (acquired)
        {
          if (send (raw.notify_fd, payload, sizeof payload, MSG_NOSIGNAL) < 0)
            {
              g_printerr ("bench-serve: send: %s\n", g_strerror (errno));
              exit (1);
            }
        }
      else
        {
          GVariantBuilder changed;

          g_variant_builder_init (&changed, G_VARIANT_TYPE_VARDICT);
          g_variant_builder_add (&changed, "{sv}", "Value",
                                 g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, payload,
                                                            sizeof payload, 1));
          g_dbus_connection_emit_signal (server_bus, NULL, APP_CHAR, BENCH_PROPS,
                                         "PropertiesChanged",
                                         g_variant_new ("(sa{sv}as)", BENCH_CHR1, &changed, NULL),
                                         NULL);
        }
    }
  while (pending > 0)
    g_main_context_iteration (NULL, TRUE);
  if (!lib && !acquired)
    g_dbus_connection_flush_sync (server_bus, NULL, NULL);
  g_thread_join (thread);
  figure.rate = reader.got > 0 ? reader.got / (reader.last - start) : 0;
  figure.lost = count - reader.got;
  if (g_getenv ("BENCH_SERVE_DEBUG") != NULL)
    g_printerr ("%s%s %s: %u of %u in %.3f s\n", lib ? "libbleio" : "raw",
                lib && blocking ? " (blocking)" : "", acquired ? "fd" : "signal",
                reader.got, count, reader.last - start);

  close (reader.fd);
  if (!lib)
    raw_server_stop (&raw);
  (void) bleio_connection_disconnect (link, NULL);
  g_clear_object (&link);
  g_clear_object (&central);
  g_clear_object (&chr);
  g_clear_object (&service);
  g_clear_object (&server);
  g_clear_object (&advertiser);
  bench_connection_free (client_bus);
  bench_connection_free (server_bus);
  bench_connection_free (setup_bus);
  sim_fixture_free (fx);
  return figure;
}

int
main (int    argc,
      char **argv)
{
  guint count = 20000, signal_count = 5000, reps = 3;
  static const struct {
    const char *name;
    gboolean acquired;
    gboolean blocking;
  } paths[] = {
    { "serve notify fd 20 B", TRUE, FALSE },
    { "serve notify signal 20 B", FALSE, FALSE },
    { "serve notify fd 20 B, blocking", TRUE, TRUE },
    { "serve notify signal 20 B, blocking", FALSE, TRUE },
  };

  for (int i = 1; i + 1 < argc; i += 2)
    {
      if (g_str_equal (argv[i], "--count"))
        count = (guint) strtoul (argv[i + 1], NULL, 10);
      else if (g_str_equal (argv[i], "--signal-count"))
        signal_count = (guint) strtoul (argv[i + 1], NULL, 10);
      else if (g_str_equal (argv[i], "--reps"))
        reps = (guint) strtoul (argv[i + 1], NULL, 10);
    }
  bench_table_begin ("notifications/s from a local characteristic (server on hci1, client on hci0)");
  for (guint p = 0; p < G_N_ELEMENTS (paths); p++)
    {
      guint n = paths[p].acquired ? count : signal_count;
      Figure best_lib = { 0, 0 }, best_raw = { 0, 0 };

      for (guint r = 0; r < reps; r++)
        {
          Figure lib = measure (TRUE, paths[p].blocking, paths[p].acquired, n);
          Figure raw = measure (FALSE, FALSE, paths[p].acquired, n);

          if (lib.rate > best_lib.rate)
            best_lib = lib;
          if (raw.rate > best_raw.rate)
            best_raw = raw;
        }
      bench_table_row (paths[p].name, "notifications/s", best_lib.rate, best_raw.rate,
                       BENCH_HIGHER_IS_BETTER, 0.9);
      bench_note ("%s: of %u values the client missed %u (libbleio) and %u (raw) in the best runs",
                  paths[p].name, n, best_lib.lost, best_raw.lost);
    }
  return 0;
}
