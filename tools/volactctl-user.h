/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VOLACTCTL_USER_H
#define VOLACTCTL_USER_H

#include <glib.h>

G_BEGIN_DECLS

/**
 * `volactctl user add|passwd|del|list ...` (ARGS after "user"): edits the
 * users file of the web listener (web-users, or --users-file PATH) in place,
 * without volactd, which reads the file again when it changes. Passwords
 * come from --password-fd N (first line) or the terminal, never from argv.
 * Returns an a{sv} reply as the daemon's commands do.
 */
GVariant *volactctl_user (const char *const *args);

G_END_DECLS

#endif
