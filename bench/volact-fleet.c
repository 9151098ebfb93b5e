/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volact-fleet: a load generator that plays N distinct client machines
 * against a volact host through libvolact, as the seed's scenarios and the
 * demo need (count thresholds, licensing order, throughput). It simulates
 * machines, so it is built with the rest but not installed; real machines run
 * volact-client. See bench/README.md.
 *
 *   volact-fleet --host H[:PORT] --trust CERT [--json] --clients N
 *                --editions E1[:W1],E2[:W2],... [--vm-share PCT]
 *                [--connections persistent|new] [--seed S]
 */
#include "config.h"

#include "volact.h"

#include "volact-client-cli.h"
#include "volact-client-state.h"
#include "fleet-common.h"
#include "volact-error.h"
#include "volact-protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGRAM "volact-fleet"
#define FLEET_MAX_CLIENTS 1000000u
#define FLEET_MAX_EDITIONS 64
#define FLEET_MAX_WEIGHT 1000000u
/* A run stops after this many failures in a row that reached no host. */
#define FLEET_MAX_UNREACHABLE 10

typedef struct {
  char *host_arg;
  char *trust;
  gboolean json;
  char *clients;
  char *editions;
  char *vm_share;
  char *connections;
  char *seed;
  /* Parsed. */
  char *host;
  guint16 port;
  char *host_label;
} Options;

static void
options_clear (Options *o)
{
  g_free (o->host_arg);
  g_free (o->trust);
  g_free (o->clients);
  g_free (o->editions);
  g_free (o->vm_share);
  g_free (o->connections);
  g_free (o->seed);
  g_free (o->host);
  g_free (o->host_label);
}

typedef struct {
  char name[33];
  guint weight;
  guint requests, licensed, insufficient, other, failed;
  guint32 count; /* after the edition's last request that got a response */
  guint minimum;
  guint first_licensed; /* 1-based fleet index, 0 never */
} FleetEdition;

typedef struct {
  FleetEdition editions[FLEET_MAX_EDITIONS];
  guint n_editions;
  guint64 total_weight;
  guint n_clients;
  guint vm_share;
  gboolean new_connections;
  guint32 seed;
  /* Results. */
  guint requests, failed;
  gboolean aborted;
  double seconds;
  GHashTable *codes; /* code -> count, for every non-zero result and failure */
} Fleet;

static gboolean
fleet_parse_editions (Fleet *f, const char *spec, GError **error)
{
  g_auto (GStrv) items = g_strsplit (spec, ",", -1);

  for (guint i = 0; items[i] != NULL; i++) {
    FleetEdition *e;
    char *colon = strchr (items[i], ':');
    guint64 w = 1;

    if (colon != NULL) {
      *colon = '\0';
      if (!volact_cli_parse_uint (colon + 1, 1, FLEET_MAX_WEIGHT, &w)) {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                     "--editions: the weight of \"%s\" must be 1..%u", items[i], FLEET_MAX_WEIGHT);
        return FALSE;
      }
    }
    if (!volact_proto_edition_valid (items[i], strlen (items[i]))) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                   "--editions: \"%s\" is not an edition id (1 to 32 of a-z, 0-9, '-')", items[i]);
      return FALSE;
    }
    for (guint j = 0; j < f->n_editions; j++)
      if (g_str_equal (f->editions[j].name, items[i])) {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "--editions: \"%s\" given twice",
                     items[i]);
        return FALSE;
      }
    if (f->n_editions == FLEET_MAX_EDITIONS) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "--editions: at most %u editions",
                   FLEET_MAX_EDITIONS);
      return FALSE;
    }
    e = &f->editions[f->n_editions++];
    g_strlcpy (e->name, items[i], sizeof e->name);
    e->weight = (guint) w;
    f->total_weight += w;
  }
  if (f->n_editions == 0) {
    g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_CONFIG, "--editions: no edition given");
    return FALSE;
  }
  return TRUE;
}

