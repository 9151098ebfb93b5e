/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The record commands: clients and events. */
#include "config.h"

#include "volact-command-handlers.h"

#include "volact-admin-proto.h"
#include "volact-error.h"
#include "volact-host-private.h"

#include <string.h>

/* Caps so that a reply stays a sensible size; `truncated` and `total` say when one bit. */
#define CLIENTS_CAP 100000
#define EVENTS_CAP 1000000

/* Adds ROWS (NULL on error) under KEY with the truncation fields; NULL passes the error on. */
static GVariant *
rows_reply (GVariantDict *d, const char *key, GVariant *rows, guint64 total, const char *what,
            GError **error)
{
  if (rows == NULL) {
    g_prefix_error (error, "cannot list the %s: ", what);
    return NULL;
  }
  g_variant_dict_insert (d, "truncated", "b", total > g_variant_n_children (rows));
  g_variant_dict_insert (d, "total", "t", total);
  g_variant_dict_insert_value (d, key, rows);
  return g_variant_dict_end (d);
}

GVariant *
volact_cmd_clients (VolactHost *host, const char *const *args, GError **error)
{
  gboolean duplicates = FALSE;
  g_autoptr (GVariantDict) d = NULL;

  if (args[0] != NULL) {
    if (!g_str_equal (args[0], "--duplicates")) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "usage: clients [--duplicates]");
      return NULL;
    }
    duplicates = TRUE;
  }
  GVariant *rows;
  guint64 total = 0;
  rows = volact_records_clients (host->records, duplicates, CLIENTS_CAP, &total, error);
  d = volact_admin_reply_new (0, "");
  return rows_reply (d, "clients", rows, total, "client records", error);
}

/* --since (and report's --until) accept unix seconds or an ISO 8601 date/time (UTC unless it
 * says otherwise). */
gboolean
volact_cmd_parse_time (const char *option, const char *text, gint64 *out, GError **error)
{
  guint64 secs;
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr (GDateTime) dt = NULL;
  g_autofree char *with_time = NULL;

  if (g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT64, &secs, NULL)) {
    *out = (gint64) secs;
    return TRUE;
  }
  dt = g_date_time_new_from_iso8601 (text, utc);
  if (dt == NULL && strlen (text) == 10) {
    with_time = g_strconcat (text, "T00:00:00", NULL);
    dt = g_date_time_new_from_iso8601 (with_time, utc);
  }
  if (dt == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED,
                 "%s wants unix seconds or an ISO 8601 date/time, not \"%s\"", option, text);
    return FALSE;
  }
  *out = g_date_time_to_unix (dt);
  return TRUE;
}

GVariant *
volact_cmd_events (VolactHost *host, const char *const *args, GError **error)
{
  gint64 since = 0;
  gboolean csv = FALSE;
  g_autoptr (GVariantDict) d = NULL;

  for (guint i = 0; args[i] != NULL; i++) {
    if (g_str_equal (args[i], "--csv")) {
      csv = TRUE;
    } else if (g_str_equal (args[i], "--since") && args[i + 1] != NULL) {
      if (!volact_cmd_parse_time ("--since", args[++i], &since, error))
        return NULL;
    } else {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "usage: events [--since TIME] [--csv]");
      return NULL;
    }
  }
  GVariant *rows;
  guint64 total = 0;
  rows = volact_records_events (host->records, since, EVENTS_CAP, &total, error);
  d = volact_admin_reply_new (0, "");
  g_variant_dict_insert (d, "csv", "b", csv);
  return rows_reply (d, "events", rows, total, "events", error);
}
