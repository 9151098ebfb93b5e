/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SRV update on the wire, all through ldns: no hand-written DNS format. */
#include "config.h"

#include "volact-dns-publish.h"

#include "volact-error.h"
#include "volact-private-file.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <ldns/ldns.h>
#include <netdb.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TSIG_FILE_MAX 4096

void
volact_tsig_key_clear (VolactTsigKey *key)
{
  g_free (key->name);
  g_free (key->algorithm);
  if (key->secret != NULL)
    memset (key->secret, 0, strlen (key->secret));
  g_free (key->secret);
  memset (key, 0, sizeof *key);
}

/* The first group of PATTERN in TEXT, or NULL. */
static char *
match (const char *pattern, const char *text)
{
  g_autoptr (GRegex) re = g_regex_new (pattern, G_REGEX_CASELESS, 0, NULL);
  g_autoptr (GMatchInfo) mi = NULL;
  return g_regex_match (re, text, 0, &mi) ? g_match_info_fetch (mi, 1) : NULL;
}

gboolean
volact_tsig_key_load (const char *path, VolactTsigKey *key, GError **error)
{
  g_autofree char *text = volact_private_file_read (path, TSIG_FILE_MAX, "TSIG secret", NULL, error);
  g_autofree guchar *raw = NULL;
  gsize raw_len = 0;

  memset (key, 0, sizeof *key);
  if (text == NULL)
    return FALSE;
  key->name = match ("key\\s+\"?([A-Za-z0-9._-]+)\"?\\s*\\{", text);
  key->algorithm = match ("algorithm\\s+\"?([A-Za-z0-9.-]+)\"?\\s*;", text);
  key->secret = match ("secret\\s+\"([A-Za-z0-9+/=]+)\"\\s*;", text);
  memset (text, 0, strlen (text));
  if (key->name == NULL || key->algorithm == NULL || key->secret == NULL) {
    volact_tsig_key_clear (key);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "%s: not a TSIG key file (expected key \"NAME\" { algorithm hmac-sha256; "
                 "secret \"BASE64\"; }; as tsig-keygen -a hmac-sha256 NAME writes it)",
                 path);
    return FALSE;
  }
  if (g_ascii_strcasecmp (key->algorithm, "hmac-sha256") != 0) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "%s: algorithm %s is not supported; create the key with tsig-keygen -a "
                 "hmac-sha256",
                 path, key->algorithm);
    volact_tsig_key_clear (key);
    return FALSE;
  }
  raw = g_base64_decode (key->secret, &raw_len);
  if (raw_len < 16) {
    volact_tsig_key_clear (key);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "%s: the secret is shorter than 16 bytes",
                 path);
    return FALSE;
  }
  memset (raw, 0, raw_len);
  return TRUE;
}

void
volact_dns_outcome_clear (VolactDnsOutcome *out)
{
  g_free (out->server);
  g_free (out->rcode_name);
  memset (out, 0, sizeof *out);
}

char *
volact_dns_host_fqdn (void)
{
  struct addrinfo hints = { .ai_flags = AI_CANONNAME, .ai_socktype = SOCK_STREAM }, *ai = NULL;
  const char *name = g_get_host_name ();
  char *fqdn;

  if (getaddrinfo (name, NULL, &hints, &ai) != 0 || ai == NULL || ai->ai_canonname == NULL) {
    if (ai != NULL)
      freeaddrinfo (ai);
    return g_strdup (name);
  }
  fqdn = g_strdup (ai->ai_canonname);
  freeaddrinfo (ai);
  return fqdn;
}

/* NAME with a trailing dot, so ldns never appends anything to it. */
static ldns_rdf *
dname (const char *name)
{
  g_autofree char *abs
      = g_str_has_suffix (name, ".") ? g_strdup (name) : g_strconcat (name, ".", NULL);
  return ldns_dname_new_frm_str (abs);
}

