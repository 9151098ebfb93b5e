/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "testutil.h"

#include <glib/gstdio.h>
#include <stdlib.h>

char *
test_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("volact-test-XXXXXX", &error);
  if (dir == NULL)
    g_error ("cannot make a temporary folder: %s", error->message);
  return dir;
}

void
test_rmtree (const char *path)
{
  GDir *dir;
  const char *name;

  if (path == NULL)
    return;
  if (!g_file_test (path, G_FILE_TEST_IS_DIR) || g_file_test (path, G_FILE_TEST_IS_SYMLINK)) {
    g_unlink (path);
    return;
  }
  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL) {
    while ((name = g_dir_read_name (dir)) != NULL) {
      g_autofree char *child = g_build_filename (path, name, NULL);
      test_rmtree (child);
    }
    g_dir_close (dir);
  }
  g_rmdir (path);
}

char *
test_srcpath (const char *rel)
{
  return g_build_filename (TEST_SRCDIR, rel, NULL);
}

char *
test_buildpath (const char *rel)
{
  return g_build_filename (TEST_BUILDDIR, rel, NULL);
}

void
test_write_file (const char *path, const char *data, gssize len)
{
  g_autoptr (GError) error = NULL;
  if (!g_file_set_contents (path, data, len, &error))
    g_error ("cannot write %s: %s", path, error->message);
}

void
test_copy_file (const char *src, const char *dst)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (src, &data, &len, &error))
    g_error ("cannot read %s: %s", src, error->message);
  test_write_file (dst, data, (gssize) len);
}

char *
test_reference_trust (void)
{
  return test_srcpath ("licenses/reference-authority.pem");
}

/* Copies every *.xrm of FROM into TO (created); appends the copies' paths to COPIES if non-NULL. */
static void
copy_xrm (const char *from, const char *to, GPtrArray *copies)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) d = g_dir_open (from, 0, &error);
  const char *name;

  if (d == NULL)
    g_error ("cannot read %s: %s", from, error->message);
  g_mkdir_with_parents (to, 0700);
  while ((name = g_dir_read_name (d)) != NULL) {
    g_autofree char *src = NULL;
    char *dst;
    if (!g_str_has_suffix (name, ".xrm"))
      continue;
    src = g_build_filename (from, name, NULL);
    dst = g_build_filename (to, name, NULL);
    test_copy_file (src, dst);
    if (copies != NULL)
      g_ptr_array_add (copies, dst);
    else
      g_free (dst);
  }
}

char *
test_license_dir_with (const char *dir, const char *extra)
{
  g_autofree char *licenses = g_build_filename (dir, "licenses", NULL);
  g_autofree char *signer = g_build_filename (dir, "signer", NULL);
  g_autofree char *extra_dir = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;

  for (guint i = 0; i < 2; i++) {
    const char *plugin = i == 0 ? "kms11" : "kms12";
    g_autofree char *rel = g_build_filename ("licenses", plugin, NULL);
    g_autofree char *from = test_srcpath (rel);
    g_autofree char *to = g_build_filename (licenses, plugin, NULL);
    copy_xrm (from, to, NULL);
  }
  /* A private authority folder holding the DEMO ONLY reference key pair, as generate.sh does. */
  g_mkdir_with_parents (signer, 0700);
  {
    g_autofree char *key = test_srcpath ("licenses/reference-authority.key");
    g_autofree char *pem = test_reference_trust ();
    g_autofree char *key_copy = g_build_filename (signer, "authority.key", NULL);
    g_autofree char *pem_copy = g_build_filename (signer, "authority.pem", NULL);
    test_copy_file (key, key_copy);
    test_copy_file (pem, pem_copy);
    g_chmod (key_copy, 0600);
  }
  g_ptr_array_add (argv, test_buildpath ("tools/volact-authority"));
  g_ptr_array_add (argv, g_strdup ("--dir"));
  g_ptr_array_add (argv, g_strdup (signer));
  g_ptr_array_add (argv, g_strdup ("sign"));
  {
    g_autofree char *rel = g_build_filename ("tests", "data", extra, NULL);
    g_autofree char *to = g_build_filename (licenses, "kms12", NULL);
    extra_dir = test_srcpath (rel);
    copy_xrm (extra_dir, to, argv);
  }
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                     &status, &error)
      || !g_spawn_check_wait_status (status, &error))
    g_error ("cannot sign the test license data of %s: %s\n%s", extra_dir, error->message,
             err ? err : "");
  return g_steal_pointer (&licenses);
}

VolactHost *
test_host_new (const char *dir)
{
  VolactConfig *cfg = volact_config_new_default ();
  g_autoptr (GError) error = NULL;
  VolactHost *host;

  g_strfreev (cfg->listen);
  cfg->listen = g_strsplit ("127.0.0.1", ";", -1);
  cfg->port = 0; /* a free port (the configuration file could not say 0) */
  g_strfreev (cfg->plugin_dirs);
  cfg->plugin_dirs = g_new0 (char *, 2);
  cfg->plugin_dirs[0] = test_buildpath ("plugins");
  g_free (cfg->license_dir);
  cfg->license_dir = test_srcpath ("licenses");
  g_free (cfg->trust);
  cfg->trust = test_reference_trust ();
  cfg->demo_authority = TRUE; /* tests sign with the DEMO ONLY reference authority */
  g_free (cfg->state_dir);
  cfg->state_dir = g_build_filename (dir, "state", NULL);
  host = volact_host_new (cfg, &error);
  if (host == NULL)
    g_printerr ("volact_host_new: %s\n", error->message);
  return host;
}
