/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The six activity reports (docs/reports.md) over a store filled with known requests. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <sqlite3.h>

#include "testutil.h"
#include "volact-error.h"
#include "volact-records.h"

#define DAY 86400
#define HOUR 3600
#define ED_A "server2008-standard"
#define ED_B "vista-enterprise"

typedef struct {
  char *dir;
  VolactRecords *records;
  gint64 until; /* the reports' "now": yesterday at noon UTC */
} Fixture;

/* One request: CMID N of EDITION at T, its reported state and minutes left; SUCCESS picks a
 * minimum count of 1 (activated) or one never reached (refused with "count too low"). */
static void
visit (Fixture *fx, guint n, const char *edition, gint64 t, gboolean vm, guint8 state,
       guint32 minutes_left, gboolean success)
{
  guint8 cmid[16] = { 0x5A, 0x01, 0x02, 0x03, 0x04, 0x05, 0x46, 0x07,
                      0x88, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, (guint8) n };
  g_autofree char *name = g_strdup_printf ("pc%u.corp.example.com", n);
  VolactVisit v = {
    .time = t, .pool = "reference-pool", .cmid = cmid, .name = name, .edition = edition,
    .address = "192.0.2.10", .virtual_machine = vm, .counts = TRUE, .state = state,
    .minutes_left = minutes_left, .retention_days = 30, .minimum_count = success ? 1 : 1000,
  };
  guint32 result = 1;
  guint64 ticket = 0;

  volact_records_count (fx->records, &v, &result, &ticket);
  assert_true (ticket > 0);
  assert_int_equal (result == 0, success);
}

/* The fleet every test reads (U = until):
 *   1  A physical  activated U-10d, renewed U-1h, licensed
 *   2  A virtual   activated U-2h, OOB grace, expires U+3d-1h
 *   3  B physical  refused U-3h, OOT grace, expires U+10d
 *   4  B physical  activated U-20d, notification */
static int
setup (void **state)
{
  Fixture *fx = g_new0 (Fixture, 1);
  g_autoptr (GError) error = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 u;

  fx->dir = test_tmpdir ();
  fx->records = volact_records_open (fx->dir, 0, &error);
  if (fx->records == NULL) {
    print_error ("cannot open the records: %s\n", error->message);
    return -1;
  }
  u = fx->until = now - now % DAY - DAY + 12 * HOUR;
  visit (fx, 4, ED_B, u - 20 * DAY, FALSE, 4, 0, TRUE);
  visit (fx, 1, ED_A, u - 10 * DAY, FALSE, 1, 0, TRUE);
  visit (fx, 3, ED_B, u - 3 * HOUR, FALSE, 2, (10 * DAY + 3 * HOUR) / 60, FALSE);
  visit (fx, 2, ED_A, u - 2 * HOUR, TRUE, 0, (3 * DAY + HOUR) / 60, TRUE);
  visit (fx, 1, ED_A, u - 1 * HOUR, FALSE, 1, 0, TRUE);
  assert_true (volact_records_flush (fx->records, 30000));
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *fx = *state;
  volact_records_close (fx->records);
  test_rmtree (fx->dir);
  g_free (fx->dir);
  g_free (fx);
  return 0;
}

/* The report NAME over [SINCE, until); must succeed. */
static GVariant *
report (Fixture *fx, const char *name, gint64 since)
{
  g_autoptr (GError) error = NULL;
  GVariant *t = volact_records_report (fx->records, name, since, fx->until, &error);
  if (t == NULL)
    fail_msg ("%s: %s", name, error->message);
  return g_variant_ref_sink (t);
}

/* The rows of T as text, one line each, cells joined by spaces: easy to compare. */
static char *
rows_text (GVariant *t)
{
  g_autoptr (GVariant) rows = g_variant_lookup_value (t, "rows", G_VARIANT_TYPE ("aav"));
  GString *s = g_string_new (NULL);

  assert_non_null (rows);
  for (gsize r = 0; r < g_variant_n_children (rows); r++) {
    g_autoptr (GVariant) row = g_variant_get_child_value (rows, r);
    for (gsize c = 0; c < g_variant_n_children (row); c++) {
      g_autoptr (GVariant) cell = g_variant_get_child_value (row, c);
      g_autoptr (GVariant) v = g_variant_get_variant (cell);
      if (c)
        g_string_append_c (s, ' ');
      if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64))
        g_string_append_printf (s, "%" G_GINT64_FORMAT, g_variant_get_int64 (v));
      else
        g_string_append (s, g_variant_get_string (v, NULL));
    }
    g_string_append_c (s, '\n');
  }
  return g_string_free (s, FALSE);
}