/* The zone's primary server (SOA MNAME) as the system resolver sees it. */
static char *
soa_primary (const char *zone, GError **error)
{
  ldns_resolver *sys = NULL;
  ldns_rdf *z = dname (zone);
  ldns_pkt *p = NULL;
  ldns_rr_list *soa = NULL;
  char *mname = NULL;

  if (ldns_resolver_new_frm_file (&sys, NULL) != LDNS_STATUS_OK || sys == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_NO_DNS_SERVERS,
                 "no dns-server is set and the system resolver (/etc/resolv.conf) is unusable");
    ldns_rdf_deep_free (z);
    return NULL;
  }
  if (ldns_resolver_send (&p, sys, z, LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, LDNS_RD) == LDNS_STATUS_OK
      && p != NULL)
    soa = ldns_pkt_rr_list_by_type (p, LDNS_RR_TYPE_SOA, LDNS_SECTION_ANSWER);
  if (soa != NULL && ldns_rr_list_rr_count (soa) > 0)
    mname = ldns_rdf2str (ldns_rr_rdf (ldns_rr_list_rr (soa, 0), 0));
  else
    g_set_error (error, VOLACT_ERROR, VOLACT_E_NO_DNS_SERVERS,
                 "no dns-server is set and the system resolver finds no SOA record for %s", zone);
  ldns_rr_list_deep_free (soa);
  ldns_pkt_free (p);
  ldns_rdf_deep_free (z);
  ldns_resolver_deep_free (sys);
  return mname;
}

/* A resolver that asks exactly SERVER (ADDR[:PORT] or NAME[:PORT]); sets OUT->server. */
static ldns_resolver *
server_resolver (const VolactDnsRecord *r, VolactDnsOutcome *out, GError **error)
{
  g_autofree char *primary = NULL;
  g_autoptr (GSocketConnectable) na = NULL;
  g_autoptr (GInetAddress) addr = NULL;
  g_autofree char *addr_text = NULL;
  const char *spec = r->server;
  struct timeval tv = { .tv_sec = r->timeout_s ? r->timeout_s : 3 };
  ldns_resolver *res;
  ldns_rdf *ns;
  guint16 port;

  if (spec == NULL || *spec == '\0') {
    primary = soa_primary (r->zone, error);
    if (primary == NULL)
      return NULL;
    spec = primary;
  }
  na = g_network_address_parse (spec, 53, error);
  if (na == NULL) {
    g_prefix_error (error, "DNS server \"%s\": ", spec);
    return NULL;
  }
  port = g_network_address_get_port (G_NETWORK_ADDRESS (na));
  addr = g_inet_address_new_from_string (g_network_address_get_hostname (G_NETWORK_ADDRESS (na)));
  if (addr == NULL) {
    g_autoptr (GResolver) sys = g_resolver_get_default ();
    g_autolist (GInetAddress) list = g_resolver_lookup_by_name (
        sys, g_network_address_get_hostname (G_NETWORK_ADDRESS (na)), NULL, NULL);
    if (list == NULL) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_NO_DNS_SERVERS, "the DNS server %s has no address",
                   spec);
      return NULL;
    }
    addr = g_object_ref (list->data);
  }
  addr_text = g_inet_address_to_string (addr);
  out->server = g_inet_address_get_family (addr) == G_SOCKET_FAMILY_IPV6
                    ? g_strdup_printf ("[%s]:%u", addr_text, port)
                    : g_strdup_printf ("%s:%u", addr_text, port);
  ns = ldns_rdf_new_frm_str (g_inet_address_get_family (addr) == G_SOCKET_FAMILY_IPV6
                                 ? LDNS_RDF_TYPE_AAAA
                                 : LDNS_RDF_TYPE_A,
                             addr_text);
  res = ldns_resolver_new ();
  ldns_resolver_push_nameserver (res, ns);
  ldns_rdf_deep_free (ns);
  ldns_resolver_set_port (res, port);
  ldns_resolver_set_timeout (res, tv);
  ldns_resolver_set_retry (res, 1);
  ldns_resolver_set_recursive (res, false);
  return res;
}

