/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* renameat2 (RENAME_NOREPLACE) is a GNU extension. */
#define _GNU_SOURCE 1

#include "config.h"

#include "volact-crypto.h"

#include "volact-error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIGNUM, BN_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ECDSA_SIG, ECDSA_SIG_free)

/* Key and certificate files are small; anything bigger is not what we think it is. */
#define PEM_FILE_MAX_BYTES (1024u * 1024u)

void
volact_crypto_clear_errors (void)
{
  ERR_clear_error ();
}

void
volact_crypto_set_error (GError **error, int code, const char *format, ...)
{
  g_autoptr (GString) msg = g_string_new (NULL);
  const char *sep = ": ";
  const char *data = NULL;
  int flags = 0;
  unsigned long e;
  va_list ap;

  va_start (ap, format);
  g_string_append_vprintf (msg, format, ap);
  va_end (ap);

  /* Drain the whole queue even when nobody wants the error, so stale entries
   * never leak into the next message. */
  while ((e = ERR_get_error_all (NULL, NULL, NULL, &data, &flags)) != 0) {
    char buf[256];
    ERR_error_string_n (e, buf, sizeof buf);
    g_string_append (msg, sep);
    g_string_append (msg, buf);
    if (data != NULL && *data != '\0' && (flags & ERR_TXT_STRING))
      g_string_append_printf (msg, " (%s)", data);
    sep = "; ";
  }
  g_set_error_literal (error, VOLACT_ERROR, code, msg->str);
}

/* Reads a small PEM file into a memory BIO; the caller wipes nothing, the
 * buffer is cleansed here because it may hold a private key. */
static BIO *
read_pem_file (const char *path, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  BIO *bio;

  if (!g_file_get_contents (path, &data, &len, &local)) {
    /* GLib's message already names the file. */
    g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_IO, local->message);
    return NULL;
  }
  if (len > PEM_FILE_MAX_BYTES || len > G_MAXINT) {
    OPENSSL_cleanse (data, len);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_TOO_LARGE,
                 "%s: %" G_GSIZE_FORMAT " bytes is too large for a PEM file", path, len);
    return NULL;
  }
  volact_crypto_clear_errors ();
  /* A read-write memory BIO owns a copy, so DATA can be wiped right away. */
  bio = BIO_new (BIO_s_mem ());
  if (bio == NULL || BIO_write (bio, data, (int) len) != (int) len) {
    OPENSSL_cleanse (data, len);
    BIO_free (bio);
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "%s: cannot buffer the file", path);
    return NULL;
  }
  OPENSSL_cleanse (data, len);
  return bio;
}

/* Never prompt on a terminal for a passphrase: encrypted keys are refused. */
static int
no_passphrase (char *buf, int size, int rwflag, void *user_data)
{
  return 0;
}

EVP_PKEY *
volact_crypto_load_private_key (const char *path, GError **error)
{
  g_autoptr (BIO) bio = read_pem_file (path, error);
  EVP_PKEY *key;

  if (bio == NULL)
    return NULL;
  key = PEM_read_bio_PrivateKey (bio, NULL, no_passphrase, NULL);
  if (key == NULL) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO,
                             "%s: no unencrypted PEM private key could be read", path);
    return NULL;
  }
  volact_crypto_clear_errors ();
  return key;
}

X509 *
volact_crypto_load_certificate (const char *path, GError **error)
{
  g_autoptr (BIO) bio = read_pem_file (path, error);
  X509 *cert;

  if (bio == NULL)
    return NULL;
  cert = PEM_read_bio_X509 (bio, NULL, no_passphrase, NULL);
  if (cert == NULL) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "%s: no PEM certificate could be read", path);
    return NULL;
  }
  volact_crypto_clear_errors ();
  return cert;
}

GPtrArray *
volact_crypto_load_certificates (const char *path, GError **error)
{
  g_autoptr (BIO) bio = read_pem_file (path, error);
  g_autoptr (GPtrArray) certs = NULL;
  X509 *cert;
  unsigned long e;

  if (bio == NULL)
    return NULL;
  certs = g_ptr_array_new_with_free_func ((GDestroyNotify) X509_free);
  while ((cert = PEM_read_bio_X509 (bio, NULL, no_passphrase, NULL)) != NULL)
    g_ptr_array_add (certs, cert);

  /* The loop ends with "no start line" at the end of the input; anything else
   * is a broken certificate and must not be silently skipped. */
  e = ERR_peek_last_error ();
  if (e != 0 && !(ERR_GET_LIB (e) == ERR_LIB_PEM && ERR_GET_REASON (e) == PEM_R_NO_START_LINE)) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "%s: certificate %u cannot be read", path,
                             certs->len + 1);
    return NULL;
  }
  volact_crypto_clear_errors ();
  if (certs->len == 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CRYPTO, "%s: contains no PEM certificate", path);
    return NULL;
  }
  return g_steal_pointer (&certs);
}

