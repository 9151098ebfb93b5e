/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-config.h"
#include "volact-pg.h"

#include "volact-error.h"

#include <gio/gio.h>
#include <stddef.h>
#include <string.h>

typedef enum {
  KEY_STRING,    /* free text, may be empty */
  KEY_PATH,      /* absolute path */
  KEY_PATH_LIST, /* ':'-separated absolute paths */
  KEY_ADDRESSES, /* ';' or ','-separated IP literals; at least one unless max is 1 */
  KEY_UINT,      /* min..max */
  KEY_ENDPOINT,  /* HOST:PORT or empty */
  KEY_BOOL,      /* true/false (or 1/0), as GKeyFile writes them */
  KEY_DOMAIN,    /* one DNS name, or empty */
  KEY_DOMAINS,   /* ';' or ','-separated DNS names, possibly none */
  KEY_STORE,     /* "sqlite" or a postgresql:// URI (docs/store.md) */
} KeyType;

typedef struct {
  const char *key;
  KeyType type;
  gsize offset;
  const char *def; /* NULL: no default (trust must be set) */
  guint min, max;
  const char *help;
} KeySpec;

#define OFF(field) offsetof (VolactConfig, field)

/* The one table of keys, defaults and ranges. */
static const KeySpec keys[] = {
  { "listen", KEY_ADDRESSES, OFF (listen), "0.0.0.0;::", 0, 0,
    "addresses to listen on for clients" },
  { "port", KEY_UINT, OFF (port), "1688", 1, 65535, "TCP port for clients" },
  { "state-dir", KEY_PATH, OFF (state_dir), VOLACT_LOCALSTATEDIR "/lib/volact", 0, 0,
    "host identity, settings and client records" },
  { "plugin-dir", KEY_PATH_LIST, OFF (plugin_dirs), VOLACT_PLUGIN_DIR, 0, 0,
    "plugin folders, ':'-separated, searched in order" },
  { "license-dir", KEY_PATH, OFF (license_dir), VOLACT_LICENSE_DIR, 0, 0,
    "signed license data (*.xrm here and one folder below)" },
  { "trust", KEY_PATH, OFF (trust), NULL, 0, 0,
    "PEM file of trusted authority certificates (required)" },
  { "demo-authority", KEY_BOOL, OFF (demo_authority), "false", 0, 0,
    "allow trust to hold the DEMO ONLY reference authority" },
  { "admin-socket", KEY_PATH, OFF (admin_socket), VOLACT_RUNSTATEDIR "/volact/admin.sock", 0, 0,
    "Unix socket for volactctl" },
  { "admin-group", KEY_STRING, OFF (admin_group), "", 0, 0,
    "group allowed to administer besides root (empty: root only)" },
  { "admin-timeout", KEY_UINT, OFF (admin_timeout), "10", 1, 3600,
    "seconds an administration connection may take to send each request" },
  { "authority-url", KEY_ENDPOINT, OFF (authority_url), "", 0, 0,
    "HOST:PORT of the authority for online activation" },
  { "max-connections", KEY_UINT, OFF (max_connections), "4096", 1, 1000000,
    "concurrent client connections" },
  /* Per-source limits of the client port (docs/limits.md). A source is an IPv4 address or
   * an IPv6 /64. */
  { "max-connections-per-source", KEY_UINT, OFF (max_connections_per_source), "64", 0, 1000000,
    "concurrent client connections per source (0: no cap)" },
  { "rate-limit", KEY_UINT, OFF (rate_limit), "10", 0, 1000000,
    "client requests per second per source, sustained (0: no rate limit)" },
  { "rate-burst", KEY_UINT, OFF (rate_burst), "20", 1, 1000000,
    "client requests a quiet source may send at once" },
  { "new-cmid-limit", KEY_UINT, OFF (new_cmid_limit), "1000", 0, 100000000,
    "new machine IDs per source per new-cmid-window (0: no limit)" },
  { "new-cmid-window", KEY_UINT, OFF (new_cmid_window), "3600", 60, 604800,
    "window of new-cmid-limit, seconds" },
  { "limit-sources", KEY_UINT, OFF (limit_sources), "16384", 64, 10000000,
    "sources the limits track at most (least recently seen forgotten first)" },
  { "limit-exempt", KEY_ADDRESSES, OFF (limit_exempt), "127.0.0.1;::1", 0, 1,
    "addresses never limited (an IPv6 address exempts its /64)" },
  /* Where client records are kept: this host alone, or a pool of hosts (docs/store.md). */
  { "store", KEY_STORE, OFF (store), "sqlite", 0, 0,
    "sqlite (this host counts alone) or a postgresql:// URI the hosts of a pool share" },
  { "store-host-name", KEY_STRING, OFF (store_host_name), "", 0, 0,
    "this host's name among the hosts of a shared store (empty: the system host name)" },
  { "store-timeout", KEY_UINT, OFF (store_timeout), "10", 1, 300,
    "seconds a statement of the shared store may take; a database silent for 2 s longer is "
    "given up as unreachable" },
  { "event-log-size", KEY_UINT, OFF (event_cap_mb), "64", 1, 65536,
    "size cap of the event log in MiB; the oldest events go first" },
  /* The HTTPS listener: dashboard and /metrics (docs/web.md). Off unless web-port is set. */
  { "web-port", KEY_UINT, OFF (web_port), "0", 0, 65535,
    "HTTPS port of the dashboard and /metrics (0: off)" },
  { "web-listen", KEY_ADDRESSES, OFF (web_listen), "127.0.0.1", 0, 0,
    "addresses the HTTPS listener binds (default: loopback only)" },
  { "web-certificate", KEY_PATH, OFF (web_certificate), NULL, 0, 0,
    "PEM certificate (chain) of the HTTPS listener" },
  { "web-key", KEY_PATH, OFF (web_key), NULL, 0, 0,
    "PEM private key of the HTTPS listener (mode 0600)" },
  { "web-users", KEY_PATH, OFF (web_users), VOLACT_SYSCONFDIR "/volact/users", 0, 0,
    "users file (volactctl user add); no user, no sign-in" },
  /* DNS SRV publishing (docs/dns.md): only with dns-zones set and sdns on. */
  { "dns-zones", KEY_DOMAINS, OFF (dns_zones), "", 0, 0,
    "zones to publish _volact._tcp SRV records in (empty: none)" },
  { "dns-server", KEY_STRING, OFF (dns_server), "", 0, 0,
    "ADDR[:PORT] of the server taking the updates (empty: each zone's SOA primary)" },
  { "dns-tsig-key", KEY_PATH, OFF (dns_tsig_key), NULL, 0, 0,
    "TSIG key file as tsig-keygen writes it (mode 0600)" },
  { "dns-priority", KEY_UINT, OFF (dns_priority), "0", 0, 65535, "SRV priority (lower first)" },
  { "dns-weight", KEY_UINT, OFF (dns_weight), "0", 0, 65535,
    "SRV weight within a priority" },
  { "dns-ttl", KEY_UINT, OFF (dns_ttl), "3600", 60, 604800,
    "SRV record TTL in seconds" },
  { "dns-target", KEY_DOMAIN, OFF (dns_target), "", 0, 0,
    "SRV target host name (empty: this host's FQDN)" },
};

