/* SPDX-License-Identifier: MIT */
/*
 * ReplaceGatt (issue 19 item 7): the objects of a connected peripheral
 * change as bluetoothd 5.66's do after a Service Changed indication
 * (tools/bleio-sim/README.md, "Service Changed"): an unchanged service
 * keeps its objects; a changed one's objects go before the new one's come,
 * whole; services not found again go last; ServicesResolved stays true;
 * and a new attribute at a gone one's handle gets its path. The order
 * within a service, Device1.UUIDs and Battery1 follow what the e2e guest
 * recorded (tests/data/bluez-5.66/service-changed.json).
 */
#include "sim-fixture.h"
#include "bleio-assert.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define ADAPTER "/org/bluez/hci0"
#define ADDRESS "00:CC:00:00:19:71"
#define WAIT_MSEC 10000

/* A fff0 at 0x10, B aaa0 at 0x20 (notify: CCCD at 0x23), C ccc0 at 0x30. */
#define GATT_BEFORE \
  "[{\"uuid\": \"fff0\", \"handle\": \"0x0010\", \"characteristics\": [" \
  "   {\"uuid\": \"fff1\", \"handle\": \"0x0011\", \"value\": \"01\"}]}," \
  " {\"uuid\": \"aaa0\", \"handle\": \"0x0020\", \"characteristics\": [" \
  "   {\"uuid\": \"aaa1\", \"handle\": \"0x0021\", \"flags\": [\"notify\"]}]}," \
  " {\"uuid\": \"ccc0\", \"handle\": \"0x0030\", \"characteristics\": [" \
  "   {\"uuid\": \"ccc1\", \"handle\": \"0x0031\", \"value\": \"03\"}]}]"
/* A unchanged; B gives way to bbb0 at 0x20; C gone; D ddd0 at 0x40. */
#define GATT_AFTER \
  "[{\"uuid\": \"fff0\", \"handle\": \"0x0010\", \"characteristics\": [" \
  "   {\"uuid\": \"fff1\", \"handle\": \"0x0011\", \"value\": \"01\"}]}," \
  " {\"uuid\": \"bbb0\", \"handle\": \"0x0020\", \"characteristics\": [" \
  "   {\"uuid\": \"bbb1\", \"handle\": \"0x0021\", \"value\": \"02\"}]}," \
  " {\"uuid\": \"ddd0\", \"handle\": \"0x0040\", \"characteristics\": [" \
  "   {\"uuid\": \"ddd1\", \"handle\": \"0x0041\", \"value\": \"04\"}]}]"

typedef struct {
  char *signal;
  char *path;
} Seen;

static void
seen_free (gpointer data)
{
  Seen *s = data;

  g_free (s->signal);
  g_free (s->path);
  g_free (s);
}

static void
on_signal (GDBusConnection *conn,
           const char      *sender,
           const char      *path,
           const char      *interface,
           const char      *signal,
           GVariant        *params,
           gpointer         user_data)
{
  GPtrArray *seen = user_data;
  Seen *s = g_new0 (Seen, 1);

  s->signal = g_strdup (signal);
  if (g_str_equal (signal, "PropertiesChanged"))
    {
      g_autoptr(GVariant) changed = g_variant_get_child_value (params, 1);
      g_autoptr(GVariant) resolved = g_variant_lookup_value (changed, "ServicesResolved", NULL);
      g_autoptr(GVariant) uuids = g_variant_lookup_value (changed, "UUIDs", NULL);

      s->path = resolved != NULL ? g_strdup_printf ("%s:ServicesResolved", path)
                : uuids != NULL ? g_strdup_printf ("%s:UUIDs", path)
                : g_strdup (path);
    }
  else
    g_variant_get_child (params, 0, "o", &s->path);
  g_ptr_array_add (seen, s);
}

