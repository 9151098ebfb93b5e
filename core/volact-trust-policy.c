/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-trust-policy.h"

#include "volact-crypto.h"
#include "volact-error.h"
#include "volact-resources.h"

#include <openssl/pem.h>
#include <string.h>

/* licenses/reference-authority.pem, compiled in (core/volact.gresource.xml). */
#define DEMO_AUTHORITY_RESOURCE "/org/volact/demo/reference-authority.pem"

static gboolean
sha256_of (X509 *cert, guint8 out[EVP_MAX_MD_SIZE], GError **error)
{
  unsigned int n = 0;

  if (!X509_digest (cert, EVP_sha256 (), out, &n) || n != 32) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "cannot hash a certificate");
    return FALSE;
  }
  return TRUE;
}

/* The SHA-256 of the demo authority's certificate (DER). */
static gboolean
demo_fingerprint (guint8 out[EVP_MAX_MD_SIZE], GError **error)
{
  g_autoptr (GBytes) pem = g_resource_lookup_data (volact_get_resource (), DEMO_AUTHORITY_RESOURCE,
                                                   G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  g_autoptr (BIO) bio = NULL;
  g_autoptr (X509) cert = NULL;
  gsize n;
  const void *data;

  if (pem == NULL)
    return FALSE;
  data = g_bytes_get_data (pem, &n);
  volact_crypto_clear_errors ();
  bio = BIO_new_mem_buf (data, (int) n);
  cert = bio ? PEM_read_bio_X509 (bio, NULL, NULL, NULL) : NULL;
  if (cert == NULL) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "the built-in demo authority certificate");
    return FALSE;
  }
  return sha256_of (cert, out, error);
}

gboolean
volact_trust_policy_check (const VolactConfig *cfg, GError **error)
{
  const char *file = cfg->file ? cfg->file : "the built-in configuration (no --config)";
  g_autoptr (GPtrArray) certs = NULL;
  guint8 demo[EVP_MAX_MD_SIZE], md[EVP_MAX_MD_SIZE];

  if (cfg->trust == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "%s: [%s] trust is not set: name the PEM file of the authority certificates "
                 "this host trusts, either your own authority's (volact-authority --dir DIR "
                 "init writes DIR/authority.pem) or the certificate your software vendor "
                 "sent; there is no default",
                 file, VOLACT_CONFIG_GROUP);
    return FALSE;
  }
  certs = volact_crypto_load_certificates (cfg->trust, error);
  if (certs == NULL || !demo_fingerprint (demo, error))
    return FALSE;
  for (guint i = 0; i < certs->len; i++) {
    if (!sha256_of (certs->pdata[i], md, error))
      return FALSE;
    if (memcmp (md, demo, 32) != 0)
      continue;
    if (!cfg->demo_authority) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                   "%s: certificate %u (named by trust in %s) is the DEMO ONLY reference "
                   "authority, whose private key is public: anyone could sign license data and "
                   "host certificates this host accepts. Trust your own authority, or, for a "
                   "demo or a test, set demo-authority = true in [%s]",
                   cfg->trust, i + 1, file, VOLACT_CONFIG_GROUP);
      return FALSE;
    }
    g_warning ("%s: trusting the DEMO ONLY reference authority (demo-authority = true): anyone "
               "can sign what this host accepts; never use it in production",
               cfg->trust);
  }
  return TRUE;
}
