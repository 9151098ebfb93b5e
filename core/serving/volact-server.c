/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client listener's event loop (docs/protocol.md): the listening sockets
 * (opened by volact-listen.c) and every connection (volact-conn.c) in one
 * epoll set, watched by one GSource in the main context; accepting, pausing
 * when descriptors run out, the once-a-second sweep and the commit
 * notifications. Nothing here decides what a client is told
 * (volact-answer.c does).
 */
#include "config.h"

#include "volact-transport.h"

#include "volact-error.h"

#include <errno.h>
#include <glib-unix.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- small helpers ---------------------------------------------------------------------- */

void
volact_transport_stamp (VolactServer *s)
{
  s->now = g_get_monotonic_time ();
  s->wall = g_get_real_time () / G_USEC_PER_SEC;
}

gboolean
volact_transport_log_due (VolactServer *s, gint64 *last)
{
  if (*last != 0 && s->now - *last < LOG_INTERVAL)
    return FALSE;
  *last = s->now;
  return TRUE;
}

/* ---- accepting -------------------------------------------------------------------------- */

static gboolean on_resume_accepting (gpointer user_data);

/* Calls on_resume_accepting after MS, unless a call is already due. */
static void
schedule_resume (VolactServer *s, guint ms)
{
  if (s->resume_source != NULL)
    return;
  s->resume_source = g_timeout_source_new (ms);
  g_source_set_callback (s->resume_source, on_resume_accepting, s, NULL);
  g_source_attach (s->resume_source, s->context);
}

/*
 * Adds every listener to the epoll set (ON) or takes it out. Returns FALSE,
 * with ERROR set, if a listener could not be added: it stays out (a client
 * connecting to it would wait forever), so the caller must retry.
 */
static gboolean
arm_listeners (VolactServer *s, gboolean on, GError **error)
{
  gboolean ok = TRUE;

  for (guint i = 0; i < s->n_listeners; i++) {
    Listener *l = &s->listeners[i];
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &l->item };
    int e;

    if (l->armed == on)
      continue;
    if (epoll_ctl (s->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, l->item.fd, &ev) == 0
        || (on && errno == EEXIST) || (!on && errno == ENOENT)) {
      l->armed = on;
      continue;
    }
    e = errno;
    if (!on) {
      /* Still armed: it keeps accepting, which is the lesser evil. */
      g_warning ("cannot pause the client listener on %s: %s", l->where, g_strerror (e));
      continue;
    }
    if (ok)
      g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED,
                   "cannot watch the client listener on %s: epoll_ctl: %s", l->where,
                   g_strerror (e));
    ok = FALSE;
  }
  return ok;
}

/* Re-arms the listeners; a failure is logged and retried until it succeeds (never silent). */
static void
resume_accepting (VolactServer *s)
{
  g_autoptr (GError) error = NULL;

  if (arm_listeners (s, TRUE, &error)) {
    if (s->arm_error_logged != 0) {
      g_message ("accepting client connections again");
      s->arm_error_logged = 0;
    }
    return;
  }
  if (volact_transport_log_due (s, &s->arm_error_logged))
    g_warning ("%s; clients cannot connect; retrying every %u ms", error->message, REARM_RETRY_MS);
  schedule_resume (s, REARM_RETRY_MS);
}

static gboolean
on_resume_accepting (gpointer user_data)
{
  VolactServer *s = user_data;

  g_clear_pointer (&s->resume_source, g_source_unref);
  volact_transport_stamp (s);
  resume_accepting (s);
  return G_SOURCE_REMOVE;
}

static void
log_refused (VolactServer *s)
{
  if (s->refused_unlogged == 0 || !volact_transport_log_due (s, &s->refused_logged))
    return;
  g_warning ("max-connections (%u) reached: refused %" G_GUINT64_FORMAT
             " connection(s) since the last notice",
             s->max_conns, s->refused_unlogged);
  s->refused_unlogged = 0;
}

