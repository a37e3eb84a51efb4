/* SPDX-License-Identifier: MIT */
/*
 * LEAdvertisingManager1 and the shared air of bleio-sim (issue 16, items
 * 5 to 8) on tools/bleio-sim/scenarios/two-adapters.json: what bluetoothd
 * 5.66 answers to each advertisement (src/advertising.c, src/shared/ad.c),
 * the instances, Release, the owner leaving; what hci1 advertises hci0
 * discovers with the advertised fields; a connect from hci0 is a link on
 * both adapters and either side ends it; ConnectCentral.
 *
 * The advertisements are served by a FakeAdvertiser: its own bus
 * connection whose message filter answers GetAll with whatever a{sv} the
 * case wants (wrong types included) and records Release().
 */
#include "sim-fixture.h"
#include "sim-expect.h"
#include "test-data.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

/* bluetoothd's default adapter name, the GAP name a central reads */
#define SYSTEM_NAME (test_data_bluez_is_582 () ? "BlueZ 5.82" : "BlueZ 5.66")

#define HCI0 "/org/bluez/hci0"
#define HCI1 "/org/bluez/hci1"
#define HCI0_ADDRESS "00:AA:01:00:00:00"
/* hci1 as hci0 sees it, and hci0 as hci1 sees it */
#define DEV_HCI1 "/org/bluez/hci0/dev_00_AA_01_01_00_01"
#define DEV_HCI0 "/org/bluez/hci1/dev_00_AA_01_00_00_00"
#define MANAGER1 "org.bluez.LEAdvertisingManager1"
#define ADAPTER1 "org.bluez.Adapter1"
#define DEVICE1 "org.bluez.Device1"
#define ADV_PATH "/test/adv0"
#define WAIT_MSEC 10000

static SimFixture *fx;

/* ---- a fake application serving LEAdvertisement1 objects ---- */

typedef struct {
  GDBusConnection *conn;
  guint filter_id;
  GMutex lock;
  GHashTable *props;          /* path -> a{sv} */
  GPtrArray *releases;        /* char *, paths Release() was called on */
} FakeAdvertiser;

static GDBusMessage *
advertiser_filter (GDBusConnection *conn,
                   GDBusMessage    *message,
                   gboolean         incoming,
                   gpointer         user_data)
{
  FakeAdvertiser *fa = user_data;
  const char *path = g_dbus_message_get_path (message);
  const char *member = g_dbus_message_get_member (message);
  g_autoptr(GDBusMessage) reply = NULL;
  GVariant *props;

  if (!incoming || g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_METHOD_CALL
      || path == NULL || !g_str_has_prefix (path, "/test/"))
    return message;
  g_mutex_lock (&fa->lock);
  props = g_hash_table_lookup (fa->props, path);
  if (g_strcmp0 (member, "GetAll") == 0 && props != NULL)
    {
      reply = g_dbus_message_new_method_reply (message);
      g_dbus_message_set_body (reply, g_variant_new ("(@a{sv})", props));
    }
  else if (g_strcmp0 (member, "Release") == 0)
    {
      g_ptr_array_add (fa->releases, g_strdup (path));
      reply = g_dbus_message_new_method_reply (message);
    }
  else
    reply = g_dbus_message_new_method_error (message,
                                             "org.freedesktop.DBus.Error.UnknownObject",
                                             "No such object");
  g_mutex_unlock (&fa->lock);
  g_dbus_connection_send_message (conn, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL);
  g_object_unref (message);
  return NULL;
}

static FakeAdvertiser *
advertiser_new (void)
{
  g_autoptr(GError) error = NULL;
  FakeAdvertiser *fa = g_new0 (FakeAdvertiser, 1);

  g_mutex_init (&fa->lock);
  fa->props = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify) g_variant_unref);
  fa->releases = g_ptr_array_new_with_free_func (g_free);
  fa->conn = g_dbus_connection_new_for_address_sync (sim_fixture_get_address (fx),
                                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                                     | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                     NULL, NULL, &error);
  g_assert_no_error (error);
  fa->filter_id = g_dbus_connection_add_filter (fa->conn, advertiser_filter, fa, NULL);
  return fa;
}

static void
advertiser_free (FakeAdvertiser *fa)
{
  g_dbus_connection_remove_filter (fa->conn, fa->filter_id);
  g_dbus_connection_close_sync (fa->conn, NULL, NULL);
  g_object_unref (fa->conn);
  g_hash_table_unref (fa->props);
  g_ptr_array_unref (fa->releases);
  g_mutex_clear (&fa->lock);
  g_free (fa);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeAdvertiser, advertiser_free)

/* @props: an a{sv} text in GVariant's format, or NULL for no object */
static void
advertiser_set (FakeAdvertiser *fa,
                const char     *path,
                const char     *props)
{
  g_mutex_lock (&fa->lock);
  if (props == NULL)
    g_hash_table_remove (fa->props, path);
  else
    g_hash_table_replace (fa->props, g_strdup (path),
                          g_variant_ref_sink (g_variant_new_parsed (props)));
  g_mutex_unlock (&fa->lock);
}

static guint
advertiser_releases (FakeAdvertiser *fa,
                     const char     *path)
{
  guint n = 0;

  g_mutex_lock (&fa->lock);
  for (guint i = 0; i < fa->releases->len; i++)
    n += g_str_equal (g_ptr_array_index (fa->releases, i), path);
  g_mutex_unlock (&fa->lock);
  return n;
}

static gboolean
call_manager (FakeAdvertiser *fa,
              const char     *adapter,
              const char     *method,
              const char     *path,
              GError        **error)
{
  g_autoptr(GVariant) reply = NULL;
  GVariant *params = g_str_equal (method, "RegisterAdvertisement")
                     ? g_variant_new ("(oa{sv})", path, NULL)
                     : g_variant_new ("(o)", path);

  reply = g_dbus_connection_call_sync (fa->conn, "org.bluez", adapter, MANAGER1, method,
                                       params, NULL, G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC,
                                       NULL, error);
  return reply != NULL;
}

static guint
get_byte (const char *path,
          const char *name)
{
  g_autoptr(GVariant) v = sim_fixture_get_property (fx, path, MANAGER1, name);

  if (v == NULL)
    fail_msg ("%s has no %s", path, name);
  return g_variant_get_byte (v);
}

static gboolean
wait_active (const char *adapter,
             guint       n)
{
  return sim_fixture_wait_property (fx, adapter, MANAGER1, "ActiveInstances",
                                    g_variant_new_byte (n), WAIT_MSEC);
}

/* ---- the manager's properties ---- */

static void
test_manager_properties (void **state)
{
  g_autoptr(GVariant) includes = sim_fixture_get_property (fx, HCI1, MANAGER1,
                                                           "SupportedIncludes");
  g_autoptr(GVariant) features = sim_fixture_get_property (fx, HCI1, MANAGER1,
                                                           "SupportedFeatures");
  g_autoptr(GVariant) caps = sim_fixture_get_property (fx, HCI1, MANAGER1,
                                                       "SupportedCapabilities");
  g_autoptr(GVariant) secondary = sim_fixture_get_property (fx, HCI1, MANAGER1,
                                                            "SupportedSecondaryChannels");
  g_autofree char *includes_text = NULL;
  guint8 max_adv = 0;

  assert_int_equal (get_byte (HCI1, "ActiveInstances"), 0);
  assert_int_equal (get_byte (HCI1, "SupportedInstances"), 5);
  assert_non_null (includes);
  includes_text = g_variant_print (includes, FALSE);
  assert_string_equal (includes_text, "['tx-power', 'appearance', 'local-name']");
  assert_non_null (features);
  assert_int_equal (g_variant_n_children (features), 0);
  /* no extended advertising on the reference controller: no property */
  assert_null (secondary);
  assert_non_null (caps);
  assert_true (g_variant_lookup (caps, "MaxAdvLen", "y", &max_adv));
  assert_int_equal (max_adv, 31);
}

