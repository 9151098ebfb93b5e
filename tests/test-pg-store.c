/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shared store's connection against a real PostgreSQL server
 * (core/store/volact-pg.c): URI checks, the schema and its migrations,
 * racing hosts, serialization retries, SQL errors, host upserts, and a
 * server stopped and restarted under a connection. Run by tests/pg-store.sh,
 * which starts the server and sets VOLACT_TEST_PG_URI, PGPASSFILE and
 * VOLACT_TEST_PG_CTL (a script taking stop|start).
 *
 * `test-pg-store connect HOST` instead connects once as HOST and records it in
 * volact_hosts (the script's checks of the roles and grants of docs/store.md).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "volact-error.h"
#include "volact-pg.h"

static const char *uri;

/* ---------------------------------------------------------------- helpers */

static void
quiet (void *data, const char *message)
{
}

/* A connection of the test's own (the same role), to look at what the host did. */
static PGconn *
check_conn (void)
{
  PGconn *conn = PQconnectdb (uri);
  if (PQstatus (conn) != CONNECTION_OK)
    fail_msg ("cannot connect to %s: %s", uri, PQerrorMessage (conn));
  PQsetNoticeProcessor (conn, quiet, NULL);
  return conn;
}

/* Runs SQL on a fresh connection; returns the first value of the first row (g_free), or NULL. */
static char *
sql_value (const char *sql)
{
  PGconn *conn = check_conn ();
  PGresult *res = PQexec (conn, sql);
  char *value = NULL;

  if (PQresultStatus (res) != PGRES_TUPLES_OK && PQresultStatus (res) != PGRES_COMMAND_OK)
    fail_msg ("%s: %s", sql, PQerrorMessage (conn));
  if (PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) > 0)
    value = g_strdup (PQgetvalue (res, 0, 0));
  PQclear (res);
  PQfinish (conn);
  return value;
}

static void
sql_run (const char *sql)
{
  g_free (sql_value (sql));
}

static void
drop_schema (void)
{
  sql_run ("DROP TABLE IF EXISTS volact_schema, volact_hosts, volact_clients, volact_events");
}

static VolactPg *
connect_ok (const char *host)
{
  g_autoptr (GError) error = NULL;
  VolactPg *pg = volact_pg_connect (uri, host, 0, &error);
  if (pg == NULL)
    fail_msg ("connect: %s", error->message);
  return pg;
}

/* Counts "schema migrated" messages (each is one step applied) and the
 * retries of volact_pg_transact by SQLSTATE. */
static gint migrations_logged, retries_40001, retries_40p01;

static void
count_log (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  if (strstr (message, "schema migrated") != NULL)
    g_atomic_int_inc (&migrations_logged);
  if (strstr (message, "retrying") != NULL && strstr (message, "(SQLSTATE 40001)") != NULL)
    g_atomic_int_inc (&retries_40001);
  if (strstr (message, "retrying") != NULL && strstr (message, "(SQLSTATE 40P01)") != NULL)
    g_atomic_int_inc (&retries_40p01);
}

/* A rendezvous of two threads, bounded so that a bug fails instead of hanging. */
typedef struct {
  GMutex lock;
  GCond cond;
  int waiting;
} Barrier;

static void
barrier_wait (Barrier *b)
{
  gint64 end = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

  g_mutex_lock (&b->lock);
  b->waiting++;
  g_cond_broadcast (&b->cond);
  while (b->waiting < 2)
    if (!g_cond_wait_until (&b->cond, &b->lock, end))
      break;
  g_mutex_unlock (&b->lock);
}

/* ---------------------------------------------------------------- URI checks */

static void
assert_uri_refused (const char *bad, const char *key)
{
  g_autoptr (GError) error = NULL;

  if (volact_pg_uri_check (bad, &error))
    fail_msg ("accepted: %s", bad);
  assert_int_equal (error->code, VOLACT_E_CONFIG);
  if (strstr (error->message, key) == NULL)
    fail_msg ("%s: the error does not name %s: %s", bad, key, error->message);
  /* The error never repeats the URI (it may hold secrets). */
  assert_null (strstr (error->message, "secret"));
}

static void
assert_uri_accepted (const char *good)
{
  g_autoptr (GError) error = NULL;

  if (!volact_pg_uri_check (good, &error))
    fail_msg ("refused %s: %s", good, error->message);
}

