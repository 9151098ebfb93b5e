/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Client records: the journal (clients.journal beside clients.db). The
 * writer makes each group of rows durable here with one write and one
 * fdatasync of a preallocated file, acknowledges them, and copies them into
 * clients.db in larger transactions later (docs/events.md, "How a record
 * becomes durable"). At open, groups clients.db has not taken yet are read
 * back and applied before anything is counted.
 *
 * A group is a 32-byte header (magic, CRC-32C of header and rows, the
 * database's identity, first sequence number, rows, bytes) and its rows. Sequence numbers run on across
 * rewinds and clients.db stores the last one it applied, so a read stops at
 * the first group that is torn, damaged, or not the next in sequence (the
 * rest of an earlier, longer round): nothing written after an applied state
 * can be mistaken for something newer.
 */
#include "config.h"

#include "volact-records-private.h"

#include "volact-error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_MAGIC 0x314a4156u /* "VAJ1" little-endian */
/* Written once when the file is created, so that the groups of a normal round overwrite
 * blocks that exist: an fdatasync then writes data only, no file-system metadata. */
#define JOURNAL_PREALLOC (2u << 20)
/* A group is at most BATCH_MAX rows of at most a few KiB each; anything larger is damage. */
#define GROUP_MAX_BYTES (64u << 20)

typedef struct {
  guint32 magic;
  guint32 crc;      /* CRC-32C of the header with crc = 0, then the rows */
  guint64 store_id; /* clients.db's (journal_state.store): a journal left beside another
                     * database (an administrator replaced clients.db) is not replayed into it */
  guint64 first_seq;
  guint32 rows;
  guint32 bytes;
} GroupHeader;
G_STATIC_ASSERT (sizeof (GroupHeader) == 32);

/* A row's fixed part, in the file as in memory (the journal is read back by the same host). */
typedef struct {
  gint64 time;
  guint32 seen, event, minutes_left, minimum, count, result, n_cmids;
  guint8 kind, flags, state, address_len;
  guint16 pool, edition;
  guint16 lens[4]; /* name, edition_text, address_text, message: strlen + 1, 0 = NULL */
  guint8 cmid[16], address[16];
  guint32 reserved;
} RowHeader;
G_STATIC_ASSERT (sizeof (RowHeader) == 88);

struct _VolactJournal {
  char *path;
  int fd;
  guint64 offset;   /* where the next group goes */
  guint64 next_seq; /* the next group's first sequence number */
  guint64 store_id;
  GByteArray *buf;
};

/* ---------------------------------------------------------------- CRC-32C (Castagnoli) */

static guint32 crc_table[256];

static gpointer
crc_table_init (gpointer unused)
{
  for (guint32 i = 0; i < 256; i++) {
    guint32 c = i;
    for (int k = 0; k < 8; k++)
      c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    crc_table[i] = c;
  }
  return NULL;
}

static guint32
crc32c (guint32 crc, const guint8 *p, gsize n)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, crc_table_init, NULL);
  crc = ~crc;
  while (n--)
    crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

static guint32
group_crc (const GroupHeader *header, const guint8 *rows)
{
  GroupHeader h = *header;

  h.crc = 0;
  return crc32c (crc32c (0, (const guint8 *) &h, sizeof h), rows, header->bytes);
}

/* ---------------------------------------------------------------- encoding */

static gsize
text_len (const char *text)
{
  return text ? MIN (strlen (text), G_MAXUINT16 - 1) + 1 : 0;
}

static void
encode_row (GByteArray *buf, const Row *row)
{
  const char *texts[4] = { row->name, row->edition_text, row->address_text, row->message };
  RowHeader h;

  memset (&h, 0, sizeof h);
  h.time = row->time;
  h.seen = row->seen;
  h.event = row->event;
  h.minutes_left = row->minutes_left;
  h.minimum = row->minimum;
  h.count = row->count;
  h.result = row->result;
  h.n_cmids = row->n_cmids;
  h.kind = row->kind;
  h.flags = row->flags;
  h.state = row->state;
  h.address_len = row->address_len;
  h.pool = row->pool;
  h.edition = row->edition;
  memcpy (h.cmid, row->cmid, 16);
  memcpy (h.address, row->address, 16);
  for (int i = 0; i < 4; i++)
    h.lens[i] = (guint16) text_len (texts[i]);
  g_byte_array_append (buf, (const guint8 *) &h, sizeof h);
  for (int i = 0; i < 4; i++)
    if (h.lens[i] > 1)
      g_byte_array_append (buf, (const guint8 *) texts[i], h.lens[i] - 1u);
  if (row->n_cmids > 0)
    g_byte_array_append (buf, row->data, row->n_cmids * 16u);
}

/* One row from *P (LEFT bytes), or NULL if it does not fit or makes no sense. */
static Row *
decode_row (const guint8 **p, gsize *left)
{
  char *texts[4] = { NULL, NULL, NULL, NULL };
  gsize need = sizeof (RowHeader);
  const guint8 *q;
  RowHeader h;
  Row *row;

  if (*left < need)
    return NULL;
  memcpy (&h, *p, sizeof h);
  if (h.kind > ROW_EDITION || h.n_cmids > 65536 || h.address_len > 16)
    return NULL;
  for (int i = 0; i < 4; i++)
    need += h.lens[i] ? h.lens[i] - 1u : 0;
  need += (gsize) h.n_cmids * 16;
  if (*left < need)
    return NULL;
  q = *p + sizeof h;
  for (int i = 0; i < 4; i++)
    if (h.lens[i] > 0) {
      texts[i] = g_strndup ((const char *) q, h.lens[i] - 1u);
      q += h.lens[i] - 1u;
    }
  row = volact_records_row_new ((RowKind) h.kind, texts[0], texts[1], texts[2], texts[3],
                                (gsize) h.n_cmids * 16);
  for (int i = 0; i < 4; i++)
    g_free (texts[i]);
  memcpy (row->data, q, (gsize) h.n_cmids * 16);
  row->time = h.time;
  row->seen = h.seen;
  row->event = h.event;
  row->minutes_left = h.minutes_left;
  row->minimum = h.minimum;
  row->count = h.count;
  row->result = h.result;
  row->n_cmids = h.n_cmids;
  row->flags = h.flags;
  row->state = h.state;
  row->address_len = h.address_len;
  row->pool = h.pool;
  row->edition = h.edition;
  memcpy (row->cmid, h.cmid, 16);
  memcpy (row->address, h.address, 16);
  *p += need;
  *left -= need;
  return row;
}

/* ---------------------------------------------------------------- the file */

static gboolean
journal_fail (VolactJournal *journal, const char *what, int saved, GError **error)
{
  g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: %s: %s", journal->path, what,
               g_strerror (saved));
  return FALSE;
}

