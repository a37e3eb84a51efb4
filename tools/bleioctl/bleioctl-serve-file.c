/* SPDX-License-Identifier: MIT */
/*
 * The file of bleioctl serve, checked (bleioctl.h): an object with "name"
 * and "gatt", the services in the simulator scenario's gatt format
 * (tools/bleio-sim/README.md) plus the keys of _bleio's add_to_service()
 * the format lacks. Every refusal names the place in the file
 * ("gatt[0].characteristics[1].flags[2]") and what to change; docs/
 * bleioctl.md has the format.
 */
#include "bleioctl.h"

#include <string.h>

#define CCCD_UUID "00002902-0000-1000-8000-00805f9b34fb"

static void
desc_spec_free (gpointer data)
{
  DescSpec *d = data;

  bleio_uuid_free (d->uuid);
  g_clear_pointer (&d->value, g_bytes_unref);
  g_free (d);
}

static void
char_spec_free (gpointer data)
{
  CharSpec *c = data;

  bleio_uuid_free (c->uuid);
  g_clear_pointer (&c->value, g_bytes_unref);
  g_free (c->description);
  g_ptr_array_unref (c->payloads);
  g_ptr_array_unref (c->descs);
  g_free (c);
}

void
service_spec_free (gpointer data)
{
  ServiceSpec *s = data;

  bleio_uuid_free (s->uuid);
  g_ptr_array_unref (s->chars);
  g_free (s);
}

static gboolean G_GNUC_PRINTF (3, 4)
refuse (GError     **error,
        const char  *where,
        const char  *format,
        ...)
{
  g_autofree char *message = NULL;
  va_list ap;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT, "%s: %s", where, message);
  return FALSE;
}

/* Keys the scenario format has that a local server cannot honour. */
static const struct {
  const char *key;
  const char *why;
} sim_only[] = {
  { "handle", "bluetoothd chooses the handles of a local server; remove the key" },
  { "hidden", "a local service is always discoverable; remove the key" },
  { "acquire_notify", "libbleio decides how it serves notifications; remove the key" },
  { "acquire_write", "libbleio decides how it receives writes; remove the key" },
};

static gboolean
check_keys (JsonObject         *object,
            const char * const *allowed,
            const char         *where,
            GError            **error)
{
  g_autoptr(GList) members = json_object_get_members (object);

  for (GList *l = members; l != NULL; l = l->next)
    {
      if (g_strv_contains (allowed, l->data))
        continue;
      for (gsize i = 0; i < G_N_ELEMENTS (sim_only); i++)
        if (g_str_equal (sim_only[i].key, l->data))
          return refuse (error, where, "'%s' cannot be served: %s", sim_only[i].key, sim_only[i].why);
      {
        g_autofree char *known = g_strjoinv (", ", (char **) allowed);

        return refuse (error, where, "unknown key '%s' (known: %s)", (const char *) l->data, known);
      }
    }
  return TRUE;
}

/* The member @key when it is a string, NULL when absent. */
static gboolean
get_string (JsonObject  *object,
            const char  *key,
            const char  *where,
            const char **out,
            GError     **error)
{
  JsonNode *node = json_object_get_member (object, key);

  *out = NULL;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return refuse (error, where, "'%s' must be a string", key);
  *out = json_node_get_string (node);
  return TRUE;
}

static gboolean
get_bool (JsonObject  *object,
          const char  *key,
          gboolean     fallback,
          const char  *where,
          gboolean    *out,
          GError     **error)
{
  JsonNode *node = json_object_get_member (object, key);

  *out = fallback;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return refuse (error, where, "'%s' must be true or false", key);
  *out = json_node_get_boolean (node);
  return TRUE;
}

static gboolean
get_int (JsonObject  *object,
         const char  *key,
         gint64       min,
         gint64       max,
         const char  *where,
         gint64      *out,
         gboolean    *present,
         GError     **error)
{
  JsonNode *node = json_object_get_member (object, key);

  *present = node != NULL;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64 ||
      json_node_get_int (node) < min || json_node_get_int (node) > max)
    return refuse (error, where, "'%s' must be a whole number from %" G_GINT64_FORMAT
                   " to %" G_GINT64_FORMAT, key, min, max);
  *out = json_node_get_int (node);
  return TRUE;
}

