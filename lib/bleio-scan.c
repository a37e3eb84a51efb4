/* SPDX-License-Identifier: MIT */
/*
 * BleioScanEntry and BleioScanResults. The filtering runs on the client's
 * worker thread, so bleio_scan_results_next() fills up whether or not the
 * application runs a main loop; the ::entry signal is forwarded to the
 * adapter's context.
 */
#include "bleio-scan-private.h"
#include "bleio-ad-private.h"
#include "bleio-private.h"
#include "bleio-weak-ref-private.h"
#include "bleio-timeout-private.h"
#include "bleio-scan-monitor-private.h"

#include <string.h>

#define ENTRY_OVERHEAD 16

struct _BleioScanEntry {
  gint ref_count;
  BleioAddress *address;
  GBytes *bytes;
  int rssi;
  gboolean connectable;
};

/* The boxed-type macro goes through a GCC transparent union, which
 * -Wpedantic rejects. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
G_DEFINE_BOXED_TYPE (BleioScanEntry, bleio_scan_entry,
                     bleio_scan_entry_ref, bleio_scan_entry_unref)
#pragma GCC diagnostic pop

BleioScanEntry *
bleio_scan_entry_ref (BleioScanEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);
  g_atomic_int_inc (&entry->ref_count);
  return entry;
}

void
bleio_scan_entry_unref (BleioScanEntry *entry)
{
  if (entry == NULL || !g_atomic_int_dec_and_test (&entry->ref_count))
    return;
  bleio_address_free (entry->address);
  g_bytes_unref (entry->bytes);
  g_free (entry);
}

const BleioAddress *
bleio_scan_entry_get_address (const BleioScanEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);
  return entry->address;
}

GBytes *
bleio_scan_entry_get_advertisement_bytes (const BleioScanEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);
  return entry->bytes;
}

int
bleio_scan_entry_get_rssi (const BleioScanEntry *entry)
{
  g_return_val_if_fail (entry != NULL, 0);
  return entry->rssi;
}

gboolean
bleio_scan_entry_get_connectable (const BleioScanEntry *entry)
{
  g_return_val_if_fail (entry != NULL, FALSE);
  return entry->connectable;
}

gboolean
bleio_scan_entry_get_scan_response (const BleioScanEntry *entry)
{
  g_return_val_if_fail (entry != NULL, FALSE);
  return FALSE;
}

gboolean
bleio_scan_entry_matches (const BleioScanEntry *entry,
                          const guint8         *prefixes,
                          gsize                 prefixes_len,
                          gboolean              match_all)
{
  gsize len = 0;
  const guint8 *data;

  g_return_val_if_fail (entry != NULL, FALSE);
  data = g_bytes_get_data (entry->bytes, &len);
  return bleio_ad_matches (data, len, prefixes, prefixes_len, match_all);
}

char *
bleio_scan_entry_dup_complete_name (const BleioScanEntry *entry)
{
  BleioAdIter iter;
  gsize len = 0;
  const guint8 *data;
  guint8 type;
  const guint8 *payload;
  gsize payload_len;

  g_return_val_if_fail (entry != NULL, NULL);
  data = g_bytes_get_data (entry->bytes, &len);
  bleio_ad_iter_init (&iter, data, len);
  while (bleio_ad_iter_next (&iter, &type, &payload, &payload_len, NULL))
    {
      if (type == BLEIO_AD_TYPE_COMPLETE_NAME)
        return g_strndup ((const char *) payload, payload_len);
    }
  return NULL;
}

static gsize
entry_cost (BleioScanEntry *entry)
{
  return g_bytes_get_size (entry->bytes) + ENTRY_OVERHEAD;
}

/* ---- results ------------------------------------------------------------ */

struct _BleioScanResults {
  GObject parent_instance;

  BleioClient *client;
  char *adapter_path;
  GMainContext *context;
  GBytes *prefixes;
  gsize buffer_size;
  int minimum_rssi;
  guint watch_id;
  GSource *timeout_source;
  gboolean done_emitted;        /* only in @context */

