/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Client records: the queries behind `volactctl clients` and `volactctl
 * events`, on the read-only connection. The SQL is prepared here, next to
 * the code that reads its columns by position.
 */
#include "config.h"

#include "volact-records-private.h"

/* Which rows a query returns; its count statement counts the same rows. */
#define CLIENTS_FROM "FROM clients c LEFT JOIN pools pl ON pl.id = c.pool "
#define CLIENTS_WHERE                                                                              \
  "WHERE (?1 = 0 OR (c.flags & 4) <> 0) "                                                          \
  "  AND c.last_seen > ?2 - 86400 * coalesce (pl.retention_days, 30) "
#define EVENTS_WHERE "WHERE e.time >= ?1 "

gboolean
volact_records_prepare_reader (VolactRecords *records, GError **error)
{
  sqlite3 *db = records->rdb;
  const char *p = records->path;

  /* clang-format off */
  if (!(records->st_q_clients = volact_records_prepare (db, p,
          "SELECT c.cmid, c.name, c.other_name, pl.name, "
          "  CASE WHEN typeof (c.edition) = 'text' THEN c.edition ELSE ed.name END, "
          "  c.last_seen, c.flags, c.state, c.minutes_left "
          CLIENTS_FROM "  LEFT JOIN editions ed ON ed.id = c.edition " CLIENTS_WHERE
          "ORDER BY c.last_seen DESC LIMIT ?3", error))
      || !(records->st_q_clients_count = volact_records_prepare (db, p,
          "SELECT count(*) " CLIENTS_FROM CLIENTS_WHERE, error))
      || !(records->st_q_events = volact_records_prepare (db, p,
          "SELECT e.id, e.time, e.event, pl.name, e.address, e.cmid, e.name, "
          "  CASE WHEN typeof (e.edition) = 'text' THEN e.edition ELSE ed.name END, "
          "  e.state, e.minutes_left, e.flags, e.minimum, e.count, e.result, e.message "
          "FROM events e LEFT JOIN pools pl ON pl.id = e.pool "
          "  LEFT JOIN editions ed ON ed.id = e.edition "
          EVENTS_WHERE "ORDER BY e.time, e.id LIMIT ?2", error))
      || !(records->st_q_events_count = volact_records_prepare (db, p,
          "SELECT count(*) FROM events e " EVENTS_WHERE, error)))
    return FALSE;
  /* clang-format on */
  return TRUE;
}

/* ---------------------------------------------------------------- rows to dictionaries */

static void
dict_add_text (GVariantDict *d, const char *key, const unsigned char *text)
{
  const char *s = (const char *) text;

  if (s == NULL)
    return;
  if (g_utf8_validate (s, -1, NULL)) {
    g_variant_dict_insert (d, key, "s", s);
  } else {
    g_autofree char *valid = g_utf8_make_valid (s, -1);
    g_variant_dict_insert (d, key, "s", valid);
  }
}

static void
dict_add_cmid (GVariantDict *d, sqlite3_stmt *s, int col)
{
  char uuid[37];

  if (sqlite3_column_type (s, col) == SQLITE_BLOB && sqlite3_column_bytes (s, col) == 16) {
    volact_records_format_cmid (sqlite3_column_blob (s, col), uuid);
    g_variant_dict_insert (d, "cmid", "s", uuid);
  }
}

/* A row of st_q_clients. */
static void
decode_client (GVariantDict *d, sqlite3_stmt *s)
{
  int flags = sqlite3_column_int (s, 6);

  dict_add_cmid (d, s, 0);
  dict_add_text (d, "name", sqlite3_column_text (s, 1));
  if (flags & CLIENT_DUPLICATE)
    dict_add_text (d, "other_name", sqlite3_column_text (s, 2));
  dict_add_text (d, "pool", sqlite3_column_text (s, 3));
  dict_add_text (d, "edition", sqlite3_column_text (s, 4));
  g_variant_dict_insert (d, "last_seen", "x", (gint64) sqlite3_column_int64 (s, 5));
  g_variant_dict_insert (d, "vm", "b", (flags & CLIENT_VM) != 0);
  g_variant_dict_insert (d, "duplicate", "b", (flags & CLIENT_DUPLICATE) != 0);
  g_variant_dict_insert (d, "counted", "b", (flags & CLIENT_COUNTED) != 0);
  g_variant_dict_insert (d, "state", "u", (guint32) sqlite3_column_int64 (s, 7));
  g_variant_dict_insert (d, "minutes_left", "u", (guint32) sqlite3_column_int64 (s, 8));
}

