/* SPDX-License-Identifier: MIT */
/*
 * GATT behaviour on D-Bus beyond the recorded error answers: StartNotify
 * and pushed notifications as Value changes, AcquireWrite's socket and
 * WriteAcquired, the acquired sockets' MTU, and an acquired notify socket
 * hung up when the link drops, as bluetoothd shuts its io down.
 */
#include "sim-fixture.h"

#include <gio/gunixfdlist.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#define DEMO_NAME "InterestingPeripheral"
#define ADAPTER "/org/bluez/hci0"
#define DEVICE1 "org.bluez.Device1"
#define CHR1 "org.bluez.GattCharacteristic1"
#define HEART_RATE_MEASUREMENT "00002a37-0000-1000-8000-00805f9b34fb"
#define WAIT_MSEC 10000

static SimFixture *fx;
static char *device;

static void
ensure_connected (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) resolved = NULL;

  if (device == NULL)
    device = sim_fixture_find_device (fx, ADAPTER, DEMO_NAME, &error);
  if (device == NULL)
    fail_msg ("the demo peripheral: %s", error->message);
  resolved = sim_fixture_get_property (fx, device, DEVICE1, "ServicesResolved");
  if (resolved != NULL && g_variant_get_boolean (resolved))
    return;
  if (!sim_fixture_connect_device (fx, device, &error))
    fail_msg ("connecting: %s", error->message);
}

static char *
find_char (const char         *uuid,
           const char * const *with,
           const char * const *without)
{
  char *path;

  ensure_connected ();
  path = sim_fixture_find_gatt (fx, device, CHR1, uuid, with, without);
  if (path == NULL)
    fail_msg ("the demo has no such characteristic");
  return path;
}

static int
acquire (const char *chr,
         const char *method,
         guint16    *mtu)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GError) error = NULL;
  int handle = -1;
  int fd;

  reply = g_dbus_connection_call_with_unix_fd_list_sync (sim_fixture_get_connection (fx),
                                                         "org.bluez", chr, CHR1, method,
                                                         g_variant_new ("(a{sv})", NULL),
                                                         G_VARIANT_TYPE ("(hq)"),
                                                         G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC,
                                                         NULL, &fds, NULL, &error);
  if (reply == NULL)
    fail_msg ("%s on %s: %s", method, chr, error->message);
  g_variant_get (reply, "(hq)", &handle, mtu);
  fd = fds != NULL ? g_unix_fd_list_get (fds, handle, &error) : -1;
  if (fd < 0)
    fail_msg ("%s sent no fd", method);
  return fd;
}

typedef struct {
  const char *path;
  GByteArray *last;
  guint values;
} ValueWatch;

static void
on_changed (GDBusConnection *connection,
            const char      *sender,
            const char      *path,
            const char      *interface,
            const char      *signal,
            GVariant        *params,
            gpointer         user_data)
{
  ValueWatch *watch = user_data;
  g_autoptr(GVariant) changed = NULL;
  g_autoptr(GVariant) value = NULL;
  const guint8 *data;
  gsize len = 0;

  if (strcmp (path, watch->path) != 0 ||
      !g_variant_is_of_type (params, G_VARIANT_TYPE ("(sa{sv}as)")))
    return;
  changed = g_variant_get_child_value (params, 1);
  value = g_variant_lookup_value (changed, "Value", G_VARIANT_TYPE_BYTESTRING);
  if (value == NULL)
    return;
  data = g_variant_get_fixed_array (value, &len, 1);
  g_byte_array_set_size (watch->last, 0);
  g_byte_array_append (watch->last, data, (guint) len);
  watch->values++;
}

static gboolean
got_pushed (gpointer data)
{
  static const guint8 pushed[] = { 0x16, 0x7b, 0x00 };
  ValueWatch *watch = data;

  return watch->last->len == sizeof pushed &&
         memcmp (watch->last->data, pushed, sizeof pushed) == 0;
}

/* After StartNotify, a notification arrives as a PropertiesChanged of
 * Value carrying its bytes; after StopNotify, Notifying is false. */
static void
test_notify_as_value (void **state)
{
  static const guint8 pushed[] = { 0x16, 0x7b, 0x00 };
  static const char * const notify[] = { "notify", NULL };
  g_autofree char *chr = find_char (HEART_RATE_MEASUREMENT, notify, NULL);
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GByteArray) last = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  ValueWatch watch = { chr, last, 0 };
  guint subscription;

  g_main_context_push_thread_default (context);
  subscription = g_dbus_connection_signal_subscribe (sim_fixture_get_connection (fx),
                                                     "org.bluez",
                                                     "org.freedesktop.DBus.Properties",
                                                     "PropertiesChanged", chr, CHR1,
                                                     G_DBUS_SIGNAL_FLAGS_NONE,
                                                     on_changed, &watch, NULL);
  reply = sim_fixture_call_bluez (fx, chr, CHR1, "StartNotify", NULL, &error);
  if (reply == NULL)
    fail_msg ("StartNotify: %s", error->message);
  if (!sim_fixture_wait_property (fx, chr, CHR1, "Notifying",
                                  g_variant_new_boolean (TRUE), WAIT_MSEC))
    fail_msg ("Notifying did not become true");
  if (!sim_fixture_notify (fx, chr, pushed, sizeof pushed, &error))
    fail_msg ("Notify: %s", error->message);
  if (!sim_fixture_wait_until (got_pushed, &watch, WAIT_MSEC))
    fail_msg ("the pushed notification did not come as a Value change (%u others)",
              watch.values);

  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call_bluez (fx, chr, CHR1, "StopNotify", NULL, &error);
  if (reply == NULL)
    fail_msg ("StopNotify: %s", error->message);
  if (!sim_fixture_wait_property (fx, chr, CHR1, "Notifying",
                                  g_variant_new_boolean (FALSE), WAIT_MSEC))
    fail_msg ("Notifying did not become false");
  g_dbus_connection_signal_unsubscribe (sim_fixture_get_connection (fx), subscription);
  g_main_context_pop_thread_default (context);
}

