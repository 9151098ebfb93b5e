/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volact-client: activate this machine against a volact host, show the
 * client's state, or simulate a fleet of machines (volact-client(1)).
 */
#include "config.h"

#include "volact.h"

#include "volact-client-state.h"
#include "volact-error.h"
#include "volact-json.h"
#include "volact-protocol.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#define EXIT_USAGE 2
#define FLEET_MAX_CLIENTS 1000000u
#define FLEET_MAX_EDITIONS 64
#define FLEET_MAX_WEIGHT 1000000u
/* A fleet run stops after this many failures in a row that reached no host. */
#define FLEET_MAX_UNREACHABLE 10

typedef struct {
  /* Global. */
  char *host_arg;
  char *trust;
  char *state_path;
  gboolean json;
  /* activate */
  char *edition;
  char *cmid;
  char *name;
  gboolean vm;
  gboolean if_due;
  /* fleet */
  char *clients;
  char *editions;
  char *vm_share;
  char *connections;
  char *seed;
  /* Parsed. */
  char *host;
  guint16 port;
  char *host_label; /* "host:port" as printed and stored */
} Options;

static void
options_clear (Options *o)
{
  g_free (o->host_arg);
  g_free (o->trust);
  g_free (o->state_path);
  g_free (o->edition);
  g_free (o->cmid);
  g_free (o->name);
  g_free (o->clients);
  g_free (o->editions);
  g_free (o->vm_share);
  g_free (o->connections);
  g_free (o->seed);
  g_free (o->host);
  g_free (o->host_label);
}

static const char usage_text[]
    = "Usage:\n"
      "  volact-client [--host H[:PORT]] [--trust CERT] [--json] [--state FILE] COMMAND\n"
      "\n"
      "Commands:\n"
      "  activate --edition EDITION [--cmid UUID] [--name FQDN] [--vm] [--if-due]\n"
      "  status\n"
      "  fleet --clients N --editions E1[:W1],E2[:W2],... [--vm-share PCT]\n"
      "        [--connections persistent|new] [--seed S]\n"
      "\n"
      "Exit status: 0 licensed (status, fleet: success), 1 not licensed or failed, 2 usage.\n"
      "See volact-client(1).\n";

static int usage_error (const char *format, ...) G_GNUC_PRINTF (1, 2);

static int
usage_error (const char *format, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  fprintf (stderr, "volact-client: %s\nRun \"volact-client --help\" for usage.\n", msg);
  return EXIT_USAGE;
}

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static void
print_json (GVariantBuilder *b)
{
  g_autoptr (GVariant) v = g_variant_ref_sink (g_variant_builder_end (b));
  g_autofree char *text = volact_json_from_variant (v, TRUE);
  fputs (text, stdout);
}

/* Prints "Error: 0xCODE text[ extra]" and, if it adds something, the detail below it. */
static void
print_error_line (guint32 code, const char *extra, const char *detail)
{
  const char *text = volact_error_text (code);

  fprintf (stderr, "Error: 0x%08X %s%s\n", code, text ? text : "Unknown error.",
           extra ? extra : "");
  if (detail != NULL && (text == NULL || strstr (detail, text) == NULL))
    fprintf (stderr, "       %s\n", detail);
}

static gboolean
parse_uint (const char *text, guint64 min, guint64 max, guint64 *out)
{
  return text != NULL && g_ascii_string_to_unsigned (text, 10, min, max, out, NULL);
}

static gboolean
edition_valid (const char *e)
{
  return volact_proto_edition_valid (e, strlen (e));
}

static gboolean
name_valid (const char *n)
{
  return volact_proto_name_valid (n, strlen (n));
}

static gboolean
cmid_to_bytes (const char *uuid, guint8 out[VOLACT_CLIENT_CMID_SIZE])
{
  gsize j = 0;

  if (!g_uuid_string_is_valid (uuid))
    return FALSE;
  for (const char *p = uuid; *p && j < VOLACT_CLIENT_CMID_SIZE; p++) {
    if (*p == '-')
      continue;
    out[j++] = (guint8) (g_ascii_xdigit_value (p[0]) << 4 | g_ascii_xdigit_value (p[1]));
    p++;
  }
  return j == VOLACT_CLIENT_CMID_SIZE;
}

