/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The counting index of volact-records.c (see volact-records-index.h). */
#include "config.h"

#include "volact-records-index.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Grow above 80 % load, by half: linear probing stays short (about 3 probes
 * for a hit at 80 %) while the table stays small: 40 bytes / 0.53..0.8. */
#define LOAD_NUM 4
#define LOAD_DEN 5
#define MIN_CAPACITY 1024
/* How far back from the tail an out-of-order time is placed exactly. */
#define MAX_WALK 64

typedef struct {
  guint32 head; /* oldest */
  guint32 tail; /* newest */
  guint32 counted;
  guint32 size;
} IndexPool;

struct _VolactIndex {
  VolactIndexEntry *slots;
  gsize capacity;
  gsize used;
  guint64 seed;
  IndexPool *pools; /* [0..n_pools), index = pool number */
  guint n_pools;
};

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
static inline gsize
home_slot (const VolactIndex *index, guint pool, const guint8 *cmid)
{
  guint64 a, b, h;

  memcpy (&a, cmid, 8);
  memcpy (&b, cmid + 8, 8);
  h = mix64 (a ^ index->seed);
  h = mix64 (h ^ b ^ ((guint64) pool * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15)));
  /* Lemire's range reduction: any capacity, no modulo. */
  return (gsize) (((h >> 32) * (guint64) index->capacity) >> 32);
}