static gboolean
get_uuid (JsonObject  *object,
          const char  *where,
          BleioUuid  **out,
          GError     **error)
{
  const char *text;

  if (!get_string (object, "uuid", where, &text, error))
    return FALSE;
  if (text == NULL)
    return refuse (error, where, "'uuid' is missing");
  *out = bleio_uuid_new_from_string (text, NULL);
  if (*out == NULL)
    return refuse (error, where, "'%s' is not a UUID: give 180f or the 36-character form", text);
  return TRUE;
}

/* Hex as the scenario files write it: digit pairs, ' ', ':' and '-'
 * anywhere between them. */
static gboolean
parse_hex (JsonNode    *node,
           const char  *where,
           const char  *key,
           GBytes     **out,
           GError     **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  const char *text;
  int hi = -1;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return refuse (error, where, "'%s' must be a hex string such as \"6869\"", key);
  text = json_node_get_string (node);
  for (const char *p = text; *p != '\0'; p++)
    {
      int digit;

      if (*p == ' ' || *p == ':' || *p == '-')
        continue;
      digit = g_ascii_xdigit_value (*p);
      if (digit < 0)
        return refuse (error, where, "'%s' \"%s\" is not hex: write pairs of hex digits such as \"6869\"",
                       key, text);
      if (hi < 0)
        hi = digit;
      else
        {
          guint8 byte = (guint8) (hi << 4 | digit);

          g_byte_array_append (bytes, &byte, 1);
          hi = -1;
        }
    }
  if (hi >= 0)
    return refuse (error, where, "'%s' \"%s\" has an odd number of hex digits", key, text);
  *out = g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
  return TRUE;
}

