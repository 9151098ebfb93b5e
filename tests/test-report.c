/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The six activity reports (docs/reports.md) over a store filled with known requests. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "testutil.h"
#include "volact-error.h"
#include "volact-records.h"

#define DAY 86400
#define HOUR 3600
#define ED_A "server2008-standard"
#define ED_B "vista-enterprise"

typedef struct {
  char *dir;
  VolactRecords *records;
  gint64 until; /* the reports' "now": yesterday at noon UTC */
} Fixture;

/* One request: CMID N of EDITION at T, its reported state and minutes left; SUCCESS picks a
 * minimum count of 1 (activated) or one never reached (refused with "count too low"). */
static void
visit (Fixture *fx, guint n, const char *edition, gint64 t, gboolean vm, guint8 state,
       guint32 minutes_left, gboolean success)
{
  guint8 cmid[16] = { 0x5A, 0x01, 0x02, 0x03, 0x04, 0x05, 0x46, 0x07,
                      0x88, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, (guint8) n };
  g_autofree char *name = g_strdup_printf ("pc%u.corp.example.com", n);
  VolactVisit v = {
    .time = t, .pool = "reference-pool", .cmid = cmid, .name = name, .edition = edition,
    .address = "192.0.2.10", .virtual_machine = vm, .counts = TRUE, .state = state,
    .minutes_left = minutes_left, .retention_days = 30, .minimum_count = success ? 1 : 1000,
  };
  guint32 result = 1;
  guint64 ticket = 0;

  volact_records_count (fx->records, &v, &result, &ticket);
  assert_true (ticket > 0);
  assert_int_equal (result == 0, success);
}

/* The fleet every test reads (U = until):
 *   1  A physical  activated U-10d, renewed U-1h, licensed
 *   2  A virtual   activated U-2h, OOB grace, expires U+3d-1h
 *   3  B physical  refused U-3h, OOT grace, expires U+10d
 *   4  B physical  activated U-20d, notification */
static int
setup (void **state)
{
  Fixture *fx = g_new0 (Fixture, 1);
  g_autoptr (GError) error = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 u;

  fx->dir = test_tmpdir ();
  fx->records = volact_records_open (fx->dir, 0, &error);
  if (fx->records == NULL) {
    print_error ("cannot open the records: %s\n", error->message);
    return -1;
  }
  u = fx->until = now - now % DAY - DAY + 12 * HOUR;
  visit (fx, 4, ED_B, u - 20 * DAY, FALSE, 4, 0, TRUE);
  visit (fx, 1, ED_A, u - 10 * DAY, FALSE, 1, 0, TRUE);
  visit (fx, 3, ED_B, u - 3 * HOUR, FALSE, 2, (10 * DAY + 3 * HOUR) / 60, FALSE);
  visit (fx, 2, ED_A, u - 2 * HOUR, TRUE, 0, (3 * DAY + HOUR) / 60, TRUE);
  visit (fx, 1, ED_A, u - 1 * HOUR, FALSE, 1, 0, TRUE);
  assert_true (volact_records_flush (fx->records, 30000));
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *fx = *state;
  volact_records_close (fx->records);
  test_rmtree (fx->dir);
  g_free (fx->dir);
  g_free (fx);
  return 0;
}

/* The report NAME over [SINCE, until); must succeed. */
static GVariant *
report (Fixture *fx, const char *name, gint64 since)
{
  g_autoptr (GError) error = NULL;
  GVariant *t = volact_records_report (fx->records, name, since, fx->until, &error);
  if (t == NULL)
    fail_msg ("%s: %s", name, error->message);
  return g_variant_ref_sink (t);
}

/* The rows of T as text, one line each, cells joined by spaces: easy to compare. */
static char *
rows_text (GVariant *t)
{
  g_autoptr (GVariant) rows = g_variant_lookup_value (t, "rows", G_VARIANT_TYPE ("aav"));
  GString *s = g_string_new (NULL);

  assert_non_null (rows);
  for (gsize r = 0; r < g_variant_n_children (rows); r++) {
    g_autoptr (GVariant) row = g_variant_get_child_value (rows, r);
    for (gsize c = 0; c < g_variant_n_children (row); c++) {
      g_autoptr (GVariant) cell = g_variant_get_child_value (row, c);
      g_autoptr (GVariant) v = g_variant_get_variant (cell);
      if (c)
        g_string_append_c (s, ' ');
      if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64))
        g_string_append_printf (s, "%" G_GINT64_FORMAT, g_variant_get_int64 (v));
      else
        g_string_append (s, g_variant_get_string (v, NULL));
    }
    g_string_append_c (s, '\n');
  }
  return g_string_free (s, FALSE);
}

static char *
day (gint64 t)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (t);
  return g_date_time_format (dt, "%Y-%m-%d");
}

