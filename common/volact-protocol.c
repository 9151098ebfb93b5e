/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The client protocol codec; docs/protocol.md is the specification. No I/O here. */
#include "config.h"

#include "volact-protocol.h"

#include "volact-bytes.h"
#include "volact-host-cert.h"
#include "volact-crypto.h"
#include "volact-error.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MD_CTX, EVP_MD_CTX_free)

/* Offsets of the request (after the header). */
#define REQ_NONCE 8
#define REQ_CMID 24
#define REQ_FLAGS 40
#define REQ_STATE 41
#define REQ_MINUTES 42
#define REQ_EDITION_LEN 46
#define REQ_EDITION 47
#define REQ_FLAG_VM 0x01u

/* Offsets of the signed response. */
#define RSP_NONCE 8
#define RSP_RESULT 24
#define RSP_COUNT 28
#define RSP_MINIMUM 32
#define RSP_ACTIVATION 34
#define RSP_RENEWAL 36
#define RSP_VALIDITY 38
#define RSP_PUBLIC_KEY 40
#define RSP_CERT 73
#define RSP_SIGNATURE 179
/* What the signature covers: response[0..178] || SHA-256(request). */
#define RSP_SIGNED_SIZE (RSP_SIGNATURE + SHA256_DIGEST_LENGTH)

/* Offsets of the error response. */
#define ERR_NONCE 8
#define ERR_CODE 24
#define ERR_RESERVED 28

G_STATIC_ASSERT (RSP_PUBLIC_KEY + VOLACT_PUBLIC_KEY_SIZE == RSP_CERT);
G_STATIC_ASSERT (RSP_CERT + VOLACT_HOST_CERT_SIZE == RSP_SIGNATURE);
G_STATIC_ASSERT (RSP_SIGNATURE + VOLACT_SIGNATURE_SIZE == VOLACT_PROTO_RESPONSE_SIZE);
G_STATIC_ASSERT (ERR_RESERVED + 4 == VOLACT_PROTO_ERROR_SIZE);
G_STATIC_ASSERT (REQ_EDITION + VOLACT_PROTO_EDITION_MAX + 1 + VOLACT_PROTO_NAME_MAX
                 == VOLACT_PROTO_REQUEST_MAX);
G_STATIC_ASSERT (REQ_EDITION + 1 + 1 == VOLACT_PROTO_REQUEST_MIN);
G_STATIC_ASSERT (VOLACT_PROTO_RESPONSE_SIZE < VOLACT_PROTO_MESSAGE_MAX);

static void
put_header (guint8 *out, VolactMessageType type, gsize total)
{
  memcpy (out, VOLACT_PROTO_MAGIC, 4);
  out[4] = VOLACT_PROTO_VERSION;
  out[5] = (guint8) type;
  volact_put_be (out + 6, (guint32) total, 2);
}

/* ---- Field rules ------------------------------------------------------------------------- */

/* Edition ids: 1..32 of [a-z0-9-]. Returns NULL or what is wrong. */
static const char *
edition_problem (const char *edition, gsize len)
{
  if (len < 1 || len > VOLACT_PROTO_EDITION_MAX)
    return "the edition id must be 1 to 32 characters";
  if (!volact_proto_edition_valid (edition, len))
    return "the edition id may hold only a-z, 0-9 and '-'";
  return NULL;
}

/* Machine names: 0..63 printable ASCII characters (0x20..0x7E). */
static const char *
name_problem (const char *name, gsize len)
{
  if (len > VOLACT_PROTO_NAME_MAX)
    return "the machine name must be at most 63 characters";
  if (!volact_proto_name_valid (name, len))
    return "the machine name may hold only printable ASCII characters";
  return NULL;
}

static gboolean
malformed (GError **error, const char *what)
{
  g_set_error (error, VOLACT_ERROR, VOLACT_E_REQUEST_MALFORMED, "malformed request: %s", what);
  return FALSE;
}

/* ---- Header ------------------------------------------------------------------------------ */

