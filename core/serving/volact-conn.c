/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Connections of the client listener (docs/protocol.md): framing, reading
 * and writing bytes, and handing each decoded request to the answering unit
 * (volact-answer.c), which decides; this file only signs (inline or on the
 * worker pool) and sends.
 *
 * A connection answers one request at a time: READ (gathering a request) ->
 * BUSY (counted; being signed and/or waiting for its record's commit) ->
 * written (READ again) or WRITE (socket full, EPOLLOUT armed). Bad input
 * gets an error response and a lingering close (LINGER: write side shut,
 * input discarded until EOF) so the client reads the error before the reset.
 * Responses wait in a ring ordered by record ticket and go out when
 * volact_records_on_commit reports their ticket durable.
 */
#include "config.h"

#include "volact-transport.h"

#include "volact-answer.h"
#include "volact-error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void conn_process (VolactServer *s, Conn *c);
static void conn_send (VolactServer *s, Conn *c);

/* ---- small helpers ---------------------------------------------------------------------- */

static void
peer_text (const Conn *c, char out[INET6_ADDRSTRLEN])
{
  static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  if (c->peer_family == AF_INET)
    inet_ntop (AF_INET, c->peer, out, INET6_ADDRSTRLEN);
  else if (memcmp (c->peer, mapped, sizeof mapped) == 0)
    inet_ntop (AF_INET, c->peer + 12, out, INET6_ADDRSTRLEN);
  else
    inet_ntop (AF_INET6, c->peer, out, INET6_ADDRSTRLEN);
}

/* ---- the pending ring ------------------------------------------------------------------- */

static void
pending_push (VolactServer *s, Conn *c, guint64 ticket)
{
  if (s->ring_len == s->ring_cap) {
    guint cap = s->ring_cap ? s->ring_cap * 2 : 256;
    Pending *ring = g_new (Pending, cap);
    for (guint i = 0; i < s->ring_len; i++)
      ring[i] = s->ring[(s->ring_head + i) % s->ring_cap];
    g_free (s->ring);
    s->ring = ring;
    s->ring_cap = cap;
    s->ring_head = 0;
  }
  s->ring[(s->ring_head + s->ring_len) % s->ring_cap] = (Pending){ c, c->serial, ticket };
  s->ring_len++;
  STAT_SET (s, pending, s->ring_len);
}

/* ---- connections ------------------------------------------------------------------------ */

static Conn *
conn_alloc (VolactServer *s)
{
  Conn *c;

  if (s->free_conns == NULL) {
    Conn *chunk = g_new0 (Conn, CONN_CHUNK);
    g_ptr_array_add (s->chunks, chunk);
    for (guint i = 0; i < CONN_CHUNK; i++) {
      chunk[i].item.kind = ITEM_CONN;
      chunk[i].item.fd = -1;
      chunk[i].state = CONN_CLOSED;
      chunk[i].next = s->free_conns;
      s->free_conns = &chunk[i];
    }
  }
  c = s->free_conns;
  s->free_conns = c->next;
  c->next = NULL;
  return c;
}

void
volact_conn_reap (VolactServer *s)
{
  if (s->in_dispatch)
    return;
  while (s->graveyard != NULL) {
    Conn *c = s->graveyard;
    s->graveyard = c->next;
    c->next = s->free_conns;
    s->free_conns = c;
  }
}

void
volact_conn_close (VolactServer *s, Conn *c)
{
  Conn *last;

  if (c->state == CONN_CLOSED)
    return;
  close (c->item.fd); /* also leaves the epoll set */
  c->item.fd = -1;
  volact_limits_conn_close (s->limits, c->source);
  c->source = NULL;
  c->state = CONN_CLOSED;
  c->serial++;
  last = g_ptr_array_index (s->active, s->active->len - 1);
  last->index = c->index;
  g_ptr_array_remove_index_fast (s->active, c->index);
  STAT_SET (s, connections, s->active->len);
  c->next = s->graveyard;
  s->graveyard = c;
}

static guint32
conn_wanted_events (const Conn *c)
{
  switch ((ConnState) c->state) {
    case CONN_READ:
    case CONN_LINGER:
      return EPOLLIN;
    case CONN_BUSY:
      /* Stop reading when the buffer is full (a pipelining client) or at EOF. */
      return c->peer_closed || c->in_len == IN_SIZE ? 0 : EPOLLIN;
    case CONN_WRITE:
      return EPOLLOUT;
    case CONN_CLOSED:
    default:
      return 0;
  }
}

static void
conn_update_events (VolactServer *s, Conn *c)
{
  struct epoll_event ev;
  guint32 want;

  if (c->state == CONN_CLOSED || !c->registered)
    return;
  want = conn_wanted_events (c);
  if (want == c->events)
    return;
  ev.events = want;
  ev.data.ptr = &c->item;
  if (epoll_ctl (s->epfd, EPOLL_CTL_MOD, c->item.fd, &ev) != 0) {
    volact_conn_close (s, c);
    return;
  }
  c->events = want;
}

/* After an error response: shut the write side and read until EOF, so the client gets it. */
static void
conn_linger (VolactServer *s, Conn *c)
{
  if (c->peer_closed || shutdown (c->item.fd, SHUT_WR) != 0) {
    volact_conn_close (s, c);
    return;
  }
  c->state = CONN_LINGER;
  c->in_len = 0;
  c->since = s->now;
  conn_update_events (s, c);
}

/* OUT is on its way: the connection is ready for its next request (or closes). */
static void
conn_written (VolactServer *s, Conn *c)
{
  if (c->out_len == VOLACT_PROTO_RESPONSE_SIZE)
    STAT_INC (s, signed_responses);
  else
    STAT_INC (s, error_responses);
  c->out_len = c->out_off = 0;
  if (c->close_after) {
    conn_linger (s, c);
    return;
  }
  c->state = CONN_READ;
  c->since = s->now;
}

/* Writes OUT (from BUSY or WRITE). Never calls conn_process. */
static void
conn_send (VolactServer *s, Conn *c)
{
  gsize left = c->out_len - c->out_off;
  ssize_t n = send (c->item.fd, c->out + c->out_off, left, MSG_NOSIGNAL | MSG_DONTWAIT);

  if (n == (ssize_t) left) {
    conn_written (s, c);
    return;
  }
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    volact_conn_close (s, c);
    return;
  }
  if (n > 0)
    c->out_off += (guint16) n;
  if (c->state != CONN_WRITE) {
    c->state = CONN_WRITE;
    c->since = s->now;
  } else if (n > 0) {
    c->since = s->now;
  }
  conn_update_events (s, c);
}

