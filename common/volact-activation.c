/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host activation formats and cryptography; docs/activation.md is the specification. */
#include "config.h"

#include "volact-activation.h"

#include "volact-crypto.h"
#include "volact-error.h"

#include <errno.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <glib/gstdio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/params.h>
#include <openssl/sha.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MD_CTX, EVP_MD_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ECDSA_SIG, ECDSA_SIG_free)

/* BIGNUM has no autoptr in volact-crypto.h; a local cleanup keeps that header untouched. */
static void
bn_free_ptr (BIGNUM **bn)
{
  BN_free (*bn);
}
#define AUTO_BN __attribute__ ((cleanup (bn_free_ptr)))

#define FP_DOMAIN "volact-fp-v1"
#define OVERRIDE_MAX_BYTES (64u * 1024u)
#define P256_COORD_SIZE 32
/* Longest DER ECDSA P-256 signature: SEQUENCE of two 33-byte INTEGERs. */
#define DER_SIG_MAX 72

/* ---- Small helpers ----------------------------------------------------------------------- */

static void
put_be (guint8 *out, guint64 value, guint bytes)
{
  for (guint i = 0; i < bytes; i++)
    out[i] = (guint8) (value >> (8 * (bytes - 1 - i)));
}

static guint64
get_be (const guint8 *in, guint bytes)
{
  guint64 v = 0;
  for (guint i = 0; i < bytes; i++)
    v = (v << 8) | in[i];
  return v;
}

static void
sha256 (const void *data, gsize len, guint8 out[SHA256_DIGEST_LENGTH])
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize out_len = SHA256_DIGEST_LENGTH;

  g_checksum_update (sum, data, (gssize) len);
  g_checksum_get_digest (sum, out, &out_len);
}

/* ---- Hardware fingerprint ---------------------------------------------------------------- */

static const char *const fp_names[VOLACT_FINGERPRINT_COMPONENTS] = {
  "machine-id", "cpu", "memory", "mac", "disk",
};

const char *
volact_fingerprint_component_name (guint index)
{
  return index < VOLACT_FINGERPRINT_COMPONENTS ? fp_names[index] : NULL;
}

void
volact_fingerprint_component_hash (const char *name, const char *value, guint8 out[2])
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[SHA256_DIGEST_LENGTH];
  gsize len = sizeof digest;
  const guint8 zero = 0;

  g_checksum_update (sum, (const guchar *) FP_DOMAIN, strlen (FP_DOMAIN));
  g_checksum_update (sum, (const guchar *) name, (gssize) strlen (name));
  g_checksum_update (sum, &zero, 1);
  if (value != NULL)
    g_checksum_update (sum, (const guchar *) value, (gssize) strlen (value));
  g_checksum_get_digest (sum, digest, &len);
  out[0] = digest[0];
  out[1] = digest[1];
}

void
volact_fingerprint_from_values (const char *const values[VOLACT_FINGERPRINT_COMPONENTS],
                                guint8 out[VOLACT_FINGERPRINT_SIZE])
{
  for (guint i = 0; i < VOLACT_FINGERPRINT_COMPONENTS; i++)
    volact_fingerprint_component_hash (fp_names[i], values[i], out + 2 * i);
}

/* The five component values being read; NULL = unreadable. */
typedef struct {
  char *v[VOLACT_FINGERPRINT_COMPONENTS];
} FpValues;

static void
fp_values_clear (FpValues *values)
{
  for (guint i = 0; i < VOLACT_FINGERPRINT_COMPONENTS; i++)
    g_clear_pointer (&values->v[i], g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FpValues, fp_values_clear)

gboolean
volact_fingerprint_read_file (const char *path, guint8 out[VOLACT_FINGERPRINT_SIZE], GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *data = NULL;
  g_auto (GStrv) lines = NULL;
  g_auto (FpValues) values = { { NULL } };
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, &local)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: %s", path, local->message);
    return FALSE;
  }
  if (len > OVERRIDE_MAX_BYTES || memchr (data, '\0', len) != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "%s: not a fingerprint override file (binary or over %u bytes)", path,
                 OVERRIDE_MAX_BYTES);
    return FALSE;
  }

  lines = g_strsplit (data, "\n", -1);
  for (guint n = 0; lines[n] != NULL; n++) {
    char *line = g_strstrip (lines[n]);
    char *eq;
    guint i;

    if (*line == '\0' || *line == '#')
      continue;
    eq = strchr (line, '=');
    if (eq == NULL) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "%s:%u: expected component=value", path,
                   n + 1);
      return FALSE;
    }
    *eq = '\0';
    g_strstrip (line);
    for (i = 0; i < VOLACT_FINGERPRINT_COMPONENTS; i++)
      if (strcmp (line, fp_names[i]) == 0)
        break;
    if (i == VOLACT_FINGERPRINT_COMPONENTS) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                   "%s:%u: unknown component \"%s\" (expected machine-id, cpu, memory, mac or "
                   "disk)",
                   path, n + 1, line);
      return FALSE;
    }
    if (values.v[i] != NULL) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "%s:%u: component \"%s\" given twice",
                   path, n + 1, line);
      return FALSE;
    }
    values.v[i] = g_strdup (g_strstrip (eq + 1));
  }

  volact_fingerprint_from_values ((const char *const *) values.v, out);
  return TRUE;
}

