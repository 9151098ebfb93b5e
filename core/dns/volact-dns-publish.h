/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * One RFC 2136 dynamic update of the host's SRV record (RFC 2782)
 * `_volact._tcp.ZONE`, signed with TSIG HMAC-SHA256, through ldns. Blocking:
 * volact-dns-publisher.h runs it in a worker thread. See docs/dns.md.
 */
#ifndef VOLACT_DNS_PUBLISH_H
#define VOLACT_DNS_PUBLISH_H

#include <glib.h>

G_BEGIN_DECLS

/** The owner label of the record, before the zone. */
#define VOLACT_DNS_SRV_LABEL "_volact._tcp"

/** A TSIG key as `tsig-keygen -a hmac-sha256 NAME` writes it. */
typedef struct {
  char *name;      /* e.g. "volact-update" */
  char *algorithm; /* "hmac-sha256" */
  char *secret;    /* base64 */
} VolactTsigKey;

/**
 * Reads the TSIG key file PATH (`key "NAME" { algorithm hmac-sha256; secret
 * "BASE64"; };`). Refuses a file that is not a regular file of mode 0600 or
 * stricter, and any algorithm but hmac-sha256, naming the file.
 */
gboolean volact_tsig_key_load (const char *path, VolactTsigKey *key, GError **error);
void volact_tsig_key_clear (VolactTsigKey *key);

/** What to publish: one SRV record in one zone. */
typedef struct {
  const char *zone;
  const char *server; /* ADDR[:PORT] or a host name; NULL or "": the zone's SOA primary */
  const VolactTsigKey *key;
  const char *target; /* absolute or relative to the root */
  guint port, priority, weight, ttl;
  guint timeout_s; /* per attempt */
} VolactDnsRecord;

/** The outcome of one update, for dli and event 12293. */
typedef struct {
  char *server;     /* the server asked, "ADDR:PORT", or NULL if none was found */
  int rcode;        /* the DNS answer's RCODE (0 NOERROR, 5 REFUSED, 9 NOTAUTH...), -1: no answer */
  char *rcode_name; /* "NOERROR", "NOTAUTH"...; "TIMEOUT" or "NOSERVER" when rcode is -1 */
  guint removed;    /* this host's old records the update deleted */
} VolactDnsOutcome;

void volact_dns_outcome_clear (VolactDnsOutcome *out);

/**
 * Publishes R (REMOVE false) or removes it (REMOVE true): reads the current
 * SRV RRset from the server, deletes only the records whose target is R's
 * (another host's record stays), and adds R's, in one signed update. OUT says
 * which server answered what, also on failure (the GError says why).
 */
gboolean volact_dns_publish (const VolactDnsRecord *r, gboolean remove, VolactDnsOutcome *out,
                             GError **error);

/** The host's fully qualified name (the SRV target by default), via the system resolver. */
char *volact_dns_host_fqdn (void);

G_END_DECLS

#endif
