/* SPDX-License-Identifier: MIT */
/*
 * D-Bus messages read in place; see bleio-wire-private.h. The rules
 * checked are those of the D-Bus specification's "Message Protocol"
 * (marshalling, header fields, valid names); where the specification
 * leaves a choice (unknown header fields, variant nesting) the stricter
 * reading is taken, since a message refused here is only dropped.
 */
#include "bleio-wire-private.h"

#include <gio/gio.h>
#include <string.h>

/* Nesting limits of the specification: 32 arrays and 32 structs (dict
 * entries count as structs). Variants are counted as structs too, so no
 * message nests deeper than GVariant can hold. */
#define MAX_ARRAYS 32
#define MAX_STRUCTS 32
#define MAX_ARRAY_BYTES (64u * 1024u * 1024u)

/* Header field codes. */
enum {
  FIELD_PATH = 1,
  FIELD_INTERFACE,
  FIELD_MEMBER,
  FIELD_ERROR_NAME,
  FIELD_REPLY_SERIAL,
  FIELD_DESTINATION,
  FIELD_SENDER,
  FIELD_SIGNATURE,
  FIELD_UNIX_FDS,
};

typedef struct {
  const guint8 *data;           /* offsets are aligned relative to this */
  gsize pos;
  gsize end;
  gboolean big_endian;
  guint32 n_fds;
} Reader;

/* ---- signatures ---------------------------------------------------------- */

static gboolean
is_basic (char t)
{
  return t != '\0' && strchr ("ybnqiuxtdsogh", t) != NULL;
}

/* The end of the one complete type at @s, or NULL when there is none or
 * it nests deeper than the limits (counted from @arrays and @structs). */
static const char *
complete_type_end (const char *s,
                   guint       arrays,
                   guint       structs)
{
  if (is_basic (*s) || *s == 'v')
    return s + 1;
  if (*s == 'a')
    {
      if (arrays + 1 > MAX_ARRAYS)
        return NULL;
      if (s[1] != '{')
        return complete_type_end (s + 1, arrays + 1, structs);
      if (structs + 1 > MAX_STRUCTS || !is_basic (s[2]))
        return NULL;
      s = complete_type_end (s + 3, arrays + 1, structs + 1);
      return s != NULL && *s == '}' ? s + 1 : NULL;
    }
  if (*s == '(')
    {
      if (structs + 1 > MAX_STRUCTS || s[1] == ')')
        return NULL;
      s++;
      while (s != NULL && *s != ')')
        s = complete_type_end (s, arrays, structs + 1);
      return s != NULL ? s + 1 : NULL;
    }
  return NULL;                  /* '\0', '}', ')', 'm', '{' outside an array... */
}

/* A D-Bus signature: at most 255 bytes of complete types. */
static gboolean
signature_valid (const char *s,
                 gsize       length,
                 guint       arrays,
                 guint       structs)
{
  const char *end = s + length;

  if (length > 255 || strlen (s) != length)
    return FALSE;
  while (s != NULL && s < end)
    s = complete_type_end (s, arrays, structs);
  return s == end;
}

static gsize
type_alignment (char t)
{
  switch (t)
    {
    case 'n': case 'q':
      return 2;
    case 'b': case 'i': case 'u': case 'h': case 's': case 'o': case 'a':
      return 4;
    case 'x': case 't': case 'd': case '(': case '{':
      return 8;
    default:                    /* y g v */
      return 1;
    }
}

/* ---- reading ------------------------------------------------------------- */

static guint32
load_u32 (const guint8 *p,
          gboolean      big_endian)
{
  guint32 v;

  memcpy (&v, p, 4);
  return big_endian ? GUINT32_FROM_BE (v) : GUINT32_FROM_LE (v);
}

/* Skips to a multiple of @alignment; the padding must be zero bytes. */
static gboolean
r_align (Reader *r,
         gsize   alignment)
{
  gsize next = (r->pos + alignment - 1) & ~(alignment - 1);

  if (next > r->end)
    return FALSE;
  for (; r->pos < next; r->pos++)
    if (r->data[r->pos] != 0)
      return FALSE;
  return TRUE;
}