/* The stripped contents of a small text file, or NULL. */
static char *
read_text (const char *path)
{
  char *data = NULL;
  if (!g_file_get_contents (path, &data, NULL, NULL))
    return NULL;
  return g_strstrip (data);
}

static char *
read_machine_id (void)
{
  return read_text ("/etc/machine-id");
}

/* The value of the first "KEY : value" line of a /proc file. */
static char *
read_proc_field (const char *path, const char *key)
{
  g_autofree char *data = NULL;
  g_auto (GStrv) lines = NULL;
  gsize key_len = strlen (key);

  if (!g_file_get_contents (path, &data, NULL, NULL))
    return NULL;
  lines = g_strsplit (data, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    const char *p = lines[i];
    if (strncmp (p, key, key_len) != 0)
      continue;
    p += key_len;
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p != ':')
      continue;
    return g_strstrip (g_strdup (p + 1));
  }
  return NULL;
}

static char *
read_cpu (void)
{
  return read_proc_field ("/proc/cpuinfo", "model name");
}

/* MemTotal rounded to whole GiB, so small firmware reservations do not count as a change. */
static char *
read_memory (void)
{
  g_autofree char *total = read_proc_field ("/proc/meminfo", "MemTotal");
  guint64 kib;
  char *end = NULL;

  if (total == NULL)
    return NULL;
  kib = g_ascii_strtoull (total, &end, 10);
  if (end == total)
    return NULL;
  return g_strdup_printf ("%" G_GUINT64_FORMAT, (kib + 512u * 1024u) / (1024u * 1024u));
}

/* The lowest permanent (addr_assign_type 0) MAC address of a non-loopback interface. */
static char *
read_mac (void)
{
  const char *sys = "/sys/class/net";
  g_autoptr (GDir) dir = g_dir_open (sys, 0, NULL);
  char *best = NULL;
  const char *name;

  if (dir == NULL)
    return NULL;
  while ((name = g_dir_read_name (dir)) != NULL) {
    g_autofree char *type_path = g_build_filename (sys, name, "type", NULL);
    g_autofree char *assign_path = g_build_filename (sys, name, "addr_assign_type", NULL);
    g_autofree char *addr_path = g_build_filename (sys, name, "address", NULL);
    g_autofree char *type = read_text (type_path);
    g_autofree char *assign = read_text (assign_path);
    g_autofree char *addr = NULL;

    /* ARPHRD_LOOPBACK is 772. */
    if (strcmp (name, "lo") == 0 || g_strcmp0 (type, "772") == 0)
      continue;
    if (g_strcmp0 (assign, "0") != 0)
      continue;
    addr = read_text (addr_path);
    if (addr == NULL || *addr == '\0' || strspn (addr, "0:") == strlen (addr))
      continue;
    {
      char *lower = g_ascii_strdown (addr, -1);
      if (best == NULL || strcmp (lower, best) < 0) {
        g_free (best);
        best = lower;
      } else {
        g_free (lower);
      }
    }
  }
  return best;
}

/* The UUID of the file system holding STATE_DIR, else its device number "major:minor". */
static char *
read_disk (const char *state_dir)
{
  const char *by_uuid = "/dev/disk/by-uuid";
  g_autoptr (GDir) dir = NULL;
  struct stat st;
  const char *name;

  if (state_dir == NULL || g_stat (state_dir, &st) != 0)
    return NULL;
  dir = g_dir_open (by_uuid, 0, NULL);
  if (dir != NULL) {
    while ((name = g_dir_read_name (dir)) != NULL) {
      g_autofree char *path = g_build_filename (by_uuid, name, NULL);
      struct stat dev;
      if (g_stat (path, &dev) == 0 && S_ISBLK (dev.st_mode) && dev.st_rdev == st.st_dev)
        return g_strdup (name);
    }
  }
  return g_strdup_printf ("%u:%u", major (st.st_dev), minor (st.st_dev));
}

gboolean
volact_fingerprint_read (const char *state_dir, guint8 out[VOLACT_FINGERPRINT_SIZE],
                         gboolean *overridden, GError **error)
{
  const char *override = g_getenv (VOLACT_FINGERPRINT_ENV);
  g_auto (FpValues) values = { { NULL } };

  if (overridden != NULL)
    *overridden = FALSE;
  if (override != NULL && *override != '\0') {
    /* Never let a caller's environment steer a privileged process. */
    if (getauxval (AT_SECURE) != 0) {
      g_warning ("%s is set but ignored in a set-user-ID or privileged process",
                 VOLACT_FINGERPRINT_ENV);
    } else {
      static gsize warned = 0;
      /* Once per process: the host re-reads the fingerprint on every status query. */
      if (g_once_init_enter (&warned)) {
        g_warning ("Hardware fingerprint: TEST OVERRIDE from %s (%s is set; never use this in "
                   "production)",
                   override, VOLACT_FINGERPRINT_ENV);
        g_once_init_leave (&warned, 1);
      }
      if (!volact_fingerprint_read_file (override, out, error)) {
        g_prefix_error (error, "%s: ", VOLACT_FINGERPRINT_ENV);
        return FALSE;
      }
      if (overridden != NULL)
        *overridden = TRUE;
      return TRUE;
    }
  }

  values.v[0] = read_machine_id ();
  values.v[1] = read_cpu ();
  values.v[2] = read_memory ();
  values.v[3] = read_mac ();
  values.v[4] = read_disk (state_dir);
  volact_fingerprint_from_values ((const char *const *) values.v, out);
  return TRUE;
}

