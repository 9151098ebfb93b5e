/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-commands.h"

/* The contract's commands, in its order. */
static const VolactCommand commands[] = {
  { "ipk", 1, 1, "KEY", "Install a host key", FALSE },
  { "upk", 0, 0, "", "Uninstall the host key", FALSE },
  { "ato", 0, 0, "", "Activate the host online with the authority", FALSE },
  { "dti", 0, 0, "", "Display the Installation ID for telephone activation", FALSE },
  { "atp", 1, 1, "CID", "Activate the host with a Confirmation ID", FALSE },
  { "dli", 0, 0, "", "Display license information", FALSE },
  { "dlv", 0, 0, "", "Display detailed license information", FALSE },
  { "sprt", 1, 1, "PORT", "Set the TCP port clients use", FALSE },
  { "sdns", 0, 0, "", "Enable DNS publishing", FALSE },
  { "cdns", 0, 0, "", "Disable DNS publishing", FALSE },
  { "spri", 0, 0, "", "Run at normal scheduling priority", FALSE },
  { "cpri", 0, 0, "", "Run at low scheduling priority", FALSE },
  { "sai", 1, 1, "MINUTES", "Set the activation interval (15..43200)", FALSE },
  { "sri", 1, 1, "MINUTES", "Set the renewal interval (15..43200)", FALSE },
  { "reload", 0, 0, "", "Reload plugins and license data", FALSE },
  { "clients", 0, 1, "[--duplicates]", "List client records", FALSE },
  { "events", 0, 3, "[--since TIME] [--csv]", "Export activation and host events", FALSE },
  { "report", 1, 1, "NAME", "Print a report", FALSE },
  { "health", 0, 0, "", "Check the host's health and alerts", FALSE },
  { "explain", 1, 1, "CODE", "Print the text of an error code", TRUE },
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
volact_commands (gsize *n)
{
  *n = G_N_ELEMENTS (commands);
  return commands;
}
