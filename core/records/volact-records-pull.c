/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Client records: reading the shared store (docs/store.md). A thread of its
 * own, with its own connection, reads every second the client records other
 * hosts wrote since it last looked and merges them into the count index, so
 * a host counts every machine ID any host of the pool saw within retention;
 * now and then it deletes the records past retention from the database.
 */
#include "config.h"

#include "volact-records-private.h"

#include "volact-error.h"
#include "volact-pg.h"

/* How often, how many rows per query, and how far back each round looks again (a
 * transaction that began earlier may commit after the last round read past its rows). */
#define PULL_US (1 * G_USEC_PER_SEC)
#define PULL_PAGE 5000
#define PULL_OVERLAP "10 seconds"
/* Every this many rounds, records past retention are deleted from the database, and this
 * host's events older than EVENT_DAYS (the database's event log is not size-capped as
 * clients.db's is: docs/store.md). */
#define EXPIRE_ROUNDS 600
#define EVENT_DAYS 90

/* Merges one record another host wrote: a machine ID new to this host is counted from its
 * last visit; a known one moves to the later of the two visits. */
static gboolean
merge_locked (VolactRecords *records, const char *pool_name, const char *cmid_text, gint64 seen,
              guint flags, guint state, gint64 now)
{
  guint8 cmid[16];
  guint pool;
  guint32 cutoff, t;
  PoolInfo *info;
  VolactIndexEntry *e;

  if (!volact_records_parse_cmid (cmid_text, cmid) || seen <= 0
      || (pool = volact_records_pool_find_locked (records, pool_name)) == 0)
    return FALSE;
  info = g_ptr_array_index (records->pools, pool);
  t = clamp_time (MIN (seen, now)); /* never later than now (docs/events.md, "Clock changes") */
  if (cutoff_for (now, info->retention_days, &cutoff) && t <= cutoff)
    return FALSE;
  e = volact_index_lookup (records->index, pool, cmid);
  if (e == NULL) {
    if ((e = volact_index_insert (records->index, pool, cmid, &t,
                                  (flags & CLIENT_COUNTED) ? VOLACT_INDEX_COUNTED : 0))
        == NULL)
      return FALSE;
  } else if (t > e->last_seen) {
    records->machines[e->state]--;
    volact_index_touch (records->index, e, &t);
    volact_index_set_counted (records->index, e, (flags & CLIENT_COUNTED) != 0);
  } else {
    return FALSE;
  }
  volact_records_note_latest_locked (records, e, (guint8) state, (flags & CLIENT_VM) != 0);
  return TRUE;
}

static const char pull_sql[]
    = "SELECT pool, cmid::text, last_seen, flags, state, written::text FROM volact_clients "
      "WHERE host <> $1 AND (written, pool, cmid) > ($2::timestamptz, $3, $4::uuid) "
      "ORDER BY written, pool, cmid LIMIT " G_STRINGIFY (PULL_PAGE);

/* One round: every page of records written since the cursor. */
static gboolean
pull_round (VolactRecords *records, VolactPg *pg, char **cursor, GError **error)
{
  VolactPool *pool = records->pool;
  g_autofree char *pool_key = g_strdup ("");
  g_autofree char *cmid_key = g_strdup ("00000000-0000-0000-0000-000000000000");
  g_autofree char *from = NULL;
  g_autoptr (PGresult) back = NULL;
  const char *p1[1];

  /* Start a little before where the last round ended. */
  p1[0] = *cursor;
  if (!(back = volact_pg_exec (pg, "volact-pull-back",
                               "SELECT ($1::timestamptz - interval '" PULL_OVERLAP "')::text", 1,
                               p1, error)))
    return FALSE;
  from = g_strdup (PQgetvalue (back, 0, 0));
  for (;;) {
    g_autoptr (PGresult) res = NULL;
    const char *p[4] = { pool->host_name, from, pool_key, cmid_key };
    gint64 now = real_now ();
    int rows;
    guint merged = 0;

    if (!(res = volact_pg_exec (pg, "volact-pull", pull_sql, 4, p, error)))
      return FALSE;
    rows = PQntuples (res);
    g_mutex_lock (&records->lock);
    for (int i = 0; i < rows; i++)
      merged += merge_locked (records, PQgetvalue (res, i, 0), PQgetvalue (res, i, 1),
                              g_ascii_strtoll (PQgetvalue (res, i, 2), NULL, 10),
                              (guint) g_ascii_strtoull (PQgetvalue (res, i, 3), NULL, 10),
                              (guint) g_ascii_strtoull (PQgetvalue (res, i, 4), NULL, 10), now);
    pool->pulled += merged;
    volact_records_unlock (records);
    if (rows == 0)
      return TRUE;
    g_free (from);
    g_free (pool_key);
    g_free (cmid_key);
    from = g_strdup (PQgetvalue (res, rows - 1, 5));
    pool_key = g_strdup (PQgetvalue (res, rows - 1, 0));
    cmid_key = g_strdup (PQgetvalue (res, rows - 1, 1));
    g_free (*cursor);
    *cursor = g_strdup (from);
    if (rows < PULL_PAGE)
      return TRUE;
  }
}