guint
volact_fingerprint_changed_components (const guint8 a[VOLACT_FINGERPRINT_SIZE],
                                       const guint8 b[VOLACT_FINGERPRINT_SIZE])
{
  guint changed = 0;
  for (guint i = 0; i < VOLACT_FINGERPRINT_COMPONENTS; i++)
    if (a[2 * i] != b[2 * i] || a[2 * i + 1] != b[2 * i + 1])
      changed++;
  return changed;
}

gboolean
volact_fingerprint_significant_change (const guint8 old_fp[VOLACT_FINGERPRINT_SIZE],
                                       const guint8 new_fp[VOLACT_FINGERPRINT_SIZE])
{
  return volact_fingerprint_changed_components (old_fp, new_fp) >= VOLACT_FINGERPRINT_SIGNIFICANT;
}

/* ---- P-256 keys -------------------------------------------------------------------------- */

static gboolean
check_p256 (EVP_PKEY *key, const char *what, GError **error)
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

/* The affine coordinates of an EC P-256 key's public point, 32 bytes each. */
static gboolean
get_point (EVP_PKEY *key, const char *what, guint8 x[P256_COORD_SIZE],
           guint8 y_out[P256_COORD_SIZE], gboolean *y_odd, GError **error)
{
  AUTO_BN BIGNUM *bx = NULL;
  AUTO_BN BIGNUM *by = NULL;

  if (!check_p256 (key, what, error))
    return FALSE;
  volact_crypto_clear_errors ();
  if (!EVP_PKEY_get_bn_param (key, OSSL_PKEY_PARAM_EC_PUB_X, &bx)
      || !EVP_PKEY_get_bn_param (key, OSSL_PKEY_PARAM_EC_PUB_Y, &by)
      || BN_bn2binpad (bx, x, P256_COORD_SIZE) != P256_COORD_SIZE
      || (y_out != NULL && BN_bn2binpad (by, y_out, P256_COORD_SIZE) != P256_COORD_SIZE)) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "%s: cannot read the public point", what);
    return FALSE;
  }
  if (y_odd != NULL)
    *y_odd = BN_is_odd (by);
  return TRUE;
}

gboolean
volact_identity_public_key (EVP_PKEY *key, guint8 out[VOLACT_PUBLIC_KEY_SIZE], GError **error)
{
  gboolean odd = FALSE;

  if (!get_point (key, "the host identity key", out + 1, NULL, &odd, error))
    return FALSE;
  out[0] = odd ? 0x03 : 0x02;
  return TRUE;
}

void
volact_identity_host_id_from_public (const guint8 public_key[VOLACT_PUBLIC_KEY_SIZE],
                                     guint8 out[VOLACT_HOST_ID_SIZE])
{
  guint8 digest[SHA256_DIGEST_LENGTH];

  sha256 (public_key, VOLACT_PUBLIC_KEY_SIZE, digest);
  memcpy (out, digest, VOLACT_HOST_ID_SIZE);
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
volact_identity_import_public_key (const guint8 public_key[VOLACT_PUBLIC_KEY_SIZE], GError **error)
{
  g_autoptr (EVP_PKEY_CTX) ctx = NULL;
  EVP_PKEY *key = NULL;
  char group[] = "prime256v1";
  guint8 point[VOLACT_PUBLIC_KEY_SIZE];
  OSSL_PARAM params[3];

  if (public_key[0] != 0x02 && public_key[0] != 0x03) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CRYPTO,
                 "the host public key is not a compressed P-256 point");
    return NULL;
  }
  memcpy (point, public_key, sizeof point);
  params[0] = OSSL_PARAM_construct_utf8_string (OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
  params[1] = OSSL_PARAM_construct_octet_string (OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point);
  params[2] = OSSL_PARAM_construct_end ();

  volact_crypto_clear_errors ();
  ctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", NULL);
  if (ctx == NULL || EVP_PKEY_fromdata_init (ctx) <= 0
      || EVP_PKEY_fromdata (ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0 || key == NULL) {
    EVP_PKEY_free (key);
    volact_crypto_set_error (error, VOLACT_E_CRYPTO,
                             "the host public key is not a valid P-256 point");
    return NULL;
  }
  return key;
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
  if (!check_p256 (key, path, error))
    return NULL;
  return g_steal_pointer (&key);
}

/* ---- Authority key id -------------------------------------------------------------------- */

/* DER SubjectPublicKeyInfo header of an id-ecPublicKey prime256v1 key with an
 * uncompressed point; the 0x04 and X || Y follow. */
static const guint8 p256_spki_prefix[] = {
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
  0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
};
#define P256_SPKI_SIZE (sizeof p256_spki_prefix + 2 * P256_COORD_SIZE)

gboolean
volact_authority_key_id (EVP_PKEY *key, guint8 out[VOLACT_AUTHORITY_KEY_ID_SIZE], GError **error)
{
  guint8 spki[P256_SPKI_SIZE];
  guint8 digest[SHA256_DIGEST_LENGTH];
  guint8 *x = spki + sizeof p256_spki_prefix;

  G_STATIC_ASSERT (P256_SPKI_SIZE == 91);
  memcpy (spki, p256_spki_prefix, sizeof p256_spki_prefix);
  if (!get_point (key, "the authority key", x, x + P256_COORD_SIZE, NULL, error))
    return FALSE;
  sha256 (spki, sizeof spki, digest);
  memcpy (out, digest, VOLACT_AUTHORITY_KEY_ID_SIZE);
  return TRUE;
}

gboolean
volact_authority_key_id_from_cert (X509 *cert, guint8 out[VOLACT_AUTHORITY_KEY_ID_SIZE],
                                   GError **error)
{
  EVP_PKEY *key = X509_get0_pubkey (cert);

  if (key == NULL) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO,
                             "the authority certificate has no usable public key");
    return FALSE;
  }
  return volact_authority_key_id (key, out, error);
}