static void
test_uri_check (void **state)
{
  g_autoptr (GError) error = NULL;

  g_unsetenv ("PGSSLMODE");
  g_unsetenv ("PGHOST");
  g_unsetenv ("PGHOSTADDR");
  assert_uri_refused ("postgresql://volact:secret@127.0.0.1/volact", "password");
  assert_uri_refused ("postgresql://volact@127.0.0.1/volact?password=secret", "password");
  assert_uri_refused ("postgresql://volact@db.example.org/volact?sslmode=disable", "sslmode");
  assert_uri_refused ("postgresql://volact@db.example.org/volact?sslmode=disable",
                      "db.example.org");
  assert_uri_refused ("postgresql://volact@db.example.org/volact", "sslmode");
  assert_uri_refused ("postgresql://volact@db.example.org/volact?sslmode=require", "verify-full");
  assert_uri_refused ("postgresql://volact@db.example.org/volact?sslmode=verify-ca", "sslmode");
  assert_uri_refused ("postgresql://volact@192.0.2.7:5432/volact?sslmode=prefer", "192.0.2.7");
  /* One remote host in a list is enough to need TLS; so is a remote hostaddr. */
  assert_uri_refused ("postgresql://volact@127.0.0.1,db.example.org/volact", "db.example.org");
  assert_uri_refused ("postgresql://volact@localhost/volact?hostaddr=192.0.2.7", "192.0.2.7");
  assert_uri_refused ("host=127.0.0.1 dbname=volact", "postgresql://");
  assert_uri_refused ("mysql://volact@127.0.0.1/volact", "postgresql://");
  assert_uri_refused ("postgresql://volact@127.0.0.1/volact?no_such_key=1", "no_such_key");

  assert_uri_accepted ("postgresql://volact@db.example.org/volact?sslmode=verify-full"
                       "&sslrootcert=/etc/volact/db-ca.pem");
  assert_uri_accepted ("postgresql://volact@127.0.0.1:5432/volact?sslmode=disable");
  assert_uri_accepted ("postgres://volact@localhost/volact");
  assert_uri_accepted ("postgresql://volact@[::1]:5432/volact");
  assert_uri_accepted ("postgresql:///volact?host=/run/postgresql");
  assert_uri_accepted ("postgresql://volact@127.0.0.1/volact?passfile=/etc/volact/pgpass");
  assert_uri_accepted (uri);

  /* A refused URI is never tried. */
  assert_null (volact_pg_connect ("postgresql://volact:secret@127.0.0.1:1/volact", "h", 0, &error));
  assert_int_equal (error->code, VOLACT_E_CONFIG);
}

/* ---------------------------------------------------------------- schema */

typedef struct {
  const char *table;
  const char *columns; /* name:type:nullable, in order */
} TableShape;

static const TableShape shapes[] = {
  { "volact_schema", "version:integer:NO" },
  { "volact_hosts", "name:text:NO first_seen:bigint:NO last_seen:bigint:NO version:text:NO" },
  { "volact_clients",
    "pool:text:NO cmid:uuid:NO last_seen:bigint:NO host:text:NO name:text:NO edition:text:NO "
    "flags:integer:NO state:smallint:NO written:timestamp with time zone:NO" },
  { "volact_events",
    "host:text:NO store:bigint:NO seq:bigint:NO time:bigint:NO event:integer:NO cmid:uuid:YES name:text:YES "
    "edition:text:YES address:text:YES result:bigint:YES count:integer:YES "
    "minimum:integer:YES flags:integer:NO message:text:YES" },
};

