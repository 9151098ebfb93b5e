/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-xmlsig.h"

#include "volact-crypto.h"
#include "volact-error.h"
#include "volact-xml.h"

#include <string.h>

#include <libxml/parser.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/keys.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/openssl/x509.h>
#include <xmlsec/templates.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

struct _VolactTrust {
  char *path;
  GPtrArray *certs; /* X509* */
  GPtrArray *keys;  /* EVP_PKEY*, one per certificate, same order */
};

/* The last xmlsec error of this thread, for messages ("xmlsec: ..."). */
static GPrivate last_xmlsec_error = G_PRIVATE_INIT (g_free);

static void
on_xmlsec_error (const char *file, int line, const char *func, const char *error_object,
                 const char *error_subject, int reason, const char *msg)
{
  const char *reason_text = NULL;

  for (xmlSecSize i = 0; xmlSecErrorsGetMsg (i) != NULL; i++)
    if (xmlSecErrorsGetCode (i) == reason) {
      reason_text = xmlSecErrorsGetMsg (i);
      break;
    }
  g_private_replace (&last_xmlsec_error,
                     g_strdup_printf ("%s%s%s%s%s", error_subject ? error_subject : "",
                                      error_subject ? ": " : "",
                                      reason_text ? reason_text : "error", msg && *msg ? ": " : "",
                                      msg ? msg : ""));
  g_debug ("xmlsec: %s: %s", func ? func : "?", (const char *) g_private_get (&last_xmlsec_error));
}

static const char *
xmlsec_detail (void)
{
  const char *d = g_private_get (&last_xmlsec_error);
  return d ? d : "no detail";
}

static char *init_failure;

static gpointer
init_once (gpointer data)
{
  xmlInitParser ();
  if (xmlSecInit () < 0)
    return g_strdup ("xmlSecInit failed");
  /* xmlsec reports to stderr by default; its errors become part of our messages instead. */
  xmlSecErrorsSetCallback (on_xmlsec_error);
  if (xmlSecCheckVersion () != 1)
    return g_strdup_printf ("the loaded xmlsec library is not compatible with xmlsec %s",
                            XMLSEC_VERSION);
  if (xmlSecCryptoAppInit (NULL) < 0)
    return g_strdup_printf ("xmlsec crypto application init failed: %s", xmlsec_detail ());
  if (xmlSecCryptoInit () < 0)
    return g_strdup_printf ("xmlsec crypto init failed: %s", xmlsec_detail ());
  xmlSecErrorsSetCallback (on_xmlsec_error); /* again: crypto init may install its own */
  return NULL;
}

gboolean
volact_xmlsig_init (GError **error)
{
  static GOnce once = G_ONCE_INIT;

  init_failure = g_once (&once, init_once, NULL);
  if (init_failure != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CRYPTO, "%s", init_failure);
    return FALSE;
  }
  return TRUE;
}

/* Trust store */

VolactTrust *
volact_trust_load (const char *path, GError **error)
{
  g_autoptr (GPtrArray) certs = volact_crypto_load_certificates (path, error);
  VolactTrust *trust;

  if (certs == NULL)
    return NULL;
  trust = g_new0 (VolactTrust, 1);
  trust->path = g_strdup (path);
  trust->keys = g_ptr_array_new_with_free_func ((GDestroyNotify) EVP_PKEY_free);
  for (guint i = 0; i < certs->len; i++) {
    EVP_PKEY *key = X509_get_pubkey (certs->pdata[i]); /* a new reference */
    g_autofree char *what = NULL;
    g_autofree char *subject = NULL;

    if (key == NULL) {
      volact_crypto_set_error (error, VOLACT_E_CRYPTO, "%s: certificate %u has no usable key", path,
                               i + 1);
      volact_trust_free (trust);
      return NULL;
    }
    g_ptr_array_add (trust->keys, key);
    subject = volact_crypto_subject (certs->pdata[i]);
    what = g_strdup_printf ("%s: certificate %u (%s)", path, i + 1, subject);
    if (!volact_crypto_check_signing_key (key, what, error)) {
      volact_trust_free (trust);
      return NULL;
    }
  }
  trust->certs = g_steal_pointer (&certs);
  return trust;
}

