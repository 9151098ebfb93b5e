/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* volactd: the volact host. See volactd(8). */
#include "config.h"

#include "volact-config.h"
#include "volact-error.h"
#include "volact-reload.h"
#include "volact-xmlsig.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

static char *opt_config;
static gboolean opt_foreground;
static gboolean opt_print_catalog;
static gboolean opt_version;

static const GOptionEntry entries[]
    = { { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config, "Read the configuration from FILE",
          "FILE" },
        { "foreground", 'f', 0, G_OPTION_ARG_NONE, &opt_foreground, "Stay in the foreground",
          NULL },
        { "print-catalog", 0, 0, G_OPTION_ARG_NONE, &opt_print_catalog,
          "Load plugins and license data, print the catalog and exit", NULL },
        { "version", 'V', 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL },
        { NULL } };

static int
fail (const GError *error)
{
  guint32 code = error->domain == VOLACT_ERROR ? (guint32) error->code : (guint32) VOLACT_E_FAILED;
  fprintf (stderr, "volactd: error 0x%08X: %s\n", code, error->message);
  return EXIT_FAILURE;
}

static int
print_catalog (const VolactConfig *cfg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactCatalog) catalog = NULL;
  g_autofree char *text = NULL;
  VolactCatalogSources src = {
    .plugin_dirs = (const char *const *) cfg->plugin_dirs,
    .license_dir = cfg->license_dir,
    .trust_file = cfg->trust,
  };

  catalog = volact_catalog_build (&src, NULL, &error);
  if (catalog == NULL)
    return fail (error);
  text = volact_catalog_to_text (catalog);
  fputs (text, stdout);
  return EXIT_SUCCESS;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- the volact activation host");
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactConfig) cfg = NULL;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "volactd: %s\n", error->message);
    return 2;
  }
  if (opt_version) {
    printf ("volactd %s\n", PACKAGE_VERSION);
    return EXIT_SUCCESS;
  }
  cfg = opt_config ? volact_config_load (opt_config, &error) : volact_config_new_default ();
  if (cfg == NULL)
    return fail (error);
  if (!volact_xmlsig_init (&error))
    return fail (error);
  if (opt_print_catalog)
    return print_catalog (cfg);
  fprintf (stderr, "volactd: serving clients is not available yet; use --print-catalog\n");
  return EXIT_FAILURE;
}