static gboolean
write_all (int fd, const guint8 *data, gsize n, guint64 offset)
{
  while (n > 0) {
    ssize_t w = pwrite (fd, data, n, (off_t) offset);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      if (w == 0)
        errno = ENOSPC;
      return FALSE;
    }
    data += w;
    n -= (gsize) w;
    offset += (guint64) w;
  }
  return TRUE;
}

/* Fills a new (short) file with zeros up to JOURNAL_PREALLOC and makes it and its
 * directory entry durable. */
static gboolean
preallocate (VolactJournal *journal, guint64 size, GError **error)
{
  g_autofree guint8 *zeros = NULL;
  g_autofree char *dir = NULL;
  int dfd;

  if (size >= JOURNAL_PREALLOC)
    return TRUE;
  zeros = g_malloc0 (JOURNAL_PREALLOC - size);
  if (!write_all (journal->fd, zeros, JOURNAL_PREALLOC - size, size)
      || fsync (journal->fd) != 0)
    return journal_fail (journal, "cannot preallocate", errno, error);
  dir = g_path_get_dirname (journal->path);
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || fsync (dfd) != 0) {
    int saved = errno;
    if (dfd >= 0)
      close (dfd);
    return journal_fail (journal, "cannot make its folder entry durable", saved, error);
  }
  close (dfd);
  return TRUE;
}

VolactJournal *
volact_journal_open (const char *path, GError **error)
{
  VolactJournal *journal = g_new0 (VolactJournal, 1);
  struct stat st;

  journal->path = g_strdup (path);
  journal->buf = g_byte_array_new ();
  journal->fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (journal->fd < 0 || fstat (journal->fd, &st) != 0) {
    journal_fail (journal, "cannot open", errno, error);
    volact_journal_close (journal);
    return NULL;
  }
  if (!S_ISREG (st.st_mode)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: not a regular file", path);
    volact_journal_close (journal);
    return NULL;
  }
  if (((st.st_mode & 07777) != 0600 && fchmod (journal->fd, 0600) != 0)
      || !preallocate (journal, (guint64) st.st_size, error)) {
    if (error && *error == NULL)
      journal_fail (journal, "cannot make it private", errno, error);
    volact_journal_close (journal);
    return NULL;
  }
  return journal;
}

void
volact_journal_close (VolactJournal *journal)
{
  if (journal == NULL)
    return;
  if (journal->fd >= 0)
    close (journal->fd);
  g_byte_array_unref (journal->buf);
  g_free (journal->path);
  g_free (journal);
}

/* Reads the group at OFFSET into JOURNAL->buf (rows only); FALSE at the end of the valid
 * groups. */
static gboolean
read_group (VolactJournal *journal, guint64 offset, GroupHeader *h)
{
  ssize_t r = pread (journal->fd, h, sizeof *h, (off_t) offset);

  if (r != (ssize_t) sizeof *h || h->magic != JOURNAL_MAGIC || h->store_id != journal->store_id
      || h->rows == 0
      || h->bytes > GROUP_MAX_BYTES || h->bytes < h->rows * sizeof (RowHeader))
    return FALSE;
  g_byte_array_set_size (journal->buf, h->bytes);
  r = pread (journal->fd, journal->buf->data, h->bytes, (off_t) (offset + sizeof *h));
  return r == (ssize_t) h->bytes && group_crc (h, journal->buf->data) == h->crc;
}

