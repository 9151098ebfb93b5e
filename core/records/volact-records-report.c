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
#define HOUR 3600
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

/* Appends to SQL (after UNION ALL if it holds some already) the rows (k, t, edition, req, act,
 * new) that count the client requests in [LO, HI), tagged K: whole hours from report_hours, the
 * partial hours at either end from the events themselves, so that any range is exact. */
static void
append_counts (GString *sql, GArray *params, int k, gint64 lo, gint64 hi)
{
  gint64 h1 = lo + (HOUR - lo % HOUR) % HOUR, h2 = hi - hi % HOUR;
  gint64 p[4];
  guint i = params->len;

  if (h1 >= h2) /* within one hour: all from the events */
    h1 = h2 = hi;
  p[0] = lo, p[1] = h1, p[2] = h2, p[3] = hi;
  g_array_append_vals (params, p, 4);
  /* An event is a new activation if it is its machine ID's first success on record. */
  g_string_append_printf (
      sql,
      "%sSELECT %d k, hour t, edition, requests req, activations act, new FROM report_hours"
      "  WHERE hour >= ?%u AND hour < ?%u"
      " UNION ALL SELECT %d, time, coalesce (edition, ''), 1, result = 0, result = 0 AND time = ("
      "  SELECT min (first) FROM report_machines m WHERE m.cmid = e.cmid) FROM events e"
      "  WHERE event = %u AND ((time >= ?%u AND time < ?%u) OR (time >= ?%u AND time < ?%u))",
      sql->len ? " UNION ALL " : "", k, i + 2, i + 3, k, VOLACT_EVENT_CLIENT_REQUEST, i + 1,
      i + 2, i + 3, i + 4);
}

/* Runs HEAD (counts' rows) TAIL over the requests of the ranges [LO[k], UNTIL). */
static gboolean
add_count_rows (VolactRecords *r, const char *head, const char *tail, const gint64 *lo,
                guint n_ranges, gint64 until, GVariantBuilder *rows, GError **error)
{
  g_autoptr (GString) counts = g_string_new (NULL);
  g_autoptr (GArray) params = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *sql = NULL;

  for (guint k = 0; k < n_ranges; k++)
    append_counts (counts, params, (int) k, lo[k], until);
  sql = g_strconcat (head, counts->str, tail, NULL);
  return add_rows (r, sql, (const gint64 *) (gpointer) params->data, params->len, rows, error);
}

/* 1. Activations (successful requests) per edition: today, 7, 30, 90 days, all kept. */
static gboolean
report_activation_count (VolactRecords *r, gint64 since, gint64 until, GVariantBuilder *rows,
                         GError **error)
{
  gint64 lo[] = { MAX (since, until - until % DAY), MAX (since, until - 7 * DAY),
                  MAX (since, until - 30 * DAY), MAX (since, until - 90 * DAY), since };
  /* Grouped by the stored edition first: one name lookup per edition. */
  return add_count_rows (r,
                         "SELECT " EDITION_EXPR " n, sum (a0), sum (a1), sum (a2), sum (a3),"
                         "  sum (a4) FROM ("
                         "  SELECT edition, sum (CASE k WHEN 0 THEN act ELSE 0 END) a0,"
                         "    sum (CASE k WHEN 1 THEN act ELSE 0 END) a1,"
                         "    sum (CASE k WHEN 2 THEN act ELSE 0 END) a2,"
                         "    sum (CASE k WHEN 3 THEN act ELSE 0 END) a3,"
                         "    sum (CASE k WHEN 4 THEN act ELSE 0 END) a4"
                         "  FROM (",
                         ") GROUP BY edition) e LEFT JOIN editions ed ON ed.id = e.edition "
                         "GROUP BY n HAVING sum (a4) > 0 ORDER BY n",
                         lo, G_N_ELEMENTS (lo), until, rows, error);
}

/* 2. Per day and edition: new activations (a CMID's first success on record), activations and
 * renewals (successful requests), and all requests. */
