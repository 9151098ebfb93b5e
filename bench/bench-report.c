/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Times each of the six reports (docs/reports.md) over N client records
 * (default 1,000,000) and 30 days of their events (one request per machine
 * per week: 4 per machine). The store is filled with SQL straight into a
 * clients.db that volact_records_open created, as a version 1 store without the report
 * summaries, then reopened through the API, which builds them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "volact-records.h"

static gboolean
fill (const char *path, guint n, gint64 now)
{
  sqlite3 *db = NULL;
  char *msg = NULL;
  g_autofree char *sql = g_strdup_printf (
      /* A version 1 store (no report summaries): opening it runs the migration that builds
       * them from the events, which is timed too. */
      "BEGIN;"
      "DROP TRIGGER IF EXISTS report_request; DROP TRIGGER report_prune;"
      "DROP TABLE report_hours; DROP TABLE report_machines; PRAGMA user_version = 1;"
      "INSERT INTO pools VALUES (1, 'bench-pool', 30);"
      "INSERT INTO editions VALUES (1, 'server2008r2-standard'), (2, 'win7-enterprise'),"
      "  (3, 'vista-business'), (4, 'server2008-web');"
      "CREATE TEMP TABLE n (i INTEGER PRIMARY KEY);"
      "WITH RECURSIVE s (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < %u)"
      "  INSERT INTO n SELECT i FROM s;"
      /* Latest request within the last week; states: 70%% licensed, 10%% each of OOB
       * grace, OOT grace and notification; a third virtual. */
      "INSERT INTO clients SELECT 1, cast (printf ('%%016d', i) AS BLOB),"
      "  printf ('pc%%07d.corp.example.com', i), NULL, 1 + i %% 4, %" G_GINT64_FORMAT " - i %% 604800,"
      "  1 | (CASE WHEN i %% 3 = 0 THEN 2 ELSE 0 END),"
      "  CASE i %% 10 WHEN 0 THEN 0 WHEN 1 THEN 2 WHEN 2 THEN 4 ELSE 1 END, i %% 43200 FROM n;"
      "INSERT INTO events (time, event, pool, address, cmid, name, edition, state, minutes_left,"
      "  flags, minimum, count, result)"
      "  SELECT %" G_GINT64_FORMAT " - i %% 604800 - k * 604800, 12290, 1, x'0a000001',"
      "    cast (printf ('%%016d', i) AS BLOB), printf ('pc%%07d.corp.example.com', i), 1 + i %% 4,"
      "    CASE i %% 10 WHEN 0 THEN 0 WHEN 1 THEN 2 WHEN 2 THEN 4 ELSE 1 END, i %% 43200,"
      "    2 | (CASE WHEN i %% 3 = 0 THEN 1 ELSE 0 END), 5, 25,"
      "    CASE WHEN k = 3 AND i %% 50 = 0 THEN 3221549112 ELSE 0 END"
      "  FROM n, (SELECT 0 k UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3)"
      "  ORDER BY 1;"
      "COMMIT;",
      n, now, now);

  if (sqlite3_open (path, &db) != SQLITE_OK
      || sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    fprintf (stderr, "%s: %s\n", path, msg ? msg : sqlite3_errmsg (db));
    sqlite3_free (msg);
    sqlite3_close (db);
    return FALSE;
  }
  sqlite3_close (db);
  return TRUE;
}

int
main (int argc, char **argv)
{
  guint n = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 1000000;
  g_autofree char *dir = g_dir_make_tmp ("bench-report-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "clients.db", NULL);
  g_autoptr (GError) error = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC, t0;
  VolactRecords *records;
  int status = EXIT_SUCCESS;

  if (n == 0 || (records = volact_records_open (dir, G_MAXUINT32, &error)) == NULL) {
    fprintf (stderr, "usage: bench-report [N]: %s\n", error ? error->message : "N > 0");
    return EXIT_FAILURE;
  }
  volact_records_close (records);
  t0 = g_get_monotonic_time ();
  if (!fill (path, n, now))
    return EXIT_FAILURE;
  printf ("%u client records, %u events (30 days) in %s: filled in %.1f s\n", n, 4 * n, dir,
          (g_get_monotonic_time () - t0) / 1e6);
  t0 = g_get_monotonic_time ();
  records = volact_records_open (dir, G_MAXUINT32, &error);
  if (records == NULL) {
    fprintf (stderr, "%s\n", error->message);
    return EXIT_FAILURE;
  }
  printf ("  open (index load, summaries built from the events): %.2f s\n",
          (g_get_monotonic_time () - t0) / 1e6);
  for (const char *const *name = volact_records_report_names (); *name; name++) {
    g_autoptr (GVariant) t = NULL;
    g_autoptr (GVariant) rows = NULL;
    /* activity-history as `volactctl report` runs it: the last 30 days. */
    gint64 since = g_str_equal (*name, "activity-history") ? now - 30 * 86400 : 0;

    t0 = g_get_monotonic_time ();
    t = volact_records_report (records, *name, since, 0, &error);
    if (t == NULL) {
      fprintf (stderr, "%s: %s\n", *name, error->message);
      status = EXIT_FAILURE;
      break;
    }
    g_variant_ref_sink (t);
    rows = g_variant_lookup_value (t, "rows", NULL);
    printf ("  %-26s %8.3f s  %5" G_GSIZE_FORMAT " rows\n", *name,
            (g_get_monotonic_time () - t0) / 1e6, g_variant_n_children (rows));
  }
  volact_records_close (records);
  g_unlink (path);
  for (const char *ext = "-wal"; ext; ext = g_str_equal (ext, "-wal") ? "-shm" : NULL) {
    g_autofree char *p = g_strconcat (path, ext, NULL);
    g_unlink (p);
  }
  g_rmdir (dir);
  return status;
}
