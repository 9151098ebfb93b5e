/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volact-authority confirm (telephone activation) and serve (online
 * activation). Both turn an Installation ID into a Confirmation ID through
 * one function, activator_activate(): decode, decide in the ledger, sign.
 * See docs/activation.md.
 */
#include "config.h"

#include "authority-commands.h"
#include "authority-ledger.h"
#include "authority-sign.h"

#include "volact-accept.h"
#include "volact-activation.h"
#include "volact-authority-proto.h"
#include "volact-bytes.h"
#include "volact-crypto.h"
#include "volact-error.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib-unix.h>

/* Connections served at once; more wait in the thread pool's queue. */
#define SERVE_MAX_THREADS 16
/* Connections in flight (served or queued); more are closed at once. */
#define SERVE_MAX_CONNECTIONS 128
/* In flight from one IP address: one slow client holds at most this many of the workers
 * (issue 10, finding 8: 16 slow connections held all of them for 15 s each). */
#define SERVE_MAX_PER_SOURCE 4
/* A host sends its request line at once: this bounds a whole exchange from the accept on, so
 * that a slow client frees its worker well within the host's 15 s timeout. */
#define SERVE_REQUEST_TIMEOUT_SECONDS 5u
/* How long a stop waits for the exchanges in progress. */
#define SERVE_STOP_WAIT_SECONDS 5
/* What a connection may still send after its request line before we close it. */
#define SERVE_DRAIN_MAX_BYTES 65536
/* Connections the kernel queues before we accept them. */
#define SERVE_LISTEN_BACKLOG 128
/* Bytes of the host id that logs show (as hex). */
#define LOG_HOST_ID_BYTES 4

/* The signing side: the authority's key and its ledger (one SQLite connection), behind one lock. */
typedef struct {
  GMutex lock;
  VolactLedger *ledger; /* NULL once closed */
  EVP_PKEY *key;
} Activator;

/* What one activation request gave. */
typedef struct {
  gboolean decoded; /* iid holds the request's fields */
  VolactInstallationId iid;
  guint8 activation_number;
  guint16 issue_day;
  char cid[VOLACT_CID_TEXT_SIZE];
} Activation;

static guint32
code_of (const GError *error)
{
  return error->domain == VOLACT_ERROR ? (guint32) error->code : (guint32) VOLACT_E_FAILED;
}

/* Loads the authority's key (it must match the certificate hosts trust) and opens the ledger. */
static gboolean
activator_open (Activator *act, Authority *a, GError **error)
{
  g_autofree char *key_path = authority_file (a, AUTHORITY_KEY);
  g_autofree char *cert_path = authority_file (a, AUTHORITY_CERT);
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (X509) cert = NULL;
  guint8 key_id[VOLACT_AUTHORITY_KEY_ID_SIZE], cert_id[VOLACT_AUTHORITY_KEY_ID_SIZE];

  if (!authority_check_initialised (a, error))
    return FALSE;
  key = volact_crypto_load_private_key (key_path, error);
  if (key == NULL)
    return FALSE;
  if (!volact_authority_key_id (key, key_id, error)) {
    g_prefix_error (error, "%s: host activation needs an EC P-256 authority key: ", key_path);
    return FALSE;
  }
  /* A Confirmation ID is only worth something if it verifies with the certificate hosts trust. */
  cert = volact_crypto_load_certificate (cert_path, error);
  if (cert == NULL || !volact_authority_key_id_from_cert (cert, cert_id, error))
    return FALSE;
  if (memcmp (key_id, cert_id, sizeof key_id) != 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CRYPTO,
                 "%s does not belong to %s: hosts trusting that certificate would refuse what it "
                 "signs",
                 key_path, cert_path);
    return FALSE;
  }
  act->ledger = volact_ledger_open (a->dir, error);
  if (act->ledger == NULL)
    return FALSE;
  act->key = g_steal_pointer (&key);
  return TRUE;
}

