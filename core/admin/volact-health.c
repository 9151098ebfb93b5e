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

/* The guide's four alerts, in order: the names of volact_health_checks. */
enum { CHECK_INIT, CHECK_DNS, CHECK_COUNT, CHECK_ACTIVITY, N_CHECKS };
static const char *const check_names[N_CHECKS]
    = { "initialization", "dns-publishing", "count", "activity" };

typedef struct {
  VolactHealthStatus worst;
  GPtrArray *problems[4];        /* per status, in the order found; owns the texts */
  GPtrArray *by_check[N_CHECKS]; /* the same texts per check */
  VolactHealthStatus check_worst[N_CHECKS];
} Verdict;

static void
add_problem (Verdict *v, guint check, VolactHealthStatus status, char *text)
{
  g_ptr_array_add (v->problems[status], text);
  g_ptr_array_add (v->by_check[check], text);
  v->check_worst[check] = MAX (v->check_worst[check], status);
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
      add_problem (v, CHECK_COUNT, VOLACT_HEALTH_CRITICAL,
                   g_strdup_printf ("%s count %u is below %u", c->application, c->count, o->crit));
    else if (c->count < warn)
      add_problem (v, CHECK_COUNT, VOLACT_HEALTH_WARNING,
                   g_strdup_printf ("%s count %u is below %u", c->application, c->count, warn));
  }
}

/* Runs the four checks into V (made here; verdict_clear frees it) and the perfdata into PERF. */
static void
evaluate (const VolactHealthFacts *f, const VolactHealthOptions *o, Verdict *v, GString *perf)
{
  memset (v, 0, sizeof *v);
  for (guint s = 0; s < G_N_ELEMENTS (v->problems); s++)
    v->problems[s] = g_ptr_array_new_with_free_func (g_free);
  for (guint c = 0; c < N_CHECKS; c++)
    v->by_check[c] = g_ptr_array_new ();
  /* 1. initialization */
  if (!f->activated)
    add_problem (v, CHECK_INIT, VOLACT_HEALTH_CRITICAL,
                 g_strdup_printf ("host not activated: %s", f->not_activated_reason
                                                                ? f->not_activated_reason
                                                                : "unknown reason"));
  if (f->reload_error != NULL)
    add_problem (v, CHECK_INIT, VOLACT_HEALTH_CRITICAL,
                 g_strdup_printf ("the last reload was refused: %s", f->reload_error));
  /* Some files refused, the rest serving: a warning; nothing usable is the reload error above. */
  if (f->license_problems != NULL)
    add_problem (v, CHECK_INIT, VOLACT_HEALTH_WARNING,
                 g_strdup_printf ("license data loaded in part: %s", f->license_problems));
  if (!f->listener_up)
    add_problem (v, CHECK_INIT, VOLACT_HEALTH_CRITICAL, g_strdup ("the client listener is not up"));
  /* Still answering, but the other hosts do not see its machines (docs/store.md). */
  if (f->store_degraded)
    add_problem (v, CHECK_INIT, VOLACT_HEALTH_WARNING,
                 g_strdup ("the shared store cannot take records: answering from the last known "
                           "count plus this host's new machines (event 1040)"));
  /* 2. DNS SRV publishing */
  if (f->dns_error != NULL)
    add_problem (v, CHECK_DNS, VOLACT_HEALTH_WARNING,
                 g_strdup_printf ("DNS SRV publishing is failing: %s", f->dns_error));
  else if (o->dns_hours > 0 && f->dns_failures > 0)
    add_problem (
        v, CHECK_DNS, VOLACT_HEALTH_WARNING,
        g_strdup_printf ("DNS SRV publishing failed %u time%s in the last %u h (event 12293)",
                         f->dns_failures, f->dns_failures == 1 ? "" : "s", o->dns_hours));
  /* 3. counts */
  check_counts (f, o, v, perf);
  /* 4. activity */
  if (o->activity_hours > 0 && f->activity_checked && !f->activity_seen)
    add_problem (v, CHECK_ACTIVITY, VOLACT_HEALTH_WARNING,
                 g_strdup_printf ("no client requests in the last %u h", o->activity_hours));
}

static void
verdict_clear (Verdict *v)
{
  for (guint c = 0; c < N_CHECKS; c++)
    g_ptr_array_unref (v->by_check[c]);
  for (guint s = 0; s < G_N_ELEMENTS (v->problems); s++)
    g_ptr_array_unref (v->problems[s]);
}

VolactHealthStatus
volact_health_evaluate (const VolactHealthFacts *f, const VolactHealthOptions *o, char **summary,
                        char **perfdata)
{
  Verdict v;
  GString *perf = g_string_new (NULL);
  GString *text = g_string_new (NULL);

  evaluate (f, o, &v, perf);

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
  *summary = g_string_free (text, FALSE);
  *perfdata = g_string_free (perf, FALSE);
  verdict_clear (&v);
  return v.worst;
}

/* What a check that found nothing wrong says. */
static char *
check_fine (guint check, const VolactHealthFacts *f, const VolactHealthOptions *o)
{
  GString *s;

  switch (check) {
    case CHECK_INIT:
      return g_strdup ("host activated, license data loaded, client listener up");
    case CHECK_DNS:
      return o->dns_hours > 0
                 ? g_strdup_printf ("no publishing failure in the last %u h", o->dns_hours)
                 : g_strdup ("no publishing failure now");
    case CHECK_COUNT:
      s = g_string_new (NULL);
      for (gsize i = 0; i < f->n_counts; i++)
        g_string_append_printf (s, "%s%s count %u", i ? ", " : "", f->counts[i].application,
                                f->counts[i].count);
      return g_string_free (s->len ? s : g_string_append (s, "no application"), FALSE);
    default:
      if (o->activity_hours == 0)
        return g_strdup ("not checked (--no-activity 0)");
      if (!f->activity_checked)
        return g_strdup ("not decided: the window holds more events than are read");
      return g_strdup_printf ("client requests in the last %u h", o->activity_hours);
  }
}

GVariant *
volact_health_checks (const VolactHealthFacts *f, const VolactHealthOptions *o)
{
  g_autoptr (GString) perf = g_string_new (NULL);
  GVariantBuilder b;
  Verdict v;

  evaluate (f, o, &v, perf);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint c = 0; c < N_CHECKS; c++) {
    g_autofree char *message = NULL;
    GVariantDict d;
    if (v.by_check[c]->len > 0) {
      g_ptr_array_add (v.by_check[c], NULL);
      message = g_strjoinv ("; ", (char **) v.by_check[c]->pdata);
    } else {
      message = check_fine (c, f, o);
    }
    g_variant_dict_init (&d, NULL);
    g_variant_dict_insert (&d, "name", "s", check_names[c]);
    g_variant_dict_insert (&d, "state", "s", volact_health_status_name (v.check_worst[c]));
    g_variant_dict_insert (&d, "message", "s", message);
    g_variant_builder_add_value (&b, g_variant_dict_end (&d));
  }
  verdict_clear (&v);
  return g_variant_builder_end (&b);
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
