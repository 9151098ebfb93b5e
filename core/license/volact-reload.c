/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-reload.h"

#include "volact-error.h"
#include "volact-license.h"

#include <string.h>

struct _VolactCatalogHolder {
  GMutex lock;
  VolactCatalog *catalog;
  VolactPluginSet *plugins;
  guint generation;
};

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* *.xrm files of DIR and of its immediate subfolders (one per plugin), sorted. */
static GPtrArray *
list_license_files (const char *dir, gboolean recurse, GError **error)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) local = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &local);
  const char *name;

  if (d == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "license folder: %s", local->message);
    return NULL;
  }
  while ((name = g_dir_read_name (d)) != NULL) {
    g_autofree char *path = g_build_filename (dir, name, NULL);
    if (name[0] == '.')
      continue;
    if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
      g_autoptr (GPtrArray) sub = NULL;
      if (!recurse)
        continue;
      sub = list_license_files (path, FALSE, error);
      if (sub == NULL)
        return NULL;
      g_ptr_array_extend_and_steal (files, g_steal_pointer (&sub));
    } else if (g_str_has_suffix (name, ".xrm")) {
      g_ptr_array_add (files, g_steal_pointer (&path));
    }
  }
  g_ptr_array_sort (files, compare_paths);
  return g_steal_pointer (&files);
}

static gboolean
interpret_file (VolactCatalogBuilder *b, VolactPluginSet *plugins, const VolactTrust *trust,
                const char *path, GError **error)
{
  g_autoptr (VolactLicense) lic = volact_license_load (path, trust, error);
  g_autoptr (GError) local = NULL;
  const VolactLoadedPlugin *plugin;

  if (lic == NULL)
    return FALSE;
  plugin = volact_plugin_set_claim (plugins, volact_license_family (lic));
  if (plugin == NULL) {
    g_message ("%s: no loaded plugin interprets family \"%s\"; skipping the file", path,
               volact_license_family (lic));
    return TRUE;
  }
  volact_catalog_builder_set_plugin (b, plugin->desc->name);
  if (!plugin->desc->interpret (volact_catalog_host_api (), volact_license_document (lic), b,
                                &local)) {
    /* A plugin's own domain becomes ours, as a new error (never edit a GError). */
    g_set_error (error, VOLACT_ERROR,
                 local != NULL && local->domain == VOLACT_ERROR ? local->code
                                                                : VOLACT_E_PLUGIN_INTERPRET,
                 "plugin %s refused %s: %s", plugin->desc->name, path,
                 local != NULL ? local->message : "no reason given");
    return FALSE;
  }
  volact_catalog_builder_count_file (b);
  return TRUE;
}

/* One plugin's [plugin:NAME] group: its check_config decides; a plugin
 * without one takes no keys, so any key there is a typo or a leftover. */
static gboolean
check_plugin_config (const VolactLoadedPlugin *p, GKeyFile *config, const char *file,
                     GError **error)
{
  g_autofree char *group = g_strconcat ("plugin:", p->desc->name, NULL);
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) keys = g_key_file_get_keys (config, group, NULL, NULL);

  if (p->desc->check_config != NULL) {
    if (p->desc->check_config (volact_catalog_host_api (), config, group, &local))
      return TRUE;
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "%s: [%s]: plugin %s (%s) refused its configuration: %s", file, group,
                 p->desc->name, p->path, local != NULL ? local->message : "no reason given");
    return FALSE;
  }
  if (keys == NULL || keys[0] == NULL)
    return TRUE;
  g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
               "%s: [%s]: plugin %s (%s) takes no configuration, but the group sets \"%s\"", file,
               group, p->desc->name, p->path, keys[0]);
  return FALSE;
}

static gboolean
check_plugin_configs (VolactPluginSet *plugins, GKeyFile *config, const char *file, GError **error)
{
  g_autoptr (GKeyFile) empty = g_key_file_new ();
  GPtrArray *loaded = volact_plugin_set_plugins (plugins);
  g_auto (GStrv) groups = NULL;

  if (config == NULL)
    config = empty;
  if (file == NULL)
    file = "(built-in configuration)";
  for (guint i = 0; i < loaded->len; i++)
    if (!check_plugin_config (loaded->pdata[i], config, file, error))
      return FALSE;
  /* A group for a plugin that is not (or no longer) loaded is not an error:
   * the plugin may be dropped in later. Say so, in case it is a typo. */
  groups = g_key_file_get_groups (config, NULL);
  for (char **g = groups; *g != NULL; g++)
    if (g_str_has_prefix (*g, "plugin:")
        && volact_plugin_set_find (plugins, *g + strlen ("plugin:")) == NULL)
      g_message ("%s: [%s]: no loaded plugin of that name; the group is ignored", file, *g);
  return TRUE;
}

