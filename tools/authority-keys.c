/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volact-authority issue-key and limits: host keys in the authority's ledger
 * (DIR/ledger.db, see authority-ledger.h and docs/host-keys.md).
 */
#include "config.h"

#include "authority-commands.h"
#include "authority-ledger.h"

#include "volact-error.h"
#include "volact-key.h"

#include <stdio.h>
#include <stdlib.h>

static char *opt_group;
static char *opt_max_hosts;
static char *opt_max_activations;

/* Numbers are taken as strings so that a bad value is a clear error (0xC0AC0003), not a usage
 * message. */
const GOptionEntry authority_issue_key_entries[]
    = { { "group", 'g', 0, G_OPTION_ARG_STRING, &opt_group, "Key group of the new key (1..1023)",
          "G" },
        { "max-hosts", 0, 0, G_OPTION_ARG_STRING, &opt_max_hosts,
          "Distinct hosts the key may activate (default 6)", "N" },
        { "max-activations", 0, 0, G_OPTION_ARG_STRING, &opt_max_activations,
          "Activations per host (default 10, at most 255)", "N" },
        { NULL } };

const GOptionEntry authority_limits_entries[]
    = { { "max-hosts", 0, 0, G_OPTION_ARG_STRING, &opt_max_hosts,
          "New limit of distinct hosts (1..1000000)", "N" },
        { "max-activations", 0, 0, G_OPTION_ARG_STRING, &opt_max_activations,
          "New limit of activations per host (1..255)", "N" },
        { NULL } };

/* Parses TEXT (if given) as a decimal number in MIN..MAX; *OUT stays 0 when TEXT is NULL. */
static gboolean
parse_number (const char *option, const char *text, guint min, guint max, guint *out,
              GError **error)
{
  guint64 value = 0;

  *out = 0;
  if (text == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (text, 10, min, max, &value, NULL)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "%s \"%s\": expected a whole number from %u to %u", option, text, min, max);
    return FALSE;
  }
  *out = (guint) value;
  return TRUE;
}

/* Parses --max-hosts and --max-activations (0 = not given). */
static gboolean
parse_limits (guint *max_hosts, guint *max_activations, GError **error)
{
  return parse_number ("--max-hosts", opt_max_hosts, 1, VOLACT_LEDGER_MAX_HOSTS_LIMIT, max_hosts,
                       error)
         && parse_number ("--max-activations", opt_max_activations, 1,
                          VOLACT_LEDGER_MAX_ACTIVATIONS_LIMIT, max_activations, error);
}

static VolactLedger *
open_ledger (Authority *a, GError **error)
{
  if (!authority_check_initialised (a, error))
    return NULL;
  return volact_ledger_open (a->dir, error);
}

int
authority_cmd_issue_key (Authority *a, int argc, char **argv)
{
  g_autoptr (VolactLedger) ledger = NULL;
  g_autoptr (GError) error = NULL;
  char text[VOLACT_KEY_TEXT_SIZE];
  VolactHostKey key;
  guint group, max_hosts, max_activations;

  if (argc > 1) {
    fprintf (stderr, "volact-authority: issue-key takes no arguments (did you mean --group %s?)\n",
             argv[1]);
    return EXIT_USAGE;
  }
  if (opt_group == NULL) {
    fprintf (stderr, "volact-authority: issue-key needs --group G (1..1023)\n");
    return EXIT_USAGE;
  }
  if (!parse_number ("key group", opt_group, VOLACT_KEY_GROUP_MIN, VOLACT_KEY_GROUP_MAX, &group,
                     &error)
      || !parse_limits (&max_hosts, &max_activations, &error))
    return authority_fail (a, "issue-key", error);

  ledger = open_ledger (a, &error);
  if (ledger == NULL
      || !volact_ledger_issue_key (ledger, group, max_hosts, max_activations, &key, &error))
    return authority_fail (a, "issue-key", error);
  if (!volact_key_encode (&key, text, &error))
    return authority_fail (a, "issue-key", error);
  if (max_hosts == 0)
    max_hosts = VOLACT_LEDGER_DEFAULT_MAX_HOSTS;
  if (max_activations == 0)
    max_activations = VOLACT_LEDGER_DEFAULT_MAX_ACTIVATIONS;

  if (a->json) {
    g_string_append (a->out, "{\"command\": \"issue-key\", \"ok\": true, \"key\": ");
    authority_json_string (a->out, text);
    g_string_append_printf (a->out,
                            ", \"group\": %u, \"serial\": %" G_GUINT64_FORMAT
                            ", \"max_hosts\": %u, \"max_activations\": %u}\n",
                            key.group, key.serial, max_hosts, max_activations);
  } else {
    /* stdout carries only the key, so scripts can capture it. */
    printf ("%s\n", text);
    fflush (stdout);
    fprintf (stderr,
             "Issued host key serial %" G_GUINT64_FORMAT
             " of group %u: at most %u hosts, %u activations each (%s)\n",
             key.serial, key.group, max_hosts, max_activations, volact_ledger_path (ledger));
  }
  return EXIT_SUCCESS;
}

int
authority_cmd_limits (Authority *a, int argc, char **argv)
{
  g_autoptr (VolactLedger) ledger = NULL;
  g_autoptr (GError) error = NULL;
  VolactLedgerKeyInfo info;
  VolactHostKey key;
  guint max_hosts, max_activations;

  if (argc != 2) {
    fprintf (stderr, "volact-authority: limits needs one KEY\n");
    return EXIT_USAGE;
  }
  if (!parse_limits (&max_hosts, &max_activations, &error))
    return authority_fail (a, "limits", error);
  if (!volact_key_decode (argv[1], &key, &error))
    return authority_fail (a, "limits", error);

  ledger = open_ledger (a, &error);
  if (ledger == NULL)
    return authority_fail (a, "limits", error);
  if (!volact_ledger_get_key (ledger, key.serial, &info, &error)
      && !g_error_matches (error, VOLACT_ERROR, VOLACT_E_INVALID_KEY))
    return authority_fail (a, "limits", error);
  /* The whole key must match, not only its serial: one message for both cases. */
  if (error != NULL || info.key.group != key.group || info.key.nonce != key.nonce) {
    g_clear_error (&error);
    g_set_error (&error, VOLACT_ERROR, VOLACT_E_INVALID_KEY,
                 "key serial %" G_GUINT64_FORMAT " (group %u) was not issued by this authority",
                 key.serial, key.group);
    return authority_fail (a, "limits", error);
  }
  if ((max_hosts != 0 || max_activations != 0)
      && (!volact_ledger_set_limits (ledger, key.serial, max_hosts, max_activations, &error)
          || !volact_ledger_get_key (ledger, key.serial, &info, &error)))
    return authority_fail (a, "limits", error);

  if (a->json) {
    g_string_append_printf (a->out,
                            "{\"command\": \"limits\", \"ok\": true, \"serial\": %" G_GUINT64_FORMAT
                            ", \"group\": %u, \"max_hosts\": %u, \"max_activations\": %u"
                            ", \"hosts\": %u}\n",
                            info.key.serial, info.key.group, info.max_hosts, info.max_activations,
                            info.hosts);
  } else {
    printf ("Key serial: %" G_GUINT64_FORMAT "\n", info.key.serial);
    printf ("Key group: %u\n", info.key.group);
    printf ("Max hosts: %u\n", info.max_hosts);
    printf ("Max activations per host: %u\n", info.max_activations);
    printf ("Hosts activated: %u of %u\n", info.hosts, info.max_hosts);
  }
  return EXIT_SUCCESS;
}