/* Reads the valid groups from *AT (an offset where a group starts; *NEXT_SEQ: its first
 * sequence number, 0 if not known), stopping before LIMIT (an offset) and at the first group
 * that is damaged or out of sequence; calls FUNC with the rows of each group after sequence
 * number AFTER (a chain FUNC owns). *AT and *NEXT_SEQ move past every group read and taken:
 * past a group FUNC stopped at without an error too, not past one it failed on. Returns TRUE
 * at the end of the valid groups. */
static gboolean
scan (VolactJournal *journal, guint64 after, guint64 limit, VolactJournalFunc func, gpointer data,
      guint64 *at, guint64 *next_seq, GError **error)
{
  guint64 offset = *at, expected = *next_seq;
  gboolean go_on = TRUE;
  GroupHeader h;

  while (offset < limit && read_group (journal, offset, &h)) {
    const guint8 *p = journal->buf->data;
    gsize left = h.bytes;
    Row *head = NULL, **tail = &head;
    guint n = 0;

    if (expected != 0 && h.first_seq != expected)
      break; /* the rest of an earlier round */
    for (guint i = 0; i < h.rows; i++) {
      Row *row = decode_row (&p, &left);
      if (row == NULL) {
        volact_records_free_rows (head);
        g_set_error (error, VOLACT_ERROR, VOLACT_E_IO,
                     "%s: group %" G_GUINT64_FORMAT " passes its checksum but row %u cannot be "
                     "read (written by another version of volactd?)",
                     journal->path, h.first_seq, i);
        return FALSE;
      }
      if (h.first_seq + i <= after) { /* the caller has it already */
        g_free (row);
        continue;
      }
      *tail = row;
      tail = &row->next;
      n++;
    }
    expected = h.first_seq + h.rows;
    offset += sizeof h + h.bytes;
    if (n > 0) {
      GError *failed = NULL;
      go_on = func (head, n, expected - n, data, &failed);
      if (failed != NULL) {
        g_propagate_error (error, failed);
        return FALSE;
      }
    }
    *at = offset;
    *next_seq = expected;
    if (!go_on)
      return FALSE;
  }
  return TRUE;
}

typedef struct {
  Row *head, **tail;
  guint n;
} Collect;

static gboolean
collect (Row *rows, guint n, guint64 first_seq, gpointer data, GError **error)
{
  Collect *c = data;

  *c->tail = rows;
  while (*c->tail != NULL)
    c->tail = &(*c->tail)->next;
  c->n += n;
  return TRUE;
}

gboolean
volact_journal_read (VolactJournal *journal, guint64 store_id, guint64 applied, Row **rows,
                     guint *n_rows, GError **error)
{
  Collect c = { NULL, &c.head, 0 };
  guint64 end = 0, expected = 0; /* from the start */

  journal->store_id = store_id;
  if (!scan (journal, applied, G_MAXUINT64, collect, &c, &end, &expected, error)) {
    volact_records_free_rows (c.head);
    return FALSE;
  }
  journal->next_seq = MAX (applied, expected ? expected - 1 : 0) + 1;
  journal->offset = end;
  *rows = c.head;
  *n_rows = c.n;
  return TRUE;
}

gboolean
volact_journal_scan (VolactJournal *journal, VolactJournalCursor *cursor, guint64 after,
                     VolactJournalFunc func, gpointer data, GError **error)
{
  return scan (journal, after, journal->offset, func, data, &cursor->offset, &cursor->next_seq,
               error);
}

gboolean
volact_journal_append (VolactJournal *journal, const Row *batch, guint64 *last_seq,
                       GError **error)
{
  GroupHeader h = { JOURNAL_MAGIC, 0, journal->store_id, journal->next_seq, 0, 0 };
  GByteArray *buf = journal->buf;

  g_byte_array_set_size (buf, sizeof h);
  for (const Row *row = batch; row != NULL; row = row->next) {
    encode_row (buf, row);
    h.rows++;
  }
  h.bytes = buf->len - (guint32) sizeof h;
  h.crc = group_crc (&h, buf->data + sizeof h);
  memcpy (buf->data, &h, sizeof h);
  if (!write_all (journal->fd, buf->data, buf->len, journal->offset))
    return journal_fail (journal, "cannot write", errno, error);
  if (fdatasync (journal->fd) != 0)
    return journal_fail (journal, "cannot make it durable", errno, error);
  journal->offset += buf->len;
  journal->next_seq += h.rows;
  *last_seq = journal->next_seq - 1;
  if (buf->len > (64u << 10)) { /* a backlog's buffer: do not keep its size */
    g_byte_array_unref (buf);
    journal->buf = g_byte_array_new ();
  }
  return TRUE;
}

void
volact_journal_rewind (VolactJournal *journal)
{
  journal->offset = 0;
}

guint64
volact_journal_last_seq (const VolactJournal *journal)
{
  return journal->next_seq - 1;
}
