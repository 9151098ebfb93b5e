/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Client records and events (volact-records.h).
 *
 * Callers (any thread) work on the in-memory index under one mutex and
 * append a compact row to a FIFO; one writer thread owns the read-write
 * SQLite connection and commits whatever is queued as one transaction, then
 * reports the highest committed ticket to the main context. Queries use a
 * second, read-only connection (WAL lets it read while the writer writes).
 */
#include "config.h"

#include "volact-records.h"
#include "volact-records-index.h"

#include "volact-error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#define SCHEMA_VERSION 1
#define DB_NAME "clients.db"
#define BUSY_TIMEOUT_MS 5000
#define SECONDS_PER_DAY 86400
/* Rows per transaction: big enough to amortise the fsync, small enough that
 * a commit never holds the database for long. */
#define BATCH_MAX 4096
/* Expired CMIDs per purge row (16 bytes each). */
#define PURGE_ROW_CMIDS 256
/* Idle pools are purged (and their rows deleted on disk) this often. */
#define IDLE_PURGE_SECONDS 60
/* Distinct editions kept in the editions table; more (a client inventing
 * edition ids) are stored as text in the event instead. */
#define MAX_EDITIONS 4096
#define NAME_MAX_BYTES 255
#define EDITION_MAX_BYTES 64
#define MESSAGE_MAX_BYTES 1024
/* On-disk bytes per event (row + time index) until one is measured: the
 * bench measures 99 with 24-character FQDNs and IPv4 addresses; the margin
 * covers longer names and IPv6. */
#define DEFAULT_BYTES_PER_EVENT 110.0
/* When over the cap, delete down to this share of it so deletes come in
 * batches rather than with every commit. */
#define CAP_LOW_WATER 0.9
/* Writer retry back-off after a failed commit. */
#define RETRY_MIN_MS 50
#define RETRY_MAX_MS 2000
#define CLOSE_RETRIES 3
/* Give freed row memory back to the system after a backlog this large. */
#define TRIM_AFTER_ROWS 16384

/* clients.flags */
enum { CLIENT_COUNTED = 1, CLIENT_VM = 2, CLIENT_DUPLICATE = 4 };
/* events.flags */
enum { EVENT_VM = 1, EVENT_COUNTED = 2 };

typedef enum {
  ROW_VISIT,      /* client upsert + event 12290 */
  ROW_REFUSAL,    /* event 12290 only */
  ROW_HOST_EVENT, /* event 1000..1009 */
  ROW_PURGE,      /* delete expired clients */
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
  guint32 seen;  /* client's last_seen as stored; ROW_PURGE: the cutoff */
  guint32 event; /* event id */
  guint32 minutes_left;
  guint32 minimum;
  guint32 count;
  guint32 result;
  guint32 n_cmids; /* ROW_PURGE */
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
  guint64 committed_ticket;
  gboolean stopping;
  gboolean writer_waiting;
  gboolean writer_failing;
  guint flush_waiters;
  guint64 events;         /* writer's count, copied here after each commit */
  double bytes_per_event; /* idem */
  gint64 last_idle_purge; /* monotonic µs */
  VolactCommittedFunc commit_func;
  gpointer commit_data;
  GMainContext *commit_context;
  GSource *commit_source; /* pending report, or NULL */
  guint64 reported_ticket;

  /* Writer thread only (and open/close around it). */
  GThread *writer;
  sqlite3 *db;
  sqlite3_stmt *st_begin, *st_commit, *st_rollback;
  sqlite3_stmt *st_pool, *st_edition, *st_client, *st_event, *st_purge, *st_names;
  sqlite3_stmt *st_cap_delete;
  guint64 w_events;
  double w_bytes_per_event;
  guint64 event_cap;

  /* Queries, under READ_LOCK. */
  GMutex read_lock;
  sqlite3 *rdb;
  sqlite3_stmt *st_q_clients, *st_q_events;
};

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)
G_STATIC_ASSERT (VOLACT_RECORDS_HOST_BUSY == (guint32) VOLACT_E_HOST_BUSY);

/* ---------------------------------------------------------------- schema */

static const char schema_sql[]
    = "CREATE TABLE pools ("
      "  id INTEGER PRIMARY KEY,"
      "  name TEXT NOT NULL UNIQUE,"
      "  retention_days INTEGER NOT NULL);"
      "CREATE TABLE editions ("
      "  id INTEGER PRIMARY KEY,"
      "  name TEXT NOT NULL UNIQUE);"
      /* One row per (pool, CMID) within retention. edition is an editions.id,
       * or text for an edition beyond the table's cap. */
      "CREATE TABLE clients ("
      "  pool INTEGER NOT NULL,"
      "  cmid BLOB NOT NULL,"
      "  name TEXT NOT NULL,"
      "  other_name TEXT,"
      "  edition,"
      "  last_seen INTEGER NOT NULL,"
      "  flags INTEGER NOT NULL," /* 1 counted, 2 vm, 4 duplicate */
      "  state INTEGER NOT NULL,"
      "  minutes_left INTEGER NOT NULL,"
      "  PRIMARY KEY (pool, cmid)) WITHOUT ROWID;"
      /* Event 12290 per request and the host events. address is a 4 or 16
       * byte blob (text if not an IP address); edition as in clients. */
      "CREATE TABLE events ("
      "  id INTEGER PRIMARY KEY,"
      "  time INTEGER NOT NULL,"
      "  event INTEGER NOT NULL,"
      "  pool INTEGER,"
      "  address,"
      "  cmid BLOB,"
      "  name TEXT,"
      "  edition,"
      "  state INTEGER,"
      "  minutes_left INTEGER,"
      "  flags INTEGER," /* 1 vm, 2 counted */
      "  minimum INTEGER,"
      "  count INTEGER,"
      "  result INTEGER,"
      "  message TEXT);"
      "CREATE INDEX events_time ON events (time);";

/* ---------------------------------------------------------------- helpers */

static gint64
real_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static guint32
clamp_time (gint64 t)
{
  return (guint32) CLAMP (t, 0, (gint64) G_MAXUINT32);
}

static guint
retention_or_default (guint days)
{
  return days ? days : VOLACT_RECORDS_DEFAULT_RETENTION_DAYS;
}

