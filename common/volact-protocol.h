/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The client protocol codec (docs/protocol.md): requests, signed responses
 * and error responses, their exact byte layout, and the signature over
 * response ‖ SHA-256(request). Shared by volactd and libvolact; no I/O here.
 */
#ifndef VOLACT_PROTOCOL_H
#define VOLACT_PROTOCOL_H

#include <glib.h>
#include <openssl/types.h>

G_BEGIN_DECLS

#define VOLACT_PROTO_MAGIC "VLAC"
#define VOLACT_PROTO_VERSION 1
#define VOLACT_PROTO_HEADER_SIZE 8
#define VOLACT_PROTO_NONCE_SIZE 16
#define VOLACT_PROTO_CMID_SIZE 16
#define VOLACT_PROTO_EDITION_MAX 32
#define VOLACT_PROTO_NAME_MAX 63
#define VOLACT_PROTO_REQUEST_MIN 49
#define VOLACT_PROTO_REQUEST_MAX 143
#define VOLACT_PROTO_RESPONSE_SIZE 243
#define VOLACT_PROTO_ERROR_SIZE 32
/** Anything longer is never a valid message: the host closes the connection. */
#define VOLACT_PROTO_MESSAGE_MAX 250

typedef enum {
  VOLACT_MSG_REQUEST = 1,
  VOLACT_MSG_RESPONSE = 2,
  VOLACT_MSG_ERROR = 3,
} VolactMessageType;

/** License states a client reports (and keeps in its state file). */
typedef enum {
  VOLACT_STATE_OOB_GRACE = 0,
  VOLACT_STATE_LICENSED = 1,
  VOLACT_STATE_OOT_GRACE = 2,
  VOLACT_STATE_NONGENUINE_GRACE = 3,
  VOLACT_STATE_NOTIFICATION = 4,
  VOLACT_STATE_UNLICENSED = 5,
} VolactLicenseState;

typedef struct {
  guint8 nonce[VOLACT_PROTO_NONCE_SIZE];
  guint8 cmid[VOLACT_PROTO_CMID_SIZE];
  gboolean virtual_machine;
  guint8 state;         /* VolactLicenseState */
  guint32 minutes_left; /* in that state, 0 if it does not expire */
  char edition[VOLACT_PROTO_EDITION_MAX + 1];
  char name[VOLACT_PROTO_NAME_MAX + 1]; /* may be empty */
} VolactRequest;

typedef struct {
  guint8 nonce[VOLACT_PROTO_NONCE_SIZE];
  guint32 result; /* 0 or an error code */
  guint32 count;
  guint16 minimum_count;
  guint16 activation_interval; /* minutes */
  guint16 renewal_interval;    /* minutes */
  guint16 validity_days;
  guint8 host_public_key[33];
  guint8 certificate[106];
  guint8 signature[64];
} VolactResponse;

/** TRUE if the LEN bytes of EDITION are an edition id: 1..32 of [a-z0-9-]. */
static inline gboolean
volact_proto_edition_valid (const char *edition, gsize len)
{
  if (len < 1 || len > VOLACT_PROTO_EDITION_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    char c = edition[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return FALSE;
  }
  return TRUE;
}

/** TRUE if the LEN bytes of NAME are a machine name: 0..63 printable ASCII (0x20..0x7E). */
static inline gboolean
volact_proto_name_valid (const char *name, gsize len)
{
  if (len > VOLACT_PROTO_NAME_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if ((guchar) name[i] < 0x20 || (guchar) name[i] > 0x7e)
      return FALSE;
  return TRUE;
}

/** Reads the 8-byte header: type and total length (checked against the type's limits). */
gboolean volact_proto_peek (const guint8 *data, gsize len, VolactMessageType *type, gsize *total,
                            GError **error);

/** Encodes REQ into OUT; returns its length (49..143), 0 if a field is out of range. */
gsize volact_request_encode (const VolactRequest *req, guint8 out[VOLACT_PROTO_REQUEST_MAX],
                             GError **error);
/** Decodes and validates a whole request message (REQUEST_MALFORMED on any bad field). */
gboolean volact_request_decode (const guint8 *data, gsize len, VolactRequest *out, GError **error);

/**
 * Fills RESP->signature with HOST_KEY's signature over the encoded response
 * and SHA-256 of REQUEST, and writes the 243-byte message to OUT.
 * The caller fills every other field, host_public_key and certificate
 * included; REQUEST_LEN must be 49..143. Thread-safe: each thread keeps a
 * digest context set up for the key it last signed with (and a reference to
 * that key until it signs with another one or exits).
 */
gboolean volact_response_sign (VolactResponse *resp, const guint8 *request, gsize request_len,
                               EVP_PKEY *host_key, guint8 out[VOLACT_PROTO_RESPONSE_SIZE],
                               GError **error);
/**
 * The client's checks (docs/protocol.md "What the client checks") of a
 * 243-byte response to REQUEST against the pinned AUTHORITY key; fills OUT.
 * Any failure is RESPONSE_INVALID (0xC0AC0504) naming the check that failed.
 */
gboolean volact_response_verify (const guint8 *data, gsize len, const guint8 *request,
                                 gsize request_len, EVP_PKEY *authority, VolactResponse *out,
                                 GError **error);

/**
 * A verifier for many responses from the same pinned AUTHORITY (one per
 * connection or thread; not thread-safe). It runs every check of
 * volact_response_verify(), but remembers the last host public key and
 * certificate that passed checks 2 and 3 together with the imported key, so
 * further responses from that host cost one signature verification.
 */
typedef struct _VolactResponseVerifier VolactResponseVerifier;

/** Takes a reference to AUTHORITY (an EC P-256 public key). */
VolactResponseVerifier *volact_response_verifier_new (EVP_PKEY *authority);
/** volact_response_verify() with the verifier's authority and cache. */
gboolean volact_response_verifier_check (VolactResponseVerifier *verifier, const guint8 *data,
                                         gsize len, const guint8 *request, gsize request_len,
                                         VolactResponse *out, GError **error);
void volact_response_verifier_free (VolactResponseVerifier *verifier);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactResponseVerifier, volact_response_verifier_free)

/**
 * Writes the 32-byte error response for CODE; NONCE is the request's nonce,
 * or NULL (written as zeros) when the request was unreadable.
 */
void volact_error_response_encode (const guint8 nonce[VOLACT_PROTO_NONCE_SIZE], guint32 code,
                                   guint8 out[VOLACT_PROTO_ERROR_SIZE]);
/**
 * Decodes a 32-byte error response (header, type 3, reserved field 0). It is
 * not signed: the caller checks the nonce and never treats it as a license.
 */
gboolean volact_error_response_decode (const guint8 *data, gsize len,
                                       guint8 nonce[VOLACT_PROTO_NONCE_SIZE], guint32 *code,
                                       GError **error);

G_END_DECLS

#endif
