/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Client records: the queue and the writer thread. Rows are made durable in
 * groups of at most BATCH_MAX in the journal (one write and one fdatasync:
 * volact-records-journal.c) and acknowledged; they are copied into
 * clients.db in transactions of up to APPLY_ROWS at least every
 * APPLY_INTERVAL_MS, or at once when a query or a flush waits for them. A
 * failed write is retried with back-off and nothing is acknowledged
 * meanwhile; commits are reported to the main context through an eventfd,
 * one write per report.
 */
#include "config.h"

#include "volact-records-private.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/eventfd.h>
#include <unistd.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

/* Rows per journal group: big enough to amortise the fdatasync, small enough that a group
 * never holds the writer for long. */
#define BATCH_MAX 4096
/* Group commit: when the last groups were bigger than what waits now and the last ended
 * moments ago, the clients of those groups are likely sending their next requests: the
 * writer waits up to GROUP_WAIT_US for as many rows as the larger of the last two groups,
 * so that one fdatasync serves them all rather than two or three. A lone client (groups
 * of one) never waits. */
#define GROUP_WAIT_US 200
#define GROUP_RECENT_US 2000

/* clients.db takes the journal's rows in transactions of this many at most, and at least
 * this often: the SQLite commit (its page writes, its fsync) is paid once per transaction
 * instead of once per group. */
#define APPLY_ROWS 4096
#define APPLY_INTERVAL_MS 1000
/* Idle pools are purged (and their rows deleted on disk) this often. */
#define IDLE_PURGE_SECONDS 60
/* When over the cap, delete down to this share of it so deletes come in
 * batches rather than with every commit. */
#define CAP_LOW_WATER 0.9
/* Writer retry back-off after a failed commit. */
#define RETRY_MIN_MS 50
#define RETRY_MAX_MS 2000
#define CLOSE_RETRIES 3
/* Give freed memory back to the system, once the writer is idle, after a
 * backlog of queued rows this large or an apply of this many rows. */
#define TRIM_AFTER_ROWS 4096

/* Journal groups of one to 4096 rows: from half a millisecond (no fsync wait) to seconds (a
 * slow or overloaded disk), roughly 2.5x apart. */
const double volact_records_commit_bounds[VOLACT_RECORDS_COMMIT_BUCKETS]
    = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

/* A durable group that took SECONDS, for the histogram. */
static void
record_commit_locked (VolactRecords *records, double seconds)
{
  guint i = 0;

  while (i < VOLACT_RECORDS_COMMIT_BUCKETS && seconds > volact_records_commit_bounds[i])
    i++;
  if (i < VOLACT_RECORDS_COMMIT_BUCKETS)
    records->commit_buckets[i]++;
  records->commits++;
  records->commit_seconds += seconds;
}

guint64
volact_records_enqueue_locked (VolactRecords *records, Row *row)
{
  row->ticket = ++records->last_ticket;
  row->next = NULL;
  if (records->tail)
    records->tail->next = row;
  else
    records->head = row;
  records->tail = row;
  if (++records->pending > records->pending_peak)
    records->pending_peak = records->pending;
  /* Only wake the writer when it sleeps: a futex call per row would cost
   * more than the whole count. The caller signals once it has unlocked
   * (volact_records_unlock). */
  if (records->writer_waiting && records->pending >= records->group_target) {
    records->writer_waiting = FALSE;
    records->wake_writer = TRUE;
  }
  return row->ticket;
}

/* ---------------------------------------------------------------- commit reports */

/*
 * The writer wakes the caller's main context with one write to an eventfd that a GSource
 * there watches; the source lives as long as the callback is set. Before, every commit group
 * attached a new idle source: an allocation, the context's lock and its wake-up on the writer
 * side, and a destroy on the main side, all on the path of a lone client's answer.
 */
