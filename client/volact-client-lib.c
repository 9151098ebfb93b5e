/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvolact: one host connection, one request at a time, every response verified. */
#include "config.h"

#include "volact.h"

#include "volact-client-discover.h"
#include "volact-host-cert.h"
#include "volact-crypto.h"
#include "volact-error.h"
#include "volact-protocol.h"

#include <string.h>

#include <gio/gio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/rand.h>

/* Connecting, and each read or write, gives up after this long. */
#define CLIENT_TIMEOUT_SECONDS 10
/* Discovered hosts that answer "cannot serve now" before the client gives up (docs/client.md). */
#define CLIENT_MAX_PASSES 8

/* The public enum mirrors the protocol's; a change to either must show here. */
G_STATIC_ASSERT ((int) VOLACT_CLIENT_STATE_OOB_GRACE == (int) VOLACT_STATE_OOB_GRACE);
G_STATIC_ASSERT ((int) VOLACT_CLIENT_STATE_LICENSED == (int) VOLACT_STATE_LICENSED);
G_STATIC_ASSERT ((int) VOLACT_CLIENT_STATE_OOT_GRACE == (int) VOLACT_STATE_OOT_GRACE);
G_STATIC_ASSERT ((int) VOLACT_CLIENT_STATE_NONGENUINE_GRACE == (int) VOLACT_STATE_NONGENUINE_GRACE);
G_STATIC_ASSERT ((int) VOLACT_CLIENT_STATE_NOTIFICATION == (int) VOLACT_STATE_NOTIFICATION);
G_STATIC_ASSERT ((int) VOLACT_CLIENT_STATE_UNLICENSED == (int) VOLACT_STATE_UNLICENSED);
G_STATIC_ASSERT (VOLACT_CLIENT_CMID_SIZE == VOLACT_PROTO_CMID_SIZE);

struct _VolactClient {
  char *host;
  guint16 port;
  char *label; /* "host:port" or "[v6]:port", for messages; NULL before discovery found one */
  VolactDiscovery *discovery; /* NULL: the one host given */
  gboolean from_cache;        /* the connection went to the cached host */
  GSocketClient *socket_client;
  GSocketConnection *connection; /* NULL while not connected */
  VolactResponseVerifier *verifier;
};

GQuark
volact_client_error_quark (void)
{
  return volact_error_quark ();
}

const char *
volact_client_result_text (guint32 code)
{
  return volact_error_text (code);
}

/* A client with the authority in TRUST pinned, no host yet. */
static VolactClient *
client_new_trusting (const char *trust, GError **error)
{
  g_autoptr (X509) cert = NULL;
  guint8 key_id[VOLACT_AUTHORITY_KEY_ID_SIZE];
  EVP_PKEY *authority;
  VolactClient *client;

  /* No built-in default: trusting the committed demo authority unasked would let anyone
   * holding its (public) key run a host this client accepts. */
  if (trust == NULL || *trust == '\0') {
    g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                         "no trusted authority given: name the certificate of the authority "
                         "whose hosts to accept (volact-client --trust CERT)");
    return NULL;
  }
  cert = volact_crypto_load_certificate (trust, error);
  if (cert == NULL) {
    g_prefix_error (error, "trusted authority: ");
    return NULL;
  }
  authority = X509_get0_pubkey (cert);
  /* The key id computation also checks that the key is EC P-256. */
  if (authority == NULL || !volact_authority_key_id (authority, key_id, error)) {
    g_prefix_error (error, "trusted authority %s: ", trust);
    return NULL;
  }

  client = g_new0 (VolactClient, 1);
  client->socket_client = g_socket_client_new ();
  g_socket_client_set_timeout (client->socket_client, CLIENT_TIMEOUT_SECONDS);
  client->verifier = volact_response_verifier_new (authority);
  return client;
}

VolactClient *
volact_client_new (const char *host, guint16 port, const char *trust_cert_path, GError **error)
{
  VolactClient *client;

  if (host == NULL || *host == '\0') {
    g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_CONFIG, "no host given");
    return NULL;
  }
  client = client_new_trusting (trust_cert_path, error);
  if (client == NULL)
    return NULL;
  client->host = g_strdup (host);
  client->port = port != 0 ? port : VOLACT_CLIENT_DEFAULT_PORT;
  client->label = strchr (host, ':') ? g_strdup_printf ("[%s]:%u", host, client->port)
                                     : g_strdup_printf ("%s:%u", host, client->port);
  return client;
}

VolactClient *
volact_client_new_discover (const VolactClientDiscovery *discovery, const char *trust_cert_path,
                            GError **error)
{
  g_autoptr (VolactDiscovery) d = volact_discovery_new (discovery, error);
  VolactClient *client;

  if (d == NULL)
    return NULL;
  client = client_new_trusting (trust_cert_path, error);
  if (client != NULL)
    client->discovery = g_steal_pointer (&d);
  return client;
}

const char *
volact_client_get_host (VolactClient *client)
{
  g_return_val_if_fail (client != NULL, NULL);
  return client->label;
}

