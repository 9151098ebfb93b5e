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

/* Writes event 1030 (MESSAGE, freed) to the journal and queues it for the
 * events table: like 1009, the store's own event. */
static void
clock_event (VolactRecords *records, char *message)
{
  Row *row = volact_records_row_new (ROW_HOST_EVENT, NULL, NULL, NULL, message, 0);

  g_warning ("%s (event %u)", message, (guint) VOLACT_EVENT_CLOCK_CHANGED);
  row->time = real_now ();
  row->event = VOLACT_EVENT_CLOCK_CHANGED;
  g_free (message);
  volact_records_enqueue_locked (records, row);
}

gboolean
volact_records_load_clients (VolactRecords *records, GError **error)
{
  g_autoptr (sqlite3_stmt) clamp = NULL;
  g_autoptr (sqlite3_stmt) expire = NULL;
  g_autoptr (sqlite3_stmt) count = NULL;
  gint64 now = real_now ();
  g_autoptr (sqlite3_stmt) rows = NULL;
  sqlite3_int64 n;
  int rc;
  VolactIndexEntry *e;

  /* A record never counts as seen later than now: one seen "in the future"
   * (the clock was ahead and has been set back, or moved back while the
   * host was down) is set to now, on disk too, so that it expires. */
  if (!(clamp = volact_records_prepare (records->db, records->path,
                                        "UPDATE clients SET last_seen = ?1 WHERE last_seen > ?1",
                                        error)))
    return FALSE;
  sqlite3_bind_int64 (clamp, 1, now);
  if (sqlite3_step (clamp) != SQLITE_DONE)
    return volact_records_db_fail (records->db, records->path,
                                   "cannot set records seen later than now to now", error);
  if (sqlite3_changes (records->db) > 0)
    clock_event (records, g_strdup_printf ("%d client records were seen later than now (the clock "
                                           "was set back): they count as seen now",
                                           sqlite3_changes (records->db)));

  /* Records past retention go before anything is loaded. */
  if (!(expire = volact_records_prepare (
            records->db, records->path,
            "DELETE FROM clients WHERE last_seen <= ?1 - 86400 * coalesce ("
            "  (SELECT retention_days FROM pools WHERE pools.id = clients.pool), 30)",
            error)))
    return FALSE;
  sqlite3_bind_int64 (expire, 1, now);
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
    e->state = volact_index_state_of ((guint) sqlite3_column_int (rows, 6));
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
  RowKind kind; /* ROW_PURGE or ROW_CLAMP */
  guint pool;
  guint32 time; /* the cutoff, or now */
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

/* Queues ENTRY's CMID for deletion (ROW_PURGE) or for last_seen = now (ROW_CLAMP). */
static void
purge_one (const VolactIndexEntry *entry, gpointer user_data)
{
  PurgeContext *ctx = user_data;

  if (ctx->kind == ROW_PURGE)
    ctx->records->machines[entry->state]--;
  if (ctx->row == NULL) {
    ctx->row = volact_records_row_new (ctx->kind, NULL, NULL, NULL, NULL, PURGE_ROW_CMIDS * 16);
    ctx->row->pool = (guint16) ctx->pool;
    ctx->row->seen = ctx->time;
  }
  memcpy (ctx->row->data + ctx->row->n_cmids * 16, entry->cmid, 16);
  if (++ctx->row->n_cmids == PURGE_ROW_CMIDS)
    purge_flush (ctx);
}

/* Sets POOL's records seen later than NOW to NOW, in the index and on disk. */
static guint
clamp_pool_locked (VolactRecords *records, guint pool, gint64 now)
{
  PurgeContext ctx = { records, ROW_CLAMP, pool, clamp_time (now), NULL };
  guint n = volact_index_clamp (records->index, pool, ctx.time, purge_one, &ctx);

  purge_flush (&ctx);
  return n;
}

/* Drops the records of POOL past retention at NOW from the index and queues
 * their deletion from clients.db. O(expired): the pool list is time-sorted. */
void
volact_records_purge_pool_locked (VolactRecords *records, guint pool, guint retention_days,
                                  gint64 now)
{
  PurgeContext ctx = { records, ROW_PURGE, pool, 0, NULL };

  if (pool == 0)
    return;
  /* A forward jump the clock watch does not trust yet expires nothing early. */
  if (records->purge_cap != 0 && now > records->purge_cap)
    now = records->purge_cap;
  if (!cutoff_for (now, retention_days, &ctx.time))
    return;
  volact_index_expire (records->index, pool, ctx.time, purge_one, &ctx);
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

/* ---------------------------------------------------------------- the clock watch */

static char *
format_span (gint64 seconds)
{
  seconds = ABS (seconds);
  if (seconds >= SECONDS_PER_DAY)
    return g_strdup_printf ("%.1f days", (double) seconds / SECONDS_PER_DAY);
  if (seconds >= 3600)
    return g_strdup_printf ("%.1f hours", seconds / 3600.0);
  return g_strdup_printf ("%" G_GINT64_FORMAT " seconds", seconds);
}

/* The event for CHANGE (a jump or a settled forward step) at NOW. */
static char *
clock_message (const VolactClockChange *change, gint64 now)
{
  g_autofree char *span = format_span (change->jump ? change->jump : change->accepted);
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (now);
  g_autofree char *at = dt ? g_date_time_format_iso8601 (dt) : g_strdup ("?");

  if (change->accepted != 0)
    return g_strdup_printf ("the clock has run %u minutes since it moved forward by %s: expiry "
                            "follows it again (now %s)",
                            VOLACT_RECORDS_CLOCK_SETTLE_SECONDS / 60, span, at);
  if (change->jump > 0)
    return g_strdup_printf ("the clock moved forward by %s (now %s): records expire by the time "
                            "that really passed until the clock has run %u minutes without "
                            "another jump",
                            span, at, VOLACT_RECORDS_CLOCK_SETTLE_SECONDS / 60);
  return g_strdup_printf ("the clock moved back by %s (now %s): %u client records seen later "
                          "than now count as seen now",
                          span, at, change->clamped);
}

gboolean
volact_records_clock_check (VolactRecords *records, gint64 real_us, gint64 mono_us,
                            VolactClockChange *change)
{
  VolactClockChange c = { 0 };
  gint64 step, now = real_us / G_USEC_PER_SEC;

  g_return_val_if_fail (records != NULL, FALSE);
  g_mutex_lock (&records->lock);
  if (!records->clock_started) {
    records->clock_started = TRUE;
  } else {
    /* How much further the wall clock went than time really passed. */
    step = ((real_us - records->clock_real) - (mono_us - records->clock_mono)) / G_USEC_PER_SEC;
    if (step > VOLACT_RECORDS_CLOCK_JUMP_SECONDS) {
      c.jump = step;
      records->clock_ahead += step;
      records->clock_jump_mono = mono_us;
    } else if (step < -VOLACT_RECORDS_CLOCK_JUMP_SECONDS) {
      c.jump = step;
      /* Back: first undo a held forward step (the clock corrected), the rest is a real step back. */
      records->clock_ahead = MAX (records->clock_ahead + step, 0);
      if (records->clock_ahead <= VOLACT_RECORDS_CLOCK_JUMP_SECONDS)
        records->clock_ahead = 0;
      for (guint id = 1; id < records->pools->len; id++)
        if (g_ptr_array_index (records->pools, id) != NULL)
          c.clamped += clamp_pool_locked (records, id, now);
    } else if (records->clock_ahead != 0
               && mono_us - records->clock_jump_mono
                      >= (gint64) VOLACT_RECORDS_CLOCK_SETTLE_SECONDS * G_USEC_PER_SEC) {
      c.accepted = records->clock_ahead;
      records->clock_ahead = 0;
    }
  }
  records->clock_real = real_us;
  records->clock_mono = mono_us;
  c.held = records->clock_ahead;
  /* Between two checks the wall clock moves about a second; a purge running
   * before the next check never expires more than a jump's worth ahead. */
  records->purge_cap = now - records->clock_ahead
                       + (records->clock_ahead != 0 ? 0 : VOLACT_RECORDS_CLOCK_JUMP_SECONDS);
  if (c.jump != 0) {
    records->clock_jumps++;
    clock_event (records, clock_message (&c, now));
  } else if (c.accepted != 0) {
    clock_event (records, clock_message (&c, now));
  }
  volact_records_unlock (records);
  if (change != NULL)
    *change = c;
  return c.jump != 0 || c.accepted != 0;
}