static VolactClient *
open_client (Options *o, GError **error)
{
  return volact_client_new (o->host, o->port, o->trust, error);
}

/* ---- activate -------------------------------------------------------------------------------- */

static void
activate_json (Options *o, const VolactClientState *s, const VolactClientResult *res,
               gboolean response, const GError *failure, const char *cmid, gint64 now)
{
  GVariantBuilder b;
  g_autofree char *expires = volact_client_format_time (s->state_expires);
  g_autofree char *next = volact_client_format_time (s->next_attempt);
  const char *text = volact_error_text (res->result);

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "result", g_variant_new_uint32 (res->result));
  g_variant_builder_add (&b, "{sv}", "result_text", g_variant_new_string (text ? text : ""));
  if (failure != NULL)
    g_variant_builder_add (&b, "{sv}", "message", g_variant_new_string (failure->message));
  g_variant_builder_add (&b, "{sv}", "licensed", g_variant_new_boolean (res->licensed));
  g_variant_builder_add (&b, "{sv}", "response", g_variant_new_boolean (response));
  g_variant_builder_add (&b, "{sv}", "count", g_variant_new_uint32 (res->count));
  g_variant_builder_add (&b, "{sv}", "minimum_count", g_variant_new_uint32 (res->minimum_count));
  g_variant_builder_add (&b, "{sv}", "activation_interval",
                         g_variant_new_uint32 (s->activation_interval));
  g_variant_builder_add (&b, "{sv}", "renewal_interval",
                         g_variant_new_uint32 (s->renewal_interval));
  g_variant_builder_add (&b, "{sv}", "validity_days", g_variant_new_uint32 (res->validity_days));
  g_variant_builder_add (&b, "{sv}", "license_state",
                         g_variant_new_string (volact_license_state_to_string (s->license_state)));
  g_variant_builder_add (&b, "{sv}", "state_expires", g_variant_new_string (expires));
  g_variant_builder_add (&b, "{sv}", "next_attempt", g_variant_new_string (next));
  g_variant_builder_add (&b, "{sv}", "next_attempt_minutes",
                         g_variant_new_uint32 (volact_client_state_minutes_to_next (s, now)));
  g_variant_builder_add (&b, "{sv}", "host", g_variant_new_string (o->host_label));
  g_variant_builder_add (&b, "{sv}", "edition", g_variant_new_string (o->edition));
  g_variant_builder_add (&b, "{sv}", "cmid", g_variant_new_string (cmid));
  print_json (&b);
}

static void
activate_text (const VolactClientState *s, const VolactClientResult *res, gboolean response,
               const GError *failure, gint64 now)
{
  g_autofree char *count = NULL;
  g_autofree char *extra = NULL;
  guint wait = volact_client_state_minutes_to_next (s, now);

  if (response)
    count = g_strdup_printf (" (count %u of %u needed)", res->count, res->minimum_count);
  if (res->licensed) {
    printf ("Licensed%s; renew in %u minutes\n", count, wait);
    return;
  }
  if (count != NULL)
    extra = g_strdup_printf ("%s; retry in %u minutes", count, wait);
  else
    extra = g_strdup_printf (" Retry in %u minutes.", wait);
  print_error_line (res->result, extra, failure ? failure->message : NULL);
}

