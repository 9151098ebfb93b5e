/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Client records, private: the state shared by the parts of the store
 * (volact-records*.c) and the functions they call in one another. Nothing
 * outside core/records/ includes this.
 */
#ifndef VOLACT_RECORDS_PRIVATE_H
#define VOLACT_RECORDS_PRIVATE_H

#include "volact-records.h"
#include "volact-records-index.h"
#include "volact-pg.h"

#include <sqlite3.h>

G_BEGIN_DECLS

#define SECONDS_PER_DAY 86400
/* Distinct editions kept in the editions table; more (a client inventing
 * edition ids) are stored as text in the event instead. */
#define MAX_EDITIONS 4096
#define NAME_MAX_BYTES 255
#define EDITION_MAX_BYTES 64
#define MESSAGE_MAX_BYTES 1024

/* clients.flags */
enum { CLIENT_COUNTED = 1, CLIENT_VM = 2, CLIENT_DUPLICATE = 4 };
/* events.flags */
enum { EVENT_VM = 1, EVENT_COUNTED = 2 };

typedef enum {
  ROW_VISIT,      /* client upsert + event 12290 */
  ROW_REFUSAL,    /* event 12290 only */
  ROW_HOST_EVENT, /* event 1000..1009 */
  ROW_PURGE,      /* delete expired clients */
  ROW_CLAMP,      /* set clients seen later than now to now (same layout as ROW_PURGE) */
  ROW_POOL,       /* pools row (new pool or retention change) */
  ROW_EDITION,    /* editions row */
} RowKind;

enum {
  ROW_F_VM = 1 << 0,
  ROW_F_COUNTED = 1 << 1,
  ROW_F_NEW_NAME = 1 << 2, /* a name this CMID did not have: log the duplicate */
};

/* One queued write. Strings point into data[]. */
typedef struct _Row Row;
struct _Row {
  Row *next;
  guint64 ticket;
  gint64 time;   /* event time; ROW_POOL: retention days */
  guint32 seen;  /* client's last_seen as stored; ROW_PURGE: the cutoff; ROW_CLAMP: now */
  guint32 event; /* event id */
  guint32 minutes_left;
  guint32 minimum;
  guint32 count;
  guint32 result;
  guint32 n_cmids; /* ROW_PURGE, ROW_CLAMP */
  guint16 pool;    /* 0 = none */
  guint16 edition; /* 0 = none: the text in edition_text is stored instead */
  guint8 kind;
  guint8 flags;
  guint8 state;
  guint8 address_len; /* 0 (see address_text), 4 or 16 */
  guint8 cmid[16];
  guint8 address[16];
  const char *name;         /* machine name; ROW_POOL/ROW_EDITION: the name */
  const char *edition_text; /* edition as given */
  const char *address_text; /* an address that is not an IP address, or NULL */
  const char *message;      /* host events */
  guint8 data[];
};

typedef struct {
  char *name;
  guint retention_days; /* 0 = never seen with a retention */
} PoolInfo;

typedef struct _VolactJournal VolactJournal;
typedef struct _VolactPool VolactPool;

/* One client request of the writer's open transaction, for report_hours. */
typedef struct {
  gint64 hour;
  const char *edition_text; /* the row's, when edition is 0; NULL: no edition ('') */
  guint16 edition;
  guint8 activation, is_new;
} HourCount;

struct _VolactRecords {
  char *path;

