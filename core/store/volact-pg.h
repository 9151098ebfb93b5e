/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The host's connection to a shared store on PostgreSQL (issue 12,
 * docs/store.md): URI checks, connecting, the versioned schema, transactions
 * retried on serialization failures, and prepared statements with bound
 * parameters. libpq only. The SQL stays within what PostgreSQL-compatible
 * distributed engines also run: no advisory locks, no LISTEN/NOTIFY,
 * one-statement writes and explicit SERIALIZABLE transactions, both retried
 * on SQLSTATE 40001/40P01.
 *
 * Errors: VOLACT_E_CONFIG for a URI volact refuses, VOLACT_E_IO when the
 * server cannot be reached or the connection was lost (the caller goes
 * degraded and calls volact_pg_reset later), VOLACT_E_FAILED for an SQL error
 * (the message carries the server's text and its SQLSTATE) or a schema newer
 * than this host knows.
 *
 * A VolactPg is one connection: use it from one thread at a time.
 */
#ifndef VOLACT_PG_H
#define VOLACT_PG_H

#include <glib.h>
#include "volact-pq.h"

G_BEGIN_DECLS

/** The schema version this host creates and migrates to. */
#define VOLACT_PG_SCHEMA_VERSION 1
/** statement_timeout in seconds unless the caller gives one (store-timeout), and its most. */
#define VOLACT_PG_TIMEOUT_DEFAULT 10
#define VOLACT_PG_TIMEOUT_MAX 300
/** Attempts of one volact_pg_transact before a serialization failure is reported. */
#define VOLACT_PG_MAX_ATTEMPTS 10

typedef struct _VolactPg VolactPg;

/**
 * The body of a transaction (volact_pg_transact): runs statements through
 * volact_pg_exec. Returns FALSE with @error set to roll back; it may be
 * called again (a retry), so it must not keep effects outside the database
 * from a failed attempt.
 */
typedef gboolean (*VolactPgFunc) (VolactPg *pg, gpointer data, GError **error);

/**
 * Checks a store URI before any connection: `postgresql://` or `postgres://`
 * (libpq's URI syntax), no password in it (it belongs in a passfile:
 * PGPASSFILE or `passfile=`), and `sslmode=verify-full` whenever a host is
 * neither loopback nor a unix socket. Errors (VOLACT_E_CONFIG) name the key at
 * fault and never repeat the URI.
 */
gboolean volact_pg_uri_check (const char *uri, GError **error);

/**
 * Checks @uri (volact_pg_uri_check), connects (connect_timeout 5 s unless the
 * URI sets one, TCP keepalives, tcp_user_timeout, application_name
 * "volactd (HOST_NAME)"), sets statement_timeout to @timeout_s seconds (0:
 * VOLACT_PG_TIMEOUT_DEFAULT), then creates or migrates the schema to
 * VOLACT_PG_SCHEMA_VERSION. A database at a newer version is refused.
 * Every command afterwards waits for the server at most @timeout_s + 2 s:
 * past that the connection is given up (VOLACT_E_IO, "did not answer") and
 * every later command fails until volact_pg_reset. Returns NULL with @error
 * set on failure.
 */
VolactPg *volact_pg_connect (const char *uri, const char *host_name, guint timeout_s,
                             GError **error);

/** Closes the connection and frees @pg (NULL is ignored). */
void volact_pg_free (VolactPg *pg);

/**
 * Reconnects with the same parameters (after VOLACT_E_IO), forgets the
 * prepared statements, and checks the schema again. VOLACT_E_IO while the
 * server is still unreachable.
 */
gboolean volact_pg_reset (VolactPg *pg, GError **error);

/** The host name given to volact_pg_connect. */
const char *volact_pg_host_name (VolactPg *pg);

/**
 * Runs @func inside BEGIN ISOLATION LEVEL SERIALIZABLE ... COMMIT. On
 * SQLSTATE 40001 (serialization failure) or 40P01 (deadlock), rolls back,
 * waits a jittered back-off and runs @func again, at most
 * VOLACT_PG_MAX_ATTEMPTS times. A lost connection is not retried: VOLACT_E_IO.
 */
gboolean volact_pg_transact (VolactPg *pg, VolactPgFunc func, gpointer data, GError **error);

/**
 * Runs the statement @sql (as volact_pg_exec) as a transaction of its own,
 * in one round trip: the database's default isolation, and the same retries
 * as volact_pg_transact on a serialization failure or a deadlock. For a
 * write that one statement can make whole (data-modifying WITH clauses).
 */
gboolean volact_pg_exec_retried (VolactPg *pg, const char *name, const char *sql, int n_params,
                                 const char *const *params, GError **error);

/**
 * Runs the statement @sql with @n_params text parameters ($1..$n, NULL for
 * SQL NULL), prepared once per connection under @name (a constant naming
 * this SQL; the same name must always carry the same SQL). Returns the
 * result (PQclear it; g_autoptr (PGresult) works), or NULL with @error set.
 */
PGresult *volact_pg_exec (VolactPg *pg, const char *name, const char *sql, int n_params,
                          const char *const *params, GError **error);

/**
 * The SQLSTATE of the last failed statement on @pg ("" after a success or a
 * failure without one), e.g. "40001".
 */
const char *volact_pg_last_sqlstate (VolactPg *pg);

/**
 * Records that this host is alive at @now (unix seconds) in volact_hosts:
 * inserts it (first_seen = last_seen = @now) or raises last_seen, never
 * lowers it; stores this volactd's version. Runs in its own transaction.
 */
gboolean volact_pg_host_seen (VolactPg *pg, gint64 now, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactPg, volact_pg_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PGresult, PQclear)

G_END_DECLS

#endif
