/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Applying a Confirmation ID on the host; docs/activation.md is the specification. */
#include "config.h"

#include "volact-activation.h"

#include "volact-error.h"

#include <string.h>

gboolean
volact_activation_apply (const VolactInstallationId *own_iid, const VolactConfirmationId *cid,
                         EVP_PKEY *authority_pubkey, VolactHostCert *out_cert, GError **error)
{
  g_autoptr (GError) local = NULL;
  VolactHostCert cert;
  const char *problem = volact_installation_id_problem (own_iid);

  if (problem == NULL)
    problem = volact_confirmation_id_problem (cid);
  if (problem != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CID_INVALID,
                 "the Confirmation ID is not valid for this host: %s", problem);
    return FALSE;
  }
  volact_installation_id_cert_body (own_iid, cid->issue_day, cid->activation_number, &cert.body);
  if (!volact_authority_key_id (authority_pubkey, cert.body.authority_key_id, error))
    return FALSE;
  memcpy (cert.signature, cid->signature, VOLACT_SIGNATURE_SIZE);
  if (!volact_host_cert_verify (&cert, authority_pubkey, &local)) {
    if (g_error_matches (local, VOLACT_ERROR, VOLACT_E_SIGNATURE)) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CID_INVALID,
                   "the Confirmation ID is not valid for this host: it was made for another "
                   "host, key or hardware, or by another authority");
    } else {
      g_propagate_error (error, g_steal_pointer (&local));
    }
    return FALSE;
  }
  *out_cert = cert;
  return TRUE;
}
