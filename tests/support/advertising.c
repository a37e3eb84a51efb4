/* SPDX-License-Identifier: MIT */
#include "advertising.h"

static void
on_ended (BleioAdapter              *adapter,
          BleioAdvertisingEndReason  reason,
          gpointer                   user_data)
{
  AdvHeard *h = user_data;

  h->ended++;
  h->reason = reason;
  h->thread = g_thread_self ();
  /* Recorded, not asserted here: a failed assertion would leave the
   * signal emission by longjmp. */
  h->advertising_at_end = bleio_adapter_get_advertising (adapter);
}

static void
on_restored (BleioAdapter *adapter,
             gpointer      user_data)
{
  AdvHeard *h = user_data;

  h->restored++;
  h->advertising_at_restore = bleio_adapter_get_advertising (adapter);
}

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           gpointer    user_data)
{
  AdvHeard *h = user_data;

  h->notified++;
}

void
adv_listen (BleioAdapter *adapter,
            AdvHeard     *h)
{
  memset (h, 0, sizeof *h);
  g_signal_connect (adapter, "advertising-ended", G_CALLBACK (on_ended), h);
  g_signal_connect (adapter, "advertising-restored", G_CALLBACK (on_restored), h);
  g_signal_connect (adapter, "notify::advertising", G_CALLBACK (on_notify), h);
}

void
adv_unlisten (BleioAdapter *adapter,
              AdvHeard     *h)
{
  g_signal_handlers_disconnect_by_data (adapter, h);
}

gboolean
adv_heard_end (gpointer user_data)
{
  return ((AdvHeard *) user_data)->ended > 0;
}

gboolean
adv_heard_restored (gpointer user_data)
{
  return ((AdvHeard *) user_data)->restored > 0;
}

GBytes *
adv_bytes (const char *hex_text)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  for (const char *p = hex_text; *p != '\0'; p++)
    {
      int hi, lo;
      guint8 b;

      if (*p == ' ')
        continue;
      hi = g_ascii_xdigit_value (p[0]);
      lo = hi < 0 ? -1 : g_ascii_xdigit_value (p[1]);
      if (hi < 0 || lo < 0)
        fail_msg ("bad hex in test vector at \"%s\"", p);
      b = (guint8) ((hi << 4) | lo);
      g_byte_array_append (out, &b, 1);
      p++;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

void
adv_start_ok (BleioAdapter *adapter,
              const char   *data,
              const char   *scan_response,
              gboolean      connectable,
              guint         timeout)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) d = adv_bytes (data);
  g_autoptr(GBytes) s = scan_response != NULL ? adv_bytes (scan_response) : NULL;

  assert_true (bleio_adapter_start_advertising (adapter, d, s, connectable, FALSE, timeout,
                                                0, 0, NULL, NULL, &error));
  assert_no_error (error);
  assert_true (bleio_adapter_get_advertising (adapter));
}

int
adv_active_instances (SimFixture *fx,
                      const char *adapter_path)
{
  g_autoptr(GVariant) v = sim_fixture_get_property (fx, adapter_path, ADV_MANAGER,
                                                    "ActiveInstances");

  return v != NULL ? g_variant_get_byte (v) : -1;
}

gboolean
adv_instances_are (gpointer user_data)
{
  AdvInstancesWait *w = user_data;

  return adv_active_instances (w->fx, w->adapter_path) == w->expected;
}
