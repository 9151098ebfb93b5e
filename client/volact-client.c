/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volact-client: activate this machine against a volact host or show the
 * client's state (volact-client(1)). Simulating a fleet of machines is
 * bench/volact-fleet's job, not the installed client's.
 */
#include "config.h"

#include "volact.h"

#include "volact-client-cli.h"
#include "volact-client-config.h"
#include "volact-client-state.h"
#include "volact-error.h"
#include "volact-json.h"
#include "volact-protocol.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#define PROGRAM "volact-client"

typedef struct {
  /* Global. */
  char *config;
  char *host_arg;
  char *trust;
  char *state_path;
  gboolean json;
  /* Discovery (without --host). */
  char *domain;
  char *dns_server;
  int connect_timeout_ms;
  gboolean no_host_cache;
  /* activate */
  char *edition;
  char *cmid;
  char *name;
  gboolean vm;
  gboolean if_due;
  /* Parsed. */
  VolactClientConfig cfg;  /* --config, if given */
  char *machine_cmid;      /* the CMID a new state file gets (one per machine) */
  char *host;
  guint16 port;
  char *host_label;        /* "host:port" as printed and stored */
  const char *host_source; /* "explicit", "cache" or "discovery" */
} Options;

static void
options_clear (Options *o)
{
  g_free (o->config);
  g_free (o->host_arg);
  g_free (o->trust);
  g_free (o->state_path);
  g_free (o->domain);
  g_free (o->dns_server);
  g_free (o->edition);
  g_free (o->cmid);
  g_free (o->name);
  g_free (o->host);
  g_free (o->host_label);
  g_free (o->machine_cmid);
  volact_client_config_clear (&o->cfg);
}

static const char usage_text[]
    = "Usage:\n"
      "  volact-client [--host H[:PORT]] [--trust CERT] [--json] [--state FILE] COMMAND\n"
      "  volact-client --config FILE [OPTION...] activate|status\n"
      "  volact-client [--domain D] [--dns-server ADDR[:PORT]] [--connect-timeout MS]\n"
      "                [--no-host-cache] [--trust CERT] [--json] [--state FILE] COMMAND\n"
      "\n"
      "Commands:\n"
      "  activate --edition EDITION [--cmid UUID] [--name FQDN] [--vm] [--if-due]\n"
      "           (needs --trust CERT: there is no default authority)\n"
      "  status\n"
      "  discover (the hosts published in DNS, in the order they would be tried)\n"
      "\n"
      "With --config and no --edition, activate and status handle every edition the\n"
      "file lists, each with its own state file in its state-dir.\n"
      "\n"
      "Without --host the client tries the host that answered last (host caching), then\n"
      "looks up the SRV records of _volact._tcp.DOMAIN.\n"
      "\n"
      "Exit status: 0 licensed (status: state shown), 1 not licensed or failed, 2 usage.\n"
      "See volact-client(1).\n";

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
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

static VolactClientDiscovery
discovery_options (const Options *o, const char *cached_host)
{
  VolactClientDiscovery d = {
    .domain = o->domain,
    .dns_server = o->dns_server,
    .connect_timeout_ms = (guint) o->connect_timeout_ms,
    .cached_host = cached_host && *cached_host ? cached_host : NULL,
    .flags = o->no_host_cache ? VOLACT_CLIENT_DISCOVERY_NO_HOST_CACHE : 0,
  };
  return d;
}

/* --host wins; without it the cached host, then DNS discovery. */
static VolactClient *
open_client (Options *o, const VolactClientState *state, GError **error)
{
  VolactClientDiscovery d;

  if (o->host != NULL)
    return volact_client_new (o->host, o->port, o->trust, error);
  d = discovery_options (o, state->cached_host);
  return volact_client_new_discover (&d, o->trust, error);
}

/* After an attempt: which host it went to and how it was found. */
static void
note_host (Options *o, VolactClient *client)
{
  const char *label = volact_client_get_host (client);

  if (o->host != NULL) {
    o->host_source = "explicit";
    return;
  }
  g_free (o->host_label);
  o->host_label = g_strdup (label ? label : "");
  o->host_source = volact_client_get_host_from_cache (client) ? "cache" : "discovery";
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
  g_variant_builder_add (&b, "{sv}", "host",
                         g_variant_new_string (o->host_label ? o->host_label : ""));
  g_variant_builder_add (&b, "{sv}", "host_source",
                         g_variant_new_string (o->host_source ? o->host_source : ""));
  g_variant_builder_add (&b, "{sv}", "edition", g_variant_new_string (o->edition));
  g_variant_builder_add (&b, "{sv}", "cmid", g_variant_new_string (cmid));
  volact_cli_print_json (&b);
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
  volact_cli_print_error_line (res->result, extra, failure ? failure->message : NULL);
}

