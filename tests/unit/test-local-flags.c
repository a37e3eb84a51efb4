/* SPDX-License-Identifier: MIT */
/* The permission table of docs/peripheral.md (issue 17 item 1): `_bleio`'s
 * characteristic properties and Attribute security modes as the Flags
 * bluetoothd 5.66 parses for an application's characteristics and
 * descriptors (lib/bleio-local-flags.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bleio-local-flags-private.h"

#define P_READ BLEIO_CHARACTERISTIC_PROPERTY_READ
#define P_WRITE BLEIO_CHARACTERISTIC_PROPERTY_WRITE
#define P_WNR BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE
#define P_NOTIFY BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY
#define P_INDICATE BLEIO_CHARACTERISTIC_PROPERTY_INDICATE
#define P_BROADCAST BLEIO_CHARACTERISTIC_PROPERTY_BROADCAST

typedef struct {
  BleioCharacteristicProperties properties;
  BleioAttributeSecurity read_perm;
  BleioAttributeSecurity write_perm;
  const char *flags;            /* space-separated, in order */
} Row;

static const Row table[] = {
  { P_READ, BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_OPEN, "read" },
  { P_READ | P_WRITE, BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_OPEN, "read write" },
  { P_READ | P_WRITE, BLEIO_ATTRIBUTE_ENCRYPT_NO_MITM, BLEIO_ATTRIBUTE_ENCRYPT_NO_MITM,
    "encrypt-read encrypt-write" },
  { P_READ | P_WRITE, BLEIO_ATTRIBUTE_ENCRYPT_WITH_MITM, BLEIO_ATTRIBUTE_ENCRYPT_WITH_MITM,
    "encrypt-authenticated-read encrypt-authenticated-write" },
  { P_READ | P_WRITE, BLEIO_ATTRIBUTE_LESC_ENCRYPT_WITH_MITM, BLEIO_ATTRIBUTE_LESC_ENCRYPT_WITH_MITM,
    "secure-read secure-write" },
  /* NO_ACCESS drops the property it guards. */
  { P_READ | P_WRITE, BLEIO_ATTRIBUTE_NO_ACCESS, BLEIO_ATTRIBUTE_OPEN, "write" },
  { P_READ | P_WRITE | P_WNR, BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_NO_ACCESS, "read" },
  { P_WNR, BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_OPEN, "write-without-response" },
  /* No flag encrypts writes without response alone. */
  { P_WNR, BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_ENCRYPT_NO_MITM,
    "write-without-response encrypt-write" },
  { P_WRITE, BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_SIGNED_NO_MITM, "authenticated-signed-writes" },
  { P_WNR, BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_SIGNED_NO_MITM,
    "write-without-response authenticated-signed-writes" },
  { P_WRITE | P_WNR, BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_ENCRYPT_WITH_MITM,
    "encrypt-authenticated-write write-without-response" },
  /* The CCCD takes the read permission's security. */
  { P_NOTIFY, BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_NO_ACCESS, "notify" },
  { P_NOTIFY | P_INDICATE, BLEIO_ATTRIBUTE_ENCRYPT_NO_MITM, BLEIO_ATTRIBUTE_NO_ACCESS,
    "encrypt-notify encrypt-indicate" },
  { P_INDICATE, BLEIO_ATTRIBUTE_LESC_ENCRYPT_WITH_MITM, BLEIO_ATTRIBUTE_NO_ACCESS,
    "secure-indicate" },
  { P_NOTIFY, BLEIO_ATTRIBUTE_NO_ACCESS, BLEIO_ATTRIBUTE_NO_ACCESS, "notify" },
  { P_BROADCAST | P_READ, BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_OPEN, "broadcast read" },
};

static char *
joined (GPtrArray *flags)
{
  return g_strjoinv (" ", (char **) flags->pdata);
}

