/* SPDX-License-Identifier: MIT */
/*
 * BleioUuid: 16-bit and 128-bit Bluetooth UUIDs with _bleio.UUID's rules.
 */
#include "bleio-private.h"

#include <string.h>

struct _BleioUuid {
  guint size;          /* 16 or 128 */
  guint8 bytes[16];    /* little-endian; a 16-bit UUID sits on the base */
};

/* GLib's boxed-type macro passes the copy and free functions through a GCC
 * transparent union, which -Wpedantic (warning_level=3) rejects. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
G_DEFINE_BOXED_TYPE (BleioUuid, bleio_uuid, bleio_uuid_copy, bleio_uuid_free)
#pragma GCC diagnostic pop

/* 00000000-0000-1000-8000-00805f9b34fb, least significant byte first; a
 * 16-bit value goes into bytes 12 and 13. */
static const guint8 base_uuid[16] = {
  0xfb, 0x34, 0x9b, 0x5f, 0x80, 0x00, 0x00, 0x80,
  0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* Offsets of the hex pairs of the 36-character form, most significant
 * first; the dashes sit at 8, 13, 18 and 23. */
static const guint8 long_form_pairs[16] = {
  0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34,
};

static BleioUuid *
uuid_alloc (guint size)
{
  BleioUuid *uuid = g_new0 (BleioUuid, 1);

  uuid->size = size;
  return uuid;
}

BleioUuid *
bleio_uuid_new_from_uuid16 (guint16 uuid16)
{
  BleioUuid *uuid = uuid_alloc (16);

  memcpy (uuid->bytes, base_uuid, sizeof uuid->bytes);
  uuid->bytes[12] = uuid16 & 0xff;
  uuid->bytes[13] = uuid16 >> 8;
  return uuid;
}

BleioUuid *
bleio_uuid_new_from_bytes (const guint8 *data,
                           gsize         len,
                           GError      **error)
{
  BleioUuid *uuid;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len == 2)
    return bleio_uuid_new_from_uuid16 ((guint16) (data[0] | (data[1] << 8)));

  if (len != 16)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "A UUID is 2 or 16 bytes long, not %" G_GSIZE_FORMAT,
                   len);
      return NULL;
    }

  uuid = uuid_alloc (128);
  memcpy (uuid->bytes, data, 16);
  return uuid;
}

static gboolean
parse_hex_pair (const char *s,
                guint8     *out)
{
  int hi = g_ascii_xdigit_value (s[0]);
  int lo = hi < 0 ? -1 : g_ascii_xdigit_value (s[1]);

  if (hi < 0 || lo < 0)
    return FALSE;
  *out = (guint8) ((hi << 4) | lo);
  return TRUE;
}

static gboolean
parse_short_form (const char *s,
                  gsize       len,
                  guint16    *out)
{
  guint8 hi, lo;

  if (len != 4 || !parse_hex_pair (s, &hi) || !parse_hex_pair (s + 2, &lo))
    return FALSE;
  *out = (guint16) ((hi << 8) | lo);
  return TRUE;
}

