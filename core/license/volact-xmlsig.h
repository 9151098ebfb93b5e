/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * Enveloped XML signatures with xmlsec1/OpenSSL: the trust store and verifying
 * (never trusting KeyInfo). Signing is volact-authority's (tools/authority-sign.h).
 */
#ifndef VOLACT_XMLSIG_H
#define VOLACT_XMLSIG_H

#include <glib.h>
#include <libxml/tree.h>
#include <openssl/types.h>

G_BEGIN_DECLS

/** The XML-DSig namespace. */
#define VOLACT_DSIG_NS "http://www.w3.org/2000/09/xmldsig#"

/** The authority keys a host trusts for license data (and, later, host certificates). */
typedef struct _VolactTrust VolactTrust;

/** Initialises libxml2 and xmlsec once per process; safe to call repeatedly. */
gboolean volact_xmlsig_init (GError **error);

/**
 * Loads every certificate in the PEM file PATH; at least one is required, and
 * each must carry an EC P-256 or RSA (2048 bits or more) key. Only the public
 * keys are used: the trust store pins keys, it does not validate chains.
 */
VolactTrust *volact_trust_load (const char *path, GError **error);
void volact_trust_free (VolactTrust *trust);
guint volact_trust_n_keys (const VolactTrust *trust);
/** The file the trust store was loaded from. */
const char *volact_trust_path (const VolactTrust *trust);
/** Public key number INDEX (< volact_trust_n_keys), owned by TRUST. */
EVP_PKEY *volact_trust_key (const VolactTrust *trust, guint index);

/**
 * Verifies the single enveloped signature of DOC (see docs/license-format.md
 * for the exact shape required) against the keys of TRUST. KeyInfo is never
 * read. PATH is only used in messages. Every failure is VOLACT_E_SIGNATURE.
 */
gboolean volact_xmlsig_verify (xmlDoc *doc, const VolactTrust *trust, const char *path,
                               GError **error);

/*
 * For the authority's signing (volact_xmlsig_sign() in tools/authority-sign.h,
 * not linked into volactd): a signature context with volact's algorithm
 * suite and KEY as its signing key (NULL on failure), the last xmlsec error
 * of this thread for messages, and whether NODE is a ds:Signature element.
 */
struct _xmlSecDSigCtx *volact_xmlsig_context_new (EVP_PKEY *key);
const char *volact_xmlsig_last_error (void);
gboolean volact_xmlsig_is_signature (const xmlNode *node);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactTrust, volact_trust_free)

G_END_DECLS

#endif
