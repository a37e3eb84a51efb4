/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the hostile-BlueZ tests: each test gets a fresh private bus
 * and simulator on hostile.json (so no hostile state and no library cache
 * outlives it), spoils some of the simulator's answers through
 * org.bleio.Sim1.SetHostile, drives the library's public API into them and
 * checks the outcome.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <bleio/bleio.h>
#include "sim-fixture.h"

#define HOSTILE_NAME "Hostile"
#define HOSTILE_ADDRESS "00:AA:05:00:00:01"
#define HCI0 "/org/bluez/hci0"
#define DEV HCI0 "/dev_00_AA_05_00_00_01"
#define BATTERY_SERVICE DEV "/service0010"
#define BATTERY_CHAR BATTERY_SERVICE "/char0011"
#define CUSTOM_SERVICE DEV "/service0020"
#define CUSTOM_CHAR CUSTOM_SERVICE "/char0021"
#define IFACE_DEVICE "org.bluez.Device1"
#define IFACE_SERVICE "org.bluez.GattService1"
#define IFACE_CHAR "org.bluez.GattCharacteristic1"
#define IFACE_DESC "org.bluez.GattDescriptor1"
/* Upper bound of every wait; never a measured duration. */
#define WAIT_MSEC 20000

#define assert_no_error(e) \
  do { if ((e) != NULL) fail_msg ("unexpected error: %s", (e)->message); } while (0)
#define assert_bleio_error(e, c) \
  do { \
    if ((e) == NULL) fail_msg ("expected %s, got no error", bleio_error_code_to_string (c)); \
    if (!g_error_matches ((e), BLEIO_ERROR, (c))) \
      fail_msg ("expected %s, got %s %d: %s", bleio_error_code_to_string (c), \
                g_quark_to_string ((e)->domain), (e)->code, (e)->message); \
  } while (0)

typedef struct {
  SimFixture *fx;
  BleioAdapter *adapter;
} Hostile;

static G_GNUC_UNUSED int
hostile_setup (void **state)
{
  g_autoptr(GError) error = NULL;
  Hostile *h = g_new0 (Hostile, 1);
  const char *scenario = g_getenv ("HOSTILE_SCENARIO");

  if (scenario == NULL)
    {
      g_printerr ("HOSTILE_SCENARIO is not set (meson test sets it)\n");
      g_free (h);
      return -1;
    }
  h->fx = sim_fixture_new (scenario, &error);
  if (h->fx == NULL)
    {
      g_printerr ("cannot start the simulator: %s\n", error->message);
      g_free (h);
      return -1;
    }
  *state = h;
  return 0;
}

static G_GNUC_UNUSED gboolean
hostile_iterate (gpointer user_data)
{
  return FALSE;
}

static G_GNUC_UNUSED int
hostile_teardown (void **state)
{
  Hostile *h = *state;

  g_clear_object (&h->adapter);
  /* Let the library's worker hand back what it still holds. */
  sim_fixture_wait_until (hostile_iterate, NULL, 50);
  sim_fixture_free (h->fx);
  g_free (h);
  return 0;
}

/* Every hostile case runs on a fresh simulator (hostile_setup). */
#define HOSTILE_TEST(f) cmocka_unit_test_setup_teardown (f, hostile_setup, hostile_teardown)

/* main() of each hostile program: runs @tests (named "tests", as
 * cmocka_run_group_tests() would name the array), or with an argument
 * only the cases that cmocka filter matches, to run one by hand. */
static G_GNUC_UNUSED int
hostile_run_tests (const struct CMUnitTest *tests,
                   gsize                    n_tests,
                   int                      argc,
                   char                   **argv)
{
  if (argc > 1)
    cmocka_set_test_filter (argv[1]);
  return _cmocka_run_group_tests ("tests", tests, n_tests, NULL, NULL);
}

/* SetHostile(kind, options); @options (a{sv}) is consumed if floating. */
static G_GNUC_UNUSED void
hostile_set (Hostile    *h,
             const char *kind,
             GVariant   *options)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = sim_fixture_call (h->fx, "SetHostile",
                                                g_variant_new ("(s@a{sv})", kind, options),
                                                &error);

  if (reply == NULL)
    fail_msg ("SetHostile %s: %s", kind, error->message);
}

/* Starts the options of a hostility about one property: which object,
 * interface and property it is. hostile_property_full() and
 * hostile_hide() add what they need and end @b. */
