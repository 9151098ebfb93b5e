/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Client records: loading clients.db into the in-memory index at start
 * (records past retention are deleted first), and the retention sweep that
 * drops expired records from the index and queues their deletion on disk.
 */
#include "config.h"

#include "volact-records-private.h"

#include <string.h>

/* Expired CMIDs per purge row (16 bytes each). */
#define PURGE_ROW_CMIDS 256
/* On-disk bytes per event (row + time index) until one is measured: the
 * bench measures 99 with 24-character FQDNs and IPv4 addresses; the margin
 * covers longer names and IPv6. */
#define DEFAULT_BYTES_PER_EVENT 110.0

gboolean
volact_records_load_names (VolactRecords *records, GError **error)
{
  g_autoptr (sqlite3_stmt) pools = NULL;
  g_autoptr (sqlite3_stmt) editions = NULL;
  int rc;

  if (!(pools
        = volact_records_prepare (records->db, records->path,
                                  "SELECT id, name, retention_days FROM pools ORDER BY id", error))
      || !(editions = volact_records_prepare (records->db, records->path,
                                              "SELECT id, name FROM editions ORDER BY id", error)))
    return FALSE;
  while ((rc = sqlite3_step (pools)) == SQLITE_ROW) {
    sqlite3_int64 id = sqlite3_column_int64 (pools, 0);
    const char *name = (const char *) sqlite3_column_text (pools, 1);
    if (id < 1 || id > VOLACT_INDEX_MAX_POOLS || name == NULL)
      continue;
    volact_records_pool_set (records, (guint) id, name, (guint) sqlite3_column_int (pools, 2));
  }
  if (rc != SQLITE_DONE)
    return volact_records_db_fail (records->db, records->path, "cannot read pools", error);
  while ((rc = sqlite3_step (editions)) == SQLITE_ROW) {
    sqlite3_int64 id = sqlite3_column_int64 (editions, 0);
    const char *name = (const char *) sqlite3_column_text (editions, 1);
    if (id < 1 || id > MAX_EDITIONS || name == NULL)
      continue;
    volact_records_edition_set (records, (guint) id, name);
  }
  if (rc != SQLITE_DONE)
    return volact_records_db_fail (records->db, records->path, "cannot read editions", error);
  return TRUE;
}

gboolean
volact_records_load_clients (VolactRecords *records, GError **error)
{
  g_autoptr (sqlite3_stmt) expire = NULL;
  g_autoptr (sqlite3_stmt) count = NULL;
  g_autoptr (sqlite3_stmt) rows = NULL;
  sqlite3_int64 n;
  int rc;
  VolactIndexEntry *e;

  /* Records past retention go before anything is loaded. */
  if (!(expire = volact_records_prepare (
            records->db, records->path,
            "DELETE FROM clients WHERE last_seen <= ?1 - 86400 * coalesce ("
            "  (SELECT retention_days FROM pools WHERE pools.id = clients.pool), 30)",
            error)))
    return FALSE;
  sqlite3_bind_int64 (expire, 1, real_now ());
  if (sqlite3_step (expire) != SQLITE_DONE)
    return volact_records_db_fail (records->db, records->path, "cannot delete expired records",
                                   error);
  if (sqlite3_changes (records->db) > 0)
    g_message ("volact records: deleted %d records past retention", sqlite3_changes (records->db));

  if (!(count = volact_records_prepare (records->db, records->path, "SELECT count(*) FROM clients",
                                        error)))
    return FALSE;
  if (sqlite3_step (count) != SQLITE_ROW)
    return volact_records_db_fail (records->db, records->path, "cannot count records", error);
  n = sqlite3_column_int64 (count, 0);
  records->index = volact_index_new ((gsize) MAX (n, 0));

  if (!(rows = volact_records_prepare (
            records->db, records->path,
            "SELECT pool, cmid, name, other_name, last_seen, flags, state FROM clients", error)))
    return FALSE;
  while ((rc = sqlite3_step (rows)) == SQLITE_ROW) {
    sqlite3_int64 pool = sqlite3_column_int64 (rows, 0);
    const void *cmid = sqlite3_column_blob (rows, 1);
    int flags = sqlite3_column_int (rows, 5);

    if (pool < 1 || pool >= records->pools->len || g_ptr_array_index (records->pools, pool) == NULL
        || cmid == NULL || sqlite3_column_bytes (rows, 1) != 16)
      continue; /* not written by us */
    if (!volact_index_load_add (
            records->index, (guint) pool, cmid, clamp_time (sqlite3_column_int64 (rows, 4)),
            volact_index_name_hash ((const char *) sqlite3_column_text (rows, 2)),
            volact_index_name_hash ((const char *) sqlite3_column_text (rows, 3)),
            (guint8) (((flags & CLIENT_COUNTED) ? VOLACT_INDEX_COUNTED : 0)
                      | ((flags & CLIENT_VM) ? VOLACT_INDEX_VM : 0))))
      continue;
    e = volact_index_lookup (records->index, (guint) pool, cmid);
    e->state = (guint8) sqlite3_column_int (rows, 6);
    records->machines[e->state]++;
  }
  if (rc != SQLITE_DONE)
    return volact_records_db_fail (records->db, records->path, "cannot read records", error);
  volact_index_load_finish (records->index);
  return TRUE;
}

