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
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  const char *name;

  if (d == NULL) {
    g_prefix_error (error, "license folder: ");
    if (error && *error) {
      (*error)->domain = VOLACT_ERROR;
      (*error)->code = VOLACT_E_IO;
    }
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
                                error)) {
    if (error && *error && (*error)->domain != VOLACT_ERROR) {
      (*error)->domain = VOLACT_ERROR;
      (*error)->code = VOLACT_E_PLUGIN_INTERPRET;
    }
    g_prefix_error (error, "plugin %s refused %s: ", plugin->desc->name, path);
    return FALSE;
  }
  volact_catalog_builder_count_file (b);
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
  for (guint i = 0; i < files->len; i++)
    if (!interpret_file (b, plugins, trust, files->pdata[i], error))
      return NULL;
  catalog = volact_catalog_builder_finish (g_steal_pointer (&b), error);
  if (catalog == NULL)
    return NULL;
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
