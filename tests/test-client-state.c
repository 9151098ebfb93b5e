/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The client's scheduler and state file: the host's intervals always rule. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "testutil.h"
#include "volact-client-state.h"
#include "volact-error.h"

#define T0 ((gint64) 1750000000) /* some fixed moment */
#define MINUTE 60
#define DAY 86400
#define CMID "0f8fad5b-d9cb-469f-a165-70867728950e"

static VolactClientState
fresh (void)
{
  VolactClientState s;
  volact_client_state_init (&s, CMID, T0);
  return s;
}

static VolactClientOutcome
response (guint32 result, guint activation, guint renewal)
{
  VolactClientOutcome o = { 0 };
  o.response = TRUE;
  o.result = result;
  o.count = result == 0 ? 25 : 5;
  o.minimum_count = 25;
  o.activation_interval = activation;
  o.renewal_interval = renewal;
  o.validity_days = 180;
  o.host = "kms.example:1688";
  o.edition = "win7-enterprise";
  return o;
}

static VolactClientOutcome
failure (guint32 code)
{
  VolactClientOutcome o = { 0 };
  o.response = FALSE;
  o.result = code;
  o.host = "kms.example:1688";
  o.edition = "win7-enterprise";
  return o;
}

static void
test_first_run (void **state)
{
  VolactClientState s = fresh ();

  assert_string_equal (s.cmid, CMID);
  assert_int_equal (s.license_state, VOLACT_STATE_OOB_GRACE);
  assert_int_equal (s.state_expires, T0 + 30 * DAY);
  assert_int_equal (volact_client_state_minutes_left (&s, T0), 30 * 24 * 60);
  assert_int_equal (s.activation_interval, 120);
  assert_int_equal (s.renewal_interval, 10080);
  assert_false (s.have_response);
  assert_int_equal (s.next_attempt, T0); /* due at once */
}

static void
test_unlicensed_uses_received_activation_interval (void **state)
{
  /* The seed's bug: a client retrying every 120 minutes whatever the host said. */
  VolactClientState s0 = fresh ();
  VolactClientOutcome o = response (0xC004F038u, 30, 10080);
  gint64 now = T0 + 5;
  VolactClientState s = volact_client_state_next (&s0, &o, now);

  assert_int_equal (s.next_attempt, now + 30 * MINUTE);
  assert_int_not_equal (s.next_attempt, now + 120 * MINUTE);
  assert_int_equal (s.activation_interval, 30);
  assert_int_equal (s.renewal_interval, 10080);
  assert_true (s.have_response);
  assert_int_equal (s.license_state, VOLACT_STATE_OOB_GRACE); /* not licensed: unchanged */
  assert_int_equal (s.state_expires, T0 + 30 * DAY);
  assert_int_equal (s.last_result, 0xC004F038u);
  assert_int_equal (s.last_count, 5);
  assert_int_equal (s.last_minimum, 25);
  assert_int_equal (s.last_attempt, now);
  assert_int_equal (s.last_response, now);
  assert_string_equal (s.last_host, "kms.example:1688");
  assert_string_equal (s.last_edition, "win7-enterprise");
  assert_int_equal (volact_client_state_minutes_to_next (&s, now), 30);
}

static void
test_licensed_uses_received_renewal_interval (void **state)
{
  VolactClientState s0 = fresh ();
  VolactClientOutcome o = response (0, 120, 60);
  gint64 now = T0 + 100;
  VolactClientState s = volact_client_state_next (&s0, &o, now);

  assert_int_equal (s.license_state, VOLACT_STATE_LICENSED);
  assert_int_equal (s.next_attempt, now + 60 * MINUTE);
  assert_int_equal (s.state_expires, now + 180 * DAY);
  assert_int_equal (s.validity_days, 180);
  assert_int_equal (volact_client_state_minutes_left (&s, now), 180 * 24 * 60);
}

