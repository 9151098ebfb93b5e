/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Check-only module, built as tests/plugins/kms11.la: a valid plugin that is
 * also named "kms11". Searched after plugins/, it must be refused with
 * VOLACT_E_PLUGIN_DUPLICATE (its own family, dup-test, must stay unclaimed). */
#include "config.h"

#include <volact/plugin.h>

static const char *const duplicate_families[] = { "dup-test", NULL };

static gboolean
duplicate_interpret (const VolactHostApi *api, const VolactDocument *doc, VolactCatalogBuilder *b,
                     GError **error)
{
  return FALSE;
}

VOLACT_PLUGIN_DEFINE (kms11) = {
  .abi_version = VOLACT_PLUGIN_ABI_VERSION,
  .name = "kms11",
  .version = "0-duplicate",
  .families = duplicate_families,
  .interpret = duplicate_interpret,
};
