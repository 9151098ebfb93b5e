/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volact-fleet-sim: plays N client machines over D simulated days against one
 * or more hosts, hour by hour, with the schedule real clients keep (the KMS
 * operations guide's intervals): a first request on day 0, renewal 7 days after
 * a success, a retry 2 hours after anything else, a Monday-morning boot storm,
 * and fail-over to the other host. Simulated time is compressed: each hour's
 * requests go out as fast as the hosts take them. See bench/README.md
 * ("A simulated fleet").
 *
 *   volact-fleet-sim --hosts H1[:P1],H2[:P2] --trust CERT --machines N --days D
 *                    [--edition ID] [--concurrency C] [--verify-percent P]
 *                    [--seed S] [--store-uri URI] [--max-seconds S] [--json]
 */
#include "config.h"

#include "fleet-common.h"
#include "volact-client-cli.h"
#include "volact-crypto.h"
#include "volact-error.h"
#include "volact-fleet-sim.h"
#include "volact-json.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <openssl/x509.h>

#define PROGRAM "volact-fleet-sim"
#define SIM_MAX_MACHINES 10000000u
/* The hosts keep 30 days of records, by real time: a longer simulation would count
 * machines the hosts should have forgotten. */
#define SIM_MAX_DAYS 28u
#define SIM_MAX_CONCURRENCY 1024u
#define SIM_DEFAULT_ACTIVATION 120u /* minutes, until a host says otherwise */
#define SIM_STORM_MINUTE (8 * 60)   /* Monday 08:00 ... */
#define SIM_STORM_SPREAD 15u        /* ... to 08:15 */
#define SIM_INFLIGHT G_MAXUINT32    /* next[] of a machine whose request is being sent */

/* One scheduled request: machine M asks at simulated minute MINUTE. */
typedef struct {
  guint32 machine, minute;
} SimEntry;

typedef struct {
  char *host_arg, *trust, *machines, *days, *edition, *concurrency, *verify, *seed, *store_uri,
      *max_seconds;
  gboolean json;
} Options;

typedef struct {
  guint requests, failures, answered;
  guint32 max_count[VOLACT_SIM_MAX_HOSTS];
  double p50_ms, p99_ms, real_seconds;
  gint64 commits; /* -1: no --store-uri */
} SimHour;

static const char *const weekdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

static guint64
splitmix64 (guint64 x)
{
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* A value of machine M for purpose SALT, the same for the same --seed. */
static guint64
machine_hash (const VolactSim *s, guint32 m, guint salt)
{
  return splitmix64 (((guint64) s->seed << 32 | salt) ^ splitmix64 (m));
}

void
volact_sim_machine_cmid (const VolactSim *s, guint32 m, guint8 cmid[16])
{
  guint64 a = machine_hash (s, m, 1), b = machine_hash (s, m, 2);
  memcpy (cmid, &a, 8);
  memcpy (cmid + 8, &b, 8);
  volact_fleet_cmid_make_v4 (cmid);
}

guint
volact_sim_preferred_host (const VolactSim *s, guint32 m)
{
  /* As a DNS SRV choice spreads clients over equal-weight records. */
  return (guint) (machine_hash (s, m, 3) % s->n_hosts);
}

static void
schedule (VolactSim *s, guint32 m, guint64 minute)
{
  SimEntry e = { m, (guint32) minute };
  guint h = (guint) (minute / 60);

  s->next[m] = (guint32) minute;
  if (h < s->hours)
    g_array_append_val (s->buckets[h], e);
}

/* Every Monday 08:00-08:15 a random fifth of the fleet boots and asks, on top of its
 * schedule: the request replaces the one pending (the machine renews from it). */
static void
schedule_storm (VolactSim *s, guint hour)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (s->seed ^ (hour * 2654435761u));
  guint64 want = s->n_machines / 5, left = s->n_machines;

  /* Selection sampling (Knuth's algorithm S): exactly a fifth, in one pass, no memory. */
  for (guint32 m = 0; m < s->n_machines && want > 0; m++, left--) {
    if ((guint64) (g_rand_double (rand) * (double) left) >= want)
      continue;
    want--;
    schedule (s, m, (guint64) hour * 60 + (guint) g_rand_int_range (rand, 0, SIM_STORM_SPREAD));
  }
}

/* The hour's requests: entries still current, each machine at most once. */
static void
take_batch (VolactSim *s, GArray *entries)
{
  s->n_jobs = 0;
  if (entries->len > s->jobs_size) {
    s->jobs_size = entries->len;
    s->jobs = g_renew (VolactSimJob, s->jobs, s->jobs_size);
  }
  for (guint i = 0; i < entries->len; i++) {
    SimEntry *e = &g_array_index (entries, SimEntry, i);
    if (s->next[e->machine] != e->minute)
      continue; /* superseded by a storm boot, or a duplicate */
    s->next[e->machine] = SIM_INFLIGHT;
    s->jobs[s->n_jobs++] = (VolactSimJob) { .machine = e->machine, .minute = e->minute };
  }
  g_array_set_size (entries, 0);
}

static int
cmp_u32 (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  return x < y ? -1 : x > y;
}

static double
percentile_ms (GArray *lat, double q)
{
  if (lat->len == 0)
    return 0;
  return g_array_index (lat, guint32, (guint) ((lat->len - 1) * q)) / 1000.0;
}

/* Books the answers of the batch: stats into H, each machine's next request. */
static void
book_batch (VolactSim *s, guint hour, SimHour *h, GArray *again)
{
  g_autoptr (GArray) lat = g_array_sized_new (FALSE, FALSE, sizeof (guint32), s->n_jobs);

  for (guint i = 0; i < s->n_jobs; i++) {
    VolactSimJob *j = &s->jobs[i];
    guint64 next;

    if (!j->done) { /* not sent: the run ran out of --max-seconds */
      s->next[j->machine] = j->minute;
      continue;
    }
    h->requests++;
    if (j->outcome == VOLACT_SIM_ANSWERED) {
      h->answered++;
      g_array_append_val (lat, j->latency_us);
      h->max_count[j->host] = MAX (h->max_count[j->host], j->count);
      s->activation_interval = j->activation;
    } else {
      h->failures++;
      volact_fleet_codes_note (s->codes, j->code);
    }
    if (j->outcome == VOLACT_SIM_ANSWERED && j->code == 0) {
      if (!s->licensed[j->machine]) {
        s->licensed[j->machine] = TRUE;
        s->n_licensed++;
      }
      next = (guint64) j->minute + j->renewal;
    } else {
      if (j->outcome == VOLACT_SIM_ANSWERED)
        volact_fleet_codes_note (s->codes, j->code);
      next = (guint64) j->minute + s->activation_interval;
    }
    if (next / 60 == hour) {
      SimEntry e = { j->machine, (guint32) next };
      s->next[j->machine] = e.minute;
      g_array_append_val (again, e);
    } else {
      schedule (s, j->machine, next);
    }
  }
  /* The percentiles of the hour's last round (with intervals under an hour there are
   * several, and the first carries nearly all of the load). */
  g_array_sort (lat, cmp_u32);
  if (lat->len > 0) {
    h->p50_ms = percentile_ms (lat, 0.50);
    h->p99_ms = percentile_ms (lat, 0.99);
  }
}

/* xact_commit of the current database, or -1 with ERROR set. */
static gint64
pg_commits (PGconn *pg, GError **error)
{
  PGresult *r = PQexec (
      pg, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()");
  gint64 v = -1;

  if (PQresultStatus (r) == PGRES_TUPLES_OK && PQntuples (r) == 1)
    v = g_ascii_strtoll (PQgetvalue (r, 0, 0), NULL, 10);
  else
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "--store-uri: reading pg_stat_database: %s",
                 PQerrorMessage (pg));
  PQclear (r);
  return v;
}

static void
print_hour (VolactSim *s, guint hour, const SimHour *h)
{
  char when[32];

  g_snprintf (when, sizeof when, "%s %02u:00", weekdays[(hour / 24) % 7], hour % 24);
  if (s->json) {
    GVariantBuilder b, counts;
    g_autoptr (GVariant) v = NULL;
    g_autofree char *text = NULL;

    g_variant_builder_init (&counts, G_VARIANT_TYPE_VARDICT);
    for (guint i = 0; i < s->n_hosts; i++)
      g_variant_builder_add (&counts, "{sv}", s->hosts[i].label,
                             g_variant_new_uint32 (h->max_count[i]));
    g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add (&b, "{sv}", "type", g_variant_new_string ("hour"));
    g_variant_builder_add (&b, "{sv}", "hour", g_variant_new_uint32 (hour));
    g_variant_builder_add (&b, "{sv}", "day", g_variant_new_uint32 (hour / 24));
    g_variant_builder_add (&b, "{sv}", "time", g_variant_new_string (when));
    g_variant_builder_add (&b, "{sv}", "requests", g_variant_new_uint32 (h->requests));
    g_variant_builder_add (&b, "{sv}", "failures", g_variant_new_uint32 (h->failures));
    g_variant_builder_add (&b, "{sv}", "p50_ms", g_variant_new_double (h->p50_ms));
    g_variant_builder_add (&b, "{sv}", "p99_ms", g_variant_new_double (h->p99_ms));
    g_variant_builder_add (&b, "{sv}", "counts", g_variant_builder_end (&counts));
    g_variant_builder_add (&b, "{sv}", "licensed", g_variant_new_uint32 (s->n_licensed));
    if (h->commits >= 0)
      g_variant_builder_add (&b, "{sv}", "commits", g_variant_new_int64 (h->commits));
    g_variant_builder_add (&b, "{sv}", "real_seconds", g_variant_new_double (h->real_seconds));
    v = g_variant_ref_sink (g_variant_builder_end (&b));
    text = volact_json_from_variant (v, FALSE);
    printf ("%s\n", text);
  } else {
    g_autoptr (GString) counts = g_string_new (NULL);
    char commits[24] = "-";

    for (guint i = 0; i < s->n_hosts; i++)
      g_string_append_printf (counts, " %s=%u", s->hosts[i].label, h->max_count[i]);
    if (h->commits >= 0)
      g_snprintf (commits, sizeof commits, "%" G_GINT64_FORMAT, h->commits);
    printf ("%3u %s %9u %8u %8.2f %8.2f %9u %9s %8.2f %s\n", hour / 24, when, h->requests,
            h->failures, h->p50_ms, h->p99_ms, s->n_licensed, commits, h->real_seconds,
            counts->str);
  }
  fflush (stdout);
}

static void
print_summary (VolactSim *s)
{
  struct rusage ru;
  double cpu;

  getrusage (RUSAGE_SELF, &ru);
  cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  if (s->json) {
    GVariantBuilder b;
    g_autoptr (GVariant) v = NULL;
    g_autofree char *text = NULL;

    g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add (&b, "{sv}", "type", g_variant_new_string ("summary"));
    g_variant_builder_add (&b, "{sv}", "machines", g_variant_new_uint32 (s->n_machines));
    g_variant_builder_add (&b, "{sv}", "days", g_variant_new_uint32 (s->hours / 24));
    g_variant_builder_add (&b, "{sv}", "requests", g_variant_new_uint64 (s->total_requests));
    g_variant_builder_add (&b, "{sv}", "failures", g_variant_new_uint64 (s->total_failures));
    g_variant_builder_add (&b, "{sv}", "verified", g_variant_new_uint64 ((guint64) s->verified));
    g_variant_builder_add (&b, "{sv}", "licensed", g_variant_new_uint32 (s->n_licensed));
    g_variant_builder_add (&b, "{sv}", "max_p99_ms", g_variant_new_double (s->max_p99_ms));
    g_variant_builder_add (&b, "{sv}", "peak_per_second",
                           g_variant_new_uint32 (volact_sim_peak_per_second (s)));
    g_variant_builder_add (&b, "{sv}", "wall_seconds", g_variant_new_double (s->wall_seconds));
    g_variant_builder_add (&b, "{sv}", "cpu_us_per_request",
                           g_variant_new_double (s->total_requests ? cpu * 1e6 / s->total_requests
                                                                   : 0));
    g_variant_builder_add (&b, "{sv}", "stopped", g_variant_new_boolean (s->stopped));
    v = g_variant_ref_sink (g_variant_builder_end (&b));
    text = volact_json_from_variant (v, FALSE);
    printf ("%s\n", text);
  } else {
    printf ("total: %" G_GUINT64_FORMAT " requests, %" G_GUINT64_FORMAT
            " failures, %u of %u machines licensed, max p99 %.2f ms, peak %u requests per real "
            "second, %.1f s wall, %.1f us generator CPU per request%s\n",
            s->total_requests, s->total_failures, s->n_licensed, s->n_machines, s->max_p99_ms,
            volact_sim_peak_per_second (s), s->wall_seconds,
            s->total_requests ? cpu * 1e6 / s->total_requests : 0,
            s->stopped ? " (stopped early)" : "");
  }
  if (g_hash_table_size (s->codes) > 0) {
    g_autoptr (GArray) codes = volact_fleet_codes_sorted (s->codes);
    for (guint i = 0; i < codes->len; i++) {
      guint32 c = g_array_index (codes, guint32, i);
      const char *text = volact_error_text (c);
      fprintf (stderr, PROGRAM ": 0x%08X x %u  %s\n", c, volact_fleet_codes_get (s->codes, c),
               text ? text : "");
    }
  }
}

static int
simulate (VolactSim *s, PGconn *pg)
{
  g_autoptr (GArray) again = g_array_new (FALSE, FALSE, sizeof (SimEntry));
  gint64 commits = pg ? pg_commits (pg, NULL) : -1;

  for (guint32 m = 0; m < s->n_machines; m++)
    schedule (s, m, machine_hash (s, m, 4) % (24 * 60));
  if (!s->json)
    printf ("day time       requests failures  p50(ms)  p99(ms)  licensed   commits  real(s) counts\n");
  for (guint hour = 0; hour < s->hours && !s->stopped; hour++) {
    SimHour h = { .commits = -1 };
    gint64 t0 = g_get_monotonic_time ();

    if ((hour / 24) % 7 == 1 && hour % 24 == SIM_STORM_MINUTE / 60)
      schedule_storm (s, hour);
    take_batch (s, s->buckets[hour]);
    /* Intervals under an hour bring a machine back within the same hour: rounds. */
    while (s->n_jobs > 0) {
      volact_sim_send_batch (s);
      g_array_set_size (again, 0);
      book_batch (s, hour, &h, again);
      take_batch (s, again);
      if (g_get_monotonic_time () >= s->deadline)
        s->stopped = TRUE;
      if (s->stopped)
        break;
    }
    if (pg != NULL) {
      g_autoptr (GError) error = NULL;
      gint64 now = pg_commits (pg, &error);
      if (now < 0) {
        fprintf (stderr, PROGRAM ": %s\n", error->message);
        return EXIT_FAILURE;
      }
      h.commits = now - commits;
      commits = now;
    }
    h.real_seconds = (g_get_monotonic_time () - t0) / (double) G_USEC_PER_SEC;
    s->total_requests += h.requests;
    s->total_failures += h.failures;
    s->max_p99_ms = MAX (s->max_p99_ms, h.p99_ms);
    print_hour (s, hour, &h);
    if (s->stopped)
      fprintf (stderr,
               PROGRAM ": stopped after %u s (--max-seconds) in simulated day %u %s %02u:00\n",
               s->max_seconds, hour / 24, weekdays[(hour / 24) % 7], hour % 24);
  }
  s->wall_seconds = (g_get_monotonic_time () - s->start) / (double) G_USEC_PER_SEC;
  print_summary (s);
  return s->total_failures == 0 && !s->stopped ? EXIT_SUCCESS : EXIT_FAILURE;
}

static PGconn *
store_connect (const char *uri, GError **error)
{
  char *err = NULL;
  PQconninfoOption *opts = PQconninfoParse (uri, &err);
  PGconn *pg;

  if (opts == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "--store-uri: %s", err ? err : "invalid");
    PQfreemem (err);
    return NULL;
  }
  for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
    if (g_str_equal (o->keyword, "password") && o->val != NULL && *o->val != '\0') {
      PQconninfoFree (opts);
      g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                           "--store-uri: no password in the URI; put it in the PGPASSFILE");
      return NULL;
    }
  PQconninfoFree (opts);
  pg = PQconnectdb (uri);
  if (PQstatus (pg) != CONNECTION_OK) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "--store-uri: %s", PQerrorMessage (pg));
    PQfinish (pg);
    return NULL;
  }
  return pg;
}

