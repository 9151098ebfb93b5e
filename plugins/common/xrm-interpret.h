/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The one interpretation of the XrM kinds (pl, ppd, oob, phn, cfg) into
 * catalog entries, linked into every reference plugin (kms11, kms12) so that
 * they cannot drift apart. Uses only <volact/plugin.h> and GLib.
 */
#ifndef XRM_INTERPRET_H
#define XRM_INTERPRET_H

#include <glib.h>

#include "volact-plugin.h"

G_BEGIN_DECLS

/**
 * Checks that DOC's family is one of FAMILIES (NULL-terminated); otherwise
 * fails with VOLACT_PLUGIN_ERROR_INTERPRET naming the file.
 */
gboolean xrm_interpret_claims (const char *const *families, const VolactDocument *doc,
                               GError **error);

/**
 * Walks the verified document DOC and adds what it declares to B through API,
 * as docs/license-format.md specifies for DOC->kind. A malformed value fails
 * with VOLACT_PLUGIN_ERROR_INTERPRET naming the file and line; errors of the
 * API (conflicts) are passed on unchanged.
 */
gboolean xrm_interpret_document (const VolactHostApi *api, const VolactDocument *doc,
                                 VolactCatalogBuilder *b, GError **error);

G_END_DECLS

#endif
