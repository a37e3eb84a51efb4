/* SPDX-License-Identifier: MIT */
/*
 * bleioctl serve FILE.json: a GATT server from the command line, the
 * counterpart of read, write and notify. The file is an object with
 * "name" (the local name advertised) and "gatt", a list of services in the
 * simulator scenario's gatt format (tools/bleio-sim/README.md) plus the
 * keys of _bleio's add_to_service() that the format lacks (read_perm,
 * write_perm, max_length, fixed_length, user_description). The whole file
 * is checked before anything is registered, and every refusal names the
 * place in the file ("gatt[0].characteristics[1].flags[2]") and what to
 * change.
 *
 * Then the services are published on the adapter, the name advertised,
 * and every read, write and subscription printed as it happens; a
 * characteristic with a "notify" stream sends its payloads in turn, one
 * each period_ms, while a client is subscribed. Ctrl-C, SIGTERM and
 * SIGHUP end it: advertising stops and the application is unregistered
 * when the adapter object goes (main() drops it).
 */
#include "bleioctl.h"

#include <string.h>

/* Bluetooth Core Supplement part A: Flags, Complete Local Name. */
#define AD_FLAGS 0x01
#define AD_NAME_COMPLETE 0x09
/* LE General Discoverable, BR/EDR not supported. */
#define FLAGS_PERIPHERAL 0x06

#define CCCD_UUID "00002902-0000-1000-8000-00805f9b34fb"

/* ---- the file, checked ------------------------------------------------------------ */

typedef struct {
  BleioUuid *uuid;
  BleioAttributeSecurity read_perm;
  BleioAttributeSecurity write_perm;
  guint max_length;
  gboolean fixed_length;
  GBytes *value;
} DescSpec;

typedef struct {
  BleioUuid *uuid;
  BleioCharacteristicProperties properties;
  BleioAttributeSecurity read_perm;
  BleioAttributeSecurity write_perm;
  guint max_length;
  gboolean fixed_length;
  GBytes *value;
  char *description;
  guint period_ms;              /* 0: no notify stream */
  GPtrArray *payloads;          /* GBytes* */
  GPtrArray *descs;             /* DescSpec* */
} CharSpec;

typedef struct {
  BleioUuid *uuid;
  gboolean primary;
  GPtrArray *chars;             /* CharSpec* */
} ServiceSpec;

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

static void
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
  g_autoptr(GBytes) value = NULL;
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