static void
sim_clear (VolactSim *s)
{
  for (guint i = 0; i < s->n_hosts; i++)
    g_free (s->hosts[i].label);
  for (guint i = 0; s->buckets && i < s->hours; i++)
    g_array_unref (s->buckets[i]);
  g_free (s->buckets);
  g_free (s->next);
  g_free (s->licensed);
  g_free (s->jobs);
  g_free (s->per_second);
  if (s->codes)
    g_hash_table_unref (s->codes);
  volact_sim_net_clear (s);
}

/* Checks the options into S; a usage error's exit status, or 0. */
static int
configure_sim (VolactSim *s, const Options *o)
{
  g_autoptr (GError) error = NULL;
  guint64 v;

  if (!volact_cli_parse_uint (o->machines, 1, SIM_MAX_MACHINES, &v))
    return volact_cli_usage_error (PROGRAM, "--machines N is required, N in 1..%u",
                                   SIM_MAX_MACHINES);
  s->n_machines = (guint32) v;
  if (!volact_cli_parse_uint (o->days, 1, SIM_MAX_DAYS, &v))
    return volact_cli_usage_error (PROGRAM,
                                   "--days D is required, D in 1..%u (the hosts keep 30 days of "
                                   "records by real time)",
                                   SIM_MAX_DAYS);
  s->hours = (guint) v * 24;
  if (o->trust == NULL)
    return volact_cli_usage_error (PROGRAM, "--trust CERT is required: the certificate of the "
                                            "authority whose hosts to accept");
  if (o->host_arg == NULL)
    return volact_cli_usage_error (PROGRAM, "--hosts H1[:P1],H2[:P2] is required");
  if (o->concurrency != NULL && !volact_cli_parse_uint (o->concurrency, 1, SIM_MAX_CONCURRENCY, &v))
    return volact_cli_usage_error (PROGRAM, "--concurrency: 1..%u", SIM_MAX_CONCURRENCY);
  s->concurrency = o->concurrency ? (guint) v : 32;
  if (o->verify != NULL && !volact_cli_parse_uint (o->verify, 0, 100, &v))
    return volact_cli_usage_error (PROGRAM, "--verify-percent: 0..100");
  s->verify_every = o->verify == NULL ? 100 : v == 0 ? 0 : (guint) (100 / v);
  if (o->seed != NULL && !volact_cli_parse_uint (o->seed, 0, G_MAXUINT32, &v))
    return volact_cli_usage_error (PROGRAM, "--seed: a number, 0..%u", G_MAXUINT32);
  s->seed = o->seed ? (guint32) v : 1;
  if (o->max_seconds != NULL && !volact_cli_parse_uint (o->max_seconds, 1, 86400, &v))
    return volact_cli_usage_error (PROGRAM, "--max-seconds: 1..86400");
  s->max_seconds = o->max_seconds ? (guint) v : 3600;
  s->edition = o->edition ? o->edition : "win7-enterprise";
  if (!volact_proto_edition_valid (s->edition, strlen (s->edition)))
    return volact_cli_usage_error (PROGRAM,
                                   "--edition: \"%s\" is not an edition id (1 to 32 of a-z, 0-9, '-')",
                                   s->edition);
  if (!volact_sim_net_setup (s, o->host_arg, o->trust, &error))
    return volact_cli_usage_error (PROGRAM, "%s", error->message);
  return 0;
}

