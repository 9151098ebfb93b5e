/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * When the host's SRV record is published (docs/dns.md): at start, at once
 * after sdns, every 24 hours, and again with exponential backoff after a
 * failure (each failure raises event 12293); cdns and `dns unpublish` remove
 * it; stopping volactd leaves it. Each update runs in a worker thread
 * (volact-dns-publish.h), so nothing blocks serving clients; results come back
 * on the main context. All functions are thread-safe: the admin commands call
 * them from their worker threads with the host's lock held, and the publisher
 * never takes that lock.
 */
#ifndef VOLACT_DNS_PUBLISHER_H
#define VOLACT_DNS_PUBLISHER_H

#include <glib.h>

G_BEGIN_DECLS

struct _VolactHost;
typedef struct _VolactDnsPublisher VolactDnsPublisher;

/** Seconds between refreshes of a published record. */
#define VOLACT_DNS_REFRESH_S (24 * 60 * 60)
/** First retry after a failure; doubles up to VOLACT_DNS_RETRY_MAX_S. */
#define VOLACT_DNS_RETRY_MIN_S 10
#define VOLACT_DNS_RETRY_MAX_S 3600

/**
 * Checks the dns-* configuration of HOST (the TSIG key file's mode and format,
 * dns-server) and, with publishing on and zones configured, publishes the
 * record for PORT (the port bound) at once. Errors name the configuration
 * file and key. Attaches itself to HOST (volact-host-private.h).
 */
VolactDnsPublisher *volact_dns_publisher_start (struct _VolactHost *host, guint port,
                                                GError **error);
/** Cancels timers; a running update finishes in its thread but reports nowhere. */
void volact_dns_publisher_stop (VolactDnsPublisher *pub);

/**
 * sdns (TRUE): publish now (once the host is activated); cdns (FALSE): remove
 * the record now and stop publishing.
 */
void volact_dns_publisher_set_enabled (VolactDnsPublisher *pub, gboolean enabled);
/**
 * The host became activated (publish, if enabled) or lost its activation
 * (remove the record: clients must not be sent to a host that cannot serve).
 */
void volact_dns_publisher_set_activated (VolactDnsPublisher *pub, gboolean activated);
/** TRUE while publishing is on but the host is not activated yet. */
gboolean volact_dns_publisher_waits_for_activation (VolactDnsPublisher *pub);
/**
 * `dns unpublish`: removes the record now; it stays removed until the next
 * sdns or start. Fails when no dns-zones are configured.
 */
gboolean volact_dns_publisher_unpublish (VolactDnsPublisher *pub, GError **error);

/**
 * The last result per zone for dli: an aa{sv} of zone, record, server,
 * result ("published", "removed", "failed", "pending", "waiting" for the host's activation), time (unix seconds),
 * and on failure rcode, rcode_name, error, retry_in (seconds).
 */
GVariant *volact_dns_publisher_status (VolactDnsPublisher *pub);

G_END_DECLS

#endif