/* Counts events and measures their bytes on disk (dbstat, where SQLite has
 * it, and enough events to mean something). */
gboolean
volact_records_load_event_stats (VolactRecords *records, GError **error)
{
  g_autoptr (sqlite3_stmt) count = NULL;
  sqlite3_stmt *stat = NULL;

  records->w_bytes_per_event = DEFAULT_BYTES_PER_EVENT;
  if (!(count = volact_records_prepare (records->db, records->path, "SELECT count(*) FROM events",
                                        error)))
    return FALSE;
  if (sqlite3_step (count) != SQLITE_ROW)
    return volact_records_db_fail (records->db, records->path, "cannot count events", error);
  records->w_events = (guint64) MAX (sqlite3_column_int64 (count, 0), 0);
  if (records->w_events >= 1000
      && sqlite3_prepare_v2 (records->db,
                             "SELECT sum (pgsize) FROM dbstat WHERE name IN ('events', "
                             "'events_time')",
                             -1, &stat, NULL)
             == SQLITE_OK
      && sqlite3_step (stat) == SQLITE_ROW) {
    double bytes = sqlite3_column_double (stat, 0);
    double bpe = bytes / (double) records->w_events;
    /* Heavy deletions leave half-empty pages; never estimate below the default. */
    if (bpe > DEFAULT_BYTES_PER_EVENT)
      records->w_bytes_per_event = bpe;
  }
  sqlite3_finalize (stat);
  return TRUE;
}

/* ---------------------------------------------------------------- purging */

typedef struct {
  VolactRecords *records;
  guint pool;
  guint32 cutoff;
  Row *row;
} PurgeContext;

static void
purge_flush (PurgeContext *ctx)
{
  if (ctx->row != NULL) {
    volact_records_enqueue_locked (ctx->records, ctx->row);
    ctx->row = NULL;
  }
}

static void
purge_one (const VolactIndexEntry *entry, gpointer user_data)
{
  PurgeContext *ctx = user_data;

  ctx->records->machines[entry->state]--;
  if (ctx->row == NULL) {
    ctx->row = volact_records_row_new (ROW_PURGE, NULL, NULL, NULL, NULL, PURGE_ROW_CMIDS * 16);
    ctx->row->pool = (guint16) ctx->pool;
    ctx->row->seen = ctx->cutoff;
  }
  memcpy (ctx->row->data + ctx->row->n_cmids * 16, entry->cmid, 16);
  if (++ctx->row->n_cmids == PURGE_ROW_CMIDS)
    purge_flush (ctx);
}

/* Drops the records of POOL past retention at NOW from the index and queues
 * their deletion from clients.db. O(expired): the pool list is time-sorted. */
void
volact_records_purge_pool_locked (VolactRecords *records, guint pool, guint retention_days,
                                  gint64 now)
{
  PurgeContext ctx = { records, pool, 0, NULL };

  if (pool == 0 || !cutoff_for (now, retention_days, &ctx.cutoff))
    return;
  volact_index_expire (records->index, pool, ctx.cutoff, purge_one, &ctx);
  purge_flush (&ctx);
}

void
volact_records_purge_all_locked (VolactRecords *records, gint64 now)
{
  for (guint id = 1; id < records->pools->len; id++) {
    PoolInfo *info = g_ptr_array_index (records->pools, id);
    if (info != NULL)
      volact_records_purge_pool_locked (records, id, info->retention_days, now);
  }
}