gboolean
volact_client_get_host_from_cache (VolactClient *client)
{
  g_return_val_if_fail (client != NULL, FALSE);
  return client->from_cache;
}

void
volact_client_close (VolactClient *client)
{
  g_return_if_fail (client != NULL);
  if (client->connection != NULL) {
    g_io_stream_close (G_IO_STREAM (client->connection), NULL, NULL);
    g_clear_object (&client->connection);
  }
}

void
volact_client_free (VolactClient *client)
{
  if (client == NULL)
    return;
  volact_client_close (client);
  g_clear_object (&client->socket_client);
  volact_response_verifier_free (client->verifier);
  volact_discovery_free (client->discovery);
  g_free (client->host);
  g_free (client->label);
  g_free (client);
}

static gboolean
unreachable (VolactClient *client, GError **error, const char *what, GError *cause)
{
  g_set_error (error, VOLACT_ERROR, VOLACT_E_HOST_UNREACHABLE, "%s: %s%s%s", client->label, what,
               cause ? ": " : "", cause ? cause->message : "");
  return FALSE;
}

static gboolean
ensure_connected (VolactClient *client, GError **error)
{
  g_autoptr (GSocketConnectable) address = NULL;
  g_autoptr (GError) local = NULL;
  GSocket *socket;

  if (client->connection != NULL)
    return TRUE;
  if (client->discovery != NULL) {
    g_autofree char *label = NULL;
    client->connection = volact_discovery_connect (client->discovery, CLIENT_TIMEOUT_SECONDS,
                                                   &label, &client->from_cache, error);
    if (client->connection == NULL)
      return FALSE;
    g_free (client->label);
    client->label = g_steal_pointer (&label);
    return TRUE;
  }
  address = g_network_address_new (client->host, client->port);
  client->connection = g_socket_client_connect (client->socket_client, address, NULL, &local);
  if (client->connection == NULL)
    return unreachable (client, error, "cannot connect", local);
  /* One small message each way per exchange: send it now, not after an ACK. */
  socket = g_socket_connection_get_socket (client->connection);
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  return TRUE;
}

/* Sends REQUEST and reads one whole message into REPLY (at most VOLACT_PROTO_MESSAGE_MAX). */
static gboolean
exchange (VolactClient *client, const guint8 *request, gsize request_len, guint8 *reply,
          gsize *reply_len, VolactMessageType *type, GError **error)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (client->connection));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (client->connection));
  g_autoptr (GError) local = NULL;
  gsize n = 0, total = 0;

  if (!g_output_stream_write_all (out, request, request_len, NULL, NULL, &local))
    return unreachable (client, error, "cannot send the request", local);
  if (!g_input_stream_read_all (in, reply, VOLACT_PROTO_HEADER_SIZE, &n, NULL, &local))
    return unreachable (client, error, "no answer", local);
  if (n < VOLACT_PROTO_HEADER_SIZE)
    return unreachable (client, error, "the host closed the connection without an answer", NULL);
  if (!volact_proto_peek (reply, n, type, &total, &local)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_RESPONSE_INVALID, "response rejected: %s",
                 local->message);
    return FALSE;
  }
  /* peek bounds total by the type's size, all of them within VOLACT_PROTO_MESSAGE_MAX. */
  if (!g_input_stream_read_all (in, reply + n, total - n, &n, NULL, &local))
    return unreachable (client, error, "the answer was cut short", local);
  if (n != total - VOLACT_PROTO_HEADER_SIZE)
    return unreachable (client, error, "the host closed the connection in mid-answer", NULL);
  *reply_len = total;
  return TRUE;
}

/* Turns a verified reply into RES, or an error. */
static gboolean
interpret_reply (VolactClient *client, const guint8 *request, gsize request_len,
                 const guint8 *reply, gsize reply_len, VolactMessageType type,
                 VolactClientResult *res, GError **error)
{
  static const guint8 zero_nonce[VOLACT_PROTO_NONCE_SIZE] = { 0 };
  const guint8 *nonce = request + VOLACT_PROTO_HEADER_SIZE;
  guint8 reply_nonce[VOLACT_PROTO_NONCE_SIZE];
  VolactResponse resp;
  guint32 code = 0;

  switch (type) {
    case VOLACT_MSG_RESPONSE:
      if (!volact_response_verifier_check (client->verifier, reply, reply_len, request, request_len,
                                           &resp, error))
        return FALSE;
      res->result = resp.result;
      res->licensed = resp.result == 0;
      res->count = resp.count;
      res->minimum_count = resp.minimum_count;
      res->activation_interval = resp.activation_interval;
      res->renewal_interval = resp.renewal_interval;
      res->validity_days = resp.validity_days;
      return TRUE;
    case VOLACT_MSG_ERROR:
      if (!volact_error_response_decode (reply, reply_len, reply_nonce, &code, error))
        return FALSE;
      if (memcmp (reply_nonce, nonce, sizeof reply_nonce) != 0
          && memcmp (reply_nonce, zero_nonce, sizeof reply_nonce) != 0) {
        g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_RESPONSE_INVALID,
                             "response rejected: the error response answers another request");
        return FALSE;
      }
      if (code == 0) {
        g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_RESPONSE_INVALID,
                             "response rejected: an error response without an error code");
        return FALSE;
      }
      /* The host closes the connection after these; so do we. */
      if (code == (guint32) VOLACT_E_PROTOCOL_VERSION
          || code == (guint32) VOLACT_E_REQUEST_MALFORMED)
        volact_client_close (client);
      g_set_error (error, VOLACT_ERROR, (gint) code, "the host %s answered 0x%08X: %s",
                   client->label, code,
                   volact_error_text (code) ? volact_error_text (code) : "unknown error");
      return FALSE;
    case VOLACT_MSG_REQUEST:
    default:
      g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_RESPONSE_INVALID,
                           "response rejected: the host sent a request");
      return FALSE;
  }
}

