/* SPDX-License-Identifier: MIT */
/* Security of libbleio's pairing (issue 8 item 6), against bleio-sim:
 *   - every authentication failure of pair, read and write is
 *     BLEIO_ERROR_SECURITY (a table of the errors bluetoothd answers with);
 *   - the agent rejects pairing requests the application did not start,
 *     unless it opted in with bleio_adapter_set_accept_incoming_pairing();
 *   - the agent answers org.bluez only, not any other bus peer;
 *   - each passkey callback can have data of its own (the setters bindings
 *     use) and the agent's IO capability follows from them;
 *   - passkeys never reach the log, even with G_MESSAGES_DEBUG=all. */
#include "central.h"

#include <string.h>

typedef CommonGroup Group;

/* ---- log capture ---------------------------------------------------------- */

static GMutex log_lock;
static GString *log_text;

static GLogWriterOutput
capture_writer (GLogLevelFlags   log_level,
                const GLogField *fields,
                gsize            n_fields,
                gpointer         user_data)
{
  g_mutex_lock (&log_lock);
  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE"))
      {
        if (fields[i].length < 0)
          g_string_append (log_text, fields[i].value);
        else
          g_string_append_len (log_text, fields[i].value, fields[i].length);
        g_string_append_c (log_text, '\n');
      }
  g_mutex_unlock (&log_lock);
  /* Criticals and warnings still go to stderr (and are fatal as usual). */
  if (log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    return g_log_writer_standard_streams (log_level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

static char *
log_snapshot (void)
{
  char *copy;

  g_mutex_lock (&log_lock);
  copy = g_strdup (log_text->str);
  g_mutex_unlock (&log_lock);
  return copy;
}

/* ---- fixture -------------------------------------------------------------- */

/* A peripheral with @pairing (a JSON object), one plain and one encrypted
 * characteristic; connected through the library. */
static BleioConnection *
connect_new (Group      *g,
             const char *address,
             const char *pairing,
             char      **path_out)
{
  g_autofree char *json =
    g_strdup_printf ("{\"address\": \"%s\", \"name\": \"S%s\", \"pairing\": %s,"
                     " \"gatt\": [{\"uuid\": \"fff0\", \"characteristics\": ["
                     "  {\"uuid\": \"fff1\", \"flags\": [\"read\", \"write\"], \"value\": \"00\"},"
                     "  {\"uuid\": \"fff2\", \"flags\": [\"read\", \"encrypt-read\"], \"value\": \"5a\"}"
                     " ]}]}",
                     address, address + 12, pairing);

  return common_add_and_connect (g, address, json, path_out);
}

static BleioCharacteristic *
find_char (BleioConnection *connection,
           guint16          uuid16)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) services =
    bleio_connection_discover_remote_services (connection, NULL, 10, &error);

  assert_no_error (error);
  assert_non_null (services);
  for (guint i = 0; i < services->len; i++)
    {
      g_autoptr(GPtrArray) chars =
        bleio_service_dup_characteristics (g_ptr_array_index (services, i));

      for (guint j = 0; j < chars->len; j++)
        {
          BleioCharacteristic *c = g_ptr_array_index (chars, j);

          if (bleio_uuid_get_size (bleio_characteristic_get_uuid (c)) == 16 &&
              bleio_uuid_get_uuid16 (bleio_characteristic_get_uuid (c)) == uuid16)
            return g_object_ref (c);
        }
    }
  fail_msg ("no characteristic 0x%04x", uuid16);
  return NULL;
}

/* A blocking read on its own thread; returns its error (or NULL). */
static gpointer
read_secret_thread (gpointer data)
{
  GError *error = NULL;
  GBytes *value = bleio_characteristic_read_value (data, &error);

  g_clear_pointer (&value, g_bytes_unref);
  return error;
}

/* Until the simulator has seen args[1] (a method) called; bounded. */
static gboolean
wait_call_logged (gpointer *args)
{
  gint64 end = g_get_monotonic_time () + (gint64) WAIT_MSEC * 1000;

  while (g_get_monotonic_time () < end)
    {
      if (sim_fixture_count_calls (args[0], args[1]) > 0)
        return TRUE;
      g_usleep (5000);
    }
  return FALSE;
}

/* ---- every authentication failure is BLEIO_ERROR_SECURITY ----------------- */

typedef enum { OP_PAIR, OP_READ, OP_WRITE } Op;

typedef struct {
  Op op;
  const char *method;       /* the org.bluez method that fails */
  const char *error_name;
  const char *error_message;
  BleioError expected;
} AuthRow;

/* What bluetoothd answers when security fails. Pair: the Authentication*
 * errors of src/device.c (and ConnectionAttemptFailed, which BlueZ gives
 * when the pairing's link attempt fails; with the link still up it is a
 * pairing failure). Reads and writes: 5.66 answers NotPermitted "Not
 * paired" for the ATT errors Insufficient Authentication / Encryption /
 * Encryption Key Size; other versions give the ATT error's name or number
 * in the message of Failed. The last rows are not authentication failures
 * and must keep their own codes. */
static const AuthRow auth_rows[] = {
  { OP_PAIR, "Pair", "org.bluez.Error.AuthenticationFailed", "Authentication Failed", BLEIO_ERROR_SECURITY },
  { OP_PAIR, "Pair", "org.bluez.Error.AuthenticationCanceled", "Authentication Canceled", BLEIO_ERROR_SECURITY },
  { OP_PAIR, "Pair", "org.bluez.Error.AuthenticationRejected", "Authentication Rejected", BLEIO_ERROR_SECURITY },
  { OP_PAIR, "Pair", "org.bluez.Error.AuthenticationTimeout", "Authentication Timeout", BLEIO_ERROR_SECURITY },
  { OP_PAIR, "Pair", "org.bluez.Error.ConnectionAttemptFailed", "Page Timeout", BLEIO_ERROR_SECURITY },
  { OP_PAIR, "Pair", "org.bluez.Error.Failed", "le-connection-key-missing", BLEIO_ERROR_SECURITY },
  { OP_READ, "ReadValue", "org.bluez.Error.NotPermitted", "Not paired", BLEIO_ERROR_SECURITY },
  { OP_READ, "ReadValue", "org.bluez.Error.Failed", "Insufficient Authentication", BLEIO_ERROR_SECURITY },
  { OP_READ, "ReadValue", "org.bluez.Error.Failed", "Insufficient Encryption", BLEIO_ERROR_SECURITY },
  { OP_READ, "ReadValue", "org.bluez.Error.Failed", "Operation failed with ATT error: 0x05", BLEIO_ERROR_SECURITY },
  { OP_READ, "ReadValue", "org.bluez.Error.AuthenticationFailed", "Authentication Failed", BLEIO_ERROR_SECURITY },
  { OP_WRITE, "WriteValue", "org.bluez.Error.NotPermitted", "Not paired", BLEIO_ERROR_SECURITY },
  { OP_WRITE, "WriteValue", "org.bluez.Error.Failed", "Operation failed with ATT error: 0x0f", BLEIO_ERROR_SECURITY },
  { OP_WRITE, "WriteValue", "org.bluez.Error.Failed", "Insufficient Encryption Key Size", BLEIO_ERROR_SECURITY },
  /* not authentication failures */
  { OP_READ, "ReadValue", "org.bluez.Error.NotPermitted", "Read not permitted", BLEIO_ERROR_NOT_PERMITTED },
  { OP_WRITE, "WriteValue", "org.bluez.Error.NotAuthorized", "Operation Not Authorized", BLEIO_ERROR_NOT_AUTHORIZED },
};

static void
test_auth_errors_are_security (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  BleioConnection *connection = connect_new (g, "00:BB:00:00:08:01", "{}", &path);
  g_autoptr(BleioCharacteristic) plain = find_char (connection, 0xfff1);

  for (gsize i = 0; i < G_N_ELEMENTS (auth_rows); i++)
    {
      const AuthRow *row = &auth_rows[i];
      g_autoptr(GBytes) value = NULL;
      g_autoptr(GBytes) data = g_bytes_new_static ("\x01", 1);
      gboolean ok = FALSE;

      print_message ("row %zu: %s -> %s \"%s\"\n", i, row->method, row->error_name,
                     row->error_message);
      assert_true (sim_fixture_fail_next (g->fx, row->method, row->error_name,
                                          row->error_message, 1, &error));
      assert_no_error (error);
      switch (row->op)
        {
        case OP_PAIR:
          ok = bleio_connection_pair (connection, TRUE, &error);
          break;
        case OP_READ:
          value = bleio_characteristic_read_value (plain, &error);
          ok = value != NULL;
          break;
        case OP_WRITE:
          ok = bleio_characteristic_write_value (plain, data, &error);
          break;
        default:
          g_assert_not_reached ();
        }
      assert_false (ok);
      assert_non_null (error);
      if (error->domain != BLEIO_ERROR || error->code != (int) row->expected)
        fail_msg ("row %zu (%s %s \"%s\"): got %s %d \"%s\", wanted code %d", i,
                  row->method, row->error_name, row->error_message,
                  g_quark_to_string (error->domain), error->code, error->message,
                  row->expected);
      /* An ATT security error's message says what to do: pair. */
      if (row->expected == BLEIO_ERROR_SECURITY && row->op != OP_PAIR &&
          !g_str_has_prefix (row->error_name, "org.bluez.Error.Authentication"))
        assert_non_null (strstr (error->message, "pair"));
      g_clear_error (&error);
    }
  /* Nothing above paired the device or dropped the link. */
  assert_false (common_sim_bool (g->fx, path, "org.bluez.Device1", "Paired"));
  assert_true (bleio_connection_get_connected (connection));
  common_disconnect_remove (g, connection, path);
}

/* Without FailNext: the peripheral refuses the pairing that an encrypted
 * read sets off (security elevation), and bluetoothd answers the read with
 * NotPermitted "Not paired" (quirk, see lib/bleio-error.c). */
static void
test_quirk_not_paired_is_security (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  BleioConnection *connection =
    connect_new (g, "00:BB:00:00:08:02", "{\"outcome\": \"reject\"}", &path);
  g_autoptr(BleioCharacteristic) secret = find_char (connection, 0xfff2);
  g_autoptr(GBytes) value = bleio_characteristic_read_value (secret, &error);

  assert_null (value);
  assert_bleio_error (error, BLEIO_ERROR_SECURITY);
  assert_non_null (strstr (error->message, "bleio_connection_pair"));
  g_clear_error (&error);
  assert_false (common_sim_bool (g->fx, path, "org.bluez.Device1", "Paired"));
  common_disconnect_remove (g, connection, path);
}

/* ---- a failed pairing that takes the link down (issue 21 item 2) ---------- */

/* The peer answers Pairing Failed: bluetoothd answers Pair with
 * AuthenticationFailed and the kernel ends the link (bleio-sim's
 * FailNextAndDrop). That is a security failure, not a lost link: it was
 * "Pairing failed: the link went down" with CONNECTION (exit 5). */
static void
test_pair_refused_link_dropped_is_security (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  char *path = NULL;
  g_autoptr(BleioConnection) connection = connect_new (g, "00:BB:00:00:21:21", "{}", &path);

  reply = sim_fixture_call (g->fx, "FailNextAndDrop",
                            g_variant_new ("(sssu)", "Pair", "org.bluez.Error.AuthenticationFailed",
                                           "Authentication Failed", 1),
                            &error);
  assert_no_error (error);
  assert_false (bleio_connection_pair (connection, TRUE, &error));
  assert_bleio_error (error, BLEIO_ERROR_SECURITY);
  assert_non_null (strstr (error->message, "refused"));
  g_clear_error (&error);
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
  g_free (path);
}

/* The link lost for another reason while pairing: bluetoothd cancels the
 * bonding (AuthenticationCanceled), and that stays a lost link. */
static void
test_pair_cancelled_by_link_loss_is_connection (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  char *path = NULL;
  g_autoptr(BleioConnection) connection = connect_new (g, "00:BB:00:00:21:22", "{}", &path);

  reply = sim_fixture_call (g->fx, "FailNextAndDrop",
                            g_variant_new ("(sssu)", "Pair", "org.bluez.Error.AuthenticationCanceled",
                                           "Authentication Canceled", 1),
                            &error);
  assert_no_error (error);
  assert_false (bleio_connection_pair (connection, TRUE, &error));
  assert_bleio_error (error, BLEIO_ERROR_CONNECTION);
  g_clear_error (&error);
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
  g_free (path);
}

/* bluetoothd 5.83+ says why a link ended (Device1.Disconnected) just
 * before Connected turns false; an encrypted read whose pairing failed
 * (5.82 never answers it, NoReplyNext here) ends SECURITY, at once. The
 * simulator speaks 5.66: its hostile mode sends the newer signal. */
static void
test_read_link_ended_by_authentication_is_security (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  char *path = NULL;
  g_autoptr(BleioConnection) connection = connect_new (g, "00:BB:00:00:21:23", "{}", &path);
  g_autoptr(BleioCharacteristic) secret = find_char (connection, 0xfff2);
  GVariantBuilder b;

  assert_true (sim_fixture_reset_calls (g->fx, &error));
  assert_true (sim_fixture_no_reply_next (g->fx, "ReadValue", 1, &error));
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "path", g_variant_new_object_path (path));
  g_variant_builder_add (&b, "{sv}", "interface", g_variant_new_string ("org.bluez.Device1"));
  g_variant_builder_add (&b, "{sv}", "member", g_variant_new_string ("Disconnected"));
  g_variant_builder_add (&b, "{sv}", "args",
                         g_variant_new ("(ss)", "org.bluez.Reason.Authentication",
                                        "Connection terminated due to an authentication failure"));
  /* The read goes out on a thread; the link then ends as 5.83 ends it. */
  {
    g_autoptr(GThread) reader = g_thread_new ("reader", read_secret_thread, secret);
    gpointer args[] = { g->fx, (gpointer) "ReadValue" };

    assert_true (wait_call_logged (args));
    reply = sim_fixture_call (g->fx, "SetHostile", g_variant_new ("(sa{sv})", "signal", &b), &error);
    assert_no_error (error);
    assert_true (sim_fixture_drop_link (g->fx, path, "authentication failure", &error));
    error = g_thread_join (g_steal_pointer (&reader));
  }
  assert_bleio_error (error, BLEIO_ERROR_SECURITY);
  assert_non_null (strstr (error->message, "bleio_connection_pair"));
  g_clear_error (&error);
  g_variant_unref (sim_fixture_call (g->fx, "ClearHostile", NULL, &error));
  assert_no_error (error);
  assert_true (sim_fixture_remove_device (g->fx, path, &error));
  g_free (path);
}