/* "Past retention" is last_seen <= cutoff. */
static gboolean
cutoff_for (gint64 now, guint retention_days, guint32 *cutoff)
{
  gint64 c = now - (gint64) retention_or_default (retention_days) * SECONDS_PER_DAY;
  if (c < 0)
    return FALSE;
  *cutoff = clamp_time (c);
  return TRUE;
}

static gboolean
db_fail (sqlite3 *db, const char *path, const char *what, GError **error)
{
  g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: %s: %s", path, what,
               db ? sqlite3_errmsg (db) : "out of memory");
  return FALSE;
}

static gboolean
exec_sql (sqlite3 *db, const char *path, const char *sql, GError **error)
{
  char *msg = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: %s", path, msg ? msg : sqlite3_errmsg (db));
    sqlite3_free (msg);
    return FALSE;
  }
  return TRUE;
}

static sqlite3_stmt *
prepare (sqlite3 *db, const char *path, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v3 (db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK) {
    db_fail (db, path, "cannot prepare a statement", error);
    sqlite3_finalize (stmt);
    return NULL;
  }
  return stmt;
}

/* Runs a statement to completion and resets it. */
static gboolean
step_done (sqlite3_stmt *stmt)
{
  int rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  return rc == SQLITE_DONE;
}

/* Creates PATH 0600 unless it exists; tightens an existing file to 0600.
 * SQLite gives the -wal and -shm files the database file's mode. */
static gboolean
create_private_file (const char *path, GError **error)
{
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  struct stat st;
  int saved;

  if (fd < 0) {
    saved = errno;
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: cannot create: %s", path,
                 g_strerror (saved));
    return FALSE;
  }
  if (fstat (fd, &st) != 0 || ((st.st_mode & 07777) != 0600 && fchmod (fd, 0600) != 0)) {
    saved = errno;
    close (fd);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: cannot make it private: %s", path,
                 g_strerror (saved));
    return FALSE;
  }
  close (fd);
  return TRUE;
}

void
volact_records_format_cmid (const guint8 *cmid, char out[37])
{
  static const char hex[] = "0123456789abcdef";
  char *o = out;

  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      *o++ = '-';
    *o++ = hex[cmid[i] >> 4];
    *o++ = hex[cmid[i] & 15];
  }
  *o = '\0';
}

gboolean
volact_records_parse_cmid (const char *text, guint8 out[16])
{
  guint8 bytes[16];
  int n = 0;
  const char *p = text;

  if (text == NULL)
    return FALSE;
  if (*p == '{')
    p++;
  for (; *p && *p != '}'; p++) {
    if (*p == '-')
      continue;
    if (!g_ascii_isxdigit (p[0]) || !g_ascii_isxdigit (p[1]) || n == 16)
      return FALSE;
    bytes[n++] = (guint8) (g_ascii_xdigit_value (p[0]) << 4 | g_ascii_xdigit_value (p[1]));
    p++;
  }
  if (n != 16 || (*p == '}') != (*text == '{') || (*p == '}' && p[1] != '\0'))
    return FALSE;
  memcpy (out, bytes, 16);
  return TRUE;
}

/* TEXT as valid UTF-8 of at most MAX bytes (cut at a character boundary):
 * TEXT itself when it already is, else a copy left in *OWNED. */
static const char *
clean_text (const char *text, gsize max, char **owned)
{
  const char *end;
  gsize len;

  *owned = NULL;
  if (text == NULL)
    return "";
  len = strlen (text);
  if (len <= max && g_utf8_validate_len (text, len, NULL))
    return text;
  if (!g_utf8_validate_len (text, len, NULL)) {
    *owned = g_utf8_make_valid (text, (gssize) len);
    text = *owned;
    len = strlen (text);
  }
  if (len <= max)
    return text;
  end = text + max;
  while (end > text && (*end & 0xC0) == 0x80)
    end--;
  text = g_strndup (text, (gsize) (end - text));
  g_free (*owned);
  *owned = (char *) text;
  return text;
}

/* Stores ADDRESS as 4 or 16 bytes (IPv4-mapped IPv6 as IPv4; a "[v6]:port" or
 * "v4:port" form loses its port); anything else stays text. */
static void
parse_address (const char *address, guint8 out[16], guint8 *len)
{
  char buf[INET6_ADDRSTRLEN + 8];
  const char *a = address;
  char *p;

  *len = 0;
  if (address == NULL || *address == '\0' || strlen (address) >= sizeof buf)
    return;
  g_strlcpy (buf, address, sizeof buf);
  if (buf[0] == '[' && (p = strchr (buf, ']')) != NULL) {
    *p = '\0';
    a = buf + 1;
  } else if ((p = strchr (buf, ':')) != NULL && strchr (p + 1, ':') == NULL) {
    *p = '\0';
    a = buf;
  } else {
    a = buf;
  }
  if (inet_pton (AF_INET, a, out) == 1) {
    *len = 4;
  } else if (inet_pton (AF_INET6, a, out) == 1) {
    static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp (out, mapped, 12) == 0) {
      memmove (out, out + 12, 4);
      *len = 4;
    } else {
      *len = 16;
    }
  }
}

static char *
format_address (const guint8 *bytes, int len)
{
  char buf[INET6_ADDRSTRLEN];

  if ((len != 4 && len != 16)
      || inet_ntop (len == 4 ? AF_INET : AF_INET6, bytes, buf, sizeof buf) == NULL)
    return NULL;
  return g_strdup (buf);
}

/* ---------------------------------------------------------------- rows */

/* A row with room for the strings given (copied) and EXTRA more bytes. */
static Row *
row_new (RowKind kind, const char *name, const char *edition, const char *address_text,
         const char *message, gsize extra)
{
  gsize ln = name ? strlen (name) + 1 : 0;
  gsize le = edition ? strlen (edition) + 1 : 0;
  gsize la = address_text ? strlen (address_text) + 1 : 0;
  gsize lm = message ? strlen (message) + 1 : 0;
  Row *row = g_malloc0 (sizeof (Row) + extra + ln + le + la + lm);
  char *p = (char *) row->data + extra;

  row->kind = (guint8) kind;
#define COPY_FIELD(field, src, len)                                                                \
  if (src) {                                                                                       \
    memcpy (p, src, len);                                                                          \
    row->field = p;                                                                                \
    p += len;                                                                                      \
  }
  COPY_FIELD (name, name, ln);
  COPY_FIELD (edition_text, edition, le);
  COPY_FIELD (address_text, address_text, la);
  COPY_FIELD (message, message, lm);
#undef COPY_FIELD
  return row;
}