/* ---- registration ---- */

static void
test_register_unregister (void **state)
{
  g_autoptr(FakeAdvertiser) fa = advertiser_new ();
  g_autoptr(GError) error = NULL;

  advertiser_set (fa, ADV_PATH, "{'Type': <'peripheral'>, 'LocalName': <'Reg'>}");
  if (!call_manager (fa, HCI1, "RegisterAdvertisement", ADV_PATH, &error))
    fail_msg ("RegisterAdvertisement: %s", error->message);
  assert_true (wait_active (HCI1, 1));
  assert_int_equal (get_byte (HCI1, "SupportedInstances"), 4);
  /* the other adapter counts its own */
  assert_int_equal (get_byte (HCI0, "ActiveInstances"), 0);

  assert_false (call_manager (fa, HCI1, "RegisterAdvertisement", ADV_PATH, &error));
  sim_expect_remote_error (error, "org.bluez.Error.AlreadyExists", "Already Exists",
                           "the same object registered twice");
  g_clear_error (&error);

  if (!call_manager (fa, HCI1, "UnregisterAdvertisement", ADV_PATH, &error))
    fail_msg ("UnregisterAdvertisement: %s", error->message);
  assert_true (wait_active (HCI1, 0));
  assert_int_equal (get_byte (HCI1, "SupportedInstances"), 5);
  assert_int_equal (advertiser_releases (fa, ADV_PATH), 0);

  assert_false (call_manager (fa, HCI1, "UnregisterAdvertisement", ADV_PATH, &error));
  sim_expect_remote_error (error, "org.bluez.Error.DoesNotExist", "Does Not Exist",
                           "unregistering what is not registered");
}

/* Each of these is refused by parse_advertisement() of bluetoothd 5.66
 * with one message; the instance it held is free again. */
static void
test_register_bad_properties (void **state)
{
  static const struct {
    const char *what;
    const char *props;
  } cases[] = {
    { "unknown Type", "{'Type': <'bogus'>}" },
    { "Type not a string", "{'Type': <uint32 1>}" },
    { "ServiceUUIDs not a UUID", "{'Type': <'peripheral'>, 'ServiceUUIDs': <['zzzz']>}" },
    { "ServiceUUIDs not an array", "{'Type': <'peripheral'>, 'ServiceUUIDs': <'180d'>}" },
    { "SolicitUUIDs of three characters", "{'Type': <'peripheral'>, 'SolicitUUIDs': <['18d']>}" },
    { "ManufacturerData value not bytes",
      "{'Type': <'peripheral'>, 'ManufacturerData': <{uint16 0x59: <'text'>}>}" },
    { "ManufacturerData of 28 bytes",
      "{'Type': <'peripheral'>, 'ManufacturerData': <{uint16 0x59: <@ay [0,1,2,3,4,5,6,7,8,9,"
      "10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27]>}>}" },
    { "ServiceData keyed by no UUID",
      "{'Type': <'peripheral'>, 'ServiceData': <{'nope': <@ay [1]>}>}" },
    { "Data of type Flags", "{'Type': <'peripheral'>, 'Data': <{byte 0x01: <@ay [6]>}>}" },
    { "Data of type manufacturer", "{'Type': <'peripheral'>, 'Data': <{byte 0xff: <@ay [6]>}>}" },
    { "Data of 30 bytes",
      "{'Type': <'peripheral'>, 'Data': <{byte 0x26: <@ay [0,1,2,3,4,5,6,7,8,9,10,11,12,13,"
      "14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29]>}>}" },
    { "LocalName with Includes local-name",
      "{'Type': <'peripheral'>, 'Includes': <['local-name']>, 'LocalName': <'Both'>}" },
    { "Appearance with Includes appearance",
      "{'Type': <'peripheral'>, 'Includes': <['appearance']>, 'Appearance': <uint16 64>}" },
    { "Discoverable broadcast", "{'Type': <'broadcast'>, 'Discoverable': <true>}" },
    { "DiscoverableTimeout beyond Timeout",
      "{'Type': <'peripheral'>, 'Discoverable': <true>, 'Timeout': <uint16 5>,"
      " 'DiscoverableTimeout': <uint16 10>}" },
    { "SecondaryChannel without extended advertising",
      "{'Type': <'peripheral'>, 'SecondaryChannel': <'1M'>}" },
    { "MinInterval under 20 ms", "{'Type': <'peripheral'>, 'MinInterval': <uint32 10>,"
      " 'MaxInterval': <uint32 100>}" },
    { "MinInterval without MaxInterval", "{'Type': <'peripheral'>, 'MinInterval': <uint32 100>}" },
    { "MinInterval above MaxInterval", "{'Type': <'peripheral'>, 'MinInterval': <uint32 200>,"
      " 'MaxInterval': <uint32 100>}" },
    { "TxPower above 20", "{'Type': <'peripheral'>, 'TxPower': <int16 21>}" },
    { "LocalName not a string", "{'Type': <'peripheral'>, 'LocalName': <uint16 1>}" },
    { "Timeout not a uint16", "{'Type': <'peripheral'>, 'Timeout': <uint32 1>}" },
  };
  g_autoptr(FakeAdvertiser) fa = advertiser_new ();

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;

      advertiser_set (fa, ADV_PATH, cases[i].props);
      if (call_manager (fa, HCI1, "RegisterAdvertisement", ADV_PATH, &error))
        fail_msg ("%s: registered; bluetoothd 5.66 refuses it", cases[i].what);
      sim_expect_remote_error (error, "org.bluez.Error.Failed", "Failed to parse advertisement.",
                               cases[i].what);
      assert_int_equal (get_byte (HCI1, "ActiveInstances"), 0);
    }
}

/* What parses but does not fit in 31 bytes is refused once the kernel
 * saw it, with another message; what just fits is taken. */