/* ---- Host certificate -------------------------------------------------------------------- */

void
volact_host_cert_body_serialize (const VolactHostCertBody *body,
                                 guint8 out[VOLACT_HOST_CERT_BODY_SIZE])
{
  out[0] = body->version;
  memcpy (out + 1, body->authority_key_id, VOLACT_AUTHORITY_KEY_ID_SIZE);
  put_be (out + 5, body->key_group, 2);
  put_be (out + 7, body->key_serial, 6);
  memcpy (out + 13, body->host_id, VOLACT_HOST_ID_SIZE);
  memcpy (out + 29, body->fingerprint, VOLACT_FINGERPRINT_SIZE);
  put_be (out + 39, body->issue_day, 2);
  out[41] = body->activation_number;
}

void
volact_host_cert_serialize (const VolactHostCert *cert, guint8 out[VOLACT_HOST_CERT_SIZE])
{
  volact_host_cert_body_serialize (&cert->body, out);
  memcpy (out + VOLACT_HOST_CERT_BODY_SIZE, cert->signature, VOLACT_SIGNATURE_SIZE);
}

/* Range checks shared by sign, parse and verify; the reason or NULL. */
static const char *
body_problem (const VolactHostCertBody *body)
{
  if (body->version != VOLACT_HOST_CERT_VERSION)
    return "unsupported version";
  if (body->key_group < VOLACT_KEY_GROUP_MIN || body->key_group > VOLACT_KEY_GROUP_MAX)
    return "key group out of range";
  if (body->key_serial > VOLACT_KEY_SERIAL_MAX)
    return "key serial out of range";
  if (body->activation_number == 0)
    return "activation number 0";
  return NULL;
}

gboolean
volact_host_cert_parse (const guint8 *data, gsize len, VolactHostCert *out, GError **error)
{
  VolactHostCert cert;
  const char *problem;

  if (data == NULL || len != VOLACT_HOST_CERT_SIZE) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE,
                 "host certificate: %" G_GSIZE_FORMAT " bytes, expected %u", data ? len : 0,
                 VOLACT_HOST_CERT_SIZE);
    return FALSE;
  }
  cert.body.version = data[0];
  memcpy (cert.body.authority_key_id, data + 1, VOLACT_AUTHORITY_KEY_ID_SIZE);
  cert.body.key_group = (guint16) get_be (data + 5, 2);
  cert.body.key_serial = get_be (data + 7, 6);
  memcpy (cert.body.host_id, data + 13, VOLACT_HOST_ID_SIZE);
  memcpy (cert.body.fingerprint, data + 29, VOLACT_FINGERPRINT_SIZE);
  cert.body.issue_day = (guint16) get_be (data + 39, 2);
  cert.body.activation_number = data[41];
  memcpy (cert.signature, data + VOLACT_HOST_CERT_BODY_SIZE, VOLACT_SIGNATURE_SIZE);

  problem = body_problem (&cert.body);
  if (problem != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE, "host certificate: %s", problem);
    return FALSE;
  }
  *out = cert;
  return TRUE;
}

/* Signs MSG with an EC P-256 KEY (ECDSA, SHA-256) and writes r||s. */
static gboolean
ecdsa_sign (EVP_PKEY *key, const guint8 *msg, gsize len, guint8 sig[VOLACT_SIGNATURE_SIZE],
            GError **error)
{
  g_autoptr (EVP_MD_CTX) md = EVP_MD_CTX_new ();
  g_autoptr (ECDSA_SIG) esig = NULL;
  unsigned char der[DER_SIG_MAX + 8];
  const unsigned char *p = der;
  size_t der_len = sizeof der;
  const BIGNUM *r = NULL, *s = NULL;

  volact_crypto_clear_errors ();
  if (md == NULL || EVP_DigestSignInit_ex (md, NULL, "SHA256", NULL, NULL, key, NULL) != 1
      || EVP_DigestSign (md, der, &der_len, msg, len) != 1) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "cannot sign the host certificate");
    return FALSE;
  }
  esig = d2i_ECDSA_SIG (NULL, &p, (long) der_len);
  if (esig == NULL) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "cannot decode the ECDSA signature");
    return FALSE;
  }
  ECDSA_SIG_get0 (esig, &r, &s);
  if (BN_bn2binpad (r, sig, P256_COORD_SIZE) != P256_COORD_SIZE
      || BN_bn2binpad (s, sig + P256_COORD_SIZE, P256_COORD_SIZE) != P256_COORD_SIZE) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "ECDSA signature does not fit 64 bytes");
    return FALSE;
  }
  OPENSSL_cleanse (der, sizeof der);
  return TRUE;
}