/* Deletes records past retention from the database, pool by pool (any host may). */
static gboolean
expire_round (VolactRecords *records, VolactPg *pg, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) cutoffs = g_array_new (FALSE, FALSE, sizeof (guint32));
  gint64 now = real_now ();

  g_mutex_lock (&records->lock);
  for (guint i = 1; i < records->pools->len; i++) {
    PoolInfo *info = g_ptr_array_index (records->pools, i);
    guint32 cutoff;
    if (info != NULL && cutoff_for (now, info->retention_days, &cutoff)) {
      g_ptr_array_add (names, g_strdup (info->name));
      g_array_append_val (cutoffs, cutoff);
    }
  }
  g_mutex_unlock (&records->lock);
  {
    g_autoptr (PGresult) res = NULL;
    g_autofree char *before = g_strdup_printf ("%" G_GINT64_FORMAT, now - EVENT_DAYS * SECONDS_PER_DAY);
    const char *p[2] = { records->pool->host_name, before };
    if (!(res = volact_pg_exec (pg, "volact-expire-events",
                                "DELETE FROM volact_events WHERE host = $1 AND time < $2", 2, p,
                                error)))
      return FALSE;
  }
  for (guint i = 0; i < names->len; i++) {
    g_autoptr (PGresult) res = NULL;
    g_autofree char *cutoff = g_strdup_printf ("%u", g_array_index (cutoffs, guint32, i));
    const char *p[2] = { g_ptr_array_index (names, i), cutoff };
    if (!(res = volact_pg_exec (pg, "volact-expire",
                                "DELETE FROM volact_clients WHERE pool = $1 AND last_seen <= $2",
                                2, p, error)))
      return FALSE;
  }
  return TRUE;
}

gpointer
volact_pool_pull_main (gpointer data)
{
  VolactRecords *records = data;
  VolactPool *pool = records->pool;
  g_autofree char *cursor = g_strdup ("-infinity");
  VolactPg *pg = NULL;
  guint round = 0, failures = 0;

  for (;;) {
    g_autoptr (GError) error = NULL;
    gboolean stopping;

    if (pg == NULL)
      pg = volact_pg_connect (pool->uri, pool->host_name, pool->timeout_s, &error);
    if (pg != NULL && pull_round (records, pg, &cursor, &error)
        && (++round % EXPIRE_ROUNDS != 1 || expire_round (records, pg, &error))) {
      if (failures > 0)
        g_message ("volact records: reading the shared store again");
      failures = 0;
      g_mutex_lock (&pool->lock);
      pool->answered_at = g_get_monotonic_time (); /* the writer may connect again */
      g_mutex_unlock (&pool->lock);
    } else if (error != NULL) {
      if (failures++ == 0)
        g_warning ("volact records: cannot read the other hosts' records from the shared store: "
                   "%s; counting with what was read so far",
                   error->message);
      if (error->domain == VOLACT_ERROR && error->code == VOLACT_E_IO)
        g_clear_pointer (&pg, volact_pg_free);
    }
    g_mutex_lock (&pool->lock);
    if (!pool->stopping)
      g_cond_wait_until (&pool->wake, &pool->lock, g_get_monotonic_time () + PULL_US);
    stopping = pool->stopping;
    g_mutex_unlock (&pool->lock);
    if (stopping)
      break;
  }
  volact_pg_free (pg);
  return NULL;
}