/* ---- incoming pairing ----------------------------------------------------- */

typedef PairCallbacks Callbacks;

/* The agent registers with bluetoothd on the first bleio_connection_pair();
 * pair a throwaway peripheral so that it is there to be asked. */
static void
register_agent (Group *g)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  BleioConnection *connection = connect_new (g, "00:BB:00:00:08:0F", "{}", &path);

  assert_true (bleio_connection_pair (connection, TRUE, &error));
  assert_no_error (error);
  common_disconnect_remove (g, connection, path);
}

/* The peer of @path starts pairing (bleio-sim's PairIncoming); returns the
 * D-Bus error name of the outcome, NULL on success. */
static char *
pair_incoming (Group      *g,
               const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = sim_fixture_call (g->fx, "PairIncoming",
                                                g_variant_new ("(o)", path), &error);

  if (reply != NULL)
    return NULL;
  assert_non_null (error);
  assert_true (g_dbus_error_is_remote_error (error));
  return g_dbus_error_get_remote_error (error);
}

static void
test_incoming_pairing_rejected_by_default (void **state)
{
  Group *g = *state;
  static const char *const pairings[] = {
    "{\"method\": \"confirmation\", \"passkey\": 112233}",   /* RequestConfirmation */
    "{\"method\": \"passkey-entry\", \"passkey\": 445566}",  /* RequestPasskey */
    "{\"method\": \"display-passkey\", \"passkey\": 778899}",/* DisplayPasskey */
    "{\"method\": \"authorization\"}",                       /* RequestAuthorization */
  };
  Callbacks c = { 0, };

  register_agent (g);
  assert_false (bleio_adapter_get_accept_incoming_pairing (g->adapter));
  c.passkey_to_give = 445566;
  bleio_adapter_set_pairing_callbacks (g->adapter, common_on_display, common_on_request,
                                       common_on_confirm, &c, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (pairings); i++)
    {
      g_autofree char *address = g_strdup_printf ("00:BB:00:00:08:1%c", (char) ('0' + i));
      char *path = NULL;
      BleioConnection *connection = connect_new (g, address, pairings[i], &path);
      g_autofree char *outcome = pair_incoming (g, path);

      assert_string_equal (outcome, "org.bluez.Error.AuthenticationRejected");
      assert_false (common_sim_bool (g->fx, path, "org.bluez.Device1", "Paired"));
      assert_false (bleio_connection_get_paired (connection, NULL));
      common_disconnect_remove (g, connection, path);
    }
  /* The application was never asked. */
  assert_int_equal (g_atomic_int_get (&c.confirm_calls), 0);
  assert_int_equal (g_atomic_int_get (&c.request_calls), 0);
  assert_int_equal (g_atomic_int_get (&c.display_calls), 0);

  /* Its own pairing with the same callbacks is still answered. */
  {
    g_autoptr(GError) error = NULL;
    char *path = NULL;
    BleioConnection *connection =
      connect_new (g, "00:BB:00:00:08:20", "{\"method\": \"confirmation\", \"passkey\": 100001}", &path);

    assert_true (bleio_connection_pair (connection, TRUE, &error));
    assert_no_error (error);
    assert_int_equal (g_atomic_int_get (&c.confirm_calls), 1);
    assert_int_equal (g_atomic_int_get (&c.passkey_seen), 100001);
    common_disconnect_remove (g, connection, path);
  }
  bleio_adapter_set_pairing_callbacks (g->adapter, NULL, NULL, NULL, NULL, NULL);
}