/* The event part of a visit or refusal, built before taking the lock. */
static Row *
row_new_visit (RowKind kind, const VolactVisit *visit)
{
  g_autofree char *name_copy = NULL;
  g_autofree char *edition_copy = NULL;
  g_autofree char *address_copy = NULL;
  const char *name = clean_text (visit->name, NAME_MAX_BYTES, &name_copy);
  const char *edition = clean_text (visit->edition, EDITION_MAX_BYTES, &edition_copy);
  const char *address_text = NULL;
  guint8 address[16];
  guint8 address_len;
  Row *row;

  parse_address (visit->address, address, &address_len);
  if (address_len == 0 && visit->address != NULL && *visit->address != '\0')
    address_text = clean_text (visit->address, 64, &address_copy);
  row = row_new (kind, name, edition, address_text, NULL, 0);
  row->time = visit->time ? visit->time : real_now ();
  row->event = VOLACT_EVENT_CLIENT_REQUEST;
  memcpy (row->cmid, visit->cmid, 16);
  memcpy (row->address, address, sizeof address);
  row->address_len = address_len;
  row->flags = visit->virtual_machine ? ROW_F_VM : 0;
  row->state = visit->state;
  row->minutes_left = visit->minutes_left;
  row->minimum = visit->minimum_count;
  return row;
}

/* Appends ROW to the queue and gives it the next ticket. */
static guint64
enqueue_locked (VolactRecords *records, Row *row)
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
   * more than the whole count. */
  if (records->writer_waiting) {
    records->writer_waiting = FALSE;
    g_cond_signal (&records->wake);
  }
  return row->ticket;
}

/* ---------------------------------------------------------------- pools and editions */

static guint
pool_lookup_locked (VolactRecords *records, const char *name)
{
  return name ? GPOINTER_TO_UINT (g_hash_table_lookup (records->pool_ids, name)) : 0;
}

static void
pool_set (VolactRecords *records, guint id, const char *name, guint retention_days)
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
  Row *row = row_new (ROW_POOL, info->name, NULL, NULL, NULL, 0);

  row->pool = (guint16) id;
  row->time = info->retention_days;
  enqueue_locked (records, row);
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
    pool_set (records, id, name, retention_days);
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

static void
edition_set (VolactRecords *records, guint id, const char *name)
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
  edition_set (records, id, name);
  row = row_new (ROW_EDITION, name, NULL, NULL, NULL, 0);
  row->edition = (guint16) id;
  enqueue_locked (records, row);
  return id;
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
    enqueue_locked (ctx->records, ctx->row);
    ctx->row = NULL;
  }
}

static void
purge_one (const VolactIndexEntry *entry, gpointer user_data)
{
  PurgeContext *ctx = user_data;

  if (ctx->row == NULL) {
    ctx->row = row_new (ROW_PURGE, NULL, NULL, NULL, NULL, PURGE_ROW_CMIDS * 16);
    ctx->row->pool = (guint16) ctx->pool;
    ctx->row->seen = ctx->cutoff;
  }
  memcpy (ctx->row->data + ctx->row->n_cmids * 16, entry->cmid, 16);
  if (++ctx->row->n_cmids == PURGE_ROW_CMIDS)
    purge_flush (ctx);
}

/* Drops the records of POOL past retention at NOW from the index and queues
 * their deletion from clients.db. O(expired): the pool list is time-sorted. */
static void
purge_pool_locked (VolactRecords *records, guint pool, guint retention_days, gint64 now)
{
  PurgeContext ctx = { records, pool, 0, NULL };

  if (pool == 0 || !cutoff_for (now, retention_days, &ctx.cutoff))
    return;
  volact_index_expire (records->index, pool, ctx.cutoff, purge_one, &ctx);
  purge_flush (&ctx);
}

static void
purge_all_locked (VolactRecords *records, gint64 now)
{
  for (guint id = 1; id < records->pools->len; id++) {
    PoolInfo *info = g_ptr_array_index (records->pools, id);
    if (info != NULL)
      purge_pool_locked (records, id, info->retention_days, now);
  }
}

/* ---------------------------------------------------------------- counting */

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

  row = row_new_visit (ROW_VISIT, visit);
  name_hash = volact_index_name_hash (row->name);
  seen = clamp_time (row->time);

  g_mutex_lock (&records->lock);
  if (records->pending >= VOLACT_RECORDS_QUEUE_MAX || records->stopping) {
    pool = pool_lookup_locked (records, visit->pool);
    count = volact_index_pool_count (records->index, pool);
    g_mutex_unlock (&records->lock);
    g_free (row);
    if (result)
      *result = VOLACT_RECORDS_HOST_BUSY;
    if (ticket)
      *ticket = 0;
    return count;
  }
  pool = pool_get_locked (records, visit->pool, visit->retention_days);
  if (pool == 0) {
    g_mutex_unlock (&records->lock);
    g_free (row);
    g_warning ("volact records: too many count pools; %s not counted", visit->pool);
    if (result)
      *result = VOLACT_RECORDS_HOST_BUSY;
    if (ticket)
      *ticket = 0;
    return 0;
  }
  edition = edition_get_locked (records, row->edition_text);
  purge_pool_locked (records, pool, visit->retention_days, row->time);

  e = volact_index_lookup (records->index, pool, visit->cmid);
  if (e == NULL) {
    e = volact_index_insert (records->index, pool, visit->cmid, &seen,
                             visit->counts ? VOLACT_INDEX_COUNTED : 0);
    e->name_hash = name_hash;
  } else {
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
  if (visit->virtual_machine)
    e->flags |= VOLACT_INDEX_VM;
  else
    e->flags &= ~VOLACT_INDEX_VM;

  count = volact_index_pool_count (records->index, pool);
  res = count >= visit->minimum_count ? 0 : (guint32) VOLACT_E_COUNT_INSUFFICIENT;
  row->pool = (guint16) pool;
  row->edition = (guint16) edition;
  row->seen = seen;
  row->count = count;
  row->result = res;
  if (visit->counts)
    row->flags |= ROW_F_COUNTED;
  t = enqueue_locked (records, row);
  g_mutex_unlock (&records->lock);

  if (result)
    *result = res;
  if (ticket)
    *ticket = t;
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

  row = row_new_visit (ROW_REFUSAL, visit);
  row->result = result;
  g_mutex_lock (&records->lock);
  if (records->pending >= VOLACT_RECORDS_QUEUE_MAX || records->stopping) {
    g_mutex_unlock (&records->lock);
    g_free (row);
    if (ticket)
      *ticket = 0;
    return;
  }
  /* A refusal never creates a pool: it may name one the catalog lacks. */
  pool = pool_lookup_locked (records, visit->pool);
  if (pool != 0) {
    purge_pool_locked (records, pool, visit->retention_days, row->time);
    row->count = volact_index_pool_count (records->index, pool);
  }
  row->pool = (guint16) pool;
  row->edition = (guint16) edition_get_locked (records, row->edition_text);
  t = enqueue_locked (records, row);
  g_mutex_unlock (&records->lock);
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
  purge_pool_locked (records, id, retention_days, now);
  count = volact_index_pool_count (records->index, id);
  g_mutex_unlock (&records->lock);
  return count;
}