static gboolean
load_or_create_state (const char *path, const char *machine_cmid, gint64 now,
                      VolactClientState *s, GError **error)
{
  gboolean not_found = FALSE;
  g_autoptr (GError) local = NULL;

  if (volact_client_state_load (path, s, &not_found, &local))
    return TRUE;
  if (!not_found) {
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  /* First run: a CMID made once for this machine, kept in the state file; every
   * edition of one machine sends the same one, so the machine counts once. */
  {
    g_autofree char *uuid = machine_cmid ? g_strdup (machine_cmid) : g_uuid_string_random ();
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
    return volact_cli_usage_error (PROGRAM, "activate needs --edition EDITION");
  if (!edition_valid (o->edition))
    return volact_cli_usage_error (PROGRAM, "--edition: 1 to 32 characters of a-z, 0-9 and '-'");
  /* No default authority: the embedder or the administrator names the one to trust. */
  if (o->trust == NULL && o->config != NULL) {
    fprintf (stderr, "%s: [%s] trust is not set: name the certificate of the authority whose "
             "hosts to accept (there is no default)\n", o->config, VOLACT_CLIENT_CONFIG_GROUP);
    return EXIT_FAILURE;
  }
  if (o->trust == NULL)
    return volact_cli_usage_error (PROGRAM,
                                   "activate needs --trust CERT: the certificate of "
                                   "the authority whose hosts to accept (there is no default)");
  if (o->cmid != NULL && !cmid_to_bytes (o->cmid, req.cmid))
    return volact_cli_usage_error (PROGRAM, "--cmid: not a UUID");
  if (o->name != NULL && !name_valid (o->name))
    return volact_cli_usage_error (PROGRAM, "--name: at most 63 printable ASCII characters");

  if (!load_or_create_state (o->state_path, o->machine_cmid, now, &state, &error)) {
    volact_cli_print_error_line ((guint32) error->code, NULL, error->message);
    return EXIT_FAILURE;
  }
  if (o->machine_cmid == NULL)
    o->machine_cmid = g_strdup (state.cmid);
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

  client = open_client (o, &state, &error);
  if (client == NULL) {
    volact_cli_print_error_line ((guint32) error->code, NULL, error->message);
    return EXIT_FAILURE;
  }
  response = volact_client_activate (client, &req, &res, &error);
  note_host (o, client);

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
  /* Host caching: remember the discovered host that answered (--host is not cached). */
  if (response && o->host == NULL && !o->no_host_cache)
    g_strlcpy (next.cached_host, o->host_label, sizeof next.cached_host);
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
  g_variant_builder_add (&b, "{sv}", "cached_host", g_variant_new_string (s->cached_host));
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
  volact_cli_print_json (&b);
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
  printf ("Cached host:          %s\n", s->cached_host[0] ? s->cached_host : "none");
}

static int
cmd_status (Options *o)
{
  g_autoptr (GError) error = NULL;
  VolactClientState s;
  gint64 now = now_seconds ();

  if (!volact_client_state_load (o->state_path, &s, NULL, &error)) {
    volact_cli_print_error_line ((guint32) error->code, NULL, error->message);
    return EXIT_FAILURE;
  }
  volact_client_state_lapse (&s, now);
  if (o->json)
    status_json (o->state_path, &s, now);
  else
    status_text (o->state_path, &s, now);
  return EXIT_SUCCESS;
}

/* ---- discover -------------------------------------------------------------------------------- */

static void
discover_json (const VolactClientHostList *list)
{
  GVariantBuilder b, hosts;

  g_variant_builder_init (&hosts, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < list->n_hosts; i++) {
    const VolactClientHost *h = &list->hosts[i];
    g_autofree char *label = g_strdup_printf ("%s:%u", h->target, h->port);
    g_variant_builder_open (&hosts, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add (&hosts, "{sv}", "order", g_variant_new_uint32 (i + 1));
    g_variant_builder_add (&hosts, "{sv}", "host", g_variant_new_string (label));
    g_variant_builder_add (&hosts, "{sv}", "target", g_variant_new_string (h->target));
    g_variant_builder_add (&hosts, "{sv}", "port", g_variant_new_uint32 (h->port));
    g_variant_builder_add (&hosts, "{sv}", "priority", g_variant_new_uint32 (h->priority));
    g_variant_builder_add (&hosts, "{sv}", "weight", g_variant_new_uint32 (h->weight));
    g_variant_builder_add (&hosts, "{sv}", "addresses",
                           g_variant_new_strv ((const char *const *) h->addresses, -1));
    if (h->error != NULL)
      g_variant_builder_add (&hosts, "{sv}", "error", g_variant_new_string (h->error));
    g_variant_builder_close (&hosts);
  }
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "name", g_variant_new_string (list->name));
  g_variant_builder_add (&b, "{sv}", "hosts", g_variant_builder_end (&hosts));
  volact_cli_print_json (&b);
}

static int
cmd_discover (Options *o)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactClientHostList) list = NULL;
  VolactClientDiscovery d = discovery_options (o, NULL);

  list = volact_client_discover (&d, &error);
  if (list == NULL) {
    volact_cli_print_error_line ((guint32) error->code, NULL, error->message);
    return EXIT_FAILURE;
  }
  if (o->json) {
    discover_json (list);
    return EXIT_SUCCESS;
  }
  printf ("Hosts published as %s, in the order they would be tried:\n", list->name);
  if (list->n_hosts == 0) {
    printf ("  none: the record says the service is not available in this domain\n");
    return EXIT_SUCCESS;
  }
  printf ("  %-3s %-8s %-6s %-5s %s\n", "#", "priority", "weight", "port", "target (addresses)");
  for (guint i = 0; i < list->n_hosts; i++) {
    const VolactClientHost *h = &list->hosts[i];
    g_autofree char *addresses = g_strjoinv (", ", h->addresses);
    printf ("  %-3u %-8u %-6u %-5u %s (%s)\n", i + 1, h->priority, h->weight, h->port, h->target,
            h->error ? h->error : addresses);
  }
  return EXIT_SUCCESS;
}

