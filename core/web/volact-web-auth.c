/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-web-auth.h"

#include "volact-bytes.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

/* Bounds memory whatever a peer does: the oldest entries give way. */
#define MAX_SESSIONS 1024
#define MAX_FAILURE_KEYS 16384
#define MAX_REMEMBERED 256

typedef struct {
  guint count;
  gint64 last;
} Failures;

struct _VolactWebAuth {
  GHashTable *sessions; /* token -> VolactWebSession */
  GHashTable *failures; /* "s:ADDRESS" or "u:NAME" -> Failures */
  GHashTable *basic;    /* hex HMAC of user and password -> Remembered */
  guint8 hmac_key[32];
};

typedef struct {
  VolactRole role;
  gint64 until;
} Remembered;

static void
session_free (gpointer p)
{
  VolactWebSession *s = p;
  g_free (s->user);
  g_free (s->csrf);
  g_free (s);
}

VolactWebAuth *
volact_web_auth_new (void)
{
  VolactWebAuth *auth = g_new0 (VolactWebAuth, 1);
  auth->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, session_free);
  auth->failures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  auth->basic = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (RAND_bytes (auth->hmac_key, sizeof auth->hmac_key) != 1)
    g_error ("OpenSSL's random generator failed");
  return auth;
}

void
volact_web_auth_free (VolactWebAuth *auth)
{
  if (auth == NULL)
    return;
  g_hash_table_unref (auth->sessions);
  g_hash_table_unref (auth->failures);
  g_hash_table_unref (auth->basic);
  OPENSSL_cleanse (auth->hmac_key, sizeof auth->hmac_key);
  g_free (auth);
}

char *
volact_web_token_new (void)
{
  guint8 raw[32];

  if (RAND_bytes (raw, sizeof raw) != 1)
    g_error ("OpenSSL's random generator failed"); /* no safe way on without it */
  return volact_hex (raw, sizeof raw);
}

static gboolean
session_expired (VolactWebSession *s, gint64 now)
{
  return now - s->last_used >= VOLACT_WEB_SESSION_IDLE || now - s->created >= VOLACT_WEB_SESSION_MAX
         || now < s->created; /* the clock went back: do not trust the ages */
}

/* Drops expired sessions, and the least recently used ones beyond the bound. */
static void
prune_sessions (VolactWebAuth *auth, gint64 now)
{
  GHashTableIter it;
  gpointer key, value;

  g_hash_table_iter_init (&it, auth->sessions);
  while (g_hash_table_iter_next (&it, &key, &value))
    if (session_expired (value, now))
      g_hash_table_iter_remove (&it);
  while (g_hash_table_size (auth->sessions) >= MAX_SESSIONS) {
    gpointer oldest = NULL;
    gint64 oldest_time = G_MAXINT64;
    g_hash_table_iter_init (&it, auth->sessions);
    while (g_hash_table_iter_next (&it, &key, &value))
      if (((VolactWebSession *) value)->last_used < oldest_time) {
        oldest_time = ((VolactWebSession *) value)->last_used;
        oldest = key;
      }
    g_hash_table_remove (auth->sessions, oldest);
  }
}

const char *
volact_web_auth_open (VolactWebAuth *auth, const char *user, VolactRole role, gint64 now)
{
  VolactWebSession *s = g_new0 (VolactWebSession, 1);
  char *token = volact_web_token_new ();

  prune_sessions (auth, now);
  s->user = g_strdup (user);
  s->role = role;
  s->csrf = volact_web_token_new ();
  s->created = s->last_used = now;
  g_hash_table_insert (auth->sessions, token, s);
  return token;
}

VolactWebSession *
volact_web_auth_session (VolactWebAuth *auth, const char *token, gint64 now)
{
  VolactWebSession *s = token ? g_hash_table_lookup (auth->sessions, token) : NULL;

  if (s == NULL)
    return NULL;
  if (session_expired (s, now)) {
    g_hash_table_remove (auth->sessions, token);
    return NULL;
  }
  s->last_used = now;
  return s;
}

void
volact_web_auth_close (VolactWebAuth *auth, const char *token)
{
  if (token != NULL)
    g_hash_table_remove (auth->sessions, token);
}

guint
volact_web_auth_sessions (VolactWebAuth *auth)
{
  return g_hash_table_size (auth->sessions);
}

