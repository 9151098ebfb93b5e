/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Client records and events (volact-records.h): counting.
 *
 * Callers (any thread) work on the in-memory index under one mutex and
 * append a compact row to a FIFO; one writer thread (volact-records-writer.c)
 * owns the read-write SQLite connection and commits whatever is queued as one
 * transaction, then reports the highest committed ticket to the main context.
 * Queries (volact-records-query.c) use a second, read-only connection (WAL
 * lets it read while the writer writes). The other parts: opening and the
 * schema (-schema.c), rows and their SQL (-codec.c), loading the index and
 * the retention sweep (-load.c).
 */
#include "config.h"

#include "volact-records-private.h"

#include "volact-error.h"

#include <string.h>

G_STATIC_ASSERT (VOLACT_RECORDS_HOST_BUSY == (guint32) VOLACT_E_HOST_BUSY);

/* ---------------------------------------------------------------- pools and editions */

static guint
pool_lookup_locked (VolactRecords *records, const char *name)
{
  return name ? GPOINTER_TO_UINT (g_hash_table_lookup (records->pool_ids, name)) : 0;
}

void
volact_records_pool_set (VolactRecords *records, guint id, const char *name, guint retention_days)
{
  PoolInfo *info = g_new0 (PoolInfo, 1);

  info->name = g_strdup (name);
  info->retention_days = retention_days;
  if (records->pools->len <= id)
    g_ptr_array_set_size (records->pools, (gint) id + 1);
  g_ptr_array_index (records->pools, id) = info;
  g_hash_table_insert (records->pool_ids, info->name, GUINT_TO_POINTER (id));
}

static void
queue_pool_row_locked (VolactRecords *records, guint id)
{
  PoolInfo *info = g_ptr_array_index (records->pools, id);
  Row *row = volact_records_row_new (ROW_POOL, info->name, NULL, NULL, NULL, 0);

  row->pool = (guint16) id;
  row->time = info->retention_days;
  volact_records_enqueue_locked (records, row);
}

/* The id of pool NAME, created (and queued for the database) if new; its
 * stored retention follows the latest visit. 0 if the pool table is full. */
static guint
pool_get_locked (VolactRecords *records, const char *name, guint retention_days)
{
  guint id = pool_lookup_locked (records, name);
  PoolInfo *info;

  retention_days = retention_or_default (retention_days);
  if (id == 0) {
    id = MAX (records->pools->len, 1);
    if (id > VOLACT_INDEX_MAX_POOLS)
      return 0;
    volact_records_pool_set (records, id, name, retention_days);
    queue_pool_row_locked (records, id);
    return id;
  }
  info = g_ptr_array_index (records->pools, id);
  if (info->retention_days != retention_days) {
    info->retention_days = retention_days;
    queue_pool_row_locked (records, id);
  }
  return id;
}

guint
volact_records_pool_find_locked (VolactRecords *records, const char *name)
{
  guint id = pool_lookup_locked (records, name);

  return id != 0 ? id : pool_get_locked (records, name, 0);
}

void
volact_records_edition_set (VolactRecords *records, guint id, const char *name)
{
  char *copy = g_strdup (name);

  if (records->editions->len <= id)
    g_ptr_array_set_size (records->editions, (gint) id + 1);
  g_ptr_array_index (records->editions, id) = copy;
  g_hash_table_insert (records->edition_ids, copy, GUINT_TO_POINTER (id));
}

/* The id of edition NAME (already cleaned), created if new; 0 when the
 * table is full (the event then stores the text). */
static guint
edition_get_locked (VolactRecords *records, const char *name)
{
  guint id;
  Row *row;

  if (name == NULL || *name == '\0')
    return 0;
  id = GPOINTER_TO_UINT (g_hash_table_lookup (records->edition_ids, name));
  if (id != 0)
    return id;
  id = MAX (records->editions->len, 1);
  if (id > MAX_EDITIONS)
    return 0;
  volact_records_edition_set (records, id, name);
  row = volact_records_row_new (ROW_EDITION, name, NULL, NULL, NULL, 0);
  row->edition = (guint16) id;
  volact_records_enqueue_locked (records, row);
  return id;
}

