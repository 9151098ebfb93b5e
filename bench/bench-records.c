/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Benchmark of the client records (core/records/): inserts N
 * distinct CMIDs (100,000 and 1,000,000 by default) and prints the cost of
 * volact_records_count (new CMIDs, then renewals), the writer's throughput,
 * the on-disk bytes per event (dbstat, before and after VACUUM) and the
 * process RSS. Built with `make bench/bench-records`; not part of make check.
 *
 *   bench/bench-records [--dir DIR] [--keep] [--cap BYTES] [N...]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "volact-records.h"

#define POOL "bench-pool"
#define CHUNK 4096

typedef struct {
  guint8 cmid[16];
  char name[48];
  char address[24];
  VolactVisit v;
} BenchVisit;

static guint64
splitmix (guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* Client I: a random-looking version-4 UUID, an FQDN and an IPv4 address. */
static void
visit_for (BenchVisit *bv, guint i, gint64 now, guint64 seed)
{
  guint64 s = seed ^ ((guint64) i << 20);
  guint64 a = splitmix (&s), b = splitmix (&s);

  memcpy (bv->cmid, &a, 8);
  memcpy (bv->cmid + 8, &b, 8);
  bv->cmid[6] = (guint8) ((bv->cmid[6] & 0x0F) | 0x40);
  bv->cmid[8] = (guint8) ((bv->cmid[8] & 0x3F) | 0x80);
  g_snprintf (bv->name, sizeof bv->name, "pc%07u.corp.example.com", i);
  g_snprintf (bv->address, sizeof bv->address, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255,
              i & 255);
  bv->v = (VolactVisit){
    .time = now,
    .pool = POOL,
    .cmid = bv->cmid,
    .name = bv->name,
    .edition = (i % 5) ? "vista-enterprise" : "server2008-standard",
    .address = bv->address,
    .virtual_machine = (i % 7) == 0,
    .counts = TRUE,
    .state = (guint8) (i % 6),
    .minutes_left = 43200 - (i % 43200),
    .retention_days = 30,
    .minimum_count = (i % 5) ? 25 : 5,
  };
}

static long
status_kb (const char *key)
{
  g_autofree char *text = NULL;
  const char *p;

  if (!g_file_get_contents ("/proc/self/status", &text, NULL, NULL))
    return -1;
  p = strstr (text, key);
  if (p == NULL)
    return -1;
  return strtol (p + strlen (key) + 1, NULL, 10);
}

/* Counts visits FIRST..LAST; returns ns spent inside volact_records_count
 * (HOST_BUSY retries wait for the writer outside the timed part). */
static double
run_counts (VolactRecords *records, guint first, guint last, gint64 now, guint64 seed,
            guint *busy_waits)
{
  double ns = 0;
  guint i = first;

  while (i <= last) {
    guint end = MIN (last, i + CHUNK - 1);
    gboolean busy = FALSE;
    BenchVisit bv;
    gint64 t0, t1;

    /* Build the visits outside the timed loop would need memory for all;
     * building one costs ~60 ns (two snprintf) and is subtracted below. */
    t0 = g_get_monotonic_time ();
    for (; i <= end; i++) {
      guint32 result;
      guint64 ticket;
      visit_for (&bv, i, now, seed);
      volact_records_count (records, &bv.v, &result, &ticket);
      if (result == VOLACT_RECORDS_HOST_BUSY) {
        busy = TRUE;
        break;
      }
    }
    t1 = g_get_monotonic_time ();
    ns += (double) (t1 - t0) * 1000.0;
    if (busy) {
      (*busy_waits)++;
      volact_records_flush (records, 600000);
    }
  }
  return ns;
}

static double
visit_build_ns (guint n, gint64 now, guint64 seed)
{
  gint64 t0 = g_get_monotonic_time ();
  volatile guint8 sink = 0;
  BenchVisit bv;

  for (guint i = 1; i <= n; i++) {
    visit_for (&bv, i, now, seed);
    sink ^= bv.cmid[0];
  }
  (void) sink;
  return (double) (g_get_monotonic_time () - t0) * 1000.0 / n;
}

/* Takes (ON) or releases the database's write lock from another connection. */
static void
hold_write_lock (const char *dir, gboolean on)
{
  static sqlite3 *db;

  if (on) {
    g_autofree char *path = g_build_filename (dir, "clients.db", NULL);
    sqlite3_open (path, &db);
    sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  } else {
    sqlite3_exec (db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close (db);
    db = NULL;
  }
}

static gint64
query_int (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *s = NULL;
  gint64 v = -1;

  if (sqlite3_prepare_v2 (db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step (s) == SQLITE_ROW)
    v = sqlite3_column_int64 (s, 0);
  sqlite3_finalize (s);
  return v;
}

static void
measure_disk (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "clients.db", NULL);
  sqlite3 *db = NULL;
  gint64 events, clients, ev_bytes, cl_bytes;
  struct stat st;

  if (sqlite3_open (path, &db) != SQLITE_OK) {
    fprintf (stderr, "cannot open %s\n", path);
    return;
  }
  events = query_int (db, "SELECT count(*) FROM events");
  clients = query_int (db, "SELECT count(*) FROM clients");
  for (int pass = 0; pass < 2; pass++) {
    ev_bytes = query_int (db, "SELECT sum(pgsize) FROM dbstat WHERE name IN ('events', "
                              "'events_time')");
    cl_bytes = query_int (db, "SELECT sum(pgsize) FROM dbstat WHERE name = 'clients'");
    g_stat (path, &st);
    printf ("  disk %-13s events %" G_GINT64_FORMAT ": %.1f bytes/event (table %.1f + time index "
            "%.1f); clients %" G_GINT64_FORMAT ": %.1f bytes/record; file %.1f MiB\n",
            pass ? "after VACUUM" : "as written", events, (double) ev_bytes / events,
            (double) query_int (db, "SELECT sum(pgsize) FROM dbstat WHERE name = 'events'")
                / events,
            (double) query_int (db, "SELECT sum(pgsize) FROM dbstat WHERE name = 'events_time'")
                / events,
            clients, (double) cl_bytes / clients, st.st_size / 1048576.0);
    if (pass == 0 && sqlite3_exec (db, "VACUUM", NULL, NULL, NULL) != SQLITE_OK)
      break;
  }
  sqlite3_close (db);
}

static void
run (const char *base, guint n, guint64 cap, gboolean keep)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  VolactRecords *records;
  VolactRecordsStats st;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  guint64 seed = g_random_int ();
  guint busy = 0, m;
  double ns_new, ns_renew, build, ns_pool, ns_idle;
  gint64 t0, t_flush;

  dir = g_strdup_printf ("%s/records-%u", base, n);
  g_mkdir_with_parents (dir, 0700);
  records = volact_records_open (dir, cap, &error);
  if (records == NULL) {
    fprintf (stderr, "%s\n", error->message);
    exit (1);
  }
  printf ("%u distinct CMIDs in %s\n", n, dir);
  printf ("  RSS before: %ld kB\n", status_kb ("VmRSS:"));
  build = visit_build_ns (MIN (n, 100000), now, seed);

  /* The hot path alone, CMIDs 1..M: another connection holds the write
   * lock, so the writer sleeps in SQLite's busy wait (5 s) while they queue. */
  m = MIN (n, 50000);
  hold_write_lock (dir, TRUE);
  ns_idle = run_counts (records, 1, m, now, seed, &busy);
  hold_write_lock (dir, FALSE);
  volact_records_flush (records, 600000);
  printf ("  count, new CMID, writer idle (CMIDs 1..%u): %.0f ns per volact_records_count\n", m,
          ns_idle / m - build);

  /* The rest while the writer commits concurrently (as in volactd). */
  t0 = g_get_monotonic_time ();
  ns_new = m < n ? run_counts (records, m + 1, n, now, seed, &busy) : 0;
  volact_records_flush (records, 600000);
  t_flush = g_get_monotonic_time () - t0;
  volact_records_get_stats (records, &st);
  if (m < n) {
    printf ("  count, new CMID, writer busy (CMIDs %u..%u): %.0f ns per volact_records_count (%.0f "
            "ns with building the visit; %u waits for the writer at %u uncommitted)\n",
            m + 1, n, ns_new / (n - m) - build, ns_new / (n - m), busy, VOLACT_RECORDS_QUEUE_MAX);
    printf ("  writer: %u visits committed in %.2f s = %.0f visits/s (2 SQL rows each)\n", n - m,
            t_flush / 1e6, (n - m) / (t_flush / 1e6));
  }
  printf ("  index: %" G_GSIZE_FORMAT " records, %.1f MiB table (%.0f bytes/record)\n", st.records,
          st.index_bytes / 1048576.0, (double) st.index_bytes / st.records);
  printf ("  RSS after %u: %ld kB (peak %ld kB)\n", n, status_kb ("VmRSS:"), status_kb ("VmHWM:"));

  /* Renewals of known CMIDs (no count change), the writer idle... */
  hold_write_lock (dir, TRUE);
  t0 = g_get_monotonic_time ();
  for (guint k = 0; k < m; k++) {
    BenchVisit bv;
    guint32 result;
    guint64 ticket;
    visit_for (&bv, 1 + (guint) (((guint64) k * 7919u) % n), now + 1800, seed);
    volact_records_count (records, &bv.v, &result, &ticket);
  }
  ns_idle = (double) (g_get_monotonic_time () - t0) * 1000.0;
  hold_write_lock (dir, FALSE);
  volact_records_flush (records, 600000);
  printf ("  count, known CMID, writer idle (%u random): %.0f ns per volact_records_count\n", m,
          ns_idle / m - build);

  /* ...and all of them an hour later with the writer busy. */
  busy = 0;
  ns_renew = run_counts (records, 1, n, now + 3600, seed, &busy);
  volact_records_flush (records, 600000);
  printf ("  count, known CMID, writer busy (all %u): %.0f ns per volact_records_count\n", n,
          ns_renew / n - build);
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < 1000000; i++)
    volact_records_pool_count_at (records, POOL, 30, now + 3600);
  ns_pool = (double) (g_get_monotonic_time () - t0) * 1000.0 / 1000000;
  printf ("  pool_count: %.0f ns; count %u\n", ns_pool,
          volact_records_pool_count_at (records, POOL, 30, now + 3600));
  printf ("  RSS after renewals: %ld kB (peak %ld kB)\n", status_kb ("VmRSS:"),
          status_kb ("VmHWM:"));

  t0 = g_get_monotonic_time ();
  volact_records_close (records);
  printf ("  close: %.2f s\n", (g_get_monotonic_time () - t0) / 1e6);
  t0 = g_get_monotonic_time ();
  records = volact_records_open (dir, cap, &error);
  if (records == NULL) {
    fprintf (stderr, "%s\n", error->message);
    exit (1);
  }
  printf ("  reopen (load %u records): %.2f s, count %u\n", n, (g_get_monotonic_time () - t0) / 1e6,
          volact_records_pool_count_at (records, POOL, 30, now + 3600));
  volact_records_close (records);
  measure_disk (dir);
  if (!keep) {
    g_autofree char *db = g_build_filename (dir, "clients.db", NULL);
    g_unlink (db);
    g_rmdir (dir);
  }
}

int
main (int argc, char **argv)
{
  g_autofree char *dir = NULL;
  gboolean made_dir = FALSE;
  gboolean keep = FALSE;
  gint64 cap = 1024LL * 1024 * 1024;
  g_auto (GStrv) sizes = NULL;
  GOptionEntry entries[] = {
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "Folder for the databases", "DIR" },
    { "keep", 0, 0, G_OPTION_ARG_NONE, &keep, "Keep the databases", NULL },
    { "cap", 0, 0, G_OPTION_ARG_INT64, &cap, "Event cap in bytes (default 1 GiB)", "BYTES" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &sizes, NULL, "N..." },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("[N...] - benchmark client records");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "%s\n", error->message);
    return 2;
  }
  if (dir == NULL) {
    dir = g_dir_make_tmp ("bench-records-XXXXXX", NULL);
    made_dir = TRUE;
  }
  if (sizes == NULL) {
    run (dir, 100000, (guint64) cap, keep);
    run (dir, 1000000, (guint64) cap, keep);
  } else {
    for (char **s = sizes; *s; s++)
      run (dir, (guint) g_ascii_strtoull (*s, NULL, 10), (guint64) cap, keep);
  }
  if (made_dir && !keep)
    g_rmdir (dir);
  return 0;
}
