/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kms12: the Windows 7 / Server 2008 R2 era (family kmsw7), modelled on
 * KMS 1.2. Like KB968915 superseding KB948003 it replaces kms11: it also
 * interprets the kms08 data, so with both in the plugin folder kms11 is
 * skipped. All interpretation is shared with kms11 in
 * plugins/common/xrm-interpret.c.
 */
#include "config.h"

#include "volact-plugin.h"
#include "xrm-interpret.h"

static const char *const kms12_families[] = { "kms08", "kmsw7", NULL };
static const char *const kms12_replaces[] = { "kms11", NULL };

static gboolean
kms12_interpret (const VolactHostApi *api, const VolactDocument *doc, VolactCatalogBuilder *b,
                 GError **error)
{
  return xrm_interpret_claims (kms12_families, doc, error)
         && xrm_interpret_document (api, doc, b, error);
}

VOLACT_PLUGIN_DEFINE (kms12) = {
  .abi_version = VOLACT_PLUGIN_ABI_VERSION,
  .name = "kms12",
  .version = "1.2.0",
  .replaces = kms12_replaces,
  .families = kms12_families,
  .interpret = kms12_interpret,
};