static void
test_register_too_long (void **state)
{
  static const struct {
    const char *what;
    const char *props;
    gboolean fits;
  } cases[] = {
    { "two 128-bit UUIDs (34 bytes)",
      "{'Type': <'peripheral'>, 'ServiceUUIDs': <['12345678-1234-5678-1234-56789abcdef0',"
      " '12345678-1234-5678-1234-56789abcdef1']>}", FALSE },
    { "27 bytes of manufacturer data and the TX power",
      "{'Type': <'peripheral'>, 'Includes': <['tx-power']>, 'ManufacturerData': <{uint16 0x59:"
      " <@ay [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26]>}>}", FALSE },
    { "27 bytes of manufacturer data (31 bytes)",
      "{'Type': <'peripheral'>, 'ManufacturerData': <{uint16 0x59:"
      " <@ay [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26]>}>}", TRUE },
    { "a 40-character name (sent shortened)",
      "{'Type': <'peripheral'>, 'LocalName': <'A name of forty characters, give or take'>}", TRUE },
    { "Includes appearance (the kernel refuses the Appearance bluetoothd adds)",
      "{'Type': <'peripheral'>, 'Includes': <['appearance']>}", FALSE },
    { "fourteen 16-bit UUIDs, one written in 128 bits (30 bytes)",
      "{'Type': <'peripheral'>, 'ServiceUUIDs': <['0000180d-0000-1000-8000-00805f9b34fb',"
      " '180f', '1810', '1811', '1812', '1813', '1814', '1815', '1816', '1817', '1818',"
      " '1819', '181a', '181b']>}", TRUE },
  };
  g_autoptr(FakeAdvertiser) fa = advertiser_new ();

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      gboolean ok;

      advertiser_set (fa, ADV_PATH, cases[i].props);
      ok = call_manager (fa, HCI1, "RegisterAdvertisement", ADV_PATH, &error);
      if (cases[i].fits)
        {
          if (!ok)
            fail_msg ("%s: %s", cases[i].what, error->message);
          assert_true (call_manager (fa, HCI1, "UnregisterAdvertisement", ADV_PATH, NULL));
        }
      else
        sim_expect_remote_error (error, "org.bluez.Error.Failed", "Failed to register advertisement",
                                 cases[i].what);
      assert_true (wait_active (HCI1, 0));
    }
}

/* Keys of another type than bluetoothd expects are taken as they come
 * (recorded on 5.66): ManufacturerData keyed by a string, Data keyed by a
 * uint16, unknown Includes and unknown properties. */
static void
test_register_odd_but_accepted (void **state)
{
  static const char *const cases[] = {
    "{'Type': <'peripheral'>, 'ManufacturerData': <{'abc': <@ay [1, 2]>}>}",
    "{'Type': <'peripheral'>, 'Data': <{uint16 0x24: <@ay [0x16]>}>}",
    "{'Type': <'peripheral'>, 'Includes': <['bogus']>}",
    "{'Type': <'peripheral'>, 'Bogus': <'x'>}",
    "{'LocalName': <'NoType'>}",
    "{'Type': <'peripheral'>, 'MaxInterval': <uint32 100>}",
    "{'Type': <'peripheral'>, 'TxPower': <int16 -127>, 'Includes': <['tx-power']>}",
  };
  g_autoptr(FakeAdvertiser) fa = advertiser_new ();

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;

      advertiser_set (fa, ADV_PATH, cases[i]);
      if (!call_manager (fa, HCI1, "RegisterAdvertisement", ADV_PATH, &error))
        fail_msg ("%s: %s; bluetoothd 5.66 registers it", cases[i], error->message);
      assert_true (call_manager (fa, HCI1, "UnregisterAdvertisement", ADV_PATH, NULL));
    }
  assert_true (wait_active (HCI1, 0));
}

static void
test_maximum_instances (void **state)
{
  g_autoptr(FakeAdvertiser) fa = advertiser_new ();
  g_autoptr(GError) error = NULL;
  char path[32];

  for (guint i = 0; i < 6; i++)
    {
      g_snprintf (path, sizeof path, "/test/max%u", i);
      advertiser_set (fa, path, "{'Type': <'broadcast'>}");
    }
  for (guint i = 0; i < 5; i++)
    {
      g_snprintf (path, sizeof path, "/test/max%u", i);
      if (!call_manager (fa, HCI1, "RegisterAdvertisement", path, &error))
        fail_msg ("instance %u: %s", i + 1, error->message);
    }
  assert_true (wait_active (HCI1, 5));
  assert_int_equal (get_byte (HCI1, "SupportedInstances"), 0);
  assert_false (call_manager (fa, HCI1, "RegisterAdvertisement", "/test/max5", &error));
  sim_expect_remote_error (error, "org.bluez.Error.NotPermitted", "Maximum advertisements reached",
                           "a sixth advertisement");
  for (guint i = 0; i < 5; i++)
    {
      g_snprintf (path, sizeof path, "/test/max%u", i);
      assert_true (call_manager (fa, HCI1, "UnregisterAdvertisement", path, NULL));
    }
  assert_true (wait_active (HCI1, 0));
}

/* gdbus's client adds the proxy even when GetAll fails: bluetoothd then
 * registers an advertisement without a single property (a broadcast). */
static void
test_register_missing_object_is_empty_broadcast (void **state)
{
  g_autoptr(FakeAdvertiser) fa = advertiser_new ();
  g_autoptr(GError) error = NULL;

  if (!call_manager (fa, HCI1, "RegisterAdvertisement", "/test/nothing", &error))
    fail_msg ("RegisterAdvertisement of an object that does not exist: %s; bluetoothd "
              "5.66 registers it empty", error->message);
  assert_true (wait_active (HCI1, 1));
  assert_true (call_manager (fa, HCI1, "UnregisterAdvertisement", "/test/nothing", NULL));
  assert_true (wait_active (HCI1, 0));
}

static gboolean
released (gpointer data)
{
  return advertiser_releases (data, ADV_PATH) > 0;
}

/* Timeout ends the advertisement: Release(), then the counts. */
static void
test_timeout_releases (void **state)
{
  g_autoptr(FakeAdvertiser) fa = advertiser_new ();
  g_autoptr(GError) error = NULL;

  advertiser_set (fa, ADV_PATH, "{'Type': <'peripheral'>, 'Timeout': <uint16 1>}");
  if (!call_manager (fa, HCI1, "RegisterAdvertisement", ADV_PATH, &error))
    fail_msg ("RegisterAdvertisement: %s", error->message);
  assert_true (sim_fixture_wait_until (released, fa, WAIT_MSEC));
  assert_true (wait_active (HCI1, 0));
  assert_int_equal (advertiser_releases (fa, ADV_PATH), 1);
  assert_false (call_manager (fa, HCI1, "UnregisterAdvertisement", ADV_PATH, &error));
  sim_expect_remote_error (error, "org.bluez.Error.DoesNotExist", "Does Not Exist",
                           "unregistering after the timeout");
}

static void
test_owner_leaving_ends_it (void **state)
{
  FakeAdvertiser *fa = advertiser_new ();
  g_autoptr(GError) error = NULL;

  advertiser_set (fa, ADV_PATH, "{'Type': <'peripheral'>}");
  if (!call_manager (fa, HCI1, "RegisterAdvertisement", ADV_PATH, &error))
    fail_msg ("RegisterAdvertisement: %s", error->message);
  assert_true (wait_active (HCI1, 1));
  advertiser_free (fa);
  assert_true (wait_active (HCI1, 0));
}

/* manager_destroy(): every advertisement of a removed adapter gets
 * Release() */
static void
test_adapter_removed_releases (void **state)
{
  g_autoptr(FakeAdvertiser) fa = advertiser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  advertiser_set (fa, ADV_PATH, "{'Type': <'peripheral'>}");
  if (!call_manager (fa, HCI1, "RegisterAdvertisement", ADV_PATH, &error))
    fail_msg ("RegisterAdvertisement: %s", error->message);
  reply = sim_fixture_call (fx, "RemoveAdapter", g_variant_new ("(s)", "hci1"), &error);
  assert_non_null (reply);
  assert_true (sim_fixture_wait_until (released, fa, WAIT_MSEC));
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call (fx, "AddAdapter", g_variant_new ("(ss)", "hci1", "00:AA:01:01:00:01"),
                            &error);
  assert_non_null (reply);
  assert_int_equal (get_byte (HCI1, "ActiveInstances"), 0);
}

