/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * Host activation, the host side: applying a Confirmation ID. docs/activation.md
 * is the specification. This header also brings in what activating a host
 * involves: the hardware fingerprint, the host identity, the Installation and
 * Confirmation IDs and the host certificate. The authority's side (signing
 * the certificate, making the Confirmation ID) is in tools/authority-sign.h
 * and is not linked into volactd.
 */
#ifndef VOLACT_ACTIVATION_H
#define VOLACT_ACTIVATION_H

#include <glib.h>
#include <openssl/evp.h>

#include "volact-activation-id.h"
#include "volact-fingerprint.h"
#include "volact-host-cert.h"
#include "volact-identity.h"

G_BEGIN_DECLS

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
