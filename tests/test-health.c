/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* volactctl health's verdict (docs/monitoring.md): thresholds, the worst of the
 * checks, the Nagios status line and performance data. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <glib.h>

#include "volact-health.h"

static const VolactHealthCount two_apps[] = { { "kms11", 30, 25 }, { "office", 7, 5 } };

/* A healthy host: activated, listening, busy, both counts at their minimum or above. */
static VolactHealthFacts
healthy (void)
{
  VolactHealthFacts f = { 0 };
  f.activated = TRUE;
  f.listener_up = TRUE;
  f.activity_checked = TRUE;
  f.activity_seen = TRUE;
  f.counts = two_apps;
  f.n_counts = G_N_ELEMENTS (two_apps);
  return f;
}

static VolactHealthOptions
options (const char *const *args)
{
  VolactHealthOptions o;
  g_autoptr (GError) error = NULL;
  assert_true (volact_health_parse_args (args, &o, &error));
  return o;
}

/* Evaluates F with ARGS, checks the status and returns the status line. */
static char *
evaluate (const VolactHealthFacts *f, const char *const *args, VolactHealthStatus expected)
{
  VolactHealthOptions o = options (args);
  g_autofree char *summary = NULL;
  g_autofree char *perf = NULL;
  VolactHealthStatus s = volact_health_evaluate (f, &o, &summary, &perf);
  char *line = volact_health_status_line (s, summary, perf);
  if (s != expected)
    fail_msg ("expected %s, got: %s", volact_health_status_name (expected), line);
  return line;
}

static void
test_ok_line_and_perfdata (void **state)
{
  const char *none[] = { NULL };
  VolactHealthFacts f = healthy ();
  g_autofree char *line = evaluate (&f, none, VOLACT_HEALTH_OK);
  (void) state;
  /* The default warning threshold is each application's highest minimum count, as "N:". */
  assert_string_equal (line, "VOLACT OK - host activated and serving; kms11 count 30, office "
                             "count 7 | count_kms11=30;25:;;0; count_office=7;5:;;0;");
}

static void
test_default_threshold_is_the_minimum (void **state)
{
  const char *none[] = { NULL };
  VolactHealthCount low[] = { { "kms11", 24, 25 } };
  VolactHealthFacts f = healthy ();
  g_autofree char *line = NULL;
  (void) state;
  f.counts = low;
  f.n_counts = 1;
  line = evaluate (&f, none, VOLACT_HEALTH_WARNING);
  assert_non_null (strstr (line, "VOLACT WARNING - kms11 count 24 is below 25 |"));
  low[0].count = 25;
  g_free (line);
  line = evaluate (&f, none, VOLACT_HEALTH_OK);
}

static void
test_w_and_c_override (void **state)
{
  const char *wc[] = { "-w", "40", "-c", "10:", NULL };
  VolactHealthCount c[] = { { "kms11", 30, 25 } };
  VolactHealthFacts f = healthy ();
  g_autofree char *line = NULL;
  (void) state;
  f.counts = c;
  f.n_counts = 1;
  line = evaluate (&f, wc, VOLACT_HEALTH_WARNING);
  assert_non_null (strstr (line, "kms11 count 30 is below 40 | count_kms11=30;40:;10:;0;"));
  g_free (line);
  c[0].count = 9;
  line = evaluate (&f, wc, VOLACT_HEALTH_CRITICAL);
  assert_non_null (strstr (line, "VOLACT CRITICAL - kms11 count 9 is below 10 |"));
  g_free (line);
  /* At the threshold is not below it: 10 is only a warning, 40 is fine. */
  c[0].count = 10;
  line = evaluate (&f, wc, VOLACT_HEALTH_WARNING);
  g_free (line);
  c[0].count = 40;
  line = evaluate (&f, wc, VOLACT_HEALTH_OK);
  g_free (line);
  /* Without -c nothing about the count is critical, not even 0. */
  c[0].count = 0;
  line = evaluate (&f, (const char *[]){ NULL }, VOLACT_HEALTH_WARNING);
}

static void
test_worst_of_and_order (void **state)
{
  const char *none[] = { NULL };
  VolactHealthCount c[] = { { "kms11", 1, 25 } };
  VolactHealthFacts f = healthy ();
  g_autofree char *line = NULL;
  (void) state;
  f.counts = c;
  f.n_counts = 1;
  f.activity_seen = FALSE;
  f.activated = FALSE;
  f.not_activated_reason = "no host key is installed";
  line = evaluate (&f, none, VOLACT_HEALTH_CRITICAL);
  /* The critical problem comes first, then every warning. */
  assert_string_equal (line, "VOLACT CRITICAL - host not activated: no host key is installed; "
                             "kms11 count 1 is below 25; no client requests in the last 24 h | "
                             "count_kms11=1;25:;;0;");
}

static void
test_initialization_failures (void **state)
{
  const char *none[] = { NULL };
  VolactHealthFacts f = healthy ();
  g_autofree char *line = NULL;
  (void) state;
  f.reload_error = "kms12/broken.xrm: not XML";
  line = evaluate (&f, none, VOLACT_HEALTH_CRITICAL);
  assert_non_null (strstr (line, "the last reload was refused: kms12/broken.xrm: not XML"));
  g_free (line);
  f.reload_error = NULL;
  f.listener_up = FALSE;
  line = evaluate (&f, none, VOLACT_HEALTH_CRITICAL);
  assert_non_null (strstr (line, "the client listener is not up"));
}

