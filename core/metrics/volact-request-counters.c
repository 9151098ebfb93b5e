/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Request counters (volact-request-counters.h). Slots are never moved or
 * freed while the table lives, so a reader in another thread can walk what
 * was published without a lock; only the writer touches the hash table.
 */
#include "config.h"

#include "volact-request-counters.h"

typedef struct {
  guint32 code;
  guint64 count;
} ResultSlot;

typedef struct {
  char *name;
  guint n_results; /* published with release after the code is written */
  ResultSlot results[VOLACT_REQUEST_COUNTERS_MAX_RESULTS];
} EditionSlot;

struct _VolactRequestCounters {
  GHashTable *by_name; /* writer only: name -> EditionSlot* */
  guint n_editions;    /* published with release after the slot is filled */
  gboolean full_logged;
  EditionSlot *editions[VOLACT_REQUEST_COUNTERS_MAX_EDITIONS];
};

VolactRequestCounters *
volact_request_counters_new (void)
{
  VolactRequestCounters *c = g_new0 (VolactRequestCounters, 1);

  c->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  return c;
}

void
volact_request_counters_free (VolactRequestCounters *c)
{
  if (c == NULL)
    return;
  for (guint i = 0; i < c->n_editions; i++) {
    g_free (c->editions[i]->name);
    g_free (c->editions[i]);
  }
  g_hash_table_destroy (c->by_name);
  g_free (c);
}

static EditionSlot *
edition_slot (VolactRequestCounters *c, const char *edition)
{
  EditionSlot *e = g_hash_table_lookup (c->by_name, edition);

  if (e != NULL)
    return e;
  if (c->n_editions == VOLACT_REQUEST_COUNTERS_MAX_EDITIONS) {
    if (!c->full_logged)
      g_warning ("metrics: more than %u editions; requests for %s and later ones are not counted",
                 VOLACT_REQUEST_COUNTERS_MAX_EDITIONS, edition);
    c->full_logged = TRUE;
    return NULL;
  }
  e = g_new0 (EditionSlot, 1);
  e->name = g_strdup (edition);
  g_hash_table_insert (c->by_name, e->name, e);
  c->editions[c->n_editions] = e;
  __atomic_store_n (&c->n_editions, c->n_editions + 1, __ATOMIC_RELEASE);
  return e;
}

void
volact_request_counters_add (VolactRequestCounters *c, const char *edition, guint32 result)
{
  EditionSlot *e = edition_slot (c, edition != NULL ? edition : "");
  ResultSlot *r;
  guint i;

  if (e == NULL)
    return;
  for (i = 0; i < e->n_results && e->results[i].code != result; i++)
    ;
  if (i == VOLACT_REQUEST_COUNTERS_MAX_RESULTS)
    return; /* the answering path has six codes: cannot happen */
  r = &e->results[i];
  if (i == e->n_results) {
    r->code = result;
    __atomic_store_n (&e->n_results, i + 1, __ATOMIC_RELEASE);
  }
  /* One writer: a plain load and store, atomic only so that readers see whole values. */
  __atomic_store_n (&r->count, __atomic_load_n (&r->count, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

void
volact_request_counters_foreach (const VolactRequestCounters *c, VolactRequestCountFunc func,
                                 gpointer user_data)
{
  guint n = __atomic_load_n (&c->n_editions, __ATOMIC_ACQUIRE);

  for (guint i = 0; i < n; i++) {
    const EditionSlot *e = c->editions[i];
    guint m = __atomic_load_n (&e->n_results, __ATOMIC_ACQUIRE);
    for (guint j = 0; j < m; j++)
      func (e->name, e->results[j].code, __atomic_load_n (&e->results[j].count, __ATOMIC_RELAXED),
            user_data);
  }
}
