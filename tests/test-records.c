/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Client records: counting, expiry, durability, commit reports, duplicates, events, size cap,
 * clock changes. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "testutil.h"
#include "volact-error.h"
#include "volact-records.h"
#include "volact-records-index.h"
#include "volact-records-private.h"

#define DAY 86400
#define POOL "reference-pool"
#define CLIENT_MIN 25
#define SERVER_MIN 5

typedef struct {
  char *dir;
  VolactRecords *records;
  gint64 t0; /* "now" for the test's visits */
} Fixture;

static int
setup (void **state)
{
  Fixture *fx = g_new0 (Fixture, 1);
  g_autoptr (GError) error = NULL;

  fx->dir = test_tmpdir ();
  fx->records = volact_records_open (fx->dir, 0, &error);
  if (fx->records == NULL) {
    print_error ("cannot open the records: %s\n", error->message);
    return -1;
  }
  fx->t0 = g_get_real_time () / G_USEC_PER_SEC;
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

static void
reopen (Fixture *fx, guint64 cap)
{
  g_autoptr (GError) error = NULL;

  volact_records_close (fx->records);
  fx->records = volact_records_open (fx->dir, cap, &error);
  if (fx->records == NULL)
    fail_msg ("cannot reopen: %s", error->message);
}

/* A distinct CMID for N (and a pattern that is not all zeros). */
static void
cmid_for (guint n, guint8 cmid[16])
{
  for (int i = 0; i < 16; i++)
    cmid[i] = (guint8) (0xA5 ^ (i * 17));
  cmid[12] = (guint8) (n >> 24);
  cmid[13] = (guint8) (n >> 16);
  cmid[14] = (guint8) (n >> 8);
  cmid[15] = (guint8) n;
}

typedef struct {
  guint8 cmid[16];
  char name[64];
  VolactVisit v;
} TestVisit;

static VolactVisit *
visit_init (TestVisit *tv, guint n, gint64 time, guint minimum)
{
  cmid_for (n, tv->cmid);
  g_snprintf (tv->name, sizeof tv->name, "pc%05u.corp.example.com", n);
  tv->v = (VolactVisit){
    .time = time,
    .pool = POOL,
    .cmid = tv->cmid,
    .name = tv->name,
    .edition = minimum == SERVER_MIN ? "server2008-standard" : "vista-enterprise",
    .address = "192.0.2.10",
    .virtual_machine = FALSE,
    .counts = TRUE,
    .state = 0,
    .minutes_left = 43200,
    .retention_days = 30,
    .minimum_count = minimum,
  };
  return &tv->v;
}

static guint
count_visit (Fixture *fx, guint n, gint64 time, guint minimum, guint32 *result)
{
  TestVisit tv;
  guint32 res = 1;
  guint64 ticket = 0;
  guint count
      = volact_records_count (fx->records, visit_init (&tv, n, time, minimum), &res, &ticket);
  assert_true (ticket > 0);
  if (result)
    *result = res;
  return count;
}

static void
flush (Fixture *fx)
{
  assert_true (volact_records_flush (fx->records, 30000));
}

/* The queries, which must succeed here (floating results, like the API's). */
static GVariant *
query_clients (Fixture *fx, gboolean duplicates_only, guint limit)
{
  g_autoptr (GError) error = NULL;
  GVariant *rows = volact_records_clients (fx->records, duplicates_only, limit, NULL, &error);
  if (rows == NULL)
    fail_msg ("clients: %s", error->message);
  return rows;
}

static GVariant *
query_events (Fixture *fx, gint64 since, guint limit)
{
  g_autoptr (GError) error = NULL;
  GVariant *rows = volact_records_events (fx->records, since, limit, NULL, &error);
  if (rows == NULL)
    fail_msg ("events: %s", error->message);
  return rows;
}

static GVariant *
lookup_row (GVariant *rows, const char *key, const char *value)
{
  for (gsize i = 0; i < g_variant_n_children (rows); i++) {
    g_autoptr (GVariant) row = g_variant_get_child_value (rows, i);
    const char *s = NULL;
    if (g_variant_lookup (row, key, "&s", &s) && g_strcmp0 (s, value) == 0)
      return g_steal_pointer (&row);
  }
  return NULL;
}

/* --- counting --- */

/* The seed's example: 3 clients + 2 servers in one pool give 5; the servers activate. */
static void
test_seed_example (void **state)
{
  Fixture *fx = *state;
  guint32 result;

  for (guint i = 1; i <= 3; i++) {
    assert_int_equal (count_visit (fx, i, fx->t0, CLIENT_MIN, &result), i);
    assert_int_equal (result, (guint32) VOLACT_E_COUNT_INSUFFICIENT);
  }
  assert_int_equal (count_visit (fx, 4, fx->t0, SERVER_MIN, &result), 4);
  assert_int_equal (result, (guint32) VOLACT_E_COUNT_INSUFFICIENT);
  assert_int_equal (count_visit (fx, 5, fx->t0, SERVER_MIN, &result), 5);
  assert_int_equal (result, 0);
  /* Renewals: the servers stay licensed, the clients still wait for 25. */
  assert_int_equal (count_visit (fx, 4, fx->t0 + 60, SERVER_MIN, &result), 5);
  assert_int_equal (result, 0);
  assert_int_equal (count_visit (fx, 1, fx->t0 + 60, CLIENT_MIN, &result), 5);
  assert_int_equal (result, (guint32) VOLACT_E_COUNT_INSUFFICIENT);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, fx->t0 + 60), 5);
  assert_int_equal (volact_records_pool_count (fx->records, POOL, 30), 5);
  assert_int_equal (volact_records_pool_count (fx->records, "other-pool", 30), 0);
}

static void
test_repeat_does_not_count (void **state)
{
  Fixture *fx = *state;

  for (guint i = 0; i < 50; i++)
    assert_int_equal (count_visit (fx, 7, fx->t0 + i * 7200, CLIENT_MIN, NULL), 1);
  assert_int_equal (count_visit (fx, 8, fx->t0 + 50 * 7200, CLIENT_MIN, NULL), 2);
  assert_int_equal (count_visit (fx, 7, fx->t0 + 51 * 7200, CLIENT_MIN, NULL), 2);
}

static void
test_thousand (void **state)
{
  Fixture *fx = *state;
  guint32 result = 1;

  for (guint i = 1; i <= 1000; i++) {
    assert_int_equal (count_visit (fx, i, fx->t0, CLIENT_MIN, &result), i);
    assert_int_equal (result, i >= CLIENT_MIN ? 0 : (guint32) VOLACT_E_COUNT_INSUFFICIENT);
  }
  for (guint i = 1; i <= 1000; i += 37)
    assert_int_equal (count_visit (fx, i, fx->t0 + 1, CLIENT_MIN, NULL), 1000);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, fx->t0 + 1), 1000);
  /* Another pool counts apart, for the same CMIDs. */
  for (guint i = 1; i <= 10; i++) {
    TestVisit tv;
    guint32 r;
    guint64 ticket;
    visit_init (&tv, i, fx->t0, SERVER_MIN);
    tv.v.pool = "office-pool";
    assert_int_equal (volact_records_count (fx->records, &tv.v, &r, &ticket), i);
  }
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, fx->t0 + 1), 1000);
}

/* counts=FALSE (a VM where the policy ignores VMs): recorded, never counted.
 * Counting follows the latest visit. */
static void
test_vm_not_counted (void **state)
{
  Fixture *fx = *state;
  TestVisit tv;
  guint32 result;
  guint64 ticket;

  for (guint i = 1; i <= 4; i++)
    count_visit (fx, i, fx->t0, SERVER_MIN, NULL);
  visit_init (&tv, 100, fx->t0 + 1, SERVER_MIN);
  tv.v.virtual_machine = TRUE;
  tv.v.counts = FALSE;
  for (int k = 0; k < 3; k++) {
    assert_int_equal (volact_records_count (fx->records, &tv.v, &result, &ticket), 4);
    assert_int_equal (result, (guint32) VOLACT_E_COUNT_INSUFFICIENT);
    assert_true (ticket > 0);
  }
  /* A VM where VMs count (counts=TRUE) is counted like any machine. */
  visit_init (&tv, 101, fx->t0 + 2, SERVER_MIN);
  tv.v.virtual_machine = TRUE;
  assert_int_equal (volact_records_count (fx->records, &tv.v, &result, &ticket), 5);
  assert_int_equal (result, 0);
  /* A counted CMID that comes back as an ignored VM stops counting... */
  visit_init (&tv, 1, fx->t0 + 3, SERVER_MIN);
  tv.v.virtual_machine = TRUE;
  tv.v.counts = FALSE;
  assert_int_equal (volact_records_count (fx->records, &tv.v, &result, &ticket), 4);
  /* ...and counts again as a physical machine; the ignored VM 100 likewise. */
  assert_int_equal (count_visit (fx, 1, fx->t0 + 4, SERVER_MIN, NULL), 5);
  assert_int_equal (count_visit (fx, 100, fx->t0 + 5, SERVER_MIN, NULL), 6);

  /* The ignored visits are recorded all the same. */
  flush (fx);
  {
    g_autoptr (GVariant) events = query_events (fx, 0, 0);
    guint uncounted = 0;
    g_variant_ref_sink (events);
    for (gsize i = 0; i < g_variant_n_children (events); i++) {
      g_autoptr (GVariant) row = g_variant_get_child_value (events, i);
      gboolean counted = TRUE, vm = FALSE;
      g_variant_lookup (row, "counted", "b", &counted);
      g_variant_lookup (row, "vm", "b", &vm);
      if (!counted) {
        assert_true (vm);
        uncounted++;
      }
    }
    assert_int_equal (uncounted, 4);
  }
}

