/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client listener (docs/protocol.md). One epoll set holds the listening
 * sockets and every connection; one GSource watches the epoll descriptor in
 * the main context, so the main loop costs the same with 10 or 10,000
 * connections and nothing is allocated per connection or per request
 * (connections come from a free list, the pending queue is a ring).
 *
 * A connection answers one request at a time: READ (gathering a request) →
 * BUSY (counted; being signed and/or waiting for its record's commit) →
 * written (READ again) or WRITE (socket full, EPOLLOUT armed). Bad input
 * gets an error response and a lingering close (LINGER: write side shut,
 * input discarded until EOF) so the client reads the error before the reset.
 * Responses wait in a ring ordered by record ticket and go out when
 * volact_records_on_commit reports their ticket durable.
 */
#include "config.h"

#include "volact-server.h"

#include "volact-error.h"
#include "volact-protocol.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define PARTIAL_TIMEOUT (10 * G_USEC_PER_SEC) /* a request must arrive whole within this */
#define IDLE_TIMEOUT (60 * G_USEC_PER_SEC)    /* no request (or no write progress) this long */
#define COMMIT_TIMEOUT (10 * G_USEC_PER_SEC)  /* record not durable this long: HOST_BUSY */
#define LINGER_TIMEOUT (2 * G_USEC_PER_SEC)   /* after an error response, wait this for EOF */
#define LOG_INTERVAL (60 * G_USEC_PER_SEC)    /* repeated warnings: at most one a minute */
#define ACCEPT_PAUSE_MS 250                   /* out of descriptors: stop accepting this long */
#define MAX_EVENTS 128
#define ACCEPT_BATCH 64 /* accepts per wake-up, so connected clients are not starved */
#define CONN_CHUNK 64   /* connections allocated together */
/* Room for one whole request and the start of a pipelined next one. */
#define IN_SIZE 256
G_STATIC_ASSERT (IN_SIZE > VOLACT_PROTO_REQUEST_MAX);
#define DEFER_ACCEPT_SECONDS 10

typedef enum {
  ITEM_LISTENER = 1,
  ITEM_CONN,
  ITEM_WAKE,
} ItemKind;

typedef struct {
  ItemKind kind;
  int fd;
} Item;

typedef enum {
  CONN_READ,   /* gathering a request; IN may hold part of one */
  CONN_BUSY,   /* a request is being answered (signing and/or waiting for the commit) */
  CONN_WRITE,  /* the response is partly written; EPOLLOUT armed */
  CONN_LINGER, /* error response sent, write side shut; input discarded until EOF */
  CONN_CLOSED, /* on the graveyard until the current batch of events is done */
} ConnState;

typedef struct _Conn Conn;
struct _Conn {
  Item item;            /* kind ITEM_CONN, fd */
  guint8 state;         /* ConnState */
  guint8 signed_ok : 1; /* BUSY: OUT holds the signed response */
  guint8 committed : 1; /* BUSY: the request's ticket is durable */
  guint8 close_after : 1;
  guint8 peer_closed : 1; /* EOF seen while a response was due */
  guint8 registered : 1;  /* in the epoll set */
  guint8 peer_family;
  guint16 in_len;
  guint16 out_len, out_off;
  guint32 events; /* epoll interest registered */
  guint32 serial; /* changes per request and on close; pending entries and jobs carry it */
  guint index;    /* in server->active */
  gint64 since;   /* READ: idle since, or first byte of a partial request; else: state entered */
  guint8 peer[16];
  guint8 nonce[VOLACT_PROTO_NONCE_SIZE]; /* of the request being answered */
  guint8 in[IN_SIZE];
  guint8 out[VOLACT_PROTO_RESPONSE_SIZE];
  Conn *next; /* free list / graveyard */
};

/* A response waiting for its ticket to be committed. */
typedef struct {
  Conn *conn;
  guint32 serial;
  guint64 ticket;
} Pending;

/* A signature for a worker thread (VOLACT_SERVER_SIGN_THREADS). */
typedef struct _Job Job;
struct _Job {
  Conn *conn;
  guint32 serial;
  gboolean ok;
  VolactServingState *st;
  VolactResponse resp;
  gsize req_len;
  guint8 req[VOLACT_PROTO_REQUEST_MAX];
  guint8 out[VOLACT_PROTO_RESPONSE_SIZE];
  Job *next;
};

struct _VolactServer {
  VolactHost *host;
  VolactRecords *records;
  GMainContext *context;
  int epfd;
  GSource *epoll_source;
  GSource *sweep_source;
  GSource *resume_source; /* re-enables accepting after EMFILE */
  GPtrArray *listeners;   /* Item* */
  gboolean accepting;
  guint port;
  guint max_conns;

  GPtrArray *active; /* Conn*, unordered, conn->index */
  GPtrArray *chunks; /* Conn[CONN_CHUNK] blocks, freed at stop */
  Conn *free_conns;
  Conn *graveyard;      /* closed during the current dispatch */
  gboolean in_dispatch; /* an epoll batch may still point at graveyard connections */

  Pending *ring;
  guint ring_cap, ring_head, ring_len;
  guint64 committed;

  gint64 now;  /* monotonic µs, taken once per dispatch */
  gint64 wall; /* unix seconds, likewise */
  VolactServerStats stats;
  gint64 refused_logged;
  guint64 refused_unlogged;
  gint64 accept_error_logged;
  gint64 sign_error_logged;

  guint sign_threads; /* 0: sign inline */
  GThreadPool *pool;  /* made on first use: no threads before volactd detaches (fork) */
  Item wake;          /* eventfd: workers finished jobs */
  GMutex done_lock;
  Job *done; /* finished jobs, newest first; done_lock */
  Job *free_jobs;
};

static void conn_process (VolactServer *s, Conn *c);
static void conn_send (VolactServer *s, Conn *c);

/* ---- small helpers ---------------------------------------------------------------------- */

static void
stamp (VolactServer *s)
{
  s->now = g_get_monotonic_time ();
  s->wall = g_get_real_time () / G_USEC_PER_SEC;
}

/* TRUE at most once per LOG_INTERVAL for *LAST (the first time always). */
static gboolean
log_due (VolactServer *s, gint64 *last)
{
  if (*last != 0 && s->now - *last < LOG_INTERVAL)
    return FALSE;
  *last = s->now;
  return TRUE;
}

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

static char *
sockaddr_text (const struct sockaddr *sa)
{
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  socklen_t len
      = sa->sa_family == AF_INET6 ? sizeof (struct sockaddr_in6) : sizeof (struct sockaddr_in);

  if (getnameinfo (sa, len, host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV)
      != 0)
    return g_strdup ("?");
  return g_strdup_printf ("%s port %s", host, serv);
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

/* Returns closed connections to the free list once no event batch can still name them. */
static void
reap (VolactServer *s)
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

static void
conn_close (VolactServer *s, Conn *c)
{
  Conn *last;

  if (c->state == CONN_CLOSED)
    return;
  close (c->item.fd); /* also leaves the epoll set */
  c->item.fd = -1;
  c->state = CONN_CLOSED;
  c->serial++;
  last = g_ptr_array_index (s->active, s->active->len - 1);
  last->index = c->index;
  g_ptr_array_remove_index_fast (s->active, c->index);
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
    conn_close (s, c);
    return;
  }
  c->events = want;
}

/* After an error response: shut the write side and read until EOF, so the client gets it. */
static void
conn_linger (VolactServer *s, Conn *c)
{
  if (c->peer_closed || shutdown (c->item.fd, SHUT_WR) != 0) {
    conn_close (s, c);
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
    s->stats.signed_responses++;
  else
    s->stats.error_responses++;
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
    conn_close (s, c);
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
    conn_close (s, c);
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

  s->stats.malformed++;
  peer_text (c, addr);
  g_debug ("client %s: %s; closing the connection", addr, why);
  c->in_len = 0;
  conn_send_error (s, c, nonce, code, TRUE);
}

/* ---- answering a request ---------------------------------------------------------------- */

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

static void
on_wake (VolactServer *s)
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

/*
 * Counts (or refuses) REQ and prepares its response in C->out. MSG is the
 * whole request (LEN bytes), signed over. Leaves C BUSY with its ticket
 * pending, or already written.
 */
static void
conn_answer (VolactServer *s, Conn *c, const VolactRequest *req, const guint8 *msg, gsize len)
{
  VolactServingState *st = volact_host_serving_state (s->host);
  const VolactEdition *edition = NULL;
  const VolactApplication *app = NULL;
  const VolactKeyGroup *group;
  char addr[INET6_ADDRSTRLEN];
  VolactResponse resp;
  VolactVisit visit;
  guint64 ticket = 0;
  guint32 result;
  guint count = 0;

  peer_text (c, addr);
  visit = (VolactVisit){
    .time = s->wall,
    .cmid = req->cmid,
    .name = req->name,
    .edition = req->edition,
    .address = addr,
    .virtual_machine = req->virtual_machine,
    .state = req->state,
    .minutes_left = req->minutes_left,
  };
  if (st == NULL || !st->activated) {
    /* Nothing to sign with that a client could trust: an unsigned error response. */
    volact_records_log_refusal (s->records, &visit, (guint32) VOLACT_E_NOT_ACTIVATED, &ticket);
    if (st != NULL)
      volact_serving_state_unref (st);
    conn_send_error (s, c, req->nonce, (guint32) VOLACT_E_NOT_ACTIVATED, FALSE);
    return;
  }

  if (st->catalog != NULL)
    edition = volact_catalog_edition (st->catalog, req->edition);
  if (edition != NULL)
    app = volact_catalog_application (st->catalog, edition->application);
  if (edition == NULL || app == NULL) {
    result = (guint32) VOLACT_E_EDITION_UNKNOWN;
    volact_records_log_refusal (s->records, &visit, result, &ticket);
  } else {
    visit.pool = edition->application;
    visit.counts = !req->virtual_machine || edition->vms_count;
    visit.retention_days = app->retention_days;
    visit.minimum_count = edition->minimum_count;
    group = volact_catalog_key_group (st->catalog, st->key_group);
    if (group == NULL || !volact_key_group_activates (group, edition->id)) {
      result = (guint32) VOLACT_E_EDITION_NOT_COVERED;
      volact_records_log_refusal (s->records, &visit, result, &ticket);
    } else {
      count = volact_records_count (s->records, &visit, &result, &ticket);
      if (result == VOLACT_RECORDS_HOST_BUSY) {
        /* The writer is far behind: nothing was counted; the client retries later. */
        volact_serving_state_unref (st);
        conn_send_error (s, c, req->nonce, (guint32) VOLACT_E_HOST_BUSY, FALSE);
        return;
      }
    }
  }

  memcpy (resp.nonce, req->nonce, VOLACT_PROTO_NONCE_SIZE);
  resp.result = result;
  resp.count = count;
  resp.minimum_count = edition ? (guint16) MIN (edition->minimum_count, G_MAXUINT16) : 0;
  resp.activation_interval = (guint16) MIN (st->activation_interval, G_MAXUINT16);
  resp.renewal_interval = (guint16) MIN (st->renewal_interval, G_MAXUINT16);
  resp.validity_days = app ? (guint16) MIN (app->validity_days, G_MAXUINT16) : 0;
  memcpy (resp.host_public_key, st->public_key, sizeof resp.host_public_key);
  memcpy (resp.certificate, st->certificate, sizeof resp.certificate);

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
    job->resp = resp;
    job->req_len = len;
    memcpy (job->req, msg, len);
    g_thread_pool_push (s->pool, job, NULL);
  } else {
    g_autoptr (GError) error = NULL;
    gboolean ok = volact_response_sign (&resp, msg, len, st->identity, c->out, &error);
    volact_serving_state_unref (st);
    if (!ok) {
      if (log_due (s, &s->sign_error_logged))
        g_warning ("cannot sign a response: %s", error->message);
      conn_send_error (s, c, req->nonce, (guint32) VOLACT_E_HOST_BUSY, FALSE);
      return;
    }
    c->out_len = VOLACT_PROTO_RESPONSE_SIZE;
    c->out_off = 0;
    c->signed_ok = TRUE;
  }

  if (ticket <= s->committed) {
    c->committed = TRUE;
    if (c->signed_ok)
      conn_send (s, c);
  } else {
    pending_push (s, c, ticket);
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
    s->stats.requests++;
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
    conn_close (s, c);
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
  conn_close (s, c);
}

static void
conn_open (VolactServer *s, int fd, const struct sockaddr_storage *sa)
{
  Conn *c = conn_alloc (s);
  struct epoll_event ev;

  c->item.fd = fd;
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
  s->stats.accepted++;

  /* TCP_DEFER_ACCEPT: the request is usually there already; read it before registering. */
  conn_read (s, c);
  if (c->state == CONN_CLOSED)
    return;
  ev.events = conn_wanted_events (c);
  ev.data.ptr = &c->item;
  if (epoll_ctl (s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    conn_close (s, c);
    return;
  }
  c->events = ev.events;
  c->registered = TRUE;
}

/* ---- accepting -------------------------------------------------------------------------- */

static void
set_accepting (VolactServer *s, gboolean on)
{
  if (s->accepting == on)
    return;
  for (guint i = 0; i < s->listeners->len; i++) {
    Item *l = g_ptr_array_index (s->listeners, i);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };
    epoll_ctl (s->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, l->fd, &ev);
  }
  s->accepting = on;
}

static gboolean
on_resume_accepting (gpointer user_data)
{
  VolactServer *s = user_data;

  g_clear_pointer (&s->resume_source, g_source_unref);
  set_accepting (s, TRUE);
  return G_SOURCE_REMOVE;
}

static void
log_refused (VolactServer *s)
{
  if (s->refused_unlogged == 0 || !log_due (s, &s->refused_logged))
    return;
  g_warning ("max-connections (%u) reached: refused %" G_GUINT64_FORMAT
             " connection(s) since the last notice",
             s->max_conns, s->refused_unlogged);
  s->refused_unlogged = 0;
}

static void
on_listener (VolactServer *s, Item *l)
{
  for (guint i = 0; i < ACCEPT_BATCH; i++) {
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    int fd = accept4 (l->fd, (struct sockaddr *) &sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0) {
      int e = errno;
      if (e == EAGAIN || e == EWOULDBLOCK)
        return;
      if (e == EINTR || e == ECONNABORTED || e == EPROTO || e == EPERM)
        continue;
      if (log_due (s, &s->accept_error_logged))
        g_warning ("cannot accept client connections: %s", g_strerror (e));
      if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
        /* Level-triggered listeners would spin: pause them briefly. */
        set_accepting (s, FALSE);
        if (s->resume_source == NULL) {
          s->resume_source = g_timeout_source_new (ACCEPT_PAUSE_MS);
          g_source_set_callback (s->resume_source, on_resume_accepting, s, NULL);
          g_source_attach (s->resume_source, s->context);
        }
      }
      return;
    }
    if (s->active->len >= s->max_conns) {
      close (fd);
      s->stats.refused++;
      s->refused_unlogged++;
      log_refused (s);
      continue;
    }
    conn_open (s, fd, &sa);
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

  stamp (s);
  s->in_dispatch = TRUE;
  for (int i = 0; i < n; i++) {
    Item *item = events[i].data.ptr;
    guint32 ev = events[i].events;

    if (item->kind == ITEM_LISTENER) {
      on_listener (s, item);
    } else if (item->kind == ITEM_WAKE) {
      on_wake (s);
    } else {
      Conn *c = (Conn *) item;
      if (c->state == CONN_CLOSED)
        continue; /* closed earlier in this batch */
      if (ev & EPOLLIN)
        conn_read (s, c);
      if ((ev & EPOLLOUT) && c->state == CONN_WRITE) {
        conn_send (s, c);
        conn_continue (s, c);
      }
      if ((ev & (EPOLLERR | EPOLLHUP)) && c->state != CONN_CLOSED)
        conn_close (s, c);
    }
  }
  s->in_dispatch = FALSE;
  reap (s);
  ensure_sweep (s);
  return G_SOURCE_CONTINUE;
}

static void
on_commit (guint64 ticket, gpointer user_data)
{
  VolactServer *s = user_data;
  gboolean nested = s->in_dispatch;

  stamp (s);
  s->in_dispatch = TRUE;
  if (ticket > s->committed)
    s->committed = ticket;
  while (s->ring_len > 0 && s->ring[s->ring_head].ticket <= s->committed) {
    Pending p = s->ring[s->ring_head];
    Conn *c = p.conn;

    s->ring_head = (s->ring_head + 1) % s->ring_cap;
    s->ring_len--;
    if (c->serial != p.serial || c->state != CONN_BUSY)
      continue; /* closed, timed out or refused meanwhile */
    c->committed = TRUE;
    if (c->signed_ok) {
      conn_send (s, c);
      conn_continue (s, c);
    }
  }
  s->in_dispatch = nested;
  reap (s);
}

/* Once a second while connections are open: slow, idle and stuck connections. */
static gboolean
on_sweep (gpointer user_data)
{
  VolactServer *s = user_data;

  stamp (s);
  log_refused (s);
  s->in_dispatch = TRUE;
  for (guint i = s->active->len; i-- > 0;) {
    Conn *c = g_ptr_array_index (s->active, i);
    gint64 age = s->now - c->since;

    switch ((ConnState) c->state) {
      case CONN_READ:
        if (age > (c->in_len > 0 ? PARTIAL_TIMEOUT : IDLE_TIMEOUT)) {
          s->stats.timeouts++;
          conn_close (s, c);
        }
        break;
      case CONN_BUSY:
        if (age > COMMIT_TIMEOUT) {
          /* The record store is stuck: tell the client to come back. */
          conn_send_error (s, c, c->nonce, (guint32) VOLACT_E_HOST_BUSY, FALSE);
          conn_continue (s, c);
        }
        break;
      case CONN_WRITE:
        if (age > IDLE_TIMEOUT) {
          s->stats.timeouts++;
          conn_close (s, c);
        }
        break;
      case CONN_LINGER:
        if (age > LINGER_TIMEOUT)
          conn_close (s, c);
        break;
      case CONN_CLOSED:
      default:
        break;
    }
  }
  s->in_dispatch = FALSE;
  reap (s);
  if (s->active->len == 0) {
    g_clear_pointer (&s->sweep_source, g_source_unref);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

/* ---- listening -------------------------------------------------------------------------- */

static void
add_listener (VolactServer *s, int fd)
{
  Item *l = g_new (Item, 1);
  int on = 1, defer = DEFER_ACCEPT_SECONDS;

  l->kind = ITEM_LISTENER;
  l->fd = fd;
  g_ptr_array_add (s->listeners, l);
  /* Inherited by accepted sockets: responses are single writes, never worth delaying. */
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  /* Wake up only once the request has arrived: one event less per connection. */
  setsockopt (fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof defer);
}

static gboolean
listen_on (VolactServer *s, const char *address, GError **error)
{
  struct addrinfo hints = { 0 }, *ai = NULL;
  char service[16];
  g_autofree char *where = NULL;
  int fd, on = 1, rc, e;
  struct sockaddr_storage bound;
  socklen_t bound_len = sizeof bound;

  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  hints.ai_socktype = SOCK_STREAM;
  g_snprintf (service, sizeof service, "%u", s->port);
  rc = getaddrinfo (address, service, &hints, &ai);
  if (rc != 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "listen: \"%s\" is not an IPv4 or IPv6 address (%s)", address, gai_strerror (rc));
    return FALSE;
  }
  fd = socket (ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    e = errno;
    freeaddrinfo (ai);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "cannot listen on %s: %s", address,
                 g_strerror (e));
    return FALSE;
  }
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  /* "::" must not claim IPv4 too, so that "0.0.0.0;::" binds both. */
  if (ai->ai_family == AF_INET6)
    setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  if (bind (fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen (fd, SOMAXCONN) != 0
      || getsockname (fd, (struct sockaddr *) &bound, &bound_len) != 0) {
    e = errno;
    freeaddrinfo (ai);
    close (fd);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "cannot listen on %s port %u: %s", address,
                 s->port, g_strerror (e));
    return FALSE;
  }
  freeaddrinfo (ai);
  add_listener (s, fd);
  /* Port 0 (tests): every further address uses the port the first one got. */
  s->port = ntohs (bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &bound)->sin6_port
                                               : ((struct sockaddr_in *) &bound)->sin_port);
  where = sockaddr_text ((struct sockaddr *) &bound);
  g_message ("listening for clients on %s", where);
  return TRUE;
}

/* systemd socket activation: 0 if not activated, -1 on error, else the number of sockets. */
static int
take_passed_sockets (VolactServer *s, GError **error)
{
  const char *pid_text = g_getenv ("LISTEN_PID");
  const char *fds_text = g_getenv ("LISTEN_FDS");
  guint64 pid, n;

  if (pid_text == NULL || fds_text == NULL
      || !g_ascii_string_to_unsigned (pid_text, 10, 1, G_MAXINT, &pid, NULL)
      || (pid_t) pid != getpid ())
    return 0;
  if (!g_ascii_string_to_unsigned (fds_text, 10, 0, 1024, &n, NULL) || n == 0)
    return 0;
  g_unsetenv ("LISTEN_PID");
  g_unsetenv ("LISTEN_FDS");
  g_unsetenv ("LISTEN_FDNAMES");
  for (int fd = 3; fd < 3 + (int) n; fd++) {
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa, ilen = sizeof (int);
    int type = 0, accepting = 0, flags;
    g_autofree char *where = NULL;

    if (getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &ilen) != 0 || type != SOCK_STREAM
        || getsockopt (fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &ilen) != 0 || !accepting
        || getsockname (fd, (struct sockaddr *) &sa, &len) != 0
        || (sa.ss_family != AF_INET && sa.ss_family != AF_INET6)) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                   "socket activation: descriptor %d is not a listening TCP socket", fd);
      return -1;
    }
    flags = fcntl (fd, F_GETFL);
    fcntl (fd, F_SETFL, flags | O_NONBLOCK);
    fcntl (fd, F_SETFD, FD_CLOEXEC);
    add_listener (s, fd);
    if (s->listeners->len == 1)
      s->port = ntohs (sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &sa)->sin6_port
                                                : ((struct sockaddr_in *) &sa)->sin_port);
    where = sockaddr_text ((struct sockaddr *) &sa);
    g_message ("listening for clients on %s (socket activation)", where);
  }
  return (int) n;
}

