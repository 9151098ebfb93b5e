/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-web-private.h"

#include "volact-admin-proto.h"
#include "volact-dashboard.h"
#include "volact-error.h"
#include "volact-records.h"
#include "volact-metrics.h"
#include "volact-private-file.h"
#include "volact-web-auth.h"
#include "volact-web-jobs.h"

#include <libsoup/soup.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <string.h>
#include <sys/stat.h>

/* A sign-in form is small: anything larger is refused unread. */
#define FORM_MAX 4096

#define SESSION_COOKIE "volact_session"
#define LOGIN_COOKIE "volact_login"

/* ---------------------------------------------------------------- responses */

static void
set_common_headers (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  /* The pages have inline style and nothing else: no script, no external asset. */
  soup_message_headers_replace (h, "Content-Security-Policy",
                                "default-src 'none'; style-src 'unsafe-inline'; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  soup_message_headers_replace (h, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (h, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace (h, "Cache-Control", "no-store");
  soup_message_headers_replace (h, "Strict-Transport-Security", "max-age=31536000");
}

static void
respond (SoupServerMessage *msg, guint status, const char *content_type, char *body)
{
  set_common_headers (msg);
  soup_server_message_set_status (msg, status, NULL);
  if (body != NULL)
    soup_server_message_set_response (msg, content_type, SOUP_MEMORY_TAKE, body, strlen (body));
}

static void
respond_text (SoupServerMessage *msg, guint status, const char *text)
{
  respond (msg, status, "text/plain; charset=utf-8", g_strdup_printf ("%s\n", text));
}

/* A command's a{sv} REPLY (floating or not), serialised as the admin socket frames it. */
static void
respond_reply (SoupServerMessage *msg, guint status, GVariant *reply)
{
  g_autoptr (GVariant) normal = g_variant_get_normal_form (g_variant_ref_sink (reply));

  set_common_headers (msg);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, VOLACT_WEB_COMMAND_TYPE, SOUP_MEMORY_COPY,
                                    g_variant_get_data (normal), g_variant_get_size (normal));
  g_variant_unref (reply);
}

/* The sign-in page with a fresh form token (and its cookie), as STATUS, showing MESSAGE if any. */
static void
respond_login (SoupServerMessage *msg, guint status, const char *message)
{
  g_autofree char *csrf = volact_web_token_new ();
  g_autofree char *cookie
      = g_strdup_printf (LOGIN_COOKIE "=%s; Path=/login; Secure; HttpOnly; SameSite=Strict", csrf);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  soup_message_headers_append (h, "Set-Cookie", cookie);
  if (status == SOUP_STATUS_UNAUTHORIZED)
    /* A browser shows the form (the page); a script learns where to sign in. */
    soup_message_headers_replace (h, "WWW-Authenticate", "Form realm=\"volact\", action=\"/login\"");
  respond (msg, status, "text/html; charset=utf-8",
                      volact_dashboard_login_page (message, csrf));
}

static void
respond_basic_challenge (SoupServerMessage *msg)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "WWW-Authenticate", "Basic realm=\"volact\", charset=\"UTF-8\"");
  respond_text (msg, SOUP_STATUS_UNAUTHORIZED, "Unauthorized: sign in (HTTP Basic) as a user "
                                               "of the host's web-users file");
}

/* ---------------------------------------------------------------- requests */

/* The value of cookie NAME in the request, or NULL. */
static char *
request_cookie (SoupServerMessage *msg, const char *name)
{
  const char *header = soup_message_headers_get_list (
      soup_server_message_get_request_headers (msg), "Cookie");
  g_autoptr (GHashTable) cookies = NULL;
  const char *v;

  if (header == NULL || strlen (header) > 8192)
    return NULL;
  cookies = soup_header_parse_semi_param_list (header);
  v = g_hash_table_lookup (cookies, name);
  return v ? g_strdup (v) : NULL;
}