/* Records live exactly retention_days * 86400 seconds. */
static void
test_expiry (void **state)
{
  Fixture *fx = *state;
  gint64 t = fx->t0;

  for (guint i = 1; i <= 10; i++)
    count_visit (fx, i, t, CLIENT_MIN, NULL);
  for (guint i = 11; i <= 15; i++)
    count_visit (fx, i, t + DAY, CLIENT_MIN, NULL);
  /* Renewed on day 20: lives until day 50. */
  count_visit (fx, 1, t + 20 * DAY, CLIENT_MIN, NULL);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, t + 30 * DAY - 1), 15);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, t + 30 * DAY), 6);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, t + 31 * DAY - 1), 6);
  /* A visit 31 days later sees the count drop: only CMID 1 and itself. */
  assert_int_equal (count_visit (fx, 16, t + 31 * DAY, CLIENT_MIN, NULL), 2);
  /* An expired CMID comes back as new. */
  assert_int_equal (count_visit (fx, 2, t + 31 * DAY, CLIENT_MIN, NULL), 3);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, t + 50 * DAY), 2);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, t + 61 * DAY), 0);

  /* Gone from clients.db too, not only from memory. */
  flush (fx);
  {
    g_autoptr (GVariant) clients
        = g_variant_ref_sink (query_clients (fx, FALSE, 0));
    assert_int_equal (g_variant_n_children (clients), 0);
  }
  reopen (fx, 0);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, t + 61 * DAY), 0);
}

/* A shorter retention (from the pool's policy) applies at once. */
static void
test_retention_days (void **state)
{
  Fixture *fx = *state;
  TestVisit tv;
  guint32 r;
  guint64 ticket;

  for (guint i = 1; i <= 3; i++) {
    visit_init (&tv, i, fx->t0, CLIENT_MIN);
    tv.v.retention_days = 7;
    volact_records_count (fx->records, &tv.v, &r, &ticket);
  }
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 7, fx->t0 + 7 * DAY - 1), 3);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 7, fx->t0 + 7 * DAY), 0);
}

/* Counts, names and flags survive close and reopen exactly. */
static void
test_reopen (void **state)
{
  Fixture *fx = *state;
  TestVisit tv;
  guint32 r;
  guint64 ticket;

  for (guint i = 1; i <= 300; i++)
    count_visit (fx, i, fx->t0 - (300 - i), CLIENT_MIN, NULL);
  for (guint i = 1; i <= 20; i++) {
    visit_init (&tv, 1000 + i, fx->t0, SERVER_MIN);
    tv.v.virtual_machine = TRUE;
    tv.v.counts = FALSE;
    volact_records_count (fx->records, &tv.v, &r, &ticket);
  }
  for (guint i = 1; i <= 40; i++) {
    visit_init (&tv, i, fx->t0, SERVER_MIN);
    tv.v.pool = "office-pool";
    volact_records_count (fx->records, &tv.v, &r, &ticket);
  }
  assert_int_equal (volact_records_pool_count (fx->records, POOL, 30), 300);

  reopen (fx, 0);
  assert_int_equal (volact_records_pool_count (fx->records, POOL, 30), 300);
  assert_int_equal (volact_records_pool_count (fx->records, "office-pool", 30), 40);
  /* Known CMIDs stay known, the ignored VMs stay uncounted... */
  assert_int_equal (count_visit (fx, 150, fx->t0 + 10, CLIENT_MIN, NULL), 300);
  visit_init (&tv, 1005, fx->t0 + 10, SERVER_MIN);
  tv.v.virtual_machine = TRUE;
  tv.v.counts = FALSE;
  assert_int_equal (volact_records_count (fx->records, &tv.v, &r, &ticket), 300);
  /* ...and a new one still counts. */
  assert_int_equal (count_visit (fx, 301, fx->t0 + 10, CLIENT_MIN, NULL), 301);

  /* close commits what is queued: nothing acknowledged is lost. */
  reopen (fx, 0);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, fx->t0 + 10), 301);
  assert_int_equal (volact_records_pool_count_at (fx->records, "office-pool", 30, fx->t0 + 10), 40);
  /* Expiry follows the loaded last-seen times: CMIDs 1..100 (seen at
   * t0-299..t0-200) go first; 150 was renewed. */
  assert_int_equal (
      volact_records_pool_count_at (fx->records, POOL, 30, fx->t0 - 200 + 30 * DAY - 1), 301 - 99);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, fx->t0 - 200 + 30 * DAY),
                    301 - 100);
}

/* --- commit reports --- */

typedef struct {
  guint64 highest;
  guint calls;
  guint64 want;
  GMainLoop *loop;
} CommitState;

static void
on_commit (guint64 ticket, gpointer user_data)
{
  CommitState *cs = user_data;

  assert_true (ticket > cs->highest); /* reports only grow */
  cs->highest = ticket;
  cs->calls++;
  if (cs->highest >= cs->want)
    g_main_loop_quit (cs->loop);
}

static gboolean
on_timeout (gpointer user_data)
{
  CommitState *cs = user_data;
  g_main_loop_quit (cs->loop);
  return G_SOURCE_REMOVE;
}

static void
test_on_commit (void **state)
{
  Fixture *fx = *state;
  CommitState cs = { 0 };
  guint64 last = 0;
  guint timeout;

  cs.loop = g_main_loop_new (NULL, FALSE);
  volact_records_on_commit (fx->records, on_commit, &cs);
  for (guint i = 1; i <= 5000; i++) {
    TestVisit tv;
    guint32 r;
    guint64 ticket = 0;
    volact_records_count (fx->records, visit_init (&tv, i, fx->t0, CLIENT_MIN), &r, &ticket);
    assert_true (ticket > last); /* tickets grow with every row */
    last = ticket;
  }
  volact_records_host_event (fx->records, VOLACT_EVENT_RELOAD, "test reload");
  {
    VolactRecordsStats st;
    volact_records_get_stats (fx->records, &st);
    cs.want = st.last_ticket;
    assert_true (cs.want > last);
  }
  timeout = g_timeout_add_seconds (30, on_timeout, &cs);
  g_main_loop_run (cs.loop);
  g_source_remove (timeout);
  assert_true (cs.highest >= cs.want);
  assert_true (cs.calls >= 1);
  {
    VolactRecordsStats st;
    volact_records_get_stats (fx->records, &st);
    assert_true (st.committed_ticket >= cs.want);
    assert_int_equal (st.queued, 0);
  }
  volact_records_on_commit (fx->records, NULL, NULL);
  g_main_loop_unref (cs.loop);
}

/* Back-pressure: while clients.db cannot be written, the journal takes rows
 * up to its bound, then the queue stops at its bound with HOST_BUSY and
 * nothing changes; afterwards everything goes into clients.db. */
static void
test_busy (void **state)
{
  Fixture *fx = *state;
  g_autofree char *path = g_build_filename (fx->dir, "clients.db", NULL);
  sqlite3 *db = NULL;
  guint accepted = 0, busy = 0, last_count = 0;

  /* Another connection holds the write lock (within the writer's 5 s busy wait). */
  assert_int_equal (sqlite3_open (path, &db), SQLITE_OK);
  assert_int_equal (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
  /* Besides the queue, the journal holds rows clients.db has not taken: up to
   * VOLACT_RECORDS_UNAPPLIED_MAX and what the writer took at once with the last
   * of them (at most the queue). */
  for (guint i = 1; i <= 2 * VOLACT_RECORDS_QUEUE_MAX + VOLACT_RECORDS_UNAPPLIED_MAX + 10000; i++) {
    TestVisit tv;
    guint32 r;
    guint64 ticket;
    guint count
        = volact_records_count (fx->records, visit_init (&tv, i, fx->t0, CLIENT_MIN), &r, &ticket);
    if (r == VOLACT_RECORDS_HOST_BUSY) {
      assert_int_equal (ticket, 0);
      assert_int_equal (count, last_count); /* unchanged */
      busy++;
    } else {
      assert_true (ticket > 0);
      last_count = count;
      accepted++;
    }
  }
  assert_true (busy >= 10000);
  assert_true (accepted >= VOLACT_RECORDS_QUEUE_MAX - 10);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, fx->t0), accepted);
  assert_int_equal (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close (db);
  flush (fx);
  reopen (fx, 0);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, fx->t0), accepted);
}

/* --- duplicates --- */

typedef struct {
  GMutex lock;
  GPtrArray *warnings;
} LogCapture;

static void
capture_log (const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer user_data)
{
  LogCapture *cap = user_data;
  g_mutex_lock (&cap->lock);
  g_ptr_array_add (cap->warnings, g_strdup (message));
  g_mutex_unlock (&cap->lock);
}