gboolean
volact_proto_peek (const guint8 *data, gsize len, VolactMessageType *type, gsize *total,
                   GError **error)
{
  gsize n;

  if (data == NULL || len < VOLACT_PROTO_HEADER_SIZE) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_REQUEST_MALFORMED,
                 "message header: %" G_GSIZE_FORMAT " bytes, expected %u", data ? len : 0,
                 VOLACT_PROTO_HEADER_SIZE);
    return FALSE;
  }
  if (memcmp (data, VOLACT_PROTO_MAGIC, 4) != 0) {
    g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_REQUEST_MALFORMED,
                         "message header: not a volact message (bad magic)");
    return FALSE;
  }
  if (data[4] != VOLACT_PROTO_VERSION) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_PROTOCOL_VERSION,
                 "message header: protocol version %u, this side speaks %u", data[4],
                 VOLACT_PROTO_VERSION);
    return FALSE;
  }
  n = volact_get_be (data + 6, 2);
  switch (data[5]) {
    case VOLACT_MSG_REQUEST:
      if (n < VOLACT_PROTO_REQUEST_MIN || n > VOLACT_PROTO_REQUEST_MAX) {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_REQUEST_MALFORMED,
                     "message header: request length %" G_GSIZE_FORMAT " outside %u..%u", n,
                     VOLACT_PROTO_REQUEST_MIN, VOLACT_PROTO_REQUEST_MAX);
        return FALSE;
      }
      break;
    case VOLACT_MSG_RESPONSE:
    case VOLACT_MSG_ERROR: {
      gsize want
          = data[5] == VOLACT_MSG_RESPONSE ? VOLACT_PROTO_RESPONSE_SIZE : VOLACT_PROTO_ERROR_SIZE;
      if (n != want) {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_REQUEST_MALFORMED,
                     "message header: %s length %" G_GSIZE_FORMAT ", expected %" G_GSIZE_FORMAT,
                     data[5] == VOLACT_MSG_RESPONSE ? "response" : "error response", n, want);
        return FALSE;
      }
      break;
    }
    default:
      g_set_error (error, VOLACT_ERROR, VOLACT_E_REQUEST_MALFORMED,
                   "message header: unknown message type %u", data[5]);
      return FALSE;
  }
  if (type != NULL)
    *type = (VolactMessageType) data[5];
  if (total != NULL)
    *total = n;
  return TRUE;
}

/* ---- Request ----------------------------------------------------------------------------- */

gsize
volact_request_encode (const VolactRequest *req, guint8 out[VOLACT_PROTO_REQUEST_MAX],
                       GError **error)
{
  gsize e = strnlen (req->edition, sizeof req->edition);
  gsize n = strnlen (req->name, sizeof req->name);
  const char *problem = edition_problem (req->edition, e);
  gsize total;

  if (problem == NULL)
    problem = name_problem (req->name, n);
  if (problem == NULL && req->state > VOLACT_STATE_UNLICENSED)
    problem = "the license state must be 0..5";
  if (problem != NULL) {
    malformed (error, problem);
    return 0;
  }
  total = VOLACT_PROTO_REQUEST_MIN - 1 + e + n;
  put_header (out, VOLACT_MSG_REQUEST, total);
  memcpy (out + REQ_NONCE, req->nonce, VOLACT_PROTO_NONCE_SIZE);
  memcpy (out + REQ_CMID, req->cmid, VOLACT_PROTO_CMID_SIZE);
  out[REQ_FLAGS] = req->virtual_machine ? REQ_FLAG_VM : 0;
  out[REQ_STATE] = req->state;
  volact_put_be (out + REQ_MINUTES, req->minutes_left, 4);
  out[REQ_EDITION_LEN] = (guint8) e;
  memcpy (out + REQ_EDITION, req->edition, e);
  out[REQ_EDITION + e] = (guint8) n;
  memcpy (out + REQ_EDITION + e + 1, req->name, n);
  return total;
}

