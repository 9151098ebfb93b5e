/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * The client listener's sockets: binding the configured addresses (IPv4 and
 * IPv6 literals) or taking the ones systemd passes (socket activation). The
 * transport (volact-server.c) only watches what this hands it.
 */
#ifndef VOLACT_LISTEN_H
#define VOLACT_LISTEN_H

#include <glib.h>

G_BEGIN_DECLS

/** One listening socket: non-blocking, close-on-exec, TCP_NODELAY and TCP_DEFER_ACCEPT set. */
typedef struct {
  int fd;
  char *where; /* "ADDRESS port PORT", for messages */
} VolactListener;

/**
 * Opens the listening sockets. Under systemd socket activation (LISTEN_PID
 * is this process) takes the passed descriptors, which must be listening TCP
 * sockets, and clears the LISTEN_* variables; otherwise binds every address
 * of ADDRESSES on *PORT ("::" is IPv6-only, so "0.0.0.0;::" binds both).
 * *PORT 0 binds a free port, which every further address then uses. Sets
 * *PORT to the port bound. Returns VolactListener* elements (free with
 * g_ptr_array_unref, which closes them). Errors: CONFIG (bad address, no
 * address, a passed descriptor that is no listening TCP socket), FAILED
 * (socket or bind failure, naming the address and port).
 */
GPtrArray *volact_listen_open (const char *const *addresses, guint *port, GError **error);

G_END_DECLS

#endif
