/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Check-only module: a valid plugin "clash" that claims family kmsw7, which
 * kms12 (searched first) already claims, and replaces nothing. The loader
 * must refuse it with VOLACT_E_PLUGIN_DUPLICATE naming the family. */
#include "config.h"

#include <volact/plugin.h>

static const char *const clash_families[] = { "clash-test", "kmsw7", NULL };

static gboolean
clash_interpret (const VolactHostApi *api, const VolactDocument *doc, VolactCatalogBuilder *b,
                 GError **error)
{
  return FALSE;
}

VOLACT_PLUGIN_DEFINE (clash) = {
  .abi_version = VOLACT_PLUGIN_ABI_VERSION,
  .name = "clash",
  .version = "0",
  .families = clash_families,
  .interpret = clash_interpret,
};