gboolean
volact_request_decode (const guint8 *data, gsize len, VolactRequest *out, GError **error)
{
  VolactRequest req;
  VolactMessageType type;
  gsize total, e, n;
  const char *problem;

  if (!volact_proto_peek (data, len, &type, &total, error))
    return FALSE;
  if (type != VOLACT_MSG_REQUEST)
    return malformed (error, "not a request");
  if (len != total)
    return malformed (error, "the length field disagrees with the message size");

  /* Every offset below is bounded by len: the edition length byte sits at 46 < 49. */
  e = data[REQ_EDITION_LEN];
  if (e < 1 || e > VOLACT_PROTO_EDITION_MAX)
    return malformed (error, "the edition id must be 1 to 32 characters");
  if (REQ_EDITION + e >= len)
    return malformed (error, "the length field disagrees with the edition length");
  n = data[REQ_EDITION + e];
  if (REQ_EDITION + e + 1 + n != len)
    return malformed (error, "the length field disagrees with the field lengths");

  problem = edition_problem ((const char *) data + REQ_EDITION, e);
  if (problem == NULL)
    problem = name_problem ((const char *) data + REQ_EDITION + e + 1, n);
  if (problem == NULL && (data[REQ_FLAGS] & ~REQ_FLAG_VM) != 0)
    problem = "reserved flag bits are set";
  if (problem == NULL && data[REQ_STATE] > VOLACT_STATE_UNLICENSED)
    problem = "the license state must be 0..5";
  if (problem != NULL)
    return malformed (error, problem);

  memset (&req, 0, sizeof req);
  memcpy (req.nonce, data + REQ_NONCE, VOLACT_PROTO_NONCE_SIZE);
  memcpy (req.cmid, data + REQ_CMID, VOLACT_PROTO_CMID_SIZE);
  req.virtual_machine = (data[REQ_FLAGS] & REQ_FLAG_VM) != 0;
  req.state = data[REQ_STATE];
  req.minutes_left = volact_get_be (data + REQ_MINUTES, 4);
  memcpy (req.edition, data + REQ_EDITION, e);
  memcpy (req.name, data + REQ_EDITION + e + 1, n);
  if (out != NULL)
    *out = req;
  return TRUE;
}

/* ---- Signed response --------------------------------------------------------------------- */

/* Writes bytes 0..178 of the response (everything but the signature). */
static void
response_encode_unsigned (const VolactResponse *resp, guint8 *out)
{
  put_header (out, VOLACT_MSG_RESPONSE, VOLACT_PROTO_RESPONSE_SIZE);
  memcpy (out + RSP_NONCE, resp->nonce, VOLACT_PROTO_NONCE_SIZE);
  volact_put_be (out + RSP_RESULT, resp->result, 4);
  volact_put_be (out + RSP_COUNT, resp->count, 4);
  volact_put_be (out + RSP_MINIMUM, resp->minimum_count, 2);
  volact_put_be (out + RSP_ACTIVATION, resp->activation_interval, 2);
  volact_put_be (out + RSP_RENEWAL, resp->renewal_interval, 2);
  volact_put_be (out + RSP_VALIDITY, resp->validity_days, 2);
  memcpy (out + RSP_PUBLIC_KEY, resp->host_public_key, VOLACT_PUBLIC_KEY_SIZE);
  memcpy (out + RSP_CERT, resp->certificate, VOLACT_HOST_CERT_SIZE);
}

static void
response_decode_fields (const guint8 *data, VolactResponse *out)
{
  memcpy (out->nonce, data + RSP_NONCE, VOLACT_PROTO_NONCE_SIZE);
  out->result = volact_get_be (data + RSP_RESULT, 4);
  out->count = volact_get_be (data + RSP_COUNT, 4);
  out->minimum_count = (guint16) volact_get_be (data + RSP_MINIMUM, 2);
  out->activation_interval = (guint16) volact_get_be (data + RSP_ACTIVATION, 2);
  out->renewal_interval = (guint16) volact_get_be (data + RSP_RENEWAL, 2);
  out->validity_days = (guint16) volact_get_be (data + RSP_VALIDITY, 2);
  memcpy (out->host_public_key, data + RSP_PUBLIC_KEY, VOLACT_PUBLIC_KEY_SIZE);
  memcpy (out->certificate, data + RSP_CERT, VOLACT_HOST_CERT_SIZE);
  memcpy (out->signature, data + RSP_SIGNATURE, VOLACT_SIGNATURE_SIZE);
}