/* After a response went out (from outside conn_process): serve what is buffered. */
static void
conn_continue (VolactServer *s, Conn *c)
{
  if (c->state == CONN_READ && c->in_len > 0)
    conn_process (s, c);
  else if (c->peer_closed && c->state == CONN_READ)
    volact_conn_close (s, c);
  else
    conn_update_events (s, c);
}

static void
conn_send_error (VolactServer *s, Conn *c, const guint8 *nonce, guint32 code, gboolean close_after)
{
  volact_error_response_encode (nonce, code, c->out);
  c->out_len = VOLACT_PROTO_ERROR_SIZE;
  c->out_off = 0;
  c->close_after = close_after;
  c->serial++; /* a job or pending entry of the request no longer applies */
  conn_send (s, c);
}

/* Bad input: an error response (nonce if known) and a lingering close. */
static void
conn_refuse (VolactServer *s, Conn *c, const guint8 *nonce, guint32 code, const char *why)
{
  char addr[INET6_ADDRSTRLEN];

  STAT_INC (s, malformed);
  peer_text (c, addr);
  g_debug ("client %s: %s; closing the connection", addr, why);
  c->in_len = 0;
  conn_send_error (s, c, nonce, code, TRUE);
}

/* ---- signing on worker threads (VOLACT_SERVER_SIGN_THREADS) ---------------------------- */

static void
job_done (VolactServer *s, Job *job)
{
  Conn *c = job->conn;

  if (c->serial == job->serial && c->state == CONN_BUSY) {
    if (job->ok) {
      memcpy (c->out, job->out, VOLACT_PROTO_RESPONSE_SIZE);
      c->out_len = VOLACT_PROTO_RESPONSE_SIZE;
      c->out_off = 0;
      c->signed_ok = TRUE;
      if (c->committed)
        conn_send (s, c);
    } else {
      STAT_INC (s, busy_responses);
      conn_send_error (s, c, c->nonce, (guint32) VOLACT_E_HOST_BUSY, FALSE);
    }
    conn_continue (s, c);
  }
  volact_serving_state_unref (job->st);
  job->st = NULL;
  job->next = s->free_jobs;
  s->free_jobs = job;
}

