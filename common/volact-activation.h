/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * Host activation: hardware fingerprint, host identity, the host certificate,
 * the Installation ID and the Confirmation ID. docs/activation.md is the
 * specification; this header summarises it.
 *
 * Sizes (all multi-byte integers big-endian):
 *
 *   certificate body   42 bytes: version 1 | authority key id 4 | key group 2 |
 *                      key serial 6 | host id 16 | fingerprint 10 | issue day 2 |
 *                      activation number 1
 *   certificate       106 bytes: body | ECDSA P-256 signature r||s 64
 *   Installation ID    39 bytes: version 1 | key group 2 | key serial 6 | key nonce 4 |
 *                      host id 16 | fingerprint 10
 *                      -> 94 digits, 19 groups, 113 digits with checks, 131 characters
 *   Confirmation ID    68 bytes: version 1 | issue day 2 | activation number 1 | r||s 64
 *                      -> 164 digits, 33 groups, 197 digits with checks, 229 characters
 *
 * OpenSSL failures are reported through volact-crypto (VOLACT_E_CRYPTO with the
 * drained OpenSSL error queue).
 */
#ifndef VOLACT_ACTIVATION_H
#define VOLACT_ACTIVATION_H

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "volact-key.h"

G_BEGIN_DECLS

/* ---- Hardware fingerprint ---------------------------------------------------------------- */

/** Bytes of a hardware fingerprint: five components of two bytes each. */
#define VOLACT_FINGERPRINT_SIZE 10
/** Number of fingerprint components. */
#define VOLACT_FINGERPRINT_COMPONENTS 5
/** Changed components from which a change is significant (needs reactivation). */
#define VOLACT_FINGERPRINT_SIGNIFICANT 2
/** The test-only override: names a file of component=value lines. */
#define VOLACT_FINGERPRINT_ENV "VOLACT_TEST_FINGERPRINT_FILE"

/**
 * volact_fingerprint_component_name:
 * @index: 0..VOLACT_FINGERPRINT_COMPONENTS-1
 *
 * The component's name as hashed and as written in the override file:
 * "machine-id", "cpu", "memory", "mac", "disk". NULL for other indexes.
 */
const char *volact_fingerprint_component_name (guint index);

/**
 * volact_fingerprint_component_hash:
 * @name: the component's name (volact_fingerprint_component_name())
 * @value: (nullable): its value; NULL (unreadable) hashes like ""
 * @out: receives the first two bytes of SHA-256("volact-fp-v1" || name || 0 || value)
 */
void volact_fingerprint_component_hash (const char *name, const char *value, guint8 out[2]);

/**
 * volact_fingerprint_from_values:
 * @values: the five component values in order (each may be NULL = unreadable)
 * @out: receives the fingerprint
 */
void volact_fingerprint_from_values (const char *const values[VOLACT_FINGERPRINT_COMPONENTS],
                                     guint8 out[VOLACT_FINGERPRINT_SIZE]);

/**
 * volact_fingerprint_read_file:
 * @path: a file of `component=value` lines
 * @out: receives the fingerprint
 *
 * Reads the test override file: blank lines and lines starting with '#' are
 * skipped, names and values are stripped of surrounding white space, a
 * missing component hashes the empty string (as an unreadable one does).
 * Unknown or repeated names and lines without '=' fail with VOLACT_E_CONFIG
 * naming the file and line; an unreadable file fails with VOLACT_E_IO.
 */
gboolean volact_fingerprint_read_file (const char *path, guint8 out[VOLACT_FINGERPRINT_SIZE],
                                       GError **error);

/**
 * volact_fingerprint_read:
 * @state_dir: (nullable): the host's state folder (its file system gives the disk component)
 * @out: receives the fingerprint
 * @overridden: (out) (optional): set to TRUE when the test override was used
 *
 * Reads the five components from the hardware (see docs/activation.md). When
 * the environment variable VOLACT_TEST_FINGERPRINT_FILE is set and the process
 * is not privileged (getauxval(AT_SECURE) == 0), the components are read from
 * that file instead and a warning is logged; in a privileged process the
 * variable is ignored (also with a warning). Components that cannot be read
 * hash the empty string, so reading the hardware never fails; only a broken
 * override file does (see volact_fingerprint_read_file()).
 */
gboolean volact_fingerprint_read (const char *state_dir, guint8 out[VOLACT_FINGERPRINT_SIZE],
                                  gboolean *overridden, GError **error);

/** The number of components (0..5) in which @a and @b differ. */
guint volact_fingerprint_changed_components (const guint8 a[VOLACT_FINGERPRINT_SIZE],
                                             const guint8 b[VOLACT_FINGERPRINT_SIZE]);

/**
 * volact_fingerprint_significant_change:
 *
 * TRUE when two or more components differ: the host then needs reactivation.
 * A single changed component (a new network card, more memory) is tolerated.
 */
gboolean volact_fingerprint_significant_change (const guint8 old_fp[VOLACT_FINGERPRINT_SIZE],
                                                const guint8 new_fp[VOLACT_FINGERPRINT_SIZE]);