void
volact_transport_limited (VolactServer *s, VolactSource *src, VolactLimitKind kind)
{
  static const char *const what[VOLACT_LIMIT_N_KINDS] = {
    [VOLACT_LIMIT_RATE] = "its request rate (rate-limit, rate-burst); it is answered HOST_BUSY",
    [VOLACT_LIMIT_CONNECTIONS] = "its concurrent connections (max-connections-per-source); "
                                 "new ones are closed at once",
    [VOLACT_LIMIT_NEW_CMIDS] = "its new machine IDs (new-cmid-limit per new-cmid-window); "
                               "new ones are refused with NEW_CMID_LIMIT",
  };
  char text[VOLACT_LIMITS_SOURCE_TEXT];
  gboolean became;
  guint64 suppressed;

  if (!volact_limits_refused (s->limits, src, kind, s->now, &became, &suppressed)) {
    if (became)
      STAT_INC (s, limited_sources);
    return;
  }
  STAT_INC (s, limited_sources);
  volact_limits_source_text (src, text);
  volact_host_event (s->host,
                     kind == VOLACT_LIMIT_NEW_CMIDS ? VOLACT_EVENT_NEW_CMID_LIMIT
                                                    : VOLACT_EVENT_SOURCE_LIMITED,
                     "client source %s limited by %s (docs/limits.md)%s%" G_GUINT64_FORMAT "%s",
                     text, what[kind], suppressed ? "; " : "", suppressed,
                     suppressed ? " more source(s) were limited without an event" : "");
}

/*
 * The table is full: closes the connection that has waited longest for a
 * request (issue 10, finding 1: idle connections must not lock real clients
 * out). FALSE if every connection is busy with a request.
 */
static gboolean
close_oldest_idle (VolactServer *s)
{
  Conn *oldest = NULL;

  for (guint i = 0; i < s->active->len; i++) {
    Conn *c = g_ptr_array_index (s->active, i);
    if (c->state == CONN_READ && c->in_len == 0 && (oldest == NULL || c->since < oldest->since))
      oldest = c;
  }
  if (oldest == NULL)
    return FALSE;
  STAT_INC (s, idle_closed);
  volact_conn_close (s, oldest);
  return TRUE;
}

static const guint8 *
peer_bytes (const struct sockaddr_storage *sa)
{
  if (sa->ss_family == AF_INET)
    return (const guint8 *) &((const struct sockaddr_in *) sa)->sin_addr;
  return (const guint8 *) &((const struct sockaddr_in6 *) sa)->sin6_addr;
}

static void
on_listener (VolactServer *s, Item *l)
{
  for (guint i = 0; i < ACCEPT_BATCH; i++) {
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    VolactSource *src;
    int fd = accept4 (l->fd, (struct sockaddr *) &sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0) {
      int e = errno;
      if (e == EAGAIN || e == EWOULDBLOCK)
        return;
      if (e == EINTR || e == ECONNABORTED || e == EPROTO || e == EPERM)
        continue;
      if (volact_transport_log_due (s, &s->accept_error_logged))
        g_warning ("cannot accept client connections: %s", g_strerror (e));
      if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
        /* Level-triggered listeners would spin: pause them briefly. */
        arm_listeners (s, FALSE, NULL);
        schedule_resume (s, ACCEPT_PAUSE_MS);
      }
      return;
    }
    src = volact_limits_source (s->limits, sa.ss_family, peer_bytes (&sa), s->now);
    STAT_SET (s, sources, volact_limits_size (s->limits));
    if (!volact_limits_conn_open (s->limits, src)) {
      close (fd);
      STAT_INC (s, source_refused);
      volact_transport_limited (s, src, VOLACT_LIMIT_CONNECTIONS);
      continue;
    }
    if (s->active->len >= s->max_conns && !close_oldest_idle (s)) {
      volact_limits_conn_close (s->limits, src);
      close (fd);
      STAT_INC (s, refused);
      s->refused_unlogged++;
      log_refused (s);
      continue;
    }
    volact_conn_open (s, fd, &sa, src);
  }
}

/* ---- main-loop callbacks ---------------------------------------------------------------- */

static gboolean on_sweep (gpointer user_data);

static void
ensure_sweep (VolactServer *s)
{
  if (s->sweep_source != NULL || s->active->len == 0)
    return;
  s->sweep_source = g_timeout_source_new_seconds (1);
  g_source_set_callback (s->sweep_source, on_sweep, s, NULL);
  g_source_attach (s->sweep_source, s->context);
}

static gboolean
on_epoll (gint fd, GIOCondition condition, gpointer user_data)
{
  VolactServer *s = user_data;
  struct epoll_event events[MAX_EVENTS];
  int n = epoll_wait (s->epfd, events, MAX_EVENTS, 0);

  volact_transport_stamp (s);
  s->in_dispatch = TRUE;
  for (int i = 0; i < n; i++) {
    Item *item = events[i].data.ptr;

    if (item->kind == ITEM_LISTENER)
      on_listener (s, item);
    else if (item->kind == ITEM_WAKE)
      volact_conn_on_wake (s);
    else
      volact_conn_event (s, (Conn *) item, events[i].events);
  }
  s->in_dispatch = FALSE;
  volact_conn_reap (s);
  ensure_sweep (s);
  return G_SOURCE_CONTINUE;
}