  /* Everything below up to "writer" is under LOCK. */
  GMutex lock;
  GCond wake;      /* the writer waits for rows */
  GCond committed; /* flushers wait for commits */
  VolactIndex *index;
  GPtrArray *pools;     /* PoolInfo*, index = pool id, [0] = NULL */
  GHashTable *pool_ids; /* name -> GUINT_TO_POINTER (id) */
  GPtrArray *editions;  /* char*, index = edition id, [0] = NULL */
  GHashTable *edition_ids;
  Row *head, *tail;
  guint pending;      /* rows queued or being written, not yet committed */
  guint pending_peak; /* highest PENDING since the last malloc_trim */
  guint64 last_ticket;
  guint64 committed_ticket; /* durable (in the journal) and acknowledged */
  guint64 applied_ticket;   /* in clients.db too, where the queries read */
  gboolean stopping;
  gboolean writer_waiting;
  guint group_target; /* while it sleeps, the writer is woken when this many rows wait */
  gboolean wake_writer; /* a row was queued while the writer slept: signal it after unlocking */
  gboolean writer_failing;
  guint flush_waiters; /* callers waiting for APPLIED_TICKET: apply now */
  guint64 events;         /* writer's count, copied here after each commit */
  double bytes_per_event; /* idem */
  gint64 last_idle_purge; /* monotonic µs */
  /* The clock watch (volact_records_clock_check; docs/events.md, "Clock changes"). */
  gboolean clock_started;
  gint64 clock_real, clock_mono; /* the last sample, µs */
  gint64 clock_ahead;            /* s the wall clock is held to be ahead (forward jump), 0 = none */
  gint64 clock_jump_mono;        /* when the last forward jump was seen (monotonic µs) */
  gint64 purge_cap;              /* purges never expire as if later than this (unix s); 0 = no cap */
  guint64 clock_jumps;           /* jumps seen, for the stats */
  VolactCommittedFunc commit_func;
  gpointer commit_data;
  /* The commit reports: an eventfd watched by one GSource in the caller's context for as long
   * as a FUNC is set; the writer writes it once per report (commit_signalled), not per commit. */
  GSource *commit_source;
  int commit_fd;
  gboolean commit_signalled;
  guint64 reported_ticket;
  /* For the metrics (VolactRecordsStats). */
  guint64 busy_refusals;
  guint64 commits, commit_failures;
  double commit_seconds;
  guint64 commit_buckets[VOLACT_RECORDS_COMMIT_BUCKETS];
  guint64 machines[VOLACT_INDEX_STATE_OTHER + 1]; /* by index entry state */

  /* Writer thread only (and open/close around it). */
  GThread *writer;
  VolactJournal *journal;
  guint64 store_id;   /* journal_state.store */
  guint64 pushed_seq; /* the last journal row known to be in the shared store */
  VolactPool *pool;   /* the shared store, or NULL (set before any row is queued) */
  sqlite3 *db;
  sqlite3_stmt *st_begin, *st_commit, *st_rollback;
  sqlite3_stmt *st_pool, *st_edition, *st_client, *st_event, *st_purge, *st_clamp, *st_names;
  sqlite3_stmt *st_cap_delete, *st_applied;
  sqlite3_stmt *st_hours, *st_machine_known, *st_machine; /* the report summaries */
  GArray *w_hours; /* HourCount: the open transaction's requests, for report_hours */
  guint64 w_events;
  double w_bytes_per_event;
  guint64 event_cap;

  /* Queries, under READ_LOCK. */
  GMutex read_lock;
  sqlite3 *rdb;
  sqlite3_stmt *st_q_clients, *st_q_clients_count, *st_q_events, *st_q_events_count;
};

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* ---------------------------------------------------------------- time */

static inline gint64
real_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static inline guint32
clamp_time (gint64 t)
{
  return (guint32) CLAMP (t, 0, (gint64) G_MAXUINT32);
}

static inline guint
retention_or_default (guint days)
{
  return days ? days : VOLACT_RECORDS_DEFAULT_RETENTION_DAYS;
}

/* "Past retention" is last_seen <= cutoff. */
static inline gboolean
cutoff_for (gint64 now, guint retention_days, guint32 *cutoff)
{
  gint64 c = now - (gint64) retention_or_default (retention_days) * SECONDS_PER_DAY;
  if (c < 0)
    return FALSE;
  *cutoff = clamp_time (c);
  return TRUE;
}

/* ---------------------------------------------------------------- SQLite helpers (-schema.c) */

/* Sets ERROR to "PATH: WHAT: SQLite's message" (VOLACT_E_IO); returns FALSE. */
G_GNUC_INTERNAL gboolean volact_records_db_fail (sqlite3 *db, const char *path, const char *what,
                                                 GError **error);
/* A persistent prepared statement, or NULL with ERROR naming PATH. */
G_GNUC_INTERNAL sqlite3_stmt *volact_records_prepare (sqlite3 *db, const char *path,
                                                      const char *sql, GError **error);
/* Runs a statement to completion and resets it; TRUE if it finished. */
G_GNUC_INTERNAL gboolean volact_records_step_done (sqlite3_stmt *stmt);

/* ---------------------------------------------------------------- rows (-codec.c) */

/* TEXT as valid UTF-8 of at most MAX bytes: TEXT itself, or a copy left in *OWNED. */
G_GNUC_INTERNAL const char *volact_records_clean_text (const char *text, gsize max, char **owned);
/* A 4 or 16 byte address as text, or NULL. */
G_GNUC_INTERNAL char *volact_records_format_address (const guint8 *bytes, int len);
/* A row with room for the strings given (copied) and EXTRA more bytes. */
G_GNUC_INTERNAL Row *volact_records_row_new (RowKind kind, const char *name, const char *edition,
                                             const char *address_text, const char *message,
                                             gsize extra);