static guint
count_warnings (LogCapture *cap, const char *needle)
{
  guint n = 0;
  g_mutex_lock (&cap->lock);
  for (guint i = 0; i < cap->warnings->len; i++)
    if (strstr (g_ptr_array_index (cap->warnings, i), needle) != NULL)
      n++;
  g_mutex_unlock (&cap->lock);
  return n;
}

static void
test_duplicates (void **state)
{
  Fixture *fx = *state;
  LogCapture cap;
  TestVisit tv;
  guint32 r;
  guint64 ticket;
  char uuid[37];
  guint handler;

  g_mutex_init (&cap.lock);
  cap.warnings = g_ptr_array_new_with_free_func (g_free);
  handler = g_log_set_handler (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, capture_log, &cap);

  /* CMID 1: a clone of CMID 1's image named "clone-b" (not generalised). */
  visit_init (&tv, 1, fx->t0, CLIENT_MIN);
  g_strlcpy (tv.name, "clone-a.corp.example.com", sizeof tv.name);
  volact_records_count (fx->records, &tv.v, &r, &ticket);
  /* Same name in another case, or no name: not a duplicate. */
  g_strlcpy (tv.name, "CLONE-A.corp.example.com", sizeof tv.name);
  volact_records_count (fx->records, &tv.v, &r, &ticket);
  g_strlcpy (tv.name, "", sizeof tv.name);
  volact_records_count (fx->records, &tv.v, &r, &ticket);
  g_strlcpy (tv.name, "clone-a.corp.example.com", sizeof tv.name);
  volact_records_count (fx->records, &tv.v, &r, &ticket);
  flush (fx);
  {
    g_autoptr (GVariant) dups = g_variant_ref_sink (query_clients (fx, TRUE, 0));
    assert_int_equal (g_variant_n_children (dups), 0);
  }
  g_strlcpy (tv.name, "clone-b.corp.example.com", sizeof tv.name);
  assert_int_equal (volact_records_count (fx->records, &tv.v, &r, &ticket), 1); /* still one */
  /* The two clones keep alternating: one warning, not one per renewal. */
  g_strlcpy (tv.name, "clone-a.corp.example.com", sizeof tv.name);
  volact_records_count (fx->records, &tv.v, &r, &ticket);
  g_strlcpy (tv.name, "clone-b.corp.example.com", sizeof tv.name);
  volact_records_count (fx->records, &tv.v, &r, &ticket);
  /* Another, unrelated machine. */
  count_visit (fx, 2, fx->t0, CLIENT_MIN, NULL);
  flush (fx);

  cmid_for (1, tv.cmid);
  volact_records_format_cmid (tv.cmid, uuid);
  {
    g_autoptr (GVariant) dups = g_variant_ref_sink (query_clients (fx, TRUE, 0));
    g_autoptr (GVariant) row = NULL;
    const char *name = NULL, *other = NULL;
    gboolean dup = FALSE;
    assert_int_equal (g_variant_n_children (dups), 1);
    row = g_variant_get_child_value (dups, 0);
    assert_true (g_variant_lookup (row, "cmid", "&s", &name));
    assert_string_equal (name, uuid);
    assert_true (g_variant_lookup (row, "name", "&s", &name));
    assert_true (g_variant_lookup (row, "other_name", "&s", &other));
    assert_string_equal (name, "clone-b.corp.example.com");
    assert_string_equal (other, "clone-a.corp.example.com");
    assert_true (g_variant_lookup (row, "duplicate", "b", &dup) && dup);
  }
  {
    g_autoptr (GVariant) all = g_variant_ref_sink (query_clients (fx, FALSE, 0));
    assert_int_equal (g_variant_n_children (all), 2);
  }
  assert_int_equal (count_warnings (&cap, uuid), 1);
  assert_int_equal (count_warnings (&cap, "clone-a.corp.example.com"), 1);
  assert_int_equal (count_warnings (&cap, "clone-b.corp.example.com"), 1);
  /* ...and a host event 1009 names the CMID and both names. */
  {
    g_autoptr (GVariant) events = g_variant_ref_sink (query_events (fx, 0, 0));
    guint n = 0;
    for (gsize i = 0; i < g_variant_n_children (events); i++) {
      g_autoptr (GVariant) row = g_variant_get_child_value (events, i);
      guint32 id = 0;
      const char *msg = NULL;
      g_variant_lookup (row, "event", "u", &id);
      if (id != VOLACT_EVENT_DUPLICATE_CMID)
        continue;
      n++;
      assert_true (g_variant_lookup (row, "message", "&s", &msg));
      assert_non_null (strstr (msg, uuid));
      assert_non_null (strstr (msg, "clone-a.corp.example.com"));
      assert_non_null (strstr (msg, "clone-b.corp.example.com"));
    }
    assert_int_equal (n, 1);
  }
  /* The flag and both names survive a restart; a third name warns again. */
  reopen (fx, 0);
  g_strlcpy (tv.name, "clone-c.corp.example.com", sizeof tv.name);
  volact_records_count (fx->records, &tv.v, &r, &ticket);
  flush (fx);
  assert_int_equal (count_warnings (&cap, uuid), 2);
  {
    g_autoptr (GVariant) dups = g_variant_ref_sink (query_clients (fx, TRUE, 0));
    g_autoptr (GVariant) row = lookup_row (dups, "cmid", uuid);
    const char *other = NULL;
    assert_non_null (row);
    assert_true (g_variant_lookup (row, "other_name", "&s", &other));
    assert_string_equal (other, "clone-b.corp.example.com");
  }
  g_log_remove_handler (G_LOG_DOMAIN, handler);
  g_ptr_array_unref (cap.warnings);
  g_mutex_clear (&cap.lock);
}

/* --- events --- */

static void
test_events (void **state)
{
  Fixture *fx = *state;
  TestVisit tv;
  guint32 r;
  guint64 ticket;
  char uuid[37];

  visit_init (&tv, 42, fx->t0, SERVER_MIN);
  tv.v.address = "2001:db8::42";
  tv.v.virtual_machine = TRUE;
  tv.v.state = 2;
  tv.v.minutes_left = 12345;
  assert_int_equal (volact_records_count (fx->records, &tv.v, &r, &ticket), 1);
  /* A refusal before counting: an edition no plugin knows, no pool. */
  visit_init (&tv, 43, fx->t0, 0);
  tv.v.pool = NULL;
  tv.v.edition = "no-such-edition";
  tv.v.address = "::ffff:198.51.100.7";
  volact_records_log_refusal (fx->records, &tv.v, (guint32) VOLACT_E_EDITION_UNKNOWN, &ticket);
  assert_true (ticket > 0);
  volact_records_host_event (fx->records, VOLACT_EVENT_KEY_INSTALLED, "host key installed");
  volact_records_host_event (NULL, VOLACT_EVENT_HOST_START, "no store: not stored");
  flush (fx);

  g_autoptr (GVariant) events = g_variant_ref_sink (query_events (fx, 0, 0));
  assert_int_equal (g_variant_n_children (events), 3);
  {
    g_autoptr (GVariant) row = g_variant_get_child_value (events, 0);
    const char *s;
    guint32 u;
    gint64 x;
    guint64 id;
    gboolean b;
    cmid_for (42, tv.cmid);
    volact_records_format_cmid (tv.cmid, uuid);
    assert_true (g_variant_lookup (row, "id", "t", &id));
    assert_true (g_variant_lookup (row, "time", "x", &x) && x == fx->t0);
    assert_true (g_variant_lookup (row, "event", "u", &u) && u == 12290);
    assert_true (g_variant_lookup (row, "address", "&s", &s));
    assert_string_equal (s, "2001:db8::42");
    assert_true (g_variant_lookup (row, "cmid", "&s", &s));
    assert_string_equal (s, uuid);
    assert_true (g_variant_lookup (row, "name", "&s", &s));
    assert_string_equal (s, "pc00042.corp.example.com");
    assert_true (g_variant_lookup (row, "edition", "&s", &s));
    assert_string_equal (s, "server2008-standard");
    assert_true (g_variant_lookup (row, "pool", "&s", &s));
    assert_string_equal (s, POOL);
    assert_true (g_variant_lookup (row, "state", "u", &u) && u == 2);
    assert_true (g_variant_lookup (row, "minutes_left", "u", &u) && u == 12345);
    assert_true (g_variant_lookup (row, "vm", "b", &b) && b);
    assert_true (g_variant_lookup (row, "minimum", "u", &u) && u == SERVER_MIN);
    assert_true (g_variant_lookup (row, "count", "u", &u) && u == 1);
    assert_true (g_variant_lookup (row, "result", "u", &u)
                 && u == (guint32) VOLACT_E_COUNT_INSUFFICIENT);
    assert_false (g_variant_lookup (row, "message", "&s", &s));
  }
  {
    g_autoptr (GVariant) row = g_variant_get_child_value (events, 1);
    const char *s;
    guint32 u;
    assert_true (g_variant_lookup (row, "address", "&s", &s));
    assert_string_equal (s, "198.51.100.7");
    assert_true (g_variant_lookup (row, "edition", "&s", &s));
    assert_string_equal (s, "no-such-edition");
    assert_false (g_variant_lookup (row, "pool", "&s", &s));
    assert_true (g_variant_lookup (row, "result", "u", &u)
                 && u == (guint32) VOLACT_E_EDITION_UNKNOWN);
  }
  {
    g_autoptr (GVariant) row = g_variant_get_child_value (events, 2);
    const char *s;
    guint32 u;
    assert_true (g_variant_lookup (row, "event", "u", &u) && u == VOLACT_EVENT_KEY_INSTALLED);
    assert_true (g_variant_lookup (row, "message", "&s", &s));
    assert_string_equal (s, "host key installed");
    assert_false (g_variant_lookup (row, "cmid", "&s", &s));
  }
  /* since and limit */
  {
    g_autoptr (GVariant) later
        = g_variant_ref_sink (query_events (fx, fx->t0 + 100000, 0));
    g_autoptr (GVariant) one = g_variant_ref_sink (query_events (fx, 0, 1));
    assert_int_equal (g_variant_n_children (later), 0);
    assert_int_equal (g_variant_n_children (one), 1);
  }
}

