/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-json.h"

static void append_value (GString *s, GVariant *v, const char *key, guint depth, gboolean pretty);

static void
append_string (GString *s, const char *str)
{
  g_string_append_c (s, '"');
  for (const guchar *p = (const guchar *) str; *p; p++) {
    switch (*p) {
      case '"': g_string_append (s, "\\\""); break;
      case '\\': g_string_append (s, "\\\\"); break;
      case '\n': g_string_append (s, "\\n"); break;
      case '\r': g_string_append (s, "\\r"); break;
      case '\t': g_string_append (s, "\\t"); break;
      default:
        if (*p < 0x20)
          g_string_append_printf (s, "\\u%04x", *p);
        else
          g_string_append_c (s, (char) *p);
    }
  }
  g_string_append_c (s, '"');
}

static void
newline (GString *s, guint depth, gboolean pretty)
{
  if (!pretty)
    return;
  g_string_append_c (s, '\n');
  for (guint i = 0; i < depth; i++)
    g_string_append (s, "  ");
}

static gboolean
is_code_key (const char *key)
{
  return key != NULL && (g_str_equal (key, "code") || g_str_equal (key, "result"));
}

static void
append_container (GString *s, GVariant *v, guint depth, gboolean pretty)
{
  gboolean dict = g_variant_type_is_dict_entry (g_variant_type_element (g_variant_get_type (v)));
  gsize n = g_variant_n_children (v);

  g_string_append_c (s, dict ? '{' : '[');
  for (gsize i = 0; i < n; i++) {
    g_autoptr (GVariant) child = g_variant_get_child_value (v, i);
    if (i > 0)
      g_string_append_c (s, ',');
    newline (s, depth + 1, pretty);
    if (dict) {
      g_autoptr (GVariant) k = g_variant_get_child_value (child, 0);
      g_autoptr (GVariant) val = g_variant_get_child_value (child, 1);
      const char *key = g_variant_is_of_type (k, G_VARIANT_TYPE_STRING)
                            ? g_variant_get_string (k, NULL)
                            : NULL;
      if (key != NULL) {
        append_string (s, key);
      } else {
        g_autofree char *text = g_variant_print (k, FALSE);
        append_string (s, text);
      }
      g_string_append (s, pretty ? ": " : ":");
      append_value (s, val, key, depth + 1, pretty);
    } else {
      append_value (s, child, NULL, depth + 1, pretty);
    }
  }
  if (n > 0)
    newline (s, depth, pretty);
  g_string_append_c (s, dict ? '}' : ']');
}

static void
append_value (GString *s, GVariant *v, const char *key, guint depth, gboolean pretty)
{
  switch (g_variant_classify (v)) {
    case G_VARIANT_CLASS_VARIANT: {
      g_autoptr (GVariant) inner = g_variant_get_variant (v);
      append_value (s, inner, key, depth, pretty);
      return;
    }
    case G_VARIANT_CLASS_BOOLEAN:
      g_string_append (s, g_variant_get_boolean (v) ? "true" : "false");
      return;
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      append_string (s, g_variant_get_string (v, NULL));
      return;
    case G_VARIANT_CLASS_UINT32:
      if (is_code_key (key))
        g_string_append_printf (s, "\"0x%08X\"", g_variant_get_uint32 (v));
      else
        g_string_append_printf (s, "%u", g_variant_get_uint32 (v));
      return;
    case G_VARIANT_CLASS_BYTE: g_string_append_printf (s, "%u", g_variant_get_byte (v)); return;
    case G_VARIANT_CLASS_INT16: g_string_append_printf (s, "%d", g_variant_get_int16 (v)); return;
    case G_VARIANT_CLASS_UINT16: g_string_append_printf (s, "%u", g_variant_get_uint16 (v)); return;
    case G_VARIANT_CLASS_INT32: g_string_append_printf (s, "%d", g_variant_get_int32 (v)); return;
    case G_VARIANT_CLASS_INT64:
      g_string_append_printf (s, "%" G_GINT64_FORMAT, g_variant_get_int64 (v));
      return;
    case G_VARIANT_CLASS_UINT64:
      g_string_append_printf (s, "%" G_GUINT64_FORMAT, g_variant_get_uint64 (v));
      return;
    case G_VARIANT_CLASS_DOUBLE: {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      g_string_append (s, g_ascii_dtostr (buf, sizeof buf, g_variant_get_double (v)));
      return;
    }
    case G_VARIANT_CLASS_ARRAY:
    case G_VARIANT_CLASS_TUPLE:
      append_container (s, v, depth, pretty);
      return;
    default: {
      g_autofree char *text = g_variant_print (v, FALSE);
      append_string (s, text);
    }
  }
}

char *
volact_json_from_variant (GVariant *v, gboolean pretty)
{
  GString *s = g_string_new (NULL);
  append_value (s, v, NULL, 0, pretty);
  if (pretty)
    g_string_append_c (s, '\n');
  return g_string_free (s, FALSE);
}
