/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shared store's schema, created and migrated by the host
 * (docs/store.md, "Migrations"): volact_schema holds the version applied
 * (one row); each step runs in its own transaction together with the
 * version bump, holding that row locked, so two hosts starting at once apply
 * it once. Plus the host upsert.
 */
#include "config.h"

#include "volact-pg-private.h"

#include "volact-error.h"

#include <stdlib.h>

/* Step N of the schema takes a database from version N-1 to N. Append only:
 * never edit a released step, add one that alters what it created. */
static const char *const migrations[] = {
  /* 1: the hosts of a pool, client records, events (docs/store.md). */
  "CREATE TABLE volact_hosts ("
  "  name text PRIMARY KEY,"
  "  first_seen bigint NOT NULL,"
  "  last_seen bigint NOT NULL,"
  "  version text NOT NULL DEFAULT '');"
  "CREATE TABLE volact_clients ("
  "  pool text NOT NULL,"
  "  cmid uuid NOT NULL,"
  "  last_seen bigint NOT NULL,"
  "  host text NOT NULL,"
  "  name text NOT NULL DEFAULT '',"
  "  edition text NOT NULL DEFAULT '',"
  "  flags integer NOT NULL DEFAULT 0,"
  "  state smallint NOT NULL DEFAULT 0,"
  "  written timestamptz NOT NULL DEFAULT statement_timestamp(),"
  "  PRIMARY KEY (pool, cmid));"
  "CREATE INDEX volact_clients_written ON volact_clients (written);"
  "CREATE INDEX volact_clients_pool_last_seen ON volact_clients (pool, last_seen);"
  "CREATE TABLE volact_events ("
  "  host text NOT NULL,"
  "  store bigint NOT NULL,"
  "  seq bigint NOT NULL,"
  "  time bigint NOT NULL,"
  "  event integer NOT NULL,"
  "  cmid uuid,"
  "  name text,"
  "  edition text,"
  "  address text,"
  "  result bigint,"
  "  count integer,"
  "  minimum integer,"
  "  flags integer NOT NULL DEFAULT 0,"
  "  message text,"
  "  PRIMARY KEY (host, store, seq));",
};
G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == VOLACT_PG_SCHEMA_VERSION);

#define SCHEMA_TABLE_SQL "CREATE TABLE IF NOT EXISTS volact_schema (version integer NOT NULL)"
/* Two hosts creating the table at once: the loser gets a unique violation on
 * the catalog (23505) or "already exists" (42P07, or 42710 for its row type);
 * once more finds it there. */
#define SCHEMA_TABLE_ATTEMPTS 3

typedef struct {
  int found;        /* the version before this step */
  gboolean applied; /* this transaction applied a step */
} Step;

/* One transaction: lock volact_schema's row, read the version (after the lock, so a step
 * another host just applied is seen), apply the next step if any. */
static gboolean
migrate_step (VolactPg *pg, gpointer data, GError **error)
{
  Step *step = data;
  g_autoptr (PGresult) res = NULL;
  g_autoptr (PGresult) bump = NULL;
  g_autofree char *next = NULL;
  int rows;

  step->applied = FALSE;
  /* A row lock, not LOCK TABLE: distributed engines that speak PostgreSQL's protocol take
   * SELECT ... FOR UPDATE but not table locks. A second host migrating at once waits here,
   * then gets a serialization failure and runs the step again, which then finds it done. */
  res = volact_pg_exec (pg, "volact_schema_read", "SELECT version FROM volact_schema FOR UPDATE",
                        0, NULL, error);
  if (res == NULL)
    return FALSE;
  rows = PQntuples (res);
  if (rows > 1) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED,
                 "table volact_schema holds %d rows; it must hold one", rows);
    return FALSE;
  }
  step->found = rows == 0 ? 0 : atoi (PQgetvalue (res, 0, 0));
  if (step->found > VOLACT_PG_SCHEMA_VERSION) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED,
                 "schema version %d is newer than this volactd (%d): upgrade volactd",
                 step->found, VOLACT_PG_SCHEMA_VERSION);
    return FALSE;
  }
  if (step->found == VOLACT_PG_SCHEMA_VERSION)
    return TRUE;
  if (step->found < 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED,
                 "table volact_schema holds version %d, which is not a version", step->found);
    return FALSE;
  }
  if (!volact_pg_exec_simple (pg, migrations[step->found], error)) {
    g_prefix_error (error, "schema step %d: ", step->found + 1);
    return FALSE;
  }
  next = g_strdup_printf ("%d", step->found + 1);
  const char *params[] = { next };
  if (rows == 0)
    bump = volact_pg_exec (pg, "volact_schema_insert",
                           "INSERT INTO volact_schema (version) VALUES ($1)", 1, params, error);
  else
    bump = volact_pg_exec (pg, "volact_schema_update", "UPDATE volact_schema SET version = $1",
                           1, params, error);
  if (bump == NULL)
    return FALSE;
  step->applied = TRUE;
  return TRUE;
}

