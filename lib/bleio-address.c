/* SPDX-License-Identifier: MIT */
/*
 * BleioAddress: a device address and its type, with the conversions to and
 * from the way BlueZ writes them.
 */
#include "bleio-private.h"

#include <string.h>

struct _BleioAddress {
  guint8 bytes[6];               /* least significant first */
  BleioAddressType address_type;
};

G_DEFINE_ENUM_TYPE (BleioAddressType, bleio_address_type,
  G_DEFINE_ENUM_VALUE (BLEIO_ADDRESS_TYPE_PUBLIC, "public"),
  G_DEFINE_ENUM_VALUE (BLEIO_ADDRESS_TYPE_RANDOM_STATIC, "random-static"),
  G_DEFINE_ENUM_VALUE (BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_RESOLVABLE,
                       "random-private-resolvable"),
  G_DEFINE_ENUM_VALUE (BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_NON_RESOLVABLE,
                       "random-private-non-resolvable"))

/* The transparent union inside GLib's macro upsets -Wpedantic; see
 * bleio-uuid.c. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
G_DEFINE_BOXED_TYPE (BleioAddress, bleio_address,
                     bleio_address_copy, bleio_address_free)
#pragma GCC diagnostic pop

static gboolean
address_type_is_valid (BleioAddressType address_type)
{
  return address_type >= BLEIO_ADDRESS_TYPE_PUBLIC
         && address_type <= BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_NON_RESOLVABLE;
}

BleioAddress *
bleio_address_new (const guint8     bytes[6],
                   BleioAddressType address_type)
{
  BleioAddress *address;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (address_type_is_valid (address_type), NULL);

  address = g_new0 (BleioAddress, 1);
  memcpy (address->bytes, bytes, 6);
  address->address_type = address_type;
  return address;
}

/* Parses AA:BB:CC:DD:EE:FF into bytes least significant first. */
static gboolean
parse_address (const char *str,
               guint8      out[6],
               GError    **error)
{
  g_autofree char *quoted = NULL;
  gboolean ok = strnlen (str, 18) == 17;

  for (guint i = 0; ok && i < 6; i++)
    {
      const char *p = str + i * 3;
      int hi = g_ascii_xdigit_value (p[0]);
      int lo = hi < 0 ? -1 : g_ascii_xdigit_value (p[1]);

      if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
        ok = FALSE;
      else
        out[5 - i] = (guint8) ((hi << 4) | lo);
    }
  if (ok)
    return TRUE;

  quoted = g_strescape (str, NULL);
  g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
               "Invalid Bluetooth address \"%s\": expected six pairs of hex "
               "digits separated by colons (\"AA:BB:CC:DD:EE:FF\")", quoted);
  return FALSE;
}

BleioAddress *
bleio_address_new_from_string (const char      *str,
                               BleioAddressType address_type,
                               GError         **error)
{
  guint8 bytes[6];

  g_return_val_if_fail (str != NULL, NULL);
  g_return_val_if_fail (address_type_is_valid (address_type), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!parse_address (str, bytes, error))
    return NULL;
  return bleio_address_new (bytes, address_type);
}

BleioAddress *
bleio_address_new_from_bluez (const char *address,
                              const char *address_type,
                              GError    **error)
{
  guint8 bytes[6];
  BleioAddressType type;

  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (address_type != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!parse_address (address, bytes, error))
    return NULL;

  if (g_str_equal (address_type, "public"))
    type = BLEIO_ADDRESS_TYPE_PUBLIC;
  else if (g_str_equal (address_type, "random"))
    {
      switch (bytes[5] >> 6)
        {
        case 3:
          type = BLEIO_ADDRESS_TYPE_RANDOM_STATIC;
          break;
        case 1:
          type = BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_RESOLVABLE;
          break;
        default:
          /* 00 is non-resolvable; 10 is reserved, classed the same way
           * (see the documentation). */
          type = BLEIO_ADDRESS_TYPE_RANDOM_PRIVATE_NON_RESOLVABLE;
          break;
        }
    }
  else
    {
      g_autofree char *quoted = g_strescape (address_type, NULL);

      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "Invalid BlueZ address type \"%s\": expected \"public\" "
                   "or \"random\"", quoted);
      return NULL;
    }

  return bleio_address_new (bytes, type);
}

BleioAddress *
bleio_address_copy (const BleioAddress *address)
{
  g_return_val_if_fail (address != NULL, NULL);

  return g_memdup2 (address, sizeof *address);
}

void
bleio_address_free (BleioAddress *address)
{
  g_free (address);
}

const guint8 *
bleio_address_get_bytes (const BleioAddress *address)
{
  g_return_val_if_fail (address != NULL, NULL);

  return address->bytes;
}

BleioAddressType
bleio_address_get_address_type (const BleioAddress *address)
{
  g_return_val_if_fail (address != NULL, BLEIO_ADDRESS_TYPE_PUBLIC);

  return address->address_type;
}

const char *
bleio_address_get_bluez_address_type (const BleioAddress *address)
{
  g_return_val_if_fail (address != NULL, NULL);

  return address->address_type == BLEIO_ADDRESS_TYPE_PUBLIC ? "public" : "random";
}

static char *
format_address (const BleioAddress *address,
                gboolean            upper)
{
  const guint8 *b = address->bytes;

  if (upper)
    return g_strdup_printf ("%02X:%02X:%02X:%02X:%02X:%02X",
                            b[5], b[4], b[3], b[2], b[1], b[0]);
  return g_strdup_printf ("%02x:%02x:%02x:%02x:%02x:%02x",
                          b[5], b[4], b[3], b[2], b[1], b[0]);
}

char *
bleio_address_to_string (const BleioAddress *address)
{
  g_return_val_if_fail (address != NULL, NULL);

  return format_address (address, FALSE);
}

char *
bleio_address_to_bluez_string (const BleioAddress *address)
{
  g_return_val_if_fail (address != NULL, NULL);

  return format_address (address, TRUE);
}

gboolean
bleio_address_equal (gconstpointer a,
                     gconstpointer b)
{
  const BleioAddress *aa = a;
  const BleioAddress *ab = b;

  g_return_val_if_fail (aa != NULL, FALSE);
  g_return_val_if_fail (ab != NULL, FALSE);

  return aa->address_type == ab->address_type
         && memcmp (aa->bytes, ab->bytes, 6) == 0;
}

guint
bleio_address_hash (gconstpointer address)
{
  const BleioAddress *a = address;
  guint32 h = 2166136261u;   /* FNV-1a */

  g_return_val_if_fail (a != NULL, 0);

  for (guint i = 0; i < 6; i++)
    h = (h ^ a->bytes[i]) * 16777619u;
  h = (h ^ (guint32) a->address_type) * 16777619u;
  return h;
}
