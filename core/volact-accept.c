/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-accept.h"

#include "volact-error.h"
#include "volact-limits.h"

#include <sys/socket.h>

/* Connections the kernel queues for us, for the sockets added by address. */
#define ACCEPT_BACKLOG 256

struct _VolactAccept {
  VolactAcceptConfig config;
  char *name;
  GSocketService *service;
  GThreadPool *pool;
  GMainContext *context; /* where accepting and the deadlines run */
  GMutex lock;           /* guards in_flight, conns and stopping */
  GCond idle;            /* signalled when in_flight drops to 0 */
  guint in_flight;
  GHashTable *conns; /* the connections in flight, for a stop to cancel */
  GHashTable *per_source; /* IP address text -> connections in flight from it (per_source > 0) */
  gboolean stopping;
  /* The refusal log; main loop only. */
  guint64 refused;
  gint64 refused_logged_at;
};

struct _VolactAcceptConn {
  GSocketConnection *connection;
  GCancellable *cancel;
  GSource *deadline;
  gint timed_out; /* atomic */
  char *source;   /* key in per_source, or NULL */
};

/* Connections are refcounted: the worker holds one reference and the deadline source another,
 * so a deadline firing while the worker finishes never sees a freed connection. */
static void
conn_release (gpointer data)
{
  VolactAcceptConn *conn = data;

  g_clear_object (&conn->connection);
  g_clear_object (&conn->cancel);
  g_free (conn->source);
}

static void
conn_unref (gpointer data)
{
  g_rc_box_release_full (data, conn_release);
}

static gboolean
deadline_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  VolactAcceptConn *conn = data;

  g_atomic_int_set (&conn->timed_out, 1);
  g_cancellable_cancel (conn->cancel);
  g_source_set_ready_time (source, -1);
  return G_SOURCE_CONTINUE; /* the worker destroys it; until then it may be re-armed */
}

static GSourceFuncs deadline_funcs = { NULL, NULL, deadline_dispatch, NULL, NULL, NULL };

/* Main loop only: counts a refused connection and logs the count once per interval. */
static void
note_refused (VolactAccept *acc, guint in_flight)
{
  gint64 now = g_get_monotonic_time ();

  acc->refused++;
  if (acc->refused_logged_at != 0
      && now - acc->refused_logged_at < VOLACT_ACCEPT_LOG_INTERVAL_SECONDS * G_TIME_SPAN_SECOND)
    return;
  g_message ("%s: refused %" G_GUINT64_FORMAT " connection(s) over the limit of %u in flight "
             "(%u now); the next refusals are counted for %d seconds",
             acc->name, acc->refused, acc->config.max_connections, in_flight,
             VOLACT_ACCEPT_LOG_INTERVAL_SECONDS);
  acc->refused = 0;
  acc->refused_logged_at = now;
}

static void
conn_finish (VolactAccept *acc, VolactAcceptConn *conn)
{
  g_io_stream_close (G_IO_STREAM (conn->connection), NULL, NULL);
  g_source_destroy (conn->deadline);
  g_clear_pointer (&conn->deadline, g_source_unref);
  g_mutex_lock (&acc->lock);
  g_hash_table_remove (acc->conns, conn);
  if (conn->source != NULL) {
    guint n = GPOINTER_TO_UINT (g_hash_table_lookup (acc->per_source, conn->source));
    if (n <= 1)
      g_hash_table_remove (acc->per_source, conn->source);
    else
      g_hash_table_insert (acc->per_source, g_strdup (conn->source), GUINT_TO_POINTER (n - 1));
  }
  if (--acc->in_flight == 0)
    g_cond_broadcast (&acc->idle);
  g_mutex_unlock (&acc->lock);
  /* ACC may be freed from here on. */
  conn_unref (conn);
}

