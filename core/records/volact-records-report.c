/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The six activity reports of the KMS operations guide's management pack
 * (`volactctl report`, docs/reports.md), computed with SQL over the events
 * and clients tables on the read-only connection. Each report returns one
 * table shape, a{sv} with "columns" (as) and "rows" (aav), so that the
 * terminal, CSV and JSON outputs share it.
 */
#include "config.h"

#include "volact-records-private.h"

#include "volact-error.h"

#define DAY 86400
/* Bounds the detail report's rows and the history's (days x editions). */
#define REPORT_ROW_CAP 100000

#define EDITION_EXPR "CASE WHEN typeof (e.edition) = 'text' THEN e.edition ELSE ed.name END"
#define CLIENT_EDITION "CASE WHEN typeof (c.edition) = 'text' THEN c.edition ELSE ed.name END"

/* A client's expiry: the time of its latest request plus the minutes it had left then. */
#define EXPIRY "(c.last_seen + 60 * c.minutes_left)"
/* The grace states (OOB, OOT, non-genuine), the ones that run out. */
#define GRACE "c.state IN (0, 2, 3)"

static const char *const report_names[] = { "activation-count-summary", "activity-history",
                                            "licensing-status-summary", "machine-expiration-chart",
                                            "machine-expiration-detail", "vm-summary", NULL };

const char *const *
volact_records_report_names (void)
{
  return report_names;
}

/* Runs SQL with the bound times and adds each row (its columns as text or integers) to ROWS. */
static gboolean
add_rows (VolactRecords *records, const char *sql, const gint64 *params, guint n_params,
          GVariantBuilder *rows, GError **error)
{
  g_autoptr (sqlite3_stmt) st = NULL;
  guint n = 0;
  int rc;

  if (sqlite3_prepare_v2 (records->rdb, sql, -1, &st, NULL) != SQLITE_OK)
    return volact_records_db_fail (records->rdb, records->path, "cannot prepare a report", error);
  for (guint i = 0; i < n_params; i++)
    sqlite3_bind_int64 (st, (int) i + 1, params[i]);
  /* The client request event by its constant, never a number written into the SQL. */
  if (sqlite3_bind_parameter_index (st, ":request") > 0)
    sqlite3_bind_int (st, sqlite3_bind_parameter_index (st, ":request"),
                      VOLACT_EVENT_CLIENT_REQUEST);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW && n++ < REPORT_ROW_CAP) {
    GVariantBuilder row;
    g_variant_builder_init (&row, G_VARIANT_TYPE ("av"));
    for (int c = 0; c < sqlite3_column_count (st); c++) {
      GVariant *v;
      if (sqlite3_column_type (st, c) == SQLITE_INTEGER) {
        v = g_variant_new_int64 (sqlite3_column_int64 (st, c));
      } else if (sqlite3_column_type (st, c) == SQLITE_NULL) {
        v = g_variant_new_string ("");
      } else {
        const char *s = (const char *) sqlite3_column_text (st, c);
        g_autofree char *valid = g_utf8_make_valid (s ? s : "", -1);
        v = g_variant_new_string (valid);
      }
      g_variant_builder_add (&row, "v", v);
    }
    g_variant_builder_add_value (rows, g_variant_builder_end (&row));
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return volact_records_db_fail (records->rdb, records->path, "cannot read a report", error);
  return TRUE;
}

/* 1. Activations (successful requests) per edition: today, 7, 30, 90 days, all kept. */
static gboolean
report_activation_count (VolactRecords *r, gint64 since, gint64 until, GVariantBuilder *rows,
                         GError **error)
{
  gint64 p[] = { since, until, until - until % DAY, until - 7 * DAY, until - 30 * DAY,
                 until - 90 * DAY };
  return add_rows (r,
                   /* Grouped by the stored edition first: one name lookup per edition. */
                   "SELECT " EDITION_EXPR " n, sum (a), sum (b), sum (c), sum (d), sum (t) FROM ("
                   "  SELECT edition, sum (time >= ?3) a, sum (time >= ?4) b, sum (time >= ?5) c,"
                   "    sum (time >= ?6) d, count (*) t FROM events "
                   "  WHERE time >= ?1 AND time < ?2 AND event = :request AND result = 0 "
                   "  GROUP BY edition) e LEFT JOIN editions ed ON ed.id = e.edition "
                   "GROUP BY n ORDER BY n",
                   p, G_N_ELEMENTS (p), rows, error);
}