/* ---- Host identity ----------------------------------------------------------------------- */

/** Bytes of a compressed P-256 public key. */
#define VOLACT_PUBLIC_KEY_SIZE 33
/** Bytes of a host id: SHA-256 of the compressed public key, truncated. */
#define VOLACT_HOST_ID_SIZE 16

/**
 * volact_identity_load_or_create:
 * @path: the identity key file (`state-dir/identity.key`)
 * @created: (out) (optional): TRUE if a new key was generated
 *
 * Loads the host's EC P-256 identity key from @path, or, if the file does not
 * exist, generates one and writes it there as PKCS#8 PEM with mode 0600
 * (temporary file created O_CREAT|O_EXCL 0600 in the same folder, fsync,
 * renamed into place without replacing: if another process won the race its
 * key is loaded instead). A key file readable by group or others is used but
 * logged as a warning. A key that is not EC P-256 fails with VOLACT_E_CRYPTO.
 */
EVP_PKEY *volact_identity_load_or_create (const char *path, gboolean *created, GError **error);

/**
 * volact_identity_public_key:
 * @key: an EC P-256 key (private or public)
 * @out: receives the compressed public point (0x02/0x03 || X)
 */
gboolean volact_identity_public_key (EVP_PKEY *key, guint8 out[VOLACT_PUBLIC_KEY_SIZE],
                                     GError **error);

/** The host id of a compressed public key: first 16 bytes of SHA-256(@public_key). */
void volact_identity_host_id_from_public (const guint8 public_key[VOLACT_PUBLIC_KEY_SIZE],
                                          guint8 out[VOLACT_HOST_ID_SIZE]);

/** The host id of @key (volact_identity_public_key() then the hash). */
gboolean volact_identity_host_id (EVP_PKEY *key, guint8 out[VOLACT_HOST_ID_SIZE], GError **error);

/**
 * volact_identity_import_public_key:
 * @public_key: a compressed P-256 point
 *
 * Returns a public-only EVP_PKEY for verifying a host's signatures, or NULL
 * with VOLACT_E_CRYPTO if the bytes are not a point on P-256.
 */
EVP_PKEY *volact_identity_import_public_key (const guint8 public_key[VOLACT_PUBLIC_KEY_SIZE],
                                             GError **error);

/* ---- Authority key id -------------------------------------------------------------------- */

/** Bytes of an authority key id. */
#define VOLACT_AUTHORITY_KEY_ID_SIZE 4

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

#define VOLACT_HOST_CERT_VERSION 1
#define VOLACT_HOST_CERT_BODY_SIZE 42
#define VOLACT_HOST_CERT_SIZE 106
/** Bytes of an ECDSA P-256 signature as r||s. */
#define VOLACT_SIGNATURE_SIZE 64

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
 * volact_host_cert_sign:
 * @body: the fields to certify; its authority_key_id is ignored and set from
 *        @authority_key
 * @authority_key: the authority's EC P-256 private key
 * @out: receives the certificate
 *
 * Fails with VOLACT_E_CRYPTO for a key that is not EC P-256 or an OpenSSL
 * failure, and with VOLACT_E_FAILED for fields out of range (version not 1,
 * group outside 1..1023, serial above 48 bits, activation number 0).
 */
gboolean volact_host_cert_sign (const VolactHostCertBody *body, EVP_PKEY *authority_key,
                                VolactHostCert *out, GError **error);

/**
 * volact_host_cert_verify:
 * @authority_pubkey: the trusted authority's key (from its certificate)
 *
 * Checks the fields, that the certificate names this authority's key id, and
 * the signature. Failure: VOLACT_E_SIGNATURE with the reason.
 */
gboolean volact_host_cert_verify (const VolactHostCert *cert, EVP_PKEY *authority_pubkey,
                                  GError **error);

/* ---- Installation ID and Confirmation ID ------------------------------------------------- */

#define VOLACT_ID_VERSION 1
/** Data digits per group; each group is followed by one check digit. */
#define VOLACT_ID_GROUP_DIGITS 5

#define VOLACT_IID_PAYLOAD_SIZE 39
/** Decimal digits of 256^39 - 1. */
#define VOLACT_IID_DIGITS 94
#define VOLACT_IID_GROUPS 19
/** Digits as typed: data plus one check digit per group. */
#define VOLACT_IID_TYPED_DIGITS (VOLACT_IID_DIGITS + VOLACT_IID_GROUPS)
/** Text form with dashes, plus the NUL. */
#define VOLACT_IID_TEXT_SIZE (VOLACT_IID_TYPED_DIGITS + VOLACT_IID_GROUPS - 1 + 1)

#define VOLACT_CID_PAYLOAD_SIZE 68
/** Decimal digits of 256^68 - 1. */
#define VOLACT_CID_DIGITS 164
#define VOLACT_CID_GROUPS 33
#define VOLACT_CID_TYPED_DIGITS (VOLACT_CID_DIGITS + VOLACT_CID_GROUPS)
#define VOLACT_CID_TEXT_SIZE (VOLACT_CID_TYPED_DIGITS + VOLACT_CID_GROUPS - 1 + 1)

