/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * Answering a client request (docs/protocol.md): the policy half of the
 * client listener, apart from the transport (volact-server.c) as Knot keeps
 * query processing apart from its TCP handler. No sockets, no main loop:
 * given a decoded request, the serving snapshot and the record store, it
 * decides the answer, records the visit, and says what to send. The
 * transport only signs (inline or on a worker) and moves the bytes.
 */
#ifndef VOLACT_ANSWER_H
#define VOLACT_ANSWER_H

#include <glib.h>

#include "volact-catalog.h"
#include "volact-host.h"
#include "volact-limits.h"
#include "volact-protocol.h"
#include "volact-records.h"

G_BEGIN_DECLS

/** The intervals a client gets when no application's policy applies (DESIGN.md defaults). */
#define VOLACT_DEFAULT_ACTIVATION_INTERVAL 120
#define VOLACT_DEFAULT_RENEWAL_INTERVAL 10080

/** What to send for one request. */
typedef struct {
  /**
   * Non-zero: send an unsigned error response with this code at once
   * (NOT_ACTIVATED, HOST_BUSY, NEW_CMID_LIMIT); RESPONSE and TICKET are unused.
   */
  guint32 error_code;
  /** Zero error_code: the response to sign (everything but the signature is set). */
  VolactResponse response;
  /** Zero error_code: send the signed response only once this record ticket is durable. */
  guint64 ticket;
  /** The catalog's id of the requested edition (valid while ST is held), or "" if unknown. */
  const char *edition;
} VolactAnswer;

/**
 * Decides the answer to REQ from the client at ADDRESS (text), at unix time
 * NOW, with the serving snapshot ST (NULL: treated as not activated), and
 * records the visit in RECORDS: counted when the host's key group covers a
 * known edition, else logged as a refusal. The result codes are those of
 * docs/protocol.md: 0 at or over the edition's minimum count,
 * COUNT_INSUFFICIENT under it, EDITION_NOT_COVERED, EDITION_UNKNOWN; the
 * error responses NOT_ACTIVATED and HOST_BUSY (the record store is full,
 * nothing counted). The intervals are resolved per application (see
 * volact_answer_intervals). Thread-safe as RECORDS is.
 */
void volact_answer_decide (const VolactServingState *st, VolactRecords *records,
                           const VolactRequest *req, const char *address, gint64 now,
                           VolactAnswer *out);

/**
 * volact_answer_decide for a client of SOURCE in LIMITS (volact-limits.h;
 * both NULL: no limits) at monotonic time MONO (µs): a request that would
 * add a new machine ID to its pool while SOURCE's quota of new machine IDs
 * is used up gets the error response NEW_CMID_LIMIT and records nothing; a
 * new machine ID that is counted takes one from the quota.
 */
void volact_answer_decide_from (const VolactServingState *st, VolactRecords *records,
                                const VolactRequest *req, const char *address, gint64 now,
                                VolactLimits *limits, VolactSource *source, gint64 mono,
                                VolactAnswer *out);

/**
 * The intervals (minutes) a client of APP receives: the host's sai/sri
 * overrides in ST when set, else APP's policy. With APP NULL (an unknown
 * edition), the value every application of ST's catalog shares, or the
 * defaults when they differ or there is none.
 */
void volact_answer_intervals (const VolactServingState *st, const VolactApplication *app,
                              guint *activation, guint *renewal);

/**
 * Adds the interval fields of `volactctl dli` to D: activation_interval and
 * renewal_interval (the override when set, else the value all of CATALOG's
 * applications share; absent when they differ), and activation_intervals
 * and renewal_intervals, one entry per count pool (a{su}, like
 * current_count). ACTIVATION_OVERRIDE and RENEWAL_OVERRIDE are the sai and
 * sri settings, 0 when not set.
 */
void volact_answer_describe_intervals (GVariantDict *d, const VolactCatalog *catalog,
                                       guint activation_override, guint renewal_override);

G_END_DECLS

#endif
