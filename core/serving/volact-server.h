/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The client listener of volactd (docs/protocol.md): accepts TCP connections
 * on every configured address (or the sockets systemd passes, see
 * volact-listen.h), frames and decodes requests, has volact-answer.h decide
 * and record each answer, signs the responses and sends each one only after
 * its record is committed. The transport never decides what a client is told.
 *
 * All I/O is non-blocking and runs in the thread-default main context of the
 * thread that calls volact_server_start(), through one epoll set watched by
 * one GSource: no GObject and no GSource per connection, no allocation per
 * request. Signing happens inline on that thread by default (measured best
 * on the 2-core reference machine, see bench/README.md);
 * VOLACT_SERVER_SIGN_THREADS=N in the environment moves it to N worker
 * threads instead, for measurements on larger machines.
 */
#ifndef VOLACT_SERVER_H
#define VOLACT_SERVER_H

#include <glib.h>

#include "volact-host.h"
#include "volact-records.h"
#include "volact-request-counters.h"

G_BEGIN_DECLS

typedef struct _VolactServer VolactServer;

/** Counters since start (safe to read from any thread: see volact_server_get_stats). */
typedef struct {
  guint connections;        /* open now */
  guint pending;            /* responses waiting for their record's commit */
  guint64 accepted;         /* connections accepted and served */
  guint64 refused;          /* connections closed at once: max-connections held by busy ones */
  guint64 requests;         /* requests decoded */
  guint64 signed_responses; /* signed responses sent */
  guint64 error_responses;  /* error responses sent */
  guint64 malformed;        /* connections closed for bad input */
  guint64 timeouts;         /* connections closed as slow or idle */
  guint64 busy_responses;   /* HOST_BUSY sent after the answer: commit timeout, signing failure */
  /* Per-source limits (docs/limits.md). */
  guint sources;              /* sources tracked now */
  guint64 limited_sources;    /* times a source became limited (rate, connections, new CMIDs) */
  guint64 rate_limited;       /* requests answered HOST_BUSY by the per-source rate limit */
  guint64 source_refused;     /* connections closed at once: the source's connection cap */
  guint64 idle_closed;        /* idle connections closed to make room for a new one */
  guint64 new_cmid_limited;   /* requests refused by the per-source new machine ID quota */
} VolactServerStats;

/**
 * Starts listening on volact_host_port(HOST) at every address of the
 * configuration's `listen` key ("::" is IPv6-only, so "0.0.0.0;::" binds
 * both), or, under systemd socket activation (LISTEN_PID is this process),
 * on the passed sockets, which must be listening TCP sockets. Registers for
 * RECORDS' commit notifications. Errors: CONFIG (bad address or passed
 * socket), FAILED (socket or bind failure, or a listener epoll cannot
 * watch, naming the address and port). Later, a listener that epoll refuses
 * to watch again (after running out of descriptors) is logged and retried
 * every second, never left silently dead.
 */
VolactServer *volact_server_start (VolactHost *host, VolactRecords *records, GError **error);

/** Closes every connection and listener; responses still waiting for a commit are dropped. */
void volact_server_stop (VolactServer *server);

/** The port bound (the real one when the configuration asked for port 0). */
guint volact_server_port (VolactServer *server);

/**
 * Fills OUT with the counters. Safe from any thread while the server runs
 * (each value is read atomically; together they are not one instant).
 */
void volact_server_get_stats (VolactServer *server, VolactServerStats *out);

/**
 * Calls FUNC for each (edition, result) with the number of requests decided
 * so far (volact_answer_decide's result or error code); edition "" for
 * requests naming an edition the catalog does not know. Any thread.
 */
void volact_server_foreach_answer (VolactServer *server, VolactRequestCountFunc func,
                                   gpointer user_data);

G_END_DECLS

#endif
