/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The host's hardware fingerprint: five components (machine id, CPU, memory,
 * MAC address, disk) of two hash bytes each; docs/activation.md says how each
 * is read. Two or more changed components mean the host needs reactivation.
 */
#ifndef VOLACT_FINGERPRINT_H
#define VOLACT_FINGERPRINT_H

#include <glib.h>

#include "volact-host-cert.h"

G_BEGIN_DECLS

/** Number of fingerprint components. */
#define VOLACT_FINGERPRINT_COMPONENTS 5
/** Changed components from which a change is significant (needs reactivation). */
#define VOLACT_FINGERPRINT_SIGNIFICANT 2
/** The test-only override: names a file of component=value lines. */
#define VOLACT_FINGERPRINT_ENV "VOLACT_TEST_FINGERPRINT_FILE"

/**
 * volact_fingerprint_component_name:
 * @index: 0..VOLACT_FINGERPRINT_COMPONENTS-1
 *
 * The component's name as hashed and as written in the override file:
 * "machine-id", "cpu", "memory", "mac", "disk". NULL for other indexes.
 */
const char *volact_fingerprint_component_name (guint index);

/**
 * volact_fingerprint_component_hash:
 * @name: the component's name (volact_fingerprint_component_name())
 * @value: (nullable): its value; NULL (unreadable) hashes like ""
 * @out: receives the first two bytes of SHA-256("volact-fp-v1" || name || 0 || value)
 */
void volact_fingerprint_component_hash (const char *name, const char *value, guint8 out[2]);

/**
 * volact_fingerprint_from_values:
 * @values: the five component values in order (each may be NULL = unreadable)
 * @out: receives the fingerprint
 */
void volact_fingerprint_from_values (const char *const values[VOLACT_FINGERPRINT_COMPONENTS],
                                     guint8 out[VOLACT_FINGERPRINT_SIZE]);

/**
 * volact_fingerprint_read_file:
 * @path: a file of `component=value` lines
 * @out: receives the fingerprint
 *
 * Reads the test override file: blank lines and lines starting with '#' are
 * skipped, names and values are stripped of surrounding white space, a
 * missing component hashes the empty string (as an unreadable one does).
 * Unknown or repeated names and lines without '=' fail with VOLACT_E_CONFIG
 * naming the file and line; an unreadable file fails with VOLACT_E_IO.
 */
gboolean volact_fingerprint_read_file (const char *path, guint8 out[VOLACT_FINGERPRINT_SIZE],
                                       GError **error);

/**
 * volact_fingerprint_read:
 * @state_dir: (nullable): the host's state folder (its file system gives the disk component)
 * @out: receives the fingerprint
 * @overridden: (out) (optional): set to TRUE when the test override was used
 *
 * Reads the five components from the hardware (see docs/activation.md). When
 * the environment variable VOLACT_TEST_FINGERPRINT_FILE is set and the process
 * is not privileged (getauxval(AT_SECURE) == 0), the components are read from
 * that file instead and a warning is logged; in a privileged process the
 * variable is ignored (also with a warning). Components that cannot be read
 * hash the empty string, so reading the hardware never fails; only a broken
 * override file does (see volact_fingerprint_read_file()).
 */
gboolean volact_fingerprint_read (const char *state_dir, guint8 out[VOLACT_FINGERPRINT_SIZE],
                                  gboolean *overridden, GError **error);

/** The number of components (0..5) in which @a and @b differ. */
guint volact_fingerprint_changed_components (const guint8 a[VOLACT_FINGERPRINT_SIZE],
                                             const guint8 b[VOLACT_FINGERPRINT_SIZE]);

/**
 * volact_fingerprint_significant_change:
 *
 * TRUE when two or more components differ: the host then needs reactivation.
 * A single changed component (a new network card, more memory) is tolerated.
 */
gboolean volact_fingerprint_significant_change (const guint8 old_fp[VOLACT_FINGERPRINT_SIZE],
                                                const guint8 new_fp[VOLACT_FINGERPRINT_SIZE]);

G_END_DECLS

#endif