/* A row of st_q_events. */
static void
decode_event (GVariantDict *d, sqlite3_stmt *s)
{
  g_variant_dict_insert (d, "id", "t", (guint64) sqlite3_column_int64 (s, 0));
  g_variant_dict_insert (d, "time", "x", (gint64) sqlite3_column_int64 (s, 1));
  g_variant_dict_insert (d, "event", "u", (guint32) sqlite3_column_int64 (s, 2));
  dict_add_text (d, "pool", sqlite3_column_text (s, 3));
  if (sqlite3_column_type (s, 4) == SQLITE_BLOB) {
    g_autofree char *a
        = volact_records_format_address (sqlite3_column_blob (s, 4), sqlite3_column_bytes (s, 4));
    dict_add_text (d, "address", (const unsigned char *) a);
  } else {
    dict_add_text (d, "address", sqlite3_column_text (s, 4));
  }
  dict_add_cmid (d, s, 5);
  dict_add_text (d, "name", sqlite3_column_text (s, 6));
  dict_add_text (d, "edition", sqlite3_column_text (s, 7));
  if (sqlite3_column_type (s, 8) != SQLITE_NULL) { /* client events */
    int flags = sqlite3_column_int (s, 10);
    g_variant_dict_insert (d, "state", "u", (guint32) sqlite3_column_int64 (s, 8));
    g_variant_dict_insert (d, "minutes_left", "u", (guint32) sqlite3_column_int64 (s, 9));
    g_variant_dict_insert (d, "vm", "b", (flags & EVENT_VM) != 0);
    g_variant_dict_insert (d, "counted", "b", (flags & EVENT_COUNTED) != 0);
    g_variant_dict_insert (d, "minimum", "u", (guint32) sqlite3_column_int64 (s, 11));
    g_variant_dict_insert (d, "count", "u", (guint32) sqlite3_column_int64 (s, 12));
    g_variant_dict_insert (d, "result", "u", (guint32) sqlite3_column_int64 (s, 13));
  }
  dict_add_text (d, "message", sqlite3_column_text (s, 14));
}

/* ---------------------------------------------------------------- queries */

typedef void (*DecodeFunc) (GVariantDict *d, sqlite3_stmt *s);

/* The LIMIT parameter for a cap of LIMIT rows (0: none): one row more, so
 * that its presence says the answer was cut. */
static sqlite3_int64
limit_param (guint limit)
{
  return limit ? (sqlite3_int64) limit + 1 : -1;
}

/* Runs ROWS (bound, its LIMIT from limit_param) and, only when more than
 * LIMIT rows match, COUNT (bound alike), both in one read transaction so
 * that the total and the rows agree. Returns the rows (a floating aa{sv})
 * and *TOTAL, the number that match; or NULL with ERROR ("PATH: cannot
 * read: SQLite's message"). Called under read_lock; leaves both statements reset. */
static GVariant *
run_query (VolactRecords *records, sqlite3_stmt *rows, sqlite3_stmt *count, guint limit,
           DecodeFunc decode, guint64 *total, GError **error)
{
  GVariantBuilder builder;
  guint64 n = 0;
  gboolean ok = FALSE;
  int rc;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  if (sqlite3_exec (records->rdb, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
    volact_records_db_fail (records->rdb, records->path, "cannot read", error);
    goto out;
  }
  while ((rc = sqlite3_step (rows)) == SQLITE_ROW && (limit == 0 || n < limit)) {
    g_auto (GVariantDict) d;

    g_variant_dict_init (&d, NULL);
    decode (&d, rows);
    g_variant_builder_add_value (&builder, g_variant_dict_end (&d));
    n++;
  }
  *total = n;
  if (rc == SQLITE_ROW) { /* the row past the cap: count them all */
    if (sqlite3_step (count) == SQLITE_ROW)
      *total = MAX ((guint64) sqlite3_column_int64 (count, 0), n + 1);
    else
      rc = SQLITE_ERROR;
  }
  ok = rc == SQLITE_DONE || rc == SQLITE_ROW;
  if (!ok) /* the message first: reset and COMMIT replace it */
    volact_records_db_fail (records->rdb, records->path, "cannot read", error);

out:
  sqlite3_reset (rows);
  sqlite3_clear_bindings (rows);
  sqlite3_reset (count);
  sqlite3_clear_bindings (count);
  if (!sqlite3_get_autocommit (records->rdb))
    sqlite3_exec (records->rdb, "COMMIT", NULL, NULL, NULL); /* ends the read; nothing to keep */
  if (!ok) {
    g_variant_builder_clear (&builder);
    return NULL;
  }
  return g_variant_builder_end (&builder);
}

GVariant *
volact_records_clients (VolactRecords *records, gboolean duplicates_only, guint limit,
                        guint64 *total, GError **error)
{
  gint64 now = real_now ();
  guint64 n = 0;
  GVariant *rows;

  g_return_val_if_fail (records != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  volact_records_catch_up (records);
  g_mutex_lock (&records->read_lock);
  sqlite3_bind_int (records->st_q_clients, 1, duplicates_only ? 1 : 0);
  sqlite3_bind_int64 (records->st_q_clients, 2, now);
  sqlite3_bind_int64 (records->st_q_clients, 3, limit_param (limit));
  sqlite3_bind_int (records->st_q_clients_count, 1, duplicates_only ? 1 : 0);
  sqlite3_bind_int64 (records->st_q_clients_count, 2, now);
  rows = run_query (records, records->st_q_clients, records->st_q_clients_count, limit,
                    decode_client, &n, error);
  g_mutex_unlock (&records->read_lock);
  if (rows != NULL && total != NULL)
    *total = n;
  return rows;
}

GVariant *
volact_records_events (VolactRecords *records, gint64 since, guint limit, guint64 *total,
                       GError **error)
{
  guint64 n = 0;
  GVariant *rows;

  g_return_val_if_fail (records != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  volact_records_catch_up (records);
  g_mutex_lock (&records->read_lock);
  sqlite3_bind_int64 (records->st_q_events, 1, since);
  sqlite3_bind_int64 (records->st_q_events, 2, limit_param (limit));
  sqlite3_bind_int64 (records->st_q_events_count, 1, since);
  rows = run_query (records, records->st_q_events, records->st_q_events_count, limit, decode_event,
                    &n, error);
  g_mutex_unlock (&records->read_lock);
  if (rows != NULL && total != NULL)
    *total = n;
  return rows;
}
