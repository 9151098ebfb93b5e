/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the client listener's transport (volact-server.c: listeners,
 * the epoll loop and timers; volact-conn.c: connections, the pending ring
 * and the signing hand-off). Not for other parts of the core.
 *
 * One epoll set holds the listening sockets and every connection; one
 * GSource watches the epoll descriptor in the main context, so the main loop
 * costs the same with 10 or 10,000 connections and nothing is allocated per
 * connection or per request (connections come from a free list, the pending
 * queue is a ring).
 */
#ifndef VOLACT_TRANSPORT_H
#define VOLACT_TRANSPORT_H

#include <glib.h>
#include <sys/socket.h>

#include "volact-host.h"
#include "volact-limits.h"
#include "volact-listen.h"
#include "volact-protocol.h"
#include "volact-records.h"
#include "volact-request-counters.h"
#include "volact-server.h"

G_BEGIN_DECLS

#define PARTIAL_TIMEOUT (10 * G_USEC_PER_SEC) /* a request must arrive whole within this */
#define IDLE_TIMEOUT (60 * G_USEC_PER_SEC)    /* no request (or no write progress) this long */
#define COMMIT_TIMEOUT (10 * G_USEC_PER_SEC)  /* record not durable this long: HOST_BUSY */
#define LINGER_TIMEOUT (2 * G_USEC_PER_SEC)   /* after an error response, wait this for EOF */
#define LOG_INTERVAL (60 * G_USEC_PER_SEC)    /* repeated warnings: at most one a minute */
#define ACCEPT_PAUSE_MS 250                   /* out of descriptors: stop accepting this long */
#define REARM_RETRY_MS 1000                   /* a listener epoll refused: try again after this */
#define MAX_EVENTS 128
#define ACCEPT_BATCH 64 /* accepts per wake-up, so connected clients are not starved */
#define CONN_CHUNK 64   /* connections allocated together */
/* Descriptors kept out of max-connections: admin socket (16), web listener, record store,
 * plugins, listeners, the journal. */
#define FD_RESERVE 256
/* Room for one whole request and the start of a pipelined next one. */
#define IN_SIZE 256
G_STATIC_ASSERT (IN_SIZE > VOLACT_PROTO_REQUEST_MAX);

/*
 * The stats are written by the server's thread only and read by the metrics
 * from any thread: a relaxed load and store (no locked instruction), atomic
 * only so that a reader never sees a torn value.
 */
#define STAT_SET(s, field, value) __atomic_store_n (&(s)->stats.field, (value), __ATOMIC_RELAXED)
#define STAT_INC(s, field) STAT_SET (s, field, (s)->stats.field + 1)

typedef enum {
  ITEM_LISTENER = 1,
  ITEM_CONN,
  ITEM_WAKE,
} ItemKind;

/* What an epoll event points at: the first member of a listener, connection or the wake fd. */
typedef struct {
  ItemKind kind;
  int fd;
} Item;

typedef struct {
  Item item;         /* kind ITEM_LISTENER */
  gboolean armed;    /* in the epoll set */
  const char *where; /* of its VolactListener */
} Listener;

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
  VolactSource *source; /* its entry in server->limits (valid while the connection is open) */
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
  GSource *resume_source; /* re-enables accepting: after EMFILE, or retrying a failed re-arm */
  GPtrArray *sockets;     /* VolactListener*, owning the descriptors */
  Listener *listeners;    /* one per socket */
  guint n_listeners;
  guint port;
  guint max_conns;
  VolactLimits *limits; /* per-source limits */

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
  /* Written with STAT_INC/STAT_SET only: the metrics read them from another thread. */
  VolactServerStats stats;
  /* Requests by edition and result, for the metrics. */
  VolactRequestCounters *answers;
  gint64 refused_logged;
  guint64 refused_unlogged;
  gint64 accept_error_logged;
  gint64 sign_error_logged;
  gint64 arm_error_logged;

  guint sign_threads; /* 0: sign inline */
  GThreadPool *pool;  /* made on first use: no threads before volactd detaches (fork) */
  Item wake;          /* eventfd: workers finished jobs */
  GMutex done_lock;
  Job *done; /* finished jobs, newest first; done_lock */
  Job *free_jobs;
};

/* volact-server.c */
void volact_transport_stamp (VolactServer *s);
/* TRUE at most once per LOG_INTERVAL for *LAST (the first time always). */
gboolean volact_transport_log_due (VolactServer *s, gint64 *last);

/* SRC was refused by limit KIND: counts it and raises the host event when one is due. */
void volact_transport_limited (VolactServer *s, VolactSource *src, VolactLimitKind kind);

/* volact-conn.c */
/*
 * Takes accepted socket FD from peer SA, whose source SRC already counts it
 * (volact_limits_conn_open): reads what already arrived, then watches it.
 */
void volact_conn_open (VolactServer *s, int fd, const struct sockaddr_storage *sa,
                       VolactSource *src);
/* Reacts to epoll events EV on C. */
void volact_conn_event (VolactServer *s, Conn *c, guint32 ev);
void volact_conn_close (VolactServer *s, Conn *c);
/* Returns closed connections to the free list once no event batch can still name them. */
void volact_conn_reap (VolactServer *s);
/* Everything up to TICKET is durable: sends the responses that waited for it. */
void volact_conn_committed (VolactServer *s, guint64 ticket);
/* Closes slow, idle and lingering connections; answers HOST_BUSY to ones stuck on a commit. */
void volact_conn_sweep (VolactServer *s);
/* Workers finished jobs (the eventfd woke us): their responses go out. */
void volact_conn_on_wake (VolactServer *s);
/* Frees the pool's idle jobs (at stop, after the pool). */
void volact_conn_free_jobs (VolactServer *s);

G_END_DECLS

#endif