static void
on_counts_changed (GDBusConnection *conn,
                   const char      *sender,
                   const char      *path,
                   const char      *interface,
                   const char      *signal,
                   GVariant        *params,
                   gpointer         user_data)
{
  g_autoptr(GVariant) changed = g_variant_get_child_value (params, 1);
  g_autoptr(GVariant) first = g_variant_n_children (changed) > 0
                              ? g_variant_get_child_value (changed, 0) : NULL;
  const char *name = NULL;

  if (first != NULL)
    g_variant_get_child (first, 0, "&s", &name);
  g_ptr_array_add (user_data, g_strdup_printf ("signal:%s:%zu", name != NULL ? name : "",
                                               g_variant_n_children (changed)));
}

static void
on_register_reply (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);

  g_ptr_array_add (user_data, g_strdup (reply != NULL ? "reply" : error->message));
}

static gboolean
two_events (gpointer data)
{
  return ((GPtrArray *) data)->len >= 2;
}

/* Recorded on 5.66: one PropertiesChanged with SupportedInstances then
 * ActiveInstances, before the reply to RegisterAdvertisement. */
static void
test_register_counts_before_reply (void **state)
{
  g_autoptr(FakeAdvertiser) fa = advertiser_new ();
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GVariant) id = NULL;
  guint sub;

  advertiser_set (fa, ADV_PATH, "{'Type': <'peripheral'>}");
  sub = g_dbus_connection_signal_subscribe (fa->conn, "org.bluez",
                                            "org.freedesktop.DBus.Properties",
                                            "PropertiesChanged", HCI1, MANAGER1,
                                            G_DBUS_SIGNAL_FLAGS_NONE, on_counts_changed,
                                            events, NULL);
  /* the match rule is in place once a round trip went through */
  id = g_dbus_connection_call_sync (fa->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                    "org.freedesktop.DBus", "GetId", NULL, NULL,
                                    G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC, NULL, NULL);
  assert_non_null (id);
  g_dbus_connection_call (fa->conn, "org.bluez", HCI1, MANAGER1, "RegisterAdvertisement",
                          g_variant_new ("(oa{sv})", ADV_PATH, NULL), NULL,
                          G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC, NULL, on_register_reply, events);
  assert_true (sim_fixture_wait_until (two_events, events, WAIT_MSEC));
  g_dbus_connection_signal_unsubscribe (fa->conn, sub);
  assert_string_equal (g_ptr_array_index (events, 0), "signal:SupportedInstances:2");
  assert_string_equal (g_ptr_array_index (events, 1), "reply");
  assert_true (call_manager (fa, HCI1, "UnregisterAdvertisement", ADV_PATH, NULL));
  assert_true (wait_active (HCI1, 0));
}

/* ---- the air ---- */

static const char air_props[] =
  "{'Type': <'peripheral'>, 'LocalName': <'BleioAdv'>, 'ServiceUUIDs': <['180f']>,"
  " 'ManufacturerData': <{uint16 0x0059: <@ay [1, 2]>}>,"
  " 'ServiceData': <{'9999': <@ay [0, 1, 2]>}>, 'Data': <{byte 0x26: <@ay [1, 1, 0]>}>,"
  " 'Appearance': <uint16 832>, 'Includes': <['tx-power']>}";

static void
set_filter (GDBusConnection *conn,
            const char      *filter)
{
  g_autoptr(GVariant) r = g_dbus_connection_call_sync (conn, "org.bluez", HCI0, ADAPTER1,
                                                       "SetDiscoveryFilter",
                                                       g_variant_new_parsed (filter), NULL,
                                                       G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC,
                                                       NULL, NULL);

  assert_non_null (r);
}

/* A filtered discovery, as libbleio's and bleioctl's: bluetoothd then
 * reports advertisements without the discoverable flags too */
static void
start_discovery (GDBusConnection *conn)
{
  g_autoptr(GVariant) r = NULL;

  set_filter (conn, "({'Transport': <'le'>},)");
  r = g_dbus_connection_call_sync (conn, "org.bluez", HCI0, ADAPTER1, "StartDiscovery", NULL,
                                   NULL, G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC, NULL, NULL);
  assert_non_null (r);
}

static void
stop_discovery (GDBusConnection *conn)
{
  g_autoptr(GVariant) r = g_dbus_connection_call_sync (conn, "org.bluez", HCI0, ADAPTER1,
                                                       "StopDiscovery", NULL, NULL,
                                                       G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC,
                                                       NULL, NULL);

  assert_non_null (r);
}

static void
remove_device (const char *adapter,
               const char *device)
{
  g_autoptr(GVariant) r = sim_fixture_call_bluez (fx, adapter, ADAPTER1, "RemoveDevice",
                                                  g_variant_new ("(o)", device), NULL);

  (void) r;
}

/* @expected: GVariant text (types where the text alone is ambiguous), or
 * "(absent)" */
static void
assert_property (const char *path,
                 const char *name,
                 const char *expected)
{
  g_autoptr(GVariant) v = sim_fixture_get_property (fx, path, DEVICE1, name);
  g_autofree char *text = v != NULL ? g_variant_print (v, TRUE) : g_strdup ("(absent)");
  g_autoptr(GVariant) want = NULL;

  if (g_str_equal (expected, "(absent)"))
    {
      if (v != NULL)
        fail_msg ("%s %s: %s, expected none", path, name, text);
      return;
    }
  want = g_variant_ref_sink (g_variant_new_parsed (expected));
  if (v == NULL || !g_variant_equal (v, want))
    fail_msg ("%s %s: %s, expected %s", path, name, text, expected);
}

static void
start_unfiltered_discovery (GDBusConnection *conn)
{
  g_autoptr(GVariant) r = NULL;

  /* an empty filter clears the client's filter */
  set_filter (conn, "(@a{sv} {},)");
  r = g_dbus_connection_call_sync (conn, "org.bluez", HCI0, ADAPTER1, "StartDiscovery", NULL,
                                   NULL, G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC, NULL, NULL);
  assert_non_null (r);
}

static gboolean
device_exists (gpointer path)
{
  g_autoptr(GVariant) v = sim_fixture_get_property (fx, path, DEVICE1, "Address");

  return v != NULL;
}

/* Recorded on 5.66: an unfiltered discovery does not report an
 * advertisement without the discoverable flags (device_is_discoverable());
 * with Discoverable it does. The marker advertiser (a scenario peripheral
 * with the flags, advertising as often) shows that discovery ran long
 * enough to have heard hci1. */
