/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * Building a catalog from the plugin and license folders, and the holder that
 * swaps a newly built catalog in atomically. On any error the holder keeps
 * the catalog it had, and the error names the file at fault.
 */
#ifndef VOLACT_RELOAD_H
#define VOLACT_RELOAD_H

#include <glib.h>

#include "volact-catalog.h"
#include "volact-plugins.h"

G_BEGIN_DECLS

/** Where catalog data comes from (borrowed strings). */
typedef struct {
  const char *const *plugin_dirs; /* NULL-terminated, searched in order */
  const char *license_dir;        /* *.xrm files here and one folder below */
  const char *trust_file;         /* PEM file of trusted authority certificates */
  GKeyFile *config;               /* the host config, for [plugin:NAME] groups; NULL = empty */
  const char *config_file;        /* its file name for messages; NULL = built-in defaults */
} VolactCatalogSources;

/**
 * Loads the plugins, checks each one's `[plugin:NAME]` group of SRC->config
 * (check_config; a non-empty group of a plugin without one is refused), then
 * passes every license file through the pipeline, hands each
 * to the plugin claiming its family and finishes the catalog. A refused
 * plugin module fails the whole build. A license file that fails any check,
 * or that its plugin refuses, is refused alone (volact_catalog_refused_files),
 * and entries that cannot be served without it are dropped
 * (volact_catalog_unavailable); the build fails only when that leaves no
 * edition, with an error listing every refusal. A file whose family no plugin
 * claims is skipped with a notice. On success *PLUGINS_OUT (if non-NULL)
 * receives the plugin set the catalog was built with.
 */
VolactCatalog *volact_catalog_build (const VolactCatalogSources *src, VolactPluginSet **plugins_out,
                                     GError **error);

typedef struct _VolactCatalogHolder VolactCatalogHolder;

VolactCatalogHolder *volact_catalog_holder_new (void);
void volact_catalog_holder_free (VolactCatalogHolder *h);
/** Builds from SRC and swaps the result in; on failure the current catalog stays. */
gboolean volact_catalog_holder_reload (VolactCatalogHolder *h, const VolactCatalogSources *src,
                                       GError **error);
/** A new reference to the current catalog, or NULL before the first successful load. */
VolactCatalog *volact_catalog_holder_get (VolactCatalogHolder *h);
/** How many successful loads the holder has seen (1 after the first). */
guint volact_catalog_holder_generation (VolactCatalogHolder *h);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactCatalogHolder, volact_catalog_holder_free)

G_END_DECLS

#endif