/* Index of the first @signal about @path, or -1. */
static int
find (GPtrArray  *seen,
      const char *signal,
      const char *path)
{
  for (guint i = 0; i < seen->len; i++)
    {
      Seen *s = g_ptr_array_index (seen, i);

      if (g_str_equal (s->signal, signal) && g_str_equal (s->path, path))
        return (int) i;
    }
  return -1;
}

/* Index of the first @signal about @path after @from, or -1. */
static int
find_after (GPtrArray  *seen,
            int         from,
            const char *signal,
            const char *path)
{
  for (guint i = (guint) MAX (from + 1, 0); i < seen->len; i++)
    {
      Seen *s = g_ptr_array_index (seen, i);

      if (g_str_equal (s->signal, signal) && g_str_equal (s->path, path))
        return (int) i;
    }
  return -1;
}

static gboolean
saw_last_removal (gpointer user_data)
{
  gpointer *args = user_data;

  return find (args[0], "InterfacesRemoved", args[1]) >= 0;
}

static char *
sub (const char *device,
     const char *rest)
{
  return g_strconcat (device, "/", rest, NULL);
}

static void
test_replace_gatt_order (void **state)
{
  SimFixture *fx = *state;
  GDBusConnection *bus = sim_fixture_get_connection (fx);
  g_autoptr(GError) error = NULL;
  g_autofree char *device = NULL;
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (seen_free);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autofree char *svc_a = NULL, *svc_b = NULL, *chr_b = NULL, *desc_b = NULL;
  g_autofree char *svc_c = NULL, *svc_d = NULL, *chr_d = NULL, *resolved = NULL;
  gpointer args[2];
  guint sub_id;
  int b_char_gone, b_gone, b_new, b_new_char, c_gone, d_new;

  device = sim_fixture_add_device (fx, "hci0",
                                   "{\"address\": \"" ADDRESS "\", \"name\": \"Changing\","
                                   " \"gatt\": " GATT_BEFORE "}", &error);
  assert_non_null (device);
  device = (g_free (device), sim_fixture_find_device (fx, ADAPTER, "Changing", &error));
  assert_non_null (device);
  assert_true (sim_fixture_connect_device (fx, device, &error));

  sub_id = g_dbus_connection_signal_subscribe (bus, NULL, NULL, NULL, NULL, NULL,
                                               G_DBUS_SIGNAL_FLAGS_NONE, on_signal, seen, NULL);
  reply = sim_fixture_call (fx, "ReplaceGatt", g_variant_new ("(os)", device, GATT_AFTER),
                            &error);
  assert_no_error (error);
  svc_a = sub (device, "service0010");
  svc_b = sub (device, "service0020");
  chr_b = sub (device, "service0020/char0021");
  desc_b = sub (device, "service0020/char0021/desc0023");
  svc_c = sub (device, "service0030");
  svc_d = sub (device, "service0040");
  chr_d = sub (device, "service0040/char0041");
  resolved = g_strdup_printf ("%s:ServicesResolved", device);
  args[0] = seen;
  args[1] = svc_c;
  assert_true (sim_fixture_wait_until (saw_last_removal, args, WAIT_MSEC));
  g_dbus_connection_signal_unsubscribe (bus, sub_id);

  /* A kept its objects */
  assert_int_equal (find (seen, "InterfacesRemoved", svc_a), -1);
  assert_int_equal (find (seen, "InterfacesAdded", svc_a), -1);
  /* B's objects went, children first, before B' came on the same paths,
   * service before its characteristic */
  b_char_gone = find (seen, "InterfacesRemoved", chr_b);
  b_gone = find (seen, "InterfacesRemoved", svc_b);
  b_new = find (seen, "InterfacesAdded", svc_b);
  b_new_char = find (seen, "InterfacesAdded", chr_b);
  assert_true (find (seen, "InterfacesRemoved", desc_b) >= 0);
  assert_true (find (seen, "InterfacesRemoved", desc_b) < b_char_gone);
  assert_true (b_char_gone >= 0 && b_char_gone < b_gone);
  assert_true (b_gone < b_new && b_new < b_new_char);
  /* D came before C, not found again, went */
  d_new = find (seen, "InterfacesAdded", svc_d);
  c_gone = find (seen, "InterfacesRemoved", svc_c);
  assert_true (d_new >= 0 && find (seen, "InterfacesAdded", chr_d) > d_new);
  assert_true (d_new < c_gone);
  /* ServicesResolved did not move */
  assert_int_equal (find (seen, "PropertiesChanged", resolved), -1);
  value = sim_fixture_get_property (fx, device, "org.bluez.Device1", "ServicesResolved");
  assert_non_null (value);
  assert_true (g_variant_get_boolean (value));
  /* the new attribute answers on the reused path */
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call_bluez (fx, chr_b, "org.bluez.GattCharacteristic1", "ReadValue",
                                  g_variant_new ("(a{sv})", NULL), &error);
  assert_no_error (error);
  {
    g_autoptr(GVariant) bytes = g_variant_get_child_value (reply, 0);
    gsize len = 0;
    const guint8 *data = g_variant_get_fixed_array (bytes, &len, 1);

    assert_int_equal (len, 1);
    assert_int_equal (data[0], 0x02);
  }
  assert_true (sim_fixture_remove_device (fx, device, &error));
}

