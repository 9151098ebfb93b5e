/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * Client records and events: the counting index (in memory, compact) backed
 * by SQLite in STATE_DIR/clients.db, written by one writer thread that
 * commits in groups. A record is acknowledged (its response sent) only after
 * the transaction holding it has committed.
 */
#ifndef VOLACT_RECORDS_H
#define VOLACT_RECORDS_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VolactRecords VolactRecords;

/** One client request, as counted and as logged (event 12290). */
typedef struct {
  gint64 time;              /* unix seconds */
  const char *pool;         /* application id */
  const guint8 *cmid;       /* 16 bytes */
  const char *name;         /* machine name, may be "" */
  const char *edition;
  const char *address;      /* client IP address as text */
  gboolean virtual_machine;
  gboolean counts;          /* FALSE: a VM where the policy ignores VMs */
  guint8 state;             /* reported license state */
  guint32 minutes_left;     /* reported time remaining */
  guint retention_days;     /* from the pool's policy */
  guint minimum_count;      /* of the edition, for the event */
} VolactVisit;

/** Opens (creating) clients.db (0600, WAL), loads the index, deletes expired records. */
VolactRecords *volact_records_open (const char *state_dir, guint64 event_cap_bytes,
                                    GError **error);
/** Stops the writer after committing everything queued. */
void volact_records_close (VolactRecords *records);

/**
 * Counts VISIT: refreshes or adds its CMID in the pool (a new counted CMID
 * always raises the count, a known one never does), purges records past
 * retention, and queues the record and its event for the writer. Returns the
 * pool's count, the requester included; *RESULT receives 0 if that count
 * reaches VISIT->minimum_count, else 0xC004F038. Thread-safe. *TICKET
 * receives the write's ticket. A CMID seen with another machine name is
 * logged and flagged as a duplicate.
 */
guint volact_records_count (VolactRecords *records, const VolactVisit *visit, guint32 *result,
                            guint64 *ticket);
/** Queues only the event of a request that was refused before counting (unknown edition...). */
void volact_records_log_refusal (VolactRecords *records, const VolactVisit *visit, guint32 result,
                                 guint64 *ticket);

/** Called in the main context once everything up to a ticket is durable. */
typedef void (*VolactCommittedFunc) (guint64 committed_ticket, gpointer user_data);
void volact_records_on_commit (VolactRecords *records, VolactCommittedFunc func,
                               gpointer user_data);

/** Current count of POOL (after purging expired records). */
guint volact_records_pool_count (VolactRecords *records, const char *pool, guint retention_days);

/**
 * TRUE if CMID has a record in POOL (counted or not, not yet purged): a
 * visit of it would not be a new machine ID. For the per-source limit on
 * new machine IDs (docs/limits.md). Thread-safe.
 */
gboolean volact_records_known (VolactRecords *records, const char *pool, const guint8 *cmid);

/**
 * Stores a host event (start, reload, activation, hardware change, error)
 * with its id in the events table. It writes nothing to the journal: the
 * caller logs the event, once. RECORDS NULL (not open yet): does nothing.
 */
void volact_records_host_event (VolactRecords *records, guint event_id, const char *message);

/**
 * Rows for `volactctl clients` (aa{sv}): cmid, name, pool, edition,
 * last_seen, vm, duplicate..., most recently seen first, at most LIMIT of
 * them (0: no limit). Returns a floating GVariant, or NULL with ERROR
 * (VOLACT_E_IO, naming clients.db and what SQLite said) when the database
 * cannot be read: never an empty list for a failure. *TOTAL (may be NULL)
 * receives how many rows match: more than returned when LIMIT cut the
 * answer short.
 */
GVariant *volact_records_clients (VolactRecords *records, gboolean duplicates_only, guint limit,
                                  guint64 *total, GError **error);
/** Events since SINCE (unix seconds) for `volactctl events`, oldest first (aa{sv});
 * LIMIT, TOTAL and errors as for volact_records_clients. */