/** What the host tells the authority: its key, its identity and its hardware. */
typedef struct {
  guint8 version;    /* VOLACT_ID_VERSION */
  guint16 key_group; /* 1..1023 */
  guint64 key_serial;
  guint32 key_nonce;
  guint8 host_id[VOLACT_HOST_ID_SIZE];
  guint8 fingerprint[VOLACT_FINGERPRINT_SIZE];
} VolactInstallationId;

/** What the authority answers: the fields it chose and its signature. */
typedef struct {
  guint8 version; /* VOLACT_ID_VERSION */
  guint16 issue_day;
  guint8 activation_number; /* 1..255 */
  guint8 signature[VOLACT_SIGNATURE_SIZE];
} VolactConfirmationId;

/** Fills @out (version 1) from the installed host key, the host id and the fingerprint. */
void volact_installation_id_init (VolactInstallationId *out, const VolactHostKey *key,
                                  const guint8 host_id[VOLACT_HOST_ID_SIZE],
                                  const guint8 fingerprint[VOLACT_FINGERPRINT_SIZE]);

/**
 * volact_installation_id_encode:
 * @out: receives "DDDDDD-DDDDDD-...-DDDDD" (19 groups, 131 characters) + NUL
 *
 * Fails with VOLACT_E_ID_FORMAT (and writes "") when the version is not 1,
 * the group is outside 1..1023 or the serial is above 48 bits.
 */
gboolean volact_installation_id_encode (const VolactInstallationId *iid,
                                        char out[VOLACT_IID_TEXT_SIZE], GError **error);

/**
 * volact_installation_id_decode:
 * @text: the ID as typed
 * @out: (out) (optional): receives the fields; only written on success
 *
 * Accepts '-', spaces and tabs (any number) between and around the groups,
 * or none at all. Errors: VOLACT_E_ID_FORMAT for another character, the wrong
 * number of digits, a value above 256^39 - 1, or content that is not a
 * version-1 Installation ID; VOLACT_E_ID_GROUP naming the first group whose
 * check digit fails ("group 7 of the Installation ID is mistyped").
 */
gboolean volact_installation_id_decode (const char *text, VolactInstallationId *out,
                                        GError **error);

/** Like volact_installation_id_encode(): 33 groups, 229 characters. */
gboolean volact_confirmation_id_encode (const VolactConfirmationId *cid,
                                        char out[VOLACT_CID_TEXT_SIZE], GError **error);

/** Like volact_installation_id_decode(); the activation number must be non-zero. */
gboolean volact_confirmation_id_decode (const char *text, VolactConfirmationId *out,
                                        GError **error);

/**
 * volact_id_check_digit:
 * @group_number: 1-based number of the group in its ID
 * @digits: the group's data digits ('0'..'9')
 * @len: how many
 *
 * The group's check digit (0..9): the Damm check digit of @digits with the
 * interim digit starting at @group_number mod 10.
 */
guint volact_id_check_digit (guint group_number, const char *digits, gsize len);

/* ---- Activation ------------------------------------------------------------------------ */

/**
 * volact_activation_issue_day:
 * @when: a point in time
 *
 * Whole days since 2020-01-01 00:00 UTC, clamped to 0..65535.
 */
guint16 volact_activation_issue_day (GDateTime *when);

/** volact_activation_issue_day() of a Unix time in seconds. */
guint16 volact_activation_issue_day_from_unix (gint64 unix_seconds);

/**
 * volact_activation_confirm:
 * @iid: the host's Installation ID, decoded
 * @authority_key: the authority's EC P-256 private key
 * @issue_day: see volact_activation_issue_day()
 * @activation_number: from the authority's ledger, 1..255
 * @out: receives the Confirmation ID
 * @out_cert: (out) (optional): receives the certificate the host will build
 *
 * The authority side (after its ledger accepted the activation): builds the
 * certificate body from @iid, the key id of @authority_key and the two chosen
 * fields, and signs it.
 */
gboolean volact_activation_confirm (const VolactInstallationId *iid, EVP_PKEY *authority_key,
                                    guint16 issue_day, guint8 activation_number,
                                    VolactConfirmationId *out, VolactHostCert *out_cert,
                                    GError **error);

/**
 * volact_activation_apply:
 * @own_iid: the Installation ID this host showed (its own key, host id, fingerprint)
 * @cid: the Confirmation ID typed in, decoded
 * @authority_pubkey: the trusted authority's public key
 * @out_cert: receives the host certificate on success
 *
 * The host side: rebuilds the certificate body from its own data, the key id
 * of @authority_pubkey and the Confirmation ID's fields, and verifies the
 * signature. A Confirmation ID made for another host, key or fingerprint, or
 * by another authority, fails with VOLACT_E_CID_INVALID.
 */
gboolean volact_activation_apply (const VolactInstallationId *own_iid,
                                  const VolactConfirmationId *cid, EVP_PKEY *authority_pubkey,
                                  VolactHostCert *out_cert, GError **error);

G_END_DECLS

#endif