static gboolean
load_or_create_state (const char *path, gint64 now, VolactClientState *s, GError **error)
{
  gboolean not_found = FALSE;
  g_autoptr (GError) local = NULL;

  if (volact_client_state_load (path, s, &not_found, &local))
    return TRUE;
  if (!not_found) {
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  /* First run: a CMID made once for this machine, kept in the state file. */
  {
    g_autofree char *uuid = g_uuid_string_random ();
    volact_client_state_init (s, uuid, now);
  }
  return TRUE;
}

static int
cmd_activate (Options *o)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactClient) client = NULL;
  g_autofree char *default_name = NULL;
  VolactClientState state, next;
  VolactClientRequest req = { 0 };
  VolactClientResult res = { 0 };
  VolactClientOutcome outcome = { 0 };
  const char *cmid;
  gboolean response;
  gint64 now = now_seconds ();

  if (o->edition == NULL)
    return usage_error ("activate needs --edition EDITION");
  if (!edition_valid (o->edition))
    return usage_error ("--edition: 1 to 32 characters of a-z, 0-9 and '-'");
  if (o->cmid != NULL && !cmid_to_bytes (o->cmid, req.cmid))
    return usage_error ("--cmid: not a UUID");
  if (o->name != NULL && !name_valid (o->name))
    return usage_error ("--name: at most 63 printable ASCII characters");

  if (!load_or_create_state (o->state_path, now, &state, &error)) {
    print_error_line ((guint32) error->code, NULL, error->message);
    return EXIT_FAILURE;
  }
  volact_client_state_lapse (&state, now);
  if (o->if_due && now < state.next_attempt) {
    guint wait = volact_client_state_minutes_to_next (&state, now);
    if (o->json) {
      VolactClientResult last = { .result = state.last_result,
                                  .licensed = state.license_state == VOLACT_STATE_LICENSED };
      activate_json (o, &state, &last, FALSE, NULL, state.cmid, now);
    } else {
      printf ("Not due: %s; next attempt in %u minutes\n",
              volact_license_state_display (state.license_state), wait);
    }
    return state.license_state == VOLACT_STATE_LICENSED ? EXIT_SUCCESS : EXIT_FAILURE;
  }

  cmid = o->cmid ? o->cmid : state.cmid;
  if (o->cmid == NULL)
    cmid_to_bytes (state.cmid, req.cmid);
  if (o->name == NULL) {
    default_name = g_strdup (g_get_host_name ());
    if (!name_valid (default_name))
      g_clear_pointer (&default_name, g_free);
  }
  req.edition = o->edition;
  req.name = o->name ? o->name : default_name;
  req.virtual_machine = o->vm;
  req.state = (VolactClientLicenseState) state.license_state;
  req.minutes_left = volact_client_state_minutes_left (&state, now);

  client = open_client (o, &error);
  if (client == NULL) {
    print_error_line ((guint32) error->code, NULL, error->message);
    return EXIT_FAILURE;
  }
  response = volact_client_activate (client, &req, &res, &error);

  outcome.response = response;
  outcome.result = res.result;
  outcome.count = res.count;
  outcome.minimum_count = res.minimum_count;
  outcome.activation_interval = res.activation_interval;
  outcome.renewal_interval = res.renewal_interval;
  outcome.validity_days = res.validity_days;
  outcome.host = o->host_label;
  outcome.edition = o->edition;
  next = volact_client_state_next (&state, &outcome, now);
  {
    g_autoptr (GError) save_error = NULL;
    if (!volact_client_state_save (o->state_path, &next, &save_error))
      fprintf (stderr, "Warning: the state was not saved: %s\n", save_error->message);
  }

  if (o->json)
    activate_json (o, &next, &res, response, error, cmid, now);
  else
    activate_text (&next, &res, response, error, now);
  return res.licensed ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- status ---------------------------------------------------------------------------------- */