static void
test_schema_created (void **state)
{
  g_autoptr (VolactPg) pg = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PGresult) res = NULL;
  g_autofree char *version = NULL, *app = NULL, *keys = NULL, *indexes = NULL;

  drop_schema ();
  pg = connect_ok ("host-a");
  for (gsize i = 0; i < G_N_ELEMENTS (shapes); i++) {
    g_autofree char *sql = g_strdup_printf (
        "SELECT string_agg(column_name || ':' || data_type || ':' || is_nullable, ' '"
        " ORDER BY ordinal_position) FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = '%s'",
        shapes[i].table);
    g_autofree char *columns = sql_value (sql);
    assert_non_null (columns);
    assert_string_equal (columns, shapes[i].columns);
  }
  keys = sql_value ("SELECT string_agg(tc.table_name || '(' || k.cols || ')', ' '"
                    " ORDER BY tc.table_name) FROM information_schema.table_constraints tc"
                    " JOIN (SELECT constraint_name, string_agg(column_name, ',' ORDER BY"
                    " ordinal_position) AS cols FROM information_schema.key_column_usage"
                    " GROUP BY constraint_name) k USING (constraint_name)"
                    " WHERE tc.constraint_type = 'PRIMARY KEY'"
                    " AND tc.table_name LIKE 'volact\\_%'");
  assert_string_equal (keys, "volact_clients(pool,cmid) volact_events(host,store,seq) volact_hosts(name)");
  indexes = sql_value ("SELECT string_agg(regexp_replace(indexdef, '.* USING btree ', ''), ' '"
                       " ORDER BY indexdef) FROM pg_indexes WHERE tablename = 'volact_clients'"
                       " AND indexname NOT LIKE '%pkey'");
  assert_string_equal (indexes, "(pool, last_seen) (written)");
  version = sql_value ("SELECT string_agg(version::text, ',') FROM volact_schema");
  assert_string_equal (version, "1");

  /* The session the host set up: its name for the administrator, the statement timeout. */
  app = sql_value ("SELECT application_name FROM pg_stat_activity"
                   " WHERE application_name LIKE 'volactd (%'");
  assert_string_equal (app, "volactd (host-a)");
  res = volact_pg_exec (pg, "test_timeout", "SHOW statement_timeout", 0, NULL, &error);
  assert_non_null (res);
  assert_string_equal (PQgetvalue (res, 0, 0), "10s");
}

static void
test_migration_idempotent (void **state)
{
  g_autoptr (VolactPg) first = NULL;
  g_autoptr (VolactPg) second = NULL;
  g_autoptr (VolactPg) third = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *rows = NULL, *hosts = NULL;

  drop_schema ();
  migrations_logged = 0;
  first = connect_ok ("host-a");
  assert_int_equal (g_atomic_int_get (&migrations_logged), 1);
  assert_true (volact_pg_host_seen (first, 1000, &error));
  /* Again while the first is connected, and again after it left: nothing reapplied. */
  second = connect_ok ("host-b");
  g_clear_pointer (&first, volact_pg_free);
  third = connect_ok ("host-a");
  assert_int_equal (g_atomic_int_get (&migrations_logged), 1);
  rows = sql_value ("SELECT count(*) || ':' || max(version) FROM volact_schema");
  assert_string_equal (rows, "1:1");
  hosts = sql_value ("SELECT string_agg(name, ',') FROM volact_hosts");
  assert_string_equal (hosts, "host-a");
}

static void
test_newer_schema_refused (void **state)
{
  g_autoptr (VolactPg) pg = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *version = NULL;

  drop_schema ();
  pg = connect_ok ("host-a");
  g_clear_pointer (&pg, volact_pg_free);
  sql_run ("UPDATE volact_schema SET version = 99");
  pg = volact_pg_connect (uri, "host-a", 0, &error);
  assert_null (pg);
  assert_int_equal (error->code, VOLACT_E_FAILED);
  if (strstr (error->message, "schema version 99 is newer than this volactd (1): upgrade volactd")
      == NULL)
    fail_msg ("unexpected error: %s", error->message);
  version = sql_value ("SELECT version FROM volact_schema");
  assert_string_equal (version, "99");
}

typedef struct {
  Barrier *barrier;
  const char *host;
  VolactPg *pg;
  char *error;
} Racer;

static gpointer
race_connect (gpointer data)
{
  Racer *r = data;
  GError *error = NULL;

  barrier_wait (r->barrier);
  r->pg = volact_pg_connect (uri, r->host, 0, &error);
  if (r->pg == NULL) {
    r->error = g_strdup (error->message);
    g_error_free (error);
  }
  return NULL;
}

static void
test_racing_connects (void **state)
{
  for (int round = 0; round < 5; round++) {
    Barrier barrier = { 0 };
    Racer a = { &barrier, "host-a", NULL, NULL }, b = { &barrier, "host-b", NULL, NULL };
    g_autofree char *rows = NULL;
    GThread *ta, *tb;

    drop_schema ();
    migrations_logged = 0;
    ta = g_thread_new ("racer-a", race_connect, &a);
    tb = g_thread_new ("racer-b", race_connect, &b);
    g_thread_join (ta);
    g_thread_join (tb);
    if (a.pg == NULL || b.pg == NULL)
      fail_msg ("round %d: %s", round, a.error != NULL ? a.error : b.error);
    volact_pg_free (a.pg);
    volact_pg_free (b.pg);
    assert_int_equal (g_atomic_int_get (&migrations_logged), 1);
    rows = sql_value ("SELECT count(*) || ':' || max(version) FROM volact_schema");
    assert_string_equal (rows, "1:1");
  }
}

