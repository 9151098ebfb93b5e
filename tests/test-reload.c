/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reload: the catalog is rebuilt from the plugin and license folders and
 * swapped in atomically; a broken drop leaves the previous catalog in place.
 * Also checks the reference data itself (editions, minimum counts, groups).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <glib/gstdio.h>
#include <string.h>

#include "testutil.h"
#include "volact-error.h"
#include "volact-reload.h"
#include "volact-xmlsig.h"

typedef struct {
  char *tmp;
  char *plugins;
  char *licenses;
  char *trust;
  const char *dirs[2];
  VolactCatalogSources src;
} Fixture;

static int
setup (void **state)
{
  Fixture *f = g_new0 (Fixture, 1);
  f->tmp = test_tmpdir ();
  f->plugins = g_build_filename (f->tmp, "plugins", NULL);
  f->licenses = g_build_filename (f->tmp, "licenses", NULL);
  f->trust = test_reference_trust ();
  g_mkdir (f->plugins, 0700);
  g_mkdir (f->licenses, 0700);
  f->dirs[0] = f->plugins;
  f->src.plugin_dirs = f->dirs;
  f->src.license_dir = f->licenses;
  f->src.trust_file = f->trust;
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *f = *state;
  test_rmtree (f->tmp);
  g_free (f->tmp);
  g_free (f->plugins);
  g_free (f->licenses);
  g_free (f->trust);
  g_free (f);
  return 0;
}

/* Drops the built module NAME.so into the fixture's plugin folder. */
static void
drop_plugin (Fixture *f, const char *built, const char *name)
{
  g_autofree char *src = test_buildpath (built);
  g_autofree char *dst = g_strdup_printf ("%s/%s.so", f->plugins, name);
  test_copy_file (src, dst);
}

/* Drops the reference license folder NAME (kms11 or kms12). */
static void
drop_licenses (Fixture *f, const char *name)
{
  g_autofree char *src_dir = g_build_filename ("licenses", name, NULL);
  g_autofree char *abs_src = test_srcpath (src_dir);
  g_autofree char *dst_dir = g_build_filename (f->licenses, name, NULL);
  g_autoptr (GDir) d = g_dir_open (abs_src, 0, NULL);
  const char *entry;

  assert_non_null (d);
  g_mkdir (dst_dir, 0700);
  while ((entry = g_dir_read_name (d)) != NULL) {
    g_autofree char *s = g_build_filename (abs_src, entry, NULL);
    g_autofree char *t = g_build_filename (dst_dir, entry, NULL);
    if (g_str_has_suffix (entry, ".xrm"))
      test_copy_file (s, t);
  }
}