/* Odd input is stored safely: invalid UTF-8, long names, address forms. */
static void
test_odd_input (void **state)
{
  Fixture *fx = *state;
  static const struct {
    const char *given, *shown;
  } addresses[] = {
    { "[2001:db8::1]:1688", "2001:db8::1" },
    { "192.0.2.1:1688", "192.0.2.1" },
    { "local-socket", "local-socket" },
    { "", NULL },
  };
  char long_name[400];
  TestVisit tv;
  guint32 r;
  guint64 ticket;

  memset (long_name, 'x', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  for (gsize i = 0; i < G_N_ELEMENTS (addresses); i++) {
    visit_init (&tv, (guint) i + 1, fx->t0, CLIENT_MIN);
    tv.v.address = addresses[i].given;
    volact_records_count (fx->records, &tv.v, &r, &ticket);
  }
  visit_init (&tv, 10, fx->t0, CLIENT_MIN);
  tv.v.name = "bad\xff\xfename";
  volact_records_count (fx->records, &tv.v, &r, &ticket);
  visit_init (&tv, 11, fx->t0, CLIENT_MIN);
  tv.v.name = long_name;
  volact_records_count (fx->records, &tv.v, &r, &ticket);
  flush (fx);

  g_autoptr (GVariant) events = g_variant_ref_sink (query_events (fx, 0, 0));
  assert_int_equal (g_variant_n_children (events), G_N_ELEMENTS (addresses) + 2);
  for (gsize i = 0; i < G_N_ELEMENTS (addresses); i++) {
    g_autoptr (GVariant) row = g_variant_get_child_value (events, i);
    const char *s = NULL;
    if (addresses[i].shown == NULL) {
      assert_false (g_variant_lookup (row, "address", "&s", &s));
    } else {
      assert_true (g_variant_lookup (row, "address", "&s", &s));
      assert_string_equal (s, addresses[i].shown);
    }
  }
  {
    g_autoptr (GVariant) bad = g_variant_get_child_value (events, G_N_ELEMENTS (addresses));
    g_autoptr (GVariant) lng = g_variant_get_child_value (events, G_N_ELEMENTS (addresses) + 1);
    const char *s = NULL;
    assert_true (g_variant_lookup (bad, "name", "&s", &s));
    assert_true (g_utf8_validate (s, -1, NULL));
    assert_non_null (strstr (s, "name"));
    assert_true (g_variant_lookup (lng, "name", "&s", &s));
    assert_int_equal (strlen (s), 255);
  }
}

/* Many records expiring at once; a pool's retention changing on the way. */
static void
test_mass_expiry (void **state)
{
  Fixture *fx = *state;
  TestVisit tv;
  guint32 r;
  guint64 ticket;

  for (guint i = 1; i <= 3000; i++)
    count_visit (fx, i, fx->t0, CLIENT_MIN, NULL);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, fx->t0 + 30 * DAY), 0);
  flush (fx);
  {
    g_autoptr (GVariant) clients
        = g_variant_ref_sink (query_clients (fx, FALSE, 0));
    assert_int_equal (g_variant_n_children (clients), 0);
  }
  /* The policy shortens retention to 7 days: the next visit applies it, and
   * a restart remembers it. */
  for (guint i = 1; i <= 5; i++)
    count_visit (fx, i, fx->t0 + 30 * DAY, CLIENT_MIN, NULL);
  visit_init (&tv, 6, fx->t0 + 36 * DAY, CLIENT_MIN);
  tv.v.retention_days = 7;
  assert_int_equal (volact_records_count (fx->records, &tv.v, &r, &ticket), 6);
  visit_init (&tv, 7, fx->t0 + 37 * DAY, CLIENT_MIN);
  tv.v.retention_days = 7;
  assert_int_equal (volact_records_count (fx->records, &tv.v, &r, &ticket), 2);
  flush (fx);
  {
    g_autofree char *path = g_build_filename (fx->dir, "clients.db", NULL);
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    assert_int_equal (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal (sqlite3_prepare_v2 (db, "SELECT retention_days FROM pools WHERE name = ?1",
                                          -1, &stmt, NULL),
                      SQLITE_OK);
    sqlite3_bind_text (stmt, 1, POOL, -1, SQLITE_STATIC);
    assert_int_equal (sqlite3_step (stmt), SQLITE_ROW);
    assert_int_equal (sqlite3_column_int (stmt, 0), 7);
    sqlite3_finalize (stmt);
    sqlite3_close (db);
  }
}

/* The size cap deletes the oldest events. */
static void
test_event_cap (void **state)
{
  Fixture *fx = *state;
  const guint64 cap = 64 * 1024;
  VolactRecordsStats st;
  guint64 first_id = 0;
  gint64 first_time = 0;

  reopen (fx, cap);
  for (guint i = 1; i <= 5000; i++) {
    count_visit (fx, i, fx->t0 + i, CLIENT_MIN, NULL);
    if (i % 500 == 0)
      flush (fx);
  }
  flush (fx);
  volact_records_get_stats (fx->records, &st);
  assert_true (st.event_cap_bytes == cap);
  assert_true ((double) st.events * st.bytes_per_event <= (double) cap);
  assert_true (st.events > 100);

  g_autoptr (GVariant) events = g_variant_ref_sink (query_events (fx, 0, 0));
  assert_int_equal (g_variant_n_children (events), st.events);
  {
    g_autoptr (GVariant) first = g_variant_get_child_value (events, 0);
    g_autoptr (GVariant) last
        = g_variant_get_child_value (events, g_variant_n_children (events) - 1);
    gint64 x = 0;
    assert_true (g_variant_lookup (first, "id", "t", &first_id));
    assert_true (g_variant_lookup (first, "time", "x", &first_time));
    assert_true (first_id > 1);
    assert_true (first_time > fx->t0 + 1);
    assert_true (g_variant_lookup (last, "time", "x", &x) && x == fx->t0 + 5000);
  }
  /* The counts are untouched by the event cap. */
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, fx->t0 + 5000), 5000);
}

