/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The counting index of volact-records.c (see volact-records-index.h). */
#include "config.h"

#include "volact-records-index.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The table grows above 80 % load, to 60 %: linear probing stays short
 * and it costs 4 / 0.6..0.8 bytes per entry. A slot holds the entry number
 * + 1 (0 = empty) in its low 26 bits and 6 bits of the key's hash above,
 * so that most probes past other keys never touch their entries. */
#define LOAD_MAX 80 /* percent */
#define LOAD_NEW 60
#define MIN_CAPACITY 1024
#define SLOT_BITS 26
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
/* Entry pages freed by expiry go back to the system past this much. */
#define TRIM_BYTES (1024 * 1024)
/* Huge pages for a big table: each lookup lands on a random page, and a
 * huge page saves a TLB miss. Not for the entries, whose last huge page
 * would be resident whole (1 MiB more on average, for about 0.1 us less
 * per lookup). */
#define HUGE_BYTES (32u * 1024 * 1024)
/* How far back from the tail an out-of-order time is placed exactly. */
#define MAX_WALK 64

typedef struct {
  guint32 head; /* oldest */
  guint32 tail; /* newest */
  guint32 counted;
  guint32 size;
} IndexPool;

struct _VolactIndex {
  VolactIndexEntry *entries; /* [0..used), dense */
  gsize reserved;            /* entries the mapping can hold */
  gsize dirty;               /* entries touched since the last trim */
  guint32 *table;
  gsize capacity; /* table slots */
  gsize used;
  guint64 seed;
  IndexPool *pools; /* [0..n_pools), index = pool number */
  guint n_pools;
};

G_STATIC_ASSERT (sizeof (VolactIndexEntry) == 32);
G_STATIC_ASSERT (SLOT_BITS == VOLACT_INDEX_ENTRY_BITS);

static inline guint64
mix64 (guint64 x)
{
  /* MurmurHash3's finaliser: every input bit affects every output bit. */
  x ^= x >> 33;
  x *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  x ^= x >> 33;
  x *= G_GUINT64_CONSTANT (0xc4ceb9fe1a85ec53);
  x ^= x >> 33;
  return x;
}

/* Keyed by a random seed so that clients cannot choose CMIDs that collide. */
static inline guint64
key_hash (const VolactIndex *index, guint pool, const guint8 *cmid)
{
  guint64 a, b;

  memcpy (&a, cmid, 8);
  memcpy (&b, cmid + 8, 8);
  return mix64 (mix64 (a ^ index->seed) ^ b
                ^ ((guint64) pool * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15)));
}

static inline gsize
home_of (const VolactIndex *index, guint64 h)
{
  /* Lemire's range reduction: any capacity, no modulo. */
  return (gsize) (((h >> 32) * (guint64) index->capacity) >> 32);
}

static inline guint32
tag_of (guint64 h)
{
  return ((guint32) h & 0x3f) << SLOT_BITS;
}

