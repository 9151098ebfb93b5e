/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Measures a full catalog load (plugins + all license data, fully validated and verified). */
#include "config.h"

#include "volact-error.h"
#include "volact-reload.h"
#include "volact-xmlsig.h"

#include <stdio.h>
#include <stdlib.h>

static char *opt_plugin_dir;
static char *opt_license_dir;
static char *opt_trust;
static int opt_runs = 20;

static const GOptionEntry entries[]
    = { { "plugin-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_plugin_dir, "Plugin folder", "DIR" },
        { "license-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_license_dir, "License folder", "DIR" },
        { "trust", 0, 0, G_OPTION_ARG_FILENAME, &opt_trust, "Authority certificate", "PEM" },
        { "runs", 'n', 0, G_OPTION_ARG_INT, &opt_runs, "Number of loads (default 20)", "N" },
        { NULL } };

static gint
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- time a full catalog load");
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  const char *dirs[2] = { NULL, NULL };
  VolactCatalogSources src;
  guint files = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || !opt_plugin_dir || !opt_license_dir
      || !opt_trust || opt_runs < 2) {
    fprintf (stderr, "bench-load: %s\n",
             error ? error->message : "--plugin-dir, --license-dir and --trust are required");
    return 2;
  }
  dirs[0] = opt_plugin_dir;
  src = (VolactCatalogSources){ dirs, opt_license_dir, opt_trust };
  if (!volact_xmlsig_init (&error))
    goto fail;
  for (int i = 0; i < opt_runs; i++) {
    gint64 t0 = g_get_monotonic_time ();
    VolactCatalog *c = volact_catalog_build (&src, NULL, &error);
    double ms = (double) (g_get_monotonic_time () - t0) / 1000.0;
    if (c == NULL)
      goto fail;
    files = volact_catalog_n_files (c);
    volact_catalog_unref (c);
    g_array_append_val (times, ms);
  }
  printf ("catalog load: %u license files, cold %.2f ms", files, g_array_index (times, double, 0));
  g_array_remove_index (times, 0);
  g_array_sort (times, compare_doubles);
  printf (", warm median %.2f ms, best %.2f ms over %u runs (target < 50 ms)\n",
          g_array_index (times, double, times->len / 2), g_array_index (times, double, 0),
          times->len);
  return EXIT_SUCCESS;
fail:
  fprintf (stderr, "bench-load: error 0x%08X: %s\n", (guint32) error->code, error->message);
  return EXIT_FAILURE;
}