/* ---------------------------------------------------------------- transactions */

/* Two hosts running the same transaction body at once (contest). */
typedef struct {
  Barrier barrier;
  gint calls; /* bodies run, over both threads and all attempts */
} Contest;

typedef struct {
  Contest *contest;
  VolactPg *pg;
  VolactPgFunc func;
  gboolean ok;
  char *error;
} Contender;

static gpointer
contend (gpointer data)
{
  Contender *c = data;
  GError *error = NULL;

  c->ok = volact_pg_transact (c->pg, c->func, c->contest, &error);
  if (!c->ok) {
    c->error = g_strdup (error->message);
    g_error_free (error);
  }
  return NULL;
}

/* Runs FUNC in a transaction on two new connections named HOST_A and HOST_B
 * at once; both must succeed. Returns the number of bodies run. */
static gint
contest (VolactPgFunc func, const char *host_a, const char *host_b)
{
  Contest contest = { 0 };
  Contender a = { &contest, connect_ok (host_a), func, FALSE, NULL };
  Contender b = { &contest, connect_ok (host_b), func, FALSE, NULL };
  GThread *ta = g_thread_new ("contender-a", contend, &a);
  GThread *tb = g_thread_new ("contender-b", contend, &b);

  g_thread_join (ta);
  g_thread_join (tb);
  volact_pg_free (a.pg);
  volact_pg_free (b.pg);
  if (!a.ok || !b.ok)
    fail_msg ("a transaction failed: %s", a.error != NULL ? a.error : b.error);
  return contest.calls;
}

/* Read-modify-write of one row's flags; the first attempts of both threads
 * read before either writes, so SERIALIZABLE fails one of them (40001). */
static gboolean
bump_flags (VolactPg *pg, gpointer data, GError **error)
{
  Contest *c = data;
  const char *key[] = { "pool-a", "00000000-0000-4000-8000-000000000001" };
  g_autoptr (PGresult) read = NULL;
  g_autoptr (PGresult) write = NULL;
  g_autofree char *next = NULL;

  read = volact_pg_exec (pg, "test_read_flags",
                         "SELECT flags FROM volact_clients WHERE pool = $1 AND cmid = $2", 2, key,
                         error);
  if (read == NULL)
    return FALSE;
  if (g_atomic_int_add (&c->calls, 1) < 2)
    barrier_wait (&c->barrier);
  next = g_strdup_printf ("%d", atoi (PQgetvalue (read, 0, 0)) + 1);
  const char *params[] = { key[0], key[1], next };
  write = volact_pg_exec (pg, "test_write_flags",
                          "UPDATE volact_clients SET flags = $3 WHERE pool = $1 AND cmid = $2", 3,
                          params, error);
  return write != NULL;
}

static void
test_serialization_retried (void **state)
{
  g_autoptr (VolactPg) pg = NULL;
  g_autofree char *flags = NULL;
  gint calls;

  drop_schema ();
  pg = connect_ok ("host-a");
  retries_40001 = 0;
  sql_run ("INSERT INTO volact_clients (pool, cmid, last_seen, host)"
           " VALUES ('pool-a', '00000000-0000-4000-8000-000000000001', 1, 'host-a')");
  calls = contest (bump_flags, "host-a", "host-b");
  /* Both increments are there, and one of them took a second attempt. */
  flags = sql_value ("SELECT flags FROM volact_clients");
  assert_string_equal (flags, "2");
  assert_true (calls >= 3);
  assert_true (g_atomic_int_get (&retries_40001) >= 1);
}

/* Updates the two rows in the order the host's name says ("12" or "21"); the
 * first attempts of both threads hold their first row before either takes its
 * second, so the server finds a deadlock and aborts one (40P01). */
static gboolean
bump_two_rows (VolactPg *pg, gpointer data, GError **error)
{
  Contest *c = data;
  const char *order = volact_pg_host_name (pg);
  gboolean first_attempt = g_atomic_int_add (&c->calls, 1) < 2;

  for (int i = 0; i < 2; i++) {
    g_autofree char *cmid = g_strdup_printf ("00000000-0000-4000-8000-00000000000%c", order[i]);
    const char *params[] = { cmid };
    g_autoptr (PGresult) res = volact_pg_exec (
        pg, "test_bump_row",
        "UPDATE volact_clients SET flags = flags + 1 WHERE pool = 'pool-a' AND cmid = $1", 1,
        params, error);
    if (res == NULL)
      return FALSE;
    if (i == 0 && first_attempt)
      barrier_wait (&c->barrier);
  }
  return TRUE;
}

