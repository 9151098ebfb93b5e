/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A main() for a fuzz target in the normal build: runs the target once on
 * every file named or found (one level deep) in the directories named, so
 * that the corpus and every input that once crashed (fuzz/regressions/) are
 * replayed by `make check` without clang (tests/fuzz-replay.sh).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>

#include <glib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
/* Not every target has one. */
int LLVMFuzzerInitialize (int *argc, char ***argv) __attribute__ ((weak));

static guint
replay_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, &error)) {
    fprintf (stderr, "%s\n", error->message);
    exit (2);
  }
  LLVMFuzzerTestOneInput ((const uint8_t *) data, len);
  return 1;
}

int
main (int argc, char **argv)
{
  guint n = 0;

  if (LLVMFuzzerInitialize != NULL)
    LLVMFuzzerInitialize (&argc, &argv);
  for (int i = 1; i < argc; i++) {
    g_autoptr (GDir) dir = NULL;
    const char *name;

    if (!g_file_test (argv[i], G_FILE_TEST_IS_DIR)) {
      n += replay_file (argv[i]);
      continue;
    }
    dir = g_dir_open (argv[i], 0, NULL);
    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
      g_autofree char *path = g_build_filename (argv[i], name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        n += replay_file (path);
    }
  }
  printf ("%s: %u inputs replayed\n", argv[0], n);
  return n > 0 ? 0 : 1;
}
