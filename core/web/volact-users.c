/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-users.h"

#include "volact-error.h"
#include "volact-private-file.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

/* Bounds the file: far more users than a host has administrators. */
#define USERS_FILE_MAX (1024 * 1024)
/* scrypt at N = 2^15, r = 8, p = 1: 32 MiB and about 0.1 s a hash (RFC 7914's
 * interactive-login figures, OWASP's minimum); a stored hash may ask for more,
 * within the bounds below, so that a later release can raise the cost. */
#define SCRYPT_LN 15
#define SCRYPT_R 8
#define SCRYPT_P 1
#define SCRYPT_LN_MAX 20
#define SCRYPT_R_MAX 32
#define SCRYPT_P_MAX 16
#define SCRYPT_MAXMEM ((guint64) 1 << 32)
#define SALT_SIZE 16
#define KEY_SIZE 32
#define PASSWORD_MAX 1024

typedef struct {
  char *name;
  VolactRole role;
  char *hash;
} User;

struct _VolactUsers {
  GPtrArray *users; /* User*, in file order */
};

static void
user_free (gpointer p)
{
  User *u = p;
  g_free (u->name);
  g_free (u->hash);
  g_free (u);
}

VolactUsers *
volact_users_new (void)
{
  VolactUsers *users = g_new0 (VolactUsers, 1);
  users->users = g_ptr_array_new_with_free_func (user_free);
  return users;
}

void
volact_users_free (VolactUsers *users)
{
  if (users == NULL)
    return;
  g_ptr_array_unref (users->users);
  g_free (users);
}

gboolean
volact_users_valid_name (const char *name)
{
  gsize n = strlen (name);
  if (n == 0 || n > 64)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && strchr ("._-@", *p) == NULL)
      return FALSE;
  return TRUE;
}

const char *
volact_role_name (VolactRole role)
{
  return role == VOLACT_ROLE_ADMIN ? "admin" : "read-only";
}

gboolean
volact_role_parse (const char *text, VolactRole *role)
{
  if (g_str_equal (text, "admin"))
    *role = VOLACT_ROLE_ADMIN;
  else if (g_str_equal (text, "read-only"))
    *role = VOLACT_ROLE_READ_ONLY;
  else
    return FALSE;
  return TRUE;
}

/* Splits "$scrypt$ln=L,r=R,p=P$SALT$KEY" into bounded parameters, salt and key. */
static gboolean
parse_hash (const char *hash, guint *ln, guint *r, guint *p, guchar **salt, gsize *salt_len,
            guchar **key, gsize *key_len)
{
  g_auto (GStrv) parts = g_strsplit (hash, "$", -1);

  if (g_strv_length (parts) != 5 || parts[0][0] != '\0' || !g_str_equal (parts[1], "scrypt")
      || sscanf (parts[2], "ln=%u,r=%u,p=%u", ln, r, p) != 3 || *ln < 10 || *ln > SCRYPT_LN_MAX
      || *r < 1 || *r > SCRYPT_R_MAX || *p < 1 || *p > SCRYPT_P_MAX)
    return FALSE;
  *salt = g_base64_decode (parts[3], salt_len);
  *key = g_base64_decode (parts[4], key_len);
  if (*salt_len < 8 || *salt_len > 64 || *key_len < 16 || *key_len > 64) {
    g_clear_pointer (salt, g_free);
    g_clear_pointer (key, g_free);
    return FALSE;
  }
  return TRUE;
}

static gboolean
scrypt (const char *password, const guchar *salt, gsize salt_len, guint ln, guint r, guint p,
        guchar *out, gsize out_len)
{
  return EVP_PBE_scrypt (password, strlen (password), salt, salt_len, (guint64) 1 << ln, r, p,
                         SCRYPT_MAXMEM, out, out_len)
         == 1;
}

char *
volact_password_hash (const char *password, GError **error)
{
  guchar salt[SALT_SIZE], key[KEY_SIZE];
  g_autofree char *salt64 = NULL, *key64 = NULL;

  if (strlen (password) > PASSWORD_MAX) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "a password may have at most %d bytes",
                 PASSWORD_MAX);
    return NULL;
  }
  if (RAND_bytes (salt, sizeof salt) != 1
      || !scrypt (password, salt, sizeof salt, SCRYPT_LN, SCRYPT_R, SCRYPT_P, key, sizeof key)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CRYPTO, "cannot hash the password (OpenSSL scrypt)");
    return NULL;
  }
  salt64 = g_base64_encode (salt, sizeof salt);
  key64 = g_base64_encode (key, sizeof key);
  OPENSSL_cleanse (key, sizeof key);
  return g_strdup_printf ("$scrypt$ln=%d,r=%d,p=%d$%s$%s", SCRYPT_LN, SCRYPT_R, SCRYPT_P, salt64,
                          key64);
}

gboolean
volact_password_check (const char *hash, const char *password)
{
  static const guchar dummy_salt[SALT_SIZE] = { 0 };
  g_autofree guchar *salt = NULL, *key = NULL;
  gsize salt_len = 0, key_len = 0;
  guint ln, r, p;
  guchar got[64];
  gboolean ok;

  if (hash == NULL || strlen (password) > PASSWORD_MAX
      || !parse_hash (hash, &ln, &r, &p, &salt, &salt_len, &key, &key_len)) {
    /* The same work as a real check: no timing difference for unknown users. */
    scrypt ("", dummy_salt, sizeof dummy_salt, SCRYPT_LN, SCRYPT_R, SCRYPT_P, got, KEY_SIZE);
    return FALSE;
  }
  ok = scrypt (password, salt, salt_len, ln, r, p, got, key_len)
       && CRYPTO_memcmp (got, key, key_len) == 0;
  OPENSSL_cleanse (got, sizeof got);
  return ok;
}

