/* SPDX-License-Identifier: MIT */
/*
 * bleioctl against the peripheral, JSON output checked field by field:
 * scan --name, connect (the link stays up, so the commands after it reuse
 * it), read, write (request, with a read back, and --no-response),
 * notify --count, disconnect. The program is $BLEIO_TEST_BLEIOCTL, else
 * "bleioctl" from PATH (the guest has it in /e2e/bin).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <json-glib/json-glib.h>

#include "e2e-central.h"

#define TIMEOUT "20"

typedef struct {
  int status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->err, g_free);
}

/* Runs bleioctl --adapter A --timeout T --json ARGS...; the exit status
 * (not the wait status) goes to r->status. */
static void
bleioctl (Run *r, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  const char *arg;
  int wait_status = 0;
  va_list ap;

  run_clear (r);
  g_ptr_array_add (argv, (gpointer) e2e_env ("BLEIO_TEST_BLEIOCTL", "bleioctl"));
  g_ptr_array_add (argv, "--adapter");
  g_ptr_array_add (argv, (gpointer) e2e_env ("BLEIO_TEST_ADAPTER", "hci0"));
  g_ptr_array_add (argv, "--timeout");
  g_ptr_array_add (argv, TIMEOUT);
  g_ptr_array_add (argv, "--json");
  va_start (ap, r);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  {
    g_autofree char *line = g_strjoinv (" ", (char **) argv->pdata);

    g_print ("$ %s\n", line);
  }
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                     &r->out, &r->err, &wait_status, &error))
    fail_msg ("cannot run bleioctl: %s", error->message);
  r->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : 128 + WTERMSIG (wait_status);
  g_print ("%s%s(exit %d)\n", r->out, r->err, r->status);
}

/* The JSON objects bleioctl printed, one per line. */
static GPtrArray *
json_lines (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  GPtrArray *objects = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);

  for (guint i = 0; lines[i]; i++)
    {
      g_autoptr(GError) error = NULL;
      JsonNode *node;

      if (*g_strstrip (lines[i]) == '\0')
        continue;
      node = json_from_string (lines[i], &error);
      if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
        fail_msg ("not a JSON object: '%s' (%s)", lines[i], error ? error->message : "not an object");
      g_ptr_array_add (objects, node);
    }
  return objects;
}

static const char *
member (JsonNode *node, const char *name)
{
  JsonObject *o = json_node_get_object (node);

  if (!json_object_has_member (o, name))
    fail_msg ("no member '%s'", name);
  if (json_object_get_null_member (o, name))
    return NULL;
  return json_object_get_string_member (o, name);
}