/* read_perm / write_perm: _bleio's Attribute modes by their nicks. */
static gboolean
get_perm (JsonObject              *object,
          const char              *key,
          const char              *where,
          BleioAttributeSecurity  *out,
          GError                 **error)
{
  g_autoptr(GEnumClass) klass = NULL;
  GEnumValue *found;
  const char *text;

  if (!get_string (object, key, where, &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;
  klass = g_type_class_ref (BLEIO_TYPE_ATTRIBUTE_SECURITY);
  found = g_enum_get_value_by_nick (klass, text);
  if (found == NULL)
    return refuse (error, where, "'%s' \"%s\" is not a security mode: give no-access, open, "
                   "encrypt-no-mitm, encrypt-with-mitm, lesc-encrypt-with-mitm or "
                   "signed-no-mitm", key, text);
  *out = (BleioAttributeSecurity) found->value;
  return TRUE;
}

typedef enum {
  GUARD_NONE,
  GUARD_READ,                   /* the read permission (reads, subscriptions) */
  GUARD_WRITE,
} Guard;

/* BlueZ's Flags (the scenario's "flags") as properties and the security
 * they ask for. */
static const struct {
  const char *name;
  BleioCharacteristicProperties property;
  Guard guard;
  BleioAttributeSecurity mode;
} flag_table[] = {
  { "broadcast", BLEIO_CHARACTERISTIC_PROPERTY_BROADCAST, GUARD_NONE, 0 },
  { "read", BLEIO_CHARACTERISTIC_PROPERTY_READ, GUARD_READ, BLEIO_ATTRIBUTE_OPEN },
  { "write-without-response", BLEIO_CHARACTERISTIC_PROPERTY_WRITE_NO_RESPONSE, GUARD_WRITE, BLEIO_ATTRIBUTE_OPEN },
  { "write", BLEIO_CHARACTERISTIC_PROPERTY_WRITE, GUARD_WRITE, BLEIO_ATTRIBUTE_OPEN },
  { "notify", BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY, GUARD_NONE, 0 },
  { "indicate", BLEIO_CHARACTERISTIC_PROPERTY_INDICATE, GUARD_NONE, 0 },
  { "authenticated-signed-writes", BLEIO_CHARACTERISTIC_PROPERTY_WRITE, GUARD_WRITE, BLEIO_ATTRIBUTE_SIGNED_NO_MITM },
  { "encrypt-read", BLEIO_CHARACTERISTIC_PROPERTY_READ, GUARD_READ, BLEIO_ATTRIBUTE_ENCRYPT_NO_MITM },
  { "encrypt-write", BLEIO_CHARACTERISTIC_PROPERTY_WRITE, GUARD_WRITE, BLEIO_ATTRIBUTE_ENCRYPT_NO_MITM },
  { "encrypt-authenticated-read", BLEIO_CHARACTERISTIC_PROPERTY_READ, GUARD_READ, BLEIO_ATTRIBUTE_ENCRYPT_WITH_MITM },
  { "encrypt-authenticated-write", BLEIO_CHARACTERISTIC_PROPERTY_WRITE, GUARD_WRITE, BLEIO_ATTRIBUTE_ENCRYPT_WITH_MITM },
  { "secure-read", BLEIO_CHARACTERISTIC_PROPERTY_READ, GUARD_READ, BLEIO_ATTRIBUTE_LESC_ENCRYPT_WITH_MITM },
  { "secure-write", BLEIO_CHARACTERISTIC_PROPERTY_WRITE, GUARD_WRITE, BLEIO_ATTRIBUTE_LESC_ENCRYPT_WITH_MITM },
  /* libbleio guards a subscription with the read permission (the CCCD
   * takes it), as _bleio does. */
  { "encrypt-notify", 0, GUARD_READ, BLEIO_ATTRIBUTE_ENCRYPT_NO_MITM },
  { "encrypt-authenticated-notify", 0, GUARD_READ, BLEIO_ATTRIBUTE_ENCRYPT_WITH_MITM },
  { "secure-notify", 0, GUARD_READ, BLEIO_ATTRIBUTE_LESC_ENCRYPT_WITH_MITM },
};

/* "flags" into properties and permissions. @descriptor: only the read and
 * write flags (and their secured forms) mean something. Absent flags are
 * ["read"], as in the scenario format. */
static gboolean
parse_flags (JsonObject                     *object,
             gboolean                        descriptor,
             const char                     *where,
             BleioCharacteristicProperties  *properties,
             BleioAttributeSecurity         *read_perm,
             BleioAttributeSecurity         *write_perm,
             GError                        **error)
{
  JsonNode *node = json_object_get_member (object, "flags");
  gboolean read_set = FALSE, write_set = FALSE;
  JsonArray *array;

  *properties = BLEIO_CHARACTERISTIC_PROPERTY_READ;
  *read_perm = BLEIO_ATTRIBUTE_OPEN;
  *write_perm = BLEIO_ATTRIBUTE_NO_ACCESS;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return refuse (error, where, "'flags' must be an array of strings such as [\"read\", \"write\"]");
  *properties = BLEIO_CHARACTERISTIC_PROPERTY_NONE;
  *read_perm = BLEIO_ATTRIBUTE_NO_ACCESS;
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      g_autofree char *at = g_strdup_printf ("%s.flags[%u]", where, i);
      const char *name;
      gsize k;

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_STRING)
        return refuse (error, at, "a flag must be a string");
      name = json_node_get_string (element);
      for (k = 0; k < G_N_ELEMENTS (flag_table); k++)
        if (g_str_equal (flag_table[k].name, name))
          break;
      if (k == G_N_ELEMENTS (flag_table))
        return refuse (error, at, "'%s' cannot be served: libbleio's local %s take broadcast, "
                       "read, write, write-without-response, notify, indicate, "
                       "authenticated-signed-writes and the encrypt-, encrypt-authenticated- "
                       "and secure- forms of read, write and notify",
                       name, descriptor ? "descriptors" : "characteristics");
      if (descriptor && flag_table[k].guard == GUARD_NONE)
        return refuse (error, at, "'%s' is for characteristics; a descriptor takes read and "
                       "write flags", name);
      if (descriptor && flag_table[k].mode == BLEIO_ATTRIBUTE_SIGNED_NO_MITM)
        return refuse (error, at, "a descriptor cannot take signed writes");
      *properties |= flag_table[k].property;
      if (flag_table[k].guard == GUARD_READ)
        {
          if (read_set && *read_perm != flag_table[k].mode)
            return refuse (error, at, "'%s' asks for other security than an earlier read or "
                           "notify flag: libbleio guards reads and subscriptions with one "
                           "permission; give them the same level", name);
          *read_perm = flag_table[k].mode;
          read_set = TRUE;
        }
      else if (flag_table[k].guard == GUARD_WRITE)
        {
          if (write_set && *write_perm != flag_table[k].mode)
            return refuse (error, at, "'%s' asks for other security than an earlier write "
                           "flag: libbleio guards both kinds of write with one permission; "
                           "give them the same level", name);
          *write_perm = flag_table[k].mode;
          write_set = TRUE;
        }
    }
  /* Subscriptions alone (no read flag) are open unless secured. */
  if (!read_set && (*properties & (BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY | BLEIO_CHARACTERISTIC_PROPERTY_INDICATE)))
    *read_perm = BLEIO_ATTRIBUTE_OPEN;
  return TRUE;
}