static FleetEdition *
fleet_pick (Fleet *f, GRand *rand)
{
  guint64 r = (guint64) (g_rand_double (rand) * (double) f->total_weight);

  for (guint i = 0; i < f->n_editions; i++) {
    if (r < f->editions[i].weight)
      return &f->editions[i];
    r -= f->editions[i].weight;
  }
  return &f->editions[f->n_editions - 1];
}

static void
fleet_run (Fleet *f, VolactClient *client)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (f->seed);
  gint64 start = g_get_monotonic_time ();
  guint unreachable_in_a_row = 0;

  for (guint i = 1; i <= f->n_clients; i++) {
    g_autoptr (GError) error = NULL;
    VolactClientRequest req = { 0 };
    VolactClientResult res;
    FleetEdition *e;
    char name[64];

    /* Fixed draw order per machine, so a seed always gives the same fleet. */
    for (guint j = 0; j < VOLACT_CLIENT_CMID_SIZE; j += 4) {
      guint32 w = g_rand_int (rand);
      memcpy (req.cmid + j, &w, 4);
    }
    volact_fleet_cmid_make_v4 (req.cmid);
    e = fleet_pick (f, rand);
    req.virtual_machine = (guint) g_rand_int_range (rand, 0, 100) < f->vm_share;
    volact_fleet_machine_name (name, sizeof name, i);
    req.edition = e->name;
    req.name = name;
    req.state = VOLACT_CLIENT_STATE_OOB_GRACE;
    req.minutes_left = VOLACT_CLIENT_OOB_GRACE_DAYS * 24 * 60;

    if (f->new_connections)
      volact_client_close (client);
    f->requests++;
    e->requests++;
    if (!volact_client_activate (client, &req, &res, &error)) {
      f->failed++;
      e->failed++;
      volact_fleet_codes_note (f->codes, res.result);
      if (g_error_matches (error, VOLACT_ERROR, VOLACT_E_HOST_UNREACHABLE)) {
        if (++unreachable_in_a_row == FLEET_MAX_UNREACHABLE) {
          fprintf (stderr, PROGRAM ": stopping after %u failures in a row: %s\n",
                   FLEET_MAX_UNREACHABLE, error->message);
          f->aborted = TRUE;
          break;
        }
      } else {
        unreachable_in_a_row = 0;
      }
      continue;
    }
    unreachable_in_a_row = 0;
    e->count = res.count;
    e->minimum = res.minimum_count;
    if (res.licensed) {
      e->licensed++;
      if (e->first_licensed == 0)
        e->first_licensed = i;
    } else {
      if (res.result == (guint32) VOLACT_E_COUNT_INSUFFICIENT)
        e->insufficient++;
      else
        e->other++;
      volact_fleet_codes_note (f->codes, res.result);
    }
  }
  f->seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