static void
on_commit (guint64 ticket, gpointer user_data)
{
  VolactServer *s = user_data;
  gboolean nested = s->in_dispatch;

  volact_transport_stamp (s);
  s->in_dispatch = TRUE;
  volact_conn_committed (s, ticket);
  s->in_dispatch = nested;
  volact_conn_reap (s);
}

/* Once a second while connections are open: slow, idle and stuck connections. */
static gboolean
on_sweep (gpointer user_data)
{
  VolactServer *s = user_data;

  volact_transport_stamp (s);
  log_refused (s);
  s->in_dispatch = TRUE;
  volact_conn_sweep (s);
  s->in_dispatch = FALSE;
  volact_conn_reap (s);
  if (s->active->len == 0) {
    g_clear_pointer (&s->sweep_source, g_source_unref);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

/* ---- public API ------------------------------------------------------------------------- */

/* VOLACT_SERVER_SIGN_THREADS=N: sign on N workers that report through an eventfd. */
static void
start_sign_threads (VolactServer *s, const char *threads)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->wake };

  s->wake.fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s->wake.fd < 0 || epoll_ctl (s->epfd, EPOLL_CTL_ADD, s->wake.fd, &ev) != 0) {
    int e = errno;
    g_warning ("VOLACT_SERVER_SIGN_THREADS: cannot set up the workers' wake-up (%s); "
               "signing inline",
               g_strerror (e));
    if (s->wake.fd >= 0)
      close (s->wake.fd);
    s->wake.fd = -1;
    return;
  }
  s->sign_threads = (guint) MIN (atoi (threads), 64);
  g_message ("signing responses on %u worker threads", s->sign_threads);
}

/*
 * MAX_CONNS, lowered so that the descriptor limit keeps FD_RESERVE for the
 * administration socket, the web listener and the record store (issue 10,
 * finding 1: at the limit, accept failed and volactctl hung too).
 */