/* @n bytes after alignment to @n, in host order, at @out. */
static gboolean
r_fixed (Reader *r,
         gsize   n,
         void   *out)
{
  guint8 *o = out;

  if (!r_align (r, n) || r->end - r->pos < n)
    return FALSE;
  memcpy (out, r->data + r->pos, n);
  if (r->big_endian != (G_BYTE_ORDER == G_BIG_ENDIAN))
    for (gsize i = 0; i < n / 2; i++)
      {
        guint8 t = o[i];

        o[i] = o[n - 1 - i];
        o[n - 1 - i] = t;
      }
  r->pos += n;
  return TRUE;
}

static gboolean
r_u32 (Reader  *r,
       guint32 *out)
{
  return r_fixed (r, 4, out);
}

/* A string (s, o: a 32-bit length) or signature (g: a byte), in place:
 * its bytes must be followed by a nul and hold none. */
static const char *
r_string (Reader *r,
          char    kind,
          gsize  *length)
{
  const char *s;
  guint32 n;

  if (kind == 'g')
    {
      if (r->pos >= r->end)
        return NULL;
      n = r->data[r->pos++];
    }
  else if (!r_u32 (r, &n))
    return NULL;
  if (n >= r->end - r->pos || r->data[r->pos + n] != '\0')
    return NULL;
  s = (const char *) r->data + r->pos;
  if (memchr (s, '\0', n) != NULL)
    return NULL;
  r->pos += (gsize) n + 1;
  *length = n;
  return s;
}

/* @length bytes (no nul among them: r_string() checked) of UTF-8. Every
 * name and nearly every value on org.bluez is ASCII, which is checked
 * without GLib's decoding of each character; from the first byte above
 * 0x7f on, GLib decides (the ASCII bytes before it are whole characters). */
static gboolean
utf8_valid (const char *s,
            gsize       length)
{
  for (gsize i = 0; i < length; i++)
    if ((guchar) s[i] >= 0x80)
      return g_utf8_validate_len (s + i, length - i, NULL);
  return TRUE;
}

/* A string value checked for its kind: UTF-8 (s), path (o), signature
 * (g); @length may be NULL. */
static const char *
r_checked_string (Reader *r,
                  char    kind,
                  gsize  *length_out)
{
  gsize length;
  const char *s = r_string (r, kind, &length);

  if (s == NULL)
    return NULL;
  if (kind == 's' && !utf8_valid (s, length))
    return NULL;
  if (kind == 'o' && !g_variant_is_object_path (s))
    return NULL;
  if (kind == 'g' && !signature_valid (s, length, 0, 0))
    return NULL;
  if (length_out != NULL)
    *length_out = length;
  return s;
}

/* The children of a container being read: on the stack for the few that
 * a message usually holds. Floating until the container takes them. */
typedef struct {
  GVariant *stack[8];
  GVariant **items;
  gsize n;
  gsize size;
} Items;

static void
items_init (Items *it)
{
  it->items = it->stack;
  it->n = 0;
  it->size = G_N_ELEMENTS (it->stack);
}

static void
items_add (Items    *it,
           GVariant *item)
{
  if (it->n == it->size)
    {
      it->size *= 2;
      if (it->items == it->stack)
        it->items = g_memdup2 (it->stack, sizeof it->stack);
      it->items = g_renew (GVariant *, it->items, it->size);
    }
  it->items[it->n++] = item;
}

static void
items_free (Items *it)
{
  if (it->items != it->stack)
    g_free (it->items);
}

/* Failure: the children are dropped. */
static GVariant *
items_clear (Items *it)
{
  for (gsize i = 0; i < it->n; i++)
    g_variant_unref (g_variant_ref_sink (it->items[i]));
  items_free (it);
  return NULL;
}

/* An array of @element (a valid type string at its start) or, with
 * @element NULL, a tuple, taking the children. */
static GVariant *
items_end (Items      *it,
           const char *element)
{
  GVariant *v = element != NULL
                ? g_variant_new_array ((const GVariantType *) element, it->items, it->n)
                : g_variant_new_tuple (it->items, it->n);

  items_free (it);
  return v;
}

static GVariant *r_value (Reader      *r,
                          const char **sig,
                          guint        arrays,
                          guint        structs);

