/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Prometheus metrics (core/metrics/): the text a snapshot formats to must
 * pass `promtool check metrics` (format and naming lint) and parse with the
 * reference Python client (tests/metrics-samples.py) into exactly the
 * snapshot's values, label values with quotes, backslashes and newlines
 * included; and collecting from a real host and client server (in process,
 * 127.0.0.1, a free port, a temporary state folder) must report the requests
 * it answered. Both tools are required: a missing one fails the test.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"
#include "volact-error.h"
#include "volact-fingerprint.h"
#include "volact-metrics.h"
#include "volact-protocol.h"

#define WAIT_US (10 * G_USEC_PER_SEC)

/* ---- the parsers ---------------------------------------------------------------------------- */

/* Runs ARGV with INPUT on stdin; returns its exit status, its stdout in *OUT (may be NULL). */
static int
run_with_input (const char *const *argv, const char *input, char **out, char **err)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) p
      = g_subprocess_newv (argv,
                           G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                               | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                           &error);

  if (p == NULL) {
    *err = g_strdup (error->message);
    return -1;
  }
  if (!g_subprocess_communicate_utf8 (p, input, NULL, out, err, &error)) {
    *err = g_strdup (error->message);
    return -1;
  }
  return g_subprocess_get_if_exited (p) ? g_subprocess_get_exit_status (p) : -1;
}

/* promtool must accept TEXT without a single lint remark. */
static void
assert_promtool_accepts (const char *text)
{
  const char *argv[] = { "promtool", "check", "metrics", NULL };
  g_autofree char *out = NULL, *err = NULL;
  int status = run_with_input (argv, text, &out, &err);

  if (status != 0 || (out != NULL && *out != '\0'))
    fail_msg ("promtool check metrics (exit %d; promtool comes with the Debian package "
              "prometheus):\n%s%s\n--- text:\n%s",
              status, out ? out : "", err ? err : "", text);
}

/*
 * TEXT parsed by prometheus_client (python3-prometheus-client), one sorted
 * line per sample. The first python3 on PATH may be a private one without
 * the Debian module, so the system one is tried as well.
 */
static char *
python_samples (const char *text)
{
  static const char *const pythons[] = { "python3", "/usr/bin/python3" };
  g_autofree char *script = test_srcpath ("tests/metrics-samples.py");
  GString *why = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (pythons); i++) {
    const char *argv[] = { pythons[i], script, NULL };
    g_autofree char *err = NULL;
    char *out = NULL;
    int status = run_with_input (argv, text, &out, &err);
    if (status == 0) {
      g_string_free (why, TRUE);
      return out;
    }
    g_string_append_printf (why, "%s: exit %d: %s\n", pythons[i], status, err ? err : "");
    g_free (out);
  }
  fail_msg ("prometheus_client could not parse the metrics (python3-prometheus-client):\n%s"
            "--- text:\n%s",
            why->str, text);
  return NULL;
}

