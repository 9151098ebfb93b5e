/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The client configuration file: read once, validated whole, errors name the key. */
#include "config.h"

#include "volact-client-config.h"
#include "volact-client-state.h"

#include "volact-error.h"
#include "volact-protocol.h"

#include <string.h>

/* A client configuration is a few lines; anything larger is not one. */
#define CONFIG_MAX_BYTES (64 * 1024)

static const char *const known_keys[]
    = { "editions", "trust", "host", "domain", "dns-server", "state-dir", NULL };

static gboolean
config_fail (GError **error, const char *path, const char *key, const char *why)
{
  g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "%s: [%s] %s: %s", path,
               VOLACT_CLIENT_CONFIG_GROUP, key, why);
  return FALSE;
}

/* An optional string key; an empty value counts as not set. */
static gboolean
read_string (GKeyFile *kf, const char *path, const char *key, gboolean is_path, char **out,
             GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *value = g_key_file_get_string (kf, VOLACT_CLIENT_CONFIG_GROUP, key, &local);

  if (value == NULL) {
    if (g_error_matches (local, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND))
      return TRUE;
    return config_fail (error, path, key, local->message);
  }
  g_strstrip (value);
  if (*value == '\0')
    return TRUE;
  if (is_path && !g_path_is_absolute (value))
    return config_fail (error, path, key, "not an absolute path");
  *out = g_steal_pointer (&value);
  return TRUE;
}

static gboolean
read_editions (GKeyFile *kf, const char *path, VolactClientConfig *cfg, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) list = NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  gsize n = 0;

  list = g_key_file_get_string_list (kf, VOLACT_CLIENT_CONFIG_GROUP, "editions", &n, &local);
  if (list == NULL && local != NULL
      && !g_error_matches (local, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND))
    return config_fail (error, path, "editions", local->message);
  for (gsize i = 0; i < n; i++) {
    char *e = g_strstrip (list[i]);
    gboolean seen = FALSE;

    if (*e == '\0')
      continue;
    if (!volact_proto_edition_valid (e, strlen (e))) {
      g_autofree char *why
          = g_strdup_printf ("\"%s\" is not an edition id (1 to 32 characters of a-z, 0-9 "
                             "and '-')",
                             e);
      return config_fail (error, path, "editions", why);
    }
    /* Listed twice would activate twice per run, counting nothing more. */
    for (guint j = 0; j < out->len; j++)
      seen = seen || g_str_equal (out->pdata[j], e);
    if (!seen)
      g_ptr_array_add (out, g_strdup (e));
  }
  g_ptr_array_add (out, NULL);
  cfg->editions = (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
  return TRUE;
}

gboolean
volact_client_config_load (const char *path, VolactClientConfig *cfg, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_auto (GStrv) keys = NULL;
  VolactClientConfig c = { 0 };

  if (!volact_client_keyfile_load (kf, path, CONFIG_MAX_BYTES, NULL, error))
    return FALSE;
  keys = g_key_file_get_keys (kf, VOLACT_CLIENT_CONFIG_GROUP, NULL, NULL);
  if (keys == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "%s: no [%s] group", path,
                 VOLACT_CLIENT_CONFIG_GROUP);
    return FALSE;
  }
  for (char **k = keys; *k; k++)
    if (!g_strv_contains (known_keys, *k))
      return config_fail (error, path, *k, "unknown key");

  if (!read_editions (kf, path, &c, error) || !read_string (kf, path, "trust", TRUE, &c.trust, error)
      || !read_string (kf, path, "host", FALSE, &c.host, error)
      || !read_string (kf, path, "domain", FALSE, &c.domain, error)
      || !read_string (kf, path, "dns-server", FALSE, &c.dns_server, error)
      || !read_string (kf, path, "state-dir", TRUE, &c.state_dir, error)) {
    volact_client_config_clear (&c);
    return FALSE;
  }
  if (c.host != NULL && c.domain != NULL) {
    volact_client_config_clear (&c);
    return config_fail (error, path, "domain",
                        "set host or domain, not both (host names the host; domain finds it)");
  }
  *cfg = c;
  return TRUE;
}

void
volact_client_config_clear (VolactClientConfig *cfg)
{
  g_strfreev (cfg->editions);
  g_free (cfg->trust);
  g_free (cfg->host);
  g_free (cfg->domain);
  g_free (cfg->dns_server);
  g_free (cfg->state_dir);
  memset (cfg, 0, sizeof *cfg);
}

char *
volact_client_config_state_path (const char *state_dir, const char *edition)
{
  g_autofree char *name = g_strconcat (edition, ".state", NULL);
  return g_build_filename (state_dir, name, NULL);
}

char *
volact_client_config_state_dir (const VolactClientConfig *cfg)
{
  const char *env = g_getenv ("STATE_DIRECTORY");
  g_autofree char *def = NULL;

  if (cfg->state_dir != NULL)
    return g_strdup (cfg->state_dir);
  if (env != NULL && g_path_is_absolute (env)) {
    g_auto (GStrv) dirs = g_strsplit (env, ":", 2); /* several are ':'-separated */
    return g_strdup (dirs[0]);
  }
  def = volact_client_state_default_path ();
  return g_path_get_dirname (def);
}

char *
volact_client_config_machine_cmid (const char *state_dir, char **editions)
{
  for (char **e = editions; *e; e++) {
    g_autofree char *path = volact_client_config_state_path (state_dir, *e);
    VolactClientState s;
    if (volact_client_state_load (path, &s, NULL, NULL))
      return g_strdup (s.cmid);
  }
  return NULL;
}
