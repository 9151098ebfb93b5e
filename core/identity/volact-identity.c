/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host's identity key; docs/activation.md is the specification. */
#include "config.h"

#include "volact-identity.h"

#include "volact-crypto.h"
#include "volact-error.h"

#include <errno.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

gboolean
volact_identity_public_key (EVP_PKEY *key, guint8 out[VOLACT_PUBLIC_KEY_SIZE], GError **error)
{
  gboolean odd = FALSE;

  if (!volact_crypto_p256_point (key, "the host identity key", out + 1, NULL, &odd, error))
    return FALSE;
  out[0] = odd ? 0x03 : 0x02;
  return TRUE;
}

gboolean
volact_identity_host_id (EVP_PKEY *key, guint8 out[VOLACT_HOST_ID_SIZE], GError **error)
{
  guint8 pub[VOLACT_PUBLIC_KEY_SIZE];

  if (!volact_identity_public_key (key, pub, error))
    return FALSE;
  volact_identity_host_id_from_public (pub, out);
  return TRUE;
}

EVP_PKEY *
volact_identity_load_or_create (const char *path, gboolean *created, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  struct stat st;

  if (created != NULL)
    *created = FALSE;

  if (g_lstat (path, &st) != 0) {
    int saved = errno;
    if (saved != ENOENT) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: %s", path, g_strerror (saved));
      return NULL;
    }
    key = volact_crypto_generate_ec_key (error);
    if (key == NULL)
      return NULL;
    if (volact_crypto_write_private_key (path, key, &local)) {
      g_message ("Created a new host identity key %s", path);
      if (created != NULL)
        *created = TRUE;
      return g_steal_pointer (&key);
    }
    /* Lost a race with another process creating the key: use its key. */
    if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
    g_clear_pointer (&key, EVP_PKEY_free);
    if (g_lstat (path, &st) != 0) {
      int saved2 = errno;
      g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: %s", path, g_strerror (saved2));
      return NULL;
    }
  }

  if (!S_ISREG (st.st_mode)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: not a regular file", path);
    return NULL;
  }
  if ((st.st_mode & 077) != 0)
    g_warning ("%s: the host identity key is accessible to group or others (mode %04o); it "
               "should be 0600",
               path, (guint) (st.st_mode & 07777));
  key = volact_crypto_load_private_key (path, error);
  if (key == NULL)
    return NULL;
  if (!volact_crypto_check_p256 (key, path, error))
    return NULL;
  return g_steal_pointer (&key);
}