static int
compare_lines (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Sorted, newline-terminated lines of EXPECTED, compared with the parser's view. */
static void
assert_samples (const char *text, GPtrArray *expected)
{
  g_autofree char *got = python_samples (text);
  GString *want = g_string_new (NULL);

  g_ptr_array_sort (expected, compare_lines);
  for (guint i = 0; i < expected->len; i++)
    g_string_append_printf (want, "%s\n", (const char *) expected->pdata[i]);
  if (!g_str_equal (got, want->str)) {
    /* cmocka truncates long messages: the whole story to stderr first. */
    g_printerr ("--- want:\n%s--- got:\n%s--- text:\n%s", want->str, got, text);
    fail_msg ("the parsed samples differ from the snapshot (see above)");
  }
  g_string_free (want, TRUE);
}

/* ---- a snapshot by hand --------------------------------------------------------------------- */

#define ODD_APP "pool \"q\" \\ x\nnext line"
#define ODD_APP_ESCAPED "pool \\\"q\\\" \\\\ x\\nnext line"

static void
add_application (VolactMetricsSnapshot *s, const char *id, guint64 count)
{
  VolactMetricsApplication a = { g_strdup (id), count };
  g_array_append_val (s->applications, a);
}

static void
add_edition (VolactMetricsSnapshot *s, const char *id, const char *app, guint64 min, gboolean on)
{
  VolactMetricsEdition e = { g_strdup (id), g_strdup (app), min, on };
  g_array_append_val (s->editions, e);
}

static void
add_requests (VolactMetricsSnapshot *s, const char *edition, guint32 result, guint64 n)
{
  VolactMetricsRequests r = { g_strdup (edition), result, n };
  g_array_append_val (s->requests, r);
}

static VolactMetricsSnapshot *
sample_snapshot (void)
{
  VolactMetricsSnapshot *s = volact_metrics_snapshot_new ();
  static const guint64 buckets[VOLACT_RECORDS_COMMIT_BUCKETS]
      = { 3, 10, 40, 20, 5, 1, 0, 0, 0, 0, 0, 1, 0, 0 };

  s->version = g_strdup ("1.2.3");
  s->start_time = 1796000000;
  s->activated = TRUE;
  add_application (s, "kms-client", 31);
  add_application (s, ODD_APP, 4);
  add_edition (s, "win7-enterprise", "kms-client", 25, TRUE);
  add_edition (s, "server2008r2-web", ODD_APP, 5, FALSE);
  add_requests (s, "win7-enterprise", 0, 123456789012ull);
  add_requests (s, "win7-enterprise", (guint32) VOLACT_E_COUNT_INSUFFICIENT, 24);
  add_requests (s, "", (guint32) VOLACT_E_EDITION_UNKNOWN, 7);
  add_requests (s, "ed \"x\"\\\n", (guint32) VOLACT_E_HOST_BUSY, 2);
  s->have_server = TRUE;
  s->server = (VolactServerStats){ .connections = 12,
                                   .pending = 3,
                                   .accepted = 5000,
                                   .refused = 9,
                                   .requests = 5100,
                                   .signed_responses = 5000,
                                   .error_responses = 90,
                                   .malformed = 4,
                                   .timeouts = 6,
                                   .busy_responses = 1,
                                   .sources = 21,
                                   .limited_sources = 22,
                                   .rate_limited = 23,
                                   .source_refused = 24,
                                   .idle_closed = 25,
                                   .new_cmid_limited = 26 };
  s->have_records = TRUE;
  s->records.queued = 17;
  s->records.busy_refusals = 8;
  s->records.writer_failing = TRUE;
  s->records.commit_failures = 2;
  s->records.commits = 81; /* one over the last bound */
  s->records.commit_seconds = 12.5;
  memcpy (s->records.commit_buckets, buckets, sizeof buckets);
  for (guint i = 0; i < VOLACT_RECORDS_N_STATES; i++)
    s->records.machines[i] = 100 * (i + 1);
  return s;
}

static GPtrArray *
lines_new (void)
{
  return g_ptr_array_new_with_free_func (g_free);
}

#define LINE(a, ...) g_ptr_array_add (a, g_strdup_printf (__VA_ARGS__))

/* What the snapshot above must read as; written out by hand, not by the formatter. */
static GPtrArray *
sample_expected (void)
{
  static const char *const les[]
      = { "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
          "0.25",   "0.5",   "1",      "2.5",   "5",    "10",    "+Inf" };
  static const guint cumulative[] = { 3, 13, 53, 73, 78, 79, 79, 79, 79, 79, 79, 80, 80, 80, 81 };
  static const char *const states[]
      = { "oob_grace", "licensed", "oot_grace", "non_genuine_grace", "notification", "unlicensed" };
  GPtrArray *a = lines_new ();

  LINE (a, "volact_build_info{version=\"1.2.3\"} 1");
  LINE (a, "volact_start_time_seconds 1796000000");
  LINE (a, "volact_host_activated 1");
  LINE (a, "volact_application_counted_machines{application=\"kms-client\"} 31");
  LINE (a, "volact_application_counted_machines{application=\"" ODD_APP_ESCAPED "\"} 4");
  LINE (
      a,
      "volact_edition_minimum_machines{application=\"kms-client\",edition=\"win7-enterprise\"} 25");
  LINE (a, "volact_edition_minimum_machines{application=\"" ODD_APP_ESCAPED
           "\",edition=\"server2008r2-web\"} 5");
  LINE (a, "volact_edition_active{application=\"kms-client\",edition=\"win7-enterprise\"} 1");
  LINE (a, "volact_edition_active{application=\"" ODD_APP_ESCAPED
           "\",edition=\"server2008r2-web\"} 0");
  LINE (a, "volact_requests_total{edition=\"win7-enterprise\",result=\"0x00000000\"} 123456789012");
  LINE (a, "volact_requests_total{edition=\"win7-enterprise\",result=\"0xC004F038\"} 24");
  LINE (a, "volact_requests_total{edition=\"\",result=\"0x%08X\"} 7",
        (guint32) VOLACT_E_EDITION_UNKNOWN);
  LINE (a, "volact_requests_total{edition=\"ed \\\"x\\\"\\\\\\n\",result=\"0xC0AC0506\"} 2");
  LINE (a, "volact_connections_open 12");
  LINE (a, "volact_connections_accepted_total 5000");
  LINE (a, "volact_connections_refused_total 9");
  LINE (a, "volact_connections_timed_out_total 6");
  LINE (a, "volact_connections_malformed_total 4");
  LINE (a, "volact_responses_pending 3");
  LINE (a, "volact_responses_total{type=\"signed\"} 5000");
  LINE (a, "volact_responses_total{type=\"error\"} 90");
  LINE (a, "volact_late_busy_responses_total 1");
  LINE (a, "volact_limit_sources 21");
  LINE (a, "volact_limited_sources_total 22");
  LINE (a, "volact_rate_limited_requests_total 23");
  LINE (a, "volact_connections_source_refused_total 24");
  LINE (a, "volact_connections_idle_closed_total 25");
  LINE (a, "volact_new_cmid_limited_requests_total 26");
  for (guint i = 0; i < G_N_ELEMENTS (states); i++)
    LINE (a, "volact_machines{state=\"%s\"} %u", states[i], 100 * (i + 1));
  LINE (a, "volact_records_queue_rows 17");
  LINE (a, "volact_records_busy_refusals_total 8");
  LINE (a, "volact_records_writer_failing 1");
  LINE (a, "volact_records_commit_failures_total 2");
  for (guint i = 0; i < G_N_ELEMENTS (les); i++)
    LINE (a, "volact_records_commit_duration_seconds_bucket{le=\"%s\"} %u", les[i], cumulative[i]);
  LINE (a, "volact_records_commit_duration_seconds_sum 12.5");
  LINE (a, "volact_records_commit_duration_seconds_count 81");
  return a;
}

/* ---- tests: the format ---------------------------------------------------------------------- */

/* Every family, odd label values, no DNS: promtool accepts it and the parser reads the values. */
static void
test_format_parses_to_snapshot (void **state)
{
  g_autoptr (VolactMetricsSnapshot) snap = sample_snapshot ();
  g_autoptr (GPtrArray) expected = sample_expected ();
  g_autofree char *text = volact_metrics_format (snap);

  (void) state;
  assert_promtool_accepts (text);
  assert_samples (text, expected);
  /* No DNS publishing configured: no DNS family at all, not a 0 that reads as a failure. */
  assert_null (strstr (text, "volact_dns_"));
}

/* DNS zones: one published, one failed, each with the time of its last attempt. */
static void
test_format_dns_zones (void **state)
{
  g_autoptr (VolactMetricsSnapshot) snap = sample_snapshot ();
  g_autoptr (GPtrArray) expected = sample_expected ();
  VolactMetricsZone ok = { g_strdup ("example.org"), TRUE, 1796000100 };
  VolactMetricsZone bad = { g_strdup ("corp.example"), FALSE, 1796000200 };
  g_autofree char *text = NULL;

  (void) state;
  g_array_append_val (snap->zones, ok);
  g_array_append_val (snap->zones, bad);
  text = volact_metrics_format (snap);
  LINE (expected, "volact_dns_publish_success{zone=\"example.org\"} 1");
  LINE (expected, "volact_dns_publish_success{zone=\"corp.example\"} 0");
  LINE (expected,
        "volact_dns_publish_last_attempt_timestamp_seconds{zone=\"example.org\"} 1796000100");
  LINE (expected,
        "volact_dns_publish_last_attempt_timestamp_seconds{zone=\"corp.example\"} 1796000200");
  assert_promtool_accepts (text);
  assert_samples (text, expected);
}

/* ---- tests: machines per state in the records ---------------------------------------------- */

static void
visit (VolactRecords *records, guint8 tag, guint8 state, gint64 time)
{
  guint8 cmid[16];
  VolactVisit v = { .time = time,
                    .pool = "pool",
                    .cmid = cmid,
                    .name = "",
                    .edition = "ed",
                    .address = "192.0.2.1",
                    .counts = TRUE,
                    .state = state,
                    .retention_days = 2,
                    .minimum_count = 1 };
  guint32 result;
  guint64 ticket;

  memset (cmid, tag, sizeof cmid);
  volact_records_count (records, &v, &result, &ticket);
  assert_int_not_equal (ticket, 0);
}

static void
assert_machines (VolactRecords *records, const guint64 want[VOLACT_RECORDS_N_STATES])
{
  VolactRecordsStats st;

  volact_records_get_stats (records, &st);
  for (guint i = 0; i < VOLACT_RECORDS_N_STATES; i++)
    if (st.machines[i] != want[i])
      fail_msg ("state %u: %" G_GUINT64_FORMAT " machines, want %" G_GUINT64_FORMAT, i,
                st.machines[i], want[i]);
}

/*
 * The licensing-status-summary's counts without a query: each machine in the
 * state of its latest request, kept across a restart, gone when it expires.
 */
static void
test_machines_follow_latest_state (void **state)
{
  g_autofree char *dir = test_tmpdir ();
  g_autoptr (GError) error = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  VolactRecords *records = volact_records_open (dir, 0, &error);
  const guint64 first[] = { 1, 2, 0, 0, 0, 1 };   /* OOB 1, licensed 2, unlicensed 1 */
  const guint64 later[] = { 0, 3, 0, 0, 0, 1 };   /* the OOB machine got licensed */
  const guint64 expired[] = { 0, 2, 0, 0, 0, 1 }; /* the old licensed one expired */
  VolactRecordsStats st;

  (void) state;
  assert_non_null (records);
  visit (records, 1, VOLACT_STATE_OOB_GRACE, now);
  visit (records, 2, VOLACT_STATE_LICENSED, now);
  visit (records, 3, VOLACT_STATE_UNLICENSED, now);
  visit (records, 4, VOLACT_STATE_LICENSED, now - 2 * 86400 + 3600); /* an hour left */
  assert_machines (records, first);
  visit (records, 1, VOLACT_STATE_LICENSED, now);
  assert_machines (records, later);
  assert_true (volact_records_flush (records, 10000));
  volact_records_get_stats (records, &st);
  assert_true (st.commits >= 1);
  assert_int_equal (st.commit_failures, 0);
  volact_records_close (records);

  records = volact_records_open (dir, 0, &error);
  assert_non_null (records);
  assert_machines (records, later);
  /* Two hours on, the record seen two days less an hour ago is past its retention. */
  assert_int_equal (volact_records_pool_count_at (records, "pool", 2, now + 7200), 3);
  assert_machines (records, expired);
  volact_records_close (records);
  test_rmtree (dir);
}

/* ---- tests: collecting from a running host ------------------------------------------------- */

typedef struct {
  char *dir;
  VolactHost *host;
} Fixture;

static int
setup (void **state)
{
  Fixture *fx = g_new0 (Fixture, 1);

  fx->dir = test_tmpdir ();
  fx->host = test_host_new (fx->dir);
  if (fx->host == NULL)
    return -1;
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *fx = *state;

  volact_host_free (fx->host);
  test_rmtree (fx->dir);
  g_free (fx->dir);
  g_free (fx);
  return 0;
}

/* One request for EDITION on a new connection; runs the main context until the answer. */
static guint32
ask (guint port, const char *edition, guint8 tag)
{
  struct sockaddr_in sa = { .sin_family = AF_INET,
                            .sin_port = htons ((guint16) port),
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  g_autoptr (GError) error = NULL;
  VolactRequest req = { 0 };
  guint8 msg[VOLACT_PROTO_MESSAGE_MAX], nonce[VOLACT_PROTO_NONCE_SIZE];
  gint64 deadline = g_get_monotonic_time () + WAIT_US;
  guint32 code = 0;
  gsize len, have = 0;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  assert_true (fd >= 0);
  assert_int_equal (connect (fd, (struct sockaddr *) &sa, sizeof sa), 0);
  for (guint i = 0; i < sizeof req.nonce; i++)
    req.nonce[i] = (guint8) g_random_int ();
  memset (req.cmid, tag, sizeof req.cmid);
  g_strlcpy (req.edition, edition, sizeof req.edition);
  len = volact_request_encode (&req, msg, &error);
  assert_true (len > 0);
  assert_int_equal (send (fd, msg, len, MSG_NOSIGNAL), (ssize_t) len);
  while (have < VOLACT_PROTO_ERROR_SIZE && g_get_monotonic_time () < deadline) {
    struct pollfd p = { .fd = fd, .events = POLLIN };
    g_main_context_iteration (NULL, FALSE);
    if (poll (&p, 1, 10) == 1) {
      ssize_t n = recv (fd, msg + have, sizeof msg - have, MSG_DONTWAIT);
      if (n <= 0)
        break;
      have += (gsize) n;
    }
  }
  assert_true (have >= VOLACT_PROTO_ERROR_SIZE);
  assert_true (volact_error_response_decode (msg, have, nonce, &code, NULL));
  assert_memory_equal (nonce, req.nonce, sizeof nonce);
  close (fd);
  return code;
}

typedef struct {
  VolactHost *host;
  VolactServer *server;
} RenderJob;

static gpointer
render_thread (gpointer data)
{
  RenderJob *job = data;
  return volact_metrics_render (job->host, job->server);
}

/* The value of the one parsed sample that starts with PREFIX (name and labels), or -1. */
static gint64
parsed_value (const char *samples, const char *prefix)
{
  g_auto (GStrv) lines = g_strsplit (samples, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix) && lines[i][strlen (prefix)] == ' ')
      return g_ascii_strtoll (lines[i] + strlen (prefix) + 1, NULL, 10);
  return -1;
}

/*
 * A real host (not activated: every answer is NOT_ACTIVATED) and client
 * server: N requests for a catalog edition and M for an unknown one, then
 * the metrics rendered in another thread while the server's runs.
 */
static void
test_collect_counts_requests (void **state)
{
  Fixture *fx = *state;
  enum { N = 20, M = 3 };
  g_autoptr (GError) error = NULL;
  VolactServer *server = volact_server_start (fx->host, volact_host_records (fx->host), &error);
  g_autofree char *text = NULL, *samples = NULL, *key = NULL;
  RenderJob job = { fx->host, server };
  GThread *thread;

  assert_non_null (server);
  for (guint i = 0; i < N; i++)
    assert_int_equal (ask (volact_server_port (server), "win7-enterprise", (guint8) i),
                      (guint32) VOLACT_E_NOT_ACTIVATED);
  for (guint i = 0; i < M; i++)
    assert_int_equal (ask (volact_server_port (server), "no-such-edition", (guint8) (100 + i)),
                      (guint32) VOLACT_E_NOT_ACTIVATED);
  assert_true (volact_records_flush (volact_host_records (fx->host), 10000));

  thread = g_thread_new ("metrics", render_thread, &job);
  text = g_thread_join (thread);
  assert_promtool_accepts (text);
  samples = python_samples (text);

  key = g_strdup_printf ("volact_requests_total{edition=\"win7-enterprise\",result=\"0x%08X\"}",
                         (guint32) VOLACT_E_NOT_ACTIVATED);
  assert_int_equal (parsed_value (samples, key), N);
  g_free (key);
  key = g_strdup_printf ("volact_requests_total{edition=\"\",result=\"0x%08X\"}",
                         (guint32) VOLACT_E_NOT_ACTIVATED);
  assert_int_equal (parsed_value (samples, key), M);
  assert_true (parsed_value (samples, "volact_connections_accepted_total") >= N + M);
  assert_int_equal (parsed_value (samples, "volact_connections_refused_total"), 0);
  assert_int_equal (parsed_value (samples, "volact_responses_total{type=\"error\"}"), N + M);
  assert_int_equal (parsed_value (samples, "volact_host_activated"), 0);
  assert_int_equal (parsed_value (samples, "volact_records_queue_rows"), 0);
  /* The reference catalog: its client pool is there, with nobody counted (refusals never count). */
  assert_non_null (strstr (samples, "volact_application_counted_machines{application="));
  assert_non_null (
      strstr (samples, "volact_edition_minimum_machines{application=\"") /* any pool */);
  assert_true (parsed_value (samples, "volact_records_commit_duration_seconds_count") >= 1);
  assert_int_equal (parsed_value (samples, "volact_build_info{version=\"" PACKAGE_VERSION "\"}"),
                    1);
  /* This process started it, within the 600 s a test may run (not the machine's boot). */
  assert_true (parsed_value (samples, "volact_start_time_seconds")
               <= g_get_real_time () / G_USEC_PER_SEC);
  assert_true (parsed_value (samples, "volact_start_time_seconds")
               > g_get_real_time () / G_USEC_PER_SEC - 600);
  volact_server_stop (server);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_format_parses_to_snapshot),
    cmocka_unit_test (test_format_dns_zones),
    cmocka_unit_test (test_machines_follow_latest_state),
    cmocka_unit_test_setup_teardown (test_collect_counts_requests, setup, teardown),
  };
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *fp = g_build_filename (dir, "fingerprint", NULL);
  int rc;

  /* Before any thread exists (setenv is not thread-safe). */
  test_write_file (fp, "machine-id=metrics-test\ncpu=c\nmemory=8\nmac=02:00:00:00:00:44\n", -1);
  g_setenv (VOLACT_FINGERPRINT_ENV, fp, TRUE);
  rc = cmocka_run_group_tests (tests, NULL, NULL);
  test_rmtree (dir);
  return rc;
}