/* ---- --config ------------------------------------------------------------------------------- */

/* Command-line options win; the file fills in what they left unset. */
static gboolean
apply_config (Options *o, const char *command, GError **error)
{
  if (!volact_client_config_load (o->config, &o->cfg, error))
    return FALSE;
  if (o->trust == NULL)
    o->trust = g_strdup (o->cfg.trust);
  /* discover never takes a host; an explicit --host or --domain replaces both keys. */
  if (o->host_arg == NULL && o->domain == NULL) {
    if (!g_str_equal (command, "discover"))
      o->host_arg = g_strdup (o->cfg.host);
    o->domain = g_strdup (o->cfg.domain);
  }
  if (o->dns_server == NULL)
    o->dns_server = g_strdup (o->cfg.dns_server);
  return TRUE;
}

/* activate or status for every edition the configuration lists, in order. */
static int
run_config_editions (Options *o, const char *command)
{
  g_autofree char *dir = volact_client_config_state_dir (&o->cfg);
  int rc = EXIT_SUCCESS;

  if (o->cfg.editions[0] == NULL) {
    printf ("%s: no edition is configured ([%s] editions): nothing to %s\n", o->config,
            VOLACT_CLIENT_CONFIG_GROUP, command);
    return EXIT_SUCCESS;
  }
  if (o->machine_cmid == NULL)
    o->machine_cmid = volact_client_config_machine_cmid (dir, o->cfg.editions);
  for (char **e = o->cfg.editions; *e; e++) {
    int one;

    g_free (o->state_path);
    o->state_path = volact_client_config_state_path (dir, *e);
    if (!o->json)
      printf ("Edition %s:\n", *e);
    fflush (stdout);
    if (g_str_equal (command, "status")) {
      one = cmd_status (o);
    } else {
      g_free (o->edition);
      o->edition = g_strdup (*e);
      one = cmd_activate (o);
    }
    fflush (stdout);
    rc = MAX (rc, one);
  }
  return rc;
}

/* ---- main ------------------------------------------------------------------------------------ */