/* ---------------------------------------------------------------- counting */

void
volact_records_note_latest_locked (VolactRecords *records, VolactIndexEntry *e, guint8 state,
                                   gboolean virtual_machine)
{
  e->state = volact_index_state_of (state); /* the latest visit's, as clients.state */
  records->machines[e->state]++;
  if (virtual_machine)
    e->flags |= VOLACT_INDEX_VM;
  else
    e->flags &= ~VOLACT_INDEX_VM;
}

guint
volact_records_count (VolactRecords *records, const VolactVisit *visit, guint32 *result,
                      guint64 *ticket)
{
  Row *row;
  VolactIndexEntry *e;
  guint pool, edition, count;
  guint32 seen, name_hash;
  guint32 res;
  guint64 t;

  g_return_val_if_fail (records != NULL && visit != NULL, 0);
  g_return_val_if_fail (visit->pool != NULL && visit->cmid != NULL, 0);

  row = volact_records_row_new_visit (ROW_VISIT, visit);
  name_hash = volact_index_name_hash (row->name);
  seen = clamp_time (row->time);

  g_mutex_lock (&records->lock);
  if (records->pending >= VOLACT_RECORDS_QUEUE_MAX || records->stopping) {
    records->busy_refusals++;
    pool = pool_lookup_locked (records, visit->pool);
    count = volact_index_pool_count (records->index, pool);
    volact_records_unlock (records);
    g_free (row);
    if (result)
      *result = VOLACT_RECORDS_HOST_BUSY;
    if (ticket)
      *ticket = 0;
    return count;
  }
  pool = pool_get_locked (records, visit->pool, visit->retention_days);
  if (pool == 0) {
    g_warning ("volact records: too many count pools; %s not counted", visit->pool);
    count = 0;
    goto busy;
  }
  edition = edition_get_locked (records, row->edition_text);
  volact_records_purge_pool_locked (records, pool, visit->retention_days, row->time);

  e = volact_index_lookup (records->index, pool, visit->cmid);
  if (e == NULL) {
    e = volact_index_insert (records->index, pool, visit->cmid, &seen,
                             visit->counts ? VOLACT_INDEX_COUNTED : 0);
    if (e == NULL) {
      g_warning ("volact records: the index holds %u client records, its most; %s not counted",
                 VOLACT_INDEX_MAX_ENTRIES, visit->pool);
      count = volact_index_pool_count (records->index, pool);
      goto busy;
    }
    e->name_hash = name_hash;
  } else {
    records->machines[e->state]--;
    volact_index_touch (records->index, e, &seen);
    volact_index_set_counted (records->index, e, visit->counts);
    if (name_hash != 0 && name_hash != e->name_hash) {
      if (e->name_hash != 0) {
        if (name_hash != e->other_hash)
          row->flags |= ROW_F_NEW_NAME;
        e->other_hash = e->name_hash;
      }
      e->name_hash = name_hash;
    }
  }
  volact_records_note_latest_locked (records, e, visit->state, visit->virtual_machine);

  count = volact_index_pool_count (records->index, pool);
  res = count >= visit->minimum_count ? 0 : (guint32) VOLACT_E_COUNT_INSUFFICIENT;
  row->pool = (guint16) pool;
  row->edition = (guint16) edition;
  row->seen = seen;
  row->count = count;
  row->result = res;
  if (visit->counts)
    row->flags |= ROW_F_COUNTED;
  t = volact_records_enqueue_locked (records, row);
  volact_records_unlock (records);

  if (result)
    *result = res;
  if (ticket)
    *ticket = t;
  return count;

busy:
  volact_records_unlock (records);
  g_free (row);
  if (result)
    *result = VOLACT_RECORDS_HOST_BUSY;
  if (ticket)
    *ticket = 0;
  return count;
}