/* The message the signature covers: response[0..178] || SHA-256(request). */
static void
signed_message (const guint8 *response, const guint8 *request, gsize request_len,
                guint8 out[RSP_SIGNED_SIZE])
{
  memcpy (out, response, RSP_SIGNATURE);
  SHA256 (request, request_len, out + RSP_SIGNATURE);
}

/*
 * Signing is the host's hot path (one per activation). Setting up a digest
 * context for a key (algorithm fetch, key context) costs about an eighth of
 * a signature, so each thread keeps one context initialised for the key it
 * last signed with and copies it for every signature. The template holds a
 * reference to its key, so a pointer comparison cannot be fooled by a freed
 * and reused address.
 */
typedef struct {
  EVP_PKEY *key;
  EVP_MD_CTX *template;
  EVP_MD_CTX *work;
} SignCache;

static void
sign_cache_free (gpointer data)
{
  SignCache *c = data;
  EVP_MD_CTX_free (c->template);
  EVP_MD_CTX_free (c->work);
  EVP_PKEY_free (c->key);
  g_free (c);
}

static GPrivate sign_cache_key = G_PRIVATE_INIT (sign_cache_free);

/* This thread's digest context ready to sign with KEY, or NULL (error set). */
static EVP_MD_CTX *
sign_context (EVP_PKEY *key, GError **error)
{
  SignCache *c = g_private_get (&sign_cache_key);

  if (c == NULL) {
    c = g_new0 (SignCache, 1);
    g_private_set (&sign_cache_key, c);
  }
  if (c->work == NULL)
    c->work = EVP_MD_CTX_new ();
  if (c->key != key) {
    EVP_MD_CTX_free (c->template);
    EVP_PKEY_free (c->key);
    c->key = NULL;
    c->template = EVP_MD_CTX_new ();
    if (c->template == NULL
        || EVP_DigestSignInit_ex (c->template, NULL, "SHA256", NULL, NULL, key, NULL) != 1) {
      EVP_MD_CTX_free (c->template);
      c->template = NULL;
      volact_crypto_set_error (error, VOLACT_E_CRYPTO, "cannot set up signing with the host key");
      return NULL;
    }
    EVP_PKEY_up_ref (key);
    c->key = key;
  }
  if (c->work == NULL || EVP_MD_CTX_copy_ex (c->work, c->template) != 1) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "cannot set up signing with the host key");
    return NULL;
  }
  return c->work;
}

gboolean
volact_response_sign (VolactResponse *resp, const guint8 *request, gsize request_len,
                      EVP_PKEY *host_key, guint8 out[VOLACT_PROTO_RESPONSE_SIZE], GError **error)
{
  guint8 msg[RSP_SIGNED_SIZE];
  guint8 der[VOLACT_ECDSA_DER_MAX];
  size_t der_len = sizeof der;
  EVP_MD_CTX *md;

  if (request == NULL || request_len < VOLACT_PROTO_REQUEST_MIN
      || request_len > VOLACT_PROTO_REQUEST_MAX) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED,
                 "cannot sign a response to a request of %" G_GSIZE_FORMAT " bytes",
                 request ? request_len : 0);
    return FALSE;
  }
  response_encode_unsigned (resp, out);
  signed_message (out, request, request_len, msg);

  volact_crypto_clear_errors ();
  md = sign_context (host_key, error);
  if (md == NULL)
    return FALSE;
  if (EVP_DigestSign (md, der, &der_len, msg, sizeof msg) != 1) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "cannot sign the response");
    return FALSE;
  }
  if (!volact_crypto_ecdsa_der_to_rs (der, der_len, resp->signature, error))
    return FALSE;
  memcpy (out + RSP_SIGNATURE, resp->signature, VOLACT_SIGNATURE_SIZE);
  return TRUE;
}