static char *
day (gint64 t)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (t);
  return g_date_time_format (dt, "%Y-%m-%d");
}

static void
test_activation_count (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GVariant) t = report (fx, "activation-count-summary", 0);
  g_autofree char *text = rows_text (t);
  const char *columns[] = { "edition", "today", "last_7_days", "last_30_days", "last_90_days", "all", NULL };
  g_autofree const char **got = NULL;

  assert_true (g_variant_lookup (t, "columns", "^a&s", &got));
  assert_true (g_strv_equal (got, columns));
  /* A: the renewal and the VM today, plus the first activation 10 days ago; the refusal is not one. */
  assert_string_equal (text, ED_A " 2 2 3 3 3\n" ED_B " 0 0 1 1 1\n");
}

static void
test_activity_history (void **state)
{
  Fixture *fx = *state;
  gint64 u = fx->until;
  g_autoptr (GVariant) t = report (fx, "activity-history", u - 30 * DAY);
  g_autofree char *text = rows_text (t);
  g_autofree char *d20 = day (u - 20 * DAY), *d10 = day (u - 10 * DAY), *d0 = day (u);
  g_autofree char *want = g_strdup_printf ("%s " ED_B " 1 1 1\n%s " ED_A " 1 1 1\n%s " ED_A
                                           " 1 2 2\n%s " ED_B " 0 0 1\n", d20, d10, d0, d0);
  g_autoptr (GVariant) t2 = report (fx, "activity-history", u - 5 * DAY);
  g_autofree char *text2 = rows_text (t2);
  g_autofree char *want2 = g_strdup_printf ("%s " ED_A " 1 2 2\n%s " ED_B " 0 0 1\n", d0, d0);

  assert_string_equal (text, want);
  /* From 5 days ago, CMID 1's renewal is still a renewal: its first activation on record is
   * 10 days old, before the range. Only CMID 2 is new. */
  assert_string_equal (text2, want2);
}

static void
test_licensing_status (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GVariant) t = report (fx, "licensing-status-summary", 0);
  g_autofree char *text = rows_text (t);

  /* Latest request per machine; days left: (3d - 1h) -> 2, 10d -> 10. */
  assert_string_equal (text, "Licensed 1  \nOOB grace 1 2 2\nOOT grace 1 10 10\n"
                             "Non-genuine grace 0  \nNotification 1  \nUnlicensed 0  \n");
}

static void
test_expiration (void **state)
{
  Fixture *fx = *state;
  gint64 u = fx->until;
  g_autoptr (GVariant) chart = report (fx, "machine-expiration-chart", 0);
  g_autoptr (GVariant) detail = report (fx, "machine-expiration-detail", 0);
  g_autoptr (GVariant) rows = g_variant_lookup_value (chart, "rows", G_VARIANT_TYPE ("aav"));
  g_autofree char *text = rows_text (chart);
  g_autofree char *d3 = day (u + 3 * DAY), *d10 = day (u + 10 * DAY), *d0 = day (u);
  g_autofree char *l3 = g_strdup_printf ("%s 1\n", d3), *l10 = g_strdup_printf ("%s 1\n", d10);
  g_autofree char *first = g_strdup_printf ("%s 0\n", d0);
  g_autofree char *dtext = rows_text (detail);
  g_autoptr (GDateTime) exp = g_date_time_new_from_unix_utc (u + 3 * DAY - HOUR);
  g_autofree char *exps = g_date_time_format (exp, "%Y-%m-%dT%H:%M:%SZ");
  g_autofree char *want = g_strdup_printf ("pc2.corp.example.com 5a010203-0405-4607-8809-0a0b0c0d0e02 "
                                           ED_A " OOB grace %s\n", exps);

  /* One row per day of the next 30, every day shown; the two grace machines on their days. */
  assert_int_equal (g_variant_n_children (rows), 30);
  assert_true (g_str_has_prefix (text, first));
  assert_non_null (strstr (text, l3));
  assert_non_null (strstr (text, l10));
  {
    guint ones = 0;
    for (const char *p = text; (p = strstr (p, " 1\n")) != NULL; p++)
      ones++;
    assert_int_equal (ones, 2);
  }
  /* Within 7 days: only the OOB machine. */
  assert_string_equal (dtext, want);
}

