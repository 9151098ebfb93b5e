/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The authority's ledger of issued host keys and activated hosts (SQLite). */
#include "config.h"

#include "authority-ledger.h"

#include "authority-sign.h"

#include "volact-bytes.h"
#include "volact-error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#define LEDGER_SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 10000

struct _VolactLedger {
  sqlite3 *db;
  char *path;
};

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

static const char schema_sql[]
    = "CREATE TABLE IF NOT EXISTS issued_keys ("
      "  serial INTEGER PRIMARY KEY CHECK (serial BETWEEN 1 AND 281474976710655),"
      "  key_group INTEGER NOT NULL CHECK (key_group BETWEEN 1 AND 1023),"
      "  nonce INTEGER NOT NULL CHECK (nonce BETWEEN 0 AND 4294967295),"
      "  max_hosts INTEGER NOT NULL CHECK (max_hosts >= 1),"
      "  max_activations INTEGER NOT NULL CHECK (max_activations BETWEEN 1 AND 255),"
      "  issued_at INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS key_hosts ("
      "  serial INTEGER NOT NULL REFERENCES issued_keys (serial),"
      "  host_id BLOB NOT NULL CHECK (length (host_id) = 16),"
      "  first_activation INTEGER NOT NULL,"
      "  last_activation INTEGER NOT NULL,"
      "  activations INTEGER NOT NULL CHECK (activations BETWEEN 1 AND 255),"
      "  PRIMARY KEY (serial, host_id)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS activation_log ("
      "  id INTEGER PRIMARY KEY,"
      "  at INTEGER NOT NULL,"
      "  serial INTEGER NOT NULL,"
      "  key_group INTEGER NOT NULL,"
      "  host_id BLOB NOT NULL,"
      "  fingerprint BLOB NOT NULL,"
      "  result INTEGER NOT NULL," /* 0 granted, else the volact error code */
      "  activation_number INTEGER);"
      "CREATE INDEX IF NOT EXISTS activation_log_serial ON activation_log (serial);"
      "PRAGMA user_version = 1;";

static gboolean
db_error (VolactLedger *ledger, GError **error, const char *what)
{
  g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: %s: %s", ledger->path, what,
               sqlite3_errmsg (ledger->db));
  return FALSE;
}

/* Runs fixed SQL without parameters (schema, pragmas, transaction control). */
static gboolean
exec_sql (VolactLedger *ledger, const char *sql, GError **error)
{
  char *msg = NULL;

  if (sqlite3_exec (ledger->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: %s", ledger->path,
                 msg ? msg : sqlite3_errmsg (ledger->db));
    sqlite3_free (msg);
    return FALSE;
  }
  return TRUE;
}

static sqlite3_stmt *
prepare (VolactLedger *ledger, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (ledger->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
    db_error (ledger, error, "cannot prepare a statement");
    sqlite3_finalize (stmt);
    return NULL;
  }
  return stmt;
}

/* Steps a statement that returns no rows. */
static gboolean
step_done (VolactLedger *ledger, sqlite3_stmt *stmt, GError **error)
{
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return db_error (ledger, error, "cannot write");
  return TRUE;
}

