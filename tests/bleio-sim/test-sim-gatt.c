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

/* ---- concurrent operations on one characteristic ----
 *
 * bluetoothd keeps one pending read and one pending write per
 * characteristic: a read at the offset of the pending read joins it and
 * gets its answer, a read at another offset is InProgress; a write while a
 * write is pending is InProgress; reads and writes do not block each
 * other; WriteValue while AcquireWrite holds the characteristic is
 * NotPermitted "Write acquired". A peripheral with slow ATT answers makes
 * the operations overlap. */

#define SLOW_NAME "SlowPeripheral"
#define SLOW_CHAR_UUID "00005678-0000-1000-8000-00805f9b34fb"

static char *slow_char;

static const char *
slow_characteristic (void)
{
  static const char json[] =
    "{ \"address\": \"C0:FF:EE:10:00:01\", \"name\": \"" SLOW_NAME "\", "
    "\"connectable\": true, \"att_delay_ms\": 400, "
    "\"gatt\": [ { \"uuid\": \"1234\", \"characteristics\": [ "
    "{ \"uuid\": \"5678\", \"flags\": [ \"read\", \"write\", "
    "\"write-without-response\" ], \"value\": \"0102030405\" } ] } ] }";
  g_autoptr(GError) error = NULL;
  g_autofree char *added = NULL;
  g_autofree char *path = NULL;

  if (slow_char != NULL)
    return slow_char;
  added = sim_fixture_add_device (fx, "hci0", json, &error);
  if (added == NULL)
    fail_msg ("AddDevice: %s", error->message);
  path = sim_fixture_find_device (fx, ADAPTER, SLOW_NAME, &error);
  if (path == NULL)
    fail_msg ("the slow peripheral: %s", error->message);
  if (!sim_fixture_connect_device (fx, path, &error))
    fail_msg ("connecting the slow peripheral: %s", error->message);
  slow_char = sim_fixture_find_gatt (fx, path, CHR1, SLOW_CHAR_UUID, NULL, NULL);
  if (slow_char == NULL)
    fail_msg ("the slow peripheral has no characteristic %s", SLOW_CHAR_UUID);
  return slow_char;
}

typedef struct {
  GVariant *reply;
  GError *error;
  gboolean done;
} Pending;

static void
pending_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Pending *p = user_data;

  p->reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &p->error);
  p->done = TRUE;
}

static void
start_call (const char *path,
            const char *method,
            GVariant   *params,
            Pending    *p)
{
  g_dbus_connection_call (sim_fixture_get_connection (fx), "org.bluez", path, CHR1,
                          method, params, NULL, G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC,
                          NULL, pending_done, p);
}

static gboolean
both_done (gpointer data)
{
  Pending *p = data;

  return p[0].done && p[1].done;
}

static GVariant *
read_at (guint16 offset)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  if (offset > 0)
    g_variant_builder_add (&b, "{sv}", "offset", g_variant_new_uint16 (offset));
  return g_variant_new ("(a{sv})", &b);
}

static GVariant *
write_of (guint8 byte)
{
  return g_variant_new ("(@aya{sv})",
                        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, &byte, 1, 1),
                        NULL);
}

/* Runs two calls on the slow characteristic at once, the second sent
 * right behind the first, and waits for both. */
static void
overlap (const char *first_method,
         GVariant   *first_params,
         const char *second_method,
         GVariant   *second_params,
         Pending     p[2])
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  const char *chr = slow_characteristic ();

  g_main_context_push_thread_default (context);
  start_call (chr, first_method, first_params, &p[0]);
  start_call (chr, second_method, second_params, &p[1]);
  if (!sim_fixture_wait_until (both_done, p, 2 * WAIT_MSEC))
    fail_msg ("the overlapping calls did not both finish");
  g_main_context_pop_thread_default (context);
}

static void
pending_clear (Pending p[2])
{
  for (int i = 0; i < 2; i++)
    {
      g_clear_pointer (&p[i].reply, g_variant_unref);
      g_clear_error (&p[i].error);
    }
}

