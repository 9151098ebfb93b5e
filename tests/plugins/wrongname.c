/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Check-only module: the file is wrongname.la and exports
 * wrongname_LTX_volact_plugin, but the descriptor says "rightname". The loader
 * must refuse it with VOLACT_E_PLUGIN_NAME. */
#include "config.h"

#include <volact/plugin.h>

static const char *const wrongname_families[] = { "wrongname-test", NULL };

static gboolean
wrongname_interpret (const VolactHostApi *api, const VolactDocument *doc, VolactCatalogBuilder *b,
                     GError **error)
{
  return FALSE;
}

VOLACT_PLUGIN_DEFINE (wrongname) = {
  .abi_version = VOLACT_PLUGIN_ABI_VERSION,
  .name = "rightname",
  .version = "0",
  .families = wrongname_families,
  .interpret = wrongname_interpret,
};