void
volact_trust_free (VolactTrust *trust)
{
  if (trust == NULL)
    return;
  g_free (trust->path);
  if (trust->certs != NULL)
    g_ptr_array_unref (trust->certs);
  if (trust->keys != NULL)
    g_ptr_array_unref (trust->keys);
  g_free (trust);
}

guint
volact_trust_n_keys (const VolactTrust *trust)
{
  return trust->keys->len;
}

const char *
volact_trust_path (const VolactTrust *trust)
{
  return trust->path;
}

EVP_PKEY *
volact_trust_key (const VolactTrust *trust, guint index)
{
  g_return_val_if_fail (index < trust->keys->len, NULL);
  return trust->keys->pdata[index];
}

/* Shape of a signature */

static gboolean
is_dsig (const xmlNode *n, const char *name)
{
  return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL && n->ns->href != NULL
         && strcmp ((const char *) n->ns->href, VOLACT_DSIG_NS) == 0
         && strcmp ((const char *) n->name, name) == 0;
}

static xmlNode *
first_element (xmlNode *n)
{
  while (n != NULL && n->type != XML_ELEMENT_NODE)
    n = n->next;
  return n;
}

static xmlNode *
next_element (xmlNode *n)
{
  return first_element (n->next);
}

/* Whether the Algorithm attribute of N names transform ID. */
static gboolean
algorithm_is (const xmlNode *n, xmlSecTransformId id)
{
  const char *alg = volact_xml_node_attr ((const VolactNode *) n, "Algorithm");
  return alg != NULL && strcmp (alg, (const char *) id->href) == 0;
}

static gboolean
sig_error (GError **error, const char *path, const char *what)
{
  g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE, "%s: %s", path, what);
  return FALSE;
}

/* Counts ds:Signature elements in ROOT and below; *FOUND gets the last one in document order. */
static guint
count_signatures (xmlNode *root, xmlNode **found)
{
  guint count = 0;
  xmlNode *n = root;

  while (n != NULL) {
    if (is_dsig (n, "Signature")) {
      count++;
      *found = n;
    }
    if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
      n = n->children;
      continue;
    }
    while (n != root && n->next == NULL)
      n = n->parent;
    if (n == root)
      break;
    n = n->next;
  }
  return count;
}

/* The Reference: URI="", transforms exactly enveloped-signature then exc-c14n, SHA-256. */
static gboolean
check_reference (xmlNode *ref, const char *path, GError **error)
{
  const char *uri = volact_xml_node_attr ((const VolactNode *) ref, "URI");
  xmlNode *transforms, *t1, *t2, *digest, *value;

  if (uri == NULL || *uri != '\0')
    return sig_error (error, path,
                      "the Reference must have URI=\"\" (an enveloped signature over the whole "
                      "document)");
  transforms = first_element (ref->children);
  t1 = is_dsig (transforms, "Transforms") ? first_element (transforms->children) : NULL;
  t2 = t1 ? next_element (t1) : NULL;
  if (!is_dsig (t1, "Transform") || !algorithm_is (t1, xmlSecTransformEnvelopedId)
      || !is_dsig (t2, "Transform") || !algorithm_is (t2, xmlSecTransformExclC14NId)
      || next_element (t2) != NULL)
    return sig_error (error, path,
                      "the Reference transforms must be exactly enveloped-signature then "
                      "exclusive c14n");
  digest = next_element (transforms);
  if (!is_dsig (digest, "DigestMethod") || !algorithm_is (digest, xmlSecTransformSha256Id))
    return sig_error (error, path, "the Reference digest method must be SHA-256");
  value = next_element (digest);
  if (!is_dsig (value, "DigestValue") || next_element (value) != NULL)
    return sig_error (error, path, "the Reference must end with its DigestValue");
  return TRUE;
}

/*
 * Checks everything about the signature that does not need a key: exactly one
 * ds:Signature in the whole document, the last element child of the license
 * root, holding only SignedInfo, SignatureValue and KeyInfo, with the one
 * algorithm suite volact uses. Returns the Signature and whether it is ECDSA.
 */