static void
test_deadlock_retried (void **state)
{
  g_autoptr (VolactPg) pg = NULL;
  g_autofree char *flags = NULL;

  drop_schema ();
  pg = connect_ok ("host-a");
  retries_40p01 = 0;
  sql_run ("INSERT INTO volact_clients (pool, cmid, last_seen, host) VALUES"
           " ('pool-a', '00000000-0000-4000-8000-000000000001', 1, 'h'),"
           " ('pool-a', '00000000-0000-4000-8000-000000000002', 1, 'h')");
  assert_true (contest (bump_two_rows, "12", "21") >= 3);
  flags = sql_value ("SELECT string_agg(flags::text, ',' ORDER BY cmid) FROM volact_clients");
  assert_string_equal (flags, "2,2");
  assert_true (g_atomic_int_get (&retries_40p01) >= 1);
}

static gint null_calls;

static gboolean
insert_null_name (VolactPg *pg, gpointer data, GError **error)
{
  const char *params[] = { NULL, "1" };
  g_autoptr (PGresult) res = NULL;

  null_calls++;
  res = volact_pg_exec (pg, "test_null_name",
                        "INSERT INTO volact_hosts (name, first_seen, last_seen) VALUES ($1, $2, $2)",
                        2, params, error);
  return res != NULL;
}

static void
test_sql_error_carries_sqlstate (void **state)
{
  g_autoptr (VolactPg) pg = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) again = NULL;

  drop_schema ();
  pg = connect_ok ("host-a");
  null_calls = 0;
  assert_false (volact_pg_transact (pg, insert_null_name, NULL, &error));
  assert_int_equal (error->code, VOLACT_E_FAILED);
  if (strstr (error->message, "SQLSTATE 23502") == NULL
      || strstr (error->message, "null value") == NULL)
    fail_msg ("the error lacks the server's message or SQLSTATE: %s", error->message);
  assert_string_equal (volact_pg_last_sqlstate (pg), "23502");
  assert_int_equal (null_calls, 1); /* not a serialization failure: no retry */
  /* The connection is usable afterwards (the transaction was rolled back). */
  assert_true (volact_pg_host_seen (pg, 5, &again));
}

static void
test_host_seen (void **state)
{
  g_autoptr (VolactPg) pg = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *row1 = NULL, *row2 = NULL, *row3 = NULL, *expect = NULL;
  const char *row_sql = "SELECT name || ' ' || first_seen || ' ' || last_seen || ' ' || version"
                        " FROM volact_hosts";

  drop_schema ();
  pg = connect_ok ("kms1.example.org");
  assert_true (volact_pg_host_seen (pg, 1000, &error));
  row1 = sql_value (row_sql);
  expect = g_strdup_printf ("kms1.example.org 1000 1000 %s", PACKAGE_VERSION);
  assert_string_equal (row1, expect);
  /* A clock that went back never lowers last_seen. */
  assert_true (volact_pg_host_seen (pg, 500, &error));
  row2 = sql_value (row_sql);
  assert_string_equal (row2, expect);
  assert_true (volact_pg_host_seen (pg, 2000, &error));
  row3 = sql_value (row_sql);
  g_free (expect);
  expect = g_strdup_printf ("kms1.example.org 1000 2000 %s", PACKAGE_VERSION);
  assert_string_equal (row3, expect);
}

/* ---------------------------------------------------------------- server restart */

static void
pg_ctl (const char *action)
{
  const char *script = g_getenv ("VOLACT_TEST_PG_CTL");
  const char *argv[] = { script, action, NULL };
  g_autoptr (GError) error = NULL;
  int status = 0;

  assert_non_null (script);
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                     NULL, &status, &error)
      || !g_spawn_check_wait_status (status, &error))
    fail_msg ("%s %s: %s", script, action, error->message);
}