/* Looks first: a role with the running privileges only (docs/store.md, "Roles
 * and grants") may not CREATE, even IF NOT EXISTS. */
static gboolean
create_schema_table (VolactPg *pg, GError **error)
{
  for (guint attempt = 1;; attempt++) {
    g_autoptr (GError) local = NULL;
    g_autoptr (PGresult) found = NULL;
    const char *state;

    found = volact_pg_exec (pg, "volact_schema_exists",
                            "SELECT 1 FROM information_schema.tables"
                            " WHERE table_schema = current_schema()"
                            " AND table_name = 'volact_schema'",
                            0, NULL, error);
    if (found == NULL)
      return FALSE;
    if (PQntuples (found) > 0
        || volact_pg_exec_simple (pg, SCHEMA_TABLE_SQL, &local))
      return TRUE;
    state = volact_pg_last_sqlstate (pg);
    if (attempt >= SCHEMA_TABLE_ATTEMPTS
        || (g_strcmp0 (state, "23505") != 0 && g_strcmp0 (state, "42P07") != 0
            && g_strcmp0 (state, "42710") != 0)) {
      g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                  "creating table volact_schema: ");
      return FALSE;
    }
  }
}

/* volact_schema's one row, version 0 on a new database: inserted only if the table is empty;
 * two hosts doing it at once conflict (SERIALIZABLE) and the retry finds the row. */
static gboolean
seed_version (VolactPg *pg, gpointer data, GError **error)
{
  g_autoptr (PGresult) res
      = volact_pg_exec (pg, "volact_schema_seed",
                        "INSERT INTO volact_schema (version) SELECT 0"
                        " WHERE NOT EXISTS (SELECT 1 FROM volact_schema)",
                        0, NULL, error);
  return res != NULL;
}

gboolean
volact_pg_migrate (VolactPg *pg, GError **error)
{
  if (!create_schema_table (pg, error))
    return FALSE;
  if (!volact_pg_transact (pg, seed_version, NULL, error)) {
    g_prefix_error (error, "schema: ");
    return FALSE;
  }
  /* One step per transaction; a bounded loop even if another host keeps
   * migrating under us. */
  for (guint i = 0; i <= VOLACT_PG_SCHEMA_VERSION; i++) {
    Step step = { 0 };

    if (!volact_pg_transact (pg, migrate_step, &step, error)) {
      g_prefix_error (error, "schema: ");
      return FALSE;
    }
    if (!step.applied)
      return TRUE;
    g_message ("store: schema migrated from version %d to %d", step.found, step.found + 1);
  }
  g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED,
               "schema: still not at version %d after %d steps", VOLACT_PG_SCHEMA_VERSION,
               VOLACT_PG_SCHEMA_VERSION + 1);
  return FALSE;
}

/* ---------------------------------------------------------------- hosts */

typedef struct {
  gint64 now;
} HostSeen;

static gboolean
host_seen (VolactPg *pg, gpointer data, GError **error)
{
  HostSeen *seen = data;
  g_autofree char *now = g_strdup_printf ("%" G_GINT64_FORMAT, seen->now);
  const char *params[] = { volact_pg_host_name (pg), now, PACKAGE_VERSION };
  g_autoptr (PGresult) res = NULL;

  res = volact_pg_exec (pg, "volact_host_seen",
                        "INSERT INTO volact_hosts (name, first_seen, last_seen, version)"
                        " VALUES ($1, $2, $2, $3)"
                        " ON CONFLICT (name) DO UPDATE SET"
                        " last_seen = GREATEST (volact_hosts.last_seen, EXCLUDED.last_seen),"
                        " version = EXCLUDED.version",
                        3, params, error);
  return res != NULL;
}

gboolean
volact_pg_host_seen (VolactPg *pg, gint64 now, GError **error)
{
  HostSeen seen = { now };

  if (!volact_pg_transact (pg, host_seen, &seen, error)) {
    g_prefix_error (error, "store: host %s: ", volact_pg_host_name (pg));
    return FALSE;
  }
  return TRUE;
}