static void
test_vm_summary (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GVariant) t = report (fx, "vm-summary", 0);
  g_autofree char *text = rows_text (t);

  /* B's only activation is 20 days old and its refusal does not count. */
  assert_string_equal (text, ED_A " 1 1\n");
}

/* ---------------------------------------------------------------- the definitions */

/* The definitions of docs/reports.md as plain SQL over every event of the range (what the
 * reports computed before their summaries): the fast reports must give the same rows. ?1 since,
 * ?2 until, :request the request event; temp.firsts holds each machine ID's first success ever
 * sent. */
#define REF_EDITION "CASE WHEN typeof (e.edition) = 'text' THEN e.edition ELSE ed.name END"
static const char ref_count_sql[]
    = "SELECT " REF_EDITION " n, sum (a), sum (b), sum (c), sum (d), sum (t) FROM ("
      "  SELECT coalesce (edition, '') edition, sum (time >= ?3) a, sum (time >= ?4) b,"
      "    sum (time >= ?5) c, sum (time >= ?6) d, count (*) t FROM events "
      "  WHERE time >= ?1 AND time < ?2 AND event = :request AND result = 0 "
      "  GROUP BY 1) e LEFT JOIN editions ed ON ed.id = e.edition GROUP BY n ORDER BY n";
static const char ref_history_sql[]
    = "SELECT date (day * 86400, 'unixepoch'), " REF_EDITION " n, sum (new), sum (act), sum (req)"
      " FROM (SELECT time / 86400 day, coalesce (edition, '') edition, 0 new, sum (result = 0) act,"
      "    count (*) req FROM events WHERE time >= ?1 AND time < ?2 AND event = :request"
      "    GROUP BY 1, 2"
      "  UNION ALL SELECT e.time / 86400, coalesce (e.edition, ''), count (*), 0, 0 FROM events e"
      "    JOIN temp.firsts f ON f.cmid = e.cmid AND f.t = e.time"
      "    WHERE e.time >= ?1 AND e.time < ?2 AND e.event = :request AND e.result = 0"
      "    GROUP BY 1, 2) e"
      " LEFT JOIN editions ed ON ed.id = e.edition GROUP BY day, n ORDER BY day, n";
static const char ref_vm_sql[]
    = "SELECT " REF_EDITION " n, sum (v), sum (p) FROM ("
      "  SELECT coalesce (edition, '') edition,"
      "    count (DISTINCT CASE WHEN flags & 1 THEN cmid END) v,"
      "    count (DISTINCT CASE WHEN flags & 1 THEN NULL ELSE cmid END) p FROM events "
      "  WHERE time >= max (?1, ?2 - 14 * 86400) AND time < ?2 AND event = :request AND result = 0 "
      "  GROUP BY 1) e LEFT JOIN editions ed ON ed.id = e.edition GROUP BY n ORDER BY n";

/* The rows of SQL over DB, as rows_text gives them. */
static char *
ref_text (sqlite3 *db, const char *sql, gint64 since, gint64 until)
{
  gint64 p[] = { since, until, until - until % DAY, until - 7 * DAY, until - 30 * DAY,
                 until - 90 * DAY };
  sqlite3_stmt *st = NULL;
  GString *s = g_string_new (NULL);

  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    fail_msg ("%s", sqlite3_errmsg (db));
  for (int i = 1; i <= MIN (sqlite3_bind_parameter_count (st), (int) G_N_ELEMENTS (p)); i++)
    sqlite3_bind_int64 (st, i, MAX (since, p[i - 1]));
  sqlite3_bind_int64 (st, 2, until);
  sqlite3_bind_int (st, sqlite3_bind_parameter_index (st, ":request"), VOLACT_EVENT_CLIENT_REQUEST);
  while (sqlite3_step (st) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count (st); c++) {
      const char *v = (const char *) sqlite3_column_text (st, c);
      g_string_append_printf (s, "%s%s", c ? " " : "", v ? v : "");
    }
    g_string_append_c (s, '\n');
  }
  sqlite3_finalize (st);
  return g_string_free (s, FALSE);
}

/* Compares the three reports over events with the definitions, over ranges that start and end
 * inside hours and days, before and after the latest request. */
