/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Check-only module: a valid descriptor, but the module needs a function that
 * exists nowhere. With lazy binding it would load and crash at the first
 * interpret; with bind-now (RTLD_NOW) opening it fails and the loader refuses
 * it with VOLACT_E_PLUGIN_OPEN, naming the symbol. */
#include "config.h"

#include <volact/plugin.h>

extern void volact_test_symbol_that_does_not_exist (void);

static const char *const unresolved_families[] = { "unresolved-test", NULL };

static gboolean
unresolved_interpret (const VolactHostApi *api, const VolactDocument *doc, VolactCatalogBuilder *b,
                      GError **error)
{
  volact_test_symbol_that_does_not_exist ();
  return FALSE;
}

VOLACT_PLUGIN_DEFINE (unresolved) = {
  .abi_version = VOLACT_PLUGIN_ABI_VERSION,
  .name = "unresolved",
  .version = "0",
  .families = unresolved_families,
  .interpret = unresolved_interpret,
};
