/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VOLACTCTL_PASSWORD_H
#define VOLACTCTL_PASSWORD_H

#include <glib.h>

G_BEGIN_DECLS

/**
 * A password: the first line of FD (at most 1,024 bytes), or, with FD -1,
 * asked on the terminal without echo (twice if CONFIRM, which must then
 * match). Errors say to use --password-fd when there is no terminal. Wipe
 * and free the result.
 */
char *volactctl_password_read (int fd, gboolean confirm, GError **error);

G_END_DECLS

#endif