static void *
map_alloc (gsize bytes, gboolean huge)
{
  /* Anonymous pages read as zero and are not resident until touched; they
   * go back to the system on munmap, leaving no freed heap behind. */
  void *p = mmap (NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    g_error ("volact records: cannot map %" G_GSIZE_FORMAT " bytes for the index", bytes);
#ifdef MADV_HUGEPAGE
  if (huge && bytes >= HUGE_BYTES)
    madvise (p, bytes, MADV_HUGEPAGE);
#endif
  return p;
}

static void
map_free (void *p, gsize bytes)
{
  if (p != NULL)
    munmap (p, bytes);
}

static gsize
capacity_for (gsize entries)
{
  gsize cap = entries * 100 / LOAD_NEW + 1;
  return MAX (cap, MIN_CAPACITY);
}

static void
table_place (VolactIndex *index, guint64 h, guint32 number)
{
  gsize i = home_of (index, h);

  while (index->table[i] != 0)
    i = i + 1 == index->capacity ? 0 : i + 1;
  index->table[i] = tag_of (h) | (number + 1);
}

/* A new table of CAPACITY slots for the entries there are: the old one
 * goes first, so only one is ever mapped. */
static void
table_rebuild (VolactIndex *index, gsize capacity)
{
  map_free (index->table, index->capacity * sizeof (guint32));
  index->capacity = capacity;
  index->table = map_alloc (capacity * sizeof (guint32), TRUE);
  for (gsize k = 0; k < index->used; k++) {
    const VolactIndexEntry *e = &index->entries[k];
    table_place (index, key_hash (index, e->pool, e->cmid), (guint32) k);
  }
}

static void
entries_reserve (VolactIndex *index, gsize n)
{
  gsize bytes, old = index->reserved * sizeof (VolactIndexEntry);
  void *p;

  if (n <= index->reserved)
    return;
  n = MAX (n, index->reserved * 2);
  n = MIN (MAX (n, MIN_CAPACITY), (gsize) VOLACT_INDEX_MAX_ENTRIES);
  bytes = n * sizeof (VolactIndexEntry);
  if (index->entries == NULL) {
    index->entries = map_alloc (bytes, FALSE);
  } else {
    /* Moves page tables, not bytes: growing never needs twice the memory. */
    p = mremap (index->entries, old, bytes, MREMAP_MAYMOVE);
    if (p == MAP_FAILED)
      g_error ("volact records: cannot grow the index to %" G_GSIZE_FORMAT " entries", n);
    index->entries = p;
  }
  index->reserved = n;
}

VolactIndex *
volact_index_new (gsize expected)
{
  VolactIndex *index = g_new0 (VolactIndex, 1);

  index->seed = ((guint64) g_random_int () << 32) | g_random_int ();
  expected = MIN (expected, (gsize) VOLACT_INDEX_MAX_ENTRIES);
  entries_reserve (index, expected);
  table_rebuild (index, capacity_for (expected));
  return index;
}

void
volact_index_free (VolactIndex *index)
{
  if (index == NULL)
    return;
  map_free (index->entries, index->reserved * sizeof (VolactIndexEntry));
  map_free (index->table, index->capacity * sizeof (guint32));
  g_free (index->pools);
  g_free (index);
}

gsize
volact_index_size (const VolactIndex *index)
{
  return index->used;
}

gsize
volact_index_memory (const VolactIndex *index)
{
  return index->used * sizeof (VolactIndexEntry) + index->capacity * sizeof (guint32)
         + index->n_pools * sizeof (IndexPool);
}

static IndexPool *
get_pool (const VolactIndex *index, guint pool)
{
  return pool < index->n_pools ? &index->pools[pool] : NULL;
}

static IndexPool *
ensure_pool (VolactIndex *index, guint pool)
{
  g_assert (pool >= 1 && pool <= VOLACT_INDEX_MAX_POOLS);
  if (pool >= index->n_pools) {
    guint n = MAX (pool + 1, index->n_pools * 2);
    n = MIN (n, VOLACT_INDEX_MAX_POOLS + 1);
    index->pools = g_renew (IndexPool, index->pools, n);
    for (guint i = index->n_pools; i < n; i++)
      index->pools[i] = (IndexPool){ VOLACT_INDEX_NIL, VOLACT_INDEX_NIL, 0, 0 };
    index->n_pools = n;
  }
  return &index->pools[pool];
}

guint
volact_index_pool_count (const VolactIndex *index, guint pool)
{
  IndexPool *p = get_pool (index, pool);
  return p ? p->counted : 0;
}

guint
volact_index_pool_size (const VolactIndex *index, guint pool)
{
  IndexPool *p = get_pool (index, pool);
  return p ? p->size : 0;
}

static inline gsize
next_slot (const VolactIndex *index, gsize i)
{
  return i + 1 == index->capacity ? 0 : i + 1;
}

/* The table slot of the key, or of the empty slot where it would go. */
static gsize
find_slot (const VolactIndex *index, guint pool, const guint8 *cmid)
{
  guint64 h = key_hash (index, pool, cmid);
  guint32 tag = tag_of (h);
  gsize i = home_of (index, h);

  for (;; i = next_slot (index, i)) {
    guint32 s = index->table[i];
    const VolactIndexEntry *e;

    if (s == 0)
      return i;
    if ((s & ~SLOT_MASK) != tag)
      continue;
    e = &index->entries[(s & SLOT_MASK) - 1];
    if (e->pool == pool && memcmp (e->cmid, cmid, 16) == 0)
      return i;
  }
}

VolactIndexEntry *
volact_index_lookup (VolactIndex *index, guint pool, const guint8 cmid[16])
{
  guint32 s = index->table[find_slot (index, pool, cmid)];

  return s == 0 ? NULL : &index->entries[(s & SLOT_MASK) - 1];
}

/* --- the per-pool lists --- */

static void
list_unlink (VolactIndex *index, IndexPool *p, guint32 slot)
{
  VolactIndexEntry *e = &index->entries[slot];

  if (e->prev != VOLACT_INDEX_NIL)
    index->entries[e->prev].next = e->next;
  else
    p->head = e->next;
  if (e->next != VOLACT_INDEX_NIL)
    index->entries[e->next].prev = e->prev;
  else
    p->tail = e->prev;
  e->prev = e->next = VOLACT_INDEX_NIL;
}

static void
list_insert_after (VolactIndex *index, IndexPool *p, guint32 after, guint32 slot)
{
  VolactIndexEntry *e = &index->entries[slot];

  e->prev = after;
  if (after == VOLACT_INDEX_NIL) {
    e->next = p->head;
    p->head = slot;
  } else {
    e->next = index->entries[after].next;
    index->entries[after].next = slot;
  }
  if (e->next != VOLACT_INDEX_NIL)
    index->entries[e->next].prev = slot;
  else
    p->tail = slot;
}

/* Links SLOT (unlinked) into its pool list in time order, walking back from
 * the tail: O(1) while time only moves forward. */
static void
list_link_sorted (VolactIndex *index, IndexPool *p, guint32 slot, guint32 *seen)
{
  guint32 t = p->tail;
  guint steps = 0;

  while (t != VOLACT_INDEX_NIL && index->entries[t].last_seen > *seen && steps < MAX_WALK) {
    t = index->entries[t].prev;
    steps++;
  }
  if (t != VOLACT_INDEX_NIL && index->entries[t].last_seen > *seen)
    *seen = index->entries[t].last_seen; /* gave up: stored a little later, list stays sorted */
  index->entries[slot].last_seen = *seen;
  list_insert_after (index, p, t, slot);
}

/* --- adding and removing --- */

/* A new entry for a key known to be absent, in the table and at the end of
 * the array, not on any list; NULL when the index is full. */
static VolactIndexEntry *
add_entry (VolactIndex *index, guint pool, const guint8 *cmid)
{
  VolactIndexEntry *e;
  guint32 number;

  if (index->used >= VOLACT_INDEX_MAX_ENTRIES)
    return NULL;
  ensure_pool (index, pool);
  entries_reserve (index, index->used + 1);
  if ((index->used + 1) * 100 > index->capacity * LOAD_MAX)
    table_rebuild (index, capacity_for (index->used + 1));
  number = (guint32) index->used++;
  index->dirty = MAX (index->dirty, index->used);
  e = &index->entries[number];
  memset (e, 0, sizeof *e);
  memcpy (e->cmid, cmid, 16);
  e->pool = (guint16) pool;
  e->prev = e->next = VOLACT_INDEX_NIL;
  table_place (index, key_hash (index, pool, cmid), number);
  get_pool (index, pool)->size++;
  return e;
}

VolactIndexEntry *
volact_index_insert (VolactIndex *index, guint pool, const guint8 cmid[16], guint32 *seen,
                     guint8 flags)
{
  VolactIndexEntry *e = add_entry (index, pool, cmid);

  if (e == NULL)
    return NULL;
  e->flags = flags & ~VOLACT_INDEX_COUNTED;
  list_link_sorted (index, get_pool (index, pool), (guint32) (e - index->entries), seen);
  if (flags & VOLACT_INDEX_COUNTED)
    volact_index_set_counted (index, e, TRUE);
  return e;
}

void
volact_index_touch (VolactIndex *index, VolactIndexEntry *entry, guint32 *seen)
{
  IndexPool *p = get_pool (index, entry->pool);
  guint32 slot = (guint32) (entry - index->entries);

  if (*seen <= entry->last_seen) {
    *seen = entry->last_seen; /* "last seen" never moves backwards */
    return;
  }
  if (entry->next == VOLACT_INDEX_NIL) {
    entry->last_seen = *seen; /* already the newest: the common case */
    return;
  }
  list_unlink (index, p, slot);
  list_link_sorted (index, p, slot, seen);
}

void
volact_index_set_counted (VolactIndex *index, VolactIndexEntry *entry, gboolean counted)
{
  IndexPool *p = get_pool (index, entry->pool);
  gboolean was = (entry->flags & VOLACT_INDEX_COUNTED) != 0;

  if (was == !!counted)
    return;
  if (counted) {
    entry->flags |= VOLACT_INDEX_COUNTED;
    p->counted++;
  } else {
    entry->flags &= ~VOLACT_INDEX_COUNTED;
    p->counted--;
  }
}

/* Backward-shift deletion: pulls later members of the probe run into the
 * hole so that lookups never need tombstones. */
static void
table_remove (VolactIndex *index, gsize hole)
{
  gsize j = hole;

  for (;;) {
    guint32 s;
    gsize home;
    gboolean stays;
    const VolactIndexEntry *e;

    j = next_slot (index, j);
    s = index->table[j];
    if (s == 0)
      break;
    e = &index->entries[(s & SLOT_MASK) - 1];
    home = home_of (index, key_hash (index, e->pool, e->cmid));
    /* It stays if its home lies cyclically in (hole, j]. */
    if (hole <= j)
      stays = hole < home && home <= j;
    else
      stays = hole < home || home <= j;
    if (stays)
      continue;
    index->table[hole] = s;
    hole = j;
  }
  index->table[hole] = 0;
}

/* Removes entry NUMBER (unlinked already): the last entry moves into its
 * place, and its table slot and list neighbours follow it. */
static void
remove_entry (VolactIndex *index, guint32 number)
{
  VolactIndexEntry *e = &index->entries[number];
  guint32 last = (guint32) index->used - 1;

  table_remove (index, find_slot (index, e->pool, e->cmid));
  if (number != last) {
    VolactIndexEntry *m = &index->entries[last];
    IndexPool *p = get_pool (index, m->pool);
    gsize i = find_slot (index, m->pool, m->cmid);

    index->table[i] = (index->table[i] & ~SLOT_MASK) | (number + 1);
    if (m->prev != VOLACT_INDEX_NIL)
      index->entries[m->prev].next = number;
    else
      p->head = number;
    if (m->next != VOLACT_INDEX_NIL)
      index->entries[m->next].prev = number;
    else
      p->tail = number;
    *e = *m;
  }
  index->used--;
}

/* After expiry: entry pages past the end and a mostly empty table go back. */
static void
trim (VolactIndex *index)
{
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  guint8 *base = (guint8 *) index->entries;
  gsize from = (index->used * sizeof (VolactIndexEntry) + page - 1) / page * page;
  gsize to = index->dirty * sizeof (VolactIndexEntry) / page * page;

  if (to > from && to - from >= TRIM_BYTES) {
    madvise (base + from, to - from, MADV_DONTNEED);
    index->dirty = index->used;
  }
  if (index->capacity > MIN_CAPACITY && index->used * 100 * 4 < index->capacity * LOAD_MAX)
    table_rebuild (index, capacity_for (index->used));
}

guint
volact_index_expire (VolactIndex *index, guint pool, guint32 cutoff, VolactIndexExpireFunc func,
                     gpointer user_data)
{
  IndexPool *p = get_pool (index, pool);
  guint n = 0;

  if (p == NULL)
    return 0;
  while (p->head != VOLACT_INDEX_NIL && index->entries[p->head].last_seen <= cutoff) {
    guint32 slot = p->head;
    VolactIndexEntry *e = &index->entries[slot];

    if (func != NULL)
      func (e, user_data);
    if (e->flags & VOLACT_INDEX_COUNTED)
      p->counted--;
    list_unlink (index, p, slot);
    p->size--;
    remove_entry (index, slot);
    n++;
  }
  if (n > 0)
    trim (index);
  return n;
}

guint
volact_index_clamp (VolactIndex *index, guint pool, guint32 now, VolactIndexExpireFunc func,
                    gpointer user_data)
{
  IndexPool *p = get_pool (index, pool);
  guint32 slot;
  guint n = 0;

  if (p == NULL)
    return 0;
  /* Every entry passed is later than NOW and every one before the stop is
   * not, so setting them all to NOW keeps the list in time order. */
  for (slot = p->tail; slot != VOLACT_INDEX_NIL && index->entries[slot].last_seen > now;
       slot = index->entries[slot].prev) {
    if (func != NULL)
      func (&index->entries[slot], user_data);
    index->entries[slot].last_seen = now;
    n++;
  }
  return n;
}

gboolean
volact_index_load_add (VolactIndex *index, guint pool, const guint8 cmid[16], guint32 seen,
                       guint32 name_hash, guint32 other_hash, guint8 flags)
{
  IndexPool *p;
  VolactIndexEntry *e;

  if (volact_index_lookup (index, pool, cmid) != NULL)
    return FALSE;
  if (!(e = add_entry (index, pool, cmid)))
    return FALSE;
  p = get_pool (index, pool);
  e->last_seen = seen;
  e->name_hash = name_hash;
  e->other_hash = other_hash;
  e->flags = flags;
  /* Linked as it comes; sorted in _finish. */
  list_insert_after (index, p, p->tail, (guint32) (e - index->entries));
  if (flags & VOLACT_INDEX_COUNTED)
    p->counted++;
  return TRUE;
}

static int
compare_entries (const void *a, const void *b, void *data)
{
  const VolactIndexEntry *entries = data;
  const VolactIndexEntry *x = &entries[*(const guint32 *) a];
  const VolactIndexEntry *y = &entries[*(const guint32 *) b];

  if (x->pool != y->pool)
    return x->pool < y->pool ? -1 : 1;
  if (x->last_seen != y->last_seen)
    return x->last_seen < y->last_seen ? -1 : 1;
  return 0;
}

void
volact_index_load_finish (VolactIndex *index)
{
  guint32 *order = g_new (guint32, MAX (index->used, 1));

  for (gsize k = 0; k < index->used; k++)
    order[k] = (guint32) k;
  qsort_r (order, index->used, sizeof (guint32), compare_entries, index->entries);
  for (guint p = 0; p < index->n_pools; p++)
    index->pools[p].head = index->pools[p].tail = VOLACT_INDEX_NIL;
  for (gsize k = 0; k < index->used; k++) {
    VolactIndexEntry *e = &index->entries[order[k]];
    list_insert_after (index, &index->pools[e->pool], index->pools[e->pool].tail, order[k]);
  }
  g_free (order);
}

guint32
volact_index_name_hash (const char *name)
{
  guint32 h = 2166136261u; /* FNV-1a over the ASCII-lower-cased bytes */

  if (name == NULL || *name == '\0')
    return 0;
  for (const guint8 *c = (const guint8 *) name; *c; c++) {
    guint8 b = (*c >= 'A' && *c <= 'Z') ? (guint8) (*c + ('a' - 'A')) : *c;
    h ^= b;
    h *= 16777619u;
  }
  h = (h ^ (h >> 16)) % 4095; /* folded to the entry's 12 bits, 1..4095 */
  return h + 1;
}
