/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * Private to volact-records.c: the in-memory counting index.
 *
 * A dense array of fixed 32-byte entries keyed by (pool, CMID) (exactly
 * one entry per record: growing it is an mremap, which copies nothing and
 * never holds two copies, and pages past the last entry are not resident),
 * plus an open-addressing hash table of 4-byte entry numbers (linear
 * probing, backward-shift deletion, no tombstones; rebuilt from the array
 * when it grows). Every entry is also on its pool's doubly linked list, kept
 * in last-seen order (oldest at the head), so expiring records costs
 * O(expired) and a count is one load. Entry numbers, not pointers, link the
 * lists; removing an entry moves the last one into its place. Not
 * thread-safe: the caller holds its lock.
 */
#ifndef VOLACT_RECORDS_INDEX_H
#define VOLACT_RECORDS_INDEX_H

#include <glib.h>

G_BEGIN_DECLS

/** Entry numbers take 26 bits (in the hash table and in the list links). */
#define VOLACT_INDEX_ENTRY_BITS 26
/** No entry: the largest number the links hold. */
#define VOLACT_INDEX_NIL ((1u << VOLACT_INDEX_ENTRY_BITS) - 1)
/** Pools are numbered 1..VOLACT_INDEX_MAX_POOLS (14 bits); 0 marks an empty slot. */
#define VOLACT_INDEX_MAX_POOLS 16383
/** At most this many entries. */
#define VOLACT_INDEX_MAX_ENTRIES ((1u << VOLACT_INDEX_ENTRY_BITS) - 2)
/** License states an entry keeps: 0..6 as clients send them, this for any other byte. */
#define VOLACT_INDEX_STATE_OTHER 7

enum {
  VOLACT_INDEX_COUNTED = 1 << 0, /* contributes to its pool's count */
  VOLACT_INDEX_VM = 1 << 1,      /* latest visit said virtual machine */
};

/* 32 bytes: a million records take 32 MiB. Bit fields, so that no field
 * holds more than it needs (entry numbers 26 bits, pools 14, name hashes 12). */
typedef struct {
  guint8 cmid[16];
  guint32 last_seen;       /* unix seconds (unsigned: good until 2106) */
  guint32 pool : 14;       /* 1-based pool number */
  guint32 other_hash : 12; /* the previous different name, 0 = none */
  guint32 state : 3;       /* latest visit's license state (volact_index_state_of) */
  guint32 flags : 2;       /* VOLACT_INDEX_COUNTED, VOLACT_INDEX_VM */
  guint32 unused : 1;
  guint64 prev : 26;      /* entry number of the next older entry of the pool, or NIL */
  guint64 next : 26;      /* entry number of the next newer entry, or NIL */
  guint64 name_hash : 12; /* case-folded machine name (volact_index_name_hash), 0 = none */
} VolactIndexEntry;

/** The state an entry keeps for STATE as a client sent it. */
static inline guint8
volact_index_state_of (guint state)
{
  return state < VOLACT_INDEX_STATE_OTHER ? (guint8) state : VOLACT_INDEX_STATE_OTHER;
}

typedef struct _VolactIndex VolactIndex;

VolactIndex *volact_index_new (gsize expected);
void volact_index_free (VolactIndex *index);

/** Entries in the index, and bytes of index memory (entries in use and the table). */
gsize volact_index_size (const VolactIndex *index);
gsize volact_index_memory (const VolactIndex *index);

/** Counted entries of POOL (0 for a pool never seen). */
guint volact_index_pool_count (const VolactIndex *index, guint pool);
/** All entries of POOL, counted or not. */
guint volact_index_pool_size (const VolactIndex *index, guint pool);

VolactIndexEntry *volact_index_lookup (VolactIndex *index, guint pool, const guint8 cmid[16]);

/**
 * Adds an entry that must not exist yet, last seen at SEEN, on its pool's
 * list in time order. May move entries: entry pointers taken before are
 * invalid (expiry moves them too). *SEEN may be raised (see
 * volact_index_touch) and tells the time stored. Returns NULL when the
 * index holds VOLACT_INDEX_MAX_ENTRIES already.
 */
VolactIndexEntry *volact_index_insert (VolactIndex *index, guint pool, const guint8 cmid[16],
                                       guint32 *seen, guint8 flags);
/**
 * Marks ENTRY seen at *SEEN: a later time moves it to its place in the list
 * (normally the tail); an earlier time than it had changes nothing. When
 * time runs far backwards (more than 64 newer entries to walk past) the time
 * is raised to keep the list sorted. *SEEN returns the time stored.
 */
void volact_index_touch (VolactIndex *index, VolactIndexEntry *entry, guint32 *seen);
/** Sets or clears COUNTED, keeping the pool's count in step. */
void volact_index_set_counted (VolactIndex *index, VolactIndexEntry *entry, gboolean counted);

typedef void (*VolactIndexExpireFunc) (const VolactIndexEntry *entry, gpointer user_data);
/**
 * Removes the entries of POOL last seen at or before CUTOFF, oldest first,
 * calling FUNC on each just before it goes. Returns how many went. Memory
 * the index no longer needs goes back to the system.
 */
guint volact_index_expire (VolactIndex *index, guint pool, guint32 cutoff,
                           VolactIndexExpireFunc func, gpointer user_data);

/**
 * Sets every entry of POOL last seen later than NOW to NOW (a record never
 * counts as seen later than now: see docs/events.md, "Clock changes"),
 * calling FUNC on each before it changes. They are the newest, at the tail,
 * so the list stays sorted; O(1) when there are none. Returns how many.
 */
guint volact_index_clamp (VolactIndex *index, guint pool, guint32 now, VolactIndexExpireFunc func,
                          gpointer user_data);

/**
 * Bulk loading (at open): volact_index_load_add puts entries in the table
 * without linking them (no resize happens below EXPECTED given to _new);
 * volact_index_load_finish sorts them by time and builds the pool lists.
 * Returns FALSE if the entry exists already or the index is full.
 */
gboolean volact_index_load_add (VolactIndex *index, guint pool, const guint8 cmid[16], guint32 seen,
                                guint32 name_hash, guint32 other_hash, guint8 flags);
void volact_index_load_finish (VolactIndex *index);

/**
 * The 12-bit hash volact keeps for a machine name: ASCII case-folded, never
 * 0; 0 for "". Two different names share it once in 4,095 pairs, which
 * only makes the duplicate-CMID warning miss that rare rename.
 */
guint32 volact_index_name_hash (const char *name);

G_END_DECLS

#endif