static void
fleet_print_json (Fleet *f, const Options *o)
{
  GVariantBuilder b, eds, errs;
  g_autoptr (GArray) codes = volact_fleet_codes_sorted (f->codes);

  g_variant_builder_init (&eds, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < f->n_editions; i++) {
    const FleetEdition *e = &f->editions[i];
    g_variant_builder_open (&eds, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add (&eds, "{sv}", "edition", g_variant_new_string (e->name));
    g_variant_builder_add (&eds, "{sv}", "weight", g_variant_new_uint32 (e->weight));
    g_variant_builder_add (&eds, "{sv}", "requests", g_variant_new_uint32 (e->requests));
    g_variant_builder_add (&eds, "{sv}", "licensed", g_variant_new_uint32 (e->licensed));
    g_variant_builder_add (&eds, "{sv}", "insufficient", g_variant_new_uint32 (e->insufficient));
    g_variant_builder_add (&eds, "{sv}", "other", g_variant_new_uint32 (e->other));
    g_variant_builder_add (&eds, "{sv}", "failed", g_variant_new_uint32 (e->failed));
    g_variant_builder_add (&eds, "{sv}", "count", g_variant_new_uint32 (e->count));
    g_variant_builder_add (&eds, "{sv}", "minimum_count", g_variant_new_uint32 (e->minimum));
    g_variant_builder_add (&eds, "{sv}", "first_licensed",
                           g_variant_new_uint32 (e->first_licensed));
    g_variant_builder_close (&eds);
  }
  g_variant_builder_init (&errs, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < codes->len; i++) {
    guint32 c = g_array_index (codes, guint32, i);
    const char *text = volact_error_text (c);
    g_variant_builder_open (&errs, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add (&errs, "{sv}", "code", g_variant_new_uint32 (c));
    g_variant_builder_add (&errs, "{sv}", "text", g_variant_new_string (text ? text : ""));
    g_variant_builder_add (&errs, "{sv}", "requests",
                           g_variant_new_uint32 (volact_fleet_codes_get (f->codes, c)));
    g_variant_builder_close (&errs);
  }

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "host", g_variant_new_string (o->host_label));
  g_variant_builder_add (&b, "{sv}", "clients", g_variant_new_uint32 (f->n_clients));
  g_variant_builder_add (&b, "{sv}", "requests", g_variant_new_uint32 (f->requests));
  g_variant_builder_add (&b, "{sv}", "failed", g_variant_new_uint32 (f->failed));
  g_variant_builder_add (&b, "{sv}", "aborted", g_variant_new_boolean (f->aborted));
  g_variant_builder_add (&b, "{sv}", "seed", g_variant_new_uint32 (f->seed));
  g_variant_builder_add (&b, "{sv}", "vm_share", g_variant_new_uint32 (f->vm_share));
  g_variant_builder_add (&b, "{sv}", "connections",
                         g_variant_new_string (f->new_connections ? "new" : "persistent"));
  g_variant_builder_add (&b, "{sv}", "milliseconds",
                         g_variant_new_uint64 ((guint64) (f->seconds * 1000 + 0.5)));
  g_variant_builder_add (
      &b, "{sv}", "requests_per_second",
      g_variant_new_uint32 (f->seconds > 0 ? (guint32) (f->requests / f->seconds + 0.5) : 0));
  g_variant_builder_add (&b, "{sv}", "editions", g_variant_builder_end (&eds));
  g_variant_builder_add (&b, "{sv}", "errors", g_variant_builder_end (&errs));
  volact_cli_print_json (&b);
}

static void
fleet_print_text (Fleet *f, const Options *o)
{
  g_autoptr (GArray) codes = volact_fleet_codes_sorted (f->codes);

  printf ("Fleet of %u clients against %s (seed %u, %u%% virtual, %s connections)\n", f->n_clients,
          o->host_label, f->seed, f->vm_share, f->new_connections ? "new" : "persistent");
  printf ("%u requests in %.2f s (%.0f per second), %u failed%s\n\n", f->requests, f->seconds,
          f->seconds > 0 ? f->requests / f->seconds : 0.0, f->failed,
          f->aborted ? ", stopped early" : "");
  printf ("%-32s %9s %9s %12s %7s %7s %7s %7s %16s\n", "edition", "requests", "licensed",
          "insufficient", "other", "failed", "count", "minimum", "first licensed");
  for (guint i = 0; i < f->n_editions; i++) {
    const FleetEdition *e = &f->editions[i];
    char first[16] = "never";
    if (e->first_licensed != 0)
      g_snprintf (first, sizeof first, "#%u", e->first_licensed);
    printf ("%-32s %9u %9u %12u %7u %7u %7u %7u %16s\n", e->name, e->requests, e->licensed,
            e->insufficient, e->other, e->failed, e->count, e->minimum, first);
  }
  if (codes->len > 0)
    printf ("\nResults other than licensed:\n");
  for (guint i = 0; i < codes->len; i++) {
    guint32 c = g_array_index (codes, guint32, i);
    const char *text = volact_error_text (c);
    printf ("  0x%08X x %u  %s\n", c,
            volact_fleet_codes_get (f->codes, c),
            text ? text : "");
  }
}

static int
run (Options *o)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactClient) client = NULL;
  g_autoptr (GHashTable) codes = g_hash_table_new (NULL, NULL);
  g_autofree Fleet *f = g_new0 (Fleet, 1);
  guint64 v;

  if (!volact_cli_parse_uint (o->clients, 1, FLEET_MAX_CLIENTS, &v))
    return volact_cli_usage_error (PROGRAM, "--clients N is required, N in 1..%u",
                                   FLEET_MAX_CLIENTS);
  if (o->trust == NULL)
    return volact_cli_usage_error (PROGRAM, "--trust CERT is required: the certificate of the "
                                            "authority whose hosts to accept");
  f->n_clients = (guint) v;
  if (o->editions == NULL)
    return volact_cli_usage_error (PROGRAM, "--editions E1[:W1],E2[:W2],... is required");
  if (!fleet_parse_editions (f, o->editions, &error))
    return volact_cli_usage_error (PROGRAM, "%s", error->message);
  if (o->vm_share != NULL && !volact_cli_parse_uint (o->vm_share, 0, 100, &v))
    return volact_cli_usage_error (PROGRAM, "--vm-share: a percentage, 0..100");
  f->vm_share = o->vm_share ? (guint) v : 0;
  if (o->connections != NULL && !g_str_equal (o->connections, "persistent")
      && !g_str_equal (o->connections, "new"))
    return volact_cli_usage_error (PROGRAM, "--connections: persistent or new");
  f->new_connections = o->connections != NULL && g_str_equal (o->connections, "new");
  if (o->seed != NULL && !volact_cli_parse_uint (o->seed, 0, G_MAXUINT32, &v))
    return volact_cli_usage_error (PROGRAM, "--seed: a number, 0..%u", G_MAXUINT32);
  f->seed = o->seed ? (guint32) v : 1;
  f->codes = codes;

  client = volact_client_new (o->host, o->port, o->trust, &error);
  if (client == NULL) {
    volact_cli_print_error_line ((guint32) error->code, NULL, error->message);
    return EXIT_FAILURE;
  }
  fleet_run (f, client);
  if (o->json)
    fleet_print_json (f, o);
  else
    fleet_print_text (f, o);
  return f->failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int
