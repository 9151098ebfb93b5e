/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Client records: the shared store (docs/store.md). With `store =
 * postgresql://...`, the hosts of a pool count together:
 *
 * - Push (writer thread): each group of rows, once durable in the journal,
 *   is written to the database in one statement, its own transaction (client
 *   records upserted, events inserted, both idempotent) before it is
 *   acknowledged. When the
 *   database cannot take it, the host goes degraded: it acknowledges from
 *   the journal alone, keeps the journal (it is not rewound) and retries;
 *   once back, it writes every row after the last one the database has, in
 *   order, and says how many (events 1040 and 1041).
 * - Pull (volact-records-pull.c): every second the records other hosts
 *   wrote are merged into the count index.
 */
#include "config.h"

#include "volact-records-private.h"

#include "volact-error.h"
#include "volact-pg.h"

#include <string.h>

/* Degraded: try the database again this often. */
#define RETRY_US (2 * G_USEC_PER_SEC)
/* Catching up writes at most this many rows per writer round, so new groups are not held. */
#define CATCH_UP_ROWS 16384

/* ---------------------------------------------------------------- PostgreSQL arrays */

/* A text-format array parameter: {"a","b",NULL} or {1,2}. */
static void
array_sep (GString *a)
{
  if (a->len > 1)
    g_string_append_c (a, ',');
}

static void
array_text (GString *a, const char *text)
{
  array_sep (a);
  if (text == NULL) {
    g_string_append (a, "NULL");
    return;
  }
  g_string_append_c (a, '"');
  for (const char *p = text; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c (a, '\\');
    g_string_append_c (a, *p);
  }
  g_string_append_c (a, '"');
}

static void
array_int (GString *a, gint64 value)
{
  array_sep (a);
  g_string_append_printf (a, "%" G_GINT64_FORMAT, value);
}

/* ---------------------------------------------------------------- push */

enum { C_POOL, C_CMID, C_SEEN, C_NAME, C_EDITION, C_FLAGS, C_STATE, C_N };
enum {
  E_SEQ,
  E_TIME,
  E_EVENT,
  E_CMID,
  E_NAME,
  E_EDITION,
  E_ADDRESS,
  E_RESULT,
  E_COUNT,
  E_MINIMUM,
  E_FLAGS,
  E_MESSAGE,
  E_N
};

typedef struct {
  GString *clients[C_N];
  GString *events[E_N];
  guint n_clients, n_events;
  char store[24];
  const char *host;
} Push;

/* A group in one statement, so one round trip (a data-modifying WITH runs exactly once):
 * the client records ($1..$7, in (pool, machine ID) order so that two hosts writing the same
 * machines lock them in the same order), then the events ($9..$20). $8 is this host, $21
 * its journal's store identity. */
static const char push_sql[]
    = "WITH clients AS ("
      " INSERT INTO volact_clients (pool, cmid, last_seen, host, name, edition, flags, state) "
      " SELECT p, c, l, $8, n, e, f, s FROM unnest ($1::text[], $2::uuid[], $3::bigint[], "
      "  $4::text[], $5::text[], $6::integer[], $7::smallint[]) AS r (p, c, l, n, e, f, s) "
      " ON CONFLICT (pool, cmid) DO UPDATE SET "
      "  host = CASE WHEN excluded.last_seen >= volact_clients.last_seen THEN excluded.host "
      "    ELSE volact_clients.host END, "
      "  last_seen = GREATEST (volact_clients.last_seen, excluded.last_seen), "
      "  name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE volact_clients.name END, "
      "  edition = excluded.edition, flags = excluded.flags, state = excluded.state, "
      "  written = statement_timestamp ()) "
      "INSERT INTO volact_events (host, store, seq, time, event, cmid, name, edition, address, "
      "  result, count, minimum, flags, message) "
      "SELECT $8, $21, * FROM unnest ($9::bigint[], $10::bigint[], $11::integer[], $12::uuid[], "
      "  $13::text[], $14::text[], $15::text[], $16::bigint[], $17::integer[], $18::integer[], "
      "  $19::integer[], $20::text[]) "
      "ON CONFLICT DO NOTHING";

static void
push_init (Push *push, VolactRecords *records)
{
  for (int i = 0; i < C_N; i++)
    push->clients[i] = g_string_new ("{");
  for (int i = 0; i < E_N; i++)
    push->events[i] = g_string_new ("{");
  push->n_clients = push->n_events = 0;
  g_snprintf (push->store, sizeof push->store, "%" G_GUINT64_FORMAT, records->store_id);
  push->host = records->pool->host_name;
}

static void
push_clear (Push *push)
{
  for (int i = 0; i < C_N; i++)
    g_string_free (push->clients[i], TRUE);
  for (int i = 0; i < E_N; i++)
    g_string_free (push->events[i], TRUE);
}

