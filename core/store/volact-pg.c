/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The connection to the shared store: URI checks, connecting and
 * reconnecting, prepared statements with bound parameters, and SERIALIZABLE
 * transactions retried on serialization failures. The schema lives in
 * volact-pg-schema.c.
 */
#include "config.h"

#include "volact-pg-private.h"

#include "volact-error.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include <gio/gio.h>

#define CONNECT_TIMEOUT_S "5"
/* How much longer than statement_timeout the host waits for any answer: the server's own
 * cancel (and its error) comes first whenever the server is running at all. */
#define ANSWER_MARGIN_S 2
/* Back-off between attempts of a transaction: 10 ms doubling up to 640 ms,
 * each wait drawn from [d/2, d] so that two hosts that collided do not
 * collide again in lockstep. */
#define BACKOFF_BASE_MS 10
#define BACKOFF_MAX_SHIFT 6

struct _VolactPg {
  PGconn *conn;
  char *host_name;
  guint timeout_s;      /* statement_timeout; answers are awaited ANSWER_MARGIN_S longer */
  gboolean timed_out;   /* a command went unanswered: the connection is given up */
  GHashTable *prepared; /* statement names prepared on this connection */
  char sqlstate[6];
};

/* libpq's message on one line: its hints come after "\n\t". */
static char *
one_line (const char *message)
{
  g_auto (GStrv) lines = g_strsplit (message, "\n", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++) {
    g_strstrip (lines[i]);
    if (*lines[i] == '\0')
      continue;
    if (out->len > 0)
      g_string_append (out, "; ");
    g_string_append (out, lines[i]);
  }
  return g_string_free (out, FALSE);
}

/* ---------------------------------------------------------------- URI checks */

/* A unix socket (a path, an abstract socket, or none: the default socket) or
 * a loopback address: traffic that never leaves the machine. */
static gboolean
host_is_local (const char *host)
{
  g_autoptr (GInetAddress) addr = NULL;

  if (host == NULL || *host == '\0' || *host == '/' || *host == '@')
    return TRUE;
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  addr = g_inet_address_new_from_string (host);
  return addr != NULL && g_inet_address_get_is_loopback (addr);
}

/* The first host of the comma-separated list @hosts that is not local, or NULL. */
static char *
first_remote_host (const char *hosts)
{
  g_auto (GStrv) list = NULL;

  if (hosts == NULL || *hosts == '\0')
    return NULL;
  list = g_strsplit (hosts, ",", -1);
  for (guint i = 0; list[i] != NULL; i++) {
    if (!host_is_local (g_strstrip (list[i])))
      return g_strdup (list[i]);
  }
  return NULL;
}

static const char *
option_value (const PQconninfoOption *options, const char *keyword)
{
  for (const PQconninfoOption *o = options; o->keyword != NULL; o++) {
    if (strcmp (o->keyword, keyword) == 0)
      return o->val != NULL && *o->val != '\0' ? o->val : NULL;
  }
  return NULL;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PQconninfoOption, PQconninfoFree)

gboolean
volact_pg_uri_check (const char *uri, GError **error)
{
  g_autoptr (PQconninfoOption) options = NULL;
  g_autofree char *remote = NULL;
  const char *sslmode;
  char *parse_error = NULL;

  if (uri == NULL
      || (!g_str_has_prefix (uri, "postgresql://") && !g_str_has_prefix (uri, "postgres://"))) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "store URI: must start with postgresql:// (docs/store.md)");
    return FALSE;
  }
  if (!volact_pq_load (error))
    return FALSE;
  options = PQconninfoParse (uri, &parse_error);
  if (options == NULL) {
    g_autofree char *text = one_line (parse_error != NULL ? parse_error : "out of memory");
    PQfreemem (parse_error);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "store URI: %s", text);
    return FALSE;
  }
  if (option_value (options, "password") != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "store URI: key \"password\": volact refuses a password in the URI; put it in "
                 "a passfile (PGPASSFILE or passfile=)");
    return FALSE;
  }
  /* What libpq will use: the URI's value, else its environment variable. */
  remote
      = first_remote_host (option_value (options, "host") != NULL ? option_value (options, "host")
                                                                  : g_getenv ("PGHOST"));
  if (remote == NULL)
    remote = first_remote_host (option_value (options, "hostaddr") != NULL
                                    ? option_value (options, "hostaddr")
                                    : g_getenv ("PGHOSTADDR"));
  if (remote == NULL)
    return TRUE;
  sslmode = option_value (options, "sslmode");
  if (sslmode == NULL)
    sslmode = g_getenv ("PGSSLMODE");
  if (sslmode == NULL || strcmp (sslmode, "verify-full") != 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "store URI: key \"sslmode\" is %s%s%s for host \"%s\", which is neither "
                 "loopback nor a unix socket: a remote store needs sslmode=verify-full "
                 "(with sslrootcert=FILE)",
                 sslmode != NULL ? "\"" : "", sslmode != NULL ? sslmode : "not set",
                 sslmode != NULL ? "\"" : "", remote);
    return FALSE;
  }
  return TRUE;
}