static gboolean
tokens_equal (const char *a, const char *b)
{
  return a != NULL && b != NULL && strlen (a) == strlen (b) && *a != '\0'
         && CRYPTO_memcmp (a, b, strlen (a)) == 0;
}

/* The users file, read again when it changed; NULL when it is missing or broken (logged once). */
VolactUsers *
volact_web_current_users (VolactWeb *web)
{
  g_autoptr (GError) error = NULL;
  struct stat st;

  if (stat (web->users_path, &st) != 0) {
    if (!web->users_missing_logged)
      g_warning ("web: users file %s: %s; nobody can sign in (volactctl user add NAME)",
                 web->users_path, g_strerror (errno));
    web->users_missing_logged = TRUE;
    g_clear_pointer (&web->users, volact_users_free);
    volact_web_auth_forget (web->auth);
    memset (&web->users_stat, 0, sizeof web->users_stat);
    return NULL;
  }
  if (web->users != NULL && st.st_mtim.tv_sec == web->users_stat.st_mtim.tv_sec
      && st.st_mtim.tv_nsec == web->users_stat.st_mtim.tv_nsec && st.st_ino == web->users_stat.st_ino
      && st.st_size == web->users_stat.st_size)
    return web->users;
  g_clear_pointer (&web->users, volact_users_free);
  volact_web_auth_forget (web->auth);
  web->users = volact_users_load (web->users_path, &error);
  web->users_stat = st;
  if (web->users == NULL)
    g_warning ("web: users file: %s; nobody can sign in until it is fixed", error->message);
  else
    web->users_missing_logged = FALSE;
  return web->users;
}

static void job_done (VolactWebJob *job, gpointer user_data);

/* Counts JOB as running and starts it after DELAY seconds (a wait a stop cuts short). */
static void
run_job (VolactWeb *web, VolactWebJob *job, guint delay)
{
  GSource *wait;

  web->jobs++;
  wait = volact_web_job_run (job, web->pool, delay, job_done, web);
  if (wait == NULL)
    return;
  for (guint i = web->waiting->len; i > 0; i--)
    if (g_source_is_destroyed (web->waiting->pdata[i - 1]))
      g_ptr_array_remove_index_fast (web->waiting, i - 1);
  g_ptr_array_add (web->waiting, wait);
}

/* A job for MSG, or NULL after answering 503 when enough are running already. */
static VolactWebJob *
new_job (VolactWeb *web, SoupServerMessage *msg, VolactWebJobKind kind)
{
  const char *source = soup_server_message_get_remote_host (msg);
  VolactWebJob *job;

  if (web->jobs >= VOLACT_WEB_JOBS_MAX) {
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After",
                                  "1");
    respond_text (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "Busy: try again in a second");
    return NULL;
  }
  job = volact_web_job_new (web->host, web->server, msg, kind);
  job->source = g_strdup (source ? source : "");
  return job;
}

/* Checks USER's PASSWORD (after any delay the failures so far earned), then does the work. */
static void
check_password (VolactWeb *web, SoupServerMessage *msg, VolactWebJobKind kind, const char *user,
                const char *password, GVariant *request)
{
  VolactUsers *users = volact_web_current_users (web);
  VolactWebJob *job = new_job (web, msg, kind);

  if (job == NULL)
    return;
  job->user = g_strdup (user);
  job->password = g_strdup (password);
  job->check_password = TRUE;
  job->request = request ? g_variant_ref (request) : NULL;
  if (users == NULL || !volact_users_lookup (users, user, &job->role, &job->hash))
    job->hash = NULL; /* still hashed: unknown users cost the same time */
  run_job (web, job,
           volact_web_auth_delay (web->auth, job->source, user, g_get_real_time () / G_USEC_PER_SEC));
}

