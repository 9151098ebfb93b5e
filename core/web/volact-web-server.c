/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The web listener's life: its TLS certificate, its thread and main context, start and stop. */
#include "config.h"

#include "volact-web-private.h"

#include "volact-error.h"
#include "volact-private-file.h"
#include "volact-web-jobs.h"

#include <openssl/crypto.h>
#include <string.h>

/* Bounds the key and certificate files. */
#define PEM_MAX (256 * 1024)
/* How long a stop waits for pages being made. */
#define STOP_WAIT_SECONDS 30


/* The listener's certificate and key, the key read only if others cannot read it. */
static GTlsCertificate *
load_certificate (const VolactConfig *cfg, GError **error)
{
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autofree char *pem = NULL;
  gsize cert_len = 0, key_len = 0;
  GTlsCertificate *tls;

  if (cfg->web_certificate == NULL || cfg->web_key == NULL) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "%s must be set when web-port is: the listener speaks only HTTPS",
                 cfg->web_certificate == NULL ? "web-certificate" : "web-key");
    return NULL;
  }
  if (!g_file_get_contents (cfg->web_certificate, &cert, &cert_len, error)) {
    g_prefix_error (error, "web-certificate: ");
    return NULL;
  }
  key = volact_private_file_read (cfg->web_key, PEM_MAX, "TLS private key", &key_len, error);
  if (key == NULL) {
    g_prefix_error (error, "web-key: ");
    return NULL;
  }
  pem = g_strconcat (cert, "\n", key, NULL);
  OPENSSL_cleanse (key, key_len);
  tls = g_tls_certificate_new_from_pem (pem, -1, error);
  OPENSSL_cleanse (pem, strlen (pem));
  if (tls == NULL)
    g_prefix_error (error, "web-certificate %s with web-key %s: ", cfg->web_certificate,
                    cfg->web_key);
  return tls;
}

static gboolean
listen_all (VolactWeb *web, const VolactConfig *cfg, GError **error)
{
  for (char **a = cfg->web_listen; a && *a; a++) {
    g_autoptr (GInetAddress) ip = g_inet_address_new_from_string (*a);
    g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (ip, cfg->web_port);
    if (!soup_server_listen (web->soup, addr, SOUP_SERVER_LISTEN_HTTPS, error)) {
      g_prefix_error (error, "web-listen %s port %u: ", *a, cfg->web_port);
      return FALSE;
    }
  }
  web->port = cfg->web_port;
  return TRUE;
}

static gpointer
web_thread (gpointer data)
{
  VolactWeb *web = data;
  const VolactConfig *cfg = volact_host_config (web->host);
  g_autoptr (GTlsCertificate) cert = NULL;
  GError *error = NULL;

  g_main_context_push_thread_default (web->context);
  cert = load_certificate (cfg, &error);
  if (cert != NULL)
    web->pool = volact_web_jobs_pool_new (VOLACT_WEB_JOBS_MAX, &error);
  if (web->pool != NULL) {
    web->soup = soup_server_new ("tls-certificate", cert, "server-header", "volact", NULL);
    soup_server_add_handler (web->soup, NULL, volact_web_handle, web, NULL);
    if (!listen_all (web, cfg, &error))
      g_clear_object (&web->soup);
  }
  g_mutex_lock (&web->lock);
  web->started = TRUE;
  web->start_error = error;
  g_cond_signal (&web->cond);
  g_mutex_unlock (&web->lock);
  if (web->soup != NULL) {
    gint64 deadline;
    g_main_loop_run (web->loop);
    soup_server_disconnect (web->soup);
    /* Pages being made report back here: wait for them, within reason. */
    for (guint i = 0; i < web->waiting->len; i++)
      if (!g_source_is_destroyed (web->waiting->pdata[i]))
        g_source_set_ready_time (web->waiting->pdata[i], 0);
    deadline = g_get_monotonic_time () + STOP_WAIT_SECONDS * G_USEC_PER_SEC;
    while (web->jobs > 0 && g_get_monotonic_time () < deadline)
      g_main_context_iteration (web->context, TRUE);
    g_clear_object (&web->soup);
  }
  /* Joins the workers: nothing the listener started outlives its stop. */
  if (web->pool != NULL)
    g_thread_pool_free (g_steal_pointer (&web->pool), FALSE, TRUE);
  g_main_context_pop_thread_default (web->context);
  return NULL;
}

VolactWeb *
volact_web_start (VolactHost *host, VolactServer *server, GError **error)
{
  const VolactConfig *cfg = volact_host_config (host);
  VolactWeb *web;

  /* Before GLib's TLS backend loads, which reads it once. */
  g_setenv ("G_TLS_GNUTLS_PRIORITY", VOLACT_WEB_TLS_PRIORITY, FALSE);
  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ())) {
    g_set_error (error, VOLACT_ERROR, VOLACT_E_CONFIG,
                 "web-port: GLib has no TLS backend (install glib-networking)");
    return NULL;
  }
  web = g_new0 (VolactWeb, 1);
  web->host = host;
  web->server = server;
  web->users_path = g_strdup (cfg->web_users);
  web->auth = volact_web_auth_new ();
  web->context = g_main_context_new ();
  web->loop = g_main_loop_new (web->context, FALSE);
  web->waiting = g_ptr_array_new_with_free_func ((GDestroyNotify) g_source_unref);
  g_mutex_init (&web->lock);
  g_cond_init (&web->cond);
  /* A broken users file stops the start; a missing one is logged (nobody can sign in yet). */
  if (g_file_test (web->users_path, G_FILE_TEST_EXISTS)) {
    web->users = volact_users_load (web->users_path, error);
    if (web->users == NULL) {
      g_prefix_error (error, "web-users: ");
      volact_web_stop (web);
      return NULL;
    }
    stat (web->users_path, &web->users_stat);
  } else {
    volact_web_current_users (web);
  }
  web->thread = g_thread_new ("volact-web", web_thread, web);
  g_mutex_lock (&web->lock);
  while (!web->started)
    g_cond_wait (&web->cond, &web->lock);
  g_mutex_unlock (&web->lock);
  if (web->start_error != NULL) {
    g_propagate_error (error, g_steal_pointer (&web->start_error));
    volact_web_stop (web);
    return NULL;
  }
  return web;
}

guint
volact_web_port (VolactWeb *web)
{
  return web->port;
}

void
volact_web_stop (VolactWeb *web)
{
  if (web == NULL)
    return;
  if (web->thread != NULL) {
    g_main_loop_quit (web->loop);
    g_thread_join (web->thread);
  }
  g_main_loop_unref (web->loop);
  g_main_context_unref (web->context);
  volact_web_auth_free (web->auth);
  volact_users_free (web->users);
  g_ptr_array_unref (web->waiting);
  g_mutex_clear (&web->lock);
  g_cond_clear (&web->cond);
  g_free (web->users_path);
  g_free (web);
}