/* 2. Per day and edition: new activations (a CMID's first success in the range),
 * activations and renewals (successful requests), and all requests. */
static gboolean
report_activity_history (VolactRecords *r, gint64 since, gint64 until, GVariantBuilder *rows,
                         GError **error)
{
  gint64 p[] = { since, until };
  /* The first success per CMID by grouping (SQLite takes the edition from the min () row):
   * much cheaper than numbering every request with a window function. Grouped by the stored
   * edition id first, so that names are looked up once per group, not per event. */
  return add_rows (r,
                   "SELECT date (day * 86400, 'unixepoch'), " EDITION_EXPR " n, sum (new), sum (act),"
                   "  sum (req) FROM ("
                   "  SELECT time / 86400 day, edition, 0 new, sum (result = 0) act, count (*) req "
                   "  FROM events WHERE time >= ?1 AND time < ?2 AND event = :request GROUP BY 1, 2 "
                   "  UNION ALL SELECT t / 86400, edition, count (*), 0, 0 FROM ("
                   "    SELECT min (time) t, edition FROM events "
                   "    WHERE time >= ?1 AND time < ?2 AND event = :request AND result = 0 "
                   "    GROUP BY cmid) GROUP BY 1, 2) e LEFT JOIN editions ed ON ed.id = e.edition "
                   "GROUP BY day, n ORDER BY day, n",
                   p, G_N_ELEMENTS (p), rows, error);
}

/* 3. Machines per license state (their latest request), with the days left of the grace states. */
static gboolean
report_licensing_status (VolactRecords *r, gint64 since, gint64 until, GVariantBuilder *rows,
                         GError **error)
{
  gint64 p[] = { since, until };
  return add_rows (r,
                   "WITH s (state, label, ord) AS (VALUES (1, 'Licensed', 0), (0, 'OOB grace', 1),"
                   "  (2, 'OOT grace', 2), (3, 'Non-genuine grace', 3), (4, 'Notification', 4),"
                   "  (5, 'Unlicensed', 5)) "
                   "SELECT s.label, count (c.cmid),"
                   "  CASE WHEN s.state IN (0, 2, 3) AND count (c.cmid) > 0 THEN"
                   "    max (0, min (" EXPIRY " - ?2) / 86400) END,"
                   "  CASE WHEN s.state IN (0, 2, 3) AND count (c.cmid) > 0 THEN"
                   "    max (0, max (" EXPIRY " - ?2) / 86400) END "
                   "FROM s LEFT JOIN clients c ON c.state = s.state"
                   "  AND c.last_seen >= ?1 AND c.last_seen < ?2 "
                   "GROUP BY s.state ORDER BY s.ord",
                   p, G_N_ELEMENTS (p), rows, error);
}

/* 4. Per day of 30 (today and the next 29, UTC): grace machines whose grace runs out that day. */
static gboolean
report_expiration_chart (VolactRecords *r, gint64 since, gint64 until, GVariantBuilder *rows,
                         GError **error)
{
  gint64 p[] = { since, until, until - until % DAY + 30 * DAY };
  return add_rows (r,
                   "WITH RECURSIVE d (day) AS (SELECT date (?2, 'unixepoch') UNION ALL"
                   "  SELECT date (day, '+1 day') FROM d WHERE day < date (?3 - 1, 'unixepoch')) "
                   "SELECT d.day, coalesce (x.n, 0) FROM d LEFT JOIN ("
                   "  SELECT date (" EXPIRY ", 'unixepoch') day, count (*) n FROM clients c"
                   "  WHERE " GRACE " AND c.last_seen >= ?1 AND c.last_seen < ?2"
                   "    AND " EXPIRY " >= ?2 AND " EXPIRY " < ?3 GROUP BY 1) x ON x.day = d.day "
                   "ORDER BY d.day",
                   p, G_N_ELEMENTS (p), rows, error);
}

