/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * DNS SRV discovery for libvolact (internal): RFC 2782 ordering as a pure
 * function, and the lookups through ldns (the SRV records of
 * _volact._tcp.DOMAIN over the search list, and the targets' A/AAAA records).
 */
#ifndef VOLACT_SRV_H
#define VOLACT_SRV_H

#include <glib.h>

G_BEGIN_DECLS

/** The service name the hosts publish (docs/client.md). */
#define VOLACT_SRV_SERVICE "_volact._tcp"

/** At most this many answers are used (a DNS message holds far fewer). */
#define VOLACT_SRV_TARGETS_MAX 1024

/** One SRV answer. */
typedef struct {
  guint16 priority;
  guint16 weight;
  guint16 port;
  char *target; /* host name without the trailing dot; "." means "no service here" */
} VolactSrvTarget;

/**
 * volact_srv_order:
 * @targets: (inout): the answers, reordered in place
 * @n: how many
 * @rand: the random source (a seeded one makes tests repeatable)
 *
 * Orders the answers as RFC 2782 says to try them: by priority ascending,
 * and within one priority by weighted random choice: zero-weight entries
 * first, a uniform number in 0..sum of weights (0 only when a zero-weight
 * entry is there to take it, so non-zero weights get exactly their share),
 * the first entry whose running sum reaches it is taken out, repeated until
 * none is left. A "." target (the service is decidedly not available) is
 * dropped, its string freed. Returns how many targets are left, in the first
 * slots of @targets.
 */
guint volact_srv_order (VolactSrvTarget *targets, guint n, GRand *rand);

/** Frees the strings of N targets (not the array). */
void volact_srv_targets_clear (VolactSrvTarget *targets, guint n);

/** A DNS resolver: the system's (/etc/resolv.conf) or one server. */
typedef struct _VolactSrvResolver VolactSrvResolver;

/**
 * volact_srv_resolver_new:
 * @dns_server: (nullable): "ADDR", "ADDR:PORT" or "[V6]:PORT"; NULL for the
 *   system's name servers
 * @timeout_ms: how long to wait for each answer
 *
 * The search list always comes from the system's resolver configuration
 * (search, else domain), or from $LOCALDOMAIN when it is set, as for the C
 * library.
 * Fails with VOLACT_E_NO_DNS_SERVERS when there is no name server to ask and
 * VOLACT_E_CONFIG for a malformed @dns_server.
 */
VolactSrvResolver *volact_srv_resolver_new (const char *dns_server, guint timeout_ms,
                                            GError **error);
void volact_srv_resolver_free (VolactSrvResolver *resolver);
/** TRUE if the resolver asks the server given, not the system's. */
gboolean volact_srv_resolver_is_explicit (VolactSrvResolver *resolver);

/**
 * volact_srv_lookup:
 * @domain: (nullable): the domain to look in; NULL for each of the system's
 *   search domains in turn, until one answers
 * @name: (out): the name that answered ("_volact._tcp.example.org")
 * @n: (out): how many targets
 *
 * Returns: (transfer full): the SRV answers, unordered; NULL with
 * VOLACT_E_HOST_UNREACHABLE when no domain has any (the message names the
 * names asked), VOLACT_E_NO_DNS_SERVERS when there is no domain to ask in.
 */
VolactSrvTarget *volact_srv_lookup (VolactSrvResolver *resolver, const char *domain, char **name,
                                    guint *n, GError **error);

/**
 * volact_srv_resolve:
 * Resolves NAME (A and AAAA records, or an address literal) through the
 * resolver's server when it was given explicitly, else through the system
 * (getaddrinfo). Returns: (transfer full): a list of GInetAddress, never
 * empty; NULL with VOLACT_E_HOST_UNREACHABLE.
 */
GList *volact_srv_resolve (VolactSrvResolver *resolver, const char *name, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactSrvResolver, volact_srv_resolver_free)

G_END_DECLS

#endif