static void
test_local_flags_table (void **state)
{
  (void) state;
  for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) flags = bleio_local_characteristic_flags (table[i].properties,
                                                                     table[i].read_perm,
                                                                     table[i].write_perm, &error);
      g_autofree char *got = NULL;

      assert_null (error);
      assert_non_null (flags);
      got = joined (flags);
      if (strcmp (got, table[i].flags) != 0)
        fail_msg ("row %" G_GSIZE_FORMAT ": \"%s\", expected \"%s\"", i, got, table[i].flags);
    }
}

static void
test_local_flags_refused (void **state)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *flags;

  (void) state;
  /* Nothing clients may do: bluetoothd refuses an empty Flags array. */
  flags = bleio_local_characteristic_flags (P_READ, BLEIO_ATTRIBUTE_NO_ACCESS,
                                            BLEIO_ATTRIBUTE_OPEN, &error);
  assert_null (flags);
  assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
  g_clear_error (&error);
  /* Signed modes guard writes. */
  flags = bleio_local_characteristic_flags (P_READ, BLEIO_ATTRIBUTE_SIGNED_NO_MITM,
                                            BLEIO_ATTRIBUTE_OPEN, &error);
  assert_null (flags);
  assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
  g_clear_error (&error);
  /* BlueZ's one signed flag has no MITM variant. */
  flags = bleio_local_characteristic_flags (P_WRITE, BLEIO_ATTRIBUTE_OPEN,
                                            BLEIO_ATTRIBUTE_SIGNED_WITH_MITM, &error);
  assert_null (flags);
  assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_NOT_SUPPORTED));
  g_clear_error (&error);
  /* Not a mode at all. */
  flags = bleio_local_characteristic_flags (P_READ, (BleioAttributeSecurity) 0x99,
                                            BLEIO_ATTRIBUTE_OPEN, &error);
  assert_null (flags);
  assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
  g_clear_error (&error);
  /* Descriptors: no signed writes, and something to do. */
  flags = bleio_local_descriptor_flags (BLEIO_ATTRIBUTE_OPEN, BLEIO_ATTRIBUTE_SIGNED_NO_MITM,
                                        &error);
  assert_null (flags);
  assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
  g_clear_error (&error);
  flags = bleio_local_descriptor_flags (BLEIO_ATTRIBUTE_NO_ACCESS, BLEIO_ATTRIBUTE_NO_ACCESS,
                                        &error);
  assert_null (flags);
  assert_true (g_error_matches (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT));
}

static void
test_local_flags_descriptor_and_access (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) flags = bleio_local_descriptor_flags (BLEIO_ATTRIBUTE_ENCRYPT_WITH_MITM,
                                                             BLEIO_ATTRIBUTE_OPEN, &error);
  g_autoptr(GPtrArray) ro = NULL;
  g_autoptr(GPtrArray) signed_only = NULL;
  g_autofree char *got = NULL;

  (void) state;
  assert_null (error);
  got = joined (flags);
  assert_string_equal (got, "encrypt-authenticated-read write");
  assert_true (bleio_local_flags_allow (flags, FALSE));
  assert_true (bleio_local_flags_allow (flags, TRUE));
  ro = bleio_local_characteristic_flags (P_READ | P_NOTIFY, BLEIO_ATTRIBUTE_OPEN,
                                         BLEIO_ATTRIBUTE_OPEN, &error);
  assert_true (bleio_local_flags_allow (ro, FALSE));
  assert_false (bleio_local_flags_allow (ro, TRUE));
  signed_only = bleio_local_characteristic_flags (P_WRITE, BLEIO_ATTRIBUTE_NO_ACCESS,
                                                  BLEIO_ATTRIBUTE_SIGNED_NO_MITM, &error);
  assert_false (bleio_local_flags_allow (signed_only, FALSE));
  assert_true (bleio_local_flags_allow (signed_only, TRUE));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_local_flags_table),
    cmocka_unit_test (test_local_flags_refused),
    cmocka_unit_test (test_local_flags_descriptor_and_access),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
