/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * Accept-and-dispatch for the blocking servers (the administration socket
 * and volact-authority serve).
 *
 * Connections are accepted on the main loop of the thread that created the
 * VolactAccept (a plain GSocketService, never paused or resumed from another
 * thread) and served one per task in a bounded GThreadPool. At most
 * max_connections are in flight (queued or being served); of those, reserved
 * slots go only to peers that the privileged callback accepts, and at most
 * per_source come from one source, an IPv4 address or an IPv6 /64 (so that one slow client cannot hold
 * every worker: issue 10, finding 8). A connection over a limit is closed at
 * once, and the refusals are logged at most once
 * per VOLACT_ACCEPT_LOG_INTERVAL_SECONDS. Each connection has a read deadline
 * that cancels its GCancellable, and a socket timeout that bounds every
 * blocking operation.
 */
#ifndef VOLACT_ACCEPT_H
#define VOLACT_ACCEPT_H

#include <gio/gio.h>

G_BEGIN_DECLS

/** Refusals over the limit are logged at most once per this many seconds. */
#define VOLACT_ACCEPT_LOG_INTERVAL_SECONDS 10

typedef struct _VolactAccept VolactAccept;
typedef struct _VolactAcceptConn VolactAcceptConn;

/** Serves CONN in a worker thread; the connection is closed when it returns. */
typedef void (*VolactAcceptServe) (VolactAcceptConn *conn, gpointer user_data);
/** On the main loop at accept time: TRUE lets SOCKET's peer use the reserved slots. */
typedef gboolean (*VolactAcceptPrivileged) (GSocket *socket, gpointer user_data);

typedef struct {
  const char *name;                  /* starts each log line, e.g. "administration socket" */
  guint max_connections;             /* in flight at once (queued or served), >= 1 */
  guint reserved;                    /* of those, kept for privileged peers, < max_connections */
  guint per_source;                  /* in flight from one IPv4 address or IPv6 /64; 0 = no cap */
  guint threads;                     /* worker threads, >= 1 */
  guint timeout_seconds;             /* first read deadline and socket timeout; 0 = none */
  VolactAcceptServe serve;           /* required */
  VolactAcceptPrivileged privileged; /* NULL: no peer is privileged */
  gpointer user_data;                /* for serve and privileged */
} VolactAcceptConfig;

/**
 * A server with no listening socket yet; add them to
 * volact_accept_get_listener() and call volact_accept_start().
 */
VolactAccept *volact_accept_new (const VolactAcceptConfig *config, GError **error);
/** Where to add the listening sockets or addresses. */
GSocketListener *volact_accept_get_listener (VolactAccept *accept);
/** Starts accepting on the creating thread's main context. */
void volact_accept_start (VolactAccept *accept);
/**
 * Stops accepting, cancels every connection in flight and waits up to
 * WAIT_SECONDS for them to end. Frees ACCEPT and returns 0 if they all ended;
 * otherwise returns how many did not and leaves ACCEPT to the exiting process,
 * since their threads still use it.
 */
guint volact_accept_stop (VolactAccept *accept, guint wait_seconds);

/** The connection being served. */
GSocketConnection *volact_accept_conn_get_connection (VolactAcceptConn *conn);
/** Cancelled when the read deadline passes or the server stops: pass it to every read. */
GCancellable *volact_accept_conn_get_cancellable (VolactAcceptConn *conn);
/** Moves the read deadline to SECONDS from now; 0 removes it (a command in progress). */
void volact_accept_conn_set_deadline (VolactAcceptConn *conn, guint seconds);
/** TRUE if the read deadline passed (rather than the server stopping). */
gboolean volact_accept_conn_timed_out (VolactAcceptConn *conn);

G_END_DECLS

#endif
