/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host certificate and public-key helpers; docs/activation.md is the specification. */
#include "config.h"

#include "volact-host-cert.h"

#include "volact-bytes.h"
#include "volact-crypto.h"
#include "volact-error.h"
#include "volact-key.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/sha.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MD_CTX, EVP_MD_CTX_free)

G_STATIC_ASSERT (VOLACT_SIGNATURE_SIZE == VOLACT_ECDSA_RS_SIZE);

static void
sha256 (const void *data, gsize len, guint8 out[SHA256_DIGEST_LENGTH])
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize out_len = SHA256_DIGEST_LENGTH;

  g_checksum_update (sum, data, (gssize) len);
  g_checksum_get_digest (sum, out, &out_len);
}

/* ---- Public keys ------------------------------------------------------------------------- */

void
volact_identity_host_id_from_public (const guint8 public_key[VOLACT_PUBLIC_KEY_SIZE],
                                     guint8 out[VOLACT_HOST_ID_SIZE])
{
  guint8 digest[SHA256_DIGEST_LENGTH];

  sha256 (public_key, VOLACT_PUBLIC_KEY_SIZE, digest);
  memcpy (out, digest, VOLACT_HOST_ID_SIZE);
}

EVP_PKEY *
volact_identity_import_public_key (const guint8 public_key[VOLACT_PUBLIC_KEY_SIZE], GError **error)
{
  g_autoptr (EVP_PKEY_CTX) ctx = NULL;
  EVP_PKEY *key = NULL;
  char group[] = "prime256v1";
  guint8 point[VOLACT_PUBLIC_KEY_SIZE];
  OSSL_PARAM params[3];

  if (public_key[0] != 0x02 && public_key[0] != 0x03) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CRYPTO,
                 "the host public key is not a compressed P-256 point");
    return NULL;
  }
  memcpy (point, public_key, sizeof point);
  params[0] = OSSL_PARAM_construct_utf8_string (OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
  params[1] = OSSL_PARAM_construct_octet_string (OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point);
  params[2] = OSSL_PARAM_construct_end ();

  volact_crypto_clear_errors ();
  ctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", NULL);
  if (ctx == NULL || EVP_PKEY_fromdata_init (ctx) <= 0
      || EVP_PKEY_fromdata (ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0 || key == NULL) {
    EVP_PKEY_free (key);
    volact_crypto_set_error (error, VOLACT_E_CRYPTO,
                             "the host public key is not a valid P-256 point");
    return NULL;
  }
  return key;
}

/* ---- Authority key id -------------------------------------------------------------------- */

/* DER SubjectPublicKeyInfo header of an id-ecPublicKey prime256v1 key with an
 * uncompressed point; the 0x04 and X || Y follow. */
static const guint8 p256_spki_prefix[] = {
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
  0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
};
#define P256_SPKI_SIZE (sizeof p256_spki_prefix + 2 * VOLACT_P256_COORD_SIZE)

gboolean
volact_authority_key_id (EVP_PKEY *key, guint8 out[VOLACT_AUTHORITY_KEY_ID_SIZE], GError **error)
{
  guint8 spki[P256_SPKI_SIZE];
  guint8 digest[SHA256_DIGEST_LENGTH];
  guint8 *x = spki + sizeof p256_spki_prefix;

  G_STATIC_ASSERT (P256_SPKI_SIZE == 91);
  memcpy (spki, p256_spki_prefix, sizeof p256_spki_prefix);
  if (!volact_crypto_p256_point (key, "the authority key", x, x + VOLACT_P256_COORD_SIZE, NULL,
                                 error))
    return FALSE;
  sha256 (spki, sizeof spki, digest);
  memcpy (out, digest, VOLACT_AUTHORITY_KEY_ID_SIZE);
  return TRUE;
}

gboolean
volact_authority_key_id_from_cert (X509 *cert, guint8 out[VOLACT_AUTHORITY_KEY_ID_SIZE],
                                   GError **error)
{
  EVP_PKEY *key = X509_get0_pubkey (cert);

  if (key == NULL) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO,
                             "the authority certificate has no usable public key");
    return FALSE;
  }
  return volact_authority_key_id (key, out, error);
}

/* ---- Host certificate -------------------------------------------------------------------- */

void
volact_host_cert_body_serialize (const VolactHostCertBody *body,
                                 guint8 out[VOLACT_HOST_CERT_BODY_SIZE])
{
  out[0] = body->version;
  memcpy (out + 1, body->authority_key_id, VOLACT_AUTHORITY_KEY_ID_SIZE);
  volact_put_be (out + 5, body->key_group, 2);
  volact_put_be (out + 7, body->key_serial, 6);
  memcpy (out + 13, body->host_id, VOLACT_HOST_ID_SIZE);
  memcpy (out + 29, body->fingerprint, VOLACT_FINGERPRINT_SIZE);
  volact_put_be (out + 39, body->issue_day, 2);
  out[41] = body->activation_number;
}