static void
test_bleioctl (void **state)
{
  const char *wanted = e2e_env ("BLEIO_TEST_PERIPHERAL_NAME", "InterestingPeripheral");
  g_autofree char *address = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GPtrArray) read1 = NULL;
  g_autoptr(GPtrArray) wrote = NULL;
  g_autoptr(GPtrArray) command = NULL;
  g_autoptr(GPtrArray) readback = NULL;
  g_autoptr(GPtrArray) notes = NULL;
  Run r = { 0 };
  guint attempt;

  /* scan: one line for the peripheral, found by its name. */
  bleioctl (&r, "scan", "--name", wanted, "--count", "1", NULL);
  assert_int_equal (r.status, 0);
  found = json_lines (r.out);
  assert_int_equal (found->len, 1);
  assert_string_equal (member (g_ptr_array_index (found, 0), "name"), wanted);
  address = g_strdup (member (g_ptr_array_index (found, 0), "address"));
  if (e2e_target_is_real_bluez ())
    assert_string_equal (address, e2e_env ("BLEIO_TEST_PERIPHERAL_ADDRESS", "00:AA:01:01:00:01"));
  assert_true (json_object_get_boolean_member (json_node_get_object (g_ptr_array_index (found, 0)),
                                               "connectable"));

  /* connect: the link stays up for the commands below. In the guest a
   * connect that bluetoothd lost (README.md) times out (4); try again. */
  for (attempt = 1;; attempt++)
    {
      bleioctl (&r, "connect", address, NULL);
      if (r.status != 4 || !e2e_target_is_real_bluez () || attempt >= E2E_CONNECT_ATTEMPTS)
        break;
      g_printerr ("e2e: bleioctl connect attempt %u timed out, trying again\n", attempt);
      bleioctl (&r, "disconnect", address, NULL);
    }
  assert_int_equal (r.status, 0);
  {
    g_autoptr(GPtrArray) tree = json_lines (r.out);

    assert_int_equal (tree->len, 1);
    assert_string_equal (member (g_ptr_array_index (tree, 0), "address"), address);
    assert_true (json_array_get_length (json_object_get_array_member (
        json_node_get_object (g_ptr_array_index (tree, 0)), "services")) >= 4);
  }

  /* read the battery level */
  bleioctl (&r, "read", address, "2a19", NULL);
  assert_int_equal (r.status, 0);
  read1 = json_lines (r.out);
  assert_int_equal (read1->len, 1);
  assert_string_equal (member (g_ptr_array_index (read1, 0), "uuid"), "2a19");
  assert_string_equal (member (g_ptr_array_index (read1, 0), "value"), "62");
  assert_string_equal (member (g_ptr_array_index (read1, 0), "address"), address);

  /* write request, then read back */
  bleioctl (&r, "write", address, E2E_UUID_CUSTOM_WRITE, "c0ffee", NULL);
  assert_int_equal (r.status, 0);
  wrote = json_lines (r.out);
  assert_int_equal (wrote->len, 1);
  assert_string_equal (member (g_ptr_array_index (wrote, 0), "write_type"), "request");
  assert_string_equal (member (g_ptr_array_index (wrote, 0), "value"), "c0ffee");
  bleioctl (&r, "read", address, E2E_UUID_CUSTOM_WRITE, NULL);
  assert_int_equal (r.status, 0);
  readback = json_lines (r.out);
  assert_string_equal (member (g_ptr_array_index (readback, 0), "value"), "c0ffee");

  /* write without response */
  bleioctl (&r, "write", address, E2E_UUID_CUSTOM_COMMAND, "0102", "--no-response", NULL);
  assert_int_equal (r.status, 0);
  command = json_lines (r.out);
  assert_string_equal (member (g_ptr_array_index (command, 0), "write_type"), "command");

  /* notify --count 3: the counter, one object per notification */
  bleioctl (&r, "notify", address, E2E_UUID_CUSTOM_COUNTER, "--count", "3", NULL);
  assert_int_equal (r.status, 0);
  notes = json_lines (r.out);
  assert_int_equal (notes->len, 3);
  for (guint i = 0; i < notes->len; i++)
    {
      const char *v = member (g_ptr_array_index (notes, i), "value");

      assert_int_equal (strlen (v), 2);
      if (i > 0)
        {
          guint prev = (guint) g_ascii_strtoull (member (g_ptr_array_index (notes, i - 1), "value"),
                                                 NULL, 16);

          assert_int_equal (g_ascii_strtoull (v, NULL, 16), (prev + 1) % 4);
        }
    }

  /* a characteristic nobody has: not found (3), a JSON error on stderr */
  bleioctl (&r, "read", address, "abcd", NULL);
  assert_int_equal (r.status, 3);
  {
    g_autoptr(GPtrArray) errors = json_lines (r.err);

    assert_true (errors->len >= 1);
    assert_non_null (member (g_ptr_array_index (errors, errors->len - 1), "message"));
  }

  bleioctl (&r, "disconnect", address, NULL);
  assert_int_equal (r.status, 0);
  /* disconnecting a peer that is not connected: status 3 */
  bleioctl (&r, "disconnect", address, NULL);
  assert_int_equal (r.status, 3);
  run_clear (&r);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_bleioctl),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