  GMutex lock;
  GCond cond;
  GQueue entries;
  gsize held;
  GQueue signal_entries;
  gsize signal_held;
  GSource *signal_idle;
  guint dropped;
  gboolean done;
  GError *end_error;
  /* Device path -> the UUIDs (as) it had before its first link. BlueZ
   * merges the services it finds over GATT into Device1.UUIDs and keeps
   * them after the link ends, so from then on the advertisement is
   * rebuilt from these instead. */
  GHashTable *advertised_uuids;
  GHashTable *linked_paths;     /* devices seen with a link: a set */
  /* This bluetoothd puts service data UUIDs in Device1.UUIDs (see
   * bleio_ad_drop_service_data_uuids()). */
  gboolean uuids_carry_service_data;
  /* A passive scan's advertisement monitor (under the lock); stopped
   * when the scan ends. */
  BleioScanMonitor *monitor;
  gboolean passive;
};

enum {
  SIGNAL_ENTRY,
  SIGNAL_DONE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (BleioScanResults, bleio_scan_results, G_TYPE_OBJECT)

static void
bleio_scan_results_finalize (GObject *object)
{
  BleioScanResults *self = BLEIO_SCAN_RESULTS (object);

  bleio_client_unwatch (self->client, self->watch_id);
  bleio_scan_monitor_stop (g_steal_pointer (&self->monitor));
  if (self->timeout_source != NULL)
    {
      g_source_destroy (self->timeout_source);
      g_source_unref (self->timeout_source);
    }
  if (self->signal_idle != NULL)
    {
      g_source_destroy (self->signal_idle);
      g_source_unref (self->signal_idle);
    }
  g_queue_clear_full (&self->entries, (GDestroyNotify) bleio_scan_entry_unref);
  g_queue_clear_full (&self->signal_entries, (GDestroyNotify) bleio_scan_entry_unref);
  g_clear_error (&self->end_error);
  g_clear_pointer (&self->advertised_uuids, g_hash_table_unref);
  g_clear_pointer (&self->linked_paths, g_hash_table_unref);
  g_clear_pointer (&self->prefixes, g_bytes_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->adapter_path);
  bleio_client_unref (self->client);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (bleio_scan_results_parent_class)->finalize (object);
}

static void
bleio_scan_results_class_init (BleioScanResultsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bleio_scan_results_finalize;

  /**
   * BleioScanResults::entry:
   * @results: the #BleioScanResults
   * @entry: the #BleioScanEntry
   *
   * Emitted for every entry the scan keeps, in the thread-default main
   * context current when the adapter was created.
   */
  signals[SIGNAL_ENTRY] =
    g_signal_new ("entry", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  BLEIO_TYPE_SCAN_ENTRY | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * BleioScanResults::done:
   * @results: the #BleioScanResults
   *
   * Emitted once when the scan ends (stopped, timed out or failed), after
   * the ::entry signals of the entries it kept, in the same context.
   */
  signals[SIGNAL_DONE] =
    g_signal_new ("done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
bleio_scan_results_init (BleioScanResults *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->entries);
  g_queue_init (&self->signal_entries);
  self->advertised_uuids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                  (GDestroyNotify) g_variant_unref);
  self->linked_paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static gboolean
signal_idle_cb (gpointer user_data)
{
  BleioScanResults *self = user_data;
  gboolean emit_done = FALSE;

  for (;;)
    {
      BleioScanEntry *entry;

      g_mutex_lock (&self->lock);
      entry = g_queue_pop_head (&self->signal_entries);
      if (entry != NULL)
        self->signal_held -= entry_cost (entry);
      else
        {
          g_clear_pointer (&self->signal_idle, g_source_unref);
          emit_done = self->done;
        }
      g_mutex_unlock (&self->lock);
      if (entry == NULL)
        break;
      g_signal_emit (self, signals[SIGNAL_ENTRY], 0, entry);
      bleio_scan_entry_unref (entry);
    }
  if (emit_done && !self->done_emitted)
    {
      self->done_emitted = TRUE;
      g_signal_emit (self, signals[SIGNAL_DONE], 0);
    }
  return G_SOURCE_REMOVE;
}

/* Called with the lock held. */
static void
schedule_signal_locked (BleioScanResults *self)
{
  if (self->signal_idle != NULL)
    return;
  self->signal_idle = g_idle_source_new ();
  g_source_set_callback (self->signal_idle, signal_idle_cb,
                         g_object_ref (self), g_object_unref);
  g_source_set_static_name (self->signal_idle, "[bleio] scan entry");
  g_source_attach (self->signal_idle, self->context);
}

static void
push_entry (BleioScanResults *self,
            BleioScanEntry   *entry)
{
  gsize cost = entry_cost (entry);

  g_mutex_lock (&self->lock);
  if (self->done)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  if (self->held + cost <= self->buffer_size)
    {
      g_queue_push_tail (&self->entries, bleio_scan_entry_ref (entry));
      self->held += cost;
      g_cond_broadcast (&self->cond);
    }
  else
    {
      self->dropped++;
    }
  if (self->signal_held + cost <= self->buffer_size)
    {
      g_queue_push_tail (&self->signal_entries, bleio_scan_entry_ref (entry));
      self->signal_held += cost;
      schedule_signal_locked (self);
    }
  g_mutex_unlock (&self->lock);
}

/* Any flag bit, not only the discoverable ones: a connectable advertiser
 * that is not discoverable sends 0x04 alone, and a non-connectable one
 * need not send Flags at all (Core Specification Supplement, Part A 1.3). */
static gboolean
flags_present (const BleioPropIndex *props)
{
  g_autoptr(GVariant) flags = bleio_prop_index_lookup (props, "AdvertisingFlags",
                                                       G_VARIANT_TYPE_BYTESTRING);
  gsize n = 0;
  const guint8 *data;

  if (flags == NULL)
    return FALSE;
  data = g_variant_get_fixed_array (flags, &n, 1);
  return n > 0 && data[0] != 0;
}

#define EDDYSTONE_UUID "0000feaa-0000-1000-8000-00805f9b34fb"

/* Beacon formats that are broadcast non-connectable by definition. */
static gboolean
is_beacon_frame (const BleioPropIndex *props)
{
  g_autoptr(GVariant) manufacturer = bleio_prop_index_lookup (props, "ManufacturerData",
                                                              G_VARIANT_TYPE ("a{qv}"));
  g_autoptr(GVariant) service_data = bleio_prop_index_lookup (props, "ServiceData",
                                                              G_VARIANT_TYPE ("a{sv}"));

  if (manufacturer != NULL)
    {
      GVariantIter iter;
      guint16 company;
      GVariant *value;

      g_variant_iter_init (&iter, manufacturer);
      while (g_variant_iter_next (&iter, "{qv}", &company, &value))
        {
          gsize n = 0;
          const guint8 *data = NULL;

          if (g_variant_is_of_type (value, G_VARIANT_TYPE_BYTESTRING))
            data = g_variant_get_fixed_array (value, &n, 1);
          /* iBeacon: Apple's company id, then type 0x02 length 0x15;
           * AltBeacon: 0xBEAC after any company id. */
          if ((company == 0x004C && n >= 2 && data[0] == 0x02 && data[1] == 0x15) ||
              (n >= 2 && data[0] == 0xBE && data[1] == 0xAC))
            {
              g_variant_unref (value);
              return TRUE;
            }
          g_variant_unref (value);
        }
    }
  if (service_data != NULL)
    {
      g_autoptr(GVariant) eddystone = g_variant_lookup_value (service_data, EDDYSTONE_UUID, NULL);

      if (eddystone != NULL)
        return TRUE;
    }
  return FALSE;
}

/* What a scan entry is made of: the device's own fields and those its
 * advertisement is rebuilt from (bleio_ad_build_from_index()). */
static const char * const entry_keys[] = {
  "Adapter", "RSSI", "Address", "AddressType", "Connected", "Paired",
  "AdvertisingFlags", "UUIDs", "Name", "TxPower", "Appearance", "ServiceData",
  "ManufacturerData", "AdvertisingData", "ServicesResolved",
};

static BleioScanEntry *
entry_new_from_index (const BleioPropIndex *props,
                      const char           *adapter_path,
                      int                   minimum_rssi,
                      GBytes               *prefixes)
{
  g_autoptr(GVariant) adapter = NULL;
  g_autoptr(GVariant) rssi_value = NULL;
  g_autoptr(GVariant) address = NULL;
  g_autoptr(GVariant) address_type = NULL;
  g_autoptr(GVariant) connected = NULL;
  g_autoptr(GVariant) paired = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(BleioAddress) parsed = NULL;
  BleioScanEntry *entry;
  gint16 rssi;

  adapter = bleio_prop_index_lookup (props, "Adapter", G_VARIANT_TYPE_OBJECT_PATH);
  /* No RSSI: not heard in this discovery (a stored or stale device). */
  rssi_value = bleio_prop_index_lookup (props, "RSSI", G_VARIANT_TYPE_INT16);
  address = bleio_prop_index_lookup (props, "Address", G_VARIANT_TYPE_STRING);
  address_type = bleio_prop_index_lookup (props, "AddressType", G_VARIANT_TYPE_STRING);
  connected = bleio_prop_index_lookup (props, "Connected", G_VARIANT_TYPE_BOOLEAN);
  paired = bleio_prop_index_lookup (props, "Paired", G_VARIANT_TYPE_BOOLEAN);
  if (adapter == NULL || !g_str_equal (g_variant_get_string (adapter, NULL), adapter_path) ||
      rssi_value == NULL || address == NULL)
    return NULL;
  /* HCI reports -127..+20 dBm, or 127 for "not available" (btvirt's
   * controller always does); anything else is a broken bluetoothd. */
  rssi = g_variant_get_int16 (rssi_value);
  if (rssi != BLEIO_SCAN_ENTRY_RSSI_UNKNOWN)
    rssi = CLAMP (rssi, -127, 20);
  if (rssi < minimum_rssi)
    return NULL;
  parsed = bleio_address_new_from_bluez (g_variant_get_string (address, NULL),
                                         address_type != NULL
                                         ? g_variant_get_string (address_type, NULL)
                                         : "public",
                                         NULL);
  if (parsed == NULL)
    return NULL;
  bytes = bleio_ad_build_from_index (props);
  if (prefixes != NULL && g_bytes_get_size (prefixes) > 0)
    {
      gsize plen = 0, alen = 0;
      const guint8 *p = g_bytes_get_data (prefixes, &plen);
      const guint8 *a = g_bytes_get_data (bytes, &alen);

      if (!bleio_ad_matches (a, alen, p, plen, FALSE))
        return NULL;
    }

  entry = g_new0 (BleioScanEntry, 1);
  entry->ref_count = 1;
  entry->address = g_steal_pointer (&parsed);
  entry->bytes = g_steal_pointer (&bytes);
  entry->rssi = rssi;
  entry->connectable = (flags_present (props) && !is_beacon_frame (props)) ||
                       (connected != NULL && g_variant_get_boolean (connected)) ||
                       (paired != NULL && g_variant_get_boolean (paired));
  return entry;
}

BleioScanEntry *
bleio_scan_entry_new_from_bluez (GVariant   *props_all,
                                 const char *adapter_path,
                                 int         minimum_rssi,
                                 GBytes     *prefixes)
{
  BleioPropIndex props;
  BleioScanEntry *entry;

  if (props_all == NULL || !g_variant_is_of_type (props_all, G_VARIANT_TYPE_VARDICT))
    return NULL;
  /* One pass over the properties (see BleioPropIndex), then lookups that
   * cost next to nothing. */
  bleio_prop_index_init (&props, props_all, entry_keys, G_N_ELEMENTS (entry_keys));
  entry = entry_new_from_index (&props, adapter_path, minimum_rssi, prefixes);
  bleio_prop_index_clear (&props);
  return entry;
}

/* Keeps the UUIDs @props holds until the device's first link, and puts
 * them back in @props from then on (see advertised_uuids). A device first
 * seen linked keeps what BlueZ says: nothing better is known. */
static void
use_advertised_uuids (BleioScanResults *self,
                      const char       *path,
                      BleioPropIndex   *props)
{
  g_autoptr(GVariant) connected = bleio_prop_index_lookup (props, "Connected", G_VARIANT_TYPE_BOOLEAN);
  g_autoptr(GVariant) resolved = bleio_prop_index_lookup (props, "ServicesResolved",
                                                          G_VARIANT_TYPE_BOOLEAN);
  g_autoptr(GVariant) uuids = bleio_prop_index_lookup (props, "UUIDs", G_VARIANT_TYPE_STRING_ARRAY);
  g_autoptr(GVariant) remembered = NULL;
  gboolean linked = (connected != NULL && g_variant_get_boolean (connected)) ||
                    (resolved != NULL && g_variant_get_boolean (resolved));

  g_mutex_lock (&self->lock);
  if (linked && !g_hash_table_contains (self->linked_paths, path))
    g_hash_table_add (self->linked_paths, g_strdup (path));
  if (g_hash_table_contains (self->linked_paths, path))
    {
      remembered = g_hash_table_lookup (self->advertised_uuids, path);
      if (remembered != NULL)
        g_variant_ref (remembered);
    }
  else if (uuids != NULL)
    g_hash_table_replace (self->advertised_uuids, g_strdup (path), g_variant_ref (uuids));
  else
    g_hash_table_remove (self->advertised_uuids, path);
  g_mutex_unlock (&self->lock);
  if (remembered != NULL)
    bleio_prop_index_replace (props, "UUIDs", remembered);
}

/* A device BlueZ removed (a temporary one after discovery, or a rotated
 * address) takes what the scan remembered of it along, so a long scan of
 * changing addresses keeps no memory per address it ever heard. */
static void
forget_device (BleioScanResults *self,
               const char       *path)
{
  g_mutex_lock (&self->lock);
  g_hash_table_remove (self->advertised_uuids, path);
  g_hash_table_remove (self->linked_paths, path);
  g_mutex_unlock (&self->lock);
}

static void
consider_device (BleioScanResults *self,
                 const char       *path)
{
  BleioPropIndex props;
  BleioScanEntry *entry;

  /* The values straight from the cache, without a dictionary built for
   * them and taken apart again (bench-scan under callgrind). */
  if (!bleio_client_fill_index (self->client, path, BLEIO_IFACE_DEVICE, &props,
                                entry_keys, G_N_ELEMENTS (entry_keys)))
    return;
  use_advertised_uuids (self, path, &props);
  if (self->uuids_carry_service_data)
    bleio_ad_drop_service_data_uuids (&props);
  entry = entry_new_from_index (&props, self->adapter_path, self->minimum_rssi,
                                self->prefixes);
  bleio_prop_index_clear (&props);
  if (entry == NULL)
    return;
  push_entry (self, entry);
  bleio_scan_entry_unref (entry);
}

static const char *const advert_properties[] = {
  "RSSI", "ManufacturerData", "ServiceData", "AdvertisingData",
  "AdvertisingFlags", "TxPower", "Name", "UUIDs", "Appearance",
};

gboolean
bleio_scan_is_advert_change (GVariant *changed)
{
  if (changed == NULL || !g_variant_is_of_type (changed, G_VARIANT_TYPE_VARDICT))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (advert_properties); i++)
    {
      g_autoptr(GVariant) value = g_variant_lookup_value (changed, advert_properties[i], NULL);

      if (value != NULL)
        return TRUE;
    }
  return FALSE;
}

/* Runs on the worker thread. */
static void
on_client_event (BleioClient            *client,
                 const BleioClientEvent *event,
                 gpointer                user_data)
{
  g_autoptr(BleioScanResults) self = g_weak_ref_get (user_data);

  if (self == NULL)
    return;

  switch (event->kind)
    {
    case BLEIO_CLIENT_EVENT_ADDED:
      if (g_str_equal (event->interface, BLEIO_IFACE_DEVICE))
        consider_device (self, event->path);
      break;
    case BLEIO_CLIENT_EVENT_CHANGED:
      if (g_str_equal (event->interface, BLEIO_IFACE_DEVICE) &&
          bleio_scan_is_advert_change (event->changed))
        consider_device (self, event->path);
      break;
    case BLEIO_CLIENT_EVENT_REMOVED:
      if (g_str_equal (event->interface, BLEIO_IFACE_DEVICE))
        forget_device (self, event->path);
      if (g_str_equal (event->interface, BLEIO_IFACE_ADAPTER) &&
          g_str_equal (event->path, self->adapter_path) &&
          bleio_client_has_owner (client))
        bleio_scan_results_end (self, g_error_new (BLEIO_ERROR, BLEIO_ERROR_NO_ADAPTER,
                                                   "The adapter %s was removed during the scan",
                                                   self->adapter_path));
      break;
    case BLEIO_CLIENT_EVENT_OWNER:
      if (!event->has_owner)
        bleio_scan_results_end (self, g_error_new_literal (BLEIO_ERROR, BLEIO_ERROR_BLUEZ_UNAVAILABLE,
                                                           "bluetoothd left the bus during the scan"));
      break;
    default:
      break;
    }
}

static void
stop_discovery_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  BleioClient *client = user_data;
  GVariant *reply = bleio_client_call_finish (client, result, NULL);

  g_clear_pointer (&reply, g_variant_unref);

  bleio_client_unref (client);
}

/* Worker context: the scan's own timeout. */
static gboolean
scan_timeout_cb (gpointer user_data)
{
  g_autoptr(BleioScanResults) self = g_weak_ref_get (user_data);

  if (self == NULL)
    return G_SOURCE_REMOVE;
  g_debug ("scan on %s timed out", self->adapter_path);
  /* a passive scan has no discovery session: ending it unregisters its
   * monitor */
  if (bleio_scan_results_end (self, NULL) && !self->passive)
    bleio_client_call (self->client, self->adapter_path, BLEIO_IFACE_ADAPTER,
                       "StopDiscovery", NULL, BLEIO_CALL_LOCAL_MSEC, NULL, stop_discovery_cb,
                       bleio_client_ref (self->client));
  return G_SOURCE_REMOVE;
}

/* bluetoothd adds service data UUIDs to Device1.UUIDs since 5.69, and
 * tells no version on the bus. Adapter1.Manufacturer, which every adapter
 * has from 5.71 on, is the nearest mark: 5.69 and 5.70 are taken for
 * versions that do not merge (docs/bluez-versions.md). */
static gboolean
bluez_merges_service_data_uuids (BleioClient *client,
                                 const char  *adapter_path)
{
  g_autoptr(GVariant) manufacturer =
    bleio_client_dup_property (client, adapter_path, BLEIO_IFACE_ADAPTER, "Manufacturer");

  return manufacturer != NULL;
}

BleioScanResults *
bleio_scan_results_new (BleioClient  *client,
                        const char   *adapter_path,
                        GMainContext *context,
                        GBytes       *prefixes,
                        gsize         buffer_size,
                        int           minimum_rssi,
                        guint         timeout_msec)
{
  BleioScanResults *self = g_object_new (BLEIO_TYPE_SCAN_RESULTS, NULL);
  g_autoptr(GPtrArray) paths = NULL;
  /* Every Device1: the scan goes by a device's Adapter property. */
  BleioClientWatchKey keys[] = {
    { NULL, BLEIO_IFACE_DEVICE, FALSE, 0 },
    { NULL, BLEIO_IFACE_ADAPTER, FALSE, 0 },
  };

  self->client = bleio_client_ref (client);
  self->adapter_path = g_strdup (adapter_path);
  self->context = g_main_context_ref (context);
  self->prefixes = prefixes != NULL ? g_bytes_ref (prefixes) : NULL;
  self->buffer_size = buffer_size;
  self->minimum_rssi = minimum_rssi;
  self->uuids_carry_service_data = bluez_merges_service_data_uuids (client, adapter_path);
  keys[1].path = adapter_path;
  self->watch_id = bleio_client_watch_keys (client, NULL, keys, G_N_ELEMENTS (keys), on_client_event,
                                            bleio_weak_ref_new (self), bleio_weak_ref_free);

  if (timeout_msec > 0 && timeout_msec != BLEIO_TIMEOUT_NONE)
    {
      self->timeout_source = g_timeout_source_new (timeout_msec);
      g_source_set_callback (self->timeout_source, scan_timeout_cb,
                             bleio_weak_ref_new (self), bleio_weak_ref_free);
      g_source_set_static_name (self->timeout_source, "[bleio] scan timeout");
      g_source_attach (self->timeout_source, bleio_client_get_worker_context (client));
    }

  /* Devices heard by a discovery already running (someone else's) carry an
   * RSSI: report them now rather than at their next advertisement. */
  paths = bleio_client_list_paths (client, BLEIO_IFACE_DEVICE, adapter_path);
  for (guint i = 0; i < paths->len; i++)
    consider_device (self, g_ptr_array_index (paths, i));
  return self;
}

gboolean
bleio_scan_results_end (BleioScanResults *self,
                        GError           *error)
{
  gboolean ended = FALSE;
  BleioScanMonitor *monitor = NULL;

  g_mutex_lock (&self->lock);
  if (!self->done)
    {
      monitor = g_steal_pointer (&self->monitor);
      g_debug ("scan on %s ended%s%s", self->adapter_path,
               error != NULL ? ": " : "", error != NULL ? error->message : "");
      self->done = TRUE;
      self->end_error = error;
      error = NULL;
      ended = TRUE;
      g_cond_broadcast (&self->cond);
      schedule_signal_locked (self);
    }
  g_mutex_unlock (&self->lock);
  bleio_scan_monitor_stop (monitor);
  g_clear_error (&error);
  return ended;
}

/* Worker thread: every advertisement the monitor matched, even when no
 * property of the device changed. */
static void
monitor_found (GObject    *target,
               const char *device_path)
{
  consider_device (BLEIO_SCAN_RESULTS (target), device_path);
}

static void
monitor_released (GObject *target)
{
  BleioScanResults *self = BLEIO_SCAN_RESULTS (target);

  bleio_scan_results_end (self, g_error_new (BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                                             "bluetoothd released the passive scan's "
                                             "advertisement monitor on %s; start the scan again",
                                             self->adapter_path));
}

void
bleio_scan_results_take_monitor (BleioScanResults *self,
                                 BleioScanMonitor *monitor)
{
  g_mutex_lock (&self->lock);
  self->passive = TRUE;
  self->monitor = monitor;
  g_mutex_unlock (&self->lock);
  bleio_scan_monitor_feed (monitor, G_OBJECT (self), monitor_found, monitor_released);
}

gboolean
bleio_scan_results_get_passive (BleioScanResults *results)
{
  g_return_val_if_fail (BLEIO_IS_SCAN_RESULTS (results), FALSE);
  return results->passive;
}

BleioScanEntry *
bleio_scan_results_next (BleioScanResults  *results,
                         double             timeout,
                         GError           **error)
{
  gint64 end_time = G_MAXINT64;
  guint timeout_msec = BLEIO_TIMEOUT_NONE;
  BleioScanEntry *entry = NULL;

  g_return_val_if_fail (BLEIO_IS_SCAN_RESULTS (results), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* A negative value keeps its documented meaning, "until an entry or the
   * end"; so does a bound beyond what a timeout holds. */
  if (!(timeout < 0) &&
      !bleio_timeout_to_msec (timeout, BLEIO_TIMEOUT_HUGE_IS_NONE, "scan entry timeout",
                              &timeout_msec, error))
    return NULL;
  end_time = bleio_timeout_deadline (timeout_msec);

  g_mutex_lock (&results->lock);
  for (;;)
    {
      entry = g_queue_pop_head (&results->entries);
      if (entry != NULL)
        {
          results->held -= entry_cost (entry);
          break;
        }
      if (results->done)
        {
          if (results->end_error != NULL)
            g_propagate_error (error, g_error_copy (results->end_error));
          break;
        }
      if (timeout_msec == BLEIO_TIMEOUT_NONE)
        g_cond_wait (&results->cond, &results->lock);
      else if (!g_cond_wait_until (&results->cond, &results->lock, end_time) &&
               g_queue_is_empty (&results->entries) && !results->done)
        {
          g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_TIMEOUT,
                       "No scan entry within %.3g s", timeout);
          break;
        }
    }
  g_mutex_unlock (&results->lock);
  return entry;
}

gboolean
bleio_scan_results_is_done (BleioScanResults *results)
{
  gboolean done;

  g_return_val_if_fail (BLEIO_IS_SCAN_RESULTS (results), TRUE);
  g_mutex_lock (&results->lock);
  done = results->done;
  g_mutex_unlock (&results->lock);
  return done;
}

guint
bleio_scan_results_get_dropped (BleioScanResults *results)
{
  guint dropped;

  g_return_val_if_fail (BLEIO_IS_SCAN_RESULTS (results), 0);
  g_mutex_lock (&results->lock);
  dropped = results->dropped;
  g_mutex_unlock (&results->lock);
  return dropped;
}