/* A visit's client record (POOL: its pool's name). */
static void
push_client (Push *push, const Row *row, const char *pool)
{
  char cmid[37];
  guint flags = ((row->flags & ROW_F_COUNTED) ? CLIENT_COUNTED : 0)
                | ((row->flags & ROW_F_VM) ? CLIENT_VM : 0);

  volact_records_format_cmid (row->cmid, cmid);
  array_text (push->clients[C_POOL], pool);
  array_text (push->clients[C_CMID], cmid);
  array_int (push->clients[C_SEEN], row->seen);
  array_text (push->clients[C_NAME], row->name ? row->name : "");
  array_text (push->clients[C_EDITION], row->edition_text ? row->edition_text : "");
  array_int (push->clients[C_FLAGS], flags);
  array_int (push->clients[C_STATE], row->state);
  push->n_clients++;
}

/* ROW's event (sequence number SEQ), for the rows that have one. */
static void
push_event (Push *push, const Row *row, guint64 seq)
{
  char cmid[37];
  g_autofree char *address = NULL;

  if (row->kind != ROW_VISIT && row->kind != ROW_REFUSAL && row->kind != ROW_HOST_EVENT)
    return;
  volact_records_format_cmid (row->cmid, cmid);
  address = row->address_len ? volact_records_format_address (row->address, row->address_len)
                             : g_strdup (row->address_text);
  array_int (push->events[E_SEQ], (gint64) seq);
  array_int (push->events[E_TIME], row->time);
  array_int (push->events[E_EVENT], row->event);
  array_text (push->events[E_CMID], row->kind == ROW_HOST_EVENT ? NULL : cmid);
  array_text (push->events[E_NAME], row->kind == ROW_HOST_EVENT ? NULL : row->name);
  array_text (push->events[E_EDITION], row->edition_text);
  array_text (push->events[E_ADDRESS], address);
  array_int (push->events[E_RESULT], row->result);
  array_int (push->events[E_COUNT], row->count);
  array_int (push->events[E_MINIMUM], row->minimum);
  array_int (push->events[E_FLAGS], ((row->flags & ROW_F_VM) ? EVENT_VM : 0)
                                        | ((row->flags & ROW_F_COUNTED) ? EVENT_COUNTED : 0));
  array_text (push->events[E_MESSAGE], row->message);
  push->n_events++;
}

/* Visits keyed by (pool, machine ID), for the latest visit of each in a group. */
static guint
visit_hash (gconstpointer key)
{
  const Row *row = key;
  guint h = row->pool;

  for (int i = 0; i < 16; i++)
    h = h * 31 + row->cmid[i];
  return h;
}

static gboolean
visit_equal (gconstpointer a, gconstpointer b)
{
  const Row *x = a, *y = b;

  return x->pool == y->pool && memcmp (x->cmid, y->cmid, 16) == 0;
}

static int
visit_order (gconstpointer a, gconstpointer b)
{
  const Row *x = *(const Row *const *) a, *y = *(const Row *const *) b;

  if (x->pool != y->pool)
    return x->pool < y->pool ? -1 : 1;
  return memcmp (x->cmid, y->cmid, 16);
}

static gboolean
push_write (VolactPg *pg, Push *push, GError **error)
{
  const char *p[C_N + 1 + E_N + 1];

  for (int i = 0; i < C_N; i++)
    p[i] = push->clients[i]->str;
  p[C_N] = push->host;
  for (int i = 0; i < E_N; i++)
    p[C_N + 1 + i] = push->events[i]->str;
  p[C_N + 1 + E_N] = push->store;
  return volact_pg_exec_retried (pg, "volact-push", push_sql, G_N_ELEMENTS (p), p, error);
}