/* Why the server may have answered RCODE, for the administrator. */
static const char *
rcode_hint (int rcode)
{
  switch (rcode) {
    case LDNS_RCODE_REFUSED:
      return "the server's update policy does not let this key update the name";
    case LDNS_RCODE_NOTAUTH:
      return "the server is not the zone's primary, or it rejected the TSIG signature (wrong key "
             "name or secret, or clocks more than 5 minutes apart)";
    case LDNS_RCODE_NOTZONE:
      return "the name is not in the zone";
    case LDNS_RCODE_SERVFAIL:
      return "the server failed to process the update";
    default:
      return "the server did not apply the update";
  }
}

/* Sends PKT; on no answer or a bad RCODE sets ERROR (and OUT's rcode) about WHAT. */
static ldns_pkt *
exchange (ldns_resolver *res, ldns_pkt *pkt, const char *what, gboolean nxdomain_ok,
          VolactDnsOutcome *out, GError **error)
{
  ldns_pkt *answer = NULL;
  /* ldns_send verifies the answer's signature when PKT is signed; a server
   * that rejects our key answers unsigned, so a bogus signature still
   * carries the RCODE (NOTAUTH) worth reporting. */
  ldns_status st = ldns_send (&answer, res, pkt);
  gboolean bogus = st == LDNS_STATUS_CRYPTO_TSIG_BOGUS && answer != NULL;
  const ldns_lookup_table *name;

  g_free (out->rcode_name);
  if ((st != LDNS_STATUS_OK && !bogus) || answer == NULL) {
    gboolean timeout = st == LDNS_STATUS_NETWORK_ERR;
    out->rcode = -1;
    out->rcode_name = g_strdup (timeout ? "TIMEOUT" : "NOSERVER");
    g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "%s: %s from %s (%s)", what,
                 timeout ? "no answer" : "cannot ask", out->server, ldns_get_errorstr_by_id (st));
    ldns_pkt_free (answer);
    return NULL;
  }
  out->rcode = ldns_pkt_get_rcode (answer);
  name = ldns_lookup_by_id (ldns_rcodes, out->rcode);
  out->rcode_name = name ? g_strdup (name->name) : g_strdup_printf ("RCODE%d", out->rcode);
  if (bogus && out->rcode == LDNS_RCODE_NOERROR) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_SIGNATURE,
                 "%s: the answer from %s is not signed with our TSIG key; not trusting it", what,
                 out->server);
    ldns_pkt_free (answer);
    return NULL;
  }
  if (out->rcode == LDNS_RCODE_NOERROR || (nxdomain_ok && out->rcode == LDNS_RCODE_NXDOMAIN))
    return answer;
  g_set_error (error, VOLACT_ERROR, VOLACT_E_FAILED, "%s: %s answered %s (DNS rcode %d): %s", what,
               out->server, out->rcode_name, out->rcode, rcode_hint (out->rcode));
  ldns_pkt_free (answer);
  return NULL;
}

/* Deletions (class NONE, RFC 2136 2.5.4) of the records at OWNER in ANSWER whose target is TARGET.
 */
static guint
delete_own (ldns_pkt *answer, const ldns_rdf *owner, const ldns_rdf *target, ldns_rr_list *up)
{
  ldns_rr_list *rrs = ldns_pkt_answer (answer);
  guint n = 0;

  for (size_t i = 0; rrs != NULL && i < ldns_rr_list_rr_count (rrs); i++) {
    ldns_rr *rr = ldns_rr_list_rr (rrs, i);
    ldns_rr *del;
    if (ldns_rr_get_type (rr) != LDNS_RR_TYPE_SRV || ldns_rr_rd_count (rr) != 4
        || ldns_dname_compare (ldns_rr_owner (rr), owner) != 0
        || ldns_dname_compare (ldns_rr_rdf (rr, 3), target) != 0)
      continue;
    del = ldns_rr_clone (rr);
    ldns_rr_set_class (del, LDNS_RR_CLASS_NONE);
    ldns_rr_set_ttl (del, 0);
    ldns_rr_list_push_rr (up, del);
    n++;
  }
  return n;
}

