/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The administration socket: a Unix stream socket (mode 0660) that volactctl
 * talks to. Peers are checked by their kernel credentials: root, the daemon's
 * own user, or a member of the configured admin group. Connections are
 * accepted on the main loop and served in worker threads (volact-accept.h);
 * the handler must be thread-safe. At most 16 are open at once, the last slot
 * kept for root, and each request must arrive within the admin timeout.
 */
#ifndef VOLACT_ADMIN_H
#define VOLACT_ADMIN_H

#include <gio/gio.h>

#include "volact-commands.h"

G_BEGIN_DECLS

/** Answers one validated command of the table; returns a floating or owned a{sv} reply. */
typedef GVariant *(*VolactAdminHandler) (const VolactCommand *command, const char *const *args,
                                         gpointer user_data);

typedef struct _VolactAdmin VolactAdmin;

/**
 * Binds PATH (replacing a stale socket, refusing to replace anything else),
 * sets mode 0660 and group ADMIN_GROUP (if non-empty) and starts serving on
 * the caller's main loop. A connection that sends no complete request within
 * TIMEOUT seconds (0: no limit) is closed.
 */
VolactAdmin *volact_admin_start (const char *path, const char *admin_group, guint timeout,
                                 VolactAdminHandler handler, gpointer user_data, GError **error);
/** Stops serving, waits a few seconds for the commands in progress and removes the socket. */
void volact_admin_stop (VolactAdmin *admin);

G_END_DECLS

#endif