static gboolean
report_activity_history (VolactRecords *r, gint64 since, gint64 until, GVariantBuilder *rows,
                         GError **error)
{
  return add_count_rows (r,
                         "SELECT date (day * 86400, 'unixepoch'), " EDITION_EXPR " n, sum (new),"
                         "  sum (act), sum (req) FROM ("
                         "  SELECT t / 86400 day, edition, sum (new) new, sum (act) act,"
                         "    sum (req) req"
                         "  FROM (",
                         ") GROUP BY 1, 2) e LEFT JOIN editions ed ON ed.id = e.edition "
                         "GROUP BY day, n HAVING sum (req) > 0 ORDER BY day, n",
                         &since, 1, until, rows, error);
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
                   /* One pass over the clients, grouped by state, then joined to the list:
                    * joining the clients to each state scanned them once per state. */
                   "SELECT s.label, coalesce (x.n, 0),"
                   "  CASE WHEN s.state IN (0, 2, 3) AND x.n > 0 THEN max (0, x.lo / 86400) END,"
                   "  CASE WHEN s.state IN (0, 2, 3) AND x.n > 0 THEN max (0, x.hi / 86400) END "
                   "FROM s LEFT JOIN (SELECT c.state, count (*) n, min (" EXPIRY " - ?2) lo,"
                   "  max (" EXPIRY " - ?2) hi FROM clients c"
                   "  WHERE c.last_seen >= ?1 AND c.last_seen < ?2 GROUP BY c.state) x"
                   "  ON x.state = s.state "
                   "ORDER BY s.ord",
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

/* Whether no machine has a success at or after UNTIL, so that each one's latest success tells
 * whether it had one in a range ending at UNTIL. */
static gboolean
latest_before (VolactRecords *r, gint64 until, gboolean *before, GError **error)
{
  g_autoptr (sqlite3_stmt) st = NULL;

  if (sqlite3_prepare_v2 (r->rdb, "SELECT max (last) FROM report_machines", -1, &st, NULL)
          != SQLITE_OK
      || sqlite3_step (st) != SQLITE_ROW)
    return volact_records_db_fail (r->rdb, r->path, "cannot read the report summaries", error);
  *before = sqlite3_column_int64 (st, 0) < until;
  return TRUE;
}

/* 6. Distinct virtual and physical machines with a successful request in the past 14 days. */
static gboolean
report_vm_summary (VolactRecords *r, gint64 since, gint64 until, GVariantBuilder *rows,
                   GError **error)
{
  gint64 p[] = { MAX (since, until - 14 * DAY), until };
  gboolean fast = FALSE;

  if (!latest_before (r, until, &fast, error))
    return FALSE;
  if (fast) /* the usual case, until = now: one row per machine, edition and VM flag */
    return add_rows (r,
                     "SELECT " EDITION_EXPR " n, sum (v), sum (p) FROM ("
                     "  SELECT edition, sum (vm) v, sum (vm = 0) p FROM report_machines"
                     /* A row whose successes were all pruned: its last is before them all. */
                     "  WHERE last >= max (?1, (SELECT min (time) FROM events)) AND last < ?2"
                     "  GROUP BY edition) e "
                     "LEFT JOIN editions ed ON ed.id = e.edition GROUP BY n ORDER BY n",
                     p, G_N_ELEMENTS (p), rows, error);
  /* An --until in the past: the events of the 14 days themselves. */
  return add_rows (r,
                   "SELECT " EDITION_EXPR " n, sum (v), sum (p) FROM ("
                   "  SELECT coalesce (edition, '') edition,"
                   "    count (DISTINCT CASE WHEN flags & 1 THEN cmid END) v,"
                   "    count (DISTINCT CASE WHEN flags & 1 THEN NULL ELSE cmid END) p FROM events "
                   "  WHERE time >= ?1 AND time < ?2 AND event = :request AND result = 0 "
                   "  GROUP BY 1) e LEFT JOIN editions ed ON ed.id = e.edition "
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
  volact_records_catch_up (records);
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