/* An array of fixed-size numbers: one copy, no child values. */
static GVariant *
r_fixed_array (Reader     *r,
               char        t,
               gsize       size,
               gsize       bytes)
{
  const GVariantType *type;
  g_autofree guint8 *copy = NULL;
  static const char types[][2] = { "y", "n", "q", "i", "u", "x", "t", "d" };
  const char *at = strchr ("ynqiuxtd", t);

  type = (const GVariantType *) types[at - "ynqiuxtd"];
  if (bytes % size != 0)
    return NULL;
  if (size == 1 || r->big_endian == (G_BYTE_ORDER == G_BIG_ENDIAN))
    {
      GVariant *v = g_variant_new_fixed_array (type, r->data + r->pos, bytes / size, size);

      r->pos += bytes;
      return v;
    }
  copy = g_malloc (bytes);
  for (gsize i = 0; i < bytes; i += size)
    if (!r_fixed (r, size, copy + i))
      return NULL;
  return g_variant_new_fixed_array (type, copy, bytes / size, size);
}

static GVariant *
r_array (Reader      *r,
         const char **sig,
         guint        arrays,
         guint        structs)
{
  const char *element = *sig + 1;
  const char *after = complete_type_end (*sig, arrays, structs);
  guint32 bytes;
  gsize end;
  Items items;

  if (after == NULL || !r_u32 (r, &bytes) || bytes > MAX_ARRAY_BYTES)
    return NULL;
  /* The padding before the first element is there even when it is empty. */
  if (!r_align (r, type_alignment (*element)) || bytes > r->end - r->pos)
    return NULL;
  end = r->pos + bytes;
  *sig = after;
  if (*element != '\0' && strchr ("ynqiuxtd", *element) != NULL)
    {
      static const guint8 sizes[] = { 1, 2, 2, 4, 4, 8, 8, 8 };

      return r_fixed_array (r, *element, sizes[strchr ("ynqiuxtd", *element) - "ynqiuxtd"], bytes);
    }
  items_init (&items);
  while (r->pos < end)
    {
      const char *s = element;
      GVariant *item;
      Reader sub = *r;

      sub.end = end;
      if (*element == '{')
        {
          GVariant *key, *value;

          if (structs + 1 > MAX_STRUCTS || !r_align (&sub, 8))
            goto fail;
          s = element + 1;
          key = r_value (&sub, &s, arrays + 1, structs + 1);
          if (key == NULL)
            goto fail;
          value = r_value (&sub, &s, arrays + 1, structs + 1);
          if (value == NULL)
            {
              g_variant_unref (g_variant_ref_sink (key));
              goto fail;
            }
          item = g_variant_new_dict_entry (key, value);
        }
      else
        {
          item = r_value (&sub, &s, arrays + 1, structs);
          if (item == NULL)
            goto fail;
        }
      r->pos = sub.pos;
      items_add (&items, item);
    }
  if (r->pos != end)
    goto fail;
  return items_end (&items, element);

fail:
  return items_clear (&items);
}

static GVariant *
r_struct (Reader      *r,
          const char **sig,
          guint        arrays,
          guint        structs)
{
  Items items;

  if (structs + 1 > MAX_STRUCTS || !r_align (r, 8))
    return NULL;
  items_init (&items);
  (*sig)++;
  while (**sig != ')')
    {
      GVariant *field = r_value (r, sig, arrays, structs + 1);

      if (field == NULL)
        return items_clear (&items);
      items_add (&items, field);
    }
  (*sig)++;
  return items_end (&items, NULL);
}

static GVariant *
r_variant (Reader *r,
           guint   arrays,
           guint   structs)
{
  gsize length;
  const char *inner = r_string (r, 'g', &length);
  const char *s = inner;
  GVariant *value;

  /* One complete type, nested within what is left of the limits. */
  if (inner == NULL || structs + 1 > MAX_STRUCTS ||
      !signature_valid (inner, length, arrays, structs + 1) ||
      complete_type_end (inner, arrays, structs + 1) != inner + length)
    return NULL;
  value = r_value (r, &s, arrays, structs + 1);
  return value != NULL ? g_variant_new_variant (value) : NULL;
}

/* One value of the complete type at *@sig (valid: checked before), as a
 * floating GVariant; *@sig moves past the type. NULL when invalid. */
