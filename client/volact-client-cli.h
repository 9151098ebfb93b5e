/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * What the client-side commands share (volact-client and the non-installed
 * load generator bench/volact-fleet): usage errors, the "Error: 0xCODE text"
 * line, JSON output and --host parsing, so both behave the same.
 */
#ifndef VOLACT_CLIENT_CLI_H
#define VOLACT_CLIENT_CLI_H

#include <glib.h>

G_BEGIN_DECLS

/** Exit status for a usage error. */
#define VOLACT_CLI_EXIT_USAGE 2

/**
 * Prints "PROGRAM: message" and a pointer to --help on stderr.
 * Returns VOLACT_CLI_EXIT_USAGE.
 */
int volact_cli_usage_error (const char *program, const char *format, ...) G_GNUC_PRINTF (2, 3);

/** Prints "Error: 0xCODE text[EXTRA]" on stderr and, if it adds something, DETAIL below it. */
void volact_cli_print_error_line (guint32 code, const char *extra, const char *detail);

/** Ends the vardict builder B and prints it as indented JSON on stdout. */
void volact_cli_print_json (GVariantBuilder *b);

/** Parses a decimal number in MIN..MAX; FALSE for anything else (NULL too). */
gboolean volact_cli_parse_uint (const char *text, guint64 min, guint64 max, guint64 *out);

/**
 * volact_cli_parse_host:
 * @arg: (nullable): "HOST[:PORT]" as given to --host; NULL means 127.0.0.1
 * @host: (out): the host name or address
 * @port: (out): the port (default 1688)
 * @label: (out): "host:port" or "[v6]:port", as printed and stored
 *
 * Fails with VOLACT_E_CONFIG naming --host.
 */
gboolean volact_cli_parse_host (const char *arg, char **host, guint16 *port, char **label,
                                GError **error);

G_END_DECLS

#endif