static int
run (const Options *o)
{
  g_autoptr (GError) error = NULL;
  g_autofree VolactSim *s = g_new0 (VolactSim, 1);
  PGconn *pg = NULL;
  int rc;

  s->json = o->json;
  s->codes = g_hash_table_new (NULL, NULL);
  rc = configure_sim (s, o);
  if (rc == 0 && o->store_uri != NULL && (pg = store_connect (o->store_uri, &error)) == NULL) {
    volact_cli_print_error_line ((guint32) error->code, NULL, error->message);
    rc = EXIT_FAILURE;
  }
  if (rc == 0) {
    s->next = g_new (guint32, s->n_machines);
    s->licensed = g_new0 (guint8, s->n_machines);
    s->buckets = g_new (GArray *, s->hours);
    for (guint i = 0; i < s->hours; i++)
      s->buckets[i] = g_array_new (FALSE, FALSE, sizeof (SimEntry));
    s->activation_interval = SIM_DEFAULT_ACTIVATION;
    s->start = g_get_monotonic_time ();
    s->deadline = s->start + (gint64) s->max_seconds * G_USEC_PER_SEC;
    s->n_seconds = s->max_seconds + 60;
    s->per_second = g_new0 (gint, s->n_seconds);
    rc = simulate (s, pg);
  }
  if (pg != NULL)
    PQfinish (pg);
  sim_clear (s);
  return rc;
}

