/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Finding a host: the cached one, then DNS SRV discovery; see volact-client-discover.h. */
#include "config.h"

#include "volact-client-discover.h"

#include "volact-error.h"
#include "volact-srv.h"

#include <string.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

struct _VolactDiscovery {
  char *domain;
  char *dns_server;
  guint timeout_ms;
  char *cached_host; /* NULL when caching is off or nothing is cached */
  GRand *rand;
  GHashTable *passed; /* labels of hosts that answered but cannot serve now: not asked again */
};

/* "name:port", or "[v6]:port" for an address with colons. */
static char *
host_label (const char *name, guint16 port)
{
  return strchr (name, ':') ? g_strdup_printf ("[%s]:%u", name, port)
                            : g_strdup_printf ("%s:%u", name, port);
}

VolactDiscovery *
volact_discovery_new (const VolactClientDiscovery *options, GError **error)
{
  static const VolactClientDiscovery defaults = { 0 };
  const VolactClientDiscovery *o = options ? options : &defaults;
  g_autoptr (VolactDiscovery) d = g_new0 (VolactDiscovery, 1);

  d->domain = o->domain && *o->domain ? g_strdup (o->domain) : NULL;
  d->dns_server = o->dns_server && *o->dns_server ? g_strdup (o->dns_server) : NULL;
  d->timeout_ms
      = o->connect_timeout_ms ? o->connect_timeout_ms : VOLACT_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS;
  if (!(o->flags & VOLACT_CLIENT_DISCOVERY_NO_HOST_CACHE) && o->cached_host && *o->cached_host)
    d->cached_host = g_strdup (o->cached_host);
  d->rand = g_rand_new ();
  d->passed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* A malformed server is the caller's mistake: say so now, not at the first activation. */
  if (d->dns_server != NULL) {
    g_autoptr (VolactSrvResolver) r = volact_srv_resolver_new (d->dns_server, d->timeout_ms, error);
    if (r == NULL)
      return NULL;
  }
  return g_steal_pointer (&d);
}

void
volact_discovery_free (VolactDiscovery *d)
{
  if (d == NULL)
    return;
  g_free (d->domain);
  g_free (d->dns_server);
  g_free (d->cached_host);
  g_rand_free (d->rand);
  g_hash_table_unref (d->passed);
  g_free (d);
}

void
volact_discovery_pass (VolactDiscovery *d, const char *label)
{
  g_hash_table_add (d->passed, g_strdup (label));
}

/* TRUE when NAME:PORT answered that it cannot serve: the next host is tried instead. */
static gboolean
passed (VolactDiscovery *d, const char *name, guint16 port)
{
  g_autofree char *label = host_label (name, port);
  return g_hash_table_contains (d->passed, label);
}

/* Connects to ADDRESS:PORT, giving up after TIMEOUT_MS; then reads and writes time out after
 * IO_TIMEOUT seconds. */
static GSocketConnection *
connect_address (GInetAddress *address, guint16 port, guint timeout_ms, guint io_timeout,
                 GError **error)
{
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (address, port);
  g_autoptr (GSocket) s = NULL;
  g_autoptr (GError) local = NULL;

  s = g_socket_new (g_inet_address_get_family (address), G_SOCKET_TYPE_STREAM,
                    G_SOCKET_PROTOCOL_TCP, error);
  if (s == NULL)
    return NULL;
  /* Non-blocking connect and a timed wait: a host that drops packets costs TIMEOUT_MS, not the
   * kernel's minutes. */
  g_socket_set_blocking (s, FALSE);
  if (!g_socket_connect (s, sa, NULL, &local)) {
    if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_PENDING)) {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
    g_clear_error (&local);
    if (!g_socket_condition_timed_wait (s, G_IO_OUT, (gint64) timeout_ms * 1000, NULL, error)
        || !g_socket_check_connect_result (s, error))
      return NULL;
  }
  g_socket_set_blocking (s, TRUE);
  g_socket_set_timeout (s, io_timeout);
  g_socket_set_option (s, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  return g_socket_connection_factory_create_connection (s);
}

/* Tries each address of NAME:PORT; notes failures in TRIED. */
static GSocketConnection *
connect_host (VolactDiscovery *d, VolactSrvResolver *r, const char *name, guint16 port,
              guint io_timeout, GString *tried)
{
  g_autofree char *label = host_label (name, port);
  g_autoptr (GError) local = NULL;
  GList *addresses = volact_srv_resolve (r, name, &local);

  if (addresses == NULL) {
    g_string_append_printf (tried, "; %s", local->message);
    return NULL;
  }
  for (GList *a = addresses; a != NULL; a = a->next) {
    GSocketConnection *c;
    g_clear_error (&local);
    c = connect_address (a->data, port, d->timeout_ms, io_timeout, &local);
    if (c != NULL) {
      g_list_free_full (addresses, g_object_unref);
      return c;
    }
    {
      g_autofree char *addr = g_inet_address_to_string (a->data);
      g_string_append_printf (tried, "; %s (%s): %s", label, addr, local->message);
    }
  }
  g_list_free_full (addresses, g_object_unref);
  return NULL;
}

