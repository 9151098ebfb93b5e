/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Client records: opening clients.db (a private file, WAL, synchronous=FULL),
 * creating or checking the schema, and closing; plus the small SQLite
 * helpers the other parts share.
 */
#include "config.h"

#include "volact-records-private.h"

#include "volact-error.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#define SCHEMA_VERSION 4
#define DB_NAME "clients.db"
#define JOURNAL_NAME "clients.journal"
#define BUSY_TIMEOUT_MS 5000

/* ---------------------------------------------------------------- schema */

static const char schema_sql[]
    = "CREATE TABLE pools ("
      "  id INTEGER PRIMARY KEY,"
      "  name TEXT NOT NULL UNIQUE,"
      "  retention_days INTEGER NOT NULL);"
      "CREATE TABLE editions ("
      "  id INTEGER PRIMARY KEY,"
      "  name TEXT NOT NULL UNIQUE);"
      /* One row per (pool, CMID) within retention. edition is an editions.id,
       * or text for an edition beyond the table's cap. */
      "CREATE TABLE clients ("
      "  pool INTEGER NOT NULL,"
      "  cmid BLOB NOT NULL,"
      "  name TEXT NOT NULL,"
      "  other_name TEXT,"
      "  edition,"
      "  last_seen INTEGER NOT NULL,"
      "  flags INTEGER NOT NULL," /* 1 counted, 2 vm, 4 duplicate */
      "  state INTEGER NOT NULL,"
      "  minutes_left INTEGER NOT NULL,"
      "  PRIMARY KEY (pool, cmid)) WITHOUT ROWID;"
      /* Event 12290 per request and the host events. address is a 4 or 16
       * byte blob (text if not an IP address); edition as in clients. */
      "CREATE TABLE events ("
      "  id INTEGER PRIMARY KEY,"
      "  time INTEGER NOT NULL,"
      "  event INTEGER NOT NULL,"
      "  pool INTEGER,"
      "  address,"
      "  cmid BLOB,"
      "  name TEXT,"
      "  edition,"
      "  state INTEGER,"
      "  minutes_left INTEGER,"
      "  flags INTEGER," /* 1 vm, 2 counted */
      "  minimum INTEGER,"
      "  count INTEGER,"
      "  result INTEGER,"
      "  message TEXT);"
      "CREATE INDEX events_time ON events (time);";

/* Version 2: the summaries the activity reports read instead of every event
 * (docs/reports.md). report_hours: requests, activations (successes) and new
 * activations (a machine ID's first success on record) per UTC hour and
 * edition ('' for none). report_machines: per machine ID, edition and VM flag,
 * its first and latest success. Since version 3 the writer adds each
 * transaction's requests to them itself (volact-records-codec.c: one upsert
 * per hour and edition per transaction, not a trigger per event); the
 * deletes of the size cap still go through a trigger, in the transaction that
 * prunes the events, so a crash never leaves them disagreeing. %u is the
 * client request event. */
static const char summary_sql[]
    = "CREATE TABLE report_hours ("
      "  hour INTEGER NOT NULL,"
      "  edition NOT NULL,"
      "  requests INTEGER NOT NULL,"
      "  activations INTEGER NOT NULL,"
      "  new INTEGER NOT NULL,"
      "  PRIMARY KEY (hour, edition)) WITHOUT ROWID;"
      "CREATE TABLE report_machines ("
      "  cmid BLOB NOT NULL,"
      "  edition NOT NULL,"
      "  vm INTEGER NOT NULL,"
      "  first INTEGER NOT NULL,"
      "  last INTEGER NOT NULL,"
      "  PRIMARY KEY (cmid, edition, vm)) WITHOUT ROWID;"
      "CREATE INDEX report_machines_last ON report_machines (last);"
      /* Pruned requests leave the hour counts, a pruned first success its new activation;
       * report_machines is trimmed by the writer after the whole delete. */
      "CREATE TRIGGER report_prune AFTER DELETE ON events WHEN OLD.event = %u BEGIN"
      "  UPDATE report_hours SET requests = requests - 1,"
      "    activations = activations - (OLD.result = 0),"
      "    new = new - (OLD.result = 0 AND NOT EXISTS ("
      "      SELECT 1 FROM report_machines WHERE cmid = OLD.cmid AND first < OLD.time))"
      "    WHERE hour = OLD.time - OLD.time %% 3600 AND edition = coalesce (OLD.edition, '');"
      "END;";

/* Version 4: where clients.db stands in the journal (volact-records-journal.c). store is
 * drawn at random when the table is made, so a journal is only ever replayed into the
 * database it was written for; applied is the sequence number of the last journal row
 * committed here, in the same transaction as that row; pushed, the last one known to be in
 * the shared store (volact-records-pool.c; written with the next transaction, so it may lag:
 * writing a row to the shared store again changes nothing). */