/* max_length: given, or room for the value and every payload, at least
 * _bleio's default. */
static gboolean
get_lengths (JsonObject  *object,
             const char  *where,
             gsize        longest,
             guint       *max_length,
             gboolean    *fixed_length,
             GError     **error)
{
  gint64 given = 0;
  gboolean present;

  if (!get_int (object, "max_length", 0, BLEIO_CHARACTERISTIC_MAX_LENGTH, where, &given, &present, error) ||
      !get_bool (object, "fixed_length", FALSE, where, fixed_length, error))
    return FALSE;
  if (longest > BLEIO_CHARACTERISTIC_MAX_LENGTH)
    return refuse (error, where, "a value of %" G_GSIZE_FORMAT " bytes is longer than the %d an "
                   "attribute holds", longest, BLEIO_CHARACTERISTIC_MAX_LENGTH);
  if (present && (gsize) given < longest)
    return refuse (error, where, "'max_length' %" G_GINT64_FORMAT " is shorter than a value of "
                   "%" G_GSIZE_FORMAT " bytes it must hold", given, longest);
  *max_length = present ? (guint) given : MAX ((guint) longest, BLEIO_LOCAL_DEFAULT_MAX_LENGTH);
  return TRUE;
}

static gboolean
parse_desc (JsonNode   *node,
            const char *where,
            DescSpec  **out,
            GError    **error)
{
  static const char * const keys[] = {
    "uuid", "flags", "value", "read_perm", "write_perm", "max_length", "fixed_length", NULL
  };
  g_autoptr(BleioUuid) uuid = NULL;
  BleioCharacteristicProperties properties;
  JsonObject *object;
  JsonNode *value_node;
  DescSpec *d;

  *out = NULL;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return refuse (error, where, "a descriptor must be an object with 'uuid'");
  object = json_node_get_object (node);
  if (!check_keys (object, keys, where, error) || !get_uuid (object, where, &uuid, error))
    return FALSE;
  d = g_new0 (DescSpec, 1);
  d->uuid = g_steal_pointer (&uuid);
  value_node = json_object_get_member (object, "value");
  if ((value_node != NULL && !parse_hex (value_node, where, "value", &d->value, error)) ||
      !parse_flags (object, TRUE, where, &properties, &d->read_perm, &d->write_perm, error) ||
      !get_perm (object, "read_perm", where, &d->read_perm, error) ||
      !get_perm (object, "write_perm", where, &d->write_perm, error) ||
      !get_lengths (object, where, d->value != NULL ? g_bytes_get_size (d->value) : 0,
                    &d->max_length, &d->fixed_length, error))
    {
      desc_spec_free (d);
      return FALSE;
    }
  *out = d;
  return TRUE;
}

