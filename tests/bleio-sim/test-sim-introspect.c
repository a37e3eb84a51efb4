/* SPDX-License-Identifier: MIT */
/*
 * For every kind of object bluetoothd 5.66 exports, the simulator's
 * Introspect() must show the same interfaces, methods, signals, argument
 * names, signatures and directions, and property types and access as the
 * reference in tests/data/bluez-5.66/introspect-*.xml (5.82's when the
 * simulator speaks 5.82: test_data_bluez_folder()). Child nodes
 * are left out: they depend on the peripheral, not on the object kind.
 */
#include "sim-fixture.h"
#include "test-data.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define DEMO_NAME "InterestingPeripheral"
#define ADAPTER "/org/bluez/hci0"

typedef struct {
  SimFixture *fx;
  char *device;
} Group;

static GDBusNodeInfo *
load_reference (const char *name)
{
  g_autofree char *path = NULL;
  g_autofree char *xml = NULL;
  g_autoptr(GError) error = NULL;
  GDBusNodeInfo *info;

  path = test_data_path_in (test_data_bluez_folder (), name);
  if (!g_file_get_contents (path, &xml, NULL, &error))
    fail_msg ("reference %s is missing: %s", path, error->message);
  info = g_dbus_node_info_new_for_xml (xml, &error);
  if (info == NULL)
    fail_msg ("reference %s does not parse: %s", path, error->message);
  return info;
}

static GDBusNodeInfo *
introspect (SimFixture *fx,
            const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  const char *xml = NULL;
  GDBusNodeInfo *info;

  reply = sim_fixture_call_bluez (fx, path, "org.freedesktop.DBus.Introspectable",
                                  "Introspect", NULL, &error);
  if (reply == NULL)
    fail_msg ("Introspect(%s): %s", path, error->message);
  if (!g_variant_is_of_type (reply, G_VARIANT_TYPE ("(s)")))
    fail_msg ("Introspect(%s) answered %s, not (s)", path,
              g_variant_get_type_string (reply));
  g_variant_get (reply, "(&s)", &xml);
  info = g_dbus_node_info_new_for_xml (xml, &error);
  if (info == NULL)
    fail_msg ("Introspect(%s) is not valid XML: %s\n%s", path, error->message, xml);
  return info;
}

static void
compare_args (GString          *diff,
              const char       *where,
              const char       *direction,
              GDBusArgInfo    **ref,
              GDBusArgInfo    **sim)
{
  guint nref = 0;
  guint nsim = 0;

  while (ref != NULL && ref[nref] != NULL)
    nref++;
  while (sim != NULL && sim[nsim] != NULL)
    nsim++;
  if (nref != nsim)
    {
      g_string_append_printf (diff, "  %s: %u %s args, reference has %u\n",
                              where, nsim, direction, nref);
      return;
    }
  for (guint i = 0; i < nref; i++)
    {
      if (g_strcmp0 (ref[i]->name, sim[i]->name) != 0)
        g_string_append_printf (diff, "  %s: %s arg %u named '%s', reference '%s'\n",
                                where, direction, i, sim[i]->name, ref[i]->name);
      if (g_strcmp0 (ref[i]->signature, sim[i]->signature) != 0)
        g_string_append_printf (diff, "  %s: %s arg %u '%s' has type %s, reference %s\n",
                                where, direction, i, ref[i]->name,
                                sim[i]->signature, ref[i]->signature);
    }
}

static const char *
access_name (GDBusPropertyInfoFlags flags)
{
  switch ((int) flags)
    {
    case G_DBUS_PROPERTY_INFO_FLAGS_READABLE:
      return "read";
    case G_DBUS_PROPERTY_INFO_FLAGS_WRITABLE:
      return "write";
    case G_DBUS_PROPERTY_INFO_FLAGS_READABLE | G_DBUS_PROPERTY_INFO_FLAGS_WRITABLE:
      return "readwrite";
    default:
      return "none";
    }
}

