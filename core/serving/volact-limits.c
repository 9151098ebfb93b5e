/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The per-source table of the client listener (volact-limits.h,
 * docs/limits.md). Entries live in chunks and are linked in recency order
 * (most recently seen first) so that the one to forget when the table is
 * full is at the tail; a GHashTable indexes them by source. Token buckets
 * are kept in thousandths of a request, so refilling is integer arithmetic.
 */
#include "config.h"

#include "volact-limits.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define MILLI 1000
#define SOURCE_CHUNK 256
#define REPORT_INTERVAL (60 * G_USEC_PER_SEC)

struct _VolactSource {
  guint8 key[16]; /* IPv4: ::ffff:a.b.c.d; IPv6: the /64, low half zero */
  gboolean exempt;
  guint conns;
  gint64 tokens;   /* thousandths of a request */
  gint64 refilled; /* monotonic µs of the last refill */
  guint new_cmids; /* in the window that started at window_start */
  gint64 window_start;
  gint64 limited_at[VOLACT_LIMIT_N_KINDS]; /* last refusal per kind, monotonic µs; 0: never */
  VolactSource *prev, *next;               /* recency list; free list through next */
};

struct _VolactLimits {
  VolactLimitsConfig config;
  GHashTable *index; /* key bytes -> VolactSource */
  GPtrArray *chunks;
  VolactSource *free_list;
  VolactSource *head, *tail; /* most and least recently seen */
  guint size;
  guint allocated; /* entries in chunks */
  GArray *exempt; /* guint8[16] keys */
  gint64 budget_start; /* the minute the report budget counts in */
  guint budget_used;
  guint64 suppressed;
};

static const guint8 mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Set once per process by volact_limits_new: attackers choose their addresses, not the hash. */
static guint64 hash_seed;

static guint
key_hash (gconstpointer p)
{
  guint64 a, b;

  memcpy (&a, p, 8);
  memcpy (&b, (const guint8 *) p + 8, 8);
  a = (a ^ hash_seed) * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
  a ^= (b + (a >> 29)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  a ^= a >> 32;
  return (guint) a;
}

static gboolean
key_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, 16) == 0;
}

/* The source key of a peer: IPv4 (also IPv4-mapped) as ::ffff:a.b.c.d, IPv6 as its /64. */
static void
make_key (int family, const guint8 *addr, guint8 key[16])
{
  memset (key, 0, 16);
  if (family == AF_INET) {
    memcpy (key, mapped_prefix, sizeof mapped_prefix);
    memcpy (key + 12, addr, 4);
  } else if (memcmp (addr, mapped_prefix, sizeof mapped_prefix) == 0) {
    memcpy (key, addr, 16);
  } else {
    memcpy (key, addr, 8);
  }
}

static gboolean
is_exempt (const VolactLimits *l, const guint8 key[16])
{
  for (guint i = 0; i < l->exempt->len; i++)
    if (memcmp (&g_array_index (l->exempt, guint8, i * 16), key, 16) == 0)
      return TRUE;
  return FALSE;
}

VolactLimits *
volact_limits_new (const VolactLimitsConfig *config)
{
  VolactLimits *l = g_new0 (VolactLimits, 1);

  if (hash_seed == 0)
    hash_seed = ((guint64) g_random_int () << 32) | g_random_int () | 1;
  l->config = *config;
  l->config.exempt = NULL;
  l->config.burst = MAX (config->burst, 1);
  l->config.window = MAX (config->window, 1);
  l->config.capacity = MAX (config->capacity, 1);
  l->index = g_hash_table_new (key_hash, key_equal);
  l->chunks = g_ptr_array_new_with_free_func (g_free);
  l->exempt = g_array_new (FALSE, FALSE, 16);
  for (char **e = config->exempt; e != NULL && *e != NULL; e++) {
    guint8 addr[16], key[16];
    if (inet_pton (AF_INET, *e, addr) == 1)
      make_key (AF_INET, addr, key);
    else if (inet_pton (AF_INET6, *e, addr) == 1)
      make_key (AF_INET6, addr, key);
    else
      continue;
    g_array_append_vals (l->exempt, key, 1);
  }
  return l;
}

void
volact_limits_free (VolactLimits *l)
{
  if (l == NULL)
    return;
  g_hash_table_unref (l->index);
  g_ptr_array_free (l->chunks, TRUE);
  g_array_free (l->exempt, TRUE);
  g_free (l);
}

static void
unlink_source (VolactLimits *l, VolactSource *s)
{
  if (s->prev != NULL)
    s->prev->next = s->next;
  else
    l->head = s->next;
  if (s->next != NULL)
    s->next->prev = s->prev;
  else
    l->tail = s->prev;
  s->prev = s->next = NULL;
}

static void
push_front (VolactLimits *l, VolactSource *s)
{
  s->prev = NULL;
  s->next = l->head;
  if (l->head != NULL)
    l->head->prev = s;
  l->head = s;
  if (l->tail == NULL)
    l->tail = s;
}

/*
 * An entry for a new source: from the free list, a new chunk while under the
 * capacity, or the least recently seen source without connections. Sources
 * with connections are moved to the front as the tail is searched: there are
 * fewer of them than the capacity (the listener sizes it above its
 * max-connections), so the search ends.
 */
static void
add_chunk (VolactLimits *l, guint n)
{
  VolactSource *chunk = g_new0 (VolactSource, n);

  g_ptr_array_add (l->chunks, chunk);
  l->allocated += n;
  for (guint i = 0; i < n; i++) {
    chunk[i].next = l->free_list;
    l->free_list = &chunk[i];
  }
}