static xmlNode *
check_shape (xmlDoc *doc, const char *path, gboolean *ecdsa, GError **error)
{
  xmlNode *root = xmlDocGetRootElement (doc);
  xmlNode *sig = NULL, *last = NULL, *info, *value, *c14n, *method, *ref, *n;
  guint count;

  if (root == NULL || root->ns == NULL || strcmp ((const char *) root->ns->href, VOLACT_XRM_NS) != 0
      || strcmp ((const char *) root->name, "license") != 0) {
    sig_error (error, path, "the root element is not {" VOLACT_XRM_NS "}license");
    return NULL;
  }
  count = count_signatures (root, &sig);
  if (count == 0) {
    sig_error (error, path, "no Signature element: the file is not signed");
    return NULL;
  }
  if (count > 1) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE,
                 "%s: more than one Signature element (%u); exactly one is allowed", path, count);
    return NULL;
  }
  for (n = first_element (root->children); n != NULL; n = next_element (n))
    last = n;
  if (last != sig) {
    sig_error (error, path, "the Signature element is not the last child of the license element");
    return NULL;
  }

  info = first_element (sig->children);
  value = info ? next_element (info) : NULL;
  n = value ? next_element (value) : NULL;
  if (is_dsig (n, "KeyInfo"))
    n = next_element (n); /* allowed, and never read */
  if (!is_dsig (info, "SignedInfo") || !is_dsig (value, "SignatureValue") || n != NULL) {
    sig_error (error, path,
               "the Signature may hold only SignedInfo, SignatureValue and KeyInfo, in that "
               "order");
    return NULL;
  }

  c14n = first_element (info->children);
  if (!is_dsig (c14n, "CanonicalizationMethod")
      || !algorithm_is (c14n, xmlSecTransformExclC14NId)) {
    sig_error (error, path, "the SignedInfo canonicalization must be exclusive c14n");
    return NULL;
  }
  method = next_element (c14n);
  if (is_dsig (method, "SignatureMethod") && algorithm_is (method, xmlSecTransformEcdsaSha256Id))
    *ecdsa = TRUE;
  else if (is_dsig (method, "SignatureMethod") && algorithm_is (method, xmlSecTransformRsaSha256Id))
    *ecdsa = FALSE;
  else {
    sig_error (error, path, "the signature method must be ECDSA-SHA256 or RSA-SHA256");
    return NULL;
  }
  ref = next_element (method);
  if (!is_dsig (ref, "Reference") || next_element (ref) != NULL) {
    sig_error (error, path, "the SignedInfo must hold exactly one Reference");
    return NULL;
  }
  if (!check_reference (ref, path, error))
    return NULL;
  return sig;
}

/* xmlsec plumbing */

/* A context that only knows volact's algorithm suite and same-document URI="". */
static xmlSecDSigCtx *
new_dsig_ctx (void)
{
  xmlSecDSigCtx *ctx = xmlSecDSigCtxCreate (NULL); /* no keys manager: KeyInfo is never resolved */

  if (ctx == NULL)
    return NULL;
  ctx->flags |= XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
  ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
  if (xmlSecDSigCtxEnableSignatureTransform (ctx, xmlSecTransformExclC14NId) < 0
      || xmlSecDSigCtxEnableSignatureTransform (ctx, xmlSecTransformEcdsaSha256Id) < 0
      || xmlSecDSigCtxEnableSignatureTransform (ctx, xmlSecTransformRsaSha256Id) < 0
      || xmlSecDSigCtxEnableReferenceTransform (ctx, xmlSecTransformEnvelopedId) < 0
      || xmlSecDSigCtxEnableReferenceTransform (ctx, xmlSecTransformExclC14NId) < 0
      || xmlSecDSigCtxEnableReferenceTransform (ctx, xmlSecTransformSha256Id) < 0) {
    xmlSecDSigCtxDestroy (ctx);
    return NULL;
  }
  return ctx;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlSecDSigCtx, xmlSecDSigCtxDestroy)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlSecKey, xmlSecKeyDestroy)

/* An xmlsec key holding its own reference to PKEY. */
static xmlSecKey *
key_from_pkey (EVP_PKEY *pkey)
{
  g_autoptr (xmlSecKey) key = xmlSecKeyCreate ();
  xmlSecKeyData *data;

  if (key == NULL || EVP_PKEY_up_ref (pkey) != 1)
    return NULL;
  data = xmlSecOpenSSLEvpKeyAdopt (pkey);
  if (data == NULL) {
    EVP_PKEY_free (pkey);
    return NULL;
  }
  if (xmlSecKeySetValue (key, data) < 0) {
    xmlSecKeyDataDestroy (data);
    return NULL;
  }
  return g_steal_pointer (&key);
}