/* A DNS name as RFC 1035 allows it in a zone: labels of 1..63 bytes of
 * letters, digits, '-' and '_' (the SRV owner names), 253 bytes in all. */
static gboolean
valid_dns_name (const char *name)
{
  gsize len = strlen (name);
  gsize label = 0;

  if (len > 0 && name[len - 1] == '.')
    len--;
  if (len == 0 || len > 253)
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    if (name[i] == '.') {
      if (label == 0)
        return FALSE;
      label = 0;
    } else if (g_ascii_isalnum (name[i]) || name[i] == '-' || name[i] == '_') {
      if (++label > 63)
        return FALSE;
    } else {
      return FALSE;
    }
  }
  return label > 0;
}

static void
free_field (VolactConfig *cfg, const KeySpec *k)
{
  gpointer *slot = (gpointer *) ((char *) cfg + k->offset);
  switch (k->type) {
    case KEY_PATH_LIST:
    case KEY_ADDRESSES:
    case KEY_DOMAINS:
      g_strfreev (*slot);
      *slot = NULL;
      break;
    case KEY_UINT:
    case KEY_BOOL:
      break;
    default:
      g_free (*slot);
      *slot = NULL;
  }
}

void
volact_config_free (VolactConfig *cfg)
{
  if (cfg == NULL)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    free_field (cfg, &keys[i]);
  g_free (cfg->file);
  g_clear_pointer (&cfg->keyfile, g_key_file_unref);
  g_free (cfg);
}

