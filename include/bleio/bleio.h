/* SPDX-License-Identifier: MIT */
/*
 * libbleio: CircuitPython's _bleio BLE central API for Linux, over BlueZ.
 *
 * This is the only header applications include; the per-object headers
 * beside it refuse to be included on their own.
 */
#pragma once

#define __BLEIO_H_INSIDE__

#include <bleio/bleio-macros.h>
#include <bleio/bleio-error.h>
#include <bleio/bleio-uuid.h>
#include <bleio/bleio-address.h>
#include <bleio/bleio-ad.h>
#include <bleio/bleio-scan.h>
#include <bleio/bleio-connection.h>
#include <bleio/bleio-service.h>
#include <bleio/bleio-adapter.h>
#include <bleio/bleio-advertising.h>
#include <bleio/bleio-characteristic.h>
#include <bleio/bleio-descriptor.h>
#include <bleio/bleio-characteristic-buffer.h>
#include <bleio/bleio-packet-buffer.h>
#include <bleio/bleio-local-gatt.h>
#include <bleio/bleio-local-acquire.h>

#undef __BLEIO_H_INSIDE__
