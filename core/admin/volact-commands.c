/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-commands.h"

#include "volact-command-handlers.h"
#include "volact-error.h"

/* The contract's commands, in its order: the one table volactctl and volactd share. */
static const VolactCommand commands[] = {
  { "ipk", 1, 1, "KEY", "Install a host key", volact_cmd_ipk, FALSE, FALSE },
  { "upk", 0, 0, "", "Uninstall the host key", volact_cmd_upk, FALSE, FALSE },
  { "ato", 0, 0, "", "Activate the host online with the authority", volact_cmd_ato, FALSE, TRUE },
  { "dti", 0, 0, "", "Display the Installation ID for telephone activation", volact_cmd_dti, FALSE,
    FALSE },
  { "atp", 1, 1, "CID", "Activate the host with a Confirmation ID", volact_cmd_atp, FALSE, FALSE },
  { "dli", 0, 0, "", "Display license information", volact_cmd_dli, FALSE, FALSE, TRUE },
  { "dlv", 0, 0, "", "Display detailed license information", volact_cmd_dlv, FALSE, FALSE, TRUE },
  { "sprt", 1, 1, "PORT", "Set the TCP port clients use", volact_cmd_sprt, FALSE, FALSE },
  { "sdns", 0, 0, "", "Enable DNS SRV publishing and publish now", volact_cmd_sdns, FALSE,
    FALSE },
  { "cdns", 0, 0, "", "Disable DNS SRV publishing and remove the record", volact_cmd_cdns, FALSE,
    FALSE },
  { "dns", 1, 1, "unpublish", "Remove the host's DNS SRV record now", volact_cmd_dns, FALSE,
    FALSE },
  { "spri", 0, 0, "", "Run at normal scheduling priority", volact_cmd_spri, FALSE, FALSE },
  { "cpri", 0, 0, "", "Run at low scheduling priority", volact_cmd_cpri, FALSE, FALSE },
  { "sai", 1, 1, "MINUTES", "Set the activation interval (15..43200)", volact_cmd_sai, FALSE,
    FALSE },
  { "sri", 1, 1, "MINUTES", "Set the renewal interval (15..43200)", volact_cmd_sri, FALSE, FALSE },
  { "reload", 0, 0, "", "Reload plugins and license data", volact_cmd_reload, FALSE, TRUE },
  { "clients", 0, 1, "[--duplicates]", "List client records", volact_cmd_clients, FALSE, FALSE, TRUE },
  { "events", 0, 3, "[--since TIME] [--csv]", "Export activation and host events",
    volact_cmd_events, FALSE, FALSE, TRUE },
  { "report", 1, 6, "NAME [--since DATE] [--until DATE] [--csv]",
    "Print an activity report (docs/reports.md)", volact_cmd_report, FALSE, FALSE, TRUE },
  { "health", 0, 8, "[-w COUNT] [-c COUNT] [--no-activity HOURS] [--dns-window HOURS]",
    "Nagios-style health check (exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)", volact_cmd_health,
    FALSE, FALSE, TRUE },
  { "explain", 1, 1, "CODE", "Print the text of an error code", NULL, TRUE, FALSE },
  { "user", 1, 9, "add|passwd|del|list [NAME] [--role admin|read-only] [--password-fd N]",
    "Manage the users of the dashboard and /metrics (docs/web.md)", NULL, TRUE, FALSE },
};

const VolactCommand *
volact_command_find (const char *word)
{
  if (word == NULL)
    return NULL;
  if (word[0] == '/' || (word[0] == '-' && word[1] != '-'))
    word++;
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_ascii_strcasecmp (commands[i].name, word) == 0)
      return &commands[i];
  return NULL;
}

const VolactCommand *
volact_command_check (const char *name, guint n_args, GError **error)
{
  const VolactCommand *cmd = volact_command_find (name);

  if (cmd == NULL || cmd->local) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "unknown command \"%s\"", name);
    return NULL;
  }
  if (n_args < cmd->min_args || n_args > cmd->max_args) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "usage: %s %s", cmd->name, cmd->args);
    return NULL;
  }
  return cmd;
}

const VolactCommand *
volact_commands (gsize *n)
{
  *n = G_N_ELEMENTS (commands);
  return commands;
}