static void
expect_in_progress (const Pending *p,
                    const char    *what)
{
  g_autofree char *name = NULL;
  g_autoptr(GError) copy = NULL;

  if (p->error == NULL)
    fail_msg ("%s succeeded; bluetoothd answers InProgress: In Progress", what);
  copy = g_error_copy (p->error);
  name = g_dbus_error_get_remote_error (copy);
  g_dbus_error_strip_remote_error (copy);
  if (g_strcmp0 (name, "org.bluez.Error.InProgress") != 0 ||
      strcmp (copy->message, "In Progress") != 0)
    fail_msg ("%s: %s: %s; bluetoothd answers org.bluez.Error.InProgress: In Progress",
              what, name, copy->message);
}

static void
test_reads_same_offset_join (void **state)
{
  Pending p[2] = { { 0 }, { 0 } };

  overlap ("ReadValue", read_at (0), "ReadValue", read_at (0), p);
  for (int i = 0; i < 2; i++)
    if (p[i].error != NULL)
      fail_msg ("read %d of two at the same offset: %s", i, p[i].error->message);
  assert_true (g_variant_equal (p[0].reply, p[1].reply));
  pending_clear (p);
}

static void
test_reads_other_offset_in_progress (void **state)
{
  Pending p[2] = { { 0 }, { 0 } };

  overlap ("ReadValue", read_at (0), "ReadValue", read_at (2), p);
  if (p[0].error != NULL)
    fail_msg ("the first read: %s", p[0].error->message);
  expect_in_progress (&p[1], "a read at another offset while one is pending");
  pending_clear (p);
}

static void
test_read_during_write (void **state)
{
  Pending p[2] = { { 0 }, { 0 } };

  overlap ("WriteValue", write_of (0x42), "ReadValue", read_at (0), p);
  if (p[0].error != NULL)
    fail_msg ("the write: %s", p[0].error->message);
  if (p[1].error != NULL)
    fail_msg ("a read while a write is pending: %s; bluetoothd lets it through",
              p[1].error->message);
  pending_clear (p);
}

static void
test_writes_in_progress (void **state)
{
  Pending p[2] = { { 0 }, { 0 } };

  overlap ("WriteValue", write_of (0x01), "WriteValue", write_of (0x02), p);
  if (p[0].error != NULL)
    fail_msg ("the first write: %s", p[0].error->message);
  expect_in_progress (&p[1], "a write while one is pending");
  pending_clear (p);
}

static void
test_write_while_write_acquired (void **state)
{
  const char *chr = slow_characteristic ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *name = NULL;
  guint16 mtu = 0;
  int fd = acquire (chr, "AcquireWrite", &mtu);

  reply = sim_fixture_call_bluez (fx, chr, CHR1, "WriteValue", write_of (0x07), &error);
  close (fd);
  if (reply != NULL)
    fail_msg ("WriteValue while AcquireWrite holds the characteristic succeeded; "
              "bluetoothd answers NotPermitted: Write acquired");
  name = g_dbus_error_get_remote_error (error);
  g_dbus_error_strip_remote_error (error);
  if (g_strcmp0 (name, "org.bluez.Error.NotPermitted") != 0 ||
      strcmp (error->message, "Write acquired") != 0)
    fail_msg ("%s: %s; bluetoothd answers org.bluez.Error.NotPermitted: Write acquired",
              name, error->message);
}

/* ---- acquired sockets: one holder each ---- */

static void
expect_dbus_error (GError     *error,
                   const char *name,
                   const char *message,
                   const char *what)
{
  g_autoptr(GError) owned = error;
  g_autofree char *remote = NULL;

  if (owned == NULL)
    fail_msg ("%s succeeded; bluetoothd answers %s: %s", what, name, message);
  remote = g_dbus_error_get_remote_error (owned);
  g_dbus_error_strip_remote_error (owned);
  if (g_strcmp0 (remote, name) != 0 || strcmp (owned->message, message) != 0)
    fail_msg ("%s: %s: %s; bluetoothd answers %s: %s", what, remote,
              owned->message, name, message);
}

