/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Signing license data (volact-authority sign): one enveloped signature with
 * volact's algorithm suite, which the host's volact_xmlsig_verify() and stock
 * `xmlsec1 --verify` accept. docs/license-format.md is the specification.
 */
#include "config.h"

#include "authority-sign.h"

#include "volact-crypto.h"
#include "volact-error.h"
#include "volact-xmlsig.h"

#include <xmlsec/crypto.h>
#include <xmlsec/keys.h>
#include <xmlsec/openssl/x509.h>
#include <xmlsec/templates.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlSecDSigCtx, xmlSecDSigCtxDestroy)

/* Removes the ds:Signature children of ROOT with the line break that followed each. */
static void
remove_signatures (xmlNode *root)
{
  xmlNode *n = root->children;

  while (n != NULL) {
    xmlNode *next = n->next;

    if (volact_xmlsig_is_signature (n)) {
      if (next != NULL && next->type == XML_TEXT_NODE && xmlIsBlankNode (next)) {
        xmlNode *after = next->next;
        xmlUnlinkNode (next);
        xmlFreeNode (next);
        next = after;
      }
      xmlUnlinkNode (n);
      xmlFreeNode (n);
    }
    n = next;
  }
}

/* The template: exc-c14n, SIGN_METHOD, one Reference URI="" (enveloped, exc-c14n, SHA-256). */
static xmlNode *
make_template (xmlDoc *doc, xmlSecTransformId sign_method, gboolean with_cert)
{
  xmlNode *sig = xmlSecTmplSignatureCreate (doc, xmlSecTransformExclC14NId, sign_method, NULL);
  xmlNode *ref, *key_info, *x509;

  if (sig == NULL)
    return NULL;
  ref = xmlSecTmplSignatureAddReference (sig, xmlSecTransformSha256Id, NULL, BAD_CAST "", NULL);
  if (ref == NULL || xmlSecTmplReferenceAddTransform (ref, xmlSecTransformEnvelopedId) == NULL
      || xmlSecTmplReferenceAddTransform (ref, xmlSecTransformExclC14NId) == NULL)
    goto fail;
  if (with_cert) {
    key_info = xmlSecTmplSignatureEnsureKeyInfo (sig, NULL);
    x509 = key_info ? xmlSecTmplKeyInfoAddX509Data (key_info) : NULL;
    if (x509 == NULL || xmlSecTmplX509DataAddCertificate (x509) == NULL)
      goto fail;
  }
  return sig;

fail:
  xmlFreeNode (sig);
  return NULL;
}

gboolean
volact_xmlsig_sign (xmlDoc *doc, const char *key_pem, const char *cert_pem, GError **error)
{
  g_autoptr (EVP_PKEY) pkey = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (xmlSecDSigCtx) ctx = NULL;
  xmlNode *root, *sig, *newline;
  xmlSecKeyData *x509_data;

  g_return_val_if_fail (doc != NULL && key_pem != NULL, FALSE);

  if (!volact_xmlsig_init (error))
    return FALSE;
  root = xmlDocGetRootElement (doc);
  if (root == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CRYPTO, "cannot sign a document without root");
    return FALSE;
  }
  pkey = volact_crypto_load_private_key (key_pem, error);
  if (pkey == NULL || !volact_crypto_check_signing_key (pkey, key_pem, error))
    return FALSE;
  if (cert_pem != NULL) {
    cert = volact_crypto_load_certificate (cert_pem, error);
    if (cert == NULL)
      return FALSE;
    if (X509_check_private_key (cert, pkey) != 1) {
      volact_crypto_clear_errors ();
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CRYPTO,
                   "%s: the certificate is not the one of the key in %s", cert_pem, key_pem);
      return FALSE;
    }
  }

  remove_signatures (root);
  sig = make_template (doc,
                       volact_crypto_key_is_ec (pkey) ? xmlSecTransformEcdsaSha256Id
                                                      : xmlSecTransformRsaSha256Id,
                       cert != NULL);
  if (sig == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CRYPTO,
                 "cannot create the signature template (xmlsec: %s)", volact_xmlsig_last_error ());
    return FALSE;
  }
  /* The Signature is the last child of the root, on a line of its own. */
  xmlAddChild (root, sig);
  newline = xmlAddChild (root, xmlNewDocText (doc, BAD_CAST "\n"));

  ctx = volact_xmlsig_context_new (pkey);
  if (ctx == NULL)
    goto fail;
  if (cert != NULL) {
    x509_data = xmlSecKeyEnsureData (ctx->signKey, xmlSecOpenSSLKeyDataX509Id);
    if (x509_data == NULL || xmlSecOpenSSLKeyDataX509AdoptCert (x509_data, cert) < 0)
      goto fail;
    cert = NULL; /* adopted */
  }
  if (xmlSecDSigCtxSign (ctx, sig) < 0 || ctx->status != xmlSecDSigStatusSucceeded)
    goto fail;
  return TRUE;

fail:
  g_set_error (error, VOLACT_ERROR, VOLACT_E_CRYPTO, "signing with %s failed (xmlsec: %s)", key_pem,
               volact_xmlsig_last_error ());
  xmlUnlinkNode (sig);
  xmlFreeNode (sig);
  if (newline != NULL) {
    xmlUnlinkNode (newline);
    xmlFreeNode (newline);
  }
  return FALSE;
}