/* 1 valid, 0 invalid, -1 error (set). */
static int
ecdsa_verify (EVP_PKEY *key, const guint8 *msg, gsize len, const guint8 sig[VOLACT_SIGNATURE_SIZE],
              GError **error)
{
  g_autoptr (EVP_MD_CTX) md = EVP_MD_CTX_new ();
  g_autoptr (ECDSA_SIG) esig = ECDSA_SIG_new ();
  g_autofree unsigned char *der = NULL;
  BIGNUM *r, *s;
  int der_len, rc;

  volact_crypto_clear_errors ();
  if (md == NULL || esig == NULL) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "out of memory");
    return -1;
  }
  r = BN_bin2bn (sig, P256_COORD_SIZE, NULL);
  s = BN_bin2bn (sig + P256_COORD_SIZE, P256_COORD_SIZE, NULL);
  if (r == NULL || s == NULL || ECDSA_SIG_set0 (esig, r, s) != 1) {
    BN_free (r);
    BN_free (s);
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "cannot build the ECDSA signature");
    return -1;
  }
  {
    unsigned char *tmp = NULL;
    der_len = i2d_ECDSA_SIG (esig, &tmp);
    if (der_len <= 0) {
      volact_crypto_set_error (error, VOLACT_E_CRYPTO, "cannot encode the ECDSA signature");
      return -1;
    }
    der = g_memdup2 (tmp, (gsize) der_len);
    OPENSSL_free (tmp);
  }
  if (EVP_DigestVerifyInit_ex (md, NULL, "SHA256", NULL, NULL, key, NULL) != 1) {
    volact_crypto_set_error (error, VOLACT_E_CRYPTO, "cannot set up signature verification");
    return -1;
  }
  rc = EVP_DigestVerify (md, der, (size_t) der_len, msg, len);
  /* A bad signature leaves entries on the queue; they are expected, not news. */
  volact_crypto_clear_errors ();
  return rc == 1 ? 1 : 0;
}

gboolean
volact_host_cert_sign (const VolactHostCertBody *body, EVP_PKEY *authority_key, VolactHostCert *out,
                       GError **error)
{
  VolactHostCert cert;
  guint8 tbs[VOLACT_HOST_CERT_BODY_SIZE];
  const char *problem = body_problem (body);

  if (problem != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "cannot certify the host: %s", problem);
    return FALSE;
  }
  cert.body = *body;
  if (!volact_authority_key_id (authority_key, cert.body.authority_key_id, error))
    return FALSE;
  volact_host_cert_body_serialize (&cert.body, tbs);
  if (!ecdsa_sign (authority_key, tbs, sizeof tbs, cert.signature, error))
    return FALSE;
  *out = cert;
  return TRUE;
}

gboolean
volact_host_cert_verify (const VolactHostCert *cert, EVP_PKEY *authority_pubkey, GError **error)
{
  guint8 key_id[VOLACT_AUTHORITY_KEY_ID_SIZE];
  guint8 tbs[VOLACT_HOST_CERT_BODY_SIZE];
  const char *problem = body_problem (&cert->body);
  int rc;

  if (problem != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE, "host certificate: %s", problem);
    return FALSE;
  }
  if (!volact_authority_key_id (authority_pubkey, key_id, error))
    return FALSE;
  if (memcmp (key_id, cert->body.authority_key_id, sizeof key_id) != 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE,
                 "host certificate: issued by authority key %02x%02x%02x%02x, not by the trusted "
                 "authority key %02x%02x%02x%02x",
                 cert->body.authority_key_id[0], cert->body.authority_key_id[1],
                 cert->body.authority_key_id[2], cert->body.authority_key_id[3], key_id[0],
                 key_id[1], key_id[2], key_id[3]);
    return FALSE;
  }
  volact_host_cert_body_serialize (&cert->body, tbs);
  rc = ecdsa_verify (authority_pubkey, tbs, sizeof tbs, cert->signature, error);
  if (rc < 0)
    return FALSE;
  if (rc == 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE,
                 "host certificate: the authority's signature does not verify");
    return FALSE;
  }
  return TRUE;
}

/* ---- Digit groups ------------------------------------------------------------------------ */

typedef struct {
  const char *what; /* for messages */
  gsize payload_size;
  gsize digits;
  gsize groups;
} IdFormat;

static const IdFormat iid_format
    = { "Installation ID", VOLACT_IID_PAYLOAD_SIZE, VOLACT_IID_DIGITS, VOLACT_IID_GROUPS };
static const IdFormat cid_format
    = { "Confirmation ID", VOLACT_CID_PAYLOAD_SIZE, VOLACT_CID_DIGITS, VOLACT_CID_GROUPS };

G_STATIC_ASSERT (VOLACT_IID_GROUPS
                 == (VOLACT_IID_DIGITS + VOLACT_ID_GROUP_DIGITS - 1) / VOLACT_ID_GROUP_DIGITS);