gboolean
volact_crypto_key_is_ec (EVP_PKEY *key)
{
  return EVP_PKEY_get_base_id (key) == EVP_PKEY_EC;
}

gboolean
volact_crypto_check_signing_key (EVP_PKEY *key, const char *what, GError **error)
{
  char group[64] = "";
  size_t group_len = 0;

  switch (EVP_PKEY_get_base_id (key)) {
    case EVP_PKEY_EC:
      if (!EVP_PKEY_get_utf8_string_param (key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                           &group_len)
          || g_strcmp0 (group, "prime256v1") != 0) {
        volact_crypto_clear_errors ();
        g_set_error (error, VOLACT_ERROR, VOLACT_E_CRYPTO,
                     "%s: EC key on curve %s; volact signs with P-256 (prime256v1) only", what,
                     group[0] ? group : "(unknown)");
        return FALSE;
      }
      return TRUE;
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits (key) < 2048) {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_CRYPTO,
                     "%s: RSA key of %d bits; at least 2048 are required", what,
                     EVP_PKEY_get_bits (key));
        return FALSE;
      }
      return TRUE;
    default:
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CRYPTO,
                   "%s: unsupported key type %s (need EC P-256 or RSA)", what,
                   OBJ_nid2sn (EVP_PKEY_get_base_id (key)));
      return FALSE;
  }
}

EVP_PKEY *
volact_crypto_generate_ec_key (GError **error)
{
  EVP_PKEY *key;

  volact_crypto_clear_errors ();
  key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  if (key == NULL)
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "cannot generate an EC P-256 key pair");
  return key;
}

gboolean
volact_crypto_check_p256 (EVP_PKEY *key, const char *what, GError **error)
{
  char group[64] = "";
  size_t group_len = 0;

  if (key == NULL || !volact_crypto_key_is_ec (key)
      || !EVP_PKEY_get_utf8_string_param (key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                          &group_len)
      || strcmp (group, "prime256v1") != 0) {
    volact_crypto_clear_errors ();
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CRYPTO, "%s is not an EC P-256 key", what);
    return FALSE;
  }
  return TRUE;
}

gboolean
volact_crypto_p256_point (EVP_PKEY *key, const char *what, guint8 x[VOLACT_P256_COORD_SIZE],
                          guint8 y[VOLACT_P256_COORD_SIZE], gboolean *y_odd, GError **error)
{
  g_autoptr (BIGNUM) bx = NULL;
  g_autoptr (BIGNUM) by = NULL;

  if (!volact_crypto_check_p256 (key, what, error))
    return FALSE;
  volact_crypto_clear_errors ();
  if (!EVP_PKEY_get_bn_param (key, OSSL_PKEY_PARAM_EC_PUB_X, &bx)
      || !EVP_PKEY_get_bn_param (key, OSSL_PKEY_PARAM_EC_PUB_Y, &by)
      || BN_bn2binpad (bx, x, VOLACT_P256_COORD_SIZE) != VOLACT_P256_COORD_SIZE
      || (y != NULL && BN_bn2binpad (by, y, VOLACT_P256_COORD_SIZE) != VOLACT_P256_COORD_SIZE)) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "%s: cannot read the public point", what);
    return FALSE;
  }
  if (y_odd != NULL)
    *y_odd = BN_is_odd (by);
  return TRUE;
}

gboolean
volact_crypto_ecdsa_der_to_rs (const guint8 *der, gsize der_len, guint8 out[VOLACT_ECDSA_RS_SIZE],
                               GError **error)
{
  const unsigned char *p = der;
  g_autoptr (ECDSA_SIG) sig = d2i_ECDSA_SIG (NULL, &p, (long) der_len);
  const BIGNUM *r = NULL, *s = NULL;

  if (sig == NULL) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "cannot decode the ECDSA signature");
    return FALSE;
  }
  ECDSA_SIG_get0 (sig, &r, &s);
  if (BN_bn2binpad (r, out, VOLACT_P256_COORD_SIZE) != VOLACT_P256_COORD_SIZE
      || BN_bn2binpad (s, out + VOLACT_P256_COORD_SIZE, VOLACT_P256_COORD_SIZE)
             != VOLACT_P256_COORD_SIZE) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "the ECDSA signature does not fit 64 bytes");
    return FALSE;
  }
  return TRUE;
}