/* ---- Verification (the client's side) ------------------------------------------------------ */

struct _VolactResponseVerifier {
  EVP_PKEY *authority;
  /* The last host public key ‖ certificate that passed checks 2 and 3, and its key. */
  gboolean have_host;
  guint8 host[VOLACT_PUBLIC_KEY_SIZE + VOLACT_HOST_CERT_SIZE];
  EVP_PKEY *host_key;
  EVP_MD_CTX *md;
};

VolactResponseVerifier *
volact_response_verifier_new (EVP_PKEY *authority)
{
  VolactResponseVerifier *v;

  g_return_val_if_fail (authority != NULL, NULL);
  v = g_new0 (VolactResponseVerifier, 1);
  EVP_PKEY_up_ref (authority);
  v->authority = authority;
  v->md = EVP_MD_CTX_new ();
  return v;
}

void
volact_response_verifier_free (VolactResponseVerifier *v)
{
  if (v == NULL)
    return;
  EVP_PKEY_free (v->authority);
  EVP_PKEY_free (v->host_key);
  EVP_MD_CTX_free (v->md);
  g_free (v);
}

static gboolean rejected (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
rejected (GError **error, const char *format, ...)
{
  va_list ap;
  g_autofree char *what = NULL;

  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, VOLACT_ERROR, VOLACT_E_RESPONSE_INVALID, "response rejected: %s", what);
  return FALSE;
}

/* Checks 2 and 3 for the response's key and certificate, and imports the key. */
static gboolean
verifier_trust_host (VolactResponseVerifier *v, const guint8 *data, GError **error)
{
  const guint8 *pub = data + RSP_PUBLIC_KEY;
  g_autoptr (GError) local = NULL;
  VolactHostCert cert;
  guint8 host_id[VOLACT_HOST_ID_SIZE];
  EVP_PKEY *key;

  /* The same host as last time: its certificate already verified against this authority. */
  if (v->have_host && memcmp (v->host, pub, sizeof v->host) == 0)
    return TRUE;

  if (!volact_host_cert_parse (data + RSP_CERT, VOLACT_HOST_CERT_SIZE, &cert, &local)
      || !volact_host_cert_verify (&cert, v->authority, &local))
    return rejected (error, "%s", local->message);
  volact_identity_host_id_from_public (pub, host_id);
  if (memcmp (host_id, cert.body.host_id, sizeof host_id) != 0)
    return rejected (error, "the host public key is not the one its certificate names");
  key = volact_identity_import_public_key (pub, &local);
  if (key == NULL)
    return rejected (error, "%s", local->message);

  EVP_PKEY_free (v->host_key);
  v->host_key = key;
  /* A context that verified with one key keeps its key context: re-initialising it with
   * another key would still verify with the first (OpenSSL 3), so start afresh. */
  EVP_MD_CTX_reset (v->md);
  memcpy (v->host, pub, sizeof v->host);
  v->have_host = TRUE;
  return TRUE;
}

