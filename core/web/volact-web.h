/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * volactd's HTTPS listener (docs/web.md): the read-only dashboard and the
 * Prometheus /metrics endpoint, built on libsoup 3. It runs in a thread of
 * its own with its own main context, so that a slow page never delays a
 * client's activation; the work behind a page (reports, password hashes)
 * runs in worker threads. TLS only, from the web-certificate and web-key
 * files; every path but the sign-in page needs a signed-in session or, for
 * /metrics, HTTP Basic credentials of a user in the web-users file.
 */
#ifndef VOLACT_WEB_H
#define VOLACT_WEB_H

#include "volact-host.h"
#include "volact-server.h"

G_BEGIN_DECLS

typedef struct _VolactWeb VolactWeb;

/**
 * The media type of POST /api/command: the body is one admin socket message
 * without its length prefix, a "(sas)" request; the answer is the a{sv} reply
 * (volact-admin-proto.h), as volactctl --remote sends and reads them.
 */
#define VOLACT_WEB_COMMAND_TYPE "application/x-volact-admin"

/**
 * GnuTLS's priority string for the listener and for volactctl --remote: TLS
 * 1.3 only. Set as G_TLS_GNUTLS_PRIORITY unless the environment already sets
 * it (docs/web.md), before GLib's TLS backend loads.
 */
#define VOLACT_WEB_TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3"

/**
 * Starts the listener on the configuration's web-listen addresses and
 * web-port (which must not be 0). SERVER (may be NULL) feeds /metrics.
 * Errors name the key at fault: a missing or unreadable web-certificate or
 * web-key (a key others may read is refused), a users file that does not
 * parse, an address that cannot be bound.
 */
VolactWeb *volact_web_start (VolactHost *host, VolactServer *server, GError **error);
/** The port bound. */
guint volact_web_port (VolactWeb *web);
/** Stops listening, waits for the pages being made, frees WEB. */
void volact_web_stop (VolactWeb *web);

G_END_DECLS

#endif