typedef enum { VERIFY_GOOD, VERIFY_BAD, VERIFY_ERROR } VerifyResult;

/*
 * One attempt with one trusted key. signKey is set before verifying, so
 * xmlsec never looks at KeyInfo (and it has no keys manager to look with).
 */
static VerifyResult
verify_with_key (xmlNode *sig, EVP_PKEY *pkey, const char *path, GError **error)
{
  g_autoptr (xmlSecDSigCtx) ctx = new_dsig_ctx ();
  xmlSecDSigReferenceCtx *ref;

  g_private_replace (&last_xmlsec_error, NULL);
  if (ctx == NULL || (ctx->signKey = key_from_pkey (pkey)) == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE,
                 "%s: cannot set up signature verification (xmlsec: %s)", path, xmlsec_detail ());
    return VERIFY_ERROR;
  }
  if (xmlSecDSigCtxVerify (ctx, sig) < 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE,
                 "%s: the signature cannot be checked (xmlsec: %s)", path, xmlsec_detail ());
    return VERIFY_ERROR;
  }
  if (ctx->status != xmlSecDSigStatusSucceeded)
    return VERIFY_BAD;

  /* What was verified must be what check_shape saw: one reference, URI "". */
  if (xmlSecPtrListGetSize (&ctx->signedInfoReferences) != 1
      || xmlSecPtrListGetSize (&ctx->manifestReferences) != 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE,
                 "%s: the signature must sign exactly one reference", path);
    return VERIFY_ERROR;
  }
  ref = xmlSecPtrListGetItem (&ctx->signedInfoReferences, 0);
  if (ref == NULL || ref->status != xmlSecDSigStatusSucceeded || ref->uri == NULL
      || ref->uri[0] != '\0') {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE,
                 "%s: the signed reference is not the whole document (URI=\"\")", path);
    return VERIFY_ERROR;
  }
  return VERIFY_GOOD;
}

gboolean
volact_xmlsig_verify (xmlDoc *doc, const VolactTrust *trust, const char *path, GError **error)
{
  g_autoptr (GError) failure = NULL;
  gboolean ecdsa = FALSE;
  guint tried = 0;
  xmlNode *sig;

  g_return_val_if_fail (doc != NULL && trust != NULL, FALSE);

  if (!volact_xmlsig_init (error))
    return FALSE;
  sig = check_shape (doc, path, &ecdsa, error);
  if (sig == NULL)
    return FALSE;

  for (guint i = 0; i < trust->keys->len; i++) {
    EVP_PKEY *key = trust->keys->pdata[i];

    /* An RSA key cannot check an ECDSA signature and vice versa. */
    if (volact_crypto_key_is_ec (key) != ecdsa)
      continue;
    tried++;
    g_clear_error (&failure);
    switch (verify_with_key (sig, key, path, &failure)) {
      case VERIFY_GOOD:
        return TRUE;
      case VERIFY_BAD:
        break;
      case VERIFY_ERROR:
        /* Processing errors do not depend on the key: report the first. */
        g_propagate_error (error, g_steal_pointer (&failure));
        return FALSE;
    }
  }
  if (tried == 0)
    g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE,
                 "%s: signature does not verify with any trusted authority key (%s has no %s "
                 "key)",
                 path, trust->path, ecdsa ? "EC" : "RSA");
  else
    g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE,
                 "%s: signature does not verify with any trusted authority key", path);
  return FALSE;
}

/* For the authority's signing (tools/authority-xmlsign.c), which volactd does not link. */

xmlSecDSigCtx *
volact_xmlsig_context_new (EVP_PKEY *key)
{
  g_autoptr (xmlSecDSigCtx) ctx = new_dsig_ctx ();

  g_private_replace (&last_xmlsec_error, NULL);
  if (ctx == NULL || (ctx->signKey = key_from_pkey (key)) == NULL)
    return NULL;
  return g_steal_pointer (&ctx);
}

const char *
volact_xmlsig_last_error (void)
{
  return xmlsec_detail ();
}

gboolean
volact_xmlsig_is_signature (const xmlNode *node)
{
  return is_dsig (node, "Signature");
}
