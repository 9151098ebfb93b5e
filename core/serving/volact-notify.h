/* SPDX-License-Identifier: LGPL-2.1-or-later */
/** sd_notify(3) without libsystemd: a datagram to $NOTIFY_SOCKET, if set. */
#ifndef VOLACT_NOTIFY_H
#define VOLACT_NOTIFY_H

#include <glib.h>

G_BEGIN_DECLS

/** Sends STATE (e.g. "READY=1") to the service manager; a no-op outside systemd. */
void volact_notify (const char *state);

G_END_DECLS

#endif
