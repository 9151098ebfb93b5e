/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The thresholds and the status of `volactctl health` (docs/monitoring.md). */
#include "config.h"

#include "volact-health.h"

#include "volact-error.h"

#include <string.h>

static const char *const status_names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

const char *
volact_health_status_name (VolactHealthStatus status)
{
  return (guint) status < G_N_ELEMENTS (status_names) ? status_names[status] : "UNKNOWN";
}

/* A count threshold: N, or Nagios' "N:" (alert below N), which mean the same here. */
static gboolean
parse_number (const char *opt, const char *text, gboolean range, guint *out, GError **error)
{
  g_autofree char *digits = g_strdup (text ? text : "");
  guint64 v;

  if (range && digits[0] != '\0' && digits[strlen (digits) - 1] == ':')
    digits[strlen (digits) - 1] = '\0';
  if (!g_ascii_string_to_unsigned (digits, 10, 0, G_MAXUINT - 1, &v, NULL)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "%s wants a whole number%s, not \"%s\"",
                 opt, range ? " (or N:)" : "", text ? text : "");
    return FALSE;
  }
  *out = (guint) v;
  return TRUE;
}

gboolean
volact_health_parse_args (const char *const *args, VolactHealthOptions *opts, GError **error)
{
  opts->warn = G_MAXUINT;
  opts->crit = 0;
  opts->activity_hours = 24;
  opts->dns_hours = 24;
  for (guint i = 0; args[i] != NULL; i++) {
    const char *a = args[i];
    const char *v = args[i + 1];
    gboolean ok;
    if (g_str_equal (a, "-w") || g_str_equal (a, "--warning"))
      ok = parse_number (a, v, TRUE, &opts->warn, error);
    else if (g_str_equal (a, "-c") || g_str_equal (a, "--critical"))
      ok = parse_number (a, v, TRUE, &opts->crit, error);
    else if (g_str_equal (a, "--no-activity"))
      ok = parse_number (a, v, FALSE, &opts->activity_hours, error);
    else if (g_str_equal (a, "--dns-window"))
      ok = parse_number (a, v, FALSE, &opts->dns_hours, error);
    else {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED,
                   "usage: health [-w COUNT] [-c COUNT] [--no-activity HOURS] "
                   "[--dns-window HOURS] (unknown argument \"%s\")",
                   a);
      return FALSE;
    }
    if (!ok)
      return FALSE;
    i++;
  }
  return TRUE;
}

typedef struct {
  VolactHealthStatus worst;
  GPtrArray *problems[4]; /* per status, in the order found */
} Verdict;

static void
add_problem (Verdict *v, VolactHealthStatus status, char *text)
{
  g_ptr_array_add (v->problems[status], text);
  if (status > v->worst)
    v->worst = status;
}

/* Perfdata labels with spaces, '=' or quotes are quoted (Nagios plugin guidelines). */
static void
append_label (GString *out, const char *application)
{
  if (strpbrk (application, " ='") == NULL) {
    g_string_append_printf (out, "count_%s", application);
    return;
  }
  g_string_append (out, "'count_");
  for (const char *p = application; *p; p++)
    g_string_append_c (out, *p == '\'' ? '_' : *p);
  g_string_append_c (out, '\'');
}

static void
check_counts (const VolactHealthFacts *f, const VolactHealthOptions *o, Verdict *v,
              GString *perf)
{
  for (gsize i = 0; i < f->n_counts; i++) {
    const VolactHealthCount *c = &f->counts[i];
    guint warn = o->warn == G_MAXUINT ? c->minimum : o->warn;
    if (perf->len > 0)
      g_string_append_c (perf, ' ');
    append_label (perf, c->application);
    g_string_append_printf (perf, "=%u;", c->count);
    if (warn > 0)
      g_string_append_printf (perf, "%u:", warn);
    g_string_append_c (perf, ';');
    if (o->crit > 0)
      g_string_append_printf (perf, "%u:", o->crit);
    g_string_append (perf, ";0;");
    if (c->count < o->crit)
      add_problem (v, VOLACT_HEALTH_CRITICAL,
             g_strdup_printf ("%s count %u is below %u", c->application, c->count, o->crit));
    else if (c->count < warn)
      add_problem (v, VOLACT_HEALTH_WARNING,
             g_strdup_printf ("%s count %u is below %u", c->application, c->count, warn));
  }
}

VolactHealthStatus
volact_health_evaluate (const VolactHealthFacts *f, const VolactHealthOptions *o, char **summary,
                        char **perfdata)
{
  Verdict v = { VOLACT_HEALTH_OK, { NULL } };
  GString *perf = g_string_new (NULL);
  GString *text = g_string_new (NULL);

  for (guint s = 0; s < G_N_ELEMENTS (v.problems); s++)
    v.problems[s] = g_ptr_array_new_with_free_func (g_free);
  /* 1. initialization */
  if (!f->activated)
    add_problem (&v, VOLACT_HEALTH_CRITICAL,
           g_strdup_printf ("host not activated: %s",
                            f->not_activated_reason ? f->not_activated_reason : "unknown reason"));
  if (f->reload_error != NULL)
    add_problem (&v, VOLACT_HEALTH_CRITICAL,
           g_strdup_printf ("the last reload was refused: %s", f->reload_error));
  if (!f->listener_up)
    add_problem (&v, VOLACT_HEALTH_CRITICAL, g_strdup ("the client listener is not up"));
  /* 2. DNS SRV publishing */
  if (f->dns_error != NULL)
    add_problem (&v, VOLACT_HEALTH_WARNING,
           g_strdup_printf ("DNS SRV publishing is failing: %s", f->dns_error));
  else if (o->dns_hours > 0 && f->dns_failures > 0)
    add_problem (&v, VOLACT_HEALTH_WARNING,
           g_strdup_printf ("DNS SRV publishing failed %u time%s in the last %u h (event 12293)",
                            f->dns_failures, f->dns_failures == 1 ? "" : "s", o->dns_hours));
  /* 3. counts */
  check_counts (f, o, &v, perf);
  /* 4. activity */
  if (o->activity_hours > 0 && f->activity_checked && !f->activity_seen)
    add_problem (&v, VOLACT_HEALTH_WARNING,
           g_strdup_printf ("no client requests in the last %u h", o->activity_hours));

  for (int s = VOLACT_HEALTH_UNKNOWN; s >= VOLACT_HEALTH_WARNING; s--)
    for (guint i = 0; i < v.problems[s]->len; i++)
      g_string_append_printf (text, "%s%s", text->len ? "; " : "",
                              (char *) v.problems[s]->pdata[i]);
  if (text->len == 0) {
    g_string_append (text, "host activated and serving");
    for (gsize i = 0; i < f->n_counts; i++)
      g_string_append_printf (text, "%s %s count %u", i ? "," : ";", f->counts[i].application,
                              f->counts[i].count);
  }
  for (guint s = 0; s < G_N_ELEMENTS (v.problems); s++)
    g_ptr_array_unref (v.problems[s]);
  *summary = g_string_free (text, FALSE);
  *perfdata = g_string_free (perf, FALSE);
  return v.worst;
}

char *
volact_health_status_line (VolactHealthStatus status, const char *summary, const char *perfdata)
{
  /* '|' separates the perfdata: never let it into the summary. */
  g_autofree char *clean = g_strdelimit (g_strdup (summary), "|\n", '/');
  if (perfdata == NULL || *perfdata == '\0')
    return g_strdup_printf ("VOLACT %s - %s", volact_health_status_name (status), clean);
  return g_strdup_printf ("VOLACT %s - %s | %s", volact_health_status_name (status), clean,
                          perfdata);
}
