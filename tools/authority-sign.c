/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The authority's signing: host keys, host certificates and Confirmation IDs,
 * and its CA certificate. Only volact-authority and the tests link this
 * (tools/libauthority.la); volactd can verify what it signs but never sign.
 */
#include "config.h"

#include "authority-sign.h"

#include "volact-crypto.h"
#include "volact-error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/x509v3.h>

/* getrandom(2): glibc >= 2.25 and musl >= 1.1.20, both older than the GLib we need. */
#ifdef __linux__
#include <sys/random.h>
#define VOLACT_HAVE_GETRANDOM 1
#endif

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MD_CTX, EVP_MD_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIGNUM, BN_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_NAME, X509_NAME_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_EXTENSION, X509_EXTENSION_free)

/* ---- Host keys --------------------------------------------------------------------------- */

static gboolean
random_bytes (void *buf, gsize len, GError **error)
{
  guint8 *p = buf;
  gsize done = 0;

#ifdef VOLACT_HAVE_GETRANDOM
  while (done < len) {
    ssize_t n = getrandom (p + done, len - done, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    done += (gsize) n;
  }
  if (done == len)
    return TRUE;
  done = 0; /* e.g. ENOSYS in an old container: fall back */
#endif
  {
    int fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);
    int saved;
    if (fd < 0) {
      saved = errno;
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CRYPTO, "cannot open /dev/urandom: %s",
                   g_strerror (saved));
      return FALSE;
    }
    while (done < len) {
      ssize_t n = read (fd, p + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        saved = n < 0 ? errno : EIO;
        close (fd);
        g_set_error (error, VOLACT_ERROR, VOLACT_E_CRYPTO, "cannot read /dev/urandom: %s",
                     g_strerror (saved));
        return FALSE;
      }
      done += (gsize) n;
    }
    close (fd);
  }
  return TRUE;
}

gboolean
volact_key_generate (guint group, guint64 serial, VolactHostKey *key, GError **error)
{
  VolactHostKey candidate = { VOLACT_KEY_VERSION, group, serial, 0 };
  char text[VOLACT_KEY_TEXT_SIZE];

  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* A key that encodes has its fields in range; the codec owns those checks and messages. */
  if (!volact_key_encode (&candidate, text, error))
    return FALSE;
  if (!random_bytes (&candidate.nonce, sizeof candidate.nonce, error))
    return FALSE;
  *key = candidate;
  return TRUE;
}

/* ---- Host certificates and Confirmation IDs ---------------------------------------------- */

/* Signs MSG with an EC P-256 KEY (ECDSA, SHA-256) and writes r||s. */
static gboolean
ecdsa_sign (EVP_PKEY *key, const guint8 *msg, gsize len, guint8 sig[VOLACT_SIGNATURE_SIZE],
            GError **error)
{
  g_autoptr (EVP_MD_CTX) md = EVP_MD_CTX_new ();
  unsigned char der[VOLACT_ECDSA_DER_MAX + 8];
  size_t der_len = sizeof der;
  gboolean ok;

  volact_crypto_clear_errors ();
  if (md == NULL || EVP_DigestSignInit_ex (md, NULL, "SHA256", NULL, NULL, key, NULL) != 1
      || EVP_DigestSign (md, der, &der_len, msg, len) != 1) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "cannot sign the host certificate");
    return FALSE;
  }
  ok = volact_crypto_ecdsa_der_to_rs (der, der_len, sig, error);
  OPENSSL_cleanse (der, sizeof der);
  return ok;
}

gboolean
volact_host_cert_sign (const VolactHostCertBody *body, EVP_PKEY *authority_key, VolactHostCert *out,
                       GError **error)
{
  VolactHostCert cert;
  guint8 tbs[VOLACT_HOST_CERT_BODY_SIZE];
  const char *problem = volact_host_cert_body_problem (body);

  if (problem != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "cannot certify the host: %s", problem);
    return FALSE;
  }
  cert.body = *body;
  if (!volact_authority_key_id (authority_key, cert.body.authority_key_id, error))
    return FALSE;
  volact_host_cert_body_serialize (&cert.body, tbs);
  if (!ecdsa_sign (authority_key, tbs, sizeof tbs, cert.signature, error))
    return FALSE;
  *out = cert;
  return TRUE;
}

gboolean
volact_activation_confirm (const VolactInstallationId *iid, EVP_PKEY *authority_key,
                           guint16 issue_day, guint8 activation_number, VolactConfirmationId *out,
                           VolactHostCert *out_cert, GError **error)
{
  VolactHostCertBody body;
  VolactHostCert cert;
  const char *problem = volact_installation_id_problem (iid);

  if (problem != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT, "the Installation ID is invalid: %s",
                 problem);
    return FALSE;
  }
  volact_installation_id_cert_body (iid, issue_day, activation_number, &body);
  if (!volact_host_cert_sign (&body, authority_key, &cert, error))
    return FALSE;
  out->version = VOLACT_ID_VERSION;
  out->issue_day = issue_day;
  out->activation_number = activation_number;
  memcpy (out->signature, cert.signature, VOLACT_SIGNATURE_SIZE);
  if (out_cert != NULL)
    *out_cert = cert;
  return TRUE;
}

/* ---- The authority's CA certificate ------------------------------------------------------ */

static gboolean
add_extension (X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
  g_autoptr (X509_EXTENSION) ext = X509V3_EXT_conf_nid (NULL, ctx, nid, value);
  return ext != NULL && X509_add_ext (cert, ext, -1) == 1;
}

X509 *
volact_crypto_make_ca_certificate (EVP_PKEY *key, const char *common_name, guint days,
                                   GError **error)
{
  g_autoptr (X509) cert = X509_new ();
  g_autoptr (BIGNUM) serial = BN_new ();
  g_autoptr (X509_NAME) name = X509_NAME_new ();
  X509V3_CTX ctx;

  g_return_val_if_fail (key != NULL && common_name != NULL && days > 0, NULL);

  volact_crypto_clear_errors ();
  if (cert == NULL || serial == NULL || name == NULL)
    goto fail;
  /* A positive random 159-bit serial: unique without a serial database. */
  if (!BN_rand (serial, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY)
      || BN_to_ASN1_INTEGER (serial, X509_get_serialNumber (cert)) == NULL)
    goto fail;
  if (!X509_set_version (cert, X509_VERSION_3)
      || !X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8,
                                      (const unsigned char *) common_name, -1, -1, 0)
      || !X509_set_subject_name (cert, name) || !X509_set_issuer_name (cert, name)
      || X509_gmtime_adj (X509_getm_notBefore (cert), -300) == NULL
      || X509_time_adj_ex (X509_getm_notAfter (cert), (int) MIN (days, 36500u), 0, NULL) == NULL
      || !X509_set_pubkey (cert, key))
    goto fail;

  X509V3_set_ctx (&ctx, cert, cert, NULL, NULL, 0);
  /* The subject key id must exist before the authority key id refers to it. */
  if (!add_extension (cert, &ctx, NID_basic_constraints, "critical,CA:TRUE")
      || !add_extension (cert, &ctx, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign")
      || !add_extension (cert, &ctx, NID_subject_key_identifier, "hash")
      || !add_extension (cert, &ctx, NID_authority_key_identifier, "keyid:always"))
    goto fail;
  if (X509_sign (cert, key, EVP_sha256 ()) <= 0)
    goto fail;
  return g_steal_pointer (&cert);

fail:
  volact_crypto_set_error (error, VOLACT_E_CRYPTO, "cannot create the certificate for \"%s\"",
                           common_name);
  return NULL;
}