static gboolean
parse_notify (JsonObject  *object,
              const char  *where,
              CharSpec    *c,
              GError     **error)
{
  static const char * const keys[] = { "period_ms", "payloads", NULL };
  JsonNode *node = json_object_get_member (object, "notify");
  g_autofree char *at = g_strdup_printf ("%s.notify", where);
  JsonObject *notify;
  JsonNode *payloads;
  gint64 period = 1000;
  gboolean present;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return refuse (error, at, "'notify' must be an object with 'period_ms' and 'payloads'");
  notify = json_node_get_object (node);
  if (!check_keys (notify, keys, at, error) ||
      !get_int (notify, "period_ms", 1, 3600000, at, &period, &present, error))
    return FALSE;
  if (!(c->properties & (BLEIO_CHARACTERISTIC_PROPERTY_NOTIFY | BLEIO_CHARACTERISTIC_PROPERTY_INDICATE)))
    return refuse (error, at, "a notify stream needs the notify or indicate flag");
  payloads = json_object_get_member (notify, "payloads");
  if (payloads == NULL || !JSON_NODE_HOLDS_ARRAY (payloads) ||
      json_array_get_length (json_node_get_array (payloads)) == 0)
    return refuse (error, at, "'payloads' must be a non-empty array of hex strings");
  for (guint i = 0; i < json_array_get_length (json_node_get_array (payloads)); i++)
    {
      g_autofree char *item = g_strdup_printf ("%s.payloads[%u]", at, i);
      GBytes *payload = NULL;

      if (!parse_hex (json_array_get_element (json_node_get_array (payloads), i), item,
                      "payloads", &payload, error))
        return FALSE;
      g_ptr_array_add (c->payloads, payload);
    }
  c->period_ms = (guint) period;
  return TRUE;
}

static gboolean
parse_char (JsonNode   *node,
            const char *where,
            CharSpec  **out,
            GError    **error)
{
  static const char * const keys[] = {
    "uuid", "flags", "value", "notify", "descriptors", "read_perm", "write_perm",
    "max_length", "fixed_length", "user_description", NULL
  };
  g_autoptr(BleioUuid) uuid = NULL;
  CharSpec *c;
  JsonObject *object;
  JsonNode *value_node, *descs;
  const char *description = NULL;
  gsize longest;

  *out = NULL;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return refuse (error, where, "a characteristic must be an object with 'uuid'");
  object = json_node_get_object (node);
  if (!check_keys (object, keys, where, error) || !get_uuid (object, where, &uuid, error))
    return FALSE;
  c = g_new0 (CharSpec, 1);
  c->uuid = g_steal_pointer (&uuid);
  c->payloads = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  c->descs = g_ptr_array_new_with_free_func (desc_spec_free);
  *out = c;
  value_node = json_object_get_member (object, "value");
  if ((value_node != NULL && !parse_hex (value_node, where, "value", &c->value, error)) ||
      !parse_flags (object, FALSE, where, &c->properties, &c->read_perm, &c->write_perm, error) ||
      !get_perm (object, "read_perm", where, &c->read_perm, error) ||
      !get_perm (object, "write_perm", where, &c->write_perm, error) ||
      !get_string (object, "user_description", where, &description, error) ||
      !parse_notify (object, where, c, error))
    return FALSE;
  c->description = g_strdup (description);
  longest = c->value != NULL ? g_bytes_get_size (c->value) : 0;
  for (guint i = 0; i < c->payloads->len; i++)
    longest = MAX (longest, g_bytes_get_size (g_ptr_array_index (c->payloads, i)));
  if (!get_lengths (object, where, longest, &c->max_length, &c->fixed_length, error))
    return FALSE;
  descs = json_object_get_member (object, "descriptors");
  if (descs != NULL && !JSON_NODE_HOLDS_ARRAY (descs))
    return refuse (error, where, "'descriptors' must be an array");
  for (guint i = 0; descs != NULL && i < json_array_get_length (json_node_get_array (descs)); i++)
    {
      g_autofree char *at = g_strdup_printf ("%s.descriptors[%u]", where, i);
      g_autofree char *text = NULL;
      DescSpec *d = NULL;

      if (!parse_desc (json_array_get_element (json_node_get_array (descs), i), at, &d, error))
        return FALSE;
      /* bluetoothd adds the CCCD of every characteristic that notifies
       * and answers it itself; scenario files may list it. */
      text = bleio_uuid_to_bluez_string (d->uuid);
      if (g_str_equal (text, CCCD_UUID))
        desc_spec_free (d);
      else
        g_ptr_array_add (c->descs, d);
    }
  return TRUE;
}