static void
test_intervals_follow_each_response (void **state)
{
  VolactClientState s = fresh ();
  VolactClientOutcome o;
  gint64 t = T0;

  o = response (0xC004F038u, 30, 60);
  s = volact_client_state_next (&s, &o, t);
  assert_int_equal (s.next_attempt, t + 30 * MINUTE);

  t += 30 * MINUTE;
  o = response (0xC004F038u, 45, 90);
  s = volact_client_state_next (&s, &o, t);
  assert_int_equal (s.next_attempt, t + 45 * MINUTE);
  assert_int_equal (s.activation_interval, 45);
  assert_int_equal (s.renewal_interval, 90);

  t += 45 * MINUTE;
  o = response (0, 45, 90);
  s = volact_client_state_next (&s, &o, t);
  assert_int_equal (s.next_attempt, t + 90 * MINUTE);

  /* A renewal answered "insufficient": still licensed until validity ends, retry at 20. */
  t += 90 * MINUTE;
  o = response (0xC004F038u, 20, 7 * 24 * 60);
  s = volact_client_state_next (&s, &o, t);
  assert_int_equal (s.license_state, VOLACT_STATE_LICENSED);
  assert_int_equal (s.next_attempt, t + 20 * MINUTE);

  /* Another signed refusal (edition unknown) also carries intervals, and they are used. */
  t += 20 * MINUTE;
  o = response (0xC0AC0502u, 200, 300);
  s = volact_client_state_next (&s, &o, t);
  assert_int_equal (s.next_attempt, t + 200 * MINUTE);
}

static void
test_failure_retries_at_last_activation_interval (void **state)
{
  VolactClientState s = fresh ();
  VolactClientOutcome o;
  gint64 t = T0;

  /* Before any response: the default 120. */
  o = failure (0xC0AC0507u);
  s = volact_client_state_next (&s, &o, t);
  assert_int_equal (s.next_attempt, t + 120 * MINUTE);
  assert_int_equal (s.last_result, 0xC0AC0507u);
  assert_false (s.have_response);

  /* After a response with 30: failures retry at 30, licensed or not. */
  t += 120 * MINUTE;
  o = response (0, 30, 600);
  s = volact_client_state_next (&s, &o, t);
  t += 600 * MINUTE;
  o = failure (0xC0AC0402u); /* the host answered "not activated" */
  s = volact_client_state_next (&s, &o, t);
  assert_int_equal (s.next_attempt, t + 30 * MINUTE);
  assert_int_equal (s.license_state, VOLACT_STATE_LICENSED); /* a failure never unlicenses */
  assert_int_equal (s.activation_interval, 30);
  assert_int_equal (s.renewal_interval, 600);
  assert_int_equal (s.last_count, 25); /* what the host said last stays */

  t += 30 * MINUTE;
  o = failure (0xC0AC0504u); /* a rogue host's answer */
  s = volact_client_state_next (&s, &o, t);
  assert_int_equal (s.next_attempt, t + 30 * MINUTE);
  assert_int_equal (s.license_state, VOLACT_STATE_LICENSED);
}

static void
test_intervals_clamped_to_host_range (void **state)
{
  VolactClientState s = fresh ();
  VolactClientOutcome o = response (0xC004F038u, 0, 65535);

  s = volact_client_state_next (&s, &o, T0);
  assert_int_equal (s.activation_interval, VOLACT_CLIENT_INTERVAL_MIN);
  assert_int_equal (s.renewal_interval, VOLACT_CLIENT_INTERVAL_MAX);
  assert_int_equal (s.next_attempt, T0 + VOLACT_CLIENT_INTERVAL_MIN * MINUTE);
}

static void
test_validity_lapse (void **state)
{
  VolactClientState s = fresh ();
  VolactClientOutcome o = response (0, 120, 10080);
  VolactClientState l;

  s = volact_client_state_next (&s, &o, T0);
  assert_int_equal (s.license_state, VOLACT_STATE_LICENSED);

  l = s;
  volact_client_state_lapse (&l, T0 + 180 * DAY - 1);
  assert_int_equal (l.license_state, VOLACT_STATE_LICENSED);

  /* Validity over without renewal: out-of-tolerance grace for 30 days from the lapse. */
  l = s;
  volact_client_state_lapse (&l, T0 + 180 * DAY);
  assert_int_equal (l.license_state, VOLACT_STATE_OOT_GRACE);
  assert_int_equal (l.state_expires, T0 + 210 * DAY);

  /* Long after: straight through OOT grace to notification. */
  l = s;
  volact_client_state_lapse (&l, T0 + 400 * DAY);
  assert_int_equal (l.license_state, VOLACT_STATE_NOTIFICATION);
  assert_int_equal (l.state_expires, 0);
  assert_int_equal (volact_client_state_minutes_left (&l, T0 + 400 * DAY), 0);

  /* The scheduler applies the lapse before the outcome: a failure after expiry reports OOT. */
  o = failure (0xC0AC0507u);
  l = volact_client_state_next (&s, &o, T0 + 190 * DAY);
  assert_int_equal (l.license_state, VOLACT_STATE_OOT_GRACE);
  assert_int_equal (volact_client_state_minutes_left (&l, T0 + 190 * DAY), 20 * 24 * 60);

  /* A licensing response in OOT grace licenses again. */
  o = response (0, 120, 10080);
  l = volact_client_state_next (&l, &o, T0 + 191 * DAY);
  assert_int_equal (l.license_state, VOLACT_STATE_LICENSED);
  assert_int_equal (l.state_expires, T0 + 371 * DAY);
}

