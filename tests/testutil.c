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