static void
test_file_mode (void **state)
{
  Fixture *fx = *state;
  g_autofree char *path = g_build_filename (fx->dir, "clients.db", NULL);
  g_autofree char *wal = g_build_filename (fx->dir, "clients.db-wal", NULL);
  struct stat st;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  count_visit (fx, 1, fx->t0, CLIENT_MIN, NULL);
  flush (fx);
  assert_int_equal (g_stat (path, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0600);
  assert_int_equal (g_stat (wal, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0600);

  assert_int_equal (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  assert_int_equal (sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
  assert_int_equal (sqlite3_step (stmt), SQLITE_ROW);
  assert_string_equal ((const char *) sqlite3_column_text (stmt, 0), "wal");
  sqlite3_finalize (stmt);
  assert_int_equal (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &stmt, NULL), SQLITE_OK);
  assert_int_equal (sqlite3_step (stmt), SQLITE_ROW);
  assert_int_equal (sqlite3_column_int (stmt, 0), 4);
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  /* An existing, too open file is made private again. */
  volact_records_close (fx->records);
  fx->records = NULL;
  assert_int_equal (g_chmod (path, 0644), 0);
  reopen (fx, 0);
  assert_int_equal (g_stat (path, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0600);
}

/* The index against a plain model: random inserts, touches, counted flips
 * and expiries over several pools, with resizes and backward-shift deletes
 * on the way; expiry from the list head must find exactly the model's set. */
typedef struct {
  guint32 seen;
  gboolean counted;
} ModelEntry;

static void
test_index_model (void **state)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (0x766F6C61u);
  g_autoptr (GHashTable) model
      = g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref, g_free);
  VolactIndex *index = volact_index_new (0);
  guint32 now = 1000000;
  const guint n_pools = 3;

  for (guint step = 0; step < 200000; step++) {
    guint8 key[17];
    guint pool = 1 + (guint) g_rand_int_range (rand, 0, n_pools);
    guint id = (guint) g_rand_int_range (rand, 0, 20000);
    g_autoptr (GBytes) k = NULL;
    ModelEntry *m;
    VolactIndexEntry *e;
    guint32 seen;

    /* Time mostly moves forward, sometimes back a little. */
    now += (guint32) g_rand_int_range (rand, 0, 3);
    seen = now;
    if (g_rand_int_range (rand, 0, 50) == 0)
      seen -= (guint32) g_rand_int_range (rand, 0, 40);
    else if (g_rand_int_range (rand, 0, 500) == 0)
      seen -= 2000; /* far back: past more than 64 newer records */
    key[0] = (guint8) pool;
    cmid_for (id, key + 1);
    k = g_bytes_new (key, sizeof key);
    m = g_hash_table_lookup (model, k);
    e = volact_index_lookup (index, pool, key + 1);
    assert_true ((m == NULL) == (e == NULL));
    if (e == NULL) {
      gboolean counted = g_rand_int_range (rand, 0, 4) != 0;
      e = volact_index_insert (index, pool, key + 1, &seen, counted ? VOLACT_INDEX_COUNTED : 0);
      m = g_new (ModelEntry, 1);
      m->seen = seen;
      m->counted = counted;
      g_hash_table_insert (model, g_bytes_ref (k), m);
    } else {
      volact_index_touch (index, e, &seen);
      assert_true (seen >= m->seen);
      m->seen = seen;
      m->counted = g_rand_int_range (rand, 0, 4) != 0;
      volact_index_set_counted (index, e, m->counted);
    }
    assert_int_equal (e->last_seen, m->seen);

    if (step % 997 == 0) {
      guint32 cutoff = now - (guint32) g_rand_int_range (rand, 0, 3000);
      guint expect_gone = 0, expect_counted = 0, expect_size = 0, gone;
      GHashTableIter it;
      gpointer kp, vp;

      g_hash_table_iter_init (&it, model);
      while (g_hash_table_iter_next (&it, &kp, &vp)) {
        const guint8 *kb = g_bytes_get_data (kp, NULL);
        ModelEntry *me = vp;
        if (kb[0] != pool)
          continue;
        if (me->seen <= cutoff) {
          expect_gone++;
          g_hash_table_iter_remove (&it);
        } else {
          expect_size++;
          expect_counted += me->counted;
        }
      }
      gone = volact_index_expire (index, pool, cutoff, NULL, NULL);
      assert_int_equal (gone, expect_gone);
      assert_int_equal (volact_index_pool_size (index, pool), expect_size);
      assert_int_equal (volact_index_pool_count (index, pool), expect_counted);
    }
  }
  /* Every model entry is found with its time and flag; nothing else is. */
  {
    GHashTableIter it;
    gpointer kp, vp;
    guint counted[4] = { 0 };
    g_hash_table_iter_init (&it, model);
    while (g_hash_table_iter_next (&it, &kp, &vp)) {
      const guint8 *kb = g_bytes_get_data (kp, NULL);
      ModelEntry *me = vp;
      VolactIndexEntry *e = volact_index_lookup (index, kb[0], kb + 1);
      assert_non_null (e);
      assert_int_equal (e->last_seen, me->seen);
      assert_int_equal (!!(e->flags & VOLACT_INDEX_COUNTED), me->counted);
      counted[kb[0]] += me->counted;
    }
    assert_int_equal (volact_index_size (index), g_hash_table_size (model));
    for (guint p = 1; p <= n_pools; p++)
      assert_int_equal (volact_index_pool_count (index, p), counted[p]);
  }
  volact_index_free (index);
}

/* Child mode (test_kill9): counts CMIDs 1, 2, ... and prints how many are
 * acknowledged (committed) after each flush, until it is killed. */
static int
child_writer (const char *dir)
{
  g_autoptr (GError) error = NULL;
  VolactRecords *records = volact_records_open (dir, 0, &error);
  gint64 t0 = g_get_real_time () / G_USEC_PER_SEC;

  if (records == NULL) {
    fprintf (stderr, "child: %s\n", error->message);
    return 1;
  }
  for (guint i = 1;; i++) {
    TestVisit tv;
    guint32 r;
    guint64 ticket;
    volact_records_count (records, visit_init (&tv, i, t0, CLIENT_MIN), &r, &ticket);
    if (i % 100 == 0 && volact_records_flush (records, 30000)) {
      printf ("%u\n", i);
      fflush (stdout);
    }
  }
}

/* The journal scan the writer catches the shared store up with: each call takes up where
 * the last one stopped (one group here), skips what the store has, and a group the caller
 * failed on is read again. */
static gboolean
take_one_group (Row *rows, guint n, guint64 first_seq, gpointer data, GError **error)
{
  GArray *firsts = data;

  volact_records_free_rows (rows);
  if (firsts->len == 99) { /* asked to fail */
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "the store is down");
    return FALSE;
  }
  g_array_append_val (firsts, first_seq);
  return FALSE;
}

static void
test_journal_cursor (void **state)
{
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "clients.journal", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) firsts = g_array_new (FALSE, FALSE, sizeof (guint64));
  VolactJournal *journal;
  VolactJournalCursor cursor = { 0, 0 }, fresh = { 0, 0 };
  Row *rows = NULL;
  guint n = 0;
  guint64 last = 0;

  (void) state;
  journal = volact_journal_open (path, &error);
  assert_non_null (journal);
  assert_true (volact_journal_read (journal, 42, 0, &rows, &n, &error));
  assert_int_equal (n, 0);
  for (guint g = 0; g < 3; g++) { /* rows 1-2, 3-4, 5-6 */
    Row *a = volact_records_row_new (ROW_HOST_EVENT, NULL, NULL, NULL, "first", 0);
    a->next = volact_records_row_new (ROW_HOST_EVENT, NULL, NULL, NULL, "second", 0);
    assert_true (volact_journal_append (journal, a, &last, &error));
    volact_records_free_rows (a);
  }
  assert_int_equal (last, 6);
  for (guint g = 0; g < 3; g++) {
    assert_false (volact_journal_scan (journal, &cursor, 0, take_one_group, firsts, &error));
    assert_null (error);
    assert_int_equal (firsts->len, g + 1);
    assert_int_equal (g_array_index (firsts, guint64, g), 1 + 2 * g);
  }
  assert_true (volact_journal_scan (journal, &cursor, 0, take_one_group, firsts, &error));
  assert_int_equal (firsts->len, 3);
  /* From the start, what the store has (up to row 4) is skipped. */
  g_array_set_size (firsts, 0);
  assert_false (volact_journal_scan (journal, &fresh, 4, take_one_group, firsts, &error));
  assert_int_equal (g_array_index (firsts, guint64, 0), 5);
  /* A failure leaves the cursor on the group it failed on. */
  fresh = (VolactJournalCursor){ 0, 0 };
  g_array_set_size (firsts, 99);
  assert_false (volact_journal_scan (journal, &fresh, 2, take_one_group, firsts, &error));
  assert_non_null (error);
  g_clear_error (&error);
  g_array_set_size (firsts, 0);
  assert_false (volact_journal_scan (journal, &fresh, 2, take_one_group, firsts, &error));
  assert_int_equal (g_array_index (firsts, guint64, 0), 3);
  volact_journal_close (journal);
  test_rmtree (dir);
}

/* An acknowledged record survives kill -9 of the process. */
static void
test_kill9 (void **state)
{
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autoptr (GError) error = NULL;
  const char *argv[] = { self, "--child-writer", dir, NULL };
  GPid pid;
  int out = -1, status;
  guint acked = 0;
  FILE *f;
  char line[64];
  VolactRecords *records;

  assert_non_null (self);
  assert_true (g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                         NULL, NULL, &pid, NULL, &out, NULL, &error));
  f = fdopen (out, "r");
  while (acked < 3000 && fgets (line, sizeof line, f) != NULL)
    acked = (guint) g_ascii_strtoull (line, NULL, 10);
  kill (pid, SIGKILL);
  waitpid (pid, &status, 0);
  g_spawn_close_pid (pid);
  fclose (f);
  assert_true (acked >= 3000);
  assert_true (WIFSIGNALED (status));

  records = volact_records_open (dir, 0, &error);
  assert_non_null (records);
  assert_true (volact_records_pool_count (records, POOL, 30) >= acked);
  volact_records_close (records);
  test_rmtree (dir);
}

/* Waits (bounded) until TICKET is durable: acknowledged, whether or not clients.db has it. */
static void
wait_committed (VolactRecords *records, guint64 ticket)
{
  VolactRecordsStats st;

  for (int i = 0; i < 3000; i++) {
    volact_records_get_stats (records, &st);
    if (st.committed_ticket >= ticket)
      return;
    g_usleep (10000);
  }
  fail_msg ("ticket %" G_GUINT64_FORMAT " not committed in 30 s", ticket);
}

/* Copies the state folder's files as they are on disk now: what a crash would leave. */
static char *
snapshot (const char *dir)
{
  const char *names[] = { "clients.db", "clients.db-wal", "clients.journal" };
  char *copy = test_tmpdir ();

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree char *from = g_build_filename (dir, names[i], NULL);
    g_autofree char *to = g_build_filename (copy, names[i], NULL);
    g_autofree char *data = NULL;
    gsize len = 0;
    if (g_file_get_contents (from, &data, &len, NULL))
      test_write_file (to, data, len);
  }
  return copy;
}