static void
rollback (VolactLedger *ledger)
{
  /* Fails harmlessly when SQLite already rolled back on its own. */
  sqlite3_exec (ledger->db, "ROLLBACK", NULL, NULL, NULL);
}

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* Creates PATH with mode 0600 unless it exists, so SQLite (which gives the
 * -wal and -shm files the database's mode) never creates a readable ledger. */
static gboolean
create_private_file (const char *path, GError **error)
{
  int fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  int saved;

  if (fd >= 0) {
    if (fchmod (fd, 0600) != 0 || fsync (fd) != 0) {
      saved = errno;
      close (fd);
      g_unlink (path);
      g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: %s", path, g_strerror (saved));
      return FALSE;
    }
    close (fd);
    return TRUE;
  }
  saved = errno;
  if (saved == EEXIST)
    return TRUE;
  g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: cannot create: %s", path, g_strerror (saved));
  return FALSE;
}

VolactLedger *
volact_ledger_open (const char *dir, GError **error)
{
  g_autoptr (VolactLedger) ledger = g_new0 (VolactLedger, 1);
  g_autoptr (sqlite3_stmt) stmt = NULL;
  struct stat st;
  int version;

  ledger->path = g_build_filename (dir, VOLACT_LEDGER_FILE, NULL);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: no such folder", dir);
    return NULL;
  }
  if (!create_private_file (ledger->path, error))
    return NULL;
  if (g_lstat (ledger->path, &st) == 0 && S_ISREG (st.st_mode) && (st.st_mode & 077) != 0)
    g_warning ("%s: the ledger is accessible to group or others (mode %04o); it should be 0600",
               ledger->path, (guint) (st.st_mode & 07777));

  if (sqlite3_open_v2 (ledger->path, &ledger->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX, NULL)
      != SQLITE_OK) {
    if (ledger->db == NULL) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: cannot open: out of memory",
                   ledger->path);
      return NULL;
    }
    db_error (ledger, error, "cannot open");
    return NULL;
  }
  sqlite3_extended_result_codes (ledger->db, 1);
  sqlite3_busy_timeout (ledger->db, BUSY_TIMEOUT_MS);

  /* WAL must really be on: the pragma answers with the mode it ended up in. */
  stmt = prepare (ledger, "PRAGMA journal_mode = WAL", error);
  if (stmt == NULL)
    return NULL;
  if (sqlite3_step (stmt) != SQLITE_ROW) {
    db_error (ledger, error, "cannot set the journal mode");
    return NULL;
  }
  if (g_ascii_strcasecmp ((const char *) sqlite3_column_text (stmt, 0), "wal") != 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: WAL journal mode is not available",
                 ledger->path);
    return NULL;
  }
  g_clear_pointer (&stmt, sqlite3_finalize);
  if (!exec_sql (ledger, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;", error))
    return NULL;

  stmt = prepare (ledger, "PRAGMA user_version", error);
  if (stmt == NULL)
    return NULL;
  if (sqlite3_step (stmt) != SQLITE_ROW) {
    db_error (ledger, error, "cannot read the schema version");
    return NULL;
  }
  version = sqlite3_column_int (stmt, 0);
  g_clear_pointer (&stmt, sqlite3_finalize);
  if (version > LEDGER_SCHEMA_VERSION) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO,
                 "%s: ledger schema version %d is newer than this volact-authority (%d)",
                 ledger->path, version, LEDGER_SCHEMA_VERSION);
    return NULL;
  }
  if (!exec_sql (ledger, "BEGIN IMMEDIATE", error))
    return NULL;
  if (!exec_sql (ledger, schema_sql, error) || !exec_sql (ledger, "COMMIT", error)) {
    rollback (ledger);
    return NULL;
  }
  return g_steal_pointer (&ledger);
}

void
volact_ledger_close (VolactLedger *ledger)
{
  if (ledger == NULL)
    return;
  if (ledger->db != NULL && sqlite3_close (ledger->db) != SQLITE_OK)
    g_warning ("%s: cannot close the ledger cleanly: %s", ledger->path,
               sqlite3_errmsg (ledger->db));
  g_free (ledger->path);
  g_free (ledger);
}

const char *
volact_ledger_path (VolactLedger *ledger)
{
  return ledger->path;
}

static gboolean
check_limits (guint max_hosts, guint max_activations, GError **error)
{
  if (max_hosts > VOLACT_LEDGER_MAX_HOSTS_LIMIT) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "max hosts %u is out of range (1..%u)",
                 max_hosts, VOLACT_LEDGER_MAX_HOSTS_LIMIT);
    return FALSE;
  }
  if (max_activations > VOLACT_LEDGER_MAX_ACTIVATIONS_LIMIT) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "max activations %u is out of range (1..%u)",
                 max_activations, VOLACT_LEDGER_MAX_ACTIVATIONS_LIMIT);
    return FALSE;
  }
  return TRUE;
}