/* fff0 at 0x10: fff1 (notify, its CCCD at 0x13), fff2 (read, a 0x2901 at
 * 0x16); the battery service at 0x20 (bluetoothd's battery plugin puts
 * Battery1 on the device). */
#define GATT_RECORDED_BEFORE \
  "[{\"uuid\": \"fff0\", \"handle\": \"0x0010\", \"characteristics\": [" \
  "   {\"uuid\": \"fff1\", \"handle\": \"0x0011\", \"flags\": [\"notify\"]}," \
  "   {\"uuid\": \"fff2\", \"handle\": \"0x0014\", \"value\": \"01\"," \
  "    \"descriptors\": [{\"uuid\": \"2901\", \"value\": \"41\"}]}]}," \
  " {\"uuid\": \"180f\", \"handle\": \"0x0020\", \"characteristics\": [" \
  "   {\"uuid\": \"2a19\", \"handle\": \"0x0021\", \"flags\": [\"read\", \"notify\"], \"value\": \"50\"}]}]"
/* Both go; eee0 comes at 0x30. */
#define GATT_RECORDED_AFTER \
  "[{\"uuid\": \"eee0\", \"handle\": \"0x0030\", \"characteristics\": [" \
  "   {\"uuid\": \"eee1\", \"handle\": \"0x0031\", \"value\": \"02\"}]}]"

/* What the guest's bluetoothd 5.66 did (service-changed.json): a service's
 * objects go characteristic by characteristic in handle order, each
 * after its descriptors, the service last; Device1.UUIDs changes after a
 * service whose UUID goes has gone, and before one with a new UUID comes;
 * Battery1 leaves the device after the battery service's objects. */