static void
activator_close (Activator *act)
{
  g_mutex_lock (&act->lock);
  g_clear_pointer (&act->ledger, volact_ledger_close);
  g_clear_pointer (&act->key, EVP_PKEY_free);
  g_mutex_unlock (&act->lock);
}

/*
 * The one activation path of confirm and serve: decodes IID_TEXT, lets the
 * ledger decide (key issued, host and activation limits; every request is
 * logged there) and signs the Confirmation ID for today.
 */
static gboolean
activator_activate (Activator *act, const char *iid_text, Activation *out, GError **error)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  VolactConfirmationId cid;
  gboolean ok;

  memset (out, 0, sizeof *out);
  if (!volact_installation_id_decode (iid_text, &out->iid, error))
    return FALSE;
  out->decoded = TRUE;
  out->issue_day = volact_activation_issue_day (now);

  g_mutex_lock (&act->lock);
  if (act->ledger == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_AUTHORITY, "the authority is shutting down");
    ok = FALSE;
  } else {
    ok = volact_ledger_activate (act->ledger, &out->iid, &out->activation_number, error)
         && volact_activation_confirm (&out->iid, act->key, out->issue_day, out->activation_number,
                                       &cid, NULL, error);
  }
  g_mutex_unlock (&act->lock);
  return ok && volact_confirmation_id_encode (&cid, out->cid, error);
}

/* confirm */

int
authority_cmd_confirm (Authority *a, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *iid_text = NULL;
  g_autofree char *host_hex = NULL;
  Activator act = { 0 };
  Activation result;
  gboolean ok;

  if (argc < 2) {
    fprintf (stderr, "volact-authority: confirm needs the Installation ID\n");
    return EXIT_USAGE;
  }
  /* People paste the groups separated by spaces: take them all as one ID. */
  iid_text = g_strjoinv (" ", argv + 1);

  g_mutex_init (&act.lock);
  ok = activator_open (&act, a, &error) && activator_activate (&act, iid_text, &result, &error);
  activator_close (&act);
  g_mutex_clear (&act.lock);
  if (!ok)
    return authority_fail (a, "confirm", error);

  host_hex = volact_hex (result.iid.host_id, VOLACT_HOST_ID_SIZE);
  if (a->json) {
    g_string_append (a->out, "{\"command\": \"confirm\", \"ok\": true, \"confirmation_id\": ");
    authority_json_string (a->out, result.cid);
    g_string_append_printf (a->out,
                            ", \"group\": %u, \"serial\": %" G_GUINT64_FORMAT ", \"host_id\": ",
                            result.iid.key_group, result.iid.key_serial);
    authority_json_string (a->out, host_hex);
    g_string_append_printf (a->out, ", \"activation_number\": %u, \"issue_day\": %u}\n",
                            result.activation_number, result.issue_day);
  } else {
    /* stdout carries only the Confirmation ID, so scripts can capture it. */
    printf ("%s\n", result.cid);
    fflush (stdout);
    fprintf (stderr,
             "Activation %u of host %s with key serial %" G_GUINT64_FORMAT
             " (group %u), issue day %u\n",
             result.activation_number, host_hex, result.iid.key_serial, result.iid.key_group,
             result.issue_day);
  }
  return EXIT_SUCCESS;
}

/* serve */

static char *opt_listen;

const GOptionEntry authority_serve_entries[]
    = { { "listen", 'l', 0, G_OPTION_ARG_STRING, &opt_listen,
          "Address to listen on: an IPv4 or [IPv6] literal and a port (0 picks a free one)",
          "ADDR:PORT" },
        { NULL } };

typedef struct {
  Activator act;
  GMainLoop *loop;
} Server;

/* Static: threads of the pool may still look at it while the process exits. */
static Server server;