static void
test_server_restart (void **state)
{
  g_autoptr (VolactPg) pg = NULL;
  g_autoptr (GError) lost = NULL;
  g_autoptr (GError) down = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *last = NULL;

  drop_schema ();
  pg = connect_ok ("host-a");
  assert_true (volact_pg_host_seen (pg, 100, &error));
  pg_ctl ("stop");
  assert_false (volact_pg_host_seen (pg, 200, &lost));
  assert_int_equal (lost->code, VOLACT_E_IO);
  assert_non_null (strstr (lost->message, "connection"));
  assert_false (volact_pg_reset (pg, &down));
  assert_int_equal (down->code, VOLACT_E_IO);
  pg_ctl ("start");
  if (!volact_pg_reset (pg, &error))
    fail_msg ("reset after restart: %s", error->message);
  assert_true (volact_pg_host_seen (pg, 300, &error));
  last = sql_value ("SELECT last_seen FROM volact_hosts WHERE name = 'host-a'");
  assert_string_equal (last, "300");
}

/* A server that stops answering: its backend process frozen, so the kernel still
 * acknowledges every packet and neither TCP nor the server's statement_timeout ends the
 * wait. The statement fails after store-timeout + 2 s (here 1 + 2) as a lost connection,
 * later ones fail at once without waiting again, and once the server runs again
 * volact_pg_reset reconnects. An alarm turns a wait without end into a failure. */
static void
test_frozen_server (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) again = NULL;
  g_autoptr (VolactPg) pg = volact_pg_connect (uri, "host-frozen", 1, &error);
  g_autoptr (PGresult) res = NULL;
  pid_t backend;

  (void) state;
  if (pg == NULL)
    fail_msg ("connect: %s", error->message);
  res = volact_pg_exec (pg, "test-backend", "SELECT pg_backend_pid ()", 0, NULL, &error);
  assert_non_null (res);
  backend = (pid_t) atoi (PQgetvalue (res, 0, 0));
  g_clear_pointer (&res, PQclear);
  assert_int_equal (kill (backend, SIGSTOP), 0);
  alarm (60);
  res = volact_pg_exec (pg, "test-one", "SELECT 1", 0, NULL, &error);
  alarm (0);
  kill (backend, SIGCONT);
  assert_null (res);
  assert_int_equal (error->code, VOLACT_E_IO);
  assert_non_null (strstr (error->message, "did not answer within 3 s"));
  assert_null (volact_pg_exec (pg, "test-one", "SELECT 1", 0, NULL, &again));
  assert_int_equal (again->code, VOLACT_E_IO);
  g_clear_error (&error);
  if (!volact_pg_reset (pg, &error))
    fail_msg ("reset: %s", error->message);
  res = volact_pg_exec (pg, "test-one", "SELECT 1", 0, NULL, &error);
  assert_non_null (res);
  assert_string_equal (PQgetvalue (res, 0, 0), "1");
}

static int
connect_once (const char *host)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactPg) pg = volact_pg_connect (uri, host, 0, &error);

  if (pg == NULL || !volact_pg_host_seen (pg, g_get_real_time () / G_USEC_PER_SEC, &error)) {
    fprintf (stderr, "%s\n", error->message);
    return 1;
  }
  return 0;
}

int
main (int argc, char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_uri_check),
    cmocka_unit_test (test_schema_created),
    cmocka_unit_test (test_migration_idempotent),
    cmocka_unit_test (test_newer_schema_refused),
    cmocka_unit_test (test_racing_connects),
    cmocka_unit_test (test_serialization_retried),
    cmocka_unit_test (test_deadlock_retried),
    cmocka_unit_test (test_sql_error_carries_sqlstate),
    cmocka_unit_test (test_host_seen),
    cmocka_unit_test (test_server_restart),
    cmocka_unit_test (test_frozen_server),
  };

  uri = g_getenv ("VOLACT_TEST_PG_URI");
  if (uri == NULL || g_getenv ("PGPASSFILE") == NULL) {
    fprintf (stderr, "SKIP: run by tests/pg-store.sh (VOLACT_TEST_PG_URI and PGPASSFILE unset)\n");
    return 77;
  }
  /* The libpq calls of this file go through volact-pq.h too. */
  if (!volact_pq_load (NULL)) {
    fprintf (stderr, "cannot open %s\n", VOLACT_PQ_LIBRARY);
    return 1;
  }
  if (argc == 3 && strcmp (argv[1], "connect") == 0)
    return connect_once (argv[2]);
  g_log_set_handler ("volact", G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_DEBUG, count_log, NULL);
  return cmocka_run_group_tests (tests, NULL, NULL);
}