/* Parses "name:port" / "[v6]:port" as stored by the caller. */
static gboolean
parse_label (const char *label, char **name, guint16 *port)
{
  g_autoptr (GSocketConnectable) addr = g_network_address_parse (label, 0, NULL);

  if (addr == NULL || g_network_address_get_port (G_NETWORK_ADDRESS (addr)) == 0)
    return FALSE;
  *name = g_strdup (g_network_address_get_hostname (G_NETWORK_ADDRESS (addr)));
  *port = g_network_address_get_port (G_NETWORK_ADDRESS (addr));
  return TRUE;
}

/* The SRV answers in the order to try them; NULL with the lookup's error. */
static VolactSrvTarget *
lookup_ordered (VolactDiscovery *d, VolactSrvResolver *r, char **name, guint *n, GError **error)
{
  VolactSrvTarget *targets = volact_srv_lookup (r, d->domain, name, n, error);

  if (targets != NULL)
    *n = volact_srv_order (targets, *n, d->rand);
  return targets;
}

GSocketConnection *
volact_discovery_connect (VolactDiscovery *d, guint io_timeout, char **label, gboolean *from_cache,
                          GError **error)
{
  g_autoptr (VolactSrvResolver) r = NULL;
  g_autoptr (GString) tried = g_string_new (NULL);
  g_autoptr (GError) local = NULL;
  g_autofree char *srv_name = NULL;
  g_autofree char *cached_name = NULL;
  guint16 cached_port = 0;
  VolactSrvTarget *targets;
  GSocketConnection *c = NULL;
  guint n = 0;

  r = volact_srv_resolver_new (d->dns_server, d->timeout_ms, error);
  if (r == NULL)
    return NULL;
  /* The cached host first: no lookup at all while it answers. */
  if (d->cached_host != NULL) {
    if (!parse_label (d->cached_host, &cached_name, &cached_port))
      g_string_append_printf (tried, "; cached host \"%s\" is not NAME:PORT", d->cached_host);
    else if (passed (d, cached_name, cached_port))
      ; /* it answered that it cannot serve: discovery finds another */
    else if ((c = connect_host (d, r, cached_name, cached_port, io_timeout, tried)) != NULL) {
      *label = host_label (cached_name, cached_port);
      *from_cache = TRUE;
      return c;
    }
  }
  targets = lookup_ordered (d, r, &srv_name, &n, &local);
  if (targets == NULL) {
    g_set_error (error, VOLACT_ERROR, local->code, "%s%s", local->message, tried->str);
    return NULL;
  }
  for (guint i = 0; i < n && c == NULL; i++) {
    /* The cached host just failed: do not spend another timeout on it. */
    if (cached_name != NULL && cached_port == targets[i].port
        && g_ascii_strcasecmp (cached_name, targets[i].target) == 0)
      continue;
    if (passed (d, targets[i].target, targets[i].port))
      continue;
    c = connect_host (d, r, targets[i].target, targets[i].port, io_timeout, tried);
    if (c != NULL) {
      *label = host_label (targets[i].target, targets[i].port);
      *from_cache = FALSE;
    }
  }
  volact_srv_targets_clear (targets, n);
  g_free (targets);
  if (c == NULL)
    g_set_error (error, VOLACT_ERROR, VOLACT_E_HOST_UNREACHABLE,
                 "no volact host of %s accepted a connection%s", srv_name,
                 n == 0 ? ": the service is not available there (no targets)" : tried->str);
  return c;
}

/* ---- volact_client_discover --------------------------------------------------------------- */

VolactClientHostList *
volact_client_discover (const VolactClientDiscovery *options, GError **error)
{
  g_autoptr (VolactDiscovery) d = volact_discovery_new (options, error);
  g_autoptr (VolactSrvResolver) r = NULL;
  VolactClientHostList *list;
  VolactSrvTarget *targets;
  char *name = NULL;
  guint n = 0;

  if (d == NULL)
    return NULL;
  r = volact_srv_resolver_new (d->dns_server, d->timeout_ms, error);
  if (r == NULL)
    return NULL;
  targets = lookup_ordered (d, r, &name, &n, error);
  if (targets == NULL)
    return NULL;
  list = g_new0 (VolactClientHostList, 1);
  list->name = name;
  list->n_hosts = n;
  list->hosts = g_new0 (VolactClientHost, n);
  for (guint i = 0; i < n; i++) {
    VolactClientHost *h = &list->hosts[i];
    g_autoptr (GError) local = NULL;
    g_autoptr (GPtrArray) texts = g_ptr_array_new ();
    GList *addresses = volact_srv_resolve (r, targets[i].target, &local);

    h->target = g_steal_pointer (&targets[i].target);
    h->port = targets[i].port;
    h->priority = targets[i].priority;
    h->weight = targets[i].weight;
    for (GList *a = addresses; a != NULL; a = a->next)
      g_ptr_array_add (texts, g_inet_address_to_string (a->data));
    g_ptr_array_add (texts, NULL);
    h->addresses = (char **) g_ptr_array_steal (texts, NULL);
    h->error = local ? g_strdup (local->message) : NULL;
    g_list_free_full (addresses, g_object_unref);
  }
  g_free (targets);
  return list;
}

void
volact_client_host_list_free (VolactClientHostList *list)
{
  if (list == NULL)
    return;
  for (guint i = 0; i < list->n_hosts; i++) {
    g_free (list->hosts[i].target);
    g_strfreev (list->hosts[i].addresses);
    g_free (list->hosts[i].error);
  }
  g_free (list->hosts);
  g_free (list->name);
  g_free (list);
}