static gboolean
parse_long_form (const char *s,
                 gsize       len,
                 guint8      out[16])
{
  if (len != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
    return FALSE;
  for (guint i = 0; i < 16; i++)
    if (!parse_hex_pair (s + long_form_pairs[i], &out[15 - i]))
      return FALSE;
  return TRUE;
}

BleioUuid *
bleio_uuid_new_from_string (const char *str,
                            GError    **error)
{
  gsize len;
  guint16 uuid16;
  guint8 bytes[16];
  BleioUuid *uuid;
  g_autofree char *quoted = NULL;

  g_return_val_if_fail (str != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* strnlen: anything longer than the longest form is wrong anyway. */
  len = strnlen (str, 37);

  if (parse_short_form (str, len, &uuid16))
    return bleio_uuid_new_from_uuid16 (uuid16);
  if (len == 6 && str[0] == '0' && (str[1] == 'x' || str[1] == 'X')
      && parse_short_form (str + 2, 4, &uuid16))
    return bleio_uuid_new_from_uuid16 (uuid16);

  if (parse_long_form (str, len, bytes))
    {
      if (memcmp (bytes, base_uuid, 12) == 0 && bytes[14] == 0 && bytes[15] == 0)
        return bleio_uuid_new_from_uuid16 ((guint16) (bytes[12] | (bytes[13] << 8)));
      uuid = uuid_alloc (128);
      memcpy (uuid->bytes, bytes, 16);
      return uuid;
    }

  quoted = g_strescape (str, NULL);
  g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
               "Invalid UUID \"%s\": expected 4 hex digits (\"180d\"), "
               "\"0x\" and 4 hex digits (\"0x180d\"), or the 36-character form "
               "\"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\"", quoted);
  return NULL;
}

BleioUuid *
bleio_uuid_copy (const BleioUuid *uuid)
{
  g_return_val_if_fail (uuid != NULL, NULL);

  return g_memdup2 (uuid, sizeof *uuid);
}

void
bleio_uuid_free (BleioUuid *uuid)
{
  g_free (uuid);
}

guint
bleio_uuid_get_size (const BleioUuid *uuid)
{
  g_return_val_if_fail (uuid != NULL, 0);

  return uuid->size;
}

guint16
bleio_uuid_get_uuid16 (const BleioUuid *uuid)
{
  g_return_val_if_fail (uuid != NULL, 0);

  return (guint16) (uuid->bytes[12] | (uuid->bytes[13] << 8));
}

gboolean
bleio_uuid_get_uuid128 (const BleioUuid *uuid,
                        guint8           out[16])
{
  g_return_val_if_fail (uuid != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (uuid->size != 128)
    return FALSE;
  memcpy (out, uuid->bytes, 16);
  return TRUE;
}

gboolean
bleio_uuid_pack_into (const BleioUuid *uuid,
                      guint8          *buffer,
                      gsize            buffer_len,
                      gsize            offset,
                      GError         **error)
{
  gsize n;

  g_return_val_if_fail (uuid != NULL, FALSE);
  g_return_val_if_fail (buffer != NULL || buffer_len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  n = uuid->size / 8;
  if (offset > buffer_len || buffer_len - offset < n)
    {
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "A %u-bit UUID needs %" G_GSIZE_FORMAT " bytes at offset %"
                   G_GSIZE_FORMAT " of a %" G_GSIZE_FORMAT "-byte buffer",
                   uuid->size, n, offset, buffer_len);
      return FALSE;
    }

  if (uuid->size == 16)
    memcpy (buffer + offset, uuid->bytes + 12, 2);
  else
    memcpy (buffer + offset, uuid->bytes, 16);
  return TRUE;
}

static char *
format_long_form (const BleioUuid *uuid)
{
  const guint8 *b = uuid->bytes;

  return g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                          "%02x%02x%02x%02x%02x%02x",
                          b[15], b[14], b[13], b[12], b[11], b[10], b[9], b[8],
                          b[7], b[6], b[5], b[4], b[3], b[2], b[1], b[0]);
}

char *
bleio_uuid_to_string (const BleioUuid *uuid)
{
  g_return_val_if_fail (uuid != NULL, NULL);

  if (uuid->size == 16)
    return g_strdup_printf ("0x%04x", bleio_uuid_get_uuid16 (uuid));
  return format_long_form (uuid);
}

char *
bleio_uuid_to_bluez_string (const BleioUuid *uuid)
{
  g_return_val_if_fail (uuid != NULL, NULL);

  return format_long_form (uuid);
}

gboolean
bleio_uuid_equal (gconstpointer a,
                  gconstpointer b)
{
  const BleioUuid *ua = a;
  const BleioUuid *ub = b;

  g_return_val_if_fail (ua != NULL, FALSE);
  g_return_val_if_fail (ub != NULL, FALSE);

  return ua->size == ub->size && memcmp (ua->bytes, ub->bytes, 16) == 0;
}

guint
bleio_uuid_hash (gconstpointer uuid)
{
  const BleioUuid *u = uuid;
  guint32 h = 2166136261u;   /* FNV-1a */

  g_return_val_if_fail (u != NULL, 0);

  h = (h ^ u->size) * 16777619u;
  for (guint i = 0; i < 16; i++)
    h = (h ^ u->bytes[i]) * 16777619u;
  return h;
}
