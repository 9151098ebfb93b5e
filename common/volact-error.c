/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-error.h"

#include <stdlib.h>

/* The domain's string is VOLACT_PLUGIN_ERROR_DOMAIN_NAME: plugins name it by string. */
// clang-format off
G_DEFINE_QUARK (volact-error-quark, volact_error)
// clang-format on

typedef struct {
  guint32 code;
  const char *name;
  const char *text;
} ErrorEntry;

/* Generated from the one list of codes (volact-error-codes.h): add a code there and
 * everything (the enum, explain, JSON, logs) knows it. */
static const ErrorEntry error_table[] = {
#define VOLACT_ERROR_CODE(name, code, text) { (code), #name, (text) },
#include "volact-error-codes.h"
#undef VOLACT_ERROR_CODE
};

static const ErrorEntry *
find_entry (guint32 code)
{
  for (gsize i = 0; i < G_N_ELEMENTS (error_table); i++)
    if (error_table[i].code == code)
      return &error_table[i];
  return NULL;
}

const char *
volact_error_text (guint32 code)
{
  const ErrorEntry *e = find_entry (code);
  return e ? e->text : NULL;
}

const char *
volact_error_name (guint32 code)
{
  const ErrorEntry *e = find_entry (code);
  return e ? e->name : NULL;
}

gboolean
volact_error_parse_code (const char *text, guint32 *out)
{
  const char *p = text;
  char *end = NULL;
  guint64 v;
  int base = 10;

  if (text == NULL || *text == '\0')
    return FALSE;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    p += 2;
    base = 16;
  } else {
    for (const char *q = p; *q; q++)
      if (g_ascii_isalpha (*q))
        base = 16;
  }
  if (!g_ascii_isxdigit (*p))
    return FALSE;
  v = g_ascii_strtoull (p, &end, base);
  if (*end != '\0' || v > G_MAXUINT32)
    return FALSE;
  *out = (guint32) v;
  return TRUE;
}

void
volact_error_foreach (void (*func) (guint32, const char *, const char *, gpointer),
                      gpointer user_data)
{
  for (gsize i = 0; i < G_N_ELEMENTS (error_table); i++)
    func (error_table[i].code, error_table[i].name, error_table[i].text, user_data);
}
