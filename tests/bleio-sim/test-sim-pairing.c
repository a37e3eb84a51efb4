/* SPDX-License-Identifier: MIT */
/*
 * Which agent method bluetoothd calls when a client pairs, for every pair
 * of IO capabilities: the agent's (bluetoothd hands it to the kernel as
 * the local, initiating side) and the peripheral's (the responder).
 *
 * bluetoothd does not choose the method itself: the kernel's SMP does
 * (net/bluetooth/smp.c, its Secure Connections table indexed by remote
 * and local IO capability, which is the association-model table of the
 * Core specification, Vol 3, Part H, 2.3.5.1), and bluetoothd turns the
 * kernel's requests into agent calls: numeric comparison becomes
 * RequestConfirmation, passkey entry on our side RequestPasskey, passkey
 * shown on our side DisplayPasskey. Just works, and the "just works with
 * confirmation" cases, ask the initiator nothing. The demo's peripherals
 * use Secure Connections (LegacyPairing false). One test case per
 * combination.
 */
#include "sim-fixture.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define ADAPTER "/org/bluez/hci0"
#define DEVICE1 "org.bluez.Device1"
#define PASSKEY 123456
#define WAIT_MSEC 10000

enum { DISPLAY_ONLY, DISPLAY_YES_NO, KEYBOARD_ONLY, NO_IO, KEYBOARD_DISPLAY, N_CAPS };

static const char * const cap_names[N_CAPS] = {
  "DisplayOnly", "DisplayYesNo", "KeyboardOnly", "NoInputNoOutput", "KeyboardDisplay"
};

#define JW NULL
#define NC "RequestConfirmation"
#define ENTER "RequestPasskey"
#define SHOW "DisplayPasskey"

/* [peripheral (responder)][agent (initiator)]: the agent method called,
 * NULL for just works. */
static const char * const expected[N_CAPS][N_CAPS] = {
  /* responder DisplayOnly */
  { JW, JW, ENTER, JW, ENTER },
  /* responder DisplayYesNo */
  { JW, NC, ENTER, JW, NC },
  /* responder KeyboardOnly */
  { SHOW, SHOW, ENTER, JW, SHOW },
  /* responder NoInputNoOutput */
  { JW, JW, JW, JW, JW },
  /* responder KeyboardDisplay */
  { SHOW, NC, ENTER, JW, NC },
};

typedef struct {
  int peripheral;
  int agent;
  char *name;
} Combination;

static SimFixture *fx;

static void
test_combination (void **state)
{
  const Combination *c = *state;
  const char *want = expected[c->peripheral][c->agent];
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *device = NULL;
  g_autoptr(SimAgent) agent = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_auto(GStrv) calls = NULL;
  g_autoptr(GString) asked = g_string_new (NULL);
  const char *first = NULL;

  json = g_strdup_printf ("{ \"address\": \"C0:FF:EE:00:%02X:%02X\", "
                          "\"name\": \"Pair-%s-%s\", \"connectable\": true, "
                          "\"pairing\": { \"io_capability\": \"%s\", \"passkey\": %d } }",
                          c->peripheral, c->agent, cap_names[c->peripheral],
                          cap_names[c->agent], cap_names[c->peripheral], PASSKEY);
  device = sim_fixture_add_device (fx, "hci0", json, &error);
  if (device == NULL)
    fail_msg ("AddDevice: %s", error->message);
  /* It appears once discovery (running for the whole group) hears it. */
  if (!sim_fixture_wait_property (fx, device, DEVICE1, "Paired",
                                  g_variant_new_boolean (FALSE), WAIT_MSEC))
    fail_msg ("%s did not appear", device);

  agent = sim_agent_new (fx, cap_names[c->agent], TRUE, PASSKEY, &error);
  if (agent == NULL)
    fail_msg ("agent %s: %s", cap_names[c->agent], error->message);

  reply = sim_fixture_call_bluez (fx, device, DEVICE1, "Pair", NULL, &error);
  if (reply == NULL)
    fail_msg ("Pair: %s", error->message);
  if (!sim_fixture_wait_property (fx, device, DEVICE1, "Paired",
                                  g_variant_new_boolean (TRUE), WAIT_MSEC))
    fail_msg ("Pair succeeded but Paired stayed false");

  calls = sim_agent_dup_calls (agent);
  for (char **m = calls; *m != NULL; m++)
    {
      if (strcmp (*m, "Release") == 0 || strcmp (*m, "Cancel") == 0)
        continue;
      if (first == NULL)
        first = *m;
      g_string_append_printf (asked, "%s%s", asked->len ? ", " : "", *m);
    }
  if (g_strcmp0 (first, want) != 0)
    fail_msg ("agent %s pairing with a %s peripheral: asked [%s]; bluetoothd "
              "(kernel SMP, Secure Connections) asks %s",
              cap_names[c->agent], cap_names[c->peripheral], asked->str,
              want != NULL ? want : "nothing (just works)");

  g_clear_pointer (&reply, g_variant_unref);
  reply = sim_fixture_call_bluez (fx, ADAPTER, "org.bluez.Adapter1", "RemoveDevice",
                                  g_variant_new ("(o)", device), NULL);
}

static int
group_setup (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  if (!sim_fixture_start (&fx, NULL))
    return -1;
  reply = sim_fixture_call_bluez (fx, ADAPTER, "org.bluez.Adapter1", "StartDiscovery",
                                  NULL, &error);
  if (reply == NULL)
    {
      g_printerr ("StartDiscovery: %s\n", error->message);
      return -1;
    }
  return 0;
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
  struct CMUnitTest tests[N_CAPS * N_CAPS];
  Combination combinations[N_CAPS * N_CAPS];
  int failed;

  memset (tests, 0, sizeof tests);
  for (int p = 0; p < N_CAPS; p++)
    for (int a = 0; a < N_CAPS; a++)
      {
        Combination *c = &combinations[p * N_CAPS + a];

        c->peripheral = p;
        c->agent = a;
        c->name = g_strdup_printf ("agent %s, peripheral %s", cap_names[a], cap_names[p]);
        tests[p * N_CAPS + a].name = c->name;
        tests[p * N_CAPS + a].test_func = test_combination;
        tests[p * N_CAPS + a].initial_state = c;
      }
  failed = _cmocka_run_group_tests ("test-sim-pairing", tests, G_N_ELEMENTS (tests),
                                    group_setup, group_teardown);
  for (gsize i = 0; i < G_N_ELEMENTS (combinations); i++)
    g_free (combinations[i].name);
  return failed;
}
