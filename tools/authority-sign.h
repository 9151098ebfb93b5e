/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The vendor side's signing, kept out of the host: host keys, host
 * certificates and Confirmation IDs, the authority's CA certificate, and
 * signed license data. Compiled into tools/libauthority.la, which
 * volact-authority and the tests link; volactd links only the verifying
 * half (volact-host-cert.h, volact-xmlsig.h).
 */
#ifndef VOLACT_AUTHORITY_SIGN_H
#define VOLACT_AUTHORITY_SIGN_H

#include <glib.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "volact-activation-id.h"
#include "volact-host-cert.h"
#include "volact-key.h"

G_BEGIN_DECLS

/**
 * volact_key_generate:
 * @group: key group, 1..1023
 * @serial: 0..VOLACT_KEY_SERIAL_MAX
 * @key: (out): receives version, group, serial and a fresh random nonce
 *
 * The nonce comes from the kernel's random source (getrandom(2), or
 * /dev/urandom where that is missing). Fails with VOLACT_E_INVALID_KEY for
 * out-of-range arguments and VOLACT_E_CRYPTO if no random bytes are available.
 */
gboolean volact_key_generate (guint group, guint64 serial, VolactHostKey *key, GError **error);

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
 * Creates a self-signed CA certificate for KEY: subject and issuer
 * CN=COMMON_NAME, a random serial, valid from now (minus five minutes of
 * clock skew) for DAYS days, basicConstraints CA:TRUE, keyUsage
 * digitalSignature/keyCertSign/cRLSign, subject and authority key ids,
 * signed with SHA-256. Error: CRYPTO.
 */
X509 *volact_crypto_make_ca_certificate (EVP_PKEY *key, const char *common_name, guint days,
                                         GError **error);

/**
 * Signs DOC in place with the private key in KEY_PEM (RSA or EC P-256),
 * replacing any previous signature. CERT_PEM, if given, is embedded in KeyInfo
 * as X509Data for the convenience of stock tools; hosts never use it. The
 * Signature becomes the last child of the root element. On failure DOC is
 * left without a Signature.
 */
gboolean volact_xmlsig_sign (xmlDoc *doc, const char *key_pem, const char *cert_pem,
                             GError **error);

G_END_DECLS

#endif
