/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * Requests answered, by edition and result code, for the metrics
 * (core/metrics/volact-metrics.h). One thread adds (the client server's),
 * any thread reads: the writer publishes each new edition and code with a
 * release store and bumps counts with relaxed atomic stores, so the hot path
 * takes no lock and allocates only the first time an edition is seen.
 */
#ifndef VOLACT_REQUEST_COUNTERS_H
#define VOLACT_REQUEST_COUNTERS_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VolactRequestCounters VolactRequestCounters;

/** Editions kept apart; requests for more are not counted (logged once). */
#define VOLACT_REQUEST_COUNTERS_MAX_EDITIONS 1024
/** Distinct result codes kept per edition (the answering path has six). */
#define VOLACT_REQUEST_COUNTERS_MAX_RESULTS 16

VolactRequestCounters *volact_request_counters_new (void);
void volact_request_counters_free (VolactRequestCounters *counters);

/**
 * Counts one request for EDITION ("" when it cannot be attributed to a
 * known edition) answered with RESULT. Only ever from one thread at a time.
 */
void volact_request_counters_add (VolactRequestCounters *counters, const char *edition,
                                  guint32 result);

typedef void (*VolactRequestCountFunc) (const char *edition, guint32 result, guint64 count,
                                        gpointer user_data);
/** Calls FUNC for every (edition, result) counted so far, in the order first seen. Any thread. */
void volact_request_counters_foreach (const VolactRequestCounters *counters,
                                      VolactRequestCountFunc func, gpointer user_data);

G_END_DECLS

#endif
