/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Check-only module with a check_config callback: its group may set
 * mode = strict | lax, nothing else. tests/test-plugins.c proves the core
 * calls it on a load and that a refusal fails the load. */
#include "config.h"

#include <volact/plugin.h>

static gboolean
confcheck_check_config (const VolactHostApi *api, GKeyFile *config, const char *group,
                        GError **error)
{
  g_auto (GStrv) keys = g_key_file_get_keys (config, group, NULL, NULL);
  g_autofree char *mode = NULL;

  for (char **k = keys; k != NULL && *k != NULL; k++)
    if (g_strcmp0 (*k, "mode") != 0) {
      api->set_error (error, "unknown key \"%s\"", *k);
      return FALSE;
    }
  mode = g_key_file_get_string (config, group, "mode", NULL);
  if (mode != NULL && g_strcmp0 (mode, "strict") != 0 && g_strcmp0 (mode, "lax") != 0) {
    api->set_error (error, "mode \"%s\" is not \"strict\" or \"lax\"", mode);
    return FALSE;
  }
  return TRUE;
}

static gboolean
confcheck_interpret (const VolactHostApi *api, const VolactDocument *doc, VolactCatalogBuilder *b,
                     GError **error)
{
  return api->interpret_xrm (NULL, doc, b, error);
}

VOLACT_PLUGIN_DEFINE (confcheck) = {
  .abi_version = VOLACT_PLUGIN_ABI_VERSION,
  .name = "confcheck",
  .version = "0",
  .families = VOLACT_LIST ("confcheck-test"),
  .interpret = confcheck_interpret,
  .check_config = confcheck_check_config,
};