static void
test_reload_upgrade (void **state)
{
  Fixture *f = *state;
  g_autoptr (VolactCatalogHolder) h = volact_catalog_holder_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactCatalog) first = NULL;
  g_autoptr (VolactCatalog) second = NULL;
  g_autoptr (VolactCatalog) still = NULL;
  g_autofree char *bad = NULL;
  g_autofree char *data = NULL;
  gsize len;
  char *p;

  assert_null (volact_catalog_holder_get (h));

  /* Only kms11 and its data: a Windows 7 era group is unknown. */
  drop_plugin (f, "plugins/.libs/kms11.so", "kms11");
  drop_licenses (f, "kms11");
  assert_true (volact_catalog_holder_reload (h, &f->src, &error));
  assert_null (error);
  first = volact_catalog_holder_get (h);
  assert_non_null (volact_catalog_key_group (first, 11));
  assert_null (volact_catalog_key_group (first, 21));
  assert_null (volact_catalog_key_group_lookup (first, "kmsw7-1"));
  assert_null (volact_catalog_edition (first, "win7-enterprise"));
  assert_int_equal (volact_catalog_editions (first)->len, 8);

  /* kms12 and its data dropped in: after reload the group is known. */
  drop_plugin (f, "plugins/.libs/kms12.so", "kms12");
  drop_licenses (f, "kms12");
  assert_true (volact_catalog_holder_reload (h, &f->src, &error));
  assert_null (error);
  second = volact_catalog_holder_get (h);
  assert_non_null (volact_catalog_key_group (second, 21));
  assert_non_null (volact_catalog_edition (second, "win7-enterprise"));
  assert_int_equal (volact_catalog_editions (second)->len, 16);
  /* kms12 replaced kms11: it interpreted the Vista era data too. */
  assert_string_equal (volact_catalog_edition (second, "vista-business")->plugin, "kms12");
  assert_int_equal (volact_catalog_plugins (second)->len, 1);
  /* The old catalog is still usable by whoever holds it. */
  assert_null (volact_catalog_key_group (first, 21));
  assert_int_equal (volact_catalog_holder_generation (h), 2);

  /* A tampered extra license file is refused alone: the rest loads, and the
   * catalog names the file and why. */
  bad = g_build_filename (f->licenses, "kms12", "w7k9pl.xrm", NULL);
  {
    g_autofree char *good = test_srcpath ("licenses/kms12/w7k1pl.xrm");
    assert_true (g_file_get_contents (good, &data, &len, NULL));
  }
  p = strstr (data, "Windows 7 Professional");
  assert_non_null (p);
  p[8] = '8'; /* "Windows 8 Professional": still well-formed, no longer what was signed */
  test_write_file (bad, data, (gssize) len);
  assert_true (volact_catalog_holder_reload (h, &f->src, &error));
  assert_null (error);
  still = volact_catalog_holder_get (h);
  assert_int_equal (volact_catalog_editions (still)->len, 16);
  assert_int_equal (volact_catalog_n_files (still), 34);
  assert_true (volact_catalog_is_partial (still));
  assert_int_equal (volact_catalog_refused_files (still)->len, 1);
  assert_string_equal (((VolactRefusedFile *) volact_catalog_refused_files (still)->pdata[0])->path,
                       bad);
  assert_non_null (strstr (
      ((VolactRefusedFile *) volact_catalog_refused_files (still)->pdata[0])->error->message,
      "does not verify"));
  assert_int_equal (volact_catalog_unavailable (still)->len, 0);
  assert_int_equal (volact_catalog_holder_generation (h), 3);
  g_clear_pointer (&still, volact_catalog_unref);
  g_unlink (bad);
  assert_true (volact_catalog_holder_reload (h, &f->src, &error));
  g_clear_pointer (&second, volact_catalog_unref);
  second = volact_catalog_holder_get (h);
  assert_false (volact_catalog_is_partial (second));

  /* A broken plugin drop also leaves it in place, naming the module. */
  drop_plugin (f, "tests/plugins/.libs/badabi.so", "badabi");
  assert_false (volact_catalog_holder_reload (h, &f->src, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_PLUGIN_ABI));
  assert_non_null (strstr (error->message, "badabi"));
  g_clear_error (&error);
  g_clear_pointer (&still, volact_catalog_unref);
  still = volact_catalog_holder_get (h);
  assert_ptr_equal (still, second);

  /* Mended: reload works again. */
  {
    g_autofree char *badso = g_build_filename (f->plugins, "badabi.so", NULL);
    g_unlink (badso);
  }
  assert_true (volact_catalog_holder_reload (h, &f->src, &error));
  assert_int_equal (volact_catalog_holder_generation (h), 5);
}

/* Makes the license file PATH fail its signature (one byte of signed text changed). */
static void
tamper (const char *path, const char *from, const char *to)
{
  g_autofree char *data = NULL;
  gsize len;
  char *p;

  assert_true (g_file_get_contents (path, &data, &len, NULL));
  p = strstr (data, from);
  assert_non_null (p);
  assert_int_equal (strlen (from), strlen (to));
  memcpy (p, to, strlen (to));
  test_write_file (path, data, (gssize) len);
}

/* The policy file two editions need is refused: those editions cannot be served,
 * the catalog says so per edition, and everything else (including the key
 * groups, without those editions) is served. */