/* Locks clients.db in FX's folder, counts machines FIRST..LAST, waits until they are
 * durable, and returns a copy of the folder as a crash at that moment would leave it (the
 * rows in the journal only); then unlocks and waits until clients.db has them. */
static char *
crash_copy (Fixture *fx, guint first, guint last)
{
  g_autofree char *path = g_build_filename (fx->dir, "clients.db", NULL);
  guint64 ticket = 0;
  guint32 res;
  sqlite3 *db = NULL;
  char *copy;

  assert_int_equal (sqlite3_open (path, &db), SQLITE_OK);
  assert_int_equal (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
  for (guint i = first; i <= last; i++) {
    TestVisit tv;
    volact_records_count (fx->records, visit_init (&tv, i, fx->t0, CLIENT_MIN), &res, &ticket);
  }
  wait_committed (fx->records, ticket);
  copy = snapshot (fx->dir);
  assert_int_equal (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close (db);
  flush (fx);
  return copy;
}

static guint
count_in (const char *dir, gint64 now)
{
  g_autoptr (GError) error = NULL;
  VolactRecords *records = volact_records_open (dir, 0, &error);
  guint n;

  if (records == NULL)
    fail_msg ("%s: %s", dir, error->message);
  n = volact_records_pool_count_at (records, POOL, 30, now);
  volact_records_close (records);
  return n;
}

/* Acknowledged rows clients.db has not taken yet (as a crash between the journal and
 * clients.db leaves them) are applied when the folder is opened, once; a damaged group (a
 * torn write, never acknowledged) is not; a journal beside another database is not replayed
 * into it. */
static void
test_journal_replay (void **state)
{
  Fixture *fx = *state;
  g_autofree char *crash1 = NULL;
  g_autofree char *crash2 = NULL;
  g_autofree char *journal = NULL;
  g_autofree char *other = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;

  for (guint i = 1; i <= 3; i++)
    count_visit (fx, i, fx->t0, CLIENT_MIN, NULL);
  flush (fx); /* three in clients.db */
  crash1 = crash_copy (fx, 4, 10);
  assert_int_equal (count_in (crash1, fx->t0), 10);
  assert_int_equal (count_in (crash1, fx->t0), 10); /* applied once: the same ten again */

  /* Damaged: one byte of the first row of the group holding 11 and 12 (the journal starts
   * again at its beginning once clients.db has everything before). */
  crash2 = crash_copy (fx, 11, 12);
  journal = g_build_filename (crash2, "clients.journal", NULL);
  assert_true (g_file_get_contents (journal, &data, &len, NULL));
  assert_true (len > 64);
  data[32 + 8] ^= 0x5a;
  test_write_file (journal, data, len);
  assert_int_equal (count_in (crash2, fx->t0), 10);

  /* Another clients.db (an administrator started afresh) beside the first crash's journal. */
  other = test_tmpdir ();
  assert_int_equal (count_in (other, fx->t0), 0);
  g_free (journal);
  journal = g_build_filename (crash1, "clients.journal", NULL);
  g_free (data);
  assert_true (g_file_get_contents (journal, &data, &len, NULL));
  g_free (journal);
  journal = g_build_filename (other, "clients.journal", NULL);
  test_write_file (journal, data, len);
  assert_int_equal (count_in (other, fx->t0), 0);

  /* Counted in the running host all along. */
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, fx->t0), 12);
  test_rmtree (crash1);
  test_rmtree (crash2);
  test_rmtree (other);
}