/* Parses ADDR:PORT where ADDR is an IPv4 literal or a bracketed IPv6 literal. */
static GSocketAddress *
parse_listen (const char *text, GError **error)
{
  g_autoptr (GInetAddress) address = NULL;
  g_autofree char *host = NULL;
  const char *port_text;
  gboolean bracketed = text[0] == '[';
  guint64 port;

  if (bracketed) {
    const char *end = strchr (text, ']');
    if (end == NULL || end[1] != ':')
      goto bad;
    host = g_strndup (text + 1, (gsize) (end - text - 1));
    port_text = end + 2;
  } else {
    const char *colon = strrchr (text, ':');
    if (colon == NULL)
      goto bad;
    host = g_strndup (text, (gsize) (colon - text));
    port_text = colon + 1;
  }
  address = g_inet_address_new_from_string (host);
  if (address == NULL || bracketed != (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6))
    goto bad;
  if (!g_ascii_string_to_unsigned (port_text, 10, 0, 65535, &port, NULL))
    goto bad;
  return g_inet_socket_address_new (address, (guint16) port);

bad:
  g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
               "--listen \"%s\": expected ADDR:PORT with an IP address, such as 127.0.0.1:1689 "
               "or [::1]:1689 (port 0 picks a free port)",
               text);
  return NULL;
}

/* "127.0.0.1:1689" or "[::1]:1689". */
static char *
address_text (GSocketAddress *address)
{
  GInetSocketAddress *inet;
  g_autofree char *ip = NULL;

  if (address == NULL || !G_IS_INET_SOCKET_ADDRESS (address))
    return g_strdup ("?");
  inet = G_INET_SOCKET_ADDRESS (address);
  ip = g_inet_address_to_string (g_inet_socket_address_get_address (inet));
  if (g_socket_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("[%s]:%u", ip, g_inet_socket_address_get_port (inet));
  return g_strdup_printf ("%s:%u", ip, g_inet_socket_address_get_port (inet));
}

/* Turns a GIO error into VOLACT_E_IO with WHAT in front. */
static void
io_error (GError **error, GError *gio, const char *what)
{
  g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: %s", what, gio->message);
  g_error_free (gio);
}

/* A listening socket on exactly ADDRESS (an IPv6 socket does not take IPv4 too). */
static GSocket *
listen_socket (GSocketAddress *address, const char *text, GError **error)
{
  g_autoptr (GSocket) sock = NULL;
  g_autofree char *what = g_strdup_printf ("cannot listen on %s", text);
  GSocketFamily family = g_socket_address_get_family (address);
  GError *gio = NULL;

  sock = g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &gio);
  if (sock == NULL
      || (family == G_SOCKET_FAMILY_IPV6
          && !g_socket_set_option (sock, IPPROTO_IPV6, IPV6_V6ONLY, 1, &gio))
      || !g_socket_bind (sock, address, TRUE, &gio)) {
    io_error (error, gio, what);
    return NULL;
  }
  g_socket_set_listen_backlog (sock, SERVE_LISTEN_BACKLOG);
  if (!g_socket_listen (sock, &gio)) {
    io_error (error, gio, what);
    return NULL;
  }
  return g_steal_pointer (&sock);
}

/* Every failure a client sees is a VOLACT_ERROR code with a message that tells it nothing
 * about the authority's files. */
