/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Check-only module: a descriptor built for another plugin ABI (999). The
 * loader must refuse it with VOLACT_E_PLUGIN_ABI before reading anything else. */
#include "config.h"

#include <volact/plugin.h>

static const char *const badabi_families[] = { "badabi-test", NULL };

static gboolean
badabi_interpret (const VolactHostApi *api, const VolactDocument *doc, VolactCatalogBuilder *b,
                  GError **error)
{
  return FALSE;
}

VOLACT_PLUGIN_DEFINE (badabi) = {
  .abi_version = 999,
  .name = "badabi",
  .version = "0",
  .families = badabi_families,
  .interpret = badabi_interpret,
};
