/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * What the two fleet generators (bench/volact-fleet and bench/volact-fleet-sim)
 * share: how a simulated machine's ID and name look, and the tally of result
 * codes other than licensed that both print at the end.
 */
#ifndef VOLACT_FLEET_COMMON_H
#define VOLACT_FLEET_COMMON_H

#include <glib.h>

G_BEGIN_DECLS

/** Marks the 16 random bytes of CMID as a version 4 (random) UUID, as real machine IDs are. */
void volact_fleet_cmid_make_v4 (guint8 cmid[16]);

/** Writes the name of simulated machine INDEX ("ws0042.fleet.example") into OUT. */
void volact_fleet_machine_name (char *out, gsize size, guint64 index);

/** Adds one to the tally of CODE in CODES (a GHashTable of code -> count, direct keys). */
void volact_fleet_codes_note (GHashTable *codes, guint32 code);

/** The tally's count for CODE. */
guint volact_fleet_codes_get (GHashTable *codes, guint32 code);

/** The codes of CODES in ascending order (a GArray of guint32; free with g_array_unref). */
GArray *volact_fleet_codes_sorted (GHashTable *codes);

/**
 * Parses the command line with ENTRIES, SUMMARY and DESCRIPTION for --help (the locale
 * set first). Returns 0, or the usage error's exit status after printing it as
 * PROGRAM (an unknown option, or an argument left over).
 */
int volact_fleet_parse_options (const char *program, const GOptionEntry *entries,
                                const char *summary, const char *description, int *argc,
                                char ***argv);

G_END_DECLS

#endif
