/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The publishing schedule: one update at a time in a GTask thread, the next
 * one chosen on the main context when it reports back. */
#include "config.h"

#include "volact-dns-publisher.h"

#include "volact-dns-publish.h"
#include "volact-error.h"
#include "volact-host-private.h"

#include <gio/gio.h>

typedef enum { ACTION_NONE, ACTION_PUBLISH, ACTION_REMOVE } Action;

/* The last result in one zone, for dli. */
typedef struct {
  char *zone;
  char *result; /* "published", "removed", "failed", or NULL before the first attempt */
  char *server;
  gint64 time;
  int rcode;
  char *rcode_name;
  char *error;
} ZoneStatus;

struct _VolactDnsPublisher {
  gint refcount;
  GMutex lock;      /* guards everything below */
  VolactHost *host; /* NULL once stopped: results then report nowhere */
  GMainContext *context;
  char **zones;
  char *server;
  char *target; /* "" until the worker found the FQDN */
  VolactTsigKey key;
  guint port, priority, weight, ttl;
  gboolean enabled;   /* the sdns/cdns setting */
  gboolean activated; /* the host serves clients: only then is it worth finding */
  Action want; /* what the next run does */
  gboolean running, again;
  GSource *timer;
  guint backoff_s; /* 0 after a success */
  gint64 retry_at;
  GPtrArray *status; /* ZoneStatus, one per zone in order */
};

/* One run: a snapshot of what to do, and what happened, per zone. */
typedef struct {
  VolactDnsPublisher *pub;
  Action action;
  char **zones, *server, *target;
  VolactTsigKey key;
  guint port, priority, weight, ttl;
  VolactDnsOutcome *outcomes;
  char **errors; /* NULL where the zone succeeded */
} Job;

static void start_run (VolactDnsPublisher *pub);

static void
zone_status_free (gpointer p)
{
  ZoneStatus *z = p;
  g_free (z->zone);
  g_free (z->result);
  g_free (z->server);
  g_free (z->rcode_name);
  g_free (z->error);
  g_free (z);
}

static void
publisher_unref (VolactDnsPublisher *pub)
{
  if (!g_atomic_int_dec_and_test (&pub->refcount))
    return;
  g_strfreev (pub->zones);
  g_free (pub->server);
  g_free (pub->target);
  volact_tsig_key_clear (&pub->key);
  g_ptr_array_unref (pub->status);
  g_main_context_unref (pub->context);
  g_mutex_clear (&pub->lock);
  g_free (pub);
}

static void
job_free (gpointer p)
{
  Job *job = p;
  for (guint i = 0; job->zones[i]; i++)
    volact_dns_outcome_clear (&job->outcomes[i]);
  g_free (job->outcomes);
  g_strfreev (job->errors);
  g_strfreev (job->zones);
  g_free (job->server);
  g_free (job->target);
  volact_tsig_key_clear (&job->key);
  publisher_unref (job->pub);
  g_free (job);
}

/* In the worker thread: the blocking updates, zone by zone. */
static void
run_job (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Job *job = data;

  if (*job->target == '\0') {
    g_free (job->target);
    job->target = volact_dns_host_fqdn ();
  }
  for (guint i = 0; job->zones[i]; i++) {
    g_autoptr (GError) error = NULL;
    VolactDnsRecord r = {
      .zone = job->zones[i],
      .server = job->server,
      .key = &job->key,
      .target = job->target,
      .port = job->port,
      .priority = job->priority,
      .weight = job->weight,
      .ttl = job->ttl,
      .timeout_s = 3,
    };
    if (!volact_dns_publish (&r, job->action == ACTION_REMOVE, &job->outcomes[i], &error))
      job->errors[i] = g_strdup (error->message);
  }
  g_task_return_boolean (task, TRUE);
}

/* Runs the wanted action after SECONDS (0: as soon as the main context is free). Lock held. */
static gboolean on_timer (gpointer data);