static G_GNUC_UNUSED void
hostile_property_options (GVariantBuilder *b,
                          const char      *path,
                          const char      *interface,
                          const char      *name)
{
  g_variant_builder_init (b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (b, "{sv}", "path", g_variant_new_object_path (path));
  g_variant_builder_add (b, "{sv}", "interface", g_variant_new_string (interface));
  g_variant_builder_add (b, "{sv}", "name", g_variant_new_string (name));
}

/* @path's @interface.@name shows @value (any type) from now on. With
 * @announce a PropertiesChanged says so; without, the value shows only in
 * the object's next InterfacesAdded and in GetManagedObjects. */
static G_GNUC_UNUSED void
hostile_property_full (Hostile    *h,
                       const char *path,
                       const char *interface,
                       const char *name,
                       GVariant   *value,
                       gboolean    announce)
{
  GVariantBuilder b;

  hostile_property_options (&b, path, interface, name);
  g_variant_builder_add (&b, "{sv}", "value", g_variant_new_variant (value));
  if (!announce)
    g_variant_builder_add (&b, "{sv}", "emit", g_variant_new_boolean (FALSE));
  hostile_set (h, "property", g_variant_builder_end (&b));
}

/* Announced, as bluetoothd would change a property. */
static G_GNUC_UNUSED void
hostile_property (Hostile    *h,
                  const char *path,
                  const char *interface,
                  const char *name,
                  GVariant   *value)
{
  hostile_property_full (h, path, interface, name, value, TRUE);
}

/* Quiet: what a newly announced object (or a fresh GetManagedObjects)
 * will carry. */
static G_GNUC_UNUSED void
hostile_property_quiet (Hostile    *h,
                        const char *path,
                        const char *interface,
                        const char *name,
                        GVariant   *value)
{
  hostile_property_full (h, path, interface, name, value, FALSE);
}

/* @path's @interface.@name is left out of what the bus shows from now
 * on, announced as invalidated. */
static G_GNUC_UNUSED void
hostile_hide (Hostile    *h,
              const char *path,
              const char *interface,
              const char *name)
{
  GVariantBuilder b;

  hostile_property_options (&b, path, interface, name);
  g_variant_builder_add (&b, "{sv}", "emit", g_variant_new_boolean (TRUE));
  hostile_set (h, "hide-property", g_variant_builder_end (&b));
}

/* org.bluez emits @interface.@member on @path with @args (a tuple or NULL;
 * consumed if floating). */
static G_GNUC_UNUSED void
hostile_signal (Hostile    *h,
                const char *path,
                const char *interface,
                const char *member,
                GVariant   *args)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "path", g_variant_new_object_path (path));
  g_variant_builder_add (&b, "{sv}", "interface", g_variant_new_string (interface));
  g_variant_builder_add (&b, "{sv}", "member", g_variant_new_string (member));
  if (args != NULL)
    g_variant_builder_add (&b, "{sv}", "args", args);
  hostile_set (h, "signal", g_variant_builder_end (&b));
}

/* ObjectManager.@member (InterfacesAdded, InterfacesRemoved) on "/" from
 * org.bluez, with @args as hostile_signal() takes them. */
static G_GNUC_UNUSED void
hostile_object_manager_signal (Hostile    *h,
                               const char *member,
                               GVariant   *args)
{
  hostile_signal (h, "/", "org.freedesktop.DBus.ObjectManager", member, args);
}

/* PropertiesChanged(@interface, {@name: @value}, []) on @path from org.bluez. */
static G_GNUC_UNUSED void
hostile_changed (Hostile    *h,
                 const char *path,
                 const char *interface,
                 const char *name,
                 GVariant   *value)
{
  GVariantBuilder changed;

  g_variant_builder_init (&changed, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&changed, "{sv}", name, value);
  hostile_signal (h, path, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                  g_variant_new ("(sa{sv}as)", interface, &changed, NULL));
}

/* The next call of @method (on @path, or any when NULL) is answered with
 * @body (a tuple, consumed if floating; NULL: no arguments at all). */
static G_GNUC_UNUSED void
hostile_reply (Hostile    *h,
               const char *method,
               const char *path,
               GVariant   *body)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "method", g_variant_new_string (method));
  if (path != NULL)
    g_variant_builder_add (&b, "{sv}", "path", g_variant_new_object_path (path));
  if (body != NULL)
    g_variant_builder_add (&b, "{sv}", "body", body);
  hostile_set (h, "reply", g_variant_builder_end (&b));
}

/* Objects (a{oa{sa{sv}}}, consumed if floating) added to GetManagedObjects,
 * each announced with InterfacesAdded when @announce. */