GVariant *volact_records_events (VolactRecords *records, gint64 since, guint limit,
                                 guint64 *total, GError **error);

/** The names of the reports volact_records_report knows, NULL-terminated. */
const char *const *volact_records_report_names (void);
/**
 * One of the six reports of docs/reports.md over the requests from SINCE to
 * UNTIL (unix seconds, UNTIL excluded; 0: now, this second included), which
 * is also the reports' "today". Returns a floating a{sv}: report, since, until, columns (as) and
 * rows (aav, each cell an int64 or a string; "" for no value), at most
 * 100,000 rows; or NULL with ERROR for an unknown NAME (listing the six) or
 * a database that cannot be read.
 */
GVariant *volact_records_report (VolactRecords *records, const char *name, gint64 since,
                                 gint64 until, GError **error);

/*
 * Additions to the API above (see docs/events.md for the whole contract).
 *
 * Time: VolactVisit.time 0 means "now". A record seen at T is counted while
 * now - T < retention_days * 86400 and is deleted (index and clients.db) at
 * T + retention exactly; retention_days 0 means 30. The index keeps "last
 * seen" per (pool, CMID); it never moves backwards.
 *
 * counts=FALSE: the visit is recorded (client row, event) but not counted.
 * COUNTED follows the latest visit: a counted CMID that comes back as an
 * ignored VM stops counting (the count drops by one); an uncounted one that
 * comes back counted is added like a new CMID.
 *
 * Duplicates: a CMID whose machine name changes from one non-empty name to
 * another (names compare ASCII case-insensitively; "" means unknown and
 * changes nothing) is flagged duplicate in clients.db for as long as its
 * record lives; name holds the latest name, other_name the previous one.
 * A g_warning and host event 1009 are written each time a third name, or
 * the first other name, appears (not on every alternation of two clones).
 *
 * Durability: volact_records_count and volact_records_log_refusal queue the
 * row and return at once; one writer thread takes everything queued and
 * makes it durable as one group in the journal (clients.journal: one write
 * and one fdatasync), reporting the highest committed ticket after each;
 * the rows are copied into clients.db (WAL, synchronous=FULL) in
 * transactions of up to 4096 rows at least once a second, and a journal
 * that clients.db has not taken yet is applied at open, before anything is
 * counted. Tickets grow by one per queued row (pool/edition/purge rows take
 * tickets too), so "ticket <= committed" means durable. If a write fails
 * (disk full...), the writer logs it and retries the same rows with
 * back-off; nothing is acknowledged meanwhile.
 *
 * Queries (volact_records_clients, _events, _report) first wait until
 * clients.db holds everything committed before the call.
 *
 * Back-pressure: when VOLACT_RECORDS_QUEUE_MAX rows are not yet committed,
 * volact_records_count does not block and changes nothing: *RESULT is
 * VOLACT_RECORDS_HOST_BUSY, *TICKET 0, and the return value is the pool's
 * current count; the server sends HOST_BUSY as an error response.
 * volact_records_log_refusal then queues nothing (*TICKET 0: answer at once).
 * Host events are queued even over the bound (they are rare).
 *
 * on_commit: FUNC runs in the thread-default GMainContext of the thread that
 * called volact_records_on_commit (the main context in volactd), from a
 * source watching an eventfd the writer writes once per report: one call may
 * cover many commits, and tickets passed only ever grow. volact_records_close must run in that context's thread;
 * rows committed during close are not reported.
 */

/** The server's "retry later" code (docs/protocol.md, HOST_BUSY). */
#define VOLACT_RECORDS_HOST_BUSY 0xC0AC0506u
/** Uncommitted rows at which volact_records_count says HOST_BUSY (about 17 MB of rows). */
#define VOLACT_RECORDS_QUEUE_MAX 100000
/** Rows durable in the journal that clients.db has not taken, kept in memory while it
 * refuses them (disk full, locked...); beyond it the writer takes no more rows, so the queue
 * fills and clients are told HOST_BUSY. */
