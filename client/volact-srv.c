/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DNS SRV discovery through ldns, and the RFC 2782 ordering; see volact-srv.h. */
#include "config.h"

#include "volact-srv.h"

#include "volact-error.h"

#include <string.h>
#include <sys/time.h>

#include <gio/gio.h>
#include <ldns/ldns.h>

#define DNS_PORT 53

/* ---- RFC 2782 ordering (pure) ------------------------------------------------------------- */

/* Sorting key: priority, and zero weights first within a priority (the RFC gives them their
 * small chance there). */
static gboolean
goes_before (const VolactSrvTarget *x, const VolactSrvTarget *y)
{
  if (x->priority != y->priority)
    return x->priority < y->priority;
  return x->weight == 0 && y->weight != 0;
}

/* Orders GROUP (one priority, zero weights first) by weighted random choice. */
static void
order_group (VolactSrvTarget *group, guint n, GRand *rand)
{
  for (guint done = 0; done + 1 < n; done++) {
    guint64 total = 0, running = 0, pick;
    gboolean has_zero = FALSE;
    guint chosen = done;

    for (guint i = done; i < n; i++) {
      total += group[i].weight;
      has_zero |= group[i].weight == 0;
    }
    /*
     * 0..total inclusive, as the RFC says; but 0 only when a zero-weight entry
     * is first to take it, otherwise the first non-zero entry would get one
     * chance more than its weight.
     */
    if (total == 0)
      pick = 0;
    else
      pick = (guint64) g_rand_int_range (rand, has_zero ? 0 : 1, (gint32) total + 1);
    for (guint i = done; i < n; i++) {
      running += group[i].weight;
      if (running >= pick) {
        chosen = i;
        break;
      }
    }
    /* Take it out: the ones not yet chosen keep their relative order (zero weights first). */
    if (chosen != done) {
      VolactSrvTarget t = group[chosen];
      memmove (group + done + 1, group + done, (chosen - done) * sizeof *group);
      group[done] = t;
    }
  }
}

guint
volact_srv_order (VolactSrvTarget *targets, guint n, GRand *rand)
{
  guint kept = 0;

  /* Weights are 16 bits: with at most VOLACT_SRV_TARGETS_MAX answers the sum fits a gint32. */
  g_return_val_if_fail (n <= VOLACT_SRV_TARGETS_MAX, 0);

  /* RFC 2782: a "." target says the service is decidedly not available there. */
  for (guint i = 0; i < n; i++) {
    if (targets[i].target == NULL || g_str_equal (targets[i].target, ".")) {
      g_free (targets[i].target);
      continue;
    }
    targets[kept++] = targets[i];
  }
  /* Insertion sort (a few answers): stable, so equal keys keep the answer's order. */
  for (guint i = 1; i < kept; i++) {
    VolactSrvTarget t = targets[i];
    guint j = i;
    while (j > 0 && goes_before (&t, &targets[j - 1])) {
      targets[j] = targets[j - 1];
      j--;
    }
    targets[j] = t;
  }
  for (guint start = 0; start < kept;) {
    guint end = start + 1;
    while (end < kept && targets[end].priority == targets[start].priority)
      end++;
    order_group (targets + start, end - start, rand);
    start = end;
  }
  return kept;
}

void
volact_srv_targets_clear (VolactSrvTarget *targets, guint n)
{
  for (guint i = 0; targets != NULL && i < n; i++)
    g_clear_pointer (&targets[i].target, g_free);
}

/* ---- The resolver ------------------------------------------------------------------------- */

struct _VolactSrvResolver {
  ldns_resolver *ldns;
  gboolean explicit_server;
  GPtrArray *search; /* domains without the trailing dot */
};

/* "a.b.c." or "a.b.c" to "a.b.c" (a new string); "." stays ".". */
static char *
dname_text (const ldns_rdf *rdf)
{
  char *s = ldns_rdf2str (rdf);
  char *out;
  gsize len;

  if (s == NULL)
    return NULL;
  len = strlen (s);
  if (len > 1 && s[len - 1] == '.')
    s[len - 1] = '\0';
  out = g_strdup (s);
  free (s);
  return out;
}