guint
volact_records_pool_count (VolactRecords *records, const char *pool, guint retention_days)
{
  return volact_records_pool_count_at (records, pool, retention_days, real_now ());
}

void
volact_records_host_event (VolactRecords *records, guint event_id, const char *message)
{
  g_autofree char *copy = NULL;
  const char *text = clean_text (message, MESSAGE_MAX_BYTES, &copy);
  GLogLevelFlags level = G_LOG_LEVEL_MESSAGE;
  Row *row;

  switch (event_id) {
    case VOLACT_EVENT_HARDWARE_CHANGE:
    case VOLACT_EVENT_ACTIVATION_WITHDRAWN:
    case VOLACT_EVENT_ERROR:
    case VOLACT_EVENT_DUPLICATE_CMID:
      level = G_LOG_LEVEL_WARNING;
      break;
    default:
      break;
  }
  g_log (G_LOG_DOMAIN, level, "%s (event %u)", text, event_id);
  if (records == NULL)
    return;
  row = row_new (ROW_HOST_EVENT, NULL, NULL, NULL, text, 0);
  row->time = real_now ();
  row->event = event_id;
  g_mutex_lock (&records->lock);
  /* Host events are rare and matter: they are queued even over the bound. */
  if (!records->stopping)
    enqueue_locked (records, row);
  else
    g_clear_pointer (&row, g_free);
  g_mutex_unlock (&records->lock);
}

/* ---------------------------------------------------------------- commit reports */

static gboolean
dispatch_commit (gpointer user_data)
{
  VolactRecords *records = user_data;
  VolactCommittedFunc func;
  gpointer data;
  GSource *source;
  guint64 t;
  gboolean report;

  g_mutex_lock (&records->lock);
  source = records->commit_source;
  records->commit_source = NULL;
  t = records->committed_ticket;
  func = records->commit_func;
  data = records->commit_data;
  report = t > records->reported_ticket;
  if (report)
    records->reported_ticket = t;
  g_mutex_unlock (&records->lock);
  if (source != NULL)
    g_source_unref (source);
  if (report && func != NULL)
    func (t, data);
  return G_SOURCE_REMOVE;
}

static void
schedule_report_locked (VolactRecords *records)
{
  GSource *source;

  if (records->commit_func == NULL || records->commit_source != NULL
      || records->committed_ticket <= records->reported_ticket)
    return;
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, dispatch_commit, records, NULL);
  g_source_set_static_name (source, "volact-records-commit");
  records->commit_source = source; /* our reference, dropped by dispatch or close */
  g_source_attach (source, records->commit_context);
}

void
volact_records_on_commit (VolactRecords *records, VolactCommittedFunc func, gpointer user_data)
{
  GMainContext *context = g_main_context_ref_thread_default ();
  GSource *old;

  g_return_if_fail (records != NULL);
  g_mutex_lock (&records->lock);
  old = records->commit_source;
  records->commit_source = NULL;
  if (records->commit_context)
    g_main_context_unref (records->commit_context);
  records->commit_context = context;
  records->commit_func = func;
  records->commit_data = user_data;
  schedule_report_locked (records);
  g_mutex_unlock (&records->lock);
  if (old != NULL) {
    g_source_destroy (old);
    g_source_unref (old);
  }
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
  if (records->writer_waiting && records->head) {
    records->writer_waiting = FALSE;
    g_cond_signal (&records->wake);
  }
  while (records->committed_ticket < target)
    if (!g_cond_wait_until (&records->committed, &records->lock, deadline))
      break;
  done = records->committed_ticket >= target;
  records->flush_waiters--;
  g_mutex_unlock (&records->lock);
  return done;
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
  g_mutex_unlock (&records->lock);
}

/* ---------------------------------------------------------------- the writer */

static void
bind_edition (sqlite3_stmt *stmt, int col, const Row *row)
{
  if (row->edition != 0)
    sqlite3_bind_int (stmt, col, row->edition);
  else if (row->edition_text != NULL && *row->edition_text != '\0')
    sqlite3_bind_text (stmt, col, row->edition_text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, col);
}