static void
assert_definitions (Fixture *fx, sqlite3 *db, gint64 until_latest)
{
  gint64 untils[] = { fx->until, until_latest, fx->until - 2 * DAY - 777, fx->until - 9 * DAY };
  gint64 sinces[] = { 0, 30 * DAY, 5 * DAY + 1234, 17 * DAY - 3599, 3 * HOUR + 17, 40 };
  struct {
    const char *name, *sql;
  } reports[] = { { "activation-count-summary", ref_count_sql },
                  { "activity-history", ref_history_sql },
                  { "vm-summary", ref_vm_sql } };
  guint compared = 0;

  assert_true (volact_records_flush (fx->records, 30000));
  for (gsize u = 0; u < G_N_ELEMENTS (untils); u++)
    for (gsize i = 0; i < G_N_ELEMENTS (sinces); i++)
      for (gsize r = 0; r < G_N_ELEMENTS (reports); r++) {
        gint64 since = sinces[i] ? untils[u] - sinces[i] : 0;
        g_autoptr (GError) error = NULL;
        g_autoptr (GVariant) t = volact_records_report (fx->records, reports[r].name, since,
                                                        untils[u], &error);
        g_autofree char *got = NULL, *want = NULL;

        if (t == NULL)
          fail_msg ("%s: %s", reports[r].name, error->message);
        g_variant_ref_sink (t);
        got = rows_text (t);
        want = ref_text (db, reports[r].sql, since, untils[u]);
        if (g_strcmp0 (got, want) != 0)
          fail_msg ("%s since %" G_GINT64_FORMAT " until %" G_GINT64_FORMAT ":\n%s!=\n%s",
                    reports[r].name, since, untils[u], got, want);
        compared += *want != '\0';
      }
  assert_true (compared >= 20); /* many ranges hold requests */
}

/* A connection to the store's database for the definitions, with temp.firsts: each machine ID
 * of the test's requests and the time of its first successful request (0 for none). */