static void
compare_interface (GString            *diff,
                   GDBusInterfaceInfo *ref,
                   GDBusInterfaceInfo *sim)
{
  for (guint i = 0; ref->methods != NULL && ref->methods[i] != NULL; i++)
    {
      GDBusMethodInfo *rm = ref->methods[i];
      GDBusMethodInfo *sm = g_dbus_interface_info_lookup_method (sim, rm->name);
      g_autofree char *where = g_strdup_printf ("%s.%s()", ref->name, rm->name);

      if (sm == NULL)
        {
          g_string_append_printf (diff, "  missing method %s\n", where);
          continue;
        }
      compare_args (diff, where, "in", rm->in_args, sm->in_args);
      compare_args (diff, where, "out", rm->out_args, sm->out_args);
    }
  for (guint i = 0; sim->methods != NULL && sim->methods[i] != NULL; i++)
    if (g_dbus_interface_info_lookup_method (ref, sim->methods[i]->name) == NULL)
      g_string_append_printf (diff, "  extra method %s.%s()\n", ref->name,
                              sim->methods[i]->name);

  for (guint i = 0; ref->signals != NULL && ref->signals[i] != NULL; i++)
    {
      GDBusSignalInfo *rs = ref->signals[i];
      GDBusSignalInfo *ss = g_dbus_interface_info_lookup_signal (sim, rs->name);
      g_autofree char *where = g_strdup_printf ("signal %s.%s", ref->name, rs->name);

      if (ss == NULL)
        {
          g_string_append_printf (diff, "  missing %s\n", where);
          continue;
        }
      compare_args (diff, where, "signal", rs->args, ss->args);
    }
  for (guint i = 0; sim->signals != NULL && sim->signals[i] != NULL; i++)
    if (g_dbus_interface_info_lookup_signal (ref, sim->signals[i]->name) == NULL)
      g_string_append_printf (diff, "  extra signal %s.%s\n", ref->name,
                              sim->signals[i]->name);

  for (guint i = 0; ref->properties != NULL && ref->properties[i] != NULL; i++)
    {
      GDBusPropertyInfo *rp = ref->properties[i];
      GDBusPropertyInfo *sp = g_dbus_interface_info_lookup_property (sim, rp->name);

      if (sp == NULL)
        {
          g_string_append_printf (diff, "  missing property %s.%s\n", ref->name, rp->name);
          continue;
        }
      if (g_strcmp0 (rp->signature, sp->signature) != 0)
        g_string_append_printf (diff, "  property %s.%s has type %s, reference %s\n",
                                ref->name, rp->name, sp->signature, rp->signature);
      if (rp->flags != sp->flags)
        g_string_append_printf (diff, "  property %s.%s has access %s, reference %s\n",
                                ref->name, rp->name, access_name (sp->flags),
                                access_name (rp->flags));
    }
  for (guint i = 0; sim->properties != NULL && sim->properties[i] != NULL; i++)
    if (g_dbus_interface_info_lookup_property (ref, sim->properties[i]->name) == NULL)
      g_string_append_printf (diff, "  extra property %s.%s\n", ref->name,
                              sim->properties[i]->name);
}

/* Compares @path's Introspect() with the reference file @reference and
 * fails with every difference listed. */
static void
check_object (SimFixture *fx,
              const char *path,
              const char *reference)
{
  g_autoptr(GDBusNodeInfo) ref = load_reference (reference);
  g_autoptr(GDBusNodeInfo) sim = introspect (fx, path);
  g_autoptr(GString) diff = g_string_new (NULL);

  for (guint i = 0; ref->interfaces != NULL && ref->interfaces[i] != NULL; i++)
    {
      GDBusInterfaceInfo *ri = ref->interfaces[i];
      GDBusInterfaceInfo *si = g_dbus_node_info_lookup_interface (sim, ri->name);

      if (si == NULL)
        g_string_append_printf (diff, "  missing interface %s\n", ri->name);
      else
        compare_interface (diff, ri, si);
    }
  for (guint i = 0; sim->interfaces != NULL && sim->interfaces[i] != NULL; i++)
    if (g_dbus_node_info_lookup_interface (ref, sim->interfaces[i]->name) == NULL)
      g_string_append_printf (diff, "  extra interface %s\n", sim->interfaces[i]->name);

  if (diff->len > 0)
    fail_msg ("Introspect(%s) differs from %s:\n%s", path, reference, diff->str);
}

static int
group_setup (void **state)
{
  Group *group = g_new0 (Group, 1);

  if (!sim_fixture_start (&group->fx, NULL))
    {
      g_free (group);
      return -1;
    }
  *state = group;
  return 0;
}

static int
group_teardown (void **state)
{
  Group *group = *state;

  sim_fixture_free (group->fx);
  g_free (group->device);
  g_free (group);
  return 0;
}

static const char *
demo_device (Group *group)
{
  g_autoptr(GError) error = NULL;

  if (group->device == NULL)
    group->device = sim_fixture_find_device (group->fx, ADAPTER, DEMO_NAME, &error);
  if (group->device == NULL)
    fail_msg ("the demo peripheral %s: %s", DEMO_NAME, error->message);
  return group->device;
}

