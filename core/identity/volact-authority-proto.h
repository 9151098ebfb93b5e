/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * Online activation between a host (volactctl ato) and volact-authority
 * serve: one request line and one reply line over TCP, ASCII, at most
 * VOLACT_AUTHORITY_MAX_LINE bytes each (see docs/activation.md):
 *
 *   request:  "ACTIVATE 1 <Installation ID>\n"
 *   reply:    "OK <Confirmation ID>\n"  or  "ERROR 0xXXXXXXXX <message>\n"
 *
 * The IDs are the same digit groups as telephone activation, so both paths
 * share one format and one set of checks.
 */
#ifndef VOLACT_AUTHORITY_PROTO_H
#define VOLACT_AUTHORITY_PROTO_H

#include <gio/gio.h>

G_BEGIN_DECLS

#define VOLACT_AUTHORITY_MAX_LINE 1024u
#define VOLACT_AUTHORITY_TIMEOUT_SECONDS 15u

/**
 * Reads one line of at most MAX bytes (without the newline) from IN; a longer
 * line, a NUL or a non-printable byte is an error. NULL without error at a
 * clean end of stream.
 */
char *volact_authority_read_line (GInputStream *in, gsize max, GCancellable *cancellable,
                                  GError **error);

/** Host side: sends IID_TEXT to ENDPOINT (HOST:PORT), returns the Confirmation ID text. */
char *volact_authority_activate (const char *endpoint, const char *iid_text, GError **error);

/** Authority side: the Installation ID text of a request line, or NULL with an error. */
char *volact_authority_parse_request (const char *line, GError **error);

/** Authority side: the reply line for a result (CID_TEXT on success, else ERROR). */
char *volact_authority_format_reply (const char *cid_text, const GError *error);

G_END_DECLS

#endif