G_STATIC_ASSERT (VOLACT_CID_GROUPS
                 == (VOLACT_CID_DIGITS + VOLACT_ID_GROUP_DIGITS - 1) / VOLACT_ID_GROUP_DIGITS);
G_STATIC_ASSERT (VOLACT_IID_PAYLOAD_SIZE
                 == 1 + 2 + 6 + 4 + VOLACT_HOST_ID_SIZE + VOLACT_FINGERPRINT_SIZE);
G_STATIC_ASSERT (VOLACT_CID_PAYLOAD_SIZE == 1 + 2 + 1 + VOLACT_SIGNATURE_SIZE);

/* Damm's totally anti-symmetric quasigroup of order 10 (zero diagonal). */
static const guint8 damm_table[10][10] = {
  { 0, 3, 1, 7, 5, 9, 8, 6, 4, 2 }, { 7, 0, 9, 2, 1, 5, 4, 8, 6, 3 },
  { 4, 2, 0, 6, 8, 7, 1, 3, 5, 9 }, { 1, 7, 5, 0, 9, 8, 3, 4, 2, 6 },
  { 6, 1, 2, 3, 0, 4, 5, 9, 7, 8 }, { 3, 6, 7, 4, 2, 0, 9, 5, 8, 1 },
  { 5, 8, 6, 9, 7, 2, 0, 1, 3, 4 }, { 8, 9, 4, 5, 3, 6, 2, 0, 1, 7 },
  { 9, 4, 3, 8, 6, 1, 7, 2, 0, 5 }, { 2, 5, 8, 1, 4, 3, 6, 7, 9, 0 },
};

static guint
damm_run (guint interim, const char *digits, gsize len)
{
  for (gsize i = 0; i < len; i++)
    interim = damm_table[interim][digits[i] - '0'];
  return interim;
}

guint
volact_id_check_digit (guint group_number, const char *digits, gsize len)
{
  return damm_run (group_number % 10, digits, len);
}

/* Data digits in group G (0-based). */
static gsize
group_len (const IdFormat *f, gsize g)
{
  gsize start = g * VOLACT_ID_GROUP_DIGITS;
  return MIN ((gsize) VOLACT_ID_GROUP_DIGITS, f->digits - start);
}

/* PAYLOAD as a big-endian integer in decimal, left-padded to F->digits digits.
 * FALSE if it needs more (cannot happen: F->digits holds 256^n - 1). */
static gboolean
payload_to_decimal (const IdFormat *f, const guint8 *payload, char *digits)
{
  guint8 work[VOLACT_CID_PAYLOAD_SIZE];
  gsize n = f->payload_size;

  g_assert (n <= sizeof work);
  memcpy (work, payload, n);
  for (gsize pos = f->digits; pos > 0; pos--) {
    guint rem = 0;
    for (gsize i = 0; i < n; i++) {
      guint cur = (rem << 8) | work[i];
      work[i] = (guint8) (cur / 10);
      rem = cur % 10;
    }
    digits[pos - 1] = (char) ('0' + rem);
  }
  for (gsize i = 0; i < n; i++)
    if (work[i] != 0)
      return FALSE;
  return TRUE;
}

/* F->digits decimal digits into a big-endian payload; FALSE if above 256^n - 1. */
static gboolean
decimal_to_payload (const IdFormat *f, const char *digits, guint8 *payload)
{
  gsize n = f->payload_size;

  memset (payload, 0, n);
  for (gsize d = 0; d < f->digits; d++) {
    guint carry = (guint) (digits[d] - '0');
    for (gsize i = n; i > 0; i--) {
      guint cur = payload[i - 1] * 10u + carry;
      payload[i - 1] = (guint8) cur;
      carry = cur >> 8;
    }
    if (carry != 0)
      return FALSE;
  }
  return TRUE;
}

static void
encode_groups (const IdFormat *f, const guint8 *payload, char *out)
{
  char digits[VOLACT_CID_DIGITS];
  char *p = out;

  if (!payload_to_decimal (f, payload, digits))
    g_assert_not_reached ();
  for (gsize g = 0; g < f->groups; g++) {
    const char *src = digits + g * VOLACT_ID_GROUP_DIGITS;
    gsize len = group_len (f, g);
    if (g > 0)
      *p++ = '-';
    memcpy (p, src, len);
    p += len;
    *p++ = (char) ('0' + volact_id_check_digit ((guint) g + 1, src, len));
  }
  *p = '\0';
}

static gboolean
is_separator (char c)
{
  return c == '-' || c == ' ' || c == '\t';
}