static GError *
call_error (GDBusConnection *connection,
            const char      *path,
            const char      *method,
            GVariant        *params)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  GError *error = NULL;

  reply = g_dbus_connection_call_with_unix_fd_list_sync (connection, "org.bluez", path,
                                                         CHR1, method, params, NULL,
                                                         G_DBUS_CALL_FLAGS_NONE,
                                                         WAIT_MSEC, NULL, &fds, NULL,
                                                         &error);
  return error;
}

static void
test_acquire_twice (void **state)
{
  static const char * const notify[] = { "notify", NULL };
  static const char * const wwr[] = { "write-without-response", NULL };
  g_autofree char *notify_chr = find_char (HEART_RATE_MEASUREMENT, notify, NULL);
  g_autofree char *write_chr = find_char (NULL, wwr, NULL);
  GDBusConnection *bus = sim_fixture_get_connection (fx);
  guint16 mtu = 0;
  int notify_fd = acquire (notify_chr, "AcquireNotify", &mtu);
  int write_fd = acquire (write_chr, "AcquireWrite", &mtu);

  expect_dbus_error (call_error (bus, notify_chr, "AcquireNotify",
                                 g_variant_new ("(a{sv})", NULL)),
                     "org.bluez.Error.NotPermitted", "Notify acquired",
                     "AcquireNotify while acquired");
  expect_dbus_error (call_error (bus, write_chr, "AcquireWrite",
                                 g_variant_new ("(a{sv})", NULL)),
                     "org.bluez.Error.NotPermitted", "Write acquired",
                     "AcquireWrite while acquired");
  close (notify_fd);
  close (write_fd);
  if (!sim_fixture_wait_property (fx, notify_chr, CHR1, "NotifyAcquired",
                                  g_variant_new_boolean (FALSE), WAIT_MSEC) ||
      !sim_fixture_wait_property (fx, write_chr, CHR1, "WriteAcquired",
                                  g_variant_new_boolean (FALSE), WAIT_MSEC))
    fail_msg ("closing the sockets did not release the characteristics");
}

/* One client's notification session makes AcquireNotify from another
 * InProgress: bluetoothd refuses it while any session exists. */
static void
test_acquire_while_other_client_notifies (void **state)
{
  static const char * const notify[] = { "notify", NULL };
  g_autofree char *chr = find_char (HEART_RATE_MEASUREMENT, notify, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) other = NULL;
  g_autoptr(GVariant) reply = NULL;

  other = g_dbus_connection_new_for_address_sync (sim_fixture_get_address (fx),
                                                  G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                  G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                  NULL, NULL, &error);
  if (other == NULL)
    fail_msg ("second client: %s", error->message);
  reply = sim_fixture_call_bluez (fx, chr, CHR1, "StartNotify", NULL, &error);
  if (reply == NULL)
    fail_msg ("StartNotify: %s", error->message);
  expect_dbus_error (call_error (other, chr, "AcquireNotify",
                                 g_variant_new ("(a{sv})", NULL)),
                     "org.bluez.Error.InProgress", "In Progress",
                     "AcquireNotify from a client while another notifies");
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call_bluez (fx, chr, CHR1, "StopNotify", NULL, NULL);
  g_dbus_connection_close_sync (other, NULL, NULL);
}

static int
group_setup (void **state)
{
  return sim_fixture_start (&fx, NULL) ? 0 : -1;
}

static int
group_teardown (void **state)
{
  g_clear_pointer (&fx, sim_fixture_free);
  g_clear_pointer (&device, g_free);
  g_clear_pointer (&slow_char, g_free);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_notify_as_value),
    cmocka_unit_test (test_acquire_write),
    cmocka_unit_test (test_acquire_twice),
    cmocka_unit_test (test_acquire_while_other_client_notifies),
    cmocka_unit_test (test_hup_on_link_loss),
    cmocka_unit_test (test_reads_same_offset_join),
    cmocka_unit_test (test_reads_other_offset_in_progress),
    cmocka_unit_test (test_read_during_write),
    cmocka_unit_test (test_writes_in_progress),
    cmocka_unit_test (test_write_while_write_acquired),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