static void
sign_job (gpointer data, gpointer user_data)
{
  Job *job = data;
  VolactServer *s = user_data;
  g_autoptr (GError) error = NULL;
  gboolean wake;

  job->ok = volact_response_sign (&job->resp, job->req, job->req_len, job->st->identity, job->out,
                                  &error);
  if (!job->ok)
    g_warning ("cannot sign a response: %s", error->message);
  g_mutex_lock (&s->done_lock);
  wake = s->done == NULL;
  job->next = s->done;
  s->done = job;
  g_mutex_unlock (&s->done_lock);
  if (wake) {
    guint64 one = 1;
    if (write (s->wake.fd, &one, sizeof one) < 0) {
      /* Only an overflowing counter fails, and the main thread resets it each time. */
    }
  }
}

void
volact_conn_on_wake (VolactServer *s)
{
  guint64 value;
  Job *list, *fifo = NULL;

  if (read (s->wake.fd, &value, sizeof value) < 0) {
    /* EAGAIN: a racing read already took it; the list below is what matters. */
  }
  g_mutex_lock (&s->done_lock);
  list = s->done;
  s->done = NULL;
  g_mutex_unlock (&s->done_lock);
  while (list != NULL) { /* oldest first */
    Job *next = list->next;
    list->next = fifo;
    fifo = list;
    list = next;
  }
  while (fifo != NULL) {
    Job *next = fifo->next;
    job_done (s, fifo);
    fifo = next;
  }
}

void
volact_conn_free_jobs (VolactServer *s)
{
  while (s->free_jobs != NULL) {
    Job *next = s->free_jobs->next;
    g_free (s->free_jobs);
    s->free_jobs = next;
  }
}

/* ---- answering a request ---------------------------------------------------------------- */

/*
 * Has REQ answered (volact-answer.c decides and records) and its response
 * signed into C->out. MSG is the whole request (LEN bytes), signed over.
 * Leaves C BUSY with its ticket pending, or already written.
 */
static void
conn_answer (VolactServer *s, Conn *c, const VolactRequest *req, const guint8 *msg, gsize len)
{
  VolactServingState *st = volact_host_serving_state (s->host);
  char addr[INET6_ADDRSTRLEN];
  VolactAnswer answer;

  if (!volact_limits_take (s->limits, c->source, s->now)) {
    /* Over its rate: the cheapest answer there is (unsigned, nothing recorded). */
    volact_serving_state_unref (st);
    STAT_INC (s, rate_limited);
    volact_transport_limited (s, c->source, VOLACT_LIMIT_RATE);
    conn_send_error (s, c, req->nonce, (guint32) VOLACT_E_HOST_BUSY, FALSE);
    return;
  }
  peer_text (c, addr);
  volact_answer_decide_from (st, s->records, req, addr, s->wall, s->limits, c->source, s->now,
                             &answer);
  volact_request_counters_add (s->answers, answer.edition,
                               answer.error_code ? answer.error_code : answer.response.result);
  if (answer.error_code == (guint32) VOLACT_E_NEW_CMID_LIMIT) {
    STAT_INC (s, new_cmid_limited);
    volact_transport_limited (s, c->source, VOLACT_LIMIT_NEW_CMIDS);
  }
  if (answer.error_code != 0) {
    volact_serving_state_unref (st);
    conn_send_error (s, c, req->nonce, answer.error_code, FALSE);
    return;
  }

  if (s->sign_threads > 0 && s->pool == NULL)
    s->pool = g_thread_pool_new (sign_job, s, (gint) s->sign_threads, FALSE, NULL);
  if (s->pool != NULL) {
    Job *job = s->free_jobs;
    if (job != NULL)
      s->free_jobs = job->next;
    else
      job = g_new (Job, 1);
    job->conn = c;
    job->serial = c->serial;
    job->st = st; /* the worker signs with its key */
    job->resp = answer.response;
    job->req_len = len;
    memcpy (job->req, msg, len);
    g_thread_pool_push (s->pool, job, NULL);
  } else {
    g_autoptr (GError) error = NULL;
    gboolean ok = volact_response_sign (&answer.response, msg, len, st->identity, c->out, &error);
    volact_serving_state_unref (st);
    if (!ok) {
      if (volact_transport_log_due (s, &s->sign_error_logged))
        g_warning ("cannot sign a response: %s", error->message);
      STAT_INC (s, busy_responses);
      conn_send_error (s, c, req->nonce, (guint32) VOLACT_E_HOST_BUSY, FALSE);
      return;
    }
    c->out_len = VOLACT_PROTO_RESPONSE_SIZE;
    c->out_off = 0;
    c->signed_ok = TRUE;
  }

  if (answer.ticket <= s->committed) {
    c->committed = TRUE;
    if (c->signed_ok)
      conn_send (s, c);
  } else {
    pending_push (s, c, answer.ticket);
  }
}