static void
status_json (const char *path, const VolactClientState *s, gint64 now)
{
  GVariantBuilder b;
  g_autofree char *first = volact_client_format_time (s->first_run);
  g_autofree char *expires = volact_client_format_time (s->state_expires);
  g_autofree char *next = volact_client_format_time (s->next_attempt);
  g_autofree char *attempt = volact_client_format_time (s->last_attempt);
  g_autofree char *response = volact_client_format_time (s->last_response);
  const char *text = volact_error_text (s->last_result);

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "state_file", g_variant_new_string (path));
  g_variant_builder_add (&b, "{sv}", "cmid", g_variant_new_string (s->cmid));
  g_variant_builder_add (&b, "{sv}", "first_run", g_variant_new_string (first));
  g_variant_builder_add (&b, "{sv}", "license_state",
                         g_variant_new_string (volact_license_state_to_string (s->license_state)));
  g_variant_builder_add (&b, "{sv}", "license_status",
                         g_variant_new_string (volact_license_state_display (s->license_state)));
  g_variant_builder_add (&b, "{sv}", "licensed",
                         g_variant_new_boolean (s->license_state == VOLACT_STATE_LICENSED));
  g_variant_builder_add (&b, "{sv}", "state_expires", g_variant_new_string (expires));
  g_variant_builder_add (&b, "{sv}", "minutes_left",
                         g_variant_new_uint32 (volact_client_state_minutes_left (s, now)));
  g_variant_builder_add (&b, "{sv}", "intervals_from_host",
                         g_variant_new_boolean (s->have_response));
  g_variant_builder_add (&b, "{sv}", "activation_interval",
                         g_variant_new_uint32 (s->activation_interval));
  g_variant_builder_add (&b, "{sv}", "renewal_interval",
                         g_variant_new_uint32 (s->renewal_interval));
  g_variant_builder_add (&b, "{sv}", "validity_days", g_variant_new_uint32 (s->validity_days));
  g_variant_builder_add (&b, "{sv}", "host", g_variant_new_string (s->last_host));
  g_variant_builder_add (&b, "{sv}", "edition", g_variant_new_string (s->last_edition));
  g_variant_builder_add (&b, "{sv}", "result", g_variant_new_uint32 (s->last_result));
  g_variant_builder_add (&b, "{sv}", "result_text", g_variant_new_string (text ? text : ""));
  g_variant_builder_add (&b, "{sv}", "count", g_variant_new_uint32 (s->last_count));
  g_variant_builder_add (&b, "{sv}", "minimum_count", g_variant_new_uint32 (s->last_minimum));
  g_variant_builder_add (&b, "{sv}", "last_attempt", g_variant_new_string (attempt));
  g_variant_builder_add (&b, "{sv}", "last_response", g_variant_new_string (response));
  g_variant_builder_add (&b, "{sv}", "next_attempt", g_variant_new_string (next));
  g_variant_builder_add (&b, "{sv}", "next_attempt_minutes",
                         g_variant_new_uint32 (volact_client_state_minutes_to_next (s, now)));
  print_json (&b);
}

static void
status_text (const char *path, const VolactClientState *s, gint64 now)
{
  g_autofree char *expires = volact_client_format_time (s->state_expires);
  g_autofree char *next = volact_client_format_time (s->next_attempt);
  g_autofree char *attempt = volact_client_format_time (s->last_attempt);
  const char *from = s->have_response ? "received from the host" : "default";
  const char *text = volact_error_text (s->last_result);
  guint32 left = volact_client_state_minutes_left (s, now);

  printf ("State file:           %s\n", path);
  printf ("Client machine ID:    %s\n", s->cmid);
  if (s->state_expires != 0)
    printf ("License status:       %s (%u days %u hours left, until %s)\n",
            volact_license_state_display (s->license_state), left / 1440, left % 1440 / 60,
            expires);
  else
    printf ("License status:       %s\n", volact_license_state_display (s->license_state));
  printf ("Activation interval:  %u minutes (%s)\n", s->activation_interval, from);
  printf ("Renewal interval:     %u minutes (%s)\n", s->renewal_interval, from);
  if (s->last_attempt != 0) {
    printf ("Last host:            %s\n", s->last_host);
    printf ("Last edition:         %s\n", s->last_edition);
    printf ("Last attempt:         %s\n", attempt);
    printf ("Last result:          0x%08X %s\n", s->last_result, text ? text : "");
    if (s->have_response)
      printf ("Last count:           %u of %u needed\n", s->last_count, s->last_minimum);
  } else {
    printf ("Last attempt:         never\n");
  }
  printf ("Next attempt:         %s (in %u minutes)\n", next,
          volact_client_state_minutes_to_next (s, now));
}

static int
cmd_status (Options *o)
{
  g_autoptr (GError) error = NULL;
  VolactClientState s;
  gint64 now = now_seconds ();

  if (!volact_client_state_load (o->state_path, &s, NULL, &error)) {
    print_error_line ((guint32) error->code, NULL, error->message);
    return EXIT_FAILURE;
  }
  volact_client_state_lapse (&s, now);
  if (o->json)
    status_json (o->state_path, &s, now);
  else
    status_text (o->state_path, &s, now);
  return EXIT_SUCCESS;
}

