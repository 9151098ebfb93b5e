/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the fleet generators; see fleet-common.h. */
#include "config.h"

#include "fleet-common.h"
#include "volact-client-cli.h"

#include <locale.h>

void
volact_fleet_cmid_make_v4 (guint8 cmid[16])
{
  cmid[6] = (cmid[6] & 0x0f) | 0x40; /* version 4 */
  cmid[8] = (cmid[8] & 0x3f) | 0x80; /* RFC 4122 variant */
}

void
volact_fleet_machine_name (char *out, gsize size, guint64 index)
{
  g_snprintf (out, size, "ws%04" G_GUINT64_FORMAT ".fleet.example", index);
}

void
volact_fleet_codes_note (GHashTable *codes, guint32 code)
{
  gpointer key = GUINT_TO_POINTER (code);
  g_hash_table_insert (codes, key, GUINT_TO_POINTER (volact_fleet_codes_get (codes, code) + 1));
}

guint
volact_fleet_codes_get (GHashTable *codes, guint32 code)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (codes, GUINT_TO_POINTER (code)));
}

static gint
compare_codes (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  return x < y ? -1 : x > y;
}

GArray *
volact_fleet_codes_sorted (GHashTable *codes)
{
  GArray *sorted = g_array_new (FALSE, FALSE, sizeof (guint32));
  GHashTableIter it;
  gpointer key;

  g_hash_table_iter_init (&it, codes);
  while (g_hash_table_iter_next (&it, &key, NULL)) {
    guint32 c = GPOINTER_TO_UINT (key);
    g_array_append_val (sorted, c);
  }
  g_array_sort (sorted, compare_codes);
  return sorted;
}

int
volact_fleet_parse_options (const char *program, const GOptionEntry *entries, const char *summary,
                            const char *description, int *argc, char ***argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx, summary);
  g_option_context_set_description (ctx, description);
  if (!g_option_context_parse (ctx, argc, argv, &error))
    return volact_cli_usage_error (program, "%s", error->message);
  if (*argc > 1)
    return volact_cli_usage_error (program, "unexpected argument \"%s\"", (*argv)[1]);
  return 0;
}