static guint
clamp_to_descriptors (guint max_conns)
{
  struct rlimit rl;
  guint room;

  if (getrlimit (RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return max_conns;
  room = rl.rlim_cur > 2 * FD_RESERVE ? (guint) MIN (rl.rlim_cur - FD_RESERVE, G_MAXUINT)
                                      : (guint) rl.rlim_cur / 2;
  if (max_conns <= room)
    return max_conns;
  g_warning ("max-connections %u does not fit the descriptor limit of %llu with %u kept for the "
             "administration side; serving at most %u client connections",
             max_conns, (unsigned long long) rl.rlim_cur, FD_RESERVE, room);
  return MAX (room, 1);
}

VolactServer *
volact_server_start (VolactHost *host, VolactRecords *records, GError **error)
{
  const VolactConfig *cfg;
  VolactLimitsConfig limits;
  VolactServer *s;
  const char *threads;

  g_return_val_if_fail (host != NULL, NULL);
  g_return_val_if_fail (records != NULL, NULL);

  cfg = volact_host_config (host);
  s = g_new0 (VolactServer, 1);
  s->host = host;
  s->records = records;
  s->context = g_main_context_ref_thread_default ();
  s->active = g_ptr_array_new ();
  s->answers = volact_request_counters_new ();
  s->chunks = g_ptr_array_new_with_free_func (g_free);
  s->max_conns = clamp_to_descriptors (MAX (cfg->max_connections, 1));
  limits = (VolactLimitsConfig){
    .rate = cfg->rate_limit,
    .burst = cfg->rate_burst,
    .connections = cfg->max_connections_per_source,
    .new_cmids = cfg->new_cmid_limit,
    .window = cfg->new_cmid_window,
    /* Sources holding connections are never forgotten: keep room beyond them. */
    .capacity = MAX (cfg->limit_sources, s->max_conns + 64),
    .exempt = cfg->limit_exempt,
  };
  s->limits = volact_limits_new (&limits);
  s->port = volact_host_port (host);
  s->wake.kind = ITEM_WAKE;
  s->wake.fd = -1;
  s->epfd = -1;
  g_mutex_init (&s->done_lock);
  volact_transport_stamp (s);

  s->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (s->epfd < 0) {
    int e = errno;
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "epoll: %s", g_strerror (e));
    goto fail;
  }
  s->sockets = volact_listen_open ((const char *const *) cfg->listen, &s->port, error);
  if (s->sockets == NULL)
    goto fail;
  s->n_listeners = s->sockets->len;
  s->listeners = g_new0 (Listener, s->n_listeners);
  for (guint i = 0; i < s->n_listeners; i++) {
    const VolactListener *vl = g_ptr_array_index (s->sockets, i);
    s->listeners[i].item = (Item){ ITEM_LISTENER, vl->fd };
    s->listeners[i].where = vl->where;
  }

  /* Inline signing measured best on 2 cores (bench/README.md); this is for other machines. */
  threads = g_getenv ("VOLACT_SERVER_SIGN_THREADS");
  if (threads != NULL && atoi (threads) > 0)
    start_sign_threads (s, threads);

  if (!arm_listeners (s, TRUE, error))
    goto fail;
  s->epoll_source = g_unix_fd_source_new (s->epfd, G_IO_IN);
  g_source_set_callback (s->epoll_source, (GSourceFunc) (void (*) (void)) on_epoll, s, NULL);
  /* Not blocked while it runs: GLib blocks a dispatching source by taking its descriptor out
   * of the poll set and putting it back, and each of the two wakes the context (an eventfd
   * write, then an extra poll round), two wasted wake-ups per dispatch on a lone client's
   * path. on_epoll never iterates the context, so it cannot be re-entered. */
  g_source_set_can_recurse (s->epoll_source, TRUE);
  g_source_attach (s->epoll_source, s->context);
  volact_records_on_commit (records, on_commit, s);
  return s;

fail:
  volact_server_stop (s);
  return NULL;
}

void
volact_server_stop (VolactServer *s)
{
  if (s == NULL)
    return;
  if (s->epoll_source != NULL)
    volact_records_on_commit (s->records, NULL, NULL);
  if (s->pool != NULL)
    g_thread_pool_free (s->pool, FALSE, TRUE); /* waits for running jobs */
  s->pool = NULL;
  if (s->wake.fd >= 0)
    volact_conn_on_wake (s); /* finished jobs: back to the free list */
  if (s->epoll_source != NULL)
    g_source_destroy (s->epoll_source);
  if (s->sweep_source != NULL)
    g_source_destroy (s->sweep_source);
  if (s->resume_source != NULL)
    g_source_destroy (s->resume_source);
  g_clear_pointer (&s->epoll_source, g_source_unref);
  g_clear_pointer (&s->sweep_source, g_source_unref);
  g_clear_pointer (&s->resume_source, g_source_unref);
  while (s->active->len > 0)
    volact_conn_close (s, g_ptr_array_index (s->active, s->active->len - 1));
  volact_conn_reap (s);
  volact_conn_free_jobs (s);
  g_clear_pointer (&s->sockets, g_ptr_array_unref); /* closes the listening sockets */
  g_free (s->listeners);
  if (s->wake.fd >= 0)
    close (s->wake.fd);
  if (s->epfd >= 0)
    close (s->epfd);
  g_ptr_array_free (s->active, TRUE);
  g_ptr_array_free (s->chunks, TRUE);
  g_free (s->ring);
  volact_limits_free (s->limits);
  volact_request_counters_free (s->answers);
  g_mutex_clear (&s->done_lock);
  g_main_context_unref (s->context);
  g_free (s);
}

guint
volact_server_port (VolactServer *s)
{
  g_return_val_if_fail (s != NULL, 0);
  return s->port;
}

#define STAT_GET(s, field) __atomic_load_n (&(s)->stats.field, __ATOMIC_RELAXED)

void
volact_server_get_stats (VolactServer *s, VolactServerStats *out)
{
  g_return_if_fail (s != NULL && out != NULL);
  out->connections = STAT_GET (s, connections);
  out->pending = STAT_GET (s, pending);
  out->accepted = STAT_GET (s, accepted);
  out->refused = STAT_GET (s, refused);
  out->requests = STAT_GET (s, requests);
  out->signed_responses = STAT_GET (s, signed_responses);
  out->error_responses = STAT_GET (s, error_responses);
  out->malformed = STAT_GET (s, malformed);
  out->timeouts = STAT_GET (s, timeouts);
  out->busy_responses = STAT_GET (s, busy_responses);
  out->sources = STAT_GET (s, sources);
  out->limited_sources = STAT_GET (s, limited_sources);
  out->rate_limited = STAT_GET (s, rate_limited);
  out->source_refused = STAT_GET (s, source_refused);
  out->idle_closed = STAT_GET (s, idle_closed);
  out->new_cmid_limited = STAT_GET (s, new_cmid_limited);
}

void
volact_server_foreach_answer (VolactServer *s, VolactRequestCountFunc func, gpointer user_data)
{
  g_return_if_fail (s != NULL && func != NULL);
  volact_request_counters_foreach (s->answers, func, user_data);
}