static gboolean
dispatch_commit (gint fd, GIOCondition condition, gpointer user_data)
{
  VolactRecords *records = user_data;
  VolactCommittedFunc func;
  gpointer data;
  guint64 t, count;
  gboolean report;

  /* Drained before looking at the ticket: a commit after this point writes again. */
  if (read (fd, &count, sizeof count) < 0 && errno != EAGAIN && errno != EINTR)
    g_warning ("volact records: cannot read the commit notification: %s", g_strerror (errno));
  g_mutex_lock (&records->lock);
  records->commit_signalled = FALSE;
  t = records->committed_ticket;
  func = records->commit_func;
  data = records->commit_data;
  report = t > records->reported_ticket;
  if (report)
    records->reported_ticket = t;
  g_mutex_unlock (&records->lock);
  if (report && func != NULL)
    func (t, data);
  return G_SOURCE_CONTINUE;
}

/* TRUE if the caller must write the eventfd (after dropping the lock): a report is due and
 * none is on its way yet. */
static gboolean
report_due_locked (VolactRecords *records)
{
  if (records->commit_source == NULL || records->commit_signalled
      || records->committed_ticket <= records->reported_ticket)
    return FALSE;
  records->commit_signalled = TRUE;
  return TRUE;
}

static void
signal_report (VolactRecords *records)
{
  guint64 one = 1;

  /* Cannot fail short of a bad descriptor: an eventfd only refuses at 2^64 - 2. */
  if (write (records->commit_fd, &one, sizeof one) < 0 && errno != EAGAIN)
    g_warning ("volact records: cannot signal a commit: %s", g_strerror (errno));
}

/* Takes the commit source out of RECORDS (under the lock); the caller destroys it. */
static GSource *
steal_commit_source_locked (VolactRecords *records, int *fd)
{
  GSource *source = records->commit_source;

  *fd = records->commit_fd;
  records->commit_source = NULL;
  records->commit_fd = -1;
  records->commit_signalled = FALSE;
  return source;
}

static void
commit_source_free (GSource *source, int fd)
{
  if (source != NULL) {
    g_source_destroy (source);
    g_source_unref (source);
  }
  if (fd >= 0)
    close (fd);
}

void
volact_records_on_commit (VolactRecords *records, VolactCommittedFunc func, gpointer user_data)
{
  GSource *old, *source = NULL;
  int old_fd, fd = -1;
  gboolean due;

  g_return_if_fail (records != NULL);
  if (func != NULL) {
    fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0)
      g_error ("volact records: cannot create the commit notification: %s", g_strerror (errno));
    source = g_unix_fd_source_new (fd, G_IO_IN);
    g_source_set_callback (source, (GSourceFunc) (void (*) (void)) dispatch_commit, records, NULL);
    g_source_set_priority (source, G_PRIORITY_DEFAULT);
    /* Not blocked while it runs: blocking a source with a descriptor makes GLib wake its own
     * context twice per dispatch (remove and re-add the descriptor). Nothing in the callback
     * iterates the context. */
    g_source_set_can_recurse (source, TRUE);
    g_source_set_static_name (source, "volact-records-commit");
    g_source_attach (source, g_main_context_get_thread_default ());
  }
  g_mutex_lock (&records->lock);
  old = steal_commit_source_locked (records, &old_fd);
  records->commit_func = func;
  records->commit_data = user_data;
  records->commit_source = source;
  records->commit_fd = fd;
  due = report_due_locked (records);
  g_mutex_unlock (&records->lock);
  commit_source_free (old, old_fd);
  if (due)
    signal_report (records);
}

gboolean
volact_records_flush (VolactRecords *records, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint64 target;
  gboolean done;

  g_return_val_if_fail (records != NULL, FALSE);
  g_mutex_lock (&records->lock);
  target = records->last_ticket;
  records->flush_waiters++;
  if (records->writer_waiting) {
    records->writer_waiting = FALSE;
    g_cond_signal (&records->wake);
  }
  while (records->applied_ticket < target)
    if (!g_cond_wait_until (&records->committed, &records->lock, deadline))
      break;
  done = records->applied_ticket >= target;
  records->flush_waiters--;
  g_mutex_unlock (&records->lock);
  return done;
}