static void
test_incoming_pairing_opt_in (void **state)
{
  Group *g = *state;
  Callbacks c = { 0, };
  char *path = NULL;
  BleioConnection *connection;
  g_autofree char *outcome = NULL;

  register_agent (g);
  bleio_adapter_set_pairing_callbacks (g->adapter, common_on_display, common_on_request,
                                       common_on_confirm, &c, NULL);
  bleio_adapter_set_accept_incoming_pairing (g->adapter, TRUE);
  assert_true (bleio_adapter_get_accept_incoming_pairing (g->adapter));

  connection = connect_new (g, "00:BB:00:00:08:30",
                            "{\"method\": \"confirmation\", \"passkey\": 246802}", &path);
  outcome = pair_incoming (g, path);
  assert_null (outcome);
  assert_int_equal (g_atomic_int_get (&c.confirm_calls), 1);
  assert_int_equal (g_atomic_int_get (&c.passkey_seen), 246802);
  assert_true (common_sim_bool (g->fx, path, "org.bluez.Device1", "Paired"));
  common_disconnect_remove (g, connection, path);

  /* The application's callback still decides: passkey entry with the
   * wrong passkey fails. */
  g_atomic_int_set (&c.passkey_to_give, 1);
  connection = connect_new (g, "00:BB:00:00:08:31",
                            "{\"method\": \"passkey-entry\", \"passkey\": 135791}", &path);
  g_clear_pointer (&outcome, g_free);
  outcome = pair_incoming (g, path);
  assert_string_equal (outcome, "org.bluez.Error.AuthenticationFailed");
  assert_int_equal (g_atomic_int_get (&c.request_calls), 1);
  common_disconnect_remove (g, connection, path);

  /* Back to the default. */
  bleio_adapter_set_accept_incoming_pairing (g->adapter, FALSE);
  assert_false (bleio_adapter_get_accept_incoming_pairing (g->adapter));
  connection = connect_new (g, "00:BB:00:00:08:32",
                            "{\"method\": \"confirmation\", \"passkey\": 246802}", &path);
  g_clear_pointer (&outcome, g_free);
  outcome = pair_incoming (g, path);
  assert_string_equal (outcome, "org.bluez.Error.AuthenticationRejected");
  assert_int_equal (g_atomic_int_get (&c.confirm_calls), 1);
  common_disconnect_remove (g, connection, path);
  bleio_adapter_set_pairing_callbacks (g->adapter, NULL, NULL, NULL, NULL, NULL);
}