static void
test_open_errors (void **state)
{
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *file = g_build_filename (dir, "file", NULL);
  g_autofree char *db = g_build_filename (dir, "clients.db", NULL);
  g_autoptr (GError) error = NULL;
  sqlite3 *sq = NULL;

  test_write_file (file, "x", 1);
  assert_null (volact_records_open (file, 0, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_IO));
  g_clear_error (&error);

  /* A database from a newer volact is refused, not rewritten. */
  assert_int_equal (sqlite3_open (db, &sq), SQLITE_OK);
  assert_int_equal (sqlite3_exec (sq, "PRAGMA user_version = 9", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close (sq);
  assert_null (volact_records_open (dir, 0, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_IO));
  assert_non_null (strstr (error->message, "newer"));
  test_rmtree (dir);
}

/* --- failures reach the caller --- */

/* A query over a LIMIT says how many rows there are in all. */
static void
test_query_total (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GError) error = NULL;
  guint64 total = 0;

  for (guint n = 1; n <= 3; n++)
    count_visit (fx, n, fx->t0 - (gint64) n, CLIENT_MIN, NULL);
  flush (fx);
  {
    g_autoptr (GVariant) rows
        = g_variant_ref_sink (volact_records_clients (fx->records, FALSE, 2, &total, &error));
    g_autoptr (GVariant) first = NULL;
    char uuid[37];
    guint8 cmid[16];
    const char *s = NULL;
    assert_non_null (rows);
    assert_int_equal (g_variant_n_children (rows), 2);
    assert_int_equal (total, 3);
    /* The most recently seen come first: CMID 1 (t0 - 1). */
    first = g_variant_get_child_value (rows, 0);
    cmid_for (1, cmid);
    volact_records_format_cmid (cmid, uuid);
    assert_true (g_variant_lookup (first, "cmid", "&s", &s));
    assert_string_equal (s, uuid);
  }
  for (guint limit = 0; limit <= 4; limit += 3) { /* no cap, and a cap the rows just fit */
    g_autoptr (GVariant) rows
        = g_variant_ref_sink (volact_records_clients (fx->records, FALSE, limit, &total, &error));
    assert_non_null (rows);
    assert_int_equal (g_variant_n_children (rows), 3);
    assert_int_equal (total, 3);
  }
  {
    g_autoptr (GVariant) rows
        = g_variant_ref_sink (volact_records_events (fx->records, 0, 1, &total, &error));
    assert_non_null (rows);
    assert_int_equal (g_variant_n_children (rows), 1);
    assert_int_equal (total, 3);
  }
  {
    g_autoptr (GVariant) rows
        = g_variant_ref_sink (volact_records_events (fx->records, fx->t0 - 2, 1, &total, &error));
    assert_non_null (rows);
    assert_int_equal (total, 2); /* the cap and SINCE together */
  }
}

/* Runs SQL on the fixture's clients.db through a connection of its own. */
static void
db_exec (Fixture *fx, const char *sql)
{
  g_autofree char *path = g_build_filename (fx->dir, "clients.db", NULL);
  sqlite3 *db = NULL;

  assert_int_equal (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
  assert_int_equal (sqlite3_exec (db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close (db);
}

/* A database that cannot be read is an error naming the file and the cause,
 * never an empty list (`volactctl clients` would print nothing and exit 0). */
static void
test_query_errors (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GError) error = NULL;
  guint64 total = 7;

  count_visit (fx, 1, fx->t0, CLIENT_MIN, NULL);
  flush (fx);
  db_exec (fx, "DROP TABLE clients");
  assert_null (volact_records_clients (fx->records, FALSE, 0, &total, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_IO));
  assert_non_null (strstr (error->message, "clients.db"));
  assert_non_null (strstr (error->message, "no such table: clients"));
  assert_int_equal (total, 7); /* untouched */
  g_clear_error (&error);
  /* The other query does not read that table; the connection is usable still. */
  {
    g_autoptr (GVariant) events = g_variant_ref_sink (query_events (fx, 0, 0));
    assert_int_equal (g_variant_n_children (events), 1);
  }
  db_exec (fx, "DROP TABLE events");
  assert_null (volact_records_events (fx->records, 0, 1, &total, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_IO));
  assert_non_null (strstr (error->message, "no such table: events"));
}

static void
capture_all (const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer user_data)
{
  capture_log (domain, level, message, user_data);
}

/* The host writes each host event to the journal itself; the store only
 * stores it (else every event appears twice). */
static void
test_host_event_not_logged (void **state)
{
  Fixture *fx = *state;
  LogCapture cap;
  guint handler;

  g_mutex_init (&cap.lock);
  cap.warnings = g_ptr_array_new_with_free_func (g_free);
  handler = g_log_set_handler (G_LOG_DOMAIN, G_LOG_LEVEL_MASK, capture_all, &cap);
  volact_records_host_event (fx->records, VOLACT_EVENT_ERROR, "the disk is on fire");
  volact_records_host_event (fx->records, VOLACT_EVENT_RELOAD, "reloaded for the test");
  flush (fx);
  g_log_remove_handler (G_LOG_DOMAIN, handler);
  assert_int_equal (count_warnings (&cap, "the disk is on fire"), 0);
  assert_int_equal (count_warnings (&cap, "reloaded for the test"), 0);
  {
    g_autoptr (GVariant) events = g_variant_ref_sink (query_events (fx, 0, 0));
    assert_int_equal (g_variant_n_children (events), 2);
  }
  g_ptr_array_unref (cap.warnings);
  g_mutex_clear (&cap.lock);
}

static void
test_cmid_text (void **state)
{
  guint8 cmid[16], back[16];
  char text[37];

  for (int i = 0; i < 16; i++)
    cmid[i] = (guint8) (i * 16 + i);
  volact_records_format_cmid (cmid, text);
  assert_string_equal (text, "00112233-4455-6677-8899-aabbccddeeff");
  assert_true (volact_records_parse_cmid (text, back));
  assert_memory_equal (cmid, back, 16);
  assert_true (volact_records_parse_cmid ("{00112233-4455-6677-8899-AABBCCDDEEFF}", back));
  assert_memory_equal (cmid, back, 16);
  assert_true (volact_records_parse_cmid ("00112233445566778899aabbccddeeff", back));
  assert_false (volact_records_parse_cmid ("00112233-4455-6677-8899-aabbccddeef", back));
  assert_false (volact_records_parse_cmid ("{00112233-4455-6677-8899-aabbccddeeff", back));
  assert_false (volact_records_parse_cmid ("00112233-4455-6677-8899-aabbccddeeffx", back));
}

/* --- clock changes (docs/events.md, "Clock changes") --- */

/* Seconds as monotonic µs; MONO0: the watch's first sample. */
#define USEC(s) ((gint64) (s) * G_USEC_PER_SEC)
#define MONO0 USEC (1000)

/* The clock watch's sample: the wall clock at REAL (unix s), the monotonic at MONO (µs). */
static VolactClockChange
clock_at (Fixture *fx, gint64 real, gint64 mono)
{
  VolactClockChange c;
  volact_records_clock_check (fx->records, real * G_USEC_PER_SEC, mono, &c);
  return c;
}

/* How many events 1030 say TEXT. */
static guint
clock_events (Fixture *fx, const char *text)
{
  g_autoptr (GVariant) events = NULL;
  guint n = 0;

  flush (fx);
  events = g_variant_ref_sink (query_events (fx, 0, 0));
  for (gsize i = 0; i < g_variant_n_children (events); i++) {
    g_autoptr (GVariant) row = g_variant_get_child_value (events, i);
    guint32 id = 0;
    const char *message = "";
    g_variant_lookup (row, "event", "u", &id);
    g_variant_lookup (row, "message", "&s", &message);
    if (id == VOLACT_EVENT_CLOCK_CHANGED && strstr (message, text) != NULL)
      n++;
  }
  return n;
}

/* The packed entry keeps each field whole at its limits: the last pool, the largest name
 * hashes, any state byte a client sends (kept as "other"), both flags, and list links. */
static void
test_index_fields (void **state)
{
  VolactIndex *index = volact_index_new (0);
  guint8 cmid[16];
  VolactIndexEntry *e;
  guint32 seen;

  (void) state;
  for (guint pool = 1; pool <= VOLACT_INDEX_MAX_POOLS; pool += VOLACT_INDEX_MAX_POOLS - 1)
    for (guint i = 0; i < 3; i++) {
      seen = 100 + i;
      cmid_for (i, cmid);
      e = volact_index_insert (index, pool, cmid, &seen, VOLACT_INDEX_COUNTED | VOLACT_INDEX_VM);
      assert_non_null (e);
      e->name_hash = 4095;
      e->other_hash = 4095;
      e->state = volact_index_state_of (200 + i);
    }
  for (guint pool = 1; pool <= VOLACT_INDEX_MAX_POOLS; pool += VOLACT_INDEX_MAX_POOLS - 1) {
    assert_int_equal (volact_index_pool_count (index, pool), 3);
    cmid_for (1, cmid);
    e = volact_index_lookup (index, pool, cmid);
    assert_non_null (e);
    assert_int_equal (e->pool, pool);
    assert_int_equal (e->last_seen, 101);
    assert_int_equal (e->name_hash, 4095);
    assert_int_equal (e->other_hash, 4095);
    assert_int_equal (e->state, VOLACT_INDEX_STATE_OTHER);
    assert_int_equal (e->flags, VOLACT_INDEX_COUNTED | VOLACT_INDEX_VM);
    assert_int_not_equal (e->prev, VOLACT_INDEX_NIL); /* between the other two */
    assert_int_not_equal (e->next, VOLACT_INDEX_NIL);
    assert_int_equal (volact_index_expire (index, pool, 101, NULL, NULL), 2);
  }
  assert_int_equal (volact_index_state_of (5), 5); /* unlicensed, the last state defined */
  /* Name hashes: 0 only for no name, 1..4095 otherwise, ASCII case folded. */
  assert_int_equal (volact_index_name_hash (""), 0);
  assert_int_equal (volact_index_name_hash ("WS0001.Example"), volact_index_name_hash ("ws0001.example"));
  for (guint i = 0; i < 20000; i++) {
    g_autofree char *name = g_strdup_printf ("ws%05u.fleet.example", i);
    guint32 h = volact_index_name_hash (name);
    assert_true (h >= 1 && h <= 4095);
  }
  volact_index_free (index);
}

/* The index sets entries later than now to now, keeping its time order. */
static void
test_index_clamp (void **state)
{
  VolactIndex *index = volact_index_new (0);
  guint8 cmid[16];
  VolactIndexEntry *e;

  (void) state;
  for (guint i = 0; i < 10; i++) {
    guint32 seen = 100 + i * 10; /* 100 .. 190 */
    cmid_for (i, cmid);
    volact_index_insert (index, 1, cmid, &seen, VOLACT_INDEX_COUNTED);
  }
  assert_int_equal (volact_index_clamp (index, 1, 200, NULL, NULL), 0);
  assert_int_equal (volact_index_clamp (index, 1, 145, NULL, NULL), 5); /* 150 .. 190 */
  cmid_for (9, cmid);
  e = volact_index_lookup (index, 1, cmid);
  assert_int_equal (e->last_seen, 145);
  cmid_for (4, cmid);
  assert_int_equal (volact_index_lookup (index, 1, cmid)->last_seen, 140);
  assert_int_equal (volact_index_pool_count (index, 1), 10);
  /* Still in order: expiring at 144 leaves exactly the five set to 145. */
  assert_int_equal (volact_index_expire (index, 1, 144, NULL, NULL), 5);
  assert_int_equal (volact_index_pool_count (index, 1), 5);
  assert_int_equal (volact_index_expire (index, 1, 145, NULL, NULL), 5);
  assert_int_equal (volact_index_clamp (index, 2, 1, NULL, NULL), 0); /* a pool never seen */
  volact_index_free (index);
}

/* A big expiry gives the index's memory back, and what stays is intact:
 * found, counted, in time order, across two pools whose entries the
 * removals moved around. */
static void
test_index_shrinks (void **state)
{
  VolactIndex *index = volact_index_new (0);
  const guint n = 200000;
  guint8 cmid[16];
  gsize full;

  (void) state;
  for (guint i = 0; i < n; i++) {
    guint32 seen = 1000 + i;
    cmid_for (i, cmid);
    assert_non_null (volact_index_insert (index, 1 + i % 2, cmid, &seen,
                                          i % 3 ? VOLACT_INDEX_COUNTED : 0));
  }
  full = volact_index_memory (index);
  assert_true (full >= n * sizeof (VolactIndexEntry));
  /* All but the newest 100 of pool 1, then of pool 2. */
  assert_int_equal (volact_index_expire (index, 1, 1000 + n - 201, NULL, NULL), n / 2 - 100);
  assert_int_equal (volact_index_expire (index, 2, 1000 + n - 201, NULL, NULL), n / 2 - 100);
  assert_int_equal (volact_index_size (index), 200);
  assert_true (volact_index_memory (index) < full / 20);
  for (guint i = 0; i < n; i++) {
    VolactIndexEntry *e;
    cmid_for (i, cmid);
    e = volact_index_lookup (index, 1 + i % 2, cmid);
    if (i < n - 200) {
      assert_null (e);
      continue;
    }
    assert_non_null (e);
    assert_int_equal (e->last_seen, 1000 + i);
    assert_int_equal (e->pool, 1 + i % 2);
  }
  assert_int_equal (volact_index_pool_count (index, 1) + volact_index_pool_count (index, 2),
                    133); /* i % 3 != 0 among n - 200 .. n - 1 */
  /* Expiry one second at a time still goes oldest first. */
  for (guint i = n - 200; i < n; i++)
    assert_int_equal (volact_index_expire (index, 1 + i % 2, 1000 + i, NULL, NULL), 1);
  assert_int_equal (volact_index_size (index), 0);
  volact_index_free (index);
}

/* Records on disk later than the clock (set back while the host was down)
 * count as seen now at open, on disk too, and expire 30 days after. */
static void
test_future_clamped_at_open (void **state)
{
  Fixture *fx = *state;
  gint64 future = fx->t0 + 730 * DAY;

  for (guint i = 1; i <= 5; i++)
    count_visit (fx, i, fx->t0, CLIENT_MIN, NULL);
  volact_records_close (fx->records);
  fx->records = NULL;
  /* Two records seen "in two years", as a host whose clock was ahead left them. */
  {
    g_autofree char *path = g_build_filename (fx->dir, "clients.db", NULL);
    g_autofree char *sql = g_strdup_printf (
        "UPDATE clients SET last_seen = %" G_GINT64_FORMAT
        " WHERE cmid IN (SELECT cmid FROM clients ORDER BY cmid LIMIT 2)",
        future);
    sqlite3 *db = NULL;
    assert_int_equal (sqlite3_open (path, &db), SQLITE_OK);
    assert_int_equal (sqlite3_exec (db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal (sqlite3_changes (db), 2);
    sqlite3_close (db);
  }
  reopen (fx, 0);
  assert_int_equal (clock_events (fx, "2 client records were seen later than now"), 1);
  {
    g_autoptr (GVariant) rows = g_variant_ref_sink (query_clients (fx, FALSE, 0));
    gint64 now = g_get_real_time () / G_USEC_PER_SEC;
    assert_int_equal (g_variant_n_children (rows), 5);
    for (gsize i = 0; i < 5; i++) {
      g_autoptr (GVariant) row = g_variant_get_child_value (rows, i);
      gint64 seen = 0;
      assert_true (g_variant_lookup (row, "last_seen", "x", &seen));
      assert_true (seen <= now);
    }
  }
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, fx->t0 + 10), 5);
  /* The disk was changed, not only the index: a second open finds nothing to set. */
  reopen (fx, 0);
  assert_int_equal (clock_events (fx, "seen later than now"), 1);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, fx->t0 + 31 * DAY), 0);
}

/* The finding 3: three machines count 3; the clock goes 730 days
 * ahead and two machines visit; the clock is corrected. The count stays 3
 * throughout, and 31 days later it is 0, not 2 for two years. */
static void
test_clock_excursion (void **state)
{
  Fixture *fx = *state;
  gint64 t = fx->t0, ahead = fx->t0 + 730 * DAY;
  VolactClockChange c;

  for (guint i = 1; i <= 3; i++)
    count_visit (fx, i, t, CLIENT_MIN, NULL);
  c = clock_at (fx, t, MONO0);
  assert_int_equal (c.jump, 0);
  c = clock_at (fx, ahead + 1, MONO0 + USEC (1));
  assert_int_equal (c.jump, 730 * DAY);
  assert_int_equal (c.held, 730 * DAY);
  /* Nothing expires early: the two visitors find the three records. */
  assert_int_equal (count_visit (fx, 1, ahead + 2, CLIENT_MIN, NULL), 3);
  assert_int_equal (count_visit (fx, 2, ahead + 3, CLIENT_MIN, NULL), 3);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, ahead + 4), 3);

  /* Corrected: records 1 and 2, seen "in two years", count as seen now. */
  c = clock_at (fx, t + 5, MONO0 + USEC (5));
  assert_int_equal (c.jump, -730 * DAY);
  assert_int_equal (c.held, 0);
  assert_int_equal (c.clamped, 2);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, t + 5), 3);
  assert_int_equal (clock_events (fx, "moved forward by 730.0 days"), 1);
  assert_int_equal (clock_events (fx, "moved back by 730.0 days"), 1);
  {
    g_autoptr (GVariant) rows = g_variant_ref_sink (query_clients (fx, FALSE, 0));
    for (gsize i = 0; i < g_variant_n_children (rows); i++) {
      g_autoptr (GVariant) row = g_variant_get_child_value (rows, i);
      gint64 seen = 0;
      g_variant_lookup (row, "last_seen", "x", &seen);
      assert_true (seen <= t + 5); /* on disk as well */
    }
  }

  /* The clock then runs normally for 31 days: everything expires. */
  c = clock_at (fx, t + 31 * DAY, MONO0 + USEC (31 * DAY));
  assert_int_equal (c.jump, 0);
  /* Machine 3 was seen at T; 1 and 2 count as seen at the correction, T + 5. */
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, t + 30 * DAY - 1), 3);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, t + 30 * DAY + 4), 2);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, t + 30 * DAY + 5), 0);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, t + 31 * DAY), 0);
  /* And after a restart, nothing comes back from the disk. */
  reopen (fx, 0);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, t + 31 * DAY), 0);
}