/* HTTP Basic credentials from the request, if any. */
static gboolean
basic_credentials (SoupServerMessage *msg, char **user, char **password)
{
  const char *h = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                "Authorization");
  g_autofree guchar *raw = NULL;
  gsize len = 0;
  const char *colon;

  if (h == NULL || g_ascii_strncasecmp (h, "Basic ", 6) != 0 || strlen (h) > 4096)
    return FALSE;
  raw = g_base64_decode (h + 6, &len);
  if (raw == NULL || len == 0 || memchr (raw, '\0', len) != NULL)
    return FALSE;
  raw = g_realloc (raw, len + 1);
  raw[len] = '\0';
  colon = strchr ((char *) raw, ':');
  if (colon == NULL)
    return FALSE;
  *user = g_strndup ((char *) raw, (gsize) (colon - (char *) raw));
  *password = g_strdup (colon + 1);
  OPENSSL_cleanse (raw, len);
  return TRUE;
}

/* The session the request's cookie names, if it is alive. */
static VolactWebSession *
request_session (VolactWeb *web, SoupServerMessage *msg, char **token)
{
  g_autofree char *t = request_cookie (msg, SESSION_COOKIE);
  VolactWebSession *s = volact_web_auth_session (web->auth, t, g_get_real_time () / G_USEC_PER_SEC);

  if (s != NULL && token != NULL)
    *token = g_steal_pointer (&t);
  return s;
}

static void
start_page (VolactWeb *web, SoupServerMessage *msg, VolactWebJobKind kind,
            VolactWebSession *session)
{
  VolactWebJob *job = new_job (web, msg, kind);

  if (job == NULL)
    return;
  job->user = g_strdup (session->user);
  job->role = session->role;
  job->csrf = g_strdup (session->csrf);
  run_job (web, job, 0);
}

/*
 * A request with HTTP Basic credentials (/metrics, /api/command): a password
 * found right within the last minutes is not hashed again; any other is
 * checked first. REQUEST is the command, for /api/command.
 */
static void
start_basic (VolactWeb *web, SoupServerMessage *msg, VolactWebJobKind kind, GVariant *request)
{
  g_autofree char *user = NULL, *password = NULL;
  VolactRole role;
  VolactWebJob *job;

  if (!basic_credentials (msg, &user, &password) || !volact_users_valid_name (user)) {
    respond_basic_challenge (msg);
    return;
  }
  volact_web_current_users (web); /* a changed users file forgets what was remembered */
  if (!volact_web_auth_recall (web->auth, user, password, g_get_real_time () / G_USEC_PER_SEC,
                               &role)) {
    check_password (web, msg, kind, user, password, request);
  } else if ((job = new_job (web, msg, kind)) != NULL) {
    job->user = g_strdup (user);
    job->role = role;
    job->request = request ? g_variant_ref (request) : NULL;
    run_job (web, job, 0);
  }
  OPENSSL_cleanse (password, strlen (password));
}

static void
handle_login_post (VolactWeb *web, SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autofree char *cookie = request_cookie (msg, LOGIN_COOKIE);
  g_autofree char *form_text = NULL;
  g_autoptr (GHashTable) form = NULL;
  const char *user, *password;

  if (body->length > FORM_MAX) {
    respond_text (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "The sign-in form is too large");
    return;
  }
  form_text = g_strndup (body->data, body->length);
  form = soup_form_decode (form_text);
  OPENSSL_cleanse (form_text, strlen (form_text));
  user = g_hash_table_lookup (form, "user");
  password = g_hash_table_lookup (form, "password");
  /* The form's token must match the cookie set with it: no signing in from another site. */
  if (!tokens_equal (g_hash_table_lookup (form, "csrf"), cookie)) {
    respond_login (msg, SOUP_STATUS_FORBIDDEN,
                              "The sign-in form expired; please try again.");
    return;
  }
  if (user == NULL || password == NULL || *user == '\0' || !volact_users_valid_name (user)) {
    respond_login (msg, SOUP_STATUS_UNAUTHORIZED, "Wrong user name or password.");
    return;
  }
  check_password (web, msg, VOLACT_WEB_JOB_SIGN_IN, user, password, NULL);
}