static void
test_air_unfiltered_discovery_needs_discoverable (void **state)
{
  g_autoptr(FakeAdvertiser) fa = advertiser_new ();
  GDBusConnection *conn = sim_fixture_get_connection (fx);
  g_autofree char *marker = NULL;
  g_autoptr(GError) error = NULL;

  remove_device (HCI0, DEV_HCI1);
  marker = sim_fixture_add_device (fx, "hci0",
                                   "{ \"address\": \"C0:FF:EE:00:16:02\", \"name\": \"Marker\","
                                   " \"advertising_flags\": \"06\","
                                   " \"advertising_interval_ms\": 1280 }", &error);
  assert_non_null (marker);
  advertiser_set (fa, ADV_PATH, "{'Type': <'peripheral'>, 'LocalName': <'Quiet'>}");
  assert_true (call_manager (fa, HCI1, "RegisterAdvertisement", ADV_PATH, NULL));
  start_unfiltered_discovery (conn);
  assert_true (sim_fixture_wait_until (device_exists, marker, WAIT_MSEC));
  /* both were reported together at the start of discovery */
  assert_property (DEV_HCI1, "Address", "(absent)");
  stop_discovery (conn);
  assert_true (call_manager (fa, HCI1, "UnregisterAdvertisement", ADV_PATH, NULL));

  advertiser_set (fa, ADV_PATH, "{'Type': <'peripheral'>, 'LocalName': <'Loud'>,"
                  " 'Discoverable': <true>}");
  assert_true (call_manager (fa, HCI1, "RegisterAdvertisement", ADV_PATH, NULL));
  start_unfiltered_discovery (conn);
  assert_true (sim_fixture_wait_property (fx, DEV_HCI1, DEVICE1, "Name",
                                          g_variant_new_string ("Loud"), WAIT_MSEC));
  stop_discovery (conn);
  assert_true (call_manager (fa, HCI1, "UnregisterAdvertisement", ADV_PATH, NULL));
  remove_device (HCI0, DEV_HCI1);
  assert_true (sim_fixture_remove_device (fx, marker, NULL));
}

/* hci1 advertises, hci0 discovers hci1's address with the fields */
static void
test_air_discovery (void **state)
{
  g_autoptr(FakeAdvertiser) fa = advertiser_new ();
  g_autoptr(GError) error = NULL;
  GDBusConnection *conn = sim_fixture_get_connection (fx);

  advertiser_set (fa, ADV_PATH, air_props);
  if (!call_manager (fa, HCI1, "RegisterAdvertisement", ADV_PATH, &error))
    fail_msg ("RegisterAdvertisement: %s", error->message);
  start_discovery (conn);
  assert_true (sim_fixture_wait_property (fx, DEV_HCI1, DEVICE1, "Name",
                                          g_variant_new_string ("BleioAdv"), WAIT_MSEC));
  assert_property (DEV_HCI1, "Alias", "'BleioAdv'");
  assert_property (DEV_HCI1, "AddressType", "'public'");
  /* 5.69 and later also list the service data's UUID (issue 21) */
  if (test_data_bluez_is_582 ())
    assert_property (DEV_HCI1, "UUIDs", "['0000180f-0000-1000-8000-00805f9b34fb', "
                                        "'00009999-0000-1000-8000-00805f9b34fb']");
  else
    assert_property (DEV_HCI1, "UUIDs", "['0000180f-0000-1000-8000-00805f9b34fb']");
  assert_property (DEV_HCI1, "ManufacturerData", "{uint16 89: <[byte 0x01, 0x02]>}");
  assert_property (DEV_HCI1, "ServiceData",
                   "{'00009999-0000-1000-8000-00805f9b34fb': <[byte 0x00, 0x01, 0x02]>}");
  assert_property (DEV_HCI1, "AdvertisingData", "{byte 0x26: <[byte 0x01, 0x01, 0x00]>}");
  /* LE only, not discoverable: the kernel's Flags, as in the capture */
  assert_property (DEV_HCI1, "AdvertisingFlags", "[byte 0x04]");
  assert_property (DEV_HCI1, "Appearance", "uint16 832");
  /* "tx-power": the kernel adds the controller's, 0 dBm (recorded) */
  assert_property (DEV_HCI1, "TxPower", "int16 0");
  {
    g_autoptr(GVariant) rssi = sim_fixture_get_property (fx, DEV_HCI1, DEVICE1, "RSSI");

    assert_non_null (rssi);
  }
  stop_discovery (conn);

  /* unregistered, it is heard no more: a new discovery does not bring
   * the removed device back */
  assert_true (call_manager (fa, HCI1, "UnregisterAdvertisement", ADV_PATH, NULL));
  remove_device (HCI0, DEV_HCI1);
  start_discovery (conn);
  assert_false (sim_fixture_wait_property (fx, DEV_HCI1, DEVICE1, "Name",
                                           g_variant_new_string ("BleioAdv"), 500));
  stop_discovery (conn);
}

/* Discovers hci1's advertisement from hci0 and connects to it. */
static void
connect_hci0_to_hci1 (void)
{
  GDBusConnection *conn = sim_fixture_get_connection (fx);
  g_autoptr(GError) error = NULL;

  start_discovery (conn);
  assert_true (sim_fixture_wait_property (fx, DEV_HCI1, DEVICE1, "Connected",
                                          g_variant_new_boolean (FALSE), WAIT_MSEC));
  stop_discovery (conn);
  if (!sim_fixture_connect_device (fx, DEV_HCI1, &error))
    fail_msg ("Connect from hci0 to hci1: %s", error->message);
}

static gint
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Each Device1 PropertiesChanged of DEV_HCI0 and DEV_HCI1 as "PATH:KEYS"
 * (KEYS sorted, joined by +), in order. */
static void
on_device_changed (GDBusConnection *conn,
                   const char      *sender,
                   const char      *path,
                   const char      *interface,
                   const char      *signal,
                   GVariant        *params,
                   gpointer         user_data)
{
  GPtrArray *log = user_data;
  g_autoptr(GVariant) changed = g_variant_get_child_value (params, 1);
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *joined = NULL;
  GVariantIter iter;
  char *key;

  g_variant_iter_init (&iter, changed);
  while (g_variant_iter_next (&iter, "{sv}", &key, NULL))
    g_ptr_array_add (keys, key);
  g_ptr_array_sort (keys, compare_strings);
  g_ptr_array_add (keys, NULL);
  joined = g_strjoinv ("+", (char **) keys->pdata);
  g_ptr_array_add (log, g_strdup_printf ("%s:%s", g_str_equal (path, DEV_HCI0) ? "hci1" : "hci0",
                                         joined));
}

static gboolean
log_contains (GPtrArray  *log,
              const char *entry)
{
  for (guint i = 0; i < log->len; i++)
    if (g_str_equal (g_ptr_array_index (log, i), entry))
      return TRUE;
  return FALSE;
}

typedef struct {
  GPtrArray *log;
  const char *entry;
} LogWait;

static gboolean
logged (gpointer data)
{
  LogWait *w = data;

  return log_contains (w->log, w->entry);
}

/* A disconnect as recorded on 5.66: the side that called Disconnect shows
 * ServicesResolved and Connected in two signals, the other end in one. */
static void
expect_disconnect_signals (GPtrArray  *log,
                           const char *closing,
                           const char *other)
{
  g_autofree char *both = g_strdup_printf ("%s:Connected+ServicesResolved", other);
  g_autofree char *first = g_strdup_printf ("%s:ServicesResolved", closing);
  g_autofree char *second = g_strdup_printf ("%s:Connected", closing);
  LogWait w = { log, both };

  assert_true (sim_fixture_wait_until (logged, &w, WAIT_MSEC));
  if (!log_contains (log, first) || !log_contains (log, second))
    fail_msg ("the side that disconnected (%s) did not show ServicesResolved and Connected "
              "apart", closing);
}