static gboolean
insert_event (VolactRecords *records, const Row *row, guint32 event, const char *message)
{
  sqlite3_stmt *s = records->st_event;
  gboolean client = row->kind == ROW_VISIT || row->kind == ROW_REFUSAL;

  sqlite3_bind_int64 (s, 1, row->time);
  sqlite3_bind_int64 (s, 2, event);
  if (row->pool)
    sqlite3_bind_int (s, 3, row->pool);
  if (row->address_len)
    sqlite3_bind_blob (s, 4, row->address, row->address_len, SQLITE_STATIC);
  else if (row->address_text)
    sqlite3_bind_text (s, 4, row->address_text, -1, SQLITE_STATIC);
  if (client || event == VOLACT_EVENT_DUPLICATE_CMID) {
    sqlite3_bind_blob (s, 5, row->cmid, 16, SQLITE_STATIC);
    sqlite3_bind_text (s, 6, row->name ? row->name : "", -1, SQLITE_STATIC);
    bind_edition (s, 7, row);
  }
  if (client) {
    sqlite3_bind_int (s, 8, row->state);
    sqlite3_bind_int64 (s, 9, row->minutes_left);
    sqlite3_bind_int (s, 10,
                      ((row->flags & ROW_F_VM) ? EVENT_VM : 0)
                          | ((row->flags & ROW_F_COUNTED) ? EVENT_COUNTED : 0));
    sqlite3_bind_int64 (s, 11, row->minimum);
    sqlite3_bind_int64 (s, 12, row->count);
    sqlite3_bind_int64 (s, 13, row->result);
  }
  if (message != NULL)
    sqlite3_bind_text (s, 14, message, -1, SQLITE_STATIC);
  if (!step_done (s))
    return FALSE;
  records->w_events++;
  return TRUE;
}

/* A new name for a known CMID: the old one comes from the database, which
 * holds the previous visit (rows are written in order). */