static gboolean
fill_request (const VolactClientRequest *req, VolactRequest *out, GError **error)
{
  memset (out, 0, sizeof *out);
  if (req->edition == NULL || strlen (req->edition) > VOLACT_PROTO_EDITION_MAX
      || (req->name != NULL && strlen (req->name) > VOLACT_PROTO_NAME_MAX)
      || (guint) req->state > VOLACT_STATE_UNLICENSED) {
    g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_REQUEST_MALFORMED,
                         "malformed request: edition id (1..32), machine name (0..63) or "
                         "license state (0..5) out of range");
    return FALSE;
  }
  g_strlcpy (out->edition, req->edition, sizeof out->edition);
  g_strlcpy (out->name, req->name ? req->name : "", sizeof out->name);
  memcpy (out->cmid, req->cmid, sizeof out->cmid);
  out->virtual_machine = req->virtual_machine;
  out->state = (guint8) req->state;
  out->minutes_left = req->minutes_left;
  return TRUE;
}

gboolean
volact_client_activate (VolactClient *client, const VolactClientRequest *req,
                        VolactClientResult *res, GError **error)
{
  VolactRequest request;
  guint8 wire[VOLACT_PROTO_REQUEST_MAX];
  guint8 reply[VOLACT_PROTO_MESSAGE_MAX];
  gsize wire_len, reply_len = 0;
  VolactMessageType type = 0;
  g_autoptr (GError) local = NULL;
  g_autoptr (GError) passed_error = NULL;
  guint passes = 0;

  g_return_val_if_fail (client != NULL && req != NULL && res != NULL, FALSE);
  memset (res, 0, sizeof *res);

  if (!fill_request (req, &request, &local))
    goto fail;
again:
  for (guint attempt = 0;; attempt++) {
    gboolean reused = client->connection != NULL;

    /* A new nonce for every request sent, so an old answer never fits a new one. */
    if (RAND_bytes (request.nonce, sizeof request.nonce) != 1) {
      volact_crypto_set_error (&local, VOLACT_E_CRYPTO, "cannot make a nonce");
      goto fail;
    }
    wire_len = volact_request_encode (&request, wire, &local);
    if (wire_len == 0)
      goto fail;
    if (!ensure_connected (client, &local)) {
      /* Every other host failed too: the answer of the one that could not serve says more. */
      if (passed_error != NULL)
        g_propagate_error (&local, g_steal_pointer (&passed_error));
      goto fail;
    }
    if (exchange (client, wire, wire_len, reply, &reply_len, &type, &local))
      break;
    volact_client_close (client);
    /*
     * The host closes idle connections and may have restarted: an exchange
     * that failed on the network is tried once more on a new connection.
     * Connecting itself is not retried (that failure is already definite).
     */
    if (attempt > 0 || !g_error_matches (local, VOLACT_ERROR, VOLACT_E_HOST_UNREACHABLE))
      goto fail;
    g_debug ("%s (%s connection); reconnecting once", local->message, reused ? "reused" : "new");
    g_clear_error (&local);
  }
  if (interpret_reply (client, wire, wire_len, reply, reply_len, type, res, &local))
    return TRUE;
  if (g_error_matches (local, VOLACT_ERROR, VOLACT_E_RESPONSE_INVALID))
    volact_client_close (client);
  /* A discovered host that cannot serve now (not activated, busy, or this address's quota
   * of new machine IDs spent there): the next one in DNS order is asked (bounded). */
  if (client->discovery != NULL && passes < CLIENT_MAX_PASSES
      && (g_error_matches (local, VOLACT_ERROR, VOLACT_E_NOT_ACTIVATED)
          || g_error_matches (local, VOLACT_ERROR, VOLACT_E_HOST_BUSY)
          || g_error_matches (local, VOLACT_ERROR, VOLACT_E_NEW_CMID_LIMIT))) {
    g_debug ("%s; asking the next host", local->message);
    volact_discovery_pass (client->discovery, client->label);
    volact_client_close (client);
    g_clear_error (&passed_error);
    passed_error = g_steal_pointer (&local);
    passes++;
    goto again;
  }

fail:
  memset (res, 0, sizeof *res);
  res->result = (guint32) local->code;
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}