static void
test_air_link_both_sides (void **state)
{
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (g_free);
  GDBusConnection *conn = sim_fixture_get_connection (fx);
  guint sub;
  g_autoptr(FakeAdvertiser) fa = advertiser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  advertiser_set (fa, ADV_PATH, air_props);
  assert_true (call_manager (fa, HCI1, "RegisterAdvertisement", ADV_PATH, NULL));
  connect_hci0_to_hci1 ();
  /* hci1 shows the central: hci0's address, public, connected */
  assert_true (sim_fixture_wait_property (fx, DEV_HCI0, DEVICE1, "Connected",
                                          g_variant_new_boolean (TRUE), WAIT_MSEC));
  assert_property (DEV_HCI0, "Address", "'" HCI0_ADDRESS "'");
  assert_property (DEV_HCI0, "AddressType", "'public'");
  /* and browses its database: bluetoothd's own services, its GAP name */
  assert_true (sim_fixture_wait_property (fx, DEV_HCI0, DEVICE1, "ServicesResolved",
                                          g_variant_new_boolean (TRUE), WAIT_MSEC));
  assert_true (sim_fixture_wait_property (fx, DEV_HCI0, DEVICE1, "Name",
                                          g_variant_new_string (SYSTEM_NAME), WAIT_MSEC));
  /* hci0 read hci1's GAP name */
  assert_true (sim_fixture_wait_property (fx, DEV_HCI1, DEVICE1, "Name",
                                          g_variant_new_string (SYSTEM_NAME), WAIT_MSEC));
  /* the registration stays while connected (the reference capture) */
  assert_int_equal (get_byte (HCI1, "ActiveInstances"), 1);
  /* and hci1 stays connectable on the air: the kernel enables advertising
   * again right after the connection (recorded), so a second central gets
   * in */
  {
    g_autofree char *second = sim_fixture_add_device (fx, "hci0",
                                                      "{ \"address\": \"C0:FF:EE:00:16:03\" }",
                                                      NULL);
    g_autoptr(GVariant) path = NULL;
    const char *device = NULL;

    assert_non_null (second);
    path = sim_fixture_call (fx, "ConnectCentral",
                             g_variant_new ("(ss)", "hci1", "C0:FF:EE:00:16:03"), &error);
    if (path == NULL)
      fail_msg ("a second central while hci0 is connected: %s", error->message);
    g_variant_get (path, "(&o)", &device);
    assert_true (sim_fixture_drop_link (fx, device, "test", NULL));
    remove_device (HCI1, device);
    assert_true (sim_fixture_remove_device (fx, second, NULL));
  }

  /* hci0 disconnects: both sides */
  sub = g_dbus_connection_signal_subscribe (conn, "org.bluez", "org.freedesktop.DBus.Properties",
                                            "PropertiesChanged", NULL, DEVICE1,
                                            G_DBUS_SIGNAL_FLAGS_NONE, on_device_changed,
                                            log, NULL);
  reply = sim_fixture_call_bluez (fx, DEV_HCI1, DEVICE1, "Disconnect", NULL, &error);
  assert_non_null (reply);
  assert_true (sim_fixture_wait_property (fx, DEV_HCI0, DEVICE1, "Connected",
                                          g_variant_new_boolean (FALSE), WAIT_MSEC));
  assert_true (sim_fixture_wait_property (fx, DEV_HCI1, DEVICE1, "Connected",
                                          g_variant_new_boolean (FALSE), WAIT_MSEC));
  expect_disconnect_signals (log, "hci0", "hci1");
  g_ptr_array_set_size (log, 0);

  /* advertising again once the link is gone: hci0 connects again, and
   * this time hci1 disconnects */
  if (!sim_fixture_connect_device (fx, DEV_HCI1, &error))
    fail_msg ("second Connect: %s", error->message);
  assert_true (sim_fixture_wait_property (fx, DEV_HCI0, DEVICE1, "Connected",
                                          g_variant_new_boolean (TRUE), WAIT_MSEC));
  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call_bluez (fx, DEV_HCI0, DEVICE1, "Disconnect", NULL, &error);
  assert_non_null (reply);
  assert_true (sim_fixture_wait_property (fx, DEV_HCI1, DEVICE1, "Connected",
                                          g_variant_new_boolean (FALSE), WAIT_MSEC));
  assert_true (sim_fixture_wait_property (fx, DEV_HCI0, DEVICE1, "Connected",
                                          g_variant_new_boolean (FALSE), WAIT_MSEC));
  expect_disconnect_signals (log, "hci1", "hci0");
  g_dbus_connection_signal_unsubscribe (conn, sub);

  assert_true (call_manager (fa, HCI1, "UnregisterAdvertisement", ADV_PATH, NULL));
  remove_device (HCI0, DEV_HCI1);
  remove_device (HCI1, DEV_HCI0);
}

/* A broadcast goes out from a non-resolvable private address (recorded:
 * own address type random) and cannot be connected to */
static void
test_air_broadcast_private_address (void **state)
{
  g_autoptr(FakeAdvertiser) fa = advertiser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) address = NULL;
  g_autofree char *device = NULL;
  guint first_octet = 0xff;

  advertiser_set (fa, ADV_PATH, "{'Type': <'broadcast'>, 'LocalName': <'Beacon'>}");
  assert_true (call_manager (fa, HCI1, "RegisterAdvertisement", ADV_PATH, NULL));
  set_filter (sim_fixture_get_connection (fx), "({'Transport': <'le'>},)");
  device = sim_fixture_find_device (fx, HCI0, "Beacon", &error);
  if (device == NULL)
    fail_msg ("the broadcast was not discovered: %s", error->message);
  assert_string_not_equal (device, DEV_HCI1);
  assert_property (device, "AddressType", "'random'");
  address = sim_fixture_get_property (fx, device, DEVICE1, "Address");
  assert_non_null (address);
  assert_int_equal (sscanf (g_variant_get_string (address, NULL), "%x:", &first_octet), 1);
  assert_true (first_octet < 0x40);
  assert_property (DEV_HCI1, "Connected", "(absent)");

  reply = sim_fixture_call_bluez (fx, device, DEVICE1, "Connect", NULL, &error);
  sim_expect_remote_error (error, "org.bluez.Error.Failed", "le-connection-abort-by-local",
                           "Connect to a broadcast");
  assert_property (DEV_HCI0, "Connected", "(absent)");
  assert_true (call_manager (fa, HCI1, "UnregisterAdvertisement", ADV_PATH, NULL));
  remove_device (HCI0, device);
}

typedef struct {
  GVariant *device_props;     /* Device1 of DEV_HCI0 in its InterfacesAdded */
} Added;

static void
on_interfaces_added (GDBusConnection *conn,
                     const char      *sender,
                     const char      *path,
                     const char      *interface,
                     const char      *signal,
                     GVariant        *params,
                     gpointer         user_data)
{
  Added *added = user_data;
  const char *object;
  g_autoptr(GVariant) ifaces = NULL;

  g_variant_get (params, "(&o@a{sa{sv}})", &object, &ifaces);
  if (g_str_equal (object, DEV_HCI0) && added->device_props == NULL)
    added->device_props = g_variant_lookup_value (ifaces, DEVICE1, NULL);
}

static gboolean
device_added (gpointer data)
{
  return ((Added *) data)->device_props != NULL;
}

/* bluetoothd creates the central's device on the kernel's connection event
 * and sets it connected in the same turn: the object arrives connected. */