static gboolean
issue_key_locked (VolactLedger *ledger, guint group, guint max_hosts, guint max_activations,
                  VolactHostKey *out, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  VolactHostKey key;
  guint64 serial;

  stmt = prepare (ledger, "SELECT coalesce (max (serial), 0) FROM issued_keys", error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return db_error (ledger, error, "cannot read the issued keys");
  serial = (guint64) sqlite3_column_int64 (stmt, 0) + 1;
  g_clear_pointer (&stmt, sqlite3_finalize);
  if (serial > VOLACT_KEY_SERIAL_MAX) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "%s: all key serials are used",
                 ledger->path);
    return FALSE;
  }
  if (!volact_key_generate (group, serial, &key, error))
    return FALSE;

  stmt = prepare (ledger,
                  "INSERT INTO issued_keys (serial, key_group, nonce, max_hosts, "
                  "max_activations, issued_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) key.serial);
  sqlite3_bind_int (stmt, 2, (int) key.group);
  sqlite3_bind_int64 (stmt, 3, key.nonce);
  sqlite3_bind_int64 (stmt, 4, max_hosts ? max_hosts : VOLACT_LEDGER_DEFAULT_MAX_HOSTS);
  sqlite3_bind_int (
      stmt, 5, (int) (max_activations ? max_activations : VOLACT_LEDGER_DEFAULT_MAX_ACTIVATIONS));
  sqlite3_bind_int64 (stmt, 6, now_seconds ());
  if (!step_done (ledger, stmt, error))
    return FALSE;
  *out = key;
  return TRUE;
}

gboolean
volact_ledger_issue_key (VolactLedger *ledger, guint group, guint max_hosts, guint max_activations,
                         VolactHostKey *out, GError **error)
{
  VolactHostKey key;

  if (group < VOLACT_KEY_GROUP_MIN || group > VOLACT_KEY_GROUP_MAX) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY, "key group %u is out of range (%u..%u)",
                 group, VOLACT_KEY_GROUP_MIN, VOLACT_KEY_GROUP_MAX);
    return FALSE;
  }
  if (!check_limits (max_hosts, max_activations, error))
    return FALSE;
  /* IMMEDIATE: two authorities on one ledger never hand out the same serial. */
  if (!exec_sql (ledger, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (!issue_key_locked (ledger, group, max_hosts, max_activations, &key, error)
      || !exec_sql (ledger, "COMMIT", error)) {
    rollback (ledger);
    return FALSE;
  }
  *out = key;
  return TRUE;
}

gboolean
volact_ledger_set_limits (VolactLedger *ledger, guint64 serial, guint max_hosts,
                          guint max_activations, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  if (!check_limits (max_hosts, max_activations, error))
    return FALSE;
  if (serial == 0 || serial > VOLACT_KEY_SERIAL_MAX) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY,
                 "key serial %" G_GUINT64_FORMAT " is not in the ledger", serial);
    return FALSE;
  }
  stmt = prepare (ledger,
                  "UPDATE issued_keys SET"
                  " max_hosts = CASE WHEN ?2 > 0 THEN ?2 ELSE max_hosts END,"
                  " max_activations = CASE WHEN ?3 > 0 THEN ?3 ELSE max_activations END"
                  " WHERE serial = ?1",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) serial);
  sqlite3_bind_int64 (stmt, 2, max_hosts);
  sqlite3_bind_int64 (stmt, 3, max_activations);
  if (!step_done (ledger, stmt, error))
    return FALSE;
  if (sqlite3_changes (ledger->db) == 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY,
                 "key serial %" G_GUINT64_FORMAT " is not in the ledger", serial);
    return FALSE;
  }
  return TRUE;
}