static void
test_oob_grace_lapse (void **state)
{
  VolactClientState s = fresh ();
  VolactClientOutcome o = response (0xC004F038u, 120, 10080);

  volact_client_state_lapse (&s, T0 + 30 * DAY - 1);
  assert_int_equal (s.license_state, VOLACT_STATE_OOB_GRACE);
  s = volact_client_state_next (&s, &o, T0 + 30 * DAY);
  assert_int_equal (s.license_state, VOLACT_STATE_NOTIFICATION);
  assert_int_equal (s.next_attempt, T0 + 30 * DAY + 120 * MINUTE);
}

static void
test_state_names (void **state)
{
  for (guint i = 0; i <= VOLACT_STATE_UNLICENSED; i++) {
    VolactLicenseState back;
    const char *name = volact_license_state_to_string (i);
    assert_non_null (name);
    assert_true (volact_license_state_from_string (name, &back));
    assert_int_equal (back, i);
  }
  assert_null (volact_license_state_to_string (6));
  assert_string_equal (volact_license_state_display (VOLACT_STATE_OOT_GRACE), "OOT grace");
}

static void
assert_states_equal (const VolactClientState *a, const VolactClientState *b)
{
  assert_string_equal (a->cmid, b->cmid);
  assert_int_equal (a->first_run, b->first_run);
  assert_int_equal (a->license_state, b->license_state);
  assert_int_equal (a->state_expires, b->state_expires);
  assert_int_equal (a->have_response, b->have_response);
  assert_int_equal (a->activation_interval, b->activation_interval);
  assert_int_equal (a->renewal_interval, b->renewal_interval);
  assert_int_equal (a->validity_days, b->validity_days);
  assert_int_equal (a->last_count, b->last_count);
  assert_int_equal (a->last_minimum, b->last_minimum);
  assert_int_equal (a->last_response, b->last_response);
  assert_string_equal (a->last_host, b->last_host);
  assert_string_equal (a->last_edition, b->last_edition);
  assert_int_equal (a->last_result, b->last_result);
  assert_int_equal (a->last_attempt, b->last_attempt);
  assert_int_equal (a->next_attempt, b->next_attempt);
  assert_string_equal (a->cached_host, b->cached_host);
}