gsize
volact_crypto_ecdsa_rs_to_der (const guint8 rs[VOLACT_ECDSA_RS_SIZE],
                               guint8 out[VOLACT_ECDSA_DER_MAX])
{
  g_autoptr (ECDSA_SIG) sig = ECDSA_SIG_new ();
  BIGNUM *r = BN_bin2bn (rs, VOLACT_P256_COORD_SIZE, NULL);
  BIGNUM *s = BN_bin2bn (rs + VOLACT_P256_COORD_SIZE, VOLACT_P256_COORD_SIZE, NULL);
  unsigned char *p = out;
  int n;

  if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0 (sig, r, s) != 1) {
    BN_free (r);
    BN_free (s);
    return 0;
  }
  n = i2d_ECDSA_SIG (sig, NULL);
  if (n <= 0 || n > VOLACT_ECDSA_DER_MAX)
    return 0;
  n = i2d_ECDSA_SIG (sig, &p);
  return n > 0 ? (gsize) n : 0;
}

/* Writes all of LEN bytes to FD; FALSE with errno set on failure. */
static gboolean
write_all (int fd, const char *data, gsize len)
{
  while (len > 0) {
    ssize_t n = write (fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return FALSE;
    data += n;
    len -= (gsize) n;
  }
  return TRUE;
}

/* Moves TMP to PATH unless PATH exists. RENAME_NOREPLACE makes that atomic;
 * a hard link is the fallback where the file system lacks it. */
static gboolean
rename_noreplace (const char *tmp, const char *path)
{
  if (renameat2 (AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
    return TRUE;
  if (errno != EINVAL && errno != ENOSYS)
    return FALSE;
  if (link (tmp, path) != 0)
    return FALSE;
  g_unlink (tmp);
  return TRUE;
}

gboolean
volact_crypto_write_private_key (const char *path, EVP_PKEY *key, GError **error)
{
  /* Secure heap memory BIO: the encoded key is wiped when it is freed. */
  g_autoptr (BIO) bio = BIO_new (BIO_s_secmem ());
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmp = NULL;
  char *pem = NULL;
  long pem_len;
  int fd, saved;

  volact_crypto_clear_errors ();
  if (bio == NULL || !PEM_write_bio_PKCS8PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL)) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "%s: cannot encode the private key", path);
    return FALSE;
  }
  pem_len = BIO_get_mem_data (bio, &pem);

  if (g_file_test (path, G_FILE_TEST_EXISTS)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO,
                 "%s: already exists; refusing to overwrite a private key", path);
    return FALSE;
  }

  /* mkstemp opens with O_CREAT|O_EXCL and mode 0600: the key is never readable by others. */
  tmp = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    saved = errno;
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: cannot create a temporary file: %s", path,
                 g_strerror (saved));
    return FALSE;
  }
  if (fchmod (fd, 0600) != 0 || !write_all (fd, pem, (gsize) pem_len) || fsync (fd) != 0) {
    saved = errno;
    close (fd);
    g_unlink (tmp);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: cannot write: %s", tmp, g_strerror (saved));
    return FALSE;
  }
  if (close (fd) != 0) {
    saved = errno;
    g_unlink (tmp);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: cannot write: %s", tmp, g_strerror (saved));
    return FALSE;
  }
  if (!rename_noreplace (tmp, path)) {
    saved = errno;
    g_unlink (tmp);
    if (saved == EEXIST)
      g_set_error (error, VOLACT_ERROR, VOLACT_E_IO,
                   "%s: already exists; refusing to overwrite a private key", path);
    else
      g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: cannot move the key into place: %s", path,
                   g_strerror (saved));
    return FALSE;
  }
  return TRUE;
}

gboolean
volact_crypto_write_certificate (const char *path, X509 *cert, GError **error)
{
  g_autoptr (BIO) bio = BIO_new (BIO_s_mem ());
  g_autoptr (GError) local = NULL;
  char *pem = NULL;
  long pem_len;

  volact_crypto_clear_errors ();
  if (bio == NULL || !PEM_write_bio_X509 (bio, cert)) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "%s: cannot encode the certificate", path);
    return FALSE;
  }
  pem_len = BIO_get_mem_data (bio, &pem);
  if (!g_file_set_contents_full (path, pem, pem_len, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                 &local)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: %s", path, local->message);
    return FALSE;
  }
  return TRUE;
}

char *
volact_crypto_fingerprint (X509 *cert)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  GString *out = g_string_new (NULL);

  if (X509_digest (cert, EVP_sha256 (), md, &md_len) != 1)
    volact_crypto_clear_errors ();
  for (unsigned int i = 0; i < md_len; i++)
    g_string_append_printf (out, i ? ":%02X" : "%02X", md[i]);
  return g_string_free (out, FALSE);
}

char *
volact_crypto_subject (X509 *cert)
{
  g_autoptr (BIO) bio = BIO_new (BIO_s_mem ());
  char *text = NULL;
  long len;

  if (bio == NULL
      || X509_NAME_print_ex (bio, X509_get_subject_name (cert), 0,
                             XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB)
             < 0) {
    volact_crypto_clear_errors ();
    return g_strdup ("(unprintable subject)");
  }
  len = BIO_get_mem_data (bio, &text);
  return g_strndup (text, (gsize) len);
}