/* A jump back expires nothing, and later visits are not lost behind
 * records stamped before the jump. */
static void
test_clock_back (void **state)
{
  Fixture *fx = *state;
  gint64 t = fx->t0, back = fx->t0 - 10 * DAY;
  VolactClockChange c;

  for (guint i = 1; i <= 3; i++)
    count_visit (fx, i, t, CLIENT_MIN, NULL);
  clock_at (fx, t, MONO0);
  /* A small step is not a jump. */
  c = clock_at (fx, t - VOLACT_RECORDS_CLOCK_JUMP_SECONDS + 1, MONO0 + USEC (1));
  assert_int_equal (c.jump, 0);
  c = clock_at (fx, back, MONO0 + USEC (2));
  assert_true (c.jump < -9 * DAY);
  assert_int_equal (c.clamped, 3);
  assert_int_equal (count_visit (fx, 4, back + 1, CLIENT_MIN, NULL), 4);
  assert_int_equal (count_visit (fx, 1, back + 1, CLIENT_MIN, NULL), 4);
  /* Retention runs from the correction: 30 days of the corrected clock. */
  clock_at (fx, back + 30 * DAY, MONO0 + USEC (30 * DAY));
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, back + 30 * DAY - 1), 4);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, back + 30 * DAY), 2);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, back + 30 * DAY + 1), 0);
}

/* A jump forward that stays: nothing expires until the clock has run an
 * hour without another jump, then expiry follows it (one event each). */
static void
test_clock_forward (void **state)
{
  Fixture *fx = *state;
  gint64 t = fx->t0, ahead = fx->t0 + 60 * DAY;
  gint64 settle = VOLACT_RECORDS_CLOCK_SETTLE_SECONDS;
  VolactClockChange c;

  for (guint i = 1; i <= 3; i++)
    count_visit (fx, i, t, CLIENT_MIN, NULL);
  clock_at (fx, t, MONO0);
  /* Before the check sees the jump, a request expires nothing either. */
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, ahead), 3);
  c = clock_at (fx, ahead, MONO0);
  assert_int_equal (c.jump, 60 * DAY);
  assert_int_equal (count_visit (fx, 4, ahead + 1, CLIENT_MIN, NULL), 4);
  /* Expiry follows the monotonic clock: 30 days of it still expire. */
  c = clock_at (fx, ahead + settle - 1, MONO0 + USEC (settle - 1));
  assert_int_equal (c.accepted, 0);
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, ahead + settle - 1), 4);
  c = clock_at (fx, ahead + settle, MONO0 + USEC (settle));
  assert_int_equal (c.accepted, 60 * DAY);
  assert_int_equal (c.held, 0);
  /* Trusted: the records from before the jump are 60 days old. */
  assert_int_equal (volact_records_pool_count_at (fx->records, POOL, 30, ahead + settle), 1);
  assert_int_equal (clock_events (fx, "the clock moved forward by 60.0 days"), 1);
  assert_int_equal (clock_events (fx, "expiry follows it again"), 1);
  {
    VolactRecordsStats st;
    volact_records_get_stats (fx->records, &st);
    assert_int_equal (st.clock_jumps, 1);
  }
}

int
main (int argc, char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_seed_example, setup, teardown),
    cmocka_unit_test_setup_teardown (test_repeat_does_not_count, setup, teardown),
    cmocka_unit_test_setup_teardown (test_thousand, setup, teardown),
    cmocka_unit_test_setup_teardown (test_vm_not_counted, setup, teardown),
    cmocka_unit_test_setup_teardown (test_expiry, setup, teardown),
    cmocka_unit_test_setup_teardown (test_retention_days, setup, teardown),
    cmocka_unit_test_setup_teardown (test_reopen, setup, teardown),
    cmocka_unit_test_setup_teardown (test_on_commit, setup, teardown),
    cmocka_unit_test_setup_teardown (test_busy, setup, teardown),
    cmocka_unit_test_setup_teardown (test_duplicates, setup, teardown),
    cmocka_unit_test_setup_teardown (test_events, setup, teardown),
    cmocka_unit_test_setup_teardown (test_odd_input, setup, teardown),
    cmocka_unit_test_setup_teardown (test_mass_expiry, setup, teardown),
    cmocka_unit_test_setup_teardown (test_event_cap, setup, teardown),
    cmocka_unit_test_setup_teardown (test_file_mode, setup, teardown),
    cmocka_unit_test (test_index_model),
    cmocka_unit_test (test_kill9),
    cmocka_unit_test_setup_teardown (test_journal_replay, setup, teardown),
    cmocka_unit_test (test_open_errors),
    cmocka_unit_test (test_cmid_text),
    cmocka_unit_test_setup_teardown (test_query_total, setup, teardown),
    cmocka_unit_test_setup_teardown (test_query_errors, setup, teardown),
    cmocka_unit_test_setup_teardown (test_host_event_not_logged, setup, teardown),
    cmocka_unit_test (test_index_fields),
    cmocka_unit_test (test_journal_cursor),
    cmocka_unit_test (test_index_clamp),
    cmocka_unit_test (test_index_shrinks),
    cmocka_unit_test_setup_teardown (test_future_clamped_at_open, setup, teardown),
    cmocka_unit_test_setup_teardown (test_clock_excursion, setup, teardown),
    cmocka_unit_test_setup_teardown (test_clock_back, setup, teardown),
    cmocka_unit_test_setup_teardown (test_clock_forward, setup, teardown),
  };
  if (argc == 3 && strcmp (argv[1], "--child-writer") == 0)
    return child_writer (argv[2]);
  return cmocka_run_group_tests (tests, NULL, NULL);
}