/* Writes ROWS (FIRST_SEQ and on) to the database in one transaction. */
static gboolean
push_rows (VolactRecords *records, const Row *rows, guint64 first_seq, GError **error)
{
  VolactPool *pool = records->pool;
  g_autoptr (GPtrArray) pools = g_ptr_array_new_with_free_func (g_free);
  /* A machine ID twice in a group: an upsert may not touch one row twice, so only its
   * latest visit makes the client record (every visit makes its event). */
  g_autoptr (GHashTable) latest = g_hash_table_new (visit_hash, visit_equal);
  g_autoptr (GPtrArray) visits = NULL;
  guint64 seq = first_seq;
  GHashTableIter iter;
  gpointer visit;
  gboolean ok;
  Push push;

  if (pool->push == NULL
      && !(pool->push = volact_pg_connect (pool->uri, pool->host_name, pool->timeout_s, error)))
    return FALSE;
  g_mutex_lock (&records->lock);
  for (guint i = 0; i < records->pools->len; i++) {
    PoolInfo *info = g_ptr_array_index (records->pools, i);
    g_ptr_array_add (pools, info ? g_strdup (info->name) : NULL);
  }
  g_mutex_unlock (&records->lock);
  push_init (&push, records);
  for (const Row *row = rows; row != NULL; row = row->next) {
    push_event (&push, row, seq++);
    if (row->kind == ROW_VISIT && row->pool < pools->len && g_ptr_array_index (pools, row->pool))
      g_hash_table_replace (latest, (gpointer) row, (gpointer) row);
  }
  visits = g_ptr_array_sized_new (g_hash_table_size (latest));
  g_hash_table_iter_init (&iter, latest);
  while (g_hash_table_iter_next (&iter, &visit, NULL))
    g_ptr_array_add (visits, visit);
  g_ptr_array_sort (visits, visit_order);
  for (guint i = 0; i < visits->len; i++) {
    const Row *row = g_ptr_array_index (visits, i);
    push_client (&push, row, g_ptr_array_index (pools, row->pool));
  }
  for (int i = 0; i < C_N; i++)
    g_string_append_c (push.clients[i], '}');
  for (int i = 0; i < E_N; i++)
    g_string_append_c (push.events[i], '}');
  ok = push.n_events == 0 || push_write (pool->push, &push, error);
  push_clear (&push);
  return ok;
}

static void
store_event (VolactRecords *records, guint event, const char *message)
{
  if (event == VOLACT_EVENT_STORE_DEGRADED)
    g_warning ("%s (event %u)", message, event);
  else
    g_message ("%s (event %u)", message, event);
  volact_records_host_event (records, event, message);
}

static void
go_degraded (VolactRecords *records, const GError *error)
{
  VolactPool *pool = records->pool;
  gboolean first;

  g_mutex_lock (&records->lock);
  first = !pool->degraded;
  pool->degraded = TRUE;
  g_mutex_unlock (&records->lock);
  pool->retry_at = g_get_monotonic_time () + RETRY_US;
  if (first) {
    g_autofree char *message = g_strdup_printf (
        "the shared store cannot take records: %s; answering from the last known count plus "
        "this host's new machines, which wait in clients.journal until it can",
        error->message);
    pool->degraded_since = real_now ();
    pool->caught_up_rows = 0;
    store_event (records, VOLACT_EVENT_STORE_DEGRADED, message);
  }
  if (error->domain == VOLACT_ERROR && error->code == VOLACT_E_IO) {
    g_clear_pointer (&pool->push, volact_pg_free); /* connect afresh next time */
    pool->lost_at = g_get_monotonic_time ();
  }
}

/* Whether the writer may connect to the store now. After it lost the connection it waits
 * until the pull thread has read from the store again: a database that cannot be reached
 * holds a connection attempt for connect_timeout, and the writer's time is the answers'. */
static gboolean
store_answers (VolactPool *pool)
{
  gboolean yes;

  if (pool->push != NULL || pool->lost_at == 0)
    return TRUE;
  g_mutex_lock (&pool->lock);
  yes = pool->answered_at > pool->lost_at;
  g_mutex_unlock (&pool->lock);
  return yes;
}

gboolean
volact_pool_push (VolactRecords *records, const Row *batch, guint n, guint64 last_seq)
{
  VolactPool *pool = records->pool;
  g_autoptr (GError) error = NULL;

  if (pool->degraded || records->pushed_seq + n != last_seq)
    return FALSE; /* behind: volact_pool_catch_up writes these in order */
  if (!push_rows (records, batch, last_seq - n + 1, &error)) {
    go_degraded (records, error);
    return FALSE;
  }
  records->pushed_seq = last_seq;
  return TRUE;
}

typedef struct {
  VolactRecords *records;
  guint rows;
} CatchUp;

static gboolean
catch_up_group (Row *rows, guint n, guint64 first_seq, gpointer data, GError **error)
{
  CatchUp *c = data;
  gboolean ok = push_rows (c->records, rows, first_seq, error);

  volact_records_free_rows (rows);
  if (!ok)
    return FALSE;
  c->records->pushed_seq = first_seq + n - 1;
  c->rows += n;
  return c->rows < CATCH_UP_ROWS;
}

gint64
volact_pool_retry_at (VolactRecords *records)
{
  VolactPool *pool = records->pool;

  return pool != NULL && (pool->degraded || !volact_pool_caught_up (records)) ? pool->retry_at
                                                                              : G_MAXINT64;
}

gboolean
volact_pool_caught_up (VolactRecords *records)
{
  return records->pool == NULL || records->pushed_seq >= volact_journal_last_seq (records->journal);
}