static G_GNUC_UNUSED void
hostile_objects (Hostile  *h,
                 GVariant *objects,
                 gboolean  announce)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "objects", objects);
  g_variant_builder_add (&b, "{sv}", "announce", g_variant_new_boolean (announce));
  hostile_set (h, "objects", g_variant_builder_end (&b));
}

/* The next AcquireNotify is answered the @mode way (see the simulator's
 * README): "no-fd", "bad-index", "not-socket", "closed", "oversized". */
static G_GNUC_UNUSED void
hostile_acquire (Hostile    *h,
                 const char *mode,
                 guint       mtu,
                 guint       size,
                 guint       packets)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "mode", g_variant_new_string (mode));
  g_variant_builder_add (&b, "{sv}", "mtu", g_variant_new_uint32 (mtu));
  g_variant_builder_add (&b, "{sv}", "size", g_variant_new_uint32 (size));
  g_variant_builder_add (&b, "{sv}", "packets", g_variant_new_uint32 (packets));
  hostile_set (h, "acquire-notify", g_variant_builder_end (&b));
}

/* The next AcquireWrite is answered the @mode way: "no-fd", "bad-index",
 * "closed" (see the simulator's README). */
static G_GNUC_UNUSED void
hostile_acquire_write (Hostile    *h,
                       const char *mode)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "mode", g_variant_new_string (mode));
  g_variant_builder_add (&b, "{sv}", "packets", g_variant_new_uint32 (0));
  hostile_set (h, "acquire-write", g_variant_builder_end (&b));
}

static G_GNUC_UNUSED BleioAdapter *
hostile_adapter (Hostile *h)
{
  g_autoptr(GError) error = NULL;

  if (h->adapter == NULL)
    h->adapter = bleio_adapter_new_for_name (sim_fixture_get_connection (h->fx), "hci0",
                                             NULL, &error);
  assert_no_error (error);
  assert_non_null (h->adapter);
  return h->adapter;
}

/* Scans (with @buffer_size) for at most @msec and returns the first entry
 * from @address, or NULL; every other entry is dropped. When @dropped is
 * not NULL the scan also ends at the first entry the buffer had to drop,
 * and *dropped gets the results' dropped count. */
static G_GNUC_UNUSED BleioScanEntry *
hostile_scan_full (Hostile    *h,
                   const char *address,
                   guint       msec,
                   gsize       buffer_size,
                   guint      *dropped)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BleioScanResults) results = NULL;
  BleioScanEntry *found = NULL;
  gint64 end = g_get_monotonic_time () + (gint64) msec * 1000;

  results = bleio_adapter_start_scan (hostile_adapter (h), NULL, buffer_size, FALSE, 0, 0.1, 0.1,
                                      -127, TRUE, &error);
  assert_no_error (error);
  while (found == NULL && g_get_monotonic_time () < end &&
         (dropped == NULL || bleio_scan_results_get_dropped (results) == 0))
    {
      g_autoptr(BleioScanEntry) entry = bleio_scan_results_next (results, 0.2, &error);
      g_autofree char *text = NULL;

      if (entry == NULL)
        {
          if (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_TIMEOUT))
            {
              g_clear_error (&error);
              continue;
            }
          assert_no_error (error);
          break;
        }
      text = bleio_address_to_string (bleio_scan_entry_get_address (entry));
      if (g_ascii_strcasecmp (text, address) == 0)
        found = g_steal_pointer (&entry);
    }
  assert_true (bleio_adapter_stop_scan (hostile_adapter (h), &error));
  assert_no_error (error);
  if (dropped != NULL)
    *dropped = bleio_scan_results_get_dropped (results);
  return found;
}

static G_GNUC_UNUSED BleioScanEntry *
hostile_scan_for (Hostile    *h,
                  const char *address,
                  guint       msec)
{
  return hostile_scan_full (h, address, msec, 4096, NULL);
}

static G_GNUC_UNUSED BleioAddress *
hostile_address (void)
{
  g_autoptr(GError) error = NULL;
  BleioAddress *address = bleio_address_new_from_string (HOSTILE_ADDRESS,
                                                         BLEIO_ADDRESS_TYPE_PUBLIC, &error);

  assert_no_error (error);
  return address;
}

/* Connects to the peripheral (ConnectDevice creates its object); returns
 * the connection, or NULL with @error set. */