VolactCatalog *
volact_catalog_build (const VolactCatalogSources *src, VolactPluginSet **plugins_out,
                      GError **error)
{
  g_autoptr (VolactPluginSet) plugins = NULL;
  g_autoptr (VolactTrust) trust = NULL;
  g_autoptr (GPtrArray) files = NULL;
  g_autoptr (VolactCatalogBuilder) b = NULL;
  g_autoptr (GError) first = NULL;
  GPtrArray *loaded, *refused;
  VolactCatalog *catalog;

  plugins = volact_plugin_set_load (src->plugin_dirs, error);
  if (plugins == NULL)
    return NULL;
  refused = volact_plugin_set_refused (plugins);
  if (refused->len > 0) {
    const VolactRefusedPlugin *r = refused->pdata[0];
    g_set_error (error, VOLACT_ERROR, r->error->code, "%s", r->error->message);
    return NULL;
  }
  if (!check_plugin_configs (plugins, src->config, src->config_file, error))
    return NULL;
  trust = volact_trust_load (src->trust_file, error);
  if (trust == NULL)
    return NULL;
  files = list_license_files (src->license_dir, TRUE, error);
  if (files == NULL)
    return NULL;

  b = volact_catalog_builder_new ();
  loaded = volact_plugin_set_plugins (plugins);
  for (guint i = 0; i < loaded->len; i++) {
    const VolactLoadedPlugin *p = loaded->pdata[i];
    volact_catalog_builder_add_plugin_info (b, p->desc->name, p->desc->version, p->path);
  }
  /* One damaged file must not take the host down: it is refused alone, and
   * what depended on it is dropped by the partial finish (docs/license-format.md). */
  for (guint i = 0; i < files->len; i++) {
    g_autoptr (GError) local = NULL;
    if (interpret_file (b, plugins, trust, files->pdata[i], &local))
      continue;
    g_message ("refusing license file %s", local->message);
    volact_catalog_builder_refuse_file (b, files->pdata[i], local);
    if (first == NULL)
      first = g_steal_pointer (&local);
  }
  catalog = volact_catalog_builder_finish_partial (g_steal_pointer (&b));
  if (volact_catalog_is_partial (catalog) && volact_catalog_editions (catalog)->len == 0) {
    g_autofree char *problems = volact_catalog_problems (catalog);
    g_set_error (error, VOLACT_ERROR, first != NULL ? first->code : VOLACT_E_CATALOG,
                 "no usable license data is left: %s", problems);
    volact_catalog_unref (catalog);
    return NULL;
  }
  if (plugins_out != NULL)
    *plugins_out = g_steal_pointer (&plugins);
  return catalog;
}

VolactCatalogHolder *
volact_catalog_holder_new (void)
{
  VolactCatalogHolder *h = g_new0 (VolactCatalogHolder, 1);
  g_mutex_init (&h->lock);
  return h;
}

void
volact_catalog_holder_free (VolactCatalogHolder *h)
{
  if (h == NULL)
    return;
  g_clear_pointer (&h->catalog, volact_catalog_unref);
  g_clear_pointer (&h->plugins, volact_plugin_set_free);
  g_mutex_clear (&h->lock);
  g_free (h);
}

gboolean
volact_catalog_holder_reload (VolactCatalogHolder *h, const VolactCatalogSources *src,
                              GError **error)
{
  VolactPluginSet *plugins = NULL, *old_plugins;
  VolactCatalog *catalog = volact_catalog_build (src, &plugins, error), *old;

  if (catalog == NULL)
    return FALSE;
  g_mutex_lock (&h->lock);
  old = h->catalog;
  old_plugins = h->plugins;
  h->catalog = catalog;
  h->plugins = plugins;
  h->generation++;
  g_mutex_unlock (&h->lock);
  /* The catalog owns copies of everything, so the old plugins can go now. */
  if (old != NULL)
    volact_catalog_unref (old);
  if (old_plugins != NULL)
    volact_plugin_set_free (old_plugins);
  return TRUE;
}

VolactCatalog *
volact_catalog_holder_get (VolactCatalogHolder *h)
{
  VolactCatalog *c;
  g_mutex_lock (&h->lock);
  c = h->catalog ? volact_catalog_ref (h->catalog) : NULL;
  g_mutex_unlock (&h->lock);
  return c;
}

guint
volact_catalog_holder_generation (VolactCatalogHolder *h)
{
  guint g;
  g_mutex_lock (&h->lock);
  g = h->generation;
  g_mutex_unlock (&h->lock);
  return g;
}
