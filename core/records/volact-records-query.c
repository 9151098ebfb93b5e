/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Client records: the queries behind `volactctl clients` and `volactctl
 * events`, on the read-only connection. The SQL is prepared here, next to
 * the code that reads its columns by position.
 */
#include "config.h"

#include "volact-records-private.h"

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
          "FROM clients c LEFT JOIN pools pl ON pl.id = c.pool "
          "  LEFT JOIN editions ed ON ed.id = c.edition "
          "WHERE (?1 = 0 OR (c.flags & 4) <> 0) "
          "  AND c.last_seen > ?2 - 86400 * coalesce (pl.retention_days, 30) "
          "ORDER BY c.last_seen DESC LIMIT ?3", error))
      || !(records->st_q_events = volact_records_prepare (db, p,
          "SELECT e.id, e.time, e.event, pl.name, e.address, e.cmid, e.name, "
          "  CASE WHEN typeof (e.edition) = 'text' THEN e.edition ELSE ed.name END, "
          "  e.state, e.minutes_left, e.flags, e.minimum, e.count, e.result, e.message "
          "FROM events e LEFT JOIN pools pl ON pl.id = e.pool "
          "  LEFT JOIN editions ed ON ed.id = e.edition "
          "WHERE e.time >= ?1 ORDER BY e.time, e.id LIMIT ?2", error)))
    return FALSE;
  /* clang-format on */
  return TRUE;
}

/* ---------------------------------------------------------------- queries */

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

static GVariant *
query_failed (VolactRecords *records, sqlite3_stmt *s, GVariantBuilder *builder)
{
  g_warning ("volact records: %s: cannot read: %s", records->path, sqlite3_errmsg (records->rdb));
  sqlite3_reset (s);
  g_variant_builder_clear (builder);
  return g_variant_new ("aa{sv}", NULL);
}

GVariant *
volact_records_clients (VolactRecords *records, gboolean duplicates_only, guint limit)
{
  GVariantBuilder builder;
  sqlite3_stmt *s;
  int rc;

  g_return_val_if_fail (records != NULL, NULL);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  g_mutex_lock (&records->read_lock);
  s = records->st_q_clients;
  sqlite3_bind_int (s, 1, duplicates_only ? 1 : 0);
  sqlite3_bind_int64 (s, 2, real_now ());
  sqlite3_bind_int64 (s, 3, limit ? (sqlite3_int64) limit : -1);
  while ((rc = sqlite3_step (s)) == SQLITE_ROW) {
    g_auto (GVariantDict) d;
    int flags = sqlite3_column_int (s, 6);

    g_variant_dict_init (&d, NULL);
    dict_add_cmid (&d, s, 0);
    dict_add_text (&d, "name", sqlite3_column_text (s, 1));
    if (flags & CLIENT_DUPLICATE)
      dict_add_text (&d, "other_name", sqlite3_column_text (s, 2));
    dict_add_text (&d, "pool", sqlite3_column_text (s, 3));
    dict_add_text (&d, "edition", sqlite3_column_text (s, 4));
    g_variant_dict_insert (&d, "last_seen", "x", (gint64) sqlite3_column_int64 (s, 5));
    g_variant_dict_insert (&d, "vm", "b", (flags & CLIENT_VM) != 0);
    g_variant_dict_insert (&d, "duplicate", "b", (flags & CLIENT_DUPLICATE) != 0);
    g_variant_dict_insert (&d, "counted", "b", (flags & CLIENT_COUNTED) != 0);
    g_variant_dict_insert (&d, "state", "u", (guint32) sqlite3_column_int64 (s, 7));
    g_variant_dict_insert (&d, "minutes_left", "u", (guint32) sqlite3_column_int64 (s, 8));
    g_variant_builder_add_value (&builder, g_variant_dict_end (&d));
  }
  if (rc != SQLITE_DONE) {
    GVariant *empty = query_failed (records, s, &builder);
    g_mutex_unlock (&records->read_lock);
    return empty;
  }
  sqlite3_reset (s);
  g_mutex_unlock (&records->read_lock);
  return g_variant_builder_end (&builder);
}

GVariant *
volact_records_events (VolactRecords *records, gint64 since, guint limit)
{
  GVariantBuilder builder;
  sqlite3_stmt *s;
  int rc;

  g_return_val_if_fail (records != NULL, NULL);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  g_mutex_lock (&records->read_lock);
  s = records->st_q_events;
  sqlite3_bind_int64 (s, 1, since);
  sqlite3_bind_int64 (s, 2, limit ? (sqlite3_int64) limit : -1);
  while ((rc = sqlite3_step (s)) == SQLITE_ROW) {
    g_auto (GVariantDict) d;
    guint32 event = (guint32) sqlite3_column_int64 (s, 2);

    g_variant_dict_init (&d, NULL);
    g_variant_dict_insert (&d, "id", "t", (guint64) sqlite3_column_int64 (s, 0));
    g_variant_dict_insert (&d, "time", "x", (gint64) sqlite3_column_int64 (s, 1));
    g_variant_dict_insert (&d, "event", "u", event);
    dict_add_text (&d, "pool", sqlite3_column_text (s, 3));
    if (sqlite3_column_type (s, 4) == SQLITE_BLOB) {
      g_autofree char *a
          = volact_records_format_address (sqlite3_column_blob (s, 4), sqlite3_column_bytes (s, 4));
      dict_add_text (&d, "address", (const unsigned char *) a);
    } else {
      dict_add_text (&d, "address", sqlite3_column_text (s, 4));
    }
    dict_add_cmid (&d, s, 5);
    dict_add_text (&d, "name", sqlite3_column_text (s, 6));
    dict_add_text (&d, "edition", sqlite3_column_text (s, 7));
    if (sqlite3_column_type (s, 8) != SQLITE_NULL) { /* client events */
      int flags = sqlite3_column_int (s, 10);
      g_variant_dict_insert (&d, "state", "u", (guint32) sqlite3_column_int64 (s, 8));
      g_variant_dict_insert (&d, "minutes_left", "u", (guint32) sqlite3_column_int64 (s, 9));
      g_variant_dict_insert (&d, "vm", "b", (flags & EVENT_VM) != 0);
      g_variant_dict_insert (&d, "counted", "b", (flags & EVENT_COUNTED) != 0);
      g_variant_dict_insert (&d, "minimum", "u", (guint32) sqlite3_column_int64 (s, 11));
      g_variant_dict_insert (&d, "count", "u", (guint32) sqlite3_column_int64 (s, 12));
      g_variant_dict_insert (&d, "result", "u", (guint32) sqlite3_column_int64 (s, 13));
    }
    dict_add_text (&d, "message", sqlite3_column_text (s, 14));
    g_variant_builder_add_value (&builder, g_variant_dict_end (&d));
  }
  if (rc != SQLITE_DONE) {
    GVariant *empty = query_failed (records, s, &builder);
    g_mutex_unlock (&records->read_lock);
    return empty;
  }
  sqlite3_reset (s);
  g_mutex_unlock (&records->read_lock);
  return g_variant_builder_end (&builder);
}