/* The file as services; @name the local name (NULL: none). */
static GPtrArray *
parse_file (const char  *file,
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

/* ---- serving ---------------------------------------------------------------------- */

typedef struct _Serve Serve;

/* A characteristic with a notify stream. */
typedef struct {
  Serve *serve;
  BleioCharacteristic *characteristic;
  GPtrArray *payloads;          /* GBytes*, from the spec */
  guint period_ms;
  guint next;                   /* the payload sent next; goes on across subscriptions */
  guint timer;
  gboolean sending;             /* a value set is still under way */
} Stream;

struct _Serve {
  GMainLoop *loop;
  GBytes *advertisement;
  GPtrArray *handlers;          /* Handler* */
  GPtrArray *streams;           /* Stream* */
  GHashTable *links;            /* BleioConnection* -> handler id */
  gboolean restarting;
  GError *error;
};

typedef struct {
  GObject *object;
  gulong id;
} Handler;

static void
handler_free (gpointer data)
{
  Handler *h = data;

  g_signal_handler_disconnect (h->object, h->id);
  g_object_unref (h->object);
  g_free (h);
}

static void
connect_handler (Serve      *serve,
                 gpointer    object,
                 const char *signal,
                 GCallback   callback,
                 gpointer    user_data)
{
  Handler *h = g_new0 (Handler, 1);

  h->object = g_object_ref (object);
  h->id = g_signal_connect (object, signal, callback, user_data);
  g_ptr_array_add (serve->handlers, h);
}

static void
stream_free (gpointer data)
{
  Stream *s = data;

  g_clear_handle_id (&s->timer, g_source_remove);
  g_object_unref (s->characteristic);
  g_ptr_array_unref (s->payloads);
  g_free (s);
}

static char *
uuid_of (GObject *object)
{
  return bleio_uuid_to_string (BLEIO_IS_CHARACTERISTIC (object) ?
                               bleio_characteristic_get_uuid (BLEIO_CHARACTERISTIC (object)) :
                               bleio_descriptor_get_uuid (BLEIO_DESCRIPTOR (object)));
}

/* One line per event: @object the characteristic or descriptor, @value
 * NULL when the event has none. */
static void
print_event (const char      *event,
             GObject         *object,
             BleioConnection *connection,
             GBytes          *value,
             gint64           offset)
{
  g_autofree char *address = connection != NULL ?
    bleio_address_to_bluez_string (bleio_connection_get_address (connection)) : NULL;
  g_autofree char *hex = value != NULL ? hex_encode (value) : NULL;
  gboolean descriptor = object != NULL && BLEIO_IS_DESCRIPTOR (object);
  g_autofree char *uuid = object != NULL ? uuid_of (object) : NULL;

  if (ctl.json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "event");
      json_builder_add_string_value (builder, event);
      if (descriptor)
        {
          BleioCharacteristic *owner = bleio_descriptor_get_characteristic (BLEIO_DESCRIPTOR (object));
          g_autofree char *owner_uuid = uuid_of (G_OBJECT (owner));

          json_builder_set_member_name (builder, "characteristic");
          json_builder_add_string_value (builder, owner_uuid);
          json_builder_set_member_name (builder, "descriptor");
          json_builder_add_string_value (builder, uuid);
        }
      else if (uuid != NULL)
        {
          json_builder_set_member_name (builder, "characteristic");
          json_builder_add_string_value (builder, uuid);
        }
      if (address != NULL)
        {
          json_builder_set_member_name (builder, "address");
          json_builder_add_string_value (builder, address);
        }
      if (offset >= 0)
        {
          json_builder_set_member_name (builder, "offset");
          json_builder_add_int_value (builder, offset);
        }
      if (hex != NULL)
        {
          json_builder_set_member_name (builder, "value");
          json_builder_add_string_value (builder, hex);
        }
      json_builder_end_object (builder);
      out_json (builder);
      return;
    }
  out ("%s%s%s%s%s%s%s\n", event,
       uuid != NULL ? " " : "", uuid != NULL ? uuid : "",
       address != NULL ? " by " : "", address != NULL ? address : "",
       hex != NULL ? ": " : "", hex != NULL ? hex : "");
}

static void
finish (Serve  *serve,
        GError *error)
{
  if (serve->error == NULL)
    serve->error = error;
  else if (error != NULL)
    g_error_free (error);
  g_main_loop_quit (serve->loop);
}

static void
on_read (GObject         *object,
         BleioConnection *connection,
         guint            offset,
         gpointer         user_data)
{
  g_autoptr(GBytes) value = BLEIO_IS_CHARACTERISTIC (object) ?
    bleio_characteristic_dup_value (BLEIO_CHARACTERISTIC (object)) :
    bleio_descriptor_dup_value (BLEIO_DESCRIPTOR (object));

  print_event ("read", object, connection, value, offset);
}

static void
on_written (GObject         *object,
            GBytes          *value,
            BleioConnection *connection,
            gpointer         user_data)
{
  print_event ("write", object, connection, value, -1);
}

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Stream *stream = user_data;
  g_autoptr(GError) error = NULL;

  stream->sending = FALSE;
  if (!bleio_characteristic_write_value_finish (BLEIO_CHARACTERISTIC (source), result, &error))
    {
      /* A client that left before confirming an indication is no reason
       * to stop serving the others. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        note ("bleioctl: a notify stream's value was not confirmed: %s\n", error->message);
    }
}

static gboolean
stream_tick (gpointer user_data)
{
  Stream *stream = user_data;
  GBytes *payload;

  /* An indication still waiting for its confirmation: this turn is
   * skipped rather than queued. */
  if (stream->sending)
    return G_SOURCE_CONTINUE;
  payload = g_ptr_array_index (stream->payloads, stream->next % stream->payloads->len);
  stream->next++;
  stream->sending = TRUE;
  print_event ("notified", G_OBJECT (stream->characteristic), NULL, payload, -1);
  bleio_characteristic_write_value_async (stream->characteristic, payload, ctl.cancellable,
                                          sent_cb, stream);
  return G_SOURCE_CONTINUE;
}