static User *
find (VolactUsers *users, const char *name)
{
  for (guint i = 0; i < users->users->len; i++) {
    User *u = users->users->pdata[i];
    if (g_str_equal (u->name, name))
      return u;
  }
  return NULL;
}

VolactUsers *
volact_users_load (const char *path, GError **error)
{
  g_autofree char *text = volact_private_file_read (path, USERS_FILE_MAX, "password hashes", NULL,
                                                    error);
  g_autoptr (VolactUsers) users = NULL;
  g_auto (GStrv) lines = NULL;

  if (text == NULL)
    return NULL;
  users = volact_users_new ();
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    const char *line = g_strstrip (lines[i]);
    g_auto (GStrv) f = NULL;
    g_autofree guchar *salt = NULL, *key = NULL;
    gsize sl, kl;
    guint ln, r, p;
    VolactRole role;
    User *u;

    if (*line == '\0' || *line == '#')
      continue;
    f = g_strsplit (line, ":", 3);
    if (g_strv_length (f) != 3 || !volact_users_valid_name (f[0])) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                   "%s:%u: expected NAME:ROLE:HASH with NAME of letters, digits, '.', '_', "
                   "'-' or '@'",
                   path, i + 1);
      return NULL;
    }
    if (!volact_role_parse (f[1], &role)) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                   "%s:%u: user %s: role \"%s\" is neither admin nor read-only", path, i + 1, f[0],
                   f[1]);
      return NULL;
    }
    if (!parse_hash (f[2], &ln, &r, &p, &salt, &sl, &key, &kl)) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                   "%s:%u: user %s: not a scrypt hash as volactctl user writes it "
                   "($scrypt$ln=15,r=8,p=1$SALT$KEY, ln <= %d, r <= %d, p <= %d)",
                   path, i + 1, f[0], SCRYPT_LN_MAX, SCRYPT_R_MAX, SCRYPT_P_MAX);
      return NULL;
    }
    if (find (users, f[0]) != NULL) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "%s:%u: user %s is listed twice", path,
                   i + 1, f[0]);
      return NULL;
    }
    u = g_new0 (User, 1);
    u->name = g_strdup (f[0]);
    u->role = role;
    u->hash = g_strdup (f[2]);
    g_ptr_array_add (users->users, u);
  }
  return g_steal_pointer (&users);
}

gboolean
volact_users_save (VolactUsers *users, const char *path, GError **error)
{
  g_autoptr (GString) out = g_string_new (
      "# volact web users (volactctl user add|passwd|del): NAME:ROLE:HASH\n");
  g_autoptr (GError) local = NULL;

  for (guint i = 0; i < users->users->len; i++) {
    User *u = users->users->pdata[i];
    g_string_append_printf (out, "%s:%s:%s\n", u->name, volact_role_name (u->role), u->hash);
  }
  if (!g_file_set_contents_full (path, out->str, (gssize) out->len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &local)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "saving users to %s: %s", path,
                 local->message);
    return FALSE;
  }
  return TRUE;
}

gboolean
volact_users_set (VolactUsers *users, const char *name, VolactRole role, const char *password,
                  GError **error)
{
  char *hash;
  User *u;

  if (!volact_users_valid_name (name)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED,
                 "\"%s\" is not a user name (1 to 64 letters, digits, '.', '_', '-' or '@')",
                 name);
    return FALSE;
  }
  hash = volact_password_hash (password, error);
  if (hash == NULL)
    return FALSE;
  u = find (users, name);
  if (u == NULL) {
    u = g_new0 (User, 1);
    u->name = g_strdup (name);
    g_ptr_array_add (users->users, u);
  }
  g_free (u->hash);
  u->hash = hash;
  u->role = role;
  return TRUE;
}

gboolean
volact_users_set_password (VolactUsers *users, const char *name, const char *password,
                           GError **error)
{
  User *u = find (users, name);

  if (u == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "no user %s", name);
    return FALSE;
  }
  return volact_users_set (users, name, u->role, password, error);
}

gboolean
volact_users_remove (VolactUsers *users, const char *name, GError **error)
{
  User *u = find (users, name);

  if (u == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "no user %s", name);
    return FALSE;
  }
  g_ptr_array_remove (users->users, u);
  return TRUE;
}

GPtrArray *
volact_users_names (VolactUsers *users)
{
  GPtrArray *names = g_ptr_array_new ();
  for (guint i = 0; i < users->users->len; i++)
    g_ptr_array_add (names, ((User *) users->users->pdata[i])->name);
  return names;
}

gboolean
volact_users_lookup (VolactUsers *users, const char *name, VolactRole *role, char **hash)
{
  User *u = find (users, name);

  if (u == NULL)
    return FALSE;
  if (role != NULL)
    *role = u->role;
  if (hash != NULL)
    *hash = g_strdup (u->hash);
  return TRUE;
}