/* The event part of a visit or refusal, built before taking the lock. */
G_GNUC_INTERNAL Row *volact_records_row_new_visit (RowKind kind, const VolactVisit *visit);
G_GNUC_INTERNAL void volact_records_free_rows (Row *row);
/* Prepares the writer's statements on records->db. */
G_GNUC_INTERNAL gboolean volact_records_prepare_writer (VolactRecords *records, GError **error);
/* Writes ROW in the open transaction; duplicate-CMID warnings go to WARNINGS. */
G_GNUC_INTERNAL gboolean volact_records_write_row (VolactRecords *records, const Row *row,
                                                   GPtrArray *warnings);
/* Adds the requests written since the last call to report_hours, one upsert per hour and
 * edition; runs before the size cap prunes (its trigger takes pruned requests out). */
G_GNUC_INTERNAL gboolean volact_records_write_hours (VolactRecords *records);

/* ---------------------------------------------------------------- the journal (-journal.c) */

/* Opens or creates PATH (0600, preallocated). */
G_GNUC_INTERNAL VolactJournal *volact_journal_open (const char *path, GError **error);
G_GNUC_INTERNAL void volact_journal_close (VolactJournal *journal);
/* Reads the journal from its start: the rows after sequence number APPLIED of the database
 * STORE_ID, in order (a chain to free), and where to append next. Called once, first. */
G_GNUC_INTERNAL gboolean volact_journal_read (VolactJournal *journal, guint64 store_id,
                                              guint64 applied, Row **rows, guint *n_rows,
                                              GError **error);
/* A group's rows after the point asked (a chain FUNC owns), the first one's sequence number;
 * FALSE stops the scan (with ERROR set if it failed). */
typedef gboolean (*VolactJournalFunc) (Row *rows, guint n, guint64 first_seq, gpointer data,
                                       GError **error);
/* Where a scan goes on: the offset of a group and its first sequence number ({ 0, 0 }: from
 * the start). Valid until the journal is rewound. */
typedef struct {
  guint64 offset, next_seq;
} VolactJournalCursor;
/* Calls FUNC on the rows appended so far after sequence number AFTER, group by group, in order,
 * from CURSOR on, and moves CURSOR past what it read (the writer catching the shared store up
 * over several rounds reads each group once). TRUE when it reached the last group. */
G_GNUC_INTERNAL gboolean volact_journal_scan (VolactJournal *journal, VolactJournalCursor *cursor,
                                              guint64 after, VolactJournalFunc func,
                                              gpointer data, GError **error);
/* Makes the chain BATCH durable as one group (one write, one fdatasync); *LAST_SEQ is the
 * sequence number of its last row. */
G_GNUC_INTERNAL gboolean volact_journal_append (VolactJournal *journal, const Row *batch,
                                                guint64 *last_seq, GError **error);
/* Everything appended is in clients.db, durably: the next group goes at the start. */
G_GNUC_INTERNAL void volact_journal_rewind (VolactJournal *journal);
/* The sequence number of the last row appended or read. */
G_GNUC_INTERNAL guint64 volact_journal_last_seq (const VolactJournal *journal);
/* Writes the chain BATCH to clients.db in one transaction that also records APPLIED as the
 * last journal row it holds; duplicate-CMID warnings go to WARNINGS. */
G_GNUC_INTERNAL gboolean volact_records_apply (VolactRecords *records, Row *batch,
                                               guint64 applied, GPtrArray *warnings,
                                               GError **error);

/* ---------------------------------------------------------------- the shared store (-pool.c) */

/* The shared store (-pool.c, -pull.c). */
struct _VolactPool {
  char *uri, *host_name;
  guint timeout_s; /* store-timeout */
  /* Writer thread only. */
  VolactPg *push;
  gint64 retry_at; /* monotonic µs */
  gint64 lost_at;  /* monotonic µs when the push connection was last given up */
  VolactJournalCursor cursor; /* where catching up goes on; reset once caught up */
  guint64 caught_up_rows;
  gint64 degraded_since; /* unix s, for the event */
  /* Under records->lock: read by the stats. */
  gboolean degraded;
  guint64 pulled; /* records merged from other hosts */
  /* The pull thread. */
  GThread *thread;
  GMutex lock;
  GCond wake;
  gboolean stopping;
  gint64 answered_at; /* under LOCK: monotonic µs of the pull thread's last good round */
};

/* The pull thread's body (DATA: the VolactRecords). */
G_GNUC_INTERNAL gpointer volact_pool_pull_main (gpointer data);
/* Writer thread: writes BATCH (N rows, the last with sequence number LAST_SEQ) to the shared
 * store when it is caught up; TRUE if it did. Otherwise (degraded, or behind) the rows wait
 * in the journal for volact_pool_catch_up. */