static const KeySpec *
find_key (const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (g_str_equal (keys[i].key, key))
      return &keys[i];
  return NULL;
}

static gboolean
parse_value (VolactConfig *cfg, const KeySpec *k, const char *text, GError **error)
{
  g_autofree char *value = g_strstrip (g_strdup (text));
  gpointer *slot = (gpointer *) ((char *) cfg + k->offset);

  switch (k->type) {
    case KEY_UINT: {
      guint64 n;
      if (!g_ascii_string_to_unsigned (value, 10, k->min, k->max, &n, NULL)) {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "\"%s\" is not a whole number in %u..%u",
                     value, k->min, k->max);
        return FALSE;
      }
      *(guint *) slot = (guint) n;
      return TRUE;
    }
    case KEY_BOOL:
      if (g_ascii_strcasecmp (value, "true") == 0 || g_str_equal (value, "1")) {
        *(gboolean *) slot = TRUE;
      } else if (g_ascii_strcasecmp (value, "false") == 0 || g_str_equal (value, "0")) {
        *(gboolean *) slot = FALSE;
      } else {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "\"%s\" is not true or false", value);
        return FALSE;
      }
      return TRUE;
    case KEY_PATH:
      if (!g_path_is_absolute (value)) {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "\"%s\" is not an absolute path", value);
        return FALSE;
      }
      break;
    case KEY_PATH_LIST: {
      g_auto (GStrv) parts = g_strsplit (value, ":", -1);
      if (parts[0] == NULL) {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "at least one folder is required");
        return FALSE;
      }
      for (char **p = parts; *p; p++)
        if (!g_path_is_absolute (*p)) {
          g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "\"%s\" is not an absolute path", *p);
          return FALSE;
        }
      free_field (cfg, k);
      *slot = g_steal_pointer (&parts);
      return TRUE;
    }
    case KEY_ADDRESSES: {
      g_auto (GStrv) parts = g_strsplit_set (value, ";,", -1);
      g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (g_free);
      for (char **p = parts; *p; p++) {
        g_autoptr (GInetAddress) addr = NULL;
        g_strstrip (*p);
        if (**p == '\0')
          continue;
        addr = g_inet_address_new_from_string (*p);
        if (addr == NULL) {
          g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                       "\"%s\" is not an IPv4 or IPv6 address", *p);
          return FALSE;
        }
        g_ptr_array_add (list, g_strdup (*p));
      }
      if (list->len == 0 && k->max != 1) {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "at least one address is required");
        return FALSE;
      }
      g_ptr_array_add (list, NULL);
      free_field (cfg, k);
      *slot = g_ptr_array_free (g_steal_pointer (&list), FALSE);
      return TRUE;
    }
    case KEY_DOMAINS: {
      g_auto (GStrv) parts = g_strsplit_set (value, ";,", -1);
      g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (g_free);
      for (char **p = parts; *p; p++) {
        g_strstrip (*p);
        if (**p == '\0')
          continue;
        if (!valid_dns_name (*p)) {
          g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "\"%s\" is not a DNS name", *p);
          return FALSE;
        }
        g_ptr_array_add (list, g_strdup (*p));
      }
      g_ptr_array_add (list, NULL);
      free_field (cfg, k);
      *slot = g_ptr_array_free (g_steal_pointer (&list), FALSE);
      return TRUE;
    }
    case KEY_DOMAIN:
      if (*value != '\0' && !valid_dns_name (value)) {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "\"%s\" is not a DNS name", value);
        return FALSE;
      }
      break;
    case KEY_ENDPOINT:
      if (*value != '\0') {
        g_autoptr (GSocketConnectable) c = g_network_address_parse (value, 0, NULL);
        if (c == NULL || strrchr (value, ':') == NULL) {
          g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "\"%s\" is not HOST:PORT", value);
          return FALSE;
        }
      }
      break;
    case KEY_STORE:
      if (!g_str_equal (value, "sqlite") && !volact_pg_uri_check (value, error))
        return FALSE;
      break;
    case KEY_STRING:
      if (strlen (value) > 256) {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "value is longer than 256 bytes");
        return FALSE;
      }
      break;
  }
  free_field (cfg, k);
  *slot = g_steal_pointer (&value);
  return TRUE;
}