/* ---- public API ------------------------------------------------------------------------- */

VolactServer *
volact_server_start (VolactHost *host, VolactRecords *records, GError **error)
{
  const VolactConfig *cfg;
  VolactServer *s;
  const char *threads;
  int passed;

  g_return_val_if_fail (host != NULL, NULL);
  g_return_val_if_fail (records != NULL, NULL);

  cfg = volact_host_config (host);
  s = g_new0 (VolactServer, 1);
  s->host = host;
  s->records = records;
  s->context = g_main_context_ref_thread_default ();
  s->listeners = g_ptr_array_new ();
  s->active = g_ptr_array_new ();
  s->chunks = g_ptr_array_new_with_free_func (g_free);
  s->max_conns = MAX (cfg->max_connections, 1);
  s->port = volact_host_port (host);
  s->wake.kind = ITEM_WAKE;
  s->wake.fd = -1;
  s->epfd = -1;
  g_mutex_init (&s->done_lock);
  stamp (s);

  s->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (s->epfd < 0) {
    int e = errno;
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "epoll: %s", g_strerror (e));
    goto fail;
  }
  passed = take_passed_sockets (s, error);
  if (passed < 0)
    goto fail;
  if (passed == 0) {
    if (cfg->listen == NULL || cfg->listen[0] == NULL) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "listen: no address to listen on");
      goto fail;
    }
    for (guint i = 0; cfg->listen[i] != NULL; i++)
      if (!listen_on (s, cfg->listen[i], error))
        goto fail;
  }

  /* Inline signing measured best on 2 cores (bench/README.md); this is for other machines. */
  threads = g_getenv ("VOLACT_SERVER_SIGN_THREADS");
  if (threads != NULL && atoi (threads) > 0) {
    s->wake.fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->wake.fd >= 0) {
      struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->wake };
      epoll_ctl (s->epfd, EPOLL_CTL_ADD, s->wake.fd, &ev);
      s->sign_threads = (guint) MIN (atoi (threads), 64);
      g_message ("signing responses on %u worker threads", s->sign_threads);
    }
  }

  set_accepting (s, TRUE);
  s->epoll_source = g_unix_fd_source_new (s->epfd, G_IO_IN);
  g_source_set_callback (s->epoll_source, (GSourceFunc) (void (*) (void)) on_epoll, s, NULL);
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
    on_wake (s); /* finished jobs: back to the free list */
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
    conn_close (s, g_ptr_array_index (s->active, s->active->len - 1));
  for (guint i = 0; i < s->listeners->len; i++) {
    Item *l = g_ptr_array_index (s->listeners, i);
    close (l->fd);
    g_free (l);
  }
  while (s->free_jobs != NULL) {
    Job *next = s->free_jobs->next;
    g_free (s->free_jobs);
    s->free_jobs = next;
  }
  if (s->wake.fd >= 0)
    close (s->wake.fd);
  if (s->epfd >= 0)
    close (s->epfd);
  g_ptr_array_free (s->listeners, TRUE);
  g_ptr_array_free (s->active, TRUE);
  g_ptr_array_free (s->chunks, TRUE);
  g_free (s->ring);
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

void
volact_server_get_stats (VolactServer *s, VolactServerStats *out)
{
  g_return_if_fail (s != NULL && out != NULL);
  *out = s->stats;
  out->connections = s->active->len;
  out->pending = s->ring_len;
}