static VolactIndexEntry *
slots_alloc (gsize capacity)
{
  /* Anonymous pages read as zero (all slots empty) and go back to the
   * system on munmap, so a resize leaves no freed heap behind. */
  void *p = mmap (NULL, capacity * sizeof (VolactIndexEntry), PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    g_error ("volact records: cannot allocate %" G_GSIZE_FORMAT " index slots", capacity);
#ifdef MADV_HUGEPAGE
  /* Every lookup lands on a random page: huge pages save a TLB miss each.
   * The table is all touched anyway, so this costs no memory. */
  if (capacity * sizeof (VolactIndexEntry) >= 4u * 1024 * 1024)
    madvise (p, capacity * sizeof (VolactIndexEntry), MADV_HUGEPAGE);
#endif
  return p;
}

static void
slots_free (VolactIndexEntry *slots, gsize capacity)
{
  if (slots != NULL)
    munmap (slots, capacity * sizeof (VolactIndexEntry));
}

static gsize
capacity_for (gsize entries)
{
  gsize cap = entries * LOAD_DEN / LOAD_NUM + 1;
  return MAX (cap, MIN_CAPACITY);
}

VolactIndex *
volact_index_new (gsize expected)
{
  VolactIndex *index = g_new0 (VolactIndex, 1);

  G_STATIC_ASSERT (sizeof (VolactIndexEntry) == 40);
  index->capacity = capacity_for (expected);
  index->slots = slots_alloc (index->capacity);
  index->seed = ((guint64) g_random_int () << 32) | g_random_int ();
  return index;
}

void
volact_index_free (VolactIndex *index)
{
  if (index == NULL)
    return;
  slots_free (index->slots, index->capacity);
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
  return index->capacity * sizeof (VolactIndexEntry) + index->n_pools * sizeof (IndexPool);
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

static inline guint32
slot_of (const VolactIndex *index, const VolactIndexEntry *entry)
{
  return (guint32) (entry - index->slots);
}

VolactIndexEntry *
volact_index_lookup (VolactIndex *index, guint pool, const guint8 cmid[16])
{
  gsize i = home_slot (index, pool, cmid);

  for (;;) {
    VolactIndexEntry *e = &index->slots[i];
    if (e->pool == 0)
      return NULL;
    if (e->pool == pool && memcmp (e->cmid, cmid, 16) == 0)
      return e;
    i = next_slot (index, i);
  }
}

/* Finds the free slot for a new key (the caller knows it is absent). */
static gsize
free_slot (const VolactIndex *index, guint pool, const guint8 *cmid)
{
  gsize i = home_slot (index, pool, cmid);
  while (index->slots[i].pool != 0)
    i = next_slot (index, i);
  return i;
}

/* --- the per-pool lists --- */

static void
list_unlink (VolactIndex *index, IndexPool *p, guint32 slot)
{
  VolactIndexEntry *e = &index->slots[slot];

  if (e->prev != VOLACT_INDEX_NIL)
    index->slots[e->prev].next = e->next;
  else
    p->head = e->next;
  if (e->next != VOLACT_INDEX_NIL)
    index->slots[e->next].prev = e->prev;
  else
    p->tail = e->prev;
  e->prev = e->next = VOLACT_INDEX_NIL;
}

static void
list_insert_after (VolactIndex *index, IndexPool *p, guint32 after, guint32 slot)
{
  VolactIndexEntry *e = &index->slots[slot];

  e->prev = after;
  if (after == VOLACT_INDEX_NIL) {
    e->next = p->head;
    p->head = slot;
  } else {
    e->next = index->slots[after].next;
    index->slots[after].next = slot;
  }
  if (e->next != VOLACT_INDEX_NIL)
    index->slots[e->next].prev = slot;
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

  while (t != VOLACT_INDEX_NIL && index->slots[t].last_seen > *seen && steps < MAX_WALK) {
    t = index->slots[t].prev;
    steps++;
  }
  if (t != VOLACT_INDEX_NIL && index->slots[t].last_seen > *seen)
    *seen = index->slots[t].last_seen; /* gave up: stored a little later, list stays sorted */
  index->slots[slot].last_seen = *seen;
  list_insert_after (index, p, t, slot);
}

/* --- resize --- */

static void
grow (VolactIndex *index)
{
  VolactIndexEntry *old = index->slots;
  gsize old_cap = index->capacity;
  guint32 *moved = g_new (guint32, old_cap);

  index->capacity = MAX (old_cap + old_cap / 2, capacity_for (index->used + 1));
  index->slots = slots_alloc (index->capacity);
  /* Pass 1: place every entry, remembering where it went. */
  for (gsize i = 0; i < old_cap; i++) {
    if (old[i].pool == 0) {
      moved[i] = VOLACT_INDEX_NIL;
      continue;
    }
    gsize j = free_slot (index, old[i].pool, old[i].cmid);
    index->slots[j] = old[i];
    moved[i] = (guint32) j;
  }
  /* Pass 2: translate the list links. */
  for (gsize i = 0; i < old_cap; i++) {
    if (moved[i] == VOLACT_INDEX_NIL)
      continue;
    VolactIndexEntry *e = &index->slots[moved[i]];
    if (e->prev != VOLACT_INDEX_NIL)
      e->prev = moved[e->prev];
    if (e->next != VOLACT_INDEX_NIL)
      e->next = moved[e->next];
  }
  for (guint p = 0; p < index->n_pools; p++) {
    if (index->pools[p].head != VOLACT_INDEX_NIL)
      index->pools[p].head = moved[index->pools[p].head];
    if (index->pools[p].tail != VOLACT_INDEX_NIL)
      index->pools[p].tail = moved[index->pools[p].tail];
  }
  g_free (moved);
  slots_free (old, old_cap);
}

static void
reserve_one (VolactIndex *index)
{
  if ((index->used + 1) * LOAD_DEN > index->capacity * LOAD_NUM)
    grow (index);
}

VolactIndexEntry *
volact_index_insert (VolactIndex *index, guint pool, const guint8 cmid[16], guint32 *seen,
                     guint8 flags)
{
  IndexPool *p;
  VolactIndexEntry *e;
  gsize i;

  ensure_pool (index, pool);
  reserve_one (index);
  p = get_pool (index, pool);
  i = free_slot (index, pool, cmid);
  e = &index->slots[i];
  memset (e, 0, sizeof *e);
  memcpy (e->cmid, cmid, 16);
  e->pool = (guint16) pool;
  e->flags = flags & ~VOLACT_INDEX_COUNTED;
  e->prev = e->next = VOLACT_INDEX_NIL;
  index->used++;
  p->size++;
  list_link_sorted (index, p, (guint32) i, seen);
  if (flags & VOLACT_INDEX_COUNTED)
    volact_index_set_counted (index, e, TRUE);
  return e;
}

void
volact_index_touch (VolactIndex *index, VolactIndexEntry *entry, guint32 *seen)
{
  IndexPool *p = get_pool (index, entry->pool);
  guint32 slot = slot_of (index, entry);

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
remove_slot (VolactIndex *index, gsize hole)
{
  gsize j = hole;

  for (;;) {
    VolactIndexEntry *e;
    gsize home;
    gboolean stays;

    j = next_slot (index, j);
    e = &index->slots[j];
    if (e->pool == 0)
      break;
    home = home_slot (index, e->pool, e->cmid);
    /* E stays if its home lies cyclically in (hole, j]. */
    if (hole <= j)
      stays = hole < home && home <= j;
    else
      stays = hole < home || home <= j;
    if (stays)
      continue;
    /* Move E into the hole and repoint its list neighbours. */
    IndexPool *p = get_pool (index, e->pool);
    index->slots[hole] = *e;
    if (e->prev != VOLACT_INDEX_NIL)
      index->slots[e->prev].next = (guint32) hole;
    else
      p->head = (guint32) hole;
    if (e->next != VOLACT_INDEX_NIL)
      index->slots[e->next].prev = (guint32) hole;
    else
      p->tail = (guint32) hole;
    hole = j;
  }
  memset (&index->slots[hole], 0, sizeof (VolactIndexEntry));
}

guint
volact_index_expire (VolactIndex *index, guint pool, guint32 cutoff, VolactIndexExpireFunc func,
                     gpointer user_data)
{
  IndexPool *p = get_pool (index, pool);
  guint n = 0;

  if (p == NULL)
    return 0;
  while (p->head != VOLACT_INDEX_NIL && index->slots[p->head].last_seen <= cutoff) {
    guint32 slot = p->head;
    VolactIndexEntry *e = &index->slots[slot];

    if (func != NULL)
      func (e, user_data);
    if (e->flags & VOLACT_INDEX_COUNTED)
      p->counted--;
    list_unlink (index, p, slot);
    p->size--;
    index->used--;
    remove_slot (index, slot);
    n++;
  }
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
  for (slot = p->tail; slot != VOLACT_INDEX_NIL && index->slots[slot].last_seen > now;
       slot = index->slots[slot].prev) {
    if (func != NULL)
      func (&index->slots[slot], user_data);
    index->slots[slot].last_seen = now;
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
  gsize i;

  ensure_pool (index, pool);
  if (volact_index_lookup (index, pool, cmid) != NULL)
    return FALSE;
  reserve_one (index); /* only resizes if the caller's estimate was low */
  p = get_pool (index, pool);
  i = free_slot (index, pool, cmid);
  e = &index->slots[i];
  memcpy (e->cmid, cmid, 16);
  e->pool = (guint16) pool;
  e->last_seen = seen;
  e->name_hash = name_hash;
  e->other_hash = other_hash;
  e->flags = flags;
  /* Linked as it comes (kept a valid list across a resize); sorted in _finish. */
  list_insert_after (index, p, p->tail, (guint32) i);
  index->used++;
  p->size++;
  if (flags & VOLACT_INDEX_COUNTED)
    p->counted++;
  return TRUE;
}

static int
compare_slots (const void *a, const void *b, void *data)
{
  const VolactIndexEntry *slots = data;
  const VolactIndexEntry *x = &slots[*(const guint32 *) a];
  const VolactIndexEntry *y = &slots[*(const guint32 *) b];

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
  gsize n = 0;

  for (gsize i = 0; i < index->capacity; i++)
    if (index->slots[i].pool != 0)
      order[n++] = (guint32) i;
  g_assert (n == index->used);
  qsort_r (order, n, sizeof (guint32), compare_slots, index->slots);
  for (guint p = 0; p < index->n_pools; p++)
    index->pools[p].head = index->pools[p].tail = VOLACT_INDEX_NIL;
  for (gsize k = 0; k < n; k++) {
    VolactIndexEntry *e = &index->slots[order[k]];
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
  return h ? h : 1;
}
