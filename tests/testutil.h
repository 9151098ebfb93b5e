/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the cmocka tests: temporary folders and source/build paths. */
#ifndef VOLACT_TESTUTIL_H
#define VOLACT_TESTUTIL_H

#include <glib.h>

#include "volact-host.h"

/** A new private temporary folder (mode 0700); free with test_rmtree + g_free. */
char *test_tmpdir (void);
/** Removes PATH and everything below it. */
void test_rmtree (const char *path);
/** Absolute path of REL in the source tree. */
char *test_srcpath (const char *rel);
/** Absolute path of REL in the build tree. */
char *test_buildpath (const char *rel);
/** Copies file SRC to DST (DST's folder must exist). */
void test_copy_file (const char *src, const char *dst);
/** Writes LEN bytes of DATA to PATH, aborting the test on failure. */
void test_write_file (const char *path, const char *data, gssize len);
/** The reference authority's certificate (demo only). */
char *test_reference_trust (void);
/**
 * Makes DIR/licenses: a copy of the reference license data plus copies of
 * every *.xrm of tests/data/EXTRA in its kms12 folder, signed now with the committed
 * DEMO ONLY reference authority key (tools/volact-authority sign). Returns
 * the folder (g_free). Aborts the test on failure.
 */
char *test_license_dir_with (const char *dir, const char *extra);

/**
 * An in-process host, not activated, that will listen on 127.0.0.1 at a free
 * port (port 0), with the built reference plugins and license data, trusting
 * the DEMO ONLY reference authority, its state in DIR/state. NULL (the error
 * printed) on failure.
 */
VolactHost *test_host_new (const char *dir);

#endif
