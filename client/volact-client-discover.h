/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * libvolact's discovering connection (internal): the cached host first, then
 * the hosts of the SRV records in RFC 2782 order, each address given the
 * connect timeout. volact-client-lib.c owns one per discovering client.
 */
#ifndef VOLACT_CLIENT_DISCOVER_H
#define VOLACT_CLIENT_DISCOVER_H

#include "volact.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _VolactDiscovery VolactDiscovery;

/** Copies OPTIONS (NULL: defaults) and checks dns_server; no network I/O. */
VolactDiscovery *volact_discovery_new (const VolactClientDiscovery *options, GError **error);
void volact_discovery_free (VolactDiscovery *discovery);

/**
 * volact_discovery_connect:
 * @io_timeout_seconds: the timeout for reads and writes on the connection made
 * @label: (out): "name:port" of the host that accepted
 * @from_cache: (out): TRUE if that was the cached host
 *
 * Returns: (transfer full): a connection, or NULL with VOLACT_E_HOST_UNREACHABLE
 * naming every host tried (or VOLACT_E_NO_DNS_SERVERS).
 */
GSocketConnection *volact_discovery_connect (VolactDiscovery *discovery, guint io_timeout_seconds,
                                             char **label, gboolean *from_cache, GError **error);

/**
 * LABEL ("name:port", as volact_discovery_connect() returned it) answered that
 * it cannot serve now (not activated, busy): later connects skip it, so the
 * next host in RFC 2782 order is asked instead.
 */
void volact_discovery_pass (VolactDiscovery *discovery, const char *label);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactDiscovery, volact_discovery_free)

G_END_DECLS

#endif
