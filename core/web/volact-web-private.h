/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * Shared by the web listener's files: its state (volact-web-server.c starts
 * and stops it, volact-web.c answers requests) and the request handler.
 * Everything here is used from the listener's thread only, but the fields
 * the start handshake names.
 */
#ifndef VOLACT_WEB_PRIVATE_H
#define VOLACT_WEB_PRIVATE_H

#include <libsoup/soup.h>
#include <sys/stat.h>

#include "volact-web-auth.h"
#include "volact-web.h"

G_BEGIN_DECLS

/* Pages and password checks being made at once; more get 503 (each check takes 32 MiB). */
#define VOLACT_WEB_JOBS_MAX 4

struct _VolactWeb {
  VolactHost *host;
  VolactServer *server;
  char *users_path;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *soup;
  VolactWebAuth *auth;
  VolactUsers *users; /* NULL while the file is missing or broken */
  struct stat users_stat;
  gboolean users_missing_logged;
  guint port;
  guint jobs;         /* running */
  GThreadPool *pool;  /* the threads jobs run in (volact-web-jobs.h) */
  GPtrArray *waiting; /* GSource: sign-ins waiting out their delay */
  GMutex lock;        /* the start handshake: started, start_error */
  GCond cond;
  gboolean started;
  GError *start_error;
};

/** The SoupServer handler of every path (volact-web.c). */
void volact_web_handle (SoupServer *server, SoupServerMessage *msg, const char *path,
                        GHashTable *query, gpointer user_data);
/** The users file, read again when it changed; NULL while it is missing or broken (logged). */
VolactUsers *volact_web_current_users (VolactWeb *web);

G_END_DECLS

#endif