/* A worker thread. */
static void
run (gpointer data, gpointer user_data)
{
  VolactAcceptConn *conn = data;
  VolactAccept *acc = user_data;
  gboolean stopping;

  g_mutex_lock (&acc->lock);
  stopping = acc->stopping;
  g_mutex_unlock (&acc->lock);
  if (!stopping) /* a connection queued before a stop is just closed */
    acc->config.serve (conn, acc->config.user_data);
  conn_finish (acc, conn);
}

/* The source of SOCKET's peer as text (its IPv4 address, or its IPv6 /64: as the client
 * port's limits count), or NULL (a Unix socket, or unknown). */
static char *
peer_source (GSocket *sock)
{
  g_autoptr (GSocketAddress) remote = g_socket_get_remote_address (sock, NULL);
  GInetAddress *address;
  char text[VOLACT_LIMITS_SOURCE_TEXT];

  if (remote == NULL || !G_IS_INET_SOCKET_ADDRESS (remote))
    return NULL;
  address = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote));
  volact_limits_address_source (
      g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV4 ? AF_INET : AF_INET6,
      g_inet_address_to_bytes (address), text);
  return g_strdup (text);
}

/* The main loop: admit CONNECTION into a slot and queue it, or close it at once. */
static gboolean
on_incoming (GSocketService *service, GSocketConnection *connection, GObject *source,
             gpointer user_data)
{
  VolactAccept *acc = user_data;
  GSocket *sock = g_socket_connection_get_socket (connection);
  guint limit = acc->config.max_connections - acc->config.reserved;
  VolactAcceptConn *conn;
  guint in_flight;
  g_autofree char *peer = NULL;
  g_autoptr (GError) error = NULL;

  g_mutex_lock (&acc->lock);
  in_flight = acc->in_flight;
  g_mutex_unlock (&acc->lock);
  /* Only this thread raises in_flight, so the count can only have dropped since. */
  if (in_flight >= limit && acc->config.reserved > 0 && acc->config.privileged != NULL
      && acc->config.privileged (sock, acc->config.user_data))
    limit = acc->config.max_connections;
  if (in_flight >= limit) {
    g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
    note_refused (acc, in_flight);
    return TRUE;
  }
  if (acc->config.per_source > 0 && (peer = peer_source (sock)) != NULL) {
    guint n;
    g_mutex_lock (&acc->lock);
    n = GPOINTER_TO_UINT (g_hash_table_lookup (acc->per_source, peer));
    if (n < acc->config.per_source)
      g_hash_table_insert (acc->per_source, g_strdup (peer), GUINT_TO_POINTER (n + 1));
    g_mutex_unlock (&acc->lock);
    if (n >= acc->config.per_source) {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      note_refused (acc, in_flight);
      return TRUE;
    }
  }

  conn = g_rc_box_new0 (VolactAcceptConn);
  conn->source = g_steal_pointer (&peer);
  conn->connection = g_object_ref (connection);
  conn->cancel = g_cancellable_new ();
  conn->deadline = g_source_new (&deadline_funcs, sizeof (GSource));
  g_source_set_callback (conn->deadline, NULL, g_rc_box_acquire (conn), conn_unref);
  g_source_set_name (conn->deadline, "volact-accept deadline");
  g_socket_set_timeout (sock, acc->config.timeout_seconds);
  volact_accept_conn_set_deadline (conn, acc->config.timeout_seconds);
  g_source_attach (conn->deadline, acc->context);

  g_mutex_lock (&acc->lock);
  acc->in_flight++;
  g_hash_table_add (acc->conns, conn);
  g_mutex_unlock (&acc->lock);
  if (!g_thread_pool_push (acc->pool, conn, &error)) {
    g_warning ("%s: cannot serve a connection: %s", acc->name, error->message);
    conn_finish (acc, conn);
  }
  return TRUE;
}