void
volact_records_log_refusal (VolactRecords *records, const VolactVisit *visit, guint32 result,
                            guint64 *ticket)
{
  Row *row;
  guint pool;
  guint64 t = 0;

  g_return_if_fail (records != NULL && visit != NULL && visit->cmid != NULL);

  row = volact_records_row_new_visit (ROW_REFUSAL, visit);
  row->result = result;
  g_mutex_lock (&records->lock);
  if (records->pending >= VOLACT_RECORDS_QUEUE_MAX || records->stopping) {
    volact_records_unlock (records);
    g_free (row);
    if (ticket)
      *ticket = 0;
    return;
  }
  /* A refusal never creates a pool: it may name one the catalog lacks. */
  pool = pool_lookup_locked (records, visit->pool);
  if (pool != 0) {
    volact_records_purge_pool_locked (records, pool, visit->retention_days, row->time);
    row->count = volact_index_pool_count (records->index, pool);
  }
  row->pool = (guint16) pool;
  row->edition = (guint16) edition_get_locked (records, row->edition_text);
  t = volact_records_enqueue_locked (records, row);
  volact_records_unlock (records);
  if (ticket)
    *ticket = t;
}

guint
volact_records_pool_count_at (VolactRecords *records, const char *pool, guint retention_days,
                              gint64 now)
{
  guint id, count;

  g_return_val_if_fail (records != NULL && pool != NULL, 0);
  g_mutex_lock (&records->lock);
  id = pool_lookup_locked (records, pool);
  volact_records_purge_pool_locked (records, id, retention_days, now);
  count = volact_index_pool_count (records->index, id);
  volact_records_unlock (records);
  return count;
}

guint
volact_records_pool_count (VolactRecords *records, const char *pool, guint retention_days)
{
  return volact_records_pool_count_at (records, pool, retention_days, real_now ());
}

gboolean
volact_records_known (VolactRecords *records, const char *pool, const guint8 *cmid)
{
  gboolean known;
  guint id;

  g_return_val_if_fail (records != NULL && pool != NULL && cmid != NULL, FALSE);
  g_mutex_lock (&records->lock);
  id = pool_lookup_locked (records, pool);
  known = id != 0 && volact_index_lookup (records->index, id, cmid) != NULL;
  volact_records_unlock (records);
  return known;
}

void
volact_records_host_event (VolactRecords *records, guint event_id, const char *message)
{
  g_autofree char *copy = NULL;
  const char *text;
  Row *row;

  /* No g_log here: the caller (the host) writes each event to the journal
   * once; logging it here as well showed every event twice. */
  if (records == NULL)
    return;
  text = volact_records_clean_text (message, MESSAGE_MAX_BYTES, &copy);
  row = volact_records_row_new (ROW_HOST_EVENT, NULL, NULL, NULL, text, 0);
  row->time = real_now ();
  row->event = event_id;
  g_mutex_lock (&records->lock);
  /* Host events are rare and matter: they are queued even over the bound. */
  if (!records->stopping)
    volact_records_enqueue_locked (records, row);
  else
    g_clear_pointer (&row, g_free);
  volact_records_unlock (records);
}

void
volact_records_get_stats (VolactRecords *records, VolactRecordsStats *stats)
{
  g_return_if_fail (records != NULL && stats != NULL);
  g_mutex_lock (&records->lock);
  stats->last_ticket = records->last_ticket;
  stats->committed_ticket = records->committed_ticket;
  stats->queued = records->pending;
  stats->records = volact_index_size (records->index);
  stats->index_bytes = volact_index_memory (records->index);
  stats->events = records->events;
  stats->bytes_per_event = records->bytes_per_event;
  stats->event_cap_bytes = records->event_cap;
  stats->writer_failing = records->writer_failing;
  stats->busy_refusals = records->busy_refusals;
  stats->commits = records->commits;
  stats->commit_failures = records->commit_failures;
  stats->commit_seconds = records->commit_seconds;
  memcpy (stats->commit_buckets, records->commit_buckets, sizeof stats->commit_buckets);
  memcpy (stats->machines, records->machines, sizeof stats->machines);
  stats->clock_jumps = records->clock_jumps;
  volact_pool_stats_locked (records, stats);
  volact_records_unlock (records);
}