static void
test_file_round_trip (void **state)
{
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "sub", "folder", "client.state", NULL);
  g_autoptr (GError) error = NULL;
  VolactClientState s = fresh (), back;
  VolactClientOutcome o = response (0xC004F038u, 30, 60);
  gboolean not_found = FALSE;
  struct stat st;

  /* The fresh state, never answered. */
  assert_true (volact_client_state_save (path, &s, &error));
  assert_true (volact_client_state_load (path, &back, &not_found, &error));
  assert_states_equal (&s, &back);

  /* After a response, every field. */
  s = volact_client_state_next (&s, &o, T0 + 77);
  g_strlcpy (s.last_host, "[2001:db8::1]:1688", sizeof s.last_host);
  g_strlcpy (s.cached_host, "kms2.example.org:1688", sizeof s.cached_host);
  assert_true (volact_client_state_save (path, &s, &error));
  assert_true (volact_client_state_load (path, &back, NULL, &error));
  assert_states_equal (&s, &back);

  /* A file of an older client, without [host-cache], loads with no cached host. */
  {
    g_autofree char *data = NULL;
    char *group;
    assert_true (g_file_get_contents (path, &data, NULL, NULL));
    group = strstr (data, "[host-cache]");
    assert_non_null (group);
    *group = '\0';
    assert_true (g_file_set_contents (path, data, -1, NULL));
    assert_true (volact_client_state_load (path, &back, NULL, &error));
    assert_string_equal (back.cached_host, "");
    assert_true (volact_client_state_save (path, &s, &error));
  }

  /* Mode 0600, also when it replaces a file that was readable by others. */
  assert_int_equal (g_stat (path, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0600);
  assert_int_equal (g_chmod (path, 0644), 0);
  assert_true (volact_client_state_save (path, &s, &error));
  assert_int_equal (g_stat (path, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0600);
  {
    g_autofree char *folder = g_path_get_dirname (path);
    assert_int_equal (g_stat (folder, &st), 0);
    assert_int_equal (st.st_mode & 0077, 0);
  }
  test_rmtree (dir);
}

static void
test_file_errors (void **state)
{
  static const struct {
    const char *text;
    const char *key;
  } bad[] = {
    { "[client]\nfirst-run=2025-01-01T00:00:00Z\n[license]\nstate=licensed\n", "cmid" },
    { "[client]\ncmid=nope\nfirst-run=2025-01-01T00:00:00Z\n[license]\nstate=licensed\n", "cmid" },
    { "[client]\ncmid=" CMID "\nfirst-run=yesterday\n[license]\nstate=licensed\n", "first-run" },
    { "[client]\ncmid=" CMID "\nfirst-run=2025-01-01T00:00:00Z\n[license]\nstate=happy\n",
      "state" },
    { "[client]\ncmid=" CMID "\nfirst-run=2025-01-01T00:00:00Z\n[license]\nstate=licensed\n"
      "[schedule]\nactivation-interval=5\n",
      "activation-interval" },
    { "[client]\ncmid=" CMID "\nfirst-run=2025-01-01T00:00:00Z\n[license]\nstate=licensed\n"
      "[last]\nresult=0xZZ\n",
      "result" },
    { "[client]\ncmid=" CMID "\nfirst-run=2025-01-01T00:00:00Z\n[license]\nstate=licensed\n"
      "[last]\nedition=Win7\n",
      "edition" },
  };
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "client.state", NULL);
  VolactClientState s;

  {
    g_autoptr (GError) error = NULL;
    gboolean not_found = FALSE;
    assert_false (volact_client_state_load (path, &s, &not_found, &error));
    assert_true (not_found);
    assert_int_equal (error->code, VOLACT_E_IO);
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    gboolean not_found = TRUE;
    test_write_file (path, bad[i].text, -1);
    assert_false (volact_client_state_load (path, &s, &not_found, &error));
    assert_false (not_found);
    assert_int_equal (error->code, VOLACT_E_CONFIG);
    if (strstr (error->message, bad[i].key) == NULL || strstr (error->message, path) == NULL)
      fail_msg ("case %u: \"%s\" does not name %s and the file", i, error->message, bad[i].key);
  }
  {
    /* The minimal valid file: defaults for everything else. */
    g_autoptr (GError) error = NULL;
    test_write_file (path,
                     "[client]\ncmid=" CMID "\nfirst-run=2025-01-01T00:00:00Z\n"
                     "[license]\nstate=oob-grace\n",
                     -1);
    assert_true (volact_client_state_load (path, &s, NULL, &error));
    assert_int_equal (s.activation_interval, 120);
    assert_int_equal (s.renewal_interval, 10080);
    assert_false (s.have_response);
  }
  test_rmtree (dir);
}

static void
test_default_path (void **state)
{
  g_autofree char *path = NULL;

  /* GLib reads XDG_STATE_HOME once, on first use: this is the first. */
  g_setenv ("XDG_STATE_HOME", "/tmp/volact-xdg-state", TRUE);
  path = volact_client_state_default_path ();
  assert_string_equal (path, "/tmp/volact-xdg-state/volact/client.state");
}

static void
test_format_time (void **state)
{
  g_autofree char *t = volact_client_format_time (T0);
  g_autofree char *z = volact_client_format_time (0);

  assert_string_equal (t, "2025-06-15T15:06:40Z");
  assert_string_equal (z, "");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_default_path),
    cmocka_unit_test (test_first_run),
    cmocka_unit_test (test_unlicensed_uses_received_activation_interval),
    cmocka_unit_test (test_licensed_uses_received_renewal_interval),
    cmocka_unit_test (test_intervals_follow_each_response),
    cmocka_unit_test (test_failure_retries_at_last_activation_interval),
    cmocka_unit_test (test_intervals_clamped_to_host_range),
    cmocka_unit_test (test_validity_lapse),
    cmocka_unit_test (test_oob_grace_lapse),
    cmocka_unit_test (test_state_names),
    cmocka_unit_test (test_file_round_trip),
    cmocka_unit_test (test_file_errors),
    cmocka_unit_test (test_format_time),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