gboolean
volact_config_set (VolactConfig *cfg, const char *key, const char *text, GError **error)
{
  const KeySpec *k = find_key (key);
  if (k == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "unknown key \"%s\"", key);
    return FALSE;
  }
  if (!parse_value (cfg, k, text, error)) {
    g_prefix_error (error, "key \"%s\": ", key);
    return FALSE;
  }
  return TRUE;
}

VolactConfig *
volact_config_new_default (void)
{
  VolactConfig *cfg = g_new0 (VolactConfig, 1);
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (keys[i].def != NULL && !parse_value (cfg, &keys[i], keys[i].def, NULL))
      g_error ("built-in default of %s is invalid", keys[i].key);
  cfg->keyfile = g_key_file_new ();
  return cfg;
}

/* Validates what CFG->keyfile holds, read from PATH; takes CFG. */
static VolactConfig *
config_check (VolactConfig *cfg_in, const char *path, GError **error)
{
  g_autoptr (VolactConfig) cfg = cfg_in;
  g_auto (GStrv) groups = NULL;

  cfg->file = g_strdup (path);
  groups = g_key_file_get_groups (cfg->keyfile, NULL);
  for (char **g = groups; *g; g++) {
    g_auto (GStrv) names = NULL;
    if (g_str_has_prefix (*g, "plugin:"))
      continue; /* checked by the plugin's check_config */
    if (!g_str_equal (*g, VOLACT_CONFIG_GROUP)) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                   "%s: unknown group [%s] (expected [%s] or [plugin:NAME])", path, *g,
                   VOLACT_CONFIG_GROUP);
      return NULL;
    }
    names = g_key_file_get_keys (cfg->keyfile, *g, NULL, NULL);
    for (char **n = names; n && *n; n++) {
      g_autofree char *value = g_key_file_get_value (cfg->keyfile, *g, *n, NULL);
      if (!volact_config_set (cfg, *n, value ? value : "", error)) {
        g_prefix_error (error, "%s: [%s] ", path, *g);
        return NULL;
      }
    }
  }
  return g_steal_pointer (&cfg);
}

VolactConfig *
volact_config_load (const char *path, GError **error)
{
  g_autoptr (VolactConfig) cfg = volact_config_new_default ();
  g_autoptr (GError) local = NULL;

  if (!g_key_file_load_from_file (cfg->keyfile, path, G_KEY_FILE_NONE, &local)) {
    g_set_error (error, VOLACT_ERROR,
                 local->domain == G_KEY_FILE_ERROR ? VOLACT_E_CONFIG : VOLACT_E_IO, "%s: %s", path,
                 local->message);
    return NULL;
  }
  return config_check (g_steal_pointer (&cfg), path, error);
}

VolactConfig *
volact_config_load_data (const char *data, gsize len, const char *name, GError **error)
{
  g_autoptr (VolactConfig) cfg = volact_config_new_default ();
  g_autoptr (GError) local = NULL;

  if (!g_key_file_load_from_data (cfg->keyfile, data, len, G_KEY_FILE_NONE, &local)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "%s: %s", name, local->message);
    return NULL;
  }
  return config_check (g_steal_pointer (&cfg), name, error);
}