static GVariant *
r_value (Reader      *r,
         const char **sig,
         guint        arrays,
         guint        structs)
{
  char t = **sig;
  union { guint8 y; gint16 n; guint16 q; gint32 i; guint32 u; gint64 x; guint64 t; gdouble d; } v;
  const char *s;
  gsize length;
  GBytes *bytes;
  GVariant *value;

  switch (t)
    {
    case 'a':
      return r_array (r, sig, arrays, structs);
    case '(':
      return r_struct (r, sig, arrays, structs);
    default:
      break;
    }
  (*sig)++;
  switch (t)
    {
    case 'y':
      if (r->pos >= r->end)
        return NULL;
      return g_variant_new_byte (r->data[r->pos++]);
    case 'b':
      if (!r_u32 (r, &v.u) || v.u > 1)
        return NULL;
      return g_variant_new_boolean (v.u);
    case 'n':
      return r_fixed (r, 2, &v.n) ? g_variant_new_int16 (v.n) : NULL;
    case 'q':
      return r_fixed (r, 2, &v.q) ? g_variant_new_uint16 (v.q) : NULL;
    case 'i':
      return r_fixed (r, 4, &v.i) ? g_variant_new_int32 (v.i) : NULL;
    case 'u':
      return r_fixed (r, 4, &v.u) ? g_variant_new_uint32 (v.u) : NULL;
    case 'h':
      /* An index into the descriptors that came with the message. */
      return r_fixed (r, 4, &v.u) && v.u < r->n_fds ? g_variant_new_handle ((gint32) v.u) : NULL;
    case 'x':
      return r_fixed (r, 8, &v.x) ? g_variant_new_int64 (v.x) : NULL;
    case 't':
      return r_fixed (r, 8, &v.t) ? g_variant_new_uint64 (v.t) : NULL;
    case 'd':
      return r_fixed (r, 8, &v.d) ? g_variant_new_double (v.d) : NULL;
    case 's':
    case 'o':
    case 'g':
      /* Checked just now: a trusted copy, not checked again by GLib. */
      s = r_checked_string (r, t, &length);
      if (s == NULL)
        return NULL;
      bytes = g_bytes_new (s, length + 1);
      value = g_variant_new_from_bytes ((const GVariantType *) (*sig - 1), bytes, TRUE);
      g_bytes_unref (bytes);
      return value;
    case 'v':
      return r_variant (r, arrays, structs);
    default:
      return NULL;
    }
}

/* ---- the header ---------------------------------------------------------- */

gssize
bleio_wire_frame_size (const guint8 *data,
                       gsize         size)
{
  gboolean big_endian;
  guint64 fields, body, total;

  if (size < 16)
    return 0;
  if ((data[0] != 'l' && data[0] != 'B') || data[3] != 1)
    return -1;
  big_endian = data[0] == 'B';
  body = load_u32 (data + 4, big_endian);
  fields = load_u32 (data + 12, big_endian);
  total = 16 + ((fields + 7) & ~(guint64) 7) + body;
  if (fields > MAX_ARRAY_BYTES || total > BLEIO_WIRE_MAX_MESSAGE)
    return -1;
  return (gssize) total;
}

/* Whether @memo holds @s (@length bytes) as field @code's last valid
 * value. */
static gboolean
memo_holds (const BleioWireMemo *memo,
            guint8               code,
            const char          *s,
            gsize                length)
{
  return memo != NULL && memo->length[code] == length + 1 &&
         memcmp (memo->text[code], s, length) == 0;
}

/* One (yv) of the header fields array, filed into @m; FALSE when invalid.
 * A string field that @memo holds is taken without checking it again, and
 * its bit set in *@known. */