G_GNUC_INTERNAL gboolean volact_pool_push (VolactRecords *records, const Row *batch, guint n,
                                           guint64 last_seq);
/* Writer thread: whether the shared store has every row of the journal (TRUE with none). */
G_GNUC_INTERNAL gboolean volact_pool_caught_up (VolactRecords *records);
/* Writer thread: when volact_pool_catch_up should run next (monotonic µs; G_MAXINT64: no need). */
G_GNUC_INTERNAL gint64 volact_pool_retry_at (VolactRecords *records);
/* Writer thread: writes the rows the store lacks, from the journal, in order (a bounded
 * number per call); back from degraded once it has them all. */
G_GNUC_INTERNAL void volact_pool_catch_up (VolactRecords *records);
/* Stops the pull thread (before the writer stops); volact_pool_free after the writer. */
G_GNUC_INTERNAL void volact_pool_stop (VolactRecords *records);
G_GNUC_INTERNAL void volact_pool_free (VolactPool *pool);
G_GNUC_INTERNAL void volact_pool_stats_locked (VolactRecords *records, VolactRecordsStats *stats);

/* ---------------------------------------------------------------- pools and editions
 * (volact-records.c) */

G_GNUC_INTERNAL void volact_records_pool_set (VolactRecords *records, guint id, const char *name,
                                              guint retention_days);
/* ENTRY's latest visit (a local one, or another host's from the shared store): its license
 * state, counted in machines[] (the caller took the previous one out), and its VM flag. */
G_GNUC_INTERNAL void volact_records_note_latest_locked (VolactRecords *records,
                                                        VolactIndexEntry *e, guint8 state,
                                                        gboolean virtual_machine);
/* The id of pool NAME, created with the default retention if new (its retention kept if
 * not); 0 if the pool table is full. */
G_GNUC_INTERNAL guint volact_records_pool_find_locked (VolactRecords *records, const char *name);
G_GNUC_INTERNAL void volact_records_edition_set (VolactRecords *records, guint id,
                                                 const char *name);

/* ---------------------------------------------------------------- loading, retention (-load.c) */

G_GNUC_INTERNAL gboolean volact_records_load_names (VolactRecords *records, GError **error);
G_GNUC_INTERNAL gboolean volact_records_load_clients (VolactRecords *records, GError **error);
G_GNUC_INTERNAL gboolean volact_records_load_event_stats (VolactRecords *records, GError **error);
/* Drops POOL's records past retention at NOW and queues their deletion;
 * never expires beyond the clock watch's cap (a forward jump not yet
 * trusted). Records seen later than now are set to now by the clock watch
 * and at open, not here: a caller may pass an earlier NOW on purpose. */
G_GNUC_INTERNAL void volact_records_purge_pool_locked (VolactRecords *records, guint pool,
                                                       guint retention_days, gint64 now);
G_GNUC_INTERNAL void volact_records_purge_all_locked (VolactRecords *records, gint64 now);

/* ---------------------------------------------------------------- the writer (-writer.c) */

/* Appends ROW to the queue and gives it the next ticket. */
G_GNUC_INTERNAL guint64 volact_records_enqueue_locked (VolactRecords *records, Row *row);
/*
 * Unlocks RECORDS->lock, then wakes the writer if a row was queued while it slept. Every
 * unlock after volact_records_enqueue_locked goes through here: signalling under the lock
 * woke the writer straight into the held mutex, to sleep again until the unlock (three futex
 * calls and two scheduler round trips on a lone client's path instead of one).
 */
static inline void
volact_records_unlock (VolactRecords *records)
{
  gboolean wake = records->wake_writer;

  records->wake_writer = FALSE;
  g_mutex_unlock (&records->lock);
  if (wake)
    g_cond_signal (&records->wake);
}

/* Before a query: waits (up to 5 s; then the query shows what clients.db holds) until
 * clients.db holds every row committed so far, asking the writer to copy them now. */
static inline void
volact_records_catch_up (VolactRecords *records)
{
  volact_records_flush (records, 5000);
}

/* The writer thread's body (DATA: the VolactRecords). */
G_GNUC_INTERNAL gpointer volact_records_writer_main (gpointer data);

/* ---------------------------------------------------------------- queries (-query.c) */

/* Prepares the query statements on records->rdb. */
G_GNUC_INTERNAL gboolean volact_records_prepare_reader (VolactRecords *records, GError **error);

G_END_DECLS

#endif