static gboolean
add_server (ldns_resolver *r, const char *dns_server, GError **error)
{
  g_autoptr (GSocketConnectable) addr = NULL;
  g_autoptr (GInetAddress) inet = NULL;
  ldns_rdf *rdf;
  const char *host;
  ldns_status status;

  addr = g_network_address_parse (dns_server, DNS_PORT, NULL);
  host = addr ? g_network_address_get_hostname (G_NETWORK_ADDRESS (addr)) : NULL;
  inet = host ? g_inet_address_new_from_string (host) : NULL;
  if (inet == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "DNS server \"%s\" is not ADDR[:PORT] with an IP address", dns_server);
    return FALSE;
  }
  rdf = ldns_rdf_new_frm_str (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6
                                  ? LDNS_RDF_TYPE_AAAA
                                  : LDNS_RDF_TYPE_A,
                              host);
  while (ldns_resolver_nameserver_count (r) > 0)
    ldns_rdf_deep_free (ldns_resolver_pop_nameserver (r));
  status = rdf ? ldns_resolver_push_nameserver (r, rdf) : LDNS_STATUS_MEM_ERR;
  ldns_rdf_deep_free (rdf);
  if (status != LDNS_STATUS_OK) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "DNS server \"%s\": %s", dns_server,
                 ldns_get_errorstr_by_id (status));
    return FALSE;
  }
  ldns_resolver_set_port (r, g_network_address_get_port (G_NETWORK_ADDRESS (addr)));
  return TRUE;
}

VolactSrvResolver *
volact_srv_resolver_new (const char *dns_server, guint timeout_ms, GError **error)
{
  g_autoptr (VolactSrvResolver) res = g_new0 (VolactSrvResolver, 1);
  struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
  ldns_status status;

  res->search = g_ptr_array_new_with_free_func (g_free);
  /* The system's configuration gives the search list even when the server is given. */
  status = ldns_resolver_new_frm_file (&res->ldns, NULL);
  if (status != LDNS_STATUS_OK) {
    if (dns_server == NULL) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_NO_DNS_SERVERS,
                   "cannot read the system's resolver configuration: %s",
                   ldns_get_errorstr_by_id (status));
      return NULL;
    }
    res->ldns = ldns_resolver_new ();
  } else {
    ldns_rdf **list = ldns_resolver_searchlist (res->ldns);
    for (size_t i = 0; i < ldns_resolver_searchlist_count (res->ldns); i++)
      g_ptr_array_add (res->search, dname_text (list[i]));
    if (res->search->len == 0 && ldns_resolver_domain (res->ldns) != NULL)
      g_ptr_array_add (res->search, dname_text (ldns_resolver_domain (res->ldns)));
  }
  /* LOCALDOMAIN overrides the search list, as it does for the C library's resolver. */
  if (g_getenv ("LOCALDOMAIN") != NULL) {
    g_auto (GStrv) domains = g_strsplit_set (g_getenv ("LOCALDOMAIN"), " \t", -1);
    g_ptr_array_set_size (res->search, 0);
    for (guint i = 0; domains[i] != NULL; i++)
      if (*domains[i] != '\0')
        g_ptr_array_add (res->search, g_strdup (domains[i]));
  }
  if (dns_server != NULL) {
    if (!add_server (res->ldns, dns_server, error))
      return NULL;
    res->explicit_server = TRUE;
  }
  if (ldns_resolver_nameserver_count (res->ldns) == 0) {
    g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_NO_DNS_SERVERS,
                         "no DNS server: the system's resolver configuration names none "
                         "(give one with --dns-server)");
    return NULL;
  }
  ldns_resolver_set_timeout (res->ldns, tv);
  ldns_resolver_set_retry (res->ldns, 1);
  ldns_resolver_set_dnssec (res->ldns, false);
  return g_steal_pointer (&res);
}

void
volact_srv_resolver_free (VolactSrvResolver *res)
{
  if (res == NULL)
    return;
  if (res->ldns != NULL)
    ldns_resolver_deep_free (res->ldns);
  g_ptr_array_unref (res->search);
  g_free (res);
}

gboolean
volact_srv_resolver_is_explicit (VolactSrvResolver *res)
{
  return res->explicit_server;
}

/* Asks for NAME's records of TYPE; NULL (no error: the caller words it) when there are none. */
static ldns_rr_list *
query (VolactSrvResolver *res, const char *name, ldns_rr_type type, char **why)
{
  g_autofree char *absolute
      = g_str_has_suffix (name, ".") ? g_strdup (name) : g_strconcat (name, ".", NULL);
  ldns_rdf *dname = ldns_dname_new_frm_str (absolute);
  ldns_pkt *pkt;
  ldns_rr_list *rrs = NULL;

  if (dname == NULL) {
    *why = g_strdup ("not a domain name");
    return NULL;
  }
  pkt = ldns_resolver_query (res->ldns, dname, type, LDNS_RR_CLASS_IN, LDNS_RD);
  ldns_rdf_deep_free (dname);
  if (pkt == NULL) {
    *why = g_strdup ("no answer from the DNS server");
    return NULL;
  }
  if (ldns_pkt_get_rcode (pkt) != LDNS_RCODE_NOERROR) {
    ldns_lookup_table *rcode = ldns_lookup_by_id (ldns_rcodes, (int) ldns_pkt_get_rcode (pkt));
    *why = g_strdup (rcode ? rcode->name : "error");
  } else {
    rrs = ldns_pkt_rr_list_by_type (pkt, type, LDNS_SECTION_ANSWER);
    if (rrs == NULL)
      *why = g_strdup ("no records");
  }
  ldns_pkt_free (pkt);
  return rrs;
}

