/* SPDX-License-Identifier: LGPL-2.1-or-later */
/** Reading files that hold secrets (TSIG keys, the web users file, TLS keys). */
#ifndef VOLACT_PRIVATE_FILE_H
#define VOLACT_PRIVATE_FILE_H

#include <glib.h>

G_BEGIN_DECLS

/**
 * The text of PATH (NUL-terminated, *LEN its length if LEN is not NULL) if
 * it is a regular file (symbolic links are not followed) of at most MAX
 * bytes that neither group nor others may read or write. WHAT names the
 * secret in the error ("TSIG secret", "password hashes"): a mode that lets
 * others in is PERMISSION ("mode 0644 lets others read the ...; it must be
 * 0600 or stricter (chmod 600 PATH)"), an unreadable file IO.
 */
char *volact_private_file_read (const char *path, gsize max, const char *what, gsize *len,
                                GError **error);

G_END_DECLS

#endif
