/* SPDX-License-Identifier: MIT */
/*
 * Raw AD structures and `_bleio`'s advertising settings into the
 * properties of an org.bluez.LEAdvertisement1 object
 * (lib/bleio-ad-translate.c). Pure: no bus, so the unit tests reach every
 * rule. bluetoothd builds the bytes on air itself from these properties;
 * docs/peripheral.md has the table of what lands where.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-ad-translate-private.h is internal to libbleio"
#endif

#include <bleio/bleio.h>

G_BEGIN_DECLS

/* What the application asked for (bleio_adapter_start_advertising_async()). */
typedef struct {
  const guint8 *data;
  gsize data_len;
  const guint8 *scan_response;
  gsize scan_response_len;
  gboolean connectable;
  gboolean anonymous;
  guint timeout;                /* seconds, 0: none */
  double interval;              /* seconds, 0: bluetoothd's choice */
  int tx_power;                 /* dBm, 0: no preference */
  gboolean directed;            /* a directed_to address was given */
} BleioAdvertisingSettings;

/* What the adapter's LEAdvertisingManager1 says it can do. */
typedef struct {
  /* SupportedCapabilities is exported: bluetoothd runs with its
   * experimental flag, so it reads MinInterval, MaxInterval and TxPower
   * (without the flag 5.66 accepts and ignores them). */
  gboolean experimental;
  /* SupportedSecondaryChannels lists a channel: the controller sends
   * extended advertisements. */
  gboolean extended;
  guint max_adv_len;            /* MaxAdvLen, 31 when not exported */
  guint max_scan_rsp_len;       /* MaxScnRspLen, 31 when not exported */
  gboolean include_tx_power;    /* "tx-power" in SupportedIncludes */
  gboolean has_tx_power_range;  /* MinTxPower and MaxTxPower exported */
  int min_tx_power;
  int max_tx_power;
} BleioAdvertisingCaps;

/* The legacy advertising PDU carries at most this many bytes of data. */
#define BLEIO_AD_LEGACY_MAX 31

/* Caps with the values a bluetoothd without the experimental flag and a
 * legacy controller give. */
void      bleio_advertising_caps_init   (BleioAdvertisingCaps           *caps);
/* Reads @caps from the properties (a{sv}) of LEAdvertisingManager1. */
void      bleio_advertising_caps_from_manager (BleioAdvertisingCaps     *caps,
                                               GVariant                 *manager_properties);

/* The LEAdvertisement1 properties (a floating a{sv}) for @settings, or
 * NULL with BLEIO_ERROR_INVALID_ARGUMENT (malformed or contradictory input)
 * or BLEIO_ERROR_NOT_SUPPORTED (BlueZ cannot send it), naming the AD
 * structure at fault by its index (from 0) and type. */
GVariant *bleio_advertising_properties  (const BleioAdvertisingSettings *settings,
                                         const BleioAdvertisingCaps     *caps,
                                         GError                        **error);

G_END_DECLS
