/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Check-only module, built as tests/plugins/BadName.la: the descriptor name
 * matches the file name, but "BadName" is not a plugin identifier
 * ([a-z0-9_-]{1,32}). The loader must refuse it with VOLACT_E_PLUGIN_NAME. */
#include "config.h"

#include <volact/plugin.h>

static const char *const badname_families[] = { "badname-test", NULL };

static gboolean
badname_interpret (const VolactHostApi *api, const VolactDocument *doc, VolactCatalogBuilder *b,
                   GError **error)
{
  return FALSE;
}

VOLACT_PLUGIN_DEFINE (BadName) = {
  .abi_version = VOLACT_PLUGIN_ABI_VERSION,
  .name = "BadName",
  .version = "0",
  .families = badname_families,
  .interpret = badname_interpret,
};
