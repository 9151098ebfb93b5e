/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * volactd's configuration: a GKeyFile read into a typed, validated struct.
 * Defaults and ranges live in one table (volact-config.c); every error names
 * the file, the group and the key. See volactd(8).
 */
#ifndef VOLACT_CONFIG_H
#define VOLACT_CONFIG_H

#include <glib.h>

G_BEGIN_DECLS

#define VOLACT_CONFIG_GROUP "host"

typedef struct {
  char *file;            /* the file read, or NULL for the embedded defaults */
  char **listen;         /* addresses to listen on (IPv4 or IPv6 literals) */
  guint port;            /* TCP port for clients, 1..65535 */
  char *state_dir;       /* host identity, settings, client records */
  char *store;           /* "sqlite" or a postgresql:// URI (docs/store.md) */
  char *store_host_name; /* this host's name in a shared store ("" = the system host name) */
  guint store_timeout;   /* seconds a statement of the shared store may take */
  char **plugin_dirs;    /* searched in order */
  char *license_dir;     /* signed license data */
  char *trust;           /* PEM file: trusted authority certificates (NULL: not set) */
  gboolean demo_authority; /* trust may hold the DEMO ONLY reference authority */
  char *admin_socket;    /* Unix socket volactctl talks to */
  char *admin_group;     /* group allowed on the admin socket besides root ("" = root only) */
  guint admin_timeout;   /* seconds an admin connection may take per request, 1..3600 */
  char *authority_url;   /* HOST:PORT of the authority for online activation ("" = none) */
  guint max_connections; /* concurrent client connections */
  /* Per-source limits of the client port (docs/limits.md). */
  guint max_connections_per_source; /* concurrent connections per source (0: no cap) */
  guint rate_limit;        /* requests per second per source (0: no rate limit) */
  guint rate_burst;        /* requests a quiet source may send at once */
  guint new_cmid_limit;    /* new machine IDs per source per window (0: no limit) */
  guint new_cmid_window;   /* that window, seconds */
  guint limit_sources;     /* sources tracked at most */
  char **limit_exempt;     /* addresses never limited */
  guint event_cap_mb;    /* size cap of the event log, MiB */
  char **dns_zones;      /* zones to publish the SRV record in (empty: none); docs/dns.md */
  char *dns_server;      /* ADDR[:PORT] taking the updates ("" = each zone's SOA primary) */
  char *dns_tsig_key;    /* TSIG key file (NULL: not set) */
  guint dns_priority;    /* SRV priority, 0..65535 */
  guint dns_weight;      /* SRV weight, 0..65535 */
  guint dns_ttl;         /* SRV TTL, seconds */
  char *dns_target;      /* SRV target ("" = the host's FQDN) */
  guint web_port;        /* HTTPS listener port (0 = off); docs/web.md */
  char **web_listen;     /* its addresses (default loopback) */
  char *web_certificate; /* PEM certificate chain (NULL: not set) */
  char *web_key;         /* PEM private key (NULL: not set) */
  char *web_users;       /* users file */
  GKeyFile *keyfile;     /* the parsed file, for plugin groups */
} VolactConfig;

/** The embedded defaults, as if an empty file were read. */
VolactConfig *volact_config_new_default (void);
/** Reads and validates PATH; unknown groups or keys are errors (they are usually typos). */
VolactConfig *volact_config_load (const char *path, GError **error);
/** Like volact_config_load() on LEN bytes at DATA; NAME stands for the file in errors. */
VolactConfig *volact_config_load_data (const char *data, gsize len, const char *name,
                                       GError **error);
void volact_config_free (VolactConfig *cfg);
/** Sets KEY from TEXT as the file would, with the same validation. */
gboolean volact_config_set (VolactConfig *cfg, const char *key, const char *text, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolactConfig, volact_config_free)

G_END_DECLS

#endif