/* 5. The grace machines whose grace runs out within 7 days, soonest first. */
static gboolean
report_expiration_detail (VolactRecords *r, gint64 since, gint64 until, GVariantBuilder *rows,
                          GError **error)
{
  gint64 p[] = { since, until, until + 7 * DAY };
  return add_rows (r,
                   "SELECT c.name, lower (substr (hex (c.cmid), 1, 8) || '-' ||"
                   "  substr (hex (c.cmid), 9, 4) || '-' || substr (hex (c.cmid), 13, 4) || '-' ||"
                   "  substr (hex (c.cmid), 17, 4) || '-' || substr (hex (c.cmid), 21)), "
                   CLIENT_EDITION ", CASE c.state WHEN 0 THEN 'OOB grace' WHEN 2 THEN 'OOT grace'"
                   "  ELSE 'Non-genuine grace' END,"
                   "  strftime ('%Y-%m-%dT%H:%M:%SZ', " EXPIRY ", 'unixepoch') "
                   "FROM clients c LEFT JOIN editions ed ON ed.id = c.edition "
                   "WHERE " GRACE " AND c.last_seen >= ?1 AND c.last_seen < ?2"
                   "  AND " EXPIRY " >= ?2 AND " EXPIRY " < ?3 "
                   "ORDER BY " EXPIRY ", c.name",
                   p, G_N_ELEMENTS (p), rows, error);
}

/* 6. Distinct virtual and physical machines with a successful request in the past 14 days. */
static gboolean
report_vm_summary (VolactRecords *r, gint64 since, gint64 until, GVariantBuilder *rows,
                   GError **error)
{
  gint64 p[] = { MAX (since, until - 14 * DAY), until };
  return add_rows (r,
                   "SELECT " EDITION_EXPR " n, sum (v), sum (p) FROM ("
                   "  SELECT edition, count (DISTINCT CASE WHEN flags & 1 THEN cmid END) v,"
                   "    count (DISTINCT CASE WHEN flags & 1 THEN NULL ELSE cmid END) p FROM events "
                   "  WHERE time >= ?1 AND time < ?2 AND event = :request AND result = 0 "
                   "  GROUP BY edition) e LEFT JOIN editions ed ON ed.id = e.edition "
                   "GROUP BY n ORDER BY n",
                   p, G_N_ELEMENTS (p), rows, error);
}

typedef gboolean (*ReportFunc) (VolactRecords *r, gint64 since, gint64 until,
                                GVariantBuilder *rows, GError **error);

static const struct {
  ReportFunc func;
  const char *columns;
} reports[] = {
  { report_activation_count, "edition,today,last_7_days,last_30_days,last_90_days,all" },
  { report_activity_history, "day,edition,new_activations,activations,requests" },
  { report_licensing_status, "state,machines,min_days_left,max_days_left" },
  { report_expiration_chart, "day,machines" },
  { report_expiration_detail, "name,cmid,edition,state,expires" },
  { report_vm_summary, "edition,virtual,physical" },
};

GVariant *
volact_records_report (VolactRecords *records, const char *name, gint64 since, gint64 until,
                       GError **error)
{
  GVariantBuilder rows;
  g_auto (GStrv) columns = NULL;
  g_autoptr (GVariantDict) d = NULL;
  guint i;
  gboolean ok;

  g_return_val_if_fail (records != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  for (i = 0; report_names[i] != NULL && g_strcmp0 (report_names[i], name) != 0; i++)
    ;
  if (report_names[i] == NULL) {
    g_autofree char *all = g_strjoinv (", ", (char **) report_names);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "unknown report \"%s\"; the reports are: %s",
                 name, all);
    return NULL;
  }
  if (until <= 0) /* the end is excluded: this second's requests are in */
    until = real_now () + 1;
  g_variant_builder_init (&rows, G_VARIANT_TYPE ("aav"));
  g_mutex_lock (&records->read_lock);
  /* One read transaction: every row of a report sees the same database. */
  ok = sqlite3_exec (records->rdb, "BEGIN", NULL, NULL, NULL) == SQLITE_OK
           ? reports[i].func (records, since, until, &rows, error)
           : volact_records_db_fail (records->rdb, records->path, "cannot read", error);
  if (!sqlite3_get_autocommit (records->rdb))
    sqlite3_exec (records->rdb, "COMMIT", NULL, NULL, NULL);
  g_mutex_unlock (&records->read_lock);
  if (!ok) {
    g_variant_builder_clear (&rows);
    return NULL;
  }
  columns = g_strsplit (reports[i].columns, ",", -1);
  d = g_variant_dict_new (NULL);
  g_variant_dict_insert (d, "report", "s", name);
  g_variant_dict_insert (d, "since", "x", since);
  g_variant_dict_insert (d, "until", "x", until);
  g_variant_dict_insert (d, "columns", "^as", columns);
  g_variant_dict_insert_value (d, "rows", g_variant_builder_end (&rows));
  return g_variant_dict_end (d);
}