void
volact_host_cert_serialize (const VolactHostCert *cert, guint8 out[VOLACT_HOST_CERT_SIZE])
{
  volact_host_cert_body_serialize (&cert->body, out);
  memcpy (out + VOLACT_HOST_CERT_BODY_SIZE, cert->signature, VOLACT_SIGNATURE_SIZE);
}

const char *
volact_host_cert_body_problem (const VolactHostCertBody *body)
{
  if (body->version != VOLACT_HOST_CERT_VERSION)
    return "unsupported version";
  if (body->key_group < VOLACT_KEY_GROUP_MIN || body->key_group > VOLACT_KEY_GROUP_MAX)
    return "key group out of range";
  if (body->key_serial > VOLACT_KEY_SERIAL_MAX)
    return "key serial out of range";
  if (body->activation_number == 0)
    return "activation number 0";
  return NULL;
}

gboolean
volact_host_cert_parse (const guint8 *data, gsize len, VolactHostCert *out, GError **error)
{
  VolactHostCert cert;
  const char *problem;

  if (data == NULL || len != VOLACT_HOST_CERT_SIZE) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE,
                 "host certificate: %" G_GSIZE_FORMAT " bytes, expected %u", data ? len : 0,
                 VOLACT_HOST_CERT_SIZE);
    return FALSE;
  }
  cert.body.version = data[0];
  memcpy (cert.body.authority_key_id, data + 1, VOLACT_AUTHORITY_KEY_ID_SIZE);
  cert.body.key_group = (guint16) volact_get_be (data + 5, 2);
  cert.body.key_serial = volact_get_be (data + 7, 6);
  memcpy (cert.body.host_id, data + 13, VOLACT_HOST_ID_SIZE);
  memcpy (cert.body.fingerprint, data + 29, VOLACT_FINGERPRINT_SIZE);
  cert.body.issue_day = (guint16) volact_get_be (data + 39, 2);
  cert.body.activation_number = data[41];
  memcpy (cert.signature, data + VOLACT_HOST_CERT_BODY_SIZE, VOLACT_SIGNATURE_SIZE);

  problem = volact_host_cert_body_problem (&cert.body);
  if (problem != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE, "host certificate: %s", problem);
    return FALSE;
  }
  *out = cert;
  return TRUE;
}

/* 1 valid, 0 invalid, -1 error (set). */
static int
ecdsa_verify (EVP_PKEY *key, const guint8 *msg, gsize len, const guint8 sig[VOLACT_SIGNATURE_SIZE],
              GError **error)
{
  g_autoptr (EVP_MD_CTX) md = EVP_MD_CTX_new ();
  guint8 der[VOLACT_ECDSA_DER_MAX];
  gsize der_len;
  int rc;

  volact_crypto_clear_errors ();
  der_len = volact_crypto_ecdsa_rs_to_der (sig, der);
  if (md == NULL || der_len == 0) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "cannot build the ECDSA signature");
    return -1;
  }
  if (EVP_DigestVerifyInit_ex (md, NULL, "SHA256", NULL, NULL, key, NULL) != 1) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "cannot set up signature verification");
    return -1;
  }
  rc = EVP_DigestVerify (md, der, der_len, msg, len);
  /* A bad signature leaves entries on the queue; they are expected, not news. */
  volact_crypto_clear_errors ();
  return rc == 1 ? 1 : 0;
}

gboolean
volact_host_cert_verify (const VolactHostCert *cert, EVP_PKEY *authority_pubkey, GError **error)
{
  guint8 key_id[VOLACT_AUTHORITY_KEY_ID_SIZE];
  guint8 tbs[VOLACT_HOST_CERT_BODY_SIZE];
  const char *problem = volact_host_cert_body_problem (&cert->body);
  int rc;

  if (problem != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE, "host certificate: %s", problem);
    return FALSE;
  }
  if (!volact_authority_key_id (authority_pubkey, key_id, error))
    return FALSE;
  if (memcmp (key_id, cert->body.authority_key_id, sizeof key_id) != 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE,
                 "host certificate: issued by authority key %02x%02x%02x%02x, not by the trusted "
                 "authority key %02x%02x%02x%02x",
                 cert->body.authority_key_id[0], cert->body.authority_key_id[1],
                 cert->body.authority_key_id[2], cert->body.authority_key_id[3], key_id[0],
                 key_id[1], key_id[2], key_id[3]);
    return FALSE;
  }
  volact_host_cert_body_serialize (&cert->body, tbs);
  rc = ecdsa_verify (authority_pubkey, tbs, sizeof tbs, cert->signature, error);
  if (rc < 0)
    return FALSE;
  if (rc == 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE,
                 "host certificate: the authority's signature does not verify");
    return FALSE;
  }
  return TRUE;
}