#define VOLACT_RECORDS_UNAPPLIED_MAX 65536
/** event_cap_bytes 0 means this. */
#define VOLACT_RECORDS_DEFAULT_EVENT_CAP (64u * 1024u * 1024u)
#define VOLACT_RECORDS_DEFAULT_RETENTION_DAYS 30

/** Event ids (docs/events.md). */
typedef enum {
  VOLACT_EVENT_HOST_START = 1000,
  VOLACT_EVENT_HOST_ACTIVATED = 1001,
  VOLACT_EVENT_HOST_IDENTITY = 1002,
  VOLACT_EVENT_KEY_INSTALLED = 1003,
  VOLACT_EVENT_KEY_REMOVED = 1004,
  VOLACT_EVENT_HARDWARE_CHANGE = 1005,
  VOLACT_EVENT_ACTIVATION_WITHDRAWN = 1006,
  VOLACT_EVENT_RELOAD = 1007,
  VOLACT_EVENT_ERROR = 1008,
  VOLACT_EVENT_DUPLICATE_CMID = 1009,
  VOLACT_EVENT_REMOTE_COMMAND = 1010, /* a command run through the web listener (docs/web.md) */
  VOLACT_EVENT_SIGN_IN_FAILED = 1011, /* a failed sign-in on the web listener */
  VOLACT_EVENT_SOURCE_LIMITED = 1020,  /* a client source hit its rate or connection limit */
  VOLACT_EVENT_NEW_CMID_LIMIT = 1021, /* a client source hit its new machine ID quota */
  VOLACT_EVENT_CLOCK_CHANGED = 1030, /* the wall clock jumped (docs/events.md, "Clock changes") */
  VOLACT_EVENT_STORE_DEGRADED = 1040, /* the shared store cannot take records (docs/store.md) */
  VOLACT_EVENT_STORE_CAUGHT_UP = 1041, /* it takes them again, and has every one */
  VOLACT_EVENT_CLIENT_REQUEST = 12290, /* the KMS operations guide's activation event */
  VOLACT_EVENT_DNS_PUBLISH_FAILED = 12293, /* the guide's DNS publishing failure (core/dns/) */
} VolactEventId;

/**
 * Waits up to TIMEOUT_MS for everything queued before the call to commit and
 * to be in clients.db. Returns TRUE if it was. For tests, tools and shutdown;
 * never in a handler.
 */
gboolean volact_records_flush (VolactRecords *records, guint timeout_ms);

/**
 * Counts with the other hosts of a shared store (docs/store.md): URI is a
 * `postgresql://` URI (checked: VOLACT_E_CONFIG naming the key at fault),
 * HOST_NAME this host's name in it (unique among the hosts of the pool). From
 * now on each group of records is written to the database before it is
 * acknowledged, and the records other hosts write are merged into the count
 * about once a second. A database that cannot be reached is not an error: the
 * host starts degraded (event 1040), acknowledges from its journal alone and
 * writes the waiting records once it can (event 1041). TIMEOUT_S (0: 10) is
 * the store's statement_timeout; a database that does not answer within it
 * plus 2 s is given up as unreachable, and once it was, the writer connects
 * again only after the reading thread has seen the database answer, so that
 * answers never wait on connection attempts to a database that is not there.
 * Call once, after volact_records_open and before counting.
 */
gboolean volact_records_share (VolactRecords *records, const char *uri, const char *host_name,
                               guint timeout_s, GError **error);

/** volact_records_pool_count with an explicit "now" (unix seconds). */
guint volact_records_pool_count_at (VolactRecords *records, const char *pool, guint retention_days,
                                    gint64 now);

/** A wall clock step larger than this (seconds, either way) is a clock jump. */
#define VOLACT_RECORDS_CLOCK_JUMP_SECONDS 300
/** After a forward jump, the wall clock is trusted for expiry once it has run this long without
 * another jump. */