static void
on_notifying_changed (BleioCharacteristic *characteristic,
                      gboolean             notifying,
                      gpointer             user_data)
{
  Serve *serve = user_data;

  print_event (notifying ? "subscribed" : "unsubscribed", G_OBJECT (characteristic), NULL, NULL, -1);
  for (guint i = 0; i < serve->streams->len; i++)
    {
      Stream *stream = g_ptr_array_index (serve->streams, i);

      if (stream->characteristic != characteristic)
        continue;
      if (notifying && stream->timer == 0)
        stream->timer = g_timeout_add (stream->period_ms, stream_tick, stream);
      else if (!notifying)
        g_clear_handle_id (&stream->timer, g_source_remove);
    }
}

/* The services of the file on the adapter, each object's events wired. */
static gboolean
build (Serve      *serve,
       GPtrArray  *specs,
       GError    **error)
{
  for (guint i = 0; i < specs->len; i++)
    {
      ServiceSpec *s = g_ptr_array_index (specs, i);
      g_autoptr(BleioService) service = bleio_service_new (ctl.adapter, s->uuid, !s->primary, error);

      if (service == NULL)
        return FALSE;
      for (guint j = 0; j < s->chars->len; j++)
        {
          CharSpec *c = g_ptr_array_index (s->chars, j);
          g_autoptr(BleioCharacteristic) characteristic =
            bleio_characteristic_add_to_service (service, c->uuid, c->properties, c->read_perm,
                                                 c->write_perm, c->max_length, c->fixed_length,
                                                 c->value, c->description, error);

          if (characteristic == NULL)
            {
              g_prefix_error (error, "gatt[%u].characteristics[%u]: ", i, j);
              return FALSE;
            }
          connect_handler (serve, characteristic, "read", G_CALLBACK (on_read), serve);
          connect_handler (serve, characteristic, "written", G_CALLBACK (on_written), serve);
          connect_handler (serve, characteristic, "notifying-changed",
                           G_CALLBACK (on_notifying_changed), serve);
          if (c->period_ms > 0)
            {
              Stream *stream = g_new0 (Stream, 1);

              stream->serve = serve;
              stream->characteristic = g_object_ref (characteristic);
              stream->payloads = g_ptr_array_ref (c->payloads);
              stream->period_ms = c->period_ms;
              g_ptr_array_add (serve->streams, stream);
            }
          for (guint k = 0; k < c->descs->len; k++)
            {
              DescSpec *d = g_ptr_array_index (c->descs, k);
              g_autoptr(BleioDescriptor) descriptor =
                bleio_descriptor_add_to_characteristic (characteristic, d->uuid, d->read_perm,
                                                        d->write_perm, d->max_length,
                                                        d->fixed_length, d->value, error);

              if (descriptor == NULL)
                {
                  g_prefix_error (error, "gatt[%u].characteristics[%u].descriptors[%u]: ", i, j, k);
                  return FALSE;
                }
              connect_handler (serve, descriptor, "read", G_CALLBACK (on_read), serve);
              connect_handler (serve, descriptor, "written", G_CALLBACK (on_written), serve);
            }
        }
    }
  return TRUE;
}