int
main (int argc, char **argv)
{
  Options o = { .json = FALSE };
  const GOptionEntry entries[] = {
    { "hosts", 0, 0, G_OPTION_ARG_STRING, &o.host_arg, "Hosts to ask (required)",
      "H1[:P1],H2[:P2]" },
    { "machines", 0, 0, G_OPTION_ARG_STRING, &o.machines, "Number of machines, 1..10000000 (required)",
      "N" },
    { "days", 0, 0, G_OPTION_ARG_STRING, &o.days, "Simulated days, 1..28 (required)", "D" },
    { "trust", 0, 0, G_OPTION_ARG_FILENAME, &o.trust,
      "Certificate of the authority whose hosts to accept (required)", "CERT" },
    { "edition", 0, 0, G_OPTION_ARG_STRING, &o.edition, "Edition (default win7-enterprise)", "ID" },
    { "concurrency", 0, 0, G_OPTION_ARG_STRING, &o.concurrency,
      "Requests in flight at most (default 32)", "C" },
    { "verify-percent", 0, 0, G_OPTION_ARG_STRING, &o.verify,
      "Verify the signature of this share of answers (default 1)", "P" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &o.seed, "Random seed (default 1)", "S" },
    { "store-uri", 0, 0, G_OPTION_ARG_STRING, &o.store_uri,
      "PostgreSQL database whose commits to count per hour (password from PGPASSFILE)", "URI" },
    { "max-seconds", 0, 0, G_OPTION_ARG_STRING, &o.max_seconds,
      "Stop after this many real seconds (default 3600)", "S" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &o.json, "One JSON object per line", NULL },
    { NULL },
  };
  int rc = volact_fleet_parse_options (
      PROGRAM, entries,
      "Play N client machines over D simulated days against volact hosts, hour by hour:\n"
      "first requests on day 0 (a Sunday), renewal 7 days after a success, a retry 2 hours\n"
      "after anything else, a fifth of the fleet booting every Monday 08:00-08:15, and\n"
      "fail-over to the other host. Simulated time is compressed; latencies are real.",
      "The hosts record real time and keep 30 days of records, so a simulation spans at\n"
      "most 28 days and every machine it plays stays counted for 30 real days.\n"
      "Exit status: 0 every request got an answer, 1 otherwise or stopped by\n"
      "--max-seconds, 2 usage. See bench/README.md, \"A simulated fleet\".\n",
      &argc, &argv);

  if (rc == 0)
    rc = run (&o);
  g_free (o.host_arg);
  g_free (o.trust);
  g_free (o.machines);
  g_free (o.days);
  g_free (o.edition);
  g_free (o.concurrency);
  g_free (o.verify);
  g_free (o.seed);
  g_free (o.store_uri);
  g_free (o.max_seconds);
  return rc;
}