static const char journal_sql[]
    = "CREATE TABLE IF NOT EXISTS journal_state ("
      "  id INTEGER PRIMARY KEY CHECK (id = 1),"
      "  store INTEGER NOT NULL,"
      "  applied INTEGER NOT NULL,"
      "  pushed INTEGER NOT NULL);"
      "INSERT OR IGNORE INTO journal_state VALUES (1, abs (random ()) % 9007199254740991 + 1, 0, 0);";

/* Builds the summaries from the events a version 1 database holds (%u: the request event). */
static const char summary_build_sql[]
    = "INSERT INTO report_machines SELECT cmid, coalesce (edition, ''), flags & 1, min (time),"
      "  max (time) FROM events WHERE event = %u AND result = 0 AND cmid IS NOT NULL"
      "  GROUP BY 1, 2, 3;"
      "INSERT INTO report_hours SELECT time - time %% 3600, coalesce (edition, ''), count (*),"
      "  sum (result = 0), 0 FROM events WHERE event = %u GROUP BY 1, 2;"
      /* A machine's first success: SQLite takes the edition from the min () row. */
      "UPDATE report_hours SET new = x.n FROM ("
      "  SELECT h, ed, count (*) n FROM ("
      "    SELECT min (first) - min (first) %% 3600 h, edition ed FROM report_machines"
      "    GROUP BY cmid)"
      "  GROUP BY 1, 2) x WHERE hour = x.h AND edition = x.ed;";

gboolean
volact_records_db_fail (sqlite3 *db, const char *path, const char *what, GError **error)
{
  g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: %s: %s", path, what,
               db ? sqlite3_errmsg (db) : "out of memory");
  return FALSE;
}

static gboolean
exec_sql (sqlite3 *db, const char *path, const char *sql, GError **error)
{
  char *msg = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: %s", path, msg ? msg : sqlite3_errmsg (db));
    sqlite3_free (msg);
    return FALSE;
  }
  return TRUE;
}

sqlite3_stmt *
volact_records_prepare (sqlite3 *db, const char *path, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v3 (db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK) {
    volact_records_db_fail (db, path, "cannot prepare a statement", error);
    sqlite3_finalize (stmt);
    return NULL;
  }
  return stmt;
}

/* Runs a statement to completion and resets it. */
gboolean
volact_records_step_done (sqlite3_stmt *stmt)
{
  int rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  return rc == SQLITE_DONE;
}

/* Creates PATH 0600 unless it exists; tightens an existing file to 0600.
 * SQLite gives the -wal and -shm files the database file's mode. */
static gboolean
create_private_file (const char *path, GError **error)
{
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  struct stat st;
  int saved;

  if (fd < 0) {
    saved = errno;
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: cannot create: %s", path,
                 g_strerror (saved));
    return FALSE;
  }
  if (fstat (fd, &st) != 0 || ((st.st_mode & 07777) != 0600 && fchmod (fd, 0600) != 0)) {
    saved = errno;
    close (fd);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: cannot make it private: %s", path,
                 g_strerror (saved));
    return FALSE;
  }
  close (fd);
  return TRUE;
}

static gboolean
create_or_check_schema (VolactRecords *records, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *summaries = NULL;
  g_autofree char *build = NULL;
  gint64 t0;
  int version;

  if (!(stmt = volact_records_prepare (records->db, records->path, "PRAGMA user_version", error)))
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return volact_records_db_fail (records->db, records->path, "cannot read the schema version",
                                   error);
  version = sqlite3_column_int (stmt, 0);
  sqlite3_reset (stmt); /* a statement in progress would block COMMIT */
  if (version == SCHEMA_VERSION)
    return TRUE;
  if (version > SCHEMA_VERSION) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO,
                 "%s: schema version %d was written by a newer volact (this one knows %d)",
                 records->path, version, SCHEMA_VERSION);
    return FALSE;
  }
  if (!exec_sql (records->db, records->path, "BEGIN IMMEDIATE", error))
    return FALSE;
  summaries = g_strdup_printf (summary_sql, VOLACT_EVENT_CLIENT_REQUEST);
  build = g_strdup_printf (summary_build_sql, VOLACT_EVENT_CLIENT_REQUEST,
                           VOLACT_EVENT_CLIENT_REQUEST);
  if (version == 1) /* one time: a store written before the summaries existed */
    g_message ("volact records: %s: building the report summaries from the stored events",
               records->path);
  if (version == 2) /* the summaries stay; their insert trigger goes (the writer does it) */
    g_message ("volact records: %s: schema version 2 to %d: the report summaries are kept by "
               "the writer from now on",
               records->path, SCHEMA_VERSION);
  t0 = g_get_monotonic_time ();
  if ((version == 0 && !exec_sql (records->db, records->path, schema_sql, error))
      || (version < 2 && !exec_sql (records->db, records->path, summaries, error))
      || (version == 1 && !exec_sql (records->db, records->path, build, error))
      || (version == 2
          && !exec_sql (records->db, records->path, "DROP TRIGGER IF EXISTS report_request",
                        error))
      || (version < 4 && !exec_sql (records->db, records->path, journal_sql, error))
      || !exec_sql (records->db, records->path,
                    "PRAGMA user_version = " G_STRINGIFY (SCHEMA_VERSION), error)
      || !exec_sql (records->db, records->path, "COMMIT", error)) {
    sqlite3_exec (records->db, "ROLLBACK", NULL, NULL, NULL);
    g_prefix_error (error, "schema version %d to %d: ", version, SCHEMA_VERSION);
    return FALSE;
  }
  if (version == 1) {
    /* The build went through the WAL: copy it into the database now rather than leave
     * every reader looking pages up in a large log. */
    sqlite3_wal_checkpoint_v2 (records->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    g_message ("volact records: %s: report summaries built in %.1f s", records->path,
               (g_get_monotonic_time () - t0) / 1e6);
  }
  return TRUE;
}

