/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Check-only module: passes every check, but its load callback fails. The
 * loader must refuse it with VOLACT_E_PLUGIN_LOAD and pass the reason on. */
#include "config.h"

#include <volact/plugin.h>

static const char *const loadfail_families[] = { "loadfail-test", NULL };

static gboolean
loadfail_load (const VolactHostApi *api, GError **error)
{
  api->set_error (error, "loadfail refuses to start (deliberately)");
  return FALSE;
}

static gboolean
loadfail_interpret (const VolactHostApi *api, const VolactDocument *doc, VolactCatalogBuilder *b,
                    GError **error)
{
  return FALSE;
}

VOLACT_PLUGIN_DEFINE (loadfail) = {
  .abi_version = VOLACT_PLUGIN_ABI_VERSION,
  .name = "loadfail",
  .version = "0",
  .families = loadfail_families,
  .load = loadfail_load,
  .interpret = loadfail_interpret,
};