static gboolean
read_field (Reader             *r,
            BleioWireMessage   *m,
            const BleioWireMemo *memo,
            guint              *seen,
            guint              *known)
{
  static const char expected[] = { 0, 'o', 's', 's', 's', 'u', 's', 's', 'g', 'u' };
  const char **strings[] = { NULL, &m->path, &m->interface, &m->member, &m->error_name, NULL,
                             &m->destination, &m->sender, &m->signature, NULL };
  gsize length;
  const char *sig;
  guint8 code;

  if (!r_align (r, 8) || r->pos >= r->end)
    return FALSE;
  code = r->data[r->pos++];
  sig = r_string (r, 'g', &length);
  if (sig == NULL || code == 0)
    return FALSE;
  if (code > FIELD_UNIX_FDS)
    {
      /* Unknown fields are allowed and ignored, but must be valid. */
      const char *s = sig;
      GVariant *ignored;

      if (!signature_valid (sig, length, 0, 1) ||
          complete_type_end (sig, 0, 1) != sig + length)
        return FALSE;
      ignored = r_value (r, &s, 0, 1);
      if (ignored == NULL)
        return FALSE;
      g_variant_unref (g_variant_ref_sink (ignored));
      return TRUE;
    }
  if (length != 1 || sig[0] != expected[code] || (*seen & (1u << code)) != 0)
    return FALSE;
  *seen |= 1u << code;
  if (code == FIELD_REPLY_SERIAL)
    return r_u32 (r, &m->reply_serial) && m->reply_serial != 0;
  if (code == FIELD_UNIX_FDS)
    return r_u32 (r, &m->n_fds);
  if (memo != NULL)
    {
      Reader peek = *r;
      const char *s = r_string (&peek, sig[0], &length);

      if (s != NULL && memo_holds (memo, code, s, length))
        {
          *r = peek;
          *strings[code] = s;
          *known |= 1u << code;
          return TRUE;
        }
    }
  *strings[code] = r_checked_string (r, sig[0], NULL);
  return *strings[code] != NULL;
}

/* Files the string fields of @m (valid as a whole) that fit in @memo. */
static void
memo_keep (BleioWireMemo          *memo,
           const BleioWireMessage *m)
{
  const char *strings[] = { NULL, m->path, m->interface, m->member, m->error_name, NULL,
                            m->destination, m->sender, m->signature, NULL };

  for (guint code = 0; code < G_N_ELEMENTS (strings); code++)
    {
      gsize length = strings[code] != NULL ? strlen (strings[code]) : 0;

      if (strings[code] == NULL || length >= BLEIO_WIRE_MEMO_MAX)
        continue;
      memcpy (memo->text[code], strings[code], length);
      memo->length[code] = (guint8) (length + 1);
    }
}

static gboolean
bus_name_valid (const char *name)
{
  return name == NULL || g_dbus_is_name (name);
}

gboolean
bleio_wire_parse (const guint8     *data,
                  gsize             size,
                  BleioWireMessage *message)
{
  return bleio_wire_parse_memo (data, size, NULL, message);
}

gboolean
bleio_wire_parse_memo (const guint8     *data,
                       gsize             size,
                       BleioWireMemo    *memo,
                       BleioWireMessage *message)
{
  BleioWireMessage m = { 0, };
  Reader r = { 0, };
  guint32 fields;
  guint seen = 0;
  guint known = 0;

  if (data == NULL || bleio_wire_frame_size (data, size) != (gssize) size)
    return FALSE;
  m.big_endian = data[0] == 'B';
  m.type = data[1];
  m.flags = data[2];
  if (m.type < BLEIO_WIRE_METHOD_CALL || m.type > BLEIO_WIRE_SIGNAL)
    return FALSE;
  m.body_size = load_u32 (data + 4, m.big_endian);
  m.serial = load_u32 (data + 8, m.big_endian);
  fields = load_u32 (data + 12, m.big_endian);
  if (m.serial == 0)
    return FALSE;

  r.data = data;
  r.big_endian = m.big_endian;
  r.pos = 16;
  r.end = 16 + (gsize) fields;
  while (r.pos < r.end)
    if (!read_field (&r, &m, memo, &seen, &known))
      return FALSE;
  if (r.pos != r.end)
    return FALSE;
  r.end = size - m.body_size;
  if (!r_align (&r, 8) || r.pos != r.end)
    return FALSE;

#define CHECK(code, valid) ((known & (1u << (code))) != 0 || (valid))
  if ((m.interface != NULL && !CHECK (FIELD_INTERFACE, g_dbus_is_interface_name (m.interface))) ||
      (m.member != NULL && !CHECK (FIELD_MEMBER, g_dbus_is_member_name (m.member))) ||
      (m.error_name != NULL && !CHECK (FIELD_ERROR_NAME, g_dbus_is_error_name (m.error_name))) ||
      !CHECK (FIELD_DESTINATION, bus_name_valid (m.destination)) ||
      !CHECK (FIELD_SENDER, bus_name_valid (m.sender)))
    return FALSE;
#undef CHECK
  switch (m.type)
    {
    case BLEIO_WIRE_METHOD_CALL:
      if (m.path == NULL || m.member == NULL)
        return FALSE;
      break;
    case BLEIO_WIRE_METHOD_RETURN:
      if (m.reply_serial == 0)
        return FALSE;
      break;
    case BLEIO_WIRE_ERROR:
      if (m.reply_serial == 0 || m.error_name == NULL)
        return FALSE;
      break;
    case BLEIO_WIRE_SIGNAL:
      if (m.path == NULL || m.interface == NULL || m.member == NULL)
        return FALSE;
      break;
    default:
      g_assert_not_reached ();
    }
  if (m.signature == NULL)
    m.signature = "";
  if (m.signature[0] == '\0' && m.body_size != 0)
    return FALSE;
  m.body = data + r.end;
  if (memo != NULL)
    memo_keep (memo, &m);
  *message = m;
  return TRUE;
}