static void
handle_logout (VolactWeb *web, SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autofree char *token = NULL;
  g_autofree char *form_text = NULL;
  g_autoptr (GHashTable) form = NULL;
  VolactWebSession *s = request_session (web, msg, &token);

  if (s != NULL && body->length <= FORM_MAX) {
    form_text = g_strndup (body->data, body->length);
    form = soup_form_decode (form_text);
    if (!tokens_equal (g_hash_table_lookup (form, "csrf"), s->csrf)) {
      respond_text (msg, SOUP_STATUS_FORBIDDEN, "Forbidden: the form's token does not match");
      return;
    }
    g_message ("web: %s signed out", s->user);
    volact_web_auth_close (web->auth, token);
  }
  soup_message_headers_append (soup_server_message_get_response_headers (msg), "Set-Cookie",
                               SESSION_COOKIE "=; Path=/; Secure; HttpOnly; SameSite=Strict; "
                                              "Max-Age=0");
  set_common_headers (msg);
  soup_server_message_set_redirect (msg, SOUP_STATUS_SEE_OTHER, "/login");
}

static void
handle_metrics (VolactWeb *web, SoupServerMessage *msg)
{
  VolactWebSession *s = request_session (web, msg, NULL);

  if (s != NULL)
    start_page (web, msg, VOLACT_WEB_JOB_METRICS, s);
  else
    start_basic (web, msg, VOLACT_WEB_JOB_METRICS, NULL);
}

/* POST /api/command: one administration command, framed as on the admin socket (docs/web.md). */
static void
handle_command (VolactWeb *web, SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  const char *type = soup_message_headers_get_content_type (
      soup_server_message_get_request_headers (msg), NULL);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GVariant) request = NULL;
  g_autoptr (GError) error = NULL;

  if (type == NULL || !g_str_equal (type, VOLACT_WEB_COMMAND_TYPE)) {
    respond_text (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                  "Unsupported media type: send " VOLACT_WEB_COMMAND_TYPE " (volactctl --remote)");
    return;
  }
  bytes = g_bytes_new (body->data, body->length);
  request = volact_admin_decode (bytes, VOLACT_ADMIN_REQUEST_TYPE, VOLACT_ADMIN_MAX_REQUEST,
                                 &error);
  if (request == NULL) {
    g_prefix_error (&error, "remote administration request: ");
    respond_reply (msg, SOUP_STATUS_BAD_REQUEST, volact_admin_reply_error (error));
    return;
  }
  start_basic (web, msg, VOLACT_WEB_JOB_COMMAND, request);
}

void
volact_web_handle (SoupServer *server, SoupServerMessage *msg, const char *path,
                   GHashTable *query, gpointer user_data)
{
  VolactWeb *web = user_data;
  const char *method = soup_server_message_get_method (msg);
  gboolean get = g_str_equal (method, "GET") || g_str_equal (method, "HEAD");
  gboolean post = g_str_equal (method, "POST");

  if (g_str_equal (path, "/login") && get) {
    respond_login (msg, SOUP_STATUS_OK, NULL);
  } else if (g_str_equal (path, "/login") && post) {
    handle_login_post (web, msg);
  } else if (g_str_equal (path, "/logout") && post) {
    handle_logout (web, msg);
  } else if (g_str_equal (path, "/metrics") && get) {
    handle_metrics (web, msg);
  } else if (g_str_equal (path, "/api/command") && post) {
    handle_command (web, msg);
  } else if (g_str_equal (path, "/") && get) {
    VolactWebSession *s = request_session (web, msg, NULL);
    if (s == NULL)
      respond_login (msg, SOUP_STATUS_UNAUTHORIZED, NULL);
    else
      start_page (web, msg, VOLACT_WEB_JOB_DASHBOARD, s);
  } else if (g_str_equal (path, "/") || g_str_equal (path, "/login")
             || g_str_equal (path, "/logout") || g_str_equal (path, "/metrics")
             || g_str_equal (path, "/api/command")) {
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                  g_str_equal (path, "/login")                            ? "GET, HEAD, POST"
                                  : g_str_equal (path, "/logout") || g_str_equal (path, "/api/command") ? "POST"
                                                                                           : "GET, HEAD");
    respond_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Method not allowed");
  } else {
    respond_text (msg, SOUP_STATUS_NOT_FOUND, "Not found");
  }
}