static GBytes *
build_advertisement (const char *name)
{
  g_autoptr(GByteArray) ad = g_byte_array_new ();
  guint8 flags[3] = { 2, AD_FLAGS, FLAGS_PERIPHERAL };

  g_byte_array_append (ad, flags, sizeof flags);
  if (name != NULL)
    {
      guint8 header[2] = { (guint8) (strlen (name) + 1), AD_NAME_COMPLETE };

      /* Longer names are the library's to refuse, by the AD's length. */
      g_byte_array_append (ad, header, 2);
      g_byte_array_append (ad, (const guint8 *) name, (guint) MIN (strlen (name), 254));
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&ad));
}

static void
restarted_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Serve *serve = user_data;
  GError *error = NULL;

  serve->restarting = FALSE;
  if (!bleio_adapter_start_advertising_finish (BLEIO_ADAPTER (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_clear_error (&error);
      finish (serve, error);
    }
}

/* The last client left: advertise again for the next. */
static void
on_disconnected (BleioConnection       *connection,
                 BleioDisconnectReason  reason,
                 gpointer               user_data)
{
  Serve *serve = user_data;

  print_event ("disconnected", NULL, connection, NULL, -1);
  g_hash_table_remove (serve->links, connection);
  if (g_hash_table_size (serve->links) > 0 || serve->restarting ||
      g_cancellable_is_cancelled (ctl.cancellable) || bleio_adapter_get_advertising (ctl.adapter))
    return;
  serve->restarting = TRUE;
  bleio_adapter_start_advertising_async (ctl.adapter, serve->advertisement, NULL, TRUE, FALSE,
                                         0, 0, 0, NULL, ctl.cancellable, restarted_cb, serve);
}

static void
on_incoming (BleioAdapter    *adapter,
             BleioConnection *connection,
             gpointer         user_data)
{
  Serve *serve = user_data;
  gulong id;

  if (g_hash_table_contains (serve->links, connection))
    return;
  print_event ("connected", NULL, connection, NULL, -1);
  id = g_signal_connect (connection, "disconnected", G_CALLBACK (on_disconnected), serve);
  g_hash_table_insert (serve->links, g_object_ref (connection), GSIZE_TO_POINTER (id));
}

static void
on_ended (BleioAdapter              *adapter,
          BleioAdvertisingEndReason  reason,
          gpointer                   user_data)
{
  Serve *serve = user_data;

  switch (reason)
    {
    case BLEIO_ADVERTISING_END_REASON_CONNECTED:
    case BLEIO_ADVERTISING_END_REASON_BLUEZ_UNAVAILABLE:
      /* Again when the client leaves, or by the library when bluetoothd
       * is back. */
      break;
    case BLEIO_ADVERTISING_END_REASON_ADAPTER_REMOVED:
      finish (serve, g_error_new_literal (BLEIO_ERROR, BLEIO_ERROR_NO_ADAPTER,
                                          "The adapter went away; nothing is served"));
      break;
    case BLEIO_ADVERTISING_END_REASON_ADAPTER_OFF:
      finish (serve, g_error_new_literal (BLEIO_ERROR, BLEIO_ERROR_NOT_READY,
                                          "The adapter was powered off; power it on "
                                          "(bleioctl adapter power on) and serve again"));
      break;
    default:
      finish (serve, g_error_new_literal (BLEIO_ERROR, BLEIO_ERROR_BLUETOOTH,
                                          "bluetoothd ended the advertisement; serve again"));
      break;
    }
}

static void
on_services_restored (BleioAdapter *adapter,
                      gpointer      user_data)
{
  print_event ("restored", NULL, NULL, NULL, -1);
}

static void
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  g_main_loop_quit (user_data);
}