/* ---- the body ------------------------------------------------------------ */

static void
body_reader (const BleioWireMessage *m,
             Reader                 *r)
{
  r->data = m->body;
  r->pos = 0;
  r->end = m->body_size;
  r->big_endian = m->big_endian;
  r->n_fds = m->n_fds;
}

GVariant *
bleio_wire_read_body (const BleioWireMessage *message)
{
  const char *s = message->signature;
  Items items;
  Reader r;

  body_reader (message, &r);
  items_init (&items);
  while (*s != '\0')
    {
      GVariant *value = r_value (&r, &s, 0, 0);

      if (value == NULL)
        return items_clear (&items);
      items_add (&items, value);
    }
  if (r.pos != r.end)
    return items_clear (&items);
  return g_variant_ref_sink (items_end (&items, NULL));
}

gboolean
bleio_wire_read_properties_changed (const BleioWireMessage  *message,
                                    const char            **interface,
                                    GVariant              **changed,
                                    const char           ***invalidated)
{
  const char *s = "a{sv}";
  const char *name;
  GVariant *dict;
  GPtrArray *names;
  guint32 bytes;
  gsize end;
  Reader r;

  if (strcmp (message->signature, "sa{sv}as") != 0)
    return FALSE;
  body_reader (message, &r);
  name = r_checked_string (&r, 's', NULL);
  if (name == NULL)
    return FALSE;
  dict = r_value (&r, &s, 0, 0);
  if (dict == NULL)
    return FALSE;
  g_variant_ref_sink (dict);
  /* The invalidated names stay in the message: an array of pointers. */
  names = g_ptr_array_new ();
  if (!r_u32 (&r, &bytes) || bytes > MAX_ARRAY_BYTES || !r_align (&r, 4) ||
      bytes > r.end - r.pos)
    goto fail;
  end = r.pos + bytes;
  r.end = end;
  while (r.pos < end)
    {
      const char *gone = r_checked_string (&r, 's', NULL);

      if (gone == NULL)
        goto fail;
      g_ptr_array_add (names, (gpointer) gone);
    }
  if (r.pos != message->body_size)
    goto fail;
  g_ptr_array_add (names, NULL);
  *interface = name;
  *changed = dict;
  *invalidated = (const char **) g_ptr_array_free (names, FALSE);
  return TRUE;

fail:
  g_ptr_array_free (names, TRUE);
  g_variant_unref (dict);
  return FALSE;
}

gboolean
bleio_wire_read_interfaces_added (const BleioWireMessage  *message,
                                  const char            **object,
                                  GVariant              **interfaces)
{
  const char *s = "a{sa{sv}}";
  const char *path;
  GVariant *dict;
  Reader r;

  if (strcmp (message->signature, "oa{sa{sv}}") != 0)
    return FALSE;
  body_reader (message, &r);
  path = r_checked_string (&r, 'o', NULL);
  if (path == NULL)
    return FALSE;
  dict = r_value (&r, &s, 0, 0);
  if (dict == NULL)
    return FALSE;
  g_variant_ref_sink (dict);
  if (r.pos != r.end)
    {
      g_variant_unref (dict);
      return FALSE;
    }
  *object = path;
  *interfaces = dict;
  return TRUE;
}