static void
test_refused_dependency (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactCatalog) c = NULL;
  g_autofree char *ppd = g_build_filename (f->licenses, "kms12", "w7k1ppd.xrm", NULL);
  g_autofree char *problems = NULL;
  GPtrArray *unavailable;
  const VolactKeyGroup *g;

  drop_plugin (f, "plugins/.libs/kms12.so", "kms12");
  drop_licenses (f, "kms11");
  drop_licenses (f, "kms12");
  /* The case: the minimum count changed, the signature no longer holds. */
  tamper (ppd, "edition=\"win7-enterprise\" count=\"25\"",
          "edition=\"win7-enterprise\" count=\"15\"");
  c = volact_catalog_build (&f->src, NULL, &error);
  assert_null (error);
  assert_non_null (c);
  assert_int_equal (volact_catalog_n_files (c), 33);
  assert_int_equal (volact_catalog_refused_files (c)->len, 1);
  assert_string_equal (((VolactRefusedFile *) volact_catalog_refused_files (c)->pdata[0])->path,
                       ppd);
  assert_null (volact_catalog_edition (c, "win7-professional"));
  assert_null (volact_catalog_edition (c, "win7-enterprise"));
  assert_non_null (volact_catalog_edition (c, "vista-business"));
  assert_non_null (volact_catalog_edition (c, "server2008r2-datacenter"));
  assert_int_equal (volact_catalog_editions (c)->len, 14);
  unavailable = volact_catalog_unavailable (c);
  problems = volact_catalog_problems (c);
  assert_non_null (strstr (problems, "edition \"win7-enterprise\" has no minimum count"));
  assert_non_null (strstr (problems, "edition \"win7-professional\" has no minimum count"));
  assert_non_null (strstr (problems, "w7k1ppd.xrm"));
  assert_true (unavailable->len >= 2);
  /* A Windows 7 client key still activates the Vista era editions it covers. */
  g = volact_catalog_key_group_lookup (c, "kmsw7-1");
  if (g == NULL)
    g = volact_catalog_key_group (c, 21);
  assert_non_null (g);
  assert_false (volact_key_group_activates (g, "win7-enterprise"));
  assert_true (volact_key_group_activates (g, "vista-enterprise"));
  assert_non_null (
      strstr (problems, "activates edition \"win7-enterprise\", which is not defined"));
}

/* Nothing usable left: the build fails naming every refused file, and a
 * holder keeps the catalog it had. */
static void
test_nothing_usable (void **state)
{
  Fixture *f = *state;
  g_autoptr (VolactCatalogHolder) h = volact_catalog_holder_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactCatalog) before = NULL;
  g_autoptr (VolactCatalog) after = NULL;
  g_autoptr (GDir) d = NULL;
  g_autofree char *dir = g_build_filename (f->licenses, "kms11", NULL);
  const char *name;

  drop_plugin (f, "plugins/.libs/kms11.so", "kms11");
  drop_licenses (f, "kms11");
  assert_true (volact_catalog_holder_reload (h, &f->src, &error));
  before = volact_catalog_holder_get (h);
  d = g_dir_open (dir, 0, NULL);
  assert_non_null (d);
  while ((name = g_dir_read_name (d)) != NULL) {
    g_autofree char *path = g_build_filename (dir, name, NULL);
    tamper (path, "<title>Vista", "<title>Vistb");
  }
  assert_false (volact_catalog_holder_reload (h, &f->src, &error));
  assert_non_null (error);
  assert_non_null (strstr (error->message, "no usable license data is left"));
  assert_non_null (strstr (error->message, "kms1pl.xrm"));
  assert_non_null (strstr (error->message, "kms08cfg.xrm"));
  after = volact_catalog_holder_get (h);
  assert_ptr_equal (after, before);
  assert_int_equal (volact_catalog_holder_generation (h), 1);
}

static void
test_unclaimed_data_is_skipped (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactCatalog) c = NULL;

  /* Windows 7 era data without the plugin that reads it: skipped, not fatal. */
  drop_plugin (f, "plugins/.libs/kms11.so", "kms11");
  drop_licenses (f, "kms11");
  drop_licenses (f, "kms12");
  c = volact_catalog_build (&f->src, NULL, &error);
  assert_null (error);
  assert_non_null (c);
  assert_null (volact_catalog_key_group (c, 21));
  assert_int_equal (volact_catalog_n_files (c), 17);
}

static void
test_missing_folders (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autofree char *nowhere = g_build_filename (f->tmp, "nowhere", NULL);
  VolactCatalogSources src = f->src;

  drop_plugin (f, "plugins/.libs/kms12.so", "kms12");
  src.license_dir = nowhere;
  assert_null (volact_catalog_build (&src, NULL, &error));
  assert_true (g_error_matches (error, VOLACT_ERROR, VOLACT_E_IO));
  assert_non_null (strstr (error->message, "nowhere"));
  g_clear_error (&error);

  src = f->src;
  src.trust_file = nowhere;
  assert_null (volact_catalog_build (&src, NULL, &error));
  assert_non_null (error);
  assert_non_null (strstr (error->message, "nowhere"));
}

