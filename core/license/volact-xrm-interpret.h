/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The one interpretation of the standard XrM kinds (pl, ppd, oob, phn, cfg)
 * into catalog entries, offered to every plugin as api->interpret_xrm so that
 * product families cannot drift apart (docs/license-format.md).
 */
#ifndef VOLACT_XRM_INTERPRET_H
#define VOLACT_XRM_INTERPRET_H

#include <glib.h>

#include <volact/plugin.h>

G_BEGIN_DECLS

/**
 * Checks that DOC's family is one of FAMILIES (NULL-terminated; NULL skips
 * the check), then walks the verified document DOC and adds what it declares
 * to B, as docs/license-format.md specifies for DOC->kind. A malformed value
 * fails with VOLACT_E_PLUGIN_INTERPRET naming the file and line; errors of
 * the builder (conflicts, ranges) are passed on unchanged.
 */
gboolean volact_xrm_interpret (const char *const *families, const VolactDocument *doc,
                               VolactCatalogBuilder *b, GError **error);

G_END_DECLS

#endif