/* Parses TEXT into F->payload_size bytes, checking characters, length and every group. */
static gboolean
decode_groups (const IdFormat *f, const char *text, guint8 *payload, GError **error)
{
  char typed[VOLACT_CID_TYPED_DIGITS];
  char digits[VOLACT_CID_DIGITS];
  gsize expected = f->digits + f->groups;
  gsize count = 0;
  /* Lengths of the first runs of digits, to name a short or long group. */
  gsize runs[VOLACT_CID_GROUPS + 1] = { 0 };
  gsize n_runs = 0;
  gboolean in_run = FALSE;
  gsize pos = 0;

  if (text == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT, "no %s given", f->what);
    return FALSE;
  }
  for (const char *p = text; *p != '\0'; p++) {
    pos++;
    if (g_ascii_isdigit (*p)) {
      if (count < expected)
        typed[count] = *p;
      count++;
      if (!in_run && n_runs < G_N_ELEMENTS (runs))
        n_runs++;
      in_run = TRUE;
      if (n_runs <= G_N_ELEMENTS (runs))
        runs[n_runs - 1]++;
    } else if (is_separator (*p) || *p == '\n' || *p == '\r') {
      /* Line breaks are tolerated too: long IDs get pasted across lines. */
      in_run = FALSE;
    } else {
      if (g_ascii_isprint (*p))
        g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT,
                     "the %s contains '%c' at position %" G_GSIZE_FORMAT
                     "; only digits, '-' and spaces are allowed",
                     f->what, *p, pos);
      else
        g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT,
                     "the %s contains byte 0x%02x at position %" G_GSIZE_FORMAT
                     "; only digits, '-' and spaces are allowed",
                     f->what, (guint) (guchar) *p, pos);
      return FALSE;
    }
  }

  if (count != expected) {
    /* Typed in all its groups: name the first group of the wrong size. */
    if (n_runs == f->groups) {
      for (gsize g = 0; g < n_runs && g < f->groups; g++) {
        gsize want = group_len (f, g) + 1;
        if (runs[g] != want) {
          g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT,
                       "group %" G_GSIZE_FORMAT " of the %s has %" G_GSIZE_FORMAT
                       " digits, expected %" G_GSIZE_FORMAT,
                       g + 1, f->what, runs[g], want);
          return FALSE;
        }
      }
    }
    g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT,
                 "the %s has %" G_GSIZE_FORMAT " digits; it needs %" G_GSIZE_FORMAT
                 " (%" G_GSIZE_FORMAT " groups)",
                 f->what, count, expected, f->groups);
    return FALSE;
  }

  /* Every group's check, first failure reported; the data digits are gathered meanwhile. */
  {
    const char *src = typed;
    char *dst = digits;
    for (gsize g = 0; g < f->groups; g++) {
      gsize len = group_len (f, g);
      if (damm_run ((guint) (g + 1) % 10, src, len + 1) != 0) {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_GROUP,
                     "group %" G_GSIZE_FORMAT " of the %s is mistyped", g + 1, f->what);
        return FALSE;
      }
      memcpy (dst, src, len);
      dst += len;
      src += len + 1;
    }
  }

  if (!decimal_to_payload (f, digits, payload)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT,
                 "the %s is out of range; it was not made by volact", f->what);
    return FALSE;
  }
  return TRUE;
}

/* ---- Installation ID --------------------------------------------------------------------- */

void
volact_installation_id_init (VolactInstallationId *out, const VolactHostKey *key,
                             const guint8 host_id[VOLACT_HOST_ID_SIZE],
                             const guint8 fingerprint[VOLACT_FINGERPRINT_SIZE])
{
  memset (out, 0, sizeof *out);
  out->version = VOLACT_ID_VERSION;
  out->key_group = (guint16) key->group;
  out->key_serial = key->serial;
  out->key_nonce = key->nonce;
  memcpy (out->host_id, host_id, VOLACT_HOST_ID_SIZE);
  memcpy (out->fingerprint, fingerprint, VOLACT_FINGERPRINT_SIZE);
}

static const char *
iid_problem (const VolactInstallationId *iid)
{
  if (iid->version != VOLACT_ID_VERSION)
    return "unsupported version";
  if (iid->key_group < VOLACT_KEY_GROUP_MIN || iid->key_group > VOLACT_KEY_GROUP_MAX)
    return "key group out of range";
  if (iid->key_serial > VOLACT_KEY_SERIAL_MAX)
    return "key serial out of range";
  return NULL;
}

gboolean
volact_installation_id_encode (const VolactInstallationId *iid, char out[VOLACT_IID_TEXT_SIZE],
                               GError **error)
{
  guint8 payload[VOLACT_IID_PAYLOAD_SIZE];
  const char *problem = iid_problem (iid);

  out[0] = '\0';
  if (problem != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT, "cannot make the Installation ID: %s",
                 problem);
    return FALSE;
  }
  payload[0] = iid->version;
  put_be (payload + 1, iid->key_group, 2);
  put_be (payload + 3, iid->key_serial, 6);
  put_be (payload + 9, iid->key_nonce, 4);
  memcpy (payload + 13, iid->host_id, VOLACT_HOST_ID_SIZE);
  memcpy (payload + 29, iid->fingerprint, VOLACT_FINGERPRINT_SIZE);
  encode_groups (&iid_format, payload, out);
  return TRUE;
}

gboolean
volact_installation_id_decode (const char *text, VolactInstallationId *out, GError **error)
{
  guint8 payload[VOLACT_IID_PAYLOAD_SIZE];
  VolactInstallationId iid;
  const char *problem;

  if (!decode_groups (&iid_format, text, payload, error))
    return FALSE;
  iid.version = payload[0];
  iid.key_group = (guint16) get_be (payload + 1, 2);
  iid.key_serial = get_be (payload + 3, 6);
  iid.key_nonce = (guint32) get_be (payload + 9, 4);
  memcpy (iid.host_id, payload + 13, VOLACT_HOST_ID_SIZE);
  memcpy (iid.fingerprint, payload + 29, VOLACT_FINGERPRINT_SIZE);
  problem = iid_problem (&iid);
  if (problem != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT,
                 "the Installation ID is not a version-%u volact Installation ID (%s)",
                 VOLACT_ID_VERSION, problem);
    return FALSE;
  }
  if (out != NULL)
    *out = iid;
  return TRUE;
}