/* Frames, decodes and answers what IN holds, one request at a time. */
static void
conn_process (VolactServer *s, Conn *c)
{
  while (c->state == CONN_READ && c->in_len > 0) {
    g_autoptr (GError) error = NULL;
    VolactMessageType type;
    VolactRequest req;
    gsize total;

    if (c->in_len < VOLACT_PROTO_HEADER_SIZE) {
      /* Garbage need not wait for the whole header to be refused. */
      if (memcmp (c->in, VOLACT_PROTO_MAGIC, MIN (c->in_len, 4)) != 0)
        conn_refuse (s, c, NULL, (guint32) VOLACT_E_REQUEST_MALFORMED, "not a volact message");
      break;
    }
    if (!volact_proto_peek (c->in, c->in_len, &type, &total, &error)) {
      guint32 code = g_error_matches (error, VOLACT_ERROR, VOLACT_E_PROTOCOL_VERSION)
                         ? (guint32) VOLACT_E_PROTOCOL_VERSION
                         : (guint32) VOLACT_E_REQUEST_MALFORMED;
      conn_refuse (s, c, NULL, code, error->message);
      break;
    }
    if (type != VOLACT_MSG_REQUEST) {
      conn_refuse (s, c, NULL, (guint32) VOLACT_E_REQUEST_MALFORMED, "not a request");
      break;
    }
    if (c->in_len < total)
      break; /* partial: the sweep closes it if the rest takes too long */
    if (!volact_request_decode (c->in, total, &req, &error)) {
      conn_refuse (s, c, c->in + 8, (guint32) VOLACT_E_REQUEST_MALFORMED, error->message);
      break;
    }
    STAT_INC (s, requests);
    memcpy (c->nonce, req.nonce, sizeof c->nonce);
    c->serial++;
    c->state = CONN_BUSY;
    c->since = s->now;
    c->signed_ok = c->committed = FALSE;
    c->close_after = FALSE;
    conn_answer (s, c, &req, c->in, total);
    if (c->state == CONN_CLOSED)
      return;
    if (c->in_len > total)
      memmove (c->in, c->in + total, c->in_len - total);
    c->in_len -= (guint16) total;
    if (c->state == CONN_READ)
      c->since = s->now; /* answered at once: idle, or a pipelined request starts now */
  }
  if (c->peer_closed && c->state == CONN_READ) {
    volact_conn_close (s, c);
    return;
  }
  conn_update_events (s, c);
}

