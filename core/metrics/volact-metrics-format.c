/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Metrics, the pure half: a snapshot to the Prometheus text exposition
 * format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
 * Every family gets HELP and TYPE even when it has no sample, so a scrape
 * always documents what it could hold; label values are escaped (backslash,
 * double quote, newline), as the format requires.
 */
#include "config.h"

#include "volact-metrics.h"

#include <stdarg.h>

static const char *const state_labels[VOLACT_RECORDS_N_STATES] = {
  "oob_grace", "licensed", "oot_grace", "non_genuine_grace", "notification", "unlicensed",
};

static void
family (GString *out, const char *name, const char *type, const char *help)
{
  /* HELP texts are ours: no backslash or newline to escape. */
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
append_label_value (GString *out, const char *value)
{
  for (const char *p = value; *p != '\0'; p++) {
    if (*p == '\\')
      g_string_append (out, "\\\\");
    else if (*p == '"')
      g_string_append (out, "\\\"");
    else if (*p == '\n')
      g_string_append (out, "\\n");
    else
      g_string_append_c (out, *p);
  }
}

/* NAME{KEY="VALUE",...} : the label pairs as varargs, NULL-terminated. */
static void
series (GString *out, const char *name, va_list ap)
{
  const char *key;
  gboolean first = TRUE;

  g_string_append (out, name);
  while ((key = va_arg (ap, const char *)) != NULL) {
    g_string_append (out, first ? "{" : ",");
    g_string_append_printf (out, "%s=\"", key);
    append_label_value (out, va_arg (ap, const char *));
    g_string_append_c (out, '"');
    first = FALSE;
  }
  if (!first)
    g_string_append_c (out, '}');
}

/* One sample with an integer value; labels as in series(). */
static void
sample (GString *out, const char *name, guint64 value, ...)
{
  va_list ap;

  va_start (ap, value);
  series (out, name, ap);
  va_end (ap);
  g_string_append_printf (out, " %" G_GUINT64_FORMAT "\n", value);
}

/* VALUE as text, locale-independent: the shortest of 15 or 17 digits that reads back exactly. */
static const char *
number (char text[G_ASCII_DTOSTR_BUF_SIZE], double value)
{
  g_ascii_formatd (text, G_ASCII_DTOSTR_BUF_SIZE, "%.15g", value);
  if (g_ascii_strtod (text, NULL) != value)
    g_ascii_formatd (text, G_ASCII_DTOSTR_BUF_SIZE, "%.17g", value);
  return text;
}

/* One sample with a floating-point value. */
static void
sample_double (GString *out, const char *name, double value, ...)
{
  char text[G_ASCII_DTOSTR_BUF_SIZE];
  va_list ap;

  va_start (ap, value);
  series (out, name, ap);
  va_end (ap);
  g_string_append_printf (out, " %s\n", number (text, value));
}

/* A family of one unlabelled sample. */
static void
single (GString *out, const char *name, const char *type, const char *help, guint64 value)
{
  family (out, name, type, help);
  sample (out, name, value, NULL);
}

static void
format_host (GString *out, const VolactMetricsSnapshot *snap)
{
  family (out, "volact_build_info", "gauge", "The running volactd's version (always 1).");
  sample (out, "volact_build_info", 1, "version", snap->version ? snap->version : "", NULL);
  family (out, "volact_start_time_seconds", "gauge", "When volactd started, in unix seconds.");
  if (snap->start_time > 0)
    sample (out, "volact_start_time_seconds", (guint64) snap->start_time, NULL);
  single (out, "volact_host_activated", "gauge",
          "1 when the host is activated and serves clients, else 0.", snap->activated ? 1 : 0);

  family (out, "volact_application_counted_machines", "gauge",
          "The application's current count: distinct client machines counted within its "
          "retention period.");
  for (guint i = 0; i < snap->applications->len; i++) {
    const VolactMetricsApplication *a
        = &g_array_index (snap->applications, VolactMetricsApplication, i);
    sample (out, "volact_application_counted_machines", a->count, "application", a->application,
            NULL);
  }
  family (out, "volact_edition_minimum_machines", "gauge",
          "The count the edition's application must reach before the edition activates.");
  for (guint i = 0; i < snap->editions->len; i++) {
    const VolactMetricsEdition *e = &g_array_index (snap->editions, VolactMetricsEdition, i);
    sample (out, "volact_edition_minimum_machines", e->minimum, "application", e->application,
            "edition", e->edition, NULL);
  }
  family (out, "volact_edition_active", "gauge",
          "1 when the application's count reaches the edition's minimum, else 0.");
  for (guint i = 0; i < snap->editions->len; i++) {
    const VolactMetricsEdition *e = &g_array_index (snap->editions, VolactMetricsEdition, i);
    sample (out, "volact_edition_active", e->active ? 1 : 0, "application", e->application,
            "edition", e->edition, NULL);
  }
}

static void
format_server (GString *out, const VolactMetricsSnapshot *snap)
{
  const VolactServerStats *s = &snap->server;

  family (out, "volact_requests_total", "counter",
          "Client requests answered, by edition (\"\" when unknown to the catalog) and result "
          "code.");
  for (guint i = 0; i < snap->requests->len; i++) {
    const VolactMetricsRequests *r = &g_array_index (snap->requests, VolactMetricsRequests, i);
    char code[11];
    g_snprintf (code, sizeof code, "0x%08X", r->result);
    sample (out, "volact_requests_total", r->count, "edition", r->edition, "result", code, NULL);
  }
  if (!snap->have_server)
    return;
  single (out, "volact_connections_open", "gauge", "Client connections open now.", s->connections);
  single (out, "volact_connections_accepted_total", "counter", "Client connections accepted.",
          s->accepted);
  single (out, "volact_connections_refused_total", "counter",
          "Client connections closed at once because max-connections was reached.", s->refused);
  single (out, "volact_connections_timed_out_total", "counter",
          "Client connections closed as slow or idle.", s->timeouts);
  single (out, "volact_connections_malformed_total", "counter",
          "Client connections closed for input that is not a valid request.", s->malformed);
  single (out, "volact_responses_pending", "gauge",
          "Signed responses waiting for their record to be committed.", s->pending);
  family (out, "volact_responses_total", "counter",
          "Responses sent, signed (an answer) or error (unsigned: not activated, busy, "
          "malformed).");
  sample (out, "volact_responses_total", s->signed_responses, "type", "signed", NULL);
  sample (out, "volact_responses_total", s->error_responses, "type", "error", NULL);
  single (out, "volact_late_busy_responses_total", "counter",
          "HOST_BUSY sent in place of a decided answer: its record was not committed in time, or "
          "signing failed.",
          s->busy_responses);
  /* Per-source limits (docs/limits.md). */
  single (out, "volact_limit_sources", "gauge",
          "Client sources (IPv4 addresses, IPv6 /64s) the per-source limits track now.",
          s->sources);
  single (out, "volact_limited_sources_total", "counter",
          "Times a client source became limited (rate, connections or new machine IDs).",
          s->limited_sources);
  single (out, "volact_rate_limited_requests_total", "counter",
          "Client requests answered HOST_BUSY by the per-source rate limit.", s->rate_limited);
  single (out, "volact_connections_source_refused_total", "counter",
          "Client connections closed at once because max-connections-per-source was reached.",
          s->source_refused);
  single (out, "volact_connections_idle_closed_total", "counter",
          "Idle client connections closed to make room for a new one at max-connections.",
          s->idle_closed);
  single (out, "volact_new_cmid_limited_requests_total", "counter",
          "Client requests refused with NEW_CMID_LIMIT by the per-source new machine ID quota.",
          s->new_cmid_limited);
}

static void
format_records (GString *out, const VolactMetricsSnapshot *snap)
{
  const VolactRecordsStats *r = &snap->records;
  guint64 cumulative = 0;

  if (!snap->have_records)
    return;
  family (out, "volact_machines", "gauge",
          "Client machines by the license state of their latest request (the "
          "licensing-status-summary report).");
  for (guint i = 0; i < VOLACT_RECORDS_N_STATES; i++)
    sample (out, "volact_machines", r->machines[i], "state", state_labels[i], NULL);
  single (out, "volact_records_queue_rows", "gauge",
          "Record rows queued or being written, not yet durable in the journal.", r->queued);
  single (out, "volact_records_busy_refusals_total", "counter",
          "Requests refused with HOST_BUSY because the records queue was full.", r->busy_refusals);
  single (out, "volact_records_writer_failing", "gauge",
          "1 while the records writer's last journal write or database transaction failed "
          "and it is retrying, else 0.",
          r->writer_failing ? 1 : 0);
  single (out, "volact_records_commit_failures_total", "counter",
          "Failed attempts to write a journal group or a database transaction.", r->commit_failures);

  family (out, "volact_records_commit_duration_seconds", "histogram",
          "Time to make each group of records durable (journal write and fdatasync).");
  for (guint i = 0; i < VOLACT_RECORDS_COMMIT_BUCKETS; i++) {
    char le[G_ASCII_DTOSTR_BUF_SIZE];
    cumulative += r->commit_buckets[i];
    sample (out, "volact_records_commit_duration_seconds_bucket", cumulative, "le",
            number (le, volact_records_commit_bounds[i]), NULL);
  }
  sample (out, "volact_records_commit_duration_seconds_bucket", r->commits, "le", "+Inf", NULL);
  sample_double (out, "volact_records_commit_duration_seconds_sum", r->commit_seconds, NULL);
  sample (out, "volact_records_commit_duration_seconds_count", r->commits, NULL);
}

static void
format_dns (GString *out, const VolactMetricsSnapshot *snap)
{
  if (snap->zones->len == 0)
    return; /* DNS publishing not configured (or not attempted yet) */
  family (out, "volact_dns_publish_success", "gauge",
          "1 when the last DNS SRV update of the zone succeeded, else 0.");
  for (guint i = 0; i < snap->zones->len; i++) {
    const VolactMetricsZone *z = &g_array_index (snap->zones, VolactMetricsZone, i);
    sample (out, "volact_dns_publish_success", z->success ? 1 : 0, "zone", z->zone, NULL);
  }
  family (out, "volact_dns_publish_last_attempt_timestamp_seconds", "gauge",
          "When the last DNS SRV update of the zone finished, in unix seconds.");
  for (guint i = 0; i < snap->zones->len; i++) {
    const VolactMetricsZone *z = &g_array_index (snap->zones, VolactMetricsZone, i);
    sample (out, "volact_dns_publish_last_attempt_timestamp_seconds", (guint64) MAX (z->time, 0),
            "zone", z->zone, NULL);
  }
}

char *
volact_metrics_format (const VolactMetricsSnapshot *snap)
{
  GString *out = g_string_sized_new (4096);

  g_return_val_if_fail (snap != NULL, NULL);
  format_host (out, snap);
  format_server (out, snap);
  format_records (out, snap);
  format_dns (out, snap);
  return g_string_free (out, FALSE);
}