int
main (int argc, char **argv)
{
  Options o = { 0 };
  GOptionEntry entries[] = {
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &o.config,
      "Client configuration file: editions, trust, host or domain (volact-client(1))", "FILE" },
    { "host", 0, 0, G_OPTION_ARG_STRING, &o.host_arg,
      "Host to ask, port 1688 unless given (default: the cached host, then DNS discovery)",
      "H[:PORT]" },
    { "trust", 0, 0, G_OPTION_ARG_FILENAME, &o.trust, "Authority certificate to pin", "CERT" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &o.json, "Machine-readable output", NULL },
    { "state", 0, 0, G_OPTION_ARG_FILENAME, &o.state_path, "Client state file", "FILE" },
    { "domain", 0, 0, G_OPTION_ARG_STRING, &o.domain,
      "Look up _volact._tcp.DOMAIN (default: the search list)", "D" },
    { "dns-server", 0, 0, G_OPTION_ARG_STRING, &o.dns_server,
      "DNS server to ask (default: the system's)", "ADDR[:PORT]" },
    { "connect-timeout", 0, 0, G_OPTION_ARG_INT, &o.connect_timeout_ms,
      "Milliseconds each discovered host gets to accept (default 2000)", "MS" },
    { "no-host-cache", 0, 0, G_OPTION_ARG_NONE, &o.no_host_cache,
      "Neither use nor update the cached host", NULL },
    { "edition", 0, 0, G_OPTION_ARG_STRING, &o.edition, "activate: edition id", "EDITION" },
    { "cmid", 0, 0, G_OPTION_ARG_STRING, &o.cmid, "activate: client machine ID", "UUID" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &o.name, "activate: machine name", "FQDN" },
    { "vm", 0, 0, G_OPTION_ARG_NONE, &o.vm, "activate: this machine is virtual", NULL },
    { "if-due", 0, 0, G_OPTION_ARG_NONE, &o.if_due, "activate: only if the next attempt is due",
      NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("COMMAND");
  g_autoptr (GError) error = NULL;
  const char *command;
  gboolean activate_opts;
  int rc;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx, "Activate against a volact host (see volact-client(1)).");
  g_option_context_set_description (ctx, usage_text);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    rc = volact_cli_usage_error (PROGRAM, "%s", error->message);
    goto out;
  }
  if (argc < 2) {
    rc = volact_cli_usage_error (PROGRAM, "no command given");
    goto out;
  }
  if (argc > 2) {
    rc = volact_cli_usage_error (PROGRAM, "unexpected argument \"%s\"", argv[2]);
    goto out;
  }
  command = argv[1];
  activate_opts = o.edition || o.cmid || o.name || o.vm || o.if_due;
  if (o.config != NULL) {
    if (o.state_path != NULL && o.edition == NULL) {
      rc = volact_cli_usage_error (PROGRAM, "--state names one file: with --config each edition "
                                            "has its own in the state-dir");
      goto out;
    }
    if (!apply_config (&o, command, &error)) {
      volact_cli_print_error_line ((guint32) error->code, NULL, error->message);
      rc = EXIT_FAILURE;
      goto out;
    }
  }
  if (o.host_arg != NULL
      && !volact_cli_parse_host (o.host_arg, &o.host, &o.port, &o.host_label, &error)) {
    rc = volact_cli_usage_error (PROGRAM, "%s", error->message);
    goto out;
  }
  if (o.connect_timeout_ms < 0 || o.connect_timeout_ms > 600000) {
    rc = volact_cli_usage_error (PROGRAM, "--connect-timeout: 0 to 600000 milliseconds");
    goto out;
  }
  if (o.state_path == NULL && o.config != NULL && o.edition != NULL) {
    g_autofree char *dir = volact_client_config_state_dir (&o.cfg);
    o.state_path = volact_client_config_state_path (dir, o.edition);
  }
  if (o.state_path == NULL)
    o.state_path = volact_client_state_default_path ();

  if (o.config != NULL && o.edition == NULL
      && (g_str_equal (command, "activate") || (g_str_equal (command, "status") && !activate_opts)))
    rc = run_config_editions (&o, command);
  else if (g_str_equal (command, "activate"))
    rc = cmd_activate (&o);
  else if (g_str_equal (command, "status") && !activate_opts)
    rc = cmd_status (&o);
  else if (g_str_equal (command, "discover") && !activate_opts && o.host_arg == NULL)
    rc = cmd_discover (&o);
  else if (g_str_equal (command, "status") || g_str_equal (command, "discover"))
    rc = volact_cli_usage_error (PROGRAM, "an option given does not belong to \"%s\"", command);
  else
    rc = volact_cli_usage_error (PROGRAM, "unknown command \"%s\"", command);
out:
  options_clear (&o);
  return rc;
}