static void
test_replace_gatt_as_recorded (void **state)
{
  SimFixture *fx = *state;
  GDBusConnection *bus = sim_fixture_get_connection (fx);
  g_autoptr(GError) error = NULL;
  g_autofree char *device = NULL;
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (seen_free);
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *svc_f = NULL, *chr_1 = NULL, *ccc_1 = NULL, *chr_2 = NULL, *desc_2 = NULL;
  g_autofree char *svc_bat = NULL, *svc_e = NULL, *uuids = NULL;
  gpointer args[2];
  guint sub_id;
  int f_gone, bat_gone, e_new;

  device = sim_fixture_add_device (fx, "hci0",
                                   "{\"address\": \"00:CC:00:00:19:72\", \"name\": \"Recorded\","
                                   " \"gatt\": " GATT_RECORDED_BEFORE "}", &error);
  assert_non_null (device);
  device = (g_free (device), sim_fixture_find_device (fx, ADAPTER, "Recorded", &error));
  assert_non_null (device);
  assert_true (sim_fixture_connect_device (fx, device, &error));

  sub_id = g_dbus_connection_signal_subscribe (bus, NULL, NULL, NULL, NULL, NULL,
                                               G_DBUS_SIGNAL_FLAGS_NONE, on_signal, seen, NULL);
  reply = sim_fixture_call (fx, "ReplaceGatt",
                            g_variant_new ("(os)", device, GATT_RECORDED_AFTER), &error);
  assert_no_error (error);
  svc_f = sub (device, "service0010");
  chr_1 = sub (device, "service0010/char0011");
  ccc_1 = sub (device, "service0010/char0011/desc0013");
  chr_2 = sub (device, "service0010/char0014");
  desc_2 = sub (device, "service0010/char0014/desc0016");
  svc_bat = sub (device, "service0020");
  svc_e = sub (device, "service0030");
  uuids = g_strdup_printf ("%s:UUIDs", device);
  args[0] = seen;
  args[1] = svc_bat;
  assert_true (sim_fixture_wait_until (saw_last_removal, args, WAIT_MSEC));
  /* Battery1's removal comes right after, in the same call */
  args[1] = device;
  assert_true (sim_fixture_wait_until (saw_last_removal, args, WAIT_MSEC));
  g_dbus_connection_signal_unsubscribe (bus, sub_id);

  assert_true (find (seen, "InterfacesRemoved", ccc_1) >= 0);
  assert_true (find (seen, "InterfacesRemoved", ccc_1) < find (seen, "InterfacesRemoved", chr_1));
  assert_true (find (seen, "InterfacesRemoved", chr_1) < find (seen, "InterfacesRemoved", desc_2));
  assert_true (find (seen, "InterfacesRemoved", desc_2) < find (seen, "InterfacesRemoved", chr_2));
  f_gone = find (seen, "InterfacesRemoved", svc_f);
  assert_true (find (seen, "InterfacesRemoved", chr_2) < f_gone);

  e_new = find (seen, "InterfacesAdded", svc_e);
  assert_true (e_new >= 0);
  assert_true (find (seen, "PropertiesChanged", uuids) >= 0);
  assert_true (find (seen, "PropertiesChanged", uuids) < e_new);
  assert_true (find_after (seen, f_gone, "PropertiesChanged", uuids) > f_gone);
  bat_gone = find (seen, "InterfacesRemoved", svc_bat);
  assert_true (find_after (seen, bat_gone, "PropertiesChanged", uuids) > bat_gone);
  assert_true (find (seen, "InterfacesRemoved", device) > bat_gone);
  {
    g_autoptr(GVariant) value = sim_fixture_get_property (fx, device, "org.bluez.Device1", "UUIDs");
    g_autofree const char **list = NULL;

    assert_non_null (value);
    list = g_variant_get_strv (value, NULL);
    assert_int_equal (g_strv_length ((char **) list), 1);
    assert_string_equal (list[0], "0000eee0-0000-1000-8000-00805f9b34fb");
  }
  assert_true (sim_fixture_remove_device (fx, device, &error));
}

static void
test_replace_gatt_bad_input (void **state)
{
  SimFixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  reply = sim_fixture_call (fx, "ReplaceGatt",
                            g_variant_new ("(os)", "/org/bluez/hci0/dev_00_00_00_00_00_09", "[]"),
                            &error);
  assert_null (reply);
  assert_non_null (error);
  g_clear_error (&error);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_replace_gatt_order),
    cmocka_unit_test (test_replace_gatt_as_recorded),
    cmocka_unit_test (test_replace_gatt_bad_input),
  };

  return cmocka_run_group_tests (tests, sim_fixture_group_setup, sim_fixture_group_teardown);
}