static gboolean
parse_service (JsonNode     *node,
               const char   *where,
               ServiceSpec **out,
               GError      **error)
{
  static const char * const keys[] = { "uuid", "primary", "characteristics", NULL };
  g_autoptr(BleioUuid) uuid = NULL;
  ServiceSpec *s;
  JsonObject *object;
  JsonNode *chars;

  *out = NULL;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return refuse (error, where, "a service must be an object with 'uuid' and 'characteristics'");
  object = json_node_get_object (node);
  if (!check_keys (object, keys, where, error) || !get_uuid (object, where, &uuid, error))
    return FALSE;
  s = g_new0 (ServiceSpec, 1);
  s->uuid = g_steal_pointer (&uuid);
  s->chars = g_ptr_array_new_with_free_func (char_spec_free);
  *out = s;
  if (!get_bool (object, "primary", TRUE, where, &s->primary, error))
    return FALSE;
  chars = json_object_get_member (object, "characteristics");
  if (chars != NULL && !JSON_NODE_HOLDS_ARRAY (chars))
    return refuse (error, where, "'characteristics' must be an array");
  for (guint i = 0; chars != NULL && i < json_array_get_length (json_node_get_array (chars)); i++)
    {
      g_autofree char *at = g_strdup_printf ("%s.characteristics[%u]", where, i);
      CharSpec *c = NULL;
      gboolean ok = parse_char (json_array_get_element (json_node_get_array (chars), i), at, &c, error);

      if (c != NULL)
        g_ptr_array_add (s->chars, c);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

GPtrArray *
serve_parse_file (const char  *file,
            char       **name,
            GError     **error)
{
  static const char * const keys[] = { "name", "gatt", NULL };
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GPtrArray) services = g_ptr_array_new_with_free_func (service_spec_free);
  g_autoptr(GError) local = NULL;
  JsonNode *root, *gatt;
  JsonObject *object;
  const char *text;

  if (!json_parser_load_from_file (parser, file, &local))
    {
      /* json-glib names the file (and the line) in a parse error, not
       * when the file cannot be read. */
      g_set_error (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT, "%s%s%s",
                   strstr (local->message, file) != NULL ? "" : file,
                   strstr (local->message, file) != NULL ? "" : ": ", local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      refuse (error, file, "the file must hold an object with \"name\" and \"gatt\"");
      return NULL;
    }
  object = json_node_get_object (root);
  if (!check_keys (object, keys, file, error) || !get_string (object, "name", file, &text, error))
    return NULL;
  gatt = json_object_get_member (object, "gatt");
  if (gatt == NULL || !JSON_NODE_HOLDS_ARRAY (gatt) ||
      json_array_get_length (json_node_get_array (gatt)) == 0)
    {
      refuse (error, file, "'gatt' must be a non-empty array of services, as in a bleio-sim "
              "scenario");
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (json_node_get_array (gatt)); i++)
    {
      g_autofree char *at = g_strdup_printf ("%s: gatt[%u]", file, i);
      ServiceSpec *s = NULL;
      gboolean ok = parse_service (json_array_get_element (json_node_get_array (gatt), i), at, &s, error);

      if (s != NULL)
        g_ptr_array_add (services, s);
      if (!ok)
        return NULL;
    }
  *name = g_strdup (text);
  return g_steal_pointer (&services);
}
