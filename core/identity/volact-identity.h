/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The host's identity: its EC P-256 key in `state-dir/identity.key`, the
 * compressed public key it shows clients and the host id derived from it
 * (docs/activation.md). The helpers a client needs as well live in
 * volact-host-cert.h.
 */
#ifndef VOLACT_IDENTITY_H
#define VOLACT_IDENTITY_H

#include <glib.h>
#include <openssl/evp.h>

#include "volact-host-cert.h"

G_BEGIN_DECLS

/**
 * volact_identity_load_or_create:
 * @path: the identity key file (`state-dir/identity.key`)
 * @created: (out) (optional): TRUE if a new key was generated
 *
 * Loads the host's EC P-256 identity key from @path, or, if the file does not
 * exist, generates one and writes it there as PKCS#8 PEM with mode 0600
 * (temporary file created O_CREAT|O_EXCL 0600 in the same folder, fsync,
 * renamed into place without replacing: if another process won the race its
 * key is loaded instead). A key file readable by group or others is used but
 * logged as a warning. A key that is not EC P-256 fails with VOLACT_E_CRYPTO.
 */
EVP_PKEY *volact_identity_load_or_create (const char *path, gboolean *created, GError **error);

/**
 * volact_identity_public_key:
 * @key: an EC P-256 key (private or public)
 * @out: receives the compressed public point (0x02/0x03 || X)
 */
gboolean volact_identity_public_key (EVP_PKEY *key, guint8 out[VOLACT_PUBLIC_KEY_SIZE],
                                     GError **error);

/** The host id of @key (volact_identity_public_key() then the hash). */
gboolean volact_identity_host_id (EVP_PKEY *key, guint8 out[VOLACT_HOST_ID_SIZE], GError **error);

G_END_DECLS

#endif