static void
reply_error (VolactAcceptConn *conn, GError **error)
{
  GError *e = *error;
  guint32 code = code_of (e);

  if (g_error_matches (e, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_error_matches (e, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
    if (g_error_matches (e, G_IO_ERROR, G_IO_ERROR_CANCELLED)
        && !volact_accept_conn_timed_out (conn))
      *error = g_error_new (VOLACT_ERROR, VOLACT_E_AUTHORITY, "the authority is shutting down");
    else
      *error
          = g_error_new (VOLACT_ERROR, VOLACT_E_AUTHORITY, "no complete request within %u seconds",
                         SERVE_REQUEST_TIMEOUT_SECONDS);
  } else if (e->domain != VOLACT_ERROR) {
    *error = g_error_new (VOLACT_ERROR, VOLACT_E_AUTHORITY, "bad request: %s", e->message);
  } else if (code == (guint32) VOLACT_E_IO || code == (guint32) VOLACT_E_CRYPTO
             || code == (guint32) VOLACT_E_FAILED) {
    g_warning ("activation failed inside the authority: %s", e->message);
    *error = g_error_new (VOLACT_ERROR, (gint) code,
                          "the authority could not complete the activation; try again later");
  } else {
    return;
  }
  g_error_free (e);
}

/* The reply line: one line of printable ASCII, at most VOLACT_AUTHORITY_MAX_LINE bytes. */
static char *
reply_line (const char *cid_text, const GError *error)
{
  char *reply = volact_authority_format_reply (cid_text, error);
  gsize len = strlen (reply);

  if (len > VOLACT_AUTHORITY_MAX_LINE + 1) {
    len = VOLACT_AUTHORITY_MAX_LINE + 1;
    reply[len - 1] = '\n';
    reply[len] = '\0';
  }
  for (gsize i = 0; i + 1 < len; i++)
    if ((guchar) reply[i] < 0x20 || (guchar) reply[i] > 0x7e)
      reply[i] = '?';
  return reply;
}

static void
log_exchange (const char *peer, const Activation *result, const GError *error)
{
  g_autofree char *host = NULL;

  if (!result->decoded) {
    g_message ("request from %s refused: 0x%08X %s", peer, code_of (error), error->message);
    return;
  }
  /* The serial and a prefix of the host id identify the exchange; the key itself is never
   * logged. */
  host = volact_hex (result->iid.host_id, LOG_HOST_ID_BYTES);
  if (error == NULL)
    g_message ("activation from %s: key serial %" G_GUINT64_FORMAT " group %u host %s...: "
               "granted, activation %u",
               peer, result->iid.key_serial, result->iid.key_group, host,
               result->activation_number);
  else
    g_message ("activation from %s: key serial %" G_GUINT64_FORMAT " group %u host %s...: "
               "refused 0x%08X %s",
               peer, result->iid.key_serial, result->iid.key_group, host, code_of (error),
               volact_error_name (code_of (error)) ? volact_error_name (code_of (error)) : "");
}

/* One exchange in a worker thread: a request line, a reply line, close. Bounded by one deadline
 * in all, from the accept on (volact-accept.h), so a client that trickles bytes cannot keep a
 * thread; a stop cancels it as well. */
static void
serve_connection (VolactAcceptConn *accepted, gpointer user_data)
{
  GSocketConnection *conn = volact_accept_conn_get_connection (accepted);
  GCancellable *cancel = volact_accept_conn_get_cancellable (accepted);
  GSocket *sock = g_socket_connection_get_socket (conn);
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  g_autoptr (GSocketAddress) remote = g_socket_connection_get_remote_address (conn, NULL);
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *peer = address_text (remote);
  g_autofree char *line = NULL;
  g_autofree char *iid_text = NULL;
  g_autofree char *reply = NULL;
  Activation result = { 0 };
  gboolean ok = FALSE;
  char buf[4096];
  gsize drained = 0;

  in = g_buffered_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (conn)));
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (in), FALSE);
  line = volact_authority_read_line (in, VOLACT_AUTHORITY_MAX_LINE, cancel, &error);
  if (line == NULL && error == NULL)
    return; /* closed without a request */
  if (line != NULL && (iid_text = volact_authority_parse_request (line, &error)) != NULL)
    ok = activator_activate (&server.act, iid_text, &result, &error);
  if (!ok)
    reply_error (accepted, &error);
  log_exchange (peer, &result, error);

  reply = reply_line (ok ? result.cid : NULL, error);
  /* Not cancellable: the reply to a timed-out request still goes out (the socket timeout
   * bounds the write). */
  g_output_stream_write_all (out, reply, strlen (reply), NULL, NULL, NULL);
  /* Then read what the client still sends until it closes, so that closing does not reset
   * the connection before the client has read the reply. */
  g_socket_shutdown (sock, FALSE, TRUE, NULL);
  while (drained < SERVE_DRAIN_MAX_BYTES) {
    gssize n = g_input_stream_read (in, buf, sizeof buf, cancel, NULL);
    if (n <= 0)
      break;
    drained += (gsize) n;
  }
}