void
volact_pool_catch_up (VolactRecords *records)
{
  VolactPool *pool = records->pool;
  g_autoptr (GError) error = NULL;
  CatchUp c = { records, 0 };

  if (pool == NULL || g_get_monotonic_time () < pool->retry_at
      || (!pool->degraded && volact_pool_caught_up (records)))
    return;
  if (!store_answers (pool)) {
    pool->retry_at = g_get_monotonic_time () + RETRY_US;
    return;
  }
  if (!volact_pool_caught_up (records)) {
    gboolean complete = volact_journal_scan (records->journal, &pool->cursor, records->pushed_seq,
                                             catch_up_group, &c, &error);
    pool->caught_up_rows += c.rows;
    if (error != NULL) {
      go_degraded (records, error);
      return;
    }
    if (complete && !volact_pool_caught_up (records)) {
      /* Rows from before this host shared its records (the journal had moved on): the
       * machines they are about reach the store at their next visit. */
      g_message ("volact records: %" G_GUINT64_FORMAT " records written before this host "
                 "shared its records are not in the shared store",
                 volact_journal_last_seq (records->journal) - records->pushed_seq);
      records->pushed_seq = volact_journal_last_seq (records->journal);
    }
  }
  if (!volact_pool_caught_up (records))
    return; /* more next round, from the cursor */
  /* The journal may be rewound from now on: the next catching up starts at its start. */
  pool->cursor = (VolactJournalCursor){ 0, 0 };
  if (pool->push == NULL
      && !(pool->push = volact_pg_connect (pool->uri, pool->host_name, pool->timeout_s, &error))) {
    go_degraded (records, error);
    return;
  }
  if (pool->degraded) {
    g_autofree char *message = g_strdup_printf (
        "the shared store takes records again: %" G_GUINT64_FORMAT " records written to it that "
        "waited in clients.journal for %" G_GINT64_FORMAT " s",
        pool->caught_up_rows, MAX (real_now () - pool->degraded_since, 0));
    g_mutex_lock (&records->lock);
    pool->degraded = FALSE;
    g_mutex_unlock (&records->lock);
    store_event (records, VOLACT_EVENT_STORE_CAUGHT_UP, message);
  }
}

/* ---------------------------------------------------------------- attaching */

gboolean
volact_records_share (VolactRecords *records, const char *uri, const char *host_name,
                      guint timeout_s, GError **error)
{
  g_autoptr (GError) local = NULL;
  VolactPool *pool;

  g_return_val_if_fail (records != NULL && uri != NULL && host_name != NULL, FALSE);
  g_return_val_if_fail (records->pool == NULL, FALSE);
  if (!volact_pg_uri_check (uri, error))
    return FALSE;
  if (*host_name == '\0' || strlen (host_name) > 255 || !g_utf8_validate (host_name, -1, NULL)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "store-host-name: must be 1 to 255 bytes of UTF-8");
    return FALSE;
  }
  pool = g_new0 (VolactPool, 1);
  pool->uri = g_strdup (uri);
  pool->host_name = g_strdup (host_name);
  pool->timeout_s = timeout_s;
  g_mutex_init (&pool->lock);
  g_cond_init (&pool->wake);
  /* Connected here so that a host starting against a working database starts shared; if it
   * cannot, it starts degraded and the writer keeps trying. */
  pool->push = volact_pg_connect (uri, host_name, timeout_s, &local);
  g_mutex_lock (&records->lock);
  records->pool = pool;
  g_mutex_unlock (&records->lock);
  if (pool->push == NULL)
    go_degraded (records, local);
  else if (!volact_pg_host_seen (pool->push, real_now (), &local))
    g_warning ("volact records: %s", local->message);
  pool->thread = g_thread_new ("volact-pool", volact_pool_pull_main, records);
  return TRUE;
}

void
volact_pool_stop (VolactRecords *records)
{
  VolactPool *pool = records->pool;

  if (pool == NULL)
    return;
  g_mutex_lock (&pool->lock);
  pool->stopping = TRUE;
  g_cond_signal (&pool->wake);
  g_mutex_unlock (&pool->lock);
  g_thread_join (pool->thread);
}

void
volact_pool_free (VolactPool *pool)
{
  if (pool == NULL)
    return;
  volact_pg_free (pool->push);
  g_mutex_clear (&pool->lock);
  g_cond_clear (&pool->wake);
  g_free (pool->uri);
  g_free (pool->host_name);
  g_free (pool);
}

void
volact_pool_stats_locked (VolactRecords *records, VolactRecordsStats *stats)
{
  VolactPool *pool = records->pool;

  stats->shared = pool != NULL;
  stats->store_degraded = pool != NULL && pool->degraded;
  stats->store_pulled = pool != NULL ? pool->pulled : 0;
}