/* Another bus peer calling the agent directly is refused, and the
 * application's callbacks are not run. */
static void
test_agent_answers_bluez_only (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  Callbacks c = { 0, };
  char *path = NULL;
  BleioConnection *connection;
  g_autoptr(GDBusConnection) other = NULL;
  g_autoptr(GVariant) node = NULL;
  g_autoptr(GDBusNodeInfo) info = NULL;
  g_autofree char *agent_path = NULL;
  const char *agent_name = g_dbus_connection_get_unique_name (sim_fixture_get_connection (g->fx));
  static const char *const methods[][2] = {
    { "RequestPasskey", "(o)" },
    { "RequestConfirmation", "(ou)" },
    { "RequestAuthorization", "(o)" },
    { "DisplayPasskey", "(ouq)" },
  };

  register_agent (g);
  c.passkey_to_give = 123123;
  bleio_adapter_set_pairing_callbacks (g->adapter, common_on_display, common_on_request,
                                       common_on_confirm, &c, NULL);
  bleio_adapter_set_accept_incoming_pairing (g->adapter, TRUE);
  connection = connect_new (g, "00:BB:00:00:08:40", "{}", &path);

  other = g_dbus_connection_new_for_address_sync (sim_fixture_get_address (g->fx),
                                                  G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                  G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                  NULL, NULL, &error);
  assert_no_error (error);
  node = g_dbus_connection_call_sync (other, agent_name, "/org/bleio/agent",
                                      "org.freedesktop.DBus.Introspectable", "Introspect",
                                      NULL, G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE,
                                      WAIT_MSEC, NULL, &error);
  assert_no_error (error);
  {
    const char *xml = NULL;

    g_variant_get (node, "(&s)", &xml);
    info = g_dbus_node_info_new_for_xml (xml, &error);
    assert_no_error (error);
    assert_non_null (info->nodes);
    assert_non_null (info->nodes[0]);
    agent_path = g_strdup_printf ("/org/bleio/agent/%s", info->nodes[0]->path);
  }

  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      GVariant *params;
      g_autoptr(GVariant) reply = NULL;
      g_autofree char *remote = NULL;

      if (g_str_equal (methods[i][1], "(o)"))
        params = g_variant_new ("(o)", path);
      else if (g_str_equal (methods[i][1], "(ou)"))
        params = g_variant_new ("(ou)", path, 123123);
      else
        params = g_variant_new ("(ouq)", path, 123123, (guint16) 0);
      reply = g_dbus_connection_call_sync (other, agent_name, agent_path, "org.bluez.Agent1",
                                           methods[i][0], params, NULL, G_DBUS_CALL_FLAGS_NONE,
                                           WAIT_MSEC, NULL, &error);
      assert_null (reply);
      assert_non_null (error);
      remote = g_dbus_error_get_remote_error (error);
      assert_string_equal (remote, "org.freedesktop.DBus.Error.AccessDenied");
      g_clear_error (&error);
    }
  assert_int_equal (g_atomic_int_get (&c.confirm_calls), 0);
  assert_int_equal (g_atomic_int_get (&c.request_calls), 0);
  assert_int_equal (g_atomic_int_get (&c.display_calls), 0);

  bleio_adapter_set_accept_incoming_pairing (g->adapter, FALSE);
  bleio_adapter_set_pairing_callbacks (g->adapter, NULL, NULL, NULL, NULL, NULL);
  g_dbus_connection_close_sync (other, NULL, NULL);
  common_disconnect_remove (g, connection, path);
}

