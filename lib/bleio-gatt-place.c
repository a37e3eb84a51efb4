/* SPDX-License-Identifier: MIT */
/*
 * Where a characteristic sits in a peer's database.
 *
 * BlueZ names GATT objects by handle, and a changed database moves
 * handles: a characteristic that the peer still has after a Service
 * Changed (a firmware update that added a characteristic before it, say)
 * comes back as a new object on another path. What stays is what the
 * application asked for when it found the characteristic: the service's
 * UUID, the characteristic's UUID, and which one of several with those
 * UUIDs it was. That is the place; issue 19 item 6 makes it the rule by
 * which a buffer follows its characteristic.
 */
#include "bleio-gatt-place-private.h"
#include "bleio-gatt-private.h"

#include <string.h>

struct _BleioGattPlace {
  char *service_uuid;
  guint service_rank;
  char *char_uuid;
  guint char_rank;
};

void
bleio_gatt_place_free (BleioGattPlace *place)
{
  if (place == NULL)
    return;
  g_free (place->service_uuid);
  g_free (place->char_uuid);
  g_free (place);
}

/* The direct children of @parent on @interface with their UUIDs, in
 * handle order: paths[i], uuids[i] (NULL where the cache has none). */
static void
list_children (BleioClient *client,
               const char  *parent,
               const char  *interface,
               const char  *prefix,
               GPtrArray  **paths_out,
               GPtrArray  **uuids_out)
{
  g_autoptr(GPtrArray) all = bleio_client_list_paths (client, interface, parent);
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *uuids = g_ptr_array_new_with_free_func (g_free);
  gsize skip = strlen (parent) + 1;

  bleio_gatt_sort_paths (all, prefix);
  for (guint i = 0; i < all->len; i++)
    {
      const char *path = g_ptr_array_index (all, i);

      if (strlen (path) <= skip || strchr (path + skip, '/') != NULL)
        continue;
      g_ptr_array_add (paths, g_strdup (path));
      g_ptr_array_add (uuids, bleio_client_dup_string (client, path, interface, "UUID"));
    }
  *paths_out = paths;
  *uuids_out = uuids;
}

static gboolean
same_uuid (const char *a,
           const char *b)
{
  return a != NULL && b != NULL && g_ascii_strcasecmp (a, b) == 0;
}

/* The rank of @path among the entries with its UUID; FALSE when absent. */
static gboolean
rank_of (GPtrArray  *paths,
         GPtrArray  *uuids,
         const char *path,
         char      **uuid_out,
         guint      *rank_out)
{
  const char *uuid = NULL;
  guint rank = 0;

  for (guint i = 0; i < paths->len; i++)
    if (g_str_equal (g_ptr_array_index (paths, i), path))
      uuid = g_ptr_array_index (uuids, i);
  if (uuid == NULL)
    return FALSE;
  for (guint i = 0; i < paths->len; i++)
    {
      if (g_str_equal (g_ptr_array_index (paths, i), path))
        break;
      if (same_uuid (g_ptr_array_index (uuids, i), uuid))
        rank++;
    }
  *uuid_out = g_strdup (uuid);
  *rank_out = rank;
  return TRUE;
}

/* The path of the entry that is the @rank-th with @uuid, or NULL. */
static const char *
at_rank (GPtrArray  *paths,
         GPtrArray  *uuids,
         const char *uuid,
         guint       rank)
{
  for (guint i = 0; i < paths->len; i++)
    if (same_uuid (g_ptr_array_index (uuids, i), uuid) && rank-- == 0)
      return g_ptr_array_index (paths, i);
  return NULL;
}

BleioGattPlace *
bleio_gatt_place_new (BleioClient *client,
                      const char  *device_path,
                      const char  *char_path)
{
  g_autoptr(BleioGattPlace) place = g_new0 (BleioGattPlace, 1);
  g_autofree char *service_path = g_strdup (char_path);
  g_autoptr(GPtrArray) paths = NULL;
  g_autoptr(GPtrArray) uuids = NULL;
  char *slash = strrchr (service_path, '/');

  if (slash == NULL)
    return NULL;
  *slash = '\0';
  list_children (client, device_path, BLEIO_IFACE_SERVICE, "service", &paths, &uuids);
  if (!rank_of (paths, uuids, service_path, &place->service_uuid, &place->service_rank))
    return NULL;
  g_clear_pointer (&paths, g_ptr_array_unref);
  g_clear_pointer (&uuids, g_ptr_array_unref);
  list_children (client, service_path, BLEIO_IFACE_CHARACTERISTIC, "char", &paths, &uuids);
  if (!rank_of (paths, uuids, char_path, &place->char_uuid, &place->char_rank))
    return NULL;
  return g_steal_pointer (&place);
}

char *
bleio_gatt_place_find (const BleioGattPlace *place,
                       BleioClient          *client,
                       const char           *device_path)
{
  g_autoptr(GPtrArray) paths = NULL;
  g_autoptr(GPtrArray) uuids = NULL;
  g_autofree char *service_path = NULL;
  const char *found;

  list_children (client, device_path, BLEIO_IFACE_SERVICE, "service", &paths, &uuids);
  found = at_rank (paths, uuids, place->service_uuid, place->service_rank);
  if (found == NULL)
    return NULL;
  service_path = g_strdup (found);
  g_clear_pointer (&paths, g_ptr_array_unref);
  g_clear_pointer (&uuids, g_ptr_array_unref);
  list_children (client, service_path, BLEIO_IFACE_CHARACTERISTIC, "char", &paths, &uuids);
  found = at_rank (paths, uuids, place->char_uuid, place->char_rank);
  return g_strdup (found);
}