static void
test_air_incoming_device_arrives_connected (void **state)
{
  g_autoptr(FakeAdvertiser) fa = advertiser_new ();
  GDBusConnection *conn = sim_fixture_get_connection (fx);
  Added added = { NULL };
  gboolean connected = FALSE;
  const char *alias = NULL;
  guint sub;
  g_autoptr(GVariant) reply = NULL;

  sub = g_dbus_connection_signal_subscribe (conn, "org.bluez",
                                            "org.freedesktop.DBus.ObjectManager",
                                            "InterfacesAdded", "/", NULL,
                                            G_DBUS_SIGNAL_FLAGS_NONE, on_interfaces_added,
                                            &added, NULL);
  advertiser_set (fa, ADV_PATH, air_props);
  assert_true (call_manager (fa, HCI1, "RegisterAdvertisement", ADV_PATH, NULL));
  connect_hci0_to_hci1 ();
  assert_true (sim_fixture_wait_until (device_added, &added, WAIT_MSEC));
  g_dbus_connection_signal_unsubscribe (conn, sub);
  assert_true (g_variant_lookup (added.device_props, "Connected", "b", &connected));
  assert_true (connected);
  /* no name yet: the GAP name comes with the browse */
  assert_false (g_variant_lookup (added.device_props, "Name", "&s", NULL));
  assert_true (g_variant_lookup (added.device_props, "Alias", "&s", &alias));
  assert_string_equal (alias, "00-AA-01-00-00-00");
  g_variant_unref (added.device_props);

  reply = sim_fixture_call_bluez (fx, DEV_HCI1, DEVICE1, "Disconnect", NULL, NULL);
  assert_non_null (reply);
  assert_true (sim_fixture_wait_property (fx, DEV_HCI0, DEVICE1, "Connected",
                                          g_variant_new_boolean (FALSE), WAIT_MSEC));
  assert_true (call_manager (fa, HCI1, "UnregisterAdvertisement", ADV_PATH, NULL));
  remove_device (HCI0, DEV_HCI1);
  remove_device (HCI1, DEV_HCI0);
}

static void
set_powered (const char *adapter,
             gboolean    on)
{
  g_autoptr(GVariant) r = sim_fixture_call_bluez (fx, adapter, "org.freedesktop.DBus.Properties",
                                                  "Set",
                                                  g_variant_new ("(ssv)", ADAPTER1, "Powered",
                                                                 g_variant_new_boolean (on)),
                                                  NULL);

  assert_non_null (r);
}

static void
set_discoverable (const char *adapter,
             gboolean    on)
{
  g_autoptr(GVariant) r = sim_fixture_call_bluez (fx, adapter, "org.freedesktop.DBus.Properties",
                                                  "Set",
                                                  g_variant_new ("(ssv)", ADAPTER1, "Discoverable",
                                                                 g_variant_new_boolean (on)),
                                                  NULL);

  assert_non_null (r);
}

static void
on_name_changed (GDBusConnection *conn,
                 const char      *sender,
                 const char      *path,
                 const char      *interface,
                 const char      *signal,
                 GVariant        *params,
                 gpointer         user_data)
{
  char **name = user_data;
  g_autoptr(GVariant) changed = g_variant_get_child_value (params, 1);

  if (*name == NULL)
    g_variant_lookup (changed, "Name", "s", name);
}

static gboolean
name_signalled (gpointer data)
{
  return *(char **) data != NULL;
}

/* bluetoothd follows PropertiesChanged of a registered advertisement:
 * new manufacturer data and a new name go on the air, and the scanner
 * signals them. */
static void
test_air_follows_property_changes (void **state)
{
  g_autoptr(FakeAdvertiser) fa = advertiser_new ();
  g_autoptr(GError) error = NULL;
  GDBusConnection *conn = sim_fixture_get_connection (fx);
  static const char changed[] =
    "{'Type': <'peripheral'>, 'LocalName': <'Renamed'>,"
    " 'ManufacturerData': <{uint16 0x0059: <@ay [3, 4]>}>}";
  g_autofree char *signalled_name = NULL;
  g_autoptr(GVariant) id_reply = NULL;
  guint sub;

  advertiser_set (fa, ADV_PATH, "{'Type': <'peripheral'>, 'LocalName': <'BleioAdv'>,"
                  " 'ManufacturerData': <{uint16 0x0059: <@ay [1, 2]>}>}");
  assert_true (call_manager (fa, HCI1, "RegisterAdvertisement", ADV_PATH, NULL));
  start_discovery (conn);
  assert_true (sim_fixture_wait_property (fx, DEV_HCI1, DEVICE1, "ManufacturerData",
                                          g_variant_new_parsed ("{uint16 0x59: <@ay [1, 2]>}"),
                                          WAIT_MSEC));
  sub = g_dbus_connection_signal_subscribe (conn, "org.bluez", "org.freedesktop.DBus.Properties",
                                            "PropertiesChanged", DEV_HCI1, DEVICE1,
                                            G_DBUS_SIGNAL_FLAGS_NONE, on_name_changed,
                                            &signalled_name, NULL);
  /* The bus installs the match when it reads our AddMatch; a call answered
   * after it on the same connection proves it is in place before the
   * change is sent from the advertiser's own connection. */
  id_reply = g_dbus_connection_call_sync (conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                          "org.freedesktop.DBus", "GetId", NULL, NULL,
                                          G_DBUS_CALL_FLAGS_NONE, WAIT_MSEC, NULL, &error);
  if (id_reply == NULL)
    fail_msg ("GetId: %s", error->message);
  advertiser_set (fa, ADV_PATH, changed);
  if (!g_dbus_connection_emit_signal (fa->conn, NULL, ADV_PATH,
                                      "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                      g_variant_new_parsed ("('org.bluez.LEAdvertisement1',"
                                                            " {'ManufacturerData':"
                                                            " <{uint16 0x0059: <@ay [3, 4]>}>,"
                                                            " 'LocalName': <'Renamed'>},"
                                                            " @as [])"),
                                      &error))
    fail_msg ("PropertiesChanged: %s", error->message);
  assert_true (sim_fixture_wait_property (fx, DEV_HCI1, DEVICE1, "ManufacturerData",
                                          g_variant_new_parsed ("{uint16 0x59: <@ay [3, 4]>}"),
                                          WAIT_MSEC));
  assert_true (sim_fixture_wait_until (name_signalled, &signalled_name, WAIT_MSEC));
  g_dbus_connection_signal_unsubscribe (conn, sub);
  assert_string_equal (signalled_name, "Renamed");

  /* the adapter made discoverable: the kernel's Flags say so */
  set_discoverable (HCI1, TRUE);
  assert_true (sim_fixture_wait_property (fx, DEV_HCI1, DEVICE1, "AdvertisingFlags",
                                          g_variant_new_parsed ("[byte 0x06]"), WAIT_MSEC));
  set_discoverable (HCI1, FALSE);
  assert_true (sim_fixture_wait_property (fx, DEV_HCI1, DEVICE1, "AdvertisingFlags",
                                          g_variant_new_parsed ("[byte 0x04]"), WAIT_MSEC));
  stop_discovery (conn);
  assert_true (call_manager (fa, HCI1, "UnregisterAdvertisement", ADV_PATH, NULL));
  remove_device (HCI0, DEV_HCI1);
}