static gboolean
log_duplicate (VolactRecords *records, const Row *row, GPtrArray *warnings)
{
  sqlite3_stmt *s = records->st_names;
  g_autofree char *old = NULL;
  g_autofree char *message = NULL;
  char uuid[37];
  int rc;

  sqlite3_bind_int (s, 1, row->pool);
  sqlite3_bind_blob (s, 2, row->cmid, 16, SQLITE_STATIC);
  rc = sqlite3_step (s);
  if (rc == SQLITE_ROW)
    old = g_strdup ((const char *) sqlite3_column_text (s, 0));
  sqlite3_reset (s);
  sqlite3_clear_bindings (s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return FALSE;
  if (old == NULL || *old == '\0' || g_ascii_strcasecmp (old, row->name) == 0)
    return TRUE; /* the record expired from disk meanwhile, or a hash collision */
  volact_records_format_cmid (row->cmid, uuid);
  message = g_strdup_printf ("machine ID %s is used by two machines: \"%s\" and \"%s\" (a cloned "
                             "image that was not generalised?)",
                             uuid, old, row->name);
  if (!insert_event (records, row, VOLACT_EVENT_DUPLICATE_CMID, message))
    return FALSE;
  g_ptr_array_add (warnings, g_steal_pointer (&message));
  return TRUE;
}

static gboolean
write_row (VolactRecords *records, const Row *row, GPtrArray *warnings)
{
  sqlite3_stmt *s;

  switch ((RowKind) row->kind) {
    case ROW_POOL:
      s = records->st_pool;
      sqlite3_bind_int (s, 1, row->pool);
      sqlite3_bind_text (s, 2, row->name, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (s, 3, row->time);
      return step_done (s);
    case ROW_EDITION:
      s = records->st_edition;
      sqlite3_bind_int (s, 1, row->edition);
      sqlite3_bind_text (s, 2, row->name, -1, SQLITE_STATIC);
      return step_done (s);
    case ROW_PURGE:
      s = records->st_purge;
      for (guint i = 0; i < row->n_cmids; i++) {
        sqlite3_bind_int (s, 1, row->pool);
        sqlite3_bind_blob (s, 2, row->data + i * 16, 16, SQLITE_STATIC);
        sqlite3_bind_int64 (s, 3, row->seen);
        if (!step_done (s))
          return FALSE;
      }
      return TRUE;
    case ROW_VISIT:
      if ((row->flags & ROW_F_NEW_NAME) && !log_duplicate (records, row, warnings))
        return FALSE;
      s = records->st_client;
      sqlite3_bind_int (s, 1, row->pool);
      sqlite3_bind_blob (s, 2, row->cmid, 16, SQLITE_STATIC);
      sqlite3_bind_text (s, 3, row->name, -1, SQLITE_STATIC);
      bind_edition (s, 4, row);
      sqlite3_bind_int64 (s, 5, row->seen);
      sqlite3_bind_int (s, 6,
                        ((row->flags & ROW_F_COUNTED) ? CLIENT_COUNTED : 0)
                            | ((row->flags & ROW_F_VM) ? CLIENT_VM : 0));
      sqlite3_bind_int (s, 7, row->state);
      sqlite3_bind_int64 (s, 8, row->minutes_left);
      if (!step_done (s))
        return FALSE;
      return insert_event (records, row, row->event, NULL);
    case ROW_REFUSAL:
      return insert_event (records, row, row->event, NULL);
    case ROW_HOST_EVENT:
      return insert_event (records, row, row->event, row->message);
  }
  return FALSE;
}

/* Deletes the oldest events when the table's estimated size passes the cap,
 * down to CAP_LOW_WATER of it. */
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
  if (!step_done (records->st_cap_delete))
    return FALSE;
  records->w_events -= MIN ((guint64) sqlite3_changes (records->db), records->w_events);
  return TRUE;
}

static gboolean
write_batch (VolactRecords *records, Row *batch, GPtrArray *warnings, GError **error)
{
  guint64 events_before = records->w_events;

  if (!step_done (records->st_begin))
    return db_fail (records->db, records->path, "cannot begin", error);
  for (Row *row = batch; row != NULL; row = row->next) {
    if (!write_row (records, row, warnings))
      goto fail;
  }
  if (!enforce_cap (records))
    goto fail;
  if (!step_done (records->st_commit))
    goto fail;
  return TRUE;

fail:
  db_fail (records->db, records->path, "cannot write", error);
  step_done (records->st_rollback); /* fails harmlessly if SQLite rolled back already */
  records->w_events = events_before;
  g_ptr_array_set_size (warnings, 0);
  return FALSE;
}

static void
free_rows (Row *row)
{
  while (row != NULL) {
    Row *next = row->next;
    g_free (row);
    row = next;
  }
}

static gpointer
writer_main (gpointer data)
{
  VolactRecords *records = data;
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  guint64 lost = 0;  /* rows given up on at shutdown */
  Row *chain = NULL; /* taken from the queue, not yet written */

  for (;;) {
    Row *batch, *last;
    guint n, attempts = 0, delay = RETRY_MIN_MS;
    gboolean ok = FALSE, trim = FALSE;
    guint64 committed;

    if (chain == NULL) {
      g_mutex_lock (&records->lock);
      for (;;) {
        gint64 mono = g_get_monotonic_time ();
        if (mono - records->last_idle_purge >= IDLE_PURGE_SECONDS * G_USEC_PER_SEC) {
          /* Pools nobody asks about still lose their old records on time. */
          records->last_idle_purge = mono;
          purge_all_locked (records, real_now ());
        }
        if (records->head != NULL || records->stopping)
          break;
        records->writer_waiting = TRUE;
        g_cond_wait_until (&records->wake, &records->lock,
                           records->last_idle_purge + IDLE_PURGE_SECONDS * G_USEC_PER_SEC);
        records->writer_waiting = FALSE;
      }
      if (records->head == NULL) { /* stopping, and everything is written */
        g_mutex_unlock (&records->lock);
        break;
      }
      /* Everything queued at once: O(1) under the lock, so counting never
       * waits for the writer. Rows stay "pending" until committed. */
      chain = records->head;
      records->head = records->tail = NULL;
      g_mutex_unlock (&records->lock);
    }

    /* One transaction of at most BATCH_MAX rows, in queue order. */
    batch = last = chain;
    for (n = 1; n < BATCH_MAX && last->next != NULL; n++)
      last = last->next;
    chain = last->next;
    last->next = NULL;

    while (lost == 0) {
      g_autoptr (GError) error = NULL;
      gboolean stopping;

      ok = write_batch (records, batch, warnings, &error);
      if (ok)
        break;
      attempts++;
      g_mutex_lock (&records->lock);
      records->writer_failing = TRUE;
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
    for (guint i = 0; i < warnings->len; i++)
      g_warning ("%s (event %u)", (const char *) g_ptr_array_index (warnings, i),
                 VOLACT_EVENT_DUPLICATE_CMID);
    g_ptr_array_set_size (warnings, 0);

    committed = last->ticket;
    free_rows (batch);

    g_mutex_lock (&records->lock);
    records->pending -= n;
    if (records->pending == 0 && records->pending_peak >= TRIM_AFTER_ROWS) {
      records->pending_peak = 0;
      trim = TRUE;
    }
    if (trim) {
      /* A drained backlog leaves its rows' memory in malloc's free lists;
       * give the pages back (before reporting, so RSS is settled when a
       * flush returns). Only after backlogs of TRIM_AFTER_ROWS rows. */
      g_mutex_unlock (&records->lock);
#ifdef __GLIBC__
      malloc_trim (0);
#endif
      g_mutex_lock (&records->lock);
    }
    if (ok) {
      records->committed_ticket = committed;
      records->writer_failing = FALSE;
      records->events = records->w_events;
      schedule_report_locked (records);
    }
    if (records->flush_waiters)
      g_cond_broadcast (&records->committed);
    g_mutex_unlock (&records->lock);
  }
  if (lost > 0)
    g_warning ("volact records: shutting down; %" G_GUINT64_FORMAT " rows were not written to %s",
               lost, records->path);
  return NULL;
}

/* ---------------------------------------------------------------- open */

static gboolean
prepare_writer (VolactRecords *records, GError **error)
{
  sqlite3 *db = records->db;
  const char *p = records->path;

  /* clang-format off */
  if (!(records->st_begin = prepare (db, p, "BEGIN IMMEDIATE", error))
      || !(records->st_commit = prepare (db, p, "COMMIT", error))
      || !(records->st_rollback = prepare (db, p, "ROLLBACK", error))
      || !(records->st_pool = prepare (db, p,
             "INSERT INTO pools (id, name, retention_days) VALUES (?1, ?2, ?3) "
             "ON CONFLICT (id) DO UPDATE SET retention_days = excluded.retention_days", error))
      || !(records->st_edition = prepare (db, p,
             "INSERT OR IGNORE INTO editions (id, name) VALUES (?1, ?2)", error))
      /* In DO UPDATE, bare column names are the stored row's values. A name
       * change between two non-empty names marks the record duplicate and
       * keeps the previous name in other_name; "" keeps the stored name. */
      || !(records->st_client = prepare (db, p,
             "INSERT INTO clients (pool, cmid, name, other_name, edition, last_seen, flags, "
             "  state, minutes_left) VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6, ?7, ?8) "
             "ON CONFLICT (pool, cmid) DO UPDATE SET "
             "  other_name = CASE WHEN excluded.name <> '' AND name <> '' "
             "    AND lower (excluded.name) <> lower (name) THEN name ELSE other_name END, "
             "  flags = (excluded.flags & 3) | (flags & 4) | CASE WHEN excluded.name <> '' "
             "    AND name <> '' AND lower (excluded.name) <> lower (name) THEN 4 ELSE 0 END, "
             "  name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE name END, "
             "  edition = excluded.edition, "
             "  last_seen = max (last_seen, excluded.last_seen), "
             "  state = excluded.state, minutes_left = excluded.minutes_left", error))
      || !(records->st_event = prepare (db, p,
             "INSERT INTO events (time, event, pool, address, cmid, name, edition, state, "
             "  minutes_left, flags, minimum, count, result, message) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)", error))
      || !(records->st_purge = prepare (db, p,
             "DELETE FROM clients WHERE pool = ?1 AND cmid = ?2 AND last_seen <= ?3", error))
      || !(records->st_names = prepare (db, p,
             "SELECT name, other_name FROM clients WHERE pool = ?1 AND cmid = ?2", error))
      || !(records->st_cap_delete = prepare (db, p,
             "DELETE FROM events WHERE id <= "
             "  (SELECT id FROM events ORDER BY id LIMIT 1 OFFSET ?1)", error)))
    return FALSE;
  /* clang-format on */
  return TRUE;
}

static gboolean
prepare_reader (VolactRecords *records, GError **error)
{
  sqlite3 *db = records->rdb;
  const char *p = records->path;

  /* clang-format off */
  if (!(records->st_q_clients = prepare (db, p,
          "SELECT c.cmid, c.name, c.other_name, pl.name, "
          "  CASE WHEN typeof (c.edition) = 'text' THEN c.edition ELSE ed.name END, "
          "  c.last_seen, c.flags, c.state, c.minutes_left "
          "FROM clients c LEFT JOIN pools pl ON pl.id = c.pool "
          "  LEFT JOIN editions ed ON ed.id = c.edition "
          "WHERE (?1 = 0 OR (c.flags & 4) <> 0) "
          "  AND c.last_seen > ?2 - 86400 * coalesce (pl.retention_days, 30) "
          "ORDER BY c.last_seen DESC LIMIT ?3", error))
      || !(records->st_q_events = prepare (db, p,
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

static gboolean
create_or_check_schema (VolactRecords *records, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int version;

  if (!(stmt = prepare (records->db, records->path, "PRAGMA user_version", error)))
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return db_fail (records->db, records->path, "cannot read the schema version", error);
  version = sqlite3_column_int (stmt, 0);
  sqlite3_reset (stmt); /* a statement in progress would block COMMIT */
  if (version == SCHEMA_VERSION)
    return TRUE;
  if (version > SCHEMA_VERSION) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO,
                 "%s: schema version %d was written by a newer volact (this one knows %d)",
                 records->path, version, SCHEMA_VERSION);
    return FALSE;
  }
  if (!exec_sql (records->db, records->path, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (!exec_sql (records->db, records->path, schema_sql, error)
      || !exec_sql (records->db, records->path, "PRAGMA user_version = 1", error)
      || !exec_sql (records->db, records->path, "COMMIT", error)) {
    sqlite3_exec (records->db, "ROLLBACK", NULL, NULL, NULL);
    return FALSE;
  }
  return TRUE;
}

static gboolean
load_names (VolactRecords *records, GError **error)
{
  g_autoptr (sqlite3_stmt) pools = NULL;
  g_autoptr (sqlite3_stmt) editions = NULL;
  int rc;

  if (!(pools = prepare (records->db, records->path,
                         "SELECT id, name, retention_days FROM pools ORDER BY id", error))
      || !(editions = prepare (records->db, records->path,
                               "SELECT id, name FROM editions ORDER BY id", error)))
    return FALSE;
  while ((rc = sqlite3_step (pools)) == SQLITE_ROW) {
    sqlite3_int64 id = sqlite3_column_int64 (pools, 0);
    const char *name = (const char *) sqlite3_column_text (pools, 1);
    if (id < 1 || id > VOLACT_INDEX_MAX_POOLS || name == NULL)
      continue;
    pool_set (records, (guint) id, name, (guint) sqlite3_column_int (pools, 2));
  }
  if (rc != SQLITE_DONE)
    return db_fail (records->db, records->path, "cannot read pools", error);
  while ((rc = sqlite3_step (editions)) == SQLITE_ROW) {
    sqlite3_int64 id = sqlite3_column_int64 (editions, 0);
    const char *name = (const char *) sqlite3_column_text (editions, 1);
    if (id < 1 || id > MAX_EDITIONS || name == NULL)
      continue;
    edition_set (records, (guint) id, name);
  }
  if (rc != SQLITE_DONE)
    return db_fail (records->db, records->path, "cannot read editions", error);
  return TRUE;
}

static gboolean
load_clients (VolactRecords *records, GError **error)
{
  g_autoptr (sqlite3_stmt) expire = NULL;
  g_autoptr (sqlite3_stmt) count = NULL;
  g_autoptr (sqlite3_stmt) rows = NULL;
  sqlite3_int64 n;
  int rc;

  /* Records past retention go before anything is loaded. */
  if (!(expire = prepare (records->db, records->path,
                          "DELETE FROM clients WHERE last_seen <= ?1 - 86400 * coalesce ("
                          "  (SELECT retention_days FROM pools WHERE pools.id = clients.pool), 30)",
                          error)))
    return FALSE;
  sqlite3_bind_int64 (expire, 1, real_now ());
  if (sqlite3_step (expire) != SQLITE_DONE)
    return db_fail (records->db, records->path, "cannot delete expired records", error);
  if (sqlite3_changes (records->db) > 0)
    g_message ("volact records: deleted %d records past retention", sqlite3_changes (records->db));

  if (!(count = prepare (records->db, records->path, "SELECT count(*) FROM clients", error)))
    return FALSE;
  if (sqlite3_step (count) != SQLITE_ROW)
    return db_fail (records->db, records->path, "cannot count records", error);
  n = sqlite3_column_int64 (count, 0);
  records->index = volact_index_new ((gsize) MAX (n, 0));

  if (!(rows
        = prepare (records->db, records->path,
                   "SELECT pool, cmid, name, other_name, last_seen, flags FROM clients", error)))
    return FALSE;
  while ((rc = sqlite3_step (rows)) == SQLITE_ROW) {
    sqlite3_int64 pool = sqlite3_column_int64 (rows, 0);
    const void *cmid = sqlite3_column_blob (rows, 1);
    int flags = sqlite3_column_int (rows, 5);

    if (pool < 1 || pool >= records->pools->len || g_ptr_array_index (records->pools, pool) == NULL
        || cmid == NULL || sqlite3_column_bytes (rows, 1) != 16)
      continue; /* not written by us */
    volact_index_load_add (records->index, (guint) pool, cmid,
                           clamp_time (sqlite3_column_int64 (rows, 4)),
                           volact_index_name_hash ((const char *) sqlite3_column_text (rows, 2)),
                           volact_index_name_hash ((const char *) sqlite3_column_text (rows, 3)),
                           (guint8) (((flags & CLIENT_COUNTED) ? VOLACT_INDEX_COUNTED : 0)
                                     | ((flags & CLIENT_VM) ? VOLACT_INDEX_VM : 0)));
  }
  if (rc != SQLITE_DONE)
    return db_fail (records->db, records->path, "cannot read records", error);
  volact_index_load_finish (records->index);
  return TRUE;
}

/* Counts events and measures their bytes on disk (dbstat, where SQLite has
 * it, and enough events to mean something). */
static gboolean
load_event_stats (VolactRecords *records, GError **error)
{
  g_autoptr (sqlite3_stmt) count = NULL;
  sqlite3_stmt *stat = NULL;

  records->w_bytes_per_event = DEFAULT_BYTES_PER_EVENT;
  if (!(count = prepare (records->db, records->path, "SELECT count(*) FROM events", error)))
    return FALSE;
  if (sqlite3_step (count) != SQLITE_ROW)
    return db_fail (records->db, records->path, "cannot count events", error);
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

static gboolean
open_db (VolactRecords *records, GError **error)
{
  g_autoptr (sqlite3_stmt) mode = NULL;
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;

  if (sqlite3_open_v2 (records->path, &records->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | flags, NULL)
      != SQLITE_OK)
    return db_fail (records->db, records->path, "cannot open", error);
  sqlite3_extended_result_codes (records->db, 1);
  sqlite3_busy_timeout (records->db, BUSY_TIMEOUT_MS);
  if (!(mode = prepare (records->db, records->path, "PRAGMA journal_mode = WAL", error)))
    return FALSE;
  if (sqlite3_step (mode) != SQLITE_ROW
      || g_ascii_strcasecmp ((const char *) sqlite3_column_text (mode, 0), "wal") != 0)
    return db_fail (records->db, records->path, "cannot use write-ahead logging", error);
  g_clear_pointer (&mode, sqlite3_finalize);
  /* FULL: the WAL is fsync'ed at every commit, so an acknowledged record
   * survives power loss, not only a crash of volactd. */
  if (!exec_sql (records->db, records->path,
                 "PRAGMA synchronous = FULL;"
                 "PRAGMA journal_size_limit = 16777216;"
                 "PRAGMA temp_store = MEMORY;",
                 error))
    return FALSE;
  if (!create_or_check_schema (records, error) || !load_names (records, error)
      || !load_clients (records, error) || !load_event_stats (records, error)
      || !prepare_writer (records, error))
    return FALSE;

  if (sqlite3_open_v2 (records->path, &records->rdb, SQLITE_OPEN_READONLY | flags, NULL)
      != SQLITE_OK)
    return db_fail (records->rdb, records->path, "cannot open for reading", error);
  sqlite3_busy_timeout (records->rdb, BUSY_TIMEOUT_MS);
  return prepare_reader (records, error);
}

static void
pool_info_free (gpointer p)
{
  PoolInfo *info = p;
  if (info != NULL) {
    g_free (info->name);
    g_free (info);
  }
}

static void
finalize_statements (VolactRecords *records)
{
  sqlite3_stmt **all[] = {
    &records->st_begin,   &records->st_commit,     &records->st_rollback,  &records->st_pool,
    &records->st_edition, &records->st_client,     &records->st_event,     &records->st_purge,
    &records->st_names,   &records->st_cap_delete, &records->st_q_clients, &records->st_q_events,
  };
  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    g_clear_pointer (all[i], sqlite3_finalize);
}

static void
records_free (VolactRecords *records)
{
  finalize_statements (records);
  if (records->rdb)
    sqlite3_close (records->rdb);
  if (records->db)
    sqlite3_close (records->db);
  free_rows (records->head);
  volact_index_free (records->index);
  g_ptr_array_unref (records->pools);
  g_hash_table_unref (records->pool_ids);
  g_ptr_array_unref (records->editions);
  g_hash_table_unref (records->edition_ids);
  if (records->commit_context)
    g_main_context_unref (records->commit_context);
  g_mutex_clear (&records->lock);
  g_mutex_clear (&records->read_lock);
  g_cond_clear (&records->wake);
  g_cond_clear (&records->committed);
  g_free (records->path);
  g_free (records);
}

VolactRecords *
volact_records_open (const char *state_dir, guint64 event_cap_bytes, GError **error)
{
  VolactRecords *records;

  g_return_val_if_fail (state_dir != NULL, NULL);
  if (g_mkdir_with_parents (state_dir, 0700) != 0) {
    int saved = errno;
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: cannot create: %s", state_dir,
                 g_strerror (saved));
    return NULL;
  }
  records = g_new0 (VolactRecords, 1);
  g_mutex_init (&records->lock);
  g_mutex_init (&records->read_lock);
  g_cond_init (&records->wake);
  g_cond_init (&records->committed);
  records->path = g_build_filename (state_dir, DB_NAME, NULL);
  records->pools = g_ptr_array_new_with_free_func (pool_info_free);
  g_ptr_array_add (records->pools, NULL);
  records->pool_ids = g_hash_table_new (g_str_hash, g_str_equal);
  records->editions = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (records->editions, NULL);
  records->edition_ids = g_hash_table_new (g_str_hash, g_str_equal);
  records->event_cap = event_cap_bytes ? event_cap_bytes : VOLACT_RECORDS_DEFAULT_EVENT_CAP;

  if (!create_private_file (records->path, error) || !open_db (records, error)) {
    g_prefix_error (error, "cannot open the client records: ");
    records_free (records);
    return NULL;
  }
  records->events = records->w_events;
  records->bytes_per_event = records->w_bytes_per_event;
  records->last_idle_purge = g_get_monotonic_time ();
  g_debug ("volact records: %s: %" G_GSIZE_FORMAT " records, %" G_GUINT64_FORMAT
           " events (%.0f bytes each)",
           records->path, volact_index_size (records->index), records->w_events,
           records->w_bytes_per_event);
  records->writer = g_thread_new ("volact-records", writer_main, records);
  return records;
}

void
volact_records_close (VolactRecords *records)
{
  GSource *source;

  if (records == NULL)
    return;
  g_mutex_lock (&records->lock);
  records->stopping = TRUE;
  g_cond_signal (&records->wake);
  g_mutex_unlock (&records->lock);
  g_thread_join (records->writer);

  g_mutex_lock (&records->lock);
  source = records->commit_source;
  records->commit_source = NULL;
  g_mutex_unlock (&records->lock);
  if (source != NULL) {
    g_source_destroy (source);
    g_source_unref (source);
  }
  records_free (records);
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
      g_autofree char *a = format_address (sqlite3_column_blob (s, 4), sqlite3_column_bytes (s, 4));
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