main (int argc, char **argv)
{
  Options o = { 0 };
  GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &o.host_arg, "Host to ask (default 127.0.0.1:1688)",
      "H[:PORT]" },
    { "trust", 0, 0, G_OPTION_ARG_FILENAME, &o.trust, "Authority certificate to pin (required)",
      "CERT" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &o.json, "Machine-readable output", NULL },
    { "clients", 0, 0, G_OPTION_ARG_STRING, &o.clients, "Number of machines (required)", "N" },
    { "editions", 0, 0, G_OPTION_ARG_STRING, &o.editions, "Editions and weights (required)",
      "E1[:W],..." },
    { "vm-share", 0, 0, G_OPTION_ARG_STRING, &o.vm_share, "Percent virtual (default 0)", "PCT" },
    { "connections", 0, 0, G_OPTION_ARG_STRING, &o.connections,
      "persistent (default) or new per request", "MODE" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &o.seed, "Random seed (default 1)", "S" },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  int rc;

  rc = volact_fleet_parse_options (
      PROGRAM, entries,
      "Play a fleet of distinct client machines against a volact host (a load generator).",
      "Exit status: 0 every request got a verified answer, 1 otherwise, 2 usage.\n"
      "See bench/README.md.\n",
      &argc, &argv);
  if (rc != 0)
    goto out;
  if (!volact_cli_parse_host (o.host_arg, &o.host, &o.port, &o.host_label, &error)) {
    rc = volact_cli_usage_error (PROGRAM, "%s", error->message);
    goto out;
  }
  rc = run (&o);
out:
  options_clear (&o);
  return rc;
}