/* Opens clients.journal and applies what clients.db has not taken yet (rows acknowledged
 * before a crash), before anything is loaded from clients.db. */
static gboolean
replay_journal (VolactRecords *records, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *dir = g_path_get_dirname (records->path);
  g_autofree char *path = g_build_filename (dir, JOURNAL_NAME, NULL);
  guint64 applied;
  Row *rows = NULL;
  guint n = 0;
  gboolean ok;

  if (!(stmt = volact_records_prepare (records->db, records->path,
                                       "SELECT store, applied, pushed FROM journal_state WHERE id = 1",
                                       error)))
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return volact_records_db_fail (records->db, records->path,
                                   "cannot read where it stands in the journal", error);
  records->store_id = (guint64) sqlite3_column_int64 (stmt, 0);
  applied = (guint64) sqlite3_column_int64 (stmt, 1);
  records->pushed_seq = (guint64) sqlite3_column_int64 (stmt, 2);
  sqlite3_reset (stmt);
  if (!(records->journal = volact_journal_open (path, error))
      || !volact_journal_read (records->journal, records->store_id, applied, &rows, &n, error))
    return FALSE;
  if (n == 0)
    return TRUE;
  ok = volact_records_apply (records, rows, volact_journal_last_seq (records->journal), warnings,
                             error);
  volact_records_free_rows (rows);
  for (guint i = 0; i < warnings->len; i++)
    g_warning ("%s (event %u)", (const char *) g_ptr_array_index (warnings, i),
               VOLACT_EVENT_DUPLICATE_CMID);
  if (!ok) {
    g_prefix_error (error, "%s: cannot apply the journal: ", path);
    return FALSE;
  }
  g_message ("volact records: %s: applied to %s the rows the last run acknowledged after its "
             "last write there (%u)",
             path, records->path, n);
  /* Not rewound here: a shared store may lack some of these rows too (the writer rewinds
   * once both have everything). */
  return TRUE;
}

static gboolean
open_db (VolactRecords *records, GError **error)
{
  g_autoptr (sqlite3_stmt) mode = NULL;
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;

  if (sqlite3_open_v2 (records->path, &records->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | flags, NULL)
      != SQLITE_OK)
    return volact_records_db_fail (records->db, records->path, "cannot open", error);
  sqlite3_extended_result_codes (records->db, 1);
  sqlite3_busy_timeout (records->db, BUSY_TIMEOUT_MS);
  if (!(mode
        = volact_records_prepare (records->db, records->path, "PRAGMA journal_mode = WAL", error)))
    return FALSE;
  if (sqlite3_step (mode) != SQLITE_ROW
      || g_ascii_strcasecmp ((const char *) sqlite3_column_text (mode, 0), "wal") != 0)
    return volact_records_db_fail (records->db, records->path, "cannot use write-ahead logging",
                                   error);
  g_clear_pointer (&mode, sqlite3_finalize);
  /* FULL: the WAL is fsync'ed at every commit, so an acknowledged record
   * survives power loss, not only a crash of volactd. */
  if (!exec_sql (records->db, records->path,
                 "PRAGMA synchronous = FULL;"
                 "PRAGMA journal_size_limit = 16777216;"
                 "PRAGMA temp_store = MEMORY;"
                 /* 2 MiB of page cache for the writer: the rows of a batch land
                  * on random leaves of tables far bigger than any cache, so a
                  * bigger one mostly holds pages not needed again (16 MiB cost
                  * 16 MiB of RSS for under 1 us per activation); the interior
                  * pages every lookup needs fit. No mmap: mapped database
                  * pages would count as the host's memory too. */
                 "PRAGMA cache_size = -2048;",
                 error))
    return FALSE;
  if (!create_or_check_schema (records, error) || !volact_records_prepare_writer (records, error)
      || !replay_journal (records, error) || !volact_records_load_names (records, error)
      || !volact_records_load_clients (records, error)
      || !volact_records_load_event_stats (records, error))
    return FALSE;

  if (sqlite3_open_v2 (records->path, &records->rdb, SQLITE_OPEN_READONLY | flags, NULL)
      != SQLITE_OK)
    return volact_records_db_fail (records->rdb, records->path, "cannot open for reading", error);
  sqlite3_busy_timeout (records->rdb, BUSY_TIMEOUT_MS);
  return volact_records_prepare_reader (records, error);
}

