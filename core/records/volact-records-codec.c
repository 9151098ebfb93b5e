/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Client records: rows. A visit becomes a compact queued row (text cleaned
 * and capped, the address packed into 4 or 16 bytes); the writer turns rows
 * into SQL with the statements prepared here, next to the code that binds
 * their parameters by position.
 */
#include "config.h"

#include "volact-records-private.h"

#include <arpa/inet.h>
#include <string.h>

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
const char *
volact_records_clean_text (const char *text, gsize max, char **owned)
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

char *
volact_records_format_address (const guint8 *bytes, int len)
{
  char buf[INET6_ADDRSTRLEN];

  if ((len != 4 && len != 16)
      || inet_ntop (len == 4 ? AF_INET : AF_INET6, bytes, buf, sizeof buf) == NULL)
    return NULL;
  return g_strdup (buf);
}

/* ---------------------------------------------------------------- rows */

/* A row with room for the strings given (copied) and EXTRA more bytes. */
Row *
volact_records_row_new (RowKind kind, const char *name, const char *edition,
                        const char *address_text, const char *message, gsize extra)
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
Row *
volact_records_row_new_visit (RowKind kind, const VolactVisit *visit)
{
  g_autofree char *name_copy = NULL;
  g_autofree char *edition_copy = NULL;
  g_autofree char *address_copy = NULL;
  const char *name = volact_records_clean_text (visit->name, NAME_MAX_BYTES, &name_copy);
  const char *edition
      = volact_records_clean_text (visit->edition, EDITION_MAX_BYTES, &edition_copy);
  const char *address_text = NULL;
  guint8 address[16];
  guint8 address_len;
  Row *row;

  parse_address (visit->address, address, &address_len);
  if (address_len == 0 && visit->address != NULL && *visit->address != '\0')
    address_text = volact_records_clean_text (visit->address, 64, &address_copy);
  row = volact_records_row_new (kind, name, edition, address_text, NULL, 0);
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
void
volact_records_free_rows (Row *row)
{
  while (row != NULL) {
    Row *next = row->next;
    g_free (row);
    row = next;
  }
}

/* ---------------------------------------------------------------- rows to SQL */

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

/* A success of a machine ID: TRUE in *IS_NEW if it has none on record yet (its first
 * activation, looked up before its row exists), then its report_machines row. */
static gboolean
note_success (VolactRecords *records, const Row *row, gboolean *is_new)
{
  sqlite3_stmt *s = records->st_machine_known;
  int rc;

  sqlite3_bind_blob (s, 1, row->cmid, 16, SQLITE_STATIC);
  rc = sqlite3_step (s);
  sqlite3_reset (s);
  sqlite3_clear_bindings (s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return FALSE;
  *is_new = rc == SQLITE_DONE;
  s = records->st_machine;
  sqlite3_bind_blob (s, 1, row->cmid, 16, SQLITE_STATIC);
  if (row->edition != 0)
    sqlite3_bind_int (s, 2, row->edition);
  else
    sqlite3_bind_text (s, 2, row->edition_text ? row->edition_text : "", -1, SQLITE_STATIC);
  sqlite3_bind_int (s, 3, (row->flags & ROW_F_VM) ? 1 : 0);
  sqlite3_bind_int64 (s, 4, row->time);
  return volact_records_step_done (s);
}

/* The summaries' part of a client request (event 12290) just written. */
static gboolean
summarise_request (VolactRecords *records, const Row *row)
{
  HourCount h = { 0 };
  gboolean is_new = FALSE;

  if (row->result == 0 && !note_success (records, row, &is_new))
    return FALSE;
  h.hour = row->time - row->time % 3600;
  h.edition = row->edition;
  if (row->edition == 0 && row->edition_text != NULL && *row->edition_text != '\0')
    h.edition_text = row->edition_text;
  h.activation = row->result == 0;
  h.is_new = (guint8) is_new;
  g_array_append_val (records->w_hours, h);
  return TRUE;
}

static int
hour_compare (gconstpointer a, gconstpointer b)
{
  const HourCount *x = a, *y = b;

  if (x->hour != y->hour)
    return x->hour < y->hour ? -1 : 1;
  if (x->edition != y->edition)
    return x->edition < y->edition ? -1 : 1;
  return g_strcmp0 (x->edition_text, y->edition_text);
}

gboolean
volact_records_write_hours (VolactRecords *records)
{
  GArray *a = records->w_hours;
  sqlite3_stmt *s = records->st_hours;
  gboolean ok = TRUE;

  /* Sorted, so that each (hour, edition) is one run and one upsert; the rows the strings
   * point into live until the transaction ends. */
  g_array_sort (a, hour_compare);
  for (guint i = 0, j; ok && i < a->len; i = j) {
    const HourCount *h = &g_array_index (a, HourCount, i);
    gint64 act = 0, fresh = 0;

    for (j = i; j < a->len && hour_compare (h, &g_array_index (a, HourCount, j)) == 0; j++) {
      act += g_array_index (a, HourCount, j).activation;
      fresh += g_array_index (a, HourCount, j).is_new;
    }
    sqlite3_bind_int64 (s, 1, h->hour);
    if (h->edition != 0)
      sqlite3_bind_int (s, 2, h->edition);
    else
      sqlite3_bind_text (s, 2, h->edition_text ? h->edition_text : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 3, (gint64) (j - i));
    sqlite3_bind_int64 (s, 4, act);
    sqlite3_bind_int64 (s, 5, fresh);
    ok = volact_records_step_done (s);
  }
  g_array_set_size (a, 0);
  return ok;
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
  if (!volact_records_step_done (s))
    return FALSE;
  records->w_events++;
  return event != VOLACT_EVENT_CLIENT_REQUEST || !client || summarise_request (records, row);
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

gboolean
volact_records_write_row (VolactRecords *records, const Row *row, GPtrArray *warnings)
{
  sqlite3_stmt *s;

  switch ((RowKind) row->kind) {
    case ROW_POOL:
      s = records->st_pool;
      sqlite3_bind_int (s, 1, row->pool);
      sqlite3_bind_text (s, 2, row->name, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (s, 3, row->time);
      return volact_records_step_done (s);
    case ROW_EDITION:
      s = records->st_edition;
      sqlite3_bind_int (s, 1, row->edition);
      sqlite3_bind_text (s, 2, row->name, -1, SQLITE_STATIC);
      return volact_records_step_done (s);
    case ROW_PURGE:
    case ROW_CLAMP:
      s = row->kind == ROW_PURGE ? records->st_purge : records->st_clamp;
      for (guint i = 0; i < row->n_cmids; i++) {
        sqlite3_bind_int (s, 1, row->pool);
        sqlite3_bind_blob (s, 2, row->data + i * 16, 16, SQLITE_STATIC);
        sqlite3_bind_int64 (s, 3, row->seen);
        if (!volact_records_step_done (s))
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
      if (!volact_records_step_done (s))
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
/* ---------------------------------------------------------------- the writer's statements */

gboolean
volact_records_prepare_writer (VolactRecords *records, GError **error)
{
  sqlite3 *db = records->db;
  const char *p = records->path;

  /* clang-format off */
  if (!(records->st_begin = volact_records_prepare (db, p, "BEGIN IMMEDIATE", error))
      || !(records->st_commit = volact_records_prepare (db, p, "COMMIT", error))
      || !(records->st_rollback = volact_records_prepare (db, p, "ROLLBACK", error))
      || !(records->st_pool = volact_records_prepare (db, p,
             "INSERT INTO pools (id, name, retention_days) VALUES (?1, ?2, ?3) "
             "ON CONFLICT (id) DO UPDATE SET retention_days = excluded.retention_days", error))
      || !(records->st_edition = volact_records_prepare (db, p,
             "INSERT OR IGNORE INTO editions (id, name) VALUES (?1, ?2)", error))
      /* In DO UPDATE, bare column names are the stored row's values. A name
       * change between two non-empty names marks the record duplicate and
       * keeps the previous name in other_name; "" keeps the stored name. */
      || !(records->st_client = volact_records_prepare (db, p,
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
      || !(records->st_event = volact_records_prepare (db, p,
             "INSERT INTO events (time, event, pool, address, cmid, name, edition, state, "
             "  minutes_left, flags, minimum, count, result, message) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)", error))
      || !(records->st_purge = volact_records_prepare (db, p,
             "DELETE FROM clients WHERE pool = ?1 AND cmid = ?2 AND last_seen <= ?3", error))
      || !(records->st_clamp = volact_records_prepare (db, p,
             "UPDATE clients SET last_seen = ?3 WHERE pool = ?1 AND cmid = ?2 AND last_seen > ?3",
             error))
      || !(records->st_names = volact_records_prepare (db, p,
             "SELECT name, other_name FROM clients WHERE pool = ?1 AND cmid = ?2", error))
      || !(records->st_hours = volact_records_prepare (db, p,
             "INSERT INTO report_hours VALUES (?1, ?2, ?3, ?4, ?5) "
             "ON CONFLICT (hour, edition) DO UPDATE SET requests = requests + excluded.requests, "
             "  activations = activations + excluded.activations, new = new + excluded.new",
             error))
      || !(records->st_machine_known = volact_records_prepare (db, p,
             "SELECT 1 FROM report_machines WHERE cmid = ?1 LIMIT 1", error))
      || !(records->st_machine = volact_records_prepare (db, p,
             "INSERT INTO report_machines VALUES (?1, ?2, ?3, ?4, ?4) "
             "ON CONFLICT (cmid, edition, vm) DO UPDATE SET first = min (first, excluded.first), "
             "  last = max (last, excluded.last)", error))
      || !(records->st_applied = volact_records_prepare (db, p,
             "UPDATE journal_state SET applied = ?1, pushed = ?2 WHERE id = 1", error))
      || !(records->st_cap_delete = volact_records_prepare (db, p,
             "DELETE FROM events WHERE id <= "
             "  (SELECT id FROM events ORDER BY id LIMIT 1 OFFSET ?1)", error)))
    return FALSE;
  /* clang-format on */
  return TRUE;
}