/* ---- fleet ----------------------------------------------------------------------------------- */

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
      if (!parse_uint (colon + 1, 1, FLEET_MAX_WEIGHT, &w)) {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                     "--editions: the weight of \"%s\" must be 1..%u", items[i], FLEET_MAX_WEIGHT);
        return FALSE;
      }
    }
    if (!edition_valid (items[i])) {
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
fleet_note_code (Fleet *f, guint32 code)
{
  gpointer key = GUINT_TO_POINTER (code);
  g_hash_table_insert (
      f->codes, key, GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (f->codes, key)) + 1));
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
    req.cmid[6] = (req.cmid[6] & 0x0f) | 0x40; /* a version 4 UUID */
    req.cmid[8] = (req.cmid[8] & 0x3f) | 0x80;
    e = fleet_pick (f, rand);
    req.virtual_machine = (guint) g_rand_int_range (rand, 0, 100) < f->vm_share;
    g_snprintf (name, sizeof name, "ws%04u.fleet.example", i);
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
      fleet_note_code (f, res.result);
      if (g_error_matches (error, VOLACT_ERROR, VOLACT_E_HOST_UNREACHABLE)) {
        if (++unreachable_in_a_row == FLEET_MAX_UNREACHABLE) {
          fprintf (stderr, "volact-client: stopping after %u failures in a row: %s\n",
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
      fleet_note_code (f, res.result);
    }
  }
  f->seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

static gint
compare_codes (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  return x < y ? -1 : x > y;
}

static GArray *
fleet_sorted_codes (Fleet *f)
{
  GArray *codes = g_array_new (FALSE, FALSE, sizeof (guint32));
  GHashTableIter it;
  gpointer key;

  g_hash_table_iter_init (&it, f->codes);
  while (g_hash_table_iter_next (&it, &key, NULL)) {
    guint32 c = GPOINTER_TO_UINT (key);
    g_array_append_val (codes, c);
  }
  g_array_sort (codes, compare_codes);
  return codes;
}

static void
fleet_print_json (Fleet *f, const Options *o)
{
  GVariantBuilder b, eds, errs;
  g_autoptr (GArray) codes = fleet_sorted_codes (f);

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
                           g_variant_new_uint32 (GPOINTER_TO_UINT (
                               g_hash_table_lookup (f->codes, GUINT_TO_POINTER (c)))));
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
  print_json (&b);
}

static void
fleet_print_text (Fleet *f, const Options *o)
{
  g_autoptr (GArray) codes = fleet_sorted_codes (f);

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
            GPOINTER_TO_UINT (g_hash_table_lookup (f->codes, GUINT_TO_POINTER (c))),
            text ? text : "");
  }
}

static int
cmd_fleet (Options *o)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactClient) client = NULL;
  g_autoptr (GHashTable) codes = g_hash_table_new (NULL, NULL);
  g_autofree Fleet *f = g_new0 (Fleet, 1);
  guint64 v;

  if (!parse_uint (o->clients, 1, FLEET_MAX_CLIENTS, &v))
    return usage_error ("fleet needs --clients N with N in 1..%u", FLEET_MAX_CLIENTS);
  f->n_clients = (guint) v;
  if (o->editions == NULL)
    return usage_error ("fleet needs --editions E1[:W1],E2[:W2],...");
  if (!fleet_parse_editions (f, o->editions, &error))
    return usage_error ("%s", error->message);
  if (o->vm_share != NULL && !parse_uint (o->vm_share, 0, 100, &v))
    return usage_error ("--vm-share: a percentage, 0..100");
  f->vm_share = o->vm_share ? (guint) v : 0;
  if (o->connections != NULL && !g_str_equal (o->connections, "persistent")
      && !g_str_equal (o->connections, "new"))
    return usage_error ("--connections: persistent or new");
  f->new_connections = o->connections != NULL && g_str_equal (o->connections, "new");
  if (o->seed != NULL && !parse_uint (o->seed, 0, G_MAXUINT32, &v))
    return usage_error ("--seed: a number, 0..%u", G_MAXUINT32);
  f->seed = o->seed ? (guint32) v : 1;
  f->codes = codes;

  client = open_client (o, &error);
  if (client == NULL) {
    print_error_line ((guint32) error->code, NULL, error->message);
    return EXIT_FAILURE;
  }
  fleet_run (f, client);
  if (o->json)
    fleet_print_json (f, o);
  else
    fleet_print_text (f, o);
  return f->failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- main ------------------------------------------------------------------------------------ */