gboolean
volact_response_verifier_check (VolactResponseVerifier *v, const guint8 *data, gsize len,
                                const guint8 *request, gsize request_len, VolactResponse *out,
                                GError **error)
{
  g_autoptr (GError) local = NULL;
  VolactMessageType type;
  VolactResponse resp;
  guint8 msg[RSP_SIGNED_SIZE];
  guint8 der[VOLACT_ECDSA_DER_MAX];
  gsize der_len;

  g_return_val_if_fail (v != NULL, FALSE);

  /* 1. Header, type, length, nonce. */
  if (request == NULL || request_len < VOLACT_PROTO_REQUEST_MIN
      || request_len > VOLACT_PROTO_REQUEST_MAX)
    return rejected (error, "no valid request to compare it with");
  if (!volact_proto_peek (data, len, &type, NULL, &local))
    return rejected (error, "%s", local->message);
  if (type != VOLACT_MSG_RESPONSE)
    return rejected (error, "message type %u, expected a signed response", type);
  if (len != VOLACT_PROTO_RESPONSE_SIZE)
    return rejected (error, "%" G_GSIZE_FORMAT " bytes, expected %u", len,
                     VOLACT_PROTO_RESPONSE_SIZE);
  if (memcmp (data + RSP_NONCE, request + REQ_NONCE, VOLACT_PROTO_NONCE_SIZE) != 0)
    return rejected (error, "the nonce is not the request's (a replayed response)");

  /* 2 and 3. Certificate from the pinned authority, naming this host key. */
  if (!verifier_trust_host (v, data, error))
    return FALSE;

  /* 4. The signature over response[0..178] || SHA-256(request). */
  signed_message (data, request, request_len, msg);
  der_len = volact_crypto_ecdsa_rs_to_der (data + RSP_SIGNATURE, der);
  volact_crypto_clear_errors ();
  if (der_len == 0 || v->md == NULL) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "cannot prepare the response signature");
    return FALSE;
  }
  if (EVP_DigestVerifyInit_ex (v->md, NULL, "SHA256", NULL, NULL, v->host_key, NULL) != 1) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "cannot set up signature verification");
    return FALSE;
  }
  if (EVP_DigestVerify (v->md, der, der_len, msg, sizeof msg) != 1) {
    /* A bad signature leaves entries on the queue; they are expected, not news. */
    volact_crypto_clear_errors ();
    return rejected (error, "the host's signature does not verify for this request");
  }

  response_decode_fields (data, &resp);
  if (out != NULL)
    *out = resp;
  return TRUE;
}

gboolean
volact_response_verify (const guint8 *data, gsize len, const guint8 *request, gsize request_len,
                        EVP_PKEY *authority, VolactResponse *out, GError **error)
{
  g_autoptr (VolactResponseVerifier) v = NULL;

  if (authority == NULL)
    return rejected (error, "no trusted authority key");
  v = volact_response_verifier_new (authority);
  return volact_response_verifier_check (v, data, len, request, request_len, out, error);
}

/* ---- Error response ---------------------------------------------------------------------- */

void
volact_error_response_encode (const guint8 nonce[VOLACT_PROTO_NONCE_SIZE], guint32 code,
                              guint8 out[VOLACT_PROTO_ERROR_SIZE])
{
  put_header (out, VOLACT_MSG_ERROR, VOLACT_PROTO_ERROR_SIZE);
  if (nonce != NULL)
    memcpy (out + ERR_NONCE, nonce, VOLACT_PROTO_NONCE_SIZE);
  else
    memset (out + ERR_NONCE, 0, VOLACT_PROTO_NONCE_SIZE);
  volact_put_be (out + ERR_CODE, code, 4);
  volact_put_be (out + ERR_RESERVED, 0, 4);
}

gboolean
volact_error_response_decode (const guint8 *data, gsize len, guint8 nonce[VOLACT_PROTO_NONCE_SIZE],
                              guint32 *code, GError **error)
{
  VolactMessageType type;

  if (!volact_proto_peek (data, len, &type, NULL, error))
    return FALSE;
  if (type != VOLACT_MSG_ERROR || len != VOLACT_PROTO_ERROR_SIZE) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_RESPONSE_INVALID, "not a %u-byte error response",
                 VOLACT_PROTO_ERROR_SIZE);
    return FALSE;
  }
  if (volact_get_be (data + ERR_RESERVED, 4) != 0) {
    g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_RESPONSE_INVALID,
                         "error response: the reserved field is not 0");
    return FALSE;
  }
  if (nonce != NULL)
    memcpy (nonce, data + ERR_NONCE, VOLACT_PROTO_NONCE_SIZE);
  if (code != NULL)
    *code = volact_get_be (data + ERR_CODE, 4);
  return TRUE;
}