/* AcquireWrite on a write-without-response characteristic: a socket, the
 * connection's MTU, WriteAcquired true until the socket is closed. */
static void
test_acquire_write (void **state)
{
  static const char * const wwr[] = { "write-without-response", NULL };
  static const guint8 data[] = { 0x01, 0x02, 0x03 };
  g_autofree char *chr = find_char (NULL, wwr, NULL);
  g_autoptr(GVariant) mtu_prop = NULL;
  guint16 mtu = 0;
  int fd = acquire (chr, "AcquireWrite", &mtu);

  mtu_prop = sim_fixture_get_property (fx, chr, CHR1, "MTU");
  assert_non_null (mtu_prop);
  assert_int_equal (mtu, g_variant_get_uint16 (mtu_prop));
  assert_true (mtu >= 23);
  if (!sim_fixture_wait_property (fx, chr, CHR1, "WriteAcquired",
                                  g_variant_new_boolean (TRUE), WAIT_MSEC))
    fail_msg ("WriteAcquired did not become true");
  assert_int_equal (send (fd, data, sizeof data, MSG_NOSIGNAL), sizeof data);
  close (fd);
  if (!sim_fixture_wait_property (fx, chr, CHR1, "WriteAcquired",
                                  g_variant_new_boolean (FALSE), WAIT_MSEC))
    fail_msg ("WriteAcquired stayed true after the socket was closed");
}

static gboolean
not_acquired (gpointer data)
{
  g_autoptr(GVariant) all = sim_fixture_get_objects (fx, NULL);
  g_autoptr(GVariant) ifaces = NULL;
  g_autoptr(GVariant) props = NULL;
  gboolean acquired = FALSE;

  if (all == NULL)
    return FALSE;
  ifaces = g_variant_lookup_value (all, data, NULL);
  if (ifaces == NULL)
    return TRUE;
  props = g_variant_lookup_value (ifaces, CHR1, NULL);
  return props == NULL || !g_variant_lookup (props, "NotifyAcquired", "b", &acquired) ||
         !acquired;
}

/* An acquired notify socket is hung up when the link drops. */
static void
test_hup_on_link_loss (void **state)
{
  static const char * const notify[] = { "notify", NULL };
  g_autofree char *chr = find_char (HEART_RATE_MEASUREMENT, notify, NULL);
  g_autoptr(GError) error = NULL;
  guint16 mtu = 0;
  int fd = acquire (chr, "AcquireNotify", &mtu);
  struct pollfd pfd = { fd, POLLIN, 0 };
  gint64 deadline;
  gboolean hung_up = FALSE;

  if (!sim_fixture_drop_link (fx, device, "connection-timeout", &error))
    fail_msg ("DropLink: %s", error->message);

  /* Drain whatever was in flight; then the socket must read as ended. */
  deadline = g_get_monotonic_time () + WAIT_MSEC * 1000;
  while (!hung_up && g_get_monotonic_time () < deadline)
    {
      guint8 buf[600];

      if (poll (&pfd, 1, 100) <= 0)
        continue;
      if ((pfd.revents & (POLLHUP | POLLERR)) != 0 || read (fd, buf, sizeof buf) <= 0)
        hung_up = TRUE;
    }
  close (fd);
  if (!hung_up)
    fail_msg ("the acquired notify socket stayed open after the link dropped");
  if (!sim_fixture_wait_property (fx, device, DEVICE1, "Connected",
                                  g_variant_new_boolean (FALSE), WAIT_MSEC))
    fail_msg ("Connected stayed true after the link dropped");
  /* The characteristic may stay (the GATT cache) or go; if it stays, it
   * is no longer acquired. */
  if (!sim_fixture_wait_until (not_acquired, chr, WAIT_MSEC))
    fail_msg ("NotifyAcquired stayed true after the link dropped");
}

static int
group_setup (void **state)
{
  g_autoptr(GError) error = NULL;

  fx = sim_fixture_new (NULL, &error);
  if (fx == NULL)
    {
      g_printerr ("sim fixture: %s\n", error->message);
      return -1;
    }
  return 0;
}

static int
group_teardown (void **state)
{
  g_clear_pointer (&fx, sim_fixture_free);
  g_clear_pointer (&device, g_free);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_notify_as_value),
    cmocka_unit_test (test_acquire_write),
    cmocka_unit_test (test_hup_on_link_loss),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