/* ---- Confirmation ID --------------------------------------------------------------------- */

static const char *
cid_problem (const VolactConfirmationId *cid)
{
  if (cid->version != VOLACT_ID_VERSION)
    return "unsupported version";
  if (cid->activation_number == 0)
    return "activation number 0";
  return NULL;
}

gboolean
volact_confirmation_id_encode (const VolactConfirmationId *cid, char out[VOLACT_CID_TEXT_SIZE],
                               GError **error)
{
  guint8 payload[VOLACT_CID_PAYLOAD_SIZE];
  const char *problem = cid_problem (cid);

  out[0] = '\0';
  if (problem != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT, "cannot make the Confirmation ID: %s",
                 problem);
    return FALSE;
  }
  payload[0] = cid->version;
  put_be (payload + 1, cid->issue_day, 2);
  payload[3] = cid->activation_number;
  memcpy (payload + 4, cid->signature, VOLACT_SIGNATURE_SIZE);
  encode_groups (&cid_format, payload, out);
  return TRUE;
}

gboolean
volact_confirmation_id_decode (const char *text, VolactConfirmationId *out, GError **error)
{
  guint8 payload[VOLACT_CID_PAYLOAD_SIZE];
  VolactConfirmationId cid;
  const char *problem;

  if (!decode_groups (&cid_format, text, payload, error))
    return FALSE;
  cid.version = payload[0];
  cid.issue_day = (guint16) get_be (payload + 1, 2);
  cid.activation_number = payload[3];
  memcpy (cid.signature, payload + 4, VOLACT_SIGNATURE_SIZE);
  problem = cid_problem (&cid);
  if (problem != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT,
                 "the Confirmation ID is not a version-%u volact Confirmation ID (%s)",
                 VOLACT_ID_VERSION, problem);
    return FALSE;
  }
  if (out != NULL)
    *out = cid;
  return TRUE;
}

/* ---- Activation ------------------------------------------------------------------------ */

/* 2020-01-01T00:00:00Z */
#define ISSUE_DAY_EPOCH G_GINT64_CONSTANT (1577836800)

guint16
volact_activation_issue_day_from_unix (gint64 unix_seconds)
{
  gint64 days;

  if (unix_seconds < ISSUE_DAY_EPOCH)
    return 0;
  days = (unix_seconds - ISSUE_DAY_EPOCH) / 86400;
  return (guint16) MIN (days, (gint64) G_MAXUINT16);
}

guint16
volact_activation_issue_day (GDateTime *when)
{
  return volact_activation_issue_day_from_unix (g_date_time_to_unix (when));
}

static void
body_from_iid (const VolactInstallationId *iid, guint16 issue_day, guint8 activation_number,
               VolactHostCertBody *body)
{
  memset (body, 0, sizeof *body);
  body->version = VOLACT_HOST_CERT_VERSION;
  body->key_group = iid->key_group;
  body->key_serial = iid->key_serial;
  memcpy (body->host_id, iid->host_id, VOLACT_HOST_ID_SIZE);
  memcpy (body->fingerprint, iid->fingerprint, VOLACT_FINGERPRINT_SIZE);
  body->issue_day = issue_day;
  body->activation_number = activation_number;
}

gboolean
volact_activation_confirm (const VolactInstallationId *iid, EVP_PKEY *authority_key,
                           guint16 issue_day, guint8 activation_number, VolactConfirmationId *out,
                           VolactHostCert *out_cert, GError **error)
{
  VolactHostCertBody body;
  VolactHostCert cert;
  const char *problem = iid_problem (iid);

  if (problem != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_ID_FORMAT, "the Installation ID is invalid: %s",
                 problem);
    return FALSE;
  }
  body_from_iid (iid, issue_day, activation_number, &body);
  if (!volact_host_cert_sign (&body, authority_key, &cert, error))
    return FALSE;
  out->version = VOLACT_ID_VERSION;
  out->issue_day = issue_day;
  out->activation_number = activation_number;
  memcpy (out->signature, cert.signature, VOLACT_SIGNATURE_SIZE);
  if (out_cert != NULL)
    *out_cert = cert;
  return TRUE;
}

gboolean
volact_activation_apply (const VolactInstallationId *own_iid, const VolactConfirmationId *cid,
                         EVP_PKEY *authority_pubkey, VolactHostCert *out_cert, GError **error)
{
  g_autoptr (GError) local = NULL;
  VolactHostCert cert;
  const char *problem = iid_problem (own_iid);

  if (problem == NULL)
    problem = cid_problem (cid);
  if (problem != NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CID_INVALID,
                 "the Confirmation ID is not valid for this host: %s", problem);
    return FALSE;
  }
  body_from_iid (own_iid, cid->issue_day, cid->activation_number, &cert.body);
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