VolactAccept *
volact_accept_new (const VolactAcceptConfig *config, GError **error)
{
  VolactAccept *acc;
  GError *pool_error = NULL;

  g_return_val_if_fail (config->serve != NULL && config->threads > 0
                            && config->reserved < config->max_connections,
                        NULL);
  acc = g_new0 (VolactAccept, 1);
  acc->config = *config;
  acc->name = g_strdup (config->name);
  acc->config.name = acc->name;
  acc->pool = g_thread_pool_new (run, acc, (gint) config->threads, FALSE, &pool_error);
  if (acc->pool == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "%s: cannot start worker threads: %s",
                 acc->name, pool_error->message);
    g_error_free (pool_error);
    g_free (acc->name);
    g_free (acc);
    return NULL;
  }
  g_mutex_init (&acc->lock);
  g_cond_init (&acc->idle);
  acc->conns = g_hash_table_new (NULL, NULL);
  acc->per_source = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  acc->context = g_main_context_ref_thread_default ();
  /* A plain service: accepting never leaves this thread's main context. */
  acc->service = g_socket_service_new ();
  g_socket_service_stop (acc->service);
  /* Room for bursts (the refused ones reconnect at once), so that the kernel's queue is not
   * full when root's own connection comes. */
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (acc->service), ACCEPT_BACKLOG);
  g_signal_connect (acc->service, "incoming", G_CALLBACK (on_incoming), acc);
  return acc;
}

GSocketListener *
volact_accept_get_listener (VolactAccept *accept)
{
  return G_SOCKET_LISTENER (accept->service);
}

void
volact_accept_start (VolactAccept *accept)
{
  g_socket_service_start (accept->service);
}

guint
volact_accept_stop (VolactAccept *accept, guint wait_seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) wait_seconds * G_TIME_SPAN_SECOND;
  g_autoptr (GPtrArray) cancels = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer key;
  guint left;

  if (accept == NULL)
    return 0;
  g_socket_service_stop (accept->service);
  g_socket_listener_close (G_SOCKET_LISTENER (accept->service));
  g_mutex_lock (&accept->lock);
  accept->stopping = TRUE;
  g_hash_table_iter_init (&iter, accept->conns);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (cancels, g_object_ref (((VolactAcceptConn *) key)->cancel));
  g_mutex_unlock (&accept->lock);
  /* Outside the lock: cancelling runs the handlers connected to the cancellables. */
  for (guint i = 0; i < cancels->len; i++)
    g_cancellable_cancel (cancels->pdata[i]);

  g_mutex_lock (&accept->lock);
  while (accept->in_flight > 0)
    if (!g_cond_wait_until (&accept->idle, &accept->lock, end))
      break;
  left = accept->in_flight;
  g_mutex_unlock (&accept->lock);
  if (accept->refused > 0)
    g_message ("%s: refused %" G_GUINT64_FORMAT " more connection(s) over the limit", accept->name,
               accept->refused);
  if (left > 0) {
    g_message ("%s: %u connection(s) did not end within %u seconds", accept->name, left,
               wait_seconds);
    return left;
  }
  g_thread_pool_free (accept->pool, FALSE, TRUE);
  g_signal_handlers_disconnect_by_data (accept->service, accept);
  g_object_unref (accept->service);
  g_hash_table_unref (accept->conns);
  g_hash_table_unref (accept->per_source);
  g_main_context_unref (accept->context);
  g_mutex_clear (&accept->lock);
  g_cond_clear (&accept->idle);
  g_free (accept->name);
  g_free (accept);
  return 0;
}

GSocketConnection *
volact_accept_conn_get_connection (VolactAcceptConn *conn)
{
  return conn->connection;
}

GCancellable *
volact_accept_conn_get_cancellable (VolactAcceptConn *conn)
{
  return conn->cancel;
}

void
volact_accept_conn_set_deadline (VolactAcceptConn *conn, guint seconds)
{
  /* Safe from the worker thread: GLib locks the source's context. */
  g_source_set_ready_time (
      conn->deadline,
      seconds == 0 ? -1 : g_get_monotonic_time () + (gint64) seconds * G_TIME_SPAN_SECOND);
}

gboolean
volact_accept_conn_timed_out (VolactAcceptConn *conn)
{
  return g_atomic_int_get (&conn->timed_out) != 0;
}
