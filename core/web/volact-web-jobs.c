/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-web-jobs.h"

#include "volact-admin-proto.h"
#include "volact-commands.h"
#include "volact-error.h"
#include "volact-dashboard.h"
#include "volact-metrics.h"
#include "volact-records.h"

#include <openssl/crypto.h>
#include <string.h>

typedef struct {
  VolactWebJob *job;
  VolactWebJobDone done;
  gpointer user_data;
  GThreadPool *pool;
  GMainContext *context; /* where DONE runs */
} Run;

VolactWebJob *
volact_web_job_new (VolactHost *host, VolactServer *server, SoupServerMessage *msg,
                    VolactWebJobKind kind)
{
  VolactWebJob *job = g_new0 (VolactWebJob, 1);
  job->kind = kind;
  job->host = host;
  job->server = server;
  job->msg = g_object_ref (msg);
  return job;
}

static void
job_free (VolactWebJob *job)
{
  if (job->password != NULL)
    OPENSSL_cleanse (job->password, strlen (job->password));
  g_free (job->password);
  g_free (job->hash);
  g_free (job->user);
  g_free (job->source);
  g_free (job->csrf);
  g_free (job->body);
  g_clear_pointer (&job->request, g_variant_unref);
  g_clear_pointer (&job->reply, g_variant_unref);
  g_object_unref (job->msg);
  g_free (job);
}

/* A command's reply through the one command table, as volactctl would get it. */
static GVariant *
command (VolactHost *host, const char *name, const char *arg)
{
  const char *args[] = { arg, NULL };
  return g_variant_ref_sink (volact_host_command (volact_command_find (name), args, host));
}

static char *
reply_error (GVariant *reply)
{
  guint32 code = 0;
  const char *message = "";

  g_variant_lookup (reply, "code", "u", &code);
  g_variant_lookup (reply, "message", "&s", &message);
  return code == 0 ? NULL : g_strdup_printf ("0x%08X %s", code, message);
}

static char *
make_dashboard (VolactWebJob *job)
{
  const char *const *names = volact_records_report_names ();
  VolactDashboardPage page = { 0 };
  GVariant *reports[6] = { 0 };
  char *errors[6] = { 0 };
  char *html;

  page.dli = command (job->host, "dli", NULL);
  page.health = command (job->host, "health", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (reports) && names[i] != NULL; i++) {
    reports[i] = command (job->host, "report", names[i]);
    errors[i] = reply_error (reports[i]);
    if (errors[i] != NULL)
      g_clear_pointer (&reports[i], g_variant_unref);
    page.reports[i] = reports[i];
    page.report_errors[i] = errors[i];
  }
  page.user = job->user;
  page.csrf_token = job->csrf;
  page.now = g_get_real_time () / G_USEC_PER_SEC;
  html = volact_dashboard_render (&page);
  g_variant_unref (page.dli);
  g_variant_unref (page.health);
  for (guint i = 0; i < G_N_ELEMENTS (reports); i++) {
    g_clear_pointer (&reports[i], g_variant_unref);
    g_free (errors[i]);
  }
  return html;
}

/* A remote administration command, through the same table and checks as the admin socket. */
static void
run_command (VolactWebJob *job)
{
  const char *name;
  g_autofree const char **args = NULL;
  g_autoptr (GError) error = NULL;
  const VolactCommand *cmd;

  g_variant_get (job->request, "(&s^a&s)", &name, &args);
  cmd = volact_command_check (name, args ? g_strv_length ((char **) args) : 0, &error);
  if (cmd == NULL) {
    job->status = SOUP_STATUS_BAD_REQUEST;
    job->reply = g_variant_ref_sink (volact_admin_reply_error (error));
    return;
  }
  if (!cmd->read_only && job->role != VOLACT_ROLE_ADMIN) {
    g_set_error (&error, VOLACT_ERROR, VOLACT_E_PERMISSION,
                 "user %s is read-only: %s needs an administrator (volactctl user, docs/web.md)",
                 job->user, cmd->name);
    job->status = SOUP_STATUS_FORBIDDEN;
    job->reply = g_variant_ref_sink (volact_admin_reply_error (error));
    return;
  }
  job->status = SOUP_STATUS_OK;
  job->reply = g_variant_ref_sink (volact_host_command (cmd, args, job->host));
}

static void
work (VolactWebJob *job)
{
  if (job->kind == VOLACT_WEB_JOB_SIGN_IN || job->check_password) {
    job->password_ok = volact_password_check (job->hash, job->password);
    if (!job->password_ok)
      return;
  }
  if (job->kind == VOLACT_WEB_JOB_METRICS)
    job->body = volact_metrics_render (job->host, job->server);
  else if (job->kind == VOLACT_WEB_JOB_DASHBOARD)
    job->body = make_dashboard (job);
  else if (job->kind == VOLACT_WEB_JOB_COMMAND)
    run_command (job);
}

/* Back in the listener's context: the answer, then the job goes. */
static gboolean
finished (gpointer data)
{
  Run *run = data;

  run->done (run->job, run->user_data);
  job_free (run->job);
  g_main_context_unref (run->context);
  g_free (run);
  return G_SOURCE_REMOVE;
}

/* A worker thread of the pool. */
static void
pool_work (gpointer data, gpointer unused)
{
  Run *run = data;

  work (run->job);
  g_main_context_invoke (run->context, finished, run);
}

GThreadPool *
volact_web_jobs_pool_new (guint max, GError **error)
{
  return g_thread_pool_new (pool_work, NULL, (gint) max, TRUE, error);
}

static gboolean
start_work (gpointer data)
{
  Run *run = data;

  /* Never fails for a pool of exclusive threads made at start. */
  g_thread_pool_push (run->pool, run, NULL);
  return G_SOURCE_REMOVE;
}

GSource *
volact_web_job_run (VolactWebJob *job, GThreadPool *pool, guint delay, VolactWebJobDone done,
                    gpointer user_data)
{
  Run *run = g_new0 (Run, 1);

  run->job = job;
  run->pool = pool;
  run->context = g_main_context_ref_thread_default ();
  run->done = done;
  run->user_data = user_data;
  soup_server_message_pause (job->msg);
  if (delay == 0) {
    start_work (run);
    return NULL;
  } else {
    GSource *wait = g_timeout_source_new_seconds (delay);
    g_source_set_callback (wait, start_work, run, NULL);
    g_source_attach (wait, g_main_context_get_thread_default ());
    return wait;
  }
}
