/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * Sign-in state of the web listener (docs/web.md), kept in memory and used
 * from its thread only: sessions (random 256-bit tokens, idle and absolute
 * expiry, a CSRF token each) and the slowing down of repeated failed
 * sign-ins per source address and per user name. Times are passed in (unix
 * seconds) so that the rules are testable without waiting.
 */
#ifndef VOLACT_WEB_AUTH_H
#define VOLACT_WEB_AUTH_H

#include "volact-users.h"

G_BEGIN_DECLS

/* A session ends after this much idle time, and in any case after the second. */
#define VOLACT_WEB_SESSION_IDLE (30 * 60)
#define VOLACT_WEB_SESSION_MAX (12 * 60 * 60)
/* Failed sign-ins that are free; each one more doubles the wait, up to the maximum. */
#define VOLACT_WEB_FREE_FAILURES 3
#define VOLACT_WEB_DELAY_MAX 60
/* A source or user with no failure for this long starts again from zero. */
#define VOLACT_WEB_FAILURE_MEMORY (15 * 60)

typedef struct _VolactWebAuth VolactWebAuth;

typedef struct {
  char *user;
  VolactRole role;
  char *csrf; /* hex, for forms that change something (sign-out) */
  gint64 created, last_used;
} VolactWebSession;

VolactWebAuth *volact_web_auth_new (void);
void volact_web_auth_free (VolactWebAuth *auth);

/** A new session for USER; returns its token (hex, owned by AUTH). */
const char *volact_web_auth_open (VolactWebAuth *auth, const char *user, VolactRole role,
                                  gint64 now);
/** The live session of TOKEN (NULL if unknown or expired; touching it keeps it alive). */
VolactWebSession *volact_web_auth_session (VolactWebAuth *auth, const char *token, gint64 now);
/** Ends TOKEN's session. */
void volact_web_auth_close (VolactWebAuth *auth, const char *token);
/** Sessions alive. */
guint volact_web_auth_sessions (VolactWebAuth *auth);

/**
 * Seconds a sign-in from SOURCE as USER must wait before it is checked: 0
 * until VOLACT_WEB_FREE_FAILURES failures of either, then 1, 2, 4, ...
 * VOLACT_WEB_DELAY_MAX after the last failure.
 */
guint volact_web_auth_delay (VolactWebAuth *auth, const char *source, const char *user,
                             gint64 now);
/** Records a failed sign-in; returns the failures counted for SOURCE so far. */
guint volact_web_auth_failed (VolactWebAuth *auth, const char *source, const char *user,
                              gint64 now);
/** Records a good sign-in: USER's failures are forgotten, SOURCE's too. */
void volact_web_auth_succeeded (VolactWebAuth *auth, const char *source, const char *user);

/*
 * HTTP Basic credentials checked recently (for /metrics, scraped every few
 * seconds): remembered by an HMAC under a key made at start, never in clear,
 * for VOLACT_WEB_BASIC_MEMORY seconds, so that the slow hash runs once per
 * scraper rather than once per scrape. Forgotten when the users file changes.
 */
#define VOLACT_WEB_BASIC_MEMORY (10 * 60)
/** Remembers that USER's PASSWORD was right, with ROLE. */
void volact_web_auth_remember (VolactWebAuth *auth, const char *user, const char *password,
                               VolactRole role, gint64 now);
/** Whether USER's PASSWORD was found right within the memory time (and its role). */
gboolean volact_web_auth_recall (VolactWebAuth *auth, const char *user, const char *password,
                                 gint64 now, VolactRole *role);
/** Forgets every remembered credential. */
void volact_web_auth_forget (VolactWebAuth *auth);

/** A new random token: 32 bytes as 64 hex digits. */
char *volact_web_token_new (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactWebAuth, volact_web_auth_free)

G_END_DECLS

#endif
