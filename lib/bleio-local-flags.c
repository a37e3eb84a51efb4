/* SPDX-License-Identifier: MIT */
/*
 * `_bleio`'s properties and security modes as BlueZ Flags
 * (bleio-local-flags-private.h), pure.
 *
 * The Flags are what bluetoothd 5.66 parses (src/gatt-database.c,
 * parse_chrc_flags() and parse_desc_flags()): each of `encrypt-write`,
 * `encrypt-authenticated-write` and `secure-write` also gives the
 * characteristic the write property, so an encrypted write without
 * response comes with encrypted write requests; the CCCD of a
 * characteristic that notifies takes the read permission's security
 * (`encrypt-notify` and friends); `authenticated-signed-writes` is the one
 * signed flag, with no MITM variant. An empty Flags array fails the whole
 * registration, so an attribute clients can do nothing with is refused
 * here.
 */
#include "bleio-local-flags-private.h"

G_DEFINE_ENUM_TYPE (BleioAttributeSecurity, bleio_attribute_security,
  G_DEFINE_ENUM_VALUE (BLEIO_ATTRIBUTE_NO_ACCESS, "no-access"),
  G_DEFINE_ENUM_VALUE (BLEIO_ATTRIBUTE_OPEN, "open"),
  G_DEFINE_ENUM_VALUE (BLEIO_ATTRIBUTE_ENCRYPT_NO_MITM, "encrypt-no-mitm"),
  G_DEFINE_ENUM_VALUE (BLEIO_ATTRIBUTE_ENCRYPT_WITH_MITM, "encrypt-with-mitm"),
  G_DEFINE_ENUM_VALUE (BLEIO_ATTRIBUTE_LESC_ENCRYPT_WITH_MITM, "lesc-encrypt-with-mitm"),
  G_DEFINE_ENUM_VALUE (BLEIO_ATTRIBUTE_SIGNED_NO_MITM, "signed-no-mitm"),
  G_DEFINE_ENUM_VALUE (BLEIO_ATTRIBUTE_SIGNED_WITH_MITM, "signed-with-mitm"))

/* ---- security modes into Flags ---------------------------------------------- */

typedef enum {
  ACCESS_READ,
  ACCESS_WRITE,
  ACCESS_NOTIFY,
  ACCESS_INDICATE,
} Access;

static const char * const access_names[] = { "read", "write", "notify", "indicate" };

/* The flag for @access under @mode, added to @flags; FALSE with an error
 * for a mode that cannot guard it. @signed_ok: a characteristic's write. */
static gboolean
add_flag (GPtrArray               *flags,
          Access                   access,
          BleioAttributeSecurity   mode,
          gboolean                 signed_ok,
          GError                 **error)
{
  const char *name = access_names[access];
  const char *prefix;

  switch (mode)
    {
    case BLEIO_ATTRIBUTE_OPEN:
    case BLEIO_ATTRIBUTE_NO_ACCESS:
      prefix = "";
      break;
    case BLEIO_ATTRIBUTE_ENCRYPT_NO_MITM:
      prefix = "encrypt-";
      break;
    case BLEIO_ATTRIBUTE_ENCRYPT_WITH_MITM:
      prefix = "encrypt-authenticated-";
      break;
    case BLEIO_ATTRIBUTE_LESC_ENCRYPT_WITH_MITM:
      prefix = "secure-";
      break;
    case BLEIO_ATTRIBUTE_SIGNED_NO_MITM:
      if (!signed_ok)
        {
          g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                       "SIGNED_NO_MITM is for the write permission of a characteristic, "
                       "not for %s", access == ACCESS_WRITE ? "a descriptor's write" : name);
          return FALSE;
        }
      g_ptr_array_add (flags, g_strdup ("authenticated-signed-writes"));
      return TRUE;
    case BLEIO_ATTRIBUTE_SIGNED_WITH_MITM:
      if (!signed_ok)
        {
          g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                       "SIGNED_WITH_MITM is for the write permission of a characteristic, "
                       "not for %s", access == ACCESS_WRITE ? "a descriptor's write" : name);
          return FALSE;
        }
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED,
                           "BlueZ has one signed-write flag (authenticated-signed-writes), "
                           "which does not ask for MITM protection; use SIGNED_NO_MITM or "
                           "ENCRYPT_WITH_MITM");
      return FALSE;
    default:
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                   "0x%02x is not a security mode of BleioAttributeSecurity", (guint) mode);
      return FALSE;
    }
  g_ptr_array_add (flags, g_strconcat (prefix, name, NULL));
  return TRUE;
}

