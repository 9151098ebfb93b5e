/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kms11: the Vista / Server 2008 era (family kms08), modelled on KMS 1.1.
 * All interpretation is shared with kms12 in plugins/common/xrm-interpret.c.
 */
#include "config.h"

#include "volact-plugin.h"
#include "xrm-interpret.h"

static const char *const kms11_families[] = { "kms08", NULL };

static gboolean
kms11_interpret (const VolactHostApi *api, const VolactDocument *doc, VolactCatalogBuilder *b,
                 GError **error)
{
  return xrm_interpret_claims (kms11_families, doc, error)
         && xrm_interpret_document (api, doc, b, error);
}

VOLACT_PLUGIN_DEFINE (kms11) = {
  .abi_version = VOLACT_PLUGIN_ABI_VERSION,
  .name = "kms11",
  .version = "1.1.0",
  .replaces = NULL,
  .families = kms11_families,
  .interpret = kms11_interpret,
};