static gboolean
enforce_cap (VolactRecords *records)
{
  double bpe = records->w_bytes_per_event;
  guint64 keep, drop;

  if ((double) records->w_events * bpe <= (double) records->event_cap)
    return TRUE;
  keep = (guint64) ((double) records->event_cap * CAP_LOW_WATER / bpe);
  drop = records->w_events > keep ? records->w_events - keep : 0;
  if (drop == 0)
    return TRUE;
  sqlite3_bind_int64 (records->st_cap_delete, 1, (sqlite3_int64) drop - 1);
  if (!volact_records_step_done (records->st_cap_delete))
    return FALSE;
  records->w_events -= MIN ((guint64) sqlite3_changes (records->db), records->w_events);
  /* The reports' summaries follow (the hour counts already did, by trigger): machine IDs
   * none of whose successes is left, hours with no request left. */
  return sqlite3_exec (records->db,
                       "DELETE FROM report_machines WHERE cmid IN ("
                       "  SELECT cmid FROM report_machines r"
                       "  WHERE last < (SELECT min (time) FROM events) AND NOT EXISTS ("
                       "    SELECT 1 FROM report_machines m WHERE m.cmid = r.cmid"
                       "      AND m.last >= (SELECT min (time) FROM events)));"
                       "DELETE FROM report_hours WHERE requests <= 0;",
                       NULL, NULL, NULL)
         == SQLITE_OK;
}

gboolean
volact_records_apply (VolactRecords *records, Row *batch, guint64 applied, GPtrArray *warnings,
                      GError **error)
{
  guint64 events_before = records->w_events;

  if (!volact_records_step_done (records->st_begin))
    return volact_records_db_fail (records->db, records->path, "cannot begin", error);
  g_array_set_size (records->w_hours, 0); /* what a failed attempt left */
  for (Row *row = batch; row != NULL; row = row->next) {
    if (!volact_records_write_row (records, row, warnings))
      goto fail;
  }
  sqlite3_bind_int64 (records->st_applied, 1, (sqlite3_int64) applied);
  sqlite3_bind_int64 (records->st_applied, 2, (sqlite3_int64) records->pushed_seq);
  if (!volact_records_write_hours (records) || !enforce_cap (records)
      || !volact_records_step_done (records->st_applied))
    goto fail;
  if (!volact_records_step_done (records->st_commit))
    goto fail;
  return TRUE;

fail:
  volact_records_db_fail (records->db, records->path, "cannot write", error);
  volact_records_step_done (
      records->st_rollback); /* fails harmlessly if SQLite rolled back already */
  records->w_events = events_before;
  g_ptr_array_set_size (warnings, 0);
  return FALSE;
}

/* The rows durable in the journal and not yet in clients.db (writer thread only). */
typedef struct {
  Row *head, *tail;
  guint n;
  guint64 last_ticket; /* the highest ticket among them */
  gint64 since;        /* monotonic µs of the last apply */
  guint attempts;      /* failed applies in a row */
  gint64 retry_at;     /* after a failure, not before this (monotonic µs) */
  gboolean trim_due;   /* a large apply or backlog since the last malloc_trim */
} Unapplied;

/* Whether U goes to clients.db now (under the lock: a query or flush may be waiting). */
static gboolean
apply_due_locked (VolactRecords *records, const Unapplied *u, gint64 mono)
{
  if (u->n == 0 || mono < u->retry_at)
    return FALSE;
  return u->n >= APPLY_ROWS || records->flush_waiters > 0 || records->stopping
         || mono - u->since >= (gint64) APPLY_INTERVAL_MS * 1000;
}

static void
unapplied_add (Unapplied *u, Row *batch, Row *last, guint n)
{
  if (u->tail)
    u->tail->next = batch;
  else
    u->head = batch;
  u->tail = last;
  u->n += n;
  u->last_ticket = last->ticket;
}

static void
log_warnings (GPtrArray *warnings)
{
  for (guint i = 0; i < warnings->len; i++)
    g_warning ("%s (event %u)", (const char *) g_ptr_array_index (warnings, i),
               VOLACT_EVENT_DUPLICATE_CMID);
  g_ptr_array_set_size (warnings, 0);
}