static gboolean
parse_host (Options *o, GError **error)
{
  g_autoptr (GSocketConnectable) addr = NULL;
  const char *arg = o->host_arg ? o->host_arg : "127.0.0.1";
  const char *h;
  guint16 port;

  if (*arg == '\0') {
    g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_CONFIG, "--host: empty");
    return FALSE;
  }
  addr = g_network_address_parse (arg, VOLACT_CLIENT_DEFAULT_PORT, error);
  if (addr == NULL)
    return FALSE;
  h = g_network_address_get_hostname (G_NETWORK_ADDRESS (addr));
  port = g_network_address_get_port (G_NETWORK_ADDRESS (addr));
  if (h == NULL || *h == '\0' || port == 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "--host: \"%s\" is not HOST[:PORT]", arg);
    return FALSE;
  }
  o->host = g_strdup (h);
  o->port = port;
  o->host_label
      = strchr (h, ':') ? g_strdup_printf ("[%s]:%u", h, port) : g_strdup_printf ("%s:%u", h, port);
  if (strlen (o->host_label) >= VOLACT_CLIENT_HOST_SIZE) {
    g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_CONFIG, "--host: too long");
    return FALSE;
  }
  return TRUE;
}

int
main (int argc, char **argv)
{
  Options o = { 0 };
  GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &o.host_arg, "Host to ask (default 127.0.0.1:1688)",
      "H[:PORT]" },
    { "trust", 0, 0, G_OPTION_ARG_FILENAME, &o.trust, "Authority certificate to pin", "CERT" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &o.json, "Machine-readable output", NULL },
    { "state", 0, 0, G_OPTION_ARG_FILENAME, &o.state_path, "Client state file", "FILE" },
    { "edition", 0, 0, G_OPTION_ARG_STRING, &o.edition, "activate: edition id", "EDITION" },
    { "cmid", 0, 0, G_OPTION_ARG_STRING, &o.cmid, "activate: client machine ID", "UUID" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &o.name, "activate: machine name", "FQDN" },
    { "vm", 0, 0, G_OPTION_ARG_NONE, &o.vm, "activate: this machine is virtual", NULL },
    { "if-due", 0, 0, G_OPTION_ARG_NONE, &o.if_due, "activate: only if the next attempt is due",
      NULL },
    { "clients", 0, 0, G_OPTION_ARG_STRING, &o.clients, "fleet: number of machines", "N" },
    { "editions", 0, 0, G_OPTION_ARG_STRING, &o.editions, "fleet: editions and weights",
      "E1[:W],..." },
    { "vm-share", 0, 0, G_OPTION_ARG_STRING, &o.vm_share, "fleet: percent virtual", "PCT" },
    { "connections", 0, 0, G_OPTION_ARG_STRING, &o.connections,
      "fleet: persistent or new per request", "MODE" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &o.seed, "fleet: random seed (default 1)", "S" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("COMMAND");
  g_autoptr (GError) error = NULL;
  const char *command;
  gboolean activate_opts, fleet_opts;
  int rc;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx, "Activate against a volact host (see volact-client(1)).");
  g_option_context_set_description (ctx, usage_text);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    rc = usage_error ("%s", error->message);
    goto out;
  }
  if (argc < 2) {
    rc = usage_error ("no command given");
    goto out;
  }
  if (argc > 2) {
    rc = usage_error ("unexpected argument \"%s\"", argv[2]);
    goto out;
  }
  command = argv[1];
  activate_opts = o.edition || o.cmid || o.name || o.vm || o.if_due;
  fleet_opts = o.clients || o.editions || o.vm_share || o.connections || o.seed;
  if (!parse_host (&o, &error)) {
    rc = usage_error ("%s", error->message);
    goto out;
  }
  if (o.state_path == NULL)
    o.state_path = volact_client_state_default_path ();

  if (g_str_equal (command, "activate") && !fleet_opts)
    rc = cmd_activate (&o);
  else if (g_str_equal (command, "status") && !activate_opts && !fleet_opts)
    rc = cmd_status (&o);
  else if (g_str_equal (command, "fleet") && !activate_opts)
    rc = cmd_fleet (&o);
  else if (g_str_equal (command, "activate") || g_str_equal (command, "status")
           || g_str_equal (command, "fleet"))
    rc = usage_error ("an option given does not belong to \"%s\"", command);
  else
    rc = usage_error ("unknown command \"%s\"", command);
out:
  options_clear (&o);
  return rc;
}