static void
test_activation_count (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GVariant) t = report (fx, "activation-count-summary", 0);
  g_autofree char *text = rows_text (t);
  const char *columns[] = { "edition", "today", "last_7_days", "last_30_days", "last_90_days", "all", NULL };
  g_autofree const char **got = NULL;

  assert_true (g_variant_lookup (t, "columns", "^a&s", &got));
  assert_true (g_strv_equal (got, columns));
  /* A: the renewal and the VM today, plus the first activation 10 days ago; the refusal is not one. */
  assert_string_equal (text, ED_A " 2 2 3 3 3\n" ED_B " 0 0 1 1 1\n");
}

static void
test_activity_history (void **state)
{
  Fixture *fx = *state;
  gint64 u = fx->until;
  g_autoptr (GVariant) t = report (fx, "activity-history", u - 30 * DAY);
  g_autofree char *text = rows_text (t);
  g_autofree char *d20 = day (u - 20 * DAY), *d10 = day (u - 10 * DAY), *d0 = day (u);
  g_autofree char *want = g_strdup_printf ("%s " ED_B " 1 1 1\n%s " ED_A " 1 1 1\n%s " ED_A
                                           " 1 2 2\n%s " ED_B " 0 0 1\n", d20, d10, d0, d0);
  g_autoptr (GVariant) t2 = report (fx, "activity-history", u - 5 * DAY);
  g_autofree char *text2 = rows_text (t2);
  g_autofree char *want2 = g_strdup_printf ("%s " ED_A " 2 2 2\n%s " ED_B " 0 0 1\n", d0, d0);

  assert_string_equal (text, want);
  /* From 5 days ago, CMID 1's renewal is its first success in the range: a new activation. */
  assert_string_equal (text2, want2);
}

static void
test_licensing_status (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GVariant) t = report (fx, "licensing-status-summary", 0);
  g_autofree char *text = rows_text (t);

  /* Latest request per machine; days left: (3d - 1h) -> 2, 10d -> 10. */
  assert_string_equal (text, "Licensed 1  \nOOB grace 1 2 2\nOOT grace 1 10 10\n"
                             "Non-genuine grace 0  \nNotification 1  \nUnlicensed 0  \n");
}

static void
test_expiration (void **state)
{
  Fixture *fx = *state;
  gint64 u = fx->until;
  g_autoptr (GVariant) chart = report (fx, "machine-expiration-chart", 0);
  g_autoptr (GVariant) detail = report (fx, "machine-expiration-detail", 0);
  g_autoptr (GVariant) rows = g_variant_lookup_value (chart, "rows", G_VARIANT_TYPE ("aav"));
  g_autofree char *text = rows_text (chart);
  g_autofree char *d3 = day (u + 3 * DAY), *d10 = day (u + 10 * DAY), *d0 = day (u);
  g_autofree char *l3 = g_strdup_printf ("%s 1\n", d3), *l10 = g_strdup_printf ("%s 1\n", d10);
  g_autofree char *first = g_strdup_printf ("%s 0\n", d0);
  g_autofree char *dtext = rows_text (detail);
  g_autoptr (GDateTime) exp = g_date_time_new_from_unix_utc (u + 3 * DAY - HOUR);
  g_autofree char *exps = g_date_time_format (exp, "%Y-%m-%dT%H:%M:%SZ");
  g_autofree char *want = g_strdup_printf ("pc2.corp.example.com 5a010203-0405-4607-8809-0a0b0c0d0e02 "
                                           ED_A " OOB grace %s\n", exps);

  /* One row per day of the next 30, every day shown; the two grace machines on their days. */
  assert_int_equal (g_variant_n_children (rows), 30);
  assert_true (g_str_has_prefix (text, first));
  assert_non_null (strstr (text, l3));
  assert_non_null (strstr (text, l10));
  {
    guint ones = 0;
    for (const char *p = text; (p = strstr (p, " 1\n")) != NULL; p++)
      ones++;
    assert_int_equal (ones, 2);
  }
  /* Within 7 days: only the OOB machine. */
  assert_string_equal (dtext, want);
}

static void
test_vm_summary (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GVariant) t = report (fx, "vm-summary", 0);
  g_autofree char *text = rows_text (t);

  /* B's only activation is 20 days old and its refusal does not count. */
  assert_string_equal (text, ED_A " 1 1\n");
}

static void
test_unknown (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GError) error = NULL;

  assert_null (volact_records_report (fx->records, "kms-summary", 0, 0, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_FAILED));
  assert_non_null (strstr (error->message, "kms-summary"));
  for (const char *const *n = volact_records_report_names (); *n; n++)
    assert_non_null (strstr (error->message, *n));
  assert_int_equal (g_strv_length ((char **) volact_records_report_names ()), 6);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_activation_count, setup, teardown),
    cmocka_unit_test_setup_teardown (test_activity_history, setup, teardown),
    cmocka_unit_test_setup_teardown (test_licensing_status, setup, teardown),
    cmocka_unit_test_setup_teardown (test_expiration, setup, teardown),
    cmocka_unit_test_setup_teardown (test_vm_summary, setup, teardown),
    cmocka_unit_test_setup_teardown (test_unknown, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
