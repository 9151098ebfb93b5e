/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client's response verifier (volact_response_verify and the caching
 * verifier libvolact uses) and the error-response decoder, against one fixed
 * request and the pinned FUZZING ONLY authority of fuzz-keys.h. A response
 * that verifies must echo the request's nonce.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "fuzz-keys.h"
#include "volact-protocol.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static EVP_PKEY *authority;
static VolactResponseVerifier *verifier;
static guint8 request[VOLACT_PROTO_REQUEST_MAX];
static gsize request_len;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;
  VolactRequest req = { 0 };

  authority = fuzz_key (FUZZ_AUTHORITY_KEY);
  verifier = volact_response_verifier_new (authority);
  memset (req.nonce, 0x4e, sizeof req.nonce);
  memset (req.cmid, 0xc1, sizeof req.cmid);
  req.minutes_left = 43200;
  g_strlcpy (req.edition, FUZZ_REQUEST_EDITION, sizeof req.edition);
  g_strlcpy (req.name, FUZZ_REQUEST_NAME, sizeof req.name);
  request_len = volact_request_encode (&req, request, &error);
  g_assert_no_error (error);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  guint8 nonce[VOLACT_PROTO_NONCE_SIZE];
  VolactResponse resp;
  guint32 code;

  {
    g_autoptr (GError) error = NULL;
    if (volact_response_verify (data, size, request, request_len, authority, &resp, &error))
      g_assert (memcmp (resp.nonce, request + VOLACT_PROTO_HEADER_SIZE, sizeof resp.nonce) == 0);
    else
      g_assert (error != NULL);
  }
  {
    /* Twice: the second call may answer from the verifier's cache. */
    g_autoptr (GError) error = NULL;
    for (int i = 0; i < 2; i++) {
      if (volact_response_verifier_check (verifier, data, size, request, request_len, &resp,
                                          &error))
        g_assert (memcmp (resp.nonce, request + VOLACT_PROTO_HEADER_SIZE, sizeof resp.nonce) == 0);
      else
        g_clear_error (&error);
    }
  }
  {
    g_autoptr (GError) error = NULL;
    if (!volact_error_response_decode (data, size, nonce, &code, &error))
      g_assert (error != NULL);
  }
  return 0;
}
