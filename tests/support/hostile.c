/* SPDX-License-Identifier: MIT */
/* What hostile.h declares (the comments are there). */
#include "hostile.h"

int
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

static gboolean
hostile_iterate (gpointer user_data)
{
  return FALSE;
}

int
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

int
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
static void
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
static void
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
static void
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

void
hostile_property (Hostile    *h,
                  const char *path,
                  const char *interface,
                  const char *name,
                  GVariant   *value)
{
  hostile_property_full (h, path, interface, name, value, TRUE);
}

void
hostile_property_quiet (Hostile    *h,
                        const char *path,
                        const char *interface,
                        const char *name,
                        GVariant   *value)
{
  hostile_property_full (h, path, interface, name, value, FALSE);
}

void
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

void
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

void
hostile_object_manager_signal (Hostile    *h,
                               const char *member,
                               GVariant   *args)
{
  hostile_signal (h, "/", "org.freedesktop.DBus.ObjectManager", member, args);
}

void
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

void
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

void
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

void
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

void
hostile_acquire_write (Hostile    *h,
                       const char *mode)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "mode", g_variant_new_string (mode));
  g_variant_builder_add (&b, "{sv}", "packets", g_variant_new_uint32 (0));
  hostile_set (h, "acquire-write", g_variant_builder_end (&b));
}

BleioAdapter *
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

BleioScanEntry *
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

BleioScanEntry *
hostile_scan_for (Hostile    *h,
                  const char *address,
                  guint       msec)
{
  return hostile_scan_full (h, address, msec, 4096, NULL);
}

BleioAddress *
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
static BleioConnection *
hostile_try_connect (Hostile  *h,
                     GError  **error)
{
  g_autoptr(BleioAddress) address = hostile_address ();

  return bleio_adapter_connect (hostile_adapter (h), address, 10, NULL, error);
}

BleioConnection *
hostile_connect (Hostile *h)
{
  g_autoptr(GError) error = NULL;
  BleioConnection *connection = hostile_try_connect (h, &error);

  assert_no_error (error);
  assert_non_null (connection);
  return connection;
}

GPtrArray *
hostile_discover (BleioConnection *connection)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *services = bleio_connection_discover_remote_services (connection, NULL, 10, &error);

  assert_no_error (error);
  assert_non_null (services);
  return services;
}

BleioCharacteristic *
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

void
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

void
hostile_wait_disconnected (BleioConnection *connection)
{
  gint64 end = g_get_monotonic_time () + (gint64) WAIT_MSEC * 1000;

  while (bleio_connection_get_connected (connection) && g_get_monotonic_time () < end)
    hostile_settle (20);
  assert_false (bleio_connection_get_connected (connection));
}

void
hostile_sync (Hostile *h)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) calls = sim_fixture_get_calls (h->fx, &error);

  assert_no_error (error);
  assert_non_null (calls);
}

void
hostile_clear (Hostile *h)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = sim_fixture_call (h->fx, "ClearHostile", NULL, &error);

  assert_no_error (error);
  assert_non_null (reply);
}

BleioScanEntry *
scan_expect (Hostile *h)
{
  BleioScanEntry *entry = hostile_scan_for (h, HOSTILE_ADDRESS, WAIT_MSEC);

  if (entry == NULL)
    fail_msg ("no scan entry from %s", HOSTILE_ADDRESS);
  return entry;
}

gsize
adv_len (BleioScanEntry *entry)
{
  return g_bytes_get_size (bleio_scan_entry_get_advertisement_bytes (entry));
}

void
assert_adv_valid (BleioScanEntry *entry)
{
  GBytes *bytes = bleio_scan_entry_get_advertisement_bytes (entry);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_autoptr(GError) error = NULL;

  assert_true (bleio_ad_validate (data, len, &error));
  assert_no_error (error);
}

GBytes *
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
