/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "volact-state.h"

#include "volact-bytes.h"
#include "volact-error.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#define STATE_FILE "host.state"

gboolean
volact_state_dir_ensure (const char *state_dir, GError **error)
{
  struct stat st;

  if (g_mkdir_with_parents (state_dir, 0700) != 0) {
    int e = errno;
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "state folder %s: %s", state_dir,
                 g_strerror (e));
    return FALSE;
  }
  if (g_stat (state_dir, &st) != 0 || !S_ISDIR (st.st_mode)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "state folder %s is not a folder", state_dir);
    return FALSE;
  }
  /* Keys live here: refuse a folder others can write into. */
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO,
                 "state folder %s is writable by group or others (mode %04o); make it 0700",
                 state_dir, (unsigned) (st.st_mode & 07777));
    return FALSE;
  }
  return TRUE;
}

static VolactState *
state_new_default (void)
{
  VolactState *s = g_new0 (VolactState, 1);
  s->dns_publishing = TRUE;
  return s;
}

void
volact_state_free (VolactState *s)
{
  if (s == NULL)
    return;
  g_free (s->product_key);
  g_clear_pointer (&s->certificate, g_bytes_unref);
  g_free (s->activated_by);
  g_free (s);
}

static gboolean
get_uint (GKeyFile *kf, const char *path, const char *group, const char *key, guint lo, guint hi,
          guint *out, GError **error)
{
  g_autofree char *text = g_key_file_get_value (kf, group, key, NULL);
  guint64 v;
  if (text == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (text, 10, lo, hi, &v, NULL)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "%s: [%s] %s = \"%s\" is not in %u..%u",
                 path, group, key, text, lo, hi);
    return FALSE;
  }
  *out = (guint) v;
  return TRUE;
}

VolactState *
volact_state_load (const char *state_dir, GError **error)
{
  g_autofree char *path = g_build_filename (state_dir, STATE_FILE, NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (VolactState) s = state_new_default ();
  g_autoptr (GError) local = NULL;
  g_autofree char *cert_hex = NULL;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local)) {
    if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      return g_steal_pointer (&s);
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "%s: %s", path, local->message);
    return NULL;
  }
  s->product_key = g_key_file_get_string (kf, "key", "product-key", NULL);
  cert_hex = g_key_file_get_string (kf, "activation", "certificate", NULL);
  if (cert_hex != NULL && *cert_hex != '\0') {
    gsize n = strlen (cert_hex);
    g_autofree guint8 *raw = NULL;
    if (n % 2 != 0 || n > 1024) {
      g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG, "%s: [activation] certificate is malformed",
                   path);
      return NULL;
    }
    raw = g_malloc (n / 2);
    for (gsize i = 0; i < n / 2; i++) {
      int hi = g_ascii_xdigit_value (cert_hex[2 * i]), lo = g_ascii_xdigit_value (cert_hex[2 * i + 1]);
      if (hi < 0 || lo < 0) {
        g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                     "%s: [activation] certificate is not hexadecimal", path);
        return NULL;
      }
      raw[i] = (guint8) (hi << 4 | lo);
    }
    s->certificate = g_bytes_new_take (g_steal_pointer (&raw), n / 2);
    s->activated_by = g_key_file_get_string (kf, "activation", "method", NULL);
    s->activated_at = g_key_file_get_int64 (kf, "activation", "time", NULL);
  }
  if (!get_uint (kf, path, "settings", "port", 1, 65535, &s->port, error)
      || !get_uint (kf, path, "settings", "activation-interval", 15, 43200,
                    &s->activation_interval, error)
      || !get_uint (kf, path, "settings", "renewal-interval", 15, 43200, &s->renewal_interval,
                    error))
    return NULL;
  if (g_key_file_has_key (kf, "settings", "dns-publishing", NULL))
    s->dns_publishing = g_key_file_get_boolean (kf, "settings", "dns-publishing", NULL);
  s->low_priority = g_key_file_get_boolean (kf, "settings", "low-priority", NULL);
  return g_steal_pointer (&s);
}

gboolean
volact_state_save (const VolactState *s, const char *state_dir, GError **error)
{
  g_autofree char *path = g_build_filename (state_dir, STATE_FILE, NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *data = NULL;
  g_autoptr (GError) local = NULL;
  gsize len;

  g_key_file_set_comment (kf, NULL, NULL,
                          " volactd host state: written by volactd, do not edit while it runs",
                          NULL);
  if (s->product_key)
    g_key_file_set_string (kf, "key", "product-key", s->product_key);
  if (s->certificate) {
    gsize n;
    const guint8 *raw = g_bytes_get_data (s->certificate, &n);
    g_autofree char *hex = volact_hex (raw, n);
    g_key_file_set_string (kf, "activation", "certificate", hex);
    g_key_file_set_string (kf, "activation", "method", s->activated_by ? s->activated_by : "");
    g_key_file_set_int64 (kf, "activation", "time", s->activated_at);
  }
  if (s->port)
    g_key_file_set_uint64 (kf, "settings", "port", s->port);
  if (s->activation_interval)
    g_key_file_set_uint64 (kf, "settings", "activation-interval", s->activation_interval);
  if (s->renewal_interval)
    g_key_file_set_uint64 (kf, "settings", "renewal-interval", s->renewal_interval);
  g_key_file_set_boolean (kf, "settings", "dns-publishing", s->dns_publishing);
  g_key_file_set_boolean (kf, "settings", "low-priority", s->low_priority);
  data = g_key_file_to_data (kf, &len, NULL);
  if (!g_file_set_contents_full (path, data, (gssize) len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &local)) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_IO, "saving host state to %s: %s", path,
                 local->message);
    return FALSE;
  }
  return TRUE;
}

VolactState *
volact_state_copy (const VolactState *s)
{
  VolactState *c = g_memdup2 (s, sizeof *s);

  c->product_key = g_strdup (s->product_key);
  c->certificate = s->certificate ? g_bytes_ref (s->certificate) : NULL;
  c->activated_by = g_strdup (s->activated_by);
  return c;
}

void
volact_state_clear_activation (VolactState *s)
{
  g_clear_pointer (&s->certificate, g_bytes_unref);
  g_clear_pointer (&s->activated_by, g_free);
  s->activated_at = 0;
}