static void
schedule (VolactDnsPublisher *pub, guint seconds)
{
  if (pub->timer != NULL) {
    g_source_destroy (pub->timer);
    g_source_unref (pub->timer);
  }
  pub->timer = seconds ? g_timeout_source_new_seconds (seconds) : g_idle_source_new ();
  g_source_set_callback (pub->timer, on_timer, pub, NULL);
  g_source_attach (pub->timer, pub->context);
}

static gboolean
on_timer (gpointer data)
{
  VolactDnsPublisher *pub = data;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&pub->lock);

  g_clear_pointer (&pub->timer, g_source_unref);
  start_run (pub);
  return G_SOURCE_REMOVE;
}

/* Records what the run found; returns the failures' texts for event 12293. Lock held. */
static GPtrArray *
record_results (VolactDnsPublisher *pub, Job *job)
{
  GPtrArray *failures = g_ptr_array_new_with_free_func (g_free);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (*pub->target == '\0') {
    g_free (pub->target);
    pub->target = g_strdup (job->target);
  }
  for (guint i = 0; job->zones[i]; i++) {
    ZoneStatus *z = pub->status->pdata[i];
    VolactDnsOutcome *o = &job->outcomes[i];
    g_free (z->result);
    g_free (z->server);
    g_free (z->rcode_name);
    g_clear_pointer (&z->error, g_free);
    z->result = g_strdup (job->errors[i]                 ? "failed"
                          : job->action == ACTION_REMOVE ? "removed"
                                                         : "published");
    z->server = g_strdup (o->server);
    z->time = now;
    z->rcode = o->rcode;
    z->rcode_name = g_strdup (o->rcode_name);
    if (job->errors[i] != NULL) {
      z->error = g_strdup (job->errors[i]);
      g_ptr_array_add (failures,
                       g_strdup_printf ("%s %s.%s failed: %s: %s",
                                        job->action == ACTION_REMOVE ? "removing" : "publishing",
                                        VOLACT_DNS_SRV_LABEL, z->zone,
                                        o->rcode_name ? o->rcode_name : "ERROR", job->errors[i]));
    }
  }
  return failures;
}

/* On the main context, when a run has finished: record, report, and plan the next one. */
static void
on_done (GObject *source, GAsyncResult *res, gpointer data)
{
  Job *job = g_task_get_task_data (G_TASK (res));
  VolactDnsPublisher *pub = job->pub;
  g_autoptr (GPtrArray) failures = NULL;
  VolactHost *host;
  guint retry = 0;

  g_mutex_lock (&pub->lock);
  pub->running = FALSE;
  host = pub->host;
  if (host == NULL) {
    g_mutex_unlock (&pub->lock);
    return;
  }
  failures = record_results (pub, job);
  if (pub->again) {
    pub->again = FALSE;
    schedule (pub, 0);
  } else if (failures->len > 0) {
    pub->backoff_s = pub->backoff_s ? MIN (pub->backoff_s * 2, VOLACT_DNS_RETRY_MAX_S)
                                    : VOLACT_DNS_RETRY_MIN_S;
    retry = pub->backoff_s;
    pub->retry_at = g_get_real_time () / G_USEC_PER_SEC + retry;
    schedule (pub, retry);
  } else {
    pub->backoff_s = 0;
    pub->retry_at = 0;
    if (job->action == ACTION_PUBLISH)
      schedule (pub, VOLACT_DNS_REFRESH_S);
  }
  g_mutex_unlock (&pub->lock);
  /* Events outside the lock: the event log may take its time. */
  for (guint i = 0; i < failures->len; i++)
    volact_host_event (host, VOLACT_EVENT_DNS_PUBLISH_FAILED, "DNS %s; %s",
                       (char *) failures->pdata[i],
                       retry ? "retrying with backoff" : "a newer request follows");
  for (guint i = 0; job->zones[i]; i++)
    if (job->errors[i] == NULL)
      g_message ("DNS: %s %s.%s %s %s", job->action == ACTION_REMOVE ? "removed" : "published",
                 VOLACT_DNS_SRV_LABEL, job->zones[i], job->action == ACTION_REMOVE ? "from" : "to",
                 job->outcomes[i].server);
}