/* ---------------------------------------------------------------- errors */

/* Whether the failure means the connection is gone (class 08, or the server
 * shutting down: 57P01..57P03), not that the statement was wrong. */
static gboolean
connection_lost (VolactPg *pg)
{
  return pg->timed_out || PQstatus (pg->conn) != CONNECTION_OK
         || g_str_has_prefix (pg->sqlstate, "08") || strcmp (pg->sqlstate, "57P01") == 0
         || strcmp (pg->sqlstate, "57P02") == 0 || strcmp (pg->sqlstate, "57P03") == 0;
}

/* Sets @error for a failed @what from @res (may be NULL) and records its SQLSTATE. */
static void
set_pg_error (VolactPg *pg, const PGresult *res, const char *what, GError **error)
{
  const char *state = res != NULL ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
  const char *primary = res != NULL ? PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  g_autofree char *text = one_line (primary != NULL ? primary : PQerrorMessage (pg->conn));

  g_strlcpy (pg->sqlstate, state != NULL ? state : "", sizeof pg->sqlstate);
  if (pg->timed_out)
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO,
                 "%s: the store did not answer within %u s; giving up the connection", what,
                 pg->timeout_s + ANSWER_MARGIN_S);
  else if (connection_lost (pg))
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: lost the connection to the store: %s", what,
                 text);
  else if (*pg->sqlstate != '\0')
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "%s: %s (SQLSTATE %s)", what, text,
                 pg->sqlstate);
  else
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "%s: %s", what, text);
}

/*
 * The result of the command just sent (SENT: what PQsend* returned), waiting for the server
 * at most timeout_s + ANSWER_MARGIN_S. statement_timeout runs on the server, so a server that
 * does not run at all (stopped, frozen, its machine paused, or cut off with packets dropped)
 * is bounded only by this wait: then the connection is given up (pg->timed_out, and every
 * later command fails at once until volact_pg_reset) and NULL returned. libpq's own PQexec
 * would wait for ever, holding every answer of the host with it. Several results (a
 * multi-statement string) give the last, as PQexec does.
 */
static PGresult *
await_result (VolactPg *pg, int sent)
{
  gint64 deadline
      = g_get_monotonic_time () + (gint64) (pg->timeout_s + ANSWER_MARGIN_S) * G_USEC_PER_SEC;
  PGresult *last = NULL, *r;

  if (pg->timed_out || !sent)
    return NULL;
  for (;;) {
    /* PQgetResult blocks while libpq is busy: wait for each result here, under the deadline
     * (a multi-statement string has one result per statement). */
    while (PQisBusy (pg->conn)) {
      struct pollfd p = { PQsocket (pg->conn), POLLIN, 0 };
      gint64 left = deadline - g_get_monotonic_time ();
      int n = left > 0 ? poll (&p, 1, (int) ((left + 999) / 1000)) : 0;
      if (n < 0 && errno == EINTR)
        continue;
      if (n == 0) {
        pg->timed_out = TRUE;
        PQclear (last);
        return NULL;
      }
      if (n < 0 || !PQconsumeInput (pg->conn))
        break; /* the connection failed: PQgetResult reports it */
    }
    if ((r = PQgetResult (pg->conn)) == NULL)
      return last;
    PQclear (last);
    last = r;
    if (PQstatus (pg->conn) == CONNECTION_BAD)
      return last;
  }
}

static PGresult *
run_simple (VolactPg *pg, const char *sql)
{
  return await_result (pg, pg->timed_out ? 0 : PQsendQuery (pg->conn, sql));
}

static gboolean
result_ok (const PGresult *res)
{
  return res != NULL
         && (PQresultStatus (res) == PGRES_COMMAND_OK || PQresultStatus (res) == PGRES_TUPLES_OK);
}

gboolean
volact_pg_exec_simple (VolactPg *pg, const char *sql, GError **error)
{
  g_autoptr (PGresult) res = NULL;

  pg->sqlstate[0] = '\0';
  res = run_simple (pg, sql);
  if (!result_ok (res)) {
    g_autofree char *what = g_strndup (sql, strcspn (sql, " ("));
    set_pg_error (pg, res, what, error);
    return FALSE;
  }
  return TRUE;
}