static gboolean
valid_mode (BleioAttributeSecurity   mode,
            GError                 **error)
{
  GPtrArray *scratch = g_ptr_array_new_with_free_func (g_free);
  gboolean ok = mode == BLEIO_ATTRIBUTE_SIGNED_WITH_MITM ||
                add_flag (scratch, ACCESS_WRITE, mode, TRUE, error);

  g_ptr_array_unref (scratch);
  return ok;
}

GPtrArray *
bleio_local_characteristic_flags (BleioCharacteristicProperties   properties,
                      BleioAttributeSecurity          read_perm,
                      BleioAttributeSecurity          write_perm,
                      GError                        **error)
{
  g_autoptr(GPtrArray) flags = g_ptr_array_new_with_free_func (g_free);
  BleioAttributeSecurity notify_mode = read_perm == BLEIO_ATTRIBUTE_NO_ACCESS ?
                                       BLEIO_ATTRIBUTE_OPEN : read_perm;
  gboolean writes = write_perm != BLEIO_ATTRIBUTE_NO_ACCESS;

  if (!valid_mode (read_perm, error) || !valid_mode (write_perm, error))
    return NULL;
  if (read_perm == BLEIO_ATTRIBUTE_SIGNED_NO_MITM || read_perm == BLEIO_ATTRIBUTE_SIGNED_WITH_MITM)
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                           "A signed mode guards writes only: give it as write_perm");
      return NULL;
    }
  if (properties & BLEIO_CHARACTERISTIC_PROPERTY_BROADCAST)
    g_ptr_array_add (flags, g_strdup ("broadcast"));
  if ((properties & BLEIO_CHARACTERISTIC_PROPERTY_READ) && read_perm != BLEIO_ATTRIBUTE_NO_ACCESS &&
      !add_flag (flags, ACCESS_READ, read_perm, FALSE, error))
    return NULL;
  if ((properties & BLEIO_CHARACTERISTIC_PROPERTY_WRITE) && writes &&
      !add_flag (flags, ACCESS_WRITE, write_perm, TRUE, error))
    return NULL;
  if ((properties & BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE) && writes)
    {
      g_ptr_array_add (flags, g_strdup ("write-without-response"));
      /* No flag guards writes without response alone: the write flag of
       * the mode (encrypted, or signed) guards both, and offers write
       * requests too. */
      if (write_perm != BLEIO_ATTRIBUTE_OPEN && !(properties & BLEIO_CHARACTERISTIC_PROPERTY_WRITE) &&
          !add_flag (flags, ACCESS_WRITE, write_perm, TRUE, error))
        return NULL;
    }
  if ((properties & BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY) &&
      !add_flag (flags, ACCESS_NOTIFY, notify_mode, FALSE, error))
    return NULL;
  if ((properties & BLEIO_CHARACTERISTIC_PROPERTY_INDICATE) &&
      !add_flag (flags, ACCESS_INDICATE, notify_mode, FALSE, error))
    return NULL;
  if (flags->len == 0)
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                           "The characteristic offers clients nothing: give it a property "
                           "whose permission is not NO_ACCESS");
      return NULL;
    }
  g_ptr_array_add (flags, NULL);
  return g_steal_pointer (&flags);
}

gboolean
bleio_local_flags_allow (GPtrArray *flags,
             gboolean   write)
{
  for (guint i = 0; i < flags->len && g_ptr_array_index (flags, i) != NULL; i++)
    {
      const char *flag = g_ptr_array_index (flags, i);

      if (write ? (g_str_has_suffix (flag, "write") ||
                   g_str_equal (flag, "write-without-response") ||
                   g_str_equal (flag, "authenticated-signed-writes"))
                : g_str_has_suffix (flag, "read"))
        return TRUE;
    }
  return FALSE;
}

GPtrArray *
bleio_local_descriptor_flags (BleioAttributeSecurity   read_perm,
                              BleioAttributeSecurity   write_perm,
                              GError                 **error)
{
  g_autoptr(GPtrArray) flags = g_ptr_array_new_with_free_func (g_free);

  if (!valid_mode (read_perm, error) || !valid_mode (write_perm, error))
    return NULL;
  if (read_perm != BLEIO_ATTRIBUTE_NO_ACCESS &&
      !add_flag (flags, ACCESS_READ, read_perm, FALSE, error))
    return NULL;
  if (write_perm != BLEIO_ATTRIBUTE_NO_ACCESS &&
      !add_flag (flags, ACCESS_WRITE, write_perm, FALSE, error))
    return NULL;
  if (flags->len == 0)
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                           "The descriptor offers clients nothing: give it a read or write "
                           "permission that is not NO_ACCESS");
      return NULL;
    }
  g_ptr_array_add (flags, NULL);
  return g_steal_pointer (&flags);
}