/* Starts the wanted action in a worker thread, unless one is running. Lock held. */
static void
start_run (VolactDnsPublisher *pub)
{
  g_autoptr (GTask) task = NULL;
  guint n = g_strv_length (pub->zones);
  Job *job;

  if (pub->want == ACTION_NONE || n == 0 || pub->host == NULL)
    return;
  if (pub->running) {
    pub->again = TRUE;
    return;
  }
  job = g_new0 (Job, 1);
  job->pub = pub;
  g_atomic_int_inc (&pub->refcount);
  job->action = pub->want;
  job->zones = g_strdupv (pub->zones);
  job->server = g_strdup (pub->server);
  job->target = g_strdup (pub->target);
  job->key.name = g_strdup (pub->key.name);
  job->key.algorithm = g_strdup (pub->key.algorithm);
  job->key.secret = g_strdup (pub->key.secret);
  job->port = pub->port;
  job->priority = pub->priority;
  job->weight = pub->weight;
  job->ttl = pub->ttl;
  job->outcomes = g_new0 (VolactDnsOutcome, n + 1);
  job->errors = g_new0 (char *, n + 1);
  pub->running = TRUE;
  task = g_task_new (NULL, NULL, on_done, NULL);
  g_task_set_task_data (task, job, job_free);
  g_task_set_name (task, "volact DNS update");
  g_task_run_in_thread (task, run_job);
}

/* Wants ACTION as soon as possible, replacing any planned retry or refresh. Lock held. */
static void
request (VolactDnsPublisher *pub, Action action)
{
  pub->want = action;
  pub->backoff_s = 0;
  pub->retry_at = 0;
  if (pub->running)
    pub->again = TRUE;
  else
    schedule (pub, 0);
}

VolactDnsPublisher *
volact_dns_publisher_start (VolactHost *host, guint port, GError **error)
{
  const VolactConfig *cfg = volact_host_config (host);
  VolactDnsPublisher *pub;
  const char *file = cfg->file ? cfg->file : "(built-in configuration)";

  if (cfg->dns_zones[0] != NULL && cfg->dns_tsig_key == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "%s: [host] dns-zones is set but dns-tsig-key is not: updates are signed with "
                 "a TSIG key (docs/dns.md)",
                 file);
    return NULL;
  }
  if (*cfg->dns_server != '\0') {
    g_autoptr (GSocketConnectable) na = g_network_address_parse (cfg->dns_server, 53, error);
    if (na == NULL) {
      g_prefix_error (error, "%s: [host] dns-server: \"%s\" is not ADDR[:PORT]: ", file,
                      cfg->dns_server);
      return NULL;
    }
  }
  pub = g_new0 (VolactDnsPublisher, 1);
  pub->refcount = 1;
  g_mutex_init (&pub->lock);
  pub->status = g_ptr_array_new_with_free_func (zone_status_free);
  pub->context = g_main_context_ref_thread_default ();
  if (cfg->dns_tsig_key != NULL && !volact_tsig_key_load (cfg->dns_tsig_key, &pub->key, error)) {
    g_prefix_error (error, "%s: [host] dns-tsig-key: ", file);
    publisher_unref (pub);
    return NULL;
  }
  pub->zones = g_strdupv (cfg->dns_zones);
  for (guint i = 0; pub->zones[i]; i++) {
    ZoneStatus *z = g_new0 (ZoneStatus, 1);
    z->zone = g_strdup (pub->zones[i]);
    z->rcode = -1;
    g_ptr_array_add (pub->status, z);
  }
  pub->server = g_strdup (cfg->dns_server);
  pub->target = g_strdup (cfg->dns_target);
  pub->port = port;
  pub->priority = cfg->dns_priority;
  pub->weight = cfg->dns_weight;
  pub->ttl = cfg->dns_ttl;
  pub->host = host;
  g_mutex_lock (&host->lock);
  host->dns = pub;
  pub->enabled = host->state->dns_publishing;
  pub->activated = host->state->certificate != NULL;
  g_mutex_unlock (&host->lock);
  g_mutex_lock (&pub->lock);
  if (pub->enabled && pub->activated)
    request (pub, ACTION_PUBLISH);
  g_mutex_unlock (&pub->lock);
  return pub;
}

