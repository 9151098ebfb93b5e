/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The host certificate and the public-key helpers that both a client and the
 * host need: the authority key id, parsing and verifying the certificate a
 * host shows in every response, and a host's compressed public key and host
 * id. docs/activation.md is the specification. Signing certificates is the
 * authority's business (tools/authority-sign.h).
 *
 *   certificate body   42 bytes: version 1 | authority key id 4 | key group 2 |
 *                      key serial 6 | host id 16 | fingerprint 10 | issue day 2 |
 *                      activation number 1 (multi-byte integers big-endian)
 *   certificate       106 bytes: body | ECDSA P-256 signature r||s 64
 *
 * OpenSSL failures are reported through volact-crypto (VOLACT_E_CRYPTO with
 * the drained OpenSSL error queue).
 */
#ifndef VOLACT_HOST_CERT_H
#define VOLACT_HOST_CERT_H

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

/** Bytes of a hardware fingerprint: five components of two bytes each. */
#define VOLACT_FINGERPRINT_SIZE 10
/** Bytes of a compressed P-256 public key. */
#define VOLACT_PUBLIC_KEY_SIZE 33
/** Bytes of a host id: SHA-256 of the compressed public key, truncated. */
#define VOLACT_HOST_ID_SIZE 16
/** Bytes of an authority key id. */
#define VOLACT_AUTHORITY_KEY_ID_SIZE 4
/** Bytes of an ECDSA P-256 signature as r||s. */
#define VOLACT_SIGNATURE_SIZE 64

#define VOLACT_HOST_CERT_VERSION 1
#define VOLACT_HOST_CERT_BODY_SIZE 42
#define VOLACT_HOST_CERT_SIZE 106

/* ---- Public keys ------------------------------------------------------------------------- */

/** The host id of a compressed public key: first 16 bytes of SHA-256(@public_key). */
void volact_identity_host_id_from_public (const guint8 public_key[VOLACT_PUBLIC_KEY_SIZE],
                                          guint8 out[VOLACT_HOST_ID_SIZE]);

/**
 * volact_identity_import_public_key:
 * @public_key: a compressed P-256 point
 *
 * Returns a public-only EVP_PKEY for verifying a host's signatures, or NULL
 * with VOLACT_E_CRYPTO if the bytes are not a point on P-256.
 */
EVP_PKEY *volact_identity_import_public_key (const guint8 public_key[VOLACT_PUBLIC_KEY_SIZE],
                                             GError **error);

/**
 * volact_authority_key_id:
 * @key: the authority's EC P-256 key (private or public)
 * @out: receives the first 4 bytes of SHA-256 of its DER SubjectPublicKeyInfo
 *
 * The SubjectPublicKeyInfo is taken in its canonical form (named curve
 * prime256v1, uncompressed point; 91 bytes, as `openssl pkey -pubout -outform
 * DER` writes it), so the private key file and the certificate give the same
 * id whatever point form either was stored with. Keys other than EC P-256
 * fail with VOLACT_E_CRYPTO.
 */
gboolean volact_authority_key_id (EVP_PKEY *key, guint8 out[VOLACT_AUTHORITY_KEY_ID_SIZE],
                                  GError **error);

/** volact_authority_key_id() of the public key in @cert. */
gboolean volact_authority_key_id_from_cert (X509 *cert, guint8 out[VOLACT_AUTHORITY_KEY_ID_SIZE],
                                            GError **error);

/* ---- Host certificate -------------------------------------------------------------------- */

/** The signed fields of a host certificate. */
typedef struct {
  guint8 version;                                        /* VOLACT_HOST_CERT_VERSION */
  guint8 authority_key_id[VOLACT_AUTHORITY_KEY_ID_SIZE]; /* who signed */
  guint16 key_group;                                     /* 1..1023 */
  guint64 key_serial;                                    /* 48 bits */
  guint8 host_id[VOLACT_HOST_ID_SIZE];
  guint8 fingerprint[VOLACT_FINGERPRINT_SIZE];
  guint16 issue_day;        /* days since 2020-01-01 UTC */
  guint8 activation_number; /* 1..255: this host's activations with this key */
} VolactHostCertBody;

/** A host certificate: the body and the authority's signature over its 42 bytes. */
typedef struct {
  VolactHostCertBody body;
  guint8 signature[VOLACT_SIGNATURE_SIZE]; /* ECDSA P-256 SHA-256, r||s */
} VolactHostCert;

/**
 * volact_host_cert_body_problem:
 *
 * The range checks that signing, parsing and verifying share: NULL when the
 * version is 1, the key group 1..1023, the serial within 48 bits and the
 * activation number non-zero, else the reason ("key group out of range").
 */
const char *volact_host_cert_body_problem (const VolactHostCertBody *body);

/** Writes the 42-byte body. The fields are written as they are (truncated to their width). */
void volact_host_cert_body_serialize (const VolactHostCertBody *body,
                                      guint8 out[VOLACT_HOST_CERT_BODY_SIZE]);

/** Writes the 106-byte certificate (body || signature). */
void volact_host_cert_serialize (const VolactHostCert *cert, guint8 out[VOLACT_HOST_CERT_SIZE]);

/**
 * volact_host_cert_parse:
 * @data: exactly VOLACT_HOST_CERT_SIZE bytes
 *
 * Strict: the length must be 106, the version 1, the key group 1..1023 and
 * the activation number non-zero, else VOLACT_E_SIGNATURE ("host
 * certificate: ..."). Does not verify the signature.
 */
gboolean volact_host_cert_parse (const guint8 *data, gsize len, VolactHostCert *out,
                                 GError **error);

/**
 * volact_host_cert_verify:
 * @authority_pubkey: the trusted authority's key (from its certificate)
 *
 * Checks the fields, that the certificate names this authority's key id, and
 * the signature. Failure: VOLACT_E_SIGNATURE with the reason.
 */
gboolean volact_host_cert_verify (const VolactHostCert *cert, EVP_PKEY *authority_pubkey,
                                  GError **error);

G_END_DECLS

#endif