PGresult *
volact_pg_exec (VolactPg *pg, const char *name, const char *sql, int n_params,
                const char *const *params, GError **error)
{
  g_autoptr (PGresult) res = NULL;

  pg->sqlstate[0] = '\0';
  if (!g_hash_table_contains (pg->prepared, name)) {
    g_autoptr (PGresult) prep = await_result (
        pg, pg->timed_out ? 0 : PQsendPrepare (pg->conn, name, sql, n_params, NULL));
    if (!result_ok (prep)) {
      g_autofree char *what = g_strdup_printf ("preparing %s", name);
      set_pg_error (pg, prep, what, error);
      return NULL;
    }
    g_hash_table_add (pg->prepared, g_strdup (name));
  }
  res = await_result (
      pg,
      pg->timed_out ? 0 : PQsendQueryPrepared (pg->conn, name, n_params, params, NULL, NULL, 0));
  if (!result_ok (res)) {
    set_pg_error (pg, res, name, error);
    return NULL;
  }
  return g_steal_pointer (&res);
}

const char *
volact_pg_last_sqlstate (VolactPg *pg)
{
  return pg->sqlstate;
}

const char *
volact_pg_host_name (VolactPg *pg)
{
  return pg->host_name;
}

/* ---------------------------------------------------------------- connecting */

/* The server's notices ("relation ... already exists, skipping") are for
 * debugging, not for volactd's standard error. */
static void
notice_to_debug (void *data, const char *message)
{
  g_debug ("store: %.*s", (int) strcspn (message, "\n"), message);
}

/* What every connection needs after it is (re)established. */
static gboolean
session_setup (VolactPg *pg, GError **error)
{
  g_autofree char *timeout = g_strdup_printf ("SET statement_timeout = '%us'", pg->timeout_s);

  g_hash_table_remove_all (pg->prepared);
  if (!volact_pg_exec_simple (pg, timeout, error))
    return FALSE;
  return volact_pg_migrate (pg, error);
}

VolactPg *
volact_pg_connect (const char *uri, const char *host_name, guint timeout_s, GError **error)
{
  g_autoptr (VolactPg) pg = NULL;
  g_autofree char *app = NULL, *user_timeout = NULL;

  g_return_val_if_fail (host_name != NULL, NULL);
  if (!volact_pg_uri_check (uri, error))
    return NULL;
  timeout_s = timeout_s ? MIN (timeout_s, VOLACT_PG_TIMEOUT_MAX) : VOLACT_PG_TIMEOUT_DEFAULT;
  app = g_strdup_printf ("volactd (%s)", host_name);
  /* Unacknowledged data to a server cut off with packets dropped: the kernel gives up after
   * as long as the host waits for an answer (TCP_USER_TIMEOUT), not after its ~15 minutes of
   * retransmissions, so that a send cannot outlast the answer's wait. */
  user_timeout = g_strdup_printf ("%u", (timeout_s + ANSWER_MARGIN_S) * 1000);
  /* Keywords before dbname are defaults the URI may override; the ones after
   * it always win (PQconnectdbParams processes them in order). */
  const char *const keys[] = { "connect_timeout",
                               "keepalives",
                               "keepalives_idle",
                               "keepalives_interval",
                               "keepalives_count",
                               "tcp_user_timeout",
                               "dbname",
                               "application_name",
                               NULL };
  const char *const values[]
      = { CONNECT_TIMEOUT_S, "1", "30", "10", "3", user_timeout, uri, app, NULL };

  pg = g_new0 (VolactPg, 1);
  pg->host_name = g_strdup (host_name);
  pg->timeout_s = timeout_s;
  pg->prepared = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  pg->conn = PQconnectdbParams (keys, values, 1);
  if (pg->conn == NULL || PQstatus (pg->conn) != CONNECTION_OK) {
    g_autofree char *text
        = one_line (pg->conn != NULL ? PQerrorMessage (pg->conn) : "out of memory");
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "cannot connect to the store: %s", text);
    return NULL;
  }
  PQsetNoticeProcessor (pg->conn, notice_to_debug, NULL);
  if (!session_setup (pg, error)) {
    g_prefix_error (error, "store: ");
    return NULL;
  }
  return g_steal_pointer (&pg);
}