static sqlite3 *
open_reference (Fixture *fx, const gint64 *firsts, guint n_machines)
{
  g_autofree char *path = g_build_filename (fx->dir, "clients.db", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;

  assert_int_equal (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
  assert_int_equal (sqlite3_exec (db, "CREATE TEMP TABLE firsts (cmid BLOB PRIMARY KEY, t)",
                                  NULL, NULL, NULL), SQLITE_OK);
  assert_int_equal (sqlite3_prepare_v2 (db, "INSERT INTO temp.firsts VALUES (?1, ?2)", -1, &st,
                                        NULL), SQLITE_OK);
  for (guint n = 1; n <= n_machines; n++) {
    guint8 cmid[16] = { 0x5A, 0x01, 0x02, 0x03, 0x04, 0x05, 0x46, 0x07,
                        0x88, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, (guint8) n };
    sqlite3_bind_blob (st, 1, cmid, 16, SQLITE_STATIC);
    sqlite3_bind_int64 (st, 2, firsts[n]);
    assert_int_equal (sqlite3_step (st), SQLITE_DONE);
    sqlite3_reset (st);
  }
  sqlite3_finalize (st);
  return db;
}

/* Replaces the fixture's store by an empty one with the event cap CAP. */
static void
reopen_empty (Fixture *fx, guint64 cap)
{
  g_autoptr (GError) error = NULL;

  volact_records_close (fx->records);
  test_rmtree (fx->dir);
  fx->records = volact_records_open (fx->dir, cap, &error);
  if (fx->records == NULL)
    fail_msg ("%s", error->message);
}

#define MACHINES 12
/* COUNT requests in time order over the 40 days before until, strictly increasing times that
 * start and end inside hours, by MACHINES machines (round robin when ROUND_ROBIN, else drawn):
 * three editions, a machine now and then changing edition or VM flag, a fifth refused. FIRSTS
 * gets each machine's first success. */
static void
fill_requests (Fixture *fx, guint count, gboolean round_robin, gint64 *firsts)
{
  static const char *const editions[] = { ED_A, ED_B, "win7-professional" };
  g_autoptr (GRand) rand = g_rand_new_with_seed (9);
  gint64 step = (40 * DAY - 2 * HOUR) / count;

  for (guint i = 0; i < count; i++) {
    guint n = round_robin ? 1 + i % MACHINES : (guint) g_rand_int_range (rand, 1, MACHINES + 1);
    gboolean odd = g_rand_int_range (rand, 0, 10) == 0;
    const char *edition = editions[(n + (odd ? 1 : 0)) % 3];
    gboolean vm = (n % 4 == 0) != (g_rand_int_range (rand, 0, 10) == 0);
    gboolean success = g_rand_int_range (rand, 0, 5) != 0;

    gint64 t = fx->until - 40 * DAY + i * step + 1 + g_rand_int_range (rand, 0, (gint32) step / 2);

    visit (fx, n, edition, t, vm, 1, 0, success);
    if (success && firsts[n] == 0)
      firsts[n] = t;
  }
}

/* 500 requests of 12 machines over 40 days: the fast reports agree with the definitions for
 * every range, including machines whose first success is before since, VMs and refusals. */
static void
test_definitions (void **state)
{
  Fixture *fx = *state;
  gint64 firsts[MACHINES + 1] = { 0 };
  sqlite3 *db;

  reopen_empty (fx, 0);
  fill_requests (fx, 500, FALSE, firsts);
  db = open_reference (fx, firsts, MACHINES);
  assert_definitions (fx, db, fx->until + DAY);
  sqlite3_close (db);
}

/* Same on a store whose size cap pruned the oldest events while they were written: the
 * summaries lose what the events lost, and a machine whose first success was pruned is not
 * new again. */
static void
test_definitions_pruned (void **state)
{
  Fixture *fx = *state;
  gint64 firsts[MACHINES + 1] = { 0 };
  sqlite3 *db;
  sqlite3_stmt *st = NULL;

  /* A cap of about 100 events (110 bytes each at least). */
  reopen_empty (fx, 110 * 100);
  fill_requests (fx, 600, TRUE, firsts);
  assert_true (volact_records_flush (fx->records, 30000));
  db = open_reference (fx, firsts, MACHINES);
  assert_int_equal (sqlite3_prepare_v2 (db, "SELECT count (*), min (time) FROM events", -1, &st,
                                        NULL), SQLITE_OK);
  assert_int_equal (sqlite3_step (st), SQLITE_ROW);
  assert_true (sqlite3_column_int (st, 0) < 200);              /* pruned */
  assert_true (sqlite3_column_int64 (st, 1) > fx->until - 20 * DAY); /* the oldest went */
  sqlite3_finalize (st);
  assert_definitions (fx, db, fx->until + DAY);
  sqlite3_close (db);
}

/* 150 machines activating once each, a minute apart, every request committed alone under a cap
 * of about 100 events: each prune cuts through an hour, whose counts and new activations must
 * lose exactly the pruned first successes, and whose machines leave report_machines. */
static void
test_pruned_within_hour (void **state)
{
  Fixture *fx = *state;
  gint64 firsts[256] = { 0 };
  sqlite3 *db;

  reopen_empty (fx, 110 * 100);
  for (guint i = 0; i < 150; i++) {
    gint64 t = fx->until - 2 * DAY + 61 * i;
    visit (fx, 20 + i, i % 2 ? ED_A : ED_B, t, i % 3 == 0, 1, 0, i % 7 != 0);
    assert_true (volact_records_flush (fx->records, 30000));
    firsts[20 + i] = i % 7 != 0 ? t : 0;
  }
  db = open_reference (fx, firsts, 20 + 149);
  assert_definitions (fx, db, fx->until + DAY);
  sqlite3_close (db);
}

/* A version 1 store (no summaries), created with that version's SQL: opening it builds them
 * from its events, and the reports then count both the old requests and new ones. */
static void
test_migration (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (fx->dir, "clients.db", NULL);
  g_autofree char *sql = NULL;
  gint64 u = fx->until, firsts[8] = { 0 };
  sqlite3 *db = NULL;

  volact_records_close (fx->records);
  fx->records = NULL;
  test_rmtree (fx->dir);
  assert_int_equal (g_mkdir_with_parents (fx->dir, 0700), 0);
  /* Machine 5: first success 20 days ago as a VM, renewed 2 days ago; refused once today;
   * machine 6 (edition stored as text): refused, then activated 3 hours ago. */
  sql = g_strdup_printf (
      "CREATE TABLE pools (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
      "  retention_days INTEGER NOT NULL);"
      "CREATE TABLE editions (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
      "CREATE TABLE clients (pool INTEGER NOT NULL, cmid BLOB NOT NULL, name TEXT NOT NULL,"
      "  other_name TEXT, edition, last_seen INTEGER NOT NULL, flags INTEGER NOT NULL,"
      "  state INTEGER NOT NULL, minutes_left INTEGER NOT NULL,"
      "  PRIMARY KEY (pool, cmid)) WITHOUT ROWID;"
      "CREATE TABLE events (id INTEGER PRIMARY KEY, time INTEGER NOT NULL, event INTEGER NOT NULL,"
      "  pool INTEGER, address, cmid BLOB, name TEXT, edition, state INTEGER,"
      "  minutes_left INTEGER, flags INTEGER, minimum INTEGER, count INTEGER, result INTEGER,"
      "  message TEXT);"
      "CREATE INDEX events_time ON events (time);"
      "INSERT INTO pools VALUES (1, 'reference-pool', 30);"
      "INSERT INTO editions VALUES (1, '" ED_A "');"
      "INSERT INTO events (time, event, pool, cmid, name, edition, state, minutes_left, flags,"
      "  minimum, count, result) VALUES"
      "  (%" G_GINT64_FORMAT ", %u, 1, x'5A0102030405460788090A0B0C0D0E05', 'pc5', 1, 1, 0, 3,"
      "   1, 1, 0),"
      "  (%" G_GINT64_FORMAT ", %u, 1, x'5A0102030405460788090A0B0C0D0E05', 'pc5', 1, 1, 0, 3,"
      "   1, 1, 0),"
      "  (%" G_GINT64_FORMAT ", %u, 1, x'5A0102030405460788090A0B0C0D0E06', 'pc6', '" ED_B "',"
      "   1, 0, 0, 1000, 1, 3221549112),"
      "  (%" G_GINT64_FORMAT ", %u, 1, x'5A0102030405460788090A0B0C0D0E06', 'pc6', '" ED_B "',"
      "   1, 0, 2, 1, 2, 0),"
      "  (%" G_GINT64_FORMAT ", %u, 1, x'5A0102030405460788090A0B0C0D0E05', 'pc5', 1, 1, 0, 1,"
      "   1000, 2, 3221549112);"
      "PRAGMA user_version = 1;",
      u - 20 * DAY, VOLACT_EVENT_CLIENT_REQUEST, u - 2 * DAY, VOLACT_EVENT_CLIENT_REQUEST,
      u - 4 * HOUR, VOLACT_EVENT_CLIENT_REQUEST, u - 3 * HOUR, VOLACT_EVENT_CLIENT_REQUEST,
      u - 1 * HOUR, VOLACT_EVENT_CLIENT_REQUEST);
  assert_int_equal (sqlite3_open (path, &db), SQLITE_OK);
  assert_int_equal (sqlite3_exec (db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close (db);

  fx->records = volact_records_open (fx->dir, 0, &error);
  assert_non_null (fx->records);
  {
    g_autoptr (GVariant) count = report (fx, "activation-count-summary", 0);
    g_autoptr (GVariant) vms = report (fx, "vm-summary", 0);
    g_autoptr (GVariant) history = report (fx, "activity-history", u - 30 * DAY);
    g_autofree char *c = rows_text (count), *v = rows_text (vms), *h = rows_text (history);
    g_autofree char *d20 = day (u - 20 * DAY), *d2 = day (u - 2 * DAY), *d0 = day (u);
    g_autofree char *want_h = g_strdup_printf ("%s " ED_A " 1 1 1\n%s " ED_A " 0 1 1\n%s " ED_A
                                               " 0 0 1\n%s " ED_B " 1 1 2\n", d20, d2, d0, d0);

    assert_string_equal (c, ED_A " 0 1 2 2 2\n" ED_B " 1 1 1 1 1\n");
    assert_string_equal (v, ED_A " 1 0\n" ED_B " 0 1\n");
    assert_string_equal (h, want_h);
  }
  /* The migrated store keeps its summaries up to date and agrees with the definitions. */
  visit (fx, 5, ED_A, u - 30 * 60, FALSE, 1, 0, TRUE);
  visit (fx, 7, ED_B, u - 20 * 60, TRUE, 1, 0, TRUE);
  firsts[5] = u - 20 * DAY, firsts[6] = u - 3 * HOUR, firsts[7] = u - 20 * 60;
  db = open_reference (fx, firsts, 7);
  assert_definitions (fx, db, fx->until + DAY);
  {
    sqlite3_stmt *st = NULL;
    assert_int_equal (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal (sqlite3_step (st), SQLITE_ROW);
    assert_int_equal (sqlite3_column_int (st, 0), 4);
    sqlite3_finalize (st);
  }
  sqlite3_close (db);
}

/* A version 2 store (summaries kept by a trigger per event, with that version's SQL): opening
 * it drops the trigger, keeps the summaries, and the writer keeps them up to date itself
 * (counted once, not twice). */
static void
test_migration_v2 (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (fx->dir, "clients.db", NULL);
  g_autofree char *trigger = g_strdup_printf (
      "CREATE TRIGGER report_request AFTER INSERT ON events WHEN NEW.event = %u BEGIN"
      "  INSERT INTO report_hours VALUES (NEW.time - NEW.time %% 3600, coalesce (NEW.edition, ''),"
      "    1, NEW.result = 0, NEW.result = 0 AND NEW.cmid IS NOT NULL AND NOT EXISTS ("
      "      SELECT 1 FROM report_machines WHERE cmid = NEW.cmid))"
      "    ON CONFLICT (hour, edition) DO UPDATE SET requests = requests + 1,"
      "      activations = activations + excluded.activations, new = new + excluded.new;"
      "  INSERT INTO report_machines SELECT NEW.cmid, coalesce (NEW.edition, ''), NEW.flags & 1,"
      "    NEW.time, NEW.time WHERE NEW.result = 0 AND NEW.cmid IS NOT NULL"
      "    ON CONFLICT (cmid, edition, vm) DO UPDATE SET first = min (first, excluded.first),"
      "      last = max (last, excluded.last);"
      "END; PRAGMA user_version = 2;",
      VOLACT_EVENT_CLIENT_REQUEST);
  gint64 firsts[MACHINES + 1] = { 0 };
  sqlite3_stmt *st = NULL;
  sqlite3 *db = NULL;

  reopen_empty (fx, 0);
  fill_requests (fx, 300, FALSE, firsts);
  volact_records_close (fx->records);
  fx->records = NULL;
  assert_int_equal (sqlite3_open (path, &db), SQLITE_OK);
  assert_int_equal (sqlite3_exec (db, trigger, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close (db);

  fx->records = volact_records_open (fx->dir, 0, &error);
  assert_non_null (fx->records);
  for (guint n = 1; n <= MACHINES; n++) {
    gint64 t = fx->until - 30 * 60 + (gint64) n;
    visit (fx, n, n % 2 ? ED_A : ED_B, t, n % 3 == 0, 1, 0, n % 5 != 0);
    if (n % 5 != 0 && firsts[n] == 0)
      firsts[n] = t;
  }
  db = open_reference (fx, firsts, MACHINES);
  assert_definitions (fx, db, fx->until + DAY);
  assert_int_equal (sqlite3_prepare_v2 (db,
                                        "SELECT (SELECT user_version FROM pragma_user_version),"
                                        "  (SELECT count (*) FROM sqlite_master WHERE type ="
                                        "   'trigger' AND name = 'report_request')",
                                        -1, &st, NULL),
                    SQLITE_OK);
  assert_int_equal (sqlite3_step (st), SQLITE_ROW);
  assert_int_equal (sqlite3_column_int (st, 0), 4);
  assert_int_equal (sqlite3_column_int (st, 1), 0);
  sqlite3_finalize (st);
  sqlite3_close (db);
}

static void
test_unknown (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GError) error = NULL;

  assert_null (volact_records_report (fx->records, "kms-summary", 0, 0, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_FAILED));
  assert_non_null (strstr (error->message, "kms-summary"));
  for (const char *const *n = volact_records_report_names (); *n; n++)
    assert_non_null (strstr (error->message, *n));
  assert_int_equal (g_strv_length ((char **) volact_records_report_names ()), 6);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_activation_count, setup, teardown),
    cmocka_unit_test_setup_teardown (test_activity_history, setup, teardown),
    cmocka_unit_test_setup_teardown (test_licensing_status, setup, teardown),
    cmocka_unit_test_setup_teardown (test_expiration, setup, teardown),
    cmocka_unit_test_setup_teardown (test_vm_summary, setup, teardown),
    cmocka_unit_test_setup_teardown (test_definitions, setup, teardown),
    cmocka_unit_test_setup_teardown (test_definitions_pruned, setup, teardown),
    cmocka_unit_test_setup_teardown (test_pruned_within_hour, setup, teardown),
    cmocka_unit_test_setup_teardown (test_migration_v2, setup, teardown),
    cmocka_unit_test_setup_teardown (test_migration, setup, teardown),
    cmocka_unit_test_setup_teardown (test_unknown, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