/*
 * An entry for a new source: from the free list, a new chunk while under the
 * capacity, or the least recently seen source without connections. Sources
 * with connections are moved to the front as the tail is searched; the
 * listener sizes the capacity above its max-connections, so one without is
 * found (if not, one more entry is made: the table never exceeds the
 * capacity plus the connections open).
 */
static VolactSource *
take_entry (VolactLimits *l)
{
  VolactSource *s;

  if (l->free_list == NULL && l->allocated < l->config.capacity)
    add_chunk (l, MIN (SOURCE_CHUNK, l->config.capacity - l->allocated));
  for (guint tries = l->free_list == NULL ? l->size : 0; tries > 0; tries--) {
    s = l->tail;
    unlink_source (l, s);
    if (s->conns == 0) {
      g_hash_table_remove (l->index, s->key);
      return s;
    }
    push_front (l, s);
  }
  if (l->free_list == NULL)
    add_chunk (l, 1);
  s = l->free_list;
  l->free_list = s->next;
  l->size++;
  return s;
}

VolactSource *
volact_limits_source (VolactLimits *l, int family, const guint8 *addr, gint64 now)
{
  guint8 key[16];
  VolactSource *s;

  make_key (family, addr, key);
  s = g_hash_table_lookup (l->index, key);
  if (s != NULL) {
    if (s != l->head) {
      unlink_source (l, s);
      push_front (l, s);
    }
    return s;
  }
  s = take_entry (l);
  memset (s, 0, sizeof *s);
  memcpy (s->key, key, 16);
  s->exempt = is_exempt (l, key);
  s->tokens = (gint64) l->config.burst * MILLI;
  s->refilled = now;
  s->window_start = now;
  g_hash_table_insert (l->index, s->key, s);
  push_front (l, s);
  return s;
}

gboolean
volact_limits_conn_open (VolactLimits *l, VolactSource *s)
{
  if (!s->exempt && l->config.connections != 0 && s->conns >= l->config.connections)
    return FALSE;
  s->conns++;
  return TRUE;
}

void
volact_limits_conn_close (VolactLimits *l, VolactSource *s)
{
  (void) l;
  if (s != NULL && s->conns > 0)
    s->conns--;
}

gboolean
volact_limits_take (VolactLimits *l, VolactSource *s, gint64 now)
{
  gint64 cap = (gint64) l->config.burst * MILLI;

  if (s->exempt || l->config.rate == 0)
    return TRUE;
  if (now > s->refilled) {
    /* µs * requests/s / 1000 = thousandths of a request */
    s->tokens = MIN (cap, s->tokens + (now - s->refilled) * l->config.rate / MILLI);
    s->refilled = now;
  }
  if (s->tokens < MILLI)
    return FALSE;
  s->tokens -= MILLI;
  return TRUE;
}

gboolean
volact_limits_cmid_applies (const VolactLimits *l, const VolactSource *s)
{
  return !s->exempt && l->config.new_cmids != 0;
}

gboolean
volact_limits_cmid_allowed (VolactLimits *l, VolactSource *s, gint64 now)
{
  if (s->exempt || l->config.new_cmids == 0)
    return TRUE;
  if (now - s->window_start >= (gint64) l->config.window * G_USEC_PER_SEC) {
    s->window_start = now;
    s->new_cmids = 0;
  }
  return s->new_cmids < l->config.new_cmids;
}

void
volact_limits_cmid_taken (VolactLimits *l, VolactSource *s)
{
  (void) l;
  if (s->new_cmids < G_MAXUINT)
    s->new_cmids++;
}

gboolean
volact_limits_refused (VolactLimits *l, VolactSource *s, VolactLimitKind kind, gint64 now,
                       gboolean *became, guint64 *suppressed)
{
  gint64 last = s->limited_at[kind];

  /* One episode while refusals keep coming less than a minute apart: a steady flood is one
   * limited source, not one per refill of its bucket. */
  *became = last == 0 || now - last >= REPORT_INTERVAL;
  *suppressed = 0;
  s->limited_at[kind] = MAX (now, 1);
  if (!*became)
    return FALSE;
  if (l->budget_start == 0 || now - l->budget_start >= REPORT_INTERVAL) {
    l->budget_start = MAX (now, 1);
    l->budget_used = 0;
  }
  if (l->budget_used >= VOLACT_LIMITS_REPORTS_PER_MINUTE) {
    l->suppressed++;
    return FALSE;
  }
  l->budget_used++;
  *suppressed = l->suppressed;
  l->suppressed = 0;
  return TRUE;
}

static void
key_text (const guint8 key[16], char out[VOLACT_LIMITS_SOURCE_TEXT])
{
  char addr[INET6_ADDRSTRLEN];

  if (memcmp (key, mapped_prefix, sizeof mapped_prefix) == 0) {
    inet_ntop (AF_INET, key + 12, out, VOLACT_LIMITS_SOURCE_TEXT);
    return;
  }
  inet_ntop (AF_INET6, key, addr, sizeof addr);
  g_snprintf (out, VOLACT_LIMITS_SOURCE_TEXT, "%s/64", addr);
}

void
volact_limits_source_text (const VolactSource *s, char out[VOLACT_LIMITS_SOURCE_TEXT])
{
  key_text (s->key, out);
}

void
volact_limits_address_source (int family, const guint8 *addr,
                              char out[VOLACT_LIMITS_SOURCE_TEXT])
{
  guint8 key[16];

  make_key (family, addr, key);
  key_text (key, out);
}

guint
volact_limits_size (const VolactLimits *l)
{
  return l->size;
}

gsize
volact_limits_memory (const VolactLimits *l)
{
  /* GHashTable keeps a key, a value and a hash per slot, with room for up to twice the entries. */
  return sizeof *l + (gsize) l->allocated * sizeof (VolactSource)
         + (gsize) l->size * 2 * (2 * sizeof (gpointer) + sizeof (guint));
}