/* ---- each callback with its own data (the GI-friendly setters) ------------ */

typedef struct {
  gint calls;
  gint destroyed;
  gint passkey;
} Slot;

static void
slot_destroy (gpointer data)
{
  g_atomic_int_inc (&((Slot *) data)->destroyed);
}

static void
slot_display (const BleioAddress *peer,
              guint32             passkey,
              guint16             entered,
              gpointer            user_data)
{
  g_atomic_int_inc (&((Slot *) user_data)->calls);
}

static gboolean
slot_request (const BleioAddress *peer,
              guint32            *passkey,
              gpointer            user_data)
{
  Slot *slot = user_data;

  g_atomic_int_inc (&slot->calls);
  *passkey = (guint32) g_atomic_int_get (&slot->passkey);
  return TRUE;
}

static void
test_passkey_funcs_own_data (void **state)
{
  Group *g = *state;
  g_autoptr(GError) error = NULL;
  Slot display_a = { 0, }, display_b = { 0, }, request = { 0, };
  char *path = NULL;
  BleioConnection *connection;

  bleio_adapter_set_passkey_display_func (g->adapter, slot_display, &display_a, slot_destroy);
  /* Replacing one callback frees its data only. */
  bleio_adapter_set_passkey_display_func (g->adapter, slot_display, &display_b, slot_destroy);
  assert_int_equal (g_atomic_int_get (&display_a.destroyed), 1);
  g_atomic_int_set (&request.passkey, 314159);
  bleio_adapter_set_passkey_request_func (g->adapter, slot_request, &request, slot_destroy);
  assert_int_equal (g_atomic_int_get (&display_b.destroyed), 0);

  /* Display + request is KeyboardDisplay: against a DisplayOnly peer SMP
   * picks passkey entry, answered by the request callback with its data. */
  connection = connect_new (g, "00:BB:00:00:08:60",
                            "{\"io_capability\": \"DisplayOnly\", \"passkey\": 314159}", &path);
  assert_true (bleio_connection_pair (connection, TRUE, &error));
  assert_no_error (error);
  assert_int_equal (g_atomic_int_get (&request.calls), 1);
  assert_int_equal (g_atomic_int_get (&display_b.calls), 0);
  assert_true (common_sim_bool (g->fx, path, "org.bluez.Device1", "Paired"));
  common_disconnect_remove (g, connection, path);

  /* The combined setter replaces (and frees) them all. */
  bleio_adapter_set_pairing_callbacks (g->adapter, NULL, NULL, NULL, NULL, NULL);
  assert_int_equal (g_atomic_int_get (&display_b.destroyed), 1);
  assert_int_equal (g_atomic_int_get (&request.destroyed), 1);
  assert_int_equal (g_atomic_int_get (&display_a.destroyed), 1);
}