/* Copies U into clients.db; on failure keeps it (it is in the journal) and backs off. */
static void
apply_unapplied (VolactRecords *records, Unapplied *u, GPtrArray *warnings)
{
  g_autoptr (GError) error = NULL;
  gboolean ok, stopping;
  gint64 mono;

  if (u->n >= TRIM_AFTER_ROWS)
    u->trim_due = TRUE;
  ok = volact_records_apply (records, u->head, volact_journal_last_seq (records->journal),
                             warnings, &error);
  log_warnings (warnings);
  mono = g_get_monotonic_time ();
  g_mutex_lock (&records->lock);
  stopping = records->stopping;
  if (!ok) {
    records->writer_failing = TRUE;
    records->commit_failures++;
  }
  g_mutex_unlock (&records->lock);
  if (!ok) {
    u->attempts++;
    if (u->attempts == 1 || u->attempts % 100 == 0)
      g_warning ("volact records: %s; the rows are safe in the journal; retrying (attempt %u, "
                 "%u rows waiting)",
                 error->message, u->attempts, u->n);
    u->retry_at = mono + (gint64) MIN (RETRY_MIN_MS << MIN (u->attempts - 1, 6u), RETRY_MAX_MS)
                             * 1000;
    if (!stopping || u->attempts < CLOSE_RETRIES)
      return;
    g_warning ("volact records: shutting down; %u rows stay in the journal and go into %s at "
               "the next start",
               u->n, records->path);
  } else {
    if (u->attempts > 0)
      g_message ("volact records: writing to %s again", records->path);
    if (volact_pool_caught_up (records)) /* else the shared store still needs them */
      volact_journal_rewind (records->journal);
  }
  volact_records_free_rows (u->head);
  u->head = u->tail = NULL;
  u->n = 0;
  u->attempts = 0;
  u->retry_at = 0;
  u->since = mono;

  g_mutex_lock (&records->lock);
  if (ok) {
    records->applied_ticket = u->last_ticket;
    records->writer_failing = FALSE;
    records->events = records->w_events;
    records->bytes_per_event = records->w_bytes_per_event;
  }
  if (records->pending_peak >= TRIM_AFTER_ROWS) {
    records->pending_peak = 0;
    u->trim_due = TRUE;
  }
  if (records->flush_waiters)
    g_cond_broadcast (&records->committed);
  g_mutex_unlock (&records->lock);
}

/* A drained backlog or a large apply leaves its rows', statements' and pages' memory in
 * malloc's free lists; once the writer has nothing to do, give those pages back (called
 * without the lock, as the writer is about to wait). */
static void
trim_if_due (Unapplied *u)
{
  if (!u->trim_due)
    return;
  u->trim_due = FALSE;
#ifdef __GLIBC__
  malloc_trim (0);
#endif
}