gboolean
cmd_serve (char   **args,
           GError **error)
{
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GPtrArray) specs = NULL;
  g_autofree char *name = NULL;
  Serve serve = { 0 };
  GHashTableIter iter;
  gpointer key, value;
  gulong cancel_id;
  gboolean ok;

  if (args[0] == NULL || args[1] != NULL)
    {
      g_set_error_literal (error, BLEIO_ERROR, BLEIO_ERROR_INVALID_ARGUMENT,
                           "Usage: bleioctl serve FILE.json (see bleioctl(1) for the format)");
      return FALSE;
    }
  specs = parse_file (args[0], &name, error);
  if (specs == NULL)
    return FALSE;
  if (!open_adapter (error))
    return FALSE;
  loop = g_main_loop_new (NULL, FALSE);
  serve.loop = loop;
  serve.advertisement = build_advertisement (name);
  serve.handlers = g_ptr_array_new_with_free_func (handler_free);
  serve.streams = g_ptr_array_new_with_free_func (stream_free);
  serve.links = g_hash_table_new_full (g_direct_hash, g_direct_equal, g_object_unref, NULL);
  connect_handler (&serve, ctl.adapter, "incoming-connection", G_CALLBACK (on_incoming), &serve);
  connect_handler (&serve, ctl.adapter, "advertising-ended", G_CALLBACK (on_ended), &serve);
  connect_handler (&serve, ctl.adapter, "services-restored", G_CALLBACK (on_services_restored), &serve);
  cancel_id = g_cancellable_connect (ctl.cancellable, G_CALLBACK (on_cancelled), loop, NULL);

  ok = build (&serve, specs, error) &&
       bleio_adapter_publish_services (ctl.adapter, ctl.cancellable, error) &&
       bleio_adapter_start_advertising (ctl.adapter, serve.advertisement, NULL, TRUE, FALSE,
                                        0, 0, 0, NULL, ctl.cancellable, error);
  if (ok)
    {
      g_autoptr(BleioAddress) own = bleio_adapter_dup_address (ctl.adapter);
      g_autofree char *address = own != NULL ? bleio_address_to_bluez_string (own) : g_strdup ("?");

      if (ctl.json)
        {
          g_autoptr(JsonBuilder) builder = json_builder_new ();

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "event");
          json_builder_add_string_value (builder, "serving");
          json_builder_set_member_name (builder, "address");
          json_builder_add_string_value (builder, address);
          json_add_string_or_null (builder, "name", name);
          json_builder_set_member_name (builder, "services");
          json_builder_add_int_value (builder, specs->len);
          json_builder_end_object (builder);
          out_json (builder);
        }
      else
        out ("serving %u service%s as %s%s%s%s\n", specs->len, specs->len == 1 ? "" : "s", address,
             name != NULL ? " (" : "", name != NULL ? name : "", name != NULL ? ")" : "");
      if (!g_cancellable_is_cancelled (ctl.cancellable))
        g_main_loop_run (loop);
    }
  g_cancellable_disconnect (ctl.cancellable, cancel_id);
  /* Ctrl-C, SIGTERM and SIGHUP have cancelled what is pending; let it
   * answer before the objects it points at go. */
  g_cancellable_cancel (ctl.cancellable);
  for (gboolean busy = TRUE; busy;)
    {
      busy = serve.restarting;
      for (guint i = 0; i < serve.streams->len; i++)
        {
          Stream *stream = g_ptr_array_index (serve.streams, i);

          g_clear_handle_id (&stream->timer, g_source_remove);
          busy = busy || stream->sending;
        }
      if (busy)
        g_main_context_iteration (NULL, TRUE);
    }
  if (bleio_adapter_get_advertising (ctl.adapter))
    {
      g_autoptr(GError) local = NULL;

      /* A stop that fails leaves the library's own clean-up at exit. */
      if (!bleio_adapter_stop_advertising (ctl.adapter, ok ? error : &local))
        ok = FALSE;
    }
  g_hash_table_iter_init (&iter, serve.links);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_signal_handler_disconnect (key, GPOINTER_TO_SIZE (value));
  g_hash_table_unref (serve.links);
  g_ptr_array_unref (serve.streams);
  g_ptr_array_unref (serve.handlers);
  g_bytes_unref (serve.advertisement);
  if (ok && serve.error != NULL)
    {
      g_propagate_error (error, serve.error);
      return FALSE;
    }
  g_clear_error (&serve.error);
  return ok;
}