/* Powered off, the adapter keeps its registrations (the kernel keeps its
 * instances) but is off the air until powered on again. */
static void
test_air_power_off_keeps_registration (void **state)
{
  g_autoptr(FakeAdvertiser) fa = advertiser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  GDBusConnection *conn = sim_fixture_get_connection (fx);

  advertiser_set (fa, ADV_PATH, air_props);
  assert_true (call_manager (fa, HCI1, "RegisterAdvertisement", ADV_PATH, NULL));
  start_discovery (conn);
  assert_true (sim_fixture_wait_property (fx, DEV_HCI1, DEVICE1, "Name",
                                          g_variant_new_string ("BleioAdv"), WAIT_MSEC));
  stop_discovery (conn);

  set_powered (HCI1, FALSE);
  assert_int_equal (get_byte (HCI1, "ActiveInstances"), 1);
  reply = sim_fixture_call_bluez (fx, DEV_HCI1, DEVICE1, "Connect", NULL, &error);
  sim_expect_remote_error (error, "org.bluez.Error.Failed", "le-connection-abort-by-local",
                           "Connect to an adapter that is powered off");
  g_clear_error (&error);

  set_powered (HCI1, TRUE);
  if (!sim_fixture_connect_device (fx, DEV_HCI1, &error))
    fail_msg ("Connect once powered again: %s", error->message);
  assert_true (sim_fixture_wait_property (fx, DEV_HCI0, DEVICE1, "Connected",
                                          g_variant_new_boolean (TRUE), WAIT_MSEC));
  /* powering off the advertiser ends the link on both sides */
  set_powered (HCI1, FALSE);
  assert_true (sim_fixture_wait_property (fx, DEV_HCI1, DEVICE1, "Connected",
                                          g_variant_new_boolean (FALSE), WAIT_MSEC));
  set_powered (HCI1, TRUE);
  assert_true (call_manager (fa, HCI1, "UnregisterAdvertisement", ADV_PATH, NULL));
  remove_device (HCI0, DEV_HCI1);
  remove_device (HCI1, DEV_HCI0);
}

/* Discoverable with a DiscoverableTimeout: Limited Discoverable (recorded
 * on the air: Flags 0x05) */
static void
test_air_limited_discoverable (void **state)
{
  g_autoptr(FakeAdvertiser) fa = advertiser_new ();
  GDBusConnection *conn = sim_fixture_get_connection (fx);

  advertiser_set (fa, ADV_PATH, "{'Type': <'peripheral'>, 'LocalName': <'Limited'>,"
                  " 'Discoverable': <true>, 'DiscoverableTimeout': <uint16 600>}");
  assert_true (call_manager (fa, HCI1, "RegisterAdvertisement", ADV_PATH, NULL));
  start_discovery (conn);
  assert_true (sim_fixture_wait_property (fx, DEV_HCI1, DEVICE1, "Name",
                                          g_variant_new_string ("Limited"), WAIT_MSEC));
  assert_property (DEV_HCI1, "AdvertisingFlags", "[byte 0x05]");
  stop_discovery (conn);
  assert_true (call_manager (fa, HCI1, "UnregisterAdvertisement", ADV_PATH, NULL));
  remove_device (HCI0, DEV_HCI1);
}

/* ---- ConnectCentral ---- */

static void
test_connect_central (void **state)
{
  g_autoptr(FakeAdvertiser) fa = advertiser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *added = NULL;
  const char *device;

  added = sim_fixture_add_device (fx, "hci0",
                                  "{ \"address\": \"C0:FF:EE:00:16:01\", \"gap_name\": \"Phone\","
                                  " \"gatt\": [ { \"uuid\": \"1805\", \"characteristics\": ["
                                  " { \"uuid\": \"2a2b\", \"flags\": [\"read\", \"notify\"] } ] } ] }",
                                  &error);
  assert_non_null (added);

  reply = sim_fixture_call (fx, "ConnectCentral", g_variant_new ("(ss)", "hci1",
                                                                 "C0:FF:EE:00:16:01"), &error);
  assert_null (reply);
  {
    g_autofree char *name = g_dbus_error_get_remote_error (error);

    assert_non_null (name);
    assert_string_equal (name, "org.bleio.Sim1.Error.NotAdvertising");
  }
  g_clear_error (&error);

  advertiser_set (fa, ADV_PATH, "{'Type': <'peripheral'>}");
  assert_true (call_manager (fa, HCI1, "RegisterAdvertisement", ADV_PATH, NULL));
  reply = sim_fixture_call (fx, "ConnectCentral", g_variant_new ("(ss)", "hci1",
                                                                 "C0:FF:EE:00:16:01"), &error);
  if (reply == NULL)
    fail_msg ("ConnectCentral: %s", error->message);
  g_variant_get (reply, "(&o)", &device);
  assert_string_equal (device, "/org/bluez/hci1/dev_C0_FF_EE_00_16_01");
  assert_property (device, "Connected", "true");
  /* the central's database is browsed, its GAP name read */
  assert_true (sim_fixture_wait_property (fx, device, DEVICE1, "ServicesResolved",
                                          g_variant_new_boolean (TRUE), WAIT_MSEC));
  assert_true (sim_fixture_wait_property (fx, device, DEVICE1, "Name",
                                          g_variant_new_string ("Phone"), WAIT_MSEC));
  assert_property (device, "UUIDs", "['00001805-0000-1000-8000-00805f9b34fb']");

  /* the central drops the link */
  assert_true (sim_fixture_drop_link (fx, device, "remote user terminated", &error));
  assert_true (sim_fixture_wait_property (fx, device, DEVICE1, "Connected",
                                          g_variant_new_boolean (FALSE), WAIT_MSEC));
  assert_true (call_manager (fa, HCI1, "UnregisterAdvertisement", ADV_PATH, NULL));
  remove_device (HCI1, device);
  assert_true (sim_fixture_remove_device (fx, added, NULL));
}

static int
group_setup (void **state)
{
  return sim_fixture_group_start_on (&fx, TWO_ADAPTERS_SCENARIO);
}

static int
group_teardown (void **state)
{
  g_clear_pointer (&fx, sim_fixture_free);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_manager_properties),
    cmocka_unit_test (test_register_unregister),
    cmocka_unit_test (test_register_bad_properties),
    cmocka_unit_test (test_register_too_long),
    cmocka_unit_test (test_register_odd_but_accepted),
    cmocka_unit_test (test_maximum_instances),
    cmocka_unit_test (test_register_counts_before_reply),
    cmocka_unit_test (test_register_missing_object_is_empty_broadcast),
    cmocka_unit_test (test_timeout_releases),
    cmocka_unit_test (test_owner_leaving_ends_it),
    cmocka_unit_test (test_adapter_removed_releases),
    cmocka_unit_test (test_air_discovery),
    cmocka_unit_test (test_air_unfiltered_discovery_needs_discoverable),
    cmocka_unit_test (test_air_link_both_sides),
    cmocka_unit_test (test_air_limited_discoverable),
    cmocka_unit_test (test_air_broadcast_private_address),
    cmocka_unit_test (test_air_incoming_device_arrives_connected),
    cmocka_unit_test (test_air_follows_property_changes),
    cmocka_unit_test (test_air_power_off_keeps_registration),
    cmocka_unit_test (test_connect_central),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