/* The update (deletions in UP, plus R's record unless REMOVE), signed and sent. */
static gboolean
update (ldns_resolver *res, const VolactDnsRecord *r, const char *owner_text, gboolean remove,
        ldns_rr_list *up, VolactDnsOutcome *out, GError **error)
{
  g_autofree char *what = g_strdup_printf ("DNS update of %s", owner_text);
  ldns_pkt *pkt, *answer;
  ldns_status st;

  if (!remove) {
    g_autofree char *text
        = g_strdup_printf ("%s %u IN SRV %u %u %u %s%s", owner_text, r->ttl, r->priority, r->weight,
                           r->port, r->target, g_str_has_suffix (r->target, ".") ? "" : ".");
    ldns_rr *add = NULL;
    if (ldns_rr_new_frm_str (&add, text, 0, NULL, NULL) != LDNS_STATUS_OK) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "%s: not a valid SRV record", text);
      return FALSE;
    }
    ldns_rr_list_push_rr (up, add);
  }
  if (ldns_rr_list_rr_count (up) == 0)
    return TRUE; /* nothing of ours is there to remove */
  pkt = ldns_update_pkt_new (dname (r->zone), LDNS_RR_CLASS_IN, NULL, up, NULL);
  ldns_pkt_set_random_id (pkt);
  /* Signed with fudge 300 s (RFC 8945); ldns_send checks the answer with the same key. */
  ldns_resolver_set_tsig_keyname (res, r->key->name);
  ldns_resolver_set_tsig_algorithm (res, "hmac-sha256.");
  ldns_resolver_set_tsig_keydata (res, r->key->secret);
  st = ldns_update_pkt_tsig_add (pkt, res);
  if (st != LDNS_STATUS_OK) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CRYPTO, "%s: cannot sign with TSIG key %s: %s", what,
                 r->key->name, ldns_get_errorstr_by_id (st));
    ldns_pkt_free (pkt);
    return FALSE;
  }
  answer = exchange (res, pkt, what, FALSE, out, error);
  ldns_pkt_free (pkt);
  ldns_pkt_free (answer);
  return answer != NULL;
}

gboolean
volact_dns_publish (const VolactDnsRecord *r, gboolean remove, VolactDnsOutcome *out,
                    GError **error)
{
  g_autofree char *owner_text = g_strdup_printf ("%s.%s%s", VOLACT_DNS_SRV_LABEL, r->zone,
                                                 g_str_has_suffix (r->zone, ".") ? "" : ".");
  ldns_resolver *res;
  ldns_rdf *owner = NULL, *target = NULL;
  ldns_pkt *query = NULL, *current = NULL;
  ldns_rr_list *up = NULL;
  gboolean ok = FALSE;

  memset (out, 0, sizeof *out);
  out->rcode = -1;
  res = server_resolver (r, out, error);
  if (res == NULL) {
    out->rcode_name = g_strdup ("NOSERVER");
    return FALSE;
  }
  owner = dname (owner_text);
  target = dname (r->target);
  /* Read the RRset first: only this host's records (same target) are deleted. */
  query = ldns_pkt_query_new (ldns_rdf_clone (owner), LDNS_RR_TYPE_SRV, LDNS_RR_CLASS_IN, 0);
  ldns_pkt_set_random_id (query);
  current = exchange (res, query, "reading the current SRV records", TRUE, out, error);
  if (current != NULL) {
    up = ldns_rr_list_new ();
    out->removed = delete_own (current, owner, target, up);
    ok = update (res, r, owner_text, remove, up, out, error);
  }
  ldns_rr_list_deep_free (up);
  ldns_pkt_free (current);
  ldns_pkt_free (query);
  ldns_rdf_deep_free (owner);
  ldns_rdf_deep_free (target);
  ldns_resolver_deep_free (res);
  return ok;
}