/* ---- passkeys never logged ------------------------------------------------ */

static void
test_passkeys_never_logged (void **state)
{
  Group *g = *state;
  static const struct {
    const char *address;
    const char *pairing;
    const char *passkey;
  } rows[] = {
    { "00:BB:00:00:08:50", "{\"method\": \"passkey-entry\", \"passkey\": 918273}", "918273" },
    { "00:BB:00:00:08:51", "{\"method\": \"confirmation\", \"passkey\": 827364}", "827364" },
    { "00:BB:00:00:08:52", "{\"method\": \"display-passkey\", \"passkey\": 736455}", "736455" },
    /* leading zeros, as a six-digit display would show them */
    { "00:BB:00:00:08:53", "{\"method\": \"passkey-entry\", \"passkey\": 4321}", "004321" },
  };
  g_autofree char *log = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr(GError) error = NULL;
      Callbacks c = { 0, };
      char *path = NULL;
      BleioConnection *connection;

      g_atomic_int_set (&c.passkey_to_give, (gint) g_ascii_strtoull (rows[i].passkey, NULL, 10));
      bleio_adapter_set_pairing_callbacks (g->adapter, common_on_display, common_on_request,
                                           common_on_confirm, &c, NULL);
      connection = connect_new (g, rows[i].address, rows[i].pairing, &path);
      assert_true (bleio_connection_pair (connection, TRUE, &error));
      assert_no_error (error);
      assert_int_equal (g_atomic_int_get (&c.confirm_calls) + g_atomic_int_get (&c.request_calls) +
                        g_atomic_int_get (&c.display_calls), 1);
      common_disconnect_remove (g, connection, path);
      bleio_adapter_set_pairing_callbacks (g->adapter, NULL, NULL, NULL, NULL, NULL);
    }
  /* A wrong passkey, so that the failure's message is logged too. */
  {
    g_autoptr(GError) error = NULL;
    Callbacks c = { 0, };
    char *path = NULL;
    BleioConnection *connection;

    c.passkey_to_give = 192837;
    bleio_adapter_set_pairing_callbacks (g->adapter, NULL, common_on_request, NULL, &c, NULL);
    connection = connect_new (g, "00:BB:00:00:08:54",
                              "{\"method\": \"passkey-entry\", \"passkey\": 564738}", &path);
    assert_false (bleio_connection_pair (connection, TRUE, &error));
    assert_bleio_error (error, BLEIO_ERROR_SECURITY);
    assert_null (strstr (error->message, "192837"));
    assert_null (strstr (error->message, "564738"));
    g_clear_error (&error);
    common_disconnect_remove (g, connection, path);
    bleio_adapter_set_pairing_callbacks (g->adapter, NULL, NULL, NULL, NULL, NULL);
  }

  log = log_snapshot ();
  /* The capture works: the agent's calls are in the debug log... */
  assert_non_null (strstr (log, "agent: RequestPasskey"));
  assert_non_null (strstr (log, "agent: RequestConfirmation"));
  assert_non_null (strstr (log, "agent: DisplayPasskey"));
  /* ...but none of the passkeys. */
  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    if (strstr (log, rows[i].passkey) != NULL)
      fail_msg ("passkey %s found in the log", rows[i].passkey);
  assert_null (strstr (log, "192837"));
  assert_null (strstr (log, "564738"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_auth_errors_are_security),
    cmocka_unit_test (test_quirk_not_paired_is_security),
    cmocka_unit_test (test_pair_refused_link_dropped_is_security),
    cmocka_unit_test (test_pair_cancelled_by_link_loss_is_connection),
    cmocka_unit_test (test_read_link_ended_by_authentication_is_security),
    cmocka_unit_test (test_incoming_pairing_rejected_by_default),
    cmocka_unit_test (test_incoming_pairing_opt_in),
    cmocka_unit_test (test_agent_answers_bluez_only),
    cmocka_unit_test (test_passkey_funcs_own_data),
    cmocka_unit_test (test_passkeys_never_logged),
  };

  /* Every debug message of every domain, captured in memory. */
  g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);
  g_log_set_debug_enabled (TRUE);
  log_text = g_string_new (NULL);
  g_log_set_writer_func (capture_writer, NULL, NULL);
  return cmocka_run_group_tests (tests, common_group_setup, common_group_teardown);
}