static void
pool_info_free (gpointer p)
{
  PoolInfo *info = p;
  if (info != NULL) {
    g_free (info->name);
    g_free (info);
  }
}

static void
finalize_statements (VolactRecords *records)
{
  sqlite3_stmt **all[] = {
    &records->st_begin,           &records->st_commit,
    &records->st_rollback,        &records->st_pool,
    &records->st_edition,         &records->st_client,
    &records->st_event,           &records->st_purge,
    &records->st_clamp,
    &records->st_names,           &records->st_cap_delete,
    &records->st_applied,
    &records->st_hours,           &records->st_machine_known,
    &records->st_machine,
    &records->st_q_clients,       &records->st_q_events,
    &records->st_q_clients_count, &records->st_q_events_count,
  };
  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    g_clear_pointer (all[i], sqlite3_finalize);
}

static void
records_free (VolactRecords *records)
{
  finalize_statements (records);
  if (records->rdb)
    sqlite3_close (records->rdb);
  if (records->db)
    sqlite3_close (records->db);
  volact_journal_close (records->journal);
  volact_pool_free (records->pool);
  volact_records_free_rows (records->head);
  g_array_unref (records->w_hours);
  volact_index_free (records->index);
  g_ptr_array_unref (records->pools);
  g_hash_table_unref (records->pool_ids);
  g_ptr_array_unref (records->editions);
  g_hash_table_unref (records->edition_ids);
  g_mutex_clear (&records->lock);
  g_mutex_clear (&records->read_lock);
  g_cond_clear (&records->wake);
  g_cond_clear (&records->committed);
  g_free (records->path);
  g_free (records);
}

VolactRecords *
volact_records_open (const char *state_dir, guint64 event_cap_bytes, GError **error)
{
  VolactRecords *records;

  g_return_val_if_fail (state_dir != NULL, NULL);
  if (g_mkdir_with_parents (state_dir, 0700) != 0) {
    int saved = errno;
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: cannot create: %s", state_dir,
                 g_strerror (saved));
    return NULL;
  }
  records = g_new0 (VolactRecords, 1);
  g_mutex_init (&records->lock);
  g_mutex_init (&records->read_lock);
  g_cond_init (&records->wake);
  g_cond_init (&records->committed);
  records->path = g_build_filename (state_dir, DB_NAME, NULL);
  records->pools = g_ptr_array_new_with_free_func (pool_info_free);
  g_ptr_array_add (records->pools, NULL);
  records->pool_ids = g_hash_table_new (g_str_hash, g_str_equal);
  records->editions = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (records->editions, NULL);
  records->edition_ids = g_hash_table_new (g_str_hash, g_str_equal);
  records->event_cap = event_cap_bytes ? event_cap_bytes : VOLACT_RECORDS_DEFAULT_EVENT_CAP;
  records->commit_fd = -1;
  records->group_target = 1;
  records->w_hours = g_array_new (FALSE, FALSE, sizeof (HourCount));

  if (!create_private_file (records->path, error) || !open_db (records, error)) {
    g_prefix_error (error, "cannot open the client records: ");
    records_free (records);
    return NULL;
  }
  records->events = records->w_events;
  records->bytes_per_event = records->w_bytes_per_event;
  records->last_idle_purge = g_get_monotonic_time ();
  g_debug ("volact records: %s: %" G_GSIZE_FORMAT " records, %" G_GUINT64_FORMAT
           " events (%.0f bytes each)",
           records->path, volact_index_size (records->index), records->w_events,
           records->w_bytes_per_event);
  records->writer = g_thread_new ("volact-records", volact_records_writer_main, records);
  return records;
}

void
volact_records_close (VolactRecords *records)
{

  if (records == NULL)
    return;
  volact_pool_stop (records); /* it merges into the index: before the writer goes */
  g_mutex_lock (&records->lock);
  records->stopping = TRUE;
  g_cond_signal (&records->wake);
  g_mutex_unlock (&records->lock);
  g_thread_join (records->writer);

  volact_records_on_commit (records, NULL, NULL); /* drops the report source */
  records_free (records);
}