void
volact_dns_publisher_stop (VolactDnsPublisher *pub)
{
  if (pub == NULL)
    return;
  g_mutex_lock (&pub->host->lock);
  pub->host->dns = NULL;
  g_mutex_unlock (&pub->host->lock);
  g_mutex_lock (&pub->lock);
  pub->host = NULL;
  if (pub->timer != NULL) {
    g_source_destroy (pub->timer);
    g_clear_pointer (&pub->timer, g_source_unref);
  }
  g_mutex_unlock (&pub->lock);
  /* An update in flight finishes (bounded by the resolver's timeout) and its result is
   * dropped: nothing is left half-sent or leaked at exit. */
  for (;;) {
    gboolean running;
    g_mutex_lock (&pub->lock);
    running = pub->running;
    g_mutex_unlock (&pub->lock);
    if (!running)
      break;
    g_main_context_iteration (pub->context, TRUE);
  }
  publisher_unref (pub);
}

void
volact_dns_publisher_set_enabled (VolactDnsPublisher *pub, gboolean enabled)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&pub->lock);
  pub->enabled = enabled;
  if (!enabled)
    request (pub, ACTION_REMOVE);
  else if (pub->activated)
    request (pub, ACTION_PUBLISH);
}

void
volact_dns_publisher_set_activated (VolactDnsPublisher *pub, gboolean activated)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&pub->lock);
  if (pub->activated == activated)
    return;
  pub->activated = activated;
  /* A host that cannot serve would only hold its clients: out of DNS until it can. */
  if (pub->enabled)
    request (pub, activated ? ACTION_PUBLISH : ACTION_REMOVE);
}

gboolean
volact_dns_publisher_waits_for_activation (VolactDnsPublisher *pub)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&pub->lock);
  return pub->enabled && !pub->activated;
}

gboolean
volact_dns_publisher_unpublish (VolactDnsPublisher *pub, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&pub->lock);
  if (pub->zones[0] == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "no dns-zones are configured, so there is no record to remove (docs/dns.md)");
    return FALSE;
  }
  request (pub, ACTION_REMOVE);
  return TRUE;
}

GVariant *
volact_dns_publisher_status (VolactDnsPublisher *pub)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&pub->lock);
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < pub->status->len; i++) {
    ZoneStatus *z = pub->status->pdata[i];
    g_autofree char *record = g_strdup_printf ("%s.%s", VOLACT_DNS_SRV_LABEL, z->zone);
    GVariantDict d;
    g_variant_dict_init (&d, NULL);
    g_variant_dict_insert (&d, "zone", "s", z->zone);
    g_variant_dict_insert (&d, "record", "s", record);
    g_variant_dict_insert (&d, "result", "s",
                           pub->running                         ? "pending"
                           : pub->enabled && !pub->activated && (z->result == NULL
                                                                 || !g_str_equal (z->result,
                                                                                  "failed"))
                               ? "waiting"
                           : z->result ? z->result
                                       : "pending");
    if (z->result != NULL) {
      g_variant_dict_insert (&d, "last_result", "s", z->result);
      g_variant_dict_insert (&d, "time", "x", z->time);
      if (z->server != NULL)
        g_variant_dict_insert (&d, "server", "s", z->server);
    }
    if (z->error != NULL) {
      g_variant_dict_insert (&d, "rcode", "i", z->rcode);
      g_variant_dict_insert (&d, "rcode_name", "s", z->rcode_name ? z->rcode_name : "");
      g_variant_dict_insert (&d, "error", "s", z->error);
      if (pub->retry_at > 0)
        g_variant_dict_insert (&d, "retry_at", "x", pub->retry_at);
    }
    g_variant_builder_add_value (&b, g_variant_dict_end (&d));
  }
  return g_variant_builder_end (&b);
}
