/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Installation ID and Confirmation ID codecs
 * (core/identity/volact-activation-id.c): the authority decodes IIDs read out
 * on the telephone, the host decodes the CID typed in (volactctl atp). An ID
 * that decodes must encode and decode again to the same fields.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "volact-activation-id.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr (GError) error = NULL;
  char iid_text[VOLACT_IID_TEXT_SIZE], cid_text[VOLACT_CID_TEXT_SIZE];
  VolactInstallationId iid, iid2;
  VolactConfirmationId cid, cid2;

  if (volact_installation_id_decode (text, &iid, &error)) {
    g_assert (volact_installation_id_problem (&iid) == NULL);
    g_assert (volact_installation_id_encode (&iid, iid_text, &error));
    g_assert (volact_installation_id_decode (iid_text, &iid2, &error));
    /* Field by field: struct assignment need not copy padding. */
    g_assert (iid.version == iid2.version && iid.key_group == iid2.key_group
              && iid.key_serial == iid2.key_serial && iid.key_nonce == iid2.key_nonce
              && memcmp (iid.host_id, iid2.host_id, sizeof iid.host_id) == 0
              && memcmp (iid.fingerprint, iid2.fingerprint, sizeof iid.fingerprint) == 0);
  } else {
    g_assert (error != NULL);
    g_clear_error (&error);
  }

  if (volact_confirmation_id_decode (text, &cid, &error)) {
    g_assert (volact_confirmation_id_problem (&cid) == NULL);
    g_assert (volact_confirmation_id_encode (&cid, cid_text, &error));
    g_assert (volact_confirmation_id_decode (cid_text, &cid2, &error));
    g_assert (cid.version == cid2.version && cid.issue_day == cid2.issue_day
              && cid.activation_number == cid2.activation_number
              && memcmp (cid.signature, cid2.signature, sizeof cid.signature) == 0);
  } else {
    g_assert (error != NULL);
  }
  return 0;
}