static G_GNUC_UNUSED BleioConnection *
hostile_try_connect (Hostile  *h,
                     GError  **error)
{
  g_autoptr(BleioAddress) address = hostile_address ();

  return bleio_adapter_connect (hostile_adapter (h), address, 10, NULL, error);
}

static G_GNUC_UNUSED BleioConnection *
hostile_connect (Hostile *h)
{
  g_autoptr(GError) error = NULL;
  BleioConnection *connection = hostile_try_connect (h, &error);

  assert_no_error (error);
  assert_non_null (connection);
  return connection;
}

/* discover_remote_services with no whitelist; asserts success. */
static G_GNUC_UNUSED GPtrArray *
hostile_discover (BleioConnection *connection)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *services = bleio_connection_discover_remote_services (connection, NULL, 10, &error);

  assert_no_error (error);
  assert_non_null (services);
  return services;
}

/* The characteristic of @uuid16 (0 = the custom 128-bit one) among
 * @services, with a new reference; fails the test when absent. */
static G_GNUC_UNUSED BleioCharacteristic *
hostile_find_char (GPtrArray *services,
                   const char *object_path)
{
  for (guint i = 0; i < services->len; i++)
    {
      g_autoptr(GPtrArray) chars = bleio_service_dup_characteristics (g_ptr_array_index (services, i));

      for (guint j = 0; j < chars->len; j++)
        {
          BleioCharacteristic *c = g_ptr_array_index (chars, j);

          if (g_str_equal (bleio_characteristic_get_object_path (c), object_path))
            return g_object_ref (c);
        }
    }
  fail_msg ("no characteristic %s", object_path);
  return NULL;
}

/* Runs the thread-default context for @msec: time for signals sent before
 * to reach the library (an upper bound on nothing; tests assert the state
 * after it, not its duration). */
static G_GNUC_UNUSED void
hostile_settle (guint msec)
{
  gint64 end = g_get_monotonic_time () + (gint64) msec * 1000;

  while (g_get_monotonic_time () < end)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (5000);
    }
}

/* Waits (up to the bound) until the library reports @connection lost. */
static G_GNUC_UNUSED void
hostile_wait_disconnected (BleioConnection *connection)
{
  gint64 end = g_get_monotonic_time () + (gint64) WAIT_MSEC * 1000;

  while (bleio_connection_get_connected (connection) && g_get_monotonic_time () < end)
    hostile_settle (20);
  assert_false (bleio_connection_get_connected (connection));
}

/* A round trip through the simulator: every signal it sent before has
 * been delivered to our connection once this returns. */
static G_GNUC_UNUSED void
hostile_sync (Hostile *h)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) calls = sim_fixture_get_calls (h->fx, &error);

  assert_no_error (error);
  assert_non_null (calls);
}

/* ClearHostile(): the simulator answers honestly again. */
static G_GNUC_UNUSED void
hostile_clear (Hostile *h)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = sim_fixture_call (h->fx, "ClearHostile", NULL, &error);

  assert_no_error (error);
  assert_non_null (reply);
}

/* Scans until an entry from the peripheral arrives; fails the test if none
 * does. */
static G_GNUC_UNUSED BleioScanEntry *
scan_expect (Hostile *h)
{
  BleioScanEntry *entry = hostile_scan_for (h, HOSTILE_ADDRESS, WAIT_MSEC);

  if (entry == NULL)
    fail_msg ("no scan entry from %s", HOSTILE_ADDRESS);
  return entry;
}

static G_GNUC_UNUSED gsize
adv_len (BleioScanEntry *entry)
{
  return g_bytes_get_size (bleio_scan_entry_get_advertisement_bytes (entry));
}

/* The advertisement the library rebuilt must be well-formed AD data. */
static G_GNUC_UNUSED void
assert_adv_valid (BleioScanEntry *entry)
{
  GBytes *bytes = bleio_scan_entry_get_advertisement_bytes (entry);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_autoptr(GError) error = NULL;

  assert_true (bleio_ad_validate (data, len, &error));
  assert_no_error (error);
}

/* The AD field of @type in @entry's advertisement, or NULL. */
static G_GNUC_UNUSED GBytes *
adv_field (BleioScanEntry *entry,
           guint8          type)
{
  GBytes *bytes = bleio_scan_entry_get_advertisement_bytes (entry);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  BleioAdIter iter;
  guint8 t;
  const guint8 *field;
  gsize field_len;

  bleio_ad_iter_init (&iter, data, len);
  while (bleio_ad_iter_next (&iter, &t, &field, &field_len, NULL))
    if (t == type)
      return g_bytes_new (field, field_len);
  return NULL;
}