static const char *
connected_demo_device (Group *group)
{
  const char *device = demo_device (group);
  g_autoptr(GVariant) resolved = sim_fixture_get_property (group->fx, device,
                                                           "org.bluez.Device1",
                                                           "ServicesResolved");
  g_autoptr(GError) error = NULL;

  if (resolved != NULL && g_variant_get_boolean (resolved))
    return device;
  if (!sim_fixture_connect_device (group->fx, device, &error))
    fail_msg ("connecting %s: %s", device, error->message);
  return device;
}

static void
test_root (void **state)
{
  Group *group = *state;

  check_object (group->fx, "/", "introspect-root.xml");
}

static void
test_org_bluez (void **state)
{
  Group *group = *state;

  check_object (group->fx, "/org/bluez", "introspect-org-bluez.xml");
}

static void
test_adapter (void **state)
{
  Group *group = *state;

  check_object (group->fx, ADAPTER, "introspect-adapter.xml");
}

static void
test_device_disconnected (void **state)
{
  Group *group = *state;
  const char *device = demo_device (group);
  g_autoptr(GVariant) connected = sim_fixture_get_property (group->fx, device,
                                                            "org.bluez.Device1",
                                                            "Connected");

  assert_non_null (connected);
  assert_false (g_variant_get_boolean (connected));
  check_object (group->fx, device, "introspect-device-disconnected.xml");
}

static void
test_device_connected (void **state)
{
  Group *group = *state;

  check_object (group->fx, connected_demo_device (group),
                "introspect-device-connected.xml");
}

static void
test_service (void **state)
{
  Group *group = *state;
  const char *device = connected_demo_device (group);
  g_autofree char *path = sim_fixture_find_gatt (group->fx, device,
                                                 "org.bluez.GattService1",
                                                 NULL, NULL, NULL);

  if (path == NULL)
    fail_msg ("no GattService1 under %s", device);
  check_object (group->fx, path, "introspect-gattservice1.xml");
}

static void
test_characteristic (void **state)
{
  Group *group = *state;
  const char *device = connected_demo_device (group);
  g_autofree char *path = sim_fixture_find_gatt (group->fx, device,
                                                 "org.bluez.GattCharacteristic1",
                                                 NULL, NULL, NULL);

  if (path == NULL)
    fail_msg ("no GattCharacteristic1 under %s", device);
  check_object (group->fx, path, "introspect-gattcharacteristic1.xml");
}

static void
test_descriptor (void **state)
{
  Group *group = *state;
  const char *device = connected_demo_device (group);
  g_autofree char *path = sim_fixture_find_gatt (group->fx, device,
                                                 "org.bluez.GattDescriptor1",
                                                 NULL, NULL, NULL);

  if (path == NULL)
    fail_msg ("no GattDescriptor1 under %s", device);
  check_object (group->fx, path, "introspect-gattdescriptor1.xml");
}

/* Every characteristic and descriptor, not only the first, shows the
 * same members: the object kind decides, not the flags. */
static void
test_every_gatt_object (void **state)
{
  Group *group = *state;
  const char *device = connected_demo_device (group);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) objects = sim_fixture_get_objects (group->fx, &error);
  g_autofree char *prefix = g_strconcat (device, "/", NULL);
  guint checked = 0;
  gsize n;

  if (objects == NULL)
    fail_msg ("GetManagedObjects: %s", error->message);
  n = g_variant_n_children (objects);
  for (gsize i = 0; i < n; i++)
    {
      const char *path = NULL;
      g_autoptr(GVariant) ifaces = NULL;
      g_autoptr(GVariant) props = NULL;

      g_variant_get_child (objects, i, "{&o@a{sa{sv}}}", &path, &ifaces);
      if (!g_str_has_prefix (path, prefix))
        continue;
      if ((props = g_variant_lookup_value (ifaces, "org.bluez.GattService1", NULL)) != NULL)
        check_object (group->fx, path, "introspect-gattservice1.xml");
      else if ((props = g_variant_lookup_value (ifaces, "org.bluez.GattCharacteristic1", NULL)) != NULL)
        check_object (group->fx, path, "introspect-gattcharacteristic1.xml");
      else if ((props = g_variant_lookup_value (ifaces, "org.bluez.GattDescriptor1", NULL)) != NULL)
        check_object (group->fx, path, "introspect-gattdescriptor1.xml");
      else
        fail_msg ("%s: an object under the device with no GATT interface", path);
      checked++;
    }
  /* The demo has at least four services, each with characteristics. */
  assert_true (checked >= 8);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_root),
    cmocka_unit_test (test_org_bluez),
    cmocka_unit_test (test_adapter),
    cmocka_unit_test (test_device_disconnected),
    cmocka_unit_test (test_device_connected),
    cmocka_unit_test (test_service),
    cmocka_unit_test (test_characteristic),
    cmocka_unit_test (test_descriptor),
    cmocka_unit_test (test_every_gatt_object),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