/* ---------------------------------------------------------------- job results (web thread) */

/* A password checked: the failures counted, or forgotten and the password remembered. */
static void
password_checked (VolactWeb *web, VolactWebJob *job, gint64 now)
{
  guint n, wait;
  g_autofree char *slowed = NULL;

  if (job->password_ok) {
    volact_web_auth_succeeded (web->auth, job->source, job->user);
    if (job->kind != VOLACT_WEB_JOB_SIGN_IN)
      volact_web_auth_remember (web->auth, job->user, job->password, job->role, now);
    return;
  }
  n = volact_web_auth_failed (web->auth, job->source, job->user, now);
  wait = volact_web_auth_delay (web->auth, job->source, job->user, now);
  slowed = wait ? g_strdup_printf ("; the next sign-in waits %u s", wait) : g_strdup ("");
  volact_host_event (web->host, VOLACT_EVENT_SIGN_IN_FAILED,
                     "web: failed sign-in as \"%s\" from %s (%u failed from that address%s)",
                     job->user, job->source, n, slowed);
}

static void
signed_in (VolactWeb *web, VolactWebJob *job, gint64 now)
{
  SoupServerMessage *msg = job->msg;
  const char *token = volact_web_auth_open (web->auth, job->user, job->role, now);
  g_autofree char *cookie = g_strdup_printf (
      SESSION_COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=%d", token,
      VOLACT_WEB_SESSION_MAX);

  g_message ("web: %s (%s) signed in from %s", job->user, volact_role_name (job->role),
             job->source);
  soup_message_headers_append (soup_server_message_get_response_headers (msg), "Set-Cookie",
                               cookie);
  set_common_headers (msg);
  soup_server_message_set_redirect (msg, SOUP_STATUS_SEE_OTHER, "/");
}

/* The audit event of a remote command: who, from where, what, and how it ended. */
static void
command_done (VolactWeb *web, VolactWebJob *job)
{
  const char *name = "";
  guint32 code = 0;

  g_variant_get (job->request, "(&sas)", &name, NULL);
  g_variant_lookup (job->reply, "code", "u", &code);
  volact_host_event (web->host, VOLACT_EVENT_REMOTE_COMMAND,
                     "remote administration: %s (%s) from %s ran %s: 0x%08X", job->user,
                     volact_role_name (job->role), job->source, name, code);
  respond_reply (job->msg, job->status, g_steal_pointer (&job->reply));
}

static void
job_done (VolactWebJob *job, gpointer user_data)
{
  VolactWeb *web = user_data;
  SoupServerMessage *msg = job->msg;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  web->jobs--;
  if (job->check_password)
    password_checked (web, job, now);
  if (job->kind == VOLACT_WEB_JOB_SIGN_IN && job->password_ok)
    signed_in (web, job, now);
  else if (job->kind == VOLACT_WEB_JOB_SIGN_IN)
    respond_login (msg, SOUP_STATUS_UNAUTHORIZED, "Wrong user name or password.");
  else if (job->check_password && !job->password_ok)
    respond_basic_challenge (msg);
  else if (job->kind == VOLACT_WEB_JOB_METRICS)
    respond (msg, SOUP_STATUS_OK, VOLACT_METRICS_CONTENT_TYPE, g_steal_pointer (&job->body));
  else if (job->kind == VOLACT_WEB_JOB_DASHBOARD)
    respond (msg, SOUP_STATUS_OK, "text/html; charset=utf-8", g_steal_pointer (&job->body));
  else
    command_done (web, job);
  soup_server_message_unpause (msg);
}