static Failures *
failures_of (VolactWebAuth *auth, char kind, const char *who, gint64 now, gboolean create)
{
  g_autofree char *key = g_strdup_printf ("%c:%s", kind, who ? who : "");
  Failures *f = g_hash_table_lookup (auth->failures, key);

  if (f != NULL && (now - f->last >= VOLACT_WEB_FAILURE_MEMORY || now < f->last)) {
    g_hash_table_remove (auth->failures, key);
    f = NULL;
  }
  if (f == NULL && create) {
    if (g_hash_table_size (auth->failures) >= MAX_FAILURE_KEYS) {
      /* Forget what has aged out; if a flood of names fills the table, start over
       * rather than grow: the per-source entry of the flooder is re-made at once. */
      GHashTableIter it;
      gpointer k, v;
      g_hash_table_iter_init (&it, auth->failures);
      while (g_hash_table_iter_next (&it, &k, &v))
        if (now - ((Failures *) v)->last >= VOLACT_WEB_FAILURE_MEMORY)
          g_hash_table_iter_remove (&it);
      if (g_hash_table_size (auth->failures) >= MAX_FAILURE_KEYS)
        g_hash_table_remove_all (auth->failures);
    }
    f = g_new0 (Failures, 1);
    g_hash_table_insert (auth->failures, g_steal_pointer (&key), f);
  }
  return f;
}

static guint
delay_for (Failures *f, gint64 now)
{
  guint wait;

  if (f == NULL || f->count < VOLACT_WEB_FREE_FAILURES)
    return 0;
  wait = f->count - VOLACT_WEB_FREE_FAILURES >= 6
             ? VOLACT_WEB_DELAY_MAX
             : MIN (VOLACT_WEB_DELAY_MAX, 1u << (f->count - VOLACT_WEB_FREE_FAILURES));
  /* The wait runs from the last failure. */
  return now - f->last >= wait ? 0 : (guint) (wait - (now - f->last));
}

guint
volact_web_auth_delay (VolactWebAuth *auth, const char *source, const char *user, gint64 now)
{
  guint a = delay_for (failures_of (auth, 's', source, now, FALSE), now);
  guint b = user ? delay_for (failures_of (auth, 'u', user, now, FALSE), now) : 0;
  return MAX (a, b);
}

guint
volact_web_auth_failed (VolactWebAuth *auth, const char *source, const char *user, gint64 now)
{
  Failures *s = failures_of (auth, 's', source, now, TRUE);

  s->count++;
  s->last = now;
  if (user != NULL && *user != '\0') {
    Failures *u = failures_of (auth, 'u', user, now, TRUE);
    u->count++;
    u->last = now;
  }
  return s->count;
}

void
volact_web_auth_succeeded (VolactWebAuth *auth, const char *source, const char *user)
{
  g_autofree char *s = g_strdup_printf ("s:%s", source);
  g_autofree char *u = g_strdup_printf ("u:%s", user);
  g_hash_table_remove (auth->failures, s);
  g_hash_table_remove (auth->failures, u);
}

/* HMAC-SHA256 (key, USER NUL PASSWORD) in hex: what is remembered instead of the password. */
static char *
credential_digest (VolactWebAuth *auth, const char *user, const char *password)
{
  gsize ulen = strlen (user), plen = strlen (password);
  g_autofree guint8 *msg = g_malloc (ulen + 1 + plen);
  guint8 mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;

  memcpy (msg, user, ulen + 1);
  memcpy (msg + ulen + 1, password, plen);
  if (HMAC (EVP_sha256 (), auth->hmac_key, sizeof auth->hmac_key, msg, ulen + 1 + plen, mac,
            &mac_len)
      == NULL)
    g_error ("OpenSSL HMAC-SHA256 failed");
  OPENSSL_cleanse (msg, ulen + 1 + plen);
  return volact_hex (mac, mac_len);
}

void
volact_web_auth_remember (VolactWebAuth *auth, const char *user, const char *password,
                          VolactRole role, gint64 now)
{
  Remembered *r = g_new0 (Remembered, 1);

  if (g_hash_table_size (auth->basic) >= MAX_REMEMBERED)
    g_hash_table_remove_all (auth->basic);
  r->role = role;
  r->until = now + VOLACT_WEB_BASIC_MEMORY;
  g_hash_table_replace (auth->basic, credential_digest (auth, user, password), r);
}

gboolean
volact_web_auth_recall (VolactWebAuth *auth, const char *user, const char *password, gint64 now,
                        VolactRole *role)
{
  g_autofree char *digest = credential_digest (auth, user, password);
  Remembered *r = g_hash_table_lookup (auth->basic, digest);

  if (r == NULL)
    return FALSE;
  if (now >= r->until || now < r->until - VOLACT_WEB_BASIC_MEMORY) {
    g_hash_table_remove (auth->basic, digest);
    return FALSE;
  }
  if (role != NULL)
    *role = r->role;
  return TRUE;
}

void
volact_web_auth_forget (VolactWebAuth *auth)
{
  g_hash_table_remove_all (auth->basic);
}