gboolean
volact_pg_reset (VolactPg *pg, GError **error)
{
  PQreset (pg->conn);
  pg->timed_out = FALSE;
  if (PQstatus (pg->conn) != CONNECTION_OK) {
    g_autofree char *text = one_line (PQerrorMessage (pg->conn));
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "cannot reconnect to the store: %s", text);
    return FALSE;
  }
  if (!session_setup (pg, error)) {
    g_prefix_error (error, "store: ");
    return FALSE;
  }
  return TRUE;
}

void
volact_pg_free (VolactPg *pg)
{
  if (pg == NULL)
    return;
  if (pg->conn != NULL)
    PQfinish (pg->conn);
  g_hash_table_unref (pg->prepared);
  g_free (pg->host_name);
  g_free (pg);
}

/* ---------------------------------------------------------------- transactions */

static gboolean
retryable (const char *sqlstate)
{
  return strcmp (sqlstate, "40001") == 0 || strcmp (sqlstate, "40P01") == 0;
}

/* One attempt: BEGIN, FUNC, COMMIT; on failure rolls back and leaves the
 * failing statement's SQLSTATE in pg->sqlstate. */
static gboolean
transact_once (VolactPg *pg, VolactPgFunc func, gpointer data, GError **error)
{
  g_autoptr (PGresult) res = NULL;

  if (!volact_pg_exec_simple (pg, "BEGIN ISOLATION LEVEL SERIALIZABLE", error))
    return FALSE;
  if (!func (pg, data, error)) {
    /* Keep the SQLSTATE of the failure, not of the ROLLBACK. */
    if (PQstatus (pg->conn) == CONNECTION_OK && PQtransactionStatus (pg->conn) != PQTRANS_IDLE)
      PQclear (run_simple (pg, "ROLLBACK"));
    return FALSE;
  }
  pg->sqlstate[0] = '\0';
  res = run_simple (pg, "COMMIT");
  if (!result_ok (res)) {
    set_pg_error (pg, res, "COMMIT", error);
    if (connection_lost (pg))
      g_prefix_error (error, "the transaction may or may not have committed: ");
    return FALSE;
  }
  /* COMMIT of a transaction in which a statement failed answers ROLLBACK. */
  if (strcmp (PQcmdStatus (res), "COMMIT") != 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED,
                 "COMMIT: the server rolled the transaction back (%s)", PQcmdStatus (res));
    return FALSE;
  }
  return TRUE;
}

typedef struct {
  VolactPgFunc func;
  gpointer data;
} Body;

static gboolean
transact_attempt (VolactPg *pg, gpointer data, GError **error)
{
  Body *body = data;

  return transact_once (pg, body->func, body->data, error);
}

typedef struct {
  const char *name, *sql;
  int n_params;
  const char *const *params;
} Statement;

static gboolean
statement_attempt (VolactPg *pg, gpointer data, GError **error)
{
  Statement *st = data;
  PGresult *res = volact_pg_exec (pg, st->name, st->sql, st->n_params, st->params, error);

  PQclear (res);
  return res != NULL;
}

/* Runs ATTEMPT until it succeeds, fails for good, or VOLACT_PG_MAX_ATTEMPTS serialization
 * failures or deadlocks, with a jittered back-off between attempts. */
static gboolean
with_retries (VolactPg *pg, VolactPgFunc attempt_func, gpointer data, GError **error)
{
  for (guint attempt = 1;; attempt++) {
    g_autoptr (GError) local = NULL;
    guint delay_ms;

    pg->sqlstate[0] = '\0';
    if (attempt_func (pg, data, &local))
      return TRUE;
    if (!retryable (pg->sqlstate) || connection_lost (pg)) {
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "transaction: ");
      return FALSE;
    }
    if (attempt >= VOLACT_PG_MAX_ATTEMPTS) {
      g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                  "transaction: gave up after %u attempts: ", attempt);
      return FALSE;
    }
    delay_ms = BACKOFF_BASE_MS << MIN (attempt - 1, BACKOFF_MAX_SHIFT);
    g_debug ("store: attempt %u: %s; retrying within %u ms", attempt, local->message, delay_ms);
    g_usleep ((gulong) g_random_int_range ((gint32) delay_ms / 2, (gint32) delay_ms + 1) * 1000);
  }
}

gboolean
volact_pg_transact (VolactPg *pg, VolactPgFunc func, gpointer data, GError **error)
{
  Body body = { func, data };

  return with_retries (pg, transact_attempt, &body, error);
}

gboolean
volact_pg_exec_retried (VolactPg *pg, const char *name, const char *sql, int n_params,
                        const char *const *params, GError **error)
{
  Statement st = { name, sql, n_params, params };

  return with_retries (pg, statement_attempt, &st, error);
}