gpointer
volact_records_writer_main (gpointer data)
{
  VolactRecords *records = data;
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  guint64 lost = 0;  /* rows given up on at shutdown */
  Row *chain = NULL; /* taken from the queue, not yet in the journal */
  Unapplied u = { NULL, NULL, 0, 0, g_get_monotonic_time (), 0, 0, FALSE };
  guint group[2] = { 1, 1 }; /* rows in the last two groups */
  gint64 group_end = 0;      /* when the last one was durable (monotonic µs) */

  for (;;) {
    Row *batch, *last;
    guint n, attempts = 0, delay = RETRY_MIN_MS;
    gboolean ok = FALSE, due = FALSE, apply = FALSE, done = FALSE, catch_up = FALSE;
    guint64 seq = 0;
    guint64 committed;
    gint64 started, took = 0;

    if (chain == NULL) {
      g_mutex_lock (&records->lock);
      for (;;) {
        gint64 mono = g_get_monotonic_time ();
        gint64 wake_at = records->last_idle_purge + IDLE_PURGE_SECONDS * G_USEC_PER_SEC;
        if (mono >= wake_at) {
          /* Pools nobody asks about still lose their old records on time. */
          records->last_idle_purge = mono;
          volact_records_purge_all_locked (records, real_now ());
        }
        apply = apply_due_locked (records, &u, mono);
        catch_up = mono >= volact_pool_retry_at (records);
        if (apply || catch_up || (records->head != NULL && u.n < VOLACT_RECORDS_UNAPPLIED_MAX)
            || (records->stopping && u.n == 0))
          break;
        if (u.n > 0)
          wake_at = MIN (wake_at, MAX (u.since + (gint64) APPLY_INTERVAL_MS * 1000, u.retry_at));
        else if (u.trim_due) {
          g_mutex_unlock (&records->lock);
          trim_if_due (&u);
          g_mutex_lock (&records->lock);
          continue; /* rows may have come meanwhile */
        }
        wake_at = MIN (wake_at, volact_pool_retry_at (records));
        records->writer_waiting = TRUE;
        g_cond_wait_until (&records->wake, &records->lock, wake_at);
        records->writer_waiting = FALSE;
      }
      if (!apply && records->head != NULL && !records->stopping && records->flush_waiters == 0
          && records->pending < MAX (group[0], group[1])
          && g_get_monotonic_time () - group_end < GROUP_RECENT_US) {
        records->group_target = MAX (group[0], group[1]);
        records->writer_waiting = TRUE;
        g_cond_wait_until (&records->wake, &records->lock, g_get_monotonic_time () + GROUP_WAIT_US);
        records->writer_waiting = FALSE;
        records->group_target = 1;
      }
      /* Everything queued at once: O(1) under the lock, so counting never
       * waits for the writer. Rows stay "pending" until durable. */
      if (u.n < VOLACT_RECORDS_UNAPPLIED_MAX) {
        chain = records->head;
        records->head = records->tail = NULL;
      }
      done = chain == NULL && records->head == NULL && records->stopping && u.n == 0;
      g_mutex_unlock (&records->lock);
      if (done)
        break;
    }
    if (catch_up)
      volact_pool_catch_up (records);
    if (chain == NULL) {
      if (apply)
        apply_unapplied (records, &u, warnings);
      continue;
    }

    /* One journal group of at most BATCH_MAX rows, in queue order. */
    batch = last = chain;
    for (n = 1; n < BATCH_MAX && last->next != NULL; n++)
      last = last->next;
    chain = last->next;
    last->next = NULL;

    while (lost == 0) {
      g_autoptr (GError) error = NULL;
      gboolean stopping;

      started = g_get_monotonic_time ();
      ok = volact_journal_append (records->journal, batch, &seq, &error);
      took = g_get_monotonic_time () - started;
      if (ok)
        break;
      attempts++;
      g_mutex_lock (&records->lock);
      records->writer_failing = TRUE;
      records->commit_failures++;
      stopping = records->stopping;
      g_mutex_unlock (&records->lock);
      if (attempts == 1 || attempts % 100 == 0)
        g_warning ("volact records: %s; retrying (attempt %u, %u rows waiting)", error->message,
                   attempts, n);
      if (stopping && attempts >= CLOSE_RETRIES)
        break;
      g_usleep ((gulong) delay * 1000);
      delay = MIN (delay * 2, RETRY_MAX_MS);
    }
    if (!ok)
      lost += n; /* only at shutdown: later rows are dropped too */
    if (ok && attempts > 0)
      g_message ("volact records: writing to %s again", records->path);
    /* With a shared store, acknowledged once the database has it too (or it cannot take it:
     * then the journal keeps it until it can). */
    if (ok && records->pool != NULL)
      volact_pool_push (records, batch, n, seq);

    committed = last->ticket;
    group[1] = group[0];
    group[0] = n;
    group_end = g_get_monotonic_time ();
    if (ok)
      unapplied_add (&u, batch, last, n);
    else
      volact_records_free_rows (batch);

    g_mutex_lock (&records->lock);
    records->pending -= n;
    if (ok) {
      record_commit_locked (records, (double) took / G_USEC_PER_SEC);
      records->committed_ticket = committed;
      records->writer_failing = u.attempts > 0;
      due = report_due_locked (records);
    }
    apply = apply_due_locked (records, &u, g_get_monotonic_time ());
    g_mutex_unlock (&records->lock);
    if (due)
      signal_report (records);
    if (apply)
      apply_unapplied (records, &u, warnings);
  }
  if (lost > 0)
    g_warning ("volact records: shutting down; %" G_GUINT64_FORMAT " rows were not written to %s",
               lost, records->path);
  return NULL;
}