/* The reference data as shipped: every edition, count and group the issue lists. */
static void
test_reference_data (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VolactCatalog) c = NULL;
  g_autofree char *plugins = test_buildpath ("plugins");
  g_autofree char *licenses = test_srcpath ("licenses");
  g_autofree char *trust = test_reference_trust ();
  const char *dirs[] = { plugins, NULL };
  VolactCatalogSources src = { dirs, licenses, trust };
  static const char *const clients[]
      = { "vista-business", "vista-enterprise", "win7-professional", "win7-enterprise" };
  static const char *const servers[] = {
    "server2008-web",          "server2008-hpc",          "server2008-standard",
    "server2008-enterprise",   "server2008-datacenter",   "server2008-itanium",
    "server2008r2-web",        "server2008r2-hpc",        "server2008r2-standard",
    "server2008r2-enterprise", "server2008r2-datacenter", "server2008r2-itanium",
  };
  const VolactApplication *a;
  const VolactKeyGroup *g;

  c = volact_catalog_build (&src, NULL, &error);
  assert_null (error);
  assert_int_equal (volact_catalog_n_files (c), 34);
  assert_int_equal (volact_catalog_editions (c)->len, 16);
  for (gsize i = 0; i < G_N_ELEMENTS (clients); i++) {
    const VolactEdition *e = volact_catalog_edition (c, clients[i]);
    assert_non_null (e);
    assert_int_equal (e->type, VOLACT_EDITION_CLIENT);
    assert_int_equal (e->minimum_count, 25);
    assert_string_equal (e->application, "windows");
  }
  for (gsize i = 0; i < G_N_ELEMENTS (servers); i++) {
    const VolactEdition *e = volact_catalog_edition (c, servers[i]);
    assert_non_null (e);
    assert_int_equal (e->type, VOLACT_EDITION_SERVER);
    assert_int_equal (e->minimum_count, 5);
    assert_string_equal (e->application, "windows");
  }
  assert_int_equal (volact_catalog_applications (c)->len, 1);
  a = volact_catalog_application (c, "windows");
  assert_int_equal (a->activation_interval, 120);
  assert_int_equal (a->renewal_interval, 10080);
  assert_int_equal (a->validity_days, 180);
  assert_int_equal (a->retention_days, 30);

  assert_int_equal (volact_catalog_key_groups (c)->len, 8);
  /* Group 1 is clients only; higher groups add server groups A, B, C. */
  g = volact_catalog_key_group (c, 11);
  assert_true (volact_key_group_activates (g, "vista-enterprise"));
  assert_false (volact_key_group_activates (g, "server2008-web"));
  g = volact_catalog_key_group (c, 12);
  assert_true (volact_key_group_activates (g, "server2008-hpc"));
  assert_false (volact_key_group_activates (g, "server2008-standard"));
  g = volact_catalog_key_group (c, 14);
  assert_int_equal (g->editions->len, 8);
  assert_false (volact_key_group_activates (g, "win7-enterprise"));
  /* A Windows 7 era key also covers the Vista era editions. */
  g = volact_catalog_key_group (c, 21);
  assert_true (volact_key_group_activates (g, "vista-business"));
  assert_true (volact_key_group_activates (g, "win7-professional"));
  assert_false (volact_key_group_activates (g, "server2008r2-web"));
  g = volact_catalog_key_group (c, 24);
  assert_int_equal (g->editions->len, 16);
  assert_int_equal (g->max_hosts, 6);
  assert_int_equal (g->max_activations, 10);
  assert_true (g->phone_allowed);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_reload_upgrade, setup, teardown),
    cmocka_unit_test_setup_teardown (test_refused_dependency, setup, teardown),
    cmocka_unit_test_setup_teardown (test_nothing_usable, setup, teardown),
    cmocka_unit_test_setup_teardown (test_unclaimed_data_is_skipped, setup, teardown),
    cmocka_unit_test_setup_teardown (test_missing_folders, setup, teardown),
    cmocka_unit_test (test_reference_data),
  };
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL);
  if (!volact_xmlsig_init (NULL))
    return 1;
  return cmocka_run_group_tests (tests, NULL, NULL);
}