static void
conn_read (VolactServer *s, Conn *c)
{
  ssize_t n;

  if (c->state == CONN_LINGER)
    c->in_len = 0; /* discarding */
  if (c->in_len == IN_SIZE)
    return; /* BUSY with a full buffer: EPOLLIN is off, this was a stale event */
  n = recv (c->item.fd, c->in + c->in_len, IN_SIZE - c->in_len, MSG_DONTWAIT);
  if (n > 0) {
    if (c->state == CONN_LINGER) {
      c->in_len = 0;
      return;
    }
    if (c->in_len == 0 && c->state == CONN_READ)
      c->since = s->now; /* a request starts */
    c->in_len += (guint16) n;
    if (c->state == CONN_READ)
      conn_process (s, c);
    else
      conn_update_events (s, c);
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return;
  if (n == 0 && (c->state == CONN_BUSY || c->state == CONN_WRITE)) {
    /* The client shut its side after asking: answer what it sent, then close. */
    c->peer_closed = TRUE;
    conn_update_events (s, c);
    return;
  }
  volact_conn_close (s, c);
}

void
volact_conn_open (VolactServer *s, int fd, const struct sockaddr_storage *sa, VolactSource *src)
{
  Conn *c = conn_alloc (s);
  struct epoll_event ev;

  c->item.fd = fd;
  c->source = src;
  c->state = CONN_READ;
  c->signed_ok = c->committed = c->close_after = c->peer_closed = c->registered = FALSE;
  c->in_len = c->out_len = c->out_off = 0;
  c->events = 0;
  c->since = s->now;
  c->peer_family = (guint8) sa->ss_family;
  if (sa->ss_family == AF_INET)
    memcpy (c->peer, &((const struct sockaddr_in *) sa)->sin_addr, 4);
  else
    memcpy (c->peer, &((const struct sockaddr_in6 *) sa)->sin6_addr, 16);
  c->index = s->active->len;
  g_ptr_array_add (s->active, c);
  STAT_SET (s, connections, s->active->len);
  STAT_INC (s, accepted);

  /* TCP_DEFER_ACCEPT: the request is usually there already; read it before registering. */
  conn_read (s, c);
  if (c->state == CONN_CLOSED)
    return;
  ev.events = conn_wanted_events (c);
  ev.data.ptr = &c->item;
  if (epoll_ctl (s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    volact_conn_close (s, c);
    return;
  }
  c->events = ev.events;
  c->registered = TRUE;
}

/* ---- events from the server ------------------------------------------------------------- */

void
volact_conn_event (VolactServer *s, Conn *c, guint32 ev)
{
  if (c->state == CONN_CLOSED)
    return; /* closed earlier in this batch */
  if (ev & EPOLLIN)
    conn_read (s, c);
  if ((ev & EPOLLOUT) && c->state == CONN_WRITE) {
    conn_send (s, c);
    conn_continue (s, c);
  }
  if ((ev & (EPOLLERR | EPOLLHUP)) && c->state != CONN_CLOSED)
    volact_conn_close (s, c);
}

void
volact_conn_committed (VolactServer *s, guint64 ticket)
{
  if (ticket > s->committed)
    s->committed = ticket;
  while (s->ring_len > 0 && s->ring[s->ring_head].ticket <= s->committed) {
    Pending p = s->ring[s->ring_head];
    Conn *c = p.conn;

    s->ring_head = (s->ring_head + 1) % s->ring_cap;
    s->ring_len--;
    STAT_SET (s, pending, s->ring_len);
    if (c->serial != p.serial || c->state != CONN_BUSY)
      continue; /* closed, timed out or refused meanwhile */
    c->committed = TRUE;
    if (c->signed_ok) {
      conn_send (s, c);
      conn_continue (s, c);
    }
  }
}

void
volact_conn_sweep (VolactServer *s)
{
  for (guint i = s->active->len; i-- > 0;) {
    Conn *c = g_ptr_array_index (s->active, i);
    gint64 age = s->now - c->since;

    switch ((ConnState) c->state) {
      case CONN_READ:
        if (age > (c->in_len > 0 ? PARTIAL_TIMEOUT : IDLE_TIMEOUT)) {
          STAT_INC (s, timeouts);
          volact_conn_close (s, c);
        }
        break;
      case CONN_BUSY:
        if (age > COMMIT_TIMEOUT) {
          /* The record store is stuck: tell the client to come back. */
          STAT_INC (s, busy_responses);
          conn_send_error (s, c, c->nonce, (guint32) VOLACT_E_HOST_BUSY, FALSE);
          conn_continue (s, c);
        }
        break;
      case CONN_WRITE:
        if (age > IDLE_TIMEOUT) {
          STAT_INC (s, timeouts);
          volact_conn_close (s, c);
        }
        break;
      case CONN_LINGER:
        if (age > LINGER_TIMEOUT)
          volact_conn_close (s, c);
        break;
      case CONN_CLOSED:
      default:
        break;
    }
  }
}
