/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The one OpenSSL wrapper: OpenSSL errors become GError (with the drained
 * error queue appended), PEM keys and certificates are loaded with errors
 * that name the file, and key material is written safely (private keys
 * 0600, never overwritten). Making certificates is the authority's business
 * (tools/authority-sign.h), not linked into the host.
 */
#ifndef VOLACT_CRYPTO_H
#define VOLACT_CRYPTO_H

#include <glib.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY_CTX, EVP_PKEY_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free_all)

/**
 * Sets ERROR (domain VOLACT_ERROR, CODE) to the formatted message followed by
 * the OpenSSL error queue of this thread, which it drains ("MESSAGE: error:...;
 * error:..."). With an empty queue the message is used as is.
 */
void volact_crypto_set_error (GError **error, int code, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

/** Discards this thread's OpenSSL error queue (before an operation whose errors we report). */
void volact_crypto_clear_errors (void);

/**
 * Loads the first PEM private key of PATH. Text before the PEM block (such as
 * '#' comment lines) is ignored. Encrypted keys are refused (no prompt).
 * Errors: IO (unreadable file) or CRYPTO (no usable key), naming PATH.
 */
EVP_PKEY *volact_crypto_load_private_key (const char *path, GError **error);

/** Loads the first PEM certificate of PATH. Errors: IO or CRYPTO, naming PATH. */
X509 *volact_crypto_load_certificate (const char *path, GError **error);

/**
 * Loads every PEM certificate of PATH (at least one is required) into a new
 * array of X509* that frees them. Errors: IO or CRYPTO, naming PATH.
 */
GPtrArray *volact_crypto_load_certificates (const char *path, GError **error);

/**
 * Checks that KEY is a key volact signs with: EC on P-256 or RSA of at least
 * 2048 bits. WHAT names the key in the message (usually its file).
 * Error: CRYPTO.
 */
gboolean volact_crypto_check_signing_key (EVP_PKEY *key, const char *what, GError **error);

/** TRUE if KEY is an EC key (else it is RSA, after volact_crypto_check_signing_key). */
gboolean volact_crypto_key_is_ec (EVP_PKEY *key);

/** Generates a new EC P-256 key pair. Error: CRYPTO. */
EVP_PKEY *volact_crypto_generate_ec_key (GError **error);

/** Bytes of one coordinate of a P-256 point. */
#define VOLACT_P256_COORD_SIZE 32

/**
 * Checks that KEY (private or public) is an EC key on P-256 (prime256v1).
 * WHAT names the key in the message. Error: CRYPTO ("WHAT is not an EC P-256 key").
 */
gboolean volact_crypto_check_p256 (EVP_PKEY *key, const char *what, GError **error);

/**
 * Reads the affine coordinates of the public point of the P-256 KEY, 32
 * bytes each, big-endian. Y (nullable) receives the y coordinate, Y_ODD
 * (nullable) whether it is odd (the compressed form's 0x02/0x03). Error:
 * CRYPTO, naming WHAT.
 */
gboolean volact_crypto_p256_point (EVP_PKEY *key, const char *what,
                                   guint8 x[VOLACT_P256_COORD_SIZE],
                                   guint8 y[VOLACT_P256_COORD_SIZE], gboolean *y_odd,
                                   GError **error);

/** Bytes of an ECDSA P-256 signature as r||s (each coordinate 32 bytes, big-endian). */
#define VOLACT_ECDSA_RS_SIZE (2 * VOLACT_P256_COORD_SIZE)
/** Longest DER ECDSA P-256 signature: a SEQUENCE of two 33-byte INTEGERs. */
#define VOLACT_ECDSA_DER_MAX 72

/**
 * Converts a DER ECDSA-Sig-Value (what OpenSSL signs) into r||s, each
 * zero-padded to 32 bytes (what volact's formats carry). Error: CRYPTO.
 */
gboolean volact_crypto_ecdsa_der_to_rs (const guint8 *der, gsize der_len,
                                        guint8 out[VOLACT_ECDSA_RS_SIZE], GError **error);

/**
 * Converts r||s into DER for OpenSSL's verifier. Returns the length written
 * to OUT (at most VOLACT_ECDSA_DER_MAX), or 0 on failure.
 */
gsize volact_crypto_ecdsa_rs_to_der (const guint8 rs[VOLACT_ECDSA_RS_SIZE],
                                     guint8 out[VOLACT_ECDSA_DER_MAX]);

/**
 * Writes KEY as an unencrypted PKCS#8 PEM file PATH with mode 0600. The file
 * is written to a temporary file in the same folder (created 0600 with
 * O_CREAT|O_EXCL) and renamed into place without ever replacing an existing
 * file: if PATH exists the call fails (IO) and nothing is changed.
 */
gboolean volact_crypto_write_private_key (const char *path, EVP_PKEY *key, GError **error);

/** Writes CERT as PEM to PATH (mode 0644), atomically replacing it. Error: IO or CRYPTO. */
gboolean volact_crypto_write_certificate (const char *path, X509 *cert, GError **error);

/** The SHA-256 fingerprint of CERT as colon-separated upper-case hex. */
char *volact_crypto_fingerprint (X509 *cert);

/** The one-line subject of CERT ("CN = ..., O = ..."). */
char *volact_crypto_subject (X509 *cert);

G_END_DECLS

#endif
