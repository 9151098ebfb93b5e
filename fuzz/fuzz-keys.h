/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * FUZZING ONLY: fixed P-256 keys so that the response corpus (signed by HOST,
 * certified by AUTHORITY) stays valid from run to run. Nothing trusts them.
 */
#ifndef VOLACT_FUZZ_KEYS_H
#define VOLACT_FUZZ_KEYS_H

#include <openssl/evp.h>
#include <openssl/pem.h>

#define FUZZ_AUTHORITY_KEY \
  "-----BEGIN PRIVATE KEY-----\n" \
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVAaC7iw5lcxURNye\n" \
  "oHbd1nl6oc2TvZHUZyXjB60ti5ahRANCAAQjxqn4qMUQwrPtKnBDbSwJj4zw5BSa\n" \
  "ROw6xNxS7FSeuEOutgjiVyTe3kPvoenWCj7xRHA+5Ybv13HEjGHfbufE\n" \
  "-----END PRIVATE KEY-----\n"

#define FUZZ_HOST_KEY \
  "-----BEGIN PRIVATE KEY-----\n" \
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgzoMUWb7c34fXGlJv\n" \
  "kzCjHTAsa7q6yNM0CDqBvxtP1omhRANCAAS2JJoB0hQvMwdUs0vHVQhFLNe1h8Yj\n" \
  "5O5O5Cj+AVFe1uOYzVpyFHsPDTGNmBPWF9/GYKtOJHG1a4Fkd4j9jdLK\n" \
  "-----END PRIVATE KEY-----\n"

/* The request every response in the corpus answers: fixed, so the nonce matches. */
#define FUZZ_REQUEST_EDITION "win7-enterprise"
#define FUZZ_REQUEST_NAME "pc1.example.org"

/** Parses one of the PEM keys above; aborts on failure (a broken harness). */
static inline EVP_PKEY *
fuzz_key (const char *pem)
{
  BIO *bio = BIO_new_mem_buf (pem, -1);
  EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL) : NULL;

  BIO_free (bio);
  if (key == NULL)
    abort ();
  return key;
}

#endif