gboolean
volact_ledger_get_key (VolactLedger *ledger, guint64 serial, VolactLedgerKeyInfo *out,
                       GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  if (serial == 0 || serial > VOLACT_KEY_SERIAL_MAX) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY,
                 "key serial %" G_GUINT64_FORMAT " is not in the ledger", serial);
    return FALSE;
  }
  stmt = prepare (ledger,
                  "SELECT key_group, nonce, max_hosts, max_activations, issued_at,"
                  " (SELECT count (*) FROM key_hosts h WHERE h.serial = k.serial)"
                  " FROM issued_keys k WHERE serial = ?1",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) serial);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY,
                 "key serial %" G_GUINT64_FORMAT " is not in the ledger", serial);
    return FALSE;
  }
  if (rc != SQLITE_ROW)
    return db_error (ledger, error, "cannot read the key");
  out->key.version = VOLACT_KEY_VERSION;
  out->key.group = (guint) sqlite3_column_int (stmt, 0);
  out->key.serial = serial;
  out->key.nonce = (guint32) sqlite3_column_int64 (stmt, 1);
  out->max_hosts = (guint) sqlite3_column_int64 (stmt, 2);
  out->max_activations = (guint) sqlite3_column_int64 (stmt, 3);
  out->issued_at = sqlite3_column_int64 (stmt, 4);
  out->hosts = (guint) sqlite3_column_int64 (stmt, 5);
  return TRUE;
}

/* Inside the transaction: decides and records. Returns FALSE with ERROR set
 * for a database failure; a refusal returns TRUE with *REFUSAL set. */