VolactSrvTarget *
volact_srv_lookup (VolactSrvResolver *res, const char *domain, char **name, guint *n,
                   GError **error)
{
  g_autoptr (GString) tried = g_string_new (NULL);
  g_autoptr (GPtrArray) domains = g_ptr_array_new ();

  if (domain != NULL)
    g_ptr_array_add (domains, (gpointer) domain);
  else
    for (guint i = 0; i < res->search->len; i++)
      g_ptr_array_add (domains, res->search->pdata[i]);
  if (domains->len == 0) {
    g_set_error_literal (error, VOLACT_ERROR, VOLACT_E_NO_DNS_SERVERS,
                         "no domain to look for volact hosts in: the system's resolver "
                         "configuration has no search list (give one with --domain)");
    return NULL;
  }
  for (guint d = 0; d < domains->len; d++) {
    g_autofree char *srv_name
        = g_strdup_printf ("%s.%s", VOLACT_SRV_SERVICE, (const char *) domains->pdata[d]);
    g_autofree char *why = NULL;
    ldns_rr_list *rrs = query (res, srv_name, LDNS_RR_TYPE_SRV, &why);
    VolactSrvTarget *out;
    size_t count;

    if (rrs == NULL) {
      g_string_append_printf (tried, "%s%s (%s)", tried->len ? ", " : "", srv_name, why);
      continue;
    }
    count = MIN (ldns_rr_list_rr_count (rrs), VOLACT_SRV_TARGETS_MAX);
    out = g_new0 (VolactSrvTarget, count);
    for (size_t i = 0; i < count; i++) {
      ldns_rr *rr = ldns_rr_list_rr (rrs, i);
      out[i].priority = ldns_rdf2native_int16 (ldns_rr_rdf (rr, 0));
      out[i].weight = ldns_rdf2native_int16 (ldns_rr_rdf (rr, 1));
      out[i].port = ldns_rdf2native_int16 (ldns_rr_rdf (rr, 2));
      out[i].target = dname_text (ldns_rr_rdf (rr, 3));
    }
    ldns_rr_list_deep_free (rrs);
    *name = g_steal_pointer (&srv_name);
    *n = (guint) count;
    return out;
  }
  g_set_error (error, VOLACT_ERROR, VOLACT_E_HOST_UNREACHABLE,
               "no volact host published in DNS: %s", tried->str);
  return NULL;
}

GList *
volact_srv_resolve (VolactSrvResolver *res, const char *name, GError **error)
{
  GInetAddress *literal = g_inet_address_new_from_string (name);
  g_autofree char *why = NULL;
  ldns_rr_list *rrs;
  GList *out = NULL;

  if (literal != NULL)
    return g_list_append (NULL, literal);
  if (!res->explicit_server) {
    g_autoptr (GError) local = NULL;
    g_autoptr (GResolver) system = g_resolver_get_default ();
    out = g_resolver_lookup_by_name (system, name, NULL, &local);
    if (out == NULL)
      g_set_error (error, VOLACT_ERROR, VOLACT_E_HOST_UNREACHABLE, "cannot resolve %s: %s", name,
                   local->message);
    return out;
  }
  /* The server that was given holds the targets' addresses too (split horizon). */
  for (guint t = 0; t < 2; t++) {
    rrs = query (res, name, t == 0 ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A, &why);
    for (size_t i = 0; rrs != NULL && i < ldns_rr_list_rr_count (rrs); i++) {
      char *text = ldns_rdf2str (ldns_rr_rdf (ldns_rr_list_rr (rrs, i), 0));
      GInetAddress *a = text ? g_inet_address_new_from_string (text) : NULL;
      if (a != NULL)
        out = g_list_append (out, a);
      free (text);
    }
    if (rrs != NULL)
      ldns_rr_list_deep_free (rrs);
    g_clear_pointer (&why, g_free);
  }
  if (out == NULL)
    g_set_error (error, VOLACT_ERROR, VOLACT_E_HOST_UNREACHABLE,
                 "cannot resolve %s: no A or AAAA record", name);
  return out;
}
