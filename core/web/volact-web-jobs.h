/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The slow work behind the web listener's answers (volact-web.c): checking
 * a password (scrypt, on purpose slow), making the dashboard (dli, health and
 * the six reports, through the administration command table) and collecting
 * /metrics. Each job pauses its message, waits out the delay earned by
 * failed sign-ins, runs in a worker thread, and reports back in the web
 * thread's main context, where the message is answered.
 */
#ifndef VOLACT_WEB_JOBS_H
#define VOLACT_WEB_JOBS_H

#include <libsoup/soup.h>

#include "volact-host.h"
#include "volact-server.h"
#include "volact-users.h"

G_BEGIN_DECLS

typedef enum {
  VOLACT_WEB_JOB_SIGN_IN,   /* the sign-in form: check the password */
  VOLACT_WEB_JOB_METRICS,   /* /metrics */
  VOLACT_WEB_JOB_DASHBOARD, /* the dashboard page */
  VOLACT_WEB_JOB_COMMAND,   /* /api/command: an administration command (docs/web.md) */
} VolactWebJobKind;

typedef struct _VolactWebJob VolactWebJob;
typedef void (*VolactWebJobDone) (VolactWebJob *job, gpointer user_data);

struct _VolactWebJob {
  VolactWebJobKind kind;
  VolactHost *host;
  VolactServer *server;
  SoupServerMessage *msg; /* a reference, paused while the job runs */
  char *source;           /* the peer's address */
  char *user;
  char *password; /* wiped when the job is freed */
  char *hash;     /* the user's stored hash; NULL for an unknown user */
  gboolean check_password; /* HTTP Basic not remembered: check it before the work */
  VolactRole role;
  char *csrf;     /* the session's form token, for the dashboard's sign-out form */
  gboolean password_ok;
  char *body; /* the page or the metrics */
  GVariant *request; /* COMMAND: the "(sas)" request */
  GVariant *reply;   /* COMMAND: the a{sv} reply */
  guint status;      /* COMMAND: the HTTP status of the reply */
};

/** A job answering MSG (referenced). */
VolactWebJob *volact_web_job_new (VolactHost *host, VolactServer *server, SoupServerMessage *msg,
                                  VolactWebJobKind kind);
/**
 * Pauses the message, runs JOB after DELAY seconds in a thread of POOL, then
 * calls DONE in the calling thread's default main context (which must be
 * running), which answers and unpauses the message; JOB is freed after.
 * Returns the source of the wait (a reference; g_source_set_ready_time 0 ends
 * it early), or NULL without DELAY.
 */
GSource *volact_web_job_run (VolactWebJob *job, GThreadPool *pool, guint delay,
                             VolactWebJobDone done, gpointer user_data);
/**
 * The pool jobs run in: MAX threads of its own, made now, so that stopping
 * the listener joins every thread it started (g_thread_pool_free with wait).
 */
GThreadPool *volact_web_jobs_pool_new (guint max, GError **error);

G_END_DECLS

#endif