static gboolean
on_stop_signal (gpointer data)
{
  g_message ("stopping on %s", (const char *) data);
  g_main_loop_quit (server.loop);
  return G_SOURCE_CONTINUE;
}

int
authority_cmd_serve (Authority *a, int argc, char **argv)
{
  g_autoptr (GSocketAddress) address = NULL;
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GError) error = NULL;
  VolactAccept *accept;
  VolactAcceptConfig config = {
    .name = "online activation",
    .max_connections = SERVE_MAX_CONNECTIONS,
    .per_source = SERVE_MAX_PER_SOURCE,
    .threads = SERVE_MAX_THREADS,
    .timeout_seconds = SERVE_REQUEST_TIMEOUT_SECONDS,
    .serve = serve_connection,
  };
  g_autofree char *endpoint = NULL;
  GError *gio = NULL;
  guint sigterm, sigint;

  if (argc > 1) {
    fprintf (stderr, "volact-authority: serve takes no arguments\n");
    return EXIT_USAGE;
  }
  if (opt_listen == NULL) {
    fprintf (stderr, "volact-authority: serve needs --listen ADDR:PORT\n");
    return EXIT_USAGE;
  }
  address = parse_listen (opt_listen, &error);
  if (address == NULL || !activator_open (&server.act, a, &error))
    return authority_fail (a, "serve", error);
  sock = listen_socket (address, opt_listen, &error);
  if (sock == NULL) {
    activator_close (&server.act);
    return authority_fail (a, "serve", error);
  }
  local = g_socket_get_local_address (sock, &gio);
  if (local == NULL) {
    io_error (&error, gio, "cannot read the listening address");
    activator_close (&server.act);
    return authority_fail (a, "serve", error);
  }

  server.loop = g_main_loop_new (NULL, FALSE);
  accept = volact_accept_new (&config, &error);
  if (accept == NULL) {
    activator_close (&server.act);
    return authority_fail (a, "serve", error);
  }
  if (!g_socket_listener_add_socket (volact_accept_get_listener (accept), sock, NULL, &gio)) {
    io_error (&error, gio, "cannot serve the listening socket");
    volact_accept_stop (accept, 0);
    activator_close (&server.act);
    return authority_fail (a, "serve", error);
  }
  sigterm = g_unix_signal_add (SIGTERM, on_stop_signal, (gpointer) "SIGTERM");
  sigint = g_unix_signal_add (SIGINT, on_stop_signal, (gpointer) "SIGINT");

  /* Exactly this line on stdout, with the actual port: tests start us on port 0 and read it. */
  endpoint = address_text (local);
  printf ("listening on %s\n", endpoint);
  fflush (stdout);
  g_message ("serving online activation on %s with ledger %s", endpoint,
             volact_ledger_path (server.act.ledger));

  volact_accept_start (accept);
  g_main_loop_run (server.loop);
  /* Ends the exchanges in progress; the ledger closes only if they all ended. */
  if (volact_accept_stop (accept, SERVE_STOP_WAIT_SECONDS) == 0)
    activator_close (&server.act);
  else
    g_message ("leaving the ledger to SQLite's recovery");

  g_source_remove (sigterm);
  g_source_remove (sigint);
  g_main_loop_unref (server.loop);
  server.loop = NULL;
  return EXIT_SUCCESS;
}
