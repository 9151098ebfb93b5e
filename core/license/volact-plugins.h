/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The plugin loader (libltdl, bind-now). A VolactPluginSet is the set of
 * plugins one catalog was built with; reloading builds a new set.
 */
#ifndef VOLACT_PLUGINS_H
#define VOLACT_PLUGINS_H

#include <glib.h>

#include <volact/plugin.h>

G_BEGIN_DECLS

typedef struct _VolactPluginSet VolactPluginSet;

/** One loaded, accepted plugin. */
typedef struct {
  const VolactPlugin *desc;
  char *path; /* full path of the module file that was opened */
} VolactLoadedPlugin;

/** One module that was refused, with why. */
typedef struct {
  char *path;
  GError *error; /* VOLACT_ERROR: PLUGIN_OPEN, PLUGIN_NO_DESC, PLUGIN_ABI, PLUGIN_NAME,
                    PLUGIN_DUPLICATE or PLUGIN_LOAD */
} VolactRefusedPlugin;

/**
 * Scans DIRS (NULL-terminated, searched in order) for modules (NAME.la or
 * NAME.so), opens each with bind-now, checks ABI version and name before
 * calling anything, refuses duplicates, then drops plugins another plugin
 * `replaces` (with a notice). Refused modules are logged and listed, but do
 * not fail the call; only an unreadable directory does.
 */
VolactPluginSet *volact_plugin_set_load (const char *const *dirs, GError **error);
void volact_plugin_set_free (VolactPluginSet *set);

/** Accepted plugins, in load order (VolactLoadedPlugin*). */
GPtrArray *volact_plugin_set_plugins (const VolactPluginSet *set);
/** Refused modules (VolactRefusedPlugin*); replaced plugins are not refused, see below. */
GPtrArray *volact_plugin_set_refused (const VolactPluginSet *set);
/** Names of plugins skipped because another replaces them. */
GPtrArray *volact_plugin_set_replaced (const VolactPluginSet *set);
/** The accepted plugin that claims FAMILY, or NULL. */
const VolactLoadedPlugin *volact_plugin_set_claim (const VolactPluginSet *set, const char *family);
const VolactLoadedPlugin *volact_plugin_set_find (const VolactPluginSet *set, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactPluginSet, volact_plugin_set_free)

G_END_DECLS

#endif