#define VOLACT_RECORDS_CLOCK_SETTLE_SECONDS 3600

/** What volact_records_clock_check saw. */
typedef struct {
  gint64 jump;      /* seconds the wall clock stepped beyond the monotonic clock (<0: back), or 0 */
  gint64 held;      /* seconds of that forward step that expiry does not follow yet */
  gint64 accepted;  /* a held step that has settled and is trusted from now on, or 0 */
  guint clamped;    /* records set from later than now to now */
} VolactClockChange;

/**
 * The clock watch (docs/events.md, "Clock changes"): compares how far the
 * wall clock (REAL_US, g_get_real_time) moved since the last call with how
 * far the monotonic clock (MONO_US, g_get_monotonic_time) did. The host
 * calls it every second; the first call only takes a sample. A step of more
 * than VOLACT_RECORDS_CLOCK_JUMP_SECONDS is a jump: back, every record seen
 * later than now is set to now; forward, expiry keeps following the
 * monotonic clock until the wall clock has run VOLACT_RECORDS_CLOCK_SETTLE_SECONDS
 * without another jump. Each jump, and each settled forward step, writes
 * event 1030 (and a warning to the journal). Returns TRUE if it did, with
 * CHANGE (may be NULL) saying what happened.
 */
gboolean volact_records_clock_check (VolactRecords *records, gint64 real_us, gint64 mono_us,
                                     VolactClockChange *change);

/** Upper bounds (seconds) of the commit latency histogram's buckets, ascending. */
#define VOLACT_RECORDS_COMMIT_BUCKETS 14
extern const double volact_records_commit_bounds[VOLACT_RECORDS_COMMIT_BUCKETS];
/** License states counted in VolactRecordsStats.machines (VolactLicenseState 0..5). */
#define VOLACT_RECORDS_N_STATES 6

typedef struct {
  guint64 last_ticket;      /* last ticket handed out */
  guint64 committed_ticket; /* everything up to it is durable */
  guint queued;             /* rows not yet committed (queued or being written) */
  gsize records;            /* (pool, CMID) records in the index */
  gsize index_bytes;        /* memory of the index (entries and table) */
  guint64 events;           /* rows in the events table (writer's view) */
  double bytes_per_event;   /* on-disk estimate used for the size cap */
  guint64 event_cap_bytes;
  gboolean writer_failing; /* the last commit failed; retrying */
  guint64 busy_refusals;   /* visits refused with HOST_BUSY: the queue was full */
  /* The writer's transactions: committed, failed attempts, and the time from BEGIN to the end
   * of COMMIT of each committed one, as a histogram (per bucket, not cumulative; the rest are
   * over the last bound). */
  guint64 commits;
  guint64 commit_failures;
  double commit_seconds;
  guint64 commit_buckets[VOLACT_RECORDS_COMMIT_BUCKETS];
  /* Records (pool, CMID) in the index by the license state of their latest visit, what the
   * licensing-status-summary report counts; kept as visits come and records expire. */
  guint64 machines[VOLACT_RECORDS_N_STATES];
  guint64 clock_jumps; /* wall clock jumps the clock watch saw (volact_records_clock_check) */
  gboolean shared;         /* counting with the other hosts of a shared store */
  gboolean store_degraded; /* the shared store cannot take records: events 1040/1041 */
  guint64 store_pulled;    /* records of other hosts merged into the count */
} VolactRecordsStats;

/** A snapshot of the counters above (for `volactctl health`, bench, tests). */
void volact_records_get_stats (VolactRecords *records, VolactRecordsStats *stats);

/** Writes CMID as lower-case UUID text (8-4-4-4-12) into OUT. */
void volact_records_format_cmid (const guint8 *cmid, char out[37]);
/** Parses UUID text (with or without dashes or braces) into 16 bytes. */
gboolean volact_records_parse_cmid (const char *text, guint8 out[16]);

G_END_DECLS

#endif