static gboolean
activate_locked (VolactLedger *ledger, const VolactInstallationId *iid, gint64 now,
                 guint8 *number_out, GError **refusal, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *host_hex = NULL;
  guint64 max_hosts = 0, max_activations = 0, activations = 0;
  gboolean key_ok = FALSE, known_host = FALSE;
  guint8 number = 0;
  int rc;

  /* The key: same serial, group and nonce as issued. */
  if (iid->key_serial >= 1 && iid->key_serial <= VOLACT_KEY_SERIAL_MAX) {
    stmt = prepare (ledger,
                    "SELECT key_group, nonce, max_hosts, max_activations FROM issued_keys"
                    " WHERE serial = ?1",
                    error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) iid->key_serial);
    rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
      key_ok = sqlite3_column_int64 (stmt, 0) == iid->key_group
               && sqlite3_column_int64 (stmt, 1) == (sqlite3_int64) iid->key_nonce;
      max_hosts = (guint64) sqlite3_column_int64 (stmt, 2);
      max_activations = (guint64) sqlite3_column_int64 (stmt, 3);
    } else if (rc != SQLITE_DONE) {
      return db_error (ledger, error, "cannot read the issued keys");
    }
    g_clear_pointer (&stmt, sqlite3_finalize);
  }

  if (!key_ok) {
    /* One message for an unknown serial and a wrong group or nonce: the
     * answer must not tell a guesser which serials exist. */
    g_set_error (refusal, VOLACT_ERROR, VOLACT_E_INVALID_KEY,
                 "key serial %" G_GUINT64_FORMAT " (group %u) was not issued by this authority",
                 iid->key_serial, (guint) iid->key_group);
  } else {
    stmt = prepare (ledger, "SELECT activations FROM key_hosts WHERE serial = ?1 AND host_id = ?2",
                    error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) iid->key_serial);
    sqlite3_bind_blob (stmt, 2, iid->host_id, VOLACT_HOST_ID_SIZE, SQLITE_STATIC);
    rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
      known_host = TRUE;
      activations = (guint64) sqlite3_column_int64 (stmt, 0);
    } else if (rc != SQLITE_DONE) {
      return db_error (ledger, error, "cannot read the activated hosts");
    }
    g_clear_pointer (&stmt, sqlite3_finalize);

    if (known_host) {
      if (activations >= max_activations || activations >= VOLACT_LEDGER_MAX_ACTIVATIONS_LIMIT) {
        host_hex = volact_hex (iid->host_id, VOLACT_HOST_ID_SIZE);
        g_set_error (refusal, VOLACT_ERROR, VOLACT_E_HOST_REACTIVATION_LIMIT,
                     "host %s has already been activated %" G_GUINT64_FORMAT
                     " of %" G_GUINT64_FORMAT " times with key serial %" G_GUINT64_FORMAT,
                     host_hex, activations, max_activations, iid->key_serial);
      } else {
        stmt = prepare (ledger,
                        "UPDATE key_hosts SET activations = activations + 1, last_activation = ?3"
                        " WHERE serial = ?1 AND host_id = ?2",
                        error);
        if (stmt == NULL)
          return FALSE;
        sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) iid->key_serial);
        sqlite3_bind_blob (stmt, 2, iid->host_id, VOLACT_HOST_ID_SIZE, SQLITE_STATIC);
        sqlite3_bind_int64 (stmt, 3, now);
        if (!step_done (ledger, stmt, error))
          return FALSE;
        g_clear_pointer (&stmt, sqlite3_finalize);
        number = (guint8) (activations + 1);
      }
    } else {
      guint64 hosts;

      stmt = prepare (ledger, "SELECT count (*) FROM key_hosts WHERE serial = ?1", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) iid->key_serial);
      if (sqlite3_step (stmt) != SQLITE_ROW)
        return db_error (ledger, error, "cannot count the activated hosts");
      hosts = (guint64) sqlite3_column_int64 (stmt, 0);
      g_clear_pointer (&stmt, sqlite3_finalize);

      if (hosts >= max_hosts) {
        g_set_error (refusal, VOLACT_ERROR, VOLACT_E_KEY_HOST_LIMIT,
                     "key serial %" G_GUINT64_FORMAT " has already activated %" G_GUINT64_FORMAT
                     " of %" G_GUINT64_FORMAT " hosts",
                     iid->key_serial, hosts, max_hosts);
      } else {
        stmt = prepare (ledger,
                        "INSERT INTO key_hosts (serial, host_id, first_activation,"
                        " last_activation, activations) VALUES (?1, ?2, ?3, ?3, 1)",
                        error);
        if (stmt == NULL)
          return FALSE;
        sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) iid->key_serial);
        sqlite3_bind_blob (stmt, 2, iid->host_id, VOLACT_HOST_ID_SIZE, SQLITE_STATIC);
        sqlite3_bind_int64 (stmt, 3, now);
        if (!step_done (ledger, stmt, error))
          return FALSE;
        g_clear_pointer (&stmt, sqlite3_finalize);
        number = 1;
      }
    }
  }

  /* Every request is logged, granted or refused. */
  stmt = prepare (ledger,
                  "INSERT INTO activation_log (at, serial, key_group, host_id, fingerprint,"
                  " result, activation_number) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, now);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) MIN (iid->key_serial, (guint64) G_MAXINT64));
  sqlite3_bind_int (stmt, 3, iid->key_group);
  sqlite3_bind_blob (stmt, 4, iid->host_id, VOLACT_HOST_ID_SIZE, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 5, iid->fingerprint, VOLACT_FINGERPRINT_SIZE, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 6, *refusal ? (sqlite3_int64) (guint32) (*refusal)->code : 0);
  if (number != 0)
    sqlite3_bind_int (stmt, 7, number);
  else
    sqlite3_bind_null (stmt, 7);
  if (!step_done (ledger, stmt, error))
    return FALSE;
  *number_out = number;
  return TRUE;
}

gboolean
volact_ledger_activate (VolactLedger *ledger, const VolactInstallationId *iid,
                        guint8 *activation_number_out, GError **error)
{
  g_autoptr (GError) refusal = NULL;
  guint8 number = 0;

  if (!exec_sql (ledger, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (!activate_locked (ledger, iid, now_seconds (), &number, &refusal, error)
      || !exec_sql (ledger, "COMMIT", error)) {
    rollback (ledger);
    return FALSE;
  }
  if (refusal != NULL) {
    g_propagate_error (error, g_steal_pointer (&refusal));
    return FALSE;
  }
  *activation_number_out = number;
  return TRUE;
}