static void
test_dns_and_activity (void **state)
{
  const char *none[] = { NULL };
  const char *off[] = { "--dns-window", "0", "--no-activity", "0", NULL };
  const char *short_window[] = { "--no-activity", "2", NULL };
  VolactHealthFacts f = healthy ();
  g_autofree char *line = NULL;
  (void) state;
  f.dns_failures = 3;
  f.activity_seen = FALSE;
  line = evaluate (&f, none, VOLACT_HEALTH_WARNING);
  assert_non_null (strstr (line, "DNS SRV publishing failed 3 times in the last 24 h (event 12293)"));
  assert_non_null (strstr (line, "no client requests in the last 24 h"));
  g_free (line);
  line = evaluate (&f, short_window, VOLACT_HEALTH_WARNING);
  assert_non_null (strstr (line, "no client requests in the last 2 h"));
  g_free (line);
  /* 0 turns both checks off. */
  line = evaluate (&f, off, VOLACT_HEALTH_OK);
  g_free (line);
  /* The publisher's current failure is named even without the window. */
  f.dns_error = "_vlmcs._tcp.example.test: REFUSED";
  line = evaluate (&f, off, VOLACT_HEALTH_WARNING);
  assert_non_null (strstr (line, "DNS SRV publishing is failing: _vlmcs._tcp.example.test: REFUSED"));
  g_free (line);
  /* A capped scan that could not decide raises nothing. */
  f.dns_error = NULL;
  f.dns_failures = 0;
  f.activity_checked = FALSE;
  line = evaluate (&f, none, VOLACT_HEALTH_OK);
}

static void
test_labels_and_pipes (void **state)
{
  const char *none[] = { NULL };
  VolactHealthCount c[] = { { "my app", 3, 0 } };
  VolactHealthFacts f = healthy ();
  g_autofree char *line = NULL;
  (void) state;
  f.counts = c;
  f.n_counts = 1;
  f.reload_error = "a|b\nc";
  line = evaluate (&f, none, VOLACT_HEALTH_CRITICAL);
  /* One line, one "|", and a quoted label; no threshold when the minimum is 0. */
  assert_null (strchr (line, '\n'));
  assert_string_equal (line, "VOLACT CRITICAL - the last reload was refused: a/b/c | "
                             "'count_my app'=3;;;0;");
}

/* Check C of volact_health_checks (F, ARGS): its name, state and message. */
static void
assert_check (const VolactHealthFacts *f, const char *const *args, gsize c, const char *name,
              const char *state, const char *message)
{
  VolactHealthOptions o = options (args);
  g_autoptr (GVariant) checks = g_variant_ref_sink (volact_health_checks (f, &o));
  g_autoptr (GVariant) check = NULL;
  const char *got_name = NULL, *got_state = NULL, *got_message = NULL;

  assert_int_equal (g_variant_n_children (checks), 4);
  check = g_variant_get_child_value (checks, c);
  assert_true (g_variant_lookup (check, "name", "&s", &got_name));
  assert_true (g_variant_lookup (check, "state", "&s", &got_state));
  assert_true (g_variant_lookup (check, "message", "&s", &got_message));
  assert_string_equal (got_name, name);
  assert_string_equal (got_state, state);
  assert_string_equal (got_message, message);
}

/* The four checks one by one, as the dashboard and --json show them. */
static void
test_checks_one_by_one (void **state)
{
  const char *none[] = { NULL };
  const char *crit[] = { "-c", "10", "--no-activity", "0", NULL };
  VolactHealthFacts f = healthy ();
  (void) state;
  assert_check (&f, none, 0, "initialization", "OK",
                "host activated, license data loaded, client listener up");
  assert_check (&f, none, 1, "dns-publishing", "OK", "no publishing failure in the last 24 h");
  assert_check (&f, none, 2, "count", "OK", "kms11 count 30, office count 7");
  assert_check (&f, none, 3, "activity", "OK", "client requests in the last 24 h");
  /* Each check carries its own problems and the worst of their states. */
  f.activated = FALSE;
  f.not_activated_reason = "no host key is installed";
  f.listener_up = FALSE;
  f.dns_failures = 1;
  assert_check (&f, none, 0, "initialization", "CRITICAL",
                "host not activated: no host key is installed; the client listener is not up");
  assert_check (&f, none, 1, "dns-publishing", "WARNING",
                "DNS SRV publishing failed 1 time in the last 24 h (event 12293)");
  assert_check (&f, crit, 2, "count", "CRITICAL", "office count 7 is below 10");
  assert_check (&f, crit, 3, "activity", "OK", "not checked (--no-activity 0)");
}

static void
test_bad_arguments (void **state)
{
  const char *bad[][3] = { { "-w", "many", NULL }, { "-c", NULL, NULL }, { "--frob", NULL, NULL },
                           { "--no-activity", "5:", NULL } };
  (void) state;
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
    VolactHealthOptions o;
    g_autoptr (GError) error = NULL;
    assert_false (volact_health_parse_args (bad[i], &o, &error));
    assert_non_null (error);
    assert_non_null (strstr (error->message, bad[i][0]));
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_ok_line_and_perfdata),
    cmocka_unit_test (test_default_threshold_is_the_minimum),
    cmocka_unit_test (test_w_and_c_override),
    cmocka_unit_test (test_worst_of_and_order),
    cmocka_unit_test (test_initialization_failures),
    cmocka_unit_test (test_dns_and_activity),
    cmocka_unit_test (test_labels_and_pipes),
    cmocka_unit_test (test_checks_one_by_one),
    cmocka_unit_test (test_bad_arguments),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
